/* glasstcp — unit tests for the Internet checksum (RFC 1071). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "wire/wire_priv.h"

/* Byte-at-a-time reference: big-endian 16-bit words, odd byte padded with zero, fold. */
static uint32_t ref_sum(uint32_t sum, const uint8_t *p, size_t len)
{
    uint64_t acc = sum;
    for (size_t i = 0; i + 1 < len; i += 2)
        acc += (uint32_t)((p[i] << 8) | p[i + 1]);
    if (len & 1)
        acc += (uint32_t)(p[len - 1] << 8);
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint32_t)acc;
}

static uint32_t rng_state = 12345u;
static uint8_t rnd8(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (uint8_t)(rng_state >> 16);
}

/* RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2, checksum 220d. */
static void test_cksum_rfc1071_example(void **state)
{
    (void)state;
    static const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

    assert_int_equal(glass_cksum_add(0, data, sizeof(data)), 0xddf2);
    assert_int_equal(glass_cksum_finish(glass_cksum_add(0, data, sizeof(data))), 0x220d);
    /* RFC 1071 §2(B): byte order independence — swapped words give the swapped sum. */
    static const uint8_t swapped[] = {0x01, 0x00, 0x03, 0xf2, 0xf5, 0xf4, 0xf7, 0xf6};
    assert_int_equal(glass_cksum_add(0, swapped, sizeof(swapped)), 0xf2dd);
}

static void test_cksum_empty_and_zero(void **state)
{
    (void)state;
    static const uint8_t zeros[64];

    assert_int_equal(glass_cksum_add(0, zeros, 0), 0);
    assert_int_equal(glass_cksum_add(0x1234, zeros, 0), 0x1234);
    assert_int_equal(glass_cksum_add(0, zeros, sizeof(zeros)), 0);
    assert_int_equal(glass_cksum_finish(0), 0xffff);
}

static void test_cksum_all_ones(void **state)
{
    (void)state;
    uint8_t ff[100];
    memset(ff, 0xff, sizeof(ff));

    for (size_t len = 2; len <= sizeof(ff); len += 2) {
        assert_int_equal(glass_cksum_add(0, ff, len), 0xffff);
        assert_int_equal(glass_cksum_finish(glass_cksum_add(0, ff, len)), 0);
    }
}

static void test_cksum_odd_lengths(void **state)
{
    (void)state;
    static const uint8_t one[] = {0xab};
    static const uint8_t three[] = {0x00, 0x01, 0xf2};

    assert_int_equal(glass_cksum_add(0, one, 1), 0xab00);
    assert_int_equal(glass_cksum_add(0, three, 3), 0xf201);
    /* 9 bytes: one full 8-byte word and a 1-byte tail. */
    static const uint8_t nine[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7, 0x10};
    assert_int_equal(glass_cksum_add(0, nine, 9), ref_sum(0, nine, 9));
    assert_int_equal(glass_cksum_add(0, nine, 9), (0xddf2 + 0x1000) % 0xffff);
}

/* Every length 0..600 at every alignment 0..7, against the byte-at-a-time reference. */
static void test_cksum_matches_reference_all_lengths_and_alignments(void **state)
{
    (void)state;
    static uint8_t buf[608 + 8];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = rnd8();

    for (size_t off = 0; off < 8; off++) {
        for (size_t len = 0; len <= 600; len++) {
            uint32_t want = ref_sum(0, buf + off, len);
            assert_int_equal(glass_cksum_add(0, buf + off, len), want);
        }
    }
}

/* The header shortcut equals the general sum for every header length and alignment, random
 * bytes and all-ones (every addition carries). */
static void test_cksum_hdr_matches_general(void **state)
{
    (void)state;
    static uint8_t buf[64 + 8];
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof(buf); i++)
            buf[i] = round == 0 ? 0xff : rnd8();
        for (size_t off = 0; off < 8; off++)
            for (size_t len = 20; len <= 60; len += 4)
                assert_int_equal(glass_cksum_hdr(buf + off, len),
                                 glass_cksum_finish(ref_sum(0, buf + off, len)));
    }
}

/* Long runs of 0xff make every 64-bit addition carry: the end-around carry must be exact. */
static void test_cksum_carry_heavy(void **state)
{
    (void)state;
    static uint8_t buf[65536];
    memset(buf, 0xff, sizeof(buf));
    buf[1] = 0xfe;
    buf[777] = 0x00;

    assert_int_equal(glass_cksum_add(0, buf, sizeof(buf)), ref_sum(0, buf, sizeof(buf)));
    assert_int_equal(glass_cksum_add(0xffff, buf, 4095), ref_sum(0xffff, buf, 4095));
}

static void test_cksum_chaining_even_pieces(void **state)
{
    (void)state;
    uint8_t buf[300];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = rnd8();

    uint32_t whole = glass_cksum_add(0, buf, sizeof(buf));
    for (size_t cut = 0; cut <= sizeof(buf); cut += 2) {
        uint32_t s = glass_cksum_add(0, buf, cut);
        s = glass_cksum_add(s, buf + cut, sizeof(buf) - cut);
        assert_int_equal(s, whole);
    }
    /* Three pieces, the last one odd. */
    uint32_t odd_whole = glass_cksum_add(0, buf, 299);
    uint32_t s = glass_cksum_add(0, buf, 100);
    s = glass_cksum_add(s, buf + 100, 150);
    s = glass_cksum_add(s, buf + 250, 49);
    assert_int_equal(s, odd_whole);
}

/* A running sum handed in un-folded (up to 32 bits) is folded correctly. */
static void test_cksum_start_sum_not_folded(void **state)
{
    (void)state;
    static const uint8_t data[] = {0x12, 0x34, 0x56, 0x78};

    assert_int_equal(glass_cksum_add(0x0001fffe, data, 4), ref_sum(0x0001fffe, data, 4));
    assert_int_equal(glass_cksum_add(0xffffffffu, data, 4), ref_sum(0xffffffffu, data, 4));
    assert_int_equal(glass_cksum_finish(0x0001fffe), 0x0000); /* fffe + 1 = ffff */
    assert_int_equal(glass_cksum_finish(0xffffffffu), 0x0000);
    assert_int_equal(glass_cksum_finish(0x0000ddf2), 0x220d);
}

/* The classic IPv4 header example: 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7. */
static void test_cksum_known_ipv4_header(void **state)
{
    (void)state;
    uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                     0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

    assert_int_equal(glass_cksum_finish(glass_cksum_add(0, h, sizeof(h))), 0xb861);
    glass_put16(h + 10, 0xb861);
    assert_int_equal(glass_cksum_finish(glass_cksum_add(0, h, sizeof(h))), 0); /* verifies */
}

static void test_cksum_pseudo_header(void **state)
{
    (void)state;
    uint32_t src = 0xC0000201u, dst = 0xC0000202u; /* 192.0.2.1, 192.0.2.2 */

    /* c000 + 0201 + c000 + 0202 + 0006 + 0014 = 1841d -> 841e */
    assert_int_equal(glass_cksum_finish(glass_cksum_pseudo(src, dst, 6, 20)), (uint16_t)~0x841eu);
    uint8_t ph[12];
    glass_put32(ph, src);
    glass_put32(ph + 4, dst);
    ph[8] = 0;
    ph[9] = 6;
    glass_put16(ph + 10, 1480);
    assert_int_equal(glass_cksum_finish(glass_cksum_pseudo(src, dst, 6, 1480)),
                     glass_cksum_finish(glass_cksum_add(0, ph, sizeof(ph))));
    /* Lengths above 16 bits still add both halves. */
    assert_int_equal(glass_cksum_finish(glass_cksum_pseudo(0, 0, 0, 0x00010001u)), (uint16_t)~2u);
}

/* A TCP SYN whose checksum (0x2302) was computed by an independent implementation. */
static void test_cksum_known_tcp_syn(void **state)
{
    (void)state;
    uint8_t seg[40] = {0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00,
                       0x00, 0x00, 0xa0, 0x02, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
                       0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x01, 0x02,
                       0x03, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07};
    uint32_t sum = glass_cksum_pseudo(0xC0000201u, 0xC0000202u, 6, sizeof(seg));

    assert_int_equal(glass_cksum_finish(glass_cksum_add(sum, seg, sizeof(seg))), 0x2302);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cksum_rfc1071_example),
        cmocka_unit_test(test_cksum_empty_and_zero),
        cmocka_unit_test(test_cksum_all_ones),
        cmocka_unit_test(test_cksum_odd_lengths),
        cmocka_unit_test(test_cksum_matches_reference_all_lengths_and_alignments),
        cmocka_unit_test(test_cksum_carry_heavy),
        cmocka_unit_test(test_cksum_hdr_matches_general),
        cmocka_unit_test(test_cksum_chaining_even_pieces),
        cmocka_unit_test(test_cksum_start_sum_not_folded),
        cmocka_unit_test(test_cksum_known_ipv4_header),
        cmocka_unit_test(test_cksum_pseudo_header),
        cmocka_unit_test(test_cksum_known_tcp_syn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
