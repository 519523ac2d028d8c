#!/usr/bin/env bash
# Formats every C and C++ file git tracks with clang-format (the style files
# are .clang-format and bpf/.clang-format); tests/style/ checks it.
set -euo pipefail
cd "$(dirname "$0")/.."
format=$(command -v clang-format-14 || command -v clang-format)
# BPF programs outside bpf/ (*.bpf.c in tests/ and bench/) take bpf/'s style.
git ls-files -z -- '*.c' '*.h' '*.cpp' ':!:*.bpf.c' | xargs -0 "$format" -i
git ls-files -z -- '*.bpf.c' | xargs -0 "$format" --style=file:bpf/.clang-format -i
