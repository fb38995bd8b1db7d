/* glasstcp — the control commands that need only a stack (docs/control.md): conns, history,
 * transitions, mib, drops, config. The event loop answers them on its control socket (loop.c); a
 * simulation or a test gets the same text from glass_ctl_stack_answer(), so `glass ss` reads
 * a live stack, a simulated one and a saved snapshot alike. */
#define _GNU_SOURCE
#include "core/core.h"
#include "loop/ctl_priv.h"

#include <glass/err.h>
#include <glass/info.h>
#include <glass/loop.h>
#include <glass/stats.h>
#include <glass/trace.h>
#include <glass/wire.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- replies ---------------------------------------------------------------------------------- */

static void reply_grow(struct glass_loop_reply *r, size_t need)
{
    if (r->oom || r->len + need + 1 <= r->cap)
        return;
    size_t cap = r->cap ? r->cap : 4096;
    while (cap < r->len + need + 1)
        cap *= 2;
    char *p = cap <= GLASS_CTL_REPLY_MAX ? realloc(r->p, cap) : NULL;
    if (p == NULL) {
        r->oom = true;
        return;
    }
    r->p = p;
    r->cap = cap;
}

void glass_ctl_vadd(struct glass_loop_reply *r, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    reply_grow(r, (size_t)n + 1);
    if (r->oom)
        return;
    vsnprintf(r->p + r->len, r->cap - r->len, fmt, ap);
    r->len += (size_t)n;
}

void glass_ctl_add(struct glass_loop_reply *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    glass_ctl_vadd(r, fmt, ap);
    va_end(ap);
}

/* A JSON string literal (the strings here are names, addresses and short messages). */
void glass_ctl_json_str(struct glass_loop_reply *r, const char *s)
{
    glass_ctl_add(r, "\"");
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            glass_ctl_add(r, "\\%c", c);
        else if (c < 0x20)
            glass_ctl_add(r, "\\u%04x", c);
        else
            glass_ctl_add(r, "%c", c);
    }
    glass_ctl_add(r, "\"");
}

/* Milliseconds with three decimals, from nanoseconds. */
void glass_ctl_ms(struct glass_loop_reply *r, glass_time_t ns)
{
    glass_ctl_add(r, "%" PRIu64 ".%03" PRIu64, ns / GLASS_NSEC_PER_MSEC, ns / 1000u % 1000u);
}

static const char *ep_str(const struct glass_endpoint *ep, char buf[32])
{
    char a[16];
    if (ep->addr == 0 && ep->port == 0)
        snprintf(buf, 32, "0.0.0.0:*");
    else if (ep->port == 0)
        snprintf(buf, 32, "%s:*", glass_ip4_str(ep->addr, a));
    else
        snprintf(buf, 32, "%s:%u", glass_ip4_str(ep->addr, a), ep->port);
    return buf;
}

/* ---- built-in control commands ------------------------------------------------------------ */
/* ---- the stack's commands ------------------------------------------------------------------- */

static const char *const ca_names[] = {"open", "disorder", "recovery", "loss"};

/* "ms since t" or null when t is 0 (never). */
static void ago(struct glass_loop_reply *r, const char *key, glass_time_t now, glass_time_t t)
{
    glass_ctl_add(r, ",\"%s\":", key);
    if (t == 0)
        glass_ctl_add(r, "null");
    else
        glass_ctl_ms(r, now > t ? now - t : 0);
}

/* The ss -i figures of a connection (added in issue 7; every older field is unchanged). */
static void conn_info_json(struct glass_loop_reply *r, const struct glass_conn_info *c,
                           glass_time_t now)
{
    const struct glass_tcp_info *i = &c->tcp;
    if (c->state == GLASS_TCP_LISTEN) {
        glass_ctl_add(r, ",\"synq\":%" PRIu32, c->synq_len);
        return;
    }
    if (c->tw_record) {
        /* A compact TIME_WAIT record keeps no figures (as Linux's ss shows none for a
         * tw socket). */
        glass_ctl_add(r, ",\"tw_record\":true");
        return;
    }
    glass_ctl_add(r, ",\"rtt_ms\":");
    glass_ctl_ms(r, (glass_time_t)i->rtt_us * 1000u);
    glass_ctl_add(r, ",\"rttvar_ms\":");
    glass_ctl_ms(r, (glass_time_t)i->rttvar_us * 1000u);
    glass_ctl_add(r, ",\"rto_ms\":");
    glass_ctl_ms(r, (glass_time_t)i->rto_us * 1000u);
    glass_ctl_add(r,
                  ",\"mss\":%" PRIu32 ",\"rcv_mss\":%" PRIu32 ",\"cwnd\":%" PRIu32
                  ",\"ssthresh\":%" PRIu32 ",\"snd_wnd\":%" PRIu32 ",\"rcv_wnd\":%" PRIu32
                  ",\"wscale\":\"%u,%u\",\"unacked\":%" PRIu32 ",\"retrans_total\":%" PRIu32
                  ",\"backoff\":%u,\"ca_state\":\"%s\"",
                  i->snd_mss, i->rcv_mss, i->snd_cwnd, i->snd_ssthresh, i->snd_wnd, i->rcv_wnd,
                  i->snd_wscale, i->rcv_wscale, i->unacked, i->total_retrans, i->backoff,
                  i->ca_state < 4 ? ca_names[i->ca_state] : "?");
    glass_ctl_add(r,
                  ",\"bytes_acked\":%" PRIu64 ",\"bytes_received\":%" PRIu64
                  ",\"segs_out\":%" PRIu64 ",\"segs_in\":%" PRIu64,
                  i->bytes_acked, i->bytes_received, i->segs_out, i->segs_in);
    ago(r, "lastsnd_ms", now, c->last_snd);
    ago(r, "lastrcv_ms", now, c->last_rcv);
    const char *e = i->last_error != 0 ? glass_errname(i->last_error) : NULL;
    if (e != NULL)
        glass_ctl_add(r, ",\"error\":\"%s\"", e);
    else
        glass_ctl_add(r, ",\"error\":null");
}

static void cmd_conns(struct glass_stack *st, struct glass_loop_reply *r)
{
    size_t n = glass_stack_conns(st, NULL, 0);
    struct glass_conn_info *ci = n ? calloc(n, sizeof *ci) : NULL;
    if (n && ci == NULL) {
        glass_ctl_add(r, "{\"error\":\"out of memory\"}\n");
        return;
    }
    n = glass_stack_conns(st, ci, n);
    glass_time_t now = glass_stack_now(st);
    for (size_t i = 0; i < n; i++) {
        char lb[32], rb[32];
        glass_ctl_add(r, "{\"id\":%" PRIu32 ",\"fd\":%d,\"state\":\"%s\",\"ss_state\":\"%s\",",
                      ci[i].conn_id, ci[i].fd, glass_tcp_state_name(ci[i].state),
                      glass_tcp_state_ss_name(ci[i].state));
        glass_ctl_add(r,
                      "\"local\":\"%s\",\"peer\":\"%s\",\"recv_q\":%" PRIu32
                      ",\"send_q\":%" PRIu32,
                      ep_str(&ci[i].local, lb), ep_str(&ci[i].remote, rb), ci[i].recv_q,
                      ci[i].send_q);
        glass_ctl_add(r, ",\"since_ms\":");
        glass_ctl_ms(r, now > ci[i].state_since ? now - ci[i].state_since : 0);
        if (ci[i].timer_at != GLASS_TIME_NEVER) {
            glass_ctl_add(r, ",\"timer\":\"%s\",\"timer_ms\":",
                          glass_timer_name(ci[i].timer_kind));
            glass_ctl_ms(r, ci[i].timer_at > now ? ci[i].timer_at - now : 0);
        } else {
            glass_ctl_add(r, ",\"timer\":null,\"timer_ms\":null");
        }
        glass_ctl_add(r, ",\"retrans\":%u,\"orphan\":%s", ci[i].retransmits,
                      ci[i].orphan ? "true" : "false");
        conn_info_json(r, &ci[i], now);
        glass_ctl_add(r, "}\n");
    }
    free(ci);
}

static void cmd_mib(struct glass_stack *st, struct glass_loop_reply *r)
{
    for (int m = 0; m < GLASS_MIB_COUNT; m++)
        glass_ctl_add(r, "{\"name\":\"%s\",\"value\":%" PRIu64 "}\n", glass_mib_name(m),
                      glass_stack_mib(st, m));
    for (int m = 0; m < GLASS_IPX_MIB_COUNT; m++)
        glass_ctl_add(r, "{\"name\":\"%s\",\"value\":%" PRIu64 "}\n", glass_ipx_mib_name(m),
                      glass_ipx_mib(st, m));
}

static void cmd_drops(struct glass_stack *st, struct glass_loop_reply *r)
{
    for (int d = 1; d < GLASS_DROP_COUNT; d++)
        glass_ctl_add(r, "{\"reason\":\"%s\",\"value\":%" PRIu64 "}\n", glass_drop_name(d),
                      glass_stack_drops(st, d));
}

static void transition_json(glass_time_t start, struct glass_loop_reply *r,
                            const struct glass_transition *t)
{
    glass_ctl_add(r, "{\"conn\":%" PRIu32 ",\"t_ms\":", t->conn);
    glass_ctl_ms(r, t->at > start ? t->at - start : 0);
    glass_ctl_add(r, ",\"from\":\"%s\",\"to\":\"%s\",\"cause\":\"%s\"",
                  glass_tcp_state_name(t->from), glass_tcp_state_name(t->to),
                  glass_tcp_cause_name(t->cause));
    if (t->has_seg) {
        char fl[9];
        glass_ctl_add(r,
                      ",\"seg\":{\"flags\":\"%s\",\"seq\":%" PRIu32 ",\"ack\":%" PRIu32
                      ",\"len\":%u}",
                      glass_tcp_flags_str(t->seg_flags, fl), t->seg_seq, t->seg_ack, t->seg_len);
    }
    glass_ctl_add(r, "}\n");
}

static void cmd_history(struct glass_stack *st, glass_time_t start, const char *args,
                        struct glass_loop_reply *r)
{
    char *end = NULL;
    errno = 0;
    unsigned long id = strtoul(args, &end, 10);
    if (args[0] == '\0' || errno != 0 || end == args || *end != '\0' || id > UINT32_MAX) {
        glass_ctl_add(r, "{\"error\":\"usage: history CONN_ID\"}\n");
        return;
    }
    size_t max = 4096;
    struct glass_transition *t = calloc(max, sizeof *t);
    if (t == NULL) {
        glass_ctl_add(r, "{\"error\":\"out of memory\"}\n");
        return;
    }
    long n = glass_conn_history(st, (uint32_t)id, t, max);
    if (n < 0)
        glass_ctl_add(r,
                      "{\"error\":\"no connection %lu (or its history has been overwritten)\"}\n",
                      id);
    for (long i = 0; i < n; i++)
        transition_json(start, r, &t[i]);
    free(t);
}

static void cmd_transitions(struct glass_stack *st, glass_time_t start, struct glass_loop_reply *r)
{
    size_t max = glass_stack_config(st)->trace_ring;
    struct glass_transition *t = max ? calloc(max, sizeof *t) : NULL;
    if (max && t == NULL) {
        glass_ctl_add(r, "{\"error\":\"out of memory\"}\n");
        return;
    }
    uint64_t dropped = 0;
    size_t n = max ? glass_stack_transitions(st, t, max, &dropped) : 0;
    for (size_t i = 0; i < n; i++)
        transition_json(start, r, &t[i]);
    free(t);
}

/* What the diagnoses quote: the timer profile and the limits it sets. */
static void cmd_config(struct glass_stack *st, glass_time_t start, struct glass_loop_reply *r)
{
    const struct glass_config *c = glass_stack_config(st);
    glass_ctl_add(r, "{\"profile\":\"%s\",\"time_wait_ms\":",
                  c->profile == GLASS_PROFILE_RFC ? "rfc" : "linux");
    glass_ctl_ms(r, 2 * c->msl);
    glass_ctl_add(r, ",\"fin_wait_2_ms\":");
    glass_ctl_ms(r, c->fin_wait_2_timeout);
    glass_ctl_add(r, ",\"rto_min_ms\":");
    glass_ctl_ms(r, c->rto_min);
    glass_ctl_add(r,
                  ",\"syn_retries\":%u,\"synack_retries\":%u,\"retries2\":%u,"
                  "\"ephemeral_ports\":%u,\"max_time_wait\":%" PRIu32 ",\"uptime_ms\":",
                  c->syn_retries, c->synack_retries, c->retries2,
                  (unsigned)(c->ephemeral_hi - c->ephemeral_lo + 1), c->max_time_wait);
    glass_time_t now = glass_stack_now(st);
    glass_ctl_ms(r, now > start ? now - start : 0);
    glass_ctl_add(r, "}\n");
}

int glass_ctl_stack_reply(struct glass_stack *st, glass_time_t start, const char *cmd,
                          const char *args, struct glass_loop_reply *r)
{
    if (strcmp(cmd, "conns") == 0)
        cmd_conns(st, r);
    else if (strcmp(cmd, "mib") == 0)
        cmd_mib(st, r);
    else if (strcmp(cmd, "drops") == 0)
        cmd_drops(st, r);
    else if (strcmp(cmd, "history") == 0)
        cmd_history(st, start, args, r);
    else if (strcmp(cmd, "transitions") == 0)
        cmd_transitions(st, start, r);
    else if (strcmp(cmd, "config") == 0)
        cmd_config(st, start, r);
    else
        return -1;
    return 0;
}

GLASS_API int glass_ctl_stack_answer(struct glass_stack *st, glass_time_t start, const char *cmd,
                                     const char *args, char **buf, size_t *len)
{
    struct glass_loop_reply r = glass_ctl_reply_on(*buf, *len);
    if (glass_ctl_stack_reply(st, start, cmd, args != NULL ? args : "", &r) < 0)
        return -1;
    return glass_ctl_reply_take(&r, buf, len);
}

struct glass_loop_reply glass_ctl_reply_on(char *buf, size_t len)
{
    return (struct glass_loop_reply){.p = buf, .len = len, .cap = buf != NULL ? len + 1 : 0};
}

int glass_ctl_reply_take(struct glass_loop_reply *rp, char **buf, size_t *len)
{
    struct glass_loop_reply r = *rp;
    if (r.oom) {
        free(r.p);
        *buf = NULL;
        *len = 0;
        return -GLASS_ENOMEM;
    }
    if (r.p == NULL) { /* an empty answer */
        r.p = malloc(1);
        if (r.p == NULL)
            return -GLASS_ENOMEM;
        r.p[0] = '\0';
    }
    *buf = r.p;
    *len = r.len;
    return 0;
}
