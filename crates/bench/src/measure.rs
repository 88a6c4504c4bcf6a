//! Measuring helpers: wall-clock timing with medians, the process's memory from
//! /proc/self/status (VmRSS, VmHWM) with a peak reset through /proc/self/clear_refs, the bytes
//! live on the heap (glibc `mallinfo2`), and a fixed-seed pseudo-random generator for
//! reproducible lookup workloads.

use std::time::{Duration, Instant};

/// Runs `f` once and returns its result with the time it took.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

/// The median of the runs' durations (the middle one of an odd count).
pub fn median(mut runs: Vec<Duration>) -> Duration {
    assert!(!runs.is_empty(), "no runs");
    runs.sort_unstable();
    runs[runs.len() / 2]
}

/// Runs `f` `n` times, dropping each result outside the timed region; returns the median.
pub fn median_of<T>(n: usize, mut f: impl FnMut() -> T) -> Duration {
    median(
        (0..n)
            .map(|_| {
                let (out, d) = timed(&mut f);
                drop(std::hint::black_box(out));
                d
            })
            .collect(),
    )
}

/// A /proc/self/status field in bytes (`VmRSS`, `VmHWM`), if the kernel reports it.
pub fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status
        .lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))?;
    let kib: u64 = line[field.len() + 1..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Resets the peak resident set size (VmHWM) to the current one (Linux ≥ 4.0). Returns whether
/// the kernel accepted it.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Bytes currently allocated on the heap (glibc's `mallinfo2`: arena and mmapped blocks in use).
/// Unlike RSS it falls when memory is freed, so differences measure what a value holds.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn live_heap() -> Option<u64> {
    // SAFETY: mallinfo2 only reads the allocator's statistics.
    let info = unsafe { libc::mallinfo2() };
    Some((info.uordblks + info.hblkhd) as u64)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn live_heap() -> Option<u64> {
    None
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// SplitMix64 with a fixed seed: the same workload on every run.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform enough in `0..n` for workloads (n ≪ 2^64).
    pub fn below(&mut self, n: u32) -> u32 {
        (self.next_u64() % u64::from(n)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_takes_the_middle_run() {
        let d = |n| Duration::from_millis(n);
        assert_eq!(median(vec![d(3), d(1), d(2)]), d(2));
    }

    #[test]
    fn the_process_reports_its_memory() {
        assert!(status_bytes("VmRSS").is_some_and(|b| b > 0));
        // Other tests allocate and free concurrently, so only the absolute figure is checked.
        let block = std::hint::black_box(vec![1u8; 1 << 24]);
        assert!(live_heap().is_none_or(|live| live >= 1 << 24));
        drop(block);
    }
}
