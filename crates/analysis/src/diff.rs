//! `vnetlab diff OLD NEW`: the flows whose verdict changes between two versions of a topology
//! (Trace issue, "Intents and diffs"): what a route or NSG change breaks or opens. Parties are
//! matched by name; each probe's matrix is computed for the old version, and in the new one only
//! the flows whose traces depend on a changed resource are traced again, reusing the NSGs the old
//! version compiled where nothing they depend on changed. The changed cells are listed with the
//! new trace.

use crate::dependencies::{self, Dependencies};
use crate::reach::{self, matrix_for, parties, Cell, Matrix, Party};
use rayon::prelude::*;
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use vnetlab_model::{NsgId, SubnetId};
use crate::trace::{probe_name, run, to_json, JsonTrace};
use crate::Analysis;
use serde::Serialize;
use std::collections::HashMap;
use vnetlab_engine::trace::{Probe, Verdict};

/// The probes a diff compares when none is given.
pub const DEFAULT_PROBES: [(u8, u16); 6] = [(6, 22), (6, 80), (6, 443), (6, 3389), (17, 53), (1, 0)];

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub from: String,
    pub to: String,
    pub protocol: &'static str,
    pub port: Option<u16>,
    pub before: &'static str,
    pub after: &'static str,
    pub reason_before: String,
    pub reason_after: String,
    pub trace: JsonTrace,
}

pub fn diff(old: &Analysis, new: &Analysis, probes: &[Probe]) -> Vec<Change> {
    let old_parties = parties(old);
    let before: Vec<Matrix> = probes.iter().map(|p| matrix_for(old, *p, old_parties.clone())).collect();
    diff_from(&before, old, &dependencies::fingerprints(old.topology), new, parties(new), probes).0
}

/// Whether an NSG compiled for a subnet in the old version serves the new one unchanged: same
/// positions, the NSG and everything the subnet's tags are made of unchanged, and no changed
/// NIC or ASG when the NSG's rules name ASGs (their members are addresses).
fn compiled_unchanged(old: &Analysis, new: &Analysis, changed: &HashSet<String>, nsg: NsgId, subnet: SubnetId) -> bool {
    let (o, n) = (old.topology, new.topology);
    let aligned = o.nsgs.get(nsg.index()).is_some_and(|g| g.id == n.nsgs[nsg.index()].id) && o.subnets.get(subnet.index()).is_some_and(|s| s.id == n.subnets[subnet.index()].id);
    let names_asgs = n.nsgs[nsg.index()].rules.iter().any(|r| !r.source_asgs.is_empty() || !r.destination_asgs.is_empty());
    let members_changed = changed.iter().any(|k| k.contains("/networkinterfaces/") || k.contains("/applicationsecuritygroups/"));
    aligned && !changed.contains(&n.nsgs[nsg.index()].id.key()) && !new.dependencies().subnet_set(subnet).iter().any(|k| changed.contains(k)) && !(names_asgs && members_changed)
}

/// The changes given the old matrices (one per probe), the old analysis and its fingerprints;
/// also returns how many flows were traced again. Only cells whose dependencies (or parties)
/// changed are traced in the new version; a dependency set is checked once however many cells
/// share it.
pub fn diff_from(before: &[Matrix], old: &Analysis, old_fingerprints: &HashMap<String, u64>, new: &Analysis, parties_new: Vec<Party>, probes: &[Probe]) -> (Vec<Change>, usize) {
    let changed = dependencies::changed(old_fingerprints, &dependencies::fingerprints(new.topology));
    new.security.adopt(&old.security, |nsg, subnet| compiled_unchanged(old, new, &changed, nsg, subnet));
    let mut touched: HashMap<*const BTreeSet<String>, bool> = HashMap::new();
    let mut touches = |d: &Dependencies| d.0.iter().any(|set| *touched.entry(Arc::as_ptr(set)).or_insert_with(|| changed.iter().any(|c| set.contains(c))));
    let mut out = Vec::new();
    let mut traced = 0;
    for (p, before) in probes.iter().zip(before) {
        let old_index: HashMap<&str, usize> = before.parties.iter().enumerate().map(|(i, p)| (p.name.as_str(), i)).collect();
        // The pairs to trace again: new parties, changed parties, and cells a change touches.
        let mut pairs: Vec<(usize, usize, Option<Cell>)> = Vec::new();
        let party_changed: Vec<bool> = parties_new.iter().map(|party| old_index.get(party.name.as_str()).is_none() || touches(&party.depends_on)).collect();
        for (i, from) in parties_new.iter().enumerate() {
            for (j, to) in parties_new.iter().enumerate() {
                if !reach::traced(from, to) {
                    continue;
                }
                let old_cell = old_index.get(from.name.as_str()).zip(old_index.get(to.name.as_str())).and_then(|(a, b)| before.cells[*a][*b].as_ref());
                match old_cell {
                    Some(cell) if !party_changed[i] && !party_changed[j] && !touches(&cell.depends_on) => {}
                    _ => pairs.push((i, j, old_cell.cloned())),
                }
            }
        }
        traced += pairs.len();
        let results: Vec<Option<Change>> = pairs
            .par_iter()
            .map(|(i, j, old_cell)| {
                let (from, to) = (&parties_new[*i], &parties_new[*j]);
                let tr = reach::target(from, to).map(|dst| run(new, from.source, dst, *p));
                let verdict = tr.as_ref().map_or(Verdict::Dropped, |t| t.verdict());
                if old_cell.as_ref().is_some_and(|c| c.verdict == verdict) {
                    return None;
                }
                let (protocol, port) = probe_name(*p);
                let tr = tr?;
                Some(Change {
                    from: from.name.clone(),
                    to: to.name.clone(),
                    protocol,
                    port,
                    before: old_cell.as_ref().map_or("Absent", |c| c.verdict.as_str()),
                    after: verdict.as_str(),
                    reason_before: old_cell.as_ref().map_or("the endpoint is new".to_string(), |c| c.reason.to_string()),
                    reason_after: reach::reason(new, &tr),
                    trace: to_json(&tr),
                })
            })
            .collect();
        out.extend(results.into_iter().flatten());
    }
    (out, traced)
}

pub fn to_text(changes: &[Change]) -> String {    if changes.is_empty() {
        return "No flow changes its verdict.\n".into();
    }
    let mut out = String::new();
    for c in changes {
        let port = c.port.map(|p| format!("/{p}")).unwrap_or_default();
        let what = if c.after == Verdict::Delivered.as_str() { "OPENED" } else { "BROKEN" };
        out += &format!("{what} {} -> {} {}{}: {} -> {}\n  before: {}\n  after:  {}\n", c.from, c.to, c.protocol.to_ascii_lowercase(), port, c.before, c.after, c.reason_before, c.reason_after);
    }
    out += &format!("\n{} flows change their verdict\n", changes.len());
    out
}
