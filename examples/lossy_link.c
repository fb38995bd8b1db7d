/* A transfer over a lossy simulated link, from C.
 *
 * Two stacks in one process, joined by glasstcp's simulated link (glass/sim.h): 20 ms one-way
 * delay, 5% of packets lost in each direction, a 10 Mbit/s bottleneck with a 50-packet queue.
 * Time is virtual, so the run takes milliseconds of CPU whatever the delay, and the same seed
 * gives the same packets byte for byte. The client sends 512 KiB and closes; the server checks
 * every byte and closes too. Then the program prints what loss recovery did.
 *
 *   usage: lossy_link [LOSS [SEED]]      (default 0.05 1)
 * Exit status: 0 if every byte arrived once and in order, 1 otherwise, 2 on a usage error. */
#include <glass/glass.h>

#include <stdio.h>
#include <stdlib.h>

#define TOTAL (512u * 1024u)

struct app {
    int cfd, sfd, listener;
    uint32_t sent, received;
    bool corrupt, server_eof;
};

static uint8_t pattern(uint32_t i)
{
    return (uint8_t)(i * 31u + (i >> 8));
}

/* Socket events of either stack, called by the simulator as they happen. */
static void on_event(void *ctx, struct glass_simnet *net, int node, const struct glass_event *ev)
{
    struct app *a = ctx;
    struct glass_stack *st = glass_simnet_stack(net, node);
    uint8_t buf[8192];
    if (node == 0) { /* client: keep the send buffer full, then close */
        while (a->sent < TOTAL) {
            uint32_t len = TOTAL - a->sent < sizeof buf ? TOTAL - a->sent : (uint32_t)sizeof buf;
            for (uint32_t i = 0; i < len; i++)
                buf[i] = pattern(a->sent + i);
            long r = glass_send(st, a->cfd, buf, len, 0);
            if (r <= 0)
                return;
            a->sent += (uint32_t)r;
            if (a->sent == TOTAL)
                glass_close(st, a->cfd); /* FIN once everything queued is sent */
        }
        return;
    }
    if (ev->fd == a->listener && a->sfd < 0)
        a->sfd = glass_accept(st, a->listener, NULL);
    long r;
    while ((r = glass_recv(st, a->sfd, buf, sizeof buf, 0)) > 0)
        for (long i = 0; i < r; i++)
            a->corrupt |= buf[i] != pattern(a->received++);
    if (r == 0 && !a->server_eof) {
        a->server_eof = true;
        glass_close(st, a->sfd);
    }
}

int main(int argc, char **argv)
{
    struct glass_simnet_config nc;
    glass_simnet_config_default(&nc);
    nc.loss = argc > 1 ? atof(argv[1]) : 0.05;
    nc.seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    nc.delay = GLASS_MSEC(20);
    nc.rate_bps = 10 * 1000 * 1000;
    nc.queue_pkts = 50;
    struct glass_simnet *net = glass_simnet_new(&nc);
    if (net == NULL || nc.loss >= 1.0) {
        fprintf(stderr, "lossy_link: loss must be in [0, 1)\n");
        return 2;
    }
    struct glass_config cfg;
    glass_config_default(&cfg);
    cfg.seed = nc.seed;
    struct glass_stack *client = glass_stack_new(&cfg), *server = glass_stack_new(&cfg);
    struct glass_endpoint srv = {GLASS_IP4(192, 0, 2, 2), 5001};
    glass_simnet_attach(net, client, GLASS_IP4(192, 0, 2, 1)); /* node 0 */
    glass_simnet_attach(net, server, srv.addr);                /* node 1 */
    struct app a = {.sfd = -1};
    glass_simnet_set_app(net, 0, on_event, &a);
    glass_simnet_set_app(net, 1, on_event, &a);

    a.listener = glass_socket(server);
    glass_bind(server, a.listener, &srv);
    glass_listen(server, a.listener, 8);
    a.cfd = glass_socket(client);
    glass_connect(client, a.cfd, &srv);  /* -GLASS_EINPROGRESS; CONNECTED comes as an event */
    glass_simnet_flush(net);             /* socket calls made outside a callback: send now */
    glass_simnet_run_for(net, GLASS_SEC(600));

    struct glass_simnet_stats ls;
    glass_simnet_stats(net, &ls);
    bool ok = a.received == TOTAL && !a.corrupt && a.server_eof;
    printf("%s: %u of %u bytes in order; link: %llu packets sent, %llu lost, %llu queue drops\n",
           ok ? "ok" : "FAILED", a.received, TOTAL, (unsigned long long)ls.sent,
           (unsigned long long)ls.lost, (unsigned long long)ls.queue_drops);
    static const int mibs[] = {GLASS_MIB_TcpOutSegs,         GLASS_MIB_TcpRetransSegs,
                               GLASS_MIB_TcpExtTCPFastRetrans, GLASS_MIB_TcpExtTCPSackRecovery,
                               GLASS_MIB_TcpExtTCPLossProbes,  GLASS_MIB_TcpExtTCPTimeouts};
    for (size_t i = 0; i < sizeof mibs / sizeof mibs[0]; i++)
        printf("  client %-24s %llu\n", glass_mib_name(mibs[i]),
               (unsigned long long)glass_stack_mib(client, mibs[i]));
    printf("  trace hash %016llx (same seed, same hash)\n",
           (unsigned long long)glass_simnet_trace_hash(net));
    glass_simnet_free(net);
    glass_stack_free(client);
    glass_stack_free(server);
    return ok ? 0 : 1;
}
