#!/usr/bin/env bash
# --pcapng (tools/glass/pcapw.c, our own writer: libpcap cannot write pcapng) read back by
# tshark and by glass trace: glass sim, glass demo and glass pkt. Every frame carries a comment
# with the states it left behind; the comments must follow the state machine (the SYN leaves
# the client in SYN_SENT and the server in LISTEN, the client's first FIN leaves it in
# FIN_WAIT_1, the last frame, the client's ACK of the server's FIN, leaves the client in
# TIME_WAIT and the server in LAST_ACK: it has passed the capture point, not reached the
# server); tshark must see the same frames as glass trace, and
# the same frames as the classic --pcap written alongside. Needs tshark; skips (77) without it.
set -euo pipefail
glass=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
command -v tshark > /dev/null || { echo "SKIP: no tshark"; exit 77; }
tmp=$(mktemp -d /tmp/glass-pcapng.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
fields() { tshark -r "$1" -T fields -E separator='|' -e frame.number -e tcp.srcport -e tcp.flags.str -e frame.comment 2> /dev/null; }

# glass sim: both sides' states
"$glass" sim --bytes 30000 --loss 0.05 --seed 4 --pcap "$tmp/s.pcap" --pcapng "$tmp/s.pcapng" --quiet
fields "$tmp/s.pcapng" > "$tmp/s.txt"
n=$(wc -l < "$tmp/s.txt")
[ "$n" -gt 20 ] || fail "sim: only $n frames"
[ "$(tshark -r "$tmp/s.pcap" 2> /dev/null | wc -l)" -eq "$n" ] || fail "sim: pcap and pcapng differ in frames"
grep -vqE '\|client [A-Z_0-9]+, server [A-Z_0-9]+$' "$tmp/s.txt" && fail "sim: a frame without a state comment: $(grep -vE '\|client [A-Z_0-9]+, server [A-Z_0-9]+$' "$tmp/s.txt" | head -1)"
head -1 "$tmp/s.txt" | grep -qE '\|··········S·\|client SYN_SENT, server LISTEN$' || fail "sim: first frame $(head -1 "$tmp/s.txt")"
# the client's first FIN (from its ephemeral port, not the server's 5201)
fin=$(grep -vE '^[0-9]+\|5201\|' "$tmp/s.txt" | grep -E '\|·······A.*F\|' | head -1)
echo "$fin" | grep -q 'client FIN_WAIT_1' || fail "sim: the client's FIN: $fin"
tail -1 "$tmp/s.txt" | grep -qE '\|·······A····\|client TIME_WAIT, server LAST_ACK$' || fail "sim: last frame $(tail -1 "$tmp/s.txt")"
"$glass" trace "$tmp/s.pcapng" > "$tmp/t.txt"
grep -q "$n frames, $n TCP/IPv4 segments, 1 connections" "$tmp/t.txt" || fail "sim: glass trace: $(cat "$tmp/t.txt")"
grep -q "TIME_WAIT   CLOSED      SF" "$tmp/t.txt" || fail "sim: glass trace final states: $(cat "$tmp/t.txt")"

# glass demo: every scenario one after the other
"$glass" demo --pcapng "$tmp/d.pcapng" > /dev/null
fields "$tmp/d.pcapng" > "$tmp/d.txt"
n=$(wc -l < "$tmp/d.txt")
grep -vqE '\|client [A-Z_0-9]+, server [A-Z_0-9]+$' "$tmp/d.txt" && fail "demo: a frame without a state comment"
grep -q 'client SYN_SENT, server SYN_SENT' "$tmp/d.txt" || fail "demo: no simultaneous open in the comments"
grep -q 'client CLOSING' "$tmp/d.txt" || fail "demo: no CLOSING in the comments"
"$glass" trace "$tmp/d.pcapng" | tail -1 | grep -q "$n frames, $n TCP/IPv4 segments, 21 connections" || fail "demo: glass trace"

# glass pkt: our stack's state
"$glass" pkt --pcapng "$tmp/p.pcapng" "$root/tests/pkt/close/active-close.pkt" > /dev/null
fields "$tmp/p.pcapng" > "$tmp/p.txt"
grep -vqE '\|glass [A-Z_0-9]+$' "$tmp/p.txt" && fail "pkt: a frame without a state comment"
grep -q '|·······A···F|glass FIN_WAIT_1' "$tmp/p.txt" || fail "pkt: our FIN: $(cat "$tmp/p.txt")"
"$glass" trace "$tmp/p.pcapng" > /dev/null || fail "pkt: glass trace"
echo "PASS"
