/** @file
 * glasstcp — basic public types. */
#ifndef GLASS_TYPES_H
#define GLASS_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks the functions libglass exports (default visibility; the library is built with hidden
 *  visibility, so nothing else is exported). */
#if defined(__GNUC__) && !defined(GLASS_STATIC_BUILD)
#define GLASS_API __attribute__((visibility("default")))
#else
#define GLASS_API
#endif

/** Time in nanoseconds. Virtual in the simulator, CLOCK_MONOTONIC on a real link. */
typedef uint64_t glass_time_t;

/** "No deadline": returned by glass_stack_next_deadline() when the stack is idle. */
#define GLASS_TIME_NEVER UINT64_MAX

#define GLASS_NSEC_PER_MSEC UINT64_C(1000000)   /**< nanoseconds in a millisecond */
#define GLASS_NSEC_PER_SEC UINT64_C(1000000000) /**< nanoseconds in a second */
/** Milliseconds to glass_time_t. */
#define GLASS_MSEC(ms) ((glass_time_t)(ms) * GLASS_NSEC_PER_MSEC)
/** Seconds to glass_time_t. */
#define GLASS_SEC(s) ((glass_time_t)(s) * GLASS_NSEC_PER_SEC)

/** An IPv4 address and TCP port, both in host byte order. */
struct glass_endpoint {
    uint32_t addr; /**< e.g. 0xC0000201 for 192.0.2.1; 0 = INADDR_ANY */
    uint16_t port; /**< 0 = any / not yet chosen */
};

/** Build an IPv4 address in host byte order from its four dotted-quad parts. */
#define GLASS_IP4(a, b, c, d)                                                                     \
    ((uint32_t)(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d)))

#ifdef __cplusplus
}
#endif
#endif
