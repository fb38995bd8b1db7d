#!/usr/bin/env python3
"""A path MTU smaller than the MSS still transfers correctly.

1. The kernel side's route to glass has `mtu lock 1000`: the kernel sends segments that fit
   1000 bytes although glass advertised an MSS of 1460; glass takes them.
2. Path MTU discovery (RFC 1191) through a router: glass's namespace forwards to a second one
   over a veth whose route says `mtu lock 1000`. glass sends full-sized segments with DF set;
   the router answers "fragmentation needed, MTU 1000"; glass validates it against the
   connection (RFC 5927), lowers the path MTU and the MSS, retransmits, and the transfers (an
   echo from the far side, and `glass connect` to a server there) complete byte for byte.

    glass 192.0.2.2/25 --TUN-- 192.0.2.1/25 [router ns] 192.0.2.129/25 --veth, route mtu 1000--
        192.0.2.130/25 [host ns]
"""
import hashlib
import os
import socket
import subprocess
import threading

from glasslab import GLASS_ADDR, Lab, check, connect, recv_digest, wait_for

SIZE = 2 << 20


def echo_exact(port, host=GLASS_ADDR):
    data = os.urandom(SIZE)
    s = connect(port, host=host, timeout=30)
    got = bytearray()

    def rd():
        while True:
            b = s.recv(1 << 16)
            if not b:
                break
            got.extend(b)

    t = threading.Thread(target=rd)
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join(30)
    s.close()
    check(bytes(got) == data, "echo: %d of %d bytes came back identical" % (len(got), SIZE))


with Lab("pmtu") as lab:
    # 1. kernel-side route MTU below glass's MSS
    srv = lab.serve("--port", "7", "--echo", tag="direct")
    lab.enter()
    lab.sh("ip", "route", "replace", "192.0.2.2/32", "dev", lab.tun, "mtu", "lock", "1000")
    echo_exact(7)
    srv.stop()

    # 2. PMTUD through a router
    r_ns, r_tun = lab.lab_up("r", addr="192.0.2.1/25")
    h_ns = lab.netns_add("h")
    lab.sh("ip", "-n", r_ns, "link", "add", "vr", "type", "veth", "peer", "name", "vh", "netns", h_ns)
    lab.sh("ip", "-n", r_ns, "addr", "add", "192.0.2.129/25", "dev", "vr")
    lab.sh("ip", "-n", r_ns, "link", "set", "vr", "up")
    lab.sh("ip", "-n", h_ns, "addr", "add", "192.0.2.130/25", "dev", "vh")
    lab.sh("ip", "-n", h_ns, "link", "set", "vh", "up")
    lab.sh("ip", "-n", h_ns, "route", "add", "default", "via", "192.0.2.129")
    lab.sh("ip", "netns", "exec", r_ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    lab.sh("ip", "-n", r_ns, "route", "replace", "192.0.2.128/25", "dev", "vr", "src",
           "192.0.2.129", "mtu", "lock", "1000")
    srv = lab.serve("--port", "7", "--echo", "--addr", "192.0.2.2/25", "--gateway", "192.0.2.1",
                    ns=r_ns, tun=r_tun, tag="routed")
    lab.enter(h_ns)
    echo_exact(7)
    mib = srv.mib()
    check(mib["IcmpInDestUnreachs"] >= 1, "no Fragmentation Needed reached glass")
    check(mib["TcpExtPmtuUpdates"] >= 1, "glass did not lower the path MTU: %r" %
          {k: v for k, v in mib.items() if k.startswith(("Icmp", "TcpExtPmtu", "TcpExtOut"))})
    check(mib["TcpExtOutOfWindowIcmps"] == 0, "ICMP refused as out of window")

    check(srv.stop() == 0, "glass serve did not exit 0")

    # glass connect (the client side, on the same device) to a server behind the router
    data = os.urandom(SIZE)
    ls = socket.socket()
    ls.bind(("192.0.2.130", 6000))
    ls.listen(1)
    ls.settimeout(20)
    got = {}

    def sink():
        c, _ = ls.accept()
        c.settimeout(20)
        got["n"], got["hash"] = recv_digest(c)
        c.close()

    t = threading.Thread(target=sink)
    t.start()
    src = lab.path("up.bin")
    with open(src, "wb") as f:
        f.write(data)
    with open(src, "rb") as f:
        rc, err = lab.glass_cmd("connect", "--addr", "192.0.2.2/25", "--gateway", "192.0.2.1",
                                "192.0.2.130", "6000", stdin=f, stdout=subprocess.DEVNULL,
                                ns=r_ns, tun=r_tun, tag="client")
    t.join(30)
    check(rc == 0, "glass connect exited %d: %s" % (rc, err))
    check(got.get("n") == SIZE and got["hash"] == hashlib.sha256(data).digest(),
          "the far server got %s bytes, want %d identical" % (got.get("n"), SIZE))
