/* glasstcp — the IPv4 input edge (src/core/ip.c): header, addresses, protocols and options,
 * robustness/README.md catalogue §2.B and §2.C (cases 4-26). Every test checks that memory
 * taken through the allocator hooks is given back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "wire/wire_priv.h"
#include <glass/glass.h>

#include "ipkit.h"

/* ---- 2.B IPv4 header ---------------------------------------------------------------------- */

static void test_cat004_wrong_version_dropped(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    static const uint8_t versions[] = {0, 5, 6, 15};
    for (size_t i = 0; i < sizeof versions; i++) {
        uint8_t msg[100], pkt[200];
        size_t len = ip_build(pkt, PEER, US, 1, 1, 0, 64, NULL, 0, msg, icmp_echo(msg, 1, 1, 8));
        pkt[0] = (uint8_t)(versions[i] << 4 | 5);
        ip_recksum(pkt);
        expect_drop(st, pkt, len, GLASS_DROP_IP_INHDR);
    }
    assert_int_equal(glass_stack_mib(st, GLASS_MIB_IpInHdrErrors), 4);
    free_stack(st);
}

static void test_cat007_ihl_below_5_dropped(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    static const uint8_t ihl[] = {0, 1, 4};
    for (size_t i = 0; i < sizeof ihl; i++) {
        uint8_t msg[100], pkt[200];
        size_t len = ip_build(pkt, PEER, US, 1, 1, 0, 64, NULL, 0, msg, icmp_echo(msg, 1, 1, 8));
        pkt[0] = (uint8_t)(0x40 | ihl[i]);
        expect_drop(st, pkt, len, GLASS_DROP_IP_INHDR);
    }
    free_stack(st);
}

static void test_cat008_ihl_beyond_read_dropped(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    for (size_t n = 20; n < 60; n++) {
        uint8_t pkt[64] = {0};
        ip_build(pkt, PEER, US, 1, 1, 0, 64, NULL, 0, NULL, 0);
        pkt[0] = 0x4f; /* IHL 15: a 60-byte header in an n-byte datagram */
        glass_put16(pkt + 2, (uint16_t)n);
        expect_drop(st, pkt, n, GLASS_DROP_PKT_TOO_SMALL);
    }
    free_stack(st);
}

static void test_cat009_total_below_ihl_dropped(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    static const uint16_t tot5[] = {0, 1, 19};
    for (size_t i = 0; i < 3; i++) {
        uint8_t msg[100], pkt[200];
        size_t len = ip_build(pkt, PEER, US, 1, 1, 0, 64, NULL, 0, msg, icmp_echo(msg, 1, 1, 8));
        glass_put16(pkt + 2, tot5[i]);
        ip_recksum(pkt);
        expect_drop(st, pkt, len, GLASS_DROP_IP_INHDR);
    }
    uint8_t opt[40], pkt[200], msg[100];
    memset(opt, 1, sizeof opt); /* NOPs */
    size_t len = ip_build(pkt, PEER, US, 1, 1, 0, 64, opt, 40, msg, icmp_echo(msg, 1, 1, 8));
    glass_put16(pkt + 2, 59); /* IHL 15 -> 60 bytes of header, total 59 */
    ip_recksum(pkt);
    expect_drop(st, pkt, len, GLASS_DROP_IP_INHDR);
    free_stack(st);
}

static void test_cat010_total_65535_in_40_bytes_dropped(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    uint8_t pkt[64], seg[64];
    size_t tl = tcp_build(seg, PEER, US, 40000, 80, GLASS_TH_SYN, 1, 0, 0);
    size_t len = ip_build(pkt, PEER, US, 6, 1, 0, 64, NULL, 0, seg, tl);
    glass_put16(pkt + 2, 65535);
    ip_recksum(pkt);
    expect_drop(st, pkt, len, GLASS_DROP_PKT_TOO_SMALL);
    free_stack(st);
}

/* Bytes after the total length are not part of the datagram: the echo reply and the TCP
 * checksum see exactly total - IHL*4 bytes. */
static void test_cat011_trailer_trimmed(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    uint8_t msg[100], pkt[300], out[2048];
    size_t ml = icmp_echo(msg, 5, 6, 20);
    size_t len = ip_build(pkt, PEER, US, 1, 1, 0, 64, NULL, 0, msg, ml);
    memset(pkt + len, 0xAB, 20);
    assert_int_equal(glass_stack_input(st, 1, pkt, len + 20), GLASS_DROP_NONE);
    assert_int_equal(take(st, out, sizeof out), len);
    assert_memory_equal(out + 24, msg + 4, ml - 4);

    size_t tl = tcp_build(msg, PEER, US, 40000, 81, GLASS_TH_SYN, 1000, 0, 0);
    len = ip_build(pkt, PEER, US, 6, 2, 0, 64, NULL, 0, msg, tl);
    memset(pkt + len, 0xCD, 7);
    assert_int_equal(glass_stack_input(st, 2, pkt, len + 7), GLASS_DROP_NO_SOCKET);
    struct glass_pkt_summary s;
    size_t n = take(st, out, sizeof out);
    assert_int_equal(glass_pkt_decode(out, n, &s), 0);
    assert_int_equal(s.flags, GLASS_TH_RST | GLASS_TH_ACK); /* checksum passed: answered */
    free_stack(st);
}

static void test_cat013_martian_sources_get_nothing(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    static const uint32_t bad[] = {0,
                                   GLASS_IP4(0, 1, 2, 3),
                                   GLASS_IP4(127, 0, 0, 1),
                                   0xffffffffu,
                                   GLASS_IP4(192, 0, 2, 255),
                                   GLASS_IP4(224, 0, 0, 1),
                                   GLASS_IP4(240, 0, 0, 1),
                                   US};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t msg[100], pkt[200];
        size_t len = ip_build(pkt, bad[i], US, 1, 1, 0, 64, NULL, 0, msg, icmp_echo(msg, 1, 1, 8));
        expect_drop(st, pkt, len, GLASS_DROP_IP_INHDR); /* catalogue 47 too: no echo reply */
        len = ip_build(pkt, bad[i], US, 17, 1, 0, 64, NULL, 0, msg, 16);
        expect_drop(st, pkt, len, GLASS_DROP_IP_INHDR); /* no protocol unreachable either */
    }
    free_stack(st);
}

static void test_cat015_broadcast_multicast_destinations_dropped(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    int l = glass_socket(st);
    struct glass_endpoint ep = {0, 80};
    assert_int_equal(glass_bind(st, l, &ep), 0);
    assert_int_equal(glass_listen(st, l, 4), 0);
    static const uint32_t dst[] = {0xffffffffu, GLASS_IP4(192, 0, 2, 255), GLASS_IP4(224, 0, 0, 1)};
    for (size_t i = 0; i < 3; i++) {
        uint8_t seg[64], pkt[128], msg[100];
        size_t tl = tcp_build(seg, PEER, dst[i], 40000, 80, GLASS_TH_SYN, 1, 0, 0);
        size_t len = ip_build(pkt, PEER, dst[i], 6, 1, 0, 64, NULL, 0, seg, tl);
        expect_drop(st, pkt, len, GLASS_DROP_OTHERHOST); /* no SYN,ACK (MUST-57) */
        len = ip_build(pkt, PEER, dst[i], 1, 1, 0, 64, NULL, 0, msg, icmp_echo(msg, 1, 1, 8));
        expect_drop(st, pkt, len, GLASS_DROP_OTHERHOST); /* catalogue 46: no Smurf reply */
    }
    assert_int_equal(glass_stack_in_state(st, GLASS_TCP_SYN_RCVD), 0);
    glass_close(st, l);
    free_stack(st);
}

/* RFC 1122 §3.2.1.7: a host MUST NOT discard a datagram for a TTL below 2. */
static void test_cat016_ttl_0_and_1_accepted(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    expect_echo_reply(st, NULL, 0, 0, 0);
    expect_echo_reply(st, NULL, 0, 1, 0);
    uint8_t seg[64], pkt[128], out[2048];
    size_t tl = tcp_build(seg, PEER, US, 40000, 81, GLASS_TH_SYN, 1, 0, 0);
    size_t len = ip_build(pkt, PEER, US, 6, 1, 0, 0, NULL, 0, seg, tl);
    assert_int_equal(glass_stack_input(st, 5, pkt, len), GLASS_DROP_NO_SOCKET);
    assert_true(take(st, out, sizeof out) > 0); /* the RST answers it */
    free_stack(st);
}

static void test_cat017_unknown_protocol_unreachable(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    static const uint8_t protos[] = {0, 2, 4, 17, 41, 253, 255};
    for (size_t i = 0; i < sizeof protos; i++) {
        uint8_t data[32], pkt[128], out[2048];
        memset(data, (int)i, sizeof data);
        size_t len = ip_build(pkt, PEER, US, protos[i], (uint16_t)i, 0, 64, NULL, 0, data, 32);
        assert_int_equal(glass_stack_input(st, 1, pkt, len), GLASS_DROP_IP_NOPROTO);
        size_t n = take(st, out, sizeof out);
        assert_int_equal(n, 20 + 8 + len); /* the whole datagram is quoted (< 576 bytes) */
        assert_int_equal(out[9], 1);
        assert_int_equal(glass_get32(out + 16), PEER);
        assert_int_equal(out[20], 3); /* Destination Unreachable */
        assert_int_equal(out[21], 2); /* protocol */
        assert_memory_equal(out + 28, pkt, len);
        assert_int_equal(glass_cksum_finish(glass_cksum_add(0, out + 20, n - 20)), 0);
        assert_int_equal(take(st, out, sizeof out), 0);
    }
    assert_int_equal(glass_stack_mib(st, GLASS_MIB_IpInUnknownProtos), sizeof protos);
    /* RFC 1122 §3.2.2: never for a non-initial fragment, and nothing is held for it. */
    uint8_t data[32] = {0}, pkt[128];
    size_t len = ip_build(pkt, PEER, US, 17, 77, 10, 64, NULL, 0, data, 32);
    expect_drop(st, pkt, len, GLASS_DROP_IP_NOPROTO);
    len = ip_build(pkt, PEER, US, 17, 78, GLASS_IPV4_MF, 64, NULL, 0, data, 32);
    assert_int_equal(glass_stack_input(st, 1, pkt, len), GLASS_DROP_IP_NOPROTO);
    assert_int_equal(count_output(st), 1); /* the first fragment may be answered */
    assert_int_equal(st->ipx.reass_count, 0);
    free_stack(st);
}

/* Errors are rate-limited by a token bucket (burst 50, 1000/s); echo replies are not. */
static void test_cat017_protocol_unreachable_rate_limited(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    uint8_t data[8] = {0}, pkt[64];
    size_t len = ip_build(pkt, PEER, US, 99, 1, 0, 64, NULL, 0, data, 8);
    for (int i = 0; i < 200; i++)
        assert_int_equal(glass_stack_input(st, GLASS_SEC(1), pkt, len), GLASS_DROP_IP_NOPROTO);
    assert_int_equal(count_output(st), GLASS_ICMP_BURST);
    assert_int_equal(glass_ipx_mib(st, GLASS_IPX_IcmpOutRateLimitGlobal), 200 - GLASS_ICMP_BURST);
    /* 10 ms later, 10 more tokens */
    for (int i = 0; i < 200; i++)
        assert_int_equal(glass_stack_input(st, GLASS_SEC(1) + GLASS_MSEC(10), pkt, len),
                         GLASS_DROP_IP_NOPROTO);
    assert_int_equal(count_output(st), 10);
    for (int i = 0; i < 100; i++)
        expect_echo_reply(st, NULL, 0, 64, 0);
    free_stack(st);
}

static void test_cat018_odd_flags(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    expect_echo_reply(st, NULL, 0, 64, 0x8000);        /* reserved ("evil") bit: ignored */
    expect_echo_reply(st, NULL, 0, 64, GLASS_IPV4_DF); /* DF alone: a whole datagram */
    /* DF+MF and DF with an offset are fragments: held, not answered as a whole. */
    uint8_t msg[100], pkt[200];
    size_t len = ip_build(pkt, PEER, US, 1, 42, GLASS_IPV4_DF | GLASS_IPV4_MF, 64, NULL, 0, msg,
                          icmp_echo(msg, 1, 1, 24));
    assert_int_equal(glass_stack_input(st, 1, pkt, len), GLASS_DROP_NONE);
    assert_int_equal(count_output(st), 0);
    assert_int_equal(st->ipx.reass_count, 1);
    len = ip_build(pkt, PEER, US, 1, 43, GLASS_IPV4_DF | 5, 64, NULL, 0, msg, 24);
    assert_int_equal(glass_stack_input(st, 1, pkt, len), GLASS_DROP_NONE);
    assert_int_equal(count_output(st), 0);
    assert_int_equal(st->ipx.reass_count, 2);
    free_stack(st); /* held fragments are freed with the stack */
}

/* ---- 2.C IPv4 options ---------------------------------------------------------------------- */

static void expect_option_drop(struct glass_stack *st, const uint8_t *opt, size_t optlen)
{
    uint8_t msg[100], pkt[200];
    size_t len = ip_build(pkt, PEER, US, 1, 1, 0, 64, opt, optlen, msg, icmp_echo(msg, 1, 1, 8));
    expect_drop(st, pkt, len, GLASS_DROP_IP_INHDR);
}

static void test_cat020_option_length_0_dropped(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    expect_option_drop(st, (const uint8_t[]){0x07, 0x00, 0x00, 0x00}, 4); /* RR, length 0 */
    expect_option_drop(st, (const uint8_t[]){0x9e, 0x00, 0x00, 0x00}, 4); /* unknown kind */
    expect_option_drop(st, (const uint8_t[]){0x01, 0x01, 0x9e, 0x00}, 4); /* after NOPs */
    free_stack(st);
}

static void test_cat021_option_length_1_dropped(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    expect_option_drop(st, (const uint8_t[]){0x44, 0x01, 0x00, 0x00}, 4);
    expect_option_drop(st, (const uint8_t[]){0x01, 0x01, 0x01, 0x44}, 4); /* kind, no length */
    free_stack(st);
}

static void test_cat022_option_past_header_dropped(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    expect_option_drop(st, (const uint8_t[]){0x07, 0x0c, 0x04, 0x00}, 4);
    expect_option_drop(st, (const uint8_t[]){0x01, 0x07, 0x04, 0x04}, 4);
    free_stack(st);
}

static void test_cat023_source_routes(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    /* URGENT/11's shapes: LSRR and SSRR with length 3 and pointer 0x27, twice. */
    expect_option_drop(st, (const uint8_t[]){0x83, 0x03, 0x27, 0x83, 0x03, 0x27, 0x00, 0x00}, 8);
    expect_option_drop(st, (const uint8_t[]){0x89, 0x03, 0x27, 0x89, 0x03, 0x27, 0x00, 0x00}, 8);
    /* pointer < 4; length not 3 + 4n; a route with hops left (we would have to forward) */
    expect_option_drop(st, (const uint8_t[]){0x83, 0x07, 0x03, 1, 2, 3, 4, 0x00}, 8);
    expect_option_drop(st, (const uint8_t[]){0x83, 0x06, 0x08, 1, 2, 3, 0x00, 0x00}, 8);
    expect_option_drop(st, (const uint8_t[]){0x83, 0x07, 0x04, 1, 2, 3, 4, 0x00}, 8);
    /* a completed route (pointer past its end): we are the final destination */
    expect_echo_reply(st, (const uint8_t[]){0x83, 0x07, 0x08, 192, 0, 2, 2, 0x00}, 8, 64, 0);
    free_stack(st);
}

static void test_cat024_record_route_timestamp_full_ignored(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    /* RR with its pointer past the end; TS with the overflow counter at 15 and a length that
     * is not 4 + 8n: never written to, never acted on. */
    expect_echo_reply(st, (const uint8_t[]){0x07, 0x07, 0x40, 1, 2, 3, 4, 0x00}, 8, 64, 0);
    expect_echo_reply(st, (const uint8_t[]){0x44, 0x07, 0x05, 0xf1, 1, 2, 3, 0x00}, 8, 64, 0);
    free_stack(st);
}

static void test_cat025_padding_and_unknown_options_accepted(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    uint8_t nops[40];
    memset(nops, 1, sizeof nops);
    expect_echo_reply(st, nops, 40, 64, 0);
    expect_echo_reply(st, (const uint8_t[]){0x00, 0xff, 0x13, 0x77}, 4, 64, 0); /* EOL, junk */
    expect_echo_reply(st, (const uint8_t[]){0x9e, 0x04, 0xaa, 0xbb}, 4, 64, 0); /* unknown */
    free_stack(st);
}

/* A SYN carrying IPv4 options to a listener: SYN,ACK, handshake, accept. */
static void test_cat026_options_on_syn(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    int l = glass_socket(st);
    struct glass_endpoint ep = {0, 80};
    assert_int_equal(glass_bind(st, l, &ep), 0);
    assert_int_equal(glass_listen(st, l, 4), 0);
    static const uint8_t rr[] = {0x07, 0x0b, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0x00};
    uint8_t seg[64], pkt[128], out[2048];
    size_t tl = tcp_build(seg, PEER, US, 40000, 80, GLASS_TH_SYN, 1000, 0, 0);
    size_t len = ip_build(pkt, PEER, US, 6, 1, 0, 64, rr, sizeof rr, seg, tl);
    assert_int_equal(glass_stack_input(st, 1, pkt, len), GLASS_DROP_NONE);
    struct glass_pkt_summary s;
    size_t n = take(st, out, sizeof out);
    assert_int_equal(glass_pkt_decode(out, n, &s), 0);
    assert_int_equal(s.flags, GLASS_TH_SYN | GLASS_TH_ACK);
    tl = tcp_build(seg, PEER, US, 40000, 80, GLASS_TH_ACK, 1001, s.seq + 1, 0);
    len = ip_build(pkt, PEER, US, 6, 2, 0, 64, rr, sizeof rr, seg, tl);
    assert_int_equal(glass_stack_input(st, 2, pkt, len), GLASS_DROP_NONE);
    struct glass_endpoint peer;
    int c = glass_accept(st, l, &peer);
    assert_true(c >= 0);
    assert_int_equal(peer.addr, PEER);
    assert_int_equal(glass_sock_state(st, c), GLASS_TCP_ESTABLISHED);
    struct glass_linger lg = {1, 0};
    glass_setsockopt(st, c, GLASS_SOL_SOCKET, GLASS_SO_LINGER, &lg, sizeof lg);
    glass_close(st, c);
    glass_close(st, l);
    count_output(st);
    free_stack(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cat004_wrong_version_dropped),
        cmocka_unit_test(test_cat007_ihl_below_5_dropped),
        cmocka_unit_test(test_cat008_ihl_beyond_read_dropped),
        cmocka_unit_test(test_cat009_total_below_ihl_dropped),
        cmocka_unit_test(test_cat010_total_65535_in_40_bytes_dropped),
        cmocka_unit_test(test_cat011_trailer_trimmed),
        cmocka_unit_test(test_cat013_martian_sources_get_nothing),
        cmocka_unit_test(test_cat015_broadcast_multicast_destinations_dropped),
        cmocka_unit_test(test_cat016_ttl_0_and_1_accepted),
        cmocka_unit_test(test_cat017_unknown_protocol_unreachable),
        cmocka_unit_test(test_cat017_protocol_unreachable_rate_limited),
        cmocka_unit_test(test_cat018_odd_flags),
        cmocka_unit_test(test_cat020_option_length_0_dropped),
        cmocka_unit_test(test_cat021_option_length_1_dropped),
        cmocka_unit_test(test_cat022_option_past_header_dropped),
        cmocka_unit_test(test_cat023_source_routes),
        cmocka_unit_test(test_cat024_record_route_timestamp_full_ignored),
        cmocka_unit_test(test_cat025_padding_and_unknown_options_accepted),
        cmocka_unit_test(test_cat026_options_on_syn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
