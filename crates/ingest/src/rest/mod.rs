//! REST / `az` export input: Azure's resource JSON turned into the model.

pub mod document;
mod gateway;
mod interface;
mod load_balancer;
mod network;
mod private_endpoint;
mod public_ip;
mod routing;
mod security;

use document::{RawResource, MODELLED};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use vnetlab_model::ids::*;
use vnetlab_model::{Diagnostic, Origin, Topology};

/// A resolved reference target.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    Vnet(VnetId),
    Subnet(SubnetId),
    RouteTable(RouteTableId),
    Nsg(NsgId),
    Asg(AsgId),
    PublicIp(PublicIpId),
    Gateway(GatewayId),
    LocalGateway(LocalGatewayId),
    NatGateway(NatGatewayId),
    LoadBalancer(LoadBalancerId),
    Nic(NicId),
    Other(&'static str),
}

impl Target {
    fn describe(self) -> &'static str {
        match self {
            Target::Vnet(_) => "virtual network",
            Target::Subnet(_) => "subnet",
            Target::RouteTable(_) => "route table",
            Target::Nsg(_) => "network security group",
            Target::Asg(_) => "application security group",
            Target::PublicIp(_) => "public IP address",
            Target::Gateway(_) => "virtual network gateway",
            Target::LocalGateway(_) => "local network gateway",
            Target::NatGateway(_) => "NAT gateway",
            Target::LoadBalancer(_) => "load balancer",
            Target::Nic(_) => "network interface",
            Target::Other(kind) => kind,
        }
    }
}

/// A `resolve` picker for one kind of target: `pick!(Subnet)`.
macro_rules! pick {
    ($variant:ident) => {
        |t| match t {
            crate::rest::Target::$variant(x) => Some(x),
            _ => None,
        }
    };
}
pub(crate) use pick;

pub(crate) struct Builder<'a> {
    pub raws: &'a [RawResource<'a>],
    pub topo: Topology,
    pub diags: Vec<Diagnostic>,
    /// Case-insensitive hash of an ID -> the first raw resource with that hash; `next_same`
    /// chains the others (an index without an allocation per resource).
    ids: HashMap<u64, usize, BuildHasherDefault<PassThrough>>,
    next_same: Vec<Option<usize>>,
    /// What each raw resource became, by input position.
    targets: Vec<Option<Target>>,
    /// Raw resources by kind (an index into MODELLED).
    by_kind: Vec<Vec<usize>>,
    /// Dynamic private addresses still to allocate, in input order (D14).
    pub pending: Vec<Pending>,
}

/// A dynamic private address waiting for allocation.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pending {
    Nic {
        order: usize,
        nic: NicId,
        config: usize,
    },
    Frontend {
        order: usize,
        lb: LoadBalancerId,
        frontend: usize,
    },
    PrivateEndpoint {
        order: usize,
        endpoint: usize,
    },
}

impl<'a> Builder<'a> {
    pub fn of_kind(&self, kind: &'static str) -> impl Iterator<Item = &'a RawResource<'a>> + 'a {
        let raws = self.raws;
        let list = MODELLED
            .iter()
            .position(|k| *k == kind)
            .map(|i| self.by_kind[i].clone())
            .unwrap_or_default();
        list.into_iter().map(move |i| &raws[i])
    }

    pub fn register(&mut self, raw: &RawResource, target: Target) {
        self.targets[raw.order] = Some(target);
    }

    /// The raw resource with this ID (case-insensitive, as Azure matches IDs).
    fn find(&self, id: &str) -> Option<usize> {
        let id = id.trim_end_matches('/');
        let mut next = self.ids.get(&ci_hash(id)).copied();
        let mut first = None;
        while let Some(i) = next {
            next = self.next_same[i];
            let other = self.raws[i].id.as_str().trim_end_matches('/');
            if other == id {
                return Some(i);
            }
            if first.is_none() && other.eq_ignore_ascii_case(id) {
                first = Some(i);
            }
        }
        first
    }

    /// Resolves a reference ID; records "does not exist" or "wrong kind" errors. A resource
    /// that exists but failed to build has its own errors and is not reported again.
    pub fn resolve<T>(
        &mut self,
        origin: &Origin,
        property: &str,
        id: &str,
        want: &'static str,
        pick: impl Fn(Target) -> Option<T>,
    ) -> Option<T> {
        let found = self.find(id);
        match found.map(|i| self.targets[i]) {
            Some(None) => None,
            Some(Some(t)) => match pick(t) {
                Some(v) => Some(v),
                None => {
                    self.diags.push(Diagnostic::error(
                        origin,
                        property,
                        format!(
                            "'{id}' is a {}, but a {want} is expected here",
                            t.describe()
                        ),
                    ));
                    None
                }
            },
            None => {
                let hint = if id.starts_with("[") {
                    "this is an ARM template expression; literal resource IDs are needed here"
                        .to_string()
                } else {
                    format!("declare the {want} in the same file, or correct the ID (IDs match case-insensitively)")
                };
                self.diags.push(
                    Diagnostic::error(
                        origin,
                        property,
                        format!("reference to a {want} that does not exist: {id}"),
                    )
                    .with_hint(hint),
                );
                None
            }
        }
    }
}

/// Builds the model from flattened resources. Returns the topology (possibly partial) and
/// every diagnostic; the caller refuses the topology when any diagnostic is an error.
pub fn build(raws: &[RawResource]) -> (Topology, Vec<Diagnostic>) {
    let mut b = Builder {
        raws,
        topo: Topology::default(),
        diags: Vec::new(),
        ids: HashMap::with_capacity_and_hasher(raws.len(), Default::default()),
        next_same: vec![None; raws.len()],
        targets: vec![None; raws.len()],
        by_kind: vec![Vec::new(); MODELLED.len()],
        pending: Vec::new(),
    };
    // Chained in reverse so that each chain runs in input order and `find` returns the first
    // declaration.
    for (i, raw) in raws.iter().enumerate().rev() {
        let h = ci_hash(raw.id.as_str().trim_end_matches('/'));
        b.next_same[i] = b.ids.insert(h, i);
    }
    for (i, raw) in raws.iter().enumerate() {
        let first = b.find(raw.id.as_str()).filter(|first| *first != i);
        if let Some(previous) = first {
            b.diags.push(
                Diagnostic::error(
                    &raw.origin("resource"),
                    "",
                    format!(
                        "{} is declared twice (first at {})",
                        raw.id, raws[previous].path
                    ),
                )
                .with_hint("remove one of the two declarations"),
            );
        }
        match MODELLED.iter().position(|k| *k == raw.kind) {
            Some(k) => b.by_kind[k].push(i),
            None => {
                b.register(raw, Target::Other("resource of another type"));
                b.topo.ignored.push(Diagnostic::warning(
                    &raw.origin("resource"),
                    "",
                    format!("type {} is not modelled by vnetlab; ignored", raw.type_name),
                ));
            }
        }
    }
    // Order matters: a resource is built after everything it references.
    public_ip::build_public_ips(&mut b);
    security::build_asgs(&mut b);
    security::build_nsgs(&mut b);
    routing::build_route_tables(&mut b);
    network::build_nat_gateways(&mut b);
    network::build_vnets(&mut b);
    network::build_subnets(&mut b);
    network::build_peerings(&mut b);
    gateway::build_local_gateways(&mut b);
    gateway::build_gateways(&mut b);
    gateway::build_connections(&mut b);
    load_balancer::build_load_balancers(&mut b);
    private_endpoint::build_private_endpoints(&mut b);
    interface::build_nics(&mut b);
    interface::build_vms(&mut b);
    interface::allocate_addresses(&mut b);
    (b.topo, b.diags)
}

/// The IDs are hashed already: the map uses the hash as it is.
#[derive(Default)]
pub(crate) struct PassThrough(u64);

impl Hasher for PassThrough {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = bytes
            .iter()
            .fold(self.0, |h, b| h.rotate_left(8) ^ u64::from(*b));
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// FNV-1a over the lower-cased bytes, so IDs hash alike whatever their case. Only the length
/// and the last 48 bytes count: that is where IDs differ (the names), and it keeps hashing
/// cheap for IDs that are mostly a shared subscription and resource-group prefix.
fn ci_hash(s: &str) -> u64 {
    let tail = &s.as_bytes()[s.len().saturating_sub(48)..];
    tail.iter()
        .fold(0xcbf2_9ce4_8422_2325 ^ s.len() as u64, |h, b| {
            (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(0x0100_0000_01b3)
        })
}
