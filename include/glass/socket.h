/** @file
 * glasstcp — BSD-like, non-blocking socket API over a sans-IO stack.
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

/** @name Option levels and names (setsockopt/getsockopt)
 *  Linux's numbers, so packetdrill scripts and users' habits map one to one. */
/** @{ */
#define GLASS_SOL_SOCKET 1       /**< level: socket options (SO_*) */
#define GLASS_SO_REUSEADDR 2     /**< int: bind a port whose old connections are in TIME_WAIT (Linux rule) */
#define GLASS_SO_ERROR 4         /**< int, get only: the pending error as a positive errno, then cleared */
#define GLASS_SO_SNDBUF 7        /**< int: send buffer bytes (2048..16 MiB); before the first send only */
#define GLASS_SO_RCVBUF 8        /**< int: receive buffer bytes (2048..16 MiB); before data arrives only */
#define GLASS_SO_KEEPALIVE 9     /**< int: send keepalive probes when idle (RFC 9293 §3.8.4) */
#define GLASS_SO_LINGER 13       /**< struct glass_linger: {1, 0} makes close() abort with RST */
#define GLASS_SOL_TCP 6          /**< level: TCP options (TCP_*) */
#define GLASS_TCP_NODELAY 1      /**< int: disable Nagle's algorithm (RFC 1122 §4.2.3.4) */
#define GLASS_TCP_MAXSEG 2       /**< int: lower the MSS we send with (48..config mss) */
#define GLASS_TCP_KEEPIDLE 4     /**< int: idle seconds before the first keepalive probe (1..32767) */
#define GLASS_TCP_KEEPINTVL 5    /**< int: seconds between keepalive probes (1..32767) */
#define GLASS_TCP_KEEPCNT 6      /**< int: unanswered probes before the connection is dropped (1..127) */
#define GLASS_TCP_INFO 11        /**< struct glass_tcp_info, get only */
#define GLASS_TCP_CONGESTION 13  /**< string: "cubic" or "newreno" */
#define GLASS_TCP_USER_TIMEOUT 18 /**< int: ms unacknowledged data may wait before -ETIMEDOUT (RFC 5482); 0 = off */
/** @} */

/** @name shutdown() directions */
/** @{ */
#define GLASS_SHUT_RD 0   /**< stop receiving: further data is discarded */
#define GLASS_SHUT_WR 1   /**< stop sending: FIN after the queued data */
#define GLASS_SHUT_RDWR 2 /**< both */
/** @} */

/** recv() flag: return the data but leave it queued. */
#define GLASS_MSG_PEEK 0x2

/** @name glass_poll() bits (Linux values) */
/** @{ */
#define GLASS_POLLIN 0x001    /**< data to read, end of stream, or (listener) a connection to accept */
#define GLASS_POLLOUT 0x004   /**< send buffer space */
#define GLASS_POLLERR 0x008   /**< an error is pending (always reported) */
#define GLASS_POLLHUP 0x010   /**< closed in both directions (always reported) */
#define GLASS_POLLNVAL 0x020  /**< not an open handle (always reported) */
#define GLASS_POLLRDHUP 0x2000 /**< the peer sent FIN */
/** @} */

/** SO_LINGER's value. */
struct glass_linger {
    int l_onoff;  /**< non-zero: linger on close */
    int l_linger; /**< seconds; {1,0} means abort with RST on close */
};

/** One socket in a glass_poll() call. */
struct glass_pollfd {
    int fd;        /**< the handle to check */
    short events;  /**< GLASS_POLL* bits wanted */
    short revents; /**< GLASS_POLL* bits ready, set by glass_poll() */
};

/** TCP_INFO-like snapshot (glass_tcp_info() or getsockopt(GLASS_SOL_TCP, GLASS_TCP_INFO)).
 *  Sequence numbers are absolute; RFC 9293 §3.3.1 names the variables. */
struct glass_tcp_info {
    uint8_t tcpi_state;         /**< Linux numbering (TCP_ESTABLISHED = 1 ...), as TCP_INFO */
    uint8_t state;              /**< enum glass_tcp_state */
    uint8_t retransmits;        /**< consecutive RTO expiries of the current segment */
    uint8_t backoff;            /**< current exponential backoff shift */
    uint32_t conn_id;           /**< glass connection id */
    uint32_t rto_us;            /**< current retransmission timeout */
    uint32_t snd_mss,           /**< effective MSS we send with */
        rcv_mss;                /**< MSS the peer sends with (as we estimate it) */
    uint32_t unacked;           /**< bytes in flight (SND.NXT - SND.UNA, incl. SYN/FIN) */
    uint32_t total_retrans;     /**< segments retransmitted on this connection */
    uint32_t iss,               /**< initial send sequence number */
        irs;                    /**< initial receive sequence number */
    uint32_t snd_una,           /**< SND.UNA: oldest unacknowledged sequence number */
        snd_nxt,                /**< SND.NXT: next sequence number to send */
        snd_wnd,                /**< SND.WND: the peer's window, bytes (scaled) */
        snd_wl1,                /**< SND.WL1: segment sequence number of the last window update */
        snd_wl2;                /**< SND.WL2: segment ack number of the last window update */
    uint32_t rcv_nxt,           /**< RCV.NXT: next sequence number expected */
        rcv_wnd;                /**< RCV.WND: the window we advertise, bytes */
    uint32_t snd_cwnd,          /**< congestion window, bytes */
        snd_ssthresh;           /**< slow-start threshold, bytes */
    uint32_t rtt_us,            /**< smoothed round-trip time (SRTT, RFC 6298) */
        rttvar_us;              /**< round-trip time variation (RTTVAR) */
    uint64_t bytes_acked,       /**< bytes we sent that the peer acknowledged */
        bytes_received;         /**< bytes received in order */
    uint64_t segs_out,          /**< segments sent, retransmissions included (counted modulo
                                     2^32, as Linux's tcpi_segs_out) */
        segs_in;                /**< segments received (modulo 2^32, as tcpi_segs_in) */
    uint32_t send_q,            /**< bytes queued to send (incl. in flight) */
        recv_q;                 /**< bytes received and not yet read */
    int last_error;             /**< pending asynchronous error (negative) or 0 */
    uint8_t ca_state;           /**< 0 open, 1 disorder, 2 recovery, 3 loss (Linux names) */
    uint8_t snd_wscale,         /**< the peer's window scale shift (RFC 7323) */
        rcv_wscale;             /**< our window scale shift */
    uint8_t options;            /**< 1 timestamps, 2 SACK, 4 window scaling (Linux TCPI_OPT_*) */
    uint32_t sacked;            /**< bytes SACKed above SND.UNA */
    uint32_t reordering;        /**< duplicate ACKs in a row */
    uint32_t ts_recent;         /**< RFC 7323 TS.Recent (the peer's last timestamp we keep) */
};

/** Open a TCP socket (AF_INET, SOCK_STREAM), in state CLOSED.
 *  @return a handle >= 3 (handles start at 3 as on a Unix process, and the lowest free one is
 *          reused after glass_close()).
 *  @retval -GLASS_EMFILE config max_sockets handles are open.
 *  @retval -GLASS_ENOMEM out of memory (or over config mem_max). */
GLASS_API int glass_socket(struct glass_stack *st);
/** Bind a socket to a local address and port.
 *  @p ep->addr 0 means any local address; @p ep->port 0 picks an ephemeral port
 *  (config ephemeral_lo..ephemeral_hi). Conflicts follow Linux: a port in use by another socket
 *  is refused unless both have SO_REUSEADDR and neither listens; with SO_REUSEADDR a port whose
 *  only users are in TIME_WAIT can be bound.
 *  @pre the socket is CLOSED and not bound yet.
 *  @return 0.
 *  @retval -GLASS_EBADF @p fd is not an open handle.
 *  @retval -GLASS_EFAULT @p ep is NULL.
 *  @retval -GLASS_EINVAL already bound, or not CLOSED.
 *  @retval -GLASS_EADDRNOTAVAIL @p ep->addr is not one of the stack's interface addresses.
 *  @retval -GLASS_EADDRINUSE the port is taken (or no ephemeral port is free). */
GLASS_API int glass_bind(struct glass_stack *st, int fd, const struct glass_endpoint *ep);
/** Listen for connections: CLOSED -> LISTEN (cause app_listen).
 *  An unbound socket gets an ephemeral port, as on Linux. @p backlog is capped to config
 *  somaxconn, a negative one counts as 0, and the accept queue holds backlog + 1 connections
 *  (Linux). Calling it again on a listener only changes the backlog.
 *  @pre CLOSED and never connected, or already LISTEN.
 *  @return 0.
 *  @retval -GLASS_EBADF @p fd is not an open handle.
 *  @retval -GLASS_EINVAL the socket is connected, connecting or was connected before.
 *  @retval -GLASS_EADDRINUSE another socket uses the port (a listener shares it with nobody),
 *          or no ephemeral port is free.
 *  @retval -GLASS_ENOMEM no memory for the listener's queues (nothing changed). */
GLASS_API int glass_listen(struct glass_stack *st, int fd, int backlog);
/** Take the oldest completed connection from a listener's accept queue.
 *  The new handle's connection is ESTABLISHED or later (the peer may already have sent data or
 *  FIN: READABLE/RDHUP events follow at once when so).
 *  @p peer receives the peer's address and port; may be NULL.
 *  @pre @p fd is in LISTEN.
 *  @return the new connection's handle.
 *  @retval -GLASS_EBADF @p fd is not an open handle.
 *  @retval -GLASS_EINVAL @p fd is not listening.
 *  @retval -GLASS_EAGAIN no connection is waiting (wait for GLASS_EV_ACCEPTABLE).
 *  @retval -GLASS_EMFILE config max_sockets handles are open. */
GLASS_API int glass_accept(struct glass_stack *st, int fd, struct glass_endpoint *peer);
/** Start an active open: CLOSED -> SYN_SENT (cause app_connect), the SYN is queued for
 *  glass_stack_output(). Completion comes as GLASS_EV_CONNECTED, failure as GLASS_EV_ERROR
 *  (-GLASS_ECONNREFUSED, -GLASS_ETIMEDOUT, -GLASS_EHOSTUNREACH ...). An unbound socket gets the
 *  source address of the route to @p ep and an ephemeral port.
 *  @pre CLOSED. Called again: while connecting -GLASS_EALREADY; once connected 0 the first time
 *       (the non-blocking connect's completion, as Linux), then -GLASS_EISCONN; after a failed
 *       attempt its error, once.
 *  @return -GLASS_EINPROGRESS when the SYN was queued (the normal case).
 *  @retval -GLASS_EBADF @p fd is not an open handle.
 *  @retval -GLASS_EFAULT @p ep is NULL.
 *  @retval -GLASS_EINVAL @p ep has address 0 or port 0.
 *  @retval -GLASS_EALREADY a connect is in progress (SYN_SENT, SYN_RCVD).
 *  @retval -GLASS_EISCONN connected already, listening, or connected before.
 *  @retval -GLASS_ENETUNREACH no interface reaches @p ep->addr.
 *  @retval -GLASS_EADDRNOTAVAIL no ephemeral port is free for this destination, or the bound
 *          4-tuple is taken (e.g. by our own TIME_WAIT). */
GLASS_API int glass_connect(struct glass_stack *st, int fd, const struct glass_endpoint *ep);
/** Queue bytes for sending. They leave as segments through glass_stack_output() as the
 *  windows allow. @p flags is accepted for BSD compatibility and ignored.
 *  @pre ESTABLISHED or CLOSE_WAIT, and no shutdown(SHUT_WR) yet.
 *  @return the number of bytes accepted (may be less than @p len: the buffer is full; wait for
 *          GLASS_EV_WRITABLE), 0 if @p len is 0.
 *  @retval -GLASS_EBADF @p fd is not an open handle.
 *  @retval -GLASS_EAGAIN the send buffer is full, or the connection is still opening
 *          (SYN_SENT, SYN_RCVD).
 *  @retval -GLASS_EPIPE after shutdown(SHUT_WR) or close() started, after a reset, or on a
 *          socket that never connected (Linux).
 *  @retval -GLASS_EFAULT @p buf is NULL and @p len > 0.
 *  @retval -GLASS_ENOMEM the send buffer's storage could not be allocated, or grown (it grows
 *          with the data held, up to SO_SNDBUF) and has no room left. A storage that could not
 *          grow but has room takes what fits (a short count).
 *  @return a pending asynchronous error (-GLASS_ECONNRESET, -GLASS_ETIMEDOUT ...) is returned,
 *          and cleared, before anything else. */
GLASS_API long glass_send(struct glass_stack *st, int fd, const void *buf, size_t len, int flags);
/** Read received bytes, in order.
 *  @p flags is 0 or GLASS_MSG_PEEK (copy without consuming).
 *  @return the number of bytes copied (> 0); 0 at end of stream (the peer's FIN was received
 *          and everything before it read, or after shutdown(SHUT_RD), or once a connection
 *          that was established has closed) or when @p len is 0.
 *  @retval -GLASS_EBADF @p fd is not an open handle.
 *  @retval -GLASS_ENOTCONN a listener, or a socket that never connected.
 *  @retval -GLASS_EAGAIN nothing to read yet (wait for GLASS_EV_READABLE).
 *  @retval -GLASS_EFAULT @p buf is NULL and there is data.
 *  @return a pending asynchronous error (-GLASS_ECONNRESET ...) once the data before it and
 *          any end of stream were read; it is then cleared. */
GLASS_API long glass_recv(struct glass_stack *st, int fd, void *buf, size_t len, int flags);
/** Zero-copy send, step 1 (as libevent's evbuffer_reserve_space): *p receives where the next
 *  bytes of the stream go inside the send buffer; returns how many bytes may be written there
 *  (> 0, contiguous; a second reserve after a commit may give the part that wrapped around).
 *  Errors as glass_send(): -GLASS_EAGAIN when the buffer is full, -GLASS_EPIPE, ...
 *  The buffer's storage grows to the whole of SO_SNDBUF here (the caller means to fill it).
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
/** shutdown(2). GLASS_SHUT_WR sends FIN after the queued data (ESTABLISHED -> FIN_WAIT_1,
 *  CLOSE_WAIT -> LAST_ACK, cause app_shutdown_wr); in SYN_RCVD the FIN follows the handshake;
 *  in SYN_SENT the attempt is abandoned (-> CLOSED). GLASS_SHUT_RD makes glass_recv() return
 *  end of stream and discards later data. The handle stays open: glass_close() frees it.
 *  @pre SYN_SENT, SYN_RCVD or a synchronized state.
 *  @return 0.
 *  @retval -GLASS_EBADF @p fd is not an open handle.
 *  @retval -GLASS_EINVAL @p how is not SHUT_RD, SHUT_WR or SHUT_RDWR.
 *  @retval -GLASS_ENOTCONN the socket is CLOSED or listening. */
GLASS_API int glass_shutdown(struct glass_stack *st, int fd, int how);
/** close(2): free the handle at once; the connection lives on (orphaned) until CLOSED.
 *  ESTABLISHED/SYN_RCVD -> FIN_WAIT_1 and CLOSE_WAIT -> LAST_ACK with a FIN after the queued
 *  data (cause app_close); with unread received data, or SO_LINGER {1,0}, the connection is
 *  aborted with RST instead (causes close_unread, app_abort; RFC 9293 §3.10.4, Linux). A
 *  listener resets the connections not yet accepted. A connecting socket (SYN_SENT) goes to
 *  CLOSED. An orphaned FIN_WAIT_2 is closed by config fin_wait_2_timeout.
 *  @return 0.
 *  @retval -GLASS_EBADF @p fd is not an open handle. */
GLASS_API int glass_close(struct glass_stack *st, int fd);
/** setsockopt(2) for the options GLASS_SO_* (level GLASS_SOL_SOCKET) and GLASS_TCP_*
 *  (level GLASS_SOL_TCP) above; @p val points to an int unless the option says otherwise.
 *  Allowed in any state, except that SO_SNDBUF/SO_RCVBUF must come before the buffer is first
 *  used.
 *  @return 0.
 *  @retval -GLASS_EBADF @p fd is not an open handle.
 *  @retval -GLASS_EINVAL @p val is NULL or shorter than the option's type, the value is out of
 *          range, or the buffer is already in use (SO_SNDBUF/SO_RCVBUF).
 *  @retval -GLASS_ENOPROTOOPT unknown level or option, or a get-only option.
 *  @retval -GLASS_ENOENT TCP_CONGESTION names no algorithm this stack has.
 *  @retval -GLASS_ENOMEM TCP_KEEPIDLE, TCP_KEEPINTVL or TCP_USER_TIMEOUT: no memory for the
 *          connection's extension block, where these are kept (nothing changed). */
GLASS_API int glass_setsockopt(struct glass_stack *st, int fd, int level, int name,
                               const void *val, size_t len);
/** getsockopt(2) for the options above; GLASS_SO_ERROR returns the pending error as a positive
 *  errno and clears it; GLASS_TCP_INFO copies at most *len bytes of a struct glass_tcp_info.
 *  @p *len is the size of @p val in, the bytes written out.
 *  @return 0.
 *  @retval -GLASS_EBADF @p fd is not an open handle.
 *  @retval -GLASS_EINVAL @p val or @p len is NULL, or *len is too small for the option.
 *  @retval -GLASS_ENOPROTOOPT unknown level or option. */
GLASS_API int glass_getsockopt(struct glass_stack *st, int fd, int level, int name, void *val,
                               size_t *len);
/** The socket's local address and port (zeros before bind/connect; the address stays 0 for a
 *  socket bound to any address until it connects).
 *  @return 0.
 *  @retval -GLASS_EBADF @p fd is not an open handle.
 *  @retval -GLASS_EFAULT @p ep is NULL. */
GLASS_API int glass_getsockname(struct glass_stack *st, int fd, struct glass_endpoint *ep);
/** The peer's address and port.
 *  @pre SYN_RCVD or a synchronized state (ESTABLISHED ... TIME_WAIT).
 *  @return 0.
 *  @retval -GLASS_EBADF @p fd is not an open handle.
 *  @retval -GLASS_EFAULT @p ep is NULL.
 *  @retval -GLASS_ENOTCONN not connected (CLOSED, LISTEN, SYN_SENT). */
GLASS_API int glass_getpeername(struct glass_stack *st, int fd, struct glass_endpoint *ep);
/** Level-triggered readiness of @p n sockets, as Linux tcp_poll(): sets each revents to the
 *  GLASS_POLL* bits that hold now (POLLERR, POLLHUP and POLLNVAL even if not asked for).
 *  Never waits and never fails: a bad handle gets GLASS_POLLNVAL.
 *  @return how many entries have revents != 0. */
GLASS_API int glass_poll(struct glass_stack *st, struct glass_pollfd *fds, size_t n);
/** TCP_INFO-like figures of a socket's connection, in any state.
 *  @return 0.
 *  @retval -GLASS_EBADF @p fd is not an open handle.
 *  @retval -GLASS_EFAULT @p info is NULL. */
GLASS_API int glass_tcp_info(struct glass_stack *st, int fd, struct glass_tcp_info *info);
/** The state of a socket's connection.
 *  @return an enum glass_tcp_state (>= 0).
 *  @retval -GLASS_EBADF @p fd is not an open handle (a closed handle included: the orphaned
 *          connection is then seen through glass_stack_conns()). */
GLASS_API int glass_sock_state(struct glass_stack *st, int fd);
/** The id of the connection behind a socket, for glass_conn_history(); it stays valid after
 *  glass_close() for as long as the connection exists.
 *  @return the id (>= 1).
 *  @retval -GLASS_EBADF @p fd is not an open handle. */
GLASS_API long glass_sock_conn_id(struct glass_stack *st, int fd);

#ifdef __cplusplus
}
#endif
#endif
