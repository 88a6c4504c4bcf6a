//! Route selection: the subnet's effective routes pick the next hop by longest prefix, user
//! routes over BGP over system routes (docs/semantics/routing.md §3), and only TCP takes a
//! service endpoint (docs/semantics/dataplane.md §4.6).

use super::{proto_name, Walker};
use crate::flow::FiveTuple;
use crate::routes::selection::Origin;
use crate::routes::SubnetRoutes;
use crate::trace::Layer;
use crate::trace::{Decision, ResourceRef, RouteChoice};
use vnetlab_model::{NextHopType, NicId, SubnetId};

impl Walker<'_, '_> {
    /// The subnet's effective routes decide the next hop.
    pub(super) fn route(
        &mut self,
        subnet: SubnetId,
        egress: Option<NicId>,
        packet: FiveTuple,
        from_gateway: bool,
    ) {
        let t = self.f.topology;
        let s = t.subnet(subnet);
        let vnet = s.vnet;
        let routes = self.f.routes.subnet(subnet);
        let without_endpoints: SubnetRoutes;
        let mut found = routes.lookup(packet.dst);
        // docs/semantics/dataplane.md 4.6 ([FAQ]): only TCP takes a service endpoint; ICMP and UDP to the
        // service's addresses follow the subnet's other routes.
        let bypass = found
            .is_some_and(|sel| sel.row.next_hop_type == NextHopType::VirtualNetworkServiceEndpoint)
            && packet.protocol != FiveTuple::TCP;
        if bypass {
            without_endpoints = SubnetRoutes {
                service_endpoints: None,
                ..routes.clone()
            };
            found = without_endpoints.lookup(packet.dst);
        }
        let Some(sel) = found else {
            self.hop(
                ResourceRef::Subnet(subnet),
                Layer::Route,
                "no route",
                "no effective route matches",
                packet,
                false,
            );
            return;
        };
        let kind = sel.row.next_hop_type;
        let resource = match sel.row.route_table {
            Some(rt) => ResourceRef::RouteTable(rt),
            None => ResourceRef::Subnet(subnet),
        };
        let decision = Decision::Route(RouteChoice {
            source: sel.source(),
            prefix: sel.prefix,
            next_hop_type: kind,
            next_hop_ips: sel.next_hop_ips().to_vec(),
            name: sel.row.name.clone(),
        });
        let drops = kind == NextHopType::None;
        let mut detail = match (sel.origin, kind) {
            (_, NextHopType::None) if sel.origin == Origin::Reserved => "a private range that is neither this VNet, a peered VNet nor a gateway prefix: Azure drops it".to_string(),
            (_, NextHopType::None) => "the route's next hop is None: Azure drops it".to_string(),
            _ => format!("the {} route of subnet {}/{} wins (longest prefix)", sel.source().as_str(), t.vnet(vnet).name, s.name),
        };
        if bypass {
            detail = format!(
                "only TCP takes the subnet's service endpoint, not {}: {detail}",
                proto_name(packet.protocol)
            );
        }
        if !self.hop(resource, Layer::Route, decision, detail, packet, !drops) {
            return;
        }
        let next_hop_ip = sel.next_hop_ips().first().copied();
        self.next_hop(kind, next_hop_ip, subnet, egress, packet, from_gateway);
    }
}

#[cfg(test)]
mod tests {
    use crate::routes::effective_route::RouteSource;
    use crate::trace::walk::testing::{at, icmp, Lab, HUB};
    use crate::trace::{Decision, Layer, ResourceRef, RouteChoice};
    use vnetlab_model::NextHopType;

    #[test]
    fn the_route_hop_names_the_route_table_and_the_selected_route() {
        // docs/semantics/routing.md §3.1: the longest prefix, here the user route
        // spoke2-via-nva of route table to-nva.
        let lab = Lab::new(HUB);
        let tr = lab.trace("vm1", "vm2", icmp());
        let hop = at(&tr.forward, Layer::Route);
        let ResourceRef::RouteTable(rt) = hop.resource else {
            panic!("a route table: {hop:?}")
        };
        assert_eq!(lab.t.route_table(rt).name, "to-nva");
        assert_eq!(
            hop.decision,
            Decision::Route(RouteChoice {
                source: RouteSource::User,
                prefix: "10.2.0.0/16".parse().unwrap(),
                next_hop_type: NextHopType::VirtualAppliance,
                next_hop_ips: vec!["10.0.1.4".parse().unwrap()],
                name: Some("spoke2-via-nva".into()),
            })
        );
    }

    #[test]
    fn a_private_range_nothing_holds_is_dropped_by_the_reserved_none_route() {
        // docs/semantics/routing.md §1.1: 172.16.0.0/12 outside the VNet is routed to None.
        let lab = Lab::new(HUB);
        let tr = lab.trace("plain", "172.16.0.4", icmp());
        let d = tr.forward.dropped_by().expect("dropped");
        let Decision::Route(route) = &d.decision else {
            panic!("a route: {d:?}")
        };
        assert_eq!(
            (d.layer, route.source, route.next_hop_type),
            (Layer::Route, RouteSource::Default, NextHopType::None)
        );
    }
}
