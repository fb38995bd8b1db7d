#!/usr/bin/env bash
# Fuzz one libFuzzer target for a bounded time; fail on any finding.
# Usage: run_fuzz.sh FUZZER NAME SEED_CORPUS_DIR OUT_DIR
#   GLASS_FUZZ_SECONDS  time to fuzz (default 30)
#   GLASS_FUZZ_MAX_LEN  longest input in bytes (default 4096: operation lists need room)
# The seed corpus in the repository is read, never written: new inputs go to a scratch
# directory. A crash, leak, sanitizer report or timeout leaves its input in OUT_DIR/artifacts-NAME/;
# keep it as tests/fuzz/regress/NAME/<file> once fixed (the normal suite replays that folder).
set -uo pipefail
fuzzer=$1 name=$2 seeds=$3 out=$4
secs=${GLASS_FUZZ_SECONDS:-30}
case $secs in '' | *[!0-9]*) echo "run_fuzz.sh: GLASS_FUZZ_SECONDS must be a number of seconds" >&2; exit 2 ;; esac
work=$(mktemp -d "${TMPDIR:-/tmp}/glass-fuzz-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
art=$out/artifacts-$name
mkdir -p "$art"
log=$out/fuzz-$name.log
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$fuzzer" -max_total_time="$secs" -max_len="${GLASS_FUZZ_MAX_LEN:-4096}" -timeout=25 \
    -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$art/" "$work" "$seeds" >"$log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
units=$(find "$work" -type f | wc -l)
summary="fuzz $name: ${execs:-?} executions in $SECONDS s (${rate:-?}/s), $units new corpus inputs"
echo "$summary"
echo "$summary" >"$out/fuzz-$name.stats"
if [ $rc -ne 0 ]; then
    echo "run_fuzz.sh: $name found a problem (exit $rc); input kept in $art/" >&2
    grep -E "ERROR|SUMMARY|check failed|runtime error" "$log" | head -20 >&2
    exit 1
fi
