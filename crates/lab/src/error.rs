//! What can go wrong bringing a lab up, running it and talking to it (Live lab issue,
//! "Commands"): each failure a variant, its message the one `vnetlab` prints.

use std::io;
use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum LabError {
    /// A lab name that cannot go into device names (see `LabName::parse`).
    #[error("'{0}' is not a lab name: use 1 to 12 lower-case letters, digits or dashes")]
    BadName(String),
    /// A file, directory or socket of the lab (`action`: create, write, listen on).
    #[error("cannot {action} {}: {source}", path.display())]
    File {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("cannot make {} executable: {source}", path.display())]
    NotExecutable { path: PathBuf, source: io::Error },
    /// A tool the lab drives could not be started (`hint`: how to get it, or empty).
    #[error("cannot run {program}: {source}{hint}")]
    Spawn {
        program: String,
        source: io::Error,
        hint: &'static str,
    },
    #[error("cannot start the Internet's web server (busybox httpd): {0}")]
    WebServer(io::Error),
    /// `ip` ran and failed; `stderr` is what it said.
    #[error("`ip {args}` failed: {stderr}")]
    Ip { args: String, stderr: String },
    #[error("sysctl {key} in {ns}: {stderr}")]
    Sysctl {
        key: String,
        ns: String,
        stderr: String,
    },
    /// A TAP device for `of` (a NIC, a namespace) could not be created.
    #[error("cannot create a TAP device for {of}: {source}{hint}")]
    Tap {
        of: String,
        source: io::Error,
        hint: &'static str,
    },
    #[error("{ns} {device} got no DHCP lease")]
    NoLease { ns: String, device: String },
    #[error("{ns} {device} got no DHCP lease within {seconds} s")]
    LeaseTimeout {
        ns: String,
        device: String,
        seconds: u64,
    },
    #[error("udhcpc in {ns}: {source}")]
    Udhcpc { ns: String, source: io::Error },
    #[error("lab '{lab}' is already up (process {pid}); run `vnetlab down {lab}` first")]
    AlreadyUp { lab: String, pid: u32 },
    #[error("lab '{lab}' is not up (no {})", state_file.display())]
    NotUp { lab: String, state_file: PathBuf },
    #[error("lab '{lab}' has no VM '{vm}'; its VMs: {}", vms.join(", "))]
    NoSuchVm {
        lab: String,
        vm: String,
        vms: Vec<String>,
    },
    #[error("cannot reach the lab's switch at {}: {source} (is the lab up?)", path.display())]
    Unreachable { path: PathBuf, source: io::Error },
    /// Reading or writing the control socket.
    #[error(transparent)]
    Socket(io::Error),
    #[error("the switch answered something unreadable: {0}")]
    Unreadable(serde_json::Error),
    /// The switch refused a request; its words.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Pcap(pcap_file::PcapError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_as_vnetlab_prints_them() {
        let denied = || io::Error::from(io::ErrorKind::PermissionDenied);
        let cases = [
            (
                LabError::AlreadyUp {
                    lab: "demo".into(),
                    pid: 42,
                },
                "lab 'demo' is already up (process 42); run `vnetlab down demo` first".to_string(),
            ),
            (
                LabError::NoSuchVm {
                    lab: "demo".into(),
                    vm: "vm9".into(),
                    vms: vec!["vm1".into(), "vm2".into()],
                },
                "lab 'demo' has no VM 'vm9'; its VMs: vm1, vm2".into(),
            ),
            (
                LabError::NotUp {
                    lab: "demo".into(),
                    state_file: "/run/vnetlab/demo/state.json".into(),
                },
                "lab 'demo' is not up (no /run/vnetlab/demo/state.json)".into(),
            ),
            (
                LabError::Spawn {
                    program: "`ip`".into(),
                    source: denied(),
                    hint: " (is iproute2 installed?)",
                },
                format!("cannot run `ip`: {} (is iproute2 installed?)", denied()),
            ),
            (
                LabError::Tap {
                    of: "NIC 'nic1'".into(),
                    source: denied(),
                    hint: " (this needs root and /dev/net/tun)",
                },
                format!(
                    "cannot create a TAP device for NIC 'nic1': {} (this needs root and /dev/net/tun)",
                    denied()
                ),
            ),
            (
                LabError::File {
                    action: "listen on",
                    path: "/run/vnetlab/demo/control.sock".into(),
                    source: denied(),
                },
                format!(
                    "cannot listen on /run/vnetlab/demo/control.sock: {}",
                    denied()
                ),
            ),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), message);
        }
    }
}
