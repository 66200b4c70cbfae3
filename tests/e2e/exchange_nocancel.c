/*
 * A test exchange that refuses every cancel (as an exchange in trouble may):
 * market orders fill at once at the last close, limit orders rest for ever.
 * tests/e2e/test_misbehave.py uses it to check that an ESS trip still
 * flattens when the orders resting on a symbol cannot be cancelled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qtr/plugin.h>

typedef struct ex {
    const qtr_host *h;
    qtr_ctx *ctx;
    qtr_candle last;
    unsigned long fills;
} ex;

static void on_candle(void *ud, const qtr_event *ev) { ((ex *)ud)->last = ev->u.candle; }

static void update(ex *x, const qtr_order_intent *o, qtr_order_status st, qtr_dec filled, qtr_dec avg)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_ORDER_UPDATE;
    ev.time_ms = x->h->now_ms(x->ctx);
    qtr_order_update_for_intent(o, st, "", ev.time_ms, &ev.u.order_update);
    ev.u.order_update.filled_qty = filled;
    ev.u.order_update.avg_price = avg;
    x->h->publish(x->ctx, &ev);
}

static int submit(void *state, const qtr_order_intent *o)
{
    ex *x = state;
    update(x, o, QTR_OS_NEW, 0, 0);
    if (o->type != QTR_ORDER_MARKET) return QTR_OK;          /* rests */
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_FILL;
    ev.time_ms = x->h->now_ms(x->ctx);
    qtr_fill *f = &ev.u.fill;
    qtr_strlcpy(f->symbol, o->symbol, sizeof f->symbol);
    qtr_strlcpy(f->client_id, o->client_id, sizeof f->client_id);
    snprintf(f->fill_id, sizeof f->fill_id, "nc-%lu", ++x->fills);
    f->side = o->side;
    f->qty = o->qty;
    f->price = x->last.close;
    f->reduce_only = o->reduce_only;
    f->time_ms = ev.time_ms;
    x->h->publish(x->ctx, &ev);
    update(x, o, QTR_OS_FILLED, o->qty, x->last.close);
    return QTR_OK;
}

static int cancel(void *state, const char *symbol, const char *client_id)
{
    ex *x = state;
    x->h->log(x->ctx, QTR_LOG_WARN, "cancel %s %s refused", symbol, client_id);
    return QTR_EIO;
}

static int cancel_all(void *state, const char *symbol)
{
    ex *x = state;
    x->h->log(x->ctx, QTR_LOG_WARN, "cancel all %s refused", symbol ? symbol : "(every symbol)");
    return QTR_EIO;
}

static int init(const qtr_host *h, qtr_ctx *ctx, void **out)
{
    ex *x = calloc(1, sizeof *x);
    if (!x) return -1;
    x->h = h;
    x->ctx = ctx;
    if (!h->subscribe(ctx, QTR_EV_CANDLE, NULL, on_candle, x)) { free(x); return -1; }
    *out = x;
    return 0;
}

static void destroy(void *state) { free(state); }

static const qtr_exchange_ops ops = { .size = sizeof ops, .submit_order = submit, .cancel_order = cancel,
                                      .cancel_all = cancel_all };
QTR_PLUGIN_DEFINE(.kind = QTR_KIND_EXCHANGE, .name = "nocancel", .version = "1", .init = init, .destroy = destroy,
                  .exchange = &ops)
