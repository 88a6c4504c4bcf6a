//! Recording what a NIC sees (Live lab issue, "capture"): every frame the switch reads from a
//! port or writes to it, as pcap (Wireshark and `tcpdump -r` open it). `up --pcap-dir` writes
//! one file per NIC; `vnetlab capture` subscribes to one port while the lab runs.

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;
use std::fs::File;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

enum Sink {
    File(PcapWriter<File>),
    /// A `vnetlab capture` client: pcap records (header and frame), no file header.
    Stream(UnixStream),
}

pub struct Recorder {
    active: Vec<AtomicBool>,
    sinks: Vec<Mutex<Vec<Sink>>>,
}

/// A pcap file header for Ethernet frames.
pub fn header() -> PcapHeader {
    PcapHeader {
        datalink: DataLink::ETHERNET,
        ..Default::default()
    }
}

/// A pcap record: 16-byte header (microsecond timestamps) then the frame.
pub fn record_bytes(at: Duration, frame: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + frame.len());
    out.extend_from_slice(&(at.as_secs() as u32).to_le_bytes());
    out.extend_from_slice(&at.subsec_micros().to_le_bytes());
    out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    out.extend_from_slice(frame);
    out
}

impl Recorder {
    pub fn new(ports: usize) -> Recorder {
        Recorder {
            active: (0..ports).map(|_| AtomicBool::new(false)).collect(),
            sinks: (0..ports).map(|_| Mutex::new(Vec::new())).collect(),
        }
    }

    /// Writes every frame of a port to a pcap file.
    pub fn to_file(&self, port: usize, path: &Path) -> std::io::Result<()> {
        let writer = PcapWriter::with_header(File::create(path)?, header())
            .map_err(std::io::Error::other)?;
        self.add(port, Sink::File(writer));
        Ok(())
    }

    /// Streams a port's frames to a client until it hangs up.
    pub fn to_stream(&self, port: usize, stream: UnixStream) {
        self.add(port, Sink::Stream(stream));
    }

    fn add(&self, port: usize, sink: Sink) {
        self.sinks[port]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(sink);
        self.active[port].store(true, Ordering::Relaxed);
    }

    pub fn record(&self, port: usize, frame: &[u8]) {
        if !self.active[port].load(Ordering::Relaxed) {
            return;
        }
        let at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let mut sinks = self.sinks[port].lock().unwrap_or_else(|e| e.into_inner());
        sinks.retain_mut(|sink| match sink {
            Sink::File(w) => w
                .write_packet(&PcapPacket::new(at, frame.len() as u32, frame))
                .is_ok(),
            Sink::Stream(s) => s.write_all(&record_bytes(at, frame)).is_ok(),
        });
        self.active[port].store(!sinks.is_empty(), Ordering::Relaxed);
    }
}
