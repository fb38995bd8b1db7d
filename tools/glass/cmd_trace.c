/* glass trace — infer both endpoints' TCP states from a capture, and flag what Wireshark flags.
 *
 *   glass trace [-v] [--json] [--fields] [--html FILE] [--absolute] [--tshark-streams]
 *               [--idle S] [--linger S] FILE.pcap|FILE.pcapng
 *
 * The file is read with libpcap (pcap and pcapng) and fed frame by frame to the analyzer in
 * src/analyze (docs/trace.md). Output, one of:
 *   default   one line per connection (tcp.stream): endpoints, duration, packets, bytes each way,
 *             both sides' final states, Zeek conn_state and history, anomaly counts;
 *   -v        per connection, a ladder: time, client state, the segment, server state, tags;
 *   --json    one JSON object {"packets": N, ..., "connections": [...]};
 *   --fields  CSV that lines up column for column with tshark -T fields (CONVENTIONS.md);
 * plus, with --html FILE, a self-contained HTML report (ladders and the RFC 9293 diagram with
 * the transitions the capture shows). Connections come out in tcp.stream order. Exit status:
 * 0 ok, 1 unreadable or corrupt file (what was read is still reported), 2 usage. */
#define _DEFAULT_SOURCE /* <pcap/pcap.h> uses the BSD u_int/u_char types */

#include "cmds.h"
#include "out.h"
#include "trace_report.h"

#include "analyze/analyze.h"

#include <glass/trace.h>
#include <glass/wire.h>

#include <getopt.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* HTML: ladders for this many connections, of at most this many segments each. */
#define HTML_MAX_LADDERS 200u
#define HTML_MAX_SEGS 400u

static const char tshark_header[] =
    "frame.number,tcp.stream,tcp.analysis.retransmission,tcp.analysis.fast_retransmission,"
    "tcp.analysis.spurious_retransmission,tcp.analysis.out_of_order,tcp.analysis.lost_segment,"
    "tcp.analysis.ack_lost_segment,tcp.analysis.duplicate_ack_num,tcp.analysis.zero_window,"
    "tcp.analysis.zero_window_probe,tcp.analysis.zero_window_probe_ack,"
    "tcp.analysis.window_full,tcp.analysis.window_update,tcp.analysis.keep_alive,"
    "tcp.analysis.keep_alive_ack,tcp.analysis.reused_ports\n";

/* ---- the run ----------------------------------------------------------------------------- */

struct opts {
    bool verbose, json, fields, absolute, tshark_streams;
    const char *html;
    const char *file;
    glass_time_t idle, linger; /* 0: the analyzer's defaults */
};

struct run {
    struct opts o;
    struct glass_ana *ana;
    glass_time_t t0; /* time of the first frame */
    bool have_t0;
    struct trace_ro main_out; /* summary rows, ladders or JSON objects */
    FILE *json_tmp;           /* JSON objects, until the totals are known */
    struct trace_report *html;
    uint64_t ladders; /* connections given an HTML ladder so far */
};

/* -v keeps a connection's ladder until the connection is finalised: at most this many lines
 * of it, so that one long connection cannot take all the memory. */
#define LADDER_MAX_LINES 100000u

/* Per-connection state of the CLI (conn->user). */
struct view {
    struct out_buf ladder; /* -v */
    uint64_t ladder_lines, ladder_more;
    struct trace_seg *segs; /* --html */
    size_t nsegs, capsegs;
    uint64_t more_segs;
    bool html_ladder;
};

static void fmt_time(struct out_buf *b, glass_time_t t, glass_time_t t0)
{
    glass_time_t d = t >= t0 ? t - t0 : 0;
    out_printf(b, "%" PRIu64 ".%06" PRIu64, d / GLASS_NSEC_PER_SEC,
               (d % GLASS_NSEC_PER_SEC) / 1000u);
}

static void fmt_ep(char *buf, size_t cap, const struct glass_endpoint *ep)
{
    char ip[16];
    snprintf(buf, cap, "%s:%u", glass_ip4_str(ep->addr, ip), (unsigned)ep->port);
}

/* "retransmission=2,duplicate_ack=3,half_closed=1.250s" or "-". */
static void fmt_anomalies(struct out_buf *b, const struct glass_ana_conn *c)
{
    size_t start = b->len;
    for (int k = 0; k < GLASS_ANA_NFLAGS; k++) {
        if (c->flag_count[k] == 0)
            continue;
        out_printf(b, "%s%s=%" PRIu32, b->len > start ? "," : "",
                   glass_ana_flag_field(k) + strlen("tcp.analysis."), c->flag_count[k]);
    }
    for (int k = 0; k < GLASS_ANA_NNOTES; k++) {
        if (c->note_count[k] == 0 || k == GLASS_ANA_NOTE_MIDSTREAM)
            continue;
        const char *name = glass_ana_note_field(k) + strlen("glass.trace.");
        if (k == GLASS_ANA_NOTE_HALF_CLOSED) {
            out_printf(b, "%s%s=", b->len > start ? "," : "", name);
            fmt_time(b, c->half_closed_for, 0);
            out_putc(b, 's');
        } else if (k == GLASS_ANA_NOTE_NEVER_CLOSED || k == GLASS_ANA_NOTE_SYN_UNANSWERED) {
            out_printf(b, "%s%s", b->len > start ? "," : "", name);
        } else {
            out_printf(b, "%s%s=%" PRIu32, b->len > start ? "," : "", name, c->note_count[k]);
        }
    }
    if (c->midstream)
        out_printf(b, "%smidstream", b->len > start ? "," : "");
    if (b->len == start)
        out_putc(b, '-');
}

static void summary_header(void)
{
    printf("%-6s %-21s %-21s %10s %6s %10s %10s %-11s %-11s %-6s %-14s %s\n", "stream", "client",
           "server", "duration", "pkts", "bytes>", "bytes<", "client", "server", "conn", "history",
           "anomalies");
}

static void summary_row(struct out_buf *b, const struct glass_ana_conn *c)
{
    char cl[32], sv[32];
    fmt_ep(cl, sizeof cl, &c->side[GLASS_ANA_CLIENT].ep);
    fmt_ep(sv, sizeof sv, &c->side[GLASS_ANA_SERVER].ep);
    struct out_buf d;
    out_init(&d);
    fmt_time(&d, c->last, c->first);
    out_printf(b,
               "%-6" PRIu64 " %-21s %-21s %10s %6" PRIu64 " %10" PRIu64 " %10" PRIu64
               " %-11s %-11s %-6s %-14s ",
               c->stream, cl, sv, d.p != NULL ? d.p : "?", c->side[0].pkts + c->side[1].pkts,
               c->side[GLASS_ANA_CLIENT].bytes, c->side[GLASS_ANA_SERVER].bytes,
               glass_ana_state_name(c->side[GLASS_ANA_CLIENT].state),
               glass_ana_state_name(c->side[GLASS_ANA_SERVER].state), c->conn_state,
               c->history[0] != '\0' ? c->history : "-");
    out_free(&d);
    fmt_anomalies(b, c);
    out_putc(b, '\n');
}

/* ---- -v: ladders ------------------------------------------------------------------------- */

#define LADDER_ARROW_W 52
#define LADDER_STATE_W 11

static void seg_label(struct out_buf *b, const struct glass_ana_pkt_info *pi, bool absolute)
{
    char fl[9];
    out_printf(b, "%s seq=%" PRIu32, glass_tcp_flags_str(pi->tcp_flags, fl),
               absolute ? pi->seq : pi->rel_seq);
    if (pi->tcp_flags & GLASS_TH_ACK)
        out_printf(b, " ack=%" PRIu32, absolute ? pi->ack : pi->rel_ack);
    out_printf(b, " win=%" PRIu32 " len=%" PRIu32, pi->win_scaled, pi->len);
}

static void tags(struct out_buf *b, const struct glass_ana_pkt_info *pi)
{
    for (int k = 0; k < GLASS_ANA_NFLAGS; k++) {
        if (!(pi->flags & (1u << k)))
            continue;
        if (k == GLASS_ANA_DUPLICATE_ACK)
            out_printf(b, " [TCP Dup ACK %" PRIu64 "#%" PRIu32 "]", pi->dupack_frame,
                       pi->dupack_num);
        else
            out_printf(b, " [%s]", glass_ana_flag_tag(k));
    }
    for (int k = 0; k < GLASS_ANA_NNOTES; k++) {
        if (pi->notes & (1u << k))
            out_printf(b, " [%s]", glass_ana_note_text(k));
    }
}

static void ladder_line(struct run *r, struct view *v, const struct glass_ana_pkt_info *pi)
{
    struct out_buf *b = &v->ladder;
    struct out_buf seg;
    out_init(&seg);
    seg_label(&seg, pi, r->o.absolute);
    const char *lst = "", *rst = "";
    bool changed[2] = {false, false};
    for (unsigned i = 0; i < pi->nchanges; i++)
        changed[pi->changes[i].side] = true;
    if (changed[GLASS_ANA_CLIENT])
        lst = glass_ana_state_name(pi->state[GLASS_ANA_CLIENT]);
    if (changed[GLASS_ANA_SERVER])
        rst = glass_ana_state_name(pi->state[GLASS_ANA_SERVER]);

    size_t start = b->len;
    out_pad(b, 2);
    fmt_time(b, pi->at, r->t0);
    size_t tw = b->len - start;
    out_pad(b, tw < 14 ? 14 - tw : 1);
    out_printf(b, "%-*s ", LADDER_STATE_W, lst);
    size_t slen = seg.len;
    size_t dashes = slen + 6 < LADDER_ARROW_W ? LADDER_ARROW_W - slen - 6 : 2;
    if (pi->dir == GLASS_ANA_CLIENT) {
        out_puts(b, "-- ");
        out_puts(b, seg.p != NULL ? seg.p : "");
        out_putc(b, ' ');
        for (size_t i = 0; i < dashes; i++)
            out_putc(b, '-');
        out_puts(b, "> ");
    } else {
        out_puts(b, "<");
        for (size_t i = 0; i < dashes; i++)
            out_putc(b, '-');
        out_putc(b, ' ');
        out_puts(b, seg.p != NULL ? seg.p : "");
        out_puts(b, " -- ");
    }
    out_printf(b, "%-*s", LADDER_STATE_W, rst);
    tags(b, pi);
    for (unsigned i = 0; i < pi->nchanges; i++) {
        const struct glass_ana_change *ch = &pi->changes[i];
        out_printf(b, " %s:%s", ch->side == GLASS_ANA_CLIENT ? "client" : "server",
                   glass_ana_cause_name(ch->cause));
    }
    /* trailing spaces off */
    while (b->len > start && b->p[b->len - 1] == ' ')
        b->p[--b->len] = '\0';
    out_putc(b, '\n');
    out_free(&seg);
}

static void ladder_block(struct run *r, struct out_buf *b, struct glass_ana_conn *c, struct view *v)
{
    char cl[32], sv[32];
    fmt_ep(cl, sizeof cl, &c->side[GLASS_ANA_CLIENT].ep);
    fmt_ep(sv, sizeof sv, &c->side[GLASS_ANA_SERVER].ep);
    out_printf(b, "tcp.stream %" PRIu64 ": client %s, server %s, %s %s, ", c->stream, cl, sv,
               c->conn_state, c->history);
    out_printf(b, "%" PRIu64 " packets, ", c->side[0].pkts + c->side[1].pkts);
    fmt_time(b, c->last, c->first);
    out_puts(b, " s\n");
    out_printf(b, "  %-12s %-*s %-*s %s\n", "time", LADDER_STATE_W, "client", LADDER_ARROW_W + 1,
               "", "server");
    if (v != NULL && v->ladder.p != NULL)
        out_puts(b, v->ladder.p);
    if (v != NULL && v->ladder_more > 0)
        out_printf(b, "  ... %" PRIu64 " more segments not shown\n", v->ladder_more);
    for (int s = 0; s < 2; s++) {
        const struct glass_ana_side *sd = &c->side[s];
        out_printf(b, "  %s: %s", s == GLASS_ANA_CLIENT ? "client" : "server",
                   glass_ana_state_name(sd->state));
        if (sd->nhist > 0) {
            out_puts(b, " since ");
            fmt_time(b, sd->hist[sd->nhist - 1].at, r->t0);
        }
        if (sd->state == GLASS_TCP_TIME_WAIT)
            out_puts(b, " (2MSL expiry is not in the capture)");
        else if (sd->state == GLASS_ANA_STATE_UNKNOWN)
            out_puts(b, " (never seen sending)");
        out_puts(b, "; path:");
        for (unsigned i = 0; i < sd->nhist; i++) {
            const struct glass_ana_transition *t = &sd->hist[i];
            if (i == 0)
                out_printf(b, " %s", glass_ana_state_name(t->from));
            out_printf(b, " -(%s)-> %s", glass_ana_cause_name(t->cause),
                       glass_ana_state_name(t->to));
        }
        if (sd->nhist == 0)
            out_puts(b, sd->state == GLASS_TCP_CLOSED ? " none (no listener: it answered RST)"
                                                      : " none");
        if (sd->hist_dropped > 0)
            out_printf(b, " (%u earlier changes not kept)", (unsigned)sd->hist_dropped);
        out_putc(b, '\n');
    }
    out_puts(b, "  anomalies: ");
    fmt_anomalies(b, c);
    out_puts(b, "\n\n");
}

/* ---- --json ------------------------------------------------------------------------------- */

static void json_time(struct out_buf *b, glass_time_t t, glass_time_t t0)
{
    fmt_time(b, t, t0);
}

static void json_states(struct run *r, struct out_buf *b, const struct glass_ana_side *sd)
{
    out_putc(b, '[');
    for (unsigned i = 0; i < sd->nhist; i++) {
        const struct glass_ana_transition *t = &sd->hist[i];
        out_puts(b, i > 0 ? ",{\"t\":" : "{\"t\":");
        json_time(b, t->at, r->t0);
        out_printf(b, ",\"frame\":%" PRIu64 ",\"from\":", t->frame);
        out_json_str(b, glass_ana_state_name(t->from));
        out_puts(b, ",\"state\":");
        out_json_str(b, glass_ana_state_name(t->to));
        out_puts(b, ",\"cause\":");
        out_json_str(b, glass_ana_cause_name(t->cause));
        out_putc(b, '}');
    }
    out_putc(b, ']');
}

static void json_conn(struct run *r, struct out_buf *b, const struct glass_ana_conn *c)
{
    char cl[32], sv[32];
    fmt_ep(cl, sizeof cl, &c->side[GLASS_ANA_CLIENT].ep);
    fmt_ep(sv, sizeof sv, &c->side[GLASS_ANA_SERVER].ep);
    out_printf(b, "{\"stream\":%" PRIu64 ",\"client\":", c->stream);
    out_json_str(b, cl);
    out_puts(b, ",\"server\":");
    out_json_str(b, sv);
    out_puts(b, ",\"start\":");
    json_time(b, c->first, r->t0);
    out_puts(b, ",\"duration\":");
    json_time(b, c->last, c->first);
    out_printf(b, ",\"first_frame\":%" PRIu64 ",\"last_frame\":%" PRIu64, c->first_frame,
               c->last_frame);
    out_printf(b, ",\"packets\":{\"client\":%" PRIu64 ",\"server\":%" PRIu64 "}", c->side[0].pkts,
               c->side[1].pkts);
    out_printf(b, ",\"bytes\":{\"client\":%" PRIu64 ",\"server\":%" PRIu64 "}", c->side[0].bytes,
               c->side[1].bytes);
    out_puts(b, ",\"client_state\":");
    out_json_str(b, glass_ana_state_name(c->side[0].state));
    out_puts(b, ",\"server_state\":");
    out_json_str(b, glass_ana_state_name(c->side[1].state));
    out_puts(b, ",\"client_states\":");
    json_states(r, b, &c->side[0]);
    out_puts(b, ",\"server_states\":");
    json_states(r, b, &c->side[1]);
    if (c->side[0].hist_dropped > 0 || c->side[1].hist_dropped > 0)
        out_printf(b, ",\"states_not_kept\":{\"client\":%u,\"server\":%u}",
                   (unsigned)c->side[0].hist_dropped, (unsigned)c->side[1].hist_dropped);
    out_puts(b, ",\"anomalies\":{");
    bool first = true;
    for (int k = 0; k < GLASS_ANA_NFLAGS; k++) {
        if (c->flag_count[k] == 0)
            continue;
        out_puts(b, first ? "" : ",");
        out_json_str(b, glass_ana_flag_field(k));
        out_printf(b, ":%" PRIu32, c->flag_count[k]);
        first = false;
    }
    for (int k = 0; k < GLASS_ANA_NNOTES; k++) {
        if (c->note_count[k] == 0)
            continue;
        out_puts(b, first ? "" : ",");
        out_json_str(b, glass_ana_note_field(k));
        out_printf(b, ":%" PRIu32, c->note_count[k]);
        first = false;
    }
    out_putc(b, '}');
    if (c->note_count[GLASS_ANA_NOTE_HALF_CLOSED] > 0) {
        out_puts(b, ",\"half_closed_seconds\":");
        json_time(b, c->half_closed_for, 0);
    }
    out_printf(b, ",\"midstream\":%s,\"reused_ports\":%s,\"conn_state\":",
               c->midstream ? "true" : "false", c->reused ? "true" : "false");
    out_json_str(b, c->conn_state);
    out_puts(b, ",\"history\":");
    out_json_str(b, c->history);
    out_puts(b, ",\"finalised\":");
    out_json_str(b, c->end);
    out_puts(b, "}");
}

/* ---- callbacks ----------------------------------------------------------------------------- */

static struct view *view_of(struct glass_ana_conn *c)
{
    if (c->user == NULL)
        c->user = calloc(1, sizeof(struct view));
    return c->user;
}

/* Decimal digits of v at p; returns the end. */
static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

/* One --fields row, in the column order of the tshark command of CONVENTIONS.md. Written by
 * hand: at millions of rows, printf is most of the run time. */
static void fields_row(const struct glass_ana_pkt_info *pi)
{
    char line[2 * 20 + 20 + 2 * GLASS_ANA_NFLAGS + 4];
    char *p = put_u64(line, pi->frame);
    *p++ = ',';
    if (pi->conn != NULL) {
        p = put_u64(p, pi->conn->stream);
        /* tshark also sets the retransmission field on fast and spurious ones. */
        uint32_t f = pi->flags;
        if (f & (GLASS_ANAF(FAST_RETRANSMISSION) | GLASS_ANAF(SPURIOUS_RETRANSMISSION)))
            f |= GLASS_ANAF(RETRANSMISSION);
        for (int k = 0; k < GLASS_ANA_NFLAGS; k++) {
            *p++ = ',';
            if (k == GLASS_ANA_DUPLICATE_ACK) {
                if (pi->dupack_num != 0)
                    p = put_u64(p, pi->dupack_num);
            } else if (f & (1u << k)) {
                *p++ = '1';
            }
        }
    } else {
        for (int k = 0; k < GLASS_ANA_NFLAGS; k++)
            *p++ = ',';
    }
    *p++ = '\n';
    fwrite(line, 1, (size_t)(p - line), stdout);
}

static void on_packet(void *ctx, const struct glass_ana_pkt_info *pi)
{
    struct run *r = ctx;
    if (!r->have_t0) {
        r->t0 = pi->at;
        r->have_t0 = true;
    }
    if (r->o.fields)
        fields_row(pi);
    if (pi->conn == NULL || !(r->o.verbose || r->html != NULL))
        return;
    struct view *v = view_of(pi->conn);
    if (v == NULL)
        return;
    if (r->o.verbose) {
        if (v->ladder_lines < LADDER_MAX_LINES) {
            ladder_line(r, v, pi);
            v->ladder_lines++;
        } else {
            v->ladder_more++;
        }
    }
    if (r->html != NULL) {
        if (pi->conn->first_frame == pi->frame && r->ladders < HTML_MAX_LADDERS) {
            v->html_ladder = true;
            r->ladders++;
        }
        if (!v->html_ladder)
            return;
        if (v->nsegs == HTML_MAX_SEGS) {
            v->more_segs++;
            return;
        }
        if (v->nsegs == v->capsegs) {
            size_t n = v->capsegs != 0 ? v->capsegs * 2 : 16;
            struct trace_seg *ns = realloc(v->segs, n * sizeof(*ns));
            if (ns == NULL)
                return;
            v->segs = ns;
            v->capsegs = n;
        }
        trace_seg_from(&v->segs[v->nsegs++], pi, r->o.absolute, r->t0);
    }
}

static void on_conn(void *ctx, struct glass_ana_conn *c)
{
    struct run *r = ctx;
    struct view *v = c->user;
    struct out_buf b;
    out_init(&b);
    if (r->o.json) {
        out_putc(&b, ','); /* the first comma is dropped when the array is written */
        json_conn(r, &b, c);
        trace_ro_put(&r->main_out, c->stream, &b);
    } else if (r->o.verbose) {
        ladder_block(r, &b, c, v);
        trace_ro_put(&r->main_out, c->stream, &b);
    } else if (!r->o.fields) {
        summary_row(&b, c);
        trace_ro_put(&r->main_out, c->stream, &b);
    }
    out_free(&b);
    if (r->html != NULL)
        trace_report_conn(r->html, c, v != NULL ? v->segs : NULL, v != NULL ? v->nsegs : 0,
                          v != NULL ? v->more_segs : 0, r->t0);
    if (v != NULL) {
        out_free(&v->ladder);
        free(v->segs);
        free(v);
        c->user = NULL;
    }
}

/* ---- main ------------------------------------------------------------------------------------ */

static void trace_usage(FILE *f)
{
    fprintf(f,
            "usage: glass trace [-v] [--json] [--fields] [--html FILE] [--absolute]\n"
            "                   [--tshark-streams] [--idle S] [--linger S] FILE\n"
            "\n"
            "Reconstruct the TCP connections of a capture (pcap or pcapng; Ethernet, raw IP,\n"
            "Linux cooked or BSD loopback framing), infer both endpoints' RFC 9293 states\n"
            "packet by packet, and flag what Wireshark's TCP analysis flags. No stack needed.\n"
            "\n"
            "  (default)     one line per connection: endpoints, duration, packets, bytes each\n"
            "                way (> client to server, < back), final states, Zeek conn_state and\n"
            "                history, anomaly counts\n"
            "  -v, --verbose\n"
            "                a ladder per connection: time, client state, segment, server state,\n"
            "                Wireshark tags, the cause of each state change\n"
            "      --json    one JSON object with every connection and both sides' states\n"
            "      --fields  CSV aligned with tshark -T fields (see docs/trace.md), per frame\n"
            "      --html F  also write a self-contained HTML report (ladders, state diagram)\n"
            "      --absolute  absolute sequence numbers (default: relative, as Wireshark)\n"
            "      --tshark-streams  a SYN repeating its ISN after the connection is over\n"
            "                continues it, as in tshark (default: it starts a new one)\n"
            "      --idle S  a connection silent for S seconds is finalised (default 300)\n"
            "      --linger S  one closed on both sides is kept S seconds for late segments\n"
            "                (default 10); memory grows with connections per second x S\n"
            "\n"
            "Exit status: 0 ok, 1 unreadable or corrupt capture, 2 usage error.\n");
}

/* A positive number of seconds (at most a year), to nanoseconds. */
static bool parse_seconds(const char *s, glass_time_t *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v > 0) || v > 366.0 * 86400)
        return false;
    *out = (glass_time_t)(v * 1e9);
    return *out > 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"verbose", no_argument, NULL, 'v'},        {"json", no_argument, NULL, 'j'},
        {"fields", no_argument, NULL, 'f'},         {"html", required_argument, NULL, 'H'},
        {"absolute", no_argument, NULL, 'a'},       {"help", no_argument, NULL, 'h'},
        {"tshark-streams", no_argument, NULL, 'T'}, {"idle", required_argument, NULL, 'i'},
        {"linger", required_argument, NULL, 'l'},   {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof(*o));
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'v':
            o->verbose = true;
            break;
        case 'j':
            o->json = true;
            break;
        case 'f':
            o->fields = true;
            break;
        case 'H':
            o->html = optarg;
            break;
        case 'a':
            o->absolute = true;
            break;
        case 'T':
            o->tshark_streams = true;
            break;
        case 'i':
        case 'l':
            if (!parse_seconds(optarg, c == 'i' ? &o->idle : &o->linger)) {
                fprintf(stderr, "glass trace: bad --%s '%s' (want seconds, e.g. 30 or 0.5)\n",
                        c == 'i' ? "idle" : "linger", optarg);
                return GLASS_EXIT_USAGE;
            }
            break;
        case 'h':
            trace_usage(stdout);
            return -1;
        case ':':
            fprintf(stderr, "glass trace: option '%s' needs an argument\n", argv[optind - 1]);
            return GLASS_EXIT_USAGE;
        default:
            if (optopt != 0)
                fprintf(stderr, "glass trace: unknown option '-%c'; see 'glass trace --help'\n",
                        optopt);
            else
                fprintf(stderr, "glass trace: unknown option '%s'; see 'glass trace --help'\n",
                        argv[optind - 1]);
            return GLASS_EXIT_USAGE;
        }
    }
    if (o->json + o->fields + o->verbose > 1) {
        fprintf(stderr, "glass trace: choose one of -v, --json and --fields\n");
        return GLASS_EXIT_USAGE;
    }
    if (optind == argc) {
        fprintf(stderr, "glass trace: no capture file given; see 'glass trace --help'\n");
        return GLASS_EXIT_USAGE;
    }
    if (optind + 1 < argc) {
        fprintf(stderr, "glass trace: one capture file at a time ('%s' is extra)\n",
                argv[optind + 1]);
        return GLASS_EXIT_USAGE;
    }
    if (o->html != NULL && o->html[0] == '\0') {
        fprintf(stderr, "glass trace: --html needs a file name\n");
        return GLASS_EXIT_USAGE;
    }
    o->file = argv[optind];
    return 0;
}

/* libpcap reports DLT_* values; the analyzer takes LINKTYPE_* (they differ for raw IP). */
static int linktype_of(int dlt)
{
    switch (dlt) {
    case DLT_NULL:
        return GLASS_LINKTYPE_NULL;
    case DLT_EN10MB:
        return GLASS_LINKTYPE_ETHERNET;
    case DLT_RAW:
        return GLASS_LINKTYPE_RAW;
#ifdef DLT_IPV4
    case DLT_IPV4:
        return GLASS_LINKTYPE_IPV4;
#endif
    case DLT_LOOP:
        return GLASS_LINKTYPE_LOOP;
    case DLT_LINUX_SLL:
        return GLASS_LINKTYPE_LINUX_SLL;
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
        return GLASS_LINKTYPE_LINUX_SLL2;
#endif
    default:
        return -1;
    }
}

static void print_totals(const struct glass_ana_totals *t, const char *file)
{
    printf("%s: %" PRIu64 " frames, %" PRIu64 " TCP/IPv4 segments, %" PRIu64 " connections", file,
           t->frames, t->tcp, t->conns);
    uint64_t skipped = t->not_ip4 + t->not_tcp + t->fragments + t->malformed;
    if (skipped > 0)
        printf("; not analysed: %" PRIu64 " not IPv4, %" PRIu64 " not TCP, %" PRIu64
               " fragments, %" PRIu64 " malformed",
               t->not_ip4, t->not_tcp, t->fragments, t->malformed);
    printf("\n");
}

static void json_totals(struct run *r, const struct glass_ana_totals *t)
{
    struct out_buf b;
    out_init(&b);
    out_puts(&b, "{\"file\":");
    out_json_str(&b, r->o.file);
    out_printf(&b, ",\"packets\":%" PRIu64 ",\"tcp_packets\":%" PRIu64, t->frames, t->tcp);
    out_printf(&b,
               ",\"not_analysed\":{\"not_ipv4\":%" PRIu64 ",\"not_tcp\":%" PRIu64
               ",\"fragments\":%" PRIu64 ",\"malformed\":%" PRIu64 "}",
               t->not_ip4, t->not_tcp, t->fragments, t->malformed);
    out_printf(&b, ",\"connection_count\":%" PRIu64 ",\"peak_connections\":%" PRIu64, t->conns,
               t->peak_conns);
    out_puts(&b, ",\"anomalies\":{");
    bool first = true;
    for (int k = 0; k < GLASS_ANA_NFLAGS; k++) {
        if (t->flag_count[k] == 0)
            continue;
        out_puts(&b, first ? "" : ",");
        out_json_str(&b, glass_ana_flag_field(k));
        out_printf(&b, ":%" PRIu64, t->flag_count[k]);
        first = false;
    }
    for (int k = 0; k < GLASS_ANA_NNOTES; k++) {
        if (t->note_count[k] == 0)
            continue;
        out_puts(&b, first ? "" : ",");
        out_json_str(&b, glass_ana_note_field(k));
        out_printf(&b, ":%" PRIu64, t->note_count[k]);
        first = false;
    }
    out_puts(&b, "},\"connections\":[");
    out_flush(&b, stdout);
    out_free(&b);
}

/* The read-ahead ring (see the reading loop). */
#define AHEAD 32
#define FRAME_KEEP 256 /* bytes of each frame kept: every header the analyzer reads */

struct frame {
    glass_time_t at;
    size_t caplen, wirelen;
    struct glass_ana_hint hint;
    uint8_t data[FRAME_KEEP];
};

/* Feed one frame; true if the analyzer ran out of memory. */
static bool feed(struct run *r, const struct frame *fr, int lt)
{
    return glass_ana_packet(r->ana, fr->at, lt, fr->data, fr->caplen, fr->wirelen) < 0;
}

int glass_cmd_trace(int argc, char **argv)
{
    struct run r;
    memset(&r, 0, sizeof(r));
    int rc = parse_args(argc, argv, &r.o);
    if (rc != 0)
        return rc < 0 ? GLASS_EXIT_OK : rc;

    char err[PCAP_ERRBUF_SIZE];
    err[0] = '\0';
    pcap_t *p = pcap_open_offline_with_tstamp_precision(r.o.file, PCAP_TSTAMP_PRECISION_NANO, err);
    if (p == NULL) {
        /* libpcap often starts its message with the file name already */
        const char *why = err[0] != '\0' ? err : "cannot read it";
        size_t fl = strlen(r.o.file);
        if (strncmp(why, r.o.file, fl) == 0 && strncmp(why + fl, ": ", 2) == 0)
            why += fl + 2;
        fprintf(stderr, "glass trace: %s: %s\n", r.o.file, why);
        return GLASS_EXIT_FAILED;
    }
    int dlt = pcap_datalink(p);
    int lt = linktype_of(dlt);
    if (lt < 0 || !glass_ana_link_supported(lt)) {
        const char *name = pcap_datalink_val_to_name(dlt);
        fprintf(stderr,
                "glass trace: %s: link type %d (%s) is not supported (Ethernet, raw IP, Linux "
                "cooked or BSD loopback)\n",
                r.o.file, dlt, name != NULL ? name : "unknown");
        pcap_close(p);
        return GLASS_EXIT_FAILED;
    }

    r.main_out.out = stdout;
    if (r.o.json) {
        r.json_tmp = tmpfile();
        if (r.json_tmp == NULL) {
            fprintf(stderr, "glass trace: cannot create a temporary file for --json\n");
            pcap_close(p);
            return GLASS_EXIT_FAILED;
        }
        r.main_out.out = r.json_tmp;
    }
    if (r.o.html != NULL) {
        r.html = trace_report_new(r.o.file);
        if (r.html == NULL) {
            fprintf(stderr, "glass trace: out of memory\n");
            if (r.json_tmp != NULL)
                fclose(r.json_tmp);
            pcap_close(p);
            return GLASS_EXIT_FAILED;
        }
    }

    struct glass_ana_config cfg;
    glass_ana_config_default(&cfg);
    cfg.ctx = &r;
    cfg.on_conn = on_conn;
    if (r.o.tshark_streams)
        cfg.finished_syn_is_new = false;
    if (r.o.idle != 0)
        cfg.idle_timeout = r.o.idle;
    if (r.o.linger != 0)
        cfg.close_linger = r.o.linger;
    /* Per-frame work only when something needs it: summaries run without it. */
    cfg.on_packet = (r.o.fields || r.o.verbose || r.html != NULL) ? on_packet : NULL;
    r.ana = glass_ana_new(&cfg);
    if (r.ana == NULL) {
        fprintf(stderr, "glass trace: out of memory\n");
        if (r.json_tmp != NULL)
            fclose(r.json_tmp);
        trace_report_free(r.html);
        pcap_close(p);
        return GLASS_EXIT_FAILED;
    }

    if (r.o.fields)
        fputs(tshark_header, stdout);
    else if (!r.o.json && !r.o.verbose)
        summary_header();

    /* Frames go through a short ring: each is announced to the analyzer AHEAD frames before
     * it is fed (glass_ana_prefetch_*), so that its connection's memory is being loaded
     * meanwhile. Only the headers are kept (the analyzer reads nothing else; the segment
     * length comes from the IP header). */
    struct frame ring[AHEAD]; /* about 10 KiB */
    struct pcap_pkthdr *h;
    const u_char *data;
    int n;
    bool oom = false;
    uint64_t nread = 0, nfed = 0;
    while ((n = pcap_next_ex(p, &h, &data)) == 1) {
        struct frame *fr = &ring[nread % AHEAD];
        fr->at = (glass_time_t)h->ts.tv_sec * GLASS_NSEC_PER_SEC + (glass_time_t)h->ts.tv_usec;
        fr->caplen = h->caplen < sizeof fr->data ? h->caplen : sizeof fr->data;
        fr->wirelen = h->len > h->caplen ? h->len : h->caplen;
        memcpy(fr->data, data, fr->caplen);
        if (!r.have_t0) {
            r.t0 = fr->at;
            r.have_t0 = true;
        }
        glass_ana_prefetch_bucket(r.ana, lt, fr->data, fr->caplen, &fr->hint);
        nread++;
        if (nread > AHEAD / 2)
            glass_ana_prefetch_conn(r.ana, &ring[(nread - 1 - AHEAD / 2) % AHEAD].hint);
        if (nread == nfed + AHEAD)
            oom |= feed(&r, &ring[nfed++ % AHEAD], lt);
    }
    while (nfed < nread)
        oom |= feed(&r, &ring[nfed++ % AHEAD], lt);
    char readerr[PCAP_ERRBUF_SIZE + 64];
    readerr[0] = '\0';
    if (n == PCAP_ERROR)
        snprintf(readerr, sizeof readerr, "%s", pcap_geterr(p));
    glass_ana_finish(r.ana);
    trace_ro_finish(&r.main_out);

    const struct glass_ana_totals *t = glass_ana_totals(r.ana);
    uint64_t frames_read = t->frames;
    if (r.o.json) {
        json_totals(&r, t);
        rewind(r.json_tmp);
        char buf[65536];
        size_t got;
        bool first = true;
        while ((got = fread(buf, 1, sizeof buf, r.json_tmp)) > 0) {
            size_t skip = first && buf[0] == ',' ? 1 : 0;
            fwrite(buf + skip, 1, got - skip, stdout);
            first = false;
        }
        fclose(r.json_tmp);
        fputs("]}\n", stdout);
    } else if (!r.o.fields) {
        print_totals(t, r.o.file);
    }
    int status = GLASS_EXIT_OK;
    if (r.html != NULL) {
        char herr[256];
        if (trace_report_write(r.html, t, r.o.html, herr, sizeof herr) != 0) {
            fprintf(stderr, "glass trace: %s: %s\n", r.o.html, herr);
            status = GLASS_EXIT_FAILED;
        }
        trace_report_free(r.html);
    }
    glass_ana_free(r.ana);
    pcap_close(p);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "glass trace: cannot write the output\n");
        status = GLASS_EXIT_FAILED;
    }
    if (readerr[0] != '\0') {
        fprintf(stderr, "glass trace: %s: %s (reported the %" PRIu64 " frames before it)\n",
                r.o.file, readerr, frames_read);
        status = GLASS_EXIT_FAILED;
    } else if (oom || r.main_out.oom) {
        fprintf(stderr, "glass trace: out of memory: some connections were not analysed\n");
        status = GLASS_EXIT_FAILED;
    }
    return status;
}
