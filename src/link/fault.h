/* glasstcp — the link impairment model (private to the library): what happens to one packet
 * on one direction of a simulated link. Pure decisions, no packet storage: the simnet asks
 * glass_fault_decide() for a verdict and applies it to its glass_sim_link.
 *
 * Per direction, in this order, each step drawing from the direction's PRNG only when its knob
 * is non-zero (a knob left at 0 costs no draw, so the other knobs give the same pattern with or
 * without it; the two directions have separate PRNGs):
 *
 *   1. loss         with probability loss the packet is dropped (before the queue)
 *   2. bottleneck   with rate_bps: the packet waits behind the packets still queued or being
 *                   serialized, then takes len*8/rate_bps to leave; if queue_pkts are already
 *                   there it is tail-dropped
 *   3. duplication  with probability dup a second copy leaves right after the first
 *   4. per copy:    arrival = departure + delay + uniform[0, jitter], never before the previous
 *                   copy of the direction (jitter does not reorder); if it falls inside a delay
 *                   spike it is pushed to the spike's end; with probability corrupt one random
 *                   bit is chosen to flip; with probability reorder it is marked to be overtaken
 *                   by k = 1..reorder_max later copies (the simnet does the overtaking), with a
 *                   deadline k * max(1 ms, serialization time) after its arrival.
 *
 * Delay spikes are one schedule for the whole link: in each window [n, n+1) * spike_every one
 * stall of spike_len starts at a point drawn from (seed, n) alone (and ends inside the
 * window), so the schedule does not depend on the traffic. This file includes only util/ and
 * <glass/types.h>. */
#ifndef GLASS_LINK_FAULT_H
#define GLASS_LINK_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/rng.h"

#include <glass/types.h>

struct glass_fault_params {
    uint64_t seed;
    glass_time_t delay;
    double loss, dup, reorder, corrupt;
    uint32_t reorder_max;
    glass_time_t jitter;
    uint64_t rate_bps;
    uint32_t queue_pkts;
    glass_time_t spike_every, spike_len;
};

/* One direction's state. Zero-initialise, then glass_fault_dir_init(). */
struct glass_fault_dir {
    struct glass_rng rng;
    bool ready;
    glass_time_t busy_until;  /* bottleneck: when the last accepted packet has left */
    glass_time_t last_arrive; /* arrival of the latest copy (the FIFO floor) */
    glass_time_t *q;          /* departure times of the packets in the bottleneck queue */
    uint32_t q_head, q_len, q_cap;
};

enum glass_fault_fate {
    GLASS_FAULT_PASS = 0,
    GLASS_FAULT_LOSS,  /* random loss */
    GLASS_FAULT_QUEUE, /* tail drop at the bottleneck */
    GLASS_FAULT_NOMEM, /* the queue bookkeeping could not grow */
};

struct glass_fault_copy {
    glass_time_t arrive;           /* arrival time if nothing overtakes it */
    uint32_t reorder_k;            /* 0: in order; else overtaken by this many later copies */
    glass_time_t reorder_deadline; /* ... or delivered at this time at the latest */
    int64_t corrupt_bit;           /* -1: intact; else flip byte bit/8 with mask 1 << bit%8 */
    bool spiked;                   /* a delay spike held it back */
};

struct glass_fault_verdict {
    enum glass_fault_fate fate;
    unsigned n_copies; /* PASS: 1, or 2 with a duplicate */
    struct glass_fault_copy copy[2];
    uint32_t queue_depth; /* bottleneck queue length after this packet (rate > 0) */
};

/* 0 if the parameters make sense (probabilities in [0, 1], spike_len < spike_every when
 * spikes are on, reorder_max >= 1 when reorder > 0), else -1. */
int glass_fault_params_check(const struct glass_fault_params *p);

/* Seed direction (from, to) from the link seed. */
void glass_fault_dir_init(struct glass_fault_dir *d, uint64_t seed, unsigned from, unsigned to);
void glass_fault_dir_fini(struct glass_fault_dir *d);

/* The fate of one packet of len bytes sent at `now` in direction d. queue_limit bounds the
 * bottleneck bookkeeping when queue_pkts is 0 (unbounded queue). */
void glass_fault_decide(struct glass_fault_dir *d, const struct glass_fault_params *p,
                        glass_time_t now, size_t len, uint32_t queue_limit,
                        struct glass_fault_verdict *v);

/* t pushed past the delay spike it falls in, if any (*spiked says whether it moved). */
glass_time_t glass_fault_spike(const struct glass_fault_params *p, glass_time_t t, bool *spiked);

/* Time to serialize len bytes at rate_bps (0 when the rate is infinite). */
glass_time_t glass_fault_tx_time(const struct glass_fault_params *p, size_t len);

#endif
