/* glass ss — the connections of a stack in iproute2 ss's layout and state spellings:
 *
 *   State  Recv-Q Send-Q Local Address:Port Peer Address:Port
 *
 * read from a running glass serve/connect through its control socket ("conns",
 * docs/control.md), from a snapshot saved with --save (--load FILE), or from a stack in this
 * process (glass sim --ss, glass demo --ss; glass_ss_for_stack()). As ss: connected sockets by
 * default (not LISTEN, not UNCONN), -l listening only, -a all, -o timers as timer:(on,200ms,0),
 * -e extended, -i internal TCP figures, filters (`state established`, `sport = :80`,
 * `dst 192.0.2.1:80`, joined by `and`). Beyond ss: --history (each connection's transitions
 * with causes and segments, tcpstates columns) and --diagnose (ss_diag.c). */
#define _GNU_SOURCE
#include "cmds.h"
#include "ctl_client.h"
#include "ss.h"
#include "tunapp.h"

#include <glass/config.h>
#include <glass/loop.h>
#include <glass/trace.h>
#include <glass/wire.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- formatting ----------------------------------------------------------------------------- */

/* iproute2's print_ms_timer: 355ms, 1.250ms (1 s 250 ms), 43sec, 2min5sec, 119min. */
static void ms_timer(unsigned long timeout, char *buf, size_t cap)
{
    unsigned long secs = timeout / 1000, minutes = secs / 60, msecs = timeout % 1000;
    size_t n = 0;
    buf[0] = '\0';
    secs %= 60;
    if (minutes) {
        msecs = 0;
        n += (size_t)snprintf(buf + n, cap - n, "%lumin", minutes);
        if (minutes > 9)
            secs = 0;
    }
    if (secs && n < cap) {
        if (secs > 9)
            msecs = 0;
        n += (size_t)snprintf(buf + n, cap - n, "%lu%s", secs, msecs ? "." : "sec");
    }
    if (msecs && n < cap)
        snprintf(buf + n, cap - n, "%03lums", msecs);
}

/* A field of a conns object as a number (0 when absent or null). */
static double jnum(const char *obj, const char *key)
{
    char v[64];
    if (!glass_ctl_json_get(obj, key, v, sizeof v) || strcmp(v, "null") == 0)
        return 0.0;
    return strtod(v, NULL);
}

static bool jhas(const char *obj, const char *key)
{
    char v[64];
    return glass_ctl_json_get(obj, key, v, sizeof v) && strcmp(v, "null") != 0;
}

/* ---- sources -------------------------------------------------------------------------------- */

static char *ctl_query(void *ctx, const char *cmd, size_t *len)
{
    return glass_ctl_query((const char *)ctx, cmd, len);
}

/* A snapshot file: blocks "> COMMAND", the reply lines, ".". */
static char *file_query(void *ctx, const char *cmd, size_t *len)
{
    const char *text = ctx;
    size_t cl = strlen(cmd);
    for (const char *p = text; p != NULL && *p != '\0';) {
        const char *eol = strchr(p, '\n');
        size_t ll = eol != NULL ? (size_t)(eol - p) : strlen(p);
        if (ll == cl + 2 && p[0] == '>' && p[1] == ' ' && memcmp(p + 2, cmd, cl) == 0) {
            const char *body = eol != NULL ? eol + 1 : p + ll;
            const char *end = body;
            while (*end != '\0' && !(end[0] == '.' && (end[1] == '\n' || end[1] == '\0'))) {
                const char *nl = strchr(end, '\n');
                end = nl != NULL ? nl + 1 : end + strlen(end);
            }
            char *out = strndup(body, (size_t)(end - body));
            if (out != NULL)
                *len = strlen(out);
            return out;
        }
        p = eol != NULL ? eol + 1 : NULL;
    }
    /* Not in the snapshot: an empty answer (a snapshot of a stack with no such data). */
    char *out = strdup("");
    *len = 0;
    return out;
}

struct stack_src {
    struct glass_stack *st;
    glass_time_t start;
};

static char *stack_query(void *ctx, const char *cmd, size_t *len)
{
    const struct stack_src *s = ctx;
    char *buf = NULL;
    *len = 0;
    char verb[32];
    const char *sp = strchr(cmd, ' ');
    size_t vl = sp != NULL ? (size_t)(sp - cmd) : strlen(cmd);
    if (vl >= sizeof verb) {
        errno = EINVAL;
        return NULL;
    }
    memcpy(verb, cmd, vl);
    verb[vl] = '\0';
    int rc = glass_ctl_stack_answer(s->st, s->start, verb, sp != NULL ? sp + 1 : "", &buf, len);
    if (rc == -1) {
        if (asprintf(&buf, "{\"error\":\"unknown command %s\"}\n", verb) < 0)
            buf = NULL;
        *len = buf != NULL ? strlen(buf) : 0;
        return buf;
    }
    if (rc < 0) {
        errno = ENOMEM;
        return NULL;
    }
    return buf;
}

/* Split a reply into its lines (in place), up to the "." line; errors go to stderr. */
static char **reply_lines(char *reply, size_t *n, bool *had_error)
{
    size_t cap = 16;
    char **v = malloc(cap * sizeof *v);
    *n = 0;
    if (v == NULL)
        return NULL;
    for (char *save = NULL, *line = strtok_r(reply, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        if (strcmp(line, ".") == 0)
            break;
        char err[256];
        if (glass_ctl_json_get(line, "error", err, sizeof err) && strcmp(err, "null") != 0 &&
            !jhas(line, "id")) {
            fprintf(stderr, "glass ss: %s\n", err);
            *had_error = true;
            continue;
        }
        if (*n == cap) {
            char **nv = realloc(v, 2 * cap * sizeof *v);
            if (nv == NULL)
                break;
            v = nv;
            cap *= 2;
        }
        v[(*n)++] = line;
    }
    return v;
}

/* ---- filters (ss-filter(8) subset) ----------------------------------------------------------- */

enum f_kind { F_SPORT, F_DPORT, F_SRC, F_DST };
enum f_op { OP_EQ, OP_NE, OP_LT, OP_GT, OP_LE, OP_GE };

struct f_term {
    enum f_kind kind;
    enum f_op op;
    uint16_t port;     /* 0 = any (a "*" or none given) */
    uint32_t addr;     /* F_SRC/F_DST */
    uint32_t mask;     /* prefix mask; 0 = any address */
};

#define F_MAX_TERMS 16

struct filter {
    uint32_t states; /* mask of enum glass_tcp_state; 0: the default (-l/-a) */
    struct f_term t[F_MAX_TERMS];
    size_t n;
};

static const uint32_t all_states = (1u << GLASS_TCP_NSTATES) - 1;

/* ss's state names and groups (ss(8) STATE-FILTER), then any spelling glass knows. */
static bool parse_state_word(const char *w, uint32_t *mask)
{
    const uint32_t sync = all_states & ~(GLASS_TCPF(CLOSED) | GLASS_TCPF(LISTEN) |
                                         GLASS_TCPF(SYN_SENT) | GLASS_TCPF(SYN_RCVD));
    static const struct {
        const char *name;
        uint32_t mask;
    } groups[] = {
        {"all", (1u << GLASS_TCP_NSTATES) - 1},
        {"connected", ((1u << GLASS_TCP_NSTATES) - 1) & ~(GLASS_TCPF(CLOSED) | GLASS_TCPF(LISTEN))},
        {"bucket", GLASS_TCPF(SYN_RCVD) | GLASS_TCPF(TIME_WAIT)},
        {"big", ((1u << GLASS_TCP_NSTATES) - 1) & ~(GLASS_TCPF(SYN_RCVD) | GLASS_TCPF(TIME_WAIT))},
        {"listening", GLASS_TCPF(LISTEN)},
        {"unconnected", GLASS_TCPF(CLOSED)},
        {"established", GLASS_TCPF(ESTABLISHED)},
    };
    if (strcasecmp(w, "synchronized") == 0) {
        *mask |= sync;
        return true;
    }
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        if (strcasecmp(w, groups[i].name) == 0) {
            *mask |= groups[i].mask;
            return true;
        }
    int s = glass_tcp_state_parse(w);
    if (s < 0)
        return false;
    *mask |= 1u << s;
    return true;
}

static bool parse_op(const char *w, enum f_op *op)
{
    static const struct {
        const char *s;
        enum f_op op;
    } ops[] = {{"=", OP_EQ}, {"==", OP_EQ}, {"eq", OP_EQ}, {"!=", OP_NE}, {"ne", OP_NE},
               {"neq", OP_NE}, {"<", OP_LT}, {"lt", OP_LT}, {">", OP_GT}, {"gt", OP_GT},
               {"<=", OP_LE}, {"le", OP_LE}, {">=", OP_GE}, {"ge", OP_GE}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(w, ops[i].s) == 0) {
            *op = ops[i].op;
            return true;
        }
    return false;
}

/* ":80", "80", "*" or ":*" */
static bool parse_port(const char *w, uint16_t *port)
{
    if (*w == ':')
        w++;
    if (strcmp(w, "*") == 0) {
        *port = 0;
        return true;
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(w, &end, 10);
    if (*w == '\0' || *end != '\0' || errno != 0 || v == 0 || v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

/* "192.0.2.1", "192.0.2.0/24", "192.0.2.1:80", "*:80", "*" */
static bool parse_hostport(const char *w, struct f_term *t)
{
    char buf[64];
    if (strlen(w) >= sizeof buf)
        return false;
    strcpy(buf, w);
    char *colon = strchr(buf, ':');
    t->port = 0;
    if (colon != NULL) {
        *colon = '\0';
        if (!parse_port(colon + 1, &t->port))
            return false;
    }
    if (strcmp(buf, "*") == 0 || buf[0] == '\0') {
        t->mask = 0;
        return true;
    }
    unsigned bits = 32;
    char *slash = strchr(buf, '/');
    if (slash != NULL) {
        char *end;
        unsigned long b = strtoul(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || b > 32)
            return false;
        bits = (unsigned)b;
        *slash = '\0';
    }
    if (glass_ip4_parse(buf, &t->addr) != 0)
        return false;
    t->mask = bits == 0 ? 0 : ~0u << (32 - bits);
    t->addr &= t->mask;
    return true;
}

/* Words of the filter: the arguments split at blanks, with operators split off ("sport=:80"). */
static size_t filter_words(int argc, char **argv, char words[][64], size_t max)
{
    size_t n = 0;
    for (int i = 0; i < argc; i++) {
        const char *p = argv[i];
        while (*p != '\0' && n < max) {
            while (isspace((unsigned char)*p))
                p++;
            if (*p == '\0')
                break;
            size_t k = 0;
            if (strchr("=!<>", *p) != NULL) {
                while (*p != '\0' && strchr("=!<>", *p) != NULL && k < 3)
                    words[n][k++] = *p++;
            } else {
                while (*p != '\0' && !isspace((unsigned char)*p) && strchr("=!<>", *p) == NULL &&
                       k < 63)
                    words[n][k++] = *p++;
            }
            words[n++][k] = '\0';
        }
    }
    return n;
}

/* Parse the filter; false with a message in err. */
static bool parse_filter(int argc, char **argv, struct filter *f, char *err, size_t errcap)
{
    char words[64][64];
    size_t n = filter_words(argc, argv, words, 64);
    memset(f, 0, sizeof *f);
    bool need_term = false;
    for (size_t i = 0; i < n;) {
        const char *w = words[i];
        if (strcmp(w, "and") == 0 || strcmp(w, "&&") == 0 || strcmp(w, "&") == 0) {
            if (i == 0 || need_term) {
                snprintf(err, errcap, "'%s' needs a condition on each side", w);
                return false;
            }
            need_term = true;
            i++;
            continue;
        }
        if (strcmp(w, "or") == 0 || strcmp(w, "||") == 0 || strcmp(w, "not") == 0 ||
            strcmp(w, "!") == 0 || strcmp(w, "(") == 0) {
            snprintf(err, errcap, "'%s' is not supported (conditions combine with 'and')", w);
            return false;
        }
        if (strcmp(w, "state") == 0) {
            if (i + 1 >= n || !parse_state_word(words[i + 1], &f->states)) {
                snprintf(err, errcap, "unknown state '%s'", i + 1 < n ? words[i + 1] : "");
                return false;
            }
            i += 2;
            need_term = false;
            continue;
        }
        if (f->n == F_MAX_TERMS) {
            snprintf(err, errcap, "more than %d conditions", F_MAX_TERMS);
            return false;
        }
        struct f_term *t = &f->t[f->n];
        memset(t, 0, sizeof *t);
        if (strcmp(w, "sport") == 0 || strcmp(w, "dport") == 0) {
            t->kind = w[0] == 's' ? F_SPORT : F_DPORT;
            if (i + 2 >= n || !parse_op(words[i + 1], &t->op)) {
                snprintf(err, errcap, "'%s' needs an operator and a port, as '%s = :80'", w, w);
                return false;
            }
            if (!parse_port(words[i + 2], &t->port) || t->port == 0) {
                snprintf(err, errcap, "bad port '%s' after '%s'", words[i + 2], w);
                return false;
            }
            i += 3;
        } else if (strcmp(w, "src") == 0 || strcmp(w, "dst") == 0) {
            t->kind = w[0] == 's' ? F_SRC : F_DST;
            size_t k = i + 1;
            t->op = OP_EQ;
            if (k < n && parse_op(words[k], &t->op))
                k++;
            if (t->op != OP_EQ && t->op != OP_NE) {
                snprintf(err, errcap, "'%s' takes = or != only", w);
                return false;
            }
            if (k >= n || !parse_hostport(words[k], t)) {
                snprintf(err, errcap, "bad address '%s' after '%s' (A.B.C.D[/N][:PORT])",
                         k < n ? words[k] : "", w);
                return false;
            }
            i = k + 1;
        } else {
            snprintf(err, errcap, "unknown condition '%s' (state, sport, dport, src, dst, and)", w);
            return false;
        }
        f->n++;
        need_term = false;
    }
    if (need_term) {
        snprintf(err, errcap, "the filter ends with 'and'");
        return false;
    }
    return true;
}

static bool cmp_op(enum f_op op, long a, long b)
{
    switch (op) {
    case OP_EQ:
        return a == b;
    case OP_NE:
        return a != b;
    case OP_LT:
        return a < b;
    case OP_GT:
        return a > b;
    case OP_LE:
        return a <= b;
    case OP_GE:
        return a >= b;
    }
    return false;
}

/* "192.0.2.1:80" or "0.0.0.0:*" into address and port (0 for *). */
static bool split_ep(const char *s, uint32_t *addr, uint16_t *port)
{
    char buf[48];
    snprintf(buf, sizeof buf, "%s", s);
    char *c = strrchr(buf, ':');
    if (c == NULL)
        return false;
    *c = '\0';
    *port = strcmp(c + 1, "*") == 0 ? 0 : (uint16_t)strtoul(c + 1, NULL, 10);
    return glass_ip4_parse(buf, addr) == 0;
}

static bool term_match(const struct f_term *t, uint32_t la, uint16_t lp, uint32_t ra, uint16_t rp)
{
    switch (t->kind) {
    case F_SPORT:
        return cmp_op(t->op, lp, t->port);
    case F_DPORT:
        return cmp_op(t->op, rp, t->port);
    case F_SRC:
    case F_DST: {
        uint32_t a = t->kind == F_SRC ? la : ra;
        uint16_t p = t->kind == F_SRC ? lp : rp;
        bool m = (a & t->mask) == t->addr && (t->port == 0 || p == t->port);
        return t->op == OP_EQ ? m : !m;
    }
    }
    return false;
}

static bool row_match(const struct filter *f, uint32_t default_states, const char *row)
{
    char st[32] = "", lb[48] = "", rb[48] = "";
    glass_ctl_json_get(row, "state", st, sizeof st);
    int s = glass_tcp_state_parse(st);
    uint32_t states = f->states != 0 ? f->states : default_states;
    if (s < 0 || !(states & (1u << s)))
        return false;
    glass_ctl_json_get(row, "local", lb, sizeof lb);
    glass_ctl_json_get(row, "peer", rb, sizeof rb);
    uint32_t la = 0, ra = 0;
    uint16_t lp = 0, rp = 0;
    split_ep(lb, &la, &lp);
    split_ep(rb, &ra, &rp);
    for (size_t i = 0; i < f->n; i++)
        if (!term_match(&f->t[i], la, lp, ra, rp))
            return false;
    return true;
}

/* ---- output --------------------------------------------------------------------------------- */

struct ss_opts {
    bool listening, all, timers, extended, info, header, json, history, diagnose, summary;
    double age_s;
    const char *save;
};

/* ss -i: "wscale:7,7 rto:204 rtt:0.033/0.016 mss:1460 ..." as iproute2's tcp_show_info. */
static void info_line(const char *row, char *buf, size_t cap)
{
    size_t n = 0;
    char ws[16] = "";
    glass_ctl_json_get(row, "wscale", ws, sizeof ws);
    double mss = jnum(row, "mss");
    double cwnd = jnum(row, "cwnd"), ssth = jnum(row, "ssthresh");
#define ADD(...)                                                                                  \
    do {                                                                                          \
        if (n < cap)                                                                              \
            n += (size_t)snprintf(buf + n, cap - n, __VA_ARGS__);                                 \
    } while (0)
    ADD("\t wscale:%s rto:%g rtt:%g/%g mss:%.0f rcvmss:%.0f cwnd:%.0f", ws, jnum(row, "rto_ms"),
        jnum(row, "rtt_ms"), jnum(row, "rttvar_ms"), mss, jnum(row, "rcv_mss"),
        mss > 0 ? cwnd / mss : 0.0);
    if (mss > 0 && ssth > 0 && ssth < (double)(1u << 30))
        ADD(" ssthresh:%.0f", ssth / mss);
    ADD(" bytes_acked:%.0f bytes_received:%.0f segs_out:%.0f segs_in:%.0f",
        jnum(row, "bytes_acked"), jnum(row, "bytes_received"), jnum(row, "segs_out"),
        jnum(row, "segs_in"));
    if (jhas(row, "lastsnd_ms"))
        ADD(" lastsnd:%.0f", jnum(row, "lastsnd_ms"));
    if (jhas(row, "lastrcv_ms"))
        ADD(" lastrcv:%.0f", jnum(row, "lastrcv_ms"));
    if (jnum(row, "retrans") > 0 || jnum(row, "retrans_total") > 0)
        ADD(" retrans:%.0f/%.0f", jnum(row, "retrans"), jnum(row, "retrans_total"));
    ADD(" snd_wnd:%.0f rcv_wnd:%.0f", jnum(row, "snd_wnd"), jnum(row, "rcv_wnd"));
    char ca[16] = "", e[32] = "";
    if (glass_ctl_json_get(row, "ca_state", ca, sizeof ca) && strcmp(ca, "open") != 0)
        ADD(" ca:%s", ca);
    if (glass_ctl_json_get(row, "error", e, sizeof e) && strcmp(e, "null") != 0)
        ADD(" error:%s", e);
#undef ADD
}

/* ss -o / -e: " timer:(timewait,59sec,0)" and, with -e, " cid:4 fd:3 since:812ms orphan". */
static void opt_fields(const char *row, const struct ss_opts *o, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    char tname[32] = "";
    if ((o->timers || o->extended) && glass_ctl_json_get(row, "timer", tname, sizeof tname) &&
        strcmp(tname, "null") != 0) {
        char t[32];
        ms_timer((unsigned long)jnum(row, "timer_ms"), t, sizeof t);
        n += (size_t)snprintf(buf + n, cap - n, " timer:(%.12s,%s,%.0f)", tname, t,
                              jnum(row, "retrans"));
    }
    if (o->extended && n < cap) {
        n += (size_t)snprintf(buf + n, cap - n, " cid:%.0f fd:%.0f since:%.3fs%s", jnum(row, "id"),
                              jnum(row, "fd"), jnum(row, "since_ms") / 1000.0,
                              strstr(row, "\"orphan\":true") ? " orphan" : "");
        if (jhas(row, "synq") && n < cap)
            snprintf(buf + n, cap - n, " synq:%.0f", jnum(row, "synq"));
    }
}

/* bcc tcpstates' spelling of a state. */
static const char *bcc_state(const char *canon)
{
    static const char *const map[][2] = {
        {"CLOSED", "CLOSE"},          {"SYN_RCVD", "SYN_RECV"},   {"FIN_WAIT_1", "FIN_WAIT1"},
        {"FIN_WAIT_2", "FIN_WAIT2"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(canon, map[i][0]) == 0)
            return map[i][1];
    return canon;
}

/* --history: one connection's transitions, tcpstates columns plus cause and segment. */
static void print_history(const struct ss_source *src, const char *row, bool json, bool *err)
{
    char cmd[48], lb[48] = "", rb[48] = "";
    snprintf(cmd, sizeof cmd, "history %.0f", jnum(row, "id"));
    glass_ctl_json_get(row, "local", lb, sizeof lb);
    glass_ctl_json_get(row, "peer", rb, sizeof rb);
    size_t len = 0;
    char *reply = src->query(src->ctx, cmd, &len);
    if (reply == NULL) {
        fprintf(stderr, "glass ss: %s: %s\n", cmd, strerror(errno));
        *err = true;
        return;
    }
    size_t n = 0;
    char **lines = reply_lines(reply, &n, err);
    uint32_t la = 0, ra = 0;
    uint16_t lp = 0, rp = 0;
    split_ep(lb, &la, &lp);
    split_ep(rb, &ra, &rp);
    char las[16], ras[16];
    glass_ip4_str(la, las);
    glass_ip4_str(ra, ras);
    double prev = -1;
    for (size_t i = 0; lines != NULL && i < n; i++) {
        const char *t = lines[i];
        if (json) {
            printf("%s\n", t);
            continue;
        }
        char from[32] = "", to[32] = "", cause[32] = "", fl[16] = "";
        glass_ctl_json_get(t, "from", from, sizeof from);
        glass_ctl_json_get(t, "to", to, sizeof to);
        glass_ctl_json_get(t, "cause", cause, sizeof cause);
        double at = jnum(t, "t_ms");
        char seg[96] = "-";
        if (glass_ctl_json_get(t, "flags", fl, sizeof fl))
            snprintf(seg, sizeof seg, "%s seq=%.0f ack=%.0f len=%.0f", fl, jnum(t, "seq"),
                     jnum(t, "ack"), jnum(t, "len"));
        printf("  %-12.6f %-5.0f %-15s %-5u %-15s %-5u %-11s -> %-11s %-10.3f %-18s %s\n",
               at / 1000.0, jnum(row, "id"), las, lp, ras, rp, bcc_state(from), bcc_state(to),
               prev < 0 ? 0.0 : at - prev, cause, seg);
        prev = at;
    }
    free(lines);
    free(reply);
}

static void print_table(char **rows, size_t n, const struct ss_opts *o, const struct ss_source *src,
                        bool *err)
{
    static const char *const hdr[5] = {"State", "Recv-Q", "Send-Q", "Local Address:Port",
                                       "Peer Address:Port"};
    static const char *const keys[5] = {"ss_state", "recv_q", "send_q", "local", "peer"};
    size_t w[5];
    for (int k = 0; k < 5; k++)
        w[k] = strlen(hdr[k]);
    char(*cells)[5][48] = calloc(n ? n : 1, sizeof *cells);
    if (cells == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 5; k++) {
            glass_ctl_json_get(rows[i], keys[k], cells[i][k], sizeof cells[i][k]);
            if (strlen(cells[i][k]) > w[k])
                w[k] = strlen(cells[i][k]);
        }
    if (o->header)
        printf("%-*s %-*s %-*s %*s %*s\n", (int)w[0], hdr[0], (int)w[1], hdr[1], (int)w[2], hdr[2],
               (int)w[3], hdr[3], (int)w[4], hdr[4]);
    for (size_t i = 0; i < n; i++) {
        char extra[256];
        opt_fields(rows[i], o, extra, sizeof extra);
        printf("%-*s %-*s %-*s %*s %*s%s\n", (int)w[0], cells[i][0], (int)w[1], cells[i][1],
               (int)w[2], cells[i][2], (int)w[3], cells[i][3], (int)w[4], cells[i][4], extra);
        char st[32] = "";
        glass_ctl_json_get(rows[i], "state", st, sizeof st);
        char twr[8] = "";
        glass_ctl_json_get(rows[i], "tw_record", twr, sizeof twr);
        if (o->info && strcmp(st, "LISTEN") != 0 && strcmp(twr, "true") != 0) {
            char line[512];
            info_line(rows[i], line, sizeof line);
            printf("%s\n", line);
        }
        if (o->history) {
            printf("  %-12s %-5s %-15s %-5s %-15s %-5s %-11s    %-11s %-10s %-18s %s\n",
                   "TIME(s)", "CID", "LADDR", "LPORT", "RADDR", "RPORT", "OLDSTATE", "NEWSTATE",
                   "MS", "CAUSE", "SEGMENT");
            print_history(src, rows[i], false, err);
        }
    }
    free(cells);
}

/* ss -s: "TCP:   N (estab N, closed N, orphaned N, timewait N)". */
static void print_summary(char **all, size_t n, const struct ss_source *src)
{
    size_t estab = 0, closed = 0, orphan = 0, tw = 0, listen = 0;
    for (size_t i = 0; i < n; i++) {
        char st[32] = "";
        glass_ctl_json_get(all[i], "state", st, sizeof st);
        estab += strcmp(st, "ESTABLISHED") == 0;
        closed += strcmp(st, "CLOSED") == 0;
        tw += strcmp(st, "TIME_WAIT") == 0;
        listen += strcmp(st, "LISTEN") == 0;
        orphan += strstr(all[i], "\"orphan\":true") != NULL;
    }
    printf("TCP:   %zu (estab %zu, closed %zu, orphaned %zu, timewait %zu)\n", n, estab, closed,
           orphan, tw);
    size_t len = 0;
    char *info = src->query(src->ctx, "config", &len);
    char prof[16] = "?";
    if (info != NULL)
        glass_ctl_json_get(info, "profile", prof, sizeof prof);
    printf("listening %zu, timer profile %s\n\n", listen, prof);
    free(info);
}

/* --save: every answer glass ss may need, in the snapshot format --load reads. */
static bool save_snapshot(const char *path, const struct ss_source *src, char **all, size_t n)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "glass ss: cannot write %s: %s\n", path, strerror(errno));
        return false;
    }
    fprintf(f, "# glass ss snapshot (docs/control.md): '> COMMAND', the reply, '.'\n");
    const char *cmds[] = {"info", "config", "conns", "mib", "drops", "transitions"};
    bool ok = true;
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0] + n && ok; i++) {
        char cmd[48];
        if (i < sizeof cmds / sizeof cmds[0])
            snprintf(cmd, sizeof cmd, "%s", cmds[i]);
        else
            snprintf(cmd, sizeof cmd, "history %.0f", jnum(all[i - sizeof cmds / sizeof cmds[0]], "id"));
        size_t len = 0;
        char *r = src->query(src->ctx, cmd, &len);
        if (r == NULL) {
            ok = false;
            break;
        }
        /* The reply without its "." line, then one "." line. */
        size_t l = strlen(r);
        if (l >= 2 && strcmp(r + l - 2, ".\n") == 0 && (l == 2 || r[l - 3] == '\n'))
            r[l - 2] = '\0';
        fprintf(f, "> %s\n%s.\n", cmd, r);
        free(r);
    }
    if (fclose(f) != 0)
        ok = false;
    if (!ok)
        fprintf(stderr, "glass ss: writing %s failed\n", path);
    return ok;
}

static void ss_usage(FILE *f)
{
    fprintf(f,
            "usage: glass ss [-t] [-l | -a] [-n] [-o] [-e] [-i] [-s] [-H] [--history] [--json]\n"
            "                [--diagnose [--age S]] [--save FILE]\n"
            "                [--tun NAME | --ctl PATH | --load FILE] [FILTER]\n\n"
            "The connections of a running glass serve/connect (read through its control socket)\n"
            "or of a saved snapshot, in iproute2 ss's layout and state names (ESTAB, SYN-RECV, ...).\n"
            "glass sim --ss and glass demo --ss show a simulation's stacks the same way.\n\n"
            "  -l, --listening  listening sockets only\n"
            "  -a, --all        every socket (default: connected ones, as ss)\n"
            "  -o, --options    timers, as timer:(on,200ms,0)\n"
            "  -e, --extended   timers, connection id, socket handle, time in state, orphan\n"
            "  -i, --info       rtt/rttvar, rto, cwnd, ssthresh, mss, bytes, lastsnd/lastrcv ...\n"
            "  -s, --summary    a totals line first, as ss -s (and the timer profile)\n"
            "  -H, --no-header  no header line\n"
            "  -t, -n           accepted for ss compatibility (TCP only, always numeric)\n"
            "  --history        each connection's transitions: time, state change, time spent in\n"
            "                   the old state (ms), cause and the segment that caused it\n"
            "  --diagnose       explain connections in states that usually mean a fault\n"
            "                   (docs/troubleshooting.md); --age S: how long a state must be held\n"
            "                   to count (default 1 s)\n"
            "  --json           the control socket's JSON objects\n"
            "  --save FILE      also write a snapshot that --load FILE reads back later\n"
            "  --tun NAME       the stack on TUN device NAME (default: the only one running)\n"
            "  --ctl PATH       the control socket to read\n"
            "  --load FILE      read a snapshot written by --save instead of a running stack\n\n"
            "FILTER (ss-filter(8) subset), conditions joined by 'and' (or nothing):\n"
            "  state NAME       any spelling (established, time-wait, SYN_RCVD, ...) or group\n"
            "                   (all, connected, synchronized, bucket, big); repeat to allow several\n"
            "  sport OP :PORT   dport OP :PORT   OP: = != < > <= >= (eq ne lt gt le ge)\n"
            "  src A.B.C.D[/N][:PORT]   dst A.B.C.D[/N][:PORT]\n\n"
            "Exit status: 0 ok, 1 the stack or snapshot could not be read, 2 usage error (a bad\n"
            "option or filter).\n");
}

enum { OPT_JSON = 256, OPT_TUN, OPT_CTL, OPT_LOAD, OPT_SAVE, OPT_HISTORY, OPT_DIAG, OPT_AGE };

static const struct option ss_longopts[] = {
    {"listening", no_argument, NULL, 'l'}, {"all", no_argument, NULL, 'a'},
    {"options", no_argument, NULL, 'o'},   {"extended", no_argument, NULL, 'e'},
    {"info", no_argument, NULL, 'i'},      {"summary", no_argument, NULL, 's'},
    {"no-header", no_argument, NULL, 'H'}, {"numeric", no_argument, NULL, 'n'},
    {"tcp", no_argument, NULL, 't'},       {"json", no_argument, NULL, OPT_JSON},
    {"tun", required_argument, NULL, OPT_TUN}, {"ctl", required_argument, NULL, OPT_CTL},
    {"load", required_argument, NULL, OPT_LOAD}, {"save", required_argument, NULL, OPT_SAVE},
    {"history", no_argument, NULL, OPT_HISTORY}, {"diagnose", no_argument, NULL, OPT_DIAG},
    {"age", required_argument, NULL, OPT_AGE}, {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct src_opts {
    const char *tun, *ctl, *load;
};

/* Parse argv; returns -1 to go on, else an exit status. */
static int parse_ss_args(int argc, char **argv, struct ss_opts *o, struct src_opts *so)
{
    memset(o, 0, sizeof *o);
    o->header = true;
    o->age_s = 1.0;
    opterr = 0;
    optind = 1;
    int c;
    /* Options may come before or after the filter, as in ss (getopt permutes). */
    while ((c = getopt_long(argc, argv, ":laoeisHnth", ss_longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            o->listening = true;
            break;
        case 'a':
            o->all = true;
            break;
        case 'o':
            o->timers = true;
            break;
        case 'e':
            o->extended = true;
            break;
        case 'i':
            o->info = true;
            break;
        case 's':
            o->summary = true;
            break;
        case 'H':
            o->header = false;
            break;
        case 'n':
        case 't':
            break;
        case OPT_JSON:
            o->json = true;
            break;
        case OPT_HISTORY:
            o->history = true;
            break;
        case OPT_DIAG:
            o->diagnose = true;
            break;
        case OPT_AGE: {
            char *end;
            o->age_s = strtod(optarg, &end);
            if (*optarg == '\0' || *end != '\0' || !(o->age_s >= 0 && o->age_s < 1e9)) {
                fprintf(stderr, "glass ss: bad --age '%s' (seconds, >= 0)\n", optarg);
                return GLASS_EXIT_USAGE;
            }
            break;
        }
        case OPT_SAVE:
            o->save = optarg;
            break;
        case OPT_TUN:
        case OPT_CTL:
        case OPT_LOAD:
            if (so == NULL) {
                fprintf(stderr, "glass ss: %s does not apply here\n", argv[optind - 1]);
                return GLASS_EXIT_USAGE;
            }
            *(c == OPT_TUN ? &so->tun : c == OPT_CTL ? &so->ctl : &so->load) = optarg;
            break;
        case 'h':
            ss_usage(stdout);
            return GLASS_EXIT_OK;
        case ':':
            fprintf(stderr, "glass ss: option '%s' needs an argument\n", argv[optind - 1]);
            return GLASS_EXIT_USAGE;
        default:
            fprintf(stderr, "glass ss: unknown option '%s'; see 'glass ss --help'\n",
                    argv[optind - 1]);
            return GLASS_EXIT_USAGE;
        }
    }
    return -1;
}

static int run_parsed(const struct ss_opts *o, int nfilt, char **filt, const struct ss_source *src)
{
    struct filter f;
    char ferr[160];
    if (!parse_filter(nfilt, filt, &f, ferr, sizeof ferr)) {
        fprintf(stderr, "glass ss: bad filter: %s\n", ferr);
        return GLASS_EXIT_USAGE;
    }
    size_t len = 0;
    char *reply = src->query(src->ctx, "conns", &len);
    if (reply == NULL) {
        fprintf(stderr, "glass ss: cannot read the connections: %s (is glass serve/connect "
                        "running? see --ctl)\n",
                strerror(errno));
        return GLASS_EXIT_FAILED;
    }
    bool err = false;
    size_t nall = 0;
    char **all = reply_lines(reply, &nall, &err);
    if (all == NULL) {
        free(reply);
        fprintf(stderr, "glass ss: out of memory\n");
        return GLASS_EXIT_FAILED;
    }
    if (o->save != NULL && !save_snapshot(o->save, src, all, nall))
        err = true;
    uint32_t def = o->all         ? all_states
                   : o->listening ? GLASS_TCPF(LISTEN)
                                  : all_states & ~(GLASS_TCPF(LISTEN) | GLASS_TCPF(CLOSED));
    if (o->diagnose) /* every connection counts; the filter narrows what is looked at */
        def = all_states;
    char **rows = malloc((nall ? nall : 1) * sizeof *rows);
    size_t n = 0;
    for (size_t i = 0; rows != NULL && i < nall; i++)
        if (row_match(&f, def, all[i]))
            rows[n++] = all[i];
    if (rows != NULL) {
        if (o->summary && !o->json)
            print_summary(all, nall, src);
        if (o->diagnose) {
            glass_ss_diagnose(stdout, rows, n, src, (glass_time_t)(o->age_s * 1e9), o->json);
        } else if (o->json) {
            for (size_t i = 0; i < n; i++) {
                printf("%s\n", rows[i]);
                if (o->history)
                    print_history(src, rows[i], true, &err);
            }
        } else {
            print_table(rows, n, o, src, &err);
        }
    }
    free(rows);
    free(all);
    free(reply);
    return err ? GLASS_EXIT_FAILED : GLASS_EXIT_OK;
}

int glass_ss_run(int argc, char **argv, const struct ss_source *src)
{
    struct ss_opts o;
    int rc = parse_ss_args(argc, argv, &o, NULL);
    if (rc >= 0)
        return rc;
    return run_parsed(&o, argc - optind, argv + optind, src);
}

int glass_ss_for_stack(const char *label, struct glass_stack *st, glass_time_t start,
                       const char *args)
{
    char *copy = strdup(args != NULL ? args : "");
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)"ss";
    for (char *save = NULL, *w = copy != NULL ? strtok_r(copy, " \t", &save) : NULL;
         w != NULL && argc < 63; w = strtok_r(NULL, " \t", &save))
        argv[argc++] = w;
    argv[argc] = NULL;
    struct stack_src ss = {st, start};
    struct ss_source src = {stack_query, &ss};
    if (label != NULL)
        printf("%s:\n", label);
    fflush(stdout);
    int rc = glass_ss_run(argc, argv, &src);
    fflush(stdout);
    free(copy);
    return rc;
}

/* Read a whole file (a snapshot: text, no NUL bytes) with one getdelim(). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n = getdelim(&buf, &cap, '\0', f);
    bool bad = ferror(f) != 0;
    fclose(f);
    if (n < 0 && !bad) { /* an empty file */
        free(buf);
        return strdup("");
    }
    if (n < 0 || bad) {
        free(buf);
        return NULL;
    }
    return buf;
}

int glass_cmd_ss(int argc, char **argv)
{
    struct ss_opts o;
    struct src_opts so = {NULL, NULL, NULL};
    int rc = parse_ss_args(argc, argv, &o, &so);
    if (rc >= 0)
        return rc;
    if ((so.load != NULL) + (so.ctl != NULL) + (so.tun != NULL) > 1) {
        fprintf(stderr, "glass ss: choose one of --tun, --ctl and --load\n");
        return GLASS_EXIT_USAGE;
    }
    struct ss_source src;
    char pbuf[TUNAPP_CTL_MAX];
    char *text = NULL;
    if (so.load != NULL) {
        text = slurp(so.load);
        if (text == NULL) {
            fprintf(stderr, "glass ss: cannot read %s: %s\n", so.load, strerror(errno));
            return GLASS_EXIT_FAILED;
        }
        if (strncmp(text, "# glass ss snapshot", 19) != 0) {
            fprintf(stderr, "glass ss: %s is not a glass ss snapshot (see --save)\n", so.load);
            free(text);
            return GLASS_EXIT_FAILED;
        }
        src = (struct ss_source){file_query, text};
    } else {
        const char *path = so.ctl != NULL ? so.ctl : glass_ctl_find("ss", so.tun, pbuf);
        if (path == NULL)
            return GLASS_EXIT_FAILED;
        src = (struct ss_source){ctl_query, (void *)path};
    }
    rc = run_parsed(&o, argc - optind, argv + optind, &src);
    free(text);
    return rc;
}
