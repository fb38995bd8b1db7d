/* glasstcp scenario tests — leaving SYN_RCVD other than by the handshake: arcs 9-11 of
 * STATE-MACHINE.md (RFC 9293 §3.10.7.4 "SYN-RECEIVED STATE", §3.10.4). */
#include "fixture.h"

#include <string.h>

#define MS(x) GLASS_MSEC(x)
#define SEC(x) GLASS_SEC(x)

#define TH_S GLASS_TH_SYN
#define TH_A GLASS_TH_ACK
#define TH_R GLASS_TH_RST
#define TH_F GLASS_TH_FIN

/* Both sides connect() at the same virtual time: client 192.0.2.1:5000 <-> 192.0.2.2:6000.
 * After 15 ms the SYNs have crossed (10 ms) and both SYN,ACKs are in flight: both SYN_RCVD. */
static void simultaneous_syn_rcvd(struct fx *fx, int *cfd, int *sfd)
{
    fx_start(fx);
    *cfd = fx_connect(fx, FX_CLIENT, 5000, FX_SERVER_ADDR, 6000);
    *sfd = fx_connect(fx, FX_SERVER, 6000, FX_CLIENT_ADDR, 5000);
    fx_run_for(fx, MS(15));
    FX_ASSERT_STATE(fx, FX_CLIENT, *cfd, GLASS_TCP_SYN_RCVD);
    FX_ASSERT_STATE(fx, FX_SERVER, *sfd, GLASS_TCP_SYN_RCVD);
}

/* Arc 9: close() in SYN_RCVD (reached by simultaneous open) -> FIN_WAIT_1, and a FIN (seq 1)
 * goes out (at once or, like Linux, once the handshake's ACK arrived: either is allowed). The
 * peer gets it (CLOSE_WAIT) and acknowledges it (FIN_WAIT_2). */
static void test_syn_rcvd_app_close_fin_wait_1(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    simultaneous_syn_rcvd(fx, &cfd, &sfd);
    glass_time_t tc = fx_now(fx);
    size_t m = fx_mark(fx);
    fx_close(fx, FX_CLIENT, cfd);

    FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_CLOSED, GLASS_TCP_SYN_SENT, GLASS_CAUSE_APP_CONNECT);
    FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_SYN_SENT, GLASS_TCP_SYN_RCVD, GLASS_CAUSE_RCV_SYN);
    const struct fx_trans *t = FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_SYN_RCVD,
                                               GLASS_TCP_FIN_WAIT_1, GLASS_CAUSE_APP_CLOSE);
    FX_CHECK(fx, t->t.at == tc, "FIN_WAIT_1 at close() time");
    FX_CHECK(fx, glass_stack_in_state(fx_st(fx, FX_CLIENT), GLASS_TCP_FIN_WAIT_1) == 1,
             "client connection in FIN_WAIT_1");

    fx_run_for(fx, MS(200));
    FX_ASSERT_NO_TRANS(fx, FX_CLIENT, GLASS_TCP_SYN_RCVD, GLASS_TCP_ESTABLISHED);
    const struct fx_pkt *fin = fx_find_pkt(fx, m, FX_CLIENT, TH_F, 0);
    FX_CHECK(fx, fin != NULL, "the client sent a FIN");
    FX_CHECK(fx, fin->flags == (TH_F | TH_A) && fin->rseq == 1 && fin->rack == 1 && fin->len == 0,
             "FIN is F. seq 1 ack 1 len 0 (flags %#x seq %u ack %u len %u)", fin->flags, fin->rseq,
             fin->rack, fin->len);
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_CLIENT, TH_R, 0) == 0, "no RST from the client");

    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_SYN_RCVD, GLASS_TCP_ESTABLISHED,
                    GLASS_CAUSE_RCV_ACK_OF_SYN);
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_ESTABLISHED, GLASS_TCP_CLOSE_WAIT, GLASS_CAUSE_RCV_FIN);
    FX_ASSERT_STATE(fx, FX_SERVER, sfd, GLASS_TCP_CLOSE_WAIT);
    FX_CHECK(fx, fx_find_event(fx, FX_SERVER, GLASS_EV_RDHUP, sfd) != NULL, "server RDHUP");
    char b[4];
    FX_ASSERT_RET(glass_recv(fx_st(fx, FX_SERVER), sfd, b, sizeof b, 0), 0);
    FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_FIN_WAIT_1, GLASS_TCP_FIN_WAIT_2,
                    GLASS_CAUSE_RCV_ACK_OF_FIN);

    /* And the close completes normally. */
    fx_close(fx, FX_SERVER, sfd);
    fx_run_for(fx, MS(100));
    FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_FIN_WAIT_2, GLASS_TCP_TIME_WAIT, GLASS_CAUSE_RCV_FIN);
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_CLOSE_WAIT, GLASS_TCP_LAST_ACK, GLASS_CAUSE_APP_CLOSE);
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_LAST_ACK, GLASS_TCP_CLOSED,
                    GLASS_CAUSE_RCV_ACK_OF_FIN);
}

/* Arc 10: an RST reaches a passively opened child in SYN_RCVD. The client closes in SYN_SENT
 * while its SYN is in flight; the server's SYN,ACK then finds no connection and the client
 * stack answers <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.1). The child's history ends
 * SYN_RCVD -> LISTEN; the listener is still in LISTEN and accepts the next connection. */
static void test_syn_rcvd_rcv_rst_listen_passive(void **state)
{
    struct fx *fx = *state;
    fx_start(fx);
    fx->lfd = fx_listen(fx, FX_SERVER, FX_SERVER_PORT, false);
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    glass_time_t t0 = fx_now(fx);
    size_t m = fx_mark(fx);
    int cfd = fx_connect(fx, FX_CLIENT, 0, FX_SERVER_ADDR, FX_SERVER_PORT);
    fx_run_for(fx, MS(5));
    fx_close(fx, FX_CLIENT, cfd); /* SYN_SENT -> CLOSED; the SYN is still on the link */
    fx_run_for(fx, MS(60));

    FX_ASSERT_PKT(fx, m, FX_CLIENT, 0, TH_S, 0, FX_ANY, 0);
    const struct fx_pkt *sa = FX_ASSERT_PKT(fx, m, FX_SERVER, 0, TH_S | TH_A, 0, 1, 0);
    const struct fx_pkt *r = FX_ASSERT_PKT(fx, m, FX_CLIENT, 1, TH_R, 1, FX_ANY, 0);
    FX_CHECK(fx, sa->at == t0 + MS(10) && r->at == t0 + MS(20), "SYN,ACK at 10 ms, RST at 20 ms");

    const struct fx_trans *tc = FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_LISTEN,
                                                GLASS_TCP_SYN_RCVD, GLASS_CAUSE_RCV_SYN);
    uint32_t child = tc->t.conn;
    const struct fx_trans *last = fx_last_trans(fx, FX_SERVER, child);
    FX_CHECK(fx, last && last->t.from == GLASS_TCP_SYN_RCVD && last->t.to == GLASS_TCP_LISTEN &&
                     last->t.cause == GLASS_CAUSE_RCV_RST,
             "the child's history ends SYN_RCVD -> LISTEN rcv_rst");
    FX_CHECK(fx, last->t.at == t0 + MS(30), "when the RST arrived");
    FX_CHECK(fx, last->t.has_seg && (last->t.seg_flags & TH_R), "caused by the RST");
    FX_CHECK(fx, fx_count_trans(fx, FX_SERVER, child, FX_ANY, FX_ANY, FX_ANY) == 2,
             "child: two transitions only");
    FX_ASSERT_STATE(fx, FX_SERVER, fx->lfd, GLASS_TCP_LISTEN);
    FX_CHECK(fx, glass_stack_in_state(fx_st(fx, FX_SERVER), GLASS_TCP_SYN_RCVD) == 0,
             "no child left in SYN_RCVD");
    FX_CHECK(fx, glass_stack_in_state(fx_st(fx, FX_SERVER), GLASS_TCP_LISTEN) == 1,
             "only the listener in LISTEN");
    FX_ASSERT_RET(glass_accept(fx_st(fx, FX_SERVER), fx->lfd, NULL), -GLASS_EAGAIN);
    FX_CHECK(fx, fx_find_event(fx, FX_SERVER, GLASS_EV_ERROR, FX_ANY) == NULL,
             "no error for the listener");
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpAttemptFails, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpPassiveOpens, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpOutRsts, 1);

    /* The dead child does not retransmit its SYN,ACK. */
    fx_run_for(fx, SEC(5));
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_SERVER, 0, 0) == 1, "server sent %zu packets, want 1",
             fx_count_pkts(fx, m, FX_SERVER, 0, 0));

    int c2, s2;
    fx_connect_accept(fx, &c2, &s2);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpPassiveOpens, 2);
}

/* Arc 11 (rcv_rst, active open): an acceptable RST (SEQ = RCV.NXT) reaches the client in
 * SYN_RCVD after a simultaneous open: CLOSED, "connection refused" (RFC 9293 §3.10.7.4),
 * -ECONNREFUSED by event and SO_ERROR, TcpAttemptFails. The SYN,ACK still in flight then finds
 * no connection and is answered <SEQ=SEG.ACK><CTL=RST>. */
static void test_syn_rcvd_rcv_rst_closed_econnrefused_active(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    simultaneous_syn_rcvd(fx, &cfd, &sfd);
    uint32_t s_iss;
    FX_CHECK(fx, fx_flow_iss(fx, FX_SERVER_ADDR, 6000, FX_CLIENT_ADDR, 5000, &s_iss),
             "server SYN seen");
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    size_t m = fx_mark(fx);
    glass_time_t tr = fx_now(fx);
    fx_inject(fx, FX_CLIENT,
              &FX_SEG(.saddr = FX_SERVER_ADDR, .sport = 6000, .daddr = FX_CLIENT_ADDR,
                      .dport = 5000, .seq = s_iss + 1, .flags = TH_R));

    const struct fx_trans *t = fx_find_trans(fx, FX_CLIENT, FX_ANY, GLASS_TCP_SYN_RCVD,
                                             GLASS_TCP_CLOSED, GLASS_CAUSE_RCV_RST, 0);
    FX_CHECK(fx, t != NULL, "client SYN_RCVD -> CLOSED rcv_rst");
    FX_CHECK(fx, t->t.at == tr, "at once");
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_CLOSED);
    FX_ASSERT_EVENT_ERR(fx, FX_CLIENT, cfd, -GLASS_ECONNREFUSED);
    int e = fx_so_error(fx, FX_CLIENT, cfd);
    FX_CHECK(fx, e == GLASS_ECONNREFUSED, "SO_ERROR = %d, want ECONNREFUSED", e);
    FX_CHECK(fx, fx_so_error(fx, FX_CLIENT, cfd) == 0, "SO_ERROR cleared");
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpAttemptFails, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpEstabResets, 0);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpOutRsts, 0);
    FX_ASSERT_NO_PKT(fx, m, FX_CLIENT); /* no answer to an RST */

    fx_run_for(fx, MS(100));
    FX_ASSERT_NO_TRANS(fx, FX_CLIENT, GLASS_TCP_SYN_RCVD, GLASS_TCP_ESTABLISHED);
    FX_CHECK(fx, fx_find_event(fx, FX_CLIENT, GLASS_EV_CONNECTED, cfd) == NULL, "never connected");
    /* The server's SYN,ACK (ack = client ISS + 1) arrives at 20 ms: RST seq 1, no ACK bit. */
    FX_ASSERT_PKT(fx, m, FX_CLIENT, 0, TH_R, 1, FX_ANY, 0);
    FX_ASSERT_STATE(fx, FX_SERVER, sfd, GLASS_TCP_CLOSED);
    const struct fx_trans *sl = fx_last_trans(fx, FX_SERVER, FX_ANY);
    FX_CHECK(fx, sl && sl->t.to == GLASS_TCP_CLOSED && sl->t.cause == GLASS_CAUSE_RCV_RST,
             "server reset by the client's RST");
}

/* Arc 11 (synack_timeout): the SYN,ACK and the client's SYN retransmissions are all lost.
 * synack_retries = 2, rto_initial = 1 s: SYN,ACKs at 10 ms, 1.01 s, 3.01 s, then the child goes
 * SYN_RCVD -> CLOSED synack_timeout at 7.01 s. The listener carries on. */
static void test_syn_rcvd_synack_timeout_closed(void **state)
{
    struct fx *fx = *state;
    fx->cfg[FX_SERVER].synack_retries = 2;
    fx->cfg[FX_SERVER].rto_initial = SEC(1);
    fx_start(fx);
    fx->lfd = fx_listen(fx, FX_SERVER, FX_SERVER_PORT, false);
    fx_drop(fx, FX_SERVER, 0, 0, -1);
    fx_add_rule(fx, FX_RULE(.from = FX_CLIENT, .set = TH_S, .skip = 1, .count = -1));
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    glass_time_t t0 = fx_now(fx);
    size_t m = fx_mark(fx);
    fx_connect(fx, FX_CLIENT, 0, FX_SERVER_ADDR, FX_SERVER_PORT);
    fx_run_for(fx, SEC(10));

    static const glass_time_t at[3] = {MS(10), MS(1010), MS(3010)};
    for (size_t i = 0; i < 3; i++) {
        const struct fx_pkt *p = FX_ASSERT_PKT(fx, m, FX_SERVER, i, TH_S | TH_A, 0, 1, 0);
        FX_CHECK(fx, p->at == t0 + at[i], "SYN,ACK #%zu at %.3f s, want %.3f s", i,
                 (double)(p->at - t0) / 1e9, (double)at[i] / 1e9);
    }
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_SERVER, 0, 0) == 3, "3 SYN,ACKs (got %zu)",
             fx_count_pkts(fx, m, FX_SERVER, 0, 0));
    const struct fx_trans *tc = FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_LISTEN,
                                                GLASS_TCP_SYN_RCVD, GLASS_CAUSE_RCV_SYN);
    const struct fx_trans *t = FX_EXPECT_TRANS_CONN(fx, FX_SERVER, tc->t.conn, GLASS_TCP_SYN_RCVD,
                                                    GLASS_TCP_CLOSED, GLASS_CAUSE_SYNACK_TIMEOUT);
    FX_CHECK(fx, t->t.at == t0 + MS(7010), "child closed at %.3f s, want 7.010 s",
             (double)(t->t.at - t0) / 1e9);
    FX_ASSERT_STATE(fx, FX_SERVER, fx->lfd, GLASS_TCP_LISTEN);
    FX_CHECK(fx, glass_stack_in_state(fx_st(fx, FX_SERVER), GLASS_TCP_SYN_RCVD) == 0,
             "no child left");
    FX_ASSERT_RET(glass_accept(fx_st(fx, FX_SERVER), fx->lfd, NULL), -GLASS_EAGAIN);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpExtTCPSynRetrans, 2);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpRetransSegs, 2);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpAttemptFails, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpOutRsts, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_syn_rcvd_app_close_fin_wait_1),
        FX_TEST(test_syn_rcvd_rcv_rst_listen_passive),
        FX_TEST(test_syn_rcvd_rcv_rst_closed_econnrefused_active),
        FX_TEST(test_syn_rcvd_synack_timeout_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
