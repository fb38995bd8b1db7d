/* glasstcp — states, causes, the legal-arc table and glass_tcp_set_state(), the only function
 * that writes a connection's state (DESIGN.md "One door for state changes", STYLE.md §7.3). */
#include "core/core.h"
#include "util/assert.h"

#include <ctype.h>
#include <string.h>

struct state_names {
    const char *canon, *ss, *rfc;
    int linux_num;
};

static const struct state_names state_names[GLASS_TCP_NSTATES] = {
#define X(n, canon, ss, rfc, lnx) {canon, ss, rfc, lnx},
    GLASS_TCP_STATES(X)
#undef X
};

static const char *const cause_names[GLASS_CAUSE_COUNT] = {
#define X(n, name, text) name,
    GLASS_TCP_CAUSES(X)
#undef X
};

static const char *const cause_texts[GLASS_CAUSE_COUNT] = {
#define X(n, name, text) text,
    GLASS_TCP_CAUSES(X)
#undef X
};

/* RFC 9293 Figure 5 plus the reset/abort/timeout exits: the table every change is checked
 * against, and what `glass demo` and `glass diagram` report coverage of. */
static const struct glass_arc arcs[] = {
#define X(from, to, causes, label) {GLASS_TCP_##from, GLASS_TCP_##to, (causes), label},
    GLASS_TCP_ARCS(X)
#undef X
};

#define N_ARCS (sizeof arcs / sizeof arcs[0])
_Static_assert(N_ARCS == 26, "STATE-MACHINE.md lists 26 legal arcs");
_Static_assert(N_ARCS <= 32, "arc_cause is sized for 32 arcs");
_Static_assert(GLASS_CAUSE_COUNT <= 32, "cause masks are 32 bits");

const char *glass_tcp_state_name(int s)
{
    return s >= 0 && s < GLASS_TCP_NSTATES ? state_names[s].canon : "?";
}

const char *glass_tcp_state_ss_name(int s)
{
    return s >= 0 && s < GLASS_TCP_NSTATES ? state_names[s].ss : "?";
}

const char *glass_tcp_state_rfc_name(int s)
{
    return s >= 0 && s < GLASS_TCP_NSTATES ? state_names[s].rfc : "?";
}

int glass_tcp_state_linux(int s)
{
    return s >= 0 && s < GLASS_TCP_NSTATES ? state_names[s].linux_num : 0;
}

/* Compare ignoring case, with '-' and '_' equal; "FIN_WAIT1" also matches "FIN_WAIT_1". */
static void fold(const char *in, char *out, size_t cap)
{
    size_t j = 0;
    for (size_t i = 0; in[i] != '\0' && j + 1 < cap; i++) {
        char c = in[i];
        if (c == '-' || c == '_' || c == ' ')
            continue; /* drop separators entirely: FIN-WAIT-1 == FIN_WAIT1 == finwait1 */
        out[j++] = (char)toupper((unsigned char)c);
    }
    out[j] = '\0';
}

int glass_tcp_state_parse(const char *name)
{
    static const struct {
        const char *alias;
        int state;
    } extra[] = {
        {"SYNRECV", GLASS_TCP_SYN_RCVD}, {"SYNRECEIVED", GLASS_TCP_SYN_RCVD},
        {"CLOSE", GLASS_TCP_CLOSED},     {"UNCONN", GLASS_TCP_CLOSED},
        {"ESTAB", GLASS_TCP_ESTABLISHED}, {"LISTENING", GLASS_TCP_LISTEN},
    };
    char want[32], have[32];
    if (name == NULL)
        return -1;
    fold(name, want, sizeof want);
    for (int s = 0; s < GLASS_TCP_NSTATES; s++) {
        const char *forms[3] = {state_names[s].canon, state_names[s].ss, state_names[s].rfc};
        for (int k = 0; k < 3; k++) {
            fold(forms[k], have, sizeof have);
            if (strcmp(want, have) == 0)
                return s;
        }
    }
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        if (strcmp(want, extra[i].alias) == 0)
            return extra[i].state;
    return -1;
}

const char *glass_tcp_cause_name(int c)
{
    return c >= 0 && c < GLASS_CAUSE_COUNT ? cause_names[c] : "?";
}

const char *glass_tcp_cause_text(int c)
{
    return c >= 0 && c < GLASS_CAUSE_COUNT ? cause_texts[c] : "?";
}

int glass_tcp_cause_parse(const char *name)
{
    for (int c = 0; name != NULL && c < GLASS_CAUSE_COUNT; c++)
        if (strcmp(name, cause_names[c]) == 0)
            return c;
    return -1;
}

size_t glass_tcp_arc_count(void)
{
    return N_ARCS;
}

const struct glass_arc *glass_tcp_arc(size_t i)
{
    return i < N_ARCS ? &arcs[i] : NULL;
}

/* Every change of state looks its arc up: a from x to table made at compile time from the same
 * X-macro as arcs[] (one enumerator per arc gives the index). Each entry holds the arc's index
 * + 1 (0: no legal arc) and two flags for the work that only some arcs need: ARC_MIBS, an arc
 * on which count_mibs() may count (its from/to tests, with the cause tests widened to "the arc
 * allows that cause"), and ARC_EXIT, an arc out of TIME_WAIT or into or out of LISTEN (the
 * first checks of enter_state()). */
enum arc_no {
#define X(from, to, causes, label) ARC_##from##_##to,
    GLASS_TCP_ARCS(X)
#undef X
};
#define ARC_NO 0x3fu
#define ARC_MIBS 0x40u
#define ARC_EXIT 0x80u
_Static_assert(N_ARCS < ARC_NO, "the arc's index + 1 fits below the flags");
#define ST(s) GLASS_TCP_##s
#define ARC_MIBS_ON(f, t, c)                                                                     \
    (((f) == ST(CLOSED) && (t) == ST(SYN_SENT)) || ((f) == ST(LISTEN) && (t) == ST(SYN_RCVD)) || \
     (((f) == ST(SYN_SENT) || (f) == ST(SYN_RCVD)) && ((t) == ST(CLOSED) || (t) == ST(LISTEN))) || \
     (((f) == ST(ESTABLISHED) || (f) == ST(CLOSE_WAIT)) && (t) == ST(CLOSED)) ||                  \
     ((f) == ST(TIME_WAIT) &&                                                                     \
      ((c) & (GLASS_CAUSEF(TIMEOUT_2MSL) | GLASS_CAUSEF(REUSED_BY_SYN) |                         \
              GLASS_CAUSEF(REUSED_BY_CONNECT))) != 0) ||                                         \
     ((f) == ST(FIN_WAIT_2) && ((c) & GLASS_CAUSEF(FIN_WAIT_2_TIMEOUT)) != 0))
#define ARC_EXIT_ON(f, t)                                                                        \
    ((f) == ST(TIME_WAIT) || (f) == ST(LISTEN) || (t) == ST(LISTEN))
static const uint8_t arc_info[16][16] = {
#define X(from, to, causes, label)                                                               \
    [ST(from)][ST(to)] = (uint8_t)((ARC_##from##_##to + 1) |                                     \
                                   (ARC_MIBS_ON(ST(from), ST(to), (causes)) ? ARC_MIBS : 0u) |   \
                                   (ARC_EXIT_ON(ST(from), ST(to)) ? ARC_EXIT : 0u)),
    GLASS_TCP_ARCS(X)
#undef X
};
/* The causes allowed from x to (arcs[].causes; 0: no legal arc), for the check in one load. */
static const uint32_t arc_causes[16][16] = {
#define X(from, to, causes, label) [ST(from)][ST(to)] = (causes),
    GLASS_TCP_ARCS(X)
#undef X
};
#undef ST

int glass_tcp_arc_find(int from, int to)
{
    if (from < 0 || to < 0 || from >= GLASS_TCP_NSTATES || to >= GLASS_TCP_NSTATES)
        return -1;
    return (int)(arc_info[from][to] & ARC_NO) - 1;
}

/* ---- recording -------------------------------------------------------------------------- */

/* Room for one more entry in tcb's history: while it is full and smaller than history_len,
 * the ring doubles (from 2), so a connection holds memory for the transitions it has made,
 * not for history_len of them. If that allocation fails the ring stays as it is and the
 * oldest entry gives way (glass_conn_history then returns fewer). */
static void history_grow(struct glass_stack *st, struct glass_tcb *tcb)
{
    struct glass_hist_full *old = tcb->x->hist;
    uint16_t max = st->cfg.history_len, ocap = old != NULL ? old->cap : 0;
    if ((old != NULL && old->count < ocap) || ocap >= max)
        return;
    uint16_t cap = ocap == 0 ? (max < 2u ? max : 2u) : ocap > max / 2u ? max : (uint16_t)(2u * ocap);
    struct glass_tcb_ext *x = glass_tcb_xw(st, tcb);
    struct glass_hist_full *h = x != NULL ? glass_alloc(st, sizeof *h + sizeof h->rec[0] * cap) : NULL;
    if (h == NULL) {
        glass_tcb_xput(st, tcb);
        return;
    }
    h->head = 0;
    h->count = old != NULL ? old->count : 0;
    h->cap = cap;
    for (uint16_t i = 0; i < h->count; i++)
        h->rec[i] = old->rec[(old->head + i) % ocap];
    glass_free(st, old, sizeof *old + sizeof old->rec[0] * ocap);
    x->hist = h;
}

_Static_assert(GLASS_TCP_NSTATES <= 16, "struct glass_hist_rec packs two states in a byte");

/* The record of a change from -> to for cause, at st->now, with the segment being processed
 * (st->cur_seg) if there is one. */
static inline void fill_transition(struct glass_transition *t, const struct glass_stack *st,
                                   uint32_t conn, unsigned from, unsigned to,
                                   enum glass_tcp_cause cause)
{
    const struct glass_tcp_repr *seg = st->cur_seg;
    *t = (struct glass_transition){
        .at = st->now,
        .conn = conn,
        .from = (uint8_t)from,
        .to = (uint8_t)to,
        .cause = (uint8_t)cause,
    };
    if (seg != NULL) {
        t->has_seg = true;
        t->seg_flags = seg->flags;
        t->seg_seq = seg->seq;
        t->seg_ack = seg->ack;
        t->seg_len = (uint16_t)seg->payload_len;
    }
}

static inline void record_inline(const struct glass_stack *st, struct glass_tcb *tcb, unsigned from,
                                 unsigned to, enum glass_tcp_cause cause)
{
    /* The slot after the newest is hist_rec_n's low bit in every case (see tcb.h). */
    unsigned n = tcb->hist_rec_n;
    struct glass_hist_rec *r = &tcb->hist_rec[n & 1u];
    const struct glass_tcp_repr *seg = st->cur_seg;
    r->at_ms = (uint32_t)(st->now / GLASS_NSEC_PER_MSEC);
    r->from_to = (uint8_t)(from << 4 | to);
    r->cause = (uint8_t)cause;
    r->seg_flags = seg != NULL ? seg->flags : 0;
    r->has_seg = seg != NULL;
    tcb->hist_rec_n = (uint8_t)(n < 2u ? n + 1u : n ^ 1u);
}

/* The full records: tcb's history (cfg.history_len > 0: it is fixed when the stack is made, and
 * no history is allocated while it is 0) and the observer. */
static void record_full(struct glass_stack *st, struct glass_tcb *tcb,
                        const struct glass_transition *t)
{
    if (tcb != NULL && st->cfg.history_len != 0) {
        history_grow(st, tcb);
        struct glass_hist_full *h = tcb->x->hist;
        if (h != NULL) {
            h->rec[(h->head + h->count) % h->cap] = *t;
            if (h->count < h->cap)
                h->count++;
            else
                h->head = (uint16_t)((h->head + 1u) % h->cap);
        }
    }
    if (st->observer != NULL)
        st->observer(st->observer_ctx, t);
}

/* Record the change from -> to: in tcb's inline records if tcb is not NULL, the stack's ring
 * (allocated exactly when cfg.trace_ring > 0), tcb's full history and the observer. The ring's
 * entry is written in place. */
static inline void record(struct glass_stack *st, struct glass_tcb *tcb, uint32_t conn,
                          unsigned from, unsigned to, enum glass_tcp_cause cause)
{
    if (tcb != NULL)
        record_inline(st, tcb, from, to, cause);
    struct glass_transition *slot = NULL;
    if (st->ring != NULL) {
        /* ring_head < rcap and ring_len <= rcap: a full ring writes at its head (the oldest
         * gives way), else a subtraction wraps the index (no division on every transition). */
        uint32_t rcap = st->cfg.trace_ring, head = st->ring_head;
        if (st->ring_len == rcap) {
            slot = &st->ring[head];
            st->ring_head = head + 1u == rcap ? 0u : head + 1u;
            st->ring_dropped++;
        } else {
            uint32_t at = head + st->ring_len;
            slot = &st->ring[at >= rcap ? at - rcap : at];
            st->ring_len++;
        }
        fill_transition(slot, st, conn, from, to, cause);
    }
    if ((tcb != NULL && st->cfg.history_len != 0) || st->observer != NULL) {
        struct glass_transition t;
        fill_transition(&t, st, conn, from, to, cause);
        record_full(st, tcb, &t);
    }
}

/* RFC 1213 counters are state-transition counts: keep them here, in one place. */
static void count_mibs(struct glass_stack *st, unsigned from, unsigned to,
                       enum glass_tcp_cause cause)
{
    if (from == GLASS_TCP_CLOSED && to == GLASS_TCP_SYN_SENT)
        glass_mib_inc(st, GLASS_MIB_TcpActiveOpens);
    if (from == GLASS_TCP_LISTEN && to == GLASS_TCP_SYN_RCVD)
        glass_mib_inc(st, GLASS_MIB_TcpPassiveOpens);
    if ((from == GLASS_TCP_SYN_SENT || from == GLASS_TCP_SYN_RCVD) &&
        (to == GLASS_TCP_CLOSED || to == GLASS_TCP_LISTEN))
        glass_mib_inc(st, GLASS_MIB_TcpAttemptFails);
    if ((from == GLASS_TCP_ESTABLISHED || from == GLASS_TCP_CLOSE_WAIT) && to == GLASS_TCP_CLOSED)
        glass_mib_inc(st, GLASS_MIB_TcpEstabResets);
    if (from == GLASS_TCP_TIME_WAIT && cause == GLASS_CAUSE_TIMEOUT_2MSL)
        glass_mib_inc(st, GLASS_MIB_TcpExtTW);
    if (from == GLASS_TCP_TIME_WAIT &&
        (cause == GLASS_CAUSE_REUSED_BY_SYN || cause == GLASS_CAUSE_REUSED_BY_CONNECT))
        glass_mib_inc(st, GLASS_MIB_TcpExtTWRecycled);
    if (from == GLASS_TCP_FIN_WAIT_2 && cause == GLASS_CAUSE_FIN_WAIT_2_TIMEOUT)
        glass_mib_inc(st, GLASS_MIB_TcpExtTCPFinWait2Timeout);
}

/* ---- entry actions common to every path into a state (STYLE §7.3 item 5) ----------------- */

static void enter_established(struct glass_stack *st, struct glass_tcb *tcb)
{
    tcb->flags |= GLASS_TF_WAS_CONN;
    tcb->rxtshift = 0;
    if (tcb->x->cl.listener != NULL) {
        struct glass_child_link *cl = &glass_tcb_xmut(tcb)->cl;
        /* Passive open complete: move the child from the SYN queue to the accept queue. */
        struct glass_tcb *l = cl->listener;
        glass_child_unqueue(tcb);
        cl->qlink.prev = l->x->lq->acceptq.prev;
        cl->qlink.next = &l->x->lq->acceptq;
        l->x->lq->acceptq.prev->next = &cl->qlink;
        l->x->lq->acceptq.prev = &cl->qlink;
        l->x->lq->acceptq_len++;
        tcb->inq = 2;
        glass_event_push(st, l, GLASS_EV_ACCEPTABLE, 0);
    } else {
        glass_event_push(st, tcb, GLASS_EV_CONNECTED, 0);
        glass_event_push(st, tcb, GLASS_EV_WRITABLE, 0);
    }
}

static void enter_closed(struct glass_stack *st, struct glass_tcb *tcb)
{
    glass_timer_clear_all(st, tcb);
    glass_tcb_unhash(st, tcb);
    if (tcb->x->cl.listener != NULL)
        glass_child_unlink(st, tcb);
    if (tcb->fd >= 0) {
        /* The application still holds the handle: it keeps an explicitly bound port (Linux
         * SOCK_BINDPORT_LOCK) and any unread bytes; the send queue is gone. */
        if (!(tcb->flags & GLASS_TF_BOUND))
            glass_tcb_unbhash(st, tcb);
        tcb->sb.len = 0;
        tcb->sb.head = 0;
        glass_event_push(st, tcb, GLASS_EV_HUP, 0);
    } else {
        glass_tcb_unbhash(st, tcb);
        glass_tcb_reap(st, tcb);
    }
}

/* exit: the change may be out of TIME_WAIT or into or out of LISTEN (arc_info ARC_EXIT). */
static void enter_state(struct glass_stack *st, struct glass_tcb *tcb, unsigned from, bool exit)
{
    if (exit) {
        if (from == GLASS_TCP_TIME_WAIT && st->n_time_wait > 0)
            st->n_time_wait--;
        if ((from == GLASS_TCP_LISTEN) != (tcb->state == GLASS_TCP_LISTEN) &&
            (tcb->flags & GLASS_TF_IN_BHASH)) {
            /* Listeners stay in front of their bind chain (demux.c glass_tcb_bhash). */
            glass_tcb_unbhash(st, tcb);
            glass_tcb_bhash(st, tcb);
        }
    }
    switch ((enum glass_tcp_state)tcb->state) {
    case GLASS_TCP_ESTABLISHED:
        enter_established(st, tcb);
        break;
    case GLASS_TCP_TIME_WAIT:
        if (st->n_time_wait >= st->cfg.max_time_wait) {
            /* The TIME_WAIT table is full (Linux tcp_max_tw_buckets): the entry is not kept,
             * the connection ends at once (robustness catalogue 114). */
            glass_mib_inc(st, GLASS_MIB_TcpExtTCPTimeWaitOverflow);
            /* The peer's FIN is still acknowledged first (RFC 9293 §3.10.7.4, Linux tcp_fin
             * sends the ACK before tcp_time_wait looks for a bucket); otherwise it waits in
             * LAST-ACK until its resent FIN draws an RST. */
            if (!glass_seq_eq(tcb->rcv_nxt, tcb->last_ack_sent) || (tcb->flags & GLASS_TF_ACKNOW))
                glass_tcp_send_ack_now(st, tcb);
            st->n_time_wait++; /* balanced by the exit below */
            glass_tcp_set_state(st, tcb, GLASS_TCP_CLOSED, GLASS_CAUSE_TW_OVERFLOW);
            break;
        }
        /* RFC 9293 §3.10.7.4: TIME-WAIT holds the 4-tuple for 2 MSL; nothing else runs. */
        glass_timer_clear_all(st, tcb);
        st->n_time_wait++;
        glass_tcb_release_idle(st, tcb);
        /* Orphaned: a compact record once its ACK is out, normally at the very next output
         * pull, and the record's FIFO keeps the deadline. Its 2MSL timer is then not filed in
         * the wheel only to be taken out again (a far-heap insert and removal per
         * connection); glass_tw_file_timers files it if the TCB stays longer. */
        if (glass_tw_candidate(st, tcb))
            glass_timer_set_unfiled(tcb, GLASS_TT_TIMEWAIT, st->now + 2u * st->cfg.msl);
        else
            glass_timer_set(st, tcb, GLASS_TT_TIMEWAIT, st->now + 2u * st->cfg.msl);
        break;
    case GLASS_TCP_FIN_WAIT_2:
        glass_timer_clear(st, tcb, GLASS_TT_REXMT);
        if (tcb->flags & GLASS_TF_ORPHAN)
            glass_timer_set(st, tcb, GLASS_TT_FINWAIT2, st->now + st->cfg.fin_wait_2_timeout);
        break;
    case GLASS_TCP_CLOSED:
        enter_closed(st, tcb);
        break;
    case GLASS_TCP_LISTEN:
        if (from == GLASS_TCP_SYN_RCVD) {
            /* RFC 9293 §3.10.7.4: a passive child reset in SYN-RECEIVED "returns to LISTEN":
             * the listener already is there, so the child leaves and is freed. */
            glass_timer_clear_all(st, tcb);
            glass_tcb_unhash(st, tcb);
            glass_child_unlink(st, tcb);
            glass_tcb_reap(st, tcb);
        }
        break;
    case GLASS_TCP_CLOSE_WAIT:
    case GLASS_TCP_SYN_SENT:
    case GLASS_TCP_SYN_RCVD:
    case GLASS_TCP_FIN_WAIT_1:
    case GLASS_TCP_CLOSING:
    case GLASS_TCP_LAST_ACK:
    case GLASS_TCP_NSTATES:
        break;
    }
}

/* Check the arc from -> to against the table, count it and record it (in tcb's history if
 * tcb is not NULL, the stack ring, the observer); return its arc_info entry (with every flag
 * for an illegal change, which goes on only in builds without asserts). The caller has written
 * the state. from and to are states (below GLASS_TCP_NSTATES). */
static inline __attribute__((always_inline)) unsigned
take_arc(struct glass_stack *st, struct glass_tcb *tcb, uint32_t conn, unsigned from, unsigned to,
         enum glass_tcp_cause cause)
{
    unsigned info = arc_info[from][to];
    if (__builtin_expect(((arc_causes[from][to] >> cause) & 1u) != 0, 1)) {
        st->arc_cause[(info & ARC_NO) - 1u][cause]++;
    } else {
        glass_mib_inc(st, GLASS_MIB_TcpExtIllegalArcs);
        GLASS_ASSERT(0);
        if ((info & ARC_NO) != 0)
            st->arc_cause[(info & ARC_NO) - 1u][cause]++;
        info |= ARC_MIBS | ARC_EXIT;
    }
    st->in_state[from] -= st->in_state[from] > 0;
    if (info & ARC_MIBS)
        count_mibs(st, from, to, cause);
    record(st, tcb, conn, from, to, cause);
    return info;
}

void glass_tcp_set_state(struct glass_stack *st, struct glass_tcb *tcb, enum glass_tcp_state to,
                         enum glass_tcp_cause cause)
{
    unsigned from = tcb->state;
    if (from == (unsigned)to)
        return;
    tcb->state = (uint8_t)to;
    tcb->state_since = st->now;
    st->in_state[to]++;
    unsigned info = take_arc(st, tcb, tcb->id, from, (unsigned)to, cause);
    enter_state(st, tcb, from, (info & ARC_EXIT) != 0);
}

/* The same door for a compact TIME-WAIT record (timewait.c): the one arc it can take,
 * TIME_WAIT -> CLOSED, checked, counted and recorded like a TCB's; then the record is freed
 * (a record in CLOSED is gone at once, as a reaped TCB is). */
void glass_tw_set_closed(struct glass_stack *st, uint32_t ref, enum glass_tcp_cause cause)
{
    (void)take_arc(st, NULL, glass_tw_at(&st->tw, ref)->id, GLASS_TCP_TIME_WAIT, GLASS_TCP_CLOSED,
                   cause);
    if (st->n_time_wait > 0)
        st->n_time_wait--;
    glass_tw_release(st, ref);
}

void glass_tcb_init_state(struct glass_stack *st, struct glass_tcb *tcb, enum glass_tcp_state s)
{
    tcb->state = (uint8_t)s;
    tcb->state_since = st->now;
    st->in_state[s]++;
}

void glass_tcb_fini_state(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (tcb->flags & GLASS_TF_TW_MOVED)
        return; /* its TIME_WAIT, and the counts of it, went on in a record */
    if (st->in_state[tcb->state] > 0)
        st->in_state[tcb->state]--;
    if (tcb->state == GLASS_TCP_TIME_WAIT && st->n_time_wait > 0)
        st->n_time_wait--;
}
