/* glass CLI — writing captures: classic pcap through libpcap, pcapng by hand (see pcapw.h). */
#define _GNU_SOURCE
#include "pcapw.h"

#include <glass/info.h>
#include <glass/trace.h>

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* pcapng block types and option codes (draft-ietf-opsawg-pcapng §4, §3.5). */
#define NG_SHB 0x0A0D0D0Au
#define NG_IDB 0x00000001u
#define NG_EPB 0x00000006u
#define NG_MAGIC 0x1A2B3C4Du
#define NG_OPT_END 0
#define NG_OPT_COMMENT 1
#define NG_SHB_USERAPPL 4
#define NG_IF_TSRESOL 9
#define NG_LINKTYPE_RAW 101u
#define NG_MAX_COMMENT 4096u

struct glass_pcapw {
    pcap_t *dead;           /* classic */
    pcap_dumper_t *dump;
    FILE *ng;               /* pcapng */
    bool failed;
    unsigned long long packets;
    /* the held packet */
    uint8_t *held;
    size_t held_len, held_cap;
    glass_time_t held_t;
    bool holding;
    glass_time_t last; /* latest packet time */
};

/* ---- pcapng ---------------------------------------------------------------------------------- */

static size_t pad4(size_t n)
{
    return (n + 3u) & ~(size_t)3u;
}

static void ng_put(struct glass_pcapw *w, const void *p, size_t n)
{
    if (n != 0 && fwrite(p, 1, n, w->ng) != n)
        w->failed = true;
}

static void ng_u32(struct glass_pcapw *w, uint32_t v)
{
    ng_put(w, &v, 4);
}

static void ng_u16(struct glass_pcapw *w, uint16_t v)
{
    ng_put(w, &v, 2);
}

static void ng_zero(struct glass_pcapw *w, size_t n)
{
    static const uint8_t z[4] = {0};
    ng_put(w, z, n);
}

/* An option: code, length, value padded to 32 bits. */
static void ng_opt(struct glass_pcapw *w, uint16_t code, const void *v, size_t len)
{
    ng_u16(w, code);
    ng_u16(w, (uint16_t)len);
    ng_put(w, v, len);
    ng_zero(w, pad4(len) - len);
}

static size_t opt_size(size_t len)
{
    return 4 + pad4(len);
}

static void ng_header(struct glass_pcapw *w)
{
    static const char app[] = "glass";
    uint32_t shb_len = (uint32_t)(4 + 4 + 4 + 2 + 2 + 8 + opt_size(sizeof app - 1) + 4 + 4);
    ng_u32(w, NG_SHB);
    ng_u32(w, shb_len);
    ng_u32(w, NG_MAGIC);
    ng_u16(w, 1); /* major */
    ng_u16(w, 0); /* minor */
    uint64_t section = UINT64_MAX; /* -1: length not given */
    ng_put(w, &section, 8);
    ng_opt(w, NG_SHB_USERAPPL, app, sizeof app - 1);
    ng_opt(w, NG_OPT_END, NULL, 0);
    ng_u32(w, shb_len);

    uint8_t tsresol = 9; /* 10^-9 s */
    uint32_t idb_len = (uint32_t)(4 + 4 + 2 + 2 + 4 + opt_size(1) + 4 + 4);
    ng_u32(w, NG_IDB);
    ng_u32(w, idb_len);
    ng_u16(w, NG_LINKTYPE_RAW);
    ng_u16(w, 0);
    ng_u32(w, 0); /* snap length: no limit */
    ng_opt(w, NG_IF_TSRESOL, &tsresol, 1);
    ng_opt(w, NG_OPT_END, NULL, 0);
    ng_u32(w, idb_len);
}

static void ng_packet(struct glass_pcapw *w, glass_time_t t, const uint8_t *pkt, size_t len,
                      const char *comment)
{
    size_t clen = comment != NULL ? strnlen(comment, NG_MAX_COMMENT) : 0;
    size_t opts = (clen ? opt_size(clen) : 0) + (clen ? 4 : 0);
    uint32_t blen = (uint32_t)(4 + 4 + 4 + 4 + 4 + 4 + 4 + pad4(len) + opts + 4);
    ng_u32(w, NG_EPB);
    ng_u32(w, blen);
    ng_u32(w, 0); /* interface 0 */
    ng_u32(w, (uint32_t)(t >> 32));
    ng_u32(w, (uint32_t)t);
    ng_u32(w, (uint32_t)len);
    ng_u32(w, (uint32_t)len);
    ng_put(w, pkt, len);
    ng_zero(w, pad4(len) - len);
    if (clen) {
        ng_opt(w, NG_OPT_COMMENT, comment, clen);
        ng_opt(w, NG_OPT_END, NULL, 0);
    }
    ng_u32(w, blen);
}

/* ---- both ------------------------------------------------------------------------------------ */

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

struct glass_pcapw *glass_pcapw_open_ng(const char *path, char *err, size_t errcap)
{
    struct glass_pcapw *w = calloc(1, sizeof *w);
    if (w == NULL) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    w->ng = fopen(path, "wb");
    if (w->ng == NULL) {
        snprintf(err, errcap, "cannot write %s: %s", path, strerror(errno));
        free(w);
        return NULL;
    }
    ng_header(w);
    return w;
}

int glass_pcapw_open_both(const char *who, const char *pcap, const char *pcapng,
                          struct glass_pcapw **w, struct glass_pcapw **wng)
{
    char err[512];
    *w = *wng = NULL;
    if (pcap != NULL && (*w = glass_pcapw_open(pcap, err, sizeof err)) == NULL) {
        fprintf(stderr, "glass %s: %s\n", who, err);
        return -1;
    }
    if (pcapng != NULL && (*wng = glass_pcapw_open_ng(pcapng, err, sizeof err)) == NULL) {
        fprintf(stderr, "glass %s: %s\n", who, err);
        glass_pcapw_close(*w);
        *w = NULL;
        return -1;
    }
    return 0;
}

void glass_pcapw_write_c(struct glass_pcapw *w, glass_time_t t, const uint8_t *pkt, size_t len,
                         const char *comment)
{
    if (t > w->last)
        w->last = t;
    if (w->ng != NULL) {
        ng_packet(w, t, pkt, len, comment);
    } else {
        struct pcap_pkthdr h;
        memset(&h, 0, sizeof h);
        /* With nanosecond precision libpcap stores tv_usec as nanoseconds. */
        h.ts.tv_sec = (time_t)(t / GLASS_NSEC_PER_SEC);
        h.ts.tv_usec = (suseconds_t)(t % GLASS_NSEC_PER_SEC);
        h.caplen = h.len = (bpf_u_int32)len;
        pcap_dump((u_char *)w->dump, &h, pkt);
    }
    w->packets++;
}

void glass_pcapw_write(struct glass_pcapw *w, glass_time_t t, const uint8_t *pkt, size_t len)
{
    glass_pcapw_write_c(w, t, pkt, len, NULL);
}

void glass_pcapw_commit(struct glass_pcapw *w, const char *comment)
{
    if (w == NULL || !w->holding)
        return;
    w->holding = false;
    glass_pcapw_write_c(w, w->held_t, w->held, w->held_len, comment);
}

bool glass_pcapw_holding(const struct glass_pcapw *w)
{
    return w != NULL && w->holding;
}

glass_time_t glass_pcapw_last(const struct glass_pcapw *w)
{
    return w->held_t > w->last ? w->held_t : w->last;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void glass_pcapw_stack_comment(const struct glass_stack *st, const uint8_t *pkt, size_t len,
                               bool inbound, char *buf, size_t cap)
{
    snprintf(buf, cap, "glass CLOSED");
    size_t ihl = len > 0 ? (size_t)(pkt[0] & 15u) * 4u : 0;
    if (len < 20 || (pkt[0] >> 4) != 4 || ihl < 20 || len < ihl + 4 || pkt[9] != 6)
        return;
    uint32_t a = be32(pkt + 12), b = be32(pkt + 16);
    uint16_t pa = (uint16_t)(pkt[ihl] << 8 | pkt[ihl + 1]);
    uint16_t pb = (uint16_t)(pkt[ihl + 2] << 8 | pkt[ihl + 3]);
    struct glass_endpoint local = {inbound ? b : a, inbound ? pb : pa};
    struct glass_endpoint remote = {inbound ? a : b, inbound ? pa : pb};
    size_t n = glass_stack_conns(st, NULL, 0);
    struct glass_conn_info *ci = n ? malloc(n * sizeof *ci) : NULL;
    if (ci == NULL)
        return;
    n = glass_stack_conns(st, ci, n);
    const char *state = NULL;
    bool listener = false;
    for (size_t i = 0; i < n && state == NULL; i++) {
        if (ci[i].local.port != local.port)
            continue;
        if (ci[i].state == GLASS_TCP_LISTEN && ci[i].remote.port == 0)
            listener |= ci[i].local.addr == 0 || ci[i].local.addr == local.addr;
        else if (ci[i].local.addr == local.addr && ci[i].remote.addr == remote.addr &&
                 ci[i].remote.port == remote.port)
            state = glass_tcp_state_name(ci[i].state);
    }
    free(ci);
    if (state != NULL || listener)
        snprintf(buf, cap, "glass %s", state != NULL ? state : "LISTEN");
}

void glass_pcapw_stack_packet(struct glass_pcapw *pcap, struct glass_pcapw *pcapng,
                              const struct glass_stack *st, glass_time_t t, const uint8_t *pkt,
                              size_t len, bool inbound)
{
    if (pcap != NULL)
        glass_pcapw_write(pcap, t, pkt, len);
    if (pcapng != NULL) {
        char c[64];
        glass_pcapw_stack_comment(st, pkt, len, inbound, c, sizeof c);
        glass_pcapw_write_c(pcapng, t, pkt, len, c);
    }
}

glass_time_t glass_pcapw_held_at(const struct glass_pcapw *w)
{
    return w->held_t;
}

void glass_pcapw_hold(struct glass_pcapw *w, glass_time_t t, const uint8_t *pkt, size_t len)
{
    glass_pcapw_commit(w, NULL);
    if (len > w->held_cap) {
        uint8_t *p = realloc(w->held, len);
        if (p == NULL) { /* cannot hold it: write it as it is */
            w->failed = true;
            glass_pcapw_write(w, t, pkt, len);
            return;
        }
        w->held = p;
        w->held_cap = len;
    }
    memcpy(w->held, pkt, len);
    w->held_len = len;
    w->held_t = t;
    w->holding = true;
}

int glass_pcapw_close(struct glass_pcapw *w)
{
    if (w == NULL)
        return 0;
    glass_pcapw_commit(w, NULL);
    int rc = w->failed ? -1 : 0;
    if (w->ng != NULL) {
        if (fclose(w->ng) != 0)
            rc = -1;
    } else {
        if (pcap_dump_flush(w->dump) != 0)
            rc = -1;
        pcap_dump_close(w->dump);
        pcap_close(w->dead);
    }
    free(w->held);
    free(w);
    return rc;
}
