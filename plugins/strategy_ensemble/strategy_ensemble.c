/*
 * strategy_ensemble — an XGBoost model voting with three rules, and honest
 * about it when the model is not there.
 *
 * Per symbol and candle: the indicators of ensemble_features.h are updated;
 * the model (ensemble_model.h) turns the feature row into P(next close >
 * close); the rule voters (trend, mean reversion, breakout: the exact rules
 * of ma_cross, mean_reversion and breakout, plugins/strategy_common/
 * strategy_votes.h) vote; ensemble_vote.h combines the votes with the
 * `weight_*` options into a side and a confidence. When the side differs
 * from the one held, the position goes to it (a long or a short worth
 * `order_notional`; a flip is a reduce-only close plus an entry,
 * strategy_common/strategy_target.h), the signal carrying the confidence,
 * so the signal queue and the policy's min_confidence see it.
 *
 * Degraded mode. The model is loaded at init and again on every reload
 * (SIGHUP, POST /api/policy/reload: qtr_strategy_ops.reload). A missing,
 * corrupt or mismatched model (sidecar, version, feature list or count,
 * SHA-256, XGBoost's own checks), or one that fails to predict, is never
 * used and never replaced by made-up scores: the plugin decides with the
 * rule voters alone, logs the reason once, sets its health to DEGRADED with
 * that reason, and counts every decision made so in
 * qtr_strategy_model_fallback_total{strategy="ensemble"}. A reload that
 * finds a good model sets it back to OK. A reload that fails drops the
 * model in memory too: the file on disk is what the operator asked for.
 *
 * Decisions use candle data only, never the clock. Per candle: O(1), no
 * allocation (the model's row is reused; allocation happens on a symbol's
 * first candle and at load).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qtr/indicators.h>
#include <qtr/plugin.h>

#include "ensemble_features.h"
#include "ensemble_model.h"
#include "ensemble_vote.h"
#include "strategy_symbols.h"  /* plugins/strategy_common: per-symbol states */
#include "strategy_target.h"   /* plugins/strategy_common: orders toward a target */

#define ENS_MAX_SYMBOLS 512
#define ENS_OVERSOLD 30.0      /* the mean reversion voter's RSI zones (mean_reversion's defaults) */
#define ENS_OVERBOUGHT 70.0

static const qtr_option ens_options[] = {
    { .name = "symbols", .type = QTR_OPT_STRING_LIST, .help = "symbols to trade; empty: every symbol seen" },
    { .name = "model", .type = QTR_OPT_PATH, .default_value = "", .max = "1000",
      .help = "the XGBoost model file (its sidecar is <model>.meta), relative to the config file's folder; "
              "empty: rules only (DEGRADED)" },
    { .name = "weight_model", .type = QTR_OPT_DOUBLE, .default_value = "0.4", .min = "0", .max = "1",
      .help = "the model's weight in the vote" },
    { .name = "weight_trend", .type = QTR_OPT_DOUBLE, .default_value = "0.2", .min = "0", .max = "1",
      .help = "the trend voter's weight (SMA 10 against SMA 30)" },
    { .name = "weight_mean_reversion", .type = QTR_OPT_DOUBLE, .default_value = "0.2", .min = "0", .max = "1",
      .help = "the mean reversion voter's weight (Bollinger 20 x 2 and RSI 14)" },
    { .name = "weight_breakout", .type = QTR_OPT_DOUBLE, .default_value = "0.2", .min = "0", .max = "1",
      .help = "the breakout voter's weight (Donchian 20)" },
    { .name = "threshold", .type = QTR_OPT_DOUBLE, .default_value = "0.2", .min = "0", .max = "1",
      .help = "the |score| a side needs" },
    { .name = "order_notional", .type = QTR_OPT_DECIMAL, .default_value = "100", .min = "0",
      .flags = QTR_OPT_MIN_EXCLUSIVE, .help = "size of a position, in quote currency" },
    { .name = "min_confidence", .type = QTR_OPT_DOUBLE, .default_value = "0", .min = "0", .max = "1",
      .help = "skip signals scoring below this (0..1)" },
    { .name = NULL },
};

typedef struct ens_symbol {
    ensemble_indicators ind;
    int64_t last_open_ms;   /* newest candle used: repeats are skipped */
    int side;               /* held: +1 long, -1 short, 0 none yet */
} ens_symbol;

typedef struct ens_state {
    const qtr_host *host;
    qtr_ctx *ctx;
    const char *model_path;       /* "" for none */
    ensemble_model *model;        /* NULL: rules only */
    double weights[ENSEMBLE_N_VOTERS];
    double threshold, min_confidence;
    qtr_dec order_notional;
    qtr_metric *signals_metric, *fallback_metric, *model_loaded_metric;
    strategy_symbols *symbols;
} ens_state;

/* Rules only from now on, for `why`: said once (log, health, gauge). */
static void degrade(ens_state *st, const char *why)
{
    ensemble_model_free(st->model);
    st->model = NULL;
    st->host->log(st->ctx, QTR_LOG_ERROR, "option 'model': %s not used: %s; deciding with the rule voters only",
                  st->model_path[0] ? st->model_path : "(none configured)", why);
    char reason[QTR_REASON_MAX];
    snprintf(reason, sizeof reason, "rules only: %s", why);
    st->host->set_health(st->ctx, QTR_HEALTH_DEGRADED, reason);
    st->host->metric_set(st->model_loaded_metric, 0);
}

/* (Re)load the configured model; OK or DEGRADED as it turns out. */
static void load_model(ens_state *st)
{
    ensemble_model_free(st->model);
    st->model = NULL;
    if (!st->model_path[0]) {
        degrade(st, "no model configured");
        return;
    }
    char err[QTR_REASON_MAX];
    ensemble_model *m = ensemble_model_load(st->model_path, err, sizeof err);
    if (!m) {
        degrade(st, err);
        return;
    }
    st->model = m;
    st->host->log(st->ctx, QTR_LOG_INFO, "model %s loaded (%d features)", st->model_path, ENSEMBLE_N_FEATURES);
    char reason[QTR_REASON_MAX];
    snprintf(reason, sizeof reason, "model loaded (%d features)", ENSEMBLE_N_FEATURES);
    st->host->set_health(st->ctx, QTR_HEALTH_OK, reason);
    st->host->metric_set(st->model_loaded_metric, 1);
}

static void symbol_free(void *state)
{
    ens_symbol *s = state;
    ensemble_indicators_free(&s->ind);
}

static ens_symbol *symbol_state(ens_state *st, const char *name)
{
    bool created;
    ens_symbol *s = strategy_symbols_get(st->symbols, st->host, st->ctx, name, &created);
    if (s && created) {
        s->last_open_ms = INT64_MIN;
        if (!ensemble_indicators_init(&s->ind)) {
            st->host->log(st->ctx, QTR_LOG_ERROR, "%s: out of memory", name);
            strategy_symbols_drop(st->symbols, name);
            return NULL;
        }
    }
    return s;
}

static void ens_on_candle(void *state, const qtr_candle *c)
{
    ens_state *st = state;
    ens_symbol *s = symbol_state(st, c->symbol);
    if (!s || c->open_time_ms <= s->last_open_ms || c->close <= 0) return;
    s->last_open_ms = c->open_time_ms;

    float features[ENSEMBLE_N_FEATURES];
    bool have_features = ensemble_indicators_update(&s->ind, c, features);
    ensemble_indicators *ind = &s->ind;
    ensemble_ballot ballot = { 0 };
    if (ind->trend_ready) {
        ballot.present[ENSEMBLE_TREND] = true;
        ballot.vote[ENSEMBLE_TREND] = strategy_vote_trend(ind->trend_fast.value_dec, ind->trend_slow.value_dec);
    }
    if (ind->bands_rsi_ready) {
        ballot.present[ENSEMBLE_MEAN_REVERSION] = true;
        ballot.vote[ENSEMBLE_MEAN_REVERSION] =
            strategy_vote_mean_reversion(c->close, &ind->bands, ind->rsi.value, ENS_OVERSOLD, ENS_OVERBOUGHT);
    }
    if (ind->prev_channel_ready) {
        ballot.present[ENSEMBLE_BREAKOUT] = true;
        ballot.vote[ENSEMBLE_BREAKOUT] = strategy_vote_breakout(c->close, ind->prev_upper, ind->prev_lower);
    }
    if (!have_features) return;   /* warming up: no decision before the model could take part */
    if (st->model) {
        double p_up;
        char err[QTR_REASON_MAX - 16];
        if (ensemble_model_predict(st->model, features, &p_up, err, sizeof err)) {
            ballot.present[ENSEMBLE_MODEL] = true;
            ballot.vote[ENSEMBLE_MODEL] = ensemble_model_vote(p_up);
        } else {
            degrade(st, err);   /* never a made-up score: the rules decide */
        }
    }
    if (!ballot.present[ENSEMBLE_MODEL]) st->host->metric_add(st->fallback_metric, 1);

    ensemble_decision d = ensemble_combine(st->weights, &ballot, st->threshold);
    if (!d.decided || d.side == 0 || d.side == s->side) return;
    if (d.confidence < st->min_confidence) return;
    qtr_dec size;   /* order_notional / close, rounded down (the exchange rounds to its lot) */
    if (!qtr_dec_div(st->order_notional, c->close, QTR_ROUND_DOWN, &size) || size == 0) return;
    s->side = d.side;
    char reason[QTR_REASON_MAX];
    snprintf(reason, sizeof reason, "ensemble score %+.3f (%s)", d.score, ballot.present[ENSEMBLE_MODEL] ? "model and rules" : "rules only");
    strategy_go_to_target(st->host, st->ctx, st->signals_metric, c->symbol, d.side > 0 ? size : -size, d.confidence,
                          reason);
}

static void ens_reload(void *state)
{
    load_model(state);
}

static void ens_destroy(void *state)
{
    ens_state *st = state;
    if (!st) return;
    ensemble_model_free(st->model);
    strategy_symbols_free(st->symbols, symbol_free);
    free(st);
}

static int ens_init(const qtr_host *host, qtr_ctx *ctx, void **out)
{
    ens_state *st = calloc(1, sizeof *st);
    if (!st) return -1;
    st->host = host;
    st->ctx = ctx;
    static const char *const weight_names[ENSEMBLE_N_VOTERS] = { "weight_model", "weight_trend",
                                                                 "weight_mean_reversion", "weight_breakout" };
    bool ok = host->config_string(ctx, "model", &st->model_path) == QTR_OK &&
              host->config_double(ctx, "threshold", &st->threshold) == QTR_OK &&
              host->config_double(ctx, "min_confidence", &st->min_confidence) == QTR_OK &&
              host->config_decimal(ctx, "order_notional", &st->order_notional) == QTR_OK;
    for (int i = 0; ok && i < ENSEMBLE_N_VOTERS; i++)
        ok = host->config_double(ctx, weight_names[i], &st->weights[i]) == QTR_OK;
    if (!ok) {
        host->log(ctx, QTR_LOG_ERROR, "an option could not be read");
        free(st);
        return -1;
    }
    if (st->weights[ENSEMBLE_TREND] + st->weights[ENSEMBLE_MEAN_REVERSION] + st->weights[ENSEMBLE_BREAKOUT] <= 0) {
        /* the rules are what is left when the model is not: they cannot all be 0 */
        host->log(ctx, QTR_LOG_ERROR, "options weight_trend, weight_mean_reversion, weight_breakout: all 0");
        free(st);
        return -1;
    }
    st->symbols = strategy_symbols_new(ENS_MAX_SYMBOLS, sizeof(ens_symbol));
    if (!st->symbols) {
        free(st);
        return -1;
    }
    st->signals_metric = host->metric_counter(ctx, "ensemble_signals_total", "signals submitted by ensemble", NULL, NULL);
    st->fallback_metric = host->metric_counter(ctx, "strategy_model_fallback_total",
                                               "decisions made by the rule voters alone (no usable model)",
                                               "strategy", "ensemble");
    st->model_loaded_metric = host->metric_gauge(ctx, "strategy_model_loaded", "1 while the model is in use",
                                                 "strategy", "ensemble");
    load_model(st);
    *out = st;
    return 0;
}

static const qtr_strategy_ops ens_ops = { .size = sizeof ens_ops, .on_candle = ens_on_candle, .reload = ens_reload };

QTR_PLUGIN_DEFINE(.kind = QTR_KIND_STRATEGY, .name = "ensemble", .version = "1.0.0",
                  .description = "XGBoost model and trend, mean reversion and breakout rules, voting",
                  .options = ens_options, .init = ens_init, .destroy = ens_destroy, .strategy = &ens_ops);
