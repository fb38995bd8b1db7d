/* glass CLI — output helpers shared by the subcommands: a growable text buffer, JSON string
 * escaping, and deterministic time formatting (no floating point, no wall clock). */
#ifndef GLASS_TOOLS_OUT_H
#define GLASS_TOOLS_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <glass/types.h>

#if defined(__GNUC__)
#define OUT_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define OUT_PRINTF(fmt, args)
#endif

/* A growable NUL-terminated string. On allocation failure it stops growing and sets oom. */
struct out_buf {
    char *p;
    size_t len, cap;
    bool oom;
};

void out_init(struct out_buf *b);
void out_free(struct out_buf *b);
void out_reset(struct out_buf *b);
void out_puts(struct out_buf *b, const char *s);
void out_putc(struct out_buf *b, char c);
void out_printf(struct out_buf *b, const char *fmt, ...) OUT_PRINTF(2, 3);
/* Append n spaces. */
void out_pad(struct out_buf *b, size_t n);
/* Append s as a JSON string literal, quotes included (RFC 8259 escaping; bytes >= 0x80 are
 * copied as they are, so valid UTF-8 stays valid). NULL gives null. */
void out_json_str(struct out_buf *b, const char *s);
/* Append at most max bytes of data as a C-like quoted string ("GET /\r\n"), for display. */
void out_quoted(struct out_buf *b, const void *data, size_t len, size_t max);
/* Write the buffer to f and empty it. */
void out_flush(struct out_buf *b, FILE *f);

/* Virtual time as seconds with three decimals ("12.345"), truncated to the millisecond.
 * buf must hold 32 bytes. */
const char *out_time(glass_time_t t, char buf[32]);

#endif
