//! The `vnetlab` command: argument parsing and output. Every answer comes from the analysis
//! crate; this file only routes commands and prints.

/// Writes to stdout; a closed pipe (`vnetlab routes ... | head`) ends the program quietly
/// instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => { $crate::emit(format_args!($($arg)*)) };
}
macro_rules! outln {
    () => { $crate::emit(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::emit(format_args!("{}\n", format_args!($($arg)*))) };
}

mod demo;
mod lab;

use clap::{Parser, Subcommand, ValueEnum};
use std::borrow::Cow;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use vnetlab_analysis::{
    diff, effective_routes, effective_security_rules, intents, ip_flow_verify, next_hop, reach,
    trace, Analysis, QueryError,
};
use vnetlab_ingest::Loaded;
use vnetlab_model::service_tags::ServiceTags;
use vnetlab_model::Direction;

/// glibc's malloc slows down badly once a large matrix has been built and freed (a diff's
/// first allocations after building its baseline took tens of milliseconds); mimalloc does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "vnetlab",
    version,
    about = "Azure's virtual network on one Linux machine: effective routes, next hop, and more, answered as Azure answers them"
)]
struct Cli {
    /// A service-tag file (ServiceTags_Public_*.json) to use instead of the bundled 2025-11-09 snapshot.
    #[arg(long, global = true, value_name = "FILE")]
    service_tags: Option<PathBuf>,
    #[command(flatten)]
    deployment: DeploymentArgs,
    #[command(subcommand)]
    command: Command,
}

/// How an ARM template is deployed, as `az deployment group create` takes it.
#[derive(clap::Args)]
struct DeploymentArgs {
    /// A template's parameters: a parameters file (FILE or @FILE) or NAME=VALUE; repeatable.
    #[arg(long = "parameters", global = true, value_name = "FILE|NAME=VALUE")]
    parameters: Vec<String>,
    /// The subscription ID subscription() and resourceId() return.
    #[arg(long, global = true, value_name = "ID")]
    subscription: Option<String>,
    /// The resource group resourceGroup() and resourceId() return.
    #[arg(long, global = true, value_name = "NAME")]
    resource_group: Option<String>,
    /// The location resourceGroup().location returns.
    #[arg(long, global = true, value_name = "REGION")]
    location: Option<String>,
}

/// This invocation's template options: every command reads its topology with them.
static DEPLOYMENT: std::sync::OnceLock<vnetlab_ingest::Options> = std::sync::OnceLock::new();

#[derive(Clone, Copy, ValueEnum)]
enum Output {
    Table,
    Json,
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

#[derive(Clone, Copy, ValueEnum)]
enum FlowDirection {
    Inbound,
    Outbound,
}

#[derive(Subcommand)]
enum Command {
    /// Check a topology; exit 0 when Azure would accept it, otherwise list every problem and exit 1.
    Validate { file: PathBuf },
    /// The effective routes of a NIC, like `az network nic show-effective-route-table`.
    Routes {
        file: PathBuf,
        /// NIC name or resource ID.
        #[arg(long)]
        nic: String,
        #[arg(short, long, value_enum, default_value = "table")]
        output: Output,
    },
    /// The next hop of a packet, like `az network watcher show-next-hop`.
    NextHop {
        file: PathBuf,
        #[arg(long)]
        vm: String,
        #[arg(long)]
        source_ip: Ipv4Addr,
        #[arg(long)]
        dest_ip: Ipv4Addr,
        #[arg(short, long, value_enum, default_value = "table")]
        output: Output,
    },
    /// The effective security rules of a NIC, like `az network nic list-effective-nsg`.
    Nsg {
        file: PathBuf,
        /// NIC name or resource ID.
        #[arg(long)]
        nic: String,
        #[arg(short, long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Whether the NSGs allow a packet, like `az network watcher test-ip-flow`.
    TestIpFlow {
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
    },
    /// The path of a packet hop by hop, with the rule or route that decides each step.
    Trace {
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
    },
    /// The reachability matrix between every VM, on-premises site and the Internet.
    Reach {
        file: PathBuf,
        #[command(flatten)]
        probe: ProbeArgs,
        #[arg(short, long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Check reachability intents (for CI): prints each violation with its trace, exits 1 on any.
    Check {
        file: PathBuf,
        #[arg(long, value_name = "INTENTS.yaml")]
        intents: PathBuf,
        #[arg(short, long, value_enum, default_value = "table")]
        output: Output,
    },
    /// The flows whose verdict changes between two versions of a topology.
    Diff {
        old: PathBuf,
        new: PathBuf,
        /// Compare one protocol (tcp, udp, icmp, esp, ah, gre, ipip) instead of the default set of probes.
        #[arg(long)]
        protocol: Option<String>,
        #[arg(long)]
        port: Option<u16>,
        #[arg(short, long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Bring a topology up as a live lab: every VM a network namespace on the vnetlab switch.
    /// Returns once every VM has its DHCP lease (the switch goes on in the background).
    Up {
        file: PathBuf,
        /// The lab's name (default: the file's name); namespaces are named `vl-<lab>-<vm>`.
        #[arg(long)]
        name: Option<String>,
        /// Run the switch in this process until Ctrl-C, then remove the lab.
        #[arg(long)]
        foreground: bool,
        /// Record every NIC's frames to DIR/<nic>.pcap.
        #[arg(long, value_name = "DIR")]
        pcap_dir: Option<PathBuf>,
    },
    /// Run a command inside a VM of a running lab; its exit code is passed through.
    Exec {
        lab: String,
        vm: String,
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// A running lab's VMs, addresses and switch counters.
    Status {
        lab: String,
        #[arg(short, long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Record what a NIC (or a VM's primary NIC) sees, as pcap.
    Capture {
        lab: String,
        nic: String,
        #[arg(short = 'w', value_name = "FILE")]
        write: PathBuf,
        /// Stop after N frames.
        #[arg(short = 'c', long)]
        count: Option<usize>,
        /// Stop after S seconds.
        #[arg(long)]
        seconds: Option<u64>,
    },
    /// Remove a lab: its switch, namespaces and devices (also after a crash).
    Down { lab: String },
    /// Convert a topology (an ARM template with its --parameters, an export) to the YAML lab file.
    Import {
        file: PathBuf,
        /// Write the lab file here instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// The built-in home lab: on-premises, S2S VPN, a hub, peered spokes and an IDS appliance.
    Demo {
        /// Write the demo topology to FILE (YAML) instead of analysing it.
        #[arg(long, value_name = "FILE")]
        write: Option<PathBuf>,
    },
    /// Print the JSON Schema of the YAML lab file.
    Schema,
}

/// A failure already explained to the user on stderr.
struct Failed;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failed) => ExitCode::from(1),
    }
}

fn run(cli: Cli) -> Result<(), Failed> {
    let tags = load_tags(cli.service_tags.as_deref())?;
    let d = cli.deployment;
    let _ = DEPLOYMENT.set(vnetlab_ingest::Options {
        parameters: d.parameters,
        subscription: d.subscription,
        resource_group: d.resource_group,
        location: d.location,
    });
    match cli.command {
        Command::Validate { file } => {
            let loaded = load(&file, &tags)?;
            let t = &loaded.topology;
            outln!(
                "{}: valid ({} VNets, {} subnets, {} peerings, {} NICs, {} VMs, {} route tables, {} NSGs, {} gateways)",
                file.display(), t.vnets.len(), t.subnets.len(), t.peerings.len(), t.nics.len(), t.vms.len(), t.route_tables.len(), t.nsgs.len(), t.gateways.len()
            );
            Ok(())
        }
        Command::Routes { file, nic, output } => {
            let loaded = load(&file, &tags)?;
            let a = Analysis::new(&loaded.topology, &tags);
            let nic = effective_routes::find_nic(a.topology, &nic).map_err(report)?;
            let routes = effective_routes::for_nic(&a, nic);
            match output {
                Output::Json => print_json(&effective_routes::to_json(&routes)),
                Output::Table => out!("{}", effective_routes::to_table(&routes)),
            }
            Ok(())
        }
        Command::NextHop {
            file,
            vm,
            source_ip,
            dest_ip,
            output,
        } => {
            let loaded = load(&file, &tags)?;
            let a = Analysis::new(&loaded.topology, &tags);
            let vm = next_hop::find_vm(&a, &vm).map_err(report)?;
            let (_, subnet) = next_hop::source_nic(&a, vm, source_ip).map_err(report)?;
            let (hop, reason) = next_hop::next_hop(&a, subnet, dest_ip);
            match output {
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
        }
        Command::Nsg { file, nic, output } => {
            let loaded = load(&file, &tags)?;
            let a = Analysis::new(&loaded.topology, &tags);
            let nic = effective_routes::find_nic(a.topology, &nic).map_err(report)?;
            match output {
                Output::Json => print_json(&effective_security_rules::to_json(&a, nic)),
                Output::Table => out!("{}", effective_security_rules::to_table(&a, nic)),
            }
            Ok(())
        }
        Command::TestIpFlow {
            file,
            vm,
            direction,
            protocol,
            local,
            remote,
            nic,
            output,
        } => {
            let loaded = load(&file, &tags)?;
            let a = Analysis::new(&loaded.topology, &tags);
            let vm = next_hop::find_vm(&a, &vm).map_err(report)?;
            let nic =
                ip_flow_verify::target_nic(&a, vm, nic.as_deref(), *local.ip()).map_err(report)?;
            let query = ip_flow_verify::Query {
                direction: match direction {
                    FlowDirection::Inbound => Direction::Inbound,
                    FlowDirection::Outbound => Direction::Outbound,
                },
                protocol,
                local: (*local.ip(), local.port()),
                remote: (*remote.ip(), remote.port()),
            };
            let verified = ip_flow_verify::verify(&a, nic, &query).map_err(report)?;
            match output {
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
        }
        Command::Trace {
            file,
            from,
            to,
            probe,
            output,
        } => {
            let loaded = load(&file, &tags)?;
            let a = Analysis::new(&loaded.topology, &tags);
            let from = trace::endpoint_address(&a, &from).map_err(report)?;
            let to = trace::endpoint_address(&a, &to).map_err(report)?;
            let probe = trace::probe(&probe.protocol, probe.port).map_err(report)?;
            let tr = trace::run(&a, from, to, probe);
            match output {
                Output::Json => print_json(&trace::to_json(a.topology, &tr)),
                Output::Table => out!("{}", trace::to_table(a.topology, &tr)),
            }
            Ok(())
        }
        Command::Reach {
            file,
            probe,
            output,
        } => {
            let loaded = load(&file, &tags)?;
            let a = Analysis::new(&loaded.topology, &tags);
            let probe = trace::probe(&probe.protocol, probe.port).map_err(report)?;
            let m = reach::matrix(&a, probe);
            match output {
                Output::Json => print_json(&reach::to_json(&m, probe)),
                Output::Table => out!("{}", reach::to_table(&m)),
            }
            Ok(())
        }
        Command::Check {
            file,
            intents,
            output,
        } => {
            let loaded = load(&file, &tags)?;
            let a = Analysis::new(&loaded.topology, &tags);
            let text = std::fs::read_to_string(&intents).map_err(|e| {
                eprintln!("error: cannot read {}: {e}", intents.display());
                Failed
            })?;
            let list = vnetlab_ingest::intents::parse(&text, &intents.display().to_string())
                .map_err(|d| {
                    eprintln!("{d}");
                    Failed
                })?;
            let results = list
                .iter()
                .enumerate()
                .map(|(i, intent)| intents::check(&a, intent, i))
                .collect::<Result<Vec<_>, _>>()
                .map_err(report)?;
            match output {
                Output::Json => print_json(&results),
                Output::Table => out!("{}", intents::to_text(&results)),
            }
            if results.iter().all(|r| r.passed) {
                Ok(())
            } else {
                Err(Failed)
            }
        }
        Command::Diff {
            old,
            new,
            protocol,
            port,
            output,
        } => {
            let (before, after) = (load(&old, &tags)?, load(&new, &tags)?);
            let (a, b) = (
                Analysis::new(&before.topology, &tags),
                Analysis::new(&after.topology, &tags),
            );
            let probes = match protocol {
                Some(p) => vec![trace::probe(&p, port).map_err(report)?],
                None => diff::DEFAULT_PROBES
                    .iter()
                    .map(|(protocol, port)| vnetlab_engine::trace::Probe {
                        protocol: *protocol,
                        port: *port,
                    })
                    .collect(),
            };
            let changes = diff::diff(&a, &b, &probes);
            match output {
                Output::Json => print_json(&changes),
                Output::Table => out!("{}", diff::to_text(&changes)),
            }
            Ok(())
        }
        Command::Up {
            file,
            name,
            foreground,
            pcap_dir,
        } => {
            let loaded = load(&file, &tags)?;
            lab::up(
                &file,
                &loaded.topology,
                &tags,
                name.as_deref(),
                foreground,
                pcap_dir,
            )
        }
        Command::Exec {
            lab: name,
            vm,
            command,
        } => lab::exec(&name, &vm, &command),
        Command::Status { lab: name, output } => lab::status(&name, matches!(output, Output::Json)),
        Command::Capture {
            lab: name,
            nic,
            write,
            count,
            seconds,
        } => lab::capture(&name, &nic, &write, count, seconds),
        Command::Down { lab: name } => lab::down(&name),
        Command::Import { file, output } => {
            let loaded = load(&file, &tags)?;
            let yaml = vnetlab_ingest::lab_file::export::to_yaml(&loaded.topology);
            match output {
                Some(path) => {
                    std::fs::write(&path, yaml).map_err(|e| {
                        eprintln!("error: cannot write {}: {e}", path.display());
                        Failed
                    })?;
                    outln!(
                        "wrote {} ({} VNets, {} VMs) from {}",
                        path.display(),
                        loaded.topology.vnets.len(),
                        loaded.topology.vms.len(),
                        file.display()
                    );
                }
                None => out!("{yaml}"),
            }
            Ok(())
        }
        Command::Demo { write: Some(path) } => demo::write(&path),
        Command::Demo { write: None } => demo::run(&tags),
        Command::Schema => {
            print_json(&vnetlab_ingest::lab_file::json_schema());
            Ok(())
        }
    }
}

fn print_json<T: serde::Serialize>(value: &T) {
    outln!(
        "{}",
        serde_json::to_string_pretty(value).expect("serialising plain data cannot fail")
    );
}

fn emit(args: std::fmt::Arguments) {
    use std::io::Write;
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write the output: {e}");
        std::process::exit(1);
    }
}

fn report(e: QueryError) -> Failed {
    eprintln!("{e}");
    Failed
}

fn load_tags(path: Option<&Path>) -> Result<Cow<'static, ServiceTags>, Failed> {
    let Some(path) = path else {
        return Ok(Cow::Borrowed(ServiceTags::bundled()));
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        eprintln!(
            "error: cannot read service-tag file {}: {e}",
            path.display()
        );
        Failed
    })?;
    ServiceTags::from_json(&text).map(Cow::Owned).map_err(|e| {
        eprintln!("error: {}: {e}\n  hint: download ServiceTags_Public_*.json from Microsoft's download center", path.display());
        Failed
    })
}

fn load(file: &Path, tags: &ServiceTags) -> Result<Loaded, Failed> {
    match vnetlab_ingest::load_path_with(file, tags, DEPLOYMENT.get_or_init(Default::default)) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                eprintln!("{w}");
            }
            Ok(loaded)
        }
        Err(diags) => {
            let errors = diags.iter().filter(|d| d.is_error()).count();
            for d in &diags {
                eprintln!("{d}");
            }
            eprintln!(
                "{}: {errors} error{} found",
                file.display(),
                if errors == 1 { "" } else { "s" }
            );
            Err(Failed)
        }
    }
}
