//! Network namespaces, the lab's VMs, sites and Internet, driven through iproute2's `ip`.
//! Host safety (Live lab issue): each namespace gets `/etc/netns/<ns>/resolv.conf` before
//! anything runs in it, so a DHCP client's hook never touches the host's `/etc/resolv.conf`.

use crate::error::LabError;
use std::path::PathBuf;
use std::process::Command;

/// Runs `ip` with arguments; an error carries the command and what it printed.
pub fn ip(args: &[&str]) -> Result<(), LabError> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|source| LabError::Spawn {
            program: "`ip`".into(),
            source,
            hint: " (is iproute2 installed?)",
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(LabError::Ip {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

/// The lab's namespaces that exist now.
pub fn list(prefix: &str) -> Vec<String> {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

fn etc_dir(ns: &str) -> PathBuf {
    PathBuf::from("/etc/netns").join(ns)
}

/// Creates a namespace with its own resolv.conf (Azure's resolver 168.63.129.16, docs/semantics/dataplane.md 4.6)
/// and its loopback up.
pub fn create(ns: &str) -> Result<(), LabError> {
    let dir = etc_dir(ns);
    std::fs::create_dir_all(&dir).map_err(|source| LabError::File {
        action: "create",
        path: dir.clone(),
        source,
    })?;
    let resolv_conf = dir.join("resolv.conf");
    std::fs::write(
        &resolv_conf,
        "nameserver 168.63.129.16\nsearch internal.cloudapp.net\n",
    )
    .map_err(|source| LabError::File {
        action: "write",
        path: resolv_conf,
        source,
    })?;
    ip(&["netns", "add", ns])?;
    ip(&["-n", ns, "link", "set", "lo", "up"])
}

/// Removes a namespace and its files, first killing what still runs in it (a namespace lives
/// on while a process holds it); a missing one is not an error.
pub fn delete(ns: &str) {
    if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
        for pid in String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|p| p.parse::<i32>().ok())
        {
            // SAFETY: kills a process running inside the lab's own namespace.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
    let _ = ip(&["netns", "delete", ns]);
    let _ = std::fs::remove_dir_all(etc_dir(ns));
}

/// Moves a host device into a namespace as `name`, with a MAC, and brings it up.
pub fn adopt_device(dev: &str, ns: &str, name: &str, mac: &str) -> Result<(), LabError> {
    ip(&["link", "set", "dev", dev, "netns", ns])?;
    ip(&["-n", ns, "link", "set", "dev", dev, "name", name])?;
    ip(&["-n", ns, "link", "set", "dev", name, "address", mac, "up"])
}

/// A command to run inside a namespace.
pub fn exec(ns: &str, program: &str) -> Command {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns, program]);
    c
}
