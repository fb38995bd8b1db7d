/* glasstcp tests — glass ss --diagnose on faults built for real: two stacks on the simulated
 * link, applications that misbehave (never close, never read, never accept), paths that drop
 * packets, ports nobody listens on. Each situation's end state is saved as a glass ss snapshot
 * (the control protocol's answers, from glass_ctl_stack_answer()), and the glass CLI reads it
 * back with `glass ss --load FILE --diagnose --json`: the expected diagnosis must be there, and
 * a healthy pair of stacks must get none. A few filters, -i and --history are checked on the
 * same snapshots. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <glass/glass.h>
#include <glass/loop.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef GLASS_CLI
#error "GLASS_CLI (the glass binary) must be defined"
#endif

#define C_ADDR GLASS_IP4(192, 0, 2, 1)
#define S_ADDR GLASS_IP4(192, 0, 2, 2)
#define PORT 80

struct lab {
    struct glass_simnet *net;
    struct glass_stack *st[2]; /* 0 client, 1 server */
    bool drop[2];              /* drop everything this side sends */
    glass_time_t t0;
    char dir[64];
};

static enum glass_sim_verdict lab_filter(void *ctx, const struct glass_sim_packet *p)
{
    const struct lab *l = ctx;
    return l->drop[p->from] ? GLASS_SIM_DROP : GLASS_SIM_PASS;
}

static void lab_new(struct lab *l)
{
    memset(l, 0, sizeof *l);
    struct glass_simnet_config nc;
    glass_simnet_config_default(&nc);
    l->net = glass_simnet_new(&nc);
    assert_non_null(l->net);
    for (int i = 0; i < 2; i++) {
        struct glass_config c;
        glass_config_default(&c);
        c.seed = 7 + (uint64_t)i;
        l->st[i] = glass_stack_new(&c);
        assert_non_null(l->st[i]);
        assert_int_equal(glass_simnet_attach(l->net, l->st[i], i == 0 ? C_ADDR : S_ADDR), i);
    }
    glass_simnet_set_filter(l->net, lab_filter, l);
    l->t0 = glass_simnet_now(l->net);
    snprintf(l->dir, sizeof l->dir, "/tmp/glass-ss-diag-XXXXXX");
    assert_non_null(mkdtemp(l->dir));
}

static void lab_free(struct lab *l)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "%s %s", getenv("KEEP") ? "echo" : "rm -rf", l->dir);
    assert_int_equal(system(cmd), 0);
    glass_simnet_free(l->net);
    glass_stack_free(l->st[0]);
    glass_stack_free(l->st[1]);
}

static void run_ms(struct lab *l, unsigned ms)
{
    glass_simnet_flush(l->net);
    glass_simnet_run_for(l->net, GLASS_MSEC(ms));
}

static int listen_on(struct lab *l, uint16_t port, int backlog)
{
    struct glass_stack *s = l->st[1];
    int fd = glass_socket(s), one = 1;
    assert_true(fd >= 0);
    assert_int_equal(glass_setsockopt(s, fd, GLASS_SOL_SOCKET, GLASS_SO_REUSEADDR, &one, sizeof one), 0);
    assert_int_equal(glass_bind(s, fd, &(struct glass_endpoint){0, port}), 0);
    assert_int_equal(glass_listen(s, fd, backlog), 0);
    return fd;
}

static int connect_to(struct lab *l, uint16_t port)
{
    int fd = glass_socket(l->st[0]);
    assert_true(fd >= 0);
    int rc = glass_connect(l->st[0], fd, &(struct glass_endpoint){S_ADDR, port});
    assert_true(rc == -GLASS_EINPROGRESS || rc == 0);
    return fd;
}

/* Every queued connection of listener lfd, into fds[] (returns how many). */
static size_t accept_all(struct lab *l, int lfd, int *fds, size_t max)
{
    size_t n = 0;
    int fd;
    while (n < max && (fd = glass_accept(l->st[1], lfd, NULL)) >= 0)
        fds[n++] = fd;
    return n;
}

/* A listener, a client connected to it and accepted: *cfd and *sfd. */
static void open_pair(struct lab *l, int *cfd, int *sfd)
{
    int lfd = listen_on(l, PORT, 8);
    *cfd = connect_to(l, PORT);
    run_ms(l, 100);
    assert_int_equal(accept_all(l, lfd, sfd, 1), 1);
}

/* One block of a snapshot: "> CMD", the answer, ".". */
static void put_block(FILE *f, struct glass_stack *st, glass_time_t t0, const char *cmd,
                      const char *args)
{
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(glass_ctl_stack_answer(st, t0, cmd, args, &buf, &len), 0);
    fprintf(f, "> %s%s%s\n%s.\n", cmd, args[0] ? " " : "", args, buf);
    free(buf);
}

/* Save side's stack as a glass ss snapshot; returns its path (static buffer per side). */
static const char *snapshot(struct lab *l, int side)
{
    static char path[2][96];
    snprintf(path[side], sizeof path[side], "%s/%s.snap", l->dir, side ? "server" : "client");
    FILE *f = fopen(path[side], "w");
    assert_non_null(f);
    fprintf(f, "# glass ss snapshot (test_ss_diagnose)\n");
    struct glass_stack *st = l->st[side];
    put_block(f, st, l->t0, "config", "");
    put_block(f, st, l->t0, "conns", "");
    put_block(f, st, l->t0, "mib", "");
    put_block(f, st, l->t0, "transitions", "");
    struct glass_conn_info ci[256];
    size_t n = glass_stack_conns(st, ci, 256);
    for (size_t i = 0; i < n && i < 256; i++) {
        char id[16];
        snprintf(id, sizeof id, "%" PRIu32, ci[i].conn_id);
        put_block(f, st, l->t0, "history", id);
    }
    assert_int_equal(fclose(f), 0);
    return path[side];
}

/* Run the glass CLI; its stdout (malloc'd) and exit status. */
static char *glass_out(const char *args, int *status)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", GLASS_CLI, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    size_t r;
    while ((r = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += r;
        if (len + 1 == cap) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
    }
    out[len] = '\0';
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

/* The diagnoses of a snapshot must include want (or be empty when want is NULL). */
static void expect_diag(const char *snap, const char *want)
{
    char args[256];
    snprintf(args, sizeof args, "ss --load %s --diagnose --json", snap);
    int status;
    char *out = glass_out(args, &status);
    assert_int_equal(status, 0);
    if (want == NULL) {
        if (out[0] != '\0')
            fail_msg("a healthy stack got diagnoses:\n%s", out);
    } else {
        char pat[96];
        snprintf(pat, sizeof pat, "\"diagnosis\":\"%s\"", want);
        if (strstr(out, pat) == NULL)
            fail_msg("no %s in:\n%s", want, out);
        snprintf(pat, sizeof pat, "\"doc\":\"docs/troubleshooting.md#%s\"", want);
        assert_non_null(strstr(out, pat));
    }
    free(out);
}

static void expect_out(const char *args, int want_status, const char *want)
{
    int status;
    char *out = glass_out(args, &status);
    if (status != want_status || strstr(out, want) == NULL)
        fail_msg("glass %s: status %d, wanted %d and \"%s\" in:\n%s", args, status, want_status,
                 want, out);
    free(out);
}

/* ---- the faults -------------------------------------------------------------------------- */

/* The server's application never calls close(): CLOSE_WAIT on the server, FIN_WAIT_2 on the
 * client. */
static void test_close_wait_and_fin_wait_2(void **state)
{
    (void)state;
    struct lab l;
    lab_new(&l);
    int cfd, sfd;
    open_pair(&l, &cfd, &sfd);
    assert_int_equal(glass_shutdown(l.st[0], cfd, GLASS_SHUT_WR), 0);
    run_ms(&l, 5000);
    const char *srv = snapshot(&l, 1), *cli = snapshot(&l, 0);
    expect_diag(srv, "close-wait-held");
    expect_diag(cli, "fin-wait-2-no-fin");
    /* The same snapshots through filters, -i and --history. */
    char a[256];
    snprintf(a, sizeof a, "ss --load %s state close-wait", srv);
    expect_out(a, 0, "CLOSE-WAIT");
    snprintf(a, sizeof a, "ss --load %s state established", srv);
    int st;
    char *out = glass_out(a, &st);
    assert_int_equal(st, 0);
    assert_null(strstr(out, "CLOSE-WAIT"));
    free(out);
    snprintf(a, sizeof a, "ss --load %s -i sport = :80 and dst 192.0.2.1", srv);
    expect_out(a, 0, "rtt:");
    snprintf(a, sizeof a, "ss --load %s --history dport = :80", cli);
    expect_out(a, 0, "FIN_WAIT1   -> FIN_WAIT2");
    snprintf(a, sizeof a, "ss --load %s --history", srv);
    expect_out(a, 0, "rcv_fin");
    snprintf(a, sizeof a, "ss --load %s -e -l", srv);
    expect_out(a, 0, "LISTEN");
    snprintf(a, sizeof a, "ss --load %s sport = :80 and", srv);
    expect_out(a, 2, "glass ss: bad filter: the filter ends with 'and'");
    snprintf(a, sizeof a, "ss --load %s state nosuch", srv);
    expect_out(a, 2, "glass ss: bad filter: unknown state 'nosuch'");
    snprintf(a, sizeof a, "ss --load %s dst 300.1.1.1", srv);
    expect_out(a, 2, "glass ss: bad filter: bad address '300.1.1.1'");
    lab_free(&l);
}

/* Nothing answers the SYN (the server's packets are lost): SYN_SENT retransmitting on the
 * client; on the server, SYN_RCVD children pile up. */
static void test_syn_sent_and_syn_recv_pile(void **state)
{
    (void)state;
    struct lab l;
    lab_new(&l);
    listen_on(&l, PORT, 64);
    l.drop[1] = true;
    for (int i = 0; i < 6; i++)
        connect_to(&l, PORT);
    run_ms(&l, 4000);
    expect_diag(snapshot(&l, 0), "syn-sent-retrying");
    expect_diag(snapshot(&l, 1), "syn-recv-pile");
    lab_free(&l);
}

/* The server application never calls accept(): the accept queue fills. */
static void test_accept_queue_full(void **state)
{
    (void)state;
    struct lab l;
    lab_new(&l);
    listen_on(&l, PORT, 2);
    for (int i = 0; i < 6; i++)
        connect_to(&l, PORT);
    run_ms(&l, 2000);
    expect_diag(snapshot(&l, 1), "accept-queue-full");
    lab_free(&l);
}

/* The server closes first, 60 times: its TIME_WAITs pile up on the listening port. */
static void test_time_wait_pileup(void **state)
{
    (void)state;
    struct lab l;
    lab_new(&l);
    int lfd = listen_on(&l, PORT, 128);
    int cfd[60], sfd[60];
    for (int i = 0; i < 60; i++)
        cfd[i] = connect_to(&l, PORT);
    run_ms(&l, 200);
    assert_int_equal(accept_all(&l, lfd, sfd, 60), 60);
    for (int i = 0; i < 60; i++)
        assert_int_equal(glass_close(l.st[1], sfd[i]), 0);
    run_ms(&l, 200);
    for (int i = 0; i < 60; i++)
        assert_int_equal(glass_close(l.st[0], cfd[i]), 0);
    run_ms(&l, 1000);
    assert_int_equal(glass_stack_in_state(l.st[1], GLASS_TCP_TIME_WAIT), 60);
    expect_diag(snapshot(&l, 1), "time-wait-pileup");
    lab_free(&l);
}

/* The server application never reads: its window closes; the client probes. */
static void test_zero_window(void **state)
{
    (void)state;
    struct lab l;
    lab_new(&l);
    int cfd, sfd;
    open_pair(&l, &cfd, &sfd);
    static uint8_t data[64 * 1024];
    for (int i = 0; i < 8; i++) {
        glass_send(l.st[0], cfd, data, sizeof data, 0);
        run_ms(&l, 200);
    }
    run_ms(&l, 3000);
    expect_diag(snapshot(&l, 0), "zero-window-stall");
    expect_diag(snapshot(&l, 1), "zero-window-stall");
    lab_free(&l);
}

/* The path goes dark after the handshake: the client's data times out again and again. */
static void test_repeated_rto(void **state)
{
    (void)state;
    struct lab l;
    lab_new(&l);
    int cfd, sfd;
    open_pair(&l, &cfd, &sfd);
    l.drop[1] = true;
    assert_int_equal(glass_send(l.st[0], cfd, "hello", 5, 0), 5);
    run_ms(&l, 5000);
    expect_diag(snapshot(&l, 0), "repeated-rto");
    lab_free(&l);
}

/* Connections to a port nobody listens on: a reset for every one. */
static void test_rst_storm(void **state)
{
    (void)state;
    struct lab l;
    lab_new(&l);
    listen_on(&l, PORT, 8);
    for (int i = 0; i < 12; i++)
        connect_to(&l, PORT + 1);
    run_ms(&l, 500);
    expect_diag(snapshot(&l, 0), "rst-storm");
    lab_free(&l);
}

/* A healthy pair: connections open and idle, one closed by the client (its TIME_WAIT), data
 * both ways: no diagnosis on either side. */
static void test_healthy(void **state)
{
    (void)state;
    struct lab l;
    lab_new(&l);
    int lfd = listen_on(&l, PORT, 8);
    int cfd[3], sfd[3];
    for (int i = 0; i < 3; i++)
        cfd[i] = connect_to(&l, PORT);
    run_ms(&l, 100);
    assert_int_equal(accept_all(&l, lfd, sfd, 3), 3);
    char buf[64];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(glass_send(l.st[0], cfd[i], "ping", 4, 0), 4);
        run_ms(&l, 50);
        assert_int_equal(glass_recv(l.st[1], sfd[i], buf, sizeof buf, 0), 4);
        assert_int_equal(glass_send(l.st[1], sfd[i], "pong", 4, 0), 4);
        run_ms(&l, 50);
        assert_int_equal(glass_recv(l.st[0], cfd[i], buf, sizeof buf, 0), 4);
    }
    assert_int_equal(glass_close(l.st[0], cfd[0]), 0);
    run_ms(&l, 50);
    assert_int_equal(glass_recv(l.st[1], sfd[0], buf, sizeof buf, 0), 0);
    assert_int_equal(glass_close(l.st[1], sfd[0]), 0);
    run_ms(&l, 3000);
    assert_int_equal(glass_stack_in_state(l.st[0], GLASS_TCP_TIME_WAIT), 1);
    expect_diag(snapshot(&l, 0), NULL);
    expect_diag(snapshot(&l, 1), NULL);
    char a[256];
    snprintf(a, sizeof a, "ss --load %s --diagnose", snapshot(&l, 1));
    expect_out(a, 0, "no problems found in 3 connections (profile linux)");
    lab_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_wait_and_fin_wait_2),
        cmocka_unit_test(test_syn_sent_and_syn_recv_pile),
        cmocka_unit_test(test_accept_queue_full),
        cmocka_unit_test(test_time_wait_pileup),
        cmocka_unit_test(test_zero_window),
        cmocka_unit_test(test_repeated_rto),
        cmocka_unit_test(test_rst_storm),
        cmocka_unit_test(test_healthy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
