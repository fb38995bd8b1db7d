/* glasstcp tests — soak: many seeds of a verified bulk transfer over the impaired simnet.
 *
 * Each run is exactly what `glass sim` does with the same options: both drive the transfer
 * with tools/glass/simdrive.c (the same seeds, the same stream, the same application calls at
 * the same virtual times), so a failing run is printed with the `glass sim ... --seed S`
 * command that replays it, and test_replay_matches_cli checks that the replay gives the same
 * trace hash.
 *
 * After every simnet step (robustness/README.md §5.2):
 *   - stream integrity (1): each side's received bytes are a prefix of the peer's stream
 *     (checked by simdrive.c as they are read: no loss inside the prefix, no duplication, no
 *     corruption), and never more than the peer has handed to send();
 *   - EOF correctness (2): recv() returns 0 only after every byte, and then again 0 (simdrive.c);
 *   - the core's white-box invariants (4-8, 10): glass_stack_check() on both stacks;
 *   - bounded memory (10): each stack's allocator use stays under a bound;
 *   - no illegal arc (7): TcpExtIllegalArcs stays 0.
 * At quiescence:
 *   - eventual delivery (14): every byte arrived within a virtual-time bound;
 *   - eventual closure (15): both connections CLOSED (TIME_WAIT included) within close + 2MSL
 *     + the longest backoff; the stacks list no connection and have no timer armed;
 *   - no leaks (12): each stack's allocator use is back to what it was right after
 *     glass_stack_new(), and to zero after glass_stack_free().
 *
 * The grid: loss 0-30 %, duplication, reordering, corruption, delay spikes longer than the RTO,
 * jitter, a bottleneck with a small queue, a receiver that reads slowly or stops reading for a
 * while (zero window), both directions at once.
 *
 * Environment: GLASS_SOAK_SEEDS=N runs N seeds per grid point (default: a number that keeps the
 * whole test well under a minute), GLASS_SOAK_SEED0=S starts at seed S (default 1),
 * GLASS_SOAK_ONLY=text runs only the grid points whose name contains text, GLASS_SOAK_VERBOSE=1
 * prints per-point sums (retransmissions, RTOs, zero windows, what the link did). */
#define _POSIX_C_SOURCE 200809L /* popen */

#include "core/core.h" /* glass_stack_check */
#include "simdrive.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <glass/glass.h>

#include <errno.h>
#include <inttypes.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Seeds per grid point unless GLASS_SOAK_SEEDS says otherwise; fewer under ASan, which is
 * several times slower. */
#if defined(__SANITIZE_ADDRESS__)
#define DEFAULT_SEEDS 40
#else
#define DEFAULT_SEEDS 300
#endif

/* ---- options: those of `glass sim` (struct simdrive_opts, the same defaults) ---------------- */

/* A double printed so that strtod gives it back exactly. */
static void put_double(char *buf, size_t cap, double v)
{
    snprintf(buf, cap, "%g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, cap, "%.17g", v);
}

static void replay_cmd(const struct simdrive_opts *o, char *out, size_t cap)
{
    size_t n = 0;
    char d[40];
#define ADD(...)                                                                                   \
    do {                                                                                           \
        int k_ = snprintf(out + n, n < cap ? cap - n : 0, __VA_ARGS__);                            \
        if (k_ > 0)                                                                                \
            n += (size_t)k_;                                                                       \
    } while (0)
#define ADD_D(flag, v, dflt)                                                                       \
    do {                                                                                           \
        if ((v) != (dflt)) {                                                                       \
            put_double(d, sizeof d, (v));                                                          \
            ADD(" " flag " %s", d);                                                                \
        }                                                                                          \
    } while (0)
    ADD("glass sim --bytes %" PRIu64, o->bytes);
    if (o->duplex)
        ADD(" --duplex");
    if (o->copy)
        ADD(" --copy");
    if (o->no_offload)
        ADD(" --no-offload");
    if (o->mss_set)
        ADD(" --mss %u", o->mss);
    if (o->cc_set)
        ADD(" --cc %s", o->cc == GLASS_CC_NEWRENO ? "newreno" : "cubic");
    ADD_D("--loss", o->loss, 0.0);
    ADD_D("--dup", o->dup, 0.0);
    ADD_D("--reorder", o->reorder, 0.0);
    if (o->reorder_max != 3)
        ADD(" --reorder-max %" PRIu32, o->reorder_max);
    ADD_D("--corrupt", o->corrupt, 0.0);
    ADD_D("--delay", o->delay_ms, 10.0);
    ADD_D("--jitter", o->jitter_ms, 0.0);
    ADD_D("--rate", o->rate_mbit, 0.0);
    if (o->queue != 0)
        ADD(" --queue %" PRIu32, o->queue);
    if (o->spike_every_ms > 0.0) {
        ADD_D("--spike-every", o->spike_every_ms, 0.0);
        ADD_D("--spike-len", o->spike_len_ms, 1500.0);
    }
    if (o->buf != (1u << 20))
        ADD(" --buf %" PRIu32, o->buf);
    if (o->read_rate != 0)
        ADD(" --read-rate %" PRIu64, o->read_rate);
    if (o->pause_ms > 0.0) {
        ADD(" --read-pause-at %" PRIu64, o->pause_at);
        ADD_D("--read-pause", o->pause_ms, 0.0);
    }
    if (o->syn_retries != 0)
        ADD(" --syn-retries %u", o->syn_retries);
    if (o->retries != 0)
        ADD(" --retries %u", o->retries);
    ADD(" --seed %" PRIu64, o->seed);
#undef ADD_D
#undef ADD
}

/* ---- counting allocator --------------------------------------------------------------------- */

struct acct {
    long long bytes, blocks, peak, bad;
};

static void *acct_alloc(void *ctx, size_t size)
{
    struct acct *a = ctx;
    void *p = malloc(size != 0 ? size : 1);
    if (p != NULL) {
        a->bytes += (long long)size;
        a->blocks++;
        if (a->bytes > a->peak)
            a->peak = a->bytes;
    }
    return p;
}

static void acct_free(void *ctx, void *p, size_t size)
{
    struct acct *a = ctx;
    if (p == NULL)
        return;
    a->bytes -= (long long)size;
    a->blocks--;
    if (a->bytes < 0 || a->blocks < 0)
        a->bad++;
    free(p);
}

/* ---- one run -------------------------------------------------------------------------------- */

struct run {
    const struct simdrive_opts *o;
    struct simdrive d;
    struct acct acct[SIMDRIVE_SIDES];
    long long baseline[SIMDRIVE_SIDES]; /* allocator bytes right after glass_stack_new + attach */
    bool failed;
    char why[512];
    uint64_t steps;
    uint64_t hash;
    uint64_t retrans, timeouts, zero_win, probes;
    glass_time_t t_deliver, t_end; /* last byte read, both CLOSED (relative to t0) */
    struct glass_simnet_stats link;
};

static void run_fail(struct run *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void run_fail(struct run *r, const char *fmt, ...)
{
    if (r->failed)
        return;
    r->failed = true;
    char tb[32];
    glass_time_t t = r->d.net != NULL ? glass_simnet_now(r->d.net) - r->d.t0 : r->t_end;
    snprintf(tb, sizeof tb, "t=%.6f s: ", (double)t / 1e9);
    size_t n = strlen(tb);
    memcpy(r->why, tb, n + 1);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why + n, sizeof r->why - n, fmt, ap);
    va_end(ap);
}

/* simdrive's hooks: its failures are the run's; each stack takes memory from its account. */
static void drive_fail(void *ctx, const char *msg)
{
    run_fail(ctx, "%s", msg);
}

static void drive_configure(void *ctx, int side, struct glass_config *cfg)
{
    struct run *r = ctx;
    cfg->allocator.alloc = acct_alloc;
    cfg->allocator.free = acct_free;
    cfg->allocator.ctx = &r->acct[side];
}

/* Per-step checks (after every simnet step). */
static void check_step(struct run *r)
{
    char why[256];
    for (int s = 0; s < SIMDRIVE_SIDES && !r->failed; s++) {
        struct glass_stack *st = r->d.side[s].st;
        const struct acct *a = &r->acct[s];
        const char *name = simdrive_side_name(s);
        why[0] = '\0';
        if (glass_stack_check(st, why, sizeof why) != 0)
            run_fail(r, "%s: glass_stack_check: %s", name, why);
        if (glass_stack_mib(st, GLASS_MIB_TcpExtIllegalArcs) != 0)
            run_fail(r, "%s: TcpExtIllegalArcs = %" PRIu64, name,
                     glass_stack_mib(st, GLASS_MIB_TcpExtIllegalArcs));
        /* Property 10: what a connection may hold (both buffers, reassembly inside the ring)
         * plus the stack's own tables, with room for the TIME_WAIT record and history. */
        long long bound = r->baseline[s] + 3LL * ((long long)r->o->buf * 2) + (256LL << 10);
        if (a->bytes > bound)
            run_fail(r, "%s: allocator holds %lld bytes, bound %lld", name, a->bytes, bound);
        if (a->bad != 0)
            run_fail(r, "%s: allocator: a free of more than was allocated", name);
    }
}

/* Run one transfer; returns true if every check held. *r gets the run (hash, counters). */
static bool run_one(const struct simdrive_opts *o, struct run *r, bool checks)
{
    memset(r, 0, sizeof *r);
    r->o = o;
    const struct simdrive_hooks hooks = {
        .fail = drive_fail, .transition = NULL, .configure = drive_configure, .ctx = r};
    char err[160] = "";
    if (simdrive_open(&r->d, o, &hooks, err, sizeof err) < 0)
        fail_msg("simdrive_open: %s", err);
    for (int s = 0; s < SIMDRIVE_SIDES; s++)
        r->baseline[s] = r->acct[s].bytes;
    if (simdrive_start(&r->d, err, sizeof err) < 0)
        fail_msg("simdrive_start: %s", err);
    struct simdrive_side *cs = &r->d.side[SIMDRIVE_CLIENT], *ss = &r->d.side[SIMDRIVE_SERVER];

    /* Liveness bounds (virtual time). Delivery: an hour, plus what the reader's pace needs.
     * Closure: then 2MSL plus the longest run of backed-off retransmissions (retries2 + 1
     * timeouts of at most rto_max, 120 s, each). */
    glass_time_t deliver_by = r->d.t0 + GLASS_SEC(3600) + simdrive_ms(o->pause_ms);
    if (o->read_rate != 0)
        deliver_by += (o->bytes / o->read_rate + 1) * GLASS_NSEC_PER_SEC;
    unsigned r2 = o->retries != 0 ? o->retries : 15;
    glass_time_t close_by = deliver_by + GLASS_SEC(60) + GLASS_SEC((uint64_t)(r2 + 1) * 120);
    bool delivered = false;
    for (;;) {
        if (simdrive_finished(&r->d))
            break;
        if (!delivered && ss->rx_done == ss->rx_expect && cs->rx_done == cs->rx_expect) {
            delivered = true;
            if (glass_simnet_now(r->d.net) > deliver_by)
                run_fail(r, "eventual delivery: the last byte arrived after the bound");
        }
        glass_time_t limit = delivered ? close_by : deliver_by;
        glass_time_t wake = simdrive_wake(&r->d);
        glass_time_t until = wake < limit ? wake : limit;
        if (glass_simnet_step(r->d.net, until)) {
            r->steps++;
            if (checks)
                check_step(r);
            if (r->failed && checks) /* a replay (no checks) runs on, as glass sim does */
                break;
            continue;
        }
        if (wake > limit) {
            char hc[64], hs[64];
            simdrive_side_how(cs, hc, sizeof hc);
            simdrive_side_how(ss, hs, sizeof hs);
            if (!delivered)
                run_fail(r,
                         "eventual delivery: after %.0f s of virtual time the server has "
                         "%" PRIu64 " of %" PRIu64 " bytes, the client %" PRIu64 " of %" PRIu64
                         " (client %s, server %s)",
                         (double)(limit - r->d.t0) / 1e9, ss->rx_done, ss->rx_expect, cs->rx_done,
                         cs->rx_expect, hc, hs);
            else
                run_fail(r,
                         "eventual closure: not both CLOSED by %.0f s (client %s, socket %s; "
                         "server %s, socket %s)",
                         (double)(limit - r->d.t0) / 1e9, hc, cs->closed ? "closed" : "open", hs,
                         ss->closed ? "closed" : "open");
            break;
        }
        simdrive_tick(&r->d, wake);
        if (checks)
            check_step(r);
        if (r->failed && checks)
            break;
    }

    r->hash = glass_simnet_trace_hash(r->d.net);
    glass_simnet_stats(r->d.net, &r->link);
    for (int s = 0; s < SIMDRIVE_SIDES; s++) {
        r->retrans += glass_stack_mib(r->d.side[s].st, GLASS_MIB_TcpRetransSegs);
        r->timeouts += glass_stack_mib(r->d.side[s].st, GLASS_MIB_TcpExtTCPTimeouts);
        r->zero_win += glass_stack_mib(r->d.side[s].st, GLASS_MIB_TcpExtTCPToZeroWindowAdv);
    }
    glass_time_t last = ss->rx_last_at > cs->rx_last_at ? ss->rx_last_at : cs->rx_last_at;
    r->t_deliver = last > r->d.t0 ? last - r->d.t0 : 0;
    r->t_end = glass_simnet_now(r->d.net) - r->d.t0;
    /* Quiescence. */
    if (!r->failed && (ss->rx_done != ss->rx_expect || cs->rx_done != cs->rx_expect))
        run_fail(r,
                 "eventual delivery: server %" PRIu64 "/%" PRIu64 ", client %" PRIu64 "/%" PRIu64,
                 ss->rx_done, ss->rx_expect, cs->rx_done, cs->rx_expect);
    for (int s = 0; s < SIMDRIVE_SIDES && !r->failed; s++) {
        struct glass_stack *st = r->d.side[s].st;
        const char *name = simdrive_side_name(s);
        struct glass_conn_info ci[4];
        size_t n = glass_stack_conns(st, ci, 4);
        if (n != 0)
            run_fail(r, "%s: %zu connection(s) left at quiescence (first: %s)", name, n,
                     glass_tcp_state_name(ci[0].state));
        else if (glass_stack_next_deadline(st) != GLASS_TIME_NEVER)
            run_fail(r, "%s: a timer is still armed at quiescence", name);
        else if (r->acct[s].bytes != r->baseline[s])
            run_fail(r, "%s: allocator holds %lld bytes at quiescence, %lld after glass_stack_new",
                     name, r->acct[s].bytes, r->baseline[s]);
    }
    simdrive_close(&r->d);
    for (int s = 0; s < SIMDRIVE_SIDES; s++) {
        const struct acct *a = &r->acct[s];
        if (!r->failed && (a->bytes != 0 || a->blocks != 0))
            run_fail(r, "%s: leak after glass_stack_free: %lld bytes in %lld blocks",
                     simdrive_side_name(s), a->bytes, a->blocks);
    }
    return !r->failed;
}

/* ---- the grid ------------------------------------------------------------------------------- */

struct gcase {
    const char *name;
    struct simdrive_opts o; /* seed filled per run */
};

static unsigned n_seeds(void)
{
    const char *e = getenv("GLASS_SOAK_SEEDS");
    if (e == NULL || *e == '\0')
        return DEFAULT_SEEDS;
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(e, &end, 10);
    if (errno != 0 || end == e || *end != '\0' || v == 0 || v > 1000000)
        return DEFAULT_SEEDS;
    return (unsigned)v;
}

/* First seed (GLASS_SOAK_SEED0, default 1): to explore other seeds than CI's. */
static uint64_t seed0(void)
{
    const char *e = getenv("GLASS_SOAK_SEED0");
    if (e == NULL || *e == '\0')
        return 1;
    return strtoull(e, NULL, 10);
}

static unsigned total_runs, total_failed;

static bool verbose(void)
{
    const char *e = getenv("GLASS_SOAK_VERBOSE");
    return e != NULL && *e != '\0' && strcmp(e, "0") != 0;
}

/* GLASS_SOAK_ONLY=text: run only the grid points whose name contains text. */
static bool selected(const char *name)
{
    const char *e = getenv("GLASS_SOAK_ONLY");
    return e == NULL || *e == '\0' || strstr(name, e) != NULL;
}

static void run_cases(const struct gcase *cases, size_t n)
{
    unsigned seeds = n_seeds(), failed = 0, runs = 0;
    uint64_t s0 = seed0();
    for (size_t i = 0; i < n; i++) {
        if (!selected(cases[i].name))
            continue;
        /* Per grid point: sums over its seeds (GLASS_SOAK_VERBOSE=1 prints them). */
        uint64_t steps = 0, rtx = 0, rto = 0, zw = 0, lost = 0, dup = 0, reo = 0, cor = 0, spk = 0,
                 qd = 0;
        double xfer = 0.0, dur = 0.0;
        for (unsigned k = 0; k < seeds; k++) {
            struct simdrive_opts o = cases[i].o;
            o.seed = s0 + k;
            struct run r;
            runs++;
            bool ok = run_one(&o, &r, true);
            steps += r.steps;
            rtx += r.retrans;
            rto += r.timeouts;
            zw += r.zero_win;
            lost += r.link.lost;
            dup += r.link.duplicated;
            reo += r.link.reordered;
            cor += r.link.corrupted;
            spk += r.link.spiked;
            qd += r.link.queue_drops;
            xfer += (double)r.t_deliver / 1e9;
            dur += (double)r.t_end / 1e9;
            if (ok)
                continue;
            failed++;
            char cmd[512];
            replay_cmd(&o, cmd, sizeof cmd);
            print_error("soak FAILED [%s] seed %" PRIu64 ": %s\n    replay: %s\n", cases[i].name,
                        o.seed, r.why, cmd);
        }
        if (verbose())
            print_message("  %-44s %u seeds: steps %" PRIu64 ", retrans %" PRIu64 ", RTOs %" PRIu64
                          ", zero-win %" PRIu64 ", link lost %" PRIu64 " dup %" PRIu64
                          " reord %" PRIu64 " corrupt %" PRIu64 " spiked %" PRIu64 " qdrop %" PRIu64
                          ", mean transfer %.2f s, mean run %.1f s\n",
                          cases[i].name, seeds, steps, rtx, rto, zw, lost, dup, reo, cor, spk, qd,
                          xfer / seeds, dur / seeds);
    }
    total_runs += runs;
    total_failed += failed;
    print_message("soak: %u runs, %u failed\n", runs, failed);
    assert_int_equal(failed, 0);
}

/* Every grid point allows 20 SYN and 40 data retransmissions instead of Linux's 6 and 15:
 * with 30 % loss each way, 16 failed rounds in a row (0.51^16, about 2e-5 per segment) would
 * otherwise end some runs with a legitimate ETIMEDOUT, while the property checked here is
 * that every byte arrives. A stack that stops making progress still fails the delivery bound.
 * The grid reads and writes with glass_send/glass_recv (`glass sim --copy`); the zero-copy calls,
 * glass sim's default, run in test_replay_matches_cli and the cli_sim tests. */
#define CASE(nm, ...)                                                                              \
    {                                                                                              \
        .name = nm, .o = {                                                                         \
            .delay_ms = 10.0,                                                                      \
            .reorder_max = 3,                                                                      \
            .spike_len_ms = 1500.0,                                                                \
            .buf = 1u << 20,                                                                       \
            .syn_retries = 20,                                                                     \
            .retries = 40,                                                                         \
            .copy = true,                                                                          \
            __VA_ARGS__                                                                            \
        }                                                                                          \
    }

static void test_soak_loss(void **state)
{
    (void)state;
    static const struct gcase cases[] = {
        CASE("clean", .bytes = 200000),
        CASE("loss 1%", .bytes = 200000, .loss = 0.01),
        CASE("loss 2%", .bytes = 200000, .loss = 0.02),
        CASE("loss 5%", .bytes = 150000, .loss = 0.05),
        CASE("loss 10%", .bytes = 100000, .loss = 0.10),
        CASE("loss 20%", .bytes = 60000, .loss = 0.20),
        CASE("loss 30%", .bytes = 30000, .loss = 0.30),
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_soak_dup_reorder_corrupt(void **state)
{
    (void)state;
    static const struct gcase cases[] = {
        CASE("dup 5%", .bytes = 200000, .dup = 0.05),
        CASE("dup 20%", .bytes = 100000, .dup = 0.20),
        CASE("reorder 10% by 1..3", .bytes = 200000, .reorder = 0.10),
        CASE("reorder 30% by 1..10", .bytes = 150000, .reorder = 0.30, .reorder_max = 10),
        CASE("corrupt 1%", .bytes = 200000, .corrupt = 0.01),
        CASE("corrupt 5%", .bytes = 100000, .corrupt = 0.05),
        CASE("jitter 5 ms", .bytes = 200000, .jitter_ms = 5.0),
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_soak_spikes_bottleneck(void **state)
{
    (void)state;
    static const struct gcase cases[] = {
        /* Stalls of 1.5 s and 400 ms, far beyond an RTO of ~200 ms: spurious retransmissions. */
        CASE("spikes 1.5 s every 3 s", .bytes = 1000000, .spike_every_ms = 3000.0,
             .spike_len_ms = 1500.0, .rate_mbit = 5.0),
        CASE("spikes 400 ms every 1 s, loss 2%", .bytes = 500000, .spike_every_ms = 1000.0,
             .spike_len_ms = 400.0, .loss = 0.02, .rate_mbit = 5.0),
        CASE("bottleneck 10 Mbit/s, queue 20", .bytes = 500000, .rate_mbit = 10.0, .queue = 20),
        CASE("bottleneck 2 Mbit/s, queue 5, delay 50 ms", .bytes = 200000, .rate_mbit = 2.0,
             .queue = 5, .delay_ms = 50.0),
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_soak_receiver(void **state)
{
    (void)state;
    static const struct gcase cases[] = {
        /* Small buffers, so that the window closes. */
        CASE("slow reader 50 kB/s", .bytes = 150000, .buf = 16384, .read_rate = 50000),
        CASE("reader stops 3 s (zero window)", .bytes = 200000, .buf = 16384, .pause_at = 40000,
             .pause_ms = 3000.0),
        CASE("reader stops 30 s, loss 5%", .bytes = 100000, .buf = 8192, .pause_at = 20000,
             .pause_ms = 30000.0, .loss = 0.05),
        CASE("slow reader, reorder, dup", .bytes = 100000, .buf = 16384, .read_rate = 40000,
             .reorder = 0.1, .dup = 0.05),
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_soak_mixed_duplex(void **state)
{
    (void)state;
    static const struct gcase cases[] = {
        CASE("duplex clean", .bytes = 200000, .duplex = true),
        CASE("duplex loss 5%", .bytes = 100000, .duplex = true, .loss = 0.05),
        CASE("everything", .bytes = 100000, .duplex = true, .loss = 0.05, .dup = 0.03,
             .reorder = 0.05, .corrupt = 0.01, .jitter_ms = 2.0),
        CASE("everything, hard", .bytes = 50000, .duplex = true, .loss = 0.15, .dup = 0.05,
             .reorder = 0.2, .reorder_max = 6, .corrupt = 0.02, .jitter_ms = 5.0,
             .spike_every_ms = 4000.0, .spike_len_ms = 1000.0, .buf = 16384),
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

/* ---- determinism ---------------------------------------------------------------------------- */

static void test_same_seed_same_hash(void **state)
{
    (void)state;
    struct simdrive_opts o;
    simdrive_opts_default(&o);
    o.bytes = 100000;
    o.duplex = true;
    o.loss = 0.05;
    o.dup = 0.03;
    o.reorder = 0.1;
    o.corrupt = 0.01;
    o.jitter_ms = 3.0;
    o.rate_mbit = 20.0;
    o.queue = 30;
    o.spike_every_ms = 2000.0;
    o.spike_len_ms = 500.0;
    o.seed = 42;
    struct run a, b, c;
    assert_true(run_one(&o, &a, false));
    assert_true(run_one(&o, &b, false));
    assert_true(a.hash == b.hash);
    assert_true(a.steps == b.steps);
    assert_true(a.retrans == b.retrans);
    o.seed = 43;
    assert_true(run_one(&o, &c, false));
    assert_true(c.hash != a.hash);
}

/* The printed replay command gives the same run: `glass sim ... --json` reports the same trace
 * hash as the driver here (GLASS_CLI is the path of the glass binary, set by
 * tests/sim/CMakeLists.txt). */
static void test_replay_matches_cli(void **state)
{
    (void)state;
#ifndef GLASS_CLI
    skip();
#else
    struct simdrive_opts cases[3];
    for (int i = 0; i < 3; i++)
        simdrive_opts_default(&cases[i]);
    cases[0].bytes = 100000;
    cases[0].loss = 0.05;
    cases[0].seed = 7;
    cases[1].bytes = 80000;
    cases[1].duplex = true;
    cases[1].dup = 0.05;
    cases[1].reorder = 0.2;
    cases[1].corrupt = 0.02;
    cases[1].jitter_ms = 2.5;
    cases[1].seed = 11;
    cases[1].copy = true; /* glass_send/glass_recv here and in the CLI (the others: zero-copy) */
    cases[2].bytes = 120000;
    cases[2].buf = 16384;
    cases[2].pause_at = 30000;
    cases[2].pause_ms = 2000.0;
    cases[2].read_rate = 60000;
    cases[2].rate_mbit = 8.0;
    cases[2].queue = 10;
    cases[2].spike_every_ms = 1500.0;
    cases[2].spike_len_ms = 600.0;
    cases[2].seed = 3;
    for (int i = 0; i < 3; i++) {
        struct run r;
        run_one(&cases[i], &r, false);
        char cmd[600], full[900];
        replay_cmd(&cases[i], cmd, sizeof cmd);
        /* "glass sim ..." -> "<path> sim ... --json" */
        snprintf(full, sizeof full, "'%s'%s --json", GLASS_CLI, cmd + strlen("glass"));
        FILE *p = popen(full, "r");
        assert_non_null(p);
        char out[8192];
        size_t n = fread(out, 1, sizeof out - 1, p);
        out[n] = '\0';
        pclose(p);
        char want[64];
        snprintf(want, sizeof want, "\"trace_hash\":\"%016" PRIx64 "\"", r.hash);
        if (strstr(out, want) == NULL) {
            print_error("replay mismatch for: %s\n  driver: %s\n  cli: %s\n", full, want, out);
            fail();
        }
    }
#endif
}

int main(void)
{
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD)
    /* Thousands of runs allocate and free the same megabyte rings: keep them in the heap
     * instead of an mmap and a page fault per page each time. */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_hash),
        cmocka_unit_test(test_replay_matches_cli),
        cmocka_unit_test(test_soak_loss),
        cmocka_unit_test(test_soak_dup_reorder_corrupt),
        cmocka_unit_test(test_soak_spikes_bottleneck),
        cmocka_unit_test(test_soak_receiver),
        cmocka_unit_test(test_soak_mixed_duplex),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    print_message("soak total: %u runs, %u failed (%u seeds per grid point; GLASS_SOAK_SEEDS)\n",
                  total_runs, total_failed, n_seeds());
    return rc;
}
