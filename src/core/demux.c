/* glasstcp — TCB lifetime, 4-tuple demux, the bind table, ephemeral ports and ISNs. */
#include "core/core.h"
#include "util/assert.h"
#include "util/endian.h"

#include <glass/err.h>

#include <string.h>

/* The extension of a connection that needs none of it: all NULL, never written. */
const struct glass_tcb_ext glass_tcb_ext_none = {.lq = NULL};

struct glass_tcb_ext *glass_tcb_xw(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (tcb->x != &glass_tcb_ext_none)
        return (struct glass_tcb_ext *)tcb->x; /* from glass_zalloc below: not a const object */
    struct glass_tcb_ext *x = glass_zalloc(st, sizeof *x);
    if (x != NULL)
        tcb->x = x;
    return x;
}

bool glass_tcb_ext_used(const struct glass_tcb_ext *x)
{
    return x->cl.listener != NULL || x->lq != NULL || x->ooo != NULL || x->sacked != NULL ||
           x->cubic != NULL || x->rack != NULL || x->hist != NULL || x->user_timeout_ms != 0 ||
           x->keep_idle_s != 0 || x->keep_intvl_s != 0;
}

void glass_tcb_xput(struct glass_stack *st, struct glass_tcb *tcb)
{
    const struct glass_tcb_ext *x = tcb->x;
    if (x == &glass_tcb_ext_none || glass_tcb_ext_used(x))
        return;
    glass_free(st, (struct glass_tcb_ext *)x, sizeof *x);
    tcb->x = &glass_tcb_ext_none;
}

struct glass_tcb *glass_tcb_new(struct glass_stack *st)
{
    if (st->n_tcbs >= st->cfg.max_conns)
        return NULL;
    struct glass_tcb *tcb = glass_zalloc(st, sizeof *tcb);
    if (tcb == NULL)
        return NULL;
    tcb->id = st->next_conn_id++;
    tcb->fd = -1;
    tcb->x = &glass_tcb_ext_none;
    tcb->sb.cap = st->cfg.sndbuf;
    tcb->rb.cap = st->cfg.rcvbuf;
    tcb->rto = st->cfg.rto_initial;
    tcb->cc_algo = (uint8_t)st->cfg.cc;
    tcb->keep_cnt = st->cfg.keepalive_probes;
    tcb->cwnd = (uint32_t)st->cfg.init_cwnd * GLASS_DEFAULT_PEER_MSS;
    tcb->ssthresh = UINT32_MAX;
    tcb->rcv_mss = st->cfg.mss;
    tcb->snd_mss = GLASS_DEFAULT_PEER_MSS;
    for (int k = 0; k < GLASS_TT_COUNT; k++)
        tcb->timer[k] = GLASS_TIME_NEVER;
    tcb->all.prev = st->all.prev;
    tcb->all.next = &st->all;
    st->all.prev->next = &tcb->all;
    st->all.prev = &tcb->all;
    st->n_tcbs++;
    glass_tcb_init_state(st, tcb, GLASS_TCP_CLOSED);
    return tcb;
}

void glass_tcb_free(struct glass_stack *st, struct glass_tcb *tcb)
{
    glass_reclaim_forget(st, tcb);
    glass_ring_free(st, &tcb->sb);
    glass_ring_free(st, &tcb->rb);
    const struct glass_tcb_ext *x = tcb->x;
    if (x != &glass_tcb_ext_none) {
        if (x->rack != NULL)
            glass_free(st, x->rack, glass_rack_size(x->rack->cap));
        glass_free(st, x->ooo, sizeof(struct glass_range) * GLASS_OOO_MAX);
        glass_free(st, x->sacked, sizeof(struct glass_range) * GLASS_SACK_MAX);
        glass_free(st, x->lq, sizeof *x->lq);
        glass_free(st, x->cubic, sizeof *x->cubic);
        if (x->hist != NULL)
            glass_free(st, x->hist, sizeof *x->hist + sizeof x->hist->rec[0] * x->hist->cap);
        glass_free(st, (struct glass_tcb_ext *)x, sizeof *x);
    }
    glass_free(st, tcb, sizeof *tcb);
}

void glass_tcb_reap(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (tcb->flags & GLASS_TF_REAP)
        return;
    glass_tw_forget(st, tcb);
    glass_timer_clear_all(st, tcb);
    glass_tcb_unhash(st, tcb);
    glass_tcb_unbhash(st, tcb);
    if (tcb->x->cl.listener != NULL)
        glass_child_unlink(st, tcb);
    /* Off the output list: rebuild it without tcb (rare path, list is short). */
    if (tcb->flags & GLASS_TF_IN_OUTQ) {
        struct glass_tcb **pp = &st->outq_head;
        st->outq_tail = NULL;
        while (*pp != NULL) {
            if (*pp == tcb)
                *pp = tcb->onext;
            else {
                st->outq_tail = *pp;
                pp = &(*pp)->onext;
            }
        }
        tcb->flags &= ~GLASS_TF_IN_OUTQ;
    }
    tcb->flags |= GLASS_TF_REAP;
    tcb->rnext = st->reap;
    st->reap = tcb;
}

/* ---- the 4-tuple hash ---------------------------------------------------------------------- */

uint32_t glass_tuple_hash(const struct glass_stack *st, uint32_t laddr, uint16_t lport,
                          uint32_t raddr, uint16_t rport)
{
    uint64_t h = ((uint64_t)laddr << 32 | raddr) * UINT64_C(0x9E3779B97F4A7C15);
    h ^= ((uint64_t)lport << 16 | rport) * UINT64_C(0xC2B2AE3D27D4EB4F);
    h ^= st->isn_key[0];
    h ^= h >> 29;
    h *= UINT64_C(0xBF58476D1CE4E5B9);
    h ^= h >> 32;
    return (uint32_t)h;
}

static uint32_t tuple_hash(const struct glass_stack *st, uint32_t laddr, uint16_t lport,
                           uint32_t raddr, uint16_t rport)
{
    return glass_tuple_hash(st, laddr, lport, raddr, rport) & st->chash_mask;
}

static uint32_t tcb_bucket(const struct glass_stack *st, const struct glass_tcb *tcb)
{
    return tuple_hash(st, tcb->local.addr, tcb->local.port, tcb->remote.addr, tcb->remote.port);
}

/* The table is allocated whole at creation (its size follows max_conns, and memory per
 * connection is measured without it), but only the first chash_mask + 1 heads are used: as
 * many as there are hashed TCBs (at least GLASS_CHASH_MIN), doubled when they are exceeded and
 * halved when fewer than an eighth remain. A stack with a few live connections then looks them
 * up in a table that stays in cache, instead of a random line of a table sized for all it may
 * ever hold (a new 4-tuple's head was a cache miss on every connection). Each resize moves
 * every entry once; the hysteresis leaves at least 3/8 of the heads' worth of insertions or
 * removals between two. Entries keep their relative order within a chain (two TCBs of one
 * 4-tuple, always in one chain, are found in the same order). */
static void chash_resize(struct glass_stack *st, uint32_t heads)
{
    uint32_t old = st->chash_mask + 1u;
    st->chash_mask = heads - 1u;
    if (heads > old) {
        /* Split each chain i between heads i and i + old, in order. */
        for (uint32_t i = 0; i < old; i++) {
            struct glass_tcb *t = st->chash[i], **tail[2] = {&st->chash[i], &st->chash[i + old]};
            while (t != NULL) {
                struct glass_tcb *next = t->hnext;
                struct glass_tcb ***at = &tail[tcb_bucket(st, t) != i];
                **at = t;
                *at = &t->hnext;
                t = next;
            }
            *tail[0] = NULL;
            *tail[1] = NULL;
        }
    } else {
        /* Append chain i + heads to chain i. */
        for (uint32_t i = 0; i < heads; i++) {
            struct glass_tcb **pp = &st->chash[i];
            while (*pp != NULL)
                pp = &(*pp)->hnext;
            *pp = st->chash[i + heads];
            st->chash[i + heads] = NULL;
        }
    }
}

void glass_tcb_hash(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (tcb->flags & GLASS_TF_HASHED)
        return;
    if (st->n_hashed > st->chash_mask && st->chash_mask < st->chash_max)
        chash_resize(st, 2u * (st->chash_mask + 1u));
    uint32_t b = tcb_bucket(st, tcb);
    tcb->hnext = st->chash[b];
    st->chash[b] = tcb;
    st->n_hashed++;
    tcb->flags |= GLASS_TF_HASHED;
}

void glass_tcb_unhash(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (!(tcb->flags & GLASS_TF_HASHED))
        return;
    uint32_t b = tcb_bucket(st, tcb);
    for (struct glass_tcb **pp = &st->chash[b]; *pp != NULL; pp = &(*pp)->hnext) {
        if (*pp == tcb) {
            *pp = tcb->hnext;
            break;
        }
    }
    tcb->hnext = NULL;
    tcb->flags &= ~GLASS_TF_HASHED;
    st->n_hashed--;
    uint32_t heads = st->chash_mask + 1u;
    if (heads > GLASS_CHASH_MIN && st->n_hashed < heads / 8u)
        chash_resize(st, heads / 2u);
}

struct glass_tcb *glass_demux_conn(const struct glass_stack *st, uint32_t laddr, uint16_t lport,
                                   uint32_t raddr, uint16_t rport)
{
    uint32_t b = tuple_hash(st, laddr, lport, raddr, rport);
    for (struct glass_tcb *t = st->chash[b]; t != NULL; t = t->hnext)
        if (t->local.port == lport && t->remote.port == rport && t->local.addr == laddr &&
            t->remote.addr == raddr)
            return t;
    return NULL;
}

/* ---- the bind table (by local port) ------------------------------------------------------- */

/* Each chain keeps its listening TCBs in front of all the others, so that the listener lookup
 * for an incoming SYN stops at the first TCB that does not listen instead of walking past every
 * connection on the port (a server with many connections has them all in one chain). A TCB
 * that starts or stops listening is re-linked (tcp_fsm.c). */
void glass_tcb_bhash(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (tcb->flags & GLASS_TF_IN_BHASH)
        return;
    struct glass_tcb **pp = &st->bhash[tcb->local.port & st->bhash_mask];
    if (tcb->state != GLASS_TCP_LISTEN) {
        while (*pp != NULL && (*pp)->state == GLASS_TCP_LISTEN)
            pp = &(*pp)->bnext;
    }
    tcb->bnext = *pp;
    if (tcb->bnext != NULL)
        tcb->bnext->bpprev = &tcb->bnext;
    *pp = tcb;
    tcb->bpprev = pp;
    tcb->flags |= GLASS_TF_IN_BHASH;
}

void glass_tcb_unbhash(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (!(tcb->flags & GLASS_TF_IN_BHASH))
        return;
    (void)st;
    *tcb->bpprev = tcb->bnext;
    if (tcb->bnext != NULL)
        tcb->bnext->bpprev = tcb->bpprev;
    tcb->bnext = NULL;
    tcb->bpprev = NULL;
    tcb->flags &= ~GLASS_TF_IN_BHASH;
}

struct glass_tcb *glass_demux_listener(struct glass_stack *st, uint32_t laddr, uint16_t lport)
{
    struct glass_tcb *wild = NULL;
    /* Listeners come first in the chain (glass_tcb_bhash). */
    for (struct glass_tcb *t = st->bhash[lport & st->bhash_mask];
         t != NULL && t->state == GLASS_TCP_LISTEN; t = t->bnext) {
        if (t->local.port != lport || (t->flags & GLASS_TF_PASSIVE))
            continue;
        if (t->local.addr == laddr)
            return t; /* an exact address beats the wildcard */
        if (t->local.addr == 0 && wild == NULL)
            wild = t;
    }
    return wild;
}

/* Linux inet_csk_bind_conflict(): a port is shared only if both sockets set SO_REUSEADDR and
 * the other one is not listening; sockets in TIME_WAIT keep the SO_REUSEADDR flag of the socket
 * they came from. Different specific addresses never conflict. */
int glass_bind_check(struct glass_stack *st, const struct glass_tcb *tcb, uint32_t addr,
                     uint16_t port)
{
    for (struct glass_tcb *t = st->bhash[port & st->bhash_mask]; t != NULL; t = t->bnext) {
        if (t == tcb || t->local.port != port)
            continue;
        if (addr != 0 && t->local.addr != 0 && addr != t->local.addr)
            continue;
        bool both_reuse = (tcb->flags & GLASS_TF_REUSEADDR) && (t->flags & GLASS_TF_REUSEADDR);
        if (both_reuse && t->state != GLASS_TCP_LISTEN)
            continue;
        return -GLASS_EADDRINUSE;
    }
    /* Compact TIME-WAIT records hold their port the same way (never listening). */
    for (uint32_t ref = glass_tw_port_first(st, port); ref != 0;) {
        const struct glass_tw *tw = glass_tw_at(&st->tw, ref);
        ref = tw->bnext;
        if (tw->lport != port || (addr != 0 && addr != tw->laddr))
            continue;
        if ((tcb->flags & GLASS_TF_REUSEADDR) && (tw->flags & GLASS_TWF_REUSEADDR))
            continue;
        return -GLASS_EADDRINUSE;
    }
    return 0;
}

/* May tcb use local port `port` towards remote? Not if a listener or an explicitly bound socket
 * holds it, nor if another connection (TIME_WAIT included) already has this 4-tuple; ports are
 * otherwise shared across 4-tuples (Linux __inet_hash_connect). *own receives this 4-tuple's
 * TIME-WAIT record when it may be reused, so that connect() need not look it up again. */
static bool port_suitable(struct glass_stack *st, const struct glass_tcb *tcb, uint16_t port,
                          uint32_t laddr, const struct glass_endpoint *remote, uint32_t *own)
{
    for (struct glass_tcb *t = st->bhash[port & st->bhash_mask]; t != NULL; t = t->bnext) {
        if (t == tcb || t->local.port != port)
            continue;
        if (t->local.addr != 0 && laddr != 0 && t->local.addr != laddr)
            continue;
        if (t->state == GLASS_TCP_LISTEN || (t->flags & GLASS_TF_BOUND) ||
            (t->remote.addr == remote->addr && t->remote.port == remote->port &&
             !glass_tw_reusable(st, t)))
            return false;
    }
    /* TIME-WAIT records: one that came from an explicitly bound socket holds its port (rare:
     * the chain is walked only if there is one); otherwise only this 4-tuple's own record
     * matters, found by hash rather than by walking every record on the port. */
    for (uint32_t ref = st->tw.n_bound > 0 ? glass_tw_port_first(st, port) : 0; ref != 0;) {
        const struct glass_tw *tw = glass_tw_at(&st->tw, ref);
        ref = tw->bnext;
        if (tw->lport == port && (laddr == 0 || tw->laddr == laddr) &&
            (tw->flags & GLASS_TWF_BOUND))
            return false;
    }
    *own = laddr != 0 ? glass_tw_find(st, laddr, port, remote->addr, remote->port) : 0;
    return *own == 0 || glass_tw_rec_reusable(st, glass_tw_at(&st->tw, *own));
}

/* Linux tcp_twsk_unique(): a TIME_WAIT entry may give its 4-tuple to a new connect() if
 * tw_reuse allows it towards that address, the connection used timestamps (RFC 7323 PAWS then
 * sorts old duplicates from new segments) and the last one came over a second ago. */
static bool tw_reuse_allowed(const struct glass_stack *st, bool ts_ok, uint32_t raddr,
                             glass_time_t last_ts)
{
    if (!ts_ok)
        return false;
    bool loopback = (raddr >> 24) == 127u;
    if (st->cfg.tw_reuse == 0 || (st->cfg.tw_reuse == 2 && !loopback))
        return false;
    return st->now > last_ts && st->now - last_ts > GLASS_SEC(1);
}

bool glass_tw_reusable(const struct glass_stack *st, const struct glass_tcb *t)
{
    return t->state == GLASS_TCP_TIME_WAIT &&
           tw_reuse_allowed(st, (t->flags & GLASS_TF_TS_OK) != 0, t->remote.addr, t->ts_recent_age);
}

/* A record keeps no age of TS.Recent: TIME-WAIT takes no new timestamp, so the last one came
 * no later than the record's last (re)start of 2 MSL. The test is therefore at least as strict
 * as for a TCB. */
bool glass_tw_rec_reusable(const struct glass_stack *st, const struct glass_tw *tw)
{
    return tw_reuse_allowed(st, (tw->flags & GLASS_TWF_TS_OK) != 0, tw->raddr,
                            glass_tw_since(st, tw));
}

void glass_ports_init(struct glass_stack *st)
{
    /* Derived, not drawn from the PRNG, like the cookie key (syncookie.c). */
    uint8_t label[] = "glasstcp rfc6056 key ?";
    for (uint8_t i = 0; i < 2; i++) {
        label[sizeof label - 2u] = (uint8_t)('0' + i);
        st->port_key[i] = glass_siphash(st->isn_key, label, sizeof label - 1u);
    }
}

/* RFC 6056 §3.3.4 algorithm 4 ("double-hash"): the search starts at
 *   lo + (F(laddr, raddr, rport, key) + table[G(laddr, raddr, rport, key') mod T]) mod range
 * and walks the range for a suitable port; the table entry then advances past it. F spreads
 * destinations over the range; the per-bucket counter makes successive connections to one
 * destination move on, and, as Linux since 5.18 (inet_hash_connect), by a small random extra
 * step so that the next port is not the previous one plus one. With remote = 0 (bind(port 0),
 * listen() autobind) the same walk keyed by the local address alone. Keyed by the stack secret,
 * so runs under one seed repeat. 0 if every port in the range is taken (EADDRNOTAVAIL). */
uint16_t glass_ephemeral_port(struct glass_stack *st, const struct glass_tcb *tcb,
                              uint32_t laddr, const struct glass_endpoint *remote,
                              uint32_t *twref)
{
    uint32_t lo = st->cfg.ephemeral_lo, hi = st->cfg.ephemeral_hi;
    uint32_t range = hi - lo + 1u;
    uint8_t b[11];
    glass_put32(b, laddr);
    glass_put32(b + 4, remote->addr);
    glass_put16(b + 8, remote->port);
    b[10] = 'F';
    uint32_t offset = (uint32_t)glass_siphash(st->port_key, b, sizeof b);
    b[10] = 'G';
    uint32_t index = (uint32_t)glass_siphash(st->port_key, b, sizeof b) % GLASS_PORT_TABLE;
    uint32_t start = (offset + st->port_perturb[index]) % range;
    for (uint32_t i = 0; i < range; i++) {
        uint16_t port = (uint16_t)(lo + (start + i) % range);
        if (!port_suitable(st, tcb, port, laddr, remote, twref))
            continue;
        st->port_perturb[index] += i + 1u + glass_rng_below(&st->rng, 8);
        return port;
    }
    *twref = 0;
    return 0;
}

/* RFC 6528 (RFC 9293 §3.4.1): ISN = M + F(localip, localport, remoteip, remoteport, key), with
 * M a 4-microsecond clock and F a keyed hash (SipHash-2-4). The key comes from the stack's
 * seed (deterministic in simulation; the CLI seeds it from getrandom()). */
struct glass_seq glass_isn(struct glass_stack *st, const struct glass_endpoint *local,
                           const struct glass_endpoint *remote)
{
    /* F hashes the 12 bytes local address, local port, remote address, remote port in network
     * order; SipHash reads them as little-endian words, which are these byte swaps. */
    uint64_t w0 = (uint64_t)local->addr << 32 | (uint64_t)local->port << 16 | remote->addr >> 16;
    uint32_t w1 = (remote->addr & 0xffffu) << 16 | remote->port;
    uint64_t f = glass_siphash_12(st->isn_key, glass_bswap64(w0),
                                  (uint32_t)(glass_bswap64(w1) >> 32));
    uint64_t m = st->now / 4000u;
    return glass_seq((uint32_t)(m + f));
}

void glass_child_unqueue(struct glass_tcb *child)
{
    struct glass_child_link *cl = (struct glass_child_link *)&child->x->cl;
    if (cl->listener == NULL || cl->qlink.next == NULL)
        return; /* (then cl may be glass_tcb_ext_none's: nothing is written) */
    struct glass_tcb *l = cl->listener;
    cl->qlink.prev->next = cl->qlink.next;
    cl->qlink.next->prev = cl->qlink.prev;
    cl->qlink.prev = cl->qlink.next = NULL;
    if (child->inq == 1 && l->x->lq->synq_len > 0)
        l->x->lq->synq_len--;
    if (child->inq == 2 && l->x->lq->acceptq_len > 0)
        l->x->lq->acceptq_len--;
    child->inq = 0;
}

void glass_child_unlink(struct glass_stack *st, struct glass_tcb *child)
{
    glass_child_unqueue(child);
    if (child->x->cl.listener == NULL)
        return;
    struct glass_tcb_ext *x = glass_tcb_xw(st, child); /* allocated: cl.listener is set */
    x->cl = (struct glass_child_link){.listener = NULL};
    glass_tcb_xput(st, child);
}
