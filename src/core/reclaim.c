/* glasstcp — giving back the buffers of connections that have gone quiet.
 *
 * A connection's send and receive rings are allocated when the first byte needs them
 * (glass_ring_reserve) and, before this, were kept until close: a server with many keep-alive
 * connections that each carried one request held sndbuf + rcvbuf (256 KiB by default) per
 * connection while holding no data at all. Here a connection whose rings have both drained
 * (nothing to send or unacknowledged, nothing unread, nothing out of order) is noted in a FIFO
 * with the time; once it has then stayed quiet for cfg.ring_idle (no segment in or out), its
 * rings go, and so does RACK's block if nothing is in flight (RFC 8985 keeps no state that must
 * outlive an idle period; the next transmission starts a fresh one, as after a connection's
 * start). The next byte allocates them again, exactly as the first one did.
 *
 * Why a FIFO and not a timer per connection: every TCB byte is paid by every connection
 * (docs/performance.md), and a timer kind would add 8 to all of them. Entries are 16 bytes, in
 * a growing array that only connections that carried data and drained use; a TCB knows its
 * entry by a 32-bit sequence number (tcb->reclaim_seq) so that freeing the TCB can clear it.
 * Noting the same connection again while it is queued does nothing (GLASS_TF2_RECLAIMQ), so a
 * busy request/response connection costs one entry per cfg.ring_idle, not one per exchange.
 * If the array cannot grow, the connection is simply not noted (its rings stay, as before). */
#include "core/core.h"

/* The later of the last segment in and out: the connection has been quiet since. */
static glass_time_t quiet_since(const struct glass_tcb *tcb)
{
    return tcb->last_rcv > tcb->last_snd ? tcb->last_rcv : tcb->last_snd;
}

static struct glass_reclaim_ent *ent_at(struct glass_reclaimq *q, uint32_t seq)
{
    return &q->ent[(q->head + (seq - q->head_seq)) % q->cap];
}

/* Move the entries into an array of cap (>= len) entries; false if it cannot be had. */
static bool resize(struct glass_stack *st, struct glass_reclaimq *q, uint32_t cap)
{
    struct glass_reclaim_ent *e = glass_alloc(st, sizeof e[0] * cap);
    if (e == NULL)
        return false;
    for (uint32_t i = 0; i < q->len; i++)
        e[i] = q->ent[(q->head + i) % q->cap];
    glass_free(st, q->ent, sizeof e[0] * q->cap);
    q->ent = e;
    q->cap = cap;
    q->head = 0;
    return true;
}

static bool grow(struct glass_stack *st, struct glass_reclaimq *q)
{
    uint32_t cap = q->cap != 0 ? 2u * q->cap : GLASS_RECLAIM_MIN_CAP;
    return cap > q->cap && resize(st, q, cap);
}

/* Drop the entries of freed TCBs (renumbering the others), and give back what the array no
 * longer needs: so connections that drained and then closed (a server's whole load, in a
 * crr run) do not leave the FIFO holding memory for them until their time comes. Amortized
 * O(1): it runs when more than half of the entries are dead. */
static void compact(struct glass_stack *st, struct glass_reclaimq *q)
{
    uint32_t k = 0;
    /* All dead (a crr stack's one entry, forgotten): nothing to walk. */
    for (uint32_t i = 0; q->dead < q->len && i < q->len; i++) {
        struct glass_reclaim_ent e = q->ent[(q->head + i) % q->cap];
        if (e.tcb == NULL)
            continue;
        q->ent[(q->head + k) % q->cap] = e;
        e.tcb->reclaim_seq = q->head_seq + k;
        k++;
    }
    q->len = k;
    q->dead = 0;
    if (k == 0) {
        /* Empty. An array of the smallest size stays for the next connection to drain (in
         * crr, every connection noted and freed it on each stack); glass_reclaim_run, or the
         * last connection's going (glass_reclaim_trim), gives it back. */
        if (q->cap == GLASS_RECLAIM_MIN_CAP)
            q->head = 0;
        else
            glass_reclaim_free_all(st);
        return;
    }
    if (q->cap > GLASS_RECLAIM_MIN_CAP && k <= q->cap / 4u)
        (void)resize(st, q, q->cap / 2u); /* if that fails, the larger array stays */
}

static bool drained(const struct glass_tcb *tcb)
{
    return tcb->sb.len == 0 && tcb->rb.len == 0 && tcb->n_ooo == 0;
}

static bool holds_buffers(const struct glass_tcb *tcb)
{
    return tcb->sb.buf != NULL || tcb->rb.buf != NULL || tcb->x->rack != NULL;
}

/* note_at's entry, out of line: the tests before it, which most calls stop at, save no
 * registers. */
static __attribute__((noinline)) void enqueue(struct glass_stack *st, struct glass_tcb *tcb,
                                               glass_time_t at)
{
    struct glass_reclaimq *q = &st->reclaimq;
    if (q->len == q->cap && !grow(st, q))
        return;
    uint32_t seq = q->head_seq + q->len;
    q->len++;
    *ent_at(q, seq) = (struct glass_reclaim_ent){.tcb = tcb, .at = at};
    tcb->reclaim_seq = seq;
    tcb->flags2 |= GLASS_TF2_RECLAIMQ;
}

static void note_at(struct glass_stack *st, struct glass_tcb *tcb, glass_time_t at)
{
    if (st->cfg.ring_idle == 0 || (tcb->flags2 & GLASS_TF2_RECLAIMQ) || !drained(tcb) ||
        !holds_buffers(tcb))
        return;
    enqueue(st, tcb, at);
}

void glass_reclaim_note(struct glass_stack *st, struct glass_tcb *tcb)
{
    note_at(st, tcb, st->now);
}

void glass_reclaim_forget(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (!(tcb->flags2 & GLASS_TF2_RECLAIMQ))
        return;
    struct glass_reclaimq *q = &st->reclaimq;
    ent_at(q, tcb->reclaim_seq)->tcb = NULL;
    tcb->flags2 &= (uint8_t)~GLASS_TF2_RECLAIMQ;
    q->dead++;
    if (2u * q->dead > q->len)
        compact(st, q);
}

void glass_reclaim_run(struct glass_stack *st)
{
    struct glass_reclaimq *q = &st->reclaimq;
    glass_time_t idle = st->cfg.ring_idle;
    while (q->len > 0) {
        struct glass_reclaim_ent *e = &q->ent[q->head];
        if (e->tcb != NULL && st->now - e->at < idle)
            break; /* FIFO: every later entry is younger */
        struct glass_tcb *tcb = e->tcb;
        q->head = (q->head + 1u) % q->cap;
        q->head_seq++;
        q->len--;
        if (tcb == NULL) {
            q->dead--;
            continue; /* the TCB went first */
        }
        tcb->flags2 &= (uint8_t)~GLASS_TF2_RECLAIMQ;
        if (!drained(tcb) || (tcb->flags & GLASS_TF_IN_OUTQ))
            continue; /* busy again: noted anew when it drains */
        if (!holds_buffers(tcb))
            continue; /* given back meanwhile (TIME_WAIT: glass_tcb_release_idle) */
        glass_time_t quiet = quiet_since(tcb);
        if (st->now - quiet >= idle) {
            glass_tcb_release_idle(st, tcb); /* drained: both rings go (tcp_out.c) */
            glass_mib_inc(st, GLASS_MIB_GlassBufReclaimed);
        }
        else /* talked since: due ring_idle after that (the FIFO stays nearly in order: an
                entry behind a later one waits for it, at most ring_idle) */
            note_at(st, tcb, quiet);
    }
    if (q->len == 0 && q->ent != NULL) {
        glass_free(st, q->ent, sizeof q->ent[0] * q->cap);
        *q = (struct glass_reclaimq){0};
    }
}

glass_time_t glass_reclaim_next_deadline(const struct glass_stack *st)
{
    const struct glass_reclaimq *q = &st->reclaimq;
    if (q->len == 0)
        return GLASS_TIME_NEVER;
    const struct glass_reclaim_ent *e = &q->ent[q->head];
    return e->tcb == NULL ? st->now : e->at + st->cfg.ring_idle;
}

void glass_reclaim_trim(struct glass_stack *st)
{
    if (st->reclaimq.len == 0 && st->reclaimq.ent != NULL)
        glass_reclaim_free_all(st);
}

void glass_reclaim_free_all(struct glass_stack *st)
{
    glass_free(st, st->reclaimq.ent, sizeof st->reclaimq.ent[0] * st->reclaimq.cap);
    st->reclaimq = (struct glass_reclaimq){0};
}
