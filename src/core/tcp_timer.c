/* glasstcp — what each TCP timer does when it fires (FreeBSD tcp_timer.c's dispatch, RFC 9293
 * §3.8.1, RFC 6298 §5, RFC 1122 §4.2.3.5). */
#include "core/core.h"
#include "util/assert.h"

#include <glass/err.h>

/* How many timeouts in a row this connection may take (RFC 1122 R2, Linux sysctls). */
static unsigned retrans_limit(const struct glass_stack *st, const struct glass_tcb *tcb)
{
    if (tcb->state == GLASS_TCP_SYN_SENT) /* Linux: the linear timeouts come on top */
        return (unsigned)st->cfg.syn_retries + st->cfg.syn_linear_timeouts;
    if (tcb->state == GLASS_TCP_SYN_RCVD && (tcb->flags & GLASS_TF_PASSIVE))
        return st->cfg.synack_retries;
    if (tcb->flags & GLASS_TF_ORPHAN)
        return st->cfg.orphan_retries;
    return st->cfg.retries2;
}

/* The error a connection that gives up reports: a recent ICMP soft error if there was one
 * (RFC 1122 §4.2.3.9, Linux sk_err_soft), else -ETIMEDOUT. */
static int timeout_error(const struct glass_tcb *tcb)
{
    return tcb->soft_error != 0 ? tcb->soft_error : -GLASS_ETIMEDOUT;
}

static void rexmt_timeout(struct glass_stack *st, struct glass_tcb *tcb)
{
    uint32_t user_timeout_ms = tcb->x->user_timeout_ms;
    bool user_expired = user_timeout_ms != 0 && tcb->rtx_since != 0 &&
                        st->now - tcb->rtx_since >= GLASS_MSEC((glass_time_t)user_timeout_ms) &&
                        glass_tcp_state_in(tcb, GLASS_TCPF_SYNCHRONIZED | GLASS_TCPF(SYN_SENT));
    if (tcb->rxtshift >= retrans_limit(st, tcb) || user_expired) {
        /* R2 reached, or TCP_USER_TIMEOUT (RFC 5482): give up (RFC 1122 §4.2.3.5, MUST-20). */
        enum glass_tcp_cause cause = GLASS_CAUSE_RETRANS_TIMEOUT;
        if (user_expired)
            cause = GLASS_CAUSE_USER_TIMEOUT;
        else if (tcb->state == GLASS_TCP_SYN_SENT)
            cause = GLASS_CAUSE_SYN_TIMEOUT;
        else if (tcb->state == GLASS_TCP_SYN_RCVD && (tcb->flags & GLASS_TF_PASSIVE))
            cause = GLASS_CAUSE_SYNACK_TIMEOUT;
        if (glass_tcp_state_in(tcb, GLASS_TCPF_SYNCHRONIZED))
            glass_mib_inc(st, GLASS_MIB_TcpExtTCPAbortOnTimeout);
        glass_tcp_drop(st, tcb, cause, timeout_error(tcb));
        return;
    }
    glass_mib_inc(st, GLASS_MIB_TcpExtTCPTimeouts);
    tcb->rxtshift++;
    /* RFC 5681 (4)/(5): ssthresh from the flight, cwnd one segment; RFC 6675 §5.1: the
     * scoreboard is not trusted after a timeout. */
    if (glass_tcp_state_in(tcb, GLASS_TCPF_SYNCHRONIZED) && !glass_seq_eq(tcb->snd_una, tcb->iss)) {
        glass_cc_on_rto(st, tcb);
        glass_sack_clear(st, tcb);
        glass_timer_clear(st, tcb, GLASS_TT_TLP);
        glass_timer_clear(st, tcb, GLASS_TT_RACK);
        tcb->dupacks = 0;
        tcb->high_rxt = tcb->snd_una;
        tcb->flags &= ~GLASS_TF_LOST_RTX;
    }
    /* RFC 6298 (5.4)-(5.6): retransmit the earliest unacknowledged segment with the backed-off
     * timer; everything after it is sent again as the window allows (go-back-N). */
    tcb->snd_nxt = tcb->snd_una;
    tcb->flags &= ~GLASS_TF_RTT_VALID;
    glass_tcp_kick(st, tcb);
}

glass_time_t glass_tcp_keep_idle(const struct glass_stack *st, const struct glass_tcb *tcb)
{
    uint16_t s = tcb->x->keep_idle_s;
    return s != 0 ? GLASS_SEC((glass_time_t)s) : st->cfg.keepalive_time;
}

glass_time_t glass_tcp_keep_intvl(const struct glass_stack *st, const struct glass_tcb *tcb)
{
    uint16_t s = tcb->x->keep_intvl_s;
    return s != 0 ? GLASS_SEC((glass_time_t)s) : st->cfg.keepalive_intvl;
}

/* RFC 1122 §4.2.3.6: after keep_idle without a segment from the peer and with nothing in
 * flight, send up to keep_cnt probes keep_intvl apart; then give up. */
static void keepalive_timeout(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (!(tcb->flags & GLASS_TF_KEEPALIVE) ||
        !glass_tcp_state_in(tcb, GLASS_TCPF(ESTABLISHED) | GLASS_TCPF(CLOSE_WAIT) |
                                     GLASS_TCPF(FIN_WAIT_2)))
        return;
    glass_time_t idle = st->now - tcb->last_rcv;
    if (!glass_seq_eq(tcb->snd_una, tcb->snd_max) || tcb->sb.len > 0) {
        /* data in flight: the retransmission timer watches the peer */
        glass_timer_set(st, tcb, GLASS_TT_KEEPALIVE, st->now + glass_tcp_keep_idle(st, tcb));
        return;
    }
    if (idle < glass_tcp_keep_idle(st, tcb) && tcb->keep_probes == 0) {
        glass_timer_set(st, tcb, GLASS_TT_KEEPALIVE, tcb->last_rcv + glass_tcp_keep_idle(st, tcb));
        return;
    }
    if (tcb->keep_probes >= tcb->keep_cnt) {
        glass_tcp_send_rst_for(st, tcb); /* Linux tells the (maybe living) peer */
        glass_tcp_drop(st, tcb, GLASS_CAUSE_KEEPALIVE_TIMEOUT, timeout_error(tcb));
        return;
    }
    /* The probe: SEG.SEQ = SND.NXT - 1 and no data (RFC 1122 §4.2.3.6, as Linux). */
    glass_tcp_send_probe(st, tcb);
    tcb->keep_probes++;
    glass_mib_inc(st, GLASS_MIB_TcpExtTCPKeepAlive);
    glass_timer_set(st, tcb, GLASS_TT_KEEPALIVE, st->now + glass_tcp_keep_intvl(st, tcb));
}

static void persist_timeout(struct glass_stack *st, struct glass_tcb *tcb)
{
    /* RFC 9293 §3.8.6.1: probe the zero window. Like Linux, the probe is a segment with an old
     * sequence number (SND.UNA - 1) and no data: it occupies no sequence space, so an
     * unresponsive window never counts as retransmission loss (MUST-37), and the peer
     * answers it with an ACK carrying its current window. */
    if (tcb->sb.len == 0)
        return;
    if (tcb->snd_wnd != 0) {
        /* A window smaller than we would send into (SWS avoidance): the override timeout
         * of §3.8.6.2.1 sends what fits. */
        tcb->flags |= GLASS_TF_FORCE;
        glass_tcp_kick(st, tcb);
        return;
    }
    glass_tcp_send_probe(st, tcb);
    glass_mib_inc(st, GLASS_MIB_TcpExtTCPWinProbe);
    if (tcb->persist_shift < 16)
        tcb->persist_shift++;
    glass_time_t t = tcb->rto;
    for (unsigned i = 0; i < tcb->persist_shift && t < st->cfg.rto_max; i++)
        t *= 2u;
    if (t > st->cfg.rto_max)
        t = st->cfg.rto_max;
    glass_timer_set(st, tcb, GLASS_TT_PERSIST, st->now + t);
}

void glass_tcp_timer_fire(struct glass_stack *st, struct glass_tcb *tcb, glass_time_t now)
{
    for (int k = 0; k < GLASS_TT_COUNT; k++) {
        if (tcb->timer[k] > now || (tcb->flags & GLASS_TF_REAP))
            continue;
        tcb->timer[k] = GLASS_TIME_NEVER;
        tcb->wheel.armed = (uint8_t)(tcb->wheel.armed & ~(1u << k));
        switch ((enum glass_timer_kind)k) {
        case GLASS_TT_REXMT:
            rexmt_timeout(st, tcb);
            break;
        case GLASS_TT_PERSIST:
            persist_timeout(st, tcb);
            break;
        case GLASS_TT_DELACK:
            glass_ack_delack_fire(st, tcb);
            break;
        case GLASS_TT_KEEPALIVE:
            keepalive_timeout(st, tcb);
            break;
        case GLASS_TT_RACK:
            /* RFC 8985 §6.3: the reordering window passed: look again. */
            if (glass_rack_detect(st, tcb)) {
                if (tcb->ca_state != GLASS_CA_RECOVERY && glass_seq_ge(tcb->snd_una, tcb->recover))
                    glass_tcp_enter_recovery(st, tcb);
                glass_tcp_kick(st, tcb);
            }
            break;
        case GLASS_TT_TLP:
            glass_rack_tlp_fire(st, tcb);
            break;
        case GLASS_TT_TIMEWAIT:
            glass_tcp_set_state(st, tcb, GLASS_TCP_CLOSED, GLASS_CAUSE_TIMEOUT_2MSL);
            break;
        case GLASS_TT_FINWAIT2:
            /* Orphaned FIN_WAIT_2: the peer never sent its FIN. Linux lets it expire quietly
             * (a FIN_WAIT2 timewait socket), without an RST. */
            if (tcb->state == GLASS_TCP_FIN_WAIT_2)
                glass_tcp_set_state(st, tcb, GLASS_TCP_CLOSED, GLASS_CAUSE_FIN_WAIT_2_TIMEOUT);
            break;
        case GLASS_TT_COUNT:
            break;
        }
    }
    if (!(tcb->flags & GLASS_TF_REAP))
        glass_timer_reschedule(st, tcb); /* re-file under whatever timers remain */
}
