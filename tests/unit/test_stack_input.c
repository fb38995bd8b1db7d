/* glasstcp — bad input through glass_stack_input(): a clear drop, the right counter, no reply,
 * and the stack still works (robustness/README.md §2.A, §2.B, §2.F). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "wire/wire_priv.h"
#include <glass/glass.h>

#define US GLASS_IP4(192, 0, 2, 2)
#define PEER GLASS_IP4(192, 0, 2, 1)

static struct glass_stack *new_stack(void)
{
    struct glass_stack *st = glass_stack_new(NULL);
    assert_non_null(st);
    assert_int_equal(glass_stack_add_iface(st, US, 24, 1500), 0);
    return st;
}

/* A well-formed IPv4/TCP packet PEER:40000 -> US:port with the given flags and payload. */
static size_t build(uint8_t *buf, uint16_t port, uint8_t flags, uint32_t seq, uint32_t ack,
                    size_t payload)
{
    struct glass_tcp_repr r = {.src_port = 40000, .dst_port = port, .seq = seq, .ack = ack,
                               .flags = flags, .win = 8192, .wscale = -1,
                               .payload_len = payload};
    static const uint8_t zeros[64];
    r.payload = zeros;
    size_t tl = glass_tcp_emit(buf + 20, 1480, &r, PEER, US);
    struct glass_ipv4_repr ip = {.src = PEER, .dst = US, .proto = GLASS_IPV4_PROTO_TCP, .ttl = 64};
    size_t il = glass_ipv4_emit(buf, 1500, &ip, tl);
    return il + tl;
}

static void expect_drop(struct glass_stack *st, const uint8_t *p, size_t len, int reason)
{
    uint64_t before = glass_stack_drops(st, reason);
    assert_int_equal(glass_stack_input(st, 1, p, len), reason);
    assert_int_equal(glass_stack_drops(st, reason), before + 1);
    uint8_t out[1600];
    assert_int_equal(glass_stack_output(st, 1, out, sizeof out), 0); /* no reply */
}

static void test_cat001_short_reads_dropped(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    uint8_t p[64];
    size_t len = build(p, 80, GLASS_TH_SYN, 1, 0, 0);
    for (size_t n = 0; n < 4; n++)
        expect_drop(st, p, n, GLASS_DROP_PKT_TOO_SMALL);
    expect_drop(st, p, 19, GLASS_DROP_PKT_TOO_SMALL); /* catalogue 2 */
    (void)len;
    assert_int_equal(glass_stack_mib(st, GLASS_MIB_IpInHdrErrors), 5);
    glass_stack_free(st);
}

static void test_cat010_total_length_beyond_read(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    uint8_t p[64];
    size_t len = build(p, 80, GLASS_TH_SYN, 1, 0, 0);
    expect_drop(st, p, len - 1, GLASS_DROP_PKT_TOO_SMALL);
    glass_stack_free(st);
}

static void test_cat012_bad_ip_checksum(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    uint8_t p[64];
    size_t len = build(p, 80, GLASS_TH_SYN, 1, 0, 0);
    p[10] ^= 0x01;
    expect_drop(st, p, len, GLASS_DROP_IP_CSUM);
    glass_stack_free(st);
}

static void test_cat013_martian_source(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    static const uint32_t bad[] = {0, GLASS_IP4(127, 0, 0, 1), 0xffffffffu, GLASS_IP4(224, 0, 0, 1),
                                   US, GLASS_IP4(192, 0, 2, 255)};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t p[64];
        size_t len = build(p, 80, GLASS_TH_SYN, 1, 0, 0);
        glass_put32(p + 12, bad[i]);
        glass_put16(p + 10, 0);
        glass_put16(p + 10, glass_cksum_finish(glass_cksum_add(0, p, 20)));
        expect_drop(st, p, len, GLASS_DROP_IP_INHDR);
    }
    glass_stack_free(st);
}

static void test_cat014_not_our_address(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    uint8_t p[64];
    size_t len = build(p, 80, GLASS_TH_SYN, 1, 0, 0);
    glass_put32(p + 16, GLASS_IP4(192, 0, 2, 3));
    glass_put16(p + 10, 0);
    glass_put16(p + 10, glass_cksum_finish(glass_cksum_add(0, p, 20)));
    expect_drop(st, p, len, GLASS_DROP_OTHERHOST);
    assert_int_equal(glass_stack_mib(st, GLASS_MIB_IpInAddrErrors), 1);
    glass_stack_free(st);
}

static void test_cat060_bad_tcp_checksum_no_rst(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    uint8_t p[64];
    size_t len = build(p, 80, GLASS_TH_SYN, 1, 0, 0);
    p[len - 1] ^= 0x40; /* a header byte of the TCP segment (urgent pointer) */
    expect_drop(st, p, len, GLASS_DROP_TCP_CSUM);
    assert_int_equal(glass_stack_mib(st, GLASS_MIB_TcpInCsumErrors), 1);
    assert_int_equal(glass_stack_mib(st, GLASS_MIB_TcpInErrs), 1);
    assert_int_equal(glass_stack_mib(st, GLASS_MIB_TcpOutRsts), 0);
    glass_stack_free(st);
}

static void test_cat059_doff_beyond_segment(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    uint8_t p[64];
    size_t len = build(p, 80, GLASS_TH_SYN, 1, 0, 0);
    p[20 + 12] = 0xf0; /* doff 15 in a 20-byte segment */
    glass_put16(p + 20 + 16, 0);
    uint32_t sum = glass_cksum_pseudo(PEER, US, GLASS_IPV4_PROTO_TCP, 20);
    glass_put16(p + 20 + 16, glass_cksum_finish(glass_cksum_add(sum, p + 20, 20)));
    uint64_t before = glass_stack_drops(st, GLASS_DROP_PKT_TOO_SMALL) +
                      glass_stack_drops(st, GLASS_DROP_TCP_HDR);
    int r = glass_stack_input(st, 1, p, len);
    assert_true(r == GLASS_DROP_PKT_TOO_SMALL || r == GLASS_DROP_TCP_HDR);
    assert_int_equal(glass_stack_drops(st, GLASS_DROP_PKT_TOO_SMALL) +
                         glass_stack_drops(st, GLASS_DROP_TCP_HDR),
                     before + 1);
    glass_stack_free(st);
}

static void test_cat081_syn_fin_dropped(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    uint8_t p[64];
    size_t len = build(p, 80, GLASS_TH_SYN | GLASS_TH_FIN, 1, 0, 0);
    expect_drop(st, p, len, GLASS_DROP_TCP_FLAGS);
    glass_stack_free(st);
}

/* RFC 9293 §3.10.7.1: a segment to a closed port gets an RST; an RST gets nothing. */
static void test_closed_port_rst_reply(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    uint8_t p[64], out[1600];
    struct glass_pkt_summary s;

    size_t len = build(p, 81, GLASS_TH_SYN, 1000, 0, 0);
    assert_int_equal(glass_stack_input(st, 1, p, len), GLASS_DROP_NO_SOCKET);
    long n = glass_stack_output(st, 1, out, sizeof out);
    assert_true(n > 0);
    assert_int_equal(glass_pkt_decode(out, (size_t)n, &s), 0);
    assert_int_equal(s.flags, GLASS_TH_RST | GLASS_TH_ACK);
    assert_int_equal(s.seq, 0);
    assert_int_equal(s.ack, 1001); /* SEG.SEQ + SEG.LEN, the SYN counting one */

    len = build(p, 81, GLASS_TH_ACK | GLASS_TH_PSH, 5000, 7777, 10);
    assert_int_equal(glass_stack_input(st, 1, p, len), GLASS_DROP_NO_SOCKET);
    n = glass_stack_output(st, 1, out, sizeof out);
    assert_true(n > 0);
    assert_int_equal(glass_pkt_decode(out, (size_t)n, &s), 0);
    assert_int_equal(s.flags, GLASS_TH_RST);
    assert_int_equal(s.seq, 7777); /* <SEQ=SEG.ACK><CTL=RST> */

    len = build(p, 81, GLASS_TH_RST, 5000, 0, 0);
    assert_int_equal(glass_stack_input(st, 1, p, len), GLASS_DROP_NO_SOCKET);
    assert_int_equal(glass_stack_output(st, 1, out, sizeof out), 0);
    assert_int_equal(glass_stack_mib(st, GLASS_MIB_TcpOutRsts), 2);
    glass_stack_free(st);
}

/* After a burst of garbage the stack still answers a SYN on a listening port. */
static void test_cat005_garbage_then_healthy(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    int l = glass_socket(st);
    struct glass_endpoint ep = {US, 80};
    assert_int_equal(glass_bind(st, l, &ep), 0);
    assert_int_equal(glass_listen(st, l, 4), 0);
    uint64_t x = 0x12345678;
    uint8_t junk[256];
    uint64_t total_drops = 0;
    for (int i = 0; i < 2000; i++) {
        size_t len = (size_t)(x % sizeof junk);
        for (size_t k = 0; k < len; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            junk[k] = (uint8_t)x;
        }
        if (len > 0)
            junk[0] = (uint8_t)(0x45 ^ (x & 0x10)); /* often IPv4-looking */
        int r = glass_stack_input(st, 1, junk, len);
        assert_true(r > GLASS_DROP_NONE && r < GLASS_DROP_COUNT);
        total_drops++;
    }
    uint64_t counted = 0;
    for (int r = 1; r < GLASS_DROP_COUNT; r++)
        counted += glass_stack_drops(st, r);
    assert_int_equal(counted, total_drops);
    uint8_t p[64], out[1600];
    size_t len = build(p, 80, GLASS_TH_SYN, 1, 0, 0);
    assert_int_equal(glass_stack_input(st, 2, p, len), GLASS_DROP_NONE);
    long n = glass_stack_output(st, 2, out, sizeof out);
    struct glass_pkt_summary s;
    assert_true(n > 0);
    assert_int_equal(glass_pkt_decode(out, (size_t)n, &s), 0);
    assert_int_equal(s.flags, GLASS_TH_SYN | GLASS_TH_ACK);
    assert_int_equal(s.ack, 2);
    assert_int_equal(s.mss, 1460);
    glass_stack_free(st);
}

/* Checksum offload. Receive: GLASS_INPUT_CSUM_OK means the device verified the TCP checksum,
 * so the stack does not sum it again (the same corrupted segment goes on to the no-socket
 * answer instead of the checksum drop). Transmit: with tx_csum_offload the field holds the
 * pseudo-header sum, and glass_tcp_csum_fill turns the packet into exactly the one a stack
 * without offload sends. */
static void test_csum_offload_rx_flag_and_tx_fill(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    uint8_t p[64];
    size_t len = build(p, 80, GLASS_TH_SYN, 1, 0, 0);
    p[len - 1] ^= 0x40;
    assert_int_equal(glass_stack_input_flags(st, 1, p, len, GLASS_INPUT_CSUM_OK),
                     GLASS_DROP_NO_SOCKET);
    assert_int_equal(glass_stack_mib(st, GLASS_MIB_TcpInCsumErrors), 0);
    uint8_t rst[128];
    assert_true(glass_stack_output(st, 1, rst, sizeof rst) > 0); /* the RST it answered with */
    expect_drop(st, p, len, GLASS_DROP_TCP_CSUM); /* no flag: summed, dropped */
    glass_stack_free(st);

    /* The same RST answer from a stack with and one without transmit offload. */
    uint8_t out[2][128];
    long n[2];
    for (int off = 0; off < 2; off++) {
        struct glass_config cfg;
        glass_config_default(&cfg);
        cfg.tx_csum_offload = off == 1;
        st = glass_stack_new(&cfg);
        assert_non_null(st);
        assert_int_equal(glass_stack_add_iface(st, US, 24, 1500), 0);
        len = build(p, 81, GLASS_TH_SYN, 1, 0, 0);
        assert_int_equal(glass_stack_input(st, 1, p, len), GLASS_DROP_NO_SOCKET);
        n[off] = glass_stack_output(st, 1, out[off], sizeof out[off]);
        assert_true(n[off] >= 40);
        glass_stack_free(st);
    }
    assert_int_equal(n[0], n[1]);
    struct glass_tcp_repr r;
    assert_int_equal(glass_tcp_parse(out[1] + 20, (size_t)n[1] - 20, US, PEER, true, &r),
                     GLASS_DROP_TCP_CSUM); /* not a checksum yet */
    assert_true(glass_tcp_csum_fill(out[1], (size_t)n[1]));
    assert_memory_equal(out[0], out[1], (size_t)n[0]);
    assert_false(glass_tcp_csum_fill(out[1], 19)); /* not a whole IPv4/TCP datagram */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cat001_short_reads_dropped),
        cmocka_unit_test(test_cat010_total_length_beyond_read),
        cmocka_unit_test(test_cat012_bad_ip_checksum),
        cmocka_unit_test(test_cat013_martian_source),
        cmocka_unit_test(test_cat014_not_our_address),
        cmocka_unit_test(test_cat060_bad_tcp_checksum_no_rst),
        cmocka_unit_test(test_cat059_doff_beyond_segment),
        cmocka_unit_test(test_cat081_syn_fin_dropped),
        cmocka_unit_test(test_closed_port_rst_reply),
        cmocka_unit_test(test_cat005_garbage_then_healthy),
        cmocka_unit_test(test_csum_offload_rx_flag_and_tx_fill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
