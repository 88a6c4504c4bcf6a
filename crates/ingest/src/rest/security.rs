//! Network security groups, their rules, and application security groups from the REST shape
//! (dataplane.md 1.1; networkSecurityGroup.json). Rules are kept as written; the security
//! engine compiles them.

use super::{pick, Builder, Target};
use crate::value::Reader;
use vnetlab_model::ids::*;
use vnetlab_model::{Access, ApplicationSecurityGroup, Direction, NetworkSecurityGroup, SecurityRule};

pub(super) fn build_asgs(b: &mut Builder) {
    for raw in b.of_kind("microsoft.network/applicationsecuritygroups").collect::<Vec<_>>() {
        let id = AsgId(b.topo.asgs.len() as u32);
        b.register(raw, Target::Asg(id));
        b.topo.asgs.push(ApplicationSecurityGroup { id: raw.id.clone(), name: raw.name.clone(), origin: raw.origin("application security group") });
    }
}

pub(super) fn build_nsgs(b: &mut Builder) {
    for raw in b.of_kind("microsoft.network/networksecuritygroups").collect::<Vec<_>>() {
        let id = NsgId(b.topo.nsgs.len() as u32);
        b.register(raw, Target::Nsg(id));
        b.topo.nsgs.push(NetworkSecurityGroup { id: raw.id.clone(), name: raw.name.clone(), rules: Vec::new(), origin: raw.origin("network security group") });
    }
    for raw in b.of_kind("microsoft.network/networksecuritygroups/securityrules").collect::<Vec<_>>() {
        let origin = raw.origin("security rule");
        let parent = raw.id.parent();
        let Some(nsg) = b.resolve(&origin, "id", &parent, "network security group", pick!(Nsg)) else { continue };
        let mut r = Reader::new(raw.object, &origin, &mut b.diags);
        let priority = r.u32("properties.priority");
        if priority.is_none() && r.get("properties.priority").is_none() {
            r.error("properties.priority", "a security rule needs a priority (100-4096)");
        }
        let direction = match r.required_str("properties.direction") {
            Some(s) if s.eq_ignore_ascii_case("inbound") => Some(Direction::Inbound),
            Some(s) if s.eq_ignore_ascii_case("outbound") => Some(Direction::Outbound),
            Some(s) => {
                r.error("properties.direction", format!("direction must be Inbound or Outbound, not '{s}'"));
                None
            }
            None => None,
        };
        let access = match r.required_str("properties.access") {
            Some(s) if s.eq_ignore_ascii_case("allow") => Some(Access::Allow),
            Some(s) if s.eq_ignore_ascii_case("deny") => Some(Access::Deny),
            Some(s) => {
                r.error("properties.access", format!("access must be Allow or Deny, not '{s}'"));
                None
            }
            None => None,
        };
        let protocol = r.str("properties.protocol").unwrap_or("*").to_string();
        let mut field = |single: &str, plural: &str| -> Vec<String> {
            let mut v: Vec<String> = r.str(single).map(str::to_string).into_iter().collect();
            v.extend(r.strings(plural).into_iter().map(str::to_string));
            v
        };
        let source_address_prefixes = field("properties.sourceAddressPrefix", "properties.sourceAddressPrefixes");
        let destination_address_prefixes = field("properties.destinationAddressPrefix", "properties.destinationAddressPrefixes");
        let source_port_ranges = field("properties.sourcePortRange", "properties.sourcePortRanges");
        let destination_port_ranges = field("properties.destinationPortRange", "properties.destinationPortRanges");
        let asg_refs = |r: &mut Reader, key: &str| -> Vec<(String, String)> {
            r.array(key).iter().enumerate().filter_map(|(i, v)| crate::value::at(v, "id").and_then(|v| v.as_str()).map(|id| (format!("{key}[{i}].id"), id.to_string()))).collect()
        };
        let src_asgs = asg_refs(&mut r, "properties.sourceApplicationSecurityGroups");
        let dst_asgs = asg_refs(&mut r, "properties.destinationApplicationSecurityGroups");
        let resolve_asgs = |b: &mut Builder, refs: Vec<(String, String)>| -> Vec<AsgId> {
            refs.iter().filter_map(|(p, id)| b.resolve(&origin, p, id, "application security group", pick!(Asg))).collect()
        };
        let source_asgs = resolve_asgs(b, src_asgs);
        let destination_asgs = resolve_asgs(b, dst_asgs);
        let (Some(priority), Some(direction), Some(access)) = (priority, direction, access) else { continue };
        b.topo.nsgs[nsg.index()].rules.push(SecurityRule {
            name: raw.short_name().to_string(),
            priority,
            direction,
            access,
            protocol,
            source_address_prefixes,
            destination_address_prefixes,
            source_port_ranges,
            destination_port_ranges,
            source_asgs,
            destination_asgs,
            origin,
        });
    }
}
