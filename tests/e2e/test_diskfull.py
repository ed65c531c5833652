#!/usr/bin/env python3
"""Output safety on a full disk: the log directory is a tiny tmpfs this test
mounts, nearly filled by a filler file. The sensor must keep running, write
only whole lines, count what it could not write, raise a Sensor Health alert
when writing fails and another when space returns (the filler is removed
while the replay goes on). Needs root (mount); exits 77 otherwise."""
import json
import os
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("SW_BIN", "/work/main/build/spanwatch")
SHARED = os.environ.get("SW_SHARED", "/work/shared")
CAP = os.path.join(SHARED, "pcaps", "c2", "slips-test-cc-capture-1.pcap")
results = []


def check(name, cond, detail=""):
    results.append(bool(cond))
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + detail))


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root to mount a tmpfs")
        return 77
    tmp = tempfile.mkdtemp(prefix="swfull")
    mnt = os.path.join(tmp, "mnt")
    os.mkdir(mnt)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt],
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        print("SKIP: cannot mount tmpfs: " + r.stderr.strip())
        return 77
    try:
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb") as f:
            f.write(b"\0" * (1024 * 1024 - 48 * 1024))
        cfg = os.path.join(tmp, "c.yaml")
        with open(cfg, "w") as f:
            f.write("stats:\n  interval: 5s\n")
        # the same 11-minute capture several times: the replay runs long
        # enough to free space in the middle of it
        args = [BIN, "-c", cfg, "-l", mnt, "--workers", "1", "-q"]
        for _ in range(40):
            args += ["-r", CAP]
        p = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
        # wait until the disk is full, then give the space back
        deadline = time.time() + 60
        while time.time() < deadline and p.poll() is None:
            st = os.statvfs(mnt)
            if st.f_bavail * st.f_frsize < 8192:
                break
            time.sleep(0.01)
        time.sleep(0.5)
        os.unlink(filler)
        try:
            err = p.communicate(timeout=300)[1]
        except subprocess.TimeoutExpired:
            p.kill()
            err = p.communicate()[1]
        check("sensor exits 0 despite the full disk", p.returncode == 0,
              "rc=%s %s" % (p.returncode, err[-300:]))
        lines = open(os.path.join(mnt, "eve.json"), "rb").read().split(b"\n")
        check("file ends with a complete line", lines[-1] == b"", repr(lines[-1][:80]))
        bad = 0
        events = []
        for l in lines[:-1]:
            try:
                events.append(json.loads(l))
            except ValueError:
                bad += 1
        check("every line is a whole JSON event", bad == 0, "%d broken lines" % bad)
        health = [e for e in events if e.get("event_type") == "alert"
                  and e["alert"]["category"] == "Sensor Health"]
        sids = [e["alert"]["signature_id"] for e in health]
        check("recovery alert written once space returned", 9200006 in sids, repr(sids))
        lost = [e for e in health if e["alert"]["signature_id"] == 9200006]
        check("recovery alert says how many events were lost",
              lost and "events were lost" in lost[0]["alert"]["signature"]
              and not lost[0]["alert"]["signature"].startswith("SPANWATCH output writes again; 0 "),
              repr(lost[:1]))
        stats = [e for e in events if e.get("event_type") == "stats"]
        werr = 0
        if stats:
            outs = stats[-1]["stats"].get("spanwatch", {}).get("output", {})
            werr = sum(o.get("write_errors", 0) for o in outs.values())
        check("stats count the lines that could not be written", werr > 0, str(werr))
    finally:
        subprocess.run(["umount", "-l", mnt])
        subprocess.run(["rm", "-rf", tmp])
    failed = results.count(False)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
