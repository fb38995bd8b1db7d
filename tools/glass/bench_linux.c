/* glass bench — the Linux harness: kernel TCP sockets over loopback, in this process.
 *
 * When it may (root), the process first moves into a network namespace of its own, so that it
 * can set lo's MTU to the workload's MSS + 40 and turn GSO/TSO off there without touching the
 * host's lo; otherwise it uses the host's lo and asks for the MSS with TCP_MAXSEG (and says so).
 * bulk: a sender thread and the receiving main thread (and a row with both pinned to one CPU);
 * rr and crr: both ends in one thread, blocking sockets (loopback delivers in the sender's
 * context); conns: kernel memory from /proc/meminfo (Slab) and /proc/slabinfo deltas. */
#define _GNU_SOURCE

#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static bool lx_netns;     /* in our own namespace: lo may be reconfigured */
static bool lx_gso_off;   /* GSO and TSO were turned off on our lo */
static char lx_setup_note[160];

/* ---- set-up -------------------------------------------------------------------------------- */

static int lx_ifreq(unsigned long req, struct ifreq *ifr)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0)
        return -1;
    snprintf(ifr->ifr_name, sizeof ifr->ifr_name, "lo");
    int r = ioctl(s, req, ifr);
    close(s);
    return r;
}

static bool lx_ethtool_off(uint32_t cmd)
{
    struct ethtool_value ev = {.cmd = cmd, .data = 0};
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_data = (char *)&ev;
    return lx_ifreq(SIOCETHTOOL, &ifr) == 0;
}

static bool lx_set_mtu(unsigned mtu)
{
    if (!lx_netns)
        return false;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_mtu = (int)mtu;
    return lx_ifreq(SIOCSIFMTU, &ifr) == 0;
}

static bool lx_lo_up(char *why, size_t cap);

bool bench_linux_setup(char *why, size_t cap)
{
    /* Descriptors for the conns rows: as many as the kernel allows (fs.nr_open), else the
     * hard limit. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        unsigned long long nr_open = 0;
        FILE *f = fopen("/proc/sys/fs/nr_open", "r");
        if (f != NULL) {
            if (fscanf(f, "%llu", &nr_open) != 1)
                nr_open = 0;
            fclose(f);
        }
        struct rlimit nl = {.rlim_cur = (rlim_t)nr_open, .rlim_max = (rlim_t)nr_open};
        if (nr_open <= rl.rlim_max || setrlimit(RLIMIT_NOFILE, &nl) != 0) {
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
    }
    if (unshare(CLONE_NEWNET) != 0) {
        snprintf(why, cap, "no private netns (%s): host lo, MSS via TCP_MAXSEG", strerror(errno));
        snprintf(lx_setup_note, sizeof lx_setup_note, "%s", why);
        return false;
    }
    lx_netns = true;
    return lx_lo_up(why, cap);
}

/* Bring the namespace's lo up with GSO/TSO off. */
static bool lx_lo_up(char *why, size_t cap)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    if (lx_ifreq(SIOCGIFFLAGS, &ifr) != 0) {
        snprintf(why, cap, "netns lo: %s", strerror(errno));
        return false;
    }
    ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP);
    if (lx_ifreq(SIOCSIFFLAGS, &ifr) != 0) {
        snprintf(why, cap, "netns lo up: %s", strerror(errno));
        return false;
    }
    lx_gso_off = lx_ethtool_off(ETHTOOL_SGSO) && lx_ethtool_off(ETHTOOL_STSO);
    snprintf(lx_setup_note, sizeof lx_setup_note, "private netns, lo MTU = MSS + 40, GSO/TSO %s",
             lx_gso_off ? "off" : "on (could not be turned off)");
    snprintf(why, cap, "%s", lx_setup_note);
    return true;
}

void bench_linux_describe(char *buf, size_t cap)
{
    char tw[32] = "?";
    FILE *f = fopen("/proc/sys/net/ipv4/tcp_tw_reuse", "r");
    if (f != NULL) {
        if (fgets(tw, sizeof tw, f) == NULL)
            snprintf(tw, sizeof tw, "?");
        tw[strcspn(tw, "\n")] = '\0';
        fclose(f);
    }
    snprintf(buf, cap,
             "Linux: kernel sockets on 127.0.0.1, %s; checksums neither computed nor verified on "
             "lo; tcp_tw_reuse=%s; TIME_WAIT 60 s",
             lx_setup_note[0] ? lx_setup_note : "host lo", tw);
}

/* ---- sockets ------------------------------------------------------------------------------- */

static void lx_opts(int fd, unsigned mss, uint32_t buf, bool nodelay)
{
    int v = (int)buf;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
    v = (int)mss;
    setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof v);
    if (nodelay) {
        v = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v);
    }
}

static struct sockaddr_in lx_addr(uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int lx_listen(uint16_t port, unsigned mss, uint32_t buf, bool nodelay, int backlog)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    lx_opts(fd, mss, buf, nodelay);
    struct sockaddr_in a = lx_addr(port);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, backlog) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int lx_connect(uint16_t port, unsigned mss, uint32_t buf, bool nodelay, bool nonblock)
{
    int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        return -1;
    lx_opts(fd, mss, buf, nodelay);
    struct sockaddr_in a = lx_addr(port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static bool lx_pair_on(uint16_t port, unsigned mss, uint32_t buf, bool nodelay, int *lfd,
                       int *cfd, int *sfd, struct bench_out *o)
{
    *lfd = lx_listen(port, mss, buf, nodelay, 16);
    *cfd = *lfd < 0 ? -1 : lx_connect(port, mss, buf, nodelay, false);
    *sfd = *cfd < 0 ? -1 : accept(*lfd, NULL, NULL);
    if (*sfd < 0) {
        o->status = BENCH_FAILED;
        bench_note(o, "socket set-up: %s", strerror(errno));
        if (*cfd >= 0)
            close(*cfd);
        if (*lfd >= 0)
            close(*lfd);
        return false;
    }
    return true;
}

static bool lx_pair(unsigned mss, uint32_t buf, bool nodelay, int *lfd, int *cfd, int *sfd,
                    struct bench_out *o)
{
    return lx_pair_on(BENCH_PORT, mss, buf, nodelay, lfd, cfd, sfd, o);
}

/* ---- bulk ---------------------------------------------------------------------------------- */

struct lx_sender {
    int fd;
    uint64_t bytes;
    int err;
};

static void *lx_send_main(void *arg)
{
    struct lx_sender *s = arg;
    const uint8_t *pat = bench_pattern();
    uint64_t sent = 0;
    while (sent < s->bytes) {
        uint64_t want = s->bytes - sent;
        size_t n = want < BENCH_PAT_LEN ? (size_t)want : BENCH_PAT_LEN;
        ssize_t r = send(s->fd, pat + sent % BENCH_PAT_LEN, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            s->err = errno;
            return NULL;
        }
        sent += (uint64_t)r;
    }
    shutdown(s->fd, SHUT_WR);
    return NULL;
}

/* One connection on port: b->bytes from a sender thread to this one, verified. Fills o->v[0]
 * (GB/s), work, t0, t1; *seg: the MSS the kernel chose. pin: both threads on this CPU; returns
 * whether they were. */
static bool lx_bulk(const struct bench_bulk *b, uint16_t port, bool pin, int *seg,
                    struct bench_out *o)
{
    uint8_t *rbuf = malloc(BENCH_PAT_LEN);
    int lfd, cfd, sfd;
    if (rbuf == NULL || !lx_pair_on(port, b->mss, b->buf, false, &lfd, &cfd, &sfd, o)) {
        if (rbuf == NULL) {
            o->status = BENCH_FAILED;
            bench_note(o, "out of memory");
        }
        free(rbuf);
        return false;
    }
    socklen_t sl = sizeof *seg;
    getsockopt(cfd, IPPROTO_TCP, TCP_MAXSEG, seg, &sl);
    cpu_set_t old, one;
    bool pinned = false;
    if (pin && sched_getaffinity(0, sizeof old, &old) == 0) {
        CPU_ZERO(&one);
        CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &one);
        pinned = sched_setaffinity(0, sizeof one, &one) == 0; /* the thread inherits it */
    }
    struct lx_sender s = {.fd = cfd, .bytes = b->bytes, .err = 0};
    pthread_t th;
    uint64_t start = bench_now_ns();
    if (pthread_create(&th, NULL, lx_send_main, &s) != 0) {
        o->status = BENCH_FAILED;
        bench_note(o, "pthread_create failed");
        goto out;
    }
    uint64_t got = 0;
    bool bad = false;
    for (;;) {
        ssize_t r = recv(sfd, rbuf, BENCH_PAT_LEN, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (!bad && !bench_check(rbuf, (size_t)r, got))
            bad = true;
        got += (uint64_t)r;
    }
    uint64_t end = bench_now_ns();
    pthread_join(th, NULL);
    if (bad || got != b->bytes || s.err != 0) {
        o->status = BENCH_FAILED;
        bench_note(o, "%s: got %llu of %llu bytes%s", bad ? "payload mismatch" : "short transfer",
                   (unsigned long long)got, (unsigned long long)b->bytes,
                   s.err ? " (send error)" : "");
        goto out;
    }
    o->v[0] = (double)b->bytes / ((double)(end - start) / 1e9) / 1e9;
    o->work = b->bytes;
    o->t0 = start;
    o->t1 = end;
out:
    if (pinned)
        sched_setaffinity(0, sizeof old, &old);
    close(cfd);
    close(sfd);
    close(lfd);
    free(rbuf);
    return pinned;
}

void bench_linux_bulk(const struct bench_bulk *b, struct bench_out *o)
{
    bool mtu_set = lx_set_mtu(b->mss + 40u);
    int seg = 0;
    bool pinned = lx_bulk(b, BENCH_PORT, b->pinned, &seg, o);
    if (o->status == BENCH_OK)
        bench_note(o, "MSS %d (%s), SO_SNDBUF/SO_RCVBUF %u, %s, payload verified", seg,
                   mtu_set ? "lo MTU = MSS + 40" : "TCP_MAXSEG on host lo", b->buf,
                   pinned ? "sender and receiver pinned to 1 CPU" : "sender and receiver threads");
    lx_set_mtu(65536u);
}

struct lx_mt {
    const struct bench_bulk *b;
    const struct bench_params *p;
};

static void lx_bulk_part(void *ctx, unsigned i, struct bench_out *o)
{
    int seg = 0;
    lx_bulk(((const struct lx_mt *)ctx)->b, (uint16_t)(BENCH_PORT + 1u + i), false, &seg, o);
}

void bench_linux_bulk_mt(const struct bench_bulk *b, unsigned threads, struct bench_out *o)
{
    bool mtu_set = lx_set_mtu(b->mss + 40u);
    struct lx_mt m = {.b = b};
    if (bench_parallel(threads, lx_bulk_part, &m, "GB/s", 1e9, o)) {
        o->v[0] = (double)o->work / ((double)(o->t1 - o->t0) / 1e9) / 1e9;
        char parts[BENCH_NOTE];
        snprintf(parts, sizeof parts, "%s", o->note);
        bench_note(o, "%u connections at once, each a sender and a receiver thread (%s), %s; %s",
                   threads, mtu_set ? "lo MTU = MSS + 40" : "TCP_MAXSEG on host lo",
                   "payload verified", parts);
    }
    lx_set_mtu(65536u);
}

/* ---- rr and crr ---------------------------------------------------------------------------- */

static bool lx_one_byte(int from, int to, struct bench_out *o)
{
    uint8_t byte = 'x';
    if (send(from, &byte, 1, 0) != 1 || recv(to, &byte, 1, 0) != 1) {
        o->status = BENCH_FAILED;
        bench_note(o, "1-byte exchange: %s", strerror(errno));
        return false;
    }
    return true;
}

struct lx_rr {
    int cfd, sfd;
};

static bool lx_rr_round(void *ctx, struct bench_out *o)
{
    struct lx_rr *r = ctx;
    return lx_one_byte(r->cfd, r->sfd, o) && lx_one_byte(r->sfd, r->cfd, o);
}

void bench_linux_rr(const struct bench_params *p, struct bench_out *o)
{
    int lfd;
    struct lx_rr r;
    if (!lx_pair(p->mss, p->buf, true, &lfd, &r.cfd, &r.sfd, o))
        return;
    if (bench_rr_loop(p->secs, lx_rr_round, &r, o))
        bench_note(o, "%llu transactions, one thread, TCP_NODELAY", (unsigned long long)o->count);
    close(r.cfd);
    close(r.sfd);
    close(lfd);
}

/* Connections in TIME_WAIT in this namespace (/proc/net/sockstat "tw"). */
static uint64_t lx_time_wait(void)
{
    FILE *f = fopen("/proc/net/sockstat", "r");
    if (f == NULL)
        return 0;
    char line[256];
    unsigned long long tw = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        const char *p = strstr(line, " tw ");
        if (strncmp(line, "TCP:", 4) == 0 && p != NULL)
            tw = strtoull(p + 4, NULL, 10);
    }
    fclose(f);
    return tw;
}

/* Move into a fresh network namespace with lo up (when we have our own; else stay where we
 * are). False, with why filled, if that fails. */
static bool lx_fresh_netns(char *why, size_t cap)
{
    if (!lx_netns)
        return true;
    if (unshare(CLONE_NEWNET) != 0) {
        snprintf(why, cap, "unshare: %s", strerror(errno));
        return false;
    }
    return lx_lo_up(why, cap);
}

/* Write v to a sysctl file (our namespace's, under /proc/sys/net). */
static bool lx_sysctl_set(const char *path, unsigned long long v)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return false;
    bool ok = fprintf(f, "%llu\n", v) > 0;
    return fclose(f) == 0 && ok;
}

/* A TcpExt counter of this namespace (/proc/net/netstat: a line of names, then one of values). */
static uint64_t lx_tcpext(const char *name)
{
    FILE *f = fopen("/proc/net/netstat", "r");
    if (f == NULL)
        return 0;
    char names[8192], values[8192];
    uint64_t v = 0;
    while (fgets(names, sizeof names, f) != NULL && fgets(values, sizeof values, f) != NULL) {
        if (strncmp(names, "TcpExt:", 7) != 0)
            continue;
        char *ns = NULL, *vs = NULL;
        char *n = strtok_r(names, " \n", &ns), *x = strtok_r(values, " \n", &vs);
        while (n != NULL && x != NULL) {
            if (strcmp(n, name) == 0)
                v = strtoull(x, NULL, 10);
            n = strtok_r(NULL, " \n", &ns);
            x = strtok_r(NULL, " \n", &vs);
        }
    }
    fclose(f);
    return v;
}

/* The crr row with a bounded TIME_WAIT pile-up: a fresh namespace (the rows before have filled
 * this one's table) whose tcp_max_tw_buckets is tw_max. False, with o filled, if impossible. */
static bool lx_tw_bound(uint32_t tw_max, struct bench_out *o)
{
    char why[160];
    if (!lx_netns) {
        o->status = BENCH_NA;
        bench_note(o, "bounding TIME_WAIT (tcp_max_tw_buckets) needs a private netns: %s",
                   lx_setup_note);
        return false;
    }
    if (!lx_fresh_netns(why, sizeof why)) {
        o->status = BENCH_FAILED;
        bench_note(o, "fresh netns: %s", why);
        return false;
    }
    if (!lx_sysctl_set("/proc/sys/net/ipv4/tcp_max_tw_buckets", tw_max)) {
        o->status = BENCH_FAILED;
        bench_note(o, "tcp_max_tw_buckets: %s", strerror(errno));
        return false;
    }
    return true;
}

/* Connect, one byte each way, close, for p->secs, to BENCH_CRR_PORTS server ports from `port`
 * on; fills o->v[0] (conn/s), work, t0, t1. NULL, or why it stopped early (o->stopped). */
static const char *lx_crr(const struct bench_params *p, uint16_t port, struct bench_out *o)
{
    int lfds[BENCH_CRR_PORTS];
    for (unsigned i = 0; i < BENCH_CRR_PORTS; i++) {
        lfds[i] = lx_listen((uint16_t)(port + i), p->mss, p->buf, true, 4096);
        if (lfds[i] < 0) {
            o->status = BENCH_FAILED;
            bench_note(o, "listen: %s", strerror(errno));
            while (i-- > 0)
                close(lfds[i]);
            return NULL;
        }
    }
    uint64_t n = 0, start = bench_now_ns(), end = start + (uint64_t)(p->secs * 1e9), t = start;
    const char *why = NULL;
    while (t < end) {
        int lfd = lfds[n % BENCH_CRR_PORTS];
        int cfd = lx_connect((uint16_t)(port + n % BENCH_CRR_PORTS), p->mss, p->buf, true, false);
        if (cfd < 0) {
            why = strerror(errno);
            break;
        }
        int sfd = accept(lfd, NULL, NULL);
        if (sfd < 0) {
            why = strerror(errno);
            close(cfd);
            break;
        }
        uint8_t byte;
        bool ok = lx_one_byte(cfd, sfd, o) && lx_one_byte(sfd, cfd, o);
        close(cfd); /* the client closes first: TIME_WAIT is on its side */
        if (ok && recv(sfd, &byte, 1, 0) != 0) {
            o->status = BENCH_FAILED;
            bench_note(o, "server expected EOF");
            ok = false;
        }
        close(sfd);
        if (!ok)
            break;
        n++;
        t = bench_now_ns();
    }
    o->v[0] = (double)n / ((double)(t - start) / 1e9);
    o->work = n;
    o->t0 = start;
    o->t1 = t;
    o->stopped = why != NULL;
    for (unsigned i = 0; i < BENCH_CRR_PORTS; i++)
        close(lfds[i]);
    return why;
}

void bench_linux_crr(const struct bench_params *p, struct bench_out *o)
{
    if (p->tw_max != 0 && !lx_tw_bound(p->tw_max, o))
        return;
    const char *why = lx_crr(p, BENCH_PORT, o);
    if (o->status != BENCH_OK)
        return;
    o->count = lx_time_wait();
    if (p->tw_max != 0)
        bench_note(o, "%llu connections in %.2f s to %u server ports, one thread; a fresh netns "
                      "with tcp_max_tw_buckets %u: %llu in TIME_WAIT, %llu not kept "
                      "(TCPTimeWaitOverflow)%s%s",
                   (unsigned long long)o->work, (double)(o->t1 - o->t0) / 1e9, BENCH_CRR_PORTS,
                   p->tw_max, (unsigned long long)o->count,
                   (unsigned long long)lx_tcpext("TCPTimeWaitOverflow"), why ? "; stopped: " : "",
                   why ? why : "");
    else if (why != NULL)
        bench_note(o, "stopped after %llu connections: %s; %llu in TIME_WAIT",
                   (unsigned long long)o->work, why, (unsigned long long)o->count);
    else
        bench_note(o, "%llu connections in %.2f s to %u server ports, one thread; %llu in "
                      "TIME_WAIT (namespace-wide, incl. earlier runs)",
                   (unsigned long long)o->work, (double)(o->t1 - o->t0) / 1e9, BENCH_CRR_PORTS,
                   (unsigned long long)o->count);
}

static void lx_crr_part(void *ctx, unsigned i, struct bench_out *o)
{
    /* each thread its own BENCH_CRR_PORTS listeners, after those of the 1-thread row */
    const char *why = lx_crr(((const struct lx_mt *)ctx)->p,
                             (uint16_t)(BENCH_PORT + (1u + i) * BENCH_CRR_PORTS), o);
    if (o->status == BENCH_OK && why != NULL)
        bench_note(o, "stopped: %s", why);
}

void bench_linux_crr_mt(const struct bench_params *p, unsigned threads, struct bench_out *o)
{
    if (p->tw_max != 0 && !lx_tw_bound(p->tw_max, o))
        return;
    struct lx_mt m = {.p = p};
    if (!bench_parallel(threads, lx_crr_part, &m, "conn/s", 1, o))
        return;
    o->v[0] = (double)o->work / ((double)(o->t1 - o->t0) / 1e9);
    o->count = lx_time_wait();
    char parts[BENCH_NOTE];
    snprintf(parts, sizeof parts, "%s", o->note);
    if (p->tw_max != 0)
        bench_note(o, "%u client threads, each its own %u listener ports, in a fresh netns with "
                      "tcp_max_tw_buckets %u; %s; %llu in TIME_WAIT, %llu not kept "
                      "(TCPTimeWaitOverflow)",
                   threads, BENCH_CRR_PORTS, p->tw_max, parts, (unsigned long long)o->count,
                   (unsigned long long)lx_tcpext("TCPTimeWaitOverflow"));
    else
        bench_note(o, "%u client threads, each its own %u listener ports; %s; %llu in TIME_WAIT",
                   threads, BENCH_CRR_PORTS, parts, (unsigned long long)o->count);
}

/* ---- conns and TIME_WAIT memory ------------------------------------------------------------ */

/* Kernel slab bytes: all of it (/proc/meminfo Slab), and the objects of one cache
 * (/proc/slabinfo active_objs * objsize) or of the TCP socket caches when name is NULL. */
static uint64_t lx_slab_total(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (f == NULL)
        return 0;
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "Slab:", 5) == 0)
            kb = strtoull(line + 5, NULL, 10);
    }
    fclose(f);
    return kb * 1024u;
}

static uint64_t lx_slab_cache(const char *name)
{
    static const char *const tcp[] = {"TCP", "request_sock_TCP", "tw_sock_TCP",
                                      "sock_inode_cache", "filp", "dentry", "tcp_bind_bucket",
                                      NULL};
    FILE *f = fopen("/proc/slabinfo", "r");
    if (f == NULL)
        return 0;
    char line[512];
    uint64_t sum = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        char cache[64];
        unsigned long long active, total, size;
        if (sscanf(line, "%63s %llu %llu %llu", cache, &active, &total, &size) != 4)
            continue;
        bool match = false;
        if (name != NULL)
            match = strcmp(cache, name) == 0;
        for (int i = 0; name == NULL && tcp[i] != NULL; i++)
            match = match || strcmp(cache, tcp[i]) == 0;
        if (match)
            sum += active * size;
    }
    fclose(f);
    return sum;
}

/* The object size of one slab cache (bytes), 0 if it is not listed. */
static uint64_t lx_slab_objsize(const char *name)
{
    FILE *f = fopen("/proc/slabinfo", "r");
    if (f == NULL)
        return 0;
    char line[512];
    uint64_t size = 0;
    while (size == 0 && fgets(line, sizeof line, f) != NULL) {
        char cache[64];
        unsigned long long active, total, sz;
        if (sscanf(line, "%63s %llu %llu %llu", cache, &active, &total, &sz) == 4 &&
            strcmp(cache, name) == 0)
            size = sz;
    }
    fclose(f);
    return size;
}

#define LX_CONNS_PER_PORT 25000u /* connections per server port (28232 ephemeral ports) */
#define LX_MAX_PORTS 8u

/* Open n connections spread over server ports from BENCH_PORT on (nonblocking connects,
 * accepted as they come). */
static uint32_t lx_open_many(const int *lfds, uint32_t n, const struct bench_params *p,
                             int *cfds, int *sfds, struct bench_out *o)
{
    uint32_t made = 0;
    uint64_t t0 = bench_now_ns();
    while (made < n) {
        if ((made & 1023u) == 0 && bench_now_ns() - t0 > BENCH_SETUP_NS) {
            o->status = BENCH_NA;
            bench_note(o, "opening %u connections took over %llu s (%u made)", n,
                       BENCH_SETUP_NS / 1000000000ull, made);
            return made;
        }
        uint32_t port = made / LX_CONNS_PER_PORT;
        int cfd = lx_connect((uint16_t)(BENCH_PORT + port), p->mss, p->buf, false, true);
        if (cfd < 0) {
            o->status = BENCH_FAILED;
            bench_note(o, "connect %u: %s", made, strerror(errno));
            return made;
        }
        int sfd = accept(lfds[port], NULL, NULL);
        if (sfd < 0) {
            o->status = BENCH_FAILED;
            bench_note(o, "accept %u: %s", made, strerror(errno));
            close(cfd);
            return made;
        }
        cfds[made] = cfd;
        sfds[made] = sfd;
        made++;
    }
    return made;
}

static void lx_close_all(int *fds, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        close(fds[i]);
}

/* How many of n connections fit in RLIMIT_NOFILE (two descriptors each, 64 spare); 0 (with
 * the row n/a) if fewer than half of them do. */
static uint32_t lx_fds_fit(uint32_t n, struct bench_out *o)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= 2u * (rlim_t)n + 64u)
        return n;
    uint32_t fit = rl.rlim_cur > 64u ? (uint32_t)((rl.rlim_cur - 64u) / 2u) : 0;
    if (fit < n / 2u) {
        o->status = BENCH_NA;
        bench_note(o, "RLIMIT_NOFILE %llu (no CAP_SYS_RESOURCE to raise it) is too small for %u "
                      "connections", (unsigned long long)rl.rlim_cur, n);
        return 0;
    }
    return fit;
}

/* One byte each way on each connection (the client ends may be nonblocking: each receive
 * waits up to 5 s for its byte). */
static bool lx_exchange(const int *cfds, const int *sfds, uint32_t n, struct bench_out *o)
{
    for (uint32_t i = 0; i < 2u * n; i++) {
        int from = i < n ? cfds[i] : sfds[i - n], to = i < n ? sfds[i] : cfds[i - n];
        uint8_t byte = 'x';
        struct pollfd pf = {.fd = to, .events = POLLIN};
        if (send(from, &byte, 1, 0) != 1 || poll(&pf, 1, 5000) != 1 ||
            recv(to, &byte, 1, 0) != 1) {
            o->status = BENCH_FAILED;
            bench_note(o, "1-byte exchange on connection %u: %s", i % n, strerror(errno));
            return false;
        }
    }
    return true;
}

void bench_linux_conns(const struct bench_params *p0, struct bench_out *o)
{
    struct bench_params pp = *p0, *p = &pp;
    if ((pp.conns = lx_fds_fit(p0->conns, o)) == 0)
        return;
    uint32_t ports = (p->conns + LX_CONNS_PER_PORT - 1u) / LX_CONNS_PER_PORT;
    if (ports > LX_MAX_PORTS) {
        o->status = BENCH_NA;
        bench_note(o, "more than %u connections", LX_MAX_PORTS * LX_CONNS_PER_PORT);
        return;
    }
    int lfds[LX_MAX_PORTS];
    for (uint32_t i = 0; i < LX_MAX_PORTS; i++)
        lfds[i] = -1;
    int *cfds = malloc(sizeof(int) * p->conns), *sfds = malloc(sizeof(int) * p->conns);
    uint32_t made = 0;
    bool ok = cfds != NULL && sfds != NULL;
    for (uint32_t i = 0; ok && i < ports; i++) {
        lfds[i] = lx_listen((uint16_t)(BENCH_PORT + i), p->mss, p->buf, false, 65535);
        ok = lfds[i] >= 0;
    }
    if (!ok) {
        o->status = BENCH_FAILED;
        bench_note(o, "set-up failed");
        goto out;
    }
    uint64_t slab0 = lx_slab_total(), tcp0 = lx_slab_cache(NULL);
    made = lx_open_many(lfds, p->conns, p, cfds, sfds, o);
    if (o->status != BENCH_OK)
        goto out;
    if (p->data) {
        if (!lx_exchange(cfds, sfds, made, o))
            goto out;
        o->v[1] = ((double)lx_slab_total() - (double)slab0) / made;
        bench_quiet(NULL, NULL);
    }
    uint64_t slab1 = lx_slab_total(), tcp1 = lx_slab_cache(NULL);
    o->v[0] = ((double)slab1 - (double)slab0) / made;
    o->count = made;
    char data[96] = "";
    if (p->data)
        snprintf(data, sizeof data, " after one byte each way (%.0f B/conn right after) and %.1f s "
                 "of quiet", o->v[1], (double)BENCH_QUIET_NS / 1e9);
    bench_note(o,
               "%u connections%s%s, both ends: /proc/meminfo Slab delta (machine-wide, shared: "
               "noisy); TCP socket caches alone (TCP, sock_inode_cache, filp, dentry, ...) "
               "%.0f B/conn",
               made, made < p0->conns ? " (what RLIMIT_NOFILE allows)" : "", data,
               ((double)tcp1 - (double)tcp0) / made);
out:
    /* The server ends close first, so that no TIME_WAIT holds the client's ephemeral ports. */
    lx_close_all(sfds, made);
    lx_close_all(cfds, made);
    for (uint32_t i = 0; i < LX_MAX_PORTS; i++) {
        if (lfds[i] >= 0)
            close(lfds[i]);
    }
    free(cfds);
    free(sfds);
}

void bench_linux_tw(const struct bench_params *p0, struct bench_out *o)
{
    struct bench_params pp = *p0, *p = &pp;
    if ((pp.conns = lx_fds_fit(p0->conns, o)) == 0)
        return;
    int *cfds = malloc(sizeof(int) * p->conns), *sfds = malloc(sizeof(int) * p->conns);
    int lfd = lx_listen(BENCH_PORT + 1000u, p->mss, p->buf, false, 65535);
    if (cfds == NULL || sfds == NULL || lfd < 0) {
        o->status = BENCH_FAILED;
        bench_note(o, "set-up failed");
        goto out;
    }
    /* A namespace of its own: the crr rows before it may have filled this one's TIME_WAIT
     * table (tcp_max_tw_buckets), and then no new entry would appear. */
    char why[160];
    if (!lx_fresh_netns(why, sizeof why)) {
        o->status = BENCH_FAILED;
        bench_note(o, "fresh netns: %s", why);
        goto out;
    }
    close(lfd);
    lfd = lx_listen(BENCH_PORT + 1000u, p->mss, p->buf, false, 65535);
    if (lfd < 0) {
        o->status = BENCH_FAILED;
        bench_note(o, "listen in the fresh netns failed");
        goto out;
    }
    /* The old namespace's TIME_WAIT sockets are freed in the background once it is gone: wait
     * until the (machine-wide) tw_sock_TCP count has stopped moving, at most 10 s. */
    uint64_t obj0 = lx_slab_cache("tw_sock_TCP");
    for (int i = 0; i < 100; i++) {
        usleep(100000);
        uint64_t now_obj = lx_slab_cache("tw_sock_TCP");
        if (now_obj == obj0 && i >= 2)
            break;
        obj0 = now_obj;
    }
    uint64_t tw_before = lx_time_wait();
    uint32_t made = 0;
    while (made < p->conns) {
        int cfd = lx_connect(BENCH_PORT + 1000u, p->mss, p->buf, false, false);
        int sfd = cfd < 0 ? -1 : accept(lfd, NULL, NULL);
        if (sfd < 0) {
            o->status = BENCH_FAILED;
            bench_note(o, "connection %u: %s", made, strerror(errno));
            if (cfd >= 0)
                close(cfd);
            break;
        }
        cfds[made] = cfd;
        sfds[made] = sfd;
        made++;
        /* One byte each way first, as in crr: TIME_WAIT after a real exchange. */
        if (!lx_one_byte(cfd, sfd, o) || !lx_one_byte(sfd, cfd, o))
            break;
    }
    lx_close_all(cfds, made);
    lx_close_all(sfds, made);
    if (o->status != BENCH_OK)
        goto out;
    uint64_t deadline = bench_now_ns() + 2000000000ull;
    while (lx_time_wait() < tw_before + made && bench_now_ns() < deadline)
        usleep(1000);
    uint64_t tw = lx_time_wait() - tw_before;
    uint64_t obj1 = lx_slab_cache("tw_sock_TCP");
    if (tw == 0) {
        o->status = BENCH_FAILED;
        bench_note(o, "no TIME_WAIT entries appeared");
        goto out;
    }
    o->v[0] = ((double)obj1 - (double)obj0) / (double)tw;
    o->count = tw;
    double objsize = (double)lx_slab_objsize("tw_sock_TCP");
    if (o->v[0] < objsize) {
        /* The cache is machine-wide: TIME_WAIT sockets of other namespaces (other tests, other
         * programs) freed during the run make the delta smaller than our own entries take,
         * even negative. Each entry is one object: count that. */
        o->v[0] = objsize;
        bench_note(o, "%llu TIME_WAIT entries after a 1-byte exchange each way: the tw_sock_TCP "
                      "slab shrank meanwhile (other tw sockets on the machine freed), so one "
                      "object (%.0f B) per entry is counted",
                   (unsigned long long)tw, objsize);
    } else {
        bench_note(o, "%llu TIME_WAIT entries after a 1-byte exchange each way: tw_sock_TCP "
                      "slab objects (the bind bucket, shared by port, excluded)",
                   (unsigned long long)tw);
    }
out:
    if (lfd >= 0)
        close(lfd);
    free(cfds);
    free(sfds);
}
