#!/usr/bin/env python3
"""TSO on output (docs/performance.md): glasstcp -> kernel over TUN with --offload. glasstcp
hands the kernel super-segments (VIRTIO_NET_HDR_GSO_TCPV4, several MSS in one datagram) and the
kernel's TCP takes them: an 8 MiB file over HTTP and 2 MiB from `glass connect` arrive byte for
byte, the device counts super-segments written (tx_gso), the stack counts every piece as a
segment (TcpOutSegs above the datagrams written), and the kernel never saw a bad checksum. With
--tso-max 0 nothing is written as a super-segment; without --offload (pieces cut before the
write) the file still arrives intact."""
import hashlib
import os
import socket
import subprocess
import threading

from glasslab import GLASS_ADDR, KERNEL_ADDR, Lab, check, recv_digest, wait_for


def kernel_csum_errors():
    """TcpInCsumErrors of the namespace we are in (/proc/net/snmp)."""
    with open("/proc/net/snmp") as f:
        lines = [l.split() for l in f if l.startswith("Tcp:")]
    return int(lines[1][lines[0].index("InCsumErrors")])


def http_get(path, size):
    """GET path from glass serve --http over one connection; the body."""
    s = socket.create_connection((GLASS_ADDR, 80), timeout=20)
    s.sendall(("GET /%s HTTP/1.1\r\nHost: glass\r\nConnection: close\r\n\r\n" % path).encode())
    buf = bytearray()
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        buf += b
    s.close()
    head, sep, body = bytes(buf).partition(b"\r\n\r\n")
    check(sep and head.startswith(b"HTTP/1.1 200"), "GET /%s: %r" % (path, head[:80]))
    check(len(body) == size, "GET /%s: %d bytes of body, want %d" % (path, len(body), size))
    return body


with Lab("tso-out") as lab:
    root = lab.path("www")
    os.mkdir(root)
    big = os.urandom(8 << 20)
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(big)

    # 1. --offload: super-segments to the kernel.
    srv = lab.serve("--port", "80", "--http", root, "--offload", "--sndbuf", "1048576")
    lab.enter()
    errs0 = kernel_csum_errors()
    i0 = srv.ctl("info")[0]
    check(i0.get("offload") is True and i0.get("tso_max") == 65535, "info: %r" % i0)
    body = http_get("big.bin", len(big))
    check(body == big, "8 MiB over HTTP with TSO: the body differs from the file")
    i = srv.ctl("info")[0]
    mib = srv.mib()
    check(i["tx_gso"] > 0, "no TSO super-segment written: %r" % i)
    written = i["tx_packets"] - i0["tx_packets"]
    check(mib["TcpOutSegs"] > i["tx_packets"] + i["tx_gso"],
          "TcpOutSegs %d does not count the pieces of %d super-segments (%d datagrams written)"
          % (mib["TcpOutSegs"], i["tx_gso"], written))
    # The datagrams written carried more than an MSS each on average: 8 MiB in fewer than
    # 8 MiB / 1448 writes.
    check(written < len(big) // 1448, "%d datagrams for 8 MiB: no fewer than MSS-sized" % written)
    check(kernel_csum_errors() == errs0, "the kernel counted TCP checksum errors")
    srv.stop()

    # 2. --tso-max 0: the same without super-segments.
    srv = lab.serve("--port", "80", "--http", root, "--offload", "--tso-max", "0", tag="notso")
    body = http_get("big.bin", len(big))
    check(body == big, "8 MiB over HTTP, --tso-max 0: the body differs")
    i = srv.ctl("info")[0]
    check(i["tx_gso"] == 0 and i["tso_max"] == 0, "--tso-max 0 still wrote super-segments: %r" % i)
    srv.stop()

    # 3. No --offload, --tso-max 65535: super-segments cut into summed pieces before the write.
    srv = lab.serve("--port", "80", "--http", root, "--tso-max", "65535", tag="soft")
    body = http_get("big.bin", len(big))
    check(body == big, "8 MiB over HTTP, TSO cut in software: the body differs")
    i = srv.ctl("info")[0]
    check(i["offload"] is False and i["tx_gso"] == 0, "info: %r" % i)
    check(kernel_csum_errors() == errs0, "the kernel counted TCP checksum errors (software cut)")
    srv.stop()

    # 4. glass connect --offload: stdin to a kernel server, FIN on the last piece.
    payload = os.urandom(2 << 20)
    src = lab.path("up.bin")
    with open(src, "wb") as f:
        f.write(payload)
    res = {"ready": threading.Event()}

    def sink():
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((KERNEL_ADDR, 5000))
        ls.listen(1)
        ls.settimeout(20)
        res["ready"].set()
        try:
            c, _ = ls.accept()
            c.settimeout(20)
            res["n"], res["hash"] = recv_digest(c)
            c.close()
        except OSError as e:
            res["error"] = e
        ls.close()

    t = threading.Thread(target=sink)
    t.start()
    res["ready"].wait(5)
    with open(src, "rb") as f:
        rc, err = lab.glass_cmd("connect", "--offload", KERNEL_ADDR, "5000", stdin=f,
                                stdout=subprocess.DEVNULL)
    t.join(30)
    check(rc == 0, "glass connect --offload exited %d: %s" % (rc, err))
    check("error" not in res, "server: %r" % res.get("error"))
    check(res.get("n") == len(payload) and res["hash"] == hashlib.sha256(payload).digest(),
          "kernel received %s bytes, want %d, identical" % (res.get("n"), len(payload)))
    check(kernel_csum_errors() == errs0, "the kernel counted TCP checksum errors (connect)")
