/* glass ss --diagnose — connections in states that usually mean a fault, each explained with
 * who owes the next packet and the evidence (the connection's figures, its history, the
 * stack's counters and transition ring). Every finding names a section of
 * docs/troubleshooting.md; the names below are those sections' anchors. */
#define _GNU_SOURCE
#include "ctl_client.h"
#include "out.h"
#include "ss.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIAG_SYNRCVD_PILE 5   /* SYN_RCVD children of one listener that make a pile */
#define DIAG_TW_PILE 50       /* TIME_WAIT connections of one local address:port */
#define DIAG_RTO_REPEATED 2   /* consecutive timeouts of one segment */
#define DIAG_RST_STORM 10     /* resets in the window below */
#define DIAG_RST_WINDOW_MS 10000.0

struct diag_ctx {
    FILE *f;
    const struct ss_source *src;
    bool json;
    size_t count;
    char profile[16];
    double tw_ms, fw2_ms, ports, uptime_ms;
};

static double num(const char *obj, const char *key)
{
    char v[64];
    if (!glass_ctl_json_get(obj, key, v, sizeof v) || strcmp(v, "null") == 0)
        return 0.0;
    return strtod(v, NULL);
}

static void str(const char *obj, const char *key, char *out, size_t cap)
{
    if (!glass_ctl_json_get(obj, key, out, cap))
        out[0] = '\0';
}

/* One finding: name (= the doc's anchor), the connection (or NULL), who owes the next packet,
 * the one-line explanation and the evidence. */
static void report(struct diag_ctx *d, const char *name, const char *row, const char *owes,
                   const char *why, const char *evidence)
{
    char local[48] = "", peer[48] = "", state[32] = "";
    if (row != NULL) {
        str(row, "local", local, sizeof local);
        str(row, "peer", peer, sizeof peer);
        str(row, "state", state, sizeof state);
    }
    d->count++;
    if (d->json) {
        struct out_buf b;
        out_init(&b);
        out_printf(&b, "{\"diagnosis\":");
        out_json_str(&b, name);
        if (row != NULL) {
            out_printf(&b, ",\"conn\":%.0f,\"state\":", num(row, "id"));
            out_json_str(&b, state);
            out_printf(&b, ",\"local\":");
            out_json_str(&b, local);
            out_printf(&b, ",\"peer\":");
            out_json_str(&b, peer);
        }
        out_printf(&b, ",\"owes\":");
        out_json_str(&b, owes);
        out_printf(&b, ",\"explanation\":");
        out_json_str(&b, why);
        out_printf(&b, ",\"evidence\":");
        out_json_str(&b, evidence);
        out_printf(&b, ",\"profile\":");
        out_json_str(&b, d->profile);
        out_printf(&b, ",\"doc\":\"docs/troubleshooting.md#%s\"}\n", name);
        out_flush(&b, d->f);
        out_free(&b);
        return;
    }
    if (row != NULL)
        fprintf(d->f, "%s  %s %s <-> %s (cid %.0f)\n", name, state, local, peer, num(row, "id"));
    else
        fprintf(d->f, "%s\n", name);
    fprintf(d->f, "  %s\n  next packet owed by: %s\n  evidence: %s\n", why, owes, evidence);
    fprintf(d->f, "  see docs/troubleshooting.md#%s\n\n", name);
}

/* The last transition of a connection into `to` (from its history): time and segment. */
static bool last_into(struct diag_ctx *d, const char *row, const char *to, char *out, size_t cap)
{
    char cmd[48];
    snprintf(cmd, sizeof cmd, "history %.0f", num(row, "id"));
    size_t len = 0;
    char *h = d->src->query(d->src->ctx, cmd, &len);
    if (h == NULL)
        return false;
    bool found = false;
    for (char *save = NULL, *l = strtok_r(h, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        char t[32] = "", cause[32] = "", fl[16] = "";
        str(l, "to", t, sizeof t);
        if (strcmp(t, to) != 0)
            continue;
        str(l, "cause", cause, sizeof cause);
        if (glass_ctl_json_get(l, "flags", fl, sizeof fl))
            snprintf(out, cap, "t=%.3f s %s (segment %s seq=%.0f ack=%.0f len=%.0f)",
                     num(l, "t_ms") / 1000.0, cause, fl, num(l, "seq"), num(l, "ack"),
                     num(l, "len"));
        else
            snprintf(out, cap, "t=%.3f s %s", num(l, "t_ms") / 1000.0, cause);
        found = true;
    }
    free(h);
    return found;
}

static double mib(const char *mibtext, const char *name)
{
    char pat[80];
    snprintf(pat, sizeof pat, "{\"name\":\"%s\",", name);
    const char *p = mibtext != NULL ? strstr(mibtext, pat) : NULL;
    return p != NULL ? num(p, "value") : 0.0;
}

static bool is(const char *row, const char *state)
{
    char s[32] = "";
    str(row, "state", s, sizeof s);
    return strcmp(s, state) == 0;
}

/* Connection-by-connection findings. */
static void diag_conn(struct diag_ctx *d, const char *row, double age_ms, const char *mibtext)
{
    char ev[512], when[200] = "no transition recorded";
    double since = num(row, "since_ms"), retr = num(row, "retrans");
    bool orphan = strstr(row, "\"orphan\":true") != NULL;
    if (is(row, "CLOSE_WAIT") && since >= age_ms && retr < DIAG_RTO_REPEATED) {
        last_into(d, row, "CLOSE_WAIT", when, sizeof when);
        snprintf(ev, sizeof ev,
                 "CLOSE-WAIT for %.3f s; the peer's FIN: %s; recv_q %.0f; socket fd %.0f still "
                 "open",
                 since / 1000.0, when, num(row, "recv_q"), num(row, "fd"));
        report(d, "close-wait-held", row, "this side: the local application (close(), then our FIN)",
               "the peer closed its side and this application never called close(): a "
               "descriptor leak or a missing close on end-of-file",
               ev);
    }
    if (is(row, "FIN_WAIT_2") && since >= age_ms) {
        last_into(d, row, "FIN_WAIT_2", when, sizeof when);
        if (orphan)
            snprintf(ev, sizeof ev,
                     "FIN-WAIT-2 for %.3f s, our FIN acknowledged (%s); orphaned: the "
                     "FIN_WAIT_2 timer ends it after %.0f s (profile %s)",
                     since / 1000.0, when, d->fw2_ms / 1000.0, d->profile);
        else
            snprintf(ev, sizeof ev,
                     "FIN-WAIT-2 for %.3f s, our FIN acknowledged (%s); the socket is still "
                     "open (shutdown), so no timer ends it",
                     since / 1000.0, when);
        report(d, "fin-wait-2-no-fin", row, "the peer: its application (close(), then its FIN)",
               "the peer acknowledged our FIN but its application has not closed: its side "
               "sits in CLOSE-WAIT",
               ev);
    }
    if (is(row, "SYN_SENT") && retr >= 1) {
        snprintf(ev, sizeof ev,
                 "SYN retransmitted %.0f time(s), no SYN,ACK in %.3f s; next retry in %.0f ms; "
                 "TcpExtTCPSynRetrans %.0f (profile %s)",
                 retr, since / 1000.0, num(row, "timer_ms"), mib(mibtext, "TcpExtTCPSynRetrans"),
                 d->profile);
        report(d, "syn-sent-retrying", row, "the peer (its SYN,ACK)",
               "no answer to our SYN: the peer is down, a firewall drops the SYN silently, or "
               "its listen queue is full and dropping",
               ev);
    }
    if ((is(row, "ESTABLISHED") || is(row, "FIN_WAIT_1") || is(row, "CLOSING") ||
         is(row, "LAST_ACK") || is(row, "CLOSE_WAIT")) &&
        retr >= DIAG_RTO_REPEATED) {
        snprintf(ev, sizeof ev,
                 "%.0f consecutive timeouts of the same segment, rto %.0f ms, %.0f bytes "
                 "unacknowledged, last segment received %.0f ms ago; TcpExtTCPTimeouts %.0f "
                 "(profile %s)",
                 retr, num(row, "rto_ms"), num(row, "unacked"), num(row, "lastrcv_ms"),
                 mib(mibtext, "TcpExtTCPTimeouts"), d->profile);
        report(d, "repeated-rto", row, "the peer (an ACK)",
               "what we send is not acknowledged: the peer vanished or the path drops our "
               "segments (or its answers)",
               ev);
    } else if ((is(row, "LAST_ACK") || is(row, "FIN_WAIT_1") || is(row, "CLOSING")) &&
               since >= age_ms && num(row, "snd_wnd") > 0) {
        snprintf(ev, sizeof ev, "%s for %.3f s, %.0f bytes (our FIN included) unacknowledged",
                 is(row, "LAST_ACK") ? "LAST-ACK" : is(row, "CLOSING") ? "CLOSING" : "FIN-WAIT-1",
                 since / 1000.0, num(row, "unacked"));
        report(d, "fin-unacknowledged", row, "the peer (the ACK of our FIN)",
               "our FIN is not being acknowledged", ev);
    }
    bool synced = !is(row, "LISTEN") && !is(row, "SYN_SENT") && !is(row, "SYN_RCVD") &&
                  !is(row, "TIME_WAIT") && !is(row, "CLOSED");
    char timer[32] = "";
    str(row, "timer", timer, sizeof timer);
    if (synced && (strcmp(timer, "persist") == 0 ||
                   (num(row, "snd_wnd") == 0 && num(row, "send_q") > 0))) {
        snprintf(ev, sizeof ev,
                 "the peer advertises a zero window; %.0f bytes wait to be sent; window probes "
                 "(persist timer) %s; last segment received %.0f ms ago",
                 num(row, "send_q"), strcmp(timer, "persist") == 0 ? "running" : "not armed",
                 num(row, "lastrcv_ms"));
        report(d, "zero-window-stall", row, "the peer: its application (read, then a window update)",
               "the peer's receive buffer is full because its application does not read", ev);
    }
    /* Receiver-side silly window avoidance (RFC 9293 §3.8.6.2.2) advertises 0 for less than
     * one MSS of space, so that is a zero window too. */
    if (synced && num(row, "rcv_wnd") < num(row, "rcv_mss") && num(row, "recv_q") > 0) {
        snprintf(ev, sizeof ev,
                 "our receive window is %.0f bytes (under one MSS: advertised as zero); %.0f "
                 "bytes received and not read by the application (TcpExtTCPToZeroWindowAdv "
                 "%.0f)",
                 num(row, "rcv_wnd"), num(row, "recv_q"),
                 mib(mibtext, "TcpExtTCPToZeroWindowAdv"));
        report(d, "zero-window-stall", row, "this side: the local application (read())",
               "our receive buffer is full because the local application does not read", ev);
    }
}

static int tw_cmp(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b); /* struct tw begins with local[] */
}

/* Findings about groups: SYN_RCVD and TIME_WAIT piles per local address:port, full accept
 * queues. */
static void diag_groups(struct diag_ctx *d, char **rows, size_t n, const char *mibtext)
{
    for (size_t i = 0; i < n; i++) {
        char lp[48] = "";
        str(rows[i], "local", lp, sizeof lp);
        if (is(rows[i], "LISTEN")) {
            char ev[320];
            double q = num(rows[i], "recv_q"), backlog = num(rows[i], "send_q");
            if (backlog > 0 && q >= backlog) {
                snprintf(ev, sizeof ev,
                         "accept queue %.0f of backlog %.0f; TcpExtListenOverflows %.0f, "
                         "TcpExtListenDrops %.0f",
                         q, backlog, mib(mibtext, "TcpExtListenOverflows"),
                         mib(mibtext, "TcpExtListenDrops"));
                report(d, "accept-queue-full", rows[i], "this side: the local application (accept())",
                       "completed connections wait and new ones are dropped: the application "
                       "does not call accept() fast enough",
                       ev);
            }
            /* SYN_RCVD children of this listener (their local endpoint is its port). */
            const char *colon = strrchr(lp, ':');
            size_t synrcvd = 0, resent = 0;
            for (size_t k = 0; colon != NULL && k < n; k++) {
                char l2[48] = "";
                str(rows[k], "local", l2, sizeof l2);
                const char *c2 = strrchr(l2, ':');
                if (is(rows[k], "SYN_RCVD") && c2 != NULL && strcmp(c2, colon) == 0) {
                    synrcvd++;
                    resent += num(rows[k], "retrans") > 0;
                }
            }
            if (synrcvd >= DIAG_SYNRCVD_PILE) {
                snprintf(ev, sizeof ev,
                         "%zu connections in SYN-RECV on port %s, %zu of them with the SYN,ACK "
                         "retransmitted; accept queue %.0f/%.0f; TcpExtListenOverflows %.0f",
                         synrcvd, colon + 1, resent, q, backlog,
                         mib(mibtext, "TcpExtListenOverflows"));
                report(d, "syn-recv-pile", rows[i], "the peers (the ACK that completes each handshake)",
                       "SYNs arrive but the handshakes do not complete: a SYN flood (spoofed "
                       "sources), loss on the return path, or a full accept queue",
                       ev);
            }
        }
    }
    /* TIME_WAIT per local endpoint: one finding for the largest group (sorted by endpoint,
     * so thousands of rows cost n log n). */
    struct tw { char local[48]; const char *row; } *tws = malloc((n ? n : 1) * sizeof *tws);
    size_t tw_all = 0, best = 0;
    const char *best_row = NULL;
    double oldest = 0;
    for (size_t i = 0; tws != NULL && i < n; i++) {
        if (!is(rows[i], "TIME_WAIT"))
            continue;
        str(rows[i], "local", tws[tw_all].local, sizeof tws[tw_all].local);
        tws[tw_all++].row = rows[i];
        if (num(rows[i], "since_ms") > oldest)
            oldest = num(rows[i], "since_ms");
    }
    if (tws != NULL)
        qsort(tws, tw_all, sizeof *tws, tw_cmp);
    for (size_t i = 0, run = 0; i < tw_all; i++) {
        run = i > 0 && strcmp(tws[i].local, tws[i - 1].local) == 0 ? run + 1 : 1;
        if (run > best) {
            best = run;
            best_row = tws[i].row;
        }
    }
    free(tws);
    if (tw_all >= DIAG_TW_PILE && best_row != NULL) {
        char lp[48] = "", ev[480];
        str(best_row, "local", lp, sizeof lp);
        const char *colon = strrchr(lp, ':');
        bool server_port = false;
        for (size_t i = 0; colon != NULL && i < n; i++) {
            char l2[48] = "";
            str(rows[i], "local", l2, sizeof l2);
            const char *c2 = strrchr(l2, ':');
            server_port |= is(rows[i], "LISTEN") && c2 != NULL && strcmp(c2, colon) == 0;
        }
        double span_s = oldest > 0 ? oldest / 1000.0 : 1.0;
        double rate = (double)tw_all / span_s;
        snprintf(ev, sizeof ev,
                 "%zu in TIME-WAIT (%zu on %s%s), the oldest %.3f s: about %.1f closes/s; "
                 "TIME-WAIT lasts %.0f s (profile %s), so %.0f are held at that rate, against "
                 "%.0f ephemeral ports",
                 tw_all, best, lp, server_port ? ", a listening port" : "", oldest / 1000.0, rate,
                 d->tw_ms / 1000.0, d->profile, rate * d->tw_ms / 1000.0, d->ports);
        report(d, "time-wait-pileup", best_row, "nobody: TIME-WAIT is the active closer's duty",
               server_port ? "this server closes first, so it keeps every TIME-WAIT: let clients "
                             "close first (keep-alive), and use SO_REUSEADDR to restart"
                           : "this side closes first and keeps every TIME-WAIT: reuse connections, "
                             "let the peer close first, or widen the ephemeral port range",
               ev);
    }
}

/* Resets in the transition ring, within the last DIAG_RST_WINDOW_MS. */
static void diag_rst(struct diag_ctx *d, const char *mibtext)
{
    size_t len = 0;
    char *t = d->src->query(d->src->ctx, "transitions", &len);
    if (t == NULL)
        return;
    size_t rcv = 0, sent = 0;
    double last = 0;
    for (char *save = NULL, *l = strtok_r(t, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save))
        if (num(l, "t_ms") > last)
            last = num(l, "t_ms");
    free(t);
    t = d->src->query(d->src->ctx, "transitions", &len);
    if (t == NULL)
        return;
    double now = d->uptime_ms > last ? d->uptime_ms : last;
    for (char *save = NULL, *l = strtok_r(t, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        if (num(l, "t_ms") < now - DIAG_RST_WINDOW_MS)
            continue;
        char cause[32] = "";
        str(l, "cause", cause, sizeof cause);
        rcv += strcmp(cause, "rcv_rst") == 0;
        sent += strcmp(cause, "app_abort") == 0 || strcmp(cause, "close_unread") == 0;
    }
    free(t);
    if (rcv + sent >= DIAG_RST_STORM) {
        char ev[320];
        snprintf(ev, sizeof ev,
                 "in the last %.0f s: %zu connections ended by a received RST, %zu by one we "
                 "sent (abort or close with unread data); TcpOutRsts %.0f, TcpEstabResets %.0f, "
                 "TcpAttemptFails %.0f",
                 DIAG_RST_WINDOW_MS / 1000.0, rcv, sent, mib(mibtext, "TcpOutRsts"),
                 mib(mibtext, "TcpEstabResets"), mib(mibtext, "TcpAttemptFails"));
        report(d, "rst-storm", NULL,
               rcv >= sent ? "nobody (the connections are gone): the resets came from the peers"
                           : "nobody (the connections are gone): this side sent the resets",
               "many connections end in RST instead of FIN: refused connects, aborts, closes "
               "with unread data, or a middlebox injecting resets",
               ev);
    }
}

size_t glass_ss_diagnose(FILE *f, char **rows, size_t nrows, const struct ss_source *src,
                         glass_time_t age_ns, bool json)
{
    struct diag_ctx d = {.f = f, .src = src, .json = json, .tw_ms = 60000, .fw2_ms = 60000,
                         .ports = 28232};
    snprintf(d.profile, sizeof d.profile, "?");
    size_t len = 0;
    char *info = src->query(src->ctx, "config", &len);
    if (info != NULL) {
        char p[16] = "";
        if (glass_ctl_json_get(info, "profile", p, sizeof p))
            snprintf(d.profile, sizeof d.profile, "%s", p);
        if (glass_ctl_json_get(info, "time_wait_ms", p, sizeof p))
            d.tw_ms = num(info, "time_wait_ms");
        if (glass_ctl_json_get(info, "fin_wait_2_ms", p, sizeof p))
            d.fw2_ms = num(info, "fin_wait_2_ms");
        if (glass_ctl_json_get(info, "ephemeral_ports", p, sizeof p))
            d.ports = num(info, "ephemeral_ports");
        d.uptime_ms = num(info, "uptime_ms");
        free(info);
    }
    char *mibtext = src->query(src->ctx, "mib", &len);
    double age_ms = (double)age_ns / 1e6;
    for (size_t i = 0; i < nrows; i++)
        diag_conn(&d, rows[i], age_ms, mibtext);
    diag_groups(&d, rows, nrows, mibtext);
    diag_rst(&d, mibtext);
    free(mibtext);
    if (d.count == 0 && !json)
        fprintf(f, "no problems found in %zu connection%s (profile %s)\n", nrows,
                nrows == 1 ? "" : "s", d.profile);
    return d.count;
}
