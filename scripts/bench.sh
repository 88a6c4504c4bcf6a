#!/usr/bin/env bash
# Runs the benchmarks in release mode and prints their figures. The Foundation benchmark generates the
# 1,000-VNet hub-and-spoke topology (~75 MiB of REST JSON, under target/bench/, never
# committed), then times parsing, loading, routing and lookups and reports peak memory.
# Extra arguments go to the benchmark: --input FILE, --out FILE, --runs N, --lookups N.
# BENCH_PROFILE=profiling builds with line tables and symbols (Cargo.toml [profile.profiling]),
# for perf; the default is the shipped release profile (stripped).
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${BENCH_PROFILE:-release}"
bin="${CARGO_TARGET_DIR:-target}/$profile"
cargo build --profile "$profile" -p vnetlab-bench --bins
# The Live lab benchmark runs the `vnetlab` binary of the same profile, next to its own.
cargo build --profile "$profile" -p vnetlab-cli
"$bin/vnetlab-bench" "$@"
echo
# The Security benchmark: one NSG of 1,000 rules over AzureCloud, Storage and ASGs.
"$bin/vnetlab-bench-nsg"
echo
# The Trace benchmark: traces, reach between 1,000 VMs, and a diff after one NSG rule change.
"$bin/vnetlab-bench-trace"
echo
# The Live lab benchmark (needs root, iperf3, ping, nft, iproute2; skipped without them): iperf3
# and ping between two VMs in peered VNets through the vnetlab switch and through the kernel
# (veth, bridge, nftables), and `vnetlab up` of 50 VMs. `--profile` adds a perf profile of the
# switch under iperf3 (run with BENCH_PROFILE=profiling to see symbols).
"$bin/vnetlab-bench-lab"
