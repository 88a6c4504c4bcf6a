//! `vnetlab trace`: the path of a packet hop by hop, with the rule, route or setting that
//! decided each step, every other setting that would also block it, and the reply's path
//! (Trace issue). JSON: `{"verdict": "Delivered"|"Dropped", "hops": [...], "droppedBy",
//! "otherBlockers", "returnPath": {"verdict", "hops", "droppedBy"}, "asymmetric"}`.

use crate::{table, Analysis, QueryError};
use serde::Serialize;
use std::net::Ipv4Addr;
use vnetlab_engine::flow::FiveTuple;
use vnetlab_engine::trace::endpoint::Endpoint;
use vnetlab_engine::trace::{
    Asymmetry, Decision, Fabric, Hop, Path, Probe, ResourceRef, RouteChoice, Trace,
};
use vnetlab_model::{NicId, Topology};

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

/// A hop's resource as Azure names it under its provider: `networkInterfaces/web1-nic`,
/// `virtualNetworks/hub/subnets/web`, `Internet`, ...
pub fn resource_name(t: &Topology, r: &ResourceRef) -> String {
    match *r {
        ResourceRef::Nic(n) => format!("networkInterfaces/{}", t.nic(n).name),
        ResourceRef::Nsg(n) => format!("networkSecurityGroups/{}", t.nsgs[n.index()].name),
        ResourceRef::RouteTable(rt) => format!("routeTables/{}", t.route_table(rt).name),
        ResourceRef::Subnet(s) => {
            let subnet = t.subnet(s);
            format!(
                "virtualNetworks/{}/subnets/{}",
                t.vnet(subnet.vnet).name,
                subnet.name
            )
        }
        ResourceRef::Vnet(v) => format!("virtualNetworks/{}", t.vnet(v).name),
        ResourceRef::Peering(p) => {
            let peering = &t.peerings[p.index()];
            format!(
                "virtualNetworks/{}/virtualNetworkPeerings/{}",
                t.vnet(peering.vnet).name,
                peering.name
            )
        }
        ResourceRef::LoadBalancer(lb) => {
            format!("loadBalancers/{}", t.load_balancers[lb.index()].name)
        }
        ResourceRef::PublicIp(p) => format!("publicIPAddresses/{}", t.public_ips[p.index()].name),
        ResourceRef::NatGateway(n) => format!("natGateways/{}", t.nat_gateways[n.index()].name),
        ResourceRef::Gateway(g) => format!("virtualNetworkGateways/{}", t.gateway(g).name),
        ResourceRef::Site(s) => {
            format!("localNetworkGateways/{}", t.local_gateways[s.index()].name)
        }
        ResourceRef::PrivateEndpoint(pe) => format!(
            "privateEndpoints/{}",
            pe.map_or("", |i| t.private_endpoints[i].name.as_str())
        ),
        ResourceRef::ServiceEndpoint => "service endpoint".into(),
        ResourceRef::Route => "route".into(),
        ResourceRef::Internet => "Internet".into(),
        ResourceRef::Host => "Azure platform".into(),
        ResourceRef::Address(ip) => ip.to_string(),
    }
}

/// `User 0.0.0.0/0 VirtualAppliance 10.0.2.4 (default-via-ids)`.
fn route_name(r: &RouteChoice) -> String {
    let ips: Vec<String> = r.next_hop_ips.iter().map(|i| i.to_string()).collect();
    let mut out = format!("{} {} {}", r.source.as_str(), r.prefix, r.next_hop_type);
    if !ips.is_empty() {
        out += &format!(" {}", ips.join(","));
    }
    if let Some(n) = &r.name {
        out += &format!(" ({n})");
    }
    out
}

/// What decided a hop: `securityRules/allow-ssh`, a route, `enableIPForwarding`, ...
pub fn decision_name(t: &Topology, d: &Decision) -> String {
    let lb = |l: vnetlab_model::LoadBalancerId| &t.load_balancers[l.index()];
    match d {
        Decision::None => String::new(),
        Decision::NsgRule { rule, .. } => rule.clone(),
        Decision::Route(r) => route_name(r),
        Decision::LoadBalancingRule { lb: l, rule } => {
            format!("loadBalancingRules/{}", lb(*l).rules[*rule].name)
        }
        Decision::InboundNatRule { lb: l, rule } => {
            format!("inboundNatRules/{}", lb(*l).inbound_nat_rules[*rule].name)
        }
        Decision::OutboundRule { lb: l, rule } => {
            format!("outboundRules/{}", lb(*l).outbound_rules[*rule].name)
        }
        Decision::Probe { lb: l, probe } => format!(
            "probes/{}",
            probe.map_or("", |p| lb(*l).probes[p].name.as_str())
        ),
        Decision::PublicIpSku(sku) => format!("{sku:?} public IP"),
        Decision::Site(s) => format!("localNetworkGateways/{}", t.local_gateways[s.index()].name),
        Decision::Gateway(g) => format!("virtualNetworkGateways/{}", t.gateway(*g).name),
        Decision::Setting(s) => s.to_string(),
    }
}

/// The warning for an asymmetric path (docs/semantics/routing.md §5.6).
pub fn asymmetry_text(t: &Topology, a: &Asymmetry) -> String {
    let names = |v: &[NicId]| {
        let mut n: Vec<&str> = v.iter().map(|i| t.nic(*i).name.as_str()).collect();
        n.sort();
        n.dedup();
        if n.is_empty() {
            "no appliance".to_string()
        } else {
            n.join(", ")
        }
    };
    let (there, back) = (names(&a.there), names(&a.back));
    match a.wrong_way {
        Some(public) if a.there != a.back => format!("asymmetric routing: the request passes {there} but the reply passes {back}; a stateful appliance drops what it did not see, and the reply does not leave by {public}, the address the client sent to, so the client drops it too (docs/semantics/routing.md 5.6)"),
        Some(public) => format!("asymmetric routing: the request came in on {public} but the reply goes to {}, not back out by {public}: the client drops a reply that does not come from the address it sent to (docs/semantics/routing.md 5.6)", a.reply_to.map(|r| resource_name(t, &r)).unwrap_or_default()),
        None => format!("asymmetric routing: the request passes {there} but the reply passes {back}; a stateful appliance drops what it did not see"),
    }
}

fn json_hop(t: &Topology, h: &Hop) -> JsonHop {
    let ports = vnetlab_model::Protocol::has_ports(h.packet.protocol);
    JsonHop {
        resource: resource_name(t, &h.resource),
        layer: h.layer.as_str(),
        decision: decision_name(t, &h.decision),
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

fn json_path(t: &Topology, p: &Path) -> JsonPath {
    let hop = |h| json_hop(t, h);
    JsonPath {
        verdict: p.verdict.as_str(),
        hops: p.hops.iter().map(hop).collect(),
        dropped_by: p.dropped_by().map(hop),
    }
}

pub fn to_json(t: &Topology, tr: &Trace) -> JsonTrace {
    let hop = |h| json_hop(t, h);
    JsonTrace {
        verdict: tr.verdict().as_str(),
        from: json_endpoint(tr.from),
        to: json_endpoint(tr.to),
        hops: tr.forward.hops.iter().map(hop).collect(),
        dropped_by: tr.forward.dropped_by().map(hop),
        other_blockers: tr.forward.other_blockers().map(hop).collect(),
        return_path: tr.reply.as_ref().map(|r| json_path(t, r)),
        asymmetric: tr.asymmetric.as_ref().map(|a| asymmetry_text(t, a)),
    }
}

fn hop_rows(t: &Topology, hops: &[Hop]) -> Vec<Vec<String>> {
    hops.iter()
        .enumerate()
        .map(|(i, h)| {
            vec![
                (i + 1).to_string(),
                if h.passed { "ok".into() } else { "DROP".into() },
                h.layer.as_str().to_string(),
                resource_name(t, &h.resource),
                decision_name(t, &h.decision),
                format!("{} -> {}", h.packet.src, h.packet.dst),
                h.detail.clone(),
            ]
        })
        .collect()
}

/// One hop as `resource (decision): detail`.
fn hop_line(t: &Topology, h: &Hop) -> String {
    format!(
        "{} ({}): {}",
        resource_name(t, &h.resource),
        decision_name(t, &h.decision),
        h.detail
    )
}

pub fn to_table(t: &Topology, tr: &Trace) -> String {
    let headers = ["#", "", "Layer", "Resource", "Decided by", "Packet", "Why"];
    let mut out = format!("Verdict: {}\n\n", tr.verdict().as_str());
    out += &table::render(&headers, &hop_rows(t, &tr.forward.hops));
    if let Some(d) = tr.forward.dropped_by() {
        out += &format!("\nDropped by {}\n", hop_line(t, d));
    }
    let others: Vec<&Hop> = tr.forward.other_blockers().collect();
    if !others.is_empty() {
        out += "Would also block this path:\n";
        for h in others {
            out += &format!("  - {}\n", hop_line(t, h));
        }
    }
    if let Some(r) = &tr.reply {
        out += &format!("\nReturn path: {}\n", r.verdict.as_str());
        out += &table::render(&headers, &hop_rows(t, &r.hops));
        if let Some(d) = r.dropped_by() {
            out += &format!("\nReply dropped by {}\n", hop_line(t, d));
        }
    }
    if let Some(a) = &tr.asymmetric {
        out += &format!("\nWarning: {}\n", asymmetry_text(t, a));
    }
    out
}
