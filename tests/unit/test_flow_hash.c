/* glasstcp — unit tests for the software steering hash (glass_flow_hash*, docs/sharding.md):
 * the same in both directions of a connection, keyed, taken from a datagram's headers only when
 * they are whole and not a fragment, and spreading flows evenly over the stacks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <glass/err.h>
#include <glass/wire.h>

#define KEY UINT64_C(0x0123456789abcdef)

/* xorshift64: tuples that cover the whole range of each field. */
static uint64_t next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* A 40-byte TCP/IPv4 datagram from s:sp to d:dp. */
static void datagram(uint8_t p[40], uint32_t s, uint32_t d, uint16_t sp, uint16_t dp)
{
    memset(p, 0, 40);
    p[0] = 0x45;
    p[3] = 40;
    p[6] = 0x40; /* DF */
    p[8] = 64;
    p[9] = 6;
    for (int i = 0; i < 4; i++) {
        p[12 + i] = (uint8_t)(s >> (24 - 8 * i));
        p[16 + i] = (uint8_t)(d >> (24 - 8 * i));
    }
    p[20] = (uint8_t)(sp >> 8);
    p[21] = (uint8_t)sp;
    p[22] = (uint8_t)(dp >> 8);
    p[23] = (uint8_t)dp;
    p[32] = 0x50;
}

static void test_flow_hash_symmetric(void **state)
{
    (void)state;
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 100000; i++) {
        uint64_t r = next(&x);
        uint32_t a = (uint32_t)r, b = (uint32_t)(r >> 32);
        uint16_t pa = (uint16_t)next(&x), pb = (uint16_t)next(&x);
        assert_int_equal(glass_flow_hash4(a, b, pa, pb, KEY), glass_flow_hash4(b, a, pb, pa, KEY));
    }
    /* Same address both ends: the ports decide the order. */
    assert_int_equal(glass_flow_hash4(7, 7, 80, 5000, KEY), glass_flow_hash4(7, 7, 5000, 80, KEY));
}

static void test_flow_hash_tells_flows_apart(void **state)
{
    (void)state;
    uint32_t c = 0xc0000201u, s = 0xc0000202u;
    uint32_t h = glass_flow_hash4(c, s, 40000, 80, KEY);
    assert_int_not_equal(h, glass_flow_hash4(c, s, 40001, 80, KEY));
    assert_int_not_equal(h, glass_flow_hash4(c, s, 40000, 81, KEY));
    assert_int_not_equal(h, glass_flow_hash4(c + 256, s, 40000, 80, KEY));
    /* The swap keeps ports with their addresses: (c:80 -> s:40000) is another flow. */
    assert_int_not_equal(h, glass_flow_hash4(c, s, 80, 40000, KEY));
    /* Another key, another hash (for nearly every flow). */
    int same = 0;
    for (uint16_t p = 1; p <= 1000; p++)
        same += glass_flow_hash4(c, s, p, 80, KEY) == glass_flow_hash4(c, s, p, 80, KEY + 1);
    assert_true(same <= 1);
}

static void test_flow_hash_of_datagram(void **state)
{
    (void)state;
    uint8_t p[40], q[40];
    uint32_t h1 = 0, h2 = 0;
    datagram(p, 0xc0000201u, 0xc0000202u, 51234, 7);
    datagram(q, 0xc0000202u, 0xc0000201u, 7, 51234);
    assert_int_equal(glass_flow_hash(p, sizeof p, KEY, &h1), 0);
    assert_int_equal(glass_flow_hash(q, sizeof q, KEY, &h2), 0);
    assert_int_equal(h1, h2);
    assert_int_equal(h1, glass_flow_hash4(0xc0000201u, 0xc0000202u, 51234, 7, KEY));
}

static void test_flow_hash_refuses(void **state)
{
    (void)state;
    uint8_t p[40];
    uint32_t h = 0x5a5a5a5au;
    datagram(p, 1, 2, 3, 4);
    assert_int_equal(glass_flow_hash(p, 39, KEY, &h), -GLASS_EINVAL); /* TCP header cut */
    assert_int_equal(glass_flow_hash(p, 19, KEY, &h), -GLASS_EINVAL);
    p[9] = 17; /* UDP */
    assert_int_equal(glass_flow_hash(p, sizeof p, KEY, &h), -GLASS_EINVAL);
    datagram(p, 1, 2, 3, 4);
    p[0] = 0x65; /* not IPv4 */
    assert_int_equal(glass_flow_hash(p, sizeof p, KEY, &h), -GLASS_EINVAL);
    datagram(p, 1, 2, 3, 4);
    p[6] = 0x20; /* MF: the first fragment */
    assert_int_equal(glass_flow_hash(p, sizeof p, KEY, &h), -GLASS_EINVAL);
    datagram(p, 1, 2, 3, 4);
    p[7] = 0x10; /* offset 128: a later fragment, whose "ports" are payload */
    assert_int_equal(glass_flow_hash(p, sizeof p, KEY, &h), -GLASS_EINVAL);
    assert_int_equal(h, 0x5a5a5a5au); /* untouched on refusal */
}

static void test_flow_pick_spreads(void **state)
{
    (void)state;
    assert_int_equal(glass_flow_pick(0, 4), 0);
    assert_int_equal(glass_flow_pick(UINT32_MAX, 4), 3);
    assert_int_equal(glass_flow_pick(UINT32_MAX, 1), 0);
    for (unsigned n = 2; n <= 8; n *= 2) {
        unsigned count[8] = {0};
        /* Connections from one client address to one server port: only the client port
         * varies, as for a busy client. */
        for (unsigned p = 1024; p < 1024 + 64000; p++)
            count[glass_flow_pick(glass_flow_hash4(0xc0000201u, 0xc0000202u, (uint16_t)p, 80,
                                                   KEY),
                                  n)]++;
        for (unsigned i = 0; i < n; i++) {
            double share = (double)count[i] / 64000.0;
            assert_true(share > 1.0 / n * 0.95 && share < 1.0 / n * 1.05);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flow_hash_symmetric),
        cmocka_unit_test(test_flow_hash_tells_flows_apart),
        cmocka_unit_test(test_flow_hash_of_datagram),
        cmocka_unit_test(test_flow_hash_refuses),
        cmocka_unit_test(test_flow_pick_spreads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
