#!/usr/bin/env python3
"""`glass serve --threads 2`: two stacks on two threads, each on its own queue of a multi-queue
TUN device (IFF_MULTI_QUEUE), the kernel steering each flow to one queue by its symmetric flow
hash. Many concurrent kernel clients echo random bytes through it: every one gets its bytes
back, both shards served flows (the per-shard counters of the `shards` control command), no
segment reached a shard that did not know its flow (no connection reset), and the control socket
speaks for the whole group (info and mib summed, conns of both shards with group-wide ids,
history routed to the owning shard, glass ss and glass nstat unchanged). Then the same with
--offload, SIGHUP reloading every shard, SIGTERM stopping them all, and the errors: a
single-queue device, a bad --threads."""
import os
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor

from glasslab import Lab, check, connect, echo_through, log, wait_for

N_CLIENTS = 240
PAYLOAD = 24 << 10


def echo_once(i):
    data = os.urandom(PAYLOAD)
    return echo_through(7, data) == data


def many(n, fn, workers=48):
    with ThreadPoolExecutor(max_workers=workers) as ex:
        return list(ex.map(fn, range(n)))


with Lab("shard", budget=150, multi_queue=True) as lab:
    glass = lab.glass

    # -- usage errors: one line, exit 2 ------------------------------------------------------
    for bad in (["--threads", "0"], ["--threads", "65"], ["--threads", "two"],
                ["--threads", "2", "--pcap", lab.path("x.pcap")], ["--steer", "software"],
                ["--threads", "2", "--steer", "rss"]):
        r = subprocess.run([glass, "serve", "--port", "7", "--echo"] + bad,
                           capture_output=True, text=True)
        check(r.returncode == 2 and r.stderr.count("\n") == 1,
              "serve %s: exit %d, stderr %r" % (bad, r.returncode, r.stderr))

    srv = lab.serve("--port", "7", "--echo", "--threads", "2")
    lab.enter()
    info = srv.ctl("info")[0]
    check(info.get("shards") == 2, "info does not say 2 shards: %r" % info)

    # -- many concurrent kernel clients ------------------------------------------------------
    ok = many(N_CLIENTS, echo_once)
    check(all(ok), "%d of %d echo clients got wrong bytes back" % (ok.count(False), len(ok)))
    wait_for(lambda: sum(s["passive_opens"] for s in srv.ctl("shards")) >= N_CLIENTS, 10,
             "every connection counted")
    shards = srv.ctl("shards")
    log("shards after %d clients: %r" % (N_CLIENTS, shards))
    check([s["shard"] for s in shards] == [0, 1], "shards reply: %r" % shards)
    opens = [s["passive_opens"] for s in shards]
    check(sum(opens) == N_CLIENTS, "passive opens %r, want %d in all" % (opens, N_CLIENTS))
    check(min(opens) >= N_CLIENTS // 5,
          "one shard served almost nothing (%r): flows are not spread over the queues" % opens)
    # A segment of an established flow on the other queue would meet that shard's listener,
    # which answers an ACK it has no connection for with an RST: the client's transfer would
    # fail (checked above) and the owning shard would see its connection reset.
    check(all(s["estab_resets"] == 0 for s in shards),
          "a shard's connection was reset (a segment on the wrong queue?): %r" % shards)
    for s in shards:
        check(s["rx_packets"] > 0 and s["tx_packets"] > 0, "shard idle: %r" % s)
    mib = srv.mib()
    check(mib["TcpPassiveOpens"] == N_CLIENTS,
          "mib TcpPassiveOpens %d, want the sum %d" % (mib["TcpPassiveOpens"], N_CLIENTS))
    info = srv.ctl("info")[0]
    check(info["rx_packets"] == sum(s["rx_packets"] for s in srv.ctl("shards")) or
          info["rx_packets"] >= sum(s["rx_packets"] for s in shards),
          "info rx_packets is not the sum over the queues: %r" % info)

    # -- conns, history, glass ss and glass nstat across the shards --------------------------
    held = [connect(7) for _ in range(24)]
    for c in held:
        c.sendall(b"x")
        check(c.recv(1) == b"x", "held connection does not echo")
    rows = [c for c in srv.conns() if c["state"] == "ESTABLISHED"]
    check(len(rows) == len(held), "conns lists %d ESTABLISHED, want %d" % (len(rows), len(held)))
    check({c["shard"] for c in rows} == {0, 1}, "held connections all on one shard: %r"
          % sorted(c["shard"] for c in rows))
    ids = [c["id"] for c in rows]
    check(len(set(ids)) == len(ids), "connection ids not unique across shards: %r" % ids)
    for c in rows:
        check(c["id"] % 2 == c["shard"], "id %d does not name shard %d" % (c["id"], c["shard"]))
        h = srv.history(c["id"])
        path = [t["to"] for t in h]
        check("ESTABLISHED" in path and all(t["conn"] == c["id"] for t in h),
              "history %d (shard %d): %r" % (c["id"], c["shard"], h))
    bad = (max(ids) // 2 + 1000) * 2 + 1  # shard 1, a local id never used
    rep = srv.history(bad)
    check(len(rep) == 1 and ("no connection %d " % bad) in rep[0].get("error", ""),
          "history of an unknown id names that id: %r" % rep)
    listeners = [c for c in srv.conns() if c["state"] == "LISTEN"]
    check(len(listeners) == 2, "want one listener per shard: %r" % listeners)
    r = subprocess.run([glass, "ss", "--ctl", srv.ctl_path, "-t", "state", "established"],
                       capture_output=True, text=True)
    check(r.returncode == 0 and r.stdout.count("192.0.2.2:7") == len(held),
          "glass ss: exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
    r = subprocess.run([glass, "nstat", "--ctl", srv.ctl_path, "--json"], capture_output=True,
                       text=True)
    check(r.returncode == 0 and '"TcpPassiveOpens":%d' % (N_CLIENTS + len(held)) in r.stdout,
          "glass nstat: exit %d %s%s" % (r.returncode, r.stdout, r.stderr))
    # close ID through the front: the owning shard's application closes it (FIN).
    victim = rows[-1]
    rep = srv.ctl("close %d" % victim["id"])
    check(rep and rep[0].get("closed") == victim["id"], "close: %r" % rep)
    for c in held:
        c.close()
    log("conns, history, ss, nstat, close across %d shards: ok" % len(shards))

    # -- SIGHUP: every shard reloads ---------------------------------------------------------
    srv.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: srv.stderr().count("reloaded") == 2, 5, "both shards to reload")
    ok = many(40, echo_once)
    check(all(ok), "echo after reload failed")
    log("SIGHUP reloaded both shards")

    # -- SIGTERM: all threads stop -----------------------------------------------------------
    rc = srv.stop(signal.SIGTERM, timeout=10)
    check(rc == 0, "glass serve --threads 2 exited %s after SIGTERM: %s" % (rc, srv.stderr()))

    # -- the same with --offload (vnet headers on every queue) -------------------------------
    srv = lab.serve("--port", "7", "--echo", "--threads", "2", "--offload", tag="offload")
    check(srv.ctl("info")[0].get("offload") is True, "offload not on")
    ok = many(60, echo_once, workers=16)
    check(all(ok), "echo with --offload --threads 2 failed")
    shards = srv.ctl("shards")
    check(all(s["passive_opens"] > 0 for s in shards), "offload: a shard served nothing: %r"
          % shards)
    check(all(s["estab_resets"] == 0 for s in shards), "offload: resets: %r" % shards)
    rc = srv.stop(signal.SIGINT, timeout=10)
    check(rc == 0, "exit %s after SIGINT" % rc)
    log("--offload --threads 2: %r" % [s["passive_opens"] for s in shards])

    # -- --steer software: our keyed hash decides which shard owns a flow; a datagram the
    # kernel put on the other queue is handed over, and the owner's answers, written on its own
    # queue, teach the kernel's flow table (tun_flow_update) where the rest of the flow goes.
    srv = lab.serve("--port", "7", "--echo", "--threads", "2", "--steer", "software",
                    tag="soft")
    check(srv.ctl("info")[0].get("steer") == "software", "info: steer not software")
    ok = many(120, echo_once, workers=24)
    check(all(ok), "echo with --steer software failed")
    shards = srv.ctl("shards")
    log("--steer software: %r" % shards)
    fin = sum(s["forwarded_in"] for s in shards)
    fout = sum(s["forwarded_out"] for s in shards)
    rx = sum(s["rx_packets"] for s in shards)
    check(all(s["passive_opens"] > 0 and s["estab_resets"] == 0 for s in shards),
          "software steering: %r" % shards)
    check(fin == fout and all(s["forward_drops"] == 0 for s in shards),
          "forwarded out %d, in %d: %r" % (fout, fin, shards))
    # The kernel's hash and ours agreeing on all 120 flows has a chance of 2^-120.
    check(fin > 0, "no datagram was handed over")
    # Handed over: about the first datagram or two of half the flows; the rest came straight.
    check(fin * 4 < rx, "%d of %d datagrams handed over: the kernel did not learn the queue "
          "from our writes" % (fin, rx))
    check(srv.stop(signal.SIGTERM, timeout=10) == 0, "exit after SIGTERM")

    # -- one stack on the multi-queue device: it takes one queue
    srv = lab.serve("--port", "7", "--echo", tag="one")
    check(all(many(8, echo_once, workers=4)), "echo with one stack on a multi-queue device")
    check(srv.stop(signal.SIGTERM, timeout=10) == 0, "exit after SIGTERM (one stack)")

    # -- a device made without multi_queue: a clear error ------------------------------------
    ns2, tun2 = lab.lab_up("sq")
    r = subprocess.run([glass, "serve", "--netns", ns2, "--tun", tun2, "--ctl",
                        lab.path("sq.sock"), "--port", "7", "--echo", "--threads", "2"],
                       capture_output=True, text=True, timeout=20)
    check(r.returncode == 1 and "multi-queue" in r.stderr,
          "single-queue device: exit %d %r" % (r.returncode, r.stderr))
