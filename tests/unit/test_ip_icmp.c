/* glasstcp — ICMP (src/core/icmp.c): robustness/README.md §2.E (catalogue 42-56): echo,
 * malformed messages, errors about our TCP segments validated per RFC 5927, path MTU
 * discovery per RFC 1191, soft and hard errors per RFC 1122 §4.2.3.9. Every test checks that
 * all memory taken through the allocator hooks is given back. */
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

/* ---- ICMP errors about our connection ------------------------------------------------------- */

#define ROUTER GLASS_IP4(192, 0, 2, 254)

/* An ICMP message from `from`: type, code, the 32-bit word after the checksum, then body. */
static size_t icmp_msg(uint8_t *pkt, uint32_t from, uint8_t type, uint8_t code, uint32_t word,
                       const uint8_t *body, size_t blen)
{
    static uint8_t msg[2048];
    msg[0] = type;
    msg[1] = code;
    glass_put16(msg + 2, 0);
    glass_put32(msg + 4, word);
    if (blen)
        memcpy(msg + 8, body, blen);
    glass_put16(msg + 2, glass_cksum_finish(glass_cksum_add(0, msg, 8 + blen)));
    return ip_build(pkt, from, US, 1, 77, 0, 64, NULL, 0, msg, 8 + blen);
}

/* An established connection PEER:40000 -> US:80 with three data segments of ours in flight
 * (1460 + 1460 + 80 bytes, never acknowledged). first[] holds the first data packet. */
struct conn {
    int l, c;
    struct glass_tcb *tcb;
    uint32_t iss;
    uint8_t first[2048];
    size_t first_len;
    size_t n_data;
};

static void establish(struct glass_stack *st, struct conn *k, size_t bytes)
{
    memset(k, 0, sizeof *k);
    k->l = glass_socket(st);
    struct glass_endpoint ep = {0, 80};
    assert_int_equal(glass_bind(st, k->l, &ep), 0);
    assert_int_equal(glass_listen(st, k->l, 4), 0);
    uint8_t seg[128], pkt[256], out[2048];
    struct glass_pkt_summary s;
    size_t tl = tcp_build(seg, PEER, US, 40000, 80, GLASS_TH_SYN, 1000, 0, 0);
    size_t len = ip_build(pkt, PEER, US, 6, 1, 0, 64, NULL, 0, seg, tl);
    assert_int_equal(glass_stack_input(st, GLASS_SEC(1), pkt, len), GLASS_DROP_NONE);
    size_t n = take(st, out, sizeof out);
    assert_int_equal(glass_pkt_decode(out, n, &s), 0);
    k->iss = s.seq;
    tl = tcp_build(seg, PEER, US, 40000, 80, GLASS_TH_ACK, 1001, k->iss + 1, 0);
    len = ip_build(pkt, PEER, US, 6, 2, 0, 64, NULL, 0, seg, tl);
    assert_int_equal(glass_stack_input(st, GLASS_SEC(1) + GLASS_MSEC(1), pkt, len), GLASS_DROP_NONE);
    k->c = glass_accept(st, k->l, NULL);
    assert_true(k->c >= 0);
    k->tcb = glass_demux_conn(st, US, 80, PEER, 40000);
    assert_non_null(k->tcb);
    assert_int_equal(k->tcb->snd_mss, 1460);
    static uint8_t data[8192];
    memset(data, 'x', sizeof data);
    assert_int_equal(glass_send(st, k->c, data, bytes, 0), (long)bytes);
    while ((n = take(st, out, sizeof out)) > 0) {
        assert_int_equal(glass_pkt_decode(out, n, &s), 0);
        if (s.len > 0 && k->n_data++ == 0) {
            memcpy(k->first, out, n);
            k->first_len = n;
            assert_int_equal(s.seq, k->iss + 1);
        }
    }
    assert_true(k->n_data >= 1);
}

static void close_conn(struct glass_stack *st, struct conn *k)
{
    struct glass_linger lg = {1, 0};
    if (glass_sock_state(st, k->c) >= 0) {
        glass_setsockopt(st, k->c, GLASS_SOL_SOCKET, GLASS_SO_LINGER, &lg, sizeof lg);
        glass_close(st, k->c);
    }
    glass_close(st, k->l);
    count_output(st);
}

/* Quote the first 28 bytes (IP header + 8 TCP bytes, RFC 792's minimum) of pkt, with the
 * sequence number replaced by seq. */
static size_t quote(uint8_t *q, const uint8_t *pkt, uint32_t seq)
{
    memcpy(q, pkt, 28);
    glass_put32(q + 24, seq);
    return 28;
}

static int send_error(struct glass_stack *st, uint8_t type, uint8_t code, uint32_t word,
                      const uint8_t *pkt, uint32_t seq)
{
    uint8_t q[64], p[256];
    size_t ql = quote(q, pkt, seq);
    size_t n = icmp_msg(p, ROUTER, type, code, word, q, ql);
    return glass_stack_input(st, glass_stack_now(st) + 1, p, n);
}

/* ---- 2.E cases ------------------------------------------------------------------------------ */

static void test_cat042_icmp_shorter_than_8_dropped(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    uint8_t msg[8] = {8, 0, 0xf7, 0xff, 0, 0, 0, 0}, pkt[64];
    for (size_t n = 0; n < 8; n++) {
        size_t len = ip_build(pkt, PEER, US, 1, 1, 0, 64, NULL, 0, msg, n);
        expect_drop(st, pkt, len, GLASS_DROP_PKT_TOO_SMALL);
    }
    assert_int_equal(glass_ipx_mib(st, GLASS_IPX_IcmpInErrors), 8);
    free_stack(st);
}

static void test_cat043_bad_icmp_checksum_dropped(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    uint8_t msg[100], pkt[200];
    size_t ml = icmp_echo(msg, 1, 1, 32);
    msg[20] ^= 0x01;
    size_t len = ip_build(pkt, PEER, US, 1, 1, 0, 64, NULL, 0, msg, ml);
    expect_drop(st, pkt, len, GLASS_DROP_ICMP);
    assert_int_equal(glass_ipx_mib(st, GLASS_IPX_IcmpInCsumErrors), 1);
    assert_int_equal(glass_ipx_mib(st, GLASS_IPX_IcmpOutEchoReps), 0);
    free_stack(st);
}

static void test_cat044_echo_with_inconsistent_lengths(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    uint8_t msg[100], pkt[200];
    size_t ml = icmp_echo(msg, 1, 1, 32);
    size_t len = ip_build(pkt, PEER, US, 1, 1, 0, 64, NULL, 0, msg, ml);
    glass_put16(pkt + 2, 19); /* tot < IHL*4 */
    ip_recksum(pkt);
    expect_drop(st, pkt, len, GLASS_DROP_IP_INHDR);
    glass_put16(pkt + 2, 24); /* IHL*4 + 8 > tot: a 4-byte ICMP message */
    ip_recksum(pkt);
    expect_drop(st, pkt, len, GLASS_DROP_PKT_TOO_SMALL);
    free_stack(st);
}

static void test_cat045_1472_byte_echo_identical(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    static uint8_t msg[1600], pkt[1600], out[2048];
    size_t ml = icmp_echo(msg, 0xbeef, 0xcafe, 1472);
    size_t len = ip_build(pkt, PEER, US, 1, 1, 0, 64, NULL, 0, msg, ml);
    assert_int_equal(len, 1500);
    assert_int_equal(glass_stack_input(st, 1, pkt, len), GLASS_DROP_NONE);
    assert_int_equal(take(st, out, sizeof out), 1500);
    assert_int_equal(glass_get16(out + 6) & (GLASS_IPV4_MF | GLASS_IPV4_OFFMASK), 0);
    assert_int_equal(out[20], 0);
    assert_memory_equal(out + 24, msg + 4, ml - 4);
    assert_int_equal(take(st, out, sizeof out), 0);
    free_stack(st);
}

/* Catalogue 46: no echo reply to a broadcast or multicast destination (no Smurf amplifier). */
static void test_cat046_echo_to_broadcast_or_multicast_unanswered(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    static const uint32_t dst[] = {0xffffffffu, GLASS_IP4(192, 0, 2, 255), GLASS_IP4(224, 0, 0, 1),
                                   GLASS_IP4(239, 255, 255, 250)};
    for (size_t i = 0; i < sizeof dst / sizeof dst[0]; i++) {
        uint8_t msg[100], pkt[200];
        size_t len = ip_build(pkt, PEER, dst[i], 1, 1, 0, 64, NULL, 0, msg, icmp_echo(msg, 1, 1, 8));
        expect_drop(st, pkt, len, GLASS_DROP_OTHERHOST);
    }
    assert_int_equal(glass_ipx_mib(st, GLASS_IPX_IcmpOutEchoReps), 0);
    free_stack(st);
}

/* Catalogue 47: no echo reply to a source that is not a single host. */
static void test_cat047_echo_from_martian_unanswered(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    static const uint32_t src[] = {0, 0xffffffffu, GLASS_IP4(192, 0, 2, 255),
                                   GLASS_IP4(224, 0, 0, 5), GLASS_IP4(127, 0, 0, 9),
                                   GLASS_IP4(240, 1, 2, 3)};
    for (size_t i = 0; i < sizeof src / sizeof src[0]; i++) {
        uint8_t msg[100], pkt[200];
        size_t len = ip_build(pkt, src[i], US, 1, 1, 0, 64, NULL, 0, msg, icmp_echo(msg, 1, 1, 8));
        expect_drop(st, pkt, len, GLASS_DROP_IP_INHDR);
    }
    assert_int_equal(glass_ipx_mib(st, GLASS_IPX_IcmpInEchos), 0);
    free_stack(st);
}

/* Quotes that are too short or not ours are dropped without reading past them. */
static void test_cat048_bogus_quotes_ignored(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    struct conn k;
    establish(st, &k, 3000);
    uint8_t q[64], p[256];
    uint32_t seq = k.iss + 1;
    /* 1: quoted IHL < 5 */
    quote(q, k.first, seq);
    q[0] = 0x44;
    size_t n = icmp_msg(p, ROUTER, 3, 3, 0, q, 28);
    expect_drop(st, p, n, GLASS_DROP_ICMP);
    /* 2: IHL*4 + 8 > quoted bytes */
    quote(q, k.first, seq);
    q[0] = 0x46;
    n = icmp_msg(p, ROUTER, 3, 3, 0, q, 28);
    expect_drop(st, p, n, GLASS_DROP_ICMP);
    /* 3: fewer than 8 transport bytes, and a quote shorter than an IPv4 header */
    quote(q, k.first, seq);
    n = icmp_msg(p, ROUTER, 3, 3, 0, q, 27);
    expect_drop(st, p, n, GLASS_DROP_ICMP);
    n = icmp_msg(p, ROUTER, 3, 3, 0, q, 19);
    expect_drop(st, p, n, GLASS_DROP_ICMP);
    /* 4: quoted protocol is not TCP; version not 4 */
    quote(q, k.first, seq);
    q[9] = 17;
    n = icmp_msg(p, ROUTER, 3, 3, 0, q, 28);
    expect_drop(st, p, n, GLASS_DROP_ICMP);
    quote(q, k.first, seq);
    q[0] = 0x65;
    n = icmp_msg(p, ROUTER, 3, 4, 1000, q, 28);
    expect_drop(st, p, n, GLASS_DROP_ICMP);
    /* 5: the quoted source is not the address the error came to */
    quote(q, k.first, seq);
    glass_put32(q + 12, GLASS_IP4(192, 0, 2, 9));
    n = icmp_msg(p, ROUTER, 3, 4, 1000, q, 28);
    expect_drop(st, p, n, GLASS_DROP_ICMP);
    /* 6: no such connection (another port) */
    quote(q, k.first, seq);
    glass_put16(q + 22, 40001);
    n = icmp_msg(p, ROUTER, 3, 4, 1000, q, 28);
    expect_drop(st, p, n, GLASS_DROP_NO_SOCKET);
    assert_int_equal(k.tcb->soft_error, 0);
    assert_int_equal(k.tcb->snd_mss, 1460);
    assert_int_equal(k.tcb->pmtu, 0);
    assert_int_equal(glass_sock_state(st, k.c), GLASS_TCP_ESTABLISHED);
    close_conn(st, &k);
    free_stack(st);
}

/* RFC 1191 §6.3 with catalogue 50's floors: below 68 and at or above the current path MTU are
 * ignored; 68..575 is believed only down to 576. */
static void test_cat050_frag_needed_absurd_mtu(void **state)
{
    (void)state;
    static const uint16_t ignored[] = {0, 1, 67, 1500, 1501, 65535};
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++) {
        struct glass_stack *st = new_stack();
        struct conn k;
        establish(st, &k, 3000);
        assert_int_equal(send_error(st, 3, 4, ignored[i], k.first, k.iss + 1), GLASS_DROP_ICMP);
        assert_int_equal(k.tcb->snd_mss, 1460);
        assert_int_equal(k.tcb->pmtu, 0);
        assert_int_equal(count_output(st), 0);
        close_conn(st, &k);
        free_stack(st);
    }
    static const uint16_t floored[] = {68, 296, 575, 576};
    for (size_t i = 0; i < sizeof floored / sizeof floored[0]; i++) {
        struct glass_stack *st = new_stack();
        struct conn k;
        establish(st, &k, 3000);
        assert_int_equal(send_error(st, 3, 4, floored[i], k.first, k.iss + 1), GLASS_DROP_NONE);
        assert_int_equal(k.tcb->pmtu, 576);
        assert_int_equal(k.tcb->snd_mss, 536);
        count_output(st);
        /* at the floor already: a smaller value changes nothing */
        assert_int_equal(send_error(st, 3, 4, 100, k.first, k.iss + 1), GLASS_DROP_ICMP);
        assert_int_equal(k.tcb->snd_mss, 536);
        close_conn(st, &k);
        free_stack(st);
    }
}

/* A believable Fragmentation Needed: the path MTU and the MSS go down, and what was in flight is
 * sent again at once at the new size, from SND.UNA. */
static void test_cat050_frag_needed_lowers_mss_and_retransmits(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    struct conn k;
    establish(st, &k, 3000);
    uint64_t rtx = glass_stack_mib(st, GLASS_MIB_TcpRetransSegs);
    assert_int_equal(send_error(st, 3, 4, 1000, k.first, k.iss + 1), GLASS_DROP_NONE);
    assert_int_equal(k.tcb->pmtu, 1000);
    assert_int_equal(k.tcb->snd_mss, 960);
    assert_int_equal(glass_ipx_mib(st, GLASS_IPX_TcpExtPmtuUpdates), 1);
    uint8_t out[2048];
    size_t n, first = 1, bytes = 0;
    struct glass_pkt_summary s;
    while ((n = take(st, out, sizeof out)) > 0) {
        assert_true(n <= 1000);
        assert_int_equal(glass_pkt_decode(out, n, &s), 0);
        assert_true((glass_get16(out + 6) & GLASS_IPV4_DF) != 0);
        if (first) {
            assert_int_equal(s.seq, k.iss + 1);
            first = 0;
        }
        bytes += s.len;
    }
    assert_int_equal(first, 0);
    assert_true(bytes >= 960);
    assert_true(glass_stack_mib(st, GLASS_MIB_TcpRetransSegs) > rtx);
    char why[256];
    assert_int_equal(glass_stack_check(st, why, sizeof why), 0); /* the lead's invariants */
    /* the same news about the second segment: not below the new estimate, ignored */
    assert_int_equal(send_error(st, 3, 4, 1000, k.first, k.iss + 1 + 1460), GLASS_DROP_ICMP);
    assert_int_equal(k.tcb->snd_mss, 960);
    /* a further drop is believed */
    assert_int_equal(send_error(st, 3, 4, 800, k.first, k.iss + 1), GLASS_DROP_NONE);
    assert_int_equal(k.tcb->snd_mss, 760);
    close_conn(st, &k);
    free_stack(st);
}

/* RFC 5927 §4.1: the quoted sequence number must be in SND.UNA..SND.NXT. */
static void test_cat051_out_of_window_sequence_ignored(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    struct conn k;
    establish(st, &k, 3000);
    uint32_t nxt = k.tcb->snd_max.v;
    static const uint32_t bad_off[] = {0, 1, 1000000};
    assert_int_equal(send_error(st, 3, 3, 0, k.first, k.iss), GLASS_DROP_ICMP); /* < SND.UNA */
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(send_error(st, 3, 3, 0, k.first, nxt + bad_off[i]), GLASS_DROP_ICMP);
    assert_int_equal(send_error(st, 3, 4, 1000, k.first, nxt), GLASS_DROP_ICMP);
    assert_int_equal(glass_ipx_mib(st, GLASS_IPX_TcpExtOutOfWindowIcmps), 5);
    assert_int_equal(k.tcb->soft_error, 0);
    assert_int_equal(k.tcb->snd_mss, 1460);
    /* the last byte in flight is in the window */
    assert_int_equal(send_error(st, 3, 3, 0, k.first, nxt - 1), GLASS_DROP_NONE);
    assert_int_equal(k.tcb->soft_error, -GLASS_ECONNREFUSED);
    close_conn(st, &k);
    free_stack(st);
}

/* A hard error (port unreachable) on a synchronized connection is only a soft error. */
static void test_cat052_hard_error_established_is_soft(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    struct conn k;
    establish(st, &k, 3000);
    assert_int_equal(send_error(st, 3, 3, 0, k.first, k.iss + 1), GLASS_DROP_NONE);
    assert_int_equal(glass_sock_state(st, k.c), GLASS_TCP_ESTABLISHED);
    assert_int_equal(k.tcb->soft_error, -GLASS_ECONNREFUSED);
    assert_int_equal(k.tcb->so_error, 0);
    assert_int_equal(glass_send(st, k.c, "more", 4, 0), 4);
    struct glass_event ev;
    while (glass_stack_next_event(st, &ev))
        assert_int_not_equal(ev.kind, GLASS_EV_ERROR);
    close_conn(st, &k);
    free_stack(st);
}

/* RFC 1122 §4.2.3.9: port or protocol unreachable for our SYN fails the connection attempt
 * (Linux: ECONNREFUSED, ENOPROTOOPT): SYN_SENT -> CLOSED, cause rcv_icmp_unreach. */
static void syn_sent_unreachable(uint8_t code, int err)
{
    struct glass_stack *st = new_stack();
    glass_stack_advance(st, GLASS_SEC(1));
    int fd = glass_socket(st);
    struct glass_endpoint peer = {PEER, 5000};
    assert_int_equal(glass_connect(st, fd, &peer), -GLASS_EINPROGRESS);
    uint8_t syn[2048];
    size_t n = take(st, syn, sizeof syn);
    assert_true(n > 0);
    struct glass_pkt_summary s;
    assert_int_equal(glass_pkt_decode(syn, n, &s), 0);
    struct glass_tcb *tcb = glass_demux_conn(st, US, s.src.port, PEER, 5000);
    assert_non_null(tcb);
    /* a wrong sequence number first: ignored */
    assert_int_equal(send_error(st, 3, code, 0, syn, s.seq + 1), GLASS_DROP_ICMP);
    assert_int_equal(glass_sock_state(st, fd), GLASS_TCP_SYN_SENT);
    assert_int_equal(send_error(st, 3, code, 0, syn, s.seq), GLASS_DROP_NONE);
    assert_int_equal(glass_sock_state(st, fd), GLASS_TCP_CLOSED);
    struct glass_event ev;
    bool saw = false;
    while (glass_stack_next_event(st, &ev))
        if (ev.kind == GLASS_EV_ERROR && ev.err == err)
            saw = true;
    assert_true(saw);
    assert_int_equal(glass_ipx_mib(st, GLASS_IPX_TcpExtIcmpHardErrors), 1);
    glass_close(st, fd);
    count_output(st);
    free_stack(st);
}

static void test_cat052_syn_sent_port_unreachable(void **state)
{
    (void)state;
    syn_sent_unreachable(3, -GLASS_ECONNREFUSED);
}

static void test_cat052_syn_sent_protocol_unreachable(void **state)
{
    (void)state;
    syn_sent_unreachable(2, -GLASS_ENOPROTOOPT);
}

/* Soft errors never abort (RFC 9293 MUST-56); the Linux errno is kept for a later timeout. */
static void test_cat053_soft_errors_keep_the_connection(void **state)
{
    (void)state;
    static const struct {
        uint8_t type, code;
        int err;
    } cases[] = {
        {3, 0, -GLASS_ENETUNREACH}, {3, 1, -GLASS_EHOSTUNREACH}, {3, 5, -GLASS_EOPNOTSUPP},
        {3, 13, -GLASS_EHOSTUNREACH}, {11, 0, -GLASS_EHOSTUNREACH}, {12, 0, -GLASS_EHOSTUNREACH},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct glass_stack *st = new_stack();
        struct conn k;
        establish(st, &k, 3000);
        uint32_t word = cases[i].type == 12 ? 0x14000000u : 0;
        assert_int_equal(send_error(st, cases[i].type, cases[i].code, word, k.first, k.iss + 1),
                         GLASS_DROP_NONE);
        assert_int_equal(glass_sock_state(st, k.c), GLASS_TCP_ESTABLISHED);
        assert_int_equal(k.tcb->soft_error, cases[i].err);
        assert_int_equal(k.tcb->snd_mss, 1460);
        assert_int_equal(count_output(st), 0);
        close_conn(st, &k);
        free_stack(st);
    }
}

static void test_cat054_source_quench_ignored(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    struct conn k;
    establish(st, &k, 3000);
    assert_int_equal(send_error(st, 4, 0, 0, k.first, k.iss + 1), GLASS_DROP_ICMP);
    assert_int_equal(k.tcb->soft_error, 0);
    assert_int_equal(glass_ipx_mib(st, GLASS_IPX_IcmpInSrcQuenchs), 1);
    assert_int_equal(count_output(st), 0);
    close_conn(st, &k);
    free_stack(st);
}

static void test_cat055_redirect_mask_timestamp_unknown_ignored(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    struct conn k;
    establish(st, &k, 3000);
    uint32_t conns = glass_stack_in_state(st, GLASS_TCP_ESTABLISHED);
    static const uint8_t types[] = {5, 13, 14, 15, 16, 17, 18, 40, 41, 100, 200, 255};
    for (size_t i = 0; i < sizeof types; i++) {
        uint8_t q[64], p[256];
        size_t ql = quote(q, k.first, k.iss + 1);
        size_t n = icmp_msg(p, ROUTER, types[i], 0, GLASS_IP4(192, 0, 2, 77), q, ql);
        expect_drop(st, p, n, GLASS_DROP_ICMP);
    }
    assert_int_equal(k.tcb->soft_error, 0);
    assert_int_equal(glass_stack_in_state(st, GLASS_TCP_ESTABLISHED), conns);
    close_conn(st, &k);
    free_stack(st);
}

/* Unsolicited echo replies and errors for 4-tuples we do not have: no state, no output. */
static void test_cat056_unsolicited_flood(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    uint8_t q[28], p[256];
    uint32_t x = 88172645u;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        size_t n;
        if (i % 2) {
            uint8_t msg[64];
            size_t ml = icmp_echo(msg, (uint16_t)x, (uint16_t)i, 16);
            msg[0] = 0; /* echo reply */
            glass_put16(msg + 2, 0);
            glass_put16(msg + 2, glass_cksum_finish(glass_cksum_add(0, msg, ml)));
            n = ip_build(p, PEER, US, 1, (uint16_t)i, 0, 64, NULL, 0, msg, ml);
        } else {
            uint8_t seg[64];
            tcp_build(seg, US, PEER, (uint16_t)(x | 1), (uint16_t)(x >> 16 | 1), GLASS_TH_ACK, x,
                      x, 0);
            ip_build(q, US, PEER, 6, 1, 0, 64, NULL, 0, seg, 8);
            n = icmp_msg(p, ROUTER, 3, (uint8_t)(x % 16), 0, q, 28);
        }
        int r = glass_stack_input(st, (glass_time_t)i + 1, p, n);
        assert_true(r == GLASS_DROP_ICMP || r == GLASS_DROP_NO_SOCKET);
    }
    assert_int_equal(count_output(st), 0);
    assert_int_equal(glass_stack_conns(st, NULL, 0), 0);
    free_stack(st);
}

/* Errors about a connection in TIME_WAIT or about a listener change nothing. */
static void test_cat053_errors_for_time_wait_and_listen_ignored(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    int l = glass_socket(st);
    struct glass_endpoint ep = {0, 80};
    assert_int_equal(glass_bind(st, l, &ep), 0);
    assert_int_equal(glass_listen(st, l, 4), 0);
    uint8_t seg[64], q[64];
    tcp_build(seg, US, PEER, 80, 40000, GLASS_TH_SYN | GLASS_TH_ACK, 5, 6, 0);
    ip_build(q, US, PEER, 6, 1, 0, 64, NULL, 0, seg, 8);
    assert_int_equal(send_error(st, 3, 3, 0, q, 5), GLASS_DROP_NO_SOCKET);
    assert_int_equal(glass_sock_state(st, l), GLASS_TCP_LISTEN);
    glass_close(st, l);
    free_stack(st);
}

/* Linux tcp_req_err(): an ICMP net/host unreachable, time exceeded or parameter problem that
 * quotes a half-open child's SYN,ACK (its ISS exactly) removes the child at once — its slot in
 * the SYN queue is free again (SYN floods from unreachable sources) — SYN_RCVD -> LISTEN,
 * cause rcv_icmp_unreach, TcpExtListenDrops; any other sequence number is out of window, and
 * port unreachable leaves the child alone (Linux). */
static void test_cat051_icmp_removes_half_open_child(void **state)
{
    (void)state;
    static const uint8_t types[][2] = {{3, 0}, {3, 1}, {11, 0}, {12, 0}};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        struct glass_stack *st = new_stack();
        int l = glass_socket(st);
        struct glass_endpoint ep = {0, 80};
        assert_int_equal(glass_bind(st, l, &ep), 0);
        assert_int_equal(glass_listen(st, l, 1), 0);
        uint8_t seg[128], pkt[256], synack[2048];
        size_t tl = tcp_build(seg, PEER, US, 40000, 80, GLASS_TH_SYN, 1000, 0, 0);
        size_t len = ip_build(pkt, PEER, US, 6, 1, 0, 64, NULL, 0, seg, tl);
        assert_int_equal(glass_stack_input(st, GLASS_SEC(1), pkt, len), GLASS_DROP_NONE);
        size_t n = take(st, synack, sizeof synack);
        struct glass_pkt_summary s;
        assert_int_equal(glass_pkt_decode(synack, n, &s), 0);
        assert_int_equal(glass_stack_in_state(st, GLASS_TCP_SYN_RCVD), 1);
        assert_int_equal(send_error(st, types[t][0], types[t][1], 0, synack, s.seq + 1),
                         GLASS_DROP_ICMP);
        assert_int_equal(send_error(st, 3, 3, 0, synack, s.seq), GLASS_DROP_NONE); /* soft */
        assert_int_equal(glass_stack_in_state(st, GLASS_TCP_SYN_RCVD), 1);
        assert_int_equal(send_error(st, types[t][0], types[t][1], 0, synack, s.seq),
                         GLASS_DROP_NONE);
        assert_int_equal(glass_stack_in_state(st, GLASS_TCP_SYN_RCVD), 0);
        assert_int_equal(glass_stack_mib(st, GLASS_MIB_TcpExtListenDrops), 1);
        assert_int_equal(glass_ipx_mib(st, GLASS_IPX_TcpExtOutOfWindowIcmps), 1);
        int arc = glass_tcp_arc_find(GLASS_TCP_SYN_RCVD, GLASS_TCP_LISTEN);
        assert_int_equal(glass_stack_arc_taken(st, (size_t)arc, GLASS_CAUSE_RCV_ICMP_UNREACH), 1);
        /* the queue (backlog 1) has room again: the next SYN gets a child, not a cookie */
        tl = tcp_build(seg, PEER, US, 40001, 80, GLASS_TH_SYN, 5000, 0, 0);
        len = ip_build(pkt, PEER, US, 6, 2, 0, 64, NULL, 0, seg, tl);
        assert_int_equal(glass_stack_input(st, GLASS_SEC(2), pkt, len), GLASS_DROP_NONE);
        assert_int_equal(glass_stack_in_state(st, GLASS_TCP_SYN_RCVD), 1);
        assert_int_equal(glass_stack_mib(st, GLASS_MIB_TcpExtSyncookiesSent), 0);
        glass_close(st, l);
        count_output(st);
        free_stack(st);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cat042_icmp_shorter_than_8_dropped),
        cmocka_unit_test(test_cat043_bad_icmp_checksum_dropped),
        cmocka_unit_test(test_cat044_echo_with_inconsistent_lengths),
        cmocka_unit_test(test_cat045_1472_byte_echo_identical),
        cmocka_unit_test(test_cat046_echo_to_broadcast_or_multicast_unanswered),
        cmocka_unit_test(test_cat047_echo_from_martian_unanswered),
        cmocka_unit_test(test_cat048_bogus_quotes_ignored),
        cmocka_unit_test(test_cat050_frag_needed_absurd_mtu),
        cmocka_unit_test(test_cat050_frag_needed_lowers_mss_and_retransmits),
        cmocka_unit_test(test_cat051_out_of_window_sequence_ignored),
        cmocka_unit_test(test_cat051_icmp_removes_half_open_child),
        cmocka_unit_test(test_cat052_hard_error_established_is_soft),
        cmocka_unit_test(test_cat052_syn_sent_port_unreachable),
        cmocka_unit_test(test_cat052_syn_sent_protocol_unreachable),
        cmocka_unit_test(test_cat053_soft_errors_keep_the_connection),
        cmocka_unit_test(test_cat053_errors_for_time_wait_and_listen_ignored),
        cmocka_unit_test(test_cat054_source_quench_ignored),
        cmocka_unit_test(test_cat055_redirect_mask_timestamp_unknown_ignored),
        cmocka_unit_test(test_cat056_unsolicited_flood),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
