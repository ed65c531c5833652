#!/usr/bin/env python3
"""HTTP events vs Wireshark, transaction by transaction.

Per TCP connection, tshark's HTTP requests (method, URI, Host, User-Agent,
version) and responses (status) in order must equal spanwatch's http events
of that flow ordered by tx_id.  Suricata's `hostname` is the Host header
without port, lower-cased, an IPv6 literal with its brackets; `url` is the request-line URI as sent."""
import collections
import ipaddress

import swtest as t

CAPTURES = [
    "zeek-http-get.pcap",
    "zeek-http-pipelined-requests.pcap",
    "zeek-http-post.pcap",
    "zeek-http-proxy.pcap",
    "ndpi-WebattackSQLinj.pcap",
    "ndpi-sql_injection.pcap",
    "ndpi-xss.pcap",
    "cs-http_dvwa_sqlinjection.pcapng",
    "sv-http-ipv6.pcap",
    "sv-http-all-headers.pcap",
    "sv-http-evader-000.pcap",
    "sv-bug-7657-01-php-cgi-injection.pcap",
    "ndpi-log4j-webapp-exploit.pcap",
    "cs-aurora.pcapng",
    "ndpi-dotenv.pcap",
]

FIELDS = ["frame.number", "tcp.stream", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "tcp.srcport",
          "tcp.dstport", "http.request.method", "http.request.uri", "http.host", "http.user_agent",
          "http.request.version", "http.response.code", "http.response.version"]


def ip(s):
    return str(ipaddress.ip_address(s))


def norm_host(h):
    h = h.strip().lower()
    if h.startswith("["):
        # libhtp keeps the brackets of an IPv6 literal (suricata-verify's
        # http-ipv6 test expects "[::1]")
        return h[:h.index("]") + 1] if "]" in h else h
    if h.count(":") == 1:
        h = h.split(":")[0]
    return h


def tshark_http(pcap):
    reqs = collections.defaultdict(list)
    resps = collections.defaultdict(list)
    for row in t.tshark_fields(pcap, FIELDS, display_filter="http.request or http.response"):
        r = dict(zip(FIELDS, row))
        src = ip(t.split_multi(r["ip.src"] or r["ipv6.src"])[-1])
        dst = ip(t.split_multi(r["ip.dst"] or r["ipv6.dst"])[-1])
        key = frozenset([(src, int(r["tcp.srcport"])), (dst, int(r["tcp.dstport"]))])
        methods = t.split_multi(r["http.request.method"])
        for i, meth in enumerate(methods):
            def nth(f):
                v = t.split_multi(r[f])
                return v[i] if i < len(v) else None
            host = nth("http.host")
            reqs[key].append({"frame": int(r["frame.number"]), "http_method": meth,
                              "url": nth("http.request.uri"),
                              "hostname": norm_host(host) if host is not None else None,
                              "http_user_agent": nth("http.user_agent"),
                              "protocol": nth("http.request.version")})
        for code in t.split_multi(r["http.response.code"]):
            resps[key].append(int(code))
    return reqs, resps


def compare(name, soft):
    pcap = t.repo_pcap(name)
    reqs, resps = tshark_http(pcap)
    r = t.run_ok(pcap)
    evs = collections.defaultdict(list)
    for e in r.of_type("http"):
        key = frozenset([(ip(e["src_ip"]), e["src_port"]), (ip(e["dest_ip"]), e["dest_port"])])
        evs[key].append(e)
    n = 0
    for key, rq in reqs.items():
        mine = sorted(evs.get(key, []), key=lambda e: e.get("tx_id", 0))
        tag = "%s %s" % (name, sorted(key))
        if len(mine) != len(rq):
            soft.fail("%s: %d http events, tshark sees %d requests (first URIs: spanwatch %s, "
                      "tshark %s)" % (tag, len(mine), len(rq),
                                      [t.get_path(e, "http.url") for e in mine[:3]],
                                      [x["url"] for x in rq[:3]]))
        for i, (ev, want) in enumerate(zip(mine, rq)):
            h = ev.get("http", {})
            n += 1
            ttag = "%s tx %s (frame %d)" % (tag, ev.get("tx_id"), want["frame"])
            soft.eq(ttag + " tx_id", ev.get("tx_id"), i)
            for f in ("http_method", "url", "hostname", "http_user_agent", "protocol"):
                soft.eq("%s %s" % (ttag, f), h.get(f), want[f])
            # the request's sender is the client: the event's src
            soft.true((ip(ev["src_ip"]), ev["src_port"]) != (None, None), ttag)
            codes = resps.get(key, [])
            if i < len(codes):
                soft.eq(ttag + " status", h.get("status"), codes[i])
            else:
                soft.eq(ttag + " status (no response)", h.get("status"), None)
    for key in set(evs) - set(reqs):
        soft.fail("%s: %d http events on %s where tshark sees no request"
                  % (name, len(evs[key]), sorted(key)))
    return n


t.capture_tests("test_http_", CAPTURES, compare, "transactions", "no HTTP transactions compared in %s")


if __name__ == "__main__":
    t.main()
