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
