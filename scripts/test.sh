#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test
# (unit, BPF program, namespace network, HTTP, browser) through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
scripts/build.sh
build_dir=${BWALLOC_BUILD_DIR:-build}
# Network tests declare RUN_SERIAL; everything else runs two at a time.
ctest --test-dir "$build_dir" --output-on-failure -j2 "$@"
