/* router — maps a parsed request to its handler (api.c, page.c) and answers
 * 404 for unknown paths and 405 (with Allow) for wrong methods. */
#ifndef DASH_ROUTER_H
#define DASH_ROUTER_H

#include "dash.h"
#include "http_server.h"

typedef void (*route_fn)(dash *d, const http_request *req, const char *body, size_t body_len, const char *peer,
                         http_response *res);

typedef struct route {
    const char *path;
    const char *method;                /* "GET" also answers HEAD */
    route_fn fn;
} route;

void router_dispatch(dash *d, const http_request *req, const char *body, size_t body_len, const char *peer,
                     http_response *res);

/* True for what an operator must always get through, even when the server
 * is full: GET/HEAD /health/all and /metrics, and a POST with the right
 * bearer token (so the ESS can always be tripped). */
bool router_is_operator(const dash *d, const http_request *req);

/* True if path is the WebSocket endpoint. */
bool router_is_ws(const char *path);

#endif
