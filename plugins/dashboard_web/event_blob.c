/* event_blob.c — see event_blob.h. */
#include "event_blob.h"
#include "json_encode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *event_payload_json(const qtr_event *ev)
{
    switch (ev->type) {
    case QTR_EV_CANDLE: return json_candle(&ev->u.candle);
    case QTR_EV_TRADE: return json_trade(&ev->u.trade);
    case QTR_EV_BOOK_TOP: return json_book_top(&ev->u.book_top);
    case QTR_EV_MARK_PRICE: return json_mark_price(&ev->u.mark_price);
    case QTR_EV_SIGNAL: return json_signal(&ev->u.signal);
    case QTR_EV_ORDER_INTENT: return json_order_intent(&ev->u.order_intent);
    case QTR_EV_ORDER_UPDATE: return json_order_update(&ev->u.order_update);
    case QTR_EV_FILL: return json_fill(&ev->u.fill);
    case QTR_EV_POSITION: return json_position(&ev->u.position);
    case QTR_EV_ESS_STATE: return json_ess_event(&ev->u.ess);
    case QTR_EV_POLICY: return json_policy_event(&ev->u.policy);
    case QTR_EV_HEALTH: return json_health_event(&ev->u.health);
    case QTR_EV_ALERT: return json_alert(&ev->u.alert);
    case QTR_EV_EQUITY: return json_account(&ev->u.equity);
    default: return NULL;
    }
}

void event_coalesce_key(const qtr_event *ev, char *key, size_t cap)
{
    const char *name = qtr_event_type_name(ev->type);
    switch (ev->type) {
    case QTR_EV_POSITION: case QTR_EV_MARK_PRICE: case QTR_EV_BOOK_TOP:
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
    json_t *payload = event_payload_json(ev);
    if (!payload) return NULL;
    json_t *env = json_object();
    json_object_set_new(env, "id", json_integer((json_int_t)id));
    json_object_set_new(env, "type", json_string(qtr_event_type_name(ev->type)));
    json_object_set_new(env, "time", json_integer(ev->time_ms));
    if (ev->flags & QTR_EVF_REPLAY) json_object_set_new(env, "replay", json_true());
    json_object_set_new(env, "payload", payload);
    char *text = json_dumps(env, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(env);
    if (!text) return NULL;
    size_t len = strlen(text);
    event_blob *b = malloc(sizeof *b + len + 1);
    if (b) {
        b->refs = 1;
        b->id = id;
        b->type = ev->type;
        event_coalesce_key(ev, b->key, sizeof b->key);
        b->publish_ns = publish_ns;
        b->len = len;
        memcpy(b->json, text, len + 1);
    }
    free(text);
    return b;
}

void event_blob_ref(event_blob *b) { b->refs++; }

void event_blob_unref(event_blob *b)
{
    if (b && --b->refs == 0) free(b);
}
