#!/usr/bin/env python3
"""ping the stack: echo replies (RFC 792), unfragmented and fragmented both ways (a 3000-byte
ping is reassembled by glass and its reply fragmented to the MTU), and what the stack counted."""
import errno
import shutil
import subprocess

from glasslab import GLASS_ADDR, Lab, check, skip

with Lab("ping") as lab:
    if shutil.which("ping") is None:
        skip("'ping' not installed (iputils-ping)")
    srv = lab.serve("--port", "7", "--discard")
    lab.enter()
    for size in (56, 1472, 3000):
        r = subprocess.run(["ping", "-c", "3", "-i", "0.2", "-W", "2", "-s", str(size), GLASS_ADDR],
                           capture_output=True, text=True, timeout=20)
        check(r.returncode == 0 and " 0% packet loss" in r.stdout,
              "ping -s %d %s:\n%s%s" % (size, GLASS_ADDR, r.stdout, r.stderr))
    mib = srv.mib()
    check(mib["IcmpInEchos"] == 9, "IcmpInEchos %d, want 9" % mib["IcmpInEchos"])
    check(mib["IcmpOutEchoReps"] == 9, "IcmpOutEchoReps %d, want 9" % mib["IcmpOutEchoReps"])
    check(mib["IpReasmOKs"] == 3, "IpReasmOKs %d, want 3 (the 3000-byte pings)" % mib["IpReasmOKs"])
    check(mib["IpFragOKs"] == 3, "IpFragOKs %d, want 3 (their replies)" % mib["IpFragOKs"])
    # a protocol nobody speaks gets Protocol Unreachable: the kernel reports it to a raw socket
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 253)
    s.connect((GLASS_ADDR, 0))
    s.send(b"x" * 16)
    s.settimeout(2)
    try:
        s.recv(100)
        check(False, "no error for an unknown protocol")
    except OSError as e:
        # Linux reports ICMP protocol unreachable as ENOPROTOOPT on a connected raw socket
        check(e.errno == errno.ENOPROTOOPT, "unknown protocol gave %r, want ENOPROTOOPT" % e)
    check(srv.mib()["IcmpOutDestUnreachs"] == 1, "IcmpOutDestUnreachs not 1")
    check(srv.stop() == 0, "glass serve did not exit 0 on SIGTERM")
