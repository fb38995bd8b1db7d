/* glass flood — a SYN flood against a listener while legitimate clients connect and transfer.
 *
 *   glass flood [--syns N] [--rate R] [--clients K] [--bytes B] [--syncookies 0|1|2]
 *               [--backlog N] [--syn-retries N] [--mem-max BYTES] [--delay MS] [--seed S]
 *               [--json]
 *
 * Three stacks' worth of traffic on a glass_simnet in virtual time: a server 192.0.2.2
 * listening on port 80, a client stack 192.0.2.1 whose K sockets connect one after another
 * spread over the flood and each send B bytes, and an attacker that is not a stack: N SYNs at
 * R per second with random source addresses (198.18.0.0/15, RFC 2544's benchmarking block, not
 * attached to the link: the SYN,ACKs go nowhere, as to spoofed sources) and random ports and
 * sequence numbers, fed into the server's input. The same clients run once without the flood
 * (the baseline) and once with it; the report gives, for both, how many clients connected and
 * delivered all their bytes, handshake and completion times (median, max), the slowdown, the
 * server's cookie and listen-queue counters, its largest SYN queue and its memory peak
 * against the budget (--mem-max). docs/synflood.md has measured figures.
 *
 * Exit status: 0 the runs completed (whatever the clients' fate: a flood with cookies off is
 * expected to hurt), 1 an invariant broke (server memory above the budget, the listener's SYN
 * queue above its backlog, more first SYN,ACKs than SYNs, bytes corrupted), 2 usage error. */
#define _POSIX_C_SOURCE 200809L

#include "cmds.h"
#include "out.h"
#include "pkt.h"

#include <glass/err.h>
#include <glass/sim.h>
#include <glass/socket.h>
#include <glass/stack.h>
#include <glass/stats.h>
#include <glass/trace.h>

#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FL_CLIENT_ADDR GLASS_IP4(192, 0, 2, 1)
#define FL_SERVER_ADDR GLASS_IP4(192, 0, 2, 2)
#define FL_PORT 80
#define FL_SPOOF_NET GLASS_IP4(198, 18, 0, 0) /* /15 */
#define FL_MAX_CLIENTS 1000u
#define FL_TIME_LIMIT GLASS_SEC(600)

struct fl_opts {
    uint64_t syns;
    double rate;
    unsigned clients;
    uint64_t bytes;
    unsigned syncookies;
    unsigned backlog;
    unsigned syn_retries; /* 0: the stack's default */
    uint64_t mem_max;
    double delay_ms;
    uint64_t seed;
    bool json;
};

struct fl_client {
    int fd, sfd;           /* client socket; the server's accepted socket, -1 if none */
    uint16_t port;         /* client's local port */
    glass_time_t start, connected, done; /* GLASS_TIME_NEVER: not (yet) */
    uint64_t sent, received;
    int err;               /* the error that ended it, 0 if none */
    bool corrupt;
};

struct fl_run {
    const struct fl_opts *o;
    uint64_t syns;
    struct glass_simnet *net;
    struct glass_stack *srv, *cli;
    int lfd;
    struct fl_client c[FL_MAX_CLIENTS];
    uint16_t by_port[65536]; /* client index + 1 by client port */
    uint64_t synacks, client_syns, mem_peak;
    uint32_t synq_peak;
    bool broken;
    char why[160];
};

static uint64_t mix64(uint64_t x)
{
    x += UINT64_C(0x9E3779B97F4A7C15);
    x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
    return x ^ (x >> 31);
}

static uint8_t data_byte(unsigned client, uint64_t off)
{
    return (uint8_t)(mix64(((uint64_t)client << 40) ^ (off >> 3)) >> (8u * (off & 7u)));
}

static void fl_break(struct fl_run *r, const char *fmt, ...) OUT_PRINTF(2, 3);
static void fl_break(struct fl_run *r, const char *fmt, ...)
{
    if (r->broken)
        return;
    r->broken = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
}

static void client_pump(struct fl_run *r, unsigned i)
{
    struct fl_client *c = &r->c[i];
    uint8_t buf[8192];
    while (c->connected != GLASS_TIME_NEVER && c->sent < r->o->bytes) {
        size_t n = r->o->bytes - c->sent < sizeof buf ? (size_t)(r->o->bytes - c->sent) : sizeof buf;
        for (size_t k = 0; k < n; k++)
            buf[k] = data_byte(i, c->sent + k);
        long w = glass_send(r->cli, c->fd, buf, n, 0);
        if (w <= 0)
            break;
        c->sent += (uint64_t)w;
    }
}

static void server_read(struct fl_run *r, unsigned i)
{
    struct fl_client *c = &r->c[i];
    uint8_t buf[8192];
    long n;
    while (c->sfd >= 0 && (n = glass_recv(r->srv, c->sfd, buf, sizeof buf, 0)) > 0) {
        for (long k = 0; k < n; k++)
            if (buf[k] != data_byte(i, c->received + (uint64_t)k))
                c->corrupt = true;
        c->received += (uint64_t)n;
        if (c->received == r->o->bytes && c->done == GLASS_TIME_NEVER)
            c->done = glass_simnet_now(r->net);
    }
}

static void server_accept(struct fl_run *r)
{
    int fd;
    while ((fd = glass_accept(r->srv, r->lfd, NULL)) >= 0) {
        struct glass_endpoint peer;
        unsigned idx = 0;
        if (glass_getpeername(r->srv, fd, &peer) == 0 && peer.addr == FL_CLIENT_ADDR)
            idx = r->by_port[peer.port];
        if (idx == 0) {
            fl_break(r, "the server accepted a connection from a spoofed source");
            glass_close(r->srv, fd);
            continue;
        }
        r->c[idx - 1].sfd = fd;
        server_read(r, idx - 1);
    }
}

static int client_of_fd(const struct fl_run *r, int fd)
{
    for (unsigned i = 0; i < r->o->clients; i++)
        if (r->c[i].fd == fd)
            return (int)i;
    return -1;
}

static int server_client_of_fd(const struct fl_run *r, int fd)
{
    for (unsigned i = 0; i < r->o->clients; i++)
        if (r->c[i].sfd == fd)
            return (int)i;
    return -1;
}

static void app_fn(void *ctx, struct glass_simnet *net, int node, const struct glass_event *ev)
{
    struct fl_run *r = ctx;
    (void)net;
    if (node == 0) { /* the server */
        if (ev->kind == GLASS_EV_ACCEPTABLE)
            server_accept(r);
        int i = server_client_of_fd(r, ev->fd);
        if (i >= 0 && (ev->kind == GLASS_EV_READABLE || ev->kind == GLASS_EV_RDHUP))
            server_read(r, (unsigned)i);
        return;
    }
    int i = client_of_fd(r, ev->fd);
    if (i < 0)
        return;
    struct fl_client *c = &r->c[i];
    if (ev->kind == GLASS_EV_CONNECTED && c->connected == GLASS_TIME_NEVER)
        c->connected = ev->at;
    if (ev->kind == GLASS_EV_ERROR && c->err == 0)
        c->err = ev->err;
    client_pump(r, (unsigned)i);
}

static void tap_fn(void *ctx, const struct glass_sim_packet *p, enum glass_sim_pkt_event what)
{
    struct fl_run *r = ctx;
    if (what != GLASS_SIM_SENT || p->len < 40)
        return;
    uint8_t fl = p->data[33] & 0x12u; /* SYN, ACK of a 20-byte IPv4 header's TCP flags */
    if (p->from == 0 && fl == 0x12u)
        r->synacks++;
    if (p->from == 1 && fl == 0x02u)
        r->client_syns++;
}

/* One spoofed SYN: a random source in 198.18.0.0/15, random port, sequence number and ID. */
static void inject_syn(struct fl_run *r, uint64_t k)
{
    uint64_t h = mix64(r->o->seed * UINT64_C(0x100000001B3) + k);
    struct pkt_wire w;
    memset(&w, 0, sizeof w);
    w.src = FL_SPOOF_NET | (uint32_t)(h & 0x1FFFFu);
    w.dst = FL_SERVER_ADDR;
    w.sport = (uint16_t)(1024u + (uint32_t)((h >> 17) % 64512u));
    w.dport = FL_PORT;
    w.seq = (uint32_t)(h >> 32);
    w.flags = GLASS_TH_SYN;
    w.win = 64240;
    static const uint8_t mss[4] = {2, 4, 0x05, 0xb4}; /* mss 1460 */
    memcpy(w.opts, mss, sizeof mss);
    w.opts_len = sizeof mss;
    uint8_t pkt[64];
    size_t len = pkt_wire_build(&w, (uint16_t)h, pkt, sizeof pkt);
    (void)glass_stack_input(r->srv, glass_simnet_now(r->net), pkt, len);
}

static bool all_resolved(const struct fl_run *r)
{
    for (unsigned i = 0; i < r->o->clients; i++) {
        const struct fl_client *c = &r->c[i];
        if (c->start == GLASS_TIME_NEVER)
            return false;
        if (c->done == GLASS_TIME_NEVER && c->err == 0)
            return false;
    }
    return true;
}

static void sample(struct fl_run *r)
{
    uint64_t m = glass_stack_mem_used(r->srv);
    if (m > r->mem_peak)
        r->mem_peak = m;
    if (m > r->o->mem_max)
        fl_break(r, "server memory %" PRIu64 " above the budget %" PRIu64, m, r->o->mem_max);
    uint32_t q = glass_stack_in_state(r->srv, GLASS_TCP_SYN_RCVD);
    if (q > r->synq_peak)
        r->synq_peak = q;
    if (q > (r->o->backlog > 0 ? r->o->backlog : 1u))
        fl_break(r, "%u connections in SYN_RCVD, above the backlog %u", q, r->o->backlog);
}

static void start_client(struct fl_run *r, unsigned i)
{
    struct fl_client *c = &r->c[i];
    c->start = glass_simnet_now(r->net);
    c->fd = glass_socket(r->cli);
    struct glass_endpoint ep = {FL_SERVER_ADDR, FL_PORT}, me;
    int rc = c->fd < 0 ? c->fd : glass_connect(r->cli, c->fd, &ep);
    if (rc != -GLASS_EINPROGRESS) {
        c->err = rc < 0 ? rc : -GLASS_EINVAL;
        return;
    }
    if (glass_getsockname(r->cli, c->fd, &me) == 0)
        r->by_port[me.port] = (uint16_t)(i + 1u);
    c->port = me.port;
    glass_simnet_flush(r->net);
}

/* One run with `syns` spoofed SYNs. Returns false on setup failure. */
static bool fl_run(struct fl_run *r, const struct fl_opts *o, uint64_t syns)
{
    memset(r, 0, sizeof *r);
    r->o = o;
    r->syns = syns;
    struct glass_simnet_config nc;
    glass_simnet_config_default(&nc);
    nc.seed = o->seed;
    nc.delay = (glass_time_t)(o->delay_ms * 1e6 + 0.5);
    r->net = glass_simnet_new(&nc);
    struct glass_config sc, cc;
    glass_config_default(&sc);
    sc.seed = mix64(o->seed ^ 1u);
    sc.syncookies = (uint8_t)o->syncookies;
    sc.mem_max = o->mem_max;
    glass_config_default(&cc);
    cc.seed = mix64(o->seed ^ 2u);
    if (o->syn_retries > 0)
        cc.syn_retries = (uint8_t)o->syn_retries;
    r->srv = glass_stack_new(&sc);
    r->cli = glass_stack_new(&cc);
    if (r->net == NULL || r->srv == NULL || r->cli == NULL ||
        glass_simnet_attach(r->net, r->srv, FL_SERVER_ADDR) != 0 ||
        glass_simnet_attach(r->net, r->cli, FL_CLIENT_ADDR) != 1)
        return false;
    glass_simnet_set_app(r->net, 0, app_fn, r);
    glass_simnet_set_app(r->net, 1, app_fn, r);
    glass_simnet_set_tap(r->net, tap_fn, r);
    r->lfd = glass_socket(r->srv);
    struct glass_endpoint ep = {FL_SERVER_ADDR, FL_PORT};
    if (glass_bind(r->srv, r->lfd, &ep) != 0 || glass_listen(r->srv, r->lfd, (int)o->backlog) != 0)
        return false;
    for (unsigned i = 0; i < o->clients; i++) {
        r->c[i].fd = r->c[i].sfd = -1;
        r->c[i].start = r->c[i].connected = r->c[i].done = GLASS_TIME_NEVER;
    }
    /* The flood lasts N / R seconds; the clients start evenly spread over it (over one second
     * when there is no flood), each at the same time in both runs. */
    double span_s = (double)o->syns / o->rate;
    if (span_s < 1.0)
        span_s = 1.0;
    glass_time_t span = (glass_time_t)(span_s * 1e9);
    glass_time_t t0 = GLASS_MSEC(1);
    unsigned next_client = 0;
    uint64_t next_syn = 0;
    while (glass_simnet_now(r->net) < FL_TIME_LIMIT) {
        glass_time_t t_syn = next_syn < syns ? t0 + (glass_time_t)((double)next_syn / o->rate * 1e9)
                                             : GLASS_TIME_NEVER;
        glass_time_t t_cli = next_client < o->clients
                                 ? t0 + span * (2u * next_client + 1u) / (2u * o->clients)
                                 : GLASS_TIME_NEVER;
        glass_time_t t = t_syn < t_cli ? t_syn : t_cli;
        if (t == GLASS_TIME_NEVER) {
            if (all_resolved(r))
                break;
            glass_simnet_run_for(r->net, GLASS_MSEC(10));
            sample(r);
            continue;
        }
        glass_simnet_run_until(r->net, t);
        if (t == t_cli)
            start_client(r, next_client++);
        while (next_syn < syns &&
               t0 + (glass_time_t)((double)next_syn / o->rate * 1e9) <= glass_simnet_now(r->net))
            inject_syn(r, next_syn++);
        glass_simnet_flush(r->net);
        sample(r);
    }
    /* Robustness §3.4: no more SYN,ACKs than SYNs (retransmissions of queued ones aside). */
    uint64_t first = r->synacks - glass_stack_mib(r->srv, GLASS_MIB_TcpExtTCPSynRetrans);
    if (first > syns + r->client_syns)
        fl_break(r, "%" PRIu64 " SYN,ACKs for %" PRIu64 " SYNs", first, syns + r->client_syns);
    for (unsigned i = 0; i < o->clients; i++) {
        struct fl_client *c = &r->c[i];
        if (c->corrupt)
            fl_break(r, "client %u: bytes corrupted", i);
        if (c->received > o->bytes)
            fl_break(r, "client %u: more bytes than sent", i);
    }
    return true;
}

static void fl_free(struct fl_run *r)
{
    glass_simnet_free(r->net);
    glass_stack_free(r->srv);
    glass_stack_free(r->cli);
    r->net = NULL;
    r->srv = r->cli = NULL;
}

static int cmp_time(const void *a, const void *b)
{
    glass_time_t x = *(const glass_time_t *)a, y = *(const glass_time_t *)b;
    return x < y ? -1 : x > y;
}

struct fl_summary {
    unsigned ok, connected, failed, timed_out;
    double conn_med, conn_max, done_med, done_max; /* milliseconds */
    uint64_t mib[6];
};

static const int fl_mibs[6] = {
    GLASS_MIB_TcpExtSyncookiesSent,       GLASS_MIB_TcpExtSyncookiesRecv,
    GLASS_MIB_TcpExtSyncookiesFailed,     GLASS_MIB_TcpExtTCPReqQFullDoCookies,
    GLASS_MIB_TcpExtTCPReqQFullDrop,      GLASS_MIB_TcpExtListenDrops,
};

static void summarize(const struct fl_run *r, struct fl_summary *s)
{
    static glass_time_t conn[FL_MAX_CLIENTS], done[FL_MAX_CLIENTS];
    memset(s, 0, sizeof *s);
    for (unsigned i = 0; i < r->o->clients; i++) {
        const struct fl_client *c = &r->c[i];
        if (c->connected != GLASS_TIME_NEVER)
            conn[s->connected++] = c->connected - c->start;
        if (c->done != GLASS_TIME_NEVER)
            done[s->ok++] = c->done - c->start;
        else if (c->err == -GLASS_ETIMEDOUT)
            s->timed_out++;
    }
    s->failed = r->o->clients - s->ok;
    qsort(conn, s->connected, sizeof conn[0], cmp_time);
    qsort(done, s->ok, sizeof done[0], cmp_time);
    if (s->connected > 0) {
        s->conn_med = (double)conn[s->connected / 2] / 1e6;
        s->conn_max = (double)conn[s->connected - 1] / 1e6;
    }
    if (s->ok > 0) {
        s->done_med = (double)done[s->ok / 2] / 1e6;
        s->done_max = (double)done[s->ok - 1] / 1e6;
    }
    for (int k = 0; k < 6; k++)
        s->mib[k] = glass_stack_mib(r->srv, fl_mibs[k]);
}

static void print_json_run(struct out_buf *b, const char *name, const struct fl_run *r,
                           const struct fl_summary *s, double wall)
{
    out_printf(b,
               "\"%s\": {\"syns\": %" PRIu64 ", \"ok\": %u, \"connected\": %u, \"failed\": %u, "
               "\"timed_out\": %u, \"connect_ms\": {\"median\": %.3f, \"max\": %.3f}, "
               "\"done_ms\": {\"median\": %.3f, \"max\": %.3f}, \"server\": {",
               name, r->syns, s->ok, s->connected, s->failed, s->timed_out, s->conn_med, s->conn_max,
               s->done_med, s->done_max);
    for (int k = 0; k < 6; k++)
        out_printf(b, "\"%s\": %" PRIu64 ", ", glass_mib_name(fl_mibs[k]), s->mib[k]);
    out_printf(b,
               "\"synacks_sent\": %" PRIu64 ", \"syn_rcvd_peak\": %u, \"mem_peak\": %" PRIu64
               ", \"mem_max\": %" PRIu64 "}, \"wall_s\": %.3f}",
               r->synacks, r->synq_peak, r->mem_peak, r->o->mem_max, wall);
}

static void print_text_run(const char *name, const struct fl_run *r, const struct fl_summary *s)
{
    printf("%-9s %7" PRIu64 " SYNs: %u/%u clients done (%u connected, %u timed out), handshake "
           "median %.1f ms max %.1f ms, done median %.1f ms max %.1f ms\n",
           name, r->syns, s->ok, r->o->clients, s->connected, s->timed_out, s->conn_med, s->conn_max,
           s->done_med, s->done_max);
    printf("          server: cookies sent %" PRIu64 " recv %" PRIu64 " failed %" PRIu64
           ", ReqQFullDoCookies %" PRIu64 " ReqQFullDrop %" PRIu64 " ListenDrops %" PRIu64
           ", SYN,ACKs %" PRIu64 ", SYN_RCVD peak %u, memory peak %" PRIu64 " of %" PRIu64 "\n",
           s->mib[0], s->mib[1], s->mib[2], s->mib[3], s->mib[4], s->mib[5], r->synacks,
           r->synq_peak, r->mem_peak, r->o->mem_max);
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage_error(const char *fmt, ...) OUT_PRINTF(1, 2);
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("glass flood: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (glass flood --help)\n", stderr);
    return GLASS_EXIT_USAGE;
}

static void flood_usage(FILE *f)
{
    fprintf(f, "usage: glass flood [options]\n\n"
               "A SYN flood (spoofed sources) at a listener while clients connect and transfer,\n"
               "in virtual time; the same clients run first without the flood.\n"
               "Exit status: 0 done, 1 an invariant broke, 2 usage error.\n\n"
               "  --syns N          spoofed SYNs (default 100000)\n"
               "  --rate R          SYNs per second of virtual time (default 100000)\n"
               "  --clients K       legitimate clients, 1..1000 (default 50)\n"
               "  --bytes B         bytes each client sends (default 16384)\n"
               "  --syncookies M    0 off, 1 when the SYN queue is full (default), 2 always\n"
               "  --backlog N       listen() backlog: SYN and accept queue (default 128)\n"
               "  --syn-retries N   client SYN retransmissions before giving up (default 6)\n"
               "  --mem-max BYTES   the server's memory budget (default 64M)\n"
               "  --delay MS        one-way delay client <-> server (default 10)\n"
               "  --seed S          seed (default 1)\n"
               "  --json            one JSON object\n"
               "  -h, --help        this help\n");
}

static bool parse_num(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    if (s == NULL || *s == '\0' || *s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    uint64_t mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1000u, end++;
    else if (*end == 'M')
        mul = UINT64_C(1) << 20, end++;
    if (*end != '\0' || v > hi / mul || v * mul < lo)
        return false;
    *out = v * mul;
    return true;
}

int glass_cmd_flood(int argc, char **argv)
{
    struct fl_opts o = {
        .syns = 100000, .rate = 100000, .clients = 50, .bytes = 16384, .syncookies = 1,
        .backlog = 128, .mem_max = UINT64_C(64) << 20, .delay_ms = 10, .seed = 1,
    };
    static const struct option longopts[] = {
        {"syns", required_argument, NULL, 'n'},    {"rate", required_argument, NULL, 'r'},
        {"clients", required_argument, NULL, 'k'}, {"bytes", required_argument, NULL, 'b'},
        {"syncookies", required_argument, NULL, 'c'}, {"backlog", required_argument, NULL, 'q'},
        {"syn-retries", required_argument, NULL, 'y'}, {"mem-max", required_argument, NULL, 'm'},
        {"delay", required_argument, NULL, 'd'},   {"seed", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},          {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    optind = 1;
    int ch;
    uint64_t v;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'n':
            if (!parse_num(optarg, 0, 100000000, &o.syns))
                return usage_error("bad --syns '%s' (want 0..100000000)", optarg);
            break;
        case 'r':
            if (!parse_num(optarg, 1, 100000000, &v))
                return usage_error("bad --rate '%s' (want SYNs per second, 1..100000000)", optarg);
            o.rate = (double)v;
            break;
        case 'k':
            if (!parse_num(optarg, 1, FL_MAX_CLIENTS, &v))
                return usage_error("bad --clients '%s' (want 1..%u)", optarg, FL_MAX_CLIENTS);
            o.clients = (unsigned)v;
            break;
        case 'b':
            if (!parse_num(optarg, 1, UINT64_C(1) << 30, &o.bytes))
                return usage_error("bad --bytes '%s' (want 1..1G)", optarg);
            break;
        case 'c':
            if (!parse_num(optarg, 0, 2, &v))
                return usage_error("bad --syncookies '%s' (want 0, 1 or 2)", optarg);
            o.syncookies = (unsigned)v;
            break;
        case 'q':
            if (!parse_num(optarg, 0, 4096, &v))
                return usage_error("bad --backlog '%s' (want 0..4096)", optarg);
            o.backlog = (unsigned)v;
            break;
        case 'y':
            if (!parse_num(optarg, 1, 255, &v))
                return usage_error("bad --syn-retries '%s' (want 1..255)", optarg);
            o.syn_retries = (unsigned)v;
            break;
        case 'm':
            if (!parse_num(optarg, UINT64_C(1) << 20, UINT64_C(1) << 40, &o.mem_max))
                return usage_error("bad --mem-max '%s' (want 1M.. bytes)", optarg);
            break;
        case 'd':
            if (!parse_num(optarg, 0, 10000, &v))
                return usage_error("bad --delay '%s' (want milliseconds, 0..10000)", optarg);
            o.delay_ms = (double)v;
            break;
        case 's':
            if (!parse_num(optarg, 0, UINT64_MAX, &o.seed))
                return usage_error("bad --seed '%s' (want a non-negative integer)", optarg);
            break;
        case 'j':
            o.json = true;
            break;
        case 'h':
            flood_usage(stdout);
            return GLASS_EXIT_OK;
        case ':':
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        default:
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);

    static struct fl_run base, flood;
    struct fl_summary sb, sf;
    double w0 = wall_now();
    if (!fl_run(&base, &o, 0)) {
        fprintf(stderr, "glass flood: cannot set up the simulation\n");
        fl_free(&base);
        return GLASS_EXIT_FAILED;
    }
    double w1 = wall_now();
    summarize(&base, &sb);
    if (!fl_run(&flood, &o, o.syns)) {
        fprintf(stderr, "glass flood: cannot set up the simulation\n");
        fl_free(&base);
        fl_free(&flood);
        return GLASS_EXIT_FAILED;
    }
    double w2 = wall_now();
    summarize(&flood, &sf);
    double slow_conn = sb.conn_med > 0 ? sf.conn_med / sb.conn_med : 0;
    double slow_done = sb.done_med > 0 ? sf.done_med / sb.done_med : 0;
    bool broken = base.broken || flood.broken;
    if (o.json) {
        struct out_buf b;
        out_init(&b);
        out_printf(&b,
                   "{\"clients\": %u, \"bytes\": %" PRIu64 ", \"rate\": %.0f, \"syncookies\": %u, "
                   "\"backlog\": %u, \"seed\": %" PRIu64 ", ",
                   o.clients, o.bytes, o.rate, o.syncookies, o.backlog, o.seed);
        print_json_run(&b, "baseline", &base, &sb, w1 - w0);
        out_puts(&b, ", ");
        print_json_run(&b, "flood", &flood, &sf, w2 - w1);
        out_printf(&b, ", \"slowdown\": {\"connect\": %.3f, \"done\": %.3f}, \"ok\": %s",
                   slow_conn, slow_done, broken ? "false" : "true");
        if (broken) {
            out_puts(&b, ", \"why\": ");
            out_json_str(&b, base.broken ? base.why : flood.why);
        }
        out_puts(&b, "}\n");
        out_flush(&b, stdout);
        out_free(&b);
    } else {
        printf("glass flood: %u clients x %" PRIu64 " bytes, %" PRIu64
               " spoofed SYNs at %.0f/s, syncookies %u, backlog %u, seed %" PRIu64 "\n",
               o.clients, o.bytes, o.syns, o.rate, o.syncookies, o.backlog, o.seed);
        print_text_run("baseline", &base, &sb);
        print_text_run("flood", &flood, &sf);
        printf("slowdown (median): handshake x%.2f, done x%.2f\n", slow_conn, slow_done);
        if (broken)
            printf("BROKEN: %s\n", base.broken ? base.why : flood.why);
    }
    fl_free(&base);
    fl_free(&flood);
    return broken ? GLASS_EXIT_FAILED : GLASS_EXIT_OK;
}
