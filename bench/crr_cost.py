#!/usr/bin/env python3
"""What one crr connection costs, in instructions, free of the machine's noise.

Runs bench/crr_cost (glass bench's crr on a made-up clock) under valgrind's callgrind for two
connection counts and prints the difference divided by the difference in connections: the
instructions one more connection executes, both ends together, in all and by function. The
set-up (stacks, listeners, tables) is in both runs and drops out. Two runs of one build give the
same figures, so this is the way to compare two builds on a shared machine where wall-clock A/B
runs of a few percent are lost in the noise (docs/performance.md "What one crr connection
costs"). It is not a speed: instructions per connection times cycles per instruction is.

usage: bench/crr_cost.py [--crr-cost PATH] [--conns LO,HI] [--tw-max N] [--top K]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

# The public calls the harness makes, in the order of a connection's life.
API = ["glass_socket", "glass_connect", "glass_setsockopt", "glass_accept", "glass_send",
       "glass_recv", "glass_close", "glass_stack_output_sg", "glass_stack_input_sg",
       "glass_stack_next_event", "glass_stack_next_deadline", "glass_stack_advance"]
# Compiler suffixes of clones (LTO, partial inlining, constant propagation, IPA-SRA).
SUFFIX = re.compile(r"(\.(lto_priv|part|constprop|isra|cold)\.[0-9]+)+$")
LINE = re.compile(r"^\s*([0-9,]+) \([ 0-9.]+%\)\s+(?:(\S+):)?(\S+?)(?: \[(.*)\])?$")


def usage(msg):
    print("crr_cost.py: " + msg, file=sys.stderr)
    sys.exit(2)


def annotate(out_file, inclusive):
    """{symbol: Ir}: self cost summed over the files a symbol's code came from (inlining), or
    inclusive cost (the largest of its entries: the symbol's own entry holds the others)."""
    args = ["callgrind_annotate", "--auto=no", "--threshold=100", "--inclusive=" + ("yes" if inclusive else "no"),
            out_file]
    text = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    costs = {}
    for ln in text.splitlines():
        m = LINE.match(ln)
        if m is None or "PROGRAM TOTALS" in ln:
            continue
        ir = int(m.group(1).replace(",", ""))
        sym = SUFFIX.sub("", m.group(3))
        if inclusive:
            costs[sym] = max(costs.get(sym, 0), ir)
        else:
            costs[sym] = costs.get(sym, 0) + ir
    total = re.search(r"^\s*([0-9,]+) \(100\.0%\)\s+PROGRAM TOTALS", text, re.M)
    return int(total.group(1).replace(",", "")) if total else 0, costs


def run(binary, conns, tw_max, tmp):
    out = os.path.join(tmp, "callgrind.%d" % conns)
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, binary,
           "--conns", str(conns)]
    if tw_max:
        cmd += ["--tw-max", str(tw_max)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("crr_cost.py: %s failed:\n%s" % (" ".join(cmd), r.stdout + r.stderr))
    summary = next((ln for ln in r.stdout.splitlines() if ln.startswith("crr_cost:")), "")
    total, incl = annotate(out, True)
    _, self_ = annotate(out, False)
    return total, incl, self_, summary


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--crr-cost", default=os.path.join(here, "..", "build", "bench", "crr_cost"))
    ap.add_argument("--conns", default="2000,12000")
    ap.add_argument("--tw-max", type=int, default=0)
    ap.add_argument("--top", type=int, default=25)
    a = ap.parse_args()
    try:
        lo, hi = (int(x) for x in a.conns.split(","))
    except ValueError:
        usage("--conns takes LO,HI (two connection counts)")
    if not 0 < lo < hi:
        usage("--conns takes LO,HI with 0 < LO < HI")
    if a.tw_max < 0 or a.top < 1:
        usage("--tw-max takes N >= 0 and --top K >= 1")
    if not os.access(a.crr_cost, os.X_OK):
        usage("no crr_cost program at %s (make build, or --crr-cost PATH)" % a.crr_cost)
    for tool in ("valgrind", "callgrind_annotate"):
        if shutil.which(tool) is None:
            usage("%s not found (make crr-cost installs valgrind)" % tool)
    with tempfile.TemporaryDirectory() as tmp:
        t_lo, i_lo, s_lo, _ = run(a.crr_cost, lo, a.tw_max, tmp)
        t_hi, i_hi, s_hi, summary = run(a.crr_cost, hi, a.tw_max, tmp)
    n = hi - lo
    per = (t_hi - t_lo) / n
    print("%s" % summary)
    print("instructions per connection, both ends (callgrind, runs of %d and %d connections): "
          "%.0f" % (lo, hi, per))
    print("\nby public call (inclusive):")
    for f in API:
        if f in i_hi:
            v = (i_hi[f] - i_lo.get(f, 0)) / n
            print("  %-28s %8.0f  %5.1f%%" % (f, v, 100.0 * v / per))
    print("\nby function (own instructions, inlined code included), top %d:" % a.top)
    rows = sorted(((s_hi[f] - s_lo.get(f, 0)) / n, f) for f in s_hi)
    for v, f in reversed(rows[-a.top:]):
        print("  %-28s %8.0f  %5.1f%%" % (f, v, 100.0 * v / per))


if __name__ == "__main__":
    main()
