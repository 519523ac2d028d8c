# Sourced by the tests that run bwalloc.exe under Debian's wine64: finds
# Wine (exits 77, skipped, where it is missing), makes a Wine prefix of the
# test's own with the exe installed in C:\bwalloc, removes it (and every
# process in it) on any exit, and starts and stops the agent.
# Before sourcing: set -euo pipefail, dist=<dir holding bwalloc.exe and web/>.

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
exe='C:\bwalloc\bwalloc.exe'
data=$WINEPREFIX/drive_c/ProgramData/bwalloc
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

# A fresh prefix, with the exe installed the way a Windows user would: a
# folder on C:\ with web\ beside bwalloc.exe.
make_prefix() {
  mkdir -p "$WINEPREFIX"
  "$wineserver" -p  # one server for every step, ended by cleanup
  "$wine" wineboot --init >"$work/wineboot.log" 2>&1 || fail "wineboot: $(cat "$work/wineboot.log")"
  mkdir -p "$WINEPREFIX/drive_c/bwalloc"
  cp -r "$dist/bwalloc.exe" "$dist/web" "$WINEPREFIX/drive_c/bwalloc/"
  step "fresh Wine prefix in $WINEPREFIX"
}

# Starts `bwalloc.exe run <settings...>` on 127.0.0.1 and a free port, in
# the background (no wrapper, so $! is the Wine process that gets the
# SIGINT) and sets $base to the URL it logs.
start_agent() {
  local log=$1
  shift
  "$wine" "$exe" run "$@" --set http.bind=127.0.0.1 --set http.port=0 </dev/null >"$log" 2>&1 &
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

# curl arguments for a state-changing request: the token from the file the
# agent made at its first start, and the header the API wants.
api_auth() {
  [[ -s $data/api-token ]] || fail "no API token in C:\\ProgramData\\bwalloc\\api-token"
  auth=(-H "Authorization: Bearer $(tr -d '\r\n' <"$data/api-token")" -H 'X-Requested-With: bwalloc'
    -H 'Content-Type: application/json')
}
