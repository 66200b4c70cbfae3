/*
 * kx_http — asynchronous HTTP over libcurl's multi interface driven by a
 * libevent loop (libcurl's documented multi_socket pattern:
 * CURLMOPT_SOCKETFUNCTION + CURLMOPT_TIMERFUNCTION): curl tells us which
 * sockets to watch and when to wake it; nothing ever blocks the loop. libcurl
 * is reached through a kx_curl table (kx_curl.h): linked or dlopened.
 */
#ifndef KX_HTTP_H
#define KX_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "kx_curl.h"

struct event_base;

typedef struct kx_http kx_http;

typedef struct kx_http_response {
    long status;             /* HTTP status; 0 if no answer came          */
    int curl_code;           /* CURLE_OK or the transport failure          */
    bool timed_out;          /* CURLE_OPERATION_TIMEDOUT                   */
    const char *error;       /* curl's description when curl_code != 0     */
    const char *body;        /* NUL-terminated ("" if discarded)           */
    size_t body_len;
    const char *headers;     /* raw header block, NUL-terminated           */
    size_t headers_len;
} kx_http_response;

typedef void (*kx_http_cb)(void *ud, const kx_http_response *r);

typedef struct kx_http_request {
    const char *method;      /* "GET", "POST", "DELETE", "PUT"             */
    const char *url;         /* http:// or https:// only; never redirected */
    const char *body;        /* request body (copied) or NULL              */
    const char *const *headers; /* "Name: value" lines                     */
    size_t n_headers;
    long timeout_ms;         /* the whole transfer                         */
    long connect_timeout_ms; /* 0: timeout_ms                              */
    const char *user_agent;  /* NULL: none                                 */
    /* The answer's body and headers are not kept (a webhook reads only the
     * status): an endpoint cannot make us buffer anything. */
    bool discard_answer;
    /* A new connection: curl silently resends a request on a reused
     * connection that died before answering, which for an order would send
     * it twice. Non-idempotent requests set this. */
    bool fresh_connection;
} kx_http_request;

/* NULL if curl's global init, the multi handle or the timer fail. */
kx_http *kx_http_new(kx_curl *curl, struct event_base *base);
/* Pending transfers are dropped without calling their callbacks (and the
 * kx_curl table is then pinned: see kx_curl_close). */
void kx_http_free(kx_http *h);
/* Returns 0, or -1 if the transfer could not be started (cb is not called). */
int kx_http_send(kx_http *h, const kx_http_request *req, kx_http_cb cb, void *ud);
/* Transfers started and not finished. */
size_t kx_http_active(const kx_http *h);

/* Find header `name` (case-insensitive) in a raw block; copies the trimmed
 * value. Returns true if found. */
bool kx_http_header(const char *headers, const char *name, char *out, size_t outlen);

#endif
