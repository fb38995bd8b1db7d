/* glasstcp — the output edge: glass_stack_output builds a connection's segment straight into
 * the caller's buffer; a buffer too small for it gets -EMSGSIZE and the segment waits, intact,
 * for a bigger one. glass_stack_output_sg leaves the payload in the send buffer and
 * glass_stack_input_sg takes a datagram in two parts; segments taken in before one output pull
 * get one ACK; an ACK queues an output pull only when something is due. Two stacks joined by
 * hand, no simulator. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <glass/glass.h>

#define A GLASS_IP4(192, 0, 2, 1)
#define B GLASS_IP4(192, 0, 2, 2)
#define MTU 9040u

static struct glass_stack *new_stack_buf(uint32_t addr, uint64_t seed, uint32_t buf)
{
    struct glass_config cfg;
    glass_config_default(&cfg);
    cfg.mss = (uint16_t)(MTU - 40u);
    cfg.seed = seed;
    if (buf != 0)
        cfg.sndbuf = cfg.rcvbuf = buf;
    struct glass_stack *st = glass_stack_new(&cfg);
    assert_non_null(st);
    assert_int_equal(glass_stack_add_iface(st, addr, 24, MTU), 0);
    return st;
}

static struct glass_stack *new_stack(uint32_t addr, uint64_t seed)
{
    return new_stack_buf(addr, seed, 0);
}

/* Move every packet from `from` to `to` until neither has output; returns how many moved. */
static int pump(struct glass_stack *s[2])
{
    static uint8_t buf[65536];
    int moved = 0;
    for (bool any = true; any;) {
        any = false;
        for (int i = 0; i < 2; i++) {
            long n;
            while ((n = glass_stack_output(s[i], 1, buf, sizeof buf)) > 0) {
                assert_int_equal(glass_stack_input(s[1 - i], 1, buf, (size_t)n), 0);
                any = true;
                moved++;
            }
        }
    }
    return moved;
}

static void test_output_emsgsize_keeps_the_segment(void **state)
{
    (void)state;
    struct glass_stack *s[2] = {new_stack(A, 1), new_stack(B, 2)};
    int lfd = glass_socket(s[1]);
    assert_int_equal(glass_bind(s[1], lfd, &(struct glass_endpoint){0, 80}), 0);
    assert_int_equal(glass_listen(s[1], lfd, 1), 0);
    int cfd = glass_socket(s[0]);
    assert_int_equal(glass_connect(s[0], cfd, &(struct glass_endpoint){B, 80}),
                     -GLASS_EINPROGRESS);
    assert_true(pump(s) >= 3);
    int sfd = glass_accept(s[1], lfd, NULL);
    assert_true(sfd >= 0);

    static uint8_t data[9000], small[2048], big[MTU], got[9000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 31u + 7u);
    assert_int_equal(glass_send(s[0], cfd, data, sizeof data, 0), (long)sizeof data);
    assert_true(glass_stack_has_output(s[0]));
    /* Twice too small: refused, and nothing is lost or counted as sent. */
    uint64_t out0 = glass_stack_mib(s[0], GLASS_MIB_TcpOutSegs);
    assert_int_equal(glass_stack_output(s[0], 1, small, sizeof small), -GLASS_EMSGSIZE);
    assert_int_equal(glass_stack_output(s[0], 1, small, sizeof small), -GLASS_EMSGSIZE);
    assert_int_equal(glass_stack_mib(s[0], GLASS_MIB_TcpOutSegs), out0);
    assert_true(glass_stack_has_output(s[0]));
    /* Big enough: the whole 9000-byte segment, built in place. */
    long n = glass_stack_output(s[0], 1, big, sizeof big);
    assert_int_equal(n, (long)MTU); /* 20 IP + 32 TCP (timestamps) + 8988 payload */
    assert_int_equal(glass_stack_mib(s[0], GLASS_MIB_TcpOutSegs), out0 + 1);
    assert_int_equal(glass_stack_input(s[1], 1, big, (size_t)n), 0);
    pump(s);
    assert_int_equal(glass_recv(s[1], sfd, got, sizeof got, 0), (long)sizeof got);
    assert_memory_equal(got, data, sizeof data);
    glass_stack_free(s[0]);
    glass_stack_free(s[1]);
}

/* A connection from s[0] to s[1]: *cfd on s[0], *sfd on s[1]. */
static void connect_pair(struct glass_stack *s[2], int *cfd, int *sfd)
{
    int lfd = glass_socket(s[1]);
    assert_int_equal(glass_bind(s[1], lfd, &(struct glass_endpoint){0, 80}), 0);
    assert_int_equal(glass_listen(s[1], lfd, 1), 0);
    *cfd = glass_socket(s[0]);
    assert_int_equal(glass_connect(s[0], *cfd, &(struct glass_endpoint){B, 80}),
                     -GLASS_EINPROGRESS);
    assert_true(pump(s) >= 3);
    *sfd = glass_accept(s[1], lfd, NULL);
    assert_true(*sfd >= 0);
}

static uint8_t stream_byte(size_t i)
{
    return (uint8_t)(i * 131u + (i >> 9) + 3u);
}

/* 300 kB through a 20000-byte send buffer with glass_stack_output_sg: every data segment
 * references its payload in place, except those that wrap around the end of the ring (copied
 * into the buffer); every datagram is fed to the receiver with checksums verified (no offload,
 * no GLASS_INPUT_CSUM_OK), alternately in two parts and joined, and the stream arrives whole. */
static void test_output_sg_references_the_payload(void **state)
{
    (void)state;
    struct glass_stack *s[2] = {new_stack_buf(A, 1, 20000), new_stack_buf(B, 2, 20000)};
    int cfd, sfd;
    connect_pair(s, &cfd, &sfd);
    enum { TOTAL = 300000 };
    static uint8_t data[TOTAL], got[TOTAL], buf[MTU], whole[MTU];
    for (size_t i = 0; i < TOTAL; i++)
        data[i] = stream_byte(i);
    size_t sent = 0, rcvd = 0, refs = 0, copies = 0, k = 0;
    while (rcvd < TOTAL) {
        long r = glass_send(s[0], cfd, data + sent, TOTAL - sent, 0);
        if (r > 0)
            sent += (size_t)r;
        struct glass_output out;
        long n;
        while ((n = glass_stack_output_sg(s[0], 1, buf, sizeof buf, &out)) > 0) {
            assert_int_equal((size_t)n, out.len + out.payload_len);
            assert_int_equal(buf[2] << 8 | buf[3], n); /* the IPv4 total length covers both */
            if (out.payload != NULL) {
                assert_int_equal(out.len, 20u + 32u); /* IPv4 + TCP with timestamps */
                refs++;
            } else if ((size_t)n > 20u + 32u) {
                copies++;
            }
            memcpy(whole, buf, out.len);
            if (out.payload_len > 0)
                memcpy(whole + out.len, out.payload, out.payload_len);
            int dr = k++ % 2u == 0 ? glass_stack_input_sg(s[1], 1, buf, out.len, out.payload,
                                                           out.payload_len, 0)
                                   : glass_stack_input(s[1], 1, whole, (size_t)n);
            assert_int_equal(dr, 0);
        }
        assert_int_equal(n, 0);
        while ((r = glass_recv(s[1], sfd, got + rcvd, TOTAL - rcvd, 0)) > 0)
            rcvd += (size_t)r;
        /* The receiver's ACKs (and window updates) back to the sender, one way only. */
        while ((n = glass_stack_output(s[1], 1, buf, sizeof buf)) > 0)
            assert_int_equal(glass_stack_input(s[0], 1, buf, (size_t)n), 0);
    }
    assert_memory_equal(got, data, TOTAL);
    assert_true(refs > 10u);
    assert_true(copies > 0u); /* the ring wrapped inside a segment at least once */
    assert_int_equal(glass_stack_mib(s[1], GLASS_MIB_TcpInCsumErrors), 0);
    assert_int_equal(glass_stack_output_sg(s[0], 1, buf, sizeof buf, NULL), -GLASS_EFAULT);
    glass_stack_free(s[0]);
    glass_stack_free(s[1]);
}

/* Segments the receiver takes in before its output is pulled get one ACK (RFC 9293 §3.8.6.3
 * lets a receiver acknowledge several segments at once): the stack decides to acknowledge as
 * each arrives, but builds the ACK when the caller pulls output, so an event loop that reads a
 * batch of packets before writing answers the batch with one ACK, for everything received.
 * Pulled after each segment (as at the start of a connection, in quick-ACK mode), each gets
 * its own. */
static void test_acks_batched_per_output_pull(void **state)
{
    (void)state;
    struct glass_stack *s[2] = {new_stack(A, 1), new_stack(B, 2)};
    int cfd, sfd;
    connect_pair(s, &cfd, &sfd);
    int one = 1;
    assert_int_equal(
        glass_setsockopt(s[0], cfd, GLASS_SOL_TCP, GLASS_TCP_NODELAY, &one, sizeof one), 0);
    enum { SEGS = 6, LEN = 1000 };
    static uint8_t pkt[SEGS][MTU], data[LEN], ack[MTU];
    long plen[SEGS];
    memset(data, 'd', sizeof data);
    for (int round = 0; round < 2; round++) {
        bool batched = round == 1;
        for (int k = 0; k < SEGS; k++) {
            assert_int_equal(glass_send(s[0], cfd, data, LEN, 0), LEN);
            plen[k] = glass_stack_output(s[0], 1, pkt[k], sizeof pkt[k]);
            assert_int_equal(plen[k], 20 + 32 + LEN); /* one data segment per send */
        }
        int acks = 0;
        uint32_t last_ack = 0;
        for (int k = 0; k < SEGS; k++) {
            assert_int_equal(glass_stack_input(s[1], 1, pkt[k], (size_t)plen[k]), 0);
            if (batched && k < SEGS - 1)
                continue;
            long n;
            while ((n = glass_stack_output(s[1], 1, ack, sizeof ack)) > 0) {
                assert_int_equal(n, 20 + 32); /* a pure ACK */
                assert_true(ack[20 + 13] & GLASS_TH_ACK);
                last_ack = (uint32_t)ack[28] << 24 | (uint32_t)ack[29] << 16 |
                           (uint32_t)ack[30] << 8 | ack[31];
                acks++;
            }
        }
        struct glass_tcp_info ci;
        assert_int_equal(glass_tcp_info(s[0], cfd, &ci), 0);
        assert_int_equal(last_ack, ci.snd_nxt); /* the last ACK covers every segment */
        assert_int_equal(acks, batched ? 1 : SEGS);
        static uint8_t sink[SEGS * LEN];
        assert_int_equal(glass_recv(s[1], sfd, sink, sizeof sink, 0), SEGS * LEN);
        pump(s);
    }
    glass_stack_free(s[0]);
    glass_stack_free(s[1]);
}

/* An ACK that leaves the sender nothing to send puts nothing on its output list, so the next
 * output call finds nothing at once (glass_stack_has_output() is false): before, every ACK of
 * new data queued an output pull, which in crr found nothing three times per connection. An
 * ACK that leaves data held back (Nagle: a second small write behind an unacknowledged first)
 * does queue the connection, and the pull sends that data. */
static void test_ack_queues_output_only_when_due(void **state)
{
    (void)state;
    struct glass_stack *s[2] = {new_stack(A, 1), new_stack(B, 2)};
    int cfd, sfd;
    connect_pair(s, &cfd, &sfd);
    static uint8_t pkt[MTU], ack[MTU], sink[4];
    for (int round = 0; round < 2; round++) {
        bool held = round == 1;
        assert_int_equal(glass_send(s[0], cfd, "x", 1, 0), 1);
        assert_int_equal(glass_stack_output(s[0], 1, pkt, sizeof pkt), 20 + 32 + 1);
        if (held) {
            assert_int_equal(glass_send(s[0], cfd, "y", 1, 0), 1);
            assert_int_equal(glass_stack_output(s[0], 1, ack, sizeof ack), 0); /* Nagle */
        }
        assert_false(glass_stack_has_output(s[0]));
        assert_int_equal(glass_stack_input(s[1], 1, pkt, 20 + 32 + 1), 0);
        long n = glass_stack_output(s[1], 1, ack, sizeof ack);
        assert_int_equal(n, 20 + 32); /* the pure ACK of the byte (quick-ACK mode) */
        assert_int_equal(glass_stack_input(s[0], 1, ack, (size_t)n), 0);
        assert_int_equal(glass_stack_has_output(s[0]), held);
        if (held) {
            assert_int_equal(glass_stack_output(s[0], 1, pkt, sizeof pkt), 20 + 32 + 1);
            assert_int_equal(glass_stack_input(s[1], 1, pkt, 20 + 32 + 1), 0);
        }
        pump(s);
        assert_int_equal(glass_recv(s[1], sfd, sink, sizeof sink, 0), held ? 2 : 1);
    }
    glass_stack_free(s[0]);
    glass_stack_free(s[1]);
}

/* Split anywhere else than between the headers and the payload, a datagram is joined and
 * taken as one; a corrupted payload fails the checksum over the two parts; NULL parts with a
 * length are refused. */
static void test_input_sg_any_split(void **state)
{
    (void)state;
    struct glass_stack *s[2] = {new_stack(A, 1), new_stack(B, 2)};
    int cfd, sfd;
    connect_pair(s, &cfd, &sfd);
    static uint8_t data[3000], buf[MTU], got[3000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = stream_byte(i);
    assert_int_equal(glass_send(s[0], cfd, data, 1000, 0), 1000);
    struct glass_output out;
    long n = glass_stack_output_sg(s[0], 1, buf, sizeof buf, &out);
    assert_int_equal(n, 20 + 32 + 1000);
    assert_non_null(out.payload);
    /* The first byte of the stream is the first of the send buffer, which starts on a
     * 64-byte line (co-aligned copies between equal-sized rings). */
    assert_int_equal((uintptr_t)out.payload % 64u, 0);
    static uint8_t whole[MTU], bad[1000];
    memcpy(whole, buf, out.len);
    memcpy(whole + out.len, out.payload, out.payload_len);
    /* A flipped payload byte: dropped for its checksum, summed over both parts. */
    memcpy(bad, out.payload, sizeof bad);
    bad[500] ^= 0x40u;
    assert_int_equal(glass_stack_input_sg(s[1], 1, buf, out.len, bad, sizeof bad, 0),
                     GLASS_DROP_TCP_CSUM);
    /* Cut inside the TCP header: joined, accepted. */
    assert_int_equal(glass_stack_input_sg(s[1], 1, whole, 30, whole + 30, (size_t)n - 30, 0), 0);
    pump(s);
    assert_int_equal(glass_recv(s[1], sfd, got, sizeof got, 0), 1000);
    assert_memory_equal(got, data, 1000);
    /* Cut inside the payload: joined too. */
    assert_int_equal(glass_send(s[0], cfd, data + 1000, 1000, 0), 1000);
    n = glass_stack_output(s[0], 1, whole, sizeof whole);
    assert_int_equal(n, 20 + 32 + 1000);
    assert_int_equal(glass_stack_input_sg(s[1], 1, whole, 500, whole + 500, (size_t)n - 500, 0),
                     0);
    pump(s);
    assert_int_equal(glass_recv(s[1], sfd, got, sizeof got, 0), 1000);
    assert_memory_equal(got, data + 1000, 1000);
    /* Short or garbage first parts are drop reasons, never a crash. */
    assert_int_not_equal(glass_stack_input_sg(s[1], 1, whole, 3, whole + 3, 10, 0), 0);
    assert_int_not_equal(glass_stack_input_sg(s[1], 1, NULL, 0, whole, 10, 0), 0);
    assert_int_equal(glass_stack_input_sg(s[1], 1, NULL, 5, whole, 10, 0), -GLASS_EFAULT);
    assert_int_equal(glass_stack_input_sg(s[1], 1, whole, 5, NULL, 10, 0), -GLASS_EFAULT);
    glass_stack_free(s[0]);
    glass_stack_free(s[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output_emsgsize_keeps_the_segment),
        cmocka_unit_test(test_output_sg_references_the_payload),
        cmocka_unit_test(test_input_sg_any_split),
        cmocka_unit_test(test_acks_batched_per_output_pull),
        cmocka_unit_test(test_ack_queues_output_only_when_due),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
