//! Route tables and their routes from the REST shape (routeTable.json \[SPEC-RT\]; docs/semantics/routing.md 5).

use super::{pick, Builder, Target};
use crate::value::Reader;
use vnetlab_model::addressing::parse_cidr;
use vnetlab_model::ids::*;
use vnetlab_model::service_tags::looks_like_tag;
use vnetlab_model::{NextHopType, Route, RoutePrefix, RouteTable};

pub(super) fn build_route_tables(b: &mut Builder) {
    for raw in b
        .of_kind("microsoft.network/routetables")
        .collect::<Vec<_>>()
    {
        let origin = raw.origin("route table");
        let mut r = Reader::new(raw.object, &origin, &mut b.diags);
        let disable_bgp_route_propagation = r.bool("properties.disableBgpRoutePropagation", false);
        let id = RouteTableId(b.topo.route_tables.len() as u32);
        b.register(raw, Target::RouteTable(id));
        b.topo.route_tables.push(RouteTable {
            id: raw.id.clone(),
            name: raw.name.to_string(),
            routes: Vec::new(),
            disable_bgp_route_propagation,
            origin,
        });
    }
    for raw in b
        .of_kind("microsoft.network/routetables/routes")
        .collect::<Vec<_>>()
    {
        let origin = raw.origin("route");
        let parent = raw.id.parent();
        let Some(table) = b.resolve(&origin, "id", &parent, "route table", pick!(RouteTable))
        else {
            continue;
        };
        let mut r = Reader::new(raw.object, &origin, &mut b.diags);
        let prefix = r
            .required_str("properties.addressPrefix")
            .and_then(|s| route_prefix(&mut r, s));
        let next_hop_type =
            r.required_str("properties.nextHopType")
                .and_then(|s| match NextHopType::parse(s) {
                    Some(t) => Some(t),
                    None => {
                        r.error(
                        "properties.nextHopType",
                        format!("unknown next hop type '{s}'"),
                    )
                    .hint = Some(
                        "use VirtualAppliance, VirtualNetworkGateway, VnetLocal, Internet or None"
                            .into(),
                    );
                        None
                    }
                });
        let next_hop_ip = r.ip("properties.nextHopIpAddress");
        let (Some(prefix), Some(next_hop_type)) = (prefix, next_hop_type) else {
            continue;
        };
        b.topo[table].routes.push(Route {
            name: raw.short_name().to_string(),
            prefix,
            next_hop_type,
            next_hop_ip,
            origin,
        });
    }
}

/// A route prefix is a CIDR or a service tag name (docs/semantics/routing.md 5.7).
fn route_prefix(r: &mut Reader, s: &str) -> Option<RoutePrefix> {
    if looks_like_tag(s) {
        return Some(RoutePrefix::ServiceTag(s.to_string()));
    }
    match parse_cidr(s) {
        Ok(net) => Some(RoutePrefix::Cidr(net)),
        Err((msg, hint)) => {
            r.error("properties.addressPrefix", msg).hint = hint;
            None
        }
    }
}
