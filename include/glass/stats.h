/** @file
 * glasstcp — MIB counters (Linux nstat names) and drop reasons (Linux SKB_DROP_REASON_*). */
#ifndef GLASS_STATS_H
#define GLASS_STATS_H

#include <glass/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The MIB counters as an X-macro: X(name, "description"). Names and meanings are Linux
 *  nstat's (RFC 1213 Tcp*, TcpExt*); the few that are glasstcp's own say so. */
#define GLASS_MIBS(X)                                                                            \
    X(IpInReceives, "IP datagrams received")                                                     \
    X(IpInHdrErrors, "IP datagrams dropped for header errors")                                   \
    X(IpInAddrErrors, "IP datagrams not for one of our addresses")                               \
    X(IpInUnknownProtos, "IP datagrams for an unknown protocol")                                 \
    X(IpInDelivers, "IP datagrams delivered to TCP/ICMP")                                        \
    X(IpOutRequests, "IP datagrams sent")                                                        \
    X(IpOutDiscards, "IP datagrams dropped on output (queue full)")                              \
    X(TcpActiveOpens, "CLOSED -> SYN_SENT transitions")                                          \
    X(TcpPassiveOpens, "LISTEN -> SYN_RCVD transitions")                                         \
    X(TcpAttemptFails, "SYN_SENT/SYN_RCVD -> CLOSED plus SYN_RCVD -> LISTEN transitions")        \
    X(TcpEstabResets, "ESTABLISHED/CLOSE_WAIT -> CLOSED transitions")                            \
    X(TcpCurrEstab, "connections now in ESTABLISHED or CLOSE_WAIT (gauge)")                      \
    X(TcpInSegs, "segments received, including errors")                                          \
    X(TcpOutSegs, "segments sent, excluding retransmissions")                                    \
    X(TcpRetransSegs, "segments retransmitted")                                                  \
    X(TcpInErrs, "segments received with errors (checksum, header)")                             \
    X(TcpOutRsts, "segments sent with RST")                                                      \
    X(TcpInCsumErrors, "segments received with a bad checksum")                                  \
    X(TcpExtListenOverflows, "handshakes completed while the accept queue was full")             \
    X(TcpExtListenDrops, "SYNs or ACKs dropped by a listener")                                   \
    X(TcpExtSyncookiesSent, "SYN,ACKs sent with a SYN cookie (RFC 4987 §3.6)")                    \
    X(TcpExtSyncookiesRecv, "ACKs carrying a valid SYN cookie: connection created")               \
    X(TcpExtSyncookiesFailed, "ACKs to a listener whose SYN cookie was invalid or expired")       \
    X(TcpExtTCPReqQFullDoCookies, "SYNs answered with a cookie because the SYN queue was full")   \
    X(TcpExtTCPReqQFullDrop, "SYNs dropped because the SYN queue was full and cookies are off")   \
    X(TcpExtTCPTimeouts, "retransmission timer expiries")                                        \
    X(TcpExtTCPSynRetrans, "SYN and SYN,ACK retransmissions")                                    \
    X(TcpExtTCPAbortOnData, "RSTs sent: SO_LINGER {1,0} abort, or data after close()")                               \
    X(TcpExtTCPAbortOnClose, "RSTs sent: close() with unread data")                           \
    X(TcpExtTCPAbortOnLinger, "connections aborted when a linger time ran out")                                \
    X(TcpExtTCPAbortOnTimeout, "connections dropped: retransmissions exhausted")                 \
    X(TcpExtTCPAbortFailed, "RSTs that could not be sent")                                       \
    X(TcpExtTW, "connections finished TIME_WAIT by the 2MSL timer")                              \
    X(TcpExtTWRecycled, "TIME_WAIT 4-tuples taken over by a new SYN")                            \
    X(TcpExtTCPTimeWaitOverflow, "TIME_WAIT entries not kept: table full")                       \
    X(TcpExtTCPFinWait2Timeout, "orphaned FIN_WAIT_2 connections closed by their timer")          \
    X(TcpExtTCPRcvTimeWaitFin, "segments re-ACKed in TIME_WAIT, 2MSL restarted (glasstcp)")      \
    X(TcpExtTCPTimeWaitRst, "RSTs ignored in TIME_WAIT, RFC 1337 (glasstcp)")                              \
    X(TcpExtTCPChallengeACK, "challenge ACKs sent (RFC 5961)")                                   \
    X(TcpExtTCPSYNChallenge, "SYNs in a synchronized state answered by a challenge ACK")         \
    X(TcpExtTCPChallengeACKLimited, "challenge ACKs not sent: rate limit (glasstcp)")            \
    X(TcpExtTCPACKSkippedSeq, "ACKs for out-of-window segments")                                 \
    X(TcpExtTCPToZeroWindowAdv, "window advertised went from non-zero to zero")                  \
    X(TcpExtTCPFromZeroWindowAdv, "window advertised went from zero to non-zero")                \
    X(TcpExtTCPWantZeroWindowAdv, "window would have been zero")                                 \
    X(TcpExtTCPOFOQueue, "segments queued out of order")                                         \
    X(TcpExtTCPFastRetrans, "fast retransmits (entering fast recovery)")                          \
    X(TcpExtTCPSackRecovery, "fast recoveries driven by SACK (RFC 6675)")                         \
    X(TcpExtTCPRenoRecovery, "fast recoveries without SACK (NewReno, RFC 6582)")                  \
    X(TcpExtTCPLossProbes, "tail loss probes sent (RFC 8985)")                                   \
    X(TcpExtTCPSpuriousRTOs, "retransmission timeouts found spurious")                           \
    X(TcpExtTCPSACKReorder, "reordering seen: a never-retransmitted segment delivered late")      \
    X(TcpExtTCPTSReorder, "reordering seen: a retransmitted hole filled by the original (TS)")    \
    X(TcpExtTCPDSACKRecv, "D-SACK blocks received (RFC 2883)")                                   \
    X(TcpExtTCPDSACKOldSent, "D-SACK blocks sent for duplicate data (RFC 2883)")                 \
    X(TcpExtDelayedACKs, "delayed-ACK timers armed")                                             \
    X(TcpExtPAWSEstab, "segments dropped by PAWS (RFC 7323)")                                    \
    X(TcpExtTCPKeepAlive, "keepalive probes sent")                                               \
    X(TcpExtTCPWinProbe, "zero-window probes sent")                                              \
    X(TcpExtTCPOFODrop, "out-of-order segments dropped: queue full")                             \
    X(TcpExtIllegalArcs, "state changes not in the legal-arc table (glasstcp; must stay 0)")      \
    X(GlassBufReclaimed, "idle connections whose empty buffers were given back (glasstcp)")

/** A MIB counter: GLASS_MIB_IpInReceives ... GLASS_MIB_TcpExtIllegalArcs, one per row of
 *  GLASS_MIBS in that order, then GLASS_MIB_COUNT. Read with glass_stack_mib(). */
enum glass_mib {
#define GLASS_X_MIB(n, d) GLASS_MIB_##n,
    GLASS_MIBS(GLASS_X_MIB)
#undef GLASS_X_MIB
        GLASS_MIB_COUNT
};

/** Drop reasons as an X-macro: X(NAME, "description"): why a received packet was dropped.
 *  Names are Linux's SKB_DROP_REASON_* without the prefix. */
#define GLASS_DROP_REASONS(X)                                                                    \
    X(NONE, "not dropped")                                                                       \
    X(PKT_TOO_SMALL, "shorter than the header it claims to carry")                               \
    X(IP_INHDR, "bad IPv4 header: version, IHL, total length, or source address")                \
    X(IP_CSUM, "bad IPv4 header checksum")                                                       \
    X(IP_FRAG, "IPv4 fragment (reassembly not supported by this build)")                         \
    X(OTHERHOST, "destination is not one of our addresses")                                      \
    X(IP_NOPROTO, "unknown IP protocol")                                                         \
    X(TCP_CSUM, "bad TCP checksum")                                                              \
    X(TCP_HDR, "bad TCP header: data offset or options")                                         \
    X(TCP_FLAGS, "nonsense TCP flag combination (SYN+FIN, SYN+RST, none)")                       \
    X(TCP_PORT0, "TCP port 0")                                                                   \
    X(NO_SOCKET, "no socket for this segment")                                                   \
    X(TCP_INVALID_SEQUENCE, "sequence number outside the receive window")                        \
    X(TCP_RESET, "segment dropped after an RST")                                                 \
    X(TCP_RST_NOT_ACCEPTABLE, "RST not acceptable")                                              \
    X(TCP_INVALID_SYN, "SYN in a synchronized state")                                            \
    X(TCP_FLAGS_NO_ACK, "segment without ACK in a synchronized state")                           \
    X(TCP_ACK_UNSENT_DATA, "ACK of data not yet sent")                                           \
    X(TCP_OLD_ACK, "ACK older than SND.UNA - MAX.SND.WND")                                       \
    X(TCP_BAD_SYNACK, "unacceptable ACK in SYN_SENT")                                            \
    X(TCP_ZEROWINDOW, "data received while our window is zero")                                  \
    X(TCP_LISTEN_OVERFLOW, "listener's queue full")                                              \
    X(TCP_CLOSE, "data or segment after the connection stopped receiving")                       \
    X(TCP_OFO_DROP, "out-of-order queue full")                                                   \
    X(TCP_TIMEWAIT, "segment ignored in TIME_WAIT")                                              \
    X(TCP_RFC7323_PAWS, "timestamp older than TS.Recent (PAWS, RFC 7323)")                       \
    X(NOMEM, "out of memory")                                                                    \
    X(ICMP, "ICMP message not handled")

/** A drop reason: GLASS_DROP_NONE (0, not dropped), GLASS_DROP_PKT_TOO_SMALL ... GLASS_DROP_ICMP,
 *  one per row of GLASS_DROP_REASONS, then GLASS_DROP_COUNT. Returned by glass_stack_input(),
 *  counted by glass_stack_drops(). */
enum glass_drop_reason {
#define GLASS_X_DROP(n, d) GLASS_DROP_##n,
    GLASS_DROP_REASONS(GLASS_X_DROP)
#undef GLASS_X_DROP
        GLASS_DROP_COUNT
};

/** nstat name of a counter, e.g. "TcpActiveOpens"; NULL if out of range. */
GLASS_API const char *glass_mib_name(int mib);
/** One-line description of a counter; NULL if out of range. */
GLASS_API const char *glass_mib_text(int mib);
/** Drop reason name, e.g. "TCP_INVALID_SEQUENCE"; NULL if out of range. */
GLASS_API const char *glass_drop_name(int reason);
/** One-line description of a drop reason; NULL if out of range. */
GLASS_API const char *glass_drop_text(int reason);

#ifdef __cplusplus
}
#endif
#endif
