#!/usr/bin/env python3
"""The bundled default ruleset (no -S) fires, or stays quiet, on the capture
pairs listed in tests/e2e/bundled_rules_cases.tsv (columns pcap, sid,
expect fire|nofire; pcap relative to the repository root).  Each capture is
replayed once; all its cases are checked against that one run."""
import collections
import os

import swtest as t

CASES = os.path.join(t.HERE, "bundled_rules_cases.tsv")


def load_cases():
    cases = []
    with open(CASES, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        assert header[:3] == ["pcap", "sid", "expect"], header
        for n, line in enumerate(f, 2):
            if not line.strip() or line.startswith("#"):
                continue
            pcap, sid, expect = line.rstrip("\n").split("\t")[:3]
            assert expect in ("fire", "nofire"), "%s:%d: expect %r" % (CASES, n, expect)
            cases.append((pcap, int(sid), expect))
    return cases


@t.test
def test_bundled_rules_cases():
    cases = load_cases()
    assert len(cases) >= 10, "too few cases in %s" % CASES
    by_pcap = collections.defaultdict(list)
    for c in cases:
        by_pcap[c[0]].append(c)
    soft = t.Soft(limit=100)
    ok = 0
    for pcap, cs in sorted(by_pcap.items()):
        path = os.path.join(t.SRC, pcap)
        if not os.path.exists(path):
            soft.fail("%s: capture missing" % pcap)
            continue
        r = t.run(path, timeout=60)
        if r.rc != 0:
            soft.fail("%s: rc=%s %s" % (pcap, r.rc, r.stderr.strip()[-200:]))
            continue
        fired = collections.Counter(t.get_path(e, "alert.signature_id") for e in r.of_type("alert"))
        for _, sid, expect in cs:
            got = "fire" if fired[sid] else "nofire"
            if got == expect:
                ok += 1
            else:
                soft.fail("%s sid %d: expected %s, got %s (sids fired: %s)"
                          % (pcap, sid, expect, got, sorted(k for k in fired if k)))
    print("  %d of %d cases as expected" % (ok, len(cases)))
    soft.done("bundled rule cases failing:")


if __name__ == "__main__":
    t.main()
