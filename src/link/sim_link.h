/* glasstcp — the simulated link: a pure packet mover (private to the library).
 *
 * It keeps copies of packets with their delivery times and hands them back in (deliver_at, id)
 * order; packets the caller holds are kept aside until they are taken back. It knows nothing of
 * stacks, sockets or TCP: it includes only util/ and <glass/types.h> (DESIGN.md layering).
 *
 * Storage: fixed 2 KiB slots allocated in chunks and recycled through a free list, so queueing a
 * packet costs no malloc; only packets larger than a slot get a buffer of their own. The link
 * queue is a binary min-heap of slot indexes; held packets live in a small array in id order. */
#ifndef GLASS_LINK_SIM_LINK_H
#define GLASS_LINK_SIM_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glass/types.h>

/* Bytes stored inline in a slot; longer packets are malloc'ed. */
#define GLASS_SIM_SLOT_BYTES 2048u

/* Return codes (the link does not include err.h; the simnet maps them). */
enum glass_sim_link_rc {
    GLASS_SIM_LINK_OK = 0,
    GLASS_SIM_LINK_FULL = -1,   /* capacity reached */
    GLASS_SIM_LINK_NOMEM = -2,  /* allocation failed */
    GLASS_SIM_LINK_NOENT = -3,  /* no held packet with that id */
};

/* A packet's metadata. */
struct glass_sim_link_meta {
    uint64_t id;
    int from, to;
    glass_time_t sent_at;
    glass_time_t deliver_at; /* meaningless while held */
};

struct glass_sim_link;

/* A link holding at most `capacity` packets (queued plus held); capacity >= 1. NULL on ENOMEM. */
struct glass_sim_link *glass_sim_link_new(uint32_t capacity);
void glass_sim_link_free(struct glass_sim_link *l);

/* Store a copy of data[0..len). hold: keep it aside (glass_sim_link_take_held) instead of
 * queueing it for delivery. Returns GLASS_SIM_LINK_OK, _FULL or _NOMEM. */
int glass_sim_link_put(struct glass_sim_link *l, const struct glass_sim_link_meta *m,
                       const uint8_t *data, size_t len, bool hold);

/* The next packet to deliver, smallest (deliver_at, id): true and *m filled, false if none. */
bool glass_sim_link_peek(const struct glass_sim_link *l, struct glass_sim_link_meta *m);

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
