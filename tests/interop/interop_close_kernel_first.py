#!/usr/bin/env python3
"""The seed document's passive close, on a real wire. The kernel's application closes first:
the kernel goes to FIN-WAIT-2 and glass to CLOSE_WAIT. An application that never closes leaves
glass's connection in CLOSE_WAIT, and that is visible (glass ss, and FIN-WAIT-2 in the
kernel's ss). When the application closes, glass goes CLOSE_WAIT -> LAST_ACK -> CLOSED while
the kernel holds the TIME-WAIT."""
import subprocess
import time

from glasslab import GLASS_ADDR, Lab, check, connect, path_of, states, wait_for

with Lab("ckf") as lab:
    srv = lab.serve("--port", "7", "--echo", "--on-eof", "keep")
    lab.enter()
    c = connect(7)
    c.sendall(b"ping")
    check(c.recv(10) == b"ping", "no echo")
    port = c.getsockname()[1]
    kside = "192.0.2.1:%d" % port
    conn = wait_for(lambda: srv.conn_to_port(port), 5, "glass's connection")
    cid = conn["id"]
    c.close()  # the kernel closes first

    wait_for(lambda: (srv.conn_to_port(port) or {}).get("state") == "CLOSE_WAIT", 5,
             "glass in CLOSE_WAIT")
    wait_for(lambda: lab.kernel_has("fin-wait-2", local=kside), 5, "the kernel in FIN-WAIT-2")

    # an application that never closes: CLOSE_WAIT stays, and shows
    time.sleep(2)
    conn = srv.conn_to_port(port)
    check(conn["state"] == "CLOSE_WAIT", "glass left CLOSE_WAIT: %r" % conn)
    check(lab.kernel_has("fin-wait-2", local=kside), "the kernel left FIN-WAIT-2")
    rows = subprocess.run([lab.glass, "ss", "--ctl", srv.ctl_path], capture_output=True,
                          text=True).stdout.splitlines()
    check(any(r.split()[0] == "CLOSE-WAIT" and r.split()[3:5] == [GLASS_ADDR + ":7", kside]
              for r in rows[1:]), "glass ss does not show the CLOSE-WAIT: %r" % rows)
    app = srv.ctl("app")
    check(any(a["id"] == cid and a["held"] for a in app), "application view %r" % app)

    # the application finally closes: LAST_ACK, then CLOSED on the kernel's ACK
    check(srv.ctl("close %d" % cid) == [{"closed": cid}], "ctl close")
    wait_for(lambda: srv.conn_to_port(port) is None, 5, "glass's connection to be gone")
    wait_for(lambda: lab.kernel_has("time-wait", local=kside), 5, "the kernel in TIME-WAIT")
    h = srv.history(cid)
    check(path_of(h)[-4:] == ["ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED"],
          "glass path %r" % path_of(h))
    check(states(h)[-3:] == [("ESTABLISHED", "CLOSE_WAIT", "rcv_fin"),
                             ("CLOSE_WAIT", "LAST_ACK", "app_close"),
                             ("LAST_ACK", "CLOSED", "rcv_ack_of_fin")], "causes %r" % states(h))
    check(not any(c["state"] == "TIME_WAIT" for c in srv.conns()), "glass kept a TIME_WAIT")
