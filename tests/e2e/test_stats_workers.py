#!/usr/bin/env python3
"""The stats event counts every worker's traffic, whatever the number of
workers (up to --workers 64).

Oracle: a capture written here with 1000 UDP packets, each its own flow
(1000 distinct source addresses, so the host-pair hash spreads them over
every worker). decoder.pkts must be 1000, flow.total must be 1000 and equal
the number of flow events, and the summary line on stderr must say 1000
flows.
"""
import os
import re
import shutil
import struct
import tempfile

import swtest as t

NPKT = 1000


def _csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return (~s) & 0xFFFF


def write_capture(path):
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(NPKT):
            src = bytes([10, 1, (i >> 8) & 255, i & 255])
            dst = bytes([192, 168, 0, 1])
            payload = b"x" * 8
            udp = struct.pack("!HHHH", 10000 + i, 9999, 8 + len(payload), 0) + payload
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0, src, dst)
            ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
            eth = b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00"
            pkt = eth + ip + udp
            out.write(struct.pack("<IIII", 1700000000 + i // 100, (i % 100) * 1000,
                                  len(pkt), len(pkt)) + pkt)


@t.test
def test_stats_count_every_worker():
    tmp = tempfile.mkdtemp(prefix="sw-stats-workers-")
    try:
        cap = os.path.join(tmp, "many-flows.pcap")
        write_capture(cap)
        soft = t.Soft()
        for w in (1, 8, 64):
            r = t.run(cap, workers=w, extra=())
            if r.rc != 0 or r.bad_lines:
                soft.fail("--workers %d: %s" % (w, r.describe()))
                continue
            stats = r.of_type("stats")
            if not stats:
                soft.fail("--workers %d: no stats event" % w)
                continue
            last = stats[-1]["stats"]
            soft.eq("--workers %d decoder.pkts" % w, t.get_path(last, "decoder.pkts"), NPKT)
            soft.eq("--workers %d flow.total" % w, t.get_path(last, "flow.total"), NPKT)
            soft.eq("--workers %d flow events" % w, len(r.of_type("flow")), NPKT)
            m = re.search(r"(\d+) flows", r.stderr)
            soft.eq("--workers %d summary flows" % w, int(m.group(1)) if m else None, NPKT)
        soft.done()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    t.main()
