//! Bringing a lab up and down (Live lab issue, "Commands"): every VM a namespace with one TAP
//! per NIC (MACs from 00:0d:3a), appliances forwarding IP, on-premises sites and the Internet
//! (D15) as namespaces too, the switch thread behind them all, and a DHCP client in each VM
//! that returns once every lease is taken. Everything is named with the lab's prefix and
//! recorded in `/run/vnetlab/<lab>/`, so `down` removes it all, also after a crash.

use crate::capture::Recorder;
use crate::control;
use crate::datapath;
use crate::error::LabError;
use crate::flow_table::FLOWS_PER_NIC;
use crate::naming::{mac_string, outside_mac, LabName};
use crate::netns;
use crate::switch::{Attachment, Counters, Port, Switch};
use crate::tap::Tap;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use vnetlab_engine::routes::RoutingTables;
use vnetlab_engine::security::tables::SecurityTables;
use vnetlab_engine::trace::address_index::AddressIndex;
use vnetlab_engine::trace::Fabric;
use vnetlab_model::service_tags::ServiceTags;
use vnetlab_model::Topology;

/// The Internet host of the lab (D15): the Internet namespace's address.
pub const INTERNET_HOST: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
/// How long `up` waits for every lease.
const LEASE_TIMEOUT: Duration = Duration::from_secs(30);

/// What `status` and `down` read back.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub lab: String,
    pub pid: u32,
    pub file: String,
    pub vms: Vec<VmState>,
    pub namespaces: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VmState {
    pub name: String,
    pub namespace: String,
    pub nics: Vec<NicState>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NicState {
    pub name: String,
    pub device: String,
    pub mac: String,
    pub private_ip: Ipv4Addr,
    pub ip_forwarding: bool,
}

pub fn state_file(lab: &LabName) -> PathBuf {
    lab.state_dir().join("state.json")
}

pub fn read_state(lab: &LabName) -> Option<State> {
    serde_json::from_str(&std::fs::read_to_string(state_file(lab)).ok()?).ok()
}

/// Whether a process runs (a zombie, killed but not yet reaped, does not).
pub fn alive(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rsplit(") ")
        .next()
        .and_then(|rest| rest.chars().next());
    pid != 0 && state.is_some_and(|s| s != 'Z' && s != 'X')
}

fn write_file(path: &Path, text: &str) -> Result<(), LabError> {
    std::fs::write(path, text).map_err(|source| LabError::File {
        action: "write",
        path: path.to_path_buf(),
        source,
    })
}

/// The DHCP client's hook: it sets the address and the default route, and writes nothing
/// else (the namespace's resolv.conf is already written).
const UDHCPC_SCRIPT: &str = r#"#!/bin/sh
case "$1" in
  deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-$subnet}" dev "$interface"
    [ -n "$router" ] && ip route replace default via "$router" dev "$interface"
    ;;
esac
exit 0
"#;

struct Plan {
    ports: Vec<Port>,
    /// Port `i`'s device.
    taps: Vec<Tap>,
    state: State,
    /// (namespace, device) pairs that take a lease.
    dhcp: Vec<(String, String)>,
}

/// Creates the namespaces and TAPs of a topology.
fn build(t: &Topology, lab: &LabName, file: &str) -> Result<Plan, LabError> {
    let (mut ports, mut taps) = (Vec::new(), Vec::new());
    let mut state = State {
        lab: lab.as_str().into(),
        pid: std::process::id(),
        file: file.into(),
        vms: Vec::new(),
        namespaces: Vec::new(),
    };
    let mut dhcp = Vec::new();
    for vm in &t.vms {
        let ns = lab.vm_namespace(&vm.name);
        netns::create(&ns)?;
        state.namespaces.push(ns.clone());
        let mut nics = Vec::new();
        for (k, nic) in vm.nics.iter().enumerate() {
            let n = t.nic(*nic);
            let port = Port::nic(t, *nic, &vm.name);
            let device = format!("eth{k}");
            let tap = Tap::create(&lab.tap(ports.len())).map_err(|source| LabError::Tap {
                of: format!("NIC '{}'", n.name),
                source,
                hint: " (this needs root and /dev/net/tun)",
            })?;
            netns::adopt_device(&tap.name, &ns, &device, &mac_string(port.mac))?;
            if n.enable_ip_forwarding {
                // An appliance routes in its guest; it must not redirect its senders elsewhere,
                // and it answers every traceroute probe (Linux would rate-limit its errors).
                for key in [
                    "net.ipv4.ip_forward=1",
                    "net.ipv4.conf.all.send_redirects=0",
                    &format!("net.ipv4.conf.{device}.send_redirects=0"),
                    "net.ipv4.icmp_ratelimit=0",
                ] {
                    sysctl(&ns, key)?;
                }
            }
            nics.push(NicState {
                name: n.name.clone(),
                device: device.clone(),
                mac: mac_string(port.mac),
                private_ip: n.primary_ip_configuration().private_ip,
                ip_forwarding: n.enable_ip_forwarding,
            });
            ports.push(port);
            taps.push(tap);
            dhcp.push((ns.clone(), device));
        }
        state.vms.push(VmState {
            name: vm.name.clone(),
            namespace: ns,
            nics,
        });
    }
    // The Internet (D15), and every site a connection reaches.
    let internet = lab.internet_namespace();
    outside(
        (&mut ports, &mut taps),
        lab,
        &internet,
        Attachment::Internet,
        ipnet::Ipv4Net::new(INTERNET_HOST, 24).expect("constant"),
    )?;
    state.namespaces.push(internet);
    for c in &t.connections {
        if let vnetlab_model::ConnectionKind::IPsec { local_gateway } = c.kind {
            let lng = &t[local_gateway];
            let ns = lab.site_namespace(&lng.name);
            if state.namespaces.contains(&ns) {
                continue;
            }
            let Some(prefix) = lng.address_prefixes.first().or(lng.bgp_advertised.first()) else {
                continue;
            };
            let host = ipnet::Ipv4Net::new(site_host(*prefix), prefix.prefix_len()).expect("valid");
            outside(
                (&mut ports, &mut taps),
                lab,
                &ns,
                Attachment::Site(local_gateway),
                host,
            )?;
            state.namespaces.push(ns);
        }
    }
    Ok(Plan {
        ports,
        taps,
        state,
        dhcp,
    })
}

/// A site's host: the tenth address of its first prefix (as `reach` picks it).
fn site_host(prefix: ipnet::Ipv4Net) -> Ipv4Addr {
    let span = if prefix.prefix_len() >= 31 {
        0
    } else {
        10.min((1u32 << (32 - prefix.prefix_len())) - 2)
    };
    Ipv4Addr::from(u32::from(prefix.network()) + span)
}

/// A namespace outside Azure (a site, the Internet): one TAP, an address, and everything
/// else through the switch.
fn outside(
    (ports, taps): (&mut Vec<Port>, &mut Vec<Tap>),
    lab: &LabName,
    ns: &str,
    attachment: Attachment,
    address: ipnet::Ipv4Net,
) -> Result<(), LabError> {
    netns::create(ns)?;
    let mac = outside_mac(ports.len());
    let tap = Tap::create(&lab.tap(ports.len())).map_err(|source| LabError::Tap {
        of: ns.to_string(),
        source,
        hint: "",
    })?;
    netns::adopt_device(&tap.name, ns, "eth0", &mac_string(mac))?;
    netns::ip(&["-n", ns, "addr", "add", &address.to_string(), "dev", "eth0"])?;
    netns::ip(&["-n", ns, "route", "add", "default", "dev", "eth0"])?;
    ports.push(Port {
        attachment,
        mac,
        lease: None,
    });
    taps.push(tap);
    Ok(())
}

/// The emulated Internet's web server (Live lab issue: "a small web server to curl"):
/// busybox httpd on 192.0.2.10:80, answering with a page that says where it is. It runs in
/// the Internet namespace, so `down` stops it with the namespace.
fn web_server(dir: &Path, ns: &str) -> Result<(), LabError> {
    let root = dir.join("www");
    std::fs::create_dir_all(&root).map_err(|source| LabError::File {
        action: "create",
        path: root.clone(),
        source,
    })?;
    write_file(
        &root.join("index.html"),
        &format!("Hello from the emulated Internet ({INTERNET_HOST})\n"),
    )?;
    netns::exec(ns, "busybox")
        .args(["httpd", "-f", "-p", "80", "-h"])
        .arg(&root)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(drop)
        .map_err(LabError::WebServer)
}

fn sysctl(ns: &str, key: &str) -> Result<(), LabError> {
    let out = netns::exec(ns, "sysctl")
        .args(["-q", "-w", key])
        .output()
        .map_err(|source| LabError::Spawn {
            program: "sysctl".into(),
            source,
            hint: "",
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(LabError::Sysctl {
            key: key.to_string(),
            ns: ns.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

/// Runs a DHCP client in every VM and waits for every lease.
fn take_leases(dir: &Path, dhcp: &[(String, String)]) -> Result<(), LabError> {
    let script = dir.join("udhcpc.sh");
    write_file(&script, UDHCPC_SCRIPT)?;
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .map_err(|source| LabError::NotExecutable {
            path: script.clone(),
            source,
        })?;
    let deadline = Instant::now() + LEASE_TIMEOUT;
    let mut clients = Vec::new();
    for (ns, dev) in dhcp {
        let child = netns::exec(ns, "udhcpc")
            .args([
                "-i", dev, "-f", "-q", "-n", "-t", "20", "-T", "1", "-A", "1", "-s",
            ])
            .arg(&script)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|source| LabError::Spawn {
                program: format!("udhcpc in {ns}"),
                source,
                hint: " (install busybox's udhcpc)",
            })?;
        clients.push((ns, dev, child));
    }
    for (ns, dev, mut child) in clients {
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => break,
                Ok(Some(_)) => {
                    return Err(LabError::NoLease {
                        ns: ns.clone(),
                        device: dev.clone(),
                    })
                }
                Ok(None) if Instant::now() > deadline => {
                    let _ = child.kill();
                    return Err(LabError::LeaseTimeout {
                        ns: ns.clone(),
                        device: dev.clone(),
                        seconds: LEASE_TIMEOUT.as_secs(),
                    });
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(source) => {
                    return Err(LabError::Udhcpc {
                        ns: ns.clone(),
                        source,
                    })
                }
            }
        }
    }
    Ok(())
}

/// Blocks SIGINT and SIGTERM in this thread (and the threads it starts); returns the set to
/// wait on.
fn block_signals() -> libc::sigset_t {
    // SAFETY: sigset manipulation on a local set, then the thread's own mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

pub struct UpOptions {
    pub lab: LabName,
    pub file: String,
    pub pcap_dir: Option<PathBuf>,
}

/// `vnetlab up --foreground`: brings the lab up, prints when every VM has its lease, runs the
/// switch until SIGINT or SIGTERM, then removes everything.
pub fn run(
    t: &Topology,
    tags: &ServiceTags,
    opts: &UpOptions,
    ready: impl FnOnce(&State, Duration),
) -> Result<(), LabError> {
    let lab = &opts.lab;
    if let Some(s) = read_state(lab).filter(|s| alive(s.pid)) {
        return Err(LabError::AlreadyUp {
            lab: lab.as_str().into(),
            pid: s.pid,
        });
    }
    down(lab);
    let dir = lab.state_dir();
    std::fs::create_dir_all(&dir).map_err(|source| LabError::File {
        action: "create",
        path: dir.clone(),
        source,
    })?;
    let signals = block_signals();
    let started = Instant::now();
    let outcome = serve(t, tags, opts, &dir, signals, started, ready);
    down(lab);
    outcome
}

fn serve(
    t: &Topology,
    tags: &ServiceTags,
    opts: &UpOptions,
    dir: &Path,
    signals: libc::sigset_t,
    started: Instant,
    ready: impl FnOnce(&State, Duration),
) -> Result<(), LabError> {
    // Recorded before anything is created, so `down` can clean up after a crash.
    let provisional = State {
        lab: opts.lab.as_str().into(),
        pid: std::process::id(),
        file: opts.file.clone(),
        vms: Vec::new(),
        namespaces: Vec::new(),
    };
    write_file(
        &state_file(&opts.lab),
        &serde_json::to_string_pretty(&provisional).expect("serialisable"),
    )?;
    let plan = build(t, &opts.lab, &opts.file)?;
    write_file(
        &state_file(&opts.lab),
        &serde_json::to_string_pretty(&plan.state).expect("serialisable"),
    )?;
    web_server(dir, &opts.lab.internet_namespace())?;
    let (routes, security, addresses) = (
        RoutingTables::compute(t, tags),
        SecurityTables::new(t, tags),
        AddressIndex::new(t),
    );
    let fabric = Fabric {
        topology: t,
        routes: &routes,
        security: &security,
        addresses: &addresses,
    };
    let counters = Counters::default();
    let recorder = Recorder::new(plan.ports.len());
    if let Some(pcap_dir) = &opts.pcap_dir {
        std::fs::create_dir_all(pcap_dir).map_err(|source| LabError::File {
            action: "create",
            path: pcap_dir.clone(),
            source,
        })?;
        for (i, p) in plan.ports.iter().enumerate() {
            let name = match p.attachment {
                Attachment::Nic(n) => t.nic(n).name.clone(),
                Attachment::Internet => "internet".into(),
                Attachment::Site(s) => format!("site-{}", t[s].name),
            };
            recorder
                .to_file(i, &pcap_dir.join(format!("{name}.pcap")))
                .map_err(|source| LabError::File {
                    action: "write",
                    path: pcap_dir.clone(),
                    source,
                })?;
        }
    }
    let names: Vec<(String, usize)> = plan
        .ports
        .iter()
        .enumerate()
        .filter_map(|(i, p)| match p.attachment {
            Attachment::Nic(n) => Some((t.nic(n).name.clone(), i)),
            _ => None,
        })
        .collect();
    let stop = &AtomicBool::new(false);
    let state = &plan.state;
    let (counters, recorder, names) = (&counters, &recorder, &names);
    let listener = control::bind(dir)?;
    std::thread::scope(|scope| {
        let mut switch = Switch::new(fabric, plan.ports, counters, FLOWS_PER_NIC);
        let taps = plan.taps;
        scope.spawn(move || datapath::run(&mut switch, &taps, counters, recorder, stop));
        scope.spawn(move || control::serve(listener, stop, counters, recorder, names, state));
        let outcome = take_leases(dir, &plan.dhcp).and_then(|()| {
            write_file(&dir.join("ready"), "")?;
            ready(state, started.elapsed());
            let mut sig = 0;
            // SAFETY: waits for one of the blocked signals.
            unsafe { libc::sigwait(&signals, &mut sig) };
            Ok(())
        });
        stop.store(true, Ordering::Relaxed);
        outcome
    })
}

/// Removes a lab: stops its switch, deletes its namespaces (and their devices) and files.
/// Returns what it removed.
pub fn down(lab: &LabName) -> Vec<String> {
    let mut removed = Vec::new();
    if let Some(state) = read_state(lab) {
        if state.pid != std::process::id() && alive(state.pid) {
            // SAFETY: signals the lab's own switch process, recorded when it started.
            unsafe { libc::kill(state.pid as libc::pid_t, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(5);
            while alive(state.pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if alive(state.pid) {
                // SAFETY: as above; it did not stop in time.
                unsafe { libc::kill(state.pid as libc::pid_t, libc::SIGKILL) };
            }
            removed.push(format!("switch process {}", state.pid));
        }
    }
    for ns in netns::list(&lab.prefix()) {
        netns::delete(&ns);
        removed.push(format!("namespace {ns}"));
    }
    if let Ok(entries) = std::fs::read_dir("/etc/netns") {
        for e in entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(&lab.prefix()))
        {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    // TAP devices left in the host namespace by a crash between creating and moving them.
    let tap_prefix = lab.tap(0).trim_end_matches('0').to_string();
    if let Ok(out) = std::process::Command::new("ip")
        .args(["-o", "link", "show"])
        .output()
    {
        for dev in String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split(": ").nth(1))
            .map(|d| d.split('@').next().unwrap_or(d))
        {
            if dev.starts_with(&tap_prefix) {
                let _ = netns::ip(&["link", "delete", dev]);
                removed.push(format!("device {dev}"));
            }
        }
    }
    if lab.state_dir().exists() {
        let _ = std::fs::remove_dir_all(lab.state_dir());
    }
    removed
}

/// The namespace of a VM of a running lab.
pub fn vm_namespace(lab: &LabName, vm: &str) -> Result<String, LabError> {
    let state = read_state(lab).ok_or_else(|| LabError::NotUp {
        lab: lab.as_str().into(),
        state_file: state_file(lab),
    })?;
    state
        .vms
        .iter()
        .find(|v| v.name == vm || v.name.eq_ignore_ascii_case(vm))
        .map(|v| v.namespace.clone())
        .ok_or_else(|| LabError::NoSuchVm {
            lab: lab.as_str().into(),
            vm: vm.into(),
            vms: state.vms.iter().map(|v| v.name.clone()).collect(),
        })
}
