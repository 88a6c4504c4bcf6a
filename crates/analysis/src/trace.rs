//! `vnetlab trace`: the path of a packet hop by hop, with the rule, route or setting that
//! decided each step, every other setting that would also block it, and the reply's path
//! (Trace issue). JSON: `{"verdict": "Delivered"|"Dropped", "hops": [...], "droppedBy",
//! "otherBlockers", "returnPath": {"verdict", "hops", "droppedBy"}, "asymmetric"}`.

use crate::{table, Analysis, QueryError};
use serde::Serialize;
use std::net::Ipv4Addr;
use vnetlab_engine::flow::FiveTuple;
use vnetlab_engine::trace::endpoint::Endpoint;
use vnetlab_engine::trace::{Fabric, Hop, Path, Probe, Trace};

/// `--from`/`--to`: a VM (its primary address) or an address.
pub fn endpoint_address(a: &Analysis, what: &str) -> Result<Ipv4Addr, QueryError> {
    if let Ok(ip) = what.parse() {
        return Ok(ip);
    }
    let t = a.topology;
    match t.find_vm(what) {
        Some(vm) => {
            let nic = t.vm(vm).nics.first().ok_or_else(|| QueryError {
                message: format!("VM '{what}' has no network interface"),
                hint: None,
            })?;
            Ok(t.nic(*nic).primary_ip_configuration().private_ip)
        }
        None => {
            let names: Vec<&str> = t.vms.iter().map(|v| v.name.as_str()).take(20).collect();
            Err(QueryError {
                message: format!("'{what}' is neither a VM nor an IPv4 address"),
                hint: Some(format!("VMs in this topology: {}", names.join(", "))),
            })
        }
    }
}

/// IP protocols a probe may name besides TCP, UDP and ICMP (docs/semantics/dataplane.md 4.4: ESP and AH are
/// carried; GRE and IP-in-IP are not).
const OTHER_PROTOCOLS: [(&str, u8); 4] = [("esp", 50), ("ah", 51), ("gre", 47), ("ipip", 4)];

/// Parses `--protocol` and `--port`: TCP and UDP default to port 443... as a browser would.
pub fn probe(protocol: &str, port: Option<u16>) -> Result<Probe, QueryError> {
    let protocol = match protocol.to_ascii_lowercase().as_str() {
        "tcp" => FiveTuple::TCP,
        "udp" => FiveTuple::UDP,
        "icmp" => FiveTuple::ICMP,
        other => match OTHER_PROTOCOLS.iter().find(|(n, _)| *n == other) {
            Some((_, number)) => *number,
            None => {
                return Err(QueryError {
                    message: format!("unknown protocol '{other}'"),
                    hint: Some("use tcp, udp, icmp, esp, ah, gre or ipip".into()),
                })
            }
        },
    };
    Ok(Probe {
        protocol,
        port: port.unwrap_or(443),
    })
}

/// The probe as the outputs name it: protocol, and the port for TCP and UDP.
pub fn probe_name(p: Probe) -> (&'static str, Option<u16>) {
    (
        protocol_name(p.protocol),
        vnetlab_model::Protocol::has_ports(p.protocol).then_some(p.port),
    )
}

pub fn run(a: &Analysis, from: Ipv4Addr, to: Ipv4Addr, probe: Probe) -> Trace {
    Fabric {
        topology: a.topology,
        routes: &a.routes,
        security: &a.security,
        addresses: &a.addresses,
    }
    .trace(from, to, probe)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonPacket {
    pub source: String,
    pub destination: String,
    pub protocol: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_port: Option<u16>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonHop {
    pub resource: String,
    pub layer: &'static str,
    pub decision: String,
    pub detail: String,
    pub action: &'static str,
    pub packet: JsonPacket,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonPath {
    pub verdict: &'static str,
    pub hops: Vec<JsonHop>,
    pub dropped_by: Option<JsonHop>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonEndpoint {
    pub address: String,
    pub kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonTrace {
    pub verdict: &'static str,
    pub from: JsonEndpoint,
    pub to: JsonEndpoint,
    pub hops: Vec<JsonHop>,
    pub dropped_by: Option<JsonHop>,
    pub other_blockers: Vec<JsonHop>,
    pub return_path: Option<JsonPath>,
    pub asymmetric: Option<String>,
}

fn protocol_name(p: u8) -> &'static str {
    match p {
        FiveTuple::TCP => "Tcp",
        FiveTuple::UDP => "Udp",
        FiveTuple::ICMP => "Icmp",
        50 => "Esp",
        51 => "Ah",
        47 => "Gre",
        4 => "IpInIp",
        _ => "Other",
    }
}

fn json_hop(h: &Hop) -> JsonHop {
    let ports = vnetlab_model::Protocol::has_ports(h.packet.protocol);
    JsonHop {
        resource: h.resource.clone(),
        layer: h.layer.as_str(),
        decision: h.decision.clone(),
        detail: h.detail.clone(),
        action: if h.passed { "Pass" } else { "Drop" },
        packet: JsonPacket {
            source: h.packet.src.to_string(),
            destination: h.packet.dst.to_string(),
            protocol: protocol_name(h.packet.protocol),
            source_port: ports.then_some(h.packet.src_port),
            destination_port: ports.then_some(h.packet.dst_port),
        },
    }
}

fn json_endpoint(e: Endpoint) -> JsonEndpoint {
    let kind = match e {
        Endpoint::Nic { .. } => "VirtualMachine",
        Endpoint::PublicIp { .. } => "PublicIp",
        Endpoint::LoadBalancer { .. } => "LoadBalancer",
        Endpoint::OnPremises { .. } => "OnPremises",
        Endpoint::Platform(_) => "AzurePlatform",
        Endpoint::Internet(_) => "Internet",
        Endpoint::Unowned(_) => "Unowned",
    };
    JsonEndpoint {
        address: e.ip().to_string(),
        kind,
    }
}

fn json_path(p: &Path) -> JsonPath {
    JsonPath {
        verdict: p.verdict.as_str(),
        hops: p.hops.iter().map(json_hop).collect(),
        dropped_by: p.dropped_by().map(json_hop),
    }
}

pub fn to_json(tr: &Trace) -> JsonTrace {
    JsonTrace {
        verdict: tr.verdict().as_str(),
        from: json_endpoint(tr.from),
        to: json_endpoint(tr.to),
        hops: tr.forward.hops.iter().map(json_hop).collect(),
        dropped_by: tr.forward.dropped_by().map(json_hop),
        other_blockers: tr.forward.other_blockers().map(json_hop).collect(),
        return_path: tr.reply.as_ref().map(json_path),
        asymmetric: tr.asymmetric.clone(),
    }
}

fn hop_rows(hops: &[Hop]) -> Vec<Vec<String>> {
    hops.iter()
        .enumerate()
        .map(|(i, h)| {
            vec![
                (i + 1).to_string(),
                if h.passed { "ok".into() } else { "DROP".into() },
                h.layer.as_str().to_string(),
                h.resource.clone(),
                h.decision.clone(),
                format!("{} -> {}", h.packet.src, h.packet.dst),
                h.detail.clone(),
            ]
        })
        .collect()
}

pub fn to_table(tr: &Trace) -> String {
    let headers = ["#", "", "Layer", "Resource", "Decided by", "Packet", "Why"];
    let mut out = format!("Verdict: {}\n\n", tr.verdict().as_str());
    out += &table::render(&headers, &hop_rows(&tr.forward.hops));
    if let Some(d) = tr.forward.dropped_by() {
        out += &format!(
            "\nDropped by {} ({}): {}\n",
            d.resource, d.decision, d.detail
        );
    }
    let others: Vec<&Hop> = tr.forward.other_blockers().collect();
    if !others.is_empty() {
        out += "Would also block this path:\n";
        for h in others {
            out += &format!("  - {} ({}): {}\n", h.resource, h.decision, h.detail);
        }
    }
    if let Some(r) = &tr.reply {
        out += &format!("\nReturn path: {}\n", r.verdict.as_str());
        out += &table::render(&headers, &hop_rows(&r.hops));
        if let Some(d) = r.dropped_by() {
            out += &format!(
                "\nReply dropped by {} ({}): {}\n",
                d.resource, d.decision, d.detail
            );
        }
    }
    if let Some(a) = &tr.asymmetric {
        out += &format!("\nWarning: {a}\n");
    }
    out
}
