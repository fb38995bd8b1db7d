/* glass pkt — the parser: packetdrill's grammar (the part TCP state-machine tests use), by
 * recursive descent over the token array.
 *
 *   script   = option* [command] event* [command]
 *   option   = --name [= value]
 *   event    = time action
 *   time     = [+]secs | [+]secs ~ [+]secs | *
 *   action   = packet | [...secs] syscall | `command` | %{ code }%
 *   packet   = (<|>) [sport > dport] flags seq:end(len) [ack N] [win N] [urg N] [<options>]
 *   syscall  = name ( [expr {, expr}] ) = expr [ERRNO] [(note)]
 *
 * A construct packetdrill has but this interpreter does not run (ICMP/UDP packets, IP header
 * fields, code blocks, ...) ends the parse with s->unsupported set: the script is skipped with
 * that reason, never run with the construct ignored. */
#include "pkt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glass/trace.h>

enum { P_OK = 0, P_ERR = -1, P_UNSUP = 1 };

struct parser {
    const struct pkt_tok *t;
    size_t n, i;
    struct pkt_script *s;
    struct pkt_arena *a;
    const char *src;
    char *err;
    size_t errcap;
    /* events being built */
    struct pkt_event *ev;
    size_t nev, capev;
};

static const struct pkt_tok *cur(const struct parser *P)
{
    return &P->t[P->i < P->n ? P->i : P->n - 1];
}

static const struct pkt_tok *ahead(const struct parser *P, size_t k)
{
    size_t j = P->i + k;
    return &P->t[j < P->n ? j : P->n - 1];
}

static void next(struct parser *P)
{
    if (P->i + 1 < P->n)
        P->i++;
}

PKT_PRINTF(3, 4)
static int perr(struct parser *P, const struct pkt_tok *at, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(P->err, P->errcap, "%s:%d:%d: %s", P->s->path, at->line, at->col, msg);
    return P_ERR;
}

PKT_PRINTF(3, 4)
static int punsup(struct parser *P, const struct pkt_tok *at, const char *fmt, ...)
{
    if (P->s->unsupported[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(P->s->unsupported, sizeof P->s->unsupported, fmt, ap);
        va_end(ap);
        P->s->unsupported_line = at->line;
    }
    return P_UNSUP;
}

static int oom(struct parser *P)
{
    return perr(P, cur(P), "out of memory");
}

static bool is_punct(const struct pkt_tok *t, char c)
{
    return t->kind == TK_PUNCT && t->c == c;
}

static bool is_word(const struct pkt_tok *t, const char *w)
{
    return t->kind == TK_WORD && t->len == strlen(w) && memcmp(t->p, w, t->len) == 0;
}

static const char *tok_desc(const struct pkt_tok *t, char buf[48])
{
    switch (t->kind) {
    case TK_EOF:
        return "end of file";
    case TK_PUNCT:
        snprintf(buf, 48, "'%c'", t->c);
        return buf;
    default: {
        int n = t->len > 32 ? 32 : (int)t->len;
        snprintf(buf, 48, "'%.*s%s'", n, t->p, t->len > 32 ? "..." : "");
        return buf;
    }
    }
}

static int expect_punct(struct parser *P, char c, const char *what)
{
    if (!is_punct(cur(P), c)) {
        char b[48];
        return perr(P, cur(P), "expected '%c' %s, found %s", c, what, tok_desc(cur(P), b));
    }
    next(P);
    return P_OK;
}

/* An unsigned integer token within [0, max]. */
static int take_uint(struct parser *P, uint64_t max, const char *what, uint64_t *out)
{
    const struct pkt_tok *t = cur(P);
    if (t->kind != TK_INT) {
        char b[48];
        return perr(P, t, "expected %s, found %s", what, tok_desc(t, b));
    }
    if (t->big || t->ival < 0 || (uint64_t)t->ival > max)
        return perr(P, t, "%s out of range", what);
    *out = (uint64_t)t->ival;
    next(P);
    return P_OK;
}

/* ---- times ---------------------------------------------------------------------------------- */

static int take_secs(struct parser *P, int64_t *us)
{
    const struct pkt_tok *t = cur(P);
    if (t->kind == TK_INT) {
        if (t->big || t->ival < 0)
            return perr(P, t, "negative time");
        if (t->ival > 100000000)
            return perr(P, t, "time too large");
        *us = t->ival * 1000000;
    } else if (t->kind == TK_FLOAT) {
        if (t->p[0] == '-')
            return perr(P, t, "negative time");
        *us = pkt_time_us(t->p, t->len);
        if (*us < 0)
            return perr(P, t, "bad time");
    } else {
        char b[48];
        return perr(P, t, "expected a time, found %s", tok_desc(t, b));
    }
    next(P);
    return P_OK;
}

static int parse_time(struct parser *P, struct pkt_event *e)
{
    const struct pkt_tok *t = cur(P);
    e->line = t->line;
    e->col = t->col;
    if (is_punct(t, '*')) {
        e->tt = PT_ANY;
        next(P);
        return P_OK;
    }
    bool rel = false;
    if (is_punct(t, '+')) {
        rel = true;
        next(P);
    }
    int r = take_secs(P, &e->t_us);
    if (r)
        return r;
    e->tt = rel ? PT_REL : PT_ABS;
    if (is_punct(cur(P), '~')) {
        next(P);
        if (rel) {
            if (!is_punct(cur(P), '+'))
                return perr(P, cur(P), "a relative time range is written +start~+end");
            next(P);
        } else if (is_punct(cur(P), '+')) {
            return perr(P, cur(P), "an absolute time range is written start~end");
        }
        r = take_secs(P, &e->t_end_us);
        if (r)
            return r;
        if (e->t_end_us < e->t_us)
            return perr(P, t, "time range is backwards");
        e->tt = rel ? PT_REL_RANGE : PT_ABS_RANGE;
    }
    return P_OK;
}

/* ---- TCP packets ---------------------------------------------------------------------------- */

static int opt_put(struct parser *P, const struct pkt_tok *at, struct pkt_packet *pk,
                   const uint8_t *bytes, size_t n)
{
    if (pk->opts_len + n > PKT_MAX_OPTS)
        return perr(P, at, "TCP option list too long");
    memcpy(pk->opts + pk->opts_len, bytes, n);
    pk->opts_len = (uint8_t)(pk->opts_len + n);
    return P_OK;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int parse_option(struct parser *P, struct pkt_packet *pk)
{
    const struct pkt_tok *t = cur(P);
    uint64_t v, v2;
    int r;
    if (is_word(t, "nop")) {
        next(P);
        return opt_put(P, t, pk, (const uint8_t[]){1}, 1);
    }
    if (is_word(t, "eol")) {
        next(P);
        return opt_put(P, t, pk, (const uint8_t[]){0}, 1);
    }
    if (is_word(t, "mss")) {
        next(P);
        if ((r = take_uint(P, 0xffff, "mss value", &v)))
            return r;
        return opt_put(P, t, pk, (const uint8_t[]){2, 4, (uint8_t)(v >> 8), (uint8_t)v}, 4);
    }
    if (is_word(t, "wscale")) {
        next(P);
        if ((r = take_uint(P, 0xff, "window scale shift count", &v)))
            return r;
        return opt_put(P, t, pk, (const uint8_t[]){3, 3, (uint8_t)v}, 3);
    }
    if (is_word(t, "sackOK")) {
        next(P);
        return opt_put(P, t, pk, (const uint8_t[]){4, 2}, 2);
    }
    if (is_word(t, "sack")) {
        next(P);
        uint8_t b[2 + 8 * 4];
        size_t nb = 0;
        while (cur(P)->kind == TK_INT) {
            if (nb == 4)
                return perr(P, cur(P), "at most 4 SACK blocks fit in the options");
            if ((r = take_uint(P, 0xffffffffu, "SACK left edge", &v)))
                return r;
            if ((r = expect_punct(P, ':', "in a SACK block")))
                return r;
            if ((r = take_uint(P, 0xffffffffu, "SACK right edge", &v2)))
                return r;
            put32(b + 2 + 8 * nb, (uint32_t)v);
            put32(b + 6 + 8 * nb, (uint32_t)v2);
            nb++;
        }
        if (nb == 0)
            return perr(P, cur(P), "expected a SACK block left:right");
        b[0] = 5;
        b[1] = (uint8_t)(2 + 8 * nb);
        return opt_put(P, t, pk, b, 2 + 8 * nb);
    }
    if (is_word(t, "TS")) {
        next(P);
        if (!is_word(cur(P), "val"))
            return perr(P, cur(P), "expected 'val' in TS option");
        next(P);
        if ((r = take_uint(P, 0xffffffffu, "TS val", &v)))
            return r;
        if (!is_word(cur(P), "ecr"))
            return perr(P, cur(P), "expected 'ecr' in TS option");
        next(P);
        if ((r = take_uint(P, 0xffffffffu, "TS ecr", &v2)))
            return r;
        uint8_t b[10] = {8, 10};
        put32(b + 2, (uint32_t)v);
        put32(b + 6, (uint32_t)v2);
        return opt_put(P, t, pk, b, 10);
    }
    if (is_word(t, "md5") || is_word(t, "FO") || is_word(t, "FOEXP") || is_word(t, "ECN")) {
        char b[48];
        return punsup(P, t, "TCP option %s", tok_desc(t, b));
    }
    char b[48];
    return perr(P, t, "unknown TCP option %s", tok_desc(t, b));
}

static int parse_flags(struct parser *P, struct pkt_packet *pk)
{
    const struct pkt_tok *t = cur(P);
    pk->flags = 0;
    if (is_punct(t, '-')) {
        next(P);
        return P_OK;
    }
    if (is_punct(t, '.')) {
        pk->flags = GLASS_TH_ACK;
        next(P);
        return P_OK;
    }
    if (t->kind == TK_WORD) {
        for (size_t k = 0; k < t->len; k++) {
            switch (t->p[k]) {
            case 'F': pk->flags |= GLASS_TH_FIN; break;
            case 'S': pk->flags |= GLASS_TH_SYN; break;
            case 'R': pk->flags |= GLASS_TH_RST; break;
            case 'P': pk->flags |= GLASS_TH_PSH; break;
            case 'U': pk->flags |= GLASS_TH_URG; break;
            case 'E': pk->flags |= GLASS_TH_ECE; break;
            case 'W': pk->flags |= GLASS_TH_CWR; break;
            case 'A': pk->flags |= 0x100; break;
            default:
                return perr(P, t, "invalid TCP flag '%c'", t->p[k]);
            }
        }
        next(P);
        if (is_punct(cur(P), '.')) {
            pk->flags |= GLASS_TH_ACK;
            next(P);
        }
        if (cur(P)->kind == TK_FLOAT)
            return punsup(P, cur(P), "AccECN ACE flags");
        return P_OK;
    }
    if (t->kind == TK_FLOAT)
        return punsup(P, t, "AccECN ACE flags");
    char b[48];
    return perr(P, t, "expected TCP flags (S, S., ., P., F., R, R., -), found %s",
                tok_desc(t, b));
}

static int parse_packet(struct parser *P, struct pkt_event *e)
{
    struct pkt_packet *pk = &e->pkt;
    const struct pkt_tok *dir = cur(P);
    pk->inbound = is_punct(dir, '<');
    next(P);
    const struct pkt_tok *t = cur(P);
    if (is_punct(t, '(') || is_punct(t, '['))
        return punsup(P, t, "IP header fields (tos, ecn, ttl, flowlabel) on a packet");
    if (is_word(t, "ipv4") || is_word(t, "ipv6"))
        return punsup(P, t, "explicit IP headers on a packet");
    if (is_word(t, "encap"))
        return punsup(P, t, "encapsulated packets");
    if (is_word(t, "icmp") || is_word(t, "udp") || is_word(t, "gre") || is_word(t, "GREv0") ||
        is_word(t, "mpls")) {
        char b[48];
        return punsup(P, t, "%s packets (only TCP is driven)", tok_desc(t, b));
    }
    int r;
    uint64_t v, v2, v3;
    if (t->kind == TK_INT && is_punct(ahead(P, 1), '>')) {
        if ((r = take_uint(P, 0xffff, "source port", &v)))
            return r;
        next(P); /* '>' */
        if ((r = take_uint(P, 0xffff, "destination port", &v2)))
            return r;
        pk->has_ports = true;
        pk->sport = (uint16_t)v;
        pk->dport = (uint16_t)v2;
    }
    if ((r = parse_flags(P, pk)))
        return r;
    const struct pkt_tok *seqtok = cur(P);
    if ((r = take_uint(P, 0xffffffffu, "TCP start sequence number", &v)))
        return r;
    if ((r = expect_punct(P, ':', "after the start sequence number")))
        return r;
    if ((r = take_uint(P, 0xffffffffu, "TCP end sequence number", &v2)))
        return r;
    if ((r = expect_punct(P, '(', "before the payload length")))
        return r;
    if ((r = take_uint(P, 0xffff, "TCP payload size", &v3)))
        return r;
    if ((r = expect_punct(P, ')', "after the payload length")))
        return r;
    if (v2 != v + v3)
        return perr(P, seqtok, "inconsistent TCP sequence numbers and payload size");
    pk->seq = (uint32_t)v;
    pk->len = (uint32_t)v3;
    pk->win = -1;
    if (is_word(cur(P), "ack")) {
        next(P);
        if ((r = take_uint(P, 0xffffffffu, "TCP ack sequence number", &v)))
            return r;
        pk->ack = (uint32_t)v;
    }
    if (is_word(cur(P), "win")) {
        next(P);
        if ((r = take_uint(P, 0xffff, "TCP window value", &v)))
            return r;
        pk->win = (int32_t)v;
    }
    if (is_word(cur(P), "urg")) {
        next(P);
        if ((r = take_uint(P, 0xffff, "urg_ptr value", &v)))
            return r;
        pk->urg = (uint16_t)v;
    }
    if (is_punct(cur(P), '<')) {
        const struct pkt_tok *lt = cur(P);
        next(P);
        if (cur(P)->kind == TK_ELLIPSIS) {
            next(P);
            if (pk->inbound)
                return perr(P, lt, "<...> for TCP options can only be used with outbound "
                                   "packets");
            pk->opts_any = true;
        } else {
            for (;;) {
                if ((r = parse_option(P, pk)))
                    return r;
                if (is_punct(cur(P), ','))
                    next(P);
                else
                    break;
            }
            if (pk->opts_len % 4 != 0)
                return perr(P, lt,
                            "TCP options are not padded correctly to ensure TCP header is a "
                            "multiple of 4 bytes: %u excess bytes",
                            (unsigned)(pk->opts_len % 4));
        }
        if ((r = expect_punct(P, '>', "after the TCP options")))
            return r;
    }
    if (pk->inbound && pk->win < 0)
        return perr(P, dir, "window must be specified for inbound packets");
    return P_OK;
}

/* ---- expressions ---------------------------------------------------------------------------- */

static struct pkt_expr *new_expr(struct parser *P, enum pkt_expr_kind k, const struct pkt_tok *at)
{
    struct pkt_expr *x = pkt_alloc(P->a, sizeof *x);
    if (x != NULL) {
        x->kind = k;
        x->line = at->line;
        x->col = at->col;
    }
    return x;
}

static int add_item(struct parser *P, struct pkt_expr *x, struct pkt_expr *item, size_t *cap)
{
    if (x->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        struct pkt_expr **nv = pkt_alloc(P->a, ncap * sizeof *nv);
        if (nv == NULL)
            return oom(P);
        if (x->n > 0)
            memcpy(nv, x->items, x->n * sizeof *nv);
        x->items = nv;
        *cap = ncap;
    }
    x->items[x->n++] = item;
    return P_OK;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Append the string token's bytes, escapes processed, to x->s. */
static int unescape(struct parser *P, const struct pkt_tok *t, struct pkt_expr *x)
{
    char *nb = pkt_alloc(P->a, x->slen + t->len + 1);
    if (nb == NULL)
        return oom(P);
    if (x->slen > 0)
        memcpy(nb, x->s, x->slen);
    size_t o = x->slen;
    for (size_t k = 0; k < t->len; k++) {
        char c = t->p[k];
        if (c != '\\') {
            nb[o++] = c;
            continue;
        }
        if (++k >= t->len)
            return perr(P, t, "bad escape at the end of a string");
        switch (t->p[k]) {
        case '\\': nb[o++] = '\\'; break;
        case '"': nb[o++] = '"'; break;
        case 'f': nb[o++] = '\f'; break;
        case 'n': nb[o++] = '\n'; break;
        case 'r': nb[o++] = '\r'; break;
        case 't': nb[o++] = '\t'; break;
        case 'v': nb[o++] = '\v'; break;
        case 'x': {
            int h1 = k + 1 < t->len ? hexval((unsigned char)t->p[k + 1]) : -1;
            int h2 = k + 2 < t->len ? hexval((unsigned char)t->p[k + 2]) : -1;
            if (h1 < 0 || h2 < 0)
                return perr(P, t, "invalid hex escape (\\xhh) in a string");
            nb[o++] = (char)(h1 * 16 + h2);
            k += 2;
            break;
        }
        default:
            return perr(P, t, "unsupported escape code '\\%c' in a string", t->p[k]);
        }
    }
    nb[o] = '\0';
    x->s = nb;
    x->slen = o;
    return P_OK;
}

static int parse_expr(struct parser *P, struct pkt_expr **out, int depth);

/* [a, b, ...] or {a, b, ...}: items up to the closing bracket. */
static int parse_seq(struct parser *P, struct pkt_expr *x, char close, int depth)
{
    size_t cap = 0;
    next(P); /* opening bracket */
    if (is_punct(cur(P), close)) {
        next(P);
        return P_OK;
    }
    for (;;) {
        struct pkt_expr *item = NULL;
        int r = parse_expr(P, &item, depth + 1);
        if (r)
            return r;
        if ((r = add_item(P, x, item, &cap)))
            return r;
        if (is_punct(cur(P), ',')) {
            next(P);
            continue;
        }
        if (is_punct(cur(P), close)) {
            next(P);
            return P_OK;
        }
        char b[48];
        return perr(P, cur(P), "expected ',' or '%c', found %s", close, tok_desc(cur(P), b));
    }
}

static int parse_primary(struct parser *P, struct pkt_expr **out, int depth)
{
    const struct pkt_tok *t = cur(P);
    struct pkt_expr *x = NULL;
    int r;
    if (depth > 32)
        return perr(P, t, "expression nested too deeply");
    switch (t->kind) {
    case TK_ELLIPSIS:
        x = new_expr(P, EX_ELLIPSIS, t);
        if (x == NULL)
            return oom(P);
        next(P);
        if (is_punct(cur(P), '.'))
            return perr(P, cur(P), "unexpected '.' after '...'");
        break;
    case TK_INT:
        if (t->big)
            return perr(P, t, "integer out of range");
        x = new_expr(P, EX_INT, t);
        if (x == NULL)
            return oom(P);
        x->i = t->ival;
        next(P);
        break;
    case TK_STRING:
        x = new_expr(P, EX_STR, t);
        if (x == NULL)
            return oom(P);
        x->s = pkt_strndup(P->a, "", 0);
        if (x->s == NULL)
            return oom(P);
        while (cur(P)->kind == TK_STRING) { /* "a" "b" concatenates */
            if ((r = unescape(P, cur(P), x)))
                return r;
            next(P);
        }
        if (cur(P)->kind == TK_ELLIPSIS)
            return punsup(P, cur(P), "string prefix patterns (\"...\"...)");
        break;
    case TK_WORD:
        if (is_punct(ahead(P, 1), '=')) {
            x = new_expr(P, EX_ASSIGN, t);
            if (x == NULL || (x->s = pkt_strndup(P->a, t->p, t->len)) == NULL)
                return oom(P);
            next(P);
            next(P);
            size_t cap = 0;
            struct pkt_expr *v = NULL;
            if ((r = parse_expr(P, &v, depth + 1)))
                return r;
            if ((r = add_item(P, x, v, &cap)))
                return r;
        } else if (is_punct(ahead(P, 1), '(')) {
            x = new_expr(P, EX_CALL, t);
            if (x == NULL || (x->s = pkt_strndup(P->a, t->p, t->len)) == NULL)
                return oom(P);
            next(P);
            if ((r = parse_seq(P, x, ')', depth)))
                return r;
        } else {
            x = new_expr(P, EX_WORD, t);
            if (x == NULL || (x->s = pkt_strndup(P->a, t->p, t->len)) == NULL)
                return oom(P);
            next(P);
        }
        break;
    case TK_IPV4:
        return punsup(P, t, "bare IPv4 addresses in expressions");
    case TK_PUNCT:
        if (t->c == '[') {
            x = new_expr(P, EX_LIST, t);
            if (x == NULL)
                return oom(P);
            if ((r = parse_seq(P, x, ']', depth)))
                return r;
            break;
        }
        if (t->c == '{') {
            x = new_expr(P, EX_STRUCT, t);
            if (x == NULL)
                return oom(P);
            if ((r = parse_seq(P, x, '}', depth)))
                return r;
            break;
        }
        /* fall through */
    default: {
        char b[48];
        return perr(P, t, "expected an expression, found %s", tok_desc(t, b));
    }
    }
    *out = x;
    return P_OK;
}

static int parse_expr(struct parser *P, struct pkt_expr **out, int depth)
{
    int r = parse_primary(P, out, depth);
    if (r)
        return r;
    while (is_punct(cur(P), '|')) {
        const struct pkt_tok *t = cur(P);
        next(P);
        struct pkt_expr *rhs = NULL;
        if ((r = parse_primary(P, &rhs, depth)))
            return r;
        struct pkt_expr *x = new_expr(P, EX_OR, t);
        if (x == NULL)
            return oom(P);
        size_t cap = 0;
        if ((r = add_item(P, x, *out, &cap)) || (r = add_item(P, x, rhs, &cap)))
            return r;
        *out = x;
    }
    return P_OK;
}

/* ---- system calls --------------------------------------------------------------------------- */

/* (words...): a note after a result or an errno; its content is not interpreted. */
static int skip_note(struct parser *P)
{
    const struct pkt_tok *open = cur(P);
    int depth = 0;
    do {
        const struct pkt_tok *t = cur(P);
        if (t->kind == TK_EOF)
            return perr(P, open, "unterminated note '(...)'");
        if (is_punct(t, '('))
            depth++;
        else if (is_punct(t, ')'))
            depth--;
        next(P);
    } while (depth > 0);
    return P_OK;
}

static int parse_syscall(struct parser *P, struct pkt_event *e)
{
    struct pkt_syscall *sc = &e->sc;
    int r;
    if (cur(P)->kind == TK_ELLIPSIS) {
        next(P);
        sc->blocking = true;
        if ((r = take_secs(P, &sc->end_us)))
            return r;
    }
    const struct pkt_tok *name = cur(P);
    if (name->kind != TK_WORD) {
        char b[48];
        return perr(P, name, "expected a system call, found %s", tok_desc(name, b));
    }
    sc->name = pkt_strndup(P->a, name->p, name->len);
    if (sc->name == NULL)
        return oom(P);
    next(P);
    if (!is_punct(cur(P), '('))
        return perr(P, cur(P), "expected '(' after %s", sc->name);
    struct pkt_expr args = {0};
    if ((r = parse_seq(P, &args, ')', 0)))
        return r;
    sc->args = args.items;
    sc->nargs = args.n;
    if ((r = expect_punct(P, '=', "before the expected result")))
        return r;
    if ((r = parse_expr(P, &sc->result, 0)))
        return r;
    if (cur(P)->kind == TK_WORD) {
        sc->errno_name = pkt_strndup(P->a, cur(P)->p, cur(P)->len);
        if (sc->errno_name == NULL)
            return oom(P);
        next(P);
    }
    if (is_punct(cur(P), '(')) {
        if ((r = skip_note(P)))
            return r;
    }
    return P_OK;
}

/* ---- events and the script ------------------------------------------------------------------ */

static struct pkt_event *new_event(struct parser *P)
{
    if (P->nev == P->capev) {
        size_t ncap = P->capev ? P->capev * 2 : 32;
        struct pkt_event *nv = pkt_alloc(P->a, ncap * sizeof *nv);
        if (nv == NULL)
            return NULL;
        if (P->nev > 0)
            memcpy(nv, P->ev, P->nev * sizeof *nv);
        P->ev = nv;
        P->capev = ncap;
    }
    struct pkt_event *e = &P->ev[P->nev++];
    memset(e, 0, sizeof *e);
    return e;
}

static bool starts_event(const struct pkt_tok *t)
{
    return t->kind == TK_INT || t->kind == TK_FLOAT || is_punct(t, '+') || is_punct(t, '*');
}

static int parse_event(struct parser *P)
{
    struct pkt_event *e = new_event(P);
    if (e == NULL)
        return oom(P);
    const struct pkt_tok *first = cur(P);
    int r = parse_time(P, e);
    if (r)
        return r;
    const struct pkt_tok *t = cur(P);
    if (is_punct(t, '<') || is_punct(t, '>')) {
        e->kind = EV_PACKET;
        r = parse_packet(P, e);
    } else if (t->kind == TK_WORD || t->kind == TK_ELLIPSIS) {
        e->kind = EV_SYSCALL;
        r = parse_syscall(P, e);
    } else if (t->kind == TK_BACKQ) {
        e->kind = EV_COMMAND;
        e->text = pkt_strndup(P->a, t->p, t->len);
        if (e->text == NULL)
            return oom(P);
        next(P);
    } else if (t->kind == TK_CODE) {
        e->kind = EV_CODE;
        next(P);
        r = punsup(P, t, "%%{ python code }%% blocks");
    } else {
        char b[48];
        return perr(P, t, "expected a packet, a system call or a command, found %s",
                    tok_desc(t, b));
    }
    if (r)
        return r;
    /* packetdrill: `*` and ranges only for outbound packets */
    bool outbound = e->kind == EV_PACKET && !e->pkt.inbound;
    if (e->tt == PT_ANY && !outbound)
        return perr(P, first, "event time <star> can only be used with outbound packets");
    if ((e->tt == PT_ABS_RANGE || e->tt == PT_REL_RANGE) && !outbound)
        return perr(P, first, "event time range can only be used with outbound packets");
    const struct pkt_tok *last = &P->t[P->i > 0 ? P->i - 1 : 0];
    e->src = first->p;
    e->src_len = (size_t)(last->p + last->len - first->p) + (last->kind == TK_STRING ||
                                                             last->kind == TK_BACKQ ? 1 : 0);
    if (last->kind == TK_CODE)
        e->src_len += 2;
    return P_OK;
}

static int parse_option_line(struct parser *P, struct pkt_option *o)
{
    const struct pkt_tok *t = cur(P);
    o->line = t->line;
    o->col = t->col;
    o->name = pkt_strndup(P->a, t->p + 2, t->len - 2);
    if (o->name == NULL)
        return oom(P);
    next(P);
    if (!is_punct(cur(P), '='))
        return P_OK;
    next(P);
    const struct pkt_tok *v = cur(P);
    switch (v->kind) {
    case TK_INT:
    case TK_FLOAT:
    case TK_WORD:
    case TK_STRING:
    case TK_IPV4:
        o->value = pkt_strndup(P->a, v->p, v->len);
        if (o->value == NULL)
            return oom(P);
        next(P);
        break;
    default: {
        char b[48];
        return perr(P, v, "expected a value for --%s, found %s", o->name, tok_desc(v, b));
    }
    }
    if (is_punct(cur(P), '=')) /* --define=NAME=value */
        return punsup(P, t, "--%s with NAME=value", o->name);
    return P_OK;
}

int pkt_parse(const char *path, const char *src, size_t len, struct pkt_script *s, char *err,
              size_t errcap)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    struct pkt_toks toks;
    char lerr[200];
    if (pkt_lex(src, len, &toks, lerr, sizeof lerr) < 0) {
        snprintf(err, errcap, "%s:%s", path, lerr);
        return -1;
    }
    struct parser P = {.t = toks.v, .n = toks.n, .s = s, .a = &s->arena, .src = src,
                       .err = err, .errcap = errcap};
    int r = P_OK;
    size_t capopt = 0;
    while (r == P_OK && cur(&P)->kind == TK_OPTION) {
        if (s->nopts == capopt) {
            size_t ncap = capopt ? capopt * 2 : 8;
            struct pkt_option *nv = pkt_alloc(&s->arena, ncap * sizeof *nv);
            if (nv == NULL) {
                r = oom(&P);
                break;
            }
            if (s->nopts > 0)
                memcpy(nv, s->opts, s->nopts * sizeof *nv);
            s->opts = nv;
            capopt = ncap;
        }
        r = parse_option_line(&P, &s->opts[s->nopts++]);
    }
    while (r == P_OK && cur(&P)->kind != TK_EOF) {
        const struct pkt_tok *t = cur(&P);
        if (t->kind == TK_BACKQ && (P.nev == 0 || ahead(&P, 1)->kind == TK_EOF)) {
            /* init command (before the first event) or cleanup command (after the last) */
            struct pkt_event *e = new_event(&P);
            if (e == NULL) {
                r = oom(&P);
                break;
            }
            e->kind = EV_COMMAND;
            e->line = t->line;
            e->col = t->col;
            e->tt = P.nev == 1 ? PT_ABS : PT_REL;
            e->t_us = 0;
            e->text = pkt_strndup(&s->arena, t->p, t->len);
            e->src = t->p - 1;
            e->src_len = t->len + 2;
            if (e->text == NULL)
                r = oom(&P);
            next(&P);
            continue;
        }
        if (t->kind == TK_OPTION) {
            r = perr(&P, t, "options must come before the first event");
            break;
        }
        if (!starts_event(t)) {
            char b[48];
            r = perr(&P, t, "expected an event time (0, +0.1, 1.5~2, *), found %s",
                     tok_desc(t, b));
            break;
        }
        r = parse_event(&P);
    }
    s->ev = P.ev;
    s->nev = P.nev;
    pkt_toks_free(&toks);
    if (r == P_ERR) {
        pkt_arena_free(&s->arena);
        memset(s, 0, sizeof *s);
        return -1;
    }
    return 0;
}

void pkt_script_free(struct pkt_script *s)
{
    pkt_arena_free(&s->arena);
    memset(s, 0, sizeof *s);
}
