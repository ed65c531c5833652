#!/bin/bash
# Peak RSS of spanwatch with FLOWS (default 1M) flows alive at the same time.
# Target from the issues: <= 1 GiB at 1M concurrent flows.
#
#   bench/rss_flows.sh                 1M flows, with and without payload
#   FLOWS=100000 bench/rss_flows.sh    smaller table (quick look)
#
# The capture comes from bench/gen_flows.py (every flow: SYN, SYN-ACK, then a
# request; all inside 20 s of packet time, so none can time out), cached in
# bench/out/. The config raises flow.max-flows above FLOWS and gives
# flow.memcap room for it, so the table never refuses a flow (checked:
# flow.memcap hits must be 0 and flow.total must reach FLOWS).
# Writes bench/out/rss_flows.md, which bench/run.sh copies into RESULTS.md.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$repo/build-bench}
out=${OUT:-$repo/bench/out}
flows=${FLOWS:-1000000}
mkdir -p "$out"

if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j2 --target spanwatch >/dev/null
bin=$build/spanwatch

max_flows=$((flows + flows / 10 + 1024))
cfg=$out/rss-flows.yaml
cat >"$cfg" <<EOF
# 1M concurrent flows: flow slots are 176 bytes, so 1 GiB of flow memcap
# would hold ~6M; max-flows is the binding limit and sits 10% above FLOWS.
flow:
  max-flows: $max_flows
  memcap: 1gb
EOF

# Baseline: the same config with 1000 flows (tables, rule and nDPI set-up),
# so the per-flow figure below is the marginal cost of one more flow.
basepcap=$out/flows-1000-payload.pcap
[ -s "$basepcap" ] || python3 "$repo/bench/gen_flows.py" -n 1000 "$basepcap"
rm -rf "$out/log-rss-base" && mkdir -p "$out/log-rss-base"
/usr/bin/time -v -o "$out/log-rss-base/time" "$bin" -r "$basepcap" -l "$out/log-rss-base" \
    -c "$cfg" --workers 1 -q
base_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out/log-rss-base/time")

md=$out/rss_flows.md
{
    echo "Concurrent flows ($(date '+%Y-%m-%d %H:%M %Z'), 1 worker, bundled rules, config \`flow.max-flows: $max_flows\`, \`flow.memcap: 1gb\`):"
    echo
    echo "Baseline (same config, 1000 flows): $((base_kb / 1024)) MiB peak RSS."
    echo
    echo "| flows alive at once | packets per flow | wall s | peak RSS MiB | marginal RSS per flow | flow.total | flow.memcap hits | target <= 1024 MiB |"
    echo "|---|---|---|---|---|---|---|---|"
} >"$md"

for kind in payload handshake; do
    pcap=$out/flows-$flows-$kind.pcap
    if [ ! -s "$pcap" ]; then
        opt=""
        [ $kind = handshake ] && opt=--no-payload
        python3 "$repo/bench/gen_flows.py" -n "$flows" $opt "$pcap"
    fi
    # Measured 2026-11-22 (e9afada): ~4.8 KB/flow with a request, ~0.7 KB handshake-only.
    # Refuse to push a shared machine into swap or the OOM killer.
    need_kb=$((flows * 6 + 200 * 1024))
    avail_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
    if [ "$avail_kb" -lt $((need_kb * 13 / 10)) ]; then
        echo "rss_flows.sh: $kind: skipped, needs ~$((need_kb / 1024)) MiB x1.3, MemAvailable $((avail_kb / 1024)) MiB" >&2
        printf '| %d | %s | – | skipped: MemAvailable %d MiB < 1.3 x %d MiB | | | | |\n' \
            "$flows" "$kind" "$((avail_kb / 1024))" "$((need_kb / 1024))" >>"$md"
        continue
    fi
    ld=$out/log-rss-$kind
    rm -rf "$ld"
    mkdir -p "$ld"
    t0=$(date +%s%N)
    /usr/bin/time -v -o "$ld/time" "$bin" -r "$pcap" -l "$ld" -c "$cfg" --workers 1 -q
    t1=$(date +%s%N)
    rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$ld/time")
    read -r total memcap < <(python3 - "$ld/eve.json" <<'EOF'
import json, sys
st = None
for line in open(sys.argv[1], "rb"):
    if b'"event_type":"stats"' in line:
        st = json.loads(line)["stats"]
fl = st.get("flow", {}) if st else {}
print(fl.get("total", 0), fl.get("memcap", 0))
EOF
)
    ppf=$([ $kind = handshake ] && echo "2 (SYN, SYN-ACK / query, reply)" || echo "3 (+ request)")
    verdict=$([ "$rss_kb" -le $((1024 * 1024)) ] && echo met || echo "not met")
    printf '| %d | %s | %.2f | %d | %d B | %s | %s | %s |\n' "$flows" "$ppf" \
        "$(echo "($t1 - $t0) / 1000000000" | bc -l)" "$((rss_kb / 1024))" \
        "$(((rss_kb - base_kb) * 1024 / flows))" "$total" "$memcap" "$verdict" >>"$md"
    if [ "$total" -lt "$flows" ] || [ "$memcap" != 0 ]; then
        echo "rss_flows.sh: $kind: only $total flows tracked (memcap hits $memcap)" >&2
    fi
done
cat "$md"
