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
