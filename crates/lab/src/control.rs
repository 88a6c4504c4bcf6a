//! The running lab's control socket (`/run/vnetlab/<lab>/control.sock`): `status` asks the
//! switch for its counters, `capture NIC` streams what a NIC sees as pcap records.

use crate::capture::Recorder;
use crate::error::LabError;
use crate::lab::State;
use crate::switch::Counters;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub fn socket_path(dir: &Path) -> PathBuf {
    dir.join("control.sock")
}

pub fn bind(dir: &Path) -> Result<UnixListener, LabError> {
    let path = socket_path(dir);
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).map_err(|source| LabError::File {
        action: "listen on",
        path,
        source,
    })?;
    listener.set_nonblocking(true).map_err(LabError::Socket)?;
    Ok(listener)
}

/// Answers clients until `stop` is set.
pub fn serve(
    listener: UnixListener,
    stop: &AtomicBool,
    counters: &Counters,
    recorder: &Recorder,
    names: &[(String, usize)],
    state: &State,
) {
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                let _ = answer(stream, counters, recorder, names, state);
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

fn answer(
    stream: UnixStream,
    counters: &Counters,
    recorder: &Recorder,
    names: &[(String, usize)],
    state: &State,
) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line)?;
    let mut words = line.split_whitespace();
    let mut out = &stream;
    match (words.next(), words.next()) {
        (Some("status"), _) => {
            let counters: serde_json::Map<String, serde_json::Value> = counters
                .snapshot()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.into()))
                .collect();
            writeln!(
                out,
                "{}",
                serde_json::json!({ "state": state, "counters": counters })
            )
        }
        (Some("capture"), Some(name)) => {
            // A VM's name stands for its primary NIC.
            let nic = state
                .vms
                .iter()
                .find(|v| v.name == name)
                .and_then(|v| v.nics.first())
                .map_or(name, |n| n.name.as_str());
            match names.iter().find(|(n, _)| n == nic) {
                Some((_, port)) => {
                    writeln!(out, "ok")?;
                    recorder.to_stream(*port, stream.try_clone()?);
                    Ok(())
                }
                None => writeln!(out, "error: the lab has no NIC or VM '{name}'"),
            }
        }
        _ => writeln!(out, "error: unknown request"),
    }
}

/// Sends one request to a running lab; returns the connection after the request line.
pub fn request(dir: &Path, line: &str) -> Result<UnixStream, LabError> {
    let path = socket_path(dir);
    let mut stream =
        UnixStream::connect(&path).map_err(|source| LabError::Unreachable { path, source })?;
    writeln!(stream, "{line}").map_err(LabError::Socket)?;
    Ok(stream)
}

/// A running lab's state and switch counters (`vnetlab status`).
pub fn status(dir: &Path) -> Result<serde_json::Value, LabError> {
    let stream = request(dir, "status")?;
    let mut line = String::new();
    BufReader::new(&stream)
        .read_line(&mut line)
        .map_err(LabError::Socket)?;
    serde_json::from_str(&line).map_err(LabError::Unreadable)
}

/// `vnetlab capture`: writes what a NIC sees to a pcap file until `count` frames or `seconds`
/// have passed (or the process is interrupted: every record is written whole). Returns how
/// many frames it wrote.
pub fn capture(
    dir: &Path,
    nic: &str,
    path: &Path,
    count: Option<usize>,
    seconds: Option<u64>,
) -> Result<usize, LabError> {
    use pcap_file::pcap::{PcapPacket, PcapWriter};
    use std::io::Read;
    let stream = request(dir, &format!("capture {nic}"))?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).map_err(LabError::Socket)?;
    if line.trim() != "ok" {
        return Err(LabError::Refused(
            line.trim().trim_start_matches("error: ").to_string(),
        ));
    }
    let file = std::fs::File::create(path).map_err(|source| LabError::File {
        action: "write",
        path: path.to_path_buf(),
        source,
    })?;
    let mut writer =
        PcapWriter::with_header(file, crate::capture::header()).map_err(LabError::Pcap)?;
    let deadline = seconds.map(|s| std::time::Instant::now() + Duration::from_secs(s));
    let mut written = 0;
    while count.is_none_or(|c| written < c) {
        if let Some(d) = deadline {
            let left = d.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            reader
                .get_ref()
                .set_read_timeout(Some(left))
                .map_err(LabError::Socket)?;
        }
        let mut head = [0u8; 16];
        match reader.read_exact(&mut head) {
            Ok(()) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break
            }
            Err(_) => break,
        }
        let word = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
        let mut frame = vec![0u8; word(8) as usize];
        reader.read_exact(&mut frame).map_err(LabError::Socket)?;
        let at =
            Duration::from_secs(u64::from(word(0))) + Duration::from_micros(u64::from(word(4)));
        writer
            .write_packet(&PcapPacket::new(at, word(12), &frame))
            .map_err(LabError::Pcap)?;
        written += 1;
    }
    Ok(written)
}
