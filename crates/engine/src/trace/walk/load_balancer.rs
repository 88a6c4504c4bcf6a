//! A load balancer frontend: inbound NAT rules, load-balancing rules, health probes, Floating IP,
//! a Standard frontend answering ping, no hairpin, and the translation the reply finds
//! (docs/semantics/dataplane.md §6.1).

use super::{flow_name, Walker};
use crate::flow::FiveTuple;
use crate::security::tags::WIRESERVER;
use crate::trace::{Decision, ResourceRef};
use crate::trace::{Egress, Layer, SOURCE_PORT};
use std::net::Ipv4Addr;
use vnetlab_model::{
    Access, Direction, LoadBalancer, LoadBalancerId, LoadBalancerSku, LoadBalancingRule, NicId,
    Protocol, Topology, TransportProtocol,
};

/// A load balancer's translation of one flow (docs/semantics/dataplane.md 6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::trace) struct LbFlow {
    pub(super) lb: LoadBalancerId,
    pub(super) frontend: Ipv4Addr,
    pub(super) frontend_port: u16,
    pub(super) backend: Ipv4Addr,
    pub(super) backend_port: u16,
    pub(super) floating_ip: bool,
}

impl Walker<'_, '_> {
    /// A load balancer's translation of a packet to a backend (docs/semantics/dataplane.md 6.1): the backend's
    /// address and port, or with Floating IP the packet unchanged; the flow is kept for the
    /// reply.
    pub(super) fn translate_to_backend(
        &mut self,
        lb: LoadBalancerId,
        packet: FiveTuple,
        ip: Ipv4Addr,
        port: Option<u16>,
        floating_ip: bool,
    ) -> FiveTuple {
        let mut inside = packet;
        if !floating_ip {
            inside.dst = ip;
            inside.dst_port = port.unwrap_or(packet.dst_port);
        }
        self.lb_flow = Some(LbFlow {
            lb,
            frontend: packet.dst,
            frontend_port: packet.dst_port,
            backend: inside.dst,
            backend_port: inside.dst_port,
            floating_ip,
        });
        inside
    }

    /// A load balancer frontend: the rule for the protocol and port picks the backend pool; the
    /// first member in input order receives it (docs/semantics/dataplane.md 6.1; Floating IP keeps the frontend
    /// address as destination). Health probes are not modelled: every backend counts as up.
    pub(super) fn load_balancer(&mut self, lb: LoadBalancerId, frontend: usize, packet: FiveTuple) {
        let t = self.f.topology;
        let l = &t.load_balancers[lb.index()];
        let resource = ResourceRef::LoadBalancer(lb);
        let standard = l.sku == LoadBalancerSku::Standard;
        let public = frontend_public_ip(t, lb, frontend) == Some(packet.dst);
        // docs/semantics/dataplane.md 6.1 ([LBPING], scenario 35): a Standard public frontend answers ping
        // itself while a backend is up; backends never see the ping.
        if packet.protocol == FiveTuple::ICMP && standard && public {
            let rules: Vec<&LoadBalancingRule> = l
                .rules
                .iter()
                .filter(|r| r.frontend == frontend && r.backend_pool.is_some())
                .collect();
            let has_backend = rules.iter().any(|r| {
                pool_members(t, lb, r.backend_pool.unwrap_or_default())
                    .next()
                    .is_some()
            });
            let healthy = rules.iter().any(|r| {
                pool_members(t, lb, r.backend_pool.unwrap_or_default())
                    .any(|(nic, ip)| self.probe_up(l, r, nic, ip))
            });
            if has_backend && !healthy {
                // [LBPING]: every backend probed down: "Destination host unreachable".
                self.hop(resource, Layer::LoadBalancer, "health probe", "every backend is probed down: the load balancer answers \"Destination host unreachable\"", packet, false);
                return;
            }
            if has_backend {
                let what = format!("the Standard load balancer answers ping on its public frontend {} itself; the backends never see it", packet.dst);
                return self.deliver(Egress::Host, resource, "frontend", what, packet);
            }
            self.hop(
                resource,
                Layer::LoadBalancer,
                "frontend",
                format!(
                    "no rule of frontend '{}' has a backend: the ping goes unanswered",
                    l.frontends[frontend].name
                ),
                packet,
                false,
            );
            return;
        }
        // An inbound NAT rule forwards one frontend port to one VM ([LBC]).
        if let Some((index, rule)) = l.inbound_nat_rules.iter().enumerate().find(|(_, r)| {
            r.frontend == frontend
                && protocol_matches(r.protocol, &packet)
                && r.frontend_port == packet.dst_port
        }) {
            let rule_name = Decision::InboundNatRule { lb, rule: index };
            let target = t.nics.iter().enumerate().find_map(|(i, n)| {
                n.ip_configurations
                    .iter()
                    .find(|c| c.inbound_nat_rules.contains(&(lb, index)))
                    .map(|c| (NicId(i as u32), c.private_ip))
            });
            let Some((nic, ip)) = target else {
                self.hop(
                    resource,
                    Layer::LoadBalancer,
                    rule_name,
                    "no VM's IP configuration names this inbound NAT rule",
                    packet,
                    false,
                );
                return;
            };
            let inside = self.translate_to_backend(
                lb,
                packet,
                ip,
                Some(rule.backend_port),
                rule.enable_floating_ip,
            );
            self.hop(
                resource,
                Layer::LoadBalancer,
                rule_name,
                format!(
                    "forwarded to {} port {}",
                    self.vm_of(nic),
                    rule.backend_port
                ),
                inside,
                true,
            );
            return self.arrive(nic, inside, rule.enable_floating_ip, standard);
        }
        let Some((index, rule)) = lb_rule(l, frontend, &packet) else {
            self.hop(
                resource,
                Layer::LoadBalancer,
                "loadBalancingRules",
                format!(
                    "no load-balancing rule or inbound NAT rule of frontend '{}' takes {}",
                    l.frontends[frontend].name,
                    flow_name(&packet)
                ),
                packet,
                false,
            );
            return;
        };
        let rule_name = Decision::LoadBalancingRule { lb, rule: index };
        let Some(pool) = rule.backend_pool else {
            self.hop(
                resource,
                Layer::LoadBalancer,
                rule_name,
                "the rule has no backend pool",
                packet,
                false,
            );
            return;
        };
        // docs/semantics/dataplane.md 6.1 ([LBC], scenario 36): a backend's flow to the frontend of the internal
        // load balancer it is behind fails (no hairpin).
        if !public && pool_members(t, lb, pool).any(|(_, ip)| ip == packet.src) {
            self.hop(resource, Layer::LoadBalancer, rule_name, format!("{} is in the rule's backend pool: a backend cannot reach the internal frontend it is behind", packet.src), packet, false);
            return;
        }
        if pool_members(t, lb, pool).next().is_none() {
            self.hop(
                resource,
                Layer::LoadBalancer,
                rule_name,
                "the rule's backend pool has no member",
                packet,
                false,
            );
            return;
        }
        // [PROBE]: new flows go only to backends the health probe sees up.
        let Some((nic, ip)) =
            pool_members(t, lb, pool).find(|(nic, ip)| self.probe_up(l, rule, *nic, *ip))
        else {
            self.hop(resource, Layer::LoadBalancer, Decision::Probe { lb, probe: rule.probe }, "every backend is probed down: the NSGs of the backends do not let the probe from 168.63.129.16 (AzureLoadBalancer) in", packet, false);
            return;
        };
        // Backend port 0 (HA ports) keeps the packet's own port.
        let inside = self.translate_to_backend(
            lb,
            packet,
            ip,
            (rule.backend_port != 0).then_some(rule.backend_port),
            rule.enable_floating_ip,
        );
        let how = if rule.enable_floating_ip {
            "Floating IP keeps the frontend address as destination"
        } else {
            "the destination becomes the backend's address and port"
        };
        self.hop(
            resource,
            Layer::LoadBalancer,
            rule_name,
            format!("to backend {} ({how})", self.vm_of(nic)),
            inside,
            true,
        );
        self.arrive(nic, inside, rule.enable_floating_ip, standard);
    }
}

/// The public address of a load balancer's frontend.
pub(super) fn frontend_public_ip(
    t: &Topology,
    lb: LoadBalancerId,
    frontend: usize,
) -> Option<Ipv4Addr> {
    t.load_balancers[lb.index()].frontends[frontend]
        .public_ip
        .map(|p| t.public_ips[p.index()].address)
}

/// The load-balancing rule of a frontend that takes a packet: its protocol (TCP, UDP, or `All`
/// for both) and frontend port, or port 0 (HA ports). Load balancers forward TCP and UDP only
/// (docs/semantics/dataplane.md 6.1).
pub(super) fn lb_rule<'t>(
    l: &'t LoadBalancer,
    frontend: usize,
    packet: &FiveTuple,
) -> Option<(usize, &'t LoadBalancingRule)> {
    l.rules.iter().enumerate().find(|(_, r)| {
        r.frontend == frontend
            && protocol_matches(r.protocol, packet)
            && (r.frontend_port == packet.dst_port || r.frontend_port == 0)
    })
}

/// Whether a load balancer rule's protocol (`Tcp`, `Udp`, `All`) takes a packet.
pub(super) fn protocol_matches(protocol: TransportProtocol, packet: &FiveTuple) -> bool {
    match protocol {
        TransportProtocol::Tcp => packet.protocol == FiveTuple::TCP,
        TransportProtocol::Udp => packet.protocol == FiveTuple::UDP,
        TransportProtocol::All => Protocol::has_ports(packet.protocol),
    }
}

impl<'w> Walker<'w, '_> {
    /// Whether a rule's health probe sees a backend up: the probe comes from 168.63.129.16 to
    /// the probe port, and the backend's inbound NSGs must let it in (docs/semantics/dataplane.md 1.5, 6.1;
    /// scenario 19). The service behind the port is taken to answer.
    pub(super) fn probe_up(
        &mut self,
        l: &LoadBalancer,
        rule: &LoadBalancingRule,
        nic: NicId,
        ip: Ipv4Addr,
    ) -> bool {
        let Some(probe) = rule.probe.map(|p| &l.probes[p]) else {
            return true;
        };
        let flow = FiveTuple {
            src: WIRESERVER,
            dst: ip,
            protocol: FiveTuple::TCP,
            src_port: SOURCE_PORT,
            dst_port: probe.port,
        };
        self.evaluate_nsgs(nic, Direction::Inbound, flow).access == Access::Allow
    }
}

/// The members of a backend pool, in input order, with their addresses.
pub(super) fn pool_members(
    t: &Topology,
    lb: LoadBalancerId,
    pool: usize,
) -> impl Iterator<Item = (NicId, Ipv4Addr)> + '_ {
    t.nics.iter().enumerate().filter_map(move |(i, n)| {
        n.ip_configurations
            .iter()
            .find(|c| c.backend_pools.contains(&(lb, pool)))
            .map(|c| (NicId(i as u32), c.private_ip))
    })
}

/// Whether a NIC is in a backend pool of a load balancer.
pub(super) fn in_pool_of(t: &Topology, nic: NicId, lb: LoadBalancerId) -> bool {
    t.nic(nic)
        .ip_configurations
        .iter()
        .any(|c| c.backend_pools.iter().any(|(l, _)| *l == lb))
}

#[cfg(test)]
mod tests {
    use crate::trace::walk::testing::{at, tcp, Lab, CLIENT, EDGE};
    use crate::trace::{Decision, Layer, ResourceRef, Verdict};
    use vnetlab_model::LoadBalancerId;

    fn from_client(lab: &Lab, port: u16) -> crate::trace::Trace {
        lab.fabric().trace(
            CLIENT.parse().unwrap(),
            "198.51.100.30".parse().unwrap(),
            tcp(port),
        )
    }

    #[test]
    fn a_load_balancing_rule_sends_the_flow_to_a_backend_port_and_the_reply_back_from_the_frontend()
    {
        // docs/semantics/dataplane.md §6.1: the rule's backend port on a pool member; the
        // reply leaves with the frontend's address again.
        let lab = Lab::new(EDGE);
        let lb = LoadBalancerId(0);
        let tr = from_client(&lab, 80);
        assert_eq!(tr.verdict(), Verdict::Delivered);
        let hop = at(&tr.forward, Layer::LoadBalancer);
        assert_eq!(
            (hop.resource, &hop.decision),
            (
                ResourceRef::LoadBalancer(lb),
                &Decision::LoadBalancingRule { lb, rule: 0 }
            )
        );
        assert_eq!(
            (hop.packet.dst, hop.packet.dst_port),
            (lab.ip("web1"), 8080)
        );
        let back = at(tr.reply.as_ref().expect("a reply"), Layer::LoadBalancer);
        assert_eq!(
            (back.packet.src.to_string().as_str(), back.packet.src_port),
            ("198.51.100.30", 80)
        );
    }

    #[test]
    fn an_inbound_nat_rule_forwards_one_frontend_port_to_one_vm() {
        // docs/semantics/dataplane.md §6.1 ([LBC]).
        let lab = Lab::new(EDGE);
        let lb = LoadBalancerId(0);
        let tr = from_client(&lab, 2222);
        assert_eq!(tr.verdict(), Verdict::Delivered);
        let hop = at(&tr.forward, Layer::LoadBalancer);
        assert_eq!(hop.decision, Decision::InboundNatRule { lb, rule: 0 });
        assert_eq!((hop.packet.dst, hop.packet.dst_port), (lab.ip("web2"), 22));
    }

    #[test]
    fn a_port_no_rule_takes_is_dropped_at_the_frontend() {
        let lab = Lab::new(EDGE);
        let d = from_client(&lab, 443)
            .forward
            .dropped_by()
            .cloned()
            .expect("dropped");
        assert_eq!(
            (d.layer, &d.decision),
            (
                Layer::LoadBalancer,
                &Decision::Setting("loadBalancingRules")
            )
        );
    }
}
