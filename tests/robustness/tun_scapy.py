#!/usr/bin/env python3
"""Catalogue cases over the real TUN driver: `glass serve` runs in a namespace this test makes
(tests/interop/glasslab.py), and packets crafted with scapy are written to the TUN device from
the kernel side (a packet socket, so that even a bad IPv4 checksum reaches the stack as made).
For each case the test sniffs what the stack answers and reads its counters with
`glass nstat --json --drops`. A real kernel connection to the echo server is the target of the
in-window cases and must still echo at the end.

Usage: tun_scapy.py PATH/TO/glass   (root; exit 77 = skipped, see glasslab.py)
"""
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
from glasslab import GLASS_ADDR, KERNEL_ADDR, Lab, check, connect, log, skip  # noqa: E402

try:
    import logging

    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    from scapy.all import ICMP, IP, TCP, Raw, conf  # noqa: E402
except ImportError as e:  # scripts/deps.sh installs python3-scapy
    skip("scapy is not installed for %s: %s" % (sys.executable, e))

conf.verb = 0


class Wire:
    """Inject raw IPv4 datagrams into the TUN device and collect what the stack sends back,
    through one packet socket bound to the device (scapy crafts and dissects; its own sniffer
    and senders resolve interfaces in the namespace the process started in)."""

    def __init__(self, lab):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.sock.bind((lab.tun, 0))
        self.sock.setblocking(False)
        self.seen = []  # every IPv4 datagram on the device, both ways, as scapy IP

    def _drain(self):
        new = []
        while True:
            try:
                b = self.sock.recv(65535)
            except BlockingIOError:
                return new
            if b[:1] and b[0] >> 4 == 4:
                new.append(IP(b))

    def pkts(self):
        self.seen += self._drain()
        return self.seen

    def inject(self, pkt, settle=0.3):
        """Write pkt (bytes, sent as they are) and return the datagrams from the stack
        (source 192.0.2.2) in the next `settle` seconds."""
        self.pkts()
        self.sock.send(pkt)
        time.sleep(settle)
        new = self._drain()
        self.seen += new
        return [p for p in new if p.src == GLASS_ADDR]

    def stop(self):
        self.sock.close()


def nstat(lab, srv):
    r = subprocess.run([lab.glass, "nstat", "--ctl", srv.ctl_path, "--json", "-z", "--drops"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, "glass nstat: %s" % r.stderr)
    return json.loads(r.stdout)["kernel"]


def built(p):
    """The bytes of a scapy packet with every checksum and length computed."""
    return bytes(p.__class__(bytes(p)))


cases = []


def case(num, what):
    def deco(fn):
        cases.append((num, what, fn))
        return fn
    return deco


with Lab("scapy", budget=150) as lab:
    srv = lab.serve("--port", "7", "--echo")
    lab.enter()
    w = Wire(lab)
    # the healthy connection, and the numbers it is at (from one echoed byte)
    conn = connect(7)
    conn.sendall(b"a")
    check(conn.recv(10) == b"a", "no echo")
    time.sleep(0.3)
    lport = conn.getsockname()[1]
    data = [p for p in w.pkts() if p.haslayer(TCP) and p[IP].src == GLASS_ADDR and
            p[TCP].dport == lport and len(p[TCP].payload) > 0]
    check(data, "did not see the echoed byte on the TUN device")
    last = data[-1][TCP]
    rcv_nxt = last.ack                          # the stack's RCV.NXT
    snd_nxt = last.seq + len(last.payload)      # the stack's SND.NXT

    def to_conn(flags, seq, ack=0, payload=b""):
        return built(IP(src=KERNEL_ADDR, dst=GLASS_ADDR) /
                     TCP(sport=lport, dport=7, flags=flags, seq=seq, ack=ack, window=65535) /
                     payload)

    def syn(dport=7, sport=40001, **tcp):
        return IP(src=KERNEL_ADDR, dst=GLASS_ADDR) / TCP(sport=sport, dport=dport, flags="S",
                                                          seq=1000, **tcp)

    def no_answer(ans, what):
        check(not ans, "%s: answered with %s" % (what, [a.summary() for a in ans]))


    @case(12, "bad IPv4 header checksum: no answer, IP_CSUM")
    def _():
        p = bytearray(built(syn()))
        p[10] ^= 0x55
        no_answer(w.inject(bytes(p)), "bad IP checksum")
        return ("IP_CSUM", 1), ("IpInHdrErrors", 1)

    @case(60, "bad TCP checksum: no RST, no SYN,ACK; TCP_CSUM, TcpInCsumErrors")
    def _():
        p = bytearray(built(syn()))
        p[36] ^= 0x55
        no_answer(w.inject(bytes(p)), "bad TCP checksum")
        return ("TCP_CSUM", 1), ("TcpInCsumErrors", 1)

    @case(63, "SYN to a closed port: RST,ACK <SEQ=0><ACK=SEG.SEQ+1>")
    def _():
        ans = w.inject(built(syn(dport=81)))
        check(len(ans) == 1 and ans[0][TCP].flags == "RA" and ans[0][TCP].ack == 1001,
              "RST,ACK expected: %s" % [a.summary() for a in ans])
        return ("NO_SOCKET", 1), ("TcpOutRsts", 1)

    @case(83, "in-window RST that is not exact: challenge ACK, connection lives")
    def _():
        ans = w.inject(to_conn("R", rcv_nxt + 100))
        check(len(ans) == 1 and ans[0][TCP].flags == "A" and ans[0][TCP].ack == rcv_nxt and
              ans[0][TCP].seq == snd_nxt, "challenge ACK expected: %s" %
              [a.summary() for a in ans])
        return ("TcpExtTCPChallengeACK", 1),

    @case(83, "RST beyond the window: dropped silently")
    def _():
        no_answer(w.inject(to_conn("R", rcv_nxt + 10_000_000)), "out-of-window RST")
        return ("TCP_RST_NOT_ACCEPTABLE", 1),

    @case(82, "SYN on the live 4-tuple: challenge ACK")
    def _():
        time.sleep(0.6)  # past the per-connection challenge-ACK interval
        ans = w.inject(to_conn("S", rcv_nxt + 5))
        check(len(ans) == 1 and ans[0][TCP].flags == "A" and ans[0][TCP].ack == rcv_nxt,
              "challenge ACK expected: %s" % [a.summary() for a in ans])
        return ("TcpExtTCPSYNChallenge", 1),

    @case(98, "ACK of data never sent: ACK and drop")
    def _():
        time.sleep(0.6)
        ans = w.inject(to_conn("A", rcv_nxt, ack=snd_nxt + 100000))
        check(len(ans) <= 1 and all(a[TCP].flags == "A" for a in ans), "at most an ACK: %s" %
              [a.summary() for a in ans])
        return ("TCP_ACK_UNSENT_DATA", 1),

    @case(81, "SYN+FIN to the listener: dropped")
    def _():
        p = syn(sport=40002)
        p[TCP].flags = "SF"
        no_answer(w.inject(built(p)), "SYN+FIN")
        return ("TCP_FLAGS", 1),

    @case(58, "TCP data offset 4: dropped")
    def _():
        p = syn(sport=40003)
        p[TCP].dataofs = 4
        no_answer(w.inject(built(p)), "doff 4")
        return ("TCP_HDR", 1),

    @case(90, "LAND: SYN from our own address and port")
    def _():
        p = IP(src=GLASS_ADDR, dst=GLASS_ADDR) / TCP(sport=7, dport=7, flags="S", seq=5)
        no_answer(w.inject(built(p)), "LAND")
        return ("IP_INHDR", 1),

    @case(42, "ICMP shorter than 8 bytes: dropped")
    def _():
        p = IP(src=KERNEL_ADDR, dst=GLASS_ADDR, proto=1) / Raw(b"\x08\x00\x00")
        no_answer(w.inject(built(p)), "3-byte ICMP")
        return ("PKT_TOO_SMALL", 1),

    @case(16, "echo request with TTL 0: answered (RFC 1122 §3.2.1.7)")
    def _():
        ans = w.inject(built(IP(src=KERNEL_ADDR, dst=GLASS_ADDR, ttl=0) / ICMP(id=9, seq=1) /
                             b"ttl zero"))
        check(len(ans) == 1 and ans[0].haslayer(ICMP) and ans[0][ICMP].type == 0,
              "echo reply expected: %s" % [a.summary() for a in ans])
        return ()

    @case(65, "SYN with a zero-length option: kept, SYN,ACK")
    def _():
        ans = w.inject(built(syn(sport=40004, options=[(8, b"")])))
        check(any(a.haslayer(TCP) and a[TCP].flags == "SA" for a in ans),
              "SYN,ACK expected: %s" % [a.summary() for a in ans])
        # the kernel has no socket for port 40004 and resets the half-open connection
        return ()

    failures = 0
    for num, what, fn in cases:
        before = nstat(lab, srv)
        try:
            want = fn()
            after = nstat(lab, srv)
            for name, n in want:
                d = after.get(name, 0) - before.get(name, 0)
                check(d >= n, "%s moved by %d, want %d" % (name, d, n))
            log("ok   cat%03d %s" % (num, what))
        except Exception as e:  # report every case, fail at the end
            failures += 1
            log("FAIL cat%03d %s: %s" % (num, what, e))
    # the healthy connection still echoes
    conn.sendall(b"still here")
    got = b""
    conn.settimeout(5)
    while len(got) < 10:
        got += conn.recv(100)
    check(got == b"still here", "the connection no longer echoes: %r" % got)
    conn.close()
    w.stop()
    log("%d passed, %d failed" % (len(cases) - failures, failures))
    check(failures == 0, "%d of %d cases failed" % (failures, len(cases)))
