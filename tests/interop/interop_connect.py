#!/usr/bin/env python3
"""`glass connect` (the stack as a client, like nc) against a kernel server: 2 MiB up and 2 MiB
down byte for byte; a closed port is "Connection refused"; an address nobody answers times out."""
import hashlib
import os
import socket
import subprocess
import threading

from glasslab import KERNEL_ADDR, Lab, check, recv_digest

SIZE = 2 << 20

with Lab("connect") as lab:
    lab.enter()
    payload = os.urandom(SIZE)
    src = lab.path("up.bin")
    with open(src, "wb") as f:
        f.write(payload)

    def server(port, mode, result):
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((KERNEL_ADDR, port))
        ls.listen(1)
        ls.settimeout(20)
        result["ready"].set()
        try:
            c, peer = ls.accept()
            c.settimeout(20)
            result["peer"] = peer
            if mode == "sink":
                result["n"], result["hash"] = recv_digest(c)
            else:
                c.sendall(payload)
            c.close()
        except OSError as e:
            result["error"] = e
        ls.close()

    # glass -> kernel: stdin to the connection; EOF sends FIN; the server's FIN ends it
    res = {"ready": threading.Event()}
    t = threading.Thread(target=server, args=(5000, "sink", res))
    t.start()
    res["ready"].wait(5)
    with open(src, "rb") as f:
        rc, err = lab.glass_cmd("connect", KERNEL_ADDR, "5000", stdin=f, stdout=subprocess.DEVNULL)
    t.join(30)
    check(rc == 0, "glass connect (up) exited %d: %s" % (rc, err))
    check("error" not in res, "server: %r" % res.get("error"))
    check(res.get("n") == SIZE and res["hash"] == hashlib.sha256(payload).digest(),
          "kernel received %s bytes, want %d, identical" % (res.get("n"), SIZE))
    check(res["peer"][0] == "192.0.2.2", "peer address %r" % (res["peer"],))

    # kernel -> glass: the connection to stdout
    res = {"ready": threading.Event()}
    t = threading.Thread(target=server, args=(5001, "source", res))
    t.start()
    res["ready"].wait(5)
    dst = lab.path("down.bin")
    with open(dst, "wb") as out:
        rc, err = lab.glass_cmd("connect", KERNEL_ADDR, "5001", stdin=subprocess.DEVNULL,
                                stdout=out)
    t.join(30)
    check(rc == 0, "glass connect (down) exited %d: %s" % (rc, err))
    with open(dst, "rb") as f:
        check(f.read() == payload, "stdout differs from what the kernel sent")

    # RST from the kernel: "Connection refused", exit 1
    rc, err = lab.glass_cmd("connect", KERNEL_ADDR, "5002", stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL)
    check(rc == 1 and "Connection refused" in err, "closed port: exit %d, %r" % (rc, err))

    # nobody at 192.0.2.77 (the kernel does not forward): --timeout gives up
    rc, err = lab.glass_cmd("connect", "--timeout", "1", "192.0.2.77", "5000",
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    check(rc == 1 and "timed out" in err, "no answer: exit %d, %r" % (rc, err))

    # usage errors are exit 2
    rc, err = lab.glass_cmd("connect", "not-an-address", "5000", stdin=subprocess.DEVNULL)
    check(rc == 2, "bad HOST: exit %d" % rc)
