/* glasstcp — capture analysis internals shared by analyze.c, flow.c and infer.c. */
#ifndef GLASS_ANALYZE_PRIV_H
#define GLASS_ANALYZE_PRIV_H

#include "analyze/analyze.h"
#include "util/seq.h"

/* One TCP segment, decoded (host order). */
struct ana_seg {
    glass_time_t at; /* capture time */
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint32_t len; /* payload length (from the IP total length, even if the capture is cut) */
    uint16_t win; /* raw window field */
    uint16_t mss;
    int16_t wscale; /* -1 absent */
    uint8_t flags;  /* GLASS_TH_* */
};

/* Wireshark's per-direction sequence analysis state (tcp_flow_t / tcp_analyze_seq_flow_info_t
 * in its terms). Zero in nextseq, maxseqtobeacked and lastack means "not known yet", exactly as
 * in Wireshark (which compares raw values against 0). */
struct ana_flow {
    struct glass_seq base_seq;
    struct glass_seq nextseq;         /* highest seq + len (+1 for SYN/FIN) seen */
    struct glass_seq maxseqtobeacked; /* highest contiguous nextseq */
    struct glass_seq lastack;         /* ack field of the last segment */
    uint64_t nextseq_frame, lastnondupack;
    glass_time_t nextseq_time, lastack_time;
    uint32_t window;       /* raw window field of the last segment; UINT32_MAX before one */
    uint32_t lastsegflags; /* analysis flags of the last segment */
    uint32_t dupacknum;    /* DUPACK_UNSEEN: an "ACKed unseen segment" was just reported */
    int16_t win_scale;     /* -1 unknown, -2 not in use, else the shift (<= 14) */
    bool base_set;
    bool is_first_ack; /* a SYN was sent and no pure ACK since */
};

/* Wireshark stores -1 in its unsigned duplicate-ACK counter after an "ACKed unseen segment";
 * as unsigned it then also passes the ">= 2 duplicate ACKs" test of Fast Retransmission. */
#define DUPACK_UNSEEN UINT32_MAX

/* Zeek endpoint states (for conn_state). */
enum ana_zeek {
    ZK_INACTIVE = 0,
    ZK_SYN_SENT,
    ZK_SYN_ACK_SENT,
    ZK_PARTIAL,
    ZK_ESTABLISHED,
    ZK_CLOSED,
    ZK_RESET,
};

/* Inference state of one endpoint. The fields read for every segment (state, counters) live
 * here, next to the rest of the hot data; glass_ana_conn.side[] gets a copy when the
 * connection is reported. */
struct ana_peer {
    uint8_t state;               /* enum glass_tcp_state or GLASS_ANA_STATE_UNKNOWN */
    uint64_t pkts;               /* segments sent */
    uint64_t bytes;              /* payload bytes sent */
    struct glass_seq iss;        /* its SYN */
    struct glass_seq fin_seq;    /* sequence number of its FIN */
    struct glass_seq snd_nxt;    /* highest seq + len (+SYN/FIN) it sent */
    struct glass_seq data_end;   /* highest seq + len of its payload */
    struct glass_seq last_ack;   /* highest ack it sent */
    struct glass_seq ack_at_fin; /* its ack when it sent its FIN */
    bool syn_sent, fin_sent, snd_set, data_set, ack_set;
    bool fin_acked;           /* the peer acknowledged its FIN and that ACK reached it */
    bool data_after_peer_fin; /* it sent payload after the peer's FIN */
    /* Segments of this side whose effect on the peer waits for evidence that the peer got
     * them (the peer acknowledging them), in this side's sending order: */
    bool pend_syn;                     /* a SYN (or SYN,ACK) */
    bool pend_syn_ack;                 /*   ... that acknowledged the peer's SYN */
    bool pend_fin;                     /* a FIN */
    bool pend_fin_ack;                 /*   ... whose segment acknowledged the peer's FIN */
    bool fin_ooo;                      /*   ... that passed with a hole before it */
    bool q_ack_syn;                    /* later segments acknowledging the peer's SYN */
    bool q_ack_fin;                    /* later segments acknowledging the peer's FIN */
    bool passive;                      /* entered SYN_RCVD from LISTEN */
    int8_t fin_hist;                   /* index in hist of its FIN transition, -1 if none */
    uint8_t zeek;                      /* enum ana_zeek */
    uint16_t zeek_once;                /* history letters already recorded */
    uint32_t zk_retx, zk_zwin, zk_gap; /* counts for the repeated letters t, w, g */
    /* Everything this side sent before in_order has passed the capture point, or the peer
     * has acknowledged it (infer.c note_in_order). */
    struct glass_seq in_order;
    bool in_order_set;
};

struct ana_conn {
    /* The lookup reads these for every segment: keep them in the first cache line. */
    struct ana_conn *hnext; /* hash chain */
    uint64_t hash;
    uint32_t key_a, key_b; /* canonical 4-tuple: (key_a, port_a) <= (key_b, port_b) */
    uint16_t port_a, port_b;
    struct ana_conn *prev, *next; /* activity list (open or closed) */
    glass_time_t queued_at;       /* when it was put at the tail of its list */
    glass_time_t last;            /* capture time of its last segment */
    uint64_t last_frame;
    struct ana_flow flow[2]; /* by sender side */
    struct ana_peer peer[2];
    glass_time_t mru_syn;      /* time of the most recent SYN (Wireshark ts_mru_syn), 0 = none */
    glass_time_t first_rtt;    /* Wireshark ts_first_rtt (iRTT), 0 = not known */
    uint8_t hlen;              /* length of pub.history */
    bool first_from_server;    /* the first frame came from the side we call server */
    bool closed_list;          /* on the closed (lingering) list */
    struct glass_ana_conn pub; /* what the callbacks get (&pub) */
};

/* flow.c: Wireshark's sequence analysis for one segment from side d. Fills pi->flags,
 * dupack_*, rel_seq/rel_ack; extra_flags are flags decided before (reused ports). */
void glass_ana_flow_segment(struct ana_conn *c, int d, const struct ana_seg *s, glass_time_t at,
                            uint64_t frame, uint32_t extra_flags, struct glass_ana_pkt_info *pi);

/* infer.c: endpoint-state inference for one segment from side d (after the flow analysis,
 * whose flags it reads from pi). Updates states, histories, Zeek state/history, notes. */
void glass_ana_infer_segment(struct ana_conn *c, int d, const struct ana_seg *s, glass_time_t at,
                             uint64_t frame, struct glass_ana_totals *tot,
                             struct glass_ana_pkt_info *pi);
/* infer.c: start a connection whose first segment is s from side d. */
void glass_ana_infer_start(struct ana_conn *c, int d, const struct ana_seg *s, glass_time_t at,
                           uint64_t frame, struct glass_ana_totals *tot,
                           struct glass_ana_pkt_info *pi);
/* infer.c: the new SYN on this 4-tuple takes over a side in TIME_WAIT (reused_by_syn). */
void glass_ana_infer_reuse(struct ana_conn *c, glass_time_t at, uint64_t frame,
                           struct glass_ana_totals *tot);
/* infer.c: both sides are done (CLOSED, TIME_WAIT, LISTEN or never seen). */
bool glass_ana_infer_finished(const struct ana_conn *c);
/* infer.c: connection-level notes, conn_state and history at the end. */
void glass_ana_infer_finalise(struct ana_conn *c, glass_time_t now, struct glass_ana_totals *tot);

#endif
