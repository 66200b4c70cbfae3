/* client_queue — the bounded queue of events waiting for one WebSocket
 * client. When the client falls behind (the queue is full), the oldest event
 * is dropped and counted as missed, except that state-like events (position,
 * equity, ESS, health, mark, book) are kept as the latest one per key, so a
 * lagging client still ends up with the current state. Order is kept: what
 * take() returns is always in increasing id. Memory: at most cap + CQ_KEYS
 * references. */
#ifndef DASH_CLIENT_QUEUE_H
#define DASH_CLIENT_QUEUE_H

#include "event_blob.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CQ_KEYS 64

typedef struct client_queue {
    event_blob **ring;
    size_t cap, head, count;
    event_blob *latest[CQ_KEYS];  /* dropped state events, sorted by id      */
    size_t n_latest;
    uint64_t missed;              /* dropped since the last take            */
    uint64_t missed_total;
} client_queue;

/* cap >= 1. Returns false on allocation failure. */
bool cq_init(client_queue *q, size_t cap);
void cq_free(client_queue *q);           /* drops every reference */

/* Queue b (takes a new reference of its own). */
void cq_push(client_queue *q, event_blob *b);

/* Events waiting (not counting the missed count). */
size_t cq_pending(const client_queue *q);

/* Move up to max events into out, oldest first; the caller owns those
 * references. *missed receives the count dropped since the last take. */
size_t cq_take(client_queue *q, event_blob **out, size_t max, uint64_t *missed);

#endif
