/* glass CLI — the client side of a running stack's control socket (docs/control.md), shared by
 * glass ss and glass nstat. */
#define _GNU_SOURCE
#include "ctl_client.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Read everything the control socket answers to one command (up to the "." line). */
char *glass_ctl_query(const char *path, const char *cmd, size_t *len)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return NULL;
    }
    char line[256];
    int n = snprintf(line, sizeof line, "%s\n", cmd);
    if (send(fd, line, (size_t)n, MSG_NOSIGNAL) != n) {
        close(fd);
        return NULL;
    }
    shutdown(fd, SHUT_WR);
    size_t cap = 65536, used = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (used + 4096 > cap) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = recv(fd, buf + used, cap - used - 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        used += (size_t)r;
    }
    close(fd);
    if (buf == NULL)
        return NULL;
    buf[used] = '\0';
    *len = used;
    return buf;
}

const char *glass_ctl_json_at(const char *obj, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(obj, pat);
    return p != NULL ? p + strlen(pat) : NULL;
}

/* The value of "key" in a one-line JSON object: a string (unquoted into out) or a scalar. */
bool glass_ctl_json_get(const char *obj, const char *key, char *out, size_t cap)
{
    const char *p = glass_ctl_json_at(obj, key);
    if (p == NULL)
        return false;
    size_t n = 0;
    if (*p == '"') {
        p++;
        while (*p != '\0' && *p != '"' && n + 1 < cap) {
            if (*p == '\\' && p[1] != '\0')
                p++;
            out[n++] = *p++;
        }
    } else {
        while (*p != '\0' && *p != ',' && *p != '}' && n + 1 < cap)
            out[n++] = *p++;
    }
    out[n] = '\0';
    return true;
}

const char *glass_ctl_find(const char *who, const char *tun, char buf[TUNAPP_CTL_MAX])
{
    if (tun != NULL)
        return tunapp_default_ctl(tun, false, buf);
    /* No --tun: the one socket in the default directory, if there is exactly one. */
    char probe[TUNAPP_CTL_MAX];
    tunapp_default_ctl("x", false, probe);
    char *slash = strrchr(probe, '/');
    if (slash == NULL)
        return NULL;
    *slash = '\0';
    DIR *d = opendir(probe);
    if (d == NULL)
        return tunapp_default_ctl(TUNAPP_DEFAULT_TUN, false, buf);
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".sock") == 0) {
            if (found++ == 0 && strlen(probe) + 1 + l < TUNAPP_CTL_MAX) {
                memcpy(buf, probe, strlen(probe));
                buf[strlen(probe)] = '/';
                memcpy(buf + strlen(probe) + 1, e->d_name, l + 1);
            }
        }
    }
    closedir(d);
    if (found > 1) {
        fprintf(stderr, "glass %s: several stacks run (%s/*.sock): choose one with --tun or --ctl\n",
                who, probe);
        return NULL;
    }
    return found == 1 ? buf : tunapp_default_ctl(TUNAPP_DEFAULT_TUN, false, buf);
}

