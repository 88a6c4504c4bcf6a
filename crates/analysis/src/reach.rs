//! `vnetlab reach`: the reachability matrix between every VM, every on-premises site and the
//! Internet (Trace issue), each cell the verdict of a trace with its deciding reason. Endpoints
//! that behave alike are grouped first (same subnet, NSG, application security groups, IP
//! forwarding and public IP, and the same written prefixes covering their address), and one
//! trace is run per pair of groups: the matrix costs classes², not VMs².

use crate::dependencies::Dependencies;
use crate::trace::{asymmetry_text, decision_name, resource_name, run};
use crate::{table, Analysis};
use ipnet::Ipv4Net;
use prefix_trie::PrefixMap;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use vnetlab_engine::trace::{NsgCheck, Probe, Trace, Verdict};
use vnetlab_model::{AddressPrefix, NicId, RoutePrefix};

/// The representative Internet host of the matrix (D15: documentation range).
pub const INTERNET_HOST: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);

/// One row or column of the matrix.
#[derive(Debug, Clone)]
pub struct Party {
    pub name: String,
    /// The address it sends from.
    pub source: Ipv4Addr,
    /// The address others reach it at: a VM's private address (its public IP from the Internet).
    pub target: Ipv4Addr,
    pub public: Option<Ipv4Addr>,
    pub kind: PartyKind,
    /// Parties with the same class behave the same.
    pub class: usize,
    /// The party's own resources (its NIC), for a diff.
    pub depends_on: Dependencies,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartyKind {
    Vm(NicId),
    Site,
    Internet,
}

/// A host inside a prefix: its tenth address (the network itself for /31 and /32).
pub fn representative(p: Ipv4Net) -> Ipv4Addr {
    if p.prefix_len() >= 31 {
        return p.network();
    }
    Ipv4Addr::from(u32::from(p.network()) + 10.min((1u32 << (32 - p.prefix_len())) - 2))
}

/// The parties: VMs in input order, then sites, then the Internet.
pub fn parties(a: &Analysis) -> Vec<Party> {
    let t = a.topology;
    // Written prefixes whose coverage can set two addresses of a subnet apart.
    let mut written: Vec<Ipv4Net> = Vec::new();
    for nsg in &t.nsgs {
        for r in &nsg.rules {
            written.extend(
                r.source
                    .iter()
                    .chain(&r.destination)
                    .filter_map(|p| match p {
                        AddressPrefix::Cidr(n) => Some(*n),
                        _ => None,
                    }),
            );
        }
    }
    for rt in &t.route_tables {
        written.extend(rt.routes.iter().filter_map(|r| match r.prefix {
            RoutePrefix::Cidr(n) => Some(n),
            RoutePrefix::ServiceTag(_) => None,
        }));
    }
    let written: PrefixMap<Ipv4Net, usize> = written
        .into_iter()
        .enumerate()
        .map(|(i, p)| (p, i))
        .collect();
    let mut classes: HashMap<String, usize> = HashMap::new();
    let mut class_of = |key: String| {
        let n = classes.len();
        *classes.entry(key).or_insert(n)
    };
    let mut out = Vec::new();
    for vm in &t.vms {
        let Some(nic) = vm.nics.first().copied() else {
            continue;
        };
        let n = t.nic(nic);
        let cfg = n.primary_ip_configuration();
        let public = cfg.public_ip.map(|p| t[p].address);
        let mut covering: Vec<usize> = written
            .cover(&Ipv4Net::new(cfg.private_ip, 32).expect("/32"))
            .map(|(_, i)| *i)
            .collect();
        covering.sort_unstable();
        let mut asgs = cfg.asgs.clone();
        asgs.sort();
        let pip_sku = cfg
            .public_ip
            .map(|p| t[p].sku == vnetlab_model::PublicIpSku::Standard);
        let pools = cfg.backend_pools.clone();
        let key = format!(
            "vm {:?} {:?} {:?} {} {:?} {:?} {:?} {}",
            cfg.subnet,
            n.nsg,
            asgs,
            n.enable_ip_forwarding,
            pip_sku,
            covering,
            pools,
            vm.nics.len()
        );
        let depends_on = Dependencies::of(
            [n.id.key(), vm.id.key()]
                .into_iter()
                .chain(cfg.public_ip.map(|p| t[p].id.key())),
        );
        out.push(Party {
            name: vm.name.clone(),
            source: cfg.private_ip,
            target: cfg.private_ip,
            public,
            kind: PartyKind::Vm(nic),
            class: class_of(key),
            depends_on,
        });
    }
    for (i, lng) in t.local_gateways.iter().enumerate() {
        let Some(prefix) = lng
            .address_prefixes
            .iter()
            .chain(&lng.bgp_advertised)
            .next()
        else {
            continue;
        };
        // A host inside the site's first prefix.
        let host = representative(*prefix);
        out.push(Party {
            name: lng.name.clone(),
            source: host,
            target: host,
            public: None,
            kind: PartyKind::Site,
            class: class_of(format!("site {i}")),
            depends_on: Dependencies::of([lng.id.key()]),
        });
    }
    out.push(Party {
        name: "Internet".into(),
        source: INTERNET_HOST,
        target: INTERNET_HOST,
        public: None,
        kind: PartyKind::Internet,
        class: class_of("internet".into()),
        depends_on: Dependencies::default(),
    });
    out
}

/// One cell: the verdict, the reason, and what the trace behind it depends on.
#[derive(Debug, Clone)]
pub struct Cell {
    pub verdict: Verdict,
    /// Shared: many cells of a matrix carry the same reason.
    pub reason: Arc<str>,
    pub depends_on: Dependencies,
    /// The NSG checks of the trace behind it (none for a cell decided without a trace).
    pub nsg_checks: Arc<[NsgCheck]>,
}

/// Why a trace ended as it did, in one line.
pub fn reason(a: &Analysis, tr: &Trace) -> String {
    if let Some(d) = tr.forward.dropped_by() {
        return format!(
            "{}: {}",
            decision_name(a.topology, &d.decision),
            resource_name(a.topology, &d.resource)
        );
    }
    if let Some(asym) = &tr.asymmetric {
        return asymmetry_text(a.topology, asym);
    }
    if let Some(d) = tr.reply.as_ref().and_then(|r| r.dropped_by()) {
        return format!(
            "reply dropped by {}: {}",
            decision_name(a.topology, &d.decision),
            resource_name(a.topology, &d.resource)
        );
    }
    let via: Vec<&str> = tr
        .forward
        .appliances
        .iter()
        .map(|n| a.topology.nic(*n).name.as_str())
        .collect();
    if via.is_empty() {
        "delivered".into()
    } else {
        format!("delivered via {}", via.join(", "))
    }
}

/// Whether a pair is traced at all: the Internet and sites reach VMs only; a party never
/// reaches itself.
pub fn traced(from: &Party, to: &Party) -> bool {
    let vm = |p: &Party| matches!(p.kind, PartyKind::Vm(_));
    from.name != to.name && (vm(from) || vm(to))
}

/// The address a pair's trace targets: a VM is reached from the Internet at its public IP.
pub fn target(from: &Party, to: &Party) -> Option<Ipv4Addr> {
    match (from.kind, to.kind) {
        (PartyKind::Internet, PartyKind::Vm(_)) => to.public,
        _ => Some(to.target),
    }
}

pub struct Matrix {
    pub parties: Vec<Party>,
    /// `cells[i][j]`: from party i to party j (None on the diagonal and between non-VMs).
    pub cells: Vec<Vec<Option<Cell>>>,
    pub traces_run: usize,
}

pub fn matrix(a: &Analysis, probe: Probe) -> Matrix {
    matrix_for(a, probe, parties(a))
}

/// The matrix between given parties.
pub fn matrix_for(a: &Analysis, probe: Probe, parties: Vec<Party>) -> Matrix {
    enum Pending {
        Done(Option<Cell>),
        /// The index of the class pair to trace.
        Trace(usize),
    }
    // First the cells that need no trace, and one trace per pair of classes for the others.
    let mut keys: HashMap<(usize, usize, bool), usize> = HashMap::new();
    let mut to_trace: Vec<(usize, usize)> = Vec::new();
    let pending: Vec<Vec<Pending>> = parties
        .iter()
        .enumerate()
        .map(|(i, from)| {
            parties
                .iter()
                .enumerate()
                .map(|(j, to)| {
                    if !traced(from, to) {
                        return Pending::Done(None);
                    }
                    if target(from, to).is_none() {
                        let depends_on = to.depends_on.clone();
                        return Pending::Done(Some(Cell {
                            verdict: Verdict::Dropped,
                            reason: format!(
                                "{} has no public IP: the Internet cannot reach it",
                                to.name
                            )
                            .into(),
                            depends_on,
                            nsg_checks: Arc::new([]),
                        }));
                    }
                    // Same-class pairs need their own trace (a class may reach itself or not).
                    let key = (from.class, to.class, from.class == to.class);
                    let n = to_trace.len();
                    let k = *keys.entry(key).or_insert(n);
                    if k == n {
                        to_trace.push((i, j));
                    }
                    Pending::Trace(k)
                })
                .collect()
        })
        .collect();
    // The traces are independent: run them on every core.
    let traced_cells: Vec<Cell> = to_trace
        .par_iter()
        .map(|(i, j)| {
            let (from, to) = (&parties[*i], &parties[*j]);
            let dst = target(from, to).expect("checked above");
            let tr = run(a, from.source, dst, probe);
            Cell {
                verdict: tr.verdict(),
                reason: reason(a, &tr).into(),
                depends_on: a.dependencies().of_trace(&tr),
                nsg_checks: tr.nsg_checks().copied().collect(),
            }
        })
        .collect();
    let cells = pending
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|p| match p {
                    Pending::Done(cell) => cell,
                    Pending::Trace(k) => Some(traced_cells[k].clone()),
                })
                .collect()
        })
        .collect();
    Matrix {
        parties,
        cells,
        traces_run: to_trace.len(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonCell {
    pub from: String,
    pub to: String,
    pub verdict: &'static str,
    pub reason: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonMatrix {
    pub protocol: &'static str,
    pub port: Option<u16>,
    pub parties: Vec<String>,
    pub cells: Vec<JsonCell>,
}

pub fn to_json(m: &Matrix, probe: Probe) -> JsonMatrix {
    let mut cells = Vec::new();
    for (i, row) in m.cells.iter().enumerate() {
        for (j, c) in row.iter().enumerate() {
            if let Some(c) = c {
                cells.push(JsonCell {
                    from: m.parties[i].name.clone(),
                    to: m.parties[j].name.clone(),
                    verdict: c.verdict.as_str(),
                    reason: c.reason.to_string(),
                });
            }
        }
    }
    let (protocol, port) = crate::trace::probe_name(probe);
    JsonMatrix {
        protocol,
        port,
        parties: m.parties.iter().map(|p| p.name.clone()).collect(),
        cells,
    }
}

pub fn to_table(m: &Matrix) -> String {
    let mut headers: Vec<&str> = vec!["from \\ to"];
    headers.extend(m.parties.iter().map(|p| p.name.as_str()));
    let rows: Vec<Vec<String>> = m
        .cells
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut r = vec![m.parties[i].name.clone()];
            r.extend(row.iter().map(|c| match c {
                None => "-".to_string(),
                Some(c) if c.verdict == Verdict::Delivered => "yes".to_string(),
                Some(_) => "NO".to_string(),
            }));
            r
        })
        .collect();
    let mut out = table::render(&headers, &rows);
    out += "\nReasons:\n";
    for (i, row) in m.cells.iter().enumerate() {
        for (j, c) in row.iter().enumerate() {
            if let Some(c) = c {
                out += &format!(
                    "  {} -> {}: {} ({})\n",
                    m.parties[i].name,
                    m.parties[j].name,
                    c.verdict.as_str(),
                    c.reason
                );
            }
        }
    }
    out += &format!(
        "\n{} traces for {} cells ({} classes of endpoints)\n",
        m.traces_run,
        m.cells.iter().flatten().filter(|c| c.is_some()).count(),
        m.parties.iter().map(|p| p.class).max().map_or(0, |c| c + 1)
    );
    out
}
