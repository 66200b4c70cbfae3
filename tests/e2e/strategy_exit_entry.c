/*
 * A test strategy for tests/e2e/test_binance_exits.py: at init it gives the
 * host an exit plan for `symbol` (a stop-loss `stop_bps` under the entry, a
 * trailing stop active `trail_activation_bps` in profit with a callback of
 * `trail_callback_bps`, on the mark price; with `ladder_bps` also two
 * take-profits, half each), then it buys `qty` at market
 * `entries` times (0: only the plan, as after a restart). Exits are the
 * host's: the strategy never sends one. Built from the SDK headers alone,
 * with one cc line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qtr/exits.h>
#include <qtr/plugin.h>

typedef struct st {
    const qtr_host *h;
    qtr_ctx *ctx;
    const char *symbol;
    qtr_dec qty;
    int64_t entries, placed;
    qtr_timer *timer;
} st;

static void tick(void *ud)
{
    st *s = ud;
    if (s->placed >= s->entries) return;
    qtr_order_intent o;
    memset(&o, 0, sizeof o);
    qtr_strlcpy(o.symbol, s->symbol, sizeof o.symbol);
    o.side = QTR_SIDE_BUY;
    o.type = QTR_ORDER_MARKET;
    o.qty = s->qty;
    o.confidence = 1.0;
    char cid[QTR_CLIENT_ID_MAX] = "";
    int rc = s->h->submit_order(s->ctx, &o, cid);
    if (rc == QTR_OK) s->placed++;
    s->h->log(s->ctx, QTR_LOG_INFO, "exit_entry: entry %s submit returned %d", cid, rc);
}

static void on_candle(void *state, const qtr_candle *c) { (void)state; (void)c; }

static const qtr_option options[] = {
    { .name = "symbol", .type = QTR_OPT_STRING, .default_value = "BTCUSDT", .help = "symbol" },
    { .name = "qty", .type = QTR_OPT_DECIMAL, .default_value = "0.010", .help = "entry quantity" },
    { .name = "entries", .type = QTR_OPT_INT, .default_value = "0", .help = "market buys to make" },
    { .name = "stop_bps", .type = QTR_OPT_INT, .default_value = "300", .help = "stop-loss under the entry" },
    { .name = "trail_activation_bps", .type = QTR_OPT_INT, .default_value = "200", .help = "trailing activation" },
    { .name = "trail_callback_bps", .type = QTR_OPT_INT, .default_value = "100", .help = "trailing callback" },
    { .name = "ladder_bps", .type = QTR_OPT_INT, .default_value = "0",
      .help = "0: no take-profit; else a two-level ladder, half at this distance, half at twice it" },
    { .name = NULL },
};

static int init(const qtr_host *h, qtr_ctx *ctx, void **out)
{
    st *s = calloc(1, sizeof *s);
    int64_t stop = 0, act = 0, cb = 0, ladder = 0;
    if (!s) return -1;
    s->h = h;
    s->ctx = ctx;
    if (h->config_string(ctx, "symbol", &s->symbol) != QTR_OK || h->config_decimal(ctx, "qty", &s->qty) != QTR_OK ||
        h->config_int(ctx, "entries", &s->entries) != QTR_OK || h->config_int(ctx, "stop_bps", &stop) != QTR_OK ||
        h->config_int(ctx, "trail_activation_bps", &act) != QTR_OK ||
        h->config_int(ctx, "trail_callback_bps", &cb) != QTR_OK || h->config_int(ctx, "ladder_bps", &ladder) != QTR_OK ||
        !QTR_HOST_HAS(h, set_exit_plan)) {
        free(s);
        return -1;
    }
    qtr_exit_plan plan = QTR_SIZED(qtr_exit_plan);
    plan.working_type = QTR_WORKING_MARK;
    plan.qty_step = QTR_DEC_INT(1) / 1000;  /* 0.001 */
    plan.price_tick = QTR_DEC_INT(1) / 10;  /* 0.1   */
    plan.base.stop_loss.bps = (uint32_t)stop;
    plan.base.trailing_activation.bps = (uint32_t)act;
    plan.base.trailing_callback_bps = (uint32_t)cb;
    if (ladder > 0) {
        plan.base.take_profit[0] = (qtr_exit_tp){ .at = { .bps = (uint32_t)ladder }, .share_bps = 5000 };
        plan.base.take_profit[1] = (qtr_exit_tp){ .at = { .bps = (uint32_t)(2 * ladder) }, .share_bps = 5000 };
        plan.base.n_take_profit = 2;
    }
    char err[QTR_TEXT_MAX] = "";
    if (h->set_exit_plan(ctx, s->symbol, &plan, err, sizeof err) != QTR_OK) {
        h->log(ctx, QTR_LOG_ERROR, "exit_entry: exit plan refused: %s", err);
        free(s);
        return -1;
    }
    s->timer = h->timer_start(ctx, 100, true, tick, s);
    *out = s;
    return 0;
}

static void destroy(void *state) { free(state); }

static const qtr_strategy_ops ops = { .size = sizeof ops, .on_candle = on_candle };
QTR_PLUGIN_DEFINE(.kind = QTR_KIND_STRATEGY, .name = "exit_entry", .version = "1", .options = options, .init = init,
                  .destroy = destroy, .strategy = &ops);
