/* glass demo — scenarios and the small runtime their scripts use.
 *
 * A scenario is a script of socket calls at chosen virtual times between two stacks, "client"
 * (192.0.2.1, node 0, drawn on the left) and "server" (192.0.2.2, node 1, on the right), joined
 * by a simnet with a 10 ms one-way delay. The runtime (cmd_demo.c) draws every packet, state
 * transition, socket call and socket event as a ladder diagram, and the script states what must
 * have happened (demo_expect_*); the first unmet expectation makes the scenario FAILED. */
#ifndef GLASS_TOOLS_SCENARIOS_H
#define GLASS_TOOLS_SCENARIOS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glass/config.h>
#include <glass/event.h>
#include <glass/sim.h>
#include <glass/stack.h>
#include <glass/wire.h>

#include "out.h"

enum { DEMO_CLIENT = 0, DEMO_SERVER = 1, DEMO_SIDES = 2 };

#define DEMO_CLIENT_ADDR GLASS_IP4(192, 0, 2, 1)
#define DEMO_SERVER_ADDR GLASS_IP4(192, 0, 2, 2)

/* "Any result": do not check a call's return value. */
#define DEMO_ANY LONG_MIN

#define DEMO_MAX_CONNS 64
#define DEMO_MAX_TRANS 1024
#define DEMO_MAX_ISNS 64
#define DEMO_MAX_DEFER 32
#define DEMO_MAX_PACKETS 600 /* beyond this a scenario is a packet storm: FAILED, link cut */

struct demo;

/* What a scenario's filter sees: the sender and the decoded packet. */
typedef enum glass_sim_verdict (*demo_filter_fn)(struct demo *d, int from_side,
                                                 const struct glass_pkt_summary *s);
/* A scenario's reaction to a socket event; return true to skip the default reaction. */
typedef bool (*demo_event_fn)(struct demo *d, int side, const struct glass_event *ev);

struct scenario {
    const char *name;
    const char *summary; /* one line, for --list */
    const char *explain; /* printed under the title; '\n' separates lines */
    void (*config)(int side, struct glass_config *cfg); /* optional tweaks */
    void (*run)(struct demo *d);
};

extern const struct scenario demo_scenarios[];
extern const size_t demo_scenario_count;

/* ---- runtime state (cmd_demo.c) ---------------------------------------------------------- */

struct demo_conn {
    uint32_t id;
    uint8_t state;
    bool has_tuple;
    struct glass_endpoint local, remote;
};

struct demo_trans {
    int side;
    uint32_t conn;
    uint8_t from, to, cause;
    glass_time_t at;
};

struct demo_isn {
    struct glass_endpoint src, dst;
    uint32_t isn;
    int8_t wscale; /* the window scale src announced in its SYN, -1 if none */
};

struct demo_side {
    struct demo *owner; /* for callbacks whose ctx is the side */
    int index;          /* DEMO_CLIENT or DEMO_SERVER */
    const char *name;
    struct glass_stack *st;
    int node;
    int fd;  /* the connection's socket (client socket, or the server's last accepted one) */
    int lfd; /* listener, or -1 */

    /* Default reactions to socket events (scripts may change them). */
    bool auto_accept;    /* ACCEPTABLE: accept() (fd = the new socket) */
    bool auto_read;      /* READABLE/RDHUP: recv() until EAGAIN or end of stream */
    bool close_on_rdhup; /* RDHUP: close() inside the callback (its FIN rides on the ACK) */

    /* What the application saw. */
    int n_connected, n_accepted, n_rdhup, n_hup, n_errors;
    int last_err;       /* err of the last ERROR event, 0 if none */
    uint64_t rx_bytes;  /* bytes read by recv() */
    int eof_fd;         /* socket whose end of stream was already read, or -1 */
    uint64_t tx_fins, tx_syns, tx_data, tx_packets; /* packets this side sent */

    struct demo_conn conns[DEMO_MAX_CONNS];
    int n_conns;
    uint64_t obs_arc[64]; /* transitions seen by the observer, per arc */
    uint64_t obs_illegal;
};

struct demo_pending {
    bool active;
    uint64_t id;
    int from, to;
    glass_time_t t;
    size_t len;
    bool decoded;
    struct glass_pkt_summary s;
    const char *st_from, *st_to;
    int fate; /* enum pkt_fate in cmd_demo.c */
};

struct demo {
    const struct scenario *sc;
    uint64_t seed;
    bool json;
    struct glass_simnet *net;
    struct demo_side side[DEMO_SIDES];

    bool failed;
    char why[256];

    /* The scenario's filter and event hook, and scratch state for them. */
    demo_filter_fn filter;
    demo_event_fn on_event;
    int fstate[8];

    /* Bookkeeping. */
    struct demo_trans trans[DEMO_MAX_TRANS];
    size_t n_trans;
    struct demo_isn isns[DEMO_MAX_ISNS];
    size_t n_isns;
    uint64_t n_packets;
    bool storm;
    uint64_t verdict_id;
    enum glass_sim_verdict verdict;

    /* A socket call in progress: its transitions are printed after the call line. */
    bool in_call;
    struct glass_transition deferred[DEMO_MAX_DEFER];
    int deferred_side[DEMO_MAX_DEFER];
    size_t n_deferred;

    struct demo_pending pending;
    struct out_buf out;   /* text lines, or the JSON events array */
    bool first_event;     /* JSON: no comma before the next event */
};

/* ---- script helpers (cmd_demo.c) ----------------------------------------------------------- */

/* Run the simulation up to t milliseconds of virtual time. */
void demo_at(struct demo *d, uint64_t ms);
/* A narrative line in the ladder. */
void demo_note(struct demo *d, const char *fmt, ...) OUT_PRINTF(2, 3);

/* Socket calls, printed with their results. `expect` is the required return value, or
 * DEMO_ANY; a different result makes the scenario FAILED. Ports are on the side's own address
 * (bind) or the other side's address (connect). */
int demo_socket(struct demo *d, int side);
int demo_reuseaddr(struct demo *d, int side, int fd);
int demo_linger0(struct demo *d, int side, int fd);
int demo_bind(struct demo *d, int side, int fd, uint16_t port, long expect);
int demo_listen(struct demo *d, int side, int fd, int backlog, long expect);
int demo_connect(struct demo *d, int side, int fd, uint16_t port, long expect);
int demo_accept(struct demo *d, int side, int lfd, long expect);
long demo_send(struct demo *d, int side, int fd, const char *text, long expect);
long demo_recv(struct demo *d, int side, int fd, long expect);
int demo_shutdown(struct demo *d, int side, int fd, int how, long expect);
int demo_close(struct demo *d, int side, int fd, long expect);

/* Expectations: the first one that fails sets the scenario's FAILED reason. */
bool demo_expect(struct demo *d, bool cond, const char *fmt, ...) OUT_PRINTF(3, 4);
/* side went from -> to with cause (cause < 0: any) at least once. */
bool demo_expect_arc(struct demo *d, int side, int from, int to, int cause);
/* ... never. */
bool demo_expect_no_arc(struct demo *d, int side, int from, int to);
/* The last ERROR event of side carried err (negative). */
bool demo_expect_error(struct demo *d, int side, int err);
/* A socket's state (glass_sock_state). */
bool demo_expect_sock_state(struct demo *d, int side, int fd, int state);
/* Every connection on both stacks is gone or CLOSED (listeners excepted). */
bool demo_expect_all_closed(struct demo *d);

/* How often side went from -> to with cause (cause < 0: any; from/to < 0: any). */
unsigned demo_saw(const struct demo *d, int side, int from, int to, int cause);
/* Time of the n-th (0-based) such transition, or GLASS_TIME_NEVER. */
glass_time_t demo_saw_at(const struct demo *d, int side, int from, int to, int cause,
                         unsigned n);

#endif
