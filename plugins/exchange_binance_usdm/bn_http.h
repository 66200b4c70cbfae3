/*
 * bn_http — asynchronous HTTP over libcurl's multi interface driven by a
 * libevent loop (the "hiperfifo" pattern): curl tells us which sockets to
 * watch and when to wake it; nothing ever blocks the loop.
 */
#ifndef BN_HTTP_H
#define BN_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;

typedef struct bn_http bn_http;

typedef struct bn_http_response {
    long status;             /* HTTP status; 0 if no answer came          */
    int curl_code;           /* CURLE_OK or the transport failure          */
    bool timed_out;          /* CURLE_OPERATION_TIMEDOUT                   */
    const char *error;       /* curl's description when curl_code != 0     */
    const char *body;        /* NUL-terminated                             */
    size_t body_len;
    const char *headers;     /* raw header block, NUL-terminated           */
    size_t headers_len;
} bn_http_response;

typedef void (*bn_http_cb)(void *ud, const bn_http_response *r);

typedef struct bn_http_request {
    const char *method;      /* "GET", "POST", "DELETE", "PUT"             */
    const char *url;
    const char *body;        /* form body or NULL                          */
    const char *const *headers; /* "Name: value" lines                     */
    size_t n_headers;
    long timeout_ms;
    /* A new connection: curl silently resends a request on a reused
     * connection that died before answering, which for an order would send
     * it twice. Non-idempotent requests set this. */
    bool fresh_connection;
} bn_http_request;

bn_http *bn_http_new(struct event_base *base);
/* Pending transfers are dropped without calling their callbacks. */
void bn_http_free(bn_http *h);
/* Returns 0, or -1 if the transfer could not be started (cb is not called). */
int bn_http_send(bn_http *h, const bn_http_request *req, bn_http_cb cb, void *ud);
/* Transfers started and not finished. */
size_t bn_http_active(const bn_http *h);

/* Find header `name` (case-insensitive) in a raw block; copies the trimmed
 * value. Returns true if found. */
bool bn_http_header(const char *headers, const char *name, char *out, size_t outlen);

#endif
