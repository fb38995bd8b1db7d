/* glasstcp — the simulated link: a pure packet mover (private to the library).
 *
 * It keeps copies of packets with their delivery times and hands them back in
 * (deliver_at, rank, id) order; packets the caller holds are kept aside until they are taken
 * back. It knows nothing of stacks, sockets or TCP: it includes only util/ and <glass/types.h>
 * (DESIGN.md layering). Impairments (loss, duplication, reordering, corruption, bottleneck,
 * spikes) are decided by the simnet, which only tells the link when and in which order to
 * deliver each copy.
 *
 * Storage: fixed-size slots (slot_bytes, sized for the MTU) allocated in chunks and recycled
 * through a free list, so queueing a packet costs at most one memcpy and no malloc; only
 * packets larger than a slot get a buffer of their own. A sender may even build its packet in
 * the link's spare slot (glass_sim_link_spare + put_spare): then the link copies nothing. The
 * queue is two structures: a FIFO "lane" for packets queued in delivery order already (with a
 * fixed delay, nearly all of them: O(1) each), and an indexed binary min-heap whose entries carry
 * their sort key for the rest (each slot knows where it is, so a queued packet can be re-timed);
 * held packets live in a small array in id order. A packet is delivered in place: pop_ref
 * hands out a pointer into its slot, which stays valid until glass_sim_link_done(). */
#ifndef GLASS_LINK_SIM_LINK_H
#define GLASS_LINK_SIM_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glass/types.h>

/* Default bytes stored inline in a slot (glass_sim_link_new with slot_bytes 0). */
#define GLASS_SIM_SLOT_BYTES 2048u

/* A slot handle; GLASS_SIM_NO_SLOT is "none". Valid from put until pop (queued) / take
 * (held), or, for a popped packet, until glass_sim_link_done(). */
#define GLASS_SIM_NO_SLOT UINT32_MAX

/* Return codes (the link does not include err.h; the simnet maps them). */
enum glass_sim_link_rc {
    GLASS_SIM_LINK_OK = 0,
    GLASS_SIM_LINK_FULL = -1,   /* capacity reached */
    GLASS_SIM_LINK_NOMEM = -2,  /* allocation failed */
    GLASS_SIM_LINK_NOENT = -3,  /* no held packet with that id */
};

/* A packet's metadata. Delivery order: smaller deliver_at first; equal times by smaller rank,
 * then smaller id. A caller that wants plain send order sets rank from the id. */
struct glass_sim_link_meta {
    uint64_t id;
    uint64_t rank;
    int from, to;
    glass_time_t sent_at;
    glass_time_t deliver_at; /* meaningless while held */
    uint32_t flags;          /* the caller's; the link only stores them */
};

struct glass_sim_link;

/* A link holding at most `capacity` packets (queued, held and popped-but-not-done); capacity
 * >= 1. slot_bytes: bytes stored inline per packet (0: GLASS_SIM_SLOT_BYTES). NULL on ENOMEM. */
struct glass_sim_link *glass_sim_link_new(uint32_t capacity, size_t slot_bytes);
void glass_sim_link_free(struct glass_sim_link *l);

/* Store a copy of data[0..len). hold: keep it aside (glass_sim_link_take_held) instead of
 * queueing it for delivery. *handle (may be NULL) receives the slot handle. Returns
 * GLASS_SIM_LINK_OK, _FULL or _NOMEM. */
int glass_sim_link_put(struct glass_sim_link *l, const struct glass_sim_link_meta *m,
                       const uint8_t *data, size_t len, bool hold, uint32_t *handle);

/* The spare slot's buffer (*cap bytes, the slot size), to build the next packet in; it stays
 * the same until put_spare takes it. NULL if out of memory. */
uint8_t *glass_sim_link_spare(struct glass_sim_link *l, size_t *cap);

/* Store the len bytes written to the spare buffer as a packet, like glass_sim_link_put but
 * without copying (len <= the spare's cap). */
int glass_sim_link_put_spare(struct glass_sim_link *l, const struct glass_sim_link_meta *m,
                             size_t len, bool hold, uint32_t *handle);

/* The bytes of a stored packet (queued, held or popped), or NULL; *len gets its length. The
 * caller may change them (the simnet flips a bit of a corrupted copy). */
uint8_t *glass_sim_link_bytes(struct glass_sim_link *l, uint32_t handle, size_t *len);

/* The metadata of a queued packet (handle from put). */
const struct glass_sim_link_meta *glass_sim_link_meta(const struct glass_sim_link *l,
                                                      uint32_t handle);

/* Change when a queued packet is delivered (deliver_at, rank and flags of *m; id, from and to
 * must be unchanged). Returns GLASS_SIM_LINK_OK or _NOENT if handle is not a queued packet. */
int glass_sim_link_retime(struct glass_sim_link *l, uint32_t handle,
                          const struct glass_sim_link_meta *m);

/* The next packet to deliver: true and *m filled, false if none. (Not const: it may sweep
 * tombstones.) */
bool glass_sim_link_peek(struct glass_sim_link *l, struct glass_sim_link_meta *m);

/* Remove the next packet to deliver without copying it: *m, *data and *len describe it; the
 * bytes stay valid until glass_sim_link_done(handle). Returns the handle, or GLASS_SIM_NO_SLOT
 * if the queue is empty (then nothing is touched). */
uint32_t glass_sim_link_pop_ref(struct glass_sim_link *l, struct glass_sim_link_meta *m,
                                const uint8_t **data, size_t *len);
/* Give back the slot of a packet taken with pop_ref. */
void glass_sim_link_done(struct glass_sim_link *l, uint32_t handle);

/* Remove the next packet to deliver. Its bytes are copied to buf (at most cap of them); returns
 * the packet's full length, or 0 if the queue is empty (then *m is untouched). */
size_t glass_sim_link_pop(struct glass_sim_link *l, struct glass_sim_link_meta *m, uint8_t *buf,
                          size_t cap);

/* Remove the held packet `id`, copying it out as glass_sim_link_pop does. Returns its length,
 * or 0 with *rc = GLASS_SIM_LINK_NOENT if no such packet is held. */
size_t glass_sim_link_take_held(struct glass_sim_link *l, uint64_t id,
                                struct glass_sim_link_meta *m, uint8_t *buf, size_t cap, int *rc);

/* Packets queued for delivery, and held. */
size_t glass_sim_link_queued(const struct glass_sim_link *l);
size_t glass_sim_link_held(const struct glass_sim_link *l);

#endif
