/* glasstcp — ICMP for a TCP host (RFC 792, RFC 1122 §3.2.2, §4.2.3.9, RFC 1191, RFC 5927).
 *
 * In: echo requests are answered (so `ping` works); Destination Unreachable, Time Exceeded and
 * Parameter Problem are errors about a datagram we sent, and are believed only after the quoted
 * header names a live TCP connection and a sequence number in SND.UNA..SND.NXT (RFC 5927
 * §4.1, catalogue 48, 51); everything else (echo replies, Source Quench, redirects, timestamp,
 * address mask, unknown types) is counted and ignored (catalogue 54-56).
 *
 * What an accepted error does to the connection:
 *   - Fragmentation Needed (type 3 code 4): lower the connection's path MTU (RFC 1191 §6.3;
 *     never up, never below 576, values below 68 ignored: catalogue 50), lower its effective
 *     MSS, and send again what is in flight at the new size (RFC 1191 §6.4).
 *   - Port or Protocol Unreachable in SYN_SENT: a hard error, the connection attempt fails
 *     (RFC 1122 §4.2.3.9; Linux: ECONNREFUSED / ENOPROTOOPT).
 *   - anything else, and every error in a synchronized state: a soft error, kept in
 *     tcb->soft_error and reported only if the connection later times out (RFC 5927 §4.1,
 *     RFC 9293 MUST-56, Linux sk_err_soft).
 *
 * Out: echo replies, Protocol Unreachable (ip.c) and reassembly Time Exceeded (ip_reass.c),
 * never about an ICMP error, a non-initial fragment, or a source that is not a single host
 * (RFC 1122 §3.2.2), and errors only through a token bucket (Linux icmp_msgs_per_sec/_burst). */
#include "core/core.h"
#include "util/assert.h"

#include <glass/err.h>

#include <string.h>

#define ICMP_HDR 8u
#define ICMP_ECHOREPLY 0u
#define ICMP_SOURCEQUENCH 4u
#define ICMP_REDIRECT 5u
#define ICMP_ECHO 8u
#define ICMP_PARAMPROB 12u

/* Destination Unreachable codes (RFC 792, RFC 1122 §3.2.2.1, RFC 1812 §5.2.7.1). */
#define UNREACH_NET 0u
#define UNREACH_HOST 1u
#define UNREACH_PROTO 2u
#define UNREACH_PORT 3u
#define UNREACH_NEEDFRAG 4u
#define UNREACH_SRCFAIL 5u

/* The errno Linux reports for an ICMP error (net/ipv4/icmp.c icmp_err_convert[], tcp_v4_err).
 * EHOSTDOWN, ENONET and EPROTO have no glass code: the nearest one is used. */
static int unreach_errno(uint8_t code)
{
    switch (code) {
    case UNREACH_NET:
    case 6:  /* destination network unknown */
    case 9:  /* network administratively prohibited */
    case 11: /* network unreachable for TOS */
        return -GLASS_ENETUNREACH;
    case UNREACH_PROTO:
        return -GLASS_ENOPROTOOPT;
    case UNREACH_PORT:
        return -GLASS_ECONNREFUSED;
    case UNREACH_NEEDFRAG:
        return -GLASS_EMSGSIZE;
    case UNREACH_SRCFAIL:
        return -GLASS_EOPNOTSUPP;
    default: /* host unreachable, unknown, isolated, prohibited, precedence (1, 7, 8, 10, 12-15) */
        return -GLASS_EHOSTUNREACH;
    }
}

/* ---- the ICMP error token bucket ------------------------------------------------------------ */

static bool ratelimit_ok(struct glass_stack *st)
{
    struct glass_ipx *x = &st->ipx;
    if (!x->icmp_bucket_init) {
        x->icmp_bucket_init = true;
        x->icmp_tokens = GLASS_ICMP_BURST;
        x->icmp_refill = st->now;
    }
    glass_time_t per = GLASS_NSEC_PER_SEC / GLASS_ICMP_RATE;
    if (st->now > x->icmp_refill) {
        glass_time_t gained = (st->now - x->icmp_refill) / per;
        if (gained > 0) {
            uint64_t t = x->icmp_tokens + (gained > GLASS_ICMP_BURST ? GLASS_ICMP_BURST : gained);
            x->icmp_tokens = (uint32_t)(t > GLASS_ICMP_BURST ? GLASS_ICMP_BURST : t);
            x->icmp_refill += gained * per;
        }
    }
    if (x->icmp_tokens == 0) {
        x->mib[GLASS_IPX_IcmpOutRateLimitGlobal]++;
        return false;
    }
    x->icmp_tokens--;
    return true;
}

/* ---- output ---------------------------------------------------------------------------------- */

/* Is this datagram (already accepted by ip.c, so its source is a single host and its
 * destination one of our unicast addresses) itself an ICMP error or unparseable ICMP? */
static bool is_icmp_error(const struct glass_ipv4_repr *ip)
{
    if (ip->proto != GLASS_IPV4_PROTO_ICMP)
        return false;
    if ((ip->frag & GLASS_IPV4_OFFMASK) != 0 || ip->payload_len < 1u)
        return true; /* cannot tell: do not answer */
    uint8_t type = ip->payload[0];
    /* RFC 1122 §3.2.2: query types are 0, 8, 13-18; everything else counts as an error. */
    return !(type == ICMP_ECHOREPLY || type == ICMP_ECHO || (type >= 13u && type <= 18u));
}

void glass_icmp_send_error(struct glass_stack *st, const struct glass_ipv4_repr *ip, uint8_t type,
                           uint8_t code, uint16_t mtu)
{
    /* RFC 1122 §3.2.2: never about an ICMP error, a non-initial fragment, a datagram sent to
     * a broadcast or multicast address, or one whose source is not a single host. */
    if (is_icmp_error(ip) || (ip->frag & GLASS_IPV4_OFFMASK) != 0 ||
        !glass_is_local_addr(st, ip->dst) || glass_ip_martian_source(st, ip->src))
        return;
    if (!ratelimit_ok(st))
        return;
    /* Quote the header and as much of the data as keeps the error within 576 bytes (RFC 1812
     * §4.3.2.3; RFC 792 asks for at least 64 bits). */
    size_t room = GLASS_ICMP_ERROR_MAX - GLASS_IPV4_HDR_MIN - ICMP_HDR;
    size_t qlen = (size_t)ip->hdr_len + ip->payload_len;
    if (qlen > room)
        qlen = room;
    const uint8_t *quote = ip->payload - ip->hdr_len;
    uint8_t hdr[ICMP_HDR] = {type, code, 0, 0, 0, 0, 0, 0};
    if (type == GLASS_ICMP_UNREACH && code == UNREACH_NEEDFRAG)
        glass_put16(hdr + 6, mtu); /* RFC 1191 §4: next-hop MTU */
    uint16_t ck = glass_cksum_finish(glass_cksum_add(glass_cksum_add(0, hdr, ICMP_HDR), quote, qlen));
    glass_put16(hdr + 2, ck);
    if (!glass_ip_output(st, ip->dst, ip->src, GLASS_IPV4_PROTO_ICMP, 0, hdr, ICMP_HDR, quote, qlen))
        return;
    st->ipx.mib[GLASS_IPX_IcmpOutMsgs]++;
    if (type == GLASS_ICMP_UNREACH)
        st->ipx.mib[GLASS_IPX_IcmpOutDestUnreachs]++;
    else if (type == GLASS_ICMP_TIMXCEED)
        st->ipx.mib[GLASS_IPX_IcmpOutTimeExcds]++;
}

/* RFC 792 / RFC 1122 §3.2.2.6: the reply carries the request's identifier, sequence number and
 * data unchanged, from the address the request was sent to. */
static int echo_reply(struct glass_stack *st, const struct glass_ipv4_repr *ip)
{
    const uint8_t *req = ip->payload;
    size_t len = ip->payload_len;
    uint8_t hdr[ICMP_HDR];
    memcpy(hdr, req, ICMP_HDR);
    hdr[0] = ICMP_ECHOREPLY;
    hdr[1] = 0;
    glass_put16(hdr + 2, 0);
    uint16_t ck = glass_cksum_finish(
        glass_cksum_add(glass_cksum_add(0, hdr, ICMP_HDR), req + ICMP_HDR, len - ICMP_HDR));
    glass_put16(hdr + 2, ck);
    if (!glass_ip_output(st, ip->dst, ip->src, GLASS_IPV4_PROTO_ICMP, ip->tos, hdr, ICMP_HDR,
                         req + ICMP_HDR, len - ICMP_HDR))
        return glass_drop(st, GLASS_DROP_NOMEM); /* no room in the tx queue: as if lost */
    st->ipx.mib[GLASS_IPX_IcmpOutMsgs]++;
    st->ipx.mib[GLASS_IPX_IcmpOutEchoReps]++;
    return GLASS_DROP_NONE;
}

/* ---- errors about our TCP segments ---------------------------------------------------------- */

/* The ICMP errors that remove a passive child in SYN_RCVD (Linux tcp_v4_err's request-socket
 * case): parameter problem, time exceeded, net or host unreachable. */
static bool passive_child_fatal(uint8_t type, uint8_t code)
{
    return type == ICMP_PARAMPROB || type == GLASS_ICMP_TIMXCEED ||
           (type == GLASS_ICMP_UNREACH && (code == UNREACH_NET || code == UNREACH_HOST));
}

/* Hard error in SYN_SENT (RFC 1122 §4.2.3.9, Linux): fail the connection attempt,
 * SYN_SENT -> CLOSED with cause rcv_icmp_unreach. */
static bool hard_error(struct glass_stack *st, struct glass_tcb *tcb, int err)
{
    st->ipx.mib[GLASS_IPX_TcpExtIcmpHardErrors]++;
    glass_tcp_drop(st, tcb, GLASS_CAUSE_RCV_ICMP_UNREACH, err);
    return true;
}

/* Send again, at the new segment size, what is in flight (RFC 1191 §6.4; Linux
 * tcp_simple_retransmit): no backoff, no congestion response, Karn's rule applies. */
static void mtu_retransmit(struct glass_stack *st, struct glass_tcb *tcb)
{
    uint32_t data_states = GLASS_TCPF(ESTABLISHED) | GLASS_TCPF(CLOSE_WAIT) |
                           GLASS_TCPF(FIN_WAIT_1) | GLASS_TCPF(CLOSING) | GLASS_TCPF(LAST_ACK);
    if (!glass_tcp_state_in(tcb, data_states) || glass_seq_eq(tcb->snd_una, tcb->snd_max))
        return;
    tcb->snd_nxt = tcb->snd_una;
    tcb->flags &= ~GLASS_TF_RTT_VALID;
    glass_tcp_kick(st, tcb);
}

/* RFC 1191 §6.3 with the floors of catalogue 50. Returns a drop reason (NONE if used). */
static int frag_needed(struct glass_stack *st, struct glass_tcb *tcb, uint16_t mtu)
{
    uint32_t cur = tcb->pmtu != 0 ? tcb->pmtu : glass_route_mtu(st, tcb->local.addr);
    if (mtu < GLASS_PMTU_FLOOR_VALID || mtu >= cur) {
        /* Below 68 no IPv4 link exists (RFC 791); at or above the current estimate the message
         * cannot be about our datagram (RFC 1191 §6.3: never raise the estimate from ICMP). */
        st->ipx.mib[GLASS_IPX_IcmpInBadMtu]++;
        return glass_drop(st, GLASS_DROP_ICMP);
    }
    if (mtu < GLASS_PMTU_MIN) {
        /* A path below 576 is believed only down to 576 (RFC 1122 §3.3.3: every host takes
         * 576-byte datagrams; Linux clamps to min_pmtu too): a forged tiny MTU cannot make us
         * send tiny segments (CVE-2004-1060). */
        mtu = GLASS_PMTU_MIN;
        if (cur <= mtu) {
            st->ipx.mib[GLASS_IPX_IcmpInBadMtu]++;
            return glass_drop(st, GLASS_DROP_ICMP);
        }
    }
    tcb->pmtu = mtu;
    st->ipx.mib[GLASS_IPX_TcpExtPmtuUpdates]++;
    uint32_t mss = (uint32_t)mtu - GLASS_IPV4_HDR_MIN - GLASS_TCP_HDR_MIN;
#ifdef GLASS_TF_TS_OK
    if ((tcb->flags & GLASS_TF_TS_OK) && mss > GLASS_MIN_MSS + 12u)
        mss -= 12u; /* RFC 7323 timestamps ride in every segment (as tcp_in.c counts them) */
#endif
    if (mss < GLASS_MIN_MSS)
        mss = GLASS_MIN_MSS;
    if (tcb->snd_mss > mss) {
        tcb->snd_mss = (uint16_t)mss;
        mtu_retransmit(st, tcb);
    }
    return GLASS_DROP_NONE;
}

/* msg[0..len): the whole ICMP error message (len >= 8, checksum verified). */
static int tcp_error(struct glass_stack *st, const struct glass_ipv4_repr *ip, const uint8_t *msg,
                     size_t len)
{
    uint8_t type = msg[0], code = msg[1];
    /* The quoted datagram: an IPv4 header we sent and the first 8 bytes of its TCP header
     * (RFC 792). Every field read is inside the quote (catalogue 48). */
    const uint8_t *q = msg + ICMP_HDR;
    size_t qlen = len - ICMP_HDR;
    if (qlen < GLASS_IPV4_HDR_MIN || (q[0] >> 4) != 4u)
        return glass_drop(st, GLASS_DROP_ICMP);
    size_t qhl = ((size_t)q[0] & 0x0fu) * 4u;
    if (qhl < GLASS_IPV4_HDR_MIN || qhl + 8u > qlen)
        return glass_drop(st, GLASS_DROP_ICMP);
    if (q[9] != GLASS_IPV4_PROTO_TCP)
        return glass_drop(st, GLASS_DROP_ICMP); /* we send only TCP (and ICMP we never query) */
    uint32_t qsrc = glass_get32(q + 12), qdst = glass_get32(q + 16);
    if (qsrc != ip->dst)
        return glass_drop(st, GLASS_DROP_ICMP); /* errors go to the quoted datagram's source */
    const uint8_t *th = q + qhl;
    uint16_t sport = glass_get16(th), dport = glass_get16(th + 2);
    struct glass_seq seq = glass_seq(glass_get32(th + 4));
    struct glass_tcb *tcb = glass_demux_conn(st, qsrc, sport, qdst, dport);
    if (tcb == NULL ||
        !glass_tcp_state_in(tcb, GLASS_TCPF_SYNCHRONIZED | GLASS_TCPF(SYN_SENT) |
                                     GLASS_TCPF(SYN_RCVD)) ||
        tcb->state == GLASS_TCP_TIME_WAIT)
        return glass_drop(st, GLASS_DROP_NO_SOCKET);
    /* RFC 5927 §4.1: SND.UNA <= SEG.SEQ < SND.NXT, with SND.NXT the highest sequence number
     * sent (snd_max: a timeout may have pulled snd_nxt back). In SYN_SENT and SYN_RCVD this
     * means the quoted segment is our SYN. */
    if (!glass_seq_le(tcb->snd_una, seq) || !glass_seq_lt(seq, tcb->snd_max)) {
        st->ipx.mib[GLASS_IPX_TcpExtOutOfWindowIcmps]++;
        return glass_drop(st, GLASS_DROP_ICMP);
    }
    if (type == GLASS_ICMP_UNREACH && code == UNREACH_NEEDFRAG)
        return frag_needed(st, tcb, glass_get16(msg + 6));
    if (tcb->state == GLASS_TCP_SYN_RCVD && (tcb->flags & GLASS_TF_PASSIVE) &&
        passive_child_fatal(type, code)) {
        /* Linux tcp_req_err(): a half-open child whose SYN,ACK (the quoted ISS, validated
         * above) met a parameter problem, an expired TTL or an unreachable net or host is
         * removed silently (TcpExtListenDrops): its SYN most likely came from a spoofed or
         * unreachable source, and its slot in the SYN queue is freed at once. */
        glass_mib_inc(st, GLASS_MIB_TcpExtListenDrops);
        glass_tcp_set_state(st, tcb, GLASS_TCP_LISTEN, GLASS_CAUSE_RCV_ICMP_UNREACH);
        return GLASS_DROP_NONE;
    }

    int err = type == GLASS_ICMP_UNREACH ? unreach_errno(code) : -GLASS_EHOSTUNREACH;
    if (type == GLASS_ICMP_UNREACH && (code == UNREACH_PROTO || code == UNREACH_PORT) &&
        tcb->state == GLASS_TCP_SYN_SENT && hard_error(st, tcb, err))
        return GLASS_DROP_NONE;
    /* RFC 1122 §4.2.3.9, RFC 9293 MUST-56, RFC 5927 §4.1: soft. */
    tcb->soft_error = glass_err16(err);
    st->ipx.mib[GLASS_IPX_TcpExtIcmpSoftErrors]++;
    return GLASS_DROP_NONE;
}

/* ---- input ----------------------------------------------------------------------------------- */

int glass_icmp_input(struct glass_stack *st, const struct glass_ipv4_repr *ip)
{
    struct glass_ipx *x = &st->ipx;
    x->mib[GLASS_IPX_IcmpInMsgs]++;
    const uint8_t *msg = ip->payload;
    size_t len = ip->payload_len;
    if (len < ICMP_HDR) {
        x->mib[GLASS_IPX_IcmpInErrors]++;
        return glass_drop(st, GLASS_DROP_PKT_TOO_SMALL); /* catalogue 42, 44 */
    }
    if (st->cfg.verify_checksums && glass_cksum_finish(glass_cksum_add(0, msg, len)) != 0) {
        x->mib[GLASS_IPX_IcmpInErrors]++;
        x->mib[GLASS_IPX_IcmpInCsumErrors]++;
        return glass_drop(st, GLASS_DROP_ICMP); /* catalogue 43 */
    }
    switch (msg[0]) {
    case ICMP_ECHO:
        x->mib[GLASS_IPX_IcmpInEchos]++;
        return echo_reply(st, ip);
    case ICMP_ECHOREPLY:
        x->mib[GLASS_IPX_IcmpInEchoReps]++;
        return glass_drop(st, GLASS_DROP_ICMP); /* we never ping: unsolicited (catalogue 56) */
    case GLASS_ICMP_UNREACH:
        x->mib[GLASS_IPX_IcmpInDestUnreachs]++;
        return tcp_error(st, ip, msg, len);
    case GLASS_ICMP_TIMXCEED:
        x->mib[GLASS_IPX_IcmpInTimeExcds]++;
        return tcp_error(st, ip, msg, len);
    case ICMP_PARAMPROB:
        x->mib[GLASS_IPX_IcmpInParmProbs]++;
        return tcp_error(st, ip, msg, len);
    case ICMP_SOURCEQUENCH:
        x->mib[GLASS_IPX_IcmpInSrcQuenchs]++;
        return glass_drop(st, GLASS_DROP_ICMP); /* RFC 9293 MUST-55, RFC 6633 (catalogue 54) */
    case ICMP_REDIRECT:
        x->mib[GLASS_IPX_IcmpInRedirects]++;
        return glass_drop(st, GLASS_DROP_ICMP); /* a host that does not route: catalogue 55 */
    default:
        return glass_drop(st, GLASS_DROP_ICMP); /* timestamp, address mask, unknown (55) */
    }
}
