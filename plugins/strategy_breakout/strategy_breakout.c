/*
 * strategy_breakout — a Donchian channel breakout, as a template for teams.
 *
 * The rule. For each symbol keep a Donchian channel of the last `period`
 * candles (highest high, lowest low; qtr/indicators.h). When a candle
 * closes ABOVE the channel of the candles before it, target a long worth
 * `order_notional` (quote currency); when it closes BELOW, a short of the
 * same size. A breakout on the side already held does nothing.
 *
 * A reversal that finds a position on the other side is two signals: a
 * reduce-only close of the whole position (its exact quantity, as the host
 * reports it) and a separate entry, so if risk resizes the entry no dust of
 * the old side is left behind (plugins/strategy_common/strategy_target.h).
 *
 * Confidence (a score in [0, 1], never money): how far the close broke out,
 * relative to the channel's width:
 *     confidence = min(1, 0.5 + 0.5 * (close - upper) / (upper - lower))
 * (the mirror for a short); a flat channel (width 0) scores 1. Signals below
 * `min_confidence` are skipped.
 *
 * Decisions use candle data only, never the clock: a backtest and live give
 * the same signals. O(1) per candle; allocation only on a symbol's first
 * candle. Prices and sizes stay qtr_dec; only the confidence is a double.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qtr/indicators.h>
#include <qtr/plugin.h>

#include "strategy_symbols.h"  /* plugins/strategy_common: per-symbol states */
#include "strategy_target.h"   /* plugins/strategy_common: orders toward a target */
#include "strategy_votes.h"    /* plugins/strategy_common: the rule as a vote */

#define BO_MAX_SYMBOLS 512         /* symbols tracked at most */

/* Options: the host checks types and ranges against this table before
 * init(), so init() does not check them again. */
static const qtr_option bo_options[] = {
    { .name = "symbols", .type = QTR_OPT_STRING_LIST,
      .help = "symbols to trade; empty: every symbol seen" },
    { .name = "period", .type = QTR_OPT_INT, .default_value = "20", .min = "2", .max = "1000",
      .help = "Donchian channel length, in candles" },
    { .name = "order_notional", .type = QTR_OPT_DECIMAL, .default_value = "100", .min = "0",
      .flags = QTR_OPT_MIN_EXCLUSIVE, .help = "size of a position, in quote currency" },
    { .name = "min_confidence", .type = QTR_OPT_DOUBLE, .default_value = "0", .min = "0", .max = "1",
      .help = "skip signals scoring below this (0..1)" },
    { .name = NULL },
};

/* One symbol: its channel, the channel as it stood before this candle, and
 * the side of the last breakout. */
typedef struct bo_symbol {
    qtr_ind_donchian channel;
    bool prev_ready;               /* the channel had a value before this candle */
    qtr_dec prev_upper, prev_lower;
    int64_t last_open_ms;          /* newest candle used: repeats are skipped */
    int side;                      /* +1 long, -1 short, 0 none yet */
} bo_symbol;

typedef struct bo_state {
    const qtr_host *host;
    qtr_ctx *ctx;
    int period;
    qtr_dec order_notional;
    double min_confidence;
    qtr_metric *signals_metric;
    strategy_symbols *symbols;     /* bo_symbol by symbol name */
} bo_state;

/* The symbol's state, set up on its first candle. */
static bo_symbol *symbol_state(bo_state *st, const char *name)
{
    bool created;
    bo_symbol *s = strategy_symbols_get(st->symbols, st->host, st->ctx, name, &created);
    if (s && created) {
        s->last_open_ms = INT64_MIN;
        if (!qtr_ind_donchian_init(&s->channel, st->period)) {
            st->host->log(st->ctx, QTR_LOG_ERROR, "%s: out of memory", name);
            strategy_symbols_drop(st->symbols, name);
            return NULL;
        }
    }
    return s;
}

static void bo_on_candle(void *state, const qtr_candle *c)
{
    bo_state *st = state;
    bo_symbol *s = symbol_state(st, c->symbol);
    if (!s || c->open_time_ms <= s->last_open_ms || c->close <= 0) return;
    s->last_open_ms = c->open_time_ms;

    /* Compare this close with the channel of the candles BEFORE it, then add
     * the candle to the channel. */
    bool was_ready = s->prev_ready;
    qtr_dec upper = s->prev_upper, lower = s->prev_lower;
    if (qtr_ind_donchian_update(&s->channel, c) == QTR_IND_READY) {
        s->prev_ready = true;
        s->prev_upper = s->channel.upper;
        s->prev_lower = s->channel.lower;
    }
    if (!was_ready) return;                                   /* warming up */
    strategy_vote vote = strategy_vote_breakout(c->close, upper, lower);   /* the rule and score above */
    int side = vote.side;
    if (side == 0 || side == s->side) return;                 /* inside, or already on that side */
    s->side = side;
    double confidence = vote.confidence;
    if (confidence < st->min_confidence) return;

    qtr_dec size;   /* order_notional / close, rounded down (the exchange rounds to its lot) */
    if (!qtr_dec_div(st->order_notional, c->close, QTR_ROUND_DOWN, &size) || size == 0) return;
    char reason[QTR_REASON_MAX];
    snprintf(reason, sizeof reason, "breakout %s the %d-candle channel", side > 0 ? "above" : "below", st->period);
    strategy_go_to_target(st->host, st->ctx, st->signals_metric, c->symbol, side > 0 ? size : -size, confidence,
                          reason);
}

static void symbol_free(void *state)
{
    bo_symbol *s = state;
    qtr_ind_donchian_free(&s->channel);
}

static void bo_destroy(void *state)
{
    bo_state *st = state;
    if (!st) return;
    strategy_symbols_free(st->symbols, symbol_free);
    free(st);
}

static int bo_init(const qtr_host *host, qtr_ctx *ctx, void **out)
{
    bo_state *st = calloc(1, sizeof *st);
    if (!st) return -1;
    st->host = host;
    st->ctx = ctx;
    int64_t period;
    if (host->config_int(ctx, "period", &period) != QTR_OK ||
        host->config_decimal(ctx, "order_notional", &st->order_notional) != QTR_OK ||
        host->config_double(ctx, "min_confidence", &st->min_confidence) != QTR_OK) {
        host->log(ctx, QTR_LOG_ERROR, "options period, order_notional or min_confidence unreadable");
        free(st);
        return -1;
    }
    st->period = (int)period;   /* 2..1000: checked by the host (bo_options) */
    st->symbols = strategy_symbols_new(BO_MAX_SYMBOLS, sizeof(bo_symbol));
    if (!st->symbols) {
        free(st);
        return -1;
    }
    st->signals_metric = host->metric_counter(ctx, "breakout_signals_total", "signals submitted by breakout",
                                              NULL, NULL);
    host->log(ctx, QTR_LOG_INFO, "breakout period %d", st->period);
    *out = st;
    return 0;
}

static const qtr_strategy_ops bo_ops = { .size = sizeof bo_ops, .on_candle = bo_on_candle };

QTR_PLUGIN_DEFINE(.kind = QTR_KIND_STRATEGY, .name = "breakout", .version = "1.0.0",
                  .description = "Donchian channel breakout: long above, short below",
                  .options = bo_options, .init = bo_init, .destroy = bo_destroy, .strategy = &bo_ops);
