#!/usr/bin/env python3
"""Generated beacon captures (tools/beacon_gen.py, seeds 101-103) through the
binary, scored by tools/beacon_eval.py against issue 5's targets. The seeds
used for tuning/reporting are others (see the note); these stay fixed."""
import json
import os
import subprocess
import sys
import tempfile

SRC = os.environ.get("SW_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("SW_BIN", os.path.join(SRC, "build", "spanwatch"))
SEEDS = [101, 102, 103]
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL %s %s" % (name, detail))


with tempfile.TemporaryDirectory() as d:
    for seed in SEEDS:
        out = os.path.join(d, "s%d" % seed)
        subprocess.run([sys.executable, os.path.join(SRC, "tools", "beacon_gen.py"), "--seed", str(seed),
                        "--out", out], check=True)
        log = os.path.join(out, "log")
        os.makedirs(log)
        r = subprocess.run([BIN, "-r", os.path.join(out, "beacons.pcap"), "-l", log], capture_output=True, text=True)
        check("seed %d spanwatch exit" % seed, r.returncode == 0, r.stderr[-500:])
        if r.returncode != 0:
            continue
        e = subprocess.run([sys.executable, os.path.join(SRC, "tools", "beacon_eval.py"),
                            os.path.join(log, "eve.json"), os.path.join(out, "truth.json"), "--json"],
                           capture_output=True, text=True)
        res = json.loads(e.stdout)
        print("seed %d: precision %.3f recall %.3f period_error %.3f median_checkins %g" % (
            seed, res["precision"], res["recall"], res["period_error"], res["median_checkins"]))
        for f in res["false_alerts"]:
            print("  false alert", f)
        for p in res["positives"]:
            if not p["detected"]:
                print("  missed", p)
        check("seed %d recall" % seed, res["recall"] >= 0.97, res["recall"])
        check("seed %d precision" % seed, res["precision"] >= 0.97, res["precision"])
        check("seed %d period error" % seed, res["period_error"] <= 0.05, res["period_error"])
        check("seed %d median check-ins" % seed, res["median_checkins"] <= 8, res["median_checkins"])
        # every negative scenario silent, every alert in the contract's shape
        for n in res["negatives"]:
            check("seed %d negative %s" % (seed, n["scenario"]), n["alerts"] == 0, n)
        with open(os.path.join(log, "eve.json")) as f:
            for line in f:
                ev = json.loads(line)
                if ev.get("event_type") != "alert" or "beacon" not in ev:
                    continue
                b = ev["beacon"]
                ok = (ev["alert"]["category"] in ("Command and Control", "A Network Trojan was detected") and
                      b["kind"] in ("flow", "dns") and 0.0 <= b["score"] <= 1.0 and len(b["intervals"]) <= 64 and
                      (b["kind"] != "dns" or b.get("rrname")))
                check("seed %d alert shape" % seed, ok, line[:300])

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
