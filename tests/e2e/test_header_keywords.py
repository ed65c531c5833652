#!/usr/bin/env python3
"""Header keywords (flags, itype, icode, ip_proto) and tls.version on real captures, with
tshark's dissection as the oracle: each rule alerts exactly on the packets
tshark's matching display filter selects, and each alert names the packet's
addresses and ports."""
import os
import shutil
import tempfile

import swtest as t

CC = t.shared_pcap("c2/slips-test-cc-capture-1.pcap")
ICMP = t.shared_pcap("c2/ndpi-icmp-tunnel.pcap")

RULES = """\
alert tcp any any -> any any (msg:"syn"; flags:S,12; sid:9800001; rev:1;)
alert tcp any any -> any any (msg:"syn-ack"; flags:SA; sid:9800002; rev:1;)
alert tcp any any -> any any (msg:"fin plus"; flags:F+; sid:9800003; rev:1;)
alert icmp any any -> any any (msg:"echo"; itype:8; icode:0; sid:9800010; rev:1;)
alert icmp any any -> any any (msg:"echo reply"; itype:0; sid:9800011; rev:1;)
alert ip any any -> any any (msg:"icmp by number"; ip_proto:1; sid:9800020; rev:1;)
"""

# sid -> (capture, tshark filter for the same packets)
ORACLE = {
    9800001: (CC, "tcp.flags & 0x3f == 0x02"),
    9800002: (CC, "tcp.flags & 0xff == 0x12"),
    9800003: (CC, "tcp.flags.fin == 1"),
    9800010: (ICMP, "icmp.type == 8 && icmp.code == 0"),
    9800011: (ICMP, "icmp.type == 0"),
    9800020: (ICMP, "ip.proto == 1"),
}


def run(pcap, rules):
    return t.run_ok(pcap, rules=rules)


@t.test
def test_header_keywords_match_tshark():
    d = tempfile.mkdtemp(prefix="sw-e2e-hdr-")
    try:
        rules = os.path.join(d, "hdr.rules")
        with open(rules, "w") as f:
            f.write(RULES)
        runs = {pcap: run(pcap, rules) for pcap in (CC, ICMP)}
    finally:
        shutil.rmtree(d, ignore_errors=True)
    for sid, (pcap, flt) in sorted(ORACLE.items()):
        want = t.tshark_fields(pcap, ["ip.src", "ip.dst", "tcp.srcport", "tcp.dstport"], flt)
        assert want, "tshark found no packets for %s" % flt
        got = [a for a in runs[pcap].of_type("alert") if a["alert"]["signature_id"] == sid]
        assert len(got) == len(want), "sid %d: %d alerts, tshark %d packets (%s)" % (
            sid, len(got), len(want), flt)
        # same packets in the same order: addresses (and ports for TCP)
        for a, w in zip(got, want):
            assert (a["src_ip"], a["dest_ip"]) == (w[0], w[1]), (sid, a, w)
            if w[2]:
                assert (a["src_port"], a["dest_port"]) == (int(w[2]), int(w[3])), (sid, a, w)
            assert a["alert"]["rev"] == 1 and a["alert"]["action"] == "allowed", a


TLS_RULES = """\
alert tls any any -> any any (msg:"server tls 1.0"; flow:to_client; tls.version:1.0; sid:9800201; rev:1;)
alert tls any any -> any any (msg:"server tls 1.2"; flow:to_client; tls.version:1.2; sid:9800202; rev:1;)
alert tls any any -> any any (msg:"server tls 1.3"; flow:to_client; tls.version:1.3; sid:9800203; rev:1;)
alert tls any any -> any any (msg:"client hello 1.2"; flow:to_server; tls.version:1.2; sid:9800212; rev:1;)
"""


@t.test
def test_tls_version_once_per_handshake_side():
    """tls.version alone alerts once per handshake side, on the version
    tshark reads from the ServerHello (supported_versions first) or the
    ClientHello's legacy version."""
    d = tempfile.mkdtemp(prefix="sw-e2e-tlsv-")
    try:
        rules = os.path.join(d, "tls.rules")
        with open(rules, "w") as f:
            f.write(TLS_RULES)
        for name in ("tls/ndpi-tor.pcap", "tls/zeek-tls13-ech.pcap", "tls/sv-tls-cert-issuer.pcap"):
            pcap = t.shared_pcap(name)
            r = run(pcap, rules)
            want = {9800201: 0, 9800202: 0, 9800203: 0, 9800212: 0}
            for ver, sup in t.tshark_fields(pcap, ["tls.handshake.version",
                                                    "tls.handshake.extensions.supported_version"],
                                             "tls.handshake.type == 2"):
                v = int((t.split_multi(sup) or [ver])[0], 16)
                sid = {0x0301: 9800201, 0x0303: 9800202, 0x0304: 9800203}.get(v)
                if sid:
                    want[sid] += 1
            for (ver,) in t.tshark_fields(pcap, ["tls.handshake.version"], "tls.handshake.type == 1"):
                if int(ver, 16) == 0x0303:
                    want[9800212] += 1
            got = {sid: 0 for sid in want}
            for a in r.of_type("alert"):
                if a["alert"]["signature_id"] in got:
                    got[a["alert"]["signature_id"]] += 1
                    assert a["app_proto"] == "tls", a
            assert sum(want.values()) > 0, name
            assert got == want, (name, got, want)
    finally:
        shutil.rmtree(d, ignore_errors=True)


CERT_RULES = """\
alert tls any any -> any any (msg:"AsyncRAT default certificate"; flow:established,to_client; tls.certs; content:"AsyncRAT Server"; sid:9800401; rev:1;)
alert tls any any -> any any (msg:"never in a certificate"; flow:established,to_client; tls.certs; content:"not in any certificate"; sid:9800402; rev:1;)
"""


@t.test
def test_tls_certs_matches_the_servers_certificates():
    """tls.certs inspects the DER of each certificate the server sent: the
    AsyncRAT capture's one TLS session alerts once (tshark: one Certificate
    message whose subject and issuer are "AsyncRAT Server")."""
    pcap = t.shared_pcap("c2/corelight-asyncrat-cd010953.pcap")
    d = tempfile.mkdtemp(prefix="sw-e2e-certs-")
    try:
        rules = os.path.join(d, "certs.rules")
        with open(rules, "w") as f:
            f.write(CERT_RULES)
        r = run(pcap, rules)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    want = [row for row in t.tshark_fields(pcap, ["tcp.stream", "x509sat.uTF8String"],
                                            "tls.handshake.type == 11")
            if "AsyncRAT Server" in row[1]]
    got = [a for a in r.of_type("alert") if a["alert"]["signature_id"] == 9800401]
    assert len(want) == 1 and len(got) == len(want), (len(got), want)
    a = got[0]
    assert a["app_proto"] == "tls" and a["direction"] == "to_client", a
    tls = [e for e in r.of_type("tls") if e.get("flow_id") == a.get("flow_id")]
    assert tls and tls[0]["tls"]["subject"] == "CN=AsyncRAT Server", tls
    assert not [x for x in r.of_type("alert") if x["alert"]["signature_id"] == 9800402]


FILE_RULES = """\
alert http any any -> any any (msg:"exe by name"; flow:to_client; file.name; content:".exe"; endswith; nocase; sid:9800501; rev:1;)
alert http any any -> any any (msg:"png by name"; flow:to_client; file.name; content:".png"; endswith; sid:9800502; rev:1;)
"""


@t.test
def test_file_name_is_the_fileinfo_name():
    """file.name sees the name the fileinfo event shows (Content-Disposition,
    else the URI path): one alert per file whose name matches."""
    d = tempfile.mkdtemp(prefix="sw-e2e-fn-")
    try:
        rules = os.path.join(d, "fn.rules")
        with open(rules, "w") as f:
            f.write(FILE_RULES)
        for name in ("ndpi-exe_download.pcap", "ndpi-exe_download_as_png.pcap"):
            r = run(t.repo_pcap(name), rules)
            names = [e["fileinfo"]["filename"] for e in r.of_type("fileinfo")]
            assert names, name
            for sid, ext in ((9800501, ".exe"), (9800502, ".png")):
                # the .exe rule is nocase, the .png rule is not
                want = sum(1 for n in names if (n.lower() if ext == ".exe" else n).endswith(ext))
                got = [a for a in r.of_type("alert") if a["alert"]["signature_id"] == sid]
                assert len(got) == want, (name, sid, len(got), names)
                for a in got:
                    assert a["fileinfo"]["filename"].lower().endswith(ext), a
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    t.main()
