//! The live lab agrees with `trace` (Live lab issue: "A test runs the `trace` prediction and
//! real traffic (`ping`, `nc`, `traceroute`) for every pair of VMs in at least three
//! topologies: the demo, hub-and-spoke with an NVA, and an NSG-heavy one. It fails on any
//! disagreement.").
//!
//! Each topology is brought up once (`vnetlab up`); every VM listens on the topology's TCP
//! ports; then, for every ordered pair of distinct VMs (A, B), one pair after the other:
//! - ICMP: `trace --protocol icmp` is Delivered exactly when `ping -c 1 -W 1 B` in A succeeds;
//! - TCP, per port P: `trace --protocol tcp --port P` is Delivered exactly when `nc -z B P` in A
//!   connects;
//! - traceroute (UDP to 33434 and up), when the ping is predicted to pass: if
//!   `trace --protocol udp --port 33434` is Delivered, the hops `traceroute -n B` prints are the
//!   appliances that trace passes (each a Linux router that answers with time-exceeded from its
//!   NIC's address), then B: the fabric itself is never a hop (D3). If the UDP trace is
//!   Dropped, B never answers.
//!
//! Every disagreement is collected and the test fails at the end listing them all (topology,
//! pair, protocol, predicted, observed). Labs are removed when the test ends, passed or failed.

mod common;

use common::{text, vnetlab, Lab};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use tempfile::TempDir;

/// The first UDP port traceroute probes (and the port its prediction traces).
const TRACEROUTE_PORT: u16 = 33434;
/// traceroute's TTL limit: more than any path here passes appliances.
const MAX_TTL: usize = 8;

/// A VM of a running lab and its primary private address.
struct Vm {
    name: String,
    ip: String,
}

/// One topology to check: its file, the lab's name, the TCP ports to try.
struct Topology {
    label: &'static str,
    file: PathBuf,
    lab: &'static str,
    tcp_ports: &'static [u16],
}

/// How many pairs each check covered, and how many of them were predicted delivered.
#[derive(Default)]
struct Tally {
    checked: usize,
    delivered: usize,
}

impl Tally {
    fn add(&mut self, delivered: bool) {
        self.checked += 1;
        self.delivered += usize::from(delivered);
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} pairs ({} delivered, {} dropped)",
            self.checked,
            self.delivered,
            self.checked - self.delivered
        )
    }
}

/// The TCP listeners started in the VMs, killed when dropped (before the lab goes: `vnetlab
/// exec` runs in the host's PID namespace, and `down` leaves processes alone).
struct Listeners {
    pids: Vec<String>,
}

impl Drop for Listeners {
    fn drop(&mut self) {
        for pid in &self.pids {
            let _ = Command::new("kill").arg(pid).output();
        }
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The VMs of a running lab with their primary addresses, from `vnetlab status -o json`.
fn lab_vms(lab: &Lab) -> Vec<Vm> {
    let out = vnetlab(&["status", &lab.name, "-o", "json"]);
    assert!(
        out.status.success(),
        "vnetlab status failed:\n{}",
        text(&out)
    );
    let status: Value = serde_json::from_slice(&out.stdout).expect("status JSON");
    let vms = status["state"]["vms"]
        .as_array()
        .expect("state.vms is a list");
    vms.iter()
        .map(|vm| Vm {
            name: vm["name"].as_str().expect("VM name").to_string(),
            ip: vm["nics"][0]["privateIp"]
                .as_str()
                .expect("the primary NIC's privateIp")
                .to_string(),
        })
        .collect()
}

/// NIC name -> private address, to name the appliances a trace passes by the address their
/// guests answer traceroute from.
fn nic_addresses(lab: &Lab) -> Vec<(String, String)> {
    let out = vnetlab(&["status", &lab.name, "-o", "json"]);
    let status: Value = serde_json::from_slice(&out.stdout).expect("status JSON");
    let mut all = Vec::new();
    for vm in status["state"]["vms"].as_array().into_iter().flatten() {
        for nic in vm["nics"].as_array().into_iter().flatten() {
            if let (Some(name), Some(ip)) = (nic["name"].as_str(), nic["privateIp"].as_str()) {
                all.push((name.to_string(), ip.to_string()));
            }
        }
    }
    all
}

/// `vnetlab trace FILE --from A --to B --protocol P [--port N] -o json`.
fn trace(file: &Path, from: &str, to: &str, protocol: &str, port: Option<u16>) -> Value {
    let port = port.map(|p| p.to_string());
    let mut args = vec![
        "trace",
        file.to_str().expect("utf-8 path"),
        "--from",
        from,
        "--to",
        to,
        "--protocol",
        protocol,
        "-o",
        "json",
    ];
    if let Some(p) = &port {
        args.extend(["--port", p.as_str()]);
    }
    let out = vnetlab(&args);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "trace {from} -> {to} {protocol} gave no JSON ({e}):\n{}",
            text(&out)
        )
    })
}

fn delivered(trace: &Value) -> bool {
    match trace["verdict"].as_str() {
        Some("Delivered") => true,
        Some("Dropped") => false,
        other => panic!("unexpected verdict {other:?} in {trace}"),
    }
}

/// The trace's verdict for the report, with why it is Dropped: the hop that dropped the
/// request or its reply, or the asymmetry.
fn said(trace: &Value) -> String {
    if delivered(trace) {
        return "Delivered".to_string();
    }
    if let Some(a) = trace["asymmetric"].as_str() {
        return format!("Dropped ({a})");
    }
    let (hop, leg) = if trace["droppedBy"].is_null() {
        (&trace["returnPath"]["droppedBy"], "the reply, ")
    } else {
        (&trace["droppedBy"], "")
    };
    match (hop["resource"].as_str(), hop["decision"].as_str()) {
        (Some(r), Some(d)) => format!("Dropped ({leg}by {r} {d})"),
        _ => "Dropped".to_string(),
    }
}

/// The addresses traceroute should print: each appliance of the forward path (its NIC's
/// address), then the destination.
fn predicted_hops(trace: &Value, nics: &[(String, String)], dest: &str) -> Vec<String> {
    let mut hops: Vec<String> = trace["hops"]
        .as_array()
        .expect("hops")
        .iter()
        .filter(|h| h["layer"] == "Appliance")
        .map(|h| {
            let resource = h["resource"].as_str().unwrap_or_default();
            let nic = resource
                .strip_prefix("networkInterfaces/")
                .unwrap_or(resource);
            nics.iter()
                .find(|(n, _)| n == nic)
                .map(|(_, ip)| ip.clone())
                .unwrap_or_else(|| format!("<{resource}>"))
        })
        .collect();
    hops.push(dest.to_string());
    hops
}

/// The addresses of traceroute's hop lines (`*` for a probe nobody answered).
fn traceroute_hops(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| !l.starts_with("traceroute to"))
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(str::to_string)
        .collect()
}

/// Starts `nc -l -k -p PORT` in every VM for every port, and waits until each listens.
fn start_listeners(lab: &Lab, vms: &[Vm], ports: &[u16]) -> Listeners {
    let mut listeners = Listeners { pids: Vec::new() };
    for vm in vms {
        for port in ports {
            let out = lab.sh(
                &vm.name,
                &format!("nc -l -k -p {port} >/dev/null 2>&1 </dev/null & echo $!"),
            );
            let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
            assert!(
                out.status.success() && pid.parse::<u32>().is_ok(),
                "cannot start a listener on {}:{port}:\n{}",
                vm.name,
                text(&out)
            );
            listeners.pids.push(pid);
            // Over the VM's loopback: the switch never sees it.
            let ready = lab.sh(&vm.name, &format!("for i in $(seq 50); do nc -z 127.0.0.1 {port} && exit 0; sleep 0.1; done; exit 1"));
            assert!(
                ready.status.success(),
                "the listener on {}:{port} did not come up:\n{}",
                vm.name,
                text(&ready)
            );
        }
    }
    listeners
}

/// Checks every ordered pair of one topology; returns the disagreements.
fn check_topology(t: &Topology) -> Vec<String> {
    let started = Instant::now();
    let lab = Lab::up(&t.file, t.lab);
    let vms = lab_vms(&lab);
    let nics = nic_addresses(&lab);
    // Linux limits the ICMP errors it sends to one host (1 s apart after a burst of 6): an
    // appliance answering several traceroutes in a row would show as `*`. The guests' setting,
    // not the fabric's: lift it.
    for vm in &vms {
        let out = lab.exec(
            &vm.name,
            &["sysctl", "-q", "-w", "net.ipv4.icmp_ratelimit=0"],
        );
        assert!(
            out.status.success(),
            "sysctl in {}:\n{}",
            vm.name,
            text(&out)
        );
    }
    let _listeners = start_listeners(&lab, &vms, t.tcp_ports);
    let mut disagreements = Vec::new();
    let mut icmp = Tally::default();
    let mut tcp: Vec<Tally> = t.tcp_ports.iter().map(|_| Tally::default()).collect();
    let mut traceroute = Tally::default();
    for a in &vms {
        for b in vms.iter().filter(|b| b.name != a.name) {
            let pair = format!(
                "{}: {} ({}) -> {} ({})",
                t.label, a.name, a.ip, b.name, b.ip
            );

            // ICMP: one echo request.
            let predicted = trace(&t.file, &a.name, &b.name, "icmp", None);
            assert_eq!(
                predicted["to"]["address"].as_str(),
                Some(b.ip.as_str()),
                "trace resolves {} to the lab's address",
                b.name
            );
            let ping_expected = delivered(&predicted);
            let out = lab.exec(&a.name, &["ping", "-c", "1", "-W", "1", &b.ip]);
            let got = out.status.success();
            icmp.add(ping_expected);
            if !matches!(out.status.code(), Some(0 | 1)) {
                disagreements.push(format!(
                    "{pair} icmp (ping): ping could not run:\n{}",
                    text(&out).trim_end()
                ));
            } else if ping_expected != got {
                disagreements.push(format!(
                    "{pair} icmp (ping): trace says {}, ping {}",
                    said(&predicted),
                    if got { "got a reply" } else { "got no reply" }
                ));
            }

            // TCP: a connection to each port B listens on, the ports at once (each its own flow).
            let script: String = t
                .tcp_ports
                .iter()
                .map(|p| {
                    format!(
                        "(nc -z -w 1 {} {p} >/dev/null 2>&1; echo \"{p} $?\") & ",
                        b.ip
                    )
                })
                .chain(["wait".to_string()])
                .collect();
            let out = lab.sh(&a.name, &script);
            let report = String::from_utf8_lossy(&out.stdout).to_string();
            for (port, tally) in t.tcp_ports.iter().zip(&mut tcp) {
                let predicted = trace(&t.file, &a.name, &b.name, "tcp", Some(*port));
                let want = delivered(&predicted);
                let rc = report
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{port} ")))
                    .unwrap_or_else(|| {
                        panic!("no result for port {port} from {}:\n{}", a.name, text(&out))
                    });
                let got = rc.trim() == "0";
                tally.add(want);
                if want != got {
                    disagreements.push(format!(
                        "{pair} tcp/{port} (nc -z): trace says {}, nc {}",
                        said(&predicted),
                        if got { "connected" } else { "did not connect" }
                    ));
                }
            }

            // traceroute (UDP), where the ping is expected through.
            if !ping_expected {
                continue;
            }
            let predicted = trace(&t.file, &a.name, &b.name, "udp", Some(TRACEROUTE_PORT));
            let want = delivered(&predicted);
            let max_ttl = MAX_TTL.to_string();
            let out = lab.exec(
                &a.name,
                &[
                    "traceroute",
                    "-n",
                    "-w",
                    "1",
                    "-q",
                    "1",
                    "-m",
                    &max_ttl,
                    &b.ip,
                ],
            );
            let stdout = String::from_utf8_lossy(&out.stdout).to_string();
            let hops = traceroute_hops(&stdout);
            traceroute.add(want);
            if want {
                let expected = predicted_hops(&predicted, &nics, &b.ip);
                if hops != expected {
                    disagreements.push(format!("{pair} traceroute (udp/{TRACEROUTE_PORT}+): trace says Delivered through hops {expected:?}, traceroute printed {hops:?}\n{}", text(&out).trim_end()));
                }
            } else if hops.contains(&b.ip) {
                disagreements.push(format!("{pair} traceroute (udp/{TRACEROUTE_PORT}+): trace says {}, but {} answered traceroute: {hops:?}", said(&predicted), b.name));
            }
        }
    }
    eprintln!(
        "{}: {} VMs, {} ordered pairs, in {:.1} s",
        t.label,
        vms.len(),
        vms.len() * (vms.len() - 1),
        started.elapsed().as_secs_f64()
    );
    eprintln!("  icmp (ping):        {icmp}");
    for (port, tally) in t.tcp_ports.iter().zip(&tcp) {
        eprintln!("  tcp/{port:<5} (nc -z):  {tally}");
    }
    eprintln!("  traceroute (udp):   {traceroute}");
    disagreements
}

#[test]
fn trace_and_live_traffic_agree_for_every_vm_pair() {
    if !common::lab_possible() {
        return;
    }
    let started = Instant::now();
    // The demo's lab file lives in a directory removed when the test ends, passed or failed.
    let dir = TempDir::new().expect("a temporary directory");
    let demo = dir.path().join("demo.yaml");
    let written = vnetlab(&["demo", "--write", demo.to_str().expect("utf-8 path")]);
    assert!(
        written.status.success(),
        "vnetlab demo --write failed:\n{}",
        text(&written)
    );
    let lab_dir = repo_root().join("tests/lab");
    let topologies = [
        Topology {
            label: "demo",
            file: demo,
            lab: "agdemo",
            tcp_ports: &[22, 80],
        },
        Topology {
            label: "hub-spoke-nva",
            file: lab_dir.join("hub-spoke-nva.yaml"),
            lab: "aghub",
            tcp_ports: &[22],
        },
        Topology {
            label: "nsg-heavy",
            file: lab_dir.join("nsg-heavy.yaml"),
            lab: "agnsg",
            tcp_ports: &[22, 80, 1433],
        },
    ];
    let mut disagreements = Vec::new();
    for t in &topologies {
        disagreements.extend(check_topology(t));
    }
    eprintln!("all topologies in {:.1} s", started.elapsed().as_secs_f64());
    assert!(
        disagreements.is_empty(),
        "{} disagreement(s) between trace and the live lab:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
