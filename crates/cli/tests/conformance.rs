//! Conformance cases as data (ARCHITECTURE.md "Tests to aim for"): each directory under
//! tests/conformance holds a topology (`topology.json` or `topology.yaml`) and `expect-*.json`
//! files. Each expectation runs the real `vnetlab` binary with `args` (the topology path goes
//! right after the subcommand) and checks the exit code and either the exact JSON on stdout or
//! text that stderr must contain. `source` names the Azure fact being checked.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance")
}

fn topology_in(dir: &Path) -> PathBuf {
    ["topology.json", "topology.yaml"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{} has no topology.json or topology.yaml", dir.display()))
}

fn check(topology: &Path, expect_file: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(expect_file).map_err(|e| e.to_string())?;
    let spec: Value =
        serde_json::from_str(&text).map_err(|e| format!("bad expectation file: {e}"))?;
    let source = spec["source"]
        .as_str()
        .ok_or("expectation has no \"source\" naming the Azure fact it checks")?;
    let args: Vec<String> = spec["args"]
        .as_array()
        .ok_or("expectation has no \"args\"")?
        .iter()
        .map(|a| a.as_str().unwrap_or_default().to_string())
        .collect();
    if spec.get("stdout").is_none() && spec.get("stderrContains").is_none() {
        return Err(format!(
            "[{source}] checks nothing: give stdout or stderrContains"
        ));
    }
    let mut full = vec![args[0].clone(), topology.display().to_string()];
    full.extend(args[1..].iter().cloned());
    let out = Command::new(env!("CARGO_BIN_EXE_vnetlab"))
        .args(&full)
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let want_code = spec["exitCode"].as_i64().unwrap_or(0);
    let code = i64::from(out.status.code().unwrap_or(-1));
    if code != want_code {
        return Err(format!(
            "[{source}] vnetlab {}: exit code {code}, expected {want_code}\nstderr:\n{stderr}",
            full.join(" ")
        ));
    }
    if let Some(expected) = spec.get("stdout") {
        let actual: Value = serde_json::from_str(&stdout)
            .map_err(|e| format!("[{source}] stdout is not JSON ({e}):\n{stdout}"))?;
        if &actual != expected {
            return Err(format!(
                "[{source}] vnetlab {}: output differs\nexpected:\n{}\nactual:\n{}",
                full.join(" "),
                serde_json::to_string_pretty(expected).unwrap_or_default(),
                serde_json::to_string_pretty(&actual).unwrap_or_default()
            ));
        }
    }
    for needle in spec["stderrContains"].as_array().into_iter().flatten() {
        let needle = needle.as_str().unwrap_or_default();
        if !stderr.contains(needle) {
            return Err(format!(
                "[{source}] vnetlab {}: stderr lacks {needle:?}\nstderr:\n{stderr}",
                full.join(" ")
            ));
        }
    }
    Ok(())
}

#[test]
fn conformance_cases() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/conformance exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut failures = Vec::new();
    let mut checked = 0;
    for dir in &dirs {
        let topology = topology_in(dir);
        let mut expects: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("readable")
            .map(|e| e.expect("readable").path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("expect-") && n.ends_with(".json"))
            })
            .collect();
        expects.sort();
        assert!(
            !expects.is_empty(),
            "{} has no expect-*.json",
            dir.display()
        );
        for e in expects {
            checked += 1;
            if let Err(msg) = check(&topology, &e) {
                failures.push(format!("{}:\n{msg}", e.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} conformance checks failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    eprintln!(
        "{checked} conformance checks in {} cases passed",
        dirs.len()
    );
}
