/* glasstcp — wire formats: bytes <-> validated representations (private to the library).
 *
 * Every parser takes (buf, len) where len is the number of bytes that are really there, checks
 * each header against that length before reading a field that depends on it, and returns
 * GLASS_DROP_NONE or the enum glass_drop_reason it refuses the bytes for. Representations hold
 * host-order values and pointers into the caller's buffer; nothing is copied or swapped in
 * place (smoltcp wire, RFC 9293 §3.1, robustness/README.md §6.1). */
#ifndef GLASS_WIRE_PRIV_H
#define GLASS_WIRE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glass/stats.h>

/* Big-endian load/store helpers: the only way wire code touches multi-byte fields. */
static inline uint16_t glass_get16(const uint8_t *p)
{
    return (uint16_t)(((unsigned)p[0] << 8) | p[1]);
}

static inline uint32_t glass_get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void glass_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void glass_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---- Internet checksum (RFC 1071) ---------------------------------------------------- */

/* Add len bytes at p to a running 32-bit one's-complement sum (odd lengths padded with a zero
 * byte, as if the data were followed by 0). Chaining calls is only exact if every call but the
 * last has an even length. */
uint32_t glass_cksum_add(uint32_t sum, const void *p, size_t len);
/* Fold a running sum to 16 bits and complement it: the value to store in a header. */
uint16_t glass_cksum_finish(uint32_t sum);
/* glass_cksum_finish(glass_cksum_add(0, p, len)) for a header of len % 4 == 0 bytes (the IPv4
 * header: 20..60), summed a 32-bit word at a time without the general loop's set-up. */
uint16_t glass_cksum_hdr(const uint8_t *p, size_t len);
/* The TCP/UDP pseudo-header (RFC 9293 §3.1) as a running sum. */
uint32_t glass_cksum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len);

/* ---- IPv4 (RFC 791) ------------------------------------------------------------------ */

#define GLASS_IPV4_HDR_MIN 20u
#define GLASS_IPV4_PROTO_ICMP 1u
#define GLASS_IPV4_PROTO_TCP 6u
#define GLASS_IPV4_DF 0x4000u
#define GLASS_IPV4_MF 0x2000u
#define GLASS_IPV4_OFFMASK 0x1fffu

struct glass_ipv4_repr {
    uint32_t src, dst;    /* host order */
    uint8_t proto;
    uint8_t ttl;
    uint8_t tos;
    uint16_t id;
    uint16_t frag;        /* flags (DF, MF) and fragment offset, as on the wire */
    uint16_t hdr_len;     /* IHL * 4, validated: 20 <= hdr_len <= total_len */
    uint16_t total_len;   /* validated: <= the length received */
    const uint8_t *payload; /* buf + hdr_len */
    size_t payload_len;     /* total_len - hdr_len: trailing bytes beyond total_len are ignored */
};

/* Validate an IPv4 header in buf[0..len): version 4, IHL >= 5, IHL*4 <= len, total length
 * >= IHL*4 and <= len, header checksum (if verify). Options are skipped, never interpreted.
 * Returns GLASS_DROP_NONE, GLASS_DROP_PKT_TOO_SMALL, GLASS_DROP_IP_INHDR or GLASS_DROP_IP_CSUM. */
int glass_ipv4_parse(const uint8_t *buf, size_t len, bool verify, struct glass_ipv4_repr *out);

/* Write a 20-byte IPv4 header (no options) for r with total length 20 + payload_len and its
 * checksum. r->hdr_len/total_len/payload are ignored. Returns 20, or 0 if cap < 20 or the total
 * would exceed 65535. */
size_t glass_ipv4_emit(uint8_t *buf, size_t cap, const struct glass_ipv4_repr *r,
                       size_t payload_len);

/* The IPv4 header of a TCP segment we send, as glass_ipv4_emit writes it for TOS 0, TTL 64, DF
 * and protocol TCP: buf holds 20 bytes and 20 + payload_len <= 65535 (the caller's checks). No
 * repr to fill and read back, and the constant fields' sum is folded at compile time. */
void glass_ipv4_emit_tcp(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t id,
                         size_t payload_len);

/* ---- TCP (RFC 9293 §3.1, options RFC 9293 §3.2, RFC 7323, RFC 2018) --------------------- */

#define GLASS_TCP_HDR_MIN 20u
#define GLASS_TCP_HDR_MAX 60u
#define GLASS_TCP_MAX_SACK 4u

#define GLASS_TCPOPT_EOL 0u
#define GLASS_TCPOPT_NOP 1u
#define GLASS_TCPOPT_MSS 2u
#define GLASS_TCPOPT_WSCALE 3u
#define GLASS_TCPOPT_SACK_PERM 4u
#define GLASS_TCPOPT_SACK 5u
#define GLASS_TCPOPT_TS 8u

struct glass_sack_block {
    uint32_t left, right;
};

struct glass_tcp_repr {
    uint16_t src_port, dst_port;
    uint32_t seq, ack;
    uint8_t flags;          /* GLASS_TH_* */
    uint16_t win;           /* raw 16-bit field (unscaled) */
    uint16_t urg;
    uint8_t hdr_len;        /* doff * 4, validated: 20 <= hdr_len <= segment length */
    /* Options (only the well-formed ones are reported; the first of duplicates wins). */
    uint16_t mss;           /* 0 = absent */
    int16_t wscale;         /* -1 = absent; else the shift as received (0..255, not clamped) */
    bool sack_perm;
    bool has_ts;
    uint32_t ts_val, ts_ecr;
    uint8_t nsack;          /* SACK blocks present (<= GLASS_TCP_MAX_SACK) */
    struct glass_sack_block sack[GLASS_TCP_MAX_SACK];
    bool opt_malformed;     /* an option walk stopped at a bad length (RFC 9293 MUST-7) */
    bool csum_partial;      /* emit: leave the checksum to the device (the field holds the
                               pseudo-header sum, as Linux's CHECKSUM_PARTIAL) */
    bool payload_ref;       /* emit: the payload stays at r->payload (scatter-gather output):
                               only the header is written, the checksum still covers the data */
    const uint8_t *payload; /* points into the parsed buffer */
    size_t payload_len;
};

/* Validate a TCP segment seg[0..len) that arrived from src to dst (host order): len >= 20,
 * 20 <= doff*4 <= len, checksum over the pseudo-header (if verify), flags not SYN+FIN or
 * SYN+RST, ports non-zero. Options are walked with the TLV rules of robustness §6.3: every
 * step advances >= 1 byte; kinds other than EOL/NOP need 2 <= length <= remaining; known kinds
 * with the wrong length are ignored; a bad length stops the walk (opt_malformed) but the
 * segment is kept, as Linux does. Returns GLASS_DROP_NONE, GLASS_DROP_PKT_TOO_SMALL,
 * GLASS_DROP_TCP_HDR, GLASS_DROP_TCP_CSUM, GLASS_DROP_TCP_FLAGS or GLASS_DROP_TCP_PORT0. */
int glass_tcp_parse(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst, bool verify,
                    struct glass_tcp_repr *out);

/* Header length (20 + options, padded to 4) that glass_tcp_emit will write for r. Options are
 * written for fields that are set: mss != 0, wscale >= 0, sack_perm, has_ts, nsack > 0; in
 * Linux's SYN order: MSS, SACK-permitted/TS (sackOK,TS val,ecr or nop,nop,TS), nop,wscale. */
size_t glass_tcp_hdr_len(const struct glass_tcp_repr *r);

/* Write header, options and payload for r into buf and compute the checksum with the
 * pseudo-header of src -> dst. If r->payload is NULL, r->payload_len bytes are expected to be
 * at buf + glass_tcp_hdr_len(r) already (the caller copied them from its ring). With
 * r->payload_ref the payload stays at r->payload and only the header goes into buf (cap need
 * only hold the header). Returns the segment length (header and payload), or 0 if it does not
 * fit in cap. r->hdr_len is ignored. */
size_t glass_tcp_emit(uint8_t *buf, size_t cap, const struct glass_tcp_repr *r, uint32_t src,
                      uint32_t dst);

/* The two halves of glass_tcp_emit, for a caller that needs the header's length before it
 * writes (tcp_out.c tx_push places the payload behind it): the length and how many SACK
 * blocks fit, then the writing with that layout. */
size_t glass_tcp_layout(const struct glass_tcp_repr *r, unsigned *nsack);
size_t glass_tcp_emit_laid(uint8_t *buf, size_t cap, const struct glass_tcp_repr *r, uint32_t src,
                           uint32_t dst, size_t hdr_len, unsigned nsack);

#endif
