#!/usr/bin/env python3
"""Beacon detection on the real C2 captures in shared/pcaps/c2/.

Oracle: tshark. For every capture the check-in series a human looks at are
rebuilt from tshark alone (TCP SYNs per client/server/port, TLS SNI and HTTP
Host per client, DNS queries per client and name, client payload bursts on
long-lived connections) and the expectations below were written from them:

  capture                      what tshark shows                       expected
  slips-test-cc-capture-1      TLS to testing.com every 2.2 s (297x)    name beacon
  slips-test-cc-capture-2      TLS + AAAA testing.com every 2.3-3.8 s   name + DNS beacon;
                               DNSBL lookups *.zen.spamhaus.org         no tunnel alert
  corelight-caldera-ragdoll    9 HTTP POST /weather, 34-57 s apart      none yet: 8 beats with
                                                                        +-25% jitter is below
                                                                        the evidence bar
  cs-cryptowall4_c2            3 HTTP POSTs                             none: too few
  corelight-strrat             7-byte ping every 5.0 s, ONE connection  flow beacon once the
  corelight-asyncrat           74-byte ping every 13.5 s, ONE TLS conn. pipeline reports requests
  zeek-merlinc2-quic           QUIC burst every 15 s, ONE UDP flow      on long-lived connections
                                                                        (detect.c, see BEACON.md)
  corelight-agenttesla-*       LLMNR isatap/User-PC to ff02::1:3        none (multicast)
  ndpi-emotet, ndpi-malware    stitched single downloads                none
  ndpi-icmp-tunnel             one interactive ICMP tunnel              none (no periodicity)
  sv-bug-5713-01               one TLS handshake                        none

Every beacon/tunnel alert (sid 91000xx) a capture raises must be one of its
expected ones; every expected one must be there with the right src,
dest/server_name/rrname and a period within 10% of tshark's median interval.
The long-lived-connection cases are reported as pending (not failed) while
the pipeline does not feed them; once it does, their period is checked.
"""
import collections
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swtest as sw  # noqa: E402

C2 = os.path.join(sw.PCAPS, "c2")
MIN_CHECKINS = 6  # beacon.min-checkins default: fewer can never alert


def c2(name):
    return os.path.join(C2, name)


def beacon_alerts(r):
    return [e for e in r.events if e.get("event_type") == "alert" and
            9100000 <= e.get("alert", {}).get("signature_id", 0) < 9200000]


def series(rows):
    out = collections.defaultdict(list)
    for key, t in rows:
        out[key].append(t)
    for v in out.values():
        v.sort()
    return out


def median_beat(ts):
    """Median interval, leaving out bursts (< 1/4 of the raw median): what an
    analyst reads off a plot of the check-ins."""
    iv = [b - a for a, b in zip(ts, ts[1:])]
    if not iv:
        return 0.0
    m = statistics.median(iv)
    iv = [x for x in iv if x >= 0.25 * m] or iv
    return statistics.median(iv)


def tls_names(pcap):
    rows = sw.tshark_fields(pcap, ["frame.time_epoch", "ip.src", "ipv6.src",
                                   "tls.handshake.extensions_server_name"],
                            "tls.handshake.type==1")
    return series(((r[1] or r[2], r[3].lower()), float(r[0])) for r in rows if r[3])


def dns_queries(pcap):
    rows = sw.tshark_fields(pcap, ["frame.time_epoch", "ip.src", "ipv6.src", "dns.qry.name"],
                            "dns.flags.response==0 && !(udp.port==5353) && !(udp.port==5355)",
                            occurrence="f")
    return series(((r[1] or r[2], r[3].lower().rstrip(".")), float(r[0])) for r in rows if r[3])


def syns(pcap):
    rows = sw.tshark_fields(pcap, ["frame.time_epoch", "ip.src", "ip.dst", "tcp.dstport"],
                            "tcp.flags.syn==1 && tcp.flags.ack==0")
    return series(((r[1], r[2], int(r[3])), float(r[0])) for r in rows if r[1])


def client_bursts(pcap, client, server, port, proto="tcp", length=None):
    """Start times of client payload bursts (> 1 s after the previous client
    payload) on the connection(s) between client and server:port; length
    picks the keep-alive record where tasking traffic shares the connection."""
    pl = ("tcp.len==%d" % length if length else "tcp.len>0") if proto == "tcp" else "udp.length>8"
    flt = "ip.src==%s && ip.dst==%s && %s.dstport==%d && %s" % (client, server, proto, port, pl)
    ts = sorted(float(r[0]) for r in sw.tshark_fields(pcap, ["frame.time_epoch"], flt))
    out = []
    for t in ts:
        if not out or t - last > 1.0:
            out.append(t)
        last = t
    return out


def match(a, exp):
    b = a.get("beacon", {})
    if a.get("src_ip") != exp["src"] or a["alert"]["signature_id"] != exp["sid"]:
        return False
    if "server_name" in exp and b.get("server_name") != exp["server_name"]:
        return False
    if "rrname" in exp and b.get("rrname") != exp["rrname"]:
        return False
    if "dest" in exp and (a.get("dest_ip"), a.get("dest_port")) != exp["dest"]:
        return False
    return True


def check_capture(name, expected, pending=(), soft=None,
                  why="needs request check-ins on long-lived connections"):
    s = soft or sw.Soft()
    r = sw.run_ok(c2(name))
    alerts = beacon_alerts(r)
    for a in alerts:
        if not any(match(a, e) for e in list(expected) + list(pending)):
            s.fail("%s: unexpected alert %s" % (name, sw.fmt(a, 400)))
    for e in expected:
        got = [a for a in alerts if match(a, e)]
        s.true(len(got) == 1, "%s: want exactly one %s, got %d" % (name, e, len(got)))
        for a in got:
            p = a["beacon"]["period"]
            s.true(abs(p - e["period"]) <= 0.10 * e["period"],
                   "%s: period %.3f vs tshark %.3f (%s)" % (name, p, e["period"], e))
            s.true(a["alert"]["category"] == "Command and Control", "%s: category" % name)
            s.true(a["beacon"]["count"] >= MIN_CHECKINS, "%s: count %s" % (name, a["beacon"]["count"]))
    for e in pending:
        got = [a for a in alerts if match(a, e)]
        if not got:
            print("  pending %s: %s (%s)" % (name, e, why))
        for a in got:
            p = a["beacon"]["period"]
            s.true(abs(p - e["period"]) <= 0.10 * e["period"],
                   "%s: period %.3f vs tshark %.3f (%s)" % (name, p, e["period"], e))
    s.done(name)


@sw.test
def test_slips_cc1_name_beacon():
    pcap = c2("slips-test-cc-capture-1.pcap")
    names = tls_names(pcap)
    key = ("147.32.80.37", "testing.com")
    assert len(names[key]) > 100, names.keys()
    period = median_beat(names[key])
    assert 2.0 < period < 2.4, period  # the capture's own description: every ~2 s
    check_capture("slips-test-cc-capture-1.pcap",
                  [{"src": key[0], "sid": 9100002, "server_name": key[1], "period": period}])


@sw.test
def test_slips_cc2_name_and_dns_beacon_no_dnsbl_tunnel():
    pcap = c2("slips-test-cc-capture-2.pcap")
    names, dns = tls_names(pcap), dns_queries(pcap)
    src = "147.32.80.37"
    tp = median_beat(names[(src, "testing.com")])
    dp = median_beat(dns[(src, "testing.com")])
    # DNSBL lookups are there in numbers (the former false positive)
    dnsbl = [k for k in dns if k[1].endswith(".zen.spamhaus.org")]
    assert len(dnsbl) >= 30, len(dnsbl)
    check_capture("slips-test-cc-capture-2.pcap",
                  [{"src": src, "sid": 9100002, "server_name": "testing.com", "period": tp},
                   {"src": src, "sid": 9100003, "rrname": "testing.com", "period": dp}])


@sw.test
def test_too_few_checkins_stay_silent():
    """CryptoWall's C2 POSTs and the one-shot captures: tshark shows fewer
    check-ins per client/server than any detector needs."""
    for name in ("cs-cryptowall4_c2.pcapng", "ndpi-emotet.pcap", "ndpi-malware.pcap",
                 "sv-bug-5713-01-TLSv1-MaliciousC2.pcap"):
        pcap = c2(name)
        most = max([len(v) for v in syns(pcap).values()] + [len(v) for v in tls_names(pcap).values()] + [0])
        assert most < MIN_CHECKINS, (name, most)
        check_capture(name, [])


@sw.test
def test_caldera_ragdoll_no_false_alert():
    """9 POST /weather check-ins 34-57 s apart after two downloads: periodic
    to a human, but 8 beats at +-25% jitter are below the evidence bar (a
    memoryless source matches them with p ~ 1e-3); no other alert either."""
    pcap = c2("corelight-caldera-ragdoll.pcap")
    s = syns(pcap)[("172.18.0.3", "172.18.0.2", 8888)]
    assert len(s) == 12, len(s)
    beat = median_beat(s[2:])
    assert 40 < beat < 52, beat
    check_capture("corelight-caldera-ragdoll.pcap", [],
                  pending=[{"src": "172.18.0.3", "sid": 9100002, "server_name": "172.18.0.2:8888",
                            "period": beat}], why="8 beats at +-25% jitter: below the evidence bar")


@sw.test
def test_long_lived_connection_beacons():
    """STRRAT, AsyncRAT and Merlin check in on ONE connection: their beats
    are client payload bursts. tshark proves the periodicity; the alert is
    pending until the pipeline reports such requests."""
    cases = [("corelight-strrat-4423258f.pcap", "192.168.100.11", "185.255.114.40", 8219, "tcp", None, 5.0),
             ("corelight-asyncrat-cd010953.pcap", "192.168.100.124", "181.131.218.39", 4041, "tcp", 74, 13.5),
             ("zeek-merlinc2-quic.pcapng", "10.0.0.4", "24.199.110.233", 443, "udp", None, 15.0)]
    for name, cl, sv, port, proto, length, want in cases:
        b = client_bursts(c2(name), cl, sv, port, proto, length)
        beat = median_beat(b)
        assert len(b) >= 10 and abs(beat - want) <= 0.05 * want, (name, len(b), beat)
        check_capture(name, [], pending=[{"src": cl, "sid": 9100001, "dest": (sv, port), "period": beat}])


@sw.test
def test_multicast_name_resolution_is_not_c2():
    """AgentTesla/AsyncRAT sandboxes: Windows asks LLMNR for isatap and its
    own name (ANY) on timers; those are no DNS beacon nor tunnel."""
    for name in ("corelight-agenttesla-ftp-f9421792.pcap", "corelight-agenttesla-smtp-a30789ce.pcap"):
        rows = sw.tshark_fields(c2(name), ["dns.qry.name"], "udp.dstport==5355 && dns.flags.response==0",
                                occurrence="f")
        assert sum(1 for r in rows if r[0].lower() == "isatap") >= 10, name
        check_capture(name, [])


@sw.test
def test_icmp_tunnel_no_beacon():
    check_capture("ndpi-icmp-tunnel.pcap", [])


@sw.test
def test_every_c2_capture_covered():
    """A capture added to shared/pcaps/c2 must get an expectation here."""
    covered = {"slips-test-cc-capture-1.pcap", "slips-test-cc-capture-2.pcap", "cs-cryptowall4_c2.pcapng",
               "ndpi-emotet.pcap", "ndpi-malware.pcap", "sv-bug-5713-01-TLSv1-MaliciousC2.pcap",
               "corelight-caldera-ragdoll.pcap", "corelight-strrat-4423258f.pcap",
               "corelight-asyncrat-cd010953.pcap", "zeek-merlinc2-quic.pcapng",
               "corelight-agenttesla-ftp-f9421792.pcap", "corelight-agenttesla-smtp-a30789ce.pcap",
               "ndpi-icmp-tunnel.pcap"}
    present = {f for f in os.listdir(C2) if sw.is_capture(os.path.join(C2, f))}
    assert present <= covered, sorted(present - covered)


if __name__ == "__main__":
    sw.main()
