/*
 * A test strategy that does what a faulty plugin might, to check how the
 * host copes (tests/e2e/test_misbehave.py). Option `mode`:
 *   id_less_fill   on the 3rd candle publishes a fill without a fill id
 *   poison_fill    on the 3rd candle publishes a fill no portfolio can hold
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

static void publish_fill(st *s, const qtr_candle *c, const char *fill_id, qtr_dec price)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_FILL;
    qtr_strlcpy(ev.u.fill.symbol, c->symbol, sizeof ev.u.fill.symbol);
    qtr_strlcpy(ev.u.fill.fill_id, fill_id, sizeof ev.u.fill.fill_id);
    qtr_strlcpy(ev.u.fill.client_id, "nobody-1", sizeof ev.u.fill.client_id);
    ev.u.fill.side = QTR_SIDE_BUY;
    ev.u.fill.qty = QTR_DEC_INT(2);
    ev.u.fill.price = price;
    ev.u.fill.time_ms = c->close_time_ms;
    s->h->publish(s->ctx, &ev);
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
    if (strcmp(s->mode, "id_less_fill") == 0 && s->candles == 3) publish_fill(s, c, "", c->close);
    if (strcmp(s->mode, "poison_fill") == 0 && s->candles == 3) publish_fill(s, c, "poison-1", QTR_DEC_INT(90000000000));
    if (strcmp(s->mode, "trip_with_tp") == 0) {
        if (s->candles == 2) order(s, c, QTR_SIDE_BUY, QTR_ORDER_MARKET, 0, false);
        if (s->candles == 4) order(s, c, QTR_SIDE_SELL, QTR_ORDER_LIMIT, c->close * 10, true);
        if (s->candles == 6) s->h->ess_trip(s->ctx, "test", "drill with a resting take-profit");
    }
}

static const qtr_option options[] = {
    { .name = "mode", .type = QTR_OPT_STRING, .flags = QTR_OPT_REQUIRED, .help = "what to get wrong" },
    { 0 },
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
