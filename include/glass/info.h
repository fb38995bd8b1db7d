/* glasstcp — read-only snapshots of a stack's connections (for ss-like tools). */
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
    uint32_t conn_id;
    int fd;                      /**< socket handle, -1 if orphaned or not yet accepted */
    uint8_t state;               /**< enum glass_tcp_state */
    struct glass_endpoint local, remote;
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
};

#define GLASS_TIMERS(X)                                                                          \
    X(REXMT, "on")           /* retransmission (SYN, SYN,ACK, data, FIN) */                      \
    X(TIMEWAIT, "timewait")  /* 2MSL */                                                          \
    X(PERSIST, "persist")    /* zero-window probe */                                             \
    X(DELACK, "delack")      /* delayed ACK */                                                   \
    X(KEEPALIVE, "keepalive") /* keepalive probe */                                              \
    X(RACK, "on")            /* RACK reordering window (RFC 8985 §6.2) */                        \
    X(TLP, "on")             /* tail loss probe (RFC 8985 §7) */                                 \
    X(FINWAIT2, "keepalive") /* orphaned FIN_WAIT_2 (ss shows it as keepalive, as Linux) */

enum glass_timer_kind {
#define GLASS_X_TIMER(n, s) GLASS_TT_##n,
    GLASS_TIMERS(GLASS_X_TIMER)
#undef GLASS_X_TIMER
        GLASS_TT_COUNT
};

/** ss's name of a timer kind ("on", "timewait", "keepalive"). */
GLASS_API const char *glass_timer_name(int kind);

/** Fill up to max entries; returns the number of connections (may exceed max). Listeners
 *  first, then connections in creation order. */
GLASS_API size_t glass_stack_conns(const struct glass_stack *st, struct glass_conn_info *out,
                                   size_t max);
/** A connection's recorded transitions, oldest first (bounded by history_len). Returns how
 *  many were copied, or -GLASS_ENOTCONN if the id is unknown (already freed). */
GLASS_API long glass_conn_history(const struct glass_stack *st, uint32_t conn_id,
                                  struct glass_transition *out, size_t max);

#ifdef __cplusplus
}
#endif
#endif
