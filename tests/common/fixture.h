/* glasstcp tests — the two-stack scenario fixture (STYLE.md §7.7 items 7-8).
 *
 * Two stacks, client 192.0.2.1 and server 192.0.2.2, on a glass_simnet with a 10 ms one-way
 * delay, each with its own seed. The fixture records everything a test wants to assert on:
 *
 *   - every packet the link carried (glass_simnet_set_tap), decoded with glass_pkt_decode, with
 *     sequence and acknowledgment numbers also made relative to the flow's ISN (as tcpdump
 *     does; a flow whose SYN was not seen keeps absolute numbers), and whether it was dropped,
 *     held or delivered; packets a test injects with fx_inject() are recorded as from FX_INJECT;
 *   - every state transition of each stack, in order (glass_stack_set_observer);
 *   - every socket event of each stack (glass_simnet_set_app, then whatever is left in the
 *     stack's queue), with an optional per-side reaction hook ("close on RDHUP");
 *   - filter rules that drop or hold chosen packets ("drop the next packet from the server
 *     with FIN", "drop every pure ACK", "partition the link").
 *
 * States are reached through the protocol only (fx_established() listens, connects, accepts);
 * nothing pokes a field. Teardown frees the simnet and the stacks and checks that the stacks
 * gave back all the memory they took through the counting allocator, and that no illegal arc
 * was refused (TcpExtIllegalArcs == 0).
 *
 * Usage:
 *
 *     static void test_x(void **state)
 *     {
 *         struct fx *fx = *state;
 *         fx->cfg[FX_CLIENT].syn_retries = 3;   // optional, before the first helper call
 *         int cfd, sfd;
 *         fx_established(fx, &cfd, &sfd);
 *         size_t m = fx_mark(fx);
 *         ...
 *         FX_ASSERT_PKT(fx, m, FX_CLIENT, 0, GLASS_TH_FIN | GLASS_TH_ACK, 1, 1, 0);
 *     }
 *     ... cmocka_unit_test_setup_teardown(test_x, fx_cm_setup, fx_cm_teardown) == FX_TEST(test_x)
 */
#ifndef GLASS_TEST_FIXTURE_H
#define GLASS_TEST_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <glass/glass.h>

enum {
    FX_CLIENT = 0,
    FX_SERVER = 1,
    FX_INJECT = 2, /* "from" of a packet a test fed in with fx_inject() */
    FX_NSIDES = 2,
};

/* "Don't care" for integer arguments of the assertion helpers (side, fd, conn, seq, ack, len,
 * cause). */
#define FX_ANY (-1)

#define FX_CLIENT_ADDR GLASS_IP4(192, 0, 2, 1)
#define FX_SERVER_ADDR GLASS_IP4(192, 0, 2, 2)
#define FX_SERVER_PORT 80
#define FX_DELAY GLASS_MSEC(10)
#define FX_SEED_CLIENT UINT64_C(0x5eed0001)
#define FX_SEED_SERVER UINT64_C(0x5eed0002)

/* One packet seen on the link (or injected). */
struct fx_pkt {
    uint64_t id;               /* simnet id; 0 for injected packets */
    int from, to;              /* FX_CLIENT / FX_SERVER / FX_INJECT; to = -1: no such node */
    glass_time_t at;           /* when it was sent */
    glass_time_t delivered_at; /* GLASS_TIME_NEVER unless delivered */
    bool decoded;              /* glass_pkt_decode accepted it */
    bool dropped, held, delivered;
    struct glass_pkt_summary s;
    uint8_t flags;             /* GLASS_TH_* */
    uint32_t seq, ack, len;    /* absolute, as on the wire */
    uint16_t win, mss;
    uint32_t rseq, rack;       /* relative to the flow's ISN (absolute if unknown) */
    bool rseq_rel, rack_rel;   /* whether rseq/rack are relative */
};

struct fx_trans {
    int side;
    struct glass_transition t;
};

struct fx_event {
    int side;
    struct glass_event ev;
};

/* A filter rule: packets from `from` (or FX_ANY) whose flags have all of `set`, none of
 * `clear` (and, if exact >= 0, are exactly `exact`) are matches. The first `skip` matches
 * pass; then `count` matches (-1: all of them) get `verdict`. */
struct fx_rule {
    int from;
    uint8_t set, clear;
    int exact;
    unsigned skip;
    int count;
    enum glass_sim_verdict verdict;
    unsigned matched, acted; /* bookkeeping */
};

struct fx;
typedef void (*fx_react_fn)(struct fx *fx, int side, const struct glass_event *ev);
/* A custom filter, asked after the rules let a packet pass. */
typedef enum glass_sim_verdict (*fx_filter_fn)(struct fx *fx, const struct fx_pkt *p);

struct fx_alloc_stats {
    long long bytes;
    long long blocks;
    long long bad_frees; /* free(NULL) or more bytes freed than allocated */
};

struct fx_flow {
    uint32_t saddr, daddr;
    uint16_t sport, dport;
    uint32_t iss;
};

#define FX_MAX_RULES 16
#define FX_MAX_FLOWS 64
#define FX_MAX_HELD 64

struct fx_side_ctx {
    struct fx *fx;
    int side;
};

struct fx {
    /* Set by fx_cm_setup to defaults (glass_config_default + the side's seed); a test may
     * change them before its first helper call (fx_start). */
    struct glass_config cfg[FX_NSIDES];
    struct glass_simnet_config netcfg;

    bool started;
    struct glass_simnet *net;
    struct glass_stack *st[FX_NSIDES];
    int node[FX_NSIDES];
    glass_time_t t0;
    struct fx_alloc_stats alloc[FX_NSIDES];
    struct fx_side_ctx side_ctx[FX_NSIDES];

    struct fx_pkt *pkts;
    size_t npkts, cap_pkts;
    struct fx_trans *trans;
    size_t ntrans, cap_trans;
    struct fx_event *evs;
    size_t nevs, cap_evs;
    size_t trans_cursor[FX_NSIDES]; /* FX_EXPECT_TRANS: next index to search from */

    fx_react_fn react[FX_NSIDES];
    fx_filter_fn filter;
    void *user; /* free for the test's reaction hooks / filters */

    struct fx_rule rules[FX_MAX_RULES];
    size_t nrules;
    uint64_t held[FX_MAX_HELD];
    size_t nheld;

    struct fx_flow flows[FX_MAX_FLOWS];
    size_t nflows;

    /* Filled by fx_established(). */
    int lfd;       /* the server's listening socket */
    uint16_t cport; /* the client's local port */
};

/* ---- cmocka glue ---------------------------------------------------------------------- */
int fx_cm_setup(void **state);
int fx_cm_teardown(void **state);
#define FX_TEST(f) cmocka_unit_test_setup_teardown(f, fx_cm_setup, fx_cm_teardown)

/* ---- life cycle and time -------------------------------------------------------------- */
/* Create the stacks and the simnet from fx->cfg (called by every helper if not yet done). */
void fx_start(struct fx *fx);
struct glass_stack *fx_st(struct fx *fx, int side);
/* A stack of its own, outside any fixture: the default configuration (max_sockets instead of
 * its default if not 0) on FX_CLIENT_ADDR/24, MTU 1500, for tests that drive one by hand. */
struct glass_stack *fx_lone_client(uint32_t max_sockets);
glass_time_t fx_now(struct fx *fx);
/* Time since fx_start. */
glass_time_t fx_elapsed(struct fx *fx);
/* Drain leftover events (reacting), put every stack's output on the link. */
void fx_flush(struct fx *fx);
void fx_run_for(struct fx *fx, glass_time_t dt);
void fx_run_until(struct fx *fx, glass_time_t t);
/* Run until the socket's state is `state` or `limit` more time has passed; true if reached. */
bool fx_run_until_state(struct fx *fx, int side, int fd, int state, glass_time_t limit);

/* ---- reaction hooks ------------------------------------------------------------------- */
void fx_set_react(struct fx *fx, int side, fx_react_fn fn);
/* A ready-made reaction: close the socket when its peer's FIN arrives (GLASS_EV_RDHUP). */
void fx_react_close_on_rdhup(struct fx *fx, int side, const struct glass_event *ev);

/* ---- filter --------------------------------------------------------------------------- */
void fx_add_rule(struct fx *fx, struct fx_rule r);
#define FX_RULE(...)                                                                             \
    ((struct fx_rule){.from = FX_ANY, .exact = -1, .count = 1, .verdict = GLASS_SIM_DROP,         \
                      __VA_ARGS__})
/* Drop the next `count` (-1: all) packets from side with all `set` flags and no `clear` flags. */
void fx_drop(struct fx *fx, int side, uint8_t set, uint8_t clear, int count);
void fx_hold(struct fx *fx, int side, uint8_t set, uint8_t clear, int count);
/* Drop everything in both directions (on) / remove every rule (off). */
void fx_partition(struct fx *fx, bool on);
void fx_clear_rules(struct fx *fx);
void fx_set_filter(struct fx *fx, fx_filter_fn fn);
/* Release / discard every held packet. */
void fx_release_held(struct fx *fx);
void fx_discard_held(struct fx *fx);

/* ---- socket helpers (each asserts its call succeeded) ---------------------------------- */
int fx_socket(struct fx *fx, int side);
/* socket + (SO_REUSEADDR) + bind to the side's address:port + listen(backlog 16). */
int fx_listen(struct fx *fx, int side, uint16_t port, bool reuseaddr);
/* socket + bind(side address, lport) if lport != 0 + connect, asserting -EINPROGRESS; flushes. */
int fx_connect(struct fx *fx, int side, uint16_t lport, uint32_t daddr, uint16_t dport);
/* Listen on 192.0.2.2:80 (fx->lfd), connect from the client, run the handshake, accept.
 * Asserts both ends ESTABLISHED. */
void fx_established(struct fx *fx, int *cfd, int *sfd);
/* Connect a new client socket to the listener fx->lfd and accept it (listener must exist). */
void fx_connect_accept(struct fx *fx, int *cfd, int *sfd);
void fx_close(struct fx *fx, int side, int fd);
void fx_set_linger(struct fx *fx, int side, int fd, int onoff, int secs);
/* getsockopt(SO_ERROR): the positive value. Asserts the call succeeded with an int. */
int fx_so_error(struct fx *fx, int side, int fd);
/* send all of buf (asserts it was all accepted) and flush. */
void fx_send_all(struct fx *fx, int side, int fd, const void *buf, size_t len);

/* ---- crafted segments ----------------------------------------------------------------- */
struct fx_seg {
    uint32_t saddr, daddr;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t win;
    uint16_t mss; /* 0: no option */
    const void *data;
    size_t len;
};
#define FX_SEG(...) ((struct fx_seg){.win = 65535, __VA_ARGS__})
/* RFC 1071 Internet checksum of len bytes, folded and complemented, with an initial sum. */
uint16_t fx_cksum(uint32_t sum, const void *p, size_t len);
/* Build a 20-byte IPv4 header + TCP header (+ MSS option) + payload with correct checksums.
 * Returns the length, 0 if cap is too small. */
size_t fx_build(const struct fx_seg *seg, uint8_t *buf, size_t cap);
/* Build, record as from FX_INJECT, glass_stack_input() into side at the current time, react to
 * events, flush. Returns what glass_stack_input returned. */
int fx_inject(struct fx *fx, int side, const struct fx_seg *seg);

/* ---- packets ---------------------------------------------------------------------------- */
/* Index of the next packet to be recorded: "a mark". */
size_t fx_mark(const struct fx *fx);
/* The n-th (0-based) packet from side (FX_ANY: any) at or after mark, or NULL. */
const struct fx_pkt *fx_nth_pkt(const struct fx *fx, size_t mark, int side, size_t n);
/* The first packet from side at or after mark with all `set` and none of `clear` flags. */
const struct fx_pkt *fx_find_pkt(const struct fx *fx, size_t mark, int side, uint8_t set,
                                 uint8_t clear);
size_t fx_count_pkts(const struct fx *fx, size_t mark, int side, uint8_t set, uint8_t clear);
/* The ISN of the flow src -> dst as learned from its SYN; false if not seen. */
bool fx_flow_iss(const struct fx *fx, uint32_t saddr, uint16_t sport, uint32_t daddr,
                 uint16_t dport, uint32_t *iss);

/* Assert the n-th packet from side after mark: flags (compared ignoring PSH), relative seq and
 * ack, payload length (FX_ANY: don't care). Returns the packet. */
#define FX_ASSERT_PKT(fx, mark, side, n, flags, rseq, rack, len)                                  \
    fx_assert_pkt_at((fx), (mark), (side), (n), (flags), (rseq), (rack), (len), __FILE__, __LINE__)
const struct fx_pkt *fx_assert_pkt_at(struct fx *fx, size_t mark, int side, size_t n, int flags,
                                      int64_t rseq, int64_t rack, int64_t len, const char *file,
                                      int line);
/* Assert the n-th packet from side after mark is a reset: RST set, no SYN/FIN, relative seq
 * rseq, no payload; the ACK bit may be on or off (RFC 9293 §3.10.4 ABORT sends <SEQ=SND.NXT>
 * <CTL=RST>, Linux adds the ACK); if it is on and rack != FX_ANY, the ack must be rack. */
#define FX_ASSERT_RST(fx, mark, side, n, rseq, rack)                                              \
    fx_assert_rst_at((fx), (mark), (side), (n), (rseq), (rack), __FILE__, __LINE__)
const struct fx_pkt *fx_assert_rst_at(struct fx *fx, size_t mark, int side, size_t n, int64_t rseq,
                                      int64_t rack, const char *file, int line);
/* Assert that side sent no packet at or after mark. */
#define FX_ASSERT_NO_PKT(fx, mark, side) fx_assert_no_pkt_at((fx), (mark), (side), __FILE__, __LINE__)
void fx_assert_no_pkt_at(struct fx *fx, size_t mark, int side, const char *file, int line);

/* ---- transitions ------------------------------------------------------------------------ */
/* The first recorded transition at index >= start with these values (FX_ANY: any). */
const struct fx_trans *fx_find_trans(const struct fx *fx, int side, long conn, int from, int to,
                                     int cause, size_t start);
size_t fx_count_trans(const struct fx *fx, int side, long conn, int from, int to, int cause);
/* The last transition of a connection on side, or NULL. */
const struct fx_trans *fx_last_trans(const struct fx *fx, int side, long conn);
/* Assert that (from, to, cause) happened on side after the previously expected transition of
 * that side (in order). Returns it. */
#define FX_EXPECT_TRANS(fx, side, from, to, cause)                                                \
    fx_expect_trans_at((fx), (side), FX_ANY, (from), (to), (cause), __FILE__, __LINE__)
#define FX_EXPECT_TRANS_CONN(fx, side, conn, from, to, cause)                                     \
    fx_expect_trans_at((fx), (side), (conn), (from), (to), (cause), __FILE__, __LINE__)
const struct fx_trans *fx_expect_trans_at(struct fx *fx, int side, long conn, int from, int to,
                                          int cause, const char *file, int line);
#define FX_ASSERT_NO_TRANS(fx, side, from, to)                                                    \
    fx_assert_no_trans_at((fx), (side), (from), (to), __FILE__, __LINE__)
void fx_assert_no_trans_at(struct fx *fx, int side, int from, int to, const char *file, int line);

/* ---- events ----------------------------------------------------------------------------- */
const struct fx_event *fx_find_event(const struct fx *fx, int side, int kind, int fd);
size_t fx_count_events(const struct fx *fx, int side, int kind, int fd);
/* Assert a GLASS_EV_ERROR with err (negative) was reported for fd. */
#define FX_ASSERT_EVENT_ERR(fx, side, fd, err)                                                    \
    fx_assert_event_err_at((fx), (side), (fd), (err), __FILE__, __LINE__)
void fx_assert_event_err_at(struct fx *fx, int side, int fd, int err, const char *file, int line);

/* ---- states, errors, counters ------------------------------------------------------------- */
#define FX_ASSERT_STATE(fx, side, fd, state)                                                      \
    fx_assert_state_at((fx), (side), (fd), (state), __FILE__, __LINE__)
void fx_assert_state_at(struct fx *fx, int side, int fd, int state, const char *file, int line);
/* Compare two return values that are counts or negative error codes; prints errno names. */
#define FX_ASSERT_RET(got, want) fx_assert_ret_at((long)(got), (long)(want), #got, __FILE__, __LINE__)
void fx_assert_ret_at(long got, long want, const char *expr, const char *file, int line);

uint64_t fx_mib(struct fx *fx, int side, int mib);
struct fx_mibs {
    uint64_t v[FX_NSIDES][GLASS_MIB_COUNT];
};
void fx_mib_snap(struct fx *fx, struct fx_mibs *snap);
#define FX_ASSERT_MIB(fx, side, mib, want)                                                        \
    fx_assert_mib_at((fx), (side), (mib), NULL, (uint64_t)(want), __FILE__, __LINE__)
/* Assert that counter mib of side grew by exactly delta since snap. */
#define FX_ASSERT_MIB_DELTA(fx, snap, side, mib, delta)                                           \
    fx_assert_mib_at((fx), (side), (mib), (snap), (uint64_t)(delta), __FILE__, __LINE__)
void fx_assert_mib_at(struct fx *fx, int side, int mib, const struct fx_mibs *snap, uint64_t want,
                      const char *file, int line);

/* ---- diagnostics ------------------------------------------------------------------------ */
/* Print the recorded packets (the last ones if many), transitions and events. */
void fx_dump(const struct fx *fx);
/* Print msg, dump, fail the test at file:line. */
void fx_fail_at(struct fx *fx, const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
#define FX_FAIL(fx, ...) fx_fail_at((fx), __FILE__, __LINE__, __VA_ARGS__)
/* FX_CHECK(fx, cond, fmt, ...): fail with the message (and a dump) unless cond holds. */
#define FX_CHECK(fx, cond, ...) fx_check_at((fx), (cond), #cond, __FILE__, __LINE__, __VA_ARGS__)
void fx_check_at(struct fx *fx, bool ok, const char *expr, const char *file, int line,
                 const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

const char *fx_side_name(int side);

/* FX_CHECK_STACKS(fx): fail unless glass_stack_check() finds both stacks consistent. */
#define FX_CHECK_STACKS(fx) fx_check_stacks_at((fx), __FILE__, __LINE__)
void fx_check_stacks_at(struct fx *fx, const char *file, int line);
/* "ECONNRESET" for -104, "0" for 0, "42" for a count. Uses a small rotating buffer. */
const char *fx_ret_name(long ret);

#endif
