/* trend.c — ADX with +DI/-DI, and the Donchian channel (formulas in
 * qtr/indicators.h). */
#include "window.h"

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

qtr_ind_status qtr_ind__adx_step(qtr_ind_adx *a, const qtr_candle *c)
{
    int64_t i = ++a->count;
    if (i == 1) {
        a->prev_high = c->high;
        a->prev_low = c->low;
        a->prev_close = c->close;
        return QTR_IND_WARMUP;
    }
    /* exact differences: a tie (up == down) is a real tie, so neither DM
     * counts, where TA-Lib's doubles may break it either way by rounding */
    qtr_dec diff_p = c->high - a->prev_high, diff_m = a->prev_low - c->low;
    double tr = qtr_ind__d(qtr_ind__true_range(c, a->prev_close));
    a->prev_high = c->high;
    a->prev_low = c->low;
    a->prev_close = c->close;
    double n = a->period;
    if (i > a->period) {
        a->s_minus -= a->s_minus / n;
        a->s_plus -= a->s_plus / n;
    }
    if (diff_m > 0 && diff_p < diff_m) a->s_minus += qtr_ind__d(diff_m);
    else if (diff_p > 0 && diff_p > diff_m) a->s_plus += qtr_ind__d(diff_p);
    if (i <= a->period) {
        a->s_tr += tr;
        return QTR_IND_WARMUP;
    }
    a->s_tr = a->s_tr - a->s_tr / n + tr;
    double dx = 0;
    bool has_dx = false;
    if (a->s_tr != 0) {
        a->minus_di = 100.0 * (a->s_minus / a->s_tr);
        a->plus_di = 100.0 * (a->s_plus / a->s_tr);
        double sum = a->minus_di + a->plus_di;
        if (sum != 0) {
            dx = 100.0 * (fabs(a->minus_di - a->plus_di) / sum);
            has_dx = true;
        }
    } else {
        a->minus_di = a->plus_di = 0;
    }
    a->di_ready = true;
    if (i < 2 * (int64_t)a->period) {
        a->dx_sum += dx;
        return QTR_IND_WARMUP;
    }
    if (i == 2 * (int64_t)a->period) {
        a->adx = (a->dx_sum + dx) / n;
        return QTR_IND_READY;
    }
    if (has_dx) a->adx = (a->adx * (n - 1) + dx) / n;
    return QTR_IND_READY;
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
