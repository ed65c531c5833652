#!/usr/bin/env python3
"""Every event spanwatch writes validates against Suricata's EVE schema plus
the contract's extension points (eve_schema_ext.py), and carries the
contract's common fields in the contract's format.

Captures: every capture under test-pcaps/ (including generated/) and every
capture of every theme in ../shared/pcaps (replay is fast enough to take them
all).  A failure prints the capture, the event and the schema error."""
import collections
import glob
import os
import re

import swtest as t

TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+0000$")
PROTOS = {"TCP", "UDP", "ICMP", "IPv6-ICMP", "SCTP"}
# Other IP protocols are spelled as Suricata does: the IANA keyword it knows
# (IGMP, GRE, ESP, ...) or the number zero-padded to three digits ("047").
OTHER_PROTO_RE = re.compile(r"^(\d{3}|[A-Z][A-Za-z0-9-]*)$")
FLOW_TYPES = {"alert", "dns", "http", "tls", "flow", "fileinfo"}
# flow-less anomalies (decoder events on packets without a flow) and stats
# legitimately have no 5-tuple.


def repo_captures():
    out = []
    for p in sorted(glob.glob(os.path.join(t.TEST_PCAPS, "**", "*"), recursive=True)):
        if os.path.isfile(p) and t.is_capture(p):
            out.append(p)
    return out


def shared_captures():
    out = []
    for p in sorted(glob.glob(os.path.join(t.PCAPS, "*", "*"))):
        if t.is_capture(p):
            out.append(p)
    return out


# The damaged files still replay (exit 0); a file that is not a capture at
# all would be exit 2 and has no events to validate.
def replay(p):
    r = t.run(p, timeout=60)
    assert r.rc in (0, 2), "%s: rc=%s stderr=%s" % (p, r.rc, r.stderr[-500:])
    return r


def validate_all(captures):
    soft = t.Soft(limit=60)
    # one line per (event_type, schema path, message) so a serialiser bug that
    # hits a thousand events shows once, with its first example
    seen = collections.OrderedDict()
    n_events = 0
    for p in captures:
        r = replay(p)
        if r.bad_lines:
            soft.fail("%s: %d lines of eve.json are not JSON objects, first %r"
                      % (p, len(r.bad_lines), r.bad_lines[0][:200]))
        for ev in r.events:
            n_events += 1
            for err in t.schema_errors(ev):
                key = (ev.get("event_type"), re.sub(r"\.\d+(\.|$)", r".N\1", err))
                if key not in seen:
                    seen[key] = (p, ev, err, 1)
                else:
                    a, b, c, n = seen[key]
                    seen[key] = (a, b, c, n + 1)
    for (etype, _), (p, ev, err, n) in seen.items():
        soft.fail("[%s] %s  (x%d, first in %s)\n      event: %s"
                  % (etype, err, n, os.path.relpath(p, t.SHARED if p.startswith(t.SHARED)
                                                     else t.SRC), t.fmt(ev, 700)))
    print("  validated %d events from %d captures" % (n_events, len(captures)))
    soft.done("schema violations:")


@t.test
def test_schema_repo_captures():
    caps = repo_captures()
    assert len(caps) >= 40, "expected the test-pcaps corpus, found %d captures" % len(caps)
    validate_all(caps)


@t.test
def test_schema_shared_captures():
    caps = shared_captures()
    themes = {os.path.basename(os.path.dirname(p)) for p in caps}
    assert {"c2", "dns", "files", "http", "malformed", "misc", "tls"} <= themes, themes
    validate_all(caps)


def common_fields(captures):
    """Contract rules the schema cannot express: timestamp format, flow_id
    shared by all events of a flow with one 5-tuple, proto spelling,
    community_id on every flow-tied event."""
    soft = t.Soft(limit=40)
    for p in captures:
        r = replay(p)
        by_flow = {}
        for ev in r.events:
            et = ev.get("event_type")
            name = os.path.basename(p)
            ts = ev.get("timestamp")
            soft.true(isinstance(ts, str) and TS_RE.match(ts),
                      "%s: %s timestamp %r is not YYYY-MM-DDTHH:MM:SS.uuuuuu+0000" % (name, et, ts))
            if et == "stats":
                continue
            if et in FLOW_TYPES or "flow_id" in ev:
                soft.true(isinstance(ev.get("flow_id"), int) and ev["flow_id"] > 0,
                          "%s: %s flow_id %r" % (name, et, ev.get("flow_id")))
                proto = ev.get("proto")
                soft.true(proto in PROTOS or (et == "flow" and isinstance(proto, str)
                                              and OTHER_PROTO_RE.match(proto)),
                          "%s: %s proto %r" % (name, et, ev.get("proto")))
                for k in ("src_ip", "dest_ip"):
                    soft.true(isinstance(ev.get(k), str), "%s: %s without %s" % (name, et, k))
                cid = ev.get("community_id")
                soft.true(isinstance(cid, str) and cid.startswith("1:") and len(cid) == 30,
                          "%s: %s community_id %r" % (name, et, cid))
                fid = ev.get("flow_id")
                if fid is not None:
                    tup = frozenset([(ev.get("src_ip"), ev.get("src_port")),
                                     (ev.get("dest_ip"), ev.get("dest_port"))]), ev.get("proto")
                    prev = by_flow.setdefault(fid, (tup, cid, et))
                    if et != "alert" or "beacon" not in ev:
                        # beacon alerts may name the latest server address, so
                        # they are exempt from the same-5-tuple rule
                        if prev[0] != tup and "beacon" not in ev:
                            soft.fail("%s: flow_id %d on two 5-tuples: %s (%s) and %s (%s)"
                                      % (name, fid, sorted(prev[0][0], key=str), prev[2],
                                         sorted(tup[0], key=str), et))
                        if prev[1] != cid and "beacon" not in ev:
                            soft.fail("%s: flow_id %d with two community_ids %s/%s"
                                      % (name, fid, prev[1], cid))
    soft.done("contract field violations:")


@t.test
def test_common_fields():
    common_fields(repo_captures() + shared_captures())


@t.test
def test_every_flow_has_a_flow_event():
    """Each flow_id seen on a dns/http/tls/fileinfo event ends in a flow event
    (flows are flushed at the end of the replay)."""
    soft = t.Soft()
    for p in shared_captures():
        r = replay(p)
        ended = {e.get("flow_id") for e in r.of_type("flow")}
        for ev in r.of_type("dns", "http", "tls", "fileinfo"):
            if ev.get("flow_id") not in ended:
                soft.fail("%s: %s event flow_id %s has no flow event"
                          % (os.path.basename(p), ev["event_type"], ev.get("flow_id")))
                break
    soft.done()


if __name__ == "__main__":
    t.main()
