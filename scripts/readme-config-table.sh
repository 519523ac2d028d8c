#!/usr/bin/env bash
# Prints the README's configuration table from `bwalloc --help`, so the
# documentation is regenerated from the code (tests/unit/config/readme_test
# fails when they drift). Usage: scripts/readme-config-table.sh [BWALLOC]
set -euo pipefail
binary=${1:-build/agent/cli/bwalloc}
echo "| key | default | what it does | changeable at run time |"
echo "|---|---|---|---|"
"$binary" --help | awk '
  /^settings/ { on = 1; next }
  on && /^  [a-z_]+\.[a-z_]+ = / {
    line = $0; sub(/^  /, "", line)
    key = line; sub(/ = .*/, "", key)
    value = line; sub(/^[^=]* = /, "", value)
    getline desc; sub(/^ +/, "", desc)
    runtime = ""
    if (desc ~ / \[runtime\]$/) { runtime = "yes"; sub(/ \[runtime\]$/, "", desc) }
    gsub(/\|/, "\\|", desc)
    printf "| `%s` | `%s` | %s | %s |\n", key, value, desc, runtime
  }'
