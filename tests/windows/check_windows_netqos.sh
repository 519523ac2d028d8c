#!/usr/bin/env bash
# The NetQos path end to end under Debian's wine64, without Npcap, as
# bwalloc.exe starts on a Windows machine where nobody installed it: the
# agent says how to install Npcap and still sends operator blocks and
# priorities to NetQos through its real CreateProcessW runner. A stand-in
# powershell.exe (powershell_stand_in.c, built here with mingw-w64) sits
# where the runner looks for PowerShell and records each command line; the
# test checks the exact cmdlets of a block, a priority change, an unblock
# and detach, and that requests the API refuses never reach it.
# Usage: check_windows_netqos.sh <windows-build-dir>
# Exits 77 (skipped) when wine64 is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dist=$1/dist
source "$here/wine_prefix.sh"

make_prefix
powershell_dir=$WINEPREFIX/drive_c/windows/system32/WindowsPowerShell/v1.0
# Over Wine's own powershell.exe stub: a real PE file there is what Wine
# runs (no DLL override needed).
x86_64-w64-mingw32-gcc-posix -municode -O1 -o "$powershell_dir/powershell.exe" "$here/powershell_stand_in.c" ||
  fail "could not build the stand-in powershell.exe"
commands=$powershell_dir/commands.log
step "stand-in powershell.exe in C:\\windows\\system32\\WindowsPowerShell\\v1.0"

# The default backend ("auto": Npcap capture + NetQos on Windows).
log=$work/run1.log
start_agent "$log" --set rates.low=2Mbit --set rates.normal=10Mbit
grep -qa 'Npcap is not installed (wpcap.dll not found): install it from npcap.com; capture is off' "$log" ||
  fail "the agent did not say how to install Npcap"
step "bwalloc.exe run without Npcap says how to install it and serves on $base"

api_auth
# Sends one API request that must succeed.
api() {
  local method=$1 path=$2 body=${3:-}
  curl -fsS -X "$method" "${auth[@]}" ${body:+-d "$body"} "$base$path" | jq -e '.ok == true' >/dev/null ||
    fail "$method $path $body failed"
}
logged() { [[ -f $commands ]] && grep -qF -- "$1" "$commands"; }
ps='powershell.exe -NoProfile -NonInteractive -Command'
remove_all="$ps Get-NetQosPolicy -PolicyStore ActiveStore | Where-Object Name -like 'bwalloc-*' | Remove-NetQosPolicy -Confirm:\$false"
new() { echo "New-NetQosPolicy -Name 'bwalloc-$1-$2' -IP$3PrefixMatchCondition $1/32 -ThrottleRateActionBitsPerSecond $4 -PolicyStore ActiveStore -ErrorAction Stop"; }
remove() { echo "Remove-NetQosPolicy -Name 'bwalloc-$1-$2' -PolicyStore ActiveStore -Confirm:\$false -ErrorAction Stop"; }
block_line="$ps $(new 192.168.1.50 down Dst 8000) ; $(new 192.168.1.50 up Src 8000)"
low_line="$ps $(new 192.168.1.60 down Dst 2000000) ; $(new 192.168.1.60 up Src 2000000)"
unblock_line="$ps $(remove 192.168.1.50 down) ; $(new 192.168.1.50 down Dst 10000000) ; $(remove 192.168.1.50 up) ; $(new 192.168.1.50 up Src 10000000)"

api POST /api/block '{"ip":"192.168.1.50"}'
wait_for "the block's New-NetQosPolicy" logged "$block_line"
step "a block reaches NetQos at its minimum (8 kbit/s) both ways"

# Refused by the API, so none of these may reach PowerShell.
for body in '{"ip":"224.0.0.1"}' '{"ip":"127.0.0.1"}' '{"ip":"0.0.0.0"}' '{"ip":"192.168.1.70;calc"}' \
  "{\"ip\":\"192.168.1.71' | Stop-Computer\"}"; do
  code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "${auth[@]}" -d "$body" "$base/api/block")
  [[ $code == 400 ]] || fail "POST /api/block $body answered $code, expected 400"
done
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "${auth[@]}" -d '{"priority":"low; Stop-Computer"}' \
  "$base/api/devices/192.168.1.60/priority")
[[ $code == 400 ]] || fail "a made-up priority answered $code, expected 400"
step "multicast, loopback, unspecified and injected addresses and a made-up priority answer 400"

api POST /api/devices/192.168.1.60/priority '{"priority":"low"}'
wait_for "the Low device's New-NetQosPolicy" logged "$low_line"
step "a priority change to Low reaches NetQos at rates.low (2 Mbit/s)"

api POST /api/unblock '{"ip":"192.168.1.50"}'
wait_for "the unblock's Remove-NetQosPolicy" logged "$unblock_line"
step "an unblock replaces the device's policies with rates.normal (10 Mbit/s)"

stop_agent "$log"
detach=$("$wine" "$exe" detach | tr -d '\r') || fail "detach exited $?: $detach"
[[ $detach == *"removed every bwalloc NetQos policy"* ]] || fail "detach printed '$detach'"

# Exactly these, in this order, and nothing else: the start-up clean-up of
# what an earlier run left, the three changes, detach.
expected=$(printf '%s\n' "$remove_all" "$block_line" "$low_line" "$unblock_line" "$remove_all")
actual=$(tr -d '\r' <"$commands")
if [[ $actual != "$expected" ]]; then
  diff <(echo "$expected") <(echo "$actual") >&2 || true
  fail "the stand-in powershell.exe got other command lines than expected (diff above: < expected, > got)"
fi
step "PowerShell got exactly the 5 expected command lines, detach's last"
echo "the NetQos path works end to end under Wine"
