/** @file
 * glasstcp — the sans-IO stack: feed packets in, take packets out, pass time in. */
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

/** A TCP/IPv4 stack: its interfaces, sockets, connections, timers and counters. Opaque; made
 *  by glass_stack_new(). Not thread-safe: one thread calls into one stack at a time. */
struct glass_stack;

/** Create a stack.
 *  @p cfg NULL means glass_config_default(); the stack keeps a copy. Randomness (ISNs, ports)
 *  comes from cfg->seed only, so equal seeds and inputs give equal outputs.
 *  @return the stack, or NULL when out of memory or when @p cfg is inconsistent (e.g.
 *          ephemeral_lo > ephemeral_hi, mss outside 64..the packet slot, rto_min > rto_max, a zero
 *          buffer, ring or table size). */
GLASS_API struct glass_stack *glass_stack_new(const struct glass_config *cfg);
/** Free the stack and everything it owns, connections in every state included; nothing is sent
 *  (no FIN, no RST). NULL is allowed. The handles and pointers it gave out become invalid. */
GLASS_API void glass_stack_free(struct glass_stack *st);
/** The configuration the stack runs with (its own copy). */
GLASS_API const struct glass_config *glass_stack_config(const struct glass_stack *st);

/** Add an interface address with its prefix and MTU. Datagrams to this address are ours; the
 *  prefix decides which destinations are reachable (there is no other route).
 *  @return the interface index (0, 1, ...).
 *  @retval -GLASS_EINVAL @p addr is 0, @p prefix_len > 32, or @p mtu outside 68..65535.
 *  @retval -GLASS_ENOBUFS the stack has 8 interfaces already. */
GLASS_API int glass_stack_add_iface(struct glass_stack *st, uint32_t addr, unsigned prefix_len,
                                    unsigned mtu);

/** Feed one received IPv4 datagram (@p len is what the device delivered; the packet is not
 *  kept after the call). Moves the stack's time to @p now first; `now` never goes backwards (an
 *  earlier value is ignored). Replies (ACKs, RSTs, ICMP) are queued for glass_stack_output();
 *  socket events for glass_stack_next_event().
 *  @return GLASS_DROP_NONE (0) if the datagram was processed, else the enum glass_drop_reason it
 *          was dropped for (already counted in glass_stack_drops() and the MIB). Never fails
 *          otherwise: malformed input is a drop reason. */
GLASS_API int glass_stack_input(struct glass_stack *st, glass_time_t now, const uint8_t *pkt,
                                size_t len);
/** glass_stack_input_flags(): the device has verified the TCP checksum (receive checksum
 *  offload, Linux's CHECKSUM_UNNECESSARY); the stack does not sum the segment again. */
#define GLASS_INPUT_CSUM_OK 1u
/** glass_stack_input() with flags (GLASS_INPUT_*) from the device. */
GLASS_API int glass_stack_input_flags(struct glass_stack *st, glass_time_t now, const uint8_t *pkt,
                                      size_t len, unsigned flags);
/** Take the next IPv4 datagram to send, building segments from the connections' queues as
 *  needed. Call it until it returns 0 after every input, advance and socket call.
 *  @return the datagram's length (> 0), copied to @p buf; 0 when
 *          there is nothing to send.
 *  @retval -GLASS_EMSGSIZE @p cap is smaller than the next datagram (it stays queued). */
GLASS_API long glass_stack_output(struct glass_stack *st, glass_time_t now, uint8_t *buf,
                                  size_t cap);
/** One datagram taken with glass_stack_output_sg(): on the wire it is @p buf[0..len) followed
 *  by @ref payload[0..payload_len). */
struct glass_output {
    /** Bytes written to the caller's buffer: the whole datagram when @ref payload is NULL, else
     *  its IPv4 and TCP headers. */
    size_t len;
    /** NULL, or the TCP payload left in place in the connection's send buffer (not copied):
     *  valid until the next call on the stack. */
    const uint8_t *payload;
    /** Bytes at @ref payload (0 when it is NULL). */
    size_t payload_len;
    /** 0, or the datagram is a TSO super-segment (config tso_max): its payload is to go out
     *  in pieces of gso_size bytes (the MSS; the last piece may be shorter), each behind a copy
     *  of the headers with the sequence number, IPv4 identification, lengths and checksums
     *  rewritten, FIN and PSH only on the last (glass_tso_piece() does it; a virtio-net
     *  device takes it whole with VIRTIO_NET_HDR_GSO_TCPV4). Its TCP checksum field always
     *  holds the pseudo-header sum of the whole segment, as with config tx_csum_offload. */
    size_t gso_size;
};
/** glass_stack_output() without copying the payload (scatter-gather output, as a NIC's
 *  descriptor list): the headers are built into @p buf and a TCP segment's payload is referenced
 *  in the send buffer, so the device (or an in-memory link) copies it once, straight to where
 *  it goes (writev(2), glass_stack_input_sg()). A payload that wraps around the end of the send
 *  buffer is copied into @p buf instead (@ref glass_output.payload NULL), so @p cap must hold a
 *  whole datagram as for glass_stack_output(). The TCP checksum covers the payload where it
 *  lies (or is left partial with config tx_csum_offload). With config tso_max the datagram may
 *  be a TSO super-segment, larger than the MTU but never than @p cap (@ref glass_output.gso_size
 *  says so; the device cuts it into MSS-sized datagrams).
 *  @return the datagram's length (> 0; @p out says where its parts are); 0 when there is
 *          nothing to send.
 *  @retval -GLASS_EMSGSIZE @p cap is smaller than the next datagram (it stays queued).
 *  @retval -GLASS_EFAULT @p out is NULL. */
GLASS_API long glass_stack_output_sg(struct glass_stack *st, glass_time_t now, uint8_t *buf,
                                     size_t cap, struct glass_output *out);
/** glass_stack_input_flags() for a datagram in two parts: @p hdr[0..hlen) followed by
 *  @p body[0..blen) (as glass_stack_output_sg() gives them). When @p hdr holds exactly the
 *  IPv4 and TCP headers of an unfragmented TCP datagram, the payload is copied from @p body
 *  straight into the receive buffer; any other datagram is joined into one first (a copy), so
 *  every input is accepted. Neither part is kept after the call.
 *  @return as glass_stack_input() (GLASS_DROP_NOMEM if a datagram that had to be joined
 *          found no memory for it).
 *  @retval -GLASS_EFAULT a part is NULL with a non-zero length. */
GLASS_API int glass_stack_input_sg(struct glass_stack *st, glass_time_t now, const uint8_t *hdr,
                                   size_t hlen, const uint8_t *body, size_t blen, unsigned flags);
/** Move the stack's time to @p now and fire every timer due at or before it (retransmission,
 *  delayed ACK, keepalive, persist, TIME_WAIT, FIN_WAIT_2 ...). */
GLASS_API void glass_stack_advance(struct glass_stack *st, glass_time_t now);
/** The stack's current time: the latest `now` passed to input/output/advance. Socket calls
 *  act at this time, so advance the stack to the real time before making them. */
GLASS_API glass_time_t glass_stack_now(const struct glass_stack *st);
/** When glass_stack_advance() must next be called: the earliest timer deadline, or
 *  GLASS_TIME_NEVER if no timer is armed. Output may be pending regardless
 *  (glass_stack_has_output()). */
GLASS_API glass_time_t glass_stack_next_deadline(struct glass_stack *st);
/** True if glass_stack_output() would return a datagram. */
GLASS_API bool glass_stack_has_output(const struct glass_stack *st);
/** Pop the oldest socket event (connected, acceptable, readable, writable, rdhup, hup, error)
 *  into @p ev. Events are edge notifications for handles that exist; glass_poll() gives the
 *  level state. When config event_ring events are queued, newer ones are dropped (poll still
 *  tells the truth).
 *  @return true if an event was popped, false when there is none. */
GLASS_API bool glass_stack_next_event(struct glass_stack *st, struct glass_event *ev);

/** Set the transition observer, or NULL to remove it. @p fn is called inside every state
 *  change of every connection (also orphaned ones) with @p ctx and the transition record. It
 *  must not call back into the stack. */
GLASS_API void glass_stack_set_observer(struct glass_stack *st, glass_observer_fn fn, void *ctx);
/** Copy up to @p max recorded transitions of all connections, oldest first, from the stack's
 *  ring (config trace_ring entries; the oldest are overwritten).
 *  @p dropped (may be NULL) receives how many were overwritten so far.
 *  @return how many were copied. */
GLASS_API size_t glass_stack_transitions(const struct glass_stack *st, struct glass_transition *out,
                                         size_t max, uint64_t *dropped);
/** How often legal arc @p arc (0 <= arc < glass_tcp_arc_count()) was taken with cause @p cause,
 *  or with any cause when @p cause < 0. 0 for an arc or cause out of range. */
GLASS_API uint64_t glass_stack_arc_taken(const struct glass_stack *st, size_t arc, int cause);
/** How many connections are in @p state (an enum glass_tcp_state) now; 0 if out of range. */
GLASS_API uint32_t glass_stack_in_state(const struct glass_stack *st, int state);
/** The value of MIB counter @p mib (an enum glass_mib); 0 if out of range. */
GLASS_API uint64_t glass_stack_mib(const struct glass_stack *st, int mib);
/** Bytes the stack has allocated and uses now (everything: tables, connections, buffers).
 *  Freed blocks kept for reuse while the stack has connections (TCBs, their extensions,
 *  RACK blocks and two small arrays: at most 8 blocks and 16 KiB, given back when the last
 *  connection goes or after 1 s unused) are not counted here; config mem_max bounds both
 *  together. */
GLASS_API uint64_t glass_stack_mem_used(const struct glass_stack *st);
/** How many received packets were dropped for @p reason (an enum glass_drop_reason); 0 if out
 *  of range. */
GLASS_API uint64_t glass_stack_drops(const struct glass_stack *st, int reason);

#ifdef __cplusplus
}
#endif
#endif
