/* glasstcp — the control protocol's replies (docs/control.md), shared by the event loop
 * (loop.c) and the loop-free answers about a stack (ctl_stack.c, glass_ctl_stack_answer()). */
#ifndef GLASS_LOOP_CTL_PRIV_H
#define GLASS_LOOP_CTL_PRIV_H

#include <glass/stack.h>
#include <glass/types.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define GLASS_CTL_REPLY_MAX (64u << 20) /* bytes one reply may grow to */

struct glass_loop_reply {
    char *p;
    size_t len, cap;
    bool oom;
};

void glass_ctl_vadd(struct glass_loop_reply *r, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void glass_ctl_add(struct glass_loop_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A JSON string literal (names, addresses, short messages). */
void glass_ctl_json_str(struct glass_loop_reply *r, const char *s);
/* Milliseconds with three decimals, from nanoseconds. */
void glass_ctl_ms(struct glass_loop_reply *r, glass_time_t ns);
/* The stack's own commands (conns, history ID, transitions, mib, drops): 0 if cmd is one of
 * them (the answer appended to r), -1 if not. start: the time t_ms counts from. */
int glass_ctl_stack_reply(struct glass_stack *st, glass_time_t start, const char *cmd,
                          const char *args, struct glass_loop_reply *r);
/* A reply that appends to buf (malloc'd, len bytes, NUL-terminated; NULL and 0 at first), and
 * handing it back: 0 with *buf and *len set (an empty answer is ""), or -GLASS_ENOMEM (*buf
 * freed). For the answers given without a control socket (glass_ctl_stack_answer(),
 * glass_loop_answer()). */
struct glass_loop_reply glass_ctl_reply_on(char *buf, size_t len);
int glass_ctl_reply_take(struct glass_loop_reply *r, char **buf, size_t *len);

#endif
