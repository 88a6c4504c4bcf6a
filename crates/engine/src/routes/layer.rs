//! A layer is the set of routes one origin contributes to a subnet (system, reserved ranges,
//! gateway, service endpoints, user routes), compiled once into a longest-prefix-match trie and
//! shared by every subnet that has the same layer (ARCHITECTURE.md: effective routes are
//! computed per subnet and compiled once).

use ipnet::Ipv4Net;
use prefix_trie::PrefixMap;
use std::net::Ipv4Addr;
use vnetlab_model::{NextHopType, RouteTableId};

/// One displayed row of a layer; a service-tag route or a service endpoint has many prefixes.
#[derive(Debug, Clone)]
pub struct Row {
    pub prefixes: Vec<Ipv4Net>,
    pub next_hop_type: NextHopType,
    pub next_hop_ips: Vec<Ipv4Addr>,
    pub name: Option<String>,
    pub route_table: Option<RouteTableId>,
    /// A private endpoint's route that a user route of at least this prefix length invalidates
    /// (network policies on its subnet, docs/semantics/routing.md 3.2 E5).
    pub policy_len: Option<u8>,
}

#[derive(Debug, Clone, Default)]
pub struct Layer {
    pub rows: Vec<Row>,
    /// Prefix -> the row that wins it inside this layer.
    pub trie: PrefixMap<Ipv4Net, u32>,
}

impl Layer {
    /// Adds a row; `new_wins(existing_row_index)` decides a prefix both rows carry.
    pub fn push(&mut self, row: Row, new_wins: impl Fn(u32) -> bool) {
        let index = self.rows.len() as u32;
        for prefix in &row.prefixes {
            match self.trie.get_mut(prefix) {
                Some(existing) => {
                    if new_wins(*existing) {
                        *existing = index;
                    }
                }
                None => {
                    self.trie.insert(*prefix, index);
                }
            }
        }
        self.rows.push(row);
    }

    /// The longest prefix of this layer containing `dst`, and the row that owns it.
    pub fn lookup(&self, dst: Ipv4Addr) -> Option<(Ipv4Net, &Row)> {
        let host = Ipv4Net::new(dst, 32).expect("/32 is valid");
        self.trie
            .get_lpm(&host)
            .map(|(p, i)| (p, &self.rows[*i as usize]))
    }

    /// The longest prefix of this layer that contains `net`.
    pub fn covering(&self, net: &Ipv4Net) -> Option<(Ipv4Net, &Row)> {
        self.trie
            .get_lpm(net)
            .map(|(p, i)| (p, &self.rows[*i as usize]))
    }

    /// Whether `row` is the one that wins `prefix` in this layer.
    pub fn owns(&self, prefix: &Ipv4Net, row: usize) -> bool {
        self.trie.get(prefix).is_some_and(|i| *i as usize == row)
    }
}

/// Keeps the first row for a prefix both carry.
pub fn first_wins(_: u32) -> bool {
    false
}
