/* glasstcp — a byte ring buffer with lazily allocated storage. */
#ifndef GLASS_UTIL_RING_H
#define GLASS_UTIL_RING_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Bytes [head, head + len) modulo size, in storage of size bytes. cap is the most the ring may
 * hold (SO_SNDBUF / SO_RCVBUF); the storage is allocated by the caller when the first byte
 * comes and grown towards cap as more are held (core/tcp_out.c glass_ring_reserve), so an
 * idle connection costs no buffer memory and one that exchanges a few bytes only a little.
 * buf is NULL and size 0 while nothing is allocated. */
struct glass_ring {
    uint8_t *buf;
    uint32_t cap;
    uint32_t head;
    uint32_t len;
    uint32_t size;
};

static inline uint32_t glass_ring_space(const struct glass_ring *r)
{
    return r->cap - r->len;
}

/* The copies below call memcpy for the wrapped part only when there is one: most copies (a
 * request of a few bytes, each segment's payload) do not wrap, and a call of memcpy for 0
 * bytes costs as much as a short copy. */

/* Append up to n bytes (storage must be allocated); returns how many were stored: at most what
 * the storage has room for. */
static inline uint32_t glass_ring_write(struct glass_ring *r, const uint8_t *p, uint32_t n)
{
    if (n > r->size - r->len)
        n = r->size - r->len;
    uint32_t tail = (r->head + r->len) % r->size;
    uint32_t first = r->size - tail < n ? r->size - tail : n;
    memcpy(r->buf + tail, p, first);
    if (first < n)
        memcpy(r->buf, p + first, n - first);
    r->len += n;
    return n;
}

/* Store n bytes at off bytes after head without changing len (out-of-order data beyond the
 * readable bytes); off + n <= size. */
static inline void glass_ring_write_at(struct glass_ring *r, uint32_t off, const uint8_t *p, uint32_t n)
{
    uint32_t pos = (r->head + off) % r->size;
    uint32_t first = r->size - pos < n ? r->size - pos : n;
    memcpy(r->buf + pos, p, first);
    if (first < n)
        memcpy(r->buf, p + first, n - first);
}

/* Copy n bytes starting off bytes after head into out, without consuming; off + n <= len. */
static inline void glass_ring_peek(const struct glass_ring *r, uint32_t off, uint8_t *out, uint32_t n)
{
    uint32_t pos = (r->head + off) % r->size;
    uint32_t first = r->size - pos < n ? r->size - pos : n;
    memcpy(out, r->buf + pos, first);
    if (first < n)
        memcpy(out + first, r->buf, n - first);
}

/* The stored bytes from off bytes after head up to the end of storage, without wrapping (at
 * most n): *p receives where they are. */
static inline uint32_t glass_ring_span_at(const struct glass_ring *r, uint32_t off, uint32_t n,
                                          const uint8_t **p)
{
    uint32_t pos = (r->head + off) % r->size;
    *p = r->buf + pos;
    return r->size - pos < n ? r->size - pos : n;
}

/* The free bytes of the storage that follow the stored ones without wrapping: where the next
 * write goes. */
static inline uint32_t glass_ring_tail_span(const struct glass_ring *r, uint8_t **p)
{
    uint32_t tail = (r->head + r->len) % r->size;
    *p = r->buf + tail;
    return r->size - tail < r->size - r->len ? r->size - tail : r->size - r->len;
}

/* The stored bytes from the head up to the end of storage or of the data, without wrapping. */
static inline uint32_t glass_ring_head_span(const struct glass_ring *r, uint8_t **p)
{
    *p = r->buf + r->head;
    return r->size - r->head < r->len ? r->size - r->head : r->len;
}

/* Drop n <= len bytes from the head. (The head is never reset when the ring empties: bytes
 * stored beyond len with glass_ring_write_at are addressed from it.) */
static inline void glass_ring_consume(struct glass_ring *r, uint32_t n)
{
    if (n == 0)
        return; /* (also with no storage: size 0) */
    r->head = (r->head + n) % r->size;
    r->len -= n;
}

#endif
