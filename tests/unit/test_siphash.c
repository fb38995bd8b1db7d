/* glasstcp — unit tests for SipHash-2-4 (src/util/rng.c), the keyed hash behind RFC 6528 ISNs,
 * RFC 6056 ephemeral ports and SYN cookies: the reference outputs of the SipHash paper (key
 * 00..0f, message 00..len-1), and glass_siphash_12 (the ISN's 4-tuple passed as two words)
 * against glass_siphash over the same 12 bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/rng.h"

/* The key 00 01 .. 0f, read as two little-endian words (the paper's layout). */
static const uint64_t ref_key[2] = {UINT64_C(0x0706050403020100), UINT64_C(0x0f0e0d0c0b0a0908)};

static void test_siphash_reference_vectors(void **state)
{
    (void)state;
    static const struct {
        size_t len;
        uint64_t want;
    } v[] = {
        {0, UINT64_C(0x726fdb47dd0e0e31)},  {1, UINT64_C(0x74f839c593dc67fd)},
        {2, UINT64_C(0x0d6c8009d9a94f5a)},  {3, UINT64_C(0x85676696d7fb7e2d)},
        {4, UINT64_C(0xcf2794e0277187b7)},  {8, UINT64_C(0x93f5f5799a932462)},
        {15, UINT64_C(0xa129ca6149be45e5)},
    };
    uint8_t msg[64];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        assert_int_equal(glass_siphash(ref_key, msg, v[i].len), v[i].want);
}

/* xorshift64: keys and tuples over the whole range. */
static uint64_t next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void test_siphash_12_matches_siphash(void **state)
{
    (void)state;
    uint64_t x = UINT64_C(0x9e3779b97f4a7c15);
    for (int n = 0; n < 100000; n++) {
        uint64_t key[2] = {next(&x), next(&x)};
        uint8_t b[12];
        for (size_t i = 0; i < sizeof b; i++)
            b[i] = (uint8_t)next(&x);
        uint64_t m0 = 0;
        for (size_t i = 0; i < 8; i++)
            m0 |= (uint64_t)b[i] << (8u * i);
        uint32_t m1 = (uint32_t)b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 |
                      (uint32_t)b[11] << 24;
        assert_int_equal(glass_siphash_12(key, m0, m1), glass_siphash(key, b, sizeof b));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siphash_reference_vectors),
        cmocka_unit_test(test_siphash_12_matches_siphash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
