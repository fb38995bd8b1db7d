/* glasstcp — one-line, tcpdump-style decoding of IPv4/TCP packets for the tools. */
#include <glass/wire.h>

#include "wire/wire_priv.h"

#include <glass/err.h>
#include <glass/stats.h>
#include <glass/trace.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>

static const char *const drop_names[GLASS_DROP_COUNT] = {
#define GLASS_X_DROP(n, d) [GLASS_DROP_##n] = #n,
    GLASS_DROP_REASONS(GLASS_X_DROP)
#undef GLASS_X_DROP
};

static const char *drop_name(int reason)
{
    if (reason < 0 || reason >= GLASS_DROP_COUNT)
        return "?";
    return drop_names[reason];
}

/* A fragment never carries a whole TCP segment we could decode (RFC 791 §3.2; robustness §2.D:
 * never parse the transport header from a lone fragment). */
static bool is_fragment(const struct glass_ipv4_repr *ip)
{
    return (ip->frag & (GLASS_IPV4_MF | GLASS_IPV4_OFFMASK)) != 0;
}

GLASS_API int glass_pkt_decode(const uint8_t *pkt, size_t len, struct glass_pkt_summary *out)
{
    struct glass_ipv4_repr ip;
    struct glass_tcp_repr tcp;

    if (pkt == NULL || out == NULL)
        return -GLASS_EINVAL;
    if (glass_ipv4_parse(pkt, len, false, &ip) != GLASS_DROP_NONE)
        return -GLASS_EINVAL;
    if (ip.proto != GLASS_IPV4_PROTO_TCP || is_fragment(&ip))
        return -GLASS_EINVAL;
    if (glass_tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, false, &tcp) != GLASS_DROP_NONE)
        return -GLASS_EINVAL;

    out->src.addr = ip.src;
    out->src.port = tcp.src_port;
    out->dst.addr = ip.dst;
    out->dst.port = tcp.dst_port;
    out->proto = ip.proto;
    out->flags = tcp.flags;
    out->seq = tcp.seq;
    out->ack = tcp.ack;
    out->len = (uint32_t)tcp.payload_len; /* <= 65535 - 40: bounded by the IPv4 total length */
    out->win = tcp.win;
    out->mss = tcp.mss;
    out->wscale = (int8_t)(tcp.wscale < 0 ? -1 : (tcp.wscale > 14 ? 14 : tcp.wscale));
    out->ttl = ip.ttl;
    return 0;
}

/* tcpdump's letters and order (print-tcp.c tcp_flag_values): F S R P . U E W. */
GLASS_API const char *glass_tcp_flags_str(uint8_t flags, char buf[9])
{
    static const struct {
        uint8_t bit;
        char c;
    } letters[] = {
        {GLASS_TH_FIN, 'F'}, {GLASS_TH_SYN, 'S'}, {GLASS_TH_RST, 'R'}, {GLASS_TH_PSH, 'P'},
        {GLASS_TH_ACK, '.'}, {GLASS_TH_URG, 'U'}, {GLASS_TH_ECE, 'E'}, {GLASS_TH_CWR, 'W'},
    };
    size_t n = 0;

    for (size_t i = 0; i < sizeof(letters) / sizeof(letters[0]); i++) {
        if (flags & letters[i].bit)
            buf[n++] = letters[i].c;
    }
    if (n == 0) {
        buf[0] = 'n';
        buf[1] = 'o';
        buf[2] = 'n';
        buf[3] = 'e';
        n = 4;
    }
    buf[n] = '\0';
    return buf;
}

GLASS_API const char *glass_ip4_str(uint32_t addr, char buf[16])
{
    (void)snprintf(buf, 16, "%u.%u.%u.%u", (unsigned)(addr >> 24), (unsigned)(addr >> 16) & 0xffu,
                   (unsigned)(addr >> 8) & 0xffu, (unsigned)addr & 0xffu);
    return buf;
}

/* Strict dotted quad: exactly four decimal parts 0..255 separated by single dots, no sign,
 * no spaces, no leading zeros (inet_aton would read "010" as octal 8), nothing after. */
GLASS_API int glass_ip4_parse(const char *s, uint32_t *addr)
{
    uint32_t v = 0;

    if (s == NULL || addr == NULL)
        return -GLASS_EINVAL;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (*s != '.')
                return -GLASS_EINVAL;
            s++;
        }
        const char *start = s;
        unsigned n = 0;
        while (*s >= '0' && *s <= '9') {
            if (s - start == 3)
                return -GLASS_EINVAL;
            n = n * 10u + (unsigned)(*s - '0');
            s++;
        }
        if (s == start || n > 255u || (s - start > 1 && *start == '0'))
            return -GLASS_EINVAL;
        v = (v << 8) | n;
    }
    if (*s != '\0')
        return -GLASS_EINVAL;
    *addr = v;
    return 0;
}

/* snprintf-style appender: counts what it would have written, truncates safely. */
struct sbuf {
    char *p;
    size_t cap;
    size_t len;
};

#if defined(__GNUC__)
#define PRINTF_LIKE(fmt_arg, first_arg) __attribute__((format(printf, fmt_arg, first_arg)))
#else
#define PRINTF_LIKE(fmt_arg, first_arg)
#endif

static void sb_printf(struct sbuf *sb, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
    char *dst = NULL;
    size_t room = 0;
    va_list ap;

    if (sb->len < sb->cap) {
        dst = sb->p + sb->len;
        room = sb->cap - sb->len;
    }
    va_start(ap, fmt);
    int n = vsnprintf(dst, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        sb->len += (size_t)n;
}

/* Options as packetdrill writes them, without the NOPs: <mss 1460,sackOK,TS val 1 ecr 0,...>. */
static void describe_options(struct sbuf *sb, const struct glass_tcp_repr *tcp)
{
    const char *sep = " <";

    if (tcp->mss != 0) {
        sb_printf(sb, "%smss %u", sep, (unsigned)tcp->mss);
        sep = ",";
    }
    if (tcp->sack_perm) {
        sb_printf(sb, "%ssackOK", sep);
        sep = ",";
    }
    if (tcp->has_ts) {
        sb_printf(sb, "%sTS val %lu ecr %lu", sep, (unsigned long)tcp->ts_val,
                  (unsigned long)tcp->ts_ecr);
        sep = ",";
    }
    if (tcp->wscale >= 0) {
        sb_printf(sb, "%swscale %d", sep, (int)tcp->wscale);
        sep = ",";
    }
    if (tcp->nsack > 0) {
        sb_printf(sb, "%ssack", sep);
        for (unsigned i = 0; i < tcp->nsack; i++)
            sb_printf(sb, " %lu:%lu", (unsigned long)tcp->sack[i].left,
                      (unsigned long)tcp->sack[i].right);
        sep = ",";
    }
    if (tcp->opt_malformed) {
        sb_printf(sb, "%smalformed", sep);
        sep = ",";
    }
    if (sep[0] == ',')
        sb_printf(sb, ">");
}

GLASS_API int glass_pkt_describe(const uint8_t *pkt, size_t len, char *out, size_t cap)
{
    struct sbuf sb = {out, out != NULL ? cap : 0, 0};
    struct glass_ipv4_repr ip;
    struct glass_tcp_repr tcp;
    char a[16], b[16], fl[9];

    if (sb.cap > 0)
        out[0] = '\0';
    int rc = pkt != NULL ? glass_ipv4_parse(pkt, len, false, &ip) : GLASS_DROP_PKT_TOO_SMALL;
    if (rc != GLASS_DROP_NONE) {
        sb_printf(&sb, "bad IPv4 (%s) %zu bytes", drop_name(rc), len);
    } else if (ip.proto != GLASS_IPV4_PROTO_TCP) {
        sb_printf(&sb, "%s > %s proto %u len %zu", glass_ip4_str(ip.src, a),
                  glass_ip4_str(ip.dst, b), (unsigned)ip.proto, ip.payload_len);
    } else if (is_fragment(&ip)) {
        sb_printf(&sb, "%s > %s proto %u frag id %u off %u%s len %zu", glass_ip4_str(ip.src, a),
                  glass_ip4_str(ip.dst, b), (unsigned)ip.proto, (unsigned)ip.id,
                  (unsigned)(ip.frag & GLASS_IPV4_OFFMASK) * 8u,
                  (ip.frag & GLASS_IPV4_MF) ? "+" : "", ip.payload_len);
    } else if ((rc = glass_tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, false, &tcp)) !=
               GLASS_DROP_NONE) {
        sb_printf(&sb, "%s > %s bad TCP (%s) len %zu", glass_ip4_str(ip.src, a),
                  glass_ip4_str(ip.dst, b), drop_name(rc), ip.payload_len);
    } else {
        sb_printf(&sb, "%s:%u > %s:%u %s seq %lu", glass_ip4_str(ip.src, a), (unsigned)tcp.src_port,
                  glass_ip4_str(ip.dst, b), (unsigned)tcp.dst_port,
                  glass_tcp_flags_str(tcp.flags, fl), (unsigned long)tcp.seq);
        if (tcp.flags & GLASS_TH_ACK)
            sb_printf(&sb, " ack %lu", (unsigned long)tcp.ack);
        sb_printf(&sb, " win %u", (unsigned)tcp.win);
        if (tcp.flags & GLASS_TH_URG)
            sb_printf(&sb, " urg %u", (unsigned)tcp.urg);
        sb_printf(&sb, " len %zu", tcp.payload_len);
        describe_options(&sb, &tcp);
    }
    return sb.len > INT_MAX ? INT_MAX : (int)sb.len;
}
