/* volatility.c — true range, ATR, rolling standard deviation, z-score and
 * Bollinger bands (formulas in qtr/indicators.h). */
#include "steps.h"

#include <math.h>

qtr_dec qtr_ind_true_range(const qtr_candle *c, qtr_dec prev_close) { return qtr_ind__true_range(c, prev_close); }

bool qtr_ind_atr_init(qtr_ind_atr *a, int period)
{
    *a = (qtr_ind_atr){ .period = period, .ranges = -1 };
    return qtr_ind__period_ok(period, 1);
}

qtr_ind_status qtr_ind_atr_update(qtr_ind_atr *a, const qtr_candle *c)
{
    if (!qtr_ind__candle_ok(c)) return QTR_IND_REFUSED;
    return qtr_ind__atr_step(a, c);
}

void qtr_ind_atr_free(qtr_ind_atr *a) { (void)a; }

bool qtr_ind_stddev_init(qtr_ind_stddev *s, int period)
{
    *s = (qtr_ind_stddev){ .period = period };
    return qtr_ind__period_ok(period, 1) && qtr_ind__ring_init(&s->w, period);
}

/* The method and its bounds: qtr_ind__stddev_step in steps.h. */
qtr_ind_status qtr_ind_stddev_update(qtr_ind_stddev *s, qtr_dec x)
{
    if (!qtr_ind__price_ok(x)) return QTR_IND_REFUSED;
    return qtr_ind__stddev_step(s, x);
}

void qtr_ind_stddev_free(qtr_ind_stddev *s) { qtr_ind__ring_free(&s->w); }

bool qtr_ind_bbands_init(qtr_ind_bbands *b, int period, int k_x100)
{
    *b = (qtr_ind_bbands){ .k_x100 = k_x100 };
    return k_x100 >= 0 && k_x100 <= 100000 && qtr_ind_stddev_init(&b->sd, period);
}

qtr_ind_status qtr_ind_bbands_update(qtr_ind_bbands *b, qtr_dec x)
{
    qtr_ind_status st = qtr_ind_stddev_update(&b->sd, x);
    if (st != QTR_IND_READY) return st;
    double k = b->k_x100 / 100.0;
    b->middle = b->sd.mean;
    b->middle_dec = (qtr_dec)qtr__div_round(b->sd.sum, b->sd.period, QTR_ROUND_HALF_EVEN);
    b->upper = b->middle + k * b->sd.value;
    b->lower = b->middle - k * b->sd.value;
    return QTR_IND_READY;
}

void qtr_ind_bbands_free(qtr_ind_bbands *b) { qtr_ind_stddev_free(&b->sd); }
