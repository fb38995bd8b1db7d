#!/usr/bin/env bash
# glass trace keeps connections in memory only while they are open or lingering (docs/trace.md
# "Memory and connection lifetime"): on sequential captures of 4x the size, with the same number
# of connections open at a time, the peak number of live connections the analyzer reports must
# stay small and the same, while the number of connections grows 4x. A behavioural check, not
# a timing: `peak_connections` of --json is the analyzer's own high-water mark of live records.
set -euo pipefail
glass=$1
gen=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../bench" && pwd)/trace_gen.py
tmp=$(mktemp -d /tmp/glass-trace-mem.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

declare -A peak count
for n in 50000 200000; do
    python3 "$gen" --packets "$n" --concurrent 20 --seed 3 "$tmp/c$n.pcap" > /dev/null
    read -r count[$n] peak[$n] < <("$glass" trace --json --linger 0.001 "$tmp/c$n.pcap" |
        python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["connection_count"], d["peak_connections"])')
    echo "$n packets: ${count[$n]} connections, at most ${peak[$n]} held at once"
done
[ "${count[200000]}" -ge $((3 * ${count[50000]})) ] || fail "the larger capture should have ~4x the connections"
for n in 50000 200000; do
    [ "${peak[$n]}" -le 80 ] || fail "$n packets: ${peak[$n]} connections held at once (20 open at a time)"
done
[ "${peak[200000]}" -le $((${peak[50000]} * 3 / 2)) ] || fail "the peak grew with the capture: ${peak[50000]} -> ${peak[200000]}"
echo "PASS"
