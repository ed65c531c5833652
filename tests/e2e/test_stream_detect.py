#!/usr/bin/env python3
"""Stream inspection of TCP payload rules, as Suricata's raw stream.

A payload rule without a sticky buffer on a TCP flow matches the
reassembled stream: content split across segments (in order, out of order,
overlapping, one byte per segment) fires, and fires exactly once; an
unsplit hit, a retransmission of it, and the stream copy of the same bytes
do not alert twice; two separate occurrences alert twice; rules that need
packet semantics (dsize, tcp-pkt) still see packets.  Captures are
generated here (deterministic), each scenario on its own server port so
one run checks them all; the expected pcap_cnt is the packet that
completed the match, computed while writing the capture."""
import os
import sys
import tempfile

import swtest as t

sys.path.insert(0, os.path.join(t.SRC, "tools"))
import pcapgen as pg  # noqa: E402

CLI, SRV = "10.1.0.5", "192.0.2.9"
MARK = b"SPANWATCHSTREAMMARK"
ACK, PSH, SYN, FIN = 0x10, 0x08, 0x02, 0x01


class Cap:
    def __init__(self):
        self.recs = []
        self.t = 1795000000.0

    def add(self, src, dst, sport, dport, seq, ack, flags, payload=b""):
        self.t += 0.001
        seg = pg.tcp(src, dst, sport, dport, seq, ack, flags, payload, win=64240)
        frame = pg.eth(b"\x02" * 6, b"\x04" * 6, pg.ipv4(src, dst, 6, seg, ident=1))
        self.recs.append((self.t, frame))
        return len(self.recs)  # pcap_cnt of this packet

    def conn(self, sport, dport, segs):
        """Handshake, client segments [(offset, bytes)] in the order given,
        FIN exchange. Returns the pcap_cnt of each data segment."""
        isn, sisn = 1000, 5000
        self.add(CLI, SRV, sport, dport, isn, 0, SYN)
        self.add(SRV, CLI, dport, sport, sisn, isn + 1, SYN | ACK)
        self.add(CLI, SRV, sport, dport, isn + 1, sisn + 1, ACK)
        cnts = []
        end = 0
        for off, data in segs:
            cnts.append(self.add(CLI, SRV, sport, dport, isn + 1 + off, sisn + 1, PSH | ACK,
                                 data))
            end = max(end, off + len(data))
        self.add(SRV, CLI, dport, sport, sisn + 1, isn + 1 + end, ACK)
        self.add(CLI, SRV, sport, dport, isn + 1 + end, sisn + 1, FIN | ACK)
        self.add(SRV, CLI, dport, sport, sisn + 1, isn + 2 + end, FIN | ACK)
        self.add(CLI, SRV, sport, dport, isn + 2 + end, sisn + 2, ACK)
        return cnts

    def write(self, path):
        with open(path, "wb") as f:
            f.write(pg.pcap_header(65535))
            for ts, fr in self.recs:
                sec, usec = pg.split_ts(ts)
                f.write(pg.pcap_record(sec, usec, fr))


def build(tmp):
    c = Cap()
    want = {}  # sid -> sorted list of pcap_cnt of expected alerts
    msg = b"hello " + MARK + b" world\n"
    cut = 6 + 7  # inside the marker
    # 1 in order, split inside the marker: alerts on the second segment
    n = c.conn(40001, 7001, [(0, msg[:cut]), (cut, msg[cut:])])
    want[1] = [n[1]]
    # 2 out of order: the second half first; the first half completes it
    n = c.conn(40002, 7002, [(cut, msg[cut:]), (0, msg[:cut])])
    want[2] = [n[1]]
    # 3 overlapping segments (same bytes twice in the overlap)
    n = c.conn(40003, 7003, [(0, msg[:cut + 3]), (cut - 4, msg[cut - 4:])])
    want[3] = [n[1]]
    # 4 unsplit, then retransmitted: one alert (packet and stream are one hit)
    n = c.conn(40004, 7004, [(0, msg), (0, msg)])
    want[4] = [n[0]]
    # 5 one byte per segment
    segs = [(i, msg[i:i + 1]) for i in range(len(msg))]
    n = c.conn(40005, 7005, segs)
    want[5] = [n[msg.index(MARK) + len(MARK) - 1]]
    # 6 two separate occurrences, far apart: two alerts
    pad = b"x" * 600
    n = c.conn(40006, 7006, [(0, msg), (len(msg), pad), (len(msg) + 600, msg)])
    want[6] = [n[0], n[2]]
    # 7 the same split as 1, but the rule needs packet semantics (dsize):
    #   neither packet holds the whole marker, so no alert
    n = c.conn(40007, 7007, [(0, msg[:cut]), (cut, msg[cut:])])
    want[7] = []
    # 8 dsize rule on an unsplit hit: inspects the packet, one alert
    n = c.conn(40008, 7008, [(0, msg)])
    want[8] = [n[0]]
    # 9 anchored content (depth) counts from the start of each chunk the
    #   stream hands on (the packet's data when in order), as packet
    #   inspection did: record-aligned rules (TLS heartbeat) keep working;
    #   a hit inside the kept tail is not anchored
    n = c.conn(40009, 7009, [(0, b"HDR1 abc\n"), (9, b"HDR1 def\n"), (18, b"xHDR1\n")])
    want[9] = [n[0], n[1]]
    pcap = os.path.join(tmp, "stream.pcap")
    c.write(pcap)
    rules = os.path.join(tmp, "stream.rules")
    content = 'content:"%s";' % MARK.decode()
    with open(rules, "w") as f:
        for sid in (1, 2, 3, 4, 5, 6):
            f.write('alert tcp any any -> any %d (msg:"s%d"; flow:to_server,established; %s '
                    'sid:%d; rev:1;)\n' % (7000 + sid, sid, content, sid))
        f.write('alert tcp any any -> any 7007 (msg:"s7"; dsize:>0; %s sid:7; rev:1;)\n'
                % content)
        f.write('alert tcp-pkt any any -> any 7008 (msg:"s8"; %s sid:8; rev:1;)\n' % content)
        f.write('alert tcp any any -> any 7009 (msg:"s9"; content:"HDR1"; depth:4; sid:9; '
                'rev:1;)\n')
    return pcap, rules, want


_TMP = tempfile.mkdtemp(prefix="sw-stream-")


@t.test
def test_split_content_fires_exactly_once():
    pcap, rules, want = build(_TMP)
    r = t.run_ok(pcap, rules=rules)
    got = {}
    for ev in r.of_type("alert"):
        got.setdefault(ev["alert"]["signature_id"], []).append(ev.get("pcap_cnt"))
    soft = t.Soft()
    for sid, cnts in sorted(want.items()):
        soft.eq("sid %d alerts (pcap_cnt)" % sid, sorted(got.get(sid, [])), cnts)
    for ev in r.of_type("alert"):
        if ev["alert"]["signature_id"] in (1, 2, 3, 4, 5, 6):
            soft.eq("sid %d src_port" % ev["alert"]["signature_id"], ev.get("src_port"),
                    40000 + ev["alert"]["signature_id"])
            soft.eq("sid %d dest_ip" % ev["alert"]["signature_id"], ev.get("dest_ip"), SRV)
    soft.done()


@t.test
def test_bug_130_raw_stream_rules_fire_once():
    """sv-bug-130: three payload rules on the response stream; each alerts
    once, from the server, on the HTTP flow."""
    base = t.shared_pcap("files/sv-bug-130")
    r = t.run_ok(base + ".pcap", rules=base + ".test.rules")
    soft = t.Soft()
    for sid in (9000000, 9000001, 9000002):
        evs = [e for e in r.of_type("alert") if e["alert"]["signature_id"] == sid]
        soft.eq("sid %d alerts" % sid, len(evs), 1)
        for e in evs:
            soft.eq("sid %d src" % sid, (e.get("src_ip"), e.get("src_port")),
                    ("162.2.41.200", 80))
            soft.eq("sid %d app_proto" % sid, e.get("app_proto"), "http")
            # packet 6 carries the whole WWW-Authenticate header
            soft.eq("sid %d pcap_cnt" % sid, e.get("pcap_cnt"), 6)
    soft.done()


if __name__ == "__main__":
    t.main()
