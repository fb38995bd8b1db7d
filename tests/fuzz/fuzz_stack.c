/* glasstcp — fuzz target (b): one stack with a listener, an accepted connection and an active
 * open, fed arbitrary sequences of segments. Structure-aware: the input is a list of operations
 * (see op_*) whose segments are aimed at one of the live 4-tuples with sequence and
 * acknowledgment numbers near what the connection expects (RCV.NXT / SND.UNA plus a signed
 * delta from the input), correct checksums and arbitrary flags, window, urgent pointer, options
 * and payload, so that they get past the parsers into the state machine. Between them: time,
 * socket calls, ICMP errors quoting the connections, IP fragments and raw bytes.
 * After every operation glass_stack_check() must hold and every packet the stack sends must
 * parse; after glass_stack_free() every byte must be back. */
#include "fuzz.h"

#include <string.h>

#include "core/core.h"
#include "core/tcb.h"
#include "wire/wire_priv.h"
#include <glass/glass.h>

#define US GLASS_IP4(192, 0, 2, 2)
#define PEER GLASS_IP4(192, 0, 2, 1)
#define PASSIVE_PORT 40000 /* the peer's port of the accepted connection */
#define ACTIVE_PORT 5000   /* the peer's port our connect() goes to */

struct world {
    struct glass_stack *st;
    struct fuzz_mem mem;
    glass_time_t now;
    int lfd, afd, cfd; /* listener, accepted, connected */
    uint16_t cport;    /* our port of the active open */
};

/* Check that one datagram we sent parses, checksums included. */
static void check_sent(uint8_t *out, size_t n)
{
    struct glass_ipv4_repr ip;
        int r = glass_ipv4_parse(out, (size_t)n, true, &ip);
        FUZZ_CHECK(r == GLASS_DROP_NONE, "we sent a bad IPv4 header: %s", glass_drop_name(r));
        if (ip.proto == GLASS_IPV4_PROTO_TCP && (ip.frag & (GLASS_IPV4_MF | GLASS_IPV4_OFFMASK)) == 0) {
            struct glass_tcp_repr t;
            r = glass_tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, true, &t);
            FUZZ_CHECK(r == GLASS_DROP_NONE, "we sent a bad TCP segment: %s", glass_drop_name(r));
        }
}

/* Take every datagram the stack has, the payload left in place (glass_stack_output_sg), join
 * it and check that it parses; a TSO super-segment (config tso_max) is cut into its pieces as
 * a NIC would, and each piece, summed, must parse and be at most an MSS of payload. */
static void drain(struct world *w)
{
    static uint8_t out[70000], piece[70000];
    struct glass_output o;
    long n;
    while ((n = glass_stack_output_sg(w->st, w->now, out, sizeof out, &o)) > 0) {
        FUZZ_CHECK((size_t)n == o.len + o.payload_len && (size_t)n <= sizeof out,
                   "output_sg parts %zu + %zu for %ld", o.len, o.payload_len, n);
        if (o.gso_size == 0) {
            if (o.payload_len > 0)
                memcpy(out + o.len, o.payload, o.payload_len);
            check_sent(out, (size_t)n);
            continue;
        }
        size_t hl = glass_ipv4_tcp_off(out, o.len);
        FUZZ_CHECK(hl != 0, "TSO super-segment not IPv4/TCP");
        hl += (size_t)(out[hl + 12u] >> 4) * 4u;
        size_t m, k = 0, sum = 0;
        while ((m = glass_tso_piece(out, o.len, o.payload, o.payload_len, o.gso_size, k, piece,
                                    sizeof piece)) > 0) {
            FUZZ_CHECK(m - hl <= o.gso_size, "TSO piece %zu: %zu bytes of payload, gso %zu", k,
                       m - hl, o.gso_size);
            FUZZ_CHECK(glass_tcp_csum_fill(piece, m), "TSO piece %zu not IPv4/TCP", k);
            check_sent(piece, m);
            sum += m - hl;
            k++;
        }
        FUZZ_CHECK(k >= 2 && sum == (size_t)n - hl, "TSO: %zu pieces, %zu of %zu bytes", k, sum,
                   (size_t)n - hl);
    }
    struct glass_event ev;
    while (glass_stack_next_event(w->st, &ev))
        ;
}

static void check(struct world *w)
{
    char why[256];
    FUZZ_CHECK(glass_stack_check(w->st, why, sizeof why) == 0, "invariant: %s", why);
}

/* Every datagram goes in whole or in two parts (glass_stack_input_sg), at a cut the packet's
 * last byte chooses, so that both ways see every kind of input and must agree. */
static void input(struct world *w, const uint8_t *p, size_t n)
{
    size_t cut = n > 0 ? (size_t)p[n - 1] * 4u : 0;
    if (cut == 0 || cut >= n)
        glass_stack_input(w->st, w->now, p, n);
    else
        glass_stack_input_sg(w->st, w->now, p, cut, p + cut, n - cut, 0);
    drain(w);
}

/* IPv4 around a TCP segment. */
static size_t ip_wrap(uint8_t *buf, size_t cap, uint32_t src, uint16_t frag, uint16_t id,
                      const uint8_t *payload, size_t plen, uint8_t proto)
{
    struct glass_ipv4_repr ip = {.src = src, .dst = US, .proto = proto, .ttl = 64, .id = id,
                                 .frag = frag};
    if (cap < 20 + plen)
        return 0;
    size_t h = glass_ipv4_emit(buf, cap, &ip, plen);
    if (h == 0)
        return 0;
    memcpy(buf + h, payload, plen);
    return h + plen;
}

/* The peer's view of a target: 4-tuple and expected numbers. */
struct aim {
    uint16_t sport, dport; /* peer port, our port */
    uint32_t seq, ack;     /* what the stack expects next / what it has sent */
};

static struct aim aim_at(struct world *w, unsigned which, uint16_t random_port)
{
    struct aim a = {.sport = PASSIVE_PORT, .dport = 80};
    if (which == 1) {
        a.sport = random_port ? random_port : 1;
    } else if (which == 2) {
        a.sport = ACTIVE_PORT;
        a.dport = w->cport;
    }
    struct glass_tcb *tcb = glass_demux_conn(w->st, US, a.dport, PEER, a.sport);
    if (tcb) {
        a.seq = tcb->rcv_nxt.v;
        a.ack = tcb->snd_una.v;
        if (tcb->state == GLASS_TCP_SYN_SENT)
            a.ack = tcb->snd_nxt.v;
    }
    return a;
}

/* A segment: target, flags, deltas, window, urgent, options, payload. */
static void op_segment(struct world *w, struct fuzz_in *in, bool fragment)
{
    unsigned which = fz_u8(in) % 3;
    uint16_t rport = fz_u16(in);
    struct aim a = aim_at(w, which, rport);
    uint8_t flags = fz_u8(in);
    int16_t dseq = (int16_t)fz_u16(in), dack = (int16_t)fz_u16(in);
    uint8_t scale = fz_u8(in) & 15; /* deltas up to +-2^30 */
    uint16_t win = fz_u16(in), urg = fz_u16(in);
    size_t optlen = (size_t)(fz_u8(in) % 11) * 4;
    uint8_t seg[60 + 2048];
    memset(seg, 0, 60);
    glass_put16(seg, a.sport);
    glass_put16(seg + 2, a.dport);
    glass_put32(seg + 4, a.seq + (uint32_t)((int32_t)dseq * (1 << scale)));
    glass_put32(seg + 8, a.ack + (uint32_t)((int32_t)dack * (1 << scale)));
    seg[12] = (uint8_t)(((20 + optlen) / 4) << 4);
    seg[13] = flags;
    glass_put16(seg + 14, win);
    glass_put16(seg + 18, urg);
    for (size_t i = 0; i < optlen; i++)
        seg[20 + i] = fz_u8(in);
    size_t plen = fz_u8(in);
    if (plen & 0x80)
        plen = (plen & 0x7f) * 16u; /* up to 2032 bytes */
    for (size_t i = 0; i < plen; i++)
        seg[20 + optlen + i] = (uint8_t)(i * 7u);
    size_t n = 20 + optlen + plen;
    uint32_t sum = glass_cksum_pseudo(PEER, US, GLASS_IPV4_PROTO_TCP, (uint32_t)n);
    glass_put16(seg + 16, glass_cksum_finish(glass_cksum_add(sum, seg, n)));
    static uint8_t pkt[4200];
    if (!fragment) {
        size_t len = ip_wrap(pkt, sizeof pkt, PEER, 0, 1, seg, n, GLASS_IPV4_PROTO_TCP);
        input(w, pkt, len);
        return;
    }
    /* two fragments, split at a multiple of 8 chosen by the input */
    size_t cut = ((size_t)fz_u8(in) * 8u) % (n & ~(size_t)7u ? n & ~(size_t)7u : 8u);
    if (cut == 0 || cut >= n)
        cut = 8;
    uint16_t id = fz_u16(in);
    size_t len = ip_wrap(pkt, sizeof pkt, PEER, GLASS_IPV4_MF, id, seg, cut, GLASS_IPV4_PROTO_TCP);
    input(w, pkt, len);
    if (cut < n) {
        len = ip_wrap(pkt, sizeof pkt, PEER, (uint16_t)(cut / 8), id, seg + cut, n - cut,
                      GLASS_IPV4_PROTO_TCP);
        input(w, pkt, len);
    }
}

/* An ICMP error quoting one of our connections. */
static void op_icmp(struct world *w, struct fuzz_in *in)
{
    unsigned which = fz_u8(in) % 3;
    struct aim a = aim_at(w, which, fz_u16(in));
    uint8_t type = fz_u8(in), code = fz_u8(in);
    uint16_t mtu = fz_u16(in);
    int16_t dseq = (int16_t)fz_u16(in);
    uint8_t msg[8 + 28];
    memset(msg, 0, sizeof msg);
    msg[0] = (type & 1) ? 3 : (uint8_t)(type >> 1);
    msg[1] = code % 16;
    glass_put16(msg + 6, mtu);
    struct glass_ipv4_repr q = {.src = US, .dst = PEER, .proto = GLASS_IPV4_PROTO_TCP, .ttl = 64};
    glass_ipv4_emit(msg + 8, 20, &q, 8);
    glass_put16(msg + 28, a.dport);
    glass_put16(msg + 30, a.sport);
    glass_put32(msg + 32, a.ack + (uint32_t)(int32_t)dseq);
    glass_put16(msg + 2, glass_cksum_finish(glass_cksum_add(0, msg, sizeof msg)));
    uint8_t pkt[128];
    size_t len = ip_wrap(pkt, sizeof pkt, GLASS_IP4(198, 51, 100, 1), 0, 9, msg, sizeof msg,
                         GLASS_IPV4_PROTO_ICMP);
    input(w, pkt, len);
}

static void op_raw(struct world *w, struct fuzz_in *in)
{
    size_t n = fz_u8(in);
    uint8_t buf[256];
    for (size_t i = 0; i < n; i++)
        buf[i] = fz_u8(in);
    input(w, buf, n);
}

static void op_time(struct world *w, struct fuzz_in *in)
{
    uint8_t b = fz_u8(in);
    glass_time_t dt = (b & 0x80) ? GLASS_SEC(b & 0x7f) : GLASS_MSEC(b * 4u + 1u);
    w->now += dt;
    glass_stack_advance(w->st, w->now);
    drain(w);
}

static void op_app(struct world *w, struct fuzz_in *in)
{
    uint8_t b = fz_u8(in);
    int fd = (b & 1) ? w->afd : w->cfd;
    static uint8_t buf[65536];
    switch ((b >> 1) % 7) {
    case 0: {
        size_t n = (size_t)fz_u16(in);
        memset(buf, 'a', n);
        glass_send(w->st, fd, buf, n, 0);
        break;
    }
    case 1:
        glass_recv(w->st, fd, buf, (size_t)fz_u16(in) + 1u, 0);
        break;
    case 2:
        glass_shutdown(w->st, fd, GLASS_SHUT_WR);
        break;
    case 3:
        glass_close(w->st, fd);
        break;
    case 4: {
        struct glass_linger l = {1, 0};
        glass_setsockopt(w->st, fd, GLASS_SOL_SOCKET, GLASS_SO_LINGER, &l, sizeof l);
        glass_close(w->st, fd);
        break;
    }
    case 5: {
        int s = glass_accept(w->st, w->lfd, NULL);
        if (s >= 0)
            w->afd = s;
        break;
    }
    default: {
        int v = fz_u8(in) % 8;
        glass_setsockopt(w->st, fd, GLASS_SOL_TCP, GLASS_TCP_NODELAY, &v, sizeof v);
        break;
    }
    }
    drain(w);
}

/* Listener on 80, a handshake from PEER:40000 accepted, and connect() to PEER:5000. */
static void setup(struct world *w)
{
    struct glass_config cfg;
    glass_config_default(&cfg);
    cfg.seed = 1234;
    cfg.max_conns = 256; /* small tables: a fresh stack per input stays cheap */
    cfg.trace_ring = 64;
    cfg.tso_max = 65535; /* super-segments for this glass_stack_output_sg caller (drain) */
    cfg.event_ring = 256;
    cfg.allocator = (struct glass_allocator){fuzz_alloc, fuzz_free, &w->mem};
    w->st = glass_stack_new(&cfg);
    FUZZ_CHECK(w->st != NULL, "stack");
    glass_stack_add_iface(w->st, US, 24, 1500);
    w->now = GLASS_SEC(1);
    glass_stack_advance(w->st, w->now);
    w->lfd = glass_socket(w->st);
    struct glass_endpoint ep = {US, 80};
    FUZZ_CHECK(glass_bind(w->st, w->lfd, &ep) == 0 && glass_listen(w->st, w->lfd, 4) == 0,
               "listen");
    /* the passive handshake */
    uint8_t seg[64], pkt[128];
    struct glass_tcp_repr r = {.src_port = PASSIVE_PORT, .dst_port = 80, .seq = 1000,
                               .flags = GLASS_TH_SYN, .win = 65535, .mss = 1460, .wscale = 7,
                               .sack_perm = true};
    size_t n = glass_tcp_emit(seg, sizeof seg, &r, PEER, US);
    input(w, pkt, ip_wrap(pkt, sizeof pkt, PEER, 0, 1, seg, n, GLASS_IPV4_PROTO_TCP));
    struct glass_tcb *child = glass_demux_conn(w->st, US, 80, PEER, PASSIVE_PORT);
    FUZZ_CHECK(child != NULL, "child");
    r = (struct glass_tcp_repr){.src_port = PASSIVE_PORT, .dst_port = 80, .seq = 1001,
                                .ack = child->iss.v + 1, .flags = GLASS_TH_ACK, .win = 1024,
                                .wscale = -1};
    n = glass_tcp_emit(seg, sizeof seg, &r, PEER, US);
    input(w, pkt, ip_wrap(pkt, sizeof pkt, PEER, 0, 2, seg, n, GLASS_IPV4_PROTO_TCP));
    w->afd = glass_accept(w->st, w->lfd, NULL);
    FUZZ_CHECK(w->afd >= 0, "accept");
    /* the active open, left in SYN_SENT for the input to answer */
    w->cfd = glass_socket(w->st);
    struct glass_endpoint to = {PEER, ACTIVE_PORT};
    glass_connect(w->st, w->cfd, &to);
    struct glass_endpoint me;
    glass_getsockname(w->st, w->cfd, &me);
    w->cport = me.port;
    drain(w);
    check(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct world w;
    memset(&w, 0, sizeof w);
    setup(&w);
    struct fuzz_in in = {data, size, 0};
    for (int k = 0; k < 256 && fz_more(&in); k++) {
        switch (fz_u8(&in) % 10) {
        case 0: case 1: case 2: case 3:
            op_segment(&w, &in, false);
            break;
        case 4:
            op_segment(&w, &in, true);
            break;
        case 5: case 6:
            op_time(&w, &in);
            break;
        case 7:
            op_app(&w, &in);
            break;
        case 8:
            op_icmp(&w, &in);
            break;
        default:
            op_raw(&w, &in);
            break;
        }
        check(&w);
    }
    /* everything times out in the end */
    for (int i = 0; i < 20; i++) {
        w.now += GLASS_SEC(60);
        glass_stack_advance(w.st, w.now);
        drain(&w);
        check(&w);
    }
    glass_stack_free(w.st);
    FUZZ_CHECK(w.mem.bytes == 0 && w.mem.blocks == 0, "leaked %lld bytes", w.mem.bytes);
    return 0;
}
