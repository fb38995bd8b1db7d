/* glasstcp scenario tests — arc coverage. Compact versions of the scenarios of test_fsm_open.c,
 * test_fsm_synrcvd.c and test_fsm_close.c, each in its own fixture; the teardown adds the
 * stacks' arc counters (glass_stack_arc_taken) to a total, and the last test asserts that every
 * legal arc of STATE-MACHINE.md was taken at least once and that no illegal arc was refused
 * (TcpExtIllegalArcs == 0). */
#include "fixture.h"

#include <stdio.h>
#include <string.h>

#define MS(x) GLASS_MSEC(x)
#define SEC(x) GLASS_SEC(x)

#define TH_S GLASS_TH_SYN
#define TH_A GLASS_TH_ACK
#define TH_R GLASS_TH_RST
#define TH_F GLASS_TH_FIN

#define MAX_ARCS 64

static uint64_t g_arcs[MAX_ARCS];
static uint64_t g_illegal;
static unsigned g_scenarios;

static int arcs_teardown(void **state)
{
    struct fx *fx = *state;
    if (fx && fx->started) {
        size_t n = glass_tcp_arc_count();
        for (int side = 0; side < FX_NSIDES; side++) {
            for (size_t i = 0; i < n && i < MAX_ARCS; i++)
                g_arcs[i] += glass_stack_arc_taken(fx->st[side], i, -1);
            g_illegal += glass_stack_mib(fx->st[side], GLASS_MIB_TcpExtIllegalArcs);
        }
        g_scenarios++;
    }
    return fx_cm_teardown(state);
}

#define SCN(f) cmocka_unit_test_setup_teardown(f, fx_cm_setup, arcs_teardown)

/* Assert that this scenario took arc (from, to) on some stack. */
#define EXPECT_ARC(fx, from, to) expect_arc_at((fx), (from), (to), __FILE__, __LINE__)
static void expect_arc_at(struct fx *fx, int from, int to, const char *file, int line)
{
    int a = glass_tcp_arc_find(from, to);
    if (a < 0)
        fx_fail_at(fx, file, line, "%s -> %s is not a legal arc", glass_tcp_state_name(from),
                   glass_tcp_state_name(to));
    uint64_t n = glass_stack_arc_taken(fx->st[0], (size_t)a, -1) +
                 glass_stack_arc_taken(fx->st[1], (size_t)a, -1);
    if (n == 0)
        fx_fail_at(fx, file, line, "scenario did not take arc %d: %s -> %s", a + 1,
                   glass_tcp_state_name(from), glass_tcp_state_name(to));
}

/* Arcs 1, 2, 3, 4, 5, 8, 12, 13, 15, 19, 23, 24, 26. */
static void test_established_app_close_normal_arcs(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    fx_close(fx, FX_CLIENT, cfd);
    fx_run_for(fx, MS(50));
    fx_close(fx, FX_SERVER, sfd);
    fx_run_for(fx, MS(50));
    fx_close(fx, FX_SERVER, fx->lfd);
    fx_run_for(fx, SEC(61));
    EXPECT_ARC(fx, GLASS_TCP_CLOSED, GLASS_TCP_LISTEN);
    EXPECT_ARC(fx, GLASS_TCP_CLOSED, GLASS_TCP_SYN_SENT);
    EXPECT_ARC(fx, GLASS_TCP_LISTEN, GLASS_TCP_SYN_RCVD);
    EXPECT_ARC(fx, GLASS_TCP_LISTEN, GLASS_TCP_CLOSED);
    EXPECT_ARC(fx, GLASS_TCP_SYN_SENT, GLASS_TCP_ESTABLISHED);
    EXPECT_ARC(fx, GLASS_TCP_SYN_RCVD, GLASS_TCP_ESTABLISHED);
    EXPECT_ARC(fx, GLASS_TCP_ESTABLISHED, GLASS_TCP_FIN_WAIT_1);
    EXPECT_ARC(fx, GLASS_TCP_ESTABLISHED, GLASS_TCP_CLOSE_WAIT);
    EXPECT_ARC(fx, GLASS_TCP_FIN_WAIT_1, GLASS_TCP_FIN_WAIT_2);
    EXPECT_ARC(fx, GLASS_TCP_FIN_WAIT_2, GLASS_TCP_TIME_WAIT);
    EXPECT_ARC(fx, GLASS_TCP_TIME_WAIT, GLASS_TCP_CLOSED);
    EXPECT_ARC(fx, GLASS_TCP_CLOSE_WAIT, GLASS_TCP_LAST_ACK);
    EXPECT_ARC(fx, GLASS_TCP_LAST_ACK, GLASS_TCP_CLOSED);
}

/* Arc 7: connection refused. */
static void test_syn_sent_rcv_rst_closed(void **state)
{
    struct fx *fx = *state;
    int cfd = fx_connect(fx, FX_CLIENT, 0, FX_SERVER_ADDR, 81);
    fx_run_for(fx, MS(50));
    FX_ASSERT_EVENT_ERR(fx, FX_CLIENT, cfd, -GLASS_ECONNREFUSED);
    EXPECT_ARC(fx, GLASS_TCP_SYN_SENT, GLASS_TCP_CLOSED);
}

/* Arcs 6, 9: simultaneous open, close in SYN_RCVD. */
static void test_syn_rcvd_app_close_fin_wait_1(void **state)
{
    struct fx *fx = *state;
    int cfd = fx_connect(fx, FX_CLIENT, 5000, FX_SERVER_ADDR, 6000);
    int sfd = fx_connect(fx, FX_SERVER, 6000, FX_CLIENT_ADDR, 5000);
    fx_run_for(fx, MS(15));
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_SYN_RCVD);
    fx_close(fx, FX_CLIENT, cfd);
    fx_run_for(fx, MS(200));
    FX_ASSERT_STATE(fx, FX_SERVER, sfd, GLASS_TCP_CLOSE_WAIT);
    EXPECT_ARC(fx, GLASS_TCP_SYN_SENT, GLASS_TCP_SYN_RCVD);
    EXPECT_ARC(fx, GLASS_TCP_SYN_RCVD, GLASS_TCP_FIN_WAIT_1);
}

/* Arc 10: RST to a passive child in SYN_RCVD. */
static void test_syn_rcvd_rcv_rst_listen(void **state)
{
    struct fx *fx = *state;
    fx->lfd = fx_listen(fx, FX_SERVER, FX_SERVER_PORT, false);
    int cfd = fx_connect(fx, FX_CLIENT, 0, FX_SERVER_ADDR, FX_SERVER_PORT);
    fx_run_for(fx, MS(5));
    fx_close(fx, FX_CLIENT, cfd);
    fx_run_for(fx, MS(60));
    FX_ASSERT_STATE(fx, FX_SERVER, fx->lfd, GLASS_TCP_LISTEN);
    EXPECT_ARC(fx, GLASS_TCP_SYN_RCVD, GLASS_TCP_LISTEN);
}

/* Arc 11: SYN,ACK retransmissions exhausted. */
static void test_syn_rcvd_synack_timeout_closed(void **state)
{
    struct fx *fx = *state;
    fx->cfg[FX_SERVER].synack_retries = 1;
    fx->lfd = fx_listen(fx, FX_SERVER, FX_SERVER_PORT, false);
    fx_drop(fx, FX_SERVER, 0, 0, -1);
    fx_add_rule(fx, FX_RULE(.from = FX_CLIENT, .set = TH_S, .skip = 1, .count = -1));
    fx_connect(fx, FX_CLIENT, 0, FX_SERVER_ADDR, FX_SERVER_PORT);
    fx_run_for(fx, SEC(5));
    EXPECT_ARC(fx, GLASS_TCP_SYN_RCVD, GLASS_TCP_CLOSED);
}

/* Arc 14: abort with SO_LINGER {1,0}. */
static void test_established_app_abort_closed(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    fx_set_linger(fx, FX_SERVER, sfd, 1, 0);
    fx_close(fx, FX_SERVER, sfd);
    fx_run_for(fx, MS(50));
    FX_ASSERT_EVENT_ERR(fx, FX_CLIENT, cfd, -GLASS_ECONNRESET);
    EXPECT_ARC(fx, GLASS_TCP_ESTABLISHED, GLASS_TCP_CLOSED);
}

/* Arcs 16, 21: simultaneous close. */
static void test_fin_wait_1_rcv_fin_closing(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    FX_ASSERT_RET(glass_close(fx->st[FX_CLIENT], cfd), 0);
    FX_ASSERT_RET(glass_close(fx->st[FX_SERVER], sfd), 0);
    fx_flush(fx);
    fx_run_for(fx, MS(100));
    EXPECT_ARC(fx, GLASS_TCP_FIN_WAIT_1, GLASS_TCP_CLOSING);
    EXPECT_ARC(fx, GLASS_TCP_CLOSING, GLASS_TCP_TIME_WAIT);
}

/* Arc 17: FIN and ACK of our FIN in one segment. */
static void test_fin_wait_1_rcv_fin_ack_time_wait(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    fx_set_react(fx, FX_SERVER, fx_react_close_on_rdhup);
    fx_close(fx, FX_CLIENT, cfd);
    fx_run_for(fx, MS(100));
    EXPECT_ARC(fx, GLASS_TCP_FIN_WAIT_1, GLASS_TCP_TIME_WAIT);
}

/* Arc 18: RST in FIN_WAIT_1. */
static void test_fin_wait_1_rcv_rst_closed(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    fx_set_linger(fx, FX_SERVER, sfd, 1, 0);
    FX_ASSERT_RET(glass_shutdown(fx->st[FX_CLIENT], cfd, GLASS_SHUT_WR), 0);
    FX_ASSERT_RET(glass_close(fx->st[FX_SERVER], sfd), 0);
    fx_flush(fx);
    fx_run_for(fx, MS(100));
    FX_ASSERT_EVENT_ERR(fx, FX_CLIENT, cfd, -GLASS_ECONNRESET);
    EXPECT_ARC(fx, GLASS_TCP_FIN_WAIT_1, GLASS_TCP_CLOSED);
}

/* Arc 20: orphaned FIN_WAIT_2 times out. */
static void test_fin_wait_2_timeout_closed(void **state)
{
    struct fx *fx = *state;
    fx->cfg[FX_CLIENT].fin_wait_2_timeout = SEC(5);
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    fx_close(fx, FX_CLIENT, cfd);
    fx_run_for(fx, SEC(6));
    FX_ASSERT_STATE(fx, FX_SERVER, sfd, GLASS_TCP_CLOSE_WAIT);
    EXPECT_ARC(fx, GLASS_TCP_FIN_WAIT_2, GLASS_TCP_CLOSED);
}

/* Arc 22: CLOSING gives up. */
static void test_closing_retrans_timeout_closed(void **state)
{
    struct fx *fx = *state;
    fx->cfg[FX_CLIENT].orphan_retries = 1;
    fx->cfg[FX_SERVER].orphan_retries = 1;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    fx_add_rule(fx, FX_RULE(.from = FX_ANY, .clear = TH_F, .count = -1));
    fx_add_rule(fx, FX_RULE(.from = FX_CLIENT, .set = TH_F, .skip = 1, .count = -1));
    fx_add_rule(fx, FX_RULE(.from = FX_SERVER, .set = TH_F, .skip = 1, .count = -1));
    FX_ASSERT_RET(glass_close(fx->st[FX_CLIENT], cfd), 0);
    FX_ASSERT_RET(glass_close(fx->st[FX_SERVER], sfd), 0);
    fx_flush(fx);
    fx_run_for(fx, SEC(30));
    EXPECT_ARC(fx, GLASS_TCP_FIN_WAIT_1, GLASS_TCP_CLOSING);
    EXPECT_ARC(fx, GLASS_TCP_CLOSING, GLASS_TCP_CLOSED);
}

/* Arc 25: RST in CLOSE_WAIT. */
static void test_close_wait_rcv_rst_closed(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    FX_ASSERT_RET(glass_shutdown(fx->st[FX_CLIENT], cfd, GLASS_SHUT_WR), 0);
    fx_run_for(fx, MS(50));
    fx_set_linger(fx, FX_CLIENT, cfd, 1, 0);
    fx_close(fx, FX_CLIENT, cfd);
    fx_run_for(fx, MS(50));
    FX_ASSERT_EVENT_ERR(fx, FX_SERVER, sfd, -GLASS_EPIPE);
    EXPECT_ARC(fx, GLASS_TCP_CLOSE_WAIT, GLASS_TCP_CLOSED);
}

/* Every legal arc was taken at least once over all the scenarios above; none was refused. */
static void test_all_states_every_arc_taken(void **state)
{
    (void)state;
    size_t n = glass_tcp_arc_count();
    assert_int_equal(n, 26);
    assert_true(g_scenarios >= 12);
    unsigned missing = 0;
    for (size_t i = 0; i < n; i++) {
        const struct glass_arc *a = glass_tcp_arc(i);
        assert_non_null(a);
        if (g_arcs[i] == 0) {
            print_error("arc %2zu %-11s -> %-11s never taken\n", i + 1,
                        glass_tcp_state_name(a->from), glass_tcp_state_name(a->to));
            missing++;
        }
    }
    if (missing)
        fail_msg("%u of %zu legal arcs were never taken", missing, n);
    if (g_illegal)
        fail_msg("TcpExtIllegalArcs summed over the stacks = %llu, want 0",
                 (unsigned long long)g_illegal);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SCN(test_established_app_close_normal_arcs),
        SCN(test_syn_sent_rcv_rst_closed),
        SCN(test_syn_rcvd_app_close_fin_wait_1),
        SCN(test_syn_rcvd_rcv_rst_listen),
        SCN(test_syn_rcvd_synack_timeout_closed),
        SCN(test_established_app_abort_closed),
        SCN(test_fin_wait_1_rcv_fin_closing),
        SCN(test_fin_wait_1_rcv_fin_ack_time_wait),
        SCN(test_fin_wait_1_rcv_rst_closed),
        SCN(test_fin_wait_2_timeout_closed),
        SCN(test_closing_retrans_timeout_closed),
        SCN(test_close_wait_rcv_rst_closed),
        cmocka_unit_test(test_all_states_every_arc_taken),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
