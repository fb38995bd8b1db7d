/* glasstcp — compact TIME-WAIT records: an orphaned connection's TIME-WAIT without its TCB.
 *
 * When an orphaned TCB is in TIME_WAIT and has nothing left to send, glass_reap_now() calls
 * glass_tw_compact_pending(), which copies what TIME-WAIT still needs into a 60-byte record
 * (core.h) and frees the TCB. The record is found by 4-tuple (its own hash of 32-bit
 * references), by local port (bind and ephemeral-port checks, demux.c) and in deadline order
 * (a doubly linked FIFO: every record waits the same 2 MSL from its last restart, so a restart
 * moves it to the tail and the head is always the earliest deadline; no timer wheel entry).
 * Input for a record is tcp_in.c's glass_tw_input(); its end is tcp_fsm.c's
 * glass_tw_set_closed(). Records live in slabs of GLASS_TW_SLAB slots; the slabs are freed when
 * the last record goes. If a slab cannot be allocated the TCB simply stays (a full-sized
 * TIME_WAIT, as before): nothing is lost. */
#include "core/core.h"
#include "util/assert.h"

#include <string.h>

static uint32_t ms_of(glass_time_t t)
{
    /* round up: a record never expires before its deadline */
    return (uint32_t)(t / GLASS_NSEC_PER_MSEC + (t % GLASS_NSEC_PER_MSEC != 0));
}

glass_time_t glass_tw_deadline(const struct glass_stack *st, const struct glass_tw *tw)
{
    uint64_t now_ms = st->now / GLASS_NSEC_PER_MSEC;
    int32_t ahead = (int32_t)(tw->expire_ms - (uint32_t)now_ms);
    if (ahead <= 0)
        return st->now;
    return (glass_time_t)(now_ms + (uint32_t)ahead) * GLASS_NSEC_PER_MSEC;
}

glass_time_t glass_tw_since(const struct glass_stack *st, const struct glass_tw *tw)
{
    return glass_tw_deadline(st, tw) - 2u * st->cfg.msl;
}

/* ---- slots ----------------------------------------------------------------------------- */

bool glass_tw_init(struct glass_stack *st)
{
    struct glass_twtab *t = &st->tw;
    /* Sized with the stack, like the TCBs' tables: one head per two TIME_WAIT entries the
     * table may hold (max_time_wait), at least 1024, so that a full table has chains of two
     * records on average. Every connect() looks its candidate 4-tuples up here (demux.c
     * port_suitable), and each record on a chain is a cache miss: with a head per four
     * entries (the TCBs' table's size under the default max_conns) crr's 1-second run spent
     * ~10% of its time in this lookup; half as many records per chain gave 5% more
     * connections per second (docs/performance.md). */
    uint32_t n = 1024u;
    while (n < (1u << 24) && n < st->cfg.max_time_wait / 2u)
        n *= 2u;
    /* Port chains: as many as the bind table has buckets. Only bind() walks one (and the
     * ephemeral-port search when a record came from a bound socket): the search otherwise
     * looks a record up by its 4-tuple (demux.c port_suitable). */
    uint32_t np = st->bhash_mask + 1u;
    t->hash = glass_zalloc(st, sizeof(uint32_t) * n);
    t->port = glass_zalloc(st, sizeof(uint32_t) * np);
    if (t->hash == NULL || t->port == NULL) {
        glass_free(st, t->hash, sizeof(uint32_t) * n);
        glass_free(st, t->port, sizeof(uint32_t) * np);
        t->hash = t->port = NULL;
        return false;
    }
    t->hash_mask = n - 1u;
    t->port_mask = np - 1u;
    return true;
}

static uint32_t slot_alloc(struct glass_stack *st)
{
    struct glass_twtab *t = &st->tw;
    if (t->free_ref == 0) {
        if (t->n_slab == (1u << GLASS_TW_REF_BITS) / GLASS_TW_SLAB - 1u)
            return 0; /* references must fit GLASS_TW_REF_BITS: the TCB stays (as above) */
        if (t->n_slab == t->slab_cap) {
            uint32_t cap = t->slab_cap == 0 ? 8u : t->slab_cap * 2u;
            struct glass_tw **s = glass_alloc(st, sizeof *s * cap);
            if (s == NULL)
                return 0;
            if (t->n_slab > 0)
                memcpy(s, t->slab, sizeof *s * t->n_slab);
            glass_free(st, t->slab, sizeof *s * t->slab_cap);
            t->slab = s;
            t->slab_cap = cap;
        }
        struct glass_tw *slab = glass_alloc(st, sizeof *slab * GLASS_TW_SLAB);
        if (slab == NULL)
            return 0;
        uint32_t base = t->n_slab * GLASS_TW_SLAB;
        t->slab[t->n_slab++] = slab;
        /* Thread the new slots onto the free list, lowest first. */
        for (uint32_t i = GLASS_TW_SLAB; i-- > 0;) {
            slab[i].flags = 0;
            slab[i].hnext = t->free_ref;
            t->free_ref = base + i + 1u;
        }
    }
    uint32_t ref = t->free_ref;
    struct glass_tw *tw = glass_tw_at(t, ref);
    t->free_ref = tw->hnext;
    memset(tw, 0, sizeof *tw);
    tw->flags = GLASS_TWF_LIVE;
    t->live++;
    return ref;
}

static void free_slabs(struct glass_stack *st)
{
    struct glass_twtab *t = &st->tw;
    for (uint32_t i = 0; i < t->n_slab; i++)
        glass_free(st, t->slab[i], sizeof(struct glass_tw) * GLASS_TW_SLAB);
    glass_free(st, t->slab, sizeof(struct glass_tw *) * t->slab_cap);
    t->slab = NULL;
    t->n_slab = t->slab_cap = 0;
    t->free_ref = 0;
}

static void slot_free(struct glass_stack *st, uint32_t ref)
{
    struct glass_twtab *t = &st->tw;
    struct glass_tw *tw = glass_tw_at(t, ref);
    tw->flags = 0;
    tw->hnext = t->free_ref;
    t->free_ref = ref;
    if (--t->live == 0) {
        free_slabs(st);           /* the last one gone: give the memory back */
        glass_blk_check_idle(st); /* and the cached blocks, if no TCB is left either */
    }
}

/* ---- links -------------------------------------------------------------------------------- */

/* A hash head holds the reference of the chain's first record in its low GLASS_TW_REF_BITS and,
 * in its top 8 bits, a filter of the chain: bit 24 + tag for each record on it, the tag being 3
 * other bits of the record's 4-tuple hash. A lookup whose bit is clear misses without reading
 * a record. That is the common case: every connect() looks up each 4-tuple it might create
 * (demux.c port_suitable), nearly always absent, and each record read on a chain is a cache
 * miss in a table of hundreds of thousands (crr). With two records per chain a miss reads one
 * in four times instead of always; removal walks the chain anyway and rebuilds the filter. */
#define REF_MASK ((1u << GLASS_TW_REF_BITS) - 1u)

static uint8_t tag_of(uint32_t hash)
{
    return (uint8_t)(hash >> 29); /* index bits are the low ones (hash_mask < 2^24) */
}

static uint32_t filter_bit(uint8_t tag)
{
    return UINT32_C(1) << (GLASS_TW_REF_BITS + tag);
}

static uint32_t tuple_hash(const struct glass_stack *st, const struct glass_tw *tw)
{
    return glass_tuple_hash(st, tw->laddr, tw->lport, tw->raddr, tw->rport);
}

static void fifo_append(struct glass_twtab *t, uint32_t ref)
{
    struct glass_tw *tw = glass_tw_at(t, ref);
    tw->fnext = 0;
    tw->fprev = t->tail;
    if (t->tail != 0)
        glass_tw_at(t, t->tail)->fnext = ref;
    else
        t->head = ref;
    t->tail = ref;
}

static void fifo_unlink(struct glass_twtab *t, uint32_t ref)
{
    struct glass_tw *tw = glass_tw_at(t, ref);
    if (tw->fprev != 0)
        glass_tw_at(t, tw->fprev)->fnext = tw->fnext;
    else
        t->head = tw->fnext;
    if (tw->fnext != 0)
        glass_tw_at(t, tw->fnext)->fprev = tw->fprev;
    else
        t->tail = tw->fprev;
    tw->fnext = tw->fprev = 0;
}

static void link_all(struct glass_stack *st, uint32_t ref)
{
    struct glass_twtab *t = &st->tw;
    struct glass_tw *tw = glass_tw_at(t, ref);
    uint32_t hash = tuple_hash(st, tw);
    uint32_t *h = &t->hash[hash & t->hash_mask];
    tw->tag = tag_of(hash);
    tw->hnext = *h & REF_MASK;
    *h = (*h & ~REF_MASK) | filter_bit(tw->tag) | ref;
    uint32_t *p = &t->port[tw->lport & t->port_mask];
    tw->bprev = 0;
    tw->bnext = *p;
    if (*p != 0)
        glass_tw_at(t, *p)->bprev = ref;
    *p = ref;
    fifo_append(t, ref);
}

static void unlink_all(struct glass_stack *st, uint32_t ref)
{
    struct glass_twtab *t = &st->tw;
    struct glass_tw *tw = glass_tw_at(t, ref);
    /* One walk of the chain: take the record out and rebuild the filter from the others. */
    uint32_t *h = &t->hash[tuple_hash(st, tw) & t->hash_mask];
    uint32_t first = *h & REF_MASK, filter = 0;
    bool found = false;
    for (uint32_t *pp = &first; *pp != 0;) {
        struct glass_tw *p = glass_tw_at(t, *pp);
        if (*pp == ref) {
            *pp = p->hnext;
            found = true;
            continue;
        }
        filter |= filter_bit(p->tag);
        pp = &p->hnext;
    }
    GLASS_ASSERT(found); /* it was on this chain */
    (void)found;
    *h = filter | first;
    if (tw->bprev != 0)
        glass_tw_at(t, tw->bprev)->bnext = tw->bnext;
    else
        t->port[tw->lport & t->port_mask] = tw->bnext;
    if (tw->bnext != 0)
        glass_tw_at(t, tw->bnext)->bprev = tw->bprev;
    fifo_unlink(t, ref);
}

/* ---- from a TCB ----------------------------------------------------------------------------- */

bool glass_tw_candidate(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (tcb->state != GLASS_TCP_TIME_WAIT || !(tcb->flags & GLASS_TF_ORPHAN) ||
        (tcb->flags & GLASS_TF_REAP) || tcb->fd >= 0)
        return false;
    if (tcb->flags & GLASS_TF_TWQ)
        return true;
    tcb->flags |= GLASS_TF_TWQ;
    tcb->rnext = st->twq;
    st->twq = tcb;
    if (!(tcb->flags & (GLASS_TF_IN_OUTQ | GLASS_TF_ACKNOW)))
        st->twq_ready = true; /* else the output that clears them says so */
    /* The record will go to the front of its port chain (link_all), which writes the current
     * first record: a cache miss, started now so that it overlaps sending the last ACK. */
    const struct glass_twtab *t = &st->tw;
    uint32_t first = t->port != NULL ? t->port[tcb->local.port & t->port_mask] : 0;
    if (first != 0)
        GLASS_PREFETCH_W(glass_tw_at(t, first));
    return true;
}

void glass_tw_file_timers(struct glass_stack *st)
{
    /* glass_timer_reschedule leaves an entry already filed under its earliest timer as it is. */
    for (struct glass_tcb *tcb = st->twq; tcb != NULL; tcb = tcb->rnext)
        glass_timer_reschedule(st, tcb);
}

void glass_tw_forget(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (!(tcb->flags & GLASS_TF_TWQ))
        return;
    for (struct glass_tcb **pp = &st->twq; *pp != NULL; pp = &(*pp)->rnext) {
        if (*pp == tcb) {
            *pp = tcb->rnext;
            break;
        }
    }
    tcb->rnext = NULL;
    tcb->flags &= ~GLASS_TF_TWQ;
}

/* Copy tcb's TIME-WAIT into a new record; false (tcb untouched) if there is no memory. */
static bool compact(struct glass_stack *st, struct glass_tcb *tcb)
{
    uint32_t ref = slot_alloc(st);
    if (ref == 0)
        return false;
    struct glass_tw *tw = glass_tw_at(&st->tw, ref);
    tw->laddr = tcb->local.addr;
    tw->lport = tcb->local.port;
    tw->raddr = tcb->remote.addr;
    tw->rport = tcb->remote.port;
    tw->snd_nxt = tcb->snd_max.v;
    tw->rcv_nxt = tcb->rcv_nxt.v;
    tw->ts_recent = tcb->ts_recent;
    tw->ts_off = tcb->ts_off;
    tw->expire_ms = ms_of(tcb->timer[GLASS_TT_TIMEWAIT]);
    tw->id = tcb->id;
    tw->win = glass_tcp_window_field(st, tcb);
    if (tcb->flags & GLASS_TF_TS_OK)
        tw->flags |= GLASS_TWF_TS_OK;
    if (tcb->flags & GLASS_TF_REUSEADDR)
        tw->flags |= GLASS_TWF_REUSEADDR;
    if (tcb->flags & GLASS_TF_BOUND) {
        tw->flags |= GLASS_TWF_BOUND;
        st->tw.n_bound++;
    }
    link_all(st, ref);
    return true;
}

void glass_tw_compact_pending(struct glass_stack *st)
{
    struct glass_tcb **pp = &st->twq;
    while (*pp != NULL) {
        struct glass_tcb *tcb = *pp;
        /* Its last ACK (of the peer's FIN) is still to be pulled: wait for the next call. */
        if (tcb->flags & (GLASS_TF_IN_OUTQ | GLASS_TF_ACKNOW)) {
            pp = &tcb->rnext;
            continue;
        }
        *pp = tcb->rnext;
        tcb->rnext = NULL;
        tcb->flags &= ~GLASS_TF_TWQ;
        if (tcb->state != GLASS_TCP_TIME_WAIT)
            continue;
        if (!compact(st, tcb)) {
            glass_timer_reschedule(st, tcb); /* no memory: the TCB keeps TIME-WAIT itself */
            continue;
        }
        tcb->flags |= GLASS_TF_TW_MOVED;
        glass_tcb_reap(st, tcb);
    }
}

/* ---- lookups and actions ------------------------------------------------------------------ */

uint32_t glass_tw_find(const struct glass_stack *st, uint32_t laddr, uint16_t lport,
                       uint32_t raddr, uint16_t rport)
{
    if (st->tw.live == 0)
        return 0;
    uint32_t hash = glass_tuple_hash(st, laddr, lport, raddr, rport);
    uint32_t head = st->tw.hash[hash & st->tw.hash_mask];
    if (!(head & filter_bit(tag_of(hash))))
        return 0; /* no record on the chain has this tuple's tag */
    for (uint32_t ref = head & REF_MASK; ref != 0;) {
        const struct glass_tw *tw = glass_tw_at(&st->tw, ref);
        if (tw->lport == lport && tw->rport == rport && tw->laddr == laddr && tw->raddr == raddr)
            return ref;
        ref = tw->hnext;
    }
    return 0;
}

uint32_t glass_tw_port_first(const struct glass_stack *st, uint16_t port)
{
    return st->tw.live == 0 ? 0 : st->tw.port[port & st->tw.port_mask];
}

void glass_tw_restart(struct glass_stack *st, uint32_t ref)
{
    struct glass_tw *tw = glass_tw_at(&st->tw, ref);
    tw->expire_ms = ms_of(st->now + 2u * st->cfg.msl);
    fifo_unlink(&st->tw, ref);
    fifo_append(&st->tw, ref); /* the latest deadline of all: the tail */
}

void glass_tw_send_ack(struct glass_stack *st, uint32_t ref)
{
    const struct glass_tw *tw = glass_tw_at(&st->tw, ref);
    struct glass_tcp_repr r = {
        .src_port = tw->lport,
        .dst_port = tw->rport,
        .seq = tw->snd_nxt,
        .ack = tw->rcv_nxt,
        .flags = GLASS_TH_ACK,
        .win = tw->win,
        .wscale = -1,
    };
    if (tw->flags & GLASS_TWF_TS_OK) {
        r.has_ts = true;
        r.ts_val = glass_tcp_ts_clock(st, tw->ts_off);
        r.ts_ecr = tw->ts_recent;
    }
    (void)glass_tcp_xmit_raw(st, tw->laddr, tw->raddr, &r); /* no room: the peer resends */
}

void glass_tw_release(struct glass_stack *st, uint32_t ref)
{
    if (glass_tw_at(&st->tw, ref)->flags & GLASS_TWF_BOUND)
        st->tw.n_bound--;
    unlink_all(st, ref);
    slot_free(st, ref);
}

void glass_tw_expire(struct glass_stack *st)
{
    while (st->tw.head != 0 && glass_tw_deadline(st, glass_tw_at(&st->tw, st->tw.head)) <= st->now)
        glass_tw_set_closed(st, st->tw.head, GLASS_CAUSE_TIMEOUT_2MSL);
}

glass_time_t glass_tw_next_deadline(const struct glass_stack *st)
{
    if (st->tw.head == 0)
        return GLASS_TIME_NEVER;
    return glass_tw_deadline(st, glass_tw_at(&st->tw, st->tw.head));
}

void glass_tw_free_all(struct glass_stack *st)
{
    struct glass_twtab *t = &st->tw;
    free_slabs(st);
    glass_free(st, t->hash, sizeof(uint32_t) * (t->hash_mask + 1u));
    glass_free(st, t->port, sizeof(uint32_t) * (t->port_mask + 1u));
    memset(t, 0, sizeof *t);
}
