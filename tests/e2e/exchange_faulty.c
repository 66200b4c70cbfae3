/*
 * A test exchange that reports a broken fill, as a faulty exchange plugin
 * might (tests/e2e/test_misbehave.py). Market orders fill at once at the
 * last close; option `mode`:
 *   id_less_fill   on the 3rd candle publishes a fill without a fill id
 *   poison_fill    on the 3rd candle publishes a fill no portfolio can hold
 * Built from the SDK header alone, with one cc line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qtr/plugin.h>

typedef struct ex {
    const qtr_host *h;
    qtr_ctx *ctx;
    const char *mode;
    qtr_candle last;
    int candles;
    unsigned long fills;
} ex;

static void publish_fill(ex *x, const char *symbol, const char *client_id, const char *fill_id, qtr_side side,
                         qtr_dec qty, qtr_dec price, bool reduce_only)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_FILL;
    ev.time_ms = x->h->now_ms(x->ctx);
    qtr_fill *f = &ev.u.fill;
    qtr_strlcpy(f->symbol, symbol, sizeof f->symbol);
    qtr_strlcpy(f->client_id, client_id, sizeof f->client_id);
    qtr_strlcpy(f->fill_id, fill_id, sizeof f->fill_id);
    f->side = side;
    f->qty = qty;
    f->price = price;
    f->reduce_only = reduce_only;
    f->time_ms = ev.time_ms;
    int rc = x->h->publish(x->ctx, &ev);
    if (rc != QTR_OK) x->h->log(x->ctx, QTR_LOG_ERROR, "publishing fill %s returned %d", fill_id, rc);
}

static void on_candle(void *ud, const qtr_event *ev)
{
    ex *x = ud;
    x->last = ev->u.candle;
    if (++x->candles != 3) return;
    if (strcmp(x->mode, "id_less_fill") == 0)
        publish_fill(x, x->last.symbol, "nobody-1", "", QTR_SIDE_BUY, QTR_DEC_INT(2), x->last.close, false);
    if (strcmp(x->mode, "poison_fill") == 0)
        publish_fill(x, x->last.symbol, "nobody-1", "poison-1", QTR_SIDE_BUY, QTR_DEC_INT(2), QTR_DEC_INT(90000000000),
                     false);
}

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
    char id[QTR_CLIENT_ID_MAX];
    snprintf(id, sizeof id, "faulty-%lu", ++x->fills);
    publish_fill(x, o->symbol, o->client_id, id, o->side, o->qty, x->last.close, o->reduce_only);
    update(x, o, QTR_OS_FILLED, o->qty, x->last.close);
    return QTR_OK;
}

static int cancel(void *state, const char *symbol, const char *client_id)
{
    (void)state;
    (void)symbol;
    (void)client_id;
    return QTR_OK;
}

static const qtr_option options[] = {
    { .name = "mode", .type = QTR_OPT_STRING, .flags = QTR_OPT_REQUIRED, .help = "what to get wrong" },
    { .name = NULL },
};

static int init(const qtr_host *h, qtr_ctx *ctx, void **out)
{
    ex *x = calloc(1, sizeof *x);
    if (!x) return -1;
    x->h = h;
    x->ctx = ctx;
    if (h->config_string(ctx, "mode", &x->mode) != QTR_OK || !h->subscribe(ctx, QTR_EV_CANDLE, NULL, on_candle, x)) {
        free(x);
        return -1;
    }
    *out = x;
    return 0;
}

static void destroy(void *state) { free(state); }

static const qtr_exchange_ops ops = { .size = sizeof ops, .submit_order = submit, .cancel_order = cancel };
QTR_PLUGIN_DEFINE(.kind = QTR_KIND_EXCHANGE, .name = "faulty", .version = "1", .options = options, .init = init,
                  .destroy = destroy, .exchange = &ops)
