//! The Live lab benchmark: the release `vnetlab` binary (found next to this one) brings labs up
//! as network namespaces on its switch, and this measures them against the kernel.
//!
//! - Throughput and latency: iperf3 TCP (both ways) and ping between two VMs in peered VNets
//!   (a 10.10.0.0/16, b 10.20.0.0/16), each subnet with an NSG (tcp 5201 and ICMP allowed from
//!   VirtualNetwork, everything else inbound denied, plus the defaults) and a route table whose
//!   user routes (0.0.0.0/0 -> Internet, 10.99.0.0/16 -> None) do not change the path; then the
//!   same between two namespaces routed by the kernel: veth pairs to a Linux bridge in a router
//!   namespace of its own, the gateways 10.10.1.1 and 10.20.1.1 on the bridge, and an
//!   equivalent stateful nftables ruleset (inet family) on its forward path. The bridge family
//!   cannot be stateful without CONFIG_NF_CONNTRACK_BRIDGE, so the ruleset is on the routed
//!   path, where each packet passes it once.
//!   And the same through Open vSwitch's userspace datapath (`datapath_type=netdev`, no kernel
//!   module): its own ovsdb-server and ovs-vswitchd with a private run dir, the switch in a
//!   namespace of its own, one TAP port per VM moved into the VM's namespace, and OpenFlow
//!   rules doing the same policy: ARP answered with the fabric MAC, the two subnets routed with
//!   the MAC rewrite, and the NSG allow rules made stateful with the userspace conntrack `ct()`.
//! - Startup: `vnetlab up` of a generated 50-VM topology (5 VNets x 2 subnets x 5 VMs, peered
//!   in a full mesh) until every lease is taken, the median of N runs.
//!
//! Everything it creates is named `vl-bench-*` (the labs `bench-pair` and `bench-start`, the
//! kernel namespaces `vl-bench-k-*`, the OVS namespaces and devices `vlbo-*`) and removed at the end, also on failure or Ctrl-C.
//! Needs root, iperf3, ping, nft and iproute2; the OVS peer is skipped without openvswitch-switch.
//! Run: `cargo build --release -p vnetlab-cli -p vnetlab-bench --bins &&
//! sudo ./target/release/vnetlab-bench-lab [--seconds N] [--pings N] [--runs N] [--profile]`.

use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: vnetlab-bench-lab [--seconds N] [--pings N] [--runs N] [--profile]";
/// The labs (<= 12 lower-case characters; their namespaces are `vl-<lab>-<vm>`).
const PAIR_LAB: &str = "bench-pair";
const START_LAB: &str = "bench-start";
/// The kernel baseline's namespaces: the two VMs and the router with the bridge.
const K_VA: &str = "vl-bench-k-va";
const K_VB: &str = "vl-bench-k-vb";
const K_ROUTER: &str = "vl-bench-k-br";
/// The OVS peer's namespaces (the switch, the two VMs) and devices (bridge, TAPs).
const O_SW: &str = "vlbo-sw";
const O_VA: &str = "vlbo-va";
const O_VB: &str = "vlbo-vb";
const O_BRIDGE: &str = "vlbo-br";
/// Azure's fabric MAC, which answers every ARP and sources every routed frame.
const FABRIC_MAC: &str = "12:34:56:78:9a:bc";
const IP_A: &str = "10.10.1.4";
const IP_B: &str = "10.20.1.4";
const PORT: u16 = 5201;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

struct Args {
    seconds: u32,
    pings: u32,
    runs: usize,
    profile: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        seconds: 5,
        pings: 20,
        runs: 3,
        profile: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--seconds" => {
                args.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?
            }
            "--pings" => args.pings = value()?.parse().map_err(|e| format!("--pings: {e}"))?,
            "--runs" => args.runs = value()?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--profile" => args.profile = true,
            _ => return Err(format!("unknown argument {flag}\n{USAGE}")),
        }
    }
    if !(1..=60).contains(&args.seconds)
        || !(1..=1000).contains(&args.pings)
        || !(1..=20).contains(&args.runs)
    {
        return Err("--seconds must be 1 to 60, --pings 1 to 1000, --runs 1 to 20".into());
    }
    Ok(args)
}

/// Everything the benchmark creates, removed on drop (also when it fails or panics): the
/// processes it started (each the leader of a process group of its own), the labs (through
/// `vnetlab down`), the kernel baseline's namespaces, and the temp dir.
struct Guard {
    vnetlab: PathBuf,
    dir: PathBuf,
    groups: Vec<u32>,
    labs: Vec<&'static str>,
    namespaces: Vec<&'static str>,
}

impl Guard {
    fn forget_group(&mut self, pid: u32) {
        self.groups.retain(|g| *g != pid);
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        for pid in self.groups.drain(..) {
            // SAFETY: signals the process group this benchmark started (its leader's pid).
            unsafe { libc::kill(-(pid as libc::pid_t), libc::SIGKILL) };
        }
        for lab in self.labs.drain(..) {
            let _ = Command::new(&self.vnetlab)
                .args(["down", lab])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        for ns in self.namespaces.drain(..) {
            let _ = Command::new("ip")
                .args(["netns", "delete", ns])
                .stderr(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What a finished command left: its exit status, stdout and stderr.
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// Runs a command in a process group of its own, its output to files in the temp dir, and
/// waits at most `limit`; on timeout or Ctrl-C the group is killed.
fn run(g: &mut Guard, cmd: &mut Command, limit: Duration) -> Result<Run, String> {
    let what = format!("{:?}", cmd).replace('"', "");
    let child = spawn(g, cmd)?;
    finish(g, child, limit).map_err(|e| format!("{what}: {e}"))
}

struct Spawned {
    child: std::process::Child,
    out: PathBuf,
    err: PathBuf,
}

fn spawn(g: &mut Guard, cmd: &mut Command) -> Result<Spawned, String> {
    use std::os::unix::process::CommandExt;
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let (out, err) = (
        g.dir.join(format!("{n}.out")),
        g.dir.join(format!("{n}.err")),
    );
    let file = |p: &Path| {
        std::fs::File::create(p).map_err(|e| format!("cannot write {}: {e}", p.display()))
    };
    let child = cmd
        .stdin(Stdio::null())
        .stdout(file(&out)?)
        .stderr(file(&err)?)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    g.groups.push(child.id());
    Ok(Spawned { child, out, err })
}

fn finish(g: &mut Guard, mut s: Spawned, limit: Duration) -> Result<Run, String> {
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = s.child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if INTERRUPTED.load(Ordering::SeqCst) {
            return Err("interrupted".into());
        }
        if Instant::now() > deadline {
            return Err(format!("did not finish within {} s", limit.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    g.forget_group(s.child.id());
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    Ok(Run {
        ok: status.success(),
        stdout: read(&s.out),
        stderr: read(&s.err),
    })
}

/// Runs a command that must succeed.
fn must(g: &mut Guard, cmd: &mut Command, limit: Duration) -> Result<String, String> {
    let what = format!("{:?}", cmd).replace('"', "");
    let r = run(g, cmd, limit)?;
    if r.ok {
        Ok(r.stdout)
    } else {
        Err(format!(
            "{what} failed: {}{}",
            r.stderr.trim(),
            r.stdout.trim()
        ))
    }
}

fn ip(g: &mut Guard, args: &[&str]) -> Result<(), String> {
    must(g, Command::new("ip").args(args), Duration::from_secs(10)).map(drop)
}

fn in_ns(ns: &str, program: &str) -> Command {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns, program]);
    c
}

/// A lab's state file, as `vnetlab up` wrote it (the switch's pid, the VMs' namespaces).
fn lab_state(lab: &str) -> Result<Value, String> {
    let path = format!("/run/vnetlab/{lab}/state.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))
}

fn vm_namespace(state: &Value, vm: &str) -> Result<String, String> {
    state["vms"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["name"] == vm)
        .and_then(|v| v["namespace"].as_str())
        .map(str::to_string)
        .ok_or_else(|| format!("the lab has no VM '{vm}'"))
}

/// The two-VM topology: VNets a and b peered both ways, an NSG and a route table on each subnet.
fn pair_topology() -> String {
    let mut y = String::from("# vnetlab-bench-lab: two VMs in peered VNets, an NSG and a UDR on each subnet.\nlocation: westeurope\nvnets:\n");
    for (me, other, net, vm, ip) in [("a", "b", 10, "va", IP_A), ("b", "a", 20, "vb", IP_B)] {
        let _ = write!(
            y,
            "  {me}:\n    address_space: [10.{net}.0.0/16]\n    subnets:\n      app:\n        prefix: 10.{net}.1.0/24\n        nsg: nsg-{me}\n        route_table: rt-{me}\n        vms:\n          {vm}: {{ ip: {ip} }}\n    peerings:\n      {other}: {{}}\n"
        );
    }
    y.push_str("route_tables:\n");
    for me in ["a", "b"] {
        let _ = write!(y, "  rt-{me}:\n    routes:\n      default-internet: {{ prefix: 0.0.0.0/0, next_hop: Internet }}\n      blackhole: {{ prefix: 10.99.0.0/16, next_hop: None }}\n");
    }
    y.push_str("nsgs:\n");
    for me in ["a", "b"] {
        let _ = write!(
            y,
            "  nsg-{me}:\n    rules:\n      - {{ name: allow-iperf, priority: 100, direction: Inbound, access: Allow, protocol: Tcp, source: VirtualNetwork, destination: \"*\", destination_ports: \"{PORT}\" }}\n      - {{ name: allow-icmp, priority: 110, direction: Inbound, access: Allow, protocol: Icmp, source: VirtualNetwork, destination: \"*\" }}\n      - {{ name: deny-rest, priority: 4000, direction: Inbound, access: Deny, protocol: \"*\", source: \"*\", destination: \"*\" }}\n"
        );
    }
    y
}

/// The startup topology: `vnets` VNets of 2 subnets of 5 VMs, peered in a full mesh, an NSG
/// and a route table on every subnet.
fn startup_topology(vnets: usize) -> String {
    let mut y =
        String::from("# vnetlab-bench-lab: the startup topology.\nlocation: westeurope\nvnets:\n");
    for i in 1..=vnets {
        let _ = write!(
            y,
            "  n{i}:\n    address_space: [10.{}.0.0/16]\n    subnets:\n",
            100 + i
        );
        for j in 1..=2 {
            let _ = write!(y, "      s{j}:\n        prefix: 10.{}.{j}.0/24\n        nsg: nsg-vm\n        route_table: rt-vm\n        vms:\n", 100 + i);
            for k in 1..=5 {
                let _ = writeln!(y, "          n{i}s{j}vm{k}: {{}}");
            }
        }
        y.push_str("    peerings:\n");
        for o in (1..=vnets).filter(|o| *o != i) {
            let _ = writeln!(y, "      n{o}: {{}}");
        }
    }
    y.push_str("route_tables:\n  rt-vm:\n    routes:\n      blackhole: { prefix: 10.99.0.0/16, next_hop: None }\n");
    let _ = write!(y, "nsgs:\n  nsg-vm:\n    rules:\n      - {{ name: allow-iperf, priority: 100, direction: Inbound, access: Allow, protocol: Tcp, source: VirtualNetwork, destination: \"*\", destination_ports: \"{PORT}\" }}\n");
    y
}

/// The kernel's equivalent of the NSGs: stateful, tcp 5201 and ICMP from the two VNets, the
/// rest dropped; on the router's forward path.
const RULESET: &str = "table inet vlbench {
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    ct state invalid drop
    ip saddr { 10.10.0.0/16, 10.20.0.0/16 } ip protocol icmp accept
    ip saddr { 10.10.0.0/16, 10.20.0.0/16 } tcp dport 5201 accept
  }
}
";

/// Creates namespaces, recorded for removal, with their loopback up.
fn add_namespaces(g: &mut Guard, names: [&'static str; 3]) -> Result<(), String> {
    for ns in names {
        ip(g, &["netns", "add", ns])?;
        g.namespaces.push(ns);
        ip(g, &["-n", ns, "link", "set", "lo", "up"])?;
    }
    Ok(())
}

/// The kernel baseline: the two VMs' namespaces on veth pairs to a bridge in the router's
/// namespace, which holds both gateways and forwards through the ruleset.
fn kernel_up(g: &mut Guard) -> Result<(), String> {
    add_namespaces(g, [K_ROUTER, K_VA, K_VB])?;
    ip(g, &["-n", K_ROUTER, "link", "add", "br0", "type", "bridge"])?;
    ip(
        g,
        &["-n", K_ROUTER, "addr", "add", "10.10.1.1/24", "dev", "br0"],
    )?;
    ip(
        g,
        &["-n", K_ROUTER, "addr", "add", "10.20.1.1/24", "dev", "br0"],
    )?;
    ip(g, &["-n", K_ROUTER, "link", "set", "br0", "up"])?;
    for (port, ns, addr, gw) in [
        ("pa", K_VA, "10.10.1.4/24", "10.10.1.1"),
        ("pb", K_VB, "10.20.1.4/24", "10.20.1.1"),
    ] {
        ip(
            g,
            &[
                "-n", K_ROUTER, "link", "add", port, "type", "veth", "peer", "name", "eth0",
                "netns", ns,
            ],
        )?;
        ip(
            g,
            &["-n", K_ROUTER, "link", "set", port, "master", "br0", "up"],
        )?;
        ip(g, &["-n", ns, "addr", "add", addr, "dev", "eth0"])?;
        ip(g, &["-n", ns, "link", "set", "eth0", "up"])?;
        ip(g, &["-n", ns, "route", "add", "default", "via", gw])?;
    }
    // Forward, without redirecting the VMs to each other (both subnets are on br0).
    let sysctl = |g: &mut Guard, key: &str| {
        must(
            g,
            in_ns(K_ROUTER, "sysctl").args(["-q", "-w", key]),
            Duration::from_secs(10),
        )
    };
    for key in [
        "net.ipv4.ip_forward=1",
        "net.ipv4.conf.all.send_redirects=0",
        "net.ipv4.conf.br0.send_redirects=0",
    ] {
        sysctl(g, key)?;
    }
    // With br_netfilter, bridged frames would pass the inet hooks a second time; this
    // namespace's own setting (absent without br_netfilter).
    let _ = sysctl(g, "net.bridge.bridge-nf-call-iptables=0");
    let rules = g.dir.join("ruleset.nft");
    std::fs::write(&rules, RULESET)
        .map_err(|e| format!("cannot write {}: {e}", rules.display()))?;
    must(
        g,
        in_ns(K_ROUTER, "nft").arg("-f").arg(&rules),
        Duration::from_secs(10),
    )
    .map(drop)
}

/// The OVS peer's OpenFlow rules: table 0 answers ARP requests with the fabric MAC and sends
/// IP to the gateway through conntrack; table 1 is the NSGs (established and related pass, new
/// ICMP and tcp 5201 from the two VNets are committed, the rest dropped); table 2 routes by
/// destination subnet with the MAC rewrite (ports 1 and 2 are the VMs' TAPs).
fn ovs_flows() -> String {
    let fabric = FABRIC_MAC.replace(':', "");
    let mut f = format!(
        "table=0,priority=100,arp,arp_op=1,actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],mod_dl_src:{FABRIC_MAC},load:0x2->NXM_OF_ARP_OP[],move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],load:0x{fabric}->NXM_NX_ARP_SHA[],move:NXM_OF_ARP_TPA[]->NXM_NX_REG0[],move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],move:NXM_NX_REG0[]->NXM_OF_ARP_SPA[],IN_PORT\n\
         table=0,priority=90,ip,dl_dst={FABRIC_MAC},actions=ct(table=1,zone=1)\n\
         table=0,priority=0,actions=drop\n\
         table=1,priority=100,ct_state=+trk+est,ip,actions=resubmit(,2)\n\
         table=1,priority=100,ct_state=+trk+rel,ip,actions=resubmit(,2)\n\
         table=1,priority=90,ct_state=+trk+inv,ip,actions=drop\n\
         table=1,priority=0,actions=drop\n\
         table=2,priority=0,actions=drop\n"
    );
    for (net, port) in [(10, 1), (20, 2)] {
        let _ = write!(
            f,
            "table=1,priority=80,ct_state=+trk+new,icmp,nw_src=10.{net}.0.0/16,actions=ct(commit,zone=1),resubmit(,2)\n\
             table=1,priority=80,ct_state=+trk+new,tcp,nw_src=10.{net}.0.0/16,tp_dst={PORT},actions=ct(commit,zone=1),resubmit(,2)\n\
             table=2,priority=100,ip,nw_dst=10.{net}.0.0/16,actions=mod_dl_src:{FABRIC_MAC},mod_dl_dst:{},output:{port}\n",
            ovs_vm_mac(net)
        );
    }
    f
}

/// The MAC of the OVS peer's VM in 10.`net`.1.4.
fn ovs_vm_mac(net: u8) -> String {
    format!("02:00:0a:{net:02x}:01:04")
}

/// The OVS peer: ovsdb-server and ovs-vswitchd (in the `vlbo-sw` namespace) with their state in
/// the temp dir, run as this benchmark's children so the guard kills them; a netdev bridge in
/// secure fail mode with two TAP ports, each moved into its VM's namespace, and the flows.
fn ovs_up(g: &mut Guard) -> Result<(), String> {
    let dir = g.dir.join("ovs");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let d = dir.display().to_string();
    let ovs = |program: &str| {
        let mut c = Command::new(program);
        for var in ["OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR", "OVS_SYSCONFDIR"] {
            c.env(var, &dir);
        }
        c
    };
    add_namespaces(g, [O_SW, O_VA, O_VB])?;
    let ten = Duration::from_secs(10);
    must(
        g,
        ovs("ovsdb-tool").args([
            "create",
            &format!("{d}/conf.db"),
            "/usr/share/openvswitch/vswitch.ovsschema",
        ]),
        ten,
    )?;
    let db = format!("unix:{d}/db.sock");
    spawn(
        g,
        ovs("ovsdb-server").args([
            &format!("{d}/conf.db"),
            &format!("--remote=punix:{d}/db.sock"),
            &format!("--pidfile={d}/ovsdb-server.pid"),
            &format!("--unixctl={d}/ovsdb-server.ctl"),
            &format!("--log-file={d}/ovsdb-server.log"),
        ]),
    )?;
    let vsctl = |g: &mut Guard, args: &[&str]| {
        must(
            g,
            ovs("ovs-vsctl")
                .args([&format!("--db={db}"), "--timeout=10"])
                .args(args),
            ten,
        )
    };
    // ovsdb-server takes a moment to listen; --timeout bounds each try.
    let deadline = Instant::now() + Duration::from_secs(5);
    while vsctl(g, &["--no-wait", "init"]).is_err() {
        if Instant::now() > deadline {
            return Err(format!("ovsdb-server does not answer on {db}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut vswitchd = ovs("ip");
    vswitchd.args([
        "netns",
        "exec",
        O_SW,
        "ovs-vswitchd",
        &db,
        &format!("--pidfile={d}/ovs-vswitchd.pid"),
        &format!("--unixctl={d}/ovs-vswitchd.ctl"),
        &format!("--log-file={d}/ovs-vswitchd.log"),
    ]);
    spawn(g, &mut vswitchd)?;
    vsctl(
        g,
        &[
            "add-br",
            O_BRIDGE,
            "--",
            "set",
            "bridge",
            O_BRIDGE,
            "datapath_type=netdev",
            "fail_mode=secure",
        ],
    )?;
    for (tap, port, ns, net) in [("vlbo-ta", "1", O_VA, 10u8), ("vlbo-tb", "2", O_VB, 20)] {
        vsctl(
            g,
            &[
                "add-port",
                O_BRIDGE,
                tap,
                "--",
                "set",
                "interface",
                tap,
                "type=tap",
                &format!("ofport_request={port}"),
            ],
        )?;
        // ovs-vsctl waits for vswitchd, which has created the TAP by now.
        ip(g, &["-n", O_SW, "link", "set", tap, "netns", ns])?;
        let mac = ovs_vm_mac(net);
        ip(g, &["-n", ns, "link", "set", tap, "address", &mac, "up"])?;
        let addr = format!("10.{net}.1.4/24");
        ip(g, &["-n", ns, "addr", "add", &addr, "dev", tap])?;
        let gw = format!("10.{net}.1.1");
        ip(g, &["-n", ns, "route", "add", "default", "via", &gw])?;
    }
    let flows = dir.join("flows.txt");
    std::fs::write(&flows, ovs_flows())
        .map_err(|e| format!("cannot write {}: {e}", flows.display()))?;
    must(
        g,
        ovs("ovs-ofctl")
            .args([
                "-O",
                "OpenFlow13",
                "replace-flows",
                &format!("unix:{d}/{O_BRIDGE}.mgmt"),
            ])
            .arg(&flows),
        ten,
    )
    .map(drop)
}

/// `vnetlab up FILE --name LAB`, timed to its return (every lease taken); the lab is recorded
/// for removal first.
fn lab_up(g: &mut Guard, file: &Path, lab: &'static str) -> Result<(f64, String), String> {
    if !g.labs.contains(&lab) {
        g.labs.push(lab);
    }
    let start = Instant::now();
    let exe = g.vnetlab.clone();
    let out = must(
        g,
        Command::new(&exe).arg("up").arg(file).args(["--name", lab]),
        Duration::from_secs(60),
    )?;
    let took = start.elapsed().as_secs_f64();
    Ok((took, out.lines().next().unwrap_or_default().to_string()))
}

fn lab_down(g: &mut Guard, lab: &'static str) -> Result<(), String> {
    let exe = g.vnetlab.clone();
    must(
        g,
        Command::new(&exe).args(["down", lab]),
        Duration::from_secs(30),
    )?;
    g.labs.retain(|l| *l != lab);
    Ok(())
}

/// How one side runs a command in a VM: `vnetlab exec LAB VM --` or `ip netns exec NS`.
#[derive(Clone, Copy)]
enum Side<'a> {
    Lab {
        exe: &'a Path,
        vm_a: &'a str,
        vm_b: &'a str,
        ns_b: &'a str,
    },
    Kernel,
    Ovs,
}

impl Side<'_> {
    fn exec(&self, in_b: bool, program: &str) -> Command {
        match *self {
            Side::Lab {
                exe, vm_a, vm_b, ..
            } => {
                let mut c = Command::new(exe);
                c.args([
                    "exec",
                    PAIR_LAB,
                    if in_b { vm_b } else { vm_a },
                    "--",
                    program,
                ]);
                c
            }
            Side::Kernel => in_ns(if in_b { K_VB } else { K_VA }, program),
            Side::Ovs => in_ns(if in_b { O_VB } else { O_VA }, program),
        }
    }

    fn ns_b(&self) -> &str {
        match self {
            Side::Lab { ns_b, .. } => ns_b,
            Side::Kernel => K_VB,
            Side::Ovs => O_VB,
        }
    }
}

struct Ping {
    min: f64,
    avg: f64,
    max: f64,
}

/// `count` pings from a to b at 0.05 s intervals, after one that sets up ARP and the flow.
fn ping(g: &mut Guard, side: Side, count: u32) -> Result<Ping, String> {
    must(
        g,
        side.exec(false, "ping").args(["-c", "1", "-W", "2", IP_B]),
        Duration::from_secs(10),
    )?;
    let limit = Duration::from_secs(10 + u64::from(count) / 10);
    let out = must(
        g,
        side.exec(false, "ping").args([
            "-q",
            "-c",
            &count.to_string(),
            "-i",
            "0.05",
            "-W",
            "2",
            IP_B,
        ]),
        limit,
    )?;
    // rtt min/avg/max/mdev = 0.050/0.099/0.331/0.060 ms
    let figures = out
        .lines()
        .find(|l| l.contains("min/avg/max"))
        .and_then(|l| l.split(" = ").nth(1))
        .ok_or_else(|| format!("no RTT in ping's output: {out}"))?;
    let v: Vec<f64> = figures
        .trim_end_matches(" ms")
        .split('/')
        .filter_map(|x| x.trim().parse().ok())
        .collect();
    if v.len() < 3 {
        return Err(format!("cannot read ping's RTT: {figures}"));
    }
    Ok(Ping {
        min: v[0],
        avg: v[1],
        max: v[2],
    })
}

/// Whether a TCP SYN to a port with no listener is dropped (the connect times out) rather
/// than answered with a reset: the rulesets deny everything but 5201 and ICMP.
fn blocked(g: &mut Guard, side: Side, port: u16) -> Result<bool, String> {
    let script = format!("exec 3<>/dev/tcp/{IP_B}/{port}");
    let r = run(
        g,
        side.exec(false, "timeout")
            .args(["--foreground", "2", "bash", "-c", &script]),
        Duration::from_secs(10),
    )?;
    Ok(!r.ok && !r.stderr.contains("refused"))
}

struct Iperf {
    gbits: f64,
    retransmits: u64,
    /// The switch process's CPU during the run, in cores (the lab only).
    switch_cpu: Option<f64>,
    profile: Option<String>,
}

/// A process's CPU time so far (user + system), in seconds.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit(") ").next()?.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // SAFETY: a plain sysconf query.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Some(ticks / hz)
}

/// Waits until something listens on the iperf3 port in a namespace.
fn wait_listening(g: &mut Guard, ns: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let r = run(
            g,
            in_ns(ns, "ss").args(["-Hltn", &format!("sport = :{PORT}")]),
            Duration::from_secs(5),
        )?;
        if r.ok && !r.stdout.trim().is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("iperf3 does not listen in {ns}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An iperf3 TCP test of `seconds` between a (client) and b (server); `reverse`: b sends.
/// `switch` (the lab's switch pid): its CPU is measured, and profiled with `perf` if asked.
fn iperf(
    g: &mut Guard,
    side: Side,
    seconds: u32,
    reverse: bool,
    switch: Option<u32>,
    profile: bool,
) -> Result<Iperf, String> {
    let bound = (seconds + 15).to_string();
    let mut server = side.exec(true, "timeout");
    server.args([
        "--foreground",
        "-k",
        "2",
        &bound,
        "iperf3",
        "-s",
        "-1",
        "-p",
        &PORT.to_string(),
    ]);
    let server = spawn(g, &mut server)?;
    wait_listening(g, side.ns_b())?;
    let secs = seconds.to_string();
    let mut client = side.exec(false, "timeout");
    client.args([
        "--foreground",
        "-k",
        "2",
        &bound,
        "iperf3",
        "-c",
        IP_B,
        "-p",
        &PORT.to_string(),
        "-t",
        &secs,
        "-J",
        "--connect-timeout",
        "3000",
    ]);
    if reverse {
        client.arg("-R");
    }
    let client = spawn(g, &mut client)?;
    let cpu_before = switch.and_then(cpu_seconds);
    let started = Instant::now();
    // The profile: perf over the middle of the run, from 1 s in.
    let perf = match (profile, switch) {
        (true, Some(pid)) if seconds >= 3 => {
            std::thread::sleep(Duration::from_secs(1));
            let data = g.dir.join("perf.data");
            let mut cmd = Command::new("perf");
            cmd.args(["record", "-F", "999", "-g", "-p", &pid.to_string(), "-o"])
                .arg(&data)
                .args(["--", "sleep", &(seconds - 2).to_string()]);
            Some((spawn(g, &mut cmd)?, data))
        }
        _ => None,
    };
    let result = finish(g, client, Duration::from_secs(u64::from(seconds) + 20))?;
    let elapsed = started.elapsed().as_secs_f64();
    let switch_cpu = switch
        .and_then(cpu_seconds)
        .zip(cpu_before)
        .map(|(after, before)| (after - before) / elapsed);
    let _ = finish(g, server, Duration::from_secs(5));
    let profile = match perf {
        Some((p, data)) => {
            finish(g, p, Duration::from_secs(30))?;
            Some(perf_summary(g, &data)?)
        }
        None => None,
    };
    if !result.ok {
        return Err(format!(
            "iperf3 failed: {}{}",
            result.stderr.trim(),
            result.stdout.trim()
        ));
    }
    let v: Value =
        serde_json::from_str(&result.stdout).map_err(|e| format!("iperf3's JSON: {e}"))?;
    let gbits = v["end"]["sum_received"]["bits_per_second"]
        .as_f64()
        .ok_or("iperf3 reported no throughput")?
        / 1e9;
    let retransmits = v["end"]["sum_sent"]["retransmits"].as_u64().unwrap_or(0);
    Ok(Iperf {
        gbits,
        retransmits,
        switch_cpu,
        profile,
    })
}

/// The top symbols of a `perf record -g` of the switch, and where its time goes inclusively
/// (TAP writes, which run the receiving namespace's stack in the switch's thread; TAP reads;
/// poll; the switch's own code).
fn perf_summary(g: &mut Guard, data: &Path) -> Result<String, String> {
    let report = |g: &mut Guard, args: &[&str]| {
        let mut cmd = Command::new("perf");
        cmd.arg("report")
            .arg("-i")
            .arg(data)
            .args(["--stdio", "-g", "none"])
            .args(args);
        must(g, &mut cmd, Duration::from_secs(60))
    };
    let rows = |text: &str| {
        text.lines()
            .filter(|l| {
                l.trim_start()
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit())
            })
            .map(|l| l.trim().to_string())
            .collect::<Vec<_>>()
    };
    let mut out = String::from("    by binary: ");
    out.push_str(
        &rows(&report(g, &["--no-children", "--sort", "dso"])?)
            .iter()
            .take(4)
            .map(|r| r.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join(", "),
    );
    // Inclusive shares of a few kernel entry points (the kernel's call chains are reliable).
    let children = rows(&report(g, &["--children", "--sort", "sym"])?);
    let share = |sym: &str| {
        children
            .iter()
            .find(|r| r.ends_with(&format!("] {sym}")))
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or("0%")
            .to_string()
    };
    let _ = write!(
        out,
        "\n    inclusive: TAP write (tun_get_user) {}, of which the receiving stack run inline (netif_receive_skb) {}; TAP read (tun_do_read) {}; poll {}",
        share("tun_get_user"),
        share("netif_receive_skb"),
        share("tun_do_read"),
        share("do_sys_poll")
    );
    out.push_str("\n    top symbols (self):");
    for r in rows(&report(g, &["--no-children", "--sort", "dso,sym"])?)
        .iter()
        .take(15)
    {
        let _ = write!(
            out,
            "\n      {}",
            r.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }
    Ok(out)
}

fn median(runs: &[f64]) -> f64 {
    let mut v = runs.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

fn bench(g: &mut Guard, args: &Args) -> Result<(), String> {
    std::fs::create_dir_all(&g.dir)
        .map_err(|e| format!("cannot create {}: {e}", g.dir.display()))?;
    // Leftovers of an earlier, killed run (ours by name).
    for lab in [PAIR_LAB, START_LAB] {
        let _ = Command::new(&g.vnetlab)
            .args(["down", lab])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    for ns in [K_VA, K_VB, K_ROUTER, O_SW, O_VA, O_VB] {
        if Path::new("/run/netns").join(ns).exists() {
            let _ = Command::new("ip").args(["netns", "delete", ns]).status();
        }
    }

    let pair = g.dir.join("pair.yaml");
    std::fs::write(&pair, pair_topology())
        .map_err(|e| format!("cannot write {}: {e}", pair.display()))?;
    let (_, line) = lab_up(g, &pair, PAIR_LAB)?;
    if !line.contains("2 VMs") {
        return Err(format!("unexpected answer from vnetlab up: {line}"));
    }
    let state = lab_state(PAIR_LAB)?;
    let switch = state["pid"]
        .as_u64()
        .ok_or("no switch pid in the lab's state")? as u32;
    let ns_b = vm_namespace(&state, "vb")?;
    kernel_up(g)?;
    // The OVS peer, when openvswitch-switch is installed (scripts/bench.sh installs it).
    let with_ovs = Command::new("ovs-vswitchd")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if with_ovs {
        ovs_up(g)?;
    }
    let exe = g.vnetlab.clone();
    let lab = Side::Lab {
        exe: &exe,
        vm_a: "va",
        vm_b: "vb",
        ns_b: &ns_b,
    };

    println!("Live lab benchmark (release): iperf3 TCP ({} s) and ping between two VMs in peered VNets, an NSG and a UDR on each subnet", args.seconds);
    println!("  switch: lab '{PAIR_LAB}', switch process {switch}; kernel: veth pairs to a bridge in a router namespace, nftables inet forward chain (stateful); OVS userspace: netdev datapath on TAPs, OpenFlow with ct() (its own daemons, private run dir)");
    // Interleaved, so drift on the machine hits both alike.
    let mut rows = Vec::new();
    for (reverse, label) in [
        (false, format!("{IP_A} -> {IP_B}")),
        (true, format!("{IP_B} -> {IP_A} (iperf3 -R)")),
    ] {
        let s = iperf(g, lab, args.seconds, reverse, Some(switch), false)?;
        let k = iperf(g, Side::Kernel, args.seconds, reverse, None, false)?;
        let o = if with_ovs {
            Some(iperf(g, Side::Ovs, args.seconds, reverse, None, false)?)
        } else {
            None
        };
        rows.push((label, s, k, o));
    }
    let (ps, pk) = (
        ping(g, lab, args.pings)?,
        ping(g, Side::Kernel, args.pings)?,
    );
    let po = if with_ovs {
        Some(ping(g, Side::Ovs, args.pings)?)
    } else {
        None
    };
    let (bs, bk) = (blocked(g, lab, 5202)?, blocked(g, Side::Kernel, 5202)?);
    let bo = if with_ovs {
        Some(blocked(g, Side::Ovs, 5202)?)
    } else {
        None
    };
    let yes = |b: bool| if b { "yes" } else { "NO" };
    println!(
        "  policy check: tcp 5202 (no listener) dropped, not refused: switch {}, kernel {}, OVS userspace {}",
        yes(bs),
        yes(bk),
        bo.map_or("skipped (no openvswitch-switch)", yes)
    );

    for (label, s, k, o) in &rows {
        let ratio = s.gbits / k.gbits;
        println!("  throughput {label}");
        println!("    switch                                                 {:>9.2} Gbit/s  ({} retransmits, switch process {:.0} % of a core)", s.gbits, s.retransmits, s.switch_cpu.unwrap_or(f64::NAN) * 100.0);
        println!("    kernel                                                 {:>9.2} Gbit/s  ({} retransmits)", k.gbits, k.retransmits);
        if let Some(o) = o {
            println!("    OVS userspace (netdev datapath, conntrack)             {:>9.2} Gbit/s  ({} retransmits)", o.gbits, o.retransmits);
        }
        println!("    ratio switch/kernel                                    {ratio:>9.2}   target >= 0.5: {}", verdict(ratio >= 0.5));
        if let Some(o) = o {
            println!(
                "    ratio switch/OVS                                       {:>9.2}",
                s.gbits / o.gbits
            );
        }
    }
    println!("  ping RTT, {} pings at 0.05 s, avg (min, max)", args.pings);
    println!(
        "    switch                                                 {:>9.3} ms  ({:.3}, {:.3})",
        ps.avg, ps.min, ps.max
    );
    println!(
        "    kernel                                                 {:>9.3} ms  ({:.3}, {:.3})",
        pk.avg, pk.min, pk.max
    );
    if let Some(po) = &po {
        println!(
            "    OVS userspace                                          {:>9.3} ms  ({:.3}, {:.3})",
            po.avg, po.min, po.max
        );
    }
    println!(
        "    ratio switch/kernel                                    {:>9.2}",
        ps.avg / pk.avg
    );
    if let Some(po) = &po {
        println!(
            "    ratio switch/OVS                                       {:>9.2}",
            ps.avg / po.avg
        );
    }
    if args.profile {
        // A run of its own, so perf's overhead stays out of the figures above.
        let p = iperf(g, lab, args.seconds.max(3), false, Some(switch), true)?;
        println!("  profile of the switch process under iperf3 {IP_A} -> {IP_B} ({:.2} Gbit/s while profiled, perf record -g):", p.gbits);
        println!("{}", p.profile.unwrap_or_default());
    }
    lab_down(g, PAIR_LAB)?;

    // Startup.
    let vnets = 5;
    let start = g.dir.join("startup.yaml");
    std::fs::write(&start, startup_topology(vnets))
        .map_err(|e| format!("cannot write {}: {e}", start.display()))?;
    let mut runs = Vec::new();
    let mut reported = Vec::new();
    for _ in 0..args.runs {
        let (took, line) = lab_up(g, &start, START_LAB)?;
        if !line.contains(&format!("{} VMs", vnets * 10)) {
            return Err(format!("unexpected answer from vnetlab up: {line}"));
        }
        runs.push(took);
        reported.push(
            line.split(" is up in ")
                .nth(1)
                .and_then(|r| r.split(' ').next())
                .unwrap_or("?")
                .to_string(),
        );
        lab_down(g, START_LAB)?;
    }
    let m = median(&runs);
    println!("  startup: `vnetlab up` of {} VMs ({vnets} VNets x 2 subnets x 5 VMs, peered in a mesh) until every lease is taken", vnets * 10);
    println!(
        "    median of {}                                            {m:>9.2} s   target < 5 s: {}   (runs {}; as vnetlab reports them {} s)",
        runs.len(),
        verdict(m < 5.0),
        runs.iter().map(|r| format!("{r:.2}")).collect::<Vec<_>>().join(", "),
        reported.join(", ")
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("vnetlab-bench-lab: {e}");
            return ExitCode::from(2);
        }
    };
    // The lab needs root and these tools; without them the benchmark is skipped, not failed.
    // SAFETY: a plain getter.
    let root = unsafe { libc::geteuid() } == 0;
    let missing: Vec<&str> = ["ip", "ss", "iperf3", "ping", "nft", "timeout"]
        .into_iter()
        .filter(|t| {
            Command::new(t)
                .arg("-V")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_err()
        })
        .collect();
    let vnetlab = match std::env::current_exe() {
        Ok(exe) => exe.with_file_name("vnetlab"),
        Err(e) => {
            eprintln!("vnetlab-bench-lab: {e}");
            return ExitCode::FAILURE;
        }
    };
    if !root || !missing.is_empty() || !vnetlab.exists() {
        println!(
            "Live lab benchmark: skipped ({})",
            if !root {
                "it needs root".to_string()
            } else if !missing.is_empty() {
                format!("missing {}", missing.join(", "))
            } else {
                format!(
                    "no {}; build it with `cargo build --release -p vnetlab-cli`",
                    vnetlab.display()
                )
            }
        );
        return ExitCode::SUCCESS;
    }
    // Ctrl-C and SIGTERM stop the waits; the guard then removes everything.
    // SAFETY: installs a handler that only stores to an atomic.
    unsafe {
        libc::signal(
            libc::SIGINT,
            on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
        libc::signal(
            libc::SIGTERM,
            on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
    let dir = std::env::temp_dir().join(format!("vnetlab-bench-lab-{}", std::process::id()));
    let mut guard = Guard {
        vnetlab,
        dir,
        groups: Vec::new(),
        labs: Vec::new(),
        namespaces: Vec::new(),
    };
    let outcome = bench(&mut guard, &args);
    drop(guard);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vnetlab-bench-lab: {e}");
            ExitCode::FAILURE
        }
    }
}
