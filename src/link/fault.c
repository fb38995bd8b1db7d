/* glasstcp — the link impairment model. See fault.h. */
#include "link/fault.h"

#include <stdlib.h>

#define FAULT_REORDER_UNIT GLASS_MSEC(1) /* deadline unit of a reordered copy, at least */

static uint64_t mix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static glass_time_t tadd(glass_time_t a, glass_time_t b)
{
    return a > GLASS_TIME_NEVER - 1 - b ? GLASS_TIME_NEVER - 1 : a + b;
}

static bool prob_ok(double p)
{
    return p >= 0.0 && p <= 1.0; /* false for NaN */
}

int glass_fault_params_check(const struct glass_fault_params *p)
{
    if (!prob_ok(p->loss) || !prob_ok(p->dup) || !prob_ok(p->reorder) || !prob_ok(p->corrupt))
        return -1;
    if (p->reorder > 0.0 && p->reorder_max == 0)
        return -1;
    if (p->spike_every != 0 && p->spike_len >= p->spike_every)
        return -1;
    if (p->spike_every == GLASS_TIME_NEVER)
        return -1;
    return 0;
}

void glass_fault_dir_init(struct glass_fault_dir *d, uint64_t seed, unsigned from, unsigned to)
{
    d->busy_until = 0;
    d->last_arrive = 0;
    d->q_head = d->q_len = 0;
    uint64_t dir = ((uint64_t)from << 16) | (uint64_t)to;
    glass_rng_seed(&d->rng, mix64(seed ^ mix64(dir + UINT64_C(0x51a1c0de))));
    d->ready = true;
}

void glass_fault_dir_fini(struct glass_fault_dir *d)
{
    free(d->q);
    d->q = NULL;
    d->q_cap = d->q_len = d->q_head = 0;
    d->ready = false;
}

/* Uniform double in [0, 1). */
static double unit(struct glass_fault_dir *d)
{
    return (double)(glass_rng_next(&d->rng) >> 11) * (1.0 / 9007199254740992.0);
}

static bool chance(struct glass_fault_dir *d, double p)
{
    if (p <= 0.0)
        return false; /* no draw: a knob at 0 leaves the others' patterns as they were */
    if (p >= 1.0)
        return true;
    return unit(d) < p;
}

/* Uniform in [0, n] (n < 2^64 - 1); the modulo bias is far below anything observable. */
static uint64_t upto(struct glass_fault_dir *d, uint64_t n)
{
    return glass_rng_next(&d->rng) % (n + 1u);
}

glass_time_t glass_fault_tx_time(const struct glass_fault_params *p, size_t len)
{
    if (p->rate_bps == 0)
        return 0;
    /* ceil(len * 8 s / rate) in ns; len * 8e9 fits easily in 64 bits for any IPv4 packet. */
    uint64_t bits_ns = (uint64_t)len * 8u * GLASS_NSEC_PER_SEC;
    return (bits_ns + p->rate_bps - 1) / p->rate_bps;
}

glass_time_t glass_fault_spike(const struct glass_fault_params *p, glass_time_t t, bool *spiked)
{
    *spiked = false;
    if (p->spike_every == 0 || p->spike_len == 0)
        return t;
    uint64_t n = t / p->spike_every;
    uint64_t room = p->spike_every - p->spike_len; /* > 0 (checked) */
    uint64_t off = mix64(p->seed ^ mix64(n ^ UINT64_C(0x5b1ce5b1ce))) % (room + 1u);
    glass_time_t start = n * p->spike_every + off;
    if (t >= start && t - start < p->spike_len) {
        *spiked = true;
        return start + p->spike_len;
    }
    return t;
}

/* Forget queued packets that have left by `now`. */
static void queue_drain(struct glass_fault_dir *d, glass_time_t now)
{
    while (d->q_len > 0 && d->q[d->q_head] <= now) {
        d->q_head = d->q_head + 1 == d->q_cap ? 0 : d->q_head + 1;
        d->q_len--;
    }
}

static bool queue_push(struct glass_fault_dir *d, glass_time_t depart)
{
    if (d->q_len == d->q_cap) {
        uint32_t ncap = d->q_cap != 0 ? d->q_cap * 2 : 64u;
        if (ncap < d->q_cap)
            return false;
        glass_time_t *nq = malloc((size_t)ncap * sizeof *nq);
        if (nq == NULL)
            return false;
        for (uint32_t i = 0; i < d->q_len; i++)
            nq[i] = d->q[(d->q_head + i) % d->q_cap];
        free(d->q);
        d->q = nq;
        d->q_cap = ncap;
        d->q_head = 0;
    }
    d->q[(d->q_head + d->q_len) % d->q_cap] = depart;
    d->q_len++;
    return true;
}

void glass_fault_decide(struct glass_fault_dir *d, const struct glass_fault_params *p,
                        glass_time_t now, size_t len, uint32_t queue_limit,
                        struct glass_fault_verdict *v)
{
    v->fate = GLASS_FAULT_PASS;
    v->n_copies = 0;
    v->queue_depth = 0;

    /* 1. Random loss. */
    if (chance(d, p->loss)) {
        v->fate = GLASS_FAULT_LOSS;
        return;
    }

    /* 2. The bottleneck: FIFO, one packet at a time, tail drop. */
    glass_time_t depart = now;
    glass_time_t tx = glass_fault_tx_time(p, len);
    if (p->rate_bps != 0) {
        queue_drain(d, now);
        uint32_t limit = p->queue_pkts != 0 ? p->queue_pkts : queue_limit;
        if (d->q_len >= limit) {
            v->fate = GLASS_FAULT_QUEUE;
            v->queue_depth = d->q_len;
            return;
        }
        depart = tadd(d->busy_until > now ? d->busy_until : now, tx);
        if (!queue_push(d, depart)) {
            v->fate = GLASS_FAULT_NOMEM;
            return;
        }
        d->busy_until = depart;
        v->queue_depth = d->q_len;
    }

    /* 3. Duplication. */
    v->n_copies = chance(d, p->dup) ? 2u : 1u;

    /* 4. Each copy: delay, jitter (FIFO), spike, corruption, reordering. */
    for (unsigned c = 0; c < v->n_copies; c++) {
        struct glass_fault_copy *cp = &v->copy[c];
        glass_time_t at = tadd(depart, p->delay);
        if (p->jitter != 0)
            at = tadd(at, upto(d, p->jitter));
        if (at < d->last_arrive)
            at = d->last_arrive;
        at = glass_fault_spike(p, at, &cp->spiked);
        d->last_arrive = at;
        cp->arrive = at;
        cp->corrupt_bit = -1;
        if (len > 0 && chance(d, p->corrupt))
            cp->corrupt_bit = (int64_t)upto(d, (uint64_t)len * 8u - 1u);
        cp->reorder_k = 0;
        cp->reorder_deadline = at;
        if (chance(d, p->reorder)) {
            cp->reorder_k = 1u + (uint32_t)upto(d, (uint64_t)p->reorder_max - 1u);
            glass_time_t unit_t = tx > FAULT_REORDER_UNIT ? tx : FAULT_REORDER_UNIT;
            glass_time_t extra = unit_t > (GLASS_TIME_NEVER - 1) / cp->reorder_k
                                     ? GLASS_TIME_NEVER - 1
                                     : unit_t * cp->reorder_k;
            bool spiked2;
            cp->reorder_deadline = glass_fault_spike(p, tadd(at, extra), &spiked2);
        }
    }
}
