//! The NSG layer: a NIC's and its subnet's NSGs, or the state an allowed flow left for its reply
//! (NSGs are stateful; docs/semantics/dataplane.md §1.3-§1.5, §5.1 and §6.1 for the secure
//! default of a Standard public IP or load balancer).

use super::Walker;
use crate::flow::FiveTuple;
use crate::security::evaluate::{Decision as NsgDecision, Level, Reason};
use crate::security::tags::is_internet;
use crate::trace::{Decision, ResourceRef};
use crate::trace::{Layer, NsgCheck};
use vnetlab_model::{Access, Direction, NicId};

impl<'w> Walker<'w, '_> {
    /// The NSGs of a NIC in one direction (or the flow state, for a reply). `standard_lb`: the
    /// packet came through a Standard load balancer, closed to the Internet without an NSG.
    pub(super) fn nsg(
        &mut self,
        nic: NicId,
        direction: Direction,
        packet: FiveTuple,
        standard_lb: bool,
    ) {
        let layer = if direction == Direction::Outbound {
            Layer::NsgOutbound
        } else {
            Layer::NsgInbound
        };
        if self.stateful.is_some_and(|s| s.contains(&nic)) {
            self.hop(
                ResourceRef::Nic(nic),
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
                ResourceRef::Nsg(v.nsg),
                layer,
                Decision::NsgRule {
                    nsg: v.nsg,
                    rule: v.rule.name.clone(),
                },
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
                self.hop(ResourceRef::Nic(nic), layer, "Standard load balancer", "a Standard load balancer is closed to inbound traffic until an NSG allows it, and no NSG does", packet, false);
                return;
            }
            Reason::NoNsg => {
                self.hop(
                    ResourceRef::Nic(nic),
                    layer,
                    "no NSG",
                    "no NSG on the NIC or its subnet",
                    packet,
                    true,
                );
            }
            Reason::PlatformTraffic if decision.evaluated.is_empty() => {
                self.hop(
                    ResourceRef::Nic(nic),
                    layer,
                    "platform traffic",
                    "traffic to 168.63.129.16 / 169.254.169.254 is not filtered by NSGs",
                    packet,
                    true,
                );
            }
            Reason::SecureByDefault => {
                self.hop(ResourceRef::Nic(nic), layer, "Standard public IP", "a Standard public IP is closed to inbound traffic until an NSG allows it, and no NSG does", packet, false);
            }
            _ => {}
        }
        if decision.access == Access::Allow {
            self.allowed_at.insert(nic);
        }
    }

    /// Asks a NIC's NSGs, and notes the question and the answer.
    pub(super) fn evaluate_nsgs(
        &mut self,
        nic: NicId,
        direction: Direction,
        packet: FiveTuple,
    ) -> NsgDecision<'w> {
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

#[cfg(test)]
mod tests {
    use crate::trace::walk::testing::{at, tcp, Lab};
    use crate::trace::{Decision, Layer, ResourceRef, Verdict};

    const LAB: &str = "
vnets:
  vnet1:
    address_space: [10.0.0.0/16]
    subnets:
      web:
        prefix: 10.0.1.0/24
        nsg: nsg-subnet
        vms:
          web1: { ip: 10.0.1.4, nsg: nsg-web1 }
          web2: { ip: 10.0.1.5 }
nsgs:
  nsg-subnet:
    rules:
      - { name: allow-http, priority: 100, direction: Inbound, access: Allow, protocol: Tcp, destination_ports: '80' }
  nsg-web1:
    rules:
      - { name: deny-ssh, priority: 100, direction: Inbound, access: Deny, protocol: Tcp, destination_ports: '22' }
";

    #[test]
    fn inbound_the_subnet_nsg_then_the_nic_nsg_decide_and_a_deny_names_its_rule() {
        // docs/semantics/dataplane.md §1.4: inbound, the subnet's NSG then the NIC's; both
        // must allow. The subnet's default AllowVnetInBound lets SSH in, web1's NSG denies it.
        let lab = Lab::new(LAB);
        let tr = lab.trace("web2", "web1", tcp(22));
        let d = tr.forward.dropped_by().expect("dropped");
        let ResourceRef::Nsg(nsg) = d.resource else {
            panic!("an NSG: {d:?}")
        };
        assert_eq!(lab.t.nsgs[nsg.index()].name, "nsg-web1");
        assert_eq!(
            (d.layer, &d.decision),
            (
                Layer::NsgInbound,
                &Decision::NsgRule {
                    nsg,
                    rule: "securityRules/deny-ssh".into()
                }
            )
        );
    }

    #[test]
    fn the_reply_of_an_allowed_flow_passes_by_the_flow_state() {
        // docs/semantics/dataplane.md scenario 12: NSGs are stateful.
        let lab = Lab::new(LAB);
        let tr = lab.trace("web2", "web1", tcp(80));
        assert_eq!(tr.verdict(), Verdict::Delivered);
        let reply = tr.reply.expect("a reply");
        let hop = at(&reply, Layer::NsgOutbound);
        assert_eq!(
            (hop.resource, &hop.decision),
            (
                ResourceRef::Nic(lab.nic("web1")),
                &Decision::Setting("flow state")
            )
        );
    }
}
