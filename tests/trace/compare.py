#!/usr/bin/env python3
"""Compare `glass trace` with tshark on the capture made by traffic.py.

usage: compare.py TSHARK_FIELDS.csv GLASS_FIELDS.csv GLASS.json TSHARK_COMPLETENESS.tsv LOG.json

1. `glass trace --fields` and `tshark -T fields` (the field list of CONVENTIONS.md) must agree
   row for row: frame number, tcp.stream and every tcp.analysis flag.
2. The number of connections must agree (tshark's tcp.stream count, glass's JSON).
3. tshark's tcp.completeness of each stream (SYN-ACK, FIN and RST seen) must agree with glass's
   per-connection history.
4. Each scenario of traffic.py must end in the states RFC 9293 gives it (glass's inference:
   final states of both sides, Zeek conn_state, causes), and the scenarios meant to produce
   Wireshark flags (zero window, keep-alive, reused ports) must have produced them.
Prints what differs and exits 1, or prints a summary and exits 0.
"""
import csv
import json
import sys


def rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def main():
    ts_path, gl_path, json_path, comp_path, log_path = sys.argv[1:6]
    problems = []
    ts, gl = rows(ts_path), rows(gl_path)
    if not ts or not gl or ts[0] != gl[0]:
        problems.append(f"header differs:\n  tshark {ts[:1]}\n  glass  {gl[:1]}")
    if len(ts) != len(gl):
        problems.append(f"tshark has {len(ts) - 1} frames, glass {len(gl) - 1}")
    diffs = [(t, g) for t, g in zip(ts[1:], gl[1:]) if t != g]
    for t, g in diffs[:20]:
        cols = [ts[0][i] for i in range(min(len(t), len(g))) if t[i] != g[i]]
        problems.append(f"frame {t[0]}: {', '.join(cols)}: tshark {t} glass {g}")
    if len(diffs) > 20:
        problems.append(f"... {len(diffs) - 20} more differing frames")

    with open(json_path) as f:
        report = json.load(f)
    conns = report["connections"]
    ts_streams = {r[1] for r in ts[1:] if r[1] != ""}
    gl_streams = {r[1] for r in gl[1:] if r[1] != ""}
    if not (len(ts_streams) == len(gl_streams) == report["connection_count"] == len(conns)):
        problems.append(f"connection counts: tshark {len(ts_streams)}, glass fields "
                        f"{len(gl_streams)}, glass json {report['connection_count']}/{len(conns)}")

    # tcp.completeness: 2 = SYN-ACK, 16 = FIN, 32 = RST seen in the stream.
    completeness = {}
    with open(comp_path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                completeness[int(parts[0])] = int(parts[1])
    by_stream = {c["stream"]: c for c in conns}
    for stream, bits in sorted(completeness.items()):
        c = by_stream.get(stream)
        if c is None:
            problems.append(f"tcp.stream {stream}: not in glass's report")
            continue
        h = c["history"]
        for bit, letters, what in ((2, "Hh", "SYN-ACK"), (16, "Ff", "FIN"), (32, "Rr", "RST")):
            if bool(bits & bit) != any(ch in h for ch in letters):
                problems.append(f"tcp.stream {stream}: tshark completeness {bits} vs glass "
                                f"history {h} disagree on {what}")

    with open(log_path) as f:
        log = json.load(f)
    problems += [f"traffic: {e}" for e in log["errors"]]

    def conns_of(port):
        return sorted((c for c in conns if c["client"] == f"127.0.0.1:{port}"),
                      key=lambda c: c["stream"])

    def causes(c, side):
        return [s["cause"] for s in c[side + "_states"]]

    def expect(name, c, cond, what):
        if not cond:
            problems.append(f"{name} (tcp.stream {c['stream']}): expected {what}; got client "
                            f"{c['client_state']} {causes(c, 'client')}, server "
                            f"{c['server_state']} {causes(c, 'server')}, {c['conn_state']} "
                            f"{c['history']}, anomalies {c['anomalies']}")

    seen = set()
    for sc in log["scenarios"]:
        name, ports = sc["name"], sc["client_ports"]
        cs = [c for p in dict.fromkeys(ports) for c in conns_of(p)]
        seen.add(name)
        if len(cs) != len(ports):
            problems.append(f"{name}: {len(ports)} connection(s) expected from client ports "
                            f"{ports}, glass found {len(cs)}")
            continue
        c = cs[0]
        st = (c["client_state"], c["server_state"], c["conn_state"])
        an = c["anomalies"]
        if name == "normal":
            expect(name, c, st == ("TIME_WAIT", "CLOSED", "SF"), "TIME_WAIT/CLOSED, SF")
        elif name == "server_close":
            expect(name, c, st == ("CLOSED", "TIME_WAIT", "SF"), "CLOSED/TIME_WAIT, SF")
        elif name == "linger_rst":
            expect(name, c, st == ("CLOSED", "CLOSED", "RSTO") and
                   causes(c, "client")[-1] == "app_abort" and
                   causes(c, "server")[-1] == "rcv_rst", "app_abort / rcv_rst, RSTO")
        elif name == "refused":
            expect(name, c, st == ("CLOSED", "CLOSED", "REJ") and
                   causes(c, "client") == ["app_connect", "rcv_rst"], "REJ")
        elif name == "half_close":
            expect(name, c, st == ("TIME_WAIT", "CLOSED", "SF") and
                   "app_shutdown_wr" in causes(c, "client"), "shutdown(SHUT_WR), then SF")
        elif name == "zero_window":
            expect(name, c, c["conn_state"] == "SF" and "tcp.analysis.zero_window" in an and
                   "tcp.analysis.window_update" in an, "zero window and window update, SF")
        elif name == "keepalive":
            expect(name, c, c["conn_state"] == "SF" and "tcp.analysis.keep_alive" in an and
                   "tcp.analysis.keep_alive_ack" in an, "keep-alives and their ACKs, SF")
        elif name == "port_reuse":
            old, new = cs
            expect(name, old, old["server_state"] == "CLOSED" and
                   causes(old, "server")[-1] == "reused_by_syn",
                   "the server's TIME_WAIT taken over by the new SYN (reused_by_syn)")
            expect(name, new, new["conn_state"] == "SF" and
                   "tcp.analysis.reused_ports" in new["anomalies"], "reused_ports, SF")
        elif name == "half_open":
            expect(name, c, st == ("FIN_WAIT_2", "CLOSE_WAIT", "S2") and
                   "glass.trace.half_closed" in an, "FIN_WAIT_2/CLOSE_WAIT, S2, half-closed")
        else:
            problems.append(f"unknown scenario {name}")
    missing = {"normal", "server_close", "linger_rst", "refused", "half_close", "zero_window",
               "keepalive", "port_reuse", "half_open"} - seen
    if missing:
        problems.append(f"scenarios that did not run: {sorted(missing)}")

    if problems:
        print("glass trace and tshark disagree, or the inferred states are wrong:")
        for p in problems:
            print("  " + p)
        return 1
    flagged = sum(1 for r in ts[1:] if any(r[2:]))
    print(f"ok: {len(ts) - 1} frames, {len(ts_streams)} connections, {flagged} frames with "
          f"tcp.analysis flags, identical in tshark and glass; {len(log['scenarios'])} "
          f"scenarios in their expected states")
    return 0


if __name__ == "__main__":
    sys.exit(main())
