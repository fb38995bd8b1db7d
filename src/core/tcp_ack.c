/* glasstcp — when to acknowledge received data: delayed ACKs (RFC 9293 §3.8.6.3, RFC 1122
 * §4.2.3.2, RFC 5681 §4.2) with Linux's choices where the RFCs leave them open: quick-ACK mode
 * at the start of a connection, interactive ("pingpong") mode in which ACKs wait to ride on the
 * reply, and the ACK sent when the application reads (tcp_cleanup_rbuf). */
#include "core/core.h"
#include "util/assert.h"

#define QUICKACKS_MAX 16u /* Linux TCP_MAX_QUICKACKS */

static void ack_now(struct glass_stack *st, struct glass_tcb *tcb)
{
    tcb->flags |= GLASS_TF_ACKNOW;
    glass_tcp_kick(st, tcb);
}

/* Linux inet_csk_in_pingpong_mode: replies have followed received data often enough. */
bool glass_ack_interactive(const struct glass_stack *st, const struct glass_tcb *tcb)
{
    return st->cfg.pingpong_thresh != 0 && tcb->pingpong >= st->cfg.pingpong_thresh;
}

/* Linux tcp_enter_quickack_mode: ACK the next segments at once and leave interactive mode
 * (the peer retransmits, or probes a closed window: it waits for us). */
void glass_ack_quick(struct glass_tcb *tcb)
{
    if (tcb->quickack < QUICKACKS_MAX)
        tcb->quickack = QUICKACKS_MAX;
    tcb->pingpong = 0;
}

/* Linux tcp_event_data_recv / tcp_measure_rcv_mss: in-order data of len bytes arrived.
 * Estimate the size of the peer's segments (the "full-sized segment" of RFC 5681 §4.2) and
 * remember short ones (a read that empties the buffer then ACKs at once), and after an idle
 * time longer than the RTO go back to quick ACKs (the peer restarts from a small window). */
void glass_ack_data_recv(struct glass_stack *st, struct glass_tcb *tcb, uint32_t len)
{
    if (tcb->ack_rcv_mss == 0)
        tcb->ack_rcv_mss = tcb->rcv_mss < GLASS_DEFAULT_PEER_MSS ? tcb->rcv_mss
                                                                  : (uint16_t)GLASS_DEFAULT_PEER_MSS;
    if (len >= tcb->ack_rcv_mss) {
        tcb->ack_rcv_mss = (uint16_t)(len < tcb->rcv_mss ? len : tcb->rcv_mss);
    } else {
        if (tcb->ack_pushed > 0)
            tcb->ack_pushed = 2; /* ICSK_ACK_PUSHED2 */
        else
            tcb->ack_pushed = 1; /* ICSK_ACK_PUSHED */
    }
    if ((tcb->flags & GLASS_TF_RCVD_DATA) && st->now - tcb->lrcvtime > tcb->rto && tcb->quickack < QUICKACKS_MAX)
        tcb->quickack = QUICKACKS_MAX;
    tcb->flags |= GLASS_TF_RCVD_DATA;
    tcb->lrcvtime = st->now;
}

/* Linux tcp_event_data_sent: data sent within the ACK delay of the last data received is a
 * reply; one is enough (tcp_pingpong_thresh 1) to make the connection interactive. */
void glass_ack_data_sent(struct glass_stack *st, struct glass_tcb *tcb)
{
    if ((tcb->flags & GLASS_TF_RCVD_DATA) && st->now - tcb->lrcvtime < st->cfg.delack_min && tcb->pingpong < 255u)
        tcb->pingpong++;
}

/* RFC 5681 §4.2 / RFC 9293 §3.8.6.3 for in-order data (Linux __tcp_ack_snd_check): ACK at once
 * when more than one full-sized segment is unacknowledged, in quick-ACK mode (not while
 * interactive), and when `immediate` (a hole was filled); otherwise within delack_min. */
void glass_ack_policy(struct glass_stack *st, struct glass_tcb *tcb, bool immediate)
{
    uint32_t unacked = glass_seq_sub(tcb->rcv_nxt, tcb->last_ack_sent);
    uint32_t full = tcb->ack_rcv_mss != 0 ? tcb->ack_rcv_mss : tcb->rcv_mss;
    bool quick = tcb->quickack > 0 && !glass_ack_interactive(st, tcb);
    if (immediate || quick || unacked > full) {
        if (quick)
            tcb->quickack--;
        ack_now(st, tcb);
        return;
    }
    if (tcb->timer[GLASS_TT_DELACK] == GLASS_TIME_NEVER) {
        glass_mib_inc(st, GLASS_MIB_TcpExtDelayedACKs);
        glass_timer_set(st, tcb, GLASS_TT_DELACK, st->now + st->cfg.delack_min);
    }
}

/* The peer's FIN in ESTABLISHED (Linux tcp_fin: inet_csk_enter_pingpong_mode): once data has
 * been received its ACK is delayed like data in interactive mode, so that a close() by the
 * application right away sends one FIN,ACK instead of an ACK and then a FIN. Before any data
 * (Linux's ACK delay is still 0) and in the other states it goes at once. */
void glass_ack_fin(struct glass_stack *st, struct glass_tcb *tcb)
{
    bool may_wait = (tcb->flags & GLASS_TF_RCVD_DATA) && st->cfg.pingpong_thresh != 0 &&
                    glass_tcp_state_in(tcb, GLASS_TCPF(ESTABLISHED) | GLASS_TCPF(SYN_RCVD));
    if (!may_wait) {
        ack_now(st, tcb);
        return;
    }
    if (tcb->pingpong < st->cfg.pingpong_thresh)
        tcb->pingpong = st->cfg.pingpong_thresh;
    glass_ack_policy(st, tcb, false);
}

/* The delayed-ACK timer fired (Linux tcp_delack_timer_handler): the application did not reply
 * in time, so the connection is not interactive after all. */
void glass_ack_delack_fire(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (!glass_tcp_state_in(tcb, GLASS_TCPF_SYNCHRONIZED))
        return;
    tcb->pingpong = 0;
    ack_now(st, tcb);
}

/* The application read from the receive buffer (Linux tcp_cleanup_rbuf) while an ACK is
 * delayed: send it now if more than a full-sized segment is unacknowledged, or if the read
 * emptied the buffer after short segments (two of them, or one outside interactive mode).
 * Returns true if an ACK was asked for. */
bool glass_ack_after_read(struct glass_stack *st, struct glass_tcb *tcb)
{
    if (tcb->timer[GLASS_TT_DELACK] == GLASS_TIME_NEVER)
        return false;
    uint32_t unacked = glass_seq_sub(tcb->rcv_nxt, tcb->last_ack_sent);
    uint32_t full = tcb->ack_rcv_mss != 0 ? tcb->ack_rcv_mss : tcb->rcv_mss;
    bool emptied = tcb->rb.len == 0 &&
                   (tcb->ack_pushed == 2 || (tcb->ack_pushed == 1 && !glass_ack_interactive(st, tcb)));
    if (unacked <= full && !emptied)
        return false;
    ack_now(st, tcb);
    return true;
}
