/* glasstcp tests — the two-stack scenario fixture. See fixture.h. */
#include "fixture.h"

#include "core/core.h" /* glass_stack_check */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small utilities ------------------------------------------------------------------ */

static void *fx_grow(void *arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return arr;
    size_t ncap = *cap ? *cap * 2 : 256;
    void *p = realloc(arr, ncap * elem);
    if (!p) {
        print_error("fixture: out of memory\n");
        abort();
    }
    *cap = ncap;
    return p;
}

const char *fx_side_name(int side)
{
    switch (side) {
    case FX_CLIENT: return "client";
    case FX_SERVER: return "server";
    case FX_INJECT: return "inject";
    case FX_ANY: return "any";
    default: return "?";
    }
}

static const char *fx_side_short(int side)
{
    switch (side) {
    case FX_CLIENT: return "c";
    case FX_SERVER: return "s";
    case FX_INJECT: return "i";
    default: return "?";
    }
}

const char *fx_ret_name(long ret)
{
    static char bufs[8][40];
    static unsigned next;
    char *b = bufs[next++ % 8];
    if (ret < 0) {
        const char *n = glass_errname((int)-ret);
        if (n)
            snprintf(b, 40, "-%s", n);
        else
            snprintf(b, 40, "%ld", ret);
    } else {
        snprintf(b, 40, "%ld", ret);
    }
    return b;
}

static const char *fx_state_str(int state)
{
    static char bufs[4][40];
    static unsigned next;
    if (state < 0)
        return fx_ret_name(state);
    if (state >= GLASS_TCP_NSTATES) {
        char *b = bufs[next++ % 4];
        snprintf(b, 40, "state#%d", state);
        return b;
    }
    return glass_tcp_state_name(state);
}

static const char *fx_cause_str(int cause)
{
    if (cause < 0)
        return "*";
    return glass_tcp_cause_name(cause);
}

static double fx_ms(const struct fx *fx, glass_time_t t)
{
    if (t == GLASS_TIME_NEVER)
        return -1.0;
    return (double)(int64_t)(t - fx->t0) / 1e6;
}

/* ---- counting allocator (leak check at teardown, STYLE.md §7.7 item 8) -------------------- */

static void *fx_alloc_cb(void *ctx, size_t size)
{
    struct fx_alloc_stats *a = ctx;
    void *p = malloc(size ? size : 1);
    if (p) {
        a->bytes += (long long)size;
        a->blocks++;
    }
    return p;
}

static void fx_free_cb(void *ctx, void *p, size_t size)
{
    struct fx_alloc_stats *a = ctx;
    if (!p) {
        return;
    }
    a->bytes -= (long long)size;
    a->blocks--;
    if (a->bytes < 0)
        a->bad_frees++;
    free(p);
}

/* ---- cmocka glue ---------------------------------------------------------------------- */

int fx_cm_setup(void **state)
{
    struct fx *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    for (int i = 0; i < FX_NSIDES; i++) {
        glass_config_default(&fx->cfg[i]);
        fx->cfg[i].seed = i == FX_CLIENT ? FX_SEED_CLIENT : FX_SEED_SERVER;
        fx->cfg[i].allocator.alloc = fx_alloc_cb;
        fx->cfg[i].allocator.free = fx_free_cb;
        fx->cfg[i].allocator.ctx = &fx->alloc[i];
        fx->side_ctx[i].fx = fx;
        fx->side_ctx[i].side = i;
        fx->node[i] = -1;
    }
    glass_simnet_config_default(&fx->netcfg);
    fx->netcfg.delay = FX_DELAY;
    fx->netcfg.seed = 7;
    fx->lfd = -1;
    *state = fx;
    return 0;
}

int fx_cm_teardown(void **state)
{
    struct fx *fx = *state;
    int rc = 0;
    if (!fx)
        return 0;
    if (fx->started) {
        uint64_t illegal[FX_NSIDES];
        for (int i = 0; i < FX_NSIDES; i++)
            illegal[i] = fx->st[i] ? glass_stack_mib(fx->st[i], GLASS_MIB_TcpExtIllegalArcs) : 0;
        glass_simnet_free(fx->net);
        fx->net = NULL;
        for (int i = 0; i < FX_NSIDES; i++) {
            if (illegal[i]) {
                print_error("teardown: %s TcpExtIllegalArcs = %llu (must be 0)\n",
                            fx_side_name(i), (unsigned long long)illegal[i]);
                rc = -1;
            }
            if (fx->st[i])
                glass_stack_free(fx->st[i]);
            fx->st[i] = NULL;
            const struct fx_alloc_stats *a = &fx->alloc[i];
            if (a->bytes != 0 || a->blocks != 0 || a->bad_frees != 0) {
                print_error("teardown: %s stack leaked: %lld bytes in %lld blocks still allocated "
                            "after glass_stack_free (%lld frees of more than was allocated)\n",
                            fx_side_name(i), a->bytes, a->blocks, a->bad_frees);
                rc = -1;
            }
        }
    }
    free(fx->pkts);
    free(fx->trans);
    free(fx->evs);
    free(fx);
    *state = NULL;
    return rc;
}

/* ---- recording ------------------------------------------------------------------------- */

static int fx_side_of_node(const struct fx *fx, int node)
{
    for (int i = 0; i < FX_NSIDES; i++)
        if (fx->node[i] >= 0 && fx->node[i] == node)
            return i;
    return -1;
}

static struct fx_flow *fx_flow_find(struct fx *fx, uint32_t saddr, uint16_t sport, uint32_t daddr,
                                    uint16_t dport)
{
    for (size_t i = 0; i < fx->nflows; i++) {
        struct fx_flow *f = &fx->flows[i];
        if (f->saddr == saddr && f->sport == sport && f->daddr == daddr && f->dport == dport)
            return f;
    }
    return NULL;
}

bool fx_flow_iss(const struct fx *fx, uint32_t saddr, uint16_t sport, uint32_t daddr,
                 uint16_t dport, uint32_t *iss)
{
    for (size_t i = 0; i < fx->nflows; i++) {
        const struct fx_flow *f = &fx->flows[i];
        if (f->saddr == saddr && f->sport == sport && f->daddr == daddr && f->dport == dport) {
            if (iss)
                *iss = f->iss;
            return true;
        }
    }
    return false;
}

static void fx_decode_into(struct fx *fx, struct fx_pkt *p, const uint8_t *data, size_t len)
{
    p->decoded = glass_pkt_decode(data, len, &p->s) == 0 && p->s.proto == 6;
    if (!p->decoded)
        return;
    p->flags = p->s.flags;
    p->seq = p->s.seq;
    p->ack = p->s.ack;
    p->len = p->s.len;
    p->win = p->s.win;
    p->mss = p->s.mss;
    if (fx && (p->flags & GLASS_TH_SYN)) {
        struct fx_flow *f =
            fx_flow_find(fx, p->s.src.addr, p->s.src.port, p->s.dst.addr, p->s.dst.port);
        if (!f && fx->nflows < FX_MAX_FLOWS) {
            f = &fx->flows[fx->nflows++];
            f->saddr = p->s.src.addr;
            f->sport = p->s.src.port;
            f->daddr = p->s.dst.addr;
            f->dport = p->s.dst.port;
        }
        if (f)
            f->iss = p->seq;
    }
    uint32_t iss;
    p->rseq = p->seq;
    p->rack = p->ack;
    p->rseq_rel = p->rack_rel = false;
    if (fx && fx_flow_iss(fx, p->s.src.addr, p->s.src.port, p->s.dst.addr, p->s.dst.port, &iss)) {
        p->rseq = p->seq - iss;
        p->rseq_rel = true;
    }
    if (fx && fx_flow_iss(fx, p->s.dst.addr, p->s.dst.port, p->s.src.addr, p->s.src.port, &iss)) {
        p->rack = p->ack - iss;
        p->rack_rel = true;
    }
}

static struct fx_pkt *fx_record(struct fx *fx, uint64_t id, int from, int to, glass_time_t at,
                                const uint8_t *data, size_t len)
{
    fx->pkts = fx_grow(fx->pkts, &fx->cap_pkts, fx->npkts, sizeof *fx->pkts);
    struct fx_pkt *p = &fx->pkts[fx->npkts++];
    memset(p, 0, sizeof *p);
    p->id = id;
    p->from = from;
    p->to = to;
    p->at = at;
    p->delivered_at = GLASS_TIME_NEVER;
    fx_decode_into(fx, p, data, len);
    return p;
}

static struct fx_pkt *fx_pkt_by_id(struct fx *fx, uint64_t id)
{
    if (id == 0)
        return NULL;
    for (size_t i = fx->npkts; i-- > 0;)
        if (fx->pkts[i].id == id)
            return &fx->pkts[i];
    return NULL;
}

static void fx_tap_cb(void *ctx, const struct glass_sim_packet *sp, enum glass_sim_pkt_event what)
{
    struct fx *fx = ctx;
    struct fx_pkt *p = fx_pkt_by_id(fx, sp->id);
    if (!p)
        p = fx_record(fx, sp->id, fx_side_of_node(fx, sp->from), fx_side_of_node(fx, sp->to),
                      sp->sent_at, sp->data, sp->len);
    switch (what) {
    case GLASS_SIM_SENT:
        break;
    case GLASS_SIM_DELIVERED:
        p->delivered = true;
        p->held = false;
        p->delivered_at = glass_simnet_now(fx->net);
        break;
    case GLASS_SIM_DROPPED:
        p->dropped = true;
        p->held = false;
        break;
    case GLASS_SIM_HELD:
        p->held = true;
        break;
    }
}

static void fx_observer_cb(void *ctx, const struct glass_transition *t)
{
    struct fx_side_ctx *sc = ctx;
    struct fx *fx = sc->fx;
    fx->trans = fx_grow(fx->trans, &fx->cap_trans, fx->ntrans, sizeof *fx->trans);
    struct fx_trans *r = &fx->trans[fx->ntrans++];
    r->side = sc->side;
    r->t = *t;
}

static void fx_on_event(struct fx *fx, int side, const struct glass_event *ev)
{
    fx->evs = fx_grow(fx->evs, &fx->cap_evs, fx->nevs, sizeof *fx->evs);
    struct fx_event *r = &fx->evs[fx->nevs++];
    r->side = side;
    r->ev = *ev;
    if (fx->react[side])
        fx->react[side](fx, side, ev);
}

static void fx_app_cb(void *ctx, struct glass_simnet *net, int node, const struct glass_event *ev)
{
    struct fx_side_ctx *sc = ctx;
    (void)net;
    (void)node;
    fx_on_event(sc->fx, sc->side, ev);
}

static bool fx_rule_matches(const struct fx_rule *r, int from, uint8_t flags)
{
    if (r->from != FX_ANY && r->from != from)
        return false;
    if ((flags & r->set) != r->set)
        return false;
    if (flags & r->clear)
        return false;
    if (r->exact >= 0 && flags != (uint8_t)r->exact)
        return false;
    return true;
}

static enum glass_sim_verdict fx_filter_cb(void *ctx, const struct glass_sim_packet *sp)
{
    struct fx *fx = ctx;
    const struct fx_pkt *p = fx_pkt_by_id(fx, sp->id);
    struct fx_pkt tmp;
    if (!p) {
        memset(&tmp, 0, sizeof tmp);
        tmp.id = sp->id;
        tmp.from = fx_side_of_node(fx, sp->from);
        tmp.to = fx_side_of_node(fx, sp->to);
        tmp.at = sp->sent_at;
        fx_decode_into(NULL, &tmp, sp->data, sp->len);
        p = &tmp;
    }
    enum glass_sim_verdict v = GLASS_SIM_PASS;
    for (size_t i = 0; i < fx->nrules; i++) {
        struct fx_rule *r = &fx->rules[i];
        if (!fx_rule_matches(r, p->from, p->flags))
            continue;
        r->matched++;
        if (r->matched <= r->skip)
            continue;
        if (r->count >= 0 && r->acted >= (unsigned)r->count)
            continue;
        r->acted++;
        v = r->verdict;
        break;
    }
    if (v == GLASS_SIM_PASS && fx->filter)
        v = fx->filter(fx, p);
    if (v == GLASS_SIM_HOLD) {
        if (fx->nheld < FX_MAX_HELD)
            fx->held[fx->nheld++] = sp->id;
        else
            v = GLASS_SIM_DROP;
    }
    return v;
}

/* ---- life cycle and time -------------------------------------------------------------- */

void fx_start(struct fx *fx)
{
    if (fx->started)
        return;
    fx->started = true;
    fx->net = glass_simnet_new(&fx->netcfg);
    if (!fx->net)
        fx_fail_at(fx, __FILE__, __LINE__, "glass_simnet_new failed");
    static const uint32_t addr[FX_NSIDES] = {FX_CLIENT_ADDR, FX_SERVER_ADDR};
    for (int i = 0; i < FX_NSIDES; i++) {
        fx->st[i] = glass_stack_new(&fx->cfg[i]);
        if (!fx->st[i])
            fx_fail_at(fx, __FILE__, __LINE__, "glass_stack_new(%s) failed", fx_side_name(i));
        fx->node[i] = glass_simnet_attach(fx->net, fx->st[i], addr[i]);
        if (fx->node[i] < 0)
            fx_fail_at(fx, __FILE__, __LINE__, "glass_simnet_attach(%s) = %s", fx_side_name(i),
                       fx_ret_name(fx->node[i]));
        glass_stack_set_observer(fx->st[i], fx_observer_cb, &fx->side_ctx[i]);
        glass_simnet_set_app(fx->net, fx->node[i], fx_app_cb, &fx->side_ctx[i]);
    }
    glass_simnet_set_tap(fx->net, fx_tap_cb, fx);
    glass_simnet_set_filter(fx->net, fx_filter_cb, fx);
    fx->t0 = glass_simnet_now(fx->net);
}

struct glass_stack *fx_st(struct fx *fx, int side)
{
    fx_start(fx);
    return fx->st[side];
}

struct glass_stack *fx_lone_client(uint32_t max_sockets)
{
    struct glass_config cfg;
    glass_config_default(&cfg);
    if (max_sockets != 0)
        cfg.max_sockets = max_sockets;
    struct glass_stack *st = glass_stack_new(&cfg);
    assert_non_null(st);
    assert_int_equal(glass_stack_add_iface(st, FX_CLIENT_ADDR, 24, 1500), 0);
    return st;
}

glass_time_t fx_now(struct fx *fx)
{
    fx_start(fx);
    return glass_simnet_now(fx->net);
}

glass_time_t fx_elapsed(struct fx *fx)
{
    return fx_now(fx) - fx->t0;
}

/* Pop every event still queued in the stacks (the simnet's app callback normally takes
 * them); returns how many. */
static size_t fx_drain(struct fx *fx)
{
    size_t n = 0;
    struct glass_event ev;
    for (int i = 0; i < FX_NSIDES; i++) {
        while (glass_stack_next_event(fx->st[i], &ev)) {
            fx_on_event(fx, i, &ev);
            n++;
        }
    }
    return n;
}

void fx_flush(struct fx *fx)
{
    fx_start(fx);
    fx_drain(fx);
    glass_simnet_flush(fx->net);
    if (fx_drain(fx))
        glass_simnet_flush(fx->net);
}

/* After the simnet ran to its clock: bring every stack's clock there too (socket calls act at
 * the stack's time), react to what is left, and put any output on the link. */
static void fx_sync(struct fx *fx)
{
    glass_time_t now = glass_simnet_now(fx->net);
    for (int i = 0; i < FX_NSIDES; i++)
        if (glass_stack_now(fx->st[i]) < now)
            glass_stack_advance(fx->st[i], now);
    fx_drain(fx);
    glass_simnet_flush(fx->net);
}

void fx_run_for(struct fx *fx, glass_time_t dt)
{
    fx_start(fx);
    fx_drain(fx);
    glass_simnet_run_for(fx->net, dt);
    fx_sync(fx);
}

void fx_run_until(struct fx *fx, glass_time_t t)
{
    fx_start(fx);
    fx_drain(fx);
    glass_simnet_run_until(fx->net, t);
    fx_sync(fx);
}

bool fx_run_until_state(struct fx *fx, int side, int fd, int state, glass_time_t limit)
{
    fx_flush(fx);
    glass_time_t end = glass_simnet_now(fx->net) + limit;
    for (;;) {
        if (glass_sock_state(fx->st[side], fd) == state)
            return true;
        if (!glass_simnet_step(fx->net, end)) {
            fx_run_until(fx, end);
            return glass_sock_state(fx->st[side], fd) == state;
        }
        fx_drain(fx);
        glass_simnet_flush(fx->net);
    }
}

/* ---- reaction hooks ------------------------------------------------------------------- */

void fx_set_react(struct fx *fx, int side, fx_react_fn fn)
{
    fx->react[side] = fn;
}

void fx_react_close_on_rdhup(struct fx *fx, int side, const struct glass_event *ev)
{
    if (ev->kind != GLASS_EV_RDHUP)
        return;
    int r = glass_close(fx->st[side], ev->fd);
    if (r != 0)
        print_error("fx_react_close_on_rdhup: close(%d) on %s = %s\n", ev->fd, fx_side_name(side),
                    fx_ret_name(r));
}

/* ---- filter --------------------------------------------------------------------------- */

void fx_add_rule(struct fx *fx, struct fx_rule r)
{
    if (fx->nrules >= FX_MAX_RULES)
        fx_fail_at(fx, __FILE__, __LINE__, "too many filter rules");
    r.matched = r.acted = 0;
    fx->rules[fx->nrules++] = r;
}

void fx_drop(struct fx *fx, int side, uint8_t set, uint8_t clear, int count)
{
    fx_add_rule(fx, FX_RULE(.from = side, .set = set, .clear = clear, .count = count,
                            .verdict = GLASS_SIM_DROP));
}

void fx_hold(struct fx *fx, int side, uint8_t set, uint8_t clear, int count)
{
    fx_add_rule(fx, FX_RULE(.from = side, .set = set, .clear = clear, .count = count,
                            .verdict = GLASS_SIM_HOLD));
}

void fx_partition(struct fx *fx, bool on)
{
    fx_clear_rules(fx);
    if (on)
        fx_drop(fx, FX_ANY, 0, 0, -1);
}

void fx_clear_rules(struct fx *fx)
{
    fx->nrules = 0;
}

void fx_set_filter(struct fx *fx, fx_filter_fn fn)
{
    fx->filter = fn;
}

void fx_release_held(struct fx *fx)
{
    for (size_t i = 0; i < fx->nheld; i++)
        glass_simnet_release(fx->net, fx->held[i]);
    fx->nheld = 0;
}

void fx_discard_held(struct fx *fx)
{
    for (size_t i = 0; i < fx->nheld; i++) {
        glass_simnet_discard(fx->net, fx->held[i]);
        struct fx_pkt *p = fx_pkt_by_id(fx, fx->held[i]);
        if (p) {
            p->held = false;
            p->dropped = true;
        }
    }
    fx->nheld = 0;
}

/* ---- socket helpers -------------------------------------------------------------------- */

static uint32_t fx_side_addr(int side)
{
    return side == FX_CLIENT ? FX_CLIENT_ADDR : FX_SERVER_ADDR;
}

int fx_socket(struct fx *fx, int side)
{
    int fd = glass_socket(fx_st(fx, side));
    FX_CHECK(fx, fd >= 0, "glass_socket(%s) = %s", fx_side_name(side), fx_ret_name(fd));
    return fd;
}

int fx_listen(struct fx *fx, int side, uint16_t port, bool reuseaddr)
{
    struct glass_stack *st = fx_st(fx, side);
    int fd = fx_socket(fx, side);
    if (reuseaddr) {
        int one = 1;
        int r = glass_setsockopt(st, fd, GLASS_SOL_SOCKET, GLASS_SO_REUSEADDR, &one, sizeof one);
        FX_CHECK(fx, r == 0, "setsockopt(SO_REUSEADDR) = %s", fx_ret_name(r));
    }
    struct glass_endpoint ep = {fx_side_addr(side), port};
    int r = glass_bind(st, fd, &ep);
    FX_CHECK(fx, r == 0, "bind(%s:%u) = %s", fx_side_name(side), port, fx_ret_name(r));
    r = glass_listen(st, fd, 16);
    FX_CHECK(fx, r == 0, "listen = %s", fx_ret_name(r));
    fx_flush(fx);
    return fd;
}

int fx_connect(struct fx *fx, int side, uint16_t lport, uint32_t daddr, uint16_t dport)
{
    struct glass_stack *st = fx_st(fx, side);
    int fd = fx_socket(fx, side);
    if (lport) {
        struct glass_endpoint le = {fx_side_addr(side), lport};
        int r = glass_bind(st, fd, &le);
        FX_CHECK(fx, r == 0, "bind(%s:%u) = %s", fx_side_name(side), lport, fx_ret_name(r));
    }
    struct glass_endpoint ep = {daddr, dport};
    int r = glass_connect(st, fd, &ep);
    FX_CHECK(fx, r == -GLASS_EINPROGRESS, "connect = %s, want -EINPROGRESS", fx_ret_name(r));
    fx_flush(fx);
    return fd;
}

void fx_connect_accept(struct fx *fx, int *cfd, int *sfd)
{
    int c = fx_connect(fx, FX_CLIENT, 0, FX_SERVER_ADDR, FX_SERVER_PORT);
    fx_run_for(fx, GLASS_MSEC(50));
    FX_ASSERT_STATE(fx, FX_CLIENT, c, GLASS_TCP_ESTABLISHED);
    struct glass_endpoint peer = {0, 0};
    int s = glass_accept(fx->st[FX_SERVER], fx->lfd, &peer);
    FX_CHECK(fx, s >= 0, "accept = %s", fx_ret_name(s));
    FX_ASSERT_STATE(fx, FX_SERVER, s, GLASS_TCP_ESTABLISHED);
    struct glass_endpoint me = {0, 0};
    int r = glass_getsockname(fx->st[FX_CLIENT], c, &me);
    FX_CHECK(fx, r == 0, "getsockname = %s", fx_ret_name(r));
    fx->cport = me.port;
    *cfd = c;
    *sfd = s;
}

void fx_established(struct fx *fx, int *cfd, int *sfd)
{
    fx_start(fx);
    fx->lfd = fx_listen(fx, FX_SERVER, FX_SERVER_PORT, false);
    fx_connect_accept(fx, cfd, sfd);
}

void fx_close(struct fx *fx, int side, int fd)
{
    int r = glass_close(fx_st(fx, side), fd);
    FX_CHECK(fx, r == 0, "close(%s fd %d) = %s", fx_side_name(side), fd, fx_ret_name(r));
    fx_flush(fx);
}

void fx_set_linger(struct fx *fx, int side, int fd, int onoff, int secs)
{
    struct glass_linger l = {onoff, secs};
    int r = glass_setsockopt(fx_st(fx, side), fd, GLASS_SOL_SOCKET, GLASS_SO_LINGER, &l, sizeof l);
    FX_CHECK(fx, r == 0, "setsockopt(SO_LINGER) = %s", fx_ret_name(r));
}

int fx_so_error(struct fx *fx, int side, int fd)
{
    int v = -12345;
    size_t len = sizeof v;
    int r = glass_getsockopt(fx_st(fx, side), fd, GLASS_SOL_SOCKET, GLASS_SO_ERROR, &v, &len);
    FX_CHECK(fx, r == 0, "getsockopt(SO_ERROR) = %s", fx_ret_name(r));
    FX_CHECK(fx, len == sizeof(int), "getsockopt(SO_ERROR) len = %zu", len);
    return v;
}

void fx_send_all(struct fx *fx, int side, int fd, const void *buf, size_t len)
{
    long r = glass_send(fx_st(fx, side), fd, buf, len, 0);
    FX_CHECK(fx, r == (long)len, "send(%zu) = %s", len, fx_ret_name(r));
    fx_flush(fx);
}

/* ---- crafted segments ----------------------------------------------------------------- */

static uint32_t fx_sum(uint32_t sum, const void *p, size_t len)
{
    const uint8_t *b = p;
    while (len > 1) {
        sum += (uint32_t)((b[0] << 8) | b[1]);
        b += 2;
        len -= 2;
    }
    if (len)
        sum += (uint32_t)(b[0] << 8);
    return sum;
}

uint16_t fx_cksum(uint32_t sum, const void *p, size_t len)
{
    sum = fx_sum(sum, p, len);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void fx_put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void fx_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

size_t fx_build(const struct fx_seg *seg, uint8_t *buf, size_t cap)
{
    size_t optlen = seg->mss ? 4 : 0;
    size_t tcplen = 20 + optlen + seg->len;
    size_t total = 20 + tcplen;
    if (total > cap || total > 65535)
        return 0;
    memset(buf, 0, 20 + 20 + optlen);
    uint8_t *ip = buf;
    ip[0] = 0x45;
    fx_put16(ip + 2, (uint32_t)total);
    fx_put16(ip + 4, 0);      /* id */
    fx_put16(ip + 6, 0x4000); /* DF */
    ip[8] = 64;
    ip[9] = 6;
    fx_put32(ip + 12, seg->saddr);
    fx_put32(ip + 16, seg->daddr);
    fx_put16(ip + 10, fx_cksum(0, ip, 20));

    uint8_t *th = buf + 20;
    fx_put16(th + 0, seg->sport);
    fx_put16(th + 2, seg->dport);
    fx_put32(th + 4, seg->seq);
    fx_put32(th + 8, seg->ack);
    th[12] = (uint8_t)(((20 + optlen) / 4) << 4);
    th[13] = seg->flags;
    fx_put16(th + 14, seg->win);
    if (seg->mss) {
        th[20] = 2;
        th[21] = 4;
        fx_put16(th + 22, seg->mss);
    }
    if (seg->len)
        memcpy(th + 20 + optlen, seg->data, seg->len);
    uint8_t pseudo[12];
    fx_put32(pseudo, seg->saddr);
    fx_put32(pseudo + 4, seg->daddr);
    pseudo[8] = 0;
    pseudo[9] = 6;
    fx_put16(pseudo + 10, (uint32_t)tcplen);
    fx_put16(th + 16, fx_cksum(fx_sum(0, pseudo, sizeof pseudo), th, tcplen));
    return total;
}

int fx_inject(struct fx *fx, int side, const struct fx_seg *seg)
{
    uint8_t buf[2048];
    size_t len = fx_build(seg, buf, sizeof buf);
    FX_CHECK(fx, len > 0, "fx_build: segment too large");
    glass_time_t now = fx_now(fx);
    struct fx_pkt *p = fx_record(fx, 0, FX_INJECT, side, now, buf, len);
    p->delivered = true;
    p->delivered_at = now;
    int r = glass_stack_input(fx->st[side], now, buf, len);
    fx_drain(fx);
    glass_simnet_flush(fx->net);
    if (fx_drain(fx))
        glass_simnet_flush(fx->net);
    return r;
}

/* ---- packets ---------------------------------------------------------------------------- */

size_t fx_mark(const struct fx *fx)
{
    return fx->npkts;
}

const struct fx_pkt *fx_nth_pkt(const struct fx *fx, size_t mark, int side, size_t n)
{
    for (size_t i = mark; i < fx->npkts; i++) {
        const struct fx_pkt *p = &fx->pkts[i];
        if (side != FX_ANY && p->from != side)
            continue;
        if (n == 0)
            return p;
        n--;
    }
    return NULL;
}

const struct fx_pkt *fx_find_pkt(const struct fx *fx, size_t mark, int side, uint8_t set,
                                 uint8_t clear)
{
    for (size_t i = mark; i < fx->npkts; i++) {
        const struct fx_pkt *p = &fx->pkts[i];
        if (side != FX_ANY && p->from != side)
            continue;
        if ((p->flags & set) == set && !(p->flags & clear))
            return p;
    }
    return NULL;
}

size_t fx_count_pkts(const struct fx *fx, size_t mark, int side, uint8_t set, uint8_t clear)
{
    size_t n = 0;
    for (size_t i = mark; i < fx->npkts; i++) {
        const struct fx_pkt *p = &fx->pkts[i];
        if (side != FX_ANY && p->from != side)
            continue;
        if ((p->flags & set) == set && !(p->flags & clear))
            n++;
    }
    return n;
}

static void fx_pkt_line(const struct fx *fx, const struct fx_pkt *p, char *out, size_t cap)
{
    char fl[16];
    if (!p->decoded) {
        snprintf(out, cap, "t=%9.3fms %s>%s  <not a TCP/IPv4 packet>", fx_ms(fx, p->at),
                 fx_side_short(p->from), fx_side_short(p->to));
        return;
    }
    glass_tcp_flags_str(p->flags, fl);
    char mss[24] = "";
    if (p->mss)
        snprintf(mss, sizeof mss, " <mss %u>", p->mss);
    snprintf(out, cap, "t=%9.3fms %s>%s %-3s seq %u%s ack %u%s win %u len %u%s  [%u:%u > %u:%u]%s%s%s",
             fx_ms(fx, p->at), fx_side_short(p->from), fx_side_short(p->to), fl, p->rseq,
             p->rseq_rel ? "" : "(abs)", p->rack, p->rack_rel ? "" : "(abs)", p->win, p->len, mss,
             (unsigned)(p->s.src.addr & 0xff), p->s.src.port, (unsigned)(p->s.dst.addr & 0xff),
             p->s.dst.port, p->dropped ? " DROPPED" : "", p->held ? " HELD" : "",
             p->from == FX_INJECT ? " INJECTED" : "");
}

const struct fx_pkt *fx_assert_pkt_at(struct fx *fx, size_t mark, int side, size_t n, int flags,
                                      int64_t rseq, int64_t rack, int64_t len, const char *file,
                                      int line)
{
    const struct fx_pkt *p = fx_nth_pkt(fx, mark, side, n);
    char fl[16] = "*";
    if (flags >= 0)
        glass_tcp_flags_str((uint8_t)flags, fl);
    char want[160];
    snprintf(want, sizeof want, "%s seq %s ack %s len %s", fl,
             rseq == FX_ANY ? "*" : fx_ret_name((long)rseq), rack == FX_ANY ? "*" : fx_ret_name((long)rack),
             len == FX_ANY ? "*" : fx_ret_name((long)len));
    if (!p)
        fx_fail_at(fx, file, line, "expected packet #%zu from %s after mark %zu (%s): there is none",
                   n, fx_side_name(side), mark, want);
    char got[256];
    fx_pkt_line(fx, p, got, sizeof got);
    if (!p->decoded)
        fx_fail_at(fx, file, line, "packet #%zu from %s after mark %zu does not decode", n,
                   fx_side_name(side), mark);
    const uint8_t ign = GLASS_TH_PSH;
    bool ok = true;
    if (flags >= 0 && (p->flags & ~ign) != ((uint8_t)flags & ~ign))
        ok = false;
    if (rseq != FX_ANY && p->rseq != (uint32_t)rseq)
        ok = false;
    if (rack != FX_ANY && p->rack != (uint32_t)rack)
        ok = false;
    if (len != FX_ANY && p->len != (uint32_t)len)
        ok = false;
    if (!ok)
        fx_fail_at(fx, file, line,
                   "packet #%zu from %s after mark %zu:\n    want %s (PSH ignored)\n    got  %s", n,
                   fx_side_name(side), mark, want, got);
    return p;
}

const struct fx_pkt *fx_assert_rst_at(struct fx *fx, size_t mark, int side, size_t n, int64_t rseq,
                                      int64_t rack, const char *file, int line)
{
    const struct fx_pkt *p = fx_nth_pkt(fx, mark, side, n);
    if (!p)
        fx_fail_at(fx, file, line, "expected an RST as packet #%zu from %s after mark %zu: none",
                   n, fx_side_name(side), mark);
    char got[256];
    fx_pkt_line(fx, p, got, sizeof got);
    bool ok = p->decoded &&
              (p->flags & (GLASS_TH_RST | GLASS_TH_SYN | GLASS_TH_FIN)) == GLASS_TH_RST &&
              p->len == 0 && (rseq == FX_ANY || p->rseq == (uint32_t)rseq);
    if (ok && rack != FX_ANY && (p->flags & GLASS_TH_ACK) && p->rack != (uint32_t)rack)
        ok = false;
    if (!ok)
        fx_fail_at(fx, file, line,
                   "packet #%zu from %s after mark %zu:\n    want R or R. seq %s (ack %s if ACK) len 0"
                   "\n    got  %s",
                   n, fx_side_name(side), mark, rseq == FX_ANY ? "*" : fx_ret_name((long)rseq),
                   rack == FX_ANY ? "*" : fx_ret_name((long)rack), got);
    return p;
}

void fx_assert_no_pkt_at(struct fx *fx, size_t mark, int side, const char *file, int line)
{
    const struct fx_pkt *p = fx_nth_pkt(fx, mark, side, 0);
    if (p) {
        char got[256];
        fx_pkt_line(fx, p, got, sizeof got);
        fx_fail_at(fx, file, line, "expected no packet from %s after mark %zu, got: %s",
                   fx_side_name(side), mark, got);
    }
}

/* ---- transitions ------------------------------------------------------------------------ */

static bool fx_trans_matches(const struct fx_trans *r, int side, long conn, int from, int to,
                             int cause)
{
    if (side != FX_ANY && r->side != side)
        return false;
    if (conn != FX_ANY && (long)r->t.conn != conn)
        return false;
    if (from != FX_ANY && r->t.from != from)
        return false;
    if (to != FX_ANY && r->t.to != to)
        return false;
    if (cause != FX_ANY && r->t.cause != cause)
        return false;
    return true;
}

const struct fx_trans *fx_find_trans(const struct fx *fx, int side, long conn, int from, int to,
                                     int cause, size_t start)
{
    for (size_t i = start; i < fx->ntrans; i++)
        if (fx_trans_matches(&fx->trans[i], side, conn, from, to, cause))
            return &fx->trans[i];
    return NULL;
}

size_t fx_count_trans(const struct fx *fx, int side, long conn, int from, int to, int cause)
{
    size_t n = 0;
    for (size_t i = 0; i < fx->ntrans; i++)
        if (fx_trans_matches(&fx->trans[i], side, conn, from, to, cause))
            n++;
    return n;
}

const struct fx_trans *fx_last_trans(const struct fx *fx, int side, long conn)
{
    for (size_t i = fx->ntrans; i-- > 0;)
        if (fx_trans_matches(&fx->trans[i], side, conn, FX_ANY, FX_ANY, FX_ANY))
            return &fx->trans[i];
    return NULL;
}

const struct fx_trans *fx_expect_trans_at(struct fx *fx, int side, long conn, int from, int to,
                                          int cause, const char *file, int line)
{
    size_t start = fx->trans_cursor[side];
    for (size_t i = start; i < fx->ntrans; i++) {
        if (fx_trans_matches(&fx->trans[i], side, conn, from, to, cause)) {
            fx->trans_cursor[side] = i + 1;
            return &fx->trans[i];
        }
    }
    const struct fx_trans *earlier = fx_find_trans(fx, side, conn, from, to, cause, 0);
    const struct fx_trans *other = fx_find_trans(fx, side, conn, from, to, FX_ANY, start);
    char why[128] = " — it never happened";
    if (earlier)
        snprintf(why, sizeof why, " — it happened, but before the previously expected one (order)");
    else if (other)
        snprintf(why, sizeof why, " — the arc happened with cause %s at %.3f ms",
                 fx_cause_str(other->t.cause), fx_ms(fx, other->t.at));
    fx_fail_at(fx, file, line, "expected transition on %s: %s -> %s (%s)%s", fx_side_name(side),
               fx_state_str(from), fx_state_str(to), fx_cause_str(cause), why);
    return NULL;
}

void fx_assert_no_trans_at(struct fx *fx, int side, int from, int to, const char *file, int line)
{
    const struct fx_trans *t = fx_find_trans(fx, side, FX_ANY, from, to, FX_ANY, 0);
    if (t)
        fx_fail_at(fx, file, line, "unexpected transition on %s: %s -> %s (%s) at %.3f ms",
                   fx_side_name(side), fx_state_str(t->t.from), fx_state_str(t->t.to),
                   fx_cause_str(t->t.cause), fx_ms(fx, t->t.at));
}

/* ---- events ----------------------------------------------------------------------------- */

const struct fx_event *fx_find_event(const struct fx *fx, int side, int kind, int fd)
{
    for (size_t i = 0; i < fx->nevs; i++) {
        const struct fx_event *e = &fx->evs[i];
        if ((side == FX_ANY || e->side == side) && (kind == FX_ANY || (int)e->ev.kind == kind) &&
            (fd == FX_ANY || e->ev.fd == fd))
            return e;
    }
    return NULL;
}

size_t fx_count_events(const struct fx *fx, int side, int kind, int fd)
{
    size_t n = 0;
    for (size_t i = 0; i < fx->nevs; i++) {
        const struct fx_event *e = &fx->evs[i];
        if ((side == FX_ANY || e->side == side) && (kind == FX_ANY || (int)e->ev.kind == kind) &&
            (fd == FX_ANY || e->ev.fd == fd))
            n++;
    }
    return n;
}

void fx_assert_event_err_at(struct fx *fx, int side, int fd, int err, const char *file, int line)
{
    for (size_t i = 0; i < fx->nevs; i++) {
        const struct fx_event *e = &fx->evs[i];
        if (e->side == side && e->ev.kind == GLASS_EV_ERROR && (fd == FX_ANY || e->ev.fd == fd)) {
            if (e->ev.err == err)
                return;
            fx_fail_at(fx, file, line, "%s fd %d: GLASS_EV_ERROR err = %s, want %s",
                       fx_side_name(side), fd, fx_ret_name(e->ev.err), fx_ret_name(err));
        }
    }
    fx_fail_at(fx, file, line, "%s fd %d: no GLASS_EV_ERROR event (want err %s)", fx_side_name(side),
               fd, fx_ret_name(err));
}

/* ---- states, errors, counters ------------------------------------------------------------- */

void fx_assert_state_at(struct fx *fx, int side, int fd, int state, const char *file, int line)
{
    int got = glass_sock_state(fx_st(fx, side), fd);
    if (got != state)
        fx_fail_at(fx, file, line, "%s fd %d: state %s, want %s", fx_side_name(side), fd,
                   fx_state_str(got), fx_state_str(state));
}

void fx_assert_ret_at(long got, long want, const char *expr, const char *file, int line)
{
    if (got != want) {
        print_error("%s = %s, want %s\n", expr, fx_ret_name(got), fx_ret_name(want));
        _fail(file, line);
    }
}

uint64_t fx_mib(struct fx *fx, int side, int mib)
{
    return glass_stack_mib(fx_st(fx, side), mib);
}

void fx_mib_snap(struct fx *fx, struct fx_mibs *snap)
{
    fx_start(fx);
    for (int s = 0; s < FX_NSIDES; s++)
        for (int m = 0; m < GLASS_MIB_COUNT; m++)
            snap->v[s][m] = glass_stack_mib(fx->st[s], m);
}

void fx_assert_mib_at(struct fx *fx, int side, int mib, const struct fx_mibs *snap, uint64_t want,
                      const char *file, int line)
{
    uint64_t v = fx_mib(fx, side, mib);
    uint64_t base = snap ? snap->v[side][mib] : 0;
    if (v - base != want) {
        if (snap)
            fx_fail_at(fx, file, line, "%s %s grew by %lld, want +%llu (now %llu)",
                       fx_side_name(side), glass_mib_name(mib), (long long)(v - base),
                       (unsigned long long)want, (unsigned long long)v);
        else
            fx_fail_at(fx, file, line, "%s %s = %llu, want %llu", fx_side_name(side),
                       glass_mib_name(mib), (unsigned long long)v, (unsigned long long)want);
    }
}

/* ---- diagnostics ------------------------------------------------------------------------ */

void fx_dump(const struct fx *fx)
{
    if (!fx || !fx->started)
        return;
    size_t first = 0;
    const size_t keep = getenv("FX_DUMP_ALL") ? (size_t)-1 : 80;
    if (fx->npkts > keep)
        first = fx->npkts - keep;
    print_error("---- packets (%zu%s; relative seq/ack; t since start) ----\n", fx->npkts,
                first ? ", last 80 shown, FX_DUMP_ALL=1 for all" : "");
    for (size_t i = first; i < fx->npkts; i++) {
        char line[256];
        fx_pkt_line(fx, &fx->pkts[i], line, sizeof line);
        print_error("  #%-4zu %s\n", i, line);
    }
    print_error("---- transitions (%zu) ----\n", fx->ntrans);
    size_t tfirst = fx->ntrans > 200 ? fx->ntrans - 200 : 0;
    for (size_t i = tfirst; i < fx->ntrans; i++) {
        const struct fx_trans *r = &fx->trans[i];
        print_error("  t=%9.3fms %s conn %u: %s -> %s (%s)\n", fx_ms(fx, r->t.at),
                    fx_side_name(r->side), r->t.conn, fx_state_str(r->t.from),
                    fx_state_str(r->t.to), fx_cause_str(r->t.cause));
    }
    print_error("---- events (%zu) ----\n", fx->nevs);
    size_t efirst = fx->nevs > 100 ? fx->nevs - 100 : 0;
    for (size_t i = efirst; i < fx->nevs; i++) {
        const struct fx_event *e = &fx->evs[i];
        print_error("  t=%9.3fms %s fd %d: %s%s%s\n", fx_ms(fx, e->ev.at), fx_side_name(e->side),
                    e->ev.fd, glass_event_name((int)e->ev.kind), e->ev.err ? " err " : "",
                    e->ev.err ? fx_ret_name(e->ev.err) : "");
    }
    print_error("---- now t=%.3fms ----\n", fx_ms(fx, glass_simnet_now(fx->net)));
}

void fx_fail_at(struct fx *fx, const char *file, int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    print_error("%s:%d: %s\n", file, line, msg);
    fx_dump(fx);
    _fail(file, line);
}

void fx_check_at(struct fx *fx, bool ok, const char *expr, const char *file, int line,
                 const char *fmt, ...)
{
    if (ok)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fx_fail_at(fx, file, line, "%s  [%s]", msg, expr);
}

void fx_check_stacks_at(struct fx *fx, const char *file, int line)
{
    char why[256];
    for (int side = 0; side < FX_NSIDES; side++)
        fx_check_at(fx, glass_stack_check(fx_st(fx, side), why, sizeof why) == 0,
                    "glass_stack_check", file, line, "%s: %s", fx_side_name(side), why);
}
