//! Default system routes of a VNet (docs/semantics/routing.md 1.1-1.3; [UDR 2023]; \[EX-ERT\]): one VnetLocal
//! route per address range, 0.0.0.0/0 to Internet, and None for the reserved ranges 10/8,
//! 172.16/12, 192.168/16 and 100.64/10. A range equal to a reserved range turns it into
//! VnetLocal; a superset removes it; a range inside it leaves it.

use super::layer::{first_wins, Layer, Row};
use ipnet::Ipv4Net;
use vnetlab_model::NextHopType;

/// The reserved ranges, in the order Azure lists them (string order, docs/semantics/routing.md 1.3).
pub const RESERVED_RANGES: [&str; 4] = [
    "10.0.0.0/8",
    "100.64.0.0/10",
    "172.16.0.0/12",
    "192.168.0.0/16",
];

fn row(prefix: Ipv4Net, next_hop_type: NextHopType) -> Row {
    Row {
        prefixes: vec![prefix],
        next_hop_type,
        next_hop_ips: Vec::new(),
        name: None,
        route_table: None,
        policy_len: None,
    }
}

/// VnetLocal rows, then the peering rows (already built), then 0.0.0.0/0 Internet.
pub fn default_layer(address_space: &[Ipv4Net], peering_rows: Vec<Row>) -> Layer {
    let mut layer = Layer::default();
    for range in address_space {
        layer.push(row(*range, NextHopType::VnetLocal), first_wins);
    }
    for r in peering_rows {
        layer.push(r, first_wins);
    }
    layer.push(
        row(
            "0.0.0.0/0".parse().expect("constant"),
            NextHopType::Internet,
        ),
        first_wins,
    );
    layer
}

/// The reserved None routes that survive the VNet's own and peered ranges (rule 1.2). A
/// peered range is treated like an own range (it is reached first by LPM in either case).
pub fn reserved_layer(ranges: &[Ipv4Net]) -> Layer {
    let mut layer = Layer::default();
    for reserved in RESERVED_RANGES.map(|s| s.parse::<Ipv4Net>().expect("constant")) {
        // Equal: the range's own VnetLocal row stands for it. Superset: removed.
        if ranges.iter().any(|r| r.contains(&reserved)) {
            continue;
        }
        layer.push(row(reserved, NextHopType::None), first_wins);
    }
    layer
}
