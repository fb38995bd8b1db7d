#!/usr/bin/env python3
"""Check that the `glass demo` outputs quoted in docs/tutorial.md are what glass prints now.

Every fenced block whose first line is `$ build/glass demo ARGS` is compared with the real
output of `GLASS demo ARGS`: the block's other lines, except the `...` marking a cut, must
appear in the output in the same order (trailing spaces ignored). Outputs captured on a live
system (glass lab, serve, trace) are not re-run here: they hold times and ports of that run.

usage: check_tutorial.py GLASS TUTORIAL_MD      exit 0 if every block matches, 1 otherwise"""
import shlex
import subprocess
import sys


def blocks(text):
    """Yield (line number, [lines]) of every fenced block."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            start, body = i + 1, []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            yield start + 1, body
        i += 1


def main():
    glass, path = sys.argv[1], sys.argv[2]
    checked, bad = 0, 0
    for lineno, body in blocks(open(path).read()):
        if not body or not body[0].startswith("$ build/glass demo"):
            continue
        args = shlex.split(body[0][len("$ build/glass "):])
        out = subprocess.run([glass] + args, capture_output=True, text=True).stdout
        real = [l.rstrip() for l in out.split("\n")]
        pos = 0
        for want in body[1:]:
            if want.strip() == "...":
                continue
            want = want.rstrip()
            while pos < len(real) and real[pos] != want:
                pos += 1
            if pos == len(real):
                print("%s:%d: '%s' no longer prints (in this order):\n    %s" %
                      (path, lineno, body[0][2:], want))
                bad += 1
                break
            pos += 1
        checked += 1
    if checked == 0:
        print("%s: no `$ build/glass demo` blocks found" % path)
        return 1
    print("%d demo outputs checked, %d differ" % (checked, bad))
    return 1 if bad else 0


sys.exit(main())
