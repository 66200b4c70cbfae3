/*
 * exchange_paper: a simulated exchange that fills orders against the candles
 * on the bus and answers with the events a live exchange would send. It is
 * deterministic: no wall clock, only candle and host times.
 *
 * Rules (matching.c has the details):
 *  - An accepted order is acknowledged NEW first; each fill is a FILL event
 *    followed by an ORDER_UPDATE with the cumulative quantity and average.
 *    Validation failures are a single REJECTED update (with a reason).
 *  - MARKET, IOC and FOK trade at once against the newest candle's close
 *    (or MARKET at the next open: market_fill), moved by slippage_bps against
 *    the taker to the nearest tick; market remainders then fill at later
 *    opens and expire after market_order_timeout_candles candles.
 *  - Resting LIMIT orders fill on candles that open after they arrived (never
 *    on the candle they were priced from): at the limit as maker when the
 *    price trades through it (or touches it: limit_fill), or at the open as
 *    taker with slippage when the candle opened through the limit. GTX
 *    orders only make: at their limit, or EXPIRED on arrival if they cross.
 *  - STOP_MARKET and TAKE_PROFIT_MARKET trigger on the path's high/low, or
 *    on the mark when the order's working_type is MARK (stop_trigger =
 *    "mark": every order), and then fill as market orders, as takers.
 *  - TRAILING_STOP_MARKET activates at its activation price (or at once),
 *    follows the best price along the path and triggers on a retrace of
 *    callback_bps, as Binance does (trailing.c).
 *  - Orders on one candle fill in the order the assumed path open -> nearer
 *    extreme -> other extreme -> close reaches them (path.c).
 *  - All fills on one candle of a symbol share max_volume_share of its volume.
 *  - With symbols_file, each symbol's exchangeInfo rules round and check
 *    orders exactly as the Binance plugin does (rules.c, docs/backtest.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paper.h"

/* Designated initializers: the option record may grow (bounds, allowed
 * values) without this table changing meaning. */
static const qtr_option OPTIONS[] = {
    { .name = "taker_fee", .type = QTR_OPT_DECIMAL, .default_value = "0.0004",
      .help = "fee rate of taker fills (0.0004 = 0.04%)", .min = "0", .max = "0.1" },
    { .name = "maker_fee", .type = QTR_OPT_DECIMAL, .default_value = "0.0002",
      .help = "fee rate of maker fills; negative is a rebate", .min = "-0.1", .max = "0.1" },
    { .name = "slippage_bps", .type = QTR_OPT_DECIMAL, .default_value = "1",
      .help = "taker price moved against the order, in basis points", .min = "0", .max = "1000" },
    { .name = "max_volume_share", .type = QTR_OPT_DECIMAL, .default_value = "0.1",
      .help = "largest share of a candle's volume filled on it", .min = "0", .flags = QTR_OPT_MIN_EXCLUSIVE, .max = "1" },
    { .name = "min_qty_step", .type = QTR_OPT_DECIMAL, .default_value = "0.001",
      .help = "quantities are rounded down to this step", .min = "0", .flags = QTR_OPT_MIN_EXCLUSIVE, .max = "1000000" },
    { .name = "price_tick", .type = QTR_OPT_DECIMAL, .default_value = "0.0001",
      .help = "limit prices must be multiples of this tick", .min = "0", .flags = QTR_OPT_MIN_EXCLUSIVE, .max = "1000000" },
    { .name = "symbols_file", .type = QTR_OPT_PATH, .default_value = "",
      .help = "exchangeInfo JSON with each symbol's tick, step, minimums and precision (Binance GET /fapi/v1/exchangeInfo, as saved); "
              "relative to the config file's folder; empty: price_tick and min_qty_step for every symbol" },
    { .name = "market_fill", .type = QTR_OPT_STRING, .default_value = "close",
      .help = "market orders fill at the close of the candle they were decided on (close) or at the next open (next_open)" },
    { .name = "limit_fill", .type = QTR_OPT_STRING, .default_value = "through",
      .help = "a resting limit fills when the price trades through it (through) or only touches it (touch)" },
    { .name = "stop_trigger", .type = QTR_OPT_STRING, .default_value = "last",
      .help = "conditional orders trigger on the candle's path (last) unless their working type is MARK, or all on the mark price (mark)" },
    { .name = "market_order_timeout_candles", .type = QTR_OPT_INT, .default_value = "5",
      .help = "candles before a market remainder expires", .min = "0", .max = "1000000" },
    { .name = NULL },
};

/* The range is declared in OPTIONS and checked by the host before init(). */
static int read_decimal(qtr_paper *p, const char *name, qtr_dec *out)
{
    if (p->h->config_decimal(p->ctx, name, out) == QTR_OK) return 0;
    p->h->log(p->ctx, QTR_LOG_ERROR, "option '%s': not a decimal", name);
    return -1;
}

/* One of two words: *second is whether it is the second. */
static int read_choice(qtr_paper *p, const char *name, const char *first, const char *second_word, bool *second)
{
    const char *v = NULL;
    if (p->h->config_string(p->ctx, name, &v) != QTR_OK || (strcmp(v, first) != 0 && strcmp(v, second_word) != 0)) {
        p->h->log(p->ctx, QTR_LOG_ERROR, "option '%s': must be \"%s\" or \"%s\"%s%s%s", name, first, second_word,
                  v ? " (got \"" : "", v ? v : "", v ? "\")" : "");
        return -1;
    }
    *second = strcmp(v, second_word) == 0;
    return 0;
}

static int read_config(qtr_paper *p)
{
    qtr_paper_config *c = &p->cfg;
    if (read_decimal(p, "taker_fee", &c->taker_fee) || read_decimal(p, "maker_fee", &c->maker_fee) ||
        read_decimal(p, "slippage_bps", &c->slippage_bps) || read_decimal(p, "max_volume_share", &c->max_volume_share) ||
        read_decimal(p, "min_qty_step", &c->min_qty_step) || read_decimal(p, "price_tick", &c->price_tick))
        return -1;
    if (p->h->config_int(p->ctx, "market_order_timeout_candles", &c->market_order_timeout_candles) != QTR_OK) {
        p->h->log(p->ctx, QTR_LOG_ERROR, "option 'market_order_timeout_candles': not an integer");
        return -1;
    }
    if (read_choice(p, "market_fill", "close", "next_open", &c->market_next_open) ||
        read_choice(p, "limit_fill", "through", "touch", &c->limit_on_touch) ||
        read_choice(p, "stop_trigger", "last", "mark", &c->stop_on_mark))
        return -1;
    const char *rules = NULL;
    if (p->h->config_string(p->ctx, "symbols_file", &rules) != QTR_OK) {
        p->h->log(p->ctx, QTR_LOG_ERROR, "option 'symbols_file': not a string");
        return -1;
    }
    if (rules[0]) return qtr_paper_rules_load(p, rules);
    /* Said, not silent: BTC fills on a 0.0001 tick look plausible in a report
     * that live trading could never have made. */
    char tick[QTR_DEC_STRLEN], step[QTR_DEC_STRLEN];
    p->h->log(p->ctx, QTR_LOG_WARN,
              "no symbols_file: every symbol trades on the tick %s (price_tick) and the lot step %s (min_qty_step), "
              "not its exchange's own rules; set symbols_file to the shipped rules "
              "(/usr/share/quantum-trader/binance-usdm-symbols.json, share/ in the source) or to a file saved by "
              "'qtr symbols fetch' (docs/backtest.md)",
              qtr_dec_format(c->price_tick, tick), qtr_dec_format(c->min_qty_step, step));
    return 0;
}

static void on_candle_event(void *ud, const qtr_event *ev)
{
    if (ev->type != QTR_EV_CANDLE) return;
    qtr_paper_on_candle(ud, &ev->u.candle, ev->time_ms ? ev->time_ms : ev->u.candle.close_time_ms);
}

static void paper_destroy(void *state)
{
    qtr_paper *p = state;
    if (!p) return;
    qtr_paper_tables_free(p);
    qtr_paper_rules_free(p);
    free(p);
}

static int paper_init(const qtr_host *h, qtr_ctx *ctx, void **state)
{
    qtr_paper *p = calloc(1, sizeof *p);
    if (!p) return -1;
    p->h = h;
    p->ctx = ctx;
    if (read_config(p) != 0 || qtr_paper_tables_init(p) != 0) {
        paper_destroy(p);
        return -1;
    }
    /* The start time in base 36 tags this run's fill ids: a restarted server
     * (or a second backtest into the same store) never reuses one. */
    uint64_t t = (uint64_t)h->now_ms(ctx);
    char tmp[16];
    int n = 0;
    do { tmp[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[t % 36]; t /= 36; } while (t && n < 15);
    for (int i = 0; i < n; i++) p->fill_prefix[i] = tmp[n - 1 - i];
    p->fill_prefix[n] = '\0';
    p->candle_sub = h->subscribe(ctx, QTR_EV_CANDLE, NULL, on_candle_event, p);
    if (!p->candle_sub) {
        h->log(ctx, QTR_LOG_ERROR, "cannot subscribe to candles");
        paper_destroy(p);
        return -1;
    }
    *state = p;
    return 0;
}

/* A paper account resumed by the host (from its trade store) starts with the
 * host's positions, as a real exchange would still hold them; otherwise
 * reduce-only orders could not close them. */
static int paper_start(void *state)
{
    qtr_paper *p = state;
    /* one more than it can hold: more positions than symbols is refused
     * loudly rather than some left behind (their closes could never fill) */
    qtr_position pos[QTR_PAPER_MAX_SYMBOLS + 1];
    qtr_list l = QTR_LIST_OF(pos, QTR_PAPER_MAX_SYMBOLS + 1);
    size_t n = p->h->list_positions(p->ctx, &l);
    if (n > QTR_PAPER_MAX_SYMBOLS) {
        p->h->log(p->ctx, QTR_LOG_ERROR, "cannot take over the resumed positions: more than %d symbols",
                  QTR_PAPER_MAX_SYMBOLS);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        qtr_paper_symbol *sym = qtr_paper_symbol_get(p, pos[i].symbol);
        if (!sym) {
            p->h->log(p->ctx, QTR_LOG_ERROR, "cannot take over the position in %s: too many symbols", pos[i].symbol);
            return -1;
        }
        sym->pos.qty = pos[i].qty;
        sym->pos.entry_price = pos[i].entry_price;
        sym->pos.realized_pnl = pos[i].realized_pnl;
        sym->pos.fees = pos[i].fees;
        sym->pos.time_ms = pos[i].time_ms;
        char q[QTR_DEC_STRLEN];
        p->h->log(p->ctx, QTR_LOG_INFO, "holding the resumed position %s %s", pos[i].symbol, qtr_dec_format(pos[i].qty, q));
    }
    return 0;
}

static int paper_submit(void *state, const qtr_order_intent *o) { return qtr_paper_submit(state, o); }

static int paper_cancel(void *state, const char *symbol, const char *client_id)
{
    qtr_paper *p = state;
    if (!client_id) return QTR_EINVAL;
    qtr_paper_order *o = qtr_paper_order_find(p, client_id);
    if (!o || (symbol && strcmp(symbol, o->u.symbol) != 0)) return QTR_ENOTFOUND;
    qtr_paper_finish(p, o, QTR_OS_CANCELED, "canceled on request", p->h->now_ms(p->ctx));
    return QTR_OK;
}

/* cancel_all keeps what Binance's keeps: a reduce-only conditional order
 * (an exit's stop, trailing stop or take-profit) only shrinks the position it
 * protects, and an ESS trip leaves that position open unless close_positions
 * is set. Plain orders, reduce-only or not, and stops that could open go. */
static bool cancel_all_keeps(const qtr_order_update *u)
{
    return u->reduce_only && (u->type == QTR_ORDER_STOP_MARKET || u->type == QTR_ORDER_TAKE_PROFIT_MARKET ||
                              u->type == QTR_ORDER_TRAILING_STOP_MARKET);
}

static int paper_cancel_all(void *state, const char *symbol)
{
    qtr_paper *p = state;
    int64_t now = p->h->now_ms(p->ctx);
    for (size_t i = 0; i < p->n_syms; i++) {
        qtr_paper_symbol *s = &p->syms[i];
        if (symbol && strcmp(symbol, s->name) != 0) continue;
        qtr_paper_hold(p);                    /* the list stays linked while we walk it */
        for (qtr_paper_order *o = s->head; o; o = o->next)
            if (!cancel_all_keeps(&o->u)) qtr_paper_finish(p, o, QTR_OS_CANCELED, "canceled by cancel_all", now);
        qtr_paper_unhold(p);
    }
    return QTR_OK;
}

static int paper_snapshot(void *state, qtr_snapshot_cb cb, void *ud)
{
    qtr_paper *p = state;
    if (!cb) return QTR_EINVAL;
    size_t n_orders = 0, n_positions = 0;
    for (size_t i = 0; i < p->n_syms; i++) {
        const qtr_paper_symbol *s = &p->syms[i];
        for (const qtr_paper_order *o = s->head; o; o = o->next)
            if (!o->dead) p->snap_orders[n_orders++] = o->u;
        if (s->pos.qty != 0) qtr_paper_position_report(s, &p->snap_positions[n_positions++]);
    }
    cb(ud, QTR_OK, p->snap_orders, n_orders, p->snap_positions, n_positions);
    return QTR_OK;
}

static void paper_health(void *state, qtr_health *out)
{
    qtr_paper *p = state;
    out->status = QTR_HEALTH_OK;
    snprintf(out->reason, sizeof out->reason, "%zu open orders, %zu symbols", p->n_open, p->n_syms);
}

static const qtr_exchange_ops OPS = {
    .size = sizeof OPS,
    .submit_order = paper_submit,
    .cancel_order = paper_cancel,
    .cancel_all = paper_cancel_all,
    .fetch_snapshot = paper_snapshot,
};

QTR_PLUGIN_DEFINE(.kind = QTR_KIND_EXCHANGE, .name = "paper", .version = "1.0.0",
                  .description = "simulated exchange filling orders against the candles on the bus",
                  .options = OPTIONS, .init = paper_init, .start = paper_start, .destroy = paper_destroy, .health = paper_health,
                  .exchange = &OPS);
