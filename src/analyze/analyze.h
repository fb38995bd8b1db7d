/* glasstcp — capture analysis: TCP connection reconstruction and endpoint-state inference.
 *
 * The analyzer is fed captured frames one at a time, in file order (glass_ana_packet). It
 * decodes the link layer, IPv4 and TCP with the wire layer's validated parsers, groups
 * segments into connections by 4-tuple, and for every connection
 *   - repeats Wireshark's TCP sequence analysis (tcp.analysis.* flags, same definitions and
 *     precedence, CONVENTIONS.md "Wireshark TCP expert analysis"), and
 *   - infers the RFC 9293 state of both endpoints, packet by packet, from what the capture
 *     shows (docs/trace.md "What is inferred and how").
 * Results come out through two callbacks: one per frame (in frame order) and one per
 * connection when it is finalised (both sides closed and lingered, idle too long, replaced
 * by a new connection on the same 4-tuple, or the end of the capture). A finalised
 * connection is freed, so memory is bounded by the number of concurrent connections, not by
 * the size of the capture. Nothing here does I/O: the CLI reads the file (libpcap) and the
 * tests feed synthetic frames.
 *
 * Wireshark's analysis is reproduced from its documented definitions; where its behaviour is
 * a quirk of its implementation (0 meaning "unknown" for sequence numbers and times), the
 * quirk is reproduced too, so `glass trace --fields` can be diffed against tshark. */
#ifndef GLASS_ANALYZE_H
#define GLASS_ANALYZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glass/trace.h>
#include <glass/types.h>

/* Link-layer header types (LINKTYPE_* of pcap and pcapng, www.tcpdump.org/linktypes.html). */
#define GLASS_LINKTYPE_NULL 0         /* BSD loopback: 4-byte address family, host order */
#define GLASS_LINKTYPE_ETHERNET 1     /* Ethernet II, 802.1Q/802.1ad tags skipped */
#define GLASS_LINKTYPE_RAW 101        /* raw IP */
#define GLASS_LINKTYPE_LOOP 108       /* OpenBSD loopback: 4-byte address family, network order */
#define GLASS_LINKTYPE_LINUX_SLL 113  /* Linux "cooked" capture v1 (16-byte header) */
#define GLASS_LINKTYPE_IPV4 228       /* raw IPv4 */
#define GLASS_LINKTYPE_LINUX_SLL2 276 /* Linux "cooked" capture v2 (20-byte header) */

/* Wireshark's per-segment analysis results: X(NAME, display filter field, Info column tag,
 * expert severity). The order is the column order of the tshark field list of CONVENTIONS.md
 * (duplicate_ack is printed as tcp.analysis.duplicate_ack_num there). */
#define GLASS_ANA_FLAGS(X)                                                                         \
    X(RETRANSMISSION, "tcp.analysis.retransmission", "TCP Retransmission", "Note")                 \
    X(FAST_RETRANSMISSION, "tcp.analysis.fast_retransmission", "TCP Fast Retransmission", "Note")  \
    X(SPURIOUS_RETRANSMISSION, "tcp.analysis.spurious_retransmission",                             \
      "TCP Spurious Retransmission", "Note")                                                       \
    X(OUT_OF_ORDER, "tcp.analysis.out_of_order", "TCP Out-Of-Order", "Warn")                       \
    X(LOST_SEGMENT, "tcp.analysis.lost_segment", "TCP Previous segment not captured", "Warn")      \
    X(ACK_LOST_SEGMENT, "tcp.analysis.ack_lost_segment", "TCP ACKed unseen segment", "Warn")       \
    X(DUPLICATE_ACK, "tcp.analysis.duplicate_ack", "TCP Dup ACK", "Note")                          \
    X(ZERO_WINDOW, "tcp.analysis.zero_window", "TCP ZeroWindow", "Warn")                           \
    X(ZERO_WINDOW_PROBE, "tcp.analysis.zero_window_probe", "TCP ZeroWindowProbe", "Note")          \
    X(ZERO_WINDOW_PROBE_ACK, "tcp.analysis.zero_window_probe_ack", "TCP ZeroWindowProbeAck",       \
      "Note")                                                                                      \
    X(WINDOW_FULL, "tcp.analysis.window_full", "TCP Window Full", "Warn")                          \
    X(WINDOW_UPDATE, "tcp.analysis.window_update", "TCP Window Update", "Chat")                    \
    X(KEEP_ALIVE, "tcp.analysis.keep_alive", "TCP Keep-Alive", "Note")                             \
    X(KEEP_ALIVE_ACK, "tcp.analysis.keep_alive_ack", "TCP Keep-Alive ACK", "Note")                 \
    X(REUSED_PORTS, "tcp.analysis.reused_ports", "TCP Port numbers reused", "Note")

enum glass_ana_flag {
#define GLASS_X_ANA_FLAG(n, field, tag, sev) GLASS_ANA_##n,
    GLASS_ANA_FLAGS(GLASS_X_ANA_FLAG)
#undef GLASS_X_ANA_FLAG
        GLASS_ANA_NFLAGS
};

#define GLASS_ANAF(n) (1u << (GLASS_ANA_##n))

/* What glasstcp adds: findings about the endpoints' states that Wireshark does not give.
 * X(NAME, field, short text, severity). The first four are per segment, the others per
 * connection (reported on the connection when it is finalised). */
#define GLASS_ANA_NOTES(X)                                                                         \
    X(RST_IGNORED, "glass.trace.rst_ignored",                                                      \
      "RST ignored or challenged (seq is not the receiver's RCV.NXT, RFC 5961)", "Warn")           \
    X(RST_MID_TRANSFER, "glass.trace.rst_mid_transfer", "RST in the middle of a transfer", "Warn") \
    X(TIME_WAIT_ASSASSINATION, "glass.trace.time_wait_assassination",                              \
      "TIME_WAIT assassination attempt (RST to a side in TIME_WAIT, RFC 1337)", "Warn")            \
    X(STATE_CONFLICT, "glass.trace.state_conflict",                                                \
      "segment implies a transition that is not a legal RFC 9293 arc", "Note")                     \
    X(SYN_UNANSWERED, "glass.trace.syn_unanswered", "SYN unanswered", "Warn")                      \
    X(NEVER_CLOSED, "glass.trace.never_closed", "connection never closed", "Note")                 \
    X(HALF_CLOSED, "glass.trace.half_closed", "half-closed", "Note")                               \
    X(MIDSTREAM, "glass.trace.midstream", "capture started mid-connection", "Chat")

enum glass_ana_note {
#define GLASS_X_ANA_NOTE(n, field, text, sev) GLASS_ANA_NOTE_##n,
    GLASS_ANA_NOTES(GLASS_X_ANA_NOTE)
#undef GLASS_X_ANA_NOTE
        GLASS_ANA_NNOTES
};

#define GLASS_ANAN(n) (1u << (GLASS_ANA_NOTE_##n))

/* A side whose state the capture does not show (a server that never answered). */
#define GLASS_ANA_STATE_UNKNOWN GLASS_TCP_NSTATES
/* Pseudo-cause of the first entry of both sides when the capture starts mid-connection. */
#define GLASS_ANA_CAUSE_MIDSTREAM GLASS_CAUSE_COUNT

/* Sides of a connection. The client is the side that sent the first SYN; without one, the
 * side with the ephemeral-looking port (docs/trace.md). */
#define GLASS_ANA_CLIENT 0
#define GLASS_ANA_SERVER 1

/* Per-side history capacity; later transitions overwrite the last slot (hist_dropped). */
#define GLASS_ANA_HIST 10

struct glass_ana_transition {
    glass_time_t at;  /* capture time of the segment that showed it */
    uint64_t frame;   /* that segment's frame number (1-based) */
    uint8_t from, to; /* enum glass_tcp_state, or GLASS_ANA_STATE_UNKNOWN */
    uint8_t cause;    /* enum glass_tcp_cause, or GLASS_ANA_CAUSE_MIDSTREAM */
};

/* One side of a connection. state, pkts and bytes (and the connection's last and last_frame)
 * are filled in when the connection is reported (on_conn); while segments are fed, the states
 * are in glass_ana_pkt_info.state. */
struct glass_ana_side {
    struct glass_endpoint ep;
    uint8_t state; /* final state */
    uint8_t nhist;
    uint16_t hist_dropped;
    uint64_t pkts;  /* segments sent by this side */
    uint64_t bytes; /* TCP payload bytes sent (retransmissions included, like tshark -z conv) */
    bool sent_syn, sent_fin, sent_rst;
    glass_time_t fin_at;                              /* capture time of its first FIN */
    struct glass_ana_transition hist[GLASS_ANA_HIST]; /* last: the rest is read per segment */
};

/* One connection (tshark: one tcp.stream). */
struct glass_ana_conn {
    uint64_t stream;               /* 0-based, in first-seen order */
    struct glass_ana_side side[2]; /* [GLASS_ANA_CLIENT], [GLASS_ANA_SERVER] */
    glass_time_t first, last;
    uint64_t first_frame, last_frame;
    bool midstream; /* no handshake seen: both sides started in ESTABLISHED */
    bool reused;    /* started by a SYN on the 4-tuple of an earlier connection */
    uint32_t flag_count[GLASS_ANA_NFLAGS];
    uint32_t note_count[GLASS_ANA_NNOTES];
    glass_time_t half_closed_for; /* HALF_CLOSED: from the only FIN to the end */
    char conn_state[8]; /* Zeek conn_state: S0 S1 SF REJ S2 S3 RSTO RSTR RSTOS0 RSTRH SH SHR OTH */
    char history[48];   /* Zeek history string ("ShADadFf") */
    const char *end;    /* why it was finalised: "closed", "idle", "reused", "evicted", "end" */
    void *user;         /* for the caller; the analyzer never touches it */
};

/* A state change of one side, as reported with the frame that showed it. */
struct glass_ana_change {
    uint8_t side, from, to, cause;
};

#define GLASS_ANA_MAX_CHANGES 8

/* What one frame was, as seen by the analyzer. */
struct glass_ana_pkt_info {
    uint64_t frame; /* 1-based */
    glass_time_t at;
    struct glass_ana_conn *conn; /* NULL: not analysed (skip says why) */
    const char *skip;            /* "not IPv4", "IPv4 fragment", "not TCP", ... */
    uint8_t dir;                 /* side that sent it (GLASS_ANA_CLIENT / SERVER) */
    uint8_t tcp_flags;           /* GLASS_TH_* */
    uint16_t win;                /* raw window field */
    uint32_t win_scaled;         /* scaled by the sender's window-scale shift, when known */
    uint32_t seq, ack;           /* absolute */
    uint32_t rel_seq, rel_ack;   /* relative, as Wireshark computes them */
    uint32_t len;                /* TCP payload length */
    uint16_t mss;                /* MSS option, 0 if absent */
    int16_t wscale;              /* window-scale option, -1 if absent */
    uint32_t flags;              /* GLASS_ANAF(...) */
    uint32_t notes;              /* GLASS_ANAN(...) (per-segment ones) */
    uint32_t dupack_num;         /* tcp.analysis.duplicate_ack_num, 0 if none */
    uint64_t dupack_frame;       /* tcp.analysis.duplicate_ack_frame */
    uint8_t state[2];            /* both sides' states after this frame */
    uint8_t nchanges;
    struct glass_ana_change changes[GLASS_ANA_MAX_CHANGES];
};

struct glass_ana_config {
    /* A connection with no segment for this long (capture time) is finalised ("idle"). */
    glass_time_t idle_timeout;
    /* A connection whose two sides are closed (CLOSED, TIME_WAIT) is kept this long for late
     * retransmissions before it is finalised ("closed"). */
    glass_time_t close_linger;
    /* At most this many connections are held; beyond, the least recently active one is
     * finalised early ("evicted"). 0 = no limit. */
    size_t max_conns;
    /* A SYN carrying the ISN of its sender's earlier SYN, arriving once both sides are done,
     * starts a new connection (true, the default) or, as in tshark, is a retransmission in
     * the old one (false). A SYN with another ISN always starts a new connection. */
    bool finished_syn_is_new;
    /* After a connection is finalised, its 4-tuple and ISNs are remembered (a few dozen bytes,
     * the oldest forgotten first beyond this many) so that a later SYN with another ISN is
     * still flagged tcp.analysis.reused_ports, as tshark does. 0 = do not remember. */
    size_t max_tombstones;
    void (*on_packet)(void *ctx, const struct glass_ana_pkt_info *pi);
    void (*on_conn)(void *ctx, struct glass_ana_conn *conn);
    void *ctx;
};

/* Why frames were not analysed, and what the analyzer saw overall. */
struct glass_ana_totals {
    uint64_t frames;      /* frames fed */
    uint64_t tcp;         /* TCP/IPv4 segments analysed */
    uint64_t not_ip4;     /* other link or network protocols (ARP, IPv6, ...) */
    uint64_t not_tcp;     /* IPv4 but not TCP */
    uint64_t fragments;   /* IPv4 fragments (not reassembled) */
    uint64_t malformed;   /* refused by the IPv4 or TCP parser, or cut short by the snap length */
    uint64_t conns;       /* connections seen */
    uint64_t open_conns;  /* connections currently held */
    uint64_t peak_conns;  /* most connections held at once */
    uint64_t transitions; /* state changes recorded */
    uint64_t conflicts;   /* segments that implied an illegal arc (GLASS_ANA_NOTE_STATE_CONFLICT) */
    /* arcs[from][to]: transitions observed (UNKNOWN row for the first entry of a side) */
    uint64_t arcs[GLASS_TCP_NSTATES + 1][GLASS_TCP_NSTATES + 1];
    uint64_t flag_count[GLASS_ANA_NFLAGS];
    uint64_t note_count[GLASS_ANA_NNOTES];
};

struct glass_ana;

/* Defaults: idle 300 s (Zeek's tcp_inactivity_timeout), linger 10 s, 1 000 000 connections,
 * 1 000 000 tombstones. */
void glass_ana_config_default(struct glass_ana_config *cfg);
/* NULL when out of memory. */
struct glass_ana *glass_ana_new(const struct glass_ana_config *cfg);
void glass_ana_free(struct glass_ana *a);

/* Feed the next frame: capture time, link type (GLASS_LINKTYPE_*), the captured bytes and
 * the frame's length on the wire (>= caplen; larger when the snap length cut it). Returns 0,
 * or -GLASS_ENOMEM when a new connection could not be allocated (the frame is then reported
 * as not analysed). Never fails on the content of the frame. */
int glass_ana_packet(struct glass_ana *a, glass_time_t at, int linktype, const uint8_t *data,
                     size_t caplen, size_t wirelen);
/* Optional, for speed only (the results do not change): a reader that can look a few frames
 * ahead announces each frame twice before feeding it, so that the memory of its connection
 * is on its way when the frame is fed. Typically prefetch_bucket at 16 frames ahead and
 * prefetch_conn at 8; the hint carries what the first found out to the second. */
struct glass_ana_hint {
    uint64_t hash;
    bool ok; /* a TCP/IPv4 frame whose 4-tuple could be read */
};
void glass_ana_prefetch_bucket(struct glass_ana *a, int linktype, const uint8_t *data,
                               size_t caplen, struct glass_ana_hint *hint);
void glass_ana_prefetch_conn(const struct glass_ana *a, const struct glass_ana_hint *hint);

/* Finalise every connection still held (in stream order). Call once, after the last frame. */
void glass_ana_finish(struct glass_ana *a);
const struct glass_ana_totals *glass_ana_totals(const struct glass_ana *a);

/* Names. */
const char *glass_ana_flag_field(int flag); /* "tcp.analysis.retransmission" */
const char *glass_ana_flag_tag(int flag);   /* "TCP Retransmission" */
const char *glass_ana_flag_severity(int flag);
const char *glass_ana_note_field(int note); /* "glass.trace.half_closed" */
const char *glass_ana_note_text(int note);
const char *glass_ana_note_severity(int note);
const char *glass_ana_state_name(int state); /* canonical; "?" for GLASS_ANA_STATE_UNKNOWN */
const char *glass_ana_cause_name(int cause); /* trace.h names plus "midstream" */
bool glass_ana_link_supported(int linktype);

#endif
