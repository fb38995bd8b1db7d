/* glasstcp — the IPv4 edge of the stack (RFC 791, RFC 1122 §3.2.1): header validation, options
 * walked but never acted on, source/destination screening, protocol dispatch, and the output
 * of datagrams the core builds itself (ICMP), fragmented to the interface MTU when needed.
 *
 * Input order (robustness/README.md §6.1, one validated view per layer): the wire parser checks
 * version, IHL, total length against the bytes the device delivered and the header checksum;
 * then the options, the source (martians), the destination (ours, unicast), the protocol, and
 * only then fragments go to ip_reass.c and whole datagrams to TCP or ICMP. */
#include "core/core.h"
#include "util/assert.h"

#include <glass/err.h>
#include <glass/wire.h>

#include <string.h>

/* ---- counters private to the IPv4/ICMP layer ------------------------------------------------ */

static const char *const ipx_names[GLASS_IPX_MIB_COUNT] = {
#define X(n, d) #n,
    GLASS_IPX_MIBS(X)
#undef X
};

const char *glass_ipx_mib_name(int m)
{
    return m >= 0 && m < GLASS_IPX_MIB_COUNT ? ipx_names[m] : NULL;
}

uint64_t glass_ipx_mib(const struct glass_stack *st, int m)
{
    return m >= 0 && m < GLASS_IPX_MIB_COUNT ? st->ipx.mib[m] : 0;
}

/* ---- addresses ------------------------------------------------------------------------------- */

/* RFC 1122 §3.2.1.3: sources that are never a single host: this-host and {0, host} ("this
 * network", only legal as a source during boot), loopback, class D (multicast) and E, and the
 * limited broadcast (which is in E). */
static bool martian_class(uint32_t src)
{
    uint32_t top = src >> 24;
    return top == 0u || top == 127u || top >= 224u;
}

/* RFC 1122 §3.2.1.3: a source that interface ifc makes martian: its own address coming back
 * in, or the directed broadcast of its subnet (the address compared first: it rarely
 * matches, and then the mask need not be looked at). */
static bool martian_on(const struct glass_iface *ifc, uint32_t src)
{
    return src == ifc->addr || (src == (ifc->addr | ~ifc->mask) && ifc->mask != 0 &&
                                ifc->mask != 0xffffffffu && ifc->mask != 0xfffffffeu);
}

/* RFC 1122 §3.2.1.3: a source that is not a single host on a network we can answer. */
bool glass_ip_martian_source(const struct glass_stack *st, uint32_t src)
{
    if (martian_class(src))
        return true;
    for (unsigned i = 0; i < st->n_ifaces; i++)
        if (martian_on(&st->ifaces[i], src))
            return true;
    return false;
}

/* ip_input's screening of both addresses in one walk of the interfaces: a martian source
 * (GLASS_DROP_IP_INHDR) before a destination that is none of our addresses
 * (GLASS_DROP_OTHERHOST), as glass_ip_martian_source and then glass_is_local_addr. */
static int screen_addrs(const struct glass_stack *st, uint32_t src, uint32_t dst)
{
    if (martian_class(src))
        return GLASS_DROP_IP_INHDR;
    bool local = false;
    for (unsigned i = 0; i < st->n_ifaces; i++) {
        if (martian_on(&st->ifaces[i], src))
            return GLASS_DROP_IP_INHDR;
        local = local || dst == st->ifaces[i].addr;
    }
    return local ? GLASS_DROP_NONE : GLASS_DROP_OTHERHOST;
}

/* ---- options (RFC 791 §3.1, RFC 1122 §3.2.1.8) --------------------------------------------- */

#define IPOPT_EOL 0u
#define IPOPT_NOP 1u
#define IPOPT_LSRR 0x83u
#define IPOPT_SSRR 0x89u

/* Walk the options in opt[0..len) with the TLV rules of robustness §6.3: every step advances at
 * least one byte; EOL ends the list (bytes after it are ignored, catalogue 25); NOP is one byte;
 * any other kind needs a length byte with 2 <= length <= remaining (catalogue 20-22). Options
 * are never acted on (a host need not record routes or timestamps), except that a source route
 * that still has hops to visit means the datagram is not for us: we do not forward
 * (catalogue 23). Returns true if the datagram may be accepted. */
static bool options_ok(const uint8_t *opt, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t kind = opt[i];
        if (kind == IPOPT_EOL)
            return true;
        if (kind == IPOPT_NOP) {
            i++;
            continue;
        }
        if (len - i < 2u)
            return false; /* a kind byte with no room for its length (catalogue 68's IPv4 twin) */
        size_t olen = opt[i + 1];
        if (olen < 2u || olen > len - i)
            return false; /* length 0 or 1 would loop or re-read; past the header (20-22) */
        if (kind == IPOPT_LSRR || kind == IPOPT_SSRR) {
            /* RFC 791: length 3 + 4n, pointer 4, 8, ... up to length + 1, which says the
             * route is complete and we are its final destination (RFC 1122 §3.2.1.8 c). A
             * route with hops left asks us to forward, which a host does not do; any other
             * pointer is malformed (URGENT/11's "83 03 27"). */
            if (olen < 3u || (olen - 3u) % 4u != 0 || opt[i + 2] != olen + 1u)
                return false;
        }
        i += olen;
    }
    return true;
}

/* ---- input ----------------------------------------------------------------------------------- */

static int hdr_error(struct glass_stack *st, enum glass_drop_reason r)
{
    glass_mib_inc(st, GLASS_MIB_IpInHdrErrors);
    return glass_drop(st, r);
}

/* Parse the TCP segment of ip, whose payload is body when there is one (the header then fills
 * ip's payload): the checksum covers the header and the body. */
static int tcp_parse_parts(const struct glass_ipv4_repr *ip, const uint8_t *body, size_t blen,
                           bool verify, struct glass_tcp_repr *seg)
{
    if (body == NULL)
        return glass_tcp_parse(ip->payload, ip->payload_len, ip->src, ip->dst, verify, seg);
    size_t thl = ip->payload_len - blen;
    int r = glass_tcp_parse(ip->payload, thl, ip->src, ip->dst, false, seg);
    if (r != GLASS_DROP_NONE)
        return r;
    if (verify) {
        /* The header is a multiple of 4 bytes: summing it, then the body, sums the segment. */
        uint32_t sum = glass_cksum_pseudo(ip->src, ip->dst, GLASS_IPV4_PROTO_TCP,
                                          (uint32_t)ip->payload_len);
        sum = glass_cksum_add(sum, ip->payload, thl);
        if (glass_cksum_finish(glass_cksum_add(sum, body, blen)) != 0)
            return GLASS_DROP_TCP_CSUM;
    }
    seg->payload = body;
    seg->payload_len = blen;
    return GLASS_DROP_NONE;
}

/* A datagram may come in two parts (glass_ip_input_sg): the IPv4 and TCP headers in pkt, the
 * TCP payload in body[0..blen). body is NULL when the datagram is in one piece. The two are
 * passed as plain arguments, not as a structure on the caller's stack, so that the public entry
 * hands the datagram on with a tail call and keeps no frame of its own.
 *
 * Validation and delivery (to TCP or ICMP) are one function, one frame per datagram: a
 * fragment that completes a datagram comes back from glass_ipfrag_input as that datagram
 * (whole, freed here once delivered), and takes the same delivery path. csum_ok: the device
 * verified the TCP checksum (never for a reassembled datagram). */
static int ip_input(struct glass_stack *st, const uint8_t *pkt, size_t len, bool csum_ok,
                    const uint8_t *body, size_t blen)
{
    glass_mib_inc(st, GLASS_MIB_IpInReceives);
    struct glass_ipv4_repr ip;
    /* With a body, the header checks see the whole datagram's length; they read only pkt. */
    int r = glass_ipv4_parse(pkt, len + blen, st->cfg.verify_checksums, &ip);
    if (r != GLASS_DROP_NONE)
        return hdr_error(st, (enum glass_drop_reason)r);
    if (ip.hdr_len > GLASS_IPV4_HDR_MIN &&
        !options_ok(pkt + GLASS_IPV4_HDR_MIN, (size_t)ip.hdr_len - GLASS_IPV4_HDR_MIN))
        return hdr_error(st, GLASS_DROP_IP_INHDR);
    /* RFC 1122 §3.2.1.7: TTL is not checked at the destination (catalogue 16). Martian
     * sources are dropped; then only our unicast addresses are taken: broadcast and multicast
     * destinations (TCP: RFC 9293 MUST-57; ICMP echo: catalogue 46) and other hosts'
     * datagrams (we do not route) are dropped. */
    r = screen_addrs(st, ip.src, ip.dst);
    if (r == GLASS_DROP_IP_INHDR)
        return hdr_error(st, GLASS_DROP_IP_INHDR);
    if (r != GLASS_DROP_NONE) {
        glass_mib_inc(st, GLASS_MIB_IpInAddrErrors);
        return glass_drop(st, GLASS_DROP_OTHERHOST);
    }
    if (ip.proto != GLASS_IPV4_PROTO_TCP && ip.proto != GLASS_IPV4_PROTO_ICMP) {
        glass_mib_inc(st, GLASS_MIB_IpInUnknownProtos);
        /* RFC 1122 §3.2.2.1: Protocol Unreachable, never for a non-initial fragment
         * (§3.2.2); rate-limited in icmp.c. Nothing is reassembled for a protocol we do not
         * speak (catalogue 17). */
        if ((ip.frag & GLASS_IPV4_OFFMASK) == 0)
            glass_icmp_send_error(st, &ip, GLASS_ICMP_UNREACH, GLASS_ICMP_UNREACH_PROTO, 0);
        return glass_drop(st, GLASS_DROP_IP_NOPROTO);
    }
    uint8_t *whole = NULL;
    if ((ip.frag & (GLASS_IPV4_MF | GLASS_IPV4_OFFMASK)) != 0) {
        r = glass_ipfrag_input(st, &ip, &whole);
        if (whole == NULL)
            return r;
        csum_ok = false; /* ip is now the reassembled datagram, in whole */
        body = NULL;
        blen = 0;
    }
    /* A whole, validated datagram for us: to TCP or ICMP. */
    glass_mib_inc(st, GLASS_MIB_IpInDelivers);
    if (ip.proto == GLASS_IPV4_PROTO_ICMP) {
        r = glass_icmp_input(st, &ip);
    } else {
        GLASS_ASSERT(ip.proto == GLASS_IPV4_PROTO_TCP);
        glass_mib_inc(st, GLASS_MIB_TcpInSegs);
        struct glass_tcp_repr seg;
        r = tcp_parse_parts(&ip, body, blen, st->cfg.verify_checksums && !csum_ok, &seg);
        if (r != GLASS_DROP_NONE) {
            glass_mib_inc(st, GLASS_MIB_TcpInErrs);
            if (r == GLASS_DROP_TCP_CSUM)
                glass_mib_inc(st, GLASS_MIB_TcpInCsumErrors);
            r = glass_drop(st, (enum glass_drop_reason)r);
        } else {
            st->cur_seg = &seg;
            r = glass_tcp_input(st, &ip, &seg);
            st->cur_seg = NULL;
            glass_reap_now(st);
        }
    }
    if (whole != NULL)
        glass_free(st, whole, ip.total_len);
    return r;
}

int glass_ip_input(struct glass_stack *st, const uint8_t *pkt, size_t len, bool csum_ok)
{
    return ip_input(st, pkt, len, csum_ok, NULL, 0);
}

/* Is hdr[0..hlen) exactly the IPv4 and TCP headers of an unfragmented TCP datagram of
 * hlen + blen bytes, so that the rest may stay in a second part? */
static bool split_at_payload(const uint8_t *hdr, size_t hlen, size_t blen)
{
    size_t ihl = glass_ipv4_tcp_off(hdr, hlen); /* IPv4, TCP, and room for a TCP header */
    if (ihl == 0)
        return false;
    size_t thl = ((size_t)hdr[ihl + 12u] >> 4) * 4u;
    return thl >= GLASS_TCP_HDR_MIN && ihl + thl == hlen && glass_get16(hdr + 2) == hlen + blen &&
           (glass_get16(hdr + 6) & (GLASS_IPV4_MF | GLASS_IPV4_OFFMASK)) == 0;
}

/* Anything else is joined into one piece. Bytes past 65535 cannot be part of an IPv4 datagram
 * (its total length is 16 bits), so they are left out. Out of line: its copies would make
 * glass_ip_input_sg save registers and keep a frame for every datagram. */
static __attribute__((noinline)) int ip_input_joined(struct glass_stack *st, const uint8_t *hdr,
                                                     size_t hlen, const uint8_t *body,
                                                     size_t blen, bool csum_ok)
{
    if (st->join == NULL && (st->join = glass_alloc(st, GLASS_IP_MAX_DGRAM)) == NULL)
        return glass_drop(st, GLASS_DROP_NOMEM);
    size_t a = hlen < GLASS_IP_MAX_DGRAM ? hlen : GLASS_IP_MAX_DGRAM;
    size_t b = blen < GLASS_IP_MAX_DGRAM - a ? blen : GLASS_IP_MAX_DGRAM - a;
    if (a > 0)
        memcpy(st->join, hdr, a);
    if (b > 0)
        memcpy(st->join + a, body, b);
    return glass_ip_input(st, st->join, a + b, csum_ok);
}

int glass_ip_input_sg(struct glass_stack *st, const uint8_t *hdr, size_t hlen, const uint8_t *body,
                      size_t blen, bool csum_ok)
{
    if (blen == 0)
        return ip_input(st, hdr, hlen, csum_ok, NULL, 0);
    if (split_at_payload(hdr, hlen, blen))
        return ip_input(st, hdr, hlen, csum_ok, body, blen);
    return ip_input_joined(st, hdr, hlen, body, blen, csum_ok);
}

/* ---- output ---------------------------------------------------------------------------------- */

/* Copy n bytes starting at byte `off` of the two-part message (a[0..alen), b[0..blen)). */
static void copy_parts(uint8_t *dst, const uint8_t *a, size_t alen, const uint8_t *b, size_t off,
                       size_t n)
{
    if (off < alen) {
        size_t k = alen - off < n ? alen - off : n;
        memcpy(dst, a + off, k);
        dst += k;
        n -= k;
        off = alen;
    }
    if (n > 0)
        memcpy(dst, b + (off - alen), n);
}

bool glass_ip_output(struct glass_stack *st, uint32_t src, uint32_t dst, uint8_t proto,
                     uint8_t tos, const uint8_t *hdr, size_t hlen, const uint8_t *body,
                     size_t blen)
{
    size_t total = hlen + blen;
    if (total > GLASS_IP_MAX_DGRAM - GLASS_IPV4_HDR_MIN || (blen > 0 && body == NULL))
        return false;
    /* Fragments hold at most the interface MTU and a tx slot; every fragment but the last
     * carries a multiple of 8 bytes (RFC 791 §3.2 "fragmentation"). */
    size_t mtu = glass_route_mtu(st, src);
    if (mtu > GLASS_TX_SLOT)
        mtu = GLASS_TX_SLOT;
    size_t per = (mtu - GLASS_IPV4_HDR_MIN) & ~(size_t)7u;
    size_t nfrag = total <= mtu - GLASS_IPV4_HDR_MIN ? 1u : (total + per - 1u) / per;
    /* Allocate-then-commit: every fragment or none. */
    if (st->cfg.tx_ring - st->tx_len < nfrag) {
        glass_mib_inc(st, GLASS_MIB_IpOutDiscards);
        if (nfrag > 1u)
            st->ipx.mib[GLASS_IPX_IpFragFails]++;
        return false;
    }
    uint16_t id = st->ip_id++;
    size_t off = 0;
    for (size_t i = 0; i < nfrag; i++) {
        size_t n = nfrag == 1u ? total : (total - off < per ? total - off : per);
        struct glass_txpkt *p = &st->tx[(st->tx_head + st->tx_len) % st->cfg.tx_ring];
        uint16_t frag = (uint16_t)(off / 8u);
        if (i + 1u < nfrag)
            frag |= GLASS_IPV4_MF;
        struct glass_ipv4_repr ip = {
            .src = src, .dst = dst, .proto = proto, .ttl = 64, .tos = tos, .id = id,
            .frag = frag,
        };
        size_t il = glass_ipv4_emit(p->data, GLASS_TX_SLOT, &ip, n);
        GLASS_ASSERT(il == GLASS_IPV4_HDR_MIN && il + n <= GLASS_TX_SLOT);
        copy_parts(p->data + il, hdr, hlen, body, off, n);
        p->len = (uint16_t)(il + n);
        st->tx_len++;
        off += n;
    }
    if (nfrag > 1u) {
        st->ipx.mib[GLASS_IPX_IpFragOKs]++;
        st->ipx.mib[GLASS_IPX_IpFragCreates] += nfrag;
    }
    return true;
}
