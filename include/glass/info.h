/** @file
 * glasstcp — read-only snapshots of a stack's connections (for ss-like tools). */
#ifndef GLASS_INFO_H
#define GLASS_INFO_H

#include <glass/socket.h>
#include <glass/stack.h>
#include <glass/trace.h>
#include <glass/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One connection (or listener), as `ss` would show it. */
struct glass_conn_info {
    uint32_t conn_id;            /**< connection id (glass_conn_history()) */
    int fd;                      /**< socket handle, -1 if orphaned or not yet accepted */
    uint8_t state;               /**< enum glass_tcp_state */
    struct glass_endpoint local, /**< local address and port (address 0: any) */
        remote;                  /**< peer address and port (zeros for a listener) */
    uint32_t recv_q;             /**< LISTEN: accept queue length; else bytes not yet read */
    uint32_t send_q;             /**< LISTEN: backlog; else bytes not yet acknowledged */
    glass_time_t state_since;    /**< time of the last transition */
    glass_time_t timer_at;       /**< next timer deadline of this connection, or NEVER */
    uint8_t timer_kind;          /**< enum glass_timer_kind of timer_at */
    uint8_t retransmits;         /**< consecutive timeouts so far */
    bool orphan;                 /**< the application has closed it */
    /* Added for glass ss -i / --diagnose (zero for listeners). */
    glass_time_t last_snd;       /**< when it last sent a segment, 0 = never */
    glass_time_t last_rcv;       /**< when it last received a segment, 0 = never */
    uint32_t synq_len;           /**< LISTEN: children still in SYN_RCVD */
    struct glass_tcp_info tcp;   /**< the glass_tcp_info() figures (also for orphans) */
    bool tw_record;              /**< a compact TIME_WAIT record (the TCB is gone): @p tcp holds
                                      only the state and conn_id, no figures */
};

/** Per-connection timers as an X-macro: X(NAME, ss's name of it in `timer:(NAME,...)`). */
#define GLASS_TIMERS(X)                                                                          \
    X(REXMT, "on")           /* retransmission (SYN, SYN,ACK, data, FIN) */                      \
    X(TIMEWAIT, "timewait")  /* 2MSL */                                                          \
    X(PERSIST, "persist")    /* zero-window probe */                                             \
    X(DELACK, "delack")      /* delayed ACK */                                                   \
    X(KEEPALIVE, "keepalive") /* keepalive probe */                                              \
    X(RACK, "on")            /* RACK reordering window (RFC 8985 §6.2) */                        \
    X(TLP, "on")             /* tail loss probe (RFC 8985 §7) */                                 \
    X(FINWAIT2, "keepalive") /* orphaned FIN_WAIT_2 (ss shows it as keepalive, as Linux) */

/** A connection timer: GLASS_TT_REXMT, GLASS_TT_TIMEWAIT, GLASS_TT_PERSIST, GLASS_TT_DELACK,
 *  GLASS_TT_KEEPALIVE, GLASS_TT_RACK, GLASS_TT_TLP, GLASS_TT_FINWAIT2, then GLASS_TT_COUNT. */
enum glass_timer_kind {
#define GLASS_X_TIMER(n, s) GLASS_TT_##n,
    GLASS_TIMERS(GLASS_X_TIMER)
#undef GLASS_X_TIMER
        GLASS_TT_COUNT
};

/** ss's name of a timer kind ("on", "timewait", "keepalive"), or "?" if out of range. */
GLASS_API const char *glass_timer_name(int kind);

/** Describe the stack's connections in every state, orphaned and TIME_WAIT ones included,
 *  like `ss -a`: fills up to @p max entries of @p out, listeners first, then connections in
 *  creation order.
 *  @return the number of connections, which may exceed @p max (call again with more room). */
GLASS_API size_t glass_stack_conns(const struct glass_stack *st, struct glass_conn_info *out,
                                   size_t max);
/** Copy a connection's recorded transitions, oldest first, up to @p max. The stack keeps the
 *  last 2 of each connection in compact form (time to the millisecond, states, cause,
 *  segment flags; has_seg false and no segment numbers), every transition in full in the
 *  stack-wide trace ring (config trace_ring) until that overwrites it, and the last config
 *  history_len of each in full if that is not 0. Full records are returned where there are
 *  any: all the ring still has of the connection, preceded by compact ones older than those.
 *  Works in every state, after glass_close() too; after the connection is freed (once CLOSED;
 *  after TIME_WAIT for an active closer) from the trace ring only.
 *  @p conn_id comes from glass_sock_conn_id(), glass_stack_conns() or a glass_transition.
 *  @return how many were copied.
 *  @retval -GLASS_ENOTCONN no connection has this id (never existed, or already freed). */
GLASS_API long glass_conn_history(const struct glass_stack *st, uint32_t conn_id,
                                  struct glass_transition *out, size_t max);

#ifdef __cplusplus
}
#endif
#endif
