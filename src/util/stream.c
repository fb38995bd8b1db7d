/* glasstcp — the verifiable byte stream (util/stream.h). */
#include "util/stream.h"

#include <stdbool.h>
#include <string.h>

#define STREAM_C UINT64_C(0x9e3779b97f4a7c15) /* odd: k * C is a bijection */

static uint64_t word_at(uint64_t key, uint64_t k)
{
    return key + k * STREAM_C;
}

static bool host_le(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static uint64_t bswap64(uint64_t w)
{
    w = (w >> 32) | (w << 32);
    w = ((w & UINT64_C(0xffff0000ffff0000)) >> 16) | ((w & UINT64_C(0x0000ffff0000ffff)) << 16);
    return ((w & UINT64_C(0xff00ff00ff00ff00)) >> 8) | ((w & UINT64_C(0x00ff00ff00ff00ff)) << 8);
}

/* Little-endian store and load of one word, so the stream is the same on every host. */
static void store_le64(uint8_t *p, uint64_t w)
{
    if (!host_le())
        w = bswap64(w);
    memcpy(p, &w, 8);
}

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return host_le() ? w : bswap64(w);
}

uint8_t glass_stream_byte(uint64_t key, uint64_t off)
{
    return (uint8_t)(word_at(key, off >> 3) >> (8 * (off & 7)));
}

void glass_stream_fill(uint64_t key, uint64_t off, uint8_t *p, size_t n)
{
    while (n > 0 && (off & 7) != 0) {
        *p++ = glass_stream_byte(key, off++);
        n--;
    }
    uint64_t w = word_at(key, off >> 3);
    for (; n >= 32; n -= 32, p += 32, off += 32, w += 4 * STREAM_C) {
        store_le64(p, w);
        store_le64(p + 8, w + STREAM_C);
        store_le64(p + 16, w + 2 * STREAM_C);
        store_le64(p + 24, w + 3 * STREAM_C);
    }
    for (; n >= 8; n -= 8, p += 8, off += 8, w += STREAM_C)
        store_le64(p, w);
    while (n > 0) {
        *p++ = glass_stream_byte(key, off++);
        n--;
    }
}

size_t glass_stream_check(uint64_t key, uint64_t off, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && ((off + i) & 7) != 0) {
        if (p[i] != glass_stream_byte(key, off + i))
            return i;
        i++;
    }
    /* Blocks of 32 bytes: OR the differences together, look closer only on a mismatch. */
    uint64_t w = word_at(key, (off + i) >> 3);
    for (; i + 32 <= n; i += 32, w += 4 * STREAM_C) {
        uint64_t diff = (load_le64(p + i) ^ w) | (load_le64(p + i + 8) ^ (w + STREAM_C)) |
                        (load_le64(p + i + 16) ^ (w + 2 * STREAM_C)) |
                        (load_le64(p + i + 24) ^ (w + 3 * STREAM_C));
        if (diff != 0)
            break;
    }
    for (; i + 8 <= n && load_le64(p + i) == w; i += 8, w += STREAM_C)
        ;
    for (; i < n; i++) {
        if (p[i] != glass_stream_byte(key, off + i))
            return i;
    }
    return n;
}
