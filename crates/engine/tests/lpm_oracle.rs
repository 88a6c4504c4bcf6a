//! Property test: the layered longest-prefix-match lookup agrees with a linear scan over the
//! effective route table it displays (docs/semantics/routing.md 3.1: LPM first, then User > gateway > Default
//! for an identical prefix; D6: a service endpoint beats a user route with the same prefix), on
//! random route tables, gateway prefixes, peerings and service endpoints.

use ipnet::Ipv4Net;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::net::Ipv4Addr;
use vnetlab_engine::routes::effective_route::{EffectiveRoute, RouteSource, RouteState};
use vnetlab_engine::routes::RoutingTables;
use vnetlab_model::service_tags::ServiceTags;
use vnetlab_model::{NextHopType, SubnetId};

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/vnetlab/providers/Microsoft.Network";

/// Prefixes drawn near the VNet so they nest and collide with its routes.
fn prefix() -> impl Strategy<Value = Ipv4Net> {
    let base = prop_oneof![
        Just(0x0a00_0000u32),
        Just(0x0a01_0000),
        Just(0xc0a8_0000),
        Just(0x6440_0000),
        Just(0x0d45_2810),
        any::<u32>()
    ];
    (base, any::<u16>(), 0u8..=32).prop_map(|(b, noise, len)| {
        Ipv4Net::new(Ipv4Addr::from(b ^ (u32::from(noise) << 4)), len)
            .unwrap()
            .trunc()
    })
}

fn destination() -> impl Strategy<Value = Ipv4Addr> {
    // 13.69.40.16/28 is a Storage.WestEurope prefix (service endpoint routes).
    let base = prop_oneof![
        Just(0x0a00_0000u32),
        Just(0x0a01_0000),
        Just(0xc0a8_0000),
        Just(0x6440_0000),
        Just(0x0d45_2810),
        any::<u32>()
    ];
    (base, any::<u16>(), any::<bool>()).prop_map(|(b, n, near)| {
        Ipv4Addr::from(if near {
            b ^ (u32::from(n) & 0xf)
        } else {
            b ^ u32::from(n)
        })
    })
}

#[derive(Debug, Clone)]
struct Case {
    udrs: Vec<(Ipv4Net, u8)>,
    gateway_prefixes: Vec<Ipv4Net>,
    peered: bool,
    storage_endpoint: bool,
    disable_propagation: bool,
    destinations: Vec<Ipv4Addr>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        proptest::collection::vec((prefix(), 0u8..4), 0..12),
        proptest::collection::vec(prefix(), 0..12),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec(destination(), 1..24),
    )
        .prop_map(
            |(
                udrs,
                gateway_prefixes,
                peered,
                storage_endpoint,
                disable_propagation,
                destinations,
            )| Case {
                udrs,
                gateway_prefixes,
                peered,
                storage_endpoint,
                disable_propagation,
                destinations,
            },
        )
}

fn topology(c: &Case) -> Value {
    let mut seen = std::collections::HashSet::new();
    let routes: Vec<Value> = c
        .udrs
        .iter()
        .filter(|(p, _)| seen.insert(*p))
        .enumerate()
        .map(|(i, (p, kind))| {
            let (t, ip) = match kind {
                0 => ("VirtualAppliance", Some("10.0.1.4")),
                1 => ("None", None),
                2 => ("Internet", None),
                _ => ("VnetLocal", None),
            };
            let mut props = json!({"addressPrefix": p.to_string(), "nextHopType": t});
            if let Some(ip) = ip {
                props["nextHopIpAddress"] = json!(ip);
            }
            json!({"name": format!("r{i}"), "properties": props})
        })
        .collect();
    let mut subnet = json!({"name": "app", "properties": {"addressPrefix": "10.0.0.0/24", "routeTable": {"id": format!("{SUB}/routeTables/rt")}}});
    if c.storage_endpoint {
        subnet["properties"]["serviceEndpoints"] = json!([{"service": "Microsoft.Storage"}]);
    }
    let mut hub_peerings = vec![];
    let mut resources = vec![
        json!({"type": "Microsoft.Network/routeTables", "name": "rt", "properties": {"disableBgpRoutePropagation": c.disable_propagation, "routes": routes}}),
    ];
    if c.peered {
        hub_peerings.push(json!({"name": "to-b", "properties": {"remoteVirtualNetwork": {"id": format!("{SUB}/virtualNetworks/b")}}}));
        resources.push(json!({"type": "Microsoft.Network/virtualNetworks", "name": "b", "location": "westeurope", "properties": {
            "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
            "virtualNetworkPeerings": [{"name": "to-a", "properties": {"remoteVirtualNetwork": {"id": format!("{SUB}/virtualNetworks/a")}}}]}}));
    }
    resources.push(json!({"type": "Microsoft.Network/virtualNetworks", "name": "a", "location": "westeurope", "properties": {
        "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
        "subnets": [subnet, {"name": "GatewaySubnet", "properties": {"addressPrefix": "10.0.255.0/27"}}],
        "virtualNetworkPeerings": hub_peerings}}));
    resources.push(json!({"type": "Microsoft.Network/virtualNetworkGateways", "name": "gw", "properties": {"enableBgp": true,
        "ipConfigurations": [{"name": "c", "properties": {"subnet": {"id": format!("{SUB}/virtualNetworks/a/subnets/GatewaySubnet")}}}]}}));
    resources.push(json!({"type": "Microsoft.Network/localNetworkGateways", "name": "site", "properties": {
        "localNetworkAddressSpace": {"addressPrefixes": []},
        "bgpAdvertisedPrefixes": c.gateway_prefixes.iter().map(|p| p.to_string()).collect::<Vec<_>>()}}));
    resources.push(json!({"type": "Microsoft.Network/connections", "name": "conn", "properties": {"connectionType": "IPsec", "enableBgp": true,
        "virtualNetworkGateway1": {"id": format!("{SUB}/virtualNetworkGateways/gw")},
        "localNetworkGateway2": {"id": format!("{SUB}/localNetworkGateways/site")}}}));
    Value::Array(resources)
}

/// The linear-scan oracle: longest displayed prefix containing dst; identical prefixes by
/// precedence (service endpoint per D6, then User, gateway, Default).
fn linear_scan(routes: &[EffectiveRoute], dst: Ipv4Addr) -> Option<(&EffectiveRoute, Ipv4Net)> {
    let rank = |r: &EffectiveRoute| match (r.source, r.next_hop_type) {
        (RouteSource::Default, NextHopType::VirtualNetworkServiceEndpoint) => 3,
        (RouteSource::User, _) => 2,
        (RouteSource::VirtualNetworkGateway, _) => 1,
        (RouteSource::Default, _) => 0,
    };
    routes
        .iter()
        .flat_map(|r| r.address_prefixes.iter().map(move |p| (r, *p)))
        .filter(|(_, p)| p.contains(&dst))
        .max_by_key(|(r, p)| (p.prefix_len(), rank(r)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn lookup_agrees_with_a_linear_scan(c in case()) {
        let doc = topology(&c);
        let loaded = match vnetlab_ingest::load_text(&doc.to_string(), "case.json", vnetlab_ingest::Format::Json, ServiceTags::bundled()) {
            Ok(l) => l,
            // Random prefixes can be refused (e.g. a VnetLocal UDR is fine, but nothing here
            // should be): show why if so.
            Err(d) => panic!("generated topology refused: {}", d.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n")),
        };
        let tables = RoutingTables::compute(&loaded.topology, ServiceTags::bundled());
        let subnet = tables.subnet(SubnetId(0));
        let displayed = subnet.effective_routes();
        for dst in c.destinations {
            let fast = subnet.lookup(dst).expect("0.0.0.0/0 always matches");
            let (slow, slow_prefix) = linear_scan(&displayed, dst).expect("0.0.0.0/0 is displayed");
            prop_assert_eq!(fast.prefix, slow_prefix, "dst {}", dst);
            prop_assert_eq!(fast.row.next_hop_type, slow.next_hop_type, "dst {}", dst);
            prop_assert_eq!(fast.next_hop_ips(), &slow.next_hop_ips[..], "dst {}", dst);
            prop_assert_eq!(fast.source(), slow.source, "dst {}", dst);
            prop_assert_eq!(slow.state, RouteState::Active, "the forwarding route must be shown Active (dst {})", dst);
        }
    }
}
