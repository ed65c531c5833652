#!/usr/bin/env python3
"""DNS events vs Wireshark, transaction by transaction.

For every DNS message tshark dissects (UDP and TCP, IPv4 and IPv6), the
spanwatch dns event with the same 5-tuple, dns.id and type (request or
response) must exist and carry tshark's values: query name and type, rcode,
flags, the answer section's names/types/TTLs and the rdata of A, AAAA,
CNAME, NS, PTR, MX and TXT answers.  Captures are copies under test-pcaps/
(see PROVENANCE.tsv)."""
import collections
import ipaddress

import swtest as t

CAPTURES = [
    "sv-dns-udp-eve-txt.pcap",
    "sv-dns-tcp-www-google-com.pcap",
    "sv-dns-v2-udp-nxdomain-soa.pcap",
    "sv-dns-udp-double-request-response.pcap",
    "sv-dns-bug-1158-iodine.pcap",
    "ndpi-dns_exfiltration.pcap",
    "ndpi-punycode-idn.pcap",
    "zeek-dns-txt-multiple.pcap",
    "zeek-dns-edns-ecs.pcap",
    "zeek-ipv6-fragmented-dns.pcap",
    "cs-dns_axfr.pcapng",
    "sv-dns-udp-eve-log-srv.pcap",
    "sv-dns-sshfp.pcap",
    "sv-dns-z-bit.pcap",
]

RRTYPE = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 10: "NULL", 12: "PTR", 13: "HINFO", 15: "MX",
          16: "TXT", 28: "AAAA", 33: "SRV", 35: "NAPTR", 41: "OPT", 43: "DS", 44: "SSHFP",
          46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 50: "NSEC3", 64: "SVCB", 65: "HTTPS",
          99: "SPF", 249: "TKEY", 250: "TSIG", 251: "IXFR", 252: "AXFR", 255: "ANY", 257: "CAA"}
RCODE = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED",
         6: "YXDOMAIN", 7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE"}
# rdata fields by type; tshark lists every RR of that type across all
# sections in order, and the answer section comes first
RDATA_FIELD = {"A": "dns.a", "AAAA": "dns.aaaa", "CNAME": "dns.cname", "NS": "dns.ns",
               "PTR": "dns.ptr.domain_name", "MX": "dns.mx.mail_exchange", "TXT": "dns.txt"}

FIELDS = ["frame.number", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "udp.srcport", "tcp.srcport",
          "udp.dstport", "tcp.dstport", "dns.id", "dns.flags.response", "dns.flags", "dns.qry.name",
          "dns.qry.type", "dns.flags.rcode", "dns.count.answers", "dns.resp.name", "dns.resp.type",
          "dns.resp.ttl"] + sorted(set(RDATA_FIELD.values()))


def rrtype_name(n):
    n = int(n)
    return RRTYPE.get(n, str(n))


def ip(s):
    return str(ipaddress.ip_address(s))


def multi(v):
    return t.split_multi(v)


def tshark_messages(pcap):
    """One dict per DNS message (a frame with several DNS-over-TCP messages
    yields several: tshark joins their values, so such frames are split by
    dns.id occurrence count)."""
    out = []
    for row in t.tshark_fields(pcap, FIELDS, display_filter="dns"):
        r = dict(zip(FIELDS, row))
        ids = multi(r["dns.id"])
        if len(ids) != 1:
            continue  # several messages in one frame: values cannot be attributed
        src = ip(t.split_multi(r["ip.src"] or r["ipv6.src"])[-1])
        dst = ip(t.split_multi(r["ip.dst"] or r["ipv6.dst"])[-1])
        sport = int(multi(r["udp.srcport"] or r["tcp.srcport"])[-1])
        dport = int(multi(r["udp.dstport"] or r["tcp.dstport"])[-1])
        out.append({
            "frame": int(r["frame.number"]), "tuple": (src, sport, dst, dport),
            "tcp": bool(r["tcp.srcport"]),
            "id": int(ids[0], 0), "response": r["dns.flags.response"] in ("1", "True"),
            "flags": int(r["dns.flags"], 16), "qname": multi(r["dns.qry.name"]),
            "qtype": [rrtype_name(x) for x in multi(r["dns.qry.type"])],
            "rcode": RCODE.get(int(r["dns.flags.rcode"] or 0), r["dns.flags.rcode"]),
            "ancount": int(r["dns.count.answers"] or 0),
            "rr_names": multi(r["dns.resp.name"]), "rr_types": [rrtype_name(x) for x in multi(r["dns.resp.type"])],
            "rr_ttls": [int(x) for x in multi(r["dns.resp.ttl"])],
            "rdata": {k: multi(r[f]) for k, f in RDATA_FIELD.items()},
        })
    return out


def tshark_name(n):
    return "" if n == "<Root>" else n


def compare_capture(name, soft):
    pcap = t.repo_pcap(name)
    msgs = tshark_messages(pcap)
    r = t.run_ok(pcap)
    # events are matched on the unordered 5-tuple; the direction is checked
    # on its own below, so a wrong direction shows once, not per field
    evs = collections.defaultdict(list)
    for e in r.of_type("dns"):
        d = e.get("dns", {})
        a, b = (ip(e["src_ip"]), e.get("src_port")), (ip(e["dest_ip"]), e.get("dest_port"))
        evs[(frozenset([a, b]), d.get("id"), d.get("type"))].append(e)
    # DNS over TCP is only parsed on connections whose handshake was seen
    # (Suricata's default stream.midstream: false); tshark parses lone
    # segments too, so those messages are not comparable
    syn_seen = set()
    for e in r.of_type("flow"):
        if e.get("proto") == "TCP" and (e.get("tcp") or {}).get("syn"):
            syn_seen.add(frozenset([(ip(e["src_ip"]), e["src_port"]),
                                    (ip(e["dest_ip"]), e["dest_port"])]))
    msgs = [m for m in msgs if not m["tcp"] or
            frozenset([m["tuple"][:2], m["tuple"][2:]]) in syn_seen]
    used = collections.Counter()
    wrong_dir = []
    for m in msgs:
        typ = "response" if m["response"] else "request"
        tu = m["tuple"]
        k = (frozenset([tu[:2], tu[2:]]), m["id"], typ)
        cands = evs.get(k, [])
        tag = "%s frame %d %s id %d" % (name, m["frame"], typ, m["id"])
        if used[k] >= len(cands):
            soft.fail("%s: no spanwatch dns %s event for %s" % (tag, typ, m["tuple"]))
            continue
        e = cands[used[k]]
        d = e["dns"]
        used[k] += 1
        # Suricata 8 (dns v3) logs a response from server to client: the
        # event's src is the sender of the message, as in tshark
        got_dir = (ip(e["src_ip"]), e.get("src_port"), ip(e["dest_ip"]), e.get("dest_port"))
        if got_dir != tu:
            wrong_dir.append("%s: event src/dest %s, message sent %s" % (tag, got_dir, tu))
        q = d.get("queries") or []
        soft.eq(tag + " queries rrname", [x.get("rrname") for x in q], [tshark_name(x) for x in m["qname"]])
        soft.eq(tag + " queries rrtype", [x.get("rrtype") for x in q], m["qtype"])
        soft.eq(tag + " flags", d.get("flags"), "%x" % m["flags"])
        soft.eq(tag + " rcode", d.get("rcode"), m["rcode"])
        for bit, key in ((0x8000, "qr"), (0x0400, "aa"), (0x0200, "tc"), (0x0100, "rd"),
                         (0x0080, "ra"), (0x0040, "z")):
            soft.eq(tag + " " + key, d.get(key), True if m["flags"] & bit else None)
        if not m["response"]:
            continue
        ans = d.get("answers") or []
        n = m["ancount"]
        # Suricata 8 writes one answers[] entry per TXT character-string,
        # tshark one RR with several strings: compare with consecutive
        # identical TXT entries folded on both sides
        def fold(rrs):
            out = []
            for rr in rrs:
                if out and rr[1] == "TXT" and out[-1] == rr:
                    continue
                out.append(rr)
            return out
        mine_rr = fold([(a.get("rrname"), a.get("rrtype"), a.get("ttl")) for a in ans])
        names = m["rr_names"]
        # tshark names SRV owners in dns.srv.* instead of dns.resp.name;
        # owner names are compared only when tshark gave one per RR
        have_names = len(names) == len(m["rr_types"])
        want_rr = fold([(tshark_name(names[i]) if have_names else None, m["rr_types"][i],
                         m["rr_ttls"][i] if i < len(m["rr_ttls"]) else None)
                        for i in range(min(n, len(m["rr_types"])))])
        if not have_names:
            mine_rr = [(None, b, c) for _, b, c in mine_rr]
            want_rr = fold(want_rr)
            mine_rr = fold(mine_rr)
        soft.eq(tag + " answers (rrname, rrtype, ttl)", mine_rr, want_rr)
        for typ_name, vals in m["rdata"].items():
            mine = [a.get("rdata") for a in ans if a.get("rrtype") == typ_name]
            if typ_name == "TXT":
                soft.eq(tag + " TXT strings", mine, vals[:len(mine)])
                continue
            want = vals[:sum(1 for x in m["rr_types"][:n] if x == typ_name)]
            if typ_name == "AAAA":
                mine = [ip(x) if isinstance(x, str) else x for x in mine]
                want = [ip(x) for x in want]
            soft.eq(tag + " %s rdata" % typ_name, mine, want)
    if wrong_dir:
        soft.fail("%d of %d events name the wrong direction, e.g. %s"
                  % (len(wrong_dir), len(msgs), wrong_dir[0]))
    # spanwatch must not invent DNS messages tshark does not see (UDP only:
    # tshark cannot attribute several DNS messages in one TCP segment)
    for k, lst in evs.items():
        if len(lst) > used[k] and lst[0].get("proto") == "UDP":
            soft.fail("%s: %d spanwatch dns %s events id %s on %s that tshark does not see"
                      % (name, len(lst) - used[k], k[2], k[1], sorted(k[0])))
    return len(msgs)


t.capture_tests("test_dns_", CAPTURES, compare_capture, "DNS messages", "tshark found no DNS messages in %s")


if __name__ == "__main__":
    t.main()
