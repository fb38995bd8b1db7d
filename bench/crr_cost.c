/* crr_cost — the crr workload of `glass bench` made deterministic, for counting what one
 * connection costs (docs/performance.md, "The seventh round").
 *
 * Two stacks in one process on a zero-delay link, driven exactly as bench_glass.c's crr does
 * (connect, one byte each way, the client closes first, the server reads EOF and closes; the
 * stacks take turns as in an event loop, each step of the application coming between one
 * stack's input and its output), but for a fixed number of connections and on a made-up clock
 * that advances 4 us per connection. Nothing depends on the wall clock, so two runs execute the
 * same instructions: run it under callgrind (bench/crr_cost.py) and the difference between two
 * connection counts is what one connection costs, free of this machine's noise.
 *
 * usage: crr_cost [--conns N] [--tw-max N] [--off FEATURE]...
 * --off turns one of the bench's settings off in both stacks (FEATURES below), to see what it
 * costs a connection (bench/crr_cost.py --features).
 * Prints one line and exits 0 if every connection went through with no retransmission; 1 if
 * one did not; 2 on a usage error. */
#include <glass/err.h>
#include <glass/socket.h>
#include <glass/stack.h>
#include <glass/stats.h>
#include <glass/trace.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PORTS 16u /* server ports, as BENCH_CRR_PORTS */
#define PORT0 5201u
#define STEP_NS 4000u            /* the made-up clock: per connection */
#define TIMER_TICK GLASS_MSEC(1) /* timers checked at most this often, as the bench does */
#define CLIENT_ADDR 0xc0000201u  /* 192.0.2.1 */
#define SERVER_ADDR 0xc0000202u  /* 192.0.2.2 */

/* What --off can turn off: the glass_config settings the bench keeps on (as Linux has them by
 * default) that a connection's segments pay for. */
enum feature {
    F_SACK = 1u << 0,       /* SACK (RFC 2018); RACK needs it, so it goes too */
    F_RACK = 1u << 1,       /* RACK-TLP (RFC 8985) */
    F_TIMESTAMPS = 1u << 2, /* RFC 7323 timestamps */
    F_WSCALE = 1u << 3,     /* RFC 7323 window scaling */
    F_TRACE = 1u << 4,      /* the stack's ring of recent transitions (trace_ring 0) */
    F_EVENTS = 1u << 5,     /* the event ring (event_ring 0) */
    F_VERIFY = 1u << 6,     /* verify_checksums: the IPv4 header checksum of each input */
};
static const struct {
    const char *name;
    enum feature f;
} FEATURES[] = {
    {"sack", F_SACK},   {"rack", F_RACK},     {"timestamps", F_TIMESTAMPS}, {"wscale", F_WSCALE},
    {"trace", F_TRACE}, {"events", F_EVENTS}, {"verify", F_VERIFY},
};
#define NFEATURES (sizeof FEATURES / sizeof FEATURES[0])

struct pair {
    struct glass_stack *st[2]; /* 0 client, 1 server */
    glass_time_t now, timers_at;
    uint8_t pkt[65536];
};

/* One turn of stack `from`'s event loop, as bench_glass.c's gl_turn: due timers (checked at
 * most once per tick), then every datagram `from` has to send goes to the other stack, whose
 * events are then dropped (the harness polls the sockets). */
static void turn(struct pair *p, int from)
{
    if (p->now - p->timers_at >= TIMER_TICK) {
        p->timers_at = p->now;
        for (int i = 0; i < 2; i++) {
            if (glass_stack_next_deadline(p->st[i]) <= p->now)
                glass_stack_advance(p->st[i], p->now);
        }
    }
    struct glass_output out;
    while (glass_stack_output_sg(p->st[from], p->now, p->pkt, sizeof p->pkt, &out) > 0)
        glass_stack_input_sg(p->st[1 - from], p->now, p->pkt, out.len, out.payload,
                             out.payload_len, GLASS_INPUT_CSUM_OK);
    struct glass_event ev;
    while (glass_stack_next_event(p->st[1 - from], &ev)) {
    }
}

static void nodelay(struct glass_stack *s, int fd)
{
    int one = 1;
    (void)glass_setsockopt(s, fd, GLASS_SOL_TCP, GLASS_TCP_NODELAY, &one, sizeof one);
}

static void turn_off(struct glass_config *cfg, unsigned off)
{
    if (off & F_SACK)
        cfg->sack = false;
    if (off & F_RACK)
        cfg->rack = false;
    if (off & F_TIMESTAMPS)
        cfg->timestamps = false;
    if (off & F_WSCALE)
        cfg->window_scaling = false;
    if (off & F_TRACE)
        cfg->trace_ring = 0;
    if (off & F_EVENTS)
        cfg->event_ring = 0;
    if (off & F_VERIFY)
        cfg->verify_checksums = false;
}

static bool open_pair(struct pair *p, uint32_t tw_max, unsigned off)
{
    static const uint32_t addr[2] = {CLIENT_ADDR, SERVER_ADDR};
    for (int i = 0; i < 2; i++) {
        struct glass_config cfg;
        glass_config_default(&cfg);
        cfg.seed = (uint64_t)i + 1u;
        cfg.mss = 1460;
        cfg.tx_csum_offload = true; /* as the bench: both ends opt in */
        cfg.sndbuf = 65535;
        cfg.rcvbuf = 65535;
        cfg.mem_max = 0;
        if (tw_max != 0)
            cfg.max_time_wait = tw_max;
        turn_off(&cfg, off);
        p->st[i] = glass_stack_new(&cfg);
        if (p->st[i] == NULL || glass_stack_add_iface(p->st[i], addr[i], 24, 1500) < 0)
            return false;
    }
    p->now = GLASS_SEC(1);
    p->timers_at = p->now;
    return true;
}

static bool listen_all(struct pair *p, int lfd[PORTS])
{
    struct glass_stack *s = p->st[1];
    int one = 1;
    for (unsigned i = 0; i < PORTS; i++) {
        struct glass_endpoint ep = {.addr = SERVER_ADDR, .port = (uint16_t)(PORT0 + i)};
        lfd[i] = glass_socket(s);
        if (lfd[i] < 0 ||
            glass_setsockopt(s, lfd[i], GLASS_SOL_SOCKET, GLASS_SO_REUSEADDR, &one, sizeof one) <
                0 ||
            glass_bind(s, lfd[i], &ep) < 0 || glass_listen(s, lfd[i], 65535) < 0)
            return false;
    }
    return true;
}

static bool send_byte(struct glass_stack *st, int fd)
{
    uint8_t b = 'x';
    return glass_send(st, fd, &b, 1, 0) == 1;
}

static bool recv_byte(struct glass_stack *st, int fd)
{
    uint8_t b;
    return glass_recv(st, fd, &b, 1, 0) == 1 && b == 'x';
}

/* Connection n; NULL, or what went wrong. The turns are gl_crr's: 7 segments. */
static const char *one_conn(struct pair *p, const int lfd[PORTS], uint64_t n)
{
    struct glass_stack *c = p->st[0], *s = p->st[1];
    int cfd = glass_socket(c);
    if (cfd < 0)
        return "socket";
    struct glass_endpoint to = {.addr = SERVER_ADDR, .port = (uint16_t)(PORT0 + n % PORTS)};
    int r = glass_connect(c, cfd, &to);
    if (r != 0 && r != -GLASS_EINPROGRESS)
        return "connect";
    nodelay(c, cfd);
    turn(p, 0); /* SYN */
    turn(p, 1); /* SYN,ACK */
    if (!send_byte(c, cfd))
        return "request";
    turn(p, 0); /* the request, with the handshake's ACK */
    int sfd = glass_accept(s, lfd[n % PORTS], NULL);
    if (sfd < 0)
        return "accept";
    nodelay(s, sfd);
    if (!recv_byte(s, sfd) || !send_byte(s, sfd))
        return "reply";
    turn(p, 1); /* the reply, with the ACK of the request */
    if (!recv_byte(c, cfd))
        return "reply's receipt";
    glass_close(c, cfd); /* the client closes first: TIME_WAIT is on its side */
    turn(p, 0);          /* FIN, with the ACK of the reply */
    uint8_t b;
    if (glass_recv(s, sfd, &b, 1, 0) != 0)
        return "EOF";
    glass_close(s, sfd);
    turn(p, 1); /* FIN, with the ACK of the client's FIN */
    turn(p, 0); /* the last ACK */
    return NULL;
}

static int usage(const char *msg)
{
    fprintf(stderr,
            "crr_cost: %s\nusage: crr_cost [--conns N] [--tw-max N] [--off FEATURE]...\n"
            "features:",
            msg);
    for (size_t k = 0; k < NFEATURES; k++)
        fprintf(stderr, " %s", FEATURES[k].name);
    fputc('\n', stderr);
    return 2;
}

static bool parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* "off: sack rack, " for the features in off; "" if none is. */
static const char *off_names(unsigned off)
{
    static char buf[96];
    size_t n = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < NFEATURES; k++) {
        if (off & FEATURES[k].f)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s %s", n == 0 ? "off:" : "",
                                  FEATURES[k].name);
    }
    if (n > 0)
        snprintf(buf + n, sizeof buf - n, ", ");
    return buf;
}

int main(int argc, char **argv)
{
    uint32_t conns = 20000, tw_max = 0;
    unsigned off = 0;
    for (int i = 1; i < argc; i++) {
        bool is_conns = strcmp(argv[i], "--conns") == 0, is_tw = strcmp(argv[i], "--tw-max") == 0;
        bool is_off = strcmp(argv[i], "--off") == 0;
        if (!is_conns && !is_tw && !is_off)
            return usage("unknown argument");
        if (i + 1 >= argc)
            return usage("missing value");
        if (is_off) {
            size_t k = 0;
            while (k < NFEATURES && strcmp(argv[i + 1], FEATURES[k].name) != 0)
                k++;
            if (k == NFEATURES)
                return usage("unknown feature after --off");
            off |= FEATURES[k].f;
            i++;
            continue;
        }
        if (!parse_u32(argv[++i], 1, is_conns ? 10000000u : (1u << 24),
                       is_conns ? &conns : &tw_max))
            return usage(is_conns ? "--conns takes 1..10000000" : "--tw-max takes 1..16777216");
    }
    static struct pair p;
    int lfd[PORTS];
    if (!open_pair(&p, tw_max, off) || !listen_all(&p, lfd)) {
        fprintf(stderr, "crr_cost: set-up failed\n");
        return 1;
    }
    int rc = 0;
    for (uint64_t n = 0; n < conns; n++) {
        p.now += STEP_NS;
        const char *why = one_conn(&p, lfd, n);
        if (why != NULL) {
            fprintf(stderr, "crr_cost: connection %" PRIu64 ": %s failed\n", n, why);
            rc = 1;
            break;
        }
    }
    uint64_t seg[2], rtx = 0;
    for (int i = 0; i < 2; i++) {
        seg[i] = glass_stack_mib(p.st[i], GLASS_MIB_TcpOutSegs);
        rtx += glass_stack_mib(p.st[i], GLASS_MIB_TcpRetransSegs);
    }
    uint64_t open = (uint64_t)glass_stack_in_state(p.st[1], GLASS_TCP_LAST_ACK) +
                    glass_stack_in_state(p.st[1], GLASS_TCP_CLOSE_WAIT);
    double n = (double)conns;
    printf("crr_cost: %s%" PRIu32 " connections, %.2f segments each (client %.2f, server %.2f), "
           "%" PRIu64 " retransmitted, %" PRIu32 " in TIME_WAIT, %" PRIu64 " not kept, "
           "server: %" PRIu64 " not closed\n",
           off_names(off), conns, (double)(seg[0] + seg[1]) / n, (double)seg[0] / n,
           (double)seg[1] / n, rtx, glass_stack_in_state(p.st[0], GLASS_TCP_TIME_WAIT),
           glass_stack_mib(p.st[0], GLASS_MIB_TcpExtTCPTimeWaitOverflow), open);
    if (rc == 0 && (rtx != 0 || open != 0)) {
        fprintf(stderr,
                "crr_cost: on a lossless link, %" PRIu64 " segments retransmitted and %" PRIu64
                " server connections not closed\n",
                rtx, open);
        rc = 1;
    }
    for (int i = 0; i < 2; i++)
        glass_stack_free(p.st[i]);
    return rc;
}
