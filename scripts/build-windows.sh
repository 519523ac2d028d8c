#!/usr/bin/env bash
# Cross-compiles bwalloc.exe for 64-bit Windows with Debian's mingw-w64.
# Everything comes from Debian packages except SQLite's amalgamation
# (sqlite3.c), which is taken from the npm package better-sqlite3 (it ships
# SQLite's own amalgamation unchanged in deps/sqlite3/) into a cache dir.
# Usage: scripts/build-windows.sh [build-dir]   (default: build-win)
# Leaves bwalloc.exe and the dashboard in <build-dir>/dist/ and prints the
# path of bwalloc.exe on success.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-${BWALLOC_WIN_BUILD_DIR:-build-win}}
sqlite_npm=better-sqlite3@12.11.1
cache=${BWALLOC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/bwalloc}

for tool in x86_64-w64-mingw32-g++-posix cmake npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "build-windows: $tool is missing; run scripts/install-deps.sh test (it installs g++-mingw-w64-x86-64-posix)" >&2
    exit 1
  fi
done

sqlite_dir=$cache/${sqlite_npm/@/-}/sqlite3
if [[ ! -f $sqlite_dir/sqlite3.c ]]; then
  mkdir -p "$cache/npm"
  tarball=$(cd "$cache/npm" && npm pack --silent "$sqlite_npm")
  unpack=$(mktemp -d "$cache/unpack.XXXXXX")
  trap 'rm -rf "$unpack"' EXIT
  tar -xzf "$cache/npm/$tarball" -C "$unpack" package/deps/sqlite3
  mkdir -p "$(dirname "$sqlite_dir")"
  rm -rf "$sqlite_dir"
  mv "$unpack/package/deps/sqlite3" "$sqlite_dir"
fi

# -O1: the exe is a cross-build check and a download, not a benchmark, and
# -O2 on Beast and SQLite roughly doubles the build time on two cores.
cmake -S . -B "$build_dir" -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/mingw-w64.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" -DCMAKE_C_FLAGS_RELEASE="-O1 -DNDEBUG" \
  -DBWALLOC_SQLITE_SOURCE_DIR="$sqlite_dir" >/dev/null
cmake --build "$build_dir" --target bwalloc -j"$(nproc)"
# dist/: what to copy to the Windows machine. bwalloc.exe finds the
# dashboard in web\ beside it (web/vendor/ is filled by scripts/web-vendor.sh).
dist=$build_dir/dist
mkdir -p "$dist"
x86_64-w64-mingw32-strip -o "$dist/bwalloc.exe" "$build_dir/agent/cli/bwalloc.exe"
rm -rf "$dist/web"
cp -r web "$dist/web"
echo "$dist/bwalloc.exe"
