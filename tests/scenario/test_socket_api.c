/* glasstcp scenario tests — the BSD-like socket API over two stacks: errno semantics
 * (CONVENTIONS.md "Errno semantics", Linux), bind rules incl. TIME_WAIT and SO_REUSEADDR,
 * names, poll bits, TCP_INFO, connection history, and a 1 MiB transfer each way under flow
 * control, and the zero-copy calls (send_reserve/commit, recv_peek/consume). */
#include "fixture.h"
#include "util/stream.h"

#include <stdlib.h>
#include <string.h>

#define MS(x) GLASS_MSEC(x)
#define SEC(x) GLASS_SEC(x)

#define TH_S GLASS_TH_SYN
#define TH_A GLASS_TH_ACK
#define TH_R GLASS_TH_RST
#define TH_F GLASS_TH_FIN

static struct glass_stack *CS(struct fx *fx)
{
    return fx_st(fx, FX_CLIENT);
}

static struct glass_stack *SS(struct fx *fx)
{
    return fx_st(fx, FX_SERVER);
}

static const struct glass_endpoint SERVER_EP = {FX_SERVER_ADDR, FX_SERVER_PORT};

/* An unconnected socket: recv, getpeername, shutdown -> -ENOTCONN; send -> -EPIPE (Linux:
 * tcp_sendmsg -> sk_stream_wait_connect on a CLOSED socket). */
static void test_closed_send_epipe_recv_enotconn(void **state)
{
    struct fx *fx = *state;
    int fd = fx_socket(fx, FX_CLIENT);
    char b[4] = "abc";
    FX_ASSERT_STATE(fx, FX_CLIENT, fd, GLASS_TCP_CLOSED);
    FX_ASSERT_RET(glass_recv(CS(fx), fd, b, sizeof b, 0), -GLASS_ENOTCONN);
    struct glass_endpoint ep;
    FX_ASSERT_RET(glass_getpeername(CS(fx), fd, &ep), -GLASS_ENOTCONN);
    FX_ASSERT_RET(glass_shutdown(CS(fx), fd, GLASS_SHUT_WR), -GLASS_ENOTCONN);
    size_t m = fx_mark(fx);
    fx_run_for(fx, MS(100));
    FX_ASSERT_NO_PKT(fx, m, FX_ANY);
    FX_ASSERT_RET(glass_send(CS(fx), fd, b, 3, 0), -GLASS_EPIPE);
}

/* connect while connecting -> -EALREADY; once connected, the next connect() reports the
 * completed open with 0 (once, as Linux), then -EISCONN. */
static void test_syn_sent_connect_again_ealready_then_eisconn(void **state)
{
    struct fx *fx = *state;
    fx->lfd = fx_listen(fx, FX_SERVER, FX_SERVER_PORT, false);
    size_t m = fx_mark(fx);
    int cfd = fx_connect(fx, FX_CLIENT, 0, FX_SERVER_ADDR, FX_SERVER_PORT);
    FX_ASSERT_RET(glass_connect(CS(fx), cfd, &SERVER_EP), -GLASS_EALREADY);
    fx_flush(fx);
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_CLIENT, TH_S, 0) == 1, "the second connect sent no SYN");
    fx_run_for(fx, MS(50));
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_ESTABLISHED);
    FX_ASSERT_RET(glass_connect(CS(fx), cfd, &SERVER_EP), 0);
    FX_ASSERT_RET(glass_connect(CS(fx), cfd, &SERVER_EP), -GLASS_EISCONN);
    FX_CHECK(fx, fx_count_trans(fx, FX_CLIENT, FX_ANY, GLASS_TCP_CLOSED, GLASS_TCP_SYN_SENT, FX_ANY) ==
                     1,
             "one active open");
    FX_ASSERT_MIB(fx, FX_CLIENT, GLASS_MIB_TcpActiveOpens, 1);
}

/* accept on a socket that is not listening -> -EINVAL; listen on a connected socket -> -EINVAL. */
static void test_closed_accept_einval(void **state)
{
    struct fx *fx = *state;
    int fd = fx_socket(fx, FX_SERVER);
    FX_ASSERT_RET(glass_accept(SS(fx), fd, NULL), -GLASS_EINVAL);
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    FX_ASSERT_RET(glass_accept(CS(fx), cfd, NULL), -GLASS_EINVAL);
    FX_ASSERT_RET(glass_accept(SS(fx), sfd, NULL), -GLASS_EINVAL);
    FX_ASSERT_RET(glass_listen(CS(fx), cfd, 4), -GLASS_EINVAL);
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_ESTABLISHED);
}

/* Nothing to read yet -> -EAGAIN; nothing to accept -> -EAGAIN. */
static void test_established_recv_empty_eagain(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    char b[16];
    FX_ASSERT_RET(glass_recv(CS(fx), cfd, b, sizeof b, 0), -GLASS_EAGAIN);
    FX_ASSERT_RET(glass_recv(SS(fx), sfd, b, sizeof b, 0), -GLASS_EAGAIN);
    FX_ASSERT_RET(glass_accept(SS(fx), fx->lfd, NULL), -GLASS_EAGAIN);
    fx_send_all(fx, FX_CLIENT, cfd, "hi", 2);
    FX_ASSERT_RET(glass_recv(SS(fx), sfd, b, sizeof b, 0), -GLASS_EAGAIN); /* still in flight */
    fx_run_for(fx, MS(20));
    FX_ASSERT_RET(glass_recv(SS(fx), sfd, b, sizeof b, GLASS_MSG_PEEK), 2);
    FX_ASSERT_RET(glass_recv(SS(fx), sfd, b, sizeof b, 0), 2);
    FX_ASSERT_RET(glass_recv(SS(fx), sfd, b, sizeof b, 0), -GLASS_EAGAIN);
}

/* A handle that does not exist, or no longer exists, -> -EBADF everywhere. */
static void test_closed_fd_any_call_ebadf(void **state)
{
    struct fx *fx = *state;
    struct glass_stack *st = CS(fx);
    int closed = fx_socket(fx, FX_CLIENT);
    FX_ASSERT_RET(glass_close(st, closed), 0);
    const int bad[] = {999, -1, closed};
    struct glass_endpoint ep = {FX_CLIENT_ADDR, 1234};
    char b[4] = "abc";
    int one = 1;
    size_t len = sizeof one;
    struct glass_tcp_info ti;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int fd = bad[i];
        FX_ASSERT_RET(glass_send(st, fd, b, 3, 0), -GLASS_EBADF);
        FX_ASSERT_RET(glass_recv(st, fd, b, sizeof b, 0), -GLASS_EBADF);
        FX_ASSERT_RET(glass_close(st, fd), -GLASS_EBADF);
        FX_ASSERT_RET(glass_bind(st, fd, &ep), -GLASS_EBADF);
        FX_ASSERT_RET(glass_listen(st, fd, 1), -GLASS_EBADF);
        FX_ASSERT_RET(glass_connect(st, fd, &SERVER_EP), -GLASS_EBADF);
        FX_ASSERT_RET(glass_accept(st, fd, NULL), -GLASS_EBADF);
        FX_ASSERT_RET(glass_shutdown(st, fd, GLASS_SHUT_WR), -GLASS_EBADF);
        FX_ASSERT_RET(glass_setsockopt(st, fd, GLASS_SOL_SOCKET, GLASS_SO_REUSEADDR, &one, sizeof one),
                      -GLASS_EBADF);
        FX_ASSERT_RET(glass_getsockopt(st, fd, GLASS_SOL_SOCKET, GLASS_SO_ERROR, &one, &len),
                      -GLASS_EBADF);
        FX_ASSERT_RET(glass_getsockname(st, fd, &ep), -GLASS_EBADF);
        FX_ASSERT_RET(glass_getpeername(st, fd, &ep), -GLASS_EBADF);
        FX_ASSERT_RET(glass_tcp_info(st, fd, &ti), -GLASS_EBADF);
        FX_ASSERT_RET(glass_sock_state(st, fd), -GLASS_EBADF);
        FX_ASSERT_RET(glass_sock_conn_id(st, fd), -GLASS_EBADF);
    }
}

/* bind twice -> -EINVAL; bind to an address that is not ours -> -EADDRNOTAVAIL; port 0 gets an
 * ephemeral port at bind time. */
static void test_bound_bind_again_einval(void **state)
{
    struct fx *fx = *state;
    int fd = fx_socket(fx, FX_CLIENT);
    struct glass_endpoint a = {FX_CLIENT_ADDR, 7000}, b = {FX_CLIENT_ADDR, 7001};
    FX_ASSERT_RET(glass_bind(CS(fx), fd, &a), 0);
    FX_ASSERT_RET(glass_bind(CS(fx), fd, &b), -GLASS_EINVAL);
    FX_ASSERT_RET(glass_bind(CS(fx), fd, &a), -GLASS_EINVAL);
    struct glass_endpoint got;
    FX_ASSERT_RET(glass_getsockname(CS(fx), fd, &got), 0);
    FX_CHECK(fx, got.addr == FX_CLIENT_ADDR && got.port == 7000, "still bound to :7000");

    int fd2 = fx_socket(fx, FX_CLIENT);
    struct glass_endpoint foreign = {GLASS_IP4(198, 51, 100, 7), 7002};
    FX_ASSERT_RET(glass_bind(CS(fx), fd2, &foreign), -GLASS_EADDRNOTAVAIL);

    int fd3 = fx_socket(fx, FX_CLIENT);
    struct glass_endpoint any = {0, 0};
    FX_ASSERT_RET(glass_bind(CS(fx), fd3, &any), 0);
    FX_ASSERT_RET(glass_getsockname(CS(fx), fd3, &got), 0);
    FX_CHECK(fx, got.port >= 32768 && got.port <= 60999, "ephemeral port %u", got.port);
}

/* A listener holds port 80: another bind to it is -EADDRINUSE (INADDR_ANY or the address),
 * even with SO_REUSEADDR (a LISTEN socket always conflicts, Linux). */
static void test_listen_bind_same_port_eaddrinuse(void **state)
{
    struct fx *fx = *state;
    fx_listen(fx, FX_SERVER, FX_SERVER_PORT, true);
    int fd = fx_socket(fx, FX_SERVER);
    FX_ASSERT_RET(glass_bind(SS(fx), fd, &SERVER_EP), -GLASS_EADDRINUSE);
    struct glass_endpoint any80 = {0, FX_SERVER_PORT};
    FX_ASSERT_RET(glass_bind(SS(fx), fd, &any80), -GLASS_EADDRINUSE);
    int one = 1;
    FX_ASSERT_RET(glass_setsockopt(SS(fx), fd, GLASS_SOL_SOCKET, GLASS_SO_REUSEADDR, &one, sizeof one),
                  0);
    FX_ASSERT_RET(glass_bind(SS(fx), fd, &SERVER_EP), -GLASS_EADDRINUSE);
    /* A failed bind leaves the socket unbound. */
    struct glass_endpoint p81 = {FX_SERVER_ADDR, 81};
    FX_ASSERT_RET(glass_bind(SS(fx), fd, &p81), 0);
}

/* The seed's port reuse during 2MSL: the server (listener with SO_REUSEADDR) closes an accepted
 * connection first, so that connection holds TIME_WAIT on port 80; the listener is closed. A new
 * bind to port 80 is -EADDRINUSE without SO_REUSEADDR and succeeds with it; the restarted
 * listener accepts a new connection at once, while the old 4-tuple is still in TIME_WAIT. */
static void test_time_wait_bind_eaddrinuse_then_reuseaddr_ok(void **state)
{
    struct fx *fx = *state;
    fx->lfd = fx_listen(fx, FX_SERVER, FX_SERVER_PORT, true);
    int cfd, sfd;
    fx_connect_accept(fx, &cfd, &sfd);
    fx_close(fx, FX_SERVER, sfd);
    fx_run_for(fx, MS(50));
    fx_close(fx, FX_CLIENT, cfd);
    fx_run_for(fx, MS(50));
    FX_EXPECT_TRANS(fx, FX_SERVER, GLASS_TCP_FIN_WAIT_2, GLASS_TCP_TIME_WAIT, GLASS_CAUSE_RCV_FIN);
    FX_CHECK(fx, glass_stack_in_state(SS(fx), GLASS_TCP_TIME_WAIT) == 1, "server holds TIME_WAIT");
    fx_close(fx, FX_SERVER, fx->lfd);
    fx->lfd = -1;

    int a = fx_socket(fx, FX_SERVER);
    FX_ASSERT_RET(glass_bind(SS(fx), a, &SERVER_EP), -GLASS_EADDRINUSE);
    FX_ASSERT_RET(glass_close(SS(fx), a), 0);

    int b = fx_socket(fx, FX_SERVER);
    int one = 1;
    FX_ASSERT_RET(glass_setsockopt(SS(fx), b, GLASS_SOL_SOCKET, GLASS_SO_REUSEADDR, &one, sizeof one),
                  0);
    int v = 0;
    size_t len = sizeof v;
    FX_ASSERT_RET(glass_getsockopt(SS(fx), b, GLASS_SOL_SOCKET, GLASS_SO_REUSEADDR, &v, &len), 0);
    FX_CHECK(fx, v != 0 && len == sizeof(int), "SO_REUSEADDR reads back set");
    FX_ASSERT_RET(glass_bind(SS(fx), b, &SERVER_EP), 0);
    FX_ASSERT_RET(glass_listen(SS(fx), b, 16), 0);
    fx->lfd = b;
    int c2, s2;
    fx_connect_accept(fx, &c2, &s2);
    FX_CHECK(fx, glass_stack_in_state(SS(fx), GLASS_TCP_TIME_WAIT) == 1,
             "the old connection is still in TIME_WAIT");
}

/* getsockname / getpeername on both ends, on the listener and on a fresh socket. */
static void test_established_getsockname_getpeername(void **state)
{
    struct fx *fx = *state;
    int fresh = fx_socket(fx, FX_CLIENT);
    struct glass_endpoint ep = {1, 1};
    FX_ASSERT_RET(glass_getsockname(CS(fx), fresh, &ep), 0);
    FX_CHECK(fx, ep.addr == 0 && ep.port == 0, "unbound socket: 0.0.0.0:0");
    FX_ASSERT_RET(glass_getpeername(CS(fx), fresh, &ep), -GLASS_ENOTCONN);

    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    FX_ASSERT_RET(glass_getsockname(CS(fx), cfd, &ep), 0);
    FX_CHECK(fx, ep.addr == FX_CLIENT_ADDR && ep.port >= 32768 && ep.port <= 60999,
             "client local %08x:%u", ep.addr, ep.port);
    uint16_t cport = ep.port;
    FX_ASSERT_RET(glass_getpeername(CS(fx), cfd, &ep), 0);
    FX_CHECK(fx, ep.addr == FX_SERVER_ADDR && ep.port == FX_SERVER_PORT, "client peer");
    FX_ASSERT_RET(glass_getsockname(SS(fx), sfd, &ep), 0);
    FX_CHECK(fx, ep.addr == FX_SERVER_ADDR && ep.port == FX_SERVER_PORT, "server local");
    FX_ASSERT_RET(glass_getpeername(SS(fx), sfd, &ep), 0);
    FX_CHECK(fx, ep.addr == FX_CLIENT_ADDR && ep.port == cport, "server peer");
    FX_ASSERT_RET(glass_getsockname(SS(fx), fx->lfd, &ep), 0);
    FX_CHECK(fx, ep.addr == FX_SERVER_ADDR && ep.port == FX_SERVER_PORT, "listener local");
    FX_ASSERT_RET(glass_getpeername(SS(fx), fx->lfd, &ep), -GLASS_ENOTCONN);
    const struct fx_pkt *syn = fx_find_pkt(fx, 0, FX_CLIENT, TH_S, 0);
    FX_CHECK(fx, syn && syn->s.src.port == cport, "getsockname matches the wire");
}

static short poll1(struct fx *fx, int side, int fd, int *ret)
{
    struct glass_pollfd p = {fd, GLASS_POLLIN | GLASS_POLLOUT | GLASS_POLLRDHUP, 0};
    *ret = glass_poll(fx_st(fx, side), &p, 1);
    return p.revents;
}

#define ASSERT_POLL(fx, side, fd, want)                                                           \
    do {                                                                                          \
        int r_;                                                                                   \
        short got_ = poll1((fx), (side), (fd), &r_);                                              \
        FX_CHECK((fx), got_ == (short)(want) && r_ == ((want) ? 1 : 0),                           \
                 "poll(%s fd %d) revents %#x ret %d, want %#x", fx_side_name(side), (fd),         \
                 (unsigned)(unsigned short)got_, r_, (unsigned)(want));                           \
    } while (0)

/* Level-triggered poll bits, Linux tcp_poll(): SYN_SENT 0; ESTABLISHED POLLOUT; data POLLIN;
 * peer FIN POLLIN|POLLRDHUP; both directions shut POLLHUP; reset POLLERR|POLLHUP; listener
 * POLLIN with a connection to accept; bad handle POLLNVAL. */
static void test_each_state_poll_revents_linux(void **state)
{
    struct fx *fx = *state;
    fx->lfd = fx_listen(fx, FX_SERVER, FX_SERVER_PORT, false);
    ASSERT_POLL(fx, FX_SERVER, fx->lfd, 0);
    int cfd = fx_connect(fx, FX_CLIENT, 0, FX_SERVER_ADDR, FX_SERVER_PORT);
    ASSERT_POLL(fx, FX_CLIENT, cfd, 0);
    fx_run_for(fx, MS(50));
    ASSERT_POLL(fx, FX_SERVER, fx->lfd, GLASS_POLLIN);
    ASSERT_POLL(fx, FX_CLIENT, cfd, GLASS_POLLOUT);
    int sfd = glass_accept(SS(fx), fx->lfd, NULL);
    FX_CHECK(fx, sfd >= 0, "accept");
    ASSERT_POLL(fx, FX_SERVER, fx->lfd, 0);
    ASSERT_POLL(fx, FX_SERVER, sfd, GLASS_POLLOUT);

    fx_send_all(fx, FX_SERVER, sfd, "0123456789", 10);
    fx_run_for(fx, MS(50));
    ASSERT_POLL(fx, FX_CLIENT, cfd, GLASS_POLLIN | GLASS_POLLOUT);
    FX_ASSERT_RET(glass_shutdown(SS(fx), sfd, GLASS_SHUT_WR), 0);
    fx_run_for(fx, MS(50));
    ASSERT_POLL(fx, FX_CLIENT, cfd, GLASS_POLLIN | GLASS_POLLOUT | GLASS_POLLRDHUP);
    char b[32];
    FX_ASSERT_RET(glass_recv(CS(fx), cfd, b, sizeof b, 0), 10);
    FX_ASSERT_RET(glass_recv(CS(fx), cfd, b, sizeof b, 0), 0);
    ASSERT_POLL(fx, FX_CLIENT, cfd, GLASS_POLLIN | GLASS_POLLOUT | GLASS_POLLRDHUP);
    FX_ASSERT_RET(glass_shutdown(CS(fx), cfd, GLASS_SHUT_WR), 0);
    fx_run_for(fx, MS(50));
    int r;
    short rev = poll1(fx, FX_CLIENT, cfd, &r);
    FX_CHECK(fx, (rev & GLASS_POLLHUP) && !(rev & GLASS_POLLERR),
             "both directions shut: POLLHUP without POLLERR (revents %#x)", (unsigned)rev);

    /* A reset connection: POLLERR | POLLHUP. */
    int c2, s2;
    fx_connect_accept(fx, &c2, &s2);
    ASSERT_POLL(fx, FX_CLIENT, c2, GLASS_POLLOUT);
    fx_set_linger(fx, FX_SERVER, s2, 1, 0);
    fx_close(fx, FX_SERVER, s2);
    fx_run_for(fx, MS(50));
    rev = poll1(fx, FX_CLIENT, c2, &r);
    FX_CHECK(fx, (rev & (GLASS_POLLERR | GLASS_POLLHUP)) == (GLASS_POLLERR | GLASS_POLLHUP) && r == 1,
             "reset: POLLERR|POLLHUP (revents %#x)", (unsigned)rev);

    struct glass_pollfd bad = {999, GLASS_POLLIN, 0};
    FX_ASSERT_RET(glass_poll(CS(fx), &bad, 1), 1);
    FX_CHECK(fx, bad.revents == GLASS_POLLNVAL, "bad handle: POLLNVAL (revents %#x)",
             (unsigned)bad.revents);

    /* Several at once: the count of ready ones. */
    struct glass_pollfd two[2] = {{fx->lfd, GLASS_POLLIN, 0}, {sfd, GLASS_POLLOUT, 0}};
    FX_ASSERT_RET(glass_poll(SS(fx), two, 2), 1);
}

/* TCP_INFO figures agree with the packets on the wire. */
static void test_established_tcp_info_matches_wire(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    const struct fx_pkt *syn = fx_find_pkt(fx, 0, FX_CLIENT, TH_S, TH_A);
    const struct fx_pkt *synack = fx_find_pkt(fx, 0, FX_SERVER, TH_S | TH_A, 0);
    FX_CHECK(fx, syn && synack, "handshake captured");
    struct glass_tcp_info ci, si;
    FX_ASSERT_RET(glass_tcp_info(CS(fx), cfd, &ci), 0);
    FX_ASSERT_RET(glass_tcp_info(SS(fx), sfd, &si), 0);

    FX_CHECK(fx, ci.state == GLASS_TCP_ESTABLISHED && ci.tcpi_state == 1, "client state %u/%u",
             ci.state, ci.tcpi_state);
    FX_CHECK(fx, ci.conn_id == (uint32_t)glass_sock_conn_id(CS(fx), cfd), "conn id");
    FX_CHECK(fx, ci.iss == syn->seq && ci.irs == synack->seq, "client iss/irs vs the wire");
    FX_CHECK(fx, si.iss == synack->seq && si.irs == syn->seq, "server iss/irs vs the wire");
    FX_CHECK(fx, ci.snd_una == ci.iss + 1 && ci.snd_nxt == ci.iss + 1 && ci.rcv_nxt == ci.irs + 1,
             "client una %u nxt %u rcv_nxt %u", ci.snd_una - ci.iss, ci.snd_nxt - ci.iss,
             ci.rcv_nxt - ci.irs);
    FX_CHECK(fx, si.snd_una == si.iss + 1 && si.snd_nxt == si.iss + 1 && si.rcv_nxt == si.irs + 1,
             "server una/nxt/rcv_nxt");
    /* Timestamps are negotiated, so each segment carries 12 bytes of them: 1460 - 12 (Linux). */
    FX_CHECK(fx, ci.snd_mss == 1448 && si.snd_mss == 1448, "MSS %u/%u", ci.snd_mss, si.snd_mss);
    FX_CHECK(fx, ci.options == 7 && si.options == 7, "TS+SACK+WS negotiated");
    FX_CHECK(fx, ci.unacked == 0 && ci.last_error == 0 && ci.retransmits == 0, "idle");
    const struct fx_pkt *ack3 = fx_nth_pkt(fx, 0, FX_CLIENT, 1);
    FX_CHECK(fx, ack3 && ci.snd_wnd == synack->win &&
                     si.snd_wnd == (uint32_t)ack3->win << si.snd_wscale,
             "send windows %u/%u vs the wire", ci.snd_wnd, si.snd_wnd);

    size_t m = fx_mark(fx);
    uint8_t data[100];
    memset(data, 'q', sizeof data);
    fx_send_all(fx, FX_CLIENT, cfd, data, sizeof data);
    fx_run_for(fx, MS(5));
    const struct fx_pkt *d = FX_ASSERT_PKT(fx, m, FX_CLIENT, 0, TH_A, 1, 1, 100);
    FX_ASSERT_RET(glass_tcp_info(CS(fx), cfd, &ci), 0);
    FX_CHECK(fx, d->seq == ci.iss + 1, "data at ISS+1");
    FX_CHECK(fx, ci.snd_nxt == ci.iss + 101 && ci.snd_una == ci.iss + 1 && ci.unacked == 100 &&
                     ci.send_q == 100,
             "in flight: nxt +%u una +%u unacked %u send_q %u", ci.snd_nxt - ci.iss,
             ci.snd_una - ci.iss, ci.unacked, ci.send_q);
    fx_run_for(fx, MS(100));
    FX_ASSERT_RET(glass_tcp_info(CS(fx), cfd, &ci), 0);
    FX_ASSERT_RET(glass_tcp_info(SS(fx), sfd, &si), 0);
    FX_CHECK(fx, ci.snd_una == ci.iss + 101 && ci.unacked == 0 && ci.send_q == 0, "acked");
    FX_CHECK(fx, si.rcv_nxt == ci.iss + 101 && si.recv_q == 100, "server rcv_nxt +%u recv_q %u",
             si.rcv_nxt - si.irs, si.recv_q);
    const struct fx_pkt *ack = fx_find_pkt(fx, m, FX_SERVER, TH_A, 0);
    FX_CHECK(fx, ack && ack->ack == si.rcv_nxt, "the server's ACK carries RCV.NXT");
    char buf[128];
    FX_ASSERT_RET(glass_recv(SS(fx), sfd, buf, sizeof buf, 0), 100);
    FX_ASSERT_RET(glass_tcp_info(SS(fx), sfd, &si), 0);
    FX_CHECK(fx, si.recv_q == 0, "read");
    struct glass_tcp_info gi;
    size_t len = sizeof gi;
    FX_ASSERT_RET(glass_getsockopt(CS(fx), cfd, GLASS_SOL_TCP, GLASS_TCP_INFO, &gi, &len), 0);
    FX_CHECK(fx, len == sizeof gi && gi.snd_una == ci.snd_una && gi.iss == ci.iss,
             "getsockopt(TCP_INFO) is the same snapshot");
}

static size_t ring_of_conn(struct fx *fx, int side, uint32_t conn, struct glass_transition *out,
                           size_t max)
{
    static struct glass_transition all[4096];
    uint64_t dropped = 99;
    size_t n = glass_stack_transitions(fx_st(fx, side), all, 4096, &dropped);
    FX_CHECK(fx, dropped == 0, "ring dropped %llu", (unsigned long long)dropped);
    size_t k = 0;
    for (size_t i = 0; i < n && k < max; i++)
        if (all[i].conn == conn)
            out[k++] = all[i];
    return k;
}

/* A closed and freed connection: its whole life is still in the stack's transition ring, in
 * order, with the observer's times, and glass_conn_history still returns it from there (an id
 * never used is -ENOTCONN). A connection reset while its handle is open keeps its history. */
static void test_closed_conn_history_readable_from_ring(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    long cid = glass_sock_conn_id(CS(fx), cfd), sid = glass_sock_conn_id(SS(fx), sfd);
    FX_CHECK(fx, cid >= 0 && sid >= 0, "conn ids");
    fx_close(fx, FX_CLIENT, cfd);
    fx_run_for(fx, MS(50));
    fx_close(fx, FX_SERVER, sfd);
    fx_run_for(fx, SEC(61));

    static const struct {
        uint8_t from, to, cause;
    } want_c[] = {
        {GLASS_TCP_CLOSED, GLASS_TCP_SYN_SENT, GLASS_CAUSE_APP_CONNECT},
        {GLASS_TCP_SYN_SENT, GLASS_TCP_ESTABLISHED, GLASS_CAUSE_RCV_SYN_ACK},
        {GLASS_TCP_ESTABLISHED, GLASS_TCP_FIN_WAIT_1, GLASS_CAUSE_APP_CLOSE},
        {GLASS_TCP_FIN_WAIT_1, GLASS_TCP_FIN_WAIT_2, GLASS_CAUSE_RCV_ACK_OF_FIN},
        {GLASS_TCP_FIN_WAIT_2, GLASS_TCP_TIME_WAIT, GLASS_CAUSE_RCV_FIN},
        {GLASS_TCP_TIME_WAIT, GLASS_TCP_CLOSED, GLASS_CAUSE_TIMEOUT_2MSL},
    },
      want_s[] = {
          {GLASS_TCP_LISTEN, GLASS_TCP_SYN_RCVD, GLASS_CAUSE_RCV_SYN},
          {GLASS_TCP_SYN_RCVD, GLASS_TCP_ESTABLISHED, GLASS_CAUSE_RCV_ACK_OF_SYN},
          {GLASS_TCP_ESTABLISHED, GLASS_TCP_CLOSE_WAIT, GLASS_CAUSE_RCV_FIN},
          {GLASS_TCP_CLOSE_WAIT, GLASS_TCP_LAST_ACK, GLASS_CAUSE_APP_CLOSE},
          {GLASS_TCP_LAST_ACK, GLASS_TCP_CLOSED, GLASS_CAUSE_RCV_ACK_OF_FIN},
      };
    struct glass_transition h[16];
    size_t n = ring_of_conn(fx, FX_CLIENT, (uint32_t)cid, h, 16);
    FX_CHECK(fx, n == 6, "client conn: %zu transitions in the ring, want 6", n);
    for (size_t i = 0; i < n; i++) {
        FX_CHECK(fx, h[i].from == want_c[i].from && h[i].to == want_c[i].to &&
                         h[i].cause == want_c[i].cause,
                 "client ring entry %zu: %s -> %s (%s)", i, glass_tcp_state_name(h[i].from),
                 glass_tcp_state_name(h[i].to), glass_tcp_cause_name(h[i].cause));
        const struct fx_trans *o = fx_find_trans(fx, FX_CLIENT, cid, h[i].from, h[i].to,
                                                 h[i].cause, 0);
        FX_CHECK(fx, o && o->t.at == h[i].at, "ring entry %zu has the observer's time", i);
    }
    n = ring_of_conn(fx, FX_SERVER, (uint32_t)sid, h, 16);
    FX_CHECK(fx, n == 5, "server conn: %zu transitions in the ring, want 5", n);
    for (size_t i = 0; i < n; i++)
        FX_CHECK(fx, h[i].from == want_s[i].from && h[i].to == want_s[i].to &&
                         h[i].cause == want_s[i].cause,
                 "server ring entry %zu: %s -> %s (%s)", i, glass_tcp_state_name(h[i].from),
                 glass_tcp_state_name(h[i].to), glass_tcp_cause_name(h[i].cause));
    /* glass_conn_history of the freed connections is still served, from the stack ring. */
    struct glass_transition g[16];
    long k = glass_conn_history(CS(fx), (uint32_t)cid, g, 16);
    FX_CHECK(fx, k == 6, "glass_conn_history(freed client conn) = %s, want 6", fx_ret_name(k));
    n = ring_of_conn(fx, FX_CLIENT, (uint32_t)cid, h, 16);
    FX_CHECK(fx, memcmp(g, h, 6 * sizeof g[0]) == 0, "history == ring entries");
    k = glass_conn_history(SS(fx), (uint32_t)sid, g, 16);
    FX_CHECK(fx, k == 5, "glass_conn_history(freed server conn) = %s, want 5", fx_ret_name(k));
    FX_CHECK(fx, g[4].to == GLASS_TCP_CLOSED && g[0].from == GLASS_TCP_LISTEN, "server history");
    FX_ASSERT_RET(glass_conn_history(CS(fx), 999999, g, 16), -GLASS_ENOTCONN);

    /* Reset while the handle is open: the connection (CLOSED) keeps its history. */
    int c2, s2;
    fx_connect_accept(fx, &c2, &s2);
    long c2id = glass_sock_conn_id(CS(fx), c2);
    fx_set_linger(fx, FX_SERVER, s2, 1, 0);
    fx_close(fx, FX_SERVER, s2);
    fx_run_for(fx, MS(50));
    FX_ASSERT_STATE(fx, FX_CLIENT, c2, GLASS_TCP_CLOSED);
    k = glass_conn_history(CS(fx), (uint32_t)c2id, h, 16);
    FX_CHECK(fx, k == 3, "history of the reset connection: %s entries, want 3", fx_ret_name(k));
    FX_CHECK(fx, h[2].from == GLASS_TCP_ESTABLISHED && h[2].to == GLASS_TCP_CLOSED &&
                     h[2].cause == GLASS_CAUSE_RCV_RST && h[2].has_seg &&
                     (h[2].seg_flags & TH_R),
             "ends ESTABLISHED -> CLOSED rcv_rst");
    FX_CHECK(fx, glass_conn_history(CS(fx), (uint32_t)c2id, h, 1) == 1, "max is respected");
    FX_CHECK(fx, h[0].from == GLASS_TCP_CLOSED && h[0].to == GLASS_TCP_SYN_SENT, "oldest first");
}

/* ---- 1 MiB each way with a slow reader ---------------------------------------------------- */

#define XFER (1u << 20)

static uint8_t pattern(size_t i, int dir)
{
    uint32_t x = (uint32_t)i * 2654435761u;
    return (uint8_t)((x >> 13) ^ (x >> 24) ^ (dir ? 0xA5u : 0x3Cu) ^ (uint32_t)(i >> 16));
}

struct xfer {
    uint8_t *tx[2], *rx[2];
    size_t sent[2], rcvd[2];
    bool eagain[2];
    int fd[2]; /* dir 0: client -> server, dir 1: server -> client; fd[side] */
};

static void push(struct fx *fx, struct xfer *x, int dir)
{
    int side = dir == 0 ? FX_CLIENT : FX_SERVER;
    while (x->sent[dir] < XFER) {
        size_t n = XFER - x->sent[dir];
        if (n > 16384)
            n = 16384;
        long r = glass_send(fx_st(fx, side), x->fd[side], x->tx[dir] + x->sent[dir], n, 0);
        if (r == -GLASS_EAGAIN) {
            x->eagain[dir] = true;
            return;
        }
        FX_CHECK(fx, r > 0 && (size_t)r <= n, "send dir %d = %s", dir, fx_ret_name(r));
        x->sent[dir] += (size_t)r;
    }
}

static void pull(struct fx *fx, struct xfer *x, int dir, size_t budget)
{
    int side = dir == 0 ? FX_SERVER : FX_CLIENT;
    while (budget > 0 && x->rcvd[dir] < XFER) {
        size_t n = XFER - x->rcvd[dir];
        if (n > budget)
            n = budget;
        long r = glass_recv(fx_st(fx, side), x->fd[side], x->rx[dir] + x->rcvd[dir], n, 0);
        if (r == -GLASS_EAGAIN)
            return;
        FX_CHECK(fx, r > 0 && (size_t)r <= n, "recv dir %d = %s", dir, fx_ret_name(r));
        x->rcvd[dir] += (size_t)r;
        budget -= (size_t)r;
    }
}

/* Both directions at once. First nobody reads for 2 s: each sender fills the peer's window
 * (the receiver advertises a zero window) and its own send buffer, and then sees -EAGAIN. Then
 * each side reads 8 KiB every 10 ms; the transfer completes byte-exact. */
static void test_established_transfer_1mib_both_ways_slow_reader(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    static struct xfer x;
    memset(&x, 0, sizeof x);
    static uint8_t bufs[4][XFER];
    for (int d = 0; d < 2; d++) {
        x.tx[d] = bufs[d];
        x.rx[d] = bufs[2 + d];
        for (size_t i = 0; i < XFER; i++)
            x.tx[d][i] = pattern(i, d);
        memset(x.rx[d], 0, XFER);
    }
    x.fd[FX_CLIENT] = cfd;
    x.fd[FX_SERVER] = sfd;
    size_t m = fx_mark(fx);

    /* dir d's receiver advertised a zero window while nobody read (asserted at the end, so
     * that a failure still tells whether the transfer itself completes) */
    bool zero[2] = {false, false};
    for (int step = 0; step < 200; step++) {
        push(fx, &x, 0);
        push(fx, &x, 1);
        fx_run_for(fx, MS(10));
    }
    const uint32_t sndbuf = fx->cfg[FX_CLIENT].sndbuf, rcvbuf = fx->cfg[FX_CLIENT].rcvbuf;
    for (int d = 0; d < 2; d++) {
        int snd = d == 0 ? FX_CLIENT : FX_SERVER, rcv = 1 - snd;
        FX_CHECK(fx, x.eagain[d], "dir %d: the sender never saw -EAGAIN", d);
        FX_ASSERT_RET(glass_send(fx_st(fx, snd), x.fd[snd], x.tx[d], 1, 0), -GLASS_EAGAIN);
        struct glass_pollfd p = {x.fd[snd], GLASS_POLLOUT, 0};
        glass_poll(fx_st(fx, snd), &p, 1);
        FX_CHECK(fx, !(p.revents & GLASS_POLLOUT), "dir %d: POLLOUT while the buffer is full", d);
        FX_CHECK(fx, x.sent[d] < XFER && x.sent[d] <= (size_t)sndbuf + rcvbuf,
                 "dir %d: %zu bytes accepted with nobody reading (sndbuf %u + rcvbuf %u)", d,
                 x.sent[d], sndbuf, rcvbuf);
        struct glass_tcp_info ri;
        FX_ASSERT_RET(glass_tcp_info(fx_st(fx, rcv), x.fd[rcv], &ri), 0);
        FX_CHECK(fx, ri.recv_q > 0 && ri.recv_q <= rcvbuf, "dir %d: receiver holds %u bytes", d,
                 ri.recv_q);
        for (size_t i = 0; fx_nth_pkt(fx, m, rcv, i); i++) {
            const struct fx_pkt *p0 = fx_nth_pkt(fx, m, rcv, i);
            if ((p0->flags & TH_A) && p0->win == 0)
                zero[d] = true;
        }
    }

    glass_time_t deadline = fx_now(fx) + SEC(600);
    while ((x.rcvd[0] < XFER || x.rcvd[1] < XFER) && fx_now(fx) < deadline) {
        pull(fx, &x, 0, 8192);
        pull(fx, &x, 1, 8192);
        push(fx, &x, 0);
        push(fx, &x, 1);
        fx_run_for(fx, MS(10));
    }
    for (int d = 0; d < 2; d++) {
        FX_CHECK(fx, x.sent[d] == XFER && x.rcvd[d] == XFER, "dir %d: sent %zu received %zu of %u",
                 d, x.sent[d], x.rcvd[d], XFER);
        size_t bad = XFER;
        for (size_t i = 0; i < XFER; i++)
            if (x.rx[d][i] != x.tx[d][i]) {
                bad = i;
                break;
            }
        FX_CHECK(fx, bad == XFER, "dir %d: first wrong byte at offset %zu", d, bad);
    }
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_ESTABLISHED);
    FX_ASSERT_STATE(fx, FX_SERVER, sfd, GLASS_TCP_ESTABLISHED);
    FX_CHECK(fx, fx_count_pkts(fx, m, FX_ANY, TH_R, 0) == 0, "no RST");
    /* With nobody reading, the window must fill up completely: a sender left with a usable
     * window smaller than an MSS sends it after the override timeout (RFC 9293 §3.8.6.2.1 (4);
     * Linux tcp_write_wakeup), and the receiver then advertises 0. */
    for (int d = 0; d < 2; d++)
        FX_CHECK(fx, zero[d], "dir %d: the %s never advertised a zero window while nobody read",
                 d, fx_side_name(d == 0 ? FX_SERVER : FX_CLIENT));
    char b[4];
    FX_ASSERT_RET(glass_recv(CS(fx), cfd, b, sizeof b, 0), -GLASS_EAGAIN);
    FX_ASSERT_RET(glass_recv(SS(fx), sfd, b, sizeof b, 0), -GLASS_EAGAIN);
}

/* Per-connection memory (docs/performance.md): a connection keeps its last 2 transitions
 * compactly, the trace ring keeps them in full until it overwrites them, and history_len > 0
 * adds a full per-connection ring. With a 1-entry trace ring, a client in TIME_WAIT (5
 * transitions, its handle still open) is reported as 1 compact entry (ms time, flags, no
 * segment numbers) then the full one the ring still has; a server with no trace ring and
 * history_len 16 has all its transitions in full. */
static void test_conn_history_compact_and_full(void **state)
{
    struct fx *fx = *state;
    fx->cfg[FX_CLIENT].trace_ring = 1;
    fx->cfg[FX_SERVER].trace_ring = 0;
    fx->cfg[FX_SERVER].history_len = 16;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    long cid = glass_sock_conn_id(CS(fx), cfd), sid = glass_sock_conn_id(SS(fx), sfd);
    /* shutdown, not close: the client keeps its TCB in TIME_WAIT (an orphan's would become a
     * compact TIME-WAIT record, timewait.c) */
    FX_ASSERT_RET(glass_shutdown(CS(fx), cfd, GLASS_SHUT_WR), 0);
    fx_run_for(fx, MS(50));
    fx_close(fx, FX_SERVER, sfd);
    struct glass_transition h[8];
    long k = glass_conn_history(SS(fx), (uint32_t)sid, h, 8);
    FX_CHECK(fx, k == 4, "server history: %s entries, want 4", fx_ret_name(k));
    FX_CHECK(fx, k == 4 && h[0].from == GLASS_TCP_LISTEN && h[1].has_seg && h[2].has_seg &&
                     h[3].to == GLASS_TCP_LAST_ACK,
             "server: full records from its own ring");
    fx_run_for(fx, MS(50));
    k = glass_conn_history(CS(fx), (uint32_t)cid, h, 8);
    FX_CHECK(fx, k == 2, "client history: %s entries, want 2", fx_ret_name(k));
    static const uint8_t want[2][2] = {{GLASS_TCP_FIN_WAIT_1, GLASS_TCP_FIN_WAIT_2},
                                       {GLASS_TCP_FIN_WAIT_2, GLASS_TCP_TIME_WAIT}};
    for (long i = 0; i < k && i < 2; i++) {
        FX_CHECK(fx, h[i].from == want[i][0] && h[i].to == want[i][1] && h[i].conn == (uint32_t)cid,
                 "client entry %ld: %s -> %s", i, glass_tcp_state_name(h[i].from),
                 glass_tcp_state_name(h[i].to));
        const struct fx_trans *o = fx_find_trans(fx, FX_CLIENT, cid, h[i].from, h[i].to,
                                                 h[i].cause, 0);
        bool full = i >= 1;
        FX_CHECK(fx, o != NULL && (full ? o->t.at == h[i].at
                                        : h[i].at <= o->t.at + GLASS_MSEC(1) &&
                                              o->t.at <= h[i].at + GLASS_MSEC(1)),
                 "client entry %ld: time %s", i, full ? "exact" : "to the ms");
        FX_CHECK(fx, h[i].has_seg == full, "client entry %ld: segment numbers only in full", i);
    }
    FX_CHECK(fx, h[0].seg_flags == TH_A && h[0].cause == GLASS_CAUSE_RCV_ACK_OF_FIN,
             "compact entry keeps the cause and the segment's flags");
    FX_CHECK(fx, glass_conn_history(CS(fx), (uint32_t)cid, h, 1) == 1 &&
                     h[0].from == GLASS_TCP_FIN_WAIT_1,
             "max is respected, oldest first");
}

/* The zero-copy calls move a stream through buffers that wrap: what glass_send_commit adds is
 * what glass_recv_peek shows, byte for byte; spans never cross the end of a buffer; commit and
 * consume refuse more than there is; errors are glass_send's and glass_recv's. */
static void test_established_zero_copy_send_recv_wraps(void **state)
{
    struct fx *fx = *state;
    fx->cfg[FX_CLIENT].sndbuf = 20000;
    fx->cfg[FX_SERVER].rcvbuf = 30000;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    const uint64_t key = 77, total = 200000;
    uint64_t sent = 0, got = 0;
    int wraps = 0;
    void *wp;
    const void *rp;
    FX_ASSERT_RET(glass_send_reserve(CS(fx), cfd, NULL), -GLASS_EFAULT);
    FX_ASSERT_RET(glass_send_commit(CS(fx), cfd, 0), 0);
    for (int round = 0; round < 2000 && got < total; round++) {
        long n;
        while (sent < total && (n = glass_send_reserve(CS(fx), cfd, &wp)) > 0) {
            size_t k = (uint64_t)n < total - sent ? (size_t)n : (size_t)(total - sent);
            if (k > 7000)
                k = 7000; /* commit less than the span sometimes, so spans start anywhere */
            glass_stream_fill(key, sent, wp, k);
            FX_ASSERT_RET(glass_send_commit(CS(fx), cfd, (size_t)n + 1), -GLASS_EINVAL);
            FX_ASSERT_RET(glass_send_commit(CS(fx), cfd, k), (long)k);
            sent += k;
        }
        fx_run_for(fx, MS(5));
        bool first = true;
        while ((n = glass_recv_peek(SS(fx), sfd, &rp)) > 0) {
            assert_true(glass_stream_check(key, got, rp, (size_t)n) == (size_t)n);
            FX_ASSERT_RET(glass_recv_consume(SS(fx), sfd, (size_t)n), n);
            got += (uint64_t)n;
            wraps += !first; /* a second span at once: the first ended at the buffer's end */
            first = false;
        }
        FX_ASSERT_RET(n, -GLASS_EAGAIN);
    }
    assert_true(got == total);
    assert_true(wraps > 0);
    FX_ASSERT_RET(glass_recv_consume(SS(fx), sfd, 1), -GLASS_EINVAL);
    FX_ASSERT_RET(glass_recv_consume(SS(fx), sfd, 0), 0);

    /* After shutdown(SHUT_WR): -EPIPE, as glass_send; the reader sees the end of the stream. */
    FX_ASSERT_RET(glass_shutdown(CS(fx), cfd, GLASS_SHUT_WR), 0);
    FX_ASSERT_RET(glass_send_reserve(CS(fx), cfd, &wp), -GLASS_EPIPE);
    FX_ASSERT_RET(glass_send_commit(CS(fx), cfd, 1), -GLASS_EPIPE);
    fx_run_for(fx, MS(50));
    FX_ASSERT_RET(glass_recv_peek(SS(fx), sfd, &rp), 0);
    FX_ASSERT_RET(glass_recv_peek(SS(fx), fx->lfd, &rp), -GLASS_ENOTCONN);
    FX_ASSERT_RET(glass_recv_peek(SS(fx), 999, &rp), -GLASS_EBADF);
    FX_ASSERT_RET(glass_send_reserve(CS(fx), 999, &wp), -GLASS_EBADF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_closed_send_epipe_recv_enotconn),
        FX_TEST(test_syn_sent_connect_again_ealready_then_eisconn),
        FX_TEST(test_closed_accept_einval),
        FX_TEST(test_established_recv_empty_eagain),
        FX_TEST(test_closed_fd_any_call_ebadf),
        FX_TEST(test_bound_bind_again_einval),
        FX_TEST(test_listen_bind_same_port_eaddrinuse),
        FX_TEST(test_time_wait_bind_eaddrinuse_then_reuseaddr_ok),
        FX_TEST(test_established_getsockname_getpeername),
        FX_TEST(test_each_state_poll_revents_linux),
        FX_TEST(test_established_tcp_info_matches_wire),
        FX_TEST(test_closed_conn_history_readable_from_ring),
        FX_TEST(test_conn_history_compact_and_full),
        FX_TEST(test_established_transfer_1mib_both_ways_slow_reader),
        FX_TEST(test_established_zero_copy_send_recv_wraps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
