/* glasstcp — the receive side's out-of-order queue and the SACK blocks it reports
 * (RFC 9293 §3.10.7.4 "seventh", RFC 2018 §4, robustness catalogue 100-102).
 *
 * Out-of-order bytes are stored straight into the receive ring at their place beyond the
 * readable bytes (the window we advertised guarantees they fit), so filling a hole costs no
 * copy. The queue itself is a small sorted array of ranges: bounded by GLASS_OOO_MAX ranges
 * and by the window in bytes. Where ranges overlap, the bytes that arrived first are kept. */
#include "core/core.h"
#include "util/assert.h"

static void write_piece(struct glass_tcb *tcb, struct glass_seq seq, const uint8_t *data,
                        struct glass_seq from, struct glass_seq to)
{
    uint32_t off = tcb->rb.len + glass_seq_sub(from, tcb->rcv_nxt);
    glass_ring_write_at(&tcb->rb, off, data + glass_seq_sub(from, seq), glass_seq_sub(to, from));
}

/* Write the parts of [seq, seq+len) not yet covered by an out-of-order range into the ring
 * (first arrival wins, catalogue 101). */
static void store_uncovered(struct glass_tcb *tcb, struct glass_seq seq, const uint8_t *data,
                            uint32_t len)
{
    struct glass_seq end = glass_seq_add(seq, len);
    struct glass_seq at = seq;
    for (uint8_t i = 0; i < tcb->n_ooo; i++) {
        const struct glass_range *r = &tcb->x->ooo[i];
        if (glass_seq_le(r->end, at))
            continue;
        if (glass_seq_ge(r->start, end))
            break;
        if (glass_seq_lt(at, r->start))
            write_piece(tcb, seq, data, at, r->start);
        at = r->end;
        if (glass_seq_ge(at, end))
            return;
    }
    if (glass_seq_lt(at, end))
        write_piece(tcb, seq, data, at, end);
}


enum glass_drop_reason glass_reass_insert(struct glass_stack *st, struct glass_tcb *tcb,
                                          struct glass_seq seq, const uint8_t *data, uint32_t len)
{
    GLASS_ASSERT(glass_seq_gt(seq, tcb->rcv_nxt) && len > 0);
    uint32_t off = glass_seq_sub(seq, tcb->rcv_nxt);
    if (off + len > glass_ring_space(&tcb->rb))
        return GLASS_DROP_TCP_OFO_DROP; /* beyond the ring: the window check should prevent it */
    /* The bytes go into the ring first (the range list says which are new); if the list is
     * full and this would need a new range, the insert changes nothing and the bytes, beyond
     * the readable ones, are simply never looked at. */
    store_uncovered(tcb, seq, data, len);
    struct glass_tcb_ext *x = glass_tcb_xw(st, tcb);
    int at = x != NULL ? glass_range_add(st, &x->ooo, &tcb->n_ooo, GLASS_OOO_MAX, seq,
                                         glass_seq_add(seq, len))
                       : -2;
    if (at < 0) { /* -2: no memory for the range list (it is allocated while data is missing) */
        glass_tcb_xput(st, tcb);
        return at == -2 ? GLASS_DROP_NOMEM : GLASS_DROP_TCP_OFO_DROP;
    }
    tcb->ooo_last = (uint8_t)at;
    return GLASS_DROP_NONE;
}

uint32_t glass_reass_in_order(struct glass_stack *st, struct glass_tcb *tcb, const uint8_t *data,
                             uint32_t len)
{
    uint32_t room = glass_ring_space(&tcb->rb);
    if (len > room)
        len = room;
    if (len == 0)
        return 0;
    store_uncovered(tcb, tcb->rcv_nxt, data, len);
    struct glass_seq nxt = glass_seq_add(tcb->rcv_nxt, len);
    /* Pull in every queued range the new edge reaches. */
    uint8_t used = 0;
    while (used < tcb->n_ooo && glass_seq_le(tcb->x->ooo[used].start, nxt)) {
        nxt = glass_seq_max(nxt, tcb->x->ooo[used].end);
        used++;
    }
    for (uint8_t k = 0; k + used < tcb->n_ooo; k++)
        tcb->x->ooo[k] = tcb->x->ooo[k + used];
    tcb->n_ooo = (uint8_t)(tcb->n_ooo - used);
    tcb->ooo_last = 0;
    if (tcb->x->ooo != NULL) {
        glass_range_release(st, &glass_tcb_xmut(tcb)->ooo, tcb->n_ooo, GLASS_OOO_MAX);
        glass_tcb_xput(st, tcb);
    }
    uint32_t advanced = glass_seq_sub(nxt, tcb->rcv_nxt);
    tcb->rb.len += advanced;
    tcb->rcv_nxt = nxt;
    return advanced;
}

size_t glass_reass_sack_blocks(const struct glass_tcb *tcb, struct glass_sack_block *out,
                               size_t max)
{
    size_t n = 0;
    if (tcb->n_ooo == 0 || max == 0)
        return 0;
    uint8_t first = tcb->ooo_last < tcb->n_ooo ? tcb->ooo_last : 0;
    out[n].left = tcb->x->ooo[first].start.v;
    out[n].right = tcb->x->ooo[first].end.v;
    n++;
    for (uint8_t i = 0; i < tcb->n_ooo && n < max; i++) {
        if (i == first)
            continue;
        out[n].left = tcb->x->ooo[i].start.v;
        out[n].right = tcb->x->ooo[i].end.v;
        n++;
    }
    return n;
}
