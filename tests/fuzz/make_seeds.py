#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

Seeds are small, valid starting points that libFuzzer mutates: well-formed packets for
`wire`, operation lists that take the connections of `stack` through their states, and
application/link scripts for `sim`. Re-run after changing an input format:
    python3 tests/fuzz/make_seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip(src, dst, proto, payload, frag=0, ident=1, opts=b""):
    hl = 20 + len(opts)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | hl // 4, 0, hl + len(payload), ident, frag, 64,
                    proto, 0, bytes(src), bytes(dst)) + opts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def tcp(src, dst, sport, dport, seq, ack, flags, opts=b"", data=b"", win=65535):
    hl = 20 + len(opts)
    t = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (hl // 4) << 4, flags, win, 0, 0)
    t += opts + data
    pseudo = bytes(src) + bytes(dst) + struct.pack("!BBH", 0, 6, len(t))
    c = csum(pseudo + t)
    return t[:16] + struct.pack("!H", c) + t[18:]


A = [192, 0, 2, 1]
B = [192, 0, 2, 2]
SYN, FIN, RST, PSH, ACK, URG = 2, 1, 4, 8, 16, 32
SYNOPTS = bytes([2, 4, 5, 0xB4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7])


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def wire():
    write("wire", "syn_options", ip(A, B, 6, tcp(A, B, 40000, 80, 1, 0, SYN, SYNOPTS)))
    write("wire", "data_psh", ip(A, B, 6, tcp(A, B, 40000, 80, 2, 9, PSH | ACK, data=b"hello")))
    sack = bytes([1, 1, 5, 18]) + struct.pack("!IIII", 100, 200, 300, 400)
    write("wire", "ack_sack", ip(A, B, 6, tcp(A, B, 40000, 80, 2, 9, ACK, opts=sack)))
    write("wire", "rst", ip(A, B, 6, tcp(A, B, 40000, 80, 2, 0, RST)))
    echo = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"x" * 32
    echo = echo[:2] + struct.pack("!H", csum(echo)) + echo[4:]
    write("wire", "icmp_echo", ip(A, B, 1, echo))
    write("wire", "fragment", ip(A, B, 6, tcp(A, B, 1, 2, 3, 4, ACK)[:8], frag=0x2000))
    write("wire", "ip_options", ip(A, B, 6, tcp(A, B, 1, 80, 3, 4, SYN), opts=bytes([7, 7, 4, 0, 0, 0, 0, 0])))


# stack: one byte per operation (op % 10), then its arguments (see fuzz_stack.c)
def seg(which, flags, dseq=0, dack=0, win=65535, opts=b"", plen=0, scale=0, urg=0, port=0):
    assert len(opts) % 4 == 0
    return (bytes([0, which]) + struct.pack("!HBhhBHHB", port, flags, dseq, dack, scale, win, urg,
                                             len(opts) // 4) + opts + bytes([plen]))


def t(b):
    return bytes([5, b])


def app(b, arg=b""):
    return bytes([7, b]) + arg


def stack():
    write("stack", "passive_data", seg(0, ACK | PSH, plen=100) + t(20) + seg(0, ACK | FIN) + t(200))
    write("stack", "active_synack", seg(2, SYN | ACK, dack=0) + seg(2, ACK | PSH, plen=50) + t(10))
    write("stack", "listener_syns", seg(1, SYN, port=1234, opts=SYNOPTS) +
          seg(1, SYN, port=1235) + seg(1, ACK, port=1234, dack=1) + t(0x85))
    write("stack", "rst_sweep", seg(0, RST, dseq=1) + seg(0, RST, dseq=-1) + seg(0, RST))
    write("stack", "app_close", app(1 | (0 << 1), struct.pack("!H", 3000)) + t(50) +
          seg(0, ACK, dack=1000) + app(1 | (3 << 1)) + t(0x90) + seg(0, FIN | ACK))
    write("stack", "ooo", seg(0, ACK, dseq=100, plen=10) + seg(0, ACK, dseq=300, plen=10) +
          seg(0, ACK, dseq=0, plen=100) + bytes([4, 0]) + seg(0, ACK, plen=200)[2:])
    icmp = bytes([8, 0]) + struct.pack("!HBBHh", 0, 1, 3, 576, 0)
    write("stack", "icmp", icmp + bytes([8, 2]) + struct.pack("!HBBHh", 0, 6, 3, 0, 0))
    write("stack", "urgent", seg(0, ACK | URG | PSH, plen=10, urg=0xFFFF) + t(3))
    write("stack", "zero_window", seg(0, ACK, win=0) + app(0, struct.pack("!H", 5000)) + t(0xA0) * 3)


# sim: 10 config bytes (seed u32, loss, dup, reorder, corrupt, jitter, options), then ops
def sim():
    cfg = struct.pack("!I", 7) + bytes([0, 0, 0, 0, 0, 0x07])
    run = lambda ms: bytes([14, ms // 4])
    connect = bytes([0])
    send = lambda side, n: bytes([2 | side]) + struct.pack("!H", n)
    read = lambda side: bytes([4 | side])
    shut = lambda side: bytes([6 | side])
    close = lambda side: bytes([8 | side])
    write("sim", "transfer_close", cfg + connect + run(100) + send(0, 20000) + run(200) +
          read(1) + send(1, 5000) + run(200) + read(0) + close(0) + run(100) + read(1) + close(1))
    lossy = struct.pack("!I", 9) + bytes([10, 3, 10, 2, 5, 0x0B])
    write("sim", "lossy", lossy + connect + run(100) + send(0, 60000) + run(400) + read(1) +
          run(400) + read(1) + shut(0) + run(200) + read(1) + close(1) + run(200) + close(0))
    drop = bytes([12, 3, FIN, 2])
    write("sim", "drop_fins", cfg + connect + run(100) + drop + close(0) + run(100) +
          close(1) + run(255))
    write("sim", "abort", cfg + connect + run(100) + send(1, 1000) + bytes([10, 0]) + run(100))
    small = struct.pack("!I", 3) + bytes([0, 0, 0, 0, 0, 0x1F])
    write("sim", "zero_window", small + connect + run(100) + send(0, 30000) + run(255) * 4 +
          read(1) + run(255) + read(1) + close(0) + close(1))


if __name__ == "__main__":
    wire()
    stack()
    sim()
