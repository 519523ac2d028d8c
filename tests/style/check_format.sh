#!/usr/bin/env bash
# The code keeps one format: every C and C++ file git tracks is what
# clang-format makes of it: .clang-format at the top for C++, bpf/.clang-format
# (kernel style) for bpf/ and every other BPF program (*.bpf.c). A difference
# fails with the file names and how to fix them.
# Usage: check_format.sh <source-dir>
set -euo pipefail
cd "$1"
format=$(command -v clang-format-14 || command -v clang-format || true)
if [[ -z $format ]]; then
  echo "SKIP: clang-format is missing; run scripts/install-deps.sh test (it installs clang-format-14)"
  exit 77
fi
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "SKIP: not a git checkout, so which files are ours is unknown"
  exit 77
fi
mapfile -t files < <(git ls-files -- '*.c' '*.h' '*.cpp')
unformatted=()
for file in "${files[@]}"; do
  [[ -f $file ]] || continue
  style=file
  [[ $file == *.bpf.c ]] && style=file:bpf/.clang-format
  if ! "$format" --style="$style" --dry-run --Werror "$file" >/dev/null 2>&1; then unformatted+=("$file"); fi
done
if ((${#unformatted[@]})); then
  echo "FAIL: ${#unformatted[@]} of ${#files[@]} files differ from clang-format's output:" >&2
  printf '  %s\n' "${unformatted[@]}" >&2
  echo "fix: $format -i <file> (or scripts/format.sh for all of them)" >&2
  exit 1
fi
echo "all ${#files[@]} C and C++ files formatted"
