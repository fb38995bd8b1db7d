/* glasstcp — the verifiable byte stream (util/stream.h). */
#include "util/stream.h"

#include <stdbool.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h> /* x86-64 baseline: two 64-bit words per 128-bit operation */
#endif

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

#if defined(__SSE2__)
/* Words w, w + C (lo, hi) and w + 2C, w + 3C: the next 32 bytes of the stream (x86 is
 * little-endian, as the stream is). */
static void sse_pair(uint64_t w, __m128i *a, __m128i *b)
{
    *a = _mm_set_epi64x((long long)(w + STREAM_C), (long long)w);
    *b = _mm_set_epi64x((long long)(w + 3 * STREAM_C), (long long)(w + 2 * STREAM_C));
}
#endif

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
#if defined(__SSE2__)
    if (n >= 32) {
        __m128i a, b;
        const __m128i step = _mm_set1_epi64x((long long)(4 * STREAM_C));
        sse_pair(w, &a, &b);
        for (; n >= 32; n -= 32, p += 32, off += 32, w += 4 * STREAM_C) {
            _mm_storeu_si128((__m128i *)(void *)p, a);
            _mm_storeu_si128((__m128i *)(void *)(p + 16), b);
            a = _mm_add_epi64(a, step);
            b = _mm_add_epi64(b, step);
        }
    }
#endif
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
#if defined(__SSE2__)
    if (i + 32 <= n) {
        __m128i a, b;
        const __m128i step = _mm_set1_epi64x((long long)(4 * STREAM_C));
        const __m128i zero = _mm_setzero_si128();
        __m128i c, e;
        sse_pair(w, &a, &b);
        c = _mm_add_epi64(a, step);
        e = _mm_add_epi64(b, step);
        const __m128i step2 = _mm_add_epi64(step, step);
        /* 64 bytes a round, one test: the differences ORed together. */
        for (; i + 64 <= n; i += 64, w += 8 * STREAM_C) {
            const __m128i *q = (const __m128i *)(const void *)(p + i);
            __m128i d = _mm_or_si128(
                _mm_or_si128(_mm_xor_si128(_mm_loadu_si128(q), a),
                             _mm_xor_si128(_mm_loadu_si128(q + 1), b)),
                _mm_or_si128(_mm_xor_si128(_mm_loadu_si128(q + 2), c),
                             _mm_xor_si128(_mm_loadu_si128(q + 3), e)));
            if (_mm_movemask_epi8(_mm_cmpeq_epi8(d, zero)) != 0xffff)
                break;
            a = _mm_add_epi64(a, step2);
            b = _mm_add_epi64(b, step2);
            c = _mm_add_epi64(c, step2);
            e = _mm_add_epi64(e, step2);
        }
    }
#endif
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
