//! `vnetlab check` and `vnetlab diff` on the demo (Trace issue, "Intents and diffs"): the
//! answers are Azure's (docs/semantics/routing.md 3.1 LPM and 5.6 asymmetric return through an appliance;
//! docs/semantics/dataplane.md 1.2 default rules and D11 VirtualNetwork tag with on-premises prefixes).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(p)
}

fn vnetlab(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vnetlab"))
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn check_reports_each_violation_with_its_trace_and_exits_1() {
    let out = vnetlab(&[
        "check",
        repo("examples/homelab.yaml").to_str().unwrap(),
        "--intents",
        repo("tests/intents/homelab.yaml").to_str().unwrap(),
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = results.as_array().unwrap();
    // spoke1 reaches spoke2 only through the IDS: the UDR 0.0.0.0/0 sends it there.
    assert_eq!(r[0]["passed"], true);
    // Internet -> web1: the request arrives, the reply leaves through the IDS (UDR 0.0.0.0/0).
    assert_eq!(r[1]["passed"], false);
    let v = &r[1]["violations"][0];
    assert_eq!(
        (v["from"].as_str(), v["to"].as_str(), v["port"].as_u64()),
        (Some("Internet"), Some("web1"), Some(80))
    );
    assert!(v["trace"]["asymmetric"]
        .as_str()
        .unwrap()
        .contains("ids-1-nic"));
    // Unlisted ports are blocked: no violation for tcp/22 or tcp/3389 from the Internet.
    assert_eq!(r[1]["violations"].as_array().unwrap().len(), 2);
    // RDP to on-premises is allowed by AllowVnetOutBound for every VM (D11).
    assert_eq!(r[2]["violations"].as_array().unwrap().len(), 4);
    let rule = r[2]["violations"][1]["trace"]["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["layer"] == "NsgOutbound")
        .unwrap()["decision"]
        .clone();
    assert_eq!(rule, "defaultSecurityRules/AllowVnetOutBound");
}

#[test]
fn check_refuses_a_bad_intents_file_with_its_place() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "intents:\n  - { from: web1, too: app1, expect: deny }\n",
    )
    .unwrap();
    let out = vnetlab(&[
        "check",
        repo("examples/homelab.yaml").to_str().unwrap(),
        "--intents",
        bad.to_str().unwrap(),
    ]);
    let unknown = dir.join("unknown.yaml");
    std::fs::write(
        &unknown,
        "intents:\n  - { from: nowhere, to: app1, expect: deny }\n",
    )
    .unwrap();
    let out2 = vnetlab(&[
        "check",
        repo("examples/homelab.yaml").to_str().unwrap(),
        "--intents",
        unknown.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.yaml:2:"), "{stderr}");
    assert_eq!(out2.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out2.stderr)
        .contains("intent from 'nowhere' names nothing in the topology"));
}

#[test]
fn diff_lists_what_a_route_change_breaks() {
    let out = vnetlab(&[
        "diff",
        repo("examples/homelab.yaml").to_str().unwrap(),
        repo("tests/intents/homelab-spoke2-drops-spoke1.yaml")
            .to_str()
            .unwrap(),
        "--protocol",
        "tcp",
        "--port",
        "22",
        "-o",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let changes: Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = changes.as_array().unwrap();
    // Exactly the two directions between the spokes break; nothing else changes.
    assert_eq!(c.len(), 2);
    let pairs: Vec<(String, String)> = c
        .iter()
        .map(|c| {
            (
                c["from"].as_str().unwrap().into(),
                c["to"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        pairs.contains(&("web1".into(), "app1".into()))
            && pairs.contains(&("app1".into(), "web1".into()))
    );
    let forward = c.iter().find(|c| c["from"] == "app1").unwrap();
    assert_eq!(
        (forward["before"].as_str(), forward["after"].as_str()),
        (Some("Delivered"), Some("Dropped"))
    );
    assert_eq!(
        forward["trace"]["droppedBy"]["decision"],
        "User 10.1.0.0/16 None (spoke1-drop)"
    );
    // web1 -> app1 still arrives; its reply is what the None route drops.
    let reply = c.iter().find(|c| c["from"] == "web1").unwrap();
    assert_eq!(reply["trace"]["returnPath"]["verdict"], "Dropped");
    let same = vnetlab(&[
        "diff",
        repo("examples/homelab.yaml").to_str().unwrap(),
        repo("examples/homelab.yaml").to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&same.stdout).contains("No flow changes its verdict."));
}
