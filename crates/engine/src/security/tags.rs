//! What a tag or an application security group stands for, seen from one subnet
//! (docs/semantics/dataplane.md 1.5-1.7): `VirtualNetwork` per decision D11 (with D8 for peerings),
//! `Internet` per D12, `AzureLoadBalancer` and the platform tags, file tags from the service-tag
//! snapshot, and an ASG as the addresses of its member NICs.

use crate::routes::gateway::{gateway_prefixes, serving_vnet};
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;
use vnetlab_model::service_tags::ServiceTags;
use vnetlab_model::{AsgId, RoutePrefix, SubnetId, Topology};

/// The host virtual IP: DNS, DHCP, health probes (docs/semantics/dataplane.md 1.5, \[WIRE\]).
pub const WIRESERVER: Ipv4Addr = Ipv4Addr::new(168, 63, 129, 16);
/// The instance metadata service.
pub const IMDS: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 254);
/// Azure's KMS endpoints for Windows activation (azkms.core.windows.net, kms.core.windows.net).
pub const KMS: [Ipv4Addr; 3] = [
    Ipv4Addr::new(20, 118, 99, 224),
    Ipv4Addr::new(40, 83, 235, 53),
    Ipv4Addr::new(23, 102, 135, 246),
];

/// D12: the Internet tag is everything but these.
pub const NOT_INTERNET: [&str; 9] = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "224.0.0.0/4",
    "240.0.0.0/4",
];

/// A platform tag: traffic to the platform addresses is filtered only by rules that name these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformTag {
    Dns,
    Imds,
    Lkm,
}

impl PlatformTag {
    pub fn parse(name: &str) -> Option<PlatformTag> {
        match name.to_ascii_lowercase().as_str() {
            "azureplatformdns" => Some(PlatformTag::Dns),
            "azureplatformimds" => Some(PlatformTag::Imds),
            "azureplatformlkm" => Some(PlatformTag::Lkm),
            _ => None,
        }
    }

    pub fn prefixes(self) -> Vec<Ipv4Net> {
        let host = |ip| Ipv4Net::new(ip, 32).expect("/32");
        match self {
            PlatformTag::Dns => vec![host(WIRESERVER)],
            PlatformTag::Imds => vec![host(IMDS)],
            PlatformTag::Lkm => KMS.iter().map(|ip| host(*ip)).collect(),
        }
    }
}

fn host(ip: Ipv4Addr) -> Ipv4Net {
    Ipv4Net::new(ip, 32).expect("/32")
}

/// D12: 0.0.0.0/0 minus the non-Internet ranges, as sorted prefixes (computed once).
pub fn internet() -> &'static [Ipv4Net] {
    static INTERNET: std::sync::OnceLock<Vec<Ipv4Net>> = std::sync::OnceLock::new();
    INTERNET.get_or_init(internet_prefixes)
}

/// Whether an address is in the Internet tag (D12).
pub fn is_internet(ip: Ipv4Addr) -> bool {
    static EXCLUDED: std::sync::OnceLock<Vec<Ipv4Net>> = std::sync::OnceLock::new();
    !EXCLUDED
        .get_or_init(|| {
            NOT_INTERNET
                .iter()
                .map(|n| n.parse().expect("constant"))
                .collect()
        })
        .iter()
        .any(|n| n.contains(&ip))
}

fn internet_prefixes() -> Vec<Ipv4Net> {
    let excluded: Vec<Ipv4Net> = NOT_INTERNET
        .iter()
        .map(|s| s.parse().expect("constant"))
        .collect();
    let mut out = Vec::new();
    let mut stack = vec!["0.0.0.0/0".parse::<Ipv4Net>().expect("constant")];
    while let Some(net) = stack.pop() {
        if excluded.iter().any(|e| e.contains(&net)) {
            continue;
        }
        if excluded.iter().any(|e| net.contains(e)) {
            let (a, b) = split(net);
            stack.push(b);
            stack.push(a);
        } else {
            out.push(net);
        }
    }
    out.sort();
    out
}

fn split(net: Ipv4Net) -> (Ipv4Net, Ipv4Net) {
    let len = net.prefix_len() + 1;
    let low = Ipv4Net::new(net.network(), len).expect("valid");
    let high = Ipv4Net::new(
        Ipv4Addr::from(u32::from(net.network()) | (1 << (32 - len))),
        len,
    )
    .expect("valid");
    (low, high)
}

/// D11: the VirtualNetwork tag of a subnet: its VNet's ranges, peered ranges (without peers
/// whose access this side disabled, D8), the prefixes of the gateway it uses, the prefixes of
/// its route table's routes, and 168.63.129.16/32; a prefix inside another one of the list is
/// left out, so a UDR 0.0.0.0/0 makes the tag `["0.0.0.0/0"]` (docs/semantics/dataplane.md scenario 23).
pub fn virtual_network(t: &Topology, subnet: SubnetId, tags: &ServiceTags) -> Vec<Ipv4Net> {
    let s = t.subnet(subnet);
    let vnet = t.vnet(s.vnet);
    let mut out = vnet.address_space.clone();
    for p in vnet.peerings.iter().map(|p| &t[*p]) {
        // D7: a one-sided peering connects nothing; D8: access off removes the peer.
        if p.allow_virtual_network_access && t.peering_between(p.remote, s.vnet).is_some() {
            out.extend(&t.vnet(p.remote).address_space);
        }
    }
    if let Some(owner) = serving_vnet(t, s.vnet) {
        for g in t.gateways_in(owner) {
            out.extend(gateway_prefixes(t, g).into_iter().map(|(p, _)| p));
        }
        if owner != s.vnet {
            out.extend(&t.vnet(owner).address_space);
        }
    }
    if let Some(rt) = s.route_table {
        for r in &t.route_table(rt).routes {
            match &r.prefix {
                RoutePrefix::Cidr(net) => out.push(*net),
                RoutePrefix::ServiceTag(tag) => out.extend(
                    tags.get(tag)
                        .map(|t| t.prefixes.as_slice())
                        .unwrap_or_default(),
                ),
            }
        }
    }
    out.push(host(WIRESERVER));
    without_covered(out)
}

/// Sorts prefixes and drops those inside another one of the list. Sorted by address, then by
/// length, a covering prefix comes before everything it covers, and the kept prefixes are
/// disjoint, so comparing with the last kept one is enough.
fn without_covered(prefixes: Vec<Ipv4Net>) -> Vec<Ipv4Net> {
    let mut prefixes: Vec<Ipv4Net> = prefixes.into_iter().map(|p| p.trunc()).collect();
    prefixes.sort();
    let mut out: Vec<Ipv4Net> = Vec::with_capacity(prefixes.len());
    for p in prefixes {
        if !out.last().is_some_and(|kept| kept.contains(&p)) {
            out.push(p);
        }
    }
    out
}

/// The private addresses of an application security group's members (ASG).
pub fn asg_members(t: &Topology, asg: AsgId) -> Vec<Ipv4Net> {
    let mut out: Vec<Ipv4Net> = t
        .nics
        .iter()
        .flat_map(|n| n.ip_configurations.iter())
        .filter(|c| c.asgs.contains(&asg))
        .map(|c| host(c.private_ip))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// What a tag stands for from a subnet; None for an unknown tag (refused by validation).
pub fn expand_tag(
    t: &Topology,
    subnet: SubnetId,
    tags: &ServiceTags,
    name: &str,
) -> Option<Vec<Ipv4Net>> {
    if let Some(platform) = PlatformTag::parse(name) {
        return Some(platform.prefixes());
    }
    match name.to_ascii_lowercase().as_str() {
        "virtualnetwork" | "virtual_network" => Some(virtual_network(t, subnet, tags)),
        "internet" => Some(internet().to_vec()),
        "azureloadbalancer" | "azure_loadbalancer" => Some(vec![host(WIRESERVER)]),
        _ => tags.get(name).map(|tag| tag.prefixes.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internet_tag_per_d12() {
        let net = internet();
        let has = |ip: &str| {
            net.iter()
                .any(|n| n.contains(&ip.parse::<Ipv4Addr>().unwrap()))
        };
        // docs/semantics/dataplane.md scenario 2: 13.107.21.200 is in the Internet tag.
        assert!(has("13.107.21.200") && has("1.1.1.1") && has("198.51.100.7"));
        for private in [
            "10.1.2.3",
            "172.31.0.100",
            "192.168.1.1",
            "100.64.0.1",
            "127.0.0.1",
            "169.254.169.254",
            "0.1.2.3",
            "224.0.0.5",
            "250.0.0.1",
        ] {
            assert!(!has(private), "{private}");
        }
        // NWCLI: the expansion starts 1.0.0.0/8, 2.0.0.0/7, 4.0.0.0/6, 8.0.0.0/7, 11.0.0.0/8, 12.0.0.0/6.
        let first: Vec<String> = net.iter().take(6).map(|n| n.to_string()).collect();
        assert_eq!(
            first,
            [
                "1.0.0.0/8",
                "2.0.0.0/7",
                "4.0.0.0/6",
                "8.0.0.0/7",
                "11.0.0.0/8",
                "12.0.0.0/6"
            ]
        );
    }

    #[test]
    fn covered_prefixes_leave_the_list() {
        let nets = |v: &[&str]| {
            v.iter()
                .map(|s| s.parse::<Ipv4Net>().unwrap())
                .collect::<Vec<_>>()
        };
        // docs/semantics/dataplane.md scenario 23: a UDR 0.0.0.0/0 makes the VirtualNetwork tag 0.0.0.0/0.
        assert_eq!(
            without_covered(nets(&["10.0.0.0/16", "0.0.0.0/0", "168.63.129.16/32"])),
            nets(&["0.0.0.0/0"])
        );
        // Duplicates and contained prefixes go; adjacent ranges stay separate (no aggregation).
        assert_eq!(
            without_covered(nets(&[
                "10.0.1.0/24",
                "10.0.0.0/24",
                "10.0.0.0/16",
                "10.0.0.0/24",
                "10.1.1.0/24",
                "10.1.0.0/24",
                "168.63.129.16/32"
            ])),
            nets(&[
                "10.0.0.0/16",
                "10.1.0.0/24",
                "10.1.1.0/24",
                "168.63.129.16/32"
            ])
        );
    }
}
