"""Packet and capture building blocks shared by the capture generators
(beacon_gen.py, make_attack_pcaps.py, floods.py) and the e2e tests that
write their own captures (they import it via sys.path). Ethernet, IPv4,
TCP and UDP with correct checksums, and classic little-endian pcap files
(microsecond timestamps). Python 3 stdlib only.

Every generator's output is committed or compared byte for byte, so the
defaults here only name values; each caller passes what its captures have
always carried (window, IP id, flags, snaplen)."""
import struct

LINKTYPE_ETHERNET = 1
ETH_IPV4 = 0x0800
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
IP_DF = 0x4000
IP_MF = 0x2000


def ip4(s):
    return bytes(int(x) for x in s.split("."))


def csum(data):
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(dst_mac, src_mac, payload, ethertype=ETH_IPV4):
    return dst_mac + src_mac + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, payload, ident=0, flags_off=0, ttl=64):
    """20-byte IPv4 header (no options) + payload. flags_off is the whole
    flags/fragment-offset field (IP_DF, IP_MF | offset // 8)."""
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, flags_off, ttl,
                      proto, 0, ip4(src), ip4(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def _pseudo(src, dst, proto, length):
    return ip4(src) + ip4(dst) + struct.pack("!BBH", 0, proto, length)


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", win=65535):
    """20-byte TCP header (no options) + payload; src/dst feed the checksum."""
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      5 << 4, flags, win, 0, 0)
    c = csum(_pseudo(src, dst, 6, len(hdr) + len(payload)) + hdr + payload)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:] + payload


def udp(src, dst, sport, dport, payload):
    hdr = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    # a computed 0 is sent as 0xFFFF: 0 means "no checksum" in UDP
    c = csum(_pseudo(src, dst, 17, len(hdr) + len(payload)) + hdr + payload) or 0xFFFF
    return hdr[:6] + struct.pack("!H", c) + payload


def pcap_header(snaplen=65535, linktype=LINKTYPE_ETHERNET):
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)


def pcap_record(sec, usec, frame):
    return struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame


def split_ts(ts):
    """Float seconds -> (sec, usec), rounded to the nearest microsecond."""
    sec = int(ts)
    us = int(round((ts - sec) * 1e6))
    if us >= 1000000:
        sec, us = sec + 1, us - 1000000
    return sec, us


def write_pcap(path, records, snaplen=65535):
    """records: iterable of (sec, usec, frame), written in the given order."""
    with open(path, "wb") as f:
        f.write(pcap_header(snaplen))
        for sec, usec, frame in records:
            f.write(pcap_record(sec, usec, frame))


def tcp_session(clk, pkt, cli, srv, sport, dport, request, response=b"", mss=1400,
                order=None, extra=None, isn_c=1000, isn_s=5000, close=True):
    """A complete TCP connection as a list of (clk(), frame): handshake,
    client data in mss-sized segments, server ACK, response segments, client
    ACK and, with close, the FIN exchange. pkt(src, dst, sport, dport, seq,
    ack, flags, payload) builds one frame; clk() gives each frame its time.
    order: optional function mapping the list of client data segments
    [(seq_off, bytes)] to the list actually sent (to reorder, duplicate or
    overlap); extra: more client segments (seq_off, bytes) sent after the
    data (e.g. conflicting retransmissions)."""
    pk = []
    pk.append((clk(), pkt(cli, srv, sport, dport, isn_c, 0, SYN, b"")))
    pk.append((clk(), pkt(srv, cli, dport, sport, isn_s, isn_c + 1, SYN | ACK, b"")))
    pk.append((clk(), pkt(cli, srv, sport, dport, isn_c + 1, isn_s + 1, ACK, b"")))
    segs = [(o, request[o:o + mss]) for o in range(0, len(request), mss)]
    if order:
        segs = order(segs)
    for off, data in segs + list(extra or []):
        pk.append((clk(), pkt(cli, srv, sport, dport, isn_c + 1 + off, isn_s + 1,
                              PSH | ACK, data)))
    cseq = isn_c + 1 + len(request)
    pk.append((clk(), pkt(srv, cli, dport, sport, isn_s + 1, cseq, ACK, b"")))
    for o in range(0, len(response), mss):
        pk.append((clk(), pkt(srv, cli, dport, sport, isn_s + 1 + o, cseq, PSH | ACK,
                              response[o:o + mss])))
    sseq = isn_s + 1 + len(response)
    pk.append((clk(), pkt(cli, srv, sport, dport, cseq, sseq, ACK, b"")))
    if close:
        pk.append((clk(), pkt(cli, srv, sport, dport, cseq, sseq, FIN | ACK, b"")))
        pk.append((clk(), pkt(srv, cli, dport, sport, sseq, cseq + 1, FIN | ACK, b"")))
        pk.append((clk(), pkt(cli, srv, sport, dport, cseq + 1, sseq + 1, ACK, b"")))
    return pk
