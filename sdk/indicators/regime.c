/* regime.c — the regime classifier (rules and warm-up in
 * qtr/regime_classifier.h, docs/indicators.md). */
#include "steps.h"

#include <qtr/regime_classifier.h>

#include <stdio.h>

bool qtr_regime_params_check(const qtr_regime_params *p, char *err, size_t errlen)
{
    const char *bad = NULL;
    char buf[160];
    if (p->adx_period < 2 || p->adx_period > QTR_IND_PERIOD_MAX)
        snprintf(buf, sizeof buf, "adx_period %d is not in 2..%d", p->adx_period, QTR_IND_PERIOD_MAX), bad = buf;
    else if (p->atr_period < 1 || p->atr_period > QTR_IND_PERIOD_MAX)
        snprintf(buf, sizeof buf, "atr_period %d is not in 1..%d", p->atr_period, QTR_IND_PERIOD_MAX), bad = buf;
    else if (p->vol_period < 2 || p->vol_period > QTR_IND_PERIOD_MAX)
        snprintf(buf, sizeof buf, "vol_period %d is not in 2..%d", p->vol_period, QTR_IND_PERIOD_MAX), bad = buf;
    else if (!(p->trend_adx > 0 && p->trend_adx <= 100))   /* also refuses NaN */
        snprintf(buf, sizeof buf, "trend_adx %g is not in (0, 100]", p->trend_adx), bad = buf;
    else if (!(p->trend_adx_exit > 0 && p->trend_adx_exit <= p->trend_adx))
        snprintf(buf, sizeof buf, "trend_adx_exit %g is not in (0, trend_adx %g]", p->trend_adx_exit, p->trend_adx),
            bad = buf;
    else if (!(p->volatile_atr_pct > 0 && p->volatile_atr_pct <= 1000))
        snprintf(buf, sizeof buf, "volatile_atr_pct %g is not in (0, 1000]", p->volatile_atr_pct), bad = buf;
    else if (!(p->volatile_vol_pct > 0 && p->volatile_vol_pct <= 1000))
        snprintf(buf, sizeof buf, "volatile_vol_pct %g is not in (0, 1000]", p->volatile_vol_pct), bad = buf;
    else if (p->confirm < 1 || p->confirm > QTR_REGIME_CONFIRM_MAX)
        snprintf(buf, sizeof buf, "confirm %d is not in 1..%d", p->confirm, QTR_REGIME_CONFIRM_MAX), bad = buf;
    if (bad && err && errlen) snprintf(err, errlen, "%s", bad);
    return !bad;
}

bool qtr_regime_classifier_init(qtr_regime_classifier *c, const qtr_regime_params *p)
{
    *c = (qtr_regime_classifier){ .params = *p };
    if (!qtr_regime_params_check(p, NULL, 0)) return false;
    return qtr_ind_adx_init(&c->adx_ind, p->adx_period) && qtr_ind_atr_init(&c->atr_ind, p->atr_period) &&
           qtr_ind_stddev_init(&c->returns, p->vol_period);
}

void qtr_regime_classifier_free(qtr_regime_classifier *c)
{
    qtr_ind_adx_free(&c->adx_ind);
    qtr_ind_atr_free(&c->atr_ind);
    qtr_ind_stddev_free(&c->returns);
}

/* The rules, with the reported regime for the trend hysteresis. */
static qtr_regime classify(const qtr_regime_classifier *c)
{
    const qtr_regime_params *p = &c->params;
    if (c->atr_pct >= p->volatile_atr_pct || c->volatility >= p->volatile_vol_pct) return QTR_REGIME_VOLATILE;
    bool up = c->plus_di > c->minus_di, down = c->minus_di > c->plus_di;
    bool holding = (c->regime == QTR_REGIME_TREND_UP && up) || (c->regime == QTR_REGIME_TREND_DOWN && down);
    if (c->adx >= (holding ? p->trend_adx_exit : p->trend_adx)) {
        if (up) return QTR_REGIME_TREND_UP;
        if (down) return QTR_REGIME_TREND_DOWN;
    }
    return QTR_REGIME_RANGE;
}

static void report(qtr_regime_classifier *c, qtr_regime r)
{
    c->previous = c->regime;
    c->regime = r;
    c->changed = true;
    c->candidate_count = 0;
}

qtr_ind_status qtr_regime_classifier_update(qtr_regime_classifier *c, const qtr_candle *candle)
{
    if (!qtr_ind__candle_ok(candle) || candle->close <= 0) return QTR_IND_REFUSED;
    c->changed = false;
    /* the candle is checked above, a return is clamped into range: the
     * steps skip the checks their public updates would repeat */
    bool adx_ready = false, atr_ready = false, vol_ready = false;
    if (c->count++ == 0) {   /* the first candle: no previous close */
        qtr_ind__adx_first(&c->adx_ind, candle);
        qtr_ind__atr_first(&c->atr_ind, candle);
    } else {
        /* ADX and ATR each keep the previous close, which is the
         * classifier's (all three see the same candles): one true range */
        double tr = qtr_ind__d(qtr_ind__true_range(candle, c->prev_close));
        adx_ready = qtr_ind__adx_next(&c->adx_ind, candle, tr) == QTR_IND_READY;
        atr_ready = qtr_ind__atr_next(&c->atr_ind, candle, tr) == QTR_IND_READY;
        vol_ready = qtr_ind__stddev_step(&c->returns, qtr_ind__simple_return(candle->close, c->prev_close)) == QTR_IND_READY;
    }
    c->prev_close = candle->close;
    if (!(adx_ready && atr_ready && vol_ready)) return QTR_IND_WARMUP;

    c->inputs_ready = true;
    c->adx = c->adx_ind.adx;
    c->plus_di = c->adx_ind.plus_di;
    c->minus_di = c->adx_ind.minus_di;
    c->atr_pct = 100.0 * c->atr_ind.value / qtr_ind__d(candle->close);
    c->volatility = 100.0 * c->returns.value;

    qtr_regime r = classify(c);
    if (c->regime == QTR_REGIME_UNKNOWN) {   /* the first regime: at once */
        report(c, r);
    } else if (r == c->regime) {
        c->candidate_count = 0;
    } else {
        if (c->candidate_count > 0 && r == c->candidate) c->candidate_count++;
        else c->candidate = r, c->candidate_count = 1;
        if (c->candidate_count >= c->params.confirm) report(c, r);
    }
    return QTR_IND_READY;
}
