//! The path of a packet (the Trace issue): the packet is walked hop by hop as Azure moves it,
//! each layer deciding in turn: leaving a NIC the spoofing check and the outbound NSGs, then
//! the subnet's effective routes and the next hop's own rules (peering settings D8/D9,
//! IP forwarding on appliances, gateways, outbound SNAT precedence), and arriving the inbound
//! NSGs. A dropped packet names what dropped it, and the walk goes on past soft blocks so every
//! other setting on the same path that would also block it is listed (each setting once); a
//! path is delivered only when no hop dropped it. The return path is walked too, with the NSGs'
//! and load balancers' flow state, and an asymmetric path through an appliance is reported.
//! The same functions decide the live lab's packets.

pub mod address_index;
pub mod endpoint;
mod walk;

use crate::flow::FiveTuple;
use crate::routes::effective_route::RouteSource;
use crate::routes::RoutingTables;
use crate::security::tables::SecurityTables;
use endpoint::Endpoint;
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;
use vnetlab_model::{
    Access, Direction, GatewayId, LoadBalancerId, LocalGatewayId, NatGatewayId, NextHopType, NicId,
    NsgId, PeeringId, PublicIpId, PublicIpSku, RouteTableId, SubnetId, Topology, VnetId,
};

/// The layer a hop belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Source,
    SpoofingCheck,
    NsgOutbound,
    NsgInbound,
    Route,
    Peering,
    IpForwarding,
    Appliance,
    Gateway,
    PublicIp,
    LoadBalancer,
    OutboundSnat,
    Delivery,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Source => "Source",
            Layer::SpoofingCheck => "SpoofingCheck",
            Layer::NsgOutbound => "NsgOutbound",
            Layer::NsgInbound => "NsgInbound",
            Layer::Route => "Route",
            Layer::Peering => "Peering",
            Layer::IpForwarding => "IpForwarding",
            Layer::Appliance => "Appliance",
            Layer::Gateway => "Gateway",
            Layer::PublicIp => "PublicIp",
            Layer::LoadBalancer => "LoadBalancer",
            Layer::OutboundSnat => "OutboundSnat",
            Layer::Delivery => "Delivery",
        }
    }
}

/// The resource a hop stopped at, by the model's typed IDs. Text for it is rendered by the
/// `analysis` crate, never here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceRef {
    Nic(NicId),
    Nsg(NsgId),
    RouteTable(RouteTableId),
    Subnet(SubnetId),
    Vnet(VnetId),
    /// A peering, named from the VNet that holds it.
    Peering(PeeringId),
    LoadBalancer(LoadBalancerId),
    PublicIp(PublicIpId),
    NatGateway(NatGatewayId),
    Gateway(GatewayId),
    /// An on-premises site (its local network gateway).
    Site(LocalGatewayId),
    /// The private endpoint holding an address (its index in the topology), if any does.
    PrivateEndpoint(Option<usize>),
    /// An Azure service reached through a service endpoint.
    ServiceEndpoint,
    /// A VirtualAppliance route without a next hop address.
    Route,
    Internet,
    /// The host: 168.63.129.16 and 169.254.169.254.
    Host,
    /// An address nothing in the lab can send from.
    Address(Ipv4Addr),
}

/// The route that decided a hop, as the route layer selected it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteChoice {
    pub source: RouteSource,
    pub prefix: Ipv4Net,
    pub next_hop_type: NextHopType,
    pub next_hop_ips: Vec<Ipv4Addr>,
    /// The user route's name.
    pub name: Option<String>,
}

/// What decided a hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing decided: the packet was sent, delivered or handed on.
    None,
    /// An NSG rule (`securityRules/<name>` or `defaultSecurityRules/<name>`, as Azure reports it).
    NsgRule {
        nsg: NsgId,
        rule: String,
    },
    Route(RouteChoice),
    LoadBalancingRule {
        lb: LoadBalancerId,
        rule: usize,
    },
    InboundNatRule {
        lb: LoadBalancerId,
        rule: usize,
    },
    OutboundRule {
        lb: LoadBalancerId,
        rule: usize,
    },
    /// A health probe (its index), when the rule names one.
    Probe {
        lb: LoadBalancerId,
        probe: Option<usize>,
    },
    /// A public IP of this SKU translated the packet.
    PublicIpSku(PublicIpSku),
    /// The VPN tunnel to a site.
    Site(LocalGatewayId),
    /// The VNet-to-VNet tunnel to a gateway.
    Gateway(GatewayId),
    /// A resource's setting (`enableIPForwarding`, `allowForwardedTraffic`, ...) or a fabric
    /// condition (`flow state`, `no route`, `broadcast`, ...), by Azure's name for it.
    Setting(&'static str),
}

impl From<&'static str> for Decision {
    fn from(s: &'static str) -> Self {
        if s.is_empty() {
            Decision::None
        } else {
            Decision::Setting(s)
        }
    }
}

/// One step of the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub resource: ResourceRef,
    pub layer: Layer,
    /// The rule, route or setting that decided.
    pub decision: Decision,
    pub detail: String,
    /// The packet after this hop (addresses after any NAT).
    pub packet: FiveTuple,
    pub passed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    Dropped,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Delivered => "Delivered",
            Verdict::Dropped => "Dropped",
        }
    }
}

/// One direction of a trace.
#[derive(Debug, Clone)]
pub struct Path {
    pub verdict: Verdict,
    pub hops: Vec<Hop>,
    /// Appliances (NICs with IP forwarding) the packet went through.
    pub appliances: Vec<NicId>,
    /// Every NSG pipeline the walk asked, with its answer.
    pub nsg_checks: Vec<NsgCheck>,
}

/// One question the walk asked a NIC's NSGs (its NIC and subnet NSGs together), and the answer.
/// The walk takes no other input from NSGs: when every check answers the same under changed NSG
/// rules, the trace is the same, so a diff re-evaluates these instead of walking again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NsgCheck {
    pub nic: NicId,
    pub direction: Direction,
    pub packet: FiveTuple,
    pub access: Access,
}

impl Path {
    /// The hop that dropped the packet, if it was dropped.
    pub fn dropped_by(&self) -> Option<&Hop> {
        self.hops.iter().find(|h| !h.passed)
    }

    /// The other settings on the same path that would also block it, each once: a setting met
    /// twice (IP forwarding off drops an appliance's packet arriving and again leaving) is one
    /// blocker, named by the first hop.
    pub fn other_blockers(&self) -> impl Iterator<Item = &Hop> {
        let mut seen: Vec<(&ResourceRef, &Decision)> = Vec::new();
        self.hops
            .iter()
            .filter(|h| !h.passed)
            .filter(move |h| {
                let setting = (&h.resource, &h.decision);
                let new = !seen.contains(&setting);
                seen.push(setting);
                new
            })
            .skip(1)
    }
}

#[derive(Debug, Clone)]
pub struct Trace {
    pub from: Endpoint,
    pub to: Endpoint,
    pub forward: Path,
    /// The reply's path, walked when the packet was delivered.
    pub reply: Option<Path>,
    /// Set when the reply passes other appliances than the request (a stateful appliance drops
    /// it) or leaves by another address than the one the request came in on.
    pub asymmetric: Option<Asymmetry>,
}

/// An asymmetric path (docs/semantics/routing.md §5.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asymmetry {
    /// The appliances the request passes, and those the reply passes.
    pub there: Vec<NicId>,
    pub back: Vec<NicId>,
    /// The public address the request came in on, when the reply does not leave by it.
    pub wrong_way: Option<Ipv4Addr>,
    /// Where the reply goes instead.
    pub reply_to: Option<ResourceRef>,
}

impl Trace {
    /// The NSG checks of the request and of its reply.
    pub fn nsg_checks(&self) -> impl Iterator<Item = &NsgCheck> {
        self.forward
            .nsg_checks
            .iter()
            .chain(self.reply.iter().flat_map(|r| r.nsg_checks.iter()))
    }

    /// Delivered only when the request arrives and its reply comes back the same way.
    pub fn verdict(&self) -> Verdict {
        match (&self.forward.verdict, &self.reply, &self.asymmetric) {
            (Verdict::Delivered, Some(r), None) if r.verdict == Verdict::Delivered => {
                Verdict::Delivered
            }
            (Verdict::Delivered, None, None) => Verdict::Delivered,
            _ => Verdict::Dropped,
        }
    }
}

/// Where the fabric hands a packet at the end of a walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Egress {
    /// A VM's NIC: its own address, or an appliance that routes the packet on.
    Nic(NicId),
    /// An on-premises site, through the VPN gateway.
    Site(LocalGatewayId),
    Internet,
    /// An Azure service behind a service or private endpoint.
    Service,
    /// The host answers itself: 168.63.129.16, 169.254.169.254, a Standard frontend's ping.
    Host,
}

/// What one real packet's walk decided (the live lab's switch).
#[derive(Debug, Clone)]
pub struct Forwarding {
    pub path: Path,
    pub egress: Option<Egress>,
    /// The packet as it leaves the fabric (addresses after any NAT).
    pub packet: FiveTuple,
    /// What the packet's replies will find: pass it when walking them.
    pub state: FlowState,
    /// The source was translated to an address many flows share (a NAT gateway, a load
    /// balancer's outbound rule, default outbound access): the NAT picks the source port, and
    /// replies come back by the NAT's own state.
    pub shared_snat: bool,
    /// D2: the packet passed a gateway, a load balancer or a public IP, so its frame comes from
    /// the fabric's MAC rather than the sender's.
    pub via_fabric: bool,
}

/// The state a request leaves in the fabric for its replies: the NICs whose NSGs allowed it
/// (NSGs are stateful), the load balancer's translation, and the public address it came in by.
#[derive(Debug, Clone, Default)]
pub struct FlowState {
    pub allowed_at: std::collections::HashSet<NicId>,
    lb_flow: Option<walk::LbFlow>,
    reply_via: Option<Ipv4Addr>,
}

impl FlowState {
    /// Adds what another leg of the same flow left (a request through an appliance passes
    /// the fabric twice: to the appliance, then on from it).
    pub fn merge(&mut self, other: FlowState) {
        self.allowed_at.extend(other.allowed_at);
        self.lb_flow = self.lb_flow.or(other.lb_flow);
        self.reply_via = self.reply_via.or(other.reply_via);
    }
}

/// What a trace needs: the topology and its compiled routes and NSGs.
pub struct Fabric<'a> {
    pub topology: &'a Topology,
    pub routes: &'a RoutingTables,
    pub security: &'a SecurityTables<'a>,
    pub addresses: &'a address_index::AddressIndex,
}

/// A flow to trace: protocol and destination port; the source port is ephemeral.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    pub protocol: u8,
    pub port: u16,
}

/// The ephemeral source port traces use.
pub const SOURCE_PORT: u16 = 49152;

impl Fabric<'_> {
    /// Traces a packet from one address to another.
    pub fn trace(&self, from: Ipv4Addr, to: Ipv4Addr, probe: Probe) -> Trace {
        walk::trace(
            self,
            endpoint::resolve(self.addresses, from),
            endpoint::resolve(self.addresses, to),
            probe,
        )
    }

    /// One real packet entering the fabric from `from` (the live lab): where it goes next. A
    /// reply passes `request`, the state its request left.
    pub fn forward(
        &self,
        from: Endpoint,
        packet: FiveTuple,
        request: Option<&FlowState>,
    ) -> Forwarding {
        walk::forward(self, from, packet, request)
    }

    /// Traces between resolved endpoints.
    pub fn trace_endpoints(&self, from: Endpoint, to: Endpoint, probe: Probe) -> Trace {
        walk::trace(self, from, to, probe)
    }
}
