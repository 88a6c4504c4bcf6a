//! `vnetlab-bench`: the Foundation benchmark. Generates (or reads) the 1,000-VNet hub-and-spoke
//! REST JSON file and measures, in one run: bare `serde_json::Value` parsing (the baseline),
//! `load_text` (parse + build + validate), `RoutingTables::compute`, both together, and their
//! ratio to the baseline (target ≤ 2); the phases inside them; materialising the effective route
//! table of 100 subnets; next-hop lookups (target < 1 µs each); and peak memory. Headline times
//! are in-process (warm heap); the same operations are also timed in fresh child processes of
//! this binary, as a one-shot CLI invocation meets them (cold heap, page faults included).
//!
//! Options: `--input FILE` (skip generation), `--out FILE` (where to generate; default
//! target/bench/foundation.json), `--runs N` (timed runs per figure, median reported; 3),
//! `--lookups N` (1,000,000). `--child OP FILE` is the child-process mode (OP: parse, load,
//! load+compute); it prints `ns=… hwm=…`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Duration;
use vnetlab_bench::generate::{self, Plan};
use vnetlab_bench::measure::{
    live_heap, median, median_of, mib, ms, reset_peak, status_bytes, timed, SplitMix64,
};
use vnetlab_engine::routes::{gateway, layer::Layer, peering, system, user, RoutingTables};
use vnetlab_ingest::{load_text, rest, Format};
use vnetlab_model::service_tags::ServiceTags;
use vnetlab_model::{RouteTableId, SubnetId, Topology, VnetId};

struct Args {
    input: Option<PathBuf>,
    out: PathBuf,
    runs: usize,
    lookups: usize,
    child: Option<(String, PathBuf)>,
}

const USAGE: &str = "usage: vnetlab-bench [--input FILE | --out FILE] [--runs N] [--lookups N]";

fn parse_args() -> Result<Args, String> {
    let default_out =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench/foundation.json");
    let mut args = Args {
        input: None,
        out: default_out,
        runs: 3,
        lookups: 1_000_000,
        child: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--input" => args.input = Some(value()?.into()),
            "--out" => args.out = value()?.into(),
            "--runs" => args.runs = value()?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--lookups" => {
                args.lookups = value()?.parse().map_err(|e| format!("--lookups: {e}"))?
            }
            "--child" => args.child = Some((value()?, value()?.into())),
            _ => return Err(format!("unknown argument {flag}\n{USAGE}")),
        }
    }
    if args.runs == 0 || args.lookups == 0 {
        return Err("--runs and --lookups must be at least 1".into());
    }
    Ok(args)
}

/// Child mode: one cold operation in this fresh process; prints its time and the peak RSS it
/// reached (the file text included), and exits without freeing anything.
fn child(op: &str, path: &PathBuf) -> ExitCode {
    let text = std::fs::read_to_string(path).expect("read the topology");
    let tags = ServiceTags::bundled();
    let load = || load_text(&text, "input.json", Format::Json, tags).expect("loads");
    let ((), d) = match op {
        "parse" => timed(|| {
            std::mem::forget(black_box(
                serde_json::from_str::<serde_json::Value>(&text).expect("valid JSON"),
            ))
        }),
        "load" => timed(|| std::mem::forget(black_box(load()))),
        "load+compute" => timed(|| {
            let l = load();
            std::mem::forget(black_box(RoutingTables::compute(&l.topology, tags)));
            std::mem::forget(l);
        }),
        _ => {
            eprintln!("unknown child operation {op}");
            return ExitCode::from(2);
        }
    };
    println!(
        "ns={} hwm={}",
        d.as_nanos(),
        status_bytes("VmHWM").unwrap_or(0)
    );
    ExitCode::SUCCESS
}

/// The median time of an operation and the largest peak RSS it reached.
type ColdFigures = Result<(Duration, u64), String>;

/// Runs `op` in `runs` fresh processes.
fn cold(op: &str, path: &std::path::Path, runs: usize) -> ColdFigures {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut times = Vec::new();
    let mut peak = 0;
    for _ in 0..runs {
        let out = Command::new(&exe)
            .arg("--child")
            .arg(op)
            .arg(path)
            .output()
            .map_err(|e| e.to_string())?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let field = |name: &str| {
            stdout
                .split_whitespace()
                .find_map(|w| w.strip_prefix(name))
                .and_then(|v| v.parse::<u64>().ok())
        };
        match (out.status.success(), field("ns="), field("hwm=")) {
            (true, Some(ns), Some(hwm)) => {
                times.push(Duration::from_nanos(ns));
                peak = peak.max(hwm);
            }
            _ => {
                return Err(format!(
                    "child {op} failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ))
            }
        }
    }
    Ok((median(times), peak))
}

/// Prints one row of the figures table.
fn row(label: &str, value: String, note: &str) {
    println!("  {label:<46} {value:>14}  {note}");
}

fn row_ms(label: &str, d: Duration, note: &str) {
    row(label, format!("{:.1} ms", ms(d)), note);
}

/// Destination classes of the lookup workload.
const CLASSES: [&str; 6] = [
    "own VNet",
    "peered VNet",
    "other spoke",
    "own route table prefix",
    "gateway prefix",
    "any address",
];

/// A destination of class `class` for a source subnet of VNet `v` whose route table (the
/// generator's index) is `table`.
fn destination(
    rng: &mut SplitMix64,
    plan: &Plan,
    v: u32,
    table: Option<u32>,
    class: usize,
) -> Ipv4Addr {
    let inside = |rng: &mut SplitMix64, base: u32, len: u8| {
        Ipv4Addr::from(base + rng.below(1 << (32 - len)))
    };
    let vnet_range = |v: u32| (generate::vnet_base(v), if v == 0 { 16 } else { 20 });
    match class {
        0 => {
            let (b, l) = vnet_range(v);
            inside(rng, b, l)
        }
        1 => {
            let p = if v == 0 {
                1 + rng.below(plan.spokes)
            } else {
                0
            };
            let (b, l) = vnet_range(p);
            inside(rng, b, l)
        }
        2 => {
            let mut o = 1 + rng.below(plan.spokes);
            if o == v {
                o = o % plan.spokes + 1
            }
            let (b, l) = vnet_range(o);
            inside(rng, b, l)
        }
        3 => {
            let table = table.unwrap_or_else(|| rng.below(plan.route_tables));
            let (_, (b, l)) =
                generate::user_route(plan, table, 1 + rng.below(plan.routes_per_table - 1));
            inside(rng, b, l)
        }
        4 => {
            let (b, l) = generate::bgp_prefix(rng.below(plan.bgp_prefixes));
            inside(rng, b, l)
        }
        _ => Ipv4Addr::from(rng.next_u64() as u32),
    }
}

/// `n` (subnet, destination) pairs over every subnet; `class` None mixes all classes evenly.
fn workload(
    t: &Topology,
    plan: &Plan,
    n: usize,
    class: Option<usize>,
    seed: u64,
) -> Vec<(SubnetId, Ipv4Addr)> {
    let mut rng = SplitMix64::new(seed);
    (0..n)
        .map(|_| {
            let s = SubnetId(rng.below(t.subnets.len() as u32));
            let c = class.unwrap_or_else(|| rng.below(CLASSES.len() as u32) as usize);
            let subnet = t.subnet(s);
            (
                s,
                destination(
                    &mut rng,
                    plan,
                    subnet.vnet.0,
                    subnet.route_table.map(|r| r.0),
                    c,
                ),
            )
        })
        .collect()
}

/// Looks every pair up; returns the median time per lookup in ns.
fn time_lookups(tables: &RoutingTables, work: &[(SubnetId, Ipv4Addr)], runs: usize) -> f64 {
    let d = median_of(runs, || {
        let mut acc = 0u64;
        for &(subnet, dst) in work {
            let sel = tables.subnet(black_box(subnet)).lookup(black_box(dst));
            acc += sel.map_or(0, |s| u64::from(s.prefix.prefix_len()));
        }
        acc
    });
    d.as_secs_f64() * 1e9 / work.len() as f64
}

/// The effective route table of a sample of subnets, timed; returns (median, rows in total).
fn time_effective_routes(
    tables: &RoutingTables,
    sample: &[SubnetId],
    runs: usize,
) -> (Duration, usize) {
    let rows: usize = sample
        .iter()
        .map(|s| tables.subnet(*s).effective_routes().len())
        .sum();
    let d = median_of(runs, || {
        sample
            .iter()
            .map(|s| black_box(tables.subnet(*s).effective_routes()))
            .map(|r| r.len())
            .sum::<usize>()
    });
    (d, rows)
}

/// The phases of `load_text` replayed in its order through the same public functions, each
/// timed; drops happen where `load_text` does them (resources, then the document).
#[derive(Clone, Copy)]
struct LoadPhases {
    parse: Duration,
    flatten: Duration,
    build: Duration,
    validate: Duration,
    drop_resources: Duration,
    drop_document: Duration,
    /// Heap bytes held by the Value tree and by the flattened resources.
    value_bytes: Option<u64>,
    resources_bytes: Option<u64>,
}

fn heap_delta(before: Option<u64>) -> Option<u64> {
    Some(live_heap()?.saturating_sub(before?))
}

fn replay_load(text: &str, tags: &ServiceTags) -> LoadPhases {
    let heap = live_heap();
    let (doc, parse) =
        timed(|| serde_json::from_str::<vnetlab_ingest::json::Json>(text).expect("valid JSON"));
    let value_bytes = heap_delta(heap);
    let heap = live_heap();
    let (raws, flatten) = timed(|| rest::document::flatten(&doc).expect("flattens"));
    let resources_bytes = heap_delta(heap);
    let ((topology, diags), build) = timed(|| rest::build(&raws));
    let (more, validate) = timed(|| vnetlab_model::validate::validate(&topology, tags));
    assert!(
        diags.iter().chain(&more).all(|d| !d.is_error()),
        "the topology validates"
    );
    let ((), drop_resources) = timed(|| drop(raws));
    let ((), drop_document) = timed(|| drop(doc));
    drop(black_box(topology));
    LoadPhases {
        parse,
        flatten,
        build,
        validate,
        drop_resources,
        drop_document,
        value_bytes,
        resources_bytes,
    }
}

/// The per-field median of several replays.
fn median_phases(runs: &[LoadPhases]) -> LoadPhases {
    let m = |f: fn(&LoadPhases) -> Duration| median(runs.iter().map(f).collect());
    LoadPhases {
        parse: m(|p| p.parse),
        flatten: m(|p| p.flatten),
        build: m(|p| p.build),
        validate: m(|p| p.validate),
        drop_resources: m(|p| p.drop_resources),
        drop_document: m(|p| p.drop_document),
        value_bytes: runs[0].value_bytes,
        resources_bytes: runs[0].resources_bytes,
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("vnetlab-bench: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some((op, path)) = &args.child {
        return child(op, path);
    }
    let plan = Plan::FOUNDATION;
    let tags = ServiceTags::bundled();
    let runs = args.runs;

    println!(
        "vnetlab Foundation benchmark ({} build, {runs} runs per figure, median)",
        if cfg!(debug_assertions) {
            "DEBUG"
        } else {
            "release"
        }
    );
    let path = match &args.input {
        Some(p) => p.clone(),
        None => {
            if let Some(dir) = args.out.parent() {
                if let Err(e) = std::fs::create_dir_all(dir) {
                    eprintln!("vnetlab-bench: cannot create {}: {e}", dir.display());
                    return ExitCode::FAILURE;
                }
            }
            let (res, d) =
                timed(|| std::fs::File::create(&args.out).and_then(|f| generate::write(plan, f)));
            if let Err(e) = res {
                eprintln!("vnetlab-bench: cannot write {}: {e}", args.out.display());
                return ExitCode::FAILURE;
            }
            println!("generated in {:.0} ms", ms(d));
            args.out.clone()
        }
    };
    let path = path.canonicalize().unwrap_or(path);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("vnetlab-bench: cannot read {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    };
    let file = path.display().to_string();
    println!(
        "input {file}: {} bytes ({:.1} MiB)",
        text.len(),
        mib(text.len() as u64)
    );

    // Cold in-process run first, so the peak memory is that of loading (the text is resident).
    let rss_text = status_bytes("VmRSS");
    let heap_text = live_heap();
    let peak_reset = reset_peak();
    let (loaded, cold_load) = timed(|| load_text(&text, &file, Format::Json, tags));
    let loaded = match loaded {
        Ok(l) => l,
        Err(diags) => {
            eprintln!(
                "vnetlab-bench: the topology does not load: {} diagnostics, first: {:?}",
                diags.len(),
                diags.first()
            );
            return ExitCode::FAILURE;
        }
    };
    let hwm_load = status_bytes("VmHWM");
    let topology_bytes = heap_delta(heap_text);
    let heap_loaded = live_heap();
    let (tables, cold_compute) = timed(|| RoutingTables::compute(&loaded.topology, tags));
    let hwm_compute = status_bytes("VmHWM");
    let tables_bytes = heap_delta(heap_loaded);
    let t = &loaded.topology;
    let routes: usize = t.route_tables.iter().map(|r| r.routes.len()).sum();
    let bgp: usize = t
        .local_gateways
        .iter()
        .map(|l| l.bgp_advertised.len())
        .sum();
    println!(
        "topology: {} VNets, {} subnets, {} peerings, {} NICs, {} VMs, {} route tables / {routes} routes, {} gateway(s), {bgp} gateway prefixes, {} warnings",
        t.vnets.len(), t.subnets.len(), t.peerings.len(), t.nics.len(), t.vms.len(), t.route_tables.len(), t.gateways.len(), loaded.warnings.len()
    );

    let from_plan = t.subnets.len() == plan.subnets() as usize
        && t.route_tables
            .iter()
            .enumerate()
            .all(|(i, r)| r.name == format!("rt-{i:03}"));
    if !from_plan {
        println!("note: this file is not the Foundation plan; the lookup workload's destination classes will be off");
    }

    // The headline figures, in process.
    let parse = median_of(runs, || {
        serde_json::from_str::<serde_json::Value>(&text).expect("valid JSON")
    });
    let load = median_of(runs, || {
        load_text(&text, &file, Format::Json, tags).expect("loads")
    });
    let compute = median_of(runs, || RoutingTables::compute(t, tags));
    let both = median_of(runs, || {
        let l = load_text(&text, &file, Format::Json, tags).expect("loads");
        let r = RoutingTables::compute(&l.topology, tags);
        (l, r)
    });

    // Where load_text's time goes, and compute's.
    let phases = median_phases(
        &(0..runs)
            .map(|_| replay_load(&text, tags))
            .collect::<Vec<_>>(),
    );
    let vnet_layers = median_of(runs, || {
        (0..t.vnets.len())
            .map(|i| {
                let id = VnetId(i as u32);
                let rows = peering::peering_rows(t, id);
                let mut ranges = t.vnet(id).address_space.clone();
                ranges.extend(rows.iter().flat_map(|r| r.prefixes.iter().copied()));
                (
                    system::reserved_layer(&ranges),
                    system::default_layer(&t.vnet(id).address_space, rows),
                )
            })
            .collect::<Vec<(Layer, Layer)>>()
    });
    let user_layers = median_of(runs, || {
        (0..t.route_tables.len())
            .map(|i| user::user_layer(t, RouteTableId(i as u32), tags))
            .collect::<Vec<_>>()
    });
    let gateway_layer = median_of(runs, || gateway::gateway_layer(t, VnetId(0)));
    let serving = median_of(runs, || {
        t.subnets
            .iter()
            .filter_map(|s| gateway::serving_vnet(t, s.vnet))
            .count()
    });

    // Effective route tables of 100 subnets spread over the topology.
    let sample: Vec<SubnetId> = (0..100)
        .map(|i| SubnetId((i * t.subnets.len() / 100) as u32))
        .collect();
    let (effective, effective_rows) = time_effective_routes(&tables, &sample, runs);

    // Next-hop lookups.
    let work = workload(t, &plan, args.lookups, None, 0x5EED);
    let ns_lookup = time_lookups(&tables, &work, runs);
    let mut by_hop: BTreeMap<&str, usize> = BTreeMap::new();
    for &(s, d) in &work {
        *by_hop
            .entry(
                tables
                    .subnet(s)
                    .lookup(d)
                    .map_or("(no route)", |sel| sel.row.next_hop_type.as_str()),
            )
            .or_default() += 1;
    }
    drop(work);
    let per_class: Vec<f64> = (0..CLASSES.len())
        .map(|c| {
            time_lookups(
                &tables,
                &workload(
                    t,
                    &plan,
                    (args.lookups / CLASSES.len()).max(1),
                    Some(c),
                    0xC1A55 + c as u64,
                ),
                runs,
            )
        })
        .collect();

    // The same operations in fresh processes (as one CLI invocation).
    let fresh: Vec<(&str, ColdFigures)> = ["parse", "load", "load+compute"]
        .into_iter()
        .map(|op| (op, cold(op, &path, runs)))
        .collect();

    let ratio = (load + compute).as_secs_f64() / parse.as_secs_f64();
    let ratio_together = both.as_secs_f64() / parse.as_secs_f64();
    let verdict = |r: f64| {
        if r <= 2.0 {
            "target ≤ 2: met"
        } else {
            "target ≤ 2: MISSED"
        }
    };
    println!();
    println!("figures (in process, median of {runs}):");
    row_ms(
        "bare serde_json::from_str::<Value>",
        parse,
        "baseline (drop not timed)",
    );
    row_ms(
        "load_text (parse + build + validate)",
        load,
        &format!("first run {:.0} ms", ms(cold_load)),
    );
    row_ms(
        "RoutingTables::compute (every subnet)",
        compute,
        &format!("first run {:.0} ms", ms(cold_compute)),
    );
    row_ms("load_text + compute, timed together", both, "");
    row(
        "ratio (load + compute) / bare parse",
        format!("{ratio:.2}"),
        verdict(ratio),
    );
    row(
        "ratio (together) / bare parse",
        format!("{ratio_together:.2}"),
        verdict(ratio_together),
    );
    row_ms(
        "effective_routes() of 100 subnets",
        effective,
        &format!(
            "{:.2} ms/subnet, {} rows/subnet",
            ms(effective) / 100.0,
            effective_rows / 100
        ),
    );
    let ok = if ns_lookup < 1000.0 {
        "target < 1 µs: met"
    } else {
        "target < 1 µs: MISSED"
    };
    row(
        &format!("next-hop lookup, {} mixed", args.lookups),
        format!("{ns_lookup:.0} ns"),
        ok,
    );
    for (c, ns) in CLASSES.iter().zip(&per_class) {
        row(&format!("  destination: {c}"), format!("{ns:.0} ns"), "");
    }
    let hops: Vec<String> = by_hop.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!(
        "  {:<46} {}",
        "  next hops of the mixed workload:",
        hops.join(", ")
    );

    println!();
    println!("fresh process per run (cold heap; median of {runs}; peak RSS includes the text):");
    let fresh_parse = fresh[0].1.as_ref().ok().map(|r| r.0);
    for (op, r) in &fresh {
        match r {
            Ok((d, hwm)) => {
                let vs = fresh_parse.map_or(String::new(), |p| {
                    format!("{:.2} × parse", d.as_secs_f64() / p.as_secs_f64())
                });
                row(
                    op,
                    format!("{:.1} ms", ms(*d)),
                    &format!("peak RSS {:.0} MiB, {vs}", mib(*hwm)),
                );
            }
            Err(e) => row(op, "n/a".into(), e),
        }
    }

    println!();
    let mem = |b: Option<u64>| b.map_or("n/a".into(), |b| format!("{:.0} MiB", mib(b)));
    println!(
        "memory in process (/proc/self/status{}):",
        if peak_reset {
            "; peak reset before the first load"
        } else {
            "; peak NOT reset"
        }
    );
    row("RSS with the file text read", mem(rss_text), "");
    row(
        "peak RSS (VmHWM) after the first load_text",
        mem(hwm_load),
        "",
    );
    row("peak RSS (VmHWM) after compute", mem(hwm_compute), "");
    let times_file = |b: Option<u64>| {
        b.map_or(String::new(), |b| {
            format!("{:.1} × the file", b as f64 / text.len() as f64)
        })
    };
    row(
        "heap held by the bare Value tree",
        mem(phases.value_bytes),
        &times_file(phases.value_bytes),
    );
    row(
        "heap held by the flattened resources",
        mem(phases.resources_bytes),
        &times_file(phases.resources_bytes),
    );
    row(
        "heap held by the loaded Topology",
        mem(topology_bytes),
        &times_file(topology_bytes),
    );
    row(
        "heap held by the RoutingTables",
        mem(tables_bytes),
        &times_file(tables_bytes),
    );

    println!();
    println!("phases (median of {runs}; load_text replayed step by step):");
    let sum = phases.parse
        + phases.flatten
        + phases.build
        + phases.validate
        + phases.drop_resources
        + phases.drop_document;
    let share = |d: Duration| {
        format!(
            "{:4.1}% of the replay",
            100.0 * d.as_secs_f64() / sum.as_secs_f64()
        )
    };
    row_ms(
        "serde_json parse to Value",
        phases.parse,
        &share(phases.parse),
    );
    row_ms(
        "rest::document::flatten",
        phases.flatten,
        &share(phases.flatten),
    );
    row_ms("rest::build", phases.build, &share(phases.build));
    row_ms(
        "model::validate::validate",
        phases.validate,
        &share(phases.validate),
    );
    row_ms(
        "drop the flattened resources",
        phases.drop_resources,
        &share(phases.drop_resources),
    );
    row_ms(
        "drop the Value",
        phases.drop_document,
        &share(phases.drop_document),
    );
    row_ms(
        "replay total",
        sum,
        &format!("load_text {:.1} ms", ms(load)),
    );
    row_ms(
        "compute: VNet system + reserved layers",
        vnet_layers,
        &format!("{} VNets", t.vnets.len()),
    );
    row_ms(
        "compute: user layers",
        user_layers,
        &format!("{} route tables", t.route_tables.len()),
    );
    row_ms(
        "compute: the hub's gateway layer",
        gateway_layer,
        "built once, shared",
    );
    row_ms("compute: serving_vnet of every subnet", serving, "");
    ExitCode::SUCCESS
}
