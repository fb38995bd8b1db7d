/* glasstcp — test kit for the IPv4/ICMP/reassembly unit tests: a stack with a counting
 * allocator, packet builders and output capture (shared by tests/unit/test_ip_*.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ipkit.h"
#include "wire/wire_priv.h"

/* Bytes the stacks made with new_stack() hold now (checked by free_stack()). */
size_t live_bytes;

void *count_alloc(void *ctx, size_t size)
{
    (void)ctx;
    live_bytes += size;
    return malloc(size);
}

void count_free(void *ctx, void *p, size_t size)
{
    (void)ctx;
    assert_true(live_bytes >= size);
    live_bytes -= size;
    free(p);
}

struct glass_stack *new_stack(void)
{
    struct glass_config cfg;
    glass_config_default(&cfg);
    cfg.allocator.alloc = count_alloc;
    cfg.allocator.free = count_free;
    live_bytes = 0;
    struct glass_stack *st = glass_stack_new(&cfg);
    assert_non_null(st);
    assert_int_equal(glass_stack_add_iface(st, US, 24, 1500), 0);
    return st;
}

void free_stack(struct glass_stack *st)
{
    glass_stack_free(st);
    assert_int_equal(live_bytes, 0);
}

/* An IPv4 header with options opt[0..optlen) (optlen a multiple of 4) and payload. */
size_t ip_build(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id,
                       uint16_t frag, uint8_t ttl, const uint8_t *opt, size_t optlen,
                       const uint8_t *payload, size_t plen)
{
    size_t hl = 20 + optlen;
    memset(buf, 0, hl);
    buf[0] = (uint8_t)(0x40 | (hl / 4));
    glass_put16(buf + 2, (uint16_t)(hl + plen));
    glass_put16(buf + 4, id);
    glass_put16(buf + 6, frag);
    buf[8] = ttl;
    buf[9] = proto;
    glass_put32(buf + 12, src);
    glass_put32(buf + 16, dst);
    if (optlen)
        memcpy(buf + 20, opt, optlen);
    glass_put16(buf + 10, glass_cksum_finish(glass_cksum_add(0, buf, hl)));
    if (plen)
        memcpy(buf + hl, payload, plen);
    return hl + plen;
}

void ip_recksum(uint8_t *buf)
{
    glass_put16(buf + 10, 0);
    glass_put16(buf + 10, glass_cksum_finish(glass_cksum_add(0, buf, (size_t)(buf[0] & 15) * 4)));
}

/* An ICMP echo request message: 8-byte header and n bytes of pattern data. */
size_t icmp_echo(uint8_t *msg, uint16_t ident, uint16_t seq, size_t n)
{
    memset(msg, 0, 8);
    msg[0] = 8;
    glass_put16(msg + 4, ident);
    glass_put16(msg + 6, seq);
    for (size_t i = 0; i < n; i++)
        msg[8 + i] = (uint8_t)(i * 7 + 3);
    glass_put16(msg + 2, glass_cksum_finish(glass_cksum_add(0, msg, 8 + n)));
    return 8 + n;
}

/* A TCP segment PEER:sport -> US:dport. */
size_t tcp_build(uint8_t *seg, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                        uint8_t flags, uint32_t seq, uint32_t ack, size_t plen)
{
    static const uint8_t zeros[2048];
    struct glass_tcp_repr r = {.src_port = sport, .dst_port = dport, .seq = seq, .ack = ack,
                               .flags = flags, .win = 65535, .wscale = -1, .payload = zeros,
                               .payload_len = plen};
    if (flags & GLASS_TH_SYN)
        r.mss = 1460;
    return glass_tcp_emit(seg, 2048, &r, src, dst);
}

/* Take the next output packet; 0 if none. */
size_t take(struct glass_stack *st, uint8_t *out, size_t cap)
{
    long n = glass_stack_output(st, glass_stack_now(st), out, cap);
    assert_true(n >= 0);
    return (size_t)n;
}

size_t count_output(struct glass_stack *st)
{
    uint8_t out[2048];
    size_t n = 0;
    while (take(st, out, sizeof out) > 0)
        n++;
    return n;
}

void expect_drop(struct glass_stack *st, const uint8_t *p, size_t len, int reason)
{
    uint64_t before = glass_stack_drops(st, reason);
    assert_int_equal(glass_stack_input(st, glass_stack_now(st) + 1, p, len), reason);
    assert_int_equal(glass_stack_drops(st, reason), before + 1);
    assert_int_equal(count_output(st), 0); /* no reply of any kind */
}

/* Send an echo request (with IPv4 options opt) and expect exactly one echo reply that carries
 * the request's data. */
void expect_echo_reply(struct glass_stack *st, const uint8_t *opt, size_t optlen,
                              uint8_t ttl, uint16_t frag)
{
    uint8_t msg[200], pkt[300], out[2048];
    size_t ml = icmp_echo(msg, 0x1234, 7, 56);
    size_t len = ip_build(pkt, PEER, US, 1, 99, frag, ttl, opt, optlen, msg, ml);
    assert_int_equal(glass_stack_input(st, glass_stack_now(st) + 1, pkt, len), GLASS_DROP_NONE);
    size_t n = take(st, out, sizeof out);
    assert_int_equal(n, 20 + ml);
    assert_int_equal(out[9], 1);
    assert_int_equal(glass_get32(out + 12), US);
    assert_int_equal(glass_get32(out + 16), PEER);
    assert_int_equal(out[20], 0); /* echo reply */
    assert_memory_equal(out + 24, msg + 4, ml - 4);
    assert_int_equal(glass_cksum_finish(glass_cksum_add(0, out + 20, ml)), 0);
    assert_int_equal(glass_cksum_finish(glass_cksum_add(0, out, 20)), 0);
    assert_int_equal(take(st, out, sizeof out), 0);
}
