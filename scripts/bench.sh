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
# The Live lab benchmark's peers need iperf3 and nftables (kernel path) and Open vSwitch's
# userspace datapath; root installs them. The benchmark runs its own ovsdb-server and
# ovs-vswitchd; the package's service is not started or, if it was, stopped.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    need=""
    command -v iperf3 >/dev/null || need="$need iperf3"
    command -v nft >/dev/null || need="$need nftables"
    command -v ovs-vswitchd >/dev/null || need="$need openvswitch-switch"
    if [ -n "$need" ]; then
        # shellcheck disable=SC2086
        apt-get install -y --no-install-recommends $need >/dev/null ||
            { apt-get update -q >/dev/null && apt-get install -y --no-install-recommends $need >/dev/null; }
    fi
    if service openvswitch-switch status >/dev/null 2>&1; then service openvswitch-switch stop; fi
fi
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
# and ping between two VMs in peered VNets through the vnetlab switch, through the kernel
# (veth, bridge, nftables) and through Open vSwitch's userspace datapath (TAPs, OpenFlow, ct()),
# and `vnetlab up` of 50 VMs. `--profile` adds a perf profile of the switch under iperf3 (run
# with BENCH_PROFILE=profiling to see symbols).
"$bin/vnetlab-bench-lab"
