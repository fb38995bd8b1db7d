/* glass CLI — writing captures (classic pcap, LINKTYPE_RAW, nanosecond timestamps) with
 * libpcap, so tcpdump, tshark, Wireshark and glass trace open them unchanged. */
#ifndef GLASS_TOOLS_PCAPW_H
#define GLASS_TOOLS_PCAPW_H

#include <stddef.h>
#include <stdint.h>

#include <glass/types.h>

struct glass_pcapw;

/* Create path; NULL with a message in err on failure. */
struct glass_pcapw *glass_pcapw_open(const char *path, char *err, size_t errcap);
/* One IPv4 datagram seen at time t (virtual or real, ns). */
void glass_pcapw_write(struct glass_pcapw *w, glass_time_t t, const uint8_t *pkt, size_t len);
/* Flush and close; 0, or -1 if writing failed. */
int glass_pcapw_close(struct glass_pcapw *w);

#endif
