#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs `bwalloc demo`:
# a virtual LAN in network namespaces with real traffic, the eBPF datapath
# attached, the agent and its dashboard. Ctrl-C removes everything.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh demo
scripts/build.sh
build_dir=${BWALLOC_BUILD_DIR:-build}
exec "$build_dir/agent/cli/bwalloc" demo "$@"
