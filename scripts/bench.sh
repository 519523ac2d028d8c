#!/usr/bin/env bash
# Runs the benchmarks that exist so far and writes their tables (Markdown and
# JSON) under bench/results/. Figures are ratios or medians from one run on
# this machine; they are reported, never asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
scripts/build.sh
build_dir=${BWALLOC_BUILD_DIR:-build}
mkdir -p bench/results
echo "== datapath cost (BPF_PROG_TEST_RUN, vs a minimal parse-and-count program)"
"$build_dir/bench/datapath_cost" bench/results
echo
echo "== agent cost (one tick: batch read, sampler + allocator, SQLite write)"
"$build_dir/bench/agent_tick_cost" bench/results
