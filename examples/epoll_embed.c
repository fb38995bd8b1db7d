/* Embedding glasstcp in an event loop the application already has.
 *
 * The program below owns an epoll set with its own work in it (a timerfd that prints progress
 * every 100 ms). It adds two glasstcp stacks whose "wire" is a datagram socket pair (one IPv4
 * datagram per message), and one more timerfd armed at the stacks' next deadline. Everything
 * the stacks need from the loop is in pump(): pass the time in, handle the socket events, send
 * what they want to send. No TUN device, no privileges.
 *
 * The client (198.51.100.1) sends 1 MiB to the server (198.51.100.2:5001), then shuts down its
 * side; the server counts and checks the bytes and closes when it sees the FIN.
 * Exit status: 0 if every byte arrived in order and both sides closed, 1 otherwise. */
#define _GNU_SOURCE /* clock_gettime, timerfd, SOCK_NONBLOCK under -std=c11 */
#include <glass/glass.h>

#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define TOTAL (1u << 20)

struct node {
    const char *name;
    struct glass_stack *st;
    int wire;           /* our end of the socket pair */
    int fd;             /* the client's socket, or the server's accepted one */
    int listener;       /* server only, else -1 */
    uint64_t bytes;     /* sent (client) or received and checked (server) */
    bool done;
};

static glass_time_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (glass_time_t)ts.tv_sec * GLASS_NSEC_PER_SEC + (glass_time_t)ts.tv_nsec;
}

/* The application's side: react to one socket event. */
static void on_event(struct node *n, const struct glass_event *ev)
{
    static uint8_t buf[16384];
    if (ev->kind == GLASS_EV_ERROR) {
        fprintf(stderr, "%s: %s\n", n->name, glass_strerror(ev->err));
        n->done = true;
        return;
    }
    if (n->listener >= 0 && ev->fd == n->listener && n->fd < 0)
        n->fd = glass_accept(n->st, n->listener, NULL); /* then read what came with it */
    if (n->listener < 0) { /* client: write the pattern while the buffer takes it */
        while (n->bytes < TOTAL) {
            size_t len = TOTAL - n->bytes < sizeof buf ? TOTAL - n->bytes : sizeof buf;
            for (size_t i = 0; i < len; i++)
                buf[i] = (uint8_t)((n->bytes + i) * 7);
            long r = glass_send(n->st, n->fd, buf, len, 0);
            if (r <= 0)
                break;
            n->bytes += (uint64_t)r;
            if (n->bytes == TOTAL)
                glass_shutdown(n->st, n->fd, GLASS_SHUT_WR); /* FIN after the data */
        }
    }
    long r;
    while ((r = glass_recv(n->st, n->fd, buf, sizeof buf, 0)) > 0) {
        for (long i = 0; i < r; i++, n->bytes++)
            if (buf[i] != (uint8_t)(n->bytes * 7))
                fprintf(stderr, "%s: byte %llu differs\n", n->name, (unsigned long long)n->bytes);
    }
    if (r == 0 && !n->done) { /* the peer's FIN: close our side too */
        glass_close(n->st, n->fd);
        n->done = true;
    }
}

/* True when the stack holds no connection but listeners and TIME_WAIT ones. */
static bool quiet(const struct glass_stack *st)
{
    struct glass_conn_info ci[4];
    size_t n = glass_stack_conns(st, ci, 4);
    for (size_t i = 0; i < n && i < 4; i++)
        if (ci[i].state != GLASS_TCP_LISTEN && ci[i].state != GLASS_TCP_TIME_WAIT)
            return false;
    return n <= 4;
}

/* Everything a stack needs from the loop: time in, events out, packets out. */
static void pump(struct node *n, glass_time_t now)
{
    uint8_t pkt[2048];
    struct glass_event ev;
    long len;
    glass_stack_advance(n->st, now);
    do {
        while (glass_stack_next_event(n->st, &ev))
            on_event(n, &ev);
        while ((len = glass_stack_output(n->st, now, pkt, sizeof pkt)) > 0)
            send(n->wire, pkt, (size_t)len, MSG_DONTWAIT); /* a full pipe drops it, like IP */
    } while (glass_stack_has_output(n->st));
}

static void arm(int tfd, glass_time_t at)
{
    struct itimerspec its = {{0, 0}, {0, 0}}; /* all zero disarms */
    if (at != GLASS_TIME_NEVER) {
        at = at ? at : 1;
        its.it_value.tv_sec = (time_t)(at / GLASS_NSEC_PER_SEC);
        its.it_value.tv_nsec = (long)(at % GLASS_NSEC_PER_SEC);
    }
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

int main(void)
{
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, pair) < 0)
        return 1;
    struct node nodes[2] = {
        {"client", glass_stack_new(NULL), pair[0], -1, -1, 0, false},
        {"server", glass_stack_new(NULL), pair[1], -1, -1, 0, false},
    };
    struct glass_endpoint srv = {GLASS_IP4(198, 51, 100, 2), 5001};
    glass_stack_add_iface(nodes[0].st, GLASS_IP4(198, 51, 100, 1), 24, 1500);
    glass_stack_add_iface(nodes[1].st, srv.addr, 24, 1500);
    glass_time_t start = now_ns();
    for (int i = 0; i < 2; i++)
        glass_stack_advance(nodes[i].st, start);
    nodes[1].listener = glass_socket(nodes[1].st);
    glass_bind(nodes[1].st, nodes[1].listener, &srv);
    glass_listen(nodes[1].st, nodes[1].listener, 16);
    nodes[0].fd = glass_socket(nodes[0].st);
    glass_connect(nodes[0].st, nodes[0].fd, &srv); /* -GLASS_EINPROGRESS */

    /* The application's loop, with its own timer, and the stacks' timer added. */
    int ep = epoll_create1(0);
    int app_timer = timerfd_create(CLOCK_MONOTONIC, 0);
    int glass_timer = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec tick = {{0, 100 * 1000 * 1000}, {0, 100 * 1000 * 1000}};
    timerfd_settime(app_timer, 0, &tick, NULL);
    int watch[] = {app_timer, glass_timer, pair[0], pair[1]};
    for (int i = 0; i < 4; i++) {
        struct epoll_event e = {.events = EPOLLIN, .data.fd = watch[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, watch[i], &e);
    }
    for (int i = 0; i < 2; i++)
        pump(&nodes[i], start);
    while (!(nodes[0].done && nodes[1].done && quiet(nodes[0].st) && quiet(nodes[1].st)) &&
           now_ns() - start < GLASS_SEC(30)) {
        arm(glass_timer, glass_stack_next_deadline(nodes[0].st) <
                                 glass_stack_next_deadline(nodes[1].st)
                             ? glass_stack_next_deadline(nodes[0].st)
                             : glass_stack_next_deadline(nodes[1].st));
        struct epoll_event evs[8];
        int k = epoll_wait(ep, evs, 8, 1000);
        glass_time_t now = now_ns();
        for (int i = 0; i < k; i++) {
            int fd = evs[i].data.fd;
            uint64_t expirations;
            uint8_t pkt[2048];
            ssize_t len;
            if (fd == app_timer) { /* the application's own work */
                if (read(app_timer, &expirations, sizeof expirations) > 0)
                    printf("app: %.1f s, server has %llu bytes\n", (double)(now - start) / 1e9,
                           (unsigned long long)nodes[1].bytes);
            } else if (fd == glass_timer) {
                if (read(glass_timer, &expirations, sizeof expirations) < 0)
                    expirations = 0;
            } else { /* a datagram for the stack at this end of the pair */
                struct node *n = fd == pair[0] ? &nodes[0] : &nodes[1];
                while ((len = recv(fd, pkt, sizeof pkt, MSG_DONTWAIT)) > 0)
                    glass_stack_input(n->st, now, pkt, (size_t)len);
            }
        }
        for (int i = 0; i < 2; i++)
            pump(&nodes[i], now);
    }
    /* The client closed first, so its connection waits out TIME_WAIT (60 s by default) after its
     * handle is gone; glass_stack_conns() still lists it. */
    struct glass_conn_info ci;
    size_t nconn = glass_stack_conns(nodes[0].st, &ci, 1);
    bool ok = nodes[0].done && nodes[1].done && nodes[1].bytes == TOTAL;
    printf("%s: %llu bytes received by the server in %.3f s; client connection %s\n",
           ok ? "ok" : "FAILED", (unsigned long long)nodes[1].bytes,
           (double)(now_ns() - start) / 1e9, nconn ? glass_tcp_state_name(ci.state) : "gone");
    for (int i = 0; i < 2; i++)
        glass_stack_free(nodes[i].st);
    close(ep), close(app_timer), close(glass_timer), close(pair[0]), close(pair[1]);
    return ok ? 0 : 1;
}
