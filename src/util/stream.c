/* glasstcp — the verifiable byte stream (util/stream.h). */
#include "util/stream.h"
#include "util/endian.h"

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
        glass_store_le64(p, w);
        glass_store_le64(p + 8, w + STREAM_C);
        glass_store_le64(p + 16, w + 2 * STREAM_C);
        glass_store_le64(p + 24, w + 3 * STREAM_C);
    }
    for (; n >= 8; n -= 8, p += 8, off += 8, w += STREAM_C)
        glass_store_le64(p, w);
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
        uint64_t diff = (glass_load_le64(p + i) ^ w) | (glass_load_le64(p + i + 8) ^ (w + STREAM_C)) |
                        (glass_load_le64(p + i + 16) ^ (w + 2 * STREAM_C)) |
                        (glass_load_le64(p + i + 24) ^ (w + 3 * STREAM_C));
        if (diff != 0)
            break;
    }
    for (; i + 8 <= n && glass_load_le64(p + i) == w; i += 8, w += STREAM_C)
        ;
    for (; i < n; i++) {
        if (p[i] != glass_stream_byte(key, off + i))
            return i;
    }
    return n;
}
