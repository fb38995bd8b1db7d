#!/usr/bin/env python3
"""Benchmark figures for docs/network.md and the README (not a test: it prints numbers).

    sudo python3 tests/interop/bench_tun.py build/glass [--bytes N] [--runs N] [--seconds S]

Two setups, each in namespaces made for the run and removed after it:

  glass   the kernel (namespace L, 192.0.2.1) talks to glasstcp (192.0.2.2) over a TUN device
  kernel  the kernel talks to itself: namespace A (192.0.2.1) and namespace B (192.0.2.2)
          joined by a veth pair, MTU 1500 both

and three workloads:

  bulk    a 192.0.2.1 server sends N bytes (a repeated 1 MiB random block) to a client at
          192.0.2.2 that writes them to a pipe into cksum(1); the CRC and length must match
          (BENCHMARKING.md: verify every bulk run). Client: `glass connect` (without and with
          --offload: vnet headers, checksum offload and TSO from the kernel) / `socat`.
  send    the other way: a client at 192.0.2.2 reads the N bytes from a pipe and sends them to
          `socat` at 192.0.2.1, whose output goes into cksum(1). Client: `glass connect`
          (without and with --offload: TSO super-segments to the kernel) / `socat`.
  http    wrk -t1 -c10 for S seconds against a 606-byte file on 192.0.2.2: `glass serve --http`
          / nginx (worker_processes 1), keep-alive.

Figures are medians of --runs runs with min..max. glass runs on one thread (one core); the
kernel's receive path and nginx use what they need of the two cores.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from glasslab import _setns  # noqa: E402

BLOCK = 1 << 20


def sh(*cmd, check=True):
    r = subprocess.run(list(cmd), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise SystemExit("%s: %s" % (" ".join(cmd), r.stderr.strip()))
    return r.stdout


def expected_cksum(block, nbytes):
    p = subprocess.Popen(["cksum"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    left = nbytes
    while left:
        n = min(left, len(block))
        p.stdin.write(block[:n])
        left -= n
    p.stdin.close()
    return p.stdout.read().decode().split()[:2]


def sender(ns_fd_path, port, block, nbytes, ready):
    """In the server namespace: accept one client, send nbytes, close."""
    _setns(ns_fd_path)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("192.0.2.1", port))
    ls.listen(1)
    ready.set()
    c, _ = ls.accept()
    left = nbytes
    mv = memoryview(block)
    while left:
        n = min(left, len(block))
        c.sendall(mv[:n])
        left -= n
    c.close()
    ls.close()


def bulk_once(server_ns, client_cmd, port, block, nbytes, want):
    ready = threading.Event()
    t = threading.Thread(target=sender, args=("/run/netns/" + server_ns, port, block, nbytes,
                                              ready))
    t.start()
    ready.wait(10)
    t0 = time.monotonic()
    p1 = subprocess.Popen(client_cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    p2 = subprocess.run(["cksum"], stdin=p1.stdout, capture_output=True, text=True)
    cpu = reap(p1)
    dt = time.monotonic() - t0
    t.join(60)
    got = p2.stdout.split()[:2]
    if got != want:
        raise SystemExit("bulk run: cksum %r, want %r (client exit %s)" % (got, want,
                                                                          p1.returncode))
    CPU.setdefault(tuple(client_cmd[:1] + [a for a in client_cmd if a.startswith("--")]),
                   []).append(cpu / nbytes * 1e9)
    return nbytes / dt / 1e6


# CPU seconds per GB of the client process (user + system, from wait4), by command: the cost
# that the machine's other load does not change much, unlike the wall-clock rate.
CPU = {}


def reap(p):
    """Wait for p; its user + system CPU seconds (`ip netns exec` execs the program)."""
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return ru.ru_utime + ru.ru_stime


def feed(pipe, block, nbytes):
    left = nbytes
    mv = memoryview(block)
    try:
        while left:
            n = min(left, len(block))
            pipe.write(mv[:n])
            left -= n
    finally:
        pipe.close()


def send_once(server_ns, client_cmd, port, block, nbytes, want):
    """client_cmd reads nbytes from its stdin and sends them to socat on 192.0.2.1:port."""
    rcv = subprocess.Popen(["ip", "netns", "exec", server_ns, "socat", "-u", "-b", "262144",
                            "TCP-LISTEN:%d,reuseaddr,bind=192.0.2.1" % port, "STDOUT"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    ck = subprocess.Popen(["cksum"], stdin=rcv.stdout, stdout=subprocess.PIPE, text=True)
    rcv.stdout.close()
    time.sleep(0.3)  # the listener is up
    t0 = time.monotonic()
    snd = subprocess.Popen(client_cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    t = threading.Thread(target=feed, args=(snd.stdin, block, nbytes))
    t.start()
    out = ck.communicate(timeout=300)[0]
    dt = time.monotonic() - t0
    t.join(60)
    cpu = reap(snd)
    rcv.wait(30)
    got = out.split()[:2]
    if got != want:
        raise SystemExit("send run: cksum %r, want %r (client exit %s)" % (got, want,
                                                                          snd.returncode))
    CPU.setdefault(tuple(["send"] + client_cmd[:1] + [a for a in client_cmd
                                                       if a.startswith("--")]),
                   []).append(cpu / nbytes * 1e9)
    return nbytes / dt / 1e6


def wrk_once(ns, url, seconds):
    out = sh("ip", "netns", "exec", ns, "wrk", "-t1", "-c10", "-d%ds" % seconds, url)
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    if m is None or errs is not None:
        raise SystemExit("wrk: " + out)
    return float(m.group(1))


def fmt(vals, unit):
    return "%.0f %s (%.0f..%.0f)" % (statistics.median(vals), unit, min(vals), max(vals))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("glass")
    ap.add_argument("--bytes", type=int, default=1 << 30)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--only", choices=["bulk", "send", "http"], action="append",
                    help="run only these workloads (repeatable; default all)")
    ap.add_argument("--glass-args", default="",
                    help="extra options for glass connect in bulk/send (e.g. '--sndbuf 1048576')")
    a = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root")
    only = a.only or ["bulk", "send", "http"]
    for tool in ("ip", "socat", "cksum") + (("wrk", "nginx") if "http" in only else ()):
        if shutil.which(tool) is None:
            raise SystemExit("needs %s" % tool)
    glass = os.path.abspath(a.glass)
    tag = "glb-%d" % os.getpid()
    L, A, B = tag + "-l", tag + "-a", tag + "-b"
    tun = "gb%d" % os.getpid()
    tmp = tempfile.mkdtemp(prefix="glass-bench-")
    procs = []
    try:
        sh(glass, "lab", "up", "--netns", L, "--tun", tun)
        for ns in (A, B):
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", A, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", B)
        sh("ip", "-n", A, "addr", "add", "192.0.2.1/24", "dev", "va")
        sh("ip", "-n", B, "addr", "add", "192.0.2.2/24", "dev", "vb")
        sh("ip", "-n", A, "link", "set", "va", "up")
        sh("ip", "-n", B, "link", "set", "vb", "up")

        block = os.urandom(BLOCK)
        want = expected_cksum(block, a.bytes)
        extra = a.glass_args.split()
        glass_rx, glass_off_rx, kern_rx = [], [], []
        glass_tx, glass_off_tx, kern_tx = [], [], []
        def glass_connect(offload, port):
            """glass connect to 192.0.2.1:port through the TUN device, with or without offload."""
            return ([glass, "connect", "-q"] + (["--offload"] if offload else []) +
                    ["--netns", L, "--tun", tun, "--ctl", os.path.join(tmp, "c.sock")] + extra +
                    ["192.0.2.1", str(port)])

        for i in range(a.runs if "send" in only else 0):
            glass_tx.append(send_once(L, glass_connect(False, 7300 + i), 7300 + i, block,
                                      a.bytes, want))
            glass_off_tx.append(send_once(L, glass_connect(True, 7400 + i), 7400 + i, block,
                                          a.bytes, want))
            kern_tx.append(send_once(
                A, ["ip", "netns", "exec", B, "socat", "-u", "-b", "262144", "STDIN",
                    "TCP:192.0.2.1:%d" % (7500 + i)], 7500 + i, block, a.bytes, want))
        for i in range(a.runs if "bulk" in only else 0):
            glass_rx.append(bulk_once(L, glass_connect(False, 7000 + i), 7000 + i, block,
                                      a.bytes, want))
            glass_off_rx.append(bulk_once(L, glass_connect(True, 7200 + i), 7200 + i, block,
                                          a.bytes, want))
            kern_rx.append(bulk_once(
                A, ["ip", "netns", "exec", B, "socat", "-u", "-b", "262144",
                    "TCP:192.0.2.1:%d" % (7100 + i), "STDOUT"], 7100 + i, block, a.bytes, want))

        if "send" in only:
            print("send %d bytes, cksum verified, %d runs: median (min..max)" % (a.bytes, a.runs))
            print("  glass -> kernel over TUN:   %s" % fmt(glass_tx, "MB/s"))
            print("  ... with --offload (TSO):   %s" % fmt(glass_off_tx, "MB/s"))
            print("  kernel -> kernel over veth: %s" % fmt(kern_tx, "MB/s"))
        if "bulk" in only:
            print("bulk %d bytes, cksum verified, %d runs: median (min..max)" % (a.bytes, a.runs))
            print("  kernel -> glass over TUN:   %s" % fmt(glass_rx, "MB/s"))
            print("  ... with --offload (TSO):   %s" % fmt(glass_off_rx, "MB/s"))
            print("  kernel -> kernel over veth: %s" % fmt(kern_rx, "MB/s"))
        for k, v in CPU.items():
            print("  CPU s/GB of the client, %s: %s" % (" ".join(os.path.basename(x) for x in k),
                                                        "%.2f (%.2f..%.2f)" % (
                                                            statistics.median(v), min(v), max(v))))
        if "http" not in only:
            return
        www = os.path.join(tmp, "www")
        os.mkdir(www)
        with open(os.path.join(www, "index.html"), "w") as f:
            f.write("<!DOCTYPE html>\n" + "<p>glasstcp benchmark page</p>\n" * 19 + "\n")
        size = os.path.getsize(os.path.join(www, "index.html"))
        g = subprocess.Popen([glass, "serve", "-q", "--netns", L, "--tun", tun, "--ctl",
                              os.path.join(tmp, "s.sock"), "--port", "80", "--http", www])
        procs.append(g)
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write("user root root; daemon off; worker_processes 1; pid %s/nginx.pid; error_log %s/err.log;\n"
                    "events { worker_connections 256; }\n"
                    "http { access_log off; keepalive_requests 1000000;\n"
                    "  server { listen 192.0.2.2:80; root %s; } }\n" % (tmp, tmp, www))
        n = subprocess.Popen(["ip", "netns", "exec", B, "nginx", "-c", conf, "-p", tmp])
        procs.append(n)
        time.sleep(1)
        glass_rps, kern_rps = [], []
        for _ in range(a.runs):
            glass_rps.append(wrk_once(L, "http://192.0.2.2/index.html", a.seconds))
            kern_rps.append(wrk_once(A, "http://192.0.2.2/index.html", a.seconds))

        print("wrk -t1 -c10 -d%ds, %d-byte file, keep-alive, %d runs" % (a.seconds, size, a.runs))
        print("  glass serve --http over TUN: %s" % fmt(glass_rps, "req/s"))
        print("  nginx over veth:             %s" % fmt(kern_rps, "req/s"))
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        sh(glass, "lab", "down", "--netns", L, "--tun", tun, check=False)
        for ns in (A, B):
            sh("ip", "netns", "del", ns, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
