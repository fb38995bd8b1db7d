/* glasstcp — the TUN event loop (include/glass/loop.h) and the control socket (docs/control.md).
 *
 * The only code that has both a clock and a stack: it reads CLOCK_MONOTONIC, waits in epoll,
 * and moves datagrams between one glass_stack and one TUN device. The stack's private counters
 * of the IPv4/ICMP layer are read through core.h (glass_ipx_mib); everything else goes through
 * the public API. */
#define _GNU_SOURCE
#include "core/core.h"
#include "loop/ctl_priv.h"

#include <glass/err.h>
#include <glass/info.h>
#include <glass/loop.h>
#include <glass/stats.h>
#include <glass/trace.h>
#include <glass/tun.h>
#include <glass/wire.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LOOP_MAX_FDS 16u
#define LOOP_MAX_CLIENTS 16u
#define LOOP_LINE_MAX 4096u
#define LOOP_PUMP_ROUNDS 64
#define LOOP_RXBUF 65536u

/* epoll data: kind in the high 32 bits, slot index in the low ones. */
enum tag { TAG_TUN = 1, TAG_TIMER, TAG_SIGNAL, TAG_CTL, TAG_CLIENT, TAG_APP };

struct app_fd {
    int fd;
    unsigned events;
    glass_loop_fd_fn fn;
    void *ctx;
    bool used;
};

struct ctl_client {
    int fd;
    bool used;
    bool eof;         /* the client shut its side: close once the replies are out */
    bool want_out;    /* EPOLLOUT registered */
    char in[LOOP_LINE_MAX];
    size_t in_len;
    struct glass_loop_reply out;
    size_t out_off;
};

struct glass_loop {
    struct glass_loop_config cfg;
    int ep, tfd, sfd, ctl_fd;
    char ctl_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    sigset_t oldmask;
    bool stop;
    int status;
    glass_time_t start;
    glass_time_t armed;     /* what the timerfd is set to (GLASS_TIME_NEVER: disarmed) */
    glass_time_t app_timer;
    struct app_fd fds[LOOP_MAX_FDS];
    struct ctl_client clients[LOOP_MAX_CLIENTS];
    uint8_t *rxbuf;
    uint8_t *txbuf;
};

static uint64_t tag(enum tag k, unsigned idx)
{
    return (uint64_t)k << 32 | idx;
}

static glass_time_t mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (glass_time_t)ts.tv_sec * GLASS_NSEC_PER_SEC + (glass_time_t)ts.tv_nsec;
}

GLASS_API glass_time_t glass_loop_now(const struct glass_loop *loop)
{
    (void)loop;
    return mono_now();
}

static int ep_add(struct glass_loop *l, int fd, uint32_t ev, uint64_t data)
{
    struct epoll_event e = {.events = ev, .data.u64 = data};
    return epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &e) < 0 ? -errno : 0;
}

static int ep_mod(struct glass_loop *l, int fd, uint32_t ev, uint64_t data)
{
    struct epoll_event e = {.events = ev, .data.u64 = data};
    return epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &e) < 0 ? -errno : 0;
}

/* ---- replies ---------------------------------------------------------------------------------- */

GLASS_API void glass_loop_reply(struct glass_loop_reply *reply, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    glass_ctl_vadd(reply, fmt, ap);
    va_end(ap);
    glass_ctl_add(reply, "\n");
}

static void cmd_info(struct glass_loop *l, struct glass_loop_reply *r)
{
    struct glass_tun_stats ts;
    glass_tun_stats(l->cfg.tun, &ts);
    const struct glass_config *cfg = glass_stack_config(l->cfg.stack);
    glass_ctl_add(r, "{\"pid\":%ld,\"tun\":", (long)getpid());
    glass_ctl_json_str(r, glass_tun_name(l->cfg.tun));
    glass_ctl_add(r, ",\"mtu\":%d,\"ctl\":", glass_tun_mtu(l->cfg.tun));
    glass_ctl_json_str(r, l->ctl_path);
    glass_ctl_add(r, ",\"uptime_ms\":");
    glass_ctl_ms(r, mono_now() - l->start);
    glass_ctl_add(r, ",\"profile\":\"%s\"", cfg->profile == GLASS_PROFILE_RFC ? "rfc" : "linux");
    glass_ctl_add(r, ",\"rx_packets\":%" PRIu64 ",\"rx_bytes\":%" PRIu64 ",\"rx_truncated\":%" PRIu64
                 ",\"tx_packets\":%" PRIu64 ",\"tx_bytes\":%" PRIu64 ",\"tx_dropped\":%" PRIu64,
              ts.rx_packets, ts.rx_bytes, ts.rx_truncated, ts.tx_packets, ts.tx_bytes,
              ts.tx_dropped);
    glass_ctl_add(r, ",\"offload\":%s,\"rx_gso\":%" PRIu64 ",\"rx_csum_trusted\":%" PRIu64
                 ",\"tx_gso\":%" PRIu64 ",\"tso_max\":%" PRIu32,
              glass_tun_offload(l->cfg.tun) ? "true" : "false", ts.rx_gso, ts.rx_csum_trusted,
              ts.tx_gso, cfg->tso_max);
    if (l->cfg.info_json != NULL && l->cfg.info_json[0] != '\0')
        glass_ctl_add(r, ",%s", l->cfg.info_json);
    glass_ctl_add(r, "}\n");
}

static const char *const help_lines[][2] = {
    {"help", "this list"},
    {"info", "process, device and counters of the link"},
    {"conns", "every connection and listener, one JSON object each (glass ss)"},
    {"history ID", "the recorded state transitions of connection ID"},
    {"transitions", "the stack's transition ring, oldest first"},
    {"config", "the timer profile and the limits glass ss --diagnose quotes"},
    {"mib", "MIB counters, Linux nstat names"},
    {"drops", "dropped packets by reason (SKB_DROP_REASON_* names)"},
};

/* front: offer the command to on_ctl_front first (a line from the control socket); not for
 * glass_loop_answer(), which is how that front asks the loop itself. */
static void run_command(struct glass_loop *l, char *line, struct glass_loop_reply *r, bool front)
{
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
        line[--n] = '\0';
    char *cmd = line;
    while (*cmd == ' ' || *cmd == '\t')
        cmd++;
    char *args = cmd;
    while (*args != '\0' && *args != ' ' && *args != '\t')
        args++;
    if (*args != '\0') {
        *args++ = '\0';
        while (*args == ' ' || *args == '\t')
            args++;
    }
    if (*cmd == '\0')
        return; /* an empty line: nothing but the terminator */
    if (front && l->cfg.on_ctl_front != NULL &&
        l->cfg.on_ctl_front(l->cfg.ctx, l, cmd, args, r) == 0)
        return;
    if (strcmp(cmd, "help") == 0) {
        for (size_t i = 0; i < sizeof help_lines / sizeof help_lines[0]; i++)
            glass_ctl_add(r, "{\"command\":\"%s\",\"help\":\"%s\"}\n", help_lines[i][0],
                      help_lines[i][1]);
        if (l->cfg.on_ctl != NULL)
            l->cfg.on_ctl(l->cfg.ctx, l, "help", "", r);
    } else if (strcmp(cmd, "info") == 0) {
        cmd_info(l, r);
    } else if (glass_ctl_stack_reply(l->cfg.stack, l->start, cmd, args, r) == 0) {
        /* conns, history, transitions, mib, drops: ctl_stack.c */
    } else if (l->cfg.on_ctl == NULL || l->cfg.on_ctl(l->cfg.ctx, l, cmd, args, r) < 0) {
        glass_ctl_add(r, "{\"error\":\"unknown command ");
        glass_ctl_json_str(r, cmd);
        glass_ctl_add(r, "; try help\"}\n");
    }
}

GLASS_API int glass_loop_answer(struct glass_loop *l, const char *line, char **buf, size_t *len)
{
    size_t n = strlen(line);
    if (n >= LOOP_LINE_MAX)
        return -GLASS_EINVAL;
    char copy[LOOP_LINE_MAX];
    memcpy(copy, line, n + 1);
    struct glass_loop_reply r = glass_ctl_reply_on(*buf, *len);
    run_command(l, copy, &r, false);
    return glass_ctl_reply_take(&r, buf, len);
}

/* ---- control socket ---------------------------------------------------------------------------- */

static void client_close(struct glass_loop *l, struct ctl_client *c)
{
    epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->out.p);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

/* Send what is pending; close when done after EOF. */
static void client_write(struct glass_loop *l, struct ctl_client *c, unsigned idx)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            client_close(l, c);
            return;
        }
        c->out_off += (size_t)n;
    }
    if (c->out_off == c->out.len) {
        c->out.len = 0;
        c->out_off = 0;
        if (c->eof) {
            client_close(l, c);
            return;
        }
    }
    bool want = c->out_off < c->out.len;
    if (want != c->want_out) {
        c->want_out = want;
        ep_mod(l, c->fd, EPOLLIN | (want ? EPOLLOUT : 0u), tag(TAG_CLIENT, idx));
    }
}

static void client_read(struct glass_loop *l, struct ctl_client *c, unsigned idx)
{
    for (;;) {
        if (c->in_len >= sizeof c->in - 1) {
            glass_ctl_add(&c->out, "{\"error\":\"line longer than %u bytes\"}\n.\n", LOOP_LINE_MAX - 1);
            c->eof = true;
            c->in_len = 0;
            break;
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - 1 - c->in_len, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            client_close(l, c);
            return;
        }
        if (n == 0) {
            c->eof = true;
            if (c->in_len > 0) { /* a last line without its newline */
                c->in[c->in_len] = '\0';
                run_command(l, c->in, &c->out, true);
                glass_ctl_add(&c->out, ".\n");
                c->in_len = 0;
            }
            break;
        }
        c->in_len += (size_t)n;
        char *start = c->in;
        char *nl;
        while ((nl = memchr(start, '\n', c->in_len - (size_t)(start - c->in))) != NULL) {
            *nl = '\0';
            run_command(l, start, &c->out, true);
            glass_ctl_add(&c->out, ".\n");
            start = nl + 1;
        }
        size_t rest = c->in_len - (size_t)(start - c->in);
        memmove(c->in, start, rest);
        c->in_len = rest;
    }
    if (c->out.oom) {
        client_close(l, c);
        return;
    }
    client_write(l, c, idx);
}

static void ctl_accept(struct glass_loop *l)
{
    for (;;) {
        int fd = accept4(l->ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        unsigned i = 0;
        while (i < LOOP_MAX_CLIENTS && l->clients[i].used)
            i++;
        if (i == LOOP_MAX_CLIENTS) {
            close(fd); /* bounded: a client too many is turned away */
            continue;
        }
        struct ctl_client *c = &l->clients[i];
        memset(c, 0, sizeof *c);
        c->fd = fd;
        c->used = true;
        if (ep_add(l, fd, EPOLLIN, tag(TAG_CLIENT, i)) < 0) {
            close(fd);
            memset(c, 0, sizeof *c);
        }
    }
}

static int ctl_open(struct glass_loop *l, const char *path)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int err = errno;
        if (err != EADDRINUSE) {
            close(fd);
            return -err;
        }
        /* Someone's socket file: alive (a connect succeeds) or stale (left by a crash). */
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool alive = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
        if (probe >= 0)
            close(probe);
        struct stat stt;
        if (alive || lstat(path, &stt) < 0 || !S_ISSOCK(stt.st_mode)) {
            close(fd);
            return -EADDRINUSE;
        }
        unlink(path);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
            err = errno;
            close(fd);
            return -err;
        }
    }
    chmod(path, 0600);
    if (listen(fd, 16) < 0) {
        int err = errno;
        close(fd);
        unlink(path);
        return -err;
    }
    l->ctl_fd = fd;
    memcpy(l->ctl_path, path, strlen(path) + 1);
    return 0;
}

/* ---- setup ---------------------------------------------------------------------------------- */

GLASS_API int glass_loop_new(const struct glass_loop_config *cfg, struct glass_loop **out)
{
    *out = NULL;
    if (cfg == NULL || cfg->stack == NULL || cfg->tun == NULL)
        return -EINVAL;
    struct glass_loop *l = calloc(1, sizeof *l);
    if (l == NULL)
        return -ENOMEM;
    l->cfg = *cfg;
    if (l->cfg.batch == 0)
        l->cfg.batch = 64;
    l->ep = l->tfd = l->sfd = l->ctl_fd = -1;
    for (unsigned i = 0; i < LOOP_MAX_CLIENTS; i++)
        l->clients[i].fd = -1;
    l->armed = GLASS_TIME_NEVER;
    l->app_timer = GLASS_TIME_NEVER;
    l->start = mono_now();
    int err = 0;
    l->rxbuf = malloc(LOOP_RXBUF);
    l->txbuf = malloc(LOOP_RXBUF);
    if (l->rxbuf == NULL || l->txbuf == NULL) {
        err = -ENOMEM;
        goto fail;
    }
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (l->ep < 0 || l->tfd < 0) {
        err = -errno;
        goto fail;
    }
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &mask, &l->oldmask) < 0) {
        err = -errno;
        goto fail;
    }
    l->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (l->sfd < 0) {
        err = -errno;
        sigprocmask(SIG_SETMASK, &l->oldmask, NULL);
        goto fail;
    }
    if ((err = ep_add(l, glass_tun_fd(cfg->tun), EPOLLIN, tag(TAG_TUN, 0))) < 0 ||
        (err = ep_add(l, l->tfd, EPOLLIN, tag(TAG_TIMER, 0))) < 0 ||
        (err = ep_add(l, l->sfd, EPOLLIN, tag(TAG_SIGNAL, 0))) < 0)
        goto fail;
    if (cfg->ctl_path != NULL && cfg->ctl_path[0] != '\0') {
        if ((err = ctl_open(l, cfg->ctl_path)) < 0)
            goto fail;
        if ((err = ep_add(l, l->ctl_fd, EPOLLIN, tag(TAG_CTL, 0))) < 0)
            goto fail;
    }
    *out = l;
    return 0;
fail:
    glass_loop_free(l);
    return err;
}

GLASS_API void glass_loop_free(struct glass_loop *l)
{
    if (l == NULL)
        return;
    for (unsigned i = 0; i < LOOP_MAX_CLIENTS; i++)
        if (l->clients[i].used)
            client_close(l, &l->clients[i]);
    if (l->ctl_fd >= 0) {
        close(l->ctl_fd);
        unlink(l->ctl_path);
    }
    if (l->sfd >= 0) {
        close(l->sfd);
        sigprocmask(SIG_SETMASK, &l->oldmask, NULL);
    }
    if (l->tfd >= 0)
        close(l->tfd);
    if (l->ep >= 0)
        close(l->ep);
    free(l->rxbuf);
    free(l->txbuf);
    free(l);
}

GLASS_API const char *glass_loop_ctl_path(const struct glass_loop *l)
{
    return l->ctl_path;
}

GLASS_API void glass_loop_stop(struct glass_loop *l, int status)
{
    l->stop = true;
    l->status = status;
}

GLASS_API void glass_loop_set_timer(struct glass_loop *l, glass_time_t at)
{
    l->app_timer = at;
}

/* ---- application fds ------------------------------------------------------------------------- */

static uint32_t to_epoll(unsigned ev)
{
    return ((ev & GLASS_LOOP_IN) ? (uint32_t)EPOLLIN : 0u) |
           ((ev & GLASS_LOOP_OUT) ? (uint32_t)EPOLLOUT : 0u);
}

GLASS_API int glass_loop_add_fd(struct glass_loop *l, int fd, unsigned events, glass_loop_fd_fn fn,
                                void *ctx)
{
    unsigned i = 0;
    while (i < LOOP_MAX_FDS && l->fds[i].used)
        i++;
    if (i == LOOP_MAX_FDS)
        return -ENOSPC;
    int r = ep_add(l, fd, to_epoll(events), tag(TAG_APP, i));
    if (r < 0)
        return r;
    l->fds[i] = (struct app_fd){.fd = fd, .events = events, .fn = fn, .ctx = ctx, .used = true};
    return 0;
}

GLASS_API int glass_loop_mod_fd(struct glass_loop *l, int fd, unsigned events)
{
    for (unsigned i = 0; i < LOOP_MAX_FDS; i++) {
        if (l->fds[i].used && l->fds[i].fd == fd) {
            if (l->fds[i].events == events)
                return 0;
            l->fds[i].events = events;
            return ep_mod(l, fd, to_epoll(events), tag(TAG_APP, i));
        }
    }
    return -ENOENT;
}

GLASS_API void glass_loop_del_fd(struct glass_loop *l, int fd)
{
    for (unsigned i = 0; i < LOOP_MAX_FDS; i++) {
        if (l->fds[i].used && l->fds[i].fd == fd) {
            epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
            memset(&l->fds[i], 0, sizeof l->fds[i]);
        }
    }
}

/* ---- the pump ---------------------------------------------------------------------------------- */

/* One datagram taken with glass_stack_output_sg (headers in txbuf, *o) to the capture hook, as
 * the wire will carry it: joined behind its headers, its checksum completed here, once, rather
 * than by the kernel (as the simnet does for its taps). A TSO super-segment is captured whole,
 * as tcpdump on an offloading host shows it, and keeps its partial checksum for the kernel.
 * Returns the flags to write it with. */
static unsigned capture_output(struct glass_loop *l, const struct glass_output *o, size_t n,
                               unsigned fl, glass_time_t now)
{
    if (o->payload != NULL) /* n <= 65535 < LOOP_RXBUF */
        memcpy(l->txbuf + o->len, o->payload, o->payload_len);
    size_t ihl = glass_ipv4_tcp_off(l->txbuf, n);
    uint8_t keep[2] = {0, 0};
    bool partial = ((fl & GLASS_TUN_TX_CSUM_PARTIAL) || o->gso_size != 0) && ihl != 0;
    if (partial)
        memcpy(keep, l->txbuf + ihl + 16u, 2);
    if (partial && glass_tcp_csum_fill(l->txbuf, n) && o->gso_size == 0)
        fl &= ~GLASS_TUN_TX_CSUM_PARTIAL;
    l->cfg.on_packet(l->cfg.ctx, l, false, l->txbuf, n, now);
    if (o->gso_size != 0 && partial)
        memcpy(l->txbuf + ihl + 16u, keep, 2); /* the kernel completes each piece's */
    return fl;
}

/* Everything the stack has to send, to the device: headers and payload in one writev each,
 * the payload from the send buffer (glass_stack_output_sg: no copy on the way out), TSO
 * super-segments whole (the kernel segments them, docs/performance.md). */
static long write_output(struct glass_loop *l, glass_time_t now)
{
    long sent = 0;
    unsigned fl = glass_stack_config(l->cfg.stack)->tx_csum_offload ? GLASS_TUN_TX_CSUM_PARTIAL : 0;
    for (;;) {
        struct glass_output o;
        long n = glass_stack_output_sg(l->cfg.stack, now, l->txbuf, LOOP_RXBUF, &o);
        if (n <= 0)
            break;
        /* a refused datagram is lost */
        if (l->cfg.on_packet != NULL) {
            unsigned wfl = capture_output(l, &o, (size_t)n, fl, now);
            glass_tun_write_sg(l->cfg.tun, l->txbuf, (size_t)n, NULL, 0, o.gso_size, wfl);
        } else {
            glass_tun_write_sg(l->cfg.tun, l->txbuf, o.len, o.payload, o.payload_len, o.gso_size,
                               fl);
        }
        sent++;
    }
    return sent;
}

/* Fire timers, hand events to the application, write the output; again while callbacks keep
 * producing work (bounded, so input and signals are never starved). */
GLASS_API long glass_loop_flush(struct glass_loop *l)
{
    long total = 0;
    for (int round = 0; round < LOOP_PUMP_ROUNDS; round++) {
        glass_time_t now = mono_now();
        glass_stack_advance(l->cfg.stack, now);
        bool busy = false;
        if (l->app_timer <= now) {
            l->app_timer = GLASS_TIME_NEVER;
            if (l->cfg.on_timer != NULL)
                l->cfg.on_timer(l->cfg.ctx, l);
            busy = true;
        }
        struct glass_event ev;
        while (glass_stack_next_event(l->cfg.stack, &ev)) {
            busy = true;
            if (l->cfg.on_event != NULL)
                l->cfg.on_event(l->cfg.ctx, l, &ev);
        }
        long n = write_output(l, glass_stack_now(l->cfg.stack));
        total += n;
        if (!busy && n == 0)
            break;
    }
    return total;
}

/* Set the timerfd to wake the loop by `at`. A timer already set no later than that is left as
 * it is: the stack's next deadline moves later with almost every segment (the retransmission
 * timer restarts on each ACK), and a wake-up that comes early only finds nothing due and sets
 * the timer again, once per such deadline instead of a timerfd_settime() per packet. */
static void arm_timer(struct glass_loop *l, glass_time_t at)
{
    if (l->armed <= at)
        return; /* (at NEVER included: a timer set for nothing wakes the loop once, harmlessly) */
    if (at == 0)
        at = 1; /* zero would disarm */
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    its.it_value.tv_sec = (time_t)(at / GLASS_NSEC_PER_SEC);
    its.it_value.tv_nsec = (long)(at % GLASS_NSEC_PER_SEC);
    timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL);
    l->armed = at;
}

static void on_tun(struct glass_loop *l)
{
    glass_time_t now = mono_now();
    for (unsigned i = 0; i < l->cfg.batch; i++) {
        unsigned in_flags;
        long n = glass_tun_read_flags(l->cfg.tun, l->rxbuf, LOOP_RXBUF, &in_flags);
        if (n == -EMSGSIZE)
            continue; /* counted by the link; never passed on cut short */
        if (n <= 0)
            break;
        if (l->cfg.on_input != NULL &&
            l->cfg.on_input(l->cfg.ctx, l, l->rxbuf, (size_t)n, in_flags, now))
            continue; /* the application steered it elsewhere */
        glass_stack_input_flags(l->cfg.stack, now, l->rxbuf, (size_t)n, in_flags);
        if (l->cfg.on_packet != NULL)
            l->cfg.on_packet(l->cfg.ctx, l, true, l->rxbuf, (size_t)n, now);
    }
}

static void on_signal(struct glass_loop *l)
{
    struct signalfd_siginfo si;
    while (read(l->sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        int signo = (int)si.ssi_signo;
        if (l->cfg.on_signal != NULL)
            l->cfg.on_signal(l->cfg.ctx, l, signo);
        if (signo == SIGINT || signo == SIGTERM)
            glass_loop_stop(l, 0);
    }
}

static void dispatch(struct glass_loop *l, const struct epoll_event *ev)
{
    uint64_t d = ev->data.u64;
    unsigned idx = (unsigned)(d & 0xffffffffu);
    switch ((enum tag)(d >> 32)) {
    case TAG_TUN:
        on_tun(l);
        break;
    case TAG_TIMER: {
        uint64_t ticks;
        if (read(l->tfd, &ticks, sizeof ticks) < 0) {
            /* EAGAIN: re-armed meanwhile */
        }
        l->armed = GLASS_TIME_NEVER;
        break;
    }
    case TAG_SIGNAL:
        on_signal(l);
        break;
    case TAG_CTL:
        ctl_accept(l);
        break;
    case TAG_CLIENT:
        if (idx < LOOP_MAX_CLIENTS && l->clients[idx].used) {
            if (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                client_read(l, &l->clients[idx], idx);
            else if (l->clients[idx].used)
                client_write(l, &l->clients[idx], idx);
        }
        break;
    case TAG_APP:
        if (idx < LOOP_MAX_FDS && l->fds[idx].used) {
            unsigned what = 0;
            if (ev->events & EPOLLIN)
                what |= GLASS_LOOP_IN;
            if (ev->events & EPOLLOUT)
                what |= GLASS_LOOP_OUT;
            if (ev->events & (EPOLLERR | EPOLLHUP))
                what |= GLASS_LOOP_ERR | GLASS_LOOP_IN;
            struct app_fd a = l->fds[idx];
            a.fn(a.ctx, l, a.fd, what);
            glass_loop_flush(l);
        }
        break;
    }
}

static int run(struct glass_loop *l, glass_time_t until, bool (*done)(void *ctx), void *ctx)
{
    l->stop = false;
    l->status = 0;
    struct epoll_event evs[32];
    for (;;) {
        glass_loop_flush(l);
        if (l->stop)
            break;
        if (done != NULL && done(ctx))
            return 1;
        glass_time_t deadline = glass_stack_next_deadline(l->cfg.stack);
        if (l->app_timer < deadline)
            deadline = l->app_timer;
        if (until < deadline)
            deadline = until;
        glass_time_t now = mono_now();
        if (until != GLASS_TIME_NEVER && now >= until)
            return 0;
        int timeout = -1;
        if (glass_stack_has_output(l->cfg.stack) || (deadline != GLASS_TIME_NEVER && deadline <= now))
            timeout = 0;
        else
            arm_timer(l, deadline);
        int n = epoll_wait(l->ep, evs, 32, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        for (int i = 0; i < n && !l->stop; i++)
            dispatch(l, &evs[i]);
    }
    glass_loop_flush(l);
    return done != NULL ? 0 : l->status;
}

GLASS_API int glass_loop_run(struct glass_loop *l)
{
    return run(l, GLASS_TIME_NEVER, NULL, NULL);
}

GLASS_API int glass_loop_run_until(struct glass_loop *l, glass_time_t deadline,
                                   bool (*done)(void *ctx), void *ctx)
{
    return run(l, deadline, done, ctx);
}
