/* glasstcp tests — TSO on output (config tso_max, docs/performance.md "TSO on output").
 *
 *   the stack   a glass_stack_output_sg caller gets super-segments of whole MSS pieces (a short
 *               piece only at the end of the data), gso_size = the MSS, a partial checksum;
 *               glass_stack_output never gets one; TcpOutSegs and segs_out count pieces;
 *               retransmissions are MSS-sized
 *   the wire    glass_tso_piece cuts a super-segment as a NIC does: every piece is a valid
 *               datagram (IPv4 and TCP checksums checked by the receiving stack), FIN and PSH
 *               on the last piece only, consecutive IPv4 ids
 *   the simnet  cuts super-segments at send time: with loss, reordering and duplication the
 *               stream arrives intact, no packet is larger than the MTU, super-segments only
 *               when tso_max is set, the sender's counters match the packets on the wire, and
 *               the packets are those of MSS-sized output (same trace hash) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <glass/glass.h>

#include <stdlib.h>
#include <string.h>

#define A GLASS_IP4(192, 0, 2, 1)
#define B GLASS_IP4(192, 0, 2, 2)

static uint8_t pattern(uint64_t k)
{
    return (uint8_t)(k * 7u + (k >> 9) + (k >> 17));
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- two stacks joined by hand ----------------------------------------------------------------- */

static struct glass_stack *new_stack(uint32_t addr, uint64_t seed, uint32_t tso_max)
{
    struct glass_config cfg;
    glass_config_default(&cfg);
    cfg.seed = seed;
    cfg.tso_max = tso_max;
    cfg.sndbuf = cfg.rcvbuf = 1u << 20;
    struct glass_stack *st = glass_stack_new(&cfg);
    assert_non_null(st);
    assert_int_equal(glass_stack_add_iface(st, addr, 24, 1500), 0);
    return st;
}

struct pair {
    struct glass_stack *s[2];
    int cfd, sfd;
    uint64_t supers, pieces, max_len, last_flags_bad;
    uint16_t last_id;
};

/* Move every datagram between the stacks until both are quiet. The sender's output is taken
 * with glass_stack_output_sg (sg) or glass_stack_output; super-segments are cut with
 * glass_tso_piece and every piece goes through the receiver's full checks (checksums on). */
static void pump(struct pair *p, bool sg)
{
    static uint8_t hdr[65536], piece[65536], whole[65536];
    for (bool any = true; any;) {
        any = false;
        for (int i = 0; i < 2; i++) {
            struct glass_output o;
            long n;
            while ((n = sg ? glass_stack_output_sg(p->s[i], 1, hdr, sizeof hdr, &o)
                           : glass_stack_output(p->s[i], 1, hdr, sizeof hdr)) > 0) {
                any = true;
                if (!sg)
                    o = (struct glass_output){.len = (size_t)n};
                if (o.gso_size == 0) {
                    memcpy(whole, hdr, o.len);
                    if (o.payload != NULL)
                        memcpy(whole + o.len, o.payload, o.payload_len);
                    assert_true((size_t)n <= 1500);
                    assert_int_equal(glass_stack_input(p->s[1 - i], 1, whole, (size_t)n), 0);
                    continue;
                }
                p->supers++;
                assert_true((size_t)n > 1500);
                uint8_t super_flags = hdr[33];
                uint16_t id0 = get16(hdr + 4);
                uint32_t seq0 = get32(hdr + 24);
                size_t k = 0, m, sum = 0;
                while ((m = glass_tso_piece(hdr, o.len, o.payload, o.payload_len, o.gso_size, k,
                                            piece, sizeof piece)) > 0) {
                    assert_true(m <= 1500);
                    assert_int_equal(get16(piece + 4), (uint16_t)(id0 + k));
                    assert_int_equal(get32(piece + 24), seq0 + (uint32_t)(k * o.gso_size));
                    size_t hl = 20u + (size_t)(piece[32] >> 4) * 4u;
                    bool last = sum + (m - hl) == (size_t)n - o.len;
                    if (!last) {
                        assert_int_equal(m - hl, o.gso_size);
                        assert_int_equal(piece[33] & (GLASS_TH_FIN | GLASS_TH_PSH), 0);
                    } else {
                        assert_int_equal(piece[33], super_flags);
                    }
                    sum += m - hl;
                    assert_true(glass_tcp_csum_fill(piece, m));
                    assert_int_equal(glass_stack_input(p->s[1 - i], 1, piece, m), 0);
                    p->pieces++;
                    if (m > p->max_len)
                        p->max_len = m;
                    k++;
                }
                assert_int_equal(sum, (size_t)n - o.len);
                assert_true(k >= 2);
            }
        }
    }
}

static void connect_pair(struct pair *p, uint32_t tso_max)
{
    memset(p, 0, sizeof *p);
    p->s[0] = new_stack(A, 1, tso_max);
    p->s[1] = new_stack(B, 2, 0);
    int lfd = glass_socket(p->s[1]);
    assert_int_equal(glass_bind(p->s[1], lfd, &(struct glass_endpoint){0, 80}), 0);
    assert_int_equal(glass_listen(p->s[1], lfd, 1), 0);
    p->cfd = glass_socket(p->s[0]);
    assert_int_equal(glass_connect(p->s[0], p->cfd, &(struct glass_endpoint){B, 80}),
                     -GLASS_EINPROGRESS);
    pump(p, true);
    p->sfd = glass_accept(p->s[1], lfd, NULL);
    assert_true(p->sfd >= 0);
}

/* Send n bytes from the client (then close if fin), pumping as it goes; check them at the
 * server. */
static void send_and_check(struct pair *p, size_t n, bool sg, bool fin)
{
    uint8_t *data = malloc(n), *got = malloc(n);
    assert_non_null(data);
    assert_non_null(got);
    for (size_t i = 0; i < n; i++)
        data[i] = pattern(i);
    size_t sent = 0, recvd = 0;
    while (recvd < n) {
        if (sent < n) {
            long r = glass_send(p->s[0], p->cfd, data + sent, n - sent, 0);
            if (r > 0)
                sent += (size_t)r;
            if (sent == n && fin)
                assert_int_equal(glass_close(p->s[0], p->cfd), 0);
        }
        pump(p, sg);
        long r;
        while ((r = glass_recv(p->s[1], p->sfd, got + recvd, n - recvd, 0)) > 0)
            recvd += (size_t)r;
        pump(p, sg);
    }
    assert_memory_equal(got, data, n);
    free(data);
    free(got);
}

static void free_pair(struct pair *p)
{
    glass_stack_free(p->s[0]);
    glass_stack_free(p->s[1]);
}

static void test_tso_super_segments_cut_and_counted(void **state)
{
    (void)state;
    struct pair p;
    connect_pair(&p, 65535);
    uint64_t segs0 = glass_stack_mib(p.s[0], GLASS_MIB_TcpOutSegs);
    send_and_check(&p, 600000, true, false);
    assert_true(p.supers > 0);
    assert_true(p.max_len <= 1500);
    /* Every piece and every other datagram the client sent is one TcpOutSegs (nothing was
     * lost, so nothing retransmitted). */
    struct glass_tcp_info ci, si;
    assert_int_equal(glass_tcp_info(p.s[0], p.cfd, &ci), 0);
    assert_int_equal(glass_tcp_info(p.s[1], p.sfd, &si), 0);
    assert_int_equal(glass_stack_mib(p.s[0], GLASS_MIB_TcpRetransSegs), 0);
    uint64_t segs = glass_stack_mib(p.s[0], GLASS_MIB_TcpOutSegs) - segs0;
    assert_true(segs >= p.pieces);
    assert_true(p.pieces >= 600000 / 1448);
    /* segs_out counts pieces as TcpOutSegs does, and the receiver saw each piece as a
     * segment of its own. */
    assert_int_equal(ci.segs_out, glass_stack_mib(p.s[0], GLASS_MIB_TcpOutSegs));
    assert_true(si.segs_in >= p.pieces);
    free_pair(&p);
}

static void test_tso_not_for_output_copy(void **state)
{
    (void)state;
    struct pair p;
    connect_pair(&p, 65535);
    send_and_check(&p, 300000, false, false); /* glass_stack_output: pump asserts <= 1500 */
    assert_int_equal(p.supers, 0);
    free_pair(&p);
}

static void test_tso_off_by_default(void **state)
{
    (void)state;
    struct pair p;
    connect_pair(&p, 0);
    send_and_check(&p, 300000, true, true);
    assert_int_equal(p.supers, 0);
    free_pair(&p);
}

/* A short tail only where the data ends: 5 full pieces and 100 bytes written at once leave as
 * one super-segment of 5 * MSS + 100 (within the initial window of 10 MSS; Nagle has nothing
 * unacknowledged to wait for). */
static void test_tso_short_tail_at_end(void **state)
{
    (void)state;
    struct pair p;
    connect_pair(&p, 65535);
    static uint8_t hdr[65536];
    uint8_t data[5 * 1448 + 100];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = pattern(i);
    assert_int_equal(glass_send(p.s[0], p.cfd, data, sizeof data, 0), (long)sizeof data);
    struct glass_output o;
    long n = glass_stack_output_sg(p.s[0], 1, hdr, sizeof hdr, &o);
    assert_true(n > 0);
    assert_int_equal(o.gso_size, 1448); /* MSS 1460 less the timestamp option */
    assert_int_equal(o.payload_len, sizeof data);
    assert_non_null(o.payload);
    assert_memory_equal(o.payload, data, sizeof data);
    assert_int_equal(hdr[33] & GLASS_TH_PSH, GLASS_TH_PSH);
    /* The TCP checksum is partial: the pseudo-header sum, not the segment's. */
    assert_int_equal(get16(hdr + 2), (uint16_t)n);
    free_pair(&p);
}

/* glass_tso_piece on what is not a super-segment it can cut: 0, nothing written past cap. */
static void test_tso_piece_bad_input(void **state)
{
    (void)state;
    struct pair p;
    connect_pair(&p, 65535);
    static uint8_t hdr[65536], out[65536];
    uint8_t data[4 * 1448];
    memset(data, 0x5a, sizeof data);
    assert_int_equal(glass_send(p.s[0], p.cfd, data, sizeof data, 0), (long)sizeof data);
    struct glass_output o;
    long n = glass_stack_output_sg(p.s[0], 1, hdr, sizeof hdr, &o);
    assert_true(n > 0);
    assert_int_equal(o.gso_size, 1448);
    size_t hl = o.len;
    /* past the last piece, no piece size, a cap too small for a piece */
    assert_int_equal(glass_tso_piece(hdr, hl, o.payload, o.payload_len, 1448, 4, out, sizeof out), 0);
    assert_int_equal(glass_tso_piece(hdr, hl, o.payload, o.payload_len, 1448, SIZE_MAX, out,
                                     sizeof out),
                     0);
    assert_int_equal(glass_tso_piece(hdr, hl, o.payload, o.payload_len, 0, 0, out, sizeof out), 0);
    out[100] = 0xee;
    assert_int_equal(glass_tso_piece(hdr, hl, o.payload, o.payload_len, 1448, 0, out, 100), 0);
    assert_int_equal(out[100], 0xee);
    /* headers cut short, a data offset beyond them, not IPv4/TCP, no payload */
    assert_int_equal(glass_tso_piece(hdr, 30, o.payload, o.payload_len, 1448, 0, out, sizeof out), 0);
    uint8_t bad[64];
    memcpy(bad, hdr, hl < sizeof bad ? hl : sizeof bad);
    bad[32] = 0xf0; /* doff 60 > the 52 bytes of headers */
    assert_int_equal(glass_tso_piece(bad, hl, o.payload, o.payload_len, 1448, 0, out, sizeof out), 0);
    memcpy(bad, hdr, hl);
    bad[9] = 17; /* UDP */
    assert_int_equal(glass_tso_piece(bad, hl, o.payload, o.payload_len, 1448, 0, out, sizeof out), 0);
    assert_int_equal(glass_tso_piece(hdr, hl, NULL, 0, 1448, 0, out, sizeof out), 0);
    /* and the good pieces still come out */
    assert_int_equal(glass_tso_piece(hdr, hl, o.payload, o.payload_len, 1448, 3, out, sizeof out),
                     hl + 1448);
    free_pair(&p);
}

/* ---- the simnet ---------------------------------------------------------------------------------- */

struct xfer {
    struct glass_stack *st[2];
    int fd[2], lfd;
    uint64_t total, sent, got;
    bool closed;
    uint8_t buf[65536];
    /* the tap's view */
    uint64_t client_pkts, max_len;
};

static void xfer_app(void *ctx, struct glass_simnet *net, int node, const struct glass_event *ev)
{
    struct xfer *x = ctx;
    (void)net;
    if (node == 1 && ev->kind == GLASS_EV_ACCEPTABLE && x->fd[1] < 0)
        x->fd[1] = glass_accept(x->st[1], x->lfd, NULL);
    if (node == 0 && x->fd[0] >= 0 && !x->closed) {
        while (x->sent < x->total) {
            uint8_t chunk[16384];
            size_t n = x->total - x->sent < sizeof chunk ? (size_t)(x->total - x->sent)
                                                         : sizeof chunk;
            for (size_t i = 0; i < n; i++)
                chunk[i] = pattern(x->sent + i);
            long r = glass_send(x->st[0], x->fd[0], chunk, n, 0);
            if (r <= 0)
                break;
            x->sent += (uint64_t)r;
        }
        if (x->sent == x->total) {
            assert_int_equal(glass_close(x->st[0], x->fd[0]), 0);
            x->closed = true;
        }
    }
    if (node == 1 && x->fd[1] >= 0) {
        long r;
        while ((r = glass_recv(x->st[1], x->fd[1], x->buf, sizeof x->buf, 0)) > 0) {
            for (long i = 0; i < r; i++)
                assert_int_equal(x->buf[i], pattern(x->got + (uint64_t)i));
            x->got += (uint64_t)r;
        }
        if (r == 0 && ev->kind != GLASS_EV_ACCEPTABLE) {
            glass_close(x->st[1], x->fd[1]);
            x->fd[1] = -2;
        }
    }
}

static void xfer_tap(void *ctx, const struct glass_sim_packet *p, enum glass_sim_pkt_event what)
{
    struct xfer *x = ctx;
    if (what != GLASS_SIM_SENT)
        return;
    if (p->from == 0)
        x->client_pkts++;
    if (p->len > x->max_len)
        x->max_len = p->len;
}

struct run {
    uint64_t tso_segs, sent, lost, retrans, out_segs, client_pkts, max_len, hash;
};

static void run_transfer(uint64_t seed, uint32_t tso_max, bool csum_offload, double loss,
                         uint64_t bytes, struct run *out)
{
    struct glass_simnet_config nc;
    glass_simnet_config_default(&nc);
    nc.seed = seed;
    nc.loss = loss;
    nc.reorder = loss / 2;
    nc.dup = loss / 4;
    nc.delay = GLASS_MSEC(5);
    nc.csum_offload = csum_offload;
    struct glass_simnet *net = glass_simnet_new(&nc);
    assert_non_null(net);
    struct xfer *x = calloc(1, sizeof *x);
    assert_non_null(x);
    x->total = bytes;
    for (int s = 0; s < 2; s++) {
        struct glass_config c;
        glass_config_default(&c);
        c.seed = seed * 10 + (uint64_t)s;
        c.tso_max = s == 0 ? tso_max : 0;
        c.tx_csum_offload = csum_offload;
        c.sndbuf = c.rcvbuf = 1u << 20;
        x->st[s] = glass_stack_new(&c);
        assert_non_null(x->st[s]);
        assert_int_equal(glass_simnet_attach(net, x->st[s], GLASS_IP4(192, 0, 2, 1 + s)), s);
        glass_simnet_set_app(net, s, xfer_app, x);
        x->fd[s] = -1;
    }
    glass_simnet_set_tap(net, xfer_tap, x);
    x->lfd = glass_socket(x->st[1]);
    assert_int_equal(glass_bind(x->st[1], x->lfd, &(struct glass_endpoint){0, 80}), 0);
    assert_int_equal(glass_listen(x->st[1], x->lfd, 4), 0);
    x->fd[0] = glass_socket(x->st[0]);
    glass_connect(x->st[0], x->fd[0], &(struct glass_endpoint){B, 80});
    glass_simnet_run_for(net, GLASS_SEC(600));
    assert_int_equal(x->got, bytes); /* every byte checked in order by xfer_app */
    assert_int_equal(glass_stack_in_state(x->st[0], GLASS_TCP_ESTABLISHED), 0);
    struct glass_simnet_stats ls;
    glass_simnet_stats(net, &ls);
    out->tso_segs = ls.tso_segs;
    out->sent = ls.sent;
    out->lost = ls.lost;
    out->retrans = glass_stack_mib(x->st[0], GLASS_MIB_TcpRetransSegs);
    out->out_segs = glass_stack_mib(x->st[0], GLASS_MIB_TcpOutSegs);
    out->client_pkts = x->client_pkts;
    out->max_len = x->max_len;
    out->hash = glass_simnet_trace_hash(net);
    glass_simnet_free(net);
    glass_stack_free(x->st[0]);
    glass_stack_free(x->st[1]);
    free(x);
}

static void test_simnet_tso_lossy_transfer_intact(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        struct run on, off;
        run_transfer(seed, 65535, seed % 2 == 0, 0.02, 3u << 20, &on);
        run_transfer(seed, 0, seed % 2 == 0, 0.02, 3u << 20, &off);
        assert_true(on.tso_segs > 0);
        assert_int_equal(off.tso_segs, 0);
        assert_true(on.lost > 0);
        assert_true(on.retrans > 0);
        /* What the wire carried: nothing over the MTU, and each packet the client sent is one
         * TcpOutSegs or one TcpRetransSegs (a super-segment as its pieces). */
        assert_true(on.max_len <= 1500);
        assert_int_equal(on.client_pkts, on.out_segs + on.retrans);
        assert_int_equal(off.client_pkts, off.out_segs + off.retrans);
        /* Cut at send time, the super-segments are the very packets MSS-sized output gives
         * (headers, IPv4 ids, times: the trace hash covers them), so the impairments hit the
         * same packets and the run is the same. */
        assert_true(on.hash == off.hash);
        assert_int_equal(on.sent, off.sent);
    }
}

/* A small tso_max (two MSS and a bit) still gives super-segments of whole pieces. */
static void test_simnet_tso_small_max(void **state)
{
    (void)state;
    struct run r;
    run_transfer(7, 3000, true, 0.01, 1u << 20, &r);
    assert_true(r.tso_segs > 0);
    assert_true(r.max_len <= 1500);
    assert_int_equal(r.client_pkts, r.out_segs + r.retrans);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tso_super_segments_cut_and_counted),
        cmocka_unit_test(test_tso_not_for_output_copy),
        cmocka_unit_test(test_tso_off_by_default),
        cmocka_unit_test(test_tso_short_tail_at_end),
        cmocka_unit_test(test_tso_piece_bad_input),
        cmocka_unit_test(test_simnet_tso_lossy_transfer_intact),
        cmocka_unit_test(test_simnet_tso_small_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
