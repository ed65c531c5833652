#!/usr/bin/env python3
"""detect.alert.{payload, payload-printable, packet}: alerts show the bytes
that matched. The packet field must be the captured frame itself (read back
from the pcap by pcap_cnt), the payload must lie inside it, and the
printable form must follow Suricata's rule; without the options none of the
fields appear."""
import base64
import os
import shutil
import struct
import tempfile

import swtest as t

SQLI = t.repo_pcap("ndpi-sql_injection.pcap")     # transaction (HTTP URI) alert
CC = t.shared_pcap("c2/slips-test-cc-capture-1.pcap")  # packet (header) alerts


def frames(path):
    """Classic pcap (either byte order): list of raw frames, 1-based by index+1."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    out, off = [], 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


def printable(b):
    return "".join(chr(c) if 0x20 <= c < 0x7f or c in (10, 13) else "." for c in b)


def run(pcap, rules=None, evidence=True):
    d = tempfile.mkdtemp(prefix="sw-e2e-ev-")
    try:
        cfg = os.path.join(d, "c.yaml")
        with open(cfg, "w") as f:
            if evidence:
                f.write("detect:\n  alert:\n    payload: yes\n    payload-printable: yes\n"
                        "    packet: yes\n    payload-max: 512\n")
            else:
                f.write("detect:\n  packet-alert-max: 16\n")
        r_path = None
        if rules:
            r_path = os.path.join(d, "r.rules")
            with open(r_path, "w") as f:
                f.write(rules)
        return t.run_ok(pcap, config=cfg, rules=r_path)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def check(run_, pcap, sids):
    """Signature alerts only: beacon, IoC and health alerts come from no
    single packet."""
    raw = frames(pcap)
    alerts = [a for a in run_.of_type("alert") if a["alert"]["signature_id"] in sids]
    assert alerts, run_.describe()
    for a in alerts:
        assert not t.schema_errors(a), t.schema_errors(a)
        pkt = base64.b64decode(a["packet"])
        assert pkt == raw[a["pcap_cnt"] - 1], "packet differs from frame %d" % a["pcap_cnt"]
        assert a["packet_info"] == {"linktype": 1}, a["packet_info"]
        if "payload" in a:
            pl = base64.b64decode(a["payload"])
            assert 0 < len(pl) <= 512, len(pl)
            assert a["stream"] in (0, 1), a
            if a["stream"] == 0:
                assert pl in pkt, "payload is not inside the packet"
            assert a["payload_printable"] == printable(pl), a["payload_printable"][:80]
    return alerts


@t.test
def test_transaction_alert_shows_completing_packet():
    a = check(run(SQLI), SQLI, {9000001})
    pl = base64.b64decode(a[0]["payload"])
    assert pl.startswith(b"GET /DVWA-master/vulnerabilities/sqli/?id="), pl[:60]
    assert len(pl) == 512  # cut at payload-max
    assert a[0]["payload_printable"].startswith("GET /DVWA-master/vulnerabilities/sqli/")


@t.test
def test_packet_alerts_and_off_by_default():
    rules = 'alert tcp any any -> any any (msg:"syn"; flags:S,12; sid:9800001; rev:1;)\n'
    alerts = check(run(CC, rules), CC, {9800001})
    assert len(alerts) == 299, len(alerts)
    assert all("payload" not in a for a in alerts)  # SYNs carry no payload
    plain = run(SQLI, evidence=False).of_type("alert")
    assert plain
    for a in plain:
        for k in ("payload", "payload_printable", "stream", "packet", "packet_info"):
            assert k not in a, (k, a)


if __name__ == "__main__":
    t.main()
