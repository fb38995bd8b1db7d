/* glasstcp — the stack object: configuration, interfaces, the IPv4 input/output edge, time,
 * events, counters and read-only snapshots. */
#include "core/core.h"
#include "util/assert.h"

#include <glass/err.h>
#include <glass/info.h>

#include <stdlib.h>
#include <string.h>

/* Under AddressSanitizer a cached block stays poisoned, so a use after glass_free is still
 * reported. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define BLK_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define BLK_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define BLK_POISON(p, n) ((void)(p), (void)(n))
#define BLK_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* ---- configuration ---------------------------------------------------------------------- */

void glass_config_profile(struct glass_config *cfg, enum glass_profile profile)
{
    cfg->profile = profile;
    if (profile == GLASS_PROFILE_RFC) {
        cfg->msl = GLASS_SEC(120);               /* RFC 9293 §3.4.2: MSL 2 minutes */
        cfg->rto_min = GLASS_SEC(1);             /* RFC 6298 (2.4): RTO >= 1 s */
        cfg->fin_wait_2_timeout = GLASS_SEC(600);
        cfg->syn_linear_timeouts = 0;            /* RFC 6298 (5.5): double from the first */
    } else {
        cfg->msl = GLASS_SEC(30);                /* Linux TCP_TIMEWAIT_LEN = 60 s = 2 MSL */
        cfg->rto_min = GLASS_MSEC(200);          /* Linux TCP_RTO_MIN */
        cfg->fin_wait_2_timeout = GLASS_SEC(60); /* Linux tcp_fin_timeout */
        cfg->syn_linear_timeouts = 4;            /* Linux >= 6.6 tcp_syn_linear_timeouts */
    }
    cfg->rto_initial = GLASS_SEC(1);             /* RFC 6298 (2.1), Linux TCP_TIMEOUT_INIT */
    cfg->rto_max = GLASS_SEC(120);               /* Linux TCP_RTO_MAX */
    cfg->syn_retries = 6;                        /* Linux tcp_syn_retries */
    cfg->synack_retries = 5;                     /* Linux tcp_synack_retries */
    cfg->retries2 = 15;                          /* Linux tcp_retries2 */
    cfg->orphan_retries = 8;                     /* Linux tcp_orphan_retries 0 means 8 */
}

void glass_config_default(struct glass_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->seed = 1;
    glass_config_profile(cfg, GLASS_PROFILE_LINUX);
    cfg->mss = 1460;
    cfg->sndbuf = 131072; /* Linux tcp_wmem/tcp_rmem defaults are 16 KiB/128 KiB, autotuned */
    cfg->rcvbuf = 131072;
    cfg->max_sockets = 1024;
    cfg->max_conns = 65536;
    cfg->somaxconn = 4096;
    cfg->max_time_wait = 262144;
    cfg->ephemeral_lo = 32768;
    cfg->ephemeral_hi = 60999;
    cfg->history_len = 0;
    cfg->trace_ring = 4096;
    cfg->event_ring = 4096;
    cfg->tx_ring = 512;
    cfg->cc = GLASS_CC_CUBIC;
    cfg->init_cwnd = 10;
    cfg->sack = true;
    cfg->timestamps = true;
    cfg->window_scaling = true;
    cfg->rack = true;
    cfg->dsack = true;
    cfg->delack_min = GLASS_MSEC(40);
    cfg->delack_max = GLASS_MSEC(200);
    cfg->pingpong_thresh = 1;
    cfg->keepalive_time = GLASS_SEC(7200);
    cfg->keepalive_intvl = GLASS_SEC(75);
    cfg->keepalive_probes = 9;
    cfg->challenge_ack_limit = 1000;
    cfg->invalid_ratelimit = GLASS_MSEC(500);
    cfg->mem_max = UINT64_C(1) << 30;
    cfg->ring_idle = GLASS_SEC(1);
    cfg->syncookies = 1;
    cfg->rfc1337 = true;
    cfg->tw_reuse = 2;
    cfg->tw_reuse_by_syn = true;
    cfg->verify_checksums = true;
}

int glass_profile_parse(const char *name, enum glass_profile *out)
{
    if (name != NULL && strcmp(name, "linux") == 0) {
        *out = GLASS_PROFILE_LINUX;
        return 0;
    }
    if (name != NULL && strcmp(name, "rfc") == 0) {
        *out = GLASS_PROFILE_RFC;
        return 0;
    }
    return -GLASS_EINVAL;
}

/* ---- memory ----------------------------------------------------------------------------- */

static void *sys_alloc(const struct glass_stack *st, size_t size)
{
    return st->cfg.allocator.alloc != NULL ? st->cfg.allocator.alloc(st->cfg.allocator.ctx, size)
                                           : malloc(size);
}

static void sys_free(const struct glass_stack *st, void *p, size_t size)
{
    if (st->cfg.allocator.free != NULL)
        st->cfg.allocator.free(st->cfg.allocator.ctx, p, size);
    else
        free(p);
}

/* The kinds of freed block that may be kept (core.h glass_blkcache): the small per-connection
 * ones, a TCB, its extension, RACK's block, the smallest far-heap and reclaim-FIFO arrays, and a
 * ring's first storage (GLASS_RING_FIRST with its alignment, 576 bytes: a connection that
 * carries a few bytes each way allocates two per end and frees them when it is done; taken from
 * here they cost a crr connection about 280 instructions less than malloc and free). Not a
 * ring's larger storage: the cache holds its blocks as long as the stack has a connection, and
 * rings of the bench's 64 KiB would show in every per-entry figure (four read as 95 bytes per
 * TIME_WAIT entry at 10,000 entries); four first storages are 2,304 bytes. */
size_t glass_blk_kind_size(unsigned k)
{
    switch (k) { /* the kinds most often taken and kept first: blk_kind tries them in order */
    case 0:
        return (size_t)GLASS_RING_FIRST + GLASS_RING_ALIGN;
    case 1:
        return sizeof(struct glass_tcb_ext);
    case 2:
        return sizeof(struct glass_tcb);
    case 3:
        return glass_rack_size(GLASS_TXREC_MIN);
    case 4:
        return sizeof(struct glass_wheel_entry *) * GLASS_FAR_MIN_CAP;
    default:
        return sizeof(struct glass_reclaim_ent) * GLASS_RECLAIM_MIN_CAP;
    }
}
_Static_assert(GLASS_BLK_KINDS == 6, "glass_blk_kind_size names every kind");

/* The kind of a block of size bytes (the first whose size it is), GLASS_BLK_KINDS if none. A
 * stack per kind makes taking and keeping a block a push or a pop, not a search of the slots
 * (docs/performance.md, "The tenth round"). */
static unsigned blk_kind(size_t size)
{
    unsigned k = 0;
    while (k < GLASS_BLK_KINDS && glass_blk_kind_size(k) != size)
        k++;
    return k;
}

/* A cached block of size bytes, taken out of the cache; NULL if there is none. */
static void *blk_take(struct glass_stack *st, size_t size)
{
    struct glass_blkcache *c = &st->blk;
    unsigned k = blk_kind(size); /* (an empty cache has n[k] == 0 for every k) */
    if (k == GLASS_BLK_KINDS || c->n[k] == 0)
        return NULL;
    void *p = c->p[k][--c->n[k]];
    c->p[k][c->n[k]] = NULL;
    c->bytes -= (uint32_t)size;
    c->used = st->now;
    BLK_UNPOISON(p, size);
    return p;
}

/* Does the stack hold any connection (a TCB, listeners included, or a TIME-WAIT record)? */
static bool has_conns(const struct glass_stack *st)
{
    return st->n_tcbs > 0 || st->tw.live > 0;
}

/* GLASS_BLK_PER_KIND blocks of every kind stay within GLASS_BLK_BYTES_MAX: a kind with room
 * has room in the bytes too. */
_Static_assert(GLASS_BLK_PER_KIND * ((size_t)GLASS_RING_FIRST + GLASS_RING_ALIGN +
                                     sizeof(struct glass_tcb) + sizeof(struct glass_tcb_ext) +
                                     sizeof(struct glass_rack) +
                                     sizeof(struct glass_txrec) * GLASS_TXREC_MIN +
                                     sizeof(struct glass_wheel_entry *) * GLASS_FAR_MIN_CAP +
                                     sizeof(struct glass_reclaim_ent) * GLASS_RECLAIM_MIN_CAP) <=
                   GLASS_BLK_BYTES_MAX,
               "the freed-block cache's kinds fit its byte bound");
_Static_assert(GLASS_BLK_KINDS == 6, "the bound above names every kind");

/* Keep p (size bytes) for reuse if it is of a kept kind, that kind has room, the bytes stay
 * within GLASS_BLK_BYTES_MAX and the stack has connections (an idle stack holds what a new one
 * holds: glass_blk_check_idle empties the cache when the last goes); false if not. */
static bool blk_keep(struct glass_stack *st, void *p, size_t size)
{
    struct glass_blkcache *c = &st->blk;
    unsigned k = blk_kind(size);
    if (k == GLASS_BLK_KINDS || c->n[k] == GLASS_BLK_PER_KIND || c->off || !has_conns(st))
        return false;
    c->p[k][c->n[k]++] = p;
    c->bytes += (uint32_t)size;
    c->used = st->now;
    BLK_POISON(p, size);
    return true;
}

/* When the freed-block cache is given back for want of use (GLASS_BLK_IDLE after a block last
 * went in or out), or never if it is empty. */
static glass_time_t blk_idle_at(const struct glass_stack *st)
{
    return st->blk.bytes > 0 ? st->blk.used + GLASS_BLK_IDLE : GLASS_TIME_NEVER;
}

/* Give every cached block back to the allocator. */
static void blk_flush(struct glass_stack *st)
{
    struct glass_blkcache *c = &st->blk;
    for (unsigned k = 0; k < GLASS_BLK_KINDS; k++) {
        size_t size = glass_blk_kind_size(k);
        for (; c->n[k] > 0; c->n[k]--) {
            void *p = c->p[k][c->n[k] - 1u];
            c->p[k][c->n[k] - 1u] = NULL;
            BLK_UNPOISON(p, size);
            sys_free(st, p, size);
        }
    }
    c->bytes = 0;
}

static bool within_budget(const struct glass_stack *st, size_t size)
{
    uint64_t held = st->mem_used + st->blk.bytes;
    return st->cfg.mem_max == 0 || (held <= st->cfg.mem_max && size <= st->cfg.mem_max - held);
}

void *glass_alloc(struct glass_stack *st, size_t size)
{
    void *p = blk_take(st, size);
    if (p == NULL) {
        /* The global memory budget: the stack never holds more than mem_max bytes, the
         * cache included (it goes first when the budget is short). */
        if (!within_budget(st, size)) {
            blk_flush(st);
            if (!within_budget(st, size))
                return NULL;
        }
        p = sys_alloc(st, size);
    }
    if (p != NULL)
        st->mem_used += size;
    return p;
}

/* Out of line, so that the size is not a constant at the call and memset is the C library's
 * (vector stores) rather than an inline rep stos, which executes once per 8 bytes (a TCB's
 * 504 bytes: 63 iterations). */
__attribute__((noinline)) void *glass_zalloc(struct glass_stack *st, size_t size)
{
    void *p = glass_alloc(st, size);
    if (p != NULL)
        memset(p, 0, size);
    return p;
}

void glass_free_block(struct glass_stack *st, void *p, size_t size)
{
    st->mem_used = st->mem_used >= size ? st->mem_used - size : 0;
    if (!blk_keep(st, p, size))
        sys_free(st, p, size);
}

static uint32_t pow2_at_least(uint32_t n)
{
    uint32_t p = 64;
    while (p < n && p < (1u << 24))
        p <<= 1;
    return p;
}

static bool config_ok(const struct glass_config *c)
{
    return c->ephemeral_lo > 0 && c->ephemeral_lo <= c->ephemeral_hi && c->mss >= 64 &&
           c->mss <= GLASS_IP_MAX_DGRAM - 40 && c->sndbuf > 0 && c->rcvbuf > 0 &&
           c->max_sockets > 0 && c->max_sockets <= (1u << 24) && c->max_conns > 0 &&
           c->tx_ring > 0 && c->rto_min > 0 && c->rto_min <= c->rto_max &&
           c->rto_initial > 0 && c->msl > 0 && c->syncookies <= 2 &&
           c->tw_reuse <= 2;
}

struct glass_stack *glass_stack_new(const struct glass_config *cfg)
{
    struct glass_config def;
    if (cfg == NULL) {
        glass_config_default(&def);
        cfg = &def;
    }
    if (!config_ok(cfg))
        return NULL;
    struct glass_stack tmp = {.cfg = *cfg};
    struct glass_stack *st = glass_zalloc(&tmp, sizeof *st);
    if (st == NULL)
        return NULL;
    st->cfg = *cfg;
    st->mem_used = tmp.mem_used;
    glass_rng_seed(&st->rng, cfg->seed);
    st->isn_key[0] = glass_rng_next(&st->rng);
    st->isn_key[1] = glass_rng_next(&st->rng);
    glass_syncookie_init(st);
    glass_ports_init(st);
    st->ip_id = (uint16_t)glass_rng_next(&st->rng);
    st->next_conn_id = 1;
    st->all.prev = st->all.next = &st->all;
    st->wheel.min_dirty = true;

    uint32_t hsize = pow2_at_least(cfg->max_conns / 2u + 1u);
    st->chash_max = hsize - 1u;
    st->chash_mask = (hsize < GLASS_CHASH_MIN ? hsize : GLASS_CHASH_MIN) - 1u;
    /* The bind table grows with max_conns (one bucket per 16 connections, at least 1024, at
     * most one per port): the ephemeral-port search walks a bucket per candidate port, so a
     * fixed 1024 buckets made opening the N-th connection cost O(N). */
    uint32_t bsize = pow2_at_least(cfg->max_conns / 16u);
    st->bhash_mask = (bsize < 1024u ? 1024u : bsize > 65536u ? 65536u : bsize) - 1u;
    st->socks = glass_zalloc(st, sizeof(struct glass_sock) * cfg->max_sockets);
    st->chash = glass_zalloc(st, sizeof(struct glass_tcb *) * hsize);
    st->bhash = glass_zalloc(st, sizeof(struct glass_tcb *) * (st->bhash_mask + 1u));
    st->tx = glass_alloc(st, sizeof(struct glass_txpkt) * cfg->tx_ring);
    st->events = cfg->event_ring ? glass_alloc(st, sizeof(struct glass_event) * cfg->event_ring)
                                 : NULL;
    st->ring = cfg->trace_ring ? glass_alloc(st, sizeof(struct glass_transition) * cfg->trace_ring)
                               : NULL;
    if (!glass_tw_init(st) || st->socks == NULL || st->chash == NULL || st->bhash == NULL ||
        st->tx == NULL ||
        (cfg->event_ring && st->events == NULL) || (cfg->trace_ring && st->ring == NULL)) {
        glass_stack_free(st);
        return NULL;
    }
    return st;
}

void glass_stack_free(struct glass_stack *st)
{
    if (st == NULL)
        return;
    blk_flush(st);
    st->blk.off = true; /* what is freed from here on goes straight back */
    struct glass_list *n = st->all.next;
    while (n != NULL && n != &st->all) {
        struct glass_list *next = n->next;
        glass_tcb_free(st, GLASS_TCB_OF(n, all));
        n = next;
    }
    glass_ipfrag_free_all(st); /* fragments held for reassembly (ip_reass.c) */
    glass_tw_free_all(st);     /* compact TIME-WAIT records (timewait.c) */
    glass_reclaim_free_all(st); /* the quiet-connection FIFO (reclaim.c) */
    glass_free(st, st->socks, sizeof(struct glass_sock) * st->cfg.max_sockets);
    glass_free(st, st->chash, sizeof(struct glass_tcb *) * (st->chash_max + 1u));
    glass_free(st, st->bhash, sizeof(struct glass_tcb *) * (st->bhash_mask + 1u));
    glass_free(st, st->tx, sizeof(struct glass_txpkt) * st->cfg.tx_ring);
    glass_free(st, st->join, GLASS_IP_MAX_DGRAM);
    glass_free(st, st->wheel.far, sizeof(st->wheel.far[0]) * st->wheel.far_cap);
    glass_free(st, st->events, sizeof(struct glass_event) * st->cfg.event_ring);
    glass_free(st, st->ring, sizeof(struct glass_transition) * st->cfg.trace_ring);
    glass_free(st, st, sizeof *st);
}

const struct glass_config *glass_stack_config(const struct glass_stack *st)
{
    return &st->cfg;
}

/* Free TCBs queued by glass_tcb_reap(): they are unlinked from every structure already (the
 * inline glass_reap_now in core.h calls this when there is something to do). */
void glass_reap_pending(struct glass_stack *st)
{
    if (st->twq != NULL && st->twq_ready) {
        /* Orphaned TIME_WAIT TCBs become records, then go. Only after one of them may have
         * become ready (it joined, or an output cleared its IN_OUTQ or ACKNOW): walking the
         * waiting ones on every input would cost a pass per packet of an input batch. */
        st->twq_ready = false;
        glass_tw_compact_pending(st);
    }
    while (st->reap != NULL) {
        struct glass_tcb *tcb = st->reap;
        st->reap = tcb->rnext;
        tcb->all.prev->next = tcb->all.next;
        tcb->all.next->prev = tcb->all.prev;
        glass_tcb_fini_state(st, tcb);
        st->n_tcbs--;
        glass_tcb_free(st, tcb);
    }
    glass_blk_check_idle(st);
}

void glass_blk_check_idle(struct glass_stack *st)
{
    if (has_conns(st))
        return;
    /* The last connection is gone: give the cached blocks back, and the quiet-connection
     * FIFO's empty array (reclaim.c keeps one for the next connection). */
    if (st->blk.bytes > 0)
        blk_flush(st);
    glass_reclaim_trim(st);
}

/* ---- interfaces and routing ------------------------------------------------------------- */

int glass_stack_add_iface(struct glass_stack *st, uint32_t addr, unsigned prefix_len, unsigned mtu)
{
    if (prefix_len > 32 || mtu < 68 || mtu > 65535 || addr == 0)
        return -GLASS_EINVAL;
    if (st->n_ifaces >= GLASS_MAX_IFACES)
        return -GLASS_ENOBUFS;
    struct glass_iface *ifc = &st->ifaces[st->n_ifaces];
    ifc->addr = addr;
    ifc->mask = prefix_len == 0 ? 0 : ~(uint32_t)0 << (32u - prefix_len);
    ifc->mtu = (uint16_t)mtu;
    return (int)st->n_ifaces++;
}

bool glass_is_local_addr(const struct glass_stack *st, uint32_t addr)
{
    for (unsigned i = 0; i < st->n_ifaces; i++)
        if (st->ifaces[i].addr == addr)
            return true;
    return false;
}

uint32_t glass_route_src(const struct glass_stack *st, uint32_t dst)
{
    for (unsigned i = 0; i < st->n_ifaces; i++)
        if ((st->ifaces[i].addr & st->ifaces[i].mask) == (dst & st->ifaces[i].mask))
            return st->ifaces[i].addr;
    return st->n_ifaces > 0 ? st->ifaces[0].addr : 0;
}

uint16_t glass_route_mtu(const struct glass_stack *st, uint32_t src)
{
    for (unsigned i = 0; i < st->n_ifaces; i++)
        if (st->ifaces[i].addr == src)
            return st->ifaces[i].mtu;
    return 576; /* RFC 791: every host accepts 576-byte datagrams */
}

/* ---- counters ---------------------------------------------------------------------------- */

int glass_drop(struct glass_stack *st, enum glass_drop_reason reason)
{
    if (reason != GLASS_DROP_NONE)
        st->drops[reason]++;
    return (int)reason;
}

static const char *const mib_names[GLASS_MIB_COUNT] = {
#define X(n, d) #n,
    GLASS_MIBS(X)
#undef X
};
static const char *const mib_texts[GLASS_MIB_COUNT] = {
#define X(n, d) d,
    GLASS_MIBS(X)
#undef X
};
static const char *const drop_names[GLASS_DROP_COUNT] = {
#define X(n, d) #n,
    GLASS_DROP_REASONS(X)
#undef X
};
static const char *const drop_texts[GLASS_DROP_COUNT] = {
#define X(n, d) d,
    GLASS_DROP_REASONS(X)
#undef X
};
static const char *const event_names[GLASS_EV_COUNT] = {
#define X(n, s) s,
    GLASS_EVENTS(X)
#undef X
};
static const char *const timer_names[GLASS_TT_COUNT] = {
#define X(n, s) s,
    GLASS_TIMERS(X)
#undef X
};

const char *glass_mib_name(int m)
{
    return m >= 0 && m < GLASS_MIB_COUNT ? mib_names[m] : NULL;
}

const char *glass_mib_text(int m)
{
    return m >= 0 && m < GLASS_MIB_COUNT ? mib_texts[m] : NULL;
}

const char *glass_drop_name(int r)
{
    return r >= 0 && r < GLASS_DROP_COUNT ? drop_names[r] : NULL;
}

const char *glass_drop_text(int r)
{
    return r >= 0 && r < GLASS_DROP_COUNT ? drop_texts[r] : NULL;
}

const char *glass_event_name(int k)
{
    return k >= 0 && k < GLASS_EV_COUNT ? event_names[k] : "?";
}

const char *glass_timer_name(int k)
{
    return k >= 0 && k < GLASS_TT_COUNT ? timer_names[k] : "?";
}

uint64_t glass_stack_mib(const struct glass_stack *st, int m)
{
    if (m == GLASS_MIB_TcpCurrEstab)
        return (uint64_t)st->in_state[GLASS_TCP_ESTABLISHED] + st->in_state[GLASS_TCP_CLOSE_WAIT];
    return m >= 0 && m < GLASS_MIB_COUNT ? st->mib[m] : 0;
}

uint64_t glass_stack_mem_used(const struct glass_stack *st)
{
    return st->mem_used;
}

uint64_t glass_stack_drops(const struct glass_stack *st, int r)
{
    return r >= 0 && r < GLASS_DROP_COUNT ? st->drops[r] : 0;
}

uint32_t glass_stack_in_state(const struct glass_stack *st, int s)
{
    return s >= 0 && s < GLASS_TCP_NSTATES ? st->in_state[s] : 0;
}

uint64_t glass_stack_arc_taken(const struct glass_stack *st, size_t arc, int cause)
{
    if (arc >= glass_tcp_arc_count())
        return 0;
    if (cause >= 0)
        return cause < GLASS_CAUSE_COUNT ? st->arc_cause[arc][cause] : 0;
    uint64_t sum = 0;
    for (int c = 0; c < GLASS_CAUSE_COUNT; c++)
        sum += st->arc_cause[arc][c];
    return sum;
}

void glass_stack_set_observer(struct glass_stack *st, glass_observer_fn fn, void *ctx)
{
    st->observer = fn;
    st->observer_ctx = ctx;
}

size_t glass_stack_transitions(const struct glass_stack *st, struct glass_transition *out,
                               size_t max, uint64_t *dropped)
{
    size_t n = 0;
    for (uint32_t i = 0; i < st->ring_len && n < max; i++)
        out[n++] = st->ring[(st->ring_head + i) % st->cfg.trace_ring];
    if (dropped != NULL)
        *dropped = st->ring_dropped;
    return n;
}

/* ---- events ------------------------------------------------------------------------------ */

void glass_event_push(struct glass_stack *st, struct glass_tcb *tcb, enum glass_event_kind kind,
                      int err)
{
    if (tcb->fd < 0 || st->events == NULL)
        return;
    if (st->ev_len >= st->cfg.event_ring) {
        st->ev_dropped++; /* glass_poll() still tells the truth */
        return;
    }
    uint32_t at = st->ev_head + st->ev_len; /* ev_head < event_ring, ev_len < event_ring */
    struct glass_event *ev = &st->events[at >= st->cfg.event_ring ? at - st->cfg.event_ring : at];
    ev->kind = kind;
    ev->fd = tcb->fd;
    ev->err = err;
    ev->at = st->now;
    st->ev_len++;
}

bool glass_stack_next_event(struct glass_stack *st, struct glass_event *ev)
{
    if (st->ev_len == 0)
        return false;
    *ev = st->events[st->ev_head];
    st->ev_head = st->ev_head + 1u == st->cfg.event_ring ? 0u : st->ev_head + 1u;
    st->ev_len--;
    return true;
}

/* ---- time -------------------------------------------------------------------------------- */

static void set_now(struct glass_stack *st, glass_time_t now)
{
    if (now > st->now)
        st->now = now;
}

glass_time_t glass_stack_now(const struct glass_stack *st)
{
    return st->now;
}

void glass_stack_advance(struct glass_stack *st, glass_time_t now)
{
    if (st->twq != NULL)
        glass_tw_file_timers(st); /* candidates still TCBs: their 2MSL timers may be due */
    set_now(st, now);
    glass_wheel_run(st, st->now);
    glass_tw_expire(st);              /* compact TIME-WAIT records (timewait.c) */
    glass_ipfrag_expire(st, st->now); /* IPv4 reassembly timeouts (ip_reass.c) */
    glass_reclaim_run(st);            /* buffers of quiet connections (reclaim.c) */
    glass_reap_now(st);
    if (blk_idle_at(st) <= st->now)
        blk_flush(st); /* no connection has come for a while: give the kept blocks back */
}

glass_time_t glass_stack_next_deadline(struct glass_stack *st)
{
    if (st->twq != NULL)
        glass_tw_file_timers(st); /* candidates still TCBs: their 2MSL deadlines count */
    glass_time_t t = glass_wheel_next(st);
    glass_time_t frag = glass_ipfrag_next_deadline(st); /* ip_reass.c */
    glass_time_t tw = glass_tw_next_deadline(st);       /* timewait.c */
    glass_time_t rc = glass_reclaim_next_deadline(st);  /* reclaim.c */
    glass_time_t blk = blk_idle_at(st);
    if (blk < rc)
        rc = blk;
    if (tw < t)
        t = tw;
    if (rc < t)
        t = rc;
    return frag < t ? frag : t;
}

/* ---- IPv4 input edge: src/core/ip.c ------------------------------------------------------ */

int glass_stack_input(struct glass_stack *st, glass_time_t now, const uint8_t *pkt, size_t len)
{
    return glass_stack_input_flags(st, now, pkt, len, 0);
}

int glass_stack_input_flags(struct glass_stack *st, glass_time_t now, const uint8_t *pkt,
                            size_t len, unsigned flags)
{
    set_now(st, now);
    return glass_ip_input(st, pkt, len, (flags & GLASS_INPUT_CSUM_OK) != 0);
}

int glass_stack_input_sg(struct glass_stack *st, glass_time_t now, const uint8_t *hdr,
                         size_t hlen, const uint8_t *body, size_t blen, unsigned flags)
{
    if ((hdr == NULL && hlen > 0) || (body == NULL && blen > 0))
        return -GLASS_EFAULT;
    set_now(st, now);
    return glass_ip_input_sg(st, hdr, hlen, body, blen, (flags & GLASS_INPUT_CSUM_OK) != 0);
}

/* ---- output edge ------------------------------------------------------------------------- */

bool glass_stack_has_output(const struct glass_stack *st)
{
    return st->tx_len > 0 || st->outq_head != NULL;
}

/* Pull segments from the TCBs with something to send, one at a time and round robin, built
 * straight into buf (the payload left in the send buffer when ref allows it: *out says).
 * Returns the length built into buf, or 0 (then the segment, if any, went to the tx queue
 * because it did not fit buf, or nothing was ready, and *out, which the caller has cleared, is
 * left so). */
static size_t pull_direct(struct glass_stack *st, uint8_t *buf, size_t cap, bool ref,
                          struct glass_output *out)
{
    st->direct = buf;
    st->direct_cap = cap;
    st->direct_len = 0;
    st->direct_ref = ref;
    while (st->tx_len == 0 && st->direct_len == 0 && st->outq_head != NULL) {
        struct glass_tcb *tcb = st->outq_head;
        st->outq_head = tcb->onext;
        if (st->outq_head == NULL)
            st->outq_tail = NULL;
        tcb->onext = NULL;
        tcb->flags &= ~GLASS_TF_IN_OUTQ;
        if (tcb->flags & GLASS_TF_TWQ)
            st->twq_ready = true; /* off the output list: it may become a record */
        if (glass_tcp_output(st, tcb))
            continue;
        glass_tcp_kick(st, tcb); /* more to send, or no room: again on the next call */
        if (st->tx_len == 0 && st->direct_len == 0)
            break; /* a segment too big for buf and for a tx slot: EMSGSIZE below */
    }
    size_t n = st->direct_len;
    if (n != 0) { /* else *out stays as output_slow cleared it */
        out->len = n;
        out->payload = st->direct_payload;
        out->payload_len = st->direct_payload_len;
        out->gso_size = st->direct_gso;
    }
    st->direct = NULL; /* the other direct fields are read only while it is set */
    return n;
}

/* glass_stack_output and glass_stack_output_sg (ref), once there is something to send or to
 * free (output below). Kept out of line: its register saves and frame are what an empty call
 * would otherwise pay (docs/performance.md, the ninth round). */
static __attribute__((noinline)) long output_slow(struct glass_stack *st, glass_time_t now,
                                                  uint8_t *buf, size_t cap, bool ref,
                                                  struct glass_output *out)
{
    set_now(st, now);
    *out = (struct glass_output){.len = 0};
    if (!glass_stack_has_output(st)) {
        glass_reap_now(st); /* nothing to send: only what is to be freed */
        return 0;
    }
    size_t n = st->tx_len == 0 ? pull_direct(st, buf, cap, ref, out) : 0;
    if (out->payload == NULL)
        glass_reap_now(st); /* else on the next call: the payload is in a TCB's send buffer */
    if (n == 0) {
        if (st->tx_len == 0)
            return st->outq_head != NULL ? -GLASS_EMSGSIZE : 0;
        struct glass_txpkt *p = &st->tx[st->tx_head];
        if (cap < p->len)
            return -GLASS_EMSGSIZE;
        memcpy(buf, p->data, p->len);
        n = p->len;
        st->tx_head = (st->tx_head + 1u) % st->cfg.tx_ring;
        st->tx_len--;
        *out = (struct glass_output){.len = n};
    }
    glass_mib_inc(st, GLASS_MIB_IpOutRequests);
    return (long)(n + out->payload_len);
}

/* An event loop asks until it hears there is nothing (in a crr run, 26 of every 36 calls):
 * that answer costs a few loads and stores. */
static inline long output(struct glass_stack *st, glass_time_t now, uint8_t *buf, size_t cap,
                          bool ref, struct glass_output *out)
{
    if (!glass_stack_has_output(st) && !glass_reap_due(st)) {
        set_now(st, now);
        *out = (struct glass_output){.len = 0};
        return 0;
    }
    return output_slow(st, now, buf, cap, ref, out);
}

long glass_stack_output(struct glass_stack *st, glass_time_t now, uint8_t *buf, size_t cap)
{
    struct glass_output out;
    return output(st, now, buf, cap, false, &out);
}

long glass_stack_output_sg(struct glass_stack *st, glass_time_t now, uint8_t *buf, size_t cap,
                           struct glass_output *out)
{
    if (out == NULL)
        return -GLASS_EFAULT;
    return output(st, now, buf, cap, true, out);
}

/* ---- snapshots --------------------------------------------------------------------------- */

static void fill_conn_info(const struct glass_stack *st, const struct glass_tcb *tcb,
                           struct glass_conn_info *ci)
{
    memset(ci, 0, sizeof *ci);
    ci->conn_id = tcb->id;
    ci->fd = tcb->fd;
    ci->state = tcb->state; /* not-tcb-state */
    ci->local = tcb->local;
    ci->remote = tcb->remote;
    if (tcb->state == GLASS_TCP_LISTEN) {
        ci->recv_q = tcb->x->lq != NULL ? tcb->x->lq->acceptq_len : 0;
        ci->send_q = tcb->x->lq != NULL ? tcb->x->lq->backlog : 0;
    } else {
        ci->recv_q = tcb->rb.len;
        ci->send_q = glass_seq_sub(tcb->snd_max, tcb->snd_una) > tcb->sb.len
                         ? glass_seq_sub(tcb->snd_max, tcb->snd_una)
                         : tcb->sb.len;
    }
    ci->state_since = tcb->state_since;
    ci->timer_at = GLASS_TIME_NEVER;
    ci->timer_kind = 0;
    for (int k = 0; k < GLASS_TT_COUNT; k++) {
        if (tcb->timer[k] < ci->timer_at) {
            ci->timer_at = tcb->timer[k];
            ci->timer_kind = (uint8_t)k;
        }
    }
    ci->retransmits = tcb->rxtshift;
    ci->orphan = (tcb->flags & GLASS_TF_ORPHAN) != 0;
    ci->last_snd = tcb->last_snd;
    ci->last_rcv = tcb->last_rcv;
    ci->synq_len = tcb->state == GLASS_TCP_LISTEN && tcb->x->lq != NULL ? tcb->x->lq->synq_len : 0;
    glass_tcp_fill_info(st, tcb, &ci->tcp);
}

/* A compact TIME-WAIT record as ss sees it: orphaned, its 2MSL timer; the record keeps no
 * figures, and its state_since is its last (re)start of 2 MSL. */
static void fill_tw_info(const struct glass_stack *st, const struct glass_tw *tw,
                         struct glass_conn_info *ci)
{
    memset(ci, 0, sizeof *ci);
    ci->conn_id = tw->id;
    ci->fd = -1;
    ci->state = GLASS_TCP_TIME_WAIT; /* not-tcb-state */
    ci->local = (struct glass_endpoint){.addr = tw->laddr, .port = tw->lport};
    ci->remote = (struct glass_endpoint){.addr = tw->raddr, .port = tw->rport};
    ci->timer_at = glass_tw_deadline(st, tw);
    ci->timer_kind = GLASS_TT_TIMEWAIT;
    ci->state_since = glass_tw_since(st, tw);
    ci->orphan = true;
    ci->tw_record = true;
    ci->tcp.state = GLASS_TCP_TIME_WAIT; /* not-tcb-state */
    ci->tcp.conn_id = tw->id;
    ci->tcp.tcpi_state = (uint8_t)glass_tcp_state_linux(GLASS_TCP_TIME_WAIT);
}

size_t glass_stack_conns(const struct glass_stack *st, struct glass_conn_info *out, size_t max)
{
    size_t n = 0;
    /* Listeners first, then the rest, each in creation order. */
    for (int pass = 0; pass < 2; pass++) {
        for (const struct glass_list *l = st->all.next; l != &st->all; l = l->next) {
            const struct glass_tcb *tcb = GLASS_TCB_OF(l, all);
            bool listener = tcb->state == GLASS_TCP_LISTEN && !(tcb->flags & GLASS_TF_PASSIVE);
            if ((pass == 0) != listener)
                continue;
            if (tcb->flags & GLASS_TF_REAP)
                continue;
            if (n < max)
                fill_conn_info(st, tcb, &out[n]);
            n++;
        }
    }
    for (uint32_t ref = st->tw.head; ref != 0; ref = glass_tw_at(&st->tw, ref)->fnext) {
        if (n < max)
            fill_tw_info(st, glass_tw_at(&st->tw, ref), &out[n]);
        n++;
    }
    return n;
}

/* A compact inline record as a glass_transition: the time to the ms (exact for the latest,
 * whose time is state_since), the segment's flags but not its numbers (has_seg stays false). */
static struct glass_transition inline_transition(const struct glass_tcb *tcb, uint8_t i)
{
    const struct glass_hist_rec *r = &tcb->hist_rec[(glass_hist_inline_head(tcb) + i) % GLASS_HIST_INLINE];
    uint32_t back_ms = (uint32_t)(tcb->state_since / GLASS_NSEC_PER_MSEC) - r->at_ms;
    glass_time_t back = (glass_time_t)back_ms * GLASS_NSEC_PER_MSEC;
    return (struct glass_transition){
        .at = back > tcb->state_since ? 0 : tcb->state_since - back,
        .conn = tcb->id,
        .from = (uint8_t)(r->from_to >> 4),
        .to = (uint8_t)(r->from_to & 0x0fu),
        .cause = r->cause,
        .seg_flags = r->seg_flags,
    };
}

/* Copy the trace ring's records of conn_id, oldest first, up to max; returns how many the ring
 * holds (which may exceed max). */
static size_t ring_history(const struct glass_stack *st, uint32_t conn_id,
                           struct glass_transition *out, size_t max)
{
    size_t n = 0;
    for (uint32_t i = 0; i < st->ring_len; i++) {
        const struct glass_transition *t = &st->ring[(st->ring_head + i) % st->cfg.trace_ring];
        if (t->conn != conn_id)
            continue;
        if (n < max)
            out[n] = *t;
        n++;
    }
    return n;
}

long glass_conn_history(const struct glass_stack *st, uint32_t conn_id,
                        struct glass_transition *out, size_t max)
{
    const struct glass_tcb *tcb = NULL;
    for (const struct glass_list *l = st->all.next; l != &st->all && tcb == NULL; l = l->next)
        if (GLASS_TCB_OF(l, all)->id == conn_id)
            tcb = GLASS_TCB_OF(l, all);
    if (tcb != NULL && tcb->x->hist != NULL) { /* full records (cfg.history_len > 0) */
        const struct glass_hist_full *h = tcb->x->hist;
        size_t n = 0;
        for (uint16_t i = 0; i < h->count && n < max; i++)
            out[n++] = h->rec[(h->head + i) % h->cap];
        return (long)n;
    }
    /* The trace ring holds the latest transitions of every connection in full, a suffix of
     * its history; the inline records are the last GLASS_HIST_INLINE of it. Those older than
     * the ring's come first, compact. */
    size_t in_ring = ring_history(st, conn_id, NULL, 0);
    size_t n_inline = tcb != NULL ? glass_hist_inline_count(tcb) : 0;
    size_t older = n_inline > in_ring ? n_inline - in_ring : 0;
    if (tcb == NULL && in_ring == 0)
        return -GLASS_ENOTCONN; /* never existed, or freed and gone from the ring */
    size_t n = 0;
    for (uint8_t i = 0; i < older && n < max; i++)
        out[n++] = inline_transition(tcb, i);
    n += ring_history(st, conn_id, out + n, max - n);
    return (long)(n < max ? n : max);
}

