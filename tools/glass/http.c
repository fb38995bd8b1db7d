/* glass CLI — HTTP/1.1 request heads, file lookup and response heads for `glass serve --http`.
 * Enough of RFC 9112 for curl, wrk and browsers: GET and HEAD, persistent connections
 * (HTTP/1.1 by default, HTTP/1.0 with "Connection: keep-alive"), pipelined requests. Requests
 * with a body are answered and the connection closed (the body is not read). */
#define _GNU_SOURCE
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

long http_head_length(const char *buf, size_t len)
{
    /* Tolerate bare LF line ends (RFC 9112 §2.2). */
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i + 1 < len && buf[i + 1] == '\n')
            return (long)(i + 2);
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return (long)(i + 3);
    }
    return len >= HTTP_HEAD_MAX ? -1 : 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode %XX, drop the query, and resolve "." and ".." without ever leaving "/". */
static int normalise(const char *target, size_t tlen, char *out, size_t cap)
{
    char dec[1024];
    size_t n = 0;
    for (size_t i = 0; i < tlen && target[i] != '?' && target[i] != '#'; i++) {
        char c = target[i];
        if (c == '%') {
            if (i + 2 >= tlen || hexval(target[i + 1]) < 0 || hexval(target[i + 2]) < 0)
                return 400;
            c = (char)(hexval(target[i + 1]) * 16 + hexval(target[i + 2]));
            i += 2;
        }
        if (c == '\0')
            return 400;
        if (n + 1 >= sizeof dec)
            return 414;
        dec[n++] = c;
    }
    dec[n] = '\0';
    if (dec[0] != '/')
        return 400;
    /* segment by segment */
    size_t o = 0;
    const char *p = dec;
    while (*p != '\0') {
        while (*p == '/')
            p++;
        const char *seg = p;
        while (*p != '\0' && *p != '/')
            p++;
        size_t sl = (size_t)(p - seg);
        if (sl == 0 || (sl == 1 && seg[0] == '.'))
            continue;
        if (sl == 2 && seg[0] == '.' && seg[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--; /* drop the '/' too; at the root ".." stays at the root */
            continue;
        }
        if (o + 1 + sl + 1 >= cap)
            return 414;
        out[o++] = '/';
        memcpy(out + o, seg, sl);
        o += sl;
    }
    if (o == 0 || (n > 0 && dec[n - 1] == '/')) {
        if (o + 2 >= cap)
            return 414;
        out[o++] = '/';
    }
    out[o] = '\0';
    return 0;
}

/* Case-insensitive: does the comma-separated header value contain token? */
static bool has_token(const char *v, size_t vlen, const char *token)
{
    size_t tl = strlen(token);
    size_t i = 0;
    while (i < vlen) {
        while (i < vlen && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < vlen && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - s == tl && strncasecmp(v + s, token, tl) == 0)
            return true;
    }
    return false;
}

int http_parse(const char *buf, size_t len, struct http_request *req)
{
    memset(req, 0, sizeof *req);
    req->keep_alive = false;
    /* request-line = method SP request-target SP HTTP-version */
    const char *end = memchr(buf, '\n', len);
    if (end == NULL)
        return 400;
    size_t ll = (size_t)(end - buf);
    if (ll > 0 && buf[ll - 1] == '\r')
        ll--;
    const char *sp1 = memchr(buf, ' ', ll);
    const char *sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', ll - (size_t)(sp1 + 1 - buf)) : NULL;
    if (sp1 == NULL || sp2 == NULL)
        return 400;
    size_t ml = (size_t)(sp1 - buf);
    const char *target = sp1 + 1;
    size_t tlen = (size_t)(sp2 - target);
    const char *ver = sp2 + 1;
    size_t vl = ll - (size_t)(ver - buf);
    if (vl != 8 || strncmp(ver, "HTTP/1.", 7) != 0 || ver[7] < '0' || ver[7] > '9')
        return vl >= 5 && strncmp(ver, "HTTP/", 5) == 0 ? 505 : 400;
    req->minor = ver[7] - '0';
    req->keep_alive = req->minor >= 1;

    /* headers: Connection, Content-Length, Transfer-Encoding matter */
    bool body = false;
    const char *p = end + 1;
    const char *lim = buf + len;
    while (p < lim) {
        const char *e = memchr(p, '\n', (size_t)(lim - p));
        if (e == NULL)
            break;
        size_t hl = (size_t)(e - p);
        if (hl > 0 && p[hl - 1] == '\r')
            hl--;
        if (hl == 0)
            break;
        const char *colon = memchr(p, ':', hl);
        if (colon == NULL || colon == p)
            return 400;
        size_t nl = (size_t)(colon - p);
        const char *v = colon + 1;
        size_t vlen = hl - nl - 1;
        while (vlen > 0 && (*v == ' ' || *v == '\t')) {
            v++;
            vlen--;
        }
        if (nl == 10 && strncasecmp(p, "Connection", 10) == 0) {
            if (has_token(v, vlen, "close"))
                req->keep_alive = false;
            else if (has_token(v, vlen, "keep-alive"))
                req->keep_alive = true;
        } else if (nl == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
            if (!(vlen == 1 && v[0] == '0'))
                body = true;
        } else if (nl == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0) {
            body = true;
        }
        p = e + 1;
    }
    bool get = ml == 3 && memcmp(buf, "GET", 3) == 0;
    req->head = ml == 4 && memcmp(buf, "HEAD", 4) == 0;
    if (body)
        req->keep_alive = false; /* we do not read request bodies: answer, then close */
    if (!get && !req->head)
        return 405;
    if (body)
        return 413;
    if (tlen == 0)
        return 400;
    return normalise(target, tlen, req->path, sizeof req->path);
}

static const char *mime(const char *path)
{
    static const char *const map[][2] = {
        {".html", "text/html; charset=utf-8"}, {".htm", "text/html; charset=utf-8"},
        {".txt", "text/plain; charset=utf-8"},  {".md", "text/markdown; charset=utf-8"},
        {".css", "text/css"},                   {".js", "text/javascript"},
        {".json", "application/json"},          {".svg", "image/svg+xml"},
        {".png", "image/png"},                  {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},                {".gif", "image/gif"},
        {".ico", "image/x-icon"},               {".pdf", "application/pdf"},
        {".wasm", "application/wasm"},          {".xml", "application/xml"},
        {".c", "text/plain; charset=utf-8"},    {".h", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot != NULL && (slash == NULL || dot > slash))
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
            if (strcasecmp(dot, map[i][0]) == 0)
                return map[i][1];
    return "application/octet-stream";
}

int http_open(const char *root_real, const char *path, uint64_t *size, const char **type)
{
    char full[PATH_MAX + 1024];
    size_t pl = strlen(path);
    int n = snprintf(full, sizeof full, "%s%s%s", root_real, path,
                     pl > 0 && path[pl - 1] == '/' ? "index.html" : "");
    if (n < 0 || (size_t)n >= sizeof full)
        return -404;
    /* The file must resolve inside the root (no symlink out of it). */
    char real[PATH_MAX];
    if (realpath(full, real) == NULL)
        return errno == EACCES ? -403 : -404;
    size_t rl = strlen(root_real);
    if (strncmp(real, root_real, rl) != 0 || (real[rl] != '/' && real[rl] != '\0'))
        return -403;
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == EACCES ? -403 : -404;
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        close(fd);
        return -404;
    }
    if (S_ISDIR(sb.st_mode) && (pl == 0 || path[pl - 1] != '/')) {
        /* "/dir": serve "/dir/index.html" */
        close(fd);
        char with_slash[1030];
        if (pl + 2 > sizeof with_slash)
            return -404;
        memcpy(with_slash, path, pl);
        with_slash[pl] = '/';
        with_slash[pl + 1] = '\0';
        return http_open(root_real, with_slash, size, type);
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return -403;
    }
    *size = (uint64_t)sb.st_size;
    *type = mime(real);
    return fd;
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

size_t http_response_head(char *buf, size_t cap, int status, const char *type, uint64_t length,
                          bool keep_alive)
{
    char date[64];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    int n = snprintf(buf, cap,
                     "HTTP/1.1 %d %s\r\nServer: glasstcp\r\nDate: %s\r\nContent-Type: %s\r\n"
                     "Content-Length: %" PRIu64 "\r\n%sConnection: %s\r\n\r\n",
                     status, reason(status), date, type, length,
                     status == 405 ? "Allow: GET, HEAD\r\n" : "",
                     keep_alive ? "keep-alive" : "close");
    return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

size_t http_error_response(char *buf, size_t cap, int status, bool keep_alive, bool head_only)
{
    char body[128];
    int bl = snprintf(body, sizeof body, "%d %s\n", status, reason(status));
    size_t n = http_response_head(buf, cap, status, "text/plain; charset=utf-8", (uint64_t)bl,
                                  keep_alive);
    if (!head_only && n + (size_t)bl < cap) {
        memcpy(buf + n, body, (size_t)bl);
        n += (size_t)bl;
    }
    return n;
}
