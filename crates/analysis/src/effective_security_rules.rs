//! `vnetlab nsg`: a NIC's effective security rules in the shape of
//! `az network nic list-effective-nsg` (docs/semantics/dataplane.md 2; \[SPEC\] NetworkInterfaceEffectiveNSGList)
//! and as the portal's Effective security rules blade. One element per associated NSG, rules
//! normalised as Azure does: `*` protocol is `All`, ports are ranges, `*` is `0.0.0.0/0`, and
//! tags and ASGs are expanded.

use crate::{table, Analysis};
use ipnet::Ipv4Net;
use serde::Serialize;
use vnetlab_engine::security::evaluate::Level;
use vnetlab_engine::security::ExpandedRule;
use vnetlab_model::{AddressPrefix, Direction, NicId};

#[derive(Serialize)]
pub struct IdRef {
    pub id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Association {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet: Option<IdRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_interface: Option<IdRef>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonRule {
    pub name: String,
    pub protocol: &'static str,
    pub source_port_range: Option<String>,
    pub destination_port_range: Option<String>,
    pub source_port_ranges: Vec<String>,
    pub destination_port_ranges: Vec<String>,
    pub source_address_prefix: Option<String>,
    pub destination_address_prefix: Option<String>,
    pub source_address_prefixes: Vec<String>,
    pub destination_address_prefixes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expanded_source_address_prefix: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expanded_destination_address_prefix: Option<Vec<String>>,
    pub access: &'static str,
    pub priority: u32,
    pub direction: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonNsg {
    pub network_security_group: IdRef,
    pub association: Association,
    pub effective_security_rules: Vec<JsonRule>,
}

#[derive(Serialize)]
pub struct JsonNsgList {
    pub value: Vec<JsonNsg>,
}

/// `*` is 0.0.0.0/0 and an address is a /32, as the effective rules print them.
fn prefix_text(p: &AddressPrefix) -> String {
    match p {
        AddressPrefix::Any => "0.0.0.0/0".into(),
        AddressPrefix::Cidr(net) => net.to_string(),
        other => other.to_string(),
    }
}

fn single(v: &[String]) -> Option<String> {
    (v.len() == 1).then(|| v[0].clone())
}

fn texts(v: &Option<Vec<Ipv4Net>>) -> Option<Vec<String>> {
    v.as_ref()
        .map(|list| list.iter().map(|n| n.to_string()).collect())
}

fn json_rule(e: &ExpandedRule) -> JsonRule {
    let r = &e.written;
    let src: Vec<String> = r.source.iter().map(prefix_text).collect();
    let dst: Vec<String> = r.destination.iter().map(prefix_text).collect();
    let sports: Vec<String> = r.source_ports.iter().map(|p| p.to_string()).collect();
    let dports: Vec<String> = r.destination_ports.iter().map(|p| p.to_string()).collect();
    JsonRule {
        name: e.name.clone(),
        protocol: r.protocol.effective_name(),
        source_port_range: single(&sports),
        destination_port_range: single(&dports),
        source_address_prefix: single(&src),
        destination_address_prefix: single(&dst),
        source_port_ranges: sports,
        destination_port_ranges: dports,
        source_address_prefixes: src,
        destination_address_prefixes: dst,
        expanded_source_address_prefix: texts(&e.expanded_source),
        expanded_destination_address_prefix: texts(&e.expanded_destination),
        access: r.access.as_str(),
        priority: r.priority,
        direction: r.direction.as_str(),
    }
}

pub fn to_json(a: &Analysis, nic: NicId) -> JsonNsgList {
    let sec = a.security.nic(nic);
    let t = a.topology;
    let n = t.nic(nic);
    let subnet = t.subnet(n.primary_ip_configuration().subnet);
    let value = sec
        .associated()
        .map(|(level, c)| JsonNsg {
            network_security_group: IdRef {
                id: t[c.nsg].id.to_string(),
            },
            association: match level {
                Level::Nic => Association {
                    subnet: None,
                    network_interface: Some(IdRef {
                        id: n.id.to_string(),
                    }),
                },
                Level::Subnet => Association {
                    subnet: Some(IdRef {
                        id: subnet.id.to_string(),
                    }),
                    network_interface: None,
                },
            },
            effective_security_rules: c
                .inbound
                .rules
                .iter()
                .chain(&c.outbound.rules)
                .map(json_rule)
                .collect(),
        })
        .collect();
    JsonNsgList { value }
}

/// The portal's blade: per NSG, inbound then outbound rules.
pub fn to_table(a: &Analysis, nic: NicId) -> String {
    let sec = a.security.nic(nic);
    let t = a.topology;
    let mut out = String::new();
    for (level, c) in sec.associated() {
        let at = match level {
            Level::Nic => "network interface",
            Level::Subnet => "subnet",
        };
        out += &format!(
            "Network security group {} (attached to the {at})\n",
            t[c.nsg].name
        );
        for d in [Direction::Inbound, Direction::Outbound] {
            out += &format!("\n{} rules\n", d.as_str());
            let rows: Vec<Vec<String>> = c
                .direction(d)
                .rules
                .iter()
                .map(|r| {
                    let j = json_rule(r);
                    let names = |prefixes: &[String], asgs: &[vnetlab_model::AsgId]| {
                        let mut v: Vec<String> = prefixes.to_vec();
                        v.extend(asgs.iter().map(|g| t[*g].name.clone()));
                        v.join(", ")
                    };
                    vec![
                        r.written.priority.to_string(),
                        r.written.name.clone(),
                        j.source_port_ranges.join(", "),
                        j.destination_port_ranges.join(", "),
                        j.protocol.to_string(),
                        names(&j.source_address_prefixes, &r.written.source_asgs),
                        names(&j.destination_address_prefixes, &r.written.destination_asgs),
                        j.access.to_string(),
                    ]
                })
                .collect();
            out += &table::render(
                &[
                    "Priority",
                    "Name",
                    "Source ports",
                    "Destination ports",
                    "Protocol",
                    "Source",
                    "Destination",
                    "Access",
                ],
                &rows,
            );
        }
        out += "\n";
    }
    if out.is_empty() {
        out = "No network security group is associated with this NIC or its subnet: all traffic is allowed\n(a Standard public IP stays closed to the Internet without one).\n".into();
    }
    out
}
