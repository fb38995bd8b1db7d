/* glasstcp — white-box invariants of every connection (robustness/README.md §5.2, properties
 * 4-8 and 10), for the simulator's soak tests and fuzzers. */
#include "core/core.h"

/* A tiny bounded string builder (the core has no stdio). */
struct why {
    char *buf;
    size_t cap, len;
};

static void put_str(struct why *w, const char *s)
{
    while (*s != '\0' && w->len + 1 < w->cap)
        w->buf[w->len++] = *s++;
    if (w->cap > 0)
        w->buf[w->len] = '\0';
}

static void put_u64(struct why *w, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0 && n < 23);
    char out[24];
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    put_str(w, out);
}

/* "conn ID (STATE): msg [a, b]" */
static int fail2(char *buf, size_t cap, const struct glass_tcb *tcb, const char *msg, uint64_t a,
                 uint64_t b, int nargs)
{
    if (buf == NULL || cap == 0)
        return -1;
    struct why w = {buf, cap, 0};
    put_str(&w, "conn ");
    put_u64(&w, tcb->id);
    put_str(&w, " (");
    put_str(&w, glass_tcp_state_name(tcb->state));
    put_str(&w, "): ");
    put_str(&w, msg);
    if (nargs > 0) {
        put_str(&w, " [");
        put_u64(&w, a);
        if (nargs > 1) {
            put_str(&w, ", ");
            put_u64(&w, b);
        }
        put_str(&w, "]");
    }
    return -1;
}

/* A ring's storage: none while it has none, else room for what it holds, never beyond cap,
 * the head inside it. */
static bool ring_storage_ok(const struct glass_ring *r)
{
    return r->size <= r->cap && (r->buf == NULL) == (r->size == 0) && r->len <= r->size &&
           (r->size == 0 || r->head < r->size);
}

static int check_tcb(const struct glass_stack *st, const struct glass_tcb *tcb, char *why,
                     size_t cap)
{
    const struct glass_config *c = &st->cfg;
    if (tcb->state >= GLASS_TCP_NSTATES)
        return fail2(why, cap, tcb, "state out of range", (uint64_t)(tcb->state), (uint64_t)(0), 1);
    if (tcb->sb.len > tcb->sb.cap || tcb->rb.len > tcb->rb.cap)
        return fail2(why, cap, tcb, "a buffer over capacity [sb, rb]", (uint64_t)(tcb->sb.len), (uint64_t)(tcb->rb.len), 2);
    if (!ring_storage_ok(&tcb->sb) || !ring_storage_ok(&tcb->rb))
        return fail2(why, cap, tcb, "ring storage inconsistent [sb size, rb size]", (uint64_t)(tcb->sb.size), (uint64_t)(tcb->rb.size), 2);
    if (tcb->n_ooo > GLASS_OOO_MAX || tcb->n_sacked > GLASS_SACK_MAX)
        return fail2(why, cap, tcb, "queue bounds [ooo, sack]", (uint64_t)(tcb->n_ooo), (uint64_t)(tcb->n_sacked), 2);
    /* The range lists hold memory exactly while they are not empty (range.c). */
    if ((tcb->n_ooo > 0) != (tcb->x->ooo != NULL) || (tcb->n_sacked > 0) != (tcb->x->sacked != NULL))
        return fail2(why, cap, tcb, "range list allocated iff not empty [ooo, sack]", (uint64_t)(tcb->n_ooo), (uint64_t)(tcb->n_sacked), 2);
    /* The extension is held exactly while something in it is (demux.c glass_tcb_xput). */
    const struct glass_tcb_ext *x = tcb->x;
    if (x != &glass_tcb_ext_none && !glass_tcb_ext_used(x))
        return fail2(why, cap, tcb, "an empty extension is held", (uint64_t)(0), (uint64_t)(0), 0);
    /* The bind chain's back link (demux.c glass_tcb_bhash). */
    if ((tcb->flags & GLASS_TF_IN_BHASH) ? (tcb->bpprev == NULL || *tcb->bpprev != tcb)
                                          : (tcb->bpprev != NULL || tcb->bnext != NULL))
        return fail2(why, cap, tcb, "bind chain links broken [in chain]", (uint64_t)((tcb->flags & GLASS_TF_IN_BHASH) != 0), (uint64_t)(0), 1);
    if ((x->cl.listener != NULL) != (tcb->inq != 0))
        return fail2(why, cap, tcb, "child link and queue disagree [inq]", (uint64_t)(tcb->inq), (uint64_t)(0), 1);
    /* RACK's records: a ring of a power of two between the bounds (tcb.h glass_rack). */
    if (x->rack != NULL &&
        (x->rack->cap < GLASS_TXREC_MIN || x->rack->cap > GLASS_TXREC_MAX ||
         (x->rack->cap & (x->rack->cap - 1u)) != 0 || x->rack->len > x->rack->cap ||
         x->rack->head >= x->rack->cap))
        return fail2(why, cap, tcb, "RACK records out of bounds [cap, len]", (uint64_t)(x->rack->cap), (uint64_t)(x->rack->len), 2);
    if (tcb->state == GLASS_TCP_CLOSED || tcb->state == GLASS_TCP_LISTEN) {
        if (tcb->state == GLASS_TCP_CLOSED) {
            for (int k = 0; k < GLASS_TT_COUNT; k++)
                if (tcb->timer[k] != GLASS_TIME_NEVER)
                    return fail2(why, cap, tcb, "CLOSED with a timer armed [kind]", (uint64_t)(k), (uint64_t)(0), 1);
        }
        return 0;
    }
    if (tcb->state == GLASS_TCP_SYN_SENT)
        return 0;
    /* Property 4: SND.UNA <= SND.NXT <= SND.MAX, and what is in flight is backed by the send
     * buffer plus SYN and FIN. */
    if (glass_seq_gt(tcb->snd_una, tcb->snd_nxt) || glass_seq_gt(tcb->snd_nxt, tcb->snd_max))
        return fail2(why, cap, tcb, "SND.UNA <= SND.NXT <= SND.MAX broken [una, nxt]", (uint64_t)(tcb->snd_una.v), (uint64_t)(tcb->snd_nxt.v), 2);
    uint32_t flight = glass_seq_sub(tcb->snd_max, tcb->snd_una);
    uint32_t backed = tcb->sb.len + (glass_seq_eq(tcb->snd_una, tcb->iss) ? 1u : 0u) +
                      ((tcb->flags & GLASS_TF_FIN_QUEUED) ? 1u : 0u);
    if (flight > backed)
        return fail2(why, cap, tcb, "more in flight than in the send buffer [flight, backed]", (uint64_t)(flight), (uint64_t)(backed), 2);
    /* Property 5: RCV.NXT + window never behind the advertised right edge's past. */
    if (glass_tcp_state_in(tcb, GLASS_TCPF_SYNCHRONIZED) && glass_seq_lt(tcb->rcv_adv, tcb->rcv_nxt) &&
        glass_seq_sub(tcb->rcv_nxt, tcb->rcv_adv) > 1u)
        return fail2(why, cap, tcb, "RCV.NXT beyond the advertised edge", (uint64_t)(tcb->rcv_nxt.v), (uint64_t)(tcb->rcv_adv.v), 2);
    /* Out-of-order ranges sorted, disjoint, above RCV.NXT and inside the ring. */
    for (uint8_t i = 0; i < tcb->n_ooo; i++) {
        const struct glass_range *r = &tcb->x->ooo[i];
        if (!glass_seq_lt(r->start, r->end) || !glass_seq_gt(r->start, tcb->rcv_nxt) ||
            (i > 0 && !glass_seq_gt(r->start, tcb->x->ooo[i - 1].end)))
            return fail2(why, cap, tcb, "out-of-order range malformed", (uint64_t)(i), (uint64_t)(0), 1);
        if (tcb->rb.len + glass_seq_sub(r->end, tcb->rcv_nxt) > tcb->rb.size)
            return fail2(why, cap, tcb, "out-of-order range beyond the ring", (uint64_t)(i), (uint64_t)(0), 1);
    }
    for (uint8_t i = 0; i < tcb->n_sacked; i++) {
        const struct glass_range *r = &tcb->x->sacked[i];
        if (!glass_seq_lt(r->start, r->end) || glass_seq_lt(r->start, tcb->snd_una) ||
            glass_seq_gt(r->end, tcb->snd_max) ||
            (i > 0 && !glass_seq_gt(r->start, tcb->x->sacked[i - 1].end)))
            return fail2(why, cap, tcb, "SACK range malformed", (uint64_t)(i), (uint64_t)(0), 1);
    }
    /* Property 8: RTO within bounds; cwnd at least one segment; ssthresh at least two. */
    if (tcb->rto < c->rto_min || tcb->rto > c->rto_max)
        return fail2(why, cap, tcb, "RTO outside [rto_min, rto_max] [rto ns, rto_min ns]", (uint64_t)(tcb->rto), (uint64_t)(c->rto_min), 2);
    if (glass_tcp_rto(tcb, c) > c->rto_max)
        return fail2(why, cap, tcb, "backed-off RTO beyond rto_max", (uint64_t)(0), (uint64_t)(0), 0);
    if (glass_tcp_state_in(tcb, GLASS_TCPF_SYNCHRONIZED) && tcb->cwnd < tcb->snd_mss)
        return fail2(why, cap, tcb, "cwnd below one MSS [cwnd, mss]", (uint64_t)(tcb->cwnd), (uint64_t)(tcb->snd_mss), 2);
    if (tcb->ssthresh < 2u * tcb->snd_mss)
        return fail2(why, cap, tcb, "ssthresh below two MSS", (uint64_t)(tcb->ssthresh), (uint64_t)(0), 1);
    /* Property 7: timers armed only where the state needs them. */
    if (tcb->state == GLASS_TCP_TIME_WAIT) {
        if (tcb->timer[GLASS_TT_TIMEWAIT] == GLASS_TIME_NEVER)
            return fail2(why, cap, tcb, "TIME_WAIT without its 2MSL timer", (uint64_t)(0), (uint64_t)(0), 0);
        if (tcb->timer[GLASS_TT_REXMT] != GLASS_TIME_NEVER)
            return fail2(why, cap, tcb, "TIME_WAIT with a retransmission timer", (uint64_t)(0), (uint64_t)(0), 0);
    } else if (tcb->timer[GLASS_TT_TIMEWAIT] != GLASS_TIME_NEVER) {
        return fail2(why, cap, tcb, "2MSL timer outside TIME_WAIT", (uint64_t)(0), (uint64_t)(0), 0);
    }
    /* The wheel holds the earliest armed timer, in a slot or in the far heap where it says;
     * every armed timer has its bit in wheel.armed (timer.c finds the minimum from it). */
    glass_time_t min = GLASS_TIME_NEVER;
    for (int k = 0; k < GLASS_TT_COUNT; k++) {
        if (tcb->timer[k] < min)
            min = tcb->timer[k];
        if (tcb->timer[k] != GLASS_TIME_NEVER && !(tcb->wheel.armed & (1u << k)))
            return fail2(why, cap, tcb, "armed timer missing from wheel.armed [kind]", (uint64_t)k,
                         (uint64_t)0, 1);
    }
    const struct glass_wheel_entry *e = &tcb->wheel;
    bool filed = e->pprev != NULL || e->far_idx != 0;
    /* A candidate for a compact record may hold its 2MSL timer unfiled (tcp_fsm.c). */
    bool unfiled_ok = !filed && (tcb->flags & GLASS_TF_TWQ) && tcb->state == GLASS_TCP_TIME_WAIT &&
                      min == tcb->timer[GLASS_TT_TIMEWAIT];
    if ((filed != (min != GLASS_TIME_NEVER) && !unfiled_ok) || (filed && e->deadline != min))
        return fail2(why, cap, tcb, "timer wheel entry is not the earliest timer", (uint64_t)min,
                     (uint64_t)e->deadline, 2);
    if (e->far_idx != 0 &&
        (e->far_idx > st->wheel.far_len || st->wheel.far[e->far_idx - 1u] != e))
        return fail2(why, cap, tcb, "far heap position wrong", (uint64_t)e->far_idx,
                     (uint64_t)st->wheel.far_len, 2);
    if (tcb->timer[GLASS_TT_REXMT] != GLASS_TIME_NEVER && glass_seq_eq(tcb->snd_una, tcb->snd_max))
        return fail2(why, cap, tcb, "retransmission timer with nothing outstanding", (uint64_t)(0), (uint64_t)(0), 0);
    if (!glass_seq_eq(tcb->snd_una, tcb->snd_max) && tcb->timer[GLASS_TT_REXMT] == GLASS_TIME_NEVER &&
        tcb->timer[GLASS_TT_PERSIST] == GLASS_TIME_NEVER && !(tcb->flags & GLASS_TF_IN_OUTQ))
        return fail2(why, cap, tcb, "data outstanding without a retransmission timer", (uint64_t)(0), (uint64_t)(0), 0);
    /* Data or a FIN not yet sent, with nothing in flight: the connection must be on the output
     * list (its next pull sends, or arms the persist timer: tcp_out.c) or waiting on that
     * timer. Neither means nothing will ever send it (an ACK that skipped its output pull
     * because glass_tcp_output_pending() said wrongly that nothing was due). */
    uint32_t data_states = GLASS_TCPF(ESTABLISHED) | GLASS_TCPF(CLOSE_WAIT) | GLASS_TCPF_FIN_STATES;
    if (glass_tcp_state_in(tcb, data_states) && !glass_seq_eq(tcb->snd_una, tcb->iss) &&
        glass_tcp_has_unsent(tcb) && glass_seq_eq(tcb->snd_una, tcb->snd_max) &&
        !(tcb->flags & GLASS_TF_IN_OUTQ) &&
        tcb->timer[GLASS_TT_PERSIST] == GLASS_TIME_NEVER)
        return fail2(why, cap, tcb, "something to send, nothing in flight and no output due [state]", (uint64_t)(tcb->state), (uint64_t)(0), 1);
    return 0;
}

static int tw_fail(char *buf, size_t cap, const struct glass_tw *tw, const char *msg)
{
    struct why w = {buf, cap, 0};
    if (buf == NULL || cap == 0)
        return -1;
    put_str(&w, "TIME_WAIT record ");
    put_u64(&w, tw != NULL ? tw->id : 0);
    put_str(&w, ": ");
    put_str(&w, msg);
    return -1;
}

/* The compact TIME-WAIT records (timewait.c): in deadline order, within 2 MSL, each found by
 * its 4-tuple, and with the TCBs in TIME_WAIT making up the stack's count. */
static int check_tw(const struct glass_stack *st, char *why, size_t cap)
{
    const struct glass_twtab *t = &st->tw;
    uint32_t n = 0, prev = 0, bound = 0;
    glass_time_t last = 0;
    for (uint32_t ref = t->head; ref != 0 && n <= t->live; ref = glass_tw_at(t, ref)->fnext) {
        const struct glass_tw *tw = glass_tw_at(t, ref);
        bound += (tw->flags & GLASS_TWF_BOUND) != 0;
        glass_time_t d = glass_tw_deadline(st, tw);
        if (!(tw->flags & GLASS_TWF_LIVE) || tw->fprev != prev)
            return tw_fail(why, cap, tw, "broken expiry list");
        if (d < last)
            return tw_fail(why, cap, tw, "out of deadline order");
        if (d > st->now + 2u * st->cfg.msl + GLASS_NSEC_PER_MSEC)
            return tw_fail(why, cap, tw, "deadline beyond 2MSL");
        if (glass_tw_find(st, tw->laddr, tw->lport, tw->raddr, tw->rport) != ref)
            return tw_fail(why, cap, tw, "not found by its 4-tuple");
        if (glass_demux_conn(st, tw->laddr, tw->lport, tw->raddr, tw->rport) != NULL)
            return tw_fail(why, cap, tw, "a TCB has the same 4-tuple");
        last = d;
        prev = ref;
        n++;
    }
    if (n != t->live || prev != t->tail || bound != t->n_bound)
        return tw_fail(why, cap, NULL, "count differs from the expiry list");
    uint32_t tcbs = 0;
    for (const struct glass_list *l = st->all.next; l != &st->all; l = l->next) {
        const struct glass_tcb *tcb = GLASS_TCB_OF(l, all);
        if (tcb->state == GLASS_TCP_TIME_WAIT && !(tcb->flags & GLASS_TF_TW_MOVED))
            tcbs++;
    }
    if (tcbs + t->live != st->n_time_wait || st->n_time_wait != st->in_state[GLASS_TCP_TIME_WAIT])
        return tw_fail(why, cap, NULL, "TIME_WAIT count differs from records + TCBs");
    return 0;
}

static int stack_fail(char *why, size_t cap, const char *msg)
{
    struct why w = {why, cap, 0};
    if (why != NULL && cap > 0)
        put_str(&w, msg);
    return -1;
}

/* The timer wheel: the far heap in order, and no entry in a slot the cursor has passed (it
 * would not be found until the wheel came round again): each is due at or after the cursor's
 * tick, or sits in the cursor's own slot (filed when already due, fired by the next run). */
static int check_wheel(const struct glass_stack *st, char *why, size_t cap)
{
    const struct glass_wheel *wh = &st->wheel;
    bool heap_ok = wh->far_len <= wh->far_cap && wh->far_len <= wh->count;
    for (uint32_t i = 1; heap_ok && i < wh->far_len; i++)
        heap_ok = wh->far[(i - 1u) / 2u]->deadline <= wh->far[i]->deadline;
    if (!heap_ok)
        return stack_fail(why, cap, "stack: timer wheel far heap out of order");
    /* Only the slots the bitmap marks busy are walked: an entry in an unmarked slot is missing
     * from this count, so the count check below finds it. */
    uint32_t near = 0;
    glass_time_t min = wh->far_len > 0 ? wh->far[0]->deadline : GLASS_TIME_NEVER;
    for (uint32_t word = 0; word < GLASS_WHEEL_SLOTS / 64u; word++) {
        for (uint64_t bits = wh->bitmap[word]; bits != 0; bits &= bits - 1u) {
            uint32_t s = word * 64u + (uint32_t)__builtin_ctzll(bits);
            for (const struct glass_wheel_entry *e = wh->slot[s]; e != NULL; e = e->next) {
                near++;
                if (e->deadline < min)
                    min = e->deadline;
                if (e->deadline / GLASS_WHEEL_TICK < wh->tick && s != wh->tick % GLASS_WHEEL_SLOTS)
                    return stack_fail(why, cap, "stack: a timer sits in a slot the wheel has passed");
            }
        }
    }
    if (near + wh->far_len != wh->count)
        return stack_fail(why, cap, "stack: timer wheel count differs from its entries");
    if (!wh->min_dirty && wh->cached_min != min)
        return stack_fail(why, cap, "stack: timer wheel's cached earliest deadline is wrong");
    return 0;
}

/* The 4-tuple hash (demux.c): the heads in use a power of two within the allocation, as many
 * TCBs marked hashed as the count, and each found in the chain its 4-tuple selects, a chain
 * whose every entry is marked and selects it too. (Walked from the TCBs, not the heads: the
 * check runs after every step of the simulator, and a stack with a few connections has
 * hundreds of heads in use.) */
static int check_chash(const struct glass_stack *st, char *why, size_t cap)
{
    if (((st->chash_mask + 1u) & st->chash_mask) != 0 || st->chash_mask > st->chash_max)
        return stack_fail(why, cap, "stack: 4-tuple hash size wrong");
    uint32_t marked = 0;
    for (const struct glass_list *l = st->all.next; l != &st->all; l = l->next) {
        const struct glass_tcb *tcb = GLASS_TCB_OF(l, all);
        if (!(tcb->flags & GLASS_TF_HASHED))
            continue;
        marked++;
        uint32_t b = glass_tuple_hash(st, tcb->local.addr, tcb->local.port, tcb->remote.addr,
                                      tcb->remote.port) & st->chash_mask;
        bool found = false;
        uint32_t len = 0;
        for (const struct glass_tcb *t = st->chash[b]; t != NULL && len <= st->n_tcbs;
             t = t->hnext, len++) {
            uint32_t h = glass_tuple_hash(st, t->local.addr, t->local.port, t->remote.addr,
                                          t->remote.port);
            if ((h & st->chash_mask) != b || !(t->flags & GLASS_TF_HASHED))
                return stack_fail(why, cap, "stack: a TCB in the wrong 4-tuple hash head");
            found |= t == tcb;
        }
        if (!found)
            return stack_fail(why, cap, "stack: a hashed TCB missing from its 4-tuple hash head");
    }
    if (marked != st->n_hashed)
        return stack_fail(why, cap, "stack: 4-tuple hash count differs from its TCBs");
    return 0;
}

/* The freed-block cache: its byte count is what its slots hold, within its bound, and it is
 * empty when the stack has no connection. */
static int check_blk(const struct glass_stack *st, char *why, size_t cap)
{
    const struct glass_blkcache *c = &st->blk;
    uint64_t sum = 0;
    for (unsigned k = 0; k < GLASS_BLK_KINDS; k++) {
        if (c->n[k] > GLASS_BLK_PER_KIND)
            return stack_fail(why, cap, "stack: freed-block cache kind over its bound");
        for (unsigned i = 0; i < GLASS_BLK_PER_KIND; i++)
            if ((c->p[k][i] != NULL) != (i < c->n[k]))
                return stack_fail(why, cap, "stack: freed-block cache stack broken");
        sum += (uint64_t)c->n[k] * glass_blk_kind_size(k);
    }
    if (sum != c->bytes || sum > GLASS_BLK_BYTES_MAX)
        return stack_fail(why, cap, "stack: freed-block cache count wrong");
    if (sum > 0 && st->n_tcbs == 0 && st->tw.live == 0)
        return stack_fail(why, cap, "stack: freed blocks kept with no connection");
    return 0;
}

int glass_stack_check(const struct glass_stack *st, char *why, size_t cap)
{
    uint32_t n = 0;
    for (const struct glass_list *l = st->all.next; l != &st->all; l = l->next) {
        const struct glass_tcb *tcb = GLASS_TCB_OF(l, all);
        if (++n > st->n_tcbs)
            return fail2(why, cap, tcb, "connection list longer than the count", (uint64_t)(st->n_tcbs), (uint64_t)(0), 1);
        if (check_tcb(st, tcb, why, cap) != 0)
            return -1;
    }
    if (check_tw(st, why, cap) != 0)
        return -1;
    if (check_wheel(st, why, cap) != 0 || check_blk(st, why, cap) != 0 ||
        check_chash(st, why, cap) != 0)
        return -1;
    if (st->mib[GLASS_MIB_TcpExtIllegalArcs] != 0)
        return stack_fail(why, cap, "stack: a state change outside the legal arcs was attempted");
    if (n != st->n_tcbs || st->tx_len > st->cfg.tx_ring || st->ev_len > st->cfg.event_ring)
        return stack_fail(why, cap, "stack: connection count or queues inconsistent");
    return 0;
}
