/* glass bench — glasstcp against lwIP and Linux on the same workloads, in one run.
 *
 *   glass bench [--quick] [--json | --json=FILE] [--runs N] [--large-mss N] [WORKLOAD...]
 *
 * Workloads: bulk (1 GiB one way at MSS 1460, at a large MSS and at 65495), rr (1-byte request/response),
 * crr (connect, request, response, close, repeated), conns (memory per idle connection at 10k,
 * 100k and 1M connections, at 10k after one byte each way and some quiet, and per TIME_WAIT
 * entry). Every figure is the median of --runs runs
 * made in this invocation, with min..max. The ratio column is glasstcp / the best other figure
 * (for rates higher is better; for latency and bytes lower is better, so a ratio below 1 is
 * glasstcp ahead there). docs/performance.md explains each figure and the fairness rules. */
#define _GNU_SOURCE

#include "bench.h"
#include "cmds.h"
#include "out.h"

#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef GLASS_BUILD_TYPE
#define GLASS_BUILD_TYPE "unknown"
#endif

#define MAX_RUNS 15
#define LARGE_MSS_DEFAULT 16384u
#define LARGE_BUF (1u << 20)  /* buffers for the large-MSS bulk row: 1 MiB */
#define MAX_MSS 65495u        /* the third bulk row: interface MTU 65535, the IPv4 maximum */
#define BULK_BUF 65535u       /* lwIP's TCP_SND_BUF and TCP_WND (Debian build), used by all */
#define SCALE_THREADS 2u      /* the threads rows: 1 -> this many (docs/sharding.md) */

/* ---- shared helpers (bench.h) -------------------------------------------------------------- */

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint8_t pattern[2u * BENCH_PAT_LEN];

const uint8_t *bench_pattern(void)
{
    static bool made;
    if (!made) {
        uint64_t x = UINT64_C(0x9e3779b97f4a7c15);
        for (size_t i = 0; i < BENCH_PAT_LEN; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            pattern[i] = (uint8_t)(x >> 24);
        }
        memcpy(pattern + BENCH_PAT_LEN, pattern, BENCH_PAT_LEN);
        made = true;
    }
    return pattern;
}

bool bench_check(const uint8_t *p, size_t n, uint64_t off)
{
    return memcmp(p, bench_pattern() + off % BENCH_PAT_LEN, n) == 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Mean and 99th percentile (microseconds) of n latency samples in ns (sorts them). */
static void bench_latency(uint64_t *ns, size_t n, double *mean_us, double *p99_us)
{
    *mean_us = *p99_us = 0;
    if (n == 0)
        return;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)ns[i];
    qsort(ns, n, sizeof *ns, cmp_u64);
    *mean_us = sum / (double)n / 1e3;
    *p99_us = (double)ns[(n * 99u) / 100u] / 1e3;
}

bool bench_rr_loop(double secs, bench_round_fn round, void *ctx, struct bench_out *o)
{
    uint64_t *lat = malloc(sizeof *lat * BENCH_LAT_MAX);
    if (lat == NULL) {
        o->status = BENCH_FAILED;
        bench_note(o, "out of memory");
        return false;
    }
    uint64_t n = 0, start = bench_now_ns(), end = start + (uint64_t)(secs * 1e9), t = start;
    bool ok = true;
    while (ok && t < end) {
        ok = round(ctx, o);
        uint64_t t2 = bench_now_ns();
        if (n < BENCH_LAT_MAX)
            lat[n] = t2 - t;
        n++;
        t = t2;
    }
    if (ok) {
        o->v[0] = (double)n / ((double)(t - start) / 1e9);
        bench_latency(lat, n < BENCH_LAT_MAX ? n : BENCH_LAT_MAX, &o->v[1], &o->v[2]);
        o->count = n;
    }
    free(lat);
    return ok;
}

void bench_quiet(void (*pump)(void *ctx), void *ctx)
{
    uint64_t end = bench_now_ns() + BENCH_QUIET_NS;
    while (bench_now_ns() < end) {
        if (pump != NULL)
            pump(ctx);
        struct timespec ms = {.tv_sec = 0, .tv_nsec = 1000000};
        nanosleep(&ms, NULL);
    }
}

/* ---- parallel runs (the threads rows) ----------------------------------------------------- */

struct par {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool go, abort; /* under mu: start (or give up) together */
};

struct par_part {
    struct par *par;
    bench_part_fn fn;
    void *ctx;
    unsigned i;
    struct bench_out out;
};

static void *par_main(void *arg)
{
    struct par_part *t = arg;
    pthread_mutex_lock(&t->par->mu);
    while (!t->par->go)
        pthread_cond_wait(&t->par->cv, &t->par->mu);
    bool abort_it = t->par->abort;
    pthread_mutex_unlock(&t->par->mu);
    if (!abort_it)
        t->fn(t->ctx, t->i, &t->out);
    return NULL;
}

/* The parts' figures added up (bench.h). */
static bool par_sum(const struct par_part *t, unsigned n, const char *unit, double scale,
                    struct bench_out *o)
{
    size_t len = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct bench_out *p = &t[i].out;
        if (p->status != BENCH_OK) {
            o->status = p->status;
            bench_note(o, "thread %u of %u: %s", i + 1, n, p->note);
            return false;
        }
        o->work += p->work;
        o->count += p->count;
        o->stopped = o->stopped || p->stopped;
        o->t0 = i == 0 || p->t0 < o->t0 ? p->t0 : o->t0;
        o->t1 = p->t1 > o->t1 ? p->t1 : o->t1;
        double secs = (double)(p->t1 - p->t0) / 1e9;
        double rate = secs > 0 ? (double)p->work / secs / scale : 0.0;
        int w = snprintf(o->note + len, sizeof o->note - len, rate >= 100 ? "%s%.0f" : "%s%.3g",
                         i == 0 ? "per thread " : " + ", rate);
        if (w > 0 && (size_t)w < sizeof o->note - len)
            len += (size_t)w;
    }
    snprintf(o->note + len, sizeof o->note - len, " %s", unit);
    return true;
}

bool bench_parallel(unsigned n, bench_part_fn part, void *ctx, const char *unit, double scale,
                    struct bench_out *o)
{
    static struct par_part t[BENCH_THREADS_MAX];
    pthread_t th[BENCH_THREADS_MAX];
    struct par par = {.go = false, .abort = false};
    if (n == 0 || n > BENCH_THREADS_MAX) {
        o->status = BENCH_FAILED;
        bench_note(o, "%u threads: 1 to %u", n, BENCH_THREADS_MAX);
        return false;
    }
    bench_pattern(); /* made here, once, before the threads read it */
    pthread_mutex_init(&par.mu, NULL);
    pthread_cond_init(&par.cv, NULL);
    unsigned started = 0;
    for (unsigned i = 0; i < n; i++) {
        memset(&t[i], 0, sizeof t[i]);
        t[i] = (struct par_part){.par = &par, .fn = part, .ctx = ctx, .i = i};
        if (pthread_create(&th[i], NULL, par_main, &t[i]) != 0)
            break;
        started++;
    }
    pthread_mutex_lock(&par.mu);
    par.go = true;
    par.abort = started < n;
    pthread_cond_broadcast(&par.cv);
    pthread_mutex_unlock(&par.mu);
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_cond_destroy(&par.cv);
    pthread_mutex_destroy(&par.mu);
    if (started < n) {
        o->status = BENCH_FAILED;
        bench_note(o, "pthread_create failed for thread %u", started + 1);
        return false;
    }
    return par_sum(t, n, unit, scale, o);
}

void bench_note(struct bench_out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->note, sizeof o->note, fmt, ap);
    va_end(ap);
}

#ifndef GLASS_HAVE_LWIP
/* Built without liblwip-dev's headers: the lwIP column says so. */
bool bench_lwip_available(char *why, size_t cap)
{
    snprintf(why, cap, "lwIP harness not built: liblwip-dev headers were not found when CMake "
                       "ran (scripts/deps.sh installs them)");
    return false;
}
void bench_lwip_describe(char *buf, size_t cap)
{
    snprintf(buf, cap, "lwIP: not built");
}
#define LWIP_FN(f) NULL
#else
#define LWIP_FN(f) f
#endif

/* ---- rows and columns ---------------------------------------------------------------------- */

enum impl { I_GLASS, I_LWIP, I_LINUX, I_LINUX1, I_COUNT };
static const char *const impl_key[I_COUNT] = {"glasstcp", "lwip", "linux", "linux_1cpu"};
static const char *const impl_title[I_COUNT] = {"glasstcp", "lwIP", "Linux", "Linux 1 CPU"};

enum wl { W_BULK, W_RR, W_CRR, W_CONNS, W_COUNT };
static const char *const wl_name[W_COUNT] = {"bulk", "rr", "crr", "conns"};

enum kind { K_BULK, K_RR, K_CRR, K_CONNS, K_CONNS_DATA, K_TW, K_BULK_MT, K_CRR_MT };

struct row {
    const char *key;  /* stable name for --json and tests */
    enum wl wl;
    enum kind kind;
    int vi;           /* which bench_out.v[] this row shows */
    const char *unit;
    bool lower_better;
    uint64_t param;   /* MSS (bulk), connection count (conns, tw) or TIME_WAIT bound (crr) */
    int base;         /* the threads rows: the 1-thread row they scale from; -1 for others */
    char label[48];
    int runs;
    struct bench_out out[I_COUNT][MAX_RUNS];
    bool measured[I_COUNT];
    /* the threads rows: run k over a 1-thread run made just before it (0: none), so that the
     * scaling does not follow the load of a shared machine from one row to the next */
    double scale[I_COUNT][MAX_RUNS];
};

#define MAX_ROWS 20

struct bench_opts {
    bool quick, json;
    const char *json_file;
    int runs;
    unsigned large_mss;
    bool want[W_COUNT];
    bool skip[I_COUNT]; /* --impls: implementations left out */
};

static int add_row(struct row *rows, int n, const char *key, enum wl wl, enum kind kind, int vi,
                   const char *unit, bool lower, uint64_t param, const char *label)
{
    struct row *r = &rows[n];
    memset(r, 0, sizeof *r);
    r->key = key;
    r->wl = wl;
    r->kind = kind;
    r->vi = vi;
    r->unit = unit;
    r->lower_better = lower;
    r->param = param;
    r->base = -1;
    snprintf(r->label, sizeof r->label, "%s", label);
    return n + 1;
}

static int make_rows(const struct bench_opts *o, struct row *rows)
{
    int n = 0;
    char l[48];
    if (o->want[W_BULK]) {
        int bulk_row = n;
        n = add_row(rows, n, "bulk", W_BULK, K_BULK, 0, "GB/s", false, 1460, "bulk MSS 1460");
        snprintf(l, sizeof l, "bulk MSS %u", o->large_mss);
        n = add_row(rows, n, "bulk_large", W_BULK, K_BULK, 0, "GB/s", false, o->large_mss, l);
        if (o->large_mss != MAX_MSS) {
            snprintf(l, sizeof l, "bulk MSS %u", MAX_MSS);
            n = add_row(rows, n, "bulk_max", W_BULK, K_BULK, 0, "GB/s", false, MAX_MSS, l);
        }
        snprintf(l, sizeof l, "bulk MSS 1460 %u threads", SCALE_THREADS);
        n = add_row(rows, n, "bulk_threads", W_BULK, K_BULK_MT, 0, "GB/s", false, 1460, l);
        rows[n - 1].base = bulk_row;
    }
    if (o->want[W_RR]) {
        n = add_row(rows, n, "rr", W_RR, K_RR, 0, "tx/s", false, 0, "rr transactions");
        n = add_row(rows, n, "rr_mean", W_RR, K_RR, 1, "us", true, 0, "rr mean latency");
        n = add_row(rows, n, "rr_p99", W_RR, K_RR, 2, "us", true, 0, "rr p99 latency");
    }
    if (o->want[W_CRR]) {
        n = add_row(rows, n, "crr", W_CRR, K_CRR, 0, "conn/s", false, 0, "crr connections");
        snprintf(l, sizeof l, "crr %u threads", SCALE_THREADS);
        n = add_row(rows, n, "crr_threads", W_CRR, K_CRR_MT, 0, "conn/s", false, 0, l);
        rows[n - 1].base = n - 2;
        /* The steady state of a TIME_WAIT pile-up held bounded: the closing side's table
         * fills within the run, and every connection after that closes without an entry. */
        snprintf(l, sizeof l, "crr TIME_WAIT <= %u", BENCH_TW_BOUND);
        n = add_row(rows, n, "crr_tw_bounded", W_CRR, K_CRR, 0, "conn/s", false, BENCH_TW_BOUND,
                    l);
        /* Issue 9's target row: the same bound on all the clients together, on two cores. */
        snprintf(l, sizeof l, "crr %u threads TW <= %u", SCALE_THREADS, BENCH_TW_BOUND);
        n = add_row(rows, n, "crr_threads_tw_bounded", W_CRR, K_CRR_MT, 0, "conn/s", false,
                    BENCH_TW_BOUND, l);
        rows[n - 1].base = n - 2;
    }
    if (o->want[W_CONNS]) {
        static const uint32_t full[3] = {10000, 100000, 1000000}, quick[3] = {1000, 2000, 4000};
        const uint32_t *ns = o->quick ? quick : full;
        for (int i = 0; i < 3; i++) {
            snprintf(l, sizeof l, "conns %u idle", ns[i]);
            n = add_row(rows, n, "conns", W_CONNS, K_CONNS, 0, "B/conn", true, ns[i], l);
        }
        uint32_t tw = o->quick ? 1000 : 10000;
        snprintf(l, sizeof l, "conns %u after data", tw);
        n = add_row(rows, n, "conns_data", W_CONNS, K_CONNS_DATA, 0, "B/conn", true, tw, l);
        snprintf(l, sizeof l, "TIME_WAIT x %u", tw);
        n = add_row(rows, n, "time_wait", W_CONNS, K_TW, 0, "B/entry", true, tw, l);
    }
    return n;
}

/* ---- running ------------------------------------------------------------------------------- */

typedef void (*bulk_fn)(const struct bench_bulk *, struct bench_out *);
typedef void (*param_fn)(const struct bench_params *, struct bench_out *);
typedef void (*bulk_mt_fn)(const struct bench_bulk *, unsigned, struct bench_out *);
typedef void (*param_mt_fn)(const struct bench_params *, unsigned, struct bench_out *);

struct impl_fns {
    bulk_fn bulk;
    param_fn rr, crr, conns, tw;
    bulk_mt_fn bulk_mt;
    param_mt_fn crr_mt;
};

/* lwIP keeps its stack in global variables (one set per loaded copy of the library, and the
 * harness loads two: client and server); two pairs on two threads would share them. */
static void lwip_no_threads(struct bench_out *o)
{
    o->status = BENCH_NA;
    bench_note(o, "lwIP's stack state is global (per loaded copy of the library; the harness "
                  "loads one per stack) and not thread-safe: no second pair on a second thread");
}

static void lwip_bulk_mt(const struct bench_bulk *b, unsigned n, struct bench_out *o)
{
    (void)b;
    (void)n;
    lwip_no_threads(o);
}

static void lwip_crr_mt(const struct bench_params *p, unsigned n, struct bench_out *o)
{
    (void)p;
    (void)n;
    lwip_no_threads(o);
}

static const struct impl_fns fns[I_COUNT] = {
    {bench_glass_bulk, bench_glass_rr, bench_glass_crr, bench_glass_conns, bench_glass_tw,
     bench_glass_bulk_mt, bench_glass_crr_mt},
    {LWIP_FN(bench_lwip_bulk), LWIP_FN(bench_lwip_rr), LWIP_FN(bench_lwip_crr),
     LWIP_FN(bench_lwip_conns), LWIP_FN(bench_lwip_tw), lwip_bulk_mt, lwip_crr_mt},
    {bench_linux_bulk, bench_linux_rr, bench_linux_crr, bench_linux_conns, bench_linux_tw,
     bench_linux_bulk_mt, bench_linux_crr_mt},
    {bench_linux_bulk, NULL, NULL, NULL, NULL, NULL, NULL},
};

static void run_one(const struct bench_opts *o, struct row *r, enum impl im, struct bench_out *out)
{
    memset(out, 0, sizeof *out);
    const struct impl_fns *f = &fns[im];
    struct bench_params p = {.secs = o->quick ? 0.1 : 1.0, .conns = (uint32_t)r->param,
                             .data = r->kind == K_CONNS_DATA, .mss = 1460, .buf = BULK_BUF,
                             .tw_max = r->kind == K_CRR || r->kind == K_CRR_MT
                                           ? (uint32_t)r->param
                                           : 0};
    struct bench_bulk b = {.bytes = o->quick ? (32u << 20) : (1u << 30),
                           .mss = (unsigned)r->param,
                           .buf = r->param == 1460 ? BULK_BUF : LARGE_BUF,
                           .pinned = im == I_LINUX1};
    switch (r->kind) {
    case K_BULK: f->bulk(&b, out); break;
    case K_BULK_MT: f->bulk_mt(&b, SCALE_THREADS, out); break;
    case K_RR: f->rr(&p, out); break;
    case K_CRR: f->crr(&p, out); break;
    case K_CRR_MT: f->crr_mt(&p, SCALE_THREADS, out); break;
    case K_CONNS:
    case K_CONNS_DATA: f->conns(&p, out); break;
    case K_TW: f->tw(&p, out); break;
    }
}

static bool impl_has(enum impl im, enum kind k)
{
    const struct impl_fns *f = &fns[im];
    switch (k) {
    case K_BULK: return f->bulk != NULL;
    case K_RR: return f->rr != NULL;
    case K_CRR: return f->crr != NULL;
    case K_CONNS:
    case K_CONNS_DATA: return f->conns != NULL;
    case K_TW: return f->tw != NULL;
    case K_BULK_MT: return f->bulk_mt != NULL;
    case K_CRR_MT: return f->crr_mt != NULL;
    }
    return false;
}

static int runs_for(const struct bench_opts *o, const struct row *r)
{
    if (r->kind == K_CONNS && r->param >= 1000000u)
        return 1; /* a million connections take seconds and gigabytes: one run */
    if ((r->kind == K_CONNS || r->kind == K_TW) && r->param >= 100000u)
        return o->runs < 2 ? o->runs : 2;
    return o->runs;
}

/* A threads row's run (into out, as any run's figures), right after a run of its 1-thread
 * row: their ratio, or 0 if either did not give a figure. */
static double paired_scale(const struct bench_opts *o, struct row *rows, struct row *r,
                           enum impl im, struct bench_out *out)
{
    struct bench_out one;
    if (im == I_LWIP) { /* n/a on threads (its state is global): nothing to pair with */
        run_one(o, r, im, out);
        return 0;
    }
    run_one(o, &rows[r->base], im, &one);
    run_one(o, r, im, out);
    if (one.status != BENCH_OK || out->status != BENCH_OK || one.v[0] <= 0)
        return 0;
    return out->v[0] / one.v[0];
}

static void run_rows(const struct bench_opts *o, struct row *rows, int n, bool have_lwip,
                     const char *lwip_why)
{
    for (int i = 0; i < n; i++) {
        struct row *r = &rows[i];
        /* rr's three rows come from the same runs. */
        if (r->kind == K_RR && r->vi != 0) {
            struct row *src = r - r->vi;
            r->runs = src->runs;
            memcpy(r->out, src->out, sizeof r->out);
            memcpy(r->measured, src->measured, sizeof r->measured);
            continue;
        }
        r->runs = runs_for(o, r);
        /* Interleave the implementations run by run, so that a burst of load from elsewhere
         * on the machine hits them alike. */
        for (int k = 0; k < r->runs; k++) {
            for (int im = 0; im < I_COUNT; im++) {
                if (!impl_has((enum impl)im, r->kind) || o->skip[im])
                    continue;
                r->measured[im] = true;
                struct bench_out *out = &r->out[im][k];
                if (im == I_LWIP && !have_lwip) {
                    memset(out, 0, sizeof *out);
                    out->status = BENCH_NA;
                    bench_note(out, "%s", lwip_why);
                    continue;
                }
                if (r->base >= 0)
                    r->scale[im][k] = paired_scale(o, rows, r, (enum impl)im, out);
                else
                    run_one(o, r, (enum impl)im, out);
                if (!o->json)
                    fprintf(stderr, "\r%-40s %-12s run %d/%d   ", r->label, impl_title[im], k + 1,
                            r->runs);
            }
        }
    }
    if (!o->json)
        fprintf(stderr, "\r%-72s\r", "");
}

/* ---- figures ------------------------------------------------------------------------------- */

struct cell {
    enum bench_status status;
    double median, min, max;
    int n;
    const char *note;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static struct cell cell_of(const struct row *r, int im)
{
    struct cell c = {.status = BENCH_NA, .note = ""};
    if (!r->measured[im])
        return c;
    double v[MAX_RUNS];
    int n = 0;
    for (int k = 0; k < r->runs; k++) {
        const struct bench_out *o = &r->out[im][k];
        c.note = o->note;
        if (o->status == BENCH_FAILED) {
            c.status = BENCH_FAILED;
            return c;
        }
        if (o->status == BENCH_OK)
            v[n++] = o->v[r->vi];
    }
    if (n == 0)
        return c;
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    c.status = BENCH_OK;
    c.n = n;
    c.min = v[0];
    c.max = v[n - 1];
    c.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    /* The note of the run nearest the median. */
    for (int k = 0; k < r->runs; k++) {
        if (r->out[im][k].status == BENCH_OK && r->out[im][k].v[r->vi] == v[n / 2])
            c.note = r->out[im][k].note;
    }
    return c;
}

/* glasstcp / the best other implementation; false if either is missing. */
static bool ratio_of(const struct row *r, double *ratio)
{
    struct cell g = cell_of(r, I_GLASS);
    if (g.status != BENCH_OK)
        return false;
    bool have = false;
    double best = 0;
    for (int im = I_LWIP; im < I_COUNT; im++) {
        struct cell c = cell_of(r, im);
        if (c.status != BENCH_OK)
            continue;
        if (!have || (r->lower_better ? c.median < best : c.median > best))
            best = c.median;
        have = true;
    }
    if (!have || best <= 0)
        return false;
    *ratio = g.median / best;
    return true;
}

/* A threads row's scaling for one implementation: the median over its runs of (threads run /
 * the 1-thread run made just before it). */
static bool scaling_of(const struct row *r, int im, double *x)
{
    if (r->base < 0 || !r->measured[im])
        return false;
    double v[MAX_RUNS];
    int n = 0;
    for (int k = 0; k < r->runs; k++)
        if (r->scale[im][k] > 0)
            v[n++] = r->scale[im][k];
    if (n == 0)
        return false;
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    *x = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    return true;
}

static void fmt_num(char *buf, size_t cap, double v)
{
    if (fabs(v) >= 100)
        snprintf(buf, cap, "%.0f", v);
    else if (fabs(v) >= 10)
        snprintf(buf, cap, "%.1f", v);
    else
        snprintf(buf, cap, "%.2f", v);
}

static void fmt_cell(char *buf, size_t cap, const struct cell *c)
{
    if (c->status == BENCH_NA) {
        snprintf(buf, cap, "n/a");
        return;
    }
    if (c->status == BENCH_FAILED) {
        snprintf(buf, cap, "FAILED");
        return;
    }
    char m[24], lo[24], hi[24];
    fmt_num(m, sizeof m, c->median);
    if (c->n == 1) {
        snprintf(buf, cap, "%s", m);
        return;
    }
    fmt_num(lo, sizeof lo, c->min);
    fmt_num(hi, sizeof hi, c->max);
    snprintf(buf, cap, "%s [%s..%s]", m, lo, hi);
}

/* ---- the machine --------------------------------------------------------------------------- */

struct machine {
    char cpu[128];
    long cores;
    char kernel[200];
    char load_start[64], load_end[64];
};

static void read_load(char *buf, size_t cap)
{
    FILE *f = fopen("/proc/loadavg", "r");
    buf[0] = '\0';
    if (f == NULL)
        return;
    double a, b, c;
    if (fscanf(f, "%lf %lf %lf", &a, &b, &c) == 3)
        snprintf(buf, cap, "%.2f %.2f %.2f", a, b, c);
    fclose(f);
}

static void read_machine(struct machine *m)
{
    snprintf(m->cpu, sizeof m->cpu, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f != NULL) {
        char line[256];
        while (fgets(line, sizeof line, f) != NULL) {
            if (strncmp(line, "model name", 10) == 0) {
                const char *p = strchr(line, ':');
                if (p != NULL) {
                    p++;
                    while (*p == ' ')
                        p++;
                    snprintf(m->cpu, sizeof m->cpu, "%s", p);
                    m->cpu[strcspn(m->cpu, "\n")] = '\0';
                }
                break;
            }
        }
        fclose(f);
    }
    m->cores = sysconf(_SC_NPROCESSORS_ONLN);
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(m->kernel, sizeof m->kernel, "%s %s %s", u.sysname, u.release, u.machine);
    read_load(m->load_start, sizeof m->load_start);
}

/* ---- output -------------------------------------------------------------------------------- */

struct configs {
    char glass[400], lwip[800], linux_[400];
};

static void print_table(FILE *f, const struct machine *m, const struct configs *cf,
                        const struct bench_opts *o, const struct row *rows, int n)
{
    fprintf(f, "machine: %s, %ld cores, %s; %s, %s build\n", m->cpu, m->cores, m->kernel,
            "gcc " __VERSION__, GLASS_BUILD_TYPE);
    fprintf(f, "load average: %s at start, %s at end (the machine may be shared)\n",
            m->load_start, m->load_end);
    fprintf(f, "runs: median of %d per figure [min..max]%s\n\n", o->runs,
            o->quick ? "; --quick: small sizes, figures not comparable" : "");
    fprintf(f, "%-24s %-8s", "workload", "unit");
    static const int width[I_COUNT] = {24, 24, 24, 24};
    for (int im = 0; im < I_COUNT; im++)
        fprintf(f, " %-*s", width[im], impl_title[im]);
    fprintf(f, " %s\n", "glasstcp/best");
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        fprintf(f, "%-24s %-8s", r->label, r->unit);
        for (int im = 0; im < I_COUNT; im++) {
            char buf[96];
            struct cell c = cell_of(r, im);
            if (!r->measured[im])
                snprintf(buf, sizeof buf, o->skip[im] ? "skipped" : "-");
            else
                fmt_cell(buf, sizeof buf, &c);
            fprintf(f, " %-*s", width[im], buf);
        }
        double ratio;
        if (ratio_of(r, &ratio))
            fprintf(f, " %.2fx\n", ratio);
        else
            fprintf(f, " n/a\n");
    }
    fprintf(f, "\nratio: glasstcp / best other; rates (GB/s, tx/s, conn/s) higher is better, "
               "latency and bytes lower is better\n");
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (r->base < 0)
            continue;
        fprintf(f, "scaling %-24s", r->label);
        for (int im = 0; im < I_COUNT; im++) {
            double x;
            if (scaling_of(r, im, &x))
                fprintf(f, " %s %.2fx", impl_title[im], x);
        }
        fprintf(f, "  (median of each run / a '%s' run just before it)\n",
                rows[r->base].label);
    }
    fprintf(f, "\nsettings:\n  %s\n  %s\n  %s\n", cf->glass, cf->lwip, cf->linux_);
    fprintf(f, "\nnotes (the median run):\n");
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (r->kind == K_RR && r->vi != 0)
            continue;
        for (int im = 0; im < I_COUNT; im++) {
            if (!r->measured[im])
                continue;
            struct cell c = cell_of(r, im);
            if (c.note[0] != '\0')
                fprintf(f, "  %-20s %-11s %s\n", r->label, impl_title[im], c.note);
        }
    }
}

static void json_num(struct out_buf *b, double v)
{
    if (isfinite(v))
        out_printf(b, "%.6g", v);
    else
        out_puts(b, "null");
}

static void print_json(FILE *f, const struct machine *m, const struct configs *cf,
                       const struct bench_opts *o, const struct row *rows, int n)
{
    struct out_buf b;
    out_init(&b);
    out_puts(&b, "{\"machine\":{\"cpu\":");
    out_json_str(&b, m->cpu);
    out_printf(&b, ",\"cores\":%ld,\"kernel\":", m->cores);
    out_json_str(&b, m->kernel);
    out_puts(&b, ",\"compiler\":");
    out_json_str(&b, "gcc " __VERSION__);
    out_puts(&b, ",\"build_type\":");
    out_json_str(&b, GLASS_BUILD_TYPE);
    out_puts(&b, ",\"load_start\":");
    out_json_str(&b, m->load_start);
    out_puts(&b, ",\"load_end\":");
    out_json_str(&b, m->load_end);
    out_printf(&b, "},\"runs\":%d,\"quick\":%s,\"settings\":{\"glasstcp\":", o->runs,
               o->quick ? "true" : "false");
    out_json_str(&b, cf->glass);
    out_puts(&b, ",\"lwip\":");
    out_json_str(&b, cf->lwip);
    out_puts(&b, ",\"linux\":");
    out_json_str(&b, cf->linux_);
    out_puts(&b, "},\"rows\":[");
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        out_puts(&b, i ? ",{\"key\":" : "{\"key\":");
        out_json_str(&b, r->key);
        out_puts(&b, ",\"workload\":");
        out_json_str(&b, wl_name[r->wl]);
        out_puts(&b, ",\"label\":");
        out_json_str(&b, r->label);
        out_puts(&b, ",\"unit\":");
        out_json_str(&b, r->unit);
        out_printf(&b, ",\"better\":\"%s\",\"param\":%llu,",
                   r->lower_better ? "lower" : "higher", (unsigned long long)r->param);
        if (r->base >= 0) {
            out_printf(&b, "\"threads\":%u,\"scales\":", SCALE_THREADS);
            out_json_str(&b, rows[r->base].key);
            out_putc(&b, ',');
        }
        out_puts(&b, "\"impls\":{");
        bool first = true;
        for (int im = 0; im < I_COUNT; im++) {
            if (!r->measured[im])
                continue;
            struct cell c = cell_of(r, im);
            out_printf(&b, "%s\"%s\":{\"status\":\"%s\"", first ? "" : ",", impl_key[im],
                       c.status == BENCH_OK ? "ok" : c.status == BENCH_NA ? "n/a" : "failed");
            first = false;
            if (c.status == BENCH_OK) {
                out_puts(&b, ",\"median\":");
                json_num(&b, c.median);
                out_puts(&b, ",\"min\":");
                json_num(&b, c.min);
                out_puts(&b, ",\"max\":");
                json_num(&b, c.max);
                out_puts(&b, ",\"runs\":[");
                bool f1 = true;
                for (int k = 0; k < r->runs; k++) {
                    const struct bench_out *ro = &r->out[im][k];
                    if (ro->status != BENCH_OK)
                        continue;
                    if (!f1)
                        out_putc(&b, ',');
                    json_num(&b, ro->v[r->vi]);
                    f1 = false;
                }
                out_putc(&b, ']');
                double x;
                if (scaling_of(r, im, &x)) {
                    out_puts(&b, ",\"scaling\":");
                    json_num(&b, x);
                    out_puts(&b, ",\"scaling_runs\":[");
                    bool f2 = true;
                    for (int k = 0; k < r->runs; k++) {
                        if (r->scale[im][k] <= 0)
                            continue;
                        if (!f2)
                            out_putc(&b, ',');
                        json_num(&b, r->scale[im][k]);
                        f2 = false;
                    }
                    out_putc(&b, ']');
                }
                if (r->kind == K_CRR || r->kind == K_CRR_MT) {
                    const struct bench_out *ro = &r->out[im][r->runs - 1];
                    out_printf(&b, ",\"time_wait\":%llu,\"stopped\":%s",
                               (unsigned long long)ro->count, ro->stopped ? "true" : "false");
                }
            }
            out_puts(&b, ",\"note\":");
            out_json_str(&b, c.note);
            out_putc(&b, '}');
        }
        out_puts(&b, "},\"ratio\":");
        double ratio;
        if (ratio_of(r, &ratio))
            json_num(&b, ratio);
        else
            out_puts(&b, "null");
        out_putc(&b, '}');
    }
    out_puts(&b, "]}\n");
    out_flush(&b, f);
    out_free(&b);
}

/* ---- options ------------------------------------------------------------------------------- */

static void bench_usage(FILE *f)
{
    fprintf(f,
            "usage: glass bench [--quick] [--json | --json=FILE] [--runs N] [--large-mss N] "
            "[WORKLOAD...]\n\n"
            "glasstcp against lwIP and Linux on the same workloads, in one run.\n\n"
            "workloads (default: all):\n"
            "  bulk    one connection, 1 GiB one way, at MSS 1460, --large-mss and 65495; GB/s;\n"
            "          and 2 connections on 2 threads at once (the sum; scaling 1 -> 2)\n"
            "  rr      1-byte request/response on one connection; transactions/s, mean/p99 us\n"
            "  crr     connect, request, response, close, repeated for 1 s; connections/s;\n"
            "          and on 2 threads at once (glasstcp: a pair of stacks per thread)\n"
            "  conns   bytes per idle connection (10k, 100k, 1M; 10k after one byte each way\n"
            "          and 1.5 s of quiet) and per TIME_WAIT entry\n\n"
            "options:\n"
            "  --quick        a smoke run: small sizes, short runs (figures not comparable)\n"
            "  --json         JSON on stdout instead of the table\n"
            "  --json=FILE    the table on stdout and the same figures as JSON in FILE\n"
            "  --runs N       runs per figure, 1..%d (default 5; --quick 3); the median is shown\n"
            "  --large-mss N  the MSS of the second bulk row (default %u)\n"
            "  --impls LIST   only these: glasstcp,lwip,linux,linux_1cpu (default all)\n",
            MAX_RUNS, LARGE_MSS_DEFAULT);
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "glass bench: %s%s%s; see 'glass bench --help'\n", what, arg[0] ? " " : "",
            arg);
    return GLASS_EXIT_USAGE;
}

static bool parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char *end;
    if (s == NULL || *s == '\0' || *s == '-')
        return false;
    unsigned long v = strtoul(s, &end, 10);
    if (*end != '\0' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* "glasstcp,lwip": every implementation not named is skipped. */
static bool parse_impls(const char *list, bool *skip)
{
    for (int im = 0; im < I_COUNT; im++)
        skip[im] = true;
    const char *p = list;
    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        int found = -1;
        for (int im = 0; im < I_COUNT; im++) {
            if (strlen(impl_key[im]) == len && strncmp(p, impl_key[im], len) == 0)
                found = im;
        }
        if (found < 0)
            return false;
        skip[found] = false;
        p += len;
        if (*p == ',')
            p++;
    }
    return true;
}

static int parse_opts(int argc, char **argv, struct bench_opts *o, bool *help)
{
    enum { OPT_JSON = 256, OPT_RUNS, OPT_LARGE, OPT_IMPLS };
    static const struct option longs[] = {
        {"quick", no_argument, NULL, 'q'},     {"json", optional_argument, NULL, OPT_JSON},
        {"runs", required_argument, NULL, OPT_RUNS},
        {"large-mss", required_argument, NULL, OPT_LARGE},
        {"impls", required_argument, NULL, OPT_IMPLS},
        {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->large_mss = LARGE_MSS_DEFAULT;
    bool runs_set = false;
    opterr = 0;
    optind = 1;
    int c;
    unsigned long v;
    while ((c = getopt_long(argc, argv, "+h", longs, NULL)) != -1) {
        switch (c) {
        case 'q': o->quick = true; break;
        case OPT_JSON:
            if (optarg == NULL)
                o->json = true;
            else if (optarg[0] == '\0')
                return usage_error("--json= needs a file name", "");
            else
                o->json_file = optarg;
            break;
        case OPT_RUNS:
            if (!parse_uint(optarg, 1, MAX_RUNS, &v))
                return usage_error("--runs wants a number from 1 to 15, not", optarg);
            o->runs = (int)v;
            runs_set = true;
            break;
        case OPT_LARGE:
            if (!parse_uint(optarg, 536, 65495, &v))
                return usage_error("--large-mss wants an MSS from 536 to 65495, not", optarg);
            o->large_mss = (unsigned)v;
            break;
        case OPT_IMPLS:
            if (!parse_impls(optarg, o->skip))
                return usage_error("--impls wants a comma-separated list of glasstcp, lwip, linux, "
                                   "linux_1cpu, not", optarg);
            break;
        case 'h': *help = true; return GLASS_EXIT_OK;
        default:
            return usage_error("unknown option or missing value:", argv[optind - 1]);
        }
    }
    if (!runs_set)
        o->runs = o->quick ? 3 : 5;
    bool any = false;
    for (int i = optind; i < argc; i++) {
        int w = -1;
        for (int k = 0; k < W_COUNT; k++) {
            if (strcmp(argv[i], wl_name[k]) == 0)
                w = k;
        }
        if (w < 0)
            return usage_error("unknown workload (not bulk, rr, crr or conns):", argv[i]);
        o->want[w] = true;
        any = true;
    }
    for (int k = 0; !any && k < W_COUNT; k++)
        o->want[k] = true;
    return GLASS_EXIT_OK;
}

int glass_cmd_bench(int argc, char **argv)
{
    struct bench_opts o;
    bool help = false;
    int rc = parse_opts(argc, argv, &o, &help);
    if (rc != GLASS_EXIT_OK)
        return rc;
    if (help) {
        bench_usage(stdout);
        return GLASS_EXIT_OK;
    }
    FILE *jf = NULL;
    if (o.json_file != NULL && (jf = fopen(o.json_file, "w")) == NULL) {
        fprintf(stderr, "glass bench: cannot write %s\n", o.json_file);
        return GLASS_EXIT_FAILED;
    }
    static struct row rows[MAX_ROWS];
    int n = make_rows(&o, rows);
    struct machine m;
    read_machine(&m);
    char lwip_why[512] = "", lx_why[256];
    bool have_lwip = bench_lwip_available(lwip_why, sizeof lwip_why);
    bench_linux_setup(lx_why, sizeof lx_why);
    struct configs cf;
    bench_glass_describe(cf.glass, sizeof cf.glass);
    if (have_lwip)
        bench_lwip_describe(cf.lwip, sizeof cf.lwip);
    else
        snprintf(cf.lwip, sizeof cf.lwip, "lwIP: n/a: %s", lwip_why);
    bench_linux_describe(cf.linux_, sizeof cf.linux_);
    if (!have_lwip && !o.json)
        fprintf(stderr, "glass bench: %s; the lwIP column shows n/a\n", lwip_why);

    run_rows(&o, rows, n, have_lwip, lwip_why);
    read_load(m.load_end, sizeof m.load_end);

    if (o.json)
        print_json(stdout, &m, &cf, &o, rows, n);
    else
        print_table(stdout, &m, &cf, &o, rows, n);
    if (jf != NULL) {
        print_json(jf, &m, &cf, &o, rows, n);
        fclose(jf);
    }
    bool failed = false;
    for (int i = 0; i < n; i++) {
        for (int im = 0; im < I_COUNT; im++)
            failed = failed || (rows[i].measured[im] && cell_of(&rows[i], im).status == BENCH_FAILED);
    }
    return failed ? GLASS_EXIT_FAILED : GLASS_EXIT_OK;
}
