#!/usr/bin/env bash
# glass trace against tshark on real kernel traffic over loopback.
#
# usage: tests/trace/trace_vs_tshark.sh PATH/TO/glass [WORKDIR]
#
# Captures headers (snap length 128: tshark and glass both take segment lengths from the IP
# header) with tcpdump on lo, a filter on the ports this script picks, while traffic.py runs
# its scenarios between Linux sockets on 127.0.0.1 (transfer, close from either side, RST by
# SO_LINGER 0, refused connect, half-close, zero window, keep-alive, port reuse, a connection
# left half-open), then compares `glass trace --fields` with tshark's fields row by row, the
# connection counts, tshark's tcp.completeness with glass's histories, and glass's inferred
# final states with what each scenario must end in (compare.py). Exits 0 on agreement, 1 on a
# difference, 77 (skipped) when it cannot capture: not root. The needed tools come from
# scripts/deps.sh. Everything stays on 127.0.0.1 and ends within about 30 s.
set -uo pipefail

glass=${1:?usage: trace_vs_tshark.sh PATH/TO/glass [WORKDIR]}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
skip() {
    echo "SKIP: $*"
    if [ "${GLASS_REQUIRE_NETNS:-0}" = 1 ]; then
        echo "GLASS_REQUIRE_NETNS=1: a skip is a failure"
        exit 1
    fi
    exit 77
}
fail() {
    echo "FAIL: $*"
    exit 1
}

[ "$(id -u)" -eq 0 ] || skip "capturing on lo needs root (tcpdump)"
for tool in tcpdump tshark python3 timeout; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool not found: run scripts/deps.sh"
done
[ -x "$glass" ] || fail "no glass binary at $glass"

keep=${GLASS_KEEP:-0}   # GLASS_KEEP=1, or a WORKDIR, keeps the capture and the outputs
[ -n "${2:-}" ] && keep=1
work=${2:-$(mktemp -d "${TMPDIR:-/tmp}/glass-trace-test.XXXXXX")}
mkdir -p "$work"
tcpdump_pid= traffic_pid=
cleanup() {
    [ -n "$traffic_pid" ] && kill "$traffic_pid" 2>/dev/null
    [ -n "$tcpdump_pid" ] && kill "$tcpdump_pid" 2>/dev/null
    [ "$keep" = 1 ] || rm -rf "$work"
}
trap 'cleanup' EXIT

# Three free ports: the server, the small-window server, and one nobody listens on.
read -r port zport refused < <(python3 - <<'PY'
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
PY
) || fail "could not pick free ports"

pcap=$work/loopback.pcap
timeout 60 tcpdump -i lo -n -U --immediate-mode -B 16384 -s 128 -w "$pcap" \
    "tcp and host 127.0.0.1 and (port $port or port $zport or port $refused)" \
    2>"$work/tcpdump.err" &
tcpdump_pid=$!
for _ in $(seq 100); do
    grep -q "listening on" "$work/tcpdump.err" 2>/dev/null && break
    kill -0 "$tcpdump_pid" 2>/dev/null || break
    sleep 0.05
done
grep -q "listening on" "$work/tcpdump.err" 2>/dev/null ||
    skip "tcpdump cannot capture on lo: $(head -c 300 "$work/tcpdump.err")"

timeout 40 python3 "$here/traffic.py" "$port" "$zport" "$refused" "$work/log.json" \
    "$work/done" "$work/stop" >"$work/traffic.out" 2>&1 &
traffic_pid=$!
for _ in $(seq 400); do
    [ -e "$work/done" ] && break
    kill -0 "$traffic_pid" 2>/dev/null || break
    sleep 0.05
done
[ -e "$work/done" ] || fail "traffic.py did not finish: $(tail -5 "$work/traffic.out")"
sleep 1                        # let the last segments reach the capture
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid"
tcpdump_pid=
touch "$work/stop"             # now the half-open connection may close
wait "$traffic_pid"
traffic_rc=$?
traffic_pid=
[ "$traffic_rc" -eq 0 ] || fail "traffic.py failed ($traffic_rc): $(tail -5 "$work/traffic.out")"

fields=(-e frame.number -e tcp.stream -e tcp.analysis.retransmission
    -e tcp.analysis.fast_retransmission -e tcp.analysis.spurious_retransmission
    -e tcp.analysis.out_of_order -e tcp.analysis.lost_segment -e tcp.analysis.ack_lost_segment
    -e tcp.analysis.duplicate_ack_num -e tcp.analysis.zero_window
    -e tcp.analysis.zero_window_probe -e tcp.analysis.zero_window_probe_ack
    -e tcp.analysis.window_full -e tcp.analysis.window_update -e tcp.analysis.keep_alive
    -e tcp.analysis.keep_alive_ack -e tcp.analysis.reused_ports)
tshark -r "$pcap" -o tcp.analyze_sequence_numbers:TRUE -T fields -E header=y -E separator=, \
    "${fields[@]}" >"$work/tshark.csv" 2>"$work/tshark.err" || fail "tshark: $(cat "$work/tshark.err")"
# Two passes (-2): each frame then shows its stream's final completeness.
tshark -2 -r "$pcap" -T fields -e tcp.stream -e tcp.completeness 2>/dev/null |
    awk 'NF == 2 { last[$1] = $2 } END { for (s in last) print s, last[s] }' >"$work/completeness.txt"
"$glass" trace --fields "$pcap" >"$work/glass.csv" || fail "glass trace --fields failed"
"$glass" trace --json "$pcap" >"$work/glass.json" || fail "glass trace --json failed"
"$glass" trace -v "$pcap" >"$work/glass-ladder.txt" || fail "glass trace -v failed"

python3 "$here/compare.py" "$work/tshark.csv" "$work/glass.csv" "$work/glass.json" \
    "$work/completeness.txt" "$work/log.json"
rc=$?
if [ "$rc" -ne 0 ]; then
    echo "capture and outputs kept in $work (glass trace -v: glass-ladder.txt)"
    trap - EXIT
    [ -n "$traffic_pid" ] && kill "$traffic_pid" 2>/dev/null
fi
exit "$rc"
