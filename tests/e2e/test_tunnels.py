#!/usr/bin/env python3
"""Traffic inside PPPoE sessions and Teredo tunnels reaches the flow table and
the application layer: the EVE events name the inner hosts, and the decoder
counters in stats agree with tshark's reading of the same captures."""
import os
import shutil
import tempfile

import swtest as t

PPPOE = t.repo_pcap("zeek-pppoe.pcap")
TEREDO = t.repo_pcap("zeek-tunnels-Teredo.pcap")


def decoder_stats(run):
    stats = run.of_type("stats")
    assert stats, "no stats event: " + run.describe()
    return stats[-1]["stats"]["decoder"]


@t.test
def test_pppoe_inner_ipv6_flows():
    r = t.run_ok(PPPOE)
    d = decoder_stats(r)
    assert (d["pkts"], d["pppoe"], d["ipv6"], d["invalid"]) == (65, 65, 25, 0), d
    flows = {(e["src_ip"], e["dest_ip"], e["proto"]): e for e in r.of_type("flow")}
    # frames 54-63: ICMPv6 echo between fc00:0:2:100::1:1 and fc00::1
    key = ("fc00:0000:0002:0100:0000:0000:0001:0001",
           "fc00:0000:0000:0000:0000:0000:0000:0001", "IPv6-ICMP")
    assert key in flows, sorted(flows)
    f = flows[key]["flow"]
    assert (f["pkts_toserver"], f["pkts_toclient"]) == (5, 5), f
    # DHCPv6 solicit/reply inside the session
    dh = [e for e in r.of_type("flow") if e.get("app_proto") == "dhcpv6"]
    assert dh and dh[0]["proto"] == "UDP" and dh[0]["dest_port"] == 547, dh
    for e in r.of_type("flow"):
        assert e["src_ip"].count(":") == 7, e  # nothing but the inner IPv6


@t.test
def test_teredo_default_port_and_any():
    r = t.run_ok(TEREDO)
    d = decoder_stats(r)
    assert (d["pkts"], d["teredo"]) == (78, 3), d
    # only port 3544 by default: the web traffic through the relay on port
    # 32900 stays a UDP flow and no inner HTTP is seen
    assert not [e for e in r.of_type("http") if e["http"].get("hostname") == "ipv6.google.com"]
    cfgdir = tempfile.mkdtemp(prefix="sw-e2e-tun-")
    try:
        cfg = os.path.join(cfgdir, "any.yaml")
        with open(cfg, "w") as f:
            f.write("decoder:\n  teredo:\n    ports: any\n")
        r = t.run_ok(TEREDO, config=cfg)
    finally:
        shutil.rmtree(cfgdir, ignore_errors=True)
    d = decoder_stats(r)
    assert d["teredo"] == 27, d
    http = [e for e in r.of_type("http") if e["http"].get("hostname") == "ipv6.google.com"]
    assert [e["http"]["url"] for e in http] == [
        "/", "/search?hl=en&q=Wireshark+%21&btnG=Google+Search"], http
    for e in http:
        assert e["src_ip"] == "2001:0000:4137:9e50:8000:f12a:b9c8:2815", e
        assert e["dest_ip"] == "2001:4860:0000:2001:0000:0000:0000:0068", e
        assert e["dest_port"] == 80 and e["proto"] == "TCP", e
        assert e["http"]["http_method"] == "GET", e


VXLAN = t.repo_pcap("zeek-tunnels-vxlan.pcap")

TUN_RULES = """\
alert icmp any any -> any any (msg:"echo in a tunnel"; itype:8; sid:9800301; rev:1;)
alert icmp any any -> any any (msg:"router solicitation"; itype:133; sid:9800302; rev:1;)
"""


@t.test
def test_alerts_name_the_tunnel():
    """An alert on tunnelled traffic carries Suricata's tunnel object: the
    outer packet's addresses, protocol and ports, read here from tshark."""
    d = tempfile.mkdtemp(prefix="sw-e2e-tun-")
    try:
        rules = os.path.join(d, "tun.rules")
        with open(rules, "w") as f:
            f.write(TUN_RULES)
        cases = ((VXLAN, 9800301, "icmp.type == 8"),
                 (TEREDO, 9800302, "icmpv6.type == 133"))
        for pcap, sid, flt in cases:
            r = t.run_ok(pcap, rules=rules)
            want = t.tshark_fields(pcap, ["frame.number", "ip.src", "ip.dst", "udp.srcport",
                                          "udp.dstport"], flt, occurrence="f")
            got = [a for a in r.of_type("alert") if a["alert"]["signature_id"] == sid]
            assert want and len(got) == len(want), (pcap, len(got), len(want))
            for a, w in zip(got, want):
                assert a["tunnel"] == {"src_ip": w[1], "src_port": int(w[3]), "dest_ip": w[2],
                                       "dest_port": int(w[4]), "proto": "UDP", "depth": 1,
                                       "pcap_cnt": int(w[0])}, (a["tunnel"], w)
                assert a["pcap_cnt"] == int(w[0])
                assert not t.schema_errors(a), t.schema_errors(a)
        # traffic outside tunnels has no tunnel object
        plain = t.run_ok(t.shared_pcap("c2/ndpi-icmp-tunnel.pcap"), rules=rules).of_type("alert")
        assert plain and all("tunnel" not in a for a in plain)
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    t.main()
