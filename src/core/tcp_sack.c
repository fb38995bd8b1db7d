/* glasstcp — the sender's SACK scoreboard and RFC 6675 loss recovery arithmetic
 * (RFC 2018, RFC 6675 §4: IsLost, SetPipe, NextSeg). Bounded: GLASS_SACK_MAX ranges
 * (catalogue 77: invalid blocks are ignored, the scoreboard never grows without bound). */
#include "core/core.h"
#include "util/assert.h"



uint32_t glass_sack_update(struct glass_stack *st, struct glass_tcb *tcb,
                           const struct glass_tcp_repr *r)
{
    uint32_t added = 0;
    /* Without blocks nothing is taken and the extension is as it was: held exactly while
     * something in it is (glass_stack_check), so there is nothing for glass_tcb_xput to free. */
    if (r->nsack == 0 || !(tcb->flags & GLASS_TF_SACK_OK))
        return 0; /* the segment's count asked first: nearly every ACK carries no blocks */
    for (uint8_t b = 0; b < r->nsack && b < GLASS_TCP_MAX_SACK; b++) {
        struct glass_seq l = glass_seq(r->sack[b].left), rr = glass_seq(r->sack[b].right);
        /* RFC 2018 §3 / catalogue 77: a block must be non-empty and lie within what we sent;
         * blocks at or below SND.UNA (D-SACK, old news) carry nothing for the scoreboard. */
        if (!glass_seq_lt(l, rr) || glass_seq_gt(rr, tcb->snd_max) ||
            glass_seq_le(rr, tcb->snd_una) || glass_seq_lt(l, tcb->iss))
            continue;
        if (glass_seq_lt(l, tcb->snd_una))
            l = tcb->snd_una;
        /* a full scoreboard (or no memory for one) ignores the block; recovery still works
         * from the ACKs */
        uint32_t before = glass_range_bytes(tcb->x->sacked, tcb->n_sacked);
        struct glass_tcb_ext *x = glass_tcb_xw(st, tcb);
        int at = x != NULL ? glass_range_add(st, &x->sacked, &tcb->n_sacked, GLASS_SACK_MAX, l, rr)
                           : -2;
        if (at >= 0)
            added += glass_range_bytes(tcb->x->sacked, tcb->n_sacked) - before;
    }
    glass_tcb_xput(st, tcb); /* in case no block could be kept */
    return added;
}

/* RFC 2883 §4: the first SACK block reports duplicate data (a D-SACK) when it lies at or below
 * the cumulative ACK, or within the second block. */
bool glass_sack_is_dsack(const struct glass_tcb *tcb, const struct glass_tcp_repr *r)
{
    if (r->nsack == 0 || !(tcb->flags & GLASS_TF_SACK_OK))
        return false;
    struct glass_seq l = glass_seq(r->sack[0].left), rr = glass_seq(r->sack[0].right);
    if (!glass_seq_lt(l, rr))
        return false;
    if (glass_seq_le(rr, glass_seq(r->ack)))
        return true;
    return r->nsack > 1 && glass_seq_ge(l, glass_seq(r->sack[1].left)) &&
           glass_seq_le(rr, glass_seq(r->sack[1].right));
}

void glass_sack_trim(struct glass_stack *st, struct glass_tcb *tcb)
{
    uint8_t drop = 0;
    while (drop < tcb->n_sacked && glass_seq_le(tcb->x->sacked[drop].end, tcb->snd_una))
        drop++;
    for (uint8_t k = 0; k + drop < tcb->n_sacked; k++)
        tcb->x->sacked[k] = tcb->x->sacked[k + drop];
    tcb->n_sacked = (uint8_t)(tcb->n_sacked - drop);
    if (tcb->n_sacked > 0 && glass_seq_lt(tcb->x->sacked[0].start, tcb->snd_una))
        tcb->x->sacked[0].start = tcb->snd_una;
    if (tcb->x->sacked != NULL) {
        glass_range_release(st, &glass_tcb_xmut(tcb)->sacked, tcb->n_sacked, GLASS_SACK_MAX);
        glass_tcb_xput(st, tcb);
    }
}

void glass_sack_clear(struct glass_stack *st, struct glass_tcb *tcb)
{
    tcb->n_sacked = 0;
    if (tcb->x->sacked != NULL) {
        glass_range_release(st, &glass_tcb_xmut(tcb)->sacked, 0, GLASS_SACK_MAX);
        glass_tcb_xput(st, tcb);
    }
}

bool glass_sack_is_sacked(const struct glass_tcb *tcb, struct glass_seq seq)
{
    for (uint8_t k = 0; k < tcb->n_sacked; k++)
        if (glass_seq_in_window(seq, tcb->x->sacked[k].start, tcb->x->sacked[k].end))
            return true;
    return false;
}

/* RFC 6675 IsLost(seq): at least DupThresh discontiguous SACKed ranges, or more than
 * (DupThresh - 1) * SMSS SACKed bytes, above seq. */
bool glass_sack_is_lost(const struct glass_tcb *tcb, struct glass_seq seq)
{
    uint32_t ranges = 0, bytes = 0;
    for (uint8_t k = 0; k < tcb->n_sacked; k++) {
        if (glass_seq_le(tcb->x->sacked[k].end, seq))
            continue;
        struct glass_seq s = glass_seq_max(tcb->x->sacked[k].start, glass_seq_add(seq, 1));
        ranges++;
        bytes += glass_seq_sub(tcb->x->sacked[k].end, s);
    }
    return ranges >= GLASS_DUPTHRESH || bytes > (GLASS_DUPTHRESH - 1u) * tcb->snd_mss;
}

static uint32_t overlap(struct glass_seq a, struct glass_seq b, struct glass_seq c,
                        struct glass_seq d)
{
    struct glass_seq lo = glass_seq_max(a, c), hi = glass_seq_min(b, d);
    return glass_seq_lt(lo, hi) ? glass_seq_sub(hi, lo) : 0;
}

/* RFC 6675 SetPipe, computed per hole (IsLost is the same for every octet of a hole). */
uint32_t glass_sack_pipe(const struct glass_tcb *tcb)
{
    if (!(tcb->flags & GLASS_TF_SACK_OK) || tcb->n_sacked == 0)
        return glass_seq_sub(tcb->snd_max, tcb->snd_una);
    uint32_t pipe = 0;
    struct glass_seq hs = tcb->snd_una;
    for (uint8_t k = 0; k <= tcb->n_sacked; k++) {
        struct glass_seq he = k < tcb->n_sacked ? tcb->x->sacked[k].start : tcb->snd_max;
        if (glass_seq_lt(hs, he)) {
            if (k == tcb->n_sacked || !glass_sack_is_lost(tcb, hs))
                pipe += glass_seq_sub(he, hs);
            pipe += overlap(hs, he, tcb->snd_una, tcb->high_rxt);
        }
        if (k < tcb->n_sacked)
            hs = tcb->x->sacked[k].end;
    }
    return pipe;
}

/* RFC 6675 NextSeg rule (1): the first unSACKed, lost sequence number not yet retransmitted
 * in this recovery. */
bool glass_sack_next_lost(const struct glass_tcb *tcb, struct glass_seq *seq, uint32_t *len)
{
    struct glass_seq hs = tcb->snd_una;
    for (uint8_t k = 0; k < tcb->n_sacked; k++) {
        struct glass_seq he = tcb->x->sacked[k].start;
        struct glass_seq from = glass_seq_max(hs, tcb->high_rxt);
        if (glass_seq_lt(from, he) && glass_sack_is_lost(tcb, from)) {
            uint32_t n = glass_seq_sub(he, from);
            *seq = from;
            *len = n < tcb->snd_mss ? n : tcb->snd_mss;
            return true;
        }
        hs = tcb->x->sacked[k].end;
    }
    return false;
}

/* The first byte at or after seq that is not SACKed (go-back-N after a timeout skips what
 * the receiver already holds), and how much of the unSACKed run from there is below `limit`. */
struct glass_seq glass_sack_skip(const struct glass_tcb *tcb, struct glass_seq seq,
                                 uint32_t *run)
{
    for (uint8_t k = 0; k < tcb->n_sacked; k++) {
        if (glass_seq_in_window(seq, tcb->x->sacked[k].start, tcb->x->sacked[k].end))
            seq = tcb->x->sacked[k].end;
    }
    *run = UINT32_MAX;
    for (uint8_t k = 0; k < tcb->n_sacked; k++) {
        if (glass_seq_gt(tcb->x->sacked[k].start, seq)) {
            *run = glass_seq_sub(tcb->x->sacked[k].start, seq);
            break;
        }
    }
    return seq;
}
