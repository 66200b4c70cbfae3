/* volatility.c — true range, ATR, rolling standard deviation, z-score and
 * Bollinger bands (formulas in qtr/indicators.h). */
#include "window.h"

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

qtr_ind_status qtr_ind__atr_step(qtr_ind_atr *a, const qtr_candle *c)
{
    if (a->ranges < 0) {   /* the first candle: no previous close, no true range */
        a->prev_close = c->close;
        a->ranges = 0;
        return QTR_IND_WARMUP;
    }
    double tr = qtr_ind__d(qtr_ind__true_range(c, a->prev_close));
    a->prev_close = c->close;
    if (a->ranges < a->period) {
        a->sum += tr;
        if (++a->ranges < a->period) return QTR_IND_WARMUP;
        a->value = a->sum / a->period;
        return QTR_IND_READY;
    }
    a->value = (a->value * (a->period - 1) + tr) / a->period;   /* Wilder, TA-Lib's order */
    return QTR_IND_READY;
}

void qtr_ind_atr_free(qtr_ind_atr *a) { (void)a; }

bool qtr_ind_stddev_init(qtr_ind_stddev *s, int period)
{
    *s = (qtr_ind_stddev){ .period = period };
    return qtr_ind__period_ok(period, 1) && qtr_ind__ring_init(&s->w, period);
}

/*
 * The variance from exact sums S1 = sum(x), S2 = sum(x^2) without the
 * cancellation of S2/n - (S1/n)^2 in floating point: with S1 = q n + r
 * (integer division), M = sum((x - q)^2) = S2 - n q^2 - 2 q r is an exact
 * integer >= 0, and n^2 var = n M - r^2 with 0 <= r^2 < n^2. So var = M / n
 * - r^2 / n^2: one rounding of a non-negative integer, minus less than one
 * unit^2. Bounds: |x| <= 2^50 and n <= 5000 keep every term under 2^126.
 */
qtr_ind_status qtr_ind_stddev_update(qtr_ind_stddev *s, qtr_dec x)
{
    if (!qtr_ind__price_ok(x)) return QTR_IND_REFUSED;
    return qtr_ind__stddev_step(s, x);
}

qtr_ind_status qtr_ind__stddev_step(qtr_ind_stddev *s, qtr_dec x)
{
    qtr_dec old;
    if (qtr_ind__ring_push(&s->w, x, &old)) {
        s->sum -= old;
        s->sum_sq -= (qtr__i128)old * old;
    }
    s->sum += x;
    s->sum_sq += (qtr__i128)x * x;
    if (s->w.len < s->period) return QTR_IND_WARMUP;
    int64_t n = s->period;
    qtr__i128 q, r;
    if (s->sum == (qtr__i128)(int64_t)s->sum) {   /* the same quotient without a 128-bit division */
        q = (int64_t)s->sum / n;
        r = (int64_t)s->sum % n;
    } else {
        q = s->sum / n;
        r = s->sum % n;
    }
    /* |q| <= 2^50 (a mean of values within it) and |r| < n <= 5000: n q and
     * q r fit 64 bits, so one 64x64 -> 128 product each, the same value */
    int64_t q64 = (int64_t)q, r64 = (int64_t)r;
    qtr__i128 m = s->sum_sq - (qtr__i128)(n * q64) * q64 - 2 * (qtr__i128)(q64 * r64);
    double rd = (double)(int64_t)r, nd = (double)n;   /* |r| < n */
    double var = qtr_ind__i128_to_double(m) / nd - (rd * rd) / (nd * nd);
    double sd_units = var > 0 ? sqrt(var) : 0.0;
    s->mean = qtr_ind__d128(s->sum) / s->period;
    s->value = sd_units / (double)QTR_DEC_SCALE;
    /* (x - mean) / sd with an exact numerator: (n x - S1) / n */
    s->zscore = sd_units > 0 ? qtr_ind__i128_to_double(n * (qtr__i128)x - s->sum) / nd / sd_units : 0.0;
    return QTR_IND_READY;
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
