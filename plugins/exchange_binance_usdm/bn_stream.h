/*
 * bn_stream — one WebSocket stream that stays up: it reconnects after any
 * close with a bounded exponential backoff and jitter, pings the server and
 * calls a stream stalled when nothing (not even a pong) arrived for
 * stall_ms, and tells its owner when it goes live or down so the owner can
 * fall back to REST polling and resync over REST after every reconnect.
 * Messages are handled as they arrive (no queue): a flood costs time, never
 * memory. Used by the user data stream and the combined market stream.
 */
#ifndef BN_STREAM_H
#define BN_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bn_plugin;
struct bn_ws;
struct event;

typedef struct bn_stream bn_stream;

typedef struct bn_stream_ops {
    /* Time to (re)connect: build what is needed and call bn_stream_connect
     * (now or later, e.g. after a listenKey request), or bn_stream_down. */
    void (*connect)(bn_stream *s);
    void (*on_live)(bn_stream *s);                    /* connected: resync over REST */
    void (*on_down)(bn_stream *s, const char *why);   /* fall back to polling        */
    void (*on_message)(bn_stream *s, const char *text, size_t len);
} bn_stream_ops;

struct bn_stream {
    struct bn_plugin *p;
    const char *name;               /* "user", "market": logs and metrics */
    const bn_stream_ops *ops;
    void *ud;
    struct bn_ws *ws;
    struct bn_ws *dead;             /* closed in a callback: freed later  */
    struct event *retry_ev, *stall_ev, *ping_ev, *reap_ev;
    struct evdns_base *dns;         /* names resolved without blocking    */
    int failures;                   /* in a row, for the backoff          */
    bool live, stopped;
    int64_t opened_us;
    char reason[160];               /* why it is down (health)            */
    uint64_t messages, malformed, reconnects;
};

int bn_stream_init(bn_stream *s, struct bn_plugin *p, const char *name, const bn_stream_ops *ops, void *ud);
/* Start: ops->connect now. */
void bn_stream_start(bn_stream *s);
void bn_stream_connect(bn_stream *s, const char *url);
/* Close (if open), tell on_down and reconnect after the backoff. */
void bn_stream_down(bn_stream *s, const char *why);
/* A message that could not be read: counted and logged, nothing applied. */
void bn_stream_malformed(bn_stream *s, const char *why);
void bn_stream_free(bn_stream *s);

#endif
