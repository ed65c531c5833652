#!/usr/bin/env python3
"""suricata-verify expectations, replayed through spanwatch.

For every capture in ../shared/pcaps with a `*.test.yaml` (OISF
suricata-verify format), spanwatch replays it with the capture's `*.rules`
files (-S, all of them) or with the bundled default rules when there are
none, and each `filter` check whose event_type is dns, http, tls, fileinfo,
flow, alert or anomaly is evaluated with suricata-verify's semantics
(swtest.sv_*: count of events matching every `match` entry; dotted paths,
`name[i]`, `__len`, `__find`/`__contains`, has-key; plain equality else).
Checks that need another Suricata version (`requires: lt-version: 8`) or
other event types (stats, shell checks) are out of scope and listed as
skipped.

KNOWN_FAILURES is the documented allow-list: each entry names the check
(`<yaml>#<index in checks>`) and why it fails today, with the module at
fault.  Every other in-scope check must pass.  A known failure that passes
fails the test (XPASS) so the list cannot go stale.

Run with SW_SV_VERBOSE=1 to print every check's outcome."""
import atexit
import glob
import os
import shutil
import tempfile

import yaml

import swtest as t

EVENT_TYPES = {"dns", "http", "tls", "fileinfo", "flow", "alert", "anomaly"}

# id -> reason (module at fault).  Every entry was re-checked against a run;
# a known failure that passes (XPASS) fails the test, so the list stays true.

def _each(name, idxs, reason):
    return {"%s#%d" % (name, i): reason for i in idxs}


KNOWN_FAILURES = {
    # Suricata has no DNS-tunnel detector; spanwatch's built-in one (sids
    # 9100010-9100012) rightly alerts on this iodine capture, so its flow
    # is alerted.  Intended divergence.
    "sv-dns-bug-1158-iodine#161":
        "flow.alerted true: spanwatch's built-in DNS-tunnel detector alerts on iodine "
        "(intended; Suricata has no such detector)",
    "sv-dns-bug-1158-iodine#162":
        "app_proto 'netbios' (nDPI's verdict) where Suricata, which has no NetBIOS parser, "
        "says 'failed' (lead: app_proto naming)",
    **_each("sv-bug-130", range(3),
            "raw-stream rules on the response: spanwatch inspects the stream as each packet "
            "completes it and alerts once at pcap_cnt 6 (test_stream_detect.py) without an http "
            "object; Suricata (IDS) inspects raw stream in 2560-byte chunks or at stream end, "
            "here pcap_cnt 14, and with detect.guess-applayer-tx adds the finished http tx "
            "(http parser has no current-tx accessor; detect/stream timing)"),
    **_each("sv-file-match-crossed", (0, 1), "keyword file.name unsupported (signatures)"),
    **_each("sv-file-match-crossed", (2, 3, 4, 5, 6, 8, 9),
            "file keywords/fileinfo sha256 differ: files from crossed transactions (files/http)"),
    "sv-bug-7657-01-php-cgi-injection#2": "keyword stream-event unsupported (signatures/lead: stream events)",
    "sv-http-brotli-ce#0": "no anomaly events for the brotli Content-Encoding (http)",
    **_each("sv-http-brotli-ce", (3, 4),
            "brotli Content-Encoding not decoded: fileinfo.size is the encoded size (http)"),
    "sv-dns-forward-pointer#0":
        "keyword dns.queries.rrname (Suricata 8 multi-buffer) unsupported (signatures)",
    **_each("sv-dns-invalid-opcode", (4, 7),
            "Suricata 8 header field pkt_src ('wire/pcap') not written (lead: event header)"),
    **_each("sv-dns-invalid-opcode", (5, 8),
            "no anomaly event for DNS parser events (invalid_opcode) (dns; lead: anomaly glue)"),
    **_each("sv-dns-invalid-opcode", (6, 9),
            "Suricata 8 header field pkt_src ('wire/pcap') not written (lead: event header)"),
    "sv-dns-truncated-rname#0":
        "pcap_cnt 6 instead of 8: spanwatch parses the DNS/TCP request when its last segment "
        "arrives, Suricata (IDS mode) once the server ACKs it (lead: stream)",
    "sv-dns-truncated-rname#2":
        "pcap_cnt 6 instead of 9: the dns.name_too_long alert comes with the request parse "
        "(same stream timing as #0; lead: stream)",
    "sv-ipv4-truncated#0":
        "decode-event rule loads, but the worker drops an invalid IPv4 packet without an L4 "
        "protocol before detection (lead: worker.c calls no detection for it)",
    **_each("sv-community-id-ipv6", range(4),
            "suricata-verify runs this test with community-id-seed 7 (its suricata.yaml); the "
            "contract fixes seed 0 and the seed-0 values are checked in test_flows.py"),
    "sv-defrag-eth-vlan-ipv4-tcp-syn#0":
        "the tcp.flags rule alerts, but the alert carries no packet/packet_info of the "
        "rebuilt datagram (lead: alert packet logging)",
    "sv-vxlan-decoder-02#1":
        "no flow event for the outer VXLAN UDP flow: workers are chosen by the inner host "
        "pair, so one outer flow would be counted in pieces on several workers (lead: flow)",
}


def yaml_files():
    return sorted(glob.glob(os.path.join(t.PCAPS, "*", "*.test.yaml")))


def capture_for(yml):
    stem = yml[:-len(".test.yaml")]
    for ext in (".pcap", ".pcapng"):
        if os.path.exists(stem + ext):
            return stem + ext
    return None


def rules_for(yml):
    stem = yml[:-len(".test.yaml")]
    return sorted(glob.glob(stem + ".*rules"))


# Settings suricata-verify applies through a test directory's own
# suricata.yaml, which the shared copy does not include (only test.yaml and
# the capture were copied), as spanwatch config.  Source: the upstream file
# named in each comment.
SV_SURICATA_YAML = {
    # OISF/suricata-verify tests/http-all-headers/suricata.yaml:
    #   eve-log types: - http: dump-all-headers: both
    "sv-http-all-headers": {"app-layer": {"http": {"dump-all-headers": "both"}}},
}


def _merge(dst, src):
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            _merge(dst[k], v)
        else:
            dst[k] = v


def config_for(name, cfg):
    """spanwatch config equivalent to the Suricata settings a test runs with
    (test.yaml `args: --set ...` and SV_SURICATA_YAML), or None.  Settings
    spanwatch has no equivalent for are ignored (the checks that depend on
    them stay known failures)."""
    conf = {}
    args = cfg.get("args") or []
    words = " ".join(args if isinstance(args, list) else [str(args)]).split()
    for i, w in enumerate(words):
        if w != "--set" or i + 1 >= len(words) or "=" not in words[i + 1]:
            continue
        key, val = words[i + 1].split("=", 1)
        if key == "app-layer.protocols.dns.tcp.detection-ports.dp":
            ports = [53] + [int(p) for p in val.strip("[]").split(",") if p.strip()]
            _merge(conf, {"app-layer": {"dns": {"ports": ports}}})
    _merge(conf, SV_SURICATA_YAML.get(name, {}))
    if not conf:
        return None
    path = os.path.join(_confdir(), name + ".yaml")
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(conf, f)
    return path


_CONFDIR = []


def _confdir():
    if not _CONFDIR:
        _CONFDIR.append(tempfile.mkdtemp(prefix="sw-sv-conf-"))
        atexit.register(shutil.rmtree, _CONFDIR[0], True)
    return _CONFDIR[0]


def evaluate():
    """[(id, status, detail)] with status pass|fail|skip."""
    out = []
    for yml in yaml_files():
        name = os.path.basename(yml)[:-len(".test.yaml")]
        cfg = yaml.safe_load(open(yml, encoding="utf-8")) or {}
        pcap = capture_for(yml)
        checks = cfg.get("checks") or []
        if not pcap:
            out.append((name + "#*", "skip", "no capture"))
            continue
        if not t.sv_requires_ok(cfg.get("requires") or {}):
            for i, _ in enumerate(checks):
                out.append(("%s#%d" % (name, i), "skip", "test requires another Suricata version"))
            continue
        rules = rules_for(yml)
        r = t.run(pcap, rules=rules or None, config=config_for(name, cfg), timeout=60)
        for i, chk in enumerate(checks):
            cid = "%s#%d" % (name, i)
            if "filter" not in chk:
                out.append((cid, "skip", "%s check" % next(iter(chk))))
                continue
            flt = chk["filter"]
            req = dict(flt.get("requires") or {})
            for k in ("min-version", "lt-version", "version"):
                if k in flt:
                    req[k] = flt[k]
            if not t.sv_requires_ok(req):
                out.append((cid, "skip", "check requires another Suricata version"))
                continue
            et = (flt.get("match") or {}).get("event_type")
            if et not in EVENT_TYPES:
                out.append((cid, "skip", "event_type %r out of scope" % et))
                continue
            if r.rc != 0:
                out.append((cid, "fail", "spanwatch rc=%s: %s" % (r.rc, r.stderr.strip()[-300:])))
                continue
            got = t.sv_filter_count(r.events, flt)
            want = flt.get("count")
            if got == want:
                out.append((cid, "pass", "count %s" % want))
            else:
                out.append((cid, "fail", "expected %s events, got %d for match %s%s"
                            % (want, got, flt.get("match"), near_miss(r.events, flt))))
    return out


def near_miss(events, flt):
    """For a failing check, the match keys the closest event of that
    event_type fails on, so the report names the field at fault."""
    match = flt.get("match") or {}
    et = match.get("event_type")
    best = None
    for ev in events:
        if et and ev.get("event_type") != et:
            continue
        bad = [k for k in match if not t.sv_event_matches(ev, {k: match[k]})]
        if best is None or len(bad) < len(best[0]):
            best = (bad, ev)
    if best is None:
        return "; no %s events at all" % et
    bad, ev = best
    return "; closest %s event differs on %s" % (et, ", ".join(
        "%s (has %r)" % (k, t.sv_find_value(k.replace(".__len", "").replace(".__find", ""), ev)
                         if k not in ("has-key", "not-has-key") else match[k])
        for k in bad))


@t.test
def test_suricata_verify_checks():
    res = evaluate()
    verbose = os.environ.get("SW_SV_VERBOSE")
    fails, xpass = [], []
    counts = {"pass": 0, "fail": 0, "skip": 0}
    for cid, st, detail in res:
        counts[st] += 1
        if verbose or st == "fail":
            print("  %-5s %s: %s" % (st.upper(), cid, detail[:900]))
        if st == "fail" and cid not in KNOWN_FAILURES:
            fails.append("%s: %s" % (cid, detail[:900]))
        if st == "pass" and cid in KNOWN_FAILURES:
            xpass.append(cid)
    for cid in xpass:
        print("  XPASS %s (listed as known failure: %s) -- remove it from KNOWN_FAILURES"
              % (cid, KNOWN_FAILURES[cid]))
        fails.append("%s passes but is listed in KNOWN_FAILURES" % cid)
    ids = {c for c, _, _ in res}
    for cid in KNOWN_FAILURES:
        if cid not in ids:
            fails.append("KNOWN_FAILURES entry %s names no check" % cid)
    known = len([c for c, st, _ in res if st == "fail" and c in KNOWN_FAILURES])
    print("  suricata-verify checks: %d pass, %d fail (%d known), %d xpass, %d skipped"
          % (counts["pass"], counts["fail"], known, len(xpass), counts["skip"]))
    assert counts["pass"] > 0, "no suricata-verify check passes at all"
    assert not fails, "unexpected failures:\n" + "\n".join("  - " + f for f in fails)


if __name__ == "__main__":
    t.main()
