/** @file
 * glasstcp — a deterministic simulated network: stacks in one process, one virtual clock.
 *
 * The simnet owns a virtual clock and a link that carries IPv4 datagrams between the attached
 * stacks, and fires the stacks' timers. Every packet a stack emits goes through the same
 * pipeline, per direction (from node, to node), each step drawing from that direction's PRNG
 * (seeded from `seed`) only when its knob is non-zero:
 *
 *   filter verdict -> loss -> bottleneck queue (tail drop at queue_pkts) and serialization at
 *   rate_bps -> copies (the original, plus a duplicate with probability dup), each with:
 *   delay + jitter (FIFO: jitter never reorders) -> delay spikes -> corruption (one random bit
 *   flipped with probability corrupt) -> reordering (with probability reorder, the copy is
 *   overtaken by 1..reorder_max later packets of its direction)
 *
 * Deliveries and timers happen in time order; simultaneous deliveries in send order (a
 * reordered copy right after the packet that overtook it, a duplicate right after its
 * original), then timers in node order. The same inputs and seed give the same packets, byte
 * for byte, and the same trace hash. */
#ifndef GLASS_SIM_H
#define GLASS_SIM_H

#include <glass/event.h>
#include <glass/stack.h>
#include <glass/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A simulated network: a virtual clock, attached stacks and the link between them. Opaque;
 *  made by glass_simnet_new(). */
struct glass_simnet;

/** The link's parameters (glass_simnet_config_default() fills the defaults). */
struct glass_simnet_config {
    uint64_t seed;       /**< PRNG for the link (impairments); stacks have their own seeds */
    glass_time_t delay;  /**< one-way propagation delay; default 10 ms */
    double loss;         /**< probability each packet is dropped; default 0 */
    uint32_t max_in_flight; /**< packets on the link at once; beyond: dropped; default 65536 */

    /* Impairments (robustness README §5.2). All default to 0 = off. Probabilities are in
     * [0, 1]; glass_simnet_new() returns NULL for values out of range. */
    double dup;          /**< probability a packet is duplicated (the copy arrives just after) */
    double reorder;      /**< probability a packet is overtaken by 1..reorder_max later ones */
    uint32_t reorder_max; /**< how many later packets may overtake it; default 3. A reordered
                               packet is released right after the k-th later packet of its
                               direction, or at the latest k * max(1 ms, its serialization
                               time) after it would have arrived */
    double corrupt;      /**< probability one random bit of a packet is flipped */
    glass_time_t jitter; /**< extra delay, uniform in [0, jitter]; packets stay in order */
    uint64_t rate_bps;   /**< bottleneck rate: packets are serialized one after another at
                              this many bits per second; 0 = infinitely fast */
    uint32_t queue_pkts; /**< bottleneck queue capacity in packets (with rate_bps): a packet
                              arriving when queue_pkts are waiting or being serialized is
                              dropped (tail drop); 0 = unbounded (max_in_flight) */
    glass_time_t spike_every; /**< delay spikes: one in each window [n, n+1) * spike_every of
                                   virtual time, at a random point (from the seed) ... */
    glass_time_t spike_len;   /**< ... the link stalls for spike_len: packets due during the
                                   stall arrive when it ends. Must be < spike_every */
    uint32_t mtu;        /**< MTU of the interfaces glass_simnet_attach() adds; default 1500 */
    bool csum_offload;   /**< the simulated NICs offload TCP checksums, as veth does: a copy
                              delivered intact is input with GLASS_INPUT_CSUM_OK, and the
                              checksum of a packet from a stack with tx_csum_offload is filled
                              in (glass_tcp_csum_fill) only when bytes are looked at or changed:
                              a tap or filter is set, or the copy is corrupted (so a corrupted
                              copy is still caught by the receiver's check). Default false */
};

/** Counters of what the link did (glass_simnet_stats()). */
struct glass_simnet_stats {
    uint64_t sent;        /**< packets the stacks emitted */
    uint64_t sent_bytes;  /**< bytes of those packets */
    uint64_t delivered;   /**< copies handed to a stack (duplicates included) */
    uint64_t delivered_bytes; /**< bytes of those copies */
    uint64_t dropped;     /**< every drop, all reasons below */
    uint64_t filtered;    /**< dropped by the filter (or discarded when held) */
    uint64_t lost;        /**< dropped by random loss */
    uint64_t queue_drops; /**< tail-dropped at the bottleneck queue */
    uint64_t link_full;   /**< dropped: max_in_flight reached, or out of memory */
    uint64_t no_route;    /**< dropped: no node has the destination address */
    uint64_t duplicated;  /**< extra copies made */
    uint64_t corrupted;   /**< copies with a flipped bit */
    uint64_t reordered;   /**< copies that let later packets overtake them */
    uint64_t spiked;      /**< copies held back by a delay spike */
    uint32_t queue_max;   /**< deepest bottleneck queue seen, packets */
    uint64_t tso_segs;    /**< TSO super-segments a stack emitted (config tso_max), each cut
                               into MSS-sized packets at send time, as a NIC does (the pieces
                               are counted in sent) */
};

/* glass_sim_packet.flags: what the link did to this copy. */
#define GLASS_SIM_PKT_DUP 0x01u       /**< a duplicate made by the link (no SENT event) */
#define GLASS_SIM_PKT_CORRUPT 0x02u   /**< one bit flipped */
#define GLASS_SIM_PKT_REORDERED 0x04u /**< overtaken by later packets */
#define GLASS_SIM_PKT_SPIKED 0x08u    /**< held back by a delay spike */

/** Why a packet was dropped (glass_sim_packet.drop, with GLASS_SIM_DROPPED). */
enum glass_sim_drop {
    GLASS_SIM_DROP_NONE = 0,
    GLASS_SIM_DROP_FILTER,  /**< the filter's verdict, or a held packet discarded */
    GLASS_SIM_DROP_LOSS,    /**< random loss */
    GLASS_SIM_DROP_QUEUE,   /**< bottleneck queue full */
    GLASS_SIM_DROP_FULL,    /**< max_in_flight reached or out of memory */
    GLASS_SIM_DROP_NOROUTE, /**< no node has the destination address */
};

/** A packet on the simulated link. */
struct glass_sim_packet {
    uint64_t id;          /**< 1, 2, 3 ... in send order (a duplicate gets the next free id) */
    int from,             /**< node index of the sender */
        to;               /**< node index of the receiver; -1 if no node has the destination */
    glass_time_t sent_at; /**< when the sender's stack emitted it */
    glass_time_t deliver_at; /**< when it arrives (or would have) */
    const uint8_t *data;  /**< the IPv4 datagram; valid during the callback only */
    size_t len;           /**< its length */
    uint32_t flags;       /**< GLASS_SIM_PKT_* (DELIVERED, DROPPED) */
    uint64_t dup_of;      /**< GLASS_SIM_PKT_DUP: the id of the original */
    uint8_t drop;         /**< enum glass_sim_drop (DROPPED) */
};

/** What a filter (glass_simnet_set_filter()) decides for a packet. */
enum glass_sim_verdict {
    GLASS_SIM_PASS = 0, /**< deliver after the link delay */
    GLASS_SIM_DROP,     /**< lose it */
    GLASS_SIM_HOLD,     /**< keep it until glass_simnet_release() */
};

/** What happened to a packet, as a tap (glass_simnet_set_tap()) sees it. */
enum glass_sim_pkt_event {
    GLASS_SIM_SENT,      /**< a stack emitted it (verdict applied after) */
    GLASS_SIM_DELIVERED, /**< handed to the destination stack */
    GLASS_SIM_DROPPED,   /**< lost (filter, random loss, queue, no destination, link full) */
    GLASS_SIM_HELD,      /**< held by the filter */
};

/** A filter: called for every packet a stack emits (duplicates made by the link excepted),
 *  before the impairments; decides whether it passes, is dropped or is held. */
typedef enum glass_sim_verdict (*glass_simnet_filter_fn)(void *ctx,
                                                          const struct glass_sim_packet *p);
/** A tap: sees every packet event on the link (sent, delivered, dropped, held), e.g. to write a
 *  capture. It must not call back into the simnet. */
typedef void (*glass_simnet_tap_fn)(void *ctx, const struct glass_sim_packet *p,
                                    enum glass_sim_pkt_event what);
/** Called for each socket event of a node's stack, after a packet was delivered to it or its
 *  timers fired, and before its output is drained: an application reacting at once (e.g.
 *  closing on RDHUP) gets its FIN into the same segment as the pending ACK. */
typedef void (*glass_simnet_app_fn)(void *ctx, struct glass_simnet *net, int node,
                                    const struct glass_event *ev);

/** Fill @p cfg with the defaults: every impairment off, delay 10 ms, MTU 1500, seed 1,
 *  max_in_flight 65536, reorder_max 3. */
GLASS_API void glass_simnet_config_default(struct glass_simnet_config *cfg);
/** Create a simulated network at virtual time 0 with no node attached. @p cfg NULL means the
 *  defaults.
 *  @return the simnet, or NULL when out of memory or when @p cfg is out of range (a probability
 *          outside [0, 1], spike_len >= spike_every, max_in_flight 0, mtu outside 68..65535). */
GLASS_API struct glass_simnet *glass_simnet_new(const struct glass_simnet_config *cfg);
/** Free the simnet and the packets on its link, not the stacks (free them after). NULL is
 *  allowed. */
GLASS_API void glass_simnet_free(struct glass_simnet *net);
/** Attach a stack reachable at @p addr: the address is added as the stack's interface (/24,
 *  the config's MTU) and the stack's clock moves to the simnet's.
 *  @return the node index (0, 1, ...).
 *  @retval -GLASS_EINVAL @p net or @p st is NULL, @p addr is 0, or the stack is attached already.
 *  @retval -GLASS_EADDRINUSE another node has @p addr.
 *  @retval -GLASS_ENOBUFS the simnet has 16 nodes already, or the stack has 8
 *          interfaces. */
GLASS_API int glass_simnet_attach(struct glass_simnet *net, struct glass_stack *st, uint32_t addr);
/** The stack of node @p node, or NULL if there is no such node. */
GLASS_API struct glass_stack *glass_simnet_stack(struct glass_simnet *net, int node);
/** Set the filter (NULL removes it); see glass_simnet_filter_fn. */
GLASS_API void glass_simnet_set_filter(struct glass_simnet *net, glass_simnet_filter_fn fn,
                                       void *ctx);
/** Set the tap (NULL removes it); see glass_simnet_tap_fn. */
GLASS_API void glass_simnet_set_tap(struct glass_simnet *net, glass_simnet_tap_fn fn, void *ctx);
/** Set node @p node's application callback (NULL removes it); see glass_simnet_app_fn. Without
 *  one, the node's events stay queued in its stack for glass_stack_next_event(). */
GLASS_API void glass_simnet_set_app(struct glass_simnet *net, int node, glass_simnet_app_fn fn,
                                    void *ctx);
/** Change the one-way delay for packets sent from now on. */
GLASS_API void glass_simnet_set_delay(struct glass_simnet *net, glass_time_t delay);
/** The virtual clock (nanoseconds since glass_simnet_new()). */
GLASS_API glass_time_t glass_simnet_now(const struct glass_simnet *net);
/** Drain every stack's pending output onto the link at the current time. Call it after socket
 *  calls made outside an app callback (the run functions do it too). */
GLASS_API void glass_simnet_flush(struct glass_simnet *net);
/** Process the next event (a delivery or a timer) due at or before @p limit, moving the clock
 *  to its time.
 *  @return true if one was processed, false if there is none (the clock then stays). */
GLASS_API bool glass_simnet_step(struct glass_simnet *net, glass_time_t limit);
/** Flush, then process every event up to time @p t, then set the clock to @p t (a @p t in the
 *  past leaves it where it is). Called from inside a callback it returns at once. */
GLASS_API void glass_simnet_run_until(struct glass_simnet *net, glass_time_t t);
/** glass_simnet_run_until(now + @p dt). */
GLASS_API void glass_simnet_run_for(struct glass_simnet *net, glass_time_t dt);
/** Send a held packet now (it arrives after the current delay, without further impairments).
 *  @return 0.
 *  @retval -GLASS_EINVAL no packet with this id is held.
 *  @retval -GLASS_ENOBUFS the link is full: the packet is dropped (counted as link_full). */
GLASS_API int glass_simnet_release(struct glass_simnet *net, uint64_t id);
/** Drop a held packet (counted as filtered).
 *  @return 0.
 *  @retval -GLASS_EINVAL no packet with this id is held. */
GLASS_API int glass_simnet_discard(struct glass_simnet *net, uint64_t id);
/** Packets on the link, not yet delivered. */
GLASS_API size_t glass_simnet_in_flight(const struct glass_simnet *net);
/** Packets held by the filter, waiting for glass_simnet_release() or glass_simnet_discard(). */
GLASS_API size_t glass_simnet_held(const struct glass_simnet *net);
/** A 64-bit hash over every packet sent (time, nodes, length, bytes) and every copy the link
 *  queued (delivery time, flags): equal seeds and inputs, equal hashes. */
GLASS_API uint64_t glass_simnet_trace_hash(const struct glass_simnet *net);
/** Copy the link's counters so far into @p out. */
GLASS_API void glass_simnet_stats(const struct glass_simnet *net, struct glass_simnet_stats *out);

#ifdef __cplusplus
}
#endif
#endif
