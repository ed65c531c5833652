#!/usr/bin/env python3
"""Scores spanwatch beacon alerts (eve.json) against a beacon_gen.py truth.

    beacon_eval.py EVE.json TRUTH.json [--min-precision 0.97] [--min-recall 0.97]
                   [--max-period-error 0.05] [--max-median-checkins 8] [--json]

Every alert event with a `beacon` object counts. An alert is a true
positive when its src_ip is a positive's host and it names the positive's
key (beacon.server_name, beacon.rrname, or dest_ip/dest_port for unnamed
flows); every other beacon alert is a false positive. Recall: positives
with at least one matching alert. Period error: |period - truth| / truth of
the first matching periodicity alert (sid 9100001-9100004), averaged.
Check-ins until alert: beacon.count of that alert (median). Exits 1 when a
--min/--max bar is missed.
"""
import argparse
import json
import statistics
import sys

PERIODIC_SIDS = {9100001, 9100002, 9100003, 9100004}


def load_alerts(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            e = json.loads(line)
            if e.get("event_type") == "alert" and "beacon" in e:
                out.append(e)
    out.sort(key=lambda e: e["timestamp"])
    return out


def matches(pos, e):
    if e.get("src_ip") != pos["src"]:
        return False
    b = e["beacon"]
    if pos["kind"] == "dns":
        return b.get("kind") == "dns" and (b.get("rrname") or "").lower() == pos["rrname"].lower()
    if b.get("kind") != "flow":
        return False
    if "server_name" in pos:
        return (b.get("server_name") or "").lower() == pos["server_name"].lower()
    return e.get("dest_ip") == pos["dst"] and e.get("dest_port") == pos["dport"] and not b.get("server_name")


def evaluate(alerts, truth):
    res = {"positives": [], "negatives": [], "false_alerts": []}
    used = set()
    errs, counts = [], []
    for p in truth["positives"]:
        m = [i for i, e in enumerate(alerts) if matches(p, e)]
        used.update(m)
        per = [alerts[i] for i in m if alerts[i]["alert"]["signature_id"] in PERIODIC_SIDS]
        r = {"scenario": p["scenario"], "src": p["src"], "detected": bool(m), "alerts": len(m)}
        if per:
            b = per[0]["beacon"]
            r["period"] = b["period"]
            r["period_error"] = abs(b["period"] - p["period"]) / p["period"]
            r["count"] = b["count"]
            errs.append(r["period_error"])
            counts.append(b["count"])
        res["positives"].append(r)
    neg_hosts = {h: n["scenario"] for n in truth["negatives"] for h in n["hosts"]}
    for i, e in enumerate(alerts):
        if i not in used:
            res["false_alerts"].append({"src": e.get("src_ip"), "dest": e.get("dest_ip"),
                                        "sid": e["alert"]["signature_id"],
                                        "scenario": neg_hosts.get(e.get("src_ip"), "?"),
                                        "name": e["beacon"].get("server_name") or e["beacon"].get("rrname")})
    for n in truth["negatives"]:
        res["negatives"].append({"scenario": n["scenario"],
                                 "alerts": sum(1 for f in res["false_alerts"] if f["src"] in n["hosts"])})
    npos = len(truth["positives"])
    res["recall"] = sum(r["detected"] for r in res["positives"]) / npos if npos else 1.0
    res["precision"] = len(used) / len(alerts) if alerts else 1.0
    res["period_error"] = statistics.mean(errs) if errs else 0.0
    res["period_error_max"] = max(errs) if errs else 0.0
    res["median_checkins"] = statistics.median(counts) if counts else 0
    res["alerts"] = len(alerts)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("eve")
    ap.add_argument("truth")
    ap.add_argument("--min-precision", type=float)
    ap.add_argument("--min-recall", type=float)
    ap.add_argument("--max-period-error", type=float)
    ap.add_argument("--max-median-checkins", type=float)
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    a = ap.parse_args()
    with open(a.truth) as f:
        truth = json.load(f)
    r = evaluate(load_alerts(a.eve), truth)
    if a.json:
        print(json.dumps(r, indent=1))
    else:
        for p in r["positives"]:
            print("  POS %-26s %-12s %s%s" % (p["scenario"], p["src"], "detected" if p["detected"] else "MISSED",
                  "  count %d period %.1f err %.1f%%" % (p["count"], p["period"], 100 * p["period_error"])
                  if "count" in p else ""))
        for n in r["negatives"]:
            print("  NEG %-26s alerts %d" % (n["scenario"], n["alerts"]))
        for f in r["false_alerts"]:
            print("  FALSE ALERT sid %d %s -> %s %s (%s)" % (f["sid"], f["src"], f["dest"], f["name"] or "",
                                                             f["scenario"]))
        print("precision %.3f recall %.3f period_error %.3f (max %.3f) median_checkins %g alerts %d" % (
            r["precision"], r["recall"], r["period_error"], r["period_error_max"], r["median_checkins"],
            r["alerts"]))
    bad = []
    if a.min_precision is not None and r["precision"] < a.min_precision:
        bad.append("precision")
    if a.min_recall is not None and r["recall"] < a.min_recall:
        bad.append("recall")
    if a.max_period_error is not None and r["period_error"] > a.max_period_error:
        bad.append("period error")
    if a.max_median_checkins is not None and r["median_checkins"] > a.max_median_checkins:
        bad.append("median check-ins")
    if bad:
        print("FAIL: " + ", ".join(bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
