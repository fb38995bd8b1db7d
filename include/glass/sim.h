/* glasstcp — a deterministic simulated network: stacks in one process, one virtual clock.
 *
 * The simnet owns a virtual clock and a link that carries IPv4 datagrams between the attached
 * stacks with a fixed one-way delay (plus per-packet verdicts from an optional filter). It
 * delivers packets and fires timers in time order; ties are broken by the order packets were
 * sent, then by node index, so the same inputs give the same packets byte for byte. */
#ifndef GLASS_SIM_H
#define GLASS_SIM_H

#include <glass/event.h>
#include <glass/stack.h>
#include <glass/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct glass_simnet;

struct glass_simnet_config {
    uint64_t seed;       /**< PRNG for the link (random loss); stacks have their own seeds */
    glass_time_t delay;  /**< one-way delay; default 10 ms */
    double loss;         /**< probability each packet is dropped; default 0 */
    uint32_t max_in_flight; /**< packets on the link at once; beyond: dropped; default 65536 */
};

/** A packet on the simulated link. */
struct glass_sim_packet {
    uint64_t id;          /**< 1, 2, 3 ... in send order */
    int from, to;         /**< node indexes; to = -1 if no node has the destination address */
    glass_time_t sent_at; /**< when the sender's stack emitted it */
    glass_time_t deliver_at;
    const uint8_t *data;
    size_t len;
};

enum glass_sim_verdict {
    GLASS_SIM_PASS = 0, /**< deliver after the link delay */
    GLASS_SIM_DROP,     /**< lose it */
    GLASS_SIM_HOLD,     /**< keep it until glass_simnet_release() */
};

enum glass_sim_pkt_event {
    GLASS_SIM_SENT,      /**< a stack emitted it (verdict applied after) */
    GLASS_SIM_DELIVERED, /**< handed to the destination stack */
    GLASS_SIM_DROPPED,   /**< lost (filter, random loss, no destination, link full) */
    GLASS_SIM_HELD,      /**< held by the filter */
};

typedef enum glass_sim_verdict (*glass_simnet_filter_fn)(void *ctx,
                                                          const struct glass_sim_packet *p);
typedef void (*glass_simnet_tap_fn)(void *ctx, const struct glass_sim_packet *p,
                                    enum glass_sim_pkt_event what);
/** Called for each socket event of a node's stack, after a packet was delivered to it or its
 *  timers fired, and before its output is drained: an application reacting at once (e.g.
 *  closing on RDHUP) gets its FIN into the same segment as the pending ACK. */
typedef void (*glass_simnet_app_fn)(void *ctx, struct glass_simnet *net, int node,
                                    const struct glass_event *ev);

/** Defaults for a config. */
GLASS_API void glass_simnet_config_default(struct glass_simnet_config *cfg);
GLASS_API struct glass_simnet *glass_simnet_new(const struct glass_simnet_config *cfg);
/** Frees the simnet and its queued packets, not the stacks. */
GLASS_API void glass_simnet_free(struct glass_simnet *net);
/** Attach a stack reachable at addr (also added as the stack's interface, /24, MTU 1500).
 *  Returns the node index (0, 1, ...) or a negative error. */
GLASS_API int glass_simnet_attach(struct glass_simnet *net, struct glass_stack *st, uint32_t addr);
GLASS_API struct glass_stack *glass_simnet_stack(struct glass_simnet *net, int node);
GLASS_API void glass_simnet_set_filter(struct glass_simnet *net, glass_simnet_filter_fn fn,
                                       void *ctx);
GLASS_API void glass_simnet_set_tap(struct glass_simnet *net, glass_simnet_tap_fn fn, void *ctx);
GLASS_API void glass_simnet_set_app(struct glass_simnet *net, int node, glass_simnet_app_fn fn,
                                    void *ctx);
/** Change the one-way delay for packets sent from now on. */
GLASS_API void glass_simnet_set_delay(struct glass_simnet *net, glass_time_t delay);
GLASS_API glass_time_t glass_simnet_now(const struct glass_simnet *net);
/** Drain every stack's pending output onto the link at the current time (call after socket
 *  calls made outside an app callback). */
GLASS_API void glass_simnet_flush(struct glass_simnet *net);
/** Process the next event (delivery or timer) at or before `limit`. Returns false if there is
 *  none; the clock then stays where it is. */
GLASS_API bool glass_simnet_step(struct glass_simnet *net, glass_time_t limit);
/** Flush, then process every event up to time t, then set the clock to t. */
GLASS_API void glass_simnet_run_until(struct glass_simnet *net, glass_time_t t);
GLASS_API void glass_simnet_run_for(struct glass_simnet *net, glass_time_t dt);
/** Send a held packet now (it arrives after the current delay). -GLASS_EINVAL if unknown. */
GLASS_API int glass_simnet_release(struct glass_simnet *net, uint64_t id);
/** Drop a held packet. */
GLASS_API int glass_simnet_discard(struct glass_simnet *net, uint64_t id);
/** Packets on the link (not yet delivered), and held. */
GLASS_API size_t glass_simnet_in_flight(const struct glass_simnet *net);
GLASS_API size_t glass_simnet_held(const struct glass_simnet *net);
/** FNV-1a 64 hash over every packet sent (time, nodes, bytes): equal seeds, equal hashes. */
GLASS_API uint64_t glass_simnet_trace_hash(const struct glass_simnet *net);

#ifdef __cplusplus
}
#endif
#endif
