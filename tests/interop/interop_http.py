#!/usr/bin/env python3
"""curl against `glass serve --http DIR`: files byte for byte over one persistent connection
(HTTP/1.1 keep-alive) and with "Connection: close" (the server closes first and keeps the
TIME_WAIT), HEAD, 404, and no way out of the document root."""
import os
import shutil
import subprocess

from glasslab import GLASS_ADDR, Lab, check, skip, wait_for

with Lab("http") as lab:
    if shutil.which("curl") is None:
        skip("'curl' not installed")
    root = lab.path("www")
    os.mkdir(root)
    files = {"index.html": b"<h1>glasstcp</h1>\n", "big.bin": os.urandom(5 << 20),
             "one.txt": b"x" * 1460, "empty.txt": b""}
    for name, data in files.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
    srv = lab.serve("--port", "80", "--http", root)
    lab.enter()
    base = "http://%s" % GLASS_ADDR

    def curl(*args):
        r = subprocess.run(["curl", "-sS", "--max-time", "30"] + list(args), capture_output=True,
                           timeout=40)
        check(r.returncode == 0, "curl %s: %s" % (" ".join(args), r.stderr.decode()))
        return r.stdout.decode()

    # keep-alive: four files over one connection, byte for byte
    outs = []
    argv = []
    for i, name in enumerate(["big.bin", "index.html", "one.txt", "empty.txt"]):
        outs.append((name, lab.path("got%d" % i)))
        argv += [base + "/" + name, "-o", outs[-1][1]]
    w = curl(*argv, "-w", "%{http_code} %{num_connects}\n")
    codes = w.split("\n")[:-1]
    check(codes == ["200 1", "200 0", "200 0", "200 0"],
          "keep-alive: want 4 x 200 on one connection, got %r" % codes)
    for name, got in outs:
        with open(got, "rb") as f:
            check(f.read() == files[name], "%s differs from the file served" % name)
    wait_for(lambda: len(lab.kernel_ss("established")) == 0, 5, "curl's connection to close")

    # Connection: close -> the server closes first: TIME-WAIT on glass's side
    got = lab.path("close.bin")
    w = curl("-H", "Connection: close", base + "/big.bin", "-o", got, "-w",
             "%{http_code} %{local_port}")
    code, port = w.split()
    check(code == "200", "Connection: close: status %s" % code)
    with open(got, "rb") as f:
        check(f.read() == files["big.bin"], "big.bin differs (Connection: close)")
    tw = wait_for(lambda: [c for c in srv.conns() if c["state"] == "TIME_WAIT" and
                           c["peer"] == "192.0.2.1:" + port], 5, "glass's connection in TIME_WAIT")
    check(tw[0]["local"] == GLASS_ADDR + ":80", "TIME_WAIT: %r" % tw)
    check(not lab.kernel_has("time-wait", local="192.0.2.1:" + port),
          "the kernel holds a TIME-WAIT for port %s: it closed first?" % port)

    # HTTP/1.0 without keep-alive is closed after the response too
    w = curl("-0", base + "/index.html")
    check(w == files["index.html"].decode(), "HTTP/1.0 body %r" % w)

    # HEAD, 404, directory index, the document root is the root
    h = curl("-I", base + "/big.bin")
    check("200 OK" in h and "Content-Length: %d" % len(files["big.bin"]) in h, "HEAD: %r" % h)
    check(curl("-o", "/dev/null", "-w", "%{http_code}", base + "/nope") == "404", "404 missing")
    check(curl(base + "/") == files["index.html"].decode(), "/ is not index.html")
    w = curl("--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", base + "/../../../etc/passwd")
    check(w == "404", "path traversal answered %s" % w)
    w = curl("-X", "POST", "-d", "x=1", "-o", "/dev/null", "-w", "%{http_code}", base + "/")
    check(w in ("405", "413"), "POST answered %s" % w)
    check(srv.stop() == 0, "glass serve did not exit 0")
