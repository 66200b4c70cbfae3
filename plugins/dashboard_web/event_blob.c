/* event_blob.c — see event_blob.h. */
#include "event_blob.h"
#include "json_encode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One encoder per type, from the registry (qtr/event_types.h): a row whose
 * jw_<json>() does not exist does not compile. */
#define ENCODER(value, ID, name, payload, member, publisher, via, symbol, store, json) \
    static void encode_##json##_##member(jw *w, const qtr_event *ev) { jw_##json(w, &ev->u.member); }
QTR_EVENT_TYPES(ENCODER)
#undef ENCODER

#define ENCODER_ENTRY(value, ID, name, payload, member, publisher, via, symbol, store, json) \
    [QTR_EV_##ID] = encode_##json##_##member,
static void (*const encoders[QTR_EV__COUNT])(jw *, const qtr_event *) = { QTR_EVENT_TYPES(ENCODER_ENTRY) };
#undef ENCODER_ENTRY

bool event_has_encoder(qtr_event_type type) { return (unsigned)type < QTR_EV__COUNT && encoders[type]; }

bool event_payload_write(jw *w, const qtr_event *ev)
{
    if (!event_has_encoder(ev->type)) return false;
    encoders[ev->type](w, ev);
    return true;
}

void event_coalesce_key(const qtr_event *ev, char *key, size_t cap)
{
    const char *name = qtr_event_type_name(ev->type);
    switch (ev->type) {
    case QTR_EV_POSITION: case QTR_EV_MARK_PRICE: case QTR_EV_BOOK_TOP: case QTR_EV_REGIME:
        snprintf(key, cap, "%s:%.*s", name, QTR_SYMBOL_MAX, ev->u.position.symbol);
        break;
    case QTR_EV_HEALTH:
        snprintf(key, cap, "%s:%.*s", name, QTR_NAME_MAX, ev->u.health.component);
        break;
    case QTR_EV_EQUITY: case QTR_EV_ESS_STATE:
        snprintf(key, cap, "%s", name);
        break;
    default:
        if (cap) key[0] = '\0';
        break;
    }
}

event_blob *event_blob_new(const qtr_event *ev, uint64_t id, int64_t publish_ns)
{
    char stack[2048];
    jw w;
    jw_init(&w, stack, sizeof stack);
    jw_begin_object(&w);
    jw_key(&w, "id");
    jw_int(&w, (long long)id);
    jw_key(&w, "type");
    jw_string(&w, qtr_event_type_name(ev->type));
    jw_key(&w, "time");
    jw_int(&w, ev->time_ms);
    if (ev->flags & QTR_EVF_REPLAY) { jw_key(&w, "replay"); jw_bool(&w, true); }
    jw_key(&w, "payload");
    bool known = event_payload_write(&w, ev);
    jw_end_object(&w);
    event_blob *b = known && !w.failed ? malloc(sizeof *b + w.len + 1) : NULL;
    if (b) {
        b->refs = 1;
        b->id = id;
        b->type = ev->type;
        event_coalesce_key(ev, b->key, sizeof b->key);
        b->publish_ns = publish_ns;
        b->len = w.len;
        memcpy(b->json, w.buf, w.len);
        b->json[w.len] = '\0';
    }
    jw_free(&w);
    return b;
}

void event_blob_ref(event_blob *b) { b->refs++; }

void event_blob_unref(event_blob *b)
{
    if (b && --b->refs == 0) free(b);
}
