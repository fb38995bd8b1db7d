/* glass bench — what the three harnesses (glasstcp, lwIP, Linux) share: the parameters of one
 * measurement, the figures one run returns, the payload pattern every bulk receiver checks, and
 * a monotonic clock. docs/performance.md describes the workloads and the fairness rules. */
#ifndef GLASS_TOOLS_BENCH_H
#define GLASS_TOOLS_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_CLIENT_ADDR 0xc0000201u /* 192.0.2.1 */
#define BENCH_SERVER_ADDR 0xc0000202u /* 192.0.2.2 */
#define BENCH_PORT 5201u
/* crr spreads its connections over this many server ports (BENCH_PORT on), as a load generator
 * does: one client address has 28,232 ephemeral ports per remote endpoint, which a fast stack
 * would use up within the 1 s run while they sit in TIME_WAIT. */
#define BENCH_CRR_PORTS 16u
/* The crr row with a bounded TIME_WAIT pile-up: the closing side keeps at most this many. */
#define BENCH_TW_BOUND 4096u
#define BENCH_PAT_LEN 65521u        /* the payload pattern repeats every this many bytes (prime) */
#define BENCH_STALL_NS 5000000000ull /* a run with no progress for 5 s of wall time fails */
#define BENCH_LAT_MAX (1u << 22)    /* rr latency samples kept per run */
#define BENCH_NOTE 240
#define BENCH_SETUP_NS 120000000000ull /* conns: give up opening connections after 120 s */
/* conns after data: the quiet time after the exchange, before memory is read (glasstcp gives
 * an idle connection's buffers back after ring_idle, 1 s by default) */
#define BENCH_QUIET_NS 1500000000ull

/* What one run of one workload on one implementation gave. */
enum bench_status {
    BENCH_OK = 0,
    BENCH_NA = 1,     /* the implementation cannot run this workload (note says why) */
    BENCH_FAILED = 2, /* it ran and failed (note says how) */
};

struct bench_out {
    enum bench_status status;
    double v[3];     /* bulk: GB/s; rr: transactions/s, mean us, p99 us; crr: conn/s;
                        conns: bytes/conn (both ends), v[1] with data: right after the
                        exchange; tw: bytes per TIME_WAIT entry */
    uint64_t count;  /* crr: connections in TIME_WAIT at the end; conns: connections made */
    bool stopped;    /* crr: the run could not open another connection before its time was up */
    char note[BENCH_NOTE];
    /* bulk and crr, for the threads rows: the work done (bytes, connections) between t0 and
     * t1 (bench_now_ns()), so that parallel runs add up over the time they all took */
    uint64_t work, t0, t1;
};

/* Parameters of a bulk run. */
struct bench_bulk {
    uint64_t bytes;
    unsigned mss;
    uint32_t buf;  /* send and receive buffer, bytes, both ends */
    bool pinned;   /* Linux: both threads on one CPU */
};

/* Parameters of rr / crr / conns runs. */
struct bench_params {
    double secs;   /* rr and crr: how long one run lasts */
    uint32_t conns; /* conns and tw: how many connections */
    uint32_t tw_max; /* crr: the closing side's TIME_WAIT table bound (0: each stack's own) */
    bool data;      /* conns: one byte each way on each connection, then BENCH_QUIET_NS of
                       quiet (timers running) before memory is read */
    unsigned mss;
    uint32_t buf;
};

/* The monotonic clock in nanoseconds. */
uint64_t bench_now_ns(void);
/* The payload pattern: 2 * BENCH_PAT_LEN bytes, so that any BENCH_PAT_LEN bytes from offset
 * off % BENCH_PAT_LEN are contiguous. */
const uint8_t *bench_pattern(void);
/* True if the n <= BENCH_PAT_LEN bytes at p are the stream at offset off. */
bool bench_check(const uint8_t *p, size_t n, uint64_t off);
/* BENCH_QUIET_NS of quiet: pump(ctx) (which runs due timers and moves packets; NULL: none)
 * every millisecond until it has passed. */
void bench_quiet(void (*pump)(void *ctx), void *ctx);
/* One rr transaction (a byte each way): false, with o filled, on an error. */
typedef bool (*bench_round_fn)(void *ctx, struct bench_out *o);
/* The rr measurement shared by the harnesses: rounds for secs of wall time, each timed;
 * fills o->v[0] (transactions/s), v[1] (mean us), v[2] (p99 us) and o->count. False on an
 * error (o says which). */
bool bench_rr_loop(double secs, bench_round_fn round, void *ctx, struct bench_out *o);
/* One part of a parallel run: part i of n, on its own thread, fills o (with work, t0, t1). */
typedef void (*bench_part_fn)(void *ctx, unsigned i, struct bench_out *o);
/* Run part 0..n-1 (n <= BENCH_THREADS_MAX) on n threads that start together (a barrier), and
 * add them up in o: work summed, t0 the earliest start, t1 the latest end, count summed, the
 * note listing each part's rate in `unit` per second (divided by `scale`). False, with o
 * saying which part failed and why, if one did. */
#define BENCH_THREADS_MAX 8u
bool bench_parallel(unsigned n, bench_part_fn part, void *ctx, const char *unit, double scale,
                    struct bench_out *o);
void bench_note(struct bench_out *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The harnesses. Each fills *o for one run. */
void bench_glass_bulk(const struct bench_bulk *b, struct bench_out *o);
void bench_glass_rr(const struct bench_params *p, struct bench_out *o);
void bench_glass_crr(const struct bench_params *p, struct bench_out *o);
void bench_glass_conns(const struct bench_params *p, struct bench_out *o);
void bench_glass_tw(const struct bench_params *p, struct bench_out *o);
/* Sharding's in-process equivalent (docs/sharding.md): `threads` pairs of stacks, each pair
 * on its own thread with its own link (one RSS queue each); the aggregate rate. */
void bench_glass_bulk_mt(const struct bench_bulk *b, unsigned threads, struct bench_out *o);
void bench_glass_crr_mt(const struct bench_params *p, unsigned threads, struct bench_out *o);
/* glasstcp's settings as one line, for the report. */
void bench_glass_describe(char *buf, size_t cap);

void bench_linux_bulk(const struct bench_bulk *b, struct bench_out *o);
void bench_linux_rr(const struct bench_params *p, struct bench_out *o);
void bench_linux_crr(const struct bench_params *p, struct bench_out *o);
void bench_linux_conns(const struct bench_params *p, struct bench_out *o);
void bench_linux_tw(const struct bench_params *p, struct bench_out *o);
/* `threads` connections (bulk) or connect loops (crr) at once, each on its own port. */
void bench_linux_bulk_mt(const struct bench_bulk *b, unsigned threads, struct bench_out *o);
void bench_linux_crr_mt(const struct bench_params *p, unsigned threads, struct bench_out *o);
/* Move into a private network namespace with lo up (done once, before any Linux run); false
 * (with the reason in why) if that is not possible: the runs then use the host's lo. */
bool bench_linux_setup(char *why, size_t cap);
void bench_linux_describe(char *buf, size_t cap);

/* lwIP (tools/glass/bench_lwip/): false with the reason when it cannot be loaded. */
bool bench_lwip_available(char *why, size_t cap);
void bench_lwip_bulk(const struct bench_bulk *b, struct bench_out *o);
void bench_lwip_rr(const struct bench_params *p, struct bench_out *o);
void bench_lwip_crr(const struct bench_params *p, struct bench_out *o);
void bench_lwip_conns(const struct bench_params *p, struct bench_out *o);
void bench_lwip_tw(const struct bench_params *p, struct bench_out *o);
void bench_lwip_describe(char *buf, size_t cap);

#endif
