/** @file
 * glasstcp — one-line decoding of IPv4/TCP packets for tools (demo, pkt, trace). */
#ifndef GLASS_WIRE_H
#define GLASS_WIRE_H

#include <glass/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What a tool needs to know of one IPv4/TCP packet. */
struct glass_pkt_summary {
    struct glass_endpoint src, /**< source address and port */
        dst;                   /**< destination address and port */
    uint8_t proto;     /**< IP protocol (6 = TCP) */
    uint8_t flags;     /**< TCP flags GLASS_TH_* */
    uint32_t seq,      /**< sequence number (absolute) */
        ack;           /**< acknowledgment number (absolute) */
    uint32_t len;      /**< TCP payload length */
    uint16_t win;      /**< raw window field */
    uint16_t mss;      /**< MSS option value, 0 if absent */
    int8_t wscale;     /**< window scale option (a SYN's), 0..14; -1 if absent */
    uint8_t ttl;       /**< IPv4 time to live */
};

/** Decode an IPv4 datagram carrying TCP. Returns 0, or -GLASS_EINVAL when it is not a
 *  well-formed IPv4/TCP packet (checksums are not verified). */
GLASS_API int glass_pkt_decode(const uint8_t *pkt, size_t len, struct glass_pkt_summary *out);
/** Flags as tcpdump prints them: "S", "S.", ".", "P.", "F.", "R", "R." ... (up to 8 letters
 *  plus the NUL: buf holds 9 bytes). */
GLASS_API const char *glass_tcp_flags_str(uint8_t flags, char buf[9]);
/** Describe a datagram on one line, tcpdump-like: "192.0.2.1:40000 > 192.0.2.2:80 S. seq 1
 *  ack 2 win 65535 len 0 <mss 1460>"; a non-TCP, fragmented or malformed datagram is described
 *  as such. Never fails. @p out may be NULL when @p cap is 0.
 *  @return the length that would have been written (snprintf-style). */
GLASS_API int glass_pkt_describe(const uint8_t *pkt, size_t len, char *out, size_t cap);
/** The device's part of TCP checksum offload: pkt[0..len) is an IPv4 datagram that a stack
 *  configured with tx_csum_offload emitted, whose TCP checksum field holds the pseudo-header
 *  sum; compute the checksum over the segment and store it. False (nothing written) if pkt is
 *  not an unfragmented-looking IPv4/TCP datagram. */
GLASS_API bool glass_tcp_csum_fill(uint8_t *pkt, size_t len);
/** The device's part of TCP segmentation offload (config tso_max): build piece @p k (0, 1, ...)
 *  of a TSO super-segment that glass_stack_output_sg() gave (glass_output.gso_size != 0) into
 *  out[0..cap): the IPv4 and TCP headers of pkt[0..len), then payload bytes
 *  [k * gso_size, (k + 1) * gso_size) (fewer in the last piece), with the IPv4 total length,
 *  identification (the super-segment's + k) and header checksum and the TCP sequence number
 *  rewritten, FIN and PSH kept on the last piece only and CWR on the first only. The TCP
 *  checksum field gets the piece's pseudo-header sum: glass_tcp_csum_fill() completes it.
 *  @p payload, @p payload_len: glass_output.payload and payload_len (@p payload NULL: the
 *  payload follows the headers in pkt, whose @p len then covers it).
 *  @return the piece's length; 0 when k is past the last piece, pkt is not IPv4/TCP with
 *          whole headers, @p gso_size is 0 or the piece does not fit @p cap. */
GLASS_API size_t glass_tso_piece(const uint8_t *pkt, size_t len, const uint8_t *payload,
                                 size_t payload_len, size_t gso_size, size_t k, uint8_t *out,
                                 size_t cap);
/** Where the TCP header starts in pkt[0..len) (the IPv4 header length, 20..60) if pkt is an
 *  IPv4 datagram carrying TCP with room for a TCP header, else 0. */
GLASS_API size_t glass_ipv4_tcp_off(const uint8_t *pkt, size_t len);
/** Software steering (docs/sharding.md), as RSS or the tun driver's multi-queue steering does
 *  it: a keyed hash of a TCP/IPv4 4-tuple that is the same in both directions of a connection
 *  (the two endpoints are ordered before hashing, like the kernel's symmetric flow hash). With
 *  a random @p key per process, a peer cannot aim all its connections at one stack. */
GLASS_API uint32_t glass_flow_hash4(uint32_t saddr, uint32_t daddr, uint16_t sport,
                                    uint16_t dport, uint64_t key);
/** glass_flow_hash4() of the IPv4 datagram pkt[0..len) carrying TCP.
 *  @return 0, with the hash in *@p hash.
 *  @retval -GLASS_EINVAL not IPv4 with a whole TCP header, or a fragment (RFC 791: only the
 *  first has the ports; every piece is left to the caller, to keep them together). */
GLASS_API int glass_flow_hash(const uint8_t *pkt, size_t len, uint64_t key, uint32_t *hash);
/** Which of @p n stacks (queues, threads) a hash picks: (hash * n) >> 32, as the tun driver
 *  picks a queue; every index in [0, n) gets an equal share of the hash space. */
GLASS_API unsigned glass_flow_pick(uint32_t hash, unsigned n);
/** Format @p addr (host byte order) as a dotted quad into @p buf (16 bytes); returns @p buf. */
GLASS_API const char *glass_ip4_str(uint32_t addr, char buf[16]);
/** Parse a dotted quad ("192.0.2.1") into *@p addr (host byte order).
 *  @return 0.
 *  @retval -GLASS_EINVAL @p s is not four decimal parts 0..255 separated by dots. */
GLASS_API int glass_ip4_parse(const char *s, uint32_t *addr);

#ifdef __cplusplus
}
#endif
#endif
