//! The switch: Azure's host SDN for the lab's VMs (Live lab issue, "The switch"). One
//! data-plane thread reads every TAP; each frame is answered by the host (ARP D1, DHCP, DNS at
//! 168.63.129.16), dropped (broadcast, multicast, malformed), or routed: the first packet of a
//! flow walks the engine's pipeline (which also drops GRE, IP-in-IP and spoofed sources) (`Fabric::forward`, the same code as
//! `trace`) and the decision is cached in the flow table. Frames are delivered with D2's MACs
//! and their TTL untouched (D3).

use crate::capture::Recorder;
use crate::dhcp::{self, Lease};
use crate::flow_table::{Action, FlowTable, FLOWS_PER_NIC};
use crate::frame::{udp_frame, FABRIC_MAC};
use crate::packet::{self, Checksums, Unroutable, ETHERTYPE_ARP, ETHERTYPE_IPV4};
use crate::tap::{Tap, NEEDS_CSUM, VNET_HDR_LEN};
use crate::{arp, dns};
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;
use vnetlab_engine::flow::FiveTuple;
use vnetlab_engine::trace::endpoint::Endpoint;
use vnetlab_engine::trace::{Egress, Fabric};
use vnetlab_model::{LocalGatewayId, NicId};

/// What is behind a TAP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attachment {
    Nic(NicId),
    Internet,
    Site(LocalGatewayId),
}

pub struct Port {
    pub tap: Tap,
    pub attachment: Attachment,
    /// The MAC of the device inside the namespace.
    pub mac: [u8; 6],
    pub lease: Option<Lease>,
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
    recorder: &'a Recorder,
    started: Instant,
}

impl<'a> Switch<'a> {
    pub fn new(
        fabric: Fabric<'a>,
        ports: Vec<Port>,
        counters: &'a Counters,
        recorder: &'a Recorder,
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
        let flows = FlowTable::new(ports.len(), FLOWS_PER_NIC);
        Switch {
            fabric,
            ports,
            nic_port,
            site_port,
            internet_port,
            names,
            flows,
            counters,
            recorder,
            started: Instant::now(),
        }
    }

    /// Runs until `stop` is set.
    pub fn run(&mut self, stop: &AtomicBool) {
        let mut fds: Vec<libc::pollfd> = self
            .ports
            .iter()
            .map(|p| libc::pollfd {
                fd: p.tap.as_fd().as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // A virtio-net header, then a frame of up to 64 KiB (segmentation offload).
        let mut buf = vec![0u8; VNET_HDR_LEN + 65550];
        let mut last_expiry = 0;
        while !stop.load(Ordering::Relaxed) {
            // SAFETY: `fds` is a valid array of pollfd for the call's duration.
            let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 200) };
            if ready <= 0 {
                continue;
            }
            for (i, fd) in fds.iter().enumerate() {
                if fd.revents & libc::POLLIN == 0 {
                    continue;
                }
                // Drain the port, a bounded batch at a time so no port starves the others.
                for _ in 0..64 {
                    match self.ports[i].tap.read(&mut buf) {
                        Ok(n) => self.handle(i, &mut buf[..n]),
                        Err(_) => break,
                    }
                }
            }
            let now = self.now();
            if now > last_expiry {
                self.flows.expire(now);
                self.counters
                    .flows
                    .store(self.flows.len() as u64, Ordering::Relaxed);
                last_expiry = now;
            }
        }
    }

    fn now(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Sends a frame the host made (complete checksums: an empty virtio-net header).
    fn send(&self, port: usize, frame: &[u8]) {
        let mut out = vec![0u8; VNET_HDR_LEN];
        out.extend_from_slice(frame);
        self.forward_to(port, &out);
    }

    /// Sends a frame with its virtio-net header.
    fn forward_to(&self, port: usize, with_header: &[u8]) {
        self.recorder.record(port, &with_header[VNET_HDR_LEN..]);
        if self.ports[port].tap.write(with_header).is_ok() {
            bump(&self.counters.frames_out);
        }
    }

    /// One frame from a port, with its virtio-net header.
    pub fn handle(&mut self, port: usize, with_header: &mut [u8]) {
        bump(&self.counters.frames_in);
        if with_header.len() <= VNET_HDR_LEN {
            return bump(&self.counters.dropped_malformed);
        }
        let frame = &with_header[VNET_HDR_LEN..];
        self.recorder.record(port, frame);
        match packet::ethertype(frame) {
            Some(ETHERTYPE_ARP) => match arp::reply(frame) {
                // D1: every ARP request is answered with 12:34:56:78:9a:bc.
                Some(reply) => {
                    bump(&self.counters.arp_answered);
                    self.send(port, &reply);
                }
                None => bump(&self.counters.dropped_broadcast),
            },
            Some(ETHERTYPE_IPV4) => self.ipv4(port, with_header),
            Some(_) => bump(&self.counters.dropped_protocol),
            None => bump(&self.counters.dropped_malformed),
        }
    }

    fn ipv4(&mut self, port: usize, with_header: &mut [u8]) {
        let (header, frame) = with_header.split_at_mut(VNET_HDR_LEN);
        let sums = if header[0] & NEEDS_CSUM != 0 {
            Checksums::Partial {
                segmented: header[1] != 0,
            }
        } else {
            Checksums::Complete
        };
        if packet::group_destination(frame) {
            // DHCP is the host's; any other broadcast or multicast goes nowhere (docs/semantics/dataplane.md 4.4).
            match self.ports[port]
                .lease
                .as_ref()
                .and_then(|lease| dhcp::reply(frame, lease))
            {
                Some(reply) => {
                    bump(&self.counters.dhcp_answered);
                    self.send(port, &reply);
                }
                None => bump(&self.counters.dropped_broadcast),
            }
            return;
        }
        let f = match packet::parse_ipv4(frame, sums) {
            Ok(f) => f,
            Err(Unroutable::BadChecksum) => return bump(&self.counters.dropped_checksum),
            Err(_) => return bump(&self.counters.dropped_malformed),
        };
        let t = f.tuple;
        if t.dst == dhcp::SERVER && t.protocol == FiveTuple::UDP {
            return self.host_udp(port, frame, &f);
        }
        let now = self.now();
        let action = match self.flows.lookup(port, &t, now) {
            Some(a) => a,
            None => match self.decide(port, &f, now) {
                Some(a) => a,
                None => return bump(&self.counters.dropped_flow_limit),
            },
        };
        let Some(egress) = action.egress else {
            return bump(&self.counters.dropped_by_policy);
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
        self.forward_to(egress, with_header);
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
    fn host_udp(&mut self, port: usize, frame: &[u8], f: &packet::Ipv4Frame) {
        let t = f.tuple;
        if t.dst_port == 67 {
            match self.ports[port]
                .lease
                .as_ref()
                .and_then(|lease| dhcp::reply(frame, lease))
            {
                Some(reply) => {
                    bump(&self.counters.dhcp_answered);
                    self.send(port, &reply);
                }
                None => bump(&self.counters.dropped_protocol),
            }
            return;
        }
        let payload = frame.get(f.l4 + 8..14 + f.ip_len).unwrap_or_default();
        let answer = (t.dst_port == 53)
            .then(|| dns::answer(payload, |name| self.names.get(name).copied()))
            .flatten();
        match answer {
            Some(reply) => {
                bump(&self.counters.dns_answered);
                let out = udp_frame(
                    FABRIC_MAC,
                    self.ports[port].mac,
                    SocketAddrV4::new(dhcp::SERVER, 53),
                    SocketAddrV4::new(t.src, t.src_port),
                    &reply,
                );
                self.send(port, &out);
            }
            None => bump(&self.counters.dropped_protocol),
        }
    }
}
