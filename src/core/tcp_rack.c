/* glasstcp — RACK-TLP loss detection (RFC 8985): time-based loss marking from per-segment
 * transmit times, and tail loss probes. Enabled by glass_config.rack; it replaces RFC 6675's
 * DupThresh rule for deciding what is lost (SACK is still how deliveries are learned). */
#include "core/core.h"
#include "util/assert.h"

static struct glass_txrec *rec(struct glass_tcb *tcb, uint16_t i)
{
    return &tcb->txrec[(tcb->txrec_head + i) % GLASS_TXREC_MAX];
}

bool glass_rack_enabled(const struct glass_stack *st, const struct glass_tcb *tcb)
{
    return st->cfg.rack && (tcb->flags & GLASS_TF_SACK_OK);
}

void glass_rack_free(struct glass_stack *st, struct glass_tcb *tcb)
{
    glass_free(st, tcb->txrec, sizeof(struct glass_txrec) * GLASS_TXREC_MAX);
    tcb->txrec = NULL;
    tcb->txrec_len = 0;
}

/* A transmission of [seq, seq + len) (RFC 8985 §6.1 "upon transmitting"). */
void glass_rack_on_send(struct glass_stack *st, struct glass_tcb *tcb, struct glass_seq seq,
                        uint32_t len, bool retrans)
{
    if (!glass_rack_enabled(st, tcb) || len == 0)
        return;
    if (tcb->txrec == NULL) {
        tcb->txrec = glass_alloc(st, sizeof(struct glass_txrec) * GLASS_TXREC_MAX);
        if (tcb->txrec == NULL)
            return; /* RACK degrades to RFC 6675 for this connection */
        tcb->txrec_head = 0;
        tcb->txrec_len = 0;
    }
    struct glass_seq end = glass_seq_add(seq, len);
    if (retrans) {
        for (uint16_t i = 0; i < tcb->txrec_len; i++) {
            struct glass_txrec *r = rec(tcb, i);
            if (glass_seq_lt(r->start, end) && glass_seq_gt(r->end, seq)) {
                r->xmit = st->now;
                r->flags = (uint8_t)((r->flags | GLASS_TXREC_RETRANS) & ~GLASS_TXREC_LOST);
            }
        }
        return;
    }
    if (tcb->txrec_len == GLASS_TXREC_MAX) {
        /* Full: the newest record absorbs the segment (its time becomes this one's). */
        struct glass_txrec *last = rec(tcb, (uint16_t)(tcb->txrec_len - 1u));
        last->end = end;
        last->xmit = st->now;
        return;
    }
    struct glass_txrec *r = rec(tcb, tcb->txrec_len++);
    r->start = seq;
    r->end = end;
    r->xmit = st->now;
    r->flags = 0;
}

static bool fully_sacked(const struct glass_tcb *tcb, const struct glass_txrec *r)
{
    for (uint8_t k = 0; k < tcb->n_sacked; k++)
        if (glass_seq_le(tcb->sacked[k].start, r->start) && glass_seq_ge(tcb->sacked[k].end, r->end))
            return true;
    return false;
}

/* RFC 8985 §6.2 step 2: update RACK.xmit_ts / end_seq / rtt from a delivered segment. */
static void rack_update(struct glass_stack *st, struct glass_tcb *tcb, const struct glass_txrec *r)
{
    glass_time_t rtt = st->now - r->xmit;
    if ((r->flags & GLASS_TXREC_RETRANS) && tcb->rack.min_rtt != 0 && rtt < tcb->rack.min_rtt)
        return; /* possibly the original's ACK for a retransmission: ambiguous, skip */
    if (tcb->rack.min_rtt == 0 || rtt < tcb->rack.min_rtt)
        tcb->rack.min_rtt = rtt;
    if (r->xmit > tcb->rack.xmit_ts ||
        (r->xmit == tcb->rack.xmit_ts && glass_seq_gt(r->end, tcb->rack.end_seq))) {
        tcb->rack.xmit_ts = r->xmit;
        tcb->rack.end_seq = r->end;
        tcb->rack.rtt = rtt;
    }
}

/* After the scoreboard and SND.UNA moved: learn from what was delivered, drop the records
 * below SND.UNA. */
void glass_rack_on_ack(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (!glass_rack_enabled(st, tcb) || tcb->txrec == NULL)
        return;
    for (uint16_t i = 0; i < tcb->txrec_len; i++) {
        struct glass_txrec *r = rec(tcb, i);
        bool acked = glass_seq_le(r->end, tcb->snd_una);
        if (!acked && tcb->n_sacked == 0)
            break; /* records are in sequence order: nothing above SND.UNA was delivered */
        bool sacked = !acked && !(r->flags & GLASS_TXREC_SACKED) && fully_sacked(tcb, r);
        if (!acked && !sacked)
            continue;
        /* RFC 8985 §6.2 step 3: a segment delivered below RACK.end_seq that was never
         * retransmitted shows reordering. */
        if (!(r->flags & GLASS_TXREC_RETRANS) && glass_seq_lt(r->end, tcb->rack.end_seq))
            tcb->rack.reordering_seen = true;
        rack_update(st, tcb, r);
        if (sacked)
            r->flags |= GLASS_TXREC_SACKED;
    }
    while (tcb->txrec_len > 0 && glass_seq_le(rec(tcb, 0)->end, tcb->snd_una)) {
        tcb->txrec_head = (uint16_t)((tcb->txrec_head + 1u) % GLASS_TXREC_MAX);
        tcb->txrec_len--;
    }
    tcb->rack.tlp_out = false;
}

/* RFC 8985 §6.2 step 4-5: mark lost every segment sent sufficiently before the most recently
 * delivered one; arm the reordering timer for the others. Returns true if any was newly
 * marked lost. */
bool glass_rack_detect(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (!glass_rack_enabled(st, tcb) || tcb->txrec == NULL || tcb->rack.xmit_ts == 0)
        return false;
    /* RFC 8985 §6.2.4: reo_wnd = min_RTT / 4 once reordering was seen, 0 in recovery
     * otherwise; never more than SRTT. */
    glass_time_t reo = 0;
    if (tcb->rack.reordering_seen || tcb->ca_state != GLASS_CA_RECOVERY)
        reo = tcb->rack.min_rtt / 4u;
    if (tcb->srtt != 0 && reo > tcb->srtt)
        reo = tcb->srtt;
    bool lost = false;
    glass_time_t next = GLASS_TIME_NEVER;
    for (uint16_t i = 0; i < tcb->txrec_len; i++) {
        struct glass_txrec *r = rec(tcb, i);
        if (r->flags & (GLASS_TXREC_SACKED | GLASS_TXREC_LOST))
            continue;
        if (glass_seq_le(r->end, tcb->snd_una))
            continue;
        bool before = r->xmit < tcb->rack.xmit_ts ||
                      (r->xmit == tcb->rack.xmit_ts && glass_seq_lt(r->end, tcb->rack.end_seq));
        if (!before)
            continue;
        glass_time_t deadline = r->xmit + tcb->rack.rtt + reo;
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
    if (tcb->txrec == NULL)
        return false;
    for (uint16_t i = 0; i < tcb->txrec_len; i++) {
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
    if (!glass_rack_enabled(st, tcb) || tcb->srtt == 0 || tcb->rack.tlp_out ||
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
    tcb->rack.tlp_out = true;
    glass_mib_inc(st, GLASS_MIB_TcpExtTCPLossProbes);
    struct glass_seq data = glass_tcp_snd_data(tcb);
    uint32_t off = glass_seq_sub(tcb->snd_nxt, data);
    struct glass_seq right = glass_seq_add(tcb->snd_una, tcb->snd_wnd);
    if (!(off < tcb->sb.len && glass_seq_lt(tcb->snd_nxt, right)) && tcb->txrec_len > 0 &&
        tcb->txrec != NULL) {
        struct glass_txrec *last = rec(tcb, (uint16_t)(tcb->txrec_len - 1u));
        if (!(last->flags & GLASS_TXREC_SACKED))
            last->flags |= GLASS_TXREC_LOST; /* the probe retransmits it */
    }
    tcb->flags |= GLASS_TF_PROBE; /* one segment beyond cwnd: new data, else the last one */
    glass_tcp_kick(st, tcb);
}
