/* glasstcp — the timer wheel: one entry per TCB holding its earliest deadline.
 *
 * A hashed wheel of GLASS_WHEEL_SLOTS slots of one millisecond (Varghese & Lauck): an entry sits
 * in slot (deadline_tick % SLOTS) whatever its distance, and fires when the wheel passes that
 * slot with the deadline due. Per-TCB deadlines live in tcb->timer[] (FreeBSD t_timers[]); the
 * wheel only holds their minimum, so arming and cancelling a timer is O(1). */
#include "core/core.h"
#include "util/assert.h"

static uint64_t tick_of(glass_time_t t)
{
    /* round up: an entry never fires before its deadline */
    return t / GLASS_WHEEL_TICK + (t % GLASS_WHEEL_TICK != 0);
}

static void wheel_insert(struct glass_stack *st, struct glass_wheel_entry *e)
{
    struct glass_wheel *w = &st->wheel;
    uint64_t tk = tick_of(e->deadline);
    if (tk < w->tick)
        tk = w->tick; /* already due: the next run fires it */
    uint32_t s = (uint32_t)(tk % GLASS_WHEEL_SLOTS);
    e->slot = s;
    e->next = w->slot[s];
    if (e->next != NULL)
        e->next->pprev = &e->next;
    w->slot[s] = e;
    e->pprev = &w->slot[s];
    w->bitmap[s / 64u] |= UINT64_C(1) << (s % 64u);
    w->count++;
    if (!w->min_dirty && e->deadline < w->cached_min)
        w->cached_min = e->deadline;
}

static void wheel_unlink(struct glass_stack *st, struct glass_wheel_entry *e)
{
    struct glass_wheel *w = &st->wheel;
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
    w->min_dirty = true;
}

void glass_wheel_remove(struct glass_stack *st, struct glass_tcb *tcb)
{
    wheel_unlink(st, &tcb->wheel);
}

/* Re-file tcb under the minimum of its timers. */
void glass_timer_reschedule(struct glass_stack *st, struct glass_tcb *tcb)
{
    glass_time_t min = GLASS_TIME_NEVER;
    for (int k = 0; k < GLASS_TT_COUNT; k++)
        if (tcb->timer[k] < min)
            min = tcb->timer[k];
    if (tcb->wheel.pprev != NULL && tcb->wheel.deadline == min)
        return;
    wheel_unlink(st, &tcb->wheel);
    if (min == GLASS_TIME_NEVER)
        return;
    tcb->wheel.deadline = min;
    wheel_insert(st, &tcb->wheel);
}

void glass_timer_set(struct glass_stack *st, struct glass_tcb *tcb, enum glass_timer_kind k,
                     glass_time_t at)
{
    tcb->timer[k] = at;
    glass_timer_reschedule(st, tcb);
}

void glass_timer_clear(struct glass_stack *st, struct glass_tcb *tcb, enum glass_timer_kind k)
{
    if (tcb->timer[k] == GLASS_TIME_NEVER)
        return;
    tcb->timer[k] = GLASS_TIME_NEVER;
    glass_timer_reschedule(st, tcb);
}

void glass_timer_clear_all(struct glass_stack *st, struct glass_tcb *tcb)
{
    for (int k = 0; k < GLASS_TT_COUNT; k++)
        tcb->timer[k] = GLASS_TIME_NEVER;
    wheel_unlink(st, &tcb->wheel);
}

/* The earliest deadline in the wheel. Scans the non-empty slots from the cursor for one
 * revolution: the first slot with an entry due within that revolution holds the minimum;
 * entries further out are found by a full scan only if no such slot exists. Cached until the
 * wheel changes. */
glass_time_t glass_wheel_next(struct glass_stack *st)
{
    struct glass_wheel *w = &st->wheel;
    if (!w->min_dirty)
        return w->cached_min;
    glass_time_t best = GLASS_TIME_NEVER;
    if (w->count > 0) {
        uint64_t horizon = w->tick + GLASS_WHEEL_SLOTS;
        for (uint32_t i = 0; i < GLASS_WHEEL_SLOTS && best == GLASS_TIME_NEVER; i++) {
            uint32_t s = (uint32_t)((w->tick + i) % GLASS_WHEEL_SLOTS);
            if (!(w->bitmap[s / 64u] & (UINT64_C(1) << (s % 64u))))
                continue;
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
    w->cached_min = best;
    w->min_dirty = false;
    return best;
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
        w->tick = target;
        return;
    }
    uint64_t start = w->tick;
    uint64_t span = target + 1u - start;
    uint32_t nslots = span >= GLASS_WHEEL_SLOTS ? GLASS_WHEEL_SLOTS : (uint32_t)span;
    /* Move the cursor first: timers re-armed while firing, if already due, land in the
     * target slot, which this pass scans last. */
    w->tick = target;
    for (uint32_t i = 0; i < nslots; i++) {
        uint32_t s = (uint32_t)((start + i) % GLASS_WHEEL_SLOTS);
        if (!(w->bitmap[s / 64u] & (UINT64_C(1) << (s % 64u))))
            continue;
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
