/* glasstcp scenario tests — opening a connection: arcs 1-8 of STATE-MACHINE.md and their error
 * paths, two stacks over the simulated link (10 ms one way), asserting states, the exact
 * segments on the wire (RFC 9293 §3.5, §3.10.7), errno values and MIB counters. */
#include "fixture.h"

#include <string.h>

#define MS(x) GLASS_MSEC(x)
#define SEC(x) GLASS_SEC(x)

#define TH_S GLASS_TH_SYN
#define TH_A GLASS_TH_ACK
#define TH_R GLASS_TH_RST
#define TH_F GLASS_TH_FIN

static void assert_syn_options(struct fx *fx, const struct fx_pkt *p)
{
    FX_CHECK(fx, p->mss == 1460, "MSS option %u, want 1460", p->mss);
    FX_CHECK(fx, p->win == 65535, "window %u, want 65535 (unscaled)", p->win);
}

static uint64_t arc_taken(struct fx *fx, int side, int from, int to, int cause)
{
    int a = glass_tcp_arc_find(from, to);
    FX_CHECK(fx, a >= 0, "arc %d->%d is not in the legal table", from, to);
    return glass_stack_arc_taken(fx_st(fx, side), (size_t)a, cause);
}

/* Arc 1: CLOSED -> LISTEN on listen(); nothing is sent. */
static void test_closed_listen_listen(void **state)
{
    struct fx *fx = *state;
    size_t m = fx_mark(fx);
    int lfd = fx_listen(fx, FX_SERVER, FX_SERVER_PORT, false);

    FX_ASSERT_STATE(fx, FX_SERVER, lfd, GLASS_TCP_LISTEN);
    const struct fx_trans *t = FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_CLOSED, GLASS_TCP_LISTEN,
                                               GLASS_CAUSE_APP_LISTEN);
    FX_CHECK(fx, !t->t.has_seg, "listen() is not caused by a segment");
    FX_CHECK(fx, glass_sock_conn_id(fx_st(fx, FX_SERVER), lfd) == (long)t->t.conn,
             "conn id of the listener");
    FX_CHECK(fx, glass_stack_in_state(fx_st(fx, FX_SERVER), GLASS_TCP_LISTEN) == 1,
             "one connection in LISTEN");
    FX_CHECK(fx, arc_taken(fx, FX_SERVER, GLASS_TCP_CLOSED, GLASS_TCP_LISTEN,
                           GLASS_CAUSE_APP_LISTEN) == 1, "arc counter CLOSED->LISTEN app_listen");

    struct glass_endpoint ep = {0, 0};
    FX_ASSERT_RET(glass_getsockname(fx_st(fx, FX_SERVER), lfd, &ep), 0);
    FX_CHECK(fx, ep.addr == FX_SERVER_ADDR && ep.port == FX_SERVER_PORT, "getsockname %08x:%u",
             ep.addr, ep.port);
    FX_ASSERT_RET(glass_accept(fx_st(fx, FX_SERVER), lfd, NULL), -GLASS_EAGAIN);

    fx_run_for(fx, SEC(1));
    FX_ASSERT_NO_PKT(fx, m, FX_ANY);
    FX_ASSERT_STATE(fx, FX_SERVER, lfd, GLASS_TCP_LISTEN);
}

/* Arc 2: CLOSED -> SYN_SENT on connect(): -EINPROGRESS and a SYN with MSS 1460, window 65535. */
static void test_closed_connect_syn_sent(void **state)
{
    struct fx *fx = *state;
    fx_start(fx);
    glass_time_t t0 = fx_now(fx);
    size_t m = fx_mark(fx);
    int cfd = fx_connect(fx, FX_CLIENT, 0, FX_SERVER_ADDR, FX_SERVER_PORT);

    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_SYN_SENT);
    const struct fx_trans *t = FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_CLOSED, GLASS_TCP_SYN_SENT,
                                               GLASS_CAUSE_APP_CONNECT);
    FX_CHECK(fx, t->t.at == t0, "transition time");
    const struct fx_pkt *syn = FX_ASSERT_PKT(fx, m, FX_CLIENT, 0, TH_S, 0, FX_ANY, 0);
    assert_syn_options(fx, syn);
    FX_CHECK(fx, syn->at == t0, "SYN sent at once");
    FX_CHECK(fx, syn->s.src.addr == FX_CLIENT_ADDR && syn->s.dst.addr == FX_SERVER_ADDR &&
                     syn->s.dst.port == FX_SERVER_PORT,
             "SYN addresses");
    FX_CHECK(fx, syn->s.src.port >= 32768 && syn->s.src.port <= 60999,
             "ephemeral port %u outside 32768..60999", syn->s.src.port);
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_ANY, 0, 0) == 1, "only the SYN");
    FX_ASSERT_MIB(fx, FX_CLIENT, GLASS_MIB_TcpActiveOpens, 1);
    FX_ASSERT_MIB(fx, FX_CLIENT, GLASS_MIB_TcpOutSegs, 1);
    FX_CHECK(fx, glass_stack_in_state(fx_st(fx, FX_CLIENT), GLASS_TCP_SYN_SENT) == 1, "gauge");
}

/* Arcs 3, 5, 8: the three-way handshake with its exact segments
 *   c>s S  seq 0          <mss 1460> win 65535   t=0
 *   s>c S. seq 0 ack 1    <mss 1460> win 65535   t=10 ms  (child LISTEN -> SYN_RCVD)
 *   c>s .  seq 1 ack 1                          t=20 ms  (client SYN_SENT -> ESTABLISHED)
 * and the child, ESTABLISHED at 30 ms, returned by accept(); the listener stays in LISTEN. */
static void test_listen_rcv_syn_syn_rcvd_then_established(void **state)
{
    struct fx *fx = *state;
    fx_start(fx);
    glass_time_t t0 = fx_now(fx);
    struct glass_stack *cs = fx_st(fx, FX_CLIENT), *ss = fx_st(fx, FX_SERVER);
    int lfd = fx_listen(fx, FX_SERVER, FX_SERVER_PORT, false);
    size_t m = fx_mark(fx);
    int cfd = fx_connect(fx, FX_CLIENT, 0, FX_SERVER_ADDR, FX_SERVER_PORT);

    /* Half way: the SYN arrived (10 ms), the SYN,ACK is on its way back. */
    fx_run_for(fx, MS(15));
    const struct fx_trans *tl = FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_CLOSED, GLASS_TCP_LISTEN,
                                                GLASS_CAUSE_APP_LISTEN);
    const struct fx_trans *tc = FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_LISTEN, GLASS_TCP_SYN_RCVD,
                                                GLASS_CAUSE_RCV_SYN);
    uint32_t listener = tl->t.conn, child = tc->t.conn;
    FX_CHECK(fx, child != listener, "the child is a new connection (listener %u, child %u)",
             listener, child);
    FX_CHECK(fx, tc->t.at == t0 + MS(10), "child created when the SYN arrived");
    FX_CHECK(fx, tc->t.has_seg && tc->t.seg_flags == TH_S, "caused by the SYN");
    FX_ASSERT_STATE(fx, FX_SERVER, lfd, GLASS_TCP_LISTEN);
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_SYN_SENT);
    FX_CHECK(fx, glass_stack_in_state(ss, GLASS_TCP_SYN_RCVD) == 1, "child in SYN_RCVD");
    FX_ASSERT_RET(glass_accept(ss, lfd, NULL), -GLASS_EAGAIN);

    fx_run_for(fx, MS(35));
    const struct fx_pkt *p0 = FX_ASSERT_PKT(fx, m, FX_CLIENT, 0, TH_S, 0, FX_ANY, 0);
    const struct fx_pkt *p1 = FX_ASSERT_PKT(fx, m, FX_SERVER, 0, TH_S | TH_A, 0, 1, 0);
    const struct fx_pkt *p2 = FX_ASSERT_PKT(fx, m, FX_CLIENT, 1, TH_A, 1, 1, 0);
    assert_syn_options(fx, p0);
    assert_syn_options(fx, p1);
    FX_CHECK(fx, p0->at == t0 && p1->at == t0 + MS(10) && p2->at == t0 + MS(20),
             "handshake timing 0 / 10 / 20 ms");
    FX_CHECK(fx, p1->s.dst.port == p0->s.src.port && p1->s.src.port == FX_SERVER_PORT,
             "SYN,ACK ports");
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_ANY, 0, 0) == 3, "exactly three segments");

    const struct fx_trans *te = FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_SYN_SENT,
                                                GLASS_TCP_ESTABLISHED, GLASS_CAUSE_RCV_SYN_ACK);
    FX_CHECK(fx, te->t.at == t0 + MS(20), "client ESTABLISHED when the SYN,ACK arrived");
    FX_CHECK(fx, te->t.has_seg && te->t.seg_flags == (TH_S | TH_A) && te->t.seg_seq == p1->seq &&
                     te->t.seg_ack == p1->ack,
             "transition records the SYN,ACK");
    const struct fx_trans *ts = FX_EXPECT_TRANS_CONN(fx, FX_SERVER, child, GLASS_TCP_SYN_RCVD,
                                                     GLASS_TCP_ESTABLISHED,
                                                     GLASS_CAUSE_RCV_ACK_OF_SYN);
    FX_CHECK(fx, ts->t.at == t0 + MS(30), "child ESTABLISHED when the ACK arrived");
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_ESTABLISHED);
    FX_CHECK(fx, fx_find_event(fx, FX_CLIENT, GLASS_EV_CONNECTED, cfd) != NULL, "CONNECTED event");
    FX_CHECK(fx, fx_find_event(fx, FX_SERVER, GLASS_EV_ACCEPTABLE, lfd) != NULL,
             "ACCEPTABLE event on the listener");

    struct glass_endpoint peer = {0, 0};
    int sfd = glass_accept(ss, lfd, &peer);
    FX_CHECK(fx, sfd >= 0, "accept = %s", fx_ret_name(sfd));
    FX_ASSERT_STATE(fx, FX_SERVER, sfd, GLASS_TCP_ESTABLISHED);
    FX_ASSERT_STATE(fx, FX_SERVER, lfd, GLASS_TCP_LISTEN);
    FX_CHECK(fx, peer.addr == FX_CLIENT_ADDR && peer.port == p0->s.src.port, "accept peer");
    FX_CHECK(fx, glass_sock_conn_id(ss, sfd) == (long)child, "accepted socket is the child");
    FX_ASSERT_RET(glass_accept(ss, lfd, NULL), -GLASS_EAGAIN);

    struct glass_transition h[8];
    long n = glass_conn_history(ss, child, h, 8);
    FX_CHECK(fx, n == 2, "child history has %ld entries, want 2", n);
    FX_CHECK(fx, h[0].from == GLASS_TCP_LISTEN && h[0].to == GLASS_TCP_SYN_RCVD &&
                     h[0].cause == GLASS_CAUSE_RCV_SYN,
             "child history starts with LISTEN -> SYN_RCVD");
    FX_CHECK(fx, h[1].from == GLASS_TCP_SYN_RCVD && h[1].to == GLASS_TCP_ESTABLISHED,
             "then SYN_RCVD -> ESTABLISHED");

    FX_ASSERT_MIB(fx, FX_CLIENT, GLASS_MIB_TcpActiveOpens, 1);
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpPassiveOpens, 1);
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpActiveOpens, 0);
    FX_ASSERT_MIB(fx, FX_CLIENT, GLASS_MIB_TcpCurrEstab, 1);
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpCurrEstab, 1);
    FX_ASSERT_MIB(fx, FX_CLIENT, GLASS_MIB_TcpAttemptFails, 0);
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpAttemptFails, 0);
    FX_ASSERT_MIB(fx, FX_CLIENT, GLASS_MIB_TcpOutRsts, 0);
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpOutRsts, 0);
    FX_ASSERT_MIB(fx, FX_CLIENT, GLASS_MIB_TcpRetransSegs, 0);
    FX_CHECK(fx, glass_stack_in_state(cs, GLASS_TCP_ESTABLISHED) == 1 &&
                     glass_stack_in_state(ss, GLASS_TCP_ESTABLISHED) == 1 &&
                     glass_stack_in_state(ss, GLASS_TCP_SYN_RCVD) == 0,
             "state gauges");
}

/* Arcs 6 and 8 (simultaneous open, RFC 9293 Figure 7): both connect() at the same time, the SYNs
 * cross, each side goes SYN_SENT -> SYN_RCVD and answers S. <SEQ=ISS><ACK=RCV.NXT>, then each
 * goes SYN_RCVD -> ESTABLISHED on the other's SYN,ACK. The connection then carries data. */
static void test_syn_sent_rcv_syn_simultaneous_open_established(void **state)
{
    struct fx *fx = *state;
    fx_start(fx);
    glass_time_t t0 = fx_now(fx);
    size_t m = fx_mark(fx);
    int cfd = fx_connect(fx, FX_CLIENT, 5000, FX_SERVER_ADDR, 6000);
    int sfd = fx_connect(fx, FX_SERVER, 6000, FX_CLIENT_ADDR, 5000);
    fx_run_for(fx, MS(100));

    for (int side = FX_CLIENT; side <= FX_SERVER; side++) {
        const struct fx_pkt *s = FX_ASSERT_PKT(fx, m, side, 0, TH_S, 0, FX_ANY, 0);
        const struct fx_pkt *sa = FX_ASSERT_PKT(fx, m, side, 1, TH_S | TH_A, 0, 1, 0);
        assert_syn_options(fx, s);
        FX_CHECK(fx, sa->mss == 1460, "%s SYN,ACK MSS %u", fx_side_name(side), sa->mss);
        FX_CHECK(fx, s->at == t0 && sa->at == t0 + MS(10), "%s: SYN at 0, SYN,ACK at 10 ms",
                 fx_side_name(side));
        FX_EXPECT_TRANS(fx, side, GLASS_TCP_CLOSED, GLASS_TCP_SYN_SENT, GLASS_CAUSE_APP_CONNECT);
        const struct fx_trans *a = FX_EXPECT_TRANS(fx, side, GLASS_TCP_SYN_SENT,
                                                   GLASS_TCP_SYN_RCVD, GLASS_CAUSE_RCV_SYN);
        const struct fx_trans *b = FX_EXPECT_TRANS(fx, side, GLASS_TCP_SYN_RCVD,
                                                   GLASS_TCP_ESTABLISHED, GLASS_CAUSE_RCV_ACK_OF_SYN);
        FX_CHECK(fx, a->t.at == t0 + MS(10) && b->t.at == t0 + MS(20), "%s transition times",
                 fx_side_name(side));
        FX_ASSERT_NO_TRANS(fx, side, GLASS_TCP_SYN_SENT, GLASS_TCP_ESTABLISHED);
        FX_ASSERT_MIB(fx, side, GLASS_MIB_TcpActiveOpens, 1);
        FX_ASSERT_MIB(fx, side, GLASS_MIB_TcpPassiveOpens, 0);
        FX_ASSERT_MIB(fx, side, GLASS_MIB_TcpCurrEstab, 1);
        FX_ASSERT_MIB(fx, side, GLASS_MIB_TcpOutRsts, 0);
    }
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_ESTABLISHED);
    FX_ASSERT_STATE(fx, FX_SERVER, sfd, GLASS_TCP_ESTABLISHED);
    FX_CHECK(fx, fx_find_event(fx, FX_CLIENT, GLASS_EV_CONNECTED, cfd) != NULL, "client CONNECTED");
    FX_CHECK(fx, fx_find_event(fx, FX_SERVER, GLASS_EV_CONNECTED, sfd) != NULL, "server CONNECTED");

    /* The sequence numbers agree: data flows both ways at relative seq 1. */
    size_t m2 = fx_mark(fx);
    fx_send_all(fx, FX_CLIENT, cfd, "ping", 4);
    fx_send_all(fx, FX_SERVER, sfd, "pong", 4);
    fx_run_for(fx, MS(100));
    FX_ASSERT_PKT(fx, m2, FX_CLIENT, 0, TH_A, 1, 1, 4);
    FX_ASSERT_PKT(fx, m2, FX_SERVER, 0, TH_A, 1, 1, 4);
    char buf[16];
    FX_ASSERT_RET(glass_recv(fx_st(fx, FX_SERVER), sfd, buf, sizeof buf, 0), 4);
    FX_CHECK(fx, memcmp(buf, "ping", 4) == 0, "server got ping");
    FX_ASSERT_RET(glass_recv(fx_st(fx, FX_CLIENT), cfd, buf, sizeof buf, 0), 4);
    FX_CHECK(fx, memcmp(buf, "pong", 4) == 0, "client got pong");
}

/* Arc 7 (rcv_rst): connect to a port with no listener. The server answers the SYN (no ACK bit)
 * with <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (RFC 9293 §3.10.7.1); the client goes
 * SYN_SENT -> CLOSED, reports -ECONNREFUSED as an event, through SO_ERROR (111, then 0) and
 * counts TcpAttemptFails; the server counts TcpOutRsts. */
static void test_syn_sent_rcv_rst_closed_econnrefused(void **state)
{
    struct fx *fx = *state;
    fx_start(fx);
    glass_time_t t0 = fx_now(fx);
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    size_t m = fx_mark(fx);
    int cfd = fx_connect(fx, FX_CLIENT, 0, FX_SERVER_ADDR, 81);
    fx_run_for(fx, MS(50));

    FX_ASSERT_PKT(fx, m, FX_CLIENT, 0, TH_S, 0, FX_ANY, 0);
    const struct fx_pkt *r = FX_ASSERT_PKT(fx, m, FX_SERVER, 0, TH_R | TH_A, 0, 1, 0);
    FX_CHECK(fx, r->seq == 0, "RST seq %u, want 0 (absolute)", r->seq);
    FX_CHECK(fx, r->at == t0 + MS(10), "RST sent when the SYN arrived");
    FX_CHECK(fx, r->s.src.port == 81, "RST from port 81");

    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_CLOSED);
    FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_CLOSED, GLASS_TCP_SYN_SENT, GLASS_CAUSE_APP_CONNECT);
    const struct fx_trans *t = FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_SYN_SENT, GLASS_TCP_CLOSED,
                                               GLASS_CAUSE_RCV_RST);
    FX_CHECK(fx, t->t.at == t0 + MS(20), "CLOSED when the RST arrived");
    FX_ASSERT_EVENT_ERR(fx, FX_CLIENT, cfd, -GLASS_ECONNREFUSED);
    FX_CHECK(fx, fx_find_event(fx, FX_CLIENT, GLASS_EV_CONNECTED, cfd) == NULL, "no CONNECTED");
    int e = fx_so_error(fx, FX_CLIENT, cfd);
    FX_CHECK(fx, e == GLASS_ECONNREFUSED, "SO_ERROR = %d, want %d (ECONNREFUSED)", e,
             GLASS_ECONNREFUSED);
    e = fx_so_error(fx, FX_CLIENT, cfd);
    FX_CHECK(fx, e == 0, "SO_ERROR is cleared on read (second read %d)", e);

    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpAttemptFails, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpActiveOpens, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpEstabResets, 0);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpOutRsts, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpOutRsts, 0);

    /* The SYN timer is gone: nothing more, ever. */
    fx_run_for(fx, SEC(10));
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_CLIENT, 0, 0) == 1, "client sent only its SYN");
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_SERVER, 0, 0) == 1, "server sent only its RST");
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpExtTCPSynRetrans, 0);
}

/* Arc 7 (app_close): close() in SYN_SENT. CLOSED at once, nothing sent (no RST, no FIN), the
 * SYN retransmission timer is cancelled, the handle is gone. */
static void test_syn_sent_app_close_closed_silent(void **state)
{
    struct fx *fx = *state;
    fx_start(fx);
    fx_listen(fx, FX_SERVER, FX_SERVER_PORT, false);
    fx_hold(fx, FX_CLIENT, TH_S, 0, -1); /* the SYN never arrives */
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    size_t m = fx_mark(fx);
    int cfd = fx_connect(fx, FX_CLIENT, 0, FX_SERVER_ADDR, FX_SERVER_PORT);
    fx_run_for(fx, MS(5));
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_SYN_SENT);
    FX_ASSERT_PKT(fx, m, FX_CLIENT, 0, TH_S, 0, FX_ANY, 0);

    glass_time_t tc = fx_now(fx);
    size_t m2 = fx_mark(fx);
    fx_close(fx, FX_CLIENT, cfd);
    const struct fx_trans *t = FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_SYN_SENT, GLASS_TCP_CLOSED,
                                               GLASS_CAUSE_APP_CLOSE);
    FX_CHECK(fx, t->t.at == tc, "CLOSED at close() time");
    FX_ASSERT_RET(glass_sock_state(fx_st(fx, FX_CLIENT), cfd), -GLASS_EBADF);

    fx_run_for(fx, SEC(10));
    FX_ASSERT_NO_PKT(fx, m2, FX_CLIENT);
    FX_CHECK(fx, glass_stack_in_state(fx_st(fx, FX_CLIENT), GLASS_TCP_SYN_SENT) == 0,
             "no connection left in SYN_SENT");
    FX_CHECK(fx, fx_find_event(fx, FX_CLIENT, GLASS_EV_ERROR, FX_ANY) == NULL,
             "no error event for a closed handle");
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpAttemptFails, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpExtTCPSynRetrans, 0);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpOutRsts, 0);
}

/* Arc 7 (syn_timeout): every SYN is lost. syn_retries = 3, rto_initial = 1 s and no linear
 * timeouts (RFC 6298 back-off; Linux's default linear SYN timeouts: tests/pkt/timers): SYNs at
 * 0, 1, 3, 7 s (exponential backoff), -ETIMEDOUT at 15 s; TcpExtTCPSynRetrans = 3. */
static void test_syn_sent_syn_timeout_closed_etimedout(void **state)
{
    struct fx *fx = *state;
    fx->cfg[FX_CLIENT].syn_retries = 3;
    fx->cfg[FX_CLIENT].syn_linear_timeouts = 0;
    fx->cfg[FX_CLIENT].rto_initial = SEC(1);
    fx_start(fx);
    fx_listen(fx, FX_SERVER, FX_SERVER_PORT, false);
    fx_drop(fx, FX_CLIENT, TH_S, 0, -1);
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    glass_time_t t0 = fx_now(fx);
    size_t m = fx_mark(fx);
    int cfd = fx_connect(fx, FX_CLIENT, 0, FX_SERVER_ADDR, FX_SERVER_PORT);
    fx_run_for(fx, SEC(30));

    static const unsigned at_s[4] = {0, 1, 3, 7};
    for (size_t i = 0; i < 4; i++) {
        const struct fx_pkt *p = FX_ASSERT_PKT(fx, m, FX_CLIENT, i, TH_S, 0, FX_ANY, 0);
        FX_CHECK(fx, p->at == t0 + SEC(at_s[i]), "SYN #%zu at %.3f s, want %u s", i,
                 (double)(p->at - t0) / 1e9, at_s[i]);
        FX_CHECK(fx, p->dropped, "SYN #%zu dropped", i);
    }
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_CLIENT, 0, 0) == 4, "4 SYNs, no more (got %zu)",
             fx_count_pkts(fx, m, FX_CLIENT, 0, 0));
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_SERVER, 0, 0) == 0, "server never heard of it");

    const struct fx_trans *t = FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_SYN_SENT, GLASS_TCP_CLOSED,
                                               GLASS_CAUSE_SYN_TIMEOUT);
    FX_CHECK(fx, t->t.at == t0 + SEC(15), "SYN_SENT -> CLOSED at %.3f s, want 15 s",
             (double)(t->t.at - t0) / 1e9);
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_CLOSED);
    FX_ASSERT_EVENT_ERR(fx, FX_CLIENT, cfd, -GLASS_ETIMEDOUT);
    const struct fx_event *ev = fx_find_event(fx, FX_CLIENT, GLASS_EV_ERROR, cfd);
    FX_CHECK(fx, ev->ev.at == t0 + SEC(15), "error event at 15 s");
    char b[4];
    FX_ASSERT_RET(glass_recv(fx_st(fx, FX_CLIENT), cfd, b, sizeof b, 0), -GLASS_ETIMEDOUT);

    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpExtTCPSynRetrans, 3);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpRetransSegs, 3);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpAttemptFails, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpOutSegs, 1);
    FX_CHECK(fx, fx_mib(fx, FX_CLIENT, GLASS_MIB_TcpExtTCPTimeouts) -
                         snap.v[FX_CLIENT][GLASS_MIB_TcpExtTCPTimeouts] >= 3,
             "TcpExtTCPTimeouts counts the expiries");
}

/* Arc 4: close() of a listener with a pending (completed, unaccepted) child: the listener goes
 * LISTEN -> CLOSED app_close, the child is reset (ESTABLISHED -> CLOSED listen_close, RST on the
 * wire), the client sees -ECONNRESET; the port is then really closed (-ECONNREFUSED). */
static void test_listen_app_close_closed_child_reset(void **state)
{
    struct fx *fx = *state;
    fx_start(fx);
    int lfd = fx_listen(fx, FX_SERVER, FX_SERVER_PORT, false);
    int cfd = fx_connect(fx, FX_CLIENT, 0, FX_SERVER_ADDR, FX_SERVER_PORT);
    fx_run_for(fx, MS(50));
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_ESTABLISHED);
    const struct fx_trans *tc = FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_LISTEN,
                                                GLASS_TCP_SYN_RCVD, GLASS_CAUSE_RCV_SYN);
    uint32_t child = tc->t.conn;
    long listener = glass_sock_conn_id(fx_st(fx, FX_SERVER), lfd);

    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    size_t m = fx_mark(fx);
    fx_close(fx, FX_SERVER, lfd);
    FX_EXPECT_TRANS_CONN(fx, FX_SERVER, listener, GLASS_TCP_LISTEN, GLASS_TCP_CLOSED,
                         GLASS_CAUSE_APP_CLOSE);
    FX_CHECK(fx, fx_find_trans(fx, FX_SERVER, child, GLASS_TCP_ESTABLISHED, GLASS_TCP_CLOSED,
                               GLASS_CAUSE_LISTEN_CLOSE, 0) != NULL,
             "pending child ESTABLISHED -> CLOSED listen_close");
    FX_ASSERT_RST(fx, m, FX_SERVER, 0, 1, 1);
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_ANY, GLASS_TH_FIN, 0) == 0, "no FIN");

    fx_run_for(fx, MS(50));
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_CLOSED);
    FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_ESTABLISHED, GLASS_TCP_CLOSED, GLASS_CAUSE_RCV_RST);
    FX_ASSERT_EVENT_ERR(fx, FX_CLIENT, cfd, -GLASS_ECONNRESET);
    char b[4];
    FX_ASSERT_RET(glass_recv(fx_st(fx, FX_CLIENT), cfd, b, sizeof b, 0), -GLASS_ECONNRESET);
    FX_ASSERT_NO_PKT(fx, m, FX_CLIENT); /* an RST is never answered */
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_SERVER, GLASS_MIB_TcpOutRsts, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpEstabResets, 1);
    FX_CHECK(fx, glass_stack_in_state(fx_st(fx, FX_SERVER), GLASS_TCP_LISTEN) == 0 &&
                     glass_stack_in_state(fx_st(fx, FX_SERVER), GLASS_TCP_ESTABLISHED) == 0,
             "nothing left on the server");

    /* The port is closed now. */
    int c2 = fx_connect(fx, FX_CLIENT, 0, FX_SERVER_ADDR, FX_SERVER_PORT);
    fx_run_for(fx, MS(50));
    FX_ASSERT_EVENT_ERR(fx, FX_CLIENT, c2, -GLASS_ECONNREFUSED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_closed_listen_listen),
        FX_TEST(test_closed_connect_syn_sent),
        FX_TEST(test_listen_rcv_syn_syn_rcvd_then_established),
        FX_TEST(test_syn_sent_rcv_syn_simultaneous_open_established),
        FX_TEST(test_syn_sent_rcv_rst_closed_econnrefused),
        FX_TEST(test_syn_sent_app_close_closed_silent),
        FX_TEST(test_syn_sent_syn_timeout_closed_etimedout),
        FX_TEST(test_listen_app_close_closed_child_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
