//! The live lab's commands (`up`, `exec`, `status`, `capture`, `down`): argument handling and
//! output; the lab itself is the `vnetlab-lab` crate.

use crate::Failed;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vnetlab_lab::control;
use vnetlab_lab::lab::{self as live, State, UpOptions};
use vnetlab_lab::naming::{LabName, STATE_ROOT};
use vnetlab_model::service_tags::ServiceTags;
use vnetlab_model::Topology;

fn fail(message: impl std::fmt::Display) -> Failed {
    eprintln!("error: {message}");
    Failed
}

fn lab_name(name: &str) -> Result<LabName, Failed> {
    LabName::parse(name).map_err(fail)
}

fn log_file(lab: &LabName) -> PathBuf {
    Path::new(STATE_ROOT).join(format!("{}.log", lab.as_str()))
}

fn print_ready(state: &State, took: Duration) {
    outln!(
        "lab '{}' is up in {:.1} s: {} VMs with their leases",
        state.lab,
        took.as_secs_f64(),
        state.vms.len()
    );
    for vm in &state.vms {
        for nic in &vm.nics {
            outln!(
                "  {:<20} {:<6} {}  {}{}",
                vm.name,
                nic.device,
                nic.mac,
                nic.private_ip,
                if nic.ip_forwarding {
                    "  (IP forwarding)"
                } else {
                    ""
                }
            );
        }
    }
    outln!(
        "run commands with `vnetlab exec {} VM -- CMD`; remove it with `vnetlab down {}`",
        state.lab,
        state.lab
    );
}

pub fn up(
    file: &Path,
    t: &Topology,
    tags: &ServiceTags,
    name: Option<&str>,
    foreground: bool,
    pcap_dir: Option<PathBuf>,
) -> Result<(), Failed> {
    let lab = match name {
        Some(n) => lab_name(n)?,
        None => LabName::from_file_stem(&file.file_stem().unwrap_or_default().to_string_lossy()),
    };
    if foreground {
        let opts = UpOptions {
            lab,
            file: file.display().to_string(),
            pcap_dir,
        };
        return live::run(t, tags, &opts, print_ready).map_err(fail);
    }
    // The switch goes on in a process of its own; this one waits for its leases.
    std::fs::create_dir_all(STATE_ROOT)
        .map_err(|e| fail(format!("cannot create {STATE_ROOT}: {e}")))?;
    let log = std::fs::File::create(log_file(&lab))
        .map_err(|e| fail(format!("cannot write {}: {e}", log_file(&lab).display())))?;
    let exe = std::env::current_exe().map_err(fail)?;
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    args.extend(["--foreground".into(), "--name".into(), lab.as_str().into()]);
    if name.is_some() {
        // --name was given already; the one just added repeats it.
        args.truncate(args.len() - 2);
    }
    let mut child = {
        use std::os::unix::process::CommandExt;
        Command::new(exe)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(fail)?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .map_err(fail)?
    };
    let started = Instant::now();
    let ready = lab.state_dir().join("ready");
    loop {
        if ready.exists() {
            let state = live::read_state(&lab)
                .ok_or_else(|| fail("the lab started but its state file is missing"))?;
            print_ready(&state, started.elapsed());
            return Ok(());
        }
        if let Ok(Some(_)) = child.try_wait() {
            let text = std::fs::read_to_string(log_file(&lab)).unwrap_or_default();
            eprint!("{text}");
            return Err(fail(format!("lab '{}' did not come up", lab.as_str())));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn exec(lab: &str, vm: &str, command: &[String]) -> Result<(), Failed> {
    let ns = live::vm_namespace(&lab_name(lab)?, vm).map_err(fail)?;
    let status = vnetlab_lab::netns::exec(&ns, &command[0])
        .args(&command[1..])
        .status()
        .map_err(|e| fail(format!("cannot run {}: {e}", command[0])))?;
    // The command's exit code is the answer (a signal counts as 128 + its number).
    use std::os::unix::process::ExitStatusExt;
    std::process::exit(
        status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)),
    );
}

pub fn status(lab: &str, json: bool) -> Result<(), Failed> {
    let lab = lab_name(lab)?;
    let state =
        live::read_state(&lab).ok_or_else(|| fail(format!("lab '{}' is not up", lab.as_str())))?;
    if !live::alive(state.pid) {
        return Err(fail(format!(
            "lab '{}' is down: its switch (process {}) is gone; run `vnetlab down {}` to clean up",
            lab.as_str(),
            state.pid,
            lab.as_str()
        )));
    }
    let answer = control::status(&lab.state_dir()).map_err(fail)?;
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&answer).expect("serialisable")
        );
        return Ok(());
    }
    outln!(
        "lab '{}' from {} (switch process {})",
        state.lab,
        state.file,
        state.pid
    );
    for vm in &state.vms {
        for nic in &vm.nics {
            outln!(
                "  {:<20} {:<22} {:<6} {}  {}",
                vm.name,
                vm.namespace,
                nic.device,
                nic.mac,
                nic.private_ip
            );
        }
    }
    if let Some(counters) = answer["counters"].as_object() {
        outln!("switch:");
        for (k, v) in counters {
            outln!("  {k:<26} {v}");
        }
    }
    Ok(())
}

pub fn capture(
    lab: &str,
    nic: &str,
    path: &Path,
    count: Option<usize>,
    seconds: Option<u64>,
) -> Result<(), Failed> {
    let lab = lab_name(lab)?;
    let n = control::capture(&lab.state_dir(), nic, path, count, seconds).map_err(fail)?;
    outln!("{n} frames written to {}", path.display());
    Ok(())
}

pub fn down(lab: &str) -> Result<(), Failed> {
    let lab = lab_name(lab)?;
    let removed = live::down(&lab);
    let _ = std::fs::remove_file(log_file(&lab));
    if removed.is_empty() {
        outln!("lab '{}' had nothing left to remove", lab.as_str());
    } else {
        outln!("lab '{}' removed: {}", lab.as_str(), removed.join(", "));
    }
    Ok(())
}
