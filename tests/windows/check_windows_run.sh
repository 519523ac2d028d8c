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
dist=$1/dist
expected_version=$2
source "$(dirname "$0")/wine_prefix.sh"

make_prefix

version=$("$wine" "$exe" version | tr -d '\r')
[[ $version == "bwalloc $expected_version" ]] || fail "version printed '$version', expected 'bwalloc $expected_version'"
step "bwalloc.exe version: $version"

usage=$("$wine" "$exe" --help | tr -d '\r')
for needle in 'usage: bwalloc COMMAND' 'agent.backend = "auto"' 'detach'; do
  [[ $usage == *"$needle"* ]] || fail "--help does not mention '$needle'"
done
step "bwalloc.exe --help prints the usage"

health_ok() { curl -fsS "$base/health" -o "$work/health.json" && jq -e '.ok == true' "$work/health.json" >/dev/null; }
has_devices() { curl -fsS "$base/api/devices" -o "$work/devices.json" && jq -e '.devices | length > 0' "$work/devices.json" >/dev/null; }
# The device's priority in /api/devices and its row in /api/blocked.
device_blocked() {
  curl -fsS "$base/api/devices" -o "$work/devices.json" &&
    jq -e --arg ip "$1" '.devices[] | select(.ip == $ip) | .priority_name == "Blocked"' "$work/devices.json" >/dev/null &&
    curl -fsS "$base/api/blocked" | jq -e --arg ip "$1" 'any(.blocked[]; .ip == $ip)' >/dev/null
}

start_agent "$work/run1.log" --set agent.backend=simulator
step "bwalloc.exe run serves on $base"
wait_for "healthy /health" health_ok
wait_for "devices in /api/devices" has_devices
ip=$(jq -r '.devices[0].ip' "$work/devices.json")
step "/health is ok and /api/devices lists $(jq '.devices | length' "$work/devices.json") simulated devices"

index=$(curl -fsS "$base/")
[[ $index == *"<title>bwalloc</title>"* ]] || fail "/ is not the dashboard's index.html"
curl -fsS "$base/js/app.js" -o /dev/null || fail "the dashboard's js/app.js is not served"
step "the dashboard's index.html and js/app.js are served from C:\\bwalloc\\web"

api_auth
block=(-X POST -d "{\"ip\":\"$ip\",\"reason\":\"wine test\"}" "$base/api/block")
code=$(curl -sS -o /dev/null -w '%{http_code}' "${block[@]}")
[[ $code == 401 ]] || fail "a block without the token answered $code, expected 401"
curl -fsS "${auth[@]}" "${block[@]}" | jq -e '.ok == true' >/dev/null || fail "POST /api/block with the token failed"
wait_for "$ip Blocked in /api/devices" device_blocked "$ip"
step "a block of $ip with the token (refused without it) shows in /api/devices"

stop_agent "$work/run1.log"
[[ -s $data/bwalloc.db ]] || fail "no database at C:\\ProgramData\\bwalloc\\bwalloc.db"
step "Ctrl+C stops the agent (exit 0); its database is C:\\ProgramData\\bwalloc\\bwalloc.db"

start_agent "$work/run2.log" --set agent.backend=simulator
wait_for "$ip still Blocked after the restart" device_blocked "$ip"
stop_agent "$work/run2.log"
step "a second start on the same database has $ip Blocked again"

detach=$("$wine" "$exe" detach | tr -d '\r') || fail "detach exited $?: $detach"
[[ $detach == *"removed every bwalloc NetQos policy"* ]] || fail "detach printed '$detach'"
step "bwalloc.exe detach: $detach"
echo "bwalloc.exe runs under Wine"
