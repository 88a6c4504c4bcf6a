//! `vnetlab import TEMPLATE --parameters ... -o lab.yaml` (ARM issue, "Commands"): the lab file
//! it writes gives the same effective routes and NSG answers as the template, NIC by NIC (the
//! lab file names a VM's NIC `<vm>-nic`, so NICs are paired through their VMs).

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use tempfile::TempDir;

fn vnetlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vnetlab"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// A template's dummy values for its required parameters (as the corpus tests give them).
const PARAMETERS: [&str; 6] = [
    "--parameters",
    "adminUsername=azureuser",
    "--parameters",
    "adminPassword=Dummy-Passw0rd-1",
    "--parameters",
    "uniqueDnsPrefixForVM=lab1",
];

#[test]
fn an_imported_template_keeps_its_routes_and_nsg_answers() {
    let template = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/arm-corpus/userdefined-routes-appliance/azuredeploy.json");
    let template = template.to_str().unwrap();
    let dir = TempDir::new().unwrap();
    let yaml = dir.path().join("imported.yaml");
    let mut args = vec!["import", template];
    args.extend(PARAMETERS);
    args.extend(["-o", yaml.to_str().unwrap()]);
    stdout(&vnetlab(&args));
    // The template's VMs Dynamic0-2 with NICs Nic0-2 (userdefined-routes-appliance).
    for i in 0..3 {
        let (nic, vm_nic) = (format!("Nic{i}"), format!("Dynamic{i}-nic"));
        for command in ["routes", "nsg"] {
            let mut from_template = vec![command, template, "--nic", &nic, "-o", "json"];
            from_template.extend(PARAMETERS);
            let a: Value = serde_json::from_str(&stdout(&vnetlab(&from_template))).unwrap();
            let b: Value = serde_json::from_str(&stdout(&vnetlab(&[
                command,
                yaml.to_str().unwrap(),
                "--nic",
                &vm_nic,
                "-o",
                "json",
            ])))
            .unwrap();
            assert_eq!(a, b, "{command} of {nic}");
        }
    }
    // Frontend traffic to the backend goes through the appliance (the template's route).
    let routes = stdout(&vnetlab(&[
        "routes",
        yaml.to_str().unwrap(),
        "--nic",
        "Dynamic0-nic",
        "-o",
        "json",
    ]));
    assert!(
        routes.contains("\"nextHopType\": \"VirtualAppliance\"") && routes.contains("10.1.1.4"),
        "{routes}"
    );
}

#[test]
fn an_imported_load_balancer_forwards_as_the_original() {
    // The inbound NAT rules and load-balancing rules of the conformance topologies survive the
    // lab file: the same trace through the load balancer (docs/semantics/dataplane.md 6.1).
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance");
    for (case, port) in [
        ("trace-lb-inbound-nat-rule", "50002"),
        ("trace-lb-health-probe", "80"),
    ] {
        let original = root.join(case).join("topology.json");
        let dir = TempDir::new().unwrap();
        let yaml = dir.path().join(format!("{case}.yaml"));
        stdout(&vnetlab(&[
            "import",
            original.to_str().unwrap(),
            "-o",
            yaml.to_str().unwrap(),
        ]));
        let trace = |file: &Path| -> Value {
            let lb_ip = if case == "trace-lb-inbound-nat-rule" {
                "198.51.100.60"
            } else {
                "198.51.100.50"
            };
            serde_json::from_str(&stdout(&vnetlab(&[
                "trace",
                file.to_str().unwrap(),
                "--from",
                "192.0.2.10",
                "--to",
                lb_ip,
                "--protocol",
                "tcp",
                "--port",
                port,
                "-o",
                "json",
            ])))
            .unwrap()
        };
        let (a, b) = (trace(&original), trace(&yaml));
        assert_eq!(a["verdict"], b["verdict"], "{case}");
        let last = |t: &Value| {
            t["hops"]
                .as_array()
                .and_then(|h| h.last())
                .map(|h| (h["resource"].clone(), h["packet"].clone()))
        };
        assert_eq!(
            last(&a),
            last(&b),
            "{case}: delivered to the same NIC and address"
        );
    }
}
