#!/usr/bin/env python3
"""ctest: `glass bench --quick` prints every workload row, every figure parses, the ratio
column is glasstcp / best other, and the JSON written in the same run carries the same figures.
It checks the shape of the output, not the speed.

usage: check_bench.py GLASS_BINARY
"""
import json
import os
import re
import subprocess
import sys
import tempfile

IMPLS = ["glasstcp", "lwip", "linux", "linux_1cpu"]
CELL = re.compile(r"(n/a|FAILED|skipped|-|[0-9]+(?:\.[0-9]+)?(?: \[[0-9.]+\.\.[0-9.]+\])?)")
# The rows --quick makes, in order: (json key, label pattern).
ROWS = [
    ("bulk", r"bulk MSS 1460"),
    ("bulk_large", r"bulk MSS 16384"),
    ("bulk_max", r"bulk MSS 65495"),
    ("bulk_threads", r"bulk MSS 1460 2 threads"),
    ("rr", r"rr transactions"),
    ("rr_mean", r"rr mean latency"),
    ("rr_p99", r"rr p99 latency"),
    ("crr", r"crr connections"),
    ("crr_threads", r"crr 2 threads"),
    ("crr_tw_bounded", r"crr TIME_WAIT <= 4096"),
    ("crr_threads_tw_bounded", r"crr 2 threads TW <= 4096"),
    ("conns", r"conns 1000 idle"),
    ("conns", r"conns 2000 idle"),
    ("conns", r"conns 4000 idle"),
    ("conns_data", r"conns 1000 after data"),
    ("time_wait", r"TIME_WAIT x 1000"),
]
# glasstcp must have a figure in these rows (the large MSS may be refused: n/a).
GLASS_REQUIRED = {"bulk", "rr", "rr_mean", "rr_p99", "crr", "conns", "conns_data", "time_wait",
                  "bulk_threads", "crr_threads", "crr_tw_bounded", "crr_threads_tw_bounded"}
# The bound of the crr rows whose TIME_WAIT pile-up is held bounded (with two threads, on all
# the clients together).
TW_BOUND = 4096
# The threads rows and the 1-thread rows they scale from (docs/sharding.md).
SCALES = {"bulk_threads": "bulk", "crr_threads": "crr",
          "crr_threads_tw_bounded": "crr_tw_bounded"}


def fail(msg):
    print("check_bench: FAIL: " + msg)
    sys.exit(1)


def close(a, b):
    """Equal up to the table's rounding (3 significant figures at least)."""
    return abs(a - b) <= max(0.006, 0.006 * abs(b))


def parse_cells(rest):
    """The four implementation cells and the ratio from the text after label and unit."""
    cells = []
    pos = 0
    for _ in IMPLS:
        m = CELL.match(rest, pos)
        if m is None:
            fail("cannot parse a cell in: " + rest)
        cells.append(m.group(1))
        pos = m.end()
        while pos < len(rest) and rest[pos] == " ":
            pos += 1
    ratio = rest[pos:].strip()
    if not re.fullmatch(r"n/a|[0-9]+\.[0-9]{2}x", ratio):
        fail("bad ratio column %r" % ratio)
    return cells, ratio


def main():
    glass = sys.argv[1]
    with tempfile.TemporaryDirectory() as d:
        jpath = os.path.join(d, "bench.json")
        p = subprocess.run([glass, "bench", "--quick", "--json=" + jpath],
                           capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            fail("exit %d\n%s\n%s" % (p.returncode, p.stdout, p.stderr))
        text = p.stdout
        with open(jpath) as f:
            doc = json.load(f)

    for key in ("machine", "runs", "settings", "rows"):
        if key not in doc:
            fail("JSON has no " + key)
    if doc["runs"] < 2:
        fail("--quick should take a median of several runs")
    rows = doc["rows"]
    if [r["key"] for r in rows] != [k for k, _ in ROWS]:
        fail("JSON rows %s" % [r["key"] for r in rows])

    lines = text.splitlines()
    for (key, label), jrow in zip(ROWS, rows):
        line = next((ln for ln in lines if re.match(label + r"\s", ln)), None)
        if line is None:
            fail("no table row " + label)
        if jrow["label"] != label:
            fail("JSON label %r, table %r" % (jrow["label"], label))
        rest = line[len(label):].strip()
        unit = rest.split()[0]
        if unit != jrow["unit"]:
            fail("%s: unit %r vs JSON %r" % (label, unit, jrow["unit"]))
        cells, ratio = parse_cells(rest[len(unit):].strip())
        medians = {}
        for impl, cell in zip(IMPLS, cells):
            j = jrow["impls"].get(impl)
            if cell in ("-",):
                if j is not None:
                    fail("%s %s: '-' in the table, %s in JSON" % (label, impl, j))
                continue
            if j is None:
                fail("%s %s: %r in the table, absent from JSON" % (label, impl, cell))
            if cell == "n/a" or cell == "FAILED":
                want = "n/a" if cell == "n/a" else "failed"
                if j["status"] != want:
                    fail("%s %s: %s vs JSON %s" % (label, impl, cell, j["status"]))
                if not j.get("note"):
                    fail("%s %s: %s without a note saying why" % (label, impl, cell))
                continue
            if j["status"] != "ok":
                fail("%s %s: figure %s but JSON status %s" % (label, impl, cell, j["status"]))
            nums = [float(x) for x in re.findall(r"[0-9]+(?:\.[0-9]+)?", cell)]
            med = nums[0]
            if not close(med, j["median"]):
                fail("%s %s: table %s, JSON median %s" % (label, impl, med, j["median"]))
            if len(nums) == 3 and not (close(nums[1], j["min"]) and close(nums[2], j["max"])):
                fail("%s %s: range %s..%s vs JSON %s..%s" %
                     (label, impl, nums[1], nums[2], j["min"], j["max"]))
            if not j["min"] <= j["median"] <= j["max"] or j["median"] <= 0:
                fail("%s %s: median %s outside %s..%s" %
                     (label, impl, j["median"], j["min"], j["max"]))
            runs = j["runs"]
            srt = sorted(runs)
            n = len(srt)
            m = srt[n // 2] if n % 2 else (srt[n // 2 - 1] + srt[n // 2]) / 2
            if not close(m, j["median"]):
                fail("%s %s: median of runs %s is not %s" % (label, impl, runs, j["median"]))
            medians[impl] = j["median"]
        if key in GLASS_REQUIRED and "glasstcp" not in medians:
            fail("%s: no glasstcp figure (%s)" % (label, cells[0]))
        others = [v for k, v in medians.items() if k != "glasstcp"]
        if "glasstcp" in medians and others:
            best = min(others) if jrow["better"] == "lower" else max(others)
            want = medians["glasstcp"] / best
            if ratio == "n/a" or not close(float(ratio[:-1]), want):
                fail("%s: ratio %s, glasstcp/best = %.3f" % (label, ratio, want))
            if jrow["ratio"] is None or not close(jrow["ratio"], want):
                fail("%s: JSON ratio %s, want %.3f" % (label, jrow["ratio"], want))
        elif ratio != "n/a" or jrow["ratio"] is not None:
            fail("%s: a ratio without two figures" % label)
        if key in SCALES:
            if jrow.get("threads") != 2 or jrow.get("scales") != SCALES[key]:
                fail("%s: threads %r, scales %r" % (label, jrow.get("threads"), jrow.get("scales")))
            for impl in medians:
                # each run over a 1-thread run made just before it; the median of those
                j = jrow["impls"][impl]
                ratios = sorted(j.get("scaling_runs", []))
                if not ratios or any(x <= 0 for x in ratios):
                    fail("%s %s: scaling_runs %r" % (label, impl, ratios))
                n = len(ratios)
                want = ratios[n // 2] if n % 2 else (ratios[n // 2 - 1] + ratios[n // 2]) / 2
                got = j.get("scaling")
                if got is None or not close(got, want):
                    fail("%s %s: scaling %r, want the median %.3f" % (label, impl, got, want))
                line = next((ln for ln in lines if ln.startswith("scaling " + label)), "")
                title = {"glasstcp": "glasstcp", "linux": "Linux"}.get(impl)
                if title and not re.search(r"%s [0-9]+\.[0-9]{2}x" % title, line):
                    fail("%s: no scaling line for %s: %r" % (label, impl, line))
            if jrow["impls"].get("lwip", {}).get("status") not in (None, "n/a"):
                fail("%s: lwIP should be n/a (global state)" % label)
        if key in ("crr", "crr_threads", "crr_tw_bounded", "crr_threads_tw_bounded"):
            for impl in medians:
                if "time_wait" not in jrow["impls"][impl]:
                    fail("crr %s: no TIME_WAIT count" % impl)
        if key in ("crr_tw_bounded", "crr_threads_tw_bounded"):
            for impl in medians:
                if jrow["impls"][impl]["time_wait"] > TW_BOUND:
                    fail("%s %s: %d in TIME_WAIT" % (label, impl, jrow["impls"][impl]["time_wait"]))
            if jrow["impls"].get("lwip", {}).get("status") not in (None, "n/a"):
                fail("%s: lwIP should be n/a (no bound to set)" % label)
    # Buffers are given back once connections go quiet: after one byte each way and the quiet
    # time, glasstcp's connections hold what idle ones that never carried data hold (within
    # the freed-block cache's few KiB).
    idle = next(r for r in rows if r["key"] == "conns")["impls"]["glasstcp"]["median"]
    data = next(r for r in rows if r["key"] == "conns_data")["impls"]["glasstcp"]
    if data["median"] > 1.1 * idle:
        fail("conns after data: glasstcp %s B/conn, idle %s" % (data["median"], idle))
    if "right after the exchange" not in data.get("note", ""):
        fail("conns after data: glasstcp note %r" % data.get("note"))
    print("check_bench: %d rows ok" % len(rows))


if __name__ == "__main__":
    main()
