/* event_blob — one bus event encoded to JSON once and shared, by reference
 * count, by every WebSocket client queue that holds it. */
#ifndef DASH_EVENT_BLOB_H
#define DASH_EVENT_BLOB_H

#include "json_encode.h"

#include <qtr/plugin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLOB_KEY_MAX 48

typedef struct event_blob {
    uint32_t refs;
    uint64_t id;               /* bus order as the dashboard saw it, from 1 */
    qtr_event_type type;
    char key[BLOB_KEY_MAX];    /* state key for coalescing ("position:BTCUSDT"); "" = none */
    int64_t publish_ns;        /* monotonic, when the dashboard received it */
    size_t len;
    char json[];               /* {"id":…,"type":…,"time":…,"payload":{…}} */
} event_blob;

/* Encode ev; NULL on allocation failure. refs starts at 1. */
event_blob *event_blob_new(const qtr_event *ev, uint64_t id, int64_t publish_ns);
void event_blob_ref(event_blob *b);
void event_blob_unref(event_blob *b);

/* Write the JSON payload of an event; false (nothing written) for unknown types. */
bool event_payload_write(jw *w, const qtr_event *ev);
/* True if the registry gave this type a JSON encoder (every type has one). */
bool event_has_encoder(qtr_event_type type);

/* The coalescing key of a state-like event into key (cap bytes); "" if the
 * event is a one-off (fills, orders, signals, alerts ...) that must not be
 * replaced by a later one. */
void event_coalesce_key(const qtr_event *ev, char *key, size_t cap);

#endif
