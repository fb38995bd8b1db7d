/* glasstcp scenario tests — ephemeral ports (RFC 6056 algorithm 4, docs/synflood.md): spread
 * over the range and not sequential, unique per 4-tuple, EADDRNOTAVAIL when the range is used
 * up, a TIME_WAIT 4-tuple not taken, and the same sequence under the same seed. */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>

#define N 1000

static struct glass_stack *new_stack(uint64_t seed, uint16_t lo, uint16_t hi)
{
    struct glass_config cfg;
    glass_config_default(&cfg);
    cfg.seed = seed;
    cfg.ephemeral_lo = lo;
    cfg.ephemeral_hi = hi;
    struct glass_stack *st = glass_stack_new(&cfg);
    assert_non_null(st);
    assert_true(glass_stack_add_iface(st, FX_CLIENT_ADDR, 24, 1500) >= 0);
    return st;
}

/* connect() an unbound socket to dst: the local port chosen, or the negative error. */
static long connect_port(struct glass_stack *st, uint32_t daddr, uint16_t dport)
{
    int fd = glass_socket(st);
    assert_true(fd >= 0);
    struct glass_endpoint ep = {daddr, dport};
    int r = glass_connect(st, fd, &ep);
    if (r != -GLASS_EINPROGRESS) {
        glass_close(st, fd);
        return r;
    }
    struct glass_endpoint me;
    assert_int_equal(glass_getsockname(st, fd, &me), 0);
    return me.port;
}

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* 1000 connections to one server: distinct ports in the range, increasing by small random
 * steps (never a run of +1s), so the next port cannot be guessed from the last one. */
static void test_same_destination_not_sequential(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack(7, 32768, 60999);
    static uint16_t p[N];
    unsigned plus_one = 0;
    for (int i = 0; i < N; i++) {
        long r = connect_port(st, FX_SERVER_ADDR, 80);
        assert_true(r >= 32768 && r <= 60999);
        p[i] = (uint16_t)r;
        if (i > 0 && p[i] == (uint16_t)(p[i - 1] + 1u))
            plus_one++;
    }
    assert_true(plus_one < N / 4); /* a +1 step has probability 1/8 */
    qsort(p, N, sizeof p[0], cmp_u16);
    for (int i = 1; i < N; i++)
        assert_true(p[i] != p[i - 1]);
    glass_stack_free(st);
}

/* One connection to each of 1000 servers: the starting points are spread over the whole
 * range (16 buckets of ~1765 ports, each expecting 62.5 of them). */
static void test_destinations_spread_over_range(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack(7, 32768, 60999);
    unsigned bucket[16] = {0};
    uint32_t range = 60999 - 32768 + 1;
    for (int i = 0; i < N; i++) {
        long r = connect_port(st, GLASS_IP4(203, 0, 113, (i % 250) + 1), (uint16_t)(1000 + i));
        assert_true(r >= 32768 && r <= 60999);
        bucket[(uint32_t)(r - 32768) * 16u / range]++;
    }
    for (int b = 0; b < 16; b++)
        assert_true(bucket[b] >= 30 && bucket[b] <= 100);
    glass_stack_free(st);
}

/* A range of 16 ports: 16 connections to one server, then EADDRNOTAVAIL; another server can
 * still be reached over the same ports (the 4-tuples differ). */
static void test_exhausted_range_eaddrnotavail(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack(7, 40000, 40015);
    uint32_t seen = 0;
    for (int i = 0; i < 16; i++) {
        long r = connect_port(st, FX_SERVER_ADDR, 80);
        assert_true(r >= 40000 && r <= 40015);
        assert_false(seen & (1u << (r - 40000)));
        seen |= 1u << (r - 40000);
    }
    assert_int_equal(connect_port(st, FX_SERVER_ADDR, 80), -GLASS_EADDRNOTAVAIL);
    long r = connect_port(st, FX_SERVER_ADDR, 81);
    assert_true(r >= 40000 && r <= 40015);
    glass_stack_free(st);
}

/* The same seed gives the same ports; another seed other ones. */
static void test_reproducible_under_seed(void **state)
{
    (void)state;
    struct glass_stack *a = new_stack(42, 32768, 60999), *b = new_stack(42, 32768, 60999),
                       *c = new_stack(43, 32768, 60999);
    unsigned same_ac = 0;
    for (int i = 0; i < 100; i++) {
        uint32_t dst = GLASS_IP4(198, 51, 100, (i % 7) + 1);
        long pa = connect_port(a, dst, 80), pb = connect_port(b, dst, 80),
             pc = connect_port(c, dst, 80);
        assert_int_equal(pa, pb);
        same_ac += pa == pc;
    }
    assert_true(same_ac < 10);
    glass_stack_free(a);
    glass_stack_free(b);
    glass_stack_free(c);
}

/* With one ephemeral port, a connection that ended in TIME_WAIT keeps its 4-tuple: connect()
 * to the same server fails with EADDRNOTAVAIL until 2MSL is over; another server is fine. */
static void test_time_wait_tuple_not_reused(void **state)
{
    struct fx *fx = *state;
    fx->cfg[FX_CLIENT].ephemeral_lo = fx->cfg[FX_CLIENT].ephemeral_hi = 45000;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    fx_close(fx, FX_CLIENT, cfd);
    fx_close(fx, FX_SERVER, sfd);
    fx_run_for(fx, GLASS_MSEC(100));
    FX_CHECK(fx, glass_stack_in_state(fx_st(fx, FX_CLIENT), GLASS_TCP_TIME_WAIT) == 1,
             "client in TIME_WAIT");
    struct glass_stack *st = fx_st(fx, FX_CLIENT);
    int fd = glass_socket(st);
    struct glass_endpoint ep = {FX_SERVER_ADDR, FX_SERVER_PORT};
    FX_ASSERT_RET(glass_connect(st, fd, &ep), -GLASS_EADDRNOTAVAIL);
    ep.port = FX_SERVER_PORT + 1;
    FX_ASSERT_RET(glass_connect(st, fd, &ep), -GLASS_EINPROGRESS);
    fx_run_for(fx, GLASS_SEC(61)); /* the second connect is refused by the server: RST */
    fd = glass_socket(st);
    ep.port = FX_SERVER_PORT;
    FX_ASSERT_RET(glass_connect(st, fd, &ep), -GLASS_EINPROGRESS);
}

/* tw_reuse = 1 (Linux tcp_tw_reuse): with timestamps and the last one over a second old, our
 * TIME_WAIT 4-tuple is taken over by connect() — TIME_WAIT -> CLOSED (reused_by_connect,
 * TcpExtTWRecycled), the new ISN above the old sequence space — and the new connection is
 * accepted by the server. Within the second, or with tw_reuse = 2 towards a non-loopback
 * address (the default), it stays EADDRNOTAVAIL. */
static void tw_reuse_case(struct fx *fx, uint8_t mode, bool want_reuse)
{
    fx->cfg[FX_CLIENT].ephemeral_lo = fx->cfg[FX_CLIENT].ephemeral_hi = 45000;
    fx->cfg[FX_CLIENT].tw_reuse = mode;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    struct glass_tcp_info old;
    FX_ASSERT_RET(glass_tcp_info(fx_st(fx, FX_CLIENT), cfd, &old), 0);
    fx_close(fx, FX_CLIENT, cfd);
    fx_close(fx, FX_SERVER, sfd);
    fx_run_for(fx, GLASS_MSEC(100));
    struct glass_stack *st = fx_st(fx, FX_CLIENT);
    FX_CHECK(fx, glass_stack_in_state(st, GLASS_TCP_TIME_WAIT) == 1, "client in TIME_WAIT");
    int fd = glass_socket(st);
    struct glass_endpoint ep = {FX_SERVER_ADDR, FX_SERVER_PORT};
    FX_ASSERT_RET(glass_connect(st, fd, &ep), -GLASS_EADDRNOTAVAIL); /* too recent */
    fx_run_for(fx, GLASS_MSEC(1500));
    size_t m = fx_mark(fx);
    if (!want_reuse) {
        FX_ASSERT_RET(glass_connect(st, fd, &ep), -GLASS_EADDRNOTAVAIL);
        FX_CHECK(fx, glass_stack_in_state(st, GLASS_TCP_TIME_WAIT) == 1, "TIME_WAIT kept");
        return;
    }
    FX_ASSERT_RET(glass_connect(st, fd, &ep), -GLASS_EINPROGRESS);
    FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_TIME_WAIT, GLASS_TCP_CLOSED,
                    GLASS_CAUSE_REUSED_BY_CONNECT);
    FX_ASSERT_MIB(fx, FX_CLIENT, GLASS_MIB_TcpExtTWRecycled, 1);
    fx_flush(fx);
    const struct fx_pkt *syn = fx_find_pkt(fx, m, FX_CLIENT, GLASS_TH_SYN, GLASS_TH_ACK);
    FX_CHECK(fx, syn != NULL && syn->s.src.port == 45000 &&
                     syn->seq == old.snd_nxt + 1u + 65535u + 2u,
             "SYN from the same port above the old sequence space (seq %u, old snd_nxt %u)",
             syn != NULL ? syn->seq : 0u, old.snd_nxt);
    fx_run_for(fx, GLASS_MSEC(50));
    FX_ASSERT_STATE(fx, FX_CLIENT, fd, GLASS_TCP_ESTABLISHED);
}

static void test_tw_reuse_takes_time_wait_tuple(void **state)
{
    tw_reuse_case(*state, 1, true);
}

static void test_tw_reuse_loopback_only_by_default(void **state)
{
    tw_reuse_case(*state, 2, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_destination_not_sequential),
        cmocka_unit_test(test_destinations_spread_over_range),
        cmocka_unit_test(test_exhausted_range_eaddrnotavail),
        cmocka_unit_test(test_reproducible_under_seed),
        FX_TEST(test_time_wait_tuple_not_reused),
        FX_TEST(test_tw_reuse_takes_time_wait_tuple),
        FX_TEST(test_tw_reuse_loopback_only_by_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
