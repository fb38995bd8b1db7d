/* glasstcp — fuzz target (c): two stacks over the simulated link, the input choosing the link's
 * faults (loss, duplication, reordering, corruption, jitter, seed), a filter that drops chosen
 * packets, and the applications' calls on both sides. Checked (robustness/README.md §5.2):
 *   1. stream integrity: what recv() returns is exactly the next bytes of what the other side
 *      sent — delivered once, in order, uncorrupted;
 *   2. EOF only after every byte the peer's send() accepted has been read;
 *   7/10. glass_stack_check() after every operation (states, timers, bounded queues);
 *   12/15. after both applications close and virtual time passes, both ends are CLOSED (only
 *      the listener is left) and, after glass_stack_free(), every byte is back. */
#include "fuzz.h"

#include <string.h>

#include "core/core.h"
#include <glass/glass.h>

#define CLI GLASS_IP4(192, 0, 2, 1)
#define SRV GLASS_IP4(192, 0, 2, 2)

struct side {
    int fd;             /* connection socket, -1 none */
    uint64_t sent, got; /* stream offsets */
    bool eof, closed, wr_shut, failed;
};

struct world {
    struct glass_stack *st[2];
    struct fuzz_mem mem[2];
    struct glass_simnet *net;
    int lfd;
    struct side s[2];
    uint8_t drop_from_mask, drop_flags; /* filter: drop from these sides with these flags */
    uint8_t drop_budget;
};

static uint8_t pat(int dir, uint64_t i)
{
    return (uint8_t)(i * (dir ? 29u : 13u) + (i >> 11) + (uint64_t)dir);
}

static enum glass_sim_verdict filter(void *ctx, const struct glass_sim_packet *p)
{
    struct world *w = ctx;
    if (w->drop_budget == 0 || p->from < 0 || !(w->drop_from_mask & (1u << p->from)))
        return GLASS_SIM_PASS;
    struct glass_pkt_summary s;
    if (glass_pkt_decode(p->data, p->len, &s) != 0 || (s.flags & w->drop_flags) != w->drop_flags)
        return GLASS_SIM_PASS;
    w->drop_budget--;
    return GLASS_SIM_DROP;
}

static void check(struct world *w)
{
    char why[256];
    for (int i = 0; i < 2; i++)
        FUZZ_CHECK(glass_stack_check(w->st[i], why, sizeof why) == 0, "%s: %s",
                   i ? "server" : "client", why);
}

static void read_side(struct world *w, int i)
{
    struct side *me = &w->s[i], *peer = &w->s[!i];
    /* after an error (reset, timeout) recv() reports EOF, as on Linux: not a data EOF */
    if (me->fd < 0 || me->eof || me->closed || me->failed)
        return;
    static uint8_t buf[16384];
    long n;
    while ((n = glass_recv(w->st[i], me->fd, buf, sizeof buf, 0)) > 0) {
        for (long k = 0; k < n; k++)
            FUZZ_CHECK(buf[k] == pat(!i, me->got + (uint64_t)k), "side %d: byte %llu corrupt", i,
                       (unsigned long long)(me->got + (uint64_t)k));
        me->got += (uint64_t)n;
        FUZZ_CHECK(me->got <= peer->sent, "side %d: more bytes than were sent", i);
    }
    if (n == 0) {
        FUZZ_CHECK(me->got == peer->sent, "side %d: EOF after %llu of %llu bytes", i,
                   (unsigned long long)me->got, (unsigned long long)peer->sent);
        me->eof = true;
    } else if (n != -GLASS_EAGAIN) {
        me->failed = true; /* reset or timed out: no more data, never wrong data */
    }
}

static void send_side(struct world *w, int i, size_t n)
{
    struct side *me = &w->s[i];
    if (me->fd < 0 || me->closed || me->wr_shut || me->failed)
        return;
    static uint8_t buf[65536];
    if (n > sizeof buf)
        n = sizeof buf;
    for (size_t k = 0; k < n; k++)
        buf[k] = pat(i, me->sent + k);
    long r = glass_send(w->st[i], me->fd, buf, n, 0);
    if (r > 0)
        me->sent += (uint64_t)r;
    else if (r < 0 && r != -GLASS_EAGAIN && r != -GLASS_ENOMEM)
        me->failed = true; /* the error (reset) is reported here; recv() then says EOF */
}

static void close_side(struct world *w, int i, bool abort_it)
{
    struct side *me = &w->s[i];
    if (me->fd < 0 || me->closed)
        return;
    if (abort_it) {
        struct glass_linger l = {1, 0};
        glass_setsockopt(w->st[i], me->fd, GLASS_SOL_SOCKET, GLASS_SO_LINGER, &l, sizeof l);
    }
    glass_close(w->st[i], me->fd);
    me->closed = true;
}

static void run(struct world *w, glass_time_t dt)
{
    glass_simnet_run_for(w->net, dt);
    for (int i = 0; i < 2; i++) {
        struct glass_event ev;
        while (glass_stack_next_event(w->st[i], &ev))
            ;
    }
    if (w->s[1].fd < 0 && w->s[0].fd >= 0) {
        int s = glass_accept(w->st[1], w->lfd, NULL);
        if (s >= 0)
            w->s[1].fd = s;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size, 0};
    struct world *w = calloc(1, sizeof *w);
    FUZZ_CHECK(w != NULL, "calloc");
    struct glass_simnet_config nc;
    glass_simnet_config_default(&nc);
    nc.seed = fz_u32(&in);
    nc.loss = (fz_u8(&in) % 32) / 100.0;
    nc.dup = (fz_u8(&in) % 16) / 100.0;
    nc.reorder = (fz_u8(&in) % 32) / 100.0;
    nc.corrupt = (fz_u8(&in) % 8) / 200.0;
    nc.jitter = GLASS_MSEC(fz_u8(&in) % 16);
    uint8_t opts = fz_u8(&in);
    for (int i = 0; i < 2; i++) {
        struct glass_config cfg;
        glass_config_default(&cfg);
        cfg.seed = 10u + (uint64_t)i;
        cfg.max_conns = 64; /* small tables: a fresh stack per input stays cheap */
        cfg.trace_ring = 64;
        cfg.event_ring = 256;
        cfg.retries2 = 6;
        cfg.orphan_retries = 4;
        cfg.sack = (opts & 1) != 0;
        cfg.timestamps = (opts & 2) != 0;
        cfg.window_scaling = (opts & 4) != 0;
        cfg.cc = (opts & 8) ? GLASS_CC_NEWRENO : GLASS_CC_CUBIC;
        if (opts & 16)
            cfg.rcvbuf = 4096; /* small windows: zero-window probing */
        if (opts & 32)
            cfg.max_time_wait = 0; /* a full TIME_WAIT table: closed at once, the ACK still out */
        cfg.allocator = (struct glass_allocator){fuzz_alloc, fuzz_free, &w->mem[i]};
        w->st[i] = glass_stack_new(&cfg);
        FUZZ_CHECK(w->st[i] != NULL, "stack");
        w->s[i].fd = -1;
    }
    w->net = glass_simnet_new(&nc);
    FUZZ_CHECK(w->net != NULL, "simnet");
    glass_simnet_attach(w->net, w->st[0], CLI);
    glass_simnet_attach(w->net, w->st[1], SRV);
    glass_simnet_set_filter(w->net, filter, w);
    w->lfd = glass_socket(w->st[1]);
    struct glass_endpoint ep = {SRV, 80};
    FUZZ_CHECK(glass_bind(w->st[1], w->lfd, &ep) == 0 && glass_listen(w->st[1], w->lfd, 4) == 0,
               "listen");

    for (int k = 0; k < 200 && fz_more(&in); k++) {
        uint8_t op = fz_u8(&in);
        int i = op & 1;
        switch ((op >> 1) % 8) {
        case 0:
            if (w->s[0].fd < 0) {
                w->s[0].fd = glass_socket(w->st[0]);
                glass_connect(w->st[0], w->s[0].fd, &ep);
            }
            break;
        case 1:
            send_side(w, i, (size_t)fz_u16(&in));
            break;
        case 2:
            read_side(w, i);
            break;
        case 3:
            if (w->s[i].fd >= 0 && !w->s[i].closed && !w->s[i].wr_shut) {
                glass_shutdown(w->st[i], w->s[i].fd, GLASS_SHUT_WR);
                w->s[i].wr_shut = true;
            }
            break;
        case 4:
            read_side(w, i);
            close_side(w, i, false);
            break;
        case 5:
            close_side(w, i, (fz_u8(&in) & 7) == 0);
            break;
        case 6:
            w->drop_from_mask = fz_u8(&in) & 3;
            w->drop_flags = fz_u8(&in);
            w->drop_budget = fz_u8(&in) % 8;
            break;
        default:
            run(w, GLASS_MSEC((glass_time_t)fz_u8(&in) * 4u + 1u));
            break;
        }
        glass_simnet_flush(w->net);
        check(w);
    }
    /* The applications read what is there and close; the filter stops; time passes. */
    w->drop_budget = 0;
    for (int r = 0; r < 50; r++) {
        read_side(w, 0);
        read_side(w, 1);
        run(w, GLASS_MSEC(200));
        check(w);
    }
    for (int i = 0; i < 2; i++) {
        read_side(w, i);
        close_side(w, i, false);
    }
    for (int r = 0; r < 40; r++) {
        run(w, GLASS_SEC(30));
        read_side(w, 1); /* a connection accepted only now is closed too */
        close_side(w, 1, false);
        check(w);
    }
    FUZZ_CHECK(glass_stack_conns(w->st[0], NULL, 0) == 0, "client: %zu connections left",
               glass_stack_conns(w->st[0], NULL, 0));
    FUZZ_CHECK(glass_stack_conns(w->st[1], NULL, 0) == 1, "server: %zu connections left",
               glass_stack_conns(w->st[1], NULL, 0));
    glass_simnet_free(w->net);
    for (int i = 0; i < 2; i++) {
        glass_stack_free(w->st[i]);
        FUZZ_CHECK(w->mem[i].bytes == 0 && w->mem[i].blocks == 0, "side %d leaked %lld bytes", i,
                   w->mem[i].bytes);
    }
    free(w);
    return 0;
}
