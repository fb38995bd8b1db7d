/* glasstcp — the simulated network (include/glass/sim.h): stacks, one virtual clock, one link.
 *
 * The simnet is the only owner of time here. It moves packets between the attached stacks over
 * a glass_sim_link and fires their timers, always taking the earliest event next:
 *
 *   next event = min(next delivery on the link, every stack's glass_stack_next_deadline())
 *   ties       = deliveries first, in packet id (send) order; then timers, in node order
 *
 * After each event the stack's socket events are dispatched to its app callback (where an
 * application may act at once, e.g. close on RDHUP so that its FIN rides on the pending ACK),
 * then every stack's output is drained onto the link. Nothing depends on the wall clock or on
 * addresses in memory: the same inputs and seed give the same packets, byte for byte.
 *
 * Impairments are decided per direction by link/fault.c; this file applies the verdicts: it
 * puts each copy on the link with its delivery time and rank (rank = 4 * id keeps send order
 * among simultaneous deliveries), flips the chosen bit of a corrupted copy, and does the
 * overtaking of reordered copies: such a copy waits in the queue until its deadline, and each
 * later in-order copy of its direction counts it down; at zero it is re-timed to arrive right
 * after that copy (rank + 1). Packets are copied once, from the sender's output into a link
 * slot, and delivered from the slot in place. */
#include "link/fault.h"
#include "link/sim_link.h"
#include "util/endian.h"
#include "util/rng.h"

#include <glass/err.h>
#include <glass/sim.h>
#include <glass/stack.h>
#include <glass/wire.h>

#include <stdlib.h>
#include <string.h>

#define SIM_MAX_NODES 16
#define SIM_BUF 65536u

/* The trace hash: start value, and the multiplier of its word-wise mixing. */
#define HASH_START UINT64_C(0xcbf29ce484222325)
#define HASH_MUL UINT64_C(0x9fb21c651e98df25)

/* Link metadata flag beyond the public GLASS_SIM_PKT_*: a reordered copy still waiting to be
 * overtaken (it is in its direction's pending list). */
#define SIM_F_PENDING 0x100u
#define SIM_F_PUBLIC 0xffu

/* A reordered copy waiting for k more copies of its direction to overtake it. */
struct reorder_pend {
    uint32_t handle; /* its link slot */
    uint64_t id;
    uint32_t k;
};

struct sim_dir {
    struct glass_fault_dir f;
    struct reorder_pend *pend; /* in the order they were sent */
    uint32_t n_pend, cap_pend;
};

struct sim_node {
    struct glass_stack *st;
    uint32_t addr;
    glass_simnet_app_fn app;
    void *app_ctx;
    /* A stack whose deadline did not move past stuck_at after advance(stuck_at) is retried
     * 1 ms later, not at once: a misbehaving timer cannot stall the simulation. */
    glass_time_t stuck_at;
    bool stuck;
    bool tx_partial; /* its stack leaves TCP checksums to the device (tx_csum_offload) */
    bool tso;        /* its stack may emit TSO super-segments (tso_max): drained by pieces */
};

struct glass_simnet {
    struct glass_simnet_config cfg;
    glass_time_t now;
    glass_time_t delay;
    struct glass_sim_link *link;
    struct glass_fault_params fp;
    struct sim_dir dirs[SIM_MAX_NODES][SIM_MAX_NODES];
    struct glass_simnet_stats stats;

    struct sim_node nodes[SIM_MAX_NODES];
    int n_nodes;

    glass_simnet_filter_fn filter;
    void *filter_ctx;
    glass_simnet_tap_fn tap;
    void *tap_ctx;

    uint64_t next_id;
    uint64_t hash;
    bool draining; /* inside drain_all: a nested flush is a no-op (the outer loop catches up) */
    bool stepping; /* inside step/run_until: nested calls return at once */
    bool dispatching; /* inside an app callback: events are not re-dispatched recursively */

    uint8_t txbuf[SIM_BUF]; /* what a stack is emitting */
    uint8_t xbuf[SIM_BUF];  /* a held packet being released or discarded */
    uint8_t pbuf[SIM_BUF];  /* a piece of a super-segment that the spare slot cannot hold */
};

GLASS_API void glass_simnet_config_default(struct glass_simnet_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->seed = 1;
    cfg->delay = GLASS_MSEC(10);
    cfg->loss = 0.0;
    cfg->max_in_flight = 65536;
    cfg->reorder_max = 3;
    cfg->mtu = 1500;
}

static void fault_params(struct glass_fault_params *fp, const struct glass_simnet_config *c)
{
    memset(fp, 0, sizeof *fp);
    fp->seed = c->seed;
    fp->delay = c->delay;
    fp->loss = c->loss;
    fp->dup = c->dup;
    fp->reorder = c->reorder;
    fp->corrupt = c->corrupt;
    fp->reorder_max = c->reorder_max;
    fp->jitter = c->jitter;
    fp->rate_bps = c->rate_bps;
    fp->queue_pkts = c->queue_pkts;
    fp->spike_every = c->spike_every;
    fp->spike_len = c->spike_len;
}

GLASS_API struct glass_simnet *glass_simnet_new(const struct glass_simnet_config *cfg)
{
    struct glass_simnet_config c;
    if (cfg != NULL)
        c = *cfg;
    else
        glass_simnet_config_default(&c);
    struct glass_fault_params fp;
    fault_params(&fp, &c);
    if (glass_fault_params_check(&fp) != 0 || c.max_in_flight == 0 || c.mtu < 68 ||
        c.mtu > 65535)
        return NULL;
    struct glass_simnet *net = calloc(1, sizeof *net);
    if (net == NULL)
        return NULL;
    net->link = glass_sim_link_new(c.max_in_flight, c.mtu);
    if (net->link == NULL) {
        free(net);
        return NULL;
    }
    net->cfg = c;
    net->fp = fp;
    net->delay = c.delay;
    net->next_id = 1;
    net->hash = HASH_START;
    return net;
}

GLASS_API void glass_simnet_free(struct glass_simnet *net)
{
    if (net == NULL)
        return;
    for (int i = 0; i < SIM_MAX_NODES; i++) {
        for (int j = 0; j < SIM_MAX_NODES; j++) {
            glass_fault_dir_fini(&net->dirs[i][j].f);
            free(net->dirs[i][j].pend);
        }
    }
    glass_sim_link_free(net->link);
    free(net);
}

GLASS_API int glass_simnet_attach(struct glass_simnet *net, struct glass_stack *st, uint32_t addr)
{
    if (net == NULL || st == NULL || addr == 0)
        return -GLASS_EINVAL;
    if (net->n_nodes >= SIM_MAX_NODES)
        return -GLASS_ENOBUFS;
    for (int i = 0; i < net->n_nodes; i++) {
        if (net->nodes[i].st == st)
            return -GLASS_EINVAL;
        if (net->nodes[i].addr == addr)
            return -GLASS_EADDRINUSE;
    }
    int rc = glass_stack_add_iface(st, addr, 24, net->cfg.mtu);
    if (rc < 0)
        return rc;
    struct sim_node *n = &net->nodes[net->n_nodes];
    memset(n, 0, sizeof *n);
    n->st = st;
    n->addr = addr;
    n->tx_partial = glass_stack_config(st)->tx_csum_offload;
    n->tso = glass_stack_config(st)->tso_max > 0;
    /* Start the stack's clock at the simnet's. */
    if (glass_stack_next_deadline(st) > net->now)
        glass_stack_advance(st, net->now);
    return net->n_nodes++;
}

GLASS_API struct glass_stack *glass_simnet_stack(struct glass_simnet *net, int node)
{
    if (net == NULL || node < 0 || node >= net->n_nodes)
        return NULL;
    return net->nodes[node].st;
}

GLASS_API void glass_simnet_set_filter(struct glass_simnet *net, glass_simnet_filter_fn fn,
                                       void *ctx)
{
    net->filter = fn;
    net->filter_ctx = ctx;
}

GLASS_API void glass_simnet_set_tap(struct glass_simnet *net, glass_simnet_tap_fn fn, void *ctx)
{
    net->tap = fn;
    net->tap_ctx = ctx;
}

GLASS_API void glass_simnet_set_app(struct glass_simnet *net, int node, glass_simnet_app_fn fn,
                                    void *ctx)
{
    if (node < 0 || node >= net->n_nodes)
        return;
    net->nodes[node].app = fn;
    net->nodes[node].app_ctx = ctx;
}

GLASS_API void glass_simnet_set_delay(struct glass_simnet *net, glass_time_t delay)
{
    net->delay = delay;
}

GLASS_API glass_time_t glass_simnet_now(const struct glass_simnet *net)
{
    return net->now;
}

GLASS_API size_t glass_simnet_in_flight(const struct glass_simnet *net)
{
    return glass_sim_link_queued(net->link);
}

GLASS_API size_t glass_simnet_held(const struct glass_simnet *net)
{
    return glass_sim_link_held(net->link);
}

GLASS_API uint64_t glass_simnet_trace_hash(const struct glass_simnet *net)
{
    return net->hash;
}

GLASS_API void glass_simnet_stats(const struct glass_simnet *net, struct glass_simnet_stats *out)
{
    *out = net->stats;
}

/* ---- sending ------------------------------------------------------------------------------ */

static uint64_t rotl64(uint64_t x, unsigned k)
{
    return (x << k) | (x >> (64u - k));
}

static uint64_t fmix64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    return x ^ (x >> 33);
}

/* Fold n bytes into *h: four independent multiply-rotate lanes over 32-byte blocks (so the
 * hash of a gigabyte costs a fraction of copying it), then the tail word by word. */
static void hash_bytes(uint64_t *h, const uint8_t *p, size_t n)
{
    uint64_t a = *h ^ UINT64_C(0x243f6a8885a308d3), b = *h ^ UINT64_C(0x13198a2e03707344);
    uint64_t c = *h ^ UINT64_C(0xa4093822299f31d0), d = *h ^ UINT64_C(0x082efa98ec4e6c89);
    size_t len = n;
    while (n >= 32) {
        a = rotl64((a ^ glass_load_le64(p)) * HASH_MUL, 29);
        b = rotl64((b ^ glass_load_le64(p + 8)) * HASH_MUL, 29);
        c = rotl64((c ^ glass_load_le64(p + 16)) * HASH_MUL, 29);
        d = rotl64((d ^ glass_load_le64(p + 24)) * HASH_MUL, 29);
        p += 32;
        n -= 32;
    }
    uint64_t x = rotl64(a, 1) + rotl64(b, 7) + rotl64(c, 12) + rotl64(d, 18);
    while (n >= 8) {
        x = rotl64((x ^ glass_load_le64(p)) * HASH_MUL, 29);
        p += 8;
        n -= 8;
    }
    uint64_t tail = 0;
    for (size_t i = 0; i < n; i++)
        tail |= (uint64_t)p[i] << (8 * i);
    x = rotl64((x ^ tail ^ ((uint64_t)len << 56)) * HASH_MUL, 29);
    *h = fmix64(*h ^ x);
}

static void hash_u64(uint64_t *h, uint64_t v)
{
    *h = fmix64((*h ^ v) * HASH_MUL + UINT64_C(0x9e3779b97f4a7c15));
}

static glass_time_t time_add(glass_time_t a, glass_time_t b)
{
    return a > GLASS_TIME_NEVER - b ? GLASS_TIME_NEVER - 1 : a + b;
}

/* The node owning the IPv4 destination address (bytes 16..19), or -1. */
static int route(const struct glass_simnet *net, const uint8_t *pkt, size_t len)
{
    if (len < 20)
        return -1;
    uint32_t dst = ((uint32_t)pkt[16] << 24) | ((uint32_t)pkt[17] << 16) |
                   ((uint32_t)pkt[18] << 8) | (uint32_t)pkt[19];
    for (int i = 0; i < net->n_nodes; i++) {
        if (net->nodes[i].addr == dst)
            return i;
    }
    return -1;
}

static void tap(struct glass_simnet *net, const struct glass_sim_packet *p,
                enum glass_sim_pkt_event what)
{
    if (net->tap != NULL)
        net->tap(net->tap_ctx, p, what);
}

static struct sim_dir *dir_of(struct glass_simnet *net, int from, int to)
{
    struct sim_dir *d = &net->dirs[from][to];
    if (!d->f.ready)
        glass_fault_dir_init(&d->f, net->cfg.seed, (unsigned)from, (unsigned)to);
    return d;
}

static void drop_tap(struct glass_simnet *net, struct glass_sim_packet *p, enum glass_sim_drop why)
{
    net->stats.dropped++;
    switch (why) {
    case GLASS_SIM_DROP_FILTER: net->stats.filtered++; break;
    case GLASS_SIM_DROP_LOSS: net->stats.lost++; break;
    case GLASS_SIM_DROP_QUEUE: net->stats.queue_drops++; break;
    case GLASS_SIM_DROP_NOROUTE: net->stats.no_route++; break;
    case GLASS_SIM_DROP_FULL:
    case GLASS_SIM_DROP_NONE: net->stats.link_full++; break;
    }
    p->drop = (uint8_t)why;
    tap(net, p, GLASS_SIM_DROPPED);
}

static bool pend_add(struct sim_dir *d, uint32_t handle, uint64_t id, uint32_t k)
{
    if (d->n_pend == d->cap_pend) {
        uint32_t ncap = d->cap_pend != 0 ? d->cap_pend * 2 : 16u;
        struct reorder_pend *np = realloc(d->pend, (size_t)ncap * sizeof *np);
        if (np == NULL)
            return false;
        d->pend = np;
        d->cap_pend = ncap;
    }
    d->pend[d->n_pend++] = (struct reorder_pend){.handle = handle, .id = id, .k = k};
    return true;
}

static void pend_remove(struct sim_dir *d, uint32_t handle)
{
    for (uint32_t i = 0; i < d->n_pend; i++) {
        if (d->pend[i].handle != handle)
            continue;
        memmove(&d->pend[i], &d->pend[i + 1], (size_t)(d->n_pend - i - 1) * sizeof *d->pend);
        d->n_pend--;
        return;
    }
}

/* An in-order copy *m was queued in direction d: it overtakes every waiting reordered copy;
 * those whose count reaches zero are re-timed to arrive right after it. */
static void pend_overtake(struct glass_simnet *net, struct sim_dir *d,
                          const struct glass_sim_link_meta *m)
{
    uint32_t keep = 0;
    for (uint32_t i = 0; i < d->n_pend; i++) {
        struct reorder_pend *e = &d->pend[i];
        if (--e->k > 0) {
            d->pend[keep++] = *e;
            continue;
        }
        const struct glass_sim_link_meta *cur = glass_sim_link_meta(net->link, e->handle);
        if (cur == NULL || cur->id != e->id)
            continue;
        struct glass_sim_link_meta nm = *cur;
        nm.flags &= ~SIM_F_PENDING;
        if (m->deliver_at <= nm.deliver_at) { /* else its deadline came first: keep it */
            nm.deliver_at = m->deliver_at;
            nm.rank = m->rank + 1;
        }
        glass_sim_link_retime(net->link, e->handle, &nm);
    }
    d->n_pend = keep;
}

/* Put copy c of the packet at data on the link: the first copy takes the spare slot if the
 * packet was built there (no copy at all), others are copied. */
static int put_copy(struct glass_simnet *net, const struct glass_sim_link_meta *m,
                    const uint8_t *data, size_t len, bool in_spare, bool hold, uint32_t *handle)
{
    if (in_spare)
        return glass_sim_link_put_spare(net->link, m, len, hold, handle);
    return glass_sim_link_put(net->link, m, data, len, hold, handle);
}

/* The trace hash of an emitted packet: its IPv4 and TCP headers (every field but the TCP
 * checksum, which a stack with checksum offload leaves to the device) and its length. The
 * payload is not hashed: it is the application's bytes, which the receiving application checks,
 * and hashing it would cost a pass over every byte; where and when each byte was sent is in
 * the headers. Non-TCP packets are hashed whole. */
static void hash_packet(uint64_t *h, uint64_t sent_at, uint64_t ends, const uint8_t *p,
                        size_t len)
{
    size_t ihl = glass_ipv4_tcp_off(p, len);
    hash_u64(h, sent_at);
    if (ihl == 0) {
        hash_u64(h, ends);
        hash_bytes(h, p, len);
        return;
    }
    size_t doff = (size_t)(p[ihl + 12u] >> 4) * 4u;
    size_t hdr_end = ihl + (doff >= 20u ? doff : 20u);
    if (hdr_end > len)
        hdr_end = len;
    /* One pass: the endpoints and length, then the headers without the checksum field. */
    uint8_t buf[16 + 60 + 60];
    glass_store_le64(buf, ends); /* little-endian: the same hash on every host */
    glass_store_le64(buf + 8, (uint64_t)len);
    size_t n = 16;
    memcpy(buf + n, p, ihl + 16u);
    n += ihl + 16u;
    memcpy(buf + n, p + ihl + 18u, hdr_end - ihl - 18u);
    n += hdr_end - ihl - 18u;
    hash_bytes(h, buf, n);
}

/* One packet a stack emitted (at data: the link's spare slot if in_spare, else net->txbuf):
 * id, tap, filter, impairments, onto the link. */
static void send_packet(struct glass_simnet *net, int from, uint8_t *data, size_t len,
                        bool in_spare)
{
    struct glass_sim_packet p;
    memset(&p, 0, sizeof p);
    p.id = net->next_id++;
    p.from = from;
    p.to = route(net, data, len);
    p.sent_at = net->now;
    p.deliver_at = time_add(net->now, net->delay);
    p.data = data;
    p.len = len;

    hash_packet(&net->hash, p.sent_at,
                ((uint64_t)(uint32_t)p.from << 32) | (uint64_t)(uint32_t)p.to, data, len);
    /* The sending NIC's checksum offload: the bytes are complete before anyone looks. */
    bool partial = net->nodes[from].tx_partial;
    if (partial && (net->tap != NULL || net->filter != NULL || !net->cfg.csum_offload)) {
        glass_tcp_csum_fill(data, len);
        partial = false;
    }
    net->stats.sent++;
    net->stats.sent_bytes += len;

    tap(net, &p, GLASS_SIM_SENT);
    if (p.to < 0) {
        drop_tap(net, &p, GLASS_SIM_DROP_NOROUTE);
        return;
    }
    enum glass_sim_verdict v = GLASS_SIM_PASS;
    if (net->filter != NULL)
        v = net->filter(net->filter_ctx, &p);
    if (v == GLASS_SIM_DROP) {
        drop_tap(net, &p, GLASS_SIM_DROP_FILTER);
        return;
    }
    if (v == GLASS_SIM_HOLD) {
        struct glass_sim_link_meta m = {.id = p.id,
                                        .rank = 4 * p.id,
                                        .from = p.from,
                                        .to = p.to,
                                        .sent_at = p.sent_at,
                                        .deliver_at = p.deliver_at};
        if (put_copy(net, &m, data, len, in_spare, true, NULL) != GLASS_SIM_LINK_OK) {
            drop_tap(net, &p, GLASS_SIM_DROP_FULL);
            return;
        }
        tap(net, &p, GLASS_SIM_HELD);
        return;
    }

    struct sim_dir *d = dir_of(net, p.from, p.to);
    struct glass_fault_verdict fv;
    net->fp.delay = net->delay;
    glass_fault_decide(&d->f, &net->fp, net->now, len, net->cfg.max_in_flight, &fv);
    if (fv.queue_depth > net->stats.queue_max)
        net->stats.queue_max = fv.queue_depth;
    switch (fv.fate) {
    case GLASS_FAULT_PASS: break;
    case GLASS_FAULT_LOSS: drop_tap(net, &p, GLASS_SIM_DROP_LOSS); return;
    case GLASS_FAULT_QUEUE: drop_tap(net, &p, GLASS_SIM_DROP_QUEUE); return;
    case GLASS_FAULT_NOMEM: drop_tap(net, &p, GLASS_SIM_DROP_FULL); return;
    }

    for (unsigned c = 0; partial && c < fv.n_copies; c++) {
        if (fv.copy[c].corrupt_bit >= 0) {
            glass_tcp_csum_fill(data, len); /* the wire sees a complete checksum */
            partial = false;
        }
    }
    /* Queue every copy from the intact bytes first, then flip the chosen bits in the copies:
     * data stays valid throughout (the spare slot becomes copy 0's slot in place). */
    uint32_t handles[2] = {GLASS_SIM_NO_SLOT, GLASS_SIM_NO_SLOT};
    for (unsigned c = 0; c < fv.n_copies; c++) {
        const struct glass_fault_copy *cp = &fv.copy[c];
        struct glass_sim_link_meta m = {.id = c == 0 ? p.id : net->next_id++,
                                        .from = p.from,
                                        .to = p.to,
                                        .sent_at = p.sent_at,
                                        .deliver_at = cp->arrive};
        m.rank = 4 * m.id;
        if (c > 0)
            m.flags |= GLASS_SIM_PKT_DUP; /* a duplicate's id is its original's + 1 */
        if (cp->spiked)
            m.flags |= GLASS_SIM_PKT_SPIKED;
        if (cp->corrupt_bit >= 0)
            m.flags |= GLASS_SIM_PKT_CORRUPT;
        if (cp->reorder_k > 0) {
            m.flags |= GLASS_SIM_PKT_REORDERED | SIM_F_PENDING;
            m.deliver_at = cp->reorder_deadline;
        }
        int rc = put_copy(net, &m, data, len, in_spare && c == 0, false, &handles[c]);
        if (rc != GLASS_SIM_LINK_OK) {
            struct glass_sim_packet q = p;
            q.id = m.id;
            q.flags = m.flags & SIM_F_PUBLIC & ~(uint32_t)GLASS_SIM_PKT_REORDERED;
            q.dup_of = c > 0 ? p.id : 0;
            drop_tap(net, &q, GLASS_SIM_DROP_FULL);
            continue;
        }
        if ((m.flags & SIM_F_PENDING) && !pend_add(d, handles[c], m.id, cp->reorder_k)) {
            /* No room to track it: it arrives at its deadline, still late. */
            m.flags &= ~SIM_F_PENDING;
            glass_sim_link_retime(net->link, handles[c], &m);
        }
        hash_u64(&net->hash, m.deliver_at);
        hash_u64(&net->hash, ((uint64_t)m.flags << 32) | (uint64_t)cp->reorder_k);
        net->stats.duplicated += c > 0;
        net->stats.spiked += cp->spiked;
        net->stats.reordered += cp->reorder_k > 0;
        if (cp->reorder_k == 0)
            pend_overtake(net, d, &m);
    }
    for (unsigned c = 0; c < fv.n_copies; c++) {
        size_t n;
        uint8_t *b;
        if (fv.copy[c].corrupt_bit < 0 || handles[c] == GLASS_SIM_NO_SLOT ||
            (b = glass_sim_link_bytes(net->link, handles[c], &n)) == NULL)
            continue;
        size_t byte = (size_t)fv.copy[c].corrupt_bit / 8u;
        if (byte < n)
            b[byte] ^= (uint8_t)(1u << ((unsigned)fv.copy[c].corrupt_bit % 8u));
        net->stats.corrupted++;
    }
}

/* Cut the TSO super-segment that glass_stack_output_sg gave (headers in net->txbuf, *o) into
 * its MSS-sized pieces at send time, as the sending NIC does (glass_tso_piece: headers copied,
 * sequence number, IPv4 identification, lengths and checksums rewritten), and send each: loss,
 * duplication, reordering and the bottleneck then act on the datagrams a wire would carry, and
 * the receiver never sees more than the MTU. Each piece is built in the link's spare slot. */
static void send_tso(struct glass_simnet *net, int i, const struct glass_output *o)
{
    net->stats.tso_segs++;
    for (size_t k = 0;; k++) {
        size_t cap = 0;
        uint8_t *buf = glass_sim_link_spare(net->link, &cap);
        size_t m = buf != NULL ? glass_tso_piece(net->txbuf, o->len, o->payload, o->payload_len,
                                                 o->gso_size, k, buf, cap)
                               : 0;
        bool in_spare = m > 0;
        if (!in_spare) {
            buf = net->pbuf;
            m = glass_tso_piece(net->txbuf, o->len, o->payload, o->payload_len, o->gso_size, k,
                                buf, sizeof net->pbuf);
        }
        if (m == 0)
            return; /* past the last piece */
        /* The pieces' checksums are partial (pseudo-header sums): a device without checksum
         * offload completes them as it cuts. */
        if (!net->nodes[i].tx_partial)
            glass_tcp_csum_fill(buf, m);
        send_packet(net, i, buf, m, in_spare);
    }
}

/* Drain a node whose stack does TSO: glass_stack_output_sg into txbuf; a plain datagram is
 * joined behind its headers there, a super-segment is cut into pieces. */
static bool drain_node_tso(struct glass_simnet *net, int i)
{
    bool any = false;
    struct glass_stack *st = net->nodes[i].st;
    while (glass_stack_has_output(st)) {
        struct glass_output o;
        long n = glass_stack_output_sg(st, net->now, net->txbuf, sizeof net->txbuf, &o);
        if (n <= 0)
            return any;
        any = true;
        if (o.gso_size != 0) {
            send_tso(net, i, &o);
            continue;
        }
        if (o.payload != NULL) /* n <= 65535 < SIM_BUF: the datagram fits txbuf whole */
            memcpy(net->txbuf + o.len, o.payload, o.payload_len);
        send_packet(net, i, net->txbuf, (size_t)n, false);
    }
    return any;
}

/* Drain one node's output; true if it sent anything. Packets are built in the link's spare
 * slot (no copy); one too big for a slot goes through txbuf. */
static bool drain_node(struct glass_simnet *net, int i)
{
    bool any = false;
    struct glass_stack *st = net->nodes[i].st;
    if (net->nodes[i].tso)
        return drain_node_tso(net, i);
    while (glass_stack_has_output(st)) {
        size_t cap = 0;
        uint8_t *buf = glass_sim_link_spare(net->link, &cap);
        bool in_spare = buf != NULL;
        long n = in_spare ? glass_stack_output(st, net->now, buf, cap) : -GLASS_EMSGSIZE;
        if (n == -GLASS_EMSGSIZE) {
            in_spare = false;
            buf = net->txbuf;
            n = glass_stack_output(st, net->now, buf, sizeof net->txbuf);
        }
        if (n <= 0)
            return any;
        any = true;
        send_packet(net, i, buf, (size_t)n, in_spare);
    }
    return any;
}

/* Drain every node until none has output (a tap or filter may act on any stack). */
static void drain_all(struct glass_simnet *net)
{
    if (net->draining)
        return;
    net->draining = true;
    bool progress;
    do {
        progress = false;
        for (int i = 0; i < net->n_nodes; i++)
            progress |= drain_node(net, i);
    } while (progress);
    net->draining = false;
}

/* ---- events -------------------------------------------------------------------------------- */

/* Hand one node's pending socket events to its app callback (or discard them). */
static bool dispatch_node(struct glass_simnet *net, int i)
{
    bool any = false;
    struct glass_event ev;
    while (glass_stack_next_event(net->nodes[i].st, &ev)) {
        any = true;
        if (net->nodes[i].app != NULL)
            net->nodes[i].app(net->nodes[i].app_ctx, net, i, &ev);
    }
    return any;
}

/* Events of `first` (the node the event happened on, or -1), then of every node, until quiet:
 * an app callback may act on another node's sockets. */
static void dispatch_all(struct glass_simnet *net, int first)
{
    bool progress;
    if (net->dispatching)
        return;
    net->dispatching = true;
    if (first >= 0)
        dispatch_node(net, first);
    do {
        progress = false;
        for (int i = 0; i < net->n_nodes; i++)
            progress |= dispatch_node(net, i);
    } while (progress);
    net->dispatching = false;
}

GLASS_API void glass_simnet_flush(struct glass_simnet *net)
{
    if (net->draining)
        return;
    dispatch_all(net, -1);
    drain_all(net);
}

/* ---- the clock ----------------------------------------------------------------------------- */

static glass_time_t node_deadline(struct glass_simnet *net, int i)
{
    struct sim_node *n = &net->nodes[i];
    glass_time_t d = glass_stack_next_deadline(n->st);
    if (n->stuck) {
        if (d > n->stuck_at)
            n->stuck = false;
        else
            return time_add(n->stuck_at, GLASS_MSEC(1));
    }
    return d;
}

static bool step(struct glass_simnet *net, glass_time_t limit)
{
    /* Anything socket calls queued since the last event leaves now. */
    dispatch_all(net, -1);
    drain_all(net);

    struct glass_sim_link_meta m;
    bool have_pkt = glass_sim_link_peek(net->link, &m);
    glass_time_t t_pkt = have_pkt ? m.deliver_at : GLASS_TIME_NEVER;
    int timer_node = -1;
    glass_time_t t_timer = GLASS_TIME_NEVER;
    for (int i = 0; i < net->n_nodes; i++) {
        glass_time_t d = node_deadline(net, i);
        if (d < t_timer) {
            t_timer = d;
            timer_node = i;
        }
    }

    if (have_pkt && t_pkt <= t_timer) {
        if (t_pkt > limit)
            return false;
        const uint8_t *data;
        size_t len;
        uint32_t handle = glass_sim_link_pop_ref(net->link, &m, &data, &len);
        if (m.flags & SIM_F_PENDING)
            pend_remove(&net->dirs[m.from][m.to], handle); /* its deadline came first */
        if (m.deliver_at > net->now)
            net->now = m.deliver_at;
        if (m.to >= 0 && m.to < net->n_nodes) {
            struct sim_node *n = &net->nodes[m.to];
            /* Bring the stack's clock to the simnet's, unless a timer is due now: that one
             * fires after the delivery (deliveries win ties). */
            if (glass_stack_next_deadline(n->st) > net->now)
                glass_stack_advance(n->st, net->now);
            bool intact = !(m.flags & GLASS_SIM_PKT_CORRUPT);
            glass_stack_input_flags(n->st, net->now, data, len,
                                    net->cfg.csum_offload && intact ? GLASS_INPUT_CSUM_OK : 0);
            net->stats.delivered++;
            net->stats.delivered_bytes += len;
            struct glass_sim_packet p = {.id = m.id,
                                         .from = m.from,
                                         .to = m.to,
                                         .sent_at = m.sent_at,
                                         .deliver_at = m.deliver_at,
                                         .data = data,
                                         .len = len,
                                         .flags = m.flags & SIM_F_PUBLIC,
                                         .dup_of = (m.flags & GLASS_SIM_PKT_DUP) ? m.id - 1 : 0};
            tap(net, &p, GLASS_SIM_DELIVERED);
        }
        glass_sim_link_done(net->link, handle);
        dispatch_all(net, m.to);
        drain_all(net);
        return true;
    }
    if (timer_node < 0 || t_timer > limit)
        return false;
    if (t_timer > net->now)
        net->now = t_timer;
    struct sim_node *n = &net->nodes[timer_node];
    glass_stack_advance(n->st, net->now);
    if (glass_stack_next_deadline(n->st) <= net->now) {
        n->stuck = true;
        n->stuck_at = net->now;
    }
    dispatch_all(net, timer_node);
    drain_all(net);
    return true;
}

GLASS_API bool glass_simnet_step(struct glass_simnet *net, glass_time_t limit)
{
    if (net->stepping)
        return false;
    net->stepping = true;
    bool r = step(net, limit);
    net->stepping = false;
    return r;
}

GLASS_API void glass_simnet_run_until(struct glass_simnet *net, glass_time_t t)
{
    if (net->stepping)
        return;
    net->stepping = true;
    glass_simnet_flush(net);
    while (step(net, t)) {
    }
    if (t > net->now)
        net->now = t;
    for (int i = 0; i < net->n_nodes; i++)
        glass_stack_advance(net->nodes[i].st, net->now);
    dispatch_all(net, -1);
    drain_all(net);
    net->stepping = false;
}

GLASS_API void glass_simnet_run_for(struct glass_simnet *net, glass_time_t dt)
{
    glass_simnet_run_until(net, time_add(net->now, dt));
}

/* Take held packet id off the link into net->xbuf; false if there is none. */
static bool take_held(struct glass_simnet *net, uint64_t id, struct glass_sim_link_meta *m,
                      size_t *len)
{
    int rc;
    *len = glass_sim_link_take_held(net->link, id, m, net->xbuf, sizeof net->xbuf, &rc);
    if (*len > sizeof net->xbuf)
        *len = sizeof net->xbuf;
    return rc == GLASS_SIM_LINK_OK;
}

/* The held packet taken by take_held(), lost for `why`. */
static void drop_held(struct glass_simnet *net, const struct glass_sim_link_meta *m, size_t len,
                      enum glass_sim_drop why)
{
    struct glass_sim_packet p = {.id = m->id,
                                 .from = m->from,
                                 .to = m->to,
                                 .sent_at = m->sent_at,
                                 .deliver_at = m->deliver_at,
                                 .data = net->xbuf,
                                 .len = len};
    drop_tap(net, &p, why);
}

GLASS_API int glass_simnet_release(struct glass_simnet *net, uint64_t id)
{
    struct glass_sim_link_meta m;
    size_t len;
    if (!take_held(net, id, &m, &len))
        return -GLASS_EINVAL;
    m.deliver_at = time_add(net->now, net->delay);
    m.rank = 4 * m.id;
    if (glass_sim_link_put(net->link, &m, net->xbuf, len, false, NULL) != GLASS_SIM_LINK_OK) {
        drop_held(net, &m, len, GLASS_SIM_DROP_FULL);
        return -GLASS_ENOBUFS;
    }
    return 0;
}

GLASS_API int glass_simnet_discard(struct glass_simnet *net, uint64_t id)
{
    struct glass_sim_link_meta m;
    size_t len;
    if (!take_held(net, id, &m, &len))
        return -GLASS_EINVAL;
    drop_held(net, &m, len, GLASS_SIM_DROP_FILTER);
    return 0;
}
