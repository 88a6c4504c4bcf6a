//! The compiled NSGs of a topology: one per (NSG, subnet) association, since an NSG's
//! `VirtualNetwork` tag depends on the subnet it filters (D11). Each is compiled on first use
//! and kept, so a trace or the lab pays only for the NSGs it meets; a diff's new version takes
//! over the unchanged ones.

use super::evaluate::NicNsgs;
use super::{compile, CompiledNsg};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use vnetlab_model::service_tags::ServiceTags;
use vnetlab_model::{NicId, NsgId, PublicIpSku, SubnetId, Topology};

pub struct SecurityTables<'t> {
    topology: &'t Topology,
    tags: &'t ServiceTags,
    compiled: HashMap<(NsgId, SubnetId), OnceLock<Arc<CompiledNsg>>>,
}

impl<'t> SecurityTables<'t> {
    pub fn new(t: &'t Topology, tags: &'t ServiceTags) -> Self {
        let mut compiled = HashMap::new();
        for s in 0..t.subnets.len() {
            let subnet = SubnetId(s as u32);
            if let Some(nsg) = t.subnet(subnet).nsg {
                compiled.insert((nsg, subnet), OnceLock::new());
            }
        }
        for nic in &t.nics {
            if let Some(nsg) = nic.nsg {
                compiled.insert(
                    (nsg, nic.primary_ip_configuration().subnet),
                    OnceLock::new(),
                );
            }
        }
        SecurityTables {
            topology: t,
            tags,
            compiled,
        }
    }

    fn get(&self, nsg: NsgId, subnet: SubnetId) -> Option<&CompiledNsg> {
        self.compiled.get(&(nsg, subnet)).map(|cell| {
            cell.get_or_init(|| Arc::new(compile(self.topology, nsg, subnet, self.tags)))
                .as_ref()
        })
    }

    /// Takes over what another version of the topology already compiled, for the associations
    /// `unchanged` vouches for (a diff re-traces a few flows without recompiling every NSG).
    pub fn adopt(&self, old: &SecurityTables, unchanged: impl Fn(NsgId, SubnetId) -> bool) {
        for (key, done) in old
            .compiled
            .iter()
            .filter_map(|(k, cell)| Some((k, cell.get()?)))
        {
            if let Some(cell) = self.compiled.get(key).filter(|_| unchanged(key.0, key.1)) {
                let _ = cell.set(done.clone());
            }
        }
    }

    /// The NSGs that filter a NIC's traffic, in Azure's terms.
    pub fn nic(&self, nic: NicId) -> NicNsgs<'_> {
        let t = self.topology;
        let n = t.nic(nic);
        let subnet = n.primary_ip_configuration().subnet;
        NicNsgs {
            nic: n.nsg.and_then(|g| self.get(g, subnet)),
            subnet: t.subnet(subnet).nsg.and_then(|g| self.get(g, subnet)),
            standard_public_ip: n
                .ip_configurations
                .iter()
                .filter_map(|c| c.public_ip)
                .any(|p| t[p].sku == PublicIpSku::Standard),
        }
    }
}
