//! The Security benchmark: one NSG with 1,000 rules over large service tags (AzureCloud,
//! Storage and regional Storage tags) and application security groups. Reports the time to
//! expand and compile it, its compiled size, and the time per decision of the compiled
//! classifier against a plain rule walk over the same expanded rules (the baseline).
//! Run: `cargo run --release -p vnetlab-bench --bin vnetlab-bench-nsg`.

use serde_json::{json, Value};
use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Instant;
use vnetlab_bench::measure::{median_of, ms, SplitMix64};
use vnetlab_engine::flow::FiveTuple;
use vnetlab_engine::security::compile;
use vnetlab_ingest::{load_text, Format};
use vnetlab_model::service_tags::ServiceTags;
use vnetlab_model::{NsgId, SubnetId};

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/vnetlab/providers/Microsoft.Network";
const RULES: u32 = 1000;
const ASGS: u32 = 20;
const NICS: u32 = 200;
const DECISIONS: usize = 1_000_000;

/// One NSG of 1,000 rules, half inbound and half outbound: a quarter on AzureCloud, a quarter
/// on Storage or a regional Storage tag, a quarter on ASGs, a quarter on CIDRs.
fn topology(rng: &mut SplitMix64) -> Value {
    let mut resources = vec![];
    for a in 0..ASGS {
        resources.push(json!({"type": "Microsoft.Network/applicationSecurityGroups", "name": format!("asg{a}")}));
    }
    let asg = |a: u32| json!({"id": format!("{SUB}/applicationSecurityGroups/asg{a}")});
    let regions = [
        "Storage.WestEurope",
        "Storage.EastUS",
        "Storage.JapanEast",
        "Storage",
    ];
    let rules: Vec<Value> = (0..RULES)
        .map(|i| {
            let direction = if i % 2 == 0 { "Inbound" } else { "Outbound" };
            let priority = 100 + i / 2;
            let port = 1 + rng.below(60000);
            let ports = match i % 3 {
                0 => json!({"destinationPortRange": port.to_string()}),
                1 => json!({"destinationPortRange": format!("{port}-{}", port + rng.below(500))}),
                _ => json!({"destinationPortRanges": [port.to_string(), (port + 7).to_string(), format!("{}-{}", port + 100, port + 140)]}),
            };
            let cidr = format!("{}.{}.0.0/16", 20 + rng.below(200), rng.below(256));
            let (remote, local): (Value, Value) = match (i / 2) % 4 {
                0 => (json!({"AddressPrefix": "AzureCloud"}), json!({"AddressPrefix": "10.0.0.0/16"})),
                1 => (json!({"AddressPrefix": regions[rng.below(4) as usize]}), json!({"AddressPrefix": "*"})),
                2 => (json!({"ApplicationSecurityGroups": [asg(rng.below(ASGS))]}), json!({"ApplicationSecurityGroups": [asg(rng.below(ASGS))]})),
                _ => (json!({"AddressPrefixes": [cidr, "192.0.2.0/24"]}), json!({"AddressPrefix": "VirtualNetwork"})),
            };
            let (src, dst) = if direction == "Inbound" { (remote, local) } else { (local, remote) };
            let access = if rng.below(2) == 0 { "Allow" } else { "Deny" };
            let protocol = ["Tcp", "Udp", "*"][rng.below(3) as usize];
            let mut p = json!({"priority": priority, "direction": direction, "access": access, "protocol": protocol, "sourcePortRange": "*"});
            for (side, v) in [("source", src), ("destination", dst)] {
                for (k, v) in v.as_object().expect("object") {
                    p[format!("{side}{k}")] = v.clone();
                }
            }
            for (k, v) in ports.as_object().expect("object") {
                p[k] = v.clone();
            }
            json!({"name": format!("rule{i}"), "properties": p})
        })
        .collect();
    resources.push(json!({"type": "Microsoft.Network/networkSecurityGroups", "name": "big", "properties": {"securityRules": rules}}));
    resources.push(json!({"type": "Microsoft.Network/virtualNetworks", "name": "vnet", "location": "westeurope", "properties": {
        "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
        "subnets": [{"name": "app", "properties": {"addressPrefix": "10.0.0.0/22", "networkSecurityGroup": {"id": format!("{SUB}/networkSecurityGroups/big")}}}]}}));
    for n in 0..NICS {
        let asgs: Vec<Value> = (0..1 + n % 3).map(|k| asg((n + k * 7) % ASGS)).collect();
        resources.push(json!({"type": "Microsoft.Network/networkInterfaces", "name": format!("nic{n}"), "properties": {"ipConfigurations": [
            {"name": "ipconfig1", "properties": {"subnet": {"id": format!("{SUB}/virtualNetworks/vnet/subnets/app")}, "applicationSecurityGroups": asgs}}]}}));
    }
    Value::Array(resources)
}

fn main() {
    let tags = ServiceTags::bundled();
    let mut rng = SplitMix64::new(0x5ec0_41e5);
    let doc = topology(&mut rng).to_string();
    let loaded = load_text(&doc, "nsg-bench.json", Format::Json, tags).unwrap_or_else(|d| {
        panic!(
            "{}",
            d.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    let t = &loaded.topology;
    let azure_cloud = tags
        .get("AzureCloud")
        .map(|t| t.prefixes.clone())
        .unwrap_or_default();
    let compiled = compile(t, NsgId(0), SubnetId(0), tags);
    let compile_time = median_of(5, || compile(t, NsgId(0), SubnetId(0), tags));
    let expanded_prefixes: usize = compiled
        .inbound
        .rules
        .iter()
        .chain(&compiled.outbound.rules)
        .map(|r| r.spec.sources.len() + r.spec.destinations.len())
        .sum();

    // Packets: VNet addresses, AzureCloud and Storage addresses, and anything.
    let vnet_ip = |rng: &mut SplitMix64| Ipv4Addr::from(0x0a00_0004 + rng.below(NICS));
    let mut packets = Vec::with_capacity(4096);
    for _ in 0..4096 {
        let remote = match rng.below(3) {
            0 => {
                let p = azure_cloud[rng.below(azure_cloud.len() as u32) as usize];
                Ipv4Addr::from(
                    u32::from(p.network()) + rng.below(1 << (32 - p.prefix_len()).min(31)),
                )
            }
            1 => Ipv4Addr::from(rng.next_u64() as u32),
            _ => vnet_ip(&mut rng),
        };
        let protocol = [6u8, 17, 1][rng.below(3) as usize];
        let dst_port = 1 + rng.below(61000) as u16;
        packets.push(FiveTuple {
            src: remote,
            dst: vnet_ip(&mut rng),
            protocol,
            src_port: 1024 + rng.below(60000) as u16,
            dst_port,
        });
    }
    let rules = &compiled.inbound;
    let mut agree = 0;
    for p in &packets {
        let fast = rules.first_match(p).map(|r| r.name.as_str());
        let slow = rules
            .rules
            .iter()
            .find(|r| r.spec.matches(p))
            .map(|r| r.name.as_str());
        assert_eq!(fast, slow, "classifier and rule walk disagree on {p:?}");
        agree += 1;
    }
    let time_per = |f: &dyn Fn(&FiveTuple) -> usize, n: usize| {
        let start = Instant::now();
        let mut sum = 0;
        for i in 0..n {
            sum += f(&packets[i % packets.len()]);
        }
        black_box(sum);
        start.elapsed().as_nanos() as f64 / n as f64
    };
    let compiled_ns = time_per(
        &|p| {
            rules
                .first_match(black_box(p))
                .map_or(0, |r| r.written.priority as usize)
        },
        DECISIONS,
    );
    let walk_ns = time_per(
        &|p| {
            rules
                .rules
                .iter()
                .position(|r| r.spec.matches(black_box(p)))
                .unwrap_or(0)
        },
        DECISIONS / 100,
    );
    let (intervals, bitsets) = rules.classifier().size();

    println!("NSG benchmark (release): 1 NSG, {RULES} rules ({} inbound + 3 default, {} outbound + 3 default), {ASGS} ASGs over {NICS} NICs", RULES / 2, RULES / 2);
    println!("  tag sizes: AzureCloud {} prefixes; expanded prefixes across all rules {expanded_prefixes}", azure_cloud.len());
    println!(
        "  expand + compile both directions (median of 5)      {:>9.1} ms",
        ms(compile_time)
    );
    println!(
        "  compiled inbound: {intervals} intervals, {bitsets} distinct rule sets of {} bits",
        rules.rules.len()
    );
    println!("  decision, compiled classifier ({DECISIONS} packets)     {compiled_ns:>9.0} ns   target < 200 ns: {}", if compiled_ns < 200.0 { "met" } else { "MISSED" });
    println!(
        "  decision, plain rule walk (baseline, {} packets)    {walk_ns:>9.0} ns   {:.0}x slower",
        DECISIONS / 100,
        walk_ns / compiled_ns
    );
    println!("  classifier and rule walk agreed on {agree} sampled packets");
}
