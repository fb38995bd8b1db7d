#!/usr/bin/env python3
"""Scaling figures of `glass serve --threads N` over a multi-queue TUN device, for
docs/sharding.md (not a test: it prints numbers).

    sudo python3 tests/interop/bench_shard.py build/glass [--runs N] [--seconds S] [--threads 1,2]

In a namespace made for the run (`glass lab up --multi-queue`, removed after it), for each
thread count:

  http      wrk -t2 -c20 for S seconds, keep-alive, a 606-byte file: requests/s
  crr       wrk -t2 -c20 with "Connection: close": every request a new connection; requests/s
  bulk      4 kernel connections at once each send 256 MiB to `glass serve --discard` and
            wait for the server's FIN (it closes once it has read everything); MB/s of payload
            from the first send to the last FIN; the server's rx_bytes must cover it all

Figures are medians of --runs runs with min..max, with the load average before and after.
The clients (wrk, the kernel) share the machine's cores with the shards.
"""
import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_tun import sh  # noqa: E402
from glasslab import _setns, ctl_query as ctl  # noqa: E402


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def wrk(ns, url, seconds, close):
    cmd = ["ip", "netns", "exec", ns, "wrk", "-t2", "-c20", "-d%ds" % seconds, url]
    if close:
        cmd[5:5] = ["-H", "Connection: close"]
    out = sh(*cmd)
    m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    if m is None:
        raise SystemExit("wrk said: " + out)
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    return float(m.group(1)), errs.group(0) if errs else ""


def bulk(ns, ctl_path, conns, nbytes):
    """conns kernel connections each sending nbytes to the discard server: MB/s."""
    block = os.urandom(1 << 20)
    rx0 = ctl(ctl_path, "info")[0]["rx_bytes"]
    root = os.open("/proc/self/ns/net", os.O_RDONLY)
    _setns("/run/netns/" + ns)
    socks = [socket.create_connection(("192.0.2.2", 9), timeout=30) for _ in range(conns)]
    _setns("/proc/self/fd/%d" % root)
    os.close(root)

    def send(s):
        left = nbytes
        while left:
            n = min(left, len(block))
            s.sendall(block[:n])
            left -= n
        s.shutdown(socket.SHUT_WR)
        s.recv(1)  # the server closes after our FIN: everything was read
        s.close()

    t0 = time.monotonic()
    th = [threading.Thread(target=send, args=(s,)) for s in socks]
    for t in th:
        t.start()
    for t in th:
        t.join()
    secs = time.monotonic() - t0
    got = ctl(ctl_path, "info")[0]["rx_bytes"] - rx0
    if got < conns * nbytes:
        raise SystemExit("bulk: the server got %d of %d bytes" % (got, conns * nbytes))
    return conns * nbytes / secs / 1e6


def fmt(vals, unit):
    m = statistics.median(vals)
    return "%.0f %s [%.0f..%.0f]" % (m, unit, min(vals), max(vals))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("glass")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--bulk-bytes", type=int, default=256 << 20)
    a = ap.parse_args()
    glass = os.path.abspath(a.glass)
    ns, tun = "glbs-%d" % os.getpid(), "gbs%d" % os.getpid()
    tmp = tempfile.mkdtemp(prefix="glass-bench-shard-")
    with open(os.path.join(tmp, "index.html"), "w") as f:
        f.write("x" * 606)
    sh(glass, "lab", "up", "--netns", ns, "--tun", tun, "--multi-queue")
    results = {}
    print("load average at start: %s" % load(), flush=True)
    try:
        for n in [int(x) for x in a.threads.split(",")]:
            for mode, args in (("http", ["--http", tmp, "--port", "80"]),
                               ("bulk", ["--discard", "--port", "9"])):
                ctl_path = os.path.join(tmp, "s.sock")
                cmd = [glass, "serve", "--netns", ns, "--tun", tun, "--ctl", ctl_path, "-q"] + args
                if n > 1:
                    cmd += ["--threads", str(n)]
                p = subprocess.Popen(cmd, stderr=subprocess.PIPE)
                for _ in range(100):
                    if os.path.exists(ctl_path):
                        break
                    time.sleep(0.05)
                time.sleep(0.2)
                try:
                    for k in range(a.runs):
                        if mode == "http":
                            v, e = wrk(ns, "http://192.0.2.2/index.html", a.seconds, False)
                            results.setdefault(("http", n), []).append(v)
                            v, e2 = wrk(ns, "http://192.0.2.2/index.html", a.seconds, True)
                            results.setdefault(("crr", n), []).append(v)
                            if e or e2:
                                print("  wrk errors (%d threads): %s %s" % (n, e, e2))
                        else:
                            results.setdefault(("bulk", n), []).append(
                                bulk(ns, ctl_path, 4, a.bulk_bytes))
                    if n > 1:
                        print("  %s, %d threads, per shard: %s" % (
                            mode, n, [(s["passive_opens"], s["rx_packets"])
                                      for s in ctl(ctl_path, "shards")]))
                finally:
                    p.terminate()
                    p.wait(10)
    finally:
        sh(glass, "lab", "down", "--netns", ns, "--tun", tun, check=False)
        subprocess.run(["rm", "-rf", tmp])
    print("load average at end: %s" % load())
    units = {"http": "req/s", "crr": "conn/s", "bulk": "MB/s"}
    for w in ("http", "crr", "bulk"):
        row = []
        for n in sorted({k[1] for k in results}):
            row.append("%d thread%s %s" % (n, "s" if n > 1 else "", fmt(results[(w, n)], units[w])))
        base = statistics.median(results[(w, 1)]) if (w, 1) in results else None
        sc = ""
        if base:
            sc = "; scaling " + ", ".join(
                "%.2fx" % (statistics.median(results[(w, n)]) / base)
                for n in sorted({k[1] for k in results}) if n > 1)
        print("%-5s %s%s" % (w, " | ".join(row), sc))


if __name__ == "__main__":
    main()
