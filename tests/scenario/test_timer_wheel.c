/* glasstcp scenario tests — the timer wheel's cursor and the freed-block cache (src/core/timer.c,
 * src/core/stack.c), the two structures a stream of short connections leans on:
 * - the earliest deadline, searched a bitmap word at a time from the cursor, is the earliest
 *   of the connections' timers wherever they lie on the wheel;
 * - the wheel's cursor moves only when timers run, so a stack whose timers are all cancelled
 *   in time falls behind the clock; a deadline armed then must still go into its near slot (not
 *   the far heap) and fire on time;
 * - request/response on one connection, driven as an event loop drives a stack, makes no
 *   allocator call once started (it made 4 per transaction while the cursor lagged);
 * - blocks freed by one connection (TCBs, RACK's block, the far heap's and the reclaim FIFO's
 *   smallest arrays) are kept for the next, within the cache's bound, and all given back when
 *   the last connection (TIME-WAIT records included) is gone. */
#include "core/core.h" /* the wheel and the cache */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>

#define MS(x) GLASS_MSEC(x)

/* A stack driven without glass_stack_advance while no timer is due (the wheel never runs, as in
 * a loop that advances only at the next deadline): its cursor stays at 0 while the clock reads
 * 1 s. A SYN's retransmission timer armed then (due at 2 s, beyond one revolution of the
 * stale cursor) goes into a near slot, and a second one armed at 1.5 s does not move the
 * cursor past the first: each SYN is retransmitted when its own timer is due. */
static void test_lagging_cursor(void **state)
{
    (void)state;
    struct glass_stack *st = fx_lone_client(0);
    uint8_t buf[2048];
    struct glass_endpoint to = {.addr = FX_SERVER_ADDR, .port = 80};
    char why[256];

    assert_int_equal(glass_stack_output(st, GLASS_SEC(1), buf, sizeof buf), 0); /* the clock */
    int a = glass_socket(st);
    assert_int_equal(glass_connect(st, a, &to), -GLASS_EINPROGRESS);
    assert_true(glass_stack_output(st, GLASS_SEC(1), buf, sizeof buf) > 0); /* SYN */
    assert_int_equal(st->wheel.count, 1);
    assert_int_equal(st->wheel.far_len, 0); /* near, not in the far heap */
    assert_int_equal(glass_stack_check(st, why, sizeof why), 0);

    assert_int_equal(glass_stack_output(st, GLASS_MSEC(1500), buf, sizeof buf), 0);
    int b = glass_socket(st);
    assert_int_equal(glass_connect(st, b, &to), -GLASS_EINPROGRESS);
    assert_true(glass_stack_output(st, GLASS_MSEC(1500), buf, sizeof buf) > 0);
    assert_int_equal(st->wheel.count, 2);
    assert_int_equal(st->wheel.far_len, 0);
    assert_true(st->wheel.tick <= 2000u); /* not past the first SYN's deadline */
    assert_int_equal(glass_stack_check(st, why, sizeof why), 0);

    assert_int_equal(glass_stack_next_deadline(st), GLASS_SEC(2));
    glass_stack_advance(st, GLASS_SEC(2));
    assert_true(glass_stack_output(st, GLASS_SEC(2), buf, sizeof buf) > 0);
    assert_int_equal(glass_stack_mib(st, GLASS_MIB_TcpRetransSegs), 1);
    assert_int_equal(glass_stack_output(st, GLASS_SEC(2), buf, sizeof buf), 0);
    glass_stack_advance(st, GLASS_MSEC(2500));
    assert_true(glass_stack_output(st, GLASS_MSEC(2500), buf, sizeof buf) > 0);
    assert_int_equal(glass_stack_mib(st, GLASS_MIB_TcpRetransSegs), 2);
    assert_int_equal(glass_stack_check(st, why, sizeof why), 0);
    glass_stack_free(st);
}

/* The earliest deadline is found from the bitmap a word at a time, from the cursor round the
 * wheel (timer.c busy_from), and kept until an entry that may have been it leaves. Connections
 * opened at random times (their SYN retransmission timers back off from 1 s, so deadlines lie
 * in every part of the wheel, across word boundaries and behind the cursor's slot, and some
 * beyond a revolution) while the clock jumps by random steps: after every step the wheel's
 * earliest deadline is exactly the earliest of its connections' timers. */
static void test_next_deadline_search(void **state)
{
    (void)state;
    struct glass_stack *st = fx_lone_client(0);
    uint8_t buf[2048];
    static struct glass_conn_info ci[256];
    char why[256];
    uint64_t rnd = 0x9e3779b97f4a7c15u;
    glass_time_t now = GLASS_SEC(1);
    unsigned opened = 0, compared = 0;
    for (int step = 0; step < 4000; step++) {
        rnd = rnd * 6364136223846793005u + 1442695040888963407u;
        now += (glass_time_t)((rnd >> 33) % 97u) * GLASS_MSEC(1) + (rnd >> 20) % 1000u;
        if (glass_stack_next_deadline(st) <= now)
            glass_stack_advance(st, now);
        if ((rnd >> 40) % 4u == 0 && opened < 200) {
            struct glass_endpoint to = {.addr = FX_SERVER_ADDR, .port = (uint16_t)(1000u + opened)};
            int fd = glass_socket(st);
            assert_true(fd >= 0);
            assert_int_equal(glass_connect(st, fd, &to), -GLASS_EINPROGRESS);
            opened++;
        }
        while (glass_stack_output(st, now, buf, sizeof buf) > 0) {
        }
        size_t n = glass_stack_conns(st, ci, 256);
        assert_true(n <= 256);
        glass_time_t min = GLASS_TIME_NEVER;
        for (size_t i = 0; i < n; i++)
            if (ci[i].timer_at < min)
                min = ci[i].timer_at;
        assert_int_equal(glass_wheel_next(st), min);
        assert_true(glass_stack_next_deadline(st) <= min); /* (the block cache's idle limit too) */
        assert_int_equal(glass_stack_check(st, why, sizeof why), 0);
        compared += min != GLASS_TIME_NEVER;
    }
    assert_true(opened > 100);
    assert_true(compared > 3000);
    assert_true(glass_stack_mib(st, GLASS_MIB_TcpRetransSegs) > 500);
    glass_stack_free(st);
}

/* Counts the stacks' calls to the allocator (rings' first storage included: it is cached too,
 * stack.c glass_blk_kind_size). */
struct counting {
    unsigned long allocs;
};

static void *count_alloc(void *ctx, size_t size)
{
    struct counting *c = ctx;
    c->allocs++;
    return malloc(size);
}

static void count_free(void *ctx, void *p, size_t size)
{
    (void)ctx;
    (void)size;
    free(p);
}

/* One connection after another (one byte each way, the client closes first): from the second
 * on, what a connection frees is kept for the next (the cache holds blocks while the TIME-WAIT
 * records live, within GLASS_BLK_BYTES_MAX), so neither stack calls the allocator at all (the
 * fast path is allocation-free); and when the last record expires the stack holds no more than
 * before the first connection. */
static void test_block_cache(void **state)
{
    struct fx *fx = *state;
    static struct counting counted[FX_NSIDES];
    for (int side = 0; side < FX_NSIDES; side++) {
        counted[side].allocs = 0;
        fx->cfg[side].msl = GLASS_SEC(2);
        fx->cfg[side].allocator.alloc = count_alloc;
        fx->cfg[side].allocator.free = count_free;
        fx->cfg[side].allocator.ctx = &counted[side];
    }
    unsigned long allocs_c = 0, allocs_s = 0;
    int lfd = fx_listen(fx, FX_SERVER, 80, true);
    fx_run_for(fx, MS(100));
    struct glass_stack *c = fx_st(fx, FX_CLIENT), *s = fx_st(fx, FX_SERVER);
    uint64_t base_c = glass_stack_mem_used(c), base_s = glass_stack_mem_used(s);
    uint32_t cached_c = c->blk.bytes, cached_s = s->blk.bytes;
    FX_CHECK(fx, cached_c == 0 && cached_s == 0, "nothing cached before the first connection");
    for (int i = 0; i < 5; i++) {
        int cfd = fx_connect(fx, FX_CLIENT, 0, FX_SERVER_ADDR, 80);
        fx_run_for(fx, MS(100));
        int sfd = glass_accept(s, lfd, NULL);
        FX_CHECK(fx, sfd >= 0, "accept %d: %d", i, sfd);
        if (sfd < 0)
            return;
        uint8_t b = (uint8_t)i, in = 0xff;
        fx_send_all(fx, FX_CLIENT, cfd, &b, 1);
        fx_run_for(fx, MS(100));
        FX_CHECK(fx, glass_recv(s, sfd, &in, 1, 0) == 1 && in == b, "request %d", i);
        fx_send_all(fx, FX_SERVER, sfd, &b, 1);
        fx_run_for(fx, MS(100));
        FX_CHECK(fx, glass_recv(c, cfd, &in, 1, 0) == 1 && in == b, "response %d", i);
        fx_close(fx, FX_CLIENT, cfd);
        fx_run_for(fx, MS(100));
        fx_close(fx, FX_SERVER, sfd);
        fx_run_for(fx, MS(100));
        FX_CHECK_STACKS(fx);
        if (i == 0) {
            cached_c = c->blk.bytes;
            cached_s = s->blk.bytes;
            FX_CHECK(fx, cached_c >= sizeof(struct glass_tcb) + glass_rack_size(GLASS_TXREC_MIN),
                     "client keeps its TCB and RACK block (%u bytes)", cached_c);
            FX_CHECK(fx, cached_s >= sizeof(struct glass_tcb) + glass_rack_size(GLASS_TXREC_MIN),
                     "server keeps its TCB and RACK block (%u bytes)", cached_s);
            allocs_c = counted[FX_CLIENT].allocs;
            allocs_s = counted[FX_SERVER].allocs;
        } else {
            FX_CHECK(fx,
                     counted[FX_CLIENT].allocs == allocs_c && counted[FX_SERVER].allocs == allocs_s,
                     "connection %d: no allocation (client %lu, server %lu more)", i,
                     counted[FX_CLIENT].allocs - allocs_c, counted[FX_SERVER].allocs - allocs_s);
            /* Each connection took what the last one left and left as much: a steady state. */
            FX_CHECK(fx, c->blk.bytes == cached_c && s->blk.bytes == cached_s,
                     "connection %d: cache steady (%u/%u, was %u/%u)", i, c->blk.bytes,
                     s->blk.bytes, cached_c, cached_s);
        }
        FX_CHECK(fx, c->blk.bytes <= GLASS_BLK_BYTES_MAX, "within the bound");
    }
    FX_CHECK(fx, glass_stack_in_state(c, GLASS_TCP_TIME_WAIT) == 5, "five in TIME_WAIT");
    fx_run_for(fx, GLASS_SEC(5)); /* 2 MSL: the records go, and with the last the cache */
    FX_CHECK(fx, glass_stack_in_state(c, GLASS_TCP_TIME_WAIT) == 0, "TIME_WAIT over");
    FX_CHECK(fx, c->blk.bytes == 0 && glass_stack_mem_used(c) == base_c,
             "client holds what it held before (cache %u, %llu vs %llu)", c->blk.bytes,
             (unsigned long long)glass_stack_mem_used(c), (unsigned long long)base_c);
    FX_CHECK(fx, s->blk.bytes == 0 && glass_stack_mem_used(s) == base_s,
             "server holds what it held before (cache %u)", s->blk.bytes);
    FX_CHECK_STACKS(fx);
}

/* Two stacks joined directly, driven the way the bench and an event loop drive them: the clock
 * moves, packets go across as soon as a stack has them, and glass_stack_advance is called only
 * when glass_stack_next_deadline says something is due. */
struct pair {
    struct glass_stack *st[2];
    glass_time_t now;
    uint8_t pkt[2048];
};

static void pair_pump(struct pair *p)
{
    for (int i = 0; i < 2; i++)
        if (glass_stack_next_deadline(p->st[i]) <= p->now)
            glass_stack_advance(p->st[i], p->now);
    for (bool moved = true; moved;) {
        moved = false;
        for (int i = 0; i < 2; i++) {
            long n;
            while ((n = glass_stack_output(p->st[i], p->now, p->pkt, sizeof p->pkt)) > 0) {
                glass_stack_input(p->st[1 - i], p->now, p->pkt, (size_t)n);
                moved = true;
            }
        }
    }
    struct glass_event ev;
    for (int i = 0; i < 2; i++)
        while (glass_stack_next_event(p->st[i], &ev)) {
        }
}

/* Request/response on one connection, one exchange per millisecond for 5 s: after the first
 * exchange neither stack calls the allocator. Each exchange re-arms the retransmission timer
 * and none fires, so the wheel runs only for the reclaim FIFO's deadlines; with its cursor
 * left behind between them, re-arms went through the far heap, which allocated its array when
 * it filled and freed it when it emptied (4 allocator calls per transaction in the bench's rr
 * loop before the cursor caught up). */
static void test_request_response_allocation_free(void **state)
{
    (void)state;
    static struct counting counted[2];
    static struct pair p;
    memset(&p, 0, sizeof p);
    p.now = GLASS_SEC(1);
    static const uint32_t addr[2] = {FX_CLIENT_ADDR, FX_SERVER_ADDR};
    for (int i = 0; i < 2; i++) {
        struct glass_config cfg;
        glass_config_default(&cfg);
        cfg.seed = (uint64_t)i + 1u;
        counted[i] = (struct counting){0};
        cfg.allocator = (struct glass_allocator){count_alloc, count_free, &counted[i]};
        p.st[i] = glass_stack_new(&cfg);
        assert_non_null(p.st[i]);
        assert_int_equal(glass_stack_add_iface(p.st[i], addr[i], 24, 1500), 0);
    }
    struct glass_endpoint ep = {.addr = FX_SERVER_ADDR, .port = 80};
    int lfd = glass_socket(p.st[1]);
    assert_int_equal(glass_bind(p.st[1], lfd, &ep), 0);
    assert_int_equal(glass_listen(p.st[1], lfd, 8), 0);
    int cfd = glass_socket(p.st[0]);
    assert_int_equal(glass_connect(p.st[0], cfd, &ep), -GLASS_EINPROGRESS);
    pair_pump(&p);
    int sfd = glass_accept(p.st[1], lfd, NULL);
    assert_true(sfd >= 0);
    int one = 1;
    glass_setsockopt(p.st[0], cfd, GLASS_SOL_TCP, GLASS_TCP_NODELAY, &one, sizeof one);
    glass_setsockopt(p.st[1], sfd, GLASS_SOL_TCP, GLASS_TCP_NODELAY, &one, sizeof one);
    unsigned long allocs[2] = {0, 0};
    for (int i = 0; i < 5000; i++) {
        uint8_t b = (uint8_t)i, in = 0;
        p.now += GLASS_MSEC(1);
        assert_int_equal(glass_send(p.st[0], cfd, &b, 1, 0), 1);
        pair_pump(&p);
        assert_int_equal(glass_recv(p.st[1], sfd, &in, 1, 0), 1);
        assert_int_equal(in, b);
        assert_int_equal(glass_send(p.st[1], sfd, &b, 1, 0), 1);
        pair_pump(&p);
        assert_int_equal(glass_recv(p.st[0], cfd, &in, 1, 0), 1);
        assert_int_equal(in, b);
        if (i == 0) {
            allocs[0] = counted[0].allocs;
            allocs[1] = counted[1].allocs;
        }
    }
    assert_int_equal(counted[0].allocs - allocs[0], 0); /* client */
    assert_int_equal(counted[1].allocs - allocs[1], 0); /* server */
    char why[256];
    for (int i = 0; i < 2; i++) {
        assert_int_equal(glass_stack_check(p.st[i], why, sizeof why), 0);
        glass_stack_free(p.st[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lagging_cursor),
        cmocka_unit_test(test_next_deadline_search),
        FX_TEST(test_block_cache),
        cmocka_unit_test(test_request_response_allocation_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
