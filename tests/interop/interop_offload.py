#!/usr/bin/env python3
"""`glass serve --offload`: vnet headers, checksum offload and TSO with the kernel. A kernel
client sends 8 MiB to the discard server and 1 MiB to the echo server: the kernel hands over
TSO super-segments (larger than the MTU) and unsummed checksums, glasstcp sends partial
checksums that the kernel completes; every byte comes back identical, and a datagram with a
checksum the kernel did not vouch for is still checked (the stack counts no checksum error on a
clean run). Then the same device without --offload works again (offloads reset on open)."""
import os
import socket
import subprocess

from glasslab import Lab, check, connect, wait_for

with Lab("offload") as lab:
    srv = lab.serve("--port", "9", "--discard", "--offload")
    lab.enter()

    def info():
        return srv.ctl("info")[0]

    check(info().get("offload") is True, "info: offload is not on: %r" % info())
    blob = os.urandom(8 << 20)
    c = connect(9)
    c.sendall(blob)
    c.shutdown(socket.SHUT_WR)
    c.settimeout(20)
    check(c.recv(1) == b"", "discard server sent data")
    c.close()
    wait_for(lambda: info()["rx_bytes"] >= len(blob), 10, "8 MiB at the stack")
    i = info()
    check(i["rx_gso"] > 0, "no TSO super-segment arrived: %r" % i)
    check(i["rx_csum_trusted"] > 0, "no datagram with a kernel-vouched checksum: %r" % i)
    mib = srv.mib()
    check(mib.get("TcpInCsumErrors", 0) == 0, "checksum errors: %r" % mib.get("TcpInCsumErrors"))
    srv.stop()

    # Echo with offload: what glasstcp sends (partial checksums) must reach the kernel intact.
    srv = lab.serve("--port", "7", "--echo", "--offload", tag="echo")
    payload = os.urandom(1 << 20)
    c = connect(7)
    c.settimeout(20)
    got = bytearray()
    c.sendall(payload)
    c.shutdown(socket.SHUT_WR)
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        got += b
    c.close()
    check(bytes(got) == payload, "echo with --offload: %d bytes back, identical %s"
          % (len(got), bytes(got) == payload))
    srv.stop()

    # The device again without --offload: the kernel must not send offloaded packets any more.
    srv = lab.serve("--port", "7", "--echo", tag="plain")
    c = connect(7)
    c.settimeout(20)
    c.sendall(payload[:200000])
    got = bytearray()
    while len(got) < 200000:
        b = c.recv(1 << 16)
        if not b:
            break
        got += b
    c.close()
    check(bytes(got) == payload[:200000], "echo without offload after an offload run")
    check(srv.ctl("info")[0].get("offload") is False, "offload still on")
