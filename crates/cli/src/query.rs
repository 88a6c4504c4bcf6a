//! The commands that answer a question about one topology (or two, for `diff`), as Azure's
//! own tools answer it: effective routes and security rules, next hop, IP flow verify, the
//! trace of a packet, the reachability matrix, intents and the changes between two versions.
//! Each loads and analyses its file through [`Inputs::analyse`] and prints a table or JSON.

use crate::inputs::Inputs;
use crate::{print_json, report, Failed, Output};
use clap::ValueEnum;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use vnetlab_analysis::{
    diff, effective_routes, effective_security_rules, intents, ip_flow_verify, next_hop, reach,
    trace, Analysis,
};
use vnetlab_model::Direction;

// The arguments of `routes` and `nsg`.
#[derive(clap::Args)]
pub struct NicArgs {
    file: PathBuf,
    /// NIC name or resource ID.
    #[arg(long)]
    nic: String,
    #[arg(short, long, value_enum, default_value = "table")]
    output: Output,
}

// The arguments of `next-hop`.
#[derive(clap::Args)]
pub struct NextHopArgs {
    file: PathBuf,
    #[arg(long)]
    vm: String,
    #[arg(long)]
    source_ip: Ipv4Addr,
    #[arg(long)]
    dest_ip: Ipv4Addr,
    #[arg(short, long, value_enum, default_value = "table")]
    output: Output,
}

#[derive(Clone, Copy, ValueEnum)]
enum FlowDirection {
    Inbound,
    Outbound,
}

// The arguments of `test-ip-flow`.
#[derive(clap::Args)]
pub struct TestIpFlowArgs {
    file: PathBuf,
    #[arg(long)]
    vm: String,
    #[arg(long, value_enum, ignore_case = true)]
    direction: FlowDirection,
    /// TCP or UDP (Azure refuses ICMP here).
    #[arg(long)]
    protocol: String,
    /// The VM's side: IP:PORT.
    #[arg(long)]
    local: SocketAddrV4,
    /// The other side: IP:PORT.
    #[arg(long)]
    remote: SocketAddrV4,
    /// The NIC, needed when the VM has several NICs and one forwards IP.
    #[arg(long)]
    nic: Option<String>,
    #[arg(short, long, value_enum, default_value = "table")]
    output: Output,
}

/// The flow a trace or a matrix follows.
#[derive(clap::Args)]
struct ProbeArgs {
    /// tcp, udp, icmp, esp, ah, gre or ipip (GRE and IP-in-IP are not carried in a VNet).
    #[arg(long, default_value = "tcp")]
    protocol: String,
    /// Destination port for tcp and udp (default 443).
    #[arg(long)]
    port: Option<u16>,
}

// The arguments of `trace`.
#[derive(clap::Args)]
pub struct TraceArgs {
    file: PathBuf,
    /// A VM (its primary address) or an address: an Internet host, an on-premises host.
    #[arg(long)]
    from: String,
    #[arg(long)]
    to: String,
    #[command(flatten)]
    probe: ProbeArgs,
    #[arg(short, long, value_enum, default_value = "table")]
    output: Output,
}

// The arguments of `reach`.
#[derive(clap::Args)]
pub struct ReachArgs {
    file: PathBuf,
    #[command(flatten)]
    probe: ProbeArgs,
    #[arg(short, long, value_enum, default_value = "table")]
    output: Output,
}

// The arguments of `check`.
#[derive(clap::Args)]
pub struct CheckArgs {
    file: PathBuf,
    #[arg(long, value_name = "INTENTS.yaml")]
    intents: PathBuf,
    #[arg(short, long, value_enum, default_value = "table")]
    output: Output,
}

// The arguments of `diff`.
#[derive(clap::Args)]
pub struct DiffArgs {
    old: PathBuf,
    new: PathBuf,
    /// Compare one protocol (tcp, udp, icmp, esp, ah, gre, ipip) instead of the default set of probes.
    #[arg(long)]
    protocol: Option<String>,
    #[arg(long)]
    port: Option<u16>,
    #[arg(short, long, value_enum, default_value = "table")]
    output: Output,
}

/// `vnetlab routes`.
pub fn routes(inputs: &Inputs, args: NicArgs) -> Result<(), Failed> {
    inputs.analyse(&args.file, |a| {
        let nic = effective_routes::find_nic(a.topology, &args.nic).map_err(report)?;
        let routes = effective_routes::for_nic(a, nic);
        match args.output {
            Output::Json => print_json(&effective_routes::to_json(&routes)),
            Output::Table => out!("{}", effective_routes::to_table(&routes)),
        }
        Ok(())
    })
}

/// `vnetlab next-hop`.
pub fn next_hop(inputs: &Inputs, args: NextHopArgs) -> Result<(), Failed> {
    inputs.analyse(&args.file, |a| {
        let vm = next_hop::find_vm(a, &args.vm).map_err(report)?;
        let (_, subnet) = next_hop::source_nic(a, vm, args.source_ip).map_err(report)?;
        let (hop, reason) = next_hop::next_hop(a, subnet, args.dest_ip);
        match args.output {
            Output::Json => print_json(&hop),
            Output::Table => {
                outln!("Next hop type        {}", hop.next_hop_type);
                outln!(
                    "IP address           {}",
                    hop.next_hop_ip_address.as_deref().unwrap_or("-")
                );
                outln!("Route table ID       {}", hop.route_table_id);
                outln!("Why                  {reason}");
            }
        }
        Ok(())
    })
}

/// `vnetlab nsg`.
pub fn nsg(inputs: &Inputs, args: NicArgs) -> Result<(), Failed> {
    inputs.analyse(&args.file, |a| {
        let nic = effective_routes::find_nic(a.topology, &args.nic).map_err(report)?;
        match args.output {
            Output::Json => print_json(&effective_security_rules::to_json(a, nic)),
            Output::Table => out!("{}", effective_security_rules::to_table(a, nic)),
        }
        Ok(())
    })
}

/// `vnetlab test-ip-flow`.
pub fn test_ip_flow(inputs: &Inputs, args: TestIpFlowArgs) -> Result<(), Failed> {
    inputs.analyse(&args.file, |a| {
        let vm = next_hop::find_vm(a, &args.vm).map_err(report)?;
        let nic = ip_flow_verify::target_nic(a, vm, args.nic.as_deref(), *args.local.ip())
            .map_err(report)?;
        let query = ip_flow_verify::Query {
            direction: match args.direction {
                FlowDirection::Inbound => Direction::Inbound,
                FlowDirection::Outbound => Direction::Outbound,
            },
            protocol: args.protocol,
            local: (*args.local.ip(), args.local.port()),
            remote: (*args.remote.ip(), args.remote.port()),
        };
        let verified = ip_flow_verify::verify(a, nic, &query).map_err(report)?;
        match args.output {
            Output::Json => print_json(&verified.result),
            Output::Table => {
                outln!("Access               {}", verified.result.access);
                outln!(
                    "Rule                 {}",
                    verified.result.rule_name.as_deref().unwrap_or("-")
                );
                outln!(
                    "NSG                  {}",
                    verified.nsg.as_deref().unwrap_or("-")
                );
                outln!("Why                  {}", verified.why);
            }
        }
        Ok(())
    })
}

/// `vnetlab trace`.
pub fn trace(inputs: &Inputs, args: TraceArgs) -> Result<(), Failed> {
    inputs.analyse(&args.file, |a| {
        let from = trace::endpoint_address(a, &args.from).map_err(report)?;
        let to = trace::endpoint_address(a, &args.to).map_err(report)?;
        let probe = trace::probe(&args.probe.protocol, args.probe.port).map_err(report)?;
        let tr = trace::run(a, from, to, probe);
        match args.output {
            Output::Json => print_json(&trace::to_json(a.topology, &tr)),
            Output::Table => out!("{}", trace::to_table(a.topology, &tr)),
        }
        Ok(())
    })
}

/// `vnetlab reach`.
pub fn reach(inputs: &Inputs, args: ReachArgs) -> Result<(), Failed> {
    inputs.analyse(&args.file, |a| {
        let probe = trace::probe(&args.probe.protocol, args.probe.port).map_err(report)?;
        let m = reach::matrix(a, probe);
        match args.output {
            Output::Json => print_json(&reach::to_json(&m, probe)),
            Output::Table => out!("{}", reach::to_table(&m)),
        }
        Ok(())
    })
}

/// `vnetlab check`: fails when any intent is violated.
pub fn check(inputs: &Inputs, args: CheckArgs) -> Result<(), Failed> {
    inputs.analyse(&args.file, |a| {
        let text = std::fs::read_to_string(&args.intents).map_err(|e| {
            eprintln!("error: cannot read {}: {e}", args.intents.display());
            Failed
        })?;
        let list = vnetlab_ingest::intents::parse(&text, &args.intents.display().to_string())
            .map_err(|d| {
                eprintln!("{d}");
                Failed
            })?;
        let results = list
            .iter()
            .enumerate()
            .map(|(i, intent)| intents::check(a, intent, i))
            .collect::<Result<Vec<_>, _>>()
            .map_err(report)?;
        match args.output {
            Output::Json => print_json(&results),
            Output::Table => out!("{}", intents::to_text(&results)),
        }
        if results.iter().all(|r| r.passed) {
            Ok(())
        } else {
            Err(Failed)
        }
    })
}

/// `vnetlab diff`: both versions are loaded before either is analysed.
pub fn diff(inputs: &Inputs, args: DiffArgs) -> Result<(), Failed> {
    let (before, after) = (inputs.load(&args.old)?, inputs.load(&args.new)?);
    let (a, b) = (
        Analysis::new(&before.topology, &inputs.tags),
        Analysis::new(&after.topology, &inputs.tags),
    );
    let probes = match args.protocol {
        Some(p) => vec![trace::probe(&p, args.port).map_err(report)?],
        None => diff::DEFAULT_PROBES
            .iter()
            .map(|(protocol, port)| vnetlab_engine::trace::Probe {
                protocol: *protocol,
                port: *port,
            })
            .collect(),
    };
    let changes = diff::diff(&a, &b, &probes);
    match args.output {
        Output::Json => print_json(&changes),
        Output::Table => out!("{}", diff::to_text(&changes)),
    }
    Ok(())
}
