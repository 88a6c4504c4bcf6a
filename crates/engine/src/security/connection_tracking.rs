//! Stateful NSGs (dataplane.md 1.3, NSGO): an allowed connection creates a flow record; the
//! replies of an allowed flow pass without any rule in the reverse direction, and changing the
//! rules affects only new connections. Time is passed in (seconds), so the table has no clock.

use crate::flow::FiveTuple;
use std::collections::HashMap;

/// Idle timeouts: TCP 4 minutes (the public IP default, dataplane.md 5.1), others 30 s.
pub const TCP_IDLE_SECONDS: u64 = 240;
pub const OTHER_IDLE_SECONDS: u64 = 30;

#[derive(Debug, Default)]
pub struct ConnectionTable {
    flows: HashMap<FiveTuple, u64>,
}

impl ConnectionTable {
    fn idle_limit(flow: &FiveTuple) -> u64 {
        if flow.protocol == FiveTuple::TCP { TCP_IDLE_SECONDS } else { OTHER_IDLE_SECONDS }
    }

    /// Records a flow the rules allowed, as initiated by `flow.src`.
    pub fn allow(&mut self, flow: FiveTuple, now: u64) {
        self.flows.insert(flow, now);
    }

    /// Whether a packet belongs to a tracked flow, in either direction; refreshes it if so.
    pub fn established(&mut self, packet: &FiveTuple, now: u64) -> bool {
        for key in [*packet, packet.reversed()] {
            if let Some(seen) = self.flows.get_mut(&key) {
                if now.saturating_sub(*seen) <= Self::idle_limit(&key) {
                    *seen = now;
                    return true;
                }
                self.flows.remove(&key);
                return false;
            }
        }
        false
    }

    /// Drops flows idle beyond their timeout; returns how many.
    pub fn expire(&mut self, now: u64) -> usize {
        let before = self.flows.len();
        self.flows.retain(|k, seen| now.saturating_sub(*seen) <= Self::idle_limit(k));
        before - self.flows.len()
    }

    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }
}
