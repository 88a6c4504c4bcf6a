//! Compiled NSG matching (Security issue: "compile the rules once into a structure that decides a
//! packet without walking expanded tag prefixes linearly"). Each of the five fields is cut into
//! elementary intervals; every interval carries the set of rules that match it, as a bitset in
//! priority order. A packet takes one binary search per field and an AND of five bitsets; the
//! lowest set bit is the first matching rule (docs/semantics/dataplane.md 1.3: first match by priority wins).

use crate::flow::FiveTuple;
use std::collections::HashMap;
use vnetlab_model::Protocol;

/// One rule's match fields as inclusive ranges; `protocol` None matches every protocol.
#[derive(Debug, Clone, Default)]
pub struct MatchSpec {
    pub sources: Vec<(u32, u32)>,
    pub destinations: Vec<(u32, u32)>,
    pub source_ports: Vec<(u32, u32)>,
    pub destination_ports: Vec<(u32, u32)>,
    pub protocol: Option<u8>,
}

impl MatchSpec {
    /// The reference semantics, rule by rule (the oracle of the property test). A protocol
    /// without ports matches only rules that allow every port.
    pub fn matches(&self, p: &FiveTuple) -> bool {
        let within =
            |ranges: &[(u32, u32)], v: u32| ranges.iter().any(|(lo, hi)| *lo <= v && v <= *hi);
        let all_ports =
            |ranges: &[(u32, u32)]| coalesce(ranges.to_vec()).first() == Some(&(0, 65535));
        self.protocol.is_none_or(|proto| proto == p.protocol)
            && within(&self.sources, u32::from(p.src))
            && within(&self.destinations, u32::from(p.dst))
            && if Protocol::has_ports(p.protocol) {
                within(&self.source_ports, u32::from(p.src_port))
                    && within(&self.destination_ports, u32::from(p.dst_port))
            } else {
                all_ports(&self.source_ports) && all_ports(&self.destination_ports)
            }
    }
}

/// Interval starts and the bitset of each interval.
#[derive(Debug, Clone, Default)]
struct Dimension {
    starts: Vec<u32>,
    sets: Vec<u32>,
}

impl Dimension {
    fn set_at(&self, v: u32) -> u32 {
        self.sets[self.starts.partition_point(|s| *s <= v) - 1]
    }
}

#[derive(Debug, Clone, Default)]
pub struct Classifier {
    words: usize,
    pool: Vec<u64>,
    sources: Dimension,
    destinations: Dimension,
    source_ports: Dimension,
    destination_ports: Dimension,
    protocols: Vec<u32>,
    /// Rules that allow every port on both sides: the candidates for port-less protocols.
    portless: u32,
    rules: usize,
}

struct Interner {
    words: usize,
    pool: Vec<u64>,
    index: HashMap<Vec<u64>, u32>,
}

impl Interner {
    fn intern(&mut self, bits: &[u64]) -> u32 {
        if let Some(i) = self.index.get(bits) {
            return *i;
        }
        let i = (self.pool.len() / self.words) as u32;
        self.pool.extend_from_slice(bits);
        self.index.insert(bits.to_vec(), i);
        i
    }
}

fn coalesce(mut ranges: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    ranges.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        match out.last_mut() {
            Some(last) if u64::from(lo) <= u64::from(last.1) + 1 => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

fn dimension(
    interner: &mut Interner,
    per_rule: impl Iterator<Item = Vec<(u32, u32)>>,
) -> Dimension {
    // Sweep over range starts and ends, keeping how many ranges of each rule cover the point.
    let mut events: Vec<(u64, bool, usize)> = Vec::new();
    for (rule, ranges) in per_rule.enumerate() {
        for (lo, hi) in coalesce(ranges) {
            events.push((u64::from(lo), true, rule));
            events.push((u64::from(hi) + 1, false, rule));
        }
    }
    events.sort_unstable();
    let mut bits = vec![0u64; interner.words];
    let mut dim = Dimension {
        starts: vec![0],
        sets: vec![interner.intern(&bits)],
    };
    let mut i = 0;
    while i < events.len() {
        let at = events[i].0;
        while i < events.len() && events[i].0 == at {
            let (_, open, rule) = events[i];
            if open {
                bits[rule / 64] |= 1 << (rule % 64);
            } else {
                bits[rule / 64] &= !(1 << (rule % 64));
            }
            i += 1;
        }
        if at > u64::from(u32::MAX) {
            break;
        }
        let set = interner.intern(&bits);
        if at == 0 {
            dim.sets[0] = set;
        } else if dim.sets.last() != Some(&set) {
            dim.starts.push(at as u32);
            dim.sets.push(set);
        }
    }
    dim
}

impl Classifier {
    /// Compiles rules given in evaluation order.
    pub fn build(rules: &[MatchSpec]) -> Classifier {
        let words = rules.len().div_ceil(64).max(1);
        let mut interner = Interner {
            words,
            pool: Vec::new(),
            index: HashMap::new(),
        };
        let sources = dimension(&mut interner, rules.iter().map(|r| r.sources.clone()));
        let destinations = dimension(&mut interner, rules.iter().map(|r| r.destinations.clone()));
        let source_ports = dimension(&mut interner, rules.iter().map(|r| r.source_ports.clone()));
        let destination_ports = dimension(
            &mut interner,
            rules.iter().map(|r| r.destination_ports.clone()),
        );
        let mut bits = vec![0u64; words];
        let protocols = (0..=255u8)
            .map(|proto| {
                bits.iter_mut().for_each(|w| *w = 0);
                for (i, r) in rules.iter().enumerate() {
                    if r.protocol.is_none_or(|p| p == proto) {
                        bits[i / 64] |= 1 << (i % 64);
                    }
                }
                interner.intern(&bits)
            })
            .collect();
        bits.iter_mut().for_each(|w| *w = 0);
        let all = |ranges: &[(u32, u32)]| coalesce(ranges.to_vec()).first() == Some(&(0, 65535));
        for (i, r) in rules.iter().enumerate() {
            if all(&r.source_ports) && all(&r.destination_ports) {
                bits[i / 64] |= 1 << (i % 64);
            }
        }
        let portless = interner.intern(&bits);
        Classifier {
            words,
            pool: interner.pool,
            sources,
            destinations,
            source_ports,
            destination_ports,
            protocols,
            portless,
            rules: rules.len(),
        }
    }

    fn bitset(&self, id: u32) -> &[u64] {
        let start = id as usize * self.words;
        &self.pool[start..start + self.words]
    }

    /// The index of the first rule that matches, in evaluation order.
    pub fn first_match(&self, p: &FiveTuple) -> Option<usize> {
        let a = self.bitset(self.sources.set_at(u32::from(p.src)));
        let b = self.bitset(self.destinations.set_at(u32::from(p.dst)));
        let c = self.bitset(self.protocols[p.protocol as usize]);
        let (d, e) = if Protocol::has_ports(p.protocol) {
            (
                self.bitset(self.source_ports.set_at(u32::from(p.src_port))),
                self.bitset(self.destination_ports.set_at(u32::from(p.dst_port))),
            )
        } else {
            (self.bitset(self.portless), self.bitset(self.portless))
        };
        (0..self.words).find_map(|w| {
            let x = a[w] & b[w] & c[w] & d[w] & e[w];
            (x != 0).then(|| w * 64 + x.trailing_zeros() as usize)
        })
    }

    pub fn rule_count(&self) -> usize {
        self.rules
    }

    /// Distinct intervals and bitsets: the compiled size.
    pub fn size(&self) -> (usize, usize) {
        let intervals = self.sources.starts.len()
            + self.destinations.starts.len()
            + self.source_ports.starts.len()
            + self.destination_ports.starts.len();
        (intervals, self.pool.len() / self.words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    fn range() -> impl Strategy<Value = (u32, u32)> {
        (any::<u32>(), 0u32..=32).prop_map(|(base, len)| {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            let lo = base & mask;
            (lo, lo | !mask)
        })
    }

    fn ports() -> impl Strategy<Value = Vec<(u32, u32)>> {
        prop_oneof![
            Just(vec![(0, 65535)]),
            proptest::collection::vec((0u32..1000, 0u32..100).prop_map(|(a, w)| (a, a + w)), 1..3)
        ]
    }

    fn spec() -> impl Strategy<Value = MatchSpec> {
        (
            proptest::collection::vec(range(), 1..4),
            proptest::collection::vec(range(), 1..4),
            ports(),
            ports(),
            prop_oneof![
                Just(None),
                Just(Some(6u8)),
                Just(Some(17u8)),
                Just(Some(1u8))
            ],
        )
            .prop_map(
                |(sources, destinations, source_ports, destination_ports, protocol)| MatchSpec {
                    sources,
                    destinations,
                    source_ports,
                    destination_ports,
                    protocol,
                },
            )
    }

    fn packet(specs: &[MatchSpec]) -> impl Strategy<Value = FiveTuple> {
        // Addresses near rule boundaries, so that matches happen.
        let edges: Vec<u32> = specs
            .iter()
            .flat_map(|s| {
                s.sources
                    .iter()
                    .chain(&s.destinations)
                    .flat_map(|(a, b)| [*a, *b, a.wrapping_sub(1), b.wrapping_add(1)])
            })
            .collect();
        let addr = prop_oneof![any::<u32>(), proptest::sample::select(edges)];
        (
            addr.clone(),
            addr,
            prop_oneof![Just(6u8), Just(17u8), Just(1u8), Just(50u8)],
            0u16..1200,
            0u16..1200,
        )
            .prop_map(|(s, d, protocol, src_port, dst_port)| FiveTuple {
                src: Ipv4Addr::from(s),
                dst: Ipv4Addr::from(d),
                protocol,
                src_port,
                dst_port,
            })
    }

    proptest! {
        // Property test of the Security issue: the compiled classifier agrees with a naive
        // rule walk (first match in priority order) on random rules and packets.
        #[test]
        fn compiled_agrees_with_a_rule_walk((specs, packets) in proptest::collection::vec(spec(), 1..80).prop_flat_map(|specs| {
            let p = proptest::collection::vec(packet(&specs), 1..40);
            (Just(specs), p)
        })) {
            let c = Classifier::build(&specs);
            for p in packets {
                let naive = specs.iter().position(|s| s.matches(&p));
                prop_assert_eq!(c.first_match(&p), naive, "{:?}", p);
            }
        }
    }
}
