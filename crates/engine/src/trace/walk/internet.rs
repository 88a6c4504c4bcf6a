//! The Internet edge: outbound source NAT in Azure's order (NAT gateway, instance public IP,
//! load balancer outbound rule, default outbound access; docs/semantics/dataplane.md §5.3), and
//! inbound a public IP's translation to its NIC or a load balancer frontend (§5.1-§5.2, §6.1;
//! D12).

use super::load_balancer::frontend_public_ip;
use super::{Snat, Walker};
use crate::flow::FiveTuple;
use crate::security::tags::is_internet;
use crate::trace::endpoint::{resolve, Endpoint};
use crate::trace::{Decision, ResourceRef};
use crate::trace::{Egress, Layer};
use std::net::Ipv4Addr;
use vnetlab_model::{LoadBalancerId, NicId, SubnetId, Topology, TransportProtocol};

impl Walker<'_, '_> {
    /// Leaving for the Internet: source NAT by precedence (docs/semantics/dataplane.md 5.3): NAT gateway, then
    /// the NIC's public IP, then a load balancer outbound rule, then default outbound access
    /// (none in a private subnet).
    pub(super) fn internet(&mut self, subnet: SubnetId, egress: Option<NicId>, packet: FiveTuple) {
        let t = self.f.topology;
        let s = t.subnet(subnet);
        if !is_internet(packet.dst) {
            self.hop(
                ResourceRef::Internet,
                Layer::Route,
                "Internet",
                format!(
                    "{} is not an Internet address (D12): nothing answers it there",
                    packet.dst
                ),
                packet,
                false,
            );
            return;
        }
        let mut out = packet;
        let pip = egress.and_then(|nic| {
            t.nic(nic)
                .ip_configurations
                .iter()
                .find(|c| c.private_ip == packet.src)
                .and_then(|c| c.public_ip)
        });
        let pip_address = pip.map(|p| t.public_ips[p.index()].address);
        if self.lb_flow.is_some_and(|l| l.frontend == packet.src) {
            // The reply of a load-balanced flow already carries the frontend's public address.
        } else if let Some((via, p)) = self
            .reply_via
            .zip(pip)
            .filter(|(via, _)| pip_address == Some(*via))
        {
            out.src = via;
            self.hop(
                ResourceRef::PublicIp(p),
                Layer::OutboundSnat,
                "flow state",
                format!("the reply leaves by the public address the request came in on, {via}"),
                out,
                true,
            );
        } else if let Some(nat) = s.nat_gateway {
            let ng = &t.nat_gateways[nat.index()];
            let resource = ResourceRef::NatGateway(nat);
            if !matches!(packet.protocol, FiveTuple::TCP | FiveTuple::UDP) {
                self.hop(
                    resource,
                    Layer::OutboundSnat,
                    "natGateway",
                    "a NAT gateway carries TCP and UDP only",
                    packet,
                    false,
                );
                return;
            }
            match ng.public_ips.first() {
                Some(p) => out.src = t.public_ips[p.index()].address,
                None => {
                    self.hop(
                        resource,
                        Layer::OutboundSnat,
                        "natGateway",
                        "the NAT gateway has no public IP",
                        packet,
                        false,
                    );
                    return;
                }
            }
            self.snat = Some(Snat::Shared);
            self.hop(
                resource,
                Layer::OutboundSnat,
                "natGateway",
                format!(
                    "the subnet's NAT gateway translates the source to {}",
                    out.src
                ),
                out,
                true,
            );
        } else if let Some(p) = pip {
            let ip = &t.public_ips[p.index()];
            out.src = ip.address;
            self.snat = Some(Snat::PublicIp(ip.address));
            self.hop(
                ResourceRef::PublicIp(p),
                Layer::OutboundSnat,
                "instance public IP",
                format!(
                    "the NIC's public IP translates the source to {}",
                    ip.address
                ),
                out,
                true,
            );
        } else if let Some((lb, index, rule)) =
            egress.and_then(|nic| outbound_rule(t, nic, packet.src))
        {
            let l = &t.load_balancers[lb.index()];
            let resource = ResourceRef::LoadBalancer(lb);
            let decision = Decision::OutboundRule { lb, rule: index };
            // [SNAT]: load balancer SNAT carries TCP and UDP; ICMP fails (use a public IP).
            let carries = match rule.protocol {
                TransportProtocol::Tcp => packet.protocol == FiveTuple::TCP,
                TransportProtocol::Udp => packet.protocol == FiveTuple::UDP,
                TransportProtocol::All => {
                    matches!(packet.protocol, FiveTuple::TCP | FiveTuple::UDP)
                }
            };
            let address = rule
                .frontends
                .iter()
                .find_map(|f| l.frontends[*f].public_ip)
                .map(|p| t.public_ips[p.index()].address);
            match (carries, address) {
                (true, Some(address)) => {
                    out.src = address;
                    self.snat = Some(Snat::Shared);
                    self.hop(resource, Layer::OutboundSnat, decision, format!("the load balancer's outbound rule translates the source to its frontend {address}"), out, true);
                }
                (false, _) => {
                    self.hop(resource, Layer::OutboundSnat, decision, format!("load balancer SNAT carries TCP and UDP only (this rule: {}); ICMP needs a public IP", rule.protocol), packet, false);
                    return;
                }
                (true, None) => {
                    self.hop(
                        resource,
                        Layer::OutboundSnat,
                        decision,
                        "the outbound rule's frontends have no public IP",
                        packet,
                        false,
                    );
                    return;
                }
            }
        } else if s.default_outbound_access {
            out.src = self.f.addresses.default_outbound;
            self.snat = Some(Snat::Shared);
            let detail = format!(
                "default outbound access: an implicit address Azure owns ({}) replaces the source",
                out.src
            );
            self.hop(
                ResourceRef::Subnet(subnet),
                Layer::OutboundSnat,
                "defaultOutboundAccess",
                detail,
                out,
                true,
            );
        } else {
            self.hop(ResourceRef::Subnet(subnet), Layer::OutboundSnat, "defaultOutboundAccess", "a private subnet (defaultOutboundAccess: false) with no NAT gateway or public IP has no way out", packet, false);
            return;
        }
        match resolve(self.f.addresses, out.dst) {
            // The destination is a lab public address: the packet comes back in from the Internet.
            Endpoint::PublicIp { .. } | Endpoint::LoadBalancer { .. } => {
                self.enter_from_internet(out)
            }
            _ => self.deliver(
                Egress::Internet,
                ResourceRef::Internet,
                "",
                format!("delivered to the Internet host {}", out.dst),
                out,
            ),
        }
    }

    /// A packet from the Internet: a public IP translates to the NIC's private address; a load
    /// balancer frontend sends it to a backend; a private address is unreachable.
    pub(super) fn enter_from_internet(&mut self, packet: FiveTuple) {
        let t = self.f.topology;
        match resolve(self.f.addresses, packet.dst) {
            Endpoint::PublicIp { nic, private, .. } => {
                let mut inside = packet;
                inside.dst = private;
                let pip = t
                    .nic(nic)
                    .ip_configurations
                    .iter()
                    .find(|c| c.private_ip == private)
                    .and_then(|c| c.public_ip);
                if let Some(p) = pip {
                    self.hop(
                        ResourceRef::PublicIp(p),
                        Layer::PublicIp,
                        Decision::PublicIpSku(t.public_ips[p.index()].sku),
                        format!("translated to the private address {private}; NSGs see {private}"),
                        inside,
                        true,
                    );
                }
                self.arrive(nic, inside, false, false);
            }
            Endpoint::LoadBalancer { lb, frontend, .. }
                if frontend_public_ip(t, lb, frontend) == Some(packet.dst) =>
            {
                self.load_balancer(lb, frontend, packet)
            }
            // docs/semantics/dataplane.md 6.1 ([LBC]): an internal load balancer's frontend cannot be reached
            // from the Internet.
            Endpoint::LoadBalancer { lb, .. } => {
                let detail = format!("{} is the private frontend of internal load balancer '{}': the Internet cannot reach it", packet.dst, t.load_balancers[lb.index()].name);
                self.hop(
                    ResourceRef::Internet,
                    Layer::Route,
                    "no public address",
                    detail,
                    packet,
                    false,
                );
            }
            _ => {
                self.hop(
                    ResourceRef::Internet,
                    Layer::Route,
                    "no public address",
                    format!(
                        "{} is not a public address of the lab: the Internet cannot reach it",
                        packet.dst
                    ),
                    packet,
                    false,
                );
            }
        }
    }
}

/// The load balancer outbound rule covering a NIC's address: its IP configuration is in the
/// rule's backend pool.
pub(super) fn outbound_rule(
    t: &Topology,
    nic: NicId,
    src: Ipv4Addr,
) -> Option<(LoadBalancerId, usize, &vnetlab_model::OutboundRule)> {
    let cfg = t
        .nic(nic)
        .ip_configurations
        .iter()
        .find(|c| c.private_ip == src)?;
    cfg.backend_pools.iter().find_map(|(lb, pool)| {
        t.load_balancers[lb.index()]
            .outbound_rules
            .iter()
            .enumerate()
            .find(|(_, r)| r.backend_pool == *pool)
            .map(|(index, r)| (*lb, index, r))
    })
}

#[cfg(test)]
mod tests {
    use crate::flow::FiveTuple;
    use crate::trace::walk::testing::{at, packet, tcp, Lab, CLIENT, EDGE};
    use crate::trace::{Decision, Layer, ResourceRef, Verdict};
    use vnetlab_model::PublicIpSku;

    fn snat(lab: &Lab, vm: &str) -> (ResourceRef, Decision, String, bool) {
        let tr = lab.trace(vm, CLIENT, tcp(443));
        let hop = at(&tr.forward, Layer::OutboundSnat);
        (
            hop.resource,
            hop.decision.clone(),
            hop.packet.src.to_string(),
            hop.passed,
        )
    }

    #[test]
    fn outbound_snat_follows_azures_order() {
        // docs/semantics/dataplane.md §5.3: a NAT gateway beats the NIC's public IP, which
        // beats default outbound access; a private subnet has no way out.
        let lab = Lab::new(EDGE);
        let (resource, decision, src, _) = snat(&lab, "vm-nat-pip");
        assert!(matches!(resource, ResourceRef::NatGateway(_)));
        assert_eq!(
            (decision, src.as_str()),
            (Decision::Setting("natGateway"), "198.51.100.20")
        );
        let (resource, decision, src, _) = snat(&lab, "vm-pip");
        assert!(matches!(resource, ResourceRef::PublicIp(_)));
        assert_eq!(
            (decision, src.as_str()),
            (Decision::Setting("instance public IP"), "198.51.100.22")
        );
        let (resource, decision, _, _) = snat(&lab, "vm-default");
        assert!(matches!(resource, ResourceRef::Subnet(_)));
        assert_eq!(decision, Decision::Setting("defaultOutboundAccess"));
        let (_, decision, _, passed) = snat(&lab, "vm-private");
        assert_eq!(
            (decision, passed),
            (Decision::Setting("defaultOutboundAccess"), false)
        );
    }

    #[test]
    fn a_public_ip_translates_to_the_private_address_and_a_standard_one_is_closed() {
        // docs/semantics/dataplane.md §5.1-§5.2: the public IP's destination becomes the NIC's
        // private address; a Standard public IP is closed inbound until an NSG allows it.
        let lab = Lab::new(EDGE);
        let tr = lab.fabric().trace(
            CLIENT.parse().unwrap(),
            "198.51.100.22".parse().unwrap(),
            tcp(80),
        );
        let hop = at(&tr.forward, Layer::PublicIp);
        assert_eq!(
            (&hop.decision, hop.packet.dst),
            (
                &Decision::PublicIpSku(PublicIpSku::Standard),
                lab.ip("vm-pip")
            )
        );
        let d = tr.forward.dropped_by().expect("dropped");
        assert_eq!(
            (d.layer, &d.decision),
            (Layer::NsgInbound, &Decision::Setting("Standard public IP"))
        );
        assert_eq!(tr.verdict(), Verdict::Dropped);
    }

    #[test]
    fn the_frame_comes_from_the_fabric_only_through_a_translation() {
        // D2: VM to VM keeps the sender's MAC; through a public IP the fabric's.
        let lab = Lab::new(EDGE);
        let direct = lab.forward(packet(FiveTuple::TCP, "10.0.2.4", "10.0.6.4", 8080));
        assert_eq!(direct.path.verdict, Verdict::Delivered);
        assert!(!direct.via_fabric);
        let inbound = lab.forward(packet(FiveTuple::TCP, CLIENT, "198.51.100.30", 80));
        assert_eq!(inbound.path.verdict, Verdict::Delivered);
        assert!(inbound.via_fabric);
    }
}
