/* glass sim — a bulk transfer between two stacks over the impaired simulated link.
 *
 *   glass sim --bytes N [--loss P] [--dup P] [--reorder P] [--corrupt P] [--delay MS]
 *             [--jitter MS] [--rate MBIT] [--queue PKTS] [--mss M] [--cc cubic|newreno]
 *             [--seed S] [--duplex] [--json] [--plot FILE.png|svg] [--quiet] [--trace] ...
 *   (see sim_usage() and docs/simulator.md for the rest: spikes, reader pace, retries)
 *
 * Two stacks, client 192.0.2.1 and server 192.0.2.2, on a glass_simnet in virtual time. The
 * client connects, sends N bytes of a pseudo-random stream (byte i is a function of the seed
 * and i alone, so both ends generate and check it in O(1) memory), shuts down its sending
 * side, reads until the server's FIN and closes; the server reads everything and closes after
 * EOF (with --duplex it sends N bytes of its own stream at the same time and shuts down when
 * done). The run ends when both connections are CLOSED, TIME_WAIT included. It is ok only if
 * every byte arrived exactly once, in order, intact, EOF came after the last byte, and both
 * ends reached CLOSED. Exit status 0 ok, 1 failed, 2 usage error.
 *
 * --plot draws the client -> server direction as a time-sequence (Stevens/tcptrace) graph
 * with gnuplot: data segments, retransmissions, segments the link dropped or corrupted, the
 * ACK line, the receive window's right edge, SACK blocks, and the client's cwnd.
 *
 * The transfer itself (stacks, stream, application calls and the checks of what is read) is
 * simdrive.c, which tests/sim/test_sim_soak.c runs too, so that its failures replay with this
 * command; this file adds the options, the captures, the plot, --trace and the report. */
#define _POSIX_C_SOURCE 200809L

#include "cmds.h"
#include "out.h"
#include "pcapw.h"
#include "simdrive.h"
#include "ss.h"

#include <glass/err.h>
#include <glass/info.h>
#include <glass/sim.h>
#include <glass/socket.h>
#include <glass/stack.h>
#include <glass/stats.h>
#include <glass/trace.h>
#include <glass/wire.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define SIM_DEFAULT_BUF (1u << 20)           /* socket buffers: 1 MiB ... */
#define SIM_DEFAULT_BUF_NODELAY (256u << 10) /* ... 256 KiB without delay or jitter */
#define PLOT_MAX_RECORDS 4000000u            /* records kept for --plot (beyond: truncated) */

/* ---- options ------------------------------------------------------------------------------- */

struct sim_opts {
    struct simdrive_opts drive; /* the transfer: link, stacks, application (simdrive.h) */
    bool bytes_set;
    bool json, quiet;
    const char *plot;
    bool plot_svg;
    const char *pcap;   /* write the client's view of the link here (--pcap) */
    const char *pcapng; /* the same as pcapng, each packet commented with both states */
    const char *ss;     /* --ss[=ARGS]: glass ss of both stacks (NULL: not asked) */
    double ss_at_ms;    /* --ss-at: when (virtual ms from the connect); < 0: at the end */
    double time_limit_s;
    bool trace; /* print every packet and transition (to stderr) */
};

/* ---- plot records -------------------------------------------------------------------------- */

enum seg_kind { SEG_DATA = 0, SEG_RETRANS, SEG_LOST, SEG_CORRUPT, SEG_KINDS };

struct seg_rec {
    uint64_t id; /* simnet packet id */
    double t;
    int64_t s, e; /* relative sequence range */
    uint8_t kind;
};

struct ack_rec {
    double t;
    int64_t ack, edge; /* relative ACK, right edge of the offered window */
};

struct sack_rec {
    double t;
    int64_t s, e;
};

struct cwnd_rec {
    double t;
    uint32_t cwnd, ssthresh;
};

#define VEC(T)                                                                                     \
    struct {                                                                                       \
        T *v;                                                                                      \
        size_t n, cap;                                                                             \
    }

struct plot_data {
    bool on;
    bool truncated;
    size_t records;
    bool have_iss;
    uint32_t iss;           /* client ISS (data sequence space) */
    int64_t snd_high;       /* highest relative sequence sent + 1 */
    int64_t ack_ref;        /* last relative ACK (for unwrapping) */
    bool syn_ws, synack_ws; /* window scale option seen on SYN / SYN,ACK */
    unsigned server_ws;     /* the server's shift */
    VEC(struct seg_rec) segs;
    VEC(struct ack_rec) acks;
    VEC(struct sack_rec) sacks;
    VEC(struct cwnd_rec) cwnds;
    double last_cwnd_t;
    uint32_t last_cwnd;
};

#define VEC_PUSH(pd, vec, val)                                                                     \
    do {                                                                                           \
        if ((pd)->records >= PLOT_MAX_RECORDS) {                                                   \
            (pd)->truncated = true;                                                                \
            break;                                                                                 \
        }                                                                                          \
        if ((vec).n == (vec).cap) {                                                                \
            size_t ncap_ = (vec).cap != 0 ? (vec).cap * 2 : 1024;                                  \
            void *np_ = realloc((vec).v, ncap_ * sizeof *(vec).v);                                 \
            if (np_ == NULL) {                                                                     \
                (pd)->truncated = true;                                                            \
                break;                                                                             \
            }                                                                                      \
            (vec).v = np_;                                                                         \
            (vec).cap = ncap_;                                                                     \
        }                                                                                          \
        (vec).v[(vec).n++] = (val);                                                                \
        (pd)->records++;                                                                           \
    } while (0)

/* ---- the run ------------------------------------------------------------------------------- */

struct sim_run {
    struct sim_opts *o;
    struct simdrive d; /* the network, the stacks and their application */
    bool failed;
    char why[256];
    struct plot_data plot;
    struct glass_pcapw *pcap;
    struct glass_pcapw *pcapng;
};

static void run_fail(struct sim_run *r, const char *fmt, ...) OUT_PRINTF(2, 3);
static void run_fail(struct sim_run *r, const char *fmt, ...)
{
    if (r->failed)
        return; /* keep the first reason */
    r->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
}

/* simdrive's failure hook: the first reason is the verdict. */
static void sim_fail(void *ctx, const char *msg)
{
    run_fail(ctx, "%s", msg);
}

static void pcapng_commit(struct sim_run *r);

/* simdrive's transition hook: the pcapng comments and --trace. */
static void sim_transition(void *ctx, const struct simdrive_side *sd,
                           const struct glass_transition *t)
{
    struct sim_run *r = ctx;
    /* A later change of state: the held packet's comment is due first. */
    if (glass_pcapw_holding(r->pcapng) && t->at > glass_pcapw_held_at(r->pcapng))
        pcapng_commit(r);
    if (r->o->trace)
        fprintf(stderr, "%12.6f %s: conn %" PRIu32 " %s -> %s (%s)\n",
                (double)(t->at - r->d.t0) / 1e9, simdrive_side_name(sd->idx), t->conn,
                glass_tcp_state_name(t->from), glass_tcp_state_name(t->to),
                glass_tcp_cause_name(t->cause));
}

/* ---- packet parsing for the plot ------------------------------------------------------------ */

struct tcp_view {
    uint32_t src, dst;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t win;
    uint32_t len; /* payload */
    bool ws_opt;
    unsigned ws;
    unsigned n_sack;
    uint32_t sack[4][2];
};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool parse_tcp(const uint8_t *p, size_t len, struct tcp_view *v)
{
    memset(v, 0, sizeof *v);
    if (len < 20 || (p[0] >> 4) != 4 || p[9] != 6)
        return false;
    size_t ihl = (size_t)(p[0] & 15) * 4;
    size_t tot = (size_t)p[2] << 8 | p[3];
    if (ihl < 20 || tot < ihl + 20 || tot > len)
        return false;
    v->src = be32(p + 12);
    v->dst = be32(p + 16);
    const uint8_t *t = p + ihl;
    size_t tlen = tot - ihl;
    size_t doff = (size_t)(t[12] >> 4) * 4;
    if (doff < 20 || doff > tlen)
        return false;
    v->seq = be32(t + 4);
    v->ack = be32(t + 8);
    v->flags = t[13];
    v->win = (uint16_t)(t[14] << 8 | t[15]);
    v->len = (uint32_t)(tlen - doff);
    for (size_t i = 20; i < doff;) {
        uint8_t kind = t[i];
        if (kind == 0)
            break;
        if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= doff || t[i + 1] < 2 || i + t[i + 1] > doff)
            break;
        uint8_t olen = t[i + 1];
        if (kind == 3 && olen == 3) {
            v->ws_opt = true;
            v->ws = t[i + 2] > 14 ? 14 : t[i + 2];
        } else if (kind == 5 && olen >= 10 && (olen - 2) % 8 == 0) {
            for (size_t b = 0; b < (size_t)(olen - 2) / 8 && v->n_sack < 4; b++) {
                v->sack[v->n_sack][0] = be32(t + i + 2 + 8 * b);
                v->sack[v->n_sack][1] = be32(t + i + 6 + 8 * b);
                v->n_sack++;
            }
        }
        i += olen;
    }
    return true;
}

/* A 32-bit sequence number as a 64-bit offset from the client's first data byte, taken
 * nearest to ref (transfers longer than 4 GiB wrap). */
static int64_t rel_seq(const struct plot_data *pd, uint32_t seq, int64_t ref)
{
    uint32_t rel32 = seq - pd->iss - 1u;
    return ref + (int32_t)(rel32 - (uint32_t)ref);
}

static double rel_time(const struct sim_run *r, glass_time_t t)
{
    return (double)(t - r->d.t0) / 1e9;
}

static void plot_cwnd_sample(struct sim_run *r, double t)
{
    struct plot_data *pd = &r->plot;
    struct simdrive_side *c = &r->d.side[SIMDRIVE_CLIENT];
    if (c->fd < 0)
        return;
    struct glass_tcp_info ti;
    if (glass_tcp_info(c->st, c->fd, &ti) < 0)
        return;
    if (ti.snd_cwnd == pd->last_cwnd && t - pd->last_cwnd_t < 0.001)
        return;
    pd->last_cwnd = ti.snd_cwnd;
    pd->last_cwnd_t = t;
    struct cwnd_rec cr = {.t = t, .cwnd = ti.snd_cwnd, .ssthresh = ti.snd_ssthresh};
    VEC_PUSH(pd, pd->cwnds, cr);
}

static struct seg_rec *seg_by_id(struct plot_data *pd, uint64_t id)
{
    size_t lo = 0, hi = pd->segs.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pd->segs.v[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < pd->segs.n && pd->segs.v[lo].id == id ? &pd->segs.v[lo] : NULL;
}

/* --trace: one line per packet event, "  12.345678 c>s SENT    <description> [flags]". */
static void trace_pkt(struct sim_run *r, const struct glass_sim_packet *p,
                      enum glass_sim_pkt_event what)
{
    static const char *const drops[] = {"", "filter", "loss", "queue", "link full", "no route"};
    char desc[256];
    glass_pkt_describe(p->data, p->len, desc, sizeof desc);
    glass_time_t now = glass_simnet_now(r->d.net);
    const char *ev = what == GLASS_SIM_SENT        ? "sent"
                     : what == GLASS_SIM_DELIVERED ? "recv"
                     : what == GLASS_SIM_DROPPED   ? "DROP"
                                                   : "held";
    int cnode = r->d.side[SIMDRIVE_CLIENT].node;
    fprintf(stderr, "%12.6f #%-6" PRIu64 " %s %-4s %s%s%s%s%s%s%s\n", (double)(now - r->d.t0) / 1e9,
            p->id, p->from == cnode ? "c>s" : "s>c", ev, desc,
            what == GLASS_SIM_DROPPED && p->drop < sizeof drops / sizeof drops[0] ? " [" : "",
            what == GLASS_SIM_DROPPED && p->drop < sizeof drops / sizeof drops[0] ? drops[p->drop]
                                                                                  : "",
            what == GLASS_SIM_DROPPED ? "]" : "", (p->flags & GLASS_SIM_PKT_DUP) ? " [dup]" : "",
            (p->flags & GLASS_SIM_PKT_CORRUPT) ? " [corrupt]" : "",
            (p->flags & GLASS_SIM_PKT_REORDERED) ? " [reordered]" : "");
}

static void pcapng_commit(struct sim_run *r)
{
    if (!glass_pcapw_holding(r->pcapng))
        return;
    char c[96];
    const char *st[SIMDRIVE_SIDES];
    for (int i = 0; i < SIMDRIVE_SIDES; i++) {
        const struct simdrive_side *sd = &r->d.side[i];
        /* Before accept() the server's connection is the newest one its stack has seen. */
        st[i] = simdrive_side_conn(sd) == NULL && sd->n_conns > 0
                    ? glass_tcp_state_name(sd->conns[sd->n_conns - 1].last)
                    : simdrive_side_state(sd);
    }
    snprintf(c, sizeof c, "client %s, server %s", st[SIMDRIVE_CLIENT], st[SIMDRIVE_SERVER]);
    glass_pcapw_commit(r->pcapng, c);
}

/* --ss: glass ss of both stacks now. */
static void sim_ss(struct sim_run *r, const struct sim_opts *o)
{
    for (int s = 0; s < SIMDRIVE_SIDES; s++) {
        char label[64];
        snprintf(label, sizeof label, "%s (t=%.3f s)", simdrive_side_name(s),
                 (double)(glass_simnet_now(r->d.net) - r->d.t0) / 1e9);
        glass_ss_for_stack(label, r->d.side[s].st, r->d.t0, o->ss);
    }
}

static void tap_fn(void *ctx, const struct glass_sim_packet *p, enum glass_sim_pkt_event what)
{
    struct sim_run *r = ctx;
    struct plot_data *pd = &r->plot;
    int cnode = r->d.side[SIMDRIVE_CLIENT].node, snode = r->d.side[SIMDRIVE_SERVER].node;
    if (r->o->trace)
        trace_pkt(r, p, what);
    /* --pcap: what tcpdump on the client's interface would see: every packet the client sends
     * (before the link loses it) and every packet delivered to it (as delivered). */
    if (r->pcap != NULL && ((what == GLASS_SIM_SENT && p->from == cnode) ||
                            (what == GLASS_SIM_DELIVERED && p->to == cnode)))
        glass_pcapw_write(r->pcap, what == GLASS_SIM_SENT ? p->sent_at : glass_simnet_now(r->d.net),
                          p->data, p->len);
    /* --pcapng: the same packets, each commented with both states just after it: as they are
     * at the next event of the link (any packet sent, delivered or dropped), or at the end. */
    if (r->pcapng != NULL) {
        pcapng_commit(r);
        if ((what == GLASS_SIM_SENT && p->from == cnode) ||
            (what == GLASS_SIM_DELIVERED && p->to == cnode))
            glass_pcapw_hold(r->pcapng,
                             what == GLASS_SIM_SENT ? p->sent_at : glass_simnet_now(r->d.net),
                             p->data, p->len);
    }
    if (what == GLASS_SIM_HELD || !pd->on)
        return;
    if (p->from == cnode && (what == GLASS_SIM_DROPPED || (p->flags & GLASS_SIM_PKT_CORRUPT))) {
        /* A data segment the link lost or mangled: mark its record (duplicates aside). */
        if ((p->flags & GLASS_SIM_PKT_DUP) == 0 && pd->have_iss) {
            struct seg_rec *s = seg_by_id(pd, p->id);
            if (s != NULL)
                s->kind = what == GLASS_SIM_DROPPED ? SEG_LOST : SEG_CORRUPT;
        }
        return;
    }
    struct tcp_view v;
    if (!parse_tcp(p->data, p->len, &v))
        return;
    double t = rel_time(r, what == GLASS_SIM_SENT ? p->sent_at : glass_simnet_now(r->d.net));
    if (p->from == cnode && what == GLASS_SIM_SENT) {
        if (v.flags & GLASS_TH_SYN) {
            pd->have_iss = true;
            pd->iss = v.seq;
            pd->syn_ws = v.ws_opt;
            return;
        }
        if (!pd->have_iss || v.len == 0)
            return;
        int64_t s = rel_seq(pd, v.seq, pd->snd_high);
        int64_t e = s + (int64_t)v.len;
        struct seg_rec sr = {
            .id = p->id, .t = t, .s = s, .e = e, .kind = s < pd->snd_high ? SEG_RETRANS : SEG_DATA};
        if (e > pd->snd_high)
            pd->snd_high = e;
        VEC_PUSH(pd, pd->segs, sr);
        return;
    }
    if (p->from == snode && what == GLASS_SIM_SENT && (v.flags & GLASS_TH_SYN)) {
        pd->synack_ws = v.ws_opt;
        pd->server_ws = v.ws;
        return;
    }
    if (p->from == snode && what == GLASS_SIM_DELIVERED &&
        (p->flags & GLASS_SIM_PKT_CORRUPT) == 0 &&
        (v.flags & (GLASS_TH_ACK | GLASS_TH_SYN | GLASS_TH_RST)) == GLASS_TH_ACK && pd->have_iss) {
        int64_t a = rel_seq(pd, v.ack, pd->ack_ref);
        pd->ack_ref = a;
        unsigned ws = pd->syn_ws && pd->synack_ws ? pd->server_ws : 0;
        struct ack_rec ar = {.t = t, .ack = a, .edge = a + ((int64_t)v.win << ws)};
        VEC_PUSH(pd, pd->acks, ar);
        for (unsigned i = 0; i < v.n_sack; i++) {
            int64_t s = rel_seq(pd, v.sack[i][0], a);
            struct sack_rec sk = {.t = t, .s = s, .e = s + (int32_t)(v.sack[i][1] - v.sack[i][0])};
            VEC_PUSH(pd, pd->sacks, sk);
        }
        plot_cwnd_sample(r, t);
    }
}

/* ---- gnuplot ------------------------------------------------------------------------------- */

static bool find_in_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (path == NULL || *path == '\0')
        path = "/usr/local/bin:/usr/bin:/bin";
    char buf[4096];
    while (*path != '\0') {
        const char *colon = strchr(path, ':');
        size_t n = colon != NULL ? (size_t)(colon - path) : strlen(path);
        if (n == 0) {
            snprintf(buf, sizeof buf, "./%s", prog);
        } else if (n + strlen(prog) + 2 <= sizeof buf) {
            memcpy(buf, path, n);
            buf[n] = '/';
            strcpy(buf + n + 1, prog);
        } else {
            buf[0] = '\0';
        }
        if (buf[0] != '\0' && access(buf, X_OK) == 0)
            return true;
        if (colon == NULL)
            break;
        path = colon + 1;
    }
    return false;
}

/* gnuplot single-quoted string: ' doubled. */
static void gp_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s != '\0'; s++) {
        if (*s == '\'')
            fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

static bool write_plot_files(const struct sim_run *r, const char *dat, const char *gp,
                             const char *title)
{
    const struct plot_data *pd = &r->plot;
    FILE *f = fopen(dat, "w");
    if (f == NULL)
        return false;
    /* Blocks (gnuplot "index"), each followed by two blank lines; empty ones are left out of
     * the plot command. */
    int block = 0;
    int idx_kind[SEG_KINDS], idx_ack = -1, idx_sack = -1, idx_cwnd = -1;
    for (int k = 0; k < SEG_KINDS; k++) {
        idx_kind[k] = -1;
        size_t n = 0;
        for (size_t i = 0; i < pd->segs.n; i++) {
            const struct seg_rec *s = &pd->segs.v[i];
            if (s->kind != k)
                continue;
            fprintf(f, "%.9f %" PRId64 " %" PRId64 "\n", s->t, s->s, s->e);
            n++;
        }
        if (n > 0) {
            fputs("\n\n", f);
            idx_kind[k] = block++;
        }
    }
    if (pd->acks.n > 0) {
        for (size_t i = 0; i < pd->acks.n; i++)
            fprintf(f, "%.9f %" PRId64 " %" PRId64 "\n", pd->acks.v[i].t, pd->acks.v[i].ack,
                    pd->acks.v[i].edge);
        fputs("\n\n", f);
        idx_ack = block++;
    }
    if (pd->sacks.n > 0) {
        for (size_t i = 0; i < pd->sacks.n; i++)
            fprintf(f, "%.9f %" PRId64 " %" PRId64 "\n", pd->sacks.v[i].t, pd->sacks.v[i].s,
                    pd->sacks.v[i].e);
        fputs("\n\n", f);
        idx_sack = block++;
    }
    if (pd->cwnds.n > 0) {
        for (size_t i = 0; i < pd->cwnds.n; i++)
            fprintf(f, "%.9f %" PRIu32 " %" PRIu32 "\n", pd->cwnds.v[i].t, pd->cwnds.v[i].cwnd,
                    pd->cwnds.v[i].ssthresh);
        fputs("\n\n", f);
        idx_cwnd = block++;
    }
    bool ok = fclose(f) == 0;
    if (!ok)
        return false;

    f = fopen(gp, "w");
    if (f == NULL)
        return false;
    if (r->o->plot_svg)
        fputs(
            "set terminal svg size 1400,800 dynamic noenhanced font 'sans,11' background 'white'\n",
            f);
    else
        fputs("set terminal pngcairo size 1400,800 noenhanced font 'sans,10'\n", f);
    fputs("set output ", f);
    gp_quote(f, r->o->plot);
    fputs("\nset title ", f);
    gp_quote(f, title);
    /* The y range covers the data and the ACKs; the window line shows where it comes near. */
    int64_t ylo = 0, yhi = pd->snd_high;
    for (size_t i = 0; i < pd->acks.n; i++)
        if (pd->acks.v[i].ack > yhi)
            yhi = pd->acks.v[i].ack;
    for (size_t i = 0; i < pd->segs.n; i++)
        if (pd->segs.v[i].s < ylo)
            ylo = pd->segs.v[i].s;
    fprintf(f, "\nset yrange [%" PRId64 ":%" PRId64 "]", ylo, yhi + yhi / 25 + 1500);
    fputs("\nset xlabel 'virtual time (s)'\n"
          "set ylabel 'relative sequence number (bytes)'\n"
          "set format y '%.0f'\n"
          "set key top left box opaque\n"
          "set grid\n"
          "set ytics nomirror\n",
          f);
    if (idx_cwnd >= 0)
        fputs("set y2label 'cwnd (bytes)'\nset y2tics\nset format y2 '%.0f'\nset y2range [0:*]\n",
              f);
    fputs("set datafile separator whitespace\n", f);
    fputs("plot \\\n", f);
    bool first = true;
#define PLOT_CLAUSE(cond, text)                                                                    \
    do {                                                                                           \
        if (cond) {                                                                                \
            fprintf(f, "%s  ", first ? "" : ", \\\n");                                             \
            fputs("'", f);                                                                         \
            fputs(dat, f);                                                                         \
            fputs("' ", f);                                                                        \
            fputs(text, f);                                                                        \
            first = false;                                                                         \
        }                                                                                          \
    } while (0)
    char buf[512];
    if (idx_ack >= 0) {
        snprintf(buf, sizeof buf,
                 "index %d using 1:3 with steps lc rgb '#e0a000' lw 1 title 'receive window'",
                 idx_ack);
        PLOT_CLAUSE(true, buf);
        snprintf(buf, sizeof buf,
                 "index %d using 1:2 with steps lc rgb '#00a000' lw 1.5 title 'ACK'", idx_ack);
        PLOT_CLAUSE(true, buf);
    }
    if (idx_sack >= 0) {
        snprintf(buf, sizeof buf,
                 "index %d using 1:2:(0):($3-$2) with vectors nohead lc rgb '#a020f0' lw 1.5 "
                 "title 'SACK'",
                 idx_sack);
        PLOT_CLAUSE(true, buf);
    }
    static const char *const seg_style[SEG_KINDS] = {
        "with vectors nohead lc rgb '#1f3fbf' title 'data'",
        "with vectors nohead lc rgb '#e00000' lw 2 title 'retransmission'",
        "with vectors nohead lc rgb '#ff8080' lw 1 dt 2 title 'lost on the link'",
        "with vectors nohead lc rgb '#808080' lw 1 dt 3 title 'corrupted on the link'",
    };
    for (int k = 0; k < SEG_KINDS; k++) {
        if (idx_kind[k] < 0)
            continue;
        snprintf(buf, sizeof buf, "index %d using 1:2:(0):($3-$2) %s", idx_kind[k], seg_style[k]);
        PLOT_CLAUSE(true, buf);
    }
    if (idx_kind[SEG_LOST] >= 0) {
        snprintf(buf, sizeof buf,
                 "index %d using 1:3 with points pt 2 ps 0.8 lc rgb '#e00000' notitle",
                 idx_kind[SEG_LOST]);
        PLOT_CLAUSE(true, buf);
    }
    if (idx_cwnd >= 0) {
        snprintf(buf, sizeof buf,
                 "index %d using 1:2 axes x1y2 with steps lc rgb '#909090' lw 1 dt 4 title 'cwnd "
                 "(right axis)'",
                 idx_cwnd);
        PLOT_CLAUSE(true, buf);
    }
#undef PLOT_CLAUSE
    if (first)
        fputs("  NaN notitle", f);
    fputs("\n", f);
    return fclose(f) == 0;
}

/* Run gnuplot on the collected records. Returns true if FILE was written. */
static bool render_plot(struct sim_run *r, const char *title)
{
    char dir[] = "/tmp/glass-sim-plot-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        fprintf(stderr, "glass sim: cannot create a temporary directory: %s\n", strerror(errno));
        return false;
    }
    char dat[64], gp[64];
    snprintf(dat, sizeof dat, "%s/tseq.dat", dir);
    snprintf(gp, sizeof gp, "%s/tseq.gp", dir);
    bool ok = write_plot_files(r, dat, gp, title);
    if (!ok) {
        fprintf(stderr, "glass sim: cannot write the plot files in %s\n", dir);
    } else {
        char prog[] = "gnuplot";
        char *argv[] = {prog, gp, NULL};
        pid_t pid;
        int rc = posix_spawnp(&pid, prog, NULL, NULL, argv, environ);
        if (rc != 0) {
            fprintf(stderr, "glass sim: cannot run gnuplot: %s\n", strerror(rc));
            ok = false;
        } else {
            int status = 0;
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "glass sim: gnuplot failed (status %d) drawing %s\n", status,
                        r->o->plot);
                ok = false;
            }
        }
    }
    remove(dat);
    remove(gp);
    rmdir(dir);
    return ok;
}

/* ---- formatting ---------------------------------------------------------------------------- */

static void fmt_rate(char *buf, size_t cap, double bps)
{
    if (bps >= 1e9)
        snprintf(buf, cap, "%.2f Gbit/s", bps / 1e9);
    else if (bps >= 1e6)
        snprintf(buf, cap, "%.2f Mbit/s", bps / 1e6);
    else
        snprintf(buf, cap, "%.1f kbit/s", bps / 1e3);
}

static void fmt_prob(char *buf, size_t cap, double p)
{
    snprintf(buf, cap, "%g%%", p * 100.0);
}

static double now_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the command --------------------------------------------------------------------------- */

static void sim_usage(FILE *f)
{
    fprintf(f,
            "usage: glass sim --bytes N [options]\n\n"
            "Transfers N bytes from a client stack (192.0.2.1) to a server stack (192.0.2.2)\n"
            "over the simulated link in virtual time, verifies that every byte arrived once, in\n"
            "order and intact, runs until both connections are CLOSED (TIME_WAIT included) and\n"
            "prints goodput, retransmissions, timeouts, final states and the trace hash.\n"
            "Exit status: 0 ok, 1 failed, 2 usage error.\n\n"
            "options:\n"
            "  --bytes N          bytes to send (suffix k, M, G: KiB, MiB, GiB)\n"
            "  --duplex           the server sends N bytes to the client at the same time\n"
            "  --copy             the apps use glass_send/glass_recv (copying) instead of the\n"
            "                     zero-copy glass_send_reserve/commit, glass_recv_peek/consume\n"
            "  --no-offload       no checksum offload: the stacks compute and verify every TCP\n"
            "                     checksum (default: the simulated NICs offload it, as veth)\n"
            "  --tso N            TSO on output: the stacks hand out super-segments of up to N\n"
            "                     bytes, which the simulated NIC cuts into MSS-sized packets\n"
            "                     (same packets, same trace hash; default 0: off)\n"
            "  --loss P           probability a packet is lost (0..1, or 5%%)\n"
            "  --dup P            probability a packet is duplicated\n"
            "  --reorder P        probability a packet is overtaken by later ones\n"
            "  --reorder-max K    ... by at most K later packets (default 3)\n"
            "  --corrupt P        probability one bit of a packet is flipped\n"
            "  --delay MS         one-way delay in milliseconds (default 10)\n"
            "  --jitter MS        extra delay, uniform in [0, MS] (keeps packets in order)\n"
            "  --rate MBIT        bottleneck rate in Mbit/s (default: infinitely fast)\n"
            "  --queue PKTS       bottleneck queue in packets, tail drop (default: unbounded)\n"
            "  --spike-every MS   a delay spike about every MS milliseconds ...\n"
            "  --spike-len MS     ... during which the link holds packets for MS (default 1500)\n"
            "  --mss M            MSS of both stacks (the link MTU grows to M + 40 if needed)\n"
            "  --cc ALGO          congestion control: cubic (default) or newreno\n"
            "  --buf BYTES        socket send/receive buffers (default 1M; 256k with --delay 0\n"
            "                     and no jitter: no delay, no bandwidth-delay product)\n"
            "  --read-rate R      receivers read at most R bytes per second (e.g. 100k)\n"
            "  --read-pause-at B  receivers stop reading after B bytes ...\n"
            "  --read-pause MS    ... for MS milliseconds (zero window)\n"
            "  --seed S           seed of the link, the stacks and the data (default 1)\n"
            "  --syn-retries N    SYN and SYN,ACK retransmissions before giving up (default 6, 5)\n"
            "  --retries N        data retransmissions before giving up, also once the\n"
            "                     application has closed (default 15; orphaned: 8)\n"
            "  --time-limit SEC   give up after SEC seconds of virtual time (default 86400)\n"
            "  --json             print one JSON object instead of the report\n"
            "  --plot FILE        draw a time-sequence graph (FILE.png or FILE.svg; gnuplot)\n"
            "  --quiet            print nothing on success (failures still go to stderr)\n"
            "  --trace            print every packet and state transition on stderr\n"
            "  --pcapng FILE      as --pcap, in pcapng, each packet commented with both states\n"
            "  --ss[=ARGS]        print glass ss ARGS (default -a) of both stacks at the end ...\n"
            "  --ss-at MS         ... or MS milliseconds of virtual time after the connect\n"
            "  -h, --help         this help\n");
}

static bool parse_u64_sfx(const char *s, uint64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s)
        return false;
    uint64_t mul = 1;
    if (*end != '\0') {
        switch (*end) {
        case 'k':
        case 'K':
            mul = UINT64_C(1) << 10;
            break;
        case 'm':
        case 'M':
            mul = UINT64_C(1) << 20;
            break;
        case 'g':
        case 'G':
            mul = UINT64_C(1) << 30;
            break;
        default:
            return false;
        }
        end++;
        if (*end == 'i' || *end == 'I')
            end++;
        if (*end == 'b' || *end == 'B')
            end++;
        if (*end != '\0')
            return false;
    }
    if (v > UINT64_MAX / mul)
        return false;
    *out = (uint64_t)v * mul;
    return true;
}

static bool parse_double(const char *s, double lo, double hi, double *out)
{
    if (s == NULL || *s == '\0')
        return false;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || !isfinite(v))
        return false;
    if (*end == '%' && end[1] == '\0') {
        v /= 100.0;
        end++;
    }
    if (*end != '\0' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return false;
    *out = (uint64_t)v;
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    if (n < m)
        return false;
    for (size_t i = 0; i < m; i++) {
        char c = s[n - m + i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != suffix[i])
            return false;
    }
    return true;
}

enum {
    OPT_BYTES = 256,
    OPT_LOSS,
    OPT_DUP,
    OPT_REORDER,
    OPT_REORDER_MAX,
    OPT_CORRUPT,
    OPT_DELAY,
    OPT_JITTER,
    OPT_RATE,
    OPT_QUEUE,
    OPT_SPIKE_EVERY,
    OPT_SPIKE_LEN,
    OPT_MSS,
    OPT_CC,
    OPT_BUF,
    OPT_SEED,
    OPT_TIME_LIMIT,
    OPT_DUPLEX,
    OPT_COPY,
    OPT_NO_OFFLOAD,
    OPT_TSO,
    OPT_JSON,
    OPT_PLOT,
    OPT_PCAP,
    OPT_PCAPNG,
    OPT_SS,
    OPT_SS_AT,
    OPT_QUIET,
    OPT_READ_RATE,
    OPT_PAUSE_AT,
    OPT_PAUSE,
    OPT_TRACE,
    OPT_SYN_RETRIES,
    OPT_RETRIES,
};

static int usage_error(const char *fmt, ...) OUT_PRINTF(1, 2);
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("glass sim: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n", stderr);
    va_end(ap);
    return GLASS_EXIT_USAGE;
}

static const struct option longopts[] = {
    {"bytes", required_argument, NULL, OPT_BYTES},
    {"loss", required_argument, NULL, OPT_LOSS},
    {"dup", required_argument, NULL, OPT_DUP},
    {"reorder", required_argument, NULL, OPT_REORDER},
    {"reorder-max", required_argument, NULL, OPT_REORDER_MAX},
    {"corrupt", required_argument, NULL, OPT_CORRUPT},
    {"delay", required_argument, NULL, OPT_DELAY},
    {"jitter", required_argument, NULL, OPT_JITTER},
    {"rate", required_argument, NULL, OPT_RATE},
    {"queue", required_argument, NULL, OPT_QUEUE},
    {"spike-every", required_argument, NULL, OPT_SPIKE_EVERY},
    {"spike-len", required_argument, NULL, OPT_SPIKE_LEN},
    {"mss", required_argument, NULL, OPT_MSS},
    {"cc", required_argument, NULL, OPT_CC},
    {"buf", required_argument, NULL, OPT_BUF},
    {"seed", required_argument, NULL, OPT_SEED},
    {"time-limit", required_argument, NULL, OPT_TIME_LIMIT},
    {"duplex", no_argument, NULL, OPT_DUPLEX},
    {"copy", no_argument, NULL, OPT_COPY},
    {"no-offload", no_argument, NULL, OPT_NO_OFFLOAD},
    {"tso", required_argument, NULL, OPT_TSO},
    {"json", no_argument, NULL, OPT_JSON},
    {"plot", required_argument, NULL, OPT_PLOT},
    {"pcap", required_argument, NULL, OPT_PCAP},
    {"pcapng", required_argument, NULL, OPT_PCAPNG},
    {"ss", optional_argument, NULL, OPT_SS},
    {"ss-at", required_argument, NULL, OPT_SS_AT},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"read-rate", required_argument, NULL, OPT_READ_RATE},
    {"read-pause-at", required_argument, NULL, OPT_PAUSE_AT},
    {"read-pause", required_argument, NULL, OPT_PAUSE},
    {"trace", no_argument, NULL, OPT_TRACE},
    {"syn-retries", required_argument, NULL, OPT_SYN_RETRIES},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* "--loss" for OPT_LOSS (for messages: argv[optind - 1] may be the option's argument). */
static const char *opt_name(int c, char *buf, size_t cap)
{
    for (const struct option *o = longopts; o->name != NULL; o++) {
        if (o->val == c) {
            snprintf(buf, cap, "--%s", o->name);
            return buf;
        }
    }
    snprintf(buf, cap, "option");
    return buf;
}

/* Parse argv into *o; returns -1 to go on, else an exit status. */
static int parse_args(int argc, char **argv, struct sim_opts *o)
{
    opterr = 0;
    optind = 1;
    int c;
    uint64_t u;
    char nbuf[32];
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        const char *name = opt_name(c, nbuf, sizeof nbuf);
        switch (c) {
        case OPT_BYTES:
            if (!parse_u64_sfx(optarg, &o->drive.bytes))
                return usage_error("bad --bytes '%s' (want a byte count, e.g. 1000000 or 1G)",
                                   optarg);
            o->bytes_set = true;
            break;
        case OPT_LOSS:
        case OPT_DUP:
        case OPT_REORDER:
        case OPT_CORRUPT: {
            double *dst = c == OPT_LOSS      ? &o->drive.loss
                          : c == OPT_DUP     ? &o->drive.dup
                          : c == OPT_REORDER ? &o->drive.reorder
                                             : &o->drive.corrupt;
            if (!parse_double(optarg, 0.0, 1.0, dst))
                return usage_error("bad %s '%s' (want a probability in [0, 1], or 0..100%%)", name,
                                   optarg);
            break;
        }
        case OPT_REORDER_MAX:
            if (!parse_uint(optarg, 1, 1000000, &u))
                return usage_error("bad --reorder-max '%s' (want 1..1000000)", optarg);
            o->drive.reorder_max = (uint32_t)u;
            break;
        case OPT_DELAY:
        case OPT_JITTER:
        case OPT_SPIKE_EVERY:
        case OPT_SPIKE_LEN: {
            double *dst = c == OPT_DELAY         ? &o->drive.delay_ms
                          : c == OPT_JITTER      ? &o->drive.jitter_ms
                          : c == OPT_SPIKE_EVERY ? &o->drive.spike_every_ms
                                                 : &o->drive.spike_len_ms;
            if (!parse_double(optarg, 0.0, 1e9, dst) || strchr(optarg, '%') != NULL)
                return usage_error("bad %s '%s' (want milliseconds, >= 0)", name, optarg);
            break;
        }
        case OPT_RATE:
            if (!parse_double(optarg, 0.0, 1e9, &o->drive.rate_mbit) || strchr(optarg, '%') != NULL)
                return usage_error("bad --rate '%s' (want Mbit/s, >= 0; 0 = unlimited)", optarg);
            break;
        case OPT_QUEUE:
            if (!parse_uint(optarg, 0, 1000000, &u))
                return usage_error("bad --queue '%s' (want packets, 0..1000000)", optarg);
            o->drive.queue = (uint32_t)u;
            break;
        case OPT_MSS:
            if (!parse_uint(optarg, 64, 65495, &u))
                return usage_error("bad --mss '%s' (want 64..65495)", optarg);
            o->drive.mss = (unsigned)u;
            o->drive.mss_set = true;
            break;
        case OPT_CC:
            if (strcmp(optarg, "cubic") == 0)
                o->drive.cc = GLASS_CC_CUBIC;
            else if (strcmp(optarg, "newreno") == 0 || strcmp(optarg, "reno") == 0)
                o->drive.cc = GLASS_CC_NEWRENO;
            else
                return usage_error("bad --cc '%s' (want cubic or newreno)", optarg);
            o->drive.cc_set = true;
            break;
        case OPT_BUF:
            if (!parse_u64_sfx(optarg, &u) || u < 2048 || u > (UINT64_C(1) << 24))
                return usage_error("bad --buf '%s' (want 2048..16M bytes)", optarg);
            o->drive.buf = (uint32_t)u;
            break;
        case OPT_SEED:
            if (!parse_uint(optarg, 0, UINT64_MAX, &o->drive.seed))
                return usage_error("bad --seed '%s' (want a non-negative integer)", optarg);
            break;
        case OPT_TIME_LIMIT:
            if (!parse_double(optarg, 0.001, 1e9, &o->time_limit_s) || strchr(optarg, '%') != NULL)
                return usage_error("bad --time-limit '%s' (want seconds > 0)", optarg);
            break;
        case OPT_DUPLEX:
            o->drive.duplex = true;
            break;
        case OPT_COPY:
            o->drive.copy = true;
            break;
        case OPT_NO_OFFLOAD:
            o->drive.no_offload = true;
            break;
        case OPT_TSO:
            if (!parse_uint(optarg, 0, 65535, &u))
                return usage_error("bad --tso '%s' (want 0..65535 bytes)", optarg);
            o->drive.tso_max = (uint32_t)u;
            break;
        case OPT_JSON:
            o->json = true;
            break;
        case OPT_PCAP:
            o->pcap = optarg;
            break;
        case OPT_PCAPNG:
            o->pcapng = optarg;
            break;
        case OPT_SS:
            o->ss = optarg != NULL ? optarg : "-a";
            break;
        case OPT_SS_AT:
            if (!parse_double(optarg, 0, 1e12, &o->ss_at_ms) || strchr(optarg, '%') != NULL)
                return usage_error("bad --ss-at '%s' (milliseconds of virtual time)", optarg);
            break;
        case OPT_PLOT:
            if (ends_with(optarg, ".png"))
                o->plot_svg = false;
            else if (ends_with(optarg, ".svg"))
                o->plot_svg = true;
            else
                return usage_error("bad --plot '%s' (want a file name ending in .png or .svg)",
                                   optarg);
            o->plot = optarg;
            break;
        case OPT_QUIET:
            o->quiet = true;
            break;
        case OPT_TRACE:
            o->trace = true;
            break;
        case OPT_SYN_RETRIES:
        case OPT_RETRIES:
            if (!parse_uint(optarg, 1, 255, &u))
                return usage_error("bad %s '%s' (want 1..255)", name, optarg);
            if (c == OPT_SYN_RETRIES)
                o->drive.syn_retries = (unsigned)u;
            else
                o->drive.retries = (unsigned)u;
            break;
        case OPT_READ_RATE:
            if (!parse_u64_sfx(optarg, &o->drive.read_rate) ||
                o->drive.read_rate > (UINT64_C(1) << 40))
                return usage_error("bad --read-rate '%s' (want bytes per second, e.g. 100k)",
                                   optarg);
            break;
        case OPT_PAUSE_AT:
            if (!parse_u64_sfx(optarg, &o->drive.pause_at))
                return usage_error("bad --read-pause-at '%s' (want a byte count)", optarg);
            break;
        case OPT_PAUSE:
            if (!parse_double(optarg, 0.0, 1e9, &o->drive.pause_ms) || strchr(optarg, '%') != NULL)
                return usage_error("bad --read-pause '%s' (want milliseconds, >= 0)", optarg);
            break;
        case 'h':
            sim_usage(stdout);
            return GLASS_EXIT_OK;
        case ':':
            return usage_error("option '%s' needs an argument", argv[optind - 1]);
        default:
            if (optopt >= 256 || optopt == 0)
                return usage_error("unknown option '%s'; see 'glass sim --help'", argv[optind - 1]);
            return usage_error("unknown option '-%c'; see 'glass sim --help'", optopt);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'; see 'glass sim --help'", argv[optind]);
    if (!o->bytes_set)
        return usage_error("--bytes N is required; see 'glass sim --help'");
    /* Buffers beyond the bandwidth-delay product only cost cache: with no delay there is none. */
    if (o->drive.buf == 0)
        o->drive.buf = o->drive.delay_ms == 0.0 && o->drive.jitter_ms == 0.0
                           ? SIM_DEFAULT_BUF_NODELAY
                           : SIM_DEFAULT_BUF;
    if (o->drive.spike_every_ms > 0.0 && o->drive.spike_len_ms >= o->drive.spike_every_ms)
        return usage_error("--spike-len (%g ms) must be shorter than --spike-every (%g ms)",
                           o->drive.spike_len_ms, o->drive.spike_every_ms);
    return -1;
}

static void free_plot(struct plot_data *pd)
{
    free(pd->segs.v);
    free(pd->acks.v);
    free(pd->sacks.v);
    free(pd->cwnds.v);
}

static void link_line(const struct sim_opts *o, char *buf, size_t cap)
{
    char l[32], d[32], r[32], c[32];
    fmt_prob(l, sizeof l, o->drive.loss);
    fmt_prob(d, sizeof d, o->drive.dup);
    fmt_prob(r, sizeof r, o->drive.reorder);
    fmt_prob(c, sizeof c, o->drive.corrupt);
    int n = snprintf(buf, cap, "delay %g ms, jitter %g ms, loss %s, dup %s, reorder %s, corrupt %s",
                     o->drive.delay_ms, o->drive.jitter_ms, l, d, r, c);
    if (n < 0 || (size_t)n >= cap)
        return;
    if (o->drive.rate_mbit > 0.0) {
        char q[32];
        if (o->drive.queue != 0)
            snprintf(q, sizeof q, "%" PRIu32 " packets", o->drive.queue);
        else
            snprintf(q, sizeof q, "unbounded");
        snprintf(buf + n, cap - (size_t)n, ", rate %g Mbit/s, queue %s", o->drive.rate_mbit, q);
    }
    n = (int)strlen(buf);
    if (o->drive.spike_every_ms > 0.0 && o->drive.spike_len_ms > 0.0)
        snprintf(buf + n, cap - (size_t)n, ", spikes of %g ms about every %g ms",
                 o->drive.spike_len_ms, o->drive.spike_every_ms);
}

int glass_cmd_sim(int argc, char **argv)
{
    struct sim_opts o;
    memset(&o, 0, sizeof o);
    simdrive_opts_default(&o.drive);
    o.drive.buf = 0; /* parse_args picks it from the delay unless --buf says */
    o.time_limit_s = 86400.0;
    o.ss_at_ms = -1;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (o.plot != NULL && !find_in_path("gnuplot")) {
        fprintf(stderr, "glass sim: --plot needs gnuplot, which is not installed "
                        "(apt-get install gnuplot-nox, or bash scripts/deps.sh)\n");
        return GLASS_EXIT_FAILED;
    }

    static struct sim_run run; /* large; one per process */
    struct sim_run *r = &run;
    memset(r, 0, sizeof *r);
    r->o = &o;
    r->plot.on = o.plot != NULL;
    int status = GLASS_EXIT_FAILED;

    struct simdrive_hooks hooks = {
        .fail = sim_fail, .transition = sim_transition, .configure = NULL, .ctx = r};
    char err[160];
    if (simdrive_open(&r->d, &o.drive, &hooks, err, sizeof err) < 0) {
        fprintf(stderr, "glass sim: %s\n", err);
        goto out;
    }
    struct simdrive_side *cs = &r->d.side[SIMDRIVE_CLIENT], *ss = &r->d.side[SIMDRIVE_SERVER];
    if (glass_pcapw_open_both("sim", o.pcap, o.pcapng, &r->pcap, &r->pcapng) < 0) {
        status = GLASS_EXIT_FAILED;
        goto out;
    }
    if (r->plot.on || o.trace || r->pcap != NULL || r->pcapng != NULL)
        glass_simnet_set_tap(r->d.net, tap_fn, r);

    /* Server: listen; client: connect. */
    double w0 = now_wall();
    if (simdrive_start(&r->d, err, sizeof err) < 0) {
        fprintf(stderr, "glass sim: %s\n", err);
        goto out;
    }

    glass_time_t limit = r->d.t0 + (glass_time_t)(o.time_limit_s * 1e9);
    glass_time_t ss_at = o.ss != NULL && o.ss_at_ms >= 0
                             ? r->d.t0 + (glass_time_t)(o.ss_at_ms * 1e6)
                             : GLASS_TIME_NEVER;
    bool done = false, stalled = false;
    for (;;) {
        if (simdrive_finished(&r->d)) {
            done = true;
            break;
        }
        /* Paced receivers look at their sockets at their own times, between events. */
        glass_time_t wake = simdrive_wake(&r->d);
        glass_time_t until = wake < limit ? wake : limit;
        if (ss_at < until) { /* --ss-at comes first */
            if (glass_simnet_step(r->d.net, ss_at))
                continue;
            glass_simnet_run_until(r->d.net, ss_at);
            sim_ss(r, &o);
            ss_at = GLASS_TIME_NEVER;
            continue;
        }
        if (glass_simnet_step(r->d.net, until))
            continue;
        if (wake > limit) {
            stalled = true;
            break;
        }
        simdrive_tick(&r->d, wake);
    }
    double wall = now_wall() - w0;
    glass_time_t t_end = glass_simnet_now(r->d.net);
    if (o.ss != NULL && o.ss_at_ms < 0)
        sim_ss(r, &o);
    pcapng_commit(r);

    /* Verdict. */
    if (!done) {
        char tb[32], hc[64], hs[64];
        simdrive_side_how(cs, hc, sizeof hc);
        simdrive_side_how(ss, hs, sizeof hs);
        if (stalled && glass_simnet_in_flight(r->d.net) == 0 &&
            glass_stack_next_deadline(cs->st) == GLASS_TIME_NEVER &&
            glass_stack_next_deadline(ss->st) == GLASS_TIME_NEVER)
            run_fail(r,
                     "stalled at t=%s s: nothing in flight, no timer armed (client %s, server %s)",
                     out_time(t_end - r->d.t0, tb), hc, hs);
        else
            run_fail(r, "time limit of %g s reached (client %s, server %s)", o.time_limit_s, hc,
                     hs);
    }
    if (ss->rx_done != ss->rx_expect)
        run_fail(r, "server received %" PRIu64 " of %" PRIu64 " bytes", ss->rx_done, ss->rx_expect);
    if (cs->rx_done != cs->rx_expect)
        run_fail(r, "client received %" PRIu64 " of %" PRIu64 " bytes", cs->rx_done, cs->rx_expect);
    struct glass_conn_info ci[4];
    size_t left_c = glass_stack_conns(cs->st, ci, 4), left_s = glass_stack_conns(ss->st, ci, 4);
    if (done && (left_c != 0 || left_s != 0))
        run_fail(r, "connections left after both reached CLOSED: client %zu, server %zu", left_c,
                 left_s);
    bool ok = !r->failed;

    uint64_t retrans[SIMDRIVE_SIDES], timeouts[SIMDRIVE_SIDES];
    for (int s = 0; s < SIMDRIVE_SIDES; s++) {
        retrans[s] = glass_stack_mib(r->d.side[s].st, GLASS_MIB_TcpRetransSegs);
        timeouts[s] = glass_stack_mib(r->d.side[s].st, GLASS_MIB_TcpExtTCPTimeouts);
    }
    uint64_t delivered = ss->rx_done + cs->rx_done;
    glass_time_t last_rx = ss->rx_last_at > cs->rx_last_at ? ss->rx_last_at : cs->rx_last_at;
    double xfer_s = last_rx > r->d.t0 ? (double)(last_rx - r->d.t0) / 1e9 : 0.0;
    double goodput = xfer_s > 0.0 ? (double)delivered * 8.0 / xfer_s : 0.0;
    double wall_goodput = wall > 0.0 ? (double)delivered * 8.0 / wall : 0.0;
    double virt_s = (double)(t_end - r->d.t0) / 1e9;
    uint64_t hash = glass_simnet_trace_hash(r->d.net);
    struct glass_simnet_stats ls;
    glass_simnet_stats(r->d.net, &ls);

    if (o.trace) {
        /* What each stack dropped, and its non-zero counters, for whoever reads the trace. */
        for (int s = 0; s < SIMDRIVE_SIDES; s++) {
            fprintf(stderr, "%s drops:", simdrive_side_name(s));
            for (int d = 1; d < GLASS_DROP_COUNT; d++) {
                uint64_t n = glass_stack_drops(r->d.side[s].st, d);
                if (n != 0)
                    fprintf(stderr, " %s %" PRIu64, glass_drop_name(d), n);
            }
            fprintf(stderr, "\n%s counters:", simdrive_side_name(s));
            for (int m = 0; m < GLASS_MIB_COUNT; m++) {
                uint64_t n = glass_stack_mib(r->d.side[s].st, m);
                if (n != 0)
                    fprintf(stderr, " %s %" PRIu64, glass_mib_name(m), n);
            }
            fputc('\n', stderr);
        }
    }

    bool plotted = true;
    if (r->plot.on) {
        char title[512], lk[320];
        link_line(&o, lk, sizeof lk);
        snprintf(title, sizeof title, "glass sim: %" PRIu64 " bytes, seed %" PRIu64 ", %s%s",
                 o.drive.bytes, o.drive.seed, lk, r->plot.truncated ? " (plot truncated)" : "");
        plotted = render_plot(r, title);
    }

    struct out_buf b;
    out_init(&b);
    if (o.json) {
        out_printf(&b, "{\"ok\":%s,\"bytes\":%" PRIu64 ",\"duplex\":%s,", ok ? "true" : "false",
                   o.drive.bytes, o.drive.duplex ? "true" : "false");
        if (xfer_s > 0.0)
            out_printf(&b, "\"goodput_bps\":%.0f,", goodput);
        else
            out_puts(&b, "\"goodput_bps\":null,");
        out_printf(&b, "\"transfer_seconds\":%.9f,\"wall_seconds\":%.6f,\"wall_goodput_bps\":%.0f,",
                   xfer_s, wall, wall_goodput);
        out_printf(&b, "\"retransmits\":%" PRIu64 ",\"timeouts\":%" PRIu64 ",",
                   retrans[0] + retrans[1], timeouts[0] + timeouts[1]);
        out_printf(&b, "\"trace_hash\":\"%016" PRIx64 "\",", hash);
        out_puts(&b, "\"final_states\":{\"client\":");
        out_json_str(&b, simdrive_side_state(cs));
        out_puts(&b, ",\"server\":");
        out_json_str(&b, simdrive_side_state(ss));
        out_printf(&b, "},\"virtual_seconds\":%.9f,\"seed\":%" PRIu64 ",", virt_s, o.drive.seed);
        for (int s = 0; s < SIMDRIVE_SIDES; s++) {
            const struct simdrive_side *sd = &r->d.side[s];
            out_printf(&b,
                       "\"%s\":{\"sent\":%" PRIu64 ",\"received\":%" PRIu64
                       ",\"retransmits\":%" PRIu64 ",\"timeouts\":%" PRIu64 ",\"time_wait\":%s},",
                       simdrive_side_name(s), sd->tx_done, sd->rx_done, retrans[s], timeouts[s],
                       simdrive_side_conn(sd) != NULL && simdrive_side_conn(sd)->time_wait
                           ? "true"
                           : "false");
        }
        out_printf(&b,
                   "\"link\":{\"delay_ms\":%g,\"jitter_ms\":%g,\"loss\":%g,\"dup\":%g,"
                   "\"reorder\":%g,\"corrupt\":%g,\"rate_mbit\":%g,\"queue\":%" PRIu32
                   ",\"spike_every_ms\":%g,\"spike_len_ms\":%g,",
                   o.drive.delay_ms, o.drive.jitter_ms, o.drive.loss, o.drive.dup, o.drive.reorder,
                   o.drive.corrupt, o.drive.rate_mbit, o.drive.queue,
                   r->d.ncfg.spike_every != 0 ? o.drive.spike_every_ms : 0.0,
                   r->d.ncfg.spike_every != 0 ? o.drive.spike_len_ms : 0.0);
        out_printf(&b,
                   "\"packets\":%" PRIu64 ",\"delivered\":%" PRIu64 ",\"lost\":%" PRIu64
                   ",\"queue_drops\":%" PRIu64 ",\"duplicated\":%" PRIu64 ",\"corrupted\":%" PRIu64
                   ",\"reordered\":%" PRIu64 ",\"spiked\":%" PRIu64 ",\"queue_max\":%" PRIu32
                   ",\"tso_segs\":%" PRIu64 "},",
                   ls.sent, ls.delivered, ls.lost, ls.queue_drops, ls.duplicated, ls.corrupted,
                   ls.reordered, ls.spiked, ls.queue_max, ls.tso_segs);
        out_printf(&b, "\"mss\":%u,\"cc\":\"%s\",", o.drive.mss_set ? o.drive.mss : 1460u,
                   o.drive.cc == GLASS_CC_NEWRENO ? "newreno" : "cubic");
        if (o.plot != NULL) {
            out_puts(&b, "\"plot\":");
            if (plotted)
                out_json_str(&b, o.plot);
            else
                out_puts(&b, "null");
            out_putc(&b, ',');
        }
        out_puts(&b, "\"error\":");
        out_json_str(&b, ok ? NULL : r->why);
        out_puts(&b, "}\n");
        out_flush(&b, stdout);
    } else if (!o.quiet) {
        char lk[320], g1[64], g2[64], tb[32];
        link_line(&o, lk, sizeof lk);
        out_printf(&b, "glass sim: %" PRIu64 " bytes client -> server%s, seed %" PRIu64 "\n",
                   o.drive.bytes, o.drive.duplex ? " and server -> client" : "", o.drive.seed);
        out_printf(&b, "link: %s\n", lk);
        if (ok)
            out_printf(&b, "ok: every byte arrived once, in order, intact; both sides CLOSED\n");
        else
            out_printf(&b, "FAILED: %s\n", r->why);
        fmt_rate(g1, sizeof g1, goodput);
        fmt_rate(g2, sizeof g2, wall_goodput);
        if (xfer_s > 0.0)
            out_printf(&b, "goodput: %s in virtual time (%" PRIu64 " bytes in %.3f s)\n", g1,
                       delivered, xfer_s);
        else
            out_printf(&b, "goodput: n/a in virtual time (%" PRIu64 " bytes in 0 s)\n", delivered);
        out_printf(&b, "wall clock: %s, %.3f GB/s (%.3f s for the whole run)\n", g2,
                   wall > 0.0 ? (double)delivered / wall / 1e9 : 0.0, wall);
        out_printf(&b,
                   "retransmitted segments: %" PRIu64 " (client %" PRIu64 ", server %" PRIu64
                   "), RTO timeouts: %" PRIu64 "\n",
                   retrans[0] + retrans[1], retrans[0], retrans[1], timeouts[0] + timeouts[1]);
        out_printf(
            &b, "final states: client %s%s, server %s%s\n", simdrive_side_state(cs),
            simdrive_side_conn(cs) != NULL && simdrive_side_conn(cs)->time_wait ? " (via TIME_WAIT)"
                                                                                : "",
            simdrive_side_state(ss),
            simdrive_side_conn(ss) != NULL && simdrive_side_conn(ss)->time_wait ? " (via TIME_WAIT)"
                                                                                : "");
        out_printf(&b,
                   "link packets: %" PRIu64 " sent, %" PRIu64 " delivered, %" PRIu64
                   " lost, %" PRIu64 " queue drops, %" PRIu64 " duplicated, %" PRIu64
                   " corrupted, %" PRIu64 " reordered, %" PRIu64 " spiked\n",
                   ls.sent, ls.delivered, ls.lost, ls.queue_drops, ls.duplicated, ls.corrupted,
                   ls.reordered, ls.spiked);
        out_printf(&b, "trace hash: %016" PRIx64 "\n", hash);
        out_printf(&b, "virtual duration: %s s\n", out_time(t_end - r->d.t0, tb));
        if (o.plot != NULL && plotted)
            out_printf(&b, "plot: %s%s\n", o.plot,
                       r->plot.truncated ? " (truncated: too many packets)" : "");
        out_flush(&b, stdout);
    } else if (!ok) {
        fprintf(stderr,
                "glass sim: FAILED: %s (replay: glass sim --bytes %" PRIu64 " --seed %" PRIu64
                " ...)\n",
                r->why, o.drive.bytes, o.drive.seed);
    }
    out_free(&b);
    status = ok && plotted ? GLASS_EXIT_OK : GLASS_EXIT_FAILED;

out:
    if (glass_pcapw_close(r->pcap) != 0) {
        fprintf(stderr, "glass sim: writing %s failed\n", o.pcap);
        status = GLASS_EXIT_FAILED;
    }
    if (glass_pcapw_close(r->pcapng) != 0) {
        fprintf(stderr, "glass sim: writing %s failed\n", o.pcapng);
        status = GLASS_EXIT_FAILED;
    }
    simdrive_close(&r->d);
    free_plot(&r->plot);
    return status;
}
