#!/bin/bash
# Builds the seed corpora of the libFuzzer targets from the real captures
# (../shared/pcaps, test-pcaps/), the bundled rules and IoC lists, the ET
# Open rules and the packaged config fragments.
#   tests/fuzz/seeds.sh [OUTDIR]     (default: build-fuzz/seeds)
# OUTDIR/<target>/ gets one file per seed, in the input format each
# tests/fuzz/fuzz_<target>.c describes. Deterministic: same inputs, same
# seeds.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${SW_SHARED:-$SRC/../shared}
OUT=${1:-$SRC/build-fuzz/seeds}
mkdir -p "$OUT"
exec /usr/bin/python3 - "$SRC" "$SHARED" "$OUT" <<'PY'
import glob, gzip, hashlib, os, random, struct, sys

src, shared, out = sys.argv[1:4]
MAXSEED = 60000

def put(target, data, tag=""):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    h = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, (tag + "-" if tag else "") + h), "wb") as f:
        f.write(data)

def read_capture(path):
    """(linktype, [(ts, bytes)]) for pcap / pcapng, gzip'ed or not."""
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    pkts = []
    if len(raw) < 24:
        return None, pkts
    magic = raw[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = "<" if magic[0] in (0xd4, 0x4d) else ">"
        lt = struct.unpack(e + "I", raw[20:24])[0] & 0xffff
        off = 24
        while off + 16 <= len(raw):
            sec, usec, incl, orig = struct.unpack(e + "IIII", raw[off:off + 16])
            off += 16
            if incl > 262144 or off + incl > len(raw):
                break
            pkts.append((sec * 1000000 + usec, raw[off:off + incl]))
            off += incl
        return lt, pkts
    if magic == b"\x0a\x0d\x0d\x0a":
        e = "<" if raw[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        off, lts = 0, []
        while off + 12 <= len(raw):
            btype, blen = struct.unpack(e + "II", raw[off:off + 8])
            if blen < 12 or off + blen > len(raw):
                break
            body = raw[off + 8:off + blen - 4]
            if btype == 1:
                lts.append(struct.unpack(e + "H", body[:2])[0])
            elif btype == 6 and len(body) >= 20:
                iface, th, tl, incl, orig = struct.unpack(e + "IIIII", body[:20])
                pkts.append(((th << 32) | tl, body[20:20 + incl]))
            elif btype == 3 and len(body) >= 4:
                pkts.append((0, body[4:]))
            off += blen
        return (lts[0] if lts else 1), pkts
    return None, pkts

def ip_layer(lt, b):
    """Offset of the IP header, or None."""
    if lt == 1:
        off, et = 12, None
        while off + 2 <= len(b):
            et = struct.unpack(">H", b[off:off + 2])[0]
            if et in (0x8100, 0x88a8, 0x9100):
                off += 4
                continue
            if et == 0x8847:
                off += 2
                while off + 4 <= len(b):
                    bos = b[off + 2] & 1
                    off += 4
                    if bos:
                        return off
                return None
            return off + 2 if et in (0x0800, 0x86dd) else None
        return None
    if lt == 113:
        return 16
    if lt == 276:
        return 20
    if lt in (0, 108):
        return 4
    if lt in (12, 101, 228, 229):
        return 0
    return None

def l4(b, off):
    """(proto, src, dst, sport, dport, seq, flags, payload) or None; no frags."""
    if off is None or off >= len(b):
        return None
    v = b[off] >> 4
    if v == 4 and off + 20 <= len(b):
        ihl = (b[off] & 15) * 4
        tot = struct.unpack(">H", b[off + 2:off + 4])[0]
        fo = struct.unpack(">H", b[off + 6:off + 8])[0]
        if fo & 0x3fff:
            return None
        proto, s, d = b[off + 9], b[off + 12:off + 16], b[off + 16:off + 20]
        end = min(len(b), off + tot) if tot >= ihl else len(b)
        p = off + ihl
    elif v == 6 and off + 40 <= len(b):
        proto, s, d = b[off + 6], b[off + 8:off + 24], b[off + 24:off + 40]
        plen = struct.unpack(">H", b[off + 4:off + 6])[0]
        end = min(len(b), off + 40 + plen)
        p = off + 40
    else:
        return None
    if proto == 17 and p + 8 <= end:
        sp, dp = struct.unpack(">HH", b[p:p + 4])
        return (17, s, d, sp, dp, 0, 0, b[p + 8:end])
    if proto == 6 and p + 20 <= end:
        sp, dp, seq = struct.unpack(">HHI", b[p:p + 8])
        hl = (b[p + 12] >> 4) * 4
        return (6, s, d, sp, dp, seq, b[p + 13], b[p + hl:end])
    return None

def is_frag(b, off):
    if off is None or off >= len(b):
        return False
    v = b[off] >> 4
    if v == 4 and off + 20 <= len(b):
        return (struct.unpack(">H", b[off + 6:off + 8])[0] & 0x3fff) != 0
    if v == 6 and off + 40 <= len(b):
        return b[off + 6] == 44
    return False

LT_INDEX = {1: 0, 0: 1, 12: 2, 108: 3, 101: 4, 113: 5, 228: 6, 229: 7, 276: 8, 9: 10}

caps = sorted(glob.glob(shared + "/pcaps/**/*.pcap*", recursive=True) +
              glob.glob(src + "/test-pcaps/**/*.pcap*", recursive=True))
seen_pkt = set()
for path in caps:
    try:
        lt, pkts = read_capture(path)
    except Exception:
        continue
    if os.path.getsize(path) <= 65536:
        put("pipeline", open(path, "rb").read(), os.path.basename(path)[:40])
    if lt is None:
        continue
    for ts, b in pkts[:40]:
        h = hashlib.sha1(b).digest()
        if h in seen_pkt or lt not in LT_INDEX:
            continue
        seen_pkt.add(h)
        put("decode", bytes([LT_INDEX[lt]]) + b)
        if "teredo" in path.lower():
            put("decode", bytes([LT_INDEX[lt] | 0x40]) + b)  # Teredo on any port
    frags = b""
    flows = {}
    for ts, b in pkts:
        off = ip_layer(lt, b)
        if is_frag(b, off):
            ipb = b[off:]
            if len(frags) + len(ipb) + 2 < MAXSEED:
                frags += struct.pack(">H", len(ipb)) + ipb
            continue
        r = l4(b, off)
        if not r:
            continue
        proto, s, d, sp, dp, seq, fl, pay = r
        if proto == 17 and 53 in (sp, dp) and pay:
            put("dns", b"\x00\x00" + pay)
        if proto != 6:
            continue
        key = (min((s, sp), (d, dp)), max((s, sp), (d, dp)))
        f = flows.setdefault(key, {"client": None, "recs": [], "seen": set(), "ports": (sp, dp)})
        if f["client"] is None and (fl & 0x12) == 0x02:
            f["client"] = (s, sp)
        if not pay or (s, sp, seq) in f["seen"]:
            continue
        f["seen"].add((s, sp, seq))
        if f["client"] is None:
            f["client"] = (s, sp)
        f["recs"].append((0 if (s, sp) == f["client"] else 1, pay))
    if frags:
        put("defrag", b"\x00" + frags)
        put("defrag", b"\x01" + frags)
    for key, f in flows.items():
        recs = f["recs"]
        if not recs:
            continue
        blob = b""
        for dirn, pay in recs:
            if len(blob) + len(pay) + 3 > MAXSEED:
                break
            blob += bytes([dirn]) + struct.pack(">H", len(pay)) + pay
        first = recs[0][1]
        ports = f["ports"]
        if 53 in ports:
            stream = b"".join(p for dn, p in recs if dn == recs[0][0])[:MAXSEED]
            put("dns", b"\x01\x2a" + stream)
        if first[:1] == b"\x16" or first[:1] == b"\x80" or 443 in ports:
            put("tls", b"\x00\x00" + blob)
        if first.split(b" ", 1)[0] in (b"GET", b"POST", b"HEAD", b"PUT", b"CONNECT",
                                        b"OPTIONS", b"DELETE") or 80 in ports or 8080 in ports:
            put("http", b"\x00\x00" + blob)
            put("http", b"\x05\x01" + blob)

# Rules: each bundled rule alone, the whole bundled file, and a deterministic
# sample of ET Open rules.
rng = random.Random(7)
bundled = open(src + "/signatures/rules/spanwatch.rules", "rb").read()
put("rules", bundled, "bundled")
for line in bundled.splitlines():
    if line.strip() and not line.startswith(b"#"):
        put("rules", line + b"\n")
et = []
for p in sorted(glob.glob(shared + "/rules/et-open/*.rules")):
    et += [l for l in open(p, "rb").read().splitlines() if l.startswith(b"alert")]
for line in rng.sample(et, min(400, len(et))):
    put("rules", line + b"\n")

for p in sorted(glob.glob(src + "/signatures/ioc/*")):
    if p.endswith(".md"):
        continue
    body = open(p, "rb").read()
    put("ioc", b"\x00" + (b"\x01" if p.endswith(".csv") else b"\x00") + body)

for p in sorted(glob.glob(src + "/packaging/config.d/*.yaml")) + \
         sorted(glob.glob(src + "/packaging/*.yaml")):
    put("config", open(p, "rb").read(), os.path.basename(p))

# Stream: consistent-mode op lists (in order, reversed, overlapping, acks).
for n in range(24):
    ops = b""
    segs = [(o, rng.randint(1, 1400)) for o in range(0, 20000, 1000)]
    if n % 3 == 1:
        segs.reverse()
    elif n % 3 == 2:
        rng.shuffle(segs)
        segs += [(o + 500, 900) for o, _ in segs[:5]]
    for o, l in segs:
        ops += bytes([0]) + struct.pack(">HH", o, l)
        if rng.random() < 0.2:
            ops += bytes([2]) + struct.pack(">H", o + l)
    ops += bytes([0x43]) + b"\x00\x00"
    put("stream", bytes([(n % 4) << 1 & 2 | (8 if n % 2 else 0)]) +
        struct.pack(">I", rng.getrandbits(32)) + ops)

for t in sorted(os.listdir(out)):
    print(f"{t}: {len(os.listdir(os.path.join(out, t)))} seeds")
PY
