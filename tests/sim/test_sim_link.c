/* glasstcp tests — the simulated link and its impairments, piece by piece.
 *
 *   link/sim.c    delivery order (deliver_at, rank, id), re-timing, the spare slot, in-place
 *                 delivery, capacity, held packets
 *   link/fault.c  each impairment alone: loss, duplication, corruption, jitter (FIFO), the
 *                 bottleneck (serialization, tail drop), delay spikes, reordering, parameter
 *                 checks, determinism
 *   loop/simnet   the impairments between two real stacks: every corrupted copy is dropped by
 *                 a checksum (or a header check) and none is accepted, duplicates and reordered
 *                 copies arrive as promised, the bottleneck paces deliveries, spikes hold
 *                 packets beyond the RTO, same seed same trace hash. */
#include "link/fault.h"
#include "link/sim_link.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <glass/glass.h>

#include <stdlib.h>
#include <string.h>

/* ---- link/sim.c ------------------------------------------------------------------------------ */

static struct glass_sim_link_meta meta(uint64_t id, glass_time_t at, uint64_t rank)
{
    return (struct glass_sim_link_meta){
        .id = id, .rank = rank, .from = 0, .to = 1, .deliver_at = at};
}

static void test_link_order(void **state)
{
    (void)state;
    struct glass_sim_link *l = glass_sim_link_new(100, 0);
    assert_non_null(l);
    uint8_t b[4] = {1, 2, 3, 4};
    /* id: deliver_at, rank */
    struct {
        uint64_t id;
        glass_time_t at;
        uint64_t rank;
    } in[] = {
        {1, 30, 4}, {2, 10, 8}, {3, 10, 12}, {4, 20, 16}, {5, 10, 9}, {6, 10, 9},
    };
    uint64_t want[] = {2, 5, 6, 3, 4, 1};
    for (size_t i = 0; i < 6; i++) {
        struct glass_sim_link_meta m = meta(in[i].id, in[i].at, in[i].rank);
        b[0] = (uint8_t)in[i].id;
        assert_int_equal(glass_sim_link_put(l, &m, b, sizeof b, false, NULL), GLASS_SIM_LINK_OK);
    }
    assert_int_equal(glass_sim_link_queued(l), 6);
    for (size_t i = 0; i < 6; i++) {
        struct glass_sim_link_meta m;
        const uint8_t *data;
        size_t len;
        uint32_t h = glass_sim_link_pop_ref(l, &m, &data, &len);
        assert_true(h != GLASS_SIM_NO_SLOT);
        assert_int_equal(m.id, want[i]);
        assert_int_equal(len, 4);
        assert_int_equal(data[0], (uint8_t)want[i]); /* the bytes, in place */
        glass_sim_link_done(l, h);
    }
    struct glass_sim_link_meta m;
    const uint8_t *data;
    size_t len;
    assert_true(glass_sim_link_pop_ref(l, &m, &data, &len) == GLASS_SIM_NO_SLOT);
    glass_sim_link_free(l);
}

static void test_link_retime_spare_capacity(void **state)
{
    (void)state;
    struct glass_sim_link *l = glass_sim_link_new(3, 1500);
    assert_non_null(l);
    uint8_t b[8] = {0};
    uint32_t h[3];
    for (uint64_t i = 0; i < 2; i++) {
        struct glass_sim_link_meta m = meta(i + 1, 100 + i, 4 * (i + 1));
        assert_int_equal(glass_sim_link_put(l, &m, b, sizeof b, false, &h[i]), GLASS_SIM_LINK_OK);
    }
    /* The third packet is built in the spare slot: no copy. */
    size_t cap = 0;
    uint8_t *sp = glass_sim_link_spare(l, &cap);
    assert_non_null(sp);
    assert_true(cap >= 1500);
    memset(sp, 0xab, 60);
    struct glass_sim_link_meta m3 = meta(3, 50, 12);
    assert_int_equal(glass_sim_link_put_spare(l, &m3, 60, false, &h[2]), GLASS_SIM_LINK_OK);
    size_t n = 0;
    assert_ptr_equal(glass_sim_link_bytes(l, h[2], &n), sp);
    assert_int_equal(n, 60);
    /* Full: capacity counts stored packets; the next spare is not one of them. */
    assert_non_null(glass_sim_link_spare(l, &cap));
    struct glass_sim_link_meta m4 = meta(4, 10, 16);
    assert_int_equal(glass_sim_link_put(l, &m4, b, sizeof b, false, NULL), GLASS_SIM_LINK_FULL);
    assert_int_equal(glass_sim_link_put_spare(l, &m4, 10, false, NULL), GLASS_SIM_LINK_FULL);
    /* Re-time packet 1 after packet 2, packet 2 to the front. */
    struct glass_sim_link_meta r1 = *glass_sim_link_meta(l, h[0]);
    r1.deliver_at = 101;
    r1.rank = 9;
    assert_int_equal(glass_sim_link_retime(l, h[0], &r1), GLASS_SIM_LINK_OK);
    struct glass_sim_link_meta r2 = *glass_sim_link_meta(l, h[1]);
    r2.deliver_at = 1;
    assert_int_equal(glass_sim_link_retime(l, h[1], &r2), GLASS_SIM_LINK_OK);
    uint64_t want[] = {2, 3, 1};
    for (int i = 0; i < 3; i++) {
        struct glass_sim_link_meta m;
        uint8_t out[64];
        assert_true(glass_sim_link_pop(l, &m, out, sizeof out) > 0);
        assert_int_equal(m.id, want[i]);
    }
    /* A popped handle cannot be re-timed. */
    assert_int_equal(glass_sim_link_retime(l, h[0], &r1), GLASS_SIM_LINK_NOENT);
    /* Held packets come back by id. */
    struct glass_sim_link_meta m5 = meta(5, 0, 20);
    assert_int_equal(glass_sim_link_put(l, &m5, b, sizeof b, true, NULL), GLASS_SIM_LINK_OK);
    assert_int_equal(glass_sim_link_held(l), 1);
    int rc;
    struct glass_sim_link_meta m;
    uint8_t out[16];
    assert_int_equal(glass_sim_link_take_held(l, 6, &m, out, sizeof out, &rc), 0);
    assert_int_equal(rc, GLASS_SIM_LINK_NOENT);
    assert_int_equal(glass_sim_link_take_held(l, 5, &m, out, sizeof out, &rc), sizeof b);
    assert_int_equal(rc, GLASS_SIM_LINK_OK);
    /* A packet larger than a slot gets its own buffer. */
    uint8_t big[4000];
    memset(big, 7, sizeof big);
    struct glass_sim_link_meta m6 = meta(6, 5, 24);
    assert_int_equal(glass_sim_link_put(l, &m6, big, sizeof big, false, NULL), GLASS_SIM_LINK_OK);
    uint8_t back[4000];
    assert_int_equal(glass_sim_link_pop(l, &m, back, sizeof back), sizeof big);
    assert_memory_equal(back, big, sizeof big);
    glass_sim_link_free(l);
}

/* ---- link/fault.c ---------------------------------------------------------------------------- */

static struct glass_fault_params params(void)
{
    struct glass_fault_params p;
    memset(&p, 0, sizeof p);
    p.seed = 99;
    p.delay = GLASS_MSEC(10);
    p.reorder_max = 3;
    return p;
}

static void test_fault_params_check(void **state)
{
    (void)state;
    struct glass_fault_params p = params();
    assert_int_equal(glass_fault_params_check(&p), 0);
    p.loss = 1.5;
    assert_int_equal(glass_fault_params_check(&p), -1);
    p = params();
    p.dup = -0.1;
    assert_int_equal(glass_fault_params_check(&p), -1);
    p = params();
    p.corrupt = strtod("nan", NULL);
    assert_int_equal(glass_fault_params_check(&p), -1);
    p = params();
    p.reorder = 0.5;
    p.reorder_max = 0;
    assert_int_equal(glass_fault_params_check(&p), -1);
    p = params();
    p.spike_every = GLASS_MSEC(100);
    p.spike_len = GLASS_MSEC(100);
    assert_int_equal(glass_fault_params_check(&p), -1);
    p.spike_len = GLASS_MSEC(99);
    assert_int_equal(glass_fault_params_check(&p), 0);
}

/* Send n packets of len bytes, one every gap, through direction d; count the fates. */
struct tally {
    unsigned pass, loss, queue, copies, dups, corrupt, reordered, spiked;
    glass_time_t last_arrive;
    bool fifo;
};

static void push(struct glass_fault_dir *d, const struct glass_fault_params *p, unsigned n,
                 size_t len, glass_time_t gap, struct tally *t)
{
    memset(t, 0, sizeof *t);
    t->fifo = true;
    glass_time_t now = GLASS_SEC(1);
    for (unsigned i = 0; i < n; i++, now += gap) {
        struct glass_fault_verdict v;
        glass_fault_decide(d, p, now, len, 100000, &v);
        switch (v.fate) {
        case GLASS_FAULT_PASS:
            t->pass++;
            break;
        case GLASS_FAULT_LOSS:
            t->loss++;
            continue;
        case GLASS_FAULT_QUEUE:
            t->queue++;
            continue;
        case GLASS_FAULT_NOMEM:
            fail();
            break;
        }
        for (unsigned c = 0; c < v.n_copies; c++) {
            const struct glass_fault_copy *cp = &v.copy[c];
            t->copies++;
            t->dups += c > 0;
            assert_true(cp->arrive >= now + p->delay);
            if (cp->arrive < t->last_arrive)
                t->fifo = false;
            t->last_arrive = cp->arrive;
            if (cp->corrupt_bit >= 0) {
                t->corrupt++;
                assert_true((uint64_t)cp->corrupt_bit < 8u * len);
            }
            if (cp->reorder_k > 0) {
                t->reordered++;
                assert_true(cp->reorder_k <= p->reorder_max);
                assert_true(cp->reorder_deadline > cp->arrive);
            }
            t->spiked += cp->spiked;
        }
    }
}

static void test_fault_each_knob(void **state)
{
    (void)state;
    struct glass_fault_dir d;
    struct tally t;
    struct glass_fault_params p = params();

    memset(&d, 0, sizeof d);
    glass_fault_dir_init(&d, p.seed, 0, 1);
    push(&d, &p, 1000, 1500, GLASS_MSEC(1), &t);
    assert_int_equal(t.pass, 1000);
    assert_int_equal(t.copies, 1000);
    assert_true(t.fifo);

    p.loss = 0.25;
    glass_fault_dir_init(&d, p.seed, 0, 1);
    push(&d, &p, 10000, 1500, GLASS_MSEC(1), &t);
    assert_in_range(t.loss, 2200, 2800);
    p.loss = 1.0;
    push(&d, &p, 100, 1500, GLASS_MSEC(1), &t);
    assert_int_equal(t.loss, 100);

    p = params();
    p.dup = 0.1;
    glass_fault_dir_init(&d, p.seed, 0, 1);
    push(&d, &p, 10000, 1500, GLASS_MSEC(1), &t);
    assert_in_range(t.dups, 850, 1150);
    assert_true(t.fifo); /* a duplicate never arrives before its original */

    p = params();
    p.corrupt = 0.05;
    glass_fault_dir_init(&d, p.seed, 0, 1);
    push(&d, &p, 10000, 1500, GLASS_MSEC(1), &t);
    assert_in_range(t.corrupt, 400, 600);

    p = params();
    p.jitter = GLASS_MSEC(30); /* much more than the gap: still in order */
    glass_fault_dir_init(&d, p.seed, 0, 1);
    push(&d, &p, 10000, 1500, GLASS_MSEC(1), &t);
    assert_true(t.fifo);

    p = params();
    p.reorder = 0.2;
    p.reorder_max = 5;
    glass_fault_dir_init(&d, p.seed, 0, 1);
    push(&d, &p, 10000, 1500, GLASS_MSEC(1), &t);
    assert_in_range(t.reordered, 1800, 2200);
    glass_fault_dir_fini(&d);
}

static void test_fault_bottleneck(void **state)
{
    (void)state;
    struct glass_fault_params p = params();
    p.rate_bps = 12000000; /* 1500 bytes = 1 ms */
    p.queue_pkts = 10;
    assert_int_equal(glass_fault_tx_time(&p, 1500), GLASS_MSEC(1));
    struct glass_fault_dir d;
    memset(&d, 0, sizeof d);
    glass_fault_dir_init(&d, p.seed, 0, 1);
    /* A burst of 30 at one instant: 10 queue (serialized 1 ms apart), 20 are tail-dropped. */
    glass_time_t now = GLASS_SEC(1);
    unsigned pass = 0, drop = 0;
    glass_time_t prev = 0;
    for (int i = 0; i < 30; i++) {
        struct glass_fault_verdict v;
        glass_fault_decide(&d, &p, now, 1500, 100000, &v);
        if (v.fate == GLASS_FAULT_QUEUE) {
            drop++;
            continue;
        }
        assert_int_equal(v.fate, GLASS_FAULT_PASS);
        assert_true(v.queue_depth <= 10);
        pass++;
        assert_int_equal(v.copy[0].arrive, now + p.delay + (glass_time_t)pass * GLASS_MSEC(1));
        assert_true(v.copy[0].arrive > prev);
        prev = v.copy[0].arrive;
    }
    assert_int_equal(pass, 10);
    assert_int_equal(drop, 20);
    /* 4.5 ms later, 4 have left: 4 more fit, then tail drop again. */
    now += 4500000; /* 4.5 ms */
    pass = 0;
    for (int i = 0; i < 6; i++) {
        struct glass_fault_verdict v;
        glass_fault_decide(&d, &p, now, 1500, 100000, &v);
        pass += v.fate == GLASS_FAULT_PASS;
    }
    assert_int_equal(pass, 4);
    glass_fault_dir_fini(&d);
}

static void test_fault_spikes(void **state)
{
    (void)state;
    struct glass_fault_params p = params();
    p.spike_every = GLASS_SEC(2);
    p.spike_len = GLASS_MSEC(700);
    /* Exactly one stall per window, spike_len long, inside the window. */
    for (uint64_t n = 0; n < 50; n++) {
        glass_time_t w0 = n * p.spike_every, stalled = 0, first = GLASS_TIME_NEVER;
        for (glass_time_t t = w0; t < w0 + p.spike_every; t += GLASS_MSEC(1)) {
            bool s;
            glass_time_t out = glass_fault_spike(&p, t, &s);
            if (s) {
                stalled += GLASS_MSEC(1);
                if (first == GLASS_TIME_NEVER)
                    first = t;
                assert_true(out > t && out <= first + p.spike_len);
                assert_true(out <= w0 + p.spike_every);
            } else {
                assert_true(out == t);
            }
        }
        assert_true(stalled >= p.spike_len - GLASS_MSEC(1) &&
                    stalled <= p.spike_len + GLASS_MSEC(1));
    }
    /* The schedule depends on the seed alone. */
    struct glass_fault_params q = p;
    q.seed = 100;
    unsigned differ = 0;
    for (glass_time_t t = 0; t < GLASS_SEC(100); t += GLASS_MSEC(10)) {
        bool a, b;
        differ += glass_fault_spike(&p, t, &a) != glass_fault_spike(&q, t, &b);
    }
    assert_true(differ > 0);
}

static void test_fault_deterministic(void **state)
{
    (void)state;
    struct glass_fault_params p = params();
    p.loss = 0.1;
    p.dup = 0.1;
    p.reorder = 0.1;
    p.corrupt = 0.1;
    p.jitter = GLASS_MSEC(3);
    p.rate_bps = 50000000;
    p.queue_pkts = 20;
    struct glass_fault_dir a, b, c;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    glass_fault_dir_init(&a, p.seed, 0, 1);
    glass_fault_dir_init(&b, p.seed, 0, 1);
    glass_fault_dir_init(&c, p.seed, 1, 0); /* the other direction: its own stream */
    unsigned same_other = 0;
    for (int i = 0; i < 2000; i++) {
        glass_time_t now = GLASS_SEC(1) + (glass_time_t)i * 100000;
        struct glass_fault_verdict va, vb, vc;
        glass_fault_decide(&a, &p, now, 1000, 100000, &va);
        glass_fault_decide(&b, &p, now, 1000, 100000, &vb);
        glass_fault_decide(&c, &p, now, 1000, 100000, &vc);
        assert_int_equal(va.fate, vb.fate);
        assert_int_equal(va.n_copies, vb.n_copies);
        for (unsigned k = 0; k < va.n_copies; k++) {
            assert_true(va.copy[k].arrive == vb.copy[k].arrive);
            assert_true(va.copy[k].corrupt_bit == vb.copy[k].corrupt_bit);
            assert_int_equal(va.copy[k].reorder_k, vb.copy[k].reorder_k);
        }
        same_other += va.fate == vc.fate && va.n_copies == vc.n_copies &&
                      (va.n_copies == 0 || va.copy[0].arrive == vc.copy[0].arrive);
    }
    assert_true(same_other < 2000);
    glass_fault_dir_fini(&a);
    glass_fault_dir_fini(&b);
    glass_fault_dir_fini(&c);
}

/* ---- the simnet between two stacks ----------------------------------------------------------- */

struct obs {
    struct glass_simnet *net;
    int client_node;
    uint64_t last_id[2]; /* per direction: highest original id delivered so far */
    unsigned delivered, dup, corrupt, reordered, overtaken, spiked;
    unsigned late_over_rto; /* copies that took longer than 200 ms */
    glass_time_t last_at[2];
    glass_time_t min_gap[2]; /* smallest spacing of data deliveries per direction, scaled to
                                1500-byte packets */
};

static void obs_tap(void *ctx, const struct glass_sim_packet *p, enum glass_sim_pkt_event what)
{
    struct obs *o = ctx;
    if (what != GLASS_SIM_DELIVERED)
        return;
    int dir = p->from == o->client_node ? 0 : 1;
    o->delivered++;
    o->dup += (p->flags & GLASS_SIM_PKT_DUP) != 0;
    o->corrupt += (p->flags & GLASS_SIM_PKT_CORRUPT) != 0;
    o->spiked += (p->flags & GLASS_SIM_PKT_SPIKED) != 0;
    if (p->flags & GLASS_SIM_PKT_DUP)
        assert_int_equal(p->dup_of, p->id - 1);
    uint64_t orig = (p->flags & GLASS_SIM_PKT_DUP) ? p->dup_of : p->id;
    if (p->flags & GLASS_SIM_PKT_REORDERED) {
        o->reordered++;
        if (orig < o->last_id[dir])
            o->overtaken++; /* a later packet of its direction arrived first */
    } else if ((p->flags & GLASS_SIM_PKT_DUP) == 0) {
        /* In-order copies keep send order among themselves. */
        assert_true(orig > o->last_id[dir]);
    }
    if (orig > o->last_id[dir])
        o->last_id[dir] = orig;
    glass_time_t now = glass_simnet_now(o->net);
    if (now - p->sent_at > GLASS_MSEC(200))
        o->late_over_rto++;
    /* The spacing behind a packet is at least its own serialization time; scaled to a
     * 1500-byte packet so that one bound fits short segments too (a Nagle tail, say). */
    if (p->len > 200 && o->last_at[dir] != 0) {
        glass_time_t gap = (now - o->last_at[dir]) * 1500u / p->len;
        if (gap < o->min_gap[dir])
            o->min_gap[dir] = gap;
    }
    if (p->len > 200)
        o->last_at[dir] = now;
}

struct xfer {
    struct glass_stack *st[2];
    int fd[2], lfd;
    uint64_t sent, got;
    bool eof;
    uint8_t buf[65536];
};

static void xfer_app(void *ctx, struct glass_simnet *net, int node, const struct glass_event *ev)
{
    struct xfer *x = ctx;
    (void)net;
    if (node == 1 && ev->kind == GLASS_EV_ACCEPTABLE && x->fd[1] < 0)
        x->fd[1] = glass_accept(x->st[1], x->lfd, NULL);
    if (node == 0 && x->fd[0] >= 0) {
        while (x->sent < 300000) {
            uint8_t chunk[4096];
            for (size_t i = 0; i < sizeof chunk; i++)
                chunk[i] = (uint8_t)((x->sent + i) * 7u + ((x->sent + i) >> 9));
            size_t n = 300000 - x->sent < sizeof chunk ? (size_t)(300000 - x->sent) : sizeof chunk;
            long r = glass_send(x->st[0], x->fd[0], chunk, n, 0);
            if (r <= 0)
                break;
            x->sent += (uint64_t)r;
        }
    }
    if (node == 1 && x->fd[1] >= 0 && !x->eof) {
        for (;;) {
            long r = glass_recv(x->st[1], x->fd[1], x->buf, sizeof x->buf, 0);
            if (r <= 0)
                break;
            for (long i = 0; i < r; i++) {
                uint64_t k = x->got + (uint64_t)i;
                assert_int_equal(x->buf[i], (uint8_t)(k * 7u + (k >> 9)));
            }
            x->got += (uint64_t)r;
        }
    }
}

/* 300 kB client -> server over a simnet with cfg; returns the trace hash. */
static uint64_t transfer(const struct glass_simnet_config *cfg, struct obs *o,
                         uint64_t drops[GLASS_DROP_COUNT], bool expect_done)
{
    struct xfer *x = calloc(1, sizeof *x);
    assert_non_null(x);
    memset(o, 0, sizeof *o);
    o->min_gap[0] = o->min_gap[1] = GLASS_TIME_NEVER;
    struct glass_simnet *net = glass_simnet_new(cfg);
    assert_non_null(net);
    o->net = net;
    for (int s = 0; s < 2; s++) {
        struct glass_config c;
        glass_config_default(&c);
        c.seed = 1000 + (uint64_t)s;
        x->st[s] = glass_stack_new(&c);
        assert_non_null(x->st[s]);
        assert_int_equal(glass_simnet_attach(net, x->st[s], GLASS_IP4(192, 0, 2, 1 + s)), s);
        glass_simnet_set_app(net, s, xfer_app, x);
        x->fd[s] = -1;
    }
    o->client_node = 0;
    glass_simnet_set_tap(net, obs_tap, o);
    x->lfd = glass_socket(x->st[1]);
    assert_int_equal(glass_bind(x->st[1], x->lfd, &(struct glass_endpoint){0, 80}), 0);
    assert_int_equal(glass_listen(x->st[1], x->lfd, 4), 0);
    x->fd[0] = glass_socket(x->st[0]);
    glass_connect(x->st[0], x->fd[0], &(struct glass_endpoint){GLASS_IP4(192, 0, 2, 2), 80});
    glass_simnet_run_for(net, GLASS_SEC(600));
    if (expect_done)
        assert_int_equal(x->got, 300000);
    else
        assert_int_equal(x->got, 0);
    for (int d = 0; d < GLASS_DROP_COUNT; d++)
        drops[d] = glass_stack_drops(x->st[0], d) + glass_stack_drops(x->st[1], d);
    uint64_t h = glass_simnet_trace_hash(net);
    struct glass_simnet_stats ls;
    glass_simnet_stats(net, &ls);
    assert_int_equal(ls.delivered, o->delivered);
    assert_int_equal(ls.dropped,
                     ls.filtered + ls.lost + ls.queue_drops + ls.link_full + ls.no_route);
    glass_simnet_free(net);
    glass_stack_free(x->st[0]);
    glass_stack_free(x->st[1]);
    free(x);
    return h;
}

static void test_simnet_corruption_caught(void **state)
{
    (void)state;
    struct glass_simnet_config c;
    glass_simnet_config_default(&c);
    c.seed = 5;
    c.corrupt = 0.05;
    struct obs o;
    uint64_t drops[GLASS_DROP_COUNT];
    transfer(&c, &o, drops, true); /* every byte checked by xfer_app */
    assert_true(o.corrupt > 5);
    /* Every corrupted copy was thrown away, by a checksum or a header check (other drops,
     * e.g. a duplicate of a retransmitted segment, are the protocol's business). */
    static const int bad[] = {GLASS_DROP_PKT_TOO_SMALL, GLASS_DROP_IP_INHDR, GLASS_DROP_IP_CSUM,
                              GLASS_DROP_TCP_CSUM, GLASS_DROP_TCP_HDR, GLASS_DROP_TCP_FLAGS,
                              GLASS_DROP_TCP_PORT0};
    uint64_t dropped = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        dropped += drops[bad[i]];
    assert_int_equal(dropped, o.corrupt);
    assert_true(drops[GLASS_DROP_TCP_CSUM] + drops[GLASS_DROP_IP_CSUM] > 0);

    /* Everything corrupted: not even the handshake gets through. */
    c.corrupt = 1.0;
    transfer(&c, &o, drops, false);
    assert_int_equal(o.corrupt, o.delivered);
}

static void test_simnet_dup_reorder(void **state)
{
    (void)state;
    struct glass_simnet_config c;
    glass_simnet_config_default(&c);
    c.seed = 6;
    c.dup = 0.2;
    struct obs o;
    uint64_t drops[GLASS_DROP_COUNT];
    transfer(&c, &o, drops, true);
    assert_true(o.dup > 20);

    glass_simnet_config_default(&c);
    c.seed = 7;
    c.reorder = 0.2;
    c.reorder_max = 4;
    transfer(&c, &o, drops, true);
    assert_true(o.reordered > 20);
    assert_true(o.overtaken > o.reordered / 2); /* most are overtaken, the rest hit the deadline */
}

static void test_simnet_bottleneck_and_spikes(void **state)
{
    (void)state;
    struct glass_simnet_config c;
    glass_simnet_config_default(&c);
    c.seed = 8;
    c.rate_bps = 10000000; /* a 1500-byte packet every 1.2 ms */
    c.queue_pkts = 30;
    struct obs o;
    uint64_t drops[GLASS_DROP_COUNT];
    transfer(&c, &o, drops, true);
    assert_true(o.min_gap[0] >= 1200000 - 1);

    glass_simnet_config_default(&c);
    c.seed = 9;
    c.rate_bps = 2000000; /* slow, so the transfer spans several spikes */
    c.spike_every = GLASS_MSEC(500);
    c.spike_len = GLASS_MSEC(300);
    transfer(&c, &o, drops, true);
    assert_true(o.spiked > 0);
    assert_true(o.late_over_rto > 0); /* held longer than the 200 ms minimum RTO */
}

static void test_simnet_same_seed_same_hash(void **state)
{
    (void)state;
    struct glass_simnet_config c;
    glass_simnet_config_default(&c);
    c.seed = 10;
    c.loss = 0.05;
    c.dup = 0.05;
    c.reorder = 0.1;
    c.corrupt = 0.02;
    c.jitter = GLASS_MSEC(4);
    c.rate_bps = 30000000;
    c.queue_pkts = 40;
    c.spike_every = GLASS_SEC(1);
    c.spike_len = GLASS_MSEC(250);
    struct obs o;
    uint64_t drops[GLASS_DROP_COUNT];
    uint64_t h1 = transfer(&c, &o, drops, true);
    uint64_t h2 = transfer(&c, &o, drops, true);
    assert_true(h1 == h2);
    c.seed = 11;
    uint64_t h3 = transfer(&c, &o, drops, true);
    assert_true(h3 != h1);
}

static void test_simnet_config_checked(void **state)
{
    (void)state;
    struct glass_simnet_config c;
    glass_simnet_config_default(&c);
    assert_int_equal(c.reorder_max, 3);
    assert_int_equal(c.mtu, 1500);
    c.loss = 1.5;
    assert_null(glass_simnet_new(&c));
    glass_simnet_config_default(&c);
    c.spike_every = GLASS_MSEC(10);
    c.spike_len = GLASS_MSEC(20);
    assert_null(glass_simnet_new(&c));
    glass_simnet_config_default(&c);
    c.mtu = 40;
    assert_null(glass_simnet_new(&c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_order),
        cmocka_unit_test(test_link_retime_spare_capacity),
        cmocka_unit_test(test_fault_params_check),
        cmocka_unit_test(test_fault_each_knob),
        cmocka_unit_test(test_fault_bottleneck),
        cmocka_unit_test(test_fault_spikes),
        cmocka_unit_test(test_fault_deterministic),
        cmocka_unit_test(test_simnet_corruption_caught),
        cmocka_unit_test(test_simnet_dup_reorder),
        cmocka_unit_test(test_simnet_bottleneck_and_spikes),
        cmocka_unit_test(test_simnet_same_seed_same_hash),
        cmocka_unit_test(test_simnet_config_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
