//! Where a packet enters the walk: a VM's NIC (unicast only, the protocols a VNet carries, the
//! spoofing check and IP forwarding), an Internet host or an on-premises site
//! (docs/semantics/dataplane.md §4.4, §4.5, §1.5).

use super::load_balancer::in_pool_of;
use super::{subnet_label, Walker, MAX_HOPS};
use crate::flow::FiveTuple;
use crate::security::tags::{IMDS, WIRESERVER};
use crate::trace::endpoint::Endpoint;
use crate::trace::ResourceRef;
use crate::trace::{Egress, Layer};
use std::net::Ipv4Addr;
use vnetlab_model::{ConnectionKind, Direction, NicId, SubnetId, Topology};

impl Walker<'_, '_> {
    pub(super) fn start(&mut self, from: Endpoint, packet: FiveTuple) {
        let t = self.f.topology;
        match from {
            Endpoint::Nic { nic, .. } => {
                let what = format!("{} sends it", self.vm_of(nic));
                self.hop(ResourceRef::Nic(nic), Layer::Source, "", what, packet, true);
                if let Some((decision, detail)) = not_carried(&packet).or_else(|| {
                    not_unicast(t, t.nic(nic).primary_ip_configuration().subnet, packet.dst)
                }) {
                    self.hop(
                        ResourceRef::Nic(nic),
                        Layer::Source,
                        decision,
                        detail,
                        packet,
                        false,
                    );
                    return;
                }
                self.leave(nic, packet);
            }
            Endpoint::Internet(_) => {
                self.hop(
                    ResourceRef::Internet,
                    Layer::Source,
                    "",
                    "an Internet host sends it",
                    packet,
                    true,
                );
                self.enter_from_internet(packet);
            }
            Endpoint::OnPremises { site, .. } => {
                let lng = &t.local_gateways[site.index()];
                self.hop(
                    ResourceRef::Site(site),
                    Layer::Source,
                    "",
                    format!(
                        "a host of on-premises site '{}' sends it over the VPN",
                        lng.name
                    ),
                    packet,
                    true,
                );
                match t.connections.iter().find(|c| matches!(c.kind, ConnectionKind::IPsec { local_gateway } if local_gateway == site)) {
                    Some(c) => self.enter_from_gateway(t.gateway(c.gateway).vnet, packet),
                    None => {
                        self.hop(ResourceRef::Site(site), Layer::Gateway, "connection", "no connection joins this site to a gateway", packet, false);
                    }
                }
            }
            Endpoint::PublicIp { public, .. }
            | Endpoint::LoadBalancer { ip: public, .. }
            | Endpoint::Platform(public)
            | Endpoint::Unowned(public) => {
                self.hop(ResourceRef::Address(public), Layer::Source, "", "nothing can send from this address: it is not a VM's, a site's or an Internet host's", packet, false);
            }
        }
    }

    /// A packet leaves a NIC: the spoofing check, the outbound NSGs, then the subnet's routes.
    pub(super) fn leave(&mut self, nic: NicId, packet: FiveTuple) {
        let t = self.f.topology;
        let n = t.nic(nic);
        if !self.visited.insert((nic, packet)) || self.hops.len() > MAX_HOPS {
            self.hop(
                ResourceRef::Nic(nic),
                Layer::Appliance,
                "routing loop",
                "the packet came back to a NIC it already left: the routes form a loop",
                packet,
                false,
            );
            return;
        }
        let own = n
            .ip_configurations
            .iter()
            .any(|c| c.private_ip == packet.src);
        // A Floating IP backend answers from the frontend address it holds on a loopback
        // (docs/semantics/dataplane.md 6.1, [FIP]): the load balancer's flow lets the reply out.
        let floating = self
            .lb_flow
            .filter(|l| l.floating_ip && l.frontend == packet.src && in_pool_of(t, nic, l.lb));
        if let Some(l) = floating {
            let detail = format!("the reply comes from the frontend address {} the guest holds on its loopback (Floating IP): the load balancer's flow lets it out", l.frontend);
            self.hop(
                ResourceRef::Nic(nic),
                Layer::SpoofingCheck,
                "enableFloatingIP",
                detail,
                packet,
                true,
            );
        } else if !own {
            let ok = n.enable_ip_forwarding;
            let detail = if ok {
                "the source is not the NIC's address; IP forwarding lets it through"
            } else {
                "the source is not the NIC's address and IP forwarding is off: Azure drops spoofed packets"
            };
            self.hop(
                ResourceRef::Nic(nic),
                Layer::SpoofingCheck,
                "enableIPForwarding",
                detail,
                packet,
                ok,
            );
        }
        self.nsg(nic, Direction::Outbound, packet, false);
        let subnet = n
            .ip_configurations
            .iter()
            .find(|c| c.private_ip == packet.src)
            .unwrap_or(n.primary_ip_configuration())
            .subnet;
        // docs/semantics/dataplane.md 1.5 ([WIRE]): the host's virtual IP and the metadata service are answered
        // by the host; routes never apply to them.
        if own && (packet.dst == WIRESERVER || packet.dst == IMDS) {
            let what = if packet.dst == WIRESERVER {
                "168.63.129.16 is the host's virtual IP (DNS, DHCP, health, the VM agent): the host answers it and routes never apply"
            } else {
                "169.254.169.254 is the instance metadata service: the host answers it and routes never apply"
            };
            return self.deliver(
                Egress::Host,
                ResourceRef::Host,
                "",
                what.to_string(),
                packet,
            );
        }
        // The reply of a load-balanced flow: the host turns the backend's address back into the
        // frontend's (docs/semantics/dataplane.md 6.1; Floating IP keeps the frontend address, nothing to do).
        let mut packet = packet;
        if let Some(l) = self.lb_flow.filter(|l| {
            !l.floating_ip && l.backend == packet.src && l.backend_port == packet.src_port
        }) {
            packet.src = l.frontend;
            packet.src_port = l.frontend_port;
            let detail = format!(
                "the reply of a load-balanced flow: the source becomes the frontend {}:{} again",
                l.frontend, l.frontend_port
            );
            self.hop(
                ResourceRef::LoadBalancer(l.lb),
                Layer::LoadBalancer,
                "flow state",
                detail,
                packet,
                true,
            );
        }
        self.route(subnet, Some(nic), packet, false);
    }
}

/// docs/semantics/dataplane.md 4.4 ([FAQ]): VNets carry unicast only; broadcast (255.255.255.255 or the
/// sender's subnet's last address, 4.2) and multicast (224.0.0.0/4) are dropped where they are
/// sent.
/// IP-in-IP and GRE are not carried, and UDP from source port 65330 is the host's
/// (docs/semantics/dataplane.md 4.4); the live lab's switch drops them by this walk too.
pub(super) fn not_carried(packet: &FiveTuple) -> Option<(&'static str, String)> {
    match packet.protocol {
        4 => Some(("protocol", "IP-in-IP (protocol 4) is not carried in a VNet (docs/semantics/dataplane.md 4.4)".to_string())),
        47 => Some(("protocol", "GRE (protocol 47) is not carried in a VNet (docs/semantics/dataplane.md 4.4)".to_string())),
        FiveTuple::UDP if packet.src_port == HOST_UDP_PORT => Some(("sourcePort", format!("UDP source port {HOST_UDP_PORT} is reserved for the host: Azure drops it (docs/semantics/dataplane.md 4.4)"))),
        _ => None,
    }
}

/// The UDP source port Azure keeps for the host (docs/semantics/dataplane.md 4.4).
pub const HOST_UDP_PORT: u16 = 65330;

pub(super) fn not_unicast(
    t: &Topology,
    subnet: SubnetId,
    dst: Ipv4Addr,
) -> Option<(&'static str, String)> {
    if dst.is_broadcast() {
        return Some(("broadcast", format!("{dst} is the limited broadcast address: VNets carry unicast only and drop broadcast (docs/semantics/dataplane.md 4.4)")));
    }
    if dst.is_multicast() {
        return Some(("multicast", format!("{dst} is a multicast address: VNets carry unicast only and drop multicast (docs/semantics/dataplane.md 4.4)")));
    }
    let prefix = t.subnet(subnet).prefix;
    (dst == prefix.broadcast() && prefix.prefix_len() < 31).then(|| ("broadcast", format!("{dst} is the broadcast address of subnet {} (its last address): VNets carry unicast only and drop broadcast (docs/semantics/dataplane.md 4.4)", subnet_label(t, subnet))))
}

#[cfg(test)]
mod tests {
    use crate::flow::FiveTuple;
    use crate::trace::walk::testing::{at, icmp, packet, Lab, HUB};
    use crate::trace::{Decision, Layer, ResourceRef, Verdict};

    #[test]
    fn a_spoofed_source_is_dropped_unless_the_nic_forwards_ip() {
        // docs/semantics/dataplane.md §4.5: a NIC sends only its own address unless IP
        // forwarding is on.
        let lab = Lab::new(HUB);
        let spoofed = FiveTuple {
            src: "10.9.9.9".parse().unwrap(),
            ..packet(FiveTuple::TCP, "10.0.1.5", "10.0.1.4", 80)
        };
        let mut from_plain = lab.fabric().forward(
            crate::trace::endpoint::Endpoint::Nic {
                nic: lab.nic("plain"),
                ip: lab.ip("plain"),
            },
            spoofed,
            None,
        );
        let hop = at(&from_plain.path, Layer::SpoofingCheck);
        assert_eq!(
            (hop.resource, &hop.decision, hop.passed),
            (
                ResourceRef::Nic(lab.nic("plain")),
                &Decision::Setting("enableIPForwarding"),
                false
            )
        );
        assert_eq!(from_plain.path.verdict, Verdict::Dropped);
        from_plain = lab.fabric().forward(
            crate::trace::endpoint::Endpoint::Nic {
                nic: lab.nic("nva1"),
                ip: lab.ip("nva1"),
            },
            FiveTuple {
                dst: "10.0.1.5".parse().unwrap(),
                ..spoofed
            },
            None,
        );
        assert!(at(&from_plain.path, Layer::SpoofingCheck).passed);
    }

    #[test]
    fn broadcast_and_gre_are_dropped_where_they_are_sent() {
        // docs/semantics/dataplane.md §4.4: VNets carry unicast only, and not GRE.
        let lab = Lab::new(HUB);
        let tr = lab.trace("vm1", "10.1.0.255", icmp());
        let d = tr.forward.dropped_by().expect("dropped");
        assert_eq!(
            (d.layer, &d.decision),
            (Layer::Source, &Decision::Setting("broadcast"))
        );
        let gre = lab.forward(packet(47, "10.1.0.4", "10.2.0.4", 0));
        let d = gre.path.dropped_by().expect("dropped");
        assert_eq!(
            (d.layer, &d.decision),
            (Layer::Source, &Decision::Setting("protocol"))
        );
    }
}
