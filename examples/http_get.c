/* An HTTP/1.0 client on a Linux TUN device: GET one URL path from a server the device reaches and
 * write the response body to standard output. Needs CAP_NET_ADMIN to open the device.
 *
 *   usage: http_get TUN SERVER PORT PATH      e.g. http_get glass0 192.0.2.1 8000 /
 *
 * The stack takes 192.0.2.2/24 on the device. Try it against the kernel's side of `glass lab up`:
 *   glass lab up && ip netns exec glass python3 -m http.server -b 192.0.2.1 8000 &
 *   ip netns exec glass ./http_get glass0 192.0.2.1 8000 /
 * Exit status: 0 if the server answered 200 and closed, 1 otherwise, 2 on a usage error. */
#include <glass/glass.h>
#include <glass/loop.h>
#include <glass/tun.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct client {
    struct glass_stack *st;
    int fd;
    char request[512];
    size_t req_len, req_sent;
    char head[256];    /* the start of the response, for its status line */
    size_t head_len;
    bool in_body;      /* the blank line after the headers was seen */
    char last4[4];     /* the last four bytes before the body, to find "\r\n\r\n" */
    bool finished;     /* the handle is closed: events still queued for it are stale */
};

/* Write what the send buffer takes; the rest goes on GLASS_EV_WRITABLE. */
static void send_request(struct client *c)
{
    while (c->req_sent < c->req_len) {
        long n = glass_send(c->st, c->fd, c->request + c->req_sent, c->req_len - c->req_sent, 0);
        if (n <= 0)
            return;
        c->req_sent += (size_t)n;
    }
}

/* Headers are skipped; everything after the first empty line goes to standard output. */
static void take(struct client *c, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (c->in_body) {
            fwrite(p + i, 1, n - i, stdout);
            return;
        }
        if (c->head_len < sizeof c->head - 1)
            c->head[c->head_len++] = p[i];
        memmove(c->last4, c->last4 + 1, 3);
        c->last4[3] = p[i];
        c->in_body = memcmp(c->last4, "\r\n\r\n", 4) == 0;
    }
}

static void on_event(void *ctx, struct glass_loop *loop, const struct glass_event *ev)
{
    struct client *c = ctx;
    char buf[16384];
    long n;
    if (c->finished || ev->fd != c->fd)
        return;
    switch (ev->kind) {
    case GLASS_EV_CONNECTED:
    case GLASS_EV_WRITABLE:
        send_request(c);
        break;
    case GLASS_EV_READABLE:
    case GLASS_EV_RDHUP:
        while ((n = glass_recv(c->st, c->fd, buf, sizeof buf, 0)) > 0)
            take(c, buf, (size_t)n);
        if (n == 0) {                                /* the server closed: the response is whole */
            glass_close(c->st, c->fd);
            c->finished = true;
            c->head[c->head_len] = '\0';
            bool ok = strncmp(c->head, "HTTP/1.", 7) == 0 && strncmp(c->head + 8, " 200", 4) == 0;
            fprintf(stderr, "http_get: %.*s\n", (int)strcspn(c->head, "\r\n"), c->head);
            glass_loop_stop(loop, ok ? 0 : 1);
        } else if (n != -GLASS_EAGAIN) {
            fprintf(stderr, "http_get: recv: %s\n", glass_strerror((int)n));
            c->finished = true;
            glass_loop_stop(loop, 1);
        }
        break;
    case GLASS_EV_ERROR:                             /* refused, reset, timed out */
        fprintf(stderr, "http_get: %s\n", glass_strerror(ev->err));
        c->finished = true;
        glass_loop_stop(loop, 1);
        break;
    default:
        break;
    }
}

static void on_timer(void *ctx, struct glass_loop *loop)
{
    (void)ctx;
    fprintf(stderr, "http_get: no complete answer within 10 s\n");
    glass_loop_stop(loop, 1);
}

int main(int argc, char **argv)
{
    struct glass_endpoint server = {0, 0};
    if (argc != 5 || glass_ip4_parse(argv[2], &server.addr) != 0 || atoi(argv[3]) <= 0 ||
        atoi(argv[3]) > 65535 || argv[4][0] != '/' || strlen(argv[4]) > 400) {
        fprintf(stderr, "usage: http_get TUN SERVER PORT PATH\n");
        return 2;
    }
    server.port = (uint16_t)atoi(argv[3]);
    static struct client c;
    struct glass_tun *tun;
    struct glass_loop *loop;
    int r = glass_tun_open(argv[1], &tun);
    if (r < 0) {
        fprintf(stderr, "http_get: TUN device %s: %s\n", argv[1], glass_strerror(r));
        return 1;
    }
    glass_tun_set_up(tun);
    c.st = glass_stack_new(NULL);
    if (c.st == NULL || glass_stack_add_iface(c.st, GLASS_IP4(192, 0, 2, 2), 24, 1500) < 0)
        return 1;
    struct glass_loop_config lc = {
        .stack = c.st, .tun = tun, .ctx = &c, .on_event = on_event, .on_timer = on_timer};
    if ((r = glass_loop_new(&lc, &loop)) < 0) {
        fprintf(stderr, "http_get: event loop: %s\n", glass_strerror(r));
        return 1;
    }
    glass_time_t now = glass_loop_now(loop);
    glass_stack_advance(c.st, now);                  /* socket calls act at the stack's time */
    glass_loop_set_timer(loop, now + GLASS_SEC(10));
    c.req_len = (size_t)snprintf(c.request, sizeof c.request,
                                 "GET %s HTTP/1.0\r\nHost: %s:%s\r\nConnection: close\r\n\r\n",
                                 argv[4], argv[2], argv[3]);
    c.fd = glass_socket(c.st);
    r = glass_connect(c.st, c.fd, &server);          /* -EINPROGRESS: the SYN is queued */
    if (r != -GLASS_EINPROGRESS) {
        fprintf(stderr, "http_get: connect: %s\n", glass_strerror(r));
        return 1;
    }
    int status = glass_loop_run(loop);
    glass_loop_run_until(loop, glass_loop_now(loop) + GLASS_MSEC(200), NULL, NULL); /* last ACK */
    glass_loop_free(loop);
    glass_stack_free(c.st);
    glass_tun_close(tun);
    return status == 0 ? 0 : 1;
}
