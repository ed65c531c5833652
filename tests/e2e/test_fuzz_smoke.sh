#!/bin/bash
# Builds the fuzz preset (clang, libFuzzer, ASan+UBSan) into build-fuzz and
# runs every fuzz target for a short time (SW_FUZZ_SMOKE_SECS, default 20 s)
# after replaying its regression inputs. Exit 77 (skip) without clang.
set -uo pipefail
command -v clang >/dev/null || { echo "clang not installed: skip"; exit 77; }
SRC=${SW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
# its own build tree: a long fuzzing session may be using build-fuzz
B=${SW_BUILD_DIR:-$SRC/build}/fuzz-smoke
cmake -S "$SRC" -B "$B" -DCMAKE_BUILD_TYPE=Debug -DSW_FUZZ=ON -DSW_TESTS=OFF \
    -DCMAKE_C_COMPILER=clang >/dev/null && cmake --build "$B" -j2 --target fuzz >/dev/null ||
    { echo "FAIL: fuzz build"; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$SRC/tools/run-fuzzers.sh" "${SW_FUZZ_SMOKE_SECS:-10}" "$B" "$WORK"
