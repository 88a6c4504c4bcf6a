//! The command-line contract: exit codes, error messages with hints, table layouts and the
//! `--service-tags` override (Foundation issue, "Commands").

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/conformance/routing-example-8/topology.json")
}

fn vnetlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vnetlab"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn validate_reports_counts() {
    let out = vnetlab(&["validate", example().to_str().unwrap()]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("valid (2 VNets, 5 subnets, 2 peerings, 3 NICs, 3 VMs, 1 route tables, 0 NSGs, 1 gateways)"), "{}", text(&out.stdout));
}

#[test]
fn routes_table_looks_like_the_portal_blade() {
    let out = vnetlab(&["routes", example().to_str().unwrap(), "--nic", "vm2-nic"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("Source"));
    for column in [
        "State",
        "Address Prefixes",
        "Next Hop Type",
        "Next Hop IP Address",
        "User Defined Route Name",
    ] {
        assert!(lines[0].contains(column), "{}", lines[0]);
    }
    // docs/semantics/routing.md 8.3: Subnet2's gateway route, with the portal's labels.
    assert!(
        lines
            .iter()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == [
                    "Virtual",
                    "network",
                    "gateway",
                    "Active",
                    "10.10.0.0/16",
                    "Virtual",
                    "network",
                    "gateway",
                    "10.0.255.4"
                ]),
        "{stdout}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["Default", "Active", "10.1.0.0/16", "VNet", "peering"]),
        "{stdout}"
    );
}

#[test]
fn an_unknown_nic_lists_the_known_ones() {
    let out = vnetlab(&["routes", example().to_str().unwrap(), "--nic", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error: no network interface named 'nope'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: network interfaces in this topology: vm1-nic, vm2-nic, nva-nic"),
        "{stderr}"
    );
}

#[test]
fn next_hop_needs_an_address_of_the_vm() {
    let out = vnetlab(&[
        "next-hop",
        example().to_str().unwrap(),
        "--vm",
        "vm1",
        "--source-ip",
        "10.0.1.4",
        "--dest-ip",
        "8.8.8.8",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("10.0.1.4 is not an address of VM 'vm1'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the VM's private addresses: 10.0.0.4"),
        "{stderr}"
    );
}

#[test]
fn next_hop_table_names_the_deciding_route() {
    let out = vnetlab(&[
        "next-hop",
        example().to_str().unwrap(),
        "--vm",
        "vm1",
        "--source-ip",
        "10.0.0.4",
        "--dest-ip",
        "8.8.8.8",
    ]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("Next hop type        VirtualAppliance"),
        "{stdout}"
    );
    assert!(
        stdout.contains("IP address           10.0.100.4"),
        "{stdout}"
    );
    assert!(stdout.contains("user route 'Default-NVA' (0.0.0.0/0) in route table 'RT1' sends it to the virtual appliance 10.0.100.4"), "{stdout}");
}

#[test]
fn bad_arguments_are_usage_errors() {
    let out = vnetlab(&[
        "next-hop",
        example().to_str().unwrap(),
        "--vm",
        "vm1",
        "--source-ip",
        "10.0.0.999",
        "--dest-ip",
        "8.8.8.8",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("invalid value '10.0.0.999'"));
}

#[test]
fn an_invalid_file_exits_1_with_every_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let file = dir.join("bad.json");
    let broken = std::fs::read_to_string(example())
        .unwrap()
        .replace("\"10.0.1.0/24\"", "\"10.9.1.0/24\"")
        .replace(
            "\"nextHopType\": \"None\"",
            "\"nextHopType\": \"VNetPeering\"",
        );
    std::fs::write(&file, broken).unwrap();
    let out = vnetlab(&["validate", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("bad.json:28:63: error: subnet 'Virtual-network-1/Subnet2'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("is outside the address space of VNet 'Virtual-network-1' (10.0.0.0/16)"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "VNetPeering is created by the platform and cannot be the next hop of a user route"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("3 errors found"), "{stderr}");
}

#[test]
fn a_service_tag_file_overrides_the_bundled_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let tags = dir.join("tags.json");
    std::fs::write(&tags, r#"{"changeNumber": 999, "cloud": "Public", "values": [
        {"name": "Storage.EastUS", "id": "Storage.EastUS", "properties": {"region": "eastus", "addressPrefixes": ["203.0.113.0/24", "2001:db8::/32"]}}]}"#).unwrap();
    let out = vnetlab(&[
        "--service-tags",
        tags.to_str().unwrap(),
        "routes",
        example().to_str().unwrap(),
        "--nic",
        "vm1-nic",
        "-o",
        "json",
    ]);
    let bad = dir.join("bad-tags.json");
    std::fs::write(&bad, "{\"values\": 3}").unwrap();
    let refused = vnetlab(&[
        "--service-tags",
        bad.to_str().unwrap(),
        "routes",
        example().to_str().unwrap(),
        "--nic",
        "vm1-nic",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let se = json["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["nextHopType"] == "VirtualNetworkServiceEndpoint")
        .unwrap();
    assert_eq!(se["addressPrefix"], serde_json::json!(["203.0.113.0/24"]));
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("not a service-tag file"));
}

#[test]
fn a_closed_pipe_is_not_a_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vnetlab"))
        .args([
            "routes",
            example().to_str().unwrap(),
            "--nic",
            "vm1-nic",
            "-o",
            "json",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{}",
        text(&out.stderr)
    );
}
