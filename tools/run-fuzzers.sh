#!/bin/bash
# Runs every libFuzzer target of a SW_FUZZ build for a given time each.
#   tools/run-fuzzers.sh SECONDS [BUILD_DIR] [WORK_DIR]
# BUILD_DIR defaults to build-fuzz (the "fuzz" preset), WORK_DIR to
# BUILD_DIR/fuzz-work. Each target first replays its regression inputs
# (tests/fuzz/regressions/<target>/), then fuzzes starting from the seed
# corpus (tests/fuzz/seeds.sh, built on first use) plus the corpus kept from
# earlier runs in WORK_DIR/corpus/<target>. Crashes, leaks, timeouts and OOMs
# land in WORK_DIR/crashes/<target>/.
# Env: FUZZ_JOBS (parallel jobs per target, default 1), FUZZ_TARGETS
# (space-separated subset), FUZZ_RSS_MB (default 2048), FUZZ_KEEP_GOING=1
# (fork mode: keep fuzzing after a crash, collecting every artifact; for
# long runs while a known bug is unfixed).
# Exit: 0 no finding, 1 findings (listed), 2 usage or build problem.
# CPU time is measured (user + system of every fuzzing process, as the
# shell's children times), printed per target and in total, and appended
# to WORK_DIR/ledger.tsv (date, commit, target, wall s, CPU s, artifacts),
# so campaigns spread over several runs add up honestly.
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
SECS=${1:-}
BUILD=${2:-$SRC/build-fuzz}
WORK=${3:-$BUILD/fuzz-work}
JOBS=${FUZZ_JOBS:-1}
RSS=${FUZZ_RSS_MB:-2048}
mkdir -p "$WORK" && WORK=$(cd "$WORK" && pwd)
BUILD=$(cd "$BUILD" 2>/dev/null && pwd || echo "$BUILD")
if [[ -z "$SECS" || ! "$SECS" =~ ^[0-9]+$ ]]; then
    echo "usage: $0 SECONDS [BUILD_DIR] [WORK_DIR]" >&2
    exit 2
fi
targets=${FUZZ_TARGETS:-}
if [[ -z "$targets" ]]; then
    for f in "$SRC"/tests/fuzz/fuzz_*.c; do
        targets+=" $(basename "$f" .c)"
    done
fi
[[ -d "$WORK/seeds" ]] || "$SRC/tests/fuzz/seeds.sh" "$WORK/seeds" >/dev/null || exit 2

max_len() {
    case "$1" in
    fuzz_pipeline|fuzz_http|fuzz_tls) echo 65536 ;;
    fuzz_rules|fuzz_config|fuzz_ioc|fuzz_defrag) echo 16384 ;;
    *) echo 8192 ;;
    esac
}

findings=0
cpu=0
# CPU seconds of all reaped children so far: bash's `times`, run in this
# shell (in a $(...) subshell it would only see the subshell's children).
TIMES_FILE=$(mktemp)
trap 'rm -f "$TIMES_FILE" "$TIMES_FILE.v"' EXIT
children_cpu() {
    times > "$TIMES_FILE"
    tail -1 "$TIMES_FILE" | awk '{
        s = 0
        for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); s += a[1] * 60 + a[2] }
        printf "%.1f", s }'
}
commit=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -f "$WORK/ledger.tsv" ]] || printf 'date\tcommit\ttarget\twall_s\tcpu_s\tartifacts\n' > "$WORK/ledger.tsv"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for t in $targets; do
    t=${t#fuzz_}
    t=fuzz_$t
    bin=$BUILD/$t
    name=${t#fuzz_}
    if [[ ! -x "$bin" ]]; then
        echo "$t: not built ($bin); build with: cmake --preset fuzz && cmake --build build-fuzz --target fuzz" >&2
        exit 2
    fi
    corpus=$WORK/corpus/$name
    crashes=$WORK/crashes/$name
    logs=$WORK/logs/$name
    mkdir -p "$corpus" "$crashes" "$logs"
    reg=$SRC/tests/fuzz/regressions/$name
    if compgen -G "$reg/*" >/dev/null; then
        if ! "$bin" -runs=0 "$reg"/* >"$logs/regressions.log" 2>&1; then
            echo "$t: REGRESSION input fails again (see $logs/regressions.log)"
            findings=$((findings + 1))
        fi
    fi
    seeds=$WORK/seeds/$name
    mkdir -p "$seeds"
    before=$(ls "$crashes" | wc -l)
    children_cpu > "$TIMES_FILE.v"; cpu0=$(cat "$TIMES_FILE.v")
    wall0=$(date +%s)
    args=(-max_total_time="$SECS" -max_len="$(max_len "$t")" -timeout=25
          -rss_limit_mb="$RSS" -artifact_prefix="$crashes/" -print_final_stats=1)
    if [[ "${FUZZ_KEEP_GOING:-0}" = 1 ]]; then
        (cd "$logs" && "$bin" "${args[@]}" -fork="$JOBS" -ignore_crashes=1 \
            -ignore_ooms=1 -ignore_timeouts=1 "$corpus" "$seeds" >"$logs/run.log" 2>&1)
    elif [[ "$JOBS" -gt 1 ]]; then
        (cd "$logs" && "$bin" "${args[@]}" -jobs="$JOBS" -workers="$JOBS" \
            "$corpus" "$seeds" >"$logs/run.log" 2>&1)
    else
        "$bin" "${args[@]}" "$corpus" "$seeds" >"$logs/run.log" 2>&1
    fi
    rc=$?
    children_cpu > "$TIMES_FILE.v"
    tcpu=$(awk -v a="$(cat "$TIMES_FILE.v")" -v b="$cpu0" 'BEGIN { printf "%.1f", a - b }')
    cpu=$(awk -v a="$cpu" -v b="$tcpu" 'BEGIN { printf "%.1f", a + b }')
    after=$(ls "$crashes" | wc -l)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$commit" "$name" \
        "$(($(date +%s) - wall0))" "$tcpu" "$((after - before))" >> "$WORK/ledger.tsv"
    execs=$(grep -ho 'stat::number_of_executed_units: *[0-9]*' "$logs"/*.log 2>/dev/null |
            awk '{s += $2} END {print s + 0}')
    cov=$(grep -ho 'cov: [0-9]*' "$logs/run.log" | tail -1)
    if [[ "$after" -gt "$before" || ( "$rc" -ne 0 && "$JOBS" -eq 1 ) ]]; then
        findings=$((findings + 1))
        echo "$t: FINDING (rc $rc), $((after - before)) new artifact(s) in $crashes:"
        ls -t "$crashes" | head -$((after - before > 0 ? after - before : 1)) | sed 's/^/    /'
        grep -m3 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|invariant failed' \
            "$logs"/*.log | sed 's/^/    /'
    else
        echo "$t: ok, ${SECS}s x $JOBS, ${tcpu} CPU-s, $execs execs, $cov"
    fi
done
echo "cpu-seconds (measured): $cpu"
if [[ "$findings" -gt 0 ]]; then
    echo "$findings target(s) with findings"
    exit 1
fi
echo "no findings"
exit 0
