#!/usr/bin/env bash
# Builds the libFuzzer harnesses in fuzz/ with clang (ASan + UBSan) and runs
# each for a bounded time on its seed corpus; exits non-zero on any crash,
# sanitizer report or harness check. New inputs found go to a scratch
# corpus in the build directory (the committed seeds stay as they are).
#   scripts/fuzz.sh [--build-dir DIR] [--time SECONDS] [--build-only] [NAME...]
# NAME is config, http or bpf (default: all). bpf needs root (bpf()).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=build/fuzz
seconds=20
build_only=0
names=()
while (($#)); do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --time) seconds=$2; shift 2 ;;
    --build-only) build_only=1; shift ;;
    config|http|bpf) names+=("$1"); shift ;;
    *) echo "usage: $0 [--build-dir DIR] [--time SECONDS] [--build-only] [config|http|bpf]..." >&2; exit 2 ;;
  esac
done
((${#names[@]})) || names=(config http bpf)

clang=$(command -v clang-14 || command -v clang || true)
clangxx=$(command -v clang++-14 || command -v clang++ || true)
if [[ -z $clang || -z $clangxx ]]; then
  echo "fuzz: clang is not installed (scripts/install-deps.sh installs clang-14)" >&2
  exit 1
fi
rt=$("$clang" -print-resource-dir)/lib/linux/libclang_rt.fuzzer-x86_64.a
if [[ ! -f $rt ]]; then
  echo "fuzz: libFuzzer runtime missing ($rt); install Debian's libclang-rt-14-dev" >&2
  exit 1
fi

# A build of its own: every object needs -fsanitize=fuzzer-no-link.
if [[ ! -f $build_dir/CMakeCache.txt ]]; then
  CC=$clang CXX=$clangxx cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBWALLOC_FUZZ=ON >/dev/null
fi
targets=()
for name in "${names[@]}"; do targets+=("${name}_fuzzer"); done
cmake --build "$build_dir" -j"$(nproc)" --target "${targets[@]}" >"$build_dir/fuzz-build.log" 2>&1 || {
  tail -40 "$build_dir/fuzz-build.log" >&2
  echo "fuzz: build failed (log: $build_dir/fuzz-build.log)" >&2
  exit 1
}
((build_only)) && exit 0

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
status=0
for name in "${names[@]}"; do
  if [[ $name == bpf && $(id -u) -ne 0 ]]; then
    echo "fuzz: bpf skipped: BPF_PROG_TEST_RUN needs root"
    continue
  fi
  binary=$(find "$build_dir/fuzz" -maxdepth 1 -name "${name}_fuzzer" -type f | head -1)
  scratch=$build_dir/fuzz-corpus/$name
  artifacts=$build_dir/fuzz-artifacts/$name/
  mkdir -p "$scratch" "$artifacts"
  log=$build_dir/fuzz-$name.log
  # -timeout: one input taking 10 s is a hang worth a report.
  if "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$artifacts" "$scratch" "fuzz/corpus/$name" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz: $name: ${execs:-?} inputs in ${seconds} s, 0 crashes (corpus $(ls "$scratch" | wc -l) inputs)"
  else
    status=1
    tail -60 "$log" >&2
    echo "fuzz: $name FAILED: crash input in $artifacts, log $log" >&2
  fi
done
exit $status
