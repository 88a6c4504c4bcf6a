//! Network security groups, their rules, and application security groups from the REST shape
//! (docs/semantics/dataplane.md 1.1; networkSecurityGroup.json). Rules are kept as written; the security
//! engine compiles them.

use super::{pick, Builder, Target};
use crate::value::Reader;
use vnetlab_model::ids::*;
use vnetlab_model::{
    Access, AddressPrefix, ApplicationSecurityGroup, Direction, NetworkSecurityGroup, PortRange,
    Protocol, SecurityRule,
};

pub(super) fn build_asgs(b: &mut Builder) {
    for raw in b
        .of_kind("microsoft.network/applicationsecuritygroups")
        .collect::<Vec<_>>()
    {
        let id = AsgId(b.topo.asgs.len() as u32);
        b.register(raw, Target::Asg(id));
        b.topo.asgs.push(ApplicationSecurityGroup {
            id: raw.id.clone(),
            name: raw.name.to_string(),
            origin: raw.origin("application security group"),
        });
    }
}

pub(super) fn build_nsgs(b: &mut Builder) {
    for raw in b
        .of_kind("microsoft.network/networksecuritygroups")
        .collect::<Vec<_>>()
    {
        let id = NsgId(b.topo.nsgs.len() as u32);
        b.register(raw, Target::Nsg(id));
        b.topo.nsgs.push(NetworkSecurityGroup {
            id: raw.id.clone(),
            name: raw.name.to_string(),
            rules: Vec::new(),
            origin: raw.origin("network security group"),
        });
    }
    for raw in b
        .of_kind("microsoft.network/networksecuritygroups/securityrules")
        .collect::<Vec<_>>()
    {
        let origin = raw.origin("security rule");
        let parent = raw.id.parent();
        let Some(nsg) = b.resolve(&origin, "id", &parent, "network security group", pick!(Nsg))
        else {
            continue;
        };
        let mut r = Reader::new(raw.object, &origin, &mut b.diags);
        let priority = r.u32("properties.priority");
        if priority.is_none() && r.get("properties.priority").is_none() {
            r.error(
                "properties.priority",
                "a security rule needs a priority (100-4096)",
            );
        }
        let direction = match r.required_str("properties.direction") {
            Some(s) if s.eq_ignore_ascii_case("inbound") => Some(Direction::Inbound),
            Some(s) if s.eq_ignore_ascii_case("outbound") => Some(Direction::Outbound),
            Some(s) => {
                r.error(
                    "properties.direction",
                    format!("direction must be Inbound or Outbound, not '{s}'"),
                );
                None
            }
            None => None,
        };
        let access = match r.required_str("properties.access") {
            Some(s) if s.eq_ignore_ascii_case("allow") => Some(Access::Allow),
            Some(s) if s.eq_ignore_ascii_case("deny") => Some(Access::Deny),
            Some(s) => {
                r.error(
                    "properties.access",
                    format!("access must be Allow or Deny, not '{s}'"),
                );
                None
            }
            None => None,
        };
        let protocol = match r.str("properties.protocol") {
            None => Some(Protocol::Any),
            Some(p) => Protocol::parse(p).or_else(|| {
                r.error("properties.protocol", format!("unknown protocol '{p}'"))
                    .hint = Some("use Tcp, Udp, Icmp, Esp, Ah or *".into());
                None
            }),
        };
        let source = typed(
            &mut r,
            "properties.sourceAddressPrefix",
            "properties.sourceAddressPrefixes",
            AddressPrefix::parse,
        );
        let destination = typed(
            &mut r,
            "properties.destinationAddressPrefix",
            "properties.destinationAddressPrefixes",
            AddressPrefix::parse,
        );
        let source_ports = typed(
            &mut r,
            "properties.sourcePortRange",
            "properties.sourcePortRanges",
            PortRange::parse,
        );
        let destination_ports = typed(
            &mut r,
            "properties.destinationPortRange",
            "properties.destinationPortRanges",
            PortRange::parse,
        );
        let asg_refs = |r: &mut Reader, key: &str| -> Vec<(String, String)> {
            r.array(key)
                .iter()
                .enumerate()
                .filter_map(|(i, v)| {
                    crate::value::at(v, "id")
                        .and_then(|v| v.as_str())
                        .map(|id| (format!("{key}[{i}].id"), id.to_string()))
                })
                .collect()
        };
        let src_asgs = asg_refs(&mut r, "properties.sourceApplicationSecurityGroups");
        let dst_asgs = asg_refs(&mut r, "properties.destinationApplicationSecurityGroups");
        let resolve_asgs = |b: &mut Builder, refs: Vec<(String, String)>| -> Vec<AsgId> {
            refs.iter()
                .filter_map(|(p, id)| {
                    b.resolve(&origin, p, id, "application security group", pick!(Asg))
                })
                .collect()
        };
        let source_asgs = resolve_asgs(b, src_asgs);
        let destination_asgs = resolve_asgs(b, dst_asgs);
        let (Some(priority), Some(direction), Some(access), Some(protocol)) =
            (priority, direction, access, protocol)
        else {
            continue;
        };
        b.topo[nsg].rules.push(SecurityRule {
            name: raw.short_name().to_string(),
            priority,
            direction,
            access,
            protocol,
            source,
            destination,
            source_ports,
            destination_ports,
            source_asgs,
            destination_asgs,
            origin,
        });
    }
}

/// Parses one entry of a rule field, or gives the error message and an optional hint.
type EntryParser<T> = fn(&str) -> Result<T, (String, Option<String>)>;

/// A rule field in its singular or plural form (augmented rules, NSGO), each entry parsed;
/// a bad entry is reported at its own path.
fn typed<T>(r: &mut Reader, single: &str, plural: &str, parse: EntryParser<T>) -> Vec<T> {
    let mut entries: Vec<(String, &str)> = r
        .str(single)
        .map(|s| (single.to_string(), s))
        .into_iter()
        .collect();
    entries.extend(
        r.strings(plural)
            .into_iter()
            .enumerate()
            .map(|(i, s)| (format!("{plural}[{i}]"), s)),
    );
    entries
        .into_iter()
        .filter_map(|(path, s)| match parse(s) {
            Ok(v) => Some(v),
            Err((msg, hint)) => {
                r.error(&path, msg).hint = hint;
                None
            }
        })
        .collect()
}
