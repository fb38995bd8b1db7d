/* glasstcp — GLASS_ASSERT for internal invariants only (never for packets or API arguments).
 * On unless the build defines GLASS_NO_ASSERTS (release builds that prefer counters). */
#ifndef GLASS_UTIL_ASSERT_H
#define GLASS_UTIL_ASSERT_H

#include <stdlib.h>

#ifdef GLASS_NO_ASSERTS
#define GLASS_ASSERT(cond) ((void)0)
#define GLASS_ASSERTS_ON 0
#else
#define GLASS_ASSERT(cond) ((cond) ? (void)0 : abort())
#define GLASS_ASSERTS_ON 1
#endif

#endif
