/* glasstcp — the timer wheel: one entry per TCB holding its earliest deadline.
 *
 * A hashed wheel of GLASS_WHEEL_SLOTS slots of one millisecond (Varghese & Lauck) for deadlines
 * within one revolution of the cursor: an entry sits in slot (deadline_tick % SLOTS) and fires
 * when the wheel passes that slot. Deadlines further out (TIME_WAIT's 2MSL, keepalive, the
 * FIN_WAIT_2 timeout) wait in a binary min-heap and move into their slot once the cursor is
 * within a revolution of them (the two-level scheme of Linux's timer wheel levels, with a heap
 * for the outer level): so the earliest deadline is the first busy slot's or the heap's top,
 * and thousands of TIME_WAIT entries cost nothing to find it. Per-TCB deadlines live in
 * tcb->timer[] (FreeBSD t_timers[]); the wheel only holds their minimum, so arming and
 * cancelling a timer is O(1) near and O(log n) far. If the heap cannot grow (allocation
 * failure), a far entry goes into its slot anyway and is found by a full scan. */
#include "core/core.h"
#include "util/assert.h"

#include <string.h>

static uint64_t tick_of(glass_time_t t)
{
    /* round up: an entry never fires before its deadline (one division, unless t + TICK - 1
     * would wrap) */
    if (t > UINT64_MAX - (GLASS_WHEEL_TICK - 1u))
        return t / GLASS_WHEEL_TICK + (t % GLASS_WHEEL_TICK != 0);
    return (t + (GLASS_WHEEL_TICK - 1u)) / GLASS_WHEEL_TICK;
}

/* ---- the far heap (min-heap on deadline; far_idx = 1 + position) ---- */

static void far_put(struct glass_wheel *w, uint32_t i, struct glass_wheel_entry *e)
{
    w->far[i] = e;
    e->far_idx = i + 1u;
}

static void far_up(struct glass_wheel *w, uint32_t i)
{
    struct glass_wheel_entry *e = w->far[i];
    while (i > 0) {
        uint32_t p = (i - 1u) / 2u;
        if (w->far[p]->deadline <= e->deadline)
            break;
        far_put(w, i, w->far[p]);
        i = p;
    }
    far_put(w, i, e);
}

static void far_down(struct glass_wheel *w, uint32_t i)
{
    struct glass_wheel_entry *e = w->far[i];
    for (;;) {
        uint32_t c = 2u * i + 1u;
        if (c >= w->far_len)
            break;
        if (c + 1u < w->far_len && w->far[c + 1u]->deadline < w->far[c]->deadline)
            c++;
        if (w->far[c]->deadline >= e->deadline)
            break;
        far_put(w, i, w->far[c]);
        i = c;
    }
    far_put(w, i, e);
}

static bool far_push(struct glass_stack *st, struct glass_wheel_entry *e)
{
    struct glass_wheel *w = &st->wheel;
    if (w->far_len == w->far_cap) {
        uint32_t cap = w->far_cap != 0 ? 2u * w->far_cap : GLASS_FAR_MIN_CAP;
        struct glass_wheel_entry **a = glass_alloc(st, sizeof a[0] * cap);
        if (a == NULL)
            return false;
        if (w->far_len > 0)
            memcpy(a, w->far, sizeof a[0] * w->far_len);
        glass_free(st, w->far, sizeof a[0] * w->far_cap);
        w->far = a;
        w->far_cap = cap;
    }
    w->far[w->far_len] = e;
    w->far_len++;
    far_up(w, w->far_len - 1u);
    return true;
}

static void far_remove(struct glass_stack *st, struct glass_wheel_entry *e)
{
    struct glass_wheel *w = &st->wheel;
    uint32_t i = e->far_idx - 1u;
    e->far_idx = 0;
    w->far_len--;
    if (w->far_len == 0) {
        /* Empty: give the array back, so an idle stack holds no more than a new one. */
        glass_free(st, w->far, sizeof w->far[0] * w->far_cap);
        w->far = NULL;
        w->far_cap = 0;
        return;
    }
    if (i == w->far_len)
        return;
    struct glass_wheel_entry *last = w->far[w->far_len];
    far_put(w, i, last);
    far_up(w, i);
    far_down(w, last->far_idx - 1u);
}

/* ---- slots ---- */

static void advance_cursor(struct glass_stack *st, uint64_t tick);

/* The cursor moves when the wheel runs (glass_wheel_run). A stack whose timers are all
 * cancelled before they are due (the retransmission timer of a connection that gets its ACKs)
 * never runs it, and its cursor falls behind the clock: a deadline one RTO from now would then
 * go to the far heap. Bring the cursor up to now before filing such a deadline, but not past
 * the earliest filed one (which must still be found in its slot). */
static void catch_up(struct glass_stack *st)
{
    struct glass_wheel *w = &st->wheel;
    uint64_t target = st->now / GLASS_WHEEL_TICK;
    if (target <= w->tick)
        return;
    if (w->count > 0) {
        glass_time_t first = glass_wheel_next(st);
        if (first / GLASS_WHEEL_TICK < target)
            target = first / GLASS_WHEEL_TICK;
    }
    if (target > w->tick)
        advance_cursor(st, target);
}

/* Put e in the slot of tick tk (within a revolution of the cursor, or one the far heap could
 * not take). */
static void slot_put(struct glass_wheel *w, struct glass_wheel_entry *e, uint64_t tk)
{
    uint32_t s = (uint32_t)(tk % GLASS_WHEEL_SLOTS);
    e->slot = (uint16_t)s;
    e->next = w->slot[s];
    if (e->next != NULL)
        e->next->pprev = &e->next;
    w->slot[s] = e;
    e->pprev = &w->slot[s];
    w->bitmap[s / 64u] |= UINT64_C(1) << (s % 64u);
}

static void note_added(struct glass_wheel *w, const struct glass_wheel_entry *e)
{
    w->count++;
    if (!w->min_dirty && e->deadline < w->cached_min)
        w->cached_min = e->deadline;
}

/* glass_wheel_insert for a tick beyond the cursor's revolution: out of line, so that the near
 * case saves no registers. */
static __attribute__((noinline)) void insert_far(struct glass_stack *st,
                                                  struct glass_wheel_entry *e, uint64_t tk)
{
    struct glass_wheel *w = &st->wheel;
    catch_up(st);
    if (tk < w->tick)
        tk = w->tick; /* already due: the next run fires it */
    if (tk < w->tick + GLASS_WHEEL_SLOTS || !far_push(st, e))
        slot_put(w, e, tk);
    note_added(w, e);
}

void glass_wheel_insert(struct glass_stack *st, struct glass_wheel_entry *e)
{
    struct glass_wheel *w = &st->wheel;
    uint64_t tk = tick_of(e->deadline);
    if (tk >= w->tick + GLASS_WHEEL_SLOTS) {
        insert_far(st, e, tk);
        return;
    }
    if (tk < w->tick)
        tk = w->tick; /* already due: the next run fires it */
    slot_put(w, e, tk);
    note_added(w, e);
}

/* An entry left the wheel: the cached minimum holds unless the entry may have been it (an
 * entry due later than the minimum leaves it as it is: a re-armed retransmission timer behind
 * an earlier one costs no new search). */
static void note_removed(struct glass_wheel *w, const struct glass_wheel_entry *e)
{
    if (e->deadline <= w->cached_min)
        w->min_dirty = true;
}

/* wheel_unlink of an entry in the far heap, out of line (as insert_far). */
static __attribute__((noinline)) void unlink_far(struct glass_stack *st,
                                                  struct glass_wheel_entry *e)
{
    struct glass_wheel *w = &st->wheel;
    far_remove(st, e);
    w->count--;
    note_removed(w, e);
}

static void wheel_unlink(struct glass_stack *st, struct glass_wheel_entry *e)
{
    struct glass_wheel *w = &st->wheel;
    if (e->far_idx != 0) {
        unlink_far(st, e);
        return;
    }
    if (e->pprev == NULL)
        return;
    *e->pprev = e->next;
    if (e->next != NULL)
        e->next->pprev = e->pprev;
    if (w->slot[e->slot] == NULL)
        w->bitmap[e->slot / 64u] &= ~(UINT64_C(1) << (e->slot % 64u));
    e->next = NULL;
    e->pprev = NULL;
    w->count--;
    note_removed(w, e);
}

void glass_wheel_remove(struct glass_stack *st, struct glass_tcb *tcb)
{
    wheel_unlink(st, &tcb->wheel);
}

/* Is tcb's wheel entry filed (in a slot or the far heap)? Then its deadline is at most every
 * one of tcb->timer[]: the minimum when it was filed, or below it once a timer fired (set to
 * GLASS_TIME_NEVER in place) until the entry is filed again. */
static bool filed(const struct glass_tcb *tcb)
{
    return tcb->wheel.pprev != NULL || tcb->wheel.far_idx != 0;
}

_Static_assert(GLASS_TT_COUNT <= 8, "glass_wheel_entry.armed has a bit per timer");

/* The earliest of tcb's timers: only those armed may be below GLASS_TIME_NEVER. */
static glass_time_t timer_min(const struct glass_tcb *tcb)
{
    glass_time_t min = GLASS_TIME_NEVER;
    for (unsigned m = tcb->wheel.armed; m != 0; m &= m - 1u) {
        glass_time_t t = tcb->timer[__builtin_ctz(m)];
        if (t < min)
            min = t;
    }
    return min;
}

/* Re-file tcb under the minimum of its timers. Out of line: the common cases of set and clear
 * (below) then save no registers. */
__attribute__((noinline)) void glass_timer_reschedule(struct glass_stack *st,
                                                      struct glass_tcb *tcb)
{
    glass_time_t min = timer_min(tcb);
    /* Unlink only a filed entry: most re-filings start from none (a retransmission timer
     * armed after the ACK that cleared the last one), and the call would find that out. */
    if (filed(tcb)) {
        if (tcb->wheel.deadline == min)
            return;
        wheel_unlink(st, &tcb->wheel);
    }
    if (min == GLASS_TIME_NEVER)
        return;
    tcb->wheel.deadline = min;
    glass_wheel_insert(st, &tcb->wheel);
}

/* A filed entry's deadline is at most every timer of its TCB (the minimum when it was filed;
 * only a fired timer, set to NEVER in place, can since have left it behind), so the shortcuts
 * below are what glass_timer_reschedule would do. */
void glass_timer_set_slow(struct glass_stack *st, struct glass_tcb *tcb, enum glass_timer_kind k,
                          glass_time_t at)
{
    struct glass_wheel_entry *e = &tcb->wheel;
    glass_time_t old = tcb->timer[k];
    unsigned others = e->armed & ~(1u << k);
    tcb->timer[k] = at;
    e->armed = (uint8_t)(others | 1u << k);
    if (filed(tcb)) {
        /* Neither the old value nor the new one is (or becomes) the minimum: it stays. */
        if (old > e->deadline && at >= e->deadline)
            return;
        if (at < e->deadline) { /* the new minimum */
            wheel_unlink(st, e);
            e->deadline = at;
            glass_wheel_insert(st, e);
            return;
        }
    } else if (others == 0) {
        /* No other timer armed, nothing filed: at is the minimum. */
        if (at != GLASS_TIME_NEVER) {
            e->deadline = at;
            glass_wheel_insert(st, e);
        }
        return;
    }
    glass_timer_reschedule(st, tcb);
}

/* Timer k is armed (glass_timer_clear tested it). */
void glass_timer_clear_armed(struct glass_stack *st, struct glass_tcb *tcb,
                             enum glass_timer_kind k)
{
    glass_time_t old = tcb->timer[k];
    tcb->timer[k] = GLASS_TIME_NEVER;
    tcb->wheel.armed = (uint8_t)(tcb->wheel.armed & ~(1u << k));
    if (filed(tcb)) {
        if (old > tcb->wheel.deadline)
            return; /* another timer is earlier: the minimum has not changed */
        if (tcb->wheel.armed == 0) { /* none left: the minimum is NEVER */
            wheel_unlink(st, &tcb->wheel);
            return;
        }
    }
    glass_timer_reschedule(st, tcb);
}

void glass_timer_set_unfiled(struct glass_tcb *tcb, enum glass_timer_kind k, glass_time_t at)
{
    GLASS_ASSERT(!filed(tcb));
    tcb->timer[k] = at;
    tcb->wheel.armed = (uint8_t)(tcb->wheel.armed | 1u << k);
}

void glass_timer_clear_all(struct glass_stack *st, struct glass_tcb *tcb)
{
    for (int k = 0; k < GLASS_TT_COUNT; k++)
        tcb->timer[k] = GLASS_TIME_NEVER;
    tcb->wheel.armed = 0;
    if (filed(tcb)) /* a TCB reaped with no timer running: no call */
        wheel_unlink(st, &tcb->wheel);
}

/* The first busy slot at or after position i of the revolution that starts at tick `base`
 * (slot (base + i) % SLOTS), as that offset; GLASS_WHEEL_SLOTS if there is none. A word of the
 * bitmap at a time: an empty stretch of the wheel costs SLOTS / 64 reads, not SLOTS. */
static uint32_t busy_from(const struct glass_wheel *w, uint64_t base, uint32_t i)
{
    while (i < GLASS_WHEEL_SLOTS) {
        uint32_t s = (uint32_t)((base + i) % GLASS_WHEEL_SLOTS);
        uint64_t bits = w->bitmap[s / 64u] >> (s % 64u); /* slots s .. the word's end */
        if (bits != 0)
            return i + (uint32_t)__builtin_ctzll(bits);
        i += 64u - s % 64u; /* to the next word's first slot */
    }
    return GLASS_WHEEL_SLOTS;
}

/* The earliest deadline in the wheel: the far heap's top, or the first busy slot from the
 * cursor holding an entry due within this revolution (entries of a later revolution are in a
 * slot only if the heap could not grow: then, if no slot has a near entry, a full scan).
 * Cached until the wheel changes. */
glass_time_t glass_wheel_next(struct glass_stack *st)
{
    struct glass_wheel *w = &st->wheel;
    if (!w->min_dirty)
        return w->cached_min;
    glass_time_t best = GLASS_TIME_NEVER;
    if (w->count > w->far_len) {
        uint64_t horizon = w->tick + GLASS_WHEEL_SLOTS;
        for (uint32_t i = busy_from(w, w->tick, 0);
             i < GLASS_WHEEL_SLOTS && best == GLASS_TIME_NEVER; i = busy_from(w, w->tick, i + 1u)) {
            uint32_t s = (uint32_t)((w->tick + i) % GLASS_WHEEL_SLOTS);
            for (struct glass_wheel_entry *e = w->slot[s]; e != NULL; e = e->next)
                if (tick_of(e->deadline) < horizon && e->deadline < best)
                    best = e->deadline;
        }
        if (best == GLASS_TIME_NEVER) {
            for (uint32_t s = 0; s < GLASS_WHEEL_SLOTS; s++)
                for (struct glass_wheel_entry *e = w->slot[s]; e != NULL; e = e->next)
                    if (e->deadline < best)
                        best = e->deadline;
        }
    }
    if (w->far_len > 0 && w->far[0]->deadline < best)
        best = w->far[0]->deadline;
    w->cached_min = best;
    w->min_dirty = false;
    return best;
}

/* Move the cursor to tick and bring the far entries now within a revolution into their slots. */
static void advance_cursor(struct glass_stack *st, uint64_t tick)
{
    struct glass_wheel *w = &st->wheel;
    w->tick = tick;
    while (w->far_len > 0 && tick_of(w->far[0]->deadline) < w->tick + GLASS_WHEEL_SLOTS) {
        struct glass_wheel_entry *e = w->far[0];
        far_remove(st, e);
        w->count--;
        glass_wheel_insert(st, e); /* near now: into its slot (min unchanged) */
    }
}

/* Fire every entry due at or before now. Entries whose slot the cursor passes but which are
 * due in a later revolution stay where they are. */
void glass_wheel_run(struct glass_stack *st, glass_time_t now)
{
    struct glass_wheel *w = &st->wheel;
    /* w->tick is the lowest tick that may still hold due entries; the slot of the current
     * tick is scanned again next time (entries later in the same millisecond). */
    uint64_t target = now / GLASS_WHEEL_TICK;
    if (target < w->tick)
        target = w->tick;
    if (w->count == 0 || glass_wheel_next(st) > now) {
        advance_cursor(st, target);
        return;
    }
    uint64_t start = w->tick;
    uint64_t span = target + 1u - start;
    uint32_t nslots = span >= GLASS_WHEEL_SLOTS ? GLASS_WHEEL_SLOTS : (uint32_t)span;
    /* Move the cursor first: timers re-armed while firing, if already due, land in the
     * target slot, which this pass scans last; far entries now due come into their slots. */
    advance_cursor(st, target);
    for (uint32_t i = busy_from(w, start, 0); i < nslots; i = busy_from(w, start, i + 1u)) {
        uint32_t s = (uint32_t)((start + i) % GLASS_WHEEL_SLOTS);
        /* One due entry at a time, rescanning from the slot head: firing may arm or cancel
         * timers of any TCB, including others in this slot. Non-due entries (later
         * revolutions) are skipped over. */
        for (;;) {
            struct glass_wheel_entry *e = w->slot[s];
            while (e != NULL && e->deadline > now)
                e = e->next;
            if (e == NULL)
                break;
            wheel_unlink(st, e);
            glass_tcp_timer_fire(st, GLASS_TCB_OF(e, wheel), now);
        }
    }
}
