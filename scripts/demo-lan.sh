#!/usr/bin/env bash
# `bwalloc demo`: a virtual LAN (scripts/vlan.sh) with a mix of real traffic,
# the agent attached to its router with the real eBPF datapath, and the
# dashboard on http://127.0.0.1:PORT. Ctrl-C (or a later run after a crash)
# removes everything it made.
#
# Usage: demo-lan.sh BWALLOC_BINARY [--devices N] [--port P] [--prefix P]
#   --prefix names the namespaces (default bwa-); another prefix gets its own
#   pin and run directories, so a test can run beside a demo.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bwalloc=${1:?usage: demo-lan.sh BWALLOC_BINARY [--devices N] [--port P]}
shift
devices=8
port=8080
prefix=bwa-
while (($#)); do
  case "$1" in
    --devices) devices=${2:?}; shift 2 ;;
    --port) port=${2:?}; shift 2 ;;
    --prefix) prefix=${2:?}; shift 2 ;;
    *) echo "demo: unknown option $1 (accepted: --devices N, --port P, --prefix P)" >&2; exit 2 ;;
  esac
done
if ! [[ $prefix =~ ^[a-z0-9-]{1,8}$ ]]; then
  echo "demo: --prefix must be 1-8 characters of a-z, 0-9, '-'" >&2; exit 2
fi
if ! [[ $devices =~ ^[0-9]+$ ]] || ((devices < 2 || devices > 200)); then
  echo "demo: --devices must be 2..200" >&2; exit 2
fi

# The default prefix keeps the paths the demo always had.
if [[ $prefix == bwa- ]]; then suffix=; else suffix=-${prefix%-}; fi
pin_dir=/sys/fs/bpf/bwalloc-demo$suffix
run_dir=/run/bwalloc-demo$suffix
pids=()
cleaning=0

detach() {
  "$bwalloc" detach --set datapath.pin_dir="\"$pin_dir\"" \
    --set datapath.state_dir="\"$run_dir/state\"" --netns "${prefix}rtr" >/dev/null 2>&1 || true
}

# Runs once, to the end, whichever process got the signal and however many
# came: `timeout -s INT` signals the script and then its whole process
# group, an impatient operator presses Ctrl-C twice. Every signal is ignored
# from its first line on, so none can cut it short and leave the pins or the
# namespaces behind.
cleanup() {
  trap '' INT TERM HUP
  ((cleaning)) && return
  cleaning=1
  echo "demo: stopping; removing the virtual LAN"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  detach
  "$here/vlan.sh" down --prefix "$prefix" || true
  echo "demo: removed the virtual LAN"
}

# A second run after a crash: clear what the first one left.
detach
"$here/vlan.sh" down --prefix "$prefix" >/dev/null 2>&1 || true
# EXIT covers the agent stopping on its own (a signal that reached only it);
# the signal traps exit with the signal's status once cleanup is done.
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap 'cleanup; exit 129' HUP

"$here/vlan.sh" up --prefix "$prefix" --devices "$devices"
mkdir -p "$run_dir"

# One iperf3 server per device on the internet side (a server runs one test at a time).
for ((n = 1; n <= devices; n++)); do
  ip netns exec "${prefix}inet" iperf3 -s -p $((5200 + n)) >/dev/null 2>&1 &
  pids+=($!)
done
sleep 0.5

inet=198.51.100.2
# Runs a command in a namespace again and again until the demo stops: PAUSE
# seconds, then the command. The loop's shell waits for its child through
# `wait`, so a TERM reaches it at once; it then stops and reaps the child
# before it exits, and nothing it started outlives the demo.
repeat_in() {
  local ns=$1 pause=$2
  shift 2
  (
    set +e
    child=
    trap '[[ -n $child ]] && kill "$child" 2>/dev/null; wait; exit 0' TERM
    while :; do
      sleep "$pause" & child=$!
      wait "$child"
      ip netns exec "$ns" "$@" >/dev/null 2>&1 & child=$!
      wait "$child"
    done
  ) &
  pids+=($!)
}
# The mix: device 1 downloads and device 2 uploads heavily (-> Low), device 3
# spikes every 30 s, device 4 streams at a moderate rate (Normal), the rest
# are light (pings, small requests: High).
repeat_in "${prefix}dev1" 1 iperf3 -c $inet -p 5201 -R -t 3600
repeat_in "${prefix}dev2" 1 iperf3 -c $inet -p 5202 -t 3600
if ((devices >= 3)); then repeat_in "${prefix}dev3" 25 iperf3 -c $inet -p 5203 -R -t 4; fi
if ((devices >= 4)); then repeat_in "${prefix}dev4" 1 iperf3 -c $inet -p 5204 -R -b 600k -t 3600; fi
for ((n = 5; n <= devices; n++)); do
  repeat_in "${prefix}dev$n" 0 ping -q -c 20 -i 0.5 -s 200 $inet
done

echo "demo: $devices devices on ${prefix}* namespaces; agent starting (Ctrl-C to stop and remove everything)"
"$bwalloc" run --netns "${prefix}rtr" \
  --set datapath.lan_interface='"lan0"' --set datapath.wan_interface='"wan0"' \
  --set datapath.pin_dir="\"$pin_dir\"" --set datapath.state_dir="\"$run_dir/state\"" \
  --set store.path="\"$run_dir/bwalloc.db\"" --set http.port="$port" \
  --set http.token_file="\"$run_dir/api-token\"" --set http.web_root="\"$here/../web\"" \
  --announce-dashboard &
agent=$!
pids+=("$agent")
wait "$agent"
