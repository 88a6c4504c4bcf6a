#!/usr/bin/env bash
# Runs every vnetlab check and test. This is the test command of README.md, and what .ci/run
# calls: cargo fmt --check, clippy and rustdoc with warnings denied, then the tests.
# The live-lab tests run real tools inside network namespaces: as root, this installs the
# Debian packages they need when one is missing (busybox's udhcpc, ping, traceroute, tcpdump,
# iperf3, nc). Without root or /dev/net/tun the live-lab tests say why and are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for tool in udhcpc:udhcpc ping:iputils-ping traceroute:traceroute tcpdump:tcpdump iperf3:iperf3 nc:netcat-openbsd busybox:busybox; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool#*:}")
done
if [ "${#need[@]}" -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing for the live-lab tests: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Hygiene first: formatting, lints and rustdoc, each with warnings denied.
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
RUSTDOCFLAGS=-Dwarnings cargo doc --no-deps --workspace --locked
cargo build --workspace --all-targets --locked
cargo test --workspace --locked
