#!/usr/bin/env bash
# glass sim --pcap writes what tcpdump on the client's interface would capture; glass trace reads
# it back and infers both endpoints' states from the segments alone. The inferred sequences must
# be the ones the simulator's two stacks really went through (their recorded transitions, from
# --trace), for clean, lossy, reordering and two-way (simultaneous close) runs. The only
# difference allowed: the capture cannot see the 2MSL timer end TIME_WAIT.
# Not covered, because no capture can show it: a side that shuts down with data still queued
# is in FIN_WAIT_1 before its FIN is on the wire; if the peer's FIN arrives in between (e.g.
# `--duplex --loss 0.03 --seed 5`), the wire shows a passive close (docs/trace.md).
# Usage: pcap_roundtrip.sh GLASS
set -euo pipefail
glass=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for args in "--seed 1" "--loss 0.05 --seed 4" "--loss 0.1 --reorder 0.05 --seed 7" \
            "--duplex --seed 2"; do
    # shellcheck disable=SC2086
    "$glass" sim --bytes 200000 $args --pcap "$tmp/s.pcap" --trace --quiet \
        >/dev/null 2>"$tmp/sim.txt"
    "$glass" trace --json "$tmp/s.pcap" > "$tmp/t.json"
    python3 - "$tmp/t.json" "$tmp/sim.txt" "$args" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
args = sys.argv[3]
# The simulator's own transitions: "   0.010000 server: conn 2 LISTEN -> SYN_RCVD (rcv_syn)"
real = {}
for line in open(sys.argv[2]):
    m = re.match(r"\s*[\d.]+ (client|server): conn (\d+) (\w+) -> (\w+) \((\w+)\)", line)
    if m:
        real.setdefault((m.group(1), int(m.group(2))), []).append(m.group(4))
def conn_states(side):
    # the data connection, not the server's listener (which goes CLOSED -> LISTEN -> CLOSED)
    seqs = [s for (sd, _), s in sorted(real.items()) if sd == side and "LISTEN" not in s]
    assert len(seqs) == 1, "%s: %s connections %r" % (args, side, seqs)
    s = seqs[0]
    if len(s) >= 2 and s[-2:] == ["TIME_WAIT", "CLOSED"]:
        s = s[:-1]  # 2MSL ending TIME_WAIT leaves no trace on the wire
    return s
conns = d["connections"]
assert len(conns) == 1, "%s: %d connections" % (args, len(conns))
c = conns[0]
for side in ("client", "server"):
    inferred = [s["state"] for s in c[side + "_states"]]
    want = conn_states(side)
    assert inferred == want, "%s: %s inferred %s, the stack went %s" % (args, side, inferred, want)
print("ok %s: client %s | server %s" % (args, " ".join(conn_states("client")),
                                       " ".join(conn_states("server"))))
PY
done
