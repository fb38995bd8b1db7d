#!/usr/bin/env bash
# glass trace as a command: exit status (0 ok, 1 unreadable/corrupt capture, 2 usage), one
# line on stderr for errors, and each output mode on small captures made by
# bench/trace_gen.py (pcap and pcapng). No root or tshark needed.
#
# usage: tests/trace/cli_trace.sh PATH/TO/glass
set -uo pipefail

glass=${1:?usage: cli_trace.sh PATH/TO/glass}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
gen=$here/../../bench/trace_gen.py
work=$(mktemp -d "${TMPDIR:-/tmp}/glass-trace-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0

# expect EXIT_STATUS DESCRIPTION -- COMMAND...: run it, check the status, keep stdout/stderr.
expect() {
    local want=$1 what=$2
    shift 3
    "$@" >"$work/out" 2>"$work/err"
    local got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL: $what: exit $got, want $want; stderr: $(head -c 300 "$work/err")"
        failures=$((failures + 1))
        return 1
    fi
    if [ "$want" -ne 0 ] && [ "$(wc -l <"$work/err")" -ne 1 ]; then
        echo "FAIL: $what: want one line on stderr, got: $(cat "$work/err")"
        failures=$((failures + 1))
        return 1
    fi
    echo "ok: $what"
}
check() { # check DESCRIPTION COMMAND...: a test on the last outputs
    local what=$1
    shift
    if "$@"; then echo "ok: $what"; else
        echo "FAIL: $what"
        failures=$((failures + 1))
    fi
}

command -v python3 >/dev/null || { echo "FAIL: python3 not found: run scripts/deps.sh"; exit 1; }
python3 "$gen" --packets 5000 --concurrent 50 "$work/a.pcap" 2>/dev/null || { echo "FAIL: trace_gen.py"; exit 1; }
python3 "$gen" --packets 5000 --concurrent 50 --pcapng "$work/a.pcapng" 2>/dev/null || { echo "FAIL: trace_gen.py --pcapng"; exit 1; }

expect 2 "no file" -- "$glass" trace
expect 2 "unknown option" -- "$glass" trace --bogus "$work/a.pcap"
expect 2 "two files" -- "$glass" trace "$work/a.pcap" "$work/a.pcap"
expect 2 "two output modes" -- "$glass" trace --json --fields "$work/a.pcap"
expect 2 "--html without its file" -- "$glass" trace --html
expect 2 "bad --linger" -- "$glass" trace --linger 0 "$work/a.pcap"
expect 2 "bad --idle" -- "$glass" trace --idle soon "$work/a.pcap"
expect 0 "--help" -- "$glass" trace --help
check "--help shows the usage" grep -q "usage: glass trace" "$work/out"
expect 1 "missing file" -- "$glass" trace "$work/nope.pcap"
check "names the file" grep -q "nope.pcap" "$work/err"
printf 'this is not a capture file at all, sorry\n' >"$work/junk.pcap"
expect 1 "not a capture" -- "$glass" trace "$work/junk.pcap"

expect 0 "summary" -- "$glass" trace "$work/a.pcap"
check "summary header" grep -q "^stream  *client  *server  *duration" "$work/out"
check "summary totals" grep -q "a.pcap: 5[0-9]* frames, .* TCP/IPv4 segments, [0-9]* connections" "$work/out"
cp "$work/out" "$work/summary.pcap.txt"
expect 0 "--idle and --linger" -- "$glass" trace --idle 0.001 --linger 0.001 "$work/a.pcap"
check "short timeouts finalise more, and earlier" test "$(tail -1 "$work/out" | sed 's/.* \([0-9]*\) connections$/\1/')" -gt \
    "$(tail -1 "$work/summary.pcap.txt" | sed 's/.* \([0-9]*\) connections$/\1/')"
expect 0 "--tshark-streams" -- "$glass" trace --tshark-streams "$work/a.pcap"
check "same connections here" diff "$work/out" "$work/summary.pcap.txt"
expect 0 "pcapng" -- "$glass" trace "$work/a.pcapng"
check "pcapng gives the same connections" \
    diff <(sed 's/a.pcapng:/F:/' "$work/out") <(sed 's/a.pcap:/F:/' "$work/summary.pcap.txt")

expect 0 "--json" -- "$glass" trace --json "$work/a.pcap"
check "--json is one JSON object with the connections" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["packets"] >= 5000 and d["connection_count"] == len(d["connections"]) > 0
c = d["connections"][0]
assert c["stream"] == 0 and c["client_states"][0]["state"] == "SYN_SENT"
assert c["client_states"][0]["cause"] == "app_connect" and c["conn_state"]
assert [x["stream"] for x in d["connections"]] == sorted(x["stream"] for x in d["connections"])
' "$work/out"

expect 0 "--fields" -- "$glass" trace --fields "$work/a.pcap"
check "--fields has tshark's header and one row per frame" python3 -c '
import sys
rows = open(sys.argv[1]).read().splitlines()
assert rows[0].startswith("frame.number,tcp.stream,tcp.analysis.retransmission,")
assert rows[0].endswith(",tcp.analysis.keep_alive_ack,tcp.analysis.reused_ports")
assert all(len(r.split(",")) == 17 for r in rows)
assert [int(r.split(",")[0]) for r in rows[1:]] == list(range(1, len(rows)))
' "$work/out"

expect 0 "-v" -- "$glass" trace -v --absolute "$work/a.pcap"
check "-v draws ladders" grep -q "^tcp.stream 0: client" "$work/out"
check "-v names causes" grep -q "client:app_connect" "$work/out"

expect 0 "--html" -- "$glass" trace --html "$work/r.html" "$work/a.pcap"
check "--html writes a self-contained report" \
    python3 -c 'import sys; h = open(sys.argv[1]).read(); assert h.startswith("<!DOCTYPE html>") and "<svg" in h and "http://" not in h.replace("http://www.w3.org/2000/svg", "") and "https://" not in h' "$work/r.html"
expect 1 "--html into a missing directory" -- "$glass" trace --html "$work/no/such/dir/r.html" "$work/a.pcap"

# A capture cut in the middle of a record: what was read is reported, then exit 1.
size=$(stat -c %s "$work/a.pcap")
head -c $((size - 30)) "$work/a.pcap" >"$work/cut.pcap"
expect 1 "capture cut short" -- "$glass" trace "$work/cut.pcap"
check "still reports what it read" grep -q "cut.pcap: [0-9]* frames" "$work/out"

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all glass trace CLI checks passed"
