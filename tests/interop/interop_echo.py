#!/usr/bin/env python3
"""Kernel clients against `glass serve --echo`: 1 MiB and 100 MiB echoed byte for byte, then
100 connections at once; a clean shutdown on SIGINT removes the control socket."""
import hashlib
import os
import signal
import socket
import threading
import time

from glasslab import Lab, check, connect, recv_digest, wait_for

PORT = 7


def echo_transfer(n, chunk=1 << 20):
    """Send n pseudo-random bytes and read them back; True if every byte came back in order."""
    s = connect(PORT, timeout=60)
    block = os.urandom(chunk)
    sent_hash = hashlib.sha256()
    err = []

    def sender():
        try:
            left = n
            while left:
                b = block[: min(left, len(block))]
                s.sendall(b)
                sent_hash.update(b)
                left -= len(b)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)

    t = threading.Thread(target=sender)
    t0 = time.monotonic()
    t.start()
    got, got_digest = recv_digest(s)
    t.join()
    dt = time.monotonic() - t0
    s.close()
    check(not err, "send failed: %r" % err)
    check(got == n, "echoed %d bytes of %d" % (got, n))
    check(got_digest == sent_hash.digest(), "echoed bytes differ from the sent ones")
    return dt


with Lab("echo", budget=150) as lab:
    srv = lab.serve("--port", str(PORT), "--echo")
    lab.enter()
    for n in (1 << 20, 100 << 20):
        dt = echo_transfer(n)
        print("echo %d bytes: %.2f s, %.1f MB/s each way" % (n, dt, n / dt / 1e6), flush=True)

    # 100 concurrent connections, each 64 KiB in 4 KiB writes, all open at the same time.
    N, SIZE = 100, 64 << 10
    socks = [connect(PORT, timeout=30) for _ in range(N)]
    estab = wait_for(lambda: sum(c["state"] == "ESTABLISHED" for c in srv.conns()) >= N and N,
                     10, "100 ESTABLISHED connections in glass")
    check(estab == N, "not all connections established")
    errors = []

    def worker(i, s):
        try:
            data = bytes([i]) * SIZE
            got = bytearray()

            def rd():
                while len(got) < SIZE:
                    b = s.recv(65536)
                    if not b:
                        break
                    got.extend(b)

            r = threading.Thread(target=rd)
            r.start()
            for off in range(0, SIZE, 4096):
                s.sendall(data[off:off + 4096])
            r.join()
            if bytes(got) != data:
                errors.append("conn %d: %d bytes back, content %s" %
                              (i, len(got), "ok" if got == data[:len(got)] else "differs"))
            s.close()
        except OSError as e:
            errors.append("conn %d: %r" % (i, e))

    ts = [threading.Thread(target=worker, args=(i, s)) for i, s in enumerate(socks)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(not errors, "concurrent echo: " + "; ".join(errors[:5]))
    # every connection closes cleanly: nothing left but the listener
    wait_for(lambda: len(srv.conns()) == 1, 10, "glass to close all 100 connections")
    mib = srv.mib()
    check(mib["TcpPassiveOpens"] == N + 2, "TcpPassiveOpens %d, want %d" % (mib["TcpPassiveOpens"], N + 2))
    check(mib["TcpEstabResets"] == 0, "TcpEstabResets %d, want 0" % mib["TcpEstabResets"])
    check(mib["TcpExtIllegalArcs"] == 0, "illegal state arcs")

    rc = srv.stop(signal.SIGINT)
    check(rc == 0, "glass serve exited %s on SIGINT" % rc)
    check(not os.path.exists(srv.ctl_path), "control socket left behind")
