/** @file
 * glasstcp — socket events, read with glass_stack_next_event(). */
#ifndef GLASS_EVENT_H
#define GLASS_EVENT_H

#include <glass/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Socket events as an X-macro: X(NAME, "printable name"). */
#define GLASS_EVENTS(X)                                                                          \
    X(CONNECTED, "connected")     /* connect() completed */                                      \
    X(ACCEPTABLE, "acceptable")   /* a listener's accept queue has a connection */               \
    X(READABLE, "readable")       /* new data to read */                                         \
    X(WRITABLE, "writable")       /* send buffer space became available */                       \
    X(RDHUP, "rdhup")             /* the peer's FIN: recv() returns 0 after the data */          \
    X(HUP, "hup")                 /* the connection is closed in both directions */              \
    X(ERROR, "error")             /* asynchronous error in `err` (-ECONNRESET, ...) */

/** What happened to a socket: GLASS_EV_CONNECTED, GLASS_EV_ACCEPTABLE, GLASS_EV_READABLE,
 *  GLASS_EV_WRITABLE, GLASS_EV_RDHUP, GLASS_EV_HUP, GLASS_EV_ERROR (see GLASS_EVENTS), then
 *  GLASS_EV_COUNT. */
enum glass_event_kind {
#define GLASS_X_EV(n, s) GLASS_EV_##n,
    GLASS_EVENTS(GLASS_X_EV)
#undef GLASS_X_EV
        GLASS_EV_COUNT
};

/** One socket event (glass_stack_next_event()). */
struct glass_event {
    enum glass_event_kind kind; /**< what happened */
    int fd;           /**< socket handle the event is for */
    int err;          /**< GLASS_EV_ERROR: the negative error code; else 0 */
    glass_time_t at;  /**< stack time of the event */
};

/** The printable name of an event kind ("readable"), or "?" if @p kind is out of range. */
GLASS_API const char *glass_event_name(int kind);

#ifdef __cplusplus
}
#endif
#endif
