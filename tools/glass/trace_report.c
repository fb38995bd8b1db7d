/* glass trace — output in stream order, and the self-contained HTML report of --html.
 *
 * The report is one file with inline CSS, SVG and a few lines of JavaScript (a filter for the
 * connection table); it loads nothing from the network. It has the capture's totals, the
 * RFC 9293 state diagram with the number of times each arc was taken in the capture (arcs
 * never taken are dashed), the table of connections, and for the first connections a ladder
 * diagram annotated with both sides' states and Wireshark's tags. Connection rows and ladders
 * are spooled to temporary files as connections are finalised, so memory stays bounded. */
#include "trace_report.h"

#include <glass/trace.h>
#include <glass/wire.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- texts in stream order ------------------------------------------------------------------- */

static void ro_write(struct trace_ro *r, struct trace_slot *s)
{
    if (s->len > 0)
        fwrite(s->text, 1, s->len, r->out);
    free(s->text);
    s->text = NULL;
    s->len = 0;
    s->used = false;
    r->waiting--;
}

static void ro_drain(struct trace_ro *r)
{
    while (r->cap > 0) {
        struct trace_slot *s = &r->ring[r->next % r->cap];
        if (!s->used)
            return;
        ro_write(r, s);
        r->next++;
    }
}

static bool ro_grow(struct trace_ro *r, size_t need)
{
    size_t ncap = r->cap != 0 ? r->cap : 64;
    while (ncap < need)
        ncap *= 2;
    struct trace_slot *nr = calloc(ncap, sizeof(*nr));
    if (nr == NULL)
        return false;
    for (size_t i = 0; i < r->cap; i++) {
        uint64_t k = r->next + i;
        struct trace_slot *s = &r->ring[k % r->cap];
        if (s->used)
            nr[k % ncap] = *s;
    }
    free(r->ring);
    r->ring = nr;
    r->cap = ncap;
    return true;
}

static void write_now(struct trace_ro *r, struct out_buf *b)
{
    if (b->len > 0)
        fwrite(b->p, 1, b->len, r->out);
    out_free(b);
}

void trace_ro_put(struct trace_ro *r, uint64_t k, struct out_buf *b)
{
    if (b->oom)
        r->oom = true;
    if (k < r->next) { /* its turn was given up (TRACE_RO_LIMIT) */
        write_now(r, b);
        return;
    }
    while (k - r->next >= TRACE_RO_LIMIT) { /* stop waiting for the lowest missing stream */
        if (r->cap > 0 && r->ring[r->next % r->cap].used)
            ro_write(r, &r->ring[r->next % r->cap]);
        r->next++;
        ro_drain(r);
    }
    if (k - r->next >= r->cap && !ro_grow(r, (size_t)(k - r->next) + 1)) {
        r->oom = true;
        write_now(r, b);
        return;
    }
    struct trace_slot *s = &r->ring[k % r->cap];
    s->text = b->p;
    s->len = b->len;
    s->used = true;
    r->waiting++;
    out_init(b); /* the slot owns the text now */
    ro_drain(r);
}

void trace_ro_finish(struct trace_ro *r)
{
    while (r->waiting > 0) {
        struct trace_slot *s = &r->ring[r->next % r->cap];
        if (s->used)
            ro_write(r, s);
        r->next++;
    }
    free(r->ring);
    r->ring = NULL;
    r->cap = 0;
}

/* ---- helpers -----------------------------------------------------------------------------------
 */

void trace_seg_from(struct trace_seg *s, const struct glass_ana_pkt_info *pi, bool absolute,
                    glass_time_t t0)
{
    memset(s, 0, sizeof(*s));
    s->at = pi->at >= t0 ? pi->at - t0 : 0;
    s->frame = pi->frame;
    s->seq = absolute ? pi->seq : pi->rel_seq;
    s->ack = absolute ? pi->ack : pi->rel_ack;
    s->len = pi->len;
    s->flags = pi->flags;
    s->notes = pi->notes;
    s->dupack_num = pi->dupack_num;
    s->dupack_frame = pi->dupack_frame;
    s->win = pi->win_scaled;
    s->dir = pi->dir;
    s->tcp_flags = pi->tcp_flags;
    s->state[0] = pi->state[0];
    s->state[1] = pi->state[1];
    s->nchanges = pi->nchanges;
    memcpy(s->changes, pi->changes, sizeof(s->changes));
}

static void html_esc(struct out_buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '<':
            out_puts(b, "&lt;");
            break;
        case '>':
            out_puts(b, "&gt;");
            break;
        case '&':
            out_puts(b, "&amp;");
            break;
        case '"':
            out_puts(b, "&quot;");
            break;
        default:
            out_putc(b, *s);
        }
    }
}

static void secs(struct out_buf *b, glass_time_t d)
{
    out_printf(b, "%" PRIu64 ".%06" PRIu64, d / GLASS_NSEC_PER_SEC,
               (d % GLASS_NSEC_PER_SEC) / 1000u);
}

static void endpoint(struct out_buf *b, const struct glass_endpoint *ep)
{
    char ip[16];
    out_printf(b, "%s:%u", glass_ip4_str(ep->addr, ip), (unsigned)ep->port);
}

/* ---- the report --------------------------------------------------------------------------- */

struct trace_report {
    char *capture;
    FILE *rows_f, *ladders_f;
    struct trace_ro rows, ladders;
    uint64_t nconns, nladders;
};

struct trace_report *trace_report_new(const char *capture_name)
{
    struct trace_report *rep = calloc(1, sizeof(*rep));
    if (rep == NULL)
        return NULL;
    size_t n = strlen(capture_name) + 1;
    rep->capture = malloc(n);
    if (rep->capture != NULL)
        memcpy(rep->capture, capture_name, n);
    rep->rows_f = tmpfile();
    rep->ladders_f = tmpfile();
    if (rep->capture == NULL || rep->rows_f == NULL || rep->ladders_f == NULL) {
        trace_report_free(rep);
        return NULL;
    }
    rep->rows.out = rep->rows_f;
    rep->ladders.out = rep->ladders_f;
    return rep;
}

void trace_report_free(struct trace_report *rep)
{
    if (rep == NULL)
        return;
    trace_ro_finish(&rep->rows);
    trace_ro_finish(&rep->ladders);
    if (rep->rows_f != NULL)
        fclose(rep->rows_f);
    if (rep->ladders_f != NULL)
        fclose(rep->ladders_f);
    free(rep->capture);
    free(rep);
}

static void anomaly_list(struct out_buf *b, const struct glass_ana_conn *c)
{
    size_t start = b->len;
    for (int k = 0; k < GLASS_ANA_NFLAGS; k++) {
        if (c->flag_count[k] != 0)
            out_printf(b, "%s%s&nbsp;%" PRIu32, b->len > start ? ", " : "", glass_ana_flag_tag(k),
                       c->flag_count[k]);
    }
    for (int k = 0; k < GLASS_ANA_NNOTES; k++) {
        if (c->note_count[k] == 0)
            continue;
        out_printf(b, "%s<span class=g>%s", b->len > start ? ", " : "", glass_ana_note_text(k));
        if (k == GLASS_ANA_NOTE_HALF_CLOSED) {
            out_puts(b, " for ");
            secs(b, c->half_closed_for);
            out_puts(b, " s");
        } else if (c->note_count[k] > 1) {
            out_printf(b, "&nbsp;%" PRIu32, c->note_count[k]);
        }
        out_puts(b, "</span>");
    }
    if (b->len == start)
        out_putc(b, '-');
}

static const char *state_class(int st)
{
    switch (st) {
    case GLASS_TCP_ESTABLISHED:
        return "est";
    case GLASS_TCP_CLOSED:
    case GLASS_TCP_TIME_WAIT:
        return "done";
    case GLASS_ANA_STATE_UNKNOWN:
        return "unk";
    default:
        return "mid";
    }
}

/* Ladder geometry. */
#define L_W 1100
#define L_CLIENT_X 250
#define L_SERVER_X 670
#define L_TOP 56
#define L_ROW 24

static void seg_text(struct out_buf *b, const struct trace_seg *s)
{
    char fl[9];
    out_printf(b, "%s seq=%" PRIu32, glass_tcp_flags_str(s->tcp_flags, fl), s->seq);
    if (s->tcp_flags & GLASS_TH_ACK)
        out_printf(b, " ack=%" PRIu32, s->ack);
    out_printf(b, " len=%" PRIu32 " win=%" PRIu32, s->len, s->win);
}

static void seg_tags(struct out_buf *b, const struct trace_seg *s)
{
    for (int k = 0; k < GLASS_ANA_NFLAGS; k++) {
        if (!(s->flags & (1u << k)))
            continue;
        if (k == GLASS_ANA_DUPLICATE_ACK)
            out_printf(b, "[TCP Dup ACK %" PRIu64 "#%" PRIu32 "] ", s->dupack_frame, s->dupack_num);
        else
            out_printf(b, "[%s] ", glass_ana_flag_tag(k));
    }
    for (int k = 0; k < GLASS_ANA_NNOTES; k++) {
        if (s->notes & (1u << k))
            out_printf(b, "[%s] ", glass_ana_note_text(k));
    }
}

static void ladder_svg(struct out_buf *b, const struct glass_ana_conn *c,
                       const struct trace_seg *segs, size_t n)
{
    unsigned h = (unsigned)(L_TOP + n * L_ROW + 30);
    out_printf(b,
               "<svg class=\"ladder\" width=\"%d\" height=\"%u\" viewBox=\"0 0 %d %u\" "
               "xmlns=\"http://www.w3.org/2000/svg\">\n",
               L_W, h, L_W, h);
    out_printf(b, "<text x=\"%d\" y=\"20\" class=\"hd\" text-anchor=\"middle\">client ",
               L_CLIENT_X);
    endpoint(b, &c->side[GLASS_ANA_CLIENT].ep);
    out_printf(b, "</text><text x=\"%d\" y=\"20\" class=\"hd\" text-anchor=\"middle\">server ",
               L_SERVER_X);
    endpoint(b, &c->side[GLASS_ANA_SERVER].ep);
    out_puts(b, "</text>\n");
    out_printf(b,
               "<line x1=\"%d\" y1=\"30\" x2=\"%d\" y2=\"%u\" class=\"life\"/><line x1=\"%d\" "
               "y1=\"30\" x2=\"%d\" y2=\"%u\" "
               "class=\"life\"/>\n",
               L_CLIENT_X, L_CLIENT_X, h - 10, L_SERVER_X, L_SERVER_X, h - 10);
    for (size_t i = 0; i < n; i++) {
        const struct trace_seg *s = &segs[i];
        unsigned y = (unsigned)(L_TOP + i * L_ROW);
        bool to_server = s->dir == GLASS_ANA_CLIENT;
        int x1 = to_server ? L_CLIENT_X : L_SERVER_X, x2 = to_server ? L_SERVER_X : L_CLIENT_X;
        bool bad = (s->flags & ~(GLASS_ANAF(WINDOW_UPDATE) | GLASS_ANAF(KEEP_ALIVE) |
                                 GLASS_ANAF(KEEP_ALIVE_ACK))) != 0 ||
                   s->notes != 0;
        out_printf(b, "<g><title>frame %" PRIu64 " at ", s->frame);
        secs(b, s->at);
        out_puts(b, " s</title>");
        out_printf(b, "<text x=\"8\" y=\"%u\" class=\"t\">", y + 4);
        secs(b, s->at);
        out_puts(b, "</text>");
        out_printf(b,
                   "<line x1=\"%d\" y1=\"%u\" x2=\"%d\" y2=\"%u\" class=\"seg%s%s\" "
                   "marker-end=\"url(#ah)\"/>",
                   x1, y, x2, y + 12, (s->tcp_flags & (GLASS_TH_SYN | GLASS_TH_FIN)) ? " sf" : "",
                   (s->tcp_flags & GLASS_TH_RST) ? " rst" : "");
        out_printf(b, "<text x=\"%d\" y=\"%u\" class=\"lbl\" text-anchor=\"middle\">",
                   (L_CLIENT_X + L_SERVER_X) / 2, y + 2);
        seg_text(b, s);
        out_puts(b, "</text>");
        if (s->flags != 0 || s->notes != 0) {
            out_printf(b, "<text x=\"%d\" y=\"%u\" class=\"tag%s\">", L_SERVER_X + 130, y + 8,
                       bad ? " bad" : "");
            seg_tags(b, s);
            out_puts(b, "</text>");
        }
        for (int side = 0; side < 2; side++) {
            bool changed = false;
            for (unsigned k = 0; k < s->nchanges; k++)
                changed = changed || s->changes[k].side == side;
            if (!changed)
                continue;
            int st = s->state[side];
            out_printf(b, "<text x=\"%d\" y=\"%u\" class=\"st %s\" text-anchor=\"%s\"><title>",
                       side == GLASS_ANA_CLIENT ? L_CLIENT_X - 8 : L_SERVER_X + 8, y + 12,
                       state_class(st), side == GLASS_ANA_CLIENT ? "end" : "start");
            for (unsigned k = 0; k < s->nchanges; k++) {
                const struct glass_ana_change *ch = &s->changes[k];
                if (ch->side != side)
                    continue;
                out_printf(b, "%s -> %s (%s) ", glass_ana_state_name(ch->from),
                           glass_ana_state_name(ch->to), glass_ana_cause_name(ch->cause));
            }
            out_printf(b, "</title>%s</text>", glass_ana_state_name(st));
        }
        out_puts(b, "</g>\n");
    }
    out_puts(b, "</svg>\n");
}

static void history_list(struct out_buf *b, const struct glass_ana_side *sd, glass_time_t t0)
{
    out_puts(b, "<ol class=hist>");
    for (unsigned i = 0; i < sd->nhist; i++) {
        const struct glass_ana_transition *t = &sd->hist[i];
        out_puts(b, "<li>");
        secs(b, t->at >= t0 ? t->at - t0 : 0);
        out_printf(b, " s, frame %" PRIu64 ": %s &rarr; <b>%s</b> <i>%s</i></li>", t->frame,
                   glass_ana_state_name(t->from), glass_ana_state_name(t->to),
                   glass_ana_cause_name(t->cause));
    }
    if (sd->hist_dropped > 0)
        out_printf(b, "<li>(%u more changes not kept)</li>", (unsigned)sd->hist_dropped);
    if (sd->state == GLASS_TCP_TIME_WAIT)
        out_puts(b, "<li>TIME_WAIT lasts 2MSL after this; its end is not in the capture</li>");
    out_puts(b, "</ol>");
}

void trace_report_conn(struct trace_report *rep, const struct glass_ana_conn *c,
                       const struct trace_seg *segs, size_t nsegs, uint64_t more_segs,
                       glass_time_t t0)
{
    struct out_buf b;
    out_init(&b);
    rep->nconns++;
    const struct glass_ana_side *cl = &c->side[GLASS_ANA_CLIENT], *sv = &c->side[GLASS_ANA_SERVER];
    out_printf(&b, "<tr><td>");
    if (segs != NULL)
        out_printf(&b, "<a href=\"#s%" PRIu64 "\">%" PRIu64 "</a>", c->stream, c->stream);
    else
        out_printf(&b, "%" PRIu64, c->stream);
    out_puts(&b, "</td><td>");
    endpoint(&b, &cl->ep);
    out_puts(&b, "</td><td>");
    endpoint(&b, &sv->ep);
    out_puts(&b, "</td><td class=n>");
    secs(&b, c->last - c->first);
    out_printf(&b,
               "</td><td class=n>%" PRIu64 "</td><td class=n>%" PRIu64 "</td><td class=n>%" PRIu64
               "</td><td class=%s>%s</td><td class=%s>%s</td><td>%s</td><td>",
               cl->pkts + sv->pkts, cl->bytes, sv->bytes, state_class(cl->state),
               glass_ana_state_name(cl->state), state_class(sv->state),
               glass_ana_state_name(sv->state), c->conn_state);
    html_esc(&b, c->history);
    out_puts(&b, "</td><td>");
    anomaly_list(&b, c);
    out_puts(&b, "</td></tr>\n");
    trace_ro_put(&rep->rows, c->stream, &b);

    if (segs == NULL) {
        out_free(&b);
        return;
    }
    rep->nladders++;
    out_printf(&b, "<section id=\"s%" PRIu64 "\"><h3>tcp.stream %" PRIu64 ": ", c->stream,
               c->stream);
    endpoint(&b, &cl->ep);
    out_puts(&b, " &rarr; ");
    endpoint(&b, &sv->ep);
    out_printf(&b, " <small>%s %s, %" PRIu64 " packets</small></h3>\n", c->conn_state, c->history,
               cl->pkts + sv->pkts);
    out_puts(&b, "<div class=cols><div><b>client</b> ");
    history_list(&b, cl, t0);
    out_puts(&b, "</div><div><b>server</b> ");
    history_list(&b, sv, t0);
    out_puts(&b, "</div><div><b>anomalies</b><p>");
    anomaly_list(&b, c);
    out_puts(&b, "</p></div></div>\n");
    ladder_svg(&b, c, segs, nsegs);
    if (more_segs > 0)
        out_printf(&b, "<p>&hellip; %" PRIu64 " more segments not drawn.</p>\n", more_segs);
    out_puts(&b, "</section>\n");
    trace_ro_put(&rep->ladders, c->stream, &b);
    out_free(&b);
}

/* ---- the state diagram ----------------------------------------------------------------------- */

/* Node positions after RFC 9293 Figure 5; CLOSED is drawn twice like in the figure: at the top
 * (where connections start) and at the bottom (where they end). */
#define D_W 820
#define D_H 600
#define N_W 118
#define N_H 30
#define CLOSED_BOTTOM GLASS_TCP_NSTATES

struct node {
    int x, y;
};

static struct node node_at(int st)
{
    switch (st) {
    case GLASS_TCP_CLOSED:
        return (struct node){410, 40};
    case GLASS_TCP_LISTEN:
        return (struct node){410, 120};
    case GLASS_TCP_SYN_RCVD:
        return (struct node){170, 200};
    case GLASS_TCP_SYN_SENT:
        return (struct node){650, 200};
    case GLASS_TCP_ESTABLISHED:
        return (struct node){410, 280};
    case GLASS_TCP_FIN_WAIT_1:
        return (struct node){110, 360};
    case GLASS_TCP_CLOSE_WAIT:
        return (struct node){650, 360};
    case GLASS_TCP_FIN_WAIT_2:
        return (struct node){110, 540};
    case GLASS_TCP_CLOSING:
        return (struct node){240, 430};
    case GLASS_TCP_LAST_ACK:
        return (struct node){650, 450};
    case GLASS_TCP_TIME_WAIT:
        return (struct node){240, 510};
    default: /* CLOSED_BOTTOM */
        return (struct node){410, 570};
    }
}

/* Where the segment from a's centre towards b's centre leaves a's box. */
static void box_exit(struct node a, double bx, double by, double *x, double *y)
{
    double dx = bx - a.x, dy = by - a.y;
    double tx = dx != 0 ? (N_W / 2.0 + 3) / (dx < 0 ? -dx : dx) : 1e9;
    double ty = dy != 0 ? (N_H / 2.0 + 3) / (dy < 0 ? -dy : dy) : 1e9;
    double t = tx < ty ? tx : ty;
    *x = a.x + dx * t;
    *y = a.y + dy * t;
}

static void diagram(struct out_buf *b, const struct glass_ana_totals *t)
{
    out_printf(b,
               "<svg class=\"fsm\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "xmlns=\"http://www.w3.org/2000/svg\">\n",
               D_W, D_H, D_W, D_H);
    size_t narcs = glass_tcp_arc_count();
    uint64_t maxc = 1;
    for (size_t i = 0; i < narcs; i++) {
        const struct glass_arc *a = glass_tcp_arc(i);
        if (t->arcs[a->from][a->to] > maxc)
            maxc = t->arcs[a->from][a->to];
    }
    for (size_t i = 0; i < narcs; i++) {
        const struct glass_arc *a = glass_tcp_arc(i);
        uint64_t n = t->arcs[a->from][a->to];
        struct node p = node_at(a->from);
        struct node q = node_at(a->to == GLASS_TCP_CLOSED ? CLOSED_BOTTOM : a->to);
        if (a->from == GLASS_TCP_CLOSED && a->to == GLASS_TCP_CLOSED)
            continue;
        /* A gentle curve, always bent to the same side of its direction, so that the two
         * arcs between a pair of states (LISTEN <-> SYN_RCVD) do not overlap. */
        double mx = (p.x + q.x) / 2.0, my = (p.y + q.y) / 2.0;
        double cx = mx - (q.y - p.y) * 0.12, cy = my + (q.x - p.x) * 0.12;
        double x1, y1, x2, y2;
        box_exit(p, cx, cy, &x1, &y1);
        box_exit(q, cx, cy, &x2, &y2);
        /* width grows with the share of the busiest arc */
        double w = n == 0 ? 1.0 : 1.5 + 4.0 * (double)n / (double)maxc;
        out_printf(b, "<g><title>%s -&gt; %s: %s; %" PRIu64 " in this capture</title>",
                   glass_tcp_state_name(a->from), glass_tcp_state_name(a->to), a->label, n);
        out_printf(b,
                   "<path d=\"M%.1f %.1fQ%.1f %.1f %.1f %.1f\" class=\"arc%s\" "
                   "stroke-width=\"%.1f\" marker-end=\"url(#ah)\"/>",
                   x1, y1, cx, cy, x2, y2, n == 0 ? " never" : "", w);
        if (n > 0)
            out_printf(b,
                       "<text x=\"%.1f\" y=\"%.1f\" class=\"cnt\" text-anchor=\"middle\">%" PRIu64
                       "</text>",
                       (x1 + 2 * cx + x2) / 4, (y1 + 2 * cy + y2) / 4 - 3, n);
        out_puts(b, "</g>\n");
    }
    for (int st = 0; st <= CLOSED_BOTTOM; st++) {
        struct node nd = node_at(st);
        int name_of = st == CLOSED_BOTTOM ? GLASS_TCP_CLOSED : st;
        out_printf(
            b,
            "<g><title>%s (RFC 9293: %s)</title><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
            "rx=\"8\" class=\"node\"/><text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
            "class=\"nm\">%s</text></g>\n",
            glass_tcp_state_name(name_of), glass_tcp_state_rfc_name(name_of), nd.x - N_W / 2,
            nd.y - N_H / 2, N_W, N_H, nd.x, nd.y + 5, glass_tcp_state_name(name_of));
    }
    out_puts(b, "</svg>\n");
}

static const char css[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
    "h1{font-size:1.4em}h3{font-size:1.1em;margin-top:2em}small{color:#666;font-weight:normal}"
    "table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid #ddd;padding:2px "
    "6px;"
    "text-align:left;vertical-align:top}th{background:#f3f3f3;position:sticky;top:0}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".est{color:#1a7f37}.done{color:#555}.mid{color:#b35900}.unk{color:#999}.g{color:#8250df}"
    ".cols{display:flex;gap:2em}.cols>div{flex:1}ol.hist{margin:.3em 0;padding-left:1.4em}"
    "svg text{font:12px ui-monospace,monospace}svg .hd{font-weight:bold}"
    ".life{stroke:#999;stroke-width:2}.seg{stroke:#2f6fbf;stroke-width:1.4}.seg.sf{stroke:#1a7f37}"
    ".seg.rst{stroke:#cf222e}.lbl{fill:#222}.t{fill:#666}.tag{fill:#8a6d00}.tag.bad{fill:#cf222e}"
    ".st{font-weight:bold}.st.est{fill:#1a7f37}.st.done{fill:#555}.st.mid{fill:#b35900}"
    ".node{fill:#f6f8fa;stroke:#444}.nm{font-weight:bold}.arc{stroke:#2f6fbf;fill:none}"
    ".arc.never{stroke:#bbb;stroke-dasharray:4 3}.cnt{fill:#cf222e;font-weight:bold}"
    "#flt{margin:.5em 0;padding:3px;width:24em}";

static const char js[] =
    "document.getElementById('flt').addEventListener('input',function(){"
    "var q=this.value.toLowerCase();"
    "document.querySelectorAll('#conns tbody tr').forEach(function(r){"
    "r.style.display=r.textContent.toLowerCase().indexOf(q)<0?'none':'';});});";

static bool copy_file(FILE *from, FILE *to)
{
    char buf[65536];
    size_t n;
    rewind(from);
    while ((n = fread(buf, 1, sizeof buf, from)) > 0) {
        if (fwrite(buf, 1, n, to) != n)
            return false;
    }
    return !ferror(from);
}

int trace_report_write(struct trace_report *rep, const struct glass_ana_totals *t, const char *path,
                       char *err, size_t errcap)
{
    trace_ro_finish(&rep->rows);
    trace_ro_finish(&rep->ladders);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        snprintf(err, errcap, "cannot write: %s", strerror(errno));
        return -1;
    }
    struct out_buf b;
    out_init(&b);
    out_puts(&b, "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>glass trace: ");
    html_esc(&b, rep->capture);
    out_printf(&b, "</title><style>%s</style></head><body>\n<h1>glass trace: ", css);
    html_esc(&b, rep->capture);
    out_printf(&b,
               "</h1>\n<p>%" PRIu64 " frames, %" PRIu64 " TCP/IPv4 segments, %" PRIu64
               " connections (at most %" PRIu64 " at once). Not analysed: %" PRIu64
               " not IPv4, %" PRIu64 " not TCP, %" PRIu64 " IPv4 fragments, %" PRIu64
               " malformed.</p>\n",
               t->frames, t->tcp, t->conns, t->peak_conns, t->not_ip4, t->not_tcp, t->fragments,
               t->malformed);
    out_puts(&b, "<p>Anomalies: ");
    size_t start = b.len;
    for (int k = 0; k < GLASS_ANA_NFLAGS; k++) {
        if (t->flag_count[k] != 0)
            out_printf(&b, "%s<code>%s</code>&nbsp;%" PRIu64, b.len > start ? ", " : "",
                       glass_ana_flag_field(k), t->flag_count[k]);
    }
    for (int k = 0; k < GLASS_ANA_NNOTES; k++) {
        if (t->note_count[k] != 0)
            out_printf(&b, "%s<code>%s</code>&nbsp;%" PRIu64, b.len > start ? ", " : "",
                       glass_ana_note_field(k), t->note_count[k]);
    }
    if (b.len == start)
        out_puts(&b, "none");
    out_puts(&b, ".</p>\n<h2>The RFC 9293 state diagram, as this capture walks it</h2>\n"
                 "<p>Each arc is labelled with the number of times a side of a connection took "
                 "it, as inferred from the capture; dashed arcs were never taken. CLOSED is drawn "
                 "at the top (where connections start) and at the bottom (where they end).");
    uint64_t mid = 0;
    for (int st = 0; st <= GLASS_TCP_NSTATES; st++)
        mid += t->arcs[GLASS_ANA_STATE_UNKNOWN][st];
    if (mid > 0)
        out_printf(&b, " %" PRIu64 " sides started in the middle of a connection (not drawn).",
                   mid);
    out_puts(&b, "</p>\n<svg width=\"0\" height=\"0\"><defs><marker id=\"ah\" viewBox=\"0 0 10 "
                 "10\" refX=\"9\" markerUnits=\"userSpaceOnUse\" "
                 "refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
                 "orient=\"auto-start-reverse\"><path d=\"M0 0L10 "
                 "5L0 10z\" fill=\"#555\"/></marker></defs></svg>\n");
    diagram(&b, t);
    out_printf(&b,
               "<h2>Connections</h2>\n<input id=flt placeholder=\"filter rows (address, "
               "state, anomaly...)\">\n<table id=conns><thead><tr><th>stream</th><th>client</th>"
               "<th>server</th><th>duration s</th><th>pkts</th><th>bytes &rarr;</th>"
               "<th>bytes &larr;</th><th>client state</th><th>server state</th><th>conn</th>"
               "<th>history</th><th>anomalies</th></tr></thead><tbody>\n");
    out_flush(&b, f);
    bool ok = copy_file(rep->rows_f, f);
    out_printf(&b,
               "</tbody></table>\n<h2>Ladders</h2>\n<p>%" PRIu64
               " connections drawn (the first %" PRIu64
               " in the capture); hover an arrow for its frame, a state for its cause.</p>\n",
               rep->nladders, rep->nladders);
    out_flush(&b, f);
    ok = ok && copy_file(rep->ladders_f, f);
    out_printf(&b, "<script>%s</script>\n</body></html>\n", js);
    out_flush(&b, f);
    bool oom = b.oom || rep->rows.oom || rep->ladders.oom;
    out_free(&b);
    if (fclose(f) != 0 || !ok) {
        snprintf(err, errcap, "cannot write: %s", strerror(errno));
        return -1;
    }
    if (oom) {
        snprintf(err, errcap, "out of memory: the report is incomplete");
        return -1;
    }
    return 0;
}
