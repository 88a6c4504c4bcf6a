//! Property test: the same random topology written as a YAML lab file and as a REST export
//! gives identical addresses (D14) and identical effective routes for every NIC (Foundation
//! issue, "Both formats produce the same validated model"). The two texts are written by two
//! independent writers below; only the ingest under test is shared.

use proptest::prelude::*;
use serde_json::{json, Value};
use vnetlab_analysis::{effective_routes, Analysis};
use vnetlab_ingest::{load_text, Format, Loaded};
use vnetlab_model::service_tags::ServiceTags;

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/vnetlab/providers/Microsoft.Network";

#[derive(Debug, Clone)]
struct Spec {
    /// Per VNet: number of subnets (1-3) and, per subnet, the VMs (Some(host) = static .host).
    vnets: Vec<Vec<Vec<Option<u8>>>>,
    /// Peering sides (from, to), from < to or not: each entry is one side.
    peerings: Vec<(usize, usize)>,
    /// Routes of the one route table: (third octet of 10.200.x.0/24 or 0/0 when 0, kind).
    routes: Vec<(u8, u8)>,
    /// Which (vnet, subnet) pairs carry the route table.
    with_table: Vec<(usize, usize)>,
    gateway: bool,
    transit: bool,
}

fn spec() -> impl Strategy<Value = Spec> {
    let vm = prop_oneof![Just(None), (10u8..60).prop_map(Some)];
    let subnet = proptest::collection::vec(vm, 0..4);
    let vnet = proptest::collection::vec(subnet, 1..4);
    (
        proptest::collection::vec(vnet, 1..4),
        proptest::collection::vec((0usize..3, 0usize..3), 0..5),
        proptest::collection::vec((0u8..20, 0u8..3), 0..6),
        proptest::collection::vec((0usize..3, 0usize..3), 0..4),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(vnets, peerings, routes, with_table, gateway, transit)| {
            let n = vnets.len();
            let mut seen = std::collections::HashSet::new();
            let peerings = peerings
                .into_iter()
                .filter(|(a, b)| a != b && *a < n && *b < n && seen.insert((*a, *b)))
                .collect();
            let mut seen = std::collections::HashSet::new();
            let routes = routes
                .into_iter()
                .filter(|(o, _)| seen.insert(*o))
                .collect();
            let with_table = with_table
                .into_iter()
                .filter(|(v, s)| *v < n && *s < vnets[*v].len())
                .collect();
            Spec {
                vnets,
                peerings,
                routes,
                with_table,
                gateway,
                transit,
            }
        })
}

fn route(octet: u8, kind: u8) -> (String, &'static str, Option<&'static str>) {
    let prefix = if octet == 0 {
        "0.0.0.0/0".to_string()
    } else {
        format!("10.200.{octet}.0/24")
    };
    match kind {
        0 => (prefix, "VirtualAppliance", Some("10.0.0.200")),
        1 => (prefix, "None", None),
        _ => (prefix, "Internet", None),
    }
}

/// Deduplicated VM names need the (vnet, subnet, index) triple.
fn vm_name(v: usize, s: usize, i: usize) -> String {
    format!("vm{v}{s}{i}")
}

fn uses_transit(spec: &Spec, from: usize, to: usize) -> bool {
    spec.gateway && spec.transit && to == 0 && from != 0 && spec.peerings.contains(&(0, from))
}

fn yaml(spec: &Spec) -> String {
    let mut y = String::from("location: westeurope\nvnets:\n");
    for (v, subnets) in spec.vnets.iter().enumerate() {
        y += &format!("  v{v}:\n    address_space: [10.{v}.0.0/16]\n    subnets:\n");
        for (s, vms) in subnets.iter().enumerate() {
            y += &format!("      s{s}:\n        prefix: 10.{v}.{s}.0/24\n");
            if spec.with_table.contains(&(v, s)) {
                y += "        route_table: rt\n";
            }
            if !vms.is_empty() {
                y += "        vms:\n";
            }
            for (i, vm) in vms.iter().enumerate() {
                match vm {
                    Some(h) => {
                        y += &format!("          {}: {{ ip: 10.{v}.{s}.{h} }}\n", vm_name(v, s, i))
                    }
                    None => y += &format!("          {}: {{}}\n", vm_name(v, s, i)),
                }
            }
        }
        if v == 0 && spec.gateway {
            y += "      GatewaySubnet: 10.0.255.0/27\n    gateway: { name: gw }\n";
        }
        if spec.peerings.iter().any(|(a, _)| *a == v) {
            y += "    peerings:\n";
        }
        for (a, b) in spec.peerings.iter().filter(|(a, _)| *a == v) {
            let transit = spec.gateway && spec.transit && *a == 0;
            y += &format!(
                "      v{b}: {{ allow_gateway_transit: {transit}, use_remote_gateways: {} }}\n",
                uses_transit(spec, *a, *b)
            );
        }
    }
    y += if spec.routes.is_empty() {
        "route_tables:\n  rt: {}\n"
    } else {
        "route_tables:\n  rt:\n    routes:\n"
    };
    for (i, (o, k)) in spec.routes.iter().enumerate() {
        let (prefix, t, ip) = route(*o, *k);
        y += &format!(
            "      r{i}: {{ prefix: {prefix}, next_hop: {t}{} }}\n",
            ip.map(|ip| format!(", ip: {ip}")).unwrap_or_default()
        );
    }
    if spec.gateway {
        y += "sites:\n  site:\n    address_space: [192.168.0.0/16, 172.20.0.0/16]\n    connect_to: v0\n";
    }
    y
}

fn rest(spec: &Spec) -> Value {
    let mut out = vec![];
    let routes: Vec<Value> = spec
        .routes
        .iter()
        .enumerate()
        .map(|(i, (o, k))| {
            let (prefix, t, ip) = route(*o, *k);
            let mut p = json!({"addressPrefix": prefix, "nextHopType": t});
            if let Some(ip) = ip {
                p["nextHopIpAddress"] = json!(ip);
            }
            json!({"name": format!("r{i}"), "properties": p})
        })
        .collect();
    out.push(json!({"type": "Microsoft.Network/routeTables", "name": "rt", "properties": {"routes": routes}}));
    let mut nics = vec![];
    for (v, subnets) in spec.vnets.iter().enumerate() {
        let mut subs: Vec<Value> = subnets.iter().enumerate().map(|(s, vms)| {
            let mut p = json!({"addressPrefix": format!("10.{v}.{s}.0/24")});
            if spec.with_table.contains(&(v, s)) { p["routeTable"] = json!({"id": format!("{SUB}/routeTables/rt")}); }
            for (i, vm) in vms.iter().enumerate() {
                let mut cfg = json!({"subnet": {"id": format!("{SUB}/virtualNetworks/v{v}/subnets/s{s}")}});
                if let Some(h) = vm { cfg["privateIPAllocationMethod"] = json!("Static"); cfg["privateIPAddress"] = json!(format!("10.{v}.{s}.{h}")); }
                nics.push(json!({"type": "Microsoft.Network/networkInterfaces", "name": format!("{}-nic", vm_name(v, s, i)), "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": cfg}]}}));
            }
            json!({"name": format!("s{s}"), "properties": p})
        }).collect();
        if v == 0 && spec.gateway {
            subs.push(
                json!({"name": "GatewaySubnet", "properties": {"addressPrefix": "10.0.255.0/27"}}),
            );
        }
        let peerings: Vec<Value> = spec.peerings.iter().filter(|(a, _)| *a == v).map(|(a, b)| json!({"name": format!("p{b}"), "properties": {
            "remoteVirtualNetwork": {"id": format!("{SUB}/virtualNetworks/v{b}")},
            "allowGatewayTransit": spec.gateway && spec.transit && *a == 0, "useRemoteGateways": uses_transit(spec, *a, *b)}})).collect();
        out.push(json!({"type": "Microsoft.Network/virtualNetworks", "name": format!("v{v}"), "location": "westeurope", "properties": {
            "addressSpace": {"addressPrefixes": [format!("10.{v}.0.0/16")]}, "subnets": subs, "virtualNetworkPeerings": peerings}}));
    }
    if spec.gateway {
        out.push(json!({"type": "Microsoft.Network/virtualNetworkGateways", "name": "gw", "properties": {"ipConfigurations": [{"name": "c", "properties": {"subnet": {"id": format!("{SUB}/virtualNetworks/v0/subnets/GatewaySubnet")}}}]}}));
        out.push(json!({"type": "Microsoft.Network/localNetworkGateways", "name": "site", "properties": {"localNetworkAddressSpace": {"addressPrefixes": ["192.168.0.0/16", "172.20.0.0/16"]}}}));
        out.push(json!({"type": "Microsoft.Network/connections", "name": "c", "properties": {"connectionType": "IPsec",
            "virtualNetworkGateway1": {"id": format!("{SUB}/virtualNetworkGateways/gw")}, "localNetworkGateway2": {"id": format!("{SUB}/localNetworkGateways/site")}}}));
    }
    out.extend(nics);
    Value::Array(out)
}

fn answers(l: &Loaded) -> Vec<(String, String, String)> {
    let a = Analysis::new(&l.topology, ServiceTags::bundled());
    l.topology
        .nics
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let routes = effective_routes::for_nic(&a, vnetlab_model::NicId(i as u32));
            (
                n.name.clone(),
                n.ip_configurations[0].private_ip.to_string(),
                serde_json::to_string(&effective_routes::to_json(&routes)).unwrap(),
            )
        })
        .collect()
}

fn outcome(
    r: Result<Loaded, Vec<vnetlab_model::Diagnostic>>,
) -> Result<Vec<(String, String, String)>, Vec<String>> {
    r.map(|l| answers(&l)).map_err(|d| {
        let mut m: Vec<String> = d
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.message.clone())
            .collect();
        m.sort();
        m
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(120))]
    #[test]
    fn yaml_and_rest_give_identical_routes(s in spec()) {
        let from_yaml = outcome(load_text(&yaml(&s), "lab.yaml", Format::Yaml, ServiceTags::bundled()));
        let from_rest = outcome(load_text(&rest(&s).to_string(), "lab.json", Format::Json, ServiceTags::bundled()));
        // Both accept, with the same answers, or both refuse for the same reasons (duplicate
        // static addresses, for example).
        prop_assert_eq!(from_yaml, from_rest);
    }
}
