/* glass bench — the glasstcp harness: two stacks in one process, joined by a zero-delay,
 * lossless link (each packet glass_stack_output() gives is handed to the other stack's
 * glass_stack_input() at once), the clock taken from CLOCK_MONOTONIC so that timers (delayed
 * ACKs, TIME_WAIT) run in real time. Only the public API is used. The stacks' memory goes
 * through a counting allocator (glass_config.allocator) that charges each block what glibc's
 * malloc really uses for it (malloc_usable_size + the 8-byte chunk header), as mallinfo2()
 * does for lwIP. */
#define _GNU_SOURCE

#include "bench.h"

#include <glass/err.h>
#include <glass/socket.h>
#include <glass/stack.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GL_PKT_MAX 65536u
#define GL_MAX_PORTS 64u        /* server ports for the conns workload */
#define GL_CONNS_PER_PORT 25000u /* client connections per server port (ephemeral range 28232) */

/* ---- the counting allocator ---------------------------------------------------------------- */

struct gl_alloc {
    uint64_t bytes; /* malloc chunk bytes held now */
};

static void *gl_alloc_fn(void *ctx, size_t size)
{
    struct gl_alloc *a = ctx;
    void *p = malloc(size);
    if (p != NULL)
        a->bytes += malloc_usable_size(p) + sizeof(size_t);
    return p;
}

static void gl_free_fn(void *ctx, void *p, size_t size)
{
    struct gl_alloc *a = ctx;
    (void)size;
    if (p == NULL)
        return;
    a->bytes -= malloc_usable_size(p) + sizeof(size_t);
    free(p);
}

/* ---- two stacks on a zero-delay link ------------------------------------------------------- */

struct gl_net {
    struct glass_stack *st[2]; /* 0 client, 1 server */
    struct gl_alloc mem[2];
    uint64_t t0;
    glass_time_t timers_at; /* when the timers were last checked */
    uint64_t held;          /* crr: the clock read once per connection (0: read it each time) */
    uint32_t tw_table;      /* the client's max_time_wait */
    uint8_t pkt[GL_PKT_MAX];
};

static glass_time_t gl_now(const struct gl_net *g)
{
    uint64_t t = g->held != 0 ? g->held : bench_now_ns();
    return (glass_time_t)(t - g->t0) + GLASS_SEC(1);
}

/* tw_max: the TIME_WAIT table's bound (0: room for every connection, at least the default). */
static void gl_config(struct glass_config *cfg, unsigned mss, uint32_t buf, uint32_t conns,
                      uint32_t tw_max, uint64_t seed, struct gl_alloc *mem)
{
    glass_config_default(cfg);
    cfg->seed = seed;
    cfg->mss = (uint16_t)mss;
    /* Checksum offload, both ends opting in (the link is memory, as lo/veth): TCP checksums
     * are left partial on output and not summed on input (GLASS_INPUT_CSUM_OK below). */
    cfg->tx_csum_offload = true;
    cfg->sndbuf = buf;
    cfg->rcvbuf = buf;
    if (conns + 64u > cfg->max_conns)
        cfg->max_conns = conns + 64u;
    if (conns + 64u > cfg->max_sockets)
        cfg->max_sockets = conns + 64u;
    if (conns + 64u > cfg->max_time_wait)
        cfg->max_time_wait = conns + 64u;
    if (tw_max != 0)
        cfg->max_time_wait = tw_max;
    cfg->mem_max = 0; /* the benchmark measures memory; it does not cap it */
    cfg->allocator.alloc = gl_alloc_fn;
    cfg->allocator.free = gl_free_fn;
    cfg->allocator.ctx = mem;
}

/* Set up both stacks; false with a note if a stack refuses the configuration. */
static bool gl_open(struct gl_net *g, unsigned mss, uint32_t buf, uint32_t conns,
                    uint32_t tw_max, struct bench_out *o)
{
    memset(g->st, 0, sizeof g->st);
    memset(g->mem, 0, sizeof g->mem);
    g->t0 = bench_now_ns();
    g->timers_at = 0;
    g->held = 0;
    static const uint32_t addr[2] = {BENCH_CLIENT_ADDR, BENCH_SERVER_ADDR};
    for (int i = 0; i < 2; i++) {
        struct glass_config cfg;
        gl_config(&cfg, mss, buf, conns, tw_max, (uint64_t)i + 1u, &g->mem[i]);
        if (i == 0)
            g->tw_table = cfg.max_time_wait;
        g->st[i] = glass_stack_new(&cfg);
        if (g->st[i] == NULL) {
            o->status = BENCH_NA;
            bench_note(o, "glass_stack_new refuses mss %u", mss);
            return false;
        }
        if (glass_stack_add_iface(g->st[i], addr[i], 24, mss + 40u) < 0) {
            o->status = BENCH_FAILED;
            bench_note(o, "glass_stack_add_iface failed");
            return false;
        }
    }
    return true;
}

static void gl_close(struct gl_net *g)
{
    for (int i = 0; i < 2; i++)
        glass_stack_free(g->st[i]);
}

/* Fire due timers, checked at most once per millisecond (the timer wheel's tick, as the lwIP
 * harness does). */
static void gl_timers(struct gl_net *g, glass_time_t now)
{
    if (now - g->timers_at >= GLASS_MSEC(1)) {
        g->timers_at = now;
        for (int i = 0; i < 2; i++) {
            if (glass_stack_next_deadline(g->st[i]) <= now)
                glass_stack_advance(g->st[i], now);
        }
    }
}

/* Hand every datagram stack `from` has to send to the other stack; true if there was one. */
static bool gl_move(struct gl_net *g, int from, glass_time_t now)
{
    bool moved = false;
    struct glass_output out;
    while (glass_stack_output_sg(g->st[from], now, g->pkt, sizeof g->pkt, &out) > 0) {
        glass_stack_input_sg(g->st[1 - from], now, g->pkt, out.len, out.payload, out.payload_len,
                             GLASS_INPUT_CSUM_OK);
        moved = true;
    }
    return moved;
}

/* Drop stack i's socket events (the harness polls the sockets directly). */
static void gl_drain_events(struct gl_net *g, int i)
{
    struct glass_event ev;
    while (glass_stack_next_event(g->st[i], &ev)) {
    }
}

/* Fire due timers, then move packets both ways until neither stack has any to send, and drop
 * the socket events. */
static void gl_pump(struct gl_net *g)
{
    glass_time_t now = gl_now(g);
    gl_timers(g, now);
    bool moved = true;
    while (moved) {
        moved = gl_move(g, 0, now);
        moved = gl_move(g, 1, now) || moved;
    }
    for (int i = 0; i < 2; i++)
        gl_drain_events(g, i);
}

/* One turn of stack `from`'s event loop, in the order glass_loop runs one (src/loop/loop.c):
 * its output goes to the other stack, whose events are then taken. The application code that
 * follows a turn acts on that input before the other stack's output is taken in its own turn,
 * so an ACK the input asked for leaves with the reply, if the application writes one
 * (docs/performance.md, "The eleventh round"). */
static void gl_turn(struct gl_net *g, int from)
{
    glass_time_t now = gl_now(g);
    gl_timers(g, now);
    gl_move(g, from, now);
    gl_drain_events(g, 1 - from);
}

static bool gl_listen(struct gl_net *g, uint16_t port, int *lfd)
{
    struct glass_stack *s = g->st[1];
    int fd = glass_socket(s);
    struct glass_endpoint ep = {.addr = BENCH_SERVER_ADDR, .port = port};
    int one = 1;
    if (fd < 0 || glass_setsockopt(s, fd, GLASS_SOL_SOCKET, GLASS_SO_REUSEADDR, &one, sizeof one) < 0 ||
        glass_bind(s, fd, &ep) < 0 || glass_listen(s, fd, 65535) < 0)
        return false;
    *lfd = fd;
    return true;
}

static void gl_nodelay(struct glass_stack *s, int fd)
{
    int one = 1;
    glass_setsockopt(s, fd, GLASS_SOL_TCP, GLASS_TCP_NODELAY, &one, sizeof one);
}

/* Start a connection to port; returns the client fd or a negative error. */
static int gl_connect(struct gl_net *g, uint16_t port)
{
    struct glass_stack *c = g->st[0];
    int fd = glass_socket(c);
    if (fd < 0)
        return fd;
    struct glass_endpoint to = {.addr = BENCH_SERVER_ADDR, .port = port};
    int r = glass_connect(c, fd, &to);
    if (r != -GLASS_EINPROGRESS && r != 0) {
        glass_close(c, fd);
        return r;
    }
    return fd;
}

/* One connection, established and accepted. */
static bool gl_pair(struct gl_net *g, int lfd, int *cfd, int *sfd, struct bench_out *o)
{
    *cfd = gl_connect(g, BENCH_PORT);
    if (*cfd < 0) {
        o->status = BENCH_FAILED;
        bench_note(o, "connect: %s", glass_strerror(*cfd));
        return false;
    }
    gl_pump(g);
    *sfd = glass_accept(g->st[1], lfd, NULL);
    if (*sfd < 0) {
        o->status = BENCH_FAILED;
        bench_note(o, "accept: %s", glass_strerror(*sfd));
        return false;
    }
    return true;
}

/* ---- bulk ---------------------------------------------------------------------------------- */

/* One connection on the pair g, b->bytes one way, verified. */
static void gl_bulk(struct gl_net *g, const struct bench_bulk *b, struct bench_out *o)
{
    int lfd, cfd, sfd;
    if (!gl_open(g, b->mss, b->buf, 0, 0, o))
        goto out;
    if (!gl_listen(g, BENCH_PORT, &lfd) || !gl_pair(g, lfd, &cfd, &sfd, o)) {
        if (o->status == BENCH_OK)
            o->status = BENCH_FAILED;
        goto out;
    }
    const uint8_t *pat = bench_pattern();
    uint64_t sent = 0, got = 0;
    uint64_t start = bench_now_ns(), last_progress = start;
    while (got < b->bytes) {
        while (sent < b->bytes) {
            uint64_t want = b->bytes - sent;
            size_t n = want < BENCH_PAT_LEN ? (size_t)want : BENCH_PAT_LEN;
            long r = glass_send(g->st[0], cfd, pat + sent % BENCH_PAT_LEN, n, 0);
            if (r <= 0)
                break;
            sent += (uint64_t)r;
            if (sent == b->bytes)
                glass_shutdown(g->st[0], cfd, GLASS_SHUT_WR); /* FIN: the tail is not held back */
        }
        gl_pump(g);
        /* Zero-copy receive: every byte is checked where it lies in the receive buffer. */
        long r;
        const void *at;
        while ((r = glass_recv_peek(g->st[1], sfd, &at)) > 0) {
            size_t n = (size_t)r < BENCH_PAT_LEN ? (size_t)r : BENCH_PAT_LEN;
            if (!bench_check(at, n, got)) {
                o->status = BENCH_FAILED;
                bench_note(o, "payload mismatch near byte %llu", (unsigned long long)got);
                goto out;
            }
            glass_recv_consume(g->st[1], sfd, n);
            got += n;
            last_progress = bench_now_ns();
        }
        if (r < 0 && r != -GLASS_EAGAIN) {
            o->status = BENCH_FAILED;
            bench_note(o, "recv: %s", glass_strerror((int)r));
            goto out;
        }
        if (bench_now_ns() - last_progress > BENCH_STALL_NS) {
            o->status = BENCH_FAILED;
            bench_note(o, "stalled at byte %llu", (unsigned long long)got);
            goto out;
        }
    }
    uint64_t end = bench_now_ns();
    o->v[0] = (double)b->bytes / ((double)(end - start) / 1e9) / 1e9;
    o->work = b->bytes;
    o->t0 = start;
    o->t1 = end;
    bench_note(o, "mss %u, buffers %u B, payload verified", b->mss, b->buf);
out:
    gl_close(g);
}

void bench_glass_bulk(const struct bench_bulk *b, struct bench_out *o)
{
    static struct gl_net g;
    gl_bulk(&g, b, o);
}

/* ---- rr ------------------------------------------------------------------------------------ */

/* One byte from `from`'s fd to `to`'s fd: false on an error. */
static bool gl_send_byte(struct gl_net *g, int i, int fd, struct bench_out *o)
{
    uint8_t byte = 'x';
    long r = glass_send(g->st[i], fd, &byte, 1, 0);
    if (r != 1) {
        o->status = BENCH_FAILED;
        bench_note(o, "send: %s", r < 0 ? glass_strerror((int)r) : "short");
        return false;
    }
    return true;
}

static bool gl_recv_byte(struct gl_net *g, int i, int fd, struct bench_out *o)
{
    uint8_t byte;
    long r = glass_recv(g->st[i], fd, &byte, 1, 0);
    if (r != 1 || byte != 'x') {
        o->status = BENCH_FAILED;
        bench_note(o, "recv: %s", r < 0 ? glass_strerror((int)r) : r == 0 ? "eof" : "wrong byte");
        return false;
    }
    return true;
}

static bool gl_one_byte(struct gl_net *g, int from, int ffd, int tfd, struct bench_out *o)
{
    if (!gl_send_byte(g, from, ffd, o))
        return false;
    gl_pump(g);
    return gl_recv_byte(g, 1 - from, tfd, o);
}

struct gl_rr {
    struct gl_net *g;
    int cfd, sfd;
};

static bool gl_rr_round(void *ctx, struct bench_out *o)
{
    struct gl_rr *r = ctx;
    return gl_one_byte(r->g, 0, r->cfd, r->sfd, o) && gl_one_byte(r->g, 1, r->sfd, r->cfd, o);
}

void bench_glass_rr(const struct bench_params *p, struct bench_out *o)
{
    static struct gl_net g;
    int lfd;
    struct gl_rr r = {.g = &g};
    if (!gl_open(&g, p->mss, p->buf, 0, 0, o))
        goto out;
    if (!gl_listen(&g, BENCH_PORT, &lfd) || !gl_pair(&g, lfd, &r.cfd, &r.sfd, o)) {
        if (o->status == BENCH_OK)
            o->status = BENCH_FAILED;
        goto out;
    }
    gl_nodelay(g.st[0], r.cfd);
    gl_nodelay(g.st[1], r.sfd);
    if (bench_rr_loop(p->secs, gl_rr_round, &r, o))
        bench_note(o, "%llu transactions, TCP_NODELAY", (unsigned long long)o->count);
out:
    gl_close(&g);
}

/* ---- crr ----------------------------------------------------------------------------------- */

/* Connect, one byte each way, close, for p->secs on the pair g. */
static void gl_crr(struct gl_net *g, const struct bench_params *p, struct bench_out *o)
{
    int lfds[BENCH_CRR_PORTS];
    if (!gl_open(g, p->mss, p->buf, 0, p->tw_max, o))
        goto out;
    for (unsigned i = 0; i < BENCH_CRR_PORTS; i++) {
        if (!gl_listen(g, (uint16_t)(BENCH_PORT + i), &lfds[i])) {
            o->status = BENCH_FAILED;
            bench_note(o, "listen failed");
            goto out;
        }
    }
    uint64_t n = 0, start = bench_now_ns(), end = start + (uint64_t)(p->secs * 1e9), t = start;
    const char *why = NULL;
    while (t < end) {
        /* One clock reading per connection, the one that ends the previous loop (as the Linux
         * and lwIP harnesses do): the pumps of this connection share it. */
        g->held = t;
        int lfd = lfds[n % BENCH_CRR_PORTS];
        int cfd = gl_connect(g, (uint16_t)(BENCH_PORT + n % BENCH_CRR_PORTS));
        if (cfd < 0) {
            why = glass_strerror(cfd);
            break;
        }
        /* Each stack's turn comes as in an event loop (gl_turn): 7 segments a connection. */
        gl_nodelay(g->st[0], cfd);
        gl_turn(g, 0); /* SYN */
        gl_turn(g, 1); /* SYN,ACK: the client is connected and writes its request */
        if (!gl_send_byte(g, 0, cfd, o))
            goto out;
        gl_turn(g, 0); /* the request, with the handshake's ACK */
        int sfd = glass_accept(g->st[1], lfd, NULL);
        if (sfd < 0) {
            why = "accept failed (the SYN was refused: 4-tuple still in TIME_WAIT?)";
            glass_close(g->st[0], cfd);
            break;
        }
        gl_nodelay(g->st[1], sfd);
        if (!gl_recv_byte(g, 1, sfd, o) || !gl_send_byte(g, 1, sfd, o))
            goto out;
        gl_turn(g, 1); /* the reply, with the ACK of the request */
        if (!gl_recv_byte(g, 0, cfd, o))
            goto out;
        glass_close(g->st[0], cfd); /* the client closes first: TIME_WAIT is on its side */
        gl_turn(g, 0);              /* FIN, with the ACK of the reply */
        uint8_t byte;
        long r = glass_recv(g->st[1], sfd, &byte, 1, 0);
        if (r != 0) {
            o->status = BENCH_FAILED;
            bench_note(o, "server expected EOF, got %ld", r);
            goto out;
        }
        glass_close(g->st[1], sfd);
        gl_turn(g, 1); /* FIN, with the ACK of the client's FIN */
        gl_turn(g, 0); /* the last ACK */
        n++;
        t = bench_now_ns();
    }
    g->held = 0;
    o->v[0] = (double)n / ((double)(t - start) / 1e9);
    o->work = n;
    o->t0 = start;
    o->t1 = t;
    o->count = glass_stack_in_state(g->st[0], GLASS_TCP_TIME_WAIT);
    o->stopped = why != NULL;
    uint64_t ovf = glass_stack_mib(g->st[0], GLASS_MIB_TcpExtTCPTimeWaitOverflow);
    if (why != NULL)
        bench_note(o, "stopped after %llu connections: %s; %llu in TIME_WAIT on the client",
                   (unsigned long long)n, why, (unsigned long long)o->count);
    else
        bench_note(o, "%llu connections in %.2f s to %u server ports, %.2f segments each; %llu "
                      "in TIME_WAIT on the client (closing side), %llu not kept (TIME_WAIT table "
                      "of %u full)",
                   (unsigned long long)n, (double)(t - start) / 1e9, BENCH_CRR_PORTS,
                   n != 0 ? (double)(glass_stack_mib(g->st[0], GLASS_MIB_TcpOutSegs) +
                                     glass_stack_mib(g->st[1], GLASS_MIB_TcpOutSegs)) /
                                (double)n
                          : 0.0,
                   (unsigned long long)o->count, (unsigned long long)ovf, g->tw_table);
out:
    gl_close(g);
}

void bench_glass_crr(const struct bench_params *p, struct bench_out *o)
{
    static struct gl_net g;
    gl_crr(&g, p, o);
}

/* ---- threads: one pair of stacks per thread (docs/sharding.md) ------------------------------ */

/* The workload of one thread's pair (its own stacks and link): bulk b, else crr p. */
struct gl_part {
    const struct bench_bulk *b;
    const struct bench_params *p;
};

static void gl_part(void *ctx, unsigned i, struct bench_out *o)
{
    (void)i;
    const struct gl_part *m = ctx;
    struct gl_net *g = malloc(sizeof *g);
    if (g == NULL) {
        o->status = BENCH_FAILED;
        bench_note(o, "out of memory");
    } else if (m->b != NULL) {
        gl_bulk(g, m->b, o);
    } else {
        gl_crr(g, m->p, o);
    }
    free(g);
}

void bench_glass_bulk_mt(const struct bench_bulk *b, unsigned threads, struct bench_out *o)
{
    struct gl_part m = {.b = b};
    if (!bench_parallel(threads, gl_part, &m, "GB/s", 1e9, o))
        return;
    o->v[0] = (double)o->work / ((double)(o->t1 - o->t0) / 1e9) / 1e9;
    char parts[BENCH_NOTE];
    snprintf(parts, sizeof parts, "%s", o->note);
    bench_note(o, "%u pairs of stacks, each on its own thread and link, mss %u, payload "
                  "verified; %s", threads, b->mss, parts);
}

/* With p->tw_max, the bound is on the TIME_WAIT entries of all the clients together, as a
 * kernel's tcp_max_tw_buckets is on all of a namespace's: each client stack gets its share. */
void bench_glass_crr_mt(const struct bench_params *p, unsigned threads, struct bench_out *o)
{
    struct bench_params share = *p;
    if (p->tw_max != 0)
        share.tw_max = p->tw_max / threads > 0 ? p->tw_max / threads : 1u;
    struct gl_part m = {.p = &share};
    if (!bench_parallel(threads, gl_part, &m, "conn/s", 1, o))
        return;
    o->v[0] = (double)o->work / ((double)(o->t1 - o->t0) / 1e9);
    char parts[BENCH_NOTE];
    snprintf(parts, sizeof parts, "%s", o->note);
    if (p->tw_max != 0)
        bench_note(o, "%u pairs of stacks, each on its own thread and link, each client's "
                      "TIME_WAIT table %u; %s; %llu in TIME_WAIT on the clients", threads,
                   share.tw_max, parts, (unsigned long long)o->count);
    else
        bench_note(o, "%u pairs of stacks, each on its own thread and link; %s; %llu in "
                      "TIME_WAIT on the clients", threads, parts, (unsigned long long)o->count);
}

/* ---- conns and TIME_WAIT memory ------------------------------------------------------------ */

/* Open p->conns connections spread over server ports (a client address has 28232 ephemeral
 * ports per remote endpoint), all established and accepted. Returns how many were made. */
static uint32_t gl_open_many(struct gl_net *g, uint32_t want, int *cfds, int *sfds,
                             struct bench_out *o)
{
    int lfd[GL_MAX_PORTS];
    uint32_t ports = (want + GL_CONNS_PER_PORT - 1u) / GL_CONNS_PER_PORT;
    if (ports > GL_MAX_PORTS) {
        o->status = BENCH_NA;
        bench_note(o, "more than %u connections", GL_MAX_PORTS * GL_CONNS_PER_PORT);
        return 0;
    }
    for (uint32_t i = 0; i < ports; i++) {
        if (!gl_listen(g, (uint16_t)(BENCH_PORT + i), &lfd[i])) {
            o->status = BENCH_FAILED;
            bench_note(o, "listen failed");
            return 0;
        }
    }
    uint32_t made = 0;
    uint64_t t0 = bench_now_ns();
    while (made < want) {
        if (bench_now_ns() - t0 > BENCH_SETUP_NS) {
            o->status = BENCH_NA;
            bench_note(o, "opening %u connections took over %llu s (%u made): setup cost grows "
                          "with the number of connections (docs/performance.md)",
                       want, BENCH_SETUP_NS / 1000000000ull, made);
            return made;
        }
        uint32_t batch = want - made < 1000u ? want - made : 1000u;
        for (uint32_t k = 0; k < batch; k++) {
            int fd = gl_connect(g, (uint16_t)(BENCH_PORT + (made + k) / GL_CONNS_PER_PORT));
            if (fd < 0) {
                o->status = BENCH_FAILED;
                bench_note(o, "connect %u: %s", made + k, glass_strerror(fd));
                return made;
            }
            cfds[made + k] = fd;
        }
        gl_pump(g);
        for (uint32_t k = 0; k < batch; k++) {
            uint32_t port = (made + k) / GL_CONNS_PER_PORT;
            int fd = glass_accept(g->st[1], lfd[port], NULL);
            if (fd < 0) {
                o->status = BENCH_FAILED;
                bench_note(o, "accept %u: %s", made + k, glass_strerror(fd));
                return made;
            }
            sfds[made + k] = fd;
        }
        made += batch;
    }
    return made;
}

/* One byte from each client to its server end, then one back, all in two pumps. */
static bool gl_exchange(struct gl_net *g, const int *cfds, const int *sfds, uint32_t n,
                        struct bench_out *o)
{
    for (int dir = 0; dir < 2; dir++) {
        const int *from = dir == 0 ? cfds : sfds, *to = dir == 0 ? sfds : cfds;
        uint8_t byte = 'x';
        for (uint32_t i = 0; i < n; i++) {
            if (glass_send(g->st[dir], from[i], &byte, 1, 0) != 1) {
                o->status = BENCH_FAILED;
                bench_note(o, "send on connection %u failed", i);
                return false;
            }
        }
        gl_pump(g);
        for (uint32_t i = 0; i < n; i++) {
            if (glass_recv(g->st[1 - dir], to[i], &byte, 1, 0) != 1) {
                o->status = BENCH_FAILED;
                bench_note(o, "recv on connection %u failed", i);
                return false;
            }
        }
    }
    gl_pump(g);
    return true;
}

/* What the two stacks of a 1M-connection conns run hold before any connection: the tables
 * glass_stack_new sizes from max_conns, max_sockets and max_time_wait (bytes asked, both
 * stacks). */
static double gl_tables_1m(const struct bench_params *p)
{
    struct gl_alloc mem = {0};
    struct glass_config cfg;
    gl_config(&cfg, p->mss, p->buf, 1000000u, 0, 1, &mem);
    struct glass_stack *st = glass_stack_new(&cfg);
    if (st == NULL)
        return 0.0;
    double bytes = (double)glass_stack_mem_used(st);
    glass_stack_free(st);
    return 2.0 * bytes;
}

static void gl_pump_ctx(void *g)
{
    gl_pump(g);
}

/* The per-connection memory figure (idle established, both ends; with p->data after a 1-byte
 * exchange each way and BENCH_QUIET_NS of quiet, the figure right after the exchange in v[1])
 * or, with time_wait, the per-entry figure of the client's TIME_WAIT entries after a 1-byte
 * exchange each way. */
static void gl_memory(const struct bench_params *p, bool time_wait, struct bench_out *o)
{
    static struct gl_net g;
    int *cfds = malloc(sizeof(int) * p->conns), *sfds = malloc(sizeof(int) * p->conns);
    if (cfds == NULL || sfds == NULL) {
        o->status = BENCH_FAILED;
        bench_note(o, "out of memory");
        goto out0;
    }
    if (!gl_open(&g, p->mss, p->buf, p->conns, 0, o))
        goto out;
    gl_pump(&g);
    uint64_t before = g.mem[0].bytes + (time_wait ? 0 : g.mem[1].bytes);
    uint64_t req_before = glass_stack_mem_used(g.st[0]) + glass_stack_mem_used(g.st[1]);
    uint32_t made = gl_open_many(&g, p->conns, cfds, sfds, o);
    if (o->status != BENCH_OK)
        goto out;
    if (time_wait) {
        /* One byte each way first, as in crr: TIME_WAIT after a real exchange. */
        if (!gl_exchange(&g, cfds, sfds, made, o))
            goto out;
        for (uint32_t i = 0; i < made; i++)
            glass_close(g.st[0], cfds[i]);
        gl_pump(&g);
        for (uint32_t i = 0; i < made; i++)
            glass_close(g.st[1], sfds[i]);
        gl_pump(&g);
    } else if (p->data) {
        if (!gl_exchange(&g, cfds, sfds, made, o))
            goto out;
        o->v[1] = (double)(g.mem[0].bytes + g.mem[1].bytes - before) / made;
        bench_quiet(gl_pump_ctx, &g);
    }
    int state = time_wait ? GLASS_TCP_TIME_WAIT : GLASS_TCP_ESTABLISHED;
    uint64_t in = glass_stack_in_state(g.st[0], state) +
                  (time_wait ? 0 : glass_stack_in_state(g.st[1], state));
    uint64_t want = time_wait ? made : 2u * (uint64_t)made;
    if (in != want) {
        o->status = BENCH_FAILED;
        bench_note(o, "%llu of %llu endpoints %s", (unsigned long long)in,
                   (unsigned long long)want, time_wait ? "in TIME_WAIT" : "ESTABLISHED");
        goto out;
    }
    uint64_t after = g.mem[0].bytes + (time_wait ? 0 : g.mem[1].bytes);
    uint64_t req_after = glass_stack_mem_used(g.st[0]) + glass_stack_mem_used(g.st[1]);
    o->v[0] = (double)(after - before) / made;
    o->count = made;
    if (time_wait)
        bench_note(o, "%u TIME_WAIT entries on the client stack after a 1-byte exchange each "
                      "way, malloc chunks per entry", made);
    else if (p->data)
        bench_note(o, "%u conns after one byte each way, both ends: %.0f B/conn right after the "
                      "exchange, %.0f after %.1f s of quiet (buffers given back after ring_idle, "
                      "1 s)", made, o->v[1], o->v[0], (double)BENCH_QUIET_NS / 1e9);
    else {
        double tables = gl_tables_1m(p), total = o->v[0] * 1e6 + tables;
        bench_note(o,
                   "%u conns, both ends in one process: %.0f B/conn, %.0f B per end (malloc "
                   "chunks; asked %.0f B/conn); 1M conns: %.0f MB + %.0f MB of tables sized at "
                   "creation (both stacks) = %.0f MB = %.2f GiB",
                   made, o->v[0], o->v[0] / 2.0, (double)(req_after - req_before) / made,
                   o->v[0], tables / 1e6, total / 1e6, total / (1024.0 * 1024.0 * 1024.0));
    }
out:
    gl_close(&g);
out0:
    free(cfds);
    free(sfds);
}

void bench_glass_conns(const struct bench_params *p, struct bench_out *o)
{
    gl_memory(p, false, o);
}

void bench_glass_tw(const struct bench_params *p, struct bench_out *o)
{
    gl_memory(p, true, o);
}

void bench_glass_describe(char *buf, size_t cap)
{
    struct glass_config c;
    glass_config_default(&c);
    snprintf(buf, cap,
             "glasstcp: 2 stacks, zero-delay link, real-time clock; CUBIC, SACK, timestamps, "
             "window scaling, RACK on; checksum offload (both ends opt in, as on lo: TCP checksums "
             "neither computed nor verified); delayed ACK %llu ms; "
             "TIME_WAIT %llu s; ephemeral ports %u-%u",
             (unsigned long long)(c.delack_min / GLASS_NSEC_PER_MSEC),
             (unsigned long long)(2u * c.msl / GLASS_NSEC_PER_SEC), c.ephemeral_lo,
             c.ephemeral_hi);
}
