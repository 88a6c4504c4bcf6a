//! `vnetlab diff OLD NEW`: the flows whose verdict changes between two versions of a topology
//! (Trace issue, "Intents and diffs"): what a route or NSG change breaks or opens. Parties are
//! matched by name; each probe's matrix is computed for the old version, and for the new one only
//! the flows whose traces depend on a changed resource are traced again (the rest are reused).
//! The changed cells are listed with the new trace.

use crate::dependencies::{self, Dependencies};
use crate::reach::{matrix, matrix_reusing, parties, Matrix, Party};
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
    let before: Vec<Matrix> = probes.iter().map(|p| matrix(old, *p)).collect();
    diff_from(&before, &dependencies::fingerprints(old.topology), new, probes).0
}

/// The changes given the old matrices (one per probe) and fingerprints; also returns how many
/// traces the new version needed.
pub fn diff_from(before: &[Matrix], old_fingerprints: &HashMap<String, u64>, new: &Analysis, probes: &[Probe]) -> (Vec<Change>, usize) {
    let changed = dependencies::changed(old_fingerprints, &dependencies::fingerprints(new.topology));
    let mut out = Vec::new();
    let mut traced = 0;
    for (p, before) in probes.iter().zip(before) {
        let index = |parties: &[Party]| parties.iter().enumerate().map(|(i, p)| (p.name.clone(), i)).collect::<HashMap<_, _>>();
        let old_index = index(&before.parties);
        let untouched = |deps: &Dependencies| !deps.touches(&changed);
        let after = matrix_reusing(new, *p, parties(new), |from, to| {
            if !untouched(&from.depends_on) || !untouched(&to.depends_on) {
                return None;
            }
            let cell = before.cells[*old_index.get(&from.name)?][*old_index.get(&to.name)?].clone()?;
            untouched(&cell.depends_on).then_some(cell)
        });
        traced += after.traces_run;
        for (i, row) in after.cells.iter().enumerate() {
            for (j, cell) in row.iter().enumerate() {
                let Some(cell) = cell else { continue };
                let (from, to) = (&after.parties[i], &after.parties[j]);
                let previous = old_index.get(&from.name).zip(old_index.get(&to.name)).and_then(|(a, b)| before.cells[*a][*b].clone());
                let (was, why_before) = match &previous {
                    Some(c) => (c.verdict.as_str(), c.reason.to_string()),
                    None => ("Absent", "the endpoint is new".to_string()),
                };
                if previous.as_ref().is_some_and(|c| c.verdict == cell.verdict) {
                    continue;
                }
                let Some(dst) = crate::reach::target(from, to) else { continue };
                let (protocol, port) = probe_name(*p);
                out.push(Change {
                    from: from.name.clone(),
                    to: to.name.clone(),
                    protocol,
                    port,
                    before: was,
                    after: cell.verdict.as_str(),
                    reason_before: why_before,
                    reason_after: cell.reason.to_string(),
                    trace: to_json(&run(new, from.source, dst, *p)),
                });
            }
        }
    }
    (out, traced)
}

pub fn to_text(changes: &[Change]) -> String {
    if changes.is_empty() {
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
