/* glasstcp — SEGMENT ARRIVES (RFC 9293 §3.10.7), shaped like the RFC: one function for each of
 * CLOSED, LISTEN and SYN-SENT, one for TIME-WAIT (Linux's rules), then one pipeline of checks
 * for SYN-RECEIVED and every synchronized state. */
#include "core/core.h"
#include "util/assert.h"

#include <glass/err.h>

/* What a check decided. */
enum seg_verdict {
    SEG_CONTINUE, /* go on with the next check */
    SEG_DONE,     /* the segment was consumed */
};

/* The segment as the pipeline trims it (RFC 9293 §3.10.7.4 "first": trim to the window). */
struct seg {
    const struct glass_tcp_repr *r;
    const struct glass_ipv4_repr *ip;
    struct glass_seq seq;     /* sequence number of the first payload byte (after trimming) */
    const uint8_t *data;
    uint32_t len;             /* payload bytes */
    uint8_t ctl;              /* the control bits (GLASS_TH_*); SYN and FIN cleared when the
                                 trimming takes them off the segment */
    int drop;                 /* drop reason to return */
};

static uint32_t seg_space(const struct glass_tcp_repr *r)
{
    return (uint32_t)r->payload_len + ((r->flags & GLASS_TH_SYN) ? 1u : 0u) +
           ((r->flags & GLASS_TH_FIN) ? 1u : 0u);
}

static uint16_t peer_mss(const struct glass_stack *st, const struct glass_tcb *tcb,
                         const struct glass_tcp_repr *r)
{
    uint32_t mss = r->mss ? r->mss : GLASS_DEFAULT_PEER_MSS;
    uint32_t mtu = glass_route_mtu(st, tcb->local.addr);
    if (mss < GLASS_MIN_MSS)
        mss = GLASS_MIN_MSS; /* catalogue 70/71: never 0, never tiny */
    if (mss > st->cfg.mss)
        mss = st->cfg.mss;
    if (mtu > 40u && mss > mtu - 40u)
        mss = mtu - 40u; /* RFC 9293 MUST-16: Eff.snd.MSS = min(SendMSS, MMS_S) */
    if (tcb->pmtu > 40u && mss > tcb->pmtu - 40u)
        mss = tcb->pmtu - 40u; /* a Fragmentation Needed learned before the SYN,ACK (RFC 1191) */
    return (uint16_t)mss;
}

/* Our window-scale shift: Linux's 7 (what a 6 MB maximum buffer needs), or more if the
 * receive buffer is larger still (RFC 7323 §2.3: at most 14). */
uint8_t glass_tcp_our_wscale(const struct glass_tcb *tcb)
{
    uint8_t sh = 7;
    while (sh < 14 && (tcb->rb.cap >> sh) > 65535u)
        sh++;
    return sh;
}

void glass_tcp_syn_options(struct glass_stack *st, struct glass_tcb *tcb,
                           const struct glass_tcp_repr *r)
{
    tcb->flags &= ~(GLASS_TF_SACK_OK | GLASS_TF_TS_OK | GLASS_TF_WS_OK);
    if (st->cfg.sack && r->sack_perm)
        tcb->flags |= GLASS_TF_SACK_OK;
    if (st->cfg.timestamps && r->has_ts) {
        tcb->flags |= GLASS_TF_TS_OK;
        tcb->ts_recent = r->ts_val;
        tcb->ts_recent_age = st->now;
    }
    if (st->cfg.window_scaling && r->wscale >= 0) {
        /* RFC 7323 §2.3: a shift above 14 is used as 14 (catalogue 74). */
        tcb->flags |= GLASS_TF_WS_OK;
        tcb->snd_wscale = (uint8_t)(r->wscale > 14 ? 14 : r->wscale);
        tcb->rcv_wscale = glass_tcp_our_wscale(tcb);
    } else {
        tcb->snd_wscale = 0;
        tcb->rcv_wscale = 0;
    }
    tcb->snd_mss = peer_mss(st, tcb, r);
    /* RFC 6691 / Linux: the MSS counts payload; timestamps take 12 bytes of every segment. */
    if ((tcb->flags & GLASS_TF_TS_OK) && tcb->snd_mss > GLASS_MIN_MSS + 12u)
        tcb->snd_mss = (uint16_t)(tcb->snd_mss - 12u);
}

/* Connection established: congestion control and delayed-ACK state start here. */
static void transfer_init(struct glass_stack *st, struct glass_tcb *tcb)
{
    glass_cc_init(st, tcb);
    /* RFC 6298 (5.7) / Linux: if the SYN or SYN,ACK had to be retransmitted, start with a
     * one-segment window. */
    if (tcb->total_retrans > 1)
        tcb->cwnd = tcb->snd_mss;
    tcb->recover = tcb->snd_una;
    tcb->high_rxt = tcb->snd_una;
    tcb->quickack = 16; /* Linux TCP_MAX_QUICKACKS: ACK the first segments at once */
    tcb->last_rcv = st->now;
    if (tcb->flags & GLASS_TF_KEEPALIVE)
        glass_timer_set(st, tcb, GLASS_TT_KEEPALIVE, st->now + glass_tcp_keep_idle(st, tcb));
}

/* ---- RFC 6298 RTT estimation ------------------------------------------------------------ */

glass_time_t glass_tcp_rto(const struct glass_tcb *tcb, const struct glass_config *cfg)
{
    glass_time_t rto = tcb->rto;
    unsigned shift = tcb->rxtshift;
    /* Linux >= 6.6 (tcp_retransmit_timer, tcp_syn_linear_timeouts): in SYN_SENT the first
     * syn_linear_timeouts retransmissions keep the initial RTO; doubling starts after them. */
    if (tcb->state == GLASS_TCP_SYN_SENT)
        shift = shift > cfg->syn_linear_timeouts ? shift - cfg->syn_linear_timeouts : 0u;
    for (unsigned i = 0; i < shift && rto < cfg->rto_max; i++)
        rto *= 2u; /* RFC 6298 (5.5): back off the timer */
    return rto > cfg->rto_max ? cfg->rto_max : rto;
}

static void rtt_sample(struct glass_stack *st, struct glass_tcb *tcb, glass_time_t r)
{
    if (tcb->srtt == 0) {
        tcb->srtt = r; /* RFC 6298 (2.2) */
        tcb->rttvar = r / 2u;
    } else { /* RFC 6298 (2.3), alpha 1/8, beta 1/4 */
        glass_time_t delta = tcb->srtt > r ? tcb->srtt - r : r - tcb->srtt;
        tcb->rttvar = (3u * tcb->rttvar + delta) / 4u;
        tcb->srtt = (7u * tcb->srtt + r) / 8u;
    }
    glass_time_t var = 4u * tcb->rttvar;
    glass_time_t rto;
    if (st->cfg.profile == GLASS_PROFILE_LINUX) {
        /* Linux floors the variance term, not the sum: RTO = SRTT + max(4*RTTVAR, rto_min). */
        rto = tcb->srtt + (var > st->cfg.rto_min ? var : st->cfg.rto_min);
    } else {
        rto = tcb->srtt + (var > GLASS_MSEC(1) ? var : GLASS_MSEC(1));
        if (rto < st->cfg.rto_min)
            rto = st->cfg.rto_min; /* RFC 6298 (2.4) */
    }
    tcb->rto = rto > st->cfg.rto_max ? st->cfg.rto_max : rto;
}

/* ---- CLOSED (RFC 9293 §3.10.7.1) -------------------------------------------------------- */

static int rcv_closed(struct glass_stack *st, const struct glass_ipv4_repr *ip,
                      const struct glass_tcp_repr *r)
{
    glass_tcp_send_rst_reply(st, ip, r);
    return glass_drop(st, GLASS_DROP_NO_SOCKET);
}

/* ---- LISTEN (RFC 9293 §3.10.7.2) -------------------------------------------------------- */

static int rcv_synchronized(struct glass_stack *st, struct glass_tcb *tcb,
                            const struct glass_ipv4_repr *ip, const struct glass_tcp_repr *r);

/* A passive child for SYN r (or the SYN a cookie stands for) at listener l, with ISS iss: the
 * "third" step's TCB (RCV.NXT = SEG.SEQ + 1, IRS = SEG.SEQ), in l's SYN queue and the demux
 * tables, still in LISTEN. NULL if no TCB can be had (counted). */
static struct glass_tcb *passive_child(struct glass_stack *st, struct glass_tcb *l,
                                       const struct glass_ipv4_repr *ip,
                                       const struct glass_tcp_repr *r, struct glass_seq iss)
{
    struct glass_tcb_ext *x = glass_zalloc(st, sizeof *x); /* for its child link */
    struct glass_tcb *c = x != NULL ? glass_tcb_new(st) : NULL;
    if (c == NULL) {
        glass_free(st, x, sizeof *x);
        glass_mib_inc(st, GLASS_MIB_TcpExtListenDrops);
        return NULL;
    }
    c->x = x;
    struct glass_child_link *cl = &x->cl;
    glass_tcb_fini_state(st, c);
    glass_tcb_init_state(st, c, GLASS_TCP_LISTEN);
    c->flags |= GLASS_TF_PASSIVE |
                (l->flags & (GLASS_TF_REUSEADDR | GLASS_TF_NODELAY | GLASS_TF_KEEPALIVE |
                             GLASS_TF_LINGER0));
    c->sb.cap = l->sb.cap;
    c->rb.cap = l->rb.cap;
    c->local.addr = ip->dst;
    c->local.port = r->dst_port;
    c->remote.addr = ip->src;
    c->remote.port = r->src_port;
    c->irs = glass_seq(r->seq);
    c->rcv_nxt = glass_seq_add(c->irs, 1);
    c->iss = iss;
    c->snd_una = c->snd_nxt = c->snd_max = c->snd_sml = c->iss;
    c->snd_wnd = r->win;
    c->max_snd_wnd = r->win;
    c->snd_wl1 = c->irs;
    c->snd_wl2 = c->iss;
    c->cc_algo = l->cc_algo;
    x->keep_idle_s = l->x->keep_idle_s;
    x->keep_intvl_s = l->x->keep_intvl_s;
    c->keep_cnt = l->keep_cnt;
    x->user_timeout_ms = l->x->user_timeout_ms;
    glass_tcp_syn_options(st, c, r);
    cl->listener = l;
    cl->child = c;
    cl->qlink.prev = l->x->lq->synq.prev;
    cl->qlink.next = &l->x->lq->synq;
    l->x->lq->synq.prev->next = &cl->qlink;
    l->x->lq->synq.prev = &cl->qlink;
    l->x->lq->synq_len++;
    c->inq = 1;
    glass_tcb_hash(st, c);
    glass_tcb_bhash(st, c);
    return c;
}

/* Linux tcp_synq_no_recent_overflow(): cookies are honoured only while the listener has been
 * sending them lately, so a blind attacker gets no 2^-21 lottery on a quiet listener. */
static bool cookies_recent(const struct glass_stack *st, const struct glass_tcb *l)
{
    return st->cfg.syncookies != 0 && l->x->lq->cookies_until != 0 && st->now <= l->x->lq->cookies_until;
}

/* An ACK at a listener that returns a valid SYN cookie: build the child its SYN,ACK stood
 * for — LISTEN -> SYN_RCVD (cause rcv_cookie_ack), as if the SYN had been queued and the
 * SYN,ACK sent — then let this ACK complete the handshake through the ordinary SYN-RECEIVED
 * pipeline (SYN_RCVD -> ESTABLISHED, any data on it delivered). Both arcs are recorded. */
static int rcv_cookie_ack(struct glass_stack *st, struct glass_tcb *l,
                          const struct glass_ipv4_repr *ip, const struct glass_tcp_repr *r,
                          const struct glass_cookie *ck)
{
    glass_mib_inc(st, GLASS_MIB_TcpExtSyncookiesRecv);
    if (l->x->lq->acceptq_len > l->x->lq->backlog) {
        /* Linux tcp_v4_syn_recv_sock: no room to complete it; the peer's retransmission (or
         * its next segment, which carries the same cookie) may find some. */
        glass_mib_inc(st, GLASS_MIB_TcpExtListenOverflows);
        glass_mib_inc(st, GLASS_MIB_TcpExtListenDrops);
        return glass_drop(st, GLASS_DROP_TCP_LISTEN_OVERFLOW);
    }
    struct glass_tcp_repr syn = {
        .src_port = r->src_port,
        .dst_port = r->dst_port,
        .seq = ck->peer_isn,
        .flags = GLASS_TH_SYN,
        .win = r->win,
        .mss = ck->mss,
        .wscale = ck->wscale,
        .sack_perm = ck->sack,
        .has_ts = ck->ts,
        .ts_val = r->ts_val,
    };
    struct glass_tcb *c = passive_child(st, l, ip, &syn, glass_seq(ck->iss));
    if (c == NULL)
        return glass_drop(st, GLASS_DROP_NOMEM);
    /* What the stateless SYN,ACK said and did (syncookie.c): our MSS, the unscaled window of
     * l's buffer, the cookie's TSval clock; its one octet of sequence space is out. */
    c->ts_off = ck->ts_off;
    c->rcv_mss = glass_tcp_mss_for(st, c->local.addr);
    c->rcv_adv = glass_seq_add(c->rcv_nxt, c->rb.cap > 65535u ? 65535u : c->rb.cap);
    c->last_ack_sent = c->rcv_nxt;
    c->snd_nxt = c->snd_max = glass_seq_add(c->iss, 1);
    glass_timer_set(st, c, GLASS_TT_REXMT, st->now + glass_tcp_rto(c, &st->cfg));
    glass_tcp_set_state(st, c, GLASS_TCP_SYN_RCVD, GLASS_CAUSE_RCV_COOKIE_ACK);
    c->segs_in++;
    return rcv_synchronized(st, c, ip, r);
}

/* A SYN at a listener whose SYN queue is full (or any SYN with syncookies = 2): answer it
 * with a cookie or drop it (Linux tcp_syn_flood_action). */
static bool want_cookie(struct glass_stack *st)
{
    if (st->cfg.syncookies == 0) {
        glass_mib_inc(st, GLASS_MIB_TcpExtTCPReqQFullDrop);
        return false;
    }
    glass_mib_inc(st, GLASS_MIB_TcpExtTCPReqQFullDoCookies);
    return true;
}

static int rcv_listen(struct glass_stack *st, struct glass_tcb *l, const struct glass_ipv4_repr *ip,
                      const struct glass_tcp_repr *r)
{
    if (r->flags & GLASS_TH_RST)
        return glass_drop(st, GLASS_DROP_TCP_RESET); /* first: an RST is ignored */
    if (r->flags & GLASS_TH_ACK) {
        /* An ACK without SYN may return a SYN cookie (RFC 4987 §3.6, Linux cookie_v4_check);
         * otherwise, or if the cookie is bad: second, <SEQ=SEG.ACK><CTL=RST>. */
        if (!(r->flags & GLASS_TH_SYN) && cookies_recent(st, l)) {
            struct glass_cookie ck;
            if (glass_syncookie_check(st, ip, r, &ck))
                return rcv_cookie_ack(st, l, ip, r, &ck);
            glass_mib_inc(st, GLASS_MIB_TcpExtSyncookiesFailed);
        }
        glass_tcp_send_rst_reply(st, ip, r);
        return glass_drop(st, GLASS_DROP_TCP_FLAGS);
    }
    if (!(r->flags & GLASS_TH_SYN))
        return glass_drop(st, GLASS_DROP_TCP_FLAGS); /* fourth: anything else is dropped */
    if (ip->src == ip->dst && r->src_port == r->dst_port)
        return glass_drop(st, GLASS_DROP_TCP_FLAGS); /* LAND (catalogue 90) */
    /* Linux tcp_conn_request: a full SYN queue is answered with cookies (or the SYN dropped);
     * with the accept queue full the SYN is dropped either way, and the client retransmits. A
     * SYN taking over a TIME_WAIT 4-tuple keeps its chosen ISN and is never a cookie. */
    bool synq_full = l->x->lq->synq_len >= (l->x->lq->backlog > 0 ? l->x->lq->backlog : 1u);
    bool cookie = false;
    if (st->reuse_isn == 0 && (synq_full || st->cfg.syncookies == 2)) {
        cookie = want_cookie(st);
        if (!cookie) {
            glass_mib_inc(st, GLASS_MIB_TcpExtListenDrops);
            return glass_drop(st, GLASS_DROP_TCP_LISTEN_OVERFLOW);
        }
    }
    if (l->x->lq->acceptq_len > l->x->lq->backlog) {
        glass_mib_inc(st, GLASS_MIB_TcpExtListenOverflows);
        glass_mib_inc(st, GLASS_MIB_TcpExtListenDrops);
        return glass_drop(st, GLASS_DROP_TCP_LISTEN_OVERFLOW);
    }
    if (cookie) {
        l->x->lq->cookies_until = st->now + (GLASS_COOKIE_MAX_AGE + 1u) * GLASS_COOKIE_TICK;
        glass_syncookie_send(st, l, ip, r);
        return GLASS_DROP_NONE;
    }
    if (synq_full) {
        glass_mib_inc(st, GLASS_MIB_TcpExtListenDrops); /* a TIME_WAIT takeover, queue full */
        return glass_drop(st, GLASS_DROP_TCP_LISTEN_OVERFLOW);
    }
    /* third: ISS chosen, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> */
    struct glass_endpoint local = {ip->dst, r->dst_port}, remote = {ip->src, r->src_port};
    struct glass_seq iss = st->reuse_isn != 0 ? glass_seq(st->reuse_isn)
                                              : glass_isn(st, &local, &remote);
    struct glass_tcb *c = passive_child(st, l, ip, r, iss);
    if (c == NULL)
        return glass_drop(st, GLASS_DROP_NOMEM);
    c->ts_off = (uint32_t)glass_rng_next(&st->rng);
    glass_tcp_set_state(st, c, GLASS_TCP_SYN_RCVD, GLASS_CAUSE_RCV_SYN);
    /* Data in a SYN is not delivered before the handshake completes (no TFO): the peer will
     * send it again, since our SYN,ACK acknowledges only the SYN. */
    glass_tcp_kick(st, c);
    return GLASS_DROP_NONE;
}

/* ---- SYN-SENT (RFC 9293 §3.10.7.3) ------------------------------------------------------ */

static int rcv_syn_sent(struct glass_stack *st, struct glass_tcb *tcb,
                        const struct glass_ipv4_repr *ip, const struct glass_tcp_repr *r)
{
    struct glass_seq ack = glass_seq(r->ack);
    bool has_ack = (r->flags & GLASS_TH_ACK) != 0;
    /* first: an ACK must satisfy ISS < SEG.ACK =< SND.NXT */
    if (has_ack && !glass_seq_in_left_open(ack, tcb->iss, tcb->snd_max)) {
        if (tcb->rxtshift == 0) {
            /* Linux tcp_rcv_synsent_state_process ("previous FIN/ACK or RST/ACK might be
             * ignored"): the peer may still hold an old connection on this 4-tuple; resend the
             * SYN after TCP_TIMEOUT_MIN rather than the initial RTO (also after such an RST). */
            glass_timer_set(st, tcb, GLASS_TT_REXMT, st->now + GLASS_TCP_TIMEOUT_MIN);
        }
        glass_tcp_send_rst_reply(st, ip, r); /* <SEQ=SEG.ACK><CTL=RST>, unless it is an RST */
        return glass_drop(st, GLASS_DROP_TCP_BAD_SYNACK);
    }
    /* second: RST. Acceptable only with an acceptable ACK (catalogue 84). */
    if (r->flags & GLASS_TH_RST) {
        if (!has_ack)
            return glass_drop(st, GLASS_DROP_TCP_RESET);
        glass_tcp_drop(st, tcb, GLASS_CAUSE_RCV_RST, -GLASS_ECONNREFUSED);
        return GLASS_DROP_NONE;
    }
    /* fourth: SYN */
    if (!(r->flags & GLASS_TH_SYN))
        return glass_drop(st, GLASS_DROP_TCP_FLAGS); /* fifth: neither SYN nor RST (Linux) */
    tcb->irs = glass_seq(r->seq);
    tcb->rcv_nxt = glass_seq_add(tcb->irs, 1);
    glass_tcp_syn_options(st, tcb, r);
    tcb->snd_wnd = r->win; /* RFC 7323 §2.2: the window of a SYN is not scaled */
    tcb->max_snd_wnd = r->win;
    tcb->snd_wl1 = tcb->irs;
    if (has_ack) {
        tcb->snd_wl2 = ack;
        tcb->snd_una = ack;
        if (glass_seq_gt(tcb->snd_nxt, tcb->snd_una) == false)
            tcb->snd_nxt = tcb->snd_una;
        if ((tcb->flags & GLASS_TF_RTT_VALID) && tcb->rxtshift == 0)
            rtt_sample(st, tcb, st->now - tcb->rtt_start);
        tcb->flags &= ~GLASS_TF_RTT_VALID;
        tcb->rxtshift = 0;
        glass_timer_clear(st, tcb, GLASS_TT_REXMT);
        tcb->rcv_adv = glass_seq_add(tcb->rcv_nxt, glass_tcp_rcv_space(tcb));
        tcb->flags |= GLASS_TF_ACKNOW;
        transfer_init(st, tcb);
        glass_tcp_set_state(st, tcb, GLASS_TCP_ESTABLISHED, GLASS_CAUSE_RCV_SYN_ACK);
        glass_tcp_kick(st, tcb);
        return GLASS_DROP_NONE;
    }
    /* Simultaneous open (MUST-10): SYN-RECEIVED, and our SYN goes again as SYN,ACK. */
    tcb->snd_wl2 = tcb->iss;
    tcb->snd_nxt = tcb->snd_max = tcb->iss;
    tcb->rxtshift = 0;
    tcb->flags &= ~GLASS_TF_RTT_VALID;
    glass_timer_clear(st, tcb, GLASS_TT_REXMT);
    glass_tcp_set_state(st, tcb, GLASS_TCP_SYN_RCVD, GLASS_CAUSE_RCV_SYN);
    glass_tcp_kick(st, tcb);
    return GLASS_DROP_NONE;
}

/* ---- TIME-WAIT (RFC 9293 §3.10.7.4 with Linux's tcp_timewait_state_process choices) ------
 * One decision for both forms of TIME-WAIT: a TCB (its socket still open) and a compact record
 * (timewait.c). Each form applies it with its own actions. */

enum tw_action {
    TW_DROP,       /* drop, counted under the returned reason */
    TW_CLOSE_RST,  /* an acceptable RST ends TIME-WAIT */
    TW_REUSE,      /* a new SYN takes the 4-tuple over (listener in *l) */
    TW_RESTART,    /* in-window bare ACK: restart 2MSL, nothing to answer */
    TW_ACK,        /* answer with an ACK (restarting 2MSL if restart) */
};

static enum tw_action tw_decide(struct glass_stack *st, struct glass_seq rcv_nxt,
                                const struct glass_ipv4_repr *ip, const struct glass_tcp_repr *r,
                                struct glass_tcb **l, bool *restart, int *drop)
{
    struct glass_seq seq = glass_seq(r->seq);
    *drop = GLASS_DROP_TCP_TIMEWAIT;
    *restart = false;
    if (r->flags & GLASS_TH_RST) {
        if (st->cfg.rfc1337) {
            /* RFC 1337 "TW-fix": an RST must not assassinate TIME-WAIT. */
            glass_mib_inc(st, GLASS_MIB_TcpExtTCPTimeWaitRst);
            return TW_DROP;
        }
        if (glass_seq_eq(seq, rcv_nxt))
            return TW_CLOSE_RST;
        *drop = GLASS_DROP_TCP_RST_NOT_ACCEPTABLE;
        return TW_DROP;
    }
    if ((r->flags & (GLASS_TH_SYN | GLASS_TH_ACK)) == GLASS_TH_SYN && st->cfg.tw_reuse_by_syn &&
        glass_seq_gt(seq, rcv_nxt)) {
        /* RFC 9293 MAY-2 / RFC 6191: a new SYN above the old RCV.NXT may reopen the 4-tuple. */
        *l = glass_demux_listener(st, ip->dst, r->dst_port);
        if (*l != NULL)
            return TW_REUSE;
    }
    if (glass_seq_eq(seq, rcv_nxt) && seg_space(r) == 0 && !(r->flags & GLASS_TH_SYN)) {
        /* In-window bare ACK: nothing to answer; Linux restarts the 2MSL timer. */
        *restart = true;
        return TW_RESTART;
    }
    /* Anything else (a retransmitted FIN above all): ACK it and, if it carries an ACK,
     * restart the 2MSL timer (RFC 9293 §3.10.7.4 "FIN bit": restart the 2 MSL time-out). */
    if (r->flags & GLASS_TH_ACK) {
        *restart = true;
        glass_mib_inc(st, GLASS_MIB_TcpExtTCPRcvTimeWaitFin);
    }
    return TW_ACK;
}

/* The SYN goes to the listener, its connection's ISN above the old sequence space. */
static int tw_reuse_syn(struct glass_stack *st, struct glass_tcb *l, uint32_t old_snd_nxt,
                        const struct glass_ipv4_repr *ip, const struct glass_tcp_repr *r)
{
    st->reuse_isn = glass_tw_reuse_isn(old_snd_nxt);
    int res = rcv_listen(st, l, ip, r);
    st->reuse_isn = 0;
    return res;
}

static int rcv_time_wait(struct glass_stack *st, struct glass_tcb *tcb,
                         const struct glass_ipv4_repr *ip, const struct glass_tcp_repr *r)
{
    struct glass_tcb *l = NULL;
    bool restart;
    int drop;
    enum tw_action act = tw_decide(st, tcb->rcv_nxt, ip, r, &l, &restart, &drop);
    switch (act) {
    case TW_DROP:
        return glass_drop(st, (enum glass_drop_reason)drop);
    case TW_CLOSE_RST:
        glass_tcp_set_state(st, tcb, GLASS_TCP_CLOSED, GLASS_CAUSE_RCV_RST);
        return GLASS_DROP_NONE;
    case TW_REUSE: {
        uint32_t old = tcb->snd_nxt.v;
        glass_tcp_set_state(st, tcb, GLASS_TCP_CLOSED, GLASS_CAUSE_REUSED_BY_SYN);
        return tw_reuse_syn(st, l, old, ip, r);
    }
    case TW_RESTART:
    case TW_ACK:
        break;
    }
    if (restart)
        glass_timer_set(st, tcb, GLASS_TT_TIMEWAIT, st->now + 2u * st->cfg.msl);
    if (act == TW_ACK) {
        tcb->flags |= GLASS_TF_ACKNOW;
        glass_tcp_kick(st, tcb);
    }
    return glass_drop(st, GLASS_DROP_TCP_TIMEWAIT);
}

int glass_tw_input(struct glass_stack *st, uint32_t ref, const struct glass_ipv4_repr *ip,
                   const struct glass_tcp_repr *r)
{
    const struct glass_tw *tw = glass_tw_at(&st->tw, ref);
    struct glass_tcb *l = NULL;
    bool restart;
    int drop;
    enum tw_action act = tw_decide(st, glass_seq(tw->rcv_nxt), ip, r, &l, &restart, &drop);
    switch (act) {
    case TW_DROP:
        return glass_drop(st, (enum glass_drop_reason)drop);
    case TW_CLOSE_RST:
        glass_tw_set_closed(st, ref, GLASS_CAUSE_RCV_RST);
        return GLASS_DROP_NONE;
    case TW_REUSE: {
        uint32_t old = tw->snd_nxt;
        glass_tw_set_closed(st, ref, GLASS_CAUSE_REUSED_BY_SYN);
        return tw_reuse_syn(st, l, old, ip, r);
    }
    case TW_RESTART:
    case TW_ACK:
        break;
    }
    if (restart)
        glass_tw_restart(st, ref);
    if (act == TW_ACK)
        glass_tw_send_ack(st, ref);
    return glass_drop(st, GLASS_DROP_TCP_TIMEWAIT);
}

/* ---- the pipeline for SYN-RECEIVED and the synchronized states (§3.10.7.4) -------------- */

static uint32_t rcv_wnd(const struct glass_tcb *tcb)
{
    return glass_seq_gt(tcb->rcv_adv, tcb->rcv_nxt) ? glass_seq_sub(tcb->rcv_adv, tcb->rcv_nxt) : 0;
}

static void send_ack_soon(struct glass_stack *st, struct glass_tcb *tcb)
{
    tcb->flags |= GLASS_TF_ACKNOW;
    glass_tcp_kick(st, tcb);
}

/* Whether an ACK for an out-of-window segment went less than invalid_ratelimit ago. The time
 * is kept in 32 bits of microseconds and the elapsed time read as signed, as Linux reads its
 * jiffies: beyond 35 minutes it counts as long ago. */
static bool oow_limited(const struct glass_stack *st, const struct glass_tcb *tcb)
{
    if (tcb->last_oow_ack_us == 0)
        return false;
    int32_t elapsed = (int32_t)((uint32_t)(st->now / 1000u) - tcb->last_oow_ack_us);
    return elapsed >= 0 && (glass_time_t)elapsed * 1000u < st->cfg.invalid_ratelimit;
}

static void oow_ack_sent(const struct glass_stack *st, struct glass_tcb *tcb)
{
    tcb->last_oow_ack_us = (uint32_t)(st->now / 1000u);
}

/* Linux tcp_oow_rate_limited(): an ACK answering an out-of-window segment that carries no data
 * (a pure ACK or a SYN) goes at most once per invalid_ratelimit per connection, so two stacks
 * cannot ping-pong ACKs forever and a blind attacker cannot make us an ACK amplifier
 * (robustness catalogue 94). Returns true if the ACK may be sent. */
static bool oow_ack_allowed(struct glass_stack *st, struct glass_tcb *tcb, const struct seg *s)
{
    if (s->len > 0 && !(s->ctl & GLASS_TH_SYN))
        return true;
    if (oow_limited(st, tcb))
        return false;
    oow_ack_sent(st, tcb);
    return true;
}

/* RFC 2883 §4: data received twice is reported in the first SACK block of the next ACK (the
 * sender learns that a retransmission was not needed: RFC 8985 §6.2 step 4). */
static void dsack_set(struct glass_stack *st, struct glass_tcb *tcb, struct glass_seq from,
                      struct glass_seq to)
{
    if (!(tcb->flags & GLASS_TF_SACK_OK) || !st->cfg.dsack || !glass_seq_lt(from, to))
        return;
    tcb->dsack.start = from;
    tcb->dsack.end = to;
    tcb->flags |= GLASS_TF_DSACK;
    glass_mib_inc(st, GLASS_MIB_TcpExtTCPDSACKOldSent);
}

static enum seg_verdict check_syn(struct glass_stack *st, struct glass_tcb *tcb, struct seg *s);

/* check_seq for a segment that does not start at RCV.NXT: the RFC's acceptability test and
 * its exceptions, then the trimming of what lies before RCV.NXT. */
static enum seg_verdict seq_check_trim(struct glass_stack *st, struct glass_tcb *tcb,
                                       struct seg *s, uint32_t wnd, struct glass_seq nxt,
                                       struct glass_seq edge)
{
    uint32_t space = s->len + ((s->ctl & GLASS_TH_SYN) ? 1u : 0u) +
                     ((s->ctl & GLASS_TH_FIN) ? 1u : 0u);
    bool ok;
    if (space == 0) /* RFC: NXT =< SEQ < NXT+WND; Linux (tcp_sequence) also takes SEQ at the
                       right edge: a peer that filled our window sends its pure ACKs there */
        ok = glass_seq_ge(s->seq, nxt) && glass_seq_le(s->seq, edge);
    else if (wnd == 0)
        ok = glass_seq_eq(s->seq, nxt);
    else
        ok = glass_seq_in_window(s->seq, nxt, edge) ||
             glass_seq_in_window(glass_seq_add(s->seq, space - 1u), nxt, edge);
    bool syn_of_peer = (s->ctl & GLASS_TH_SYN) && glass_seq_eq(s->seq, tcb->irs) &&
                       glass_tcp_state_in(tcb, GLASS_TCPF(SYN_RCVD) | GLASS_TCPF(FIN_WAIT_1)) &&
                       glass_seq_eq(tcb->snd_una, tcb->iss);
    if (!ok && syn_of_peer && (s->ctl & GLASS_TH_ACK) && s->len == 0) {
        /* Simultaneous open (RFC 9293 Figure 8): the peer's SYN,ACK repeats the SYN we already
         * have and acknowledges ours. Like Linux (tcp_validate_incoming), take it for its ACK:
         * the SYN is trimmed below as an old octet. */
        ok = true;
    }
    if (!ok) {
        if (s->ctl & GLASS_TH_RST) {
            s->drop = GLASS_DROP_TCP_RST_NOT_ACCEPTABLE;
            return SEG_DONE;
        }
        /* A retransmitted SYN to a passive child: send the SYN,ACK again (Linux). */
        if (syn_of_peer && !(s->ctl & GLASS_TH_ACK)) {
            tcb->snd_nxt = tcb->iss;
            glass_tcp_kick(st, tcb);
            s->drop = GLASS_DROP_NONE;
            return SEG_DONE;
        }
        /* RFC 5961 §4.2: a SYN is answered by a challenge ACK "irrespective of the sequence
         * number", with the challenge-ACK accounting and limits (Linux tcp_validate_incoming
         * goes to syn_challenge before its out-of-window ACK). Catalogue 82. */
        if (s->ctl & GLASS_TH_SYN)
            return check_syn(st, tcb, s);
        if (s->len > 0 && glass_seq_le(glass_seq_add(s->seq, s->len), nxt))
            dsack_set(st, tcb, s->seq, glass_seq_add(s->seq, s->len)); /* all old: a duplicate */
        if (s->len > 0)
            glass_ack_quick(tcb); /* Linux: a retransmission or a window probe: ACK at once */
        if (oow_ack_allowed(st, tcb, s))
            send_ack_soon(st, tcb);
        else
            glass_mib_inc(st, GLASS_MIB_TcpExtTCPACKSkippedSeq);
        s->drop = GLASS_DROP_TCP_INVALID_SEQUENCE;
        return SEG_DONE;
    }
    /* Trim what lies before RCV.NXT (an old SYN counts as the first octet). */
    if ((s->ctl & GLASS_TH_SYN) && glass_seq_lt(s->seq, nxt)) {
        s->ctl &= (uint8_t)~GLASS_TH_SYN;
        s->seq = glass_seq_add(s->seq, 1);
    }
    if (glass_seq_lt(s->seq, nxt)) {
        uint32_t d = glass_seq_sub(nxt, s->seq);
        if (s->len > 0)
            dsack_set(st, tcb, s->seq, d < s->len ? nxt : glass_seq_add(s->seq, s->len));
        if (d >= s->len) {
            s->len = 0;
        } else {
            s->data += d;
            s->len -= d;
        }
        s->seq = nxt;
    }
    return SEG_CONTINUE;
}

/* first: is the segment acceptable? The four cases of the RFC's table; with a zero window a
 * segment at RCV.NXT is still taken for its ACK, URG and RST (MUST-66). Then trim it. */
static enum seg_verdict check_seq(struct glass_stack *st, struct glass_tcb *tcb, struct seg *s)
{
    uint32_t wnd = rcv_wnd(tcb); /* below 2^31: a positive distance, or 0 */
    struct glass_seq nxt = tcb->rcv_nxt;
    struct glass_seq edge = glass_seq_add(nxt, wnd);
    /* The common segment starts at RCV.NXT: acceptable in each case of the table (with a zero
     * window too, where SEG.SEQ = RCV.NXT is the test), with nothing before RCV.NXT to trim.
     * Only the others are checked and trimmed here. */
    if (!glass_seq_eq(s->seq, nxt) && seq_check_trim(st, tcb, s, wnd, nxt, edge) == SEG_DONE)
        return SEG_DONE;
    /* Trim what lies beyond the window; a FIN beyond it is not taken. */
    uint32_t room = glass_seq_ge(edge, s->seq) ? glass_seq_sub(edge, s->seq) : 0;
    if (s->len > room) {
        if (room == 0) {
            /* Our window is zero and the segment is at RCV.NXT: it is taken for its ACK, URG
             * and RST (MUST-66) but its text is not, and the sender must be told the window
             * is still shut (RFC 9293 §3.8.6.1, §3.10.7.4: "an acknowledgment should be sent
             * in reply"; Linux tcp_data_queue, TCP_ZEROWINDOW). Catalogue 96. */
            send_ack_soon(st, tcb);
            s->drop = GLASS_DROP_TCP_ZEROWINDOW;
        }
        s->len = room;
        s->ctl &= (uint8_t)~GLASS_TH_FIN;
    }
    return SEG_CONTINUE;
}

/* Linux tcp_reset(): the error the application sees depends on the state. */
static int reset_error(const struct glass_tcb *tcb)
{
    switch ((enum glass_tcp_state)tcb->state) {
    case GLASS_TCP_SYN_SENT:
    case GLASS_TCP_SYN_RCVD:
        return -GLASS_ECONNREFUSED;
    case GLASS_TCP_CLOSE_WAIT:
        return -GLASS_EPIPE;
    default:
        return -GLASS_ECONNRESET;
    }
}

/* RFC 5961 §7: challenge ACKs are rate limited, per stack (a token bucket of
 * challenge_ack_limit per second) and per connection (invalid_ratelimit), so that they cannot
 * be used to flood or, with a global counter alone, as a side channel. */
static void challenge_ack(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (st->now - st->challenge_refill >= GLASS_SEC(1) || st->challenge_refill == 0) {
        st->challenge_refill = st->now;
        st->challenge_tokens = st->cfg.challenge_ack_limit;
    }
    if (st->challenge_tokens == 0 || oow_limited(st, tcb)) {
        glass_mib_inc(st, GLASS_MIB_TcpExtTCPChallengeACKLimited);
        return;
    }
    st->challenge_tokens--;
    oow_ack_sent(st, tcb);
    glass_mib_inc(st, GLASS_MIB_TcpExtTCPChallengeACK);
    send_ack_soon(st, tcb);
}

/* second: RST (RFC 9293 §3.10.7.4 with RFC 5961 §3: reset only on an exact match). */
static enum seg_verdict check_rst(struct glass_stack *st, struct glass_tcb *tcb, struct seg *s)
{
    if (!(s->ctl & GLASS_TH_RST))
        return SEG_CONTINUE;
    if (!glass_seq_eq(s->seq, tcb->rcv_nxt)) {
        challenge_ack(st, tcb);
        s->drop = GLASS_DROP_TCP_RST_NOT_ACCEPTABLE;
        return SEG_DONE;
    }
    if (tcb->state == GLASS_TCP_SYN_RCVD && (tcb->flags & GLASS_TF_PASSIVE))
        glass_tcp_set_state(st, tcb, GLASS_TCP_LISTEN, GLASS_CAUSE_RCV_RST);
    else
        glass_tcp_drop(st, tcb, GLASS_CAUSE_RCV_RST, reset_error(tcb));
    s->drop = GLASS_DROP_NONE;
    return SEG_DONE;
}

/* fourth: SYN in SYN-RECEIVED or a synchronized state: challenge ACK (RFC 5961 §4,
 * RFC 9293 §3.10.7.4). */
static enum seg_verdict check_syn(struct glass_stack *st, struct glass_tcb *tcb, struct seg *s)
{
    if (!(s->ctl & GLASS_TH_SYN))
        return SEG_CONTINUE;
    glass_mib_inc(st, GLASS_MIB_TcpExtTCPSYNChallenge);
    challenge_ack(st, tcb);
    s->drop = GLASS_DROP_TCP_INVALID_SYN;
    return SEG_DONE;
}

/* Bytes of our send buffer covered by an ACK moving SND.UNA to ack. */
static uint32_t data_acked(const struct glass_tcb *tcb, struct glass_seq ack)
{
    struct glass_seq data = glass_tcp_snd_data(tcb);
    if (!glass_seq_gt(ack, data))
        return 0;
    uint32_t n = glass_seq_sub(ack, data);
    return n > tcb->sb.len ? tcb->sb.len : n;
}

/* SND.UNA advances to ack: free the acknowledged bytes, take an RTT sample, manage the
 * retransmission timer (RFC 6298 §5). Returns the bytes of sequence space acknowledged. */
static uint32_t new_ack(struct glass_stack *st, struct glass_tcb *tcb, struct glass_seq ack,
                        const struct glass_tcp_repr *r)
{
    uint32_t acked = glass_seq_sub(ack, tcb->snd_una);
    uint32_t n = data_acked(tcb, ack);
    tcb->soft_error = 0; /* the path works again (Linux tcp_ack clears sk_err_soft) */
    if (n > 0) {
        glass_ring_consume(&tcb->sb, n);
        tcb->bytes_acked += n;
        if (tcb->sb.len == 0)
            glass_reclaim_note(st, tcb);
    }
    if ((tcb->flags & GLASS_TF_TS_OK) && r->has_ts && r->ts_ecr != 0 && tcb->rxtshift == 0) {
        /* RFC 7323 §4.1: every ACK of new data gives a sample from the echoed timestamp —
         * except while recovering from a timeout: a receiver answering a retransmitted
         * duplicate echoes the timestamp of the copy it got long before (RFC 7323 §4.3), and
         * that "RTT" (seconds or minutes after repeated losses) would pin the RTO at its
         * maximum long after the path recovered. */
        uint32_t ms = glass_tcp_ts_now(st, tcb) - r->ts_ecr;
        if (ms < 600000u)
            rtt_sample(st, tcb, (glass_time_t)(ms ? ms : 1u) * GLASS_NSEC_PER_MSEC);
        tcb->flags &= ~GLASS_TF_RTT_VALID;
    } else if ((tcb->flags & GLASS_TF_RTT_VALID) && glass_seq_gt(ack, tcb->rtt_seq)) {
        /* RFC 6298 §3, Karn's rule: only segments never retransmitted are timed. */
        rtt_sample(st, tcb, st->now - tcb->rtt_start);
        tcb->flags &= ~GLASS_TF_RTT_VALID;
    }
    tcb->snd_una = ack;
    if (glass_seq_lt(tcb->snd_nxt, ack))
        tcb->snd_nxt = ack;
    if (glass_seq_lt(tcb->high_rxt, ack))
        tcb->high_rxt = ack;
    glass_sack_trim(st, tcb);
    tcb->rxtshift = 0;
    /* RFC 6298 (5.2)/(5.3): stop the timer when all is acknowledged, else restart it. */
    if (glass_seq_eq(tcb->snd_una, tcb->snd_max)) {
        glass_timer_clear(st, tcb, GLASS_TT_REXMT);
        tcb->rtx_since = 0;
    } else {
        glass_timer_set(st, tcb, GLASS_TT_REXMT, st->now + glass_tcp_rto(tcb, &st->cfg));
        tcb->rtx_since = st->now;
    }
    if ((tcb->flags & GLASS_TF_SNDBUF_FULL) && glass_ring_space(&tcb->sb) > 0) {
        tcb->flags &= ~GLASS_TF_SNDBUF_FULL;
        glass_event_push(st, tcb, GLASS_EV_WRITABLE, 0);
    }
    if (glass_tcp_output_pending(tcb))
        glass_tcp_kick(st, tcb); /* room for more, or a retransmission */
    return acked;
}

/* RFC 9293 §3.10.7.4 "fifth", ESTABLISHED: the send-window update rule with SND.WL1/WL2; the
 * field is scaled by the peer's shift (RFC 7323 §2.3). */
static void update_window(struct glass_stack *st, struct glass_tcb *tcb, const struct seg *s,
                          struct glass_seq ack)
{
    if (glass_seq_lt(tcb->snd_wl1, s->seq) ||
        (glass_seq_eq(tcb->snd_wl1, s->seq) && glass_seq_le(tcb->snd_wl2, ack))) {
        uint32_t old = tcb->snd_wnd;
        tcb->snd_wnd = (uint32_t)s->r->win << tcb->snd_wscale;
        tcb->snd_wl1 = s->seq;
        tcb->snd_wl2 = ack;
        if (tcb->snd_wnd > tcb->max_snd_wnd)
            tcb->max_snd_wnd = tcb->snd_wnd;
        if (tcb->snd_wnd > old) {
            glass_timer_clear(st, tcb, GLASS_TT_PERSIST);
            tcb->persist_shift = 0;
            if (glass_tcp_output_pending(tcb))
                glass_tcp_kick(st, tcb);
        }
    }
}

static bool fin_acked(const struct glass_tcb *tcb)
{
    return (tcb->flags & GLASS_TF_FIN_SENT) && glass_seq_gt(tcb->snd_una, tcb->fin_seq);
}

/* Will this segment's FIN be taken (it is in order and all its payload fits)? */
static bool fin_in_order(const struct glass_tcb *tcb, const struct seg *s)
{
    return (s->ctl & GLASS_TH_FIN) && glass_seq_eq(s->seq, tcb->rcv_nxt) &&
           s->len <= glass_ring_space(&tcb->rb) &&
           (s->len == 0 || !(tcb->flags & GLASS_TF_ORPHAN));
}

/* RFC 5681 §2 duplicate ACK: no data, no SYN/FIN, the same ACK and window while data is
 * outstanding; with SACK, an ACK bringing new SACK information counts too (RFC 6675 §2). */
static bool is_dupack(const struct glass_tcb *tcb, const struct seg *s, struct glass_seq ack,
                      uint32_t sacked)
{
    if (s->r->payload_len != 0 || (s->ctl & (GLASS_TH_SYN | GLASS_TH_FIN)) ||
        !glass_seq_eq(ack, tcb->snd_una) ||
        glass_seq_eq(tcb->snd_una, tcb->snd_max))
        return false;
    return sacked > 0 || ((uint32_t)s->r->win << tcb->snd_wscale) == tcb->snd_wnd;
}

void glass_tcp_enter_recovery(struct glass_stack *st, struct glass_tcb *tcb)
{
    /* RFC 5681 §3.2 steps 2-4 / RFC 6675 §5 / RFC 6582 §3.2 step 2. */
    uint32_t flight = glass_seq_sub(tcb->snd_max, tcb->snd_una);
    tcb->prior_cwnd = tcb->cwnd;
    tcb->ssthresh = glass_cc_ssthresh(st, tcb, flight);
    tcb->cwnd = tcb->ssthresh;
    if (!(tcb->flags & GLASS_TF_SACK_OK))
        tcb->cwnd += 3u * tcb->snd_mss; /* RFC 5681 (3): inflate by the three dup ACKs */
    tcb->recover = tcb->snd_max;
    tcb->high_rxt = tcb->snd_una;
    tcb->ca_state = GLASS_CA_RECOVERY;
    glass_timer_clear(st, tcb, GLASS_TT_TLP);
    /* The segment at SND.UNA goes at once (RFC 5681 §3.2 step 2); with RACK, the segments it
     * marked lost go instead. */
    if (!glass_rack_enabled(st, tcb))
        tcb->flags |= GLASS_TF_LOST_RTX;
    glass_mib_inc(st, GLASS_MIB_TcpExtTCPFastRetrans);
    glass_mib_inc(st, (tcb->flags & GLASS_TF_SACK_OK) ? GLASS_MIB_TcpExtTCPSackRecovery
                                                      : GLASS_MIB_TcpExtTCPRenoRecovery);
    glass_tcp_kick(st, tcb);
}

/* Congestion control and loss recovery for one acceptable ACK. */
static void ack_congestion(struct glass_stack *st, struct glass_tcb *tcb, const struct seg *s,
                           struct glass_seq ack, uint32_t acked, uint32_t sacked)
{
    if (acked > 0) {
        tcb->dupacks = 0;
        switch ((enum glass_ca_state)tcb->ca_state) {
        case GLASS_CA_RECOVERY:
            if (glass_seq_ge(ack, tcb->recover)) {
                /* RFC 6582 §3.2 step 3 (full ACK): deflate to min(ssthresh, flight + SMSS). */
                uint32_t flight = glass_seq_sub(tcb->snd_max, tcb->snd_una);
                uint32_t w = flight + tcb->snd_mss;
                tcb->cwnd = tcb->ssthresh < w ? tcb->ssthresh : w;
                tcb->ca_state = GLASS_CA_OPEN;
            } else if (!(tcb->flags & GLASS_TF_SACK_OK)) {
                /* RFC 6582 §3.2 step 4 (partial ACK): retransmit the next hole, deflate by
                 * what was acknowledged, add back one SMSS. */
                tcb->flags |= GLASS_TF_LOST_RTX;
                tcb->cwnd = tcb->cwnd > acked ? tcb->cwnd - acked : 0;
                tcb->cwnd += tcb->snd_mss;
            }
            break;
        case GLASS_CA_LOSS:
            if (glass_seq_ge(ack, tcb->recover))
                tcb->ca_state = GLASS_CA_OPEN;
            glass_cc_on_ack(st, tcb, acked);
            break;
        case GLASS_CA_DISORDER:
        case GLASS_CA_OPEN:
            tcb->ca_state = GLASS_CA_OPEN;
            glass_cc_on_ack(st, tcb, acked);
            break;
        }
        if (tcb->cwnd < tcb->snd_mss)
            tcb->cwnd = tcb->snd_mss;
        return;
    }
    if (!is_dupack(tcb, s, ack, sacked))
        return;
    if (tcb->dupacks < 255u)
        tcb->dupacks++;
    switch ((enum glass_ca_state)tcb->ca_state) {
    case GLASS_CA_OPEN:
    case GLASS_CA_DISORDER:
        tcb->ca_state = GLASS_CA_DISORDER;
        /* RFC 6582 §3.2 step 1: no new recovery for losses from before the last one. */
        if (glass_seq_lt(tcb->snd_una, tcb->recover))
            break;
        if (glass_rack_enabled(st, tcb) ? glass_rack_detect(st, tcb)
                                         : (tcb->dupacks >= 3u ||
                                            ((tcb->flags & GLASS_TF_SACK_OK) &&
                                             glass_sack_is_lost(tcb, tcb->snd_una))))
            glass_tcp_enter_recovery(st, tcb);
        else
            glass_tcp_kick(st, tcb); /* RFC 3042 limited transmit */
        break;
    case GLASS_CA_RECOVERY:
        if (!(tcb->flags & GLASS_TF_SACK_OK))
            tcb->cwnd += tcb->snd_mss; /* RFC 5681 (4): inflate per further dup ACK */
        (void)glass_rack_detect(st, tcb);
        glass_tcp_kick(st, tcb);
        break;
    case GLASS_CA_LOSS:
        break;
    }
}

/* fifth: the ACK field. */
static enum seg_verdict check_ack(struct glass_stack *st, struct glass_tcb *tcb, struct seg *s,
                                  const struct glass_ipv4_repr *ip)
{
    if (!(s->ctl & GLASS_TH_ACK)) {
        s->drop = GLASS_DROP_TCP_FLAGS_NO_ACK; /* "if the ACK bit is off, drop the segment" */
        return SEG_DONE;
    }
    struct glass_seq ack = glass_seq(s->r->ack);
    bool syn_rcvd = tcb->state == GLASS_TCP_SYN_RCVD;
    bool was_syn_unacked = false;
    struct glass_seq prior_una = tcb->snd_una;
    uint32_t sacked = 0;
    if (syn_rcvd) {
        if (!glass_seq_in_left_open(ack, tcb->snd_una, tcb->snd_max)) {
            glass_tcp_send_rst_reply(st, ip, s->r); /* <SEQ=SEG.ACK><CTL=RST> */
            s->drop = GLASS_DROP_TCP_ACK_UNSENT_DATA;
            return SEG_DONE;
        }
        struct glass_tcb *l = glass_tcb_listener(tcb);
        if (l != NULL && l->x->lq->acceptq_len > l->x->lq->backlog) {
            /* Linux (tcp_abort_on_overflow = 0): drop the ACK, keep SYN_RCVD; the SYN,ACK is
             * retransmitted and the client's next ACK may find room. */
            glass_mib_inc(st, GLASS_MIB_TcpExtListenOverflows);
            glass_mib_inc(st, GLASS_MIB_TcpExtListenDrops);
            s->drop = GLASS_DROP_TCP_LISTEN_OVERFLOW;
            return SEG_DONE;
        }
        tcb->snd_wnd = (uint32_t)s->r->win << tcb->snd_wscale;
        /* The handshake's ACK carries the first scaled window: it replaces the SYN's
         * unscaled one as the largest seen (Linux). */
        tcb->max_snd_wnd = tcb->snd_wnd;
        tcb->snd_wl1 = s->seq;
        tcb->snd_wl2 = ack;
    } else {
        if (glass_seq_gt(ack, tcb->snd_max)) {
            send_ack_soon(st, tcb); /* ACK of something not yet sent: ACK, drop (cat. 98) */
            s->drop = GLASS_DROP_TCP_ACK_UNSENT_DATA;
            return SEG_DONE;
        }
        /* RFC 5961 §5.2: SND.UNA - MAX.SND.WND <= SEG.ACK; like Linux, MAX.SND.WND is bounded
         * by what has been acknowledged so far, so an ACK below our ISN is never acceptable. */
        uint64_t acked_so_far = tcb->bytes_acked + 1u; /* + our SYN */
        uint32_t maxwnd =
            tcb->max_snd_wnd < acked_so_far ? tcb->max_snd_wnd : (uint32_t)acked_so_far;
        if (glass_seq_lt(ack, glass_seq_add(tcb->snd_una, (uint32_t)0 - maxwnd))) {
            challenge_ack(st, tcb); /* too old: challenge ACK, drop */
            s->drop = GLASS_DROP_TCP_OLD_ACK;
            return SEG_DONE;
        }
        was_syn_unacked = glass_seq_eq(tcb->snd_una, tcb->iss);
        if (glass_sack_is_dsack(tcb, s->r))
            glass_rack_on_dsack(st, tcb);
        sacked = glass_sack_update(st, tcb, s->r);
    }
    /* One call of new_ack for both paths, so that it is inlined once. In SYN-RECEIVED the ACK
     * was found above to acknowledge our SYN (SND.UNA < SEG.ACK =< SND.MAX, with SND.MAX a
     * few octets above SND.UNA, far from 2^31), so SEG.ACK > SND.UNA holds there too. */
    uint32_t acked = 0;
    if (glass_seq_gt(ack, tcb->snd_una))
        acked = new_ack(st, tcb, ack, s->r);
    if (syn_rcvd) {
        transfer_init(st, tcb);
        glass_tcp_set_state(st, tcb, GLASS_TCP_ESTABLISHED, GLASS_CAUSE_RCV_ACK_OF_SYN);
        if (tcb->flags & GLASS_TF_SHUT_PENDING) {
            tcb->flags &= ~GLASS_TF_SHUT_PENDING;
            glass_tcp_usr_fin(st, tcb, GLASS_CAUSE_APP_SHUTDOWN_WR);
        }
        return SEG_CONTINUE;
    }
    if (was_syn_unacked && acked > 0) {
        /* FIN_WAIT_1 entered from SYN_RCVD: the handshake completes here. */
        acked--;
        transfer_init(st, tcb);
    }
    if (glass_seq_ge(ack, tcb->snd_una))
        update_window(st, tcb, s, ack);
    if (!was_syn_unacked) {
        glass_rack_on_ack(st, tcb, prior_una, s->r);
        ack_congestion(st, tcb, s, ack, acked, sacked);
        /* RACK (RFC 8985 §6.2): new deliveries may show earlier segments lost. With nothing
         * left in flight there is nothing to mark, and the search would only stop its
         * reordering timer: stop it here. (That timer is only armed by glass_rack_detect, with
         * RACK on and its block held, and the block is not freed while it is armed: so when
         * the search would have returned early, the timer is not armed and this does
         * nothing either.) */
        bool all_acked = glass_seq_eq(tcb->snd_una, tcb->snd_max);
        if (acked > 0 && all_acked) {
            glass_timer_clear(st, tcb, GLASS_TT_RACK);
        } else if (acked > 0 && glass_rack_detect(st, tcb)) {
            if (tcb->ca_state != GLASS_CA_RECOVERY && glass_seq_ge(tcb->snd_una, tcb->recover))
                glass_tcp_enter_recovery(st, tcb);
            glass_tcp_kick(st, tcb);
        }
        if (all_acked)
            glass_timer_clear(st, tcb, GLASS_TT_TLP);
    }

    switch ((enum glass_tcp_state)tcb->state) {
    case GLASS_TCP_FIN_WAIT_1:
        /* If our FIN is now acknowledged, enter FIN-WAIT-2 — unless this very segment also
         * carries the peer's FIN: then FIN_WAIT_1 -> TIME_WAIT in one step (the seed's
         * shortcut), taken by check_fin. */
        if (fin_acked(tcb) && !fin_in_order(tcb, s))
            glass_tcp_set_state(st, tcb, GLASS_TCP_FIN_WAIT_2, GLASS_CAUSE_RCV_ACK_OF_FIN);
        break;
    case GLASS_TCP_CLOSING:
        if (fin_acked(tcb)) {
            glass_tcp_set_state(st, tcb, GLASS_TCP_TIME_WAIT, GLASS_CAUSE_RCV_ACK_OF_FIN);
            s->drop = GLASS_DROP_NONE;
            return SEG_DONE;
        }
        break;
    case GLASS_TCP_LAST_ACK:
        if (fin_acked(tcb)) {
            glass_tcp_set_state(st, tcb, GLASS_TCP_CLOSED, GLASS_CAUSE_RCV_ACK_OF_FIN);
            s->drop = GLASS_DROP_NONE;
            return SEG_DONE;
        }
        break;
    default:
        break;
    }
    return SEG_CONTINUE;
}

/* seventh: segment text, in ESTABLISHED, FIN-WAIT-1 and FIN-WAIT-2 only. In-order bytes go
 * to the application; out-of-order bytes wait in the reassembly queue (tcp_reass.c). */
static enum seg_verdict process_text(struct glass_stack *st, struct glass_tcb *tcb, struct seg *s)
{
    if (s->len == 0)
        return SEG_CONTINUE;
    if (!glass_tcp_state_in(tcb, GLASS_TCPF(ESTABLISHED) | GLASS_TCPF(FIN_WAIT_1) |
                                     GLASS_TCPF(FIN_WAIT_2))) {
        s->len = 0; /* after the peer's FIN: "should not occur", ignore the text */
        return SEG_CONTINUE;
    }
    if (tcb->flags & GLASS_TF_ORPHAN) {
        /* Data for a socket the application has closed: nobody will read it. Linux resets
         * (tcp_rcv_state_process, TCPAbortOnData). */
        glass_mib_inc(st, GLASS_MIB_TcpExtTCPAbortOnData);
        glass_tcp_send_rst_reply(st, s->ip, s->r); /* Linux: a reply RST, <SEQ=SEG.ACK> */
        glass_tcp_set_state(st, tcb, GLASS_TCP_CLOSED, GLASS_CAUSE_CLOSE_UNREAD);
        s->drop = GLASS_DROP_TCP_CLOSE;
        return SEG_DONE;
    }
    /* Storage up to the segment's end (the window we offered keeps it within rb.cap). */
    uint32_t need = tcb->rb.len + glass_seq_sub(glass_seq_add(s->seq, s->len), tcb->rcv_nxt);
    if (!glass_ring_reserve(st, &tcb->rb, need, glass_rb_stream(tcb))) {
        s->drop = GLASS_DROP_NOMEM;
        return SEG_DONE;
    }
    if (!glass_seq_eq(s->seq, tcb->rcv_nxt)) {
        enum glass_drop_reason why = glass_reass_insert(st, tcb, s->seq, s->data, s->len);
        if (why == GLASS_DROP_NONE && (s->ctl & GLASS_TH_FIN)) {
            tcb->flags |= GLASS_TF_OOO_FIN;
            tcb->ooo_fin = glass_seq_add(s->seq, s->len);
        }
        send_ack_soon(st, tcb); /* RFC 5681 §4.2: out-of-order data is ACKed at once */
        s->ctl &= (uint8_t)~GLASS_TH_FIN;
        if (why != GLASS_DROP_NONE) {
            glass_mib_inc(st, GLASS_MIB_TcpExtTCPOFODrop);
            s->drop = (int)why;
            return SEG_DONE;
        }
        glass_mib_inc(st, GLASS_MIB_TcpExtTCPOFOQueue);
        s->len = 0;
        return SEG_CONTINUE;
    }
    bool had_holes = tcb->n_ooo > 0;
    uint32_t before = tcb->rb.len;
    uint32_t seg_len = s->len;
    uint32_t adv = glass_reass_in_order(st, tcb, s->data, s->len);
    if (adv == 0) {
        send_ack_soon(st, tcb);
        s->drop = GLASS_DROP_TCP_ZEROWINDOW;
        return SEG_DONE;
    }
    if (adv < s->len)
        s->ctl &= (uint8_t)~GLASS_TH_FIN;
    tcb->bytes_received += tcb->rb.len - before;
    s->seq = tcb->rcv_nxt;
    s->len = 0;
    if ((tcb->flags & GLASS_TF_OOO_FIN) && glass_seq_eq(tcb->rcv_nxt, tcb->ooo_fin)) {
        s->ctl |= (uint8_t)GLASS_TH_FIN; /* the FIN that arrived early is now in order */
        tcb->flags &= ~GLASS_TF_OOO_FIN;
    }
    glass_ack_data_recv(st, tcb, seg_len);
    if (had_holes || !(s->ctl & GLASS_TH_FIN) || tcb->n_ooo > 0)
        glass_ack_policy(st, tcb, had_holes); /* else the FIN decides (check_fin) */
    glass_event_push(st, tcb, GLASS_EV_READABLE, 0);
    return SEG_CONTINUE;
}

/* eighth: FIN. */
static void check_fin(struct glass_stack *st, struct glass_tcb *tcb, struct seg *s)
{
    if (!(s->ctl & GLASS_TH_FIN) || !glass_seq_eq(s->seq, tcb->rcv_nxt) ||
        (tcb->flags & GLASS_TF_RCVD_FIN))
        return;
    if (tcb->n_ooo > 0)
        return; /* data beyond the FIN cannot be: ignore such a FIN */
    tcb->rcv_nxt = glass_seq_add(tcb->rcv_nxt, 1);
    tcb->flags |= GLASS_TF_RCVD_FIN;
    glass_ack_fin(st, tcb);
    switch ((enum glass_tcp_state)tcb->state) {
    case GLASS_TCP_ESTABLISHED:
        glass_tcp_set_state(st, tcb, GLASS_TCP_CLOSE_WAIT, GLASS_CAUSE_RCV_FIN);
        break;
    case GLASS_TCP_FIN_WAIT_1:
        if (fin_acked(tcb))
            glass_tcp_set_state(st, tcb, GLASS_TCP_TIME_WAIT, GLASS_CAUSE_RCV_FIN_ACK);
        else
            glass_tcp_set_state(st, tcb, GLASS_TCP_CLOSING, GLASS_CAUSE_RCV_FIN);
        break;
    case GLASS_TCP_FIN_WAIT_2:
        glass_tcp_set_state(st, tcb, GLASS_TCP_TIME_WAIT, GLASS_CAUSE_RCV_FIN);
        break;
    default:
        break;
    }
    glass_event_push(st, tcb, GLASS_EV_RDHUP, 0);
}

/* RFC 7323 §5.3 PAWS, R1: a segment whose TSval is older than TS.Recent is a duplicate from an
 * earlier incarnation of the sequence space: ACK it (unless RST) and drop it. TS.Recent older
 * than 24 days is no longer trusted. ts: timestamps are in use and the segment has one. */
static bool paws_reject(struct glass_stack *st, struct glass_tcb *tcb, const struct seg *s,
                        bool ts)
{
    if (!ts || (s->ctl & GLASS_TH_RST))
        return false;
    if ((int32_t)(s->r->ts_val - tcb->ts_recent) >= 0)
        return false;
    if (st->now - tcb->ts_recent_age > GLASS_SEC(24u * 24u * 3600u)) {
        tcb->ts_recent = s->r->ts_val;
        tcb->ts_recent_age = st->now;
        return false;
    }
    return true;
}

static int rcv_synchronized(struct glass_stack *st, struct glass_tcb *tcb,
                            const struct glass_ipv4_repr *ip, const struct glass_tcp_repr *r)
{
    struct seg s = {
        .r = r,
        .ip = ip,
        .seq = glass_seq(r->seq),
        .data = r->payload,
        .len = (uint32_t)r->payload_len,
        .ctl = r->flags,
        .drop = GLASS_DROP_NONE,
    };
    tcb->last_rcv = st->now;
    tcb->keep_probes = 0;
    /* Timestamps in use (set at the handshake only) and one on this segment: both RFC 7323
     * tests below ask it. */
    bool ts = (tcb->flags & GLASS_TF_TS_OK) && r->has_ts;
    if (paws_reject(st, tcb, &s, ts)) {
        glass_mib_inc(st, GLASS_MIB_TcpExtPAWSEstab);
        send_ack_soon(st, tcb);
        return glass_drop(st, GLASS_DROP_TCP_RFC7323_PAWS);
    }
    struct glass_seq orig_seq = s.seq;
    if (check_seq(st, tcb, &s) == SEG_DONE)
        return glass_drop(st, (enum glass_drop_reason)s.drop);
    /* RFC 7323 §4.3: remember the timestamp of a segment that covers Last.ACK.sent. */
    if (ts && glass_seq_le(orig_seq, tcb->last_ack_sent)) {
        tcb->ts_recent = r->ts_val;
        tcb->ts_recent_age = st->now;
    }
    if (check_rst(st, tcb, &s) == SEG_DONE || check_syn(st, tcb, &s) == SEG_DONE ||
        check_ack(st, tcb, &s, ip) == SEG_DONE)
        return glass_drop(st, (enum glass_drop_reason)s.drop);
    /* sixth: URG is accepted and ignored (RFC 6093: urgent data is deprecated; the pointer
     * is never used as an offset, catalogue 107-110). */
    if (process_text(st, tcb, &s) == SEG_DONE)
        return glass_drop(st, (enum glass_drop_reason)s.drop);
    check_fin(st, tcb, &s);
    if (s.drop != GLASS_DROP_NONE) /* processed for its control bits, its text refused */
        return glass_drop(st, (enum glass_drop_reason)s.drop);
    return GLASS_DROP_NONE;
}

int glass_tcp_input(struct glass_stack *st, const struct glass_ipv4_repr *ip,
                    const struct glass_tcp_repr *seg)
{
    struct glass_tcb *tcb = glass_demux_conn(st, ip->dst, seg->dst_port, ip->src, seg->src_port);
    if (tcb != NULL) {
        tcb->segs_in++;
        switch ((enum glass_tcp_state)tcb->state) {
        case GLASS_TCP_SYN_SENT:
            return rcv_syn_sent(st, tcb, ip, seg);
        case GLASS_TCP_TIME_WAIT:
            return rcv_time_wait(st, tcb, ip, seg);
        case GLASS_TCP_CLOSED:
        case GLASS_TCP_LISTEN:
            break; /* not in the 4-tuple hash; cannot happen */
        default:
            return rcv_synchronized(st, tcb, ip, seg);
        }
    }
    uint32_t tw = glass_tw_find(st, ip->dst, seg->dst_port, ip->src, seg->src_port);
    if (tw != 0)
        return glass_tw_input(st, tw, ip, seg);
    struct glass_tcb *l = glass_demux_listener(st, ip->dst, seg->dst_port);
    if (l != NULL)
        return rcv_listen(st, l, ip, seg);
    return rcv_closed(st, ip, seg);
}
