//! What a trace's verdict depends on, and what changed between two versions of a topology, so a
//! diff re-traces only the flows a change can touch (Trace issue: "Unchanged parts are not
//! recomputed"). A trace depends on every resource its hops name and, for every subnet it was
//! routed in or arrived at, on what that subnet's routes and NSG tags are made of: the subnet,
//! its VNet and route table, the peered VNets, and the gateways, connections and sites it uses.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};
use vnetlab_engine::routes::gateway::serving_vnet;
use vnetlab_engine::trace::Trace;
use vnetlab_model::{ConnectionKind, SubnetId, Topology};

/// What a trace depends on: sets of resource ID keys (lower-cased), shared between traces (a
/// subnet's set is built once).
#[derive(Debug, Clone, Default)]
pub struct Dependencies(pub Vec<KeySet>);

impl Dependencies {
    pub fn of(keys: impl IntoIterator<Item = String>) -> Dependencies {
        Dependencies(vec![Arc::new(keys.into_iter().collect())])
    }

    /// Whether any changed resource is among these.
    pub fn touches(&self, changed: &HashSet<String>) -> bool {
        changed
            .iter()
            .any(|c| self.0.iter().any(|set| set.contains(c)))
    }
}

fn subnet_dependencies(t: &Topology, s: SubnetId, out: &mut BTreeSet<String>) {
    let subnet = t.subnet(s);
    out.insert(subnet.id.key());
    let vnet = t.vnet(subnet.vnet);
    out.insert(vnet.id.key());
    for id in [
        subnet.route_table.map(|r| t.route_table(r).id.key()),
        subnet.nsg.map(|n| t[n].id.key()),
        subnet.nat_gateway.map(|n| t[n].id.key()),
    ]
    .into_iter()
    .flatten()
    {
        out.insert(id);
    }
    for p in vnet.peerings.iter().map(|p| &t[*p]) {
        out.insert(p.id.key());
        out.insert(t.vnet(p.remote).id.key());
    }
    if let Some(owner) = serving_vnet(t, subnet.vnet) {
        out.insert(t.vnet(owner).id.key());
        for g in t.gateways_in(owner) {
            out.insert(t.gateway(g).id.key());
            for c in t.connections.iter().filter(|c| c.gateway == g) {
                out.insert(c.id.key());
                if let ConnectionKind::IPsec { local_gateway } = c.kind {
                    out.insert(t[local_gateway].id.key());
                }
            }
        }
    }
}

/// A shared set of resource keys.
pub type KeySet = Arc<BTreeSet<String>>;

/// Looks up the resources a trace's hops name, and each subnet's and NIC's dependencies, once:
/// every trace's dependencies are made of these shared sets, so a diff can index them.
pub struct DependencyIndex<'t> {
    t: &'t Topology,
    subnets: Vec<OnceLock<KeySet>>,
    nics: Vec<OnceLock<KeySet>>,
    subnets_by_vnet: HashMap<&'t str, Vec<SubnetId>>,
    nics_by_name: HashMap<&'t str, Vec<usize>>,
    others_by_name: HashMap<&'t str, KeySet>,
}

impl<'t> DependencyIndex<'t> {
    pub fn new(t: &'t Topology) -> Self {
        let mut subnets_by_vnet: HashMap<&str, Vec<SubnetId>> = HashMap::new();
        for (i, s) in t.subnets.iter().enumerate() {
            subnets_by_vnet
                .entry(t.vnet(s.vnet).name.as_str())
                .or_default()
                .push(SubnetId(i as u32));
        }
        let mut nics_by_name: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, n) in t.nics.iter().enumerate() {
            nics_by_name.entry(n.name.as_str()).or_default().push(i);
        }
        let mut others: HashMap<&str, BTreeSet<String>> = HashMap::new();
        let all = t
            .route_tables
            .iter()
            .map(|r| (&r.name, &r.id))
            .chain(t.nsgs.iter().map(|r| (&r.name, &r.id)))
            .chain(t.gateways.iter().map(|r| (&r.name, &r.id)))
            .chain(t.local_gateways.iter().map(|r| (&r.name, &r.id)))
            .chain(t.public_ips.iter().map(|r| (&r.name, &r.id)))
            .chain(t.nat_gateways.iter().map(|r| (&r.name, &r.id)))
            .chain(t.load_balancers.iter().map(|r| (&r.name, &r.id)));
        for (name, id) in all {
            others.entry(name.as_str()).or_default().insert(id.key());
        }
        let others_by_name = others.into_iter().map(|(k, v)| (k, Arc::new(v))).collect();
        let cells = |n: usize| (0..n).map(|_| OnceLock::new()).collect();
        DependencyIndex {
            t,
            subnets: cells(t.subnets.len()),
            nics: cells(t.nics.len()),
            subnets_by_vnet,
            nics_by_name,
            others_by_name,
        }
    }

    /// Everything a subnet's routes and NSG tags are made of.
    pub fn subnet_set(&self, s: SubnetId) -> KeySet {
        self.subnets[s.index()]
            .get_or_init(|| {
                let mut set = BTreeSet::new();
                subnet_dependencies(self.t, s, &mut set);
                Arc::new(set)
            })
            .clone()
    }

    /// A NIC, its NSG and its public IPs.
    fn nic_set(&self, i: usize) -> KeySet {
        self.nics[i]
            .get_or_init(|| {
                let (t, n) = (self.t, &self.t.nics[i]);
                let mut set = BTreeSet::from([n.id.key()]);
                set.extend(n.nsg.map(|g| t[g].id.key()));
                set.extend(
                    n.ip_configurations
                        .iter()
                        .filter_map(|c| c.public_ip)
                        .map(|p| t[p].id.key()),
                );
                Arc::new(set)
            })
            .clone()
    }

    /// The resources a trace's verdict depends on.
    pub fn of_trace(&self, tr: &Trace) -> Dependencies {
        let t = self.t;
        let mut sets: Vec<KeySet> = Vec::new();
        let mut add = |set: KeySet| {
            if !sets.iter().any(|s| Arc::ptr_eq(s, &set)) {
                sets.push(set);
            }
        };
        for hop in tr
            .forward
            .hops
            .iter()
            .chain(tr.reply.iter().flat_map(|r| r.hops.iter()))
        {
            let Some((kind, rest)) = hop.resource.split_once('/') else {
                continue;
            };
            let name = rest.split('/').next().unwrap_or_default();
            match kind {
                "networkInterfaces" => {
                    for i in self.nics_by_name.get(name).into_iter().flatten() {
                        add(self.nic_set(*i));
                        for cfg in &t.nics[*i].ip_configurations {
                            add(self.subnet_set(cfg.subnet));
                        }
                    }
                }
                "virtualNetworks" => {
                    let subnet = rest.split("/subnets/").nth(1);
                    for s in self.subnets_by_vnet.get(name).into_iter().flatten() {
                        if subnet.is_none_or(|n| n == t.subnet(*s).name) {
                            add(self.subnet_set(*s));
                        }
                    }
                }
                _ => {
                    if let Some(set) = self.others_by_name.get(name) {
                        add(set.clone());
                    }
                }
            }
        }
        Dependencies(sets)
    }
}

fn fingerprint<T: Hash>(v: &T) -> u64 {
    // Origins (where a resource was written) hash to nothing: moving one is not a change.
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// A fingerprint of every resource, by ID key. References are indices, so inserting a resource
/// can change others' fingerprints: that re-traces more, never less.
pub fn fingerprints(t: &Topology) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    macro_rules! add {
        ($($list:ident),*) => {$(
            for r in &t.$list {
                out.insert(r.id.key(), fingerprint(r));
            }
        )*};
    }
    add!(
        vnets,
        subnets,
        peerings,
        nics,
        vms,
        route_tables,
        nsgs,
        asgs,
        public_ips,
        gateways,
        local_gateways,
        connections,
        nat_gateways,
        load_balancers
    );
    out
}

/// The resources added, removed or changed between two versions.
pub fn changed(old: &HashMap<String, u64>, new: &HashMap<String, u64>) -> HashSet<String> {
    let mut out: HashSet<String> = old
        .iter()
        .filter(|(k, v)| new.get(*k) != Some(v))
        .map(|(k, _)| k.clone())
        .collect();
    out.extend(new.keys().filter(|k| !old.contains_key(*k)).cloned());
    out
}
