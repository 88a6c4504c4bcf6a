//! Route table rules (docs/semantics/routing.md 2.1, 3.2 E8, 5.2; \[SPEC-RT\]; \[LIMITS\]): VirtualAppliance needs
//! a next hop IP and no other type may carry one; VNetPeering and VirtualNetworkServiceEndpoint
//! are platform-only; one route per prefix; at most 400 routes and 25 service-tag routes; a
//! VirtualNetworkGateway next hop needs a VPN gateway, and is refused where VPN and ExpressRoute
//! gateways coexist (docs/semantics/routing.md 2.1, T20); GatewaySubnet keeps propagation and has no 0.0.0.0/0
//! user route under a VPN gateway (5.5).

use crate::diagnostic::Diagnostic;
use crate::routing_types::{NextHopType, RoutePrefix};
use crate::service_tags::ServiceTags;
use crate::topology::{GatewayType, Topology};
use std::collections::HashMap;

/// A route prefix as a duplicate check sees it: tags compare without case.
#[derive(PartialEq, Eq, Hash)]
enum PrefixKey {
    Cidr(ipnet::Ipv4Net),
    Tag(String),
}

pub const MAX_ROUTES: usize = 400;
pub const MAX_SERVICE_TAG_ROUTES: usize = 25;

pub(super) fn check(t: &Topology, tags: &ServiceTags, out: &mut Vec<Diagnostic>) {
    let mut subnets_of: Vec<Vec<&crate::topology::Subnet>> = vec![Vec::new(); t.route_tables.len()];
    for s in &t.subnets {
        if let Some(rt) = s.route_table {
            subnets_of[rt.index()].push(s);
        }
    }
    for (rt, subnets) in t.route_tables.iter().zip(&subnets_of) {
        if rt.routes.len() > MAX_ROUTES {
            out.push(
                Diagnostic::error(
                    &rt.origin,
                    "properties.routes",
                    format!(
                        "route table has {} routes; Azure allows at most {MAX_ROUTES}",
                        rt.routes.len()
                    ),
                )
                .with_hint("summarise prefixes, or split the subnets across route tables"),
            );
        }
        let tag_routes = rt
            .routes
            .iter()
            .filter(|r| matches!(r.prefix, RoutePrefix::ServiceTag(_)))
            .count();
        if tag_routes > MAX_SERVICE_TAG_ROUTES {
            out.push(Diagnostic::error(&rt.origin, "properties.routes", format!("route table has {tag_routes} routes with a service tag as prefix; Azure allows at most {MAX_SERVICE_TAG_ROUTES}")));
        }
        let mut seen: HashMap<PrefixKey, &str> = HashMap::with_capacity(rt.routes.len());
        for r in &rt.routes {
            let kind = r.next_hop_type;
            if !kind.allowed_in_user_route() {
                out.push(
                    Diagnostic::error(&r.origin, "properties.nextHopType", format!("{kind} is created by the platform and cannot be the next hop of a user route"))
                        .with_hint("use VirtualAppliance, VirtualNetworkGateway, VnetLocal, Internet or None"),
                );
            }
            match (kind, r.next_hop_ip) {
                (NextHopType::VirtualAppliance, None) => out.push(
                    Diagnostic::error(&r.origin, "properties.nextHopIpAddress", "a VirtualAppliance route needs nextHopIpAddress")
                        .with_hint("set it to the private IP of the appliance's NIC or of an internal load balancer"),
                ),
                (NextHopType::VirtualAppliance, _) | (_, None) => {}
                (other, Some(ip)) => out.push(
                    Diagnostic::error(&r.origin, "properties.nextHopIpAddress", format!("nextHopIpAddress {ip} is only allowed when nextHopType is VirtualAppliance, not {other}"))
                        .with_hint("remove nextHopIpAddress"),
                ),
            }
            if let RoutePrefix::ServiceTag(tag) = &r.prefix {
                if tags.get(tag).is_none() {
                    out.push(
                        Diagnostic::error(&r.origin, "properties.addressPrefix", format!("'{tag}' is neither a CIDR prefix nor a known service tag"))
                            .with_hint("write a prefix such as 10.1.0.0/16, or a service tag such as Storage or Storage.EastUS"),
                    );
                }
            }
            let key = match &r.prefix {
                RoutePrefix::Cidr(net) => PrefixKey::Cidr(*net),
                RoutePrefix::ServiceTag(tag) => PrefixKey::Tag(tag.to_ascii_lowercase()),
            };
            if let Some(first) = seen.insert(key, &r.name) {
                out.push(
                    Diagnostic::error(
                        &r.origin,
                        "properties.addressPrefix",
                        format!(
                            "prefix {} is already used by route '{first}' in the same route table",
                            r.prefix
                        ),
                    )
                    .with_hint("a route table holds one route per prefix"),
                );
            }
        }
        // docs/semantics/routing.md 5.5: GatewaySubnet must keep gateway route propagation, and a VPN gateway's
        // subnet must not have a 0.0.0.0/0 user route.
        for s in subnets.iter().filter(|s| s.name == "GatewaySubnet") {
            let vnet = &t.vnet(s.vnet).name;
            if rt.disable_bgp_route_propagation {
                out.push(
                    Diagnostic::error(&rt.origin, "properties.disableBgpRoutePropagation", format!("route table is associated with {vnet}/GatewaySubnet, where gateway route propagation must stay enabled"))
                        .with_hint("the gateway stops working without it; set disableBgpRoutePropagation: false or use another route table"),
                );
            }
            let has_vpn = t
                .gateways_in(s.vnet)
                .any(|g| t.gateway(g).gateway_type == GatewayType::Vpn);
            if let Some(r) = rt.routes.iter().find(|r| {
                has_vpn && r.prefix == RoutePrefix::Cidr("0.0.0.0/0".parse().expect("constant"))
            }) {
                out.push(Diagnostic::error(&r.origin, "properties.addressPrefix", format!("a 0.0.0.0/0 user route is not supported on {vnet}/GatewaySubnet, which holds a VPN gateway")));
            }
        }
        // docs/semantics/routing.md T20 / 2.1: a UDR to VirtualNetworkGateway needs a VPN gateway in the VNet
        // (or the hub it uses), and is not allowed where VPN and ExpressRoute gateways coexist.
        let Some(r) = rt
            .routes
            .iter()
            .find(|r| r.next_hop_type == NextHopType::VirtualNetworkGateway)
        else {
            continue;
        };
        for s in subnets {
            let gateway_vnets: Vec<_> = std::iter::once(s.vnet)
                .chain(
                    t.vnet(s.vnet)
                        .peerings
                        .iter()
                        .map(|p| &t[*p])
                        .filter(|p| p.use_remote_gateways)
                        .map(|p| p.remote),
                )
                .collect();
            let has = |v, kind| t.gateways_in(v).any(|g| t.gateway(g).gateway_type == kind);
            let has_vpn = gateway_vnets.iter().any(|v| has(*v, GatewayType::Vpn));
            let coexisting = gateway_vnets
                .iter()
                .find(|v| has(**v, GatewayType::Vpn) && has(**v, GatewayType::ExpressRoute));
            if !has_vpn {
                out.push(
                    Diagnostic::error(&r.origin, "properties.nextHopType", format!("route '{}' sends traffic to VirtualNetworkGateway, but subnet '{}/{}' has no VPN gateway to use", r.name, t.vnet(s.vnet).name, s.name))
                        .with_hint("an ExpressRoute gateway cannot be a user-route target; deploy a route-based VPN gateway or use VirtualAppliance"),
                );
            } else if let Some(v) = coexisting {
                out.push(
                    Diagnostic::error(&r.origin, "properties.nextHopType", format!("route '{}' sends traffic to VirtualNetworkGateway, but subnet '{}/{}' uses VNet '{}', where VPN and ExpressRoute gateways coexist", r.name, t.vnet(s.vnet).name, s.name, t.vnet(*v).name))
                        .with_hint("Azure does not allow a user route to the gateway when VPN and ExpressRoute gateways coexist; use VirtualAppliance, or rely on the gateway's learned routes"),
                );
            }
        }
    }
}
