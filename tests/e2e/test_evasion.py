"""Evasion: a signature hit (bundled sid 9000002, "information_schema" in
the URI) split across TCP segments or IP fragments must still be found.

Overlap policies under test (stated by the sensor):
  TCP stream (sensor/stream.h): the first copy of a byte wins; later
    overlapping data that differs is ignored (counted tcp.overlap_diff_data).
  IP defrag (decoders/defrag.h, defrag.policy): "first" (default, BSD and
    Windows-like) -- the first fragment's bytes win; "last" (Cisco-like) --
    the last fragment's bytes win.
Each case states whether the attack must alert under that policy, so both
"the split attack is found" and "the overlap resolves as stated" are tested.
Env: SW_BIN, SW_SOURCE_DIR."""
import os
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("SW_SOURCE_DIR") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("SW_BIN") or os.path.join(SRC, "build", "spanwatch")
sys.path.insert(0, os.path.join(SRC, "tools"))
import floods as fl  # noqa: E402

REQ = fl.ATTACK_REQUEST
# where the signature bytes sit in the request
SIG_AT = REQ.index(b"information_schema")
# same length, does not match the rule
BENIGN = REQ.replace(b"information_schema", b"infoXmation_schemX")


def split(data, size):
    return [(o, data[o:o + size]) for o in range(0, len(data), size)]


def tcp_case(order, extra=None, mss=1400):
    clk = fl.Clock()
    return fl.tcp_session(clk, fl.ATTACKER, fl.SERVER, 40100, 80, REQ, fl.BENIGN_RESPONSE,
                          mss=mss, order=order, extra=extra)


def tcp_first_benign_then_attack():
    """Bytes around the signature first arrive benign (out of order, so they
    are buffered), then a conflicting copy carrying the attack: first wins,
    so no alert."""
    def order(segs):
        # the segment holding the signature goes first, benign, out of order
        lo = SIG_AT // 8 * 8
        hi = lo + 32
        out = [(lo, BENIGN[lo:hi]), (lo, REQ[lo:hi])]
        return out + segs
    return tcp_case(order, mss=8)


def frag_case(pieces_fn, ident=0x4242):
    """Handshake, then the request's TCP segment as IPv4 fragments."""
    clk = fl.Clock()
    sport = 40200
    pk = fl.tcp_session(clk, fl.ATTACKER, fl.SERVER, sport, 80, b"", b"", close=False)
    seg = fl.tcp(fl.ATTACKER, fl.SERVER, sport, 80, 1001, 5001, fl.PSH | fl.ACK, REQ)
    for f in fl.ipv4_fragments(fl.ATTACKER, fl.SERVER, 6, seg, ident, pieces_fn(seg)):
        pk.append((clk(), f))
    cseq = 1001 + len(REQ)
    pk.append((clk(), fl.tcp_pkt(fl.SERVER, fl.ATTACKER, 80, sport, 5001, cseq, fl.ACK)))
    pk.append((clk(), fl.tcp_pkt(fl.SERVER, fl.ATTACKER, 80, sport, 5001, cseq,
                                 fl.PSH | fl.ACK, fl.BENIGN_RESPONSE)))
    return pk


def eight(seg):
    return [(o, min(8, len(seg) - o)) for o in range(0, len(seg), 8)]


def sig_piece(seg):
    """Offset (multiple of 8) and length of a 24-byte window over the
    signature inside the TCP segment (20-byte TCP header first)."""
    lo = (20 + SIG_AT) // 8 * 8
    return lo, 24


def benign_seg(seg):
    return seg[:20] + BENIGN  # same length; checksum is not verified


def frag_overlap_attack_first(seg):
    lo, ln = sig_piece(seg)
    b = benign_seg(seg)
    return [(lo, ln)] + [(lo, ln, b[lo:lo + ln])] + \
        [p for p in eight(seg) if p[0] + p[1] <= lo or p[0] >= lo + ln]


def frag_overlap_benign_first(seg):
    lo, ln = sig_piece(seg)
    b = benign_seg(seg)
    return [(lo, ln, b[lo:lo + ln])] + [(lo, ln)] + \
        [p for p in eight(seg) if p[0] + p[1] <= lo or p[0] >= lo + ln]


CASES = [
    # name, packets, defrag policy, alert expected
    ("tcp 1-byte segments in order", lambda: tcp_case(None, mss=1), "first", True),
    ("tcp 3-byte segments reversed",
     lambda: tcp_case(lambda s: list(reversed(s)), mss=3), "first", True),
    ("tcp shuffled with overlapping duplicates",
     lambda: tcp_case(lambda s: s[1::2] + [(o, d + REQ[o + len(d):o + len(d) + 4])
                                           for o, d in s[0::2]], mss=5), "first", True),
    ("tcp overlap: attack first, conflicting benign retransmission later",
     lambda: tcp_case(None, extra=[(SIG_AT - 4, BENIGN[SIG_AT - 4:SIG_AT + 20])], mss=7),
     "first", True),
    ("tcp overlap: benign first, attack later (first wins: no alert)",
     tcp_first_benign_then_attack, "first", False),
    ("ip fragments of 8 bytes in order", lambda: frag_case(eight), "first", True),
    ("ip fragments reversed", lambda: frag_case(lambda s: list(reversed(eight(s)))),
     "first", True),
    ("ip fragments overlap, attack first, policy first",
     lambda: frag_case(frag_overlap_attack_first), "first", True),
    ("ip fragments overlap, attack first, policy last",
     lambda: frag_case(frag_overlap_attack_first), "last", False),
    ("ip fragments overlap, benign first, policy first",
     lambda: frag_case(frag_overlap_benign_first), "first", False),
    ("ip fragments overlap, benign first, policy last",
     lambda: frag_case(frag_overlap_benign_first), "last", True),
]


def alerts(logdir):
    n = 0
    with open(os.path.join(logdir, "eve.json"), "rb") as f:
        for line in f:
            if b'"event_type":"alert"' in line and b'"signature_id":%d' % fl.ATTACK_SID in line:
                n += 1
    return n


def main():
    tmp = tempfile.mkdtemp(prefix="sw-evasion-")
    passed = failed = 0
    try:
        for i, (name, build, policy, want) in enumerate(CASES):
            d = os.path.join(tmp, str(i))
            os.makedirs(d)
            pcap = os.path.join(d, "case.pcap")
            fl.write_pcap(pcap, build())
            cfg = os.path.join(d, "cfg.yaml")
            with open(cfg, "w") as f:
                f.write("threading:\n  workers: 1\ndefrag:\n  policy: %s\n" % policy)
            r = subprocess.run([BIN, "-q", "-r", pcap, "-l", d, "-c", cfg],
                               capture_output=True, timeout=120)
            got = alerts(d) if r.returncode == 0 else -1
            ok = r.returncode == 0 and (got > 0) == want
            if ok:
                passed += 1
                print("ok   %s (policy %s): %d alert(s)" % (name, policy, got))
            else:
                failed += 1
                print("FAIL %s (policy %s): rc %d, %d alert(s), want %s; %s" %
                      (name, policy, r.returncode, got, "alert" if want else "none",
                       r.stderr.decode(errors="replace")[-400:]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
