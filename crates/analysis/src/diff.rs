//! `vnetlab diff OLD NEW`: the flows whose verdict changes between two versions of a topology
//! (Trace issue, "Intents and diffs"): what a route or NSG change breaks or opens. Parties are
//! matched by name. The old version's matrices (one per probe) are kept in a `Baseline` with an
//! index from every resource to the cells whose traces depend on it; in the new version only
//! those cells are checked again. When only NSG rules changed, a cell is re-checked by asking
//! the changed NSGs its trace's recorded questions again; otherwise, or when an answer differs,
//! the flow is traced again, reusing the NSGs the old version compiled where nothing they depend
//! on changed. The changed cells are listed with the new trace.

use crate::dependencies;
use crate::reach::{self, matrix_for, parties, Cell, Matrix, Party};
use crate::trace::{probe_name, run, to_json, JsonTrace};
use crate::Analysis;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use vnetlab_engine::trace::{Probe, Verdict};
use vnetlab_model::{NicId, NsgId, SubnetId};

/// The probes a diff compares when none is given.
pub const DEFAULT_PROBES: [(u8, u16); 6] =
    [(6, 22), (6, 80), (6, 443), (6, 3389), (17, 53), (1, 0)];

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
    let base = Baseline::new(
        old,
        probes
            .iter()
            .map(|p| matrix_for(old, *p, old_parties.clone()))
            .collect(),
    );
    base.diff(old, new, parties(new), probes).0
}

/// A cell of the baseline: (probe, from party, to party).
type CellAt = (u32, u32, u32);

/// The old version's side of a diff, built once and kept with its matrices (one per probe):
/// its resources' fingerprints, and for every resource the cells whose traces depend on it
/// (through the shared dependency sets), so a diff finds the cells a change touches without
/// scanning the others.
pub struct Baseline {
    pub matrices: Vec<Matrix>,
    fingerprints: HashMap<String, u64>,
    /// Per resource key, the dependency sets that name it.
    sets_by_key: HashMap<String, Vec<u32>>,
    /// Per dependency set, the cells that depend on it.
    cells_by_set: Vec<Vec<CellAt>>,
}

impl Baseline {
    pub fn new(old: &Analysis, matrices: Vec<Matrix>) -> Baseline {
        let mut set_ids: HashMap<*const BTreeSet<String>, u32> = HashMap::new();
        let mut cells_by_set: Vec<Vec<CellAt>> = Vec::new();
        let mut sets_by_key: HashMap<String, Vec<u32>> = HashMap::new();
        for (p, m) in matrices.iter().enumerate() {
            for (i, row) in m.cells.iter().enumerate() {
                for (j, cell) in row.iter().enumerate() {
                    for set in cell.iter().flat_map(|c| &c.depends_on.0) {
                        let id = *set_ids.entry(Arc::as_ptr(set)).or_insert_with(|| {
                            let id = cells_by_set.len() as u32;
                            for key in set.iter() {
                                sets_by_key.entry(key.clone()).or_default().push(id);
                            }
                            cells_by_set.push(Vec::new());
                            id
                        });
                        cells_by_set[id as usize].push((p as u32, i as u32, j as u32));
                    }
                }
            }
        }
        Baseline {
            matrices,
            fingerprints: dependencies::fingerprints(old.topology),
            sets_by_key,
            cells_by_set,
        }
    }

    /// The cells whose traces depend on a changed resource (a cell may come more than once).
    fn touched<'s>(&'s self, changed: &'s HashSet<String>) -> impl Iterator<Item = CellAt> + 's {
        changed
            .iter()
            .flat_map(|k| self.sets_by_key.get(k).into_iter().flatten())
            .flat_map(|set| self.cells_by_set[*set as usize].iter().copied())
    }

    /// The changes between the old version this baseline was built from and a new one; also
    /// returns how many flows were traced again.
    pub fn diff(
        &self,
        old: &Analysis,
        new: &Analysis,
        parties_new: Vec<Party>,
        probes: &[Probe],
    ) -> (Vec<Change>, usize) {
        self.recheck(old, new, &self.changed(new), parties_new, probes)
    }

    /// The resources added, removed or changed in a new version.
    pub fn changed(&self, new: &Analysis) -> HashSet<String> {
        dependencies::changed(
            &self.fingerprints,
            &dependencies::fingerprints(new.topology),
        )
    }

    /// Re-checks what the changed resources touch: the cells whose traces depend on one, and
    /// the rows and columns of new or changed parties. Returns the changes and how many cells
    /// were re-checked.
    pub fn recheck(
        &self,
        old: &Analysis,
        new: &Analysis,
        changed: &HashSet<String>,
        parties_new: Vec<Party>,
        probes: &[Probe],
    ) -> (Vec<Change>, usize) {
        // Only NSG rules changed: what tags are made of did not, so an unchanged NSG compiles
        // and answers as before.
        let rules_only = changed
            .iter()
            .all(|k| k.contains("/networksecuritygroups/"));
        let nsg_changed: Vec<bool> = new
            .topology
            .nsgs
            .iter()
            .map(|g| changed.contains(&g.id.key()))
            .collect();
        // The NSGs the old version compiled are taken over before the first full trace (a
        // re-check that finds every answer unchanged needs none of them).
        let adopted = std::sync::Once::new();
        let adopt = || {
            adopted.call_once(|| {
                new.security.adopt(&old.security, |nsg, subnet| {
                    compiled_unchanged(old, new, changed, &nsg_changed, !rules_only, nsg, subnet)
                })
            })
        };
        let new_index: HashMap<&str, usize> = parties_new
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.as_str(), i))
            .collect();
        // Per probe, each old party's position in the new version.
        let old_to_new: Vec<Vec<Option<usize>>> = self
            .matrices
            .iter()
            .map(|m| {
                m.parties
                    .iter()
                    .map(|q| new_index.get(q.name.as_str()).copied())
                    .collect()
            })
            .collect();
        let mut pairs: BTreeSet<(usize, usize, usize)> = BTreeSet::new();
        // Cells a change touches, found through the index, in the new version's positions.
        for (p, i, j) in self.touched(changed) {
            let at = &old_to_new[p as usize];
            if let (Some(a), Some(b)) = (at[i as usize], at[j as usize]) {
                pairs.insert((p as usize, a, b));
            }
        }
        // The rows and columns of parties that are new or changed.
        let old_indices: Vec<HashMap<&str, usize>> = self
            .matrices
            .iter()
            .map(|m| {
                m.parties
                    .iter()
                    .enumerate()
                    .map(|(i, q)| (q.name.as_str(), i))
                    .collect()
            })
            .collect();
        for (p, old_index) in old_indices.iter().enumerate() {
            for (i, party) in parties_new.iter().enumerate() {
                if !old_index.contains_key(party.name.as_str()) || party.depends_on.touches(changed)
                {
                    pairs.extend((0..parties_new.len()).flat_map(|j| [(p, i, j), (p, j, i)]));
                }
            }
        }
        let old_cell = |p: usize, from: &Party, to: &Party| -> Option<&Cell> {
            let at = |name: &str| old_indices[p].get(name).copied();
            self.matrices[p].cells[at(&from.name)?][at(&to.name)?].as_ref()
        };
        // When only NSG rules changed, a cell whose NSG checks all answer as before keeps its
        // trace: the walk takes nothing else from NSGs. Only checks of NICs filtered by a
        // changed NSG are asked again. The checks name NICs by position, so the NIC must be the
        // same one in both versions.
        let t = new.topology;
        let filtered_by_changed = |nic: NicId| {
            let n = t.nic(nic);
            n.nsg
                .into_iter()
                .chain(t.subnet(n.primary_ip_configuration().subnet).nsg)
                .any(|g| nsg_changed[g.index()])
        };
        let answers_as_before = |cell: &Cell| {
            rules_only
                && cell.nsg_checks.iter().all(|c| {
                    let same_nic = old
                        .topology
                        .nics
                        .get(c.nic.index())
                        .zip(t.nics.get(c.nic.index()))
                        .is_some_and(|(o, n)| o.id == n.id);
                    same_nic
                        && (!filtered_by_changed(c.nic)
                            || new
                                .security
                                .nic(c.nic)
                                .evaluate(c.direction, &c.packet)
                                .access
                                == c.access)
                })
        };
        let pairs: Vec<_> = pairs
            .into_iter()
            .filter(|(_, i, j)| reach::traced(&parties_new[*i], &parties_new[*j]))
            .collect();
        let changes: Vec<Change> = pairs
            .par_iter()
            .filter_map(|(p, i, j)| {
                let (probe, from, to) = (probes[*p], &parties_new[*i], &parties_new[*j]);
                let old_cell = old_cell(*p, from, to);
                if old_cell.is_some_and(answers_as_before) {
                    return None;
                }
                adopt();
                let tr = reach::target(from, to).map(|dst| run(new, from.source, dst, probe));
                let verdict = tr.as_ref().map_or(Verdict::Dropped, |t| t.verdict());
                if old_cell.is_some_and(|c| c.verdict == verdict) {
                    return None;
                }
                let (protocol, port) = probe_name(probe);
                let tr = tr?;
                Some(Change {
                    from: from.name.clone(),
                    to: to.name.clone(),
                    protocol,
                    port,
                    before: old_cell.map_or("Absent", |c| c.verdict.as_str()),
                    after: verdict.as_str(),
                    reason_before: old_cell
                        .map_or("the endpoint is new".to_string(), |c| c.reason.to_string()),
                    reason_after: reach::reason(new, &tr),
                    trace: to_json(new.topology, &tr),
                })
            })
            .collect();
        (changes, pairs.len())
    }
}

/// Whether an NSG compiled for a subnet in the old version serves the new one unchanged: same
/// positions, the NSG unchanged, and (when what tags are made of changed) nothing the subnet's
/// tags are made of changed, and no changed NIC or ASG when the NSG's rules name ASGs (their
/// members are addresses).
fn compiled_unchanged(
    old: &Analysis,
    new: &Analysis,
    changed: &HashSet<String>,
    nsg_changed: &[bool],
    tags_changed: bool,
    nsg: NsgId,
    subnet: SubnetId,
) -> bool {
    let (o, n) = (old.topology, new.topology);
    let aligned = o.nsgs.get(nsg.index()).is_some_and(|g| g.id == n[nsg].id)
        && o.subnets
            .get(subnet.index())
            .is_some_and(|s| s.id == n[subnet].id);
    if !aligned || nsg_changed[nsg.index()] {
        return false;
    }
    if !tags_changed {
        return true;
    }
    let names_asgs = n[nsg]
        .rules
        .iter()
        .any(|r| !r.source_asgs.is_empty() || !r.destination_asgs.is_empty());
    let members_changed = changed
        .iter()
        .any(|k| k.contains("/networkinterfaces/") || k.contains("/applicationsecuritygroups/"));
    !new.dependencies()
        .subnet_set(subnet)
        .iter()
        .any(|k| changed.contains(k))
        && (!names_asgs || !members_changed)
}

pub fn to_text(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "No flow changes its verdict.\n".into();
    }
    let mut out = String::new();
    for c in changes {
        let port = c.port.map(|p| format!("/{p}")).unwrap_or_default();
        let what = if c.after == Verdict::Delivered.as_str() {
            "OPENED"
        } else {
            "BROKEN"
        };
        out += &format!(
            "{what} {} -> {} {}{}: {} -> {}\n  before: {}\n  after:  {}\n",
            c.from,
            c.to,
            c.protocol.to_ascii_lowercase(),
            port,
            c.before,
            c.after,
            c.reason_before,
            c.reason_after
        );
    }
    out += &format!("\n{} flows change their verdict\n", changes.len());
    out
}
