/* glass serve — a server on the user-space stack, over a Linux TUN device.
 *
 *   glass serve [--tun NAME] [--addr A/N] ... --port N (--echo | --discard | --http DIR)
 *
 * The application lives in this process next to the stack, the way a server lives on top of a
 * kernel: SIGHUP (or the control command "reload") restarts the application — every socket it
 * holds is closed and the listener bound again — while the stack keeps its connections in
 * TIME_WAIT, which is what SO_REUSEADDR is about (the seed document's port reuse). The control
 * socket also takes "close ID" and "abort ID" to make the application close or reset one
 * connection (docs/control.md). */
#define _GNU_SOURCE
#include "cmds.h"
#include "http.h"
#include "shards.h"
#include "tunapp.h"

#include <glass/err.h>
#include <glass/info.h>
#include <glass/socket.h>
#include <glass/stack.h>
#include <glass/trace.h>
#include <glass/wire.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IOBUF 16384u

enum mode { MODE_NONE, MODE_ECHO, MODE_DISCARD, MODE_HTTP };

struct sconn {
    bool used;
    bool eof;          /* the peer's FIN was read */
    bool held;         /* --on-eof keep: left open in CLOSE_WAIT */
    uint8_t *buf;      /* echo: bytes read, not yet sent; http: file bytes not yet sent */
    size_t off, len;
    /* http */
    char *req;
    size_t req_len;
    char head[1024];   /* response head (and error body) not yet sent */
    size_t head_off, head_len;
    int file;
    uint64_t file_off, file_left;
    bool close_after;  /* close once the current response is out */
    glass_time_t last_active;
};

struct serve {
    struct tunapp app;
    struct tunapp_opts o;
    enum mode mode;
    char root[PATH_MAX];
    uint16_t port;
    int backlog;
    bool reuseaddr;
    bool keep_on_eof;
    glass_time_t ka_timeout;
    int lfd;
    struct sconn *conns;
    size_t nconns;
    char info[256];
    /* --threads N (docs/sharding.md): this is shard `idx` of `grp`; NULL with one thread */
    struct shard_group *grp;
    unsigned idx;
    pthread_t thread;
    int status;
    bool soft_steer;   /* --steer software */
};

static const char *mode_name(enum mode m)
{
    return m == MODE_ECHO ? "echo" : m == MODE_DISCARD ? "discard" : "http";
}

static struct sconn *conn_of(struct serve *s, int fd)
{
    if (fd < 0 || (size_t)fd >= s->nconns || !s->conns[fd].used)
        return NULL;
    return &s->conns[fd];
}

static void conn_free(struct serve *s, int fd)
{
    struct sconn *c = &s->conns[fd];
    free(c->buf);
    free(c->req);
    if (c->file >= 0)
        close(c->file);
    memset(c, 0, sizeof *c);
    c->file = -1;
}

/* The application closes its socket: FIN after what is queued (RST if unread data is left, as
 * on Linux), or RST at once with abort. */
static void conn_close(struct serve *s, int fd, bool abort_it)
{
    if (abort_it) {
        struct glass_linger lg = {1, 0};
        glass_setsockopt(s->app.st, fd, GLASS_SOL_SOCKET, GLASS_SO_LINGER, &lg, sizeof lg);
    }
    glass_close(s->app.st, fd);
    conn_free(s, fd);
}

static void peer_eof(struct serve *s, int fd)
{
    struct sconn *c = &s->conns[fd];
    c->eof = true;
    if (s->keep_on_eof) {
        c->held = true; /* an application that never closes: CLOSE_WAIT for as long as we run */
        return;
    }
    conn_close(s, fd, false);
}

/* ---- echo and discard ------------------------------------------------------------------------ */

static void echo_progress(struct serve *s, int fd)
{
    struct sconn *c = &s->conns[fd];
    for (;;) {
        if (c->off < c->len) {
            long n = glass_send(s->app.st, fd, c->buf + c->off, c->len - c->off, 0);
            if (n > 0) {
                c->off += (size_t)n;
                continue;
            }
            if (n != -GLASS_EAGAIN)
                conn_close(s, fd, false);
            return;
        }
        c->off = c->len = 0;
        if (c->eof)
            return;
        long n = glass_recv(s->app.st, fd, c->buf, IOBUF, 0);
        if (n > 0) {
            if (s->mode == MODE_ECHO)
                c->len = (size_t)n;
            continue;
        }
        if (n == 0)
            peer_eof(s, fd);
        else if (n != -GLASS_EAGAIN)
            conn_close(s, fd, false);
        return;
    }
}

/* ---- http ------------------------------------------------------------------------------------ */

static void http_start_response(struct serve *s, struct sconn *c, const struct http_request *rq,
                                int status)
{
    c->close_after = !rq->keep_alive;
    if (status == 0) {
        uint64_t size = 0;
        const char *type = NULL;
        int fd = http_open(s->root, rq->path, &size, &type);
        if (fd >= 0) {
            c->head_len = http_response_head(c->head, sizeof c->head, 200, type, size,
                                             rq->keep_alive);
            c->head_off = 0;
            if (rq->head) {
                close(fd);
            } else {
                c->file = fd;
                c->file_off = 0;
                c->file_left = size;
            }
            return;
        }
        status = -fd;
    }
    c->head_len = http_error_response(c->head, sizeof c->head, status, rq->keep_alive, rq->head);
    c->head_off = 0;
}

static void http_progress(struct serve *s, int fd)
{
    struct sconn *c = &s->conns[fd];
    struct glass_stack *st = s->app.st;
    c->last_active = glass_stack_now(st);
    for (;;) {
        /* 1. the response head */
        if (c->head_off < c->head_len) {
            long n = glass_send(st, fd, c->head + c->head_off, c->head_len - c->head_off, 0);
            if (n > 0) {
                c->head_off += (size_t)n;
                continue;
            }
            if (n != -GLASS_EAGAIN)
                conn_close(s, fd, false);
            return;
        }
        /* 2. the body, IOBUF at a time */
        if (c->off < c->len) {
            long n = glass_send(st, fd, c->buf + c->off, c->len - c->off, 0);
            if (n > 0) {
                c->off += (size_t)n;
                continue;
            }
            if (n != -GLASS_EAGAIN)
                conn_close(s, fd, false);
            return;
        }
        if (c->file >= 0 && c->file_left > 0) {
            size_t want = c->file_left < IOBUF ? (size_t)c->file_left : IOBUF;
            ssize_t n = pread(c->file, c->buf, want, (off_t)c->file_off);
            if (n <= 0) { /* the file shrank under us: the length promised cannot be kept */
                conn_close(s, fd, true);
                return;
            }
            c->off = 0;
            c->len = (size_t)n;
            c->file_off += (uint64_t)n;
            c->file_left -= (uint64_t)n;
            continue;
        }
        if (c->file >= 0) {
            close(c->file);
            c->file = -1;
        }
        if (c->head_len > 0) { /* a response is complete */
            c->head_len = c->head_off = 0;
            if (c->close_after) {
                conn_close(s, fd, false); /* "Connection: close": the server closes first */
                return;
            }
        }
        /* 3. the next request (pipelined ones are already in the buffer) */
        long hl = http_head_length(c->req, c->req_len);
        if (hl > 0) {
            struct http_request rq;
            int status = http_parse(c->req, (size_t)hl, &rq);
            memmove(c->req, c->req + hl, c->req_len - (size_t)hl);
            c->req_len -= (size_t)hl;
            http_start_response(s, c, &rq, status);
            continue;
        }
        if (hl < 0) {
            struct http_request rq = {.keep_alive = false};
            c->req_len = 0;
            http_start_response(s, c, &rq, 431);
            continue;
        }
        if (c->eof) {
            conn_close(s, fd, false); /* the client is done and so are we */
            return;
        }
        long n = glass_recv(st, fd, c->req + c->req_len, HTTP_HEAD_MAX - c->req_len, 0);
        if (n > 0) {
            c->req_len += (size_t)n;
            continue;
        }
        if (n == 0) {
            c->eof = true;
            if (s->keep_on_eof) {
                c->held = true;
                return;
            }
            continue;
        }
        if (n != -GLASS_EAGAIN)
            conn_close(s, fd, false);
        return;
    }
}

static void progress(struct serve *s, int fd)
{
    struct sconn *c = conn_of(s, fd);
    if (c == NULL || c->held)
        return;
    if (s->mode == MODE_HTTP)
        http_progress(s, fd);
    else
        echo_progress(s, fd);
}

/* ---- the listener ---------------------------------------------------------------------------- */

static int listen_now(struct serve *s)
{
    struct glass_stack *st = s->app.st;
    int fd = glass_socket(st);
    if (fd < 0)
        return fd;
    int one = 1;
    if (s->reuseaddr)
        glass_setsockopt(st, fd, GLASS_SOL_SOCKET, GLASS_SO_REUSEADDR, &one, sizeof one);
    struct glass_endpoint ep = {0, s->port};
    int r = glass_bind(st, fd, &ep);
    if (r == 0)
        r = glass_listen(st, fd, s->backlog);
    if (r < 0) {
        glass_close(st, fd);
        return r;
    }
    s->lfd = fd;
    return 0;
}

static void accept_all(struct serve *s)
{
    for (;;) {
        int fd = glass_accept(s->app.st, s->lfd, NULL);
        if (fd < 0)
            return;
        if ((size_t)fd >= s->nconns) {
            glass_close(s->app.st, fd);
            continue;
        }
        struct sconn *c = &s->conns[fd];
        memset(c, 0, sizeof *c);
        c->file = -1;
        c->buf = malloc(IOBUF);
        c->req = s->mode == MODE_HTTP ? malloc(HTTP_HEAD_MAX) : NULL;
        if (c->buf == NULL || (s->mode == MODE_HTTP && c->req == NULL)) {
            free(c->buf);
            free(c->req);
            glass_close(s->app.st, fd);
            continue;
        }
        c->used = true;
        progress(s, fd); /* data may have come with the handshake */
    }
}

/* The application closes every socket it holds, the listener too. */
static void close_all(struct serve *s)
{
    for (size_t fd = 0; fd < s->nconns; fd++)
        if (s->conns[fd].used)
            conn_close(s, (int)fd, false);
    if (s->lfd >= 0)
        glass_close(s->app.st, s->lfd);
    s->lfd = -1;
}

/* The application restarts: every socket it holds is closed, then the listener comes back. */
static int reload(struct serve *s)
{
    close_all(s);
    int r = listen_now(s);
    if (r < 0) {
        fprintf(stderr, "glass serve: cannot listen on 0.0.0.0:%u after reload: %s\n", s->port,
                glass_strerror(r));
        return r;
    }
    fprintf(stderr, "glass serve: reloaded; listening again on 0.0.0.0:%u\n", s->port);
    return 0;
}

/* ---- loop callbacks -------------------------------------------------------------------------- */

static void on_event(void *ctx, struct glass_loop *loop, const struct glass_event *ev)
{
    (void)loop;
    struct serve *s = ctx;
    if (ev->fd == s->lfd) {
        if (ev->kind == GLASS_EV_ACCEPTABLE)
            accept_all(s);
        return;
    }
    struct sconn *c = conn_of(s, ev->fd);
    if (c == NULL)
        return;
    if (ev->kind == GLASS_EV_ERROR) {
        /* reset or timed out: the application just lets go of the socket */
        conn_close(s, ev->fd, false);
        return;
    }
    progress(s, ev->fd);
}

static void on_signal(void *ctx, struct glass_loop *loop, int signo)
{
    struct serve *s = ctx;
    if (signo != SIGHUP)
        return; /* SIGINT, SIGTERM: the loop stops; serve_run() tells the other shards */
    if (s->grp != NULL) /* one shard read the signal: the others reload too */
        shards_notify_all(s->grp, s->idx, SHARD_REQ_RELOAD);
    if (reload(s) < 0)
        glass_loop_stop(loop, GLASS_EXIT_FAILED);
}

/* A shard asked to reload (SHARD_REQ_RELOAD), in its own thread. */
static void on_reload_req(void *ctx, struct glass_loop *loop)
{
    if (reload(ctx) < 0)
        glass_loop_stop(loop, GLASS_EXIT_FAILED);
}

static int find_conn(struct serve *s, const char *args, struct glass_loop_reply *r)
{
    unsigned long id;
    if (!tunapp_parse_uint(args, 1, UINT32_MAX, &id)) {
        glass_loop_reply(r, "{\"error\":\"usage: close|abort CONN_ID (see conns)\"}");
        return -1;
    }
    for (size_t fd = 0; fd < s->nconns; fd++)
        if (s->conns[fd].used && glass_sock_conn_id(s->app.st, (int)fd) == (long)id)
            return (int)fd;
    glass_loop_reply(r, "{\"error\":\"no connection %lu held by the application\"}", id);
    return -1;
}

static int on_ctl(void *ctx, struct glass_loop *loop, const char *cmd, const char *args,
                  struct glass_loop_reply *r)
{
    struct serve *s = ctx;
    if (strcmp(cmd, "help") == 0) {
        glass_loop_reply(r, "{\"command\":\"close ID\",\"help\":\"the application closes "
                            "connection ID (FIN)\"}");
        glass_loop_reply(r, "{\"command\":\"abort ID\",\"help\":\"the application aborts "
                            "connection ID (SO_LINGER {1,0}: RST)\"}");
        glass_loop_reply(r, "{\"command\":\"reload\",\"help\":\"restart the application: "
                            "close every socket, listen again (as SIGHUP)\"}");
        glass_loop_reply(r, "{\"command\":\"app\",\"help\":\"the connections the application "
                            "holds\"}");
        if (s->grp != NULL)
            glass_loop_reply(r, "{\"command\":\"shards\",\"help\":\"one line per shard "
                                "(--threads): its queue's packets, opens, resets\"}");
        return 0;
    }
    if (strcmp(cmd, "close") == 0 || strcmp(cmd, "abort") == 0) {
        int fd = find_conn(s, args, r);
        if (fd >= 0) {
            long id = glass_sock_conn_id(s->app.st, fd);
            conn_close(s, fd, cmd[0] == 'a');
            glass_loop_reply(r, "{\"%s\":%ld}", cmd[0] == 'a' ? "aborted" : "closed", id);
        }
        return 0;
    }
    if (strcmp(cmd, "reload") == 0) {
        if (reload(s) < 0) {
            glass_loop_reply(r, "{\"error\":\"cannot listen again: address already in use\"}");
            glass_loop_stop(loop, GLASS_EXIT_FAILED);
        } else {
            glass_loop_reply(r, "{\"reloaded\":true,\"port\":%u}", s->port);
        }
        return 0;
    }
    if (strcmp(cmd, "app") == 0) {
        for (size_t fd = 0; fd < s->nconns; fd++) {
            const struct sconn *c = &s->conns[fd];
            if (c->used)
                glass_loop_reply(r, "{\"fd\":%zu,\"id\":%ld,\"peer_eof\":%s,\"held\":%s}", fd,
                                 glass_sock_conn_id(s->app.st, (int)fd), c->eof ? "true" : "false",
                                 c->held ? "true" : "false");
        }
        return 0;
    }
    return -1;
}

/* HTTP keep-alive connections idle for ka_timeout are closed (checked once a second). */
static void on_timer(void *ctx, struct glass_loop *loop)
{
    struct serve *s = ctx;
    glass_time_t now = glass_loop_now(loop);
    for (size_t fd = 0; fd < s->nconns; fd++) {
        struct sconn *c = &s->conns[fd];
        if (c->used && !c->held && c->head_len == 0 && c->req_len == 0 &&
            now - c->last_active > s->ka_timeout)
            conn_close(s, (int)fd, false);
    }
    glass_loop_set_timer(loop, now + GLASS_SEC(1));
}

/* ---- one stack, or one shard of several ------------------------------------------------------ */

/* The device (queue), the stack, the loop, the listener. -1 (said why) on failure. */
static int serve_start(struct serve *s, struct glass_loop_config *lc)
{
    if (tunapp_start(&s->app, &s->o, lc, "serve") < 0)
        return -1;
    s->nconns = glass_stack_config(s->app.st)->max_sockets + 16u;
    s->conns = calloc(s->nconns, sizeof *s->conns);
    if (s->conns == NULL) {
        fprintf(stderr, "glass serve: out of memory\n");
        tunapp_stop(&s->app);
        return -1;
    }
    for (size_t i = 0; i < s->nconns; i++)
        s->conns[i].file = -1;
    int r = listen_now(s);
    if (r < 0) {
        fprintf(stderr, "glass serve: cannot listen on 0.0.0.0:%u: %s\n", s->port,
                glass_strerror(r));
        free(s->conns);
        s->conns = NULL;
        tunapp_stop(&s->app);
        return -1;
    }
    if (s->mode == MODE_HTTP)
        glass_loop_set_timer(s->app.loop, glass_loop_now(s->app.loop) + GLASS_SEC(1));
    return 0;
}

static void serve_hello(const struct serve *s, unsigned threads)
{
    char a[16];
    printf("glass serve: %s on %s:%u (tun %s, mtu %u", mode_name(s->mode),
           glass_ip4_str(s->o.addr, a), s->port, glass_tun_name(s->app.tun), s->app.mtu);
    if (threads > 1)
        printf(", %u threads", threads);
    printf("); control socket %s\n", s->app.ctl);
    fflush(stdout);
}

/* Run until stopped, then the clean shutdown: the application closes everything; the FINs get
 * a second to go out and be acknowledged. */
static int serve_run(struct serve *s)
{
    int status = glass_loop_run(s->app.loop);
    if (status < 0) {
        fprintf(stderr, "glass serve: event loop: %s\n", strerror(-status));
        status = GLASS_EXIT_FAILED;
    }
    if (s->grp != NULL) { /* one shard stopping (a signal, a failed reload) stops them all */
        shards_stopping(s->grp, s->idx);
        shards_notify_all(s->grp, s->idx, SHARD_REQ_STOP);
    }
    close_all(s);
    tunapp_linger(&s->app, GLASS_SEC(1));
    if (s->grp != NULL)
        shards_done(s->grp, s->idx);
    return status;
}

static void serve_free(struct serve *s)
{
    free(s->conns);
    s->conns = NULL;
    tunapp_stop(&s->app);
}

/* ---- --threads N: one shard per thread (docs/sharding.md) ---------------------------------- */

static int on_ctl_front(void *ctx, struct glass_loop *loop, const char *cmd, const char *args,
                        struct glass_loop_reply *r)
{
    (void)loop;
    struct serve *s = ctx;
    return shards_ctl(s->grp, cmd, args, r);
}

/* --steer software: a datagram of a flow another shard owns goes there. */
static bool on_input(void *ctx, struct glass_loop *loop, const uint8_t *pkt, size_t len,
                     unsigned flags, glass_time_t now)
{
    (void)loop;
    (void)now;
    struct serve *s = ctx;
    return shards_steer(s->grp, s->idx, pkt, len, flags);
}

static void *shard_thread(void *arg)
{
    struct serve *s = arg;
    s->status = serve_run(s);
    return NULL;
}

/* Shard 0 runs on this thread and has the control socket; shards 1..n-1 get a thread each.
 * Every shard opens its own queue of the device and listens on the same port. */
static int serve_sharded(const struct serve *proto, unsigned n, bool quiet)
{
    struct shard_group *g = shards_new(n, proto->soft_steer);
    struct serve *sh = calloc(n, sizeof *sh);
    if (g == NULL || sh == NULL) {
        fprintf(stderr, "glass serve: cannot set up %u shards: %s\n", n, strerror(errno));
        shards_free(g);
        free(sh);
        return GLASS_EXIT_FAILED;
    }
    unsigned started = 0, running = 1;
    int status = GLASS_EXIT_OK;
    for (unsigned i = 0; i < n; i++) {
        sh[i] = *proto;
        sh[i].grp = g;
        sh[i].idx = i;
        sh[i].o.multi_queue = true;
        sh[i].o.no_ctl = i > 0;
        struct glass_loop_config lc = {
            .ctx = &sh[i], .on_event = on_event, .on_ctl = on_ctl, .on_signal = on_signal,
            .on_timer = on_timer, .info_json = sh[i].info,
            .on_ctl_front = i == 0 ? on_ctl_front : NULL,
            .on_input = proto->soft_steer ? on_input : NULL,
        };
        if (serve_start(&sh[i], &lc) < 0) {
            status = GLASS_EXIT_FAILED;
            break;
        }
        started++;
        int r = shards_attach(g, i, sh[i].app.loop, sh[i].app.st, on_reload_req, &sh[i]);
        if (r < 0) {
            fprintf(stderr, "glass serve: shard %u: %s\n", i, strerror(-r));
            status = GLASS_EXIT_FAILED;
            break;
        }
    }
    for (unsigned i = 1; status == GLASS_EXIT_OK && i < n; i++) {
        int r = pthread_create(&sh[i].thread, NULL, shard_thread, &sh[i]);
        if (r != 0) {
            fprintf(stderr, "glass serve: cannot start thread %u: %s\n", i, strerror(r));
            status = GLASS_EXIT_FAILED;
            break;
        }
        running++;
    }
    if (status == GLASS_EXIT_OK) {
        if (!quiet)
            serve_hello(&sh[0], n);
        status = serve_run(&sh[0]);
    } else {
        shards_notify_all(g, 0, SHARD_REQ_STOP);
    }
    for (unsigned i = 1; i < running; i++) {
        pthread_join(sh[i].thread, NULL);
        if (sh[i].status != GLASS_EXIT_OK && status == GLASS_EXIT_OK)
            status = sh[i].status;
    }
    /* In reverse: each loop gives back the signal mask it found. */
    for (unsigned i = started; i-- > 0;)
        serve_free(&sh[i]);
    shards_free(g);
    free(sh);
    if (!quiet && status == 0)
        fprintf(stderr, "glass serve: stopped\n");
    return status;
}

/* ---- main ------------------------------------------------------------------------------------ */

static void serve_usage(FILE *f)
{
    fprintf(f,
            "usage: glass serve [options] --port N (--echo | --discard | --http DIR)\n\n"
            "A server on the user-space stack, over a Linux TUN device (root, or CAP_NET_ADMIN).\n"
            "Try it: 'glass lab up', then 'glass serve --netns glass --port 80 --http .' and\n"
            "'ip netns exec glass curl http://192.0.2.2/README.md'.\n\n"
            "options:\n"
            "  --port N            TCP port to listen on\n"
            "  --echo              send back every byte received\n"
            "  --discard           read and drop every byte\n"
            "  --http DIR          serve the files under DIR (HTTP/1.1, GET and HEAD, keep-alive)\n"
            "  --backlog N         listen backlog (default 128)\n"
            "  --no-reuseaddr      do not set SO_REUSEADDR on the listener: after a reload the\n"
            "                      port stays taken while connections are in TIME_WAIT\n"
            "  --on-eof close|keep  when the peer closes: close too (default), or keep the\n"
            "                      socket open (the connection stays in CLOSE_WAIT)\n"
            "  --keepalive-timeout S\n"
            "                      close idle HTTP connections after S seconds (default 60)\n"
            "  --threads N         N stacks on N threads, one per queue of a multi-queue TUN\n"
            "                      device ('glass lab up --multi-queue'); the kernel steers\n"
            "                      each flow to one queue; one control socket for all\n"
            "                      (default 1; docs/sharding.md)\n"
            "  --steer kernel|software\n"
            "                      with --threads: the queue the kernel chose decides which\n"
            "                      stack gets a datagram (default), or a keyed hash of its\n"
            "                      4-tuple (glass_flow_hash), the other shards handing it over\n"
            "  -q, --quiet         no start and stop messages\n"
            "%s"
            "\nSIGHUP or the control command 'reload' restarts the application (every socket it\n"
            "holds is closed, then it listens again) while the stack keeps its TIME_WAIT\n"
            "connections. SIGINT/SIGTERM close everything and exit. Exit status: 0 ok, 1 failed,\n"
            "2 usage error.\n",
            tunapp_usage);
}

/* An option that takes one of two words: 0 for a, 1 for b, -1 (a one-line error said) else. */
static int one_of(const char *opt, const char *arg, const char *a, const char *b)
{
    if (strcmp(arg, a) == 0 || strcmp(arg, b) == 0)
        return strcmp(arg, b) == 0;
    fprintf(stderr, "glass serve: bad %s '%s' (%s or %s)\n", opt, arg, a, b);
    return -1;
}

int glass_cmd_serve(int argc, char **argv)
{
    static const struct option longopts[] = {
        TUNAPP_LONGOPTS,
        {"port", required_argument, NULL, 'p'},
        {"echo", no_argument, NULL, 'e'},
        {"discard", no_argument, NULL, 'd'},
        {"http", required_argument, NULL, 'H'},
        {"backlog", required_argument, NULL, 'b'},
        {"no-reuseaddr", no_argument, NULL, 'R'},
        {"reuseaddr", no_argument, NULL, 'r'},
        {"on-eof", required_argument, NULL, 'E'},
        {"keepalive-timeout", required_argument, NULL, 'K'},
        {"quiet", no_argument, NULL, 'q'},
        {"threads", required_argument, NULL, 'T'},
        {"steer", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static struct serve s;
    memset(&s, 0, sizeof s);
    tunapp_opts_default(&s.o);
    s.backlog = 128;
    s.reuseaddr = true;
    s.lfd = -1;
    s.ka_timeout = GLASS_SEC(60);
    bool quiet = false, have_port = false;
    unsigned threads = 1;
    bool steer_set = false;
    int w;
    const char *root = NULL;
    unsigned long v;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":p:vqh", longopts, NULL)) != -1) {
        int t = tunapp_opt(&s.o, c, optarg, "serve");
        if (t < 0)
            return GLASS_EXIT_USAGE;
        if (t > 0)
            continue;
        switch (c) {
        case 'p':
            if (!tunapp_parse_uint(optarg, 1, 65535, &v)) {
                fprintf(stderr, "glass serve: bad --port '%s' (1..65535)\n", optarg);
                return GLASS_EXIT_USAGE;
            }
            s.port = (uint16_t)v;
            have_port = true;
            break;
        case 'e':
        case 'd':
        case 'H':
            if (s.mode != MODE_NONE) {
                fprintf(stderr, "glass serve: choose one of --echo, --discard, --http\n");
                return GLASS_EXIT_USAGE;
            }
            s.mode = c == 'e' ? MODE_ECHO : c == 'd' ? MODE_DISCARD : MODE_HTTP;
            root = c == 'H' ? optarg : NULL;
            break;
        case 'b':
            if (!tunapp_parse_uint(optarg, 1, 65535, &v)) {
                fprintf(stderr, "glass serve: bad --backlog '%s' (1..65535)\n", optarg);
                return GLASS_EXIT_USAGE;
            }
            s.backlog = (int)v;
            break;
        case 'R':
        case 'r':
            s.reuseaddr = c == 'r';
            break;
        case 'E':
            if ((w = one_of("--on-eof", optarg, "close", "keep")) < 0)
                return GLASS_EXIT_USAGE;
            s.keep_on_eof = w == 1;
            break;
        case 'K':
            if (!tunapp_parse_uint(optarg, 1, 86400, &v)) {
                fprintf(stderr, "glass serve: bad --keepalive-timeout '%s' (1..86400)\n", optarg);
                return GLASS_EXIT_USAGE;
            }
            s.ka_timeout = GLASS_SEC(v);
            break;
        case 'q':
            quiet = true;
            break;
        case 'T':
            if (!tunapp_parse_uint(optarg, 1, SHARDS_MAX, &v)) {
                fprintf(stderr, "glass serve: bad --threads '%s' (1..%u)\n", optarg, SHARDS_MAX);
                return GLASS_EXIT_USAGE;
            }
            threads = (unsigned)v;
            break;
        case 'S':
            if ((w = one_of("--steer", optarg, "kernel", "software")) < 0)
                return GLASS_EXIT_USAGE;
            s.soft_steer = w == 1;
            steer_set = true;
            break;
        case 'h':
            serve_usage(stdout);
            return GLASS_EXIT_OK;
        case ':':
            fprintf(stderr, "glass serve: option '%s' needs an argument\n", argv[optind - 1]);
            return GLASS_EXIT_USAGE;
        default:
            fprintf(stderr, "glass serve: unknown option '%s'; see 'glass serve --help'\n",
                    argv[optind - 1]);
            return GLASS_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "glass serve: unexpected argument '%s'\n", argv[optind]);
        return GLASS_EXIT_USAGE;
    }
    if (!have_port || s.mode == MODE_NONE) {
        fprintf(stderr, "glass serve: need --port and one of --echo, --discard, --http DIR\n");
        return GLASS_EXIT_USAGE;
    }
    if (steer_set && threads == 1) {
        fprintf(stderr, "glass serve: --steer chooses between shards: it needs --threads 2 or more\n");
        return GLASS_EXIT_USAGE;
    }
    if (threads > 1 && (s.o.pcap != NULL || s.o.pcapng != NULL)) {
        fprintf(stderr, "glass serve: --pcap and --pcapng take one stack: not with --threads\n");
        return GLASS_EXIT_USAGE;
    }
    if (root != NULL && realpath(root, s.root) == NULL) {
        fprintf(stderr, "glass serve: --http %s: %s\n", root, strerror(errno));
        return GLASS_EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);

    char a[16];
    snprintf(s.info, sizeof s.info, "\"app\":\"serve\",\"mode\":\"%s\",\"port\":%u,\"addr\":\"%s/%u\"",
             mode_name(s.mode), s.port, glass_ip4_str(s.o.addr, a), s.o.prefix);
    if (threads > 1) {
        size_t l = strlen(s.info);
        snprintf(s.info + l, sizeof s.info - l, ",\"threads\":%u,\"steer\":\"%s\"", threads,
                 s.soft_steer ? "software" : "kernel");
        return serve_sharded(&s, threads, quiet);
    }
    struct glass_loop_config lc = {
        .ctx = &s, .on_event = on_event, .on_ctl = on_ctl, .on_signal = on_signal,
        .on_timer = on_timer, .info_json = s.info,
    };
    if (serve_start(&s, &lc) < 0)
        return GLASS_EXIT_FAILED;
    if (!quiet)
        serve_hello(&s, 1);
    int status = serve_run(&s);
    serve_free(&s);
    if (!quiet && status == 0)
        fprintf(stderr, "glass serve: stopped\n");
    return status;
}
