#!/usr/bin/env bash
# /api/devices latency under load: a real agent (simulator backend, so it
# needs no namespaces) with N devices, loaded by wrk over 127.0.0.1. The
# baseline in the same run is /health, the smallest JSON route, so the ratio
# shows what the device list itself costs. Writes api_latency.{md,json}.
# Usage: bench/api_latency.sh BWALLOC_BINARY OUT_DIR [DEVICES...]
set -euo pipefail

binary=$1 out_dir=$2
shift 2
device_counts=("${@:-1000}")
command -v wrk >/dev/null || { echo "api_latency: wrk is not installed (scripts/install-deps.sh bench)" >&2; exit 77; }

work=$(mktemp -d /tmp/bwbench-api.XXXXXX)
agent_pid=
cleanup() {
  if [[ -n $agent_pid ]]; then kill "$agent_pid" 2>/dev/null || true; wait "$agent_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# wrk's "--latency" block, as "p50 p99" in milliseconds.
percentiles_ms() {
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
    /^Requests\/sec/ { rps = $2 }
    END { printf "%.3f %.3f %.0f\n", p50, p99, rps }' "$1"
}

rows=()
md_rows=()
for devices in "${device_counts[@]}"; do
  port=$((20000 + RANDOM % 20000))
  "$binary" run --set agent.backend='"simulator"' --set agent.simulated_devices="$devices" \
    --set store.path="\"$work/bwalloc.db\"" --set http.port="$port" \
    --set http.token_file="\"$work/token\"" --set datapath.state_dir="\"$work/state\"" \
    > "$work/agent.log" 2>&1 &
  agent_pid=$!
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
    sleep 0.1
  done
  sleep 3  # a few ticks so every simulated device has counters
  for route in /health /api/devices; do
    wrk -t2 -c32 -d10s --latency "http://127.0.0.1:$port$route" > "$work/wrk.txt"
    read -r p50 p99 rps < <(percentiles_ms "$work/wrk.txt")
    echo "api_latency: $devices devices $route: p50 $p50 ms, p99 $p99 ms, $rps requests/s" >&2
    eval "r_${route//[^a-z]/_}=\"$p50 $p99 $rps\""
  done
  read -r h50 h99 hrps <<<"$r__health"
  read -r d50 d99 drps <<<"$r__api_devices"
  ratio=$(awk -v a="$d99" -v b="$h99" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')
  rows+=("{\"devices\":$devices,\"health\":{\"p50_ms\":$h50,\"p99_ms\":$h99,\"rps\":$hrps},\"devices_route\":{\"p50_ms\":$d50,\"p99_ms\":$d99,\"rps\":$drps},\"p99_ratio\":$ratio}")
  md_rows+=("| $devices | $h50 | $h99 | $hrps | $d50 | $d99 | $drps | $ratio |")
  kill "$agent_pid"; wait "$agent_pid" 2>/dev/null || true; agent_pid=
  rm -f "$work"/bwalloc.db*
done

mkdir -p "$out_dir"
(IFS=,; echo "[${rows[*]}]") > "$out_dir/api_latency.json"
{
  echo "# API latency under load (wrk -t2 -c32 -d10s, simulator backend)"
  echo
  echo "| devices | /health p50 ms | p99 ms | req/s | /api/devices p50 ms | p99 ms | req/s | p99 ratio |"
  echo "|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${md_rows[@]}"
} > "$out_dir/api_latency.md"
cat "$out_dir/api_latency.md"
