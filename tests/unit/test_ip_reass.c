/* glasstcp — IPv4 fragment reassembly (src/core/ip_reass.c): robustness/README.md §2.D
 * (catalogue 19, 27-41) plus reassembly timeouts and allocation failure. Every test checks
 * that all memory taken through the allocator hooks is given back. */
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

/* ---- fragments ------------------------------------------------------------------------------ */

static uint8_t dgram[70000];
static uint8_t reply[70000];

/* Send payload bytes [off, off + len) of d as one fragment of datagram (src, proto, id). */
static int send_frag(struct glass_stack *st, uint32_t src, uint8_t proto, uint16_t id,
                     const uint8_t *d, size_t off, size_t len, bool mf)
{
    uint8_t pkt[2048];
    uint16_t frag = (uint16_t)((off / 8u) | (mf ? GLASS_IPV4_MF : 0u));
    size_t n = ip_build(pkt, src, US, proto, id, frag, 64, NULL, 0, d + off, len);
    return glass_stack_input(st, glass_stack_now(st) + 1, pkt, n);
}

/* Send d[0..len) in fragments of `per` bytes (a multiple of 8), in order. Returns the result
 * of the last one. */
static int send_all(struct glass_stack *st, uint8_t proto, uint16_t id, const uint8_t *d,
                    size_t len, size_t per)
{
    int r = 0;
    for (size_t off = 0; off < len; off += per) {
        size_t n = len - off < per ? len - off : per;
        r = send_frag(st, PEER, proto, id, d, off, n, off + n < len);
    }
    return r;
}

/* Collect the stack's output as one (possibly fragmented) datagram; its payload goes to
 * reply[], its length is returned, *nfrags says how many packets carried it. */
static size_t collect(struct glass_stack *st, size_t *nfrags)
{
    uint8_t out[2048];
    size_t n, got = 0, end = 0;
    *nfrags = 0;
    uint16_t id = 0;
    while ((n = take(st, out, sizeof out)) > 0) {
        assert_true(n <= 1500);
        assert_int_equal(glass_cksum_finish(glass_cksum_add(0, out, 20)), 0);
        if (*nfrags == 0)
            id = glass_get16(out + 4);
        assert_int_equal(glass_get16(out + 4), id);
        (*nfrags)++;
        uint16_t frag = glass_get16(out + 6);
        size_t off = (size_t)(frag & GLASS_IPV4_OFFMASK) * 8u;
        assert_true(off + (n - 20) <= sizeof reply);
        memcpy(reply + off, out + 20, n - 20);
        got += n - 20;
        if (!(frag & GLASS_IPV4_MF))
            end = off + (n - 20);
        else
            assert_int_equal((n - 20) % 8, 0);
    }
    assert_int_equal(got, end);
    return end;
}

/* The echo reply to request msg[0..ml) arrived whole and identical but for type/checksum. */
static void expect_echo(struct glass_stack *st, const uint8_t *msg, size_t ml, size_t frags)
{
    size_t nf;
    assert_int_equal(collect(st, &nf), ml);
    assert_int_equal(nf, frags);
    assert_int_equal(reply[0], 0);
    assert_memory_equal(reply + 4, msg + 4, ml - 4);
    assert_int_equal(glass_cksum_finish(glass_cksum_add(0, reply, ml)), 0);
}

static void expect_nothing_held(struct glass_stack *st)
{
    assert_int_equal(st->ipx.reass_count, 0);
    assert_int_equal(st->ipx.reass_mem, 0);
    assert_null(st->ipx.reass_head);
}

/* ---- 2.D cases ------------------------------------------------------------------------------ */

/* IDs 0 and 0xffff; a datagram of exactly 65535 bytes (a 65507-byte echo, catalogue 45) in 45
 * fragments, answered by a 65535-byte reply fragmented to the MTU. */
static void test_cat019_ids_and_65535_byte_datagram(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    size_t ml = icmp_echo(dgram, 1, 1, 65507);
    assert_int_equal(20 + ml, 65535);
    assert_int_equal(send_all(st, 1, 0, dgram, ml, 1480), GLASS_DROP_NONE);
    expect_echo(st, dgram, ml, 45);
    ml = icmp_echo(dgram, 2, 2, 3000);
    assert_int_equal(send_all(st, 1, 0xffff, dgram, ml, 1480), GLASS_DROP_NONE);
    expect_echo(st, dgram, ml, 3);
    assert_int_equal(glass_ipx_mib(st, GLASS_IPX_IpReasmOKs), 2);
    assert_int_equal(glass_ipx_mib(st, GLASS_IPX_IpFragOKs), 2);
    expect_nothing_held(st);
    free_stack(st);
}

static void test_cat027_ping_of_death(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    icmp_echo(dgram, 1, 1, 65507);
    assert_int_equal(send_frag(st, PEER, 1, 7, dgram, 0, 1480, true), GLASS_DROP_NONE);
    assert_int_equal(st->ipx.reass_count, 1);
    /* last fragment at offset 8189 * 8 = 65512 with 100 bytes: 65612 bytes of payload */
    uint8_t pkt[200], data[100] = {0};
    size_t n = ip_build(pkt, PEER, US, 1, 7, 8189, 64, NULL, 0, data, 100);
    assert_int_equal(glass_stack_input(st, 2, pkt, n), GLASS_DROP_IP_FRAG);
    expect_nothing_held(st); /* the whole datagram is gone */
    assert_int_equal(count_output(st), 0);
    assert_true(glass_ipx_mib(st, GLASS_IPX_IpReasmFails) >= 1);
    free_stack(st);
}

static void test_cat028_reassembled_size_limits(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    /* 65496 + 40 = 65536 bytes of payload: one too many for any header */
    uint8_t pkt[200], data[40] = {0};
    size_t n = ip_build(pkt, PEER, US, 1, 8, 8187, 64, NULL, 0, data, 40);
    assert_int_equal(glass_stack_input(st, 1, pkt, n), GLASS_DROP_IP_FRAG);
    expect_nothing_held(st);
    /* a consistent 4000-byte datagram is fine: the buffer is sized by the datagram */
    size_t ml = icmp_echo(dgram, 3, 3, 4000 - 28);
    assert_int_equal(send_all(st, 1, 9, dgram, ml, 1480), GLASS_DROP_NONE);
    expect_echo(st, dgram, ml, 3);
    free_stack(st);
}

static void test_cat029_offset_plus_length_overflow(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    memset(dgram, 0x5a, 1480);
    uint8_t pkt[2048];
    size_t n = ip_build(pkt, PEER, US, 1, 10, 8191 | GLASS_IPV4_MF, 64, NULL, 0, dgram, 1480);
    assert_int_equal(glass_stack_input(st, 1, pkt, n), GLASS_DROP_IP_FRAG);
    expect_nothing_held(st);
    free_stack(st);
}

static void test_cat030_overlaps_drop_the_datagram(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    size_t ml = icmp_echo(dgram, 4, 4, 40);
    /* teardrop: B (offset 24, 8 bytes, last) lies inside A (offset 0, 40 bytes) */
    assert_int_equal(send_frag(st, PEER, 1, 11, dgram, 0, 40, true), GLASS_DROP_NONE);
    assert_int_equal(send_frag(st, PEER, 1, 11, dgram, 24, 8, false), GLASS_DROP_IP_FRAG);
    expect_nothing_held(st);
    /* the rest of the datagram alone makes a new, incomplete one: no reply */
    assert_int_equal(send_frag(st, PEER, 1, 11, dgram, 40, ml - 40, false), GLASS_DROP_NONE);
    assert_int_equal(count_output(st), 0);
    /* partial overlap: 0..40 then 32..48 (last) */
    assert_int_equal(send_frag(st, PEER, 1, 12, dgram, 0, 40, true), GLASS_DROP_NONE);
    assert_int_equal(send_frag(st, PEER, 1, 12, dgram, 32, 16, false), GLASS_DROP_IP_FRAG);
    /* overlap from the left: 16..48 (last) first, then 0..24 */
    assert_int_equal(send_frag(st, PEER, 1, 13, dgram, 16, 32, false), GLASS_DROP_NONE);
    assert_int_equal(send_frag(st, PEER, 1, 13, dgram, 0, 24, true), GLASS_DROP_IP_FRAG);
    assert_int_equal(count_output(st), 0);
    assert_int_equal(st->ipx.reass_count, 1); /* only datagram 11's tail, waiting to expire */
    free_stack(st);
}

static void test_cat031_duplicates_reassembled_once(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    size_t ml = icmp_echo(dgram, 5, 5, 3000); /* 3008 bytes: 1480 + 1480 + 48 */
    assert_int_equal(send_frag(st, PEER, 1, 14, dgram, 2960, 48, false), GLASS_DROP_NONE);
    assert_int_equal(send_frag(st, PEER, 1, 14, dgram, 0, 1480, true), GLASS_DROP_NONE);
    assert_int_equal(send_frag(st, PEER, 1, 14, dgram, 2960, 48, false), GLASS_DROP_IP_FRAG);
    assert_int_equal(send_frag(st, PEER, 1, 14, dgram, 0, 1480, true), GLASS_DROP_IP_FRAG);
    assert_int_equal(count_output(st), 0);
    assert_int_equal(send_frag(st, PEER, 1, 14, dgram, 1480, 1480, true), GLASS_DROP_NONE);
    expect_echo(st, dgram, ml, 3);
    assert_int_equal(glass_ipx_mib(st, GLASS_IPX_IpReasmDups), 2);
    assert_int_equal(glass_ipx_mib(st, GLASS_IPX_IpReasmOKs), 1);
    expect_nothing_held(st);
    free_stack(st);
}

static void test_cat032_out_of_order_arrival(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    size_t ml = icmp_echo(dgram, 6, 6, 4000);
    assert_int_equal(send_frag(st, PEER, 1, 15, dgram, 2960, ml - 2960, false), GLASS_DROP_NONE);
    assert_int_equal(send_frag(st, PEER, 1, 15, dgram, 0, 1480, true), GLASS_DROP_NONE);
    assert_int_equal(count_output(st), 0);
    assert_int_equal(send_frag(st, PEER, 1, 15, dgram, 1480, 1480, true), GLASS_DROP_NONE);
    expect_echo(st, dgram, ml, 3);
    free_stack(st);
}

static void test_cat033_unaligned_middle_fragment(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    icmp_echo(dgram, 7, 7, 100);
    assert_int_equal(send_frag(st, PEER, 1, 16, dgram, 0, 13, true), GLASS_DROP_IP_FRAG);
    expect_nothing_held(st);
    free_stack(st);
}

static void test_cat034_empty_fragment(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    assert_int_equal(send_frag(st, PEER, 1, 17, dgram, 0, 0, true), GLASS_DROP_IP_FRAG);
    assert_int_equal(send_frag(st, PEER, 1, 17, dgram, 64, 0, false), GLASS_DROP_IP_FRAG);
    expect_nothing_held(st);
    free_stack(st);
}

static void test_cat035_two_last_fragments(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    icmp_echo(dgram, 8, 8, 100);
    assert_int_equal(send_frag(st, PEER, 1, 18, dgram, 64, 44, false), GLASS_DROP_NONE);
    assert_int_equal(send_frag(st, PEER, 1, 18, dgram, 64, 40, false), GLASS_DROP_IP_FRAG);
    expect_nothing_held(st);
    /* a middle fragment reaching past a known end */
    assert_int_equal(send_frag(st, PEER, 1, 19, dgram, 64, 44, false), GLASS_DROP_NONE);
    assert_int_equal(send_frag(st, PEER, 1, 19, dgram, 0, 112, true), GLASS_DROP_IP_FRAG);
    /* a last fragment ending before data already held */
    assert_int_equal(send_frag(st, PEER, 1, 20, dgram, 64, 40, true), GLASS_DROP_NONE);
    assert_int_equal(send_frag(st, PEER, 1, 20, dgram, 8, 16, false), GLASS_DROP_IP_FRAG);
    expect_nothing_held(st);
    free_stack(st);
}

/* RFC 1858 / RFC 3128: a first TCP fragment too short for the header, or a fragment at
 * offset 8 rewriting it, drops the datagram; nothing reaches TCP. */
static void test_cat036_tiny_tcp_fragments(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    size_t tl = tcp_build(dgram, PEER, US, 40000, 81, GLASS_TH_SYN, 1, 0, 40);
    assert_int_equal(send_frag(st, PEER, 6, 21, dgram, 0, 8, true), GLASS_DROP_IP_FRAG);
    assert_int_equal(send_frag(st, PEER, 6, 22, dgram, 0, 24, true), GLASS_DROP_NONE);
    assert_int_equal(send_frag(st, PEER, 6, 22, dgram, 8, 8, true), GLASS_DROP_IP_FRAG);
    assert_int_equal(send_frag(st, PEER, 6, 22, dgram, 24, tl - 24, false), GLASS_DROP_NONE);
    assert_int_equal(count_output(st), 0); /* no RST: TCP never saw a segment */
    assert_int_equal(glass_stack_mib(st, GLASS_MIB_TcpInSegs), 0);
    free_stack(st);
}

/* The key is (src, dst, protocol, id): an ICMP and a TCP datagram with the same id and
 * addresses, interleaved, are both delivered. */
static void test_cat037_key_includes_protocol(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    static uint8_t seg[256];
    size_t tl = tcp_build(seg, PEER, US, 40000, 81, GLASS_TH_SYN, 1000, 0, 40);
    size_t ml = icmp_echo(dgram, 9, 9, 56);
    assert_int_equal(send_frag(st, PEER, 1, 500, dgram, 0, 32, true), GLASS_DROP_NONE);
    assert_int_equal(send_frag(st, PEER, 6, 500, seg, 0, 32, true), GLASS_DROP_NONE);
    assert_int_equal(st->ipx.reass_count, 2);
    assert_int_equal(send_frag(st, PEER, 1, 500, dgram, 32, ml - 32, false), GLASS_DROP_NONE);
    expect_echo(st, dgram, ml, 1);
    assert_int_equal(send_frag(st, PEER, 6, 500, seg, 32, tl - 32, false), GLASS_DROP_NO_SOCKET);
    uint8_t out[2048];
    struct glass_pkt_summary s;
    size_t n = take(st, out, sizeof out);
    assert_int_equal(glass_pkt_decode(out, n, &s), 0);
    assert_int_equal(s.flags, GLASS_TH_RST | GLASS_TH_ACK);
    assert_int_equal(s.ack, 1000 + 1 + 40);
    expect_nothing_held(st);
    free_stack(st);
}

/* Fragments 0 and 2 of 3, never 1: freed at the timeout, which next_deadline reports, with
 * one Time Exceeded (code 1) quoting the first fragment. Without fragment 0: no ICMP. */
static void test_cat038_never_completed_times_out(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    glass_time_t t0 = GLASS_SEC(5);
    glass_stack_advance(st, t0);
    size_t ml = icmp_echo(dgram, 10, 10, 4000);
    assert_int_equal(send_frag(st, PEER, 1, 23, dgram, 0, 1480, true), GLASS_DROP_NONE);
    assert_int_equal(send_frag(st, PEER, 1, 23, dgram, 2960, ml - 2960, false), GLASS_DROP_NONE);
    assert_int_equal(send_frag(st, PEER, 1, 24, dgram, 2960, ml - 2960, false), GLASS_DROP_NONE);
    glass_time_t deadline = glass_stack_next_deadline(st);
    assert_true(deadline > t0 + GLASS_SEC(29) && deadline <= t0 + GLASS_SEC(30) + 10);
    glass_stack_advance(st, deadline - 1);
    assert_int_equal(st->ipx.reass_count, 2);
    assert_int_equal(count_output(st), 0);
    glass_stack_advance(st, deadline + 10);
    expect_nothing_held(st);
    uint8_t out[2048];
    size_t n = take(st, out, sizeof out);
    assert_int_equal(n, 20 + 8 + 20 + 8);
    assert_int_equal(out[20], 11); /* Time Exceeded */
    assert_int_equal(out[21], 1);  /* fragment reassembly time exceeded */
    assert_int_equal(glass_get32(out + 16), PEER);
    assert_int_equal(glass_get16(out + 28 + 4), 23); /* the quoted header's id */
    assert_memory_equal(out + 48, dgram, 8);
    assert_int_equal(glass_cksum_finish(glass_cksum_add(0, out + 20, n - 20)), 0);
    assert_int_equal(take(st, out, sizeof out), 0); /* none for datagram 24 */
    assert_int_equal(glass_ipx_mib(st, GLASS_IPX_IpReasmTimeout), 2);
    assert_int_equal(glass_stack_next_deadline(st), GLASS_TIME_NEVER);
    free_stack(st);
}

/* Catalogue 49: no Time Exceeded about an ICMP error that timed out in reassembly. */
static void test_cat049_no_time_exceeded_about_an_icmp_error(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    memset(dgram, 0, 64);
    dgram[0] = 3; /* Destination Unreachable */
    assert_int_equal(send_frag(st, PEER, 1, 25, dgram, 0, 32, true), GLASS_DROP_NONE);
    glass_stack_advance(st, glass_stack_now(st) + GLASS_SEC(31));
    expect_nothing_held(st);
    assert_int_equal(count_output(st), 0);
    free_stack(st);
}

static void test_cat039_state_cleared_after_delivery(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    size_t ml = icmp_echo(dgram, 11, 11, 2000);
    assert_int_equal(send_all(st, 1, 26, dgram, ml, 1480), GLASS_DROP_NONE);
    expect_echo(st, dgram, ml, 2);
    expect_nothing_held(st);
    /* the same id again: its last fragment alone must not complete with the old first one */
    size_t ml2 = icmp_echo(dgram, 12, 12, 2000);
    assert_int_equal(ml2, ml);
    assert_int_equal(send_frag(st, PEER, 1, 26, dgram, 1480, ml - 1480, false), GLASS_DROP_NONE);
    assert_int_equal(count_output(st), 0);
    assert_int_equal(send_frag(st, PEER, 1, 26, dgram, 0, 1480, true), GLASS_DROP_NONE);
    expect_echo(st, dgram, ml, 2);
    free_stack(st);
}

/* 100 000 first fragments with distinct ids from spoofed sources: the caps hold on every
 * fragment, the oldest are evicted, and a real fragmented ping still gets through. */
static void test_cat040_fragment_flood(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    uint8_t data[8] = {8, 0, 0, 0, 0, 0, 0, 0};
    uint32_t x = 2463534242u;
    for (uint32_t i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        uint32_t src = GLASS_IP4(10, 0, 0, 0) | (x & 0x00ffffffu);
        if ((src & 0xff) == 0xff || (src & 0xff) == 0)
            src ^= 1;
        assert_int_equal(send_frag(st, src, 1, (uint16_t)i, data, 0, 8, true), GLASS_DROP_NONE);
        assert_true(st->ipx.reass_count <= GLASS_REASS_MAX_DGRAMS);
        assert_true(st->ipx.reass_mem <= GLASS_REASS_MEM_MAX);
    }
    assert_int_equal(st->ipx.reass_count, GLASS_REASS_MAX_DGRAMS);
    size_t ml = icmp_echo(dgram, 13, 13, 3000);
    assert_int_equal(send_all(st, 1, 27, dgram, ml, 1480), GLASS_DROP_NONE);
    expect_echo(st, dgram, ml, 3);
    free_stack(st);
}

/* Too many fragments for one datagram. */
static void test_cat040_fragments_per_datagram_capped(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    icmp_echo(dgram, 14, 14, 1000);
    for (unsigned i = 0; i < GLASS_REASS_MAX_FRAGS; i++)
        assert_int_equal(send_frag(st, PEER, 1, 28, dgram, i * 16u, 8, true), GLASS_DROP_NONE);
    assert_int_equal(send_frag(st, PEER, 1, 28, dgram, 8, 8, true), GLASS_DROP_IP_FRAG);
    expect_nothing_held(st);
    free_stack(st);
}

/* Catalogue 41: a 3000-byte TCP segment in 3 fragments is delivered once, its checksum
 * verified over the whole datagram. */
static void test_cat041_fragmented_tcp_segment(void **state)
{
    (void)state;
    struct glass_stack *st = new_stack();
    int l = glass_socket(st);
    struct glass_endpoint ep = {0, 80};
    assert_int_equal(glass_bind(st, l, &ep), 0);
    assert_int_equal(glass_listen(st, l, 4), 0);
    static uint8_t seg[4096];
    uint8_t out[2048];
    struct glass_pkt_summary s;
    size_t tl = tcp_build(seg, PEER, US, 40000, 80, GLASS_TH_SYN, 1000, 0, 0);
    assert_int_equal(send_all(st, 6, 30, seg, tl, 1480), GLASS_DROP_NONE);
    size_t n = take(st, out, sizeof out);
    assert_int_equal(glass_pkt_decode(out, n, &s), 0);
    uint32_t iss = s.seq;
    tl = tcp_build(seg, PEER, US, 40000, 80, GLASS_TH_ACK, 1001, iss + 1, 0);
    assert_int_equal(send_all(st, 6, 31, seg, tl, 1480), GLASS_DROP_NONE);
    int c = glass_accept(st, l, NULL);
    assert_true(c >= 0);
    struct glass_tcp_repr r = {.src_port = 40000, .dst_port = 80, .seq = 1001, .ack = iss + 1,
                               .flags = GLASS_TH_ACK | GLASS_TH_PSH, .win = 65535, .wscale = -1,
                               .payload = dgram, .payload_len = 3000};
    for (size_t i = 0; i < 3000; i++)
        dgram[i] = (uint8_t)(i * 13 + 1);
    tl = glass_tcp_emit(seg, sizeof seg, &r, PEER, US);
    /* first with one payload bit flipped: the TCP checksum over the reassembly catches it */
    seg[100] ^= 0x10;
    assert_int_equal(send_all(st, 6, 32, seg, tl, 1480), GLASS_DROP_TCP_CSUM);
    seg[100] ^= 0x10;
    assert_int_equal(send_all(st, 6, 33, seg, tl, 1480), GLASS_DROP_NONE);
    static uint8_t got[4000];
    assert_int_equal(glass_recv(st, c, got, sizeof got, 0), 3000);
    assert_memory_equal(got, dgram, 3000);
    assert_int_equal(glass_recv(st, c, got, sizeof got, 0), -GLASS_EAGAIN);
    struct glass_linger lg = {1, 0};
    glass_setsockopt(st, c, GLASS_SOL_SOCKET, GLASS_SO_LINGER, &lg, sizeof lg);
    glass_close(st, c);
    glass_close(st, l);
    count_output(st);
    expect_nothing_held(st);
    free_stack(st);
}

/* Reassembly memory goes through the allocator hooks; a failed allocation drops cleanly. */
static size_t fail_after;
static void *failing_alloc(void *ctx, size_t size)
{
    if (fail_after == 0)
        return NULL;
    fail_after--;
    return count_alloc(ctx, size);
}

static void test_cat117_allocation_failure_in_reassembly(void **state)
{
    (void)state;
    for (size_t k = 0; k < 8; k++) {
        struct glass_config cfg;
        glass_config_default(&cfg);
        cfg.allocator.alloc = count_alloc;
        cfg.allocator.free = count_free;
        live_bytes = 0;
        struct glass_stack *st = glass_stack_new(&cfg);
        assert_non_null(st);
        assert_int_equal(glass_stack_add_iface(st, US, 24, 1500), 0);
        glass_stack_free(st);
        assert_int_equal(live_bytes, 0);
        /* the same, with allocations failing after k more */
        cfg.allocator.alloc = failing_alloc;
        fail_after = 1000;
        st = glass_stack_new(&cfg);
        assert_non_null(st);
        assert_int_equal(glass_stack_add_iface(st, US, 24, 1500), 0);
        fail_after = k;
        size_t ml = icmp_echo(dgram, 15, 15, 3000);
        int r = send_all(st, 1, 34, dgram, ml, 1480);
        assert_true(r == GLASS_DROP_NONE || r == GLASS_DROP_NOMEM);
        fail_after = 1000;
        if (r == GLASS_DROP_NONE && st->ipx.reass_count == 0) {
            expect_echo(st, dgram, ml, 3);
        } else {
            assert_int_equal(count_output(st), 0);
        }
        glass_stack_free(st);
        assert_int_equal(live_bytes, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cat019_ids_and_65535_byte_datagram),
        cmocka_unit_test(test_cat027_ping_of_death),
        cmocka_unit_test(test_cat028_reassembled_size_limits),
        cmocka_unit_test(test_cat029_offset_plus_length_overflow),
        cmocka_unit_test(test_cat030_overlaps_drop_the_datagram),
        cmocka_unit_test(test_cat031_duplicates_reassembled_once),
        cmocka_unit_test(test_cat032_out_of_order_arrival),
        cmocka_unit_test(test_cat033_unaligned_middle_fragment),
        cmocka_unit_test(test_cat034_empty_fragment),
        cmocka_unit_test(test_cat035_two_last_fragments),
        cmocka_unit_test(test_cat036_tiny_tcp_fragments),
        cmocka_unit_test(test_cat037_key_includes_protocol),
        cmocka_unit_test(test_cat038_never_completed_times_out),
        cmocka_unit_test(test_cat049_no_time_exceeded_about_an_icmp_error),
        cmocka_unit_test(test_cat039_state_cleared_after_delivery),
        cmocka_unit_test(test_cat040_fragment_flood),
        cmocka_unit_test(test_cat040_fragments_per_datagram_capped),
        cmocka_unit_test(test_cat041_fragmented_tcp_segment),
        cmocka_unit_test(test_cat117_allocation_failure_in_reassembly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
