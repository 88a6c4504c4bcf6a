//! Peering routes (docs/semantics/routing.md 1.4, 7; decision D7): one route per address range of a peered
//! VNet, VNetPeering in the same region and VNetGlobalPeering across regions, present only when
//! both sides of the peering exist (Connected).

use super::layer::Row;
use vnetlab_model::{NextHopType, Topology, VnetId};

/// The peering rows of a VNet, and the peered ranges.
pub fn peering_rows(t: &Topology, vnet: VnetId) -> Vec<Row> {
    let v = t.vnet(vnet);
    let mut rows = Vec::new();
    for p in v.peerings.iter().map(|p| &t[*p]) {
        // D7: one side only is "Initiated" and installs no routes.
        if t.peering_between(p.remote, vnet).is_none() {
            continue;
        }
        let remote = t.vnet(p.remote);
        let global =
            !v.location.is_empty() && !remote.location.is_empty() && v.location != remote.location;
        let next_hop_type = if global {
            NextHopType::VNetGlobalPeering
        } else {
            NextHopType::VNetPeering
        };
        for range in &remote.address_space {
            rows.push(Row {
                prefixes: vec![*range],
                next_hop_type,
                next_hop_ips: Vec::new(),
                name: None,
                route_table: None,
                policy_len: None,
            });
        }
    }
    rows
}
