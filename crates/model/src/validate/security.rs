//! Network security group rules (docs/semantics/dataplane.md 1.1, 1.7; NSGO, ASG, LIM): priorities 100-4096,
//! unique per direction; names of at most 80 word characters; known service tags; every rule
//! has a source, a destination and ports; at most 1,000 rules; an application security group
//! holds NICs of one VNet, and one rule's groups all belong to the same VNet.

use crate::diagnostic::Diagnostic;
use crate::ids::{AsgId, VnetId};
use crate::security::{AddressPrefix, Direction};
use crate::service_tags::ServiceTags;
use crate::topology::Topology;
use std::collections::HashMap;

pub const MIN_PRIORITY: u32 = 100;
pub const MAX_PRIORITY: u32 = 4096;
pub const MAX_RULES: usize = 1000;

/// The VNet of each application security group: the VNet of its first member NIC (ASG).
pub fn asg_vnets(t: &Topology, out: &mut Vec<Diagnostic>) -> HashMap<AsgId, VnetId> {
    let mut vnets: HashMap<AsgId, (VnetId, &str)> = HashMap::new();
    for nic in &t.nics {
        for (i, cfg) in nic.ip_configurations.iter().enumerate() {
            let vnet = t.subnet(cfg.subnet).vnet;
            for asg in &cfg.asgs {
                let (first, first_nic) = *vnets.entry(*asg).or_insert((vnet, &nic.name));
                if first != vnet {
                    out.push(
                        Diagnostic::error(&nic.origin, &format!("properties.ipConfigurations[{i}].properties.applicationSecurityGroups"), format!(
                            "application security group '{}' already holds NIC '{first_nic}' of VNet '{}'; this NIC is in VNet '{}'",
                            t[*asg].name, t.vnet(first).name, t.vnet(vnet).name))
                        .with_hint("all members of an application security group must be in the same VNet"),
                    );
                }
            }
        }
    }
    vnets
        .into_iter()
        .map(|(asg, (vnet, _))| (asg, vnet))
        .collect()
}

fn valid_name(name: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    name.chars().count() <= 80
        && name.chars().next().is_some_and(word)
        && name.chars().last().is_some_and(word)
        && name.chars().all(|c| word(c) || c == '.' || c == '-')
}

pub(super) fn check(t: &Topology, tags: &ServiceTags, out: &mut Vec<Diagnostic>) {
    let asg_vnet = asg_vnets(t, out);
    for nsg in &t.nsgs {
        if nsg.rules.len() > MAX_RULES {
            out.push(Diagnostic::error(
                &nsg.origin,
                "properties.securityRules",
                format!(
                    "{} rules; an NSG holds at most {MAX_RULES}",
                    nsg.rules.len()
                ),
            ));
        }
        let mut priorities: HashMap<(Direction, u32), &str> = HashMap::new();
        for rule in &nsg.rules {
            let o = &rule.origin;
            if !valid_name(&rule.name) {
                out.push(Diagnostic::error(o, "name", format!("'{}' is not a valid rule name", rule.name)).with_hint("up to 80 letters, digits, '_', '.' and '-', starting with a letter or digit and ending with a letter, digit or '_'"));
            }
            if !(MIN_PRIORITY..=MAX_PRIORITY).contains(&rule.priority) {
                out.push(
                    Diagnostic::error(
                        o,
                        "properties.priority",
                        format!(
                            "priority {} is outside {MIN_PRIORITY}-{MAX_PRIORITY}",
                            rule.priority
                        ),
                    )
                    .with_hint("65000 and above belong to the default rules"),
                );
            } else if let Some(other) =
                priorities.insert((rule.direction, rule.priority), &rule.name)
            {
                out.push(
                    Diagnostic::error(
                        o,
                        "properties.priority",
                        format!(
                            "priority {} is already used by {} rule '{other}'",
                            rule.priority,
                            rule.direction.as_str()
                        ),
                    )
                    .with_hint("each priority may appear once per direction in an NSG"),
                );
            }
            for (side, prefixes, asgs) in [
                ("source", &rule.source, &rule.source_asgs),
                ("destination", &rule.destination, &rule.destination_asgs),
            ] {
                if prefixes.is_empty() && asgs.is_empty() {
                    out.push(Diagnostic::error(o, &format!("properties.{side}AddressPrefix"), format!("the rule has no {side}: give an address prefix, a service tag, * or application security groups")));
                }
                for (i, p) in prefixes.iter().enumerate() {
                    if let AddressPrefix::Tag(tag) = p {
                        if !tags.is_known(tag) {
                            let path = if prefixes.len() == 1 {
                                format!("properties.{side}AddressPrefix")
                            } else {
                                format!("properties.{side}AddressPrefixes[{i}]")
                            };
                            out.push(Diagnostic::error(o, &path, format!("'{tag}' is not a known service tag")).with_hint("check the spelling (Storage, Storage.WestEurope, VirtualNetwork, Internet, AzureLoadBalancer, ...) or pass a newer --service-tags file"));
                        }
                    }
                }
            }
            for (side, ports) in [
                ("source", &rule.source_ports),
                ("destination", &rule.destination_ports),
            ] {
                if ports.is_empty() {
                    out.push(
                        Diagnostic::error(
                            o,
                            &format!("properties.{side}PortRange"),
                            format!("the rule has no {side} port range"),
                        )
                        .with_hint("use * for any port"),
                    );
                }
            }
            let vnets: Vec<(AsgId, VnetId)> = rule
                .source_asgs
                .iter()
                .chain(&rule.destination_asgs)
                .filter_map(|a| asg_vnet.get(a).map(|v| (*a, *v)))
                .collect();
            if let Some((a, b)) = vnets
                .iter()
                .zip(vnets.iter().skip(1))
                .find(|(a, b)| a.1 != b.1)
            {
                out.push(
                    Diagnostic::error(o, "properties.destinationApplicationSecurityGroups", format!(
                        "the rule's application security groups are in different VNets: '{}' in '{}', '{}' in '{}'",
                        t[a.0].name, t.vnet(a.1).name, t[b.0].name, t.vnet(b.1).name))
                    .with_hint("a rule's source and destination groups must belong to the same VNet"),
                );
            }
        }
    }
}
