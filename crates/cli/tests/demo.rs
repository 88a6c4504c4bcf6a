//! `vnetlab demo`: the home lab's answers are Azure's (docs/semantics/routing.md: gateway transit T30, UDR over
//! gateway route T23, peering routes T9, D5 for the steered spoke), and `--write` gives a file
//! that validates.

use std::process::Command;

fn vnetlab(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vnetlab"))
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn demo_explains_each_next_hop() {
    let out = vnetlab(&["demo"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = |vm: &str, to: &str| -> String {
        let section = stdout
            .split("== VM ")
            .find(|s| s.starts_with(vm))
            .unwrap_or_else(|| panic!("no section for {vm}:\n{stdout}"));
        section
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("to {to}")))
            .unwrap_or_else(|| panic!("no line to {to} for {vm}"))
            .to_string()
    };
    // The hub VM reaches on-premises through its own gateway (D4: instance at GatewaySubnet .4).
    assert!(line("dc1", "on-premises").contains("next hop VirtualNetworkGateway 10.0.255.4"));
    assert!(line("dc1", "spoke1").contains("next hop VNetPeering"));
    // spoke1 is steered through the IDS: the user route beats the transit gateway route (T23).
    assert!(line("web1", "on-premises")
        .contains("next hop VirtualAppliance 10.0.1.4: user route 'onprem-via-ids'"));
    assert!(line("web1", "the Internet").contains("user route 'default-via-ids' (0.0.0.0/0)"));
    // spoke2 uses the hub's gateway through gateway transit (T30).
    assert!(
        line("app1", "on-premises").contains("next hop VirtualNetworkGateway 10.0.255.4")
            && line("app1", "on-premises").contains("shared by 'hub' through gateway transit")
    );
    assert!(line("app1", "the Internet").contains("next hop Internet"));
    assert!(line("app1", "spoke1").contains("user route 'spoke1-via-ids'"));
    // D5: the steered spoke has a user 0.0.0.0/0, so its table has no reserved None rows.
    let web1 = stdout
        .split("== VM ")
        .find(|s| s.starts_with("web1"))
        .unwrap();
    assert!(!web1.contains("10.0.0.0/8"));
    let app1 = stdout
        .split("== VM ")
        .find(|s| s.starts_with("app1"))
        .unwrap();
    assert!(app1
        .lines()
        .any(|l| l.split_whitespace().collect::<Vec<_>>()
            == ["Default", "Active", "10.0.0.0/8", "None"]));
}

#[test]
fn demo_write_gives_a_valid_lab_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let file = dir.join("homelab.yaml");
    let written = vnetlab(&["demo", "--write", file.to_str().unwrap()]);
    let valid = vnetlab(&["validate", file.to_str().unwrap()]);
    let refused = vnetlab(&[
        "demo",
        "--write",
        dir.join("missing/dir/x.yaml").to_str().unwrap(),
    ]);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(written.status.success());
    assert!(
        valid.status.success(),
        "{}",
        String::from_utf8_lossy(&valid.stderr)
    );
    assert!(String::from_utf8_lossy(&valid.stdout).contains(
        "valid (3 VNets, 5 subnets, 4 peerings, 4 NICs, 4 VMs, 3 route tables, 2 NSGs, 1 gateways)"
    ));
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(
        leftovers,
        vec![std::ffi::OsString::from("homelab.yaml")],
        "nothing is written half-way"
    );
}
