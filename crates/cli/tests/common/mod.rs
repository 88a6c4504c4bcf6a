//! What the live-lab tests share: running the `vnetlab` binary, and a lab that is brought up
//! for a test and removed when the test ends, passed or failed (its `Drop` runs `down`).
#![allow(dead_code)] // each test file uses its own part of this module

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Output};

pub fn vnetlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vnetlab"))
        .args(args)
        .output()
        .expect("the binary runs")
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Whether this machine can run a live lab: root and /dev/net/tun (CI runs as root). When it
/// cannot, the test says why and passes without running.
pub fn lab_possible() -> bool {
    // /proc/self is owned by the process's effective user (proc(5)).
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    let tun = Path::new("/dev/net/tun").exists();
    if !(root && tun) {
        eprintln!(
            "skipped: the live lab needs root and /dev/net/tun (root: {root}, /dev/net/tun: {tun})"
        );
    }
    root && tun
}

/// A running lab, removed on drop.
pub struct Lab {
    pub name: String,
}

impl Lab {
    /// `vnetlab up FILE --name NAME`; panics with the output when it fails.
    pub fn up(file: &Path, name: &str) -> Lab {
        Lab::up_with(file, name, &[])
    }

    /// `vnetlab up FILE --name NAME EXTRA...`.
    pub fn up_with(file: &Path, name: &str, extra: &[&str]) -> Lab {
        // A lab left by an earlier run of the same test goes first.
        vnetlab(&["down", name]);
        let mut args = vec!["up", file.to_str().expect("utf-8 path"), "--name", name];
        args.extend_from_slice(extra);
        let out = vnetlab(&args);
        let lab = Lab {
            name: name.to_string(),
        };
        assert!(out.status.success(), "vnetlab up failed:\n{}", text(&out));
        lab
    }

    /// Runs a command in a VM: `vnetlab exec LAB VM -- ARGS`.
    pub fn exec(&self, vm: &str, args: &[&str]) -> Output {
        let mut full = vec!["exec", self.name.as_str(), vm, "--"];
        full.extend_from_slice(args);
        vnetlab(&full)
    }

    /// A shell command in a VM; true when it exits 0.
    pub fn sh(&self, vm: &str, script: &str) -> Output {
        self.exec(vm, &["sh", "-c", script])
    }

    /// The switch's counters, from `vnetlab status -o json`.
    pub fn counters(&self) -> serde_json::Value {
        let out = vnetlab(&["status", &self.name, "-o", "json"]);
        assert!(out.status.success(), "{}", text(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status JSON");
        v["counters"].clone()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        vnetlab(&["down", &self.name]);
    }
}
