#!/usr/bin/env bash
# Soak: the virtual LAN (scripts/vlan.sh) with the real agent and real eBPF
# for a long run with churn, sampling the agent's memory and the database
# size, to show that neither grows without bound.
#
# Churn, all through the same paths an operator's network would take:
#   - every 30 s a guest device leaves (its namespace is deleted with its
#     link) and another one joins with the next address of a pool of 8, so
#     devices come and go but the set of addresses stays bounded;
#   - every other 30 s step a resident device's link goes down, and comes
#     back up at the next step;
#   - every 3 s a device's priority is changed through the API (token from
#     the token file), cycling High, Normal, Low and back to auto.
# Every 10 s: VmRSS of the agent, the size of the database and its WAL, the
# tick count and the row counts go to soak.csv; soak_summary.py writes
# soak.md at the end (also after Ctrl-C).
#
# Raw samples are kept for --raw-retention (default 10m, the smallest the
# config accepts, instead of a day) and
# events for --event-retention (store.day_retention, default 10m) so that the
# pruning, and with it the plateau of the database, shows within 30 minutes.
#
# Usage: bench/soak.sh BWALLOC_BINARY [--minutes N] [--devices N] [--port P]
#                     [--raw-retention D] [--event-retention D] [--out DIR]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
bwalloc=${1:?usage: soak.sh BWALLOC_BINARY [--minutes N] [--devices N] [--port P] [--out DIR]}
shift
minutes=30
devices=6
port=18480
raw_retention=10m
event_retention=10m
out=$here/results
while (($#)); do
  case "$1" in
    --minutes) minutes=${2:?}; shift 2 ;;
    --devices) devices=${2:?}; shift 2 ;;
    --port) port=${2:?}; shift 2 ;;
    --raw-retention) raw_retention=${2:?}; shift 2 ;;
    --event-retention) event_retention=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    *) echo "soak: unknown option $1 (accepted: --minutes N, --devices N, --port P, --raw-retention D, --event-retention D, --out DIR)" >&2; exit 2 ;;
  esac
done
[[ $minutes =~ ^[0-9]+$ ]] && ((minutes >= 1)) || { echo "soak: --minutes must be a whole number >= 1" >&2; exit 2; }
[[ $devices =~ ^[0-9]+$ ]] && ((devices >= 5 && devices <= 40)) || { echo "soak: --devices must be 5..40" >&2; exit 2; }
[[ -x $bwalloc ]] || { echo "soak: $bwalloc is not an executable" >&2; exit 2; }

prefix=bwsk-
run_dir=/run/bwsk-soak
pin_dir=/sys/fs/bpf/bwsk-soak
db=$run_dir/bwalloc.db
token_file=$run_dir/api-token
csv=$out/soak.csv
md=$out/soak.md
agent_log=/tmp/bwsk-soak-agent.log
guest_pool=8        # guest addresses 10.10.0.100 .. 10.10.0.107 (devices dev90 .. dev97)
guests_present=3
pids=()
agent=0

settings=(--set datapath.lan_interface='"lan0"' --set datapath.wan_interface='"wan0"'
  --set datapath.pin_dir="\"$pin_dir\"" --set datapath.state_dir="\"$run_dir/state\"")

cleanup() {
  trap - EXIT INT TERM
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  # Only our own children by PID: the guests' ping loops go with their
  # namespaces below.
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  "$bwalloc" detach "${settings[@]}" --netns "${prefix}rtr" >/dev/null 2>&1 || true
  "$repo/scripts/vlan.sh" down --prefix "$prefix" || true
  if [[ -s $csv ]]; then
    python3 "$here/soak_summary.py" "$csv" "$md" --raw-retention "$raw_retention" \
      --event-retention "$event_retention" --devices "$devices" --guests "$guest_pool" || true
  fi
  rm -rf "$run_dir"
  echo "soak: removed the virtual LAN; results in $csv and $md"
}

# A run after a crash: clear what the last one left.
"$bwalloc" detach "${settings[@]}" --netns "${prefix}rtr" >/dev/null 2>&1 || true
"$repo/scripts/vlan.sh" down --prefix "$prefix" >/dev/null 2>&1 || true
rm -rf "$run_dir"
trap cleanup EXIT
# A signal ends the run (the EXIT trap then cleans up); without the exit the
# loop below would carry on after the handler.
trap 'exit 130' INT TERM

"$repo/scripts/vlan.sh" up --prefix "$prefix" --devices "$devices"
mkdir -p "$run_dir" "$out"

bg() { "$@" >/dev/null 2>&1 & pids+=($!); }

# Same mix as the demo, with the heavy flows capped so the 2-core machine
# keeps headroom: dev1 downloads, dev2 uploads (-> Low), dev3 spikes, dev4
# streams, the rest ping (-> High).
inet=198.51.100.2
for n in 1 2 3 4; do bg ip netns exec "${prefix}inet" iperf3 -s -p $((5200 + n)); done
sleep 0.5
bg ip netns exec "${prefix}dev1" bash -c "while :; do iperf3 -c $inet -p 5201 -R -b 40M -t 3600; sleep 1; done"
bg ip netns exec "${prefix}dev2" bash -c "while :; do iperf3 -c $inet -p 5202 -b 40M -t 3600; sleep 1; done"
bg ip netns exec "${prefix}dev3" bash -c "while :; do sleep 25; iperf3 -c $inet -p 5203 -R -b 80M -t 4; done"
bg ip netns exec "${prefix}dev4" bash -c "while :; do iperf3 -c $inet -p 5204 -R -b 600k -t 3600; sleep 1; done"
for ((n = 5; n <= devices; n++)); do
  bg ip netns exec "${prefix}dev$n" bash -c "while :; do ping -q -c 20 -i 0.5 -s 200 $inet; done"
done

# Guests: namespaces like vlan.sh's devices (so vlan.sh down removes them),
# with a ping loop of their own that dies with the namespace.
guest_add() {
  local k=$1 ns=${prefix}dev$((90 + $1))
  ip netns add "$ns"
  ip netns exec "$ns" ip link set lo up
  ip link add eth0 netns "$ns" type veth peer name "p-g$k" netns "${prefix}sw"
  ip netns exec "${prefix}sw" ip link set "p-g$k" master br0 up
  ip netns exec "$ns" ip addr add "10.10.0.$((100 + k))/24" dev eth0
  ip netns exec "$ns" ip link set eth0 up
  ip netns exec "$ns" ip route add default via 10.10.0.1
  ip netns exec "$ns" bash -c "while :; do ping -q -c 10 -i 0.3 $inet; done" >/dev/null 2>&1 &
}
guest_remove() {
  local ns=${prefix}dev$((90 + $1)) pid
  for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  ip netns delete "$ns" 2>/dev/null || true
}
for ((k = 0; k < guests_present; k++)); do guest_add "$k"; done
# A guest's ping loop is a child of this script running in its namespace;
# vlan.sh down and guest_remove end it through `ip netns pids`.
next_guest=$guests_present
oldest_guest=0

"$bwalloc" run --netns "${prefix}rtr" "${settings[@]}" \
  --set store.path="\"$db\"" --set http.port="$port" --set http.token_file="\"$token_file\"" \
  --set http.web_root="\"$repo/web\"" --set store.raw_retention="\"$raw_retention\"" \
  --set store.day_retention="\"$event_retention\"" >"$agent_log" 2>&1 &
agent=$!
pids+=("$agent")

api=http://127.0.0.1:$port
for _ in $(seq 100); do
  [[ -s $token_file ]] && curl -sf --max-time 1 "$api/health" >/dev/null && break
  kill -0 "$agent" 2>/dev/null || { echo "soak: the agent exited; log:" >&2; cat "$agent_log" >&2; exit 1; }
  sleep 0.2
done
token=$(head -n1 "$token_file")

# Succeeds when the agent took the change (HTTP 2xx); a device that has just
# left may be unknown, which counts as a refused change, not an error.
set_priority() {
  local ip=$1 priority=$2
  local args=(-X POST -H 'Content-Type: application/json' --data "{\"priority\":\"$priority\"}")
  [[ $priority == auto ]] && args=(-X DELETE)
  curl -sf -o /dev/null --max-time 2 "${args[@]}" -H "Authorization: Bearer $token" \
    -H 'X-Requested-With: bwalloc' "$api/api/devices/$ip/priority"
}

size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }
rows() { sqlite3 -readonly "$db" "SELECT (SELECT count(*) FROM usage_raw), (SELECT count(*) FROM usage_minute), (SELECT count(*) FROM events), (SELECT count(*) FROM devices);" 2>/dev/null | tr '|' ',' || echo ",,,"; }

echo "elapsed_s,rss_kb,db_bytes,wal_bytes,ticks,devices_known,usage_raw_rows,usage_minute_rows,event_rows,device_rows,api_changes,api_accepted,churn_steps" >"$csv"
echo "soak: $minutes minutes, $devices resident devices + $guests_present of $guest_pool guests; agent pid $agent on $api; sampling to $csv"

start=$(date +%s)
end=$((start + minutes * 60))
priorities=(High Normal Low auto)
changes=0
accepted=0
steps=0
link_down=0
last_sample=-10
last_change=0
last_churn=0
while (( $(date +%s) < end )); do
  kill -0 "$agent" 2>/dev/null || { echo "soak: the agent died; log tail:" >&2; tail -20 "$agent_log" >&2; exit 1; }
  now=$(( $(date +%s) - start ))
  if ((now - last_change >= 3)); then
    last_change=$now
    n=$(( changes % (devices + guests_present) ))
    if ((n < devices)); then ip=10.10.0.$((11 + n)); else ip=10.10.0.$((100 + (oldest_guest + n - devices) % guest_pool)); fi
    if set_priority "$ip" "${priorities[$(( (changes / (devices + guests_present)) % 4 ))]}"; then
      accepted=$((accepted + 1))
    fi
    changes=$((changes + 1))
  fi
  if ((now - last_churn >= 30)); then
    last_churn=$now
    guest_remove $((oldest_guest % guest_pool))
    oldest_guest=$((oldest_guest + 1))
    guest_add $((next_guest % guest_pool))
    next_guest=$((next_guest + 1))
    # A resident light device's link: down on odd steps, up on even ones.
    if ((link_down)); then
      ip netns exec "${prefix}dev5" ip link set eth0 up && ip netns exec "${prefix}dev5" ip route replace default via 10.10.0.1
      link_down=0
    else
      ip netns exec "${prefix}dev5" ip link set eth0 down
      link_down=1
    fi
    steps=$((steps + 1))
  fi
  if ((now - last_sample >= 10)); then
    last_sample=$now
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$agent/status")
    health=$(curl -s --max-time 2 "$api/health" || echo '{}')
    ticks=$(jq -r '.ticks // ""' <<<"$health" 2>/dev/null || echo "")
    known=$(curl -s --max-time 2 "$api/api/devices" | jq -r '.devices | length' 2>/dev/null || echo "")
    echo "$now,$rss,$(size_of "$db"),$(size_of "$db-wal"),$ticks,$known,$(rows),$changes,$accepted,$steps" >>"$csv"
  fi
  sleep 1
done
echo "soak: done after $minutes minutes"
