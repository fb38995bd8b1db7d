/* glasstcp — IPv4 fragment reassembly (RFC 791 §3.2, RFC 1122 §3.3.2, RFC 1858, RFC 3128),
 * bounded as robustness/README.md §2.D and §6.6 ask.
 *
 * A datagram being reassembled is a queue keyed by (src, dst, protocol, id) (catalogue 37)
 * holding its fragments as separately allocated pieces, sorted by offset and disjoint. The
 * queues sit in one list in order of their first fragment's arrival; as every queue lives for
 * the same fixed time, that is also deadline order, so the head is the next to expire and the
 * oldest to evict. Limits, all enforced on every fragment (FragmentSmack, catalogue 40):
 *
 *   - a datagram never exceeds GLASS_IP_MAX_DGRAM bytes, header included (Ping of Death, 27-29);
 *   - at most GLASS_REASS_MAX_FRAGS fragments per datagram;
 *   - at most GLASS_REASS_MAX_DGRAMS datagrams and GLASS_REASS_MEM_MAX bytes in all: a new
 *     datagram that does not fit evicts the oldest;
 *   - GLASS_REASS_TIMEOUT after its first fragment a datagram is dropped (ICMP Time Exceeded,
 *     code 1, if its first fragment was seen: RFC 1122 §3.3.2, catalogue 38).
 *
 * Policy on disagreement, chosen to be deterministic and simple: an exact duplicate (same
 * offset and length) is ignored (catalogue 31); any other overlap, two different ends, data
 * past the end, or a TCP fragment at offset 8 (RFC 1858) drops the whole datagram
 * (catalogue 30, 35, 36). Nothing is parsed above IP until the datagram is whole; the queue is
 * unlinked and freed before the datagram is delivered (catalogue 39). */
#include "core/core.h"
#include "util/assert.h"

#include <glass/err.h>

#include <string.h>

struct glass_frag {
    struct glass_frag *next; /* sorted by off, disjoint */
    uint16_t off, len;       /* payload bytes [off, off + len) of the datagram */
    uint8_t data[];
};

struct glass_ipfrag_q {
    struct glass_ipfrag_q *next; /* arrival (and deadline) order */
    uint32_t src, dst;
    uint16_t id;
    uint8_t proto;
    uint8_t hdr_len;             /* of the offset-0 fragment, 0 until it arrives */
    glass_time_t deadline;
    uint32_t end;                /* payload length, known once the last fragment came (has_end) */
    uint32_t have;               /* payload bytes held */
    uint32_t mem;                /* bytes charged to the global cap */
    uint16_t nfrags;
    bool has_end;
    uint8_t hdr[60];             /* IPv4 header of the offset-0 fragment, options included */
    struct glass_frag *frags;
};

static size_t frag_cost(size_t len)
{
    return sizeof(struct glass_frag) + len;
}

static void q_free(struct glass_stack *st, struct glass_ipfrag_q *q)
{
    struct glass_frag *f = q->frags;
    while (f != NULL) {
        struct glass_frag *next = f->next;
        glass_free(st, f, frag_cost(f->len));
        f = next;
    }
    GLASS_ASSERT(st->ipx.reass_mem >= q->mem && st->ipx.reass_count > 0);
    st->ipx.reass_mem -= q->mem;
    st->ipx.reass_count--;
    glass_free(st, q, sizeof *q);
}

/* Take q off the list (it must be on it). */
static void q_unlink(struct glass_stack *st, struct glass_ipfrag_q *q)
{
    struct glass_ipfrag_q **pp = &st->ipx.reass_head;
    struct glass_ipfrag_q *prev = NULL;
    while (*pp != NULL && *pp != q) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    GLASS_ASSERT(*pp == q);
    if (*pp == NULL)
        return;
    *pp = q->next;
    if (st->ipx.reass_tail == q)
        st->ipx.reass_tail = prev;
    q->next = NULL;
}

/* Give up on a datagram (its fragments are freed; counted as a reassembly failure). */
static void q_fail(struct glass_stack *st, struct glass_ipfrag_q *q)
{
    q_unlink(st, q);
    st->ipx.mib[GLASS_IPX_IpReasmFails]++;
    q_free(st, q);
}

static struct glass_ipfrag_q *q_find(struct glass_stack *st, const struct glass_ipv4_repr *ip)
{
    /* At most GLASS_REASS_MAX_DGRAMS queues: the walk is bounded. */
    for (struct glass_ipfrag_q *q = st->ipx.reass_head; q != NULL; q = q->next)
        if (q->id == ip->id && q->src == ip->src && q->dst == ip->dst && q->proto == ip->proto)
            return q;
    return NULL;
}

/* Make room for `need` more bytes (and, if new_q, one more queue) by evicting the oldest
 * queues other than `keep`. Returns false if even that is not enough. */
static bool make_room(struct glass_stack *st, size_t need, bool new_q,
                      const struct glass_ipfrag_q *keep)
{
    for (;;) {
        bool count_ok = !new_q || st->ipx.reass_count < GLASS_REASS_MAX_DGRAMS;
        bool mem_ok = st->ipx.reass_mem + need <= GLASS_REASS_MEM_MAX;
        if (count_ok && mem_ok)
            return true;
        struct glass_ipfrag_q *victim = st->ipx.reass_head;
        if (victim == keep && victim != NULL)
            victim = victim->next;
        if (victim == NULL)
            return false;
        q_fail(st, victim);
    }
}

/* Drop the fragment, and the datagram it belongs to if there is one. */
static int frag_kill(struct glass_stack *st, struct glass_ipfrag_q *q)
{
    if (q != NULL)
        q_fail(st, q);
    else
        st->ipx.mib[GLASS_IPX_IpReasmFails]++;
    return glass_drop(st, GLASS_DROP_IP_FRAG);
}

/* The datagram is whole: copy it out into *whole (freed by the caller once delivered, with
 * the datagram's total length), describe it in *ip, free the queue. */
static int q_complete(struct glass_stack *st, struct glass_ipfrag_q *q,
                      struct glass_ipv4_repr *ip, uint8_t **whole)
{
    size_t hl = q->hdr_len;
    size_t total = hl + q->end;
    GLASS_ASSERT(total <= GLASS_IP_MAX_DGRAM);
    uint8_t *buf = glass_alloc(st, total);
    if (buf == NULL) {
        q_fail(st, q);
        return glass_drop(st, GLASS_DROP_NOMEM);
    }
    memcpy(buf, q->hdr, hl);
    uint32_t expect = 0;
    for (const struct glass_frag *f = q->frags; f != NULL; f = f->next) {
        GLASS_ASSERT(f->off == expect); /* disjoint, sorted, and have == end: contiguous */
        memcpy(buf + hl + f->off, f->data, f->len);
        expect = (uint32_t)f->off + f->len;
    }
    GLASS_ASSERT(expect == q->end);
    /* The header as if the datagram had never been fragmented (what an ICMP error about it
     * would quote): total length, no MF, offset 0, fresh checksum. */
    glass_put16(buf + 2, (uint16_t)total);
    glass_put16(buf + 6, (uint16_t)(glass_get16(buf + 6) & ~(GLASS_IPV4_MF | GLASS_IPV4_OFFMASK)));
    glass_put16(buf + 10, 0);
    glass_put16(buf + 10, glass_cksum_finish(glass_cksum_add(0, buf, hl)));
    *ip = (struct glass_ipv4_repr){
        .src = q->src, .dst = q->dst, .proto = q->proto, .ttl = buf[8], .tos = buf[1],
        .id = q->id, .frag = glass_get16(buf + 6), .hdr_len = (uint16_t)hl,
        .total_len = (uint16_t)total, .payload = buf + hl, .payload_len = q->end,
    };
    /* Catalogue 39: no state survives delivery. */
    q_unlink(st, q);
    q_free(st, q);
    st->ipx.mib[GLASS_IPX_IpReasmOKs]++;
    *whole = buf;
    return GLASS_DROP_NONE;
}

int glass_ipfrag_input(struct glass_stack *st, struct glass_ipv4_repr *ip, uint8_t **whole)
{
    st->ipx.mib[GLASS_IPX_IpReasmReqds]++;
    uint32_t off = (uint32_t)(ip->frag & GLASS_IPV4_OFFMASK) * 8u;
    uint32_t len = (uint32_t)ip->payload_len;
    bool mf = (ip->frag & GLASS_IPV4_MF) != 0;
    struct glass_ipfrag_q *q = q_find(st, ip);

    /* Checks on the fragment alone. */
    if (len == 0)
        return frag_kill(st, NULL); /* catalogue 34: an empty fragment */
    if (mf && len % 8u != 0)
        return frag_kill(st, NULL); /* catalogue 33: only the last may end off a boundary */
    uint32_t end = off + len; /* off <= 65528, len <= 65515: no overflow in 32 bits */
    if (end + GLASS_IPV4_HDR_MIN > GLASS_IP_MAX_DGRAM)
        return frag_kill(st, q); /* catalogue 27-29: the datagram would exceed 65535 bytes */
    if (ip->proto == GLASS_IPV4_PROTO_TCP &&
        (off == 8u || (off == 0 && mf && len < GLASS_TCP_HDR_MIN)))
        return frag_kill(st, q); /* RFC 1858 / RFC 3128: overlapping or tiny TCP header */

    /* Checks against the datagram so far: where the fragment goes, and whether it agrees. */
    struct glass_frag *prev = NULL;
    struct glass_frag **pp = NULL;
    if (q != NULL) {
        if (!mf && q->has_end && q->end != end)
            return frag_kill(st, q); /* catalogue 35: two different last fragments */
        if (mf && q->has_end && end >= q->end)
            return frag_kill(st, q); /* a middle fragment at or past the end */
        uint32_t hl = off == 0 ? ip->hdr_len : q->hdr_len;
        bool has_end = q->has_end || !mf;
        uint32_t dend = mf ? q->end : end;
        if (hl != 0 && has_end && hl + dend > GLASS_IP_MAX_DGRAM)
            return frag_kill(st, q); /* header + data would exceed 65535 bytes */
        pp = &q->frags;
        while (*pp != NULL && (*pp)->off < off) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        const struct glass_frag *next = *pp;
        if (next != NULL && next->off == off && next->len == len) {
            /* catalogue 31: an exact duplicate is ignored, the datagram carries on */
            st->ipx.mib[GLASS_IPX_IpReasmDups]++;
            return glass_drop(st, GLASS_DROP_IP_FRAG);
        }
        if ((prev != NULL && (uint32_t)prev->off + prev->len > off) ||
            (next != NULL && next->off < end))
            return frag_kill(st, q); /* catalogue 30: overlap (teardrop, subset, partial) */
        if (!mf) {
            /* the last fragment: nothing held may lie beyond it */
            const struct glass_frag *last = next != NULL ? next : prev;
            while (last != NULL && last->next != NULL)
                last = last->next;
            if (last != NULL && (uint32_t)last->off + last->len > end)
                return frag_kill(st, q);
        }
        if (q->nfrags >= GLASS_REASS_MAX_FRAGS)
            return frag_kill(st, q);
    }

    /* Room: evict the oldest other datagrams if needed (catalogue 40). */
    size_t cost = frag_cost(len) + (q == NULL ? sizeof *q : 0);
    if (!make_room(st, cost, q == NULL, q))
        return frag_kill(st, q);
    bool fresh = q == NULL;
    if (fresh) {
        q = glass_zalloc(st, sizeof *q);
        if (q == NULL)
            return glass_drop(st, GLASS_DROP_NOMEM);
        q->src = ip->src;
        q->dst = ip->dst;
        q->id = ip->id;
        q->proto = ip->proto;
        q->deadline = st->now + GLASS_REASS_TIMEOUT;
        q->mem = (uint32_t)sizeof *q;
        st->ipx.reass_mem += q->mem;
        st->ipx.reass_count++;
        if (st->ipx.reass_tail != NULL)
            st->ipx.reass_tail->next = q;
        else
            st->ipx.reass_head = q;
        st->ipx.reass_tail = q;
        pp = &q->frags;
    }
    struct glass_frag *f = glass_alloc(st, frag_cost(len));
    if (f == NULL) {
        if (fresh)
            q_fail(st, q);
        return glass_drop(st, GLASS_DROP_NOMEM);
    }
    f->off = (uint16_t)off;
    f->len = (uint16_t)len;
    memcpy(f->data, ip->payload, len);
    f->next = *pp;
    *pp = f;
    q->nfrags++;
    q->have += len;
    q->mem += (uint32_t)frag_cost(len);
    st->ipx.reass_mem += (uint32_t)frag_cost(len);
    if (!mf) {
        q->has_end = true;
        q->end = end;
    }
    if (off == 0) {
        /* The header of the first fragment is the datagram's (RFC 791: options that are not
         * copied into later fragments live only here). */
        q->hdr_len = (uint8_t)ip->hdr_len;
        memcpy(q->hdr, ip->payload - ip->hdr_len, ip->hdr_len);
    }
    if (q->has_end && q->hdr_len != 0 && q->have == q->end)
        return q_complete(st, q, ip, whole);
    return GLASS_DROP_NONE;
}

/* RFC 1122 §3.3.2: on timeout, send Time Exceeded (code 1) if fragment zero arrived,
 * quoting its header and first bytes. */
static void q_timeout(struct glass_stack *st, struct glass_ipfrag_q *q)
{
    st->ipx.mib[GLASS_IPX_IpReasmTimeout]++;
    if (q->hdr_len != 0 && q->frags != NULL && q->frags->off == 0) {
        uint8_t quote[60 + 8];
        size_t n = q->frags->len < 8u ? q->frags->len : 8u;
        memcpy(quote, q->hdr, q->hdr_len);
        memcpy(quote + q->hdr_len, q->frags->data, n);
        struct glass_ipv4_repr ip = {
            .src = q->src, .dst = q->dst, .proto = q->proto, .id = q->id,
            .frag = glass_get16(q->hdr + 6), .hdr_len = q->hdr_len,
            .total_len = (uint16_t)(q->hdr_len + n), .payload = quote + q->hdr_len,
            .payload_len = n,
        };
        glass_icmp_send_error(st, &ip, GLASS_ICMP_TIMXCEED, GLASS_ICMP_TIMXCEED_REASS, 0);
    }
}

void glass_ipfrag_expire(struct glass_stack *st, glass_time_t now)
{
    while (st->ipx.reass_head != NULL && st->ipx.reass_head->deadline <= now) {
        struct glass_ipfrag_q *q = st->ipx.reass_head;
        q_timeout(st, q);
        q_fail(st, q);
    }
}

glass_time_t glass_ipfrag_next_deadline(const struct glass_stack *st)
{
    return st->ipx.reass_head != NULL ? st->ipx.reass_head->deadline : GLASS_TIME_NEVER;
}

void glass_ipfrag_free_all(struct glass_stack *st)
{
    while (st->ipx.reass_head != NULL) {
        struct glass_ipfrag_q *q = st->ipx.reass_head;
        q_unlink(st, q);
        q_free(st, q);
    }
}
