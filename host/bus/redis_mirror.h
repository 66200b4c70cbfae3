/*
 * The Redis mirror: events of this host go to Redis Streams, one stream per
 * type (<prefix>:<type>), on the host's libevent loop through hiredis's async
 * API. Nothing here blocks the loop on Redis: events are queued in memory
 * and written in pipelined batches (batch_max events, or after flush_ms).
 *
 * Each batch is one EVAL of a small script (mirror_script.h) that XADDs
 * every event whose (host_id, seq) is above the last one that stream holds
 * from this host, remembers the new last and trims (MAXLEN ~) each stream. Writing a batch twice (a reply lost when
 * Redis died or froze, a replay after a crash) therefore adds nothing twice:
 * every event reaches its stream once, in order.
 *
 * When Redis is unreachable (refused, reset, no reply within 2 s), every
 * event not acknowledged goes to the disk buffer, in order, and so does
 * every new one, until the buffer has been replayed and acknowledged after a
 * reconnect (backoff 100 ms doubling to 5 s, +-50% jitter). A full buffer
 * refuses the event (QTR_EFULL), counts it, turns health CRITICAL and calls
 * on_full once (the engine raises an alert, and trips the ESS on an
 * execution host).
 */
#ifndef QH_BUS_REDIS_MIRROR_H
#define QH_BUS_REDIS_MIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/events.h>

#include "bus/bus_config.h"
#include "core/metrics.h"

struct event_base;
typedef struct qh_mirror qh_mirror;

typedef struct qh_mirror_opts {
    struct event_base *base;
    const qh_bus_config *cfg;
    const char *redis_ip;          /* cfg->redis.host resolved to an address literal */
    const char *buffer_path;       /* the disk buffer file */
    const char *seq_path;          /* the sequence file (event_seq.h) */
    qh_metrics *metrics;           /* NULL: none */
    void (*on_full)(void *ud, const char *why);
    void *ud;
    int64_t reply_timeout_ms;      /* 0: 2000 */
    uint64_t urgent_types;         /* bit (1 << type): sent at the end of the loop turn that
                                      published them, not after flush_ms (a strategy host's signals) */
} qh_mirror_opts;

typedef struct qh_mirror_stats {
    bool connected;
    uint64_t mirrored;             /* acknowledged by Redis (direct and replayed) */
    uint64_t buffered;             /* written to the disk buffer */
    uint64_t replayed;             /* acknowledged from the disk buffer */
    uint64_t dropped;              /* refused: buffer full */
    uint64_t already_there;        /* sent again, skipped by Redis (exactly once) */
    uint64_t reconnects, batches;
    size_t buffer_depth, buffer_capacity, in_memory;
    int64_t lag_ms;                /* age of the oldest event not yet acknowledged */
    double rtt_ms;                 /* last batch's round trip */
    uint64_t last_seq;
    char last_error[160];
} qh_mirror_stats;

/* Opens the buffer and the sequence, and starts connecting. NULL with one
 * line in err (a corrupt buffer, an unwritable state folder). */
qh_mirror *qh_mirror_new(const qh_mirror_opts *o, char *err, size_t errlen);
/* Events not acknowledged are written to the disk buffer and synced. */
void qh_mirror_free(qh_mirror *m);

/* Queue one event. QTR_OK; QTR_EFULL (buffer full, refused and counted);
 * QTR_EIO (no sequence number could be made durable, or a write failed);
 * QTR_EINVAL (a type the codec does not know). seq_out may be NULL. */
int qh_mirror_publish(qh_mirror *m, const qtr_event *ev, uint64_t *seq_out);

void qh_mirror_stats_get(const qh_mirror *m, qh_mirror_stats *out);
void qh_mirror_health(const qh_mirror *m, qtr_health *out);
/* Sends what is queued now (tests, shutdown). */
void qh_mirror_flush(qh_mirror *m);

#endif
