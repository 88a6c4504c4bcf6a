//! Arriving in a VNet: the NIC that holds the destination (inbound NSGs, then delivery or IP
//! forwarding on), an internal load balancer, or a reserved address no VM holds
//! (docs/semantics/dataplane.md §4.2; D3).

use super::{subnet_label, Walker};
use crate::flow::FiveTuple;
use crate::trace::endpoint::{resolve, Endpoint};
use crate::trace::ResourceRef;
use crate::trace::{Egress, Layer};
use vnetlab_model::{Direction, NicId, VnetId};

impl Walker<'_, '_> {
    /// Delivery inside a VNet: the NIC that holds the destination, or an internal load balancer.
    pub(super) fn deliver_in(&mut self, vnet: VnetId, packet: FiveTuple) {
        let t = self.f.topology;
        if let Some(nic) = self.f.addresses.nic(packet.dst, Some(vnet)) {
            return self.arrive(nic, packet, false, false);
        }
        if let Endpoint::LoadBalancer { lb, frontend, .. } = resolve(self.f.addresses, packet.dst) {
            return self.load_balancer(lb, frontend, packet);
        }
        // A subnet's reserved addresses (docs/semantics/dataplane.md 4.2) hold no VM.
        if let Some(subnet) = t
            .vnet(vnet)
            .subnets
            .iter()
            .copied()
            .find(|s| t.subnet(*s).prefix.contains(&packet.dst))
        {
            let prefix = t.subnet(subnet).prefix;
            let name = subnet_label(t, subnet);
            let offset = u32::from(packet.dst) - u32::from(prefix.network());
            let reserved = if offset == 1 {
                // D3: the fabric is not a router; its default gateway never answers, not even ping.
                Some(("default gateway", format!("{} is the default gateway of subnet {}: the fabric is not a host and never answers it, not even ping (D3)", packet.dst, name)))
            } else if packet.dst == prefix.broadcast() {
                Some(("broadcast", format!("{} is the broadcast address of subnet {} (its last address): VNets drop broadcast (docs/semantics/dataplane.md 4.4)", packet.dst, name)))
            } else if offset <= 3 {
                Some(("reserved address", format!("{} is reserved by Azure in subnet {} (the network address and .2-.3, docs/semantics/dataplane.md 4.2): no VM holds it", packet.dst, name)))
            } else {
                None
            };
            if let Some((decision, detail)) = reserved {
                self.hop(
                    ResourceRef::Subnet(subnet),
                    Layer::Delivery,
                    decision,
                    detail,
                    packet,
                    false,
                );
                return;
            }
        }
        self.hop(
            ResourceRef::Vnet(vnet),
            Layer::Delivery,
            "no holder",
            format!("no NIC in '{}' holds {}", t.vnet(vnet).name, packet.dst),
            packet,
            false,
        );
    }

    /// A packet arrives at a NIC: the inbound NSGs; delivered if it is the NIC's address,
    /// otherwise the NIC must forward IP and the VM routes it on.
    /// `floating_ip`: a load balancer kept its frontend address as the destination;
    /// `standard_lb`: the packet came through a Standard load balancer.
    pub(super) fn arrive(
        &mut self,
        nic: NicId,
        packet: FiveTuple,
        floating_ip: bool,
        standard_lb: bool,
    ) {
        let t = self.f.topology;
        let n = t.nic(nic);
        self.nsg(nic, Direction::Inbound, packet, standard_lb);
        if floating_ip
            || n.ip_configurations
                .iter()
                .any(|c| c.private_ip == packet.dst)
        {
            let what = format!("delivered to {}", self.vm_of(nic));
            self.delivered_to = Some(nic);
            return self.deliver(Egress::Nic(nic), ResourceRef::Nic(nic), "", what, packet);
        }
        let ok = n.enable_ip_forwarding;
        let detail = if ok {
            "the NIC forwards IP: the appliance receives traffic for other addresses"
        } else {
            "the packet is for another address and the NIC's IP forwarding is off: Azure drops it"
        };
        self.hop(
            ResourceRef::Nic(nic),
            Layer::IpForwarding,
            "enableIPForwarding",
            detail,
            packet,
            ok,
        );
        self.appliances.push(nic);
        if self.to_next_vm && ok {
            let what = format!("handed to {}, whose guest routes it on", self.vm_of(nic));
            return self.deliver(Egress::Nic(nic), ResourceRef::Nic(nic), "", what, packet);
        }
        let what = format!(
            "{} routes it on, as a Linux router, by its subnet's effective routes",
            self.vm_of(nic)
        );
        self.hop(
            ResourceRef::Nic(nic),
            Layer::Appliance,
            "",
            what,
            packet,
            true,
        );
        self.leave(nic, packet);
    }
}

#[cfg(test)]
mod tests {
    use crate::flow::FiveTuple;
    use crate::trace::walk::testing::{icmp, packet, Lab, HUB};
    use crate::trace::{Decision, Egress, Layer, ResourceRef, Verdict};

    #[test]
    fn a_packet_for_the_nics_address_is_delivered_to_it() {
        let lab = Lab::new(HUB);
        let fwd = lab.forward(packet(FiveTuple::ICMP, "10.0.1.4", "10.0.1.5", 0));
        assert_eq!(fwd.path.verdict, Verdict::Delivered);
        assert_eq!(fwd.egress, Some(Egress::Nic(lab.nic("plain"))));
        let last = fwd.path.hops.last().unwrap();
        assert_eq!(
            (last.layer, last.resource),
            (Layer::Delivery, ResourceRef::Nic(lab.nic("plain")))
        );
    }

    #[test]
    fn a_packet_for_another_address_needs_ip_forwarding() {
        // docs/semantics/routing.md §5.3: plain is the next hop of route via-plain, but its
        // NIC does not forward IP: Azure drops the packet.
        let lab = Lab::new(HUB);
        let tr = lab.trace("vm1", "10.4.0.4", icmp());
        let d = tr.forward.dropped_by().expect("dropped");
        assert_eq!(
            (d.layer, d.resource, &d.decision),
            (
                Layer::IpForwarding,
                ResourceRef::Nic(lab.nic("plain")),
                &Decision::Setting("enableIPForwarding")
            )
        );
    }

    #[test]
    fn the_subnets_default_gateway_and_reserved_addresses_hold_no_vm() {
        // D3 and docs/semantics/dataplane.md §4.2: .1 is the default gateway, which never
        // answers; .2 and .3 are reserved.
        let lab = Lab::new(HUB);
        for (to, why) in [
            ("10.0.1.1", "default gateway"),
            ("10.0.1.2", "reserved address"),
        ] {
            let tr = lab.trace("nva1", to, icmp());
            let d = tr.forward.dropped_by().expect("dropped");
            assert_eq!(
                (d.layer, &d.decision),
                (Layer::Delivery, &Decision::Setting(why))
            );
        }
    }
}
