/* glasstcp — Wireshark's TCP sequence analysis, per segment (the tcp.analysis.* flags).
 *
 * The definitions are the Wireshark User's Guide's ("TCP Analysis", CONVENTIONS.md), checked
 * against tshark: every condition below reads one direction's state ("forward": the sender's
 * flow) and the other's ("reverse"). Wireshark analyses each frame once, in file order, and so
 * do we. Two of its conventions are kept on purpose because they change the results:
 *   - 0 in nextseq / maxseqtobeacked / lastack and in the SYN and iRTT times means "unknown";
 *   - the window used by the checks is the raw header field; only Window Full scales it.
 * Sequence comparisons are modular (Wireshark's LT_SEQ/GT_SEQ/LE_SEQ). */
#include "analyze/analyze_priv.h"

/* Wireshark's thresholds: 3 ms out-of-order window when the iRTT is unknown, 20 ms between the
 * last (duplicate) ACK and a fast retransmission, RFC 7323's maximum window shift. */
#define OOO_DEFAULT_NS UINT64_C(3000000)
#define FAST_RETRANS_NS UINT64_C(20000000)
#define MAX_WSCALE 14

static struct glass_seq sq(uint32_t v)
{
    return glass_seq(v);
}

/* The receiver's window, scaled the way Wireshark's Window Full check scales it: not at all
 * until a pure ACK follows its SYN, nor when scaling is off. */
static uint32_t window_edge(const struct ana_flow *r)
{
    unsigned shift = 0;
    if (!r->is_first_ack && r->win_scale >= 0)
        shift = (unsigned)r->win_scale;
    return r->lastack.v + (r->window << shift);
}

void glass_ana_flow_segment(struct ana_conn *c, int d, const struct ana_seg *s, glass_time_t at,
                            uint64_t frame, uint32_t extra_flags, struct glass_ana_pkt_info *pi)
{
    struct ana_flow *f = &c->flow[d];
    struct ana_flow *r = &c->flow[d ^ 1];
    const bool syn = (s->flags & GLASS_TH_SYN) != 0;
    const bool fin = (s->flags & GLASS_TH_FIN) != 0;
    const bool rst = (s->flags & GLASS_TH_RST) != 0;
    const bool ack = (s->flags & GLASS_TH_ACK) != 0;
    const bool sfr = syn || fin || rst;
    const struct glass_seq seq = sq(s->seq);
    const uint32_t len = s->len;
    const uint32_t win = s->win;
    uint32_t fl = extra_flags;

    /* Relative numbers: the ISN from the SYN, or seq - 1 when the SYN was not captured; the
     * peer's from the first ACK (ack - 1). */
    if (!f->base_set) {
        f->base_seq = syn ? seq : glass_seq_add(seq, UINT32_MAX);
        f->base_set = true;
    }
    if (!r->base_set && ack) {
        r->base_seq = sq(s->ack - 1u);
        r->base_set = true;
    }
    pi->rel_seq = s->seq - f->base_seq.v;
    pi->rel_ack = ack ? s->ack - r->base_seq.v : s->ack;

    /* Zero window probe: one byte at the next expected sequence number while the receiver's
     * last window was 0. Nothing else is checked for it. */
    if (len == 1 && glass_seq_eq(seq, f->nextseq) && r->window == 0) {
        fl |= GLASS_ANAF(ZERO_WINDOW_PROBE);
        goto forward_done;
    }
    /* Zero window: window 0, none of SYN, FIN, RST. */
    if (win == 0 && !sfr)
        fl |= GLASS_ANAF(ZERO_WINDOW);
    /* Previous segment not captured: beyond the next expected sequence number (not for RST). */
    if (f->nextseq.v != 0 && glass_seq_gt(seq, f->nextseq) && !rst)
        fl |= GLASS_ANAF(LOST_SEGMENT);
    /* Keep-alive: 0 or 1 byte at next expected - 1, none of SYN, FIN, RST. */
    if (len <= 1 && s->seq == f->nextseq.v - 1u && !sfr)
        fl |= GLASS_ANAF(KEEP_ALIVE);
    /* Window update: no data, a new non-zero window, same seq/ack as before. */
    if (len == 0 && win != 0 && win != f->window && glass_seq_eq(seq, f->nextseq) &&
        s->ack == f->lastack.v && !sfr)
        fl |= GLASS_ANAF(WINDOW_UPDATE);
    /* Window full: data that reaches the right edge of the receiver's window, once its
     * scaling is known (or known to be off). */
    if (len > 0 && r->win_scale != -1 && s->seq + len == window_edge(r) && !sfr)
        fl |= GLASS_ANAF(WINDOW_FULL);
    /* Keep-alive ACK: a repeat of the last ACK right after a keep-alive from the peer. */
    if (len == 0 && win != 0 && win == f->window && glass_seq_eq(seq, f->nextseq) &&
        s->ack == f->lastack.v && (r->lastsegflags & GLASS_ANAF(KEEP_ALIVE)) && !sfr) {
        fl |= GLASS_ANAF(KEEP_ALIVE_ACK);
        goto forward_done;
    }
    /* Zero window probe ACK: a repeat of the last zero-window ACK right after a probe. */
    if (len == 0 && win == 0 && f->window == 0 && glass_seq_eq(seq, f->nextseq) &&
        s->ack == f->lastack.v && (r->lastsegflags & GLASS_ANAF(ZERO_WINDOW_PROBE)) && !sfr) {
        fl |= GLASS_ANAF(ZERO_WINDOW_PROBE_ACK);
        goto forward_done;
    }
    /* Duplicate ACK: no data, same non-zero window, same seq and ack. */
    if (len == 0 && win != 0 && win == f->window && glass_seq_eq(seq, f->nextseq) &&
        s->ack == f->lastack.v && !sfr) {
        f->dupacknum = f->dupacknum == DUPACK_UNSEEN ? 1 : f->dupacknum + 1;
        fl |= GLASS_ANAF(DUPLICATE_ACK);
        pi->dupack_num = f->dupacknum;
        pi->dupack_frame = f->lastnondupack;
    }

forward_done:
    if (s->ack != f->lastack.v) {
        f->lastnondupack = frame;
        f->dupacknum = 0;
    }

    /* ACKed unseen segment: an ACK beyond the highest contiguous data seen the other way. */
    if (r->maxseqtobeacked.v != 0 && glass_seq_gt(sq(s->ack), r->maxseqtobeacked) && ack) {
        /* Data beyond the hole has been seen since: report it once and move past it. */
        if (glass_seq_lt(r->maxseqtobeacked, r->nextseq)) {
            r->maxseqtobeacked = r->nextseq;
            fl |= GLASS_ANAF(ACK_LOST_SEGMENT);
        } else {
            /* Report a run of ACKs past the same hole once. */
            if (r->dupacknum == 0)
                fl |= GLASS_ANAF(ACK_LOST_SEGMENT);
            r->dupacknum = DUPACK_UNSEEN;
        }
    }

    /* Retransmission family: a segment with data, SYN or FIN that does not advance nextseq.
     * Precedence: Keep-Alive > Spurious > Fast Retransmission > Out-Of-Order > Retransmission. */
    if (len > 0 || syn || fin) {
        bool not_advanced = f->nextseq.v != 0 && glass_seq_lt(seq, f->nextseq);

        if (fl & GLASS_ANAF(KEEP_ALIVE))
            goto retrans_done;
        /* More than one byte starting one before nextseq: new data after a zero window
         * probe byte, not a retransmission. */
        if (len > 1 && f->nextseq.v - 1u == s->seq)
            not_advanced = false;
        /* Spurious: all of it was already acknowledged by the peer. */
        if (len > 0 && r->lastack.v != 0 && glass_seq_le(sq(s->seq + len), r->lastack)) {
            fl |= GLASS_ANAF(SPURIOUS_RETRANSMISSION);
            goto retrans_done;
        }
        /* Fast retransmission: at the peer's duplicated ACK, >= 2 dup ACKs (or, through the
         * unsigned counter, just after an ACKed unseen segment), < 20 ms after. */
        if (not_advanced && r->dupacknum >= 2 && r->lastack.v == s->seq &&
            (uint64_t)(at - r->lastack_time) < FAST_RETRANS_NS) {
            fl |= GLASS_ANAF(FAST_RETRANSMISSION);
            goto retrans_done;
        }
        /* Out-of-order: soon (iRTT, or 3 ms) after the highest segment, and not its repeat. */
        uint64_t thres = c->first_rtt != 0 ? c->first_rtt : OOO_DEFAULT_NS;
        uint32_t seg_next = s->seq + len + ((syn || fin) ? 1u : 0u);
        if (not_advanced && (uint64_t)(at - f->nextseq_time) < thres && f->nextseq.v != seg_next) {
            fl |= GLASS_ANAF(OUT_OF_ORDER);
            goto retrans_done;
        }
        if (not_advanced)
            fl |= GLASS_ANAF(RETRANSMISSION);
    }

retrans_done:;
    struct glass_seq nextseq = sq(s->seq + len + ((syn || fin) ? 1u : 0u));
    /* Zero window probes do not advance nextseq / maxseqtobeacked. */
    if (!(fl & GLASS_ANAF(ZERO_WINDOW_PROBE))) {
        if (f->nextseq.v == 0 || glass_seq_gt(nextseq, f->nextseq)) {
            f->nextseq = nextseq;
            f->nextseq_frame = frame;
            f->nextseq_time = at;
        }
        if (f->maxseqtobeacked.v == 0 || glass_seq_eq(seq, f->maxseqtobeacked))
            f->maxseqtobeacked = f->nextseq;
    }
    /* The window as Wireshark shows it (tcp.window_size): SYNs are never scaled. */
    pi->win_scaled = (!syn && f->win_scale >= 0) ? win << (unsigned)f->win_scale : win;
    f->window = win;
    f->lastack = sq(s->ack);
    f->lastack_time = at;
    f->lastsegflags = fl;

    /* After the analysis proper (Wireshark's order): the SYN time and iRTT, the first-ACK
     * marker used by Window Full, then the window-scale option. */
    if (syn) {
        if (!ack)
            c->mru_syn = at;
        f->is_first_ack = true;
    }
    if (ack && !syn) {
        if (c->mru_syn != 0 && c->first_rtt == 0)
            c->first_rtt = at - c->mru_syn;
        f->is_first_ack = false;
    }
    if (s->wscale >= 0)
        f->win_scale = (int16_t)(s->wscale > MAX_WSCALE ? MAX_WSCALE : s->wscale);
    if (syn) {
        /* A SYN without the option: no scaling either way. A SYN,ACK with it after a SYN
         * without it: none in this direction. */
        if (f->win_scale == -1) {
            f->win_scale = -2;
            r->win_scale = -2;
        } else if (ack && r->win_scale == -2) {
            f->win_scale = -2;
        }
    }
    pi->flags = fl;
}
