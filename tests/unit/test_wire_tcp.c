/* glasstcp — unit tests for TCP parse/emit and bad-input catalogue §2.F/§2.G cases. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "wire/wire_priv.h"
#include <glass/trace.h>

#define SRC 0xC0000201u /* 192.0.2.1 */
#define DST 0xC0000202u /* 192.0.2.2 */

static void fix_cksum(uint8_t *seg, size_t len, uint32_t src, uint32_t dst)
{
    glass_put16(seg + 16, 0);
    uint32_t sum = glass_cksum_pseudo(src, dst, GLASS_IPV4_PROTO_TCP, (uint32_t)len);
    glass_put16(seg + 16, glass_cksum_finish(glass_cksum_add(sum, seg, len)));
}

/* A len-byte segment 40000 -> 80 with data offset doff, the given option bytes at offset 20
 * and a byte pattern after them; checksum correct for SRC -> DST. */
static void build(uint8_t *seg, size_t len, unsigned doff, uint8_t flags, const uint8_t *opt,
                  size_t optlen)
{
    for (size_t i = 0; i < len; i++)
        seg[i] = (uint8_t)(0x30 + i);
    if (len >= 20) {
        glass_put16(seg, 40000);
        glass_put16(seg + 2, 80);
        glass_put32(seg + 4, 1000);
        glass_put32(seg + 8, 2000);
        seg[12] = (uint8_t)(doff << 4);
        seg[13] = flags;
        glass_put16(seg + 14, 8192);
        glass_put16(seg + 18, 0);
        if (optlen > 0)
            memcpy(seg + 20, opt, optlen);
        fix_cksum(seg, len, SRC, DST);
    }
}

/* Parse a segment of doff*4 bytes carrying exactly these option bytes (padded with EOL). */
static int parse_opts(const uint8_t *opt, size_t optlen, unsigned doff, struct glass_tcp_repr *r)
{
    uint8_t seg[60] = {0};
    uint8_t padded[40] = {0};
    memcpy(padded, opt, optlen);
    build(seg, doff * 4u, doff, GLASS_TH_SYN, padded, doff * 4u - 20u);
    return glass_tcp_parse(seg, doff * 4u, SRC, DST, true, r);
}

static void assert_no_options(const struct glass_tcp_repr *r)
{
    assert_int_equal(r->mss, 0);
    assert_int_equal(r->wscale, -1);
    assert_false(r->sack_perm);
    assert_false(r->has_ts);
    assert_int_equal(r->nsack, 0);
}

/* ---- round trips ----------------------------------------------------------------------- */

/* Linux's SYN layout: mss, sackOK, TS, nop, wscale — compared with bytes (and checksum 0x2302)
 * produced by an independent implementation. */
static void test_tcp_emit_syn_all_options_linux_layout(void **state)
{
    (void)state;
    static const uint8_t want[40] = {0x9c, 0x40, 0x00, 0x50, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00,
                                     0x00, 0x00, 0xa0, 0x02, 0xff, 0xff, 0x23, 0x02, 0x00, 0x00,
                                     0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x01, 0x02,
                                     0x03, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07};
    struct glass_tcp_repr r = {.src_port = 40000,
                               .dst_port = 80,
                               .seq = 100,
                               .flags = GLASS_TH_SYN,
                               .win = 65535,
                               .mss = 1460,
                               .wscale = 7,
                               .sack_perm = true,
                               .has_ts = true,
                               .ts_val = 0x01020304u};
    uint8_t buf[64];

    assert_int_equal(glass_tcp_hdr_len(&r), 40);
    assert_int_equal(glass_tcp_emit(buf, sizeof(buf), &r, SRC, DST), 40);
    assert_memory_equal(buf, want, sizeof(want));

    struct glass_tcp_repr p;
    assert_int_equal(glass_tcp_parse(buf, 40, SRC, DST, true, &p), GLASS_DROP_NONE);
    assert_int_equal(p.src_port, 40000);
    assert_int_equal(p.dst_port, 80);
    assert_int_equal(p.seq, 100);
    assert_int_equal(p.ack, 0);
    assert_int_equal(p.flags, GLASS_TH_SYN);
    assert_int_equal(p.win, 65535);
    assert_int_equal(p.hdr_len, 40);
    assert_int_equal(p.mss, 1460);
    assert_int_equal(p.wscale, 7);
    assert_true(p.sack_perm);
    assert_true(p.has_ts);
    assert_int_equal(p.ts_val, 0x01020304u);
    assert_int_equal(p.ts_ecr, 0);
    assert_int_equal(p.nsack, 0);
    assert_false(p.opt_malformed);
    assert_int_equal(p.payload_len, 0);
}

static void test_tcp_emit_ts_only_and_sackok_only(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct glass_tcp_repr p;

    struct glass_tcp_repr ts = {.src_port = 1,
                                .dst_port = 2,
                                .flags = GLASS_TH_SYN | GLASS_TH_ACK,
                                .wscale = -1,
                                .has_ts = true,
                                .ts_val = 5,
                                .ts_ecr = 6};
    static const uint8_t ts_opts[] = {1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6};
    assert_int_equal(glass_tcp_emit(buf, sizeof(buf), &ts, SRC, DST), 32);
    assert_int_equal(buf[12] >> 4, 8);
    assert_memory_equal(buf + 20, ts_opts, sizeof(ts_opts));
    assert_int_equal(glass_tcp_parse(buf, 32, SRC, DST, true, &p), GLASS_DROP_NONE);
    assert_true(p.has_ts);
    assert_false(p.sack_perm);
    assert_int_equal(p.ts_val, 5);
    assert_int_equal(p.ts_ecr, 6);

    struct glass_tcp_repr sk = {.src_port = 1,
                                .dst_port = 2,
                                .flags = GLASS_TH_SYN,
                                .wscale = -1,
                                .sack_perm = true,
                                .mss = 536};
    static const uint8_t sk_opts[] = {2, 4, 0x02, 0x18, 1, 1, 4, 2};
    assert_int_equal(glass_tcp_emit(buf, sizeof(buf), &sk, SRC, DST), 28);
    assert_memory_equal(buf + 20, sk_opts, sizeof(sk_opts));
    assert_int_equal(glass_tcp_parse(buf, 28, SRC, DST, true, &p), GLASS_DROP_NONE);
    assert_true(p.sack_perm);
    assert_false(p.has_ts);
    assert_int_equal(p.mss, 536);
    assert_int_equal(p.wscale, -1);

    struct glass_tcp_repr ws0 = {.src_port = 1, .dst_port = 2, .flags = GLASS_TH_SYN, .wscale = 0};
    static const uint8_t ws_opts[] = {1, 3, 3, 0};
    assert_int_equal(glass_tcp_emit(buf, sizeof(buf), &ws0, SRC, DST), 24);
    assert_memory_equal(buf + 20, ws_opts, sizeof(ws_opts));
    assert_int_equal(glass_tcp_parse(buf, 24, SRC, DST, true, &p), GLASS_DROP_NONE);
    assert_int_equal(p.wscale, 0);
}

static void test_tcp_emit_data_segment_round_trip(void **state)
{
    (void)state;
    static const uint8_t data[] = "hello, world";
    struct glass_tcp_repr r = {.src_port = 80,
                               .dst_port = 40000,
                               .seq = 0xFFFFFFF0u,
                               .ack = 0x12345678u,
                               .flags = GLASS_TH_ACK | GLASS_TH_PSH,
                               .win = 501,
                               .wscale = -1,
                               .payload = data,
                               .payload_len = sizeof(data) - 1};
    uint8_t buf[64];
    struct glass_tcp_repr p;

    assert_int_equal(glass_tcp_hdr_len(&r), 20);
    assert_int_equal(glass_tcp_emit(buf, sizeof(buf), &r, DST, SRC), 32);
    assert_int_equal(glass_tcp_parse(buf, 32, DST, SRC, true, &p), GLASS_DROP_NONE);
    assert_int_equal(p.seq, 0xFFFFFFF0u);
    assert_int_equal(p.ack, 0x12345678u);
    assert_int_equal(p.flags, GLASS_TH_ACK | GLASS_TH_PSH);
    assert_int_equal(p.win, 501);
    assert_int_equal(p.hdr_len, 20);
    assert_no_options(&p);
    assert_ptr_equal(p.payload, buf + 20);
    assert_int_equal(p.payload_len, 12);
    assert_memory_equal(p.payload, data, 12);
    /* The checksum binds the addresses (pseudo-header); swapping them does not change the sum,
     * a different address does. */
    assert_int_equal(glass_tcp_parse(buf, 32, SRC, DST, true, &p), GLASS_DROP_NONE);
    assert_int_equal(glass_tcp_parse(buf, 32, DST, 0xC0000263u, true, &p), GLASS_DROP_TCP_CSUM);
}

/* Odd-length payload after a header with options, including urgent pointer and all flags
 * that parse allows. */
static void test_tcp_emit_odd_payload_with_ts_and_sack(void **state)
{
    (void)state;
    uint8_t data[1001];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7u);
    struct glass_tcp_repr r = {.src_port = 5,
                               .dst_port = 6,
                               .seq = 1,
                               .ack = 2,
                               .flags = GLASS_TH_ACK | GLASS_TH_URG | GLASS_TH_ECE | GLASS_TH_CWR,
                               .urg = 3,
                               .win = 7,
                               .wscale = -1,
                               .has_ts = true,
                               .ts_val = 9,
                               .ts_ecr = 10,
                               .nsack = 3,
                               .sack = {{100, 200}, {300, 400}, {0xFFFFFF00u, 0x10}},
                               .payload = data,
                               .payload_len = sizeof(data)};
    uint8_t buf[1100];
    struct glass_tcp_repr p;

    assert_int_equal(glass_tcp_hdr_len(&r), 20 + 12 + 4 + 24);
    assert_int_equal(glass_tcp_emit(buf, sizeof(buf), &r, SRC, DST), 60 + 1001);
    assert_int_equal(glass_tcp_parse(buf, 1061, SRC, DST, true, &p), GLASS_DROP_NONE);
    assert_int_equal(p.flags, r.flags);
    assert_int_equal(p.urg, 3);
    assert_int_equal(p.hdr_len, 60);
    assert_true(p.has_ts);
    assert_int_equal(p.nsack, 3);
    assert_int_equal(p.sack[0].left, 100);
    assert_int_equal(p.sack[0].right, 200);
    assert_int_equal(p.sack[1].left, 300);
    assert_int_equal(p.sack[1].right, 400);
    assert_int_equal(p.sack[2].left, 0xFFFFFF00u);
    assert_int_equal(p.sack[2].right, 0x10);
    assert_int_equal(p.payload_len, 1001);
    assert_memory_equal(p.payload, data, sizeof(data));
}

/* SACK blocks that do not fit in the 40 option bytes are dropped, never overflowing doff. */
static void test_tcp_emit_sack_blocks_trimmed_to_fit(void **state)
{
    (void)state;
    uint8_t buf[80];
    struct glass_tcp_repr p;
    struct glass_tcp_repr r = {.src_port = 5,
                               .dst_port = 6,
                               .flags = GLASS_TH_ACK,
                               .wscale = -1,
                               .nsack = 4,
                               .sack = {{1, 2}, {3, 4}, {5, 6}, {7, 8}}};

    /* 4 blocks alone: NOP NOP SACK(34) = 36 bytes. */
    assert_int_equal(glass_tcp_hdr_len(&r), 56);
    /* With TS (12 bytes): only 3 blocks fit (12 + 28 = 40). */
    r.has_ts = true;
    assert_int_equal(glass_tcp_hdr_len(&r), 60);
    assert_int_equal(glass_tcp_emit(buf, sizeof(buf), &r, SRC, DST), 60);
    assert_int_equal(glass_tcp_parse(buf, 60, SRC, DST, true, &p), GLASS_DROP_NONE);
    assert_int_equal(p.nsack, 3);
    assert_int_equal(p.sack[2].left, 5);
    /* MSS + TS + WS leave 20 bytes: 2 blocks. */
    r.mss = 1460;
    r.wscale = 14;
    assert_int_equal(glass_tcp_hdr_len(&r), 60);
    assert_int_equal(glass_tcp_emit(buf, sizeof(buf), &r, SRC, DST), 60);
    assert_int_equal(glass_tcp_parse(buf, 60, SRC, DST, true, &p), GLASS_DROP_NONE);
    assert_int_equal(p.nsack, 2);
    assert_int_equal(p.wscale, 14);
    assert_int_equal(p.mss, 1460);
    /* nsack larger than the array is clamped to GLASS_TCP_MAX_SACK. */
    struct glass_tcp_repr big = {.src_port = 5,
                                 .dst_port = 6,
                                 .flags = GLASS_TH_ACK,
                                 .wscale = -1,
                                 .nsack = 200,
                                 .sack = {{1, 2}, {3, 4}, {5, 6}, {7, 8}}};
    assert_int_equal(glass_tcp_hdr_len(&big), 56);
}

/* payload == NULL: the caller already put payload_len bytes at buf + hdr_len. */
static void test_tcp_emit_payload_in_place(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct glass_tcp_repr p;
    struct glass_tcp_repr r = {.src_port = 5,
                               .dst_port = 6,
                               .seq = 77,
                               .flags = GLASS_TH_ACK,
                               .wscale = -1,
                               .has_ts = true,
                               .ts_val = 1,
                               .payload = NULL,
                               .payload_len = 11};
    size_t hl = glass_tcp_hdr_len(&r);

    assert_int_equal(hl, 32);
    memcpy(buf + hl, "in the ring", 11);
    assert_int_equal(glass_tcp_emit(buf, sizeof(buf), &r, SRC, DST), 43);
    assert_int_equal(glass_tcp_parse(buf, 43, SRC, DST, true, &p), GLASS_DROP_NONE);
    assert_int_equal(p.payload_len, 11);
    assert_memory_equal(p.payload, "in the ring", 11);
}

static void test_tcp_emit_does_not_fit(void **state)
{
    (void)state;
    uint8_t buf[64];
    static const uint8_t data[10] = {0};
    struct glass_tcp_repr r = {.src_port = 5,
                               .dst_port = 6,
                               .flags = GLASS_TH_ACK,
                               .wscale = -1,
                               .mss = 1460,
                               .payload = data,
                               .payload_len = sizeof(data)};

    memset(buf, 0xee, sizeof(buf));
    assert_int_equal(glass_tcp_emit(buf, 33, &r, SRC, DST), 0);
    assert_int_equal(buf[0], 0xee); /* nothing written */
    assert_int_equal(glass_tcp_emit(buf, 34, &r, SRC, DST), 34);
    assert_int_equal(
        glass_tcp_emit(buf, 19,
                       &(struct glass_tcp_repr){.src_port = 1, .dst_port = 1, .wscale = -1}, SRC,
                       DST),
        0);
}

/* ---- header checks --------------------------------------------------------------------- */

static void test_tcp_parse_flags_syn_fin_syn_rst(void **state)
{
    (void)state;
    uint8_t seg[20];
    struct glass_tcp_repr r;

    build(seg, 20, 5, GLASS_TH_SYN | GLASS_TH_FIN, NULL, 0);
    assert_int_equal(glass_tcp_parse(seg, 20, SRC, DST, true, &r), GLASS_DROP_TCP_FLAGS);
    build(seg, 20, 5, GLASS_TH_SYN | GLASS_TH_RST | GLASS_TH_ACK, NULL, 0);
    assert_int_equal(glass_tcp_parse(seg, 20, SRC, DST, true, &r), GLASS_DROP_TCP_FLAGS);
    build(seg, 20, 5, GLASS_TH_FIN | GLASS_TH_RST | GLASS_TH_ACK, NULL, 0); /* core's to judge */
    assert_int_equal(glass_tcp_parse(seg, 20, SRC, DST, true, &r), GLASS_DROP_NONE);
    build(seg, 20, 5, 0, NULL, 0); /* no flags at all: also the core's to judge */
    assert_int_equal(glass_tcp_parse(seg, 20, SRC, DST, true, &r), GLASS_DROP_NONE);
    assert_int_equal(r.flags, 0);
}

/* 62. Port 0. */
static void test_cat062_port0(void **state)
{
    (void)state;
    uint8_t seg[20];
    struct glass_tcp_repr r;

    build(seg, 20, 5, GLASS_TH_SYN, NULL, 0);
    glass_put16(seg, 0);
    fix_cksum(seg, 20, SRC, DST);
    assert_int_equal(glass_tcp_parse(seg, 20, SRC, DST, true, &r), GLASS_DROP_TCP_PORT0);
    build(seg, 20, 5, GLASS_TH_SYN, NULL, 0);
    glass_put16(seg + 2, 0);
    fix_cksum(seg, 20, SRC, DST);
    assert_int_equal(glass_tcp_parse(seg, 20, SRC, DST, true, &r), GLASS_DROP_TCP_PORT0);
}

/* 57. TCP segment shorter than 20 bytes. */
static void test_cat057_shorter_than_20(void **state)
{
    (void)state;
    uint8_t seg[20];
    struct glass_tcp_repr r;

    build(seg, 20, 5, GLASS_TH_SYN, NULL, 0);
    for (size_t len = 0; len < 20; len++) {
        assert_int_equal(glass_tcp_parse(seg, len, SRC, DST, true, &r), GLASS_DROP_PKT_TOO_SMALL);
        assert_int_equal(glass_tcp_parse(seg, len, SRC, DST, false, &r), GLASS_DROP_PKT_TOO_SMALL);
    }
    assert_int_equal(glass_tcp_parse(NULL, 0, SRC, DST, true, &r), GLASS_DROP_PKT_TOO_SMALL);
}

/* 58. doff < 5. */
static void test_cat058_doff_below_5(void **state)
{
    (void)state;
    uint8_t seg[40];
    struct glass_tcp_repr r;

    for (unsigned doff = 0; doff < 5; doff++) {
        build(seg, sizeof(seg), doff, GLASS_TH_ACK, NULL, 0);
        assert_int_equal(glass_tcp_parse(seg, sizeof(seg), SRC, DST, true, &r), GLASS_DROP_TCP_HDR);
        assert_int_equal(glass_tcp_parse(seg, sizeof(seg), SRC, DST, false, &r),
                         GLASS_DROP_TCP_HDR);
    }
}

/* 59. doff*4 > TCP length: doff 15 and doff 6 in a 20-byte segment; every doff beyond an exact
 * heap-sized buffer (ASan catches any read past it). */
static void test_cat059_doff_beyond_length(void **state)
{
    (void)state;
    uint8_t seg[20];
    struct glass_tcp_repr r;

    build(seg, 20, 15, GLASS_TH_ACK, NULL, 0);
    assert_int_equal(glass_tcp_parse(seg, 20, SRC, DST, true, &r), GLASS_DROP_PKT_TOO_SMALL);
    build(seg, 20, 6, GLASS_TH_ACK, NULL, 0);
    assert_int_equal(glass_tcp_parse(seg, 20, SRC, DST, true, &r), GLASS_DROP_PKT_TOO_SMALL);

    for (size_t len = 20; len < 60; len++) {
        uint8_t *copy = test_malloc(len);
        build(copy, len, 15, GLASS_TH_ACK, NULL, 0);
        assert_int_equal(glass_tcp_parse(copy, len, SRC, DST, false, &r), GLASS_DROP_PKT_TOO_SMALL);
        test_free(copy);
    }
}

/* 60. Bad checksum: right checksum for another source address, or a flipped payload bit. */
static void test_cat060_bad_checksum(void **state)
{
    (void)state;
    uint8_t seg[30];
    struct glass_tcp_repr r;

    build(seg, sizeof(seg), 5, GLASS_TH_ACK, NULL, 0);
    assert_int_equal(glass_tcp_parse(seg, sizeof(seg), SRC, DST, true, &r), GLASS_DROP_NONE);

    fix_cksum(seg, sizeof(seg), 0xC0000263u /* 192.0.2.99 */, DST);
    assert_int_equal(glass_tcp_parse(seg, sizeof(seg), SRC, DST, true, &r), GLASS_DROP_TCP_CSUM);
    assert_int_equal(glass_tcp_parse(seg, sizeof(seg), SRC, DST, false, &r), GLASS_DROP_NONE);

    build(seg, sizeof(seg), 5, GLASS_TH_ACK, NULL, 0);
    seg[25] ^= 0x10;
    assert_int_equal(glass_tcp_parse(seg, sizeof(seg), SRC, DST, true, &r), GLASS_DROP_TCP_CSUM);

    /* Odd length: the last byte is summed as the high half of a zero-padded word. */
    build(seg, 29, 5, GLASS_TH_ACK, NULL, 0);
    assert_int_equal(glass_tcp_parse(seg, 29, SRC, DST, true, &r), GLASS_DROP_NONE);
    seg[28] ^= 0x01;
    assert_int_equal(glass_tcp_parse(seg, 29, SRC, DST, true, &r), GLASS_DROP_TCP_CSUM);
    /* A wrong checksum is found before bad flags or a zero port. */
    build(seg, 20, 5, GLASS_TH_SYN | GLASS_TH_FIN, NULL, 0);
    seg[16] ^= 0xff;
    assert_int_equal(glass_tcp_parse(seg, 20, SRC, DST, true, &r), GLASS_DROP_TCP_CSUM);
}

/* ---- options ------------------------------------------------------------------------------ */

/* 65. Option length 0: TS kind and an unknown kind; options before it stand. */
static void test_cat065_option_length_0(void **state)
{
    (void)state;
    struct glass_tcp_repr r;

    static const uint8_t ts0[] = {0x08, 0x00, 0x00, 0x00};
    assert_int_equal(parse_opts(ts0, sizeof(ts0), 6, &r), GLASS_DROP_NONE);
    assert_true(r.opt_malformed);
    assert_no_options(&r);

    static const uint8_t fe0[] = {0xfe, 0x00, 0x02, 0x04};
    assert_int_equal(parse_opts(fe0, sizeof(fe0), 6, &r), GLASS_DROP_NONE);
    assert_true(r.opt_malformed);
    assert_no_options(&r);

    static const uint8_t mss_then_0[] = {0x02, 0x04, 0x05, 0xb4, 0x08, 0x00, 0x03, 0x03};
    assert_int_equal(parse_opts(mss_then_0, sizeof(mss_then_0), 7, &r), GLASS_DROP_NONE);
    assert_true(r.opt_malformed);
    assert_int_equal(r.mss, 1460);
    assert_int_equal(r.wscale, -1); /* the walk stopped before it */
    assert_int_equal(r.hdr_len, 28);
    assert_int_equal(r.payload_len, 0);
}

/* 66. Option length 1. */
static void test_cat066_option_length_1(void **state)
{
    (void)state;
    struct glass_tcp_repr r;
    static const uint8_t ws1[] = {0x03, 0x01, 0x03, 0x03};

    assert_int_equal(parse_opts(ws1, sizeof(ws1), 6, &r), GLASS_DROP_NONE);
    assert_true(r.opt_malformed);
    assert_no_options(&r);
}

/* 67. Option extends past doff: doff 6, option at byte 22 with length 10. */
static void test_cat067_option_past_doff(void **state)
{
    (void)state;
    struct glass_tcp_repr r;
    uint8_t seg[40];
    static const uint8_t opt[] = {0x01, 0x01, 0x08, 0x0a};

    /* The bytes after doff look like the rest of a TS option: they must not be used. */
    build(seg, sizeof(seg), 6, GLASS_TH_ACK, opt, sizeof(opt));
    assert_int_equal(glass_tcp_parse(seg, sizeof(seg), SRC, DST, true, &r), GLASS_DROP_NONE);
    assert_true(r.opt_malformed);
    assert_false(r.has_ts);
    assert_int_equal(r.hdr_len, 24);
    assert_int_equal(r.payload_len, 16);

    /* The same with the header ending exactly at the buffer's end (ASan-checked). */
    uint8_t *copy = test_malloc(24);
    build(copy, 24, 6, GLASS_TH_ACK, opt, sizeof(opt));
    assert_int_equal(glass_tcp_parse(copy, 24, SRC, DST, true, &r), GLASS_DROP_NONE);
    assert_true(r.opt_malformed);
    test_free(copy);
}

/* 68. Kind byte is the last byte: 01 01 01 02. */
static void test_cat068_kind_is_last_byte(void **state)
{
    (void)state;
    struct glass_tcp_repr r;
    static const uint8_t opt[] = {0x01, 0x01, 0x01, 0x02};

    uint8_t *copy = test_malloc(24);
    build(copy, 24, 6, GLASS_TH_SYN, opt, sizeof(opt));
    assert_int_equal(glass_tcp_parse(copy, 24, SRC, DST, true, &r), GLASS_DROP_NONE);
    assert_true(r.opt_malformed);
    assert_int_equal(r.mss, 0);
    test_free(copy);
}

/* 69. MSS option with the wrong length is ignored (not malformed: the TLV is sound). */
static void test_cat069_mss_wrong_length(void **state)
{
    (void)state;
    struct glass_tcp_repr r;

    static const uint8_t len3[] = {0x02, 0x03, 0x05, 0x00};
    assert_int_equal(parse_opts(len3, sizeof(len3), 6, &r), GLASS_DROP_NONE);
    assert_int_equal(r.mss, 0);
    assert_false(r.opt_malformed);

    static const uint8_t len5[] = {0x02, 0x05, 0x05, 0xb4, 0x00, 0x01, 0x03, 0x03, 0x08};
    assert_int_equal(parse_opts(len5, sizeof(len5), 8, &r), GLASS_DROP_NONE);
    assert_int_equal(r.mss, 0);
    assert_int_equal(r.wscale, 8); /* the walk went on after the ignored option */
    assert_false(r.opt_malformed);

    /* A well-formed MSS after an ill-sized one is taken. */
    static const uint8_t then_good[] = {0x02, 0x03, 0x05, 0x02, 0x04, 0x02, 0x18, 0x00};
    assert_int_equal(parse_opts(then_good, sizeof(then_good), 7, &r), GLASS_DROP_NONE);
    assert_int_equal(r.mss, 536);
}

/* 74. Window scale > 14 is reported as received; clamping to 14 is the core's job. */
static void test_cat074_wscale_above_14(void **state)
{
    (void)state;
    static const uint8_t shifts[] = {14, 15, 32, 255};
    struct glass_tcp_repr r;

    for (size_t i = 0; i < sizeof(shifts); i++) {
        const uint8_t opt[] = {0x01, 0x03, 0x03, shifts[i]};
        assert_int_equal(parse_opts(opt, sizeof(opt), 6, &r), GLASS_DROP_NONE);
        assert_int_equal(r.wscale, shifts[i]);
        assert_false(r.opt_malformed);
    }
}

/* 76. Timestamp length != 10, SACK-permitted length != 2: ignored. */
static void test_cat076_ts_and_sackok_wrong_length(void **state)
{
    (void)state;
    struct glass_tcp_repr r;

    static const uint8_t ts8[] = {0x08, 0x08, 0, 0, 0, 1, 0, 0};
    assert_int_equal(parse_opts(ts8, sizeof(ts8), 7, &r), GLASS_DROP_NONE);
    assert_false(r.has_ts);
    assert_false(r.opt_malformed);

    static const uint8_t sp3[] = {0x04, 0x03, 0x00, 0x00};
    assert_int_equal(parse_opts(sp3, sizeof(sp3), 6, &r), GLASS_DROP_NONE);
    assert_false(r.sack_perm);
    assert_false(r.opt_malformed);
}

/* 77. Malformed SACK blocks: length not 2 + 8n, zero blocks, more than 4 blocks. Blocks whose
 * values are nonsense (left >= right) are reported as received for the core to judge. */
static void test_cat077_sack_malformed(void **state)
{
    (void)state;
    struct glass_tcp_repr r;

    static const uint8_t len11[] = {0x01, 0x01, 0x05, 0x0b, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0};
    assert_int_equal(parse_opts(len11, sizeof(len11), 9, &r), GLASS_DROP_NONE);
    assert_int_equal(r.nsack, 0);
    assert_false(r.opt_malformed);

    static const uint8_t zero_blocks[] = {0x01, 0x01, 0x05, 0x02};
    assert_int_equal(parse_opts(zero_blocks, sizeof(zero_blocks), 6, &r), GLASS_DROP_NONE);
    assert_int_equal(r.nsack, 0);
    assert_false(r.opt_malformed);

    /* Five blocks need 42 bytes: more than the 40 option bytes there can be. */
    uint8_t five[40] = {0x05, 42};
    assert_int_equal(parse_opts(five, sizeof(five), 15, &r), GLASS_DROP_NONE);
    assert_int_equal(r.nsack, 0);
    assert_true(r.opt_malformed);

    /* Four blocks (the maximum) with left >= right in one of them. */
    uint8_t four[36] = {0x01, 0x01, 0x05, 34};
    for (unsigned i = 0; i < 4; i++) {
        glass_put32(four + 4 + 8 * i, 1000u * (i + 1));
        glass_put32(four + 8 + 8 * i, i == 2 ? 10u : 1000u * (i + 1) + 500u);
    }
    assert_int_equal(parse_opts(four, sizeof(four), 14, &r), GLASS_DROP_NONE);
    assert_int_equal(r.nsack, 4);
    assert_int_equal(r.sack[0].left, 1000);
    assert_int_equal(r.sack[0].right, 1500);
    assert_int_equal(r.sack[2].left, 3000);
    assert_int_equal(r.sack[2].right, 10);
    assert_int_equal(r.sack[3].left, 4000);
    assert_int_equal(r.sack[3].right, 4500);
    assert_false(r.opt_malformed);
}

/* 78. Unaligned options and early EOL. */
static void test_cat078_unaligned_options_and_early_eol(void **state)
{
    (void)state;
    struct glass_tcp_repr r;

    /* MSS at byte 21, TS at byte 25 (no NOP padding to align it). */
    static const uint8_t unaligned[] = {0x01, 0x02, 0x04, 0x05, 0xb4, 0x08, 0x0a, 0,    0,   0,
                                        7,    0,    0,    0,    9,    0x03, 0x03, 0x02, 0x00};
    assert_int_equal(parse_opts(unaligned, sizeof(unaligned), 10, &r), GLASS_DROP_NONE);
    assert_int_equal(r.mss, 1460);
    assert_true(r.has_ts);
    assert_int_equal(r.ts_val, 7);
    assert_int_equal(r.ts_ecr, 9);
    assert_int_equal(r.wscale, 2);
    assert_false(r.opt_malformed);

    /* EOL followed by non-zero bytes, including what would be a bad length. */
    static const uint8_t eol[] = {0x02, 0x04, 0x05, 0xb4, 0x00, 0x03,
                                  0x03, 0x07, 0xfe, 0x00, 0x08, 0x01};
    assert_int_equal(parse_opts(eol, sizeof(eol), 8, &r), GLASS_DROP_NONE);
    assert_int_equal(r.mss, 1460);
    assert_int_equal(r.wscale, -1);
    assert_false(r.opt_malformed);
}

/* 79. Duplicate options: the first well-formed one wins. */
static void test_cat079_duplicate_options(void **state)
{
    (void)state;
    struct glass_tcp_repr r;

    static const uint8_t two_mss[] = {0x02, 0x04, 0x05, 0xb4, 0x02, 0x04, 0x02, 0x18};
    assert_int_equal(parse_opts(two_mss, sizeof(two_mss), 7, &r), GLASS_DROP_NONE);
    assert_int_equal(r.mss, 1460);

    static const uint8_t two_ws[] = {0x03, 0x03, 0x07, 0x03, 0x03, 0x02, 0x00, 0x00};
    assert_int_equal(parse_opts(two_ws, sizeof(two_ws), 7, &r), GLASS_DROP_NONE);
    assert_int_equal(r.wscale, 7);

    static const uint8_t two_ts[] = {0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 2,
                                     0x08, 0x0a, 0, 0, 0, 3, 0, 0, 0, 4};
    assert_int_equal(parse_opts(two_ts, sizeof(two_ts), 10, &r), GLASS_DROP_NONE);
    assert_int_equal(r.ts_val, 1);
    assert_int_equal(r.ts_ecr, 2);

    static const uint8_t two_sack[] = {0x05, 0x0a, 0, 0, 0, 1, 0, 0, 0, 2,
                                       0x05, 0x0a, 0, 0, 0, 3, 0, 0, 0, 4};
    assert_int_equal(parse_opts(two_sack, sizeof(two_sack), 10, &r), GLASS_DROP_NONE);
    assert_int_equal(r.nsack, 1);
    assert_int_equal(r.sack[0].left, 1);
    assert_int_equal(r.sack[0].right, 2);
    assert_false(r.opt_malformed);
}

/* 80. Unknown, experimental and authentication options: ignored when well-formed. */
static void test_cat080_unknown_options(void **state)
{
    (void)state;
    struct glass_tcp_repr r;

    uint8_t md5[20] = {19, 18}; /* RFC 2385 MD5 signature, 16-byte digest */
    md5[18] = 0x02;             /* then MSS, which must still be found */
    md5[19] = 0x04;
    uint8_t opts[24];
    memcpy(opts, md5, 20);
    opts[20] = 0x05;
    opts[21] = 0xb4;
    opts[22] = 0x01;
    opts[23] = 0x00;
    assert_int_equal(parse_opts(opts, sizeof(opts), 11, &r), GLASS_DROP_NONE);
    assert_int_equal(r.mss, 1460);
    assert_false(r.opt_malformed);

    static const uint8_t ao_exp[] = {29,   6,    1,   2, 3,    4,    253,  4,
                                     0xbe, 0xef, 254, 2, 0x04, 0x02, 0x01, 0x00};
    assert_int_equal(parse_opts(ao_exp, sizeof(ao_exp), 9, &r), GLASS_DROP_NONE);
    assert_true(r.sack_perm);
    assert_false(r.opt_malformed);

    uint8_t nops[40];
    memset(nops, 0x01, sizeof(nops));
    assert_int_equal(parse_opts(nops, sizeof(nops), 15, &r), GLASS_DROP_NONE);
    assert_no_options(&r);
    assert_false(r.opt_malformed);

    /* With a bad length the rules of 65-67 apply. */
    static const uint8_t md5_bad[] = {19, 30, 0, 0};
    assert_int_equal(parse_opts(md5_bad, sizeof(md5_bad), 6, &r), GLASS_DROP_NONE);
    assert_true(r.opt_malformed);
}

/* Every prefix of a segment with every option, in an exact-size heap buffer, parsed with and
 * without verification: no out-of-bounds access (ASan), a drop reason or a sane repr. */
static void test_tcp_parse_all_truncations(void **state)
{
    (void)state;
    struct glass_tcp_repr r = {.src_port = 1,
                               .dst_port = 2,
                               .flags = GLASS_TH_ACK,
                               .mss = 1,
                               .wscale = 3,
                               .sack_perm = true,
                               .has_ts = true,
                               .nsack = 1,
                               .sack = {{1, 2}}};
    struct glass_tcp_repr p;
    uint8_t full[60];

    size_t n = glass_tcp_emit(full, sizeof(full), &r, SRC, DST);
    assert_int_equal(n, 20 + 4 + 12 + 4 + 12);
    for (size_t len = 0; len <= n; len++) {
        uint8_t *copy = test_malloc(len ? len : 1);
        memcpy(copy, full, len);
        int rc = glass_tcp_parse(copy, len, SRC, DST, false, &p);
        assert_int_equal(rc, len < n ? GLASS_DROP_PKT_TOO_SMALL : GLASS_DROP_NONE);
        test_free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_emit_syn_all_options_linux_layout),
        cmocka_unit_test(test_tcp_emit_ts_only_and_sackok_only),
        cmocka_unit_test(test_tcp_emit_data_segment_round_trip),
        cmocka_unit_test(test_tcp_emit_odd_payload_with_ts_and_sack),
        cmocka_unit_test(test_tcp_emit_sack_blocks_trimmed_to_fit),
        cmocka_unit_test(test_tcp_emit_payload_in_place),
        cmocka_unit_test(test_tcp_emit_does_not_fit),
        cmocka_unit_test(test_tcp_parse_flags_syn_fin_syn_rst),
        cmocka_unit_test(test_cat057_shorter_than_20),
        cmocka_unit_test(test_cat058_doff_below_5),
        cmocka_unit_test(test_cat059_doff_beyond_length),
        cmocka_unit_test(test_cat060_bad_checksum),
        cmocka_unit_test(test_cat062_port0),
        cmocka_unit_test(test_cat065_option_length_0),
        cmocka_unit_test(test_cat066_option_length_1),
        cmocka_unit_test(test_cat067_option_past_doff),
        cmocka_unit_test(test_cat068_kind_is_last_byte),
        cmocka_unit_test(test_cat069_mss_wrong_length),
        cmocka_unit_test(test_cat074_wscale_above_14),
        cmocka_unit_test(test_cat076_ts_and_sackok_wrong_length),
        cmocka_unit_test(test_cat077_sack_malformed),
        cmocka_unit_test(test_cat078_unaligned_options_and_early_eol),
        cmocka_unit_test(test_cat079_duplicate_options),
        cmocka_unit_test(test_cat080_unknown_options),
        cmocka_unit_test(test_tcp_parse_all_truncations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
