/* glasstcp — IPv4 header parse and emit (RFC 791 §3.1). */
#include "wire/wire_priv.h"

/* Checks run in this order, each before any field it guards is trusted (robustness §6.1):
 * enough bytes for the fixed header, version, IHL, IHL against the bytes received, total
 * length against IHL and against the bytes received, then the header checksum. `out` is only
 * written when the header is accepted. */
int glass_ipv4_parse(const uint8_t *buf, size_t len, bool verify, struct glass_ipv4_repr *out)
{
    if (len < GLASS_IPV4_HDR_MIN)
        return GLASS_DROP_PKT_TOO_SMALL;

    /* RFC 1122 §3.2.1.1: silently discard a datagram whose version is not 4. */
    unsigned version = (unsigned)buf[0] >> 4;
    if (version != 4)
        return GLASS_DROP_IP_INHDR;

    /* RFC 791 §3.1: IHL is in 32-bit words, minimum 5. */
    size_t hdr_len = ((size_t)buf[0] & 0x0fu) * 4u;
    if (hdr_len < GLASS_IPV4_HDR_MIN)
        return GLASS_DROP_IP_INHDR;
    if (hdr_len > len)
        return GLASS_DROP_PKT_TOO_SMALL;

    /* Total length covers header and data; only compare it, never size anything by it. */
    size_t total_len = glass_get16(buf + 2);
    if (total_len < hdr_len)
        return GLASS_DROP_IP_INHDR;
    if (total_len > len)
        return GLASS_DROP_PKT_TOO_SMALL;

    /* RFC 791 §3.1 / RFC 1122 §3.2.1.2: the checksum covers the header only (with options). A
     * correct header sums to all ones, i.e. finishes to 0. */
    if (verify && glass_cksum_hdr(buf, hdr_len) != 0)
        return GLASS_DROP_IP_CSUM;

    out->tos = buf[1];
    out->total_len = (uint16_t)total_len;
    out->id = glass_get16(buf + 4);
    out->frag = glass_get16(buf + 6);
    out->ttl = buf[8];
    out->proto = buf[9];
    out->src = glass_get32(buf + 12);
    out->dst = glass_get32(buf + 16);
    out->hdr_len = (uint16_t)hdr_len;
    out->payload = buf + hdr_len;
    /* Bytes past total_len (link padding, junk) are not part of the datagram (catalogue 11). */
    out->payload_len = total_len - hdr_len;
    return GLASS_DROP_NONE;
}

size_t glass_ipv4_emit(uint8_t *buf, size_t cap, const struct glass_ipv4_repr *r,
                       size_t payload_len)
{
    if (cap < GLASS_IPV4_HDR_MIN || payload_len > 0xffffu - GLASS_IPV4_HDR_MIN)
        return 0;

    buf[0] = 0x45; /* version 4, IHL 5: we never send options */
    buf[1] = r->tos;
    glass_put16(buf + 2, (uint16_t)(GLASS_IPV4_HDR_MIN + payload_len));
    glass_put16(buf + 4, r->id);
    glass_put16(buf + 6, r->frag);
    buf[8] = r->ttl;
    buf[9] = r->proto;
    glass_put32(buf + 12, r->src);
    glass_put32(buf + 16, r->dst);
    /* RFC 1071: the one's complement sum of the header's 16-bit words, taken from the values
     * rather than read back from buf (reading the bytes just stored stalls the store buffer). */
    uint32_t sum = (0x4500u | r->tos) + (uint32_t)(GLASS_IPV4_HDR_MIN + payload_len) + r->id +
                   r->frag + ((uint32_t)r->ttl << 8 | r->proto) + (r->src >> 16) +
                   (r->src & 0xffffu) + (r->dst >> 16) + (r->dst & 0xffffu);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    glass_put16(buf + 10, (uint16_t)~sum);
    return GLASS_IPV4_HDR_MIN;
}

void glass_ipv4_emit_tcp(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t id,
                         size_t payload_len)
{
    /* Whole 32-bit words: version 4, IHL 5, TOS 0, total length; identification, DF; TTL 64,
     * protocol, checksum; source; destination. */
    uint32_t total = GLASS_IPV4_HDR_MIN + (uint32_t)payload_len;
    uint32_t w0 = 0x45000000u | total;
    uint32_t w1 = (uint32_t)id << 16 | GLASS_IPV4_DF;
    uint32_t w2 = (64u << 24) | (GLASS_IPV4_PROTO_TCP << 16);
    /* RFC 1071, from the values (glass_ipv4_emit). */
    uint32_t sum = (w0 >> 16) + (w0 & 0xffffu) + id + GLASS_IPV4_DF + (w2 >> 16) + (src >> 16) +
                   (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    glass_put32(buf, w0);
    glass_put32(buf + 4, w1);
    glass_put32(buf + 8, w2 | (uint16_t)~sum);
    glass_put32(buf + 12, src);
    glass_put32(buf + 16, dst);
}
