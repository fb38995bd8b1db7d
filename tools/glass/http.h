/* glass CLI — the small HTTP/1.1 server side of `glass serve --http DIR` (RFC 9110, RFC 9112):
 * request-head parsing, file lookup under a document root, response heads. No I/O here. */
#ifndef GLASS_TOOLS_HTTP_H
#define GLASS_TOOLS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX 8192u /* request line + headers */

struct http_request {
    bool head;          /* HEAD (else GET) */
    bool keep_alive;    /* after the response, read the next request */
    int minor;          /* HTTP/1.minor */
    char path[1024];    /* decoded, normalised, starts with '/' */
};

/* The length of a complete request head in buf[0..len) (through the empty line), 0 if more
 * bytes are needed, or -1 if the head is longer than HTTP_HEAD_MAX. */
long http_head_length(const char *buf, size_t len);

/* Parse the head buf[0..len) (as http_head_length measured it). Returns 0, or the HTTP status
 * to answer with (400, 405, 411, 413, 414, 501, 505); on an error keep_alive says whether the
 * connection may carry on (no request body to skip). */
int http_parse(const char *buf, size_t len, struct http_request *req);

/* Open the file for req->path under root_real (a realpath()), following "/" to "index.html".
 * Returns an open fd and sets *size, or -status (403, 404). */
int http_open(const char *root_real, const char *path, uint64_t *size, const char **type);

/* Write a response head into buf; returns its length. status 200 has length and type; an
 * error carries a short text body (written too unless head_only), its length in *body_len. */
size_t http_response_head(char *buf, size_t cap, int status, const char *type, uint64_t length,
                          bool keep_alive);
size_t http_error_response(char *buf, size_t cap, int status, bool keep_alive, bool head_only);

#endif
