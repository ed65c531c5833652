#!/usr/bin/env python3
"""detect.packet-alert-max: a packet that matches more rules than the limit
writes exactly that many alerts, and the rest show in the overflow counter."""
import os
import shutil
import tempfile

import swtest as t

DNS = t.shared_pcap("dns/sv-dns-udp-eve-txt.pcap")


def write(d, name, text):
    p = os.path.join(d, name)
    with open(p, "w") as f:
        f.write(text)
    return p


def last_stats(run):
    stats = run.of_type("stats")
    assert stats, "no stats event: " + run.describe()
    return stats[-1]["stats"]


@t.test
def test_packet_alert_max_caps_and_counts():
    d = tempfile.mkdtemp(prefix="sw-e2e-lim-")
    try:
        # three rules on every DNS query packet to port 53
        rules = write(d, "three.rules", "".join(
            'alert udp any any -> any 53 (msg:"dns query %d"; sid:%d; rev:1;)\n' % (i, 9900 + i)
            for i in range(3)))
        queries = None
        for limit in (16, 2):
            cfg = write(d, "lim%d.yaml" % limit, "detect:\n  packet-alert-max: %d\n" % limit)
            r = t.run_ok(DNS, rules=rules, config=cfg)
            alerts = r.of_type("alert")
            sids = {}
            for a in alerts:
                sids[a["alert"]["signature_id"]] = sids.get(a["alert"]["signature_id"], 0) + 1
            over = t.get_path(last_stats(r), "detect.alert_queue_overflow", 0)
            if limit == 16:
                # every packet to port 53 fires all three rules
                assert set(sids) == {9900, 9901, 9902}, sids
                queries = sids[9900]
                assert queries >= 1 and sids[9901] == sids[9902] == queries, sids
                assert over == 0, over
            else:
                assert len(alerts) == 2 * queries, (len(alerts), queries)
                assert over == queries, (over, queries)
                # the first two in match order are kept: never a third sid
                assert len(sids) == 2, sids
    finally:
        shutil.rmtree(d, ignore_errors=True)


@t.test
def test_packet_alert_max_out_of_range_is_a_config_error():
    d = tempfile.mkdtemp(prefix="sw-e2e-lim-")
    try:
        cfg = write(d, "bad.yaml", "detect:\n  packet-alert-max: 0\n")
        r = t.run(DNS, config=cfg, cache=False)
        assert r.rc == 2, r.describe()
        assert "detect.packet-alert-max" in r.stderr, r.stderr[-500:]
        assert not r.events, "events written despite a bad config"
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    t.main()
