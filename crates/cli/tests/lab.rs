//! The live lab's observations (Live lab issue, "The seed author's observations"), each checked
//! against Azure's answer in docs/semantics/: DHCP from the model (docs/semantics/dataplane.md 4.3),
//! ARP by 12:34:56:78:9a:bc (D1), D2's direct frames, D3's invisible fabric, spoofing drops
//! (4.5), no broadcast (4.4), NSGs that see only private addresses (scenario 14), pcap
//! capture, malformed frames, and a `down` that leaves nothing, even after `kill -9`.

mod common;

use common::{lab_possible, text, vnetlab, Lab};
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The demo topology (hub with the IDS, spokes, on-premises), written for a test into a
/// directory that is removed when the returned handle drops (after the test's lab, which is
/// declared later).
fn demo() -> (TempDir, PathBuf) {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("demo.yaml");
    let out = vnetlab(&["demo", "--write", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    (dir, path)
}

fn ok(out: &std::process::Output) -> bool {
    out.status.success()
}

#[test]
fn a_vm_gets_its_address_by_dhcp_and_every_arp_answer_is_the_fabrics() {
    if !lab_possible() {
        return;
    }
    let host_resolv = std::fs::read("/etc/resolv.conf").ok();
    let (_scratch, topology) = demo();
    let lab = Lab::up(&topology, "obsl2");
    // The Live lab issue's host safety: the DHCP clients never touched the host's resolver.
    assert_eq!(std::fs::read("/etc/resolv.conf").ok(), host_resolv);
    // docs/semantics/dataplane.md 4.3: DHCP hands the NIC's address; the default route is the subnet's .1.
    let addr = text(&lab.exec("web1", &["ip", "-4", "-o", "addr", "show", "dev", "eth0"]));
    assert!(addr.contains("inet 10.1.0.4/24"), "{addr}");
    let routes = text(&lab.exec("web1", &["ip", "route"]));
    assert!(routes.contains("default via 10.1.0.1 dev eth0"), "{routes}");
    // D1: whatever the VM asks ARP for, 12:34:56:78:9a:bc answers.
    assert!(ok(
        &lab.exec("web1", &["ping", "-c", "1", "-W", "2", "10.2.0.4"])
    ));
    let neigh = text(&lab.exec("web1", &["ip", "neigh"]));
    assert!(
        neigh.contains("10.1.0.1 dev eth0 lladdr 12:34:56:78:9a:bc"),
        "{neigh}"
    );
    // D3: the default gateway never answers ping.
    assert!(!ok(
        &lab.exec("web1", &["ping", "-c", "1", "-W", "1", "10.1.0.1"])
    ));
    // docs/semantics/dataplane.md 4.6: 168.63.129.16 resolves the VMs' names.
    let dns = text(&lab.exec("web1", &["busybox", "nslookup", "app1", "168.63.129.16"]));
    assert!(dns.contains("Address: 10.2.0.4"), "{dns}");
}

#[test]
fn traceroute_shows_the_destination_as_hop_one_and_only_appliances_add_hops() {
    if !lab_possible() {
        return;
    }
    let (_scratch, topology) = demo();
    let lab = Lab::up(&topology, "obstr");
    let hops = |vm: &str, to: &str| -> Vec<String> {
        let out = text(&lab.exec(
            vm,
            &["traceroute", "-n", "-w", "1", "-q", "1", "-m", "6", to],
        ));
        out.lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
            .collect()
    };
    // D3: from the hub to a spoke, across a peering, the destination is hop 1.
    assert_eq!(hops("dc1", "10.1.0.4"), ["10.1.0.4"]);
    // Spoke to spoke goes through the IDS appliance (route table rt-spoke1): it is the one hop.
    assert_eq!(hops("web1", "10.2.0.4"), ["10.0.1.4", "10.2.0.4"]);
}

#[test]
fn tcpdump_in_a_vm_sees_the_peer_vms_mac() {
    if !lab_possible() {
        return;
    }
    let (_scratch, topology) = demo();
    let lab = Lab::up(&topology, "obsmac");
    // D2: VM-to-VM frames arrive with the sending NIC's MAC (dc1's NIC is the topology's second).
    let ns = "vl-obsmac-web1";
    let capture = Command::new("ip")
        .args([
            "netns",
            "exec",
            ns,
            "tcpdump",
            "-e",
            "-n",
            "-c",
            "1",
            "-i",
            "eth0",
            "icmp[icmptype] == icmp-echo",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    assert!(ok(
        &lab.exec("dc1", &["ping", "-c", "2", "-W", "2", "10.1.0.4"])
    ));
    let seen = String::from_utf8_lossy(&capture.wait_with_output().unwrap().stdout).to_string();
    assert!(
        seen.starts_with_ignoring_time("00:0d:3a:00:00:02 > 00:0d:3a:00:00:03"),
        "{seen}"
    );
}

trait TcpdumpLine {
    fn starts_with_ignoring_time(&self, what: &str) -> bool;
}

impl TcpdumpLine for String {
    fn starts_with_ignoring_time(&self, what: &str) -> bool {
        self.lines().any(|l| {
            l.split_once(' ')
                .is_some_and(|(_, rest)| rest.starts_with(what))
        })
    }
}

#[test]
fn an_address_set_statically_in_the_guest_loses_connectivity() {
    if !lab_possible() {
        return;
    }
    let (_scratch, topology) = demo();
    let lab = Lab::up(&topology, "obsstatic");
    assert!(ok(
        &lab.exec("dc1", &["ping", "-c", "1", "-W", "2", "10.1.0.4"])
    ));
    // docs/semantics/dataplane.md 4.3/4.5: an address other than the NIC's is a spoofed source; Azure drops it.
    assert!(ok(&lab.sh("web1", "ip addr flush dev eth0 && ip addr add 10.1.0.50/24 dev eth0 && ip route add default via 10.1.0.1")));
    let dropped_before = lab.counters()["droppedByPolicy"].as_u64().unwrap();
    assert!(!ok(
        &lab.exec("web1", &["ping", "-c", "2", "-W", "1", "10.0.2.4"])
    ));
    assert!(lab.counters()["droppedByPolicy"].as_u64().unwrap() > dropped_before);
}

#[test]
fn a_broadcast_does_not_arrive_and_nsgs_see_only_private_addresses() {
    if !lab_possible() {
        return;
    }
    let lab = Lab::up(&root().join("tests/lab/public-ip-nsg.yaml"), "obsnsg");
    // docs/semantics/dataplane.md 4.4: broadcast is not carried; myVm2 (same subnet) hears nothing.
    let listen = Command::new("ip")
        .args([
            "netns",
            "exec",
            "vl-obsnsg-myVm2",
            "timeout",
            "3",
            "tcpdump",
            "-n",
            "-c",
            "1",
            "-i",
            "eth0",
            "icmp",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    let before = lab.counters()["droppedBroadcastMulticast"]
        .as_u64()
        .unwrap();
    lab.exec("myVm", &["ping", "-b", "-c", "2", "-W", "1", "10.0.0.255"]);
    let heard = String::from_utf8_lossy(&listen.wait_with_output().unwrap().stdout).to_string();
    assert!(heard.trim().is_empty(), "a broadcast arrived: {heard}");
    assert!(
        lab.counters()["droppedBroadcastMulticast"]
            .as_u64()
            .unwrap()
            >= before + 2
    );
    // Scenario 14: from the Internet (192.0.2.10), the rule written for myVm's public IP never
    // matches; myVm2's rule for its private address does.
    for vm in ["myVm", "myVm2"] {
        assert!(ok(&lab.sh(
            vm,
            "nc -l -k -p 80 >/dev/null 2>&1 </dev/null & sleep 0.3"
        )));
    }
    let probe = |ip: &str| {
        Command::new("ip")
            .args([
                "netns",
                "exec",
                "vl-obsnsg-internet",
                "nc",
                "-z",
                "-w",
                "2",
                ip,
                "80",
            ])
            .status()
            .unwrap()
            .success()
    };
    assert!(
        !probe("198.51.100.20"),
        "the rule for the public IP matched"
    );
    assert!(
        probe("198.51.100.21"),
        "the rule for the private IP did not let the connection in"
    );
}

#[test]
fn capture_writes_a_pcap_that_matches_tcpdump_inside_the_vm() {
    if !lab_possible() {
        return;
    }
    let (_scratch, topology) = demo();
    let lab = Lab::up(&topology, "obspcap");
    let dir = TempDir::new().unwrap();
    let (switch_side, guest_side) = (
        dir.path().join("switch.pcap"),
        dir.path().join("guest.pcap"),
    );
    let capture = Command::new(env!("CARGO_BIN_EXE_vnetlab"))
        .args([
            "capture",
            "obspcap",
            "web1",
            "-w",
            switch_side.to_str().unwrap(),
            "--seconds",
            "4",
        ])
        .spawn()
        .unwrap();
    let kernel = Command::new("ip")
        .args([
            "netns",
            "exec",
            "vl-obspcap-web1",
            "timeout",
            "4",
            "tcpdump",
            "-n",
            "-i",
            "eth0",
            "-w",
            guest_side.to_str().unwrap(),
            "icmp",
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1000));
    assert!(ok(&lab.exec(
        "web1",
        &["ping", "-c", "3", "-i", "0.2", "-W", "2", "10.2.0.4"]
    )));
    assert!(capture.wait_with_output().unwrap().status.success());
    kernel.wait_with_output().unwrap();
    let read = |p: &Path| -> Vec<String> {
        let out = Command::new("tcpdump")
            .args(["-n", "-r", p.to_str().unwrap(), "icmp"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tcpdump -r {}: {}",
            p.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        // Without the timestamp: what each frame is.
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split_once(' ').map_or(l, |(_, r)| r).to_string())
            .collect()
    };
    let (switch_frames, guest_frames) = (read(&switch_side), read(&guest_side));
    assert_eq!(
        switch_frames.len(),
        6,
        "3 echo requests and 3 replies: {switch_frames:?}"
    );
    assert_eq!(switch_frames, guest_frames);
}

#[test]
fn malformed_frames_are_dropped_and_counted_and_the_switch_goes_on() {
    if !lab_possible() {
        return;
    }
    let (_scratch, topology) = demo();
    let lab = Lab::up(&topology, "obsjunk");
    // Random bytes, truncated IPv4 and a corrupted checksum from a raw socket inside a VM.
    let script = r#"
import os, random, socket, struct
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
rnd = random.Random(7)
fab = bytes.fromhex("123456789abc"); me = open("/sys/class/net/eth0/address").read().strip().replace(":", "")
head = fab + bytes.fromhex(me)
for _ in range(300):
    s.send(head + bytes([0x08, 0x00]) + bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 200))))
ip = bytes.fromhex("450000540001000040010000") + socket.inet_aton("10.1.0.4") + socket.inet_aton("10.2.0.4")
s.send(head + bytes([0x08, 0x00]) + ip[:12])
s.send(head + bytes([0x08, 0x00]) + ip + bytes(64))
# A well-formed GRE packet (protocol 47): Azure does not carry GRE (docs/semantics/dataplane.md 4.4).
gre = bytearray.fromhex("450000280002000040" + "2f" + "0000") + socket.inet_aton("10.1.0.4") + socket.inet_aton("10.2.0.4")
total = sum(int.from_bytes(gre[i:i + 2], "big") for i in range(0, 20, 2))
total = (total & 0xffff) + (total >> 16)
gre[10:12] = (~total & 0xffff).to_bytes(2, "big")
s.send(head + bytes([0x08, 0x00]) + bytes(gre) + bytes(20))
"#;
    let policy_before = lab.counters()["droppedByPolicy"].as_u64().unwrap();
    let sent = lab.exec("web1", &["python3", "-c", script]);
    assert!(ok(&sent), "{}", text(&sent));
    let c = lab.counters();
    assert!(
        c["droppedMalformed"].as_u64().unwrap() + c["droppedBadChecksum"].as_u64().unwrap() >= 300,
        "{c}"
    );
    // The engine's walk drops GRE, as `trace --protocol gre` predicts.
    assert!(
        c["droppedByPolicy"].as_u64().unwrap() > policy_before,
        "the GRE packet is dropped: {c}"
    );
    assert!(
        ok(&lab.exec("web1", &["ping", "-c", "1", "-W", "2", "10.2.0.4"])),
        "the switch still forwards"
    );
}

#[test]
fn down_leaves_nothing_behind_even_after_the_switch_is_killed() {
    if !lab_possible() {
        return;
    }
    let (_scratch, topology) = demo();
    let lab = Lab::up(&topology, "obskill");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("/run/vnetlab/obskill/state.json").unwrap())
            .unwrap();
    let pid = state["pid"].as_u64().unwrap().to_string();
    assert!(Command::new("kill")
        .args(["-9", &pid])
        .status()
        .unwrap()
        .success());
    let out = vnetlab(&["down", "obskill"]);
    assert!(ok(&out), "{}", text(&out));
    let namespaces = String::from_utf8_lossy(
        &Command::new("ip")
            .args(["netns", "list"])
            .output()
            .unwrap()
            .stdout,
    )
    .to_string();
    assert!(!namespaces.contains("vl-obskill-"), "{namespaces}");
    let links = String::from_utf8_lossy(
        &Command::new("ip")
            .args(["-o", "link"])
            .output()
            .unwrap()
            .stdout,
    )
    .to_string();
    assert!(
        !links.contains(&vnetlab_lab_tap_prefix("obskill")),
        "{links}"
    );
    assert!(!Path::new("/run/vnetlab/obskill").exists());
    assert!(std::fs::read_dir("/etc/netns").map_or(true, |d| d
        .flatten()
        .all(|e| !e.file_name().to_string_lossy().starts_with("vl-obskill-"))));
    drop(lab);
}

fn vnetlab_lab_tap_prefix(lab: &str) -> String {
    let tap = vnetlab_lab::naming::LabName::parse(lab).unwrap().tap(0);
    tap.trim_end_matches('0').to_string()
}

#[test]
fn the_internet_is_reached_through_source_nat() {
    if !lab_possible() {
        return;
    }
    let lab = Lab::up(&root().join("tests/lab/public-ip-nsg.yaml"), "obssnat");
    // What the Internet host sees as the source of a VM's connection.
    let seen_source = |vm: &str| -> String {
        let listen = Command::new("ip")
            .args([
                "netns",
                "exec",
                "vl-obssnat-internet",
                "timeout",
                "4",
                "tcpdump",
                "-n",
                "-c",
                "1",
                "-i",
                "eth0",
                "tcp dst port 80 and tcp[tcpflags] & tcp-syn != 0",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(800));
        let page = text(&lab.sh(
            vm,
            "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 192.0.2.10 80",
        ));
        assert!(
            page.contains("Hello from the emulated Internet"),
            "{vm}: {page}"
        );
        let line = String::from_utf8_lossy(&listen.wait_with_output().unwrap().stdout).to_string();
        line.split_whitespace()
            .nth(2)
            .and_then(|a| a.rsplit_once('.'))
            .map(|(ip, _)| ip.to_string())
            .unwrap_or(line)
    };
    // docs/semantics/dataplane.md 5.2/5.3: a VM with an instance public IP leaves by it.
    assert_eq!(seen_source("myVm2"), "198.51.100.21");
    // Predicted by trace too: the same engine.
    let out = vnetlab(&[
        "trace",
        root()
            .join("tests/lab/public-ip-nsg.yaml")
            .to_str()
            .unwrap(),
        "--from",
        "myVm2",
        "--to",
        "192.0.2.10",
        "--protocol",
        "tcp",
        "--port",
        "80",
        "-o",
        "json",
    ]);
    let trace: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let snat = trace["hops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["layer"] == "OutboundSnat")
        .cloned()
        .unwrap_or_default();
    assert_eq!(snat["packet"]["source"], "198.51.100.21", "{trace}");
}

#[test]
fn default_outbound_access_shares_one_address_between_vms() {
    if !lab_possible() {
        return;
    }
    let (_scratch, topology) = demo();
    let lab = Lab::up(&topology, "obsdoa");
    // docs/semantics/dataplane.md 5.4 (D15 in the lab): without a public IP or NAT gateway, dc1 leaves by the
    // implicit address 198.51.100.254; web1's traffic goes through the IDS (rt-spoke1), which
    // leaves the same way. Both fetch the page at once: shared SNAT keeps them apart.
    let fetch = "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 192.0.2.10 80";
    for vm in ["dc1", "web1"] {
        let page = text(&lab.sh(vm, fetch));
        assert!(
            page.contains("Hello from the emulated Internet"),
            "{vm}: {page}"
        );
    }
}

#[test]
fn up_with_a_pcap_dir_records_every_nic() {
    if !lab_possible() {
        return;
    }
    // The lab creates the pcap directory itself, inside this test's scratch directory.
    let captures = TempDir::new().unwrap();
    let dir = captures.path().join("pcap");
    let (_scratch, topology) = demo();
    let lab = Lab::up_with(&topology, "obsdir", &["--pcap-dir", dir.to_str().unwrap()]);
    assert!(ok(
        &lab.exec("dc1", &["ping", "-c", "2", "-W", "2", "10.1.0.4"])
    ));
    drop(lab);
    // One file per NIC, each a pcap tcpdump reads; web1's holds dc1's echo requests.
    let out = Command::new("tcpdump")
        .args([
            "-n",
            "-r",
            dir.join("web1-nic.pcap").to_str().unwrap(),
            "icmp",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        lines
            .matches("10.0.2.4 > 10.1.0.4: ICMP echo request")
            .count(),
        2,
        "{lines}"
    );
    for nic in ["ids-1-nic", "dc1-nic", "app1-nic", "internet"] {
        assert!(dir.join(format!("{nic}.pcap")).exists(), "{nic}");
    }
}
