#!/usr/bin/env bash
# Runs every vnetlab test. This is the test command of README.md, and what .ci/run calls.
# It needs only Rust and a C compiler; later live-lab tests install their Debian packages here.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --workspace --all-targets --locked
cargo test --workspace --locked
