#!/usr/bin/env python3
"""Write a pcap in which N distinct flows are alive at the same time.

Used by bench/rss_flows.sh to measure the sensor's memory with a large
concurrent flow table (the target is <= 1 GiB at 1M flows).

Every flow has its own 5-tuple (client 10.a.b.c taken from the flow index, so
no two flows share one). The capture goes through the flows in passes:

  pass 1  client -> server  TCP SYN (or the first UDP datagram)
  pass 2  server -> client  SYN-ACK (or the UDP reply)
  pass 3  client -> server  ACK carrying a small request (HTTP GET on port
          80, a DNS query on UDP 53), so the app layer (nDPI, parsers) has
          per-flow state too; --no-payload leaves it out

All packets of all passes fall inside --span seconds (default 20 s, below
the 30 s "new" flow timeout), so no flow can expire before the last pass:
after pass 1 every flow is alive, and stays alive to the end.

Python 3 standard library only. Deterministic for given arguments.
"""
import argparse
import struct
import sys

ETH_IP4 = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
ETH_IP4_REV = b"\x02\x00\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x02" + b"\x08\x00"

SYN, ACK, PSH = 0x02, 0x10, 0x08


def csum(data):
    if len(data) & 1:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(src, dst, proto, payload, ident):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF,
                      0x4000, 64, proto, 0, src, dst)
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + payload


def l4_csum(src, dst, proto, seg):
    pseudo = src + dst + struct.pack("!BBH", 0, proto, len(seg))
    return csum(pseudo + seg)


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b""):
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    seg += payload
    c = l4_csum(src, dst, 6, seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def udp(src, dst, sport, dport, payload):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = l4_csum(src, dst, 17, seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def dns_query(qid, name):
    q = b"".join(bytes([len(p)]) + p for p in name.split(b".")) + b"\0"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + b"\x00\x01\x00\x01"


def dns_reply(qid, name):
    q = b"".join(bytes([len(p)]) + p for p in name.split(b".")) + b"\0"
    return (struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + q + b"\x00\x01\x00\x01" +
            b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc6\x33\x64\x07")


def flow_tuple(i, udp_every):
    cli = bytes((10, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF))
    srv = bytes((198, 51, 100, 1 + (i % 200)))
    cport = 1024 + (i * 7919) % 64000
    is_udp = udp_every > 0 and i % udp_every == 0
    sport = 53 if is_udp else (80 if i % 2 else 443)
    return cli, srv, cport, sport, is_udp


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", help="pcap file to write")
    ap.add_argument("-n", "--flows", type=int, default=1000000,
                    help="concurrent flows (default 1000000, at most 16M)")
    ap.add_argument("--udp-every", type=int, default=5,
                    help="every k-th flow is UDP/DNS (default 5; 0 = TCP only)")
    ap.add_argument("--span", type=float, default=20.0,
                    help="seconds of packet time for the whole capture (default 20)")
    ap.add_argument("--no-payload", action="store_true",
                    help="leave out pass 3 (handshake-only flows)")
    a = ap.parse_args()
    if not 1 <= a.flows <= (1 << 24):
        ap.error("--flows must be 1 .. 16777216")
    passes = 2 if a.no_payload else 3
    total = a.flows * passes
    t0 = 1700000000.0
    step = a.span / total
    n = 0
    with open(a.out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        buf = []

        def emit(frame):
            nonlocal n
            ts = t0 + n * step
            sec = int(ts)
            usec = int(round((ts - sec) * 1e6))
            if usec >= 1000000:
                sec, usec = sec + 1, usec - 1000000
            buf.append(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
            buf.append(frame)
            n += 1
            if len(buf) >= 8192:
                f.write(b"".join(buf))
                buf.clear()

        for p in range(passes):
            for i in range(a.flows):
                cli, srv, cport, sport, is_udp = flow_tuple(i, a.udp_every)
                iss, irs = (i * 2654435761) & 0xFFFFFFFF, (i * 40503) & 0xFFFFFFFF
                name = b"h%d.bench.example" % (i % 5000)
                if is_udp:
                    if p == 0:
                        emit(ETH_IP4 + ip4(cli, srv, 17, udp(cli, srv, cport, sport,
                                                             dns_query(i & 0xFFFF, name)), i))
                    elif p == 1:
                        emit(ETH_IP4_REV + ip4(srv, cli, 17, udp(srv, cli, sport, cport,
                                                                 dns_reply(i & 0xFFFF, name)), i))
                    else:
                        emit(ETH_IP4 + ip4(cli, srv, 17, udp(cli, srv, cport, sport,
                                                             dns_query((i + 1) & 0xFFFF, name)),
                                           i + 1))
                    continue
                if p == 0:
                    emit(ETH_IP4 + ip4(cli, srv, 6, tcp(cli, srv, cport, sport, iss, 0, SYN), i))
                elif p == 1:
                    emit(ETH_IP4_REV + ip4(srv, cli, 6, tcp(srv, cli, sport, cport, irs,
                                                            (iss + 1) & 0xFFFFFFFF,
                                                            SYN | ACK), i))
                else:
                    if sport == 80:
                        pl = b"GET /i%d HTTP/1.1\r\nHost: %s\r\n\r\n" % (i, name)
                    else:
                        pl = b""
                    emit(ETH_IP4 + ip4(cli, srv, 6, tcp(cli, srv, cport, sport,
                                                        (iss + 1) & 0xFFFFFFFF,
                                                        (irs + 1) & 0xFFFFFFFF,
                                                        ACK | (PSH if pl else 0), pl), i + 1))
        f.write(b"".join(buf))
    sys.stderr.write("gen_flows: %s: %d flows, %d packets, %.1f s of packet time\n"
                     % (a.out, a.flows, n, a.span))


if __name__ == "__main__":
    main()
