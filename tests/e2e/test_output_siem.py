#!/usr/bin/env python3
"""EVE shipping without loss, end to end through the real binary.

Outputs: regular file + Redis list (a real redis-server, AOF on) + syslog
over TCP (RFC 5424, octet counting) to a receiver in this test. During the
replay Redis is SIGKILLed and restarted, and the syslog receiver starts
late and is stopped and restarted. Afterwards every line of eve.json must
have arrived at Redis and at the syslog receiver exactly once, in order.
The kill points depend on scheduling, the assertion does not: whatever the
moment, nothing may be lost or doubled."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

BIN = os.environ.get("SW_BIN", "")
SHARED = os.environ.get("SW_SHARED") or os.path.join(os.environ.get("SW_SOURCE_DIR", "."), "..", "shared")
PCAP = os.path.join(SHARED, "pcaps", "c2", "slips-test-cc-capture-1.pcap")


def skip(msg):
    print("SKIP:", msg)
    sys.exit(77)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Redis:
    def __init__(self, port, d):
        self.port, self.dir, self.proc = port, d, None

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--save", "", "--appendonly", "yes", "--appendfsync", "always"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(500):
            if self.cmd("PING") == "+PONG":
                return
            time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def cmd(self, *args):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                req = "*%d\r\n" % len(args) + "".join("$%d\r\n%s\r\n" % (len(a.encode()), a) for a in args)
                s.sendall(req.encode())
                return read_reply(s.makefile("rb"))
        except OSError:
            return None


def read_reply(f):
    line = f.readline().rstrip(b"\r\n")
    t, rest = line[:1], line[1:]
    if t in (b"+", b"-"):
        return line.decode()
    if t == b":":
        return int(rest)
    if t == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode()
    if t == b"*":
        return [read_reply(f) for _ in range(int(rest))]
    raise RuntimeError("bad reply %r" % line)


class SyslogReceiver:
    """RFC 6587 octet-counting receiver. stop() shuts down the way a careful
    receiver does: it half-closes (FIN to the sensor), keeps reading until
    the sensor closes its side, then closes. TCP syslog has no
    acknowledgements, so a receiver that closes with unread bytes in its
    socket loses them whatever the sender does; what is tested is that the
    sensor notices the FIN, stops writing into the dying connection and
    resends nothing twice after reconnecting."""

    def __init__(self, port):
        self.port, self.msgs, self.bad = port, [], []
        self.lock = threading.Lock()

    def start(self):
        self.stopping = False
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", self.port))
        self.ls.listen(8)
        self.ls.settimeout(0.05)
        self.t = threading.Thread(target=self.run)
        self.t.start()

    def stop(self):
        self.stopping = True
        self.t.join()
        self.ls.close()

    def run(self):
        while not self.stopping:
            try:
                c, _ = self.ls.accept()
            except socket.timeout:
                continue
            self.conn(c)

    def conn(self, c):
        c.settimeout(0.05)
        buf = b""
        deadline = None
        while True:
            if self.stopping and deadline is None:
                c.shutdown(socket.SHUT_WR)
                deadline = time.time() + 10
            try:
                d = c.recv(65536)
            except socket.timeout:
                if deadline is not None and time.time() > deadline:
                    break  # the sensor never answered the FIN: it was idle
                continue
            except ConnectionResetError:
                break
            if not d:
                break
            buf += d
            while True:
                sp = buf.find(b" ")
                if sp < 0:
                    break
                n = int(buf[:sp])
                if len(buf) < sp + 1 + n:
                    break
                msg = buf[sp + 1:sp + 1 + n].decode()
                buf = buf[sp + 1 + n:]
                j = msg.find(" - - {")
                with self.lock:
                    if not msg.startswith("<") or j < 0:
                        self.bad.append(msg)
                    else:
                        self.msgs.append(msg[j + 5:])
        c.close()


def main():
    if not BIN or not os.access(BIN, os.X_OK):
        skip("SW_BIN (%s) not built" % BIN)
    if not shutil.which("redis-server"):
        skip("redis-server not installed")
    if not os.path.exists(PCAP):
        skip("capture %s missing" % PCAP)
    tmp = tempfile.mkdtemp(prefix="sw-siem-")
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp):
    logdir = os.path.join(tmp, "log")
    os.mkdir(logdir)
    rdir = os.path.join(tmp, "redis")
    os.mkdir(rdir)
    rport, sport = free_port(), free_port()
    cfg = os.path.join(tmp, "spanwatch.yaml")
    with open(cfg, "w") as f:
        f.write("""outputs:
  - eve-log: {filetype: regular, filename: eve.json}
  - eve-log:
      filetype: redis
      server: 127.0.0.1
      port: %d
      redis: {mode: list, key: eve}
      reconnect: {max-backoff: 200ms}
      close-timeout: 60s
  - eve-log:
      filetype: syslog
      name: siem
      server: 127.0.0.1
      port: %d
      protocol: tcp
      reconnect: {max-backoff: 200ms}
      close-timeout: 60s
""" % (rport, sport))
    redis = Redis(rport, rdir)
    redis.start()
    rx = SyslogReceiver(sport)  # down at start: the sensor spools

    # The same capture several times makes a run long enough to act during.
    args = [BIN, "-c", cfg, "-l", logdir] + sum([["-r", PCAP] for _ in range(6)], [])
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    while p.poll() is None and (redis.cmd("LLEN", "eve") or 0) < 20:
        time.sleep(0.005)
    redis.kill()
    rx.start()
    time.sleep(0.05)
    redis.start()
    rx.stop()
    rx.start()
    out, err = p.communicate(timeout=300)
    if p.returncode != 0:
        print(err.decode(errors="replace"))
        raise SystemExit("spanwatch exited %d" % p.returncode)
    rx.stop()

    with open(os.path.join(logdir, "eve.json")) as f:
        lines = [l.rstrip("\n") for l in f]
    assert len(lines) > 100, "too few events (%d) to test anything" % len(lines)
    got = redis.cmd("LRANGE", "eve", "0", "-1")
    redis.kill()
    assert rx.bad == [], "malformed syslog messages: %r" % rx.bad[:3]
    for name, recv in (("redis", got), ("syslog", rx.msgs)):
        if recv != lines:
            first = next((i for i, (a, b) in enumerate(zip(lines, recv)) if a != b), min(len(lines), len(recv)))
            raise SystemExit("%s: %d events received, eve.json has %d; first difference at %d"
                             % (name, len(recv), len(lines), first))
    # Nothing was left behind in the spools.
    for d in ("redis", "siem"):
        sp = os.path.join(logdir, "spool", d)
        left = sum(os.path.getsize(os.path.join(sp, x)) for x in os.listdir(sp) if x.endswith(".seg")) if os.path.isdir(sp) else 0
        assert left == 0, "spool %s still holds %d bytes" % (d, left)
    print("OK: %d events delivered exactly once, in order, to file, redis and syslog" % len(lines))


if __name__ == "__main__":
    main()
