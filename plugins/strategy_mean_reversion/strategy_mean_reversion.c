/*
 * strategy_mean_reversion — Bollinger bands and RSI, as a template for teams.
 *
 * The rule, per symbol (indicators from qtr/indicators.h):
 *   - close below the lower band AND RSI below `oversold`: target a long
 *     worth `order_notional` (quote currency);
 *   - close above the upper band AND RSI above `overbought`: target a short
 *     of the same size;
 *   - holding a long and the close is back at or above the middle band (a
 *     short: at or below it): target flat. The mean has been reached.
 * A signal goes out only when that wanted state changes. A flip or an exit
 * is a reduce-only close of the whole position (its exact quantity) and,
 * for a flip, a separate entry (plugins/strategy_common/strategy_target.h).
 *
 * Confidence (a score in [0, 1], never money): how deep the RSI is in its
 * zone. Long: 0.5 + 0.5 * (oversold - rsi) / oversold; short:
 * 0.5 + 0.5 * (rsi - overbought) / (100 - overbought). An exit scores 1 (it
 * only reduces risk) and is never skipped by `min_confidence`.
 *
 * The bands and the RSI are doubles, used only to compare; the exit compares
 * with the exact middle band and sizes stay qtr_dec. Decisions use candle
 * data only, never the clock. O(1) per candle; allocation only on a
 * symbol's first candle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qtr/indicators.h>
#include <qtr/plugin.h>

#include "strategy_symbols.h"  /* plugins/strategy_common: per-symbol states */
#include "strategy_target.h"   /* plugins/strategy_common: orders toward a target */
#include "strategy_votes.h"    /* plugins/strategy_common: the entry rule as a vote */

#define MR_MAX_SYMBOLS 512     /* symbols tracked at most */

/* Options: the host checks types and ranges before init(). */
static const qtr_option mr_options[] = {
    { .name = "symbols", .type = QTR_OPT_STRING_LIST, .help = "symbols to trade; empty: every symbol seen" },
    { .name = "period", .type = QTR_OPT_INT, .default_value = "20", .min = "2", .max = "1000",
      .help = "Bollinger bands length, in candles" },
    { .name = "k", .type = QTR_OPT_DECIMAL, .default_value = "2", .min = "0.01", .max = "10",
      .help = "band width in standard deviations (at most 2 decimals)" },
    { .name = "rsi_period", .type = QTR_OPT_INT, .default_value = "14", .min = "2", .max = "1000",
      .help = "RSI length, in candles" },
    { .name = "oversold", .type = QTR_OPT_DOUBLE, .default_value = "30", .min = "1", .max = "50",
      .help = "RSI below this (with a close under the lower band) buys" },
    { .name = "overbought", .type = QTR_OPT_DOUBLE, .default_value = "70", .min = "50", .max = "99",
      .help = "RSI above this (with a close over the upper band) sells" },
    { .name = "order_notional", .type = QTR_OPT_DECIMAL, .default_value = "100", .min = "0",
      .flags = QTR_OPT_MIN_EXCLUSIVE, .help = "size of a position, in quote currency" },
    { .name = "min_confidence", .type = QTR_OPT_DOUBLE, .default_value = "0", .min = "0", .max = "1",
      .help = "skip entries scoring below this (0..1)" },
    { .name = NULL },
};

typedef struct mr_symbol {
    qtr_ind_bbands bands;
    qtr_ind_rsi rsi;
    int64_t last_open_ms;      /* newest candle used: repeats are skipped */
    int side;                  /* wanted: +1 long, -1 short, 0 flat */
} mr_symbol;

typedef struct mr_state {
    const qtr_host *host;
    qtr_ctx *ctx;
    int period, rsi_period, k_x100;
    double oversold, overbought, min_confidence;
    qtr_dec order_notional;
    qtr_metric *signals_metric;
    strategy_symbols *symbols;   /* mr_symbol by symbol name */
} mr_state;

static void symbol_free(void *state)
{
    mr_symbol *s = state;
    qtr_ind_bbands_free(&s->bands);
    qtr_ind_rsi_free(&s->rsi);
}

/* The symbol's state, set up on its first candle. */
static mr_symbol *symbol_state(mr_state *st, const char *name)
{
    bool created;
    mr_symbol *s = strategy_symbols_get(st->symbols, st->host, st->ctx, name, &created);
    if (s && created) {
        s->last_open_ms = INT64_MIN;
        if (!qtr_ind_bbands_init(&s->bands, st->period, st->k_x100) || !qtr_ind_rsi_init(&s->rsi, st->rsi_period)) {
            symbol_free(s);
            strategy_symbols_drop(st->symbols, name);
            st->host->log(st->ctx, QTR_LOG_ERROR, "%s: out of memory", name);
            return NULL;
        }
    }
    return s;
}

static void mr_on_candle(void *state, const qtr_candle *c)
{
    mr_state *st = state;
    mr_symbol *s = symbol_state(st, c->symbol);
    if (!s || c->open_time_ms <= s->last_open_ms || c->close <= 0) return;
    s->last_open_ms = c->open_time_ms;
    bool bands = qtr_ind_bbands_update(&s->bands, c->close) == QTR_IND_READY;
    bool rsi = qtr_ind_rsi_update(&s->rsi, c->close) == QTR_IND_READY;
    if (!bands || !rsi) return;   /* warming up */

    double r = s->rsi.value;
    int want = s->side;
    double confidence = 1.0;
    /* the entry rule and its score above (strategy_common/strategy_votes.h) */
    strategy_vote vote = strategy_vote_mean_reversion(c->close, &s->bands, r, st->oversold, st->overbought);
    if (vote.side != 0) {
        want = vote.side;
        confidence = vote.confidence;
    } else if ((s->side > 0 && c->close >= s->bands.middle_dec) || (s->side < 0 && c->close <= s->bands.middle_dec)) {
        want = 0;   /* back to the mean: exit */
    }
    if (want == s->side) return;
    if (want != 0 && confidence < st->min_confidence) return;
    s->side = want;

    qtr_dec size = 0;   /* order_notional / close, rounded down (the exchange rounds to its lot) */
    if (want != 0 && (!qtr_dec_div(st->order_notional, c->close, QTR_ROUND_DOWN, &size) || size == 0)) return;
    char reason[QTR_REASON_MAX];
    snprintf(reason, sizeof reason, "mean_reversion %s (rsi %.1f)",
             want > 0 ? "below the lower band" : want < 0 ? "above the upper band" : "back at the middle band", r);
    strategy_go_to_target(st->host, st->ctx, st->signals_metric, c->symbol, want > 0 ? size : -size, confidence,
                          reason);
}

static void mr_destroy(void *state)
{
    mr_state *st = state;
    if (!st) return;
    strategy_symbols_free(st->symbols, symbol_free);
    free(st);
}

static int mr_init(const qtr_host *host, qtr_ctx *ctx, void **out)
{
    mr_state *st = calloc(1, sizeof *st);
    if (!st) return -1;
    st->host = host;
    st->ctx = ctx;
    int64_t period, rsi_period;
    qtr_dec k;
    if (host->config_int(ctx, "period", &period) != QTR_OK || host->config_int(ctx, "rsi_period", &rsi_period) != QTR_OK ||
        host->config_decimal(ctx, "k", &k) != QTR_OK ||
        host->config_double(ctx, "oversold", &st->oversold) != QTR_OK ||
        host->config_double(ctx, "overbought", &st->overbought) != QTR_OK ||
        host->config_decimal(ctx, "order_notional", &st->order_notional) != QTR_OK ||
        host->config_double(ctx, "min_confidence", &st->min_confidence) != QTR_OK) {
        host->log(ctx, QTR_LOG_ERROR, "an option could not be read");
        goto refuse;
    }
    /* The library takes k in hundredths, so k has at most 2 decimals: a
     * finer k would be silently rounded, so it is refused. */
    if (k % (QTR_DEC_SCALE / 100) != 0) {
        char text[QTR_DEC_STRLEN];
        host->log(ctx, QTR_LOG_ERROR, "option k: %s has more than 2 decimals", qtr_dec_format(k, text));
        goto refuse;
    }
    st->k_x100 = (int)(k / (QTR_DEC_SCALE / 100));   /* 1..1000: the declared range */
    st->period = (int)period;
    st->rsi_period = (int)rsi_period;
    st->symbols = strategy_symbols_new(MR_MAX_SYMBOLS, sizeof(mr_symbol));
    if (!st->symbols) goto refuse;
    st->signals_metric = host->metric_counter(ctx, "mean_reversion_signals_total",
                                              "signals submitted by mean_reversion", NULL, NULL);
    host->log(ctx, QTR_LOG_INFO, "mean_reversion bands %d x %.2f, rsi %d (%.0f / %.0f)", st->period,
              st->k_x100 / 100.0, st->rsi_period, st->oversold, st->overbought);
    *out = st;
    return 0;
refuse:
    free(st);
    return -1;
}

static const qtr_strategy_ops mr_ops = { .size = sizeof mr_ops, .on_candle = mr_on_candle };

QTR_PLUGIN_DEFINE(.kind = QTR_KIND_STRATEGY, .name = "mean_reversion", .version = "1.0.0",
                  .description = "Bollinger bands and RSI: buy oversold, sell overbought, exit at the mean",
                  .options = mr_options, .init = mr_init, .destroy = mr_destroy, .strategy = &mr_ops);
