#!/usr/bin/env python3
"""Output safety on SIGKILL: whatever moment the sensor is killed, eve.json
holds only whole events (each one complete JSON line), never a torn one.
Several kills at different moments of a replay, 1 and 2 workers."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("SW_BIN", "/work/main/build/spanwatch")
SHARED = os.environ.get("SW_SHARED", "/work/shared")
CAP = os.path.join(SHARED, "pcaps", "c2", "slips-test-cc-capture-1.pcap")


def main():
    failures = 0
    runs = 0
    for workers in (1, 2):
        for delay in (0.05, 0.15, 0.3, 0.6):
            with tempfile.TemporaryDirectory() as d:
                args = [BIN, "-q", "--workers", str(workers), "-l", d]
                for _ in range(20):
                    args += ["-r", CAP]
                p = subprocess.Popen(args, stderr=subprocess.DEVNULL)
                time.sleep(delay)
                p.send_signal(signal.SIGKILL)
                p.wait()
                runs += 1
                path = os.path.join(d, "eve.json")
                data = open(path, "rb").read() if os.path.exists(path) else b""
                lines = data.split(b"\n")
                torn = 0
                if lines and lines[-1] != b"":
                    torn += 1  # last line without its newline
                for l in lines[:-1]:
                    try:
                        json.loads(l)
                    except ValueError:
                        torn += 1
                ok = torn == 0
                failures += not ok
                print("%s workers=%d kill after %.2fs: %d whole events, %d torn"
                      % ("ok  " if ok else "FAIL", workers, delay, len(lines) - 1, torn))
    print("%d passed, %d failed" % (runs - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
