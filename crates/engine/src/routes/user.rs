//! User-defined routes (docs/semantics/routing.md 5; \[SPEC-RT\]): one row per route of the subnet's route table.
//! A service-tag prefix expands to the tag's prefixes (5.7); where an explicit CIDR and tags
//! resolve to the same prefix, the explicit CIDR wins, then regional tag, top-level tag,
//! regional AzureCloud, AzureCloud (E4).

use super::layer::{Layer, Row};
use vnetlab_model::service_tags::{tag_route_rank, ServiceTags};
use vnetlab_model::{RoutePrefix, RouteTableId, Topology};

pub fn user_layer(t: &Topology, table: RouteTableId, tags: &ServiceTags) -> Layer {
    let rt = t.route_table(table);
    let mut layer = Layer::default();
    let mut ranks: Vec<u8> = Vec::with_capacity(rt.routes.len());
    for route in &rt.routes {
        let (prefixes, rank) = match &route.prefix {
            RoutePrefix::Cidr(net) => (vec![*net], 0),
            RoutePrefix::ServiceTag(tag) => (
                tags.get(tag)
                    .map(|t| t.prefixes.clone())
                    .unwrap_or_default(),
                1 + tag_route_rank(tag),
            ),
        };
        let row = Row {
            prefixes,
            next_hop_type: route.next_hop_type,
            next_hop_ips: route.next_hop_ip.into_iter().collect(),
            name: Some(route.name.clone()),
            route_table: Some(table),
            policy_len: None,
        };
        layer.push(row, |existing| rank < ranks[existing as usize]);
        ranks.push(rank);
    }
    layer
}
