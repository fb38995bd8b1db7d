#!/usr/bin/env python3
"""Random TCP conversations: `glass trace --fields` must agree with tshark frame for frame.

usage: fuzz_vs_tshark.py PATH/TO/glass [--seeds N] [--first S] [--keep DIR]

Each seed writes a capture of a few interleaved connections whose segments are chosen at
random but shaped like TCP (handshakes, data, ACKs, duplicate ACKs, retransmissions of recent
segments, keep-alives, zero windows and probes, window updates, segments missing from the
capture, swapped segments, ACKs of unseen data, FINs, RSTs, window scaling, sequence numbers
near 2^32, port reuse with a new ISN, captures that start mid-connection), with the time gaps
that matter to Wireshark (around 3 ms and 20 ms). Both tools must give the same tcp.stream and
the same tcp.analysis flags for every frame (with --tshark-streams: a SYN that repeats its ISN
after a reset, reordered here now and then, stays in tshark's stream). Prints the seeds that
differ and exits 1, or exits 0. Needs tshark (scripts/deps.sh).
"""
import argparse
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

FIELDS = ["frame.number", "tcp.stream"] + ["tcp.analysis." + f for f in (
    "retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order",
    "lost_segment", "ack_lost_segment", "duplicate_ack_num", "zero_window",
    "zero_window_probe", "zero_window_probe_ack", "window_full", "window_update",
    "keep_alive", "keep_alive_ack", "reused_ports")]


def segment(src, sp, dst, dp, seq, ack, flags, win, payload, opts=b""):
    fl = sum(bit for ch, bit in zip("FSRPAU", (1, 2, 4, 8, 16, 32)) if ch in flags)
    tcp = struct.pack("!HHIIBBHHH", sp, dp, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      ((20 + len(opts)) // 4) << 4, fl, win, 0, 0) + opts + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, bytes(src),
                     bytes(dst))
    return ip + tcp


def syn_options(r):
    o = b""
    if r.random() < 0.7:
        o += struct.pack("!BBH", 2, 4, 1460)
    if r.random() < 0.6:
        o += struct.pack("!BBBB", 1, 3, 3, r.choice([0, 2, 7, 14, 15]))
    while len(o) % 4:
        o += b"\x01"
    return o


def generate(seed, path, nconn=6, steps=60):
    r = random.Random(seed)
    t = r.choice([0.0, 1.0, 1000.5])
    frames = []
    conns = []
    for i in range(nconn):
        conns.append(([10, 0, r.randint(0, 2), r.randint(1, 3)], r.choice([1000, 1001, 40000 + i, 80]),
                      [10, 1, 0, r.randint(1, 2)], r.choice([80, 443, 5000])))
    st = {}

    def send(ci, side, fl, seq, ack, pl=b"", win=None, opts=b""):
        nonlocal t
        a, pa, b, pb = conns[ci]
        if win is None:
            win = st[ci]["win"][side]
        src, sp, dst, dp = (a, pa, b, pb) if side == 0 else (b, pb, a, pa)
        t += r.choice([0.0, 0.0001, 0.001, 0.0029, 0.0031, 0.01, 0.019, 0.021, 0.1])
        frames.append((t, segment(src, sp, dst, dp, seq, ack, fl, win, pl, opts)))

    for ci in range(nconn):
        isn = [r.choice([r.getrandbits(32), 0, 0xFFFFFFFF - r.randint(0, 3000), 1]), r.getrandbits(32)]
        st[ci] = dict(nxt=list(isn), acked=list(isn), win=[r.choice([0, 1, 100, 1000, 65535]) for _ in range(2)],
                      phase=0, fin=[False, False], midstream=r.random() < 0.15, sent=[[], []])
    for _ in range(steps * nconn):
        ci = r.randrange(nconn)
        s = st[ci]
        side = r.randrange(2)
        o = 1 - side
        x = r.random()
        if s["phase"] == 0:
            if s["midstream"]:
                s["phase"] = 2
                s["nxt"] = [(n + 1) & 0xFFFFFFFF for n in s["nxt"]]
                continue
            send(ci, 0, "S", s["nxt"][0], r.choice([0, 0, 12345]), opts=syn_options(r))
            if r.random() < 0.1:
                send(ci, 0, "S", s["nxt"][0], 0, opts=syn_options(r))
            if r.random() < 0.1:
                send(ci, 1, "RA", 0, s["nxt"][0] + 1, win=0)
                s["phase"] = 9
                continue
            if r.random() < 0.1:
                s["phase"] = 9
                continue
            s["nxt"][0] += 1
            send(ci, 1, "SA", s["nxt"][1], s["nxt"][0], opts=syn_options(r))
            s["nxt"][1] += 1
            if r.random() < 0.9:
                send(ci, 0, "A", s["nxt"][0], s["nxt"][1])
            s["phase"] = 2
            continue
        if s["phase"] == 9:
            if r.random() < 0.3:  # the 4-tuple again, with new ISNs
                s.update(phase=0, fin=[False, False], sent=[[], []],
                         nxt=[(s["nxt"][0] + 1 + r.getrandbits(20)) & 0xFFFFFFFF, r.getrandbits(32)])
                s["acked"] = list(s["nxt"])
            continue
        if x < 0.35 and not s["fin"][side]:
            n = r.choice([1, 10, 100, 1000, 1448])
            if r.random() < 0.2 and s["win"][o] > 0:  # up to the window's edge
                n = max(1, (s["acked"][side] + s["win"][o] - s["nxt"][side]) & 0xFFFFFFFF)
                if n > 3000:
                    n = 100
            seg = (s["nxt"][side], n)
            s["sent"][side].append(seg)
            s["nxt"][side] = (s["nxt"][side] + n) & 0xFFFFFFFF
            if r.random() < 0.08:
                continue  # not captured
            send(ci, side, "PA", seg[0], s["nxt"][o], b"x" * n)
        elif x < 0.55:
            if r.random() < 0.7:
                s["acked"][o] = s["nxt"][o]
            if r.random() < 0.1:
                s["win"][side] = r.choice([0, 0, 1, 500, 65535])
            send(ci, side, "A", s["nxt"][side], s["acked"][o])
            if r.random() < 0.2:
                for _ in range(r.randint(1, 4)):
                    send(ci, side, "A", s["nxt"][side], s["acked"][o])
        elif x < 0.65 and s["sent"][side]:
            seg = r.choice(s["sent"][side][-5:])
            send(ci, side, "PA", seg[0], s["nxt"][o], b"x" * seg[1])
        elif x < 0.70:
            send(ci, side, "A", (s["nxt"][side] - 1) & 0xFFFFFFFF, s["nxt"][o], b"x" if r.random() < 0.5 else b"")
        elif x < 0.74:
            send(ci, side, "A", s["nxt"][side], s["nxt"][o], b"z")
        elif x < 0.78 and len(frames) >= 2:
            (ta, pa), (tb, pb) = frames[-2], frames[-1]
            frames[-2], frames[-1] = (ta, pb), (tb, pa)
        elif x < 0.83:
            if not s["fin"][side]:
                s["fin"][side] = True
                send(ci, side, "FA", s["nxt"][side], s["nxt"][o])
                s["nxt"][side] = (s["nxt"][side] + 1) & 0xFFFFFFFF
            else:
                send(ci, side, "FA", (s["nxt"][side] - 1) & 0xFFFFFFFF, s["nxt"][o])
            if all(s["fin"]) and r.random() < 0.5:
                send(ci, side, "A", s["nxt"][side], s["nxt"][o])
                s["phase"] = 9
        elif x < 0.86:
            send(ci, side, r.choice(["R", "RA"]),
                 r.choice([s["nxt"][side], s["nxt"][side] + 5, s["acked"][side]]), s["nxt"][o])
            if r.random() < 0.5:
                s["phase"] = 9
        elif x < 0.88:
            s["win"][side] = r.choice([100, 1000, 2000, 65535])
            send(ci, side, "A", s["nxt"][side], s["acked"][o])
        elif x < 0.90:
            send(ci, side, "A", s["nxt"][side], (s["nxt"][o] + r.choice([1, 100])) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 101))
        for ts, p in frames:
            sec = int(ts)
            f.write(struct.pack("<IIII", sec, int(round((ts - sec) * 1e9)) % 1000000000, len(p), len(p)) + p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("glass")
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--first", type=int, default=1)
    ap.add_argument("--keep", help="keep the captures of differing seeds in this directory")
    a = ap.parse_args()
    if shutil.which("tshark") is None:
        print("FAIL: tshark not found: run scripts/deps.sh")
        return 1
    work = tempfile.mkdtemp(prefix="glass-trace-fuzz.")
    bad = []
    frames = 0
    try:
        for seed in range(a.first, a.first + a.seeds):
            cap = os.path.join(work, f"seed{seed}.pcap")
            generate(seed, cap)
            ts = subprocess.run(["tshark", "-r", cap, "-o", "tcp.analyze_sequence_numbers:TRUE",
                                 "-T", "fields", "-E", "header=y", "-E", "separator=,"] +
                                [x for f in FIELDS for x in ("-e", f)],
                                capture_output=True, text=True, check=True).stdout
            gl = subprocess.run([a.glass, "trace", "--fields", "--tshark-streams", cap], capture_output=True,
                                text=True, check=True).stdout
            frames += ts.count("\n") - 1
            if ts != gl:
                tl, gll = ts.splitlines(), gl.splitlines()
                first = next((i for i, (x, y) in enumerate(zip(tl, gll)) if x != y), min(len(tl), len(gll)))
                bad.append(seed)
                print(f"seed {seed}: first difference at line {first}:\n  tshark {tl[first] if first < len(tl) else '(end)'}"
                      f"\n  glass  {gll[first] if first < len(gll) else '(end)'}")
                if a.keep:
                    os.makedirs(a.keep, exist_ok=True)
                    shutil.copy(cap, a.keep)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if bad:
        print(f"FAIL: {len(bad)} of {a.seeds} random captures differ from tshark: seeds {bad}")
        return 1
    print(f"ok: {a.seeds} random captures, {frames} frames, identical to tshark")
    return 0


if __name__ == "__main__":
    sys.exit(main())
