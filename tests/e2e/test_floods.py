"""Floods against small memcaps (tools/floods.py): for each flood the sensor
must (1) finish, (2) keep its peak RSS under a bound derived from the
configured caps, (3) show in the final stats event that the caps were hit
(evictions, drops, loops), and (4) still alert on the real attack mixed
into the flood (bundled rule sid 9000002).

RSS bound = peak RSS of a replay of the attack alone with the same config
(everything the sensor loads: rules, nDPI, libmagic, sanitizer runtime)
+ the sum of the configured caps (flow, stream, defrag, output queue)
+ HTTP parser state for the flows that can be alive + a fixed slack.
Peak RSS is VmHWM of /proc/PID/status polled while the sensor runs (per
address space, so unlike wait4's ru_maxrss it does not inherit the forking
python's size across exec).

Env: SW_BIN, SW_SOURCE_DIR; SW_FLOOD_SCALE (default 1)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

SRC = os.environ.get("SW_SOURCE_DIR") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("SW_BIN") or os.path.join(SRC, "build", "spanwatch")
sys.path.insert(0, os.path.join(SRC, "tools"))
import floods  # noqa: E402

MB = 1024 * 1024
CAPS = {"flow": 1 * MB, "stream": 1 * MB, "defrag": 1 * MB, "out": 2 * MB}
MAX_FLOWS = 1000
HTTP_STATE = 64 * 1024   # upper estimate per HTTP flow with the limits below
SLACK = 48 * MB          # allocator slack, ASan's capped quarantine, stacks

CONFIG = """
threading:
  workers: 1
flow:
  max-flows: %d
  memcap: %d
stream:
  reassembly:
    memcap: %d
    max-segments: 32
defrag:
  memcap: %d
  timeout: 5s
  trackers: 100
  max-frags: 1000
app-layer:
  http:
    max-header-bytes: 8kb
    max-headers: 50
    request-body-limit: 8kb
    response-body-limit: 8kb
outputs:
  - eve-log:
      enabled: yes
      filetype: regular
      filename: eve.json
      buffer-size: %d
""" % (MAX_FLOWS, CAPS["flow"], CAPS["stream"], CAPS["defrag"], CAPS["out"])

# counters (stats paths) of which at least one must be > 0, per flood
EXPECT = {
    "syn": ["flow.memcap", "spanwatch.flow.end_forced"],
    "frag": ["defrag.max_trackers_reached", "defrag.max_frags_reached",
             "spanwatch.defrag.memcap_hit"],
    "ooo": ["tcp.segment_memcap_drop", "spanwatch.stream.max_segments_reached"],
    "dnsloop": ["spanwatch.dns.pointer_loop"],
    "http": ["spanwatch.http.header_too_long", "spanwatch.http.too_many_headers"],
}
# and these must all be > 0
EXPECT_ALL = {
    "frag": ["decoder.event.ipv4.frag_overlap", "defrag.ipv4.reassembled"],
    "http": ["spanwatch.http.chunk_size_invalid"],
}
# alerts of the attack sid expected (frag: plain + fragmented after the flood)
EXPECT_ATTACKS = {"frag": 2}


def run(pcap, cfg, logdir):
    env = dict(os.environ)
    # ASan's default 256 MB quarantine of freed memory would be counted as
    # RSS; cap it so the bound measures the sensor, not the sanitizer.
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=16"
    os.makedirs(logdir, exist_ok=True)
    errf = open(os.path.join(logdir, "stderr.txt"), "w+b")
    p = subprocess.Popen([BIN, "-q", "-r", pcap, "-l", logdir, "-c", cfg], env=env,
                         stdout=subprocess.DEVNULL, stderr=errf)
    hwm = 0
    while p.poll() is None:
        try:
            with open("/proc/%d/status" % p.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        hwm = max(hwm, int(line.split()[1]) * 1024)
        except (OSError, ValueError):
            pass
        time.sleep(0.01)
    rc = p.returncode
    errf.seek(0)
    err = errf.read().decode(errors="replace")
    errf.close()
    # Only alerts and stats are needed: keep this process small.
    events = []
    with open(os.path.join(logdir, "eve.json"), "rb") as f:
        for line in f:
            if b'"event_type":"alert"' in line or b'"event_type":"stats"' in line:
                events.append(json.loads(line))
    return rc, hwm, events, err


def flat_stats(events):
    stats = [e["stats"] for e in events if e.get("event_type") == "stats"]
    out = {}

    def walk(d, prefix):
        for k, v in d.items():
            if isinstance(v, dict):
                walk(v, prefix + k + ".")
            else:
                out[prefix + k] = v
    if stats:
        walk(stats[-1], "")
    return out


def attack_alerts(events):
    return [e for e in events if e.get("event_type") == "alert" and
            e["alert"].get("signature_id") == floods.ATTACK_SID]


def main():
    scale = int(os.environ.get("SW_FLOOD_SCALE", "1"))
    tmp = tempfile.mkdtemp(prefix="sw-floods-")
    passed = failed = 0
    try:
        cfg = os.path.join(tmp, "floods.yaml")
        with open(cfg, "w") as f:
            f.write(CONFIG)
        base_pcap = os.path.join(tmp, "attack.pcap")
        floods.write_pcap(base_pcap, floods.attack_session(floods.Clock()))
        rc, base_rss, ev, err = run(base_pcap, cfg, os.path.join(tmp, "base"))
        if rc != 0 or not attack_alerts(ev):
            print("FAIL baseline: rc %d, %d attack alerts: %s" % (rc, len(attack_alerts(ev)),
                                                                  err[-500:]))
            print("0 passed, 1 failed")
            return 1
        bound = base_rss + sum(CAPS.values()) + MAX_FLOWS * HTTP_STATE // 8 + SLACK
        print("baseline peak RSS %.1f MB, bound %.1f MB" % (base_rss / MB, bound / MB))
        subprocess.run([sys.executable, os.path.join(SRC, "tools", "floods.py"), tmp,
                        "--scale", str(scale), "--seed", "7"], check=True,
                       stdout=subprocess.DEVNULL)
        for name in floods.FLOODS:
            pcap = os.path.join(tmp, "flood-%s.pcap" % name)
            rc, rss, ev, err = run(pcap, cfg, os.path.join(tmp, name))
            st = flat_stats(ev)
            problems = []
            if rc != 0:
                problems.append("exit %d: %s" % (rc, err[-800:]))
            if rss > bound:
                problems.append("peak RSS %.1f MB > bound %.1f MB" % (rss / MB, bound / MB))
            hit = {k: st.get(k, 0) for k in EXPECT[name]}
            if not any(v > 0 for v in hit.values()):
                problems.append("no cap counter moved: %s" % hit)
            for k in EXPECT_ALL.get(name, []):
                if not st.get(k, 0):
                    problems.append("counter %s is 0" % k)
            want = EXPECT_ATTACKS.get(name, 1)
            got = len(attack_alerts(ev))
            if got < want:
                problems.append("attack alerts (sid %d): %d, want %d" %
                                (floods.ATTACK_SID, got, want))
            shown = {k: v for k, v in st.items() if k in EXPECT[name] or
                     k in EXPECT_ALL.get(name, [])}
            if problems:
                failed += 1
                print("FAIL %s: %s" % (name, "; ".join(problems)))
            else:
                passed += 1
                print("ok   %s: peak %.1f MB (bound %.1f), %d attack alert(s), %s" %
                      (name, rss / MB, bound / MB, got, shown))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
