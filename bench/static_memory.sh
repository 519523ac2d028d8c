#!/usr/bin/env bash
# Agent memory under many unread downloads of the largest dashboard file
# (issue #12 item 5): a real agent (simulator backend) serving web/, COUNT
# clients that each send GET /vendor/plotly.min.js and never read. Prints
# the agent's RSS before, while all COUNT downloads are held (every client
# has been sent the start of its answer), and after they closed (the agent
# holds its idle number of descriptors again); with OUT_DIR it also writes
# static_memory.md there. Asserts nothing.
# Usage: bench/static_memory.sh BWALLOC_BINARY [COUNT] [OUT_DIR]
# (web/vendor/plotly.min.js comes from scripts/web-vendor.sh)
set -euo pipefail

binary=$1 count=${2:-250} out_dir=${3:-}
repo=$(cd "$(dirname "$0")/.." && pwd)
file=/vendor/plotly.min.js
[[ -f $repo/web$file ]] || { echo "static_memory: web$file is missing (run scripts/web-vendor.sh)" >&2; exit 77; }

work=$(mktemp -d /tmp/bwbench-static.XXXXXX)
agent_pid=
cleanup() {
  if [[ -n $agent_pid ]]; then kill "$agent_pid" 2>/dev/null || true; wait "$agent_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$binary" run --set agent.backend='"simulator"' --set http.port=0 \
  --set store.path="\"$work/bwalloc.db\"" --set http.token_file="\"$work/token\"" \
  --set http.web_root="\"$repo/web\"" --set datapath.state_dir="\"$work/state\"" \
  > "$work/agent.log" 2>&1 &
agent_pid=$!
port=
for _ in $(seq 200); do
  port=$(sed -n 's|.*API on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$work/agent.log" | head -1)
  [[ -n $port ]] && curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.1
done
[[ -n $port ]] || { echo "static_memory: the agent did not start:" >&2; cat "$work/agent.log" >&2; exit 1; }

size=$(stat -c %s "$repo/web$file")
report=$(python3 - "$agent_pid" "$port" "$file" "$count" "$size" <<'EOF'
import os, select, socket, sys, time

pid, port, path, count, size = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])

def rss_mib():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0

def fds():
    return len(os.listdir(f"/proc/{pid}/fd"))

def get():
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return s

def settle(limit):  # until the agent holds no more descriptors than at rest
    deadline = time.time() + 60
    while time.time() < deadline and fds() > limit:
        time.sleep(0.1)

idle_fds = fds()
# One full download first, so a cache (if any) is warm and "before" is the
# agent at rest after serving the file once.
s = get()
got = 0
while got < size:
    chunk = s.recv(1 << 20)
    if not chunk:
        break
    got += len(chunk)
s.close()
settle(idle_fds)
before = rss_mib()

# COUNT clients from as many loopback addresses as the per-address cap
# needs, so every one of them is served (none gets 503).
held = []
for i in range(count):
    s = socket.socket()
    s.bind((f"127.0.{1 + i // 50}.{1 + i % 50}", 0))
    s.connect(("127.0.0.1", port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    held.append(s)
status = {}
for s in held:  # each has its answer started: the agent built the response
    select.select([s], [], [], 60)
    head = s.recv(16, socket.MSG_PEEK)
    code = head[9:12].decode(errors="replace")
    status[code] = status.get(code, 0) + 1
during = rss_mib()
for s in held:
    s.close()
settle(idle_fds)
after = rss_mib()
print(f"static_memory: {count} unread GET {path} ({size / 1e6:.1f} MB): answers {status}")
print(f"static_memory: RSS before {before:.1f} MiB, with {count} held {during:.1f} MiB "
      f"(+{(during - before) * 1024 / count:.0f} KiB per download), after they closed {after:.1f} MiB")
print(f"| {count} | {size / 1e6:.1f} MB | {before:.1f} | {during:.1f} | {(during - before) * 1024 / count:.0f} | {after:.1f} |")
EOF
)
grep '^static_memory:' <<<"$report"
if [[ -n $out_dir ]]; then
  mkdir -p "$out_dir"
  {
    echo "# Static file memory: unread downloads of $file (simulator backend)"
    echo
    echo "| downloads | file | RSS before MiB | RSS held MiB | KiB per download | RSS after close MiB |"
    echo "|---|---|---|---|---|---|"
    grep '^|' <<<"$report"
  } > "$out_dir/static_memory.md"
fi
