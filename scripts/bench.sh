#!/usr/bin/env bash
# Runs the Foundation benchmark in release mode and prints its figures: generates the
# 1,000-VNet hub-and-spoke topology (~75 MiB of REST JSON, under target/bench/, never
# committed), then times parsing, loading, routing and lookups and reports peak memory.
# Extra arguments go to the benchmark: --input FILE, --out FILE, --runs N, --lookups N.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p vnetlab-bench --bins
exec ./target/release/vnetlab-bench "$@"
