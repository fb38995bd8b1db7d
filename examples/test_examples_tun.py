#!/usr/bin/env python3
"""The TUN examples against the Linux kernel, in a network namespace this test makes and removes
(tests/interop/glasslab.py): examples/echo_tun echoes 256 KiB sent by a kernel socket, and
examples/http_get fetches a file from `python3 -m http.server` on the kernel's side of the device.

usage: test_examples_tun.py GLASS ECHO_TUN HTTP_GET   (exit 0 pass, 1 fail, 77 skip)"""
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "interop"))
from glasslab import KERNEL_ADDR, GLASS_ADDR, Lab, check, connect, wait_for  # noqa: E402

echo_tun, http_get = os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
del sys.argv[2:]  # Lab reads the glass binary from argv[1]

with Lab("examples", budget=90) as lab:
    lab.enter()  # this process and what it starts live in the lab's namespace from here on

    # echo_tun: a kernel client sends 256 KiB and reads it back.
    echo = lab.spawn([echo_tun, lab.tun, GLASS_ADDR, "7"], "echo_tun")
    wait_for(lambda: "echoing" in open(lab.path("echo_tun.out")).read(), 10, "echo_tun to listen")
    data = os.urandom(256 << 10)
    s = connect(7, timeout=20)
    s.sendall(data)
    s.shutdown(1)  # SHUT_WR: echo_tun closes once it has echoed everything
    got = bytearray()
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    s.close()
    check(bytes(got) == data, "echo_tun returned %d bytes, %s" %
          (len(got), "same" if bytes(got) == data[:len(got)] else "different"))
    echo.send_signal(signal.SIGTERM)
    check(echo.wait(10) == 0, "echo_tun exited %s on SIGTERM" % echo.returncode)
    print("echo_tun: 256 KiB echoed byte for byte", flush=True)

    # http_get: a file from the kernel's HTTP server at 192.0.2.1:8000.
    www = lab.path("www")
    os.mkdir(www)
    body = b"".join(b"line %d of the file served by the kernel\n" % i for i in range(2000))
    with open(os.path.join(www, "file.txt"), "wb") as f:
        f.write(body)
    lab.spawn([sys.executable, "-m", "http.server", "-b", KERNEL_ADDR, "-d", www, "8000"],
              "http_server")
    wait_for(lambda: subprocess.run(["ss", "-tlnH", "sport", "= :8000"], capture_output=True,
                                    text=True).stdout.strip(), 10, "the HTTP server to listen")
    r = subprocess.run([http_get, lab.tun, KERNEL_ADDR, "8000", "/file.txt"],
                       capture_output=True, timeout=30)
    check(r.returncode == 0, "http_get exited %d: %s" % (r.returncode, r.stderr.decode()))
    check(r.stdout == body, "http_get printed %d bytes, want the %d of the file" %
          (len(r.stdout), len(body)))
    check(b"200" in r.stderr, "no status line: %r" % r.stderr)
    r = subprocess.run([http_get, lab.tun, KERNEL_ADDR, "8000", "/no-such-file"],
                       capture_output=True, timeout=30)
    check(r.returncode == 1 and b"404" in r.stderr, "a 404 must exit 1: %d %r" %
          (r.returncode, r.stderr))
    print("http_get: %d bytes, same as the file; 404 exits 1" % len(body), flush=True)
