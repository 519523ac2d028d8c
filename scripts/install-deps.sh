#!/usr/bin/env bash
# Installs what bwalloc needs from Debian 12's packages (and npm for the
# browser test), only what is missing; quiet when everything is there.
# Usage: scripts/install-deps.sh [build|test|demo|bench]   (default: test)
set -euo pipefail

purpose=${1:-test}

build_packages=(
  cmake make g++ pkg-config clang llvm
  libbpf-dev bpftool libelf-dev zlib1g-dev
  libboost1.81-dev libboost-json1.81-dev
  libsqlite3-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev
  libpcap-dev
  ieee-data
)
run_packages=(iproute2 nftables iperf3 procps sqlite3 iputils-ping curl)
# The real-kernel tests boot Debian's kernel (which has sch_fq) in qemu; the
# Windows build test cross-compiles with mingw-w64 (posix threads) and runs
# the exe under wine64, reading the API's JSON with jq.
test_packages=(chromium qemu-system-x86 linux-image-amd64 busybox-static kmod cpio g++-mingw-w64-x86-64-posix file wine64 jq)
# libFuzzer for the fuzz harnesses (scripts/fuzz.sh builds them with clang-14).
test_packages+=(clang-14 libclang-rt-14-dev)
# The format check (tests/style/).
test_packages+=(clang-format-14)

# The bench harness: load for the HTTP API, PNG plots of the tables.
bench_packages=(wrk gnuplot-nox)

case "$purpose" in
  build) wanted=("${build_packages[@]}") ;;
  test) wanted=("${build_packages[@]}" "${run_packages[@]}" "${test_packages[@]}") ;;
  demo) wanted=("${build_packages[@]}" "${run_packages[@]}") ;;
  bench) wanted=("${build_packages[@]}" "${run_packages[@]}" "${test_packages[@]}" "${bench_packages[@]}") ;;
  *) echo "usage: $0 [build|test|demo|bench]" >&2; exit 2 ;;
esac

# Node.js and npm fetch the dashboard's Plotly and the browser test's
# playwright-core from the npm registry; Debian's packages do when absent.
if ! command -v npm >/dev/null 2>&1; then
  wanted+=(nodejs npm)
fi

missing=()
for pkg in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages: ${missing[*]}; run as root (sudo) to install them" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Wait for another apt run (unattended upgrades) instead of failing.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ $purpose != build ]]; then
  "$(dirname "$0")/web-vendor.sh"
fi

# The BPF filesystem holds the pinned maps and links.
if [[ $(id -u) -eq 0 ]] && ! mountpoint -q /sys/fs/bpf; then
  mount -t bpf bpf /sys/fs/bpf
fi
