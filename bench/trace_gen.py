#!/usr/bin/env python3
"""Write a large synthetic TCP capture for benchmarking `glass trace` (docs/trace.md).

usage: bench/trace_gen.py [--packets N] [--concurrent C] [--seed S] [--snaplen L] [--pcapng]
                         OUT

Classic pcap (or pcapng with --pcapng), LINKTYPE_RAW (IPv4), microsecond timestamps. C connections are open at any
time, their segments interleaved; each connection is a handshake, a random number of data
segments each way with their ACKs, and a close (FIN both ways, or now and then an RST), after
which a new connection takes its slot. About 1 % of the segments are impaired the way real
captures are: a retransmission, a pair of duplicate ACKs followed by a fast retransmission,
a zero window and its update, a keep-alive and its ACK, a segment missing from the capture,
two segments swapped. Frames are cut at the snap length (default 54 bytes: the IPv4 and TCP
headers), as `tcpdump -s 54` would, so the file stays small; the IP total length keeps the
real segment length. Checksums are left 0 (as with checksum offload). The output depends
only on the arguments.
"""
import argparse
import random
import struct
import sys

LINKTYPE_RAW = 101
MSS = 1448


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packets", type=int, default=10_000_000)
    ap.add_argument("--concurrent", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--snaplen", type=int, default=54)
    ap.add_argument("--pcapng", action="store_true", help="write pcapng instead of pcap")
    ap.add_argument("out")
    a = ap.parse_args()
    if a.packets < 0 or a.concurrent < 1 or a.snaplen < 40:
        ap.error("want --packets >= 0, --concurrent >= 1, --snaplen >= 40")
    rnd = random.Random(a.seed)

    out = open(a.out, "wb")
    if a.pcapng:
        # Section Header Block, one Interface Description Block (microseconds by default).
        out.write(struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1) +
                  struct.pack("<I", 28))
        out.write(struct.pack("<IIHHII", 1, 20, LINKTYPE_RAW, 0, a.snaplen, 20))
    else:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, a.snaplen, LINKTYPE_RAW))
    hdr = struct.Struct("<IIII")
    epb = struct.Struct("<IIIIIII")
    iptcp = struct.Struct("!BBHHHBBH4s4sHHIIBBHHH")
    buf = bytearray()
    t_us = 1_700_000_000 * 1_000_000
    written = 0

    def emit(src, sport, dst, dport, seq, ack, flags, win, length):
        nonlocal written, t_us
        t_us += 1 + (rnd.getrandbits(4) == 0) * 50
        total = 40 + length
        cap = min(total, a.snaplen)
        pad = (-cap) % 4 if a.pcapng else 0
        if a.pcapng:  # Enhanced Packet Block
            blen = 32 + cap + pad
            buf.extend(epb.pack(6, blen, 0, t_us >> 32, t_us & 0xFFFFFFFF, cap, total))
        else:
            buf.extend(hdr.pack(t_us // 1_000_000, t_us % 1_000_000, cap, total))
        pkt = iptcp.pack(0x45, 0, total, 0, 0x4000, 64, 6, 0, src, dst, sport, dport,
                         seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, win, 0, 0)
        buf.extend(pkt[:cap])
        if cap > 40:
            buf.extend(bytes(cap - 40))
        if a.pcapng:
            buf.extend(bytes(pad))
            buf.extend(struct.pack("<I", blen))
        written += 1
        if len(buf) > 1 << 20:
            out.write(buf)
            buf.clear()

    FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
    server = bytes([192, 0, 2, 80])
    next_client = [0]

    def new_conn():
        n = next_client[0]
        next_client[0] += 1
        cip = bytes([10, (n >> 16) & 0xFF, (n >> 8) & 0xFF, 1 + (n & 0x7F)])
        # a fresh 4-tuple for ~8 million connections, then ports come round again (reuse)
        port = 1024 + (n * 7919) % 64000
        return {"c": cip, "cp": port, "s": server, "sp": 443, "cseq": rnd.getrandbits(32),
                "sseq": rnd.getrandbits(32), "phase": 0,
                "left": rnd.choice((1, 2, 4, 8, 16, 40)), "sent_c": 0, "sent_s": 0}

    conns = [new_conn() for _ in range(a.concurrent)]
    while written < a.packets:
        i = rnd.randrange(len(conns))
        k = conns[i]
        c, cp, s, sp = k["c"], k["cp"], k["s"], k["sp"]
        ph = k["phase"]
        if ph == 0:
            emit(c, cp, s, sp, k["cseq"], 0, SYN, 64240, 0)
            k["phase"] = 1
        elif ph == 1:
            emit(s, sp, c, cp, k["sseq"], k["cseq"] + 1, SYN | ACK, 65160, 0)
            k["cseq"] += 1
            k["sseq"] += 1
            k["phase"] = 2
        elif ph == 2:
            emit(c, cp, s, sp, k["cseq"], k["sseq"], ACK, 502, 0)
            k["phase"] = 3
        elif ph == 3:
            # one data segment one way or the other, then its ACK
            r = rnd.random()
            to_server = rnd.getrandbits(1) == 0
            L = rnd.choice((100, 536, MSS, MSS, MSS))
            if to_server:
                a1, p1, a2, p2, sk, rk = c, cp, s, sp, "cseq", "sseq"
            else:
                a1, p1, a2, p2, sk, rk = s, sp, c, cp, "sseq", "cseq"
            seq = k[sk]
            if r < 0.004:  # missing from the capture, then acknowledged
                k[sk] += L
                emit(a2, p2, a1, p1, k[rk], k[sk], ACK, 502, 0)
            elif r < 0.008:  # retransmitted after a while
                emit(a1, p1, a2, p2, seq, k[rk], PSH | ACK, 502, L)
                emit(a1, p1, a2, p2, seq, k[rk], PSH | ACK, 502, L)
                k[sk] += L
                emit(a2, p2, a1, p1, k[rk], k[sk], ACK, 502, 0)
            elif r < 0.010:  # two dup ACKs, fast retransmission
                emit(a1, p1, a2, p2, seq + L, k[rk], PSH | ACK, 502, L)
                emit(a2, p2, a1, p1, k[rk], seq, ACK, 502, 0)
                emit(a2, p2, a1, p1, k[rk], seq, ACK, 502, 0)
                emit(a2, p2, a1, p1, k[rk], seq, ACK, 502, 0)
                emit(a1, p1, a2, p2, seq, k[rk], PSH | ACK, 502, L)
                k[sk] += 2 * L
                emit(a2, p2, a1, p1, k[rk], k[sk], ACK, 502, 0)
            elif r < 0.012:  # zero window, then its update
                emit(a1, p1, a2, p2, seq, k[rk], PSH | ACK, 502, L)
                k[sk] += L
                emit(a2, p2, a1, p1, k[rk], k[sk], ACK, 0, 0)
                emit(a2, p2, a1, p1, k[rk], k[sk], ACK, 502, 0)
            elif r < 0.014:  # keep-alive and its ACK
                emit(a1, p1, a2, p2, seq - 1, k[rk], ACK, 502, 0)
                emit(a2, p2, a1, p1, k[rk], seq, ACK, 502, 0)
            elif r < 0.016:  # two segments swapped
                emit(a1, p1, a2, p2, seq + L, k[rk], PSH | ACK, 502, L)
                emit(a1, p1, a2, p2, seq, k[rk], PSH | ACK, 502, L)
                k[sk] += 2 * L
                emit(a2, p2, a1, p1, k[rk], k[sk], ACK, 502, 0)
            else:
                emit(a1, p1, a2, p2, seq, k[rk], PSH | ACK, 502, L)
                k[sk] += L
                emit(a2, p2, a1, p1, k[rk], k[sk], ACK, 502, 0)
            k["left"] -= 1
            if k["left"] <= 0:
                k["phase"] = 4
        elif ph == 4:
            if rnd.random() < 0.05:  # abort
                emit(c, cp, s, sp, k["cseq"], k["sseq"], RST | ACK, 0, 0)
                conns[i] = new_conn()
            else:
                emit(c, cp, s, sp, k["cseq"], k["sseq"], FIN | ACK, 502, 0)
                k["cseq"] += 1
                k["phase"] = 5
        elif ph == 5:
            emit(s, sp, c, cp, k["sseq"], k["cseq"], FIN | ACK, 502, 0)
            k["sseq"] += 1
            k["phase"] = 6
        else:
            emit(c, cp, s, sp, k["cseq"], k["sseq"], ACK, 502, 0)
            conns[i] = new_conn()
    out.write(buf)
    out.close()
    print(f"{a.out}: {written} packets, {next_client[0]} connections "
          f"({a.concurrent} at a time)", file=sys.stderr)


if __name__ == "__main__":
    main()
