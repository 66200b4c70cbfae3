/* event_blob.c — see event_blob.h. */
#include "event_blob.h"
#include "json_encode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool event_payload_write(jw *w, const qtr_event *ev)
{
    switch (ev->type) {
    case QTR_EV_CANDLE: jw_candle(w, &ev->u.candle); return true;
    case QTR_EV_TRADE: jw_trade(w, &ev->u.trade); return true;
    case QTR_EV_BOOK_TOP: jw_book_top(w, &ev->u.book_top); return true;
    case QTR_EV_MARK_PRICE: jw_mark_price(w, &ev->u.mark_price); return true;
    case QTR_EV_SIGNAL: jw_signal(w, &ev->u.signal); return true;
    case QTR_EV_ORDER_INTENT: jw_order_intent(w, &ev->u.order_intent); return true;
    case QTR_EV_ORDER_UPDATE: jw_order_update(w, &ev->u.order_update); return true;
    case QTR_EV_FILL: jw_fill(w, &ev->u.fill); return true;
    case QTR_EV_POSITION: jw_position(w, &ev->u.position); return true;
    case QTR_EV_ESS_STATE: jw_ess_event(w, &ev->u.ess); return true;
    case QTR_EV_POLICY: jw_policy_event(w, &ev->u.policy); return true;
    case QTR_EV_HEALTH: jw_health_event(w, &ev->u.health); return true;
    case QTR_EV_ALERT: jw_alert(w, &ev->u.alert); return true;
    case QTR_EV_EQUITY: jw_account(w, &ev->u.equity); return true;
    default: return false;
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
