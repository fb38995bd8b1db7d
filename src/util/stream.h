/* glasstcp — the verifiable byte stream that simulated applications send and check. */
#ifndef GLASS_UTIL_STREAM_H
#define GLASS_UTIL_STREAM_H

#include <stddef.h>
#include <stdint.h>

/* Byte i of the stream with key `key` is byte i % 8 (little-endian) of word i / 8, and word k
 * is key + k * C for an odd constant C: every word position has its own value (k -> k * C is a
 * bijection modulo 2^64), so a byte delivered at the wrong offset or with a flipped bit is
 * caught, and each next word costs one addition (cheap enough to fill and check gigabytes). */
uint8_t glass_stream_byte(uint64_t key, uint64_t off);
/* Bytes [off, off + n) of the stream into p. */
void glass_stream_fill(uint64_t key, uint64_t off, uint8_t *p, size_t n);
/* Index of the first byte of p[0..n) that differs from the stream at off, or n. */
size_t glass_stream_check(uint64_t key, uint64_t off, const uint8_t *p, size_t n);

#endif
