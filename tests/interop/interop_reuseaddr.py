#!/usr/bin/env python3
"""SO_REUSEADDR on a real wire (the seed document's port reuse during 2MSL). glass serve
closes its HTTP connections first ("Connection: close"), so they sit in TIME_WAIT on port 80.
Restarting the application (SIGHUP: close every socket, listen again; the stack, like a kernel,
keeps its TIME_WAIT connections) rebinds at once with SO_REUSEADDR and serves; without it the
bind fails with "Address already in use"."""
import os
import shutil
import signal
import subprocess

from glasslab import GLASS_ADDR, Lab, check, skip, wait_for

with Lab("reuse") as lab:
    if shutil.which("curl") is None:
        skip("'curl' not installed")
    root = lab.path("www")
    os.mkdir(root)
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write("reuse\n")
    url = "http://%s/index.html" % GLASS_ADDR

    def get(close=True):
        args = ["curl", "-sS", "--max-time", "10", url]
        if close:
            args[1:1] = ["-H", "Connection: close"]
        r = subprocess.run(args, capture_output=True, text=True, timeout=20)
        return r.returncode, r.stdout

    def time_waits(srv):
        return [c for c in srv.conns() if c["state"] == "TIME_WAIT" and c["local"].endswith(":80")]

    srv = lab.serve("--port", "80", "--http", root, tag="with")
    lab.enter()
    for _ in range(3):
        check(get() == (0, "reuse\n"), "GET before the restart")
    wait_for(lambda: len(time_waits(srv)) == 3, 5, "three TIME_WAIT connections on :80")
    srv.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "reloaded" in srv.stderr(), 5, "the reload")
    check(srv.proc.poll() is None, "glass serve exited on reload: " + srv.stderr())
    check(len(time_waits(srv)) == 3, "the TIME_WAIT connections did not survive the restart")
    check(get() == (0, "reuse\n"), "GET after the restart (SO_REUSEADDR)")
    # the control socket's reload does the same
    check(srv.ctl("reload") == [{"reloaded": True, "port": 80}], "ctl reload")
    check(get(close=False) == (0, "reuse\n"), "GET after ctl reload")
    check(srv.stop() == 0, "glass serve did not exit 0")

    lab.enter()  # (still inside)
    srv = lab.serve("--port", "80", "--http", root, "--no-reuseaddr", tag="without")
    check(get() == (0, "reuse\n"), "GET without SO_REUSEADDR")
    wait_for(lambda: len(time_waits(srv)) == 1, 5, "a TIME_WAIT connection on :80")
    srv.proc.send_signal(signal.SIGHUP)
    try:
        rc = srv.proc.wait(10)
    except subprocess.TimeoutExpired:
        rc = None
    err = srv.stderr()
    check(rc == 1, "without SO_REUSEADDR the restart should fail (exit 1), got %r: %s" % (rc, err))
    check("cannot listen on 0.0.0.0:80" in err and "Address already in use" in err,
          "no clear 'address in use' message: %r" % err)
