#!/usr/bin/env bash
# Builds unit tests with sanitizers in a tree of their own and runs them.
# Any sanitizer report fails the run, never a note:
#   default  AddressSanitizer + UndefinedBehaviorSanitizer (build/sanitize):
#            every unit test (`unit_tests` target, `ctest -L unit`); UBSan
#            halts on the first error and ASan aborts;
#   --tsan   ThreadSanitizer (build/tsan): the unit tests whose code runs
#            threads, HTTP and agent among them (`tsan_tests`, `ctest -L
#            unit-tsan`, see tests/CMakeLists.txt); halt_on_error=1, so the first
#            data race (or lock-order inversion) ends its test with exit code 66.
#   scripts/sanitize.sh [--tsan] [--build-dir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
mode=asan
build_dir=
while (($#)); do
  case "$1" in
    --tsan) mode=tsan; shift ;;
    --build-dir) build_dir=$2; shift 2 ;;
    *) echo "usage: $0 [--tsan] [--build-dir DIR]" >&2; exit 2 ;;
  esac
done
if [[ $mode == tsan ]]; then
  build_dir=${build_dir:-build/tsan}
  option=-DBWALLOC_TSAN=ON
  target=tsan_tests
  label=unit-tsan
else
  build_dir=${build_dir:-build/sanitize}
  option=-DBWALLOC_SANITIZE=ON
  target=unit_tests
  label=unit
fi
# -O1 keeps the build and the run quick while the sanitizers still see every access.
if [[ ! -f $build_dir/CMakeCache.txt ]]; then
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DCMAKE_C_FLAGS_DEBUG="-O1 -g" \
    "$option" >/dev/null
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
log=$build_dir/sanitize-build.log
mkdir -p "$build_dir"
cmake --build "$build_dir" -j"$(nproc)" --target "$target" >"$log" 2>&1 || {
  tail -40 "$log" >&2
  echo "sanitize ($mode): build failed (log: $log)" >&2
  exit 1
}
ctest --test-dir "$build_dir" -L "$label" --output-on-failure -j"$(nproc)" --timeout 300
