/* glasstcp — TCP sequence numbers as a type (RFC 9293 §3.4: arithmetic modulo 2^32).
 *
 * A sequence number is a struct, so `a < b` does not compile: every comparison goes through
 * the modular helpers below. The comparisons are only meaningful for numbers less than 2^31
 * apart, which the window rules guarantee (RFC 9293 §3.4, RFC 7323 §5.2). */
#ifndef GLASS_UTIL_SEQ_H
#define GLASS_UTIL_SEQ_H

#include <stdbool.h>
#include <stdint.h>

struct glass_seq {
    uint32_t v;
};

static inline struct glass_seq glass_seq(uint32_t v)
{
    return (struct glass_seq){v};
}

/* a + n (mod 2^32) */
static inline struct glass_seq glass_seq_add(struct glass_seq a, uint32_t n)
{
    return (struct glass_seq){a.v + n};
}

/* a - b as a signed distance: positive when a is after b. */
static inline int32_t glass_seq_diff(struct glass_seq a, struct glass_seq b)
{
    return (int32_t)(uint32_t)(a.v - b.v);
}

static inline bool glass_seq_eq(struct glass_seq a, struct glass_seq b)
{
    return a.v == b.v;
}

static inline bool glass_seq_lt(struct glass_seq a, struct glass_seq b)
{
    return glass_seq_diff(a, b) < 0;
}

static inline bool glass_seq_le(struct glass_seq a, struct glass_seq b)
{
    return glass_seq_diff(a, b) <= 0;
}

static inline bool glass_seq_gt(struct glass_seq a, struct glass_seq b)
{
    return glass_seq_diff(a, b) > 0;
}

static inline bool glass_seq_ge(struct glass_seq a, struct glass_seq b)
{
    return glass_seq_diff(a, b) >= 0;
}

/* lo <= s < hi (mod 2^32); an empty range (lo == hi) contains nothing. */
static inline bool glass_seq_in_window(struct glass_seq s, struct glass_seq lo, struct glass_seq hi)
{
    return (uint32_t)(s.v - lo.v) < (uint32_t)(hi.v - lo.v);
}

/* lo < s <= hi (mod 2^32): the form of RFC 9293's "SND.UNA < SEG.ACK =< SND.NXT". */
static inline bool glass_seq_in_left_open(struct glass_seq s, struct glass_seq lo, struct glass_seq hi)
{
    return glass_seq_lt(lo, s) && glass_seq_le(s, hi);
}

/* The later / earlier of two sequence numbers. */
static inline struct glass_seq glass_seq_max(struct glass_seq a, struct glass_seq b)
{
    return glass_seq_ge(a, b) ? a : b;
}

static inline struct glass_seq glass_seq_min(struct glass_seq a, struct glass_seq b)
{
    return glass_seq_le(a, b) ? a : b;
}

/* Unsigned distance from b forward to a; the caller has checked a >= b. */
static inline uint32_t glass_seq_sub(struct glass_seq a, struct glass_seq b)
{
    return a.v - b.v;
}

#endif
