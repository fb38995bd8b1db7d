#!/usr/bin/env python3
"""What one crr connection costs, in instructions, free of the machine's noise.

Runs bench/crr_cost (glass bench's crr on a made-up clock) under valgrind's callgrind for two
connection counts and prints the difference divided by the difference in connections: the
instructions one more connection executes, both ends together, in all and by function. The
set-up (stacks, listeners, tables) is in both runs and drops out. Two runs of one build give the
same figures, so this is the way to compare two builds on a shared machine where wall-clock A/B
runs of a few percent are lost in the noise (docs/performance.md, "The seventh round"). It is
not a speed: instructions per connection times cycles per instruction is.

usage: bench/crr_cost.py [--crr-cost PATH] [--baseline PATH] [--conns LO,HI] [--tw-max N]
                        [--off FEATURE]... [--features] [--top K]

--baseline PATH: a crr_cost built from another commit; both are counted and the table shows
the change per function (this build minus the baseline).
--off FEATURE: count with that setting off in both stacks (sack, rack, timestamps, wscale,
trace, events, verify; may be repeated; passed to both builds with --baseline).
--features: what each of those settings costs a connection: the count with everything on,
then with each one off alone (the difference is what it costs).
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
    args = ["callgrind_annotate", "--auto=no", "--threshold=100",
            "--inclusive=" + ("yes" if inclusive else "no"), out_file]
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


# crr_cost --off FEATURE, in its order (bench/crr_cost.c FEATURES).
FEATURES = ["sack", "rack", "timestamps", "wscale", "trace", "events", "verify"]


def run(binary, conns, tw_max, off, tmp):
    out = os.path.join(tmp, "callgrind.%d" % conns)
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, binary,
           "--conns", str(conns)]
    if tw_max:
        cmd += ["--tw-max", str(tw_max)]
    for f in off:
        cmd += ["--off", f]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("crr_cost.py: %s failed:\n%s" % (" ".join(cmd), r.stdout + r.stderr))
    summary = next((ln for ln in r.stdout.splitlines() if ln.startswith("crr_cost:")), "")
    total, incl = annotate(out, True)
    _, self_ = annotate(out, False)
    return total, incl, self_, summary


def per_conn(binary, lo, hi, tw_max, off):
    """(instructions per connection, {call: per conn} inclusive, {function: per conn} own,
    the HI run's summary line)."""
    with tempfile.TemporaryDirectory() as tmp:
        t_lo, i_lo, s_lo, _ = run(binary, lo, tw_max, off, tmp)
        t_hi, i_hi, s_hi, summary = run(binary, hi, tw_max, off, tmp)
    n = hi - lo
    incl = {f: (i_hi[f] - i_lo.get(f, 0)) / n for f in i_hi}
    own = {f: (s_hi[f] - s_lo.get(f, 0)) / n for f in s_hi}
    return (t_hi - t_lo) / n, incl, own, summary


def show(per, incl, own, top):
    print("\nby public call (inclusive):")
    for f in API:
        if f in incl:
            print("  %-28s %8.0f  %5.1f%%" % (f, incl[f], 100.0 * incl[f] / per))
    print("\nby function (own instructions, inlined code included), top %d:" % top)
    for f in sorted(own, key=lambda k: -own[k])[:top]:
        print("  %-28s %8.0f  %5.1f%%" % (f, own[f], 100.0 * own[f] / per))


def show_change(base, this, top):
    per_b, incl_b, own_b, _ = base
    per_t, incl_t, own_t, _ = this
    print("baseline %.0f, this build %.0f instructions per connection: %+.0f (%+.1f%%)"
          % (per_b, per_t, per_t - per_b, 100.0 * (per_t - per_b) / per_b))
    print("\nby public call (inclusive): baseline, this build, change")
    for f in API:
        if f in incl_t or f in incl_b:
            b, t = incl_b.get(f, 0.0), incl_t.get(f, 0.0)
            print("  %-28s %8.0f %8.0f %+8.0f" % (f, b, t, t - b))
    names = set(own_b) | set(own_t)
    moved = sorted(names, key=lambda k: -abs(own_t.get(k, 0.0) - own_b.get(k, 0.0)))[:top]
    print("\nby function (own instructions), the %d that moved most: baseline, this build, change"
          % top)
    for f in moved:
        b, t = own_b.get(f, 0.0), own_t.get(f, 0.0)
        print("  %-28s %8.0f %8.0f %+8.0f" % (f, b, t, t - b))


def show_features(binary, lo, hi, tw_max):
    """The count with every setting on, then with each off alone: what each one costs."""
    full = per_conn(binary, lo, hi, tw_max, [])
    print(full[3])
    print("instructions per connection, both ends, with the bench's settings: %.0f" % full[0])
    print("\nwhat each setting costs a connection (the count with it off alone):")
    for f in FEATURES:
        per = per_conn(binary, lo, hi, tw_max, [f])[0]
        print("  %-12s %8.0f  %+7.0f  %+5.1f%%%s" % (f, per, full[0] - per,
                                                     100.0 * (full[0] - per) / full[0],
                                                     "  (RACK needs SACK: off too)"
                                                     if f == "sack" else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--crr-cost", default=os.path.join(here, "..", "build", "bench", "crr_cost"))
    ap.add_argument("--baseline")
    ap.add_argument("--conns", default="2000,12000")
    ap.add_argument("--tw-max", type=int, default=0)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--off", action="append", default=[])
    ap.add_argument("--features", action="store_true")
    a = ap.parse_args()
    try:
        lo, hi = (int(x) for x in a.conns.split(","))
    except ValueError:
        usage("--conns takes LO,HI (two connection counts)")
    if not 0 < lo < hi:
        usage("--conns takes LO,HI with 0 < LO < HI")
    if a.tw_max < 0 or a.top < 1:
        usage("--tw-max takes N >= 0 and --top K >= 1")
    bad = [f for f in a.off if f not in FEATURES]
    if bad:
        usage("unknown feature %s after --off (one of: %s)" % (bad[0], " ".join(FEATURES)))
    if a.features and (a.off or a.baseline is not None):
        usage("--features counts each feature alone: not with --off or --baseline")
    if not os.access(a.crr_cost, os.X_OK):
        usage("no crr_cost program at %s (make build, or --crr-cost PATH)" % a.crr_cost)
    if a.baseline is not None and not os.access(a.baseline, os.X_OK):
        usage("no crr_cost program at %s (--baseline)" % a.baseline)
    for tool in ("valgrind", "callgrind_annotate"):
        if shutil.which(tool) is None:
            usage("%s not found (make deps installs valgrind)" % tool)
    if a.features:
        show_features(a.crr_cost, lo, hi, a.tw_max)
        return
    this = per_conn(a.crr_cost, lo, hi, a.tw_max, a.off)
    print(this[3])
    if a.baseline is not None:
        show_change(per_conn(a.baseline, lo, hi, a.tw_max, a.off), this, a.top)
        return
    print("instructions per connection, both ends (callgrind, runs of %d and %d connections): "
          "%.0f" % (lo, hi, this[0]))
    show(this[0], this[1], this[2], a.top)


if __name__ == "__main__":
    main()
