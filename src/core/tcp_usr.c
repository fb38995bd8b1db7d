/* glasstcp — the user calls of RFC 9293 §3.10 (OPEN, SEND's FIN, CLOSE, ABORT) as the state
 * machine sees them; errno semantics live in src/sock/socket.c. */
#include "core/core.h"
#include "util/assert.h"

#include <glass/err.h>

#include <string.h>

void glass_tcp_drop(struct glass_stack *st, struct glass_tcb *tcb, enum glass_tcp_cause cause,
                    int err)
{
    if (err != 0 && tcb->fd >= 0) {
        tcb->so_error = glass_err16(err);
        glass_event_push(st, tcb, GLASS_EV_ERROR, err);
    }
    glass_tcp_set_state(st, tcb, GLASS_TCP_CLOSED, cause);
}

void glass_tcp_abort(struct glass_stack *st, struct glass_tcb *tcb, enum glass_tcp_cause cause)
{
    /* RFC 9293 §3.10.5 ABORT: in SYN-RECEIVED and the synchronized states send
     * <SEQ=SND.NXT><CTL=RST>; in SYN-SENT just delete the TCB. */
    if (glass_tcp_state_in(tcb, GLASS_TCPF_SYNCHRONIZED | GLASS_TCPF(SYN_RCVD)) &&
        tcb->state != GLASS_TCP_TIME_WAIT)
        glass_tcp_send_rst_for(st, tcb);
    glass_tcp_set_state(st, tcb, GLASS_TCP_CLOSED, cause);
}

void glass_tcp_usr_fin(struct glass_stack *st, struct glass_tcb *tcb, enum glass_tcp_cause cause)
{
    enum glass_tcp_state to;
    switch ((enum glass_tcp_state)tcb->state) {
    case GLASS_TCP_SYN_RCVD:
    case GLASS_TCP_ESTABLISHED:
        to = GLASS_TCP_FIN_WAIT_1;
        break;
    case GLASS_TCP_CLOSE_WAIT:
        to = GLASS_TCP_LAST_ACK;
        break;
    default:
        return;
    }
    if (!(tcb->flags & GLASS_TF_FIN_QUEUED)) {
        /* The FIN follows every queued byte (RFC 9293 §3.10.4 "queue this until all
         * preceding SENDs have been segmentized"); from SYN-RECEIVED it is sent at once. */
        tcb->flags |= GLASS_TF_FIN_QUEUED;
        tcb->fin_seq = glass_seq_add(glass_tcp_snd_data(tcb), tcb->sb.len);
    }
    glass_tcp_set_state(st, tcb, to, cause);
    glass_tcp_kick(st, tcb);
}

int glass_tcp_usr_connect(struct glass_stack *st, struct glass_tcb *tcb,
                          const struct glass_endpoint *remote)
{
    uint32_t laddr = tcb->local.addr != 0 ? tcb->local.addr : glass_route_src(st, remote->addr);
    if (laddr == 0)
        return -GLASS_ENETUNREACH;
    uint16_t lport = tcb->local.port;
    uint32_t twref = 0; /* this 4-tuple's TIME-WAIT record, looked up once */
    bool twref_known = false;
    if (lport == 0) {
        lport = glass_ephemeral_port(st, tcb, laddr, remote, &twref);
        if (lport == 0)
            return -GLASS_EADDRNOTAVAIL;
        twref_known = true; /* the port's choice found it (demux.c port_suitable) */
    }
    /* The 4-tuple is taken (e.g. our own TIME_WAIT) unless tw_reuse lets us have it. */
    struct glass_tcb *tw = glass_demux_conn(st, laddr, lport, remote->addr, remote->port);
    if (tw != NULL && !glass_tw_reusable(st, tw))
        return -GLASS_EADDRNOTAVAIL;
    if (tw != NULL)
        twref = 0;
    else if (!twref_known)
        twref = glass_tw_find(st, laddr, lport, remote->addr, remote->port);
    if (twref != 0 && !glass_tw_rec_reusable(st, glass_tw_at(&st->tw, twref)))
        return -GLASS_EADDRNOTAVAIL;
    tcb->local.addr = laddr;
    tcb->local.port = lport;
    tcb->remote = *remote;
    tcb->iss = glass_isn(st, &tcb->local, &tcb->remote);
    /* Linux tcp_twsk_unique: the new incarnation starts above the old one's sequence space,
     * and TIME_WAIT ends (TcpExtTWRecycled). */
    if (tw != NULL) {
        tcb->iss = glass_seq(glass_tw_reuse_isn(tw->snd_nxt.v));
        glass_tcp_set_state(st, tw, GLASS_TCP_CLOSED, GLASS_CAUSE_REUSED_BY_CONNECT);
    } else if (twref != 0) {
        tcb->iss = glass_seq(glass_tw_reuse_isn(glass_tw_at(&st->tw, twref)->snd_nxt));
        glass_tw_set_closed(st, twref, GLASS_CAUSE_REUSED_BY_CONNECT);
    }
    tcb->ts_off = (uint32_t)glass_rng_next(&st->rng);
    tcb->rcv_wscale = st->cfg.window_scaling ? glass_tcp_our_wscale(tcb) : 0;
    tcb->snd_una = tcb->snd_nxt = tcb->snd_max = tcb->snd_sml = tcb->iss;
    tcb->snd_wnd = 0;
    tcb->rxtshift = 0;
    tcb->rto = st->cfg.rto_initial;
    glass_tcb_bhash(st, tcb);
    glass_tcb_hash(st, tcb);
    glass_tcp_set_state(st, tcb, GLASS_TCP_SYN_SENT, GLASS_CAUSE_APP_CONNECT);
    glass_tcp_kick(st, tcb);
    return -GLASS_EINPROGRESS;
}

void glass_tcp_fill_info(const struct glass_stack *st, const struct glass_tcb *tcb,
                         struct glass_tcp_info *info)
{
    memset(info, 0, sizeof *info);
    info->state = tcb->state; /* not-tcb-state */
    info->tcpi_state = (uint8_t)glass_tcp_state_linux(tcb->state);
    info->retransmits = tcb->rxtshift;
    info->backoff = tcb->rxtshift;
    info->conn_id = tcb->id;
    info->rto_us = (uint32_t)(glass_tcp_rto(tcb, &st->cfg) / 1000u);
    info->snd_mss = tcb->snd_mss;
    info->rcv_mss = tcb->rcv_mss;
    info->unacked = glass_seq_sub(tcb->snd_max, tcb->snd_una);
    info->total_retrans = tcb->total_retrans;
    info->iss = tcb->iss.v;
    info->irs = tcb->irs.v;
    info->snd_una = tcb->snd_una.v;
    info->snd_nxt = tcb->snd_nxt.v;
    info->snd_wnd = tcb->snd_wnd;
    info->snd_wl1 = tcb->snd_wl1.v;
    info->snd_wl2 = tcb->snd_wl2.v;
    info->rcv_nxt = tcb->rcv_nxt.v;
    info->rcv_wnd = glass_seq_gt(tcb->rcv_adv, tcb->rcv_nxt)
                        ? glass_seq_sub(tcb->rcv_adv, tcb->rcv_nxt)
                        : 0;
    info->snd_cwnd = tcb->cwnd;
    info->snd_ssthresh = tcb->ssthresh;
    info->ca_state = tcb->ca_state;
    info->snd_wscale = tcb->snd_wscale;
    info->rcv_wscale = tcb->rcv_wscale;
    info->options = (uint8_t)(((tcb->flags & GLASS_TF_TS_OK) ? 1u : 0u) |
                              ((tcb->flags & GLASS_TF_SACK_OK) ? 2u : 0u) |
                              ((tcb->flags & GLASS_TF_WS_OK) ? 4u : 0u));
    info->sacked = 0;
    for (uint8_t k = 0; k < tcb->n_sacked; k++)
        info->sacked += glass_seq_sub(tcb->x->sacked[k].end, tcb->x->sacked[k].start);
    info->reordering = tcb->dupacks;
    info->ts_recent = tcb->ts_recent;
    info->rtt_us = (uint32_t)(tcb->srtt / 1000u);
    info->rttvar_us = (uint32_t)(tcb->rttvar / 1000u);
    info->bytes_acked = tcb->bytes_acked;
    info->bytes_received = tcb->bytes_received;
    info->segs_out = tcb->segs_out;
    info->segs_in = tcb->segs_in;
    info->send_q = tcb->sb.len;
    info->recv_q = tcb->rb.len;
    info->last_error = tcb->so_error;
}
