#!/usr/bin/env python3
"""Syslog over TLS (RFC 5425) to a real TLS server: openssl s_server with a
certificate this test makes, on a loopback port. Every event of eve.json must
arrive, in order, as RFC 5424 messages with octet-counting framing, and the
sensor must verify the server against the CA file it is given."""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("SW_BIN", "/work/main/build/spanwatch")
SRC = os.environ.get("SW_SOURCE_DIR", "/work/main")
CAP = os.path.join(SRC, "test-pcaps", "zeek-http-pipelined-requests.pcap")
results = []


def check(name, cond, detail=""):
    results.append(bool(cond))
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + detail))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def frames(data):
    """RFC 6587 octet counting: 'LEN SP MSG' repeated."""
    out, i = [], 0
    while i < len(data):
        sp = data.find(b" ", i)
        if sp < 0:
            break
        n = int(data[i:sp])
        out.append(data[sp + 1:sp + 1 + n])
        i = sp + 1 + n
    return out


def run(verify_ok, tmp):
    key, crt = os.path.join(tmp, "k.pem"), os.path.join(tmp, "c.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = free_port()
    rx = os.path.join(tmp, "rx.bin")
    srv = subprocess.Popen(["openssl", "s_server", "-quiet", "-accept", str(port), "-cert", crt,
                            "-key", key],
                           stdout=open(rx, "wb"), stderr=subprocess.DEVNULL, stdin=subprocess.PIPE)
    time.sleep(1.0)  # a TCP probe would cost s_server its session: just wait
    cfg = os.path.join(tmp, "c.yaml")
    ca = crt if verify_ok else os.path.join(tmp, "other.pem")
    if not verify_ok:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        os.path.join(tmp, "ok.pem"), "-out", ca, "-days", "2", "-subj", "/CN=x"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(cfg, "w") as f:
        f.write("""outputs:
  - eve-log:
      filetype: regular
      name: file
      filename: eve.json
  - eve-log:
      filetype: syslog
      name: siem
      server: 127.0.0.1
      port: %d
      protocol: tcp
      close-timeout: 3s
      tls:
        enabled: yes
        verify: yes
        ca-file: %s
""" % (port, ca))
    logdir = os.path.join(tmp, "log%d" % int(verify_ok))
    os.mkdir(logdir)
    r = subprocess.run([BIN, "-c", cfg, "-r", CAP, "-l", logdir, "-q"], stderr=subprocess.PIPE,
                       text=True, timeout=120)
    # s_server writes what it received as it decrypts it: give it time to
    # catch up with everything the sensor sent before it exited
    want = len(open(os.path.join(logdir, "eve.json"), "rb").read().splitlines())
    deadline = time.time() + 10
    while verify_ok and time.time() < deadline:
        if len(frames(open(rx, "rb").read())) >= want:
            break
        time.sleep(0.1)
    time.sleep(0.3)
    srv.terminate()
    srv.wait()
    lines = open(os.path.join(logdir, "eve.json"), "rb").read().splitlines()
    return r, lines, frames(open(rx, "rb").read()), logdir


def main():
    if not shutil_which("openssl"):
        print("SKIP: openssl not installed")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        r, lines, msgs, _ = run(True, tmp)
        check("sensor exits 0", r.returncode == 0, r.stderr[-300:])
        check("events were written", len(lines) > 10, str(len(lines)))
        bodies = []
        bad = 0
        for m in msgs:
            # <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG
            mm = re.match(rb"<(\d+)>1 \S+ \S+ \S+ \S+ \S+ \S+ (.*)$", m, re.S)
            if not mm:
                bad += 1
                continue
            bodies.append(mm.group(2).rstrip(b"\n"))
        check("every message is RFC 5424", bad == 0, "%d malformed of %d" % (bad, len(msgs)))
        check("every event arrived once, in order, over TLS", bodies == lines,
              "got %d of %d" % (len(bodies), len(lines)))
    with tempfile.TemporaryDirectory() as tmp:
        r, lines, msgs, logdir = run(False, tmp)
        check("a server the CA does not vouch for gets nothing", len(msgs) == 0, str(len(msgs)))
        spool = os.path.join(logdir, "spool")
        check("undelivered events wait in the spool", os.path.isdir(spool) and
              any(os.path.getsize(os.path.join(d, f)) > 0 for d, _, fs in os.walk(spool) for f in fs),
              "no spool data")
    failed = results.count(False)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


def shutil_which(x):
    import shutil
    return shutil.which(x)


if __name__ == "__main__":
    sys.exit(main())
