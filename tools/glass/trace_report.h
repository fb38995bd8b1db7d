/* glass trace — the HTML report (--html) and output in stream order. */
#ifndef GLASS_TOOLS_TRACE_REPORT_H
#define GLASS_TOOLS_TRACE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "out.h"

#include "analyze/analyze.h"

/* ---- texts keyed by tcp.stream, written in stream order ------------------------------------ */

struct trace_slot {
    char *text;
    size_t len;
    bool used;
};

struct trace_ro {
    FILE *out;
    uint64_t next;           /* lowest stream not written yet */
    struct trace_slot *ring; /* ring[stream % cap] */
    size_t cap, waiting;
    bool oom;
};

/* Rows wait for lower-numbered connections that are still open; beyond this many waiting rows
 * the lowest are written anyway (out of order), so memory stays bounded. */
#define TRACE_RO_LIMIT 100000u

/* Take b's text (b is left empty) for stream k; write whatever is now in order. */
void trace_ro_put(struct trace_ro *r, uint64_t k, struct out_buf *b);
/* Write everything still waiting, in order, and release the ring. */
void trace_ro_finish(struct trace_ro *r);

/* ---- the HTML report ------------------------------------------------------------------------ */

/* One segment as the report draws it. */
struct trace_seg {
    glass_time_t at; /* since the first frame of the capture */
    uint64_t frame;
    uint32_t seq, ack, len; /* relative or absolute, as asked */
    uint32_t flags, notes;  /* GLASS_ANAF / GLASS_ANAN */
    uint32_t dupack_num;
    uint64_t dupack_frame;
    uint32_t win; /* scaled when the scale is known */
    uint8_t dir, tcp_flags;
    uint8_t state[2];
    uint8_t nchanges;
    struct glass_ana_change changes[GLASS_ANA_MAX_CHANGES];
};

void trace_seg_from(struct trace_seg *s, const struct glass_ana_pkt_info *pi, bool absolute,
                    glass_time_t t0);

struct trace_report;

struct trace_report *trace_report_new(const char *capture_name);
void trace_report_free(struct trace_report *rep);
/* A connection is finalised: its table row, and its ladder if segs != NULL. */
void trace_report_conn(struct trace_report *rep, const struct glass_ana_conn *c,
                       const struct trace_seg *segs, size_t nsegs, uint64_t more_segs,
                       glass_time_t t0);
/* Write the report; 0, or -1 with a reason in err. */
int trace_report_write(struct trace_report *rep, const struct glass_ana_totals *t, const char *path,
                       char *err, size_t errcap);

#endif
