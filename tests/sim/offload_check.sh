#!/usr/bin/env bash
# Checksum offload, the zero-copy calls and TSO on output (super-segments cut by the simulated
# NIC) change how glass sim moves bytes, never what goes on the wire: for clean and impaired
# runs (corruption included: a corrupted copy must still be caught by the receiver's checksum,
# every byte arrives intact), the default run (offload, zero-copy), --no-offload, --copy,
# --tso 65535 and --tso 65535 --no-offload give the same trace hash, and every run is ok.
# Usage: offload_check.sh GLASS
set -euo pipefail
glass=$1
for args in "--seed 1" "--corrupt 0.05 --seed 3" "--corrupt 0.02 --loss 0.02 --dup 0.02 --seed 8" \
            "--duplex --corrupt 0.03 --seed 5"; do
    hashes=()
    for mode in "" "--no-offload" "--copy" "--tso 65535" "--tso 65535 --no-offload"; do
        # shellcheck disable=SC2086
        out=$("$glass" sim --bytes 300000 --delay 2 $args $mode --json)
        grep -q '"ok":true' <<<"$out" || { echo "FAIL: sim $args $mode: $out"; exit 1; }
        case $mode in
            --tso*) grep -q '"tso_segs":[1-9]' <<<"$out" ||
                        { echo "FAIL: sim $args $mode: no super-segment: $out"; exit 1; } ;;
            *) grep -q '"tso_segs":0' <<<"$out" ||
                   { echo "FAIL: sim $args $mode: super-segments without --tso: $out"; exit 1; } ;;
        esac
        hashes+=("$(grep -o '"trace_hash":"[0-9a-f]*"' <<<"$out")")
    done
    for h in "${hashes[@]}"; do
        if [ "$h" != "${hashes[0]}" ]; then
            echo "FAIL: sim $args: trace hashes differ (default, --no-offload, --copy, --tso," \
                 "--tso --no-offload): ${hashes[*]}"
            exit 1
        fi
    done
    echo "ok: sim $args: ${hashes[0]}"
done
