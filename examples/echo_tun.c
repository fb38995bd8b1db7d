/* An echo server on a Linux TUN device: the kernel (or any host routed to the device) connects
 * to ADDR:PORT and gets back every byte it sends. Needs CAP_NET_ADMIN to open the device.
 *
 *   usage: echo_tun [TUN [ADDR [PORT]]]      (default: glass0 192.0.2.2 7)
 *
 * Try it:  glass lab up && ip netns exec glass ./echo_tun &
 *          ip netns exec glass nc 192.0.2.2 7
 * The event loop (glass/loop.h) reads the device, runs the stack's timers and writes its output;
 * this program only reacts to socket events. SIGINT or SIGTERM stops it. */
#include <glass/glass.h>
#include <glass/loop.h>
#include <glass/tun.h>

#include <stdio.h>
#include <stdlib.h>

static int listener;

/* Echo what fits in the send buffer: peek at the input, send it, then consume what was taken.
 * Bytes the send buffer cannot take stay unread, so the peer's window closes (back-pressure). */
static void echo(struct glass_stack *st, int fd)
{
    char buf[16384];
    for (;;) {
        long n = glass_recv(st, fd, buf, sizeof buf, GLASS_MSG_PEEK);
        if (n == 0 || (n < 0 && n != -GLASS_EAGAIN)) { /* peer's FIN, or an error: done */
            glass_close(st, fd);                     /* FIN after what is still queued */
            return;
        }
        if (n < 0)
            return;                                  /* nothing to read for now */
        long sent = glass_send(st, fd, buf, (size_t)n, 0);
        if (sent <= 0)
            return;                                  /* send buffer full: wait for WRITABLE */
        glass_recv(st, fd, buf, (size_t)sent, 0);    /* consume what was sent */
    }
}

static void on_event(void *ctx, struct glass_loop *loop, const struct glass_event *ev)
{
    struct glass_stack *st = ctx;
    (void)loop;
    if (ev->fd == listener) {
        int fd;
        while ((fd = glass_accept(st, listener, NULL)) >= 0)
            echo(st, fd);                            /* data may have come with the handshake */
    } else if (ev->kind == GLASS_EV_ERROR || ev->kind == GLASS_EV_HUP) {
        glass_close(st, ev->fd);
    } else {
        echo(st, ev->fd);                            /* READABLE, WRITABLE, RDHUP */
    }
}

int main(int argc, char **argv)
{
    const char *dev = argc > 1 ? argv[1] : "glass0";
    uint32_t addr = GLASS_IP4(192, 0, 2, 2);
    uint16_t port = (uint16_t)(argc > 3 ? atoi(argv[3]) : 7);
    struct glass_tun *tun;
    struct glass_loop *loop;
    if (argc > 2 && glass_ip4_parse(argv[2], &addr) != 0) {
        fprintf(stderr, "echo_tun: bad address '%s'\n", argv[2]);
        return 2;
    }
    int r = glass_tun_open(dev, &tun);
    if (r < 0) {
        fprintf(stderr, "echo_tun: TUN device %s: %s\n", dev, glass_strerror(r));
        return 1;
    }
    glass_tun_set_up(tun);
    struct glass_stack *st = glass_stack_new(NULL);  /* the default configuration */
    glass_stack_add_iface(st, addr, 24, 1500);
    struct glass_loop_config lc = {.stack = st, .tun = tun, .ctx = st, .on_event = on_event};
    if ((r = glass_loop_new(&lc, &loop)) < 0) {
        fprintf(stderr, "echo_tun: event loop: %s\n", glass_strerror(r));
        return 1;
    }
    glass_stack_advance(st, glass_loop_now(loop));   /* socket calls act at the stack's time */
    listener = glass_socket(st);
    int one = 1;
    glass_setsockopt(st, listener, GLASS_SOL_SOCKET, GLASS_SO_REUSEADDR, &one, sizeof one);
    r = glass_bind(st, listener, &(struct glass_endpoint){.addr = 0, .port = port});
    if (r == 0)
        r = glass_listen(st, listener, 128);
    if (r < 0) {
        fprintf(stderr, "echo_tun: port %u: %s\n", port, glass_strerror(r));
        return 1;
    }
    printf("echo_tun: echoing on %s port %u\n", argc > 2 ? argv[2] : "192.0.2.2", port);
    fflush(stdout);
    r = glass_loop_run(loop);                        /* until SIGINT/SIGTERM */
    glass_loop_free(loop);
    glass_stack_free(st);
    glass_tun_close(tun);
    return r < 0 ? 1 : 0;
}
