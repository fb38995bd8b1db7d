/* glasstcp scenario tests — a quiet connection gives its buffers back (src/core/reclaim.c):
 * once both rings are empty and nothing has been sent or received for cfg.ring_idle (1 s), the
 * send and receive rings (and RACK's block, nothing being in flight) are freed, so an idle
 * connection that carried data costs what one that never did costs; the next byte allocates
 * them again and the stream goes on intact. Buffers holding unread data are never touched, a
 * connection that talks more often than ring_idle keeps them, and ring_idle 0 turns it off. */
#include "core/core.h" /* GLASS_RING_FIRST */
#include "fixture.h"

#include <string.h>

#define MS(x) GLASS_MSEC(x)

/* n bytes from side `from` (fd) to the other side (fd `to_fd`), read there and checked. */
static void exchange(struct fx *fx, int from, int fd, int to_fd, size_t n, uint8_t fill)
{
    uint8_t out[4000], in[4000];
    FX_ASSERT_RET(n <= sizeof out, true);
    memset(out, fill, n);
    fx_send_all(fx, from, fd, out, n);
    fx_run_for(fx, MS(50));
    long got = glass_recv(fx_st(fx, 1 - from), to_fd, in, sizeof in, 0);
    FX_CHECK(fx, got == (long)n && memcmp(in, out, n) == 0, "received %ld of %zu intact", got, n);
}

static uint64_t mem(struct fx *fx, int side)
{
    return glass_stack_mem_used(fx_st(fx, side));
}

/* Data both ways, then quiet: after ring_idle both ends are back to what the connection held
 * before its first byte, each counts one reclaim, and the stream still works both ways. */
static void test_quiet_connection_gives_buffers_back(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    fx_run_for(fx, MS(300)); /* delayed ACKs and the like are over */
    uint64_t base_c = mem(fx, FX_CLIENT), base_s = mem(fx, FX_SERVER);
    exchange(fx, FX_CLIENT, cfd, sfd, 1000, 'a');
    exchange(fx, FX_SERVER, sfd, cfd, 3000, 'b');
    FX_CHECK(fx, mem(fx, FX_CLIENT) > base_c + 2u * GLASS_RING_FIRST, "client holds its buffers");
    FX_CHECK(fx, mem(fx, FX_SERVER) > base_s + 2u * GLASS_RING_FIRST, "server holds its buffers");
    FX_CHECK_STACKS(fx);
    fx_run_for(fx, GLASS_SEC(1) + MS(300));
    FX_CHECK(fx, mem(fx, FX_CLIENT) == base_c, "client back to %llu bytes: %llu",
             (unsigned long long)base_c, (unsigned long long)mem(fx, FX_CLIENT));
    FX_CHECK(fx, mem(fx, FX_SERVER) == base_s, "server back to %llu bytes: %llu",
             (unsigned long long)base_s, (unsigned long long)mem(fx, FX_SERVER));
    FX_ASSERT_MIB(fx, FX_CLIENT, GLASS_MIB_GlassBufReclaimed, 1);
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_GlassBufReclaimed, 1);
    FX_CHECK_STACKS(fx);
    exchange(fx, FX_CLIENT, cfd, sfd, 2000, 'c');
    exchange(fx, FX_SERVER, sfd, cfd, 10, 'd');
    /* Sized before first use: after a reclaim the buffers are still "used". */
    int v = 4096;
    FX_CHECK(fx, glass_setsockopt(fx_st(fx, FX_CLIENT), cfd, GLASS_SOL_SOCKET, GLASS_SO_RCVBUF,
                                  &v, sizeof v) == -GLASS_EINVAL,
             "SO_RCVBUF after data");
    FX_CHECK_STACKS(fx);
}

/* A request every 600 ms (less than ring_idle apart) keeps the buffers. */
static void test_busy_connection_keeps_them(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    for (int i = 0; i < 6; i++) {
        exchange(fx, FX_CLIENT, cfd, sfd, 100, (uint8_t)('0' + i));
        exchange(fx, FX_SERVER, sfd, cfd, 100, (uint8_t)('A' + i));
        fx_run_for(fx, MS(500));
    }
    FX_ASSERT_MIB(fx, FX_CLIENT, GLASS_MIB_GlassBufReclaimed, 0);
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_GlassBufReclaimed, 0);
    fx_run_for(fx, GLASS_SEC(2));
    FX_ASSERT_MIB(fx, FX_CLIENT, GLASS_MIB_GlassBufReclaimed, 1);
    FX_CHECK_STACKS(fx);
}

/* Unread bytes stay where they are, however long; once read, the buffers go after ring_idle. */
static void test_unread_data_is_kept(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    uint8_t out[1500], in[1500];
    memset(out, 'u', sizeof out);
    fx_send_all(fx, FX_CLIENT, cfd, out, sizeof out);
    fx_run_for(fx, GLASS_SEC(5));
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_GlassBufReclaimed, 0);
    FX_ASSERT_MIB(fx, FX_CLIENT, GLASS_MIB_GlassBufReclaimed, 1); /* all acknowledged */
    long got = glass_recv(fx_st(fx, FX_SERVER), sfd, in, sizeof in, 0);
    FX_CHECK(fx, got == (long)sizeof out && memcmp(in, out, sizeof out) == 0, "read %ld", got);
    fx_run_for(fx, GLASS_SEC(1) + MS(100));
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_GlassBufReclaimed, 1);
    FX_CHECK_STACKS(fx);
}

/* ring_idle 0: buffers stay until close. */
static void test_off(void **state)
{
    struct fx *fx = *state;
    fx->cfg[FX_CLIENT].ring_idle = 0;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    exchange(fx, FX_CLIENT, cfd, sfd, 1000, 'x');
    fx_run_for(fx, GLASS_SEC(3));
    FX_ASSERT_MIB(fx, FX_CLIENT, GLASS_MIB_GlassBufReclaimed, 0);
    FX_ASSERT_MIB(fx, FX_SERVER, GLASS_MIB_GlassBufReclaimed, 1);
    FX_CHECK(fx, glass_stack_next_deadline(fx_st(fx, FX_CLIENT)) == GLASS_TIME_NEVER,
             "nothing pending on the client");
    FX_CHECK_STACKS(fx);
}

/* A connection closed while noted leaves no trace in the FIFO (its entry is cleared). */
static void test_closed_while_noted(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    exchange(fx, FX_CLIENT, cfd, sfd, 500, 'z');
    fx_set_linger(fx, FX_CLIENT, cfd, 1, 0);
    fx_close(fx, FX_CLIENT, cfd); /* abort: the TCB goes at once */
    fx_run_for(fx, GLASS_SEC(2));
    FX_ASSERT_MIB(fx, FX_CLIENT, GLASS_MIB_GlassBufReclaimed, 0);
    FX_CHECK_STACKS(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_quiet_connection_gives_buffers_back),
        FX_TEST(test_busy_connection_keeps_them),
        FX_TEST(test_unread_data_is_kept),
        FX_TEST(test_off),
        FX_TEST(test_closed_while_noted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
