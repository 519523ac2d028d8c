#!/usr/bin/env bash
# Long fuzzing runs: each harness in fuzz/ for an hour by default (the test
# command runs them for 20 s). The corpus grows in build/fuzz/fuzz-corpus/
# and is kept between runs; crashes land in build/fuzz/fuzz-artifacts/.
#   bench/fuzz_long.sh [SECONDS_PER_HARNESS] [config|http|bpf]...
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-3600}
shift || true
scripts/fuzz.sh --build-dir "${BWALLOC_FUZZ_BUILD_DIR:-build/fuzz}" --time "$seconds" "$@"
