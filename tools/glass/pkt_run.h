/* glass pkt — the interpreter's state, shared by pkt_run.c (time, packets, the socket model)
 * and pkt_sys.c (system calls). Private to the two. */
#ifndef GLASS_TOOLS_PKT_RUN_H
#define GLASS_TOOLS_PKT_RUN_H

#include "pkt.h"

#include <glass/config.h>
#include <glass/socket.h>
#include <glass/stack.h>
#include <glass/trace.h>

#define PKT_MAX_SOCKS 128
#define PKT_MAX_TS 256
#define PKT_MAX_POLLFDS 16
#define PKT_MAX_TRANSITIONS 64

/* packetdrill's view of a socket: which 4-tuple and ISNs map script packets to live ones. */
enum pkt_sk_state {
    SK_NEW,                 /* socket() */
    SK_LISTENING,           /* listen() */
    SK_CONNECTING,          /* connect() called, our SYN not yet seen */
    SK_SYN_SENT,            /* the script's `> S` was matched */
    SK_SYN_ACKED,           /* the script's `< S.` was injected */
    SK_PASSIVE_PKT_RCVD,    /* a child made by an inbound packet to a listener */
    SK_PASSIVE_SYNACK_SENT, /* its `> S.` was matched */
    SK_PASSIVE_SYNACK_ACKED,/* the handshake's ACK was injected */
};

struct pkt_sock {
    enum pkt_sk_state state;
    int script_fd, live_fd; /* -1: no descriptor (a child not yet accepted) */
    bool closed;
    bool nonblock;
    uint32_t l_ip, r_ip;    /* live 4-tuple */
    uint16_t l_port, r_port;
    uint32_t script_local_isn, live_local_isn, remote_isn;
    uint32_t ts_script[PKT_MAX_TS], ts_live[PKT_MAX_TS];
    size_t nts;
    bool ts_first;          /* a TS val mapping baseline exists */
    uint32_t ts_first_script, ts_first_live;
};

struct pkt_outpkt {
    uint8_t *data;
    size_t len;
    uint64_t t_ns;
};

/* A system call in progress (blocking). */
struct pkt_call {
    const struct pkt_event *ev;
    bool parsed;
    int name;               /* enum sys_name */
    int script_fd, live_fd;
    struct pkt_sock *sk;
    bool nonblock;
    int flags;
    uint64_t want, done;
    uint8_t *buf;           /* write/read buffer */
    bool started;           /* connect: issued */
    int64_t timeout_ms;     /* poll */
    uint64_t deadline_ns;   /* poll: UINT64_MAX = none */
    size_t nfds;
    struct glass_pollfd pfd[PKT_MAX_POLLFDS];
    int64_t want_revents[PKT_MAX_POLLFDS];
    bool check_revents[PKT_MAX_POLLFDS];
    /* result */
    long ret;
    int err;                /* positive errno when ret == -1 */
};

enum pkt_sys_status { SYS_DONE, SYS_BLOCK, SYS_FAIL, SYS_SKIP };

struct pkt_runner {
    const struct pkt_script *s;
    const struct pkt_run_opts *o;
    struct glass_config cfg;
    struct glass_stack *st;
    uint32_t local_ip, remote_ip;
    uint16_t bind_port, connect_port;
    unsigned mtu;
    bool strict_segments;
    int64_t tol_us;
    double tol_pct;
    uint64_t now_ns;

    struct pkt_outpkt *q;
    size_t qhead, qlen, qcap;

    struct pkt_sock *socks[PKT_MAX_SOCKS];
    size_t nsocks;
    struct pkt_sock *sut;   /* packetdrill's "socket under test" */
    uint16_t next_remote_port;
    uint16_t ip_id;

    /* a blocking system call running while later events go on (`...end` given) */
    bool pending;
    struct pkt_call pend;
    int64_t pend_start_us, pend_end_us;
    enum pkt_time_type pend_tt;

    const struct pkt_event *prev;
    int64_t prev_us;        /* resolved script time of the previous event */

    enum pkt_outcome outcome;
    bool stop;
    struct out_buf *msg, *log;
    bool verbose;
    struct glass_transition tr[PKT_MAX_TRANSITIONS];
    size_t ntr, tr_lost;
};

/* pkt_sys.c */
enum pkt_sys_status pkt_sys_attempt(struct pkt_runner *R, struct pkt_call *c);
/* Compare a finished call's result with the script's; false (and a FAIL message) if not. */
bool pkt_sys_check(struct pkt_runner *R, struct pkt_call *c);
void pkt_call_free(struct pkt_call *c);
/* Evaluate an integer expression (numbers, symbols, a|b, [n]). */
bool pkt_eval_int(struct pkt_runner *R, const struct pkt_expr *x, int64_t *out);
void pkt_sys_result_str(struct out_buf *b, const struct pkt_call *c);

/* pkt_run.c */
PKT_PRINTF(3, 4)
void pkt_fail(struct pkt_runner *R, int line, const char *fmt, ...);
PKT_PRINTF(3, 4)
void pkt_skip(struct pkt_runner *R, int line, const char *fmt, ...);
struct pkt_sock *pkt_sock_new(struct pkt_runner *R);
struct pkt_sock *pkt_sock_by_fd(struct pkt_runner *R, int script_fd);
void pkt_drain(struct pkt_runner *R);
int64_t pkt_now_us(const struct pkt_runner *R);

#endif
