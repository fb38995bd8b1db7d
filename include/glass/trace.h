/** @file
 * glasstcp — the state machine made visible: states, causes, legal arcs, transitions. */
#ifndef GLASS_TRACE_H
#define GLASS_TRACE_H

#include <glass/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The eleven TCP states as an X-macro: X(NAME, canonical (seed/BSD netstat), iproute2 ss,
 *  RFC 9293, Linux tcpi_state number). The order is the RFC 9293 §3.3.2 order; code never
 *  depends on it (use masks). */
#define GLASS_TCP_STATES(X)                                                                      \
    X(CLOSED, "CLOSED", "UNCONN", "CLOSED", 7)                                                   \
    X(LISTEN, "LISTEN", "LISTEN", "LISTEN", 10)                                                  \
    X(SYN_SENT, "SYN_SENT", "SYN-SENT", "SYN-SENT", 2)                                           \
    X(SYN_RCVD, "SYN_RCVD", "SYN-RECV", "SYN-RECEIVED", 3)                                       \
    X(ESTABLISHED, "ESTABLISHED", "ESTAB", "ESTABLISHED", 1)                                     \
    X(FIN_WAIT_1, "FIN_WAIT_1", "FIN-WAIT-1", "FIN-WAIT-1", 4)                                   \
    X(FIN_WAIT_2, "FIN_WAIT_2", "FIN-WAIT-2", "FIN-WAIT-2", 5)                                   \
    X(CLOSING, "CLOSING", "CLOSING", "CLOSING", 11)                                              \
    X(TIME_WAIT, "TIME_WAIT", "TIME-WAIT", "TIME-WAIT", 6)                                       \
    X(CLOSE_WAIT, "CLOSE_WAIT", "CLOSE-WAIT", "CLOSE-WAIT", 8)                                   \
    X(LAST_ACK, "LAST_ACK", "LAST-ACK", "LAST-ACK", 9)

/** A connection's state: GLASS_TCP_CLOSED, GLASS_TCP_LISTEN, GLASS_TCP_SYN_SENT,
 *  GLASS_TCP_SYN_RCVD, GLASS_TCP_ESTABLISHED, GLASS_TCP_FIN_WAIT_1, GLASS_TCP_FIN_WAIT_2,
 *  GLASS_TCP_CLOSING, GLASS_TCP_TIME_WAIT, GLASS_TCP_CLOSE_WAIT, GLASS_TCP_LAST_ACK
 *  (generated from GLASS_TCP_STATES), then GLASS_TCP_NSTATES. */
enum glass_tcp_state {
#define GLASS_X_STATE(n, canon, ss, rfc, lnx) GLASS_TCP_##n,
    GLASS_TCP_STATES(GLASS_X_STATE)
#undef GLASS_X_STATE
        GLASS_TCP_NSTATES
};

/** One-hot mask of a state, for predicates: GLASS_TCPF(SYN_SENT) | GLASS_TCPF(SYN_RCVD). */
#define GLASS_TCPF(s) (1u << (GLASS_TCP_##s))

/** Why a state changed, as an X-macro: X(NAME, "printable name", "what happened"). */
#define GLASS_TCP_CAUSES(X)                                                                      \
    X(APP_LISTEN, "app_listen", "listen() called")                                               \
    X(APP_CONNECT, "app_connect", "connect() called; SYN sent")                                  \
    X(APP_CLOSE, "app_close", "close() called; FIN sent or listener closed")                     \
    X(APP_SHUTDOWN_WR, "app_shutdown_wr", "shutdown(SHUT_WR) called; FIN sent")                  \
    X(APP_ABORT, "app_abort", "close() with SO_LINGER {1,0}; RST sent")                          \
    X(CLOSE_UNREAD, "close_unread", "close() with unread data; RST sent (RFC 9293 §3.10.4)")    \
    X(LISTEN_CLOSE, "listen_close", "listener closed; pending child reset")                      \
    X(RCV_SYN, "rcv_syn", "SYN received; SYN,ACK sent")                                          \
    X(RCV_SYN_ACK, "rcv_syn_ack", "SYN,ACK received; ACK sent")                                  \
    X(RCV_ACK_OF_SYN, "rcv_ack_of_syn", "ACK of our SYN received")                               \
    X(RCV_FIN, "rcv_fin", "FIN received; ACK sent")                                              \
    X(RCV_FIN_ACK, "rcv_fin_ack", "FIN and the ACK of our FIN in one segment; ACK sent")         \
    X(RCV_ACK_OF_FIN, "rcv_ack_of_fin", "ACK of our FIN received")                               \
    X(RCV_RST, "rcv_rst", "acceptable RST received")                                             \
    X(RCV_ICMP_UNREACH, "rcv_icmp_unreach",                                                      \
      "ICMP port/protocol unreachable for our SYN (RFC 1122 §4.2.3.9), or an ICMP error for "    \
      "a passive child's SYN,ACK (Linux)")                                                       \
    X(SYN_TIMEOUT, "syn_timeout", "SYN retransmissions exhausted")                               \
    X(SYNACK_TIMEOUT, "synack_timeout", "SYN,ACK retransmissions exhausted")                     \
    X(RETRANS_TIMEOUT, "retrans_timeout", "retransmissions exhausted")                           \
    X(KEEPALIVE_TIMEOUT, "keepalive_timeout", "keepalive probes unanswered")                     \
    X(USER_TIMEOUT, "user_timeout", "TCP_USER_TIMEOUT expired")                                  \
    X(TIMEOUT_2MSL, "timeout_2msl", "2MSL TIME_WAIT timer expired")                              \
    X(FIN_WAIT_2_TIMEOUT, "fin_wait_2_timeout", "orphaned FIN_WAIT_2 timer expired")             \
    X(REUSED_BY_SYN, "reused_by_syn", "a new SYN took over the TIME_WAIT 4-tuple")               \
    X(TW_OVERFLOW, "tw_overflow", "TIME_WAIT table full; entry not kept")                        \
    X(RCV_COOKIE_ACK, "rcv_cookie_ack",                                                          \
      "ACK returning a valid SYN cookie: the child its stateless SYN,ACK stood for is created")   \
    X(REUSED_BY_CONNECT, "reused_by_connect",                                                    \
      "connect() took over our TIME_WAIT 4-tuple (tw_reuse, timestamps)")

/** The cause of a transition: GLASS_CAUSE_APP_LISTEN ... GLASS_CAUSE_TW_OVERFLOW, one per row of
 *  GLASS_TCP_CAUSES in that order, then GLASS_CAUSE_COUNT. */
enum glass_tcp_cause {
#define GLASS_X_CAUSE(n, name, text) GLASS_CAUSE_##n,
    GLASS_TCP_CAUSES(GLASS_X_CAUSE)
#undef GLASS_X_CAUSE
        GLASS_CAUSE_COUNT
};

/** One-hot mask of a cause, for arc cause sets: GLASS_CAUSEF(RCV_RST). */
#define GLASS_CAUSEF(c) (1u << (GLASS_CAUSE_##c))

/** The legal arcs: RFC 9293 Figure 5 and §3.10 plus the reset, abort and timeout exits
 *  (docs/state-machine.md). X(FROM, TO, causes mask, "event / action"); 26 rows. Every state
 *  change is checked against this table (TcpExtIllegalArcs counts violations). */
#define GLASS_TCP_ARCS(X)                                                                        \
    X(CLOSED, LISTEN, GLASS_CAUSEF(APP_LISTEN), "listen()")                                      \
    X(CLOSED, SYN_SENT, GLASS_CAUSEF(APP_CONNECT), "connect() / snd SYN")                        \
    X(LISTEN, SYN_RCVD, GLASS_CAUSEF(RCV_SYN) | GLASS_CAUSEF(RCV_COOKIE_ACK),                    \
      "rcv SYN / snd SYN,ACK")                                                                   \
    X(LISTEN, CLOSED, GLASS_CAUSEF(APP_CLOSE), "close()")                                        \
    X(SYN_SENT, ESTABLISHED, GLASS_CAUSEF(RCV_SYN_ACK), "rcv SYN,ACK / snd ACK")                 \
    X(SYN_SENT, SYN_RCVD, GLASS_CAUSEF(RCV_SYN), "rcv SYN / snd SYN,ACK")                        \
    X(SYN_SENT, CLOSED,                                                                          \
      GLASS_CAUSEF(RCV_RST) | GLASS_CAUSEF(APP_CLOSE) | GLASS_CAUSEF(APP_ABORT) |                \
          GLASS_CAUSEF(APP_SHUTDOWN_WR) | GLASS_CAUSEF(SYN_TIMEOUT) | GLASS_CAUSEF(USER_TIMEOUT) | \
          GLASS_CAUSEF(RCV_ICMP_UNREACH),                                                        \
      "rcv RST, close(), SYN timeout")                                                           \
    X(SYN_RCVD, ESTABLISHED, GLASS_CAUSEF(RCV_ACK_OF_SYN), "rcv ACK of SYN")                     \
    X(SYN_RCVD, FIN_WAIT_1, GLASS_CAUSEF(APP_CLOSE) | GLASS_CAUSEF(APP_SHUTDOWN_WR),              \
      "close() / snd FIN")                        \
    X(SYN_RCVD, LISTEN, GLASS_CAUSEF(RCV_RST) | GLASS_CAUSEF(RCV_ICMP_UNREACH),                   \
      "rcv RST, ICMP error (passive open)")                                                      \
    X(SYN_RCVD, CLOSED,                                                                          \
      GLASS_CAUSEF(RCV_RST) | GLASS_CAUSEF(SYNACK_TIMEOUT) | GLASS_CAUSEF(APP_ABORT) |           \
          GLASS_CAUSEF(LISTEN_CLOSE) | GLASS_CAUSEF(RETRANS_TIMEOUT) |                           \
          GLASS_CAUSEF(USER_TIMEOUT),                                                            \
      "rcv RST (active open), SYN,ACK timeout, abort")                                           \
    X(ESTABLISHED, FIN_WAIT_1, GLASS_CAUSEF(APP_CLOSE) | GLASS_CAUSEF(APP_SHUTDOWN_WR),          \
      "close(), shutdown(SHUT_WR) / snd FIN")                                                    \
    X(ESTABLISHED, CLOSE_WAIT, GLASS_CAUSEF(RCV_FIN), "rcv FIN / snd ACK")                       \
    X(ESTABLISHED, CLOSED,                                                                       \
      GLASS_CAUSEF(RCV_RST) | GLASS_CAUSEF(APP_ABORT) | GLASS_CAUSEF(CLOSE_UNREAD) |             \
          GLASS_CAUSEF(LISTEN_CLOSE) | GLASS_CAUSEF(RETRANS_TIMEOUT) |                           \
          GLASS_CAUSEF(KEEPALIVE_TIMEOUT) | GLASS_CAUSEF(USER_TIMEOUT),                          \
      "rcv RST, abort / snd RST, timeout")                                                       \
    X(FIN_WAIT_1, FIN_WAIT_2, GLASS_CAUSEF(RCV_ACK_OF_FIN), "rcv ACK of FIN")                    \
    X(FIN_WAIT_1, CLOSING, GLASS_CAUSEF(RCV_FIN), "rcv FIN / snd ACK")                           \
    X(FIN_WAIT_1, TIME_WAIT, GLASS_CAUSEF(RCV_FIN_ACK), "rcv FIN,ACK of FIN / snd ACK")          \
    X(FIN_WAIT_1, CLOSED,                                                                        \
      GLASS_CAUSEF(RCV_RST) | GLASS_CAUSEF(RETRANS_TIMEOUT) | GLASS_CAUSEF(APP_ABORT) |          \
          GLASS_CAUSEF(CLOSE_UNREAD) | GLASS_CAUSEF(USER_TIMEOUT),                               \
      "rcv RST, abort, timeout")                                                                 \
    X(FIN_WAIT_2, TIME_WAIT, GLASS_CAUSEF(RCV_FIN), "rcv FIN / snd ACK")                         \
    X(FIN_WAIT_2, CLOSED,                                                                        \
      GLASS_CAUSEF(FIN_WAIT_2_TIMEOUT) | GLASS_CAUSEF(RCV_RST) | GLASS_CAUSEF(APP_ABORT) |       \
          GLASS_CAUSEF(CLOSE_UNREAD) | GLASS_CAUSEF(KEEPALIVE_TIMEOUT),                          \
      "FIN_WAIT_2 timeout, rcv RST, abort")                                                      \
    X(CLOSING, TIME_WAIT, GLASS_CAUSEF(RCV_ACK_OF_FIN), "rcv ACK of FIN")                        \
    X(CLOSING, CLOSED,                                                                           \
      GLASS_CAUSEF(RCV_RST) | GLASS_CAUSEF(RETRANS_TIMEOUT) | GLASS_CAUSEF(APP_ABORT) |          \
          GLASS_CAUSEF(CLOSE_UNREAD) | GLASS_CAUSEF(USER_TIMEOUT),                               \
      "rcv RST, timeout")                                                                        \
    X(TIME_WAIT, CLOSED,                                                                         \
      GLASS_CAUSEF(TIMEOUT_2MSL) | GLASS_CAUSEF(REUSED_BY_SYN) | GLASS_CAUSEF(TW_OVERFLOW) |     \
          GLASS_CAUSEF(RCV_RST) | GLASS_CAUSEF(REUSED_BY_CONNECT),                               \
      "2MSL timeout")                                                                            \
    X(CLOSE_WAIT, LAST_ACK, GLASS_CAUSEF(APP_CLOSE) | GLASS_CAUSEF(APP_SHUTDOWN_WR),              \
      "close() / snd FIN")                        \
    X(CLOSE_WAIT, CLOSED,                                                                        \
      GLASS_CAUSEF(RCV_RST) | GLASS_CAUSEF(APP_ABORT) | GLASS_CAUSEF(CLOSE_UNREAD) |             \
          GLASS_CAUSEF(RETRANS_TIMEOUT) | GLASS_CAUSEF(KEEPALIVE_TIMEOUT) |                      \
          GLASS_CAUSEF(USER_TIMEOUT) | GLASS_CAUSEF(LISTEN_CLOSE),                               \
      "rcv RST, abort, timeout")                                                                 \
    X(LAST_ACK, CLOSED,                                                                          \
      GLASS_CAUSEF(RCV_ACK_OF_FIN) | GLASS_CAUSEF(RCV_RST) | GLASS_CAUSEF(RETRANS_TIMEOUT) |     \
          GLASS_CAUSEF(APP_ABORT) | GLASS_CAUSEF(CLOSE_UNREAD),                                  \
      "rcv ACK of FIN, rcv RST, timeout")

/** One legal arc of the state machine. */
struct glass_arc {
    uint8_t from,          /**< the state before (enum glass_tcp_state) */
        to;                /**< the state after */
    uint32_t causes;       /**< mask of (1 << enum glass_tcp_cause) allowed on this arc */
    const char *label;     /**< "rcv SYN,ACK / snd ACK" */
};

/** One recorded state change. `seg_*` describe the segment that caused it (has_seg). */
struct glass_transition {
    glass_time_t at;   /**< stack time of the change */
    uint32_t conn;     /**< connection id (unique per stack, never reused) */
    uint8_t from,      /**< the state before (enum glass_tcp_state) */
        to;            /**< the state after */
    uint8_t cause;     /**< enum glass_tcp_cause */
    uint8_t seg_flags; /**< TCP flags of the causing segment (GLASS_TH_*), 0 if none */
    uint32_t seg_seq;  /**< its sequence number (absolute) */
    uint32_t seg_ack;  /**< its acknowledgment number (absolute) */
    uint16_t seg_len;  /**< its payload length */
    bool has_seg;      /**< the change was caused by a received segment */
};

/** A transition observer (glass_stack_set_observer()): called inside each state change with
 *  the observer's ctx and the transition. It must not call back into the stack. */
typedef void (*glass_observer_fn)(void *ctx, const struct glass_transition *t);

/** @name TCP header flag bits, as on the wire */
/** @{ */
#define GLASS_TH_FIN 0x01u /**< FIN: no more data from the sender */
#define GLASS_TH_SYN 0x02u /**< SYN: synchronize sequence numbers */
#define GLASS_TH_RST 0x04u /**< RST: reset the connection */
#define GLASS_TH_PSH 0x08u /**< PSH: push */
#define GLASS_TH_ACK 0x10u /**< ACK: the acknowledgment field is significant */
#define GLASS_TH_URG 0x20u /**< URG: the urgent pointer is significant */
#define GLASS_TH_ECE 0x40u /**< ECE: ECN echo (RFC 3168) */
#define GLASS_TH_CWR 0x80u /**< CWR: congestion window reduced (RFC 3168) */
/** @} */

/** Canonical state name (seed / BSD netstat): "SYN_RCVD"; "?" if @p state is out of range. */
GLASS_API const char *glass_tcp_state_name(int state);
/** iproute2 ss spelling: "SYN-RECV", "ESTAB", "UNCONN" for CLOSED; "?" if out of range. */
GLASS_API const char *glass_tcp_state_ss_name(int state);
/** RFC 9293 spelling: "SYN-RECEIVED"; "?" if out of range. */
GLASS_API const char *glass_tcp_state_rfc_name(int state);
/** Linux tcpi_state number (TCP_ESTABLISHED = 1, ... TCP_CLOSING = 11); 0 if out of range. */
GLASS_API int glass_tcp_state_linux(int state);
/** Parse any spelling of a state (canonical, ss, RFC, Linux; case-insensitive, '-' == '_').
 *  @return the enum glass_tcp_state, or -1 if @p name is no state's name (or NULL). */
GLASS_API int glass_tcp_state_parse(const char *name);
/** Printable cause name ("rcv_syn"), or "?" if @p cause is out of range. */
GLASS_API const char *glass_tcp_cause_name(int cause);
/** Human description of a cause ("SYN received; SYN,ACK sent"), or "?" if out of range. */
GLASS_API const char *glass_tcp_cause_text(int cause);
/** Parse a printable cause name ("rcv_syn").
 *  @return the enum glass_tcp_cause, or -1 if @p name is no cause's name. */
GLASS_API int glass_tcp_cause_parse(const char *name);
/** Number of legal arcs (26). */
GLASS_API size_t glass_tcp_arc_count(void);
/** Arc @p i (0 <= i < glass_tcp_arc_count()), or NULL if @p i is out of range. */
GLASS_API const struct glass_arc *glass_tcp_arc(size_t i);
/** Index of the arc @p from -> @p to (enum glass_tcp_state values), or -1 if no legal arc joins
 *  them. */
GLASS_API int glass_tcp_arc_find(int from, int to);

#ifdef __cplusplus
}
#endif
#endif
