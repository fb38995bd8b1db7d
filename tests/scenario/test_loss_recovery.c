/* glasstcp — loss recovery and transfer mechanisms, one test each (RFC 5681, 6582, 6675, 6298,
 * 7323, 3042, 9293 §3.8.6, 1122 §4.2.3.6, 5482), through the protocol over the simulated link. */
#include "core/core.h" /* the TCB behind a handle: RACK's records */
#include "fixture.h"
#include "wire/wire_priv.h"

#include <string.h>

#define MS(x) GLASS_MSEC(x)

static uint8_t big[256 * 1024];

static void fill(void)
{
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 131u + (i >> 9));
}

/* Read everything the server has into out[*got]; true if data arrived. */
static void drain(struct fx *fx, int fd, uint8_t *out, size_t cap, size_t *got)
{
    long n;
    while (*got < cap && (n = glass_recv(fx_st(fx, FX_SERVER), fd, out + *got, cap - *got, 0)) > 0)
        *got += (size_t)n;
}

/* Send len bytes from the client, pumping the link; the server reads as it goes. */
static void transfer(struct fx *fx, int cfd, int sfd, size_t len, uint8_t *out, size_t *got,
                     glass_time_t limit)
{
    size_t sent = 0;
    glass_time_t end = fx_now(fx) + limit;
    while ((sent < len || *got < len) && fx_now(fx) < end) {
        if (sent < len) {
            long n = glass_send(fx_st(fx, FX_CLIENT), cfd, big + sent, len - sent, 0);
            if (n > 0)
                sent += (size_t)n;
        }
        fx_flush(fx);
        fx_run_for(fx, MS(5));
        drain(fx, sfd, out, len, got);
    }
}

/* Drop the Nth data segment (counting from 0) the client sends after the filter is set. */
struct nth {
    unsigned want[4];
    unsigned nwant;
    unsigned seen;
};

static enum glass_sim_verdict drop_nth_data(struct fx *fx, const struct fx_pkt *p)
{
    struct nth *n = fx->user;
    if (p->from != FX_CLIENT || p->len == 0)
        return GLASS_SIM_PASS;
    unsigned idx = n->seen++;
    for (unsigned i = 0; i < n->nwant; i++)
        if (n->want[i] == idx)
            return GLASS_SIM_DROP;
    return GLASS_SIM_PASS;
}

/* RFC 5681 §3.2 / RFC 6582: without SACK, three duplicate ACKs trigger a fast retransmit of
 * the lost segment well before the retransmission timer, and NewReno recovery completes. */
static void test_established_three_dupacks_fast_retransmit_newreno(void **state)
{
    struct fx *fx = *state;
    fill();
    fx->cfg[FX_CLIENT].sack = false;
    fx->cfg[FX_SERVER].sack = false;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    struct nth n = {.want = {1}, .nwant = 1};
    fx->user = &n;
    fx_set_filter(fx, drop_nth_data);
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    static uint8_t out[sizeof big];
    size_t got = 0;
    glass_time_t t0 = fx_now(fx);
    transfer(fx, cfd, sfd, 40000, out, &got, GLASS_SEC(5));
    FX_CHECK(fx, got == 40000 && memcmp(out, big, got) == 0, "stream intact (%zu bytes)", got);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpExtTCPFastRetrans, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpExtTCPRenoRecovery, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpExtTCPSackRecovery, 0);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpExtTCPTimeouts, 0);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpRetransSegs, 1);
    /* the retransmission of the lost segment (rseq 1 + 1448) came one RTT after the loss,
     * not after the 200 ms+ timer */
    const struct fx_pkt *rtx = NULL;
    size_t copies = 0;
    for (size_t i = 0; i < fx->npkts; i++) {
        const struct fx_pkt *p = &fx->pkts[i];
        if (p->from == FX_CLIENT && p->len > 0 && p->rseq == 1u + 1448u && p->at >= t0) {
            copies++;
            rtx = p;
        }
    }
    FX_CHECK(fx, copies == 2 && rtx != NULL && rtx->at - t0 < MS(60),
             "segment 2 sent %zu times, retransmitted at +%llu ms", copies,
             rtx ? (unsigned long long)((rtx->at - t0) / GLASS_NSEC_PER_MSEC) : 0ull);
}

/* RFC 6675 with RFC 2018 SACK: two separate losses in one window are both repaired in one
 * recovery, without a timeout; the receiver's duplicate ACKs carry SACK blocks. */
static void test_established_sack_recovery_two_losses(void **state)
{
    struct fx *fx = *state;
    fill();
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    struct glass_tcp_info ci;
    assert_int_equal(glass_tcp_info(fx_st(fx, FX_CLIENT), cfd, &ci), 0);
    FX_CHECK(fx, (ci.options & 2u) != 0, "SACK negotiated");
    struct nth n = {.want = {2, 5}, .nwant = 2};
    fx->user = &n;
    fx_set_filter(fx, drop_nth_data);
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    static uint8_t out[sizeof big];
    size_t got = 0;
    transfer(fx, cfd, sfd, 60000, out, &got, GLASS_SEC(5));
    FX_CHECK(fx, got == 60000 && memcmp(out, big, got) == 0, "stream intact (%zu bytes)", got);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpExtTCPSackRecovery, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpExtTCPTimeouts, 0);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpRetransSegs, 2);
    FX_CHECK(fx, fx_mib(fx, FX_SERVER, GLASS_MIB_TcpExtTCPOFOQueue) > 0,
             "the receiver queued out-of-order data");
}

/* RACK's records grow with the flight (tcb.h GLASS_TXREC_MIN, GLASS_TXREC_MAX): a block
 * starts with room for 8 and doubles while full, so each of a 40-segment first flight (within
 * the peer's 64 KiB window) has its own record, and a loss in it is repaired in one recovery,
 * without a timeout. */
static void test_established_rack_records_grow(void **state)
{
    struct fx *fx = *state;
    fill();
    fx->cfg[FX_CLIENT].init_cwnd = 40;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    struct glass_stack *c = fx_st(fx, FX_CLIENT);
    const struct glass_tcb *tcb = c->socks[cfd - GLASS_FD_BASE].tcb;
    FX_CHECK(fx, tcb->x->rack == NULL, "no RACK block before data");
    struct nth n = {.want = {30}, .nwant = 1};
    fx->user = &n;
    fx_set_filter(fx, drop_nth_data);
    struct fx_mibs snap;
    fx_mib_snap(fx, &snap);
    long sent = glass_send(c, cfd, big, 40u * 1448u, 0);
    FX_CHECK(fx, sent == 40 * 1448, "send accepted %ld", sent);
    fx_flush(fx);
    fx_run_for(fx, MS(1)); /* less than one RTT: the flight is out, nothing acknowledged */
    const struct glass_rack *rk = tcb->x->rack;
    FX_CHECK(fx, rk != NULL && rk->cap == 64 && rk->len == 40,
             "a record per segment (cap %u, len %u; want 64, 40)", rk ? rk->cap : 0u,
             rk ? rk->len : 0u);
    FX_CHECK_STACKS(fx);
    static uint8_t out[sizeof big];
    size_t got = 0;
    glass_time_t end = fx_now(fx) + GLASS_SEC(5);
    while (got < 40u * 1448u && fx_now(fx) < end) {
        fx_run_for(fx, MS(5));
        drain(fx, sfd, out, 40u * 1448u, &got);
    }
    FX_CHECK(fx, got == 40u * 1448u && memcmp(out, big, got) == 0, "stream intact (%zu bytes)",
             got);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpExtTCPSackRecovery, 1);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpExtTCPTimeouts, 0);
    FX_ASSERT_MIB_DELTA(fx, &snap, FX_CLIENT, GLASS_MIB_TcpRetransSegs, 1);
}

/* RFC 6928 / Linux: the first flight is ten segments; the eleventh waits for an ACK. */
static void test_established_initial_window_ten_segments(void **state)
{
    struct fx *fx = *state;
    fill();
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    size_t m = fx_mark(fx);
    long n = glass_send(fx_st(fx, FX_CLIENT), cfd, big, 30000, 0);
    FX_CHECK(fx, n == 30000, "send accepted %ld", n);
    fx_flush(fx);
    fx_run_for(fx, MS(1)); /* less than one RTT: only the first flight is out */
    size_t data = 0;
    for (size_t i = m; i < fx->npkts; i++)
        if (fx->pkts[i].from == FX_CLIENT && fx->pkts[i].len > 0)
            data++;
    FX_CHECK(fx, data == 10, "first flight %zu segments, want 10", data);
    struct glass_tcp_info ci;
    assert_int_equal(glass_tcp_info(fx_st(fx, FX_CLIENT), cfd, &ci), 0);
    FX_CHECK(fx, ci.snd_cwnd == 10u * 1448u, "cwnd %u", ci.snd_cwnd);
}

/* RFC 6298 (5.5): consecutive timeouts double the timer. With every packet lost, the
 * retransmissions of one segment are 1, 2, 4, 8 RTOs apart. */
static void test_established_rto_backoff_doubles(void **state)
{
    struct fx *fx = *state;
    fill();
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    fx_partition(fx, true);
    size_t m = fx_mark(fx);
    fx_send_all(fx, FX_CLIENT, cfd, big, 100);
    fx_run_for(fx, GLASS_SEC(20));
    glass_time_t at[6];
    size_t k = 0;
    for (size_t i = m; i < fx->npkts && k < 6; i++)
        if (fx->pkts[i].from == FX_CLIENT && fx->pkts[i].len == 100)
            at[k++] = fx->pkts[i].at;
    FX_CHECK(fx, k == 6, "%zu copies", k);
    for (size_t i = 2; i < k; i++) {
        glass_time_t d1 = at[i - 1] - at[i - 2], d2 = at[i] - at[i - 1];
        FX_CHECK(fx, d2 == 2u * d1, "interval %zu: %llu ms then %llu ms", i,
                 (unsigned long long)(d1 / GLASS_NSEC_PER_MSEC),
                 (unsigned long long)(d2 / GLASS_NSEC_PER_MSEC));
    }
    /* the first RTO is within [rto_min, 1 s] after an RTT of 20 ms */
    FX_CHECK(fx, at[1] - at[0] >= MS(200) && at[1] - at[0] <= MS(1000), "first RTO %llu ms",
             (unsigned long long)((at[1] - at[0]) / GLASS_NSEC_PER_MSEC));
    FX_CHECK(fx, fx_mib(fx, FX_CLIENT, GLASS_MIB_TcpExtTCPTimeouts) >= 5, "timeouts counted");
}

/* RFC 9293 §3.8.6.1: a zero window is probed by the persist timer, and the transfer resumes
 * when the receiver reads. */
static void test_established_zero_window_probe_resumes(void **state)
{
    struct fx *fx = *state;
    fill();
    fx->cfg[FX_SERVER].rcvbuf = 8192;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    long n = glass_send(fx_st(fx, FX_CLIENT), cfd, big, 40000, 0);
    FX_CHECK(fx, n == 40000, "send accepted %ld", n);
    fx_flush(fx);
    fx_run_for(fx, GLASS_SEC(10)); /* nobody reads */
    struct glass_tcp_info si;
    assert_int_equal(glass_tcp_info(fx_st(fx, FX_SERVER), sfd, &si), 0);
    /* full, to within the window scale's granularity (2^7 bytes) */
    FX_CHECK(fx, si.recv_q > 8192 - 128 && si.recv_q <= 8192, "receiver full: %u", si.recv_q);
    FX_CHECK(fx, fx_mib(fx, FX_CLIENT, GLASS_MIB_TcpExtTCPWinProbe) >= 2, "probes sent: %llu",
             (unsigned long long)fx_mib(fx, FX_CLIENT, GLASS_MIB_TcpExtTCPWinProbe));
    FX_CHECK(fx, fx_mib(fx, FX_CLIENT, GLASS_MIB_TcpExtTCPTimeouts) == 0,
             "a zero window is not a loss");
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_ESTABLISHED);
    static uint8_t out[40000];
    size_t got = 0;
    glass_time_t end = fx_now(fx) + GLASS_SEC(30);
    while (got < 40000 && fx_now(fx) < end) {
        drain(fx, sfd, out, sizeof out, &got);
        fx_flush(fx);
        fx_run_for(fx, MS(20));
    }
    FX_CHECK(fx, got == 40000 && memcmp(out, big, got) == 0, "resumed: %zu bytes", got);
}

/* RFC 1122 §4.2.3.6: keepalive probes an idle connection; a dead peer is detected after
 * KEEPCNT unanswered probes: CLOSED, -ETIMEDOUT. */
static void test_established_keepalive_detects_dead_peer(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    struct glass_stack *c = fx_st(fx, FX_CLIENT);
    int one = 1, idle = 10, intvl = 2, cnt = 3;
    assert_int_equal(glass_setsockopt(c, cfd, GLASS_SOL_SOCKET, GLASS_SO_KEEPALIVE, &one, sizeof one), 0);
    assert_int_equal(glass_setsockopt(c, cfd, GLASS_SOL_TCP, GLASS_TCP_KEEPIDLE, &idle, sizeof idle), 0);
    assert_int_equal(glass_setsockopt(c, cfd, GLASS_SOL_TCP, GLASS_TCP_KEEPINTVL, &intvl, sizeof intvl), 0);
    assert_int_equal(glass_setsockopt(c, cfd, GLASS_SOL_TCP, GLASS_TCP_KEEPCNT, &cnt, sizeof cnt), 0);
    /* a live peer answers the probes: still ESTABLISHED long after the idle time */
    fx_run_for(fx, GLASS_SEC(30));
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_ESTABLISHED);
    FX_CHECK(fx, fx_mib(fx, FX_CLIENT, GLASS_MIB_TcpExtTCPKeepAlive) >= 2, "probes to a live peer");
    uint64_t before = fx_mib(fx, FX_CLIENT, GLASS_MIB_TcpExtTCPKeepAlive);
    fx_partition(fx, true);
    glass_time_t t0 = fx_now(fx);
    FX_CHECK(fx, fx_run_until_state(fx, FX_CLIENT, cfd, GLASS_TCP_CLOSED, GLASS_SEC(60)),
             "the dead peer is detected");
    glass_time_t took = fx_now(fx) - t0;
    FX_CHECK(fx, took <= GLASS_SEC(10 + 3 * 2 + 1), "detected after %llu s",
             (unsigned long long)(took / GLASS_NSEC_PER_SEC));
    FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_ESTABLISHED, GLASS_TCP_CLOSED,
                    GLASS_CAUSE_KEEPALIVE_TIMEOUT);
    FX_ASSERT_EVENT_ERR(fx, FX_CLIENT, cfd, -GLASS_ETIMEDOUT);
    FX_CHECK(fx, fx_mib(fx, FX_CLIENT, GLASS_MIB_TcpExtTCPKeepAlive) - before == 3,
             "three unanswered probes");
}

/* RFC 5482 TCP_USER_TIMEOUT: unacknowledged data for longer than the user timeout ends the
 * connection with -ETIMEDOUT, long before retries2 would. */
static void test_established_user_timeout(void **state)
{
    struct fx *fx = *state;
    fill();
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    int ms = 3000;
    assert_int_equal(glass_setsockopt(fx_st(fx, FX_CLIENT), cfd, GLASS_SOL_TCP,
                                      GLASS_TCP_USER_TIMEOUT, &ms, sizeof ms), 0);
    fx_partition(fx, true);
    glass_time_t t0 = fx_now(fx);
    fx_send_all(fx, FX_CLIENT, cfd, big, 500);
    FX_CHECK(fx, fx_run_until_state(fx, FX_CLIENT, cfd, GLASS_TCP_CLOSED, GLASS_SEC(60)), "gave up");
    glass_time_t took = fx_now(fx) - t0;
    FX_CHECK(fx, took >= GLASS_SEC(3) && took <= GLASS_SEC(7), "after %llu ms",
             (unsigned long long)(took / GLASS_NSEC_PER_MSEC));
    FX_EXPECT_TRANS(fx, FX_CLIENT, GLASS_TCP_ESTABLISHED, GLASS_TCP_CLOSED, GLASS_CAUSE_USER_TIMEOUT);
    FX_ASSERT_EVENT_ERR(fx, FX_CLIENT, cfd, -GLASS_ETIMEDOUT);
}

/* RFC 7323 §5: once timestamps are in use, a segment carrying a TSval older than TS.Recent is
 * an old duplicate: it is dropped (and ACKed), the stream is untouched. */
static void test_established_paws_drops_old_segment(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    struct glass_tcp_info ci;
    assert_int_equal(glass_tcp_info(fx_st(fx, FX_CLIENT), cfd, &ci), 0);
    FX_CHECK(fx, (ci.options & 1u) != 0, "timestamps negotiated");
    /* a data segment at exactly RCV.NXT, but with a TSval from the past */
    uint8_t pkt[128];
    struct glass_tcp_repr r = {.src_port = FX_SERVER_PORT, .dst_port = fx->cport,
                               .seq = ci.rcv_nxt, .ack = ci.snd_nxt, .flags = GLASS_TH_ACK,
                               .win = 1000, .wscale = -1, .has_ts = true,
                               .ts_val = ci.ts_recent - 1000u, .ts_ecr = 0,
                               .payload = (const uint8_t *)"stale", .payload_len = 5};
    size_t tl = glass_tcp_emit(pkt + 20, sizeof pkt - 20, &r, FX_SERVER_ADDR, FX_CLIENT_ADDR);
    struct glass_ipv4_repr ip = {.src = FX_SERVER_ADDR, .dst = FX_CLIENT_ADDR,
                                 .proto = GLASS_IPV4_PROTO_TCP, .ttl = 64};
    size_t il = glass_ipv4_emit(pkt, sizeof pkt, &ip, tl);
    struct glass_stack *c = fx_st(fx, FX_CLIENT);
    size_t m = fx_mark(fx);
    assert_int_equal(glass_stack_input(c, fx_now(fx), pkt, il + tl), GLASS_DROP_TCP_RFC7323_PAWS);
    fx_flush(fx);
    FX_ASSERT_PKT(fx, m, FX_CLIENT, 0, GLASS_TH_ACK, FX_ANY, FX_ANY, 0);
    FX_CHECK(fx, fx_mib(fx, FX_CLIENT, GLASS_MIB_TcpExtPAWSEstab) == 1, "counted");
    char b[8];
    FX_ASSERT_RET(glass_recv(c, cfd, b, sizeof b, 0), -GLASS_EAGAIN);
    /* the same segment with a current timestamp is taken */
    r.ts_val = ci.ts_recent + 1u;
    tl = glass_tcp_emit(pkt + 20, sizeof pkt - 20, &r, FX_SERVER_ADDR, FX_CLIENT_ADDR);
    il = glass_ipv4_emit(pkt, sizeof pkt, &ip, tl);
    assert_int_equal(glass_stack_input(c, fx_now(fx), pkt, il + tl), GLASS_DROP_NONE);
    FX_ASSERT_RET(glass_recv(c, cfd, b, sizeof b, 0), 5);
}

/* RFC 7323 §2: window scaling only when both SYNs carry the option; then the window field is
 * scaled, and a window larger than 64 KiB is usable. */
static void test_syn_options_window_scale_negotiation(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    struct glass_tcp_info ci, si;
    assert_int_equal(glass_tcp_info(fx_st(fx, FX_CLIENT), cfd, &ci), 0);
    assert_int_equal(glass_tcp_info(fx_st(fx, FX_SERVER), sfd, &si), 0);
    FX_CHECK(fx, ci.options == 7 && ci.snd_wscale == 7 && ci.rcv_wscale == 7, "client TS/SACK/WS");
    FX_CHECK(fx, ci.snd_wnd == 65535u, "the SYN,ACK's window is not scaled: %u", ci.snd_wnd);
    /* the server's next segment carries its scaled window: 128 KiB > 64 KiB */
    fx_send_all(fx, FX_SERVER, sfd, "z", 1);
    fx_run_for(fx, MS(50));
    assert_int_equal(glass_tcp_info(fx_st(fx, FX_CLIENT), cfd, &ci), 0);
    FX_CHECK(fx, ci.snd_wnd > 65535u, "client may send %u bytes beyond SND.UNA", ci.snd_wnd);
    (void)si;
}

static void test_syn_options_one_side_without_window_scale(void **state)
{
    struct fx *fx = *state;
    fx->cfg[FX_SERVER].window_scaling = false;
    fx->cfg[FX_SERVER].timestamps = false;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    struct glass_tcp_info ci, si;
    assert_int_equal(glass_tcp_info(fx_st(fx, FX_CLIENT), cfd, &ci), 0);
    assert_int_equal(glass_tcp_info(fx_st(fx, FX_SERVER), sfd, &si), 0);
    FX_CHECK(fx, ci.options == 2 && si.options == 2, "only SACK: %u/%u", ci.options, si.options);
    FX_CHECK(fx, ci.snd_wscale == 0 && ci.rcv_wscale == 0 && si.rcv_wscale == 0, "no scaling");
    FX_CHECK(fx, ci.snd_mss == 1460, "no timestamp overhead: MSS %u", ci.snd_mss);
}

/* RFC 5681 §4.2 / Linux: after the quick-ACK phase, a lone small segment is ACKed by the
 * delayed-ACK timer (40 ms), not at once. */
static void test_established_delayed_ack(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    for (int i = 0; i < 20; i++) { /* use up the quick ACKs */
        fx_send_all(fx, FX_CLIENT, cfd, "x", 1);
        fx_run_for(fx, MS(100));
        char b[4];
        (void)glass_recv(fx_st(fx, FX_SERVER), sfd, b, sizeof b, 0);
    }
    size_t m = fx_mark(fx);
    glass_time_t t0 = fx_now(fx);
    fx_send_all(fx, FX_CLIENT, cfd, "y", 1);
    fx_run_for(fx, MS(100));
    const struct fx_pkt *ack = fx_find_pkt(fx, m, FX_SERVER, GLASS_TH_ACK, 0);
    FX_CHECK(fx, ack != NULL, "an ACK");
    glass_time_t delay = ack->at - t0 - FX_DELAY;
    FX_CHECK(fx, delay == MS(40), "ACK delayed by %llu ms, want 40",
             (unsigned long long)(delay / GLASS_NSEC_PER_MSEC));
    FX_CHECK(fx, fx_mib(fx, FX_SERVER, GLASS_MIB_TcpExtDelayedACKs) > 0, "counted");
}

/* Linux interactive ("pingpong") mode (tcp_event_data_sent): once the server has answered a
 * request within the ACK delay, the ACK of the next request is delayed and rides on the reply:
 * the server sends no pure ACK for it. */
static void test_established_interactive_ack_rides_on_reply(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    char b[16];
    for (int round = 0; round < 2; round++) {
        size_t m = fx_mark(fx);
        fx_send_all(fx, FX_CLIENT, cfd, "request", 7);
        fx_run_for(fx, FX_DELAY + MS(1));
        assert_int_equal(glass_recv(fx_st(fx, FX_SERVER), sfd, b, sizeof b, 0), 7);
        fx_send_all(fx, FX_SERVER, sfd, "reply", 5);
        fx_run_for(fx, MS(100));
        size_t pure = 0;
        for (size_t i = m; i < fx->npkts; i++)
            if (fx->pkts[i].from == FX_SERVER && fx->pkts[i].len == 0)
                pure++;
        /* round 0: quick ACK of the request, then the reply; round 1: the reply only */
        FX_CHECK(fx, pure == (round == 0 ? 1u : 0u), "round %d: %zu pure ACKs from the server",
                 round, pure);
        assert_int_equal(glass_recv(fx_st(fx, FX_CLIENT), cfd, b, sizeof b, 0), 5);
    }
}

/* Linux tcp_sequence: a pure ACK whose SEQ is exactly the right edge of our window is taken
 * (RFC 9293's test, SEQ < RCV.NXT + RCV.WND, would drop it). A peer that has filled our window
 * while its first segment was lost sends every pure ACK there; dropping them left two stacks
 * each ignoring the other's ACKs (the soak, duplex with loss). */
static void test_established_pure_ack_at_window_edge_accepted(void **state)
{
    struct fx *fx = *state;
    fill();
    fx->cfg[FX_SERVER].rcvbuf = 4096;
    fx->cfg[FX_SERVER].window_scaling = false;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    struct nth n = {.want = {0}, .nwant = 1};
    fx->user = &n;
    fx_set_filter(fx, drop_nth_data); /* the client's first data segment is lost */
    fx_send_all(fx, FX_CLIENT, cfd, big, 4096); /* fills the server's window */
    fx_run_for(fx, FX_DELAY + MS(1));
    fx_set_filter(fx, NULL);
    struct glass_stack *sv = fx_st(fx, FX_SERVER);
    uint64_t bad_seq = glass_stack_drops(sv, GLASS_DROP_TCP_INVALID_SEQUENCE);
    fx_send_all(fx, FX_SERVER, sfd, "reply", 5);
    fx_run_for(fx, 2u * FX_DELAY + MS(1)); /* the client's pure ACK comes back */
    struct glass_tcp_info si;
    assert_int_equal(glass_tcp_info(sv, sfd, &si), 0);
    FX_CHECK(fx, si.unacked == 0, "the server's reply is acknowledged (%u unacked)", si.unacked);
    FX_CHECK(fx, glass_stack_drops(sv, GLASS_DROP_TCP_INVALID_SEQUENCE) == bad_seq,
             "the ACK at the window edge was not dropped");
}

/* RFC 9293 §3.7.4 Nagle: a second small write waits while the first is unacknowledged;
 * with TCP_NODELAY it goes at once. */
static void test_established_nagle_and_nodelay(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    size_t m = fx_mark(fx);
    fx_send_all(fx, FX_CLIENT, cfd, "a", 1);
    fx_send_all(fx, FX_CLIENT, cfd, "b", 1);
    fx_run_for(fx, MS(1));
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_CLIENT, 0, 0) == 1, "Nagle holds the second byte");
    fx_run_for(fx, MS(100));
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_CLIENT, 0, 0) == 2, "sent after the ACK");
    int one = 1;
    assert_int_equal(glass_setsockopt(fx_st(fx, FX_CLIENT), cfd, GLASS_SOL_TCP, GLASS_TCP_NODELAY,
                                      &one, sizeof one), 0);
    m = fx_mark(fx);
    fx_send_all(fx, FX_CLIENT, cfd, "c", 1);
    fx_send_all(fx, FX_CLIENT, cfd, "d", 1);
    fx_run_for(fx, MS(1));
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_CLIENT, 0, 0) == 2, "TCP_NODELAY sends both at once");
}

/* TCP_CONGESTION-like option: per socket, names as Linux ("cubic", "reno"). */
static void test_closed_congestion_option(void **state)
{
    struct fx *fx = *state;
    int fd = fx_socket(fx, FX_CLIENT);
    struct glass_stack *c = fx_st(fx, FX_CLIENT);
    char name[16];
    size_t len = sizeof name;
    assert_int_equal(glass_getsockopt(c, fd, GLASS_SOL_TCP, GLASS_TCP_CONGESTION, name, &len), 0);
    assert_string_equal(name, "cubic");
    assert_int_equal(glass_setsockopt(c, fd, GLASS_SOL_TCP, GLASS_TCP_CONGESTION, "reno", 4), 0);
    len = sizeof name;
    assert_int_equal(glass_getsockopt(c, fd, GLASS_SOL_TCP, GLASS_TCP_CONGESTION, name, &len), 0);
    assert_string_equal(name, "reno");
    assert_int_equal(glass_setsockopt(c, fd, GLASS_SOL_TCP, GLASS_TCP_CONGESTION, "bbr", 3),
                     -GLASS_ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_established_three_dupacks_fast_retransmit_newreno),
        FX_TEST(test_established_sack_recovery_two_losses),
        FX_TEST(test_established_rack_records_grow),
        FX_TEST(test_established_initial_window_ten_segments),
        FX_TEST(test_established_rto_backoff_doubles),
        FX_TEST(test_established_zero_window_probe_resumes),
        FX_TEST(test_established_keepalive_detects_dead_peer),
        FX_TEST(test_established_user_timeout),
        FX_TEST(test_established_paws_drops_old_segment),
        FX_TEST(test_syn_options_window_scale_negotiation),
        FX_TEST(test_syn_options_one_side_without_window_scale),
        FX_TEST(test_established_delayed_ack),
        FX_TEST(test_established_nagle_and_nodelay),
        FX_TEST(test_established_interactive_ack_rides_on_reply),
        FX_TEST(test_established_pure_ack_at_window_edge_accepted),
        FX_TEST(test_closed_congestion_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
