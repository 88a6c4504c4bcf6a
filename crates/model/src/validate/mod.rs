//! The checks Azure's resource provider makes before it accepts a network, each returning a
//! diagnostic that names the resource and property. Sources are given per module.

mod address_space;
mod gateway;
mod ip_configuration;
mod load_balancer;
mod peering;
mod route_table;
pub mod security;

use crate::diagnostic::Diagnostic;
use crate::service_tags::ServiceTags;
use crate::topology::Topology;

/// Every problem found in a topology, in input order per rule family.
pub fn validate(topology: &Topology, tags: &ServiceTags) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    address_space::check(topology, &mut out);
    ip_configuration::check(topology, &mut out);
    peering::check(topology, &mut out);
    gateway::check(topology, &mut out);
    route_table::check(topology, tags, &mut out);
    security::check(topology, tags, &mut out);
    load_balancer::check(topology, &mut out);
    out
}
