#!/usr/bin/env python3
"""Generates a labelled beacon capture: every pattern of issue 5, positives
and negatives, on distinct hosts per scenario, plus truth.json.

    beacon_gen.py --seed N --out DIR     -> DIR/beacons.pcap, DIR/truth.json

Only the check-in packets are written (real 3-way handshakes, requests,
responses, FIN), so hours of packet time stay a few MB. Python 3 stdlib only.
Score a sensor's eve.json against the truth with tools/beacon_eval.py.
"""
import argparse
import json
import math
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcapgen as pg  # noqa: E402

T0 = 1_700_000_000.0
RESOLVER = "10.0.0.53"


class Pcap:
    def __init__(self):
        self.pkts = []  # (ts, bytes)

    def ip(self, ts, src, dst, proto, l4):
        dmac = b"\xff" * 6 if dst.endswith(".255") else (b"\x01\x00\x5e\x7f\xff\xfa" if int(dst.split(".")[0]) >= 224
                                                         else b"\x00\x11\x22\x33\x44\x55")
        ip = pg.ipv4(src, dst, proto, l4, ident=random.getrandbits(16), flags_off=pg.IP_DF)
        self.pkts.append((ts, pg.eth(dmac, b"\x00\x66\x77\x88\x99\xaa", ip)))

    def udp(self, ts, src, sport, dst, dport, payload):
        self.ip(ts, src, dst, 17, pg.udp(src, dst, sport, dport, payload))

    def tcp(self, ts, src, sport, dst, dport, seq, ack, flags, payload=b""):
        self.ip(ts, src, dst, 6, pg.tcp(src, dst, sport, dport, seq, ack, flags, payload, win=64240))

    def write(self, path):
        self.pkts.sort(key=lambda p: p[0])
        pg.write_pcap(path, (pg.split_ts(ts) + (b,) for ts, b in self.pkts))


F, S, R, P, A = 1, 2, 4, 8, 16


class Conn:
    """A TCP connection: handshake at open, data exchanges, FIN at close."""

    def __init__(self, cap, ts, src, dst, dport, sport=None):
        self.cap, self.src, self.dst, self.dport = cap, src, dst, dport
        self.sport = sport or random.randint(32768, 60999)
        self.cs, self.ss = random.getrandbits(32), random.getrandbits(32)
        rtt = 0.02
        cap.tcp(ts, src, self.sport, dst, dport, self.cs, 0, S)
        cap.tcp(ts + rtt / 2, dst, dport, src, self.sport, self.ss, self.cs + 1, S | A)
        cap.tcp(ts + rtt, src, self.sport, dst, dport, self.cs + 1, self.ss + 1, A)
        self.cs += 1
        self.ss += 1
        self.t = ts + rtt

    def exchange(self, ts, req, resp):
        ts = max(ts, self.t + 0.001)
        c = self.cap
        c.tcp(ts, self.src, self.sport, self.dst, self.dport, self.cs, self.ss, P | A, req)
        self.cs += len(req)
        t = ts + 0.01
        for i in range(0, len(resp), 1400):
            c.tcp(t, self.dst, self.dport, self.src, self.sport, self.ss, self.cs, P | A, resp[i:i + 1400])
            self.ss += len(resp[i:i + 1400])
            t += 0.001
        c.tcp(t + 0.005, self.src, self.sport, self.dst, self.dport, self.cs, self.ss, A)
        self.t = t + 0.005

    def close(self, ts=None):
        ts = max(ts or 0, self.t + 0.01)
        c = self.cap
        c.tcp(ts, self.src, self.sport, self.dst, self.dport, self.cs, self.ss, F | A)
        c.tcp(ts + 0.01, self.dst, self.dport, self.src, self.sport, self.ss, self.cs + 1, F | A)
        c.tcp(ts + 0.02, self.src, self.sport, self.dst, self.dport, self.cs + 1, self.ss + 1, A)


def client_hello(sni):
    name = sni.encode()
    sni_ext = struct.pack("!HBH", len(name) + 3, 0, len(name)) + name
    exts = struct.pack("!HH", 0, len(sni_ext)) + sni_ext
    exts += struct.pack("!HHH", 10, 4, 2) + b"\x00\x17"  # supported_groups: secp256r1
    exts += struct.pack("!HHB", 11, 2, 1) + b"\x00"  # ec_point_formats
    body = b"\x03\x03" + random.randbytes(32) + b"\x00" + struct.pack("!H", 4) + b"\xc0\x2f\x00\x9c" + b"\x01\x00"
    body += struct.pack("!H", len(exts)) + exts
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def server_hello(extra=0):
    body = b"\x03\x03" + random.randbytes(32) + b"\x00" + b"\xc0\x2f" + b"\x00" + b"\x00\x00"
    hs = b"\x02" + struct.pack("!I", len(body))[1:] + body
    rec = b"\x16\x03\x03" + struct.pack("!H", len(hs)) + hs
    rec += b"\x14\x03\x03\x00\x01\x01"
    if extra:
        rec += b"\x17\x03\x03" + struct.pack("!H", extra) + random.randbytes(extra)
    return rec


def tls_checkin(cap, ts, src, dst, sni, resp_extra=64):
    c = Conn(cap, ts, src, dst, 443)
    c.exchange(ts + 0.03, client_hello(sni), server_hello(resp_extra))
    app = b"\x17\x03\x03" + struct.pack("!H", 200) + random.randbytes(200)
    c.exchange(c.t + 0.01, app, b"\x17\x03\x03" + struct.pack("!H", 100) + random.randbytes(100))
    c.close()


def http_req(host, path="/", method="GET", body=b""):
    h = "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\n" % (method, path, host)
    if body:
        h += "Content-Length: %d\r\n" % len(body)
    return (h + "\r\n").encode() + body


def http_resp(n):
    return ("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % n).encode() \
        + random.randbytes(n)


def http_checkin(cap, ts, src, dst, host, resp=64, method="GET", body=b""):
    c = Conn(cap, ts, src, dst, 80)
    c.exchange(ts + 0.03, http_req(host, "/api/v1/%x" % random.getrandbits(24), method, body), http_resp(resp))
    c.close()


def dns_name(n):
    return b"".join(bytes([len(l)]) + l.encode() for l in n.rstrip(".").split(".")) + b"\0"


def dns_query(cap, ts, src, qname, qtype=1, answer=None):
    qid = random.getrandbits(16)
    sport = random.randint(1024, 65000)
    q = dns_name(qname) + struct.pack("!HH", qtype, 1)
    cap.udp(ts, src, sport, RESOLVER, 53, struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q)
    if qtype == 16:
        txt = random.randbytes(8).hex().encode()
        rr = b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 0, len(txt) + 1) + bytes([len(txt)]) + txt
    else:
        rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + pg.ip4(answer or "93.184.216.34")
    cap.udp(ts + 0.015, RESOLVER, 53, src, sport, struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + q + rr)


class Gen:
    def __init__(self, seed):
        random.seed(seed)
        self.cap = Pcap()
        self.pos, self.neg = [], []
        self.nscen = 0

    def hosts(self, n):
        self.nscen += 1
        return ["10.1.%d.%d" % (self.nscen, 10 + i) for i in range(n)]

    def server(self):
        return "198.51.%d.%d" % (random.randint(0, 255), random.randint(1, 254))

    def times(self, n, nextf, start=None):
        t = T0 + (start if start is not None else random.uniform(0, 600))
        out = []
        for i in range(n):
            out.append(t)
            t += nextf(i)
        return out

    def positive(self, scen, kind, src, period, **key):
        d = {"scenario": scen, "kind": kind, "src": src, "period": period}
        d.update(key)
        self.pos.append(d)

    # ---- positives -----------------------------------------------------
    def cs(self, scen, jitter, n=40):
        (h,) = self.hosts(1)
        dst, name = self.server(), "cdn-%x.cs-c2.net" % random.getrandbits(20)
        for t in self.times(n, lambda i: 60 * (1 - jitter * random.random())):
            tls_checkin(self.cap, t, h, dst, name)
        self.positive(scen, "flow", h, 60 * (1 - jitter / 2), server_name=name)

    def sliver(self):
        (h,) = self.hosts(1)
        dst, name = self.server(), "sliver-%x.example.io" % random.getrandbits(16)
        for t in self.times(40, lambda i: 30 + 60 * random.random()):
            tls_checkin(self.cap, t, h, dst, name)
        self.positive("sliver_60pm30", "flow", h, 60.0, server_name=name)

    def loader(self):
        (h,) = self.hosts(1)
        dst, name = self.server(), "upd%x.loader-host.biz" % random.getrandbits(16)
        for t in self.times(30, lambda i: 300 * (1 + 0.1 * (2 * random.random() - 1))):
            http_checkin(self.cap, t, h, dst, name, method="POST", body=random.randbytes(120))
        self.positive("loader_5min", "flow", h, 300.0, server_name=name)

    def low_and_slow(self):
        (h,) = self.hosts(1)
        dst = self.server()
        per = random.choice([900, 1800, 3600])
        for t in self.times(24, lambda i: per * (1 + 0.1 * (2 * random.random() - 1))):
            c = Conn(self.cap, t, h, dst, 8443)
            c.exchange(t + 0.03, random.randbytes(48), random.randbytes(32))
            c.close()
        self.positive("low_and_slow_%dmin" % (per // 60), "flow", h, float(per), dst=dst, dport=8443)

    def missed(self):
        (h,) = self.hosts(1)
        dst, name = self.server(), "m%x.updates-check.com" % random.getrandbits(16)

        def nxt(i):
            v = 60 * (1 + 0.05 * (2 * random.random() - 1))
            if i > 3 and random.random() < 0.2:  # the laptop slept through one
                v += 60 * (1 + 0.05 * (2 * random.random() - 1))
            return v
        for t in self.times(40, nxt):
            tls_checkin(self.cap, t, h, dst, name)
        self.positive("missed_checkins", "flow", h, 60.0, server_name=name)

    def burst(self):
        (h,) = self.hosts(1)
        dst, name = self.server(), "ops-%x.teamsrv.net" % random.getrandbits(16)
        state = {"left": 0}

        def nxt(i):
            if i == 10:
                state["left"] = 40  # the operator sets sleep 0 for a while
            if state["left"] > 0:
                state["left"] -= 1
                return 1 + 2 * random.random()
            return 60 * (1 - 0.2 * random.random())
        for t in self.times(75, nxt):
            tls_checkin(self.cap, t, h, dst, name)
        self.positive("interactive_burst", "flow", h, 54.0, server_name=name)

    def tasking(self):
        (h,) = self.hosts(1)
        dst, name = self.server(), "api.%x-task.org" % random.getrandbits(16)
        for t in self.times(35, lambda i: 120 * (1 - 0.3 * random.random())):
            big = random.random() < 0.2
            http_checkin(self.cap, t, h, dst, name, resp=20000 if big else 48, method="POST",
                         body=random.randbytes(64))
        self.positive("tasking_responses", "flow", h, 120 * 0.85, server_name=name)

    def keepalive(self):
        (h,) = self.hosts(1)
        dst, name = self.server(), "poll-%x.c2-keepalive.net" % random.getrandbits(16)
        ts = self.times(40, lambda i: 30 * (1 + 0.1 * (2 * random.random() - 1)))
        c = Conn(self.cap, ts[0] - 0.05, h, dst, 80)
        for t in ts:
            c.exchange(t, http_req(name, "/beacon"), http_resp(40))
        c.close(ts[-1] + 5)
        self.positive("keepalive_requests", "flow", h, 30.0, server_name=name)

    def raw_tcp(self):
        (h,) = self.hosts(1)
        dst = self.server()
        for t in self.times(40, lambda i: 45 * (1 + 0.1 * (2 * random.random() - 1))):
            c = Conn(self.cap, t, h, dst, 4444)
            c.exchange(t + 0.03, random.randbytes(24), random.randbytes(24))
            c.close()
        self.positive("raw_tcp_45s", "flow", h, 45.0, dst=dst, dport=4444)

    def dns_same(self):
        (h,) = self.hosts(1)
        name = "ns%x.dnsbeacon-%x.xyz" % (random.getrandbits(8), random.getrandbits(16))
        for t in self.times(40, lambda i: 60 * (1 + 0.1 * (2 * random.random() - 1))):
            dns_query(self.cap, t, h, name)
        self.positive("dns_same_name", "dns", h, 60.0, rrname=name)

    def dns_tunnel(self):
        (h,) = self.hosts(1)
        dom = "t%x-tunnel.com" % random.getrandbits(16)
        for t in self.times(60, lambda i: 10 * (1 + 0.3 * (2 * random.random() - 1))):
            dns_query(self.cap, t, h, "%s.%s" % (random.randbytes(20).hex(), dom), qtype=16)
        self.positive("dns_random_labels", "dns", h, 10.0, rrname=dom)

    def rotating(self):
        (h,) = self.hosts(1)
        ips = [self.server() for _ in range(6)]
        name = "front-%x.azureedge-cdn.net" % random.getrandbits(16)
        for t in self.times(35, lambda i: 120 * (1 - 0.3 * random.random())):
            tls_checkin(self.cap, t, h, random.choice(ips), name)
        self.positive("rotating_ips_one_sni", "flow", h, 120 * 0.85, server_name=name)

    def shared_c2(self):
        hs = self.hosts(3)
        dst, name = self.server(), "shared-%x.c2panel.top" % random.getrandbits(16)
        for h in hs:
            for t in self.times(35, lambda i: 90 * (1 - 0.2 * random.random())):
                tls_checkin(self.cap, t, h, dst, name)
            self.positive("several_hosts_one_c2", "flow", h, 90 * 0.9, server_name=name)

    # ---- negatives -----------------------------------------------------
    def negative(self, scen, hosts):
        self.neg.append({"scenario": scen, "hosts": hosts})

    def ntp(self):
        hs = self.hosts(2)
        srv = self.server()
        for h in hs:
            for t in self.times(60, lambda i: 64.0 + random.uniform(-0.01, 0.01)):
                self.cap.udp(t, h, 123, srv, 123, b"\x23" + b"\0" * 47)
                self.cap.udp(t + 0.02, srv, 123, h, 123, b"\x24" + random.randbytes(47))
        self.negative("ntp_polling", hs)

    def resolver_flows(self):
        hs = self.hosts(2)
        names = ["www.wikipedia.org", "github.com", "www.debian.org", "news.ycombinator.com", "www.bbc.co.uk",
                 "docs.python.org", "www.openstreetmap.org", "lwn.net"]
        for h in hs:
            for t in self.times(80, lambda i: 30 + 10 * random.random()):
                dns_query(self.cap, t, h, random.choice(names))
        self.negative("resolver_flows", hs)

    def chatter(self):
        hs = self.hosts(3)
        for h in hs:
            for t in self.times(60, lambda i: 30.0):
                self.cap.udp(t, h, 1900, "239.255.255.250", 1900, b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\r\n")
                self.cap.udp(t + 1, h, 17500, "255.255.255.255", 17500, b'{"host_int": 1, "version": [2, 0]}')
                self.cap.udp(t + 2, h, 138, "10.1.%d.255" % self.nscen, 138, random.randbytes(60))
                self.cap.udp(t + 3, h, 5353, "224.0.0.251", 5353,
                             struct.pack("!HHHHHH", 0, 0, 1, 0, 0, 0) + dns_name("_services._dns-sd._udp.local") +
                             struct.pack("!HH", 12, 1))
        self.negative("multicast_broadcast", hs)

    def browsing(self):
        hs = self.hosts(3)
        sites = ["www.%s.com" % w for w in ("news", "shop", "video", "social", "mail", "search", "wiki", "forum",
                                              "maps", "weather", "sports", "travel")]
        ips = {s: self.server() for s in sites}
        for h in hs:
            for s in sites:
                t = T0 + random.uniform(0, 3600)
                for i in range(random.randint(20, 45)):
                    if random.random() < 0.5:
                        dns_query(self.cap, t - 0.05, h, s, answer=ips[s])
                    tls_checkin(self.cap, t, h, ips[s], s, resp_extra=random.randint(200, 3000))
                    t += math.exp(math.log(60) + 1.5 * random.gauss(0, 1)) + 0.5
        self.negative("human_browsing", hs)

    def ttl_relookups(self):
        hs = self.hosts(12)
        names = ["www.google.com", "outlook.office365.com", "www.facebook.com"]
        for h in hs:
            for n in names:
                for t in self.times(30, lambda i: 300 + random.expovariate(1 / 60.0)):
                    dns_query(self.cap, t, h, n)
        self.negative("ttl_relookups_popular", hs)

    def long_session(self):
        hs = self.hosts(2)
        for h in hs:
            dst = self.server()
            ts = self.times(80, lambda i: math.exp(math.log(20) + 1.3 * random.gauss(0, 1)) + 0.3)
            c = Conn(self.cap, ts[0] - 0.05, h, dst, 80)
            for t in ts:
                c.exchange(t, http_req("mail.example.org", "/owa/?ae=%d" % random.getrandbits(16)),
                           http_resp(random.randint(200, 4000)))
            c.close(ts[-1] + 5)
        self.negative("long_keepalive_session", hs)

    def dead_server(self):
        hs = self.hosts(2)
        for h in hs:
            dst = self.server()
            t = T0 + random.uniform(0, 600)
            for rnd in range(3):
                d = 1.0
                for i in range(10):
                    sport = random.randint(32768, 60999)
                    seq = random.getrandbits(32)
                    self.cap.tcp(t, h, sport, dst, 8443, seq, 0, S)
                    self.cap.tcp(t + 0.01, dst, 8443, h, sport, 0, seq + 1, R | A)
                    t += d * (1 + 0.05 * random.random())
                    d *= 2
                t += 3600
        self.negative("tcp_retry_backoff_dead_server", hs)

    def telemetry(self):
        hs = self.hosts(20)
        dst, name = self.server(), "telemetry.vendor-stats.com"
        for h in hs:
            for t in self.times(30, lambda i: 300 * (1 + 0.02 * random.gauss(0, 1)), start=random.uniform(0, 300)):
                tls_checkin(self.cap, t, h, dst, name)
        self.negative("telemetry_many_hosts", hs)

    def run(self):
        self.cs("cs_60s_jitter0", 0.0)
        self.cs("cs_60s_jitter20", 0.2)
        self.cs("cs_60s_jitter50", 0.5)
        self.sliver()
        self.loader()
        self.low_and_slow()
        self.missed()
        self.burst()
        self.tasking()
        self.keepalive()
        self.raw_tcp()
        self.dns_same()
        self.dns_tunnel()
        self.rotating()
        self.shared_c2()
        self.ntp()
        self.resolver_flows()
        self.chatter()
        self.browsing()
        self.ttl_relookups()
        self.long_session()
        self.dead_server()
        self.telemetry()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    g = Gen(a.seed)
    g.run()
    g.cap.write(os.path.join(a.out, "beacons.pcap"))
    with open(os.path.join(a.out, "truth.json"), "w") as f:
        json.dump({"seed": a.seed, "resolver": RESOLVER, "positives": g.pos, "negatives": g.neg}, f, indent=1)


if __name__ == "__main__":
    main()
