/** @file
 * glasstcp — every runtime tunable, in one struct with documented defaults. */
#ifndef GLASS_CONFIG_H
#define GLASS_CONFIG_H

#include <glass/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Timer profiles. LINUX is the default: what users see on their own machines. */
enum glass_profile {
    GLASS_PROFILE_LINUX = 0, /**< TIME_WAIT 60 s, FIN_WAIT_2 60 s, RTO min 200 ms, init 1 s */
    GLASS_PROFILE_RFC = 1,   /**< MSL 2 min (TIME_WAIT 4 min), RTO min 1 s (RFC 6298 (2.4)) */
};

/** Congestion control algorithms (RFC 9438 CUBIC is the default, as on Linux). */
enum glass_cc_algo {
    GLASS_CC_CUBIC = 0,
    GLASS_CC_NEWRENO = 1, /**< RFC 5681 + RFC 6582 */
};

/** Optional allocator hooks: the core takes all its memory through these. With glibc's
 *  malloc, a stack that opens and closes many short connections at once frees their buffers
 *  in bursts; glibc then gives the top of its heap back to the kernel and faults it in again
 *  on the next burst unless M_TRIM_THRESHOLD is raised (mallopt, or MALLOC_TRIM_THRESHOLD_):
 *  docs/performance.md "crr and the allocator". A pool behind these hooks avoids it too. */
struct glass_allocator {
    void *(*alloc)(void *ctx, size_t size);    /**< return NULL on failure; memory need not be zeroed */
    void (*free)(void *ctx, void *p, size_t size); /**< size is what was asked for */
    void *ctx;                                      /**< passed to both hooks */
};

/** Every runtime tunable of a stack. Fill it with glass_config_default(), change what you need,
 *  pass it to glass_stack_new() (which copies it). */
struct glass_config {
    enum glass_profile profile; /**< informational: which profile filled the timers */
    uint64_t seed;              /**< seeds the stack PRNG (ISNs, ephemeral ports); default 1 */

    /* Timers (RFC 9293 §3.4.2, §3.10.7.4; Linux net/ipv4/tcp_timer.c). */
    glass_time_t msl;                /**< default 30 s: TIME_WAIT = 2*MSL = 60 s (TCP_TIMEWAIT_LEN) */
    glass_time_t fin_wait_2_timeout; /**< orphaned FIN_WAIT_2 lifetime; default 60 s (tcp_fin_timeout) */
    glass_time_t rto_initial;        /**< default 1 s (RFC 6298 (2.1)) */
    glass_time_t rto_min;            /**< default 200 ms (Linux TCP_RTO_MIN) */
    glass_time_t rto_max;            /**< default 120 s (Linux TCP_RTO_MAX) */
    uint8_t syn_retries;             /**< SYN retransmissions before -ETIMEDOUT; default 6 (with
                                          syn_linear_timeouts 4: SYNs at 0,1,2,3,4,5,7,..,67 s,
                                          -ETIMEDOUT at ~131 s) */
    uint8_t syn_linear_timeouts;     /**< SYN_SENT: this many retransmissions keep the initial RTO
                                          before the back-off doubles, and as many retries are
                                          added to syn_retries (Linux >= 6.6
                                          tcp_syn_linear_timeouts); linux profile 4, rfc 0 */
    uint8_t synack_retries;          /**< SYN,ACK retransmissions of a passive open; default 5 */
    uint8_t retries2;                /**< data retransmissions before -ETIMEDOUT; default 15 */
    uint8_t orphan_retries;          /**< retransmissions for a closed (orphaned) socket; default 8 */

    /* Sizes. */
    uint16_t mss;             /**< MSS we advertise and use at most; default 1460 (MTU 1500) */
    uint32_t sndbuf;          /**< default send buffer per socket, bytes (the most it holds: its
                                   storage starts at 4 KiB with the first byte and grows with
                                   the data held); default 131072 */
    uint32_t rcvbuf;          /**< default receive buffer per socket, bytes (the window offered
                                   and the most it holds; storage grows as for sndbuf); default
                                   131072 */
    uint32_t max_sockets;     /**< socket handles (fds); default 1024 */
    uint32_t max_conns;       /**< TCBs in all states incl. TIME_WAIT and SYN_RCVD; default 65536 */
    uint32_t somaxconn;       /**< cap on listen() backlog; default 4096 (Linux somaxconn) */
    uint32_t max_time_wait;   /**< TIME_WAIT entries (tcp_max_tw_buckets); default 262144 */
    uint16_t ephemeral_lo;    /**< ephemeral port range, default 32768.. (ip_local_port_range);
                                   ports are picked by RFC 6056 algorithm 4 (docs/synflood.md) */
    uint16_t ephemeral_hi;    /**< ..60999 */
    uint16_t history_len;     /**< full transition records kept per connection, on top of
                                   the last 2 kept compactly and the trace ring; default 0
                                   (each kept one costs 32 bytes; docs/performance.md) */
    uint32_t trace_ring;      /**< transitions kept per stack (overwrite oldest); default 4096 */
    uint32_t event_ring;      /**< socket events queued for glass_stack_next_event; default 4096 */
    uint32_t tx_ring;         /**< output packets queued inside the stack; default 512 */

    /* Transfer (RFC 5681, 6298, 7323, 2018, 8985, 1122). */
    enum glass_cc_algo cc;     /**< default CUBIC */
    uint8_t init_cwnd;         /**< initial window in segments (RFC 6928); default 10 */
    bool sack;                 /**< offer/accept SACK (RFC 2018); default true */
    bool timestamps;           /**< offer/accept timestamps (RFC 7323); default true */
    bool window_scaling;       /**< offer/accept window scaling (RFC 7323); default true */
    bool rack;                 /**< RACK-TLP loss detection (RFC 8985); default true */
    bool dsack;                /**< report duplicate data in D-SACK blocks (RFC 2883, Linux
                                    tcp_dsack); default true */
    glass_time_t delack_min;   /**< delayed-ACK timeout; default 40 ms (Linux TCP_DELACK_MIN) */
    glass_time_t delack_max;   /**< default 200 ms (Linux TCP_DELACK_MAX) */
    uint8_t pingpong_thresh;   /**< replies within delack_min of received data that make a
                                    connection interactive: its ACKs then wait to ride on data
                                    (Linux tcp_pingpong_thresh); default 1, 0 = never */
    glass_time_t keepalive_time;  /**< idle before the first probe; default 7200 s */
    glass_time_t keepalive_intvl; /**< between probes; default 75 s */
    uint8_t keepalive_probes;     /**< unanswered probes before -ETIMEDOUT; default 9 */

    /* Protections (RFC 5961, robustness/README.md §3). */
    uint32_t challenge_ack_limit; /**< challenge ACKs per second, whole stack; default 1000 */
    glass_time_t invalid_ratelimit; /**< at most one ACK per this interval for out-of-window
                                        pure ACKs/SYNs on a connection; default 500 ms (Linux) */
    uint64_t mem_max;          /**< bytes the stack may allocate in all; default 1 GiB */
    glass_time_t ring_idle;    /**< a connection whose send and receive buffers are empty and
                                    that has sent and received nothing for this long gives the
                                    buffers back (they come again with the next byte); default
                                    1 s, 0 = keep them until close */
    uint8_t syncookies;        /**< SYN cookies (RFC 4987 §3.6, docs/synflood.md): 0 off, 1 when
                                    a listener's SYN queue is full (default), 2 for every SYN
                                    (Linux tcp_syncookies) */

    /* Behaviour switches where RFC 9293 leaves a choice. */
    bool rfc1337;          /**< ignore RST in TIME_WAIT (RFC 1337); default true (Linux: false) */
    uint8_t tw_reuse;      /**< connect() may take over its own TIME_WAIT 4-tuple if timestamps
                                were used and the last was seen over 1 s ago (Linux tcp_tw_reuse,
                                tcp_twsk_unique): 0 never, 1 always, 2 towards 127/8 only
                                (default, as Linux) */
    bool tw_reuse_by_syn;  /**< a new SYN may take over a TIME_WAIT 4-tuple (RFC 9293 MAY-2,
                                RFC 6191, Linux); default true */
    bool verify_checksums; /**< drop segments with bad checksums; default true (fuzzing: false) */
    bool tx_csum_offload;  /**< the device computes TCP checksums of output packets: the field
                                holds the pseudo-header sum (glass_tcp_csum_fill); default
                                false. Receive offload is per packet: glass_stack_input_flags */
    uint32_t tso_max;      /**< TCP segmentation offload on output (docs/performance.md): new data
                                may leave as one super-segment of up to this many payload bytes,
                                whole MSS pieces plus at most one short piece at the end of what
                                was written, which the device cuts into MSS-sized datagrams
                                (glass_output.gso_size, glass_tso_piece()). Only callers of
                                glass_stack_output_sg() get them; glass_stack_output() always
                                gets MSS-sized segments, and so do retransmissions. Capped at
                                what one IPv4 datagram holds (65455 with the largest headers).
                                Default 0: off */

    struct glass_allocator allocator; /**< all-NULL: malloc/free */
};

/** Fill @p cfg with the defaults: the "linux" timer profile and every default documented on the
 *  fields above (seed 1, malloc/free). */
GLASS_API void glass_config_default(struct glass_config *cfg);
/** Overwrite the timer fields of @p cfg (msl, fin_wait_2_timeout, rto_initial, rto_min,
 *  rto_max, syn_retries, synack_retries, retries2, orphan_retries) with a profile's values and
 *  set cfg->profile; other fields are left as they are. */
GLASS_API void glass_config_profile(struct glass_config *cfg, enum glass_profile profile);
/** Parse a profile name, "linux" or "rfc", into *@p out.
 *  @return 0.
 *  @retval -GLASS_EINVAL @p name is NULL or no profile's name (*@p out is left alone). */
GLASS_API int glass_profile_parse(const char *name, enum glass_profile *out);

#ifdef __cplusplus
}
#endif
#endif
