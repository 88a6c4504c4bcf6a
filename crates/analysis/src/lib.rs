//! The analyzer: Azure's diagnostic questions (effective routes, next hop) answered from the
//! engine, rendered as the `az` CLI's JSON and the portal's tables.
//! Effective security rules and IP flow verify come from the same engine's NSG evaluation.

pub mod dependencies;
pub mod diff;
pub mod effective_routes;
pub mod effective_security_rules;
pub mod intents;
pub mod ip_flow_verify;
pub mod next_hop;
pub mod reach;
pub mod table;
pub mod trace;

use vnetlab_engine::routes::RoutingTables;
use vnetlab_engine::security::tables::SecurityTables;
use vnetlab_engine::trace::address_index::AddressIndex;
use vnetlab_model::service_tags::ServiceTags;
use vnetlab_model::Topology;

/// A loaded topology with its routes computed once.
pub struct Analysis<'t> {
    pub topology: &'t Topology,
    pub tags: &'t ServiceTags,
    pub routes: RoutingTables,
    pub security: SecurityTables<'t>,
    pub addresses: AddressIndex,
    dependencies: std::sync::OnceLock<dependencies::DependencyIndex<'t>>,
}

impl<'t> Analysis<'t> {
    pub fn new(topology: &'t Topology, tags: &'t ServiceTags) -> Self {
        Analysis {
            topology,
            tags,
            routes: RoutingTables::compute(topology, tags),
            security: SecurityTables::new(topology, tags),
            addresses: AddressIndex::new(topology),
            dependencies: Default::default(),
        }
    }
}

impl<'t> Analysis<'t> {
    /// What traces depend on, indexed on first use (reach and diff need it).
    pub fn dependencies(&self) -> &dependencies::DependencyIndex<'t> {
        self.dependencies
            .get_or_init(|| dependencies::DependencyIndex::new(self.topology))
    }
}

/// A question that cannot be answered: what is wrong, and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub message: String,
    pub hint: Option<String>,
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "error: {}", self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}
