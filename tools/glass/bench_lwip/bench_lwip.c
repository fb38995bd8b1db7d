/* glass bench — the lwIP harness, built against Debian's liblwip-dev headers (only when CMake
 * finds them) and run against its liblwip.so.0.
 *
 * Debian's library is built with NO_SYS=0 (a tcpip thread with core locking), but it can be
 * driven without that thread: lwip_init(), then packets and timers fed from our own loop, as the
 * lwIP docs allow for the raw API. Two stacks are needed, as glasstcp runs two, and lwIP keeps
 * its state in globals: each instance is its own copy of the library file, loaded with
 * dlopen(RTLD_LOCAL), so the two have separate globals (PCB lists, timers, ports). A copy is
 * never unloaded (the library may leave thread keys or timers behind).
 *
 * Each instance has one netif (192.0.2.1/24 client, 192.0.2.2/24 server) whose output copies
 * the datagram into a queue; the pump hands each queued datagram to the other instance's
 * ip4_input() in a fresh PBUF_RAM pbuf, at once (zero delay, no loss), like the glasstcp
 * harness. lwIP's configuration is the package's (lwipopts.h), fixed when the library was
 * built: TCP_MSS, TCP_WND and TCP_SND_BUF cannot be changed, so the glasstcp runs use the same
 * figures. Memory: mallinfo2() deltas (lwIP takes every PCB from malloc: MEMP_MEM_MALLOC). */
#define _GNU_SOURCE

#include "../bench.h"

#include <lwip/init.h>
#include <lwip/ip4.h>
#include <lwip/netif.h>
#include <lwip/pbuf.h>
#include <lwip/tcp.h>
#include <lwip/timeouts.h>
#include <lwip/priv/tcp_priv.h> /* TCP_MSL, struct tcp_pcb lists */

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LW_LIB "liblwip.so.0"
#define LW_LIB_DIRS {"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib"}
#define LW_SLOTS 4096u
#define LW_SLOT_BYTES 2048u

#define LW_FUNCS(X)                                                                              \
    X(lwip_init) X(netif_add) X(netif_set_up) X(netif_set_link_up) X(ip4_input) X(pbuf_alloc)    \
    X(pbuf_free) X(tcp_new) X(tcp_bind) X(tcp_listen_with_backlog) X(tcp_accept) X(tcp_arg)      \
    X(tcp_recv) X(tcp_err) X(tcp_connect) X(tcp_write) X(tcp_output) X(tcp_recved) X(tcp_close)  \
    X(tcp_shutdown) X(tcp_abort) X(sys_check_timeouts)

struct lw_queue {
    uint8_t (*slot)[LW_SLOT_BYTES];
    uint16_t *len;
    uint32_t head, n;
    uint64_t dropped;
};

struct lw_inst;

/* One end of a connection, as the callbacks see it. */
struct lw_conn {
    struct lw_inst *L;
    struct tcp_pcb *pcb;
    uint64_t got;
    bool verify, bad, eof, connected;
    err_t err;
};

struct lw_inst {
    void *h;
#define LW_X_MEMBER(f) __typeof__(f) *f;
    LW_FUNCS(LW_X_MEMBER)
#undef LW_X_MEMBER
    struct tcp_pcb **tw_pcbs;
    struct netif nif;
    struct lw_queue out; /* datagrams this instance sent, not yet delivered */
    struct lw_conn *sink; /* the callback argument of PCBs we closed */
};

/* A listener: hands accepted PCBs out of a pool of lw_conn. */
struct lw_server {
    struct lw_inst *L;
    struct lw_conn *pool;
    uint32_t cap, n;
    bool nodelay, verify;
};

static char lw_path[128];
static char lw_why[512];
static int lw_state; /* 0 unknown, 1 available, -1 not */
static unsigned lw_copies;

/* ---- loading ------------------------------------------------------------------------------- */

static bool lw_find(void)
{
    static const char *const dirs[] = LW_LIB_DIRS;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(lw_path, sizeof lw_path, "%s/%s", dirs[i], LW_LIB);
        if (access(lw_path, R_OK) == 0)
            return true;
    }
    return false;
}

/* Copy the library to a private file (dlopen shares one mapping per file) and load it. */
static void *lw_load_copy(char *err, size_t cap)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, "/tmp/glass-bench-lwip-%d-%u.so", (int)getpid(), lw_copies++);
    int in = open(lw_path, O_RDONLY | O_CLOEXEC);
    int out = in < 0 ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = in >= 0 && out >= 0;
    static uint8_t buf[65536];
    ssize_t r;
    while (ok && (r = read(in, buf, sizeof buf)) > 0)
        ok = write(out, buf, (size_t)r) == r;
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    if (!ok) {
        snprintf(err, cap, "cannot copy %s to %s: %s", lw_path, tmp, strerror(errno));
        unlink(tmp);
        return NULL;
    }
    void *h = dlopen(tmp, RTLD_NOW | RTLD_LOCAL);
    unlink(tmp);
    if (h == NULL)
        snprintf(err, cap, "dlopen %s: %s", lw_path, dlerror());
    return h;
}

static err_t lw_netif_output(struct netif *nif, struct pbuf *p, const ip4_addr_t *dst)
{
    struct lw_inst *L = nif->state;
    (void)dst;
    struct lw_queue *q = &L->out;
    if (q->n == LW_SLOTS || p->tot_len > LW_SLOT_BYTES) {
        q->dropped++;
        return ERR_OK; /* lost on the wire, as a full device queue would */
    }
    uint32_t i = (q->head + q->n) % LW_SLOTS;
    uint16_t off = 0;
    for (struct pbuf *s = p; s != NULL; s = s->next) {
        memcpy(q->slot[i] + off, s->payload, s->len);
        off = (uint16_t)(off + s->len);
    }
    q->len[i] = off;
    q->n++;
    return ERR_OK;
}

static err_t lw_netif_init(struct netif *nif)
{
    nif->name[0] = 'g';
    nif->name[1] = 'b';
    nif->mtu = 1500;
    nif->output = lw_netif_output;
    nif->flags = NETIF_FLAG_LINK_UP;
    return ERR_OK;
}

/* A fresh lwIP instance with its netif at addr; false with the reason in err. */
static bool lw_inst_open(struct lw_inst *L, uint32_t addr, char *err, size_t cap)
{
    memset(L, 0, sizeof *L);
    L->h = lw_load_copy(err, cap);
    if (L->h == NULL)
        return false;
#define LW_X_RESOLVE(f)                                                                          \
    *(void **)(&L->f) = dlsym(L->h, #f);                                                         \
    if (L->f == NULL) {                                                                          \
        snprintf(err, cap, "%s has no symbol %s", lw_path, #f);                                  \
        return false;                                                                            \
    }
    LW_FUNCS(LW_X_RESOLVE)
#undef LW_X_RESOLVE
    L->tw_pcbs = dlsym(L->h, "tcp_tw_pcbs");
    if (L->tw_pcbs == NULL) {
        snprintf(err, cap, "%s has no symbol tcp_tw_pcbs", lw_path);
        return false;
    }
    L->out.slot = malloc(sizeof *L->out.slot * LW_SLOTS);
    L->out.len = malloc(sizeof *L->out.len * LW_SLOTS);
    L->sink = calloc(1, sizeof *L->sink);
    if (L->out.slot == NULL || L->out.len == NULL || L->sink == NULL) {
        snprintf(err, cap, "out of memory");
        return false;
    }
    L->sink->L = L;
    L->lwip_init();
    ip4_addr_t ip, mask, gw;
    ip.addr = htonl(addr);
    mask.addr = htonl(0xffffff00u);
    gw.addr = 0;
    if (L->netif_add(&L->nif, &ip, &mask, &gw, L, lw_netif_init, L->ip4_input) == NULL) {
        snprintf(err, cap, "netif_add failed");
        return false;
    }
    L->netif_set_up(&L->nif);
    L->netif_set_link_up(&L->nif);
    return true;
}

/* The queue memory is the harness's, not lwIP's; the library copy stays loaded. */
static void lw_inst_close(struct lw_inst *L)
{
    free(L->out.slot);
    free(L->out.len);
    L->out.slot = NULL;
    L->out.len = NULL;
    /* L->sink stays: PCBs in TIME_WAIT inside the (still loaded) library point to it. */
}

bool bench_lwip_available(char *why, size_t cap)
{
    if (lw_state == 0) {
        lw_state = -1;
        if (!lw_find()) {
            snprintf(lw_why, sizeof lw_why,
                     "lwIP not found: %s is not installed (apt-get install liblwip-dev; "
                     "scripts/deps.sh)", LW_LIB);
        } else {
            struct lw_inst probe;
            if (lw_inst_open(&probe, BENCH_CLIENT_ADDR, lw_why, sizeof lw_why))
                lw_state = 1;
            lw_inst_close(&probe);
        }
    }
    if (lw_state < 0)
        snprintf(why, cap, "%s", lw_why);
    return lw_state > 0;
}

void bench_lwip_describe(char *buf, size_t cap)
{
    snprintf(buf, cap,
             "lwIP %s (Debian %s, its lwipopts.h): NO_SYS=0 build driven without its thread; "
             "TCP_MSS %d, TCP_WND %d (window scale %d), TCP_SND_BUF %d, TCP_SND_QUEUELEN %d; "
             "PCBs and pbufs from malloc; checksums computed and verified "
             "(LWIP_CHECKSUM_ON_COPY %d); TIME_WAIT %d s; ephemeral ports 49152-65535; two "
             "instances (two copies of the library)",
             LWIP_VERSION_STRING, lw_path[0] ? lw_path : LW_LIB, TCP_MSS, TCP_WND, TCP_RCV_SCALE,
             TCP_SND_BUF, TCP_SND_QUEUELEN, LWIP_CHECKSUM_ON_COPY, (int)(2 * TCP_MSL / 1000));
}

/* ---- the link ------------------------------------------------------------------------------ */

/* Deliver the oldest datagram `from` sent to `to`; false if there is none. */
static bool lw_deliver_one(struct lw_inst *from, struct lw_inst *to)
{
    struct lw_queue *q = &from->out;
    if (q->n == 0)
        return false;
    uint32_t i = q->head;
    uint16_t len = q->len[i];
    struct pbuf *p = to->pbuf_alloc(PBUF_RAW, len, PBUF_RAM);
    if (p != NULL)
        memcpy(p->payload, q->slot[i], len);
    q->head = (q->head + 1u) % LW_SLOTS;
    q->n--;
    if (p != NULL && to->nif.input(p, &to->nif) != ERR_OK)
        to->pbuf_free(p);
    return true;
}

/* Timers are checked at most once per millisecond (lwIP's timer unit), as in the glasstcp
 * harness; then datagrams move both ways until neither instance has any queued. */
/* crr: the clock read once per connection (0: lw_pump reads it each time). */
static uint64_t lw_held;

static void lw_pump(struct lw_inst *a, struct lw_inst *b)
{
    static uint64_t timers_at;
    uint64_t now = lw_held != 0 ? lw_held : bench_now_ns();
    if (now - timers_at >= 1000000u) {
        timers_at = now;
        a->sys_check_timeouts();
        b->sys_check_timeouts();
    }
    bool moved = true;
    while (moved) {
        moved = lw_deliver_one(a, b);
        moved = lw_deliver_one(b, a) || moved;
    }
}

/* ---- callbacks ----------------------------------------------------------------------------- */

static err_t lw_recv_cb(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct lw_conn *c = arg;
    (void)err;
    if (p == NULL) {
        c->eof = true;
        return ERR_OK;
    }
    for (struct pbuf *s = p; s != NULL; s = s->next) {
        if (c->verify && !c->bad && !bench_check(s->payload, s->len, c->got))
            c->bad = true;
        c->got += s->len;
    }
    c->L->tcp_recved(pcb, p->tot_len);
    c->L->pbuf_free(p);
    return ERR_OK;
}

static void lw_err_cb(void *arg, err_t err)
{
    struct lw_conn *c = arg;
    if (c != NULL) {
        c->err = err;
        c->pcb = NULL; /* lwIP has freed it */
    }
}

static err_t lw_connected_cb(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct lw_conn *c = arg;
    (void)pcb;
    if (c != NULL && err == ERR_OK)
        c->connected = true;
    return ERR_OK;
}

static err_t lw_accept_cb(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct lw_server *s = arg;
    if (err != ERR_OK || pcb == NULL)
        return ERR_VAL;
    if (s->n == s->cap) {
        s->L->tcp_abort(pcb);
        return ERR_ABRT;
    }
    struct lw_conn *c = &s->pool[s->n++];
    memset(c, 0, sizeof *c);
    c->L = s->L;
    c->pcb = pcb;
    c->verify = s->verify;
    c->connected = true;
    s->L->tcp_arg(pcb, c);
    s->L->tcp_recv(pcb, lw_recv_cb);
    s->L->tcp_err(pcb, lw_err_cb);
    if (s->nodelay)
        tcp_nagle_disable(pcb);
    return ERR_OK;
}

/* ---- a pair of instances with a listener --------------------------------------------------- */

struct lw_net {
    struct lw_inst a, b; /* client, server */
    struct lw_server srv;
};

static bool lw_net_open(struct lw_net *n, uint32_t pool, bool nodelay, bool verify,
                        struct bench_out *o)
{
    char err[512];
    memset(n, 0, sizeof *n);
    n->srv.pool = calloc(pool, sizeof *n->srv.pool);
    if (n->srv.pool == NULL || !lw_inst_open(&n->a, BENCH_CLIENT_ADDR, err, sizeof err) ||
        !lw_inst_open(&n->b, BENCH_SERVER_ADDR, err, sizeof err)) {
        o->status = BENCH_FAILED;
        bench_note(o, "%s", n->srv.pool == NULL ? "out of memory" : err);
        return false;
    }
    n->srv.L = &n->b;
    n->srv.cap = pool;
    n->srv.nodelay = nodelay;
    n->srv.verify = verify;
    struct lw_inst *S = &n->b;
    struct tcp_pcb *pcb = S->tcp_new();
    ip_addr_t any;
    ip_addr_set_zero_ip4(&any);
    if (pcb == NULL || S->tcp_bind(pcb, &any, BENCH_PORT) != ERR_OK) {
        o->status = BENCH_FAILED;
        bench_note(o, "lwIP listener: tcp_new/tcp_bind failed");
        return false;
    }
    struct tcp_pcb *lpcb = S->tcp_listen_with_backlog(pcb, 255);
    if (lpcb == NULL) {
        o->status = BENCH_FAILED;
        bench_note(o, "lwIP listener: tcp_listen failed");
        return false;
    }
    S->tcp_arg(lpcb, &n->srv);
    S->tcp_accept(lpcb, lw_accept_cb);
    return true;
}

static void lw_net_close(struct lw_net *n)
{
    lw_inst_close(&n->a);
    lw_inst_close(&n->b);
    free(n->srv.pool);
}

/* Start a client connection into c; ERR_OK or lwIP's error (ERR_BUF: no free local port). */
static err_t lw_connect(struct lw_net *n, struct lw_conn *c, bool nodelay)
{
    struct lw_inst *A = &n->a;
    memset(c, 0, sizeof *c);
    c->L = A;
    c->pcb = A->tcp_new();
    if (c->pcb == NULL)
        return ERR_MEM;
    A->tcp_arg(c->pcb, c);
    A->tcp_recv(c->pcb, lw_recv_cb);
    A->tcp_err(c->pcb, lw_err_cb);
    if (nodelay)
        tcp_nagle_disable(c->pcb);
    ip_addr_t dst;
    IP_ADDR4(&dst, 192, 0, 2, 2);
    err_t e = A->tcp_connect(c->pcb, &dst, BENCH_PORT, lw_connected_cb);
    if (e != ERR_OK) {
        A->tcp_abort(c->pcb);
        c->pcb = NULL;
    }
    return e;
}

static const char *lw_strerr(err_t e)
{
    switch (e) {
    case ERR_MEM: return "ERR_MEM";
    case ERR_BUF: return "ERR_BUF";
    case ERR_USE: return "ERR_USE (no free local port)";
    case ERR_RST: return "ERR_RST";
    case ERR_ABRT: return "ERR_ABRT";
    case ERR_CLSD: return "ERR_CLSD";
    case ERR_CONN: return "ERR_CONN";
    default: return "lwIP error";
    }
}

/* ---- bulk ---------------------------------------------------------------------------------- */

void bench_lwip_bulk(const struct bench_bulk *b, struct bench_out *o)
{
    if (b->mss != TCP_MSS) {
        o->status = BENCH_NA;
        bench_note(o, "TCP_MSS is built into the library as %d", TCP_MSS);
        return;
    }
    static struct lw_net n;
    struct lw_conn cc;
    if (!lw_net_open(&n, 1, false, true, o))
        goto out;
    err_t e = lw_connect(&n, &cc, false);
    lw_pump(&n.a, &n.b);
    if (e != ERR_OK || !cc.connected || n.srv.n != 1) {
        o->status = BENCH_FAILED;
        bench_note(o, "connect: %s", e != ERR_OK ? lw_strerr(e) : "not established");
        goto out;
    }
    struct lw_conn *sc = &n.srv.pool[0];
    struct lw_inst *A = &n.a;
    const uint8_t *pat = bench_pattern();
    uint64_t sent = 0, start = bench_now_ns(), last_progress = start, last_got = 0;
    bool fin = false;
    while (sc->got < b->bytes) {
        while (sent < b->bytes && cc.pcb != NULL) {
            uint32_t room = tcp_sndbuf(cc.pcb);
            uint64_t want = b->bytes - sent;
            if (want > room)
                want = room;
            if (want > BENCH_PAT_LEN)
                want = BENCH_PAT_LEN;
            if (want == 0 ||
                A->tcp_write(cc.pcb, pat + sent % BENCH_PAT_LEN, (u16_t)want, TCP_WRITE_FLAG_COPY) != ERR_OK)
                break;
            sent += want;
        }
        if (sent == b->bytes && !fin && cc.pcb != NULL)
            fin = A->tcp_shutdown(cc.pcb, 0, 1) == ERR_OK; /* FIN: the tail is not held by Nagle */
        if (cc.pcb != NULL)
            A->tcp_output(cc.pcb);
        lw_pump(&n.a, &n.b);
        if (sc->bad || cc.pcb == NULL) {
            o->status = BENCH_FAILED;
            bench_note(o, sc->bad ? "payload mismatch" : "connection lost (%s)", lw_strerr(cc.err));
            goto out;
        }
        uint64_t now = bench_now_ns();
        if (sc->got != last_got) {
            last_got = sc->got;
            last_progress = now;
        } else if (now - last_progress > BENCH_STALL_NS) {
            o->status = BENCH_FAILED;
            bench_note(o, "stalled at byte %llu", (unsigned long long)sc->got);
            goto out;
        }
    }
    double secs = (double)(bench_now_ns() - start) / 1e9;
    o->v[0] = (double)b->bytes / secs / 1e9;
    bench_note(o, "MSS %d, TCP_SND_BUF %d, TCP_WND %d (built in; asked %u), payload verified%s",
               TCP_MSS, TCP_SND_BUF, TCP_WND, b->buf,
               n.a.out.dropped + n.b.out.dropped ? ", queue drops!" : "");
out:
    lw_net_close(&n);
}

/* ---- rr and crr ---------------------------------------------------------------------------- */

static bool lw_one_byte(struct lw_net *n, struct lw_conn *from, struct lw_conn *to,
                        struct bench_out *o)
{
    static const uint8_t byte = 'x';
    uint64_t before = to->got;
    if (from->pcb == NULL || from->L->tcp_write(from->pcb, &byte, 1, TCP_WRITE_FLAG_COPY) != ERR_OK ||
        from->L->tcp_output(from->pcb) != ERR_OK) {
        o->status = BENCH_FAILED;
        bench_note(o, "tcp_write/tcp_output failed");
        return false;
    }
    lw_pump(&n->a, &n->b);
    if (to->got != before + 1u) {
        o->status = BENCH_FAILED;
        bench_note(o, "the byte did not arrive");
        return false;
    }
    return true;
}

struct lw_rr {
    struct lw_net *n;
    struct lw_conn *cc, *sc;
};

static bool lw_rr_round(void *ctx, struct bench_out *o)
{
    struct lw_rr *r = ctx;
    return lw_one_byte(r->n, r->cc, r->sc, o) && lw_one_byte(r->n, r->sc, r->cc, o);
}

void bench_lwip_rr(const struct bench_params *p, struct bench_out *o)
{
    static struct lw_net n;
    struct lw_conn cc;
    if (!lw_net_open(&n, 1, true, false, o))
        goto out;
    err_t e = lw_connect(&n, &cc, true);
    lw_pump(&n.a, &n.b);
    if (e != ERR_OK || !cc.connected || n.srv.n != 1) {
        o->status = BENCH_FAILED;
        bench_note(o, "connect: %s", lw_strerr(e));
        goto out;
    }
    struct lw_rr r = {.n = &n, .cc = &cc, .sc = &n.srv.pool[0]};
    if (bench_rr_loop(p->secs, lw_rr_round, &r, o))
        bench_note(o, "%llu transactions, Nagle off", (unsigned long long)o->count);
out:
    lw_net_close(&n);
}

static uint64_t lw_count_tw(const struct lw_inst *L)
{
    uint64_t k = 0;
    for (const struct tcp_pcb *pcb = *L->tw_pcbs; pcb != NULL; pcb = pcb->next)
        k++;
    return k;
}

/* Close our end of c: no more callbacks into c. */
static void lw_close(struct lw_conn *c)
{
    if (c->pcb == NULL)
        return;
    c->L->tcp_arg(c->pcb, c->L->sink);
    c->L->tcp_err(c->pcb, NULL);
    if (c->L->tcp_close(c->pcb) != ERR_OK)
        c->L->tcp_abort(c->pcb);
    c->pcb = NULL;
}

void bench_lwip_crr(const struct bench_params *p, struct bench_out *o)
{
    static struct lw_net n;
    struct lw_conn cc;
    if (p->tw_max != 0) {
        o->status = BENCH_NA;
        bench_note(o, "no TIME_WAIT bound to set: this build takes PCBs from malloc, and lwIP "
                      "recycles TIME_WAIT PCBs (tcp_kill_timewait) only when its PCB pool is "
                      "empty");
        return;
    }
    if (!lw_net_open(&n, 1, true, false, o))
        goto out;
    uint64_t k = 0, start = bench_now_ns(), end = start + (uint64_t)(p->secs * 1e9), t = start;
    const char *why = NULL;
    while (t < end) {
        /* One clock reading per connection, the one that ends the previous loop (as the
         * glasstcp and Linux harnesses do): the pumps of this connection share it. */
        lw_held = t;
        n.srv.n = 0;
        err_t e = lw_connect(&n, &cc, true);
        if (e != ERR_OK) {
            why = lw_strerr(e);
            break;
        }
        lw_pump(&n.a, &n.b);
        if (!cc.connected || n.srv.n != 1) {
            why = "not established";
            break;
        }
        struct lw_conn *sc = &n.srv.pool[0];
        if (!lw_one_byte(&n, &cc, sc, o) || !lw_one_byte(&n, sc, &cc, o))
            goto out;
        lw_close(&cc); /* the client closes first: TIME_WAIT is on its side */
        lw_pump(&n.a, &n.b);
        if (!sc->eof) {
            o->status = BENCH_FAILED;
            bench_note(o, "server saw no FIN");
            goto out;
        }
        lw_close(sc);
        lw_pump(&n.a, &n.b);
        k++;
        t = bench_now_ns();
    }
    o->v[0] = (double)k / ((double)(t - start) / 1e9);
    o->count = lw_count_tw(&n.a);
    o->stopped = why != NULL;
    if (why != NULL)
        bench_note(o, "stopped after %llu connections: tcp_connect %s; %llu in TIME_WAIT on the "
                      "client",
                   (unsigned long long)k, why, (unsigned long long)o->count);
    else
        bench_note(o, "%llu connections in %.2f s to one server port (the harness's one "
                      "listener; lwIP gives each ephemeral port to one PCB); %llu in TIME_WAIT on "
                      "the client (closing side)",
                   (unsigned long long)k, (double)(t - start) / 1e9, (unsigned long long)o->count);
out:
    lw_held = 0;
    lw_net_close(&n);
}

/* ---- conns and TIME_WAIT memory ------------------------------------------------------------ */

/* Bytes malloc has handed out; 0 where mallinfo2() does not count (a sanitizer's allocator). */
static uint64_t lw_heap(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
}

static bool lw_heap_ok(struct bench_out *o)
{
    if (lw_heap() != 0)
        return true;
    o->status = BENCH_NA;
    bench_note(o, "mallinfo2() counts nothing here (sanitizer build?): no memory figure");
    return false;
}

/* Open `want` connections (client structs in cc[]); returns how many are established. */
static uint32_t lw_open_many(struct lw_net *n, struct lw_conn *cc, uint32_t want,
                             struct bench_out *o)
{
    uint32_t made = 0;
    while (made < want) {
        uint32_t batch = want - made < 1000u ? want - made : 1000u;
        for (uint32_t k = 0; k < batch; k++) {
            err_t e = lw_connect(n, &cc[made + k], false);
            if (e != ERR_OK) {
                o->status = BENCH_FAILED;
                bench_note(o, "tcp_connect %u: %s", made + k, lw_strerr(e));
                return made;
            }
        }
        lw_pump(&n->a, &n->b);
        made += batch;
    }
    if (n->srv.n != made) {
        o->status = BENCH_FAILED;
        bench_note(o, "%u of %u accepted", n->srv.n, made);
    }
    return made;
}

#define LW_MAX_CONNS 16383u /* ephemeral ports 49152-65535; tcp_new_port never shares a port */

/* One byte from each client to its server end, then one back, all in two pumps. */
static bool lw_exchange(struct lw_net *n, struct lw_conn *cc, uint32_t made, struct bench_out *o)
{
    static const uint8_t byte = 'x';
    for (int dir = 0; dir < 2; dir++) {
        for (uint32_t i = 0; i < made; i++) {
            struct lw_conn *c = dir == 0 ? &cc[i] : &n->srv.pool[i];
            if (c->pcb == NULL || c->L->tcp_write(c->pcb, &byte, 1, TCP_WRITE_FLAG_COPY) != ERR_OK ||
                c->L->tcp_output(c->pcb) != ERR_OK) {
                o->status = BENCH_FAILED;
                bench_note(o, "tcp_write on connection %u failed", i);
                return false;
            }
            if (i % 1000u == 999u)
                lw_pump(&n->a, &n->b); /* the link queues at most LW_SLOTS datagrams */
        }
        lw_pump(&n->a, &n->b);
    }
    uint64_t got = 0;
    for (uint32_t i = 0; i < made; i++)
        got += cc[i].got + n->srv.pool[i].got;
    if (got != 2u * (uint64_t)made) {
        o->status = BENCH_FAILED;
        bench_note(o, "%llu of %u bytes arrived", (unsigned long long)got, 2u * made);
        return false;
    }
    return true;
}

static void lw_pump_ctx(void *ctx)
{
    struct lw_net *n = ctx;
    lw_pump(&n->a, &n->b);
}

/* The per-connection memory figure (idle established, both ends; with p->data after a 1-byte
 * exchange each way and BENCH_QUIET_NS of quiet, the figure right after the exchange in v[1])
 * or, with time_wait, the per-entry figure of the client's TIME_WAIT PCBs after a 1-byte
 * exchange each way. */
static void lw_memory(const struct bench_params *p, bool time_wait, struct bench_out *o)
{
    if (p->conns > LW_MAX_CONNS) {
        o->status = BENCH_NA;
        bench_note(o, "at most %u connections from one address: tcp_new_port gives each of the "
                      "ports 49152-65535 to one PCB", LW_MAX_CONNS);
        return;
    }
    static struct lw_net n;
    struct lw_conn *cc = calloc(p->conns, sizeof *cc);
    if (cc == NULL || !lw_net_open(&n, p->conns, false, false, o)) {
        if (o->status == BENCH_OK) {
            o->status = BENCH_FAILED;
            bench_note(o, "out of memory");
        }
        goto out;
    }
    lw_pump(&n.a, &n.b);
    if (!lw_heap_ok(o))
        goto out;
    uint64_t before = lw_heap();
    uint32_t made = lw_open_many(&n, cc, p->conns, o);
    if (o->status != BENCH_OK)
        goto out;
    if (time_wait) {
        /* One byte each way first, as in crr: TIME_WAIT after a real exchange. */
        if (!lw_exchange(&n, cc, made, o))
            goto out;
        for (int side = 0; side < 2; side++) {
            for (uint32_t i = 0; i < made; i++) {
                lw_close(side == 0 ? &cc[i] : &n.srv.pool[i]);
                if (i % 1000u == 999u)
                    lw_pump(&n.a, &n.b); /* the link queues at most LW_SLOTS datagrams */
            }
            lw_pump(&n.a, &n.b);
        }
        uint64_t tw = lw_count_tw(&n.a);
        if (tw != made) {
            o->status = BENCH_FAILED;
            bench_note(o, "%llu of %u client PCBs in TIME_WAIT", (unsigned long long)tw, made);
            goto out;
        }
    } else if (p->data) {
        if (!lw_exchange(&n, cc, made, o))
            goto out;
        o->v[1] = ((double)lw_heap() - (double)before) / made;
        bench_quiet(lw_pump_ctx, &n);
    }
    o->v[0] = ((double)lw_heap() - (double)before) / made;
    o->count = made;
    if (time_wait)
        bench_note(o, "%u TIME_WAIT PCBs (full tcp_pcb) after a 1-byte exchange each way: "
                      "mallinfo2() delta", made);
    else if (p->data)
        bench_note(o, "%u connections after one byte each way, both ends: mallinfo2() delta, "
                      "%.0f B/conn right after the exchange, %.0f after %.1f s of quiet",
                   made, o->v[1], o->v[0], (double)BENCH_QUIET_NS / 1e9);
    else
        bench_note(o, "%u connections, both ends: mallinfo2() delta (PCBs incl. malloc headers)",
                   made);
out:
    free(cc);
    lw_net_close(&n);
}

void bench_lwip_conns(const struct bench_params *p, struct bench_out *o)
{
    lw_memory(p, false, o);
}

void bench_lwip_tw(const struct bench_params *p, struct bench_out *o)
{
    lw_memory(p, true, o);
}
