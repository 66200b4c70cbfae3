/*
 * The consumer side of the bus: this host reads the streams of the types in
 * bus.consume through its consumer group (bus.group; the consumer is named
 * after host_id), on the host's libevent loop, on a connection of its own.
 *
 *  - XREADGROUP (COUNT, BLOCK 50 ms) delivers entries; each is decoded, its
 *    fields h and s checked against the envelope's host and number, passed
 *    through the dedupe window (host_id, seq: a replay, a claim or a duplicate
 *    delivery is dropped and counted), a signal older than max_age_ms is
 *    refused as stale (counted, never executed late), and the rest go to the
 *    handler. An entry is acknowledged (XACK, written to the socket before
 *    anything the handler set in motion runs) after the handler has dealt with it (queued, or refused with its reason)
 *    and never before; one the handler could not take stays pending.
 *  - Every claim_idle_ms / 2, XAUTOCLAIM takes entries a dead member left
 *    pending longer than claim_idle_ms; they go the same way.
 *  - Every second, XPENDING counts what this group still has pending.
 *  - A reply over 8 MiB closes the connection before it is read whole
 *    (redis_conn.h): an entry far larger than any event is pending. At the
 *    reconnect a script acknowledges this consumer's pending entries over
 *    QH_BUS_ENTRY_MAX bytes, measured inside Redis, and they are refused;
 *    then reading goes on.
 *
 * The execution hosts share a group on the signal stream (each signal to one
 * of them); a type every host needs whole (candles for each strategy host)
 * is read in a group of the host's own (bus_link.c makes that consumer).
 * A signal stream's group starts at the stream's beginning (a signal sent
 * before the group existed is then refused as stale, not lost); the other
 * types start at new entries.
 */
#ifndef QH_BUS_REDIS_CONSUMER_H
#define QH_BUS_REDIS_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/bus_config.h"
#include "bus/event_codec.h"
#include "core/metrics.h"

struct event_base;
typedef struct qh_consumer qh_consumer;

/* 0: handled (queued, or refused with a reason): acknowledge it. Non-zero:
 * not handled; it stays pending for this or another member. ev->stream and
 * ev->entry name the entry (valid during the call). */
typedef int (*qh_consumer_fn)(void *ud, const qh_busev *ev);

typedef struct qh_consumer_opts {
    struct event_base *base;
    const qh_bus_config *cfg;
    const char *redis_ip;
    uint64_t types;                  /* bit (1 << type) of the streams to read; 0: cfg->consume */
    const char *group;               /* NULL: cfg->group */
    qh_consumer_fn handler;
    void *ud;
    int64_t (*now_ms)(void *ud);     /* the host clock, for stale signals (NULL: wall clock) */
    int64_t max_age_ms;              /* signals older are refused; 0: never */
    qh_metrics *metrics;             /* NULL: none */
    int64_t reply_timeout_ms;        /* 0: 2000 */
} qh_consumer_opts;

typedef struct qh_consumer_stats {
    bool connected;
    uint64_t delivered, handled, duplicates, stale, undecodable, not_handled, claimed, acked;
    int64_t pending;                 /* of this group, all streams, at the last XPENDING */
    char last_error[160];
    /* entries refused for what they are: unsigned, or with a mac that does
     * not check, where bus.key_env is set (signed where it is not), larger
     * than any event (QH_BUS_ENTRY_MAX, swept after a reply too large), fields
     * h/s that disagree with the envelope (or missing), of another type
     * than their stream, below the dedupe window, from a host beyond those
     * it can remember */
    uint64_t refused;
    uint64_t replies_too_large;      /* connections closed on a reply over 8 MiB (redis_conn.h) */
    uint64_t accept_key;             /* of those handled, signed with bus.accept_key_env's key */
    int64_t last_refused_ms;         /* host clock; 0 none */
    char last_refusal[320];          /* "<stream> <id>: <why>", each bounded to fit */
} qh_consumer_stats;

qh_consumer *qh_consumer_new(const qh_consumer_opts *o, char *err, size_t errlen);
void qh_consumer_free(qh_consumer *c);
void qh_consumer_stats_get(const qh_consumer *c, qh_consumer_stats *out);
/* Bytes of commands (XACKs) not yet written to the socket (tests). */
size_t qh_consumer_unsent_bytes(const qh_consumer *c);

#endif
