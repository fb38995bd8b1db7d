/* glass CLI — output helpers. See out.h. */
#include "out.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void out_init(struct out_buf *b)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->oom = false;
}

void out_free(struct out_buf *b)
{
    free(b->p);
    out_init(b);
}

void out_reset(struct out_buf *b)
{
    b->len = 0;
    if (b->p != NULL)
        b->p[0] = '\0';
}

static bool reserve(struct out_buf *b, size_t extra)
{
    if (b->oom)
        return false;
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t ncap = b->cap != 0 ? b->cap : 256;
    while (ncap < b->len + extra + 1)
        ncap *= 2;
    char *np = realloc(b->p, ncap);
    if (np == NULL) {
        b->oom = true;
        return false;
    }
    b->p = np;
    b->cap = ncap;
    return true;
}

static void append(struct out_buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void out_puts(struct out_buf *b, const char *s)
{
    append(b, s, strlen(s));
}

void out_putc(struct out_buf *b, char c)
{
    append(b, &c, 1);
}

void out_printf(struct out_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n < sizeof small) {
        append(b, small, (size_t)n);
    } else if (reserve(b, (size_t)n)) {
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void out_pad(struct out_buf *b, size_t n)
{
    while (n-- > 0)
        out_putc(b, ' ');
}

void out_json_str(struct out_buf *b, const char *s)
{
    if (s == NULL) {
        out_puts(b, "null");
        return;
    }
    out_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        switch (*p) {
        case '"':
            out_puts(b, "\\\"");
            break;
        case '\\':
            out_puts(b, "\\\\");
            break;
        case '\n':
            out_puts(b, "\\n");
            break;
        case '\r':
            out_puts(b, "\\r");
            break;
        case '\t':
            out_puts(b, "\\t");
            break;
        case '\b':
            out_puts(b, "\\b");
            break;
        case '\f':
            out_puts(b, "\\f");
            break;
        default:
            if (*p < 0x20)
                out_printf(b, "\\u%04x", (unsigned)*p);
            else
                out_putc(b, (char)*p);
            break;
        }
    }
    out_putc(b, '"');
}

void out_quoted(struct out_buf *b, const void *data, size_t len, size_t max)
{
    const unsigned char *p = data;
    size_t n = len < max ? len : max;
    out_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            out_putc(b, '\\');
            out_putc(b, (char)c);
        } else if (c == '\n') {
            out_puts(b, "\\n");
        } else if (c == '\r') {
            out_puts(b, "\\r");
        } else if (c == '\t') {
            out_puts(b, "\\t");
        } else if (c < 0x20 || c >= 0x7f) {
            out_printf(b, "\\x%02x", (unsigned)c);
        } else {
            out_putc(b, (char)c);
        }
    }
    out_putc(b, '"');
    if (len > max)
        out_puts(b, "...");
}

void out_flush(struct out_buf *b, FILE *f)
{
    if (b->len > 0)
        fwrite(b->p, 1, b->len, f);
    out_reset(b);
}

const char *out_time(glass_time_t t, char buf[32])
{
    uint64_t sec = t / GLASS_NSEC_PER_SEC;
    uint64_t ms = (t % GLASS_NSEC_PER_SEC) / GLASS_NSEC_PER_MSEC;
    snprintf(buf, 32, "%" PRIu64 ".%03" PRIu64, sec, ms);
    return buf;
}
