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
 * addresses in memory: the same inputs and seed give the same packets, byte for byte. */
#include "link/sim_link.h"
#include "util/rng.h"

#include <glass/err.h>
#include <glass/sim.h>
#include <glass/stack.h>

#include <stdlib.h>
#include <string.h>

#define SIM_MAX_NODES 16
#define SIM_BUF 65536u

/* FNV-1a 64 (the hash of everything sent). */
#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

struct sim_node {
    struct glass_stack *st;
    uint32_t addr;
    glass_simnet_app_fn app;
    void *app_ctx;
    /* A stack whose deadline did not move past stuck_at after advance(stuck_at) is retried
     * 1 ms later, not at once: a misbehaving timer cannot stall the simulation. */
    glass_time_t stuck_at;
    bool stuck;
};

struct glass_simnet {
    struct glass_simnet_config cfg;
    glass_time_t now;
    glass_time_t delay;
    struct glass_sim_link *link;
    struct glass_rng rng;

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
    uint8_t rxbuf[SIM_BUF]; /* what is being delivered */
    uint8_t xbuf[SIM_BUF];  /* a held packet being released or discarded */
};

GLASS_API void glass_simnet_config_default(struct glass_simnet_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->seed = 1;
    cfg->delay = GLASS_MSEC(10);
    cfg->loss = 0.0;
    cfg->max_in_flight = 65536;
}

GLASS_API struct glass_simnet *glass_simnet_new(const struct glass_simnet_config *cfg)
{
    struct glass_simnet_config c;
    if (cfg != NULL)
        c = *cfg;
    else
        glass_simnet_config_default(&c);
    if (!(c.loss >= 0.0 && c.loss <= 1.0) || c.max_in_flight == 0)
        return NULL;
    struct glass_simnet *net = calloc(1, sizeof *net);
    if (net == NULL)
        return NULL;
    net->link = glass_sim_link_new(c.max_in_flight);
    if (net->link == NULL) {
        free(net);
        return NULL;
    }
    net->cfg = c;
    net->delay = c.delay;
    net->next_id = 1;
    net->hash = FNV_OFFSET;
    glass_rng_seed(&net->rng, c.seed);
    return net;
}

GLASS_API void glass_simnet_free(struct glass_simnet *net)
{
    if (net == NULL)
        return;
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
    int rc = glass_stack_add_iface(st, addr, 24, 1500);
    if (rc < 0)
        return rc;
    struct sim_node *n = &net->nodes[net->n_nodes];
    memset(n, 0, sizeof *n);
    n->st = st;
    n->addr = addr;
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

/* ---- sending ------------------------------------------------------------------------------ */

static void hash_bytes(uint64_t *h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        *h ^= p[i];
        *h *= FNV_PRIME;
    }
}

/* Fixed-width little-endian, so the hash does not depend on the host. */
static void hash_u64(uint64_t *h, uint64_t v)
{
    uint8_t b[8];
    for (unsigned i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    hash_bytes(h, b, sizeof b);
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

/* Uniform double in [0, 1) from the simnet's PRNG. */
static double rng_unit(struct glass_simnet *net)
{
    return (double)(glass_rng_next(&net->rng) >> 11) * (1.0 / 9007199254740992.0);
}

/* One packet a stack emitted (in net->txbuf): id, tap, filter, loss, then onto the link. */
static void send_packet(struct glass_simnet *net, int from, size_t len)
{
    struct glass_sim_packet p;
    memset(&p, 0, sizeof p);
    p.id = net->next_id++;
    p.from = from;
    p.to = route(net, net->txbuf, len);
    p.sent_at = net->now;
    p.deliver_at = time_add(net->now, net->delay);
    p.data = net->txbuf;
    p.len = len;

    hash_u64(&net->hash, p.sent_at);
    hash_u64(&net->hash, (uint64_t)(int64_t)p.from);
    hash_u64(&net->hash, (uint64_t)(int64_t)p.to);
    hash_u64(&net->hash, (uint64_t)len);
    hash_bytes(&net->hash, net->txbuf, len);

    tap(net, &p, GLASS_SIM_SENT);
    if (p.to < 0) {
        tap(net, &p, GLASS_SIM_DROPPED);
        return;
    }
    enum glass_sim_verdict v = GLASS_SIM_PASS;
    if (net->filter != NULL)
        v = net->filter(net->filter_ctx, &p);
    if (v == GLASS_SIM_DROP) {
        tap(net, &p, GLASS_SIM_DROPPED);
        return;
    }
    if (v == GLASS_SIM_PASS && net->cfg.loss > 0.0 && rng_unit(net) < net->cfg.loss) {
        tap(net, &p, GLASS_SIM_DROPPED);
        return;
    }
    struct glass_sim_link_meta m = {
        .id = p.id, .from = p.from, .to = p.to, .sent_at = p.sent_at, .deliver_at = p.deliver_at};
    bool hold = v == GLASS_SIM_HOLD;
    if (glass_sim_link_put(net->link, &m, net->txbuf, len, hold) != GLASS_SIM_LINK_OK) {
        tap(net, &p, GLASS_SIM_DROPPED);
        return;
    }
    if (hold)
        tap(net, &p, GLASS_SIM_HELD);
}

/* Drain one node's output; true if it sent anything. */
static bool drain_node(struct glass_simnet *net, int i)
{
    bool any = false;
    for (;;) {
        long n = glass_stack_output(net->nodes[i].st, net->now, net->txbuf, sizeof net->txbuf);
        if (n <= 0)
            return any;
        any = true;
        send_packet(net, i, (size_t)n);
    }
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
        size_t len = glass_sim_link_pop(net->link, &m, net->rxbuf, sizeof net->rxbuf);
        if (m.deliver_at > net->now)
            net->now = m.deliver_at;
        if (len > sizeof net->rxbuf)
            len = sizeof net->rxbuf;
        if (m.to >= 0 && m.to < net->n_nodes) {
            struct sim_node *n = &net->nodes[m.to];
            /* Bring the stack's clock to the simnet's, unless a timer is due now: that one
             * fires after the delivery (deliveries win ties). */
            if (glass_stack_next_deadline(n->st) > net->now)
                glass_stack_advance(n->st, net->now);
            glass_stack_input(n->st, net->now, net->rxbuf, len);
            struct glass_sim_packet p = {.id = m.id,
                                         .from = m.from,
                                         .to = m.to,
                                         .sent_at = m.sent_at,
                                         .deliver_at = m.deliver_at,
                                         .data = net->rxbuf,
                                         .len = len};
            tap(net, &p, GLASS_SIM_DELIVERED);
        }
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

GLASS_API int glass_simnet_release(struct glass_simnet *net, uint64_t id)
{
    int rc;
    struct glass_sim_link_meta m;
    size_t len = glass_sim_link_take_held(net->link, id, &m, net->xbuf, sizeof net->xbuf, &rc);
    if (rc != GLASS_SIM_LINK_OK)
        return -GLASS_EINVAL;
    if (len > sizeof net->xbuf)
        len = sizeof net->xbuf;
    m.deliver_at = time_add(net->now, net->delay);
    if (glass_sim_link_put(net->link, &m, net->xbuf, len, false) != GLASS_SIM_LINK_OK) {
        struct glass_sim_packet p = {.id = m.id,
                                     .from = m.from,
                                     .to = m.to,
                                     .sent_at = m.sent_at,
                                     .deliver_at = m.deliver_at,
                                     .data = net->xbuf,
                                     .len = len};
        tap(net, &p, GLASS_SIM_DROPPED);
        return -GLASS_ENOBUFS;
    }
    return 0;
}

GLASS_API int glass_simnet_discard(struct glass_simnet *net, uint64_t id)
{
    int rc;
    struct glass_sim_link_meta m;
    size_t len = glass_sim_link_take_held(net->link, id, &m, net->xbuf, sizeof net->xbuf, &rc);
    if (rc != GLASS_SIM_LINK_OK)
        return -GLASS_EINVAL;
    if (len > sizeof net->xbuf)
        len = sizeof net->xbuf;
    struct glass_sim_packet p = {.id = m.id,
                                 .from = m.from,
                                 .to = m.to,
                                 .sent_at = m.sent_at,
                                 .deliver_at = m.deliver_at,
                                 .data = net->xbuf,
                                 .len = len};
    tap(net, &p, GLASS_SIM_DROPPED);
    return 0;
}
