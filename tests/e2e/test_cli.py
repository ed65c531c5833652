#!/usr/bin/env python3
"""The command-line contract (../shared/CONTRACT.md): exit codes and their
one-line messages, truncated/gzip/pcapng captures, repeated -r, the
malformed corpus, -T's summary lines, and SIGTERM flushing complete lines."""
import glob
import gzip
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import time

import swtest as t

SMALL = t.shared_pcap("dns/sv-dns-udp-eve-txt.pcap")
HTTP = t.shared_pcap("http/zeek-http-pipelined-requests.pcap")
PCAPNG = t.shared_pcap("dns/cs-dns_axfr.pcapng")


def tmpdir():
    d = tempfile.mkdtemp(prefix="sw-e2e-cli-")
    return d


def one_line(stderr):
    lines = [l for l in stderr.splitlines() if l.strip()]
    return lines


@t.test
def test_unknown_option_exits_2_with_one_line():
    d = tmpdir()
    p = t.spanwatch(["--no-such-option", "-r", SMALL, "-l", d])
    shutil.rmtree(d, ignore_errors=True)
    assert p.returncode == 2, (p.returncode, p.stderr)
    lines = one_line(p.stderr)
    assert len(lines) == 1, "expected one stderr line, got %r" % lines
    assert "no-such-option" in lines[0], lines


@t.test
def test_missing_file_exits_2_naming_it():
    d = tmpdir()
    missing = os.path.join(d, "does-not-exist.pcap")
    p = t.spanwatch(["-r", missing, "-l", d])
    shutil.rmtree(d, ignore_errors=True)
    assert p.returncode == 2, (p.returncode, p.stderr)
    lines = one_line(p.stderr)
    assert len(lines) == 1 and "does-not-exist.pcap" in lines[0], lines


@t.test
def test_non_capture_file_exits_2_naming_it():
    d = tmpdir()
    bogus = os.path.join(d, "notes.pcap")
    with open(bogus, "w") as f:
        f.write("this is not a capture file, just text\n" * 20)
    p = t.spanwatch(["-r", bogus, "-l", d])
    shutil.rmtree(d, ignore_errors=True)
    assert p.returncode == 2, (p.returncode, p.stderr)
    lines = one_line(p.stderr)
    assert len(lines) == 1 and "notes.pcap" in lines[0], lines


def pcap_records(path):
    """(header, [(offset, record bytes)]) of a classic little/big-endian pcap."""
    data = open(path, "rb").read()
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    off, recs = 24, []
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        recs.append((off, data[off:off + 16 + incl]))
        off += 16 + incl
    return data[:24], recs


@t.test
def test_truncated_capture_processes_the_readable_part():
    hdr, recs = pcap_records(HTTP)
    assert len(recs) > 20
    keep = len(recs) // 2
    d = tmpdir()
    cut = os.path.join(d, "cut.pcap")
    whole = os.path.join(d, "whole-part.pcap")
    with open(cut, "wb") as f:
        f.write(hdr + b"".join(r for _, r in recs[:keep]) + recs[keep][1][:30])
    with open(whole, "wb") as f:
        f.write(hdr + b"".join(r for _, r in recs[:keep]))
    r_cut = t.run(cut, cache=False)
    r_ref = t.run(whole, cache=False)
    shutil.rmtree(d, ignore_errors=True)
    assert r_cut.rc == 0, r_cut.describe()
    assert not r_cut.bad_lines
    msg = [l for l in r_cut.stderr.splitlines() if "cut.pcap" in l or "trunc" in l.lower()]
    assert msg, "no stderr line saying where the capture broke: %r" % r_cut.stderr
    # the packets before the cut are processed exactly as the same packets
    # in an intact file (the events may add an anomaly about the truncation)
    ref = {t.canonical(e) for e in t.non_stats(r_ref.events)}
    got = {t.canonical(e) for e in t.non_stats(r_cut.events) if e.get("event_type") != "anomaly"}
    assert ref and ref == got, "events differ from the intact prefix: only-cut %d, only-intact %d" % (
        len(got - ref), len(ref - got))


@t.test
def test_gzip_capture_gives_same_events():
    d = tmpdir()
    gz = os.path.join(d, "http.pcap.gz")
    with open(HTTP, "rb") as src, gzip.open(gz, "wb") as dst:
        dst.write(src.read())
    r_gz = t.run(gz, cache=False)
    r_plain = t.run(HTTP)
    shutil.rmtree(d, ignore_errors=True)
    assert r_gz.rc == 0, r_gz.describe()
    a = sorted(t.canonical(e) for e in t.non_stats(r_gz.events))
    b = sorted(t.canonical(e) for e in t.non_stats(r_plain.events))
    assert a and a == b, "gzip replay differs from plain (%d vs %d events)" % (len(a), len(b))


@t.test
def test_pcapng_works():
    r = t.run_ok(PCAPNG)
    assert r.of_type("flow"), "no flow events from a pcapng capture"
    assert r.of_type("dns"), "no dns events from the AXFR pcapng"


@t.test
def test_repeated_r_in_order():
    r = t.run_ok([SMALL, HTTP])
    ev = t.non_stats(r.events)
    # all transaction events of the first file (2017) come before those of
    # the second (2009): order follows the -r order, not the timestamps.
    # Flow events are left out: a flow of the first file may still be open
    # (and be flushed at exit) while the second file plays.
    years = [e["timestamp"][:4] for e in ev if e.get("event_type") != "flow"]
    assert "2017" in years and "2009" in years, set(years)
    last_first = max(i for i, y in enumerate(years) if y == "2017")
    first_second = min(i for i, y in enumerate(years) if y == "2009")
    assert last_first < first_second, "events of the two files interleave: %s" % years
    one = {t.canonical(e) for e in t.non_stats(t.run_ok(SMALL).events)}
    two = {t.canonical(e) for e in t.non_stats(t.run_ok(HTTP).events)}
    both = {t.canonical(e) for e in ev}
    assert one | two == both, "two -r files give other events than each file alone"


@t.test
def test_malformed_corpus_replays():
    soft = t.Soft()
    files = sorted(glob.glob(os.path.join(t.PCAPS, "malformed", "*.pcap*")))
    assert len(files) >= 20
    for f in files:
        r = t.run(f, timeout=30)
        soft.true(r.rc in (0, 2), "%s: rc=%s stderr=%r" % (os.path.basename(f), r.rc, r.stderr[-300:]))
        if r.rc == 0:
            soft.true(not r.bad_lines, "%s: incomplete eve.json lines" % os.path.basename(f))
        elif r.rc == 2:
            soft.true(os.path.basename(f) in r.stderr, "%s: rc 2 without naming the file: %r"
                      % (os.path.basename(f), r.stderr))
    soft.done()


@t.test
def test_T_prints_rules_and_ioc_lines():
    import re
    rules = t.shared_pcap("dns/sv-dns-detect-query-02.test.rules")
    p = t.spanwatch(["-T", "-S", rules])
    out = p.stdout + p.stderr
    assert p.returncode == 0, (p.returncode, out[-500:])
    m = re.search(r"^rules: loaded=(\d+) skipped=(\d+)\b.*\bfiles=(\d+)", out, re.M)
    assert m, "no 'rules: loaded=... skipped=... files=...' line: %r" % out[-500:]
    assert (int(m.group(1)), int(m.group(2)), int(m.group(3))) == (2, 0, 1), m.group(0)
    assert re.search(r"^ioc: loaded=\d+ skipped=\d+", out, re.M), out[-500:]
    # default (bundled) rules
    p = t.spanwatch(["-T"])
    out = p.stdout + p.stderr
    m = re.search(r"^rules: loaded=(\d+)", out, re.M)
    assert p.returncode == 0 and m and int(m.group(1)) > 0, out[-500:]


@t.test
def test_T_fails_on_rule_syntax_error():
    d = tmpdir()
    bad = os.path.join(d, "bad.rules")
    with open(bad, "w") as f:
        f.write('alert dns any any -> any any (msg:"ok"; dns.query; content:"x"; sid:1;)\n')
        f.write('alert dns any any -> any any (msg:"broken"; content:"x" sid:2;)\n')
    p = t.spanwatch(["-T", "-S", bad])
    shutil.rmtree(d, ignore_errors=True)
    out = p.stdout + p.stderr
    assert p.returncode != 0, "-T exit 0 with a syntax error: %r" % out
    assert "bad.rules" in out and ":2" in out, "error does not name file and line: %r" % out


def merged_capture(d, copies=8):
    """A larger capture: one real capture concatenated with itself, each copy
    shifted in time (editcap -t, mergecap -a)."""
    src = t.shared_pcap("c2/slips-test-cc-capture-1.pcap")
    parts = []
    for i in range(copies):
        p = os.path.join(d, "part%d.pcap" % i)
        subprocess.run(["editcap", "-F", "pcap", "-t", str(i * 7200), src, p], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        parts.append(p)
    out = os.path.join(d, "merged.pcap")
    subprocess.run(["mergecap", "-F", "pcap", "-a", "-w", out] + parts, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for p in parts:
        os.unlink(p)
    return out


@t.test
def test_sigterm_flushes_complete_lines():
    d = tmpdir()
    try:
        cap = merged_capture(d)
        logdir = os.path.join(d, "log")
        os.mkdir(logdir)
        proc = subprocess.Popen(t.build_argv(cap, logdir=logdir), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        eve = os.path.join(logdir, "eve.json")
        # wait until output has started, then stop it mid-replay
        deadline = time.time() + 30
        while time.time() < deadline and proc.poll() is None:
            if os.path.exists(eve) and os.path.getsize(eve) > 0:
                break
            time.sleep(0.005)
        finished_before = proc.poll() is not None
        if not finished_before:
            proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError("spanwatch did not exit within 30 s of SIGTERM")
        assert proc.returncode == 0, "rc=%s after SIGTERM: %r" % (proc.returncode, err[-300:])
        events, bad = t.read_eve(eve)
        assert not bad, "incomplete lines after SIGTERM: %r" % bad[:2]
        assert events, "no events flushed"
        flows = [e for e in events if e.get("event_type") == "flow"]
        assert flows, "open flows were not flushed as flow events"
        if finished_before:
            print("  note: the replay finished before SIGTERM could be sent")
        else:
            full = t.run_ok(cap, timeout=120)
            print("  SIGTERM after %d of %d events" % (len(events), len(full.events)))
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    t.main()
