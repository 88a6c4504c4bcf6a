//! A VirtualAppliance next hop: the NIC that holds the route's address, or the internal load
//! balancer whose frontend it is, in this VNet or a peered one (docs/semantics/routing.md §5.3).

use super::load_balancer::{lb_rule, pool_members};
use super::{flow_name, Walker};
use crate::flow::FiveTuple;
use crate::trace::endpoint::{resolve, Endpoint};
use crate::trace::Layer;
use crate::trace::{Decision, ResourceRef};
use std::net::Ipv4Addr;
use vnetlab_model::VnetId;

impl Walker<'_, '_> {
    /// A route to a virtual appliance: the NIC holding the next hop address receives it, or the
    /// internal load balancer whose frontend it is hands the packet to a backend appliance
    /// (docs/semantics/routing.md 5.3), its addresses unchanged.
    pub(super) fn appliance(
        &mut self,
        vnet: VnetId,
        ip: Option<Ipv4Addr>,
        packet: FiveTuple,
        from_gateway: bool,
    ) {
        let t = self.f.topology;
        let Some(ip) = ip else {
            self.hop(
                ResourceRef::Route,
                Layer::Route,
                "nextHopIpAddress",
                "the appliance route has no address",
                packet,
                false,
            );
            return;
        };
        // The next hop: a NIC, or an internal load balancer's frontend (its subnet's VNet).
        let nic = self.f.addresses.nic(ip, None);
        let ilb = match (nic, resolve(self.f.addresses, ip)) {
            (None, Endpoint::LoadBalancer { lb, frontend, .. }) => t.load_balancers[lb.index()]
                .frontends[frontend]
                .private
                .filter(|(_, a)| *a == ip)
                .map(|(subnet, _)| (lb, frontend, subnet)),
            _ => None,
        };
        let target_vnet = match (nic, ilb) {
            (Some(n), _) => t.subnet(t.nic(n).primary_ip_configuration().subnet).vnet,
            (None, Some((_, _, subnet))) => t.subnet(subnet).vnet,
            (None, None) => {
                self.hop(
                    ResourceRef::Vnet(vnet),
                    Layer::Appliance,
                    "nextHopIpAddress",
                    format!("no NIC holds the next hop {ip}"),
                    packet,
                    false,
                );
                return;
            }
        };
        if target_vnet != vnet {
            let peered = self.f.addresses.peered(vnet, target_vnet);
            if !peered {
                let resource = nic
                    .map(ResourceRef::Nic)
                    .unwrap_or_else(|| ResourceRef::Vnet(target_vnet));
                self.hop(resource, Layer::Appliance, "nextHopIpAddress", format!("the next hop {ip} is neither in this VNet nor in a peered one: not directly reachable"), packet, false);
                return;
            }
            self.cross_peering(vnet, target_vnet, packet, from_gateway);
        }
        let nva = match (nic, ilb) {
            (Some(n), _) => n,
            (None, Some((lb, frontend, _))) => {
                let l = &t.load_balancers[lb.index()];
                let resource = ResourceRef::LoadBalancer(lb);
                let Some((index, rule)) = lb_rule(l, frontend, &packet) else {
                    self.hop(resource, Layer::LoadBalancer, "loadBalancingRules", format!("the next hop {ip} is this internal load balancer's frontend, and none of its rules takes {}", flow_name(&packet)), packet, false);
                    return;
                };
                let Some((n, _)) = rule
                    .backend_pool
                    .and_then(|pool| pool_members(t, lb, pool).next())
                else {
                    self.hop(
                        resource,
                        Layer::LoadBalancer,
                        Decision::LoadBalancingRule { lb, rule: index },
                        "the rule's backend pool has no member",
                        packet,
                        false,
                    );
                    return;
                };
                let detail = format!("the next hop {ip} is this internal load balancer's frontend: the rule hands the packet, addresses unchanged, to backend {}", self.vm_of(n));
                self.hop(
                    resource,
                    Layer::LoadBalancer,
                    Decision::LoadBalancingRule { lb, rule: index },
                    detail,
                    packet,
                    true,
                );
                n
            }
            (None, None) => return,
        };
        self.arrive(nva, packet, false, false);
    }
}

#[cfg(test)]
mod tests {
    use crate::trace::walk::testing::{at, icmp, Lab, HUB};
    use crate::trace::{Decision, Layer, ResourceRef};

    #[test]
    fn a_virtual_appliance_route_hands_the_packet_to_the_nic_holding_its_address() {
        // docs/semantics/routing.md §5.3: the packet goes, addresses unchanged, to the NIC of
        // the next hop address, which must forward IP; the appliance routes it on.
        let lab = Lab::new(HUB);
        let tr = lab.trace("vm1", "vm2", icmp());
        assert_eq!(tr.forward.appliances, [lab.nic("nva1")]);
        let hop = at(&tr.forward, Layer::IpForwarding);
        assert_eq!(
            (hop.resource, hop.passed),
            (ResourceRef::Nic(lab.nic("nva1")), true)
        );
        assert_eq!(hop.packet.dst, lab.ip("vm2"));
    }

    #[test]
    fn a_next_hop_address_no_nic_holds_drops_the_packet() {
        // docs/semantics/routing.md §3.3: a VirtualAppliance next hop that is not reachable
        // drops the traffic.
        let lab = Lab::new(HUB);
        let tr = lab.trace("vm1", "10.3.0.4", icmp());
        let d = tr.forward.dropped_by().expect("dropped");
        assert_eq!(
            (d.layer, &d.decision),
            (Layer::Appliance, &Decision::Setting("nextHopIpAddress"))
        );
    }
}
