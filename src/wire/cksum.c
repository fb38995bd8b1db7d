/* glasstcp — the Internet checksum (RFC 1071), summed 8 bytes at a time. */
#include "wire/wire_priv.h"
#include "util/endian.h"

#include <string.h>

/* The running sum handed between calls is the one's-complement sum of the data read as
 * big-endian 16-bit words, folded to 16 bits, so that glass_cksum_pseudo() can add host-order
 * fields and glass_cksum_finish() gives a value to store with glass_put16().
 *
 * Inside glass_cksum_add() the bytes are summed as native 64-bit words. RFC 1071 §2(B): the sum
 * is independent of byte order, except that on a little-endian host the folded result comes
 * out byte-swapped; §2(C): summing in wider words with end-around carry and folding at the end
 * gives the same 16-bit sum, because 2^16 = 1 modulo 2^16 - 1. */

static uint16_t swap16(uint16_t v)
{
    return (uint16_t)((unsigned)(v >> 8) | ((unsigned)v << 8));
}

/* Fold a 64-bit one's-complement sum to 16 bits (end-around carries). */
static uint16_t fold64(uint64_t acc)
{
    acc = (acc & 0xffffffffu) + (acc >> 32); /* <= 2^33 - 2 */
    acc = (acc & 0xffffffffu) + (acc >> 32); /* <= 2^32 - 1 */
    acc = (acc & 0xffffu) + (acc >> 16);     /* <= 2^17 - 2 */
    acc = (acc & 0xffffu) + (acc >> 16);     /* <= 2^16 - 1 */
    return (uint16_t)acc;
}

/* acc + w with the carry out of bit 63 added back in at bit 0 (one's-complement addition). */
static uint64_t add_carry(uint64_t acc, uint64_t w)
{
    acc += w;
    return acc + (acc < w);
}

uint32_t glass_cksum_add(uint32_t sum, const void *p, size_t len)
{
    const uint8_t *b = p;
    const bool le = glass_host_le();
    uint16_t start = fold64(sum);
    uint64_t acc = le ? swap16(start) : start;
    uint64_t w0, w1;

    /* Two independent loads per iteration; memcpy keeps the loads free of alignment UB. */
    while (len >= 16) {
        memcpy(&w0, b, 8);
        memcpy(&w1, b + 8, 8);
        acc = add_carry(acc, w0);
        acc = add_carry(acc, w1);
        b += 16;
        len -= 16;
    }
    if (len >= 8) {
        memcpy(&w0, b, 8);
        acc = add_carry(acc, w0);
        b += 8;
        len -= 8;
    }
    if (len > 0) {
        /* RFC 1071 §4.1: an odd last byte is padded with zero. Zero-padding the tail to a whole
         * word does that in either byte order, since the tail starts at an even offset. */
        uint8_t tail[8] = {0};
        memcpy(tail, b, len);
        memcpy(&w0, tail, 8);
        acc = add_carry(acc, w0);
    }

    uint16_t folded = fold64(acc);
    return le ? swap16(folded) : folded;
}

static uint64_t load32(const uint8_t *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

uint16_t glass_cksum_hdr(const uint8_t *p, size_t len)
{
    uint64_t acc = 0; /* at most 15 words of 32 bits: no carry out of 64 bits */
    size_t i = 0;
    if (len >= GLASS_IPV4_HDR_MIN) {
        /* The fixed header (all of nearly every datagram's) without the loop: its five words
         * summed in one expression, the loads independent of each other. */
        acc = load32(p) + load32(p + 4) + load32(p + 8) + load32(p + 12) + load32(p + 16);
        i = GLASS_IPV4_HDR_MIN;
    }
    for (; i + 4 <= len; i += 4)
        acc += load32(p + i);
    uint16_t folded = fold64(acc);
    return (uint16_t)~(glass_host_le() ? swap16(folded) : folded);
}

uint16_t glass_cksum_finish(uint32_t sum)
{
    return (uint16_t)~fold64(sum);
}

/* RFC 9293 §3.1: source address, destination address, zero, PTCL, TCP length. */
uint32_t glass_cksum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len)
{
    uint64_t acc = (uint64_t)(src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu) + proto +
                   (len >> 16) + (len & 0xffffu);
    return fold64(acc);
}
