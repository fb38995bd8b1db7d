/* glass pkt — the interpreter: one glasstcp stack in virtual time, driven by a script.
 *
 * Time. Script times are microseconds from the first event (which must be at 0). Relative
 * times are taken from the moment the previous event finished (from the previous event's
 * script time when both are inbound packets), as packetdrill does. Between events the stack's
 * timers run at their exact deadlines (glass_stack_next_deadline), so a retransmission is seen
 * at the virtual time it is sent. An event is on time if it is within packetdrill's tolerance:
 * max(tolerance_usecs, tolerance_percent of the time since the previous event).
 *
 * Packets. packetdrill's socket model decides which 4-tuple and which ISNs a script packet
 * stands for: socket() makes the newest socket the "socket under test"; an inbound packet to a
 * listener (or with no socket) makes a child with a fresh remote port and takes its sequence
 * number as the remote ISN; the `> S.` / `> S` matched makes the stack's ISN known. Inbound
 * sequence numbers are relative to the remote ISN (a SYN's is absolute), outbound ones to the
 * stack's ISN. Outbound packets of other 4-tuples are passed over, as packetdrill's sniffer
 * does. An expected packet with more payload than one segment is matched by consecutive
 * segments (TSO on Linux), unless --strict_segments. */
#define _POSIX_C_SOURCE 200809L

#include "pkt_run.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glass/err.h>
#include <glass/info.h>
#include <glass/stats.h>
#include <glass/wire.h>

#define NS_PER_US UINT64_C(1000)
#define NO_TIME INT64_MIN
#define MAX_CONNS 512
/* Script times are capped so that sums of them stay far from int64 overflow. */
#define MAX_SCRIPT_US (INT64_C(1000000000) * 1000000) /* ~31 years */

/* ---- outcome ------------------------------------------------------------------------------ */

static void vlog(struct pkt_runner *R, const char *fmt, ...) PKT_PRINTF(2, 3);

static void set_outcome(struct pkt_runner *R, enum pkt_outcome o, int line, const char *fmt,
                        va_list ap)
{
    if (R->stop)
        return;
    R->stop = true;
    R->outcome = o;
    char m[1024];
    vsnprintf(m, sizeof m, fmt, ap);
    if (o == PKT_FAIL)
        out_printf(R->msg, "%s:%d: %s", R->s->path, line, m);
    else
        out_printf(R->msg, "%s (line %d)", m, line);
    vlog(R, "            %s: %s\n", o == PKT_FAIL ? "FAIL" : "SKIP", m);
}

void pkt_fail(struct pkt_runner *R, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_outcome(R, PKT_FAIL, line, fmt, ap);
    va_end(ap);
}

void pkt_skip(struct pkt_runner *R, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_outcome(R, PKT_SKIP, line, fmt, ap);
    va_end(ap);
}

static void vlog(struct pkt_runner *R, const char *fmt, ...)
{
    if (!R->verbose || R->log == NULL)
        return;
    char m[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    out_puts(R->log, m);
}

static const char *fmt_us(int64_t us, char buf[32])
{
    const char *sign = us < 0 ? "-" : "";
    uint64_t a = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
    snprintf(buf, 32, "%s%" PRIu64 ".%06" PRIu64, sign, a / 1000000u, a % 1000000u);
    return buf;
}

int64_t pkt_now_us(const struct pkt_runner *R)
{
    return (int64_t)(R->now_ns / NS_PER_US);
}

/* ---- sockets (packetdrill's model) ---------------------------------------------------------- */

struct pkt_sock *pkt_sock_new(struct pkt_runner *R)
{
    if (R->nsocks >= PKT_MAX_SOCKS)
        return NULL;
    struct pkt_sock *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->script_fd = -1;
    s->live_fd = -1;
    R->socks[R->nsocks++] = s;
    return s;
}

struct pkt_sock *pkt_sock_by_fd(struct pkt_runner *R, int script_fd)
{
    struct pkt_sock *closed = NULL;
    for (size_t i = R->nsocks; i-- > 0;) {
        struct pkt_sock *s = R->socks[i];
        if (s->script_fd != script_fd || s->live_fd < 0)
            continue;
        if (!s->closed)
            return s;
        if (closed == NULL)
            closed = s;
    }
    return closed;
}

/* ---- the stack and virtual time -------------------------------------------------------------- */

static void observer(void *ctx, const struct glass_transition *t)
{
    struct pkt_runner *R = ctx;
    if (R->ntr < PKT_MAX_TRANSITIONS)
        R->tr[R->ntr++] = *t;
    else
        R->tr_lost++;
}

void pkt_drain(struct pkt_runner *R)
{
    if (R->st == NULL)
        return;
    for (;;) {
        uint8_t buf[65536];
        long n = glass_stack_output(R->st, R->now_ns, buf, sizeof buf);
        if (n <= 0)
            return;
        glass_pcapw_stack_packet(R->o->pcap, R->o->pcapng, R->st, R->o->pcap_base + R->now_ns,
                                 buf, (size_t)n, false);
        if (R->qlen == R->qcap) {
            size_t ncap = R->qcap ? R->qcap * 2 : 64;
            struct pkt_outpkt *nq = malloc(ncap * sizeof *nq);
            if (nq == NULL) {
                pkt_fail(R, 0, "out of memory");
                return;
            }
            for (size_t i = 0; i < R->qlen; i++)
                nq[i] = R->q[(R->qhead + i) % R->qcap];
            free(R->q);
            R->q = nq;
            R->qcap = ncap;
            R->qhead = 0;
        }
        struct pkt_outpkt *p = &R->q[(R->qhead + R->qlen) % R->qcap];
        p->data = malloc((size_t)n);
        if (p->data == NULL) {
            pkt_fail(R, 0, "out of memory");
            return;
        }
        memcpy(p->data, buf, (size_t)n);
        p->len = (size_t)n;
        p->t_ns = R->now_ns;
        R->qlen++;
    }
}

static void check_time(struct pkt_runner *R, int line, enum pkt_time_type tt, int64_t t,
                       int64_t t_end, int64_t actual, int64_t last, const char *what);
static const char *conn_state(struct pkt_runner *R, struct pkt_sock *sk);
#define conn_state_name(R) conn_state((R), (R)->sut)

/* The blocking call running in the background: try it again. */
static void retry_pending(struct pkt_runner *R)
{
    if (!R->pending || R->stop)
        return;
    enum pkt_sys_status s = pkt_sys_attempt(R, &R->pend);
    if (s == SYS_BLOCK)
        return;
    R->pending = false;
    if (s == SYS_DONE) {
        struct out_buf b = {0};
        pkt_sys_result_str(&b, &R->pend);
        char tb[32];
        vlog(R, "%10s  %-13s     %s() returns %s\n", fmt_us(pkt_now_us(R), tb),
             conn_state_name(R), R->pend.ev->sc.name, b.p ? b.p : "?");
        out_free(&b);
        if (pkt_sys_check(R, &R->pend))
            check_time(R, R->pend.ev->line, R->pend_tt == PT_ANY ? PT_ANY : PT_ABS,
                       R->pend_end_us, 0, pkt_now_us(R), R->pend_start_us,
                       "system call return");
    }
    pkt_call_free(&R->pend);
}

/* When the stack or the pending call next needs time to pass (GLASS_TIME_NEVER if never). */
static uint64_t next_wake(struct pkt_runner *R)
{
    uint64_t d = glass_stack_next_deadline(R->st);
    if (R->pending && R->pend.deadline_ns < d && R->pend.name >= 0)
        d = R->pend.deadline_ns;
    if (d < R->now_ns)
        d = R->now_ns;
    return d;
}

/* Run every timer due up to t (ns) at its own deadline, then set the clock to t. */
static void step_to(struct pkt_runner *R, uint64_t t)
{
    unsigned same = 0;
    while (!R->stop) {
        uint64_t d = next_wake(R);
        if (d == GLASS_TIME_NEVER || d > t)
            break;
        if (d == R->now_ns) {
            /* something is due now: one pass must consume it */
            if (++same > 1000u) {
                pkt_fail(R, R->prev != NULL ? R->prev->line : 0,
                         "a stack timer stays due at %" PRIu64 " ns", R->now_ns);
                return;
            }
        } else {
            same = 0;
        }
        R->now_ns = d;
        glass_stack_advance(R->st, R->now_ns);
        pkt_drain(R);
        retry_pending(R);
    }
    if (R->stop)
        return;
    if (t > R->now_ns)
        R->now_ns = t;
    glass_stack_advance(R->st, R->now_ns);
    pkt_drain(R);
    retry_pending(R);
}

/* ---- timing ---------------------------------------------------------------------------------- */

static int64_t tolerance(const struct pkt_runner *R, int64_t t, int64_t last)
{
    int64_t tol = R->tol_us;
    if (last != NO_TIME) {
        double dyn = R->tol_pct / 100.0 * (double)(t - last);
        if (dyn > (double)tol)
            tol = (int64_t)dyn;
    }
    return tol;
}

static void check_time(struct pkt_runner *R, int line, enum pkt_time_type tt, int64_t t,
                       int64_t t_end, int64_t actual, int64_t last, const char *what)
{
    if (tt == PT_ANY || R->stop)
        return;
    int64_t tol = tolerance(R, t, last);
    char a[32], b[32], c[32], d[32];
    if (tt == PT_ABS_RANGE || tt == PT_REL_RANGE) {
        if (actual < t - tol || actual > t_end + tol)
            pkt_fail(R, line, "timing error: expected %s in time range %s~%s sec but happened "
                              "at %s sec", what, fmt_us(t, a), fmt_us(t_end, b),
                     fmt_us(actual, c));
        return;
    }
    if (actual < t - tol || actual > t + tol)
        pkt_fail(R, line, "timing error: expected %s at %s sec but happened at %s sec; "
                          "tolerance %s sec", what, fmt_us(t, a), fmt_us(actual, b),
                 fmt_us(tol, d));
    (void)c;
}

/* ---- configuration: options and sysctl commands --------------------------------------------- */

static bool parse_u64(const char *s, uint64_t *v)
{
    if (s == NULL || *s == '\0')
        return false;
    char *end;
    unsigned long long x = strtoull(s, &end, 10);
    if (*end != '\0' || s[0] == '-')
        return false;
    *v = x;
    return true;
}

static bool apply_option(struct pkt_runner *R, const struct pkt_option *o)
{
    uint64_t v;
    uint32_t a;
    const char *n = o->name;
    if (strcmp(n, "tolerance_usecs") == 0 && parse_u64(o->value, &v) && v > 0 &&
        v < UINT64_C(1) << 40) {
        R->tol_us = (int64_t)v;
        return true;
    }
    if (strcmp(n, "tolerance_percent") == 0 && o->value != NULL) {
        char *end;
        double p = strtod(o->value, &end);
        if (*end == '\0' && p >= 0.0 && p <= 100.0) {
            R->tol_pct = p;
            return true;
        }
        return false;
    }
    if ((strcmp(n, "local_ip") == 0 || strcmp(n, "remote_ip") == 0) && o->value != NULL &&
        glass_ip4_parse(o->value, &a) == 0) {
        if (n[0] == 'l')
            R->local_ip = a;
        else
            R->remote_ip = a;
        return true;
    }
    if ((strcmp(n, "bind_port") == 0 || strcmp(n, "connect_port") == 0) &&
        parse_u64(o->value, &v) && v > 0 && v <= 0xffff) {
        if (n[0] == 'b')
            R->bind_port = (uint16_t)v;
        else
            R->connect_port = (uint16_t)v;
        return true;
    }
    if (strcmp(n, "mtu") == 0 && parse_u64(o->value, &v) && v >= 68 && v <= 65535) {
        R->mtu = (unsigned)v;
        return true;
    }
    if (strcmp(n, "ip_version") == 0 && o->value != NULL && strcmp(o->value, "ipv4") == 0)
        return true;
    if (strcmp(n, "strict_segments") == 0 && o->value == NULL) {
        R->strict_segments = true;
        return true;
    }
    if ((strcmp(n, "verbose") == 0 || strcmp(n, "v") == 0) && o->value == NULL)
        return true; /* output only */
    /* the TUN device's netmask and gateway route nothing in virtual time */
    if ((strcmp(n, "netmask_ip") == 0 || strcmp(n, "gateway_ip") == 0) && o->value != NULL &&
        glass_ip4_parse(o->value, &a) == 0)
        return true;
    return false;
}

/* `sysctl -q net.ipv4.tcp_x=V` and `echo V > /proc/sys/net/ipv4/tcp_x`: the knobs that have a
 * glass_config field. Anything else makes the script skip. */
static bool apply_sysctl(struct pkt_runner *R, const char *key, const char *val)
{
    struct glass_config *c = &R->cfg;
    uint64_t v;
    if (strncmp(key, "/proc/sys/", 10) == 0)
        key += 10;
    char k[128];
    size_t n = strlen(key);
    if (n >= sizeof k)
        return false;
    for (size_t i = 0; i <= n; i++)
        k[i] = key[i] == '/' ? '.' : key[i];
    if (strcmp(k, "net.ipv4.tcp_congestion_control") == 0) {
        if (strcmp(val, "cubic") == 0)
            c->cc = GLASS_CC_CUBIC;
        else if (strcmp(val, "reno") == 0 || strcmp(val, "newreno") == 0)
            c->cc = GLASS_CC_NEWRENO;
        else
            return false;
        return true;
    }
    if (!parse_u64(val, &v) || v > 0xffffffffu)
        return false;
    if (strcmp(k, "net.ipv4.tcp_rfc1337") == 0)
        c->rfc1337 = v != 0;
    else if (strcmp(k, "net.ipv4.tcp_timestamps") == 0)
        c->timestamps = v != 0;
    else if (strcmp(k, "net.ipv4.tcp_sack") == 0)
        c->sack = v != 0;
    else if (strcmp(k, "net.ipv4.tcp_window_scaling") == 0)
        c->window_scaling = v != 0;
    else if (strcmp(k, "net.ipv4.tcp_fin_timeout") == 0)
        c->fin_wait_2_timeout = (glass_time_t)v * GLASS_NSEC_PER_SEC;
    else if (strcmp(k, "net.ipv4.tcp_syn_retries") == 0 && v <= 255)
        c->syn_retries = (uint8_t)v;
    else if (strcmp(k, "net.ipv4.tcp_syn_linear_timeouts") == 0 && v <= 255)
        c->syn_linear_timeouts = (uint8_t)v;
    else if (strcmp(k, "net.ipv4.tcp_dsack") == 0)
        c->dsack = v != 0;
    else if (strcmp(k, "net.ipv4.tcp_pingpong_thresh") == 0 && v >= 1 && v <= 255)
        c->pingpong_thresh = (uint8_t)v;
    else if (strcmp(k, "net.ipv4.tcp_synack_retries") == 0 && v <= 255)
        c->synack_retries = (uint8_t)v;
    else if (strcmp(k, "net.ipv4.tcp_retries2") == 0 && v <= 255)
        c->retries2 = (uint8_t)v;
    else if (strcmp(k, "net.ipv4.tcp_orphan_retries") == 0 && v <= 255)
        c->orphan_retries = v == 0 ? 8 : (uint8_t)v; /* Linux: 0 means 8 */
    else if (strcmp(k, "net.ipv4.tcp_early_retrans") == 0 ||
             strcmp(k, "net.ipv4.tcp_recovery") == 0)
        c->rack = v != 0;
    else if (strcmp(k, "net.ipv4.tcp_keepalive_time") == 0)
        c->keepalive_time = (glass_time_t)v * GLASS_NSEC_PER_SEC;
    else if (strcmp(k, "net.ipv4.tcp_keepalive_intvl") == 0)
        c->keepalive_intvl = (glass_time_t)v * GLASS_NSEC_PER_SEC;
    else if (strcmp(k, "net.ipv4.tcp_keepalive_probes") == 0 && v <= 255)
        c->keepalive_probes = (uint8_t)v;
    else if (strcmp(k, "net.core.somaxconn") == 0)
        c->somaxconn = (uint32_t)v;
    else if (strcmp(k, "net.ipv4.tcp_syncookies") == 0 && v <= 2)
        c->syncookies = (uint8_t)v;
    else if (strcmp(k, "net.ipv4.tcp_tw_reuse") == 0 && v <= 2)
        c->tw_reuse = (uint8_t)v;
    else if (strcmp(k, "net.ipv4.tcp_max_tw_buckets") == 0)
        c->max_time_wait = (uint32_t)v;
    else if (strcmp(k, "net.ipv4.tcp_abort_on_overflow") == 0 ||
             strcmp(k, "net.ipv4.tcp_ecn") == 0 || strcmp(k, "net.ipv4.tcp_fastopen") == 0)
        return v == 0; /* glasstcp's only behaviour: accepted when asked for */
    else if (strcmp(k, "net.ipv4.tcp_no_metrics_save") == 0)
        return true; /* glasstcp keeps no per-destination metrics */
    else
        return false;
    return true;
}

/* One command line, possibly several commands separated by ';'. */
static bool apply_command(struct pkt_runner *R, const char *text)
{
    char buf[512];
    size_t n = strlen(text);
    if (n >= sizeof buf)
        return false;
    memcpy(buf, text, n + 1);
    char *save = NULL;
    for (char *cmd = strtok_r(buf, ";\n", &save); cmd != NULL; cmd = strtok_r(NULL, ";\n", &save)) {
        char *w[16];
        size_t nw = 0;
        char *s2 = NULL;
        for (char *t = strtok_r(cmd, " \t", &s2); t != NULL && nw < 16;
             t = strtok_r(NULL, " \t", &s2))
            w[nw++] = t;
        if (nw == 0)
            continue;
        if (strcmp(w[0], "sysctl") == 0) {
            size_t k = 1;
            while (k < nw && (strcmp(w[k], "-q") == 0 || strcmp(w[k], "-w") == 0 ||
                              strcmp(w[k], "-qw") == 0 || strcmp(w[k], "-wq") == 0))
                k++;
            if (k == nw)
                return false;
            for (; k < nw; k++) {
                char *eq = strchr(w[k], '=');
                if (eq == NULL)
                    return false;
                *eq = '\0';
                const char *val = eq + 1;
                if (*val == '"')
                    return false;
                if (!apply_sysctl(R, w[k], val))
                    return false;
            }
        } else if (strcmp(w[0], "echo") == 0 && nw == 4 && strcmp(w[2], ">") == 0) {
            if (!apply_sysctl(R, w[3], w[1]))
                return false;
        } else {
            return false;
        }
    }
    return true;
}

static bool start_stack(struct pkt_runner *R)
{
    if (R->st != NULL)
        return true;
    R->st = glass_stack_new(&R->cfg);
    if (R->st == NULL) {
        pkt_fail(R, 0, "cannot create the stack (out of memory or inconsistent settings)");
        return false;
    }
    if (glass_stack_add_iface(R->st, R->local_ip, 24, R->mtu) < 0) {
        pkt_fail(R, 0, "cannot add the interface");
        return false;
    }
    glass_stack_set_observer(R->st, observer, R);
    glass_stack_advance(R->st, R->now_ns);
    return true;
}

/* ---- packets --------------------------------------------------------------------------------- */

/* packetdrill's find_or_create_socket_for_script_packet(). */
static struct pkt_sock *sock_for_packet(struct pkt_runner *R, const struct pkt_event *e)
{
    const struct pkt_packet *p = &e->pkt;
    struct pkt_sock *sut = R->sut;
    if (p->has_ports) {
        /* glass pkt extension: `< 40001>8080 S ...` addresses the connection of those
         * ports, with its own ISNs, and leaves the socket under test alone. packetdrill
         * tracks one connection only (it would not see this one's packets). */
        uint16_t rport = p->inbound ? p->sport : p->dport;
        uint16_t lport = p->inbound ? p->dport : p->sport;
        for (size_t i = R->nsocks; i-- > 0;) {
            struct pkt_sock *s = R->socks[i];
            if (s->r_port == rport && s->l_port == lport && s->r_ip == R->remote_ip)
                return s;
        }
        if (!p->inbound) {
            pkt_fail(R, e->line, "no connection with ports %u>%u", (unsigned)p->sport,
                     (unsigned)p->dport);
            return NULL;
        }
        struct pkt_sock *c = pkt_sock_new(R);
        if (c == NULL) {
            pkt_fail(R, e->line, "too many connections in one script");
            return NULL;
        }
        c->state = SK_PASSIVE_PKT_RCVD;
        c->remote_isn = p->seq;
        c->r_ip = R->remote_ip;
        c->r_port = rport;
        c->l_ip = R->local_ip;
        c->l_port = lport;
        return c;
    }
    if (p->inbound && (sut == NULL || sut->state == SK_LISTENING)) {
        struct pkt_sock *c = pkt_sock_new(R);
        if (c == NULL) {
            pkt_fail(R, e->line, "too many connections in one script");
            return NULL;
        }
        c->state = SK_PASSIVE_PKT_RCVD;
        c->remote_isn = p->seq;
        c->r_ip = R->remote_ip;
        c->r_port = R->next_remote_port++;
        if (R->next_remote_port < 1024)
            R->next_remote_port = 40000;
        c->l_ip = R->local_ip;
        c->l_port = R->bind_port;
        R->sut = c;
        return c;
    }
    if (!p->inbound && (p->flags & (GLASS_TH_SYN | GLASS_TH_ACK)) == GLASS_TH_SYN &&
        sut != NULL && sut->state == SK_CONNECTING) {
        sut->state = SK_SYN_SENT;
        sut->script_local_isn = p->seq;
        return sut;
    }
    if (sut != NULL)
        return sut;
    pkt_fail(R, e->line, "no matching socket for script packet");
    return NULL;
}

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Add off to every SACK block edge in an option block. */
static void sack_offset(uint8_t *opts, size_t len, uint32_t off)
{
    int at = pkt_opts_find(opts, len, 5);
    if (at < 0)
        return;
    uint8_t l = opts[at + 1];
    for (size_t j = (size_t)at + 2; j + 8 <= (size_t)at + l; j += 8) {
        put32(opts + j, get32(opts + j) + off);
        put32(opts + j + 4, get32(opts + j + 4) + off);
    }
}

static const char *conn_state(struct pkt_runner *R, struct pkt_sock *sk)
{
    if (sk == NULL || R->st == NULL)
        return "-";
    if (sk->l_port != 0 && sk->r_port != 0) {
        static struct glass_conn_info ci[MAX_CONNS];
        size_t n = glass_stack_conns(R->st, ci, MAX_CONNS);
        if (n > MAX_CONNS)
            n = MAX_CONNS;
        for (size_t i = 0; i < n; i++) {
            if (ci[i].local.port == sk->l_port && ci[i].remote.port == sk->r_port &&
                ci[i].remote.addr == sk->r_ip && ci[i].state != GLASS_TCP_LISTEN)
                return glass_tcp_state_name(ci[i].state);
        }
    }
    if (sk->live_fd >= 0 && !sk->closed) {
        int s = glass_sock_state(R->st, sk->live_fd);
        if (s >= 0)
            return glass_tcp_state_name(s);
    }
    return "CLOSED";
}

static void log_transitions(struct pkt_runner *R)
{
    for (size_t i = 0; i < R->ntr; i++) {
        const struct glass_transition *t = &R->tr[i];
        char tb[32];
        vlog(R, "%10s  %-13s     #%" PRIu32 " %s -> %s (%s)\n",
             fmt_us((int64_t)(t->at / NS_PER_US), tb), "", t->conn,
             glass_tcp_state_name(t->from), glass_tcp_state_name(t->to),
             glass_tcp_cause_name(t->cause));
    }
    if (R->tr_lost > 0)
        vlog(R, "            (%zu more transitions)\n", R->tr_lost);
    R->ntr = 0;
    R->tr_lost = 0;
}

static void inject(struct pkt_runner *R, const struct pkt_event *e)
{
    const struct pkt_packet *p = &e->pkt;
    struct pkt_sock *sk = sock_for_packet(R, e);
    if (sk == NULL)
        return;
    bool syn = (p->flags & GLASS_TH_SYN) != 0;
    bool ack = (p->flags & GLASS_TH_ACK) != 0;
    if (sk->state == SK_PASSIVE_SYNACK_SENT && ack) {
        sk->state = SK_PASSIVE_SYNACK_ACKED;
    } else if (sk->state == SK_SYN_SENT && syn && ack) {
        sk->state = SK_SYN_ACKED;
        sk->remote_isn = p->seq;
    }
    struct pkt_wire w = {0};
    w.src = sk->r_ip;
    w.dst = sk->l_ip;
    w.sport = p->has_ports ? p->sport : sk->r_port;
    w.dport = p->has_ports ? p->dport : sk->l_port;
    uint32_t ack_off = syn ? sk->live_local_isn - sk->script_local_isn : sk->live_local_isn;
    w.seq = p->seq + (syn ? 0u : sk->remote_isn);
    w.ack = ack ? p->ack + ack_off : p->ack;
    w.flags = p->flags;
    w.win = (uint16_t)(p->win < 0 ? 0 : p->win);
    w.urg = p->urg;
    memcpy(w.opts, p->opts, p->opts_len);
    w.opts_len = p->opts_len;
    w.len = p->len;
    sack_offset(w.opts, w.opts_len, ack_off);
    int ts = pkt_opts_find(w.opts, w.opts_len, 8);
    if (ack && ts >= 0 && w.opts[ts + 1] == 10) {
        uint32_t ecr = get32(w.opts + ts + 6);
        bool found = false;
        for (size_t i = sk->nts; i-- > 0;) {
            if (sk->ts_script[i] == ecr) {
                put32(w.opts + ts + 6, sk->ts_live[i]);
                found = true;
                break;
            }
        }
        if (!found) {
            pkt_fail(R, e->line, "unable to infer live TS ecr for script TS ecr %" PRIu32
                                 "; no matching or preceding outbound TS val", ecr);
            return;
        }
    }
    uint8_t buf[65600];
    size_t n = pkt_wire_build(&w, R->ip_id++, buf, sizeof buf);
    if (n == 0) {
        pkt_fail(R, e->line, "cannot build the packet");
        return;
    }
    int drop = glass_stack_input(R->st, R->now_ns, buf, n);
    glass_pcapw_stack_packet(R->o->pcap, R->o->pcapng, R->st, R->o->pcap_base + R->now_ns, buf,
                             n, true);
    pkt_drain(R);
    if (R->verbose) {
        struct out_buf b = {0};
        pkt_packet_str(&b, p);
        char tb[32];
        const char *dn = drop != 0 ? glass_drop_name(drop) : NULL;
        char ports[16] = "";
        if (p->has_ports)
            snprintf(ports, sizeof ports, "%u>%u ", (unsigned)p->sport, (unsigned)p->dport);
        vlog(R, "%10s  %-13s <-- %s%s%s%s%s\n", fmt_us(pkt_now_us(R), tb), conn_state(R, sk),
             ports, b.p ? b.p : "", dn ? "   (dropped: " : "", dn ? dn : "", dn ? ")" : "");
        out_free(&b);
        log_transitions(R);
    }
    retry_pending(R);
}

static bool tuple_out(const struct pkt_sock *sk, const struct pkt_wire *w)
{
    return sk->l_port != 0 && w->src == sk->l_ip && w->sport == sk->l_port &&
           w->dst == sk->r_ip && w->dport == sk->r_port;
}

/* Take the next queued packet of the socket under test; others are passed over. */
static bool pop_match(struct pkt_runner *R, struct pkt_sock *sk, struct pkt_outpkt *out,
                      struct pkt_wire *w)
{
    while (R->qlen > 0) {
        struct pkt_outpkt p = R->q[R->qhead];
        R->qhead = (R->qhead + 1) % R->qcap;
        R->qlen--;
        if (pkt_wire_decode(p.data, p.len, w) < 0) {
            vlog(R, "            (not an IPv4/TCP packet: %zu bytes, passed over)\n", p.len);
            free(p.data);
            continue;
        }
        bool ok = tuple_out(sk, w);
        if (!ok && sk->state == SK_SYN_SENT &&
            (w->flags & (GLASS_TH_SYN | GLASS_TH_ACK)) == GLASS_TH_SYN &&
            w->dst == sk->r_ip && w->dport == sk->r_port) {
            /* the SYN of a connect(): learn our port and ISN (find_connect_for_live_packet) */
            sk->l_ip = w->src;
            sk->l_port = w->sport;
            sk->live_local_isn = w->seq;
            ok = true;
        }
        if (ok) {
            *out = p;
            return true;
        }
        if (R->verbose) {
            struct out_buf b = {0};
            pkt_wire_str(&b, w, true);
            char tb[32], a1[16], a2[16];
            vlog(R, "%10s  %-13s --> %s   (%s:%u > %s:%u: not the connection under test, "
                    "passed over)\n", fmt_us((int64_t)(p.t_ns / NS_PER_US), tb), "",
                 b.p ? b.p : "", glass_ip4_str(w->src, a1), w->sport, glass_ip4_str(w->dst, a2),
                 w->dport);
            out_free(&b);
        }
        free(p.data);
    }
    return false;
}

/* Wait (in virtual time, up to limit) for the next packet of sk. */
static bool next_out(struct pkt_runner *R, struct pkt_sock *sk, uint64_t limit,
                     struct pkt_outpkt *out, struct pkt_wire *w)
{
    for (;;) {
        if (pop_match(R, sk, out, w))
            return true;
        if (R->stop || R->now_ns >= limit)
            return false;
        uint64_t d = next_wake(R);
        step_to(R, d < limit ? d : limit);
    }
}

/* Live sequence and ACK numbers of an outbound packet into script space (packetdrill's
 * local_seq_live_to_script_offset / remote_seq_live_to_script_offset). */
static uint32_t map_seq(const struct pkt_sock *sk, struct pkt_wire *w)
{
    bool syn = (w->flags & GLASS_TH_SYN) != 0;
    uint32_t seq_off = syn ? sk->live_local_isn - sk->script_local_isn : sk->live_local_isn;
    uint32_t ack_off = syn ? 0u : sk->remote_isn;
    w->seq -= seq_off;
    if (w->flags & GLASS_TH_ACK)
        w->ack -= ack_off;
    return ack_off;
}

/* Compare the actual (mapped) packet with the script's; a description of the first
 * difference into why, or nothing. */
static void compare(struct pkt_runner *R, struct pkt_sock *sk, const struct pkt_packet *p,
                    const struct pkt_wire *a, struct out_buf *why)
{
    (void)R;
    (void)sk;
    if (a->flags != p->flags) {
        out_puts(why, "bad TCP flags");
        return;
    }
    if (a->seq != p->seq) {
        out_printf(why, "bad sequence number: expected %" PRIu32 ", actual %" PRIu32, p->seq,
                   a->seq);
        return;
    }
    if (a->len != p->len) {
        out_printf(why, "bad payload length: expected %" PRIu32 ", actual %" PRIu32, p->len,
                   a->len);
        return;
    }
    if (a->ack != p->ack) {
        out_printf(why, "bad ack number: expected %" PRIu32 ", actual %" PRIu32, p->ack,
                   a->ack);
        return;
    }
    if (p->win >= 0 && a->win != (uint16_t)p->win) {
        out_printf(why, "bad window: expected %d, actual %u", (int)p->win, a->win);
        return;
    }
    if (a->urg != p->urg) {
        out_printf(why, "bad urgent pointer: expected %u, actual %u", p->urg, a->urg);
        return;
    }
    if (!p->opts_any) {
        size_t i = 0, j = 0;
        while (i < p->opts_len || j < a->opts_len) {
            if (i >= p->opts_len || j >= a->opts_len || p->opts[i] != a->opts[j]) {
                out_puts(why, "bad outbound TCP options");
                return;
            }
            uint8_t k = p->opts[i];
            if (k <= 1) {
                i++;
                j++;
                continue;
            }
            if (i + 1 >= p->opts_len || j + 1 >= a->opts_len || p->opts[i + 1] < 2 ||
                a->opts[j + 1] < 2 || p->opts[i + 1] != a->opts[j + 1] ||
                i + p->opts[i + 1] > p->opts_len || j + a->opts[j + 1] > a->opts_len) {
                out_puts(why, "bad outbound TCP options");
                return;
            }
            uint8_t l = p->opts[i + 1];
            if (k != 8 && memcmp(p->opts + i, a->opts + j, l) != 0) {
                out_puts(why, "bad value in outbound TCP option");
                return;
            }
            i += l;
            j += l;
        }
    }
    for (uint32_t k = 0; k < a->len; k++) {
        if (a->payload[k] != 0) {
            out_puts(why, "incorrect outbound data payload");
            return;
        }
    }
}

static void expect(struct pkt_runner *R, const struct pkt_event *e, int64_t t, int64_t t_end,
                   int64_t last)
{
    const struct pkt_packet *p = &e->pkt;
    struct pkt_sock *sk = sock_for_packet(R, e);
    if (sk == NULL)
        return;
    bool script_synack = (p->flags & (GLASS_TH_SYN | GLASS_TH_ACK)) ==
                         (GLASS_TH_SYN | GLASS_TH_ACK);
    if (sk->state == SK_PASSIVE_PKT_RCVD && script_synack)
        sk->script_local_isn = p->seq;
    int64_t hi = e->tt == PT_ABS_RANGE || e->tt == PT_REL_RANGE ? t_end : t;
    uint64_t limit;
    if (e->tt == PT_ANY)
        limit = R->now_ns + GLASS_SEC(3600);
    else
        limit = (uint64_t)(hi + tolerance(R, t, last) + 2000000) * NS_PER_US;
    struct pkt_outpkt op;
    struct pkt_wire w;
    struct out_buf exp = {0};
    pkt_packet_str(&exp, p);
    if (!next_out(R, sk, limit, &op, &w)) {
        char tb[32];
        if (!R->stop)
            pkt_fail(R, e->line, "expected > %s, but no packet was sent by %s sec",
                     exp.p ? exp.p : "", fmt_us((int64_t)(limit / NS_PER_US), tb));
        out_free(&exp);
        return;
    }
    if (sk->state == SK_PASSIVE_PKT_RCVD && script_synack) {
        sk->state = SK_PASSIVE_SYNACK_SENT;
        sk->live_local_isn = w.seq;
    }
    uint64_t first_t = op.t_ns, last_t = op.t_ns;
    /* Aggregate consecutive segments into one expected TSO/GSO packet (packetdrill). */
    uint8_t *agg = NULL;
    struct pkt_outpkt more[64];
    size_t nmore = 0;
    if (!R->strict_segments && p->len > w.len && w.len > 0) {
        agg = calloc(1, p->len);
        if (agg == NULL) {
            pkt_fail(R, e->line, "out of memory");
            free(op.data);
            out_free(&exp);
            return;
        }
        memcpy(agg, w.payload, w.len);
        uint32_t total = w.len;
        uint16_t base_flags = (uint16_t)(w.flags & ~(GLASS_TH_PSH | GLASS_TH_FIN));
        while (total < p->len && nmore < 64) {
            struct pkt_wire w2;
            if (!next_out(R, sk, limit, &more[nmore], &w2)) {
                if (R->stop)
                    break;
                char tb[32];
                struct out_buf part = {0};
                pkt_wire_str(&part, &w, true);
                pkt_fail(R, e->line, "expected > %s, but only %" PRIu32 " of its %" PRIu32
                                     " bytes were sent by %s sec (from > %s)",
                         exp.p ? exp.p : "", total, p->len,
                         fmt_us((int64_t)(limit / NS_PER_US), tb), part.p ? part.p : "");
                out_free(&part);
                break;
            }
            nmore++;
            if ((w2.flags & ~(GLASS_TH_PSH | GLASS_TH_FIN)) != base_flags ||
                w2.seq != w.seq + total || w2.ack != w.ack || total + w2.len > p->len) {
                char tb[32], tb2[32];
                struct out_buf part = {0}, next2 = {0};
                struct pkt_wire m1 = w, m2 = w2;
                map_seq(sk, &m1);
                map_seq(sk, &m2);
                m1.len = total;
                pkt_wire_str(&part, &m1, true);
                pkt_wire_str(&next2, &m2, true);
                pkt_fail(R, e->line, "expected > %s, actual > %s at %s sec, then > %s at %s "
                                     "sec (not its continuation)", exp.p ? exp.p : "",
                         part.p ? part.p : "", fmt_us((int64_t)(first_t / NS_PER_US), tb),
                         next2.p ? next2.p : "",
                         fmt_us((int64_t)(more[nmore - 1].t_ns / NS_PER_US), tb2));
                out_free(&part);
                out_free(&next2);
                break;
            }
            memcpy(agg + total, w2.payload, w2.len);
            total += w2.len;
            w.flags = (uint16_t)(base_flags | (w2.flags & (GLASS_TH_PSH | GLASS_TH_FIN)));
            w.win = w2.win;
            last_t = more[nmore - 1].t_ns;
        }
        w.payload = agg;
        w.len = total;
    }
    if (R->stop) {
        out_free(&exp);
        free(op.data);
        for (size_t i = 0; i < nmore; i++)
            free(more[i].data);
        free(agg);
        return;
    }
    /* Map the live packet into script space. */
    struct pkt_wire live = w;
    uint32_t ack_off = map_seq(sk, &w);
    sack_offset(w.opts, w.opts_len, (uint32_t)0 - ack_off);
    int ts_a = pkt_opts_find(w.opts, w.opts_len, 8);
    int ts_s = p->opts_any ? -1 : pkt_opts_find(p->opts, p->opts_len, 8);
    if (ts_a >= 0 && ts_s >= 0 && w.opts[ts_a + 1] == 10 && p->opts[ts_s + 1] == 10) {
        uint32_t sval = get32(p->opts + ts_s + 2), aval = get32(w.opts + ts_a + 2);
        if (sk->nts < PKT_MAX_TS) {
            sk->ts_script[sk->nts] = sval;
            sk->ts_live[sk->nts] = aval;
            sk->nts++;
        }
        if (!sk->ts_first) {
            sk->ts_first = true;
            sk->ts_first_script = sval;
            sk->ts_first_live = aval;
        }
        put32(w.opts + ts_a + 2, sk->ts_first_script + (aval - sk->ts_first_live));
    }
    struct out_buf why = {0}, act = {0};
    if (!live.ipv4_csum_ok)
        out_puts(&why, "bad outbound IP checksum");
    else if (!live.tcp_csum_ok && nmore == 0)
        out_puts(&why, "bad outbound TCP checksum");
    else
        compare(R, sk, p, &w, &why);
    pkt_wire_str(&act, &w, true);
    char tb[32];
    if (R->verbose) {
        char ports[16] = "";
        if (p->has_ports)
            snprintf(ports, sizeof ports, "%u>%u ", (unsigned)p->sport, (unsigned)p->dport);
        vlog(R, "%10s  %-13s --> %s%s\n", fmt_us((int64_t)(first_t / NS_PER_US), tb),
             conn_state(R, sk), ports, act.p ? act.p : "");
        log_transitions(R);
    }
    if (why.len > 0) {
        pkt_fail(R, e->line, "expected > %s, actual > %s at %s sec (%s)", exp.p ? exp.p : "",
                 act.p ? act.p : "", fmt_us((int64_t)(first_t / NS_PER_US), tb), why.p);
    } else {
        check_time(R, e->line, e->tt, t, t_end, (int64_t)(first_t / NS_PER_US), last,
                   "outbound packet");
    }
    if (last_t > R->now_ns)
        R->now_ns = last_t; /* the script goes on once the packet was seen */
    out_free(&why);
    out_free(&act);
    out_free(&exp);
    free(op.data);
    for (size_t i = 0; i < nmore; i++)
        free(more[i].data);
    free(agg);
}

/* ---- system calls --------------------------------------------------------------------------- */

static void log_syscall(struct pkt_runner *R, const struct pkt_event *e, const struct pkt_call *c,
                        bool show, const char *note)
{
    if (!R->verbose)
        return;
    char tb[32];
    struct out_buf b = {0};
    if (show)
        pkt_sys_result_str(&b, c);
    /* the script's call, without its expected result */
    size_t n = e->src_len;
    const char *eq = NULL;
    int depth = 0;
    for (size_t i = 0; i < e->src_len; i++) {
        char ch = e->src[i];
        if (ch == '(' || ch == '[' || ch == '{')
            depth++;
        else if (ch == ')' || ch == ']' || ch == '}')
            depth--;
        else if (ch == '=' && depth == 0) {
            eq = e->src + i;
            break;
        }
    }
    if (eq != NULL)
        n = (size_t)(eq - e->src);
    while (n > 0 && (e->src[n - 1] == ' ' || e->src[n - 1] == '\t'))
        n--;
    /* drop the time prefix */
    size_t start = 0;
    while (start < n && e->src[start] != ' ' && e->src[start] != '\t')
        start++;
    while (start < n && (e->src[start] == ' ' || e->src[start] == '\t'))
        start++;
    vlog(R, "%10s  %-13s     %.*s%s%s%s\n", fmt_us(pkt_now_us(R), tb),
         conn_state(R, c->sk != NULL ? c->sk : R->sut),
         (int)(n - start), e->src + start, show ? " = " : "", show && b.p ? b.p : "",
         note != NULL ? note : "");
    out_free(&b);
    log_transitions(R);
}

static void syscall_event(struct pkt_runner *R, const struct pkt_event *e, int64_t t,
                          int64_t end)
{
    /* packetdrill waits (up to a second) for a blocking call still running */
    uint64_t until = R->now_ns + GLASS_SEC(1);
    while (R->pending && !R->stop) {
        uint64_t d = next_wake(R);
        if (d == GLASS_TIME_NEVER || d > until)
            break;
        step_to(R, d);
    }
    if (R->stop)
        return;
    if (R->pending && e->sc.blocking) {
        pkt_fail(R, e->line, "blocking system call while another blocking system call is "
                             "already in progress");
        return;
    }
    struct pkt_call c = {.ev = e, .name = -1, .deadline_ns = UINT64_MAX};
    enum pkt_sys_status s = pkt_sys_attempt(R, &c);
    if (s == SYS_BLOCK && e->sc.blocking) {
        R->pending = true;
        R->pend = c;
        R->pend_start_us = t;
        R->pend_end_us = end;
        R->pend_tt = e->tt;
        log_syscall(R, e, &R->pend, false, "   (blocks)");
        return;
    }
    /* Without `...end` the script waits for the call (packetdrill's main thread makes it):
     * only the stack's timers run meanwhile. */
    uint64_t hard = R->now_ns + GLASS_SEC(7 * 24 * 3600);
    while (s == SYS_BLOCK && !R->stop) {
        uint64_t d = glass_stack_next_deadline(R->st);
        if (c.deadline_ns < d)
            d = c.deadline_ns;
        if (d == GLASS_TIME_NEVER || d > hard) {
            pkt_fail(R, e->line, "%s() blocks and nothing will wake it up (a blocking "
                                 "socket: give the call an end time, +0...T, so later "
                                 "events run, or set O_NONBLOCK)", e->sc.name);
            pkt_call_free(&c);
            return;
        }
        step_to(R, d < R->now_ns ? R->now_ns : d);
        s = pkt_sys_attempt(R, &c);
    }
    if (s == SYS_DONE) {
        log_syscall(R, e, &c, true, NULL);
        if (pkt_sys_check(R, &c) && e->sc.blocking)
            check_time(R, e->line, PT_ABS, end, 0, pkt_now_us(R), t, "system call return");
    }
    pkt_call_free(&c);
    retry_pending(R); /* this call may have woken the one blocked in the background */
}

/* ---- the script ------------------------------------------------------------------------------ */

enum pkt_outcome pkt_run(const struct pkt_script *s, const struct pkt_run_opts *o,
                         struct out_buf *msg, struct out_buf *log)
{
    struct pkt_runner *R = calloc(1, sizeof *R);
    if (R == NULL) {
        out_puts(msg, "out of memory");
        return PKT_FAIL;
    }
    R->s = s;
    R->o = o;
    R->msg = msg;
    R->log = log;
    R->verbose = o->verbose;
    R->outcome = PKT_PASS;
    R->local_ip = GLASS_IP4(192, 168, 0, 1);
    R->remote_ip = GLASS_IP4(192, 0, 2, 1);
    R->bind_port = 8080;
    R->connect_port = 8080;
    R->mtu = 1500;
    R->tol_us = o->tolerance_us;
    R->tol_pct = o->tolerance_pct;
    R->next_remote_port = 40000;
    R->ip_id = 1;
    glass_config_default(&R->cfg);
    glass_config_profile(&R->cfg, (enum glass_profile)o->profile);
    R->cfg.seed = o->seed;

    if (s->unsupported[0] != '\0') {
        pkt_skip(R, s->unsupported_line, "unsupported: %s", s->unsupported);
        goto done;
    }
    for (size_t i = 0; i < s->nopts; i++) {
        if (!apply_option(R, &s->opts[i])) {
            pkt_skip(R, s->opts[i].line, "unsupported option --%s%s%s", s->opts[i].name,
                     s->opts[i].value ? "=" : "", s->opts[i].value ? s->opts[i].value : "");
            goto done;
        }
    }
    for (size_t i = 0; i < s->nev; i++) {
        const struct pkt_event *e = &s->ev[i];
        if (e->kind == EV_SYSCALL && !pkt_syscall_known(e->sc.name)) {
            pkt_skip(R, e->line, "system call %s() is not supported", e->sc.name);
            goto done;
        }
    }
    if (s->nev == 0) {
        pkt_fail(R, 1, "the script has no events");
        goto done;
    }
    vlog(R, "%s\n", s->path);
    for (size_t i = 0; i < s->nev && !R->stop; i++) {
        const struct pkt_event *e = &s->ev[i];
        int64_t now = pkt_now_us(R);
        bool in_pkt = e->kind == EV_PACKET && e->pkt.inbound;
        bool prev_in = R->prev != NULL && R->prev->kind == EV_PACKET && R->prev->pkt.inbound;
        int64_t base = prev_in && in_pkt ? R->prev_us : now;
        int64_t t = e->t_us, t_end = e->t_end_us, end = e->sc.end_us;
        switch (e->tt) {
        case PT_ABS:
        case PT_ABS_RANGE:
            break;
        case PT_REL:
            t += base;
            if (e->kind == EV_SYSCALL && e->sc.blocking)
                end += base;
            break;
        case PT_REL_RANGE:
            t += base;
            t_end += base;
            break;
        case PT_ANY:
            t = base;
            break;
        }
        int64_t last = R->prev != NULL ? R->prev_us : NO_TIME;
        if (t > MAX_SCRIPT_US || t_end > MAX_SCRIPT_US || end > MAX_SCRIPT_US) {
            pkt_fail(R, e->line, "event time out of range (more than %d years of virtual "
                                 "time)", (int)(MAX_SCRIPT_US / (INT64_C(31536000) * 1000000)));
            break;
        }
        if (i == 0 && t != 0) {
            pkt_fail(R, e->line, "first event should be at time 0");
            break;
        }
        switch (e->kind) {
        case EV_COMMAND:
            if (R->st == NULL) {
                if (!apply_command(R, e->text)) {
                    pkt_skip(R, e->line, "unsupported command `%s` (glass pkt maps sysctls "
                                         "that have a glass_config knob)", e->text);
                    break;
                }
                vlog(R, "%10s  %-13s     `%s` (applied to the stack's configuration)\n", "", "",
                     e->text);
            } else if (i + 1 == s->nev) {
                vlog(R, "%10s  %-13s     `%s` (cleanup command: not run)\n", "", "", e->text);
            } else {
                pkt_skip(R, e->line, "a command after the first packet or system call");
            }
            break;
        case EV_CODE:
            pkt_skip(R, e->line, "code blocks");
            break;
        case EV_PACKET:
            if (!start_stack(R))
                break;
            if (in_pkt) {
                step_to(R, (uint64_t)t * NS_PER_US);
                check_time(R, e->line, e->tt, t, t_end, pkt_now_us(R), last, "inbound packet");
                if (!R->stop)
                    inject(R, e);
            } else {
                expect(R, e, t, t_end, last);
            }
            break;
        case EV_SYSCALL:
            if (!start_stack(R))
                break;
            step_to(R, (uint64_t)t * NS_PER_US);
            check_time(R, e->line, PT_ABS, t, 0, pkt_now_us(R), last, "system call start");
            if (!R->stop)
                syscall_event(R, e, t, end);
            break;
        }
        R->prev = e;
        R->prev_us = t;
    }
    /* packetdrill waits up to a second for a blocking call still running at the end, then
     * fails: "exiting while a blocking system call is in progress". */
    if (!R->stop && R->pending) {
        uint64_t until = R->now_ns + GLASS_SEC(1);
        while (R->pending && !R->stop) {
            uint64_t d = next_wake(R);
            if (d == GLASS_TIME_NEVER || d > until)
                break;
            step_to(R, d);
        }
    }
    if (!R->stop && R->pending)
        pkt_fail(R, R->pend.ev->line, "the script ends while %s() is still blocked (a blocking "
                                      "call must return before the last event)",
                 R->pend.ev->sc.name);
    if (R->verbose && R->st != NULL)
        log_transitions(R);
done:
    if (R->pending)
        pkt_call_free(&R->pend);
    enum pkt_outcome out = R->outcome;
    if (R->st != NULL)
        glass_stack_free(R->st);
    for (size_t i = 0; i < R->qlen; i++)
        free(R->q[(R->qhead + i) % R->qcap].data);
    free(R->q);
    for (size_t i = 0; i < R->nsocks; i++)
        free(R->socks[i]);
    free(R);
    return out;
}
