/* glass connect — a TCP client on the user-space stack, over a Linux TUN device, like nc:
 * standard input goes to the connection, the connection goes to standard output.
 *
 *   glass connect [--tun NAME] [--addr A/N] ... HOST PORT
 *
 * End of standard input sends our FIN (shutdown(SHUT_WR)) and keeps reading; the peer's FIN
 * ends the run once everything received has been written out. */
#define _GNU_SOURCE
#include "cmds.h"
#include "tunapp.h"

#include <glass/err.h>
#include <glass/info.h>
#include <glass/socket.h>
#include <glass/stack.h>
#include <glass/trace.h>
#include <glass/wire.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct client {
    struct tunapp app;
    struct tunapp_opts o;
    struct glass_endpoint peer;
    int fd;
    bool quiet;
    bool connected;
    bool stdin_polled;  /* stdin is in the epoll set (not a regular file) */
    bool stdin_eof;
    bool fin_sent;
    bool done;
    int status;
    glass_time_t timeout;
};

static void finish(struct client *c, int status)
{
    if (c->done)
        return;
    c->done = true;
    c->status = status;
    glass_loop_stop(c->app.loop, status);
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Connection -> stdout, straight from the receive buffer (glass_recv_peek/consume: no copy
 * in between). */
static void pump_out(struct client *c)
{
    for (;;) {
        const void *p;
        long n = glass_recv_peek(c->app.st, c->fd, &p);
        if (n > 0) {
            if (!write_all(STDOUT_FILENO, p, (size_t)n)) {
                if (errno != EPIPE) /* a reader that went away (| head) is not news */
                    fprintf(stderr, "glass connect: stdout: %s\n", strerror(errno));
                finish(c, GLASS_EXIT_FAILED);
                return;
            }
            glass_recv_consume(c->app.st, c->fd, (size_t)n);
            continue;
        }
        if (n == 0) {
            finish(c, GLASS_EXIT_OK); /* the peer is done, and so is its output */
            return;
        }
        if (n != -GLASS_EAGAIN) {
            fprintf(stderr, "glass connect: %s\n", glass_strerror((int)n));
            finish(c, GLASS_EXIT_FAILED);
        }
        return;
    }
}

/* stdin -> connection, read straight into the send buffer (glass_send_reserve/commit: no copy
 * in between) as far as it has room; stdin is watched again only when there is room. */
static void pump_in(struct client *c)
{
    while (c->connected && !c->fin_sent) {
        if (c->stdin_eof) {
            glass_shutdown(c->app.st, c->fd, GLASS_SHUT_WR);
            c->fin_sent = true;
            if (c->stdin_polled)
                glass_loop_del_fd(c->app.loop, STDIN_FILENO);
            return;
        }
        void *p;
        long room = glass_send_reserve(c->app.st, c->fd, &p);
        if (room == -GLASS_EAGAIN) {
            if (c->stdin_polled)
                glass_loop_mod_fd(c->app.loop, STDIN_FILENO, 0); /* until WRITABLE */
            return;
        }
        if (room < 0) {
            fprintf(stderr, "glass connect: %s\n", glass_strerror((int)room));
            finish(c, GLASS_EXIT_FAILED);
            return;
        }
        if (c->stdin_polled)
            glass_loop_mod_fd(c->app.loop, STDIN_FILENO, GLASS_LOOP_IN);
        ssize_t n = read(STDIN_FILENO, p, (size_t)room);
        if (n > 0) {
            glass_send_commit(c->app.st, c->fd, (size_t)n);
            continue;
        }
        if (n == 0) {
            c->stdin_eof = true;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return; /* a non-blocking stdin someone else set up: wait for epoll */
        fprintf(stderr, "glass connect: stdin: %s\n", strerror(errno));
        c->stdin_eof = true;
    }
}

static void on_stdin(void *ctx, struct glass_loop *loop, int fd, unsigned events)
{
    (void)loop;
    (void)fd;
    (void)events;
    struct client *c = ctx;
    pump_in(c); /* reads only what the send buffer has room for */
}

static void on_event(void *ctx, struct glass_loop *loop, const struct glass_event *ev)
{
    (void)loop;
    struct client *c = ctx;
    if (ev->fd != c->fd || c->done)
        return;
    switch (ev->kind) {
    case GLASS_EV_CONNECTED: {
        c->connected = true;
        struct glass_endpoint me;
        glass_getsockname(c->app.st, c->fd, &me);
        if (!c->quiet) {
            char a[32], b[32];
            fprintf(stderr, "glass connect: connected to %s from %s\n",
                    tunapp_ep(c->peer.addr, c->peer.port, a), tunapp_ep(me.addr, me.port, b));
        }
        glass_loop_set_timer(c->app.loop, GLASS_TIME_NEVER);
        if (glass_loop_add_fd(c->app.loop, STDIN_FILENO, GLASS_LOOP_IN, on_stdin, c) == 0)
            c->stdin_polled = true;
        pump_in(c); /* a regular file (or /dev/null) is read right away */
        break;
    }
    case GLASS_EV_WRITABLE:
        pump_in(c);
        break;
    case GLASS_EV_READABLE:
    case GLASS_EV_RDHUP:
    case GLASS_EV_HUP:
        pump_out(c);
        break;
    case GLASS_EV_ERROR: {
        char a[32];
        fprintf(stderr, "glass connect: %s: %s\n", tunapp_ep(c->peer.addr, c->peer.port, a),
                glass_strerror(ev->err));
        finish(c, GLASS_EXIT_FAILED);
        break;
    }
    default:
        break;
    }
}

static void on_timer(void *ctx, struct glass_loop *loop)
{
    (void)loop;
    struct client *c = ctx;
    if (!c->connected) {
        char a[32];
        fprintf(stderr, "glass connect: %s: %s\n", tunapp_ep(c->peer.addr, c->peer.port, a),
                glass_strerror(-GLASS_ETIMEDOUT));
        finish(c, GLASS_EXIT_FAILED);
    }
}

static void connect_usage(FILE *f)
{
    fprintf(f,
            "usage: glass connect [options] HOST PORT\n\n"
            "A TCP client on the user-space stack, over a Linux TUN device: standard input goes\n"
            "to the connection, the connection goes to standard output (like nc). End of input\n"
            "sends FIN; the peer's FIN ends the run.\n\n"
            "options:\n"
            "  --timeout S         give up if not connected after S seconds (default: the\n"
            "                      stack's SYN retries, about 131 s)\n"
            "  -q, --quiet         no messages on stderr but errors\n"
            "%s"
            "\nThe receive buffer is 1 MiB unless --rcvbuf says otherwise (one connection: the\n"
            "window lets the kernel send 64 KiB super-segments back to back).\n"
            "\nExit status: 0 when the peer closed the connection, 1 on an error (refused, reset,\n"
            "timed out, no route), 2 on a usage error.\n",
            tunapp_usage);
}

int glass_cmd_connect(int argc, char **argv)
{
    static const struct option longopts[] = {
        TUNAPP_LONGOPTS,
        {"timeout", required_argument, NULL, 't'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static struct client c;
    memset(&c, 0, sizeof c);
    tunapp_opts_default(&c.o);
    c.fd = -1;
    unsigned long v;
    opterr = 0;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, ":t:vqh", longopts, NULL)) != -1) {
        int t = tunapp_opt(&c.o, ch, optarg, "connect");
        if (t < 0)
            return GLASS_EXIT_USAGE;
        if (t > 0)
            continue;
        switch (ch) {
        case 't':
            if (!tunapp_parse_uint(optarg, 1, 86400, &v)) {
                fprintf(stderr, "glass connect: bad --timeout '%s' (1..86400)\n", optarg);
                return GLASS_EXIT_USAGE;
            }
            c.timeout = GLASS_SEC(v);
            break;
        case 'q':
            c.quiet = true;
            break;
        case 'h':
            connect_usage(stdout);
            return GLASS_EXIT_OK;
        case ':':
            fprintf(stderr, "glass connect: option '%s' needs an argument\n", argv[optind - 1]);
            return GLASS_EXIT_USAGE;
        default:
            fprintf(stderr, "glass connect: unknown option '%s'; see 'glass connect --help'\n",
                    argv[optind - 1]);
            return GLASS_EXIT_USAGE;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "glass connect: need HOST and PORT; see 'glass connect --help'\n");
        return GLASS_EXIT_USAGE;
    }
    if (glass_ip4_parse(argv[optind], &c.peer.addr) != 0 || c.peer.addr == 0) {
        fprintf(stderr, "glass connect: bad HOST '%s' (want an IPv4 address A.B.C.D)\n",
                argv[optind]);
        return GLASS_EXIT_USAGE;
    }
    if (!tunapp_parse_uint(argv[optind + 1], 1, 65535, &v)) {
        fprintf(stderr, "glass connect: bad PORT '%s' (1..65535)\n", argv[optind + 1]);
        return GLASS_EXIT_USAGE;
    }
    c.peer.port = (uint16_t)v;
    uint32_t mask = c.o.prefix == 0 ? 0 : ~(uint32_t)0 << (32u - c.o.prefix);
    if ((c.peer.addr & mask) != (c.o.addr & mask) && c.o.gateway == 0) {
        char a[16];
        fprintf(stderr,
                "glass connect: %s is not on %s/%u and there is no --gateway: %s\n",
                argv[optind], glass_ip4_str(c.o.addr, a), c.o.prefix,
                glass_strerror(-GLASS_ENETUNREACH));
        return GLASS_EXIT_FAILED;
    }
    signal(SIGPIPE, SIG_IGN);

    /* One connection: a 1 MiB receive window by default, so that the kernel's bursts of
     * TSO super-segments (--offload) do not wait for window updates (docs/performance.md,
     * "TSO on output over TUN": less CPU per byte received than with 128 KiB). */
    if (c.o.rcvbuf == 0)
        c.o.rcvbuf = 1u << 20;
    /* A pipe on stdin or stdout (`... | glass connect | cksum`): 1 MiB instead of 64 KiB, so
     * that a window's worth fits without blocking the loop on the write (Linux
     * pipe-max-size's default; anything else refuses harmlessly). */
    (void)fcntl(STDIN_FILENO, F_SETPIPE_SZ, 1 << 20);
    (void)fcntl(STDOUT_FILENO, F_SETPIPE_SZ, 1 << 20);
    struct glass_loop_config lc = {.ctx = &c, .on_event = on_event, .on_timer = on_timer,
                                   .info_json = "\"app\":\"connect\""};
    if (tunapp_start(&c.app, &c.o, &lc, "connect") < 0)
        return GLASS_EXIT_FAILED;
    c.fd = glass_socket(c.app.st);
    int r = c.fd < 0 ? c.fd : glass_connect(c.app.st, c.fd, &c.peer);
    if (r != -GLASS_EINPROGRESS) {
        fprintf(stderr, "glass connect: %s: %s\n", argv[optind], glass_strerror(r));
        tunapp_stop(&c.app);
        return GLASS_EXIT_FAILED;
    }
    if (c.timeout)
        glass_loop_set_timer(c.app.loop, glass_loop_now(c.app.loop) + c.timeout);
    int status = glass_loop_run(c.app.loop);
    if (status < 0) {
        fprintf(stderr, "glass connect: event loop: %s\n", strerror(-status));
        status = GLASS_EXIT_FAILED;
    }
    if (!c.done)
        status = GLASS_EXIT_FAILED; /* interrupted */
    /* Our FIN (or RST, if data arrived that nobody read) goes out and is acknowledged. */
    glass_close(c.app.st, c.fd);
    tunapp_linger(&c.app, GLASS_SEC(1));
    tunapp_stop(&c.app);
    return status;
}
