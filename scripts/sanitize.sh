#!/usr/bin/env bash
# Builds the unit tests (only those: `unit_tests` target) with AddressSanitizer
# and UndefinedBehaviorSanitizer in a tree of their own and runs them
# (`ctest -L unit`). Any sanitizer report fails the run: UBSan halts on the
# first error and ASan aborts, so a report is a failed test, never a note.
#   scripts/sanitize.sh [--build-dir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=build/sanitize
while (($#)); do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    *) echo "usage: $0 [--build-dir DIR]" >&2; exit 2 ;;
  esac
done
# -O1 keeps the build and the run quick while ASan still sees every access.
if [[ ! -f $build_dir/CMakeCache.txt ]]; then
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DCMAKE_C_FLAGS_DEBUG="-O1 -g" \
    -DBWALLOC_SANITIZE=ON >/dev/null
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
cmake --build "$build_dir" -j"$(nproc)" --target unit_tests >"$build_dir/sanitize-build.log" 2>&1 || {
  tail -40 "$build_dir/sanitize-build.log" >&2
  echo "sanitize: build failed (log: $build_dir/sanitize-build.log)" >&2
  exit 1
}
ctest --test-dir "$build_dir" -L unit --output-on-failure -j"$(nproc)" --timeout 300
