/* glass CLI — the application of a simulated bulk transfer, shared by `glass sim`
 * (cmd_sim.c) and tests/sim/test_sim_soak.c, so that a soak failure replays with the command.
 *
 * Two stacks, client 192.0.2.1 and server 192.0.2.2, on a glass_simnet in virtual time. The
 * client connects, sends `bytes` bytes of a pseudo-random stream (util/stream.h: byte i is a
 * function of the key and i alone, so both ends generate and check it in O(1) memory), shuts
 * down its sending side, reads until the server's FIN and closes; the server reads everything
 * and closes after EOF (with duplex it sends its own stream at the same time and shuts down
 * when done). The receivers may be paced (read_rate) or stop reading for a while (pause_at,
 * pause_ms). Every byte read is checked as it arrives:
 *   - never more than the peer has handed to send() (and than the stream's length);
 *   - each byte is the stream's byte at its offset (no loss inside the prefix, no duplication,
 *     no corruption);
 *   - recv() returns end of stream only after every byte, and then 0 again.
 * A check that fails, or a call that fails, is reported through hooks.fail; the driver goes on
 * (the caller decides when to stop), so that a run behaves the same whoever watches it.
 *
 * The caller owns the loop: simdrive_open(), what it needs (a tap, a pcap), simdrive_start(),
 * then glass_simnet_step() until simdrive_finished(), with simdrive_tick() at simdrive_wake()
 * when nothing else is due (a paced reader looks at its socket at its own times). */
#ifndef GLASS_TOOLS_SIMDRIVE_H
#define GLASS_TOOLS_SIMDRIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glass/config.h>
#include <glass/sim.h>
#include <glass/trace.h>
#include <glass/types.h>

#define SIMDRIVE_CLIENT 0
#define SIMDRIVE_SERVER 1
#define SIMDRIVE_SIDES 2
#define SIMDRIVE_PORT 5201
#define SIMDRIVE_CHUNK (256u * 1024u)     /* bytes generated / read per call */
#define SIMDRIVE_READ_TICK GLASS_MSEC(10) /* a paced reader looks again this often */
#define SIMDRIVE_MAX_CONNS 16             /* connections tracked per stack (observer) */

/* The run's options, as `glass sim` spells them (docs/simulator.md). */
struct simdrive_opts {
    uint64_t bytes;
    bool duplex;
    double loss, dup, reorder, corrupt; /* probabilities 0..1 */
    uint32_t reorder_max;
    double delay_ms, jitter_ms;
    double rate_mbit; /* 0: no bottleneck */
    uint32_t queue;   /* packets; 0: unbounded */
    double spike_every_ms, spike_len_ms;
    unsigned mss; /* used when mss_set */
    bool mss_set;
    enum glass_cc_algo cc; /* used when cc_set */
    bool cc_set;
    uint64_t seed;
    bool copy;            /* glass_send/glass_recv instead of the zero-copy calls (--copy) */
    bool no_offload;      /* the stacks compute and check every checksum (--no-offload) */
    uint32_t tso_max;     /* glass_config.tso_max of both stacks (--tso N); 0 off */
    uint32_t buf;         /* socket buffers, both directions */
    uint64_t read_rate;   /* receivers read at most this many bytes per second (0: no limit) */
    uint64_t pause_at;    /* receivers stop reading after this many bytes ... */
    double pause_ms;      /* ... for this long (0: never) */
    unsigned syn_retries; /* 0: the stack's default */
    unsigned retries;     /* retries2; 0: the stack's default */
};

/* A connection a stack's observer has seen, the last state it entered and why. */
struct simdrive_conn {
    uint32_t conn;
    int last;
    int last_cause; /* enum glass_tcp_cause of that transition */
    bool time_wait; /* it went through TIME_WAIT */
};

struct simdrive;

struct simdrive_side {
    struct simdrive *d;
    int idx; /* SIMDRIVE_CLIENT or SIMDRIVE_SERVER */
    struct glass_stack *st;
    int node;
    int fd, lfd;
    uint64_t tx_key, rx_key; /* stream keys: what this side sends, what it receives */
    uint64_t tx_total, tx_done;
    uint8_t *txb; /* generated stream bytes [txb_off, txb_off + txb_len) (copy mode) */
    uint64_t txb_off;
    size_t txb_len, txb_pos; /* txb_pos: next byte to send */
    bool shut_when_sent;     /* shutdown(SHUT_WR) once everything is sent */
    bool shut, closed, eof;
    uint64_t rx_expect, rx_done;
    glass_time_t rx_last_at; /* when the last byte was read */
    bool paused;             /* the read pause has started */
    bool resumed;            /* ... and the application has looked at its socket after it */
    glass_time_t pause_end;
    long conn_id; /* connection behind fd, -1 until known */
    struct simdrive_conn conns[SIMDRIVE_MAX_CONNS];
    size_t n_conns;
};

/* What differs between the users. Every hook may be NULL. */
struct simdrive_hooks {
    /* A check or a call failed; msg is one line without a newline ("client: recv() = ..."). */
    void (*fail)(void *ctx, const char *msg);
    /* A stack changed a connection's state; called before the driver records it. */
    void (*transition)(void *ctx, const struct simdrive_side *sd, const struct glass_transition *t);
    /* Adjust a stack's configuration before glass_stack_new() (an allocator, say). */
    void (*configure)(void *ctx, int side, struct glass_config *cfg);
    void *ctx;
};

struct simdrive {
    const struct simdrive_opts *o;
    struct simdrive_hooks hooks;
    struct glass_simnet_config ncfg; /* what the network was made with */
    struct glass_simnet *net;
    struct simdrive_side side[SIMDRIVE_SIDES];
    uint8_t *rbuf;   /* SIMDRIVE_CHUNK bytes (copy mode) */
    glass_time_t t0; /* the connect */
};

/* glass sim's defaults: seed 1, delay 10 ms, reorder by up to 3, spikes of 1500 ms (when
 * spike_every_ms is set), CUBIC, 1 MiB buffers; nothing else. */
void simdrive_opts_default(struct simdrive_opts *o);

/* Virtual time of ms milliseconds, rounded to the nanosecond. */
glass_time_t simdrive_ms(double ms);
/* The k-th seed derived from the run's seed (0: the network, 1/2: the stacks, 3/4: streams). */
uint64_t simdrive_seed(uint64_t seed, uint64_t k);

/* Make the network and both stacks (all of *d is set; o and hooks must outlive it). 0, or -1
 * with a one-line reason in err; either way simdrive_close() frees what was made. */
int simdrive_open(struct simdrive *d, const struct simdrive_opts *o,
                  const struct simdrive_hooks *hooks, char *err, size_t errcap);
/* The server listens, the client connects (t0 = now). 0, or -1 with a reason in err. */
int simdrive_start(struct simdrive *d, char *err, size_t errcap);

/* When the earlier paced reader next wants to look at its socket without an event, or NEVER. */
glass_time_t simdrive_wake(const struct simdrive *d);
/* Nothing else is due before wake: run the network to it and let both sides work. */
void simdrive_tick(struct simdrive *d, glass_time_t wake);
/* Both sides closed their sockets and saw their connection reach CLOSED. */
bool simdrive_finished(const struct simdrive *d);

/* The side's connection as its observer saw it, or NULL. */
const struct simdrive_conn *simdrive_side_conn(const struct simdrive_side *sd);
/* Name of the state its connection is in, or "none". */
const char *simdrive_side_state(const struct simdrive_side *sd);
/* The same, with the cause of the transition into it when the observer saw one: "CLOSED after
 * retrans_timeout" (for verdicts on runs that did not finish); buf of n bytes, returned. */
const char *simdrive_side_how(const struct simdrive_side *sd, char *buf, size_t n);
/* "client" or "server". */
const char *simdrive_side_name(int idx);

/* Free the stacks (observers detached first), the network and the buffers. */
void simdrive_close(struct simdrive *d);

#endif
