//! `vnetlab-gen-topology [OUT.json]`: writes the Foundation benchmark's hub-and-spoke topology
//! (1,000 VNets, 10,000 subnets, 50,000 NICs and VMs, 200 × 400 routes, 4,000 gateway prefixes)
//! as a REST JSON array to OUT.json, or to standard output when no path (or `-`) is given.

use std::process::ExitCode;
use vnetlab_bench::generate::{write, Plan};

fn main() -> ExitCode {
    let out = std::env::args().nth(1).filter(|a| a != "-");
    if out.as_deref().is_some_and(|a| a.starts_with("--")) {
        eprintln!(
            "usage: vnetlab-gen-topology [OUT.json]   (standard output when OUT is absent or -)"
        );
        return ExitCode::from(2);
    }
    let result = match &out {
        Some(path) => std::fs::File::create(path).and_then(|f| write(Plan::FOUNDATION, f)),
        None => write(Plan::FOUNDATION, std::io::stdout().lock()),
    };
    match result {
        Ok(()) => {
            if let Some(path) = out {
                let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                eprintln!("wrote {path} ({size} bytes)");
            }
            ExitCode::SUCCESS
        }
        // A reader that stops early (`| head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vnetlab-gen-topology: {e}");
            ExitCode::FAILURE
        }
    }
}
