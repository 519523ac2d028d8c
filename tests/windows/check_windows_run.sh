#!/usr/bin/env bash
# bwalloc.exe runs, not only links: under Debian's wine64, in a Wine prefix
# of its own, it prints its version and usage, runs the agent on the
# simulator backend (health, devices and the dashboard on 127.0.0.1, a block
# through the API with the token), stops on Ctrl+C through its normal stop
# path, finds the block again in its SQLite file under C:\ when started a
# second time, and detaches.
# Usage: check_windows_run.sh <windows-build-dir> <expected-version>
# (the build dir is the one windows_build_links fills: <dir>/dist/bwalloc.exe)
# Exits 77 (skipped) when wine64 is missing.
set -euo pipefail
build_dir=$1
expected_version=$2
dist=$build_dir/dist

# Debian's wine64 package puts its loader in /usr/lib/wine; the `wine`
# package (not needed) adds the /usr/bin wrappers.
wine=$(command -v wine64 || true)
[[ -n $wine ]] || wine=/usr/lib/wine/wine64
if [[ ! -x $wine ]]; then
  echo "SKIP: wine64 is missing; run scripts/install-deps.sh test (it installs Debian's wine64)"
  exit 77
fi
wineserver=$(dirname "$wine")/wineserver
[[ -x $wineserver ]] || wineserver=$(command -v wineserver)
for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing; run scripts/install-deps.sh test" >&2; exit 1; }
done
[[ -f $dist/bwalloc.exe ]] || { echo "FAIL: $dist/bwalloc.exe is missing (windows_build_links builds it)" >&2; exit 1; }

work=$(mktemp -d /tmp/bwalloc-wine.XXXXXX)
export WINEPREFIX=$work/prefix
# No Mono or Gecko installer prompt, no debug chatter on stderr.
export WINEDLLOVERRIDES="mscoree,mshtml=" WINEDEBUG=-all
agent_pid=
cleanup() {
  if [[ -n $agent_pid ]] && kill -0 "$agent_pid" 2>/dev/null; then
    kill -KILL "$agent_pid" 2>/dev/null || true
    wait "$agent_pid" 2>/dev/null || true
  fi
  # Only this test's own prefix: its wineserver and every process in it.
  [[ -d $WINEPREFIX ]] && "$wineserver" -k 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for log in "$work"/run*.log; do
    [[ -f $log ]] && { echo "--- $log" >&2; tr -d '\r' <"$log" >&2; }
  done
  exit 1
}
step_start=$(date +%s)
step() {
  local now
  now=$(date +%s)
  echo "ok ($((now - step_start)) s): $*"
  step_start=$now
}

# Polls (bound: 120 s, which only keeps a broken run from hanging) until
# the command succeeds; fails with the message otherwise.
wait_for() {
  local what=$1
  shift
  local deadline=$(($(date +%s) + 120))
  until "$@"; do
    if [[ -n $agent_pid ]] && ! kill -0 "$agent_pid" 2>/dev/null; then fail "the agent exited while waiting for $what"; fi
    (($(date +%s) < deadline)) || fail "no $what after 120 s"
    sleep 0.2
  done
}

mkdir -p "$WINEPREFIX"
"$wineserver" -p  # one server for every step below, ended by cleanup
"$wine" wineboot --init >"$work/wineboot.log" 2>&1 || fail "wineboot: $(cat "$work/wineboot.log")"
# Installed the way a Windows user would: a folder on C:\ with web\ beside the exe.
mkdir -p "$WINEPREFIX/drive_c/bwalloc"
cp -r "$dist/bwalloc.exe" "$dist/web" "$WINEPREFIX/drive_c/bwalloc/"
exe='C:\bwalloc\bwalloc.exe'
data=$WINEPREFIX/drive_c/ProgramData/bwalloc
step "fresh Wine prefix in $WINEPREFIX"

version=$("$wine" "$exe" version | tr -d '\r')
[[ $version == "bwalloc $expected_version" ]] || fail "version printed '$version', expected 'bwalloc $expected_version'"
step "bwalloc.exe version: $version"

usage=$("$wine" "$exe" --help | tr -d '\r')
for needle in 'usage: bwalloc COMMAND' 'agent.backend = "auto"' 'detach'; do
  [[ $usage == *"$needle"* ]] || fail "--help does not mention '$needle'"
done
step "bwalloc.exe --help prints the usage"

# Starts the agent in the background (no wrapper, so $! is the Wine
# process that gets the SIGINT) and sets $base to the URL it logs.
start_agent() {
  local log=$1
  "$wine" "$exe" run --set agent.backend=simulator --set http.bind=127.0.0.1 --set http.port=0 </dev/null >"$log" 2>&1 &
  agent_pid=$!
  wait_for "dashboard URL in $log" grep -qa 'dashboard and API on http://127.0.0.1:[0-9]*/' "$log"
  base=$(tr -d '\r' <"$log" | grep -o 'dashboard and API on http://127.0.0.1:[0-9]*/' | head -n 1 | sed 's/.* on //; s,/$,,')
}

# Ctrl+C: Wine turns SIGINT into CTRL_C_EVENT for the console handler, so
# this is the agent's own stop path, and it must end with exit code 0.
stop_agent() {
  local log=$1
  kill -INT "$agent_pid"
  local rc=0
  wait "$agent_pid" || rc=$?
  agent_pid=
  ((rc == 0)) || fail "the agent exited $rc after Ctrl+C"
  grep -qa 'stopping on Ctrl+C' "$log" || fail "the agent did not log its stop on Ctrl+C"
}

health_ok() { curl -fsS "$base/health" -o "$work/health.json" && jq -e '.ok == true' "$work/health.json" >/dev/null; }
has_devices() { curl -fsS "$base/api/devices" -o "$work/devices.json" && jq -e '.devices | length > 0' "$work/devices.json" >/dev/null; }
# The device's priority in /api/devices and its row in /api/blocked.
device_blocked() {
  curl -fsS "$base/api/devices" -o "$work/devices.json" &&
    jq -e --arg ip "$1" '.devices[] | select(.ip == $ip) | .priority_name == "Blocked"' "$work/devices.json" >/dev/null &&
    curl -fsS "$base/api/blocked" | jq -e --arg ip "$1" 'any(.blocked[]; .ip == $ip)' >/dev/null
}

start_agent "$work/run1.log"
step "bwalloc.exe run serves on $base"
wait_for "healthy /health" health_ok
wait_for "devices in /api/devices" has_devices
ip=$(jq -r '.devices[0].ip' "$work/devices.json")
step "/health is ok and /api/devices lists $(jq '.devices | length' "$work/devices.json") simulated devices"

index=$(curl -fsS "$base/")
[[ $index == *"<title>bwalloc</title>"* ]] || fail "/ is not the dashboard's index.html"
curl -fsS "$base/js/app.js" -o /dev/null || fail "the dashboard's js/app.js is not served"
step "the dashboard's index.html and js/app.js are served from C:\\bwalloc\\web"

[[ -s $data/api-token ]] || fail "no API token in C:\\ProgramData\\bwalloc\\api-token"
token=$(tr -d '\r\n' <"$data/api-token")
block=(-X POST -H 'Content-Type: application/json' -H 'X-Requested-With: bwalloc' -d "{\"ip\":\"$ip\",\"reason\":\"wine test\"}")
code=$(curl -sS -o /dev/null -w '%{http_code}' "${block[@]}" "$base/api/block")
[[ $code == 401 ]] || fail "a block without the token answered $code, expected 401"
curl -fsS "${block[@]}" -H "Authorization: Bearer $token" "$base/api/block" | jq -e '.ok == true' >/dev/null ||
  fail "POST /api/block with the token failed"
wait_for "$ip Blocked in /api/devices" device_blocked "$ip"
step "a block of $ip with the token (refused without it) shows in /api/devices"

stop_agent "$work/run1.log"
[[ -s $data/bwalloc.db ]] || fail "no database at C:\\ProgramData\\bwalloc\\bwalloc.db"
step "Ctrl+C stops the agent (exit 0); its database is C:\\ProgramData\\bwalloc\\bwalloc.db"

start_agent "$work/run2.log"
wait_for "$ip still Blocked after the restart" device_blocked "$ip"
stop_agent "$work/run2.log"
step "a second start on the same database has $ip Blocked again"

detach=$("$wine" "$exe" detach | tr -d '\r') || fail "detach exited $?: $detach"
[[ $detach == *"removed every bwalloc NetQos policy"* ]] || fail "detach printed '$detach'"
step "bwalloc.exe detach: $detach"
echo "bwalloc.exe runs under Wine"
