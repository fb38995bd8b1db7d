/* glasstcp — protections against hostile input and overload that live in the TCP core:
 * RFC 5961 challenge-ACK limits, the out-of-window ACK rate limit, the TIME_WAIT table cap and
 * the global memory budget (robustness/README.md §2.I, §2.K, §3.1, §6.7). */
#include "fixture.h"

#include <string.h>

#define MS(x) GLASS_MSEC(x)
#define TH_A GLASS_TH_ACK
#define TH_R GLASS_TH_RST
#define TH_S GLASS_TH_SYN

/* Catalogue 83: in-window RSTs that are not exact get a challenge ACK — but at most one per
 * invalid_ratelimit per connection (RFC 5961 §7); the connection survives them all. */
static void test_established_rst_in_window_challenge_ack_rate_limited(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    struct glass_tcp_info ci;
    assert_int_equal(glass_tcp_info(fx_st(fx, FX_CLIENT), cfd, &ci), 0);
    size_t m = fx_mark(fx);
    for (uint32_t i = 1; i <= 10; i++)
        fx_inject(fx, FX_CLIENT,
                  &FX_SEG(.saddr = FX_SERVER_ADDR, .sport = FX_SERVER_PORT,
                          .daddr = FX_CLIENT_ADDR, .dport = fx->cport, .seq = ci.rcv_nxt + i * 100u,
                          .flags = TH_R));
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_ESTABLISHED);
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_CLIENT, TH_A, 0) == 1, "one challenge ACK, got %zu",
             fx_count_pkts(fx, m, FX_CLIENT, TH_A, 0));
    FX_CHECK(fx, fx_mib(fx, FX_CLIENT, GLASS_MIB_TcpExtTCPChallengeACK) == 1, "counted");
    FX_CHECK(fx, fx_mib(fx, FX_CLIENT, GLASS_MIB_TcpExtTCPChallengeACKLimited) == 9, "limited");
    /* half a second later the next one is answered again */
    fx_run_for(fx, MS(600));
    m = fx_mark(fx);
    fx_inject(fx, FX_CLIENT,
              &FX_SEG(.saddr = FX_SERVER_ADDR, .sport = FX_SERVER_PORT, .daddr = FX_CLIENT_ADDR,
                      .dport = fx->cport, .seq = ci.rcv_nxt + 5u, .flags = TH_R));
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_CLIENT, TH_A, 0) == 1, "challenge ACK after 600 ms");
    /* and the exact RST still resets */
    fx_inject(fx, FX_CLIENT,
              &FX_SEG(.saddr = FX_SERVER_ADDR, .sport = FX_SERVER_PORT, .daddr = FX_CLIENT_ADDR,
                      .dport = fx->cport, .seq = ci.rcv_nxt, .flags = TH_R));
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_CLOSED);
}

/* Catalogue 94: out-of-window pure ACKs are answered at most once per 500 ms (Linux
 * tcp_invalid_ratelimit); out-of-window data always gets its duplicate ACK. */
static void test_established_oow_pure_acks_rate_limited(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    struct glass_tcp_info ci;
    assert_int_equal(glass_tcp_info(fx_st(fx, FX_CLIENT), cfd, &ci), 0);
    size_t m = fx_mark(fx);
    for (int i = 0; i < 5; i++)
        fx_inject(fx, FX_CLIENT,
                  &FX_SEG(.saddr = FX_SERVER_ADDR, .sport = FX_SERVER_PORT,
                          .daddr = FX_CLIENT_ADDR, .dport = fx->cport,
                          .seq = ci.rcv_nxt - 5000u, .ack = ci.snd_nxt, .flags = TH_A));
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_CLIENT, TH_A, 0) == 1, "one ACK for five, got %zu",
             fx_count_pkts(fx, m, FX_CLIENT, TH_A, 0));
    m = fx_mark(fx);
    for (int i = 0; i < 3; i++)
        fx_inject(fx, FX_CLIENT,
                  &FX_SEG(.saddr = FX_SERVER_ADDR, .sport = FX_SERVER_PORT,
                          .daddr = FX_CLIENT_ADDR, .dport = fx->cport,
                          .seq = ci.rcv_nxt - 5000u, .ack = ci.snd_nxt, .flags = TH_A,
                          .data = "old", .len = 3));
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_CLIENT, TH_A, 0) == 3, "every old data segment ACKed");
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_ESTABLISHED);
}

/* Catalogue 114: the TIME_WAIT table is bounded (Linux tcp_max_tw_buckets); beyond it a
 * connection that would enter TIME_WAIT is closed at once (cause tw_overflow). */
static void test_time_wait_table_overflow_closes(void **state)
{
    struct fx *fx = *state;
    fx->cfg[FX_CLIENT].max_time_wait = 1;
    int c1, s1, c2, s2;
    fx_established(fx, &c1, &s1);
    fx_connect_accept(fx, &c2, &s2);
    fx_set_react(fx, FX_SERVER, fx_react_close_on_rdhup);
    fx_close(fx, FX_CLIENT, c1);
    fx_run_for(fx, MS(100));
    FX_CHECK(fx, glass_stack_in_state(fx_st(fx, FX_CLIENT), GLASS_TCP_TIME_WAIT) == 1,
             "the first enters TIME_WAIT");
    fx_close(fx, FX_CLIENT, c2);
    fx_run_for(fx, MS(100));
    FX_CHECK(fx, glass_stack_in_state(fx_st(fx, FX_CLIENT), GLASS_TCP_TIME_WAIT) == 1,
             "the table holds one");
    FX_CHECK(fx, fx_count_trans(fx, FX_CLIENT, FX_ANY, GLASS_TCP_TIME_WAIT, GLASS_TCP_CLOSED,
                                GLASS_CAUSE_TW_OVERFLOW) == 1, "the second is not kept");
    FX_CHECK(fx, fx_mib(fx, FX_CLIENT, GLASS_MIB_TcpExtTCPTimeWaitOverflow) == 1, "counted");
    /* The ACK of the peer's FIN still goes out (Linux tcp_fin acks before tcp_time_wait finds
     * no bucket): the server leaves LAST_ACK at once, without resending its FIN. */
    FX_CHECK(fx, fx_count_trans(fx, FX_SERVER, FX_ANY, GLASS_TCP_LAST_ACK, GLASS_TCP_CLOSED,
                                FX_ANY) == 2, "both server ends closed by the last ACK");
    FX_CHECK(fx, fx_mib(fx, FX_SERVER, GLASS_MIB_TcpRetransSegs) == 0, "no FIN resent");
    fx_run_for(fx, GLASS_SEC(61));
    FX_CHECK(fx, glass_stack_in_state(fx_st(fx, FX_CLIENT), GLASS_TCP_TIME_WAIT) == 0, "2MSL later");
}

/* Robustness §6.7 / issue: a global memory budget that the stack never exceeds; beyond it new
 * work is refused cleanly (ENOMEM, dropped SYNs) and service resumes when memory is freed. */
static void test_listen_memory_budget_refuses_then_recovers(void **state)
{
    struct fx *fx = *state;
    /* what an idle stack with these settings takes, plus room for one connection's buffers */
    struct glass_stack *probe = glass_stack_new(&fx->cfg[FX_SERVER]);
    assert_non_null(probe);
    uint64_t base = glass_stack_mem_used(probe);
    glass_stack_free(probe);
    fx->cfg[FX_SERVER].mem_max = base + 200u * 1024u;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    /* fill the server's receive buffer: 128 KiB, leaving too little for another one */
    static uint8_t blob[131072];
    memset(blob, 7, sizeof blob);
    size_t sent = 0;
    for (int i = 0; i < 200 && sent < sizeof blob; i++) {
        long n = glass_send(fx_st(fx, FX_CLIENT), cfd, blob + sent, sizeof blob - sent, 0);
        if (n > 0)
            sent += (size_t)n;
        fx_flush(fx);
        fx_run_for(fx, MS(20));
    }
    struct glass_stack *s = fx_st(fx, FX_SERVER);
    uint64_t nomem_before = glass_stack_drops(s, GLASS_DROP_NOMEM);
    /* a second connection now cannot get its receive buffer (it grows with the data held, and
     * 96 KiB do not fit what is left): its data is dropped, counted, and the connection itself
     * stays consistent */
    int c2, s2;
    fx_connect_accept(fx, &c2, &s2);
    static uint8_t second[98304];
    for (size_t i = 0; i < sizeof second; i++)
        second[i] = (uint8_t)(i * 7u + 1u);
    fx_send_all(fx, FX_CLIENT, c2, second, sizeof second);
    fx_run_for(fx, MS(50));
    FX_CHECK(fx, glass_stack_drops(s, GLASS_DROP_NOMEM) > nomem_before, "refused for memory");
    FX_ASSERT_STATE(fx, FX_SERVER, s2, GLASS_TCP_ESTABLISHED);
    /* read the first connection's data: memory stays allocated (the ring is kept), so close it */
    fx_close(fx, FX_SERVER, sfd);
    fx_run_for(fx, GLASS_SEC(5));
    static uint8_t got[sizeof second];
    size_t have = 0;
    for (long n; have < sizeof got && (n = glass_recv(s, s2, got + have, sizeof got - have, 0)) > 0;)
        have += (size_t)n;
    FX_CHECK(fx, have == sizeof second && memcmp(got, second, sizeof second) == 0,
             "delivered after retransmission: %zu of %zu bytes", have, sizeof second);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_established_rst_in_window_challenge_ack_rate_limited),
        FX_TEST(test_established_oow_pure_acks_rate_limited),
        FX_TEST(test_time_wait_table_overflow_closes),
        FX_TEST(test_listen_memory_budget_refuses_then_recovers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
