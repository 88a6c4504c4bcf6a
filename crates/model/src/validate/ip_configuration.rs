//! Static private addresses (docs/semantics/dataplane.md 4.2-4.3, \[PRIV\]): a static address must lie inside
//! its subnet, must not be one of the five reserved addresses, and must not be in use in the
//! same VNet (separate VNets may reuse addresses). Private endpoints' addresses count too.

use crate::addressing::reserved_reason;
use crate::diagnostic::Diagnostic;
use crate::topology::{AllocationMethod, Topology};
use crate::{Origin, SubnetId};
use std::collections::HashMap;
use std::net::Ipv4Addr;

/// A fixed address Azure refuses in a subnet: outside it, or one of its reserved five.
pub(super) fn refused(
    t: &Topology,
    origin: &Origin,
    property: &str,
    subnet: SubnetId,
    ip: Ipv4Addr,
) -> Option<Diagnostic> {
    let subnet = t.subnet(subnet);
    if !subnet.prefix.contains(&ip) {
        return Some(Diagnostic::error(
            origin,
            property,
            format!(
                "address {ip} is outside subnet '{}' ({})",
                subnet.name, subnet.prefix
            ),
        ));
    }
    reserved_reason(subnet.prefix, ip).map(|reason| {
        Diagnostic::error(
            origin,
            property,
            format!(
                "address {ip} is reserved by Azure in subnet {} ({reason})",
                subnet.prefix
            ),
        )
    })
}

pub(super) fn check(t: &Topology, out: &mut Vec<Diagnostic>) {
    for pe in &t.private_endpoints {
        out.extend(refused(
            t,
            &pe.origin,
            "properties.ipConfigurations[0].properties.privateIPAddress",
            pe.subnet,
            pe.ip,
        ));
    }
    let mut used: HashMap<(crate::ids::VnetId, Ipv4Addr), Holder> =
        HashMap::with_capacity(t.nics.len());
    for pe in &t.private_endpoints {
        used.insert(
            (t.subnet(pe.subnet).vnet, pe.ip),
            Holder::Endpoint(&pe.name),
        );
    }
    for nic in &t.nics {
        for (i, cfg) in nic.ip_configurations.iter().enumerate() {
            let subnet = t.subnet(cfg.subnet);
            let property =
                || format!("properties.ipConfigurations[{i}].properties.privateIPAddress");
            let ip = cfg.private_ip;
            if cfg.allocation == AllocationMethod::Static {
                if !subnet.prefix.contains(&ip) {
                    out.push(
                        Diagnostic::error(
                            &nic.origin,
                            &property(),
                            format!(
                                "static address {ip} is outside subnet '{}' ({})",
                                subnet.name, subnet.prefix
                            ),
                        )
                        .with_hint(format!(
                            "pick an address between .4 and the second-to-last address of {}",
                            subnet.prefix
                        )),
                    );
                    continue;
                }
                if let Some(reason) = reserved_reason(subnet.prefix, ip) {
                    out.push(
                        Diagnostic::error(
                            &nic.origin,
                            &property(),
                            format!(
                                "static address {ip} is reserved by Azure in subnet {} ({reason})",
                                subnet.prefix
                            ),
                        )
                        .with_hint(
                            "Azure reserves the first four and the last address of every subnet",
                        ),
                    );
                    continue;
                }
            }
            if let Some(previous) = used.insert((subnet.vnet, ip), Holder::Nic(&nic.name)) {
                out.push(Diagnostic::error(
                    &nic.origin,
                    &property(),
                    format!("address {ip} is already used by {previous}"),
                ));
            }
        }
    }
}

/// What holds an address, for the duplicate message.
enum Holder<'a> {
    Nic(&'a str),
    Endpoint(&'a str),
}

impl std::fmt::Display for Holder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Holder::Nic(n) => write!(f, "network interface '{n}'"),
            Holder::Endpoint(n) => write!(f, "private endpoint '{n}'"),
        }
    }
}
