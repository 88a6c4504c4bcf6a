//! The NSG pipeline of one NIC (docs/semantics/dataplane.md 1.4-1.5, 5.1): outbound the NIC NSG then the subnet
//! NSG, inbound the subnet NSG then the NIC NSG; both must allow and the first deny stops. A
//! missing NSG passes. Traffic to 168.63.129.16 and 169.254.169.254 is filtered only by rules
//! naming the platform tags, and the VM agent's TCP 80 and 32526 to 168.63.129.16 not at all
//! (\[WIRE\]). Without any NSG, a Standard public IP is closed to the Internet.
//! When both NSGs allow, the rule reported is the allow of the NSG evaluated last (D10).

use super::tags::{is_internet, IMDS, WIRESERVER};
use super::{CompiledNsg, ExpandedRule};
use crate::flow::FiveTuple;
use vnetlab_model::{Access, Direction, NsgId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Subnet,
    Nic,
}

/// The rule one NSG matched.
#[derive(Debug, Clone, Copy)]
pub struct Verdict<'a> {
    pub level: Level,
    pub nsg: NsgId,
    pub rule: &'a ExpandedRule,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The rules decided.
    Rules,
    /// No NSG on the NIC or its subnet.
    NoNsg,
    /// Traffic to the platform addresses, not filtered unless a platform-tag rule matches.
    PlatformTraffic,
    /// Inbound from the Internet to a Standard public IP with no NSG allowing it.
    SecureByDefault,
}

#[derive(Debug, Clone)]
pub struct Decision<'a> {
    pub access: Access,
    /// The deny that stopped the packet, or per D10 the allow of the NSG evaluated last.
    pub rule: Option<Verdict<'a>>,
    /// Every NSG evaluated, in order, with the rule it matched.
    pub evaluated: Vec<Verdict<'a>>,
    pub reason: Reason,
}

/// The NSGs that filter one NIC's traffic.
#[derive(Debug, Clone, Copy)]
pub struct NicNsgs<'a> {
    pub nic: Option<&'a CompiledNsg>,
    pub subnet: Option<&'a CompiledNsg>,
    /// The NIC's address is behind a Standard public IP (or Standard load balancer).
    pub standard_public_ip: bool,
}

/// The VM agent's ports on WireServer: "not subject to the configured network security groups"
/// (\[WIRE\], docs/semantics/dataplane.md 1.5), so not even a rule naming AzurePlatformDNS filters them.
pub const VM_AGENT_PORTS: [u16; 2] = [80, 32526];

impl<'a> NicNsgs<'a> {
    /// The NSGs in the order Azure evaluates them for a direction.
    fn in_order(&self, direction: Direction) -> [(Level, Option<&'a CompiledNsg>); 2] {
        match direction {
            Direction::Outbound => [(Level::Nic, self.nic), (Level::Subnet, self.subnet)],
            Direction::Inbound => [(Level::Subnet, self.subnet), (Level::Nic, self.nic)],
        }
    }

    /// The associated NSGs with their level, NIC first (the order of the effective-rules list).
    pub fn associated(&self) -> impl Iterator<Item = (Level, &'a CompiledNsg)> {
        [(Level::Nic, self.nic), (Level::Subnet, self.subnet)]
            .into_iter()
            .filter_map(|(l, n)| n.map(|n| (l, n)))
    }

    pub fn evaluate(&self, direction: Direction, flow: &FiveTuple) -> Decision<'a> {
        let platform =
            direction == Direction::Outbound && (flow.dst == WIRESERVER || flow.dst == IMDS);
        let mut evaluated = Vec::new();
        if platform
            && flow.dst == WIRESERVER
            && flow.protocol == FiveTuple::TCP
            && VM_AGENT_PORTS.contains(&flow.dst_port)
        {
            return Decision {
                access: Access::Allow,
                rule: None,
                evaluated,
                reason: Reason::PlatformTraffic,
            };
        }
        for (level, nsg) in self.in_order(direction) {
            let Some(nsg) = nsg else { continue };
            let rules = nsg.direction(direction);
            let matched = if platform {
                rules
                    .rules
                    .iter()
                    .find(|r| r.names_platform_tag && r.spec.matches(flow))
            } else {
                rules.first_match(flow)
            };
            let Some(rule) = matched else { continue };
            let verdict = Verdict {
                level,
                nsg: nsg.nsg,
                rule,
            };
            evaluated.push(verdict);
            if rule.written.access == Access::Deny {
                return Decision {
                    access: Access::Deny,
                    rule: Some(verdict),
                    evaluated,
                    reason: Reason::Rules,
                };
            }
        }
        let reason = match (platform, self.nic.is_none() && self.subnet.is_none()) {
            (true, _) => Reason::PlatformTraffic,
            (false, true) => {
                let from_internet = is_internet(flow.src);
                if direction == Direction::Inbound && self.standard_public_ip && from_internet {
                    return Decision {
                        access: Access::Deny,
                        rule: None,
                        evaluated,
                        reason: Reason::SecureByDefault,
                    };
                }
                Reason::NoNsg
            }
            (false, false) => Reason::Rules,
        };
        Decision {
            access: Access::Allow,
            rule: evaluated.last().copied(),
            evaluated,
            reason,
        }
    }
}
