/* glasstcp — the capture analyzer (src/analyze) fed synthetic segments: each way a connection
 * can close, each state-level finding, each of Wireshark's analysis flags, the link layers,
 * truncated frames, bounded memory, and random bytes.
 *
 * Segments are built with the wire layer's emitters. Client 192.0.2.1:40000 (ISN 1000),
 * server 192.0.2.2:80 (ISN 5000); the helpers take sequence and acknowledgment numbers
 * relative to those ISNs ("1" is the first data byte), and advance a virtual capture clock
 * (10 ms per segment unless told otherwise). Every test also checks that each recorded
 * transition is a legal RFC 9293 arc with a legal cause (<glass/trace.h>). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "wire/wire_priv.h"
#include <glass/trace.h>

#define CLI_ADDR GLASS_IP4(192, 0, 2, 1)
#define SRV_ADDR GLASS_IP4(192, 0, 2, 2)
#define CLI_PORT 40000
#define SRV_PORT 80
#define CLI_ISN 1000u
#define SRV_ISN 5000u
#define T0 GLASS_SEC(1000)

#define MAX_FRAMES 256
#define MAX_CONNS 16 /* kept; the others are only counted */

enum { C = 0, S = 1 };

struct tc {
    struct glass_ana *a;
    struct glass_ana_config cfg;
    glass_time_t now;
    int linktype;
    uint32_t cli_isn, srv_isn;
    uint16_t cli_port;
    /* What the analyzer reported. */
    struct glass_ana_pkt_info pi[MAX_FRAMES + 1]; /* by frame number */
    size_t nframes;
    struct glass_ana_conn conns[MAX_CONNS]; /* the first ones, in the order finalised */
    size_t nconns;
    size_t n_idle, n_closed, n_evicted;
};

static void on_packet(void *ctx, const struct glass_ana_pkt_info *pi)
{
    struct tc *t = ctx;
    if (pi->frame <= MAX_FRAMES)
        t->pi[pi->frame] = *pi;
    t->nframes++;
}

/* Every transition the analyzer recorded must be a legal arc with an allowed cause. */
static void check_legal(const struct glass_ana_conn *c)
{
    for (int s = 0; s < 2; s++) {
        for (unsigned i = 0; i < c->side[s].nhist; i++) {
            const struct glass_ana_transition *tr = &c->side[s].hist[i];
            if (tr->cause == GLASS_ANA_CAUSE_MIDSTREAM) {
                assert_int_equal(tr->from, GLASS_ANA_STATE_UNKNOWN);
                continue;
            }
            int arc = glass_tcp_arc_find(tr->from, tr->to);
            assert_true(arc >= 0);
            assert_true(glass_tcp_arc((size_t)arc)->causes & (1u << tr->cause));
        }
    }
}

static void on_conn(void *ctx, struct glass_ana_conn *c)
{
    struct tc *t = ctx;
    check_legal(c);
    if (t->nconns < MAX_CONNS)
        t->conns[t->nconns] = *c;
    t->nconns++;
    t->n_idle += strcmp(c->end, "idle") == 0;
    t->n_closed += strcmp(c->end, "closed") == 0;
    t->n_evicted += strcmp(c->end, "evicted") == 0;
}

static int setup(void **state)
{
    struct tc *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    glass_ana_config_default(&t->cfg);
    t->cfg.on_packet = on_packet;
    t->cfg.on_conn = on_conn;
    t->cfg.ctx = t;
    t->now = T0;
    t->linktype = GLASS_LINKTYPE_RAW;
    t->cli_isn = CLI_ISN;
    t->srv_isn = SRV_ISN;
    t->cli_port = CLI_PORT;
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct tc *t = *state;
    glass_ana_free(t->a);
    free(t);
    return 0;
}

static struct glass_ana *ana(struct tc *t)
{
    if (t->a == NULL) {
        t->a = glass_ana_new(&t->cfg);
        assert_non_null(t->a);
    }
    return t->a;
}

/* An IPv4/TCP datagram into buf; returns its length. */
static size_t build(uint8_t *buf, size_t cap, int from, uint8_t flags, uint32_t seq, uint32_t ack,
                    uint32_t len, uint16_t win, int wscale, uint16_t cport)
{
    struct glass_tcp_repr tcp;
    memset(&tcp, 0, sizeof(tcp));
    tcp.src_port = from == C ? cport : SRV_PORT;
    tcp.dst_port = from == C ? SRV_PORT : cport;
    tcp.seq = seq;
    tcp.ack = ack;
    tcp.flags = flags;
    tcp.win = win;
    tcp.wscale = (int16_t)wscale;
    if (flags & GLASS_TH_SYN)
        tcp.mss = 1460;
    tcp.payload_len = len;
    uint32_t src = from == C ? CLI_ADDR : SRV_ADDR, dst = from == C ? SRV_ADDR : CLI_ADDR;
    memset(buf, 'x', cap);
    size_t tl = glass_tcp_emit(buf + 20, cap - 20, &tcp, src, dst);
    assert_true(tl > 0);
    struct glass_ipv4_repr ip;
    memset(&ip, 0, sizeof(ip));
    ip.src = src;
    ip.dst = dst;
    ip.proto = GLASS_IPV4_PROTO_TCP;
    ip.ttl = 64;
    assert_int_equal(glass_ipv4_emit(buf, 20, &ip, tl), 20);
    return 20 + tl;
}

/* Feed one segment, seq/ack relative to the ISNs, dt after the previous one. */
static uint64_t seg_full(struct tc *t, int from, uint8_t flags, uint32_t rseq, uint32_t rack,
                         uint32_t len, uint16_t win, int wscale, glass_time_t dt)
{
    uint8_t buf[2048];
    uint32_t isn = from == C ? t->cli_isn : t->srv_isn, pisn = from == C ? t->srv_isn : t->cli_isn;
    uint32_t seq = isn + rseq, ack = (flags & GLASS_TH_ACK) ? pisn + rack : 0;
    size_t n = build(buf, sizeof buf, from, flags, seq, ack, len, win, wscale, t->cli_port);
    t->now += dt;
    assert_int_equal(glass_ana_packet(ana(t), t->now, GLASS_LINKTYPE_RAW, buf, n, n), 0);
    return glass_ana_totals(t->a)->frames;
}

#define MS(x) GLASS_MSEC(x)
#define SYN GLASS_TH_SYN
#define FIN GLASS_TH_FIN
#define RST GLASS_TH_RST
#define ACK GLASS_TH_ACK
#define PSH GLASS_TH_PSH

static uint64_t seg(struct tc *t, int from, uint8_t flags, uint32_t rseq, uint32_t rack,
                    uint32_t len)
{
    return seg_full(t, from, flags, rseq, rack, len, 1000, -1, MS(10));
}

/* SYN, SYN,ACK, ACK: both sides ESTABLISHED. */
static void handshake(struct tc *t)
{
    seg(t, C, SYN, 0, 0, 0);
    seg(t, S, SYN | ACK, 0, 1, 0);
    seg(t, C, ACK, 1, 1, 0);
}

static const struct glass_ana_conn *finish_one(struct tc *t)
{
    glass_ana_finish(ana(t));
    assert_int_equal(t->nconns, 1);
    return &t->conns[0];
}

/* Assert a side's history: n (to, cause) pairs. */
static void expect_hist(const struct glass_ana_side *sd, size_t n, ...)
{
    va_list ap;
    va_start(ap, n);
    if (sd->nhist != n) {
        for (unsigned i = 0; i < sd->nhist; i++)
            print_message("  %s -> %s (%s)\n", glass_ana_state_name(sd->hist[i].from),
                          glass_ana_state_name(sd->hist[i].to),
                          glass_ana_cause_name(sd->hist[i].cause));
    }
    assert_int_equal(sd->nhist, n);
    for (size_t i = 0; i < n; i++) {
        int to = va_arg(ap, int), cause = va_arg(ap, int);
        assert_string_equal(glass_ana_state_name(sd->hist[i].to), glass_ana_state_name(to));
        assert_string_equal(glass_ana_cause_name(sd->hist[i].cause), glass_ana_cause_name(cause));
    }
    va_end(ap);
}

static uint32_t total_flags(const struct glass_ana_conn *c)
{
    uint32_t n = 0;
    for (int k = 0; k < GLASS_ANA_NFLAGS; k++)
        n += c->flag_count[k];
    return n;
}

/* ---- close patterns --------------------------------------------------------------------- */

static void test_active_close(void **state)
{
    struct tc *t = *state;
    handshake(t);
    seg(t, C, PSH | ACK, 1, 1, 100);
    seg(t, S, ACK, 1, 101, 0);
    seg(t, S, PSH | ACK, 1, 101, 200);
    seg(t, C, ACK, 101, 201, 0);
    uint64_t cfin = seg(t, C, FIN | ACK, 101, 201, 0);
    assert_int_equal(t->pi[cfin].state[C], GLASS_TCP_FIN_WAIT_1);
    assert_int_equal(t->pi[cfin].state[S], GLASS_TCP_ESTABLISHED); /* not acknowledged yet */
    uint64_t sack = seg(t, S, ACK, 201, 102, 0);
    assert_int_equal(t->pi[sack].state[C], GLASS_TCP_FIN_WAIT_2);
    assert_int_equal(t->pi[sack].state[S], GLASS_TCP_CLOSE_WAIT);
    seg(t, S, FIN | ACK, 201, 102, 0);
    uint64_t last = seg(t, C, ACK, 102, 202, 0);
    assert_int_equal(t->pi[last].nchanges, 2);

    const struct glass_ana_conn *c = finish_one(t);
    expect_hist(&c->side[C], 5, GLASS_TCP_SYN_SENT, GLASS_CAUSE_APP_CONNECT, GLASS_TCP_ESTABLISHED,
                GLASS_CAUSE_RCV_SYN_ACK, GLASS_TCP_FIN_WAIT_1, GLASS_CAUSE_APP_CLOSE,
                GLASS_TCP_FIN_WAIT_2, GLASS_CAUSE_RCV_ACK_OF_FIN, GLASS_TCP_TIME_WAIT,
                GLASS_CAUSE_RCV_FIN);
    expect_hist(&c->side[S], 5, GLASS_TCP_SYN_RCVD, GLASS_CAUSE_RCV_SYN, GLASS_TCP_ESTABLISHED,
                GLASS_CAUSE_RCV_ACK_OF_SYN, GLASS_TCP_CLOSE_WAIT, GLASS_CAUSE_RCV_FIN,
                GLASS_TCP_LAST_ACK, GLASS_CAUSE_APP_CLOSE, GLASS_TCP_CLOSED,
                GLASS_CAUSE_RCV_ACK_OF_FIN);
    assert_int_equal(c->side[S].hist[0].from, GLASS_TCP_LISTEN);
    assert_int_equal(c->side[C].hist[0].from, GLASS_TCP_CLOSED);
    assert_string_equal(c->conn_state, "SF");
    assert_string_equal(c->history, "ShADadFf");
    assert_int_equal(total_flags(c), 0);
    assert_int_equal(c->side[C].bytes, 100);
    assert_int_equal(c->side[S].bytes, 200);
    assert_int_equal(c->stream, 0);
    assert_false(c->midstream);
    for (int k = 0; k < GLASS_ANA_NNOTES; k++)
        assert_int_equal(c->note_count[k], 0);
}

static void test_passive_close(void **state)
{
    struct tc *t = *state;
    handshake(t);
    seg(t, S, FIN | ACK, 1, 1, 0);
    seg(t, C, ACK, 1, 2, 0);
    seg(t, C, FIN | ACK, 1, 2, 0);
    seg(t, S, ACK, 2, 2, 0);
    const struct glass_ana_conn *c = finish_one(t);
    expect_hist(&c->side[S], 5, GLASS_TCP_SYN_RCVD, GLASS_CAUSE_RCV_SYN, GLASS_TCP_ESTABLISHED,
                GLASS_CAUSE_RCV_ACK_OF_SYN, GLASS_TCP_FIN_WAIT_1, GLASS_CAUSE_APP_CLOSE,
                GLASS_TCP_FIN_WAIT_2, GLASS_CAUSE_RCV_ACK_OF_FIN, GLASS_TCP_TIME_WAIT,
                GLASS_CAUSE_RCV_FIN);
    expect_hist(&c->side[C], 5, GLASS_TCP_SYN_SENT, GLASS_CAUSE_APP_CONNECT, GLASS_TCP_ESTABLISHED,
                GLASS_CAUSE_RCV_SYN_ACK, GLASS_TCP_CLOSE_WAIT, GLASS_CAUSE_RCV_FIN,
                GLASS_TCP_LAST_ACK, GLASS_CAUSE_APP_CLOSE, GLASS_TCP_CLOSED,
                GLASS_CAUSE_RCV_ACK_OF_FIN);
    assert_string_equal(c->conn_state, "SF");
    assert_string_equal(c->history, "ShAfFa");
}

/* Both FINs pass the capture point before either is acknowledged: FIN_WAIT_1 -> CLOSING ->
 * TIME_WAIT on both sides (RFC 9293 §3.6, Figure 13), not CLOSE_WAIT. */
static void test_simultaneous_close(void **state)
{
    struct tc *t = *state;
    handshake(t);
    seg(t, C, FIN | ACK, 1, 1, 0);
    seg_full(t, S, FIN | ACK, 1, 1, 0, 1000, -1, MS(1));
    seg(t, C, ACK, 2, 2, 0);
    seg_full(t, S, ACK, 2, 2, 0, 1000, -1, MS(1));
    const struct glass_ana_conn *c = finish_one(t);
    for (int s = 0; s < 2; s++) {
        const struct glass_ana_side *sd = &c->side[s];
        assert_int_equal(sd->nhist, 5);
        assert_int_equal(sd->hist[2].to, GLASS_TCP_FIN_WAIT_1);
        assert_int_equal(sd->hist[2].cause, GLASS_CAUSE_APP_CLOSE);
        assert_int_equal(sd->hist[3].to, GLASS_TCP_CLOSING);
        assert_int_equal(sd->hist[3].cause, GLASS_CAUSE_RCV_FIN);
        assert_int_equal(sd->hist[4].to, GLASS_TCP_TIME_WAIT);
        assert_int_equal(sd->hist[4].cause, GLASS_CAUSE_RCV_ACK_OF_FIN);
        assert_int_equal(sd->state, GLASS_TCP_TIME_WAIT);
    }
    assert_string_equal(c->conn_state, "SF");
}

/* The seed's shortcut: the peer's FIN carries the ACK of ours: FIN_WAIT_1 -> TIME_WAIT. */
static void test_fin_ack_shortcut(void **state)
{
    struct tc *t = *state;
    handshake(t);
    seg(t, C, FIN | ACK, 1, 1, 0);
    uint64_t f = seg(t, S, FIN | ACK, 1, 2, 0);
    /* the server's FIN is not known to have arrived yet: the client stays FIN_WAIT_1 */
    assert_int_equal(t->pi[f].state[C], GLASS_TCP_FIN_WAIT_1);
    assert_int_equal(t->pi[f].state[S], GLASS_TCP_LAST_ACK);
    uint64_t a = seg(t, C, ACK, 2, 2, 0);
    assert_int_equal(t->pi[a].state[C], GLASS_TCP_TIME_WAIT);
    assert_int_equal(t->pi[a].state[S], GLASS_TCP_CLOSED);
    const struct glass_ana_conn *c = finish_one(t);
    expect_hist(&c->side[C], 4, GLASS_TCP_SYN_SENT, GLASS_CAUSE_APP_CONNECT, GLASS_TCP_ESTABLISHED,
                GLASS_CAUSE_RCV_SYN_ACK, GLASS_TCP_FIN_WAIT_1, GLASS_CAUSE_APP_CLOSE,
                GLASS_TCP_TIME_WAIT, GLASS_CAUSE_RCV_FIN_ACK);
    expect_hist(&c->side[S], 5, GLASS_TCP_SYN_RCVD, GLASS_CAUSE_RCV_SYN, GLASS_TCP_ESTABLISHED,
                GLASS_CAUSE_RCV_ACK_OF_SYN, GLASS_TCP_CLOSE_WAIT, GLASS_CAUSE_RCV_FIN,
                GLASS_TCP_LAST_ACK, GLASS_CAUSE_APP_CLOSE, GLASS_TCP_CLOSED,
                GLASS_CAUSE_RCV_ACK_OF_FIN);
}

/* Captured at the client: the server's first data segment is lost before the capture point,
 * so its later data and its FIN arrive out of order. The client holds the FIN until the hole
 * is filled, but takes the ACK of its own FIN at once, from the segment behind the FIN or
 * (fin_acks) from the FIN's own (RFC 9293 §3.10.7.4 fifth check, as Linux and glasstcp do):
 * FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT, neither the simultaneous close that arrival order
 * alone would suggest nor the FIN_WAIT_1 -> TIME_WAIT shortcut. Returns the connection. */
static const struct glass_ana_conn *fin_out_of_order(struct tc *t, bool fin_acks)
{
    handshake(t);
    seg(t, C, FIN | ACK, 1, 1, 0); /* FIN_WAIT_1 (shutdown: it reads on); its FIN is seq 1 */
    seg(t, S, ACK, 101, 1, 100);   /* [1, 101) was lost upstream */
    uint64_t f = seg(t, S, FIN | ACK, 201, fin_acks ? 2 : 1, 0);
    assert_int_equal(t->pi[f].state[C], fin_acks ? GLASS_TCP_FIN_WAIT_2 : GLASS_TCP_FIN_WAIT_1);
    if (!fin_acks) {
        seg(t, C, ACK, 2, 1, 0);                /* duplicate ACK: the hole */
        uint64_t a = seg(t, S, ACK, 202, 2, 0); /* acknowledges the client's FIN */
        assert_int_equal(t->pi[a].state[C], GLASS_TCP_FIN_WAIT_2);
    }
    seg(t, S, ACK, 1, 2, 100);              /* the retransmission fills the hole */
    uint64_t l = seg(t, C, ACK, 2, 203, 0); /* everything, the FIN included */
    assert_int_equal(t->pi[l].state[C], GLASS_TCP_TIME_WAIT);
    const struct glass_ana_conn *c = finish_one(t);
    expect_hist(&c->side[C], 5, GLASS_TCP_SYN_SENT, GLASS_CAUSE_APP_CONNECT, GLASS_TCP_ESTABLISHED,
                GLASS_CAUSE_RCV_SYN_ACK, GLASS_TCP_FIN_WAIT_1, GLASS_CAUSE_APP_SHUTDOWN_WR,
                GLASS_TCP_FIN_WAIT_2, GLASS_CAUSE_RCV_ACK_OF_FIN, GLASS_TCP_TIME_WAIT,
                GLASS_CAUSE_RCV_FIN);
    return c;
}

static void test_fin_out_of_order(void **state)
{
    const struct glass_ana_conn *c = fin_out_of_order(*state, false);
    expect_hist(&c->side[S], 5, GLASS_TCP_SYN_RCVD, GLASS_CAUSE_RCV_SYN, GLASS_TCP_ESTABLISHED,
                GLASS_CAUSE_RCV_ACK_OF_SYN, GLASS_TCP_FIN_WAIT_1, GLASS_CAUSE_APP_CLOSE,
                GLASS_TCP_CLOSING, GLASS_CAUSE_RCV_FIN, GLASS_TCP_TIME_WAIT,
                GLASS_CAUSE_RCV_ACK_OF_FIN);
}

static void test_fin_ack_out_of_order(void **state)
{
    const struct glass_ana_conn *c = fin_out_of_order(*state, true);
    assert_int_equal(c->side[S].state, GLASS_TCP_CLOSED);
}

static void test_rst_exact(void **state)
{
    struct tc *t = *state;
    handshake(t);
    seg(t, C, PSH | ACK, 1, 1, 10);
    seg(t, S, ACK, 1, 11, 0);
    seg(t, C, RST | ACK, 11, 1, 0);
    const struct glass_ana_conn *c = finish_one(t);
    expect_hist(&c->side[C], 3, GLASS_TCP_SYN_SENT, GLASS_CAUSE_APP_CONNECT, GLASS_TCP_ESTABLISHED,
                GLASS_CAUSE_RCV_SYN_ACK, GLASS_TCP_CLOSED, GLASS_CAUSE_APP_ABORT);
    expect_hist(&c->side[S], 3, GLASS_TCP_SYN_RCVD, GLASS_CAUSE_RCV_SYN, GLASS_TCP_ESTABLISHED,
                GLASS_CAUSE_RCV_ACK_OF_SYN, GLASS_TCP_CLOSED, GLASS_CAUSE_RCV_RST);
    assert_string_equal(c->conn_state, "RSTO");
    assert_int_equal(c->note_count[GLASS_ANA_NOTE_RST_IGNORED], 0);
    assert_int_equal(c->note_count[GLASS_ANA_NOTE_RST_MID_TRANSFER], 0); /* all data acked */
}

/* RFC 5961 §3: an RST in the window but not at RCV.NXT does not reset; the receiver answers
 * with a challenge ACK. A later exact one does. */
static void test_rst_not_exact_is_ignored(void **state)
{
    struct tc *t = *state;
    handshake(t);
    uint64_t r1 = seg(t, S, RST, 5, 0, 0);
    assert_true(t->pi[r1].notes & GLASS_ANAN(RST_IGNORED));
    assert_int_equal(t->pi[r1].state[C], GLASS_TCP_ESTABLISHED);
    uint64_t r2 = seg(t, S, RST, 1, 0, 0);
    assert_false(t->pi[r2].notes & GLASS_ANAN(RST_IGNORED));
    assert_int_equal(t->pi[r2].state[C], GLASS_TCP_CLOSED);
    const struct glass_ana_conn *c = finish_one(t);
    assert_int_equal(c->note_count[GLASS_ANA_NOTE_RST_IGNORED], 1);
    assert_int_equal(c->side[C].hist[2].cause, GLASS_CAUSE_RCV_RST);
    assert_string_equal(c->conn_state, "RSTR");
}

static void test_refused(void **state)
{
    struct tc *t = *state;
    seg(t, C, SYN, 0, 0, 0);
    seg(t, S, RST | ACK, 0, 1, 0);
    const struct glass_ana_conn *c = finish_one(t);
    expect_hist(&c->side[C], 2, GLASS_TCP_SYN_SENT, GLASS_CAUSE_APP_CONNECT, GLASS_TCP_CLOSED,
                GLASS_CAUSE_RCV_RST);
    assert_int_equal(c->side[S].nhist, 0);
    assert_int_equal(c->side[S].state, GLASS_TCP_CLOSED);
    assert_string_equal(c->conn_state, "REJ");
    assert_string_equal(c->history, "Sr");
    assert_int_equal(c->note_count[GLASS_ANA_NOTE_SYN_UNANSWERED], 0);
}

/* An RST whose ACK does not acknowledge the SYN is not acceptable in SYN_SENT. */
static void test_refused_bad_ack_ignored(void **state)
{
    struct tc *t = *state;
    seg(t, C, SYN, 0, 0, 0);
    uint64_t r = seg(t, S, RST | ACK, 0, 7, 0);
    assert_true(t->pi[r].notes & GLASS_ANAN(RST_IGNORED));
    assert_int_equal(t->pi[r].state[C], GLASS_TCP_SYN_SENT);
    glass_ana_finish(ana(t));
}

/* shutdown(SHUT_WR): the client keeps taking data after its FIN; the server never closes. */
static void test_half_close(void **state)
{
    struct tc *t = *state;
    handshake(t);
    seg(t, C, FIN | ACK, 1, 1, 0);
    seg(t, S, ACK, 1, 2, 0);
    seg(t, S, PSH | ACK, 1, 2, 500);
    seg(t, C, ACK, 2, 501, 0);
    seg_full(t, S, PSH | ACK, 501, 2, 500, 1000, -1, GLASS_SEC(3));
    seg(t, C, ACK, 2, 1001, 0);
    const struct glass_ana_conn *c = finish_one(t);
    expect_hist(&c->side[C], 4, GLASS_TCP_SYN_SENT, GLASS_CAUSE_APP_CONNECT, GLASS_TCP_ESTABLISHED,
                GLASS_CAUSE_RCV_SYN_ACK, GLASS_TCP_FIN_WAIT_1, GLASS_CAUSE_APP_SHUTDOWN_WR,
                GLASS_TCP_FIN_WAIT_2, GLASS_CAUSE_RCV_ACK_OF_FIN);
    assert_int_equal(c->side[S].state, GLASS_TCP_CLOSE_WAIT);
    assert_int_equal(c->note_count[GLASS_ANA_NOTE_HALF_CLOSED], 1);
    /* from the FIN (frame 4) to the last frame: 10 + 10 + 10 ms + 3 s + 10 ms */
    assert_int_equal(c->half_closed_for, MS(3040));
    assert_int_equal(c->note_count[GLASS_ANA_NOTE_NEVER_CLOSED], 0);
    assert_string_equal(c->conn_state, "S2");
}

/* The capture starts in the middle: both sides are taken for ESTABLISHED, and it says so. */
static void test_midstream(void **state)
{
    struct tc *t = *state;
    uint64_t f = seg(t, C, PSH | ACK, 101, 201, 100);
    assert_int_equal(t->pi[f].state[C], GLASS_TCP_ESTABLISHED);
    assert_int_equal(t->pi[f].state[S], GLASS_TCP_ESTABLISHED);
    assert_true(t->pi[f].notes & GLASS_ANAN(MIDSTREAM));
    assert_int_equal(t->pi[f].rel_seq, 1); /* Wireshark: seq - 1 is the base */
    seg(t, S, ACK, 201, 201, 0);
    const struct glass_ana_conn *c = finish_one(t);
    assert_true(c->midstream);
    expect_hist(&c->side[C], 1, GLASS_TCP_ESTABLISHED, GLASS_ANA_CAUSE_MIDSTREAM);
    expect_hist(&c->side[S], 1, GLASS_TCP_ESTABLISHED, GLASS_ANA_CAUSE_MIDSTREAM);
    assert_int_equal(c->note_count[GLASS_ANA_NOTE_NEVER_CLOSED], 1);
    assert_string_equal(c->conn_state, "OTH");
    /* the lower port is the server even though it sent second */
    assert_int_equal(c->side[S].ep.port, SRV_PORT);
}

/* Midstream with the first segment from the server: client is still the ephemeral side, and
 * Zeek's history marks the flip. */
static void test_midstream_server_first(void **state)
{
    struct tc *t = *state;
    seg(t, S, PSH | ACK, 201, 101, 100);
    const struct glass_ana_conn *c = finish_one(t);
    assert_int_equal(c->side[GLASS_ANA_CLIENT].ep.port, CLI_PORT);
    assert_int_equal(c->history[0], '^');
}

/* A new SYN with another ISN on the 4-tuple of a finished connection: a new tcp.stream, the
 * old TIME_WAIT taken over (reused_by_syn), Wireshark's reused_ports flag. */
static void test_port_reuse(void **state)
{
    struct tc *t = *state;
    handshake(t);
    seg(t, C, FIN | ACK, 1, 1, 0);
    seg(t, S, FIN | ACK, 1, 2, 0);
    seg(t, C, ACK, 2, 2, 0);
    t->cli_isn = 900000;
    t->srv_isn = 7000000;
    uint64_t syn = seg(t, C, SYN, 0, 0, 0);
    assert_true(t->pi[syn].flags & GLASS_ANAF(REUSED_PORTS));
    assert_int_equal(t->pi[syn].conn->stream, 1);
    assert_int_equal(t->nconns, 1); /* the old one was finalised at the SYN */
    seg(t, S, SYN | ACK, 0, 1, 0);
    seg(t, C, ACK, 1, 1, 0);
    glass_ana_finish(ana(t));
    assert_int_equal(t->nconns, 2);
    const struct glass_ana_conn *old = &t->conns[0], *neu = &t->conns[1];
    assert_int_equal(old->stream, 0);
    assert_string_equal(old->end, "reused");
    const struct glass_ana_side *oc = &old->side[C];
    assert_int_equal(oc->hist[oc->nhist - 1].to, GLASS_TCP_CLOSED);
    assert_int_equal(oc->hist[oc->nhist - 1].cause, GLASS_CAUSE_REUSED_BY_SYN);
    assert_int_equal(neu->stream, 1);
    assert_true(neu->reused);
    assert_int_equal(neu->side[C].state, GLASS_TCP_ESTABLISHED);
    assert_int_equal(neu->flag_count[GLASS_ANA_REUSED_PORTS], 1);
}

/* Long after the old connection was finalised and freed, its tombstone still tells that a
 * SYN with another ISN reuses the 4-tuple (tshark flags it however late it comes). */
static void test_port_reuse_after_linger(void **state)
{
    struct tc *t = *state;
    t->cfg.close_linger = GLASS_SEC(1);
    handshake(t);
    seg(t, C, FIN | ACK, 1, 1, 0);
    seg(t, S, FIN | ACK, 1, 2, 0);
    seg(t, C, ACK, 2, 2, 0);
    t->cli_isn += 123456;
    uint64_t syn = seg_full(t, C, SYN, 0, 0, 0, 1000, -1, GLASS_SEC(30));
    assert_int_equal(t->nconns, 1);
    assert_string_equal(t->conns[0].end, "closed");
    assert_true(t->pi[syn].flags & GLASS_ANAF(REUSED_PORTS));
    assert_int_equal(t->pi[syn].conn->stream, 1);
    /* without tombstones it is just a new connection */
    glass_ana_finish(ana(t));
    glass_ana_free(t->a);
    t->a = NULL;
    t->cfg.max_tombstones = 0;
    handshake(t);
    seg(t, C, RST, 1, 0, 0);
    t->cli_isn += 99;
    syn = seg_full(t, C, SYN, 0, 0, 0, 1000, -1, GLASS_SEC(30));
    assert_false(t->pi[syn].flags & GLASS_ANAF(REUSED_PORTS));
    glass_ana_finish(ana(t));
}

/* The same ISN again once both sides are done: a new connection too (unlike tshark, which
 * keeps it in the old stream as a retransmission), unless configured like tshark. */
static void test_reuse_same_isn(void **state)
{
    struct tc *t = *state;
    seg(t, C, SYN, 0, 0, 0);
    seg(t, S, RST | ACK, 0, 1, 0);
    uint64_t again = seg(t, C, SYN, 0, 0, 0);
    assert_int_equal(t->pi[again].conn->stream, 1);
    assert_false(t->pi[again].flags & GLASS_ANAF(REUSED_PORTS));
    glass_ana_finish(ana(t));
    assert_int_equal(t->nconns, 2);
}

static void test_reuse_same_isn_tshark(void **state)
{
    struct tc *t = *state;
    t->cfg.finished_syn_is_new = false;
    seg(t, C, SYN, 0, 0, 0);
    seg(t, S, RST | ACK, 0, 1, 0);
    uint64_t again = seg(t, C, SYN, 0, 0, 0);
    assert_int_equal(t->pi[again].conn->stream, 0);
    assert_true(t->pi[again].flags & GLASS_ANAF(RETRANSMISSION));
    glass_ana_finish(ana(t));
    assert_int_equal(t->nconns, 1);
}

static void test_syn_unanswered(void **state)
{
    struct tc *t = *state;
    seg(t, C, SYN, 0, 0, 0);
    uint64_t r = seg_full(t, C, SYN, 0, 0, 0, 1000, -1, GLASS_SEC(1));
    assert_true(t->pi[r].flags & GLASS_ANAF(RETRANSMISSION));
    const struct glass_ana_conn *c = finish_one(t);
    assert_int_equal(c->note_count[GLASS_ANA_NOTE_SYN_UNANSWERED], 1);
    assert_int_equal(c->side[C].state, GLASS_TCP_SYN_SENT);
    assert_int_equal(c->side[S].state, GLASS_ANA_STATE_UNKNOWN);
    assert_string_equal(c->conn_state, "S0");
    assert_int_equal(c->note_count[GLASS_ANA_NOTE_NEVER_CLOSED], 0);
}

/* Both SYNs cross: SYN_SENT -> SYN_RCVD -> ESTABLISHED on both sides (RFC 9293 Figure 8). */
static void test_simultaneous_open(void **state)
{
    struct tc *t = *state;
    seg(t, C, SYN, 0, 0, 0);
    seg_full(t, S, SYN, 0, 0, 0, 1000, -1, MS(1));
    seg(t, C, SYN | ACK, 0, 1, 0);
    seg_full(t, S, SYN | ACK, 0, 1, 0, 1000, -1, MS(1));
    const struct glass_ana_conn *c = finish_one(t);
    for (int s = 0; s < 2; s++)
        expect_hist(&c->side[s], 3, GLASS_TCP_SYN_SENT, GLASS_CAUSE_APP_CONNECT, GLASS_TCP_SYN_RCVD,
                    GLASS_CAUSE_RCV_SYN, GLASS_TCP_ESTABLISHED, GLASS_CAUSE_RCV_ACK_OF_SYN);
}

/* The capture starts at the SYN,ACK. */
static void test_synack_first(void **state)
{
    struct tc *t = *state;
    seg(t, S, SYN | ACK, 0, 1, 0);
    seg(t, C, ACK, 1, 1, 0);
    const struct glass_ana_conn *c = finish_one(t);
    assert_int_equal(c->side[GLASS_ANA_CLIENT].ep.port, CLI_PORT);
    assert_int_equal(c->side[C].state, GLASS_TCP_ESTABLISHED);
    assert_int_equal(c->side[S].state, GLASS_TCP_ESTABLISHED);
    assert_int_equal(c->side[S].hist[0].to, GLASS_TCP_SYN_RCVD);
}

static void test_time_wait_assassination(void **state)
{
    struct tc *t = *state;
    handshake(t);
    seg(t, C, FIN | ACK, 1, 1, 0);
    seg(t, S, FIN | ACK, 1, 2, 0);
    seg(t, C, ACK, 2, 2, 0);
    uint64_t r = seg(t, S, RST, 2, 0, 0);
    assert_true(t->pi[r].notes & GLASS_ANAN(TIME_WAIT_ASSASSINATION));
    assert_int_equal(t->pi[r].state[C], GLASS_TCP_TIME_WAIT);
    const struct glass_ana_conn *c = finish_one(t);
    assert_int_equal(c->note_count[GLASS_ANA_NOTE_TIME_WAIT_ASSASSINATION], 1);
}

static void test_rst_mid_transfer(void **state)
{
    struct tc *t = *state;
    handshake(t);
    seg(t, S, PSH | ACK, 1, 1, 1000);
    seg(t, S, PSH | ACK, 1001, 1, 1000);
    uint64_t r = seg(t, C, RST | ACK, 1, 1001, 0); /* close() with data unread */
    assert_true(t->pi[r].notes & GLASS_ANAN(RST_MID_TRANSFER));
    const struct glass_ana_conn *c = finish_one(t);
    assert_int_equal(c->note_count[GLASS_ANA_NOTE_RST_MID_TRANSFER], 1);
    assert_string_equal(c->conn_state, "RSTO");
}

/* Data arriving after close(): Linux answers with RST (close_unread). */
static void test_rst_after_close_is_close_unread(void **state)
{
    struct tc *t = *state;
    handshake(t);
    seg(t, C, FIN | ACK, 1, 1, 0);
    seg(t, S, ACK, 1, 2, 0);
    seg(t, S, PSH | ACK, 1, 2, 100);
    seg(t, C, RST, 2, 0, 0);
    const struct glass_ana_conn *c = finish_one(t);
    const struct glass_ana_side *cl = &c->side[C];
    assert_int_equal(cl->hist[cl->nhist - 1].cause, GLASS_CAUSE_CLOSE_UNREAD);
    assert_int_equal(cl->hist[2].cause, GLASS_CAUSE_APP_CLOSE); /* not a shutdown() */
}

static void test_never_closed(void **state)
{
    struct tc *t = *state;
    handshake(t);
    seg(t, C, PSH | ACK, 1, 1, 10);
    seg(t, S, ACK, 1, 11, 0);
    const struct glass_ana_conn *c = finish_one(t);
    assert_int_equal(c->note_count[GLASS_ANA_NOTE_NEVER_CLOSED], 1);
    assert_string_equal(c->conn_state, "S1");
    assert_string_equal(c->end, "end");
}

/* ---- Wireshark's flags -------------------------------------------------------------------- */

static void test_flag_retransmission(void **state)
{
    struct tc *t = *state;
    handshake(t);
    seg(t, C, PSH | ACK, 1, 1, 100);
    uint64_t r = seg_full(t, C, PSH | ACK, 1, 1, 100, 1000, -1, MS(200));
    assert_int_equal(t->pi[r].flags, GLASS_ANAF(RETRANSMISSION));
    glass_ana_finish(ana(t));
}

static void test_flag_fast_retransmission(void **state)
{
    struct tc *t = *state;
    handshake(t);
    seg(t, C, PSH | ACK, 1, 1, 100);
    seg(t, C, PSH | ACK, 101, 1, 100);
    seg(t, C, PSH | ACK, 201, 1, 100);
    /* the second segment is lost after the capture point */
    uint64_t a = seg(t, S, ACK, 1, 101, 0);
    uint64_t d1 = seg(t, S, ACK, 1, 101, 0);
    uint64_t d2 = seg(t, S, ACK, 1, 101, 0);
    assert_int_equal(t->pi[a].flags, 0);
    assert_int_equal(t->pi[d1].flags, GLASS_ANAF(DUPLICATE_ACK));
    assert_int_equal(t->pi[d1].dupack_num, 1);
    assert_int_equal(t->pi[d2].dupack_num, 2);
    assert_int_equal(t->pi[d2].dupack_frame, a);
    uint64_t fr = seg_full(t, C, PSH | ACK, 101, 1, 100, 1000, -1, MS(5));
    assert_int_equal(t->pi[fr].flags, GLASS_ANAF(FAST_RETRANSMISSION));
    /* more than 20 ms after the last dup ACK: only a retransmission */
    seg(t, S, ACK, 1, 101, 0);
    uint64_t late = seg_full(t, C, PSH | ACK, 101, 1, 100, 1000, -1, MS(25));
    assert_int_equal(t->pi[late].flags, GLASS_ANAF(RETRANSMISSION));
    glass_ana_finish(ana(t));
}

static void test_flag_spurious_retransmission(void **state)
{
    struct tc *t = *state;
    handshake(t);
    seg(t, C, PSH | ACK, 1, 1, 100);
    seg(t, S, ACK, 1, 101, 0);
    uint64_t r = seg(t, C, PSH | ACK, 1, 1, 100);
    assert_int_equal(t->pi[r].flags, GLASS_ANAF(SPURIOUS_RETRANSMISSION));
    glass_ana_finish(ana(t));
}

static void test_flag_out_of_order_and_lost(void **state)
{
    struct tc *t = *state;
    handshake(t);
    seg(t, C, PSH | ACK, 1, 1, 100);
    uint64_t gap = seg(t, C, PSH | ACK, 201, 1, 100);
    assert_int_equal(t->pi[gap].flags, GLASS_ANAF(LOST_SEGMENT));
    /* within 3 ms (no iRTT: the handshake's ACK time is known, so use less than it) */
    uint64_t ooo = seg_full(t, C, PSH | ACK, 101, 1, 100, 1000, -1, MS(1));
    assert_int_equal(t->pi[ooo].flags, GLASS_ANAF(OUT_OF_ORDER));
    glass_ana_finish(ana(t));
}

static void test_flag_ack_lost_segment(void **state)
{
    struct tc *t = *state;
    handshake(t);
    seg(t, C, PSH | ACK, 1, 1, 100);
    uint64_t a = seg(t, S, ACK, 1, 301, 0);
    assert_int_equal(t->pi[a].flags, GLASS_ANAF(ACK_LOST_SEGMENT));
    glass_ana_finish(ana(t));
}

static void test_flag_zero_window_family(void **state)
{
    struct tc *t = *state;
    handshake(t);
    seg(t, C, PSH | ACK, 1, 1, 100);
    uint64_t zw = seg_full(t, S, ACK, 1, 101, 0, 0, -1, MS(10));
    assert_int_equal(t->pi[zw].flags, GLASS_ANAF(ZERO_WINDOW));
    uint64_t probe = seg(t, C, ACK, 101, 1, 1);
    assert_int_equal(t->pi[probe].flags, GLASS_ANAF(ZERO_WINDOW_PROBE));
    uint64_t pack = seg_full(t, S, ACK, 1, 101, 0, 0, -1, MS(10));
    assert_int_equal(t->pi[pack].flags,
                     GLASS_ANAF(ZERO_WINDOW) | GLASS_ANAF(ZERO_WINDOW_PROBE_ACK));
    uint64_t upd = seg_full(t, S, ACK, 1, 101, 0, 2000, -1, MS(10));
    assert_int_equal(t->pi[upd].flags, GLASS_ANAF(WINDOW_UPDATE));
    glass_ana_finish(ana(t));
}

static void test_flag_window_full(void **state)
{
    struct tc *t = *state;
    /* no window scaling on either side: the window is the raw field */
    seg(t, C, SYN, 0, 0, 0);
    seg_full(t, S, SYN | ACK, 0, 1, 0, 300, -1, MS(10));
    seg(t, C, ACK, 1, 1, 0);
    seg_full(t, S, ACK, 1, 1, 0, 300, -1, MS(10));
    uint64_t a = seg(t, C, PSH | ACK, 1, 1, 200);
    assert_int_equal(t->pi[a].flags, 0);
    uint64_t full = seg(t, C, PSH | ACK, 201, 1, 100);
    assert_int_equal(t->pi[full].flags, GLASS_ANAF(WINDOW_FULL));
    glass_ana_finish(ana(t));
}

static void test_flag_window_full_scaled(void **state)
{
    struct tc *t = *state;
    seg_full(t, C, SYN, 0, 0, 0, 1000, 2, MS(10));
    seg_full(t, S, SYN | ACK, 0, 1, 0, 1000, 3, MS(10));
    seg(t, C, ACK, 1, 1, 0);
    /* the server's window 100 << 3 = 800 */
    uint64_t s = seg_full(t, S, ACK, 1, 1, 0, 100, -1, MS(10));
    assert_int_equal(t->pi[s].win_scaled, 800);
    uint64_t full = seg(t, C, PSH | ACK, 1, 1, 800);
    assert_int_equal(t->pi[full].flags, GLASS_ANAF(WINDOW_FULL));
    glass_ana_finish(ana(t));
}

static void test_flag_keep_alive(void **state)
{
    struct tc *t = *state;
    handshake(t);
    uint64_t ka = seg(t, C, ACK, 0, 1, 0);
    assert_int_equal(t->pi[ka].flags, GLASS_ANAF(KEEP_ALIVE));
    uint64_t kaa = seg(t, S, ACK, 1, 1, 0);
    assert_int_equal(t->pi[kaa].flags, GLASS_ANAF(KEEP_ALIVE_ACK));
    /* a one-byte keep-alive (Windows) is not a retransmission */
    uint64_t ka1 = seg(t, C, ACK, 0, 1, 1);
    assert_int_equal(t->pi[ka1].flags, GLASS_ANAF(KEEP_ALIVE));
    glass_ana_finish(ana(t));
}

/* A segment that starts at the byte of an earlier one-byte segment (a probe that got in) and
 * carries more: new data, not a retransmission (Wireshark's rule). */
static void test_probe_byte_then_data(void **state)
{
    struct tc *t = *state;
    handshake(t);
    seg(t, C, PSH | ACK, 1, 1, 1);
    uint64_t more = seg(t, C, PSH | ACK, 1, 1, 100);
    assert_int_equal(t->pi[more].flags, 0);
    uint64_t again = seg(t, C, PSH | ACK, 1, 1, 100);
    assert_int_equal(t->pi[again].flags, GLASS_ANAF(RETRANSMISSION));
    glass_ana_finish(ana(t));
}

static void test_relative_numbers(void **state)
{
    struct tc *t = *state;
    handshake(t);
    uint64_t d = seg(t, C, PSH | ACK, 1, 1, 5);
    assert_int_equal(t->pi[d].rel_seq, 1);
    assert_int_equal(t->pi[d].rel_ack, 1);
    assert_int_equal(t->pi[d].seq, CLI_ISN + 1);
    assert_int_equal(t->pi[d].ack, SRV_ISN + 1);
    glass_ana_finish(ana(t));
}

/* ---- link layers, damaged frames, memory ---------------------------------------------------- */

/* Feed the same SYN with each link-layer header and check it is analysed. */
static void test_link_layers(void **state)
{
    struct tc *t = *state;
    uint8_t ip[128], frame[256];
    size_t n = build(ip, sizeof ip, C, SYN, 1, 0, 0, 1000, -1, CLI_PORT);
    struct {
        int lt;
        const uint8_t *hdr;
        size_t hlen;
    } cases[] = {
        {GLASS_LINKTYPE_RAW, (const uint8_t *)"", 0},
        {GLASS_LINKTYPE_IPV4, (const uint8_t *)"", 0},
        {GLASS_LINKTYPE_ETHERNET, (const uint8_t *)"\0\1\2\3\4\5\6\7\10\11\12\13\x08\x00", 14},
        /* 802.1Q then 802.1ad: two tags */
        {GLASS_LINKTYPE_ETHERNET,
         (const uint8_t *)"\0\1\2\3\4\5\6\7\10\11\12\13\x88\xa8\0\5\x81\x00\0\7\x08\x00", 22},
        {GLASS_LINKTYPE_LINUX_SLL, (const uint8_t *)"\0\0\0\1\0\6\0\1\2\3\4\5\0\0\x08\x00", 16},
        {GLASS_LINKTYPE_LINUX_SLL2, (const uint8_t *)"\x08\x00\0\0\0\0\0\1\0\1\4\6\0\1\2\3\4\5\0\0",
         20},
        {GLASS_LINKTYPE_NULL, (const uint8_t *)"\2\0\0\0", 4}, /* little-endian writer */
        {GLASS_LINKTYPE_NULL, (const uint8_t *)"\0\0\0\2", 4}, /* big-endian writer */
        {GLASS_LINKTYPE_LOOP, (const uint8_t *)"\0\0\0\2", 4},
    };
    struct glass_ana *a = ana(t);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(frame, cases[i].hdr, cases[i].hlen);
        memcpy(frame + cases[i].hlen, ip, n);
        t->now += MS(1);
        assert_int_equal(
            glass_ana_packet(a, t->now, cases[i].lt, frame, cases[i].hlen + n, cases[i].hlen + n),
            0);
        uint64_t f = glass_ana_totals(a)->frames;
        if (t->pi[f].conn == NULL)
            print_message("case %zu: %s\n", i, t->pi[f].skip);
        assert_non_null(t->pi[f].conn);
        assert_int_equal(t->pi[f].conn->stream, 0);
    }
    /* ARP over Ethernet, IPv6 raw, an unknown link type: skipped, not analysed */
    memcpy(frame, "\0\1\2\3\4\5\6\7\10\11\12\13\x08\x06", 14);
    assert_int_equal(glass_ana_packet(a, t->now, GLASS_LINKTYPE_ETHERNET, frame, 60, 60), 0);
    assert_string_equal(t->pi[glass_ana_totals(a)->frames].skip, "not IPv4");
    frame[0] = 0x60;
    assert_int_equal(glass_ana_packet(a, t->now, GLASS_LINKTYPE_RAW, frame, 40, 40), 0);
    assert_string_equal(t->pi[glass_ana_totals(a)->frames].skip, "not IPv4");
    assert_int_equal(glass_ana_packet(a, t->now, 147, ip, n, n), 0);
    assert_string_equal(t->pi[glass_ana_totals(a)->frames].skip, "unsupported link type");
    assert_int_equal(glass_ana_totals(a)->tcp, 9);
    glass_ana_finish(a);
}

/* A snap length that cuts the payload: the segment length still comes from the IP header. */
static void test_truncated_by_snaplen(void **state)
{
    struct tc *t = *state;
    handshake(t);
    uint8_t buf[2048];
    size_t n =
        build(buf, sizeof buf, C, PSH | ACK, CLI_ISN + 1, SRV_ISN + 1, 1000, 1000, -1, CLI_PORT);
    t->now += MS(10);
    assert_int_equal(glass_ana_packet(ana(t), t->now, GLASS_LINKTYPE_RAW, buf, 54, n), 0);
    uint64_t f = glass_ana_totals(t->a)->frames;
    assert_non_null(t->pi[f].conn);
    assert_int_equal(t->pi[f].len, 1000);
    /* cut inside the TCP header: not analysed */
    t->now += MS(10);
    assert_int_equal(glass_ana_packet(t->a, t->now, GLASS_LINKTYPE_RAW, buf, 30, n), 0);
    assert_null(t->pi[f + 1].conn);
    /* the next segment follows the cut one without a gap */
    uint64_t next = seg(t, C, PSH | ACK, 1001, 1, 10);
    assert_int_equal(t->pi[next].flags, 0);
    /* TSO: total length 0, the frame's length is the datagram's */
    n = build(buf, sizeof buf, C, PSH | ACK, CLI_ISN + 1011, SRV_ISN + 1, 500, 1000, -1, CLI_PORT);
    glass_put16(buf + 2, 0);
    t->now += MS(10);
    assert_int_equal(glass_ana_packet(t->a, t->now, GLASS_LINKTYPE_RAW, buf, n, n), 0);
    f = glass_ana_totals(t->a)->frames;
    assert_non_null(t->pi[f].conn);
    assert_int_equal(t->pi[f].len, 500);
    assert_int_equal(t->pi[f].flags, 0);
    glass_ana_finish(t->a);
}

static void test_fragments_and_bad_headers(void **state)
{
    struct tc *t = *state;
    uint8_t buf[256];
    size_t n = build(buf, sizeof buf, C, SYN, 1, 0, 0, 1000, -1, CLI_PORT);
    glass_put16(buf + 6, GLASS_IPV4_MF);
    assert_int_equal(glass_ana_packet(ana(t), t->now, GLASS_LINKTYPE_RAW, buf, n, n), 0);
    assert_string_equal(t->pi[1].skip, "IPv4 fragment");
    n = build(buf, sizeof buf, C, SYN | FIN, 1, 0, 0, 1000, -1, CLI_PORT);
    assert_int_equal(glass_ana_packet(t->a, t->now, GLASS_LINKTYPE_RAW, buf, n, n), 0);
    assert_string_equal(t->pi[2].skip, "malformed TCP header");
    buf[9] = 17; /* UDP */
    assert_int_equal(glass_ana_packet(t->a, t->now, GLASS_LINKTYPE_RAW, buf, n, n), 0);
    assert_string_equal(t->pi[3].skip, "not TCP");
    const struct glass_ana_totals *tot = glass_ana_totals(t->a);
    assert_int_equal(tot->fragments, 1);
    assert_int_equal(tot->malformed, 1);
    assert_int_equal(tot->not_tcp, 1);
    assert_int_equal(tot->conns, 0);
}

/* Memory is bounded by concurrent connections: 2000 short connections one after the other,
 * with a 1 s linger, never hold more than a handful at once; idle ones are finalised too. */
static void test_bounded_memory(void **state)
{
    struct tc *t = *state;
    t->cfg.close_linger = GLASS_SEC(1);
    t->cfg.idle_timeout = GLASS_SEC(5);
    t->cfg.on_packet = NULL;
    for (unsigned i = 0; i < 2000; i++) {
        t->cli_port = (uint16_t)(10000 + i);
        handshake(t);
        seg(t, C, FIN | ACK, 1, 1, 0);
        seg(t, S, FIN | ACK, 1, 2, 0);
        seg(t, C, ACK, 2, 2, 0);
    }
    const struct glass_ana_totals *tot = glass_ana_totals(ana(t));
    assert_int_equal(tot->conns, 2000);
    /* 6 segments of 10 ms each per connection: about 17 connections per linger second */
    assert_true(tot->peak_conns <= 20);
    assert_true(t->nconns >= 1970);
    assert_string_equal(t->conns[0].end, "closed");
    /* an idle connection goes after idle_timeout */
    t->cli_port = 9000;
    handshake(t);
    t->cli_port = 9001;
    assert_int_equal(t->n_idle, 0);
    seg_full(t, C, SYN, 0, 0, 0, 1000, -1, GLASS_SEC(6));
    assert_int_equal(t->n_idle, 1);
    glass_ana_finish(t->a);
    assert_int_equal(t->nconns, 2002);
    assert_int_equal(glass_ana_totals(t->a)->open_conns, 0);
}

/* The connection cap evicts the least recently active connection. */
static void test_max_conns(void **state)
{
    struct tc *t = *state;
    t->cfg.max_conns = 3;
    for (unsigned i = 0; i < 5; i++) {
        t->cli_port = (uint16_t)(20000 + i);
        seg(t, C, SYN, 0, 0, 0);
    }
    assert_int_equal(glass_ana_totals(ana(t))->peak_conns, 3);
    assert_int_equal(t->nconns, 2);
    assert_string_equal(t->conns[0].end, "evicted");
    assert_int_equal(t->conns[0].stream, 0);
    glass_ana_finish(t->a);
    assert_int_equal(t->nconns, 5);
    /* finish reports what is left in stream order */
    assert_int_equal(t->conns[2].stream, 2);
    assert_int_equal(t->conns[4].stream, 4);
}

/* Random bytes, and random damage to real segments, with every link type: no crash, every
 * frame reported, and the analyzer keeps its invariants (checked by the sanitizer build). */
static void test_fuzz(void **state)
{
    struct tc *t = *state;
    static const int lts[] = {GLASS_LINKTYPE_RAW, GLASS_LINKTYPE_ETHERNET, GLASS_LINKTYPE_NULL,
                              GLASS_LINKTYPE_LINUX_SLL, GLASS_LINKTYPE_LINUX_SLL2};
    uint64_t x = 0x9e3779b97f4a7c15u;
    uint8_t buf[200];
    struct glass_ana *a = ana(t);
    for (unsigned i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t n = (size_t)(x % sizeof buf);
        int lt = lts[(x >> 20) % (sizeof lts / sizeof lts[0])];
        if ((x >> 8) & 1) {
            /* a plausible segment with a few bytes changed */
            size_t m = build(buf + 4, sizeof buf - 4, (int)((x >> 9) & 1), (uint8_t)(x >> 24),
                             (uint32_t)(x >> 32) & 0xffff, (uint32_t)x & 0xfff,
                             (uint32_t)((x >> 40) % 100), (uint16_t)(x >> 48), -1,
                             (uint16_t)(40000 + ((x >> 56) & 7)));
            memcpy(buf, "\0\0\0\2", 4);
            lt = GLASS_LINKTYPE_LOOP;
            for (int k = 0; k < 3; k++)
                buf[4 + (x >> (k * 11)) % m] ^= (uint8_t)(x >> (k * 5));
            n = m + 4;
        } else {
            for (size_t k = 0; k < n; k++)
                buf[k] = (uint8_t)(x >> ((k % 8) * 8)) ^ (uint8_t)k;
            if (n > 0 && ((x >> 30) & 1))
                buf[lt == GLASS_LINKTYPE_RAW ? 0 : n - 1] = 0x45;
        }
        t->now += (x >> 33) % 5000000;
        size_t wire = n + (size_t)((x >> 44) % 3 == 0 ? (x >> 50) % 1500 : 0);
        assert_int_equal(glass_ana_packet(a, t->now, lt, buf, n, wire), 0);
    }
    assert_int_equal(glass_ana_totals(a)->frames, 200000);
    glass_ana_finish(a);
    assert_int_equal(glass_ana_totals(a)->open_conns, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_active_close),
        T(test_passive_close),
        T(test_simultaneous_close),
        T(test_fin_ack_shortcut),
        T(test_fin_out_of_order),
        T(test_fin_ack_out_of_order),
        T(test_rst_exact),
        T(test_rst_not_exact_is_ignored),
        T(test_refused),
        T(test_refused_bad_ack_ignored),
        T(test_half_close),
        T(test_midstream),
        T(test_midstream_server_first),
        T(test_port_reuse),
        T(test_port_reuse_after_linger),
        T(test_reuse_same_isn),
        T(test_reuse_same_isn_tshark),
        T(test_syn_unanswered),
        T(test_simultaneous_open),
        T(test_synack_first),
        T(test_time_wait_assassination),
        T(test_rst_mid_transfer),
        T(test_rst_after_close_is_close_unread),
        T(test_never_closed),
        T(test_flag_retransmission),
        T(test_flag_fast_retransmission),
        T(test_flag_spurious_retransmission),
        T(test_flag_out_of_order_and_lost),
        T(test_flag_ack_lost_segment),
        T(test_flag_zero_window_family),
        T(test_flag_window_full),
        T(test_flag_window_full_scaled),
        T(test_flag_keep_alive),
        T(test_probe_byte_then_data),
        T(test_relative_numbers),
        T(test_link_layers),
        T(test_truncated_by_snaplen),
        T(test_fragments_and_bad_headers),
        T(test_bounded_memory),
        T(test_max_conns),
        T(test_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
