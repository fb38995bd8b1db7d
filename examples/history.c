/* Reading a connection's transition history from C.
 *
 * Two stacks on the simulated link open a connection, exchange a line each way, and close
 * (the client first). Two ways to see the state machine:
 *   - live: an observer (glass_stack_set_observer) is called inside every state change;
 *   - afterwards: glass_conn_history() returns a connection's recorded transitions, each with
 *     its time, cause and the segment that caused it, as long as the connection exists (here
 *     the client's is still in TIME_WAIT when we ask).
 * Exit status: 0 if the client's history is the textbook active close, 1 otherwise. */
#include <glass/glass.h>

#include <stdio.h>
#include <string.h>

static void observe(void *ctx, const struct glass_transition *t)
{
    printf("  [%s] %7.3f ms  conn %u: %s -> %s (%s)\n", (const char *)ctx,
           (double)t->at / 1e6, t->conn, glass_tcp_state_name(t->from),
           glass_tcp_state_name(t->to), glass_tcp_cause_name(t->cause));
}

int main(void)
{
    struct glass_simnet *net = glass_simnet_new(NULL);
    struct glass_stack *client = glass_stack_new(NULL), *server = glass_stack_new(NULL);
    struct glass_endpoint srv = {GLASS_IP4(192, 0, 2, 2), 80};
    glass_simnet_attach(net, client, GLASS_IP4(192, 0, 2, 1));
    glass_simnet_attach(net, server, srv.addr);
    glass_stack_set_observer(client, observe, "client");
    glass_stack_set_observer(server, observe, "server");

    printf("live, from the observers:\n");
    int lfd = glass_socket(server);
    glass_bind(server, lfd, &srv);
    glass_listen(server, lfd, 8);
    int cfd = glass_socket(client);
    glass_connect(client, cfd, &srv);
    glass_simnet_run_for(net, GLASS_MSEC(100));          /* the handshake: 1.5 round trips */
    int sfd = glass_accept(server, lfd, NULL);
    long conn = glass_sock_conn_id(client, cfd);         /* the id stays valid after close() */

    char buf[64];
    glass_send(client, cfd, "hello\n", 6, 0);
    glass_simnet_run_for(net, GLASS_MSEC(100));
    long n = glass_recv(server, sfd, buf, sizeof buf, 0); /* the server echoes the line */
    glass_send(server, sfd, buf, n > 0 ? (size_t)n : 0, 0);
    glass_simnet_run_for(net, GLASS_MSEC(100));
    glass_recv(client, cfd, buf, sizeof buf, 0);        /* read it: close() sends FIN, not RST */
    glass_close(client, cfd);                           /* active close: FIN_WAIT_1 ... */
    glass_simnet_run_for(net, GLASS_MSEC(100));
    glass_recv(server, sfd, buf, sizeof buf, 0);        /* 0: the client's FIN (CLOSE_WAIT) */
    glass_close(server, sfd);                           /* LAST_ACK; the client: TIME_WAIT */
    glass_simnet_run_for(net, GLASS_MSEC(100));

    struct glass_transition h[16];
    long k = glass_conn_history(client, (uint32_t)conn, h, 16);
    if (k < 0) {
        fprintf(stderr, "history: %s\n", glass_strerror((int)k));
        return 1;
    }
    printf("\nafterwards, glass_conn_history(client, %ld):\n", conn);
    char path[256] = "";
    for (long i = 0; i < k; i++) {
        char flags[9] = "";
        if (h[i].has_seg)
            glass_tcp_flags_str(h[i].seg_flags, flags);
        printf("  %7.3f ms  %-11s -> %-11s %-16s %s%s\n", (double)h[i].at / 1e6,
               glass_tcp_state_name(h[i].from), glass_tcp_state_name(h[i].to),
               glass_tcp_cause_name(h[i].cause), h[i].has_seg ? "segment " : "(no segment)",
               flags);
        snprintf(path + strlen(path), sizeof path - strlen(path), "%s%s",
                 i ? " " : "", glass_tcp_state_name(h[i].to));
    }
    printf("path: %s\n", path);
    glass_simnet_free(net);
    glass_stack_free(client);
    glass_stack_free(server);
    return strcmp(path, "SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT") == 0 ? 0 : 1;
}
