#!/usr/bin/env bash
# Goodput over a grid of loss rates: runs `glass sim` for each loss rate and seed, prints one
# markdown table row per loss rate with medians over the seeds (for docs/loss-recovery.md).
#
# Usage: scripts/loss_grid.sh [-g GLASS] [-b BYTES] [-s SEEDS] [-l "0 0.01 ..."] [-- SIM_ARGS...]
#   -g GLASS   the glass binary (default: build/glass next to this script's repo)
#   -b BYTES   bytes per transfer (default 1M; glass sim suffixes k, M, G)
#   -s SEEDS   seeds per loss rate, 1..SEEDS (default 5)
#   -l LOSSES  loss probabilities (default "0 0.01 0.02 0.05 0.10 0.20 0.30")
#   SIM_ARGS   passed to every run, e.g. -- --delay 20 --rate 100 --queue 100 --cc newreno
#
# Each cell is the median over the seeds of the runs that succeeded (every byte delivered, both
# ends CLOSED); "ok" counts them. Goodput is in virtual time: payload bits over the time from
# connect() to the last byte read. Needs only bash, awk and sort.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
glass="$root/build/glass"
bytes=1M
seeds=5
losses="0 0.01 0.02 0.05 0.10 0.20 0.30"

usage() { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while getopts ":g:b:s:l:h" opt; do
    case $opt in
    g) glass=$OPTARG ;;
    b) bytes=$OPTARG ;;
    s) seeds=$OPTARG ;;
    l) losses=$OPTARG ;;
    h) usage; exit 0 ;;
    :) echo "loss_grid.sh: -$OPTARG needs an argument" >&2; exit 2 ;;
    *) echo "loss_grid.sh: unknown option -$OPTARG (see -h)" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift
[[ $seeds =~ ^[1-9][0-9]*$ ]] || { echo "loss_grid.sh: bad seed count '$seeds'" >&2; exit 2; }
[ -x "$glass" ] || { echo "loss_grid.sh: no glass binary at $glass (build first, or -g)" >&2; exit 2; }

# The first numeric JSON field of that name in one object on one line (top-level fields come
# before the per-side ones; "null" -> empty).
field() { grep -o "\"$1\":[0-9.eE+-]*" <<<"$2" | head -n 1 | cut -d: -f2 || true; }

# Median of numbers on stdin ("-" if none).
median() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

fmt_rate() {
    awk -v b="$1" 'BEGIN {
        if (b == "-") { print "-"; exit }
        if (b >= 1e9) printf "%.2f Gbit/s\n", b / 1e9
        else if (b >= 1e6) printf "%.2f Mbit/s\n", b / 1e6
        else printf "%.1f kbit/s\n", b / 1e3 }'
}

echo "glass sim --bytes $bytes${*:+ $*} (seeds 1..$seeds; medians over the runs that succeeded)"
echo
echo "| loss | ok | goodput | transfer time | retransmitted segments | RTO timeouts |"
echo "|---:|---:|---:|---:|---:|---:|"
for loss in $losses; do
    gp=() tt=() rx=() to=()
    ok=0
    for seed in $(seq 1 "$seeds"); do
        out=$("$glass" sim --bytes "$bytes" --loss "$loss" --seed "$seed" --time-limit 10000000 \
              --json "$@" 2>/dev/null || true)
        case $out in
        *'"ok":true'*) ;;
        *) continue ;;
        esac
        ok=$((ok + 1))
        gp+=("$(field goodput_bps "$out")")
        tt+=("$(field transfer_seconds "$out")")
        rx+=("$(field retransmits "$out")")
        to+=("$(field timeouts "$out")")
    done
    m_gp=$(printf '%s\n' "${gp[@]:+${gp[@]}}" | grep . | median || true)
    m_tt=$(printf '%s\n' "${tt[@]:+${tt[@]}}" | grep . | median || true)
    m_rx=$(printf '%s\n' "${rx[@]:+${rx[@]}}" | grep . | median || true)
    m_to=$(printf '%s\n' "${to[@]:+${to[@]}}" | grep . | median || true)
    pct=$(awk -v l="$loss" 'BEGIN { printf "%g %%", l * 100 }')
    tt_s=$([ "${m_tt:--}" = "-" ] && echo "-" || awk -v t="$m_tt" 'BEGIN { printf "%.3f s", t }')
    echo "| $pct | $ok/$seeds | $(fmt_rate "${m_gp:--}") | $tt_s | ${m_rx:--} | ${m_to:--} |"
done
