/* glasstcp scenario tests — compact TIME-WAIT records (src/core/timewait.c): an orphaned
 * connection in TIME_WAIT gives its TCB back and goes on as a 60-byte record that does all that
 * TIME-WAIT does (RFC 9293 §3.10.7.4): it re-ACKs a retransmitted FIN and restarts 2MSL, holds
 * its port against bind() (Linux's SO_REUSEADDR rule), takes an acceptable RST (RFC 1337 off),
 * is listed by glass_stack_conns(), and ends TIME_WAIT -> CLOSED after 2MSL with the
 * connection's own id. A connection whose socket is still open keeps its TCB until close(). */
#include "fixture.h"

#include <string.h>

#define MS(x) GLASS_MSEC(x)
#define TWO_MSL GLASS_SEC(60)
#define N_TW 256

/* One connection from the client (optionally from `lport`, with SO_REUSEADDR), closed by the
 * client first, then by the server: the client ends in TIME_WAIT. Returns its conn id; *fin is
 * the server's FIN as the link carried it. */
static uint32_t client_time_wait(struct fx *fx, uint16_t lport, bool reuse, struct fx_pkt *fin)
{
    struct glass_stack *st = fx_st(fx, FX_CLIENT);
    int fd = fx_socket(fx, FX_CLIENT);
    if (reuse) {
        int one = 1;
        FX_ASSERT_RET(glass_setsockopt(st, fd, GLASS_SOL_SOCKET, GLASS_SO_REUSEADDR, &one,
                                       sizeof one),
                      0);
    }
    if (lport != 0) {
        struct glass_endpoint me = {FX_CLIENT_ADDR, lport};
        FX_ASSERT_RET(glass_bind(st, fd, &me), 0);
    }
    struct glass_endpoint ep = {FX_SERVER_ADDR, FX_SERVER_PORT};
    FX_ASSERT_RET(glass_connect(st, fd, &ep), -GLASS_EINPROGRESS);
    fx_run_for(fx, MS(30));
    int sfd = glass_accept(fx_st(fx, FX_SERVER), fx->lfd, NULL);
    FX_CHECK(fx, sfd >= 0, "accept: %d", sfd);
    struct glass_tcp_info ti;
    FX_ASSERT_RET(glass_tcp_info(st, fd, &ti), 0);
    size_t m = fx_mark(fx);
    fx_close(fx, FX_CLIENT, fd);
    fx_run_for(fx, MS(30));
    fx_close(fx, FX_SERVER, sfd);
    fx_run_for(fx, MS(30));
    const struct fx_pkt *f = fx_find_pkt(fx, m, FX_SERVER, GLASS_TH_FIN, 0);
    FX_CHECK(fx, f != NULL, "the server sent its FIN");
    if (fin != NULL)
        *fin = *f;
    return ti.conn_id;
}

static size_t tw_listed(struct glass_stack *st, struct glass_conn_info *out, size_t max)
{
    struct glass_conn_info all[N_TW + 8];
    size_t n = glass_stack_conns(st, all, N_TW + 8), k = 0;
    for (size_t i = 0; i < n && i < N_TW + 8; i++)
        if (all[i].state == GLASS_TCP_TIME_WAIT && k < max)
            out[k++] = all[i];
    return k;
}

/* 256 orphaned TIME_WAIT connections cost at most 64 bytes each (the records' slab and its
 * pointer array, nothing per connection besides), are listed with their 2MSL timer, and all
 * end after 2MSL with their own ids, giving every byte back. */
static void test_records_small_listed_and_expire(void **state)
{
    struct fx *fx = *state;
    fx->cfg[FX_CLIENT].max_conns = 2 * N_TW;
    fx->cfg[FX_SERVER].max_conns = 2 * N_TW;
    fx->lfd = fx_listen(fx, FX_SERVER, FX_SERVER_PORT, false);
    struct glass_stack *st = fx_st(fx, FX_CLIENT);
    uint64_t base = glass_stack_mem_used(st);
    static uint32_t ids[N_TW];
    for (int i = 0; i < N_TW; i++)
        ids[i] = client_time_wait(fx, 0, false, NULL);
    glass_time_t last_tw = fx_now(fx);
    FX_CHECK(fx, glass_stack_in_state(st, GLASS_TCP_TIME_WAIT) == N_TW, "%u in TIME_WAIT",
             glass_stack_in_state(st, GLASS_TCP_TIME_WAIT));
    uint64_t used = glass_stack_mem_used(st) - base;
    FX_CHECK(fx, used <= (uint64_t)N_TW * 64u, "%llu bytes for %d TIME_WAIT entries",
             (unsigned long long)used, N_TW);
    FX_CHECK_STACKS(fx);

    static struct glass_conn_info ci[N_TW];
    size_t k = tw_listed(st, ci, N_TW);
    FX_CHECK(fx, k == N_TW, "%zu TIME_WAIT listed", k);
    for (size_t i = 0; i < k; i++) {
        FX_CHECK(fx, ci[i].fd == -1 && ci[i].orphan && ci[i].timer_kind == GLASS_TT_TIMEWAIT,
                 "entry %zu: fd %d orphan %d timer %u", i, ci[i].fd, ci[i].orphan,
                 ci[i].timer_kind);
        FX_CHECK(fx, ci[i].timer_at > fx_now(fx) && ci[i].timer_at <= last_tw + TWO_MSL,
                 "entry %zu: 2MSL deadline", i);
        FX_CHECK(fx, ci[i].remote.addr == FX_SERVER_ADDR && ci[i].remote.port == FX_SERVER_PORT,
                 "entry %zu: 4-tuple", i);
    }

    fx_run_for(fx, TWO_MSL + MS(10));
    FX_CHECK(fx, glass_stack_in_state(st, GLASS_TCP_TIME_WAIT) == 0, "TIME_WAIT gone");
    FX_ASSERT_MIB(fx, FX_CLIENT, GLASS_MIB_TcpExtTW, N_TW);
    for (int i = 0; i < N_TW; i++)
        FX_CHECK(fx, fx_count_trans(fx, FX_CLIENT, ids[i], GLASS_TCP_TIME_WAIT, GLASS_TCP_CLOSED,
                                    GLASS_CAUSE_TIMEOUT_2MSL) == 1,
                 "conn %u: TIME_WAIT -> CLOSED timeout_2msl once", ids[i]);
    FX_CHECK(fx, glass_stack_mem_used(st) == base, "memory back: %llu vs %llu",
             (unsigned long long)glass_stack_mem_used(st), (unsigned long long)base);
    FX_CHECK_STACKS(fx);
}

/* A retransmitted FIN reaching a record is ACKed <SEQ=SND.NXT><ACK=RCV.NXT> with the window of
 * the connection's last ACK, and restarts 2MSL (RFC 9293 §3.10.7.4). */
static void test_record_reacks_fin_and_restarts(void **state)
{
    struct fx *fx = *state;
    fx->lfd = fx_listen(fx, FX_SERVER, FX_SERVER_PORT, false);
    struct fx_pkt fin;
    uint32_t id = client_time_wait(fx, 0, false, &fin);
    const struct fx_pkt *last_ack = fx_find_pkt(fx, 0, FX_CLIENT, GLASS_TH_ACK, GLASS_TH_FIN);
    for (size_t i = 0; (last_ack = fx_nth_pkt(fx, 0, FX_CLIENT, i)) != NULL; i++)
        if (fx_nth_pkt(fx, 0, FX_CLIENT, i + 1) == NULL)
            break;
    FX_CHECK(fx, last_ack != NULL && last_ack->flags == GLASS_TH_ACK &&
                     last_ack->ack == fin.seq + 1u,
             "the client ACKed the FIN");
    uint16_t win = last_ack->win;
    fx_run_for(fx, GLASS_SEC(30));
    size_t m = fx_mark(fx);
    glass_time_t again = fx_now(fx);
    fx_inject(fx, FX_CLIENT,
              &FX_SEG(.saddr = FX_SERVER_ADDR, .daddr = FX_CLIENT_ADDR, .sport = FX_SERVER_PORT,
                      .dport = fin.s.dst.port, .seq = fin.seq, .ack = fin.ack,
                      .flags = GLASS_TH_FIN | GLASS_TH_ACK));
    const struct fx_pkt *a = fx_nth_pkt(fx, m, FX_CLIENT, 0);
    FX_CHECK(fx, a != NULL && a->flags == GLASS_TH_ACK && a->seq == fin.ack &&
                     a->ack == fin.seq + 1u && a->win == win,
             "re-ACK from the record");
    FX_ASSERT_MIB(fx, FX_CLIENT, GLASS_MIB_TcpExtTCPRcvTimeWaitFin, 1);
    fx_run_until(fx, again + TWO_MSL - MS(1));
    FX_CHECK(fx, glass_stack_in_state(fx_st(fx, FX_CLIENT), GLASS_TCP_TIME_WAIT) == 1,
             "2MSL restarted by the FIN");
    fx_run_for(fx, MS(2));
    FX_EXPECT_TRANS_CONN(fx, FX_CLIENT, id, GLASS_TCP_TIME_WAIT, GLASS_TCP_CLOSED,
                         GLASS_CAUSE_TIMEOUT_2MSL);
    FX_CHECK_STACKS(fx);
}

/* The record keeps its port and the SO_REUSEADDR flag of its socket (Linux): bind() without
 * SO_REUSEADDR fails with EADDRINUSE, with it succeeds. */
static void test_record_holds_port_for_bind(void **state)
{
    struct fx *fx = *state;
    fx->lfd = fx_listen(fx, FX_SERVER, FX_SERVER_PORT, false);
    (void)client_time_wait(fx, 5000, true, NULL);
    struct glass_stack *st = fx_st(fx, FX_CLIENT);
    FX_CHECK(fx, glass_stack_in_state(st, GLASS_TCP_TIME_WAIT) == 1, "TIME_WAIT");
    struct glass_endpoint me = {FX_CLIENT_ADDR, 5000};
    int fd = fx_socket(fx, FX_CLIENT);
    FX_ASSERT_RET(glass_bind(st, fd, &me), -GLASS_EADDRINUSE);
    int one = 1;
    FX_ASSERT_RET(glass_setsockopt(st, fd, GLASS_SOL_SOCKET, GLASS_SO_REUSEADDR, &one, sizeof one),
                  0);
    FX_ASSERT_RET(glass_bind(st, fd, &me), 0);
    /* The same 4-tuple is still TIME_WAIT's (tw_reuse off): connect() is refused. */
    struct glass_endpoint ep = {FX_SERVER_ADDR, FX_SERVER_PORT};
    FX_ASSERT_RET(glass_connect(st, fd, &ep), -GLASS_EADDRNOTAVAIL);
    FX_CHECK_STACKS(fx);
}

/* With RFC 1337 protection off, an RST at RCV.NXT ends a record's TIME_WAIT at once; one
 * elsewhere is dropped. */
static void test_record_rst(void **state)
{
    struct fx *fx = *state;
    fx->cfg[FX_CLIENT].rfc1337 = false;
    fx->lfd = fx_listen(fx, FX_SERVER, FX_SERVER_PORT, false);
    struct fx_pkt fin;
    uint32_t id = client_time_wait(fx, 0, false, &fin);
    struct fx_seg rst = FX_SEG(.saddr = FX_SERVER_ADDR, .daddr = FX_CLIENT_ADDR,
                               .sport = FX_SERVER_PORT, .dport = fin.s.dst.port,
                               .seq = fin.seq + 1000u, .flags = GLASS_TH_RST);
    fx_inject(fx, FX_CLIENT, &rst);
    FX_CHECK(fx, glass_stack_in_state(fx_st(fx, FX_CLIENT), GLASS_TCP_TIME_WAIT) == 1,
             "an RST off RCV.NXT is dropped");
    rst.seq = fin.seq + 1u;
    fx_inject(fx, FX_CLIENT, &rst);
    FX_EXPECT_TRANS_CONN(fx, FX_CLIENT, id, GLASS_TCP_TIME_WAIT, GLASS_TCP_CLOSED,
                         GLASS_CAUSE_RCV_RST);
    FX_CHECK(fx, glass_stack_in_state(fx_st(fx, FX_CLIENT), GLASS_TCP_TIME_WAIT) == 0,
             "TIME_WAIT ended");
    FX_CHECK_STACKS(fx);
}

/* A TIME_WAIT whose socket is still open keeps its TCB (glass_tcp_info works on it); close()
 * turns it into a record and its memory shrinks. */
static void test_open_socket_keeps_tcb_until_close(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    (void)client_time_wait(fx, 0, false, NULL); /* a first record: its slab is there */
    struct glass_stack *st = fx_st(fx, FX_CLIENT);
    FX_ASSERT_RET(glass_shutdown(st, cfd, GLASS_SHUT_WR), 0);
    fx_run_for(fx, MS(30));
    fx_close(fx, FX_SERVER, sfd);
    fx_run_for(fx, MS(30));
    FX_ASSERT_STATE(fx, FX_CLIENT, cfd, GLASS_TCP_TIME_WAIT);
    uint64_t before = glass_stack_mem_used(st);
    fx_close(fx, FX_CLIENT, cfd);
    fx_run_for(fx, MS(1));
    uint64_t after = glass_stack_mem_used(st);
    FX_CHECK(fx, glass_stack_in_state(st, GLASS_TCP_TIME_WAIT) == 2, "still TIME_WAIT");
    FX_CHECK(fx, after < before, "close() in TIME_WAIT gives the TCB back (%llu -> %llu)",
             (unsigned long long)before, (unsigned long long)after);
    FX_CHECK_STACKS(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_records_small_listed_and_expire),
        FX_TEST(test_record_reacks_fin_and_restarts),
        FX_TEST(test_record_holds_port_for_bind),
        FX_TEST(test_record_rst),
        FX_TEST(test_open_socket_keeps_tcb_until_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
