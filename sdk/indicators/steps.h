/* steps.h — the per-candle steps of ADX, ATR and the rolling standard
 * deviation without their input checks (private to the library), inline:
 * the public updates (trend.c, volatility.c) check their input and call
 * them; the regime classifier (regime.c) checks each candle once and runs
 * all three in one function, with no call, spill and reload between them.
 * The caller has made qtr_ind__candle_ok(c) or qtr_ind__price_ok(x). */
#ifndef QTR_IND_STEPS_H
#define QTR_IND_STEPS_H

#include <math.h>

#include "window.h"

/* TA-Lib's TA_ADX step by step (trend.c), in two parts: the first candle
 * (only the previous values), and each later one given its true range from
 * the previous close as a double (tr = qtr_ind__d(qtr_ind__true_range(c,
 * a->prev_close))), which the regime classifier shares with ATR. */
static inline qtr_ind_status qtr_ind__adx_first(qtr_ind_adx *a, const qtr_candle *c)
{
    a->count = 1;
    a->prev_high = c->high;
    a->prev_low = c->low;
    a->prev_close = c->close;
    return QTR_IND_WARMUP;
}

static inline qtr_ind_status qtr_ind__adx_next(qtr_ind_adx *a, const qtr_candle *c, double tr)
{
    int64_t i = ++a->count;
    /* exact differences: a tie (up == down) is a real tie, so neither DM
     * counts, where TA-Lib's doubles may break it either way by rounding */
    qtr_dec diff_p = c->high - a->prev_high, diff_m = a->prev_low - c->low;
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

static inline qtr_ind_status qtr_ind__adx_step(qtr_ind_adx *a, const qtr_candle *c)
{
    if (a->count == 0) return qtr_ind__adx_first(a, c);
    return qtr_ind__adx_next(a, c, qtr_ind__d(qtr_ind__true_range(c, a->prev_close)));
}

/* Wilder's ATR (volatility.c), in the same two parts as ADX's. */
static inline qtr_ind_status qtr_ind__atr_first(qtr_ind_atr *a, const qtr_candle *c)
{
    a->prev_close = c->close;   /* no previous close, no true range */
    a->ranges = 0;
    return QTR_IND_WARMUP;
}

static inline qtr_ind_status qtr_ind__atr_next(qtr_ind_atr *a, const qtr_candle *c, double tr)
{
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

static inline qtr_ind_status qtr_ind__atr_step(qtr_ind_atr *a, const qtr_candle *c)
{
    if (a->ranges < 0) return qtr_ind__atr_first(a, c);
    return qtr_ind__atr_next(a, c, qtr_ind__d(qtr_ind__true_range(c, a->prev_close)));
}

/*
 * The variance from exact sums S1 = sum(x), S2 = sum(x^2) without the
 * cancellation of S2/n - (S1/n)^2 in floating point: with S1 = q n + r
 * (integer division), M = sum((x - q)^2) = S2 - n q^2 - 2 q r is an exact
 * integer >= 0, and n^2 var = n M - r^2 with 0 <= r^2 < n^2. So var = M / n
 * - r^2 / n^2: one rounding of a non-negative integer, minus less than one
 * unit^2. Bounds: |x| <= 2^50 and n <= 5000 keep every term under 2^126,
 * and S1 within 5000 * 2^50 < 2^62.3: S1 is kept in the struct's 128 bits
 * but is always an int64_t, so it is worked on as one (no 128-bit division,
 * no conversion check).
 */
static inline qtr_ind_status qtr_ind__stddev_step(qtr_ind_stddev *s, qtr_dec x)
{
    qtr_dec old = 0;   /* the value leaving the window; 0 until the window is full */
    qtr_ind__ring_push(&s->w, x, &old);
    /* one update of each sum: S1 += x - old, S2 += x^2 - old^2 = (x - old)(x + old),
     * each factor within 2^51, so one 64x64 -> 128 product, the same integer */
    int64_t delta = x - old, sum = (int64_t)s->sum + delta;
    s->sum = sum;
    s->sum_sq += (qtr__i128)delta * (x + old);
    if (s->w.len < s->period) return QTR_IND_WARMUP;
    int64_t n = s->period, q = sum / n, r = sum % n;
    /* M = S2 - q (n q + 2 r): |n q| <= |S1| < 2^62.3 and |2 r| < 2 n, so
     * n q + 2 r fits 64 bits and M is one 64x64 -> 128 product away */
    qtr__i128 m = s->sum_sq - (qtr__i128)q * (n * q + 2 * r);
    double rd = (double)r, nd = (double)n;   /* |r| < n */
    double var = qtr_ind__i128_to_double(m) / nd - (rd * rd) / (nd * nd);
    double sd_units = var > 0 ? sqrt(var) : 0.0;
    s->mean = qtr_ind__d(sum) / s->period;
    s->value = sd_units / (double)QTR_DEC_SCALE;
    /* (x - mean) / sd with an exact numerator: (n x - S1) / n. |n x| and
     * |S1| are each under 2^62.3, so their difference fits 64 bits but for
     * a window of values near one bound followed by one near the other */
    if (sd_units > 0) {
        int64_t num;
        double numd = __builtin_sub_overflow(n * x, sum, &num) ? (double)(n * (qtr__i128)x - sum) : (double)num;
        s->zscore = numd / nd / sd_units;
    } else {
        s->zscore = 0.0;
    }
    return QTR_IND_READY;
}

#endif
