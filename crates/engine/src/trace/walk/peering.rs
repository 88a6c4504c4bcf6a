//! Crossing a VNet peering: the remote VNet's side of the peering decides forwarded traffic and
//! the VirtualNetwork tag (docs/semantics/routing.md §7; D8, D9).

use super::Walker;
use crate::flow::FiveTuple;
use crate::trace::Layer;
use crate::trace::ResourceRef;
use vnetlab_model::VnetId;

impl Walker<'_, '_> {
    /// A VNetPeering route: the peered VNet that holds the address receives the packet.
    pub(super) fn peering(&mut self, vnet: VnetId, packet: FiveTuple, from_gateway: bool) {
        match self.f.addresses.peer_holding(vnet, packet.dst) {
            Some(remote) => {
                self.cross_peering(vnet, remote, packet, from_gateway);
                self.deliver_in(remote, packet);
            }
            None => {
                self.hop(
                    ResourceRef::Vnet(vnet),
                    Layer::Peering,
                    "no peer",
                    "no peered VNet holds the address",
                    packet,
                    false,
                );
            }
        }
    }

    /// Crossing a peering into `to` (docs/semantics/routing.md 7; D8, D9). Returns whether it passed.
    pub(super) fn cross_peering(
        &mut self,
        from: VnetId,
        to: VnetId,
        packet: FiveTuple,
        from_gateway: bool,
    ) -> bool {
        let t = self.f.topology;
        let Some((id, back)) = self.f.addresses.peering(t, to, from) else {
            return false;
        };
        let resource = ResourceRef::Peering(id);
        let originated = t
            .vnet(from)
            .address_space
            .iter()
            .any(|a| a.contains(&packet.src));
        // D9: traffic an appliance forwarded (its source outside the sending VNet) needs
        // allowForwardedTraffic on the receiving side (docs/semantics/routing.md 7). Traffic the hub's gateway
        // brings in through gateway transit was not forwarded by an appliance (T30).
        if !originated && !from_gateway && !back.allow_forwarded_traffic {
            let detail = format!("the source {} is not in '{}': the packet was forwarded, and '{}' does not allow forwarded traffic from this peering", packet.src, t.vnet(from).name, t.vnet(to).name);
            return self.hop(
                resource,
                Layer::Peering,
                "allowForwardedTraffic",
                detail,
                packet,
                false,
            );
        }
        // D8: access off keeps the routes; only the VirtualNetwork tag changes (NSGs decide).
        let detail = if back.allow_virtual_network_access {
            format!(
                "over the peering from '{}' to '{}'",
                t.vnet(from).name,
                t.vnet(to).name
            )
        } else {
            "allowVirtualNetworkAccess is off: routes stay, but the peer leaves the VirtualNetwork tag (D8)".to_string()
        };
        self.hop(resource, Layer::Peering, "peering", detail, packet, true)
    }
}

#[cfg(test)]
mod tests {
    use crate::trace::walk::testing::{at, icmp, Lab, HUB};
    use crate::trace::{Decision, Layer, ResourceRef, Verdict};

    #[test]
    fn a_peered_vnet_is_reached_over_the_receiving_sides_peering() {
        // docs/semantics/routing.md §7: VNet peering routes between the two address spaces.
        let lab = Lab::new(HUB);
        let tr = lab.fabric().trace(lab.ip("plain"), lab.ip("vm1"), icmp());
        assert_eq!(tr.forward.verdict, Verdict::Delivered);
        let hop = at(&tr.forward, Layer::Peering);
        let spoke1 = lab.t.vnets.iter().position(|v| v.name == "spoke1").unwrap();
        let ResourceRef::Peering(p) = hop.resource else {
            panic!("a peering: {hop:?}")
        };
        let peering = &lab.t.peerings[p.index()];
        assert_eq!(
            (peering.vnet.index(), peering.name.as_str(), &hop.decision),
            (spoke1, "spoke1-to-hub", &Decision::Setting("peering"))
        );
    }

    #[test]
    fn forwarded_traffic_needs_allow_forwarded_traffic_on_the_receiving_side() {
        // D9 (docs/semantics/routing.md §7): vm1's packet to spoke2, forwarded by nva1 in
        // the hub, is refused by spoke2's peering, which does not allow forwarded traffic.
        let lab = Lab::new(HUB);
        let tr = lab.trace("vm1", "vm2", icmp());
        let d = tr.forward.dropped_by().expect("dropped");
        assert_eq!(
            (d.layer, &d.decision),
            (Layer::Peering, &Decision::Setting("allowForwardedTraffic"))
        );
    }
}
