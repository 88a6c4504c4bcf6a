//! Every validation rule of the Foundation issue refuses its input with a diagnostic that names
//! the resource and the property and points at file:line:col (docs/semantics/routing.md 5, 7, T18-T19, T32,
//! T37; docs/semantics/dataplane.md 4.1-4.3, scenarios 24-25).

use serde_json::{json, Value};
use vnetlab_ingest::{load_text, Format};
use vnetlab_model::service_tags::ServiceTags;
use vnetlab_model::Diagnostic;

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/vnetlab/providers/Microsoft.Network";

/// A valid hub (with a gateway) and spoke, peered with transit, a route table and two NICs.
fn base() -> Value {
    json!([
        {"type": "Microsoft.Network/routeTables", "name": "rt", "properties": {"routes": [
            {"name": "to-nva", "properties": {"addressPrefix": "10.9.0.0/16", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.1.4"}}
        ]}},
        {"type": "Microsoft.Network/virtualNetworks", "name": "hub", "location": "westeurope", "properties": {
            "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
            "subnets": [
                {"name": "app", "properties": {"addressPrefix": "10.0.1.0/24", "routeTable": {"id": format!("{SUB}/routeTables/rt")}}},
                {"name": "GatewaySubnet", "properties": {"addressPrefix": "10.0.255.0/27"}}
            ],
            "virtualNetworkPeerings": [{"name": "to-spoke", "properties": {"allowGatewayTransit": true, "remoteVirtualNetwork": {"id": format!("{SUB}/virtualNetworks/spoke")}}}]
        }},
        {"type": "Microsoft.Network/virtualNetworks", "name": "spoke", "location": "westeurope", "properties": {
            "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
            "subnets": [{"name": "app", "properties": {"addressPrefix": "10.1.1.0/24"}}],
            "virtualNetworkPeerings": [{"name": "to-hub", "properties": {"useRemoteGateways": true, "remoteVirtualNetwork": {"id": format!("{SUB}/virtualNetworks/hub")}}}]
        }},
        {"type": "Microsoft.Network/virtualNetworkGateways", "name": "gw", "properties": {"sku": {"name": "VpnGw1"},
            "ipConfigurations": [{"name": "c", "properties": {"subnet": {"id": format!("{SUB}/virtualNetworks/hub/subnets/GatewaySubnet")}}}]}},
        {"type": "Microsoft.Network/networkInterfaces", "name": "nic1", "properties": {"ipConfigurations": [
            {"name": "ipconfig1", "properties": {"privateIPAllocationMethod": "Static", "privateIPAddress": "10.0.1.4", "subnet": {"id": format!("{SUB}/virtualNetworks/hub/subnets/app")}}}
        ]}},
        {"type": "Microsoft.Network/networkInterfaces", "name": "nic2", "properties": {"ipConfigurations": [
            {"name": "ipconfig1", "properties": {"subnet": {"id": format!("{SUB}/virtualNetworks/spoke/subnets/app")}}}
        ]}}
    ])
}

fn text(doc: &Value) -> String {
    serde_json::to_string_pretty(doc).unwrap()
}

fn load(doc: &Value) -> Result<vnetlab_ingest::Loaded, Vec<Diagnostic>> {
    load_text(
        &text(doc),
        "topo.json",
        Format::Json,
        ServiceTags::bundled(),
    )
}

/// Applies an edit to the base and expects an error whose message contains `message`, that
/// names `resource`, whose path ends with `path`, and that has a location in the file.
fn refused(edit: impl FnOnce(&mut Value), message: &str, resource: &str, path: &str) -> Diagnostic {
    let mut doc = base();
    edit(&mut doc);
    let diags = load(&doc).expect_err("the edited topology must be refused");
    let d = diags
        .iter()
        .find(|d| d.is_error() && d.message.contains(message))
        .unwrap_or_else(|| {
            panic!(
                "no error containing {message:?}; got:\n{}",
                diags
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        });
    assert!(
        d.resource.contains(resource),
        "resource {:?} should name {resource:?}",
        d.resource
    );
    assert!(
        d.path.ends_with(path),
        "path {:?} should end with {path:?}",
        d.path
    );
    let loc = d
        .location
        .as_ref()
        .expect("a JSON diagnostic has a location");
    assert_eq!(loc.file, "topo.json");
    assert!(loc.line > 1);
    d.clone()
}

#[test]
fn the_base_topology_is_valid() {
    let loaded = load(&base()).unwrap();
    let t = &loaded.topology;
    assert_eq!(
        (
            t.vnets.len(),
            t.subnets.len(),
            t.peerings.len(),
            t.nics.len()
        ),
        (2, 3, 2, 2)
    );
    // D14: the first dynamic address of a subnet is .4.
    assert_eq!(
        t.nics[1].ip_configurations[0].private_ip.to_string(),
        "10.1.1.4"
    );
    // D4: the gateway instance takes GatewaySubnet's first usable address.
    assert_eq!(t.gateways[0].instance_ips[0].to_string(), "10.0.255.4");
}

#[test]
fn subnet_outside_its_vnet_points_at_the_prefix() {
    let edit = |d: &mut Value| {
        d[1]["properties"]["subnets"][0]["properties"]["addressPrefix"] = json!("10.5.1.0/24")
    };
    let d = refused(
        edit,
        "outside the address space",
        "hub/app",
        "subnets[0].properties.addressPrefix",
    );
    let mut doc = base();
    edit(&mut doc);
    let line = text(&doc)
        .lines()
        .position(|l| l.contains("10.5.1.0/24"))
        .unwrap()
        + 1;
    assert_eq!(d.location.unwrap().line, line);
}

#[test]
fn overlapping_subnets() {
    refused(
        |d| d[1]["properties"]["subnets"][1]["properties"]["addressPrefix"] = json!("10.0.1.0/25"),
        "overlaps subnet 'app'",
        "hub/GatewaySubnet",
        "addressPrefix",
    );
}

#[test]
fn subnet_smaller_than_slash_29() {
    refused(
        |d| d[1]["properties"]["subnets"][0]["properties"]["addressPrefix"] = json!("10.0.1.0/30"),
        "smaller than /29",
        "hub/app",
        "addressPrefix",
    );
}

#[test]
fn subnet_larger_than_slash_2() {
    refused(
        |d| {
            d[2]["properties"]["addressSpace"]["addressPrefixes"] = json!(["128.0.0.0/1"]);
            d[2]["properties"]["subnets"][0]["properties"]["addressPrefix"] = json!("128.0.0.0/1");
        },
        "larger than /2",
        "spoke/app",
        "addressPrefix",
    );
}

#[test]
fn forbidden_address_spaces() {
    for forbidden in [
        "224.0.0.0/4",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "168.63.129.16/32",
        "255.255.255.255/32",
    ] {
        refused(
            |d| {
                d[2]["properties"]["addressSpace"]["addressPrefixes"] =
                    json!(["10.1.0.0/16", forbidden])
            },
            "which Azure reserves",
            "spoke",
            "addressPrefixes[1]",
        );
    }
    // 100.64.0.0/10 is allowed (docs/semantics/dataplane.md scenario 25).
    let mut doc = base();
    doc[2]["properties"]["addressSpace"]["addressPrefixes"] =
        json!(["10.1.0.0/16", "100.64.0.0/10"]);
    assert!(load(&doc).is_ok());
}

#[test]
fn static_ip_reserved_outside_or_duplicate() {
    for reserved in ["10.0.1.0", "10.0.1.1", "10.0.1.2", "10.0.1.3", "10.0.1.255"] {
        refused(
            |d| {
                d[4]["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"] =
                    json!(reserved)
            },
            "is reserved by Azure",
            "nic1",
            "privateIPAddress",
        );
    }
    refused(
        |d| {
            d[4]["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"] =
                json!("10.0.2.4")
        },
        "is outside subnet 'app'",
        "nic1",
        "privateIPAddress",
    );
    refused(
        |d| {
            d[5]["properties"]["ipConfigurations"][0]["properties"] = json!({"privateIPAllocationMethod": "Static", "privateIPAddress": "10.0.1.4", "subnet": {"id": format!("{SUB}/virtualNetworks/hub/subnets/app")}});
        },
        "already used by network interface 'nic1'",
        "nic2",
        "privateIPAddress",
    );
}

#[test]
fn peering_between_overlapping_spaces() {
    refused(
        |d| {
            d[2]["properties"]["addressSpace"]["addressPrefixes"] = json!(["10.0.128.0/17"]);
            d[2]["properties"]["subnets"][0]["properties"]["addressPrefix"] =
                json!("10.0.128.0/24");
        },
        "overlapping address spaces",
        "hub/to-spoke",
        "remoteVirtualNetwork.id",
    );
}

#[test]
fn virtual_appliance_route_without_ip_and_ip_on_other_types() {
    refused(
        |d| {
            d[0]["properties"]["routes"][0]["properties"]
                .as_object_mut()
                .unwrap()
                .remove("nextHopIpAddress");
        },
        "needs nextHopIpAddress",
        "rt/to-nva",
        "nextHopIpAddress",
    );
    refused(
        |d| d[0]["properties"]["routes"][0]["properties"]["nextHopType"] = json!("Internet"),
        "only allowed when nextHopType is VirtualAppliance",
        "rt/to-nva",
        "nextHopIpAddress",
    );
}

#[test]
fn user_routes_to_platform_next_hops() {
    for platform in ["VNetPeering", "VirtualNetworkServiceEndpoint"] {
        refused(
            |d| {
                d[0]["properties"]["routes"][0]["properties"] =
                    json!({"addressPrefix": "10.9.0.0/16", "nextHopType": platform})
            },
            "cannot be the next hop of a user route",
            "rt/to-nva",
            "nextHopType",
        );
    }
}

#[test]
fn duplicate_prefix_and_too_many_routes() {
    refused(
        |d| {
            d[0]["properties"]["routes"].as_array_mut().unwrap().push(json!({"name": "again", "properties": {"addressPrefix": "10.9.0.0/16", "nextHopType": "None"}}))
        },
        "already used by route 'to-nva'",
        "rt/again",
        "addressPrefix",
    );
    refused(
        |d| {
            let routes: Vec<Value> = (0..401)
                .map(|i| json!({"name": format!("r{i}"), "properties": {"addressPrefix": format!("172.{}.{}.0/24", 16 + i / 256, i % 256), "nextHopType": "None"}}))
                .collect();
            d[0]["properties"]["routes"] = json!(routes);
        },
        "has 401 routes; Azure allows at most 400",
        "rt",
        "properties.routes",
    );
    let tags = [
        "Storage",
        "Sql",
        "AzureCloud",
        "AzureMonitor",
        "EventHub",
        "ServiceBus",
        "AppService",
        "AzureKeyVault",
        "AzureCosmosDB",
        "GatewayManager",
        "AzureActiveDirectory",
        "AzureContainerRegistry",
        "AzureResourceManager",
        "PowerBI",
        "DataFactory",
        "LogicApps",
        "ApiManagement",
        "AzureBackup",
        "AzureDevOps",
        "Storage.WestEurope",
        "Sql.WestEurope",
        "AzureCloud.westeurope",
        "EventHub.WestEurope",
        "ServiceBus.WestEurope",
        "AppService.WestEurope",
        "AzureMonitor.WestEurope",
    ];
    refused(
        |d| {
            d[0]["properties"]["routes"] = json!(tags.iter().enumerate().map(|(i, t)| json!({"name": format!("t{i}"), "properties": {"addressPrefix": t, "nextHopType": "Internet"}})).collect::<Vec<_>>())
        },
        "26 routes with a service tag",
        "rt",
        "properties.routes",
    );
    refused(
        |d| d[0]["properties"]["routes"][0]["properties"]["addressPrefix"] = json!("NotATag"),
        "nor a known service tag",
        "rt/to-nva",
        "addressPrefix",
    );
}

#[test]
fn use_remote_gateways_rules() {
    // The spoke has its own gateway.
    refused(
        |d| {
            d[2]["properties"]["subnets"].as_array_mut().unwrap().push(
                json!({"name": "GatewaySubnet", "properties": {"addressPrefix": "10.1.255.0/27"}}),
            );
            d.as_array_mut().unwrap().push(json!({"type": "Microsoft.Network/virtualNetworkGateways", "name": "gw2", "properties": {
                "ipConfigurations": [{"name": "c", "properties": {"subnet": {"id": format!("{SUB}/virtualNetworks/spoke/subnets/GatewaySubnet")}}}]}}));
        },
        "has its own gateway",
        "spoke/to-hub",
        "useRemoteGateways",
    );
    // The hub side does not allow transit.
    refused(
        |d| {
            d[1]["properties"]["virtualNetworkPeerings"][0]["properties"]["allowGatewayTransit"] =
                json!(false)
        },
        "does not set allowGatewayTransit",
        "spoke/to-hub",
        "useRemoteGateways",
    );
    // Two peerings set it.
    refused(
        |d| {
            d.as_array_mut().unwrap().push(json!({"type": "Microsoft.Network/virtualNetworks", "name": "hub2", "properties": {
                "addressSpace": {"addressPrefixes": ["10.2.0.0/16"]},
                "subnets": [{"name": "GatewaySubnet", "properties": {"addressPrefix": "10.2.255.0/27"}}],
                "virtualNetworkPeerings": [{"name": "to-spoke", "properties": {"allowGatewayTransit": true, "remoteVirtualNetwork": {"id": format!("{SUB}/virtualNetworks/spoke")}}}]}}));
            d.as_array_mut().unwrap().push(json!({"type": "Microsoft.Network/virtualNetworkGateways", "name": "gw3", "properties": {
                "ipConfigurations": [{"name": "c", "properties": {"subnet": {"id": format!("{SUB}/virtualNetworks/hub2/subnets/GatewaySubnet")}}}]}}));
            d[2]["properties"]["virtualNetworkPeerings"].as_array_mut().unwrap().push(json!({"name": "to-hub2", "properties": {"useRemoteGateways": true, "remoteVirtualNetwork": {"id": format!("{SUB}/virtualNetworks/hub2")}}}));
        },
        "sets useRemoteGateways on 2 peerings",
        "spoke/to-hub2",
        "useRemoteGateways",
    );
}

#[test]
fn reference_to_a_missing_resource() {
    let d = refused(
        |d| {
            d[1]["properties"]["subnets"][0]["properties"]["routeTable"]["id"] =
                json!(format!("{SUB}/routeTables/nope"))
        },
        "does not exist",
        "hub/app",
        "routeTable.id",
    );
    assert!(d.hint.unwrap().contains("declare"));
}

#[test]
fn references_match_case_insensitively() {
    let mut doc = base();
    doc[1]["properties"]["subnets"][0]["properties"]["routeTable"]["id"] =
        json!(format!("{SUB}/routeTables/rt").to_uppercase());
    assert!(load(&doc).is_ok());
}

#[test]
fn every_problem_is_reported_in_one_run() {
    let mut doc = base();
    doc[1]["properties"]["subnets"][0]["properties"]["addressPrefix"] = json!("10.5.1.0/24");
    doc[0]["properties"]["routes"][0]["properties"]["nextHopType"] = json!("VNetPeering");
    let diags = load(&doc).unwrap_err();
    assert!(diags
        .iter()
        .any(|d| d.message.contains("outside the address space")));
    assert!(diags
        .iter()
        .any(|d| d.message.contains("cannot be the next hop")));
}

#[test]
fn unknown_types_are_warnings() {
    let mut doc = base();
    doc.as_array_mut()
        .unwrap()
        .push(json!({"type": "Microsoft.Storage/storageAccounts", "name": "st", "properties": {}}));
    let loaded = load(&doc).unwrap();
    assert_eq!(loaded.warnings.len(), 1);
    assert!(loaded.warnings[0]
        .message
        .contains("Microsoft.Storage/storageAccounts"));
    assert!(!loaded.warnings[0].is_error());
}

#[test]
fn gateway_subnet_route_table_rules() {
    let attach = |d: &mut Value| {
        d[1]["properties"]["subnets"][1]["properties"]["routeTable"] =
            json!({"id": format!("{SUB}/routeTables/rt")})
    };
    refused(
        |d| {
            attach(d);
            d[0]["properties"]["disableBgpRoutePropagation"] = json!(true);
        },
        "gateway route propagation must stay enabled",
        "rt",
        "properties.disableBgpRoutePropagation",
    );
    refused(
        |d| {
            attach(d);
            d[0]["properties"]["routes"][0]["properties"]["addressPrefix"] = json!("0.0.0.0/0");
        },
        "not supported on hub/GatewaySubnet",
        "rt/to-nva",
        "addressPrefix",
    );
}

#[test]
fn coexisting_gateways_take_successive_addresses() {
    // D4: gateway instances take GatewaySubnet's first usable addresses, one gateway after the
    // other (a VPN and an ExpressRoute gateway may share GatewaySubnet, docs/semantics/dataplane.md 7).
    let mut doc = base();
    doc.as_array_mut().unwrap().push(json!({"type": "Microsoft.Network/virtualNetworkGateways", "name": "er", "properties": {"gatewayType": "ExpressRoute", "sku": {"name": "ErGw1AZ"},
        "ipConfigurations": [{"name": "c", "properties": {"subnet": {"id": format!("{SUB}/virtualNetworks/hub/subnets/GatewaySubnet")}}}]}}));
    doc[3]["properties"]["activeActive"] = json!(true);
    let t = load(&doc).unwrap().topology;
    let ips = |i: usize| {
        t.gateways[i]
            .instance_ips
            .iter()
            .map(|ip| ip.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(ips(0), ["10.0.255.4", "10.0.255.5"]);
    assert_eq!(ips(1), ["10.0.255.6"]);
}

#[test]
fn separate_vnets_may_reuse_an_address() {
    // Two VNets without peering are separate address spaces (only peering refuses overlap).
    let mut doc = base();
    doc[1]["properties"]["virtualNetworkPeerings"] = json!([]);
    doc[2]["properties"]["virtualNetworkPeerings"] = json!([]);
    doc[2]["properties"]["addressSpace"]["addressPrefixes"] = json!(["10.0.0.0/16"]);
    doc[2]["properties"]["subnets"][0]["properties"]["addressPrefix"] = json!("10.0.1.0/24");
    doc[5]["properties"]["ipConfigurations"][0]["properties"]["privateIPAllocationMethod"] =
        json!("Static");
    doc[5]["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"] =
        json!("10.0.1.4");
    let t = load(&doc).unwrap().topology;
    assert_eq!(
        t.nics[0].ip_configurations[0].private_ip,
        t.nics[1].ip_configurations[0].private_ip
    );
}

#[test]
fn an_ipv6_subnet_must_be_a_slash_64() {
    refused(
        |d| {
            let p = &mut d[1]["properties"]["subnets"][0]["properties"];
            p.as_object_mut().unwrap().remove("addressPrefix");
            p["addressPrefixes"] = json!(["10.0.1.0/24", "fd00:db8:0:1::/80"]);
        },
        "must be a /64",
        "hub/app",
        "addressPrefixes[1]",
    );
}

#[test]
fn private_endpoint_addresses_are_checked_and_allocated() {
    let pe = |ip: Option<&str>| {
        let mut props = json!({"subnet": {"id": format!("{SUB}/virtualNetworks/hub/subnets/app")}});
        if let Some(ip) = ip {
            props["ipConfigurations"] =
                json!([{"name": "default", "properties": {"privateIPAddress": ip}}]);
        }
        json!({"type": "Microsoft.Network/privateEndpoints", "name": "pe", "properties": props})
    };
    refused(
        |d| d.as_array_mut().unwrap().push(pe(Some("10.0.1.1"))),
        "is reserved by Azure",
        "pe",
        "privateIPAddress",
    );
    refused(
        |d| d.as_array_mut().unwrap().push(pe(Some("10.0.1.4"))),
        "already used by private endpoint 'pe'",
        "nic1",
        "privateIPAddress",
    );
    // Without an address, the lowest free one from .4 (D14): nic1 holds .4.
    let mut doc = base();
    doc.as_array_mut().unwrap().push(pe(None));
    assert_eq!(
        load(&doc).unwrap().topology.private_endpoints[0]
            .ip
            .to_string(),
        "10.0.1.5"
    );
}
