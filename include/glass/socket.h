/* glasstcp — BSD-like, non-blocking socket API over a sans-IO stack.
 *
 * Every call acts at the stack's current time (glass_stack_now()). No call blocks: where a BSD
 * call would wait, these return -GLASS_EAGAIN (recv/send/accept) or -GLASS_EINPROGRESS
 * (connect); completion is reported by glass_stack_next_event() and glass_poll(). Bytes handed
 * to glass_send() leave only when the caller drains glass_stack_output(). */
#ifndef GLASS_SOCKET_H
#define GLASS_SOCKET_H

#include <glass/stack.h>
#include <glass/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Levels and option names use Linux's numbers, so packetdrill scripts and users' habits map. */
#define GLASS_SOL_SOCKET 1
#define GLASS_SO_REUSEADDR 2
#define GLASS_SO_ERROR 4
#define GLASS_SO_SNDBUF 7
#define GLASS_SO_RCVBUF 8
#define GLASS_SO_KEEPALIVE 9
#define GLASS_SO_LINGER 13
#define GLASS_SOL_TCP 6
#define GLASS_TCP_NODELAY 1
#define GLASS_TCP_MAXSEG 2
#define GLASS_TCP_KEEPIDLE 4
#define GLASS_TCP_KEEPINTVL 5
#define GLASS_TCP_KEEPCNT 6
#define GLASS_TCP_INFO 11
#define GLASS_TCP_CONGESTION 13
#define GLASS_TCP_USER_TIMEOUT 18

#define GLASS_SHUT_RD 0
#define GLASS_SHUT_WR 1
#define GLASS_SHUT_RDWR 2

/* recv() flags */
#define GLASS_MSG_PEEK 0x2

/* poll() bits (Linux values). */
#define GLASS_POLLIN 0x001
#define GLASS_POLLOUT 0x004
#define GLASS_POLLERR 0x008
#define GLASS_POLLHUP 0x010
#define GLASS_POLLNVAL 0x020
#define GLASS_POLLRDHUP 0x2000

struct glass_linger {
    int l_onoff;
    int l_linger; /**< seconds; {1,0} means abort with RST on close */
};

struct glass_pollfd {
    int fd;
    short events;
    short revents;
};

/** TCP_INFO-like snapshot (glass_tcp_info() or getsockopt(GLASS_SOL_TCP, GLASS_TCP_INFO)). */
struct glass_tcp_info {
    uint8_t tcpi_state;         /**< Linux numbering (TCP_ESTABLISHED = 1 ...), as TCP_INFO */
    uint8_t state;              /**< enum glass_tcp_state */
    uint8_t retransmits;        /**< consecutive RTO expiries of the current segment */
    uint8_t backoff;            /**< current exponential backoff shift */
    uint32_t conn_id;           /**< glass connection id */
    uint32_t rto_us;            /**< current retransmission timeout */
    uint32_t snd_mss, rcv_mss;  /**< effective MSS each way */
    uint32_t unacked;           /**< bytes in flight (SND.NXT - SND.UNA, incl. SYN/FIN) */
    uint32_t total_retrans;     /**< segments retransmitted on this connection */
    uint32_t iss, irs;          /**< initial send / receive sequence numbers */
    uint32_t snd_una, snd_nxt, snd_wnd, snd_wl1, snd_wl2;
    uint32_t rcv_nxt, rcv_wnd;
    uint32_t snd_cwnd, snd_ssthresh; /**< bytes */
    uint32_t rtt_us, rttvar_us;
    uint64_t bytes_acked, bytes_received;
    uint64_t segs_out, segs_in;
    uint32_t send_q, recv_q;    /**< bytes queued to send (incl. in flight) / not yet read */
    int last_error;             /**< pending asynchronous error (negative) or 0 */
    uint8_t ca_state;           /**< 0 open, 1 disorder, 2 recovery, 3 loss (Linux names) */
    uint8_t snd_wscale, rcv_wscale; /**< window scale shifts (RFC 7323) */
    uint8_t options;            /**< 1 timestamps, 2 SACK, 4 window scaling (Linux TCPI_OPT_*) */
    uint32_t sacked;            /**< bytes SACKed above SND.UNA */
    uint32_t reordering;        /**< duplicate ACKs in a row */
    uint32_t ts_recent;         /**< RFC 7323 TS.Recent (the peer's last timestamp we keep) */
};

/** A new TCP socket (AF_INET, SOCK_STREAM). Handles start at 3 as on a Unix process.
 *  -GLASS_EMFILE when max_sockets are open. */
GLASS_API int glass_socket(struct glass_stack *st);
/** Bind. addr 0 = any local address; port 0 = an ephemeral port. -GLASS_EADDRINUSE on a
 *  conflict (Linux rules, incl. TIME_WAIT and SO_REUSEADDR), -GLASS_EADDRNOTAVAIL if addr is not
 *  ours, -GLASS_EINVAL if already bound. */
GLASS_API int glass_bind(struct glass_stack *st, int fd, const struct glass_endpoint *ep);
/** Listen; an unbound socket gets an ephemeral port (as Linux). backlog is capped to
 *  somaxconn, and <= 0 counts as 1... as Linux: accept queue holds backlog + 1. */
GLASS_API int glass_listen(struct glass_stack *st, int fd, int backlog);
/** Accept a queued connection: its handle, or -GLASS_EAGAIN. peer may be NULL. */
GLASS_API int glass_accept(struct glass_stack *st, int fd, struct glass_endpoint *peer);
/** Start an active open: -GLASS_EINPROGRESS (SYN queued), then GLASS_EV_CONNECTED or an
 *  error event. Again while connecting: -GLASS_EALREADY; once connected: -GLASS_EISCONN. */
GLASS_API int glass_connect(struct glass_stack *st, int fd, const struct glass_endpoint *ep);
/** Queue bytes: the count accepted (may be short), -GLASS_EAGAIN when the buffer is full,
 *  -GLASS_EPIPE after shutdown(SHUT_WR), after a reset, or on a socket that never connected
 *  (Linux), the pending error if there is one. */
GLASS_API long glass_send(struct glass_stack *st, int fd, const void *buf, size_t len, int flags);
/** Read bytes: the count (> 0), 0 at end of stream (after the peer's FIN), -GLASS_EAGAIN when
 *  nothing is there yet, or the pending error (-GLASS_ECONNRESET ...). */
GLASS_API long glass_recv(struct glass_stack *st, int fd, void *buf, size_t len, int flags);
/** Zero-copy send, step 1 (as libevent's evbuffer_reserve_space): *p receives where the next
 *  bytes of the stream go inside the send buffer; returns how many bytes may be written there
 *  (> 0, contiguous; a second reserve after a commit may give the part that wrapped around).
 *  Errors as glass_send(): -GLASS_EAGAIN when the buffer is full, -GLASS_EPIPE, ...
 *  Nothing is sent until glass_send_commit(); the span stays valid until the next call on
 *  the stack. */
GLASS_API long glass_send_reserve(struct glass_stack *st, int fd, void **p);
/** Zero-copy send, step 2: the first n bytes of the reserved span are now part of the stream
 *  (n 0..span). Returns n, -GLASS_EINVAL if n exceeds the span, or glass_send()'s errors. */
GLASS_API long glass_send_commit(struct glass_stack *st, int fd, size_t n);
/** Zero-copy receive, step 1: *p receives the next bytes of the stream inside the receive
 *  buffer; returns how many are there contiguously (> 0), or what glass_recv() returns when
 *  nothing can be read (0 at end of stream, -GLASS_EAGAIN, the pending error). The bytes stay
 *  valid until the next call on the stack. */
GLASS_API long glass_recv_peek(struct glass_stack *st, int fd, const void **p);
/** Zero-copy receive, step 2: drop the first n bytes that glass_recv_peek() showed (they are
 *  read; the window opens as after glass_recv()). Returns n, or -GLASS_EINVAL if n exceeds the
 *  bytes buffered. */
GLASS_API long glass_recv_consume(struct glass_stack *st, int fd, size_t n);
/** shutdown(2): SHUT_WR sends FIN after the queued data; SHUT_RD discards further input. */
GLASS_API int glass_shutdown(struct glass_stack *st, int fd, int how);
/** close(2): FIN after queued data (orphan), RST if unread data or SO_LINGER {1,0}. The handle is
 *  freed at once; the connection lives on until CLOSED. */
GLASS_API int glass_close(struct glass_stack *st, int fd);
GLASS_API int glass_setsockopt(struct glass_stack *st, int fd, int level, int name,
                               const void *val, size_t len);
/** *len is the buffer size in, the bytes written out. */
GLASS_API int glass_getsockopt(struct glass_stack *st, int fd, int level, int name, void *val,
                               size_t *len);
GLASS_API int glass_getsockname(struct glass_stack *st, int fd, struct glass_endpoint *ep);
GLASS_API int glass_getpeername(struct glass_stack *st, int fd, struct glass_endpoint *ep);
/** Level-triggered readiness of n sockets; returns how many have revents != 0. Never waits. */
GLASS_API int glass_poll(struct glass_stack *st, struct glass_pollfd *fds, size_t n);
/** TCP_INFO-like figures of a socket. */
GLASS_API int glass_tcp_info(struct glass_stack *st, int fd, struct glass_tcp_info *info);
/** The state of a socket's connection (enum glass_tcp_state), or a negative error. A closed
 *  handle is -GLASS_EBADF. */
GLASS_API int glass_sock_state(struct glass_stack *st, int fd);
/** The connection id behind a socket (for glass_conn_history), or a negative error. */
GLASS_API long glass_sock_conn_id(struct glass_stack *st, int fd);

#ifdef __cplusplus
}
#endif
#endif
