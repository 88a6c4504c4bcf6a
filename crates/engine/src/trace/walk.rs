//! The hop-by-hop walk. Each function is one place a packet can be: leaving a NIC, routed by a
//! subnet's effective routes, crossing a peering, handed to an appliance (a NIC, or an internal
//! load balancer's backend) or a gateway, leaving for the Internet, arriving at a NIC or a load
//! balancer. Soft blocks (an NSG deny, IP forwarding off, allowForwardedTraffic off) are
//! recorded and the walk goes on, so a path is delivered only when it reaches its end with no
//! hop dropped; hard ones (a None route, no holder for the address, a loop, broadcast or
//! multicast, the default gateway D3) end it. The fabric's own addresses are special:
//! 168.63.129.16 and 169.254.169.254 are answered by the host and never routed (docs/semantics/dataplane.md
//! 1.5); a subnet's reserved addresses hold no VM (4.2). A load-balanced flow's reply leaves by
//! the frontend it came in on (6.1); a reply that passes other appliances than its request, or
//! leaves by another address than the public one the request came in on, is asymmetric.

use super::endpoint::{resolve, Endpoint};
use super::{
    Egress, Fabric, FlowState, Forwarding, Hop, Layer, NsgCheck, Path, Probe, Trace, Verdict,
    SOURCE_PORT,
};
use crate::flow::FiveTuple;
use crate::routes::gateway::{serving_vnet, PrefixSource};
use crate::routes::selection::Origin;
use crate::routes::SubnetRoutes;
use crate::security::evaluate::{Decision, Level, Reason};
use crate::security::tags::{is_internet, IMDS, WIRESERVER};
use std::collections::HashSet;
use std::net::Ipv4Addr;
use vnetlab_model::{
    Access, ConnectionKind, Direction, LoadBalancer, LoadBalancerId, LoadBalancerSku,
    LoadBalancingRule, NextHopType, NicId, Protocol, SubnetId, Topology, TransportProtocol, VnetId,
};

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
}

/// A load balancer's translation of one flow (docs/semantics/dataplane.md 6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LbFlow {
    lb: LoadBalancerId,
    frontend: Ipv4Addr,
    frontend_port: u16,
    backend: Ipv4Addr,
    backend_port: u16,
    floating_ip: bool,
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
        }
    }

    fn hop(
        &mut self,
        resource: String,
        layer: Layer,
        decision: impl Into<String>,
        detail: impl Into<String>,
        packet: FiveTuple,
        passed: bool,
    ) -> bool {
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

    fn nic_name(&self, nic: NicId) -> String {
        format!("networkInterfaces/{}", self.f.topology.nic(nic).name)
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
        resource: String,
        decision: &str,
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

    fn start(&mut self, from: Endpoint, packet: FiveTuple) {
        let t = self.f.topology;
        match from {
            Endpoint::Nic { nic, .. } => {
                let what = format!("{} sends it", self.vm_of(nic));
                self.hop(self.nic_name(nic), Layer::Source, "", what, packet, true);
                if let Some((decision, detail)) = not_carried(&packet).or_else(|| {
                    not_unicast(t, t.nic(nic).primary_ip_configuration().subnet, packet.dst)
                }) {
                    self.hop(
                        self.nic_name(nic),
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
                    "Internet".into(),
                    Layer::Source,
                    "",
                    "an Internet host sends it",
                    packet,
                    true,
                );
                self.arrive_from_internet(packet);
            }
            Endpoint::OnPremises { site, .. } => {
                let lng = &t.local_gateways[site.index()];
                self.hop(
                    site_name(t, site),
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
                        self.hop(format!("localNetworkGateways/{}", lng.name), Layer::Gateway, "connection", "no connection joins this site to a gateway", packet, false);
                    }
                }
            }
            Endpoint::PublicIp { public, .. }
            | Endpoint::LoadBalancer { ip: public, .. }
            | Endpoint::Platform(public)
            | Endpoint::Unowned(public) => {
                self.hop(public.to_string(), Layer::Source, "", "nothing can send from this address: it is not a VM's, a site's or an Internet host's", packet, false);
            }
        }
    }

    /// A packet leaves a NIC: the spoofing check, the outbound NSGs, then the subnet's routes.
    fn leave(&mut self, nic: NicId, packet: FiveTuple) {
        let t = self.f.topology;
        let n = t.nic(nic);
        if !self.visited.insert((nic, packet)) || self.hops.len() > MAX_HOPS {
            self.hop(
                self.nic_name(nic),
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
                self.nic_name(nic),
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
                self.nic_name(nic),
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
                "Azure platform".into(),
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
                format!("loadBalancers/{}", t.load_balancers[l.lb.index()].name),
                Layer::LoadBalancer,
                "flow state",
                detail,
                packet,
                true,
            );
        }
        self.route(subnet, Some(nic), packet, false);
    }

    /// The NSGs of a NIC in one direction (or the flow state, for a reply). `standard_lb`: the
    /// packet came through a Standard load balancer, closed to the Internet without an NSG.
    fn nsg(&mut self, nic: NicId, direction: Direction, packet: FiveTuple, standard_lb: bool) {
        let t = self.f.topology;
        let layer = if direction == Direction::Outbound {
            Layer::NsgOutbound
        } else {
            Layer::NsgInbound
        };
        if self.stateful.is_some_and(|s| s.contains(&nic)) {
            self.hop(
                self.nic_name(nic),
                layer,
                "flow state",
                "the reply of an allowed flow: NSGs are stateful",
                packet,
                true,
            );
            return;
        }
        let decision = self.evaluate_nsgs(nic, direction, packet);
        for v in &decision.evaluated {
            let at = if v.level == Level::Nic {
                "the NIC's NSG"
            } else {
                "the subnet's NSG"
            };
            let allowed = v.rule.written.access == Access::Allow;
            let detail = format!("{at} {} it", if allowed { "allows" } else { "denies" });
            self.hop(
                format!("networkSecurityGroups/{}", t.nsgs[v.nsg.index()].name),
                layer,
                v.rule.name.clone(),
                detail,
                packet,
                allowed,
            );
        }
        match decision.reason {
            // docs/semantics/dataplane.md 6.1 ([LBSKU]): a Standard load balancer is secure by default, like a
            // Standard public IP: closed to inbound traffic until an NSG allows it.
            Reason::NoNsg
                if standard_lb && direction == Direction::Inbound && is_internet(packet.src) =>
            {
                self.hop(self.nic_name(nic), layer, "Standard load balancer", "a Standard load balancer is closed to inbound traffic until an NSG allows it, and no NSG does", packet, false);
                return;
            }
            Reason::NoNsg => {
                self.hop(
                    self.nic_name(nic),
                    layer,
                    "no NSG",
                    "no NSG on the NIC or its subnet",
                    packet,
                    true,
                );
            }
            Reason::PlatformTraffic if decision.evaluated.is_empty() => {
                self.hop(
                    self.nic_name(nic),
                    layer,
                    "platform traffic",
                    "traffic to 168.63.129.16 / 169.254.169.254 is not filtered by NSGs",
                    packet,
                    true,
                );
            }
            Reason::SecureByDefault => {
                self.hop(self.nic_name(nic), layer, "Standard public IP", "a Standard public IP is closed to inbound traffic until an NSG allows it, and no NSG does", packet, false);
            }
            _ => {}
        }
        if decision.access == Access::Allow {
            self.allowed_at.insert(nic);
        }
    }

    /// The subnet's effective routes decide the next hop.
    fn route(
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
                format!("virtualNetworks/{}/subnets/{}", t.vnet(vnet).name, s.name),
                Layer::Route,
                "no route",
                "no effective route matches",
                packet,
                false,
            );
            return;
        };
        let kind = sel.row.next_hop_type;
        let ips: Vec<String> = sel.next_hop_ips().iter().map(|i| i.to_string()).collect();
        let resource = match sel.row.route_table {
            Some(rt) => format!("routeTables/{}", t.route_table(rt).name),
            None => format!("virtualNetworks/{}/subnets/{}", t.vnet(vnet).name, s.name),
        };
        let decision = format!(
            "{} {} {}{}{}",
            sel.source().as_str(),
            sel.prefix,
            kind,
            if ips.is_empty() {
                String::new()
            } else {
                format!(" {}", ips.join(","))
            },
            sel.row
                .name
                .as_ref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        );
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
        match kind {
            NextHopType::VnetLocal => self.deliver_in(vnet, packet),
            NextHopType::VNetPeering | NextHopType::VNetGlobalPeering => {
                let remote = self.f.addresses.peer_holding(vnet, packet.dst);
                match remote {
                    Some(remote) => {
                        self.cross_peering(vnet, remote, packet, from_gateway);
                        self.deliver_in(remote, packet);
                    }
                    None => {
                        self.hop(
                            format!("virtualNetworks/{}", t.vnet(vnet).name),
                            Layer::Peering,
                            "no peer",
                            "no peered VNet holds the address",
                            packet,
                            false,
                        );
                    }
                }
            }
            NextHopType::VirtualAppliance => match sel.next_hop_ips().first() {
                Some(ip) => self.appliance(vnet, *ip, packet, from_gateway),
                None => {
                    self.hop(
                        "route".into(),
                        Layer::Route,
                        "nextHopIpAddress",
                        "the appliance route has no address",
                        packet,
                        false,
                    );
                }
            },
            NextHopType::VirtualNetworkGateway => self.gateway(vnet, packet),
            NextHopType::Internet => self.internet(subnet, egress, packet),
            NextHopType::VirtualNetworkServiceEndpoint => {
                self.deliver(
                    Egress::Service,
                    "service endpoint".into(),
                    "VirtualNetworkServiceEndpoint",
                    "reaches the Azure service over the backbone, from the VM's private address"
                        .into(),
                    packet,
                );
            }
            NextHopType::InterfaceEndpoint => {
                let pe = t
                    .private_endpoints
                    .iter()
                    .find(|p| p.ip == packet.dst)
                    .map(|p| p.name.clone())
                    .unwrap_or_default();
                self.deliver(
                    Egress::Service,
                    format!("privateEndpoints/{pe}"),
                    "InterfaceEndpoint",
                    format!("delivered to private endpoint '{pe}': the service behind it answers"),
                    packet,
                );
            }
            NextHopType::None => {}
        }
    }

    /// Crossing a peering into `to` (docs/semantics/routing.md 7; D8, D9). Returns whether it passed.
    fn cross_peering(
        &mut self,
        from: VnetId,
        to: VnetId,
        packet: FiveTuple,
        from_gateway: bool,
    ) -> bool {
        let t = self.f.topology;
        let Some(back) = self.f.addresses.peering(t, to, from) else {
            return false;
        };
        let resource = format!(
            "virtualNetworks/{}/virtualNetworkPeerings/{}",
            t.vnet(to).name,
            back.name
        );
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

    /// Delivery inside a VNet: the NIC that holds the destination, or an internal load balancer.
    fn deliver_in(&mut self, vnet: VnetId, packet: FiveTuple) {
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
                    format!("virtualNetworks/{}", subnet_name(t, subnet)),
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
            format!("virtualNetworks/{}", t.vnet(vnet).name),
            Layer::Delivery,
            "no holder",
            format!("no NIC in '{}' holds {}", t.vnet(vnet).name, packet.dst),
            packet,
            false,
        );
    }

    /// A route to a virtual appliance: the NIC holding the next hop address receives it, or the
    /// internal load balancer whose frontend it is hands the packet to a backend appliance
    /// (docs/semantics/routing.md 5.3), its addresses unchanged.
    fn appliance(&mut self, vnet: VnetId, ip: Ipv4Addr, packet: FiveTuple, from_gateway: bool) {
        let t = self.f.topology;
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
                    format!("virtualNetworks/{}", t.vnet(vnet).name),
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
                    .map(|n| self.nic_name(n))
                    .unwrap_or_else(|| format!("virtualNetworks/{}", t.vnet(target_vnet).name));
                self.hop(resource, Layer::Appliance, "nextHopIpAddress", format!("the next hop {ip} is neither in this VNet nor in a peered one: not directly reachable"), packet, false);
                return;
            }
            self.cross_peering(vnet, target_vnet, packet, from_gateway);
        }
        let nva = match (nic, ilb) {
            (Some(n), _) => n,
            (None, Some((lb, frontend, _))) => {
                let l = &t.load_balancers[lb.index()];
                let resource = format!("loadBalancers/{}", l.name);
                let Some(rule) = lb_rule(l, frontend, &packet) else {
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
                        format!("loadBalancingRules/{}", rule.name),
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
                    format!("loadBalancingRules/{}", rule.name),
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

    /// A load balancer's translation of a packet to a backend (docs/semantics/dataplane.md 6.1): the backend's
    /// address and port, or with Floating IP the packet unchanged; the flow is kept for the
    /// reply.
    fn translate_to_backend(
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

    /// A packet arrives at a NIC: the inbound NSGs; delivered if it is the NIC's address,
    /// otherwise the NIC must forward IP and the VM routes it on.
    /// `floating_ip`: a load balancer kept its frontend address as the destination;
    /// `standard_lb`: the packet came through a Standard load balancer.
    fn arrive(&mut self, nic: NicId, packet: FiveTuple, floating_ip: bool, standard_lb: bool) {
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
            return self.deliver(Egress::Nic(nic), self.nic_name(nic), "", what, packet);
        }
        let ok = n.enable_ip_forwarding;
        let detail = if ok {
            "the NIC forwards IP: the appliance receives traffic for other addresses"
        } else {
            "the packet is for another address and the NIC's IP forwarding is off: Azure drops it"
        };
        self.hop(
            self.nic_name(nic),
            Layer::IpForwarding,
            "enableIPForwarding",
            detail,
            packet,
            ok,
        );
        self.appliances.push(nic);
        if self.to_next_vm && ok {
            let what = format!("handed to {}, whose guest routes it on", self.vm_of(nic));
            return self.deliver(Egress::Nic(nic), self.nic_name(nic), "", what, packet);
        }
        let what = format!(
            "{} routes it on, as a Linux router, by its subnet's effective routes",
            self.vm_of(nic)
        );
        self.hop(self.nic_name(nic), Layer::Appliance, "", what, packet, true);
        self.leave(nic, packet);
    }

    /// A route to the VNet's gateway (own or through transit): the site or VNet behind it.
    fn gateway(&mut self, vnet: VnetId, packet: FiveTuple) {
        let t = self.f.topology;
        let Some(owner) = serving_vnet(t, vnet) else {
            self.hop(
                format!("virtualNetworks/{}", t.vnet(vnet).name),
                Layer::Gateway,
                "no gateway",
                "the VNet has no gateway and uses none through transit",
                packet,
                false,
            );
            return;
        };
        let mut best: Option<(u8, PrefixSource, vnetlab_model::GatewayId)> = None;
        for g in t.gateways_in(owner) {
            if let Some((len, source)) = self.f.addresses.gateway_route(g, packet.dst) {
                if best.is_none_or(|(l, _, _)| len > l) {
                    best = Some((len, source, g));
                }
            }
        }
        let gw_name = t
            .gateways_in(owner)
            .next()
            .map(|g| t.gateway(g).name.clone())
            .unwrap_or_default();
        let Some((_, source, g)) = best else {
            self.hop(
                format!("virtualNetworkGateways/{gw_name}"),
                Layer::Gateway,
                "no route",
                format!(
                    "the gateway has no connection whose prefixes cover {}",
                    packet.dst
                ),
                packet,
                false,
            );
            return;
        };
        let resource = format!("virtualNetworkGateways/{}", t.gateway(g).name);
        match source {
            PrefixSource::Static(site)
            | PrefixSource::Bgp(site)
            | PrefixSource::DefaultSite(site) => {
                let lng = &t.local_gateways[site.index()].name;
                self.hop(
                    resource,
                    Layer::Gateway,
                    format!("localNetworkGateways/{lng}"),
                    format!("through the VPN tunnel to site '{lng}'"),
                    packet,
                    true,
                );
                self.deliver(
                    Egress::Site(site),
                    format!("localNetworkGateways/{lng}"),
                    "",
                    format!("delivered to on-premises site '{lng}'"),
                    packet,
                );
            }
            PrefixSource::Vnet2Vnet(remote) => {
                self.hop(
                    resource,
                    Layer::Gateway,
                    format!("virtualNetworkGateways/{}", t.gateway(remote).name),
                    "through the VNet-to-VNet tunnel",
                    packet,
                    true,
                );
                self.enter_from_gateway(t.gateway(remote).vnet, packet);
            }
        }
    }

    /// A packet enters a VNet through its gateway: GatewaySubnet's routes decide.
    fn enter_from_gateway(&mut self, vnet: VnetId, packet: FiveTuple) {
        let t = self.f.topology;
        let gs = t
            .vnet(vnet)
            .subnets
            .iter()
            .copied()
            .find(|s| t.subnet(*s).name == "GatewaySubnet");
        let Some(gs) = gs else {
            self.hop(
                format!("virtualNetworks/{}", t.vnet(vnet).name),
                Layer::Gateway,
                "GatewaySubnet",
                "the VNet has no GatewaySubnet",
                packet,
                false,
            );
            return;
        };
        let gw = t
            .gateways_in(vnet)
            .next()
            .map(|g| t.gateway(g).name.clone())
            .unwrap_or_default();
        self.hop(
            format!("virtualNetworkGateways/{gw}"),
            Layer::Gateway,
            "",
            format!(
                "enters '{}' through its gateway; GatewaySubnet's routes decide",
                t.vnet(vnet).name
            ),
            packet,
            true,
        );
        self.route(gs, None, packet, true);
    }

    /// Leaving for the Internet: source NAT by precedence (docs/semantics/dataplane.md 5.3): NAT gateway, then
    /// the NIC's public IP, then a load balancer outbound rule, then default outbound access
    /// (none in a private subnet).
    fn internet(&mut self, subnet: SubnetId, egress: Option<NicId>, packet: FiveTuple) {
        let t = self.f.topology;
        let s = t.subnet(subnet);
        if !is_internet(packet.dst) {
            self.hop(
                "Internet".into(),
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
                format!("publicIPAddresses/{}", t.public_ips[p.index()].name),
                Layer::OutboundSnat,
                "flow state",
                format!("the reply leaves by the public address the request came in on, {via}"),
                out,
                true,
            );
        } else if let Some(nat) = s.nat_gateway {
            let ng = &t.nat_gateways[nat.index()];
            let resource = format!("natGateways/{}", ng.name);
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
                format!("publicIPAddresses/{}", ip.name),
                Layer::OutboundSnat,
                "instance public IP",
                format!(
                    "the NIC's public IP translates the source to {}",
                    ip.address
                ),
                out,
                true,
            );
        } else if let Some((lb, rule)) = egress.and_then(|nic| outbound_rule(t, nic, packet.src)) {
            let l = &t.load_balancers[lb.index()];
            let resource = format!("loadBalancers/{}", l.name);
            let decision = format!("outboundRules/{}", rule.name);
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
                format!("virtualNetworks/{}/subnets/{}", t.vnet(s.vnet).name, s.name),
                Layer::OutboundSnat,
                "defaultOutboundAccess",
                detail,
                out,
                true,
            );
        } else {
            self.hop(format!("virtualNetworks/{}/subnets/{}", t.vnet(s.vnet).name, s.name), Layer::OutboundSnat, "defaultOutboundAccess", "a private subnet (defaultOutboundAccess: false) with no NAT gateway or public IP has no way out", packet, false);
            return;
        }
        match resolve(self.f.addresses, out.dst) {
            // The destination is a lab public address: the packet comes back in from the Internet.
            Endpoint::PublicIp { .. } | Endpoint::LoadBalancer { .. } => {
                self.arrive_from_internet(out)
            }
            _ => self.deliver(
                Egress::Internet,
                "Internet".into(),
                "",
                format!("delivered to the Internet host {}", out.dst),
                out,
            ),
        }
    }

    /// A packet from the Internet: a public IP translates to the NIC's private address; a load
    /// balancer frontend sends it to a backend; a private address is unreachable.
    fn arrive_from_internet(&mut self, packet: FiveTuple) {
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
                let (name, sku) = pip
                    .map(|p| {
                        (
                            t.public_ips[p.index()].name.clone(),
                            format!("{:?}", t.public_ips[p.index()].sku),
                        )
                    })
                    .unwrap_or_default();
                self.hop(
                    format!("publicIPAddresses/{name}"),
                    Layer::PublicIp,
                    format!("{sku} public IP"),
                    format!("translated to the private address {private}; NSGs see {private}"),
                    inside,
                    true,
                );
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
                    "Internet".into(),
                    Layer::Route,
                    "no public address",
                    detail,
                    packet,
                    false,
                );
            }
            _ => {
                self.hop(
                    "Internet".into(),
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

    /// A load balancer frontend: the rule for the protocol and port picks the backend pool; the
    /// first member in input order receives it (docs/semantics/dataplane.md 6.1; Floating IP keeps the frontend
    /// address as destination). Health probes are not modelled: every backend counts as up.
    fn load_balancer(&mut self, lb: LoadBalancerId, frontend: usize, packet: FiveTuple) {
        let t = self.f.topology;
        let l = &t.load_balancers[lb.index()];
        let resource = format!("loadBalancers/{}", l.name);
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
            let rule_name = format!("inboundNatRules/{}", rule.name);
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
        let Some(rule) = lb_rule(l, frontend, &packet) else {
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
        let rule_name = format!("loadBalancingRules/{}", rule.name);
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
            let probe = rule
                .probe
                .map(|p| l.probes[p].name.clone())
                .unwrap_or_default();
            self.hop(resource, Layer::LoadBalancer, format!("probes/{probe}"), "every backend is probed down: the NSGs of the backends do not let the probe from 168.63.129.16 (AzureLoadBalancer) in", packet, false);
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
fn frontend_public_ip(t: &Topology, lb: LoadBalancerId, frontend: usize) -> Option<Ipv4Addr> {
    t.load_balancers[lb.index()].frontends[frontend]
        .public_ip
        .map(|p| t.public_ips[p.index()].address)
}

/// The load-balancing rule of a frontend that takes a packet: its protocol (TCP, UDP, or `All`
/// for both) and frontend port, or port 0 (HA ports). Load balancers forward TCP and UDP only
/// (docs/semantics/dataplane.md 6.1).
fn lb_rule<'t>(
    l: &'t LoadBalancer,
    frontend: usize,
    packet: &FiveTuple,
) -> Option<&'t LoadBalancingRule> {
    l.rules.iter().find(|r| {
        r.frontend == frontend
            && protocol_matches(r.protocol, packet)
            && (r.frontend_port == packet.dst_port || r.frontend_port == 0)
    })
}

/// Whether a load balancer rule's protocol (`Tcp`, `Udp`, `All`) takes a packet.
fn protocol_matches(protocol: TransportProtocol, packet: &FiveTuple) -> bool {
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
    fn probe_up(
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

    /// Asks a NIC's NSGs, and notes the question and the answer.
    fn evaluate_nsgs(
        &mut self,
        nic: NicId,
        direction: Direction,
        packet: FiveTuple,
    ) -> Decision<'w> {
        let decision = self.f.security.nic(nic).evaluate(direction, &packet);
        self.nsg_checks.push(NsgCheck {
            nic,
            direction,
            packet,
            access: decision.access,
        });
        decision
    }
}

/// The members of a backend pool, in input order, with their addresses.
fn pool_members(
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

/// `tcp/443`, `udp/53` or `icmp`.
fn flow_name(packet: &FiveTuple) -> String {
    if Protocol::has_ports(packet.protocol) {
        format!("{}/{}", proto_name(packet.protocol), packet.dst_port)
    } else {
        proto_name(packet.protocol).to_string()
    }
}

/// Whether a NIC is in a backend pool of a load balancer.
fn in_pool_of(t: &Topology, nic: NicId, lb: LoadBalancerId) -> bool {
    t.nic(nic)
        .ip_configurations
        .iter()
        .any(|c| c.backend_pools.iter().any(|(l, _)| *l == lb))
}

/// `vnet/subnets/subnet`, a subnet's resource path under `virtualNetworks/`.
fn subnet_name(t: &Topology, subnet: SubnetId) -> String {
    let s = t.subnet(subnet);
    format!("{}/subnets/{}", t.vnet(s.vnet).name, s.name)
}

/// `vnet/subnet`, as the trace's explanations name a subnet.
fn subnet_label(t: &Topology, subnet: SubnetId) -> String {
    let s = t.subnet(subnet);
    format!("{}/{}", t.vnet(s.vnet).name, s.name)
}

fn site_name(t: &Topology, site: vnetlab_model::LocalGatewayId) -> String {
    format!(
        "localNetworkGateways/{}",
        t.local_gateways[site.index()].name
    )
}

/// docs/semantics/dataplane.md 4.4 (\[FAQ\]): VNets carry unicast only; broadcast (255.255.255.255 or the
/// sender's subnet's last address, 4.2) and multicast (224.0.0.0/4) are dropped where they are
/// sent.
/// IP-in-IP and GRE are not carried, and UDP from source port 65330 is the host's
/// (docs/semantics/dataplane.md 4.4); the live lab's switch drops them by this walk too.
fn not_carried(packet: &FiveTuple) -> Option<(&'static str, String)> {
    match packet.protocol {
        4 => Some(("protocol", "IP-in-IP (protocol 4) is not carried in a VNet (docs/semantics/dataplane.md 4.4)".to_string())),
        47 => Some(("protocol", "GRE (protocol 47) is not carried in a VNet (docs/semantics/dataplane.md 4.4)".to_string())),
        FiveTuple::UDP if packet.src_port == HOST_UDP_PORT => Some(("sourcePort", format!("UDP source port {HOST_UDP_PORT} is reserved for the host: Azure drops it (docs/semantics/dataplane.md 4.4)"))),
        _ => None,
    }
}

/// The UDP source port Azure keeps for the host (docs/semantics/dataplane.md 4.4).
pub const HOST_UDP_PORT: u16 = 65330;

fn not_unicast(t: &Topology, subnet: SubnetId, dst: Ipv4Addr) -> Option<(&'static str, String)> {
    if dst.is_broadcast() {
        return Some(("broadcast", format!("{dst} is the limited broadcast address: VNets carry unicast only and drop broadcast (docs/semantics/dataplane.md 4.4)")));
    }
    if dst.is_multicast() {
        return Some(("multicast", format!("{dst} is a multicast address: VNets carry unicast only and drop multicast (docs/semantics/dataplane.md 4.4)")));
    }
    let prefix = t.subnet(subnet).prefix;
    (dst == prefix.broadcast() && prefix.prefix_len() < 31).then(|| ("broadcast", format!("{dst} is the broadcast address of subnet {} (its last address): VNets carry unicast only and drop broadcast (docs/semantics/dataplane.md 4.4)", subnet_label(t, subnet))))
}

fn proto_name(p: u8) -> &'static str {
    match p {
        FiveTuple::TCP => "tcp",
        FiveTuple::UDP => "udp",
        FiveTuple::ICMP => "icmp",
        _ => "ip",
    }
}

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
    let allowed_at = std::mem::take(&mut w.allowed_at);
    let snat = w.snat;
    let lb_flow = w.lb_flow;
    let last = w.hops.last().map(|h| h.packet).unwrap_or(packet);
    let delivered_to = w.delivered_to;
    let forward = w.path();
    if forward.verdict != Verdict::Delivered {
        return Trace {
            from,
            to,
            forward,
            reply: None,
            asymmetric: None,
        };
    }
    // The reply: the reversed packet as delivered, from where it arrived.
    let reply_packet = last.reversed();
    let t = f.topology;
    let mut r = Walker::new(f, Some(&allowed_at));
    r.lb_flow = lb_flow;
    match (delivered_to, to, snat) {
        (Some(nic), _, _) => {
            if let Endpoint::PublicIp { public, .. } = to {
                r.reply_via = Some(public);
            }
            r.hop(
                format!("networkInterfaces/{}", t.nic(nic).name),
                Layer::Source,
                "",
                "the reply",
                reply_packet,
                true,
            );
            r.leave(nic, reply_packet);
        }
        // Replies from the Internet to a shared SNAT address return by the NAT's own state.
        (None, Endpoint::Internet(_), Some(Snat::Shared) | None) => {
            return Trace {
                from,
                to,
                forward,
                reply: None,
                asymmetric: None,
            }
        }
        (None, Endpoint::Internet(_), Some(Snat::PublicIp(_))) => {
            r.hop(
                "Internet".into(),
                Layer::Source,
                "",
                "the reply",
                reply_packet,
                true,
            );
            r.arrive_from_internet(reply_packet);
        }
        (None, Endpoint::OnPremises { ip, .. }, _) => match f.addresses.site(ip) {
            Some((site, gateway)) => {
                r.hop(
                    site_name(t, site),
                    Layer::Source,
                    "",
                    "the reply",
                    reply_packet,
                    true,
                );
                r.enter_from_gateway(t.gateway(gateway).vnet, reply_packet);
            }
            None => {
                return Trace {
                    from,
                    to,
                    forward,
                    reply: None,
                    asymmetric: None,
                }
            }
        },
        _ => {
            return Trace {
                from,
                to,
                forward,
                reply: None,
                asymmetric: None,
            }
        }
    }
    let reply = r.path();
    let names = |v: &[NicId]| {
        let mut n: Vec<String> = v.iter().map(|i| t.nic(*i).name.clone()).collect();
        n.sort();
        n.dedup();
        n
    };
    let (there, back) = (names(&forward.appliances), names(&reply.appliances));
    // The public address the request came in on: the client expects the reply from it, so a
    // reply that leaves another way is lost too (docs/semantics/routing.md 5.6: with 0.0.0.0/0 to a device or
    // a gateway, inbound from the Internet breaks unless the device NATs).
    let came_in_on = match to {
        Endpoint::PublicIp { public, .. } => Some(public),
        Endpoint::LoadBalancer { ip, .. } if is_internet(ip) => Some(ip),
        _ => None,
    };
    let last_reply = reply.hops.last();
    let left_by = last_reply
        .filter(|h| h.resource == "Internet" && h.layer == Layer::Delivery)
        .map(|h| h.packet.src);
    let wrong_way = came_in_on.filter(|public| left_by != Some(*public));
    let asymmetric = (reply.verdict == Verdict::Delivered && (there != back || wrong_way.is_some())).then(|| {
        let list = |v: &[String]| if v.is_empty() { "no appliance".to_string() } else { v.join(", ") };
        match wrong_way {
            Some(public) if there != back => format!("asymmetric routing: the request passes {} but the reply passes {}; a stateful appliance drops what it did not see, and the reply does not leave by {public}, the address the client sent to, so the client drops it too (docs/semantics/routing.md 5.6)", list(&there), list(&back)),
            Some(public) => format!("asymmetric routing: the request came in on {public} but the reply goes to {}, not back out by {public}: the client drops a reply that does not come from the address it sent to (docs/semantics/routing.md 5.6)", last_reply.map(|h| h.resource.as_str()).unwrap_or_default()),
            None => format!("asymmetric routing: the request passes {} but the reply passes {}; a stateful appliance drops what it did not see", list(&there), list(&back)),
        }
    });
    Trace {
        from,
        to,
        forward,
        reply: Some(reply),
        asymmetric,
    }
}

/// The load balancer outbound rule covering a NIC's address: its IP configuration is in the
/// rule's backend pool.
fn outbound_rule(
    t: &Topology,
    nic: NicId,
    src: Ipv4Addr,
) -> Option<(LoadBalancerId, &vnetlab_model::OutboundRule)> {
    let cfg = t
        .nic(nic)
        .ip_configurations
        .iter()
        .find(|c| c.private_ip == src)?;
    cfg.backend_pools.iter().find_map(|(lb, pool)| {
        t.load_balancers[lb.index()]
            .outbound_rules
            .iter()
            .find(|r| r.backend_pool == *pool)
            .map(|r| (*lb, r))
    })
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
    let (egress, last, shared_snat) = (
        w.egress,
        w.hops.last().map_or(packet, |h| h.packet),
        w.snat == Some(Snat::Shared),
    );
    Forwarding {
        path: w.path(),
        egress,
        packet: last,
        state,
        shared_snat,
    }
}
