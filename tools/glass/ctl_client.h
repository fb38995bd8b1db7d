/* glass CLI — the client side of a running stack's control socket (docs/control.md). */
#ifndef GLASS_TOOLS_CTL_CLIENT_H
#define GLASS_TOOLS_CTL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "tunapp.h"

/* Send one command; return everything answered up to the "." line (malloc'd, NUL-terminated,
 * *len bytes), or NULL with errno set. */
char *glass_ctl_query(const char *path, const char *cmd, size_t *len);
/* Where the value of "key" starts in a one-line JSON object (just after `"key":`), or NULL. */
const char *glass_ctl_json_at(const char *obj, const char *key);
/* The value of "key" in a one-line JSON object: a string (unquoted into out) or a scalar. */
bool glass_ctl_json_get(const char *obj, const char *key, char *out, size_t cap);
/* The control socket to talk to: --tun NAME's, or the only one in the default directory.
 * `who` names the command in the error printed when several stacks run. */
const char *glass_ctl_find(const char *who, const char *tun, char buf[TUNAPP_CTL_MAX]);

#endif
