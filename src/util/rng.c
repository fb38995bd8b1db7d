/* glasstcp — deterministic PRNG (xoshiro256**, splitmix64 seeding) and SipHash-2-4. */
#include "util/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, unsigned k)
{
    return (x << k) | (x >> (64u - k));
}

void glass_rng_seed(struct glass_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

uint64_t glass_rng_next(struct glass_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5u, 7) * 9u;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t glass_rng_below(struct glass_rng *r, uint32_t n)
{
    /* Lemire's multiply-shift; the tiny bias of skipping the rejection step is irrelevant
     * for port and loss choices. */
    return (uint32_t)(((glass_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* SipHash-2-4's state and its steps: two rounds per message word, four to finish. */
struct sip {
    uint64_t v0, v1, v2, v3;
};

static inline void sip_round(struct sip *s)
{
    s->v0 += s->v1;
    s->v1 = rotl(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = rotl(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = rotl(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = rotl(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = rotl(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = rotl(s->v2, 32);
}

static inline struct sip sip_init(const uint64_t key[2])
{
    return (struct sip){
        .v0 = UINT64_C(0x736f6d6570736575) ^ key[0],
        .v1 = UINT64_C(0x646f72616e646f6d) ^ key[1],
        .v2 = UINT64_C(0x6c7967656e657261) ^ key[0],
        .v3 = UINT64_C(0x7465646279746573) ^ key[1],
    };
}

static inline void sip_word(struct sip *s, uint64_t m)
{
    s->v3 ^= m;
    sip_round(s);
    sip_round(s);
    s->v0 ^= m;
}

/* The last block b (the length in its top byte, the remaining bytes below), then finish. */
static inline uint64_t sip_final(struct sip *s, uint64_t b)
{
    sip_word(s, b);
    s->v2 ^= 0xff;
    sip_round(s);
    sip_round(s);
    sip_round(s);
    sip_round(s);
    return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

static uint64_t load_le64(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8u * i);
    return v;
}

uint64_t glass_siphash(const uint64_t key[2], const uint8_t *p, size_t len)
{
    struct sip s = sip_init(key);
    size_t full = len & ~(size_t)7;
    for (size_t i = 0; i < full; i += 8)
        sip_word(&s, load_le64(p + i, 8));
    return sip_final(&s, ((uint64_t)len << 56) | load_le64(p + full, len - full));
}

uint64_t glass_siphash_12(const uint64_t key[2], uint64_t m0, uint32_t m1)
{
    /* glass_siphash's steps for len = 12: one full word, then the last block. */
    struct sip s = sip_init(key);
    sip_word(&s, m0);
    return sip_final(&s, ((uint64_t)12u << 56) | m1);
}
