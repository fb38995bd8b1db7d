/* glass pkt — IPv4/TCP bytes for the interpreter: inbound packets are built here from the
 * script (RFC 791 header, RFC 9293 header and options, RFC 1071 checksums); outbound packets
 * are decoded and printed in script syntax, as packetdrill writes them. */
#include "pkt.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glass/trace.h>

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t sum_bytes(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += get16(p + i);
    if (n & 1u)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint16_t tcp_csum(uint32_t src, uint32_t dst, const uint8_t *tcp, size_t n)
{
    uint32_t sum = 0;
    sum += src >> 16;
    sum += src & 0xffffu;
    sum += dst >> 16;
    sum += dst & 0xffffu;
    sum += 6u;
    sum += (uint32_t)n;
    return fold(sum_bytes(sum, tcp, n));
}

int pkt_wire_decode(const uint8_t *buf, size_t n, struct pkt_wire *w)
{
    memset(w, 0, sizeof *w);
    if (n < 20 || (buf[0] >> 4) != 4)
        return -1;
    size_t ihl = (size_t)(buf[0] & 0x0f) * 4u;
    size_t total = get16(buf + 2);
    if (ihl < 20 || total < ihl || total > n || buf[9] != 6)
        return -1;
    w->ipv4_csum_ok = fold(sum_bytes(0, buf, ihl)) == 0;
    w->ttl = buf[8];
    w->src = get32(buf + 12);
    w->dst = get32(buf + 16);
    const uint8_t *t = buf + ihl;
    size_t tl = total - ihl;
    if (tl < 20)
        return -1;
    size_t doff = (size_t)(t[12] >> 4) * 4u;
    if (doff < 20 || doff > tl)
        return -1;
    w->sport = get16(t);
    w->dport = get16(t + 2);
    w->seq = get32(t + 4);
    w->ack = get32(t + 8);
    w->flags = (uint16_t)(t[13] | ((t[12] & 0x01u) << 8));
    w->win = get16(t + 14);
    w->urg = get16(t + 18);
    w->opts_len = (uint8_t)(doff - 20);
    memcpy(w->opts, t + 20, w->opts_len);
    w->payload = t + doff;
    w->len = (uint32_t)(tl - doff);
    w->tcp_csum_ok = tcp_csum(w->src, w->dst, t, tl) == 0;
    return 0;
}

size_t pkt_wire_build(const struct pkt_wire *w, uint16_t ip_id, uint8_t *buf, size_t cap)
{
    size_t tl = 20u + w->opts_len + w->len;
    size_t total = 20u + tl;
    if (total > cap || total > 0xffff || w->opts_len % 4 != 0)
        return 0;
    memset(buf, 0, total);
    buf[0] = 0x45;
    put16(buf + 2, (uint16_t)total);
    put16(buf + 4, ip_id);
    put16(buf + 6, 0x4000); /* DF */
    buf[8] = w->ttl ? w->ttl : 64;
    buf[9] = 6;
    put32(buf + 12, w->src);
    put32(buf + 16, w->dst);
    put16(buf + 10, fold(sum_bytes(0, buf, 20)));
    uint8_t *t = buf + 20;
    put16(t, w->sport);
    put16(t + 2, w->dport);
    put32(t + 4, w->seq);
    put32(t + 8, w->ack);
    t[12] = (uint8_t)(((20u + w->opts_len) / 4u) << 4 | ((w->flags >> 8) & 0x01u));
    t[13] = (uint8_t)w->flags;
    put16(t + 14, w->win);
    put16(t + 18, w->urg);
    memcpy(t + 20, w->opts, w->opts_len);
    /* the payload stays zero, as packetdrill's */
    put16(t + 16, tcp_csum(w->src, w->dst, t, tl));
    return total;
}

const char *pkt_flags_str(uint16_t flags, char buf[12])
{
    static const struct {
        uint16_t bit;
        char c;
    } order[] = {{GLASS_TH_FIN, 'F'}, {GLASS_TH_SYN, 'S'}, {GLASS_TH_RST, 'R'},
                 {GLASS_TH_PSH, 'P'}, {GLASS_TH_ACK, '.'}, {GLASS_TH_URG, 'U'},
                 {GLASS_TH_ECE, 'E'}, {GLASS_TH_CWR, 'W'}, {0x100, 'A'}};
    size_t n = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (flags & order[i].bit)
            buf[n++] = order[i].c;
    if (n == 0)
        buf[n++] = '-';
    buf[n] = '\0';
    return buf;
}

int pkt_opts_find(const uint8_t *opts, size_t len, uint8_t kind)
{
    size_t i = 0;
    while (i < len) {
        uint8_t k = opts[i];
        if (k == 0)
            return -1;
        if (k == 1) {
            i++;
            continue;
        }
        if (i + 1 >= len || opts[i + 1] < 2 || i + opts[i + 1] > len)
            return -1;
        if (k == kind)
            return (int)i;
        i += opts[i + 1];
    }
    return -1;
}

void pkt_opts_str(struct out_buf *b, const uint8_t *o, size_t len)
{
    size_t i = 0;
    bool first = true;
    while (i < len) {
        if (!first)
            out_putc(b, ',');
        first = false;
        uint8_t k = o[i];
        if (k == 0) {
            out_puts(b, "eol");
            i++;
            continue;
        }
        if (k == 1) {
            out_puts(b, "nop");
            i++;
            continue;
        }
        if (i + 1 >= len || o[i + 1] < 2 || i + o[i + 1] > len) {
            out_printf(b, "<malformed option kind %u>", k);
            return;
        }
        uint8_t l = o[i + 1];
        const uint8_t *d = o + i + 2;
        if (k == 2 && l == 4)
            out_printf(b, "mss %u", get16(d));
        else if (k == 3 && l == 3)
            out_printf(b, "wscale %u", d[0]);
        else if (k == 4 && l == 2)
            out_puts(b, "sackOK");
        else if (k == 5 && l >= 10 && (l - 2) % 8 == 0) {
            out_puts(b, "sack");
            for (size_t j = 0; j + 8 <= (size_t)(l - 2); j += 8)
                out_printf(b, " %" PRIu32 ":%" PRIu32, get32(d + j), get32(d + j + 4));
        } else if (k == 8 && l == 10)
            out_printf(b, "TS val %" PRIu32 " ecr %" PRIu32, get32(d), get32(d + 4));
        else
            out_printf(b, "<kind %u len %u>", k, l);
        i += l;
    }
}

void pkt_wire_str(struct out_buf *b, const struct pkt_wire *w, bool show_win)
{
    char fb[12];
    out_printf(b, "%s %" PRIu32 ":%" PRIu32 "(%" PRIu32 ")", pkt_flags_str(w->flags, fb), w->seq,
               w->seq + w->len, w->len);
    if (w->flags & GLASS_TH_ACK)
        out_printf(b, " ack %" PRIu32, w->ack);
    if (show_win)
        out_printf(b, " win %u", w->win);
    if (w->urg != 0)
        out_printf(b, " urg %u", w->urg);
    if (w->opts_len > 0) {
        out_putc(b, ' ');
        out_putc(b, '<');
        pkt_opts_str(b, w->opts, w->opts_len);
        out_putc(b, '>');
    }
}

void pkt_packet_str(struct out_buf *b, const struct pkt_packet *p)
{
    char fb[12];
    out_printf(b, "%s %" PRIu32 ":%" PRIu32 "(%" PRIu32 ")", pkt_flags_str(p->flags, fb), p->seq,
               p->seq + p->len, p->len);
    if (p->ack != 0 || (p->flags & GLASS_TH_ACK))
        out_printf(b, " ack %" PRIu32, p->ack);
    if (p->win >= 0)
        out_printf(b, " win %d", (int)p->win);
    if (p->urg != 0)
        out_printf(b, " urg %u", p->urg);
    if (p->opts_any) {
        out_puts(b, " <...>");
    } else if (p->opts_len > 0) {
        out_puts(b, " <");
        pkt_opts_str(b, p->opts, p->opts_len);
        out_putc(b, '>');
    }
}
