"""Shared helpers for spanwatch's end-to-end tests.

Every test replays real captures through the real binary and compares the
EVE output against an oracle that does not share code with spanwatch
(tshark, suricata-verify expectations, hand-computed values).  Nothing here
knows what spanwatch "should" print; it only runs, parses and compares.

Environment (all optional):
  SW_BIN         spanwatch binary        (default /work/main/build/spanwatch)
  SW_SOURCE_DIR  repository root         (default /work/main)
  SW_SHARED      shared data directory   (default /work/shared)
  SW_TEST_FILTER run only tests whose name contains this string
"""
import base64
import hashlib
import ipaddress
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback

SRC = os.environ.get("SW_SOURCE_DIR") or "/work/main"
BIN = os.environ.get("SW_BIN") or os.path.join("/work/main/build", "spanwatch")
SHARED = os.environ.get("SW_SHARED") or "/work/shared"
PCAPS = os.path.join(SHARED, "pcaps")
TEST_PCAPS = os.path.join(SRC, "test-pcaps")
HERE = os.path.dirname(os.path.abspath(__file__))

DEFAULT_TIMEOUT = 60


# --------------------------------------------------------------------------
# running the binary

class Run:
    """Outcome of one spanwatch invocation."""

    def __init__(self, argv, rc, stdout, stderr, logdir, events, bad_lines):
        self.argv = argv
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.logdir = logdir
        self.events = events          # list of dicts, file order
        self.bad_lines = bad_lines    # lines of eve.json that are not JSON objects

    def of_type(self, *types):
        return [e for e in self.events if e.get("event_type") in types]

    def describe(self):
        return "%s -> rc=%s stderr=%r" % (" ".join(self.argv), self.rc, self.stderr[-2000:])


def read_eve(path):
    """Parse an NDJSON file. Returns (events, bad_lines); a line that does not
    parse or is not an object (e.g. cut in the middle) goes to bad_lines."""
    events, bad = [], []
    if not os.path.exists(path):
        return events, bad
    with open(path, "rb") as f:
        data = f.read()
    for raw in data.split(b"\n"):
        if not raw.strip():
            continue
        try:
            ev = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            bad.append(raw)
            continue
        if not isinstance(ev, dict):
            bad.append(raw)
            continue
        events.append(ev)
    if data and not data.endswith(b"\n"):
        # a last line without its newline was cut: that is not "complete"
        bad.append(b"<no final newline>")
    return events, bad


def build_argv(pcaps, rules=None, config=None, workers=None, extra=(), logdir="LOGDIR"):
    argv = [BIN]
    if isinstance(pcaps, str):
        pcaps = [pcaps]
    for p in pcaps:
        argv += ["-r", p]
    argv += ["-l", logdir]
    if config:
        argv += ["-c", config]
    if rules:
        if isinstance(rules, str):
            rules = [rules]
        for r in rules:
            argv += ["-S", r]
    if workers is not None:
        argv += ["--workers", str(workers)]
    argv += list(extra)
    return argv


_cache = {}


def run(pcaps, rules=None, config=None, workers=None, extra=(), timeout=DEFAULT_TIMEOUT,
        keep=False, cache=True):
    """Replay captures into a fresh temporary log directory and parse eve.json.
    Identical invocations are memoised within one test process (replay is
    deterministic by contract), so several tests can share one run."""
    key = (tuple([pcaps] if isinstance(pcaps, str) else pcaps),
           tuple([rules] if isinstance(rules, str) else (rules or ())),
           config, workers, tuple(extra))
    if cache and key in _cache:
        return _cache[key]
    logdir = tempfile.mkdtemp(prefix="sw-e2e-")
    argv = build_argv(pcaps, rules, config, workers, extra, logdir)
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out, err = "timeout", e.stdout or b"", e.stderr or b""
    events, bad = read_eve(os.path.join(logdir, "eve.json"))
    r = Run(argv, rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
            logdir, events, bad)
    if not keep:
        shutil.rmtree(logdir, ignore_errors=True)
        r.logdir = None
    if cache:
        _cache[key] = r
    return r


def run_ok(pcaps, **kw):
    """run() and insist on a clean exit with complete NDJSON."""
    r = run(pcaps, **kw)
    assert r.rc == 0, "spanwatch failed: " + r.describe()
    assert not r.bad_lines, "eve.json has %d incomplete/invalid lines: %r" % (
        len(r.bad_lines), r.bad_lines[:3])
    return r


def spanwatch(args, timeout=DEFAULT_TIMEOUT):
    """Run the binary with raw arguments; returns CompletedProcess (text)."""
    return subprocess.run([BIN] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, text=True, errors="replace")


# --------------------------------------------------------------------------
# event helpers

def get_path(obj, path, default=None):
    """Dotted-path lookup; list indices allowed ("dns.answers.0.rdata")."""
    cur = obj
    for part in path.split("."):
        if isinstance(cur, dict):
            if part not in cur:
                return default
            cur = cur[part]
        elif isinstance(cur, list):
            try:
                cur = cur[int(part)]
            except (ValueError, IndexError):
                return default
        else:
            return default
    return cur


def canonical(ev, drop=("timestamp_seen",)):
    """Stable string form of an event for order-insensitive comparison."""
    e = {k: v for k, v in ev.items() if k not in drop}
    return json.dumps(e, sort_keys=True, separators=(",", ":"))


def non_stats(events):
    return [e for e in events if e.get("event_type") != "stats"]


def fmt(ev, limit=1500):
    s = json.dumps(ev, sort_keys=True)
    return s if len(s) <= limit else s[:limit] + "...(%d chars)" % len(s)


def shared_pcap(rel):
    return os.path.join(PCAPS, rel)


def repo_pcap(name):
    return os.path.join(TEST_PCAPS, name)


def manifest():
    """MANIFEST.tsv rows as dicts keyed by the header."""
    rows = []
    with open(os.path.join(PCAPS, "MANIFEST.tsv"), encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            if line.strip():
                rows.append(dict(zip(header, line.rstrip("\n").split("\t"))))
    return rows


def provenance_names():
    """Basenames listed in test-pcaps/PROVENANCE.tsv (first column)."""
    names = set()
    p = os.path.join(TEST_PCAPS, "PROVENANCE.tsv")
    if os.path.exists(p):
        with open(p, encoding="utf-8") as f:
            for line in f:
                col = line.split("\t")[0]
                names.add(os.path.basename(col))
    return names


def is_capture(path):
    return path.endswith((".pcap", ".pcapng", ".pcap.gz", ".pcapng.gz"))


# --------------------------------------------------------------------------
# schema

_validator = None


def validator():
    global _validator
    if _validator is None:
        sys.path.insert(0, HERE)
        import eve_schema_ext
        _validator = eve_schema_ext.validator(SHARED)
    return _validator


def schema_errors(ev):
    """List of 'path: message' strings, empty when the event validates."""
    out = []
    for err in sorted(validator().iter_errors(ev), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in err.absolute_path) or "<top>"
        out.append("%s: %s" % (path, err.message[:300]))
    return out


# --------------------------------------------------------------------------
# tshark oracle

def tshark(args, timeout=120):
    p = subprocess.run(["tshark", "-n"] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, text=True, errors="replace")
    return p.stdout


def tshark_fields(pcap, fields, display_filter=None, opts=(), occurrence=None):
    """Rows of tab-separated field values (strings, '' when absent).
    Multiple occurrences of one field come back comma-joined by tshark;
    use split_multi() on them."""
    args = ["-r", pcap, "-T", "fields", "-E", "separator=\t", "-E", "quote=n",
            "-E", "occurrence=" + (occurrence or "a"), "-E", "aggregator=\x1f"]
    for o in opts:
        args += ["-o", o]
    if display_filter:
        args += ["-Y", display_filter]
    for f in fields:
        args += ["-e", f]
    rows = []
    for line in tshark(args).split("\n"):
        if line == "":
            continue
        cols = line.split("\t")
        cols += [""] * (len(fields) - len(cols))
        rows.append(cols)
    return rows


def split_multi(v):
    return [x for x in v.split("\x1f")] if v != "" else []


# --------------------------------------------------------------------------
# Community ID v1 (independent implementation of the published spec)

_ICMP4_PAIRS = {8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 17: 18, 18: 17, 10: 9, 9: 10}
_ICMP6_PAIRS = {128: 129, 129: 128, 133: 134, 134: 133, 135: 136, 136: 135,
                130: 131, 131: 130, 144: 145, 145: 144}


def community_id(saddr, daddr, proto, sport, dport, seed=0):
    sa = ipaddress.ip_address(saddr).packed
    da = ipaddress.ip_address(daddr).packed
    pnum = {"TCP": 6, "UDP": 17, "ICMP": 1, "IPv6-ICMP": 58, "SCTP": 132}.get(proto, proto)
    one_way = False
    if pnum in (1, 58):
        pairs = _ICMP4_PAIRS if pnum == 1 else _ICMP6_PAIRS
        itype, icode = sport, dport
        if itype in pairs:
            sport, dport = itype, pairs[itype]
        else:
            sport, dport, one_way = itype, icode, True
    if not one_way and (sa, sport) > (da, dport):
        sa, da, sport, dport = da, sa, dport, sport
    data = struct.pack("!H", seed) + sa + da + struct.pack("!BB", pnum, 0)
    if pnum in (6, 17, 132, 1, 58):
        data += struct.pack("!HH", sport, dport)
    return "1:" + base64.b64encode(hashlib.sha1(data).digest()).decode()


# --------------------------------------------------------------------------
# suricata-verify filter semantics (as suricata-verify's run.py: find_value,
# FilterCheck.match): dotted paths, "name[i]" indices, "__len" (-1 when the
# value has no length), "__find"/"__contains"/"__startswith"/"__endswith",
# "has-key"/"not-has-key"; anything else is plain equality of the whole
# value, so a nested dict in "match" must equal the event's object exactly.

SV_EMULATED_VERSION = (8, 0, 3)


def sv_find_value(name, obj):
    for part in name.split("."):
        if part == "__len":
            try:
                return len(obj)
            except TypeError:
                return -1
        if part in ("__contains", "__find", "__startswith", "__endswith"):
            break
        m = re.match(r"^(.*)\[(\d+)\]$", part)
        key, index = (m.group(1), int(m.group(2))) if m else (part, None)
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
        if index is not None:
            try:
                obj = obj[index]
            except (IndexError, KeyError, TypeError):
                return None
    return obj


def sv_event_matches(ev, match):
    for key, expected in (match or {}).items():
        if key == "has-key":
            if sv_find_value(expected, ev) is None:
                return False
        elif key == "not-has-key":
            if sv_find_value(expected, ev) is not None:
                return False
        else:
            val = sv_find_value(key, ev)
            try:
                if key.endswith("__find"):
                    if val is None or val.find(expected) < 0:
                        return False
                elif key.endswith("__contains"):
                    if val is None or expected not in val:
                        return False
                elif key.endswith("__startswith"):
                    if val is None or not val.startswith(expected):
                        return False
                elif key.endswith("__endswith"):
                    if val is None or not val.endswith(expected):
                        return False
                elif val != expected:
                    return False
            except (AttributeError, TypeError):
                return False
    return True


def sv_filter_count(events, flt):
    """Number of events matching a suricata-verify `filter` check."""
    return sum(1 for ev in events if sv_event_matches(ev, flt.get("match") or {}))


def _sv_version(v):
    parts = [int(x) for x in re.findall(r"\d+", str(v))[:3]]
    return tuple(parts + [0] * (3 - len(parts)))


def sv_requires_ok(req):
    """Does a `requires:` block admit the Suricata version spanwatch emulates?
    Feature requirements (HAVE_JA3 ...) are taken as satisfied; the caller
    decides separately whether a check is in scope."""
    if not req:
        return True
    v = SV_EMULATED_VERSION
    if "min-version" in req and v < _sv_version(req["min-version"]):
        return False
    if "lt-version" in req and not v < _sv_version(req["lt-version"]):
        return False
    if "version" in req:
        want = _sv_version(req["version"])
        n = len(re.findall(r"\d+", str(req["version"])))
        if v[:n] != want[:n]:
            return False
    return True


# --------------------------------------------------------------------------
# script-style tests: a tally of checks instead of test functions

class Checks:
    """check(cond, what) prints "ok   what" or "FAIL what" and counts it;
    summary() prints the closing "N passed, N failed" line and returns the
    exit code (1 when anything failed)."""

    def __init__(self):
        self.passed = self.failed = 0

    def __call__(self, cond, what):
        if cond:
            self.passed += 1
            print("ok   " + what)
        else:
            self.failed += 1
            print("FAIL " + what)

    def summary(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


# --------------------------------------------------------------------------
# minimal test runner

_tests = []


def test(fn):
    _tests.append(fn)
    return fn


class Soft:
    """Collect several mismatches inside one test and fail once with all of
    them, so one run shows every divergent field, not just the first."""

    def __init__(self, limit=40):
        self.items = []
        self.limit = limit
        self.checked = 0

    def eq(self, what, got, want):
        self.checked += 1
        if got != want:
            self.items.append("%s: spanwatch=%r oracle=%r" % (what, got, want))

    def true(self, cond, what):
        self.checked += 1
        if not cond:
            self.items.append(what)

    def fail(self, what):
        self.items.append(what)

    def done(self, header=""):
        if self.items:
            shown = self.items[:self.limit]
            more = len(self.items) - len(shown)
            msg = (header + "\n" if header else "") + "\n".join("  - " + s for s in shown)
            if more:
                msg += "\n  ... and %d more" % more
            raise AssertionError(msg)


def capture_tests(prefix, captures, compare, counted, empty):
    """Registers one test per capture, named prefix + the capture's stem.
    compare(capture, soft) returns how many items it compared; the test fails
    on any Soft mismatch (headed "<capture>: <n> <counted> compared") and
    when nothing was compared (the message is empty % capture)."""
    for cap in captures:
        def fn(cap=cap):
            soft = Soft(limit=25)
            n = compare(cap, soft)
            soft.done("%s: %d %s compared" % (cap, n, counted))
            assert n > 0, empty % cap
        fn.__name__ = prefix + os.path.splitext(cap)[0].replace("-", "_").replace(".", "_")
        test(fn)


def main():
    flt = os.environ.get("SW_TEST_FILTER", "")
    if not os.access(BIN, os.X_OK):
        print("spanwatch binary not found at %s (set SW_BIN)" % BIN)
        print("0 passed, 1 failed")
        sys.exit(1)
    passed = failed = 0
    for fn in _tests:
        if flt and flt not in fn.__name__:
            continue
        t0 = time.time()
        try:
            fn()
        except AssertionError as e:
            failed += 1
            print("FAIL %s (%.1fs)\n%s" % (fn.__name__, time.time() - t0, e), flush=True)
        except Exception:
            failed += 1
            print("ERROR %s (%.1fs)\n%s" % (fn.__name__, time.time() - t0,
                                            traceback.format_exc()), flush=True)
        else:
            passed += 1
            print("ok   %s (%.1fs)" % (fn.__name__, time.time() - t0), flush=True)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
