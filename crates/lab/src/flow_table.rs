//! The switch's flow table, as VFP's (DESIGN.md; Live lab issue, "Limits"): the first packet of
//! a flow walks the engine's pipeline and the decision is cached per ingress port and 5-tuple,
//! so later packets take one lookup. A request's state (the NSGs that allowed it, its NAT) is
//! kept for its replies: NSGs are stateful (docs/semantics/dataplane.md 1.3). Flows expire when idle (TCP
//! 4 minutes, others 30 s); a NIC holds at most 500,000 flows, as in Azure. A full table
//! refuses new flows and never evicts a live one early. Shared source NAT (a NAT gateway, an
//! outbound rule, default outbound access: docs/semantics/dataplane.md 5.3) picks each flow a source port of
//! the shared address, and maps the replies back by it.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use vnetlab_engine::flow::FiveTuple;
use vnetlab_engine::security::connection_tracking::{idle_limit, ConnectionTable};
use vnetlab_engine::trace::FlowState;

/// Azure's limit of flows per NIC (docs/semantics/dataplane.md; the Live lab issue).
pub const FLOWS_PER_NIC: usize = 500_000;

/// A cached decision: the egress port (None: dropped) and the packet as it leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Action {
    pub egress: Option<usize>,
    pub packet: FiveTuple,
    /// The frame keeps the sender's MAC (D2: VM to VM); otherwise it comes from the fabric.
    pub direct: bool,
}

struct Entry {
    action: Action,
    last_seen: u64,
}

pub struct FlowTable {
    flows: HashMap<(usize, FiveTuple), Entry>,
    per_port: Vec<usize>,
    /// Per request (as delivered), the state its replies find: the engine's connection
    /// tracking, the same model its stateful NSG scenarios test.
    connections: ConnectionTable<FlowState>,
    /// Shared SNAT: per (address, protocol, port), the port the request came from and the
    /// request as the VM sent it.
    snat: HashMap<(Ipv4Addr, u8, u16), (usize, FiveTuple)>,
    next_snat_port: u16,
    limit: usize,
}

/// The source ports shared SNAT hands out.
const SNAT_PORTS: std::ops::RangeInclusive<u16> = 1024..=65535;

impl FlowTable {
    pub fn new(ports: usize, limit: usize) -> FlowTable {
        FlowTable {
            flows: HashMap::new(),
            per_port: vec![0; ports],
            connections: ConnectionTable::default(),
            snat: HashMap::new(),
            next_snat_port: *SNAT_PORTS.start(),
            limit,
        }
    }

    /// The cached action of a packet's flow, refreshed.
    pub fn lookup(&mut self, port: usize, packet: &FiveTuple, now: u64) -> Option<Action> {
        let entry = self.flows.get_mut(&(port, *packet))?;
        if now.saturating_sub(entry.last_seen) > idle_limit(packet) {
            return None;
        }
        entry.last_seen = now;
        let action = entry.action;
        // Keeps the connection (request or reply leg) alive.
        self.connections.established(&action.packet, now);
        Some(action)
    }

    /// The state a reply finds: the request it answers, if that is still alive.
    pub fn request_of(&self, reply: &FiveTuple, now: u64) -> Option<&FlowState> {
        self.connections.reply(reply, now)
    }

    /// The state of a live request, by the request itself (what an ICMP error quotes).
    pub fn request(&self, request: &FiveTuple, now: u64) -> Option<&FlowState> {
        self.connections.request(request, now)
    }

    /// Caches a new flow's action; for a request that was delivered, keeps its state (merged
    /// with what other legs of the same flow left). Returns false when the port's table is
    /// full of live flows: the flow is refused.
    pub fn insert(
        &mut self,
        port: usize,
        packet: FiveTuple,
        action: Action,
        state: Option<FlowState>,
        now: u64,
    ) -> bool {
        if self.per_port[port] >= self.limit {
            self.expire(now);
            if self.per_port[port] >= self.limit {
                return false;
            }
        }
        if self
            .flows
            .insert(
                (port, packet),
                Entry {
                    action,
                    last_seen: now,
                },
            )
            .is_none()
        {
            self.per_port[port] += 1;
        }
        if let Some(state) = state {
            self.connections.allow(action.packet, state, now);
        }
        true
    }

    /// Shared SNAT of a request from `port` (`sent`, as the VM sent it; `translated`, with the
    /// shared address): the same flow with a free source port of that address. TCP and UDP
    /// only (ICMP keeps its identifier). None when every port is taken.
    pub fn snat_port(
        &mut self,
        port: usize,
        sent: FiveTuple,
        translated: FiveTuple,
    ) -> Option<FiveTuple> {
        if !matches!(translated.protocol, FiveTuple::TCP | FiveTuple::UDP) {
            self.snat
                .insert((translated.src, translated.protocol, 0), (port, sent));
            return Some(translated);
        }
        for _ in SNAT_PORTS {
            let candidate = self.next_snat_port;
            self.next_snat_port = if candidate == *SNAT_PORTS.end() {
                *SNAT_PORTS.start()
            } else {
                candidate + 1
            };
            if let std::collections::hash_map::Entry::Vacant(e) =
                self.snat
                    .entry((translated.src, translated.protocol, candidate))
            {
                e.insert((port, sent));
                return Some(FiveTuple {
                    src_port: candidate,
                    ..translated
                });
            }
        }
        None
    }

    /// A reply to a shared SNAT address: the port its request came from, and the reply as the
    /// VM must get it.
    pub fn unsnat(&self, reply: &FiveTuple) -> Option<(usize, FiveTuple)> {
        let port = if matches!(reply.protocol, FiveTuple::TCP | FiveTuple::UDP) {
            reply.dst_port
        } else {
            0
        };
        let (origin, sent) = self.snat.get(&(reply.dst, reply.protocol, port))?;
        Some((
            *origin,
            FiveTuple {
                dst: sent.src,
                dst_port: sent.src_port,
                ..*reply
            },
        ))
    }

    /// Forgets idle flows; returns how many.
    pub fn expire(&mut self, now: u64) -> usize {
        let before = self.flows.len();
        let per_port = &mut self.per_port;
        self.flows.retain(|(port, t), e| {
            let live = now.saturating_sub(e.last_seen) <= idle_limit(t);
            if !live {
                per_port[*port] -= 1;
            }
            live
        });
        self.connections.expire(now);
        let flows = &self.flows;
        self.snat
            .retain(|_, (port, sent)| flows.contains_key(&(*port, *sent)));
        before - self.flows.len()
    }

    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vnetlab_engine::security::connection_tracking::TCP_IDLE_SECONDS;

    fn tcp(port: u16) -> FiveTuple {
        FiveTuple {
            src: Ipv4Addr::new(10, 0, 0, 4),
            dst: Ipv4Addr::new(10, 0, 0, 5),
            protocol: FiveTuple::TCP,
            src_port: port,
            dst_port: 80,
        }
    }

    #[test]
    fn a_full_table_refuses_new_flows_and_keeps_live_ones() {
        let mut table = FlowTable::new(2, 2);
        let action = Action {
            egress: Some(1),
            packet: tcp(1),
            direct: true,
        };
        assert!(table.insert(0, tcp(1), action, None, 0));
        assert!(table.insert(0, tcp(2), action, None, 10));
        // Both flows are live: the third is refused, and neither is evicted.
        assert!(!table.insert(0, tcp(3), action, None, 20));
        assert_eq!(table.lookup(0, &tcp(1), 30), Some(action));
        // Another NIC has its own limit.
        assert!(table.insert(1, tcp(3), action, None, 30));
        // Once flow 2 is idle past TCP's 4 minutes (it was last seen at 10), a new flow fits.
        assert!(table.insert(0, tcp(4), action, None, 10 + TCP_IDLE_SECONDS + 1));
        assert_eq!(table.lookup(0, &tcp(2), 10 + TCP_IDLE_SECONDS + 1), None);
        assert_eq!(
            table.lookup(0, &tcp(1), 10 + TCP_IDLE_SECONDS + 1),
            Some(action),
            "flow 1 was refreshed at 30"
        );
    }

    #[test]
    fn replies_find_the_request_state_until_it_idles_out() {
        let mut table = FlowTable::new(1, 10);
        let request = tcp(1);
        table.insert(
            0,
            request,
            Action {
                egress: Some(0),
                packet: request,
                direct: true,
            },
            Some(FlowState::default()),
            0,
        );
        assert!(table.request_of(&request.reversed(), 100).is_some());
        assert!(
            table.request_of(&request, 100).is_none(),
            "the request is not its own reply"
        );
        assert!(table
            .request_of(&request.reversed(), TCP_IDLE_SECONDS + 1)
            .is_none());
    }

    #[test]
    fn shared_snat_gives_each_flow_its_own_port_and_maps_replies_back() {
        let mut table = FlowTable::new(2, 10);
        let shared = Ipv4Addr::new(198, 51, 100, 254);
        let (a, b) = (
            tcp(40000),
            FiveTuple {
                src: Ipv4Addr::new(10, 0, 0, 6),
                ..tcp(40000)
            },
        );
        let out_a = table
            .snat_port(0, a, FiveTuple { src: shared, ..a })
            .unwrap();
        let out_b = table
            .snat_port(1, b, FiveTuple { src: shared, ..b })
            .unwrap();
        // Two VMs with the same source port share the address on different ports.
        assert_ne!(out_a.src_port, out_b.src_port);
        let (origin, arrives) = table.unsnat(&out_b.reversed()).unwrap();
        assert_eq!((origin, arrives), (1, b.reversed()));
    }
}
