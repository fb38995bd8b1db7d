/* glasstcp — which RFC 9293 state each endpoint must be in, from what a capture shows.
 *
 * The capture point sees segments, not states. A segment tells two things:
 *   1. about its sender, at once: sending a SYN means SYN_SENT, a SYN,ACK means the peer's SYN
 *      arrived (SYN_RCVD), a FIN means close() or shutdown() (FIN_WAIT_1 or LAST_ACK), an RST
 *      means the sender dropped the connection;
 *   2. about its receiver, when it arrives. We take a segment as delivered when it passes the
 *      capture point, with one exception: a SYN or a FIN changes the receiver's state only once
 *      the receiver shows it got it, by acknowledging it. Until then it is "pending", and
 *      whatever its sender sends after it waits behind it (each direction is FIFO). This is
 *      what makes crossing segments come out right: in a simultaneous close both FINs pass the
 *      capture point before either arrives, and each side goes FIN_WAIT_1 -> CLOSING ->
 *      TIME_WAIT, as RFC 9293 §3.6 (Figure 13) says, not CLOSE_WAIT. A FIN that passes with a
 *      hole before it (data of its sender not yet seen, nor acknowledged by the receiver) is
 *      out of order at a receiver on the capture's side: the receiver holds it until the hole
 *      is filled, but takes in the ACK fields of the segments behind it at once (the fifth
 *      check of RFC 9293 §3.10.7.4 runs for every acceptable segment; Linux and glasstcp
 *      work so). An ACK of the receiver's own FIN behind it then takes effect first.
 * Every recorded change is a legal arc of RFC 9293's diagram with one of its causes
 * (<glass/trace.h>, docs/state-machine.md); a segment that would need an illegal arc is
 * counted as a STATE_CONFLICT and changes nothing. RSTs are judged by RFC 5961 §3: only an
 * RST whose sequence number is exactly the receiver's RCV.NXT (which we estimate as the
 * sender's SND.NXT, or the receiver's own last ACK) resets; other RSTs are ignored or
 * challenged by the receiver. docs/trace.md has the rules with examples. */
#include "analyze/analyze_priv.h"

#include <string.h>

#define UNKNOWN GLASS_ANA_STATE_UNKNOWN

static struct glass_seq sq(uint32_t v)
{
    return glass_seq(v);
}

static void add_note(struct ana_conn *c, struct glass_ana_totals *tot,
                     struct glass_ana_pkt_info *pi, int note)
{
    c->pub.note_count[note]++;
    tot->note_count[note]++;
    if (pi != NULL)
        pi->notes |= 1u << note;
}

static bool arc_legal(int from, int to, int cause)
{
    int i = glass_tcp_arc_find(from, to);
    if (i < 0 || cause < 0 || cause >= GLASS_CAUSE_COUNT)
        return false;
    const struct glass_arc *arc = glass_tcp_arc((size_t)i);
    return arc != NULL && (arc->causes & (1u << cause)) != 0;
}

/* The only place where the analyzer changes a side's state (its inferred state, not a TCB's).
 * A side never seen before enters through its first arc: CLOSED -> SYN_SENT (connect),
 * LISTEN -> SYN_RCVD (a listener's child), or the midstream pseudo-arc to ESTABLISHED. */
static bool set_state(struct ana_conn *c, int side, int to, int cause, glass_time_t at,
                      uint64_t frame, struct glass_ana_totals *tot, struct glass_ana_pkt_info *pi)
{
    struct glass_ana_side *sd = &c->pub.side[side];
    int from = c->peer[side].state;
    if (from == to)
        return true;
    if (from == UNKNOWN) {
        if (cause == GLASS_CAUSE_APP_CONNECT)
            from = GLASS_TCP_CLOSED;
        else if (cause == GLASS_CAUSE_RCV_SYN)
            from = GLASS_TCP_LISTEN;
    }
    bool ok = cause == GLASS_ANA_CAUSE_MIDSTREAM ? from == UNKNOWN : arc_legal(from, to, cause);
    if (!ok) {
        tot->conflicts++;
        add_note(c, tot, pi, GLASS_ANA_NOTE_STATE_CONFLICT);
        return false;
    }
    struct glass_ana_transition tr = {
        .at = at,
        .frame = frame,
        .from = (uint8_t)from,
        .to = (uint8_t)to,
        .cause = (uint8_t)cause,
    };
    if (sd->nhist < GLASS_ANA_HIST) {
        sd->hist[sd->nhist++] = tr;
    } else {
        sd->hist[GLASS_ANA_HIST - 1] = tr;
        if (sd->hist_dropped < UINT16_MAX)
            sd->hist_dropped++;
    }
    c->peer[side].state = (uint8_t)to; /* not-tcb-state: the analyzer's inferred state */
    tot->transitions++;
    tot->arcs[from][to]++;
    if (pi != NULL && pi->nchanges < GLASS_ANA_MAX_CHANGES) {
        pi->changes[pi->nchanges++] = (struct glass_ana_change){
            .side = (uint8_t)side,
            .from = (uint8_t)from,
            .to = (uint8_t)to,
            .cause = (uint8_t)cause,
        };
    }
    return true;
}

/* Context of the segment being processed. */
struct ctx {
    struct ana_conn *c;
    glass_time_t at;
    uint64_t frame;
    struct glass_ana_totals *tot;
    struct glass_ana_pkt_info *pi;
};

static bool go(const struct ctx *x, int side, int to, int cause)
{
    return set_state(x->c, side, to, cause, x->at, x->frame, x->tot, x->pi);
}

static int state_of(const struct ctx *x, int side)
{
    return x->c->peer[side].state;
}

/* The ACK of y's SYN reached y. */
static void ack_of_syn_arrives(const struct ctx *x, int y)
{
    if (state_of(x, y) == GLASS_TCP_SYN_RCVD)
        go(x, y, GLASS_TCP_ESTABLISHED, GLASS_CAUSE_RCV_ACK_OF_SYN);
}

/* The ACK of y's FIN reached y (RFC 9293 §3.10.7.4, fifth check). */
static void ack_of_fin_arrives(const struct ctx *x, int y)
{
    struct ana_peer *py = &x->c->peer[y];
    if (py->fin_acked)
        return;
    py->fin_acked = true;
    switch (state_of(x, y)) {
    case GLASS_TCP_FIN_WAIT_1:
        go(x, y, GLASS_TCP_FIN_WAIT_2, GLASS_CAUSE_RCV_ACK_OF_FIN);
        break;
    case GLASS_TCP_CLOSING:
        go(x, y, GLASS_TCP_TIME_WAIT, GLASS_CAUSE_RCV_ACK_OF_FIN);
        break;
    case GLASS_TCP_LAST_ACK:
        go(x, y, GLASS_TCP_CLOSED, GLASS_CAUSE_RCV_ACK_OF_FIN);
        break;
    default:
        break;
    }
}

/* s's SYN is now known to have reached y (y acknowledged it). */
static void deliver_syn(const struct ctx *x, int s, int y)
{
    struct ana_peer *ps = &x->c->peer[s];
    ps->pend_syn = false;
    switch (state_of(x, y)) {
    case UNKNOWN: /* a listener's child: LISTEN -> SYN_RCVD */
        if (go(x, y, GLASS_TCP_SYN_RCVD, GLASS_CAUSE_RCV_SYN))
            x->c->peer[y].passive = true;
        break;
    case GLASS_TCP_SYN_SENT: /* SYN,ACK: established; bare SYN: simultaneous open */
        if (ps->pend_syn_ack)
            go(x, y, GLASS_TCP_ESTABLISHED, GLASS_CAUSE_RCV_SYN_ACK);
        else
            go(x, y, GLASS_TCP_SYN_RCVD, GLASS_CAUSE_RCV_SYN);
        break;
    case GLASS_TCP_SYN_RCVD: /* simultaneous open: the peer's SYN,ACK acknowledges ours */
        if (ps->pend_syn_ack)
            go(x, y, GLASS_TCP_ESTABLISHED, GLASS_CAUSE_RCV_ACK_OF_SYN);
        break;
    default:
        break;
    }
    ps->pend_syn_ack = false;
    if (ps->q_ack_syn) {
        ps->q_ack_syn = false;
        ack_of_syn_arrives(x, y);
    }
}

/* s's FIN is now known to have reached y (RFC 9293 §3.10.7.4, eighth check). */
static void deliver_fin(const struct ctx *x, int s, int y)
{
    struct ana_peer *ps = &x->c->peer[s];
    struct ana_peer *py = &x->c->peer[y];
    ps->pend_fin = false;
    switch (state_of(x, y)) {
    case GLASS_TCP_SYN_RCVD: /* the FIN came with the ACK that completes the handshake */
        go(x, y, GLASS_TCP_ESTABLISHED, GLASS_CAUSE_RCV_ACK_OF_SYN);
        go(x, y, GLASS_TCP_CLOSE_WAIT, GLASS_CAUSE_RCV_FIN);
        break;
    case GLASS_TCP_ESTABLISHED:
        go(x, y, GLASS_TCP_CLOSE_WAIT, GLASS_CAUSE_RCV_FIN);
        break;
    case GLASS_TCP_FIN_WAIT_1:
        if (ps->pend_fin_ack) { /* FIN and the ACK of our FIN in one segment: the shortcut */
            if (go(x, y, GLASS_TCP_TIME_WAIT, GLASS_CAUSE_RCV_FIN_ACK))
                py->fin_acked = true;
        } else { /* the FINs crossed: simultaneous close */
            go(x, y, GLASS_TCP_CLOSING, GLASS_CAUSE_RCV_FIN);
        }
        break;
    case GLASS_TCP_FIN_WAIT_2:
        go(x, y, GLASS_TCP_TIME_WAIT, GLASS_CAUSE_RCV_FIN);
        break;
    default:
        break;
    }
    ps->pend_fin_ack = false;
    ps->fin_ooo = false;
    if (ps->q_ack_fin) {
        ps->q_ack_fin = false;
        ack_of_fin_arrives(x, y);
    }
}

/* Step 1: segment seg from y shows which of s's pending segments y has received. */
static void evidence(const struct ctx *x, int y, const struct ana_seg *seg)
{
    int s = y ^ 1;
    struct ana_peer *ps = &x->c->peer[s];
    if (!(seg->flags & GLASS_TH_ACK))
        return;
    struct glass_seq a = sq(seg->ack);
    if (ps->pend_syn && glass_seq_ge(a, glass_seq_add(ps->iss, 1))) {
        if (seg->flags & GLASS_TH_RST) { /* refused: y never had a connection */
            ps->pend_syn = ps->pend_syn_ack = ps->q_ack_syn = false;
        } else {
            deliver_syn(x, s, y);
        }
    }
    if (ps->pend_fin && !ps->pend_syn && glass_seq_ge(a, glass_seq_add(ps->fin_seq, 1)))
        deliver_fin(x, s, y);
}

/* Was there data in flight, or a two-way exchange without any FIN, when this RST was sent? */
static bool rst_mid_transfer(const struct ana_conn *c)
{
    for (int k = 0; k < 2; k++) {
        const struct ana_peer *p = &c->peer[k];
        const struct ana_peer *q = &c->peer[k ^ 1];
        if (p->data_set && (!q->ack_set || glass_seq_gt(p->data_end, q->last_ack)))
            return true;
    }
    return c->peer[0].bytes > 0 && c->peer[1].bytes > 0 && !c->peer[0].fin_sent &&
           !c->peer[1].fin_sent;
}

/* Step 2 for an RST: its sender dropped the connection. */
static void sender_rst(const struct ctx *x, int s)
{
    struct ana_conn *c = x->c;
    int st = state_of(x, s);
    switch (st) {
    case UNKNOWN: /* a closed port answering: that side was CLOSED all along */
        c->peer[s].state = GLASS_TCP_CLOSED; /* not-tcb-state: no transition, no history */
        return;
    case GLASS_TCP_CLOSED:
    case GLASS_TCP_LISTEN:
    case GLASS_TCP_TIME_WAIT: /* a TIME_WAIT or closed socket answering a stray segment */
        return;
    default:
        break;
    }
    if (rst_mid_transfer(c))
        add_note(c, x->tot, x->pi, GLASS_ANA_NOTE_RST_MID_TRANSFER);
    /* Data that arrived after our FIN (close() had been called): Linux resets (close_unread). */
    int cause = c->peer[s].fin_sent && c->peer[s ^ 1].data_after_peer_fin ? GLASS_CAUSE_CLOSE_UNREAD
                                                                          : GLASS_CAUSE_APP_ABORT;
    go(x, s, GLASS_TCP_CLOSED, cause);
}

/* Step 3 for an RST: does the receiver y accept it (RFC 9293 §3.10.7, RFC 5961 §3)? */
static void rst_arrives(const struct ctx *x, int s, int y, const struct ana_seg *seg)
{
    struct ana_conn *c = x->c;
    struct ana_peer *ps = &c->peer[s];
    struct ana_peer *py = &c->peer[y];
    int st = state_of(x, y);
    bool ok;

    switch (st) {
    case UNKNOWN:
    case GLASS_TCP_CLOSED:
    case GLASS_TCP_LISTEN:
        return;
    case GLASS_TCP_TIME_WAIT:
        /* RFC 1337: a TIME_WAIT side should ignore it; Linux's default lets it kill the
         * TIME_WAIT early. The capture cannot tell which; we keep TIME_WAIT and say so. */
        add_note(c, x->tot, x->pi, GLASS_ANA_NOTE_TIME_WAIT_ASSASSINATION);
        return;
    case GLASS_TCP_SYN_SENT:
        /* §3.10.7.3: acceptable if it acknowledges our SYN. */
        ok = (seg->flags & GLASS_TH_ACK) && py->syn_sent &&
             glass_seq_eq(sq(seg->ack), glass_seq_add(py->iss, 1));
        break;
    default: {
        /* RFC 5961 §3: exactly RCV.NXT. The receiver's RCV.NXT is either what it last
         * acknowledged or, if it got everything, the sender's SND.NXT. With neither known
         * (the capture starts with this RST) we cannot judge and accept it. */
        bool known = false;
        ok = false;
        if (ps->snd_set) {
            known = true;
            ok = glass_seq_eq(sq(seg->seq), ps->snd_nxt);
        }
        if (py->ack_set) {
            known = true;
            ok = ok || glass_seq_eq(sq(seg->seq), py->last_ack);
        }
        if (!known)
            ok = true;
        break;
    }
    }
    if (!ok) {
        add_note(c, x->tot, x->pi, GLASS_ANA_NOTE_RST_IGNORED);
        return;
    }
    /* A passive child goes back to LISTEN (its listener carries on); anything else closes. */
    int to = (st == GLASS_TCP_SYN_RCVD && py->passive) ? GLASS_TCP_LISTEN : GLASS_TCP_CLOSED;
    go(x, y, to, GLASS_CAUSE_RCV_RST);
    ps->pend_syn = ps->pend_syn_ack = ps->pend_fin = ps->pend_fin_ack = ps->fin_ooo = false;
    ps->q_ack_syn = ps->q_ack_fin = false;
}

/* Has everything p sent before seq passed the capture point (or been acknowledged)? Then a
 * segment from seq on, ending at end, extends what has. A SYN, or the first segment seen of a
 * capture that started mid-stream, starts it. */
static bool note_in_order(struct ana_peer *p, struct glass_seq seq, struct glass_seq end, bool syn)
{
    if (syn || !p->in_order_set) {
        p->in_order = end;
        p->in_order_set = true;
        return true;
    }
    if (glass_seq_gt(seq, p->in_order))
        return false;
    if (glass_seq_gt(end, p->in_order))
        p->in_order = end;
    return true;
}

/* Zeek's history letters: once per direction, except t, w, g which repeat at 1, 10, 100...
 * occurrences. Upper case for the originator (our client). */
static void zeek_letter(struct ana_conn *c, int s, char upper)
{
    static const char once[] = "SHADFRQI";
    const char *p = strchr(once, upper);
    if (p != NULL) {
        uint16_t bit = (uint16_t)(1u << (unsigned)(p - once));
        if (c->peer[s].zeek_once & bit)
            return;
        c->peer[s].zeek_once |= bit;
    }
    if ((size_t)c->hlen + 1 >= sizeof(c->pub.history))
        return;
    c->pub.history[c->hlen++] = s == GLASS_ANA_CLIENT ? upper : (char)(upper - 'A' + 'a');
    c->pub.history[c->hlen] = '\0';
}

static void zeek_repeat(struct ana_conn *c, int s, char upper, uint32_t *count)
{
    uint32_t n = ++*count;
    uint32_t p = 1;
    while (p < n && p <= UINT32_MAX / 10)
        p *= 10;
    if (p == n)
        zeek_letter(c, s, upper);
}

static void zeek_update(struct ana_conn *c, int s, const struct ana_seg *seg,
                        const struct glass_ana_pkt_info *pi)
{
    struct ana_peer *ps = &c->peer[s];
    struct ana_peer *py = &c->peer[s ^ 1];
    const bool syn = seg->flags & GLASS_TH_SYN, fin = seg->flags & GLASS_TH_FIN;
    const bool rst = seg->flags & GLASS_TH_RST, ack = seg->flags & GLASS_TH_ACK;

    if (syn)
        zeek_letter(c, s, ack ? 'H' : 'S');
    if (fin)
        zeek_letter(c, s, 'F');
    if (rst)
        zeek_letter(c, s, 'R');
    if (ack && !syn && !fin && !rst && seg->len == 0)
        zeek_letter(c, s, 'A');
    if (seg->len > 0)
        zeek_letter(c, s, 'D');
    if (seg->len > 0 && (pi->flags & (GLASS_ANAF(RETRANSMISSION) | GLASS_ANAF(FAST_RETRANSMISSION) |
                                      GLASS_ANAF(SPURIOUS_RETRANSMISSION))))
        zeek_repeat(c, s, 'T', &ps->zk_retx);
    if (pi->flags & GLASS_ANAF(ZERO_WINDOW))
        zeek_repeat(c, s, 'W', &ps->zk_zwin);
    if (pi->flags & GLASS_ANAF(LOST_SEGMENT))
        zeek_repeat(c, s, 'G', &ps->zk_gap);

    /* Zeek's endpoint states, as its TCP analyzer moves them. */
    if (rst) {
        ps->zeek = ZK_RESET;
    } else if (fin) {
        if (ps->zeek != ZK_RESET)
            ps->zeek = ZK_CLOSED;
    } else if (syn) {
        if (!ack && ps->zeek == ZK_INACTIVE)
            ps->zeek = ZK_SYN_SENT;
        else if (ack && (ps->zeek == ZK_INACTIVE || ps->zeek == ZK_SYN_SENT))
            ps->zeek = ZK_SYN_ACK_SENT;
    } else if (ps->zeek == ZK_INACTIVE) {
        ps->zeek = ZK_PARTIAL;
    } else if (ack && (ps->zeek == ZK_SYN_SENT || ps->zeek == ZK_SYN_ACK_SENT) &&
               (py->zeek == ZK_SYN_SENT || py->zeek == ZK_SYN_ACK_SENT)) {
        ps->zeek = ZK_ESTABLISHED;
        py->zeek = ZK_ESTABLISHED;
    }
}

void glass_ana_infer_start(struct ana_conn *c, int d, const struct ana_seg *s, glass_time_t at,
                           uint64_t frame, struct glass_ana_totals *tot,
                           struct glass_ana_pkt_info *pi)
{
    for (int k = 0; k < 2; k++) {
        c->peer[k].state = UNKNOWN; /* not-tcb-state */
        c->peer[k].fin_hist = -1;
    }
    const bool syn = s->flags & GLASS_TH_SYN, ack = s->flags & GLASS_TH_ACK;
    if (syn && !ack)
        return; /* a proper start: the SYN makes its sender SYN_SENT */
    c->pub.midstream = true;
    add_note(c, tot, pi, GLASS_ANA_NOTE_MIDSTREAM);
    if (syn) {
        /* The SYN,ACK is the first segment seen: the client's SYN went by before the capture
         * started; the server answered it. */
        int cl = d ^ 1;
        set_state(c, cl, GLASS_TCP_SYN_SENT, GLASS_ANA_CAUSE_MIDSTREAM, at, frame, tot, pi);
        c->peer[cl].syn_sent = true;
        c->peer[cl].iss = sq(s->ack - 1u);
        return;
    }
    for (int k = 0; k < 2; k++)
        set_state(c, k, GLASS_TCP_ESTABLISHED, GLASS_ANA_CAUSE_MIDSTREAM, at, frame, tot, pi);
}

void glass_ana_infer_segment(struct ana_conn *c, int d, const struct ana_seg *s, glass_time_t at,
                             uint64_t frame, struct glass_ana_totals *tot,
                             struct glass_ana_pkt_info *pi)
{
    const struct ctx x = {c, at, frame, tot, pi};
    const int y = d ^ 1;
    struct ana_peer *pd = &c->peer[d];
    struct ana_peer *py = &c->peer[y];
    struct glass_ana_side *sd = &c->pub.side[d];
    const bool syn = s->flags & GLASS_TH_SYN, fin = s->flags & GLASS_TH_FIN;
    const bool rst = s->flags & GLASS_TH_RST, ack = s->flags & GLASS_TH_ACK;
    const struct glass_seq a = sq(s->ack);
    const uint32_t synfin_len = syn ? 1u : 0u;

    /* 1. What the segment shows about its sender's receipt of the peer's SYN / FIN. */
    evidence(&x, d, s);

    /* 2. What sending it means for the sender. */
    bool new_syn = false, new_fin = false;
    if (rst) {
        sd->sent_rst = true;
        sender_rst(&x, d);
    } else {
        if (syn) {
            sd->sent_syn = true;
            if (!pd->syn_sent) {
                pd->syn_sent = true;
                pd->iss = sq(s->seq);
                new_syn = true;
            }
            int st = state_of(&x, d);
            if (!ack && (st == UNKNOWN || st == GLASS_TCP_CLOSED))
                go(&x, d, GLASS_TCP_SYN_SENT, GLASS_CAUSE_APP_CONNECT);
            else if (ack && st == UNKNOWN) { /* the peer's SYN was not captured */
                if (go(&x, d, GLASS_TCP_SYN_RCVD, GLASS_CAUSE_RCV_SYN))
                    pd->passive = true;
            } else if (ack && st == GLASS_TCP_SYN_SENT) {
                go(&x, d, GLASS_TCP_SYN_RCVD, GLASS_CAUSE_RCV_SYN);
            }
        }
        if (fin && !pd->fin_sent) {
            new_fin = true;
            pd->fin_sent = true;
            pd->fin_seq = sq(s->seq + synfin_len + s->len);
            pd->ack_at_fin = a;
            sd->sent_fin = true;
            sd->fin_at = at;
            int st = state_of(&x, d);
            int to = st == GLASS_TCP_CLOSE_WAIT ? GLASS_TCP_LAST_ACK : GLASS_TCP_FIN_WAIT_1;
            if (go(&x, d, to, GLASS_CAUSE_APP_CLOSE))
                pd->fin_hist = (int8_t)(sd->nhist - 1);
        }
    }

    /* 3. What it does to the receiver when it arrives, in order behind the sender's
     *    segments that the receiver has not acknowledged yet; but behind a FIN that arrived
     *    out of order, only in the order of the sender's stream (the ACK field at once). */
    if (rst) {
        rst_arrives(&x, d, y, s);
    } else {
        bool in_order =
            note_in_order(pd, sq(s->seq), sq(s->seq + synfin_len + s->len + (fin ? 1u : 0u)), syn);
        bool queued = pd->pend_syn || (pd->pend_fin && !pd->fin_ooo);
        bool acks_syn = ack && py->syn_sent && glass_seq_ge(a, glass_seq_add(py->iss, 1));
        bool acks_fin =
            ack && py->fin_sent && !py->fin_acked && glass_seq_ge(a, glass_seq_add(py->fin_seq, 1));
        if (syn && new_syn) {
            pd->pend_syn = true;
            pd->pend_syn_ack = acks_syn;
        } else if (syn && pd->pend_syn) {
            /* a SYN,ACK behind our bare SYN (simultaneous open) */
            if (acks_syn && !pd->pend_syn_ack)
                pd->q_ack_syn = true;
        } else if (acks_syn) {
            if (queued)
                pd->q_ack_syn = true;
            else
                ack_of_syn_arrives(&x, y);
        }
        if (new_fin) {
            pd->pend_fin = true;
            pd->fin_ooo = !in_order;
            pd->pend_fin_ack = acks_fin && !queued && !pd->fin_ooo;
            if (acks_fin && queued)
                pd->q_ack_fin = true;
            else if (acks_fin && pd->fin_ooo)
                ack_of_fin_arrives(&x, y); /* FIN_WAIT_1 -> FIN_WAIT_2 now, the FIN later */
        } else if (acks_fin) {
            if (queued)
                pd->q_ack_fin = true;
            else
                ack_of_fin_arrives(&x, y);
        }
    }

    /* 4. Remember what the sender has sent and acknowledged. */
    if (!rst) {
        struct glass_seq end = sq(s->seq + s->len + synfin_len + (fin ? 1u : 0u));
        if (!pd->snd_set || glass_seq_gt(end, pd->snd_nxt))
            pd->snd_nxt = end;
        pd->snd_set = true;
        if (s->len > 0) {
            struct glass_seq dend = sq(s->seq + synfin_len + s->len);
            if (!pd->data_set || glass_seq_gt(dend, pd->data_end))
                pd->data_end = dend;
            pd->data_set = true;
            if (py->fin_sent)
                pd->data_after_peer_fin = true;
        }
    }
    if (ack) {
        if (!pd->ack_set || glass_seq_gt(a, pd->last_ack))
            pd->last_ack = a;
        pd->ack_set = true;
        /* The receiver holds the peer's stream in order up to its ACK. */
        if (py->in_order_set && glass_seq_gt(a, py->in_order))
            py->in_order = a;
        /* The sender's FIN was shutdown(SHUT_WR), not close(): it still takes data in. */
        if (pd->fin_sent && pd->fin_hist >= 0 && py->data_after_peer_fin &&
            glass_seq_gt(a, pd->ack_at_fin)) {
            struct glass_ana_transition *t = &sd->hist[pd->fin_hist];
            if (t->cause == GLASS_CAUSE_APP_CLOSE)
                t->cause = GLASS_CAUSE_APP_SHUTDOWN_WR;
        }
    }
    zeek_update(c, d, s, pi);
}

void glass_ana_infer_reuse(struct ana_conn *c, glass_time_t at, uint64_t frame,
                           struct glass_ana_totals *tot)
{
    for (int k = 0; k < 2; k++) {
        if (c->peer[k].state == GLASS_TCP_TIME_WAIT)
            set_state(c, k, GLASS_TCP_CLOSED, GLASS_CAUSE_REUSED_BY_SYN, at, frame, tot, NULL);
    }
}

static bool side_done(int st)
{
    return st == GLASS_TCP_CLOSED || st == GLASS_TCP_TIME_WAIT || st == GLASS_TCP_LISTEN ||
           st == UNKNOWN;
}

bool glass_ana_infer_finished(const struct ana_conn *c)
{
    int a = c->peer[0].state, b = c->peer[1].state;
    return side_done(a) && side_done(b) && !(a == UNKNOWN && b == UNKNOWN);
}

/* Zeek's "^?S[^HAFGIQ]*R.*": a SYN, then an RST from the originator, nothing else in between
 * that matters. */
static bool zeek_rstos0_history(const char *h)
{
    if (*h == '^')
        h++;
    if (*h != 'S')
        return false;
    for (h++; *h != '\0'; h++) {
        if (*h == 'R')
            return true;
        if (strchr("HAFGIQ", *h) != NULL)
            return false;
    }
    return false;
}

/* Zeek's conn_state, from both endpoints' Zeek states (base/protocols/conn/main.zeek). */
static const char *zeek_conn_state(const struct ana_conn *c)
{
    int os = c->peer[GLASS_ANA_CLIENT].zeek, rs = c->peer[GLASS_ANA_SERVER].zeek;
    bool o_inactive = os == ZK_INACTIVE || os == ZK_PARTIAL;
    bool r_inactive = rs == ZK_INACTIVE || rs == ZK_PARTIAL;

    if (rs == ZK_RESET) {
        if (os == ZK_SYN_SENT || os == ZK_SYN_ACK_SENT ||
            (os == ZK_RESET && c->peer[0].bytes == 0 && c->peer[1].bytes == 0))
            return "REJ";
        return o_inactive ? "RSTRH" : "RSTR";
    }
    if (os == ZK_RESET) {
        if (r_inactive)
            return zeek_rstos0_history(c->pub.history) ? "RSTOS0" : "OTH";
        return "RSTO";
    }
    if (rs == ZK_CLOSED && os == ZK_CLOSED)
        return "SF";
    if (os == ZK_CLOSED)
        return r_inactive ? "SH" : "S2";
    if (rs == ZK_CLOSED)
        return o_inactive ? "SHR" : "S3";
    if (os == ZK_SYN_SENT && rs == ZK_INACTIVE)
        return "S0";
    if (os == ZK_ESTABLISHED && rs == ZK_ESTABLISHED)
        return "S1";
    return "OTH";
}

void glass_ana_infer_finalise(struct ana_conn *c, glass_time_t now, struct glass_ana_totals *tot)
{
    for (int k = 0; k < 2; k++) {
        c->pub.side[k].state = c->peer[k].state; /* not-tcb-state: the report's copy */
        c->pub.side[k].pkts = c->peer[k].pkts;
        c->pub.side[k].bytes = c->peer[k].bytes;
    }
    c->pub.last = c->last;
    c->pub.last_frame = c->last_frame;
    struct glass_ana_side *cl = &c->pub.side[GLASS_ANA_CLIENT];
    struct glass_ana_side *sv = &c->pub.side[GLASS_ANA_SERVER];
    bool any_rst = cl->sent_rst || sv->sent_rst;
    bool established = c->pub.midstream;
    for (int k = 0; k < 2 && !established; k++) {
        for (unsigned i = 0; i < c->pub.side[k].nhist; i++) {
            if (c->pub.side[k].hist[i].to == GLASS_TCP_ESTABLISHED)
                established = true;
        }
    }
    if (cl->sent_syn && c->peer[GLASS_ANA_SERVER].pkts == 0)
        add_note(c, tot, NULL, GLASS_ANA_NOTE_SYN_UNANSWERED);
    if (!cl->sent_fin && !sv->sent_fin && !any_rst && established)
        add_note(c, tot, NULL, GLASS_ANA_NOTE_NEVER_CLOSED);
    if (!any_rst && cl->sent_fin != sv->sent_fin) {
        glass_time_t fin_at = cl->sent_fin ? cl->fin_at : sv->fin_at;
        c->pub.half_closed_for = now > fin_at ? now - fin_at : 0;
        add_note(c, tot, NULL, GLASS_ANA_NOTE_HALF_CLOSED);
    }
    const char *cs = zeek_conn_state(c);
    memcpy(c->pub.conn_state, cs, strlen(cs) + 1);
}
