#!/usr/bin/env python3
"""Resets on a real wire: a SYN to a port glass does not listen on gets RST (the kernel's
connect() fails with ECONNREFUSED); glass aborting a connection (SO_LINGER {1,0}) gives the
kernel's application ECONNRESET; the kernel aborting gives glass's connection CLOSED via
rcv_rst."""
import errno
import socket
import struct

from glasslab import GLASS_ADDR, Lab, check, connect, states, wait_for

with Lab("rst") as lab:
    srv = lab.serve("--port", "7", "--echo")
    lab.enter()

    try:
        connect(81).close()
        check(False, "connect to a closed port succeeded")
    except OSError as e:
        check(e.errno == errno.ECONNREFUSED, "closed port: %r, want ECONNREFUSED" % e)
    check(srv.mib()["TcpOutRsts"] >= 1, "no RST counted")

    # glass aborts
    c = connect(7)
    c.sendall(b"x")
    check(c.recv(10) == b"x", "no echo")
    port = c.getsockname()[1]
    cid = wait_for(lambda: srv.conn_to_port(port), 5, "glass's connection")["id"]
    check(srv.ctl("abort %d" % cid) == [{"aborted": cid}], "ctl abort")
    c.settimeout(5)
    try:
        c.recv(10)
        check(False, "recv after glass's RST did not fail")
    except OSError as e:
        check(e.errno == errno.ECONNRESET, "after glass's abort: %r, want ECONNRESET" % e)
    check(states(srv.history(cid))[-1] == ("ESTABLISHED", "CLOSED", "app_abort"),
          "history %r" % states(srv.history(cid)))
    c.close()

    # the kernel aborts (SO_LINGER {1,0}): glass's connection is reset
    c = connect(7)
    port = c.getsockname()[1]
    cid = wait_for(lambda: srv.conn_to_port(port), 5, "glass's connection")["id"]
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    wait_for(lambda: srv.conn_to_port(port) is None, 5, "glass's connection to be reset")
    check(states(srv.history(cid))[-1] == ("ESTABLISHED", "CLOSED", "rcv_rst"),
          "history %r" % states(srv.history(cid)))
    check(srv.mib()["TcpEstabResets"] == 2, "TcpEstabResets %d" % srv.mib()["TcpEstabResets"])
