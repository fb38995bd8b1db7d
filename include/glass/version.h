/** @file
 * glasstcp — version. */
#ifndef GLASS_VERSION_H
#define GLASS_VERSION_H

#include <glass/types.h>

/* The one place the version is written: CMakeLists.txt reads the three numbers below (the
 * project version, the soname, glass.pc, the CMake package). docs/versioning.md says what a
 * change of each means. */
#define GLASS_VERSION_MAJOR 0        /**< incompatible API or ABI changes (semantic versioning) */
#define GLASS_VERSION_MINOR 1        /**< new features; while MAJOR is 0, also incompatible changes */
#define GLASS_VERSION_PATCH 0        /**< fixes only */
#define GLASS_VERSION_STRING "0.1.0" /**< "MAJOR.MINOR.PATCH" of the headers */

#ifdef __cplusplus
extern "C" {
#endif
/** The version of the library as linked ("0.1.0"); compare with GLASS_VERSION_STRING to
 *  detect headers and library from different releases. */
GLASS_API const char *glass_version(void);
#ifdef __cplusplus
}
#endif
#endif
