//! The ARM template corpus (`tests/arm-corpus/`, copied from `../shared/arm-corpus/`: real Azure
//! quickstart templates, see its SOURCES.md): every template ingests, and for each one this
//! file asserts facts checked by reading the template by hand against Azure's semantics
//! (`docs/semantics//` docs/semantics/routing.md and docs/semantics/dataplane.md): counts of VNets, subnets,
//! peerings, NICs, VMs, route tables, NSGs and gateways (`validate`), and effective routes
//! (`routes -o json`, compared as a set of rows: source, state, prefixes, next hop type and
//! IPs, route name), next hops, effective security rules and IP flow verify answers, and where
//! the template has an Internet egress path, the outbound SNAT of a trace.
//!
//! Every command runs through the real binary with default parameter values; required
//! parameters without a default get dummy values (`--parameters name=value`, a securestring
//! can be any string). The deployment scope is fixed on every command: subscription `SUB`,
//! resource group `RG`, location `LOC` (so `resourceGroup().location` is westeurope).
//!
//! Templates without a NIC (or without a NIC in the subnet whose NSG/route table is under test)
//! get *probe* resources appended by the test: a NIC (dynamic address) and a VM referencing it,
//! written as ARM resources (`[resourceId(...)]` expressions), in a copy of the template in
//! the test's temporary directory (removed when the test ends). The template's own resources are untouched; the probe only lets vnetlab
//! be asked about a subnet the template builds. Probe NICs come after the template's resources,
//! so they take the next free address after the template's own (D14).
//!
//! Each test names the template lines (resource names) its facts come from. Facts that rest on
//! a vnetlab decision (D1-D15 of azure-semantics/README.md) say so.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tempfile::TempDir;

const SUB: &str = "11111111-2222-3333-4444-555555555555";
const RG: &str = "rg-corpus";
const LOC: &str = "westeurope";

/// The twenty folders of the corpus; `every_corpus_folder_has_a_test` keeps this list honest.
const FOLDERS: [&str; 20] = [
    "2-vms-loadbalancer-natrules",
    "application-security-group",
    "azure-bastion-nsg",
    "azurefirewall-forced-tunneling",
    "expressroute-private-peering-vnet",
    "hub-and-spoke-sandbox",
    "internal-loadbalancer-create",
    "load-balancer-standard-create",
    "nat-gateway-1-vm",
    "nat-gateway-hub-spoke-firewall",
    "nsg-dmz-in-vnet",
    "private-endpoint",
    "route-server-quagga",
    "security-group-create",
    "site-to-site-vpn-create",
    "userdefined-routes-appliance",
    "vnet-2subnets-service-endpoints-storage-integration",
    "vnet-to-vnet-bgp",
    "vnet-to-vnet-peering",
    "vnet-two-subnets",
];

// ---------------------------------------------------------------------------------------------
// Running vnetlab
// ---------------------------------------------------------------------------------------------

/// The repository's copy (`tests/arm-corpus`, identical to `../shared/arm-corpus`), or the shared
/// one when the repository has none.
fn corpus_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let in_repo = root.join("tests/arm-corpus");
    if in_repo.is_dir() {
        in_repo
    } else {
        root.join("../shared/arm-corpus")
    }
}

fn template(folder: &str) -> PathBuf {
    corpus_dir().join(folder).join("azuredeploy.json")
}

fn parameters_file(folder: &str) -> PathBuf {
    corpus_dir()
        .join(folder)
        .join("azuredeploy.parameters.json")
}

/// A test's scratch directory for its template copies and parameter files, removed when the
/// test ends, passed or failed.
fn scratch_dir() -> TempDir {
    TempDir::new().expect("scratch dir")
}

/// `vnetlab CMD FILE --subscription SUB --resource-group RG --location LOC [--parameters P]... EXTRA...`
fn vnetlab(cmd: &str, file: &Path, params: &[&str], extra: &[&str]) -> Output {
    let mut args: Vec<String> = vec![
        cmd.into(),
        file.display().to_string(),
        "--subscription".into(),
        SUB.into(),
        "--resource-group".into(),
        RG.into(),
        "--location".into(),
        LOC.into(),
    ];
    for p in params {
        args.push("--parameters".into());
        args.push((*p).into());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    Command::new(env!("CARGO_BIN_EXE_vnetlab"))
        .args(&args)
        .output()
        .expect("the binary runs")
}

fn describe(cmd: &str, file: &Path, params: &[&str], extra: &[&str], out: &Output) -> String {
    format!(
        "vnetlab {cmd} {} {} {}\nexit: {:?}\nstdout:\n{}\nstderr:\n{}",
        file.display(),
        params
            .iter()
            .map(|p| format!("--parameters {p}"))
            .collect::<Vec<_>>()
            .join(" "),
        extra.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs a command that must succeed and print JSON.
fn json_of(cmd: &str, file: &Path, params: &[&str], extra: &[&str]) -> Value {
    let mut extra = extra.to_vec();
    extra.extend(["-o", "json"]);
    let out = vnetlab(cmd, file, params, &extra);
    assert!(
        out.status.success(),
        "{}",
        describe(cmd, file, params, &extra, &out)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            describe(cmd, file, params, &extra, &out)
        )
    })
}

/// `validate` must succeed and print exactly these counts.
fn assert_counts(file: &Path, params: &[&str], counts: &str) {
    let out = vnetlab("validate", file, params, &[]);
    let text = describe("validate", file, params, &[], &out);
    assert!(
        out.status.success(),
        "the template does not ingest:\n{text}"
    );
    let want = format!("valid ({counts})");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&want),
        "expected '{want}':\n{text}"
    );
}

/// `validate` must refuse (exit 1) and stderr must name every needle.
fn assert_refused(file: &Path, params: &[&str], needles: &[&str]) {
    let out = vnetlab("validate", file, params, &[]);
    let text = describe("validate", file, params, &[], &out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "Azure refuses this deployment; vnetlab should too:\n{text}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    for n in needles {
        assert!(stderr.contains(n), "stderr should name {n:?}:\n{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Effective routes
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Route {
    source: String,
    state: String,
    prefixes: Vec<String>,
    next_hop_type: String,
    next_hop_ips: Vec<String>,
    name: Option<String>,
}

fn r(
    source: &str,
    state: &str,
    prefix: &str,
    next_hop_type: &str,
    ips: &[&str],
    name: Option<&str>,
) -> Route {
    Route {
        source: source.into(),
        state: state.into(),
        prefixes: vec![prefix.into()],
        next_hop_type: next_hop_type.into(),
        next_hop_ips: ips.iter().map(|s| s.to_string()).collect(),
        name: name.map(str::to_string),
    }
}

/// The six Default rows of a subnet with one VNet range and nothing else (docs/semantics/routing.md 1.1, T1):
/// the VNet range VnetLocal, 0.0.0.0/0 Internet and the four reserved None ranges.
fn bare_defaults(vnet_range: &str) -> Vec<Route> {
    vec![
        r("Default", "Active", vnet_range, "VnetLocal", &[], None),
        r("Default", "Active", "0.0.0.0/0", "Internet", &[], None),
        r("Default", "Active", "10.0.0.0/8", "None", &[], None),
        r("Default", "Active", "100.64.0.0/10", "None", &[], None),
        r("Default", "Active", "172.16.0.0/12", "None", &[], None),
        r("Default", "Active", "192.168.0.0/16", "None", &[], None),
    ]
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `routes --nic NIC -o json`, parsed; also returns the raw rows.
fn routes_raw(file: &Path, params: &[&str], nic: &str) -> Vec<Value> {
    let v = json_of("routes", file, params, &["--nic", nic]);
    v["value"]
        .as_array()
        .unwrap_or_else(|| panic!("no value array: {v}"))
        .clone()
}

fn parse_route(row: &Value) -> Route {
    Route {
        source: row["source"].as_str().unwrap_or_default().into(),
        state: row["state"].as_str().unwrap_or_default().into(),
        prefixes: strs(&row["addressPrefix"]),
        next_hop_type: row["nextHopType"].as_str().unwrap_or_default().into(),
        next_hop_ips: strs(&row["nextHopIpAddress"]),
        name: row["name"].as_str().map(str::to_string),
    }
}

/// The effective routes of a NIC must be exactly `expected` (order aside: Azure's row order is
/// not a documented fact, docs/semantics/routing.md 1.3).
fn assert_routes(file: &Path, params: &[&str], nic: &str, expected: Vec<Route>) {
    let mut actual: Vec<Route> = routes_raw(file, params, nic)
        .iter()
        .map(parse_route)
        .collect();
    let mut expected = expected;
    actual.sort();
    expected.sort();
    assert_eq!(
        actual,
        expected,
        "effective routes of NIC {nic} in {}",
        file.display()
    );
}

/// Every row of the NIC's table reports the route table's disableBgpRoutePropagation.
fn assert_bgp_propagation_disabled(file: &Path, params: &[&str], nic: &str, disabled: bool) {
    for row in routes_raw(file, params, nic) {
        assert_eq!(
            row["disableBgpRoutePropagation"],
            json!(disabled),
            "row {row} of NIC {nic}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Next hop, IP flow verify, effective security rules, trace
// ---------------------------------------------------------------------------------------------

/// `next-hop --vm VM --source-ip SRC --dest-ip DST -o json` == (type, ip, routeTableId).
fn assert_next_hop(
    file: &Path,
    params: &[&str],
    vm: &str,
    src: &str,
    dst: &str,
    want: (&str, Option<&str>, &str),
) {
    let v = json_of(
        "next-hop",
        file,
        params,
        &["--vm", vm, "--source-ip", src, "--dest-ip", dst],
    );
    let expected =
        json!({"nextHopType": want.0, "nextHopIpAddress": want.1, "routeTableId": want.2});
    assert_eq!(
        v,
        expected,
        "next hop of {vm} {src} -> {dst} in {}",
        file.display()
    );
}

fn route_table_id(name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/routeTables/{name}"
    )
}

fn nsg_id(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/networkSecurityGroups/{name}")
}

/// `test-ip-flow` (TCP unless `proto` says UDP) == (access, ruleName).
#[allow(clippy::too_many_arguments)]
fn assert_flow(
    file: &Path,
    params: &[&str],
    vm: &str,
    direction: &str,
    proto: &str,
    local: &str,
    remote: &str,
    want: (&str, &str),
) {
    let v = json_of(
        "test-ip-flow",
        file,
        params,
        &[
            "--vm",
            vm,
            "--direction",
            direction,
            "--protocol",
            proto,
            "--local",
            local,
            "--remote",
            remote,
        ],
    );
    assert_eq!(
        (
            v["access"].as_str().unwrap_or_default(),
            v["ruleName"].as_str().unwrap_or_default()
        ),
        want,
        "ip flow {direction} {proto} local {local} remote {remote} of VM {vm} in {}: {v}",
        file.display()
    );
}

/// `nsg --nic NIC -o json`'s `value`.
fn effective_nsgs(file: &Path, params: &[&str], nic: &str) -> Vec<Value> {
    let v = json_of("nsg", file, params, &["--nic", nic]);
    v["value"]
        .as_array()
        .unwrap_or_else(|| panic!("no value array: {v}"))
        .clone()
}

fn rule_names(element: &Value) -> Vec<String> {
    let mut names: Vec<String> = element["effectiveSecurityRules"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r["name"].as_str().unwrap_or_default().to_string())
        .collect();
    names.sort();
    names
}

fn rule<'a>(element: &'a Value, name: &str) -> &'a Value {
    element["effectiveSecurityRules"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["name"] == name))
        .unwrap_or_else(|| panic!("no effective rule {name} in {element}"))
}

const DEFAULT_RULES: [&str; 6] = [
    "defaultSecurityRules/AllowAzureLoadBalancerInBound",
    "defaultSecurityRules/AllowInternetOutBound",
    "defaultSecurityRules/AllowVnetInBound",
    "defaultSecurityRules/AllowVnetOutBound",
    "defaultSecurityRules/DenyAllInBound",
    "defaultSecurityRules/DenyAllOutBound",
];

/// The sorted names of the user rules given plus the six default rules.
fn with_defaults(user: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = user
        .iter()
        .map(|n| format!("securityRules/{n}"))
        .chain(DEFAULT_RULES.iter().map(|s| s.to_string()))
        .collect();
    v.sort();
    v
}

/// A TCP 443 trace from VM to the Internet host 192.0.2.10 must be delivered, translated by
/// `snat_resource` (a hop of layer OutboundSnat) with the decision `snat_decision`.
fn assert_outbound_snat(
    file: &Path,
    params: &[&str],
    vm: &str,
    snat_resource: &str,
    snat_decision: &str,
) {
    let v = json_of(
        "trace",
        file,
        params,
        &[
            "--from",
            vm,
            "--to",
            "192.0.2.10",
            "--protocol",
            "tcp",
            "--port",
            "443",
        ],
    );
    assert_eq!(
        v["verdict"],
        "Delivered",
        "trace {vm} -> Internet in {}: {v:#}",
        file.display()
    );
    let snat: Vec<&Value> = v["hops"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|h| h["layer"] == "OutboundSnat")
        .collect();
    assert_eq!(snat.len(), 1, "one outbound SNAT hop expected: {v:#}");
    assert_eq!(
        (
            snat[0]["resource"].as_str().unwrap_or_default(),
            snat[0]["decision"].as_str().unwrap_or_default()
        ),
        (snat_resource, snat_decision),
        "{v:#}"
    );
}

// ---------------------------------------------------------------------------------------------
// Probes and derived files
// ---------------------------------------------------------------------------------------------

fn subnet_ref(vnet: &str, subnet: &str) -> String {
    format!("[resourceId('Microsoft.Network/virtualNetworks/subnets', '{vnet}', '{subnet}')]")
}

/// A probe NIC (dynamic address in `vnet/subnet`, optional NIC-level NSG) and a VM using it.
fn probe(nic: &str, vm: &str, vnet: &str, subnet: &str, nsg: Option<&str>) -> Vec<Value> {
    let mut nic_res = json!({
        "type": "Microsoft.Network/networkInterfaces",
        "apiVersion": "2023-09-01",
        "name": nic,
        "location": "[resourceGroup().location]",
        "properties": {
            "ipConfigurations": [{
                "name": "ipconfig1",
                "properties": {"privateIPAllocationMethod": "Dynamic", "subnet": {"id": subnet_ref(vnet, subnet)}}
            }]
        }
    });
    if let Some(nsg) = nsg {
        nic_res["properties"]["networkSecurityGroup"] = json!({"id": format!("[resourceId('Microsoft.Network/networkSecurityGroups', '{nsg}')]")});
    }
    let vm_res = json!({
        "type": "Microsoft.Compute/virtualMachines",
        "apiVersion": "2023-09-01",
        "name": vm,
        "location": "[resourceGroup().location]",
        "dependsOn": [format!("[resourceId('Microsoft.Network/networkInterfaces', '{nic}')]")],
        "properties": {"networkProfile": {"networkInterfaces": [{"id": format!("[resourceId('Microsoft.Network/networkInterfaces', '{nic}')]")}]}}
    });
    vec![nic_res, vm_res]
}

/// A VNet with one subnet (for probes that must not sit in the template's own subnets).
fn probe_vnet(name: &str, range: &str, subnet: &str, prefix: &str) -> Value {
    json!({
        "type": "Microsoft.Network/virtualNetworks",
        "apiVersion": "2023-09-01",
        "name": name,
        "location": "[resourceGroup().location]",
        "properties": {"addressSpace": {"addressPrefixes": [range]}, "subnets": [{"name": subnet, "properties": {"addressPrefix": prefix}}]}
    })
}

/// A copy of the template with `extra` resources appended to `resources`.
fn with_resources(dir: &TempDir, folder: &str, out_name: &str, extra: Vec<Value>) -> PathBuf {
    let text = std::fs::read_to_string(template(folder)).expect("template readable");
    let mut doc: Value = serde_json::from_str(&text).expect("template is JSON");
    doc["resources"]
        .as_array_mut()
        .expect("resources array")
        .extend(extra);
    let path = dir.path().join(format!("{out_name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).expect("write probe copy");
    path
}

/// A deploymentParameters file (for array values and IDs, which `name=value` cannot carry as
/// plainly).
fn write_parameters(dir: &TempDir, out_name: &str, values: Value) -> PathBuf {
    let params: serde_json::Map<String, Value> = values
        .as_object()
        .expect("object")
        .iter()
        .map(|(k, v)| (k.clone(), json!({"value": v})))
        .collect();
    let doc = json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
        "contentVersion": "1.0.0.0",
        "parameters": params
    });
    let path = dir.path().join(format!("{out_name}.parameters.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).expect("write parameters");
    path
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn every_corpus_folder_has_a_test() {
    let mut found: Vec<String> = std::fs::read_dir(corpus_dir())
        .expect("../shared/arm-corpus exists")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    assert_eq!(
        found,
        FOLDERS.to_vec(),
        "a corpus folder was added or removed: add or remove its test"
    );
    for f in FOLDERS {
        assert!(template(f).exists(), "{f}/azuredeploy.json");
    }
}

// =============================================================================================
// 1. vnet-two-subnets
// Lines 61-73: VNet parameters('vnetName') = "VNet1", space parameters('vnetAddressPrefix') =
// 10.0.0.0/16. Lines 74-98: two child resources Microsoft.Network/virtualNetworks/subnets
// "VNet1/Subnet1" 10.0.0.0/24 and "VNet1/Subnet2" 10.0.1.0/24 (format('{0}/{1}', ...)). Nothing
// else: 1 VNet, 2 subnets, no NIC/VM/route table/NSG/gateway/public IP.
// Probe: a NIC in Subnet2 gets 10.0.1.4 and the bare default table of 10.0.0.0/16 (docs/semantics/routing.md
// 1.1, T1).
// =============================================================================================

#[test]
fn vnet_two_subnets() {
    let dir = scratch_dir();
    let t = template("vnet-two-subnets");
    assert_counts(
        &t,
        &[],
        "1 VNets, 2 subnets, 0 peerings, 0 NICs, 0 VMs, 0 route tables, 0 NSGs, 0 gateways",
    );

    let p = with_resources(
        &dir,
        "vnet-two-subnets",
        "vnet-two-subnets-probe",
        probe("probe-nic", "probe-vm", "VNet1", "Subnet2", None),
    );
    assert_routes(&p, &[], "probe-nic", bare_defaults("10.0.0.0/16"));
    assert_next_hop(
        &p,
        &[],
        "probe-vm",
        "10.0.1.4",
        "10.0.0.9",
        ("VnetLocal", None, "System Route"),
    );
    assert_next_hop(
        &p,
        &[],
        "probe-vm",
        "10.0.1.4",
        "10.1.0.9",
        ("None", None, "System Route"),
    );
}

// =============================================================================================
// 2. vnet-to-vnet-peering
// Lines 35-46: variables vnet1Config (10.0.0.0/24, subnet1 10.0.0.0/24), vnet2Config
// (192.168.0.0/24, subnet1 192.168.0.0/24). Lines 48-68: VNet parameters('vnet1Name') = "vNet1";
// lines 87-107: "vNet2". Lines 69-86 and 108-125: peerings "vNet1/vNet1-vNet2" and
// "vNet2/vNet2-vNet1", both sides present (Connected, D7). 2 VNets, 2 subnets, 2 peerings.
// Probe in vNet1/subnet1 (10.0.0.4): 10.0.0.0/24 VnetLocal, 192.168.0.0/24 VNetPeering
// (regional: same location), Internet and the four None ranges all Active (docs/semantics/routing.md 1.4, T9;
// 192.168.0.0/24 lies inside 192.168.0.0/16, a different prefix, so both stay Active).
// The parameters file names the VNets with other casing ("vNet1Name", "vNet2Name"): ARM
// parameter names are case-insensitive, so they set vnet1Name/vnet2Name = vNet1peeringtest /
// vNet2peeringtest; the probe then only resolves in vNet1peeringtest.
// =============================================================================================

#[test]
fn vnet_to_vnet_peering() {
    let dir = scratch_dir();
    let t = template("vnet-to-vnet-peering");
    assert_counts(
        &t,
        &[],
        "2 VNets, 2 subnets, 2 peerings, 0 NICs, 0 VMs, 0 route tables, 0 NSGs, 0 gateways",
    );

    let p = with_resources(
        &dir,
        "vnet-to-vnet-peering",
        "vnet-to-vnet-peering-probe",
        probe("probe-nic", "probe-vm", "vNet1", "subnet1", None),
    );
    let mut expected = bare_defaults("10.0.0.0/24");
    expected.push(r(
        "Default",
        "Active",
        "192.168.0.0/24",
        "VNetPeering",
        &[],
        None,
    ));
    assert_routes(&p, &[], "probe-nic", expected.clone());
    assert_next_hop(
        &p,
        &[],
        "probe-vm",
        "10.0.0.4",
        "192.168.0.10",
        ("VNetPeering", None, "System Route"),
    );
    // 192.168.1.10 is outside the peer's /24: the reserved 192.168.0.0/16 None drops it.
    assert_next_hop(
        &p,
        &[],
        "probe-vm",
        "10.0.0.4",
        "192.168.1.10",
        ("None", None, "System Route"),
    );
}

#[test]
fn vnet_to_vnet_peering_with_its_parameters_file() {
    let dir = scratch_dir();
    let params = s(&parameters_file("vnet-to-vnet-peering"));
    let t = template("vnet-to-vnet-peering");
    assert_counts(
        &t,
        &[&params],
        "2 VNets, 2 subnets, 2 peerings, 0 NICs, 0 VMs, 0 route tables, 0 NSGs, 0 gateways",
    );
    let p = with_resources(
        &dir,
        "vnet-to-vnet-peering",
        "vnet-to-vnet-peering-file-probe",
        probe("probe-nic", "probe-vm", "vNet1peeringtest", "subnet1", None),
    );
    let mut expected = bare_defaults("10.0.0.0/24");
    expected.push(r(
        "Default",
        "Active",
        "192.168.0.0/24",
        "VNetPeering",
        &[],
        None,
    ));
    assert_routes(&p, &[&params], "probe-nic", expected);
}

// =============================================================================================
// 3. userdefined-routes-appliance (required: adminUsername, adminPassword, uniqueDnsPrefixForVM)
// Lines 68-83 variables: VNet Contoso_Network 10.1.0.0/16; FrontendSubnet 10.1.0.0/24,
// NVASubnet 10.1.1.0/24, BackendSubnet 10.1.2.0/24; route table BasicNVA; NVA IP 10.1.1.4;
// NSG DefaultNSG; scaleNumber 3.
// Lines 85-100: public IPs concat(prefix, copyIndex()) x3 = udrdemo0..2 (Basic, Dynamic).
// Lines 101-124: NSG DefaultNSG, rule rdp_rule Inbound Tcp 3389 from Internet, prio 100.
// Lines 125-142: route table BasicNVA, route VirtualApplianceRouteToSubnet3:
//   variables('subnet3Prefix') (declared Subnet3Prefix; names are case-insensitive) =
//   10.1.2.0/24 -> VirtualAppliance 10.1.1.4.
// Lines 143-191: VNet; FrontendSubnet has DefaultNSG + BasicNVA, the other two DefaultNSG only.
// Lines 192-271: Nic0 (FrontendSubnet, Dynamic -> 10.1.0.4, pip udrdemo0), Nic1 (NVASubnet,
//   Static 10.1.1.4, enableIPForwarding, udrdemo1), Nic2 (BackendSubnet, Dynamic -> 10.1.2.4,
//   udrdemo2).
// Lines 272-314: VMs concat(vmNamePrefix, copyIndex()) x3 = Dynamic0..2 on Nic0..2
//   (parameters('vmSize') vs declared vmsize: case-insensitive).
// Counts: 1 VNet, 3 subnets, 3 NICs, 3 VMs, 1 route table (1 route), 1 NSG (1 rule), 3 public IPs.
// =============================================================================================

const UDR_PARAMS: [&str; 3] = [
    "adminUsername=azureuser",
    "adminPassword=Dummy-Passw0rd!",
    "uniqueDnsPrefixForVM=udrdemo",
];

#[test]
fn userdefined_routes_appliance() {
    let t = template("userdefined-routes-appliance");
    let p = &UDR_PARAMS;
    assert_counts(
        &t,
        p,
        "1 VNets, 3 subnets, 0 peerings, 3 NICs, 3 VMs, 1 route tables, 1 NSGs, 0 gateways",
    );

    // FrontendSubnet: the six defaults plus the one user route (docs/semantics/routing.md 4.3: different
    // prefixes, all Active).
    let mut front = bare_defaults("10.1.0.0/16");
    front.push(r(
        "User",
        "Active",
        "10.1.2.0/24",
        "VirtualAppliance",
        &["10.1.1.4"],
        Some("VirtualApplianceRouteToSubnet3"),
    ));
    assert_routes(&t, p, "Nic0", front);
    // NVASubnet and BackendSubnet have no route table.
    assert_routes(&t, p, "Nic1", bare_defaults("10.1.0.0/16"));
    assert_routes(&t, p, "Nic2", bare_defaults("10.1.0.0/16"));

    // Frontend -> Backend goes to the appliance; Backend -> Frontend is direct (asymmetric).
    assert_next_hop(
        &t,
        p,
        "Dynamic0",
        "10.1.0.4",
        "10.1.2.4",
        (
            "VirtualAppliance",
            Some("10.1.1.4"),
            &route_table_id("BasicNVA"),
        ),
    );
    assert_next_hop(
        &t,
        p,
        "Dynamic0",
        "10.1.0.4",
        "10.1.1.4",
        ("VnetLocal", None, "System Route"),
    );
    assert_next_hop(
        &t,
        p,
        "Dynamic2",
        "10.1.2.4",
        "10.1.0.4",
        ("VnetLocal", None, "System Route"),
    );

    // DefaultNSG on the subnets (no NIC NSG): RDP from the Internet by rdp_rule, SSH denied,
    // RDP from inside the VNet is not "Internet" and falls to AllowVnetInBound.
    assert_flow(
        &t,
        p,
        "Dynamic0",
        "Inbound",
        "TCP",
        "10.1.0.4:3389",
        "203.0.113.5:50000",
        ("Allow", "securityRules/rdp_rule"),
    );
    assert_flow(
        &t,
        p,
        "Dynamic0",
        "Inbound",
        "TCP",
        "10.1.0.4:22",
        "203.0.113.5:50000",
        ("Deny", "defaultSecurityRules/DenyAllInBound"),
    );
    assert_flow(
        &t,
        p,
        "Dynamic2",
        "Inbound",
        "TCP",
        "10.1.2.4:3389",
        "10.1.0.4:50000",
        ("Allow", "defaultSecurityRules/AllowVnetInBound"),
    );
    let nsgs = effective_nsgs(&t, p, "Nic0");
    assert_eq!(nsgs.len(), 1, "only the subnet's NSG: {nsgs:?}");
    assert_eq!(nsgs[0]["networkSecurityGroup"]["id"], nsg_id("DefaultNSG"));
    assert_eq!(rule_names(&nsgs[0]), with_defaults(&["rdp_rule"]));
    let rdp = rule(&nsgs[0], "securityRules/rdp_rule");
    assert_eq!(
        (
            rdp["protocol"].as_str(),
            rdp["destinationPortRange"].as_str(),
            rdp["priority"].as_i64()
        ),
        (Some("Tcp"), Some("3389-3389"), Some(100))
    );

    // Nic2 has the Basic public IP udrdemo2 (lines 260-263): it is the outbound source.
    assert_outbound_snat(
        &t,
        p,
        "Dynamic2",
        "publicIPAddresses/udrdemo2",
        "instance public IP",
    );
}

#[test]
fn userdefined_routes_appliance_with_its_parameters_file() {
    // The file sets vmNamePrefix = routedemo5VM (and GEN-* placeholders for the rest).
    let t = template("userdefined-routes-appliance");
    let params = s(&parameters_file("userdefined-routes-appliance"));
    assert_counts(
        &t,
        &[&params],
        "1 VNets, 3 subnets, 0 peerings, 3 NICs, 3 VMs, 1 route tables, 1 NSGs, 0 gateways",
    );
    assert_next_hop(
        &t,
        &[&params],
        "routedemo5VM0",
        "10.1.0.4",
        "10.1.2.9",
        (
            "VirtualAppliance",
            Some("10.1.1.4"),
            &route_table_id("BasicNVA"),
        ),
    );
}

#[test]
fn userdefined_routes_appliance_needs_its_required_parameters() {
    // adminPassword (line 11) has no defaultValue: Azure refuses the deployment without it.
    let t = template("userdefined-routes-appliance");
    assert_refused(
        &t,
        &["adminUsername=azureuser", "uniqueDnsPrefixForVM=udrdemo"],
        &["adminPassword"],
    );
}

// =============================================================================================
// 4. site-to-site-vpn-create (required: sharedKey)
// Lines 124-134: local network gateway localGateway, 1.1.1.1, prefixes parameters
//   ('localAddressPrefix') = [192.168.0.0/16, 172.16.0.0/12] (an array-valued parameter).
// Lines 135-155: connection Azure2Other, IPsec, azureGateway -> localGateway.
// Lines 156-182: VNet azureVnet 10.3.0.0/16; Subnet1 10.3.1.0/24, GatewaySubnet 10.3.200.0/29.
// Lines 183-191: public IP azureGatewayIP. Lines 192-224: gateway azureGateway, Vpn, RouteBased,
//   SKU Basic (default), enableBgp "false" (a string: ARM accepts it).
// Counts: 1 VNet, 2 subnets, 0 NICs, 1 gateway, 1 public IP, 1 local gateway, 1 connection.
// Probe in Subnet1 (10.3.1.4): the LNG prefixes become VirtualNetworkGateway routes with next hop
// the gateway instance 10.3.200.4 (first usable address of GatewaySubnet, D4); they share their
// prefixes with the reserved 172.16/12 and 192.168/16 None routes, which become Invalid (docs/semantics/routing.md
// 3.1 R2: gateway beats Default on an identical prefix).
// =============================================================================================

#[test]
fn site_to_site_vpn_create() {
    let dir = scratch_dir();
    let t = template("site-to-site-vpn-create");
    let p = &["sharedKey=Dummy-Shared-Key-1"];
    assert_counts(
        &t,
        p,
        "1 VNets, 2 subnets, 0 peerings, 0 NICs, 0 VMs, 0 route tables, 0 NSGs, 1 gateways",
    );

    let probe_file = with_resources(
        &dir,
        "site-to-site-vpn-create",
        "s2s-probe",
        probe("probe-nic", "probe-vm", "azureVnet", "Subnet1", None),
    );
    assert_routes(
        &probe_file,
        p,
        "probe-nic",
        vec![
            r("Default", "Active", "10.3.0.0/16", "VnetLocal", &[], None),
            r("Default", "Active", "0.0.0.0/0", "Internet", &[], None),
            r("Default", "Active", "10.0.0.0/8", "None", &[], None),
            r("Default", "Active", "100.64.0.0/10", "None", &[], None),
            r("Default", "Invalid", "172.16.0.0/12", "None", &[], None),
            r("Default", "Invalid", "192.168.0.0/16", "None", &[], None),
            r(
                "VirtualNetworkGateway",
                "Active",
                "192.168.0.0/16",
                "VirtualNetworkGateway",
                &["10.3.200.4"],
                None,
            ),
            r(
                "VirtualNetworkGateway",
                "Active",
                "172.16.0.0/12",
                "VirtualNetworkGateway",
                &["10.3.200.4"],
                None,
            ),
        ],
    );
    assert_next_hop(
        &probe_file,
        p,
        "probe-vm",
        "10.3.1.4",
        "192.168.7.7",
        ("VirtualNetworkGateway", Some("10.3.200.4"), "System Route"),
    );
    assert_next_hop(
        &probe_file,
        p,
        "probe-vm",
        "10.3.1.4",
        "172.20.1.1",
        ("VirtualNetworkGateway", Some("10.3.200.4"), "System Route"),
    );
    assert_next_hop(
        &probe_file,
        p,
        "probe-vm",
        "10.3.1.4",
        "10.9.9.9",
        ("None", None, "System Route"),
    );
}

#[test]
fn site_to_site_vpn_create_with_its_parameters_file() {
    // The file repeats the defaults and sets sharedKey.
    let t = template("site-to-site-vpn-create");
    let params = s(&parameters_file("site-to-site-vpn-create"));
    assert_counts(
        &t,
        &[&params],
        "1 VNets, 2 subnets, 0 peerings, 0 NICs, 0 VMs, 0 route tables, 0 NSGs, 1 gateways",
    );
}

#[test]
fn site_to_site_vpn_create_refuses_a_value_outside_allowed_values() {
    // gatewaySku (lines 89-100) allows Basic, Standard, HighPerformance only: Azure refuses
    // VpnGw1 before deploying anything.
    let t = template("site-to-site-vpn-create");
    assert_refused(
        &t,
        &["sharedKey=x", "gatewaySku=VpnGw1"],
        &["gatewaySku", "VpnGw1"],
    );
}

// =============================================================================================
// 5. vnet-to-vnet-bgp (required: sharedKey)
// Lines 42-63: vnet1cfg name format('vNet1-{0}', location) = vNet1-westeurope, 10.0.0.0/23,
//   subnet1 10.0.0.0/24, GatewaySubnet 10.0.1.224/27, gateway vNet1-Gateway, ASN 65010;
//   vnet2cfg vnet2-westeurope, 10.0.2.0/23, subnet1 10.0.2.0/24, GatewaySubnet 10.0.3.224/27,
//   vnet2-Gateway, ASN 65050. Public IP names use uniqueString(resourceGroup().id).
// Lines 66-119: the two VNets. Lines 120-137: two public IPs. Lines 138-209: two VpnGw1
//   gateways with enableBgp and bgpSettings.asn. Lines 210-257: connections vNet1-to-vNet2 and
//   vnet2-to-vnet1 (Vnet2Vnet, enableBgp), both directions present.
// Counts: 2 VNets, 4 subnets, 0 peerings, 0 NICs, 2 gateways, 2 public IPs, 2 connections.
// Probe in vNet1-westeurope/subnet1 (10.0.0.4): the other VNet's 10.0.2.0/23 as a
// VirtualNetworkGateway route through the local gateway's instance 10.0.1.228 (first usable of
// 10.0.1.224/27, D4). 10.0.2.0/23 is inside 10.0.0.0/8 (a different prefix): both Active.
// =============================================================================================

#[test]
fn vnet_to_vnet_bgp() {
    let dir = scratch_dir();
    let t = template("vnet-to-vnet-bgp");
    let p = &["sharedKey=Dummy-Shared-Key-1"];
    assert_counts(
        &t,
        p,
        "2 VNets, 4 subnets, 0 peerings, 0 NICs, 0 VMs, 0 route tables, 0 NSGs, 2 gateways",
    );

    let probe_file = with_resources(
        &dir,
        "vnet-to-vnet-bgp",
        "v2v-probe",
        probe("probe-nic", "probe-vm", "vNet1-westeurope", "subnet1", None),
    );
    let mut expected = bare_defaults("10.0.0.0/23");
    expected.push(r(
        "VirtualNetworkGateway",
        "Active",
        "10.0.2.0/23",
        "VirtualNetworkGateway",
        &["10.0.1.228"],
        None,
    ));
    assert_routes(&probe_file, p, "probe-nic", expected);
    assert_next_hop(
        &probe_file,
        p,
        "probe-vm",
        "10.0.0.4",
        "10.0.2.4",
        ("VirtualNetworkGateway", Some("10.0.1.228"), "System Route"),
    );

    let probe2 = with_resources(
        &dir,
        "vnet-to-vnet-bgp",
        "v2v-probe2",
        probe("probe-nic", "probe-vm", "vnet2-westeurope", "subnet1", None),
    );
    let mut expected2 = bare_defaults("10.0.2.0/23");
    expected2.push(r(
        "VirtualNetworkGateway",
        "Active",
        "10.0.0.0/23",
        "VirtualNetworkGateway",
        &["10.0.3.228"],
        None,
    ));
    assert_routes(&probe2, p, "probe-nic", expected2);
}

// =============================================================================================
// 6. hub-and-spoke-sandbox (required: winVmUser, winVmPassword, winVmDnsPrefix)
// Lines 69-98 variables: hubVnet 192.168.0.0/20 (DMZSubnet 192.168.0.0/25, ManagementSubnet
//   192.168.1.0/24, SharedSubnet 192.168.4.0/22, GatewaySubnet 192.168.15.224/27);
//   spokeDevVnet 10.10.0.0/16 and spokeProdVnet 10.100.0.0/16, each WorkloadSubnet = the whole
//   range; NIC winJmphostVmNIC (concat), NSG winJmpHostNsg, pip winJmphostVmPublicIp.
// Lines 100-226: 3 VNets and 6 subnet child resources, of which GatewaySubnet (155-170) has
//   condition deployVpnGateway == 'Yes' (default "No", line 37-47): 5 subnets by default.
// Lines 227-424: 8 peerings, 4 with condition 'Yes' (gwPeering_*, gateway transit) and 4 with
//   'No' (peering_*, plain, allowForwardedTraffic): 4 peerings either way.
// Lines 425-479: VM winJmphostVm (its bootDiagnostics uses reference() to a storage account).
// Lines 480-515: NIC winJmphostVmNIC in ManagementSubnet (Dynamic -> 192.168.1.4), NIC NSG.
// Lines 516-626: NSG winJmpHostNsg: rule NSG_RULE_INBOUND_RDP (Tcp 3389 from *, prio 1000) and
//   an explicit defaultSecurityRules array identical to Azure's defaults (read-only in Azure:
//   still exactly the six default rules, not duplicated, not user rules).
// Lines 627-645: pip winJmphostVmPublicIp (Basic, Static). Lines 676-684: pip
//   hubVpnGatewayPublicIp, no condition (deployed even without the gateway). Lines 685-718:
//   gateway hubVpnGateway, condition 'Yes'.
// Counts (default "No"): 3 VNets, 5 subnets, 4 peerings, 1 NIC, 1 VM, 0 route tables, 1 NSG,
//   0 gateways, 2 public IPs; storage account ignored.
// =============================================================================================

const HUB_PARAMS: [&str; 3] = [
    "winVmUser=azureuser",
    "winVmPassword=Dummy-Passw0rd!",
    "winVmDnsPrefix=hubjump",
];

#[test]
fn hub_and_spoke_sandbox() {
    let t = template("hub-and-spoke-sandbox");
    let p = &HUB_PARAMS;
    assert_counts(
        &t,
        p,
        "3 VNets, 5 subnets, 4 peerings, 1 NICs, 1 VMs, 0 route tables, 1 NSGs, 0 gateways",
    );

    let mut expected = bare_defaults("192.168.0.0/20");
    expected.push(r(
        "Default",
        "Active",
        "10.10.0.0/16",
        "VNetPeering",
        &[],
        None,
    ));
    expected.push(r(
        "Default",
        "Active",
        "10.100.0.0/16",
        "VNetPeering",
        &[],
        None,
    ));
    assert_routes(&t, p, "winJmphostVmNIC", expected);
    assert_next_hop(
        &t,
        p,
        "winJmphostVm",
        "192.168.1.4",
        "10.100.0.4",
        ("VNetPeering", None, "System Route"),
    );

    // NIC NSG only: one element, one user rule and the six defaults (the template's explicit
    // defaultSecurityRules do not add rules).
    let nsgs = effective_nsgs(&t, p, "winJmphostVmNIC");
    assert_eq!(nsgs.len(), 1, "{nsgs:?}");
    assert_eq!(
        nsgs[0]["networkSecurityGroup"]["id"],
        nsg_id("winJmpHostNsg")
    );
    assert!(
        nsgs[0]["association"].get("networkInterface").is_some(),
        "{:?}",
        nsgs[0]["association"]
    );
    assert_eq!(
        rule_names(&nsgs[0]),
        with_defaults(&["NSG_RULE_INBOUND_RDP"])
    );
    assert_flow(
        &t,
        p,
        "winJmphostVm",
        "Inbound",
        "TCP",
        "192.168.1.4:3389",
        "203.0.113.5:50000",
        ("Allow", "securityRules/NSG_RULE_INBOUND_RDP"),
    );
    assert_flow(
        &t,
        p,
        "winJmphostVm",
        "Inbound",
        "TCP",
        "192.168.1.4:22",
        "203.0.113.5:50000",
        ("Deny", "defaultSecurityRules/DenyAllInBound"),
    );
    // The peered spokes are in the VirtualNetwork tag (docs/semantics/dataplane.md 1.6, D11).
    assert_flow(
        &t,
        p,
        "winJmphostVm",
        "Inbound",
        "TCP",
        "192.168.1.4:22",
        "10.10.0.4:50000",
        ("Allow", "defaultSecurityRules/AllowVnetInBound"),
    );

    assert_outbound_snat(
        &t,
        p,
        "winJmphostVm",
        "publicIPAddresses/winJmphostVmPublicIp",
        "instance public IP",
    );
}

#[test]
fn warnings_name_the_resource_where_the_template_declares_it() {
    // Diagnostics give the place in the file: the storage account of hub-and-spoke-sandbox is
    // resources[21] (lines 646-675), whatever the conditions (lines 156, 228-402, 686) leave
    // out before it; the storage account of vnet-2subnets-service-endpoints-storage-integration
    // is resources[4] (lines 203-227), after two copy loops of two (lines 160-202).
    let out = vnetlab(
        "validate",
        &template("hub-and-spoke-sandbox"),
        &HUB_PARAMS,
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let line = stderr
        .lines()
        .find(|l| l.contains("Microsoft.Storage/storageAccounts"))
        .unwrap_or_else(|| panic!("a warning for the storage account: {stderr}"));
    assert!(line.contains("(resources[21])"), "{line}");
    let out = vnetlab(
        "validate",
        &template("vnet-2subnets-service-endpoints-storage-integration"),
        &SE_PARAMS,
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let line = stderr
        .lines()
        .find(|l| l.contains("Microsoft.Storage/storageAccounts"))
        .unwrap_or_else(|| panic!("a warning for the storage account: {stderr}"));
    assert!(line.contains("(resources[4])"), "{line}");
}

#[test]
fn hub_and_spoke_sandbox_with_the_vpn_gateway() {
    // deployVpnGateway=Yes with gatewaySku VpnGw1 (allowed, lines 48-60): GatewaySubnet, the
    // gateway and the gwPeering_* set (hub side allowGatewayTransit, spoke side
    // useRemoteGateways) replace the plain peerings: 6 subnets, 4 peerings, 1 gateway.
    let t = template("hub-and-spoke-sandbox");
    let mut p = HUB_PARAMS.to_vec();
    p.extend(["deployVpnGateway=Yes", "gatewaySku=VpnGw1"]);
    assert_counts(
        &t,
        &p,
        "3 VNets, 6 subnets, 4 peerings, 1 NICs, 1 VMs, 0 route tables, 1 NSGs, 1 gateways",
    );
    // No connection, so no gateway routes: the hub NIC's table is unchanged.
    let mut expected = bare_defaults("192.168.0.0/20");
    expected.push(r(
        "Default",
        "Active",
        "10.10.0.0/16",
        "VNetPeering",
        &[],
        None,
    ));
    expected.push(r(
        "Default",
        "Active",
        "10.100.0.0/16",
        "VNetPeering",
        &[],
        None,
    ));
    assert_routes(&t, &p, "winJmphostVmNIC", expected);
}

#[test]
fn hub_and_spoke_sandbox_refuses_gateway_transit_on_a_basic_gateway() {
    // deployVpnGateway=Yes with the default gatewaySku Basic: gateway transit (lines 245, 294)
    // needs a non-Basic SKU (docs/semantics/routing.md 7 [GW-TRANSIT]).
    let t = template("hub-and-spoke-sandbox");
    let mut p = HUB_PARAMS.to_vec();
    p.push("deployVpnGateway=Yes");
    assert_refused(&t, &p, &["Basic"]);
}

// =============================================================================================
// 7. security-group-create
// Lines 27-30: NSG networkSecurityGroup1, VNet virtualNetwork1, subnet "subnet".
// Lines 32-55: NSG with first_rule: Inbound Allow Tcp, source ports 23-45, destination ports
//   46-56, * -> *, priority 123. Lines 56-82: VNet 10.0.0.0/16, subnet 10.0.0.0/24 with the NSG.
// Counts: 1 VNet, 1 subnet, 1 NSG (1 rule), nothing else.
// Probe in "subnet" (10.0.0.4).
// =============================================================================================

#[test]
fn security_group_create() {
    let dir = scratch_dir();
    let t = template("security-group-create");
    assert_counts(
        &t,
        &[],
        "1 VNets, 1 subnets, 0 peerings, 0 NICs, 0 VMs, 0 route tables, 1 NSGs, 0 gateways",
    );

    let p = with_resources(
        &dir,
        "security-group-create",
        "sgc-probe",
        probe("probe-nic", "probe-vm", "virtualNetwork1", "subnet", None),
    );
    assert_routes(&p, &[], "probe-nic", bare_defaults("10.0.0.0/16"));
    let nsgs = effective_nsgs(&p, &[], "probe-nic");
    assert_eq!(nsgs.len(), 1, "{nsgs:?}");
    assert_eq!(
        nsgs[0]["networkSecurityGroup"]["id"],
        nsg_id("networkSecurityGroup1")
    );
    assert!(
        nsgs[0]["association"].get("subnet").is_some(),
        "{:?}",
        nsgs[0]["association"]
    );
    assert_eq!(rule_names(&nsgs[0]), with_defaults(&["first_rule"]));
    let first = rule(&nsgs[0], "securityRules/first_rule");
    assert_eq!(first["protocol"], "Tcp");
    assert_eq!(first["sourcePortRange"], "23-45");
    assert_eq!(first["destinationPortRange"], "46-56");
    assert_eq!(first["sourceAddressPrefix"], "0.0.0.0/0");
    assert_eq!(first["priority"], 123);
    assert_eq!(first["direction"], "Inbound");
    assert_eq!(first["access"], "Allow");

    // Source port 30 and destination port 50 are inside the ranges; source port 50000 is not.
    assert_flow(
        &p,
        &[],
        "probe-vm",
        "Inbound",
        "TCP",
        "10.0.0.4:50",
        "203.0.113.5:30",
        ("Allow", "securityRules/first_rule"),
    );
    assert_flow(
        &p,
        &[],
        "probe-vm",
        "Inbound",
        "TCP",
        "10.0.0.4:50",
        "203.0.113.5:50000",
        ("Deny", "defaultSecurityRules/DenyAllInBound"),
    );
    assert_flow(
        &p,
        &[],
        "probe-vm",
        "Inbound",
        "UDP",
        "10.0.0.4:50",
        "203.0.113.5:30",
        ("Deny", "defaultSecurityRules/DenyAllInBound"),
    );
}

// =============================================================================================
// 8. nsg-dmz-in-vnet
// Lines 5-60 parameters: VNet First_ARM_VNet 10.0.0.0/16; FESubnet 10.0.0.0/24, AppSubnet
//   10.0.1.0/24, DBSubnet 10.0.2.0/24; NSGs FE_NSG, App_NSG, DB_NSG.
// Lines 70-107 FE_NSG: rdp_rule (Tcp 3389 from Internet, 100), web_rule (Tcp 80 from Internet,
//   101). Lines 108-159 App_NSG: Allow_FE (Tcp 443 from 10.0.0.0/24, 100), Block_RDP_Internet
//   (Deny Tcp 3389 from Internet, 101), Block_Internet_Outbound (Deny * to Internet, 200,
//   Outbound). Lines 160-225 DB_NSG: Allow_App (Tcp 1433 from 10.0.1.0/24, 100), Block_FE (Deny
//   * from 10.0.0.0/24, 101), Block_App (Deny * from 10.0.1.0/24, 102), Block_Internet (Deny * to
//   Internet, 200, Outbound). Lines 226-272: the VNet, one NSG per subnet.
// Counts: 1 VNet, 3 subnets, 3 NSGs (2 + 3 + 4 rules), nothing else.
// Probes: fe (FESubnet, 10.0.0.4), app (AppSubnet, 10.0.1.4), db (DBSubnet, 10.0.2.4).
// =============================================================================================

fn nsg_dmz_probes(dir: &TempDir, out: &str) -> PathBuf {
    let mut extra = probe("fe-nic", "fe-vm", "First_ARM_VNet", "FESubnet", None);
    extra.extend(probe(
        "app-nic",
        "app-vm",
        "First_ARM_VNet",
        "AppSubnet",
        None,
    ));
    extra.extend(probe("db-nic", "db-vm", "First_ARM_VNet", "DBSubnet", None));
    with_resources(dir, "nsg-dmz-in-vnet", out, extra)
}

#[test]
fn nsg_dmz_in_vnet() {
    let dir = scratch_dir();
    let t = template("nsg-dmz-in-vnet");
    assert_counts(
        &t,
        &[],
        "1 VNets, 3 subnets, 0 peerings, 0 NICs, 0 VMs, 0 route tables, 3 NSGs, 0 gateways",
    );

    let p = nsg_dmz_probes(&dir, "nsg-dmz-probes");
    let no = &[];
    assert_routes(&p, no, "db-nic", bare_defaults("10.0.0.0/16"));
    let fe = effective_nsgs(&p, no, "fe-nic");
    assert_eq!(fe.len(), 1);
    assert_eq!(rule_names(&fe[0]), with_defaults(&["rdp_rule", "web_rule"]));
    assert_eq!(
        rule_names(&effective_nsgs(&p, no, "app-nic")[0]),
        with_defaults(&["Allow_FE", "Block_RDP_Internet", "Block_Internet_Outbound"])
    );
    assert_eq!(
        rule_names(&effective_nsgs(&p, no, "db-nic")[0]),
        with_defaults(&["Allow_App", "Block_FE", "Block_App", "Block_Internet"])
    );

    // Front end: RDP and HTTP from the Internet, nothing else.
    assert_flow(
        &p,
        no,
        "fe-vm",
        "Inbound",
        "TCP",
        "10.0.0.4:3389",
        "203.0.113.5:50000",
        ("Allow", "securityRules/rdp_rule"),
    );
    assert_flow(
        &p,
        no,
        "fe-vm",
        "Inbound",
        "TCP",
        "10.0.0.4:80",
        "203.0.113.5:50000",
        ("Allow", "securityRules/web_rule"),
    );
    assert_flow(
        &p,
        no,
        "fe-vm",
        "Inbound",
        "TCP",
        "10.0.0.4:443",
        "203.0.113.5:50000",
        ("Deny", "defaultSecurityRules/DenyAllInBound"),
    );
    // App tier: 443 from the front-end subnet, RDP from the Internet blocked, no Internet out.
    assert_flow(
        &p,
        no,
        "app-vm",
        "Inbound",
        "TCP",
        "10.0.1.4:443",
        "10.0.0.4:50000",
        ("Allow", "securityRules/Allow_FE"),
    );
    assert_flow(
        &p,
        no,
        "app-vm",
        "Inbound",
        "TCP",
        "10.0.1.4:3389",
        "203.0.113.5:50000",
        ("Deny", "securityRules/Block_RDP_Internet"),
    );
    assert_flow(
        &p,
        no,
        "app-vm",
        "Inbound",
        "TCP",
        "10.0.1.4:22",
        "10.0.0.4:50000",
        ("Allow", "defaultSecurityRules/AllowVnetInBound"),
    );
    assert_flow(
        &p,
        no,
        "app-vm",
        "Outbound",
        "TCP",
        "10.0.1.4:50000",
        "203.0.113.5:443",
        ("Deny", "securityRules/Block_Internet_Outbound"),
    );
    assert_flow(
        &p,
        no,
        "app-vm",
        "Outbound",
        "TCP",
        "10.0.1.4:50000",
        "10.0.2.4:1433",
        ("Allow", "defaultSecurityRules/AllowVnetOutBound"),
    );
    // Database tier: 1433 from the app subnet only.
    assert_flow(
        &p,
        no,
        "db-vm",
        "Inbound",
        "TCP",
        "10.0.2.4:1433",
        "10.0.1.4:50000",
        ("Allow", "securityRules/Allow_App"),
    );
    assert_flow(
        &p,
        no,
        "db-vm",
        "Inbound",
        "TCP",
        "10.0.2.4:22",
        "10.0.1.4:50000",
        ("Deny", "securityRules/Block_App"),
    );
    assert_flow(
        &p,
        no,
        "db-vm",
        "Inbound",
        "TCP",
        "10.0.2.4:1433",
        "10.0.0.4:50000",
        ("Deny", "securityRules/Block_FE"),
    );
    assert_flow(
        &p,
        no,
        "db-vm",
        "Outbound",
        "UDP",
        "10.0.2.4:50000",
        "203.0.113.5:53",
        ("Deny", "securityRules/Block_Internet"),
    );
}

#[test]
fn nsg_dmz_in_vnet_with_its_parameters_file() {
    let dir = scratch_dir();
    // The file renames the NSGs fensg, appnsg, dbnsg.
    let params = s(&parameters_file("nsg-dmz-in-vnet"));
    let t = template("nsg-dmz-in-vnet");
    assert_counts(
        &t,
        &[&params],
        "1 VNets, 3 subnets, 0 peerings, 0 NICs, 0 VMs, 0 route tables, 3 NSGs, 0 gateways",
    );
    let p = nsg_dmz_probes(&dir, "nsg-dmz-file-probes");
    assert_eq!(
        effective_nsgs(&p, &[&params], "fe-nic")[0]["networkSecurityGroup"]["id"],
        nsg_id("fensg")
    );
    assert_eq!(
        effective_nsgs(&p, &[&params], "db-nic")[0]["networkSecurityGroup"]["id"],
        nsg_id("dbnsg")
    );
}

// =============================================================================================
// 9. application-security-group (required: adminUsername, adminPasswordOrKey)
// _artifactsLocation (lines 5-11) defaults to deployment().properties.templateLink.uri, which
// does not exist when the template is deployed from a local file (there is no templateLink):
// it is passed explicitly here, as `az deployment group create --template-file` needs it.
// Lines 64-95 variables: vnet "vnet" 10.0.0.0/16, subnet01 10.0.0.0/24, ASG webServersAsg, NSG
// webNsg, pip webServerPip.
// Lines 97-104: ASG. Lines 105-154: NSG webNsg: AllowHttpAll (Tcp 80 from * to ASG, 100),
//   AllowSshAll (Tcp 22 from * to ASG, 200). Lines 155-182: VNet (variables('vNetName') vs
//   declared vnetName: case-insensitive), subnet01 with webNsg. Lines 183-192: pip.
// Lines 193-224: NIC VM-NIC (concat(vmName,'-NIC')), Dynamic -> 10.0.0.4, in webServersAsg.
// Lines 225-263: VM "VM". Lines 264-285: extension (ignored).
// Counts: 1 VNet, 1 subnet, 1 NIC, 1 VM, 1 NSG (2 rules), 1 ASG, 1 public IP.
// Probe: a NIC in subnet01 that is not in the ASG (10.0.0.5): the ASG rules do not apply to it
// (docs/semantics/dataplane.md 1.7).
// =============================================================================================

const ASG_PARAMS: [&str; 3] = [
    "adminUsername=azureuser",
    "adminPasswordOrKey=Dummy-Passw0rd!",
    "_artifactsLocation=https://example.com/asg/",
];

#[test]
fn application_security_group() {
    let dir = scratch_dir();
    let t = template("application-security-group");
    let p = &ASG_PARAMS;
    assert_counts(
        &t,
        p,
        "1 VNets, 1 subnets, 0 peerings, 1 NICs, 1 VMs, 0 route tables, 1 NSGs, 0 gateways",
    );
    assert_routes(&t, p, "VM-NIC", bare_defaults("10.0.0.0/16"));
    assert_flow(
        &t,
        p,
        "VM",
        "Inbound",
        "TCP",
        "10.0.0.4:80",
        "203.0.113.5:50000",
        ("Allow", "securityRules/AllowHttpAll"),
    );
    assert_flow(
        &t,
        p,
        "VM",
        "Inbound",
        "TCP",
        "10.0.0.4:22",
        "203.0.113.5:50000",
        ("Allow", "securityRules/AllowSshAll"),
    );
    assert_flow(
        &t,
        p,
        "VM",
        "Inbound",
        "TCP",
        "10.0.0.4:443",
        "203.0.113.5:50000",
        ("Deny", "defaultSecurityRules/DenyAllInBound"),
    );
    assert_outbound_snat(
        &t,
        p,
        "VM",
        "publicIPAddresses/webServerPip",
        "instance public IP",
    );

    let probe_file = with_resources(
        &dir,
        "application-security-group",
        "asg-probe",
        probe("probe-nic", "probe-vm", "vnet", "subnet01", None),
    );
    assert_flow(
        &probe_file,
        p,
        "probe-vm",
        "Inbound",
        "TCP",
        "10.0.0.5:80",
        "203.0.113.5:50000",
        ("Deny", "defaultSecurityRules/DenyAllInBound"),
    );
    assert_flow(
        &probe_file,
        p,
        "probe-vm",
        "Inbound",
        "TCP",
        "10.0.0.5:22",
        "203.0.113.5:50000",
        ("Deny", "defaultSecurityRules/DenyAllInBound"),
    );
    // The ASG member is still allowed (its address did not move: VM-NIC comes first).
    assert_flow(
        &probe_file,
        p,
        "VM",
        "Inbound",
        "TCP",
        "10.0.0.4:80",
        "203.0.113.5:50000",
        ("Allow", "securityRules/AllowHttpAll"),
    );
}

#[test]
fn application_security_group_without_artifacts_location_from_a_local_file() {
    // Without _artifactsLocation the default deployment().properties.templateLink.uri is
    // evaluated; a deployment from a local file has no templateLink, so Azure refuses it.
    let t = template("application-security-group");
    assert_refused(
        &t,
        &["adminUsername=azureuser", "adminPasswordOrKey=x"],
        &["templateLink"],
    );
}

// =============================================================================================
// 10. load-balancer-standard-create (required: projectName, adminUsername, adminPassword)
// With projectName = lbtest. Lines 45-65 variables: lbtest-lb (Standard), frontends
//   LoadBalancerFrontEnd / LoadBalancerFrontEndOutbound, pools LoadBalancerBackEndPool /
//   LoadBalancerBackEndPoolOutbound, NSG lbtest-nsg, VNet lbtest-vnet 10.0.0.0/16,
//   BackendSubnet 10.0.0.0/24, AzureBastionSubnet 10.0.1.0/24.
// Lines 67-106: NICs (copy length(range(0,3)) = 3) format('{0}-vm{1}-networkInterface', ...,
//   add(range(0,3)[i],1)) = lbtest-vm1..3-networkInterface, Dynamic -> 10.0.0.4, .5, .6 (D14),
//   both pools, NIC NSG lbtest-nsg. Lines 107-128: extensions (ignored). Lines 129-179: VMs
//   lbtest-vm1..3 (range(1,3) = [1,2,3]). Lines 180-201: subnets. Lines 202-227: Bastion
//   (ignored; its publicIPAddress.id is a bare name, line 214). Lines 228-240, 336-361: 3 Standard
//   public IPs. Lines 241-335: LB with rule myHTTPRule (80, disableOutboundSnat), probe, outbound
//   rule myOutboundRule (pool ...Outbound -> frontend ...Outbound). Lines 362-384: NSG rule
//   AllowHTTPInbound (* 80 from Internet, 100). Lines 385-397: VNet.
// Counts: 1 VNet, 2 subnets, 3 NICs, 3 VMs, 0 route tables, 1 NSG, 0 gateways, 3 public IPs.
// Outbound: no NAT gateway, no instance public IP: the LB outbound rule SNATs (docs/semantics/dataplane.md 5.3).
// =============================================================================================

const LB_PARAMS: [&str; 3] = [
    "projectName=lbtest",
    "adminUsername=azureuser",
    "adminPassword=Dummy-Passw0rd!",
];

#[test]
fn load_balancer_standard_create() {
    let t = template("load-balancer-standard-create");
    let p = &LB_PARAMS;
    assert_counts(
        &t,
        p,
        "1 VNets, 2 subnets, 0 peerings, 3 NICs, 3 VMs, 0 route tables, 1 NSGs, 0 gateways",
    );
    assert_routes(
        &t,
        p,
        "lbtest-vm3-networkInterface",
        bare_defaults("10.0.0.0/16"),
    );
    assert_next_hop(
        &t,
        p,
        "lbtest-vm3",
        "10.0.0.6",
        "10.0.0.4",
        ("VnetLocal", None, "System Route"),
    );
    assert_flow(
        &t,
        p,
        "lbtest-vm1",
        "Inbound",
        "TCP",
        "10.0.0.4:80",
        "203.0.113.5:50000",
        ("Allow", "securityRules/AllowHTTPInbound"),
    );
    assert_flow(
        &t,
        p,
        "lbtest-vm2",
        "Inbound",
        "TCP",
        "10.0.0.5:3389",
        "203.0.113.5:50000",
        ("Deny", "defaultSecurityRules/DenyAllInBound"),
    );
    let nsgs = effective_nsgs(&t, p, "lbtest-vm2-networkInterface");
    assert_eq!(nsgs.len(), 1);
    assert_eq!(nsgs[0]["networkSecurityGroup"]["id"], nsg_id("lbtest-nsg"));
    assert_eq!(rule_names(&nsgs[0]), with_defaults(&["AllowHTTPInbound"]));
    assert_outbound_snat(
        &t,
        p,
        "lbtest-vm1",
        "loadBalancers/lbtest-lb",
        "outboundRules/myOutboundRule",
    );
}

#[test]
fn load_balancer_standard_create_with_its_parameters_file() {
    // projectName GEN-UNIQUE-8 and location centralus from the file.
    let t = template("load-balancer-standard-create");
    let params = s(&parameters_file("load-balancer-standard-create"));
    assert_counts(
        &t,
        &[&params],
        "1 VNets, 2 subnets, 0 peerings, 3 NICs, 3 VMs, 0 route tables, 1 NSGs, 0 gateways",
    );
    assert_routes(
        &t,
        &[&params],
        "GEN-UNIQUE-8-vm1-networkInterface",
        bare_defaults("10.0.0.0/16"),
    );
}

// =============================================================================================
// 11. internal-loadbalancer-create (required: adminUsername, adminPassword)
// Lines 74-88 variables: NAT gateway lb-nat-gateway (pip lb-nat-gateway-ip), VNet lb-vnet,
//   backend-subnet, LB internal-lb, NICs lb-nic{i}, 2 instances, Bastion lb-bastion.
// Lines 90-123: NAT gateway + Standard pip. Lines 124-162: VNet 10.0.0.0/16; subnets
//   AzureBastionSubnet 10.0.2.0/24 and backend-subnet 10.0.0.0/24 (NAT gateway on it).
// Lines 163-201: Bastion (ignored) + pip lb-bastion-ip. Lines 202-234: NICs lb-nic0, lb-nic1
//   (Dynamic, BackendPool1). Lines 235-296: LB internal-lb, frontend static 10.0.0.6
//   (lbFrontendIPAddress), so the NICs get 10.0.0.4 and 10.0.0.5. Lines 297-306: storage
//   (ignored). Lines 307-354: VMs BackendVM0, BackendVM1 (nested range() indexing).
// Counts: 1 VNet, 2 subnets, 2 NICs, 2 VMs, 0 route tables, 0 NSGs, 0 gateways, 2 public IPs.
// Outbound: the NAT gateway of backend-subnet (an internal LB gives no outbound, docs/semantics/dataplane.md 5.3).
// =============================================================================================

const ILB_PARAMS: [&str; 2] = ["adminUsername=azureuser", "adminPassword=Dummy-Passw0rd!"];

#[test]
fn internal_loadbalancer_create() {
    let t = template("internal-loadbalancer-create");
    let p = &ILB_PARAMS;
    assert_counts(
        &t,
        p,
        "1 VNets, 2 subnets, 0 peerings, 2 NICs, 2 VMs, 0 route tables, 0 NSGs, 0 gateways",
    );
    assert_routes(&t, p, "lb-nic0", bare_defaults("10.0.0.0/16"));
    assert_routes(&t, p, "lb-nic1", bare_defaults("10.0.0.0/16"));
    assert_next_hop(
        &t,
        p,
        "BackendVM0",
        "10.0.0.4",
        "10.0.0.6",
        ("VnetLocal", None, "System Route"),
    );
    assert_next_hop(
        &t,
        p,
        "BackendVM1",
        "10.0.0.5",
        "8.8.8.8",
        ("Internet", None, "System Route"),
    );
    assert!(
        effective_nsgs(&t, p, "lb-nic0").is_empty(),
        "no NSG anywhere"
    );
    assert_outbound_snat(
        &t,
        p,
        "BackendVM0",
        "natGateways/lb-nat-gateway",
        "natGateway",
    );
}

#[test]
fn internal_loadbalancer_create_refuses_its_parameters_file() {
    // The file (another commit than the template, see SOURCES.md) gives subnetPrefix and
    // lbPublicIPAddress, which the template does not declare: Azure refuses a deployment whose
    // parameters are not all declared in the template (vnetAddressPrefix matches
    // vNetAddressPrefix, names being case-insensitive).
    let t = template("internal-loadbalancer-create");
    let params = s(&parameters_file("internal-loadbalancer-create"));
    assert_refused(&t, &[&params], &["subnetPrefix", "lbPublicIPAddress"]);
}

#[test]
fn internal_loadbalancer_create_refuses_a_frontend_address_azure_would_refuse() {
    // lbFrontendIPAddress (lines 66-72) is the LB frontend's static address in backend-subnet
    // 10.0.0.0/24 (lines 246-252). Azure refuses a static private address outside the subnet
    // and the subnet's reserved addresses (.0-.3 and the last: docs/semantics/dataplane.md 4.2), as for a NIC.
    let t = template("internal-loadbalancer-create");
    let mut p = ILB_PARAMS.to_vec();
    p.push("lbFrontendIPAddress=10.0.5.6");
    assert_refused(&t, &p, &["10.0.5.6"]);
    let mut p = ILB_PARAMS.to_vec();
    p.push("lbFrontendIPAddress=10.0.0.2");
    assert_refused(&t, &p, &["10.0.0.2"]);
}

// =============================================================================================
// 12. 2-vms-loadbalancer-natrules (required: adminUsername, adminPassword)
// As copied, the VM's NIC reference (line 309) is
//   resourceId('Microsoft.Network/networkInterfaces', parameters('nicNamePrefix'), copyindex())
// : two name arguments for a one-segment type. ARM's resourceId refuses that ("the type ...
// requires '1' resource name argument(s)"), and upstream fixed exactly this line later (commit
// fcb74558: concat(parameters('nicNamePrefix'), copyindex())). So Azure refuses the template as
// it is; the facts below are asserted on a copy with only that upstream fix applied.
// Lines 102-112 variables: VNet myVNET 10.0.0.0/16, Subnet-1 10.0.0.0/24, NSG Subnet-1-nsg,
//   2 instances. Lines 114-133: storage, availability set (ignored). Lines 134-145: pip myPublicIP
//   (Basic, Dynamic). Lines 146-153: NSG Subnet-1-nsg with no rules. Lines 154-180: VNet, subnet
//   with the NSG. Lines 181-220: NICs nic0, nic1 (Dynamic -> 10.0.0.4, .5; "variables
//   ('subnetName')" with a space, which ARM accepts), in pool LoadBalancerBackend, inbound NAT
//   rules RDP-VM0/1. Lines 221-246: LB myLB (Basic), frontend LoadBalancerFrontend. Lines
//   247-268: inbound NAT rules as child resources (frontend referenced as
//   'loadBalancerFrontend': IDs are case-insensitive), ports 5000/5001 -> 3389. Lines 269-320:
//   VMs myVM0, myVM1.
// Counts: 1 VNet, 1 subnet, 2 NICs, 2 VMs, 0 route tables, 1 NSG (no rules), 0 gateways,
//   1 public IP.
// NSG: the empty subnet NSG denies RDP from the Internet (the NAT rules' traffic too: NSGs see
//   the backend address and port, docs/semantics/dataplane.md 1.3).
// =============================================================================================

const NATRULES_PARAMS: [&str; 2] = ["adminUsername=azureuser", "adminPassword=Dummy-Passw0rd!"];
const NATRULES_BROKEN: &str =
    "[resourceId('Microsoft.Network/networkInterfaces',parameters('nicNamePrefix'),copyindex())]";
const NATRULES_FIXED: &str = "[resourceId('Microsoft.Network/networkInterfaces', concat(parameters('nicNamePrefix'),copyindex()))]";

#[test]
fn two_vms_loadbalancer_natrules_as_copied_is_refused_like_azure() {
    let t = template("2-vms-loadbalancer-natrules");
    assert_refused(&t, &NATRULES_PARAMS, &["resourceId"]);
}

#[test]
fn two_vms_loadbalancer_natrules_with_the_upstream_fix() {
    let dir = scratch_dir();
    let text = std::fs::read_to_string(template("2-vms-loadbalancer-natrules")).unwrap();
    assert_eq!(text.matches(NATRULES_BROKEN).count(), 1, "the line to fix");
    let fixed = dir.path().join("2-vms-loadbalancer-natrules-fixed.json");
    std::fs::write(&fixed, text.replace(NATRULES_BROKEN, NATRULES_FIXED)).unwrap();
    let p = &NATRULES_PARAMS;
    assert_counts(
        &fixed,
        p,
        "1 VNets, 1 subnets, 0 peerings, 2 NICs, 2 VMs, 0 route tables, 1 NSGs, 0 gateways",
    );
    assert_routes(&fixed, p, "nic1", bare_defaults("10.0.0.0/16"));
    assert_next_hop(
        &fixed,
        p,
        "myVM1",
        "10.0.0.5",
        "10.0.0.4",
        ("VnetLocal", None, "System Route"),
    );
    let nsgs = effective_nsgs(&fixed, p, "nic0");
    assert_eq!(nsgs.len(), 1);
    assert_eq!(
        nsgs[0]["networkSecurityGroup"]["id"],
        nsg_id("Subnet-1-nsg")
    );
    assert_eq!(rule_names(&nsgs[0]), with_defaults(&[]));
    assert_flow(
        &fixed,
        p,
        "myVM0",
        "Inbound",
        "TCP",
        "10.0.0.4:3389",
        "203.0.113.5:50000",
        ("Deny", "defaultSecurityRules/DenyAllInBound"),
    );
    assert_flow(
        &fixed,
        p,
        "myVM1",
        "Inbound",
        "TCP",
        "10.0.0.5:3389",
        "10.0.0.4:50000",
        ("Allow", "defaultSecurityRules/AllowVnetInBound"),
    );
}

// =============================================================================================
// 13. nat-gateway-1-vm (required: adminusername, adminPasswordOrKey)
// Lines 12-88 parameters: vm-1, vnet-1 10.0.0.0/16, subnet-1 10.0.0.0/24, nat-gateway, nic-1,
//   public-ip-nat, bastion-host, nsg-1.
// Lines 123-129: NSG nsg-1 with no rules. Lines 130-148: pip public-ip-nat (StandardV2, zones).
// Lines 149-192: VM vm-1. Lines 193-223: VNet with subnet-1 inline (NAT gateway), and lines
//   249-265 declare the same subnet again as a child resource "vnet-1/subnet-1" (same
//   properties): one subnet, as in Azure (a second PUT of the same subnet).
// Lines 224-248: NAT gateway (StandardV2). Lines 266-296: NIC nic-1, privateIPAddress 10.0.0.4
//   with Dynamic -> 10.0.0.4, NIC NSG nsg-1. Lines 297-313: Bastion Developer SKU (ignored).
// Counts: 1 VNet, 1 subnet, 1 NIC, 1 VM, 0 route tables, 1 NSG (no rules), 0 gateways, 1 public IP.
// =============================================================================================

const NATGW_PARAMS: [&str; 2] = [
    "adminusername=azureuser",
    "adminPasswordOrKey=ssh-rsa AAAAdummy",
];

#[test]
fn nat_gateway_1_vm() {
    let t = template("nat-gateway-1-vm");
    let p = &NATGW_PARAMS;
    assert_counts(
        &t,
        p,
        "1 VNets, 1 subnets, 0 peerings, 1 NICs, 1 VMs, 0 route tables, 1 NSGs, 0 gateways",
    );
    assert_routes(&t, p, "nic-1", bare_defaults("10.0.0.0/16"));
    assert_next_hop(
        &t,
        p,
        "vm-1",
        "10.0.0.4",
        "8.8.8.8",
        ("Internet", None, "System Route"),
    );
    let nsgs = effective_nsgs(&t, p, "nic-1");
    assert_eq!(nsgs.len(), 1);
    assert_eq!(nsgs[0]["networkSecurityGroup"]["id"], nsg_id("nsg-1"));
    assert_eq!(rule_names(&nsgs[0]), with_defaults(&[]));
    assert_flow(
        &t,
        p,
        "vm-1",
        "Inbound",
        "TCP",
        "10.0.0.4:22",
        "203.0.113.5:50000",
        ("Deny", "defaultSecurityRules/DenyAllInBound"),
    );
    assert_flow(
        &t,
        p,
        "vm-1",
        "Outbound",
        "TCP",
        "10.0.0.4:50000",
        "203.0.113.5:443",
        ("Allow", "defaultSecurityRules/AllowInternetOutBound"),
    );
    assert_outbound_snat(&t, p, "vm-1", "natGateways/nat-gateway", "natGateway");
}

#[test]
fn nat_gateway_1_vm_with_its_parameters_file() {
    let t = template("nat-gateway-1-vm");
    let params = s(&parameters_file("nat-gateway-1-vm"));
    assert_counts(
        &t,
        &[&params],
        "1 VNets, 1 subnets, 0 peerings, 1 NICs, 1 VMs, 0 route tables, 1 NSGs, 0 gateways",
    );
}

// =============================================================================================
// 14. nat-gateway-hub-spoke-firewall (required: adminSshKey; resourcePrefix = natfw, its default
//   is format('natfw-{0}', uniqueString(resourceGroup().id)), checked separately)
// Lines 61-99: hub VNet natfw-vnet-hub 10.0.0.0/16: subnet-1 10.0.0.0/24, AzureFirewallSubnet
//   10.0.1.64/26 (NAT gateway), AzureBastionSubnet 10.0.1.0/26. Lines 100-126: spoke
//   natfw-vnet-spoke 10.1.0.0/16: subnet-private 10.1.0.0/24 with the route table.
// Lines 127-256: Bastion, firewall policy + rule collection group, Azure Firewall natfw-firewall
//   in AzureFirewallSubnet: all ignored (not modelled). Lines 127-138, 164-175, 257-268: 3 pips.
// Lines 269-288: NAT gateway. Lines 289-324: peerings vnet-hub-to-vnet-spoke and
//   vnet-spoke-to-vnet-hub (both sides: Connected).
// Lines 325-346: route table natfw-route-table-spoke, disableBgpRoutePropagation true, route
//   route-to-hub 0.0.0.0/0 -> VirtualAppliance reference(firewall).ipConfigurations[0]
//   .properties.privateIPAddress: the firewall's private IP, which Azure gives as the first
//   usable address of AzureFirewallSubnet: 10.0.1.68 (the same rule makes the next hop of
//   azurefirewall-forced-tunneling, whose firewall subnet is 10.0.1.0/24, 10.0.1.4). The
//   firewall itself is not a NIC: vnetlab ignores it, so traces stop there.
// Lines 347-353: NSG natfw-nsg-vm, no rules. Lines 354-379: NIC natfw-nic-vm-spoke in
//   subnet-private (Dynamic -> 10.1.0.4), NIC NSG. Lines 380-419: VM natfw-vm-spoke.
// Counts: 2 VNets, 4 subnets, 2 peerings, 1 NIC, 1 VM, 1 route table (1 route), 1 NSG,
//   0 gateways, 3 public IPs.
// Spoke NIC: User 0.0.0.0/0 Active, Default 0.0.0.0/0 Internet Invalid, the reserved None rows
//   removed (D5), the hub's 10.0.0.0/16 by peering; disableBgpRoutePropagation true on each row.
// =============================================================================================

const NATFW_PARAMS: [&str; 2] = ["adminSshKey=ssh-rsa AAAAdummy", "resourcePrefix=natfw"];

#[test]
fn nat_gateway_hub_spoke_firewall() {
    let t = template("nat-gateway-hub-spoke-firewall");
    let p = &NATFW_PARAMS;
    assert_counts(
        &t,
        p,
        "2 VNets, 4 subnets, 2 peerings, 1 NICs, 1 VMs, 1 route tables, 1 NSGs, 0 gateways",
    );
    assert_routes(
        &t,
        p,
        "natfw-nic-vm-spoke",
        vec![
            r("Default", "Active", "10.1.0.0/16", "VnetLocal", &[], None),
            r("Default", "Active", "10.0.0.0/16", "VNetPeering", &[], None),
            r("Default", "Invalid", "0.0.0.0/0", "Internet", &[], None),
            r(
                "User",
                "Active",
                "0.0.0.0/0",
                "VirtualAppliance",
                &["10.0.1.68"],
                Some("route-to-hub"),
            ),
        ],
    );
    assert_bgp_propagation_disabled(&t, p, "natfw-nic-vm-spoke", true);
    assert_next_hop(
        &t,
        p,
        "natfw-vm-spoke",
        "10.1.0.4",
        "8.8.8.8",
        (
            "VirtualAppliance",
            Some("10.0.1.68"),
            &route_table_id("natfw-route-table-spoke"),
        ),
    );
    // 10.5.0.1 would hit 10.0.0.0/8 None without D5; with the None rows removed it follows 0/0.
    assert_next_hop(
        &t,
        p,
        "natfw-vm-spoke",
        "10.1.0.4",
        "10.5.0.1",
        (
            "VirtualAppliance",
            Some("10.0.1.68"),
            &route_table_id("natfw-route-table-spoke"),
        ),
    );
    assert_next_hop(
        &t,
        p,
        "natfw-vm-spoke",
        "10.1.0.4",
        "10.0.0.4",
        ("VNetPeering", None, "System Route"),
    );
    // The UDR 0.0.0.0/0 puts 0.0.0.0/0 in the subnet's VirtualNetwork tag (D11, docs/semantics/dataplane.md
    // scenario 23): AllowVnetInBound of the empty NIC NSG then admits an Internet source.
    assert_flow(
        &t,
        p,
        "natfw-vm-spoke",
        "Inbound",
        "TCP",
        "10.1.0.4:22",
        "203.0.113.5:50000",
        ("Allow", "defaultSecurityRules/AllowVnetInBound"),
    );
    let nsgs = effective_nsgs(&t, p, "natfw-nic-vm-spoke");
    assert_eq!(nsgs.len(), 1);
    assert_eq!(rule_names(&nsgs[0]), with_defaults(&[]));
}

#[test]
fn nat_gateway_hub_spoke_firewall_default_prefix_is_a_unique_string() {
    // With the default resourcePrefix, names are natfw-<uniqueString: 13 lowercase base-32
    // characters>-...: the NIC is found under that name.
    let t = template("nat-gateway-hub-spoke-firewall");
    let p = &["adminSshKey=ssh-rsa AAAAdummy"];
    assert_counts(
        &t,
        p,
        "2 VNets, 4 subnets, 2 peerings, 1 NICs, 1 VMs, 1 route tables, 1 NSGs, 0 gateways",
    );
    let out = vnetlab("routes", &t, p, &["--nic", "no-such-nic"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let nic = stderr
        .split(|c: char| c.is_whitespace() || c == ',' || c == '\'')
        .find(|w| w.starts_with("natfw-") && w.ends_with("-nic-vm-spoke"))
        .unwrap_or_else(|| panic!("the hint should list the NIC: {stderr}"))
        .to_string();
    let unique = &nic["natfw-".len()..nic.len() - "-nic-vm-spoke".len()];
    assert_eq!(unique.len(), 13, "{nic}");
    assert!(
        unique
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        "{nic}"
    );
    let rows = routes_raw(&t, p, &nic);
    assert!(
        rows.iter().map(parse_route).any(|r| r.source == "User"
            && r.prefixes == ["0.0.0.0/0"]
            && r.next_hop_ips == ["10.0.1.68"]),
        "{rows:?}"
    );
}

#[test]
fn nat_gateway_hub_spoke_firewall_refuses_its_parameters_file() {
    // The file (another commit) sets adminPasswordOrKey, which the template does not declare,
    // and leaves adminSshKey (no default) unset: Azure refuses both.
    let t = template("nat-gateway-hub-spoke-firewall");
    let params = s(&parameters_file("nat-gateway-hub-spoke-firewall"));
    assert_refused(&t, &[&params], &["adminPasswordOrKey", "adminSshKey"]);
}

// =============================================================================================
// 15. azurefirewall-forced-tunneling (required: adminUsername, adminPasswordOrKey)
// Lines 74-131 variables: from-vnet 10.0.0.0/16 (JumpboxSubnet 10.0.0.0/24,
//   AzureFirewallManagementSubnet 10.0.3.0/24, AzureFirewallSubnet 10.0.1.0/24, ServersSubnet
//   10.0.2.0/24), next hop 10.0.1.4; to-vnet 172.16.0.0/16 (AzureFirewallSubnet 172.16.1.0/24),
//   next hop 172.16.1.4; a variable copy loop building the firewall's ipConfigurations.
// Lines 134-145: storage (ignored). Lines 146-164: route table AzfwRouteTable, AzfwDefaultRoute
//   0.0.0.0/0 -> VirtualAppliance 10.0.1.4. Lines 165-183: TunnelToRouteTable,
//   TunnelToDefaultRoute 0.0.0.0/0 -> VirtualAppliance 172.16.1.4.
// Lines 184-235: from-vnet; AzureFirewallSubnet uses TunnelToRouteTable, ServersSubnet uses
//   AzfwRouteTable. Lines 236-259: to-vnet. Lines 260-299: peerings TunnelToPeering and
//   TunnelFromPeering (both sides). Lines 300-351: pips AzFwDataPublicIP1 (copy of 1),
//   AzFwManagementPublicIP, tunnelToPIP, JumpHostPublicIP. Lines 352-374: NSG JumpHostNSG,
//   myNetworkSecurityGroupRuleSSH (Tcp 22 from *, 1000).
// Lines 375-404: NIC JumpHostNic (variables('JumpBoxNicName'), declared jumpBoxNicName) in
//   JumpboxSubnet -> 10.0.0.4, pip, NIC NSG. Lines 405-426: NIC ServerNic in ServersSubnet ->
//   10.0.2.4. Lines 427-516: VMs JumpBox and Server. Lines 517-681: the two Azure Firewalls
//   (ignored: the next hops 10.0.1.4 and 172.16.1.4 are firewalls, not NICs, so traces through
//   them stop; effective routes and next hops are unaffected).
// Counts: 2 VNets, 5 subnets, 2 peerings, 2 NICs, 2 VMs, 2 route tables (1 route each), 1 NSG,
//   0 gateways, 4 public IPs.
// =============================================================================================

const AZFW_PARAMS: [&str; 2] = [
    "adminUsername=azureuser",
    "adminPasswordOrKey=ssh-rsa AAAAdummy",
];

#[test]
fn azurefirewall_forced_tunneling() {
    let t = template("azurefirewall-forced-tunneling");
    let p = &AZFW_PARAMS;
    assert_counts(
        &t,
        p,
        "2 VNets, 5 subnets, 2 peerings, 2 NICs, 2 VMs, 2 route tables, 1 NSGs, 0 gateways",
    );
    assert_routes(
        &t,
        p,
        "ServerNic",
        vec![
            r("Default", "Active", "10.0.0.0/16", "VnetLocal", &[], None),
            r(
                "Default",
                "Active",
                "172.16.0.0/16",
                "VNetPeering",
                &[],
                None,
            ),
            r("Default", "Invalid", "0.0.0.0/0", "Internet", &[], None),
            r(
                "User",
                "Active",
                "0.0.0.0/0",
                "VirtualAppliance",
                &["10.0.1.4"],
                Some("AzfwDefaultRoute"),
            ),
        ],
    );
    assert_bgp_propagation_disabled(&t, p, "ServerNic", false);
    let mut jump = bare_defaults("10.0.0.0/16");
    jump.push(r(
        "Default",
        "Active",
        "172.16.0.0/16",
        "VNetPeering",
        &[],
        None,
    ));
    assert_routes(&t, p, "JumpHostNic", jump);

    assert_next_hop(
        &t,
        p,
        "Server",
        "10.0.2.4",
        "8.8.8.8",
        (
            "VirtualAppliance",
            Some("10.0.1.4"),
            &route_table_id("AzfwRouteTable"),
        ),
    );
    assert_next_hop(
        &t,
        p,
        "Server",
        "10.0.2.4",
        "172.16.1.4",
        ("VNetPeering", None, "System Route"),
    );
    assert_next_hop(
        &t,
        p,
        "Server",
        "10.0.2.4",
        "10.0.0.4",
        ("VnetLocal", None, "System Route"),
    );
    assert_next_hop(
        &t,
        p,
        "JumpBox",
        "10.0.0.4",
        "8.8.8.8",
        ("Internet", None, "System Route"),
    );

    assert_flow(
        &t,
        p,
        "JumpBox",
        "Inbound",
        "TCP",
        "10.0.0.4:22",
        "203.0.113.5:50000",
        ("Allow", "securityRules/myNetworkSecurityGroupRuleSSH"),
    );
    assert_flow(
        &t,
        p,
        "JumpBox",
        "Inbound",
        "TCP",
        "10.0.0.4:3389",
        "203.0.113.5:50000",
        ("Deny", "defaultSecurityRules/DenyAllInBound"),
    );
    assert!(
        effective_nsgs(&t, p, "ServerNic").is_empty(),
        "ServerNic has no NSG on NIC or subnet"
    );
    assert_outbound_snat(
        &t,
        p,
        "JumpBox",
        "publicIPAddresses/JumpHostPublicIP",
        "instance public IP",
    );
}

// =============================================================================================
// 16. vnet-2subnets-service-endpoints-storage-integration (required: adminUsername, adminPassword)
// Lines 87-96 variables: subnetId array of the two subnet IDs, NSG default-NSG.
// Lines 98-121: NSG default-NSG, default-allow-3389 (Tcp 3389 from *, 1000).
// Lines 122-159: VNet VNet1 10.0.0.0/16: subnet1 10.0.1.0/24 with service endpoint
//   Microsoft.Storage (no locations: the VNet's region, westeurope) and default-NSG; subnet2
//   10.0.2.0/24. Lines 160-172: pips pip0, pip1 (copy). Lines 173-202: NICs nic0 (subnet1 ->
//   10.0.1.4), nic1 (subnet2 -> 10.0.2.4) by variables('subnetId')[copyIndex()]. Lines 203-240:
//   storage, availability set (ignored). Lines 241-289: VMs testvm0, testvm1.
// Counts: 1 VNet, 2 subnets, 2 NICs, 2 VMs, 0 route tables, 1 NSG, 0 gateways, 2 public IPs.
// Service endpoint routes only in subnet1 (docs/semantics/routing.md T34): 13.69.40.17 is in Storage.WestEurope
// (13.69.40.16/28 in the bundled service-tag file).
// =============================================================================================

const SE_PARAMS: [&str; 2] = ["adminUsername=azureuser", "adminPassword=Dummy-Passw0rd!"];

#[test]
fn vnet_2subnets_service_endpoints_storage_integration() {
    let t = template("vnet-2subnets-service-endpoints-storage-integration");
    let p = &SE_PARAMS;
    assert_counts(
        &t,
        p,
        "1 VNets, 2 subnets, 0 peerings, 2 NICs, 2 VMs, 0 route tables, 1 NSGs, 0 gateways",
    );

    let rows: Vec<Route> = routes_raw(&t, p, "nic0").iter().map(parse_route).collect();
    let (se, mut rest): (Vec<Route>, Vec<Route>) = rows
        .into_iter()
        .partition(|r| r.next_hop_type == "VirtualNetworkServiceEndpoint");
    assert!(!se.is_empty(), "subnet1 has a service endpoint");
    for row in &se {
        assert_eq!(
            (row.source.as_str(), row.state.as_str()),
            ("Default", "Active"),
            "{row:?}"
        );
    }
    assert!(
        se.iter()
            .any(|r| r.prefixes.iter().any(|p| p == "13.69.40.16/28")),
        "Storage.WestEurope prefixes: {se:?}"
    );
    let mut base = bare_defaults("10.0.0.0/16");
    rest.sort();
    base.sort();
    assert_eq!(rest, base);
    assert_routes(&t, p, "nic1", bare_defaults("10.0.0.0/16"));

    assert_next_hop(
        &t,
        p,
        "testvm0",
        "10.0.1.4",
        "13.69.40.17",
        ("VirtualNetworkServiceEndpoint", None, "System Route"),
    );
    assert_next_hop(
        &t,
        p,
        "testvm1",
        "10.0.2.4",
        "13.69.40.17",
        ("Internet", None, "System Route"),
    );
    assert_flow(
        &t,
        p,
        "testvm0",
        "Inbound",
        "TCP",
        "10.0.1.4:3389",
        "203.0.113.5:50000",
        ("Allow", "securityRules/default-allow-3389"),
    );
    assert_flow(
        &t,
        p,
        "testvm0",
        "Inbound",
        "TCP",
        "10.0.1.4:22",
        "203.0.113.5:50000",
        ("Deny", "defaultSecurityRules/DenyAllInBound"),
    );
    assert!(
        effective_nsgs(&t, p, "nic1").is_empty(),
        "subnet2 and nic1 have no NSG"
    );
    assert_outbound_snat(
        &t,
        p,
        "testvm1",
        "publicIPAddresses/pip1",
        "instance public IP",
    );
}

// =============================================================================================
// 17. private-endpoint (every parameter is required)
// Lines 61-82: private endpoint parameters('privateEndpointName') in the subnet given by
//   parameters('subnetId') (an existing subnet, not in the template), customNetworkInterfaceName
//   format('{0}-nic', split(privateLinkResourceId,'/')[8]). Lines 83-100: privateDnsZoneGroup
//   (ignored), name replace(split(privateDnsZoneId,'/')[8], '.', '_').
// Counts: no VNet, subnet, NIC (the endpoint's own NIC is not counted), VM, route table, NSG or
//   gateway: it ingests with everything at 0.
// Wrapped: a VNet pe-vnet 10.20.0.0/16 / pe-subnet 10.20.0.0/24 added to the file, subnetId
//   pointing at it: the endpoint (first in the file) takes 10.20.0.4, the probe NIC 10.20.0.5, and
//   the endpoint's /32 is an InterfaceEndpoint route of the VNet (docs/semantics/routing.md 3.2 E5, T38).
// =============================================================================================

fn private_endpoint_parameters(dir: &TempDir, out: &str, subnet_id: &str) -> PathBuf {
    write_parameters(
        dir,
        out,
        json!({
            "privateEndpointName": "pe1",
            "privateLinkResourceId": format!("/subscriptions/{SUB}/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/kv1"),
            "targetSubResource": ["vault"],
            "requestMessage": "please approve",
            "subnetId": subnet_id,
            "privateDnsZoneId": format!("/subscriptions/{SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/privatelink.vaultcore.azure.net")
        }),
    )
}

#[test]
fn private_endpoint() {
    let dir = scratch_dir();
    let t = template("private-endpoint");
    let external = private_endpoint_parameters(
        &dir,
        "pe-external",
        &format!("/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/existing-vnet/subnets/pe"),
    );
    assert_counts(
        &t,
        &[&s(&external)],
        "0 VNets, 0 subnets, 0 peerings, 0 NICs, 0 VMs, 0 route tables, 0 NSGs, 0 gateways",
    );
    // The folder's own parameters file (GEN-* placeholders) ingests the same way.
    assert_counts(
        &t,
        &[&s(&parameters_file("private-endpoint"))],
        "0 VNets, 0 subnets, 0 peerings, 0 NICs, 0 VMs, 0 route tables, 0 NSGs, 0 gateways",
    );
}

#[test]
fn private_endpoint_in_a_vnet_of_the_same_file() {
    let dir = scratch_dir();
    let mut extra = vec![probe_vnet(
        "pe-vnet",
        "10.20.0.0/16",
        "pe-subnet",
        "10.20.0.0/24",
    )];
    extra.extend(probe("probe-nic", "probe-vm", "pe-vnet", "pe-subnet", None));
    let wrapped = with_resources(&dir, "private-endpoint", "pe-wrapped", extra);
    let params = private_endpoint_parameters(
        &dir,
        "pe-internal",
        &format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/pe-vnet/subnets/pe-subnet"),
    );
    let p = &[s(&params)];
    let p: Vec<&str> = p.iter().map(String::as_str).collect();
    // (No count line here: whether the endpoint's own NIC, kv1-nic, counts as a NIC is a
    // presentation choice, not an Azure fact.)
    let mut expected = bare_defaults("10.20.0.0/16");
    expected.push(r(
        "Default",
        "Active",
        "10.20.0.4/32",
        "InterfaceEndpoint",
        &[],
        None,
    ));
    assert_routes(&wrapped, &p, "probe-nic", expected);
}

// =============================================================================================
// 18. expressroute-private-peering-vnet (no required parameter)
// Lines 172-205: circuit er-ckt01 and its AzurePrivatePeering (ignored: not modelled).
// Lines 206-243: NSG "nsg": SSH-rule (Tcp 22 from * to VirtualNetwork, 500), RDP-rule (Tcp 3389
//   from * to VirtualNetwork, 600). Lines 244-276: VNet vnet1 10.10.10.0/24: subnet1
//   10.10.10.0/25 with the NSG, GatewaySubnet 10.10.10.224/27. Lines 277-285: pip er-gw-pubIP.
// Lines 286-317: gateway er-gw, ExpressRoute, HighPerformance.
// No connection joins the gateway to the circuit (and routes from a circuit need a live BGP
//   session): no gateway routes.
// Counts: 1 VNet, 2 subnets, 0 NICs, 0 VMs, 0 route tables, 1 NSG, 1 gateway, 1 public IP.
// Probe in subnet1 (10.10.10.4).
// =============================================================================================

#[test]
fn expressroute_private_peering_vnet() {
    let dir = scratch_dir();
    let t = template("expressroute-private-peering-vnet");
    assert_counts(
        &t,
        &[],
        "1 VNets, 2 subnets, 0 peerings, 0 NICs, 0 VMs, 0 route tables, 1 NSGs, 1 gateways",
    );
    let p = with_resources(
        &dir,
        "expressroute-private-peering-vnet",
        "er-probe",
        probe("probe-nic", "probe-vm", "vnet1", "subnet1", None),
    );
    assert_routes(&p, &[], "probe-nic", bare_defaults("10.10.10.0/24"));
    assert_flow(
        &p,
        &[],
        "probe-vm",
        "Inbound",
        "TCP",
        "10.10.10.4:22",
        "203.0.113.5:50000",
        ("Allow", "securityRules/SSH-rule"),
    );
    assert_flow(
        &p,
        &[],
        "probe-vm",
        "Inbound",
        "TCP",
        "10.10.10.4:3389",
        "203.0.113.5:50000",
        ("Allow", "securityRules/RDP-rule"),
    );
    assert_flow(
        &p,
        &[],
        "probe-vm",
        "Inbound",
        "TCP",
        "10.10.10.4:80",
        "203.0.113.5:50000",
        ("Deny", "defaultSecurityRules/DenyAllInBound"),
    );
    let nsgs = effective_nsgs(&p, &[], "probe-nic");
    assert_eq!(nsgs.len(), 1);
    assert_eq!(
        rule_names(&nsgs[0]),
        with_defaults(&["SSH-rule", "RDP-rule"])
    );
}

// =============================================================================================
// 19. route-server-quagga (required: adminUsername, adminPassword)
// Lines 179-213 variables (mostly copies of parameters): vnet1 10.1.0.0/16, RouteServerSubnet
//   10.1.1.0/24, subnet2-4 10.1.2-4.0/24, GatewaySubnet 10.1.5.0/24 (no gateway), NIC vm1-nic,
//   pip vm1-pubIP, VM private IP 10.1.4.10, NSG nsg1.
// Lines 215-239: NSG nsg1, SSH-rule (Tcp 22 from * to VirtualNetwork, 100). Lines 240-297: VNet,
//   nsg1 on subnet2, subnet3, subnet4. Lines 298-340: virtual hub routesrv1 with ipConfiguration
//   and bgpConnection to 10.1.4.10 AS 65001: the Route Server, ignored. What Quagga advertises
//   comes from a script outside the template, so even Azure's learned routes are unknown here;
//   vnetlab shows none. Lines 341-353: pip vm1-pubIP (Basic). Lines 354-383: NIC vm1-nic in
//   subnet4, Static 10.1.4.10, enableIPForwarding. Lines 384-426: VM vm1 ("[variables('vmName') ]"
//   with a space before the bracket). Lines 427-448: extension (ignored).
// Counts: 1 VNet, 5 subnets, 1 NIC, 1 VM, 0 route tables, 1 NSG, 0 gateways, 1 public IP.
// =============================================================================================

const RS_PARAMS: [&str; 2] = ["adminUsername=azureuser", "adminPassword=Dummy-Passw0rd!"];

#[test]
fn route_server_quagga() {
    let t = template("route-server-quagga");
    let p = &RS_PARAMS;
    assert_counts(
        &t,
        p,
        "1 VNets, 5 subnets, 0 peerings, 1 NICs, 1 VMs, 0 route tables, 1 NSGs, 0 gateways",
    );
    assert_routes(&t, p, "vm1-nic", bare_defaults("10.1.0.0/16"));
    assert_next_hop(
        &t,
        p,
        "vm1",
        "10.1.4.10",
        "10.1.2.9",
        ("VnetLocal", None, "System Route"),
    );
    assert_flow(
        &t,
        p,
        "vm1",
        "Inbound",
        "TCP",
        "10.1.4.10:22",
        "203.0.113.5:50000",
        ("Allow", "securityRules/SSH-rule"),
    );
    assert_flow(
        &t,
        p,
        "vm1",
        "Inbound",
        "TCP",
        "10.1.4.10:179",
        "10.1.1.4:50000",
        ("Allow", "defaultSecurityRules/AllowVnetInBound"),
    );
    assert_flow(
        &t,
        p,
        "vm1",
        "Inbound",
        "TCP",
        "10.1.4.10:80",
        "203.0.113.5:50000",
        ("Deny", "defaultSecurityRules/DenyAllInBound"),
    );
    assert_outbound_snat(
        &t,
        p,
        "vm1",
        "publicIPAddresses/vm1-pubIP",
        "instance public IP",
    );
}

// =============================================================================================
// 20. azure-bastion-nsg (required: bastion-host-name = bastion1)
// Lines 51-55 variables: pip bastion1-pip, subnet AzureBastionSubnet, NSG bastion1-nsg.
// Lines 57-68: pip (type written Microsoft.Network/publicIpAddresses). Lines 69-220: NSG with 10
//   rules: inbound AllowHttpsInBound (Tcp 443 from Internet, 100), AllowGatewayManagerInBound
//   (Tcp 443 from GatewayManager, 110), AllowLoadBalancerInBound (Tcp 443 from
//   AzureLoadBalancer, 120), AllowBastionHostCommunicationInBound (* 8080,5701 VirtualNetwork ->
//   VirtualNetwork, 130), DenyAllInBound (a *user* rule of that name, 1000); outbound
//   AllowSshRdpOutBound (Tcp 22,3389 to VirtualNetwork, 100), AllowAzureCloudCommunicationOutBound
//   (Tcp 443 to AzureCloud, 110), AllowBastionHostCommunicationOutBound (* 8080,5701, 120),
//   AllowGetSessionInformationOutBound (* 80,443 to Internet, 130), DenyAllOutBound (user, 1000).
// Lines 221-248: VNet vnet01 10.1.0.0/16 with AzureBastionSubnet 10.1.1.0/27 + NSG, condition
//   vnet-new-or-existing == 'new' (default). Lines 249-264: the same subnet as a child resource
//   with condition 'existing': not deployed. Lines 265-290: Bastion (ignored).
// Counts: 1 VNet, 1 subnet, 0 NICs, 0 VMs, 0 route tables, 1 NSG (10 rules), 0 gateways, 1 pip.
// Probe: Azure allows nothing but Bastion in AzureBastionSubnet, so the probe NIC sits in a VNet
// of its own (probe-vnet 10.99.0.0/16) with bastion1-nsg as its NIC NSG (10.99.0.4): the NSG's
// rules are what is tested; VirtualNetwork is then the probe VNet.
// =============================================================================================

#[test]
fn azure_bastion_nsg() {
    let dir = scratch_dir();
    let t = template("azure-bastion-nsg");
    let p = &["bastion-host-name=bastion1"];
    assert_counts(
        &t,
        p,
        "1 VNets, 1 subnets, 0 peerings, 0 NICs, 0 VMs, 0 route tables, 1 NSGs, 0 gateways",
    );

    let mut extra = vec![probe_vnet(
        "probe-vnet",
        "10.99.0.0/16",
        "probe",
        "10.99.0.0/24",
    )];
    extra.extend(probe(
        "probe-nic",
        "probe-vm",
        "probe-vnet",
        "probe",
        Some("bastion1-nsg"),
    ));
    let f = with_resources(&dir, "azure-bastion-nsg", "bastion-probe", extra);
    let nsgs = effective_nsgs(&f, p, "probe-nic");
    assert_eq!(nsgs.len(), 1);
    assert_eq!(
        nsgs[0]["networkSecurityGroup"]["id"],
        nsg_id("bastion1-nsg")
    );
    assert_eq!(
        rule_names(&nsgs[0]),
        with_defaults(&[
            "AllowHttpsInBound",
            "AllowGatewayManagerInBound",
            "AllowLoadBalancerInBound",
            "AllowBastionHostCommunicationInBound",
            "DenyAllInBound",
            "AllowSshRdpOutBound",
            "AllowAzureCloudCommunicationOutBound",
            "AllowBastionHostCommunicationOutBound",
            "AllowGetSessionInformationOutBound",
            "DenyAllOutBound",
        ])
    );
    let ports = |name: &str| {
        let mut v = strs(&rule(&nsgs[0], name)["destinationPortRanges"]);
        v.sort();
        v
    };
    assert_eq!(
        ports("securityRules/AllowBastionHostCommunicationInBound"),
        ["5701-5701", "8080-8080"]
    );
    assert_eq!(
        ports("securityRules/AllowSshRdpOutBound"),
        ["22-22", "3389-3389"]
    );

    let p = p.as_slice();
    assert_flow(
        &f,
        p,
        "probe-vm",
        "Inbound",
        "TCP",
        "10.99.0.4:443",
        "203.0.113.5:50000",
        ("Allow", "securityRules/AllowHttpsInBound"),
    );
    // The user rule DenyAllInBound (priority 1000) decides before the default one of that name.
    assert_flow(
        &f,
        p,
        "probe-vm",
        "Inbound",
        "TCP",
        "10.99.0.4:22",
        "203.0.113.5:50000",
        ("Deny", "securityRules/DenyAllInBound"),
    );
    assert_flow(
        &f,
        p,
        "probe-vm",
        "Inbound",
        "TCP",
        "10.99.0.4:22",
        "10.99.0.9:50000",
        ("Deny", "securityRules/DenyAllInBound"),
    );
    assert_flow(
        &f,
        p,
        "probe-vm",
        "Inbound",
        "TCP",
        "10.99.0.4:8080",
        "10.99.0.9:50000",
        (
            "Allow",
            "securityRules/AllowBastionHostCommunicationInBound",
        ),
    );
    assert_flow(
        &f,
        p,
        "probe-vm",
        "Inbound",
        "UDP",
        "10.99.0.4:5701",
        "10.99.0.9:50000",
        (
            "Allow",
            "securityRules/AllowBastionHostCommunicationInBound",
        ),
    );
    assert_flow(
        &f,
        p,
        "probe-vm",
        "Outbound",
        "TCP",
        "10.99.0.4:50000",
        "10.99.0.9:3389",
        ("Allow", "securityRules/AllowSshRdpOutBound"),
    );
    // 4.144.0.10 is in AzureCloud (4.144.0.0/17 in the bundled file); 203.0.113.5 is not.
    assert_flow(
        &f,
        p,
        "probe-vm",
        "Outbound",
        "TCP",
        "10.99.0.4:50000",
        "4.144.0.10:443",
        (
            "Allow",
            "securityRules/AllowAzureCloudCommunicationOutBound",
        ),
    );
    assert_flow(
        &f,
        p,
        "probe-vm",
        "Outbound",
        "TCP",
        "10.99.0.4:50000",
        "203.0.113.5:443",
        ("Allow", "securityRules/AllowGetSessionInformationOutBound"),
    );
    assert_flow(
        &f,
        p,
        "probe-vm",
        "Outbound",
        "TCP",
        "10.99.0.4:50000",
        "203.0.113.5:8443",
        ("Deny", "securityRules/DenyAllOutBound"),
    );
}

#[test]
fn azure_bastion_nsg_with_its_parameters_file() {
    // bastion-host-name GEN-UNIQUE-8 from the file.
    let t = template("azure-bastion-nsg");
    let params = s(&parameters_file("azure-bastion-nsg"));
    assert_counts(
        &t,
        &[&params],
        "1 VNets, 1 subnets, 0 peerings, 0 NICs, 0 VMs, 0 route tables, 1 NSGs, 0 gateways",
    );
}
