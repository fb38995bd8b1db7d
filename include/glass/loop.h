/** @file
 * glasstcp — the event loop that puts one stack on one real link (a Linux TUN device).
 *
 * The loop is the only code with a clock and epoll (DESIGN.md). One thread, one epoll set:
 *
 *   - the TUN fd: datagrams are read in batches and fed to glass_stack_input();
 *   - a timerfd armed (CLOCK_MONOTONIC, absolute) at glass_stack_next_deadline();
 *   - a signalfd for SIGINT, SIGTERM (stop) and SIGHUP (passed to the application);
 *   - the control socket (a Unix stream socket answering a line protocol, docs/control.md);
 *   - any file descriptors the application adds (stdin, ...).
 *
 * After every batch of input, timer expiry or application callback, the loop hands the
 * stack's socket events to the application (on_event), then writes everything the stack has to
 * send to the device. Time is CLOCK_MONOTONIC in nanoseconds (glass_loop_now()). */
#ifndef GLASS_LOOP_H
#define GLASS_LOOP_H

#include <glass/event.h>
#include <glass/stack.h>
#include <glass/tun.h>
#include <glass/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The event loop of one stack on one TUN device. Opaque; made by glass_loop_new(). */
struct glass_loop;
/** Where an application's control-socket reply goes (glass_loop_reply()). */
struct glass_loop_reply;

/** A socket event popped from the stack (glass_stack_next_event()). */
typedef void (*glass_loop_event_fn)(void *ctx, struct glass_loop *loop,
                                    const struct glass_event *ev);
/** A control-socket command the loop does not know itself: write the answer with
 *  glass_loop_reply() (one JSON object per line) and return 0, or return -1 for "unknown
 *  command". args is the rest of the line ("" if none). */
typedef int (*glass_loop_ctl_fn)(void *ctx, struct glass_loop *loop, const char *cmd,
                                 const char *args, struct glass_loop_reply *reply);
/** SIGHUP, SIGINT or SIGTERM arrived (the loop stops by itself after SIGINT/SIGTERM). */
typedef void (*glass_loop_signal_fn)(void *ctx, struct glass_loop *loop, int signo);
/** An application file descriptor is ready; events are GLASS_LOOP_IN/OUT/ERR bits. */
typedef void (*glass_loop_fd_fn)(void *ctx, struct glass_loop *loop, int fd, unsigned events);
/** A datagram the stack received (inbound, after glass_stack_input()) or sent (before it is
 *  written to the device), at time now (CLOCK_MONOTONIC ns): for captures (glass serve --pcap). */
typedef void (*glass_loop_packet_fn)(void *ctx, struct glass_loop *loop, bool inbound,
                                     const uint8_t *pkt, size_t len, glass_time_t now);
/** A datagram read from the device (flags: GLASS_INPUT_* of glass_stack_input_flags()),
 *  before the stack sees it: return true if the application took it (the stack never gets
 *  it), false to let the stack have it. For steering datagrams to another stack (glass serve
 *  --threads --steer software, docs/sharding.md). */
typedef bool (*glass_loop_input_fn)(void *ctx, struct glass_loop *loop, const uint8_t *pkt,
                                    size_t len, unsigned flags, glass_time_t now);
/** The application's own timer (glass_loop_set_timer()) is due. */
typedef void (*glass_loop_timer_fn)(void *ctx, struct glass_loop *loop);

#define GLASS_LOOP_IN 0x1u  /**< an application fd is readable */
#define GLASS_LOOP_OUT 0x4u /**< an application fd is writable */
#define GLASS_LOOP_ERR 0x8u /**< an application fd has an error or hung up (always reported) */

/** What glass_loop_new() needs; every callback may be NULL. */
struct glass_loop_config {
    struct glass_stack *stack;   /**< pumped by the loop; not owned */
    struct glass_tun *tun;       /**< the link; not owned */
    const char *ctl_path;        /**< control socket path; NULL or "" for none */
    unsigned batch;              /**< datagrams read per wakeup; 0 means 64 */
    const char *info_json;       /**< extra members for the "info" reply, e.g.
                                    "\"addr\":\"192.0.2.2/24\",\"app\":\"echo\"" (no braces) */
    void *ctx;                   /**< passed to every callback */
    glass_loop_event_fn on_event;   /**< each socket event of the stack */
    glass_loop_ctl_fn on_ctl;       /**< control commands the loop does not answer itself */
    glass_loop_signal_fn on_signal; /**< SIGHUP, SIGINT, SIGTERM */
    glass_loop_timer_fn on_timer;   /**< the timer of glass_loop_set_timer() */
    glass_loop_packet_fn on_packet; /**< every datagram in and out; NULL for none */
    /** Offered every control-socket command first, before the loop's own (info, conns, mib
     *  ...): return 0 when answered, -1 to let the loop answer as usual. For an application
     *  that answers for several loops (glass serve --threads, docs/sharding.md), which asks
     *  each of them with glass_loop_answer(). NULL for none. */
    glass_loop_ctl_fn on_ctl_front;
    glass_loop_input_fn on_input;   /**< every datagram read, first; NULL for none */
};

/** Set up the loop: epoll, timerfd, signalfd (SIGINT, SIGTERM and SIGHUP are blocked for the
 *  calling thread and read from it), the control socket (a stale socket file left by a dead
 *  process is replaced). The stack should be advanced to glass_loop_now() before the first
 *  socket calls.
 *  @return 0, with the loop in *@p out.
 *  @retval -EINVAL @p cfg, its stack or its tun is NULL.
 *  @retval -ENOMEM out of memory.
 *  @retval -EADDRINUSE a live process answers on the control socket path.
 *  @return any other negative errno from epoll, timerfd, signalfd or the control socket. */
GLASS_API int glass_loop_new(const struct glass_loop_config *cfg, struct glass_loop **out);
/** Close everything the loop opened, unblock the signals and unlink the control socket. The
 *  stack and the TUN device are the caller's. NULL is allowed. */
GLASS_API void glass_loop_free(struct glass_loop *loop);
/** Run until glass_loop_stop() or SIGINT/SIGTERM. Returns the status given to
 *  glass_loop_stop() (0 after a signal), or a negative errno if epoll failed. */
GLASS_API int glass_loop_run(struct glass_loop *loop);
/** Run like glass_loop_run() until done(ctx) returns true (checked after every wakeup) or the
 *  time `deadline` (GLASS_TIME_NEVER: none) passes. For a bounded clean shutdown: close the
 *  sockets, then run until the FINs are acknowledged. Returns 1 if done, 0 at the deadline or
 *  on glass_loop_stop()/a signal, or a negative errno. */
GLASS_API int glass_loop_run_until(struct glass_loop *loop, glass_time_t deadline,
                                   bool (*done)(void *ctx), void *ctx);
/** Make glass_loop_run() return `status` once the current callback is done. */
GLASS_API void glass_loop_stop(struct glass_loop *loop, int status);
/** CLOCK_MONOTONIC now, in nanoseconds (the stack's time base). @p loop may be NULL, e.g. to
 *  advance a stack before the loop exists. */
GLASS_API glass_time_t glass_loop_now(const struct glass_loop *loop);
/** Feed due timers, pass events to the application and write the stack's output now
 *  (callbacks need not call it: the loop does after each one). Returns datagrams written. */
GLASS_API long glass_loop_flush(struct glass_loop *loop);
/** Watch an application fd (level-triggered): @p fn is called with GLASS_LOOP_* bits when it
 *  is ready for @p events.
 *  @return 0.
 *  @retval -ENOSPC 16 application fds are watched already.
 *  @retval -EPERM @p fd is a regular file (always ready: read it without waiting).
 *  @return another negative errno from epoll_ctl (-EBADF, -EEXIST ...). */
GLASS_API int glass_loop_add_fd(struct glass_loop *loop, int fd, unsigned events,
                                glass_loop_fd_fn fn, void *ctx);
/** Change the events watched on @p fd (0: none for now).
 *  @return 0.
 *  @retval -ENOENT @p fd is not watched.
 *  @return another negative errno from epoll_ctl. */
GLASS_API int glass_loop_mod_fd(struct glass_loop *loop, int fd, unsigned events);
/** Stop watching @p fd (it is not closed); nothing happens if it is not watched. */
GLASS_API void glass_loop_del_fd(struct glass_loop *loop, int fd);
/** Arm the application timer at an absolute time (GLASS_TIME_NEVER disarms): on_timer is
 *  called once when it is due. */
GLASS_API void glass_loop_set_timer(struct glass_loop *loop, glass_time_t at);
/** The control socket's path, "" if the loop has none. */
GLASS_API const char *glass_loop_ctl_path(const struct glass_loop *loop);
/** Answer one of the control commands that need only a stack (conns, history ID,
 *  transitions, mib, drops, config; docs/control.md) without a loop, for simulations and tests. t_ms
 *  counts from start. The reply lines (not the "." line) are appended to *buf (malloc'd,
 *  NUL-terminated, *len bytes; NULL and 0 at first). 0, -1 if cmd is not one of these, or
 *  -GLASS_ENOMEM (*buf freed). */
GLASS_API int glass_ctl_stack_answer(struct glass_stack *st, glass_time_t start, const char *cmd,
                                     const char *args, char **buf, size_t *len);
/** Answer one control command line (e.g. "conns", "history 7") as the loop's control socket
 *  would, on_ctl_front left out; the reply lines (not the "." line) are appended to *buf as in
 *  glass_ctl_stack_answer(). Call it from the thread that runs @p loop, or while that thread
 *  is known to be elsewhere (parked on a lock the caller holds): the loop and its stack are
 *  not thread-safe.
 *  @return 0.
 *  @retval -GLASS_EINVAL the line is 4096 bytes or longer.
 *  @retval -GLASS_ENOMEM out of memory (*buf freed). */
GLASS_API int glass_loop_answer(struct glass_loop *loop, const char *line, char **buf,
                                size_t *len);
/** Append one line (a JSON object, without the newline; printf format) to a control-socket
 *  reply, inside an on_ctl callback. The reply grows as needed; if memory runs out, the client
 *  is disconnected without a reply. */
GLASS_API void glass_loop_reply(struct glass_loop_reply *reply, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif
