//! `vnetlab check`: each intent's flows are traced and the statement checked (Trace issue,
//! "Intents and diffs"): `expect` (every flow delivered, or none), `must_pass` (every delivered
//! flow passes an appliance), `only` (delivered on the listed protocols and ports, on no other).
//! A violation comes with its trace.

use crate::reach::{representative, INTERNET_HOST};
use crate::trace::{probe, probe_name, run, to_json, JsonTrace};
use crate::{Analysis, QueryError};
use ipnet::Ipv4Net;
use serde::Serialize;
use std::net::Ipv4Addr;
use vnetlab_engine::trace::{Probe, Trace, Verdict};
use vnetlab_model::intent::{Expect, Intent};
use vnetlab_model::Topology;

/// The ports `only` checks besides the listed ones: the services people expose by mistake.
const OTHER_PROBES: [&str; 10] = [
    "tcp/22", "tcp/80", "tcp/443", "tcp/1433", "tcp/3389", "tcp/5985", "tcp/8080", "udp/53",
    "udp/161", "icmp",
];

/// A selector's parties: (name, address it sends from, address others reach it at).
fn select(
    a: &Analysis,
    what: &str,
    as_destination: bool,
) -> Result<Vec<(String, Ipv4Addr)>, QueryError> {
    let t = a.topology;
    let vm_address = |vm: &vnetlab_model::VirtualMachine| {
        vm.nics
            .first()
            .map(|n| t.nic(*n).primary_ip_configuration().private_ip)
    };
    let lower = what.to_ascii_lowercase();
    if lower == "internet" {
        return Ok(vec![("Internet".into(), INTERNET_HOST)]);
    }
    if lower == "any" || lower == "*" {
        return Ok(t
            .vms
            .iter()
            .filter_map(|v| vm_address(v).map(|ip| (v.name.clone(), ip)))
            .collect());
    }
    if let Some(vm) = t.find_vm(what) {
        let v = t.vm(vm);
        return Ok(vm_address(v)
            .map(|ip| (v.name.clone(), ip))
            .into_iter()
            .collect());
    }
    let in_subnets = |keep: &dyn Fn(vnetlab_model::SubnetId) -> bool| -> Vec<(String, Ipv4Addr)> {
        t.vms
            .iter()
            .filter_map(|v| {
                let nic = t.nic(*v.nics.first()?);
                let cfg = nic.primary_ip_configuration();
                keep(cfg.subnet).then(|| (v.name.clone(), cfg.private_ip))
            })
            .collect()
    };
    if let Some((vnet, subnet)) = what
        .split_once('/')
        .filter(|(_, s)| !s.chars().all(|c| c.is_ascii_digit()))
    {
        return Ok(in_subnets(&|s| {
            t.subnet(s).name == subnet && t.vnet(t.subnet(s).vnet).name == vnet
        }));
    }
    if t.vnets.iter().any(|v| v.name == what) {
        return Ok(in_subnets(&|s| t.vnet(t.subnet(s).vnet).name == what));
    }
    if let Some(lng) = t.local_gateways.iter().find(|l| l.name == what) {
        if let Some(p) = lng
            .address_prefixes
            .iter()
            .chain(&lng.bgp_advertised)
            .next()
        {
            return Ok(vec![(lng.name.clone(), representative(*p))]);
        }
    }
    if let Ok(net) = what.parse::<Ipv4Net>() {
        return Ok(vec![(what.to_string(), representative(net))]);
    }
    if let Ok(ip) = what.parse::<Ipv4Addr>() {
        return Ok(vec![(what.to_string(), ip)]);
    }
    let side = if as_destination { "to" } else { "from" };
    Err(QueryError { message: format!("intent {side} '{what}' names nothing in the topology"), hint: Some("use a VM, a VNet, vnet/subnet, a site (local network gateway), internet, any, an address or a CIDR".into()) })
}

/// The address a flow to a party targets: from the Internet, a VM's public IP.
fn target(a: &Analysis, from: Ipv4Addr, to: Ipv4Addr) -> Ipv4Addr {
    if from != INTERNET_HOST {
        return to;
    }
    let t = a.topology;
    t.nics
        .iter()
        .flat_map(|n| &n.ip_configurations)
        .find(|c| c.private_ip == to)
        .and_then(|c| c.public_ip)
        .map(|p| t[p].address)
        .unwrap_or(to)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    pub from: String,
    pub to: String,
    pub protocol: &'static str,
    pub port: Option<u16>,
    pub problem: String,
    pub trace: JsonTrace,
    #[serde(skip)]
    pub table: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Checked {
    pub name: String,
    pub passed: bool,
    pub flows: usize,
    pub violations: Vec<Violation>,
}

fn violation(
    t: &Topology,
    from: &str,
    to: &str,
    p: Probe,
    problem: String,
    tr: &Trace,
) -> Violation {
    let (protocol, port) = probe_name(p);
    Violation {
        from: from.to_string(),
        to: to.to_string(),
        protocol,
        port,
        problem,
        trace: to_json(t, tr),
        table: crate::trace::to_table(t, tr),
    }
}

fn parse_probe(s: &str) -> Result<Probe, QueryError> {
    match s.split_once('/') {
        Some((proto, port)) => probe(
            proto,
            Some(port.parse().map_err(|_| QueryError {
                message: format!("'{s}' has no valid port"),
                hint: Some("write tcp/443, udp/53 or icmp".into()),
            })?),
        ),
        None => probe(s, None),
    }
}

pub fn check(a: &Analysis, intent: &Intent, index: usize) -> Result<Checked, QueryError> {
    let t = a.topology;
    let name = intent
        .name
        .clone()
        .unwrap_or_else(|| format!("intent {} ({} -> {})", index + 1, intent.from, intent.to));
    let sources = select(a, &intent.from, false)?;
    let destinations = select(a, &intent.to, true)?;
    let base = probe(intent.protocol.as_deref().unwrap_or("tcp"), intent.port)?;
    let appliance = match &intent.must_pass {
        Some(vm) => {
            let id = t.find_vm(vm).ok_or_else(|| QueryError {
                message: format!("must_pass names no VM: '{vm}'"),
                hint: None,
            })?;
            Some(t.vm(id).nics.clone())
        }
        None => None,
    };
    let only: Vec<Probe> = intent
        .only
        .iter()
        .flatten()
        .map(|s| parse_probe(s))
        .collect::<Result<_, _>>()?;
    let mut flows = 0;
    let mut violations = Vec::new();
    for (from_name, from) in &sources {
        for (to_name, to) in &destinations {
            if from_name == to_name {
                continue;
            }
            let dst = target(a, *from, *to);
            let mut probes: Vec<(Probe, Option<bool>)> =
                vec![(base, intent.expect.map(|e| e == Expect::Allow))];
            if !only.is_empty() {
                probes = only.iter().map(|p| (*p, Some(true))).collect();
                for other in OTHER_PROBES
                    .iter()
                    .map(|s| parse_probe(s).expect("constant"))
                {
                    if !only.iter().any(|p| {
                        p.protocol == other.protocol
                            && (p.port == other.port
                                || !vnetlab_model::Protocol::has_ports(p.protocol))
                    }) {
                        probes.push((other, Some(false)));
                    }
                }
            }
            for (p, want_delivered) in probes {
                flows += 1;
                let tr = run(a, *from, dst, p);
                let delivered = tr.verdict() == Verdict::Delivered;
                if let Some(want) = want_delivered {
                    if want != delivered {
                        let problem = if want {
                            "expected to be delivered, but it is dropped".to_string()
                        } else {
                            "expected to be blocked, but it is delivered".to_string()
                        };
                        violations.push(violation(t, from_name, to_name, p, problem, &tr));
                        continue;
                    }
                }
                if let (Some(nics), true) = (&appliance, delivered) {
                    if !tr.forward.appliances.iter().any(|n| nics.contains(n)) {
                        let problem = format!(
                            "delivered without passing {}",
                            intent.must_pass.as_deref().unwrap_or_default()
                        );
                        violations.push(violation(t, from_name, to_name, p, problem, &tr));
                    }
                }
            }
        }
    }
    Ok(Checked {
        name,
        passed: violations.is_empty(),
        flows,
        violations,
    })
}

pub fn to_text(results: &[Checked]) -> String {
    let mut out = String::new();
    for r in results {
        out += &format!(
            "{} {} ({} flows)\n",
            if r.passed { "PASS" } else { "FAIL" },
            r.name,
            r.flows
        );
        for v in &r.violations {
            let port = v.port.map(|p| format!("/{p}")).unwrap_or_default();
            out += &format!(
                "  {} -> {} {}{}: {}\n",
                v.from,
                v.to,
                v.protocol.to_ascii_lowercase(),
                port,
                v.problem
            );
            for line in v.table.lines() {
                out += &format!("    {line}\n");
            }
        }
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    out += &format!(
        "\n{} intents, {} passed, {} failed\n",
        results.len(),
        results.len() - failed,
        failed
    );
    out
}
