/* glasstcp scenario tests — SYN cookies (RFC 4987 §3.6, docs/synflood.md): a full SYN queue
 * answers with cookies, a valid cookie ACK becomes an accepted connection with the options the
 * cookie carried, forged and expired cookies are refused with an RST and counted, and with
 * cookies off a full queue drops SYNs (Linux tcp_syncookies 0/1/2 and its counters). */
#include "fixture.h"

#include <string.h>

#define MS(x) GLASS_MSEC(x)
#define SEC(x) GLASS_SEC(x)
#define TH_S GLASS_TH_SYN
#define TH_A GLASS_TH_ACK
#define TH_R GLASS_TH_RST

#define FAKE_ADDR GLASS_IP4(198, 51, 100, 7) /* a host that is not on the simulated link */

/* Listen on the server with a SYN queue of `backlog`. */
static void listen_backlog(struct fx *fx, int backlog)
{
    fx_start(fx);
    fx->lfd = fx_listen(fx, FX_SERVER, FX_SERVER_PORT, false);
    FX_ASSERT_RET(glass_listen(fx_st(fx, FX_SERVER), fx->lfd, backlog), 0);
}

/* A SYN from the fake host; returns the server's SYN,ACK (NULL if none). */
static const struct fx_pkt *fake_syn(struct fx *fx, uint16_t sport, uint32_t seq, uint16_t mss)
{
    size_t m = fx_mark(fx);
    fx_inject(fx, FX_SERVER,
              &FX_SEG(.saddr = FAKE_ADDR, .sport = sport, .daddr = FX_SERVER_ADDR,
                      .dport = FX_SERVER_PORT, .seq = seq, .flags = TH_S, .mss = mss));
    return fx_find_pkt(fx, m, FX_SERVER, TH_S | TH_A, 0);
}

static int fake_ack(struct fx *fx, uint16_t sport, uint32_t seq, uint32_t ack)
{
    return fx_inject(fx, FX_SERVER,
                     &FX_SEG(.saddr = FAKE_ADDR, .sport = sport, .daddr = FX_SERVER_ADDR,
                             .dport = FX_SERVER_PORT, .seq = seq, .ack = ack, .flags = TH_A));
}

/* Send len bytes from side a's fd to side b's fd and read them all back there. */
static void transfer(struct fx *fx, int a, int afd, int b, int bfd, size_t len)
{
    static uint8_t out[65536], in[65536];
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(i * 7u + 3u);
    fx_send_all(fx, a, afd, out, len);
    size_t got = 0;
    for (int round = 0; round < 200 && got < len; round++) {
        fx_run_for(fx, MS(20));
        long n;
        while ((n = glass_recv(fx_st(fx, b), bfd, in + got, len - got, 0)) > 0)
            got += (size_t)n;
    }
    FX_CHECK(fx, got == len && memcmp(in, out, len) == 0, "%zu of %zu bytes arrived intact", got,
             len);
}

/* The SYN queue (backlog 1) is held by a half-open connection from a host that never answers;
 * a real client's SYN gets a cookie, and the connection it completes has the client's window
 * scale, SACK-permitted and timestamps (carried in our TSval), the MSS from the cookie table
 * (1460, less 12 for timestamps), both arcs recorded, and transfers both ways. */
static void test_synq_full_cookie_connection_keeps_options(void **state)
{
    struct fx *fx = *state;
    listen_backlog(fx, 1);
    FX_CHECK(fx, fake_syn(fx, 1111, 5000, 1460) != NULL, "the first SYN is queued and answered");
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpExtSyncookiesSent, 0);

    int cfd = fx_connect(fx, FX_CLIENT, 0, FX_SERVER_ADDR, FX_SERVER_PORT);
    fx_run_for(fx, MS(50));
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_ESTABLISHED);
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpExtTCPReqQFullDoCookies, 1);
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpExtSyncookiesSent, 1);
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpExtSyncookiesRecv, 1);
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpExtSyncookiesFailed, 0);
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_LISTEN, GLASS_TCP_SYN_RCVD, GLASS_CAUSE_RCV_COOKIE_ACK);
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_SYN_RCVD, GLASS_TCP_ESTABLISHED,
                    GLASS_CAUSE_RCV_ACK_OF_SYN);
    int sfd = glass_accept(fx_st(fx, FX_SERVER), fx->lfd, NULL);
    FX_CHECK(fx, sfd >= 0, "accept = %s", fx_ret_name(sfd));

    struct glass_tcp_info si, ci;
    FX_ASSERT_RET(glass_tcp_info(fx_st(fx, FX_SERVER), sfd, &si), 0);
    FX_ASSERT_RET(glass_tcp_info(fx_st(fx, FX_CLIENT), cfd, &ci), 0);
    FX_CHECK(fx, si.options == 7u, "TS, SACK and WS survived (options %#x)", si.options);
    FX_CHECK(fx, si.snd_wscale == ci.rcv_wscale && si.rcv_wscale == ci.snd_wscale,
             "window scales agree (server %u/%u, client %u/%u)", si.snd_wscale, si.rcv_wscale,
             ci.snd_wscale, ci.rcv_wscale);
    FX_CHECK(fx, si.snd_mss == 1448, "MSS 1460 from the table, less TS (%u)", si.snd_mss);
    FX_CHECK(fx, si.iss == ci.irs && si.irs == ci.iss, "sequence numbers agree");
    transfer(fx, FX_CLIENT, cfd, FX_SERVER, sfd, 60000);
    transfer(fx, FX_SERVER, sfd, FX_CLIENT, cfd, 60000);
    FX_CHECK(fx, fx_count_pkts(fx, 0, FX_SERVER, TH_R, 0) == 0, "no RST from the server");
}

/* With syncookies = 2 every SYN gets a cookie; the MSS the connection uses is the largest
 * table entry (536, 1300, 1440, 1460) not above the peer's, bounded by our own 1460. */
static void test_cookie_mss_from_table(void **state)
{
    struct fx *fx = *state;
    fx->cfg[FX_SERVER].syncookies = 2;
    listen_backlog(fx, 16);
    static const uint16_t peer[] = {536, 1000, 1300, 1459, 1460, 8960, 0};
    static const uint16_t want[] = {536, 536, 1300, 1440, 1460, 1460, 536};
    for (unsigned i = 0; i < sizeof peer / sizeof peer[0]; i++) {
        uint16_t sport = (uint16_t)(2000 + i);
        const struct fx_pkt *sa = fake_syn(fx, sport, 1000u * i, peer[i]);
        FX_CHECK(fx, sa != NULL && sa->mss == 1460, "cookie SYN,ACK with our MSS");
        uint32_t cookie = sa->seq;
        fx_run_for(fx, MS(5));
        fake_ack(fx, sport, 1000u * i + 1u, cookie + 1u);
        int sfd = glass_accept(fx_st(fx, FX_SERVER), fx->lfd, NULL);
        FX_CHECK(fx, sfd >= 0, "accept = %s", fx_ret_name(sfd));
        struct glass_tcp_info si;
        FX_ASSERT_RET(glass_tcp_info(fx_st(fx, FX_SERVER), sfd, &si), 0);
        FX_CHECK(fx, si.snd_mss == want[i] && si.iss == cookie && si.options == 0,
                 "peer MSS %u -> %u (got %u, options %#x)", peer[i], want[i], si.snd_mss,
                 si.options);
        fx_set_linger(fx, FX_SERVER, sfd, 1, 0);
        fx_close(fx, FX_SERVER, sfd);
    }
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpExtSyncookiesRecv, 7);
}

/* A cookie ACK with the wrong number is refused like any ACK at a listener — an RST
 * <SEQ=SEG.ACK> — and counted; 20000 random ACKs make no connection; a cookie older than two
 * 64-second ticks is refused even while the listener is sending fresh ones. */
static void test_cat113_forged_and_expired_cookies_refused(void **state)
{
    struct fx *fx = *state;
    fx->cfg[FX_SERVER].syncookies = 2;
    listen_backlog(fx, 16);
    const struct fx_pkt *sa = fake_syn(fx, 3000, 777, 1460);
    FX_CHECK(fx, sa != NULL, "cookie SYN,ACK");
    uint32_t cookie = sa->seq;

    size_t m = fx_mark(fx);
    fake_ack(fx, 3000, 778, cookie + 2u);
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpExtSyncookiesFailed, 1);
    const struct fx_pkt *rst = fx_find_pkt(fx, m, FX_SERVER, TH_R, 0);
    FX_CHECK(fx, rst != NULL && rst->seq == cookie + 2u && !(rst->flags & TH_A),
             "RST <SEQ=SEG.ACK>");
    fake_ack(fx, 3000, 779, cookie + 1u); /* right ACK, wrong SEQ: a different peer ISN */
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpExtSyncookiesFailed, 2);

    uint32_t x = 0x12345678u;
    for (int i = 0; i < 20000; i++) {
        x = x * 1664525u + 1013904223u;
        fake_ack(fx, (uint16_t)(4000 + (i & 1023)), x ^ 0x5a5a5a5au, x);
    }
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpExtSyncookiesFailed, 20002);
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpExtSyncookiesRecv, 0);
    FX_CHECK(fx, glass_accept(fx_st(fx, FX_SERVER), fx->lfd, NULL) == -GLASS_EAGAIN,
             "no connection from forged cookies");

    /* 150 s later (two ticks): a fresh cookie for another port, then the old one's ACK. */
    fx_run_for(fx, SEC(150));
    FX_CHECK(fx, fake_syn(fx, 3001, 999, 1460) != NULL, "fresh cookie");
    m = fx_mark(fx);
    fake_ack(fx, 3000, 778, cookie + 1u);
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpExtSyncookiesFailed, 20003);
    FX_CHECK(fx, fx_find_pkt(fx, m, FX_SERVER, TH_R, 0) != NULL, "expired cookie: RST");
    FX_CHECK(fx, glass_accept(fx_st(fx, FX_SERVER), fx->lfd, NULL) == -GLASS_EAGAIN,
             "no connection from an expired cookie");
    /* one tick old is still good */
    const struct fx_pkt *sb = fake_syn(fx, 3002, 5555, 1460);
    FX_CHECK(fx, sb != NULL, "cookie");
    uint32_t c2 = sb->seq;
    fx_run_for(fx, SEC(64));
    fake_ack(fx, 3002, 5556, c2 + 1u);
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpExtSyncookiesRecv, 1);
    FX_CHECK(fx, glass_accept(fx_st(fx, FX_SERVER), fx->lfd, NULL) >= 0, "a 64 s old cookie");
}

/* A listener that has sent no cookie lately honours none (Linux
 * tcp_synq_no_recent_overflow): an ACK is just an ACK at a listener, RST, not counted. */
static void test_quiet_listener_ignores_cookies(void **state)
{
    struct fx *fx = *state;
    listen_backlog(fx, 16);
    size_t m = fx_mark(fx);
    fake_ack(fx, 3000, 1, 12345);
    FX_CHECK(fx, fx_find_pkt(fx, m, FX_SERVER, TH_R, 0) != NULL, "RST");
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpExtSyncookiesFailed, 0);
}

/* Cookies off, SYN queue of one held by a silent host: the client's SYNs are dropped
 * (TcpExtTCPReqQFullDrop, TcpExtListenDrops) until the half-open child gives up. */
static void test_cookies_off_full_queue_drops_syns(void **state)
{
    struct fx *fx = *state;
    fx->cfg[FX_SERVER].syncookies = 0;
    fx->cfg[FX_SERVER].synack_retries = 1;
    listen_backlog(fx, 1);
    FX_CHECK(fx, fake_syn(fx, 1111, 5000, 1460) != NULL, "queued");
    size_t m = fx_mark(fx);
    int cfd = fx_connect(fx, FX_CLIENT, 0, FX_SERVER_ADDR, FX_SERVER_PORT);
    fx_run_for(fx, MS(900));
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_SYN_SENT);
    FX_CHECK(fx, fx_find_pkt(fx, m, FX_SERVER, TH_S | TH_A, 0) == NULL, "no SYN,ACK for it");
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpExtTCPReqQFullDrop, 1);
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpExtListenDrops, 1);
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpExtSyncookiesSent, 0);
    /* The fake child times out after one SYN,ACK retransmission (1 + 2 s); the client's SYN
     * retransmission at 3 s then finds room. */
    fx_run_for(fx, SEC(8));
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_ESTABLISHED);
}

/* A valid cookie ACK while the accept queue is full is dropped without reply
 * (TcpExtListenOverflows); the client's next segment carries the same cookie and gets in
 * once accept() made room. */
static void test_cat112_cookie_ack_accept_queue_full_dropped(void **state)
{
    struct fx *fx = *state;
    fx->cfg[FX_SERVER].syncookies = 2;
    listen_backlog(fx, 0); /* accept queue: one */
    const struct fx_pkt *sa = fake_syn(fx, 3000, 100, 1460);
    FX_CHECK(fx, sa != NULL, "cookie SYN,ACK");
    uint32_t cookie = sa->seq;
    int c1 = fx_connect(fx, FX_CLIENT, 0, FX_SERVER_ADDR, FX_SERVER_PORT);
    fx_run_for(fx, MS(50));
    FX_ASSERT_STATE(fx, FX_CLIENT, c1, GLASS_TCP_ESTABLISHED);
    /* the accept queue holds c1 (one = backlog 0 + 1): full */
    fake_ack(fx, 3000, 101, cookie + 1u);
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_TcpExtSyncookiesRecv, 2); /* c1's and this one */
    FX_CHECK(fx, fx_mib(fx, FX_SERVER, GLASS_MIB_TcpExtListenOverflows) >= 1, "overflow");
    FX_CHECK(fx, glass_accept(fx_st(fx, FX_SERVER), fx->lfd, NULL) >= 0, "c1 accepted");
    FX_CHECK(fx, glass_accept(fx_st(fx, FX_SERVER), fx->lfd, NULL) == -GLASS_EAGAIN,
             "the cookie connection was not made");
    fx_inject(fx, FX_SERVER,
              &FX_SEG(.saddr = FAKE_ADDR, .sport = 3000, .daddr = FX_SERVER_ADDR,
                      .dport = FX_SERVER_PORT, .seq = 101, .ack = cookie + 1u,
                      .flags = TH_A | GLASS_TH_PSH, .data = "hello", .len = 5));
    int sfd = glass_accept(fx_st(fx, FX_SERVER), fx->lfd, NULL);
    FX_CHECK(fx, sfd >= 0, "accepted on its next segment");
    char buf[8];
    FX_CHECK(fx, glass_recv(fx_st(fx, FX_SERVER), sfd, buf, sizeof buf, 0) == 5 &&
                     memcmp(buf, "hello", 5) == 0,
             "its data delivered");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_synq_full_cookie_connection_keeps_options),
        FX_TEST(test_cookie_mss_from_table),
        FX_TEST(test_cat113_forged_and_expired_cookies_refused),
        FX_TEST(test_quiet_listener_ignores_cookies),
        FX_TEST(test_cookies_off_full_queue_drops_syns),
        FX_TEST(test_cat112_cookie_ack_accept_queue_full_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
