#!/usr/bin/env python3
"""Live capture over time that does not run smoothly:

- the wall clock steps back an hour (NTP correction, an operator fixing the
  date): the sensor must keep writing its stats event every stats.interval
  and must not report a capture stall it did not have;
- libpcap's packet counters (struct pcap_stat, 32 bits) wrap, as they do
  after 2^32 packets (about an hour at 1.2 Mpps): capture.kernel_packets
  must keep counting up past 2^32, never jump back.

Both come from a small LD_PRELOAD library built here: it moves
CLOCK_REALTIME back by 3600 s once a trigger file exists (the monotonic
clock is left alone, as the kernel does), and makes pcap_stats report
0x40000000 more packets on each call, modulo 2^32 like libpcap. The capture is the loopback of a
network namespace this test creates (nothing is sent). Needs root and gcc;
exits 77 (skip) otherwise."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("SW_BIN", "/work/main/build/spanwatch")
NS = "swclk%d" % os.getpid()
SID_STALL = 9200001

SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int (*real_cg)(clockid_t, struct timespec *);

int clock_gettime(clockid_t id, struct timespec *ts)
{
    if (!real_cg)
        real_cg = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    int rc = real_cg(id, ts);
    if (rc == 0 && id == CLOCK_REALTIME) {
        const char *f = getenv("SW_TEST_CLOCK_BACK");
        if (f && access(f, F_OK) == 0)
            ts->tv_sec -= 3600;
    }
    return rc;
}

static unsigned calls;

int pcap_stats(pcap_t *p, struct pcap_stat *st)
{
    int (*real_st)(pcap_t *, struct pcap_stat *) =
        (int (*)(pcap_t *, struct pcap_stat *))dlsym(RTLD_NEXT, "pcap_stats");
    int rc = real_st(p, st);
    if (rc == 0) {
        calls++;
        st->ps_recv = (u_int)(calls * 0x40000000u);
        st->ps_drop = 0;
        st->ps_ifdrop = 0;
    }
    return rc;
}
"""


def sh(*args, check=True):
    return subprocess.run(list(args), check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)


def events(path):
    out = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.strip():
                    out.append(json.loads(line))
    return out


def main():
    if os.geteuid() != 0 or not shutil.which("gcc"):
        print("SKIP: needs root and gcc")
        return 77
    try:
        sh("ip", "netns", "add", NS)
    except subprocess.CalledProcessError as e:
        print("SKIP: cannot create a network namespace: " + e.stderr.strip())
        return 77
    tmp = tempfile.mkdtemp(prefix="swclk")
    proc = None
    failed = 0
    try:
        sh("ip", "netns", "exec", NS, "ip", "link", "set", "lo", "up")
        shim_c = os.path.join(tmp, "clockback.c")
        shim_so = os.path.join(tmp, "clockback.so")
        with open(shim_c, "w") as f:
            f.write(SHIM)
        sh("gcc", "-shared", "-fPIC", "-O1", "-o", shim_so, shim_c, "-ldl")
        trigger = os.path.join(tmp, "step-back")
        cfg = os.path.join(tmp, "sw.yaml")
        with open(cfg, "w") as f:
            f.write("stats:\n  interval: 1s\nhealth:\n  stall-timeout: 30s\n"
                    "threading:\n  workers: 1\n")
        logdir = os.path.join(tmp, "log")
        os.mkdir(logdir)
        env = dict(os.environ)
        env["LD_PRELOAD"] = shim_so
        env["SW_TEST_CLOCK_BACK"] = trigger
        # the sanitizer build wants its runtime first; the shim does not care
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0").lstrip(":")
        proc = subprocess.Popen(["ip", "netns", "exec", NS, BIN, "-i", "lo", "-l", logdir,
                                 "-c", cfg, "-q"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        time.sleep(2.5)
        before = [e for e in events(os.path.join(logdir, "eve.json"))
                  if e.get("event_type") == "stats"]
        open(trigger, "w").close()
        time.sleep(4.5)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        proc = None
        evs = events(os.path.join(logdir, "eve.json"))
        stats = [e for e in evs if e.get("event_type") == "stats"]
        after = stats[len(before):]
        # the closing stats event is written at exit; count the periodic ones
        periodic_after = max(0, len(after) - 1)
        stalls = [e for e in evs if e.get("event_type") == "alert"
                  and e.get("alert", {}).get("signature_id") == SID_STALL]

        def check(name, cond, detail=""):
            nonlocal failed
            print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + detail))
            failed += 0 if cond else 1

        check("stats before the step", len(before) >= 1,
              "%d stats events; stderr %r" % (len(before), err[-500:]))
        check("stats every second after the wall clock stepped back",
              periodic_after >= 3, "%d periodic stats events in 4.5 s after the step"
              % periodic_after)
        check("no stall alert from a clock step", not stalls, json.dumps(stalls[:1]))
        kp = [e["stats"].get("capture", {}).get("kernel_packets") for e in stats]
        kp = [v for v in kp if v is not None]
        check("capture.kernel_packets never goes back",
              all(b >= a for a, b in zip(kp, kp[1:])), repr(kp))
        check("capture.kernel_packets counts past 2^32", kp and kp[-1] > 2**32, repr(kp))
    finally:
        if proc:
            proc.kill()
            proc.wait()
        sh("ip", "netns", "del", NS, check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    print("%s" % ("1 failed" if failed else "passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
