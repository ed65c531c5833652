#!/usr/bin/env python3
"""Flow events against independent oracles.

- packet/byte counters per flow and direction vs tshark's per-packet view
  (frame.cap_len, as Suricata counts the captured length), flow count per
  5-tuple vs `tshark -z conv,tcp -z conv,udp`;
- start/end/age vs the first/last packet time tshark sees on the 5-tuple;
- tcp flags (union, to-server, to-client, booleans) vs tshark's tcp.flags;
- community_id vs tshark's Community ID dissector, a Python implementation
  of the spec, and the suricata-verify community-id test's values;
- --workers 1, 2 and 4 produce the same events up to order (stats dropped).
"""
import collections
import os
import re

import swtest as t

# Plain Ethernet/IP captures (no VLAN/tunnels/fragments, where tshark's
# notion of a conversation and a sensor's flow key differ by design).
FLOW_CAPTURES = [
    "dns/sv-dns-udp-eve-txt.pcap",
    "dns/zeek-dns-edns-ecs.pcap",
    "dns/sv-dns-tcp-www-google-com.pcap",
    "http/zeek-http-pipelined-requests.pcap",
    "http/ndpi-WebattackSQLinj.pcap",
    "tls/zeek-tls1.2.pcap",
    "tls/sv-ja4-tls.pcap",
    "c2/corelight-agenttesla-ftp-f9421792.pcap",
    "c2/corelight-asyncrat-cd010953.pcap",
    "misc/ndpi-quic.pcap",
    "misc/sv-community-id-ipv6.pcap",
]

WORKER_CAPTURES = [
    "c2/corelight-agenttesla-ftp-f9421792.pcap",
    "c2/corelight-asyncrat-cd010953.pcap",
    "http/ndpi-WebattackRCE.pcap",
    "dns/sv-dns-bug-1158-iodine.pcap",
    "misc/ndpi-bittorrent.pcap",
]

PROTO_NUM = {"TCP": 6, "UDP": 17}


def norm_ip(s):
    import ipaddress
    return str(ipaddress.ip_address(s))


def first(v):
    return v.split("\x1f")[0] if v else ""


def oracle_packets(pcap):
    """Per-packet (proto, src, sport, dst, dport, time, caplen, tcpflags)
    for plain TCP/UDP packets, from tshark."""
    fields = ["frame.protocols", "frame.time_epoch", "frame.cap_len", "ip.src", "ip.dst",
              "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
              "tcp.flags"]
    out = []
    for row in t.tshark_fields(pcap, fields):
        protos = row[0].split(":")
        if "icmp" in protos or "icmpv6" in protos:
            continue
        src = first(row[3]) or first(row[5])
        dst = first(row[4]) or first(row[6])
        if not src:
            continue
        if "tcp" in protos and row[7]:
            proto, sp, dp = "TCP", int(first(row[7])), int(first(row[8]))
        elif "udp" in protos and row[9]:
            proto, sp, dp = "UDP", int(first(row[9])), int(first(row[10]))
        else:
            continue
        flags = int(first(row[11]), 16) & 0xff if row[11] else 0
        out.append((proto, norm_ip(src), sp, norm_ip(dst), dp, row[1], int(row[2]), flags))
    return out


def key_of(proto, a, ap, b, bp):
    return (proto, frozenset([(a, ap), (b, bp)]))


def usec(epoch_str):
    sec, _, frac = epoch_str.partition(".")
    frac = (frac + "000000000")[:9]
    return int(sec) * 1000000 + int(frac[:6])


def ts_usec(ts):
    import datetime
    d = datetime.datetime.strptime(ts[:26], "%Y-%m-%dT%H:%M:%S.%f")
    d = d.replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 1000000 + d.microsecond


def flow_events(pcap, **kw):
    r = t.run_ok(pcap, **kw)
    return r, [e for e in r.of_type("flow") if e.get("proto") in PROTO_NUM]


@t.test
def test_flow_counters_vs_tshark():
    soft = t.Soft(limit=60)
    for rel in FLOW_CAPTURES:
        pcap = t.shared_pcap(rel)
        pk = oracle_packets(pcap)
        r, flows = flow_events(pcap)
        by_key = collections.defaultdict(list)
        for ev in flows:
            by_key[key_of(ev["proto"], norm_ip(ev["src_ip"]), ev["src_port"],
                          norm_ip(ev["dest_ip"]), ev["dest_port"])].append(ev)
        opk = collections.defaultdict(list)
        for p in pk:
            opk[key_of(p[0], p[1], p[2], p[3], p[4])].append(p)
        name = os.path.basename(rel)
        missing = set(opk) - set(by_key)
        extra = set(by_key) - set(opk)
        for k in sorted(missing, key=str)[:5]:
            soft.fail("%s: tshark sees %s %s (%d pkts), spanwatch has no flow event"
                      % (name, k[0], sorted(k[1]), len(opk[k])))
        for k in sorted(extra, key=str)[:5]:
            soft.fail("%s: spanwatch flow %s %s that tshark does not see" % (name, k[0], sorted(k[1])))
        for k in set(opk) & set(by_key):
            evs = by_key[k]
            pkts = opk[k]
            # several flow events on one 5-tuple (port reuse, timeouts) are
            # summed per side; the side is the event's src endpoint
            side_pk = collections.Counter()
            side_by = collections.Counter()
            for ev in evs:
                s = (norm_ip(ev["src_ip"]), ev["src_port"])
                d = (norm_ip(ev["dest_ip"]), ev["dest_port"])
                side_pk[s] += ev["flow"]["pkts_toserver"]
                side_pk[d] += ev["flow"]["pkts_toclient"]
                side_by[s] += ev["flow"]["bytes_toserver"]
                side_by[d] += ev["flow"]["bytes_toclient"]
            o_pk = collections.Counter()
            o_by = collections.Counter()
            for p in pkts:
                o_pk[(p[1], p[2])] += 1
                o_by[(p[1], p[2])] += p[6]
            for side in k[1]:
                soft.eq("%s %s %s pkts from %s" % (name, k[0], sorted(k[1]), side),
                        side_pk[side], o_pk[side])
                soft.eq("%s %s %s bytes from %s" % (name, k[0], sorted(k[1]), side),
                        side_by[side], o_by[side])
    soft.done("flow counters differ from tshark:")


CONV_RE = re.compile(r"^(\S+):(\d+)\s+<->\s+(\S+):(\d+)\s+(\d+)\s+\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(\d+)\s")


def tshark_conversations(pcap):
    out = collections.Counter()
    text = t.tshark(["-q", "-z", "conv,tcp", "-z", "conv,udp", "-r", pcap])
    proto = None
    for line in text.split("\n"):
        if line.startswith("TCP Conversations"):
            proto = "TCP"
        elif line.startswith("UDP Conversations"):
            proto = "UDP"
        m = CONV_RE.match(line)
        if m and proto:
            a, ap, b, bp = m.group(1), int(m.group(2)), m.group(3), int(m.group(4))
            out[key_of(proto, norm_ip(a), ap, norm_ip(b), bp)] += int(m.group(7))
    return out


@t.test
def test_flow_count_vs_tshark_conv():
    """Same set of TCP/UDP conversations and same total frames per
    conversation as tshark's conversation table."""
    soft = t.Soft()
    for rel in FLOW_CAPTURES:
        pcap = t.shared_pcap(rel)
        conv = tshark_conversations(pcap)
        r, flows = flow_events(pcap)
        sw = collections.Counter()
        for ev in flows:
            f = ev["flow"]
            sw[key_of(ev["proto"], norm_ip(ev["src_ip"]), ev["src_port"],
                      norm_ip(ev["dest_ip"]), ev["dest_port"])] += f["pkts_toserver"] + f["pkts_toclient"]
        name = os.path.basename(rel)
        soft.eq("%s number of conversations" % name, len(sw), len(conv))
        for k in set(sw) | set(conv):
            soft.eq("%s %s %s frames" % (name, k[0], sorted(k[1])), sw.get(k), conv.get(k))
    soft.done()


@t.test
def test_flow_times_flags_and_state():
    soft = t.Soft(limit=60)
    for rel in FLOW_CAPTURES:
        pcap = t.shared_pcap(rel)
        name = os.path.basename(rel)
        pk = oracle_packets(pcap)
        opk = collections.defaultdict(list)
        for p in pk:
            opk[key_of(p[0], p[1], p[2], p[3], p[4])].append(p)
        r, flows = flow_events(pcap)
        # Suricata semantics: flow.alerted is true when an alert was raised on
        # the flow.  Beacon alerts are host-level but carry the flow_id of the
        # check-in that completed the evidence; they are reported separately.
        alerted_ids = {e.get("flow_id") for e in r.of_type("alert") if "beacon" not in e}
        beacon_ids = {e.get("flow_id") for e in r.of_type("alert") if "beacon" in e}
        per_key = collections.Counter(key_of(e["proto"], norm_ip(e["src_ip"]), e["src_port"],
                                             norm_ip(e["dest_ip"]), e["dest_port"]) for e in flows)
        for ev in flows:
            f = ev["flow"]
            k = key_of(ev["proto"], norm_ip(ev["src_ip"]), ev["src_port"],
                       norm_ip(ev["dest_ip"]), ev["dest_port"])
            tag = "%s %s %s:%s->%s:%s" % (name, ev["proto"], ev["src_ip"], ev["src_port"],
                                          ev["dest_ip"], ev["dest_port"])
            start, end = ts_usec(f["start"]), ts_usec(f["end"])
            soft.true(start <= end, "%s: start %s after end %s" % (tag, f["start"], f["end"]))
            soft.eq(tag + " age", f.get("age"), end // 1000000 - start // 1000000)
            soft.true(f.get("state") in ("new", "established", "closed", "bypassed"),
                      "%s: state %r" % (tag, f.get("state")))
            soft.true(f.get("reason") in ("timeout", "forced", "shutdown"),
                      "%s: reason %r" % (tag, f.get("reason")))
            soft.eq(tag + " alerted", f.get("alerted"), ev.get("flow_id") in alerted_ids
                    or (f.get("alerted") and ev.get("flow_id") in beacon_ids))
            if ev.get("flow_id") in beacon_ids and not f.get("alerted"):
                soft.fail("%s: a beacon alert carries this flow's flow_id but flow.alerted is "
                          "false" % tag)
            if ev["proto"] == "UDP":
                want = "established" if f["pkts_toclient"] > 0 else "new"
                soft.eq(tag + " UDP state", f.get("state"), want)
            pkts = opk.get(k, [])
            if per_key[k] != 1 or not pkts:
                continue  # times and flags are only comparable one flow per 5-tuple
            soft.eq(tag + " start", start, min(usec(p[5]) for p in pkts))
            soft.eq(tag + " end", end, max(usec(p[5]) for p in pkts))
            if ev["proto"] == "TCP":
                src = (norm_ip(ev["src_ip"]), ev["src_port"])
                ts = tc = 0
                for p in pkts:
                    if (p[1], p[2]) == src:
                        ts |= p[7]
                    else:
                        tc |= p[7]
                tcp = ev.get("tcp")
                if not isinstance(tcp, dict):
                    soft.fail(tag + ": TCP flow event without tcp object")
                    continue
                soft.eq(tag + " tcp_flags", tcp.get("tcp_flags"), "%02x" % (ts | tc))
                soft.eq(tag + " tcp_flags_ts", tcp.get("tcp_flags_ts"), "%02x" % ts)
                soft.eq(tag + " tcp_flags_tc", tcp.get("tcp_flags_tc"), "%02x" % tc)
                for bit, nm in ((0x01, "fin"), (0x02, "syn"), (0x04, "rst"), (0x08, "psh"),
                                (0x10, "ack"), (0x20, "urg"), (0x40, "ecn"), (0x80, "cwr")):
                    soft.eq(tag + " tcp." + nm, tcp.get(nm), True if (ts | tc) & bit else None)
    soft.done("flow field mismatches:")


@t.test
def test_community_id_vs_tshark_and_spec():
    soft = t.Soft()
    for rel in FLOW_CAPTURES:
        pcap = t.shared_pcap(rel)
        name = os.path.basename(rel)
        rows = t.tshark_fields(pcap, ["ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "tcp.srcport",
                                      "udp.srcport", "tcp.dstport", "udp.dstport", "communityid"],
                               opts=(), display_filter="tcp or udp")
        # tshark needs the dissector enabled; tshark_fields has no flag for it
        rows = t.tshark(["-r", pcap, "--enable-protocol", "communityid", "-Y",
                         "(tcp or udp) and not icmp and not icmpv6", "-T", "fields", "-E",
                         "separator=\t", "-E", "occurrence=f", "-e", "ip.src", "-e", "ipv6.src",
                         "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.srcport", "-e", "udp.srcport",
                         "-e", "tcp.dstport", "-e", "udp.dstport", "-e", "communityid"]).split("\n")
        oracle = {}
        for line in rows:
            c = line.split("\t")
            if len(c) < 9 or not c[8]:
                continue
            proto = "TCP" if c[4] else "UDP"
            k = key_of(proto, norm_ip(c[0] or c[1]), int(c[4] or c[5]),
                       norm_ip(c[2] or c[3]), int(c[6] or c[7]))
            oracle[k] = c[8]
        r = t.run_ok(pcap)
        for ev in r.events:
            if ev.get("proto") not in PROTO_NUM or "community_id" not in ev:
                continue
            k = key_of(ev["proto"], norm_ip(ev["src_ip"]), ev["src_port"], norm_ip(ev["dest_ip"]),
                       ev["dest_port"])
            tag = "%s %s %s %s" % (name, ev["event_type"], ev["proto"], sorted(k[1]))
            soft.eq(tag + " vs spec", ev["community_id"],
                    t.community_id(ev["src_ip"], ev["dest_ip"], ev["proto"], ev["src_port"],
                                   ev["dest_port"]))
            if k in oracle:
                soft.eq(tag + " vs tshark", ev["community_id"], oracle[k])
    soft.done()


@t.test
def test_community_id_suricata_verify_values():
    """The values suricata-verify's community-id test pins, looked up by
    5-tuple (independent of the TLS fields the same yaml also checks)."""
    import yaml
    y = yaml.safe_load(open(t.shared_pcap("misc/sv-community-id-ipv6.test.yaml")))
    r = t.run_ok(t.shared_pcap("misc/sv-community-id-ipv6.pcap"))
    soft = t.Soft()
    n = 0
    for chk in y["checks"]:
        m = chk.get("filter", {}).get("match", {})
        if "community_id" not in m:
            continue
        n += 1
        want = m["community_id"]
        tup = (norm_ip(m["src_ip"]), m["src_port"], norm_ip(m["dest_ip"]), m["dest_port"])
        # the suricata-verify test runs with community-id-seed 7 (its own
        # suricata.yaml); the contract fixes seed 0.  The pinned value checks
        # the Python oracle, the oracle with seed 0 then checks spanwatch.
        soft.eq("oracle with seed 7 for %s" % (tup,),
                t.community_id(tup[0], tup[2], m["proto"], tup[1], tup[3], seed=7), want)
        want = t.community_id(tup[0], tup[2], m["proto"], tup[1], tup[3], seed=0)
        got = {e.get("community_id") for e in r.events
               if e.get("event_type") == m["event_type"] and
               (norm_ip(e.get("src_ip")), e.get("src_port"), norm_ip(e.get("dest_ip")),
                e.get("dest_port")) == tup}
        soft.eq("%s community_id for %s" % (m["event_type"], tup), got, {want})
    assert n >= 4, "the yaml should pin four community_ids, found %d" % n
    soft.done()


@t.test
def test_workers_same_events():
    soft = t.Soft(limit=20)
    for rel in WORKER_CAPTURES:
        pcap = t.shared_pcap(rel)
        base = None
        for w in (1, 2, 4):
            r = t.run(pcap, workers=w)
            if r.rc != 0 or r.bad_lines:
                soft.fail("%s --workers %d: rc=%s, %d bad lines, stderr %r"
                          % (rel, w, r.rc, len(r.bad_lines), r.stderr.strip()[-300:]))
                continue
            evs = collections.Counter(t.canonical(e) for e in t.non_stats(r.events))
            if base is None:
                base = evs
                soft.true(sum(evs.values()) > 0, "%s: no events with 1 worker" % rel)
                continue
            if evs != base:
                only1 = list((base - evs).elements())
                onlyn = list((evs - base).elements())
                soft.fail("%s: --workers %d differs from --workers 1: %d events only with 1, "
                          "%d only with %d\n      only-1: %s\n      only-%d: %s"
                          % (rel, w, len(only1), len(onlyn), w, only1[:1] and only1[0][:600],
                             w, onlyn[:1] and onlyn[0][:600]))
    soft.done()


if __name__ == "__main__":
    t.main()
