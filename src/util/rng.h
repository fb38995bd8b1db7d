/* glasstcp — the stack's deterministic PRNG and a keyed hash (RFC 6528 ISNs). */
#ifndef GLASS_UTIL_RNG_H
#define GLASS_UTIL_RNG_H

#include <stddef.h>
#include <stdint.h>

/* xoshiro256** seeded through splitmix64: fast, good enough for ports and fault injection,
 * fully determined by the seed. Not a CSPRNG: ISNs use the keyed hash below. */
struct glass_rng {
    uint64_t s[4];
};

void glass_rng_seed(struct glass_rng *r, uint64_t seed);
uint64_t glass_rng_next(struct glass_rng *r);
/* Uniform in [0, n) for n > 0. */
uint32_t glass_rng_below(struct glass_rng *r, uint32_t n);

/* SipHash-2-4 of len bytes under a 128-bit key. */
uint64_t glass_siphash(const uint64_t key[2], const uint8_t *p, size_t len);
/* glass_siphash of 12 bytes given as their little-endian words: m0 holds bytes 0-7, m1 bytes
 * 8-11 (the same value, without storing and reloading the bytes). */
uint64_t glass_siphash_12(const uint64_t key[2], uint64_t m0, uint32_t m1);

#endif
