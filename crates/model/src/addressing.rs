//! Subnet addressing as Azure's DHCP does it (docs/semantics/dataplane.md 4.1-4.3; \[FAQ\], \[PRIV\]):
//! `.0`-`.3` and the last address of every subnet are reserved, `.1` is the default gateway,
//! dynamic addresses take the lowest free address from `.4` (decision D14).

use ipnet::Ipv4Net;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

/// Address spaces a VNet may not use (docs/semantics/dataplane.md 4.1).
pub const FORBIDDEN_RANGES: [&str; 5] = [
    "224.0.0.0/4",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "168.63.129.16/32",
    "255.255.255.255/32",
];

/// The smallest (longest prefix) and largest subnet Azure accepts (docs/semantics/dataplane.md 4.1).
pub const SMALLEST_SUBNET_PREFIX_LEN: u8 = 29;
pub const LARGEST_SUBNET_PREFIX_LEN: u8 = 2;

/// Parses an IPv4 CIDR, refusing host bits as Azure does.
pub fn parse_cidr(s: &str) -> Result<Ipv4Net, (String, Option<String>)> {
    let t = s.trim();
    if t.contains(':') {
        return Err((
            format!("'{s}' is an IPv6 prefix; vnetlab models IPv4 only"),
            None,
        ));
    }
    let net: Ipv4Net = match t.parse() {
        Ok(n) => n,
        Err(_) => match t.parse::<Ipv4Addr>() {
            Ok(ip) => Ipv4Net::new(ip, 32).expect("/32 is valid"),
            Err(_) => {
                return Err((
                    format!("'{s}' is not an IPv4 prefix"),
                    Some("write a prefix as address/length, for example 10.0.0.0/16".into()),
                ))
            }
        },
    };
    if net.trunc() != net {
        return Err((
            format!("'{s}' has host bits set"),
            Some(format!("Azure rejects it; did you mean {}?", net.trunc())),
        ));
    }
    Ok(net)
}

/// The forbidden range a candidate overlaps, if any.
pub fn forbidden_overlap(net: Ipv4Net) -> Option<Ipv4Net> {
    FORBIDDEN_RANGES
        .iter()
        .map(|s| s.parse::<Ipv4Net>().expect("constant"))
        .find(|f| overlaps(*f, net))
}

pub fn overlaps(a: Ipv4Net, b: Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Why an address of a subnet is reserved, if it is.
pub fn reserved_reason(subnet: Ipv4Net, ip: Ipv4Addr) -> Option<&'static str> {
    let offset = u32::from(ip).wrapping_sub(u32::from(subnet.network()));
    if !subnet.contains(&ip) {
        return None;
    }
    match offset {
        0 => Some("the network address"),
        1 => Some("the default gateway"),
        2 | 3 => Some("reserved to map Azure DNS into the VNet"),
        _ if ip == subnet.broadcast() => Some("the last address of the subnet"),
        _ => None,
    }
}

/// The default gateway of a subnet: its first address after the network address.
pub fn default_gateway(subnet: Ipv4Net) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(subnet.network()) + 1)
}

/// Usable addresses of a subnet: 2^(32-p) - 5.
pub fn usable_count(subnet: Ipv4Net) -> u64 {
    (1u64 << (32 - subnet.prefix_len())).saturating_sub(5)
}

/// Allocates addresses inside one subnet, lowest free first from `.4` (D14).
#[derive(Debug, Clone)]
pub struct SubnetAllocator {
    subnet: Ipv4Net,
    taken: BTreeSet<u32>,
    next: u32,
}

impl SubnetAllocator {
    pub fn new(subnet: Ipv4Net) -> Self {
        SubnetAllocator {
            subnet,
            taken: BTreeSet::new(),
            next: u32::from(subnet.network()) + 4,
        }
    }

    /// Claims a static address. Returns false when it is already taken.
    pub fn claim(&mut self, ip: Ipv4Addr) -> bool {
        self.taken.insert(u32::from(ip))
    }

    /// The lowest free, non-reserved address (D14), or None when the subnet is full.
    pub fn allocate(&mut self) -> Option<Ipv4Addr> {
        let last = u32::from(self.subnet.broadcast());
        while self.next < last {
            let candidate = self.next;
            self.next += 1;
            if self.taken.insert(candidate) {
                return Some(Ipv4Addr::from(candidate));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    // docs/semantics/dataplane.md scenario 24.
    #[test]
    fn reserved_addresses_of_a_slash_24() {
        let s = net("192.168.1.0/24");
        for last in [0, 1, 2, 3, 255] {
            assert!(
                reserved_reason(s, Ipv4Addr::new(192, 168, 1, last)).is_some(),
                ".{last}"
            );
        }
        assert!(reserved_reason(s, Ipv4Addr::new(192, 168, 1, 4)).is_none());
        assert_eq!(usable_count(s), 251);
        assert_eq!(
            SubnetAllocator::new(s).allocate(),
            Some(Ipv4Addr::new(192, 168, 1, 4))
        );
    }

    #[test]
    fn a_slash_29_has_three_usable_addresses() {
        let mut a = SubnetAllocator::new(net("10.0.0.0/29"));
        let got: Vec<_> = std::iter::from_fn(|| a.allocate()).collect();
        assert_eq!(
            got,
            vec![
                Ipv4Addr::new(10, 0, 0, 4),
                Ipv4Addr::new(10, 0, 0, 5),
                Ipv4Addr::new(10, 0, 0, 6)
            ]
        );
    }

    #[test]
    fn dynamic_skips_static_claims() {
        let mut a = SubnetAllocator::new(net("10.0.0.0/24"));
        assert!(a.claim(Ipv4Addr::new(10, 0, 0, 4)));
        assert!(!a.claim(Ipv4Addr::new(10, 0, 0, 4)));
        assert_eq!(a.allocate(), Some(Ipv4Addr::new(10, 0, 0, 5)));
    }

    #[test]
    fn forbidden_spaces() {
        for f in FORBIDDEN_RANGES {
            assert!(forbidden_overlap(net(f)).is_some());
        }
        assert!(forbidden_overlap(net("100.64.0.0/10")).is_none());
        assert!(forbidden_overlap(net("168.63.0.0/16")).is_some());
    }

    proptest! {
        // Allocation invariants: every address is inside the subnet, unreserved, unique, and
        // increasing (lowest free first).
        #[test]
        fn allocations_are_unique_unreserved_and_ascending(len in 24u8..=29, base in any::<u32>(), statics in proptest::collection::vec(0u32..256, 0..10)) {
            let subnet = Ipv4Net::new(Ipv4Addr::from(base), len).unwrap().trunc();
            let mut a = SubnetAllocator::new(subnet);
            let size = 1u32 << (32 - len);
            for s in &statics {
                a.claim(Ipv4Addr::from(u32::from(subnet.network()) + s % size));
            }
            let mut prev = 0u32;
            while let Some(ip) = a.allocate() {
                prop_assert!(subnet.contains(&ip));
                prop_assert!(reserved_reason(subnet, ip).is_none());
                prop_assert!(u32::from(ip) > prev);
                prop_assert!(!statics.iter().any(|s| u32::from(subnet.network()) + s % size == u32::from(ip)));
                prev = u32::from(ip);
            }
        }
    }
}
