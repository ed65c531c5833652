#!/usr/bin/env python3
"""spanwatch-ioc end to end: MISP, STIX 2.1 and CSV feeds written here (with
malformed entries) are converted; every rejection is reported with its
reason; the produced list loads in the sensor (`spanwatch -T`: skipped=0)
and matches traffic in a replay; the sensor is signalled through the pid
file."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SRC = os.environ.get("SW_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("SW_BIN", os.path.join(SRC, "build", "spanwatch"))
TOOL = os.path.join(SRC, "tools", "spanwatch-ioc")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swtest  # noqa: E402

check = swtest.Checks()


MISP = {"response": [{"Event": {
    "uuid": "5f1e0000-0000-4000-8000-000000000001", "info": "Test campaign", "threat_level_id": "1",
    "Orgc": {"name": "CERT-Test"},
    "Attribute": [
        {"type": "domain", "value": "c2.misp-test.example", "to_ids": True},
        {"type": "hostname", "value": "drop[.]misp-test[.]example", "to_ids": True},       # defanged
        {"type": "ip-dst", "value": "198.51.100.23", "to_ids": True},
        {"type": "url", "value": "hxxp://dl.misp-test.example/a/payload.bin", "to_ids": True},
        {"type": "sha256", "value": "275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F",
         "to_ids": True},
        {"type": "filename|md5", "value": "eicar.com|44d88612fea8a8f36de82e1278abb02f", "to_ids": True},
        {"type": "domain|ip", "value": "pair.misp-test.example|203.0.113.9", "to_ids": True},
        {"type": "ip-dst|port", "value": "192.0.2.77|8443", "to_ids": True},
        {"type": "domain", "value": "c2.misp-test.example", "to_ids": True},                # duplicate
        {"type": "domain", "value": "benign.misp-test.example", "to_ids": False},           # R: to_ids
        {"type": "email-src", "value": "bad@misp-test.example", "to_ids": True},            # R: type
        {"type": "ip-dst", "value": "999.1.2.3", "to_ids": True},                           # R: ip
        {"type": "md5", "value": "abc123", "to_ids": True},                                 # R: md5
        {"type": "domain", "value": "bad..misp-test.example", "to_ids": True},              # R: label
        {"type": "filename|sha1", "value": "only-a-name", "to_ids": True},                  # R: parts
    ],
    "Object": [{"name": "file", "Attribute": [
        {"type": "sha1", "value": "3395856ce81f2b7382dee72602f798b642f14140", "to_ids": True}]}],
}}]}
MISP_OK = 10          # indicators (domain|ip gives two)
MISP_REJECT = 6
MISP_DUP = 1

STIX = {"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000", "objects": [
    {"type": "identity", "id": "identity--1", "name": "Test CTI"},
    {"type": "indicator", "id": "indicator--a1", "name": "C2 domain", "pattern_type": "stix",
     "pattern": "[domain-name:value = 'c2.stix-test.example']", "confidence": 80},
    {"type": "indicator", "id": "indicator--a2", "pattern_type": "stix",
     "pattern": "[ipv4-addr:value = '198.51.100.0/24' OR ipv4-addr:value = '203.0.113.50']"},
    {"type": "indicator", "id": "indicator--a3", "pattern_type": "stix",
     "pattern": "[ipv6-addr:value = '2001:db8::bad']"},
    {"type": "indicator", "id": "indicator--a4", "pattern_type": "stix",
     "pattern": "[url:value = 'https://cdn.stix-test.example/x/loader.js?v=2']"},
    {"type": "indicator", "id": "indicator--a5", "pattern_type": "stix",
     "pattern": "[file:hashes.'SHA-256' = '131f95c51cc819465fa1797f6ccacf9d494aaaff46fa3eac73ae63ffbdfd8267']"},
    {"type": "indicator", "id": "indicator--a6", "pattern_type": "stix",
     "pattern": "[file:hashes.MD5 = 'e99a18c428cb38d5f260853678922e03']"},
    {"type": "indicator", "id": "indicator--a7", "pattern_type": "stix",
     "pattern": "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']"},
    {"type": "indicator", "id": "indicator--a8", "pattern_type": "stix",                     # duplicate
     "pattern": "[domain-name:value = 'C2.STIX-TEST.EXAMPLE.']"},
    {"type": "indicator", "id": "indicator--r1", "pattern_type": "stix",                     # R: AND
     "pattern": "[ipv4-addr:value = '192.0.2.1' AND network-traffic:dst_port = '443']"},
    {"type": "indicator", "id": "indicator--r2", "pattern_type": "stix",                     # R: LIKE
     "pattern": "[domain-name:value LIKE '%.stix-test.example']"},
    {"type": "indicator", "id": "indicator--r3", "pattern_type": "stix",                     # R: path
     "pattern": "[email-addr:value = 'x@stix-test.example']"},
    {"type": "indicator", "id": "indicator--r4", "pattern_type": "sigma",                    # R: type
     "pattern": "title: x"},
    {"type": "indicator", "id": "indicator--r5", "pattern_type": "stix",                     # R: expired
     "pattern": "[domain-name:value = 'old.stix-test.example']", "valid_until": "2001-01-01T00:00:00Z"},
    {"type": "indicator", "id": "indicator--r6", "pattern_type": "stix",                     # R: brackets
     "pattern": "domain-name:value = 'nobracket.stix-test.example'"},
    {"type": "indicator", "id": "indicator--r7", "pattern_type": "stix",                     # R: bad ip
     "pattern": "[ipv4-addr:value = '10.0.0.300']"},
]}
STIX_OK = 8
STIX_REJECT = 7
STIX_DUP = 1

CSV = """ioc_value;kind;prio;feed;note
www.google.com;fqdn;high;csv-test;matches the DNS capture
192.0.2.200;ipv4;2;csv-test;
http://csv-test.example/gate.php;url;low;csv-test;
e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855;sha256;;csv-test;empty file
t13d1516h2_8daaf6152771_b186095e22b6;ja4;medium;csv-test;
;domain;1;csv-test;empty indicator
weird.csv-test.example;mutex;1;csv-test;unknown type
sev.csv-test.example;domain;urgent;csv-test;bad severity
ftp://files.csv-test.example/x;url;1;csv-test;bad scheme
not_a_hash_at_all;md5;1;csv-test;bad md5
198.51.100.23;ip;1;csv-test;duplicate of the MISP address
"""
CSV_OK = 5
CSV_REJECT = 5
CSV_DUP = 1

CSV_NOHDR = "203.0.113.99,malware drop\nnot-an-indicator,no dot\n"


def run(args, **kw):
    return subprocess.run([sys.executable, TOOL] + args, capture_output=True, text=True, timeout=60, **kw)


def main():
    tmp = tempfile.mkdtemp(prefix="sw-ioc-")
    misp = os.path.join(tmp, "event.json")
    stix = os.path.join(tmp, "bundle.json")
    csvf = os.path.join(tmp, "feed.csv")
    nohdr = os.path.join(tmp, "plain.csv")
    with open(misp, "w") as f:
        json.dump(MISP, f)
    with open(stix, "w") as f:
        json.dump(STIX, f)
    with open(csvf, "w") as f:
        f.write(CSV)
    with open(nohdr, "w") as f:
        f.write(CSV_NOHDR)
    nopid = os.path.join(tmp, "none.pid")

    # One feed at a time: counts and reasons.
    out_m = os.path.join(tmp, "misp-out.csv")
    p = run([misp, "-o", out_m, "--pid-file", nopid])
    print(p.stdout + p.stderr)
    check(p.returncode == 0, "MISP import exits 0")
    check("%d indicators" % MISP_OK in p.stdout, "MISP: %d indicators" % MISP_OK)
    check("%d duplicates dropped" % MISP_DUP in p.stdout, "MISP: duplicate dropped")
    rej = [l for l in p.stderr.splitlines() if l.startswith("rejected: ")]
    check(len(rej) == MISP_REJECT, "MISP: %d rejections reported (got %d)" % (MISP_REJECT, len(rej)))
    for reason in ("to_ids is false", "MISP type 'email-src'", "not an IPv4/IPv6 address",
                   "md5 must be 32 hex digits", "invalid domain label", "needs 2 parts"):
        check(any(reason in l for l in rej), "MISP rejection reason: " + reason)
    check(all("Attribute[" in l for l in rej), "MISP rejections name the attribute")
    body = open(out_m).read()
    check("drop.misp-test.example,domain,1," in body, "MISP: defanged name refanged, threat level -> severity 1")
    check("dl.misp-test.example/a/payload.bin" in body and "hxxp" not in body, "MISP: hxxp URL refanged")
    check("275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f,sha256" in body,
          "MISP: hash lower-cased")
    check("CERT-Test" in body, "MISP: source names the event and org")
    check("no pid file" in p.stdout, "missing pid file reported, not an error")

    out_s = os.path.join(tmp, "stix-out.csv")
    p = run([stix, "-o", out_s, "--no-reload"])
    print(p.stdout + p.stderr)
    check(p.returncode == 0, "STIX import exits 0")
    check("%d indicators" % STIX_OK in p.stdout, "STIX: %d indicators" % STIX_OK)
    check("%d duplicates dropped" % STIX_DUP in p.stdout, "STIX: case/trailing-dot duplicate dropped")
    rej = [l for l in p.stderr.splitlines() if l.startswith("rejected: ")]
    check(len(rej) == STIX_REJECT, "STIX: %d rejections reported (got %d)" % (STIX_REJECT, len(rej)))
    for rid, reason in (("r1", "AND joins"), ("r2", "operator LIKE"), ("r3", "email-addr:value is not supported"),
                        ("r4", "pattern_type 'sigma'"), ("r5", "expired"), ("r6", "not a single [observation"),
                        ("r7", "not an IPv4/IPv6")):
        check(any("indicator--" + rid in l and reason in l for l in rej), "STIX %s rejected: %s" % (rid, reason))
    body = open(out_s).read()
    check("198.51.100.0/24,ip" in body and "203.0.113.50,ip" in body, "STIX: OR pattern gives both addresses")
    check("2001:db8::bad,ip" in body, "STIX: IPv6 address")

    out_c = os.path.join(tmp, "csv-out.csv")
    p = run([csvf, misp, "-o", out_c, "--no-reload", "--delimiter", ";",
             "--map", "indicator=ioc_value,type=kind,severity=prio,source=feed"])
    print(p.stdout + p.stderr)
    rej = [l for l in p.stderr.splitlines() if l.startswith("rejected: ") and "feed.csv" in l]
    check(p.returncode == 0, "CSV import exits 0")
    check(len(rej) == CSV_REJECT, "CSV: %d rejections reported (got %d)" % (CSV_REJECT, len(rej)))
    for line, reason in ((7, "no indicator"), (8, "unknown type 'mutex'"), (9, "severity 'urgent'"),
                         (10, "scheme 'ftp'"), (11, "md5 must be 32")):
        check(any(("feed.csv:%d:" % line) in l and reason in l for l in rej), "CSV line %d: %s" % (line, reason))
    check("%d indicators" % (CSV_OK + MISP_OK) in p.stdout, "CSV+MISP: %d indicators" % (CSV_OK + MISP_OK))
    check("%d duplicates dropped" % (CSV_DUP + MISP_DUP) in p.stdout, "CSV+MISP: cross-feed duplicate dropped")

    out_n = os.path.join(tmp, "plain-out.csv")
    p = run([nohdr, "-o", out_n, "--no-reload", "--no-header", "--map", "indicator=1,source=2",
             "--severity", "high", "--list-name", "drop-ips"])
    print(p.stdout + p.stderr)
    check("1 indicators" in p.stdout and "unrecognised indicator" in p.stderr,
          "headerless CSV with numeric map: auto type, bad line rejected")
    check("203.0.113.99,ip,1,malware drop,drop-ips" in open(out_n).read(), "--severity/--list-name applied")

    # Everything into one list; it must load in the sensor with nothing skipped.
    out_all = os.path.join(tmp, "all.csv")
    p = run([misp, stix, csvf, "-o", out_all, "--no-reload", "--delimiter", ";",
             "--map", "indicator=ioc_value,type=kind,severity=prio,source=feed"])
    # The --map applies to the CSV only; JSON feeds are detected by content.
    total = MISP_OK + STIX_OK + CSV_OK
    check("%d indicators" % total in p.stdout, "all feeds: %d distinct indicators" % total)
    with open(out_all) as f:
        rows = [l for l in f.read().splitlines()[1:] if l]
    check(len(rows) == total, "list file has %d rows" % total)
    cfg = os.path.join(tmp, "sw.yaml")
    with open(cfg, "w") as f:
        f.write("ioc:\n  lists:\n    - path: %s\n      name: imported\n    - path: %s\n      name: drop\n" % (
            out_all, out_n))
    t = subprocess.run([BIN, "-T", "-c", cfg], capture_output=True, text=True, timeout=120)
    print(t.stdout[-400:] + t.stderr[-800:])
    check(t.returncode == 0, "spanwatch -T accepts the imported lists")
    check(("ioc: loaded=%d skipped=0" % (total + 1)) in (t.stdout + t.stderr),
          "spanwatch -T: ioc: loaded=%d skipped=0" % (total + 1))

    # The list is live: www.google.com from the CSV matches a DNS capture.
    cap = os.path.join(SRC, "test-pcaps", "sv-dns-tcp-www-google-com.pcap")
    logd = os.path.join(tmp, "log")
    os.makedirs(logd)
    r = subprocess.run([BIN, "-c", cfg, "-r", cap, "-l", logd], capture_output=True, text=True, timeout=120)
    hits = []
    with open(os.path.join(logd, "eve.json")) as f:
        for line in f:
            e = json.loads(line)
            if e.get("event_type") == "alert" and isinstance(e.get("ioc"), dict):
                hits.append(e["ioc"])
    check(r.returncode == 0 and any(h.get("value") == "www.google.com" and h.get("list") == "imported"
                                    for h in hits), "imported domain raises an IoC alert in a replay")

    # Reload: SIGHUP goes to the pid in the pid file.
    marker = os.path.join(tmp, "hup")
    child = subprocess.Popen([sys.executable, "-c",
                              "import signal,sys,time\n"
                              "def h(s,f):\n open(sys.argv[1],'w').write('hup'); sys.exit(0)\n"
                              "signal.signal(signal.SIGHUP,h)\n"
                              "open(sys.argv[1]+'.ready','w').close()\n"
                              "time.sleep(60)\n", marker])
    for _ in range(100):
        if os.path.exists(marker + ".ready"):
            break
        time.sleep(0.05)
    pidf = os.path.join(tmp, "spanwatch.pid")
    with open(pidf, "w") as f:
        f.write("%d\n" % child.pid)
    p = run([stix, "-o", os.path.join(tmp, "reload.csv"), "--pid-file", pidf])
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
    check("sent SIGHUP" in p.stdout and os.path.exists(marker), "SIGHUP delivered to the pid in --pid-file")
    with open(pidf, "w") as f:
        f.write("%d\n" % child.pid)    # the process is gone now
    p = run([stix, "-o", os.path.join(tmp, "reload.csv"), "--pid-file", pidf])
    check(p.returncode == 0 and "stale pid file" in p.stdout, "stale pid file reported")

    p = run([os.path.join(tmp, "none.json"), "-o", os.path.join(tmp, "x.csv")])
    check(p.returncode == 2 and "none.json" in p.stderr, "unreadable input: exit 2 naming the file")
    with open(os.path.join(tmp, "broken.json"), "w") as f:
        f.write("{\"Event\": [")
    p = run([os.path.join(tmp, "broken.json"), "-o", os.path.join(tmp, "x.csv"), "--no-reload"])
    check(p.returncode == 1 and "invalid JSON" in p.stderr, "broken JSON: rejected, nothing written, exit 1")

    shutil.rmtree(tmp, ignore_errors=True)
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
