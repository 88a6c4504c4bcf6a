//! Static private addresses (dataplane.md 4.2-4.3, [PRIV]): a static address must lie inside
//! its subnet, must not be one of the five reserved addresses, and must not be in use in the
//! same VNet (separate VNets may reuse addresses).

use crate::addressing::reserved_reason;
use crate::diagnostic::Diagnostic;
use crate::topology::{AllocationMethod, Topology};
use std::collections::HashMap;
use std::net::Ipv4Addr;

pub(super) fn check(t: &Topology, out: &mut Vec<Diagnostic>) {
    let mut used: HashMap<(crate::ids::VnetId, Ipv4Addr), &str> = HashMap::with_capacity(t.nics.len());
    for nic in &t.nics {
        for (i, cfg) in nic.ip_configurations.iter().enumerate() {
            let subnet = t.subnet(cfg.subnet);
            let property = || format!("properties.ipConfigurations[{i}].properties.privateIPAddress");
            let ip = cfg.private_ip;
            if cfg.allocation == AllocationMethod::Static {
                if !subnet.prefix.contains(&ip) {
                    out.push(
                        Diagnostic::error(&nic.origin, &property(), format!("static address {ip} is outside subnet '{}' ({})", subnet.name, subnet.prefix))
                            .with_hint(format!("pick an address between .4 and the second-to-last address of {}", subnet.prefix)),
                    );
                    continue;
                }
                if let Some(reason) = reserved_reason(subnet.prefix, ip) {
                    out.push(
                        Diagnostic::error(&nic.origin, &property(), format!("static address {ip} is reserved by Azure in subnet {} ({reason})", subnet.prefix))
                            .with_hint("Azure reserves the first four and the last address of every subnet"),
                    );
                    continue;
                }
            }
            if let Some(previous) = used.insert((subnet.vnet, ip), &nic.name) {
                out.push(Diagnostic::error(&nic.origin, &property(), format!("address {ip} is already used by network interface '{previous}'")));
            }
        }
    }
}
