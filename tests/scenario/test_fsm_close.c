/* glasstcp scenario tests — closing: arcs 12-26 of STATE-MACHINE.md, resets, aborts, timeouts,
 * TIME_WAIT, and the reply to a segment for no connection (RFC 9293 §3.6, §3.10.4, §3.10.7). */
#include "fixture.h"

#include <string.h>

#define MS(x) GLASS_MSEC(x)
#define SEC(x) GLASS_SEC(x)

#define TH_S GLASS_TH_SYN
#define TH_A GLASS_TH_ACK
#define TH_R GLASS_TH_RST
#define TH_F GLASS_TH_FIN

#define TWO_MSL SEC(60)

static struct glass_stack *CS(struct fx *fx)
{
    return fx_st(fx, FX_CLIENT);
}

static struct glass_stack *SS(struct fx *fx)
{
    return fx_st(fx, FX_SERVER);
}

static double secs(glass_time_t dt)
{
    return (double)(int64_t)dt / 1e9;
}

/* Arcs 12, 15, 19, 23 (client) and 13, 24, 26 (server): the normal close, client first.
 *   c>s F. 1:1        ESTABLISHED -> FIN_WAIT_1 (app_close)
 *   s>c .  1:2        server ESTABLISHED -> CLOSE_WAIT; client FIN_WAIT_1 -> FIN_WAIT_2
 *   s>c F. 1:2        server CLOSE_WAIT -> LAST_ACK (app_close)
 *   c>s .  2:2        client FIN_WAIT_2 -> TIME_WAIT; server LAST_ACK -> CLOSED
 * and TIME_WAIT -> CLOSED exactly 60 s (2*MSL) after it was entered. */
static void test_established_app_close_fin_wait_time_wait_2msl(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    size_t m = fx_mark(fx);
    glass_time_t t1 = fx_now(fx);
    fx_close(fx, FX_CLIENT, cfd);
    FX_CHECK(fx, glass_stack_in_state(CS(fx), GLASS_TCP_FIN_WAIT_1) == 1, "client in FIN_WAIT_1");
    FX_ASSERT_PKT(fx, m, FX_CLIENT, 0, TH_F | TH_A, 1, 1, 0);

    fx_run_for(fx, MS(50));
    FX_ASSERT_PKT(fx, m, FX_SERVER, 0, TH_A, 1, 2, 0);
    const struct fx_trans *a = FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_ESTABLISHED,
                                               GLASS_TCP_FIN_WAIT_1, GLASS_CAUSE_APP_CLOSE);
    const struct fx_trans *b = FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_FIN_WAIT_1,
                                               GLASS_TCP_FIN_WAIT_2, GLASS_CAUSE_RCV_ACK_OF_FIN);
    const struct fx_trans *c = FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_ESTABLISHED,
                                               GLASS_TCP_CLOSE_WAIT, GLASS_CAUSE_RCV_FIN);
    FX_CHECK(fx, a->t.at == t1 && c->t.at == t1 + MS(10) && b->t.at == t1 + MS(20),
             "times: FIN_WAIT_1 at 0, CLOSE_WAIT at 10 ms, FIN_WAIT_2 at 20 ms");
    FX_CHECK(fx, glass_stack_in_state(CS(fx), GLASS_TCP_FIN_WAIT_2) == 1, "client in FIN_WAIT_2");
    FX_ASSERT_STATE(fx, FX_SERVER, sfd, GLASS_TCP_CLOSE_WAIT);
    FX_CHECK(fx, fx_find_event(fx, FX_SERVER, GLASS_EV_RDHUP, sfd) != NULL, "RDHUP on the server");
    char buf[8];
    FX_ASSERT_RET(glass_recv(SS(fx), sfd, buf, sizeof buf, 0), 0);
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_ANY, 0, 0) == 2, "two segments so far");

    size_t m2 = fx_mark(fx);
    glass_time_t t2 = fx_now(fx);
    fx_close(fx, FX_SERVER, sfd);
    fx_run_for(fx, MS(100));
    FX_ASSERT_PKT(fx, m2, FX_SERVER, 0, TH_F | TH_A, 1, 2, 0);
    FX_ASSERT_PKT(fx, m2, FX_CLIENT, 0, TH_A, 2, 2, 0);
    FX_CHECK(fx, fx_count_pkts(fx, m2, FX_ANY, 0, 0) == 2, "two segments");
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_CLOSE_WAIT, GLASS_TCP_LAST_ACK, GLASS_CAUSE_APP_CLOSE);
    const struct fx_trans *la = FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_LAST_ACK, GLASS_TCP_CLOSED,
                                                GLASS_CAUSE_RCV_ACK_OF_FIN);
    const struct fx_trans *tw = FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_FIN_WAIT_2,
                                                GLASS_TCP_TIME_WAIT, GLASS_CAUSE_RCV_FIN);
    FX_CHECK(fx, tw->t.at == t2 + MS(10) && la->t.at == t2 + MS(20), "TIME_WAIT at 10, CLOSED at 20");
    glass_time_t tw_at = tw->t.at;
    FX_CHECK(fx, glass_stack_in_state(CS(fx), GLASS_TCP_TIME_WAIT) == 1, "client in TIME_WAIT");

    fx_run_until(fx, tw_at + TWO_MSL - 1);
    FX_CHECK(fx, glass_stack_in_state(CS(fx), GLASS_TCP_TIME_WAIT) == 1,
             "still TIME_WAIT 1 ns before 2MSL");
    fx_run_until(fx, tw_at + TWO_MSL + SEC(1));
    const struct fx_trans *cl = FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_TIME_WAIT,
                                                GLASS_TCP_CLOSED, GLASS_CAUSE_TIMEOUT_2MSL);
    FX_CHECK(fx, cl->t.at == tw_at + TWO_MSL, "TIME_WAIT lasted %.9f s, want 60 s",
             secs(cl->t.at - tw_at));
    FX_CHECK(fx, glass_stack_in_state(CS(fx), GLASS_TCP_TIME_WAIT) == 0, "TIME_WAIT gone");
    FX_CHECK(fx, fx_count_pkts(fx, m2, FX_ANY, 0, 0) == 2, "TIME_WAIT is silent");
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_ANY, TH_R, 0) == 0, "no RST");

    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpExtTW, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpEstabResets, 0);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpEstabResets, 0);
    FX_ASSERT_MIB(fx, FX_CLIENT, GLASS_MIB_TcpCurrEstab, 0);
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpCurrEstab, 0);
}

/* Arcs 13, 24, 26 on the passive side: the server sends "hello" and closes; the client gets
 * ESTABLISHED -> CLOSE_WAIT, recv returns the 5 bytes and then 0; its close() sends F. and its
 * LAST_ACK ends on the ACK of that FIN. */
static void test_close_wait_app_close_last_ack_closed(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    size_t m = fx_mark(fx);
    fx_send_all(fx, FX_SERVER, sfd, "hello", 5);
    fx_close(fx, FX_SERVER, sfd);
    fx_run_for(fx, MS(100));

    FX_ASSERT_PKT(fx, m, FX_SERVER, 0, TH_A, 1, 1, 5);
    FX_ASSERT_PKT(fx, m, FX_SERVER, 1, TH_F | TH_A, 6, 1, 0);
    const struct fx_pkt *ack = fx_find_pkt(fx, m, FX_CLIENT, TH_A, TH_F | TH_R | TH_S);
    FX_CHECK(fx, ack != NULL, "client ACKs");
    const struct fx_pkt *last = NULL;
    for (size_t i = 0; fx_nth_pkt(fx, m, FX_CLIENT, i); i++)
        last = fx_nth_pkt(fx, m, FX_CLIENT, i);
    FX_CHECK(fx, last->flags == TH_A && last->rseq == 1 && last->rack == 7,
             "client's last ACK is . 1:7 (got flags %#x seq %u ack %u)", last->flags, last->rseq,
             last->rack);
    FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_ESTABLISHED, GLASS_TCP_CLOSE_WAIT, GLASS_CAUSE_RCV_FIN);
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_CLOSE_WAIT);
    FX_CHECK(fx, fx_find_event(fx, FX_CLIENT, GLASS_EV_READABLE, cfd) != NULL, "READABLE");
    FX_CHECK(fx, fx_find_event(fx, FX_CLIENT, GLASS_EV_RDHUP, cfd) != NULL, "RDHUP");

    char buf[64];
    FX_ASSERT_RET(glass_recv(CS(fx), cfd, buf, sizeof buf, 0), 5);
    FX_CHECK(fx, memcmp(buf, "hello", 5) == 0, "data");
    FX_ASSERT_RET(glass_recv(CS(fx), cfd, buf, sizeof buf, 0), 0);
    FX_ASSERT_RET(glass_recv(CS(fx), cfd, buf, sizeof buf, 0), 0);
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_ESTABLISHED, GLASS_TCP_FIN_WAIT_1, GLASS_CAUSE_APP_CLOSE);
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_FIN_WAIT_1, GLASS_TCP_FIN_WAIT_2,
                    GLASS_CAUSE_RCV_ACK_OF_FIN);

    size_t m2 = fx_mark(fx);
    glass_time_t t2 = fx_now(fx);
    fx_close(fx, FX_CLIENT, cfd);
    FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_CLOSE_WAIT, GLASS_TCP_LAST_ACK, GLASS_CAUSE_APP_CLOSE);
    FX_CHECK(fx, glass_stack_in_state(CS(fx), GLASS_TCP_LAST_ACK) == 1, "client in LAST_ACK");
    FX_ASSERT_PKT(fx, m2, FX_CLIENT, 0, TH_F | TH_A, 1, 7, 0);
    fx_run_for(fx, MS(100));
    const struct fx_pkt *sack = FX_ASSERT_PKT(fx, m2, FX_SERVER, 0, TH_A, 7, 2, 0);
    FX_CHECK(fx, sack->at == t2 + MS(10), "server ACKs the FIN at once");
    FX_CHECK(fx, fx_count_pkts(fx, m2, FX_ANY, 0, 0) == 2, "two segments");
    const struct fx_trans *lc = FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_LAST_ACK,
                                                GLASS_TCP_CLOSED, GLASS_CAUSE_RCV_ACK_OF_FIN);
    FX_CHECK(fx, lc->t.at == t2 + MS(20), "LAST_ACK ends when the ACK arrives");
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_FIN_WAIT_2, GLASS_TCP_TIME_WAIT, GLASS_CAUSE_RCV_FIN);
    FX_CHECK(fx, glass_stack_in_state(CS(fx), GLASS_TCP_LAST_ACK) == 0 &&
                     glass_stack_in_state(CS(fx), GLASS_TCP_CLOSE_WAIT) == 0,
             "client fully closed");
    FX_ASSERT_MIB(fx, FX_CLIENT, GLASS_MIB_TcpEstabResets, 0);
}

/* Arc 17: FIN_WAIT_1 -> TIME_WAIT when the peer's FIN carries the ACK of our FIN. The server
 * closes inside its RDHUP callback, so its FIN rides on the ACK: exactly three segments. */
static void test_fin_wait_1_rcv_fin_ack_time_wait(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    fx_set_react(fx, FX_SERVER, fx_react_close_on_rdhup);
    size_t m = fx_mark(fx);
    glass_time_t t1 = fx_now(fx);
    fx_close(fx, FX_CLIENT, cfd);
    fx_run_for(fx, MS(100));

    const struct fx_pkt *f1 = FX_ASSERT_PKT(fx, m, FX_CLIENT, 0, TH_F | TH_A, 1, 1, 0);
    const struct fx_pkt *f2 = FX_ASSERT_PKT(fx, m, FX_SERVER, 0, TH_F | TH_A, 1, 2, 0);
    const struct fx_pkt *a3 = FX_ASSERT_PKT(fx, m, FX_CLIENT, 1, TH_A, 2, 2, 0);
    FX_CHECK(fx, f1->at == t1 && f2->at == t1 + MS(10) && a3->at == t1 + MS(20), "timing");
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_ANY, 0, 0) == 3, "exactly 3 segments, got %zu",
             fx_count_pkts(fx, m, FX_ANY, 0, 0));

    FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_ESTABLISHED, GLASS_TCP_FIN_WAIT_1, GLASS_CAUSE_APP_CLOSE);
    const struct fx_trans *t = FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_FIN_WAIT_1,
                                               GLASS_TCP_TIME_WAIT, GLASS_CAUSE_RCV_FIN_ACK);
    FX_CHECK(fx, t->t.at == t1 + MS(20), "TIME_WAIT when the FIN,ACK arrived");
    FX_CHECK(fx, t->t.has_seg && (t->t.seg_flags & (TH_F | TH_A)) == (TH_F | TH_A),
             "caused by the FIN,ACK");
    FX_ASSERT_NO_TRANS(fx, FX_CLIENT, GLASS_TCP_FIN_WAIT_1, GLASS_TCP_FIN_WAIT_2);
    FX_ASSERT_NO_TRANS(fx, FX_CLIENT, GLASS_TCP_FIN_WAIT_1, GLASS_TCP_CLOSING);
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_ESTABLISHED, GLASS_TCP_CLOSE_WAIT, GLASS_CAUSE_RCV_FIN);
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_CLOSE_WAIT, GLASS_TCP_LAST_ACK, GLASS_CAUSE_APP_CLOSE);
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_LAST_ACK, GLASS_TCP_CLOSED, GLASS_CAUSE_RCV_ACK_OF_FIN);
    FX_CHECK(fx, glass_stack_in_state(CS(fx), GLASS_TCP_TIME_WAIT) == 1, "client in TIME_WAIT");
    FX_ASSERT_RET(glass_sock_state(SS(fx), sfd), -GLASS_EBADF);
}

/* Arcs 16 and 21: simultaneous close. Both close() at the same time, the FINs cross, each side
 * goes FIN_WAIT_1 -> CLOSING (rcv_fin, FIN without the ACK of its own) and ACKs; each ACK then
 * takes CLOSING -> TIME_WAIT. Both sides hold TIME_WAIT for 2MSL. */
static void test_fin_wait_1_rcv_fin_closing_time_wait(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    size_t m = fx_mark(fx);
    glass_time_t t1 = fx_now(fx);
    FX_ASSERT_RET(glass_close(CS(fx), cfd), 0);
    FX_ASSERT_RET(glass_close(SS(fx), sfd), 0);
    fx_flush(fx);
    fx_run_for(fx, MS(100));

    for (int side = FX_CLIENT; side <= FX_SERVER; side++) {
        const struct fx_pkt *f = FX_ASSERT_PKT(fx, m, side, 0, TH_F | TH_A, 1, 1, 0);
        const struct fx_pkt *a = FX_ASSERT_PKT(fx, m, side, 1, TH_A, 2, 2, 0);
        FX_CHECK(fx, f->at == t1 && a->at == t1 + MS(10), "%s timing", fx_side_name(side));
        FX_CHECK(fx, fx_count_pkts(fx, m, side, 0, 0) == 2, "%s: two segments",
                 fx_side_name(side));
        FX_EXPECT_TRANS(fx, side, GLASS_TCP_ESTABLISHED, GLASS_TCP_FIN_WAIT_1, GLASS_CAUSE_APP_CLOSE);
        const struct fx_trans *c = FX_EXPECT_TRANS(fx, side, GLASS_TCP_FIN_WAIT_1,
                                                   GLASS_TCP_CLOSING, GLASS_CAUSE_RCV_FIN);
        const struct fx_trans *w = FX_EXPECT_TRANS(fx, side, GLASS_TCP_CLOSING,
                                                   GLASS_TCP_TIME_WAIT, GLASS_CAUSE_RCV_ACK_OF_FIN);
        FX_CHECK(fx, c->t.at == t1 + MS(10) && w->t.at == t1 + MS(20), "%s transition times",
                 fx_side_name(side));
        FX_CHECK(fx, glass_stack_in_state(fx_st(fx, side), GLASS_TCP_TIME_WAIT) == 1,
                 "%s in TIME_WAIT", fx_side_name(side));
    }
    fx_run_until(fx, t1 + MS(20) + TWO_MSL + SEC(1));
    for (int side = FX_CLIENT; side <= FX_SERVER; side++) {
        const struct fx_trans *cl = FX_EXPECT_TRANS(fx, side, GLASS_TCP_TIME_WAIT, GLASS_TCP_CLOSED,
                                                    GLASS_CAUSE_TIMEOUT_2MSL);
        FX_CHECK(fx, cl->t.at == t1 + MS(20) + TWO_MSL, "%s: 2MSL", fx_side_name(side));
        FX_ASSERT_MIB_DELTA(fx, &snap, side, GLASS_MIB_TcpExtTW, 1);
    }
}

/* The client closes, the server application never does. Returns when the client is in
 * FIN_WAIT_2; *fw2_at is when it got there. */
static void orphan_fin_wait_2(struct fx *fx, int *cfd, int *sfd, glass_time_t *fw2_at)
{
    fx_established(fx, cfd, sfd);
    fx_close(fx, FX_CLIENT, *cfd);
    fx_run_for(fx, MS(100));
    const struct fx_trans *t = fx_find_trans(fx, FX_CLIENT, FX_ANY, GLASS_TCP_FIN_WAIT_1,
                                             GLASS_TCP_FIN_WAIT_2, GLASS_CAUSE_RCV_ACK_OF_FIN, 0);
    FX_CHECK(fx, t != NULL, "client reached FIN_WAIT_2");
    *fw2_at = t->t.at;
}

/* Arc 20 (fin_wait_2_timeout): an orphaned FIN_WAIT_2 ends 60 s after it was entered. The server
 * stays in CLOSE_WAIT — its application never closed — and that stays visible. */
static void test_fin_wait_2_timeout_closed_orphan(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    glass_time_t fw2;
    orphan_fin_wait_2(fx, &cfd, &sfd, &fw2);
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    size_t m = fx_mark(fx);

    fx_run_until(fx, fw2 + SEC(60) - MS(1));
    FX_CHECK(fx, glass_stack_in_state(CS(fx), GLASS_TCP_FIN_WAIT_2) == 1,
             "still FIN_WAIT_2 just before 60 s");
    fx_run_until(fx, fw2 + SEC(62));
    const struct fx_trans *t = fx_find_trans(fx, FX_CLIENT, FX_ANY, GLASS_TCP_FIN_WAIT_2,
                                             GLASS_TCP_CLOSED, FX_ANY, 0);
    FX_CHECK(fx, t != NULL, "client left FIN_WAIT_2 for CLOSED");
    FX_CHECK(fx, t->t.cause == GLASS_CAUSE_FIN_WAIT_2_TIMEOUT, "cause %s, want fin_wait_2_timeout",
             glass_tcp_cause_name(t->t.cause));
    FX_CHECK(fx, t->t.at == fw2 + SEC(60), "FIN_WAIT_2 lasted %.6f s, want 60 s",
             secs(t->t.at - fw2));
    FX_ASSERT_NO_TRANS(fx, FX_CLIENT, GLASS_TCP_FIN_WAIT_2, GLASS_TCP_TIME_WAIT);
    FX_CHECK(fx, glass_stack_in_state(CS(fx), GLASS_TCP_FIN_WAIT_2) == 0, "gauge");
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpExtTCPFinWait2Timeout, 1);

    /* The server still sits in CLOSE_WAIT, visibly. */
    FX_ASSERT_STATE(fx, FX_SERVER, sfd, GLASS_TCP_CLOSE_WAIT);
    FX_CHECK(fx, glass_stack_in_state(SS(fx), GLASS_TCP_CLOSE_WAIT) == 1, "server gauge");
    FX_CHECK(fx, fx_find_trans(fx, FX_SERVER, FX_ANY, GLASS_TCP_CLOSE_WAIT, FX_ANY, FX_ANY, 0) == NULL,
             "server never left CLOSE_WAIT");
    struct glass_conn_info ci[4];
    size_t n = glass_stack_conns(SS(fx), ci, 4);
    bool seen = false;
    for (size_t i = 0; i < n && i < 4; i++)
        if (ci[i].state == GLASS_TCP_CLOSE_WAIT && ci[i].remote.addr == FX_CLIENT_ADDR &&
            ci[i].remote.port == fx->cport && ci[i].fd == sfd)
            seen = true;
    FX_CHECK(fx, seen, "glass_stack_conns lists the server's CLOSE_WAIT connection");
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_ANY, 0, 0) == 0, "nothing was sent meanwhile");
}

/* Arc 26 (rcv_rst): after the client's FIN_WAIT_2 timed out, the server finally closes. Its FIN
 * finds no connection and the client stack answers <SEQ=SEG.ACK><CTL=RST>: LAST_ACK -> CLOSED. */
static void test_last_ack_rcv_rst_closed(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    glass_time_t fw2;
    orphan_fin_wait_2(fx, &cfd, &sfd, &fw2);
    fx_run_until(fx, fw2 + SEC(61));
    FX_CHECK(fx, glass_stack_in_state(CS(fx), GLASS_TCP_FIN_WAIT_2) == 0, "client gone");
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    size_t m = fx_mark(fx);
    fx_close(fx, FX_SERVER, sfd);
    fx_run_for(fx, MS(100));

    FX_ASSERT_PKT(fx, m, FX_SERVER, 0, TH_F | TH_A, 1, 2, 0);
    FX_ASSERT_PKT(fx, m, FX_CLIENT, 0, TH_R, 2, FX_ANY, 0);
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_CLOSE_WAIT, GLASS_TCP_LAST_ACK, GLASS_CAUSE_APP_CLOSE);
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_LAST_ACK, GLASS_TCP_CLOSED, GLASS_CAUSE_RCV_RST);
    FX_CHECK(fx, glass_stack_in_state(SS(fx), GLASS_TCP_LAST_ACK) == 0, "server gone");
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpOutRsts, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpEstabResets, 0);
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_SERVER, 0, 0) == 1, "no FIN retransmission after RST");
}

/* TIME_WAIT re-ACK: the client's final ACK is lost, the server (LAST_ACK) retransmits its FIN
 * after its RTO, the client re-ACKs from TIME_WAIT (TcpExtTCPRcvTimeWaitFin) and restarts 2MSL:
 * CLOSED 60 s after the retransmitted FIN arrived, not after the first. */
static void test_time_wait_rcv_fin_reack_restarts_2msl(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    fx_close(fx, FX_CLIENT, cfd);
    fx_run_for(fx, MS(100));
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    fx_add_rule(fx, FX_RULE(.from = FX_CLIENT, .exact = TH_A, .count = 1)); /* lose one pure ACK */
    size_t m = fx_mark(fx);
    fx_close(fx, FX_SERVER, sfd);
    fx_run_for(fx, MS(50));

    FX_ASSERT_PKT(fx, m, FX_SERVER, 0, TH_F | TH_A, 1, 2, 0);
    const struct fx_pkt *lost = FX_ASSERT_PKT(fx, m, FX_CLIENT, 0, TH_A, 2, 2, 0);
    FX_CHECK(fx, lost->dropped, "the final ACK was lost");
    const struct fx_trans *tw = FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_FIN_WAIT_2,
                                                GLASS_TCP_TIME_WAIT, GLASS_CAUSE_RCV_FIN);
    glass_time_t tw_at = tw->t.at;
    FX_CHECK(fx, glass_stack_in_state(SS(fx), GLASS_TCP_LAST_ACK) == 1, "server in LAST_ACK");

    fx_run_for(fx, SEC(5));
    const struct fx_pkt *fin2 = FX_ASSERT_PKT(fx, m, FX_SERVER, 1, TH_F | TH_A, 1, 2, 0);
    FX_CHECK(fx, fin2->delivered, "retransmitted FIN delivered");
    const struct fx_pkt *reack = FX_ASSERT_PKT(fx, m, FX_CLIENT, 1, TH_A, 2, 2, 0);
    FX_CHECK(fx, !reack->dropped && reack->at == fin2->delivered_at,
             "re-ACK sent when the retransmitted FIN arrived");
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_LAST_ACK, GLASS_TCP_CLOSED, GLASS_CAUSE_RCV_ACK_OF_FIN);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpExtTCPRcvTimeWaitFin, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpRetransSegs, 1);
    FX_CHECK(fx, fx_count_trans(fx, FX_CLIENT, FX_ANY, FX_ANY, GLASS_TCP_TIME_WAIT, FX_ANY) == 1,
             "TIME_WAIT is entered once (a re-ACK is not a transition)");

    glass_time_t restart = fin2->delivered_at;
    fx_run_until(fx, tw_at + TWO_MSL + MS(1));
    FX_CHECK(fx, glass_stack_in_state(CS(fx), GLASS_TCP_TIME_WAIT) == 1,
             "still TIME_WAIT 60 s after the first FIN: 2MSL was restarted");
    fx_run_until(fx, restart + TWO_MSL + SEC(1));
    const struct fx_trans *cl = FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_TIME_WAIT,
                                                GLASS_TCP_CLOSED, GLASS_CAUSE_TIMEOUT_2MSL);
    FX_CHECK(fx, cl->t.at == restart + TWO_MSL,
             "CLOSED %.6f s after the retransmitted FIN, want 60 s", secs(cl->t.at - restart));
}

/* Half-close: shutdown(SHUT_WR) sends FIN (ESTABLISHED -> FIN_WAIT_1 app_shutdown_wr, then
 * FIN_WAIT_2); the server, in CLOSE_WAIT, keeps sending and the client still receives it all;
 * send after SHUT_WR is -EPIPE. */
static void test_fin_wait_2_half_close_still_receives(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    size_t m = fx_mark(fx);
    FX_ASSERT_RET(glass_shutdown(CS(fx), cfd, GLASS_SHUT_WR), 0);
    fx_flush(fx);
    FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_ESTABLISHED, GLASS_TCP_FIN_WAIT_1,
                    GLASS_CAUSE_APP_SHUTDOWN_WR);
    FX_ASSERT_PKT(fx, m, FX_CLIENT, 0, TH_F | TH_A, 1, 1, 0);
    FX_ASSERT_RET(glass_send(CS(fx), cfd, "x", 1, 0), -GLASS_EPIPE);
    fx_run_for(fx, MS(50));
    FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_FIN_WAIT_1, GLASS_TCP_FIN_WAIT_2,
                    GLASS_CAUSE_RCV_ACK_OF_FIN);
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_FIN_WAIT_2);
    FX_ASSERT_STATE(fx, FX_SERVER, sfd, GLASS_TCP_CLOSE_WAIT);
    char buf[4096];
    FX_ASSERT_RET(glass_recv(SS(fx), sfd, buf, sizeof buf, 0), 0);

    static const char msg[] = "server keeps talking";
    size_t m2 = fx_mark(fx);
    fx_send_all(fx, FX_SERVER, sfd, msg, 20);
    fx_run_for(fx, MS(50));
    FX_ASSERT_PKT(fx, m2, FX_SERVER, 0, TH_A, 1, 2, 20);
    FX_ASSERT_RET(glass_recv(CS(fx), cfd, buf, sizeof buf, 0), 20);
    FX_CHECK(fx, memcmp(buf, msg, 20) == 0, "half-closed client received the data");
    const struct fx_pkt *ack = fx_find_pkt(fx, m2, FX_CLIENT, TH_A, 0);
    FX_CHECK(fx, ack && ack->rseq == 2 && ack->rack == 21 && ack->len == 0,
             "client ACKs the data from FIN_WAIT_2 (. 2:21)");

    uint8_t big[3000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7 + 3);
    fx_send_all(fx, FX_SERVER, sfd, big, sizeof big);
    fx_run_for(fx, MS(100));
    size_t got = 0;
    long r;
    while ((r = glass_recv(CS(fx), cfd, buf + got, sizeof buf - got, 0)) > 0)
        got += (size_t)r;
    FX_CHECK(fx, got == sizeof big && memcmp(buf, big, sizeof big) == 0,
             "3000 bytes received intact (got %zu, last recv %s)", got, fx_ret_name(r));
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_FIN_WAIT_2);

    fx_close(fx, FX_SERVER, sfd);
    fx_run_for(fx, MS(100));
    FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_FIN_WAIT_2, GLASS_TCP_TIME_WAIT, GLASS_CAUSE_RCV_FIN);
    FX_ASSERT_RET(glass_recv(CS(fx), cfd, buf, sizeof buf, 0), 0);
    FX_ASSERT_RET(glass_send(CS(fx), cfd, "x", 1, 0), -GLASS_EPIPE);
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_ANY, TH_R, 0) == 0, "no RST");
}

/* Arc 14 (rcv_rst): an acceptable RST (SEQ = RCV.NXT) in ESTABLISHED: CLOSED, -ECONNRESET by
 * event and by the next recv; then send gives -EPIPE; TcpEstabResets. No reply to the RST. */
static void test_established_rcv_rst_closed_econnreset(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    struct glass_tcp_info si, ci;
    FX_ASSERT_RET(glass_tcp_info(SS(fx), sfd, &si), 0);
    FX_ASSERT_RET(glass_tcp_info(CS(fx), cfd, &ci), 0);
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    size_t m = fx_mark(fx);
    fx_inject(fx, FX_CLIENT,
              &FX_SEG(.saddr = FX_SERVER_ADDR, .sport = FX_SERVER_PORT, .daddr = FX_CLIENT_ADDR,
                      .dport = fx->cport, .seq = si.snd_nxt, .ack = ci.snd_nxt,
                      .flags = TH_R | TH_A));

    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_CLOSED);
    const struct fx_trans *t = FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_ESTABLISHED,
                                               GLASS_TCP_CLOSED, GLASS_CAUSE_RCV_RST);
    FX_CHECK(fx, t->t.has_seg && (t->t.seg_flags & TH_R) && t->t.seg_seq == si.snd_nxt,
             "the transition records the RST");
    FX_ASSERT_EVENT_ERR(fx, FX_CLIENT, cfd, -GLASS_ECONNRESET);
    char b[8];
    FX_ASSERT_RET(glass_recv(CS(fx), cfd, b, sizeof b, 0), -GLASS_ECONNRESET);
    FX_ASSERT_RET(glass_send(CS(fx), cfd, "x", 1, 0), -GLASS_EPIPE);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpEstabResets, 1);
    FX_ASSERT_MIB(fx, FX_CLIENT, GLASS_MIB_TcpCurrEstab, 0);
    fx_run_for(fx, MS(100));
    FX_ASSERT_NO_PKT(fx, m, FX_CLIENT);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpOutRsts, 0);
}

/* Arc 14 (app_abort): SO_LINGER {1,0} then close(): an RST instead of a FIN, no TIME_WAIT,
 * TcpExtTCPAbortOnData (Linux); the peer gets -ECONNRESET (event and SO_ERROR). */
static void test_established_linger_abort_rst_econnreset(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    size_t m = fx_mark(fx);
    fx_set_linger(fx, FX_SERVER, sfd, 1, 0);
    fx_close(fx, FX_SERVER, sfd);

    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_ESTABLISHED, GLASS_TCP_CLOSED, GLASS_CAUSE_APP_ABORT);
    FX_ASSERT_RST(fx, m, FX_SERVER, 0, 1, 1);
    fx_run_for(fx, MS(100));
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_SERVER, 0, 0) == 1, "only the RST");
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_ANY, TH_F, 0) == 0, "no FIN");
    FX_ASSERT_NO_PKT(fx, m, FX_CLIENT);
    FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_ESTABLISHED, GLASS_TCP_CLOSED, GLASS_CAUSE_RCV_RST);
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_CLOSED);
    FX_ASSERT_EVENT_ERR(fx, FX_CLIENT, cfd, -GLASS_ECONNRESET);
    int e = fx_so_error(fx, FX_CLIENT, cfd);
    FX_CHECK(fx, e == GLASS_ECONNRESET, "SO_ERROR = %d, want ECONNRESET", e);
    FX_CHECK(fx, fx_so_error(fx, FX_CLIENT, cfd) == 0, "SO_ERROR cleared on read");

    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpOutRsts, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpEstabResets, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpEstabResets, 1);
    FX_CHECK(fx, glass_stack_in_state(SS(fx), GLASS_TCP_TIME_WAIT) == 0, "no TIME_WAIT");
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpExtTCPAbortOnData, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpExtTCPAbortOnClose, 0);
}

/* Arc 14 (close_unread): close() with unread data sends RST, not FIN (RFC 9293 §3.10.4, Linux),
 * TcpExtTCPAbortOnClose (Linux); the peer gets -ECONNRESET. */
static void test_established_close_unread_rst(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    fx_send_all(fx, FX_CLIENT, cfd, "xyz", 3);
    fx_run_for(fx, MS(50));
    struct glass_tcp_info si;
    FX_ASSERT_RET(glass_tcp_info(SS(fx), sfd, &si), 0);
    FX_CHECK(fx, si.recv_q == 3, "3 bytes unread on the server (recv_q %u)", si.recv_q);
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    size_t m = fx_mark(fx);
    fx_close(fx, FX_SERVER, sfd);

    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_ESTABLISHED, GLASS_TCP_CLOSED,
                    GLASS_CAUSE_CLOSE_UNREAD);
    FX_ASSERT_RST(fx, m, FX_SERVER, 0, 1, 4);
    fx_run_for(fx, MS(100));
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_ANY, TH_F, 0) == 0, "no FIN");
    FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_ESTABLISHED, GLASS_TCP_CLOSED, GLASS_CAUSE_RCV_RST);
    FX_ASSERT_EVENT_ERR(fx, FX_CLIENT, cfd, -GLASS_ECONNRESET);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpOutRsts, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpExtTCPAbortOnClose, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpExtTCPAbortOnData, 0);
}

/* Data for a connection its application has closed (orphaned FIN_WAIT_2): nobody can read it,
 * so the stack resets (RFC 1122 §4.2.2.13 "if new data is received after CLOSE is called ... SHOULD
 * send a RST", Linux tcp_rcv_state_process), counted in TcpExtTCPAbortOnData (Linux: "RSTs sent: data
 * received after close()", stats.h). The sender, in CLOSE_WAIT, gets the RST: -EPIPE. */
static void test_fin_wait_2_rcv_data_after_close_rst(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    fx_close(fx, FX_SERVER, sfd);
    fx_run_for(fx, MS(50));
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_CLOSE_WAIT);
    FX_CHECK(fx, glass_stack_in_state(SS(fx), GLASS_TCP_FIN_WAIT_2) == 1, "server in FIN_WAIT_2");
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    size_t m = fx_mark(fx);
    fx_send_all(fx, FX_CLIENT, cfd, "bye", 3);
    fx_run_for(fx, MS(50));

    FX_ASSERT_PKT(fx, m, FX_CLIENT, 0, TH_A, 1, 2, 3);
    FX_ASSERT_RST(fx, m, FX_SERVER, 0, 2, FX_ANY);
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_SERVER, 0, 0) == 1, "only the RST");
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_FIN_WAIT_1, GLASS_TCP_FIN_WAIT_2,
                    GLASS_CAUSE_RCV_ACK_OF_FIN);
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_FIN_WAIT_2, GLASS_TCP_CLOSED, FX_ANY);
    FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_CLOSE_WAIT, GLASS_TCP_CLOSED, GLASS_CAUSE_RCV_RST);
    FX_ASSERT_EVENT_ERR(fx, FX_CLIENT, cfd, -GLASS_EPIPE);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpOutRsts, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpExtTCPAbortOnData, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpExtTCPAbortOnClose, 0);
}

/* Arc 25 (rcv_rst): an RST in CLOSE_WAIT gives -EPIPE (Linux tcp_reset()). The client half-closes
 * (server in CLOSE_WAIT), then aborts from FIN_WAIT_2 with SO_LINGER {1,0} (arc 20 app_abort). */
static void test_close_wait_rcv_rst_closed_epipe(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    FX_ASSERT_RET(glass_shutdown(CS(fx), cfd, GLASS_SHUT_WR), 0);
    fx_run_for(fx, MS(50));
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_FIN_WAIT_2);
    FX_ASSERT_STATE(fx, FX_SERVER, sfd, GLASS_TCP_CLOSE_WAIT);
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    size_t m = fx_mark(fx);
    fx_set_linger(fx, FX_CLIENT, cfd, 1, 0);
    fx_close(fx, FX_CLIENT, cfd);

    FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_FIN_WAIT_2, GLASS_TCP_CLOSED, GLASS_CAUSE_APP_ABORT);
    FX_ASSERT_RST(fx, m, FX_CLIENT, 0, 2, 1);
    fx_run_for(fx, MS(100));
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_CLOSE_WAIT, GLASS_TCP_CLOSED, GLASS_CAUSE_RCV_RST);
    FX_ASSERT_STATE(fx, FX_SERVER, sfd, GLASS_TCP_CLOSED);
    FX_ASSERT_EVENT_ERR(fx, FX_SERVER, sfd, -GLASS_EPIPE);
    int e = fx_so_error(fx, FX_SERVER, sfd);
    FX_CHECK(fx, e == GLASS_EPIPE, "SO_ERROR = %d, want EPIPE (32)", e);
    FX_CHECK(fx, fx_so_error(fx, FX_SERVER, sfd) == 0, "SO_ERROR cleared");
    FX_ASSERT_RET(glass_send(SS(fx), sfd, "x", 1, 0), -GLASS_EPIPE);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpEstabResets, 1);
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpCurrEstab, 0);
    FX_ASSERT_NO_PKT(fx, m, FX_SERVER);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpExtTCPAbortOnData, 1);
}

/* Arc 14 (retrans_timeout): the link is cut; with retries2 = 3 the data goes out 4 times with
 * the RTO doubling each time, and one more doubled RTO after the last retransmission the
 * connection gives up: ESTABLISHED -> CLOSED, -ETIMEDOUT, TcpExtTCPAbortOnTimeout. */
static void test_established_retrans_timeout_closed_etimedout(void **state)
{
    struct fx *fx = *state;
    fx->cfg[FX_CLIENT].retries2 = 3;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    fx_partition(fx, true);
    size_t m = fx_mark(fx);
    uint8_t data[100];
    memset(data, 'd', sizeof data);
    fx_send_all(fx, FX_CLIENT, cfd, data, sizeof data);
    fx_run_for(fx, SEC(120));

    glass_time_t at[4];
    for (size_t i = 0; i < 4; i++) {
        const struct fx_pkt *p = FX_ASSERT_PKT(fx, m, FX_CLIENT, i, TH_A, 1, 1, 100);
        at[i] = p->at;
    }
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_CLIENT, 0, 0) == 4 ||
                     (fx_count_pkts(fx, m, FX_CLIENT, 0, 0) == 5 &&
                      (fx_nth_pkt(fx, m, FX_CLIENT, 4)->flags & TH_R)),
             "1 transmission + 3 retransmissions (got %zu packets)",
             fx_count_pkts(fx, m, FX_CLIENT, 0, 0));
    glass_time_t g1 = at[1] - at[0], g2 = at[2] - at[1], g3 = at[3] - at[2];
    FX_CHECK(fx, g1 >= MS(200) && g1 <= SEC(1), "first RTO %.3f s outside [0.2, 1] s", secs(g1));
    FX_CHECK(fx, g2 == 2 * g1 && g3 == 2 * g2, "backoff %.3f, %.3f, %.3f s: want doubling",
             secs(g1), secs(g2), secs(g3));
    const struct fx_trans *t = FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_ESTABLISHED,
                                               GLASS_TCP_CLOSED, GLASS_CAUSE_RETRANS_TIMEOUT);
    FX_CHECK(fx, t->t.at == at[3] + 2 * g3, "gave up %.3f s after the last retransmission, want %.3f",
             secs(t->t.at - at[3]), secs(2 * g3));
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_CLOSED);
    FX_ASSERT_EVENT_ERR(fx, FX_CLIENT, cfd, -GLASS_ETIMEDOUT);
    char b[8];
    FX_ASSERT_RET(glass_recv(CS(fx), cfd, b, sizeof b, 0), -GLASS_ETIMEDOUT);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpExtTCPAbortOnTimeout, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpRetransSegs, 3);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpEstabResets, 1);
    FX_ASSERT_STATE(fx, FX_SERVER, sfd, GLASS_TCP_ESTABLISHED); /* it never knew */
}

/* Arc 18 (rcv_rst): the client half-closes while the server aborts at the same time; the FIN and
 * the RST cross. The client (FIN_WAIT_1) is reset: -ECONNRESET. The FIN finds no connection (the
 * listener answers the ACK-bearing segment with <SEQ=SEG.ACK><CTL=RST>) and that RST finds
 * nothing on the client, which answers nothing. */
static void test_fin_wait_1_rcv_rst_closed_econnreset(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    size_t m = fx_mark(fx);
    fx_set_linger(fx, FX_SERVER, sfd, 1, 0);
    FX_ASSERT_RET(glass_shutdown(CS(fx), cfd, GLASS_SHUT_WR), 0);
    FX_ASSERT_RET(glass_close(SS(fx), sfd), 0);
    fx_flush(fx);
    fx_run_for(fx, MS(100));

    FX_ASSERT_PKT(fx, m, FX_CLIENT, 0, TH_F | TH_A, 1, 1, 0);
    FX_ASSERT_RST(fx, m, FX_SERVER, 0, 1, 1);
    FX_ASSERT_PKT(fx, m, FX_SERVER, 1, TH_R, 1, FX_ANY, 0);
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_CLIENT, 0, 0) == 1, "client sent only its FIN");
    FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_ESTABLISHED, GLASS_TCP_FIN_WAIT_1,
                    GLASS_CAUSE_APP_SHUTDOWN_WR);
    FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_FIN_WAIT_1, GLASS_TCP_CLOSED, GLASS_CAUSE_RCV_RST);
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_ESTABLISHED, GLASS_TCP_CLOSED, GLASS_CAUSE_APP_ABORT);
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_CLOSED);
    FX_ASSERT_EVENT_ERR(fx, FX_CLIENT, cfd, -GLASS_ECONNRESET);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpEstabResets, 0);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpOutRsts, 2);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpOutRsts, 0);
    FX_ASSERT_STATE(fx, FX_SERVER, fx->lfd, GLASS_TCP_LISTEN);
}

/* Arc 22 (retrans_timeout): simultaneous close, then every ACK and every FIN retransmission is
 * lost: both sides sit in CLOSING retransmitting their FIN; as orphans (orphan_retries = 2) they
 * give up after 2 retransmissions and one more doubled RTO. */
static void test_closing_retrans_timeout_closed(void **state)
{
    struct fx *fx = *state;
    fx->cfg[FX_CLIENT].orphan_retries = 2;
    fx->cfg[FX_SERVER].orphan_retries = 2;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    fx_add_rule(fx, FX_RULE(.from = FX_ANY, .clear = TH_F, .count = -1));
    fx_add_rule(fx, FX_RULE(.from = FX_CLIENT, .set = TH_F, .skip = 1, .count = -1));
    fx_add_rule(fx, FX_RULE(.from = FX_SERVER, .set = TH_F, .skip = 1, .count = -1));
    size_t m = fx_mark(fx);
    FX_ASSERT_RET(glass_close(CS(fx), cfd), 0);
    FX_ASSERT_RET(glass_close(SS(fx), sfd), 0);
    fx_flush(fx);
    fx_run_for(fx, SEC(60));

    for (int side = FX_CLIENT; side <= FX_SERVER; side++) {
        FX_EXPECT_TRANS(fx, side, GLASS_TCP_FIN_WAIT_1, GLASS_TCP_CLOSING, GLASS_CAUSE_RCV_FIN);
        glass_time_t at[3] = {0, 0, 0};
        size_t nf = fx_count_pkts(fx, m, side, TH_F, 0);
        FX_CHECK(fx, nf == 3, "%s sent %zu FINs, want 1 + orphan_retries(2)", fx_side_name(side),
                 nf);
        size_t k = 0;
        for (size_t i = 0; k < 3; i++) {
            const struct fx_pkt *p = fx_nth_pkt(fx, m, side, i);
            if (p->flags & TH_F) {
                FX_CHECK(fx, p->rseq == 1 && p->len == 0, "%s FIN #%zu seq %u", fx_side_name(side),
                         k, p->rseq);
                at[k++] = p->at;
            }
        }
        glass_time_t g1 = at[1] - at[0], g2 = at[2] - at[1];
        FX_CHECK(fx, g2 == 2 * g1, "%s backoff %.3f then %.3f s", fx_side_name(side), secs(g1),
                 secs(g2));
        const struct fx_trans *t = FX_EXPECT_TRANS(fx, side, GLASS_TCP_CLOSING, GLASS_TCP_CLOSED,
                                                   GLASS_CAUSE_RETRANS_TIMEOUT);
        FX_CHECK(fx, t->t.at == at[2] + 2 * g2, "%s gave up %.3f s after the last FIN, want %.3f",
                 fx_side_name(side), secs(t->t.at - at[2]), secs(2 * g2));
        FX_ASSERT_NO_TRANS(fx, side, GLASS_TCP_CLOSING, GLASS_TCP_TIME_WAIT);
        FX_ASSERT_MIB_DELTA(fx, &snap, side, GLASS_MIB_TcpExtTCPAbortOnTimeout, 1);
        FX_ASSERT_MIB_DELTA(fx, &snap, side, GLASS_MIB_TcpRetransSegs, 2);
        FX_CHECK(fx, glass_stack_in_state(fx_st(fx, side), GLASS_TCP_CLOSING) == 0, "gauge");
    }
}

/* Arc 26 (retrans_timeout): the server's FIN is never ACKed (everything from the client is
 * lost); orphan_retries = 2: LAST_ACK -> CLOSED after 2 FIN retransmissions. The client, in
 * TIME_WAIT, re-ACKs each retransmitted FIN (TcpExtTCPRcvTimeWaitFin). */
static void test_last_ack_retrans_timeout_closed(void **state)
{
    struct fx *fx = *state;
    fx->cfg[FX_SERVER].orphan_retries = 2;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    fx_close(fx, FX_CLIENT, cfd);
    fx_run_for(fx, MS(100));
    FX_ASSERT_STATE(fx, FX_SERVER, sfd, GLASS_TCP_CLOSE_WAIT);
    fx_drop(fx, FX_CLIENT, 0, 0, -1);
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    size_t m = fx_mark(fx);
    fx_close(fx, FX_SERVER, sfd);
    fx_run_for(fx, SEC(60));

    glass_time_t at[3];
    for (size_t i = 0; i < 3; i++)
        at[i] = FX_ASSERT_PKT(fx, m, FX_SERVER, i, TH_F | TH_A, 1, 2, 0)->at;
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_SERVER, TH_F, 0) == 3, "3 FINs, got %zu",
             fx_count_pkts(fx, m, FX_SERVER, TH_F, 0));
    glass_time_t g1 = at[1] - at[0], g2 = at[2] - at[1];
    FX_CHECK(fx, g2 == 2 * g1, "backoff %.3f then %.3f s", secs(g1), secs(g2));
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_CLOSE_WAIT, GLASS_TCP_LAST_ACK, GLASS_CAUSE_APP_CLOSE);
    const struct fx_trans *t = FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_LAST_ACK, GLASS_TCP_CLOSED,
                                               GLASS_CAUSE_RETRANS_TIMEOUT);
    FX_CHECK(fx, t->t.at == at[2] + 2 * g2, "gave up %.3f s after the last FIN, want %.3f",
             secs(t->t.at - at[2]), secs(2 * g2));
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpExtTCPAbortOnTimeout, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpRetransSegs, 2);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpExtTCPRcvTimeWaitFin, 2);
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_CLIENT, TH_A, TH_F | TH_R) == 3,
             "client ACKed the FIN and re-ACKed both retransmissions");
}

/* RFC 9293 §3.10.7.1: a segment for no connection. ACK bit on -> <SEQ=SEG.ACK><CTL=RST>. */
static void test_closed_rcv_ack_rst_seq_seg_ack(void **state)
{
    struct fx *fx = *state;
    fx_start(fx);
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    size_t m = fx_mark(fx);
    fx_inject(fx, FX_SERVER,
              &FX_SEG(.saddr = FX_CLIENT_ADDR, .sport = 40000, .daddr = FX_SERVER_ADDR, .dport = 81,
                      .seq = 1000, .ack = 5000, .flags = TH_A));
    const struct fx_pkt *r = FX_ASSERT_PKT(fx, m, FX_SERVER, 0, TH_R, 5000, FX_ANY, 0);
    FX_CHECK(fx, r->seq == 5000 && r->s.src.port == 81 && r->s.dst.port == 40000 &&
                     r->s.dst.addr == FX_CLIENT_ADDR,
             "RST <SEQ=SEG.ACK> back to the sender");

    static const char data[10] = "0123456789";
    fx_inject(fx, FX_SERVER,
              &FX_SEG(.saddr = FX_CLIENT_ADDR, .sport = 40000, .daddr = FX_SERVER_ADDR, .dport = 81,
                      .seq = 2000, .ack = 7000, .flags = TH_A | GLASS_TH_PSH, .data = data,
                      .len = sizeof data));
    FX_ASSERT_PKT(fx, m, FX_SERVER, 1, TH_R, 7000, FX_ANY, 0);

    fx_run_for(fx, MS(100));
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_SERVER, 0, 0) == 2, "two RSTs");
    FX_ASSERT_NO_PKT(fx, m, FX_CLIENT); /* the RSTs reach the client stack: no reply */
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpOutRsts, 2);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpOutRsts, 0);
    FX_CHECK(fx, fx->ntrans == 0, "no connection was created");
}

/* §3.10.7.1, ACK bit off -> <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SEG.LEN counting SYN and
 * FIN. */
static void test_closed_rcv_non_ack_rst_ack_seq_plus_len(void **state)
{
    struct fx *fx = *state;
    fx_start(fx);
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    size_t m = fx_mark(fx);
    fx_inject(fx, FX_SERVER,
              &FX_SEG(.saddr = FX_CLIENT_ADDR, .sport = 40001, .daddr = FX_SERVER_ADDR, .dport = 81,
                      .seq = 1000, .flags = TH_S, .mss = 1460));
    const struct fx_pkt *r1 = FX_ASSERT_PKT(fx, m, FX_SERVER, 0, TH_R | TH_A, 0, FX_ANY, 0);
    FX_CHECK(fx, r1->seq == 0 && r1->ack == 1001, "SYN seq 1000: RST,ACK seq 0 ack 1001 (got %u %u)",
             r1->seq, r1->ack);

    static const char data[10] = "abcdefghij";
    fx_inject(fx, FX_SERVER,
              &FX_SEG(.saddr = FX_CLIENT_ADDR, .sport = 40002, .daddr = FX_SERVER_ADDR, .dport = 81,
                      .seq = 2000, .flags = TH_F, .data = data, .len = sizeof data));
    const struct fx_pkt *r2 = FX_ASSERT_PKT(fx, m, FX_SERVER, 1, TH_R | TH_A, 0, FX_ANY, 0);
    FX_CHECK(fx, r2->seq == 0 && r2->ack == 2011,
             "FIN + 10 bytes at seq 2000: RST,ACK seq 0 ack 2011 (got %u %u)", r2->seq, r2->ack);
    fx_run_for(fx, MS(100));
    FX_ASSERT_NO_PKT(fx, m, FX_CLIENT);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpOutRsts, 2);
}

/* §3.10.7.1: "An incoming segment containing a RST is discarded": an RST to nowhere gets
 * nothing. */
static void test_closed_rcv_rst_no_reply(void **state)
{
    struct fx *fx = *state;
    fx_start(fx);
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    size_t m = fx_mark(fx);
    fx_inject(fx, FX_SERVER,
              &FX_SEG(.saddr = FX_CLIENT_ADDR, .sport = 40000, .daddr = FX_SERVER_ADDR, .dport = 81,
                      .seq = 1000, .flags = TH_R));
    fx_inject(fx, FX_SERVER,
              &FX_SEG(.saddr = FX_CLIENT_ADDR, .sport = 40000, .daddr = FX_SERVER_ADDR, .dport = 81,
                      .seq = 1000, .ack = 5000, .flags = TH_R | TH_A));
    fx_run_for(fx, MS(100));
    FX_ASSERT_NO_PKT(fx, m, FX_SERVER);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpOutRsts, 0);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpInSegs, 2);
}

/* §3.10.7.2: an ACK to a listener is bad: <SEQ=SEG.ACK><CTL=RST>; the listener carries on and
 * no child is created. An RST to a listener is ignored. */
static void test_listen_rcv_ack_rst(void **state)
{
    struct fx *fx = *state;
    fx_start(fx);
    int lfd = fx_listen(fx, FX_SERVER, FX_SERVER_PORT, false);
    size_t m = fx_mark(fx);
    fx_inject(fx, FX_SERVER,
              &FX_SEG(.saddr = FX_CLIENT_ADDR, .sport = 40000, .daddr = FX_SERVER_ADDR,
                      .dport = FX_SERVER_PORT, .seq = 1000, .ack = 5000, .flags = TH_A));
    FX_ASSERT_PKT(fx, m, FX_SERVER, 0, TH_R, 5000, FX_ANY, 0);
    fx_inject(fx, FX_SERVER,
              &FX_SEG(.saddr = FX_CLIENT_ADDR, .sport = 40000, .daddr = FX_SERVER_ADDR,
                      .dport = FX_SERVER_PORT, .seq = 1000, .flags = TH_R));
    fx_run_for(fx, MS(100));
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_SERVER, 0, 0) == 1, "only one RST");
    FX_ASSERT_STATE(fx, FX_SERVER, lfd, GLASS_TCP_LISTEN);
    FX_CHECK(fx, glass_stack_in_state(SS(fx), GLASS_TCP_SYN_RCVD) == 0, "no child");
    FX_CHECK(fx, fx_count_trans(fx, FX_SERVER, FX_ANY, FX_ANY, FX_ANY, FX_ANY) == 1,
             "only CLOSED -> LISTEN happened");
}

/* Arc 23 (reused_by_syn): the server closes first and holds TIME_WAIT; a new SYN from the same
 * client port with a higher sequence number takes the 4-tuple over (RFC 9293 MAY-2, RFC 6191,
 * Linux): TIME_WAIT -> CLOSED reused_by_syn, then a new child and an accepted connection. */
static void test_time_wait_rcv_syn_reused_by_syn(void **state)
{
    struct fx *fx = *state;
    fx_start(fx);
    fx->lfd = fx_listen(fx, FX_SERVER, FX_SERVER_PORT, false);
    int cfd = fx_connect(fx, FX_CLIENT, 40000, FX_SERVER_ADDR, FX_SERVER_PORT);
    fx_run_for(fx, MS(50));
    int sfd = glass_accept(SS(fx), fx->lfd, NULL);
    FX_CHECK(fx, sfd >= 0, "accept = %s", fx_ret_name(sfd));
    size_t m = fx_mark(fx);
    fx_close(fx, FX_SERVER, sfd);
    fx_run_for(fx, MS(50));
    fx_close(fx, FX_CLIENT, cfd);
    fx_run_for(fx, MS(50));
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_FIN_WAIT_2, GLASS_TCP_TIME_WAIT, GLASS_CAUSE_RCV_FIN);
    FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_LAST_ACK, GLASS_TCP_CLOSED, GLASS_CAUSE_RCV_ACK_OF_FIN);
    FX_CHECK(fx, glass_stack_in_state(SS(fx), GLASS_TCP_TIME_WAIT) == 1, "server in TIME_WAIT");
    const struct fx_pkt *cfin = fx_find_pkt(fx, m, FX_CLIENT, TH_F, 0);
    FX_CHECK(fx, cfin != NULL, "client FIN seen");
    uint32_t tw_rcv_nxt = cfin->seq + 1;

    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    size_t m2 = fx_mark(fx);
    int c2 = fx_connect(fx, FX_CLIENT, 40000, FX_SERVER_ADDR, FX_SERVER_PORT);
    const struct fx_pkt *syn = FX_ASSERT_PKT(fx, m2, FX_CLIENT, 0, TH_S, 0, FX_ANY, 0);
    FX_CHECK(fx, (int32_t)(syn->seq - tw_rcv_nxt) > 0,
             "precondition: the new ISN %u is above the old RCV.NXT %u (RFC 6528 clock)", syn->seq,
             tw_rcv_nxt);
    FX_CHECK(fx, syn->s.src.port == 40000, "same 4-tuple");
    fx_run_for(fx, MS(100));

    const struct fx_trans *r = FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_TIME_WAIT, GLASS_TCP_CLOSED,
                                               GLASS_CAUSE_REUSED_BY_SYN);
    FX_CHECK(fx, r->t.has_seg && r->t.seg_flags == TH_S && r->t.seg_seq == syn->seq,
             "caused by the new SYN");
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_LISTEN, GLASS_TCP_SYN_RCVD, GLASS_CAUSE_RCV_SYN);
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_SYN_RCVD, GLASS_TCP_ESTABLISHED,
                    GLASS_CAUSE_RCV_ACK_OF_SYN);
    FX_ASSERT_PKT(fx, m2, FX_SERVER, 0, TH_S | TH_A, 0, 1, 0);
    FX_ASSERT_PKT(fx, m2, FX_CLIENT, 1, TH_A, 1, 1, 0);
    FX_ASSERT_STATE(fx, FX_CLIENT, c2, GLASS_TCP_ESTABLISHED);
    struct glass_endpoint peer = {0, 0};
    int s2 = glass_accept(SS(fx), fx->lfd, &peer);
    FX_CHECK(fx, s2 >= 0, "accept = %s", fx_ret_name(s2));
    FX_CHECK(fx, peer.port == 40000, "same client port");
    FX_ASSERT_STATE(fx, FX_SERVER, s2, GLASS_TCP_ESTABLISHED);
    FX_CHECK(fx, glass_stack_in_state(SS(fx), GLASS_TCP_TIME_WAIT) == 0, "TIME_WAIT gone");
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpExtTWRecycled, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpExtTW, 0);
    FX_CHECK(fx, fx_count_pkts(fx, m2, FX_ANY, TH_R, 0) == 0, "no RST");
}

/* Not an arc: RFC 1337 (cfg.rfc1337 default true): an RST in TIME_WAIT is ignored and counted. */
static void test_time_wait_rcv_rst_ignored_rfc1337(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    fx_set_react(fx, FX_SERVER, fx_react_close_on_rdhup);
    fx_close(fx, FX_CLIENT, cfd);
    fx_run_for(fx, MS(100));
    FX_CHECK(fx, glass_stack_in_state(CS(fx), GLASS_TCP_TIME_WAIT) == 1, "client in TIME_WAIT");
    uint32_t s_iss;
    FX_CHECK(fx, fx_flow_iss(fx, FX_SERVER_ADDR, FX_SERVER_PORT, FX_CLIENT_ADDR, fx->cport, &s_iss),
             "server ISS");
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    size_t m = fx_mark(fx);
    fx_inject(fx, FX_CLIENT,
              &FX_SEG(.saddr = FX_SERVER_ADDR, .sport = FX_SERVER_PORT, .daddr = FX_CLIENT_ADDR,
                      .dport = fx->cport, .seq = s_iss + 2, .flags = TH_R));
    fx_run_for(fx, MS(100));
    FX_CHECK(fx, glass_stack_in_state(CS(fx), GLASS_TCP_TIME_WAIT) == 1, "still TIME_WAIT");
    FX_ASSERT_NO_TRANS(fx, FX_CLIENT, GLASS_TCP_TIME_WAIT, GLASS_TCP_CLOSED);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpExtTCPTimeWaitRst, 1);
    FX_ASSERT_NO_PKT(fx, m, FX_CLIENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_established_app_close_fin_wait_time_wait_2msl),
        FX_TEST(test_close_wait_app_close_last_ack_closed),
        FX_TEST(test_fin_wait_1_rcv_fin_ack_time_wait),
        FX_TEST(test_fin_wait_1_rcv_fin_closing_time_wait),
        FX_TEST(test_fin_wait_2_timeout_closed_orphan),
        FX_TEST(test_last_ack_rcv_rst_closed),
        FX_TEST(test_time_wait_rcv_fin_reack_restarts_2msl),
        FX_TEST(test_fin_wait_2_half_close_still_receives),
        FX_TEST(test_established_rcv_rst_closed_econnreset),
        FX_TEST(test_established_linger_abort_rst_econnreset),
        FX_TEST(test_established_close_unread_rst),
        FX_TEST(test_close_wait_rcv_rst_closed_epipe),
        FX_TEST(test_fin_wait_2_rcv_data_after_close_rst),
        FX_TEST(test_established_retrans_timeout_closed_etimedout),
        FX_TEST(test_fin_wait_1_rcv_rst_closed_econnreset),
        FX_TEST(test_closing_retrans_timeout_closed),
        FX_TEST(test_last_ack_retrans_timeout_closed),
        FX_TEST(test_closed_rcv_ack_rst_seq_seg_ack),
        FX_TEST(test_closed_rcv_non_ack_rst_ack_seq_plus_len),
        FX_TEST(test_closed_rcv_rst_no_reply),
        FX_TEST(test_listen_rcv_ack_rst),
        FX_TEST(test_time_wait_rcv_syn_reused_by_syn),
        FX_TEST(test_time_wait_rcv_rst_ignored_rfc1337),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
