/* glasstcp — what to send now: SYN, data, FIN, ACK, RST (RFC 9293 §3.8, §3.10.4–§3.10.7). */
#include "core/core.h"
#include "util/assert.h"

#include <string.h>

struct glass_seq glass_tcp_snd_data(const struct glass_tcb *tcb)
{
    /* Until our SYN is acknowledged it occupies ISS; data starts after it. */
    return glass_seq_eq(tcb->snd_una, tcb->iss) ? glass_seq_add(tcb->iss, 1) : tcb->snd_una;
}

/* Ring storage starts on a 64-byte boundary (a cache line): the allocator promises 16, and
 * a byte's place in a ring is its stream offset modulo the ring's size (below), the same in the
 * sender's and the receiver's ring when their sizes are equal, so copies between the two are
 * then co-aligned, which string instructions (glibc's memcpy uses `rep movsb` for 2-64 KiB)
 * need to run at full speed on some CPUs (AMD Zen: several times slower when source and
 * destination differ in alignment). The bytes skipped (1..64) are kept in the byte before the
 * storage. */
static uint8_t *ring_storage(struct glass_stack *st, uint32_t size)
{
    uint8_t *raw = glass_alloc(st, (size_t)size + GLASS_RING_ALIGN);
    if (raw == NULL)
        return NULL;
    uint8_t skip = (uint8_t)(GLASS_RING_ALIGN - (uintptr_t)raw % GLASS_RING_ALIGN);
    raw[skip - 1u] = skip;
    return raw + skip;
}

static void ring_storage_free(struct glass_stack *st, uint8_t *buf, uint32_t size)
{
    glass_free(st, buf - buf[-1], (size_t)size + GLASS_RING_ALIGN);
}

/* A ring's first storage is GLASS_RING_FIRST, 512 bytes (or cap if that is less). A connection
 * that carries a request and a response of a few bytes holds 512 bytes per direction instead
 * of cap (128 KiB by default; Linux likewise sizes an skb to the data, not to SO_SNDBUF), and
 * the allocator sees small blocks that it recycles from its bins: cap-sized blocks, allocated
 * and freed for each short connection, made glibc return the heap top to the kernel and fault
 * it back in every time (5x fewer crr connections per second; docs/performance.md). With the
 * alignment, 512 + 64 bytes is within glibc's per-thread cache (blocks up to 1,032 bytes):
 * 4 KiB blocks went through its bins, 1.9% of a crr connection's instructions. */
_Static_assert(GLASS_RING_FIRST + GLASS_RING_ALIGN <= 1032u,
               "a ring's first block fits glibc's per-thread cache");
/* A ring's storage grown to hold need bytes (need <= r->cap), its bytes moved (below). */
static __attribute__((noinline)) bool ring_grow(struct glass_stack *st, struct glass_ring *r,
                                                 uint32_t need, uint64_t stream)
{
    uint64_t size = r->buf != NULL ? 2u * (uint64_t)r->size : GLASS_RING_FIRST;
    while (size < need)
        size *= 2u;
    if (size > r->cap)
        size = r->cap;
    uint8_t *buf = ring_storage(st, (uint32_t)size);
    if (buf == NULL)
        return false;
    /* Everything the old storage holds, from its head on (the readable bytes and any stored
     * beyond them out of order), moves to the same offsets from the new head, which is placed
     * at the head byte's stream offset modulo the new size. */
    struct glass_ring n = {.buf = buf, .cap = r->cap, .head = (uint32_t)(stream % size),
                           .size = (uint32_t)size};
    if (r->buf != NULL) {
        const uint8_t *p;
        uint32_t first = glass_ring_span_at(r, 0, r->size, &p);
        glass_ring_write_at(&n, 0, p, first);
        glass_ring_write_at(&n, first, r->buf, r->size - first);
        ring_storage_free(st, r->buf, r->size);
    }
    n.len = r->len;
    *r = n;
    return true;
}

bool glass_ring_reserve(struct glass_stack *st, struct glass_ring *r, uint32_t need,
                        uint64_t stream)
{
    if (need > r->cap)
        need = r->cap;
    if (r->buf != NULL && r->size >= need)
        return true;
    if (r->buf != NULL || need > GLASS_RING_FIRST || r->cap < GLASS_RING_FIRST)
        return ring_grow(st, r, need, stream);
    /* The first storage, GLASS_RING_FIRST bytes (what ring_grow does, with nothing to move and
     * the size known: the head's place is a mask, not a division). */
    uint8_t *buf = ring_storage(st, GLASS_RING_FIRST);
    if (buf == NULL)
        return false;
    r->buf = buf;
    r->head = (uint32_t)(stream % GLASS_RING_FIRST);
    r->size = GLASS_RING_FIRST;
    return true;
}

void glass_ring_free(struct glass_stack *st, struct glass_ring *r)
{
    if (r->buf != NULL)
        ring_storage_free(st, r->buf, r->size);
    r->buf = NULL;
    r->head = 0;
    r->len = 0;
    r->size = 0;
}

void glass_tcb_release_idle(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (glass_seq_eq(tcb->snd_una, tcb->snd_max) && tcb->timer[GLASS_TT_RACK] == GLASS_TIME_NEVER &&
        tcb->timer[GLASS_TT_TLP] == GLASS_TIME_NEVER)
        glass_rack_free(st, tcb); /* nothing in flight: RACK has nothing to track */
    if (tcb->sb.len == 0)
        glass_ring_free(st, &tcb->sb);
    if (tcb->rb.len == 0 && tcb->n_ooo == 0)
        glass_ring_free(st, &tcb->rb); /* (SO_RCVBUF still counts it as used: socket.c) */
}

void glass_tcp_kick(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (tcb->flags & (GLASS_TF_IN_OUTQ | GLASS_TF_REAP))
        return;
    tcb->flags |= GLASS_TF_IN_OUTQ;
    tcb->onext = NULL;
    if (st->outq_tail != NULL)
        st->outq_tail->onext = tcb;
    else
        st->outq_head = tcb;
    st->outq_tail = tcb;
}

uint32_t glass_tcp_rcv_space(const struct glass_tcb *tcb)
{
    uint32_t space = tcb->rb.cap > tcb->rb.len ? tcb->rb.cap - tcb->rb.len : 0;
    uint32_t max = 65535u << tcb->rcv_wscale; /* RFC 7323 §2.3 */
    return space > max ? max : space;
}

uint32_t glass_tcp_ts_now(const struct glass_stack *st, const struct glass_tcb *tcb)
{
    return glass_tcp_ts_clock(st, tcb->ts_off);
}

/* The window field to put in a segment. RFC 9293 §3.8.6.2.2: the right edge we offer
 * (rcv_adv) never moves left, and moves right only by at least min(RCV.BUFF / 2,
 * Eff.snd.MSS) (receiver silly-window avoidance). With window scaling (RFC 7323 §2.3) the
 * field is the window >> rcv_wscale, rounded down: the peer may see the edge up to
 * 2^rcv_wscale - 1 bytes short (RFC 7323 §2.4 expects that), and we never offer a byte the
 * receive buffer cannot hold. */
/* The window offered now (right edge minus RCV.NXT), and whether the buffer's free space,
 * aligned to the scale, beats it by the SWS step so that the edge may move right (*grow). */
static uint32_t offer(const struct glass_tcb *tcb, uint32_t *grow)
{
    uint32_t cur = glass_seq_ge(tcb->rcv_adv, tcb->rcv_nxt) ? glass_seq_sub(tcb->rcv_adv, tcb->rcv_nxt)
                                                            : 0;
    uint32_t step = tcb->rb.cap / 2u < tcb->rcv_mss ? tcb->rb.cap / 2u : tcb->rcv_mss;
    uint8_t sh = tcb->rcv_wscale;
    uint32_t aligned = (glass_tcp_rcv_space(tcb) >> sh) << sh;
    *grow = aligned > cur && aligned - cur >= step ? aligned : 0;
    return cur;
}

static uint16_t advertise_window(struct glass_stack *st, struct glass_tcb *tcb)
{
    uint32_t aligned;
    uint32_t cur = offer(tcb, &aligned);
    uint8_t sh = tcb->rcv_wscale;
    if (aligned != 0) {
        if ((cur >> sh) == 0)
            glass_mib_inc(st, GLASS_MIB_TcpExtTCPFromZeroWindowAdv);
        cur = aligned;
        tcb->rcv_adv = glass_seq_add(tcb->rcv_nxt, cur);
    }
    uint32_t field = cur >> sh;
    if (field > 65535u)
        field = 65535u;
    if (field == 0) {
        glass_mib_inc(st, GLASS_MIB_TcpExtTCPWantZeroWindowAdv);
        if (tcb->flags2 & GLASS_TF2_LAST_WIN_NONZERO)
            glass_mib_inc(st, GLASS_MIB_TcpExtTCPToZeroWindowAdv);
    }
    if (field != 0)
        tcb->flags2 |= GLASS_TF2_LAST_WIN_NONZERO;
    else
        tcb->flags2 &= (uint8_t)~GLASS_TF2_LAST_WIN_NONZERO;
    return (uint16_t)field;
}

uint16_t glass_tcp_window_field(struct glass_stack *st, struct glass_tcb *tcb)
{
    return advertise_window(st, tcb);
}

/* Where the next packet is built: the caller's buffer of glass_stack_output when a segment is
 * being pulled for it and fits (zero-copy: the payload goes from the send buffer straight into
 * the device's buffer), else the next tx slot. Returns NULL, counted, when the queue is full. */
static bool direct_fits(const struct glass_stack *st, size_t total)
{
    return st->direct != NULL && st->direct_len == 0 && st->tx_len == 0 &&
           total <= st->direct_cap;
}

/* direct: direct_fits(st, total), which the caller has worked out already. */
static uint8_t *tx_target(struct glass_stack *st, bool direct, size_t total, size_t *cap)
{
    if (direct) {
        *cap = st->direct_cap;
        return st->direct;
    }
    if (st->tx_len >= st->cfg.tx_ring) {
        glass_mib_inc(st, GLASS_MIB_IpOutDiscards);
        return NULL;
    }
    if (total > GLASS_TX_SLOT)
        return NULL; /* only the caller's buffer could hold it: glass_stack_output says EMSGSIZE */
    *cap = GLASS_TX_SLOT;
    return st->tx[(st->tx_head + st->tx_len) % st->cfg.tx_ring].data;
}

/* A segment has been pulled into the caller's buffer (or the tx queue while pulling): the
 * TCB waits for the next glass_stack_output call, behind any other TCB with something to send. */
static bool pulled_one(const struct glass_stack *st)
{
    return st->direct != NULL && (st->direct_len != 0 || st->tx_len != 0);
}

/* The payload of a segment pulled for glass_stack_output_sg may stay where it is in the send
 * buffer when it does not wrap around its end: then *p receives it. The datagram must still
 * fit the caller's buffer whole (total bytes), so that the sizes accepted do not depend on
 * where the ring wraps. */
static bool payload_in_place(const struct glass_stack *st, const struct glass_ring *payload,
                             uint32_t off, uint32_t len, bool direct, const uint8_t **p)
{
    return direct && st->direct_ref && payload != NULL && len > 0 &&
           glass_ring_span_at(payload, off, len, p) == len;
}

/* How many wire datagrams a segment of len payload bytes is: pieces of gso bytes (the last
 * one shorter) for a TSO super-segment, else one. */
static uint32_t tso_pieces(uint32_t len, uint32_t gso)
{
    return gso != 0 && len > gso ? (len + gso - 1u) / gso : 1u;
}

/* Append one IPv4/TCP packet to the output. Payload, if any, is copied from tcb->sb at
 * offset `off` (or left there for glass_stack_output_sg). gso != 0: a TSO super-segment of
 * pieces of gso bytes, which only the caller's buffer of glass_stack_output_sg takes
 * (tso_budget made sure it does); its checksum is always left to the device, which sums each
 * piece. Returns false when there is no room (nothing is changed then). */
static bool tx_push(struct glass_stack *st, uint32_t src, uint32_t dst, struct glass_tcp_repr *r,
                    const struct glass_ring *payload, uint32_t off, uint32_t gso)
{
    unsigned nsack;
    size_t hl = glass_tcp_layout(r, &nsack);
    size_t total = GLASS_IPV4_HDR_MIN + hl + r->payload_len;
    const uint8_t *in_place = NULL;
    bool direct = direct_fits(st, total);
    bool ref = payload_in_place(st, payload, off, (uint32_t)r->payload_len, direct, &in_place);
    size_t cap;
    uint8_t *out = tx_target(st, direct, total, &cap);
    if (out == NULL)
        return false;
    GLASS_ASSERT(gso == 0 || out == st->direct);
    uint8_t *tcp = out + GLASS_IPV4_HDR_MIN;
    r->csum_partial = st->cfg.tx_csum_offload || gso != 0;
    r->payload_ref = ref;
    if (ref) {
        r->payload = in_place;
    } else if (r->payload_len > 0 && payload != NULL) {
        glass_ring_peek(payload, off, tcp + hl, (uint32_t)r->payload_len);
        r->payload = NULL;
    }
    size_t tl = glass_tcp_emit_laid(tcp, cap - GLASS_IPV4_HDR_MIN, r, src, dst, hl, nsack);
    uint16_t id = st->ip_id++;
    if (tl == 0)
        return false;
    /* TOS 0, TTL 64, DF: out has room for the 20 bytes (tx_target) and tl <= 65515
     * (glass_tcp_emit_laid). */
    glass_ipv4_emit_tcp(out, src, dst, id, tl);
    size_t il = GLASS_IPV4_HDR_MIN;
    /* Each piece of a super-segment takes the next identification (as a NIC does). */
    st->ip_id = (uint16_t)(st->ip_id + tso_pieces((uint32_t)r->payload_len, gso) - 1u);
    if (out == st->direct) {
        st->direct_len = il + tl - (ref ? r->payload_len : 0u);
        st->direct_payload = ref ? in_place : NULL;
        st->direct_payload_len = ref ? r->payload_len : 0u;
        st->direct_gso = gso;
    } else {
        st->tx[(st->tx_head + st->tx_len) % st->cfg.tx_ring].len = (uint16_t)(il + tl);
        st->tx_len++;
    }
    if (r->flags & GLASS_TH_RST)
        glass_mib_inc(st, GLASS_MIB_TcpOutRsts);
    return true;
}

uint16_t glass_tcp_mss_for(const struct glass_stack *st, uint32_t laddr)
{
    uint32_t mtu = glass_route_mtu(st, laddr);
    uint32_t mss = mtu > 40u ? mtu - 40u : 536u;
    if (mss > st->cfg.mss)
        mss = st->cfg.mss;
    return (uint16_t)mss;
}

static uint16_t our_mss(const struct glass_stack *st, const struct glass_tcb *tcb)
{
    return glass_tcp_mss_for(st, tcb->local.addr);
}

/* Build and queue one segment of tcb's connection: a TSO super-segment of pieces of gso
 * bytes when gso != 0 and len > gso. False, with nothing changed, if there is no room, or if
 * an output pull already has its segment (one per pull: glass_tcp_output's caller re-queues
 * the TCB). */
static bool send_segment_gso(struct glass_stack *st, struct glass_tcb *tcb, struct glass_seq seq,
                             uint8_t flags, uint32_t off, uint32_t len, uint32_t gso)
{
    if (pulled_one(st))
        return false;
    struct glass_tcp_repr r = {
        .src_port = tcb->local.port,
        .dst_port = tcb->remote.port,
        .seq = seq.v,
        .flags = flags,
        .wscale = -1,
        .payload_len = len,
    };
    if (flags & GLASS_TH_ACK)
        r.ack = tcb->rcv_nxt.v;
    if (flags & GLASS_TH_SYN) {
        /* SYN options in Linux's order (mss, sackOK, TS, nop, wscale). A SYN offers what the
         * configuration allows; a SYN,ACK answers only what the peer offered (RFC 7323 §1.3,
         * RFC 2018 §2). */
        bool synack = (flags & GLASS_TH_ACK) != 0;
        tcb->rcv_mss = our_mss(st, tcb);
        r.mss = tcb->rcv_mss;
        if (synack ? (tcb->flags & GLASS_TF_SACK_OK) != 0 : st->cfg.sack)
            r.sack_perm = true;
        if (synack ? (tcb->flags & GLASS_TF_TS_OK) != 0 : st->cfg.timestamps) {
            r.has_ts = true;
            r.ts_val = glass_tcp_ts_now(st, tcb);
            r.ts_ecr = synack ? tcb->ts_recent : 0;
        }
        if (synack ? (tcb->flags & GLASS_TF_WS_OK) != 0 : st->cfg.window_scaling)
            r.wscale = (int16_t)tcb->rcv_wscale;
        /* RFC 7323 §2.2: the window in a SYN is never scaled. */
        uint32_t w = tcb->rb.cap > tcb->rb.len ? tcb->rb.cap - tcb->rb.len : 0;
        r.win = (uint16_t)(w > 65535u ? 65535u : w);
        if (synack)
            tcb->rcv_adv = glass_seq_add(tcb->rcv_nxt, r.win);
    } else if (flags & GLASS_TH_RST) {
        r.win = 0;
    } else {
        r.win = advertise_window(st, tcb);
        if (tcb->flags & GLASS_TF_TS_OK) {
            r.has_ts = true;
            r.ts_val = glass_tcp_ts_now(st, tcb);
            r.ts_ecr = tcb->ts_recent;
        }
        if ((tcb->flags & GLASS_TF_SACK_OK) && (tcb->n_ooo > 0 || (tcb->flags & GLASS_TF_DSACK)) &&
            (flags & GLASS_TH_ACK)) {
            /* RFC 2018 §4: up to 4 blocks, 3 when timestamps take their 12 bytes; a D-SACK
             * block first (RFC 2883 §4). */
            size_t max = r.has_ts ? 3u : 4u, n = 0;
            if (tcb->flags & GLASS_TF_DSACK) {
                r.sack[0].left = tcb->dsack.start.v;
                r.sack[0].right = tcb->dsack.end.v;
                n = 1;
            }
            r.nsack = (uint8_t)(n + glass_reass_sack_blocks(tcb, r.sack + n, max - n));
        }
    }
    if (!tx_push(st, tcb->local.addr, tcb->remote.addr, &r, len ? &tcb->sb : NULL, off, gso))
        return false;
    tcb->segs_out += tso_pieces(len, gso);
    if (len > 0)
        glass_ack_data_sent(st, tcb);
    tcb->last_snd = st->now;
    if (flags & GLASS_TH_ACK) {
        tcb->flags &= ~(GLASS_TF_ACKNOW | GLASS_TF_DSACK);
        if (tcb->flags & GLASS_TF_TWQ)
            st->twq_ready = true; /* its last ACK is out: it may become a record */
        tcb->last_ack_sent = tcb->rcv_nxt;
        tcb->delack_segs = 0;
        tcb->ack_pushed = 0;
        glass_timer_clear(st, tcb, GLASS_TT_DELACK);
    }
    return true;
}

static bool send_segment(struct glass_stack *st, struct glass_tcb *tcb, struct glass_seq seq,
                         uint8_t flags, uint32_t off, uint32_t len)
{
    return send_segment_gso(st, tcb, seq, flags, off, len, 0);
}

/* Account for a retransmission of [seq, seq + n) (RFC 6298 §3, Karn's rule: no RTT sample
 * from it unless timestamps tell the copies apart). */
static void count_retrans(struct glass_stack *st, struct glass_tcb *tcb, bool syn)
{
    glass_mib_inc(st, GLASS_MIB_TcpRetransSegs);
    tcb->total_retrans++;
    if (syn)
        glass_mib_inc(st, GLASS_MIB_TcpExtTCPSynRetrans);
    tcb->flags &= ~GLASS_TF_RTT_VALID;
}

static void arm_rexmt(struct glass_stack *st, struct glass_tcb *tcb)
{
    /* RFC 6298 (5.1): start the timer if it is not running. */
    if (tcb->timer[GLASS_TT_REXMT] == GLASS_TIME_NEVER)
        glass_timer_set(st, tcb, GLASS_TT_REXMT, st->now + glass_tcp_rto(tcb, &st->cfg));
    if (tcb->rtx_since == 0)
        tcb->rtx_since = st->now;
}

/* Account for a segment sent from SND.NXT that occupies [seq, seq + n), its transmission
 * record made (or not: a SYN) by the caller. */
static void sent_seq(struct glass_stack *st, struct glass_tcb *tcb, struct glass_seq seq,
                     uint32_t n, bool syn)
{
    struct glass_seq end = glass_seq_add(seq, n);
    if (glass_seq_lt(seq, tcb->snd_max)) {
        count_retrans(st, tcb, syn);
    } else {
        glass_mib_inc(st, GLASS_MIB_TcpOutSegs);
        if (!(tcb->flags & GLASS_TF_RTT_VALID) && tcb->rxtshift == 0) {
            tcb->flags |= GLASS_TF_RTT_VALID;
            tcb->rtt_seq = seq;
            tcb->rtt_start = st->now;
        }
    }
    tcb->snd_nxt = end;
    if (glass_seq_gt(end, tcb->snd_max))
        tcb->snd_max = end;
    arm_rexmt(st, tcb);
}

/* Account for a segment sent from SND.NXT that occupies [seq, seq + n). */
static void sent_space(struct glass_stack *st, struct glass_tcb *tcb, struct glass_seq seq,
                       uint32_t n, bool syn)
{
    if (!syn)
        glass_rack_on_send(st, tcb, seq, n, glass_seq_lt(seq, tcb->snd_max));
    sent_seq(st, tcb, seq, n, syn);
}

/* Account for a TSO super-segment of new data, [seq, seq + len) and its FIN if fin, as the
 * pieces of gso bytes the wire carries: one transmission record and one TcpOutSegs each, so
 * that RACK and SACK mark exactly the datagrams that were lost (the FIN's sequence number
 * belongs to the last piece, which carries it). */
static void sent_tso(struct glass_stack *st, struct glass_tcb *tcb, struct glass_seq seq,
                     uint32_t len, bool fin, uint32_t gso)
{
    for (uint32_t at = 0; at < len; at += gso) {
        uint32_t piece = len - at > gso ? gso : len - at;
        bool last = at + piece == len;
        glass_rack_on_send(st, tcb, glass_seq_add(seq, at), piece + (last && fin ? 1u : 0u), false);
        if (!last)
            glass_mib_inc(st, GLASS_MIB_TcpOutSegs); /* sent_seq counts the last */
    }
    sent_seq(st, tcb, seq, len + (fin ? 1u : 0u), false);
}

/* A pure ACK carries SEG.SEQ = SND.MAX, not SND.NXT: after a timeout pulled SND.NXT back
 * (go-back-N), the peer already holds everything below SND.MAX and would find an ACK at the
 * old SND.NXT unacceptable and ignore its acknowledgment (Linux tcp_acceptable_seq). */
static bool send_pure_ack(struct glass_stack *st, struct glass_tcb *tcb)
{
    bool ok = send_segment(st, tcb, tcb->snd_max, GLASS_TH_ACK, 0, 0);
    if (ok)
        glass_mib_inc(st, GLASS_MIB_TcpOutSegs);
    return ok;
}

void glass_tcp_send_ack_now(struct glass_stack *st, struct glass_tcb *tcb)
{
    (void)send_pure_ack(st, tcb);
}

void glass_tcp_send_probe(struct glass_stack *st, struct glass_tcb *tcb)
{
    /* SEG.SEQ = SND.UNA - 1, no data: the peer must answer with an ACK carrying its window
     * (zero-window probe, RFC 9293 §3.8.6.1; keepalive, RFC 1122 §4.2.3.6), and the probe
     * occupies no sequence space. */
    if (send_segment(st, tcb, glass_seq_add(tcb->snd_una, (uint32_t)-1), GLASS_TH_ACK, 0, 0))
        glass_mib_inc(st, GLASS_MIB_TcpOutSegs);
}

/* The segment size to send with: the MSS, bounded to half the largest window the peer ever
 * offered when that window is small (Linux tcp_bound_to_half_wnd), so that a tiny window is
 * still used in full-sized segments rather than waiting for the SWS override. */
static uint32_t seg_size(const struct glass_tcb *tcb)
{
    uint32_t cutoff = tcb->max_snd_wnd > 536u ? tcb->max_snd_wnd / 2u : tcb->max_snd_wnd;
    uint32_t mss = tcb->snd_mss;
    if (cutoff != 0 && mss > cutoff)
        mss = cutoff > 36u ? cutoff : 36u;
    return mss;
}

/* Nagle (RFC 9293 §3.7.4, RFC 896) in Minshall's form, as Linux (tcp_nagle_check): a short
 * segment waits only while an earlier short segment is unacknowledged; and sender SWS avoidance
 * (§3.8.6.2.1): may a segment of len bytes go now, when avail bytes are ready to send? */
static bool may_send(const struct glass_tcb *tcb, uint32_t len, uint32_t avail, bool fin)
{
    if (len == 0)
        return fin;
    if (len >= seg_size(tcb) || (tcb->flags & GLASS_TF_FORCE))
        return true; /* a full segment, or the override timeout of §3.8.6.2.1 fired */
    bool short_unacked = glass_seq_gt(tcb->snd_sml, tcb->snd_una) &&
                         glass_seq_le(tcb->snd_sml, tcb->snd_max);
    if (len == avail && (!short_unacked || (tcb->flags & GLASS_TF_NODELAY) || fin))
        return true;
    if (tcb->max_snd_wnd > 0 && len >= tcb->max_snd_wnd / 2u)
        return true;
    /* retransmission after a timeout: send what the window allows */
    return glass_seq_lt(tcb->snd_nxt, tcb->snd_max);
}

/* TSO output (config tso_max): the largest headers a super-segment can have (IPv4 without
 * options, TCP with 40 bytes of options), and so the most payload one IPv4 datagram holds. */
#define TSO_HDR_MAX (GLASS_IPV4_HDR_MIN + 60u)
#define TSO_PAYLOAD_MAX (65535u - TSO_HDR_MAX)

/* How many bytes of new data, from send-buffer offset off, the next segment may carry as one
 * TSO super-segment (more than mss), or 0 when it must be MSS-sized. Only a
 * glass_stack_output_sg caller whose buffer holds the whole datagram gets one (tx_target then
 * builds it there), only for data never sent before (retransmissions stay MSS-sized: RFC 5681
 * §3.2 and RFC 6675 retransmit a segment, and a piece lost twice costs an MSS, not 64 KiB), and
 * it ends where the send buffer wraps, so that its payload stays where it is (one span). */
static uint32_t tso_budget(const struct glass_stack *st, const struct glass_tcb *tcb, uint32_t off,
                           uint32_t mss)
{
    if (st->cfg.tso_max <= mss || !st->direct_ref || st->direct == NULL || st->direct_len != 0 ||
        st->tx_len != 0 || st->direct_cap <= TSO_HDR_MAX || tcb->sb.buf == NULL ||
        glass_seq_lt(tcb->snd_nxt, tcb->snd_max))
        return 0;
    size_t budget = st->cfg.tso_max < TSO_PAYLOAD_MAX ? st->cfg.tso_max : TSO_PAYLOAD_MAX;
    if (budget > st->direct_cap - TSO_HDR_MAX)
        budget = st->direct_cap - TSO_HDR_MAX;
    const uint8_t *p;
    uint32_t span = glass_ring_span_at(&tcb->sb, off, (uint32_t)budget, &p);
    return span > mss ? span : 0;
}

/* A super-segment is whole MSS pieces, and a shorter last piece only where the data ends and
 * Nagle would let that short segment go now anyway (Linux tcp_mss_split_point); otherwise it is
 * cut back to whole pieces, and the rest waits for the next round, as it would in MSS-sized
 * segments. */
static uint32_t tso_trim(const struct glass_tcb *tcb, uint32_t len, uint32_t avail, uint32_t mss,
                         bool fin_pending)
{
    uint32_t tail = len % mss;
    if (tail == 0 || (len == avail && may_send(tcb, tail, tail, fin_pending)))
        return len;
    return len - tail;
}

/* Retransmit [seq, seq + len) of the send buffer without moving SND.NXT: fast retransmit and
 * RFC 6675 hole filling. Returns false if the tx queue is full. */
static bool send_hole(struct glass_stack *st, struct glass_tcb *tcb, struct glass_seq seq,
                      uint32_t len)
{
    struct glass_seq data = glass_tcp_snd_data(tcb);
    uint32_t off = glass_seq_sub(seq, data);
    if (off >= tcb->sb.len) {
        glass_rack_on_send(st, tcb, seq, len, true);
        return true; /* only the FIN is left there: the timer takes care of it */
    }
    if (len > tcb->sb.len - off)
        len = tcb->sb.len - off;
    uint8_t fl = GLASS_TH_ACK;
    if (off + len == tcb->sb.len)
        fl |= GLASS_TH_PSH;
    if (!send_segment(st, tcb, seq, fl, off, len))
        return false; /* nothing changed: no room for it now */
    glass_rack_on_send(st, tcb, seq, len, true);
    count_retrans(st, tcb, false);
    struct glass_seq end = glass_seq_add(seq, len);
    if (glass_seq_gt(end, tcb->high_rxt))
        tcb->high_rxt = end;
    arm_rexmt(st, tcb);
    return true;
}

/* How many more bytes congestion control lets us put in flight now. */
static uint32_t cwnd_room(const struct glass_tcb *tcb)
{
    uint32_t inflight;
    if (tcb->ca_state == GLASS_CA_RECOVERY && (tcb->flags & GLASS_TF_SACK_OK))
        inflight = glass_sack_pipe(tcb); /* RFC 6675 §5 (C): while pipe < cwnd */
    else
        inflight = glass_seq_sub(tcb->snd_nxt, tcb->snd_una); /* BSD: what this round sent */
    uint32_t cwnd = tcb->cwnd;
    /* RFC 3042 limited transmit: one new segment for each of the first two duplicate ACKs. */
    if (tcb->ca_state == GLASS_CA_DISORDER && tcb->dupacks <= 2u)
        cwnd += (uint32_t)tcb->dupacks * tcb->snd_mss;
    return cwnd > inflight ? cwnd - inflight : 0;
}

/* What glass_tcp_output() sends, if the windows let it, comes from these: the SYN until it is
 * acknowledged, an ACK owed, a retransmission (NewReno's, a loss-recovery hole, a tail loss
 * probe, go-back-N after a timeout: SND.NXT below SND.MAX), data not yet sent and a FIN not
 * yet sent. An ACK that leaves none of them, as the ACK of the last byte of a request or a
 * response does, needs no output pull: in crr that was 3 pulls per connection that found
 * nothing (docs/performance.md, "The tenth round"). True when in doubt. */
bool glass_tcp_output_pending(const struct glass_tcb *tcb)
{
    if (tcb->flags & (GLASS_TF_ACKNOW | GLASS_TF_LOST_RTX | GLASS_TF_PROBE | GLASS_TF_FORCE))
        return true;
    if (tcb->ca_state == GLASS_CA_RECOVERY || glass_seq_eq(tcb->snd_una, tcb->iss) ||
        glass_seq_lt(tcb->snd_nxt, tcb->snd_max))
        return true;
    return glass_tcp_has_unsent(tcb);
}

bool glass_tcp_has_unsent(const struct glass_tcb *tcb)
{
    if (glass_seq_lt(tcb->snd_nxt, glass_seq_add(glass_tcp_snd_data(tcb), tcb->sb.len)))
        return true;
    return (tcb->flags & GLASS_TF_FIN_QUEUED) && glass_seq_le(tcb->snd_nxt, tcb->fin_seq);
}

/* close() in SYN_RCVD: the FIN follows the SYN,ACK at once, before the SYN is acknowledged
 * (RFC 9293 §3.10.4, Linux tcp_close). */
static bool fin_after_synack(const struct glass_tcb *tcb)
{
    return (tcb->flags & GLASS_TF_FIN_QUEUED) && tcb->state == GLASS_TCP_FIN_WAIT_1 &&
           tcb->sb.len == 0 && glass_seq_eq(tcb->snd_nxt, tcb->fin_seq);
}

/* After a pull has sent its segment: may the next pull send anything? As
 * glass_tcp_output_pending(), except while our SYN is out and not yet acknowledged. The checks
 * below then stop at the SYN: only an owed ACK, or the FIN of fin_after_synack(), can go
 * before its ACK, and that ACK queues the connection again (tcp_in.c). Re-queuing it for
 * nothing made the next output call a pull that found nothing, after each SYN and SYN,ACK: 2
 * of the 9 output pulls of a crr connection. True when in doubt. */
static bool more_due(const struct glass_tcb *tcb)
{
    if (glass_seq_eq(tcb->snd_una, tcb->iss) && !glass_seq_eq(tcb->snd_nxt, tcb->iss))
        return (tcb->flags & GLASS_TF_ACKNOW) || fin_after_synack(tcb);
    return glass_tcp_output_pending(tcb);
}

bool glass_tcp_output(struct glass_stack *st, struct glass_tcb *tcb)
{
    uint32_t sendable = GLASS_TCPF(SYN_SENT) | GLASS_TCPF(SYN_RCVD) | GLASS_TCPF(ESTABLISHED) |
                        GLASS_TCPF(CLOSE_WAIT) | GLASS_TCPF(FIN_WAIT_1) | GLASS_TCPF(CLOSING) |
                        GLASS_TCPF(LAST_ACK) | GLASS_TCPF(FIN_WAIT_2) | GLASS_TCPF(TIME_WAIT);
    if (!glass_tcp_state_in(tcb, sendable)) {
        tcb->flags &= ~GLASS_TF_ACKNOW;
        return true;
    }
    /* One segment per pull: once one has been pulled, the TCB is re-queued (return false) if
     * glass_tcp_output_pending() says it may have more, and is done otherwise. The next pull
     * then works out what is due; this one does not look again (a bulk sender is not made to
     * work out its next segment twice, and a request's or a response's last segment costs no
     * second pass through the checks below to find nothing: docs/performance.md, "The tenth
     * round"). A segment found due after one was pulled is refused by send_segment_gso, with
     * the same result. */
    for (int guard = 0; guard < 4096; guard++) {
        if (pulled_one(st)) {
            if (more_due(tcb))
                return false;
            break;
        }
        /* Our SYN (SYN,ACK once we have the peer's SYN) until it is acknowledged. */
        if (glass_seq_eq(tcb->snd_una, tcb->iss) && glass_seq_eq(tcb->snd_nxt, tcb->iss)) {
            uint8_t fl = GLASS_TH_SYN;
            if (tcb->state != GLASS_TCP_SYN_SENT)
                fl |= GLASS_TH_ACK;
            if (!send_segment(st, tcb, tcb->iss, fl, 0, 0))
                return false;
            sent_space(st, tcb, tcb->iss, 1, true);
            continue;
        }
        if (tcb->state == GLASS_TCP_SYN_SENT || glass_seq_le(tcb->snd_nxt, tcb->iss))
            break;
        bool data_ok = glass_tcp_state_in(tcb, GLASS_TCPF(ESTABLISHED) | GLASS_TCPF(CLOSE_WAIT) |
                                                   GLASS_TCPF_FIN_STATES) &&
                       !glass_seq_eq(tcb->snd_una, tcb->iss);
        if (!data_ok && fin_after_synack(tcb)) {
            if (!send_segment(st, tcb, tcb->snd_nxt, GLASS_TH_FIN | GLASS_TH_ACK, 0, 0))
                return false;
            tcb->flags |= GLASS_TF_FIN_SENT;
            sent_space(st, tcb, tcb->fin_seq, 1, false);
            continue;
        }
        if (!data_ok)
            break;

        /* Loss recovery first: the fast retransmit of SND.UNA (RFC 5681 §3.2 step 2, RFC 6582
         * partial ACKs), then RFC 6675 NextSeg holes while pipe < cwnd. */
        if (tcb->flags & GLASS_TF_LOST_RTX) {
            if (glass_seq_lt(tcb->snd_una, tcb->snd_max) &&
                !send_hole(st, tcb, tcb->snd_una, tcb->snd_mss))
                return false; /* kept for the next pull */
            tcb->flags &= ~GLASS_TF_LOST_RTX;
            continue;
        }
        bool rack = glass_rack_enabled(st, tcb);
        bool probe = (tcb->flags & GLASS_TF_PROBE) != 0;
        if (((tcb->ca_state == GLASS_CA_RECOVERY && (tcb->flags & GLASS_TF_SACK_OK) &&
              cwnd_room(tcb) >= tcb->snd_mss) ||
             probe)) {
            struct glass_seq hs;
            uint32_t hl;
            if (rack ? glass_rack_next_lost(tcb, &hs, &hl) : glass_sack_next_lost(tcb, &hs, &hl)) {
                if (!send_hole(st, tcb, hs, hl))
                    return false;
                tcb->flags &= ~GLASS_TF_PROBE;
                continue;
            }
        }

        /* New data from SND.NXT (or, after a timeout, go-back-N from SND.UNA, skipping what
         * the receiver has SACKed). */
        uint32_t run = UINT32_MAX;
        if (glass_seq_lt(tcb->snd_nxt, tcb->snd_max) && tcb->n_sacked > 0)
            tcb->snd_nxt = glass_sack_skip(tcb, tcb->snd_nxt, &run);
        struct glass_seq data = glass_tcp_snd_data(tcb);
        uint32_t off = glass_seq_ge(tcb->snd_nxt, data) ? glass_seq_sub(tcb->snd_nxt, data) : 0;
        uint32_t avail = off < tcb->sb.len ? tcb->sb.len - off : 0;
        bool fin_pending = (tcb->flags & GLASS_TF_FIN_QUEUED) &&
                           glass_tcp_state_in(tcb, GLASS_TCPF_FIN_STATES) &&
                           glass_seq_le(tcb->snd_nxt, tcb->fin_seq);
        if (avail == 0 && !fin_pending)
            break; /* nothing new: the windows below need not be worked out (an owed ACK) */
        /* Usable window: SND.UNA + SND.WND - SND.NXT (RFC 9293 §3.8.6.2.1), never negative even
         * if the peer shrank its window (MUST-34); and what congestion control allows. */
        struct glass_seq right = glass_seq_add(tcb->snd_una, tcb->snd_wnd);
        uint32_t usable = glass_seq_gt(right, tcb->snd_nxt) ? glass_seq_sub(right, tcb->snd_nxt) : 0;
        uint32_t room = cwnd_room(tcb);
        if ((tcb->flags & GLASS_TF_PROBE) && room < tcb->snd_mss)
            room = tcb->snd_mss; /* RFC 8985 §7.3: the probe may exceed cwnd by a segment */
        uint32_t mss = seg_size(tcb);
        uint32_t most = avail > mss ? tso_budget(st, tcb, off, mss) : 0;
        if (most < mss)
            most = mss;
        uint32_t len = avail;
        if (len > most)
            len = most;
        if (len > usable)
            len = usable;
        if (len > run)
            len = run;
        bool cwnd_limited = len > room;
        if (cwnd_limited)
            len = room;
        if (len > mss)
            len = tso_trim(tcb, len, avail, mss, fin_pending);
        uint32_t gso = len > mss ? mss : 0;
        bool fin = fin_pending && len == avail &&
                   glass_seq_eq(glass_seq_add(tcb->snd_nxt, len), tcb->fin_seq);
        if ((len > 0 || fin) && may_send(tcb, len, avail, fin)) {
            uint8_t fl = GLASS_TH_ACK;
            /* PSH at the end of what the application wrote, and on any segment of at least
             * half the peer's largest window (Linux forced_push); in a super-segment the
             * device keeps PSH and FIN for the last piece. */
            if (len > 0 && (off + len == tcb->sb.len || len >= tcb->max_snd_wnd / 2u))
                fl |= GLASS_TH_PSH;
            if (fin)
                fl |= GLASS_TH_FIN;
            struct glass_seq seq = tcb->snd_nxt;
            if (!send_segment_gso(st, tcb, seq, fl, off, len, gso))
                return false;
            if (fin)
                tcb->flags |= GLASS_TF_FIN_SENT;
            tcb->flags &= ~(GLASS_TF_FORCE | GLASS_TF_PROBE);
            bool fresh = glass_seq_ge(seq, tcb->snd_max);
            /* Minshall: a short segment, or a super-segment with a short last piece */
            if (len > 0 && (len < mss || (gso != 0 && len % gso != 0)))
                tcb->snd_sml = glass_seq_add(seq, len);
            if (gso != 0)
                sent_tso(st, tcb, seq, len, fin, gso);
            else
                sent_space(st, tcb, seq, len + (fin ? 1u : 0u), false);
            if (fresh)
                glass_rack_arm_tlp(st, tcb);
            continue;
        }
        /* Data waiting, nothing in flight, and the window is zero or too small to send into
         * under SWS avoidance: the persist timer either probes the zero window (RFC 9293
         * §3.8.6.1, MUST-35) or, as the override timeout of §3.8.6.2.1, sends what fits. */
        if (avail > 0 && !cwnd_limited && glass_seq_eq(tcb->snd_una, tcb->snd_nxt) &&
            tcb->timer[GLASS_TT_PERSIST] == GLASS_TIME_NEVER &&
            tcb->timer[GLASS_TT_REXMT] == GLASS_TIME_NEVER)
            glass_timer_set(st, tcb, GLASS_TT_PERSIST, st->now + glass_tcp_rto(tcb, &st->cfg));
        break;
    }
    tcb->flags &= ~GLASS_TF_PROBE;
    if (tcb->flags & GLASS_TF_ACKNOW) {
        if (!send_pure_ack(st, tcb))
            return false;
    }
    return true;
}

void glass_tcp_send_rst_for(struct glass_stack *st, struct glass_tcb *tcb)
{
    uint8_t fl = GLASS_TH_RST;
    if (tcb->state != GLASS_TCP_SYN_SENT)
        fl |= GLASS_TH_ACK;
    if (!send_segment(st, tcb, tcb->snd_max, fl, 0, 0))
        glass_mib_inc(st, GLASS_MIB_TcpExtTCPAbortFailed);
}

void glass_tcp_send_rst_reply(struct glass_stack *st, const struct glass_ipv4_repr *ip,
                              const struct glass_tcp_repr *seg)
{
    if (seg->flags & GLASS_TH_RST)
        return; /* RFC 9293 §3.10.7.1: an incoming RST is discarded, never answered */
    struct glass_tcp_repr r = {
        .src_port = seg->dst_port,
        .dst_port = seg->src_port,
        .wscale = -1,
    };
    if (seg->flags & GLASS_TH_ACK) {
        r.seq = seg->ack;
        r.flags = GLASS_TH_RST;
    } else {
        uint32_t len = (uint32_t)seg->payload_len;
        if (seg->flags & GLASS_TH_SYN)
            len++;
        if (seg->flags & GLASS_TH_FIN)
            len++;
        r.seq = 0;
        r.ack = seg->seq + len;
        r.flags = GLASS_TH_RST | GLASS_TH_ACK;
    }
    if (tx_push(st, ip->dst, ip->src, &r, NULL, 0, 0))
        glass_mib_inc(st, GLASS_MIB_TcpOutSegs);
}

void glass_tcp_window_update(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (glass_ack_after_read(st, tcb))
        return;
    if (!glass_tcp_state_in(tcb, GLASS_TCPF(ESTABLISHED) | GLASS_TCPF(FIN_WAIT_1) |
                                     GLASS_TCPF(FIN_WAIT_2)))
        return;
    uint32_t grow;
    (void)offer(tcb, &grow);
    if (grow != 0) { /* the next segment would carry a bigger window: send it now */
        tcb->flags |= GLASS_TF_ACKNOW;
        glass_tcp_kick(st, tcb);
    }
}

bool glass_tcp_xmit_raw(struct glass_stack *st, uint32_t src, uint32_t dst,
                        struct glass_tcp_repr *r)
{
    if (!tx_push(st, src, dst, r, NULL, 0, 0))
        return false;
    glass_mib_inc(st, GLASS_MIB_TcpOutSegs);
    return true;
}
