/* glasstcp — the sans-IO stack: feed packets in, take packets out, pass time in. */
#ifndef GLASS_STACK_H
#define GLASS_STACK_H

#include <glass/config.h>
#include <glass/event.h>
#include <glass/stats.h>
#include <glass/trace.h>
#include <glass/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct glass_stack;

/** Create a stack. cfg NULL means glass_config_default(). Returns NULL when out of memory
 *  or when cfg is inconsistent (e.g. ephemeral_lo > ephemeral_hi). */
GLASS_API struct glass_stack *glass_stack_new(const struct glass_config *cfg);
/** Free the stack and everything it owns (no packets are sent). */
GLASS_API void glass_stack_free(struct glass_stack *st);
/** The configuration the stack runs with. */
GLASS_API const struct glass_config *glass_stack_config(const struct glass_stack *st);

/** Add an interface address. prefix_len 0..32; mtu >= 68. Returns the interface index or
 *  -GLASS_EINVAL / -GLASS_ENOBUFS (at most 8 interfaces). */
GLASS_API int glass_stack_add_iface(struct glass_stack *st, uint32_t addr, unsigned prefix_len,
                                    unsigned mtu);

/** Feed one received IPv4 datagram (len is what the device delivered). Returns
 *  GLASS_DROP_NONE (0) if it was processed, else the enum glass_drop_reason it was dropped
 *  for (already counted). `now` must not go backwards. */
GLASS_API int glass_stack_input(struct glass_stack *st, glass_time_t now, const uint8_t *pkt,
                                size_t len);
/** glass_stack_input_flags(): the device has verified the TCP checksum (receive checksum
 *  offload, Linux's CHECKSUM_UNNECESSARY); the stack does not sum the segment again. */
#define GLASS_INPUT_CSUM_OK 1u
/** glass_stack_input() with flags (GLASS_INPUT_*) from the device. */
GLASS_API int glass_stack_input_flags(struct glass_stack *st, glass_time_t now, const uint8_t *pkt,
                                      size_t len, unsigned flags);
/** Take the next IPv4 datagram to send. Returns its length (> 0), 0 when there is nothing to
 *  send, or -GLASS_EMSGSIZE if cap is too small (the packet stays queued). */
GLASS_API long glass_stack_output(struct glass_stack *st, glass_time_t now, uint8_t *buf,
                                  size_t cap);
/** Fire every timer due at or before now. */
GLASS_API void glass_stack_advance(struct glass_stack *st, glass_time_t now);
/** The stack's current time: the latest `now` passed to input/output/advance. Socket calls
 *  act at this time. */
GLASS_API glass_time_t glass_stack_now(const struct glass_stack *st);
/** Earliest timer deadline, GLASS_TIME_NEVER if none; output may also be pending
 *  (glass_stack_has_output). */
GLASS_API glass_time_t glass_stack_next_deadline(struct glass_stack *st);
/** True if glass_stack_output() would return a packet. */
GLASS_API bool glass_stack_has_output(const struct glass_stack *st);
/** Pop the next socket event. Returns false when there is none. */
GLASS_API bool glass_stack_next_event(struct glass_stack *st, struct glass_event *ev);

/** Set the transition observer (called inside glass_tcp_set_state), or NULL. */
GLASS_API void glass_stack_set_observer(struct glass_stack *st, glass_observer_fn fn, void *ctx);
/** Copy up to max recorded transitions (oldest first) from the stack's ring; returns how many
 *  were copied. *dropped (may be NULL) receives how many were overwritten. */
GLASS_API size_t glass_stack_transitions(const struct glass_stack *st, struct glass_transition *out,
                                         size_t max, uint64_t *dropped);
/** How often legal arc i was taken with cause c (c < 0: with any cause). */
GLASS_API uint64_t glass_stack_arc_taken(const struct glass_stack *st, size_t arc, int cause);
/** Connections now in each state (gauges). */
GLASS_API uint32_t glass_stack_in_state(const struct glass_stack *st, int state);
/** A MIB counter (enum glass_mib). */
GLASS_API uint64_t glass_stack_mib(const struct glass_stack *st, int mib);
/** Bytes the stack has allocated now (everything: tables, connections, buffers). */
GLASS_API uint64_t glass_stack_mem_used(const struct glass_stack *st);
/** Packets dropped for a reason (enum glass_drop_reason). */
GLASS_API uint64_t glass_stack_drops(const struct glass_stack *st, int reason);

#ifdef __cplusplus
}
#endif
#endif
