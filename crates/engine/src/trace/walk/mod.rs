//! The hop-by-hop walk of a packet through Azure's host pipeline (docs/semantics/dataplane.md
//! §1, §4-§6; docs/semantics/routing.md §3, §5, §7). One module per layer a packet crosses,
//! in the order it meets them:
//!
//! | module | layer |
//! |---|---|
//! | [`source`] | where it enters: a VM's NIC (broadcast, protocols the VNet does not carry, the spoofing check, IP forwarding), the Internet, a site |
//! | [`nsg`] | the NIC's and subnet's NSGs, or the flow state of a reply |
//! | [`route`] | the subnet's effective routes pick the next hop, then [`Walker::next_hop`] dispatches |
//! | [`peering`] | crossing a VNet peering (D8, D9) |
//! | [`appliance`] | a virtual appliance next hop: a NIC, or an internal load balancer's backend |
//! | [`gateway`] | a VPN gateway: out to a site or VNet-to-VNet, and in through GatewaySubnet |
//! | [`load_balancer`] | a load balancer frontend: rules, inbound NAT, probes, Floating IP |
//! | [`internet`] | the Internet edge: outbound SNAT order, public IP DNAT inbound |
//! | [`service`] | service endpoints and private endpoints |
//! | [`arrival`] | arriving at a NIC in a VNet: inbound NSGs, delivery or IP forwarding on |
//! | [`reply`] | the reply's walk back and the asymmetric-path check |
//!
//! Soft blocks (an NSG deny, IP forwarding off, allowForwardedTraffic off) are recorded and the
//! walk goes on, so a path is delivered only when it reaches its end with no hop dropped; hard
//! ones (a None route, no holder for the address, a loop, broadcast or multicast, the default
//! gateway D3) end it. The fabric's own addresses are special: 168.63.129.16 and
//! 169.254.169.254 are answered by the host and never routed (docs/semantics/dataplane.md 1.5);
//! a subnet's reserved addresses hold no VM (4.2). A load-balanced flow's reply leaves by the
//! frontend it came in on (6.1); a reply that passes other appliances than its request, or
//! leaves by another address than the public one the request came in on, is asymmetric.
//!
//! Adding a layer: a new module with an `impl Walker` block, and one line in the dispatcher
//! [`Walker::next_hop`]. Azure Firewall goes in `firewall.rs`: it is reached by a
//! VirtualAppliance route to its private address, so its arm goes before the
//! [`appliance`](Walker::appliance) arm there. Route Server changes no layer of the walk: it
//! adds BGP routes to the subnets' effective routes (`crate::routes`), and [`route`] selects
//! among them as among the others.

mod appliance;
mod arrival;
mod gateway;
mod internet;
mod load_balancer;
mod nsg;
mod peering;
mod reply;
mod route;
mod service;
mod source;
#[cfg(test)]
mod testing;

pub(super) use load_balancer::LbFlow;

use super::endpoint::{resolve, Endpoint};
use super::{
    Decision, Egress, Fabric, FlowState, Forwarding, Hop, Layer, NsgCheck, Path, Probe,
    ResourceRef, Trace, Verdict, SOURCE_PORT,
};
use crate::flow::FiveTuple;
use std::collections::HashSet;
use std::net::Ipv4Addr;
use vnetlab_model::{NextHopType, NicId, Protocol, SubnetId, Topology};

/// A walk longer than this is a loop the visited set did not catch.
const MAX_HOPS: usize = 64;

struct Walker<'w, 'a> {
    f: &'w Fabric<'a>,
    hops: Vec<Hop>,
    appliances: Vec<NicId>,
    nsg_checks: Vec<NsgCheck>,
    visited: HashSet<(NicId, FiveTuple)>,
    /// NICs whose NSGs hold the flow's state: the reply passes them without rules.
    stateful: Option<&'w HashSet<NicId>>,
    /// NICs whose NSGs allowed the packet (the state the reply will find).
    allowed_at: HashSet<NicId>,
    /// The public address a reply leaves by (the one the request came in through).
    reply_via: Option<Ipv4Addr>,
    delivered: bool,
    /// The last source NAT: how a reply finds its way back.
    snat: Option<Snat>,
    /// The load-balancing rule the request went through (the state its reply finds).
    lb_flow: Option<LbFlow>,
    /// The NIC the packet was delivered to.
    delivered_to: Option<NicId>,
    /// Where the packet was handed at the end of the walk.
    egress: Option<Egress>,
    /// The live lab's walk: it ends at the next VM, an appliance included (its guest routes).
    to_next_vm: bool,
    /// A hop rewrote the frame (D2).
    via_fabric: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Snat {
    /// A public address in front of a NIC: replies come back to it.
    PublicIp(Ipv4Addr),
    /// A NAT gateway or the implicit default address: replies come back by the NAT's state.
    Shared,
}

impl<'w, 'a> Walker<'w, 'a> {
    fn new(f: &'w Fabric<'a>, stateful: Option<&'w HashSet<NicId>>) -> Self {
        Walker {
            f,
            hops: Vec::new(),
            appliances: Vec::new(),
            nsg_checks: Vec::new(),
            visited: HashSet::new(),
            stateful,
            allowed_at: HashSet::new(),
            reply_via: None,
            delivered: false,
            delivered_to: None,
            snat: None,
            lb_flow: None,
            egress: None,
            to_next_vm: false,
            via_fabric: false,
        }
    }

    fn hop(
        &mut self,
        resource: ResourceRef,
        layer: Layer,
        decision: impl Into<Decision>,
        detail: impl Into<String>,
        packet: FiveTuple,
        passed: bool,
    ) -> bool {
        // D2: a gateway, a load balancer or a public IP rewrites the frame: it comes from the
        // fabric's MAC.
        self.via_fabric |= matches!(
            layer,
            Layer::Gateway | Layer::LoadBalancer | Layer::PublicIp
        );
        self.hops.push(Hop {
            resource,
            layer,
            decision: decision.into(),
            detail: detail.into(),
            packet,
            passed,
        });
        passed
    }

    fn vm_of(&self, nic: NicId) -> String {
        let t = self.f.topology;
        t.nic(nic)
            .vm
            .map(|v| format!("VM {}", t.vm(v).name))
            .unwrap_or_else(|| format!("NIC {}", t.nic(nic).name))
    }

    /// The packet reached its destination: the last hop. After a soft block the walk went on to
    /// show the rest of the path, so the hop says where the packet would have gone.
    fn deliver(
        &mut self,
        to: Egress,
        resource: ResourceRef,
        decision: impl Into<Decision>,
        what: String,
        packet: FiveTuple,
    ) {
        self.delivered = true;
        self.egress = Some(to);
        let detail = if self.hops.iter().any(|h| !h.passed) {
            format!("{what}, were it not dropped above")
        } else {
            what
        };
        self.hop(resource, Layer::Delivery, decision, detail, packet, true);
    }

    /// The dispatcher: hands a routed packet to the layer its route's next hop names. A new
    /// layer reached by a route (Azure Firewall, by the address of a VirtualAppliance route) is
    /// one arm here and its own module.
    fn next_hop(
        &mut self,
        kind: NextHopType,
        next_hop_ip: Option<Ipv4Addr>,
        subnet: SubnetId,
        egress: Option<NicId>,
        packet: FiveTuple,
        from_gateway: bool,
    ) {
        let vnet = self.f.topology.subnet(subnet).vnet;
        match kind {
            NextHopType::VnetLocal => self.deliver_in(vnet, packet),
            NextHopType::VNetPeering | NextHopType::VNetGlobalPeering => {
                self.peering(vnet, packet, from_gateway)
            }
            NextHopType::VirtualAppliance => {
                self.appliance(vnet, next_hop_ip, packet, from_gateway)
            }
            NextHopType::VirtualNetworkGateway => self.gateway(vnet, packet),
            NextHopType::Internet => self.internet(subnet, egress, packet),
            NextHopType::VirtualNetworkServiceEndpoint => self.service_endpoint(packet),
            NextHopType::InterfaceEndpoint => self.private_endpoint(packet),
            // The route layer already dropped the packet.
            NextHopType::None => {}
        }
    }

    /// Delivered only when the walk reached the destination and no hop dropped the packet.
    fn path(self) -> Path {
        let delivered = self.delivered && self.hops.iter().all(|h| h.passed);
        Path {
            verdict: if delivered {
                Verdict::Delivered
            } else {
                Verdict::Dropped
            },
            hops: self.hops,
            appliances: self.appliances,
            nsg_checks: self.nsg_checks,
        }
    }
}

/// `tcp/443`, `udp/53` or `icmp`.
fn flow_name(packet: &FiveTuple) -> String {
    if Protocol::has_ports(packet.protocol) {
        format!("{}/{}", proto_name(packet.protocol), packet.dst_port)
    } else {
        proto_name(packet.protocol).to_string()
    }
}

/// `vnet/subnet`, as the trace's explanations name a subnet.
fn subnet_label(t: &Topology, subnet: SubnetId) -> String {
    let s = t.subnet(subnet);
    format!("{}/{}", t.vnet(s.vnet).name, s.name)
}

fn proto_name(p: u8) -> &'static str {
    match p {
        FiveTuple::TCP => "tcp",
        FiveTuple::UDP => "udp",
        FiveTuple::ICMP => "icmp",
        _ => "ip",
    }
}

/// A trace: the request from `from` to `to`, and when it is delivered its reply.
pub(super) fn trace(f: &Fabric, from: Endpoint, to: Endpoint, probe: Probe) -> Trace {
    let ports = Protocol::has_ports(probe.protocol);
    let packet = FiveTuple {
        src: from.ip(),
        dst: to.ip(),
        protocol: probe.protocol,
        src_port: if ports { SOURCE_PORT } else { 0 },
        dst_port: if ports { probe.port } else { 0 },
    };
    let mut w = Walker::new(f, None);
    w.start(from, packet);
    let request = reply::Request {
        allowed_at: std::mem::take(&mut w.allowed_at),
        snat: w.snat,
        lb_flow: w.lb_flow,
        last: w.hops.last().map_or(packet, |h| h.packet),
        delivered_to: w.delivered_to,
        path: w.path(),
    };
    let walked = (request.path.verdict == Verdict::Delivered)
        .then(|| reply::reply(f, to, &request))
        .flatten();
    let (reply, asymmetric) = walked.map_or((None, None), |(r, a)| (Some(r), a));
    Trace {
        from,
        to,
        forward: request.path,
        reply,
        asymmetric,
    }
}

/// One real packet (the live lab): walked from where it entered to the next VM, site, Internet
/// host or the host itself, with the state a request leaves for its replies.
pub(super) fn forward(
    f: &Fabric,
    from: Endpoint,
    packet: FiveTuple,
    request: Option<&FlowState>,
) -> Forwarding {
    let mut w = Walker::new(f, request.map(|r| &r.allowed_at));
    w.to_next_vm = true;
    if let Some(r) = request {
        w.lb_flow = r.lb_flow;
        w.reply_via = r.reply_via;
    }
    w.start(from, packet);
    let reply_via = match (from, resolve(f.addresses, packet.dst)) {
        (Endpoint::Internet(_), Endpoint::PublicIp { public, .. }) => Some(public),
        _ => None,
    };
    let state = FlowState {
        allowed_at: std::mem::take(&mut w.allowed_at),
        lb_flow: w.lb_flow,
        reply_via,
    };
    let (egress, last, shared_snat, via_fabric) = (
        w.egress,
        w.hops.last().map_or(packet, |h| h.packet),
        w.snat == Some(Snat::Shared),
        w.via_fabric,
    );
    Forwarding {
        path: w.path(),
        egress,
        packet: last,
        state,
        shared_snat,
        via_fabric,
    }
}
