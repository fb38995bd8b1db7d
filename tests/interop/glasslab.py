"""glasstcp interop tests: the helpers every tests/interop/interop_*.py script uses.

Each test makes its own network namespace with `glass lab up` (a TUN device whose kernel side
is 192.0.2.1/24), enters it (setns), runs `glass serve`/`glass connect` on the TUN device and
real Linux programs (Python sockets, curl, ping, socat, ss) against it, and removes everything
at the end, also when it fails or runs out of time. Only addresses in 192.0.2.0/24 inside the
namespaces the test made are ever used.

Exit status: 0 pass, 1 fail, 77 skip (not root, no TUN or netns support) -- except that with
GLASS_REQUIRE_NETNS=1 (CI) a skip is a failure.
"""
import ctypes
import errno
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
GLASS_ADDR = "192.0.2.2"
KERNEL_ADDR = "192.0.2.1"
CLONE_NEWNET = 0x40000000

_libc = ctypes.CDLL(None, use_errno=True)


def log(msg):
    print(msg, flush=True)


def skip(why):
    if os.environ.get("GLASS_REQUIRE_NETNS") == "1":
        log("FAIL: would skip, but GLASS_REQUIRE_NETNS=1: " + why)
        sys.exit(1)
    log("SKIP: " + why)
    sys.exit(SKIP)


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def wait_for(pred, timeout, what, interval=0.02):
    """Poll pred() until it returns something true; return that, or fail with `what`."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise Failure("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def _reap_stale(prefix):
    """Remove namespaces left by earlier runs of this test whose process is gone."""
    try:
        names = os.listdir("/run/netns")
    except OSError:
        return
    for n in names:
        m = re.fullmatch(re.escape(prefix) + r"-(\d+)(-\w+)?", n)
        if m and not os.path.exists("/proc/" + m.group(1)):
            subprocess.run(["ip", "netns", "del", n], stderr=subprocess.DEVNULL)


def _setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns %s: %s" % (path, os.strerror(e)))
    finally:
        os.close(fd)


def ctl_query(path, command, timeout=5.0):
    """Send one command to the control socket at path; the reply as a list of JSON objects."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    s.sendall(command.encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n.\n") and buf != b".\n":
        b = s.recv(65536)
        if not b:
            break
        buf += b
    s.close()
    lines = buf.decode().split("\n")
    check(len(lines) >= 2 and lines[-2] == ".", "control reply not terminated: %r" % buf[-200:])
    return [json.loads(l) for l in lines[:-2] if l]


class Serve:
    def __init__(self, proc, ctl, out, err):
        self.proc, self.ctl_path, self.out, self.err = proc, ctl, out, err

    def ctl(self, command, timeout=5.0):
        """Send one control-socket command; the reply as a list of JSON objects."""
        return ctl_query(self.ctl_path, command, timeout)

    def conns(self):
        return self.ctl("conns")

    def conn(self, pred):
        for c in self.conns():
            if pred(c):
                return c
        return None

    def conn_to_port(self, peer_port, local_port=None):
        """The connection whose peer port is peer_port."""
        return self.conn(lambda c: c["peer"].endswith(":%d" % peer_port) and
                         (local_port is None or c["local"].endswith(":%d" % local_port)))

    def history(self, conn_id):
        return self.ctl("history %d" % conn_id)

    def mib(self):
        return {m["name"]: m["value"] for m in self.ctl("mib")}

    def stderr(self):
        with open(self.err) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


class Lab:
    """A namespace with a TUN device for one test. Use as a context manager."""

    def __init__(self, name, budget=100, multi_queue=False):
        if len(sys.argv) < 2:
            print("usage: %s PATH/TO/glass" % sys.argv[0])
            sys.exit(2)
        self.glass = os.path.abspath(sys.argv[1])
        self.name = name
        self.budget = budget
        self.multi_queue = multi_queue  # a multi-queue device (glass serve --threads)
        self.procs = []
        self.namespaces = []
        self.tmp = None
        self.ns = None
        self.tun = None

    # -- setup and teardown --------------------------------------------------------------
    def __enter__(self):
        if os.geteuid() != 0:
            skip("interop tests need root (netns, TUN)")
        if not os.path.exists("/dev/net/tun"):
            skip("no /dev/net/tun")
        for tool in ("ip", "ss"):
            if shutil.which(tool) is None:
                skip("'%s' not installed (iproute2)" % tool)
        if not os.access(self.glass, os.X_OK):
            raise SystemExit("no glass binary at %s" % self.glass)
        self.prefix = "glt-" + self.name
        _reap_stale(self.prefix)
        probe = "%s-%d-probe" % (self.prefix, os.getpid())
        r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
        if r.returncode != 0:
            skip("cannot create a network namespace: " + r.stderr.strip())
        subprocess.run(["ip", "netns", "del", probe])
        self.tmp = tempfile.mkdtemp(prefix="glass-interop-")
        self.root_ns = os.open("/proc/self/ns/net", os.O_RDONLY)
        # Our own deadline, under ctest's: the cleanup below always runs.
        signal.signal(signal.SIGALRM, self._on_alarm)
        signal.signal(signal.SIGTERM, self._on_alarm)
        signal.alarm(self.budget)
        self.ns, self.tun = self.lab_up(multi_queue=self.multi_queue)
        return self

    def _on_alarm(self, signo, frame):
        raise Failure("test budget of %ds exceeded (signal %d)" % (self.budget, signo))

    def lab_up(self, suffix="", addr=None, multi_queue=False):
        ns = "%s-%d%s" % (self.prefix, os.getpid(), "-" + suffix if suffix else "")
        tun = ("gt%d%s" % (os.getpid(), suffix))[:15]
        cmd = [self.glass, "lab", "up", "--netns", ns, "--tun", tun]
        if addr:
            cmd += ["--addr", addr]
        if multi_queue:
            cmd += ["--multi-queue"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise Failure("glass lab up failed: " + r.stdout + r.stderr)
        self.namespaces.append((ns, tun))
        return ns, tun

    def netns_add(self, suffix):
        """A plain namespace (no TUN device), removed at the end like the others."""
        ns = "%s-%d-%s" % (self.prefix, os.getpid(), suffix)
        self.sh("ip", "netns", "add", ns)
        self.namespaces.append((ns, "-"))
        self.sh("ip", "-n", ns, "link", "set", "lo", "up")
        return ns

    def sh(self, *cmd):
        r = subprocess.run(list(cmd), capture_output=True, text=True)
        if r.returncode != 0:
            raise Failure("%s: %s" % (" ".join(cmd), r.stderr.strip()))
        return r.stdout

    def __exit__(self, etype, exc, tb):
        signal.alarm(0)
        failed = etype is not None
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if failed:
            if isinstance(exc, (Failure, AssertionError)):
                log("FAIL: %s" % exc)
            else:
                import traceback
                traceback.print_exception(etype, exc, tb)
                log("FAIL: %s: %s" % (etype.__name__, exc))
            self.dump_logs()
        try:
            _setns("/proc/self/fd/%d" % self.root_ns)
        except OSError:
            pass
        for ns, tun in self.namespaces:
            if tun != "-":
                subprocess.run([self.glass, "lab", "down", "--netns", ns, "--tun", tun],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if os.path.exists("/run/netns/" + ns):
                subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if failed:
            sys.exit(1)
        log("PASS: " + self.name)
        sys.exit(0)

    def dump_logs(self):
        if not self.tmp:
            return
        for f in sorted(os.listdir(self.tmp)):
            if f.endswith((".out", ".err")):
                with open(os.path.join(self.tmp, f), errors="replace") as fh:
                    text = fh.read()
                if text.strip():
                    log("---- %s ----\n%s" % (f, text[-4000:]))

    # -- helpers ---------------------------------------------------------------------------
    def enter(self, ns=None):
        """Move this process into the namespace: sockets and programs started from now on
        live there."""
        _setns("/run/netns/" + (ns or self.ns))

    def path(self, name):
        return os.path.join(self.tmp, name)

    def serve(self, *args, ns=None, tun=None, tag="serve", wait=True):
        ctl = self.path(tag + ".sock")
        out, err = self.path(tag + ".out"), self.path(tag + ".err")
        cmd = [self.glass, "serve", "--netns", ns or self.ns, "--tun", tun or self.tun,
               "--ctl", ctl] + list(args)
        p = subprocess.Popen(cmd, stdout=open(out, "w"), stderr=open(err, "w"))
        self.procs.append(p)
        s = Serve(p, ctl, out, err)
        if wait:
            def up():
                if p.poll() is not None:
                    raise Failure("glass serve exited with %s: %s" % (p.returncode, s.stderr()))
                try:
                    return s.ctl("info", timeout=1)
                except OSError:
                    return None
            wait_for(up, 10, "glass serve's control socket")
        return s

    def glass_cmd(self, *args, stdin=None, stdout=None, timeout=60, ns=None, tun=None,
                  tag="connect"):
        """Run `glass connect ...` (or another TUN command) to completion."""
        err = self.path(tag + ".err")
        cmd = [self.glass] + [args[0], "--netns", ns or self.ns, "--tun", tun or self.tun,
                              "--ctl", self.path(tag + ".sock")] + list(args[1:])
        with open(err, "w") as ef:
            r = subprocess.run(cmd, stdin=stdin, stdout=stdout, stderr=ef, timeout=timeout)
        with open(err) as ef:
            return r.returncode, ef.read()

    def spawn(self, cmd, tag, **kw):
        out, err = self.path(tag + ".out"), self.path(tag + ".err")
        p = subprocess.Popen(cmd, stdout=open(out, "w"), stderr=open(err, "w"), **kw)
        self.procs.append(p)
        return p

    def kernel_ss(self, state):
        """The kernel's TCP sockets in `state` (ss -tan state ...) as (local, peer) pairs."""
        r = subprocess.run(["ss", "-tanH", "state", state], capture_output=True, text=True)
        rows = []
        for line in r.stdout.splitlines():
            f = line.split()
            if len(f) >= 4:
                rows.append((f[-2], f[-1]))
        return rows

    def kernel_has(self, state, local=None, peer=None):
        for l, p in self.kernel_ss(state):
            if (local is None or l == local) and (peer is None or p == peer):
                return True
        return False


def connect(port, host=GLASS_ADDR, timeout=10):
    s = socket.create_connection((host, port), timeout=timeout)
    return s


def recv_digest(sock):
    """Read sock until the peer's FIN: (bytes read, their SHA-256 digest)."""
    h, n = hashlib.sha256(), 0
    while True:
        b = sock.recv(1 << 16)
        if not b:
            break
        h.update(b)
        n += len(b)
    return n, h.digest()


def echo_through(port, data, timeout=20):
    """Send data to the echo server on port, shut down our side, read until its FIN: the bytes
    that came back."""
    s = connect(port, timeout=timeout)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        got = bytearray()
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            got += b
        return bytes(got)
    finally:
        s.close()


def states(history):
    """[(from, to, cause), ...] of a history reply."""
    return [(t["from"], t["to"], t["cause"]) for t in history]


def path_of(history):
    """The sequence of states a connection went through, e.g. ['SYN_RCVD', 'ESTABLISHED', ...]."""
    seq = []
    for t in history:
        if not seq:
            seq.append(t["from"])
        seq.append(t["to"])
    return seq
