/* client_queue.c — see client_queue.h. */
#include "client_queue.h"

#include <stdlib.h>
#include <string.h>

bool cq_init(client_queue *q, size_t cap)
{
    memset(q, 0, sizeof *q);
    if (cap < 1) cap = 1;
    q->ring = calloc(cap, sizeof *q->ring);
    if (!q->ring) return false;
    q->cap = cap;
    return true;
}

void cq_free(client_queue *q)
{
    for (size_t i = 0; i < q->count; i++) event_blob_unref(q->ring[(q->head + i) % q->cap]);
    for (size_t i = 0; i < q->n_latest; i++) event_blob_unref(q->latest[i]);
    free(q->ring);
    memset(q, 0, sizeof *q);
}

size_t cq_pending(const client_queue *q) { return q->count + q->n_latest; }

static void drop(client_queue *q, event_blob *b)
{
    event_blob_unref(b);
    q->missed++;
    q->missed_total++;
}

static void remove_latest(client_queue *q, size_t i)
{
    memmove(&q->latest[i], &q->latest[i + 1], (q->n_latest - i - 1) * sizeof q->latest[0]);
    q->n_latest--;
}

/* b leaves the ring's head unsent: keep it if it is the newest state of its
 * key. Everything in `latest` is older than it, so appending keeps the order. */
static void keep_latest(client_queue *q, event_blob *b)
{
    if (!b->key[0]) { drop(q, b); return; }
    for (size_t i = 0; i < q->n_latest; i++)
        if (strcmp(q->latest[i]->key, b->key) == 0) {
            drop(q, q->latest[i]);
            remove_latest(q, i);
            break;
        }
    if (q->n_latest == CQ_KEYS) {     /* too many keys: the oldest goes */
        drop(q, q->latest[0]);
        remove_latest(q, 0);
    }
    q->latest[q->n_latest++] = b;
}

void cq_push(client_queue *q, event_blob *b)
{
    event_blob_ref(b);
    if (q->count == q->cap) {
        event_blob *old = q->ring[q->head];
        q->head = (q->head + 1) % q->cap;
        q->count--;
        keep_latest(q, old);
    }
    q->ring[(q->head + q->count) % q->cap] = b;
    q->count++;
}

size_t cq_take(client_queue *q, event_blob **out, size_t max, uint64_t *missed)
{
    size_t n = 0;
    size_t from_latest = q->n_latest < max ? q->n_latest : max;
    for (; n < from_latest; n++) out[n] = q->latest[n];
    memmove(&q->latest[0], &q->latest[from_latest], (q->n_latest - from_latest) * sizeof q->latest[0]);
    q->n_latest -= from_latest;
    while (n < max && q->count) {
        out[n++] = q->ring[q->head];
        q->head = (q->head + 1) % q->cap;
        q->count--;
    }
    if (missed) *missed = q->missed;
    q->missed = 0;
    return n;
}
