//! The Trace benchmark on the Foundation topology (1,000 VNets, 50,000 VMs), with an NSG on
//! every spoke (3 rules, on the spoke's subnets): the time of one trace, of `reach` between
//! 1,000 sampled VMs, and of `diff` after one NSG rule changes (fingerprinting both versions,
//! and re-tracing only what the change touches, against re-tracing everything).
//! Run: `cargo run --release -p vnetlab-bench --bin vnetlab-bench-trace`.

use serde_json::{json, Value};
use std::time::Instant;
use vnetlab_analysis::{diff, reach, trace, Analysis};
use vnetlab_bench::generate::{self, Plan};
use vnetlab_bench::measure::{ms, SplitMix64};
use vnetlab_engine::trace::Probe;
use vnetlab_ingest::{load_text, Format};
use vnetlab_model::service_tags::ServiceTags;

/// The allocator the `vnetlab` binary uses, so the figures are the CLI's (glibc's malloc slows
/// down badly once a large matrix has been built and freed). The Foundation benchmark keeps
/// glibc's, whose statistics it reads to measure live heap.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/vnetlab/providers/Microsoft.Network";
const SAMPLE: usize = 1000;

/// The Foundation document with an NSG per spoke; `deny_port` is the port of the first spoke's
/// deny rule (the one the diff changes).
fn document(base: &Value, deny_port: u16) -> String {
    let mut doc = base.clone();
    let items = doc.as_array_mut().expect("an array");
    let mut nsgs = Vec::new();
    for r in items.iter_mut() {
        if r["type"] != "Microsoft.Network/virtualNetworks" || r["name"] == "hub" {
            continue;
        }
        let vnet = r["name"].as_str().expect("name").to_string();
        let port = if nsgs.is_empty() { deny_port } else { 3389 };
        nsgs.push(json!({"type": "Microsoft.Network/networkSecurityGroups", "name": format!("nsg-{vnet}"), "properties": {"securityRules": [
            {"name": "allow-https", "properties": {"priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp", "sourceAddressPrefix": "VirtualNetwork", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "443"}},
            {"name": "deny-admin", "properties": {"priority": 110, "direction": "Inbound", "access": "Deny", "protocol": "Tcp", "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": port.to_string()}},
            {"name": "allow-ssh-hub", "properties": {"priority": 120, "direction": "Inbound", "access": "Allow", "protocol": "Tcp", "sourceAddressPrefix": "10.0.0.0/16", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "22"}}
        ]}}));
        for s in r["properties"]["subnets"].as_array_mut().expect("subnets") {
            s["properties"]["networkSecurityGroup"] =
                json!({"id": format!("{SUB}/networkSecurityGroups/nsg-{vnet}")});
        }
    }
    nsgs.append(items);
    Value::Array(nsgs).to_string()
}

fn main() {
    let tags = ServiceTags::bundled();
    let mut bytes = Vec::new();
    generate::write(Plan::FOUNDATION, &mut bytes).expect("generates");
    let base: Value = serde_json::from_slice(&bytes).expect("valid JSON");
    let (old_text, new_text) = (document(&base, 3389), document(&base, 3390));
    let load = |text: &str| {
        load_text(text, "trace-bench.json", Format::Json, tags)
            .unwrap_or_else(|d| panic!("{}", d[0]))
    };
    let (old, new) = (load(&old_text), load(&new_text));
    let a = Analysis::new(&old.topology, tags);
    let b = Analysis::new(&new.topology, tags);
    let t = &old.topology;
    println!(
        "Trace benchmark (release): {} VNets, {} subnets, {} VMs, {} NSGs",
        t.vnets.len(),
        t.subnets.len(),
        t.vms.len(),
        t.nsgs.len()
    );

    // One trace: VM to VM between random spokes (through the hub NVA by the 0.0.0.0/0 routes).
    let mut rng = SplitMix64::new(0x7ace);
    let vm_ip = |i: usize| {
        t.nic(t.vms[i].nics[0])
            .primary_ip_configuration()
            .private_ip
    };
    let pairs: Vec<_> = (0..2000)
        .map(|_| {
            (
                vm_ip(rng.below(t.vms.len() as u32) as usize),
                vm_ip(rng.below(t.vms.len() as u32) as usize),
            )
        })
        .collect();
    let probe = Probe {
        protocol: 6,
        port: 443,
    };
    let mut delivered = 0;
    let mut timed_pass = || {
        let start = Instant::now();
        delivered = 0;
        for (from, to) in &pairs {
            delivered += usize::from(
                trace::run(&a, *from, *to, probe).verdict()
                    == vnetlab_engine::trace::Verdict::Delivered,
            );
        }
        start.elapsed().as_secs_f64() * 1e6 / pairs.len() as f64
    };
    // Cold: each new subnet's NSG is expanded and compiled on first use; warm: compiled.
    let (cold, warm) = (timed_pass(), timed_pass());
    let sample = trace::run(&a, pairs[0].0, pairs[0].1, probe);
    println!(
        "  one trace, {} hops + reply {} hops, {delivered} of {} delivered",
        sample.forward.hops.len(),
        sample.reply.as_ref().map_or(0, |r| r.hops.len()),
        pairs.len()
    );
    println!("    cold (compiles the subnets' NSGs on first use)           {cold:>9.1} µs");
    println!("    warm                                                     {warm:>9.1} µs");

    // reach between 1,000 sampled VMs (every 50th), the sites and the Internet.
    let sampled = |an: &Analysis| {
        let all = reach::parties(an);
        let step = (all.len() / SAMPLE).max(1);
        all.into_iter()
            .enumerate()
            .filter(|(i, p)| i % step == 0 || !matches!(p.kind, reach::PartyKind::Vm(_)))
            .map(|(_, p)| p)
            .take(SAMPLE + 2)
            .collect::<Vec<_>>()
    };
    let start = Instant::now();
    let before = reach::matrix_for(&a, probe, sampled(&a));
    let reach_time = start.elapsed();
    let cells = before
        .cells
        .iter()
        .flatten()
        .filter(|c| c.is_some())
        .count();
    println!(
        "  reach, {} parties ({cells} cells, {} traces)               {:>9.0} ms",
        before.parties.len(),
        before.traces_run,
        ms(reach_time)
    );

    // diff after one NSG rule changes (the first spoke's deny-admin: 3389 -> 3390).
    let start = Instant::now();
    let base = diff::Baseline::new(&a, vec![before]);
    let index_time = start.elapsed();
    let start = Instant::now();
    let changed = base.changed(&b);
    let fp_new = start.elapsed();
    let start = Instant::now();
    let new_parties = sampled(&b);
    let parties_time = start.elapsed();
    // The re-check, five times, each on a fresh analysis of the new version (nothing compiled
    // or adopted yet); the median is reported.
    let mut runs = Vec::new();
    let mut outcome = (Vec::new(), 0);
    for _ in 0..5 {
        let fresh = Analysis::new(&new.topology, tags);
        let start = Instant::now();
        outcome = base.recheck(&a, &fresh, &changed, new_parties.clone(), &[probe]);
        runs.push(ms(start.elapsed()));
    }
    runs.sort_by(f64::total_cmp);
    let (changes, retraced) = outcome;
    let start = Instant::now();
    let full = reach::matrix_for(&b, probe, sampled(&b));
    let full_time = start.elapsed();
    let changes = changes.len();
    println!(
        "  diff after one NSG rule change: {} resource(s) changed: {:?}",
        changed.len(),
        changed
            .iter()
            .map(|k| k.rsplit('/').next().unwrap_or_default())
            .collect::<Vec<_>>()
    );
    println!(
        "    fingerprint and index the old matrix (once, kept with it) {:>9.1} ms",
        ms(index_time)
    );
    println!(
        "    fingerprint the new version and compare                 {:>9.1} ms",
        ms(fp_new)
    );
    println!(
        "    list the new version's parties (50,000 VMs, sampled)     {:>9.1} ms",
        ms(parties_time)
    );
    println!("    re-check the flows the change touches ({retraced}), median of 5 {:>9.2} ms   target < 10 ms: {}   (min {:.2}, max {:.2})", runs[2], if runs[2] < 10.0 { "met" } else { "MISSED" }, runs[0], runs[4]);
    println!(
        "    baseline: re-trace everything ({} traces)             {:>9.0} ms",
        full.traces_run,
        ms(full_time)
    );
    println!("    flows whose verdict changed: {changes}");
}
