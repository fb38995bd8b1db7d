/* glass demo — the scenarios: one script per path through the TCP state machine.
 *
 * Between them they take every legal arc of STATE-MACHINE.md at least once. Each script makes
 * socket calls at chosen virtual times (milliseconds; the link's one-way delay is 10 ms, so a
 * connection started at 0 is established at 20 ms on the client and 30 ms on the server),
 * optionally drops packets with a filter, and ends with what must have happened. The words in
 * quotes in the explanations are the seed document's (seed/tcp-state-transitions.txt). */
#include "scenarios.h"

#include <glass/err.h>
#include <glass/socket.h>
#include <glass/stack.h>
#include <glass/stats.h>
#include <glass/trace.h>

#include <string.h>

#define SERVER_PORT 80
#define CLIENT_PORT 40000
#define PEER_PORT 40001 /* the server's own port in the simultaneous opens */

#define C DEMO_CLIENT
#define S DEMO_SERVER

/* Short names for states and causes in expectations. */
#define CLOSED GLASS_TCP_CLOSED
#define LISTEN GLASS_TCP_LISTEN
#define SYN_SENT GLASS_TCP_SYN_SENT
#define SYN_RCVD GLASS_TCP_SYN_RCVD
#define ESTABLISHED GLASS_TCP_ESTABLISHED
#define FIN_WAIT_1 GLASS_TCP_FIN_WAIT_1
#define FIN_WAIT_2 GLASS_TCP_FIN_WAIT_2
#define CLOSING GLASS_TCP_CLOSING
#define TIME_WAIT GLASS_TCP_TIME_WAIT
#define CLOSE_WAIT GLASS_TCP_CLOSE_WAIT
#define LAST_ACK GLASS_TCP_LAST_ACK
#define ANY_CAUSE (-1)

/* ---- building blocks ------------------------------------------------------------------------ */

/* server: socket, [SO_REUSEADDR], bind 192.0.2.2:80, listen. */
static int server_listen(struct demo *d, bool reuse)
{
    int fd = demo_socket(d, S);
    if (reuse)
        demo_reuseaddr(d, S, fd);
    demo_bind(d, S, fd, SERVER_PORT, 0);
    demo_listen(d, S, fd, 8, 0);
    d->side[S].lfd = fd;
    return fd;
}

/* client: socket, [SO_REUSEADDR], [bind port], connect to the server's port 80. */
static int client_connect(struct demo *d, uint16_t port, bool reuse)
{
    int fd = demo_socket(d, C);
    if (reuse)
        demo_reuseaddr(d, C, fd);
    if (port != 0)
        demo_bind(d, C, fd, port, 0);
    demo_connect(d, C, fd, SERVER_PORT, -GLASS_EINPROGRESS);
    d->side[C].fd = fd;
    return fd;
}

/* A listener, a connection, and the handshake done by 100 ms. */
static void establish(struct demo *d, uint16_t client_port, bool client_reuse, bool server_reuse)
{
    server_listen(d, server_reuse);
    client_connect(d, client_port, client_reuse);
    demo_at(d, 100);
    demo_expect(d, d->side[C].n_connected == 1 && d->side[S].n_accepted == 1,
                "the handshake did not complete (client connected %d, server accepted %d)",
                d->side[C].n_connected, d->side[S].n_accepted);
}

/* Both sides connect() to each other at time 0 from fixed ports: the SYNs cross. */
static void simultaneous_connect(struct demo *d)
{
    int cfd = demo_socket(d, C);
    demo_bind(d, C, cfd, CLIENT_PORT, 0);
    int sfd = demo_socket(d, S);
    demo_bind(d, S, sfd, PEER_PORT, 0);
    demo_connect(d, C, cfd, PEER_PORT, -GLASS_EINPROGRESS);
    demo_connect(d, S, sfd, CLIENT_PORT, -GLASS_EINPROGRESS);
    d->side[C].fd = cfd;
    d->side[S].fd = sfd;
}

static bool has(const struct glass_pkt_summary *s, unsigned flags)
{
    return (s->flags & flags) == flags;
}

/* ---- the normal paths ------------------------------------------------------------------------ */

static void run_handshake(struct demo *d)
{
    establish(d, 0, false, false);
    demo_send(d, C, d->side[C].fd, "hello", 5);
    demo_at(d, 200);
    demo_send(d, S, d->side[S].fd, "world", 5);
    demo_at(d, 300);
    demo_note(d, "both sides read everything; the connection stays open");
    demo_recv(d, S, d->side[S].fd, -GLASS_EAGAIN);
    demo_expect_arc(d, S, CLOSED, LISTEN, GLASS_CAUSE_APP_LISTEN);
    demo_expect_arc(d, C, CLOSED, SYN_SENT, GLASS_CAUSE_APP_CONNECT);
    demo_expect_arc(d, S, LISTEN, SYN_RCVD, GLASS_CAUSE_RCV_SYN);
    demo_expect_arc(d, C, SYN_SENT, ESTABLISHED, GLASS_CAUSE_RCV_SYN_ACK);
    demo_expect_arc(d, S, SYN_RCVD, ESTABLISHED, GLASS_CAUSE_RCV_ACK_OF_SYN);
    demo_expect(d, d->side[S].rx_bytes == 5 && d->side[C].rx_bytes == 5,
                "data not delivered (server read %u bytes, client %u)",
                (unsigned)d->side[S].rx_bytes, (unsigned)d->side[C].rx_bytes);
}

static void run_active_close(struct demo *d)
{
    establish(d, 0, false, false);
    demo_at(d, 1000);
    demo_close(d, C, d->side[C].fd, 0);
    demo_at(d, 1500);
    demo_close(d, S, d->side[S].fd, 0);
    demo_at(d, 63000);
    demo_expect_arc(d, C, ESTABLISHED, FIN_WAIT_1, GLASS_CAUSE_APP_CLOSE);
    demo_expect_arc(d, S, ESTABLISHED, CLOSE_WAIT, GLASS_CAUSE_RCV_FIN);
    demo_expect_arc(d, C, FIN_WAIT_1, FIN_WAIT_2, GLASS_CAUSE_RCV_ACK_OF_FIN);
    demo_expect_arc(d, S, CLOSE_WAIT, LAST_ACK, GLASS_CAUSE_APP_CLOSE);
    demo_expect_arc(d, C, FIN_WAIT_2, TIME_WAIT, GLASS_CAUSE_RCV_FIN);
    demo_expect_arc(d, S, LAST_ACK, CLOSED, GLASS_CAUSE_RCV_ACK_OF_FIN);
    demo_expect_arc(d, C, TIME_WAIT, CLOSED, GLASS_CAUSE_TIMEOUT_2MSL);
    glass_time_t in = demo_saw_at(d, C, FIN_WAIT_2, TIME_WAIT, ANY_CAUSE, 0);
    glass_time_t out = demo_saw_at(d, C, TIME_WAIT, CLOSED, ANY_CAUSE, 0);
    demo_expect(d, in != GLASS_TIME_NEVER && out != GLASS_TIME_NEVER && out - in >= GLASS_SEC(60) &&
                       out - in < GLASS_SEC(61),
                "TIME_WAIT should last 2MSL = 60 s");
    demo_expect_all_closed(d);
}

static void run_passive_close(struct demo *d)
{
    establish(d, 0, false, false);
    demo_at(d, 1000);
    demo_send(d, C, d->side[C].fd, "GET / HTTP/1.0\r\n\r\n", 18);
    demo_at(d, 1100);
    demo_send(d, S, d->side[S].fd, "HTTP/1.0 200 OK\r\n\r\nhi", 21);
    demo_at(d, 1500);
    demo_close(d, S, d->side[S].fd, 0);
    demo_at(d, 2500);
    demo_close(d, C, d->side[C].fd, 0);
    demo_at(d, 63000);
    demo_expect(d, d->side[C].rx_bytes == 21, "client read %u bytes of the 21-byte response",
                (unsigned)d->side[C].rx_bytes);
    demo_expect_arc(d, C, ESTABLISHED, CLOSE_WAIT, GLASS_CAUSE_RCV_FIN);
    demo_expect_arc(d, C, CLOSE_WAIT, LAST_ACK, GLASS_CAUSE_APP_CLOSE);
    demo_expect_arc(d, C, LAST_ACK, CLOSED, GLASS_CAUSE_RCV_ACK_OF_FIN);
    demo_expect_arc(d, S, ESTABLISHED, FIN_WAIT_1, GLASS_CAUSE_APP_CLOSE);
    demo_expect_arc(d, S, FIN_WAIT_1, FIN_WAIT_2, GLASS_CAUSE_RCV_ACK_OF_FIN);
    demo_expect_arc(d, S, FIN_WAIT_2, TIME_WAIT, GLASS_CAUSE_RCV_FIN);
    demo_expect_arc(d, S, TIME_WAIT, CLOSED, GLASS_CAUSE_TIMEOUT_2MSL);
    demo_expect_all_closed(d);
}

static void run_simultaneous_open(struct demo *d)
{
    simultaneous_connect(d);
    demo_at(d, 100);
    for (int side = 0; side < DEMO_SIDES; side++) {
        demo_expect_arc(d, side, CLOSED, SYN_SENT, GLASS_CAUSE_APP_CONNECT);
        demo_expect_arc(d, side, SYN_SENT, SYN_RCVD, GLASS_CAUSE_RCV_SYN);
        demo_expect_arc(d, side, SYN_RCVD, ESTABLISHED, GLASS_CAUSE_RCV_ACK_OF_SYN);
        demo_expect(d, d->side[side].n_connected == 1, "%s: connect() did not complete",
                    side == C ? "client" : "server");
    }
}

static void run_simultaneous_close(struct demo *d)
{
    establish(d, 0, false, false);
    demo_at(d, 1000);
    demo_close(d, C, d->side[C].fd, 0);
    demo_close(d, S, d->side[S].fd, 0);
    demo_at(d, 63000);
    for (int side = 0; side < DEMO_SIDES; side++) {
        demo_expect_arc(d, side, ESTABLISHED, FIN_WAIT_1, GLASS_CAUSE_APP_CLOSE);
        demo_expect_arc(d, side, FIN_WAIT_1, CLOSING, GLASS_CAUSE_RCV_FIN);
        demo_expect_arc(d, side, CLOSING, TIME_WAIT, GLASS_CAUSE_RCV_ACK_OF_FIN);
        demo_expect_arc(d, side, TIME_WAIT, CLOSED, GLASS_CAUSE_TIMEOUT_2MSL);
    }
    demo_expect_all_closed(d);
}

static void run_fin_ack_shortcut(struct demo *d)
{
    establish(d, 0, false, false);
    d->side[S].close_on_rdhup = true;
    demo_at(d, 1000);
    demo_close(d, C, d->side[C].fd, 0);
    demo_at(d, 63000);
    demo_expect_arc(d, S, ESTABLISHED, CLOSE_WAIT, GLASS_CAUSE_RCV_FIN);
    demo_expect_arc(d, S, CLOSE_WAIT, LAST_ACK, GLASS_CAUSE_APP_CLOSE);
    demo_expect_no_arc(d, C, FIN_WAIT_1, FIN_WAIT_2);
    demo_expect_arc(d, C, FIN_WAIT_1, TIME_WAIT, GLASS_CAUSE_RCV_FIN_ACK);
    demo_expect_arc(d, S, LAST_ACK, CLOSED, GLASS_CAUSE_RCV_ACK_OF_FIN);
    demo_expect_arc(d, C, TIME_WAIT, CLOSED, GLASS_CAUSE_TIMEOUT_2MSL);
    demo_expect(d, d->side[S].tx_fins == 1, "the server sent %u FINs, expected one (with the ACK)",
                (unsigned)d->side[S].tx_fins);
    demo_expect_all_closed(d);
}

static void run_half_close(struct demo *d)
{
    establish(d, 0, false, false);
    demo_at(d, 1000);
    demo_shutdown(d, C, d->side[C].fd, GLASS_SHUT_WR, 0);
    demo_at(d, 1500);
    static const char more[] = "data after your FIN";
    demo_send(d, S, d->side[S].fd, more, (long)strlen(more));
    demo_at(d, 1600);
    demo_send(d, C, d->side[C].fd, "x", -GLASS_EPIPE);
    demo_at(d, 2000);
    demo_close(d, S, d->side[S].fd, 0);
    demo_at(d, 3000);
    demo_close(d, C, d->side[C].fd, 0);
    demo_at(d, 63000);
    demo_expect_arc(d, C, ESTABLISHED, FIN_WAIT_1, GLASS_CAUSE_APP_SHUTDOWN_WR);
    demo_expect_arc(d, S, ESTABLISHED, CLOSE_WAIT, GLASS_CAUSE_RCV_FIN);
    demo_expect_arc(d, C, FIN_WAIT_1, FIN_WAIT_2, GLASS_CAUSE_RCV_ACK_OF_FIN);
    demo_expect(d, d->side[C].rx_bytes == strlen(more),
                "the client read %u bytes in FIN_WAIT_2, expected %u",
                (unsigned)d->side[C].rx_bytes, (unsigned)strlen(more));
    demo_expect_arc(d, S, CLOSE_WAIT, LAST_ACK, GLASS_CAUSE_APP_CLOSE);
    demo_expect_arc(d, C, FIN_WAIT_2, TIME_WAIT, GLASS_CAUSE_RCV_FIN);
    demo_expect_arc(d, S, LAST_ACK, CLOSED, GLASS_CAUSE_RCV_ACK_OF_FIN);
    demo_expect_arc(d, C, TIME_WAIT, CLOSED, GLASS_CAUSE_TIMEOUT_2MSL);
    demo_expect_all_closed(d);
}

/* ---- resets and aborts ---------------------------------------------------------------------- */

static void run_refused(struct demo *d)
{
    int fd = demo_socket(d, C);
    d->side[C].fd = fd;
    demo_connect(d, C, fd, 81, -GLASS_EINPROGRESS);
    demo_at(d, 100);
    demo_expect_arc(d, C, SYN_SENT, CLOSED, GLASS_CAUSE_RCV_RST);
    demo_expect_error(d, C, -GLASS_ECONNREFUSED);
    demo_expect_all_closed(d);
}

static void run_reset(struct demo *d)
{
    establish(d, 0, false, false);
    demo_at(d, 1000);
    demo_linger0(d, S, d->side[S].fd);
    demo_close(d, S, d->side[S].fd, 0);
    demo_at(d, 1100);
    demo_recv(d, C, d->side[C].fd, -GLASS_ECONNRESET);
    demo_send(d, C, d->side[C].fd, "anyone?", -GLASS_EPIPE);
    demo_at(d, 1200);
    demo_expect_arc(d, S, ESTABLISHED, CLOSED, GLASS_CAUSE_APP_ABORT);
    demo_expect_arc(d, C, ESTABLISHED, CLOSED, GLASS_CAUSE_RCV_RST);
    demo_expect_error(d, C, -GLASS_ECONNRESET);
    demo_expect_all_closed(d);
}

static void run_abort(struct demo *d)
{
    establish(d, CLIENT_PORT, false, false);
    demo_at(d, 1000);
    demo_linger0(d, C, d->side[C].fd);
    demo_close(d, C, d->side[C].fd, 0);
    demo_at(d, 1100);
    int fd = demo_socket(d, C);
    demo_bind(d, C, fd, CLIENT_PORT, 0);
    demo_close(d, C, fd, 0);
    demo_at(d, 1200);
    demo_expect_arc(d, C, ESTABLISHED, CLOSED, GLASS_CAUSE_APP_ABORT);
    demo_expect_arc(d, S, ESTABLISHED, CLOSED, GLASS_CAUSE_RCV_RST);
    demo_expect_no_arc(d, C, FIN_WAIT_1, TIME_WAIT);
    demo_expect(d, demo_saw(d, C, -1, TIME_WAIT, ANY_CAUSE) == 0, "the client entered TIME_WAIT");
    demo_expect(d, d->side[C].tx_fins == 0, "the client sent a FIN");
    demo_expect_error(d, S, -GLASS_ECONNRESET);
    demo_expect_all_closed(d);
}

static void run_unread_data_rst(struct demo *d)
{
    establish(d, 0, false, false);
    d->side[S].auto_read = false;
    demo_at(d, 1000);
    demo_send(d, C, d->side[C].fd, "a request nobody reads", 22);
    demo_at(d, 1500);
    demo_close(d, S, d->side[S].fd, 0);
    demo_at(d, 2000);
    demo_expect_arc(d, S, ESTABLISHED, CLOSED, GLASS_CAUSE_CLOSE_UNREAD);
    demo_expect_arc(d, C, ESTABLISHED, CLOSED, GLASS_CAUSE_RCV_RST);
    demo_expect(d, d->side[S].tx_fins == 0, "the server sent a FIN instead of an RST");
    demo_expect_error(d, C, -GLASS_ECONNRESET);
    demo_expect_all_closed(d);
}

static enum glass_sim_verdict drop_client_to_server(struct demo *d, int from,
                                                   const struct glass_pkt_summary *s)
{
    (void)d;
    (void)s;
    return from == C ? GLASS_SIM_DROP : GLASS_SIM_PASS;
}

static void config_syn_timeout(int side, struct glass_config *cfg)
{
    if (side == C) {
        cfg->syn_retries = 3;
        cfg->syn_linear_timeouts = 0; /* the classic back-off, as the description says */
    }
}

static void run_syn_timeout(struct demo *d)
{
    d->filter = drop_client_to_server;
    server_listen(d, false);
    client_connect(d, 0, false);
    demo_at(d, 30000);
    demo_expect_arc(d, C, SYN_SENT, CLOSED, GLASS_CAUSE_SYN_TIMEOUT);
    demo_expect_error(d, C, -GLASS_ETIMEDOUT);
    demo_expect(d, d->side[C].tx_syns == 4, "the client sent %u SYNs, expected 1 + syn_retries 3",
                (unsigned)d->side[C].tx_syns);
    demo_expect_all_closed(d);
}

static void run_listen_rst(struct demo *d)
{
    int lfd = server_listen(d, false);
    client_connect(d, 0, false);
    demo_at(d, 15);
    demo_note(d, "the client application gives up before the SYN,ACK arrives");
    demo_close(d, C, d->side[C].fd, 0);
    demo_at(d, 100);
    demo_accept(d, S, lfd, -GLASS_EAGAIN);
    demo_expect_arc(d, C, SYN_SENT, CLOSED, GLASS_CAUSE_APP_CLOSE);
    demo_expect_arc(d, S, SYN_RCVD, LISTEN, GLASS_CAUSE_RCV_RST);
    demo_expect_sock_state(d, S, lfd, LISTEN);
    demo_expect_all_closed(d);
}

static void run_close_in_syn_rcvd(struct demo *d)
{
    simultaneous_connect(d);
    demo_at(d, 15);
    demo_close(d, C, d->side[C].fd, 0);
    demo_at(d, 500);
    demo_close(d, S, d->side[S].fd, 0);
    demo_at(d, 63000);
    demo_expect_arc(d, C, SYN_SENT, SYN_RCVD, GLASS_CAUSE_RCV_SYN);
    demo_expect_arc(d, C, SYN_RCVD, FIN_WAIT_1, GLASS_CAUSE_APP_CLOSE);
    demo_expect_arc(d, S, -1, CLOSE_WAIT, GLASS_CAUSE_RCV_FIN);
    demo_expect_arc(d, C, -1, TIME_WAIT, ANY_CAUSE);
    demo_expect_all_closed(d);
}

/* Drop the first client packet sent after the server's FIN: the client's last ACK. */
static enum glass_sim_verdict drop_last_ack(struct demo *d, int from,
                                           const struct glass_pkt_summary *s)
{
    if (from == S && has(s, GLASS_TH_FIN)) {
        d->fstate[0] = 1;
        return GLASS_SIM_PASS;
    }
    if (from == C && d->fstate[0] == 1 && d->fstate[1] == 0) {
        d->fstate[1] = 1;
        return GLASS_SIM_DROP;
    }
    return GLASS_SIM_PASS;
}

static void run_time_wait_reack(struct demo *d)
{
    d->filter = drop_last_ack;
    establish(d, 0, false, false);
    demo_at(d, 1000);
    demo_close(d, C, d->side[C].fd, 0);
    demo_at(d, 1500);
    demo_close(d, S, d->side[S].fd, 0);
    demo_at(d, 66000);
    demo_expect_arc(d, C, FIN_WAIT_2, TIME_WAIT, GLASS_CAUSE_RCV_FIN);
    demo_expect(d, d->side[S].tx_fins == 2, "the server sent %u FINs, expected 2 (one retransmitted)",
                (unsigned)d->side[S].tx_fins);
    demo_expect_arc(d, S, LAST_ACK, CLOSED, GLASS_CAUSE_RCV_ACK_OF_FIN);
    demo_expect_arc(d, C, TIME_WAIT, CLOSED, GLASS_CAUSE_TIMEOUT_2MSL);
    demo_expect(d, glass_stack_mib(d->side[C].st, GLASS_MIB_TcpExtTCPRcvTimeWaitFin) == 1,
                "TcpExtTCPRcvTimeWaitFin is %u, expected 1",
                (unsigned)glass_stack_mib(d->side[C].st, GLASS_MIB_TcpExtTCPRcvTimeWaitFin));
    glass_time_t in = demo_saw_at(d, C, FIN_WAIT_2, TIME_WAIT, ANY_CAUSE, 0);
    glass_time_t out = demo_saw_at(d, C, TIME_WAIT, CLOSED, ANY_CAUSE, 0);
    demo_expect(d, in != GLASS_TIME_NEVER && out != GLASS_TIME_NEVER && out - in > GLASS_SEC(60),
                "2MSL was not restarted by the retransmitted FIN");
    demo_expect_all_closed(d);
}

static void run_fin_wait_2_timeout(struct demo *d)
{
    establish(d, 0, false, false);
    demo_at(d, 1000);
    demo_close(d, C, d->side[C].fd, 0);
    demo_at(d, 62000);
    demo_expect_arc(d, C, FIN_WAIT_2, CLOSED, GLASS_CAUSE_FIN_WAIT_2_TIMEOUT);
    demo_expect_sock_state(d, S, d->side[S].fd, CLOSE_WAIT);
    demo_at(d, 70000);
    demo_note(d, "the server application finally closes its socket");
    demo_close(d, S, d->side[S].fd, 0);
    demo_at(d, 71000);
    demo_expect_arc(d, S, CLOSE_WAIT, LAST_ACK, GLASS_CAUSE_APP_CLOSE);
    demo_expect_arc(d, S, LAST_ACK, CLOSED, GLASS_CAUSE_RCV_RST);
    demo_expect_all_closed(d);
}

static void run_reuseaddr(struct demo *d)
{
    int lfd = server_listen(d, true);
    client_connect(d, 0, false);
    demo_at(d, 100);
    demo_expect(d, d->side[S].n_accepted == 1, "the first connection was not accepted");
    demo_at(d, 1000);
    demo_close(d, S, d->side[S].fd, 0);
    demo_at(d, 1500);
    demo_close(d, C, d->side[C].fd, 0);
    demo_at(d, 2000);
    demo_note(d, "the server restarts: close the listener, listen again on port 80");
    demo_close(d, S, lfd, 0);
    demo_at(d, 2100);
    int fd = demo_socket(d, S);
    demo_bind(d, S, fd, SERVER_PORT, -GLASS_EADDRINUSE);
    demo_close(d, S, fd, 0);
    demo_at(d, 2200);
    fd = demo_socket(d, S);
    demo_reuseaddr(d, S, fd);
    demo_bind(d, S, fd, SERVER_PORT, 0);
    demo_listen(d, S, fd, 8, 0);
    d->side[S].lfd = fd;
    demo_at(d, 2300);
    client_connect(d, 0, false);
    demo_at(d, 2400);
    demo_expect(d, d->side[S].n_accepted == 2, "the second connection was not accepted");
    demo_at(d, 63000);
    demo_expect_arc(d, S, FIN_WAIT_2, TIME_WAIT, GLASS_CAUSE_RCV_FIN);
    demo_expect_arc(d, S, LISTEN, CLOSED, GLASS_CAUSE_APP_CLOSE);
    demo_expect_arc(d, S, TIME_WAIT, CLOSED, GLASS_CAUSE_TIMEOUT_2MSL);
    demo_expect(d, demo_saw(d, C, SYN_SENT, ESTABLISHED, ANY_CAUSE) == 2,
                "the client did not connect twice");
}

/* ---- the rarer arcs ------------------------------------------------------------------------ */

static enum glass_sim_verdict drop_server_synack(struct demo *d, int from,
                                                const struct glass_pkt_summary *s)
{
    (void)d;
    return from == S && has(s, GLASS_TH_SYN | GLASS_TH_ACK) ? GLASS_SIM_DROP : GLASS_SIM_PASS;
}

static void run_simultaneous_open_rst(struct demo *d)
{
    d->filter = drop_server_synack;
    simultaneous_connect(d);
    demo_at(d, 15);
    demo_note(d, "the server aborts its half-open connection");
    demo_linger0(d, S, d->side[S].fd);
    demo_close(d, S, d->side[S].fd, 0);
    demo_at(d, 200);
    demo_expect_arc(d, S, SYN_SENT, SYN_RCVD, GLASS_CAUSE_RCV_SYN);
    demo_expect_arc(d, C, SYN_SENT, SYN_RCVD, GLASS_CAUSE_RCV_SYN);
    demo_expect_arc(d, S, SYN_RCVD, CLOSED, GLASS_CAUSE_APP_ABORT);
    demo_expect_arc(d, C, SYN_RCVD, CLOSED, GLASS_CAUSE_RCV_RST);
    demo_expect_error(d, C, -GLASS_ECONNREFUSED);
    demo_expect_all_closed(d);
}

static enum glass_sim_verdict drop_server_syn(struct demo *d, int from,
                                             const struct glass_pkt_summary *s)
{
    (void)d;
    return from == S && has(s, GLASS_TH_SYN) ? GLASS_SIM_DROP : GLASS_SIM_PASS;
}

static void config_synack_timeout(int side, struct glass_config *cfg)
{
    if (side == C) {
        cfg->syn_retries = 3;
        cfg->syn_linear_timeouts = 0;
    } else {
        cfg->synack_retries = 2;
    }
}

static void run_synack_timeout(struct demo *d)
{
    d->filter = drop_server_syn;
    int lfd = server_listen(d, false);
    client_connect(d, 0, false);
    demo_at(d, 40000);
    demo_expect_arc(d, S, LISTEN, SYN_RCVD, GLASS_CAUSE_RCV_SYN);
    demo_expect_arc(d, S, SYN_RCVD, CLOSED, GLASS_CAUSE_SYNACK_TIMEOUT);
    demo_expect_arc(d, C, SYN_SENT, CLOSED, GLASS_CAUSE_SYN_TIMEOUT);
    demo_expect_error(d, C, -GLASS_ETIMEDOUT);
    demo_accept(d, S, lfd, -GLASS_EAGAIN);
    demo_expect_all_closed(d);
}

static enum glass_sim_verdict drop_client_fin(struct demo *d, int from,
                                             const struct glass_pkt_summary *s)
{
    (void)d;
    return from == C && has(s, GLASS_TH_FIN) ? GLASS_SIM_DROP : GLASS_SIM_PASS;
}

static void run_fin_wait_1_reset(struct demo *d)
{
    d->filter = drop_client_fin;
    establish(d, 0, false, false);
    demo_at(d, 1000);
    demo_shutdown(d, C, d->side[C].fd, GLASS_SHUT_WR, 0);
    demo_at(d, 1100);
    demo_linger0(d, S, d->side[S].fd);
    demo_close(d, S, d->side[S].fd, 0);
    demo_at(d, 1150);
    demo_recv(d, C, d->side[C].fd, -GLASS_ECONNRESET);
    demo_at(d, 2000);
    demo_expect_arc(d, C, ESTABLISHED, FIN_WAIT_1, GLASS_CAUSE_APP_SHUTDOWN_WR);
    demo_expect_arc(d, S, ESTABLISHED, CLOSED, GLASS_CAUSE_APP_ABORT);
    demo_expect_arc(d, C, FIN_WAIT_1, CLOSED, GLASS_CAUSE_RCV_RST);
    demo_expect_all_closed(d);
}

/* Pass each side's first FIN; once both have been sent, drop everything. */
static enum glass_sim_verdict drop_after_fins(struct demo *d, int from,
                                             const struct glass_pkt_summary *s)
{
    if (d->fstate[0] && d->fstate[1])
        return GLASS_SIM_DROP;
    if (has(s, GLASS_TH_FIN))
        d->fstate[from] = 1;
    return GLASS_SIM_PASS;
}

static void config_closing_timeout(int side, struct glass_config *cfg)
{
    (void)side;
    cfg->orphan_retries = 3;
}

static void run_closing_timeout(struct demo *d)
{
    establish(d, 0, false, false);
    d->filter = drop_after_fins;
    demo_at(d, 1000);
    demo_close(d, C, d->side[C].fd, 0);
    demo_close(d, S, d->side[S].fd, 0);
    demo_at(d, 40000);
    for (int side = 0; side < DEMO_SIDES; side++) {
        demo_expect_arc(d, side, FIN_WAIT_1, CLOSING, GLASS_CAUSE_RCV_FIN);
        demo_expect_arc(d, side, CLOSING, CLOSED, GLASS_CAUSE_RETRANS_TIMEOUT);
        demo_expect_no_arc(d, side, CLOSING, TIME_WAIT);
    }
    demo_expect_all_closed(d);
}

static void run_close_wait_reset(struct demo *d)
{
    establish(d, 0, false, false);
    demo_at(d, 1000);
    demo_shutdown(d, C, d->side[C].fd, GLASS_SHUT_WR, 0);
    demo_at(d, 1500);
    demo_linger0(d, C, d->side[C].fd);
    demo_close(d, C, d->side[C].fd, 0);
    demo_at(d, 1600);
    demo_send(d, S, d->side[S].fd, "too late", -GLASS_EPIPE);
    demo_recv(d, S, d->side[S].fd, DEMO_ANY);
    demo_at(d, 2000);
    demo_expect_arc(d, S, ESTABLISHED, CLOSE_WAIT, GLASS_CAUSE_RCV_FIN);
    demo_expect_arc(d, C, FIN_WAIT_2, CLOSED, GLASS_CAUSE_APP_ABORT);
    demo_expect_arc(d, S, CLOSE_WAIT, CLOSED, GLASS_CAUSE_RCV_RST);
    demo_expect_error(d, S, -GLASS_EPIPE);
    demo_expect_all_closed(d);
}

static enum glass_sim_verdict partition(struct demo *d, int from,
                                        const struct glass_pkt_summary *s)
{
    (void)from;
    (void)s;
    return d->fstate[0] ? GLASS_SIM_DROP : GLASS_SIM_PASS;
}

static void config_retrans_timeout(int side, struct glass_config *cfg)
{
    if (side == C)
        cfg->retries2 = 4;
}

static void run_retrans_timeout(struct demo *d)
{
    d->filter = partition;
    establish(d, 0, false, false);
    demo_at(d, 1000);
    demo_note(d, "the link partitions: every packet is lost from now on");
    d->fstate[0] = 1;
    demo_send(d, C, d->side[C].fd, "are you there?", 14);
    demo_at(d, 60000);
    demo_expect_arc(d, C, ESTABLISHED, CLOSED, GLASS_CAUSE_RETRANS_TIMEOUT);
    demo_expect_error(d, C, -GLASS_ETIMEDOUT);
    demo_expect(d, d->side[C].tx_data >= 2, "the client did not retransmit its data");
    demo_expect_sock_state(d, S, d->side[S].fd, ESTABLISHED);
}

static void run_time_wait_reuse(struct demo *d)
{
    establish(d, CLIENT_PORT, true, false);
    demo_at(d, 1000);
    demo_close(d, S, d->side[S].fd, 0);
    demo_at(d, 1500);
    demo_close(d, C, d->side[C].fd, 0);
    demo_at(d, 2000);
    demo_note(d, "the client reconnects from the same port while the server is in TIME_WAIT");
    client_connect(d, CLIENT_PORT, true);
    demo_at(d, 3000);
    demo_expect_arc(d, S, FIN_WAIT_2, TIME_WAIT, GLASS_CAUSE_RCV_FIN);
    demo_expect_arc(d, S, TIME_WAIT, CLOSED, GLASS_CAUSE_REUSED_BY_SYN);
    demo_expect(d, demo_saw(d, S, LISTEN, SYN_RCVD, ANY_CAUSE) == 2,
                "the server did not take the second SYN");
    demo_expect(d, demo_saw(d, C, SYN_SENT, ESTABLISHED, ANY_CAUSE) == 2,
                "the client did not connect twice");
    demo_expect(d, d->side[S].n_accepted == 2, "the server accepted %d connections, expected 2",
                d->side[S].n_accepted);
}

static void config_syncookies(int side, struct glass_config *cfg)
{
    if (side == S)
        cfg->syncookies = 2; /* every SYN answered with a cookie (docs/synflood.md) */
}

static void run_syn_cookie(struct demo *d)
{
    establish(d, 0, false, false);
    demo_send(d, C, d->side[C].fd, "hello", 5);
    demo_at(d, 200);
    demo_expect_arc(d, S, LISTEN, SYN_RCVD, GLASS_CAUSE_RCV_COOKIE_ACK);
    demo_expect_arc(d, S, SYN_RCVD, ESTABLISHED, GLASS_CAUSE_RCV_ACK_OF_SYN);
    demo_expect(d, demo_saw(d, S, LISTEN, SYN_RCVD, GLASS_CAUSE_RCV_SYN) == 0,
                "the server kept state for the SYN");
    demo_expect(d, d->side[S].rx_bytes == 5, "data not delivered (server read %u bytes)",
                (unsigned)d->side[S].rx_bytes);
}

/* ---- the table --------------------------------------------------------------------------- */

const struct scenario demo_scenarios[] = {
    {"handshake", "three-way handshake and one exchange of data",
     "connect() sends SYN (SYN_SENT: the client \"has sent a SYN\"); the server's child passes\n"
     "through SYN_RCVD, \"normally a short intermediate state\", to ESTABLISHED on the ACK.",
     NULL, run_handshake},
    {"active-close", "the client closes first: FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT for 2MSL",
     "The client closes first: FIN_WAIT_1 until its FIN is ACKed, FIN_WAIT_2 until the server's\n"
     "FIN, then TIME_WAIT, which lasts 2MSL (60 s) before CLOSED.",
     NULL, run_active_close},
    {"passive-close", "the server closes first: the client sits in CLOSE_WAIT until close()",
     "Seen from the side that receives the FIN: recv() returns 0 and the socket stays in\n"
     "CLOSE_WAIT until the application calls close() (\"in CLOSE_WAIT you need to close\").",
     NULL, run_passive_close},
    {"simultaneous-open", "both sides connect() at once: SYN_SENT -> SYN_RCVD on both",
     "Both sides connect() at the same moment and the SYNs cross: each goes SYN_SENT ->\n"
     "SYN_RCVD on the other's SYN, then ESTABLISHED on its SYN,ACK; no listener is involved.",
     NULL, run_simultaneous_open},
    {"simultaneous-close", "both sides close() at once: FIN_WAIT_1 -> CLOSING -> TIME_WAIT",
     "\"If both sides close a socket at almost the same time\", both FINs cross: each side gets\n"
     "a FIN before the ACK of its own and enters CLOSING, \"a rare state\", then TIME_WAIT.",
     NULL, run_simultaneous_close},
    {"fin-ack-shortcut", "FIN and ACK in one segment: FIN_WAIT_1 straight to TIME_WAIT",
     "The server closes inside its RDHUP callback, so its ACK and FIN leave in one segment: the\n"
     "client goes FIN_WAIT_1 straight to TIME_WAIT when FIN and ACK arrive together.",
     NULL, run_fin_ack_shortcut},
    {"half-close", "shutdown(SHUT_WR): the client still receives in FIN_WAIT_2",
     "shutdown(SHUT_WR) closes only the client's sending side: in FIN_WAIT_2 (\"half-closed:\n"
     "the socket can only receive\") it still reads what the server sends from CLOSE_WAIT.",
     NULL, run_half_close},
    {"refused", "connect() to a port nobody listens on: RST, ECONNREFUSED",
     "No socket listens on port 81: the server's stack answers the SYN with RST and the client\n"
     "goes SYN_SENT -> CLOSED; connect() fails with ECONNREFUSED.",
     NULL, run_refused},
    {"reset", "the server aborts: RST in ESTABLISHED, ECONNRESET",
     "The server aborts (close() with SO_LINGER {1,0}): an RST instead of a FIN. The client goes\n"
     "ESTABLISHED -> CLOSED; recv() reports ECONNRESET, then send() EPIPE.",
     NULL, run_reset},
    {"abort", "the client aborts with SO_LINGER {1,0}: no FIN, no TIME_WAIT",
     "close() with SO_LINGER {1,0} sends one RST and skips FIN_WAIT and TIME_WAIT, so port\n"
     "40000 can be bound again at once, without SO_REUSEADDR; the server gets ECONNRESET.",
     NULL, run_abort},
    {"unread-data-rst", "close() with unread data sends RST instead of FIN",
     "The server closes while the client's request is still unread: the stack sends RST, not FIN\n"
     "(RFC 9293 3.10.4, Linux), so the client learns its data was lost: ECONNRESET.",
     NULL, run_unread_data_rst},
    {"syn-timeout", "SYNs into a black hole: SYN_SENT -> CLOSED, ETIMEDOUT",
     "Every SYN is lost: in SYN_SENT the client waits for \"the second packet of the handshake\",\n"
     "retransmits with backoff (1 s, 2 s, 4 s) and gives up after syn_retries = 3: ETIMEDOUT.",
     config_syn_timeout, run_syn_timeout},
    {"listen-rst", "an RST takes the server's half-open child from SYN_RCVD back to LISTEN",
     "The client closes before the SYN,ACK arrives, and its stack answers the SYN,ACK with RST:\n"
     "the server's passively opened SYN_RCVD child returns to LISTEN; the listener carries on.",
     NULL, run_listen_rst},
    {"close-in-syn-rcvd", "close() in SYN_RCVD (simultaneous open): FIN_WAIT_1 at once",
     "During a simultaneous open the client calls close() while still in SYN_RCVD: it goes\n"
     "to FIN_WAIT_1 at once; its FIN leaves once its SYN is ACKed (as Linux), then it finishes\n"
     "like any active closer.",
     NULL, run_close_in_syn_rcvd},
    {"time-wait-reack", "the last ACK is lost: TIME_WAIT re-ACKs the FIN and restarts 2MSL",
     "The client's last ACK is lost, so the server in LAST_ACK retransmits its FIN; the client,\n"
     "in TIME_WAIT, ACKs it again and restarts 2MSL: why TIME_WAIT waits 2MSL.",
     NULL, run_time_wait_reack},
    {"fin-wait-2-timeout", "the peer never closes: FIN_WAIT_2 times out after 60 s",
     "The server never closes (CLOSE_WAIT, \"you need to close\"). The orphaned client leaves\n"
     "FIN_WAIT_2 after 60 s; the server's late FIN then meets no connection and gets an RST.",
     NULL, run_fin_wait_2_timeout},
    {"reuseaddr", "bind() during TIME_WAIT: EADDRINUSE, then SO_REUSEADDR succeeds",
     "\"During 2MSL the port cannot be used\": the server closed first, so port 80 is in\n"
     "TIME_WAIT. bind() fails with EADDRINUSE, and succeeds with SO_REUSEADDR on both sockets.",
     NULL, run_reuseaddr},
    {"simultaneous-open-rst", "RST in SYN_RCVD of an active open: ECONNREFUSED",
     "A simultaneous open whose server SYN,ACK is lost; the server aborts from SYN_RCVD. The\n"
     "client, reset in SYN_RCVD of an active open, goes to CLOSED: ECONNREFUSED.",
     NULL, run_simultaneous_open_rst},
    {"synack-timeout", "SYN,ACKs lost: the half-open child gives up (SYN_RCVD -> CLOSED)",
     "The server's SYN,ACKs never arrive: SYN_RCVD, \"normally very short\", lasts until\n"
     "synack_retries = 2 run out; the client gives up too (syn_timeout, ETIMEDOUT).",
     config_synack_timeout, run_synack_timeout},
    {"fin-wait-1-reset", "RST while in FIN_WAIT_1: CLOSED, ECONNRESET",
     "The client's FIN (shutdown(SHUT_WR)) is lost, so it is still in FIN_WAIT_1 when the\n"
     "server aborts: the RST takes FIN_WAIT_1 to CLOSED and recv() fails with ECONNRESET.",
     NULL, run_fin_wait_1_reset},
    {"closing-timeout", "simultaneous close, then silence: CLOSING -> CLOSED by retransmit timeout",
     "A simultaneous close where every packet after the two FINs is lost: both sides sit in\n"
     "CLOSING retransmitting their FIN until orphan_retries = 3 run out, then CLOSED.",
     config_closing_timeout, run_closing_timeout},
    {"close-wait-reset", "RST in CLOSE_WAIT: Linux reports EPIPE",
     "The server is in CLOSE_WAIT (it got the client's FIN) when the client aborts with RST:\n"
     "CLOSE_WAIT -> CLOSED, and the server's send() fails with EPIPE, not ECONNRESET.",
     NULL, run_close_wait_reset},
    {"retrans-timeout", "the link partitions: data retransmitted until ETIMEDOUT",
     "The link partitions while the client has data in flight: it retransmits with backoff\n"
     "until retries2 = 4 run out (ETIMEDOUT); the server still believes it is ESTABLISHED.",
     config_retrans_timeout, run_retrans_timeout},
    {"time-wait-reuse", "a new SYN takes over the server's TIME_WAIT 4-tuple",
     "The server closed first and holds the 4-tuple in TIME_WAIT; the client reconnects from\n"
     "the same port (SO_REUSEADDR) and its new SYN takes the 4-tuple over (RFC 6191, Linux).",
     NULL, run_time_wait_reuse},
    {"syn-cookie", "a SYN cookie: no state until the ACK, then LISTEN -> SYN_RCVD -> ESTABLISHED",
     "With syncookies = 2 the server answers the SYN statelessly, its ISN a keyed hash: the\n"
     "child is born when the ACK returns the cookie, taking both handshake arcs at that moment.",
     config_syncookies, run_syn_cookie},
};

const size_t demo_scenario_count = sizeof demo_scenarios / sizeof demo_scenarios[0];
