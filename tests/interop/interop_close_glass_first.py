#!/usr/bin/env python3
"""The seed document's active close, on a real wire. glass (the server application) closes
first: glass goes ESTABLISHED -> FIN_WAIT_1 -> FIN_WAIT_2 while the kernel's socket shows
CLOSE-WAIT (ss -tan state close-wait) until its application closes; then glass is in
TIME_WAIT and the kernel's socket is gone. `glass ss` shows the same states as `ss` would."""
import socket
import subprocess

from glasslab import GLASS_ADDR, Lab, check, connect, path_of, states, wait_for

with Lab("cgf") as lab:
    srv = lab.serve("--port", "7", "--echo")
    lab.enter()
    c = connect(7)
    c.sendall(b"hello")
    check(c.recv(100) == b"hello", "no echo")
    port = c.getsockname()[1]
    kside = "192.0.2.1:%d" % port
    conn = wait_for(lambda: srv.conn_to_port(port), 5, "glass's connection")
    check(conn["state"] == "ESTABLISHED", "glass state %s" % conn["state"])
    cid = conn["id"]

    # glass ss: iproute2 layout and spelling
    out = subprocess.run([lab.glass, "ss", "--ctl", srv.ctl_path], capture_output=True,
                         text=True).stdout.splitlines()
    check(out[0].split() == ["State", "Recv-Q", "Send-Q", "Local", "Address:Port", "Peer",
                             "Address:Port"], "glass ss header %r" % out[0])
    check(any(l.split()[0] == "ESTAB" and l.split()[3:5] == [GLASS_ADDR + ":7", kside]
              for l in out[1:]), "glass ss rows %r" % out)
    out = subprocess.run([lab.glass, "ss", "-l", "--ctl", srv.ctl_path], capture_output=True,
                         text=True).stdout.splitlines()
    check(len(out) == 2 and out[1].split()[:3] == ["LISTEN", "0", "128"], "glass ss -l %r" % out)

    # the application closes: our FIN, the kernel's ACK
    check(srv.ctl("close %d" % cid) == [{"closed": cid}], "ctl close")
    wait_for(lambda: (srv.conn_to_port(port) or {}).get("state") == "FIN_WAIT_2", 5,
             "glass in FIN_WAIT_2")
    wait_for(lambda: lab.kernel_has("close-wait", local=kside), 5, "the kernel in CLOSE-WAIT")
    check(c.recv(100) == b"", "the kernel application does not see EOF")
    rows = subprocess.run([lab.glass, "ss", "--ctl", srv.ctl_path], capture_output=True,
                          text=True).stdout
    check("FIN-WAIT-2" in rows, "glass ss does not show FIN-WAIT-2:\n" + rows)
    # ... and it stays so while the kernel's application keeps its socket open
    import time
    time.sleep(0.5)
    check(srv.conn_to_port(port)["state"] == "FIN_WAIT_2", "glass left FIN_WAIT_2 by itself")
    check(lab.kernel_has("close-wait", local=kside), "the kernel left CLOSE-WAIT by itself")

    # the kernel's application closes: LAST-ACK there, TIME_WAIT here, then the kernel's is gone
    c.close()
    tw = wait_for(lambda: (srv.conn_to_port(port) or {}).get("state") == "TIME_WAIT", 5,
                  "glass in TIME_WAIT")
    wait_for(lambda: not any(l == kside for l, _ in lab.kernel_ss("all")), 5,
             "the kernel's socket to be gone (LAST-ACK acknowledged)")
    conn = srv.conn_to_port(port)
    check(conn["timer"] == "timewait", "TIME_WAIT timer %r" % conn["timer"])
    check(50000 < float(conn["timer_ms"]) <= 60000, "TIME_WAIT lasts %s ms" % conn["timer_ms"])
    h = srv.history(cid)
    check(path_of(h)[-4:] == ["ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT"],
          "glass path %r" % path_of(h))
    check(states(h)[-3:] == [("ESTABLISHED", "FIN_WAIT_1", "app_close"),
                             ("FIN_WAIT_1", "FIN_WAIT_2", "rcv_ack_of_fin"),
                             ("FIN_WAIT_2", "TIME_WAIT", "rcv_fin")], "causes %r" % states(h))
    check(not lab.kernel_has("time-wait", local=kside), "the kernel holds a TIME-WAIT too")
