#!/usr/bin/env bash
# Runs the benchmarks in release mode and prints their figures. The Foundation benchmark generates the
# 1,000-VNet hub-and-spoke topology (~75 MiB of REST JSON, under target/bench/, never
# committed), then times parsing, loading, routing and lookups and reports peak memory.
# Extra arguments go to the benchmark: --input FILE, --out FILE, --runs N, --lookups N.
set -euo pipefail
cd "$(dirname "$0")/.."
# The Live lab benchmark's third peer, Open vSwitch's userspace datapath, when root can install it.
# The benchmark runs its own ovsdb-server and ovs-vswitchd; the package's service is not started
# (policy-rc.d) or, if it was, stopped.
if [ "$(id -u)" = 0 ] && ! command -v ovs-vswitchd >/dev/null && command -v apt-get >/dev/null; then
    apt-get install -y --no-install-recommends openvswitch-switch >/dev/null ||
        { apt-get update -q >/dev/null && apt-get install -y --no-install-recommends openvswitch-switch >/dev/null; }
    if service openvswitch-switch status >/dev/null 2>&1; then service openvswitch-switch stop; fi
fi
cargo build --release -p vnetlab-bench --bins
# The Live lab benchmark runs the release `vnetlab` binary, next to its own.
cargo build --release -p vnetlab-cli
./target/release/vnetlab-bench "$@"
echo
# The Security benchmark: one NSG of 1,000 rules over AzureCloud, Storage and ASGs.
./target/release/vnetlab-bench-nsg
echo
# The Trace benchmark: traces, reach between 1,000 VMs, and a diff after one NSG rule change.
./target/release/vnetlab-bench-trace
echo
# The Live lab benchmark (needs root, iperf3, ping, nft, iproute2; skipped without them): iperf3
# and ping between two VMs in peered VNets through the vnetlab switch, through the kernel
# (veth, bridge, nftables) and through Open vSwitch's userspace datapath (TAPs, OpenFlow, ct()), and `vnetlab up` of 50 VMs. `--profile` adds a perf profile of the
# switch under iperf3.
./target/release/vnetlab-bench-lab
