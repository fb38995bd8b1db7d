/* glasstcp — fuzz target (a): the wire parsers (src/wire). The input is parsed as an IPv4
 * datagram and, when that succeeds, its payload as TCP; it is also parsed as a bare TCP
 * segment, and handed to the tool decoders. Checks: every representation a parser accepts is
 * inside the bytes it was given and consistent with its own lengths, and a TCP segment that
 * parses re-emits (glass_tcp_emit) to a segment that parses back to the same fields. */
#include "fuzz.h"

#include <string.h>

#include "wire/wire_priv.h"
#include <glass/glass.h>

static void check_ipv4(const uint8_t *d, size_t n, const struct glass_ipv4_repr *ip)
{
    FUZZ_CHECK(ip->hdr_len >= GLASS_IPV4_HDR_MIN && ip->hdr_len <= ip->total_len, "hdr %u tot %u",
               ip->hdr_len, ip->total_len);
    FUZZ_CHECK(ip->total_len <= n, "total %u > %zu", ip->total_len, n);
    FUZZ_CHECK(ip->payload == d + ip->hdr_len, "payload pointer");
    FUZZ_CHECK(ip->payload_len == (size_t)ip->total_len - ip->hdr_len, "payload length");
}

static void check_tcp(const uint8_t *seg, size_t n, const struct glass_tcp_repr *t)
{
    FUZZ_CHECK(t->hdr_len >= GLASS_TCP_HDR_MIN && t->hdr_len <= GLASS_TCP_HDR_MAX &&
                   t->hdr_len <= n,
               "doff %u of %zu", t->hdr_len, n);
    FUZZ_CHECK(t->payload == seg + t->hdr_len && t->payload_len == n - t->hdr_len,
               "payload view");
    FUZZ_CHECK(t->nsack <= GLASS_TCP_MAX_SACK, "nsack %u", t->nsack);
    FUZZ_CHECK(t->src_port != 0 && t->dst_port != 0, "port 0 accepted");
    FUZZ_CHECK((t->flags & (GLASS_TH_SYN | GLASS_TH_FIN)) != (GLASS_TH_SYN | GLASS_TH_FIN),
               "SYN+FIN accepted");
}

/* Emit what was parsed and parse it again: the same fields come back. */
static void roundtrip(const struct glass_tcp_repr *t, uint32_t src, uint32_t dst)
{
    static uint8_t out[70000];
    struct glass_tcp_repr r = *t;
    if (glass_tcp_hdr_len(&r) > GLASS_TCP_HDR_MAX)
        return;
    size_t len = glass_tcp_emit(out, sizeof out, &r, src, dst);
    if (len == 0)
        return;
    struct glass_tcp_repr b;
    int rc = glass_tcp_parse(out, len, src, dst, true, &b);
    FUZZ_CHECK(rc == GLASS_DROP_NONE, "re-emitted segment refused: %s", glass_drop_name(rc));
    FUZZ_CHECK(b.src_port == t->src_port && b.dst_port == t->dst_port && b.seq == t->seq &&
                   b.ack == t->ack && b.flags == t->flags && b.win == t->win && b.urg == t->urg,
               "header fields differ");
    FUZZ_CHECK(b.mss == t->mss && b.wscale == t->wscale && b.sack_perm == t->sack_perm &&
                   b.has_ts == t->has_ts,
               "options differ");
    if (t->has_ts)
        FUZZ_CHECK(b.ts_val == t->ts_val && b.ts_ecr == t->ts_ecr, "timestamps differ");
    FUZZ_CHECK(b.nsack <= t->nsack, "SACK blocks grew");
    for (unsigned i = 0; i < b.nsack; i++)
        FUZZ_CHECK(b.sack[i].left == t->sack[i].left && b.sack[i].right == t->sack[i].right,
                   "SACK block %u differs", i);
    FUZZ_CHECK(b.payload_len == t->payload_len &&
                   (t->payload_len == 0 || memcmp(b.payload, t->payload, t->payload_len) == 0),
               "payload differs");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int verify = 0; verify < 2; verify++) {
        struct glass_ipv4_repr ip;
        if (glass_ipv4_parse(data, size, verify != 0, &ip) != GLASS_DROP_NONE)
            continue;
        check_ipv4(data, size, &ip);
        struct glass_tcp_repr t;
        if (glass_tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, verify != 0, &t) ==
            GLASS_DROP_NONE) {
            check_tcp(ip.payload, ip.payload_len, &t);
            roundtrip(&t, ip.src, ip.dst);
        }
    }
    struct glass_tcp_repr t;
    if (glass_tcp_parse(data, size, 1, 2, false, &t) == GLASS_DROP_NONE) {
        check_tcp(data, size, &t);
        roundtrip(&t, 1, 2);
    }
    struct glass_pkt_summary s;
    (void)glass_pkt_decode(data, size, &s);
    char line[512];
    (void)glass_pkt_describe(data, size, line, sizeof line);
    return 0;
}
