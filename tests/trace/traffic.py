#!/usr/bin/env python3
"""Real Linux TCP traffic on 127.0.0.1 for the glass trace / tshark differential test.

usage: traffic.py PORT ZWIN_PORT REFUSED_PORT LOG_JSON DONE_FILE STOP_FILE

Runs the scenarios below one after the other, each a connection (or two) between a client
and a server socket of this process, and writes LOG_JSON: for every scenario its name and the
client ports it used, in order. Then it creates DONE_FILE and waits (at most 20 s) for
STOP_FILE before closing the sockets of the "half_open" scenario, so that the capture ends
while that connection is still half-closed. Everything is bounded in time; nothing leaves
127.0.0.1.
"""
import json
import os
import socket
import struct
import sys
import threading
import time

HOST = "127.0.0.1"


def recv_exact(s, n):
    got = 0
    while got < n:
        b = s.recv(min(65536, n - got))
        if not b:
            break
        got += len(b)
    return got


def recv_all(s):
    got = 0
    while True:
        b = s.recv(65536)
        if not b:
            return got
        got += len(b)


def client(port, bind_port=0):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.settimeout(10)
    if bind_port:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        c.bind((HOST, bind_port))
    c.connect((HOST, port))
    return c


class Server:
    """Accepts on a listener and runs one handler per connection, in arrival order."""

    def __init__(self, lsock):
        self.lsock = lsock
        self.threads = []
        self.errors = []

    def serve(self, handler):
        def run():
            try:
                conn, _ = self.lsock.accept()
                conn.settimeout(10)
                handler(conn)
            except Exception as e:  # reported at the end
                self.errors.append(f"{handler.__name__}: {e!r}")

        t = threading.Thread(target=run, daemon=True)
        t.start()
        self.threads.append(t)
        return t


def main():
    port, zport, refused, log_path, done_file, stop_file = (
        int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6])
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((HOST, port))
    lsock.listen(16)
    lsock.settimeout(10)
    # A listener with a tiny receive buffer (inherited by its connections) for zero windows.
    zsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    zsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    zsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    zsock.bind((HOST, zport))
    zsock.listen(4)
    zsock.settimeout(10)
    srv, zsrv = Server(lsock), Server(zsock)
    log = []
    keep_open = []

    def scenario(name, ports):
        log.append({"name": name, "client_ports": ports})

    # 1. normal: request, response, the client closes first (client TIME_WAIT).
    def h_normal(c):
        recv_exact(c, 65536)
        c.sendall(b"r" * 131072)
        recv_all(c)
        c.close()
    t = srv.serve(h_normal)
    c = client(port)
    c.sendall(b"q" * 65536)
    recv_exact(c, 131072)
    scenario("normal", [c.getsockname()[1]])
    c.close()
    t.join(10)

    # 2. server_close: the server closes first (server TIME_WAIT).
    def h_server_close(c):
        recv_exact(c, 1000)
        c.sendall(b"r" * 5000)
        c.close()
    t = srv.serve(h_server_close)
    c = client(port)
    c.sendall(b"q" * 1000)
    recv_all(c)
    scenario("server_close", [c.getsockname()[1]])
    time.sleep(0.05)
    c.close()
    t.join(10)

    # 3. linger_rst: SO_LINGER {1, 0} then close(): an RST instead of a FIN.
    def h_linger(c):
        recv_exact(c, 100)
        c.sendall(b"ok")
        try:
            recv_all(c)
        except ConnectionResetError:
            pass
        c.close()
    t = srv.serve(h_linger)
    c = client(port)
    c.sendall(b"q" * 100)
    recv_exact(c, 2)
    scenario("linger_rst", [c.getsockname()[1]])
    time.sleep(0.05)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    t.join(10)

    # 4. refused: nobody listens on the port: SYN, RST,ACK.
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.settimeout(5)
    try:
        c.connect((HOST, refused))
        raise SystemExit("connect to the refused port succeeded")
    except ConnectionRefusedError:
        pass
    scenario("refused", [c.getsockname()[1]])
    c.close()

    # 5. half_close: shutdown(SHUT_WR), the server still sends, then closes.
    def h_half(c):
        recv_all(c)
        c.sendall(b"r" * 32768)
        c.close()
    t = srv.serve(h_half)
    c = client(port)
    c.sendall(b"q" * 3000)
    c.shutdown(socket.SHUT_WR)
    recv_all(c)
    scenario("half_close", [c.getsockname()[1]])
    c.close()
    t.join(10)

    # 6. zero_window: the server does not read; the client fills its window, probes follow.
    def h_zero(c):
        time.sleep(1.2)  # zero-window probes meanwhile
        recv_all(c)
        c.close()
    t = zsrv.serve(h_zero)
    c = client(zport)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
    c.setblocking(False)
    sent, deadline = 0, time.time() + 1.0
    while time.time() < deadline and sent < 4 << 20:
        try:
            sent += c.send(b"z" * 16384)
        except BlockingIOError:
            time.sleep(0.01)
    c.setblocking(True)
    c.settimeout(10)
    scenario("zero_window", [c.getsockname()[1]])
    c.shutdown(socket.SHUT_WR)
    recv_all(c)
    c.close()
    t.join(10)

    # 7. keepalive: idle with SO_KEEPALIVE at 1 s: keep-alives and their ACKs.
    def h_keep(c):
        recv_exact(c, 10)
        recv_all(c)
        c.close()
    t = srv.serve(h_keep)
    c = client(port)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 5)
    c.sendall(b"k" * 10)
    time.sleep(2.6)
    scenario("keepalive", [c.getsockname()[1]])
    c.close()
    t.join(10)

    # 8. port_reuse: the server closes first, then the client connects again from the same
    #    port: its SYN takes over the server's TIME_WAIT (a new ISN on the same 4-tuple).
    def h_reuse(c):
        recv_exact(c, 10)
        c.sendall(b"bye")
        c.close()
    ports = []
    for _ in range(2):
        t = srv.serve(h_reuse)
        c = client(port, ports[0] if ports else 0)
        ports.append(c.getsockname()[1])
        c.sendall(b"x" * 10)
        recv_all(c)
        time.sleep(0.05)
        c.close()
        t.join(10)
        time.sleep(0.1)
    scenario("port_reuse", ports)

    # 9. half_open: the client shuts down its side; the server never closes before the
    #    capture ends (client FIN_WAIT_2, server CLOSE_WAIT).
    held = {}

    def h_half_open(c):
        recv_all(c)
        c.sendall(b"partial")
        held["conn"] = c
    t = srv.serve(h_half_open)
    c = client(port)
    c.sendall(b"q" * 500)
    c.shutdown(socket.SHUT_WR)
    recv_exact(c, 7)
    scenario("half_open", [c.getsockname()[1]])
    keep_open.append(c)
    t.join(10)

    errors = srv.errors + zsrv.errors
    with open(log_path, "w") as f:
        json.dump({"scenarios": log, "errors": errors}, f)
    open(done_file, "w").close()
    deadline = time.time() + 20
    while not os.path.exists(stop_file) and time.time() < deadline:
        time.sleep(0.05)
    for s in keep_open + [held.get("conn")]:
        if s is not None:
            s.close()
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
