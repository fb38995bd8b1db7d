/* glasstcp — SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full, the SYN,ACK
 * carries everything the connection needs in its ISN (and, with timestamps, in the low bits of
 * our TSval), and nothing is kept until the peer's ACK returns it. Layout in docs/synflood.md:
 *
 *   ISN = H0(4-tuple) + ((t mod 256) << 24 | m << 22 | H1(4-tuple, peer ISN, t, m) mod 2^22)
 *
 * t counts 64-second ticks, m is a 2-bit index into the MSS table; H0 and H1 are SipHash-2-4
 * under a key derived from the stack's secret. The ACK is good if ACK-1 decodes, with SEQ-1 as
 * the peer's ISN, to a tick at most GLASS_COOKIE_MAX_AGE old whose keyed hash over the tuple,
 * the ISN, the tick and the MSS index matches: every bit is authenticated, and a forged ACK
 * passes with probability (GLASS_COOKIE_MAX_AGE + 1) / 2^22 = 2^-21. */
#include "core/core.h"

#include <string.h>

/* Linux's IPv4 table (msstab): the cookie keeps the largest entry not above the peer's MSS. */
static const uint16_t mss_table[] = {536, 1300, 1440, 1460};
#define MSS_BITS 2u
_Static_assert(sizeof mss_table / sizeof mss_table[0] == 1u << MSS_BITS, "2-bit MSS index");

/* TSval low bits (as Linux's cookie_init_timestamp): the peer's window-scale shift (15 = none),
 * SACK-permitted, and an ECN bit that glasstcp never sets (no ECN). */
#define TS_BITS 6u
#define TS_MASK ((1u << TS_BITS) - 1u)
#define TS_WS_MASK 0x0Fu
#define TS_SACK 0x10u
#define TS_ECN 0x20u

void glass_syncookie_init(struct glass_stack *st)
{
    /* Derived, not drawn from the PRNG: the stack's other random choices stay as they were. */
    uint8_t label[] = "glasstcp syncookie key ?";
    for (uint8_t i = 0; i < 2; i++) {
        label[sizeof label - 2u] = (uint8_t)('0' + i);
        st->cookie_key[i] = glass_siphash(st->isn_key, label, sizeof label - 1u);
    }
}

/* The 4-tuple as our side sees it: local address and port first. */
static size_t put_tuple(uint8_t *b, uint32_t laddr, uint16_t lport, uint32_t raddr,
                        uint16_t rport)
{
    glass_put32(b, laddr);
    glass_put16(b + 4, lport);
    glass_put32(b + 6, raddr);
    glass_put16(b + 10, rport);
    return 12;
}

/* H0: 64 bits of the tuple alone; its low 32 offset the cookie, its high 32 are the
 * connection's TSval offset (recomputable when the ACK comes back). */
static uint64_t h0(const struct glass_stack *st, const uint8_t *tuple)
{
    uint8_t b[13];
    memcpy(b, tuple, 12);
    b[12] = 0;
    return glass_siphash(st->cookie_key, b, sizeof b);
}

#define MAC_BITS 22u
#define MAC_MASK ((1u << MAC_BITS) - 1u)

static uint32_t h1(const struct glass_stack *st, const uint8_t *tuple, uint32_t peer_isn,
                   uint32_t tick, uint32_t mss_idx)
{
    uint8_t b[22];
    memcpy(b, tuple, 12);
    glass_put32(b + 12, peer_isn);
    glass_put32(b + 16, tick);
    b[20] = (uint8_t)mss_idx;
    b[21] = 1;
    return (uint32_t)glass_siphash(st->cookie_key, b, sizeof b) & MAC_MASK;
}

static uint32_t tick_now(const struct glass_stack *st)
{
    return (uint32_t)(st->now / GLASS_COOKIE_TICK);
}

static uint32_t make_cookie(const struct glass_stack *st, const uint8_t *tuple, uint32_t peer_isn,
                            uint32_t tick, uint32_t mss_idx)
{
    uint32_t v = (tick & 0xFFu) << 24 | mss_idx << MAC_BITS | h1(st, tuple, peer_isn, tick, mss_idx);
    return (uint32_t)h0(st, tuple) + v;
}

static uint32_t mss_index(uint32_t peer_mss)
{
    uint32_t i = (1u << MSS_BITS) - 1u;
    while (i > 0 && mss_table[i] > peer_mss)
        i--;
    return i;
}

/* Our timestamp clock for a cookie's connection: milliseconds plus the H0-derived offset. */
static uint32_t cookie_ts_now(const struct glass_stack *st, uint64_t hash0)
{
    return glass_tcp_ts_clock(st, (uint32_t)(hash0 >> 32));
}

/* TSval with the options in its low TS_BITS, never ahead of our clock (so the connection's
 * later TSvals, taken from the same clock, never go backwards: RFC 7323 §5.4). */
static uint32_t encode_ts(uint32_t now_ts, uint32_t opts)
{
    uint32_t ts = (now_ts & ~TS_MASK) | opts;
    if ((int32_t)(ts - now_ts) > 0)
        ts -= TS_MASK + 1u;
    return ts;
}

void glass_syncookie_send(struct glass_stack *st, const struct glass_tcb *l,
                          const struct glass_ipv4_repr *ip, const struct glass_tcp_repr *r)
{
    uint8_t tuple[12];
    put_tuple(tuple, ip->dst, r->dst_port, ip->src, r->src_port);
    uint32_t peer_mss = r->mss ? r->mss : GLASS_DEFAULT_PEER_MSS;
    uint32_t idx = mss_index(peer_mss);
    uint32_t tick = tick_now(st);
    struct glass_tcp_repr s = {
        .src_port = r->dst_port,
        .dst_port = r->src_port,
        .seq = make_cookie(st, tuple, r->seq, tick, idx),
        .ack = r->seq + 1u,
        .flags = GLASS_TH_SYN | GLASS_TH_ACK,
        .wscale = -1,
        .mss = glass_tcp_mss_for(st, ip->dst),
        .win = (uint16_t)(l->rb.cap > 65535u ? 65535u : l->rb.cap), /* RFC 7323 §2.2 */
    };
    /* Without timestamps nothing can carry SACK or the window scale: they are not offered
     * (Linux tcp_conn_request clears the options). */
    if (st->cfg.timestamps && r->has_ts) {
        uint32_t opts = TS_WS_MASK;
        if (st->cfg.window_scaling && r->wscale >= 0) {
            opts = (uint32_t)(r->wscale > 14 ? 14 : r->wscale); /* RFC 7323 §2.3 */
            s.wscale = (int16_t)glass_tcp_our_wscale(l); /* the child gets l's buffers */
        }
        if (st->cfg.sack && r->sack_perm) {
            opts |= TS_SACK;
            s.sack_perm = true;
        }
        s.has_ts = true;
        s.ts_val = encode_ts(cookie_ts_now(st, h0(st, tuple)), opts);
        s.ts_ecr = r->ts_val;
    }
    glass_mib_inc(st, GLASS_MIB_TcpExtSyncookiesSent);
    (void)glass_tcp_xmit_raw(st, ip->dst, ip->src, &s);
}

/* The options a returning TSecr carries; false if they cannot be ours (Linux
 * cookie_timestamp_decode). */
static bool decode_ts(const struct glass_stack *st, const struct glass_tcp_repr *r,
                      struct glass_cookie *c)
{
    c->wscale = -1;
    c->sack = false;
    c->ts = false;
    if (!st->cfg.timestamps || !r->has_ts || r->ts_ecr == 0)
        return true; /* no timestamps: the SYN,ACK offered only the MSS */
    uint32_t opts = r->ts_ecr & TS_MASK;
    if (opts & TS_ECN)
        return false;
    if ((opts & TS_SACK) && !st->cfg.sack)
        return false;
    uint32_t ws = opts & TS_WS_MASK;
    if (ws != TS_WS_MASK && (ws > 14u || !st->cfg.window_scaling))
        return false;
    c->ts = true;
    c->sack = (opts & TS_SACK) != 0;
    c->wscale = ws == TS_WS_MASK ? -1 : (int8_t)ws;
    return true;
}

bool glass_syncookie_check(struct glass_stack *st, const struct glass_ipv4_repr *ip,
                           const struct glass_tcp_repr *r, struct glass_cookie *out)
{
    uint8_t tuple[12];
    put_tuple(tuple, ip->dst, r->dst_port, ip->src, r->src_port);
    uint32_t cookie = r->ack - 1u;
    uint32_t peer_isn = r->seq - 1u;
    uint64_t hash0 = h0(st, tuple);
    uint32_t v = cookie - (uint32_t)hash0;
    uint32_t now = tick_now(st);
    uint32_t age = (now - (v >> 24)) & 0xFFu;
    if (age > GLASS_COOKIE_MAX_AGE)
        return false; /* expired, or not a cookie at all */
    uint32_t idx = (v >> MAC_BITS) & ((1u << MSS_BITS) - 1u);
    if ((v & MAC_MASK) != h1(st, tuple, peer_isn, now - age, idx))
        return false; /* the keyed hash does not match */
    if (!decode_ts(st, r, out))
        return false;
    out->peer_isn = peer_isn;
    out->iss = cookie;
    out->mss = mss_table[idx];
    out->ts_off = (uint32_t)(hash0 >> 32);
    return true;
}
