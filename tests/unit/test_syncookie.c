/* glasstcp unit tests — the SYN cookie itself (src/core/syncookie.c, docs/synflood.md): every
 * MSS index and option combination round-trips, the TSval never runs ahead of the
 * connection's clock, a cookie lives one to two 64-second ticks, and any changed bit of the
 * cookie, the peer's ISN, the 4-tuple or the option bits is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/core.h"

#include <string.h>

#define US GLASS_IP4(192, 0, 2, 2)
#define PEER GLASS_IP4(198, 51, 100, 9)

static struct glass_stack *new_stack(bool sack, bool ws)
{
    struct glass_config cfg;
    glass_config_default(&cfg);
    cfg.seed = 99;
    cfg.sack = sack;
    cfg.window_scaling = ws;
    struct glass_stack *st = glass_stack_new(&cfg);
    assert_non_null(st);
    assert_true(glass_stack_add_iface(st, US, 24, 1500) >= 0);
    return st;
}

/* Send a cookie for SYN r from PEER:sport and parse the SYN,ACK that went out. */
static void cookie_for(struct glass_stack *st, const struct glass_tcp_repr *syn,
                       struct glass_tcp_repr *synack)
{
    struct glass_tcb l;
    memset(&l, 0, sizeof l);
    l.rb.cap = 131072;
    struct glass_ipv4_repr ip = {.src = PEER, .dst = US, .proto = GLASS_IPV4_PROTO_TCP};
    glass_syncookie_send(st, &l, &ip, syn);
    static uint8_t pkt[2048];
    long n = glass_stack_output(st, st->now, pkt, sizeof pkt);
    assert_true(n > 40);
    assert_int_equal(glass_tcp_parse(pkt + 20, (size_t)n - 20, US, PEER, true, synack),
                     GLASS_DROP_NONE);
    assert_int_equal(synack->flags, GLASS_TH_SYN | GLASS_TH_ACK);
    assert_int_equal(synack->ack, syn->seq + 1u);
}

/* The ACK a well-behaved peer sends back, and the check of it. */
static bool check_ack(struct glass_stack *st, uint16_t sport, uint32_t seq, uint32_t ack,
                      bool ts, uint32_t ecr, struct glass_cookie *out)
{
    struct glass_ipv4_repr ip = {.src = PEER, .dst = US, .proto = GLASS_IPV4_PROTO_TCP};
    struct glass_tcp_repr r = {.src_port = sport, .dst_port = 80, .seq = seq, .ack = ack,
                               .flags = GLASS_TH_ACK, .wscale = -1, .has_ts = ts,
                               .ts_val = 5000, .ts_ecr = ecr};
    return glass_syncookie_check(st, &ip, &r, out);
}

static void test_roundtrip_every_mss_and_option(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack(true, true);
    st->now = GLASS_SEC(1000);
    static const uint16_t peer_mss[] = {0, 100, 536, 1299, 1300, 1439, 1440, 1460, 9000};
    static const uint16_t want_mss[] = {536, 536, 536, 536, 1300, 1300, 1440, 1460, 1460};
    uint32_t n = 0;
    for (size_t i = 0; i < sizeof peer_mss / sizeof peer_mss[0]; i++) {
        for (int ws = -1; ws <= 14; ws++) {
            for (int sack = 0; sack < 2; sack++) {
                for (int ts = 0; ts < 2; ts++) {
                    uint16_t sport = (uint16_t)(1024u + n);
                    uint32_t isn = 0x9e3779b9u * ++n;
                    struct glass_tcp_repr syn = {.src_port = sport, .dst_port = 80, .seq = isn,
                                                 .flags = GLASS_TH_SYN, .mss = peer_mss[i],
                                                 .wscale = (int16_t)ws, .sack_perm = sack,
                                                 .has_ts = ts, .ts_val = 777};
                    struct glass_tcp_repr sa;
                    cookie_for(st, &syn, &sa);
                    assert_int_equal(sa.mss, 1460);
                    assert_int_equal(sa.has_ts, ts);
                    assert_int_equal(sa.sack_perm, ts && sack); /* options need timestamps */
                    assert_int_equal(sa.wscale, ts && ws >= 0 ? 7 : -1);
                    struct glass_cookie ck;
                    assert_true(check_ack(st, sport, isn + 1u, sa.seq + 1u, ts, sa.ts_val, &ck));
                    assert_int_equal(ck.iss, sa.seq);
                    assert_int_equal(ck.peer_isn, isn);
                    assert_int_equal(ck.mss, want_mss[i]);
                    assert_int_equal(ck.ts, ts);
                    assert_int_equal(ck.sack, ts && sack);
                    assert_int_equal(ck.wscale, ts ? ws : -1);
                    if (ts) {
                        /* our clock for the connection is at or just ahead of the TSval */
                        uint32_t clock = (uint32_t)(st->now / GLASS_NSEC_PER_MSEC) + ck.ts_off;
                        assert_true(clock - sa.ts_val < 64u);
                        assert_int_equal(sa.ts_ecr, 777);
                    }
                }
            }
        }
    }
    assert_int_equal(glass_stack_mib(st, GLASS_MIB_TcpExtSyncookiesSent), n);
    glass_stack_free(st);
}

/* Made in tick T: good in T and T + 1, refused from T + 2 on (and before T). */
static void test_cookie_lifetime(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack(true, true);
    glass_time_t t0 = 10u * GLASS_COOKIE_TICK;
    st->now = t0;
    struct glass_tcp_repr syn = {.src_port = 4000, .dst_port = 80, .seq = 1234,
                                 .flags = GLASS_TH_SYN, .mss = 1460, .wscale = -1};
    struct glass_tcp_repr sa;
    cookie_for(st, &syn, &sa);
    struct glass_cookie ck;
    st->now = t0 + GLASS_COOKIE_TICK - 1u;
    assert_true(check_ack(st, 4000, 1235, sa.seq + 1u, false, 0, &ck));
    st->now = t0 + 2u * GLASS_COOKIE_TICK - 1u;
    assert_true(check_ack(st, 4000, 1235, sa.seq + 1u, false, 0, &ck));
    st->now = t0 + 2u * GLASS_COOKIE_TICK;
    assert_false(check_ack(st, 4000, 1235, sa.seq + 1u, false, 0, &ck));
    st->now = t0 + 300u * GLASS_COOKIE_TICK; /* the 8-bit tick wraps: still refused */
    assert_false(check_ack(st, 4000, 1235, sa.seq + 1u, false, 0, &ck));
    st->now = t0 - 1u;
    assert_false(check_ack(st, 4000, 1235, sa.seq + 1u, false, 0, &ck));
    glass_stack_free(st);
}

/* Every single-bit change of the cookie, a different peer ISN or port: refused. */
static void test_tampering_refused(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack(true, true);
    st->now = GLASS_SEC(5000);
    struct glass_tcp_repr syn = {.src_port = 4000, .dst_port = 80, .seq = 1234,
                                 .flags = GLASS_TH_SYN, .mss = 1460, .wscale = 7,
                                 .sack_perm = true, .has_ts = true, .ts_val = 1};
    struct glass_tcp_repr sa;
    cookie_for(st, &syn, &sa);
    struct glass_cookie ck;
    assert_true(check_ack(st, 4000, 1235, sa.seq + 1u, true, sa.ts_val, &ck));
    for (unsigned b = 0; b < 32; b++)
        assert_false(check_ack(st, 4000, 1235, (sa.seq ^ (1u << b)) + 1u, true, sa.ts_val, &ck));
    assert_false(check_ack(st, 4000, 1236, sa.seq + 1u, true, sa.ts_val, &ck));
    assert_false(check_ack(st, 4001, 1235, sa.seq + 1u, true, sa.ts_val, &ck));
    /* the ECN bit is never ours */
    assert_false(check_ack(st, 4000, 1235, sa.seq + 1u, true, sa.ts_val | 0x20u, &ck));
    glass_stack_free(st);
    /* option bits this configuration would never have sent */
    st = new_stack(false, false);
    st->now = GLASS_SEC(5000);
    cookie_for(st, &syn, &sa);
    assert_int_equal(sa.sack_perm, false);
    assert_int_equal(sa.wscale, -1);
    assert_true(check_ack(st, 4000, 1235, sa.seq + 1u, true, sa.ts_val, &ck));
    uint32_t base = sa.ts_val & ~0x3Fu;
    assert_false(check_ack(st, 4000, 1235, sa.seq + 1u, true, base | 0x1Fu, &ck)); /* SACK */
    assert_false(check_ack(st, 4000, 1235, sa.seq + 1u, true, base | 0x07u, &ck)); /* WS 7 */
    glass_stack_free(st);
}

/* Cookies differ across 4-tuples and peer ISNs (no fixed offset an observer could use). */
static void test_cookies_spread(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack(true, true);
    st->now = GLASS_SEC(7);
    uint32_t prev = 0, same_diff = 0, last_diff = 0;
    for (uint16_t p = 0; p < 200; p++) {
        struct glass_tcp_repr syn = {.src_port = (uint16_t)(2000u + p), .dst_port = 80,
                                     .seq = 42, .flags = GLASS_TH_SYN, .wscale = -1};
        struct glass_tcp_repr sa;
        cookie_for(st, &syn, &sa);
        uint32_t d = sa.seq - prev;
        same_diff += p > 1 && d == last_diff;
        last_diff = d;
        prev = sa.seq;
    }
    assert_true(same_diff == 0);
    glass_stack_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_every_mss_and_option),
        cmocka_unit_test(test_cookie_lifetime),
        cmocka_unit_test(test_tampering_refused),
        cmocka_unit_test(test_cookies_spread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
