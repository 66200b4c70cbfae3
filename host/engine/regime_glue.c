/*
 * regime_glue.c — the engine's side of regime detection (regime/regime_book.h):
 * each closed candle on the bus goes to the symbol's classifier; a change
 * is published as QTR_EV_REGIME (stamped with the host clock: the candle's
 * time in a backtest) and set in the qtr_regime{symbol} gauge; get_regime
 * reads the current one. Subscribed before strategies load, so a strategy's
 * on_candle already sees this candle's regime through get_regime, and its
 * REGIME event follows the candle. A backtest in which nothing can read
 * a regime (qh_regime_glue_settle) takes the classifier off that path.
 */
#include "engine/engine_internal.h"

#include <stdio.h>

#include "core/log.h"
#include "core/plugin_needs.h"
#include "regime/regime_book.h"

#define LOGC "regime"

static const char *const gauge_help =
    "Current market regime: 0 unknown (warm-up), 1 trend up, 2 trend down, 3 range, 4 volatile";

/* A decimal from the config as a score (thresholds are not money). */
static double score(qtr_dec d) { return qtr_dec_to_display_double(d); }

static void on_candle(void *ud, const qtr_event *ev)
{
    qh_engine *e = ud;
    qtr_regime_event out;
    char err[160];
    int rc = qh_regime_book_on_candle(e->regime, &ev->u.candle, &out, err, sizeof err);
    if (rc < 0) qh_warn(LOGC, "%s", err);
    if (rc <= 0) return;
    /* the gauge found by name once a symbol (a registry lookup costs more
     * than the classifier) */
    qh_market_sym *m = qh_market_get(e, out.symbol, true);
    qh_metric *gauge = m ? m->regime_gauge : NULL;
    if (!gauge) gauge = qh_metrics_gauge(e->metrics, "regime", gauge_help, "symbol", out.symbol);
    if (m) m->regime_gauge = gauge;
    qh_metric_set(gauge, (double)out.regime);
    qh_debug(LOGC, "%s: %s -> %s", out.symbol, qtr_regime_name(out.previous), qtr_regime_name(out.regime));
    QH_PUBLISH(e, QTR_EV_REGIME, 0, qh_clock_now_ms(e->clock), regime, out);
}

int qh_regime_glue_init(qh_engine *e, char *err, size_t errlen)
{
    const qh_config *c = e->cfg;
    qtr_regime_params p = {
        .adx_period = (int)c->regime.adx_period,
        .atr_period = (int)c->regime.atr_period,
        .vol_period = (int)c->regime.vol_period,
        .trend_adx = score(c->regime.trend_adx),
        .trend_adx_exit = score(c->regime.trend_adx_exit),
        .volatile_atr_pct = score(c->regime.volatile_atr_pct),
        .volatile_vol_pct = score(c->regime.volatile_vol_pct),
        .confirm = (int)c->regime.confirm,
    };
    char why[160];
    e->regime = qh_regime_book_new(&p, why, sizeof why);
    if (!e->regime) {
        snprintf(err, errlen, "%s: regime: %s", c->path, why);
        return -1;
    }
    e->regime_sub = qh_bus_subscribe(e->bus, QTR_EV_CANDLE, NULL, on_candle, e, e);
    if (!e->regime_sub) {
        snprintf(err, errlen, "regime: cannot subscribe to candles");
        return -1;
    }
    return 0;
}

void qh_regime_glue_settle(qh_engine *e)
{
    if (!e->backtest || !e->regime_sub || qh_bus_heard(e->bus, QTR_EV_REGIME)) return;
    for (size_t i = 0; i < e->n_plugins; i++)
        if (qh_plugin_needs(&e->plugins[i].ld.desc, QTR_NEEDS_REGIME)) return;
    /* no one can read it: a plugin that did not declare the need is
     * refused get_regime and REGIME events (host_api.c) */
    qh_bus_unsubscribe(e->bus, e->regime_sub);
    e->regime_sub = NULL;
    qh_debug(LOGC, "no plugin needs regimes (QTR_NEEDS_REGIME): not classified in this backtest");
}

int qh_regime_glue_get(qh_engine *e, const char *symbol, qtr_regime_event *out)
{
    if (!e->regime || !qh_regime_book_get(e->regime, symbol, out)) return QTR_ENOTFOUND;
    return QTR_OK;
}

void qh_regime_glue_free(qh_engine *e)
{
    qh_regime_book_free(e->regime);
    e->regime = NULL;
    e->regime_sub = NULL;   /* the bus's: freed with it */
}
