#!/usr/bin/env python3
"""glass trace --html, rendered by headless Chromium (issue 7).

The capture is `glass demo --pcap` (every scenario: 21 connections, the rare paths included).
Chromium loads the report from the file system (nothing from the network), and:
  - --dump-dom (the DOM after the page's script ran): the connection table has one row per
    connection of `glass trace --json`, in stream order, with the same endpoints and final
    states; there is one ladder SVG per connection (at most 200); the state diagram SVG has
    arc counts, and they add up to the transitions in the JSON;
  - --screenshot: a PNG of the asked size that is not blank (decoded here, filters undone:
    many colours, and a good share of non-white pixels).
Skips (exit 77) only when no Chromium is installed (scripts/deps.sh installs it)."""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from html.parser import HTMLParser

glass = sys.argv[1]
chromium = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)
if chromium is None:
    print("SKIP: no chromium (scripts/deps.sh installs it)")
    sys.exit(77)


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, timeout=120, **kw)
    if r.returncode != 0:
        fail("%s: exit %d: %s" % (cmd[:3], r.returncode, r.stderr.decode()[-500:]))
    return r.stdout


class Dom(HTMLParser):
    """The rows of #conns tbody (their cells' text), the SVGs by class, the diagram's counts."""

    def __init__(self):
        super().__init__()
        self.stack, self.rows, self.svgs, self.counts = [], [], {}, []
        self.in_conns = self.in_tbody = False
        self.cell = None
        self.in_cnt = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id") == "conns":
            self.in_conns = True
        elif tag == "tbody" and self.in_conns:
            self.in_tbody = True
        elif tag == "tr" and self.in_tbody:
            self.rows.append([])
        elif tag == "td" and self.in_tbody:
            self.cell = ""
        elif tag == "svg":
            self.svgs[a.get("class", "")] = self.svgs.get(a.get("class", ""), 0) + 1
        elif tag == "text" and a.get("class") == "cnt":
            self.in_cnt = True

    def handle_endtag(self, tag):
        if tag == "table":
            self.in_conns = self.in_tbody = False
        elif tag == "td" and self.cell is not None:
            self.rows[-1].append(self.cell.strip())
            self.cell = None
        elif tag == "text":
            self.in_cnt = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
        if self.in_cnt:
            self.counts.append(int(data))


def png_pixels(path):
    """(width, height, rows of RGB(A) tuples) of an 8-bit, non-interlaced PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("%s is not a PNG" % path)
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        fail("unexpected PNG format %r" % (hdr,))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    out = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out.append(bytes(line))
        prev = line
    return w, h, bpp, out


with tempfile.TemporaryDirectory(prefix="glass-html-") as tmp:
    cap, report = os.path.join(tmp, "demo.pcap"), os.path.join(tmp, "report.html")
    run([glass, "demo", "--pcap", cap])
    doc = json.loads(run([glass, "trace", "--json", cap]))
    run([glass, "trace", "--html", report, cap])
    conns = doc["connections"]
    n = doc["connection_count"]
    if n != len(conns) or n < 10:
        fail("the capture has %d connections (JSON lists %d)" % (n, len(conns)))
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--user-data-dir=" + os.path.join(tmp, "profile")]
    url = "file://" + report

    dom = Dom()
    dom.feed(run(flags + ["--dump-dom", url]).decode())
    if len(dom.rows) != n:
        fail("%d connection rows in the DOM, %d connections" % (len(dom.rows), n))
    for row, c in zip(dom.rows, conns):
        want = [str(c["stream"]), c["client"], c["server"]]
        if row[:3] != want or row[7:9] != [c["client_state"], c["server_state"]]:
            fail("row %r does not match connection %r" % (row, want + [c["client_state"],
                                                                         c["server_state"]]))
    if dom.svgs.get("ladder", 0) != min(n, 200) or dom.svgs.get("fsm", 0) != 1:
        fail("SVGs in the DOM: %r (want %d ladders, 1 state diagram)" % (dom.svgs, min(n, 200)))
    moves = sum(1 for c in conns for k in ("client_states", "server_states")
                for s in c[k] if s["from"] not in ("?", None))
    if not dom.counts or sum(dom.counts) != moves:
        fail("state diagram counts %r add up to %d, the JSON has %d transitions"
             % (dom.counts, sum(dom.counts), moves))

    shot = os.path.join(tmp, "shot.png")
    run(flags + ["--window-size=1200,2400", "--screenshot=" + shot, url], cwd=tmp)
    w, h, bpp, rows = png_pixels(shot)
    if (w, h) != (1200, 2400):
        fail("screenshot is %dx%d" % (w, h))
    colours, ink = set(), 0
    for r in rows[::4]:
        for x in range(0, len(r), bpp * 4):
            px = r[x:x + 3]
            colours.add(px)
            ink += px != b"\xff\xff\xff"
    sampled = (h // 4) * (w // 4)
    if len(colours) < 20 or ink < sampled // 50:
        fail("the screenshot looks blank: %d colours, %d of %d sampled pixels not white"
             % (len(colours), ink, sampled))
    print("PASS: %d rows, %d ladders, %d transitions on the diagram, screenshot %dx%d with %d "
          "colours" % (len(dom.rows), dom.svgs["ladder"], moves, w, h, len(colours)))
