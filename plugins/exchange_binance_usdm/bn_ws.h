/*
 * bn_ws — one client WebSocket connection on the host's libevent loop:
 * ws:// over a plain socket (the mock) or wss:// over OpenSSL (live), the
 * RFC 6455 opening handshake, and framing through wslay. It never
 * reconnects by itself: the stream above it (bn_stream.c) decides when.
 * After on_close has been called the connection is dead; free it with
 * bn_ws_free (never from inside a callback: bn_stream defers that).
 */
#ifndef BN_WS_H
#define BN_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evdns_base;
typedef struct bn_ws bn_ws;

typedef struct bn_ws_callbacks {
    void (*on_open)(void *ud);
    /* A whole text message (never split, at most max_msg bytes). */
    void (*on_message)(void *ud, const char *text, size_t len);
    /* Once, when the connection ends for any reason (why: what happened). */
    void (*on_close)(void *ud, const char *why);
    /* Any frame arrived (text, ping, pong): the connection is alive. */
    void (*on_activity)(void *ud);
} bn_ws_callbacks;

/* url: ws://host[:port]/path or wss://host[:port]/path. wss:// trusts the
 * system's CAs, or only those in ca_file (PEM) when it is set, and the
 * certificate must name the host (a DNS name, or an IP address). A message
 * longer than max_msg is a protocol error: the connection closes (1009).
 * NULL with err filled if the URL is not usable or nothing could be set up. */
bn_ws *bn_ws_open(struct event_base *base, struct evdns_base *dns, const char *url, const char *ca_file, size_t max_msg,
                  int64_t timeout_ms, const bn_ws_callbacks *cb, void *ud, char *err, size_t errlen);
void bn_ws_free(bn_ws *ws);
bool bn_ws_is_open(const bn_ws *ws);
/* Ask the server for a pong (the stream's stall check). */
void bn_ws_ping(bn_ws *ws);

/* Sec-WebSocket-Accept for a client key: base64(SHA1(key + GUID)). */
void bn_ws_accept_key(const char *client_key, char out[32]);

#endif
