/* glasstcp — unit tests for the public one-line decoders (include/glass/wire.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "wire/wire_priv.h"
#include <glass/err.h>
#include <glass/trace.h>
#include <glass/wire.h>

#define A 0xC0000201u /* 192.0.2.1 */
#define B 0xC0000202u /* 192.0.2.2 */

/* IPv4 + TCP packet for t from src to dst; returns its length. */
static size_t make_pkt(uint8_t *buf, size_t cap, const struct glass_tcp_repr *t, uint32_t src,
                       uint32_t dst)
{
    size_t n = glass_tcp_emit(buf + 20, cap - 20, t, src, dst);
    assert_true(n > 0);
    struct glass_ipv4_repr ip = {.src = src,
                                 .dst = dst,
                                 .proto = GLASS_IPV4_PROTO_TCP,
                                 .ttl = 64,
                                 .id = 1,
                                 .frag = GLASS_IPV4_DF};
    assert_int_equal(glass_ipv4_emit(buf, cap, &ip, n), 20);
    return 20 + n;
}

static void expect_describe(const uint8_t *pkt, size_t len, const char *want)
{
    char out[256];
    int n = glass_pkt_describe(pkt, len, out, sizeof(out));
    assert_string_equal(out, want);
    assert_int_equal(n, (int)strlen(want));
}

/* ---- flags -------------------------------------------------------------------------------- */

static void test_fmt_flags_common(void **state)
{
    (void)state;
    char buf[9];

    assert_string_equal(glass_tcp_flags_str(0, buf), "none");
    assert_string_equal(glass_tcp_flags_str(GLASS_TH_SYN, buf), "S");
    assert_string_equal(glass_tcp_flags_str(GLASS_TH_SYN | GLASS_TH_ACK, buf), "S.");
    assert_string_equal(glass_tcp_flags_str(GLASS_TH_ACK, buf), ".");
    assert_string_equal(glass_tcp_flags_str(GLASS_TH_PSH | GLASS_TH_ACK, buf), "P.");
    assert_string_equal(glass_tcp_flags_str(GLASS_TH_FIN | GLASS_TH_ACK, buf), "F.");
    assert_string_equal(glass_tcp_flags_str(GLASS_TH_FIN | GLASS_TH_PSH | GLASS_TH_ACK, buf),
                        "FP.");
    assert_string_equal(glass_tcp_flags_str(GLASS_TH_RST, buf), "R");
    assert_string_equal(glass_tcp_flags_str(GLASS_TH_RST | GLASS_TH_ACK, buf), "R.");
    assert_ptr_equal(glass_tcp_flags_str(GLASS_TH_RST, buf), buf);
}

static void test_fmt_flags_rare_and_all(void **state)
{
    (void)state;
    char buf[9];

    assert_string_equal(glass_tcp_flags_str(GLASS_TH_ACK | GLASS_TH_URG, buf), ".U");
    assert_string_equal(glass_tcp_flags_str(GLASS_TH_SYN | GLASS_TH_ECE | GLASS_TH_CWR, buf),
                        "SEW");
    assert_string_equal(glass_tcp_flags_str(GLASS_TH_SYN | GLASS_TH_FIN, buf), "FS");
    assert_string_equal(glass_tcp_flags_str(0xff, buf), "FSRP.UEW"); /* 8 letters + NUL */
}

/* ---- addresses ---------------------------------------------------------------------------- */

static void test_fmt_ip4_str(void **state)
{
    (void)state;
    char buf[16];

    assert_string_equal(glass_ip4_str(A, buf), "192.0.2.1");
    assert_string_equal(glass_ip4_str(0, buf), "0.0.0.0");
    assert_string_equal(glass_ip4_str(0xffffffffu, buf), "255.255.255.255");
    assert_string_equal(glass_ip4_str(GLASS_IP4(10, 0, 20, 3), buf), "10.0.20.3");
}

static void test_fmt_ip4_parse_good(void **state)
{
    (void)state;
    uint32_t a = 1;

    assert_int_equal(glass_ip4_parse("192.0.2.1", &a), 0);
    assert_int_equal(a, A);
    assert_int_equal(glass_ip4_parse("0.0.0.0", &a), 0);
    assert_int_equal(a, 0);
    assert_int_equal(glass_ip4_parse("255.255.255.255", &a), 0);
    assert_int_equal(a, 0xffffffffu);
    assert_int_equal(glass_ip4_parse("10.0.200.99", &a), 0);
    assert_int_equal(a, GLASS_IP4(10, 0, 200, 99));

    char buf[16];
    for (uint32_t v = 0; v < 0x100000u; v += 0x1111u) {
        uint32_t addr = v * 4099u, back = 0;
        assert_int_equal(glass_ip4_parse(glass_ip4_str(addr, buf), &back), 0);
        assert_int_equal(back, addr);
    }
}

static void test_fmt_ip4_parse_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",          "1",          "1.2.3",    "1.2.3.4.5",  "256.1.1.1", "1.2.3.256",
        "1.2.3.999", "1000.1.1.1", " 1.2.3.4", "1.2.3.4 ",   "1..2.3",    ".1.2.3",
        "1.2.3.",    "01.2.3.4",   "1.2.3.00", "1.2.3.0004", "1.2.3.-4",  "+1.2.3.4",
        "1.2.3.4a",  "0x1.2.3.4",  "a.b.c.d",  "1,2,3,4",    "1.2.3.4\n", "1.2.3.4/24",
        "1.2.3.4.",  "1.2. 3.4",
    };
    uint32_t a = 0x5a5a5a5au;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(glass_ip4_parse(bad[i], &a), -GLASS_EINVAL);
        assert_int_equal(a, 0x5a5a5a5au); /* untouched on failure */
    }
    assert_int_equal(glass_ip4_parse(NULL, &a), -GLASS_EINVAL);
    assert_int_equal(glass_ip4_parse("1.2.3.4", NULL), -GLASS_EINVAL);
}

/* ---- describe ----------------------------------------------------------------------------- */

static void test_fmt_describe_syn(void **state)
{
    (void)state;
    uint8_t pkt[100];
    struct glass_tcp_repr t = {.src_port = 40000,
                               .dst_port = 80,
                               .seq = 100,
                               .flags = GLASS_TH_SYN,
                               .win = 65535,
                               .mss = 1460,
                               .wscale = -1};
    size_t n = make_pkt(pkt, sizeof(pkt), &t, A, B);

    expect_describe(pkt, n, "192.0.2.1:40000 > 192.0.2.2:80 S seq 100 win 65535 len 0 <mss 1460>");
}

static void test_fmt_describe_synack_all_options(void **state)
{
    (void)state;
    uint8_t pkt[100];
    struct glass_tcp_repr t = {.src_port = 80,
                               .dst_port = 40000,
                               .seq = 1,
                               .ack = 2,
                               .flags = GLASS_TH_SYN | GLASS_TH_ACK,
                               .win = 65535,
                               .mss = 1460,
                               .wscale = 7,
                               .sack_perm = true,
                               .has_ts = true,
                               .ts_val = 5,
                               .ts_ecr = 6};
    size_t n = make_pkt(pkt, sizeof(pkt), &t, B, A);

    expect_describe(pkt, n,
                    "192.0.2.2:80 > 192.0.2.1:40000 S. seq 1 ack 2 win 65535 len 0 "
                    "<mss 1460,sackOK,TS val 5 ecr 6,wscale 7>");
    struct glass_pkt_summary s;
    assert_int_equal(glass_pkt_decode(pkt, n, &s), 0);
    assert_int_equal(s.mss, 1460);
    assert_int_equal(s.wscale, 7);
    t.wscale = 20; /* RFC 7323 §2.3: reported as 14 */
    n = make_pkt(pkt, sizeof(pkt), &t, B, A);
    assert_int_equal(glass_pkt_decode(pkt, n, &s), 0);
    assert_int_equal(s.wscale, 14);
    t.wscale = -1;
    n = make_pkt(pkt, sizeof(pkt), &t, B, A);
    assert_int_equal(glass_pkt_decode(pkt, n, &s), 0);
    assert_int_equal(s.wscale, -1);
}

static void test_fmt_describe_data_sack_urg(void **state)
{
    (void)state;
    uint8_t pkt[100];
    struct glass_tcp_repr t = {.src_port = 40000,
                               .dst_port = 80,
                               .seq = 4294967295u,
                               .ack = 2,
                               .flags = GLASS_TH_PSH | GLASS_TH_ACK,
                               .win = 502,
                               .wscale = -1,
                               .payload = (const uint8_t *)"hello",
                               .payload_len = 5};
    size_t n = make_pkt(pkt, sizeof(pkt), &t, A, B);
    expect_describe(pkt, n, "192.0.2.1:40000 > 192.0.2.2:80 P. seq 4294967295 ack 2 win 502 len 5");

    struct glass_tcp_repr s = {.src_port = 80,
                               .dst_port = 40000,
                               .seq = 1,
                               .ack = 10,
                               .flags = GLASS_TH_ACK,
                               .win = 100,
                               .wscale = -1,
                               .nsack = 2,
                               .sack = {{20, 30}, {40, 50}}};
    n = make_pkt(pkt, sizeof(pkt), &s, B, A);
    expect_describe(pkt, n,
                    "192.0.2.2:80 > 192.0.2.1:40000 . seq 1 ack 10 win 100 len 0 "
                    "<sack 20:30 40:50>");

    struct glass_tcp_repr u = {.src_port = 80,
                               .dst_port = 40000,
                               .seq = 1,
                               .ack = 10,
                               .flags = GLASS_TH_ACK | GLASS_TH_URG,
                               .urg = 1,
                               .win = 100,
                               .wscale = -1,
                               .payload = (const uint8_t *)"!",
                               .payload_len = 1};
    n = make_pkt(pkt, sizeof(pkt), &u, B, A);
    expect_describe(pkt, n, "192.0.2.2:80 > 192.0.2.1:40000 .U seq 1 ack 10 win 100 urg 1 len 1");

    struct glass_tcp_repr r = {
        .src_port = 80, .dst_port = 40000, .seq = 7, .flags = GLASS_TH_RST, .wscale = -1};
    n = make_pkt(pkt, sizeof(pkt), &r, B, A);
    expect_describe(pkt, n, "192.0.2.2:80 > 192.0.2.1:40000 R seq 7 win 0 len 0");
}

static void test_fmt_describe_malformed_options(void **state)
{
    (void)state;
    uint8_t pkt[100];
    struct glass_tcp_repr t = {.src_port = 40000,
                               .dst_port = 80,
                               .seq = 100,
                               .flags = GLASS_TH_SYN,
                               .win = 1000,
                               .mss = 1460,
                               .wscale = 5};
    size_t n = make_pkt(pkt, sizeof(pkt), &t, A, B);

    pkt[20 + 26] = 0; /* WS length 3 -> 0 (checksums are not verified by describe) */
    expect_describe(pkt, n,
                    "192.0.2.1:40000 > 192.0.2.2:80 S seq 100 win 1000 len 0 "
                    "<mss 1460,malformed>");
}

static void test_fmt_describe_not_tcp_or_broken(void **state)
{
    (void)state;
    uint8_t pkt[100];
    struct glass_ipv4_repr ip = {
        .src = A, .dst = B, .proto = GLASS_IPV4_PROTO_ICMP, .ttl = 64, .id = 9};

    memset(pkt, 0, sizeof(pkt));
    assert_int_equal(glass_ipv4_emit(pkt, sizeof(pkt), &ip, 8), 20);
    expect_describe(pkt, 28, "192.0.2.1 > 192.0.2.2 proto 1 len 8");

    expect_describe(pkt, 19, "bad IPv4 (PKT_TOO_SMALL) 19 bytes");
    pkt[0] = 0x65;
    expect_describe(pkt, 28, "bad IPv4 (IP_INHDR) 28 bytes");
    expect_describe(NULL, 0, "bad IPv4 (PKT_TOO_SMALL) 0 bytes");

    /* A first fragment of a TCP datagram is not decoded as TCP. */
    struct glass_tcp_repr t = {.src_port = 1, .dst_port = 2, .flags = GLASS_TH_ACK, .wscale = -1};
    size_t n = make_pkt(pkt, sizeof(pkt), &t, A, B);
    ip = (struct glass_ipv4_repr){.src = A,
                                  .dst = B,
                                  .proto = GLASS_IPV4_PROTO_TCP,
                                  .ttl = 64,
                                  .id = 77,
                                  .frag = GLASS_IPV4_MF};
    glass_ipv4_emit(pkt, sizeof(pkt), &ip, n - 20);
    expect_describe(pkt, n, "192.0.2.1 > 192.0.2.2 proto 6 frag id 77 off 0+ len 20");
    ip.frag = 185;
    glass_ipv4_emit(pkt, sizeof(pkt), &ip, n - 20);
    expect_describe(pkt, n, "192.0.2.1 > 192.0.2.2 proto 6 frag id 77 off 1480 len 20");

    /* TCP that the parser refuses: the reason is shown. */
    t.flags = GLASS_TH_SYN | GLASS_TH_FIN;
    n = make_pkt(pkt, sizeof(pkt), &t, A, B);
    expect_describe(pkt, n, "192.0.2.1 > 192.0.2.2 bad TCP (TCP_FLAGS) len 20");
    t.flags = GLASS_TH_ACK;
    n = make_pkt(pkt, sizeof(pkt), &t, A, B);
    pkt[20 + 12] = 0x40; /* doff 4 */
    expect_describe(pkt, n, "192.0.2.1 > 192.0.2.2 bad TCP (TCP_HDR) len 20");
}

/* snprintf semantics: the full length is returned, the output is truncated and terminated. */
static void test_fmt_describe_truncates(void **state)
{
    (void)state;
    uint8_t pkt[100];
    struct glass_tcp_repr t = {.src_port = 40000,
                               .dst_port = 80,
                               .seq = 100,
                               .flags = GLASS_TH_SYN,
                               .win = 65535,
                               .mss = 1460,
                               .wscale = -1};
    size_t n = make_pkt(pkt, sizeof(pkt), &t, A, B);
    const char *full = "192.0.2.1:40000 > 192.0.2.2:80 S seq 100 win 65535 len 0 <mss 1460>";
    char out[20];

    memset(out, 'x', sizeof(out));
    assert_int_equal(glass_pkt_describe(pkt, n, out, 10), (int)strlen(full));
    assert_string_equal(out, "192.0.2.1");
    assert_int_equal(out[10], 'x');
    assert_int_equal(glass_pkt_describe(pkt, n, NULL, 0), (int)strlen(full));
    out[0] = 'x';
    assert_int_equal(glass_pkt_describe(pkt, n, out, 0), (int)strlen(full));
    assert_int_equal(out[0], 'x');
    assert_int_equal(glass_pkt_describe(pkt, n, out, 1), (int)strlen(full));
    assert_int_equal(out[0], '\0');
}

/* ---- decode ------------------------------------------------------------------------------- */

static void test_fmt_decode_fields(void **state)
{
    (void)state;
    uint8_t pkt[100];
    struct glass_tcp_repr t = {.src_port = 40000,
                               .dst_port = 80,
                               .seq = 100,
                               .ack = 200,
                               .flags = GLASS_TH_SYN | GLASS_TH_ACK,
                               .win = 1234,
                               .mss = 1400,
                               .wscale = 2,
                               .payload = (const uint8_t *)"abc",
                               .payload_len = 3};
    size_t n = make_pkt(pkt, sizeof(pkt), &t, A, B);
    struct glass_pkt_summary s;

    assert_int_equal(glass_pkt_decode(pkt, n, &s), 0);
    assert_int_equal(s.src.addr, A);
    assert_int_equal(s.src.port, 40000);
    assert_int_equal(s.dst.addr, B);
    assert_int_equal(s.dst.port, 80);
    assert_int_equal(s.proto, 6);
    assert_int_equal(s.flags, GLASS_TH_SYN | GLASS_TH_ACK);
    assert_int_equal(s.seq, 100);
    assert_int_equal(s.ack, 200);
    assert_int_equal(s.len, 3);
    assert_int_equal(s.win, 1234);
    assert_int_equal(s.mss, 1400);
    assert_int_equal(s.ttl, 64);

    /* Checksums are not verified; trailing bytes beyond the IP total length are ignored. */
    pkt[n - 1] ^= 0xff;
    pkt[10] ^= 0xff;
    assert_int_equal(glass_pkt_decode(pkt, n + 10, &s), 0);
    assert_int_equal(s.len, 3);
}

static void test_fmt_decode_rejects(void **state)
{
    (void)state;
    uint8_t pkt[100];
    struct glass_tcp_repr t = {
        .src_port = 40000, .dst_port = 80, .flags = GLASS_TH_ACK, .wscale = -1};
    size_t n = make_pkt(pkt, sizeof(pkt), &t, A, B);
    struct glass_pkt_summary s;

    for (size_t len = 0; len < n; len++)
        assert_int_equal(glass_pkt_decode(pkt, len, &s), -GLASS_EINVAL);
    assert_int_equal(glass_pkt_decode(NULL, 0, &s), -GLASS_EINVAL);
    assert_int_equal(glass_pkt_decode(pkt, n, NULL), -GLASS_EINVAL);

    pkt[9] = GLASS_IPV4_PROTO_ICMP;
    assert_int_equal(glass_pkt_decode(pkt, n, &s), -GLASS_EINVAL);
    pkt[9] = GLASS_IPV4_PROTO_TCP;
    glass_put16(pkt + 6, GLASS_IPV4_MF);
    assert_int_equal(glass_pkt_decode(pkt, n, &s), -GLASS_EINVAL);
    glass_put16(pkt + 6, 1);
    assert_int_equal(glass_pkt_decode(pkt, n, &s), -GLASS_EINVAL);
    glass_put16(pkt + 6, GLASS_IPV4_DF);
    assert_int_equal(glass_pkt_decode(pkt, n, &s), 0);
    glass_put16(pkt + 20, 0); /* source port 0 */
    assert_int_equal(glass_pkt_decode(pkt, n, &s), -GLASS_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fmt_flags_common),
        cmocka_unit_test(test_fmt_flags_rare_and_all),
        cmocka_unit_test(test_fmt_ip4_str),
        cmocka_unit_test(test_fmt_ip4_parse_good),
        cmocka_unit_test(test_fmt_ip4_parse_bad),
        cmocka_unit_test(test_fmt_describe_syn),
        cmocka_unit_test(test_fmt_describe_synack_all_options),
        cmocka_unit_test(test_fmt_describe_data_sack_urg),
        cmocka_unit_test(test_fmt_describe_malformed_options),
        cmocka_unit_test(test_fmt_describe_not_tcp_or_broken),
        cmocka_unit_test(test_fmt_describe_truncates),
        cmocka_unit_test(test_fmt_decode_fields),
        cmocka_unit_test(test_fmt_decode_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
