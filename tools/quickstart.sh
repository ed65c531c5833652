#!/usr/bin/env bash
# Builds spanwatch and replays a bundled capture: the first thing to run on
# a fresh Debian machine (installs what is missing, needs root or sudo).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target spanwatch >/dev/null
out="${1:-$top/build/quickstart}"
mkdir -p "$out"
rm -f "$out/eve.json"
# A web attack scan, a Heartbleed attempt, a DNS tunnel, an executable
# download and ordinary TLS: a little of everything the sensor reports.
caps=(test-pcaps/ndpi-WebattackRCE.pcap test-pcaps/zeek-heartbleed.pcap
      test-pcaps/sv-dns-bug-1158-iodine.pcap test-pcaps/ndpi-exe_download.pcap
      test-pcaps/zeek-tls1.2.pcap)
args=()
for c in "${caps[@]}"; do args+=(-r "$c"); done
./build/spanwatch "${args[@]}" -l "$out"
echo "eve.json: $out/eve.json"
python3 - "$out/eve.json" <<'PY'
import json, sys, collections
c = collections.Counter()
sigs = collections.Counter()
for line in open(sys.argv[1]):
    e = json.loads(line)
    c[e["event_type"]] += 1
    if e["event_type"] == "alert":
        sigs[e["alert"]["signature"]] += 1
print("events: " + ", ".join(f"{k}={v}" for k, v in sorted(c.items())))
for s, n in sigs.most_common(8):
    print(f"  alert x{n}: {s}")
PY
