/* glasstcp — RACK-TLP loss detection (RFC 8985): time-based loss marking from per-segment
 * transmit times, and tail loss probes. Enabled by glass_config.rack; it replaces RFC 6675's
 * DupThresh rule for deciding what is lost (SACK is still how deliveries are learned). */
#include "core/core.h"
#include "util/assert.h"

#include <stddef.h>
#include <string.h>

static struct glass_txrec *rec(struct glass_tcb *tcb, uint16_t i)
{
    struct glass_rack *rk = tcb->x->rack;
    return &rk->rec[(rk->head + i) & (rk->cap - 1u)];
}

bool glass_rack_enabled(const struct glass_stack *st, const struct glass_tcb *tcb)
{
    return st->cfg.rack && (tcb->flags & GLASS_TF_SACK_OK);
}

void glass_rack_free(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (tcb->x->rack == NULL)
        return;
    struct glass_tcb_ext *x = glass_tcb_xmut(tcb);
    glass_free(st, x->rack, glass_rack_size(x->rack->cap));
    x->rack = NULL;
    glass_tcb_xput(st, tcb);
}

/* Twice the room for records, the records moved in order to the front; false if the block is
 * at GLASS_TXREC_MAX or the memory cannot be had (the caller then absorbs, as when at the
 * maximum). A short connection's block stays at GLASS_TXREC_MIN: 248 bytes, not 3.1 KB. */
static bool rack_grow(struct glass_stack *st, struct glass_tcb *tcb)
{
    struct glass_rack *old = tcb->x->rack;
    if (old->cap >= GLASS_TXREC_MAX)
        return false;
    uint16_t cap = (uint16_t)(2u * old->cap);
    struct glass_rack *rk = glass_alloc(st, glass_rack_size(cap));
    if (rk == NULL)
        return false;
    memcpy(rk, old, offsetof(struct glass_rack, rec));
    for (uint16_t i = 0; i < old->len; i++)
        rk->rec[i] = *rec(tcb, i);
    rk->head = 0;
    rk->cap = cap;
    glass_free(st, old, glass_rack_size(old->cap));
    glass_tcb_xmut(tcb)->rack = rk;
    return true;
}

/* The record of a new transmission of [seq, seq + len) at now, after the newest (rk has room). */
static inline void rack_append(struct glass_rack *rk, struct glass_seq seq, uint32_t len,
                               glass_time_t now)
{
    struct glass_txrec *r = &rk->rec[(rk->head + rk->len++) & (rk->cap - 1u)];
    r->start = seq;
    r->end = glass_seq_add(seq, len);
    r->xmit = now;
    r->order = ++rk->tx_count;
    r->flags = 0;
}

/* glass_rack_on_send when the block is still to be allocated, the transmission is a
 * retransmission, or the block is full. */
static __attribute__((noinline)) void rack_on_send_slow(struct glass_stack *st,
                                                         struct glass_tcb *tcb,
                                                         struct glass_seq seq, uint32_t len,
                                                         bool retrans)
{
    if (tcb->x->rack == NULL) {
        struct glass_tcb_ext *x = glass_tcb_xw(st, tcb);
        struct glass_rack *rk =
            x != NULL ? glass_alloc(st, glass_rack_size(GLASS_TXREC_MIN)) : NULL;
        if (rk == NULL) {
            glass_tcb_xput(st, tcb);
            return; /* RACK degrades to RFC 6675 until a later transmission allocates it */
        }
        memset(rk, 0, offsetof(struct glass_rack, rec)); /* the state; no records */
        rk->cap = GLASS_TXREC_MIN;
        x->rack = rk;
    }
    struct glass_seq end = glass_seq_add(seq, len);
    if (retrans) {
        for (uint16_t i = 0; i < tcb->x->rack->len; i++) {
            struct glass_txrec *r = rec(tcb, i);
            if (glass_seq_lt(r->start, end) && glass_seq_gt(r->end, seq)) {
                r->xmit = st->now;
                r->order = ++tcb->x->rack->tx_count;
                r->flags = (uint8_t)((r->flags | GLASS_TXREC_RETRANS) & ~GLASS_TXREC_LOST);
            }
        }
        return;
    }
    if (tcb->x->rack->len == tcb->x->rack->cap && !rack_grow(st, tcb)) {
        /* Full: the newest record absorbs the segment (its time becomes this one's). */
        struct glass_txrec *last = rec(tcb, (uint16_t)(tcb->x->rack->len - 1u));
        last->end = end;
        last->xmit = st->now;
        last->order = ++tcb->x->rack->tx_count;
        return;
    }
    rack_append(tcb->x->rack, seq, len, st->now);
}

/* A transmission of [seq, seq + len) (RFC 8985 §6.1 "upon transmitting"): new data, with room
 * for its record, here; the rest in rack_on_send_slow. */
void glass_rack_on_send(struct glass_stack *st, struct glass_tcb *tcb, struct glass_seq seq,
                        uint32_t len, bool retrans)
{
    if (!glass_rack_enabled(st, tcb) || len == 0)
        return;
    struct glass_rack *rk = tcb->x->rack;
    if (rk == NULL || retrans || rk->len == rk->cap) {
        rack_on_send_slow(st, tcb, seq, len, retrans);
        return;
    }
    rack_append(rk, seq, len, st->now);
}

static bool fully_sacked(const struct glass_tcb *tcb, const struct glass_txrec *r)
{
    for (uint8_t k = 0; k < tcb->n_sacked; k++)
        if (glass_seq_le(tcb->x->sacked[k].start, r->start) && glass_seq_ge(tcb->x->sacked[k].end, r->end))
            return true;
    return false;
}

/* Linux tcp_packet_delayed: the ACK's echoed timestamp (RFC 7323 TSecr, in our clock) is
 * older than the record's last transmission: what it acknowledges is an earlier copy, so the
 * retransmission was not needed. */
static bool echo_predates(const struct glass_tcb *tcb, const struct glass_txrec *r,
                          const struct glass_tcp_repr *seg)
{
    if (!(tcb->flags & GLASS_TF_TS_OK) || !seg->has_ts || seg->ts_ecr == 0)
        return false;
    uint32_t echoed_ms = seg->ts_ecr - tcb->ts_off;
    uint32_t sent_ms = (uint32_t)(r->xmit / GLASS_NSEC_PER_MSEC);
    return (int32_t)(echoed_ms - sent_ms) < 0;
}

/* RFC 8985 RACK_sent_after: was (t1, o1) sent after (t2, o2)? The RFC breaks ties of equal
 * times by end sequence number, which orders a burst of new data but not a retransmission sent
 * in the same instant as new data above it (glasstcp's clock does not advance within one
 * burst): the order of transmission does both. */
static bool sent_after(glass_time_t t1, uint32_t o1, glass_time_t t2, uint32_t o2)
{
    return t1 > t2 || (t1 == t2 && (int32_t)(o1 - o2) > 0);
}

/* RFC 8985 §6.2 step 2: update RACK.xmit_ts / rtt from a delivered segment. Inlined in both
 * loops of glass_rack_on_ack: as a call it cost the common ACK more than its body. */
static inline __attribute__((always_inline)) void
rack_update(struct glass_stack *st, struct glass_tcb *tcb, struct glass_rack *rk,
            const struct glass_txrec *r, const struct glass_tcp_repr *seg)
{
    glass_time_t rtt = st->now - r->xmit;
    if (r->flags & GLASS_TXREC_RETRANS) {
        /* possibly the original's ACK for a retransmission: ambiguous, skip */
        if (echo_predates(tcb, r, seg) || (rk->min_rtt != 0 && rtt < rk->min_rtt))
            return;
    }
    if (rk->min_rtt == 0 || rtt < rk->min_rtt)
        rk->min_rtt = rtt;
    if (sent_after(r->xmit, r->order, rk->xmit_ts, rk->xmit_order)) {
        rk->xmit_ts = r->xmit;
        rk->xmit_order = r->order;
        rk->rtt = rtt;
    }
}

static void reordering_seen(struct glass_stack *st, struct glass_tcb *tcb, enum glass_mib how)
{
    tcb->x->rack->reordering_seen = true;
    glass_mib_inc(st, how);
}

/* RFC 8985 §6.2 step 3: a newly delivered segment (in ascending order) either moves
 * RACK.fack up or, if it lies below RACK.fack and was never retransmitted, shows that the path
 * reorders. A retransmitted one cannot tell (Step 4's "self-reinforcing drawback"), except when
 * the cumulative ACK that covers the retransmitted hole at the old SND.UNA echoes a timestamp
 * from before the retransmission: the original filled it (Linux tcp_try_undo_partial). */
static inline __attribute__((always_inline)) void
detect_reordering(struct glass_stack *st, struct glass_tcb *tcb, struct glass_rack *rk,
                  const struct glass_txrec *r, bool acked, struct glass_seq prior_una,
                  const struct glass_tcp_repr *seg)
{
    bool retrans = (r->flags & GLASS_TXREC_RETRANS) != 0;
    if (!rk->fack_valid || glass_seq_gt(r->end, rk->fack)) {
        rk->fack = r->end;
        rk->fack_valid = true;
    } else if (glass_seq_lt(r->end, tcb->x->rack->fack) && !retrans) {
        reordering_seen(st, tcb, GLASS_MIB_TcpExtTCPSACKReorder);
    }
    if (retrans && acked && glass_seq_in_window(prior_una, r->start, r->end) &&
        echo_predates(tcb, r, seg))
        reordering_seen(st, tcb, GLASS_MIB_TcpExtTCPTSReorder);
}

/* After the scoreboard and SND.UNA moved (from prior_una) on the ACK seg: learn from what was
 * newly delivered, drop the records below SND.UNA. A record SACKed earlier was learnt from
 * then; its cumulative ACK now tells nothing new. */
void glass_rack_on_ack(struct glass_stack *st, struct glass_tcb *tcb, struct glass_seq prior_una,
                       const struct glass_tcp_repr *seg)
{
    if (!glass_rack_enabled(st, tcb) || tcb->x->rack == NULL)
        return;
    /* The block, read once: the byte-sized stores below (record flags, the booleans) may
     * alias anything, so reading it through tcb->x at each use loaded both pointers again. */
    struct glass_rack *rk = tcb->x->rack;
    uint16_t mask = (uint16_t)(rk->cap - 1u);
    /* Records are in sequence order, so those the cumulative ACK covers are the first ones:
     * each is learnt from (in order, unless it was when SACKed) and dropped in one pass. Its
     * slot is not read again (a new record is written whole), so it is not marked. */
    while (rk->len > 0) {
        struct glass_txrec *r = &rk->rec[rk->head];
        if (!glass_seq_le(r->end, tcb->snd_una))
            break;
        if (!(r->flags & GLASS_TXREC_SACKED)) {
            detect_reordering(st, tcb, rk, r, true, prior_una, seg);
            rack_update(st, tcb, rk, r, seg);
        }
        rk->head = (uint16_t)((rk->head + 1u) & mask);
        rk->len--;
    }
    /* Above SND.UNA, only what the scoreboard now covers was delivered. */
    for (uint16_t i = 0; tcb->n_sacked > 0 && i < rk->len; i++) {
        struct glass_txrec *r = &rk->rec[(rk->head + i) & mask];
        if ((r->flags & GLASS_TXREC_SACKED) || !fully_sacked(tcb, r))
            continue;
        detect_reordering(st, tcb, rk, r, false, prior_una, seg);
        rack_update(st, tcb, rk, r, seg);
        r->flags |= GLASS_TXREC_SACKED;
    }
    /* RFC 8985 §6.2 step 4: the D-SACK round ends when SND.UNA passes it; an inflated window
     * is kept for reo_wnd_persist recoveries, then reset. */
    if (rk->dsack_round_on && glass_seq_ge(tcb->snd_una, rk->dsack_round))
        rk->dsack_round_on = false;
    bool recovering = tcb->ca_state == GLASS_CA_RECOVERY || tcb->ca_state == GLASS_CA_LOSS;
    if (rk->recovering && !recovering && rk->reo_wnd_persist > 0 && --rk->reo_wnd_persist == 0)
        rk->reo_wnd_mult = 1;
    rk->recovering = recovering;
    rk->tlp_out = false;
}

/* RFC 8985 §6.2 step 4: a D-SACK (RFC 2883) shows a retransmission that was not needed: the
 * reordering window grows by min_RTT/4 once per round trip that sees one (up to SRTT) and
 * stays so for 16 recoveries. Unlike Linux, which learns of such reordering from timestamps
 * and undo, glasstcp also takes it as reordering seen (Step 3 cannot see it: the segment was
 * retransmitted). The D-SACK that answers a tail loss probe says nothing of reordering. */
void glass_rack_on_dsack(struct glass_stack *st, struct glass_tcb *tcb)
{
    glass_mib_inc(st, GLASS_MIB_TcpExtTCPDSACKRecv);
    if (!glass_rack_enabled(st, tcb) || tcb->x->rack == NULL || tcb->x->rack->tlp_out)
        return;
    if (tcb->x->rack->dsack_round_on && glass_seq_ge(tcb->snd_una, tcb->x->rack->dsack_round))
        tcb->x->rack->dsack_round_on = false;
    if (!tcb->x->rack->dsack_round_on) {
        tcb->x->rack->dsack_round_on = true;
        tcb->x->rack->dsack_round = tcb->snd_max;
        uint8_t mult = tcb->x->rack->reo_wnd_mult ? tcb->x->rack->reo_wnd_mult : 1u;
        tcb->x->rack->reo_wnd_mult = (uint8_t)(mult < 255u ? mult + 1u : mult);
        tcb->x->rack->reo_wnd_persist = 16;
    }
    tcb->x->rack->reordering_seen = true;
}

/* RFC 8985 §6.2 step 4 (RACK_update_reo_wnd's result), as Linux tcp_rack_reo_wnd: while no
 * reordering has been seen, 0 in fast or RTO recovery and once DupThresh segments are SACKed
 * (so that the third SACK triggers recovery at once, like RFC 6675); otherwise
 * reo_wnd_mult * min_RTT / 4, never more than SRTT. */
static glass_time_t reo_wnd(const struct glass_tcb *tcb, uint32_t sacked_segs)
{
    if (!tcb->x->rack->reordering_seen &&
        (tcb->ca_state == GLASS_CA_RECOVERY || tcb->ca_state == GLASS_CA_LOSS ||
         sacked_segs >= GLASS_DUPTHRESH))
        return 0;
    glass_time_t mult = tcb->x->rack->reo_wnd_mult ? tcb->x->rack->reo_wnd_mult : 1u;
    glass_time_t reo = mult * (tcb->x->rack->min_rtt / 4u);
    if (tcb->srtt != 0 && reo > tcb->srtt)
        reo = tcb->srtt;
    return reo;
}

/* RFC 8985 §6.2 step 5: mark lost every segment sent sufficiently before the most recently
 * delivered one; arm the reordering timer for the others. Returns true if any was newly
 * marked lost. */
bool glass_rack_detect(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (!glass_rack_enabled(st, tcb) || tcb->x->rack == NULL || tcb->x->rack->xmit_ts == 0)
        return false;
    uint32_t sacked_segs = 0;
    for (uint16_t i = 0; i < tcb->x->rack->len; i++)
        if ((rec(tcb, i)->flags & GLASS_TXREC_SACKED) && glass_seq_gt(rec(tcb, i)->end, tcb->snd_una))
            sacked_segs++;
    glass_time_t reo = reo_wnd(tcb, sacked_segs);
    bool lost = false;
    glass_time_t next = GLASS_TIME_NEVER;
    for (uint16_t i = 0; i < tcb->x->rack->len; i++) {
        struct glass_txrec *r = rec(tcb, i);
        if (r->flags & (GLASS_TXREC_SACKED | GLASS_TXREC_LOST))
            continue;
        if (glass_seq_le(r->end, tcb->snd_una))
            continue;
        if (!sent_after(tcb->x->rack->xmit_ts, tcb->x->rack->xmit_order, r->xmit, r->order))
            continue;
        glass_time_t deadline = r->xmit + tcb->x->rack->rtt + reo;
        if (deadline <= st->now) {
            r->flags |= GLASS_TXREC_LOST;
            lost = true;
        } else if (deadline < next) {
            next = deadline;
        }
    }
    if (next != GLASS_TIME_NEVER)
        glass_timer_set(st, tcb, GLASS_TT_RACK, next);
    else
        glass_timer_clear(st, tcb, GLASS_TT_RACK);
    return lost;
}

/* The first segment marked lost (what to retransmit next). */
bool glass_rack_next_lost(struct glass_tcb *tcb, struct glass_seq *seq, uint32_t *len)
{
    if (tcb->x->rack == NULL)
        return false;
    for (uint16_t i = 0; i < tcb->x->rack->len; i++) {
        struct glass_txrec *r = rec(tcb, i);
        if (!(r->flags & GLASS_TXREC_LOST) || glass_seq_le(r->end, tcb->snd_una))
            continue;
        struct glass_seq s = glass_seq_max(r->start, tcb->snd_una);
        uint32_t n = glass_seq_sub(r->end, s);
        *seq = s;
        *len = n < tcb->snd_mss ? n : tcb->snd_mss;
        return true;
    }
    return false;
}

/* RFC 8985 §7.2: arm the probe timeout after sending new data when nothing is being
 * recovered: PTO = 2 * SRTT, plus the worst-case delayed ACK if only one segment is out,
 * never later than the retransmission timer. */
void glass_rack_arm_tlp(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (!glass_rack_enabled(st, tcb) || tcb->srtt == 0 ||
        (tcb->x->rack != NULL && tcb->x->rack->tlp_out) ||
        tcb->ca_state != GLASS_CA_OPEN || glass_seq_eq(tcb->snd_una, tcb->snd_max))
        return;
    glass_time_t pto = 2u * tcb->srtt;
    if (glass_seq_sub(tcb->snd_max, tcb->snd_una) <= tcb->snd_mss)
        pto += st->cfg.delack_max;
    glass_time_t at = st->now + pto;
    if (tcb->timer[GLASS_TT_REXMT] != GLASS_TIME_NEVER && at > tcb->timer[GLASS_TT_REXMT])
        return; /* the RTO comes first anyway */
    glass_timer_set(st, tcb, GLASS_TT_TLP, at);
}

/* RFC 8985 §7.3: the probe: new data if the window allows, else the last segment again. */
void glass_rack_tlp_fire(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (!glass_rack_enabled(st, tcb) || glass_seq_eq(tcb->snd_una, tcb->snd_max) ||
        tcb->ca_state != GLASS_CA_OPEN)
        return;
    if (tcb->x->rack != NULL)
        tcb->x->rack->tlp_out = true;
    glass_mib_inc(st, GLASS_MIB_TcpExtTCPLossProbes);
    struct glass_seq data = glass_tcp_snd_data(tcb);
    uint32_t off = glass_seq_sub(tcb->snd_nxt, data);
    struct glass_seq right = glass_seq_add(tcb->snd_una, tcb->snd_wnd);
    if (!(off < tcb->sb.len && glass_seq_lt(tcb->snd_nxt, right)) && tcb->x->rack != NULL &&
        tcb->x->rack->len > 0) {
        struct glass_txrec *last = rec(tcb, (uint16_t)(tcb->x->rack->len - 1u));
        if (!(last->flags & GLASS_TXREC_SACKED))
            last->flags |= GLASS_TXREC_LOST; /* the probe retransmits it */
    }
    tcb->flags |= GLASS_TF_PROBE; /* one segment beyond cwnd: new data, else the last one */
    glass_tcp_kick(st, tcb);
}
