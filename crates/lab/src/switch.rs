//! The switch: Azure's host SDN for the lab's VMs (Live lab issue, "The switch";
//! docs/semantics/dataplane.md §4). Each frame is answered by the host (ARP D1, DHCP, DNS at
//! 168.63.129.16), dropped (broadcast, multicast, malformed), or routed: the first packet of a
//! flow walks the engine's pipeline (which also drops GRE, IP-in-IP and spoofed sources)
//! (`Fabric::forward`, the same code as `trace`) and the decision is cached in the flow table.
//! Frames are delivered with D2's MACs and their TTL untouched (D3).
//!
//! This is the switch's pure core: [`Switch::handle`] takes one frame, the port it came from
//! and the time, and returns what to send as data ([`Output`]); it reads no device and no
//! clock. The TAP loop around it is `datapath::run`.

use crate::dhcp::{self, Lease};
use crate::flow_table::{Action, FlowTable};
use crate::frame::{udp_frame, FABRIC_MAC};
use crate::naming::nic_mac;
use crate::packet::{self, Checksums, Unroutable, ETHERTYPE_ARP, ETHERTYPE_IPV4};
use crate::tap::{NEEDS_CSUM, VNET_HDR_LEN};
use crate::{arp, dns};
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::{AtomicU64, Ordering};
use vnetlab_engine::flow::FiveTuple;
use vnetlab_engine::trace::endpoint::Endpoint;
use vnetlab_engine::trace::{Egress, Fabric};
use vnetlab_model::{addressing, LocalGatewayId, NicId, Topology};

/// What is behind a TAP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attachment {
    Nic(NicId),
    Internet,
    Site(LocalGatewayId),
}

/// A port of the switch: what is behind it, and what the host knows of it.
pub struct Port {
    pub attachment: Attachment,
    /// The MAC of the device inside the namespace.
    pub mac: [u8; 6],
    pub lease: Option<Lease>,
}

impl Port {
    /// A VM's NIC: its MAC, and the lease Azure DHCP hands it (its primary private address,
    /// the subnet's `.1` as router, 168.63.129.16 as DNS server: docs/semantics/dataplane.md
    /// §4.2 and §4.3), with the VM's name as host name.
    pub fn nic(t: &Topology, nic: NicId, vm_name: &str) -> Port {
        let cfg = t.nic(nic).primary_ip_configuration();
        let prefix = t.subnet(cfg.subnet).prefix;
        Port {
            attachment: Attachment::Nic(nic),
            mac: nic_mac(nic),
            lease: Some(Lease {
                ip: cfg.private_ip,
                prefix_len: prefix.prefix_len(),
                router: addressing::default_gateway(prefix),
                dns: dhcp::SERVER,
                lease_seconds: 86_400,
                hostname: Some(vm_name.to_string()),
            }),
        }
    }
}

/// What the switch does with one frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Output {
    /// The frame, rewritten in place (MACs, NAT; its virtio-net header kept), leaves by this
    /// port.
    Forward(usize),
    /// The host answers on the port the frame came from with this frame (ARP, DHCP, DNS;
    /// complete checksums, no virtio-net header).
    Reply(Vec<u8>),
    /// The frame goes nowhere; the reason is counted.
    Dropped(Reason),
}

/// Why a frame is dropped; each reason has its counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The NSGs, a route or the missing egress port.
    Policy,
    /// Broadcast or multicast that is not DHCP, ARP the host does not answer.
    Broadcast,
    /// Neither ARP nor IPv4, or UDP to 168.63.129.16 the host does not serve.
    Protocol,
    Malformed,
    BadChecksum,
    /// The port's flow table is full.
    FlowLimit,
}

/// Counters the switch keeps, readable while it runs (`vnetlab status`).
#[derive(Debug, Default)]
pub struct Counters {
    pub frames_in: AtomicU64,
    pub frames_out: AtomicU64,
    pub arp_answered: AtomicU64,
    pub dhcp_answered: AtomicU64,
    pub dns_answered: AtomicU64,
    pub dropped_by_policy: AtomicU64,
    pub dropped_broadcast: AtomicU64,
    pub dropped_protocol: AtomicU64,
    pub dropped_malformed: AtomicU64,
    pub dropped_checksum: AtomicU64,
    pub dropped_flow_limit: AtomicU64,
    pub flows: AtomicU64,
}

impl Counters {
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        let c = |a: &AtomicU64| a.load(Ordering::Relaxed);
        vec![
            ("framesIn", c(&self.frames_in)),
            ("framesOut", c(&self.frames_out)),
            ("arpAnswered", c(&self.arp_answered)),
            ("dhcpAnswered", c(&self.dhcp_answered)),
            ("dnsAnswered", c(&self.dns_answered)),
            ("droppedByPolicy", c(&self.dropped_by_policy)),
            ("droppedBroadcastMulticast", c(&self.dropped_broadcast)),
            ("droppedProtocol", c(&self.dropped_protocol)),
            ("droppedMalformed", c(&self.dropped_malformed)),
            ("droppedBadChecksum", c(&self.dropped_checksum)),
            ("droppedFlowLimit", c(&self.dropped_flow_limit)),
            ("flows", c(&self.flows)),
        ]
    }
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// The switch's state: the ports, the flow table and the counters. No devices, no clock.
pub struct Switch<'a> {
    fabric: Fabric<'a>,
    ports: Vec<Port>,
    nic_port: HashMap<NicId, usize>,
    site_port: HashMap<LocalGatewayId, usize>,
    internet_port: Option<usize>,
    /// VM names (lower case) and their primary addresses, for DNS.
    names: HashMap<String, Ipv4Addr>,
    flows: FlowTable,
    counters: &'a Counters,
}

impl<'a> Switch<'a> {
    /// A switch over `ports`, each holding at most `flows_per_port` flows (Azure:
    /// `flow_table::FLOWS_PER_NIC`).
    pub fn new(
        fabric: Fabric<'a>,
        ports: Vec<Port>,
        counters: &'a Counters,
        flows_per_port: usize,
    ) -> Switch<'a> {
        let t = fabric.topology;
        let mut nic_port = HashMap::new();
        let mut site_port = HashMap::new();
        let mut internet_port = None;
        for (i, p) in ports.iter().enumerate() {
            match p.attachment {
                Attachment::Nic(n) => {
                    nic_port.insert(n, i);
                }
                Attachment::Site(s) => {
                    site_port.insert(s, i);
                }
                Attachment::Internet => internet_port = Some(i),
            }
        }
        let names = t
            .vms
            .iter()
            .filter_map(|vm| {
                Some((
                    vm.name.to_ascii_lowercase(),
                    t.nic(*vm.nics.first()?)
                        .primary_ip_configuration()
                        .private_ip,
                ))
            })
            .collect();
        let flows = FlowTable::new(ports.len(), flows_per_port);
        Switch {
            fabric,
            ports,
            nic_port,
            site_port,
            internet_port,
            names,
            flows,
            counters,
        }
    }

    pub fn ports(&self) -> &[Port] {
        &self.ports
    }

    /// Forgets the flows idle at `now` (seconds) and publishes how many are left.
    pub fn expire(&mut self, now: u64) {
        self.flows.expire(now);
        self.counters
            .flows
            .store(self.flows.len() as u64, Ordering::Relaxed);
    }

    /// Counts a drop.
    fn drop(&self, reason: Reason) -> Output {
        let c = &self.counters;
        bump(match reason {
            Reason::Policy => &c.dropped_by_policy,
            Reason::Broadcast => &c.dropped_broadcast,
            Reason::Protocol => &c.dropped_protocol,
            Reason::Malformed => &c.dropped_malformed,
            Reason::BadChecksum => &c.dropped_checksum,
            Reason::FlowLimit => &c.dropped_flow_limit,
        });
        Output::Dropped(reason)
    }

    /// Counts a host answer.
    fn reply(counter: &AtomicU64, frame: Vec<u8>) -> Output {
        bump(counter);
        Output::Reply(frame)
    }

    /// One frame from a port, with its virtio-net header, at `now` (seconds on any fixed
    /// clock). A forwarded frame is rewritten in place: no allocation on the forwarding path.
    pub fn handle(&mut self, port: usize, with_header: &mut [u8], now: u64) -> Output {
        bump(&self.counters.frames_in);
        if with_header.len() <= VNET_HDR_LEN {
            return self.drop(Reason::Malformed);
        }
        let frame = &with_header[VNET_HDR_LEN..];
        match packet::ethertype(frame) {
            Some(ETHERTYPE_ARP) => match arp::reply(frame) {
                // D1: every ARP request is answered with 12:34:56:78:9a:bc.
                Some(reply) => Self::reply(&self.counters.arp_answered, reply),
                None => self.drop(Reason::Broadcast),
            },
            Some(ETHERTYPE_IPV4) => self.ipv4(port, with_header, now),
            Some(_) => self.drop(Reason::Protocol),
            None => self.drop(Reason::Malformed),
        }
    }

    fn ipv4(&mut self, port: usize, with_header: &mut [u8], now: u64) -> Output {
        let (header, frame) = with_header.split_at_mut(VNET_HDR_LEN);
        let sums = if header[0] & NEEDS_CSUM != 0 {
            Checksums::Partial {
                segmented: header[1] != 0,
            }
        } else {
            Checksums::Complete
        };
        if packet::group_destination(frame) {
            // DHCP is the host's; any other broadcast or multicast goes nowhere
            // (docs/semantics/dataplane.md §4.4).
            return match self.dhcp(port, frame) {
                Some(reply) => reply,
                None => self.drop(Reason::Broadcast),
            };
        }
        let f = match packet::parse_ipv4(frame, sums) {
            Ok(f) => f,
            Err(Unroutable::BadChecksum) => return self.drop(Reason::BadChecksum),
            Err(_) => return self.drop(Reason::Malformed),
        };
        let t = f.tuple;
        if t.dst == dhcp::SERVER && t.protocol == FiveTuple::UDP {
            return self.host_udp(port, frame, &f);
        }
        let action = match self.flows.lookup(port, &t, now) {
            Some(a) => a,
            None => match self.decide(port, &f, now) {
                Some(a) => a,
                None => return self.drop(Reason::FlowLimit),
            },
        };
        let Some(egress) = action.egress else {
            return self.drop(Reason::Policy);
        };
        if action.packet != t {
            packet::translate(frame, &f, &action.packet, sums);
        }
        let src = if action.direct {
            self.ports[port].mac
        } else {
            FABRIC_MAC
        };
        packet::set_macs(frame, src, self.ports[egress].mac);
        Output::Forward(egress)
    }

    /// Azure DHCP's answer to a client message from a VM's port.
    fn dhcp(&self, port: usize, frame: &[u8]) -> Option<Output> {
        let reply = dhcp::reply(frame, self.ports[port].lease.as_ref()?)?;
        Some(Self::reply(&self.counters.dhcp_answered, reply))
    }

    /// The first packet of a flow: the engine decides, and the decision is cached. None when
    /// the port's flow table is full.
    fn decide(&mut self, port: usize, f: &packet::Ipv4Frame, now: u64) -> Option<Action> {
        let t = &f.tuple;
        let from = match self.ports[port].attachment {
            Attachment::Nic(nic) => Endpoint::Nic { nic, ip: t.src },
            Attachment::Internet => Endpoint::Internet(t.src),
            Attachment::Site(site) => Endpoint::OnPremises { site, ip: t.src },
        };
        // A reply to a shared SNAT address comes back by the NAT's own state (as `trace`
        // has it: such replies are not walked).
        if self.ports[port].attachment == Attachment::Internet {
            if let Some((origin, arrives)) = self.flows.unsnat(t) {
                let action = Action {
                    egress: Some(origin),
                    packet: arrives,
                    direct: false,
                };
                return self
                    .flows
                    .insert(port, *t, action, None, now)
                    .then_some(action);
            }
        }
        // A reply finds its request's state; an ICMP error, the state of the flow it quotes.
        let request = self
            .flows
            .request_of(t, now)
            .or_else(|| f.related.and_then(|q| self.flows.request(&q, now)))
            .cloned();
        let fwd = self.fabric.forward(from, *t, request.as_ref());
        let delivered = fwd.path.verdict == vnetlab_engine::trace::Verdict::Delivered;
        let egress = fwd.egress.filter(|_| delivered).and_then(|e| match e {
            Egress::Nic(n) => self.nic_port.get(&n).copied(),
            Egress::Site(s) => self.site_port.get(&s).copied(),
            Egress::Internet => self.internet_port,
            Egress::Service | Egress::Host => None,
        });
        // D2: VM-to-VM frames keep the sender's MAC; through a gateway, a load balancer or
        // from outside they come from the fabric's.
        let direct = matches!(self.ports[port].attachment, Attachment::Nic(_))
            && matches!(fwd.egress, Some(Egress::Nic(_)))
            && !fwd.via_fabric;
        let mut packet = fwd.packet;
        if fwd.shared_snat && egress.is_some() {
            packet = self.flows.snat_port(port, *t, packet)?;
        }
        let action = Action {
            egress,
            packet,
            direct,
        };
        let state = (delivered && request.is_none()).then_some(fwd.state);
        self.flows
            .insert(port, *t, action, state, now)
            .then_some(action)
    }

    /// UDP to 168.63.129.16: a DHCP renewal, or DNS on port 53 answered with the lab's VM names.
    fn host_udp(&mut self, port: usize, frame: &[u8], f: &packet::Ipv4Frame) -> Output {
        let t = f.tuple;
        if t.dst_port == 67 {
            return match self.dhcp(port, frame) {
                Some(reply) => reply,
                None => self.drop(Reason::Protocol),
            };
        }
        let payload = frame.get(f.l4 + 8..14 + f.ip_len).unwrap_or_default();
        let answer = (t.dst_port == 53)
            .then(|| dns::answer(payload, |name| self.names.get(name).copied()))
            .flatten();
        match answer {
            Some(reply) => Self::reply(
                &self.counters.dns_answered,
                udp_frame(
                    FABRIC_MAC,
                    self.ports[port].mac,
                    SocketAddrV4::new(dhcp::SERVER, 53),
                    SocketAddrV4::new(t.src, t.src_port),
                    &reply,
                ),
            ),
            None => self.drop(Reason::Protocol),
        }
    }
}

#[cfg(test)]
mod tests;
