#!/usr/bin/env bash
# Builds spanwatch twice (release, and ASan+UBSan) and runs every test in
# both builds. This is what CI runs (.ci/run).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash tools/install-deps.sh
jobs=$(nproc)
status=0
cmake --preset default >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs" --timeout 900) || status=1
if [ "${SW_SKIP_ASAN:-0}" != 1 ]; then
  cmake --preset asan >/dev/null
  cmake --build build-asan -j"$jobs"
  # Under the sanitizers the e2e suite replays through the ASan binary too.
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j"$jobs" --timeout 1800 -LE slow) || status=1
fi
exit $status
