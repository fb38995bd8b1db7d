/* glasstcp — the stack object and the core's internal interfaces. Private to the core. */
#ifndef GLASS_CORE_CORE_H
#define GLASS_CORE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/tcb.h"
#include "util/rng.h"
#include "wire/wire_priv.h"

#include <glass/config.h>
#include <glass/event.h>
#include <glass/socket.h>
#include <glass/stack.h>
#include <glass/stats.h>
#include <glass/trace.h>

#define GLASS_MAX_IFACES 8u
#define GLASS_FD_BASE 3          /* handles start at 3, as in a Unix process */
#define GLASS_TX_SLOT 2048u      /* bytes per queued output packet */
#define GLASS_WHEEL_SLOTS 1024u  /* timer wheel: 1024 slots of 1 ms */
#define GLASS_WHEEL_TICK GLASS_NSEC_PER_MSEC
#define GLASS_MIN_MSS 48u        /* floor on the peer's MSS (Linux tcp_min_snd_mss) */
#define GLASS_DUPTHRESH 3u        /* RFC 6675 §2 DupThresh, Linux tcp_reordering */
#define GLASS_TCP_TIMEOUT_MIN GLASS_MSEC(2) /* Linux TCP_TIMEOUT_MIN: 2 jiffies */
#define GLASS_CHASH_MIN 256u     /* 4-tuple hash heads in use at least (demux.c) */
#define GLASS_PORT_TABLE 256u   /* RFC 6056 algorithm 4: counters indexed by destination hash */
#define GLASS_DEFAULT_PEER_MSS 536u /* RFC 9293 §3.7.1 MUST-15: no MSS option means 536 */

struct glass_iface {
    uint32_t addr;
    uint32_t mask;
    uint16_t mtu;
};

struct glass_sock {
    struct glass_tcb *tcb; /* NULL: handle free */
};

struct glass_txpkt {
    uint16_t len;
    uint8_t data[GLASS_TX_SLOT];
};

struct glass_wheel {
    struct glass_wheel_entry *slot[GLASS_WHEEL_SLOTS];
    uint64_t bitmap[GLASS_WHEEL_SLOTS / 64];
    uint64_t tick;            /* every entry due before this tick has been fired */
    uint32_t count;           /* entries in slots and in the far heap */
    glass_time_t cached_min;  /* valid unless min_dirty */
    bool min_dirty;
    /* Entries due a revolution or more ahead (TIME_WAIT's 60 s, keepalive): a binary min-heap
     * on deadline, moved into the slots as the cursor comes within a revolution of them. */
    struct glass_wheel_entry **far;
    uint32_t far_len, far_cap;
};

/* ==== compact TIME-WAIT records (timewait.c, docs/performance.md) ========================= */

/* A connection in TIME-WAIT that nobody holds a socket for any more (orphaned) does not need
 * its TCB: what TIME-WAIT does (RFC 9293 §3.10.7.4: ACK a retransmitted FIN, restart 2 MSL,
 * hold the 4-tuple, RFC 1337, RFC 6191 reuse) needs the 4-tuple, both sequence numbers, the
 * timestamp state and a deadline. Like Linux's tcp_timewait_sock and FreeBSD's tcptw, the TCB
 * is replaced by this 60-byte record, kept in slabs of fixed-size slots addressed by 32-bit
 * references (index + 1; 0 = none) so that links cost 4 bytes and no malloc header is paid per
 * entry. The state stays TIME_WAIT (counted in in_state[] and n_time_wait) and leaves it only
 * through glass_tw_set_closed() in tcp_fsm.c, the records' one door. */
#define GLASS_TW_SLAB 256u /* records per slab */
#define GLASS_TW_REF_BITS 24u /* references fit in 24 bits: at most 2^24 - 1 records */
#define GLASS_TWF_TS_OK 0x01u    /* timestamps were in use (GLASS_TF_TS_OK) */
#define GLASS_TWF_REUSEADDR 0x02u /* SO_REUSEADDR of the socket it came from */
#define GLASS_TWF_BOUND 0x04u    /* the application had bound the port explicitly */
#define GLASS_TWF_LIVE 0x80u     /* the slot holds a record (not on the free list) */
struct glass_tw {
    uint32_t hnext;              /* 4-tuple hash chain; free list link when not live */
    uint32_t bnext, bprev;       /* chain of records by local port (bind checks) */
    uint32_t fnext, fprev;       /* expiry order: oldest deadline first */
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    uint32_t snd_nxt, rcv_nxt;   /* SND.NXT (after our FIN) and RCV.NXT (after the peer's) */
    uint32_t ts_recent, ts_off;  /* RFC 7323 TS.Recent and our TSval offset */
    uint32_t expire_ms;          /* 2MSL deadline in ms of stack time (compared mod 2^32) */
    uint32_t id;                 /* connection id: its transitions keep their thread */
    uint16_t win;                /* window field of our ACKs (already scaled, Linux tw_rcv_wnd) */
    uint8_t flags;               /* GLASS_TWF_* */
    uint8_t tag;                 /* its bit in the hash head's chain filter (timewait.c) */
};
_Static_assert(sizeof(struct glass_tw) == 60, "a TIME_WAIT record is 60 bytes");

struct glass_twtab {
    struct glass_tw **slab;      /* slab pointers, slab_cap of them */
    uint32_t n_slab, slab_cap;
    uint32_t free_ref;           /* free slots, linked through hnext */
    uint32_t live;               /* records in use */
    uint32_t n_bound;            /* ... of them from an explicitly bound socket (GLASS_TWF_BOUND) */
    uint32_t *hash;              /* 4-tuple hash heads (hash_mask + 1): a reference in the low
                                  * GLASS_TW_REF_BITS, the chain's filter above (timewait.c) */
    uint32_t hash_mask;
    uint32_t *port;              /* heads by local port & port_mask */
    uint32_t port_mask;
    uint32_t head, tail;         /* expiry order */
};

static inline struct glass_tw *glass_tw_at(const struct glass_twtab *t, uint32_t ref)
{
    uint32_t i = ref - 1u;
    return &t->slab[i / GLASS_TW_SLAB][i % GLASS_TW_SLAB];
}

/* ==== IPv4 edge, fragment reassembly, ICMP (ip.c, ip_reass.c, icmp.c) ===================== */

#define GLASS_IP_MAX_DGRAM 65535u         /* RFC 791: total length is 16 bits */
#define GLASS_REASS_TIMEOUT GLASS_SEC(30) /* Linux ipfrag_time (RFC 1122 §3.3.2: 60-120 s "MAY") */
#define GLASS_REASS_MAX_DGRAMS 64u        /* datagrams being reassembled at once */
#define GLASS_REASS_MAX_FRAGS 64u         /* fragments per datagram (a 65535-byte datagram is 45
                                             fragments at MTU 1500) */
#define GLASS_REASS_MEM_MAX (4u << 20)    /* bytes held by all of them (Linux ipfrag_high_thresh) */
#define GLASS_PMTU_FLOOR_VALID 68u        /* RFC 791: smaller "next-hop MTU" values are bogus */
#define GLASS_PMTU_MIN 576u               /* RFC 1122 §3.3.3: never believe a path below this */
#define GLASS_ICMP_ERROR_MAX 576u         /* RFC 1812 §4.3.2.3: an ICMP error fits in 576 bytes */
#define GLASS_ICMP_RATE 1000u             /* ICMP errors per second (Linux icmp_msgs_per_sec) */
#define GLASS_ICMP_BURST 50u              /* and burst (Linux icmp_msgs_burst) */

#define GLASS_ICMP_UNREACH 3u
#define GLASS_ICMP_UNREACH_PROTO 2u
#define GLASS_ICMP_TIMXCEED 11u
#define GLASS_ICMP_TIMXCEED_REASS 1u

/* Counters of this layer, Linux nstat names where Linux has one (glass_ipx_mib()). */
#define GLASS_IPX_MIBS(X)                                                                         \
    X(IpReasmTimeout, "datagrams whose reassembly timed out")                                     \
    X(IpReasmReqds, "fragments received")                                                         \
    X(IpReasmOKs, "datagrams reassembled")                                                        \
    X(IpReasmFails, "reassembly failures (bad, overlapping or evicted fragments, timeouts)")      \
    X(IpReasmDups, "exact duplicate fragments ignored (glasstcp)")                                \
    X(IpFragOKs, "datagrams fragmented on output")                                                \
    X(IpFragFails, "datagrams not sent: their fragments did not fit the tx queue")                \
    X(IpFragCreates, "fragments created on output")                                               \
    X(IcmpInMsgs, "ICMP messages received")                                                       \
    X(IcmpInErrors, "ICMP messages received with errors (length, checksum)")                      \
    X(IcmpInCsumErrors, "ICMP messages received with a bad checksum")                             \
    X(IcmpInDestUnreachs, "Destination Unreachable received")                                     \
    X(IcmpInTimeExcds, "Time Exceeded received")                                                  \
    X(IcmpInParmProbs, "Parameter Problem received")                                              \
    X(IcmpInSrcQuenchs, "Source Quench received (ignored, RFC 6633)")                             \
    X(IcmpInRedirects, "Redirect received (ignored: a host does not route)")                      \
    X(IcmpInEchos, "echo requests received")                                                      \
    X(IcmpInEchoReps, "echo replies received (ignored)")                                          \
    X(IcmpInBadMtu, "Fragmentation Needed ignored: MTU below 68 or not below the path's (glasstcp)") \
    X(IcmpOutMsgs, "ICMP messages sent")                                                          \
    X(IcmpOutRateLimitGlobal, "ICMP errors not sent: rate limit")                                 \
    X(IcmpOutDestUnreachs, "Destination Unreachable sent")                                        \
    X(IcmpOutTimeExcds, "Time Exceeded sent")                                                     \
    X(IcmpOutEchoReps, "echo replies sent")                                                       \
    X(TcpExtOutOfWindowIcmps, "ICMP errors quoting a sequence number outside SND.UNA..SND.NXT")   \
    X(TcpExtIcmpSoftErrors, "ICMP errors kept as a connection's soft error (glasstcp)")           \
    X(TcpExtIcmpHardErrors, "connection attempts failed by ICMP port/protocol unreachable (glasstcp)") \
    X(TcpExtPmtuUpdates, "path MTU lowered by Fragmentation Needed (glasstcp)")

enum glass_ipx_mib {
#define GLASS_X_IPX(n, d) GLASS_IPX_##n,
    GLASS_IPX_MIBS(GLASS_X_IPX)
#undef GLASS_X_IPX
        GLASS_IPX_MIB_COUNT
};

struct glass_ipfrag_q; /* ip_reass.c */

/* Per-stack state of the IPv4/ICMP layer (embedded in struct glass_stack as `ipx`). */
struct glass_ipx {
    struct glass_ipfrag_q *reass_head, *reass_tail; /* oldest first = earliest deadline */
    uint32_t reass_count;
    uint32_t reass_mem;          /* bytes charged against GLASS_REASS_MEM_MAX */
    uint32_t icmp_tokens;        /* ICMP error token bucket */
    glass_time_t icmp_refill;
    bool icmp_bucket_init;
    uint64_t mib[GLASS_IPX_MIB_COUNT];
};

struct glass_ipv4_repr;
/* ip.c: the input edge behind glass_stack_input() (time already set). */
int glass_ip_input(struct glass_stack *st, const uint8_t *pkt, size_t len, bool csum_ok);
/* The datagram hdr[0..hlen) followed by body[0..blen) (glass_stack_input_sg). */
int glass_ip_input_sg(struct glass_stack *st, const uint8_t *hdr, size_t hlen, const uint8_t *body,
                      size_t blen, bool csum_ok);
/* ip.c: queue one datagram (payload = hdr[0..hlen) then body[0..blen)) for output, fragmented to
 * the interface MTU if needed, all fragments or none. No DF. False if it does not fit. */
bool glass_ip_output(struct glass_stack *st, uint32_t src, uint32_t dst, uint8_t proto,
                     uint8_t tos, const uint8_t *hdr, size_t hlen, const uint8_t *body,
                     size_t blen);
/* ip.c: RFC 1122 §3.2.1.3 — not a source we may answer. */
bool glass_ip_martian_source(const struct glass_stack *st, uint32_t src);
const char *glass_ipx_mib_name(int mib);
uint64_t glass_ipx_mib(const struct glass_stack *st, int mib);
/* ip_reass.c: take the fragment ip. If it completes its datagram, *ip becomes that datagram,
 * held in *whole (glass_alloc'd, ip->total_len bytes) for the caller to deliver and free;
 * else *whole is left NULL. */
int glass_ipfrag_input(struct glass_stack *st, struct glass_ipv4_repr *ip, uint8_t **whole);
void glass_ipfrag_expire(struct glass_stack *st, glass_time_t now);
glass_time_t glass_ipfrag_next_deadline(const struct glass_stack *st);
void glass_ipfrag_free_all(struct glass_stack *st);
/* icmp.c */
int glass_icmp_input(struct glass_stack *st, const struct glass_ipv4_repr *ip);
/* An ICMP error about datagram ip (its header at ip->payload - ip->hdr_len), rate-limited and
 * never where RFC 1122 §3.2.2 forbids one. mtu: the next-hop MTU of a Fragmentation Needed. */
void glass_icmp_send_error(struct glass_stack *st, const struct glass_ipv4_repr *ip, uint8_t type,
                           uint8_t code, uint16_t mtu);

/* ==== end of the IPv4/ICMP block ============================================================ */

struct glass_reclaim_ent {
    struct glass_tcb *tcb;       /* NULL: the TCB was freed first */
    glass_time_t at;             /* when it was noted */
};

struct glass_reclaimq {
    struct glass_reclaim_ent *ent; /* a ring of cap entries */
    uint32_t cap, head, len;
    uint32_t head_seq;           /* the sequence number of ent[head] */
    uint32_t dead;               /* entries whose TCB was freed (tcb NULL) */
};

/* Freed per-connection blocks (TCBs, extensions, RACK's blocks, rings' first storage) and the
 * smallest arrays of the two structures that empty and fill again with every connection (the
 * timer wheel's far heap: TIME_WAIT's 2 MSL until the TCB becomes a record; the quiet-connection
 * FIFO) kept for the next allocation of the same size, so that opening and closing connections
 * one after another does not go to the allocator for them (a crr cycle frees two TCBs, two RACK
 * blocks, an extension, four rings' first storage and both arrays, and allocates as many
 * again). At most GLASS_BLK_PER_KIND blocks of
 * each kind and GLASS_BLK_BYTES_MAX bytes (about 7 KiB in use); the bytes count against
 * mem_max but not in mem_used (stack.c glass_alloc). Blocks are kept only while the stack has
 * a connection (a TCB, a listener included, or a TIME-WAIT record), and given back when the
 * last one goes or when the cache has not been used for GLASS_BLK_IDLE (a server whose
 * connections have all closed), so a quiet stack holds what a new one holds. */
#define GLASS_BLK_KINDS 6u    /* the kinds above, one size each (glass_blk_kind_size) */
#define GLASS_BLK_PER_KIND 4u /* blocks kept of each kind */
#define GLASS_FAR_MIN_CAP 64u     /* the timer wheel's far heap array, when first needed */
#define GLASS_RECLAIM_MIN_CAP 64u /* the quiet-connection FIFO's array, when first needed */
#define GLASS_BLK_BYTES_MAX (16u << 10)
#define GLASS_BLK_IDLE GLASS_SEC(1)
struct glass_blkcache {
    void *p[GLASS_BLK_KINDS][GLASS_BLK_PER_KIND]; /* a stack per kind: p[k][0 .. n[k]) */
    uint8_t n[GLASS_BLK_KINDS];
    uint32_t bytes;                 /* held in p[] */
    bool off;                       /* glass_stack_free: no more caching */
    glass_time_t used;              /* last block kept or taken */
};
/* The size of a block of kind k of the freed-block cache (stack.c). */
size_t glass_blk_kind_size(unsigned k);

/* Ring storage starts on a 64-byte boundary; the allocation is the storage's size plus this
 * (tcp_out.c glass_ring_reserve). */
#define GLASS_RING_ALIGN 64u
#define GLASS_RING_FIRST 512u /* a ring's first storage, if its cap is not smaller */

/* A hint to start loading the cache line at p for writing (no effect where unsupported). */
#if defined(__GNUC__)
#define GLASS_PREFETCH_W(p) __builtin_prefetch((p), 1)
#else
#define GLASS_PREFETCH_W(p) ((void)(p))
#endif

struct glass_stack {
    struct glass_config cfg;
    glass_time_t now;
    struct glass_rng rng;
    uint64_t isn_key[2];
    uint64_t cookie_key[2];   /* SYN cookies (syncookie.c), derived from isn_key */
    uint64_t port_key[2];     /* RFC 6056 port selection (demux.c), derived from isn_key */
    uint32_t port_perturb[GLASS_PORT_TABLE]; /* RFC 6056 algorithm 4 "table" */

    struct glass_iface ifaces[GLASS_MAX_IFACES];
    unsigned n_ifaces;

    /* Sockets. */
    struct glass_sock *socks;
    uint32_t n_socks_used;
    uint32_t socks_free_from;     /* no free handle below this index (lowest-fd search start) */

    /* Connections. */
    uint32_t next_conn_id;
    uint32_t n_tcbs;
    uint32_t n_time_wait;
    struct glass_list all;        /* every TCB in creation order */
    struct glass_tcb **chash;     /* 4-tuple hash: chash_max + 1 heads, allocated at creation */
    uint32_t chash_mask;          /* the heads in use - 1: a power of two that follows n_hashed */
    uint32_t chash_max;           /* the heads allocated - 1 */
    uint32_t n_hashed;            /* TCBs in the hash */
    struct glass_tcb **bhash;     /* bind table by local port */
    uint32_t bhash_mask;

    /* Output: TCBs with something to send, then ready packets. */
    struct glass_tcb *outq_head, *outq_tail;
    struct glass_txpkt *tx;
    uint32_t tx_head, tx_len;
    /* While glass_stack_output pulls a segment from a TCB: the caller's buffer, which the
     * segment is built straight into (no copy through a tx slot), and the length built. The
     * fields below direct mean something only while direct is not NULL (every reader asks
     * that first), and the last three only once direct_len is not 0 (tx_push sets them with
     * it): pull_direct sets and clears no more than that. */
    uint8_t *direct;
    size_t direct_cap, direct_len;
    /* glass_stack_output_sg: the payload may stay in the send buffer (direct_ref); where the
     * pulled segment's payload is then. */
    bool direct_ref;
    const uint8_t *direct_payload;
    size_t direct_payload_len;
    uint32_t direct_gso; /* the pulled segment is a TSO super-segment of pieces this long */
    /* glass_stack_input_sg: a datagram that must be joined into one piece goes here
     * (GLASS_IP_MAX_DGRAM bytes, allocated on first use). */
    uint8_t *join;
    uint16_t ip_id;

    /* TCBs to free once the current call returns; orphaned TIME-WAIT TCBs waiting to become
     * records (twq: see tw below). Side by side: glass_reap_now reads the three at the end of
     * every call. */
    struct glass_tcb *reap;
    struct glass_tcb *twq;
    bool twq_ready;              /* one on twq may have become ready (glass_reap_now) */

    struct glass_wheel wheel;

    /* Socket events. */
    struct glass_event *events;
    uint32_t ev_head, ev_len;
    uint64_t ev_dropped;

    /* Observability. */
    glass_observer_fn observer;
    void *observer_ctx;
    struct glass_transition *ring;
    uint32_t ring_head, ring_len;
    uint64_t ring_dropped;
    uint64_t arc_cause[32][GLASS_CAUSE_COUNT];
    uint32_t in_state[GLASS_TCP_NSTATES];
    uint64_t mib[GLASS_MIB_COUNT];
    uint64_t drops[GLASS_DROP_COUNT];
    /* The segment being processed, for transition records. */
    const struct glass_tcp_repr *cur_seg;

    /* Protections: bytes allocated (mem_max), the RFC 5961 challenge-ACK token bucket. */
    uint32_t reuse_isn; /* ISN for a SYN taking over TIME_WAIT (0 = none) */
    uint64_t mem_used;
    struct glass_blkcache blk; /* freed small blocks kept for reuse (stack.c) */
    uint32_t challenge_tokens;
    glass_time_t challenge_refill;

    /* IPv4 reassembly, ICMP rate limit and counters (ip.c, ip_reass.c, icmp.c). */
    struct glass_ipx ipx;

    /* Compact TIME-WAIT records (timewait.c) and the orphaned TIME_WAIT TCBs waiting to become
     * one (linked through rnext, GLASS_TF_TWQ) once their last ACK has gone out. */
    struct glass_twtab tw;

    /* Connections whose buffers drained, oldest first, to give the buffers back once quiet
     * for cfg.ring_idle (reclaim.c). */
    struct glass_reclaimq reclaimq;
};

/* ---- quiet connections give their buffers back (reclaim.c) ---- */
void glass_reclaim_note(struct glass_stack *st, struct glass_tcb *tcb);
void glass_reclaim_forget(struct glass_stack *st, struct glass_tcb *tcb);
void glass_reclaim_run(struct glass_stack *st);
glass_time_t glass_reclaim_next_deadline(const struct glass_stack *st);
void glass_reclaim_free_all(struct glass_stack *st);
/* Give the FIFO's array back if it holds no entry. */
void glass_reclaim_trim(struct glass_stack *st);

/* ---- memory (stack.c) ---- */
void *glass_alloc(struct glass_stack *st, size_t size);
void *glass_zalloc(struct glass_stack *st, size_t size);
void glass_free_block(struct glass_stack *st, void *p, size_t size);
/* Free p (size bytes, as allocated; NULL: nothing). Inline so that the NULL case, frequent
 * (a connection frees its optional blocks whether it made them or not), costs no call. */
static inline void glass_free(struct glass_stack *st, void *p, size_t size)
{
    if (p != NULL)
        glass_free_block(st, p, size);
}

/* ---- events and counters (stack.c) ---- */
void glass_event_push(struct glass_stack *st, struct glass_tcb *tcb, enum glass_event_kind kind,
                      int err);
static inline void glass_mib_inc(struct glass_stack *st, enum glass_mib m)
{
    st->mib[m]++;
}
/* Count a dropped packet and return the reason (for `return glass_drop(st, R);`). */
int glass_drop(struct glass_stack *st, enum glass_drop_reason reason);
/* Source address to use towards dst: an interface on its subnet, else the first; 0 if none. */
uint32_t glass_route_src(const struct glass_stack *st, uint32_t dst);
bool glass_is_local_addr(const struct glass_stack *st, uint32_t addr);
uint16_t glass_route_mtu(const struct glass_stack *st, uint32_t src);

/* ---- TCB lifetime and demux (demux.c) ---- */
struct glass_tcb *glass_tcb_new(struct glass_stack *st);
/* Free a TCB and everything it holds (rings, range lists, RACK records, history, extensions). */
void glass_tcb_free(struct glass_stack *st, struct glass_tcb *tcb);
/* tcb's extension to write to, allocated (all NULL) if tcb had none; NULL if that fails. */
struct glass_tcb_ext *glass_tcb_xw(struct glass_stack *st, struct glass_tcb *tcb);
/* Whether anything in an extension is in use (glass_stack_check: none is held empty). */
bool glass_tcb_ext_used(const struct glass_tcb_ext *x);
/* Give tcb's extension back once nothing in it is in use. */
void glass_tcb_xput(struct glass_stack *st, struct glass_tcb *tcb);
/* Queue a TCB for freeing at the end of the current call (it must be CLOSED or a child that
 * has left its listener). */
void glass_tcb_reap(struct glass_stack *st, struct glass_tcb *tcb);
/* The end of every call (stack.c): free the TCBs queued by glass_tcb_reap, turn ready
 * TIME_WAIT TCBs into records, and give the freed-block cache back if the last TCB has gone
 * (the last TIME-WAIT record's release does the same: glass_blk_check_idle). Inline: at the end
 * of nearly every call there is nothing to do. */
void glass_reap_pending(struct glass_stack *st);
/* Give the freed-block cache back if the stack holds no connection any more (stack.c). */
void glass_blk_check_idle(struct glass_stack *st);
static inline bool glass_reap_due(const struct glass_stack *st)
{
    return st->reap != NULL || (st->twq != NULL && st->twq_ready);
}
static inline void glass_reap_now(struct glass_stack *st)
{
    if (glass_reap_due(st))
        glass_reap_pending(st);
}
void glass_tcb_hash(struct glass_stack *st, struct glass_tcb *tcb);
void glass_tcb_unhash(struct glass_stack *st, struct glass_tcb *tcb);
void glass_tcb_bhash(struct glass_stack *st, struct glass_tcb *tcb);
void glass_tcb_unbhash(struct glass_stack *st, struct glass_tcb *tcb);
struct glass_tcb *glass_demux_conn(const struct glass_stack *st, uint32_t laddr, uint16_t lport,
                                   uint32_t raddr, uint16_t rport);
struct glass_tcb *glass_demux_listener(struct glass_stack *st, uint32_t laddr, uint16_t lport);
/* Linux bind-conflict rule (inet_csk_bind_conflict): 0 or -GLASS_EADDRINUSE. */
int glass_bind_check(struct glass_stack *st, const struct glass_tcb *tcb, uint32_t addr,
                     uint16_t port);
/* The ISN of a connection that takes over a TIME_WAIT 4-tuple (by SYN or by connect()): it
 * continues above the old incarnation's sequence space (Linux), so that old duplicates cannot
 * be mistaken for new data. Never 0. */
static inline uint32_t glass_tw_reuse_isn(uint32_t old_snd_nxt)
{
    uint32_t isn = old_snd_nxt + 65535u + 2u;
    return isn != 0 ? isn : 1u;
}
/* May connect() take over TIME_WAIT entry t's 4-tuple (cfg.tw_reuse)? */
bool glass_tw_reusable(const struct glass_stack *st, const struct glass_tcb *t);
/* Derive the RFC 6056 key from the stack secret. */
void glass_ports_init(struct glass_stack *st);
/* Pick an ephemeral port for tcb (RFC 6056 algorithm 4); 0 if none is free. *twref receives
 * the reusable TIME-WAIT record of the chosen 4-tuple, or 0 (always 0 with laddr 0). */
uint16_t glass_ephemeral_port(struct glass_stack *st, const struct glass_tcb *tcb,
                              uint32_t laddr, const struct glass_endpoint *remote,
                              uint32_t *twref);
/* RFC 6528 initial sequence number. */
struct glass_seq glass_isn(struct glass_stack *st, const struct glass_endpoint *local,
                           const struct glass_endpoint *remote);
/* Take a passive child out of its listener's queue, keeping its link (to requeue it). */
void glass_child_unqueue(struct glass_tcb *child);
/* Remove a passive child from its listener's queues and free its link (it is no child any
 * more: accepted, closed, or its listener closed). */
void glass_child_unlink(struct glass_stack *st, struct glass_tcb *child);

/* ---- compact TIME-WAIT (timewait.c) ---- */
/* The 32-bit hash of a 4-tuple (demux.c), keyed by the stack secret; callers mask it. */
uint32_t glass_tuple_hash(const struct glass_stack *st, uint32_t laddr, uint16_t lport,
                          uint32_t raddr, uint16_t rport);
/* tcb (TIME_WAIT) is orphaned: let it become a record once nothing is left to send. True if it
 * is on the candidate list (st->twq) on return. */
bool glass_tw_candidate(struct glass_stack *st, struct glass_tcb *tcb);
/* File the 2MSL timers that candidates entered TIME_WAIT with unfiled (glass_timer_set_unfiled):
 * time is about to move, or be asked for, while they are still TCBs. */
void glass_tw_file_timers(struct glass_stack *st);
/* Turn the waiting candidates into records (from glass_reap_now). */
void glass_tw_compact_pending(struct glass_stack *st);
/* A TCB being reaped leaves the candidate list. */
void glass_tw_forget(struct glass_stack *st, struct glass_tcb *tcb);
/* The record for a 4-tuple, 0 if none. */
uint32_t glass_tw_find(const struct glass_stack *st, uint32_t laddr, uint16_t lport,
                       uint32_t raddr, uint16_t rport);
/* First record on local port `port`'s chain (which also holds other ports: compare lport). */
uint32_t glass_tw_port_first(const struct glass_stack *st, uint16_t port);
/* Restart the 2MSL wait of a record (RFC 9293 §3.10.7.4). */
void glass_tw_restart(struct glass_stack *st, uint32_t ref);
/* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> with the record's window and timestamps. */
void glass_tw_send_ack(struct glass_stack *st, uint32_t ref);
/* Unlink and free a record (tcp_fsm.c, after recording its TIME_WAIT -> CLOSED). */
void glass_tw_release(struct glass_stack *st, uint32_t ref);
/* End the records whose 2MSL has passed; the next such deadline (GLASS_TIME_NEVER if none). */
void glass_tw_expire(struct glass_stack *st);
glass_time_t glass_tw_next_deadline(const struct glass_stack *st);
glass_time_t glass_tw_deadline(const struct glass_stack *st, const struct glass_tw *tw);
/* When its 2 MSL last (re)started: its entry into TIME_WAIT or the last restart. */
glass_time_t glass_tw_since(const struct glass_stack *st, const struct glass_tw *tw);
/* May connect() take over a record's 4-tuple (cfg.tw_reuse, as glass_tw_reusable)? */
bool glass_tw_rec_reusable(const struct glass_stack *st, const struct glass_tw *tw);
bool glass_tw_init(struct glass_stack *st); /* its tables, with the stack; false: no memory */
void glass_tw_free_all(struct glass_stack *st);
/* Invariants of the records (check.c). */
int glass_tw_check(const struct glass_stack *st, char *why, size_t cap);
/* The one door out of TIME_WAIT for a record (tcp_fsm.c): record TIME_WAIT -> CLOSED with cause
 * and free it. */
void glass_tw_set_closed(struct glass_stack *st, uint32_t ref, enum glass_tcp_cause cause);
/* Input for a record (tcp_in.c). */
int glass_tw_input(struct glass_stack *st, uint32_t ref, const struct glass_ipv4_repr *ip,
                   const struct glass_tcp_repr *seg);
/* The window field tcb would advertise now (tcp_out.c). */
uint16_t glass_tcp_window_field(struct glass_stack *st, struct glass_tcb *tcb);

/* ---- SYN cookies (syncookie.c, RFC 4987 §3.6, docs/synflood.md) ---- */
#define GLASS_COOKIE_TICK GLASS_SEC(64)  /* the cookie's time counter advances every 64 s */
#define GLASS_COOKIE_MAX_AGE 1u          /* a cookie is good for its tick and the next one */
/* What a valid cookie gives back: the SYN's options as far as the cookie carried them. */
struct glass_cookie {
    uint32_t peer_isn;  /* IRS */
    uint32_t iss;       /* the cookie itself */
    uint16_t mss;       /* from the MSS table */
    int8_t wscale;      /* the peer's shift, -1: no window scaling */
    bool sack, ts;      /* SACK-permitted, timestamps */
    uint32_t ts_off;    /* our TSval offset for the connection */
};
void glass_syncookie_init(struct glass_stack *st);
/* Answer SYN r at listener l with a SYN,ACK whose ISN is a cookie; no state is kept. */
void glass_syncookie_send(struct glass_stack *st, const struct glass_tcb *l,
                          const struct glass_ipv4_repr *ip, const struct glass_tcp_repr *r);
/* Does ACK r (no SYN, no RST) return a cookie we sent? true and *out filled if so. */
bool glass_syncookie_check(struct glass_stack *st, const struct glass_ipv4_repr *ip,
                           const struct glass_tcp_repr *r, struct glass_cookie *out);

/* ---- the state machine (tcp_fsm.c) ---- */
void glass_tcp_set_state(struct glass_stack *st, struct glass_tcb *tcb, enum glass_tcp_state to,
                         enum glass_tcp_cause cause);
/* Put a fresh TCB in its first state without recording a transition. */
void glass_tcb_init_state(struct glass_stack *st, struct glass_tcb *tcb, enum glass_tcp_state s);
/* Final bookkeeping when a TCB is freed. */
void glass_tcb_fini_state(struct glass_stack *st, struct glass_tcb *tcb);

/* ---- timers (timer.c, tcp_timer.c) ---- */
/* glass_timer_set and glass_timer_clear below: their common cases inline, the rest here. */
void glass_timer_set_slow(struct glass_stack *st, struct glass_tcb *tcb, enum glass_timer_kind k,
                          glass_time_t at);
void glass_timer_clear_armed(struct glass_stack *st, struct glass_tcb *tcb,
                             enum glass_timer_kind k);
/* File e under e->deadline (not filed). */
void glass_wheel_insert(struct glass_stack *st, struct glass_wheel_entry *e);

/* Arm timer k of tcb for at (GLASS_TIME_NEVER: disarm) and keep the wheel on the earliest. */
static inline void glass_timer_set(struct glass_stack *st, struct glass_tcb *tcb,
                                   enum glass_timer_kind k, glass_time_t at)
{
    struct glass_wheel_entry *e = &tcb->wheel;
    if (e->armed == 0 && e->pprev == NULL && e->far_idx == 0 && at != GLASS_TIME_NEVER) {
        /* No timer armed, none filed: at is the earliest. */
        tcb->timer[k] = at;
        e->armed = (uint8_t)(1u << k);
        e->deadline = at;
        glass_wheel_insert(st, e);
        return;
    }
    glass_timer_set_slow(st, tcb, k, at);
}

/* Disarm timer k of tcb. */
static inline void glass_timer_clear(struct glass_stack *st, struct glass_tcb *tcb,
                                     enum glass_timer_kind k)
{
    if (tcb->timer[k] != GLASS_TIME_NEVER)
        glass_timer_clear_armed(st, tcb, k);
}
void glass_timer_clear_all(struct glass_stack *st, struct glass_tcb *tcb);
/* Set timer k of a TCB with no timer filed, leaving the wheel alone: the caller files it
 * (glass_timer_reschedule) before the wheel may be asked for it. */
void glass_timer_set_unfiled(struct glass_tcb *tcb, enum glass_timer_kind k, glass_time_t at);
/* Re-file tcb in the wheel under the earliest of its timers. */
void glass_timer_reschedule(struct glass_stack *st, struct glass_tcb *tcb);
void glass_wheel_remove(struct glass_stack *st, struct glass_tcb *tcb);
glass_time_t glass_wheel_next(struct glass_stack *st);
void glass_wheel_run(struct glass_stack *st, glass_time_t now);
void glass_tcp_timer_fire(struct glass_stack *st, struct glass_tcb *tcb, glass_time_t now);
glass_time_t glass_tcp_rto(const struct glass_tcb *tcb, const struct glass_config *cfg);

/* ---- input (tcp_in.c) ---- */
int glass_tcp_input(struct glass_stack *st, const struct glass_ipv4_repr *ip,
                    const struct glass_tcp_repr *seg);

/* ---- output (tcp_out.c) ---- */
/* Mark tcb as having something to send; tcp_output runs when the caller drains output. */
void glass_tcp_kick(struct glass_stack *st, struct glass_tcb *tcb);
/* Generate what tcb may send now into the tx queue. Returns false if the tx queue filled. */
bool glass_tcp_output(struct glass_stack *st, struct glass_tcb *tcb);
/* Could glass_tcp_output() find anything to send for tcb, whatever the windows say? */
bool glass_tcp_output_pending(const struct glass_tcb *tcb);
/* Has tcb data or a FIN that it has not sent yet (from SND.NXT on)? */
bool glass_tcp_has_unsent(const struct glass_tcb *tcb);
/* RST for tcb's connection <SEQ=SND.NXT><CTL=RST,ACK> (abort: RFC 9293 §3.10.5). */
void glass_tcp_send_rst_for(struct glass_stack *st, struct glass_tcb *tcb);
/* RST in reply to a segment (RFC 9293 §3.10.7.1 / §3.5.2). Never replies to an RST. */
void glass_tcp_send_rst_reply(struct glass_stack *st, const struct glass_ipv4_repr *ip,
                              const struct glass_tcp_repr *seg);
/* Bare ACK <SEQ=SND.MAX><ACK=RCV.NXT>, now (not coalesced). */
void glass_tcp_send_ack_now(struct glass_stack *st, struct glass_tcb *tcb);
/* Probe <SEQ=SND.UNA-1><ACK=RCV.NXT> (zero window, keepalive). */
void glass_tcp_send_probe(struct glass_stack *st, struct glass_tcb *tcb);
/* The MSS we advertise from local address laddr: its interface MTU - 40, at most cfg.mss. */
uint16_t glass_tcp_mss_for(const struct glass_stack *st, uint32_t laddr);
/* Queue one segment that belongs to no TCB (a stateless SYN,ACK), counted in TcpOutSegs. */
bool glass_tcp_xmit_raw(struct glass_stack *st, uint32_t src, uint32_t dst,
                        struct glass_tcp_repr *r);
/* Our timestamp clock (RFC 7323 §5.4): milliseconds, offset per connection. */
uint32_t glass_tcp_ts_now(const struct glass_stack *st, const struct glass_tcb *tcb);
/* The same clock for a connection known only by its offset (a TIME-WAIT record, a cookie). */
static inline uint32_t glass_tcp_ts_clock(const struct glass_stack *st, uint32_t off)
{
    return (uint32_t)(st->now / GLASS_NSEC_PER_MSEC) + off;
}
/* Keepalive idle time and probe interval: the socket's (TCP_KEEPIDLE/KEEPINTVL) or the
 * stack's (config keepalive_time/keepalive_intvl). */
glass_time_t glass_tcp_keep_idle(const struct glass_stack *st, const struct glass_tcb *tcb);
glass_time_t glass_tcp_keep_intvl(const struct glass_stack *st, const struct glass_tcb *tcb);
/* Our window-scale shift for tcb's receive buffer. */
uint8_t glass_tcp_our_wscale(const struct glass_tcb *tcb);
/* Negotiate SYN options from the peer's SYN (or SYN,ACK) into tcb. */
void glass_tcp_syn_options(struct glass_stack *st, struct glass_tcb *tcb,
                           const struct glass_tcp_repr *r);
/* Sequence number of the first byte in tcb->sb. */
struct glass_seq glass_tcp_snd_data(const struct glass_tcb *tcb);
/* Receive window we can offer now (bytes), before the never-shrink rule. */
uint32_t glass_tcp_rcv_space(const struct glass_tcb *tcb);
/* After the application read: advertise a bigger window if it grew enough (RFC 9293
 * §3.8.6.2.2 receiver SWS avoidance). */
void glass_tcp_window_update(struct glass_stack *st, struct glass_tcb *tcb);
/* Make r's storage hold at least need bytes from its head (at most r->cap): allocated on first
 * use, grown by doubling, the contents kept. stream is the stream offset of the head byte (the
 * bytes acknowledged for a send ring, read for a receive ring): a byte's place in the storage is
 * its stream offset modulo the storage's size. False on ENOMEM (nothing is changed then). */
bool glass_ring_reserve(struct glass_stack *st, struct glass_ring *r, uint32_t need,
                        uint64_t stream);
/* The stream offsets of the head bytes of tcb's rings, for glass_ring_reserve. */
static inline uint64_t glass_sb_stream(const struct glass_tcb *tcb)
{
    return tcb->bytes_acked;
}
static inline uint64_t glass_rb_stream(const struct glass_tcb *tcb)
{
    return tcb->bytes_received - tcb->rb.len;
}
/* Free a ring's storage (if any) and empty it. */
void glass_ring_free(struct glass_stack *st, struct glass_ring *r);
/* Free what an idle connection does not need (entering TIME_WAIT, or quiet with both rings
 * drained: reclaim.c): an empty send ring, an empty receive ring with nothing out of order, and
 * RACK's block when nothing is in flight. A ring is allocated again on first use
 * (glass_ring_reserve), RACK's at the next transmission. */
void glass_tcb_release_idle(struct glass_stack *st, struct glass_tcb *tcb);

/* ---- sorted, bounded sequence-range lists (range.c) ---- */
/* Insert [s, e) into r[0..*n), sorted and disjoint, merging what it overlaps or touches.
 * Returns the index of the range that now holds it, or -1 if that would need a new range and
 * cap are in use (nothing changed then). */
int glass_range_insert(struct glass_range *r, uint8_t *n, uint8_t cap, struct glass_seq s,
                       struct glass_seq e);
/* The same for a list whose array of cap ranges is allocated only while it is not empty
 * (*r == NULL when *n == 0): -2 if the array could not be allocated (nothing changed). */
int glass_range_add(struct glass_stack *st, struct glass_range **r, uint8_t *n, uint8_t cap,
                    struct glass_seq s, struct glass_seq e);
/* Free the array of such a list once it is empty (no-op otherwise). */
void glass_range_release(struct glass_stack *st, struct glass_range **r, uint8_t n, uint8_t cap);
/* Bytes covered by r[0..n). */
uint32_t glass_range_bytes(const struct glass_range *r, uint8_t n);

/* ---- receive reassembly (tcp_reass.c) ---- */
/* Hold an out-of-order segment (seq after RCV.NXT). GLASS_DROP_NONE, or why it is dropped:
 * no room (TCP_OFO_DROP) or no memory for the range list (NOMEM). */
enum glass_drop_reason glass_reass_insert(struct glass_stack *st, struct glass_tcb *tcb,
                                          struct glass_seq seq, const uint8_t *data, uint32_t len);
/* Take in-order bytes at RCV.NXT, then every queued range they reach; returns how far RCV.NXT
 * advanced (0 if the ring is full). */
uint32_t glass_reass_in_order(struct glass_stack *st, struct glass_tcb *tcb, const uint8_t *data,
                             uint32_t len);
/* SACK blocks to report, most recent first (RFC 2018 §4). */
size_t glass_reass_sack_blocks(const struct glass_tcb *tcb, struct glass_sack_block *out,
                               size_t max);

/* ---- sender scoreboard (tcp_sack.c) ---- */
uint32_t glass_sack_update(struct glass_stack *st, struct glass_tcb *tcb,
                           const struct glass_tcp_repr *r);
bool glass_sack_is_dsack(const struct glass_tcb *tcb, const struct glass_tcp_repr *r);
void glass_sack_trim(struct glass_stack *st, struct glass_tcb *tcb);
void glass_sack_clear(struct glass_stack *st, struct glass_tcb *tcb);
bool glass_sack_is_sacked(const struct glass_tcb *tcb, struct glass_seq seq);
bool glass_sack_is_lost(const struct glass_tcb *tcb, struct glass_seq seq);
uint32_t glass_sack_pipe(const struct glass_tcb *tcb);
bool glass_sack_next_lost(const struct glass_tcb *tcb, struct glass_seq *seq, uint32_t *len);
struct glass_seq glass_sack_skip(const struct glass_tcb *tcb, struct glass_seq seq, uint32_t *run);

/* ---- congestion control (tcp_cc.c) ---- */
const char *glass_cc_name(int algo);
int glass_cc_parse(const char *name, size_t len);
void glass_cc_init(struct glass_stack *st, struct glass_tcb *tcb);
void glass_cc_on_ack(struct glass_stack *st, struct glass_tcb *tcb, uint32_t acked);
uint32_t glass_cc_ssthresh(struct glass_stack *st, struct glass_tcb *tcb, uint32_t flight);
void glass_cc_on_rto(struct glass_stack *st, struct glass_tcb *tcb);

/* ---- delayed ACKs (tcp_ack.c) ---- */
bool glass_ack_interactive(const struct glass_stack *st, const struct glass_tcb *tcb);
void glass_ack_quick(struct glass_tcb *tcb);
void glass_ack_data_recv(struct glass_stack *st, struct glass_tcb *tcb, uint32_t len);
void glass_ack_data_sent(struct glass_stack *st, struct glass_tcb *tcb);
void glass_ack_policy(struct glass_stack *st, struct glass_tcb *tcb, bool immediate);
void glass_ack_fin(struct glass_stack *st, struct glass_tcb *tcb);
void glass_ack_delack_fire(struct glass_stack *st, struct glass_tcb *tcb);
bool glass_ack_after_read(struct glass_stack *st, struct glass_tcb *tcb);

/* ---- RACK-TLP (tcp_rack.c) ---- */
bool glass_rack_enabled(const struct glass_stack *st, const struct glass_tcb *tcb);
void glass_rack_free(struct glass_stack *st, struct glass_tcb *tcb);
void glass_rack_on_send(struct glass_stack *st, struct glass_tcb *tcb, struct glass_seq seq,
                        uint32_t len, bool retrans);
void glass_rack_on_ack(struct glass_stack *st, struct glass_tcb *tcb, struct glass_seq prior_una,
                       const struct glass_tcp_repr *seg);
void glass_rack_on_dsack(struct glass_stack *st, struct glass_tcb *tcb);
bool glass_rack_detect(struct glass_stack *st, struct glass_tcb *tcb);
bool glass_rack_next_lost(struct glass_tcb *tcb, struct glass_seq *seq, uint32_t *len);
void glass_rack_arm_tlp(struct glass_stack *st, struct glass_tcb *tcb);
void glass_rack_tlp_fire(struct glass_stack *st, struct glass_tcb *tcb);
/* Enter fast recovery (tcp_in.c); RACK calls it when its timer finds a loss. */
void glass_tcp_enter_recovery(struct glass_stack *st, struct glass_tcb *tcb);

/* ---- invariants (check.c) ---- */
/* 0 if every connection's invariants hold (robustness §5.2 properties 4-8, 10), else -1 with a
 * description in why. For tests and the simulator; O(connections). */
int glass_stack_check(const struct glass_stack *st, char *why, size_t cap);

/* ---- user calls (tcp_usr.c) ---- */
/* Reset the connection for an error: CLOSED with cause, err reported to the application. */
void glass_tcp_drop(struct glass_stack *st, struct glass_tcb *tcb, enum glass_tcp_cause cause,
                    int err);
/* Abort: send RST, then CLOSED (SO_LINGER {1,0}, unread data, listener close). */
void glass_tcp_abort(struct glass_stack *st, struct glass_tcb *tcb, enum glass_tcp_cause cause);
/* Our side is done sending: queue FIN and take the state arc (close/shutdown). */
void glass_tcp_usr_fin(struct glass_stack *st, struct glass_tcb *tcb, enum glass_tcp_cause cause);
/* Start the active open (CLOSED -> SYN_SENT). */
int glass_tcp_usr_connect(struct glass_stack *st, struct glass_tcb *tcb,
                          const struct glass_endpoint *remote);
/* Copy TCB figures into a glass_tcp_info. */
void glass_tcp_fill_info(const struct glass_stack *st, const struct glass_tcb *tcb,
                         struct glass_tcp_info *info);

#endif
