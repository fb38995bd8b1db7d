/** @file
 * glasstcp — error codes. Functions return >= 0 on success, -GLASS_Exxx on failure. */
#ifndef GLASS_ERR_H
#define GLASS_ERR_H

#include <glass/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The error codes as an X-macro: X(name, value, Linux strerror() wording). Values are Linux's
 *  errno numbers so that printed numbers look familiar, but they are glasstcp's own constants:
 *  the core needs no <errno.h>. */
#define GLASS_ERRORS(X)                                                                          \
    X(EPERM, 1, "Operation not permitted")                                                       \
    X(ENOENT, 2, "No such file or directory")                                                    \
    X(EBADF, 9, "Bad file descriptor")                                                           \
    X(EAGAIN, 11, "Resource temporarily unavailable")                                            \
    X(ENOMEM, 12, "Cannot allocate memory")                                                      \
    X(EFAULT, 14, "Bad address")                                                                 \
    X(EINVAL, 22, "Invalid argument")                                                            \
    X(EMFILE, 24, "Too many open files")                                                         \
    X(EPIPE, 32, "Broken pipe")                                                                  \
    X(ENOTSOCK, 88, "Socket operation on non-socket")                                            \
    X(EDESTADDRREQ, 89, "Destination address required")                                          \
    X(EMSGSIZE, 90, "Message too long")                                                          \
    X(ENOPROTOOPT, 92, "Protocol not available")                                                 \
    X(EOPNOTSUPP, 95, "Operation not supported")                                                 \
    X(EAFNOSUPPORT, 97, "Address family not supported by protocol")                              \
    X(EADDRINUSE, 98, "Address already in use")                                                  \
    X(EADDRNOTAVAIL, 99, "Cannot assign requested address")                                      \
    X(ENETUNREACH, 101, "Network is unreachable")                                                \
    X(ECONNABORTED, 103, "Software caused connection abort")                                     \
    X(ECONNRESET, 104, "Connection reset by peer")                                               \
    X(ENOBUFS, 105, "No buffer space available")                                                 \
    X(EISCONN, 106, "Transport endpoint is already connected")                                   \
    X(ENOTCONN, 107, "Transport endpoint is not connected")                                      \
    X(ETIMEDOUT, 110, "Connection timed out")                                                    \
    X(ECONNREFUSED, 111, "Connection refused")                                                   \
    X(EHOSTUNREACH, 113, "No route to host")                                                     \
    X(EALREADY, 114, "Operation already in progress")                                            \
    X(EINPROGRESS, 115, "Operation now in progress")

/** An error code: GLASS_EPERM (1) ... GLASS_EINPROGRESS (115), one per row of GLASS_ERRORS.
 *  Functions return them negated: -GLASS_ECONNREFUSED. */
enum glass_err {
#define GLASS_X_ERR(name, val, text) GLASS_##name = (val),
    GLASS_ERRORS(GLASS_X_ERR)
#undef GLASS_X_ERR
};

/** Linux wording for an error code; accepts err or -err. Unknown codes give "Unknown error". */
GLASS_API const char *glass_strerror(int err);
/** The symbolic name ("ECONNREFUSED") of an error code; accepts err or -err; NULL if unknown. */
GLASS_API const char *glass_errname(int err);
/** Parse a symbolic name ("ECONNRESET", case-insensitive) to its positive code; 0 if unknown or
 *  NULL. */
GLASS_API int glass_errparse(const char *name);

#ifdef __cplusplus
}
#endif
#endif
