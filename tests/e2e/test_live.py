#!/usr/bin/env python3
"""Live capture end to end: a veth pair inside a network namespace this test
creates, tcpreplay on one end, spanwatch -i on the other. Checks that the
replayed traffic produces the same application events as the file replay,
that the stats event carries capture counters, that an interface that goes
down and comes back makes the sensor report the gap (Sensor Health) and
resume, and that a quiet interface raises the stall alert. Needs root;
exits 77 (skip) otherwise. Sends nothing outside the namespace."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("SW_BIN", "/work/main/build/spanwatch")
SRC = os.environ.get("SW_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
NS = "swtest%d" % os.getpid()
results = []


def sh(*args, check=True):
    return subprocess.run(list(args), check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def ns(*args, check=True):
    return sh("ip", "netns", "exec", NS, *args, check=check)


def events(path):
    out = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                out.append(json.loads(line))
    return out


def check(name, cond, detail=""):
    results.append((name, bool(cond)))
    print(("PASS " if cond else "FAIL ") + name + ("" if cond else ": " + detail))


def main():
    if os.geteuid() != 0 or not shutil.which("tcpreplay"):
        print("SKIP: needs root and tcpreplay")
        return 77
    try:
        sh("ip", "netns", "add", NS)
    except subprocess.CalledProcessError as e:
        print("SKIP: cannot create a network namespace: " + e.stderr.strip())
        return 77
    tmp = tempfile.mkdtemp(prefix="swlive")
    proc = None
    try:
        # no IPv6 chatter (MLD, ND) of our own: the stall test needs silence
        ns("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        ns("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
        ns("ip", "link", "add", "tap0", "type", "veth", "peer", "name", "span0")
        ns("ip", "link", "set", "lo", "up")
        ns("ip", "link", "set", "tap0", "up")
        ns("ip", "link", "set", "span0", "up")
        cfg = os.path.join(tmp, "live.yaml")
        with open(cfg, "w") as f:
            f.write("stats:\n  interval: 1s\nhealth:\n  stall-timeout: 2s\n"
                    "flow:\n  timeouts:\n    new: 2s\n    tcp-established: 2s\n"
                    "    udp-established: 2s\n    closed: 1s\n")
        logdir = os.path.join(tmp, "log")
        os.mkdir(logdir)
        proc = subprocess.Popen(["ip", "netns", "exec", NS, BIN, "-i", "span0", "-l", logdir,
                                 "-c", cfg, "--workers", "2", "-q"],
                                stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        cap = os.path.join(SRC, "test-pcaps", "zeek-http-pipelined-requests.pcap")
        r = ns("tcpreplay", "-q", "-i", "tap0", "--mbps", "20", cap, check=False)
        check("tcpreplay ran", r.returncode == 0, r.stderr)
        time.sleep(3.5)  # flows time out; a stall alert follows
        # interface down and up again: the sensor must keep capturing
        ns("ip", "link", "set", "span0", "down")
        time.sleep(1.0)
        ns("ip", "link", "set", "span0", "up")
        time.sleep(1.0)
        ns("tcpreplay", "-q", "-i", "tap0", "--mbps", "20",
           os.path.join(SRC, "test-pcaps", "zeek-http-get.pcap"), check=False)
        time.sleep(3.0)
        # the interface disappears (driver reset, cable pulled on a USB NIC)
        # and comes back: capture must resume by itself
        ns("ip", "link", "del", "tap0")
        time.sleep(1.5)
        ns("ip", "link", "add", "tap0", "type", "veth", "peer", "name", "span0")
        ns("ip", "link", "set", "tap0", "up")
        ns("ip", "link", "set", "span0", "up")
        time.sleep(2.5)
        ns("tcpreplay", "-q", "-i", "tap0", "--mbps", "20",
           os.path.join(SRC, "test-pcaps", "sv-http-evader-000.pcap"), check=False)
        time.sleep(2.5)
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = -9
        err = proc.stderr.read()
        check("sensor exits 0 on SIGTERM", rc == 0, "rc=%s stderr=%s" % (rc, err[-500:]))
        ev = events(os.path.join(logdir, "eve.json"))
        http = [e for e in ev if e["event_type"] == "http"]
        urls = sorted(e["http"].get("url", "") for e in http)
        # the file replay of the same capture is the reference
        ref_dir = os.path.join(tmp, "ref")
        os.mkdir(ref_dir)
        sh(BIN, "-q", "-r", cap, "-l", ref_dir)
        ref_urls = sorted(e["http"].get("url", "") for e in events(os.path.join(ref_dir, "eve.json"))
                          if e["event_type"] == "http")
        check("live http events equal the file replay's (first capture)",
              all(u in urls for u in ref_urls) and len(ref_urls) > 0,
              "live=%r ref=%r" % (urls, ref_urls))
        check("traffic after the interface came back is seen",
              "/download/CHANGES.bro-aux.txt" in urls, repr(urls))
        stats = [e for e in ev if e["event_type"] == "stats"]
        check("stats events written every interval", len(stats) >= 3, str(len(stats)))
        last = stats[-1]["stats"] if stats else {}
        kp = last.get("capture", {}).get("kernel_packets", 0)
        check("capture.kernel_packets counted", kp > 0, json.dumps(last.get("capture")))
        health = [e for e in ev if e["event_type"] == "alert" and e["alert"]["category"] == "Sensor Health"]
        sids = {e["alert"]["signature_id"] for e in health}
        check("stall alert raised when traffic stopped", 9200001 in sids, repr(sids))
        check("resumed alert raised when traffic came back", 9200005 in sids, repr(sids))
        check("capture error alert when the interface vanished", 9200003 in sids, repr(sids))
        check("traffic after the interface was recreated is seen",
              any("eicar" in u for u in urls), repr(urls))
        flows = [e for e in ev if e["event_type"] == "flow"]
        check("flows timed out and logged", len(flows) >= 2, str(len(flows)))
    finally:
        if proc and proc.poll() is None:
            proc.kill()
        sh("ip", "netns", "del", NS, check=False)
        if os.environ.get("SW_KEEP"): print("kept", tmp)
        else: shutil.rmtree(tmp, ignore_errors=True)
    failed = sum(1 for _, ok in results if not ok)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
