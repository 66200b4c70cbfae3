/* http_server — a small HTTP/1.1 server on libevent bufferevents: keep-alive,
 * strict parsing, size limits (8 KiB head, 64 KiB body: 413), idle timeouts
 * and a connection cap. GET /ws is handed over to ws_client after the
 * upgrade; everything else goes to the router (api.c). */
#ifndef DASH_HTTP_SERVER_H
#define DASH_HTTP_SERVER_H

#include "dash.h"
#include "http_parse.h"

struct evbuffer;

typedef struct http_response {
    int status;
    const char *content_type;
    struct evbuffer *body;
    char headers[512];                 /* extra header lines, each ending in CRLF */
} http_response;

/* Bind and listen on d->opt.listen. Returns 0 or -1 (logged). */
int http_server_start(dash *d);
/* Stop listening and close every HTTP connection. */
void http_server_stop(dash *d);

const char *http_status_text(int status);

/* Set a JSON error answer: {"error": message}. */
void http_error(http_response *res, int status, const char *message);
void http_add_header(http_response *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
