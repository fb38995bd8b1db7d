/* glasstcp — version. */
#ifndef GLASS_VERSION_H
#define GLASS_VERSION_H

#include <glass/types.h>

#define GLASS_VERSION_MAJOR 0
#define GLASS_VERSION_MINOR 1
#define GLASS_VERSION_PATCH 0
#define GLASS_VERSION_STRING "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif
GLASS_API const char *glass_version(void);
#ifdef __cplusplus
}
#endif
#endif
