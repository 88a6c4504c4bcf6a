//! Property test of the Trace issue: on random topologies, every cell of `reach` (computed once
//! per pair of endpoint classes) equals the verdict of the single `trace` between the two
//! parties.

use proptest::prelude::*;
use vnetlab_analysis::{reach, trace, Analysis};
use vnetlab_engine::trace::Probe;
use vnetlab_ingest::{load_text, Format};
use vnetlab_model::service_tags::ServiceTags;

/// A VM: (static host or dynamic, forwards IP, public IP).
type VmSpec = (Option<u8>, bool, bool);

#[derive(Debug, Clone)]
struct Spec {
    /// Per VNet (up to 3, 10.v.0.0/16): subnets, each with VMs.
    vnets: Vec<Vec<Vec<VmSpec>>>,
    peerings: Vec<(usize, usize)>,
    /// NSG rules on the subnet NSG: (priority offset, inbound, allow, port, source is a /32 of vnet 0 host 4..9).
    rules: Vec<(u8, bool, bool, u16, Option<u8>)>,
    /// Per (vnet, subnet): the subnet takes the NSG / the route table.
    nsg_on: Vec<(usize, usize)>,
    rt_on: Vec<(usize, usize)>,
    /// Routes: (third octet of 10.x.0.0/16 target VNet or 0 for 0.0.0.0/0, next hop kind).
    routes: Vec<(u8, u8)>,
}

fn spec() -> impl Strategy<Value = Spec> {
    let vm = (
        prop_oneof![Just(None), (4u8..12).prop_map(Some)],
        any::<bool>(),
        any::<bool>(),
    );
    let subnet = proptest::collection::vec(vm, 0..3);
    let vnet = proptest::collection::vec(subnet, 1..3);
    (
        proptest::collection::vec(vnet, 1..4),
        proptest::collection::vec((0usize..3, 0usize..3), 0..6),
        proptest::collection::vec(
            (
                0u8..50,
                any::<bool>(),
                any::<bool>(),
                prop_oneof![Just(22u16), Just(443), Just(80)],
                prop_oneof![Just(None), (4u8..10).prop_map(Some)],
            ),
            0..6,
        ),
        proptest::collection::vec((0usize..3, 0usize..3), 0..4),
        proptest::collection::vec((0usize..3, 0usize..3), 0..4),
        proptest::collection::vec((0u8..4, 0u8..3), 0..4),
    )
        .prop_map(|(vnets, peerings, rules, nsg_on, rt_on, routes)| Spec {
            vnets,
            peerings,
            rules,
            nsg_on,
            rt_on,
            routes,
        })
}

fn yaml(s: &Spec) -> String {
    let mut y = String::from("vnets:\n");
    let mut first_vm: Option<String> = None;
    for (v, subnets) in s.vnets.iter().enumerate() {
        y += &format!("  v{v}:\n    address_space: [10.{v}.0.0/16]\n    subnets:\n");
        for (k, vms) in subnets.iter().enumerate() {
            y += &format!("      s{k}:\n        prefix: 10.{v}.{k}.0/24\n");
            if s.nsg_on.contains(&(v, k)) {
                y += "        nsg: nsg\n";
            }
            if s.rt_on.contains(&(v, k)) {
                y += "        route_table: rt\n";
            }
            if !vms.is_empty() {
                y += "        vms:\n";
            }
            let mut used = std::collections::HashSet::new();
            for (i, (host, fwd, pip)) in vms.iter().enumerate() {
                let name = format!("vm{v}{k}{i}");
                first_vm.get_or_insert(name.clone());
                let ip = host
                    .filter(|h| used.insert(*h))
                    .map(|h| format!("ip: 10.{v}.{k}.{h}, "))
                    .unwrap_or_default();
                y += &format!(
                    "          {name}: {{ {ip}ip_forwarding: {fwd}, public_ip: {pip} }}\n"
                );
            }
        }
        let peers: Vec<_> = s
            .peerings
            .iter()
            .filter(|(a, b)| *a == v && *b != v && *b < s.vnets.len())
            .collect();
        let mut seen = std::collections::HashSet::new();
        let peers: Vec<_> = peers.into_iter().filter(|(_, b)| seen.insert(*b)).collect();
        if !peers.is_empty() {
            y += "    peerings:\n";
            for (_, b) in peers {
                y += &format!("      v{b}: {{ allow_forwarded_traffic: true }}\n");
            }
        }
    }
    y += "nsgs:\n  nsg:\n    rules:\n";
    let mut prios = std::collections::HashSet::new();
    let mut any_rule = false;
    for (i, (p, inbound, allow, port, src)) in s.rules.iter().enumerate() {
        let dir = if *inbound { "Inbound" } else { "Outbound" };
        if !prios.insert((dir, p)) {
            continue;
        }
        any_rule = true;
        let source = src
            .map(|h| format!("10.0.0.{h}"))
            .unwrap_or_else(|| "*".into());
        y += &format!("      - {{ name: r{i}, priority: {}, direction: {dir}, access: {}, protocol: Tcp, source: '{source}', destination: '*', destination_ports: '{port}' }}\n", 100 + u32::from(*p), if *allow { "Allow" } else { "Deny" });
    }
    if !any_rule {
        y = y.replace("nsgs:\n  nsg:\n    rules:\n", "nsgs:\n  nsg: {}\n");
    }
    // Routes to the first VM of subnet 0 of VNet 0 as an appliance (10.0.0.4 when it exists).
    y += "route_tables:\n  rt:\n";
    let mut seen = std::collections::HashSet::new();
    let routes: Vec<_> = s.routes.iter().filter(|(o, _)| seen.insert(*o)).collect();
    if routes.is_empty() {
        y.push_str("    routes: {}\n");
    } else {
        y += "    routes:\n";
        for (o, kind) in routes {
            let prefix = if *o == 0 {
                "0.0.0.0/0".to_string()
            } else {
                format!("10.{}.0.0/16", o - 1)
            };
            let hop = match kind {
                0 => "{ next_hop: VirtualAppliance, ip: 10.0.0.4 }"
                    .replace("{ ", &format!("{{ prefix: {prefix}, ")),
                1 => format!("{{ prefix: {prefix}, next_hop: None }}"),
                _ => format!("{{ prefix: {prefix}, next_hop: Internet }}"),
            };
            y += &format!("      r{o}: {hop}\n");
        }
    }
    y
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(60))]
    #[test]
    fn every_cell_equals_its_trace(s in spec(), port in prop_oneof![Just(22u16), Just(443)]) {
        let text = yaml(&s);
        let loaded = load_text(&text, "lab.yaml", Format::Yaml, ServiceTags::bundled())
            .unwrap_or_else(|d| panic!("the generated lab is refused: {}\n{text}", d[0]));
        let a = Analysis::new(&loaded.topology, ServiceTags::bundled());
        let probe = Probe { protocol: 6, port };
        let m = reach::matrix(&a, probe);
        for (i, row) in m.cells.iter().enumerate() {
            for (j, cell) in row.iter().enumerate() {
                let Some(cell) = cell else { continue };
                let (from, to) = (&m.parties[i], &m.parties[j]);
                let Some(dst) = reach::target(from, to) else { continue };
                let single = trace::run(&a, from.source, dst, probe);
                prop_assert_eq!(cell.verdict, single.verdict(), "{} -> {}: reach says {:?}, trace says {:?}\n{}", from.name, to.name, cell.verdict, single.verdict(), text);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]
    // The incremental diff (re-tracing only flows that depend on a changed resource) finds
    // exactly the changes a full recomputation finds.
    #[test]
    fn incremental_diff_equals_full_recomputation(s in spec(), flip in 0usize..8, port in prop_oneof![Just(22u16), Just(443)]) {
        let mut changed = s.clone();
        match flip % 4 {
            0 if !changed.rules.is_empty() => { let i = flip % changed.rules.len(); changed.rules[i].2 = !changed.rules[i].2; }
            1 if !changed.routes.is_empty() => { let i = flip % changed.routes.len(); changed.routes[i].1 = (changed.routes[i].1 + 1) % 3; }
            2 => changed.nsg_on.push((flip % 3, flip % 2)),
            _ => changed.peerings.push((flip % 3, (flip + 1) % 3)),
        }
        let load = |spec: &Spec| load_text(&yaml(spec), "lab.yaml", Format::Yaml, ServiceTags::bundled()).unwrap_or_else(|d| panic!("{}", d[0]));
        let (old, new) = (load(&s), load(&changed));
        let (a, b) = (Analysis::new(&old.topology, ServiceTags::bundled()), Analysis::new(&new.topology, ServiceTags::bundled()));
        let probe = Probe { protocol: 6, port };
        let base = vnetlab_analysis::diff::Baseline::new(&a, vec![reach::matrix(&a, probe)]);
        let (incremental, _) = base.diff(&a, &b, reach::parties(&b), &[probe]);
        let before = &base.matrices[0];
        // A fresh analysis of the new version: nothing adopted from the old one.
        let fresh = Analysis::new(&new.topology, ServiceTags::bundled());
        let after = reach::matrix(&fresh, probe);
        let mut full = Vec::new();
        for (i, row) in after.cells.iter().enumerate() {
            for (j, cell) in row.iter().enumerate() {
                let Some(cell) = cell else { continue };
                let (from, to) = (&after.parties[i].name, &after.parties[j].name);
                let old_cell = before.parties.iter().position(|p| &p.name == from).zip(before.parties.iter().position(|p| &p.name == to)).and_then(|(x, y)| before.cells[x][y].clone());
                if old_cell.is_none_or(|c| c.verdict != cell.verdict) {
                    full.push((from.clone(), to.clone()));
                }
            }
        }
        let mut got: Vec<(String, String)> = incremental.iter().map(|c| (c.from.clone(), c.to.clone())).collect();
        got.sort();
        full.sort();
        prop_assert_eq!(got, full, "\nold:\n{}\nnew:\n{}", yaml(&s), yaml(&changed));
    }
}
