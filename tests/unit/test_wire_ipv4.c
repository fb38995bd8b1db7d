/* glasstcp — unit tests for IPv4 parse/emit and bad-input catalogue §2.A/§2.B cases. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "wire/wire_priv.h"

#define SRC 0xC0000201u /* 192.0.2.1 */
#define DST 0xC0000202u /* 192.0.2.2 */

/* A valid datagram in buf: IHL ihl, total length tot, header checksum fixed up. The bytes after
 * the header are a recognisable pattern. */
static void build(uint8_t *buf, size_t bufsize, unsigned ihl, unsigned tot)
{
    for (size_t i = 0; i < bufsize; i++)
        buf[i] = (uint8_t)(0xa0 + i);
    buf[0] = (uint8_t)(0x40 | ihl);
    buf[1] = 0;
    glass_put16(buf + 2, (uint16_t)tot);
    glass_put16(buf + 4, 0x1234);
    glass_put16(buf + 6, GLASS_IPV4_DF);
    buf[8] = 64;
    buf[9] = GLASS_IPV4_PROTO_TCP;
    glass_put32(buf + 12, SRC);
    glass_put32(buf + 16, DST);
    for (unsigned i = 20; i < ihl * 4u && i < bufsize; i++)
        buf[i] = GLASS_TCPOPT_NOP; /* IPv4 NOP option is also 1 */
    glass_put16(buf + 10, 0);
    size_t hl = ihl * 4u < bufsize ? ihl * 4u : bufsize;
    if (hl >= 20)
        glass_put16(buf + 10, glass_cksum_finish(glass_cksum_add(0, buf, hl)));
}

static void fix_cksum(uint8_t *buf, size_t hl)
{
    glass_put16(buf + 10, 0);
    glass_put16(buf + 10, glass_cksum_finish(glass_cksum_add(0, buf, hl)));
}

static void test_ipv4_parse_valid(void **state)
{
    (void)state;
    uint8_t buf[60];
    struct glass_ipv4_repr r;

    build(buf, sizeof(buf), 5, 60);
    assert_int_equal(glass_ipv4_parse(buf, sizeof(buf), true, &r), GLASS_DROP_NONE);
    assert_int_equal(r.src, SRC);
    assert_int_equal(r.dst, DST);
    assert_int_equal(r.proto, GLASS_IPV4_PROTO_TCP);
    assert_int_equal(r.ttl, 64);
    assert_int_equal(r.tos, 0);
    assert_int_equal(r.id, 0x1234);
    assert_int_equal(r.frag, GLASS_IPV4_DF);
    assert_int_equal(r.hdr_len, 20);
    assert_int_equal(r.total_len, 60);
    assert_ptr_equal(r.payload, buf + 20);
    assert_int_equal(r.payload_len, 40);
}

static void test_ipv4_parse_options_skipped(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct glass_ipv4_repr r;

    build(buf, sizeof(buf), 6, 64);
    assert_int_equal(glass_ipv4_parse(buf, sizeof(buf), true, &r), GLASS_DROP_NONE);
    assert_int_equal(r.hdr_len, 24);
    assert_ptr_equal(r.payload, buf + 24);
    assert_int_equal(r.payload_len, 40);

    build(buf, sizeof(buf), 15, 60); /* 60-byte header, no payload */
    assert_int_equal(glass_ipv4_parse(buf, 60, true, &r), GLASS_DROP_NONE);
    assert_int_equal(r.hdr_len, 60);
    assert_int_equal(r.payload_len, 0);
}

/* TTL 0/1 and fragments are the core's business: the parser accepts them (catalogue 16). */
static void test_ipv4_parse_reports_ttl0_and_fragment_fields(void **state)
{
    (void)state;
    uint8_t buf[40];
    struct glass_ipv4_repr r;

    build(buf, sizeof(buf), 5, 40);
    buf[8] = 0;
    glass_put16(buf + 6, GLASS_IPV4_MF | 185);
    fix_cksum(buf, 20);
    assert_int_equal(glass_ipv4_parse(buf, sizeof(buf), true, &r), GLASS_DROP_NONE);
    assert_int_equal(r.ttl, 0);
    assert_int_equal(r.frag, GLASS_IPV4_MF | 185);
}

/* 1. Zero- to 3-byte reads are dropped before any header access. */
static void test_cat001_tiny_reads(void **state)
{
    (void)state;
    uint8_t buf[4] = {0x45, 0, 0, 20};
    struct glass_ipv4_repr r;

    for (size_t len = 0; len <= 3; len++)
        assert_int_equal(glass_ipv4_parse(buf, len, true, &r), GLASS_DROP_PKT_TOO_SMALL);
    assert_int_equal(glass_ipv4_parse(NULL, 0, true, &r), GLASS_DROP_PKT_TOO_SMALL);
}

/* 2. A 19-byte "IPv4" datagram. */
static void test_cat002_19_byte_datagram(void **state)
{
    (void)state;
    uint8_t buf[20];
    struct glass_ipv4_repr r;

    build(buf, sizeof(buf), 5, 19);
    assert_int_equal(glass_ipv4_parse(buf, 19, true, &r), GLASS_DROP_PKT_TOO_SMALL);
    assert_int_equal(glass_ipv4_parse(buf, 19, false, &r), GLASS_DROP_PKT_TOO_SMALL);
}

/* 4. Wrong IP version. */
static void test_cat004_wrong_version(void **state)
{
    (void)state;
    static const unsigned versions[] = {0, 5, 6, 15};
    uint8_t buf[40];
    struct glass_ipv4_repr r;

    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        build(buf, sizeof(buf), 5, 40);
        buf[0] = (uint8_t)((versions[i] << 4) | 5);
        fix_cksum(buf, 20);
        assert_int_equal(glass_ipv4_parse(buf, sizeof(buf), true, &r), GLASS_DROP_IP_INHDR);
    }
}

/* 7. IHL < 5. */
static void test_cat007_ihl_below_5(void **state)
{
    (void)state;
    static const unsigned ihls[] = {0, 1, 4};
    uint8_t buf[40];
    struct glass_ipv4_repr r;

    for (size_t i = 0; i < sizeof(ihls) / sizeof(ihls[0]); i++) {
        build(buf, sizeof(buf), 5, 40);
        buf[0] = (uint8_t)(0x40 | ihls[i]);
        fix_cksum(buf, 20);
        assert_int_equal(glass_ipv4_parse(buf, sizeof(buf), true, &r), GLASS_DROP_IP_INHDR);
        assert_int_equal(glass_ipv4_parse(buf, sizeof(buf), false, &r), GLASS_DROP_IP_INHDR);
    }
}

/* 8. IHL*4 > len(read): IHL 15 in a 20..59-byte datagram. */
static void test_cat008_ihl_beyond_length(void **state)
{
    (void)state;
    uint8_t buf[60];
    struct glass_ipv4_repr r;

    for (size_t len = 20; len <= 59; len++) {
        build(buf, sizeof(buf), 15, (unsigned)len);
        assert_int_equal(glass_ipv4_parse(buf, len, true, &r), GLASS_DROP_PKT_TOO_SMALL);
        assert_int_equal(glass_ipv4_parse(buf, len, false, &r), GLASS_DROP_PKT_TOO_SMALL);
    }
}

/* 9. tot < IHL*4: tot 0, 1, 19, IHL*4-1 with IHL 5 and 15. */
static void test_cat009_total_below_header(void **state)
{
    (void)state;
    static const unsigned ihls[] = {5, 15};
    uint8_t buf[80];
    struct glass_ipv4_repr r;

    for (size_t i = 0; i < 2; i++) {
        unsigned hl = ihls[i] * 4u;
        const unsigned tots[] = {0, 1, 19, hl - 1};
        for (size_t j = 0; j < 4; j++) {
            build(buf, sizeof(buf), ihls[i], tots[j]);
            assert_int_equal(glass_ipv4_parse(buf, sizeof(buf), true, &r), GLASS_DROP_IP_INHDR);
            assert_int_equal(glass_ipv4_parse(buf, sizeof(buf), false, &r), GLASS_DROP_IP_INHDR);
        }
    }
}

/* 10. tot > len(read): tot 1500 in a 60-byte read, tot 65535 in a 40-byte read. */
static void test_cat010_total_beyond_length(void **state)
{
    (void)state;
    uint8_t buf[60];
    struct glass_ipv4_repr r;

    build(buf, sizeof(buf), 5, 1500);
    assert_int_equal(glass_ipv4_parse(buf, 60, true, &r), GLASS_DROP_PKT_TOO_SMALL);
    build(buf, sizeof(buf), 5, 65535);
    assert_int_equal(glass_ipv4_parse(buf, 40, true, &r), GLASS_DROP_PKT_TOO_SMALL);
    build(buf, sizeof(buf), 5, 41);
    assert_int_equal(glass_ipv4_parse(buf, 40, false, &r), GLASS_DROP_PKT_TOO_SMALL);
}

/* 11. tot < len(read): accepted and trimmed to tot. */
static void test_cat011_trailer_trimmed(void **state)
{
    (void)state;
    uint8_t buf[60];
    struct glass_ipv4_repr r;

    build(buf, sizeof(buf), 5, 40);
    assert_int_equal(glass_ipv4_parse(buf, 60, true, &r), GLASS_DROP_NONE);
    assert_int_equal(r.total_len, 40);
    assert_ptr_equal(r.payload, buf + 20);
    assert_int_equal(r.payload_len, 20);

    build(buf, sizeof(buf), 5, 20); /* header only, 40 bytes of trailer */
    assert_int_equal(glass_ipv4_parse(buf, 60, true, &r), GLASS_DROP_NONE);
    assert_int_equal(r.payload_len, 0);
}

/* 12. Bad header checksum: flip any bit of the checksum or of a header byte whose other checks
 * still pass (TOS, id, flags/offset, TTL, protocol, addresses, options). */
static void test_cat012_bad_header_checksum(void **state)
{
    (void)state;
    uint8_t buf[44], bad[44];
    struct glass_ipv4_repr r;

    build(buf, sizeof(buf), 6, 44);
    for (size_t byte = 0; byte < 24; byte++) {
        if (byte == 0 || byte == 2 || byte == 3)
            continue; /* version/IHL and total length have their own checks */
        for (unsigned bit = 0; bit < 8; bit++) {
            memcpy(bad, buf, sizeof(buf));
            bad[byte] ^= (uint8_t)(1u << bit);
            assert_int_equal(glass_ipv4_parse(bad, sizeof(bad), true, &r), GLASS_DROP_IP_CSUM);
            assert_int_equal(glass_ipv4_parse(bad, sizeof(bad), false, &r), GLASS_DROP_NONE);
        }
    }
    /* A bit flip in the payload is not the IP layer's business. */
    memcpy(bad, buf, sizeof(buf));
    bad[30] ^= 1;
    assert_int_equal(glass_ipv4_parse(bad, sizeof(bad), true, &r), GLASS_DROP_NONE);
}

/* The parser reads nothing outside buf[0..len): an exact-size heap copy lets ASan check. */
static void test_ipv4_parse_exact_buffer_all_lengths(void **state)
{
    (void)state;
    uint8_t src[60];
    struct glass_ipv4_repr r;

    build(src, sizeof(src), 15, 60);
    for (size_t len = 0; len <= sizeof(src); len++) {
        uint8_t *copy = test_malloc(len ? len : 1);
        memcpy(copy, src, len);
        int rc = glass_ipv4_parse(copy, len, true, &r);
        assert_int_equal(rc, len < 60 ? GLASS_DROP_PKT_TOO_SMALL : GLASS_DROP_NONE);
        test_free(copy);
    }
}

static void test_ipv4_emit_known_header(void **state)
{
    (void)state;
    /* 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7: 0x73 - 20 bytes of UDP payload. */
    static const uint8_t want[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                     0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    struct glass_ipv4_repr r = {.src = 0xC0A80001u,
                                .dst = 0xC0A800C7u,
                                .proto = 17,
                                .ttl = 64,
                                .tos = 0,
                                .id = 0,
                                .frag = GLASS_IPV4_DF};
    uint8_t buf[24];
    memset(buf, 0xee, sizeof(buf));

    assert_int_equal(glass_ipv4_emit(buf, sizeof(buf), &r, 0x73 - 20), 20);
    assert_memory_equal(buf, want, sizeof(want));
    assert_int_equal(buf[20], 0xee); /* nothing written past the header */
}

static void test_ipv4_emit_parse_round_trip(void **state)
{
    (void)state;
    struct glass_ipv4_repr in = {.src = SRC,
                                 .dst = DST,
                                 .proto = GLASS_IPV4_PROTO_TCP,
                                 .ttl = 1,
                                 .tos = 0xb8,
                                 .id = 0xffff,
                                 .frag = GLASS_IPV4_DF};
    struct glass_ipv4_repr out;
    uint8_t buf[100];

    memset(buf, 0x5a, sizeof(buf));
    assert_int_equal(glass_ipv4_emit(buf, sizeof(buf), &in, 80), 20);
    assert_int_equal(glass_ipv4_parse(buf, sizeof(buf), true, &out), GLASS_DROP_NONE);
    assert_int_equal(out.src, SRC);
    assert_int_equal(out.dst, DST);
    assert_int_equal(out.proto, GLASS_IPV4_PROTO_TCP);
    assert_int_equal(out.ttl, 1);
    assert_int_equal(out.tos, 0xb8);
    assert_int_equal(out.id, 0xffff);
    assert_int_equal(out.frag, GLASS_IPV4_DF);
    assert_int_equal(out.hdr_len, 20);
    assert_int_equal(out.total_len, 100);
    assert_int_equal(out.payload_len, 80);
    assert_ptr_equal(out.payload, buf + 20);
}

static void test_ipv4_emit_limits(void **state)
{
    (void)state;
    struct glass_ipv4_repr in = {.src = SRC, .dst = DST, .proto = 6, .ttl = 64};
    struct glass_ipv4_repr out;
    uint8_t buf[20];

    assert_int_equal(glass_ipv4_emit(buf, 19, &in, 0), 0);
    assert_int_equal(glass_ipv4_emit(buf, 20, &in, 65535 - 20), 20);
    assert_int_equal(glass_ipv4_parse(buf, 20, true, &out), GLASS_DROP_PKT_TOO_SMALL);
    assert_int_equal(glass_get16(buf + 2), 65535);
    assert_int_equal(glass_ipv4_emit(buf, 20, &in, 65535 - 19), 0);
    assert_int_equal(glass_ipv4_emit(buf, 20, &in, (size_t)-1), 0);
}

/* glass_ipv4_emit_tcp writes what glass_ipv4_emit writes for TOS 0, TTL 64, DF and TCP. */
static void test_ipv4_emit_tcp_matches_emit(void **state)
{
    (void)state;
    static const uint32_t addrs[][2] = {{SRC, DST}, {0, 0}, {0xffffffffu, 0xffffffffu},
                                        {0xc0000201u, 0xc0000202u}, {0x0a000001u, 0xfffe0001u}};
    static const size_t lens[] = {0, 1, 20, 1460, 65535 - 20};
    static const uint16_t ids[] = {0, 1, 0x1234, 0xbfff, 0xffff};
    for (size_t a = 0; a < sizeof addrs / sizeof addrs[0]; a++) {
        for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
            for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
                struct glass_ipv4_repr r = {.src = addrs[a][0], .dst = addrs[a][1],
                                            .proto = GLASS_IPV4_PROTO_TCP, .ttl = 64,
                                            .id = ids[i], .frag = GLASS_IPV4_DF};
                uint8_t want[20], got[20];
                assert_int_equal(glass_ipv4_emit(want, sizeof want, &r, lens[l]), 20);
                memset(got, 0x5a, sizeof got);
                glass_ipv4_emit_tcp(got, r.src, r.dst, r.id, lens[l]);
                assert_memory_equal(got, want, sizeof want);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_parse_valid),
        cmocka_unit_test(test_ipv4_parse_options_skipped),
        cmocka_unit_test(test_ipv4_parse_reports_ttl0_and_fragment_fields),
        cmocka_unit_test(test_cat001_tiny_reads),
        cmocka_unit_test(test_cat002_19_byte_datagram),
        cmocka_unit_test(test_cat004_wrong_version),
        cmocka_unit_test(test_cat007_ihl_below_5),
        cmocka_unit_test(test_cat008_ihl_beyond_length),
        cmocka_unit_test(test_cat009_total_below_header),
        cmocka_unit_test(test_cat010_total_beyond_length),
        cmocka_unit_test(test_cat011_trailer_trimmed),
        cmocka_unit_test(test_cat012_bad_header_checksum),
        cmocka_unit_test(test_ipv4_parse_exact_buffer_all_lengths),
        cmocka_unit_test(test_ipv4_emit_known_header),
        cmocka_unit_test(test_ipv4_emit_parse_round_trip),
        cmocka_unit_test(test_ipv4_emit_limits),
        cmocka_unit_test(test_ipv4_emit_tcp_matches_emit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
