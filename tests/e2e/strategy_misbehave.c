/*
 * A test strategy that does what a faulty plugin might, to check how the
 * host copes (tests/e2e/test_misbehave.py). Option `mode`:
 *   forge_fill     on the 3rd candle publishes what only an exchange or the
 *                  host may: a fill, an order update, a position and an ESS
 *                  state (each refused; it logs what publish returned)
 *   trip_with_tp   buys, rests a reduce-only take-profit far away, then trips
 *                  the ESS by hand on the 6th candle
 * Built from the SDK header alone, with one cc line.
 */
#include <stdlib.h>
#include <string.h>

#include <qtr/plugin.h>

typedef struct st {
    const qtr_host *h;
    qtr_ctx *ctx;
    const char *mode;
    int candles;
} st;

static void forge(st *s, const qtr_candle *c)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_FILL;
    qtr_strlcpy(ev.u.fill.symbol, c->symbol, sizeof ev.u.fill.symbol);
    qtr_strlcpy(ev.u.fill.fill_id, "forged-1", sizeof ev.u.fill.fill_id);
    qtr_strlcpy(ev.u.fill.client_id, "nobody-1", sizeof ev.u.fill.client_id);
    ev.u.fill.side = QTR_SIDE_BUY;
    ev.u.fill.qty = QTR_DEC_INT(2);
    ev.u.fill.price = c->close;
    ev.u.fill.time_ms = c->close_time_ms;
    s->h->log(s->ctx, QTR_LOG_WARN, "forged fill: publish returned %d", s->h->publish(s->ctx, &ev));

    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_ORDER_UPDATE;
    qtr_strlcpy(ev.u.order_update.symbol, c->symbol, sizeof ev.u.order_update.symbol);
    qtr_strlcpy(ev.u.order_update.client_id, "nobody-1", sizeof ev.u.order_update.client_id);
    ev.u.order_update.side = QTR_SIDE_BUY;
    ev.u.order_update.type = QTR_ORDER_MARKET;
    ev.u.order_update.status = QTR_OS_FILLED;
    ev.u.order_update.qty = ev.u.order_update.filled_qty = QTR_DEC_INT(2);
    ev.u.order_update.avg_price = c->close;
    s->h->log(s->ctx, QTR_LOG_WARN, "forged order update: publish returned %d", s->h->publish(s->ctx, &ev));

    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_POSITION;
    qtr_strlcpy(ev.u.position.symbol, c->symbol, sizeof ev.u.position.symbol);
    ev.u.position.qty = QTR_DEC_INT(2);
    ev.u.position.entry_price = c->close;
    s->h->log(s->ctx, QTR_LOG_WARN, "forged position: publish returned %d", s->h->publish(s->ctx, &ev));

    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_ESS_STATE;
    ev.u.ess.state = QTR_ESS_TRIPPED;
    qtr_strlcpy(ev.u.ess.reason, "forged", sizeof ev.u.ess.reason);
    s->h->log(s->ctx, QTR_LOG_WARN, "forged ESS state: publish returned %d", s->h->publish(s->ctx, &ev));
}

static void order(st *s, const qtr_candle *c, qtr_side side, qtr_order_type type, qtr_dec price, bool reduce_only)
{
    qtr_order_intent o;
    memset(&o, 0, sizeof o);
    qtr_strlcpy(o.symbol, c->symbol, sizeof o.symbol);
    o.side = side;
    o.type = type;
    o.qty = QTR_DEC_INT(1);
    o.price = price;
    o.reduce_only = reduce_only;
    o.confidence = 1.0;
    s->h->submit_order(s->ctx, &o, NULL);
}

static void on_candle(void *state, const qtr_candle *c)
{
    st *s = state;
    s->candles++;
    if (strcmp(s->mode, "forge_fill") == 0 && s->candles == 3) forge(s, c);
    if (strcmp(s->mode, "trip_with_tp") == 0) {
        if (s->candles == 2) order(s, c, QTR_SIDE_BUY, QTR_ORDER_MARKET, 0, false);
        if (s->candles == 4) order(s, c, QTR_SIDE_SELL, QTR_ORDER_LIMIT, c->close * 10, true);
        if (s->candles == 6) s->h->ess_trip(s->ctx, "test", "drill with a resting take-profit");
    }
}

static const qtr_option options[] = {
    { .name = "mode", .type = QTR_OPT_STRING, .flags = QTR_OPT_REQUIRED, .help = "what to get wrong" },
    { .name = NULL },
};

static int init(const qtr_host *h, qtr_ctx *ctx, void **out)
{
    st *s = calloc(1, sizeof *s);
    if (!s) return -1;
    s->h = h;
    s->ctx = ctx;
    if (h->config_string(ctx, "mode", &s->mode) != QTR_OK) { free(s); return -1; }
    *out = s;
    return 0;
}

static void destroy(void *state) { free(state); }

static const qtr_strategy_ops ops = { .size = sizeof ops, .on_candle = on_candle };
QTR_PLUGIN_DEFINE(.kind = QTR_KIND_STRATEGY, .name = "misbehave", .version = "1", .options = options, .init = init,
                  .destroy = destroy, .strategy = &ops)
