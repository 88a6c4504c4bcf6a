//! Service endpoint routes (docs/semantics/routing.md 1.4, 3.2 E3; \[SE\]): a subnet with an endpoint for a
//! service gets one Default route whose prefixes are the service tag's, next hop
//! VirtualNetworkServiceEndpoint. Only that subnet gets it. Regional endpoints use the regional
//! tag (`Storage.WestEurope`); no locations means the VNet's own region.

use super::layer::{first_wins, Layer, Row};
use ipnet::Ipv4Net;
use vnetlab_model::service_tags::{endpoint_service_tag, ServiceTags};
use vnetlab_model::{NextHopType, SubnetId, Topology};

pub fn service_endpoint_layer(t: &Topology, subnet: SubnetId, tags: &ServiceTags) -> Option<Layer> {
    let s = t.subnet(subnet);
    if s.service_endpoints.is_empty() {
        return None;
    }
    let vnet_location = &t.vnet(s.vnet).location;
    let mut layer = Layer::default();
    for se in &s.service_endpoints {
        let Some(tag) = endpoint_service_tag(&se.service) else {
            continue;
        };
        let regions: Vec<&str> = if se.locations.is_empty() {
            vec![vnet_location.as_str()]
        } else {
            se.locations.iter().map(String::as_str).collect()
        };
        let mut prefixes: Vec<Ipv4Net> = Vec::new();
        for region in regions {
            let found = if region == "*" || region.is_empty() {
                tags.get(tag)
            } else {
                tags.regional(tag, region).or_else(|| tags.get(tag))
            };
            prefixes.extend(found.map(|f| f.prefixes.as_slice()).unwrap_or_default());
        }
        prefixes.sort_unstable();
        prefixes.dedup();
        layer.push(
            Row {
                prefixes,
                next_hop_type: NextHopType::VirtualNetworkServiceEndpoint,
                next_hop_ips: Vec::new(),
                name: None,
                route_table: None,
                policy_len: None,
            },
            first_wins,
        );
    }
    Some(layer)
}
