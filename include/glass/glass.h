/** @file
 * glasstcp — umbrella header. */
#ifndef GLASS_GLASS_H
#define GLASS_GLASS_H

#include <glass/config.h>
#include <glass/err.h>
#include <glass/event.h>
#include <glass/info.h>
#include <glass/sim.h>
#include <glass/socket.h>
#include <glass/stack.h>
#include <glass/stats.h>
#include <glass/trace.h>
#include <glass/types.h>
#include <glass/version.h>
#include <glass/wire.h>

#endif
