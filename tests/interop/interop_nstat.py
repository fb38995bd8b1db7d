#!/usr/bin/env python3
"""`glass nstat` and `glass ss` against a running `glass serve`: after a kernel client's
connection and a refused one, the counters read through the control socket carry Linux's names
and the right values, in nstat's layout and as JSON; ss lists the server's connection."""
import json
import subprocess

from glasslab import Lab, check, connect, wait_for

with Lab("nstat") as lab:
    srv = lab.serve("--port", "7", "--echo")
    lab.enter()

    c = connect(7)
    c.sendall(b"ping")
    check(c.recv(10) == b"ping", "no echo")
    try:
        connect(81).close()
    except OSError:
        pass

    def run(*args):
        r = subprocess.run([lab.glass] + list(args), capture_output=True, text=True, timeout=30)
        return r.returncode, r.stdout, r.stderr

    rc, out, err = run("nstat", "--ctl", srv.ctl_path)
    check(rc == 0, "glass nstat exited %d: %s" % (rc, err))
    lines = out.splitlines()
    check(lines and lines[0] == "#kernel", "no #kernel header: %r" % lines[:1])
    values = {}
    for line in lines[1:]:
        name, value, rate = line.split()
        values[name] = int(value)
    check(values.get("TcpPassiveOpens") == 1, "TcpPassiveOpens %r" % values.get("TcpPassiveOpens"))
    check(values.get("TcpOutRsts", 0) >= 1, "TcpOutRsts %r" % values.get("TcpOutRsts"))
    check(values.get("TcpCurrEstab") == 1, "TcpCurrEstab %r" % values.get("TcpCurrEstab"))
    check(all(v != 0 for v in values.values()), "zero counters shown without -z")

    rc, out, err = run("nstat", "--ctl", srv.ctl_path, "--json", "-z", "--drops")
    check(rc == 0, "glass nstat --json exited %d: %s" % (rc, err))
    k = json.loads(out)["kernel"]
    check(k["TcpPassiveOpens"] == 1 and "TcpRetransSegs" in k, "JSON counters %r" % k)
    check(k.get("NO_SOCKET", 0) >= 1, "the refused SYN counted as NO_SOCKET: %r" % k.get("NO_SOCKET"))

    rc, out, err = run("ss", "--ctl", srv.ctl_path)
    check(rc == 0 and "ESTAB" in out, "glass ss: %d %s %s" % (rc, out, err))

    rc, out, err = run("nstat", "--ctl", lab.path("nothing.sock"))
    check(rc == 1 and "cannot read" in err, "missing socket: %d %r" % (rc, err))
    c.close()
