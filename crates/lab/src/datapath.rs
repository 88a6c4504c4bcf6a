//! The switch's I/O (Live lab issue, "The switch"): one data-plane thread polls every TAP,
//! hands each frame to the pure core ([`Switch::handle`], docs/semantics/dataplane.md §4) with
//! the time, and writes what it returns. Frames keep their virtio-net header, so TCP
//! segmentation and checksum offload cross the switch untouched; the read buffer is reused, so
//! forwarding allocates nothing.

use crate::capture::Recorder;
use crate::switch::{Counters, Output, Switch};
use crate::tap::{Tap, VNET_HDR_LEN};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Frames read from one port before the next gets its turn, so no port starves the others.
const BATCH: usize = 64;

/// Moves frames between `taps` (port `i` is `taps[i]`) through `switch` until `stop` is set.
/// Every frame read or written is shown to `recorder`.
pub fn run(
    switch: &mut Switch,
    taps: &[Tap],
    counters: &Counters,
    recorder: &Recorder,
    stop: &AtomicBool,
) {
    let started = Instant::now();
    let mut fds: Vec<libc::pollfd> = taps
        .iter()
        .map(|tap| libc::pollfd {
            fd: tap.as_fd().as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // A virtio-net header, then a frame of up to 64 KiB (segmentation offload).
    let mut buf = vec![0u8; VNET_HDR_LEN + 65550];
    // The host's answers, behind an empty virtio-net header (complete checksums).
    let mut reply = Vec::new();
    let send = |port: usize, with_header: &[u8]| {
        recorder.record(port, &with_header[VNET_HDR_LEN..]);
        if taps[port].write(with_header).is_ok() {
            counters.frames_out.fetch_add(1, Ordering::Relaxed);
        }
    };
    let mut last_expiry = 0;
    while !stop.load(Ordering::Relaxed) {
        // SAFETY: `fds` is a valid array of pollfd for the call's duration.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 200) };
        if ready <= 0 {
            continue;
        }
        let now = started.elapsed().as_secs();
        for (i, fd) in fds.iter().enumerate() {
            if fd.revents & libc::POLLIN == 0 {
                continue;
            }
            for _ in 0..BATCH {
                let Ok(n) = taps[i].read(&mut buf) else {
                    break;
                };
                if n > VNET_HDR_LEN {
                    recorder.record(i, &buf[VNET_HDR_LEN..n]);
                }
                match switch.handle(i, &mut buf[..n], now) {
                    Output::Forward(egress) => send(egress, &buf[..n]),
                    Output::Reply(frame) => {
                        reply.clear();
                        reply.resize(VNET_HDR_LEN, 0);
                        reply.extend_from_slice(&frame);
                        send(i, &reply);
                    }
                    Output::Dropped(_) => {}
                }
            }
        }
        if now > last_expiry {
            switch.expire(now);
            last_expiry = now;
        }
    }
}
