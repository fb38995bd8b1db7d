/* glasstcp scenario tests — ring storage grows with the data held (src/core/tcp_out.c
 * glass_ring_reserve): a connection's first bytes get GLASS_RING_FIRST bytes of storage, not
 * SO_SNDBUF/SO_RCVBUF; more data held doubles it, up to the buffer's cap and never beyond;
 * growing keeps every byte, the readable ones and those stored out of order beyond them, and
 * keeps a byte's place at its stream offset modulo the storage size (so that the sender's and
 * the receiver's copies stay co-aligned); storage that cannot grow within the memory budget
 * drops the segment, counted, and the data comes later intact. */
#include "core/core.h" /* the TCB behind a handle */
#include "fixture.h"

#include <string.h>

#define MS(x) GLASS_MSEC(x)

static struct glass_tcb *tcb_of(struct fx *fx, int side, int fd)
{
    return fx_st(fx, side)->socks[fd - GLASS_FD_BASE].tcb;
}

/* Each byte at its stream offset modulo the storage's size. */
static void check_places(struct fx *fx, const struct glass_tcb *c, const struct glass_tcb *s)
{
    if (c->sb.size > 0)
        FX_CHECK(fx, c->sb.head == glass_sb_stream(c) % c->sb.size,
                 "send ring head %u at stream %llu mod %u", c->sb.head,
                 (unsigned long long)glass_sb_stream(c), c->sb.size);
    if (s->rb.size > 0)
        FX_CHECK(fx, s->rb.head == glass_rb_stream(s) % s->rb.size,
                 "receive ring head %u at stream %llu mod %u", s->rb.head,
                 (unsigned long long)glass_rb_stream(s), s->rb.size);
}

static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 131u + (i >> 9));
}

/* A few bytes take a page each way; 200 KiB through a 128 KiB buffer, read in pieces, grow both
 * rings step by step to their cap, no further, and arrive intact. */
static void test_grows_to_cap(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    struct glass_tcb *c = tcb_of(fx, FX_CLIENT, cfd), *s = tcb_of(fx, FX_SERVER, sfd);
    FX_CHECK(fx, c->sb.buf == NULL && s->rb.buf == NULL, "no storage before data");
    fx_send_all(fx, FX_CLIENT, cfd, "hello", 5);
    fx_run_for(fx, MS(50));
    FX_CHECK(fx, c->sb.size == GLASS_RING_FIRST && s->rb.size == GLASS_RING_FIRST,
             "a page each (send %u, receive %u)", c->sb.size, s->rb.size);
    char five[5];
    FX_CHECK(fx, glass_recv(fx_st(fx, FX_SERVER), sfd, five, 5, 0) == 5 && memcmp(five, "hello", 5) == 0,
             "hello");

    static uint8_t out[200000], in[sizeof out];
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = pattern(i);
    size_t sent = 0, got = 0;
    uint32_t last_size = s->rb.size;
    for (int round = 0; round < 2000 && got < sizeof in; round++) {
        if (sent < sizeof out) {
            long n = glass_send(fx_st(fx, FX_CLIENT), cfd, out + sent, sizeof out - sent, 0);
            if (n > 0)
                sent += (size_t)n;
        }
        fx_run_for(fx, MS(5));
        check_places(fx, c, s);
        FX_CHECK(fx, s->rb.size >= last_size, "the receive ring never shrinks while in use");
        last_size = s->rb.size;
        if (round % 3 == 0)
            continue; /* let the receiver's buffer fill: the ring must grow to hold it */
        long n = glass_recv(fx_st(fx, FX_SERVER), sfd, in + got, sizeof in - got, 0);
        if (n > 0)
            got += (size_t)n;
    }
    FX_CHECK(fx, got == sizeof in && memcmp(in, out, sizeof in) == 0, "%zu of %zu bytes intact",
             got, sizeof in);
    FX_CHECK(fx, c->sb.size == c->sb.cap || c->sb.size == 0, "send ring grew to its cap (%u of %u)",
             c->sb.size, c->sb.cap);
    FX_CHECK(fx, s->rb.size <= s->rb.cap, "receive ring within its cap (%u of %u)", s->rb.size,
             s->rb.cap);
    FX_CHECK(fx, s->rb.size > GLASS_RING_FIRST, "receive ring grew (%u)", s->rb.size);
    FX_CHECK_STACKS(fx);
}

/* Out-of-order data beyond the readable bytes survives a growth: the first segment of a burst
 * is lost, the rest arrive and are stored beyond the hole (growing the ring), then its
 * retransmission fills the hole and the whole burst reads back intact. */
static void test_out_of_order_survives_growth(void **state)
{
    struct fx *fx = *state;
    int cfd, sfd;
    fx_established(fx, &cfd, &sfd);
    struct glass_tcb *s = tcb_of(fx, FX_SERVER, sfd);
    static uint8_t out[20000], in[sizeof out];
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = pattern(i + 7u);
    fx_drop(fx, FX_CLIENT, 0, 0, 1); /* the burst's first segment */
    fx_send_all(fx, FX_CLIENT, cfd, out, sizeof out);
    fx_run_for(fx, MS(12)); /* the rest has arrived; no retransmission yet */
    FX_CHECK(fx, s->n_ooo > 0 && s->rb.len == 0, "stored out of order (%u ranges, %u readable)",
             s->n_ooo, s->rb.len);
    FX_CHECK(fx, s->rb.size > GLASS_RING_FIRST, "the ring grew for them (%u)", s->rb.size);
    FX_CHECK_STACKS(fx);
    fx_run_for(fx, MS(1000));
    size_t got = 0;
    for (long n; got < sizeof in && (n = glass_recv(fx_st(fx, FX_SERVER), sfd, in + got, sizeof in - got, 0)) > 0;)
        got += (size_t)n;
    FX_CHECK(fx, got == sizeof in && memcmp(in, out, sizeof in) == 0, "%zu of %zu bytes intact",
             got, sizeof in);
    FX_CHECK_STACKS(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_grows_to_cap),
        FX_TEST(test_out_of_order_survives_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
