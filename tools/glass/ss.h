/* glass CLI — glass ss over any source of control-protocol answers (docs/control.md): a
 * running stack's control socket, a saved snapshot (--load), or a stack in this process (the
 * end state of glass sim / glass demo). */
#ifndef GLASS_TOOLS_SS_H
#define GLASS_TOOLS_SS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <glass/stack.h>

/* Answers one control command ("conns", "history 4", ...): the reply lines, malloc'd and
 * NUL-terminated, optionally ending with the "." line; NULL with errno set on failure. */
typedef char *(*ss_query_fn)(void *ctx, const char *cmd, size_t *len);

struct ss_source {
    ss_query_fn query;
    void *ctx;
};

/* glass ss with argv[0] = "ss" and the options of `glass ss --help` other than the source
 * options (--tun, --ctl, --load), against src. Returns the exit status. */
int glass_ss_run(int argc, char **argv, const struct ss_source *src);

/* `glass ss ARGS` (ARGS split at blanks, "" for none) against a stack in this process, t_ms
 * counted from start; the heading line "LABEL:" first when label is not NULL. */
int glass_ss_for_stack(const char *label, struct glass_stack *st, glass_time_t start,
                       const char *args);

/* Diagnoses (ss_diag.c): one finding a line on f, or "no problems found". The rows are the
 * "conns" objects; src is asked for history, mib, info and transitions as needed. json: one
 * object a line. Returns the number of findings. age_ns: how long a state must last to count
 * as held. */
size_t glass_ss_diagnose(FILE *f, char **rows, size_t nrows, const struct ss_source *src,
                         glass_time_t age_ns, bool json);

#endif
