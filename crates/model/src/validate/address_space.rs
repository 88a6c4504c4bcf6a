//! VNet address spaces and subnet prefixes (docs/semantics/dataplane.md 4.1, \[FAQ\]): forbidden ranges, subnet
//! sizes /29 to /2, subnets inside their VNet and not overlapping each other.

use crate::addressing::{
    forbidden_overlap, overlaps, LARGEST_SUBNET_PREFIX_LEN, SMALLEST_SUBNET_PREFIX_LEN,
};
use crate::diagnostic::Diagnostic;
use crate::topology::Topology;

pub(super) fn check(t: &Topology, out: &mut Vec<Diagnostic>) {
    for vnet in &t.vnets {
        for (i, range) in vnet.address_space.iter().enumerate() {
            let property = format!("properties.addressSpace.addressPrefixes[{i}]");
            if let Some(forbidden) = forbidden_overlap(*range) {
                out.push(
                    Diagnostic::error(
                        &vnet.origin,
                        &property,
                        format!("address range {range} overlaps {forbidden}, which Azure reserves"),
                    )
                    .with_hint(
                        "use a private range such as 10.0.0.0/16, 172.16.0.0/16 or 192.168.0.0/24",
                    ),
                );
            }
            for (j, other) in vnet.address_space.iter().enumerate().skip(i + 1) {
                if overlaps(*range, *other) {
                    out.push(Diagnostic::error(
                        &vnet.origin,
                        &format!("properties.addressSpace.addressPrefixes[{j}]"),
                        format!("address range {other} overlaps the VNet's other range {range}"),
                    ));
                }
            }
        }
        let subnets: Vec<_> = vnet.subnets.iter().map(|s| t.subnet(*s)).collect();
        for (i, subnet) in subnets.iter().enumerate() {
            let prefix = subnet.prefix;
            if prefix.prefix_len() > SMALLEST_SUBNET_PREFIX_LEN {
                out.push(
                    Diagnostic::error(
                        &subnet.origin,
                        "properties.addressPrefix",
                        format!(
                            "subnet {prefix} is smaller than /29, the smallest subnet Azure allows"
                        ),
                    )
                    .with_hint("a /29 gives 3 usable addresses after Azure reserves five"),
                );
            } else if prefix.prefix_len() < LARGEST_SUBNET_PREFIX_LEN {
                out.push(Diagnostic::error(
                    &subnet.origin,
                    "properties.addressPrefix",
                    format!("subnet {prefix} is larger than /2, the largest subnet Azure allows"),
                ));
            }
            if !vnet.address_space.iter().any(|r| r.contains(&prefix)) {
                let ranges: Vec<String> =
                    vnet.address_space.iter().map(|r| r.to_string()).collect();
                out.push(
                    Diagnostic::error(&subnet.origin, "properties.addressPrefix", format!("subnet {prefix} is outside the address space of VNet '{}' ({})", vnet.name, ranges.join(", ")))
                        .with_hint("choose a prefix inside the VNet's address space, or add a range to the VNet"),
                );
            }
            for other in &subnets[..i] {
                if overlaps(prefix, other.prefix) {
                    out.push(Diagnostic::error(
                        &subnet.origin,
                        "properties.addressPrefix",
                        format!(
                            "subnet {prefix} overlaps subnet '{}' ({})",
                            other.name, other.prefix
                        ),
                    ));
                }
            }
        }
    }
}
