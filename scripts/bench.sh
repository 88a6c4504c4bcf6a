#!/usr/bin/env bash
# Runs the benchmarks in release mode and prints their figures. The Foundation benchmark generates the
# 1,000-VNet hub-and-spoke topology (~75 MiB of REST JSON, under target/bench/, never
# committed), then times parsing, loading, routing and lookups and reports peak memory.
# Extra arguments go to the benchmark: --input FILE, --out FILE, --runs N, --lookups N.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p vnetlab-bench --bins
./target/release/vnetlab-bench "$@"
echo
# The Security benchmark: one NSG of 1,000 rules over AzureCloud, Storage and ASGs.
./target/release/vnetlab-bench-nsg
echo
# The Trace benchmark: traces, reach between 1,000 VMs, and a diff after one NSG rule change.
./target/release/vnetlab-bench-trace
