#!/bin/bash
# spanwatch throughput benchmark (bench/README.md explains every number).
#
#   bench/run.sh            build, generate inputs if missing, run every case
#                           RUNS times (default 3), print the markdown table
#                           and write bench/RESULTS.md
#   RUNS=1 bench/run.sh     quick look (RESULTS.md then says "1 run")
#   CASES="floor none-1w" bench/run.sh   only some cases (ids below)
#
# Environment: BUILD (default build-bench, RelWithDebInfo), OUT (default
# bench/out, git-ignored), RUNS, CASES, NO_RESULTS=1 (do not write RESULTS.md).
# Cases run in rounds (every case once, then again ...) so that a burst of
# load from other work on the machine spreads over all cases instead of
# hitting three runs of one case.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$repo/build-bench}
out=${OUT:-$repo/bench/out}
runs=${RUNS:-3}
shared=${SW_SHARED:-$repo/../shared}
mkdir -p "$out"

log() { echo "run.sh: $*" >&2; }

# --- build -----------------------------------------------------------------
if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j2 --target spanwatch floor >/dev/null
# The tree is shared: record what the binary was built from, now, not at the end.
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no -- sensor decoders signatures 2>/dev/null)" ]; then
    commit="$commit + uncommitted edits in sensor/decoders/signatures"
fi
bin=$build/spanwatch
floor=$build/floor

# --- inputs ----------------------------------------------------------------
pcap=$out/bench.pcap
if [ ! -s "$pcap" ] || [ ! -s "$out/rules/full-core.rules" ]; then
    log "building bench.pcap and ET Open subsets (make-bench.sh)"
    bash "$shared/bench/make-bench.sh" "$out" >&2
fi
: >"$out/empty.rules"

# 100k IoC domains: deterministic, shaped like a real feed (random labels
# under a spread of TLDs), plus a few names that occur in bench.pcap so the
# run proves the list is live (the alerts are counted in the results).
ioc=$out/ioc-100k.txt
if [ ! -s "$ioc" ]; then
    python3 - "$ioc" <<'EOF'
import random, sys
r = random.Random(100000)
tlds = ["com", "net", "org", "info", "ru", "cn", "xyz", "top", "io", "biz", "online", "site"]
abc = "abcdefghijklmnopqrstuvwxyz0123456789"
seen = set()
with open(sys.argv[1], "w") as f:
    f.write("# bench: 100k synthetic domain indicators\n")
    for d in ("courier.push.apple.com", "these-are-not-the-droids-youre-looking-for.com",
              "ocsp.digicert.com"):
        seen.add(d); f.write(d + "\n")
    while len(seen) < 100000:
        lab = "".join(r.choice(abc) for _ in range(r.randint(6, 16)))
        d = lab + "." + r.choice(tlds)
        if r.random() < 0.3:
            d = "".join(r.choice(abc) for _ in range(r.randint(3, 8))) + "." + d
        if d not in seen:
            seen.add(d); f.write(d + "\n")
EOF
fi
cat >"$out/ioc.yaml" <<EOF
ioc:
  enabled: yes
  lists:
    - path: $ioc
      type: domain
      name: bench-100k
EOF

# File + redis output: a redis-server of our own on a free loopback port.
redis_port=""
redis_pid=""
cleanup() {
    if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT
start_redis() {
    redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    mkdir -p "$out/redis"
    redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
        --dir "$out/redis" --daemonize no --logfile "$out/redis/redis.log" &
    redis_pid=$!
    for _ in $(seq 50); do
        redis-cli -p "$redis_port" ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    log "redis-server did not start (see $out/redis/redis.log)"
    exit 1
}

# --- cases -----------------------------------------------------------------
# id | label (engine column) | rules column | spanwatch args
all_cases=(floor none-1w none-2w bundled-1w etbench-1w etfull-1w ioc-1w etfull-ioc-1w redis-1w)
declare -A label rules args
label[floor]='floor: `pcap_next_ex` loop';  rules[floor]='–'
label[none-1w]='spanwatch, 1 worker';      rules[none-1w]='none';             args[none-1w]="-S $out/empty.rules --workers 1"
label[none-2w]='spanwatch, 2 workers';     rules[none-2w]='none';             args[none-2w]="-S $out/empty.rules --workers 2"
label[bundled-1w]='spanwatch, 1 worker';   rules[bundled-1w]='bundled (35)';  args[bundled-1w]="--workers 1"
label[etbench-1w]='spanwatch, 1 worker';   rules[etbench-1w]='ET bench (2k)'; args[etbench-1w]="-S $out/rules/bench-core.rules --workers 1"
label[etfull-1w]='spanwatch, 1 worker';    rules[etfull-1w]='ET full (8.2k)'; args[etfull-1w]="-S $out/rules/full-core.rules --workers 1"
label[ioc-1w]='spanwatch, 1 worker';       rules[ioc-1w]='bundled + 100k IoC domains'; args[ioc-1w]="-c $out/ioc.yaml --workers 1"
label[etfull-ioc-1w]='spanwatch, 1 worker'; rules[etfull-ioc-1w]='ET full (8.2k) + 100k IoC domains'; args[etfull-ioc-1w]="-c $out/ioc.yaml -S $out/rules/full-core.rules --workers 1"
label[redis-1w]='spanwatch, 1 worker, file + redis output'; rules[redis-1w]='bundled (35)'; args[redis-1w]="-c $out/redis.yaml --workers 1"
cases=(${CASES:-${all_cases[@]}})

for c in "${cases[@]}"; do
    [ -n "${label[$c]+x}" ] || { log "unknown case '$c' (known: ${all_cases[*]})"; exit 2; }
    if [ "$c" = redis-1w ] && [ -z "$redis_pid" ]; then
        start_redis
        cat >"$out/redis.yaml" <<EOF
outputs:
  - eve-log:
      filetype: regular
      name: file
      filename: eve.json
  - eve-log:
      filetype: redis
      name: redis
      server: 127.0.0.1
      port: $redis_port
      redis:
        mode: list
        key: spanwatch-bench
        pipelining: {enabled: yes, batch-size: 256}
      spool: {enabled: yes, max-size: 1gb}
      close-timeout: 60s
EOF
    fi
done

res=$out/results.tsv
: >"$res"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
cat "$pcap" >/dev/null # page cache warm, as for the reference figures

run_one() { # case round
    local c=$1 r=$2 t0 t1 tv=$out/time.$c.$r
    local ld=$out/log-$c
    rm -rf "$ld"
    mkdir -p "$ld"
    if [ "$c" = redis-1w ]; then redis-cli -p "$redis_port" del spanwatch-bench >/dev/null; fi
    local load1
    load1=$(cut -d' ' -f1 /proc/loadavg)
    t0=$(date +%s%N)
    if [ "$c" = floor ]; then
        /usr/bin/time -v -o "$tv" "$floor" "$pcap" >"$ld/floor.out"
    else
        # shellcheck disable=SC2086
        /usr/bin/time -v -o "$tv" "$bin" -r "$pcap" -l "$ld" ${args[$c]} -q 2>"$ld/stderr" || {
            log "$c: spanwatch failed:"; cat "$ld/stderr" >&2; exit 1; }
    fi
    t1=$(date +%s%N)
    local rss pkts events extra=""
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tv")
    if [ "$c" = floor ]; then
        pkts=$(sed -n 's/^packets=\([0-9]*\).*/\1/p' "$ld/floor.out")
        events=0
    else
        # Packets the sensor says it read (last stats event), so a run that
        # stopped early cannot pass for a fast one.
        read -r pkts events extra < <(python3 - "$ld/eve.json" <<'EOF'
import json, sys
pk, n, alerts, ioc = 0, 0, 0, 0
for line in open(sys.argv[1], "rb"):
    n += 1
    if b'"event_type":"stats"' in line:
        s = json.loads(line)["stats"]
        pk = s.get("spanwatch", {}).get("capture", {}).get("packets", pk)
    elif b'"event_type":"alert"' in line:
        alerts += 1
        ioc += b'"ioc":{' in line
print(pk, n, "alerts=%d,ioc_alerts=%d" % (alerts, ioc))
EOF
)
        if [ "$c" = redis-1w ]; then
            extra="$extra,redis_lines=$(redis-cli -p "$redis_port" llen spanwatch-bench)"
        fi
    fi
    # CPU seconds (user+sys) are less sensitive to other load than wall time;
    # they go into the per-case detail next to the 1-minute load average.
    local cpu
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$tv")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$r" "$(( (t1 - t0) / 1000 ))" "$rss" \
        "$pkts" "$events" "$extra" "$cpu" "$load1" >>"$res"
    log "$(printf '%-14s run %d: %6.3f s  rss %4d MiB  pkts %s  events %s %s' "$c" "$r" \
        "$(echo "($t1 - $t0) / 1000000000" | bc -l)" "$((rss / 1024))" "$pkts" "$events" "$extra")"
}

for r in $(seq "$runs"); do
    for c in "${cases[@]}"; do run_one "$c" "$r"; done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report ----------------------------------------------------------------
labels_tsv=$out/labels.tsv
: >"$labels_tsv"
for c in "${cases[@]}"; do printf '%s\t%s\t%s\t%s\n' "$c" "${label[$c]}" "${rules[$c]}" "${args[$c]:-}" >>"$labels_tsv"; done
machine="$(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
RSS_MD=$out/rss_flows.md python3 - "$res" "$labels_tsv" "$runs" "$load_before" "$load_after" "$machine" "$commit" \
    "${NO_RESULTS:+/dev/null}" "$repo/bench/RESULTS.md" <<'EOF'
import statistics, sys, time
res, labels, runs, lb, la, machine, commit = sys.argv[1:8]
dest = sys.argv[8] if sys.argv[8] else sys.argv[9]
rows = {}
for line in open(res):
    c, r, us, rss, pk, ev, extra, cpu, load1 = line.rstrip("\n").split("\t")
    rows.setdefault(c, []).append((int(us) / 1e6, int(rss) / 1024, int(pk or 0), int(ev), extra,
                                   float(cpu), load1))
order = [l.rstrip("\n").split("\t") for l in open(labels)]
def med(c):
    runs_ = rows[c]
    wall = statistics.median(x[0] for x in runs_)
    return wall, max(x[1] for x in runs_), runs_
floor_pps = None
if "floor" in rows:
    w, _, rr = med("floor")
    floor_pps = rr[0][2] / w
def fmt_pps(p):
    return "%.2f M" % (p / 1e6) if p >= 1e6 else "%.0f k" % (p / 1e3)
out = []
out.append("| engine (built from source here) | rules | wall s (median) | packets/s | share of floor | peak RSS MiB |")
out.append("|---|---|---|---|---|---|")
share = {}
notes = []
for c, lab, rul, args in order:
    w, rss, rr = med(c)
    pk = rr[0][2]
    pps = pk / w
    sh = pps / floor_pps if floor_pps else float("nan")
    share[c] = sh
    out.append("| %s | %s | %.3f | %s | %.1f%% | %.0f |" % (lab, rul, w, fmt_pps(pps), 100 * sh, rss))
    pks = {x[2] for x in rr}
    if len(pks) != 1:
        notes.append("%s: packet counts differ between runs: %s" % (c, sorted(pks)))
    if c != "floor":
        notes.append("`%s`: %s events, %s; wall s %s; cpu s (user+sys) %s; load at start %s" % (
            c, rr[0][3], rr[0][4], ", ".join("%.2f" % x[0] for x in rr),
            ", ".join("%.2f" % x[5] for x in rr), ", ".join(x[6] for x in rr)))
    else:
        notes.append("`floor`: %d packets; wall s %s; load at start %s" % (
            pk, ", ".join("%.3f" % x[0] for x in rr), ", ".join(x[6] for x in rr)))
tg = []
for c, what, aim in (("none-1w", "1 worker, no rules (backbone)", 0.60),
                     ("bundled-1w", "1 worker, bundled rules (app layer)", 0.50),
                     ("etfull-ioc-1w", "1 worker, ET Open full + 100k IoC", 0.35)):
    if c in share and floor_pps:
        tg.append("| %s | %.0f%% | %.1f%% | %s |" % (what, aim * 100, share[c] * 100,
                                                  "met" if share[c] >= aim else "not met"))
table = "\n".join(out)
print(table)
if tg:
    print("\n| target | aim (share of floor) | reached | |\n|---|---|---|---|\n" + "\n".join(tg))
if dest == "/dev/null":
    sys.exit(0)
with open(dest, "w") as f:
    f.write("# spanwatch benchmark results\n\n")
    f.write("Written by `bench/run.sh` on %s (binary built from %s).\n\n" % (time.strftime("%Y-%m-%d %H:%M %Z"), commit))
    f.write("- Machine: %s\n" % machine)
    f.write("- Input: bench/out/bench.pcap from shared/bench/make-bench.sh (1,011,370 packets, 353 MB)\n")
    f.write("- Median wall time of %s run(s) per case, cases interleaved in rounds; peak RSS is the\n"
            "  largest of the runs (`/usr/bin/time -v`). Page cache warm. Start-up (rule and IoC\n"
            "  loading) and shutdown (flushing every flow and output) are included.\n" % runs)
    f.write("- Load average (1/5/15 min) before: %s, after: %s. The machine is shared with\n"
            "  other engineers' builds: treat differences under ~15%% as noise.\n\n" % (lb, la))
    f.write(table + "\n")
    if tg:
        f.write("\n## Targets (from the issues)\n\n| target | aim (share of floor) | reached | |\n|---|---|---|---|\n" + "\n".join(tg) + "\n")
    f.write("\n## Per-case detail\n\n" + "\n".join("- " + n for n in notes) + "\n")
    import os
    rf = os.environ.get("RSS_MD", "")
    if rf and os.path.exists(rf):
        f.write("\n## Memory with concurrent flows (bench/rss_flows.sh, last run)\n\n" + open(rf).read())
EOF
