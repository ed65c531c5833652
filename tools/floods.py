#!/usr/bin/python3
"""Writes pcaps of hostile floods, each with a real attack mixed in.

    tools/floods.py OUTDIR [--scale N] [--only NAME] [--seed N]

Floods (Ethernet, IPv4; all addresses in 10.0.0.0/8 or random):
  syn       random-source SYN flood (flow table pressure)
  frag      fragment flood: never-completed and overlapping IPv4 fragments
            (defrag tracker/fragment/memory pressure)
  ooo       out-of-order TCP segment storm: many connections whose data
            arrives after a hole that is never filled (reassembly memcap)
  dnsloop   DNS responses whose names are compression-pointer loops
            (self-loops, two-pointer cycles, forward chains)
  http      HTTP with endless headers, endless chunk-size lines and
            endless tiny chunks
The real attack in each is an HTTP request whose URI reads
information_schema (bundled rule sid 9000002, SQLi), sent in a complete TCP
session from ATTACKER to SERVER in the middle of the flood; the frag flood
also carries it as a fragmented datagram after the flood (past the defrag
timeout the test configures).

The packet builders (tcp_session, ipv4_fragments, write_pcap, ...) are
shared with tests/e2e/test_floods.py and test_evasion.py. Python 3 stdlib
only; deterministic (seeded)."""
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcapgen as pg  # noqa: E402
from pcapgen import ACK, PSH, SYN, ipv4, tcp, udp  # noqa: E402  (floods.tcp, .ACK ... are used by the tests)

ATTACKER = "10.66.6.6"
SERVER = "10.1.1.80"
ATTACK_SID = 9000002
ATTACK_URI = b"/shop/item.php?id=1+union+select+table_name+from+information_schema.tables--"
ATTACK_REQUEST = (b"GET " + ATTACK_URI + b" HTTP/1.1\r\nHost: shop.example\r\n"
                  b"User-Agent: sqlmap/1.7\r\nAccept: */*\r\n\r\n")
BENIGN_RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 11\r\n"
                   b"\r\nhello world")

MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")


def eth(payload, ethertype=pg.ETH_IPV4):
    return pg.eth(MAC_B, MAC_A, payload, ethertype)


def tcp_pkt(src, dst, sport, dport, seq, ack, flags, payload=b""):
    return eth(ipv4(src, dst, 6, tcp(src, dst, sport, dport, seq, ack, flags, payload)))


class Clock:
    """Packet timestamps in microseconds, 1 ms apart unless told."""

    def __init__(self, t0=1_700_000_000_000_000):
        self.t = t0

    def __call__(self, step_us=1000):
        self.t += step_us
        return self.t


def tcp_session(clk, cli, srv, sport, dport, request, response=b"", **kw):
    """A complete TCP connection of tcp_pkt frames (pcapgen.tcp_session:
    mss, order, extra, isn_c, isn_s, close)."""
    return pg.tcp_session(clk, tcp_pkt, cli, srv, sport, dport, request, response, **kw)


def attack_session(clk, sport=44444):
    return tcp_session(clk, ATTACKER, SERVER, sport, 80, ATTACK_REQUEST, BENIGN_RESPONSE)


def ipv4_fragments(src, dst, proto, l4, ident, pieces):
    """pieces: list of (offset, length) in bytes of l4 (offsets multiple of 8)
    in sending order; a piece gets MF unless it reaches the end. Each piece
    may be (offset, length, replacement_bytes) to send different data."""
    out = []
    for pc in pieces:
        off, ln = pc[0], pc[1]
        data = pc[2] if len(pc) > 2 else l4[off:off + ln]
        mf = pg.IP_MF if off + ln < len(l4) else 0
        out.append(eth(ipv4(src, dst, proto, data, ident=ident, flags_off=mf | (off // 8))))
    return out


def write_pcap(path, packets):
    """packets: iterable of (ts_us, frame)."""
    pg.write_pcap(path, ((ts // 1_000_000, ts % 1_000_000, frame) for ts, frame in packets),
                  snaplen=262144)


def rand_ip(rng):
    return "%d.%d.%d.%d" % (rng.randint(1, 223), rng.randint(0, 255), rng.randint(0, 255),
                            rng.randint(1, 254))


# ---------------------------------------------------------------- floods

def flood_syn(scale, rng):
    clk = Clock()
    pk = []
    n = 40000 * scale
    for i in range(n):
        if i == n // 2:
            pk += attack_session(clk)
        pk.append((clk(20), tcp_pkt(rand_ip(rng), SERVER, rng.randint(1024, 65535), 80,
                                    rng.getrandbits(32), 0, SYN)))
    return pk


def attack_fragmented(clk, ident=0xBEEF, sport=45555):
    """The attack session with its request datagram sent as 3 IPv4
    fragments (the TCP header is in the first)."""
    pk = tcp_session(clk, ATTACKER, SERVER, sport, 80, b"", BENIGN_RESPONSE, close=False)
    seg = tcp(ATTACKER, SERVER, sport, 80, 1001, 5001, PSH | ACK, ATTACK_REQUEST)
    third = (len(seg) // 3) // 8 * 8
    frags = ipv4_fragments(ATTACKER, SERVER, 6, seg, ident,
                           [(0, third), (third, third), (2 * third, len(seg) - 2 * third)])
    # the request goes right after the handshake, before the response
    head, tail = pk[:3], pk[3:]
    out = head + [(clk(), f) for f in frags]
    for ts, fr in tail:
        out.append((clk(), fr))
    return out


def flood_frag(scale, rng):
    clk = Clock()
    pk = []
    n = 30000 * scale
    payload = bytes(rng.getrandbits(8) for _ in range(512))
    for i in range(n):
        if i == n // 2:
            pk += attack_session(clk)
        src = rand_ip(rng)
        ident = rng.getrandbits(16)
        kind = i % 3
        if kind == 0:    # first fragment only: never completed
            frs = ipv4_fragments(src, SERVER, 17, payload, ident, [(0, 64)])
        elif kind == 1:  # overlapping middle fragments, no first, no last
            frs = ipv4_fragments(src, SERVER, 17, payload, ident,
                                 [(64, 128), (96, 128, b"X" * 128), (80, 64)])
        else:            # many tiny fragments of one datagram, last missing
            frs = ipv4_fragments(src, SERVER, 17, payload, ident,
                                 [(o, 8) for o in range(0, 64, 8)])
        for f in frs:
            pk.append((clk(20), f))
    # After the defrag timeout the tests configure (5 s) the trackers are
    # reclaimable: a fragmented attack must then be reassembled and seen.
    clk(10_000_000)
    pk += attack_fragmented(clk)
    return pk


def flood_ooo(scale, rng):
    clk = Clock()
    pk = []
    conns = 400 * scale
    for c in range(conns):
        if c == conns // 2:
            pk += attack_session(clk)
        cli = rand_ip(rng)
        sport = rng.randint(1024, 65535)
        isn = rng.getrandbits(32)
        pk.append((clk(50), tcp_pkt(cli, SERVER, sport, 80, isn, 0, SYN)))
        pk.append((clk(50), tcp_pkt(SERVER, cli, 80, sport, 7, isn + 1, SYN | ACK)))
        pk.append((clk(50), tcp_pkt(cli, SERVER, sport, 80, isn + 1, 8, ACK)))
        # a hole of 100 bytes at the start, then a storm of segments after
        # it in random order, overlapping each other; the hole never fills
        offs = list(range(100, 100 + 64 * 400, 400))
        rng.shuffle(offs)
        for o in offs:
            ln = rng.randint(200, 600)
            pk.append((clk(20), tcp_pkt(cli, SERVER, sport, 80, isn + 1 + o, 8, PSH | ACK,
                                        bytes([65 + o % 26]) * ln)))
    return pk


def dns_loop_response(rng, kind):
    qid = rng.getrandbits(16)
    hdr = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0)
    if kind == 0:    # question name is a pointer to itself
        q = b"\xc0\x0c" + struct.pack("!HH", 1, 1)
        ans = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + b"\x01\x02\x03\x04"
    elif kind == 1:  # two pointers pointing at each other
        q = b"\x01a\xc0\x12" + b"\xc0\x0e" + struct.pack("!HH", 1, 1)
        ans = b"\xc0\x0e" + struct.pack("!HHIH", 5, 1, 60, 2) + b"\xc0\x0c"
    else:            # a long chain of pointers, each one label further back
        q = b"\x03www\x07example\x03com\x00" + struct.pack("!HH", 1, 1)
        chain = b""
        base = 12 + len(q)
        for i in range(200):
            chain += b"\x01x" + struct.pack("!H", 0xC000 | (base + 4 * (i - 1) if i else 12))
        ans = b"\xc0" + bytes([base + 4 * 199 & 0xFF]) + struct.pack("!HHIH", 1, 1, 60, 4) + \
            b"\x01\x02\x03\x04"
        hdr = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0)
        return hdr + q + chain + ans
    return hdr + q + ans


def flood_dnsloop(scale, rng):
    clk = Clock()
    pk = []
    n = 30000 * scale
    for i in range(n):
        if i == n // 2:
            pk += attack_session(clk)
        cli = rand_ip(rng)
        msg = dns_loop_response(rng, i % 3)
        pk.append((clk(30), eth(ipv4("10.53.53.53", cli, 17,
                                     udp("10.53.53.53", cli, 53, rng.randint(1024, 65535),
                                         msg)))))
    return pk


def flood_http(scale, rng):
    clk = Clock()
    pk = []
    # endless headers: a request that never ends its header block
    hdrs = b"GET / HTTP/1.1\r\nHost: victim\r\n" + b"".join(
        b"X-Pad-%d: %s\r\n" % (i, b"a" * 40) for i in range(20000 * scale))
    pk += tcp_session(clk, "10.9.0.1", SERVER, 40001, 80, hdrs, b"", close=False)
    # endless chunk-size line
    resp = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
            b"f" * (500000 * scale))
    pk += tcp_session(clk, "10.9.0.2", SERVER, 40002, 80,
                      b"GET /a HTTP/1.1\r\nHost: victim\r\n\r\n", resp, close=False)
    pk += attack_session(clk)
    # endless tiny chunks, and a huge chunk size that overflows 64 bits
    resp = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
            b"1\r\nA\r\n" * (100000 * scale) + b"fffffffffffffffffffffffff\r\n" + b"B" * 1000)
    pk += tcp_session(clk, "10.9.0.3", SERVER, 40003, 80,
                      b"GET /b HTTP/1.1\r\nHost: victim\r\n\r\n", resp, close=False)
    # many pipelined requests with endless headers each
    reqs = b"".join(b"GET /p%d HTTP/1.1\r\nHost: victim\r\n" % i + b"X: y\r\n" * 200 + b"\r\n"
                    for i in range(300 * scale))
    pk += tcp_session(clk, "10.9.0.4", SERVER, 40004, 80, reqs, b"", close=False)
    return pk


FLOODS = {
    "syn": flood_syn,
    "frag": flood_frag,
    "ooo": flood_ooo,
    "dnsloop": flood_dnsloop,
    "http": flood_http,
}


def write_flood(name, path, scale=1, seed=1):
    write_pcap(path, FLOODS[name](scale, random.Random(seed)))
    return path


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 2
    out = argv[1]
    scale = 1
    if "--scale" in argv:
        scale = int(argv[argv.index("--scale") + 1])
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 1
    names = [argv[argv.index("--only") + 1]] if "--only" in argv else list(FLOODS)
    os.makedirs(out, exist_ok=True)
    for name in names:
        p = write_flood(name, os.path.join(out, "flood-%s.pcap" % name), scale, seed)
        print("%s: %d bytes" % (p, os.path.getsize(p)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
