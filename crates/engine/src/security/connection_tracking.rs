//! Stateful NSGs (docs/semantics/dataplane.md §1.3, NSGO): an allowed connection creates a flow
//! record; the replies of an allowed flow pass without any rule in the reverse direction, and
//! changing the rules affects only new connections. Time is passed in (seconds), so the table
//! has no clock. One model for the analyzer's stateful scenarios and the live lab's switch,
//! which keeps with each request the state its replies find (the NSGs that allowed it, its NAT).

use crate::flow::FiveTuple;
use crate::trace::FlowState;
use std::collections::HashMap;

/// Idle timeouts: TCP 4 minutes (the public IP default, docs/semantics/dataplane.md §5.1),
/// others 30 s.
pub const TCP_IDLE_SECONDS: u64 = 240;
pub const OTHER_IDLE_SECONDS: u64 = 30;

/// How long a flow may stay idle before its state is forgotten.
pub fn idle_limit(flow: &FiveTuple) -> u64 {
    if flow.protocol == FiveTuple::TCP {
        TCP_IDLE_SECONDS
    } else {
        OTHER_IDLE_SECONDS
    }
}

/// What a connection keeps for its replies. Two legs of one flow (through an appliance, say)
/// record their states into one.
pub trait ConnectionState: Default {
    fn merge(&mut self, other: Self);
}

/// A stateful NIC's record: only that the flow was allowed.
impl ConnectionState for () {
    fn merge(&mut self, _: ()) {}
}

/// The live lab's record: the NSGs that allowed the request and its NAT.
impl ConnectionState for FlowState {
    fn merge(&mut self, other: FlowState) {
        FlowState::merge(self, other);
    }
}

/// Allowed connections, each by its request (as initiated), with its state `S` and when it was
/// last seen.
#[derive(Debug)]
pub struct ConnectionTable<S = ()> {
    flows: HashMap<FiveTuple, (S, u64)>,
}

impl<S> Default for ConnectionTable<S> {
    fn default() -> Self {
        ConnectionTable {
            flows: HashMap::new(),
        }
    }
}

impl<S: ConnectionState> ConnectionTable<S> {
    /// Records a flow the rules allowed, as initiated by `flow.src`, merging `state` into what
    /// another leg of the same flow left.
    pub fn allow(&mut self, flow: FiveTuple, state: S, now: u64) {
        let (kept, seen) = self
            .flows
            .entry(flow)
            .or_insert_with(|| (S::default(), now));
        kept.merge(state);
        *seen = now;
    }

    /// Whether a packet belongs to a tracked flow, in either direction; refreshes it if so.
    pub fn established(&mut self, packet: &FiveTuple, now: u64) -> bool {
        for key in [*packet, packet.reversed()] {
            if let Some((_, seen)) = self.flows.get_mut(&key) {
                if now.saturating_sub(*seen) <= idle_limit(&key) {
                    *seen = now;
                    return true;
                }
                self.flows.remove(&key);
                return false;
            }
        }
        false
    }

    /// The state a reply finds: that of the live request it answers. Only as a reply: a packet
    /// in the request's own direction (a second leg of the flow, through an appliance) finds
    /// nothing.
    pub fn reply(&self, reply: &FiveTuple, now: u64) -> Option<&S> {
        self.flows
            .get(&reply.reversed())
            .filter(|(_, seen)| now.saturating_sub(*seen) <= idle_limit(reply))
            .map(|(s, _)| s)
    }

    /// The state of a live request, by the request itself (what an ICMP error quotes).
    pub fn request(&self, request: &FiveTuple, now: u64) -> Option<&S> {
        self.reply(&request.reversed(), now)
    }

    /// Drops flows idle beyond their timeout; returns how many.
    pub fn expire(&mut self, now: u64) -> usize {
        let before = self.flows.len();
        self.flows
            .retain(|k, (_, seen)| now.saturating_sub(*seen) <= idle_limit(k));
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
    //! docs/semantics/dataplane.md scenarios 12 and 13 (NSGO, 1.3), which IP flow verify cannot show because it
    //! checks one packet statelessly: the NIC's NSGs decide new flows, the table passes the rest.

    use super::*;
    use crate::security::compile;
    use crate::security::evaluate::NicNsgs;
    use std::net::Ipv4Addr;
    use vnetlab_model::service_tags::ServiceTags;
    use vnetlab_model::{Access, Direction, Topology};

    /// myVm (10.0.0.4): its NIC NSG allows outbound TCP 443 to the Internet, inbound only the
    /// defaults (scenario 12). vm-ssh (10.0.0.5): its NIC NSG has `allow-ssh` (scenario 13).
    const LAB: &str = "
vnets:
  myVnet:
    address_space: [10.0.0.0/16]
    subnets:
      default:
        prefix: 10.0.0.0/24
        vms:
          myVm: { nsg: nsg-https-out }
          vm-ssh: { nsg: nsg-ssh }
nsgs:
  nsg-https-out:
    rules:
      - { name: allow-https-out, priority: 100, direction: Outbound, access: Allow, protocol: Tcp, destination: Internet, destination_ports: '443' }
  nsg-ssh:
    rules:
      - { name: allow-ssh, priority: 100, direction: Inbound, access: Allow, protocol: Tcp, destination_ports: '22' }
";

    fn lab() -> Topology {
        vnetlab_ingest::load_text(
            LAB,
            "lab.yaml",
            vnetlab_ingest::Format::Yaml,
            ServiceTags::bundled(),
        )
        .expect("valid lab")
        .topology
    }

    fn tcp(src: [u8; 4], src_port: u16, dst: [u8; 4], dst_port: u16) -> FiveTuple {
        FiveTuple {
            src: Ipv4Addr::from(src),
            dst: Ipv4Addr::from(dst),
            protocol: FiveTuple::TCP,
            src_port,
            dst_port,
        }
    }

    /// A stateful NIC: a packet of a tracked flow passes; any other packet is decided by the
    /// NSGs, and an allowed one starts a flow.
    fn passes(
        table: &mut ConnectionTable,
        nsgs: &NicNsgs,
        direction: Direction,
        packet: FiveTuple,
        now: u64,
    ) -> bool {
        if table.established(&packet, now) {
            return true;
        }
        let allowed = nsgs.evaluate(direction, &packet).access == Access::Allow;
        if allowed {
            table.allow(packet, (), now);
        }
        allowed
    }

    /// The decision of the NSGs alone, with the rule named.
    fn rules_say(nsgs: &NicNsgs, direction: Direction, packet: FiveTuple) -> (Access, String) {
        let d = nsgs.evaluate(direction, &packet);
        (
            d.access,
            d.rule.map(|v| v.rule.name.clone()).unwrap_or_default(),
        )
    }

    fn nic_nsg(t: &Topology, vm: &str) -> crate::security::CompiledNsg {
        let nic = t.nic(t.vm(t.find_vm(vm).expect("vm")).nics[0]);
        compile(
            t,
            nic.nsg.expect("NIC NSG"),
            nic.primary_ip_configuration().subnet,
            ServiceTags::bundled(),
        )
    }

    #[test]
    fn scenario_12_the_reply_of_an_allowed_outbound_flow_passes() {
        let t = lab();
        let nsg = nic_nsg(&t, "myVm");
        let nsgs = NicNsgs {
            nic: Some(&nsg),
            subnet: None,
            standard_public_ip: false,
        };
        let mut table = ConnectionTable::default();
        let hello = tcp([10, 0, 0, 4], 50000, [20, 1, 2, 3], 443);
        assert_eq!(
            rules_say(&nsgs, Direction::Outbound, hello),
            (Access::Allow, "securityRules/allow-https-out".into())
        );
        assert!(passes(&mut table, &nsgs, Direction::Outbound, hello, 0));
        // The reply finds the request's record; the request's own direction (a second leg of
        // the flow, as through an appliance) does not pass as a reply.
        assert!(table.reply(&hello.reversed(), 0).is_some());
        assert!(table.reply(&hello, 0).is_none());
        // No inbound rule allows the server's reply: alone it would meet DenyAllInBound ...
        let reply = hello.reversed();
        assert_eq!(
            rules_say(&nsgs, Direction::Inbound, reply),
            (Access::Deny, "defaultSecurityRules/DenyAllInBound".into())
        );
        // ... but it belongs to the recorded flow, so it is delivered, and so is the rest.
        assert!(passes(&mut table, &nsgs, Direction::Inbound, reply, 1));
        assert!(passes(&mut table, &nsgs, Direction::Outbound, hello, 2));
        assert!(passes(&mut table, &nsgs, Direction::Inbound, reply, 3));
        // A packet from the same server to another port is a new inbound flow: denied.
        assert!(!passes(
            &mut table,
            &nsgs,
            Direction::Inbound,
            tcp([20, 1, 2, 3], 443, [10, 0, 0, 4], 50001),
            4
        ));
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn scenario_13_a_flow_outlives_the_rule_that_allowed_it() {
        let mut t = lab();
        let nsgs_before = nic_nsg(&t, "vm-ssh");
        let before = NicNsgs {
            nic: Some(&nsgs_before),
            subnet: None,
            standard_public_ip: false,
        };
        let mut table = ConnectionTable::default();
        let session = tcp([198, 51, 100, 200], 50000, [10, 0, 0, 5], 22);
        assert_eq!(
            rules_say(&before, Direction::Inbound, session),
            (Access::Allow, "securityRules/allow-ssh".into())
        );
        assert!(passes(&mut table, &before, Direction::Inbound, session, 0));

        // The rule allow-ssh is deleted; the NSG is compiled again.
        let nsg = t
            .nsgs
            .iter()
            .position(|n| n.name == "nsg-ssh")
            .expect("nsg-ssh");
        t.nsgs[nsg].rules.clear();
        let nsgs_after = nic_nsg(&t, "vm-ssh");
        let after = NicNsgs {
            nic: Some(&nsgs_after),
            subnet: None,
            standard_public_ip: false,
        };
        assert_eq!(
            rules_say(&after, Direction::Inbound, session),
            (Access::Deny, "defaultSecurityRules/DenyAllInBound".into())
        );

        // The open session keeps working in both directions ...
        assert!(passes(&mut table, &after, Direction::Inbound, session, 10));
        assert!(passes(
            &mut table,
            &after,
            Direction::Outbound,
            session.reversed(),
            11
        ));
        // ... while a new SSH attempt (another source port) is denied by DenyAllInBound.
        let attempt = tcp([198, 51, 100, 200], 50001, [10, 0, 0, 5], 22);
        assert!(!passes(&mut table, &after, Direction::Inbound, attempt, 12));
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn an_idle_flow_expires() {
        let t = lab();
        let nsg = nic_nsg(&t, "myVm");
        let nsgs = NicNsgs {
            nic: Some(&nsg),
            subnet: None,
            standard_public_ip: false,
        };
        let mut table = ConnectionTable::default();
        let hello = tcp([10, 0, 0, 4], 50000, [20, 1, 2, 3], 443);
        assert!(passes(&mut table, &nsgs, Direction::Outbound, hello, 1000));
        // Traffic refreshes the flow: 200 s, then another 200 s, stays within the 4-minute limit.
        assert!(passes(
            &mut table,
            &nsgs,
            Direction::Inbound,
            hello.reversed(),
            1200
        ));
        assert!(passes(
            &mut table,
            &nsgs,
            Direction::Inbound,
            hello.reversed(),
            1400
        ));
        assert_eq!(table.expire(1400 + TCP_IDLE_SECONDS), 0);
        // Idle beyond the limit: the flow is gone and the late reply is a new, denied flow.
        let late = 1400 + TCP_IDLE_SECONDS + 1;
        assert!(!table.established(&hello.reversed(), late));
        assert!(table.is_empty());
        assert!(!passes(
            &mut table,
            &nsgs,
            Direction::Inbound,
            hello.reversed(),
            late
        ));

        // expire() sweeps idle flows: a UDP flow after 30 s, a TCP flow after 240 s.
        let mut table = ConnectionTable::default();
        let dns = FiveTuple {
            protocol: FiveTuple::UDP,
            ..tcp([10, 0, 0, 4], 50001, [8, 8, 8, 8], 53)
        };
        table.allow(dns, (), 0);
        table.allow(hello, (), 0);
        assert_eq!(table.expire(OTHER_IDLE_SECONDS), 0);
        assert_eq!(table.expire(OTHER_IDLE_SECONDS + 1), 1);
        assert!(
            table.established(&hello, OTHER_IDLE_SECONDS + 1)
                && !table.established(&dns, OTHER_IDLE_SECONDS + 1)
        );
        assert_eq!(
            table.expire(OTHER_IDLE_SECONDS + 1 + TCP_IDLE_SECONDS + 1),
            1
        );
        assert!(table.is_empty());
    }
}
