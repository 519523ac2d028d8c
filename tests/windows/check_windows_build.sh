#!/usr/bin/env bash
# The Windows build links: cross-compiles bwalloc.exe with
# scripts/build-windows.sh, then checks that it is a 64-bit PE executable
# that imports only DLLs every Windows has (no MinGW runtime DLLs to ship)
# and that Npcap's wpcap.dll is not among them: it is loaded at run time,
# so the agent starts and explains when Npcap is missing.
# Usage: check_windows_build.sh <source-dir> <build-dir>
set -euo pipefail
source_dir=$1
build_dir=$2

start=$(date +%s)
exe=$("$source_dir/scripts/build-windows.sh" "$build_dir" | tail -n 1)
echo "built $exe in $(( $(date +%s) - start )) s, $(stat -c %s "$exe") bytes"

kind=$(file -b "$exe")
echo "file: $kind"
if [[ $kind != "PE32+ executable (console) x86-64"* ]]; then
  echo "FAIL: $exe is not a 64-bit Windows console executable" >&2
  exit 1
fi

# DLLs that ship with every Windows 10 and later.
allowed='^(kernel32|user32|advapi32|ws2_32|mswsock|msvcrt|bcrypt|iphlpapi|shell32|ole32|ntdll|api-ms-win-crt-[a-z0-9-]+|ucrtbase)\.dll$'
imports=$(x86_64-w64-mingw32-objdump -p "$exe" | awk '/DLL Name:/ {print tolower($3)}' | sort -u)
echo "imports: $(echo $imports)"
[[ -n $imports ]] || { echo "FAIL: no imports found in $exe" >&2; exit 1; }
status=0
for dll in $imports; do
  if [[ $dll == wpcap.dll || $dll == packet.dll ]]; then
    echo "FAIL: $exe imports $dll at load time; it must be loaded at run time (LoadLibrary)" >&2
    status=1
  elif [[ ! $dll =~ $allowed ]]; then
    echo "FAIL: $exe imports $dll, which Windows does not ship (link it statically)" >&2
    status=1
  fi
done
# The run-time load is really there (with its advice when Npcap is absent),
# and so is the NetQos shaping. (Short literals are built from immediates
# by the compiler and cannot be found this way, hence these longer ones.)
for needle in 'pcap_create' 'install it from npcap.com; capture is off' '-IPDstPrefixMatchCondition'; do
  if ! grep -aq -- "$needle" "$exe"; then
    echo "FAIL: '$needle' is not in $exe" >&2
    status=1
  fi
done
if ((status == 0)); then
  echo "the Windows build links and imports only system DLLs"
fi
exit $status
