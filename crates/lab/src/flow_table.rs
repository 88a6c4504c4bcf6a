//! The switch's flow table, as VFP's (DESIGN.md; Live lab issue, "Limits"): the first packet of
//! a flow walks the engine's pipeline and the decision is cached per ingress port and 5-tuple,
//! so later packets take one lookup. A request's state (the NSGs that allowed it, its NAT) is
//! kept for its replies: NSGs are stateful (dataplane.md 1.3). Flows expire when idle (TCP
//! 4 minutes, others 30 s); a NIC holds at most 500,000 flows, as in Azure. A full table
//! refuses new flows and never evicts a live one early.

use std::collections::HashMap;
use vnetlab_engine::flow::FiveTuple;
use vnetlab_engine::security::connection_tracking::{OTHER_IDLE_SECONDS, TCP_IDLE_SECONDS};
use vnetlab_engine::trace::FlowState;

/// Azure's limit of flows per NIC (dataplane.md; the Live lab issue).
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
    /// Per request (as delivered), the state its replies find.
    requests: HashMap<FiveTuple, (FlowState, u64)>,
    limit: usize,
}

fn idle_limit(t: &FiveTuple) -> u64 {
    if t.protocol == FiveTuple::TCP { TCP_IDLE_SECONDS } else { OTHER_IDLE_SECONDS }
}

impl FlowTable {
    pub fn new(ports: usize, limit: usize) -> FlowTable {
        FlowTable { flows: HashMap::new(), per_port: vec![0; ports], requests: HashMap::new(), limit }
    }

    /// The cached action of a packet's flow, refreshed.
    pub fn lookup(&mut self, port: usize, packet: &FiveTuple, now: u64) -> Option<Action> {
        let entry = self.flows.get_mut(&(port, *packet))?;
        if now.saturating_sub(entry.last_seen) > idle_limit(packet) {
            return None;
        }
        entry.last_seen = now;
        let action = entry.action;
        let key = if self.requests.contains_key(&action.packet) { action.packet } else { action.packet.reversed() };
        if let Some((_, seen)) = self.requests.get_mut(&key) {
            *seen = now;
        }
        Some(action)
    }

    /// The state a reply finds: the request it answers, if that is still alive.
    pub fn request_of(&self, reply: &FiveTuple, now: u64) -> Option<&FlowState> {
        self.requests.get(&reply.reversed()).filter(|(_, seen)| now.saturating_sub(*seen) <= idle_limit(reply)).map(|(s, _)| s)
    }

    /// Caches a new flow's action; for a request that was delivered, keeps its state (merged
    /// with what other legs of the same flow left). Returns false when the port's table is
    /// full of live flows: the flow is refused.
    pub fn insert(&mut self, port: usize, packet: FiveTuple, action: Action, state: Option<FlowState>, now: u64) -> bool {
        if self.per_port[port] >= self.limit {
            self.expire(now);
            if self.per_port[port] >= self.limit {
                return false;
            }
        }
        if self.flows.insert((port, packet), Entry { action, last_seen: now }).is_none() {
            self.per_port[port] += 1;
        }
        if let Some(state) = state {
            let (kept, seen) = self.requests.entry(action.packet).or_insert_with(|| (FlowState::default(), now));
            kept.merge(state);
            *seen = now;
        }
        true
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
        self.requests.retain(|t, (_, seen)| now.saturating_sub(*seen) <= idle_limit(t));
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
    use std::net::Ipv4Addr;

    fn tcp(port: u16) -> FiveTuple {
        FiveTuple { src: Ipv4Addr::new(10, 0, 0, 4), dst: Ipv4Addr::new(10, 0, 0, 5), protocol: FiveTuple::TCP, src_port: port, dst_port: 80 }
    }

    #[test]
    fn a_full_table_refuses_new_flows_and_keeps_live_ones() {
        let mut table = FlowTable::new(2, 2);
        let action = Action { egress: Some(1), packet: tcp(1), direct: true };
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
        assert_eq!(table.lookup(0, &tcp(1), 10 + TCP_IDLE_SECONDS + 1), Some(action), "flow 1 was refreshed at 30");
    }

    #[test]
    fn replies_find_the_request_state_until_it_idles_out() {
        let mut table = FlowTable::new(1, 10);
        let request = tcp(1);
        table.insert(0, request, Action { egress: Some(0), packet: request, direct: true }, Some(FlowState::default()), 0);
        assert!(table.request_of(&request.reversed(), 100).is_some());
        assert!(table.request_of(&request, 100).is_none(), "the request is not its own reply");
        assert!(table.request_of(&request.reversed(), TCP_IDLE_SECONDS + 1).is_none());
    }
}
