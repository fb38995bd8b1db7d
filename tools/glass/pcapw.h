/* glass CLI — writing captures: classic pcap with libpcap (LINKTYPE_RAW, nanosecond
 * timestamps), or pcapng (a small writer of our own: libpcap cannot write pcapng) with a
 * comment on every packet, so tcpdump, tshark, Wireshark and glass trace open them unchanged.
 *
 * pcapng (draft-ietf-opsawg-pcapng): one Section Header Block (byte-order magic in host order,
 * shb_userappl "glass"), one Interface Description Block (LINKTYPE_RAW, if_tsresol 9 =
 * nanoseconds), then one Enhanced Packet Block per packet with an opt_comment. */
#ifndef GLASS_TOOLS_PCAPW_H
#define GLASS_TOOLS_PCAPW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glass/types.h>

struct glass_pcapw;

/* Create path (pcapng when ng); NULL with a message in err on failure. */
struct glass_pcapw *glass_pcapw_open(const char *path, char *err, size_t errcap);
struct glass_pcapw *glass_pcapw_open_ng(const char *path, char *err, size_t errcap);
/* Open the captures a command was asked for (--pcap and/or --pcapng; NULL paths are skipped,
 * their writers NULL): 0, or -1 after a line "glass WHO: ..." on stderr (nothing left open). */
int glass_pcapw_open_both(const char *who, const char *pcap, const char *pcapng,
                          struct glass_pcapw **w, struct glass_pcapw **wng);
/* One IPv4 datagram seen at time t (virtual or real, ns); comment only in pcapng (NULL: none). */
void glass_pcapw_write(struct glass_pcapw *w, glass_time_t t, const uint8_t *pkt, size_t len);
void glass_pcapw_write_c(struct glass_pcapw *w, glass_time_t t, const uint8_t *pkt, size_t len,
                         const char *comment);
/* Hold a copy of a packet whose comment is only known later (the states after it was
 * processed), writing the one held before it without a comment; glass_pcapw_commit() writes
 * the held packet with its comment. */
void glass_pcapw_hold(struct glass_pcapw *w, glass_time_t t, const uint8_t *pkt, size_t len);
void glass_pcapw_commit(struct glass_pcapw *w, const char *comment);
bool glass_pcapw_holding(const struct glass_pcapw *w);
/* The time of the held packet (meaningful while holding). A caller commits before a state
 * change later than that, so the comment shows the states the packet left behind. */
glass_time_t glass_pcapw_held_at(const struct glass_pcapw *w);
/* The latest time written or held so far (0 if none): where a following run can start. */
glass_time_t glass_pcapw_last(const struct glass_pcapw *w);

struct glass_stack;
/* The comment for a packet our stack st sent (inbound false) or received: "glass STATE", the
 * state of the connection it belongs to now, "glass LISTEN" for a listener with no connection
 * for it yet, "glass CLOSED" when there is none. */
void glass_pcapw_stack_comment(const struct glass_stack *st, const uint8_t *pkt, size_t len,
                               bool inbound, char *buf, size_t cap);
/* Write a packet of st's with that comment to both writers (either may be NULL). */
void glass_pcapw_stack_packet(struct glass_pcapw *pcap, struct glass_pcapw *pcapng,
                              const struct glass_stack *st, glass_time_t t, const uint8_t *pkt,
                              size_t len, bool inbound);

/* Flush and close (a held packet is written without a comment); 0, or -1 if writing failed.
 * NULL is fine. */
int glass_pcapw_close(struct glass_pcapw *w);

#endif
