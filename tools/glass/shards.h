/* glass CLI — sharding (docs/sharding.md): N stacks, each with its own event loop on its own
 * thread and its own queue of a multi-queue TUN device, behind one control socket.
 *
 * A stack is single-threaded; the shards share nothing but this group: a mutex and condition
 * variable for "park" (every other shard waits on the lock so the control socket's thread may
 * read their stacks), and an eventfd per shard through which any thread asks a shard to stop,
 * reload its application or park. The kernel steers the flows (the tun driver's symmetric flow
 * hash); glass_flow_hash() (<glass/wire.h>) is the same in software. */
#ifndef GLASS_TOOLS_SHARDS_H
#define GLASS_TOOLS_SHARDS_H

#include <glass/loop.h>
#include <glass/stack.h>

#include <stdbool.h>
#include <stdint.h>

#define SHARDS_MAX 64u

/* What a shard can be asked to do (bits; several may be pending at once). */
#define SHARD_REQ_STOP 1u   /* stop the loop (then the shard shuts down) */
#define SHARD_REQ_RELOAD 2u /* restart the application (SIGHUP reached another shard) */
#define SHARD_REQ_PARK 4u   /* wait until the control thread is done reading every stack */
#define SHARD_REQ_INPUT 8u  /* datagrams were forwarded to it (--steer software) */

struct shard_group;

/* Restart one shard's application, in that shard's thread. */
typedef void (*shard_reload_fn)(void *ctx, struct glass_loop *loop);

/* A group of n shards (2..SHARDS_MAX); NULL when out of memory or resources. soft: software
 * steering (shards_steer()). */
struct shard_group *shards_new(unsigned n, bool soft);
void shards_free(struct shard_group *g);
/* Shard i's loop and stack; its requests are read from an eventfd added to the loop. 0 or a
 * negative errno. */
int shards_attach(struct shard_group *g, unsigned i, struct glass_loop *loop,
                  struct glass_stack *st, shard_reload_fn reload, void *ctx);
/* Ask shard i (from any thread) to do what `req` says. */
void shards_notify(struct shard_group *g, unsigned i, unsigned req);
/* Ask every shard but `except` (SHARDS_MAX: all). */
void shards_notify_all(struct shard_group *g, unsigned except, unsigned req);
/* Shard i's loop has returned: from now on a STOP request is ignored (its shutdown runs the
 * loop a little longer to let the FINs out). */
void shards_stopping(struct shard_group *g, unsigned i);
/* Shard i's thread will not touch its stack again: a park no longer waits for it. */
void shards_done(struct shard_group *g, unsigned i);

/* --steer software (glass_loop_config.on_input of every shard): a datagram shard i read
 * whose flow glass_flow_hash() gives to another shard is queued for that shard and woken there
 * (true: taken). Fragments and non-TCP datagrams stay (false). Without soft: always false. */
bool shards_steer(struct shard_group *g, unsigned i, const uint8_t *pkt, size_t len,
                  unsigned flags);

/* The control socket's front (glass_loop_config.on_ctl_front of shard 0): answer cmd for the
 * whole group — counters summed, connections of every shard listed with a group-wide id
 * (local id * n + shard), "history/close/abort ID" sent to the shard the id names, "reload" to
 * all, "shards" one line per shard. Returns -1 for what shard 0 answers alone (help, config,
 * unknown commands). Only from shard 0's thread. */
int shards_ctl(struct shard_group *g, const char *cmd, const char *args,
               struct glass_loop_reply *r);

#endif
