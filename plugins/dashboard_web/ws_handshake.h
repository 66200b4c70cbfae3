/* ws_handshake — the server side of the RFC 6455 opening handshake. */
#ifndef DASH_WS_HANDSHAKE_H
#define DASH_WS_HANDSHAKE_H

#include "host_allow.h"
#include "http_parse.h"

#include <stdbool.h>
#include <stddef.h>

#define WS_ACCEPT_LEN 29   /* base64 of a SHA-1, with the NUL */

/* Sec-WebSocket-Accept for a client key: base64(SHA1(key + GUID)). */
bool ws_accept_key(const char *client_key, char out[WS_ACCEPT_LEN]);

/* Checks an upgrade request. Returns 0 if acceptable, else the HTTP status
 * (400 bad handshake, 403 cross-origin, 426 other WebSocket version) with a
 * short reason in *why. */
int ws_check_upgrade(const http_request *req, const host_allow *allowed, const char **why);

/* True if the Origin header is absent (not a browser) or names the same
 * host:port as the Host header and that host is an allowed one: blocks
 * other web sites (a rebinding one too, whose Host is its own name) from
 * reading the live feed through the operator's browser. */
bool ws_origin_allowed(const char *origin, const char *host, const host_allow *allowed);

#endif
