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
use vnetlab_engine::trace::{ResourceRef, Trace};
use vnetlab_model::{
    ConnectionKind, GatewayId, LoadBalancerId, LocalGatewayId, NatGatewayId, NicId, NsgId,
    PublicIpId, ResourceId, RouteTableId, SubnetId, Topology,
};

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
    /// The other resources a hop can name, each its own key.
    others: HashMap<ResourceRef, KeySet>,
}

impl<'t> DependencyIndex<'t> {
    pub fn new(t: &'t Topology) -> Self {
        let one = |id: &ResourceId| Arc::new(BTreeSet::from([id.key()]));
        let mut others = HashMap::new();
        macro_rules! index {
            ($($list:ident => $variant:ident($id:ident)),*) => {$(
                for (i, r) in t.$list.iter().enumerate() {
                    others.insert(ResourceRef::$variant($id(i as u32)), one(&r.id));
                }
            )*};
        }
        index!(
            route_tables => RouteTable(RouteTableId),
            nsgs => Nsg(NsgId),
            gateways => Gateway(GatewayId),
            local_gateways => Site(LocalGatewayId),
            public_ips => PublicIp(PublicIpId),
            nat_gateways => NatGateway(NatGatewayId),
            load_balancers => LoadBalancer(LoadBalancerId)
        );
        let cells = |n: usize| (0..n).map(|_| OnceLock::new()).collect();
        DependencyIndex {
            t,
            subnets: cells(t.subnets.len()),
            nics: cells(t.nics.len()),
            others,
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
    fn nic_set(&self, nic: NicId) -> KeySet {
        self.nics[nic.index()]
            .get_or_init(|| {
                let (t, n) = (self.t, self.t.nic(nic));
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
            // A VNet (or a peering it holds) stands for every subnet in it.
            let vnet = match hop.resource {
                ResourceRef::Vnet(v) => Some(v),
                ResourceRef::Peering(p) => Some(t[p].vnet),
                _ => None,
            };
            match hop.resource {
                ResourceRef::Nic(n) => {
                    add(self.nic_set(n));
                    for cfg in &t.nic(n).ip_configurations {
                        add(self.subnet_set(cfg.subnet));
                    }
                }
                ResourceRef::Subnet(s) => add(self.subnet_set(s)),
                _ if vnet.is_some() => {
                    for s in vnet.iter().flat_map(|v| &t.vnet(*v).subnets) {
                        add(self.subnet_set(*s));
                    }
                }
                r => {
                    if let Some(set) = self.others.get(&r) {
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
