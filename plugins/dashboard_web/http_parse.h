/* http_parse — parse one HTTP/1.x request head (request line and headers)
 * held in memory. Strict on purpose: anything ambiguous is refused, which is
 * what keeps request smuggling and header confusion out. */
#ifndef DASH_HTTP_PARSE_H
#define DASH_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_MAX_HEADERS 64

typedef struct http_header {
    const char *name;     /* as sent; compare case-insensitively */
    const char *value;    /* trimmed */
} http_header;

typedef struct http_request {
    char method[16];
    const char *target;   /* as sent: path and query              */
    char path[1024];      /* target without the query             */
    int minor_version;    /* HTTP/1.<minor>                        */
    http_header headers[HTTP_MAX_HEADERS];
    size_t n_headers;
    bool has_content_length;
    size_t content_length;
    bool has_transfer_encoding;
    bool keep_alive;
} http_request;

/*
 * Length of the request head at the start of buf: through the first empty
 * line, whichever line ending (CRLF or bare LF) the lines use. 0 while buf
 * does not yet hold a whole head. The head ends where its blank line is, not
 * at a CRLFCRLF further on: that would swallow a pipelined request or a body.
 */
size_t http_head_length(const char *buf, size_t len);

/*
 * False if buf[0..len), the start of a request (after any blank lines), can
 * never become a request line http_parse_head accepts: bytes that are not
 * HTTP at all (TLS, binary) are refused at once, not after the request
 * deadline. Looks no further than the request line; true while it may still
 * be one. What it refuses, http_parse_head would refuse with 400.
 */
bool http_request_line_viable(const char *buf, size_t len);

/*
 * Parse the head in buf[0..len) (ending with the blank line; CRLF or LF line
 * ends). buf is modified in place (NUL-terminated pieces) and must outlive
 * req. Returns 0, or the HTTP status to answer with: 400 malformed (a NUL
 * anywhere included; checked before the others), 413 too many headers or too
 * long a target, 501 unknown transfer coding or a method over 15 bytes, 505
 * a version other than HTTP/1.0 or 1.1.
 */
int http_parse_head(char *buf, size_t len, http_request *req);

/* Value of a header (first one), or NULL. */
const char *http_header_get(const http_request *req, const char *name);

/* True if a comma-separated header value lists token (case-insensitive). */
bool http_header_has_token(const char *value, const char *token);

#endif
