#!/usr/bin/env bash
# Runs every benchmark and writes its tables (Markdown and JSON) and plots
# (PNG) under bench/results/. Figures are ratios against a baseline measured
# in the same run (the machines are shared and noisy); they are reported,
# never asserted.
#   scripts/bench.sh            everything (the shaping bench twice: on this
#                               kernel and on Debian's in qemu, which has fq)
#   scripts/bench.sh --quick    shorter shaping runs, no VM
#   scripts/bench.sh latency    only the latency comparison at 5 Mbit/s per
#                               device (bwalloc's agent against HTB + cake,
#                               fq_codel and pfifo) on Debian's kernel in
#                               qemu: bench/results/latency_compare.*
set -euo pipefail
cd "$(dirname "$0")/.."
mode=all
[[ ${1:-} == --quick ]] && mode=quick
[[ ${1:-} == latency ]] && mode=latency
quick=false
[[ $mode == quick ]] && quick=true
scripts/install-deps.sh bench
build_dir=${BWALLOC_BUILD_DIR:-build}
results=bench/results
mkdir -p "$results"
work=$(mktemp -d /tmp/bwalloc-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
# shaping_bench prints its JSON between marker lines (the VM returns only
# the console output).
extract_json() { sed -n '/^BWALLOC-BENCH-JSON-BEGIN$/,/^BWALLOC-BENCH-JSON-END$/p' "$1" | sed '1d;$d'; }

if [[ $mode == latency ]]; then
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build_dir" -j"$(nproc)" --target bwalloc shaping_bench shaping_report
  echo "== latency under load at 5 Mbit/s per device, on Debian's kernel in qemu (TCG)"
  # TCG shares this machine's cores: its load average goes into the report.
  load="host load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores when the run started"
  start=$(date +%s)
  set +e
  scripts/vm/run-in-vm.sh "$build_dir/bench/shaping_bench" --scenario latency \
    --kernel-label "Debian in qemu (TCG)" --note "$load" > "$work/vm.out"
  vm_rc=$?
  set -e
  echo "VM run: $(($(date +%s) - start)) s, exit $vm_rc; host load average now $(cut -d' ' -f1-3 /proc/loadavg)"
  if [[ $vm_rc -ne 0 ]]; then
    echo "bench: the VM run failed (exit $vm_rc); its output:" >&2
    tail -30 "$work/vm.out" >&2
    exit 1
  fi
  grep -v '^{' "$work/vm.out" | grep -v '^BWALLOC-BENCH-JSON' >&2 || true
  # The load when the run ended joins the one when it started in the note.
  extract_json "$work/vm.out" |
    sed "s|\"note\":\"\([^\"]*\)\"|\"note\":\"\1, $(cut -d' ' -f1-3 /proc/loadavg) when it ended\"|" > "$work/vm.json"
  "$build_dir/bench/shaping_report" "$results" "$work/vm.json"
  exit 0
fi
scripts/build.sh

echo "== datapath cost (BPF_PROG_TEST_RUN, vs a minimal parse-and-count program)"
"$build_dir/bench/datapath_cost" "$results"
echo
echo "== agent cost (one tick: batch read, sampler + allocator, SQLite write)"
"$build_dir/bench/agent_tick_cost" "$results"
echo
echo "== API latency under load (wrk against a real agent, simulator backend)"
bench/api_latency.sh "$build_dir/agent/cli/bwalloc" "$results" 1000 10000
echo
echo "== static file memory (250 unread downloads of plotly.min.js)"
scripts/web-vendor.sh
bench/static_memory.sh "$build_dir/agent/cli/bwalloc" 250 "$results"
echo

shaping_args=()
$quick && shaping_args=(--rates 10,100 --seconds 4)
echo "== shaping on this kernel ($(uname -r))"
"$build_dir/bench/shaping_bench" --kernel-label "this machine" "${shaping_args[@]}" > "$work/host.out"
extract_json "$work/host.out" > "$work/host.json"
runs=("$work/host.json")
if ! $quick; then
  echo "== shaping on Debian's kernel in qemu (TCG), where fq paces"
  set +e
  scripts/vm/run-in-vm.sh "$build_dir/bench/shaping_bench" --kernel-label "Debian in qemu (TCG)" > "$work/vm.out"
  vm_rc=$?
  set -e
  if [[ $vm_rc -eq 0 ]]; then
    extract_json "$work/vm.out" > "$work/vm.json"
    runs+=("$work/vm.json")
  else
    echo "bench: the VM run failed (exit $vm_rc); its output:" >&2
    tail -20 "$work/vm.out" >&2
  fi
fi
"$build_dir/bench/shaping_report" "$results" "${runs[@]}"
