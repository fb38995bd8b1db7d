/* glasstcp — the transmission control block (RFC 9293 §3.3.1). Private to the core. */
#ifndef GLASS_CORE_TCB_H
#define GLASS_CORE_TCB_H

#include <stdbool.h>
#include <stdint.h>

#include "util/ring.h"
#include "util/seq.h"

#include <glass/info.h>
#include <glass/trace.h>
#include <glass/types.h>

struct glass_tcb;

/* A doubly linked list node; lists are circular with a head node. */
struct glass_list {
    struct glass_list *prev, *next;
};

/* One entry of the stack's timer wheel: the earliest of a TCB's timers. */
struct glass_wheel_entry {
    struct glass_wheel_entry *next, **pprev; /* in a slot: pprev != NULL */
    glass_time_t deadline;
    uint16_t slot;    /* below GLASS_WHEEL_SLOTS */
    uint8_t armed;    /* the TCB's timers: bit k is set if tcb->timer[k] may be armed (!= NEVER);
                         clear, it is not (timer.c keeps it, tcp_timer.c clears fired ones) */
    uint8_t spare;
    uint32_t far_idx; /* in the far heap: 1 + its index there; 0: not there */
};

/* TCB flags (BSD TF_*). */
#define GLASS_TF_ACKNOW 0x0001u    /* send an ACK at the next output */
#define GLASS_TF_FIN_QUEUED 0x0002u /* the application is done sending: FIN after the data */
#define GLASS_TF_FIN_SENT 0x0004u  /* our FIN has been sent at least once */
#define GLASS_TF_RCVD_FIN 0x0008u  /* the peer's FIN has been received (in order) */
#define GLASS_TF_ORPHAN 0x0010u    /* the application closed its handle */
#define GLASS_TF_PASSIVE 0x0020u   /* created by a listener (passive open) */
#define GLASS_TF_REUSEADDR 0x0040u /* SO_REUSEADDR */
#define GLASS_TF_LINGER0 0x0080u   /* SO_LINGER {1, 0}: close() aborts */
#define GLASS_TF_BOUND 0x0100u     /* the application called bind() (port kept on CLOSED) */
#define GLASS_TF_SHUT_RD 0x0200u   /* shutdown(SHUT_RD) */
#define GLASS_TF_IN_OUTQ 0x0400u   /* on the stack's output list */
#define GLASS_TF_HASHED 0x0800u    /* in the 4-tuple hash */
#define GLASS_TF_IN_BHASH 0x1000u  /* in the bind (port) table */
#define GLASS_TF_NODELAY 0x2000u   /* TCP_NODELAY */
#define GLASS_TF_RTT_VALID 0x4000u /* an RTT sample is being timed (Karn's rule) */
#define GLASS_TF_WAS_CONN 0x8000u  /* reached a synchronized state once */
#define GLASS_TF_SNDBUF_FULL 0x10000u /* send() saw a full buffer: emit WRITABLE later */
#define GLASS_TF_REAP 0x20000u     /* on the stack's reap list */
#define GLASS_TF_KEEPALIVE 0x40000u /* SO_KEEPALIVE (stored; probes come with issue 4) */
#define GLASS_TF_FORCE 0x80000u    /* persist timer: send what the window allows, however small */
#define GLASS_TF_SACK_OK 0x100000u /* both SYNs carried SACK-permitted */
#define GLASS_TF_TS_OK 0x200000u   /* both SYNs carried timestamps */
#define GLASS_TF_WS_OK 0x400000u   /* both SYNs carried window scale */
#define GLASS_TF_OOO_FIN 0x800000u /* a FIN arrived out of order (ooo_fin) */
#define GLASS_TF_LOST_RTX 0x1000000u /* NewReno: retransmit SND.UNA once (partial ACK) */
#define GLASS_TF_PROBE 0x2000000u  /* RACK-TLP: send one probe segment now (RFC 8985 §7.3) */
#define GLASS_TF_CONNECT_SEEN 0x4000000u /* connect() already reported the completed open */
#define GLASS_TF_SHUT_PENDING 0x8000000u /* shutdown(SHUT_WR) in SYN_RCVD: FIN after the ACK */
#define GLASS_TF_DSACK 0x10000000u /* report tcb->dsack first in the next ACK (RFC 2883) */
#define GLASS_TF_TWQ 0x20000000u   /* orphaned in TIME_WAIT: on st->twq, to become a record */
#define GLASS_TF_TW_MOVED 0x40000000u /* its TIME_WAIT goes on in a record (timewait.c) */
#define GLASS_TF_RCVD_DATA 0x80000000u /* in-order data has been received (delayed ACKs) */
/* More flags (tcb->flags2). */
#define GLASS_TF2_LAST_WIN_NONZERO 0x01u /* the last window we advertised was not zero */
#define GLASS_TF2_RECLAIMQ 0x02u   /* in the quiet-connection FIFO (reclaim.c, reclaim_seq) */

#define GLASS_OOO_MAX 16u  /* out-of-order ranges held per connection (catalogue 100) */
#define GLASS_SACK_MAX 32u /* SACK scoreboard ranges per connection (catalogue 77) */

/* A half-open range of sequence space [start, end). */
struct glass_range {
    struct glass_seq start, end;
};

/* Congestion-avoidance state (Linux's ca_state names). */
enum glass_ca_state {
    GLASS_CA_OPEN = 0,     /* normal */
    GLASS_CA_DISORDER,     /* duplicate ACKs / SACKs seen, no loss decided yet */
    GLASS_CA_RECOVERY,     /* fast recovery (RFC 5681 / 6582 / 6675) */
    GLASS_CA_LOSS,         /* after a retransmission timeout */
};

/* CUBIC (RFC 9438) per-connection state; windows in bytes, times in ns. */
struct glass_cubic {
    uint32_t w_max;        /* window before the last reduction */
    uint32_t w_last_max;   /* for fast convergence (RFC 9438 §4.7) */
    glass_time_t epoch;    /* start of the current congestion-avoidance epoch, 0 = none */
    uint32_t origin;       /* W_max at the epoch's origin, bytes */
    double k;              /* seconds to reach origin */
    double w_est;          /* Reno-friendly estimate, bytes (RFC 9438 §4.3) */
};

/* RACK (RFC 8985): one record per transmitted segment, in sequence order. A block starts
 * with room for GLASS_TXREC_MIN records and doubles while full, up to GLASS_TXREC_MAX (both
 * powers of two); beyond that, or when it cannot grow, the newest record absorbs the next
 * segment (tcp_rack.c glass_rack_on_send). */
#define GLASS_TXREC_MIN 8u
#define GLASS_TXREC_MAX 128u
#define GLASS_TXREC_RETRANS 0x01u /* sent more than once */
#define GLASS_TXREC_SACKED 0x02u  /* delivered out of order (SACKed) */
#define GLASS_TXREC_LOST 0x04u    /* marked lost, awaiting retransmission */
struct glass_txrec {
    struct glass_seq start, end;
    glass_time_t xmit; /* last transmission */
    uint32_t order;    /* rack.tx_count at that transmission: orders sends at the same time */
    uint8_t flags;
};

/* RACK's state and records, allocated at the first transmission of data (tcp_rack.c) and
 * freed when nothing can be in flight any more (TIME_WAIT); glass_rack_size(cap) bytes. */
struct glass_rack {
    glass_time_t xmit_ts;   /* RACK.xmit_ts: latest transmission among delivered segments */
    uint32_t xmit_order;    /* ... and its order (RFC 8985's RACK.end_seq tie-break) */
    uint32_t tx_count;      /* transmissions so far */
    struct glass_seq fack;  /* RACK.fack: highest sequence delivered (fack_valid) */
    struct glass_seq dsack_round; /* RACK.dsack_round (dsack_round_on) */
    glass_time_t rtt;       /* RACK.rtt */
    glass_time_t min_rtt;
    uint8_t reo_wnd_mult;   /* RACK.reo_wnd_mult, 0 read as 1 */
    uint8_t reo_wnd_persist;
    bool fack_valid, dsack_round_on;
    bool recovering;        /* the last ACK found the connection in recovery */
    bool reordering_seen;
    bool tlp_out;           /* a tail loss probe is outstanding */
    uint16_t head, len;     /* the transmission records: a ring of cap */
    uint16_t cap;           /* GLASS_TXREC_MIN .. GLASS_TXREC_MAX, a power of two */
    struct glass_txrec rec[];
};

static inline size_t glass_rack_size(uint32_t cap)
{
    return sizeof(struct glass_rack) + sizeof(struct glass_txrec) * cap;
}
_Static_assert((GLASS_TXREC_MIN & (GLASS_TXREC_MIN - 1u)) == 0 &&
                   (GLASS_TXREC_MAX & (GLASS_TXREC_MAX - 1u)) == 0 &&
                   GLASS_TXREC_MIN <= GLASS_TXREC_MAX,
               "RACK's record rings are powers of two (tcp_rack.c rec)");

/* A listener's queues, allocated by glass_listen() (a connection does not carry them). */
struct glass_listen_q {
    struct glass_list synq;     /* children in SYN_RCVD (head) */
    struct glass_list acceptq;  /* children done with the handshake (head) */
    uint32_t synq_len, acceptq_len;
    uint32_t backlog;
    glass_time_t cookies_until; /* cookie ACKs are honoured until then (0: never) */
};

/* A transition as the TCB keeps it inline (8 bytes): the full record (struct
 * glass_transition, 32 bytes) is in the stack-wide trace ring while that still holds it. */
#define GLASS_HIST_INLINE 2u
struct glass_hist_rec {
    uint32_t at_ms;         /* the time in ms, modulo 2^32 (state_since gives the rest) */
    uint8_t from_to;        /* from << 4 | to */
    uint8_t cause;          /* enum glass_tcp_cause */
    uint8_t seg_flags;      /* TCP flags of the causing segment */
    uint8_t has_seg;        /* caused by a received segment */
};

/* A connection's full transition records when cfg.history_len > 0: a ring of cap entries. */
struct glass_hist_full {
    uint16_t head, count, cap;
    struct glass_transition rec[];
};

/* A passive child's place in its listener's synq or acceptq, from the SYN (or cookie ACK) that
 * made it until accept() or its end (tcp_in.c passive_child, demux.c glass_child_unlink): an
 * accepted connection does not carry it. qlink comes first (glass_child_of). */
struct glass_child_link {
    struct glass_list qlink;
    struct glass_tcb *listener;
    struct glass_tcb *child;
};

/* What a connection needs only at times: a listener's queues, a passive child's link until
 * accept(), out-of-order and SACKed ranges while there are any, CUBIC's state, RACK's block,
 * full transition records. One block holds the pointers (and the child link itself, which
 * saves an allocation per passive open), allocated when the first of them is needed
 * (glass_tcb_xw) and freed when the last goes (glass_tcb_xput): an idle established
 * connection points at glass_tcb_ext_none, all zero, and pays 8 bytes for all of it instead
 * of 56 (docs/performance.md "Per-connection memory"). Reads go through tcb->x without a
 * check; tcb->x is const so that every write site has to get the block from glass_tcb_xw. */
struct glass_tcb_ext {
    struct glass_child_link cl;     /* passive child until accepted: cl.listener != NULL */
    struct glass_listen_q *lq;      /* listener: its queues, allocated by listen() */
    struct glass_range *ooo;        /* GLASS_OOO_MAX ranges, allocated while n_ooo > 0 */
    struct glass_range *sacked;     /* GLASS_SACK_MAX ranges, allocated while n_sacked > 0 */
    struct glass_cubic *cubic;      /* CUBIC: from the first congestion avoidance or reduction */
    struct glass_rack *rack;        /* RACK-TLP (RFC 8985), when cfg.rack: from the first data */
    struct glass_hist_full *hist;   /* full transition records, when cfg.history_len > 0 */
    /* Socket options few connections set; 0: the stack's config. Keepalive (RFC 1122
     * §4.2.3.6) and TCP_USER_TIMEOUT (RFC 5482). */
    uint32_t user_timeout_ms;       /* TCP_USER_TIMEOUT, 0: none */
    uint16_t keep_idle_s, keep_intvl_s; /* TCP_KEEPIDLE/KEEPINTVL (1..32767 s), 0: the config's
                                           (glass_tcp_keep_idle/intvl) */
};

extern const struct glass_tcb_ext glass_tcb_ext_none;

/* Fields are grouped by size (8, 4, 2, 1 bytes) within each part so that the struct has no
 * holes: every byte here is paid by every connection (docs/performance.md). */
struct glass_tcb {
    uint32_t id;                /* connection id, unique per stack */
    /* The connection state. Written ONLY by glass_tcp_set_state() in tcp_fsm.c (STYLE §7.3). */
    uint8_t state;
    uint8_t rxtshift;           /* consecutive retransmission timeouts */
    uint8_t persist_shift;      /* zero-window probe backoff */
    uint8_t inq;                /* passive child: 0 none, 1 in the listener's synq, 2 in its
                                   acceptq */
    uint32_t flags;             /* GLASS_TF_* */
    int fd;                     /* socket handle, -1 if none (orphan or not accepted) */
    /* Errors are negative errno values (GLASS_E*, all below 2^15). */
    int16_t so_error;           /* pending asynchronous error, 0 if none */
    int16_t soft_error;         /* last ICMP soft error, reported only if the connection then
                                   times out (RFC 1122 §4.2.3.9) */

    struct glass_endpoint local, remote;

    /* Send sequence space (RFC 9293 §3.3.1). snd_max: highest sequence sent + 1, kept apart
     * from snd_nxt because a timeout pulls snd_nxt back to snd_una (go-back-N). */
    struct glass_seq iss, snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2;
    uint32_t snd_wnd, max_snd_wnd;
    /* Receive sequence space. rcv_adv is the right edge we last advertised (never moves
     * left, RFC 9293 §3.8.6.2.2). */
    struct glass_seq irs, rcv_nxt, rcv_adv;
    struct glass_seq fin_seq;   /* sequence number of our FIN (valid with TF_FIN_QUEUED) */
    struct glass_seq snd_sml;   /* end of the last short segment sent (Minshall's Nagle) */
    uint16_t pmtu;              /* path MTU learned from ICMP (RFC 1191), 0 = interface MTU */
    uint16_t snd_mss;           /* MSS we send with: min(peer's MSS option, ours) */
    uint16_t rcv_mss;           /* MSS we advertised */
    /* Options negotiated on the SYNs (RFC 7323, RFC 2018). */
    uint8_t snd_wscale;         /* shift for the peer's window field */
    uint8_t rcv_wscale;         /* shift for our window field */
    uint8_t cc_algo;            /* enum glass_cc_algo */
    uint8_t ca_state;           /* enum glass_ca_state */
    uint8_t dupacks;
    uint8_t n_ooo, ooo_last;    /* out-of-order ranges (ooo below) */
    uint8_t n_sacked;           /* SACK scoreboard ranges (sacked below) */
    uint8_t keep_cnt, keep_probes;
    /* Delayed ACKs (RFC 9293 §3.8.6.3, RFC 5681 §4.2). */
    uint8_t quickack;           /* ACK this many more data segments at once (Linux quickack) */
    uint8_t delack_segs;        /* full-sized segments received since our last ACK */
    uint8_t pingpong;           /* replies sent soon after data came (Linux icsk_ack.pingpong) */
    uint8_t ack_pushed;         /* short segments since our last ACK: 0, 1, 2 (ICSK_ACK_PUSHED*) */
    uint8_t flags2;             /* GLASS_TF2_* (GLASS_TF_* has no bit left) */
    /* Transition history: hist_rec (below) holds the last GLASS_HIST_INLINE transitions. */
    uint8_t hist_rec_n;         /* 0 or 1: records so far; 2 + i: two, the oldest in slot i */
    uint16_t ack_rcv_mss;       /* size of the peer's full segments, estimated (icsk_ack.rcv_mss) */
    uint32_t prior_cwnd;        /* cwnd before recovery (for undo figures) */
    uint32_t reclaim_seq;       /* its entry in st->reclaimq while GLASS_TF2_RECLAIMQ */

    /* Send buffer: bytes from the sequence number snd_data() on (see tcp_out.c). */
    struct glass_ring sb;
    /* Receive buffer: in-order bytes not yet read by the application. */
    struct glass_ring rb;       /* sb.cap, rb.cap: SO_SNDBUF, SO_RCVBUF (set before first use) */

    /* Retransmission timing (RFC 6298). */
    glass_time_t rto, srtt, rttvar;
    glass_time_t rtt_start;     /* when the timed segment was sent */
    struct glass_seq rtt_seq;   /* the sequence number being timed */
    uint32_t ts_recent;         /* RFC 7323 TS.Recent */

    /* Timers: absolute deadlines per kind (GLASS_TIME_NEVER = off), earliest in the wheel. */
    glass_time_t timer[GLASS_TT_COUNT];
    struct glass_wheel_entry wheel;

    /* The parts only some connections need, or glass_tcb_ext_none (see struct glass_tcb_ext). */
    const struct glass_tcb_ext *x;

    /* Demux links. */
    struct glass_tcb *hnext;    /* 4-tuple hash chain */
    struct glass_tcb *bnext;    /* bind (port) table chain */
    struct glass_tcb **bpprev;  /* ... the link that points at this TCB (O(1) removal) */
    struct glass_list all;      /* every TCB, creation order */
    struct glass_tcb *onext;    /* output list (GLASS_TF_IN_OUTQ) */
    struct glass_tcb *rnext;    /* reap list, or TIME_WAIT compaction list (GLASS_TF_TWQ) */

    glass_time_t ts_recent_age; /* when ts_recent was taken */
    uint32_t ts_off;            /* per-connection TSval offset (RFC 7323 §5.4) */
    struct glass_seq last_ack_sent;

    /* Receive side: out-of-order data sits in rb beyond rb.len; these are its ranges,
     * sorted, disjoint, above rcv_nxt. ooo_last: the range most recently added to (it is
     * reported first in SACK blocks, RFC 2018 §4). */
    struct glass_seq ooo_fin;   /* sequence number of an out-of-order FIN (TF_OOO_FIN) */
    struct glass_range dsack;   /* duplicate data to report in a D-SACK block (TF_DSACK) */

    /* Send side: SACK scoreboard (sorted, disjoint, within SND.UNA..SND.MAX). */
    struct glass_seq recover;   /* RFC 6582 "recover" / RFC 6675 RecoveryPoint */
    struct glass_seq high_rxt;  /* RFC 6675 HighRxt: highest sequence retransmitted + 1 */
    uint32_t cwnd, ssthresh;    /* bytes (RFC 5681) */
    uint32_t ca_acked;          /* bytes acked toward the next additive increase */

    glass_time_t lrcvtime;      /* when in-order data last arrived (delayed ACKs) */
    glass_time_t last_rcv;      /* when the last segment arrived */
    glass_time_t last_snd;      /* when the last segment was sent (ss -i lastsnd) */
    glass_time_t rtx_since;     /* when the oldest unacknowledged data was first sent, 0 = none */

    /* Figures for glass_tcp_info / ss. */
    glass_time_t state_since;
    uint64_t bytes_acked, bytes_received;
    uint32_t segs_in, segs_out; /* modulo 2^32, as Linux's tcpi_segs_in/out */
    uint32_t total_retrans;
    /* When the last ACK for an out-of-window segment went (its rate limit), in us of stack time
     * modulo 2^32, 0: none yet; read as Linux reads its 32-bit last_oow_ack_time (tcp_in.c
     * oow_limited). */
    uint32_t last_oow_ack_us;

    /* Transition history (tcp_fsm.c record()): the last GLASS_HIST_INLINE transitions in
     * compact form, always; full records (hist) only when cfg.history_len > 0, in a ring
     * grown on demand (2, 4, 8, ... up to history_len). */
    struct glass_hist_rec hist_rec[GLASS_HIST_INLINE];
};

/* Every byte of the TCB is paid by every connection: on LP64 with glibc's malloc (8-byte chunk
 * header, 16-byte granules) 504 bytes make a 512-byte chunk, issue 9's per-connection budget. */
#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(struct glass_tcb) <= 504, "struct glass_tcb grew past 504 bytes");
#endif

#define GLASS_TCB_OF(ptr, member) ((struct glass_tcb *)(void *)((char *)(ptr) - offsetof(struct glass_tcb, member)))

/* The child whose link is at l in a listener's queue. */
static inline struct glass_tcb *glass_child_of(const struct glass_list *l)
{
    return ((const struct glass_child_link *)(const void *)l)->child;
}

/* A passive child's listener until it is accepted, else NULL. */
static inline struct glass_tcb *glass_tcb_listener(const struct glass_tcb *tcb)
{
    return tcb->x->cl.listener;
}

/* tcb's extension for writing where it is known to be allocated (something in it is set): never
 * glass_tcb_ext_none, which is a const object. Otherwise use glass_tcb_xw (demux.c). */
static inline struct glass_tcb_ext *glass_tcb_xmut(const struct glass_tcb *tcb)
{
    return (struct glass_tcb_ext *)tcb->x;
}

/* A negative errno value (GLASS_E*, Linux's numbers: all far below 2^15) as the TCB keeps it. */
static inline int16_t glass_err16(int err)
{
    return err < INT16_MIN ? INT16_MIN : (int16_t)err;
}

/* The inline transition records (hist_rec_n): how many, and the slot of the oldest. */
_Static_assert(GLASS_HIST_INLINE == 2, "hist_rec_n encodes a ring of two records");
static inline unsigned glass_hist_inline_count(const struct glass_tcb *tcb)
{
    return tcb->hist_rec_n < 2u ? tcb->hist_rec_n : 2u;
}

static inline unsigned glass_hist_inline_head(const struct glass_tcb *tcb)
{
    return tcb->hist_rec_n < 2u ? 0u : tcb->hist_rec_n & 1u;
}

static inline bool glass_tcp_state_in(const struct glass_tcb *tcb, uint32_t mask)
{
    return ((1u << tcb->state) & mask) != 0;
}

/* States in which the connection is synchronized (RFC 9293 §3.5: after the handshake). */
#define GLASS_TCPF_SYNCHRONIZED                                                                  \
    (GLASS_TCPF(ESTABLISHED) | GLASS_TCPF(FIN_WAIT_1) | GLASS_TCPF(FIN_WAIT_2) |                 \
     GLASS_TCPF(CLOSE_WAIT) | GLASS_TCPF(CLOSING) | GLASS_TCPF(LAST_ACK) | GLASS_TCPF(TIME_WAIT))

/* States in which we may still send data. */
#define GLASS_TCPF_CAN_SEND (GLASS_TCPF(ESTABLISHED) | GLASS_TCPF(CLOSE_WAIT))

/* States in which our FIN is queued or sent. */
#define GLASS_TCPF_FIN_STATES                                                                    \
    (GLASS_TCPF(FIN_WAIT_1) | GLASS_TCPF(FIN_WAIT_2) | GLASS_TCPF(CLOSING) |                      \
     GLASS_TCPF(LAST_ACK) | GLASS_TCPF(TIME_WAIT))

#endif
