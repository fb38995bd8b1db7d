/* glass CLI — writing captures with libpcap (see pcapw.h). */
#define _GNU_SOURCE
#include "pcapw.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct glass_pcapw {
    pcap_t *dead;
    pcap_dumper_t *dump;
    unsigned long long packets;
};

struct glass_pcapw *glass_pcapw_open(const char *path, char *err, size_t errcap)
{
    struct glass_pcapw *w = calloc(1, sizeof *w);
    if (w == NULL) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    w->dead = pcap_open_dead_with_tstamp_precision(DLT_RAW, 65535, PCAP_TSTAMP_PRECISION_NANO);
    if (w->dead == NULL) {
        snprintf(err, errcap, "libpcap cannot make a capture handle");
        free(w);
        return NULL;
    }
    w->dump = pcap_dump_open(w->dead, path);
    if (w->dump == NULL) {
        snprintf(err, errcap, "cannot write %s: %s", path, pcap_geterr(w->dead));
        pcap_close(w->dead);
        free(w);
        return NULL;
    }
    return w;
}

void glass_pcapw_write(struct glass_pcapw *w, glass_time_t t, const uint8_t *pkt, size_t len)
{
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof h);
    /* With nanosecond precision libpcap stores tv_usec as nanoseconds. */
    h.ts.tv_sec = (time_t)(t / GLASS_NSEC_PER_SEC);
    h.ts.tv_usec = (suseconds_t)(t % GLASS_NSEC_PER_SEC);
    h.caplen = h.len = (bpf_u_int32)len;
    pcap_dump((u_char *)w->dump, &h, pkt);
    w->packets++;
}

int glass_pcapw_close(struct glass_pcapw *w)
{
    if (w == NULL)
        return 0;
    int rc = pcap_dump_flush(w->dump) == 0 ? 0 : -1;
    pcap_dump_close(w->dump);
    pcap_close(w->dead);
    free(w);
    return rc;
}
