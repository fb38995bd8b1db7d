/* glass pkt — the lexer of packetdrill's script language.
 *
 * Whitespace and newlines separate tokens and mean nothing else (the grammar is not
 * line-based). Comments are C's and C++'s. Numbers follow packetdrill's lexer: "-1" is one
 * integer, "0.1" and ".1" are floats, "192.0.2.1" is an address, and "0...0.1" is an integer,
 * an ellipsis and a float. Every token keeps its line and column for error messages. */
#include "pkt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena --------------------------------------------------------------------------------- */

struct pkt_chunk {
    struct pkt_chunk *next;
    size_t used, cap;
    max_align_t data[]; /* cap bytes */
};

void *pkt_alloc(struct pkt_arena *a, size_t n)
{
    if (a->oom)
        return NULL;
    size_t align = sizeof(max_align_t);
    n = (n + align - 1) / align * align;
    if (n == 0)
        n = align;
    struct pkt_chunk *c = a->head;
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        c = malloc(sizeof *c + cap);
        if (c == NULL) {
            a->oom = true;
            return NULL;
        }
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

char *pkt_strndup(struct pkt_arena *a, const char *s, size_t n)
{
    char *p = pkt_alloc(a, n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void pkt_arena_free(struct pkt_arena *a)
{
    struct pkt_chunk *c = a->head;
    while (c != NULL) {
        struct pkt_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->oom = false;
}

/* ---- lexer --------------------------------------------------------------------------------- */

struct lexer {
    const char *s;
    size_t n, i;
    int line, col;
    char *err;
    size_t errcap;
};

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_word(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int peek(const struct lexer *L, size_t k)
{
    return L->i + k < L->n ? (unsigned char)L->s[L->i + k] : -1;
}

static void adv(struct lexer *L)
{
    if (L->i >= L->n)
        return;
    if (L->s[L->i] == '\n') {
        L->line++;
        L->col = 1;
    } else {
        L->col++;
    }
    L->i++;
}

static int lex_error(struct lexer *L, int line, int col, const char *msg)
{
    snprintf(L->err, L->errcap, "%d:%d: %s", line, col, msg);
    return -1;
}

static int push(struct pkt_toks *t, const struct pkt_tok *tok)
{
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 256;
        struct pkt_tok *nv = realloc(t->v, ncap * sizeof *nv);
        if (nv == NULL)
            return -1;
        t->v = nv;
        t->cap = ncap;
    }
    t->v[t->n++] = *tok;
    return 0;
}

void pkt_toks_free(struct pkt_toks *t)
{
    free(t->v);
    t->v = NULL;
    t->n = t->cap = 0;
}

/* Skip whitespace and comments. Returns 1 if anything was skipped, 0 if not, -1 on an
 * unterminated comment. */
static int skip_space(struct lexer *L)
{
    int skipped = 0;
    for (;;) {
        int c = peek(L, 0);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            adv(L);
            skipped = 1;
        } else if (c == '/' && peek(L, 1) == '/') {
            while (L->i < L->n && L->s[L->i] != '\n')
                adv(L);
            skipped = 1;
        } else if (c == '/' && peek(L, 1) == '*') {
            int line = L->line, col = L->col;
            adv(L);
            adv(L);
            for (;;) {
                if (L->i >= L->n)
                    return lex_error(L, line, col, "unterminated comment");
                if (L->s[L->i] == '*' && peek(L, 1) == '/') {
                    adv(L);
                    adv(L);
                    break;
                }
                adv(L);
            }
            skipped = 1;
        } else {
            return skipped;
        }
    }
}

/* A number, an address or a float, starting at a digit, or at '.' followed by a digit, or at
 * '-' followed by one of those. */
static int lex_number(struct lexer *L, struct pkt_tok *tok)
{
    size_t start = L->i;
    bool neg = false;
    if (peek(L, 0) == '-') {
        neg = true;
        adv(L);
    }
    if (peek(L, 0) == '0' && (peek(L, 1) == 'x' || peek(L, 1) == 'X') && is_hex(peek(L, 2)) &&
        !neg) {
        adv(L);
        adv(L);
        uint64_t v = 0;
        bool big = false;
        while (is_hex(peek(L, 0))) {
            int c = peek(L, 0);
            unsigned d = is_digit(c) ? (unsigned)(c - '0')
                                     : (unsigned)((c | 0x20) - 'a' + 10);
            if (v > (UINT64_C(1) << 59))
                big = true;
            v = v * 16u + d;
            adv(L);
        }
        if (is_word(peek(L, 0)))
            return lex_error(L, tok->line, tok->col, "malformed number");
        tok->kind = TK_INT;
        tok->ival = big ? 0 : (int64_t)v;
        tok->big = big;
        tok->p = L->s + start;
        tok->len = L->i - start;
        return 0;
    }
    int dots = 0;
    bool leading_dot = peek(L, 0) == '.';
    if (leading_dot)
        adv(L); /* ".5" */
    while (is_digit(peek(L, 0)))
        adv(L);
    if (leading_dot)
        dots = 1;
    while (peek(L, 0) == '.' && is_digit(peek(L, 1))) {
        adv(L);
        dots++;
        while (is_digit(peek(L, 0)))
            adv(L);
    }
    if (is_word(peek(L, 0)))
        return lex_error(L, tok->line, tok->col, "malformed number");
    tok->p = L->s + start;
    tok->len = L->i - start;
    if (dots == 0) {
        uint64_t v = 0;
        bool big = false;
        for (size_t k = neg ? 1 : 0; k < tok->len; k++) {
            if (v > UINT64_C(922337203685477579))
                big = true;
            v = v * 10u + (uint64_t)(tok->p[k] - '0');
        }
        if (v > (uint64_t)INT64_MAX)
            big = true;
        tok->kind = TK_INT;
        tok->big = big;
        tok->ival = big ? 0 : (neg ? -(int64_t)v : (int64_t)v);
        return 0;
    }
    if (dots == 1) {
        tok->kind = TK_FLOAT;
        return 0;
    }
    if (dots == 3 && !neg && !leading_dot) {
        tok->kind = TK_IPV4;
        return 0;
    }
    return lex_error(L, tok->line, tok->col, "malformed number");
}

/* A delimited token: "string", `command`, with backslash escapes skipped over. */
static int lex_quoted(struct lexer *L, struct pkt_tok *tok, char q, enum pkt_tok_kind kind)
{
    adv(L);
    size_t start = L->i;
    for (;;) {
        if (L->i >= L->n)
            return lex_error(L, tok->line, tok->col,
                             q == '"' ? "unterminated string" : "unterminated command");
        char c = L->s[L->i];
        if (c == '\\' && L->i + 1 < L->n) {
            adv(L);
            adv(L);
            continue;
        }
        if (c == q)
            break;
        adv(L);
    }
    tok->kind = kind;
    tok->p = L->s + start;
    tok->len = L->i - start;
    adv(L);
    return 0;
}

int pkt_lex(const char *src, size_t len, struct pkt_toks *out, char *err, size_t errcap)
{
    struct lexer L = {.s = src, .n = len, .i = 0, .line = 1, .col = 1, .err = err,
                      .errcap = errcap};
    out->v = NULL;
    out->n = out->cap = 0;
    for (;;) {
        int sk = skip_space(&L);
        if (sk < 0)
            goto fail;
        struct pkt_tok tok = {.line = L.line, .col = L.col, .p = src + L.i,
                              .space_before = sk > 0};
        int c = peek(&L, 0);
        if (c < 0) {
            tok.kind = TK_EOF;
            tok.len = 0;
            if (push(out, &tok) < 0)
                goto oom;
            return 0;
        }
        int r = 0;
        if (is_digit(c) || (c == '.' && is_digit(peek(&L, 1))) ||
            (c == '-' && (is_digit(peek(&L, 1)) ||
                          (peek(&L, 1) == '.' && is_digit(peek(&L, 2)))))) {
            r = lex_number(&L, &tok);
        } else if (c == '.' && peek(&L, 1) == '.' && peek(&L, 2) == '.') {
            adv(&L);
            adv(&L);
            adv(&L);
            tok.kind = TK_ELLIPSIS;
            tok.len = 3;
        } else if (c == '-' && peek(&L, 1) == '-' && is_word(peek(&L, 2))) {
            adv(&L);
            adv(&L);
            while (is_word(peek(&L, 0)))
                adv(&L);
            tok.kind = TK_OPTION;
            tok.len = (size_t)(src + L.i - tok.p);
        } else if (is_word(c)) {
            while (is_word(peek(&L, 0)))
                adv(&L);
            tok.kind = TK_WORD;
            tok.len = (size_t)(src + L.i - tok.p);
        } else if (c == '"') {
            r = lex_quoted(&L, &tok, '"', TK_STRING);
        } else if (c == '`') {
            r = lex_quoted(&L, &tok, '`', TK_BACKQ);
        } else if (c == '%' && peek(&L, 1) == '{') {
            adv(&L);
            adv(&L);
            size_t start = L.i;
            for (;;) {
                if (L.i >= L.n) {
                    r = lex_error(&L, tok.line, tok.col, "unterminated %{ code }% block");
                    break;
                }
                if (L.s[L.i] == '}' && peek(&L, 1) == '%') {
                    tok.kind = TK_CODE;
                    tok.p = src + start;
                    tok.len = L.i - start;
                    adv(&L);
                    adv(&L);
                    break;
                }
                adv(&L);
            }
        } else if (c >= 0x21 && c < 0x7f) {
            tok.kind = TK_PUNCT;
            tok.c = (char)c;
            tok.len = 1;
            adv(&L);
        } else {
            char msg[64];
            snprintf(msg, sizeof msg, "unexpected character 0x%02x", (unsigned)c);
            r = lex_error(&L, L.line, L.col, msg);
        }
        if (r < 0)
            goto fail;
        if (push(out, &tok) < 0)
            goto oom;
    }
oom:
    snprintf(err, errcap, "%d:%d: out of memory", L.line, L.col);
fail:
    pkt_toks_free(out);
    return -1;
}

int64_t pkt_time_us(const char *p, size_t len)
{
    size_t i = 0;
    int64_t sec = 0, frac = 0;
    int fdigits = 0;
    bool any = false;
    if (len == 0 || p[0] == '-')
        return -1;
    while (i < len && is_digit(p[i])) {
        if (sec > 100000000)
            return -1; /* more than three years of virtual time */
        sec = sec * 10 + (p[i] - '0');
        i++;
        any = true;
    }
    if (i < len && p[i] == '.') {
        i++;
        while (i < len && is_digit(p[i])) {
            if (fdigits < 6) {
                frac = frac * 10 + (p[i] - '0');
                fdigits++;
            }
            i++;
            any = true;
        }
    }
    if (i != len || !any)
        return -1;
    while (fdigits < 6) {
        frac *= 10;
        fdigits++;
    }
    return sec * 1000000 + frac;
}
