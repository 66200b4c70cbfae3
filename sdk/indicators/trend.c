/* trend.c — ADX with +DI/-DI, and the Donchian channel (formulas in
 * qtr/indicators.h). */
#include "steps.h"

#include <math.h>

bool qtr_ind_adx_init(qtr_ind_adx *a, int period)
{
    *a = (qtr_ind_adx){ .period = period };
    return qtr_ind__period_ok(period, 2);
}

/* TA-Lib's TA_ADX step by step: candle 1 only gives the previous values;
 * candles 2..n add to the sums; from candle n + 1 the sums are smoothed and
 * the DIs given; DX of candles n + 1..2n average into the first ADX. */
qtr_ind_status qtr_ind_adx_update(qtr_ind_adx *a, const qtr_candle *c)
{
    if (!qtr_ind__candle_ok(c)) return QTR_IND_REFUSED;
    return qtr_ind__adx_step(a, c);
}

void qtr_ind_adx_free(qtr_ind_adx *a) { (void)a; }

bool qtr_ind_donchian_init(qtr_ind_donchian *d, int period)
{
    *d = (qtr_ind_donchian){ .period = period };
    if (!qtr_ind__period_ok(period, 1)) return false;
    if (qtr_ind__extreme_init(&d->hh, period, true) && qtr_ind__extreme_init(&d->ll, period, false)) return true;
    qtr_ind_donchian_free(d);
    return false;
}

qtr_ind_status qtr_ind_donchian_update(qtr_ind_donchian *d, const qtr_candle *c)
{
    if (!qtr_ind__candle_ok(c)) return QTR_IND_REFUSED;
    qtr_ind__extreme_push(&d->hh, c->high);
    qtr_ind__extreme_push(&d->ll, c->low);
    if (!qtr_ind__extreme_full(&d->hh)) return QTR_IND_WARMUP;
    d->upper = qtr_ind__extreme_get(&d->hh);
    d->lower = qtr_ind__extreme_get(&d->ll);
    d->middle = (qtr_ind__d(d->upper) + qtr_ind__d(d->lower)) / 2.0;
    return QTR_IND_READY;
}

void qtr_ind_donchian_free(qtr_ind_donchian *d)
{
    qtr_ind__extreme_free(&d->hh);
    qtr_ind__extreme_free(&d->ll);
}
