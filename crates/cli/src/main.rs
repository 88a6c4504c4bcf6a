//! The `vnetlab` command: argument parsing and output. Every answer comes from the analysis
//! crate; this file parses the arguments and routes each command to its module (`query`,
//! `files`, `lab`, `demo`), with the service tags and deployment options as one value.

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
mod files;
mod inputs;
mod lab;
mod query;

use clap::{Parser, Subcommand, ValueEnum};
use inputs::Inputs;
use std::path::PathBuf;
use std::process::ExitCode;
use vnetlab_analysis::QueryError;

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

#[derive(Clone, Copy, ValueEnum)]
enum Output {
    Table,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Check a topology; exit 0 when Azure would accept it, otherwise list every problem and exit 1.
    Validate { file: PathBuf },
    /// The effective routes of a NIC, like `az network nic show-effective-route-table`.
    Routes(query::NicArgs),
    /// The next hop of a packet, like `az network watcher show-next-hop`.
    NextHop(query::NextHopArgs),
    /// The effective security rules of a NIC, like `az network nic list-effective-nsg`.
    Nsg(query::NicArgs),
    /// Whether the NSGs allow a packet, like `az network watcher test-ip-flow`.
    TestIpFlow(query::TestIpFlowArgs),
    /// The path of a packet hop by hop, with the rule or route that decides each step.
    Trace(query::TraceArgs),
    /// The reachability matrix between every VM, on-premises site and the Internet.
    Reach(query::ReachArgs),
    /// Check reachability intents (for CI): prints each violation with its trace, exits 1 on any.
    Check(query::CheckArgs),
    /// The flows whose verdict changes between two versions of a topology.
    Diff(query::DiffArgs),
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
        /// Record every NIC's frames to `DIR/<nic>.pcap`.
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
    let d = cli.deployment;
    let inputs = Inputs::new(
        cli.service_tags.as_deref(),
        vnetlab_ingest::Options {
            parameters: d.parameters,
            subscription: d.subscription,
            resource_group: d.resource_group,
            location: d.location,
        },
    )?;
    match cli.command {
        Command::Validate { file } => files::validate(&inputs, &file),
        Command::Routes(args) => query::routes(&inputs, args),
        Command::NextHop(args) => query::next_hop(&inputs, args),
        Command::Nsg(args) => query::nsg(&inputs, args),
        Command::TestIpFlow(args) => query::test_ip_flow(&inputs, args),
        Command::Trace(args) => query::trace(&inputs, args),
        Command::Reach(args) => query::reach(&inputs, args),
        Command::Check(args) => query::check(&inputs, args),
        Command::Diff(args) => query::diff(&inputs, args),
        Command::Up {
            file,
            name,
            foreground,
            pcap_dir,
        } => {
            let loaded = inputs.load(&file)?;
            lab::up(
                &file,
                &loaded.topology,
                &inputs.tags,
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
        Command::Import { file, output } => files::import(&inputs, &file, output.as_deref()),
        Command::Demo { write: Some(path) } => demo::write(&path),
        Command::Demo { write: None } => demo::run(&inputs),
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
