/* glasstcp — test kit for the IPv4/ICMP/reassembly unit tests (tests/common/ipkit.c). */
#ifndef GLASS_TEST_IPKIT_H
#define GLASS_TEST_IPKIT_H

#include <stddef.h>
#include <stdint.h>

#include <glass/glass.h>

#define US GLASS_IP4(192, 0, 2, 2)
#define PEER GLASS_IP4(192, 0, 2, 1)

extern size_t live_bytes;

void *count_alloc(void *ctx, size_t size);
void count_free(void *ctx, void *p, size_t size);
struct glass_stack *new_stack(void);
void free_stack(struct glass_stack *st);
size_t ip_build(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id, uint16_t frag,
                uint8_t ttl, const uint8_t *opt, size_t optlen, const uint8_t *payload,
                size_t plen);
void ip_recksum(uint8_t *buf);
size_t icmp_echo(uint8_t *msg, uint16_t ident, uint16_t seq, size_t n);
size_t tcp_build(uint8_t *seg, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                 uint8_t flags, uint32_t seq, uint32_t ack, size_t plen);
size_t take(struct glass_stack *st, uint8_t *out, size_t cap);
size_t count_output(struct glass_stack *st);
void expect_drop(struct glass_stack *st, const uint8_t *p, size_t len, int reason);
void expect_echo_reply(struct glass_stack *st, const uint8_t *opt, size_t optlen, uint8_t ttl,
                       uint16_t frag);

#endif
