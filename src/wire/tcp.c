/* glasstcp — TCP header and options parse and emit (RFC 9293 §3.1-3.2, RFC 7323, RFC 2018). */
#include <glass/wire.h>

#include "wire/wire_priv.h"

#include <string.h>

#include <glass/trace.h>

/* Required lengths of the options we understand (RFC 9293 §3.2, RFC 7323 §2.2 and §3.2,
 * RFC 2018 §2 and §3). */
#define MSS_LEN 4u
#define WSCALE_LEN 3u
#define SACK_PERM_LEN 2u
#define TS_LEN 10u
#define SACK_BASE_LEN 2u
#define SACK_BLOCK_LEN 8u

/* Bits of the "already seen" mask: the first well-formed instance of each option wins. */
enum {
    SEEN_MSS = 1u << 0,
    SEEN_WSCALE = 1u << 1,
    SEEN_SACK_PERM = 1u << 2,
    SEEN_TS = 1u << 3,
    SEEN_SACK = 1u << 4,
};

/* Interpret one option whose kind and length (2 <= olen, fully inside the header) have been
 * checked by the walker. Known kinds with the wrong length are ignored (catalogue 69, 76, 77);
 * unknown kinds are ignored (RFC 9293 §3.2 MUST-6). */
static void parse_one_option(const uint8_t *o, unsigned olen, unsigned *seen,
                             struct glass_tcp_repr *out)
{
    switch (o[0]) {
    case GLASS_TCPOPT_MSS:
        if (olen == MSS_LEN && !(*seen & SEEN_MSS)) {
            *seen |= SEEN_MSS;
            out->mss = glass_get16(o + 2);
        }
        break;
    case GLASS_TCPOPT_WSCALE:
        /* RFC 7323 §2.3: a shift above 14 is the core's to clamp (and log); report it as sent. */
        if (olen == WSCALE_LEN && !(*seen & SEEN_WSCALE)) {
            *seen |= SEEN_WSCALE;
            out->wscale = (int16_t)o[2];
        }
        break;
    case GLASS_TCPOPT_SACK_PERM:
        if (olen == SACK_PERM_LEN && !(*seen & SEEN_SACK_PERM)) {
            *seen |= SEEN_SACK_PERM;
            out->sack_perm = true;
        }
        break;
    case GLASS_TCPOPT_TS:
        if (olen == TS_LEN && !(*seen & SEEN_TS)) {
            *seen |= SEEN_TS;
            out->has_ts = true;
            out->ts_val = glass_get32(o + 2);
            out->ts_ecr = glass_get32(o + 6);
        }
        break;
    case GLASS_TCPOPT_SACK: {
        /* RFC 2018 §3: length 2 + 8n with at least one block. A 40-byte option space holds at
         * most 4 blocks; more are cut off rather than trusted. */
        if (olen < SACK_BASE_LEN + SACK_BLOCK_LEN || (olen - SACK_BASE_LEN) % SACK_BLOCK_LEN != 0 ||
            (*seen & SEEN_SACK))
            break;
        *seen |= SEEN_SACK;
        unsigned n = (olen - SACK_BASE_LEN) / SACK_BLOCK_LEN;
        if (n > GLASS_TCP_MAX_SACK)
            n = GLASS_TCP_MAX_SACK;
        for (unsigned i = 0; i < n; i++) {
            const uint8_t *blk = o + SACK_BASE_LEN + i * SACK_BLOCK_LEN;
            out->sack[i].left = glass_get32(blk);
            out->sack[i].right = glass_get32(blk + 4);
        }
        out->nsack = (uint8_t)n;
        break;
    }
    default:
        break;
    }
}

/* RFC 9293 §3.2 and robustness §6.3: EOL ends the list, NOP is one byte, every other option is
 * kind, length, data with 2 <= length <= the bytes left. Each step advances at least one byte,
 * so the walk ends within (hdr_len - 20) steps. A bad length stops the walk (MUST-7: the
 * segment is kept; what was parsed before the bad option stands). */
static __attribute__((noinline)) void walk_options(const uint8_t *opt, size_t optlen,
                                                   struct glass_tcp_repr *out)
{
    unsigned seen = 0;
    size_t i = 0;
    while (i < optlen) {
        uint8_t kind = opt[i];
        if (kind == GLASS_TCPOPT_EOL)
            break;
        if (kind == GLASS_TCPOPT_NOP) {
            i++;
            continue;
        }
        size_t remaining = optlen - i;
        if (remaining < 2) { /* kind in the last byte: no length byte to read (catalogue 68) */
            out->opt_malformed = true;
            break;
        }
        size_t olen = opt[i + 1];
        if (olen < 2 || olen > remaining) { /* catalogue 65, 66, 67 */
            out->opt_malformed = true;
            break;
        }
        parse_one_option(opt + i, (unsigned)olen, &seen, out);
        i += olen;
    }
}

/* The layout of a SYN or SYN,ACK from Linux or glasstcp with every option on
 * (tcp_options_write(): MSS; sackOK, TS; NOP, WS): 20 bytes, each option once and with its
 * required length. */
static bool syn_layout(const uint8_t *opt, size_t optlen)
{
    return optlen == 20u && opt[0] == GLASS_TCPOPT_MSS && opt[1] == MSS_LEN &&
           glass_get32(opt + 4) == ((uint32_t)GLASS_TCPOPT_SACK_PERM << 24 |
                                    (uint32_t)SACK_PERM_LEN << 16 |
                                    (uint32_t)GLASS_TCPOPT_TS << 8 | TS_LEN) &&
           opt[16] == GLASS_TCPOPT_NOP && opt[17] == GLASS_TCPOPT_WSCALE &&
           opt[18] == WSCALE_LEN;
}

/* The layout of nearly every segment after the handshake (RFC 7323 Appendix A's NOP,NOP,TS)
 * is read at once, and so is the full SYN layout; walk_options gives the same result for
 * both. The walk is out of line: the registers it needs made every segment's parse save and
 * restore three more of them. */
static void parse_options(const uint8_t *opt, size_t optlen, struct glass_tcp_repr *out)
{
    if (optlen == 12u && glass_get32(opt) == ((uint32_t)GLASS_TCPOPT_NOP << 24 |
                                              (uint32_t)GLASS_TCPOPT_NOP << 16 |
                                              (uint32_t)GLASS_TCPOPT_TS << 8 | TS_LEN)) {
        out->has_ts = true;
        out->ts_val = glass_get32(opt + 4);
        out->ts_ecr = glass_get32(opt + 8);
        return;
    }
    if (syn_layout(opt, optlen)) {
        out->mss = glass_get16(opt + 2);
        out->sack_perm = true;
        out->has_ts = true;
        out->ts_val = glass_get32(opt + 8);
        out->ts_ecr = glass_get32(opt + 12);
        out->wscale = (int16_t)opt[19];
        return;
    }
    walk_options(opt, optlen, out);
}

int glass_tcp_parse(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst, bool verify,
                    struct glass_tcp_repr *out)
{
    if (len < GLASS_TCP_HDR_MIN)
        return GLASS_DROP_PKT_TOO_SMALL;

    /* RFC 9293 §3.1: Data Offset counts 32-bit words, so at least 5. */
    size_t hdr_len = ((size_t)seg[12] >> 4) * 4u;
    if (hdr_len < GLASS_TCP_HDR_MIN)
        return GLASS_DROP_TCP_HDR;
    if (hdr_len > len)
        return GLASS_DROP_PKT_TOO_SMALL;

    /* RFC 9293 §3.1 (MUST-2, MUST-3): checksum over the pseudo-header, header and data. */
    if (verify) {
        if (len > UINT32_MAX) /* cannot be summed with a 32-bit pseudo-header length */
            return GLASS_DROP_TCP_CSUM;
        uint32_t sum = glass_cksum_pseudo(src, dst, GLASS_IPV4_PROTO_TCP, (uint32_t)len);
        if (glass_cksum_finish(glass_cksum_add(sum, seg, len)) != 0)
            return GLASS_DROP_TCP_CSUM;
    }

    /* Flag combinations that no state can accept (smoltcp TcpRepr::parse, robustness §2.H). */
    uint8_t flags = seg[13];
    if ((flags & GLASS_TH_SYN) && (flags & (GLASS_TH_FIN | GLASS_TH_RST)))
        return GLASS_DROP_TCP_FLAGS;

    uint16_t src_port = glass_get16(seg);
    uint16_t dst_port = glass_get16(seg + 2);
    if (src_port == 0 || dst_port == 0)
        return GLASS_DROP_TCP_PORT0;

    /* Every field written once, rather than a memset of the whole repr and then the fields:
     * GCC made that memset a `rep stos` of 12 words, slow to start, on every segment. */
    out->src_port = src_port;
    out->dst_port = dst_port;
    out->seq = glass_get32(seg + 4);
    out->ack = glass_get32(seg + 8);
    out->flags = flags;
    out->win = glass_get16(seg + 14);
    out->urg = glass_get16(seg + 18);
    out->hdr_len = (uint8_t)hdr_len;
    out->mss = 0;
    out->wscale = -1;
    out->sack_perm = false;
    out->has_ts = false;
    out->ts_val = 0;
    out->ts_ecr = 0;
    out->nsack = 0;
    memset(out->sack, 0, sizeof out->sack);
    out->opt_malformed = false;
    out->csum_partial = false;
    out->payload_ref = false;
    out->payload = seg + hdr_len;
    out->payload_len = len - hdr_len;
    parse_options(seg + GLASS_TCP_HDR_MIN, hdr_len - GLASS_TCP_HDR_MIN, out);
    return GLASS_DROP_NONE;
}

/* Option bytes for r, and how many SACK blocks fit next to the other options. */
static size_t options_len(const struct glass_tcp_repr *r, unsigned *nsack_out)
{
    size_t n = 0;

    if (r->mss != 0)
        n += MSS_LEN;
    if (r->has_ts)
        n += 2 + TS_LEN; /* sackOK + TS, or NOP NOP TS */
    else if (r->sack_perm)
        n += 2 + SACK_PERM_LEN; /* NOP NOP sackOK */
    if (r->wscale >= 0)
        n += 1 + WSCALE_LEN; /* NOP WS */

    /* NOP NOP SACK: as many blocks as fit in the 40 option bytes (RFC 2018 §3). */
    unsigned nsack = r->nsack > GLASS_TCP_MAX_SACK ? GLASS_TCP_MAX_SACK : r->nsack;
    size_t room = GLASS_TCP_HDR_MAX - GLASS_TCP_HDR_MIN - n;
    if (nsack > 0 && room >= 2 + SACK_BASE_LEN + SACK_BLOCK_LEN) {
        size_t fit = (room - 2 - SACK_BASE_LEN) / SACK_BLOCK_LEN;
        if (nsack > fit)
            nsack = (unsigned)fit;
    } else {
        nsack = 0;
    }
    if (nsack > 0)
        n += 2 + SACK_BASE_LEN + nsack * SACK_BLOCK_LEN;

    *nsack_out = nsack;
    return n; /* every piece above is a multiple of 4: no padding needed */
}

size_t glass_tcp_layout(const struct glass_tcp_repr *r, unsigned *nsack)
{
    return GLASS_TCP_HDR_MIN + options_len(r, nsack);
}

size_t glass_tcp_hdr_len(const struct glass_tcp_repr *r)
{
    unsigned nsack;
    return glass_tcp_layout(r, &nsack);
}

/* Options in Linux's order (tcp_options_write()): MSS; sackOK+TS, NOP NOP TS or NOP NOP sackOK;
 * NOP WS; NOP NOP SACK. NOPs keep the 4-byte fields 4-byte aligned (RFC 7323 Appendix A). */
static void write_options(uint8_t *p, const struct glass_tcp_repr *r, unsigned nsack)
{
    if (r->mss != 0) {
        p[0] = GLASS_TCPOPT_MSS;
        p[1] = MSS_LEN;
        glass_put16(p + 2, r->mss);
        p += MSS_LEN;
    }
    if (r->has_ts) {
        if (r->sack_perm) {
            p[0] = GLASS_TCPOPT_SACK_PERM;
            p[1] = SACK_PERM_LEN;
        } else {
            p[0] = GLASS_TCPOPT_NOP;
            p[1] = GLASS_TCPOPT_NOP;
        }
        p[2] = GLASS_TCPOPT_TS;
        p[3] = TS_LEN;
        glass_put32(p + 4, r->ts_val);
        glass_put32(p + 8, r->ts_ecr);
        p += 2 + TS_LEN;
    } else if (r->sack_perm) {
        p[0] = GLASS_TCPOPT_NOP;
        p[1] = GLASS_TCPOPT_NOP;
        p[2] = GLASS_TCPOPT_SACK_PERM;
        p[3] = SACK_PERM_LEN;
        p += 2 + SACK_PERM_LEN;
    }
    if (r->wscale >= 0) {
        p[0] = GLASS_TCPOPT_NOP;
        p[1] = GLASS_TCPOPT_WSCALE;
        p[2] = WSCALE_LEN;
        p[3] = (uint8_t)(r->wscale & 0xff);
        p += 1 + WSCALE_LEN;
    }
    if (nsack > 0) {
        p[0] = GLASS_TCPOPT_NOP;
        p[1] = GLASS_TCPOPT_NOP;
        p[2] = GLASS_TCPOPT_SACK;
        p[3] = (uint8_t)(SACK_BASE_LEN + nsack * SACK_BLOCK_LEN);
        p += 4;
        for (unsigned i = 0; i < nsack; i++) {
            glass_put32(p, r->sack[i].left);
            glass_put32(p + 4, r->sack[i].right);
            p += SACK_BLOCK_LEN;
        }
    }
}

size_t glass_tcp_emit(uint8_t *buf, size_t cap, const struct glass_tcp_repr *r, uint32_t src,
                      uint32_t dst)
{
    unsigned nsack;
    size_t hdr_len = glass_tcp_layout(r, &nsack);
    return glass_tcp_emit_laid(buf, cap, r, src, dst, hdr_len, nsack);
}

size_t glass_tcp_emit_laid(uint8_t *buf, size_t cap, const struct glass_tcp_repr *r, uint32_t src,
                           uint32_t dst, size_t hdr_len, unsigned nsack)
{
    /* The segment must fit in cap and, with a 20-byte IPv4 header, in a 65535-byte datagram. */
    if (r->payload_len > 0xffffu - GLASS_IPV4_HDR_MIN - hdr_len)
        return 0;
    size_t total = hdr_len + r->payload_len;
    bool ref = r->payload_ref && r->payload != NULL;
    if ((ref ? hdr_len : total) > cap)
        return 0;

    /* Payload first: a source that overlaps the header area is read before it is overwritten. */
    if (!ref && r->payload != NULL && r->payload_len > 0)
        memmove(buf + hdr_len, r->payload, r->payload_len);

    glass_put16(buf, r->src_port);
    glass_put16(buf + 2, r->dst_port);
    glass_put32(buf + 4, r->seq);
    glass_put32(buf + 8, r->ack);
    buf[12] = (uint8_t)((hdr_len / 4u) << 4); /* data offset; reserved bits zero */
    buf[13] = r->flags;
    glass_put16(buf + 14, r->win);
    glass_put16(buf + 16, 0);
    glass_put16(buf + 18, r->urg);
    write_options(buf + GLASS_TCP_HDR_MIN, r, nsack);

    /* RFC 9293 §3.1: checksum over pseudo-header, header and data, with the field zeroed.
     * With checksum offload the field gets the pseudo-header sum: summing the segment as it is
     * then gives the whole sum (glass_tcp_csum_fill, the device's part). */
    uint32_t sum = glass_cksum_pseudo(src, dst, GLASS_IPV4_PROTO_TCP, (uint32_t)total);
    if (r->csum_partial) {
        glass_put16(buf + 16, (uint16_t)~glass_cksum_finish(sum));
    } else if (ref) {
        /* The header is a multiple of 4 bytes long: summing it and then the payload is
         * summing the segment. */
        sum = glass_cksum_add(sum, buf, hdr_len);
        glass_put16(buf + 16, glass_cksum_finish(glass_cksum_add(sum, r->payload, r->payload_len)));
    } else {
        glass_put16(buf + 16, glass_cksum_finish(glass_cksum_add(sum, buf, total)));
    }
    return total;
}

size_t glass_ipv4_tcp_off(const uint8_t *pkt, size_t len)
{
    if (len < GLASS_IPV4_HDR_MIN || (pkt[0] >> 4) != 4 || pkt[9] != GLASS_IPV4_PROTO_TCP)
        return 0;
    size_t ihl = (size_t)(pkt[0] & 0x0fu) * 4u;
    return ihl >= GLASS_IPV4_HDR_MIN && len >= ihl + GLASS_TCP_HDR_MIN ? ihl : 0;
}

bool glass_tcp_csum_fill(uint8_t *pkt, size_t len)
{
    size_t ihl = glass_ipv4_tcp_off(pkt, len);
    size_t total = ihl != 0 ? glass_get16(pkt + 2) : 0;
    if (ihl == 0 || total > len || total < ihl + GLASS_TCP_HDR_MIN)
        return false;
    uint8_t *seg = pkt + ihl;
    glass_put16(seg + 16, glass_cksum_finish(glass_cksum_add(0, seg, total - ihl)));
    return true;
}

/* The device's part of TSO, as a NIC (or Linux's software GSO, tcp_gso_segment) does it: every
 * piece gets a copy of the headers; what differs is written afresh. */
size_t glass_tso_piece(const uint8_t *pkt, size_t len, const uint8_t *payload, size_t payload_len,
                       size_t gso_size, size_t k, uint8_t *out, size_t cap)
{
    size_t ihl = glass_ipv4_tcp_off(pkt, len);
    if (ihl == 0 || gso_size == 0)
        return 0;
    size_t doff = (size_t)(pkt[ihl + 12u] >> 4) * 4u;
    size_t hl = ihl + doff;
    if (doff < GLASS_TCP_HDR_MIN || hl > len)
        return 0;
    if (payload == NULL) {
        payload = pkt + hl;
        payload_len = len - hl;
    }
    if (payload_len == 0 || k > (payload_len - 1u) / gso_size)
        return 0; /* past the last piece */
    size_t off = k * gso_size;
    size_t n = payload_len - off < gso_size ? payload_len - off : gso_size;
    size_t total = hl + n;
    if (total > cap || total > 0xffffu)
        return 0;
    memcpy(out, pkt, hl);
    memcpy(out + hl, payload + off, n);
    /* IPv4: this piece's total length and identification (each piece the next one), so the
     * header checksum anew (RFC 791 §3.1). */
    glass_put16(out + 2, (uint16_t)total);
    glass_put16(out + 4, (uint16_t)(glass_get16(pkt + 4) + k));
    glass_put16(out + 10, 0);
    glass_put16(out + 10, glass_cksum_hdr(out, ihl));
    /* TCP: the piece's sequence number; FIN and PSH belong to the last piece, CWR to the first
     * (RFC 3168 §6.1.2: set once, on the first new segment). */
    uint8_t *tcp = out + ihl;
    glass_put32(tcp + 4, glass_get32(pkt + ihl + 4u) + (uint32_t)off);
    bool last = off + n == payload_len;
    uint8_t fl = tcp[13];
    if (!last)
        fl = (uint8_t)(fl & ~(GLASS_TH_FIN | GLASS_TH_PSH));
    if (k > 0)
        fl = (uint8_t)(fl & ~GLASS_TH_CWR);
    tcp[13] = fl;
    uint32_t sum = glass_cksum_pseudo(glass_get32(out + 12), glass_get32(out + 16),
                                      GLASS_IPV4_PROTO_TCP, (uint32_t)(doff + n));
    glass_put16(tcp + 16, (uint16_t)~glass_cksum_finish(sum));
    return total;
}
