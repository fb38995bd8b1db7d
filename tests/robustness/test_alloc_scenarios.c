/* glasstcp — allocation-failure injection over the scenario suite (robustness/README.md §5.2
 * "fail the Nth allocation", catalogue 117).
 *
 * The scenarios are those of `glass demo` (tools/glass/scenarios.c: the CLI is not linkable
 * from tests, so each is driven here again through the public API on a glass_simnet), plus a
 * lossy bulk transfer, a listener with a queue of clients and fragmented echoes. Each runs
 * once with allocations succeeding, where its outcome is checked and its allocations on each
 * side are counted; then once per allocation point N of each side with that side's Nth
 * allocation failing (every point, or a seeded sample of GLASS_ALLOC_POINTS if there are
 * more; the environment variable GLASS_ALLOC_POINTS=0 means all). In every run:
 *   - glass_stack_check() holds for both stacks after every 5 ms of virtual time;
 *   - the application sees only clean refusals (-ENOMEM and the like), never a crash;
 *   - afterwards, with allocations succeeding again, a new connection between the same two
 *     stacks transfers 16 kB byte-exact (recovery);
 *   - after glass_stack_free() every byte and block went back (counting allocator). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "failalloc.h"
#include "ipkit.h"
#include <glass/glass.h>

#define A_CLI GLASS_IP4(192, 0, 2, 1)
#define A_SRV GLASS_IP4(192, 0, 2, 2)
#define MS(x) GLASS_MSEC(x)

struct world {
    struct failing f[2];
    struct glass_stack *st[2]; /* 0 client, 1 server */
    struct glass_simnet *net;
    bool ok;                   /* invariants held */
    bool strict;               /* the baseline run: check the scenario's outcome too */
    char why[256];
    /* filter state */
    int drop_from;             /* -1: none */
    uint8_t drop_flags;        /* drop packets from drop_from with all of these TCP flags */
    int drop_count;            /* -1: all */
};

static enum glass_sim_verdict w_filter(void *ctx, const struct glass_sim_packet *p)
{
    struct world *w = ctx;
    if (w->drop_from < 0 || p->from != w->drop_from || w->drop_count == 0)
        return GLASS_SIM_PASS;
    struct glass_pkt_summary s;
    if (glass_pkt_decode(p->data, p->len, &s) != 0)
        return GLASS_SIM_PASS;
    if ((s.flags & w->drop_flags) != w->drop_flags)
        return GLASS_SIM_PASS;
    if (w->drop_count > 0)
        w->drop_count--;
    return GLASS_SIM_DROP;
}

static void w_drop(struct world *w, int from, uint8_t flags, int count)
{
    w->drop_from = from;
    w->drop_flags = flags;
    w->drop_count = count;
}

static void w_fail(struct world *w, const char *fmt, ...)
{
    if (!w->ok)
        return;
    w->ok = false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->why, sizeof w->why, fmt, ap);
    va_end(ap);
}

/* The scenario's outcome, checked only in the baseline run. */
static void expect(struct world *w, bool cond, const char *what)
{
    if (w->strict && !cond)
        w_fail(w, "baseline outcome: %s", what);
}

static void w_run(struct world *w, glass_time_t dt)
{
    glass_time_t end = glass_simnet_now(w->net) + dt;
    while (w->ok && glass_simnet_now(w->net) < end) {
        glass_time_t step = end - glass_simnet_now(w->net) < MS(5) ? end - glass_simnet_now(w->net)
                                                                     : MS(5);
        glass_simnet_run_for(w->net, step);
        for (int i = 0; i < 2 && w->ok; i++) {
            char why[200];
            if (glass_stack_check(w->st[i], why, sizeof why) != 0)
                w_fail(w, "%s: glass_stack_check: %s", i ? "server" : "client", why);
        }
    }
}

/* Socket calls an application retries once after -ENOMEM. */
static int w_socket(struct world *w, int side)
{
    int fd = glass_socket(w->st[side]);
    return fd == -GLASS_ENOMEM ? glass_socket(w->st[side]) : fd;
}

static int w_listen(struct world *w, uint16_t port, int backlog)
{
    int l = w_socket(w, 1);
    if (l < 0)
        return l;
    int one = 1;
    glass_setsockopt(w->st[1], l, GLASS_SOL_SOCKET, GLASS_SO_REUSEADDR, &one, sizeof one);
    struct glass_endpoint ep = {A_SRV, port};
    int r = glass_bind(w->st[1], l, &ep);
    if (r == 0)
        r = glass_listen(w->st[1], l, backlog);
    if (r == -GLASS_ENOMEM)
        r = glass_listen(w->st[1], l, backlog);
    if (r != 0) {
        glass_close(w->st[1], l);
        return r;
    }
    return l;
}

static int w_connect(struct world *w, int side, uint32_t daddr, uint16_t port, uint16_t lport)
{
    int c = w_socket(w, side);
    if (c < 0)
        return c;
    if (lport) {
        int one = 1;
        glass_setsockopt(w->st[side], c, GLASS_SOL_SOCKET, GLASS_SO_REUSEADDR, &one, sizeof one);
        struct glass_endpoint me = {side ? A_SRV : A_CLI, lport};
        glass_bind(w->st[side], c, &me);
    }
    struct glass_endpoint ep = {daddr, port};
    long r = glass_connect(w->st[side], c, &ep);
    if (r == -GLASS_ENOMEM)
        r = glass_connect(w->st[side], c, &ep);
    glass_simnet_flush(w->net);
    return r == -GLASS_EINPROGRESS || r == 0 ? c : (int)r;
}

static int state(struct world *w, int side, int fd)
{
    return fd < 0 ? -1 : glass_sock_state(w->st[side], fd);
}

static uint8_t pat(size_t i)
{
    return (uint8_t)(i * 31u + (i >> 9));
}

/* Move n bytes from (from, fa) to (to, fb) while time runs; returns bytes received intact. */
static size_t transfer(struct world *w, int from, int fa, int to, int fb, size_t n,
                       glass_time_t limit)
{
    static uint8_t buf[8192];
    size_t sent = 0, got = 0;
    glass_time_t end = glass_simnet_now(w->net) + limit;
    while (w->ok && got < n && glass_simnet_now(w->net) < end) {
        if (sent < n) {
            size_t k = n - sent < sizeof buf ? n - sent : sizeof buf;
            for (size_t i = 0; i < k; i++)
                buf[i] = pat(sent + i);
            long r = glass_send(w->st[from], fa, buf, k, 0);
            if (r > 0)
                sent += (size_t)r;
            glass_simnet_flush(w->net);
        }
        long r;
        while ((r = glass_recv(w->st[to], fb, buf, sizeof buf, 0)) > 0) {
            for (long i = 0; i < r; i++)
                if (buf[i] != pat(got + (size_t)i)) {
                    w_fail(w, "corrupt byte at %zu", got + (size_t)i);
                    return got;
                }
            got += (size_t)r;
        }
        if (r <= 0 && r != -GLASS_EAGAIN && sent >= n)
            break; /* EOF or error: the connection is gone */
        w_run(w, MS(5));
    }
    return got;
}

/* Established pair on port: client fd *c, server fd *s. False if refused (under failure). */
static bool pair(struct world *w, int l, uint16_t port, int *c, int *s)
{
    *c = w_connect(w, 0, A_SRV, port, 0);
    *s = -1;
    if (*c < 0)
        return false;
    /* up to 30 s: SYN retransmissions on a lossy link */
    for (int i = 0; i < 600 && w->ok && (*s < 0 || state(w, 0, *c) != GLASS_TCP_ESTABLISHED);
         i++) {
        w_run(w, MS(50));
        if (*s < 0)
            *s = glass_accept(w->st[1], l, NULL);
        if (*s < 0)
            *s = -1;
    }
    return *s >= 0 && state(w, 0, *c) == GLASS_TCP_ESTABLISHED;
}

/* ---- the scenarios (names as in `glass demo`) ---------------------------------------------- */

static void s_handshake(struct world *w)
{
    int l = w_listen(w, 80, 8), c, s;
    bool up = l >= 0 && pair(w, l, 80, &c, &s);
    expect(w, up, "established");
    if (up)
        expect(w, transfer(w, 0, c, 1, s, 1000, GLASS_SEC(30)) == 1000, "data");
}

static void s_active_close(struct world *w)
{
    int l = w_listen(w, 80, 8), c, s;
    if (l < 0 || !pair(w, l, 80, &c, &s))
        return expect(w, false, "established");
    transfer(w, 0, c, 1, s, 20000, GLASS_SEC(60));
    glass_close(w->st[0], c);
    w_run(w, MS(50));
    glass_close(w->st[1], s);
    w_run(w, MS(100));
    expect(w, glass_stack_in_state(w->st[0], GLASS_TCP_TIME_WAIT) == 1, "TIME_WAIT");
    w_run(w, GLASS_SEC(61));
}

static void s_passive_close(struct world *w)
{
    int l = w_listen(w, 80, 8), c, s;
    if (l < 0 || !pair(w, l, 80, &c, &s))
        return expect(w, false, "established");
    transfer(w, 1, s, 0, c, 20000, GLASS_SEC(60));
    glass_close(w->st[1], s);
    w_run(w, MS(50));
    expect(w, state(w, 0, c) == GLASS_TCP_CLOSE_WAIT, "CLOSE_WAIT");
    glass_close(w->st[0], c);
    w_run(w, GLASS_SEC(61));
}

static void s_simultaneous_open(struct world *w)
{
    int a = w_connect(w, 0, A_SRV, 7001, 7000);
    int b = w_connect(w, 1, A_CLI, 7000, 7001);
    w_run(w, MS(100));
    expect(w, state(w, 0, a) == GLASS_TCP_ESTABLISHED && state(w, 1, b) == GLASS_TCP_ESTABLISHED,
           "both established");
    if (a >= 0 && b >= 0)
        transfer(w, 0, a, 1, b, 3000, GLASS_SEC(30));
    if (a >= 0)
        glass_close(w->st[0], a);
    if (b >= 0)
        glass_close(w->st[1], b);
    w_run(w, GLASS_SEC(61));
}

static void s_simultaneous_close(struct world *w)
{
    int l = w_listen(w, 80, 8), c, s;
    if (l < 0 || !pair(w, l, 80, &c, &s))
        return expect(w, false, "established");
    glass_close(w->st[0], c);
    glass_close(w->st[1], s);
    glass_simnet_flush(w->net);
    w_run(w, MS(100));
    expect(w, glass_stack_in_state(w->st[0], GLASS_TCP_TIME_WAIT) == 1 &&
                  glass_stack_in_state(w->st[1], GLASS_TCP_TIME_WAIT) == 1,
           "TIME_WAIT on both");
    w_run(w, GLASS_SEC(61));
}

static void s_half_close(struct world *w)
{
    int l = w_listen(w, 80, 8), c, s;
    if (l < 0 || !pair(w, l, 80, &c, &s))
        return expect(w, false, "established");
    glass_shutdown(w->st[0], c, GLASS_SHUT_WR);
    w_run(w, MS(50));
    expect(w, transfer(w, 1, s, 0, c, 30000, GLASS_SEC(60)) == 30000, "data after half-close");
    glass_close(w->st[1], s);
    w_run(w, MS(50));
    glass_close(w->st[0], c);
    w_run(w, GLASS_SEC(61));
}

/* One data segment lost: the receiver queues what follows out of order and SACKs it, the
 * sender recovers. Reaches the allocations made on first need (docs/performance.md): the
 * out-of-order range list, the SACK scoreboard, CUBIC's state, RACK's block. */
static void s_out_of_order(struct world *w)
{
    int l = w_listen(w, 80, 8), c, s;
    if (l < 0 || !pair(w, l, 80, &c, &s))
        return expect(w, false, "established");
    w_run(w, MS(50));
    w_drop(w, 1, GLASS_TH_ACK, 1); /* the server's first data segment */
    expect(w, transfer(w, 1, s, 0, c, 30000, GLASS_SEC(60)) == 30000, "data after a loss");
    expect(w, glass_stack_mib(w->st[0], GLASS_MIB_TcpExtTCPOFOQueue) > 0, "out-of-order queued");
    expect(w, glass_stack_mib(w->st[1], GLASS_MIB_TcpExtTCPSackRecovery) > 0, "SACK recovery");
    glass_close(w->st[1], s);
    w_run(w, MS(50));
    glass_close(w->st[0], c);
    w_run(w, GLASS_SEC(61));
}

static void s_refused(struct world *w)
{
    int c = w_connect(w, 0, A_SRV, 81, 0);
    w_run(w, MS(100));
    int err = 0;
    size_t el = sizeof err;
    if (c >= 0)
        glass_getsockopt(w->st[0], c, GLASS_SOL_SOCKET, GLASS_SO_ERROR, &err, &el);
    expect(w, state(w, 0, c) == GLASS_TCP_CLOSED && err == GLASS_ECONNREFUSED, "ECONNREFUSED");
    if (c >= 0)
        glass_close(w->st[0], c);
}

static void s_reset(struct world *w)
{
    int l = w_listen(w, 80, 8), c, s;
    if (l < 0 || !pair(w, l, 80, &c, &s))
        return expect(w, false, "established");
    struct glass_linger lg = {1, 0};
    glass_setsockopt(w->st[1], s, GLASS_SOL_SOCKET, GLASS_SO_LINGER, &lg, sizeof lg);
    glass_close(w->st[1], s);
    glass_simnet_flush(w->net);
    w_run(w, MS(50));
    expect(w, state(w, 0, c) == GLASS_TCP_CLOSED, "reset");
    glass_close(w->st[0], c);
}

static void s_unread_data_rst(struct world *w)
{
    int l = w_listen(w, 80, 8), c, s;
    if (l < 0 || !pair(w, l, 80, &c, &s))
        return expect(w, false, "established");
    glass_send(w->st[0], c, "unread", 6, 0);
    glass_simnet_flush(w->net);
    w_run(w, MS(50));
    glass_close(w->st[1], s);
    glass_simnet_flush(w->net);
    w_run(w, MS(50));
    expect(w, state(w, 0, c) == GLASS_TCP_CLOSED, "RST for unread data");
    glass_close(w->st[0], c);
}

static void s_syn_timeout(struct world *w)
{
    w_drop(w, 0, GLASS_TH_SYN, -1);
    int c = w_connect(w, 0, A_SRV, 80, 0);
    w_run(w, GLASS_SEC(200));
    expect(w, state(w, 0, c) == GLASS_TCP_CLOSED, "SYN timeout");
    if (c >= 0)
        glass_close(w->st[0], c);
    w_drop(w, -1, 0, 0);
}

static void s_synack_timeout(struct world *w)
{
    int l = w_listen(w, 80, 8);
    w_drop(w, 1, GLASS_TH_SYN | GLASS_TH_ACK, -1);
    int c = w_connect(w, 0, A_SRV, 80, 0);
    w_run(w, GLASS_SEC(5));
    glass_close(w->st[0], c);
    w_run(w, GLASS_SEC(120));
    expect(w, glass_stack_in_state(w->st[1], GLASS_TCP_SYN_RCVD) == 0, "half-open gave up");
    w_drop(w, -1, 0, 0);
    (void)l;
}

static void s_time_wait_reack(struct world *w)
{
    int l = w_listen(w, 80, 8), c, s;
    if (l < 0 || !pair(w, l, 80, &c, &s))
        return expect(w, false, "established");
    glass_close(w->st[0], c);
    w_run(w, MS(50));
    w_drop(w, 0, GLASS_TH_ACK, 1); /* the last ACK, once */
    glass_close(w->st[1], s);
    glass_simnet_flush(w->net);
    w_run(w, GLASS_SEC(5));
    expect(w, glass_stack_in_state(w->st[1], GLASS_TCP_LAST_ACK) == 0, "LAST_ACK resolved");
    w_run(w, GLASS_SEC(61));
}

static void s_fin_wait_2_timeout(struct world *w)
{
    int l = w_listen(w, 80, 8), c, s;
    if (l < 0 || !pair(w, l, 80, &c, &s))
        return expect(w, false, "established");
    glass_close(w->st[0], c);
    w_run(w, GLASS_SEC(65));
    expect(w, glass_stack_in_state(w->st[0], GLASS_TCP_FIN_WAIT_2) == 0, "FIN_WAIT_2 timed out");
    glass_close(w->st[1], s);
    w_run(w, GLASS_SEC(5));
}

static void s_retrans_timeout(struct world *w)
{
    int l = w_listen(w, 80, 8), c, s;
    if (l < 0 || !pair(w, l, 80, &c, &s))
        return expect(w, false, "established");
    w_drop(w, 0, 0, -1); /* partition client -> server */
    static uint8_t d[20000];
    glass_send(w->st[0], c, d, sizeof d, 0);
    glass_simnet_flush(w->net);
    w_run(w, GLASS_SEC(1000));
    expect(w, state(w, 0, c) == GLASS_TCP_CLOSED, "retransmissions exhausted");
    w_drop(w, -1, 0, 0);
    glass_close(w->st[0], c);
    glass_close(w->st[1], s);
    w_run(w, GLASS_SEC(130));
}

static void s_listen_queue(struct world *w)
{
    int l = w_listen(w, 80, 2);
    int c[6];
    for (int i = 0; i < 6; i++)
        c[i] = w_connect(w, 0, A_SRV, 80, 0);
    w_run(w, GLASS_SEC(1));
    /* each client speaks first: with the accept queue full a cookie's final ACK is dropped,
     * and the data's retransmissions carry the cookie again until there is room */
    for (int i = 0; i < 6; i++)
        if (c[i] >= 0)
            glass_send(w->st[0], c[i], "x", 1, 0);
    glass_simnet_flush(w->net);
    w_run(w, GLASS_SEC(2));
    int got = 0, s;
    for (int k = 0; k < 40 && got < 6; k++) {
        while (l >= 0 && (s = glass_accept(w->st[1], l, NULL)) >= 0) {
            got++;
            glass_close(w->st[1], s);
        }
        w_run(w, GLASS_SEC(1));
    }
    expect(w, got == 6, "every client accepted in the end");
    for (int i = 0; i < 6; i++)
        if (c[i] >= 0)
            glass_close(w->st[0], c[i]);
    w_run(w, GLASS_SEC(61));
}

static void s_echo_fragments(struct world *w)
{
    static uint8_t msg[4000], p[1600];
    size_t ml = icmp_echo(msg, 7, 1, 3000);
    for (int round = 0; round < 3; round++) {
        for (size_t off = 0; off < ml; off += 1480) {
            size_t len = ml - off < 1480 ? ml - off : 1480;
            uint16_t fr = (uint16_t)((off / 8) | (off + len < ml ? 0x2000 : 0));
            size_t n = ip_build(p, A_CLI, A_SRV, 1, (uint16_t)(100 + round), fr, 64, NULL, 0,
                                msg + off, len);
            glass_stack_input(w->st[1], glass_simnet_now(w->net), p, n);
        }
        glass_simnet_flush(w->net);
        w_run(w, MS(50));
    }
    /* and one that never completes */
    size_t n = ip_build(p, A_CLI, A_SRV, 1, 200, 0x2000, 64, NULL, 0, msg, 1480);
    glass_stack_input(w->st[1], glass_simnet_now(w->net), p, n);
    w_run(w, GLASS_SEC(35));
}

struct scen {
    const char *name;
    void (*run)(struct world *w);
    double loss, dup, reorder; /* link impairments */
};

static const struct scen scens[] = {
    {"handshake", s_handshake, 0, 0, 0},
    {"active-close", s_active_close, 0, 0, 0},
    {"passive-close", s_passive_close, 0, 0, 0},
    {"simultaneous-open", s_simultaneous_open, 0, 0, 0},
    {"simultaneous-close", s_simultaneous_close, 0, 0, 0},
    {"half-close", s_half_close, 0, 0, 0},
    {"refused", s_refused, 0, 0, 0},
    {"reset", s_reset, 0, 0, 0},
    {"unread-data-rst", s_unread_data_rst, 0, 0, 0},
    {"syn-timeout", s_syn_timeout, 0, 0, 0},
    {"synack-timeout", s_synack_timeout, 0, 0, 0},
    {"time-wait-reack", s_time_wait_reack, 0, 0, 0},
    {"fin-wait-2-timeout", s_fin_wait_2_timeout, 0, 0, 0},
    {"retrans-timeout", s_retrans_timeout, 0, 0, 0},
    {"listen-queue", s_listen_queue, 0, 0, 0},
    {"echo-fragments", s_echo_fragments, 0, 0, 0},
    {"lossy-transfer", s_half_close, 0.05, 0.02, 0.05},
    {"out-of-order", s_out_of_order, 0, 0, 0},
};
#define NSCENS (sizeof scens / sizeof scens[0])

/* One run of scenario sc with side's fail_at-th allocation failing (0: none). Returns the
 * number of allocations that side made after arming, through *calls. */
static bool run(const struct scen *sc, int side, long fail_at, bool strict, long *calls,
                char *why, size_t cap)
{
    struct world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->ok = true;
    w->strict = strict;
    w->drop_from = -1;
    struct glass_config cfg[2];
    for (int i = 0; i < 2; i++) {
        glass_config_default(&cfg[i]);
        cfg[i].seed = 500u + (uint64_t)i;
        cfg[i].allocator = failing_allocator(&w->f[i]);
        w->st[i] = glass_stack_new(&cfg[i]);
        assert_non_null(w->st[i]);
    }
    struct glass_simnet_config nc;
    glass_simnet_config_default(&nc);
    nc.seed = 77;
    nc.loss = sc->loss;
    nc.dup = sc->dup;
    nc.reorder = sc->reorder;
    w->net = glass_simnet_new(&nc);
    assert_non_null(w->net);
    assert_true(glass_simnet_attach(w->net, w->st[0], A_CLI) >= 0);
    assert_true(glass_simnet_attach(w->net, w->st[1], A_SRV) >= 0);
    glass_simnet_set_filter(w->net, w_filter, w);
    w->f[side].fail_at = fail_at;
    w->f[side].armed = true;

    sc->run(w);
    w_run(w, GLASS_SEC(130)); /* let every timer run out */
    *calls = w->f[side].calls;

    /* recovery: allocations succeed again; a new connection transfers */
    w->f[side].armed = false;
    w->strict = true;
    w_drop(w, -1, 0, 0);
    if (w->ok) {
        int l = w_listen(w, 9000, 8), c, s;
        if (l < 0 || !pair(w, l, 9000, &c, &s))
            w_fail(w, "recovery: no connection (listen %d)", l);
        else if (transfer(w, 0, c, 1, s, 16384, GLASS_SEC(60)) != 16384)
            w_fail(w, "recovery: transfer incomplete");
    }
    glass_simnet_free(w->net);
    for (int i = 0; i < 2; i++)
        glass_stack_free(w->st[i]);
    for (int i = 0; i < 2 && w->ok; i++)
        if (w->f[i].bytes != 0 || w->f[i].blocks != 0)
            w_fail(w, "%s leaked %lld bytes in %lld blocks", i ? "server" : "client",
                   w->f[i].bytes, w->f[i].blocks);
    bool ok = w->ok;
    snprintf(why, cap, "%s", w->why);
    free(w);
    return ok;
}

static long points_wanted(void)
{
    const char *e = getenv("GLASS_ALLOC_POINTS");
    return e ? atol(e) : 48;
}

static void test_every_scenario_every_allocation_point(void **state)
{
    (void)state;
    char why[256];
    long total_runs = 0, total_failed_allocs = 0;
    for (size_t i = 0; i < NSCENS; i++) {
        const struct scen *sc = &scens[i];
        for (int side = 0; side < 2; side++) {
            long calls = 0;
            if (!run(sc, side, 0, true, &calls, why, sizeof why)) {
                print_error("%s: baseline: %s\n", sc->name, why);
                fail();
            }
            long want = points_wanted();
            bool all = want <= 0 || calls <= want;
            long n = all ? calls : want;
            uint64_t seed = 0x5eedu + i * 2u + (unsigned)side;
            for (long k = 0; k < n; k++) {
                long at = k + 1;
                if (!all) { /* a seeded sample over 1..calls */
                    seed = seed * 6364136223846793005u + 1442695040888963407u;
                    at = 1 + (long)((seed >> 33) % (uint64_t)calls);
                }
                long dummy;
                if (!run(sc, side, at, false, &dummy, why, sizeof why)) {
                    print_error("%s: %s allocation %ld of %ld failing: %s\n", sc->name,
                                side ? "server" : "client", at, calls, why);
                    fail();
                }
                total_runs++;
            }
            total_failed_allocs += n;
            print_message("[ ALLOC ] %-20s %s: %ld allocations, %s%ld failure points run\n",
                          sc->name, side ? "server" : "client", calls, all ? "all " : "sampled ",
                          n);
        }
    }
    print_message("[ ALLOC ] %zu scenarios, %ld runs with a failing allocation\n", NSCENS,
                  total_runs);
    assert_true(total_failed_allocs > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_scenario_every_allocation_point),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
