#!/usr/bin/env python3
"""glass ss against a live stack, and glass serve's captures (issue 7).

The kernel talks to `glass serve --echo --on-eof keep --pcap F --pcapng G`: two connections
echo, then one is closed by the kernel and left in CLOSE_WAIT by the application that never
closes. Live, through the control socket: the filters (`state close-wait`, `sport = :7 and
dst 192.0.2.1:PORT`), -i, -e, --history (rcv_fin with its segment), --diagnose
(close-wait-held, naming docs/troubleshooting.md), --save then --load giving the same table,
a bad filter (exit 2). After serve stops: tcpdump reads F, tshark reads G and every frame has
a comment with glass's state, the last FIN from the kernel leaving CLOSE_WAIT; glass trace
reads both."""
import os
import subprocess
import time

from glasslab import GLASS_ADDR, Lab, check, connect, wait_for


def run(*cmd):
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=30)


with Lab("ssc") as lab:
    pcap, pcapng = lab.path("serve.pcap"), lab.path("serve.pcapng")
    srv = lab.serve("--port", "7", "--echo", "--on-eof", "keep", "--pcap", pcap,
                    "--pcapng", pcapng)
    lab.enter()
    a, b = connect(7), connect(7)
    for s in (a, b):
        s.sendall(b"ping")
        check(s.recv(10) == b"ping", "no echo")
    pa, pb = a.getsockname()[1], b.getsockname()[1]
    a.close()  # the kernel closes first; glass's application never does
    wait_for(lambda: (srv.conn_to_port(pa) or {}).get("state") == "CLOSE_WAIT", 5,
             "glass in CLOSE_WAIT")
    time.sleep(1.2)  # held long enough for --diagnose (default --age 1 s)
    g, ctl = lab.glass, srv.ctl_path

    r = run(g, "ss", "--ctl", ctl, "state", "close-wait")
    rows = r.stdout.splitlines()
    check(r.returncode == 0 and len(rows) == 2 and rows[1].split()[0] == "CLOSE-WAIT" and
          rows[1].split()[4] == "192.0.2.1:%d" % pa, "state close-wait: %r" % r.stdout)
    r = run(g, "ss", "--ctl", ctl, "-i", "-e", "sport", "=", ":7", "and", "dst",
            "192.0.2.1:%d" % pb)
    out = r.stdout.splitlines()
    check(r.returncode == 0 and len(out) == 3 and out[1].startswith("ESTAB") and
          "rtt:" in out[2] and "bytes_received:4" in out[2] and " cid:" in out[1],
          "sport/dst filter with -i -e: %r" % r.stdout)
    r = run(g, "ss", "--ctl", ctl, "--history", "dport = :%d" % pa)
    check(r.returncode == 0 and "ESTABLISHED -> CLOSE_WAIT" in r.stdout and "rcv_fin" in r.stdout
          and "F. seq=" in r.stdout, "--history: %r" % r.stdout)
    r = run(g, "ss", "--ctl", ctl, "--diagnose")
    check(r.returncode == 0 and r.stdout.startswith("close-wait-held  CLOSE_WAIT %s:7 <-> "
                                                      "192.0.2.1:%d" % (GLASS_ADDR, pa))
          and "docs/troubleshooting.md#close-wait-held" in r.stdout
          and r.stdout.count("docs/troubleshooting.md#") == 1, "--diagnose: %r" % r.stdout)
    snap = lab.path("snap.txt")
    live = run(g, "ss", "--ctl", ctl, "-a", "--save", snap)
    saved = run(g, "ss", "--load", snap, "-a")
    check(live.returncode == 0 and live.stdout == saved.stdout and "LISTEN" in saved.stdout,
          "--save/--load differ:\n%s\n%s" % (live.stdout, saved.stdout))
    r = run(g, "ss", "--ctl", ctl, "sport", "=")
    check(r.returncode == 2 and r.stdout == "" and len(r.stderr.splitlines()) == 1 and
          r.stderr.startswith("glass ss: bad filter:"), "bad filter: %r" % r.stderr)

    b.close()
    check(srv.stop() == 0, "glass serve did not exit cleanly: %s" % srv.stderr())

    r = run("tcpdump", "-nr", pcap)
    check(r.returncode == 0 and r.stdout.count("Flags [S]") == 2 and
          r.stdout.count("Flags [F.]") >= 2, "tcpdump -r: %r %r" % (r.stdout, r.stderr))
    r = run("tshark", "-r", pcapng, "-T", "fields", "-e", "tcp.srcport", "-e", "tcp.flags.str",
            "-e", "frame.comment")
    frames = [l.split("\t") for l in r.stdout.splitlines()]
    check(r.returncode == 0 and len(frames) > 10 and all(f[2].startswith("glass ") for f in frames),
          "tshark comments: %r %r" % (r.stdout, r.stderr))
    fin_a = [f for f in frames if f[0] == str(pa) and "F" in f[1]]
    check(fin_a and fin_a[-1][2] == "glass CLOSE_WAIT", "kernel's FIN comment: %r" % fin_a)
    for f in (pcap, pcapng):
        r = run(g, "trace", f)
        check(r.returncode == 0 and "%s:7" % GLASS_ADDR in r.stdout, "glass trace %s: %r" % (f, r.stdout))
    os.remove(pcap)
    os.remove(pcapng)
