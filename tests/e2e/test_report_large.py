#!/usr/bin/env python3
"""spanwatch-report on a ~200 MB eve.json (plus a rotated .gz part) with
hundreds of thousands of distinct hosts and destinations: peak RSS stays
under 200 MB (the tool streams and caps its top-N tables), totals are exact,
a day without data shows up as a gap, and the tool says how long it took."""

import gzip
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile

SRC = os.path.abspath(os.environ.get("SW_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")))
TOOL = os.path.join(SRC, "tools", "spanwatch-report")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swtest  # noqa: E402
TARGET = int(os.environ.get("SW_REPORT_LARGE_BYTES", 200 * 1024 * 1024))
RSS_LIMIT_KB = 200 * 1024

check = swtest.Checks()


DAY0 = 1763596800  # 2025-11-20 00:00 UTC


def ts(t):
    import time as _t
    return _t.strftime("%Y-%m-%dT%H:%M:%S", _t.gmtime(t)) + ".%06d+0000" % int((t % 1) * 1e6)


def generate(path, gz_path):
    """Seven days of traffic, day 4 missing (a gap); returns expected totals."""
    rnd = random.Random(42)
    exp = {"flows": 0, "alerts": 0, "sev": [0, 0, 0, 0], "dns": 0, "beacons": 0}
    flow_t = ('{"timestamp":"%s","flow_id":%d,"event_type":"flow","src_ip":"10.%d.%d.%d","src_port":%d,'
              '"dest_ip":"%d.%d.%d.%d","dest_port":443,"proto":"TCP","app_proto":"tls","flow":{"pkts_toserver":%d,'
              '"pkts_toclient":%d,"bytes_toserver":%d,"bytes_toclient":%d,"start":"%s","end":"%s","age":1,'
              '"state":"closed","reason":"timeout","alerted":false},"geoip":{"dest":{"country_iso_code":"DE",'
              '"country_name":"Germany","asn":%d,"as_org":"Example Networks %d"}}}\n')
    dns_t = ('{"timestamp":"%s","flow_id":%d,"event_type":"dns","src_ip":"10.%d.%d.%d","src_port":%d,'
             '"dest_ip":"10.0.0.53","dest_port":53,"proto":"UDP","dns":{"type":"query","id":%d,'
             '"rrname":"host%d.example-%d.com","rrtype":"A","tx_id":0}}\n')
    alert_t = ('{"timestamp":"%s","flow_id":%d,"event_type":"alert","src_ip":"10.%d.%d.%d","src_port":%d,'
               '"dest_ip":"%d.%d.%d.%d","dest_port":80,"proto":"TCP","alert":{"action":"allowed","gid":1,'
               '"signature_id":%d,"rev":1,"signature":"LARGE test signature %d","category":"Test","severity":%d}}\n')
    beacon_t = ('{"timestamp":"%s","flow_id":%d,"event_type":"alert","src_ip":"10.9.%d.%d","src_port":40000,'
                '"dest_ip":"203.0.113.%d","dest_port":443,"proto":"TCP","alert":{"action":"allowed","gid":1,'
                '"signature_id":9100001,"rev":1,"signature":"SPANWATCH BEACON periodic check-ins to one address",'
                '"category":"Command and Control","severity":2},"beacon":{"kind":"flow","period":60.0,'
                '"jitter":0.05,"count":%d,"score":%.2f,"first_seen":"%s","last_seen":"%s","intervals":[%s]}}\n')
    stats_t = ('{"timestamp":"%s","event_type":"stats","stats":{"uptime":%d,"decoder":{"pkts":%d,"bytes":%d},'
               '"capture":{"kernel_packets":%d,"kernel_drops":%d,"kernel_ifdrops":0,"errors":0},'
               '"flow":{"total":%d},"spanwatch":{"capture":{"stalls":%d},'
               '"output":{"file":{"spooled":0,"dropped":0,"write_errors":0,"spool_bytes":%d,"queue_len":0}}}}}\n')
    pk = drops = 0
    written = 0
    fid = 1
    gzf = gzip.open(gz_path, "wt", compresslevel=1)
    f = open(path, "w")
    day_secs = 86400
    n_days = 7
    t_stats = 0
    for day in range(n_days):
        if day == 3:
            continue            # the sensor was down: no events at all that day
        out = gzf if day == 0 else f
        t = DAY0 + day * day_secs
        end = t + day_secs
        while t < end:
            t += rnd.random() * 0.9
            r = rnd.random()
            fid += 1
            a, b, c = rnd.randrange(256), rnd.randrange(256), rnd.randrange(1, 255)
            if r < 0.55:
                line = flow_t % (ts(t), fid, a, b, c, 1024 + fid % 60000, rnd.randrange(1, 224), rnd.randrange(256),
                                 rnd.randrange(256), rnd.randrange(1, 255), 10, 12, 900, 15000, ts(t - 1), ts(t),
                                 64496 + fid % 1000, fid % 1000)
                exp["flows"] += 1
            elif r < 0.93:
                line = dns_t % (ts(t), fid, a, b, c, 1024 + fid % 60000, fid % 65536, fid, fid % 5000)
                exp["dns"] += 1
            elif r < 0.9995:
                sev = 1 + (fid % 7 == 0) + (fid % 3 == 0)
                sid = 2000000 + rnd.randrange(50000)   # many distinct signatures: capped table
                line = alert_t % (ts(t), fid, a, b, c, 1024 + fid % 60000, rnd.randrange(1, 224), rnd.randrange(256),
                                  rnd.randrange(256), rnd.randrange(1, 255), sid, sid, sev)
                exp["alerts"] += 1
                exp["sev"][sev] += 1
            else:
                iv = ",".join("%.2f" % (60 + rnd.uniform(-3, 3)) for _ in range(64))
                line = beacon_t % (ts(t), fid, a, c, c, 64 + fid % 100, rnd.random(), ts(t - 3840), ts(t), iv)
                exp["alerts"] += 1
                exp["sev"][2] += 1
                exp["beacons"] += 1
            out.write(line)
            written += len(line)
            if t - t_stats >= 60:
                t_stats = t
                pk += 40000 + rnd.randrange(1000)
                drops += 1 if rnd.random() < 0.01 else 0
                s = stats_t % (ts(t), int(t - DAY0), pk, pk * 700, pk, drops, fid, 0, 0)
                out.write(s)
                written += len(s)
            # six days carry data: each gets a sixth of the target size
            if written >= TARGET * (day if day > 3 else day + 1) / (n_days - 1):
                break
    f.close()
    gzf.close()
    exp["packets"] = pk
    exp["drops"] = drops
    return exp


def main():
    tmp = tempfile.mkdtemp(prefix="sw-report-large-")
    eve = os.path.join(tmp, "eve.json")
    gz = os.path.join(tmp, "eve.json.1.gz")
    exp = generate(eve, gz)
    size = os.path.getsize(eve) + os.path.getsize(gz)
    print("generated %.0f MB (plain %.0f MB + gz)" % (size / 1048576.0, os.path.getsize(eve) / 1048576.0))
    out = os.path.join(tmp, "report.html")
    p = subprocess.Popen([sys.executable, TOOL, gz, eve, "-o", out, "--title", "large"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    so, se = p.communicate(timeout=1800)
    # ru_maxrss of reaped children: the report process is the only one.
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(se.strip())
    check(p.returncode == 0, "report over %.0f MB of EVE succeeds" % (os.path.getsize(eve) / 1048576.0))
    check(peak_kb < RSS_LIMIT_KB, "peak RSS %.1f MB < 200 MB" % (peak_kb / 1024.0))
    check(" s -> " in se, "it says how long it took")
    html = open(out, encoding="utf-8").read()
    check(len(html) < 5 * 1024 * 1024, "report stays small (%d KB)" % (len(html) // 1024))

    def kpi(key):
        i = html.find('data-kpi="%s"' % key)
        j = html.find('class="v">', i) + len('class="v">')
        return int(html[j:html.find("<", j)].split()[0].replace(",", ""))

    check(kpi("flows") == exp["flows"], "flows %d exact" % exp["flows"])
    check(kpi("alerts") == exp["alerts"], "alerts %d exact" % exp["alerts"])
    for s in (1, 2, 3):
        check(kpi("sev%d" % s) == exp["sev"][s], "severity %d: %d exact" % (s, exp["sev"][s]))
    check(kpi("packets") == exp["packets"], "packets from stats deltas %d exact" % exp["packets"])
    check(kpi("beacons") == exp["beacons"], "beacon alerts %d" % exp["beacons"])
    check(html.count('<article class="beacon-card') == min(50, exp["beacons"]), "at most 50 beacon cards")
    check('id="gaps"' in html and "2025-11-23" in html[html.find('id="gaps"'):html.find('id="gaps"') + 600],
          "the missing day is listed as a gap")
    check("approximate" in html, "capped tables are marked approximate")
    check(kpi("drops") == exp["drops"], "kernel drops %d from stats" % exp["drops"])
    shutil.rmtree(tmp, ignore_errors=True)
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
