/*
 * A test strategy that places a fixed set of LIMIT orders, for the restart
 * tests (tests/e2e/test_binance_restart.py). Every `every_ms` it submits the
 * next order until `count` were accepted (a refused submit is tried again
 * next time): BUY `qty` of `symbol` at `price`. `count` 0 places nothing.
 * Built from the SDK header alone, with one cc line.
 */
#include <stdlib.h>
#include <string.h>

#include <qtr/plugin.h>

typedef struct st {
    const qtr_host *h;
    qtr_ctx *ctx;
    const char *symbol;
    qtr_dec qty, price;
    int64_t count, placed;
    qtr_timer *timer;
} st;

static void tick(void *ud)
{
    st *s = ud;
    if (s->placed >= s->count) return;
    qtr_order_intent o;
    memset(&o, 0, sizeof o);
    qtr_strlcpy(o.symbol, s->symbol, sizeof o.symbol);
    o.side = QTR_SIDE_BUY;
    o.type = QTR_ORDER_LIMIT;
    o.tif = QTR_TIF_GTC;
    o.qty = s->qty;
    o.price = s->price;
    o.confidence = 1.0;
    char cid[QTR_CLIENT_ID_MAX] = "";
    int rc = s->h->submit_order(s->ctx, &o, cid);
    if (rc == QTR_OK) s->placed++;
    s->h->log(s->ctx, QTR_LOG_INFO, "place_orders: order %s submit returned %d (%lld of %lld placed)", cid, rc,
              (long long)s->placed, (long long)s->count);
}

static void on_candle(void *state, const qtr_candle *c) { (void)state; (void)c; }

static const qtr_option options[] = {
    { .name = "symbol", .type = QTR_OPT_STRING, .default_value = "BTCUSDT",
      .help = "symbol" },
    { .name = "count", .type = QTR_OPT_INT, .default_value = "0",
      .help = "orders to place" },
    { .name = "qty", .type = QTR_OPT_DECIMAL, .default_value = "0.01",
      .help = "quantity of each" },
    { .name = "price", .type = QTR_OPT_DECIMAL, .default_value = "49000",
      .help = "limit price" },
    { .name = "every_ms", .type = QTR_OPT_INT, .default_value = "200",
      .help = "how often to try" },
    { .name = NULL },
};

static int init(const qtr_host *h, qtr_ctx *ctx, void **out)
{
    st *s = calloc(1, sizeof *s);
    int64_t every = 200;
    if (!s) return -1;
    s->h = h;
    s->ctx = ctx;
    if (h->config_string(ctx, "symbol", &s->symbol) != QTR_OK || h->config_int(ctx, "count", &s->count) != QTR_OK ||
        h->config_decimal(ctx, "qty", &s->qty) != QTR_OK || h->config_decimal(ctx, "price", &s->price) != QTR_OK ||
        h->config_int(ctx, "every_ms", &every) != QTR_OK || every <= 0) {
        free(s);
        return -1;
    }
    s->timer = h->timer_start(ctx, every, true, tick, s);
    *out = s;
    return 0;
}

static void destroy(void *state) { free(state); }

static const qtr_strategy_ops ops = { .size = sizeof ops, .on_candle = on_candle };
QTR_PLUGIN_DEFINE(.kind = QTR_KIND_STRATEGY, .name = "place_orders", .version = "1", .options = options, .init = init,
                  .destroy = destroy, .strategy = &ops);
