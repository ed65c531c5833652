#!/usr/bin/env python3
"""TLS events vs Wireshark, session by session.

Per TCP connection: SNI, JA3 (hash and string) of the first ClientHello,
JA3S of the first ServerHello, the negotiated version, and for the server's
leaf certificate (first certificate the server sends, DER bytes from
tshark's `tls.handshake.certificate`) the SHA-1 fingerprint, serial, subject,
issuer and validity dates, decoded here with python3-cryptography."""
import collections
import hashlib
import ipaddress

import swtest as t

CAPTURES = [
    "zeek-tls1.2.pcap",
    "sv-ja4-tls.pcap",
    "sv-tls13-draft28.pcap",
    "zeek-tls-expired-cert.pcap",
    "zeek-client-certificate.pcap",
    "zeek-cert-no-cn.pcap",
    "ndpi-selfsigned.pcap",
    "ndpi-ssl-cert-name-mismatch.pcap",
    "ndpi-ja3_lots_of_cipher_suites.pcap",
    "ndpi-tls_malicious_sha1.pcapng",
    "sv-tls-cert-issuer.pcap",
    "sv-tls-certs-alert.pcap",
    "zeek-tls13-ech.pcap",
    "ndpi-tor.pcap",
    "sv-bug-5713-01-TLSv1-MaliciousC2.pcap",
    "zeek-heartbleed.pcap",
]

FIELDS = ["frame.number", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "tcp.srcport", "tcp.dstport",
          "tls.handshake.type", "tls.handshake.extensions_server_name", "tls.handshake.ja3",
          "tls.handshake.ja3_full", "tls.handshake.ja3s", "tls.handshake.ja3s_full",
          "tls.handshake.version", "tls.handshake.extensions.supported_version",
          "tls.handshake.certificate", "x509af.serialNumber"]

VERSION = {0x0300: "SSLv3", 0x0301: "TLSv1", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2",
           0x0304: "TLS 1.3"}

# x509-parser's (so Suricata's) short names for RDN attribute OIDs
OID_NAME = {"2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O",
            "2.5.4.11": "OU", "2.5.4.9": "street", "2.5.4.17": "postalCode", "2.5.4.5": "serialNumber",
            "1.2.840.113549.1.9.1": "Email", "0.9.2342.19200300.100.1.25": "DC",
            "2.5.4.4": "SN", "2.5.4.42": "GN", "2.5.4.12": "title"}


def ip(s):
    return str(ipaddress.ip_address(s))


def dn_string(name):
    parts = []
    for rdn in name.rdns:
        for attr in rdn:
            k = OID_NAME.get(attr.oid.dotted_string, attr.oid.dotted_string)
            parts.append("%s=%s" % (k, attr.value))
    return ", ".join(parts)


def colon_hex(b, upper=False):
    s = ":".join("%02x" % x for x in b)
    return s.upper() if upper else s


def tshark_sessions(pcap):
    sess = collections.defaultdict(dict)
    for row in t.tshark_fields(pcap, FIELDS, display_filter="tls.handshake"):
        r = dict(zip(FIELDS, row))
        src = (ip(t.split_multi(r["ip.src"] or r["ipv6.src"])[-1]), int(t.split_multi(r["tcp.srcport"])[-1]))
        dst = (ip(t.split_multi(r["ip.dst"] or r["ipv6.dst"])[-1]), int(t.split_multi(r["tcp.dstport"])[-1]))
        key = frozenset([src, dst])
        s = sess[key]
        types = t.split_multi(r["tls.handshake.type"])
        if "1" in types and "ja3" not in s:
            s["client"] = src
            s["sni"] = (t.split_multi(r["tls.handshake.extensions_server_name"]) or [None])[0]
            s["ja3"] = (t.split_multi(r["tls.handshake.ja3"]) or [None])[0]
            s["ja3_full"] = (t.split_multi(r["tls.handshake.ja3_full"]) or [None])[0]
        if "2" in types and "ja3s" not in s:
            s["server"] = src
            s["ja3s"] = (t.split_multi(r["tls.handshake.ja3s"]) or [None])[0]
            s["ja3s_full"] = (t.split_multi(r["tls.handshake.ja3s_full"]) or [None])[0]
            sv = t.split_multi(r["tls.handshake.extensions.supported_version"])
            vers = t.split_multi(r["tls.handshake.version"])
            # the ServerHello's own version is the first handshake version in
            # a frame that may also carry other handshake messages
            v = int(sv[-1], 16) if sv else (int(vers[types.index("2")], 16) if vers else None)
            if isinstance(v, int) and v & 0xff00 == 0x7f00:
                s["version"] = "TLS 1.3 draft-%d" % (v & 0xff)  # Suricata's spelling
            else:
                s["version"] = VERSION.get(v, v)
        certs = t.split_multi(r["tls.handshake.certificate"])
        if "11" in types and certs and "cert" not in s and src == s.get("server"):
            s["cert"] = bytes.fromhex(certs[0].replace(":", ""))
            serials = t.split_multi(r["x509af.serialNumber"])
            s["serial_raw"] = serials[0] if serials else None
    return sess


def compare(name, soft):
    from cryptography import x509
    pcap = t.repo_pcap(name)
    sess = tshark_sessions(pcap)
    r = t.run_ok(pcap)
    evs = collections.defaultdict(list)
    for e in r.of_type("tls"):
        evs[frozenset([(ip(e["src_ip"]), e["src_port"]), (ip(e["dest_ip"]), e["dest_port"])])].append(e)
    n = 0
    for key, s in sess.items():
        if "ja3" not in s:
            continue  # no ClientHello seen: not a session start tshark can attribute
        tag = "%s %s" % (name, sorted(key, key=str))
        mine = evs.get(key, [])
        if len(mine) != 1:
            soft.fail("%s: %d tls events for one TLS session" % (tag, len(mine)))
            if not mine:
                continue
        n += 1
        tl = mine[0].get("tls", {})
        soft.eq(tag + " src is the client", (ip(mine[0]["src_ip"]), mine[0]["src_port"]), s["client"])
        soft.eq(tag + " sni", tl.get("sni"), s["sni"])
        soft.eq(tag + " ja3.hash", t.get_path(tl, "ja3.hash"), s["ja3"])
        soft.eq(tag + " ja3.string", t.get_path(tl, "ja3.string"), s["ja3_full"])
        if "ja3s" in s:
            soft.eq(tag + " ja3s.hash", t.get_path(tl, "ja3s.hash"), s["ja3s"])
            soft.eq(tag + " ja3s.string", t.get_path(tl, "ja3s.string"), s["ja3s_full"])
            soft.eq(tag + " version", tl.get("version"), s["version"])
        if "cert" in s:
            der = s["cert"]
            soft.eq(tag + " fingerprint", tl.get("fingerprint"), colon_hex(hashlib.sha1(der).digest()))
            if s.get("serial_raw"):
                raw = s["serial_raw"].replace(":", "")
                soft.eq(tag + " serial", tl.get("serial"), colon_hex(bytes.fromhex(raw), upper=True))
            try:
                c = x509.load_der_x509_certificate(der)
            except Exception as ex:  # malformed certs: fingerprint only
                print("  %s: cryptography cannot parse the leaf (%s); fingerprint only" % (tag, ex))
                continue
            soft.eq(tag + " subject", tl.get("subject"), dn_string(c.subject))
            soft.eq(tag + " issuerdn", tl.get("issuerdn"), dn_string(c.issuer))
            soft.eq(tag + " notbefore", tl.get("notbefore"), c.not_valid_before.strftime("%Y-%m-%dT%H:%M:%S"))
            soft.eq(tag + " notafter", tl.get("notafter"), c.not_valid_after.strftime("%Y-%m-%dT%H:%M:%S"))
        elif tl.get("fingerprint"):
            soft.fail("%s: spanwatch has a fingerprint, tshark saw no server certificate" % tag)
    return n


t.capture_tests("test_tls_", CAPTURES, compare, "sessions", "no TLS sessions compared in %s")


if __name__ == "__main__":
    t.main()
