/* averages.c — SMA, EMA and WMA (formulas and warm-ups in qtr/indicators.h). */
#include "window.h"

bool qtr_ind_sma_init(qtr_ind_sma *s, int period)
{
    *s = (qtr_ind_sma){ .period = period };
    return qtr_ind__period_ok(period, 1) && qtr_ind__ring_init(&s->w, period);
}

qtr_ind_status qtr_ind_sma_update(qtr_ind_sma *s, qtr_dec x)
{
    if (!qtr_ind__price_ok(x)) return QTR_IND_REFUSED;
    qtr_dec old;
    if (qtr_ind__ring_push(&s->w, x, &old)) s->sum -= old;
    s->sum += x;
    if (s->w.len < s->period) return QTR_IND_WARMUP;
    /* |sum| <= 5000 * 2^50: the mean always fits a qtr_dec */
    s->value_dec = (qtr_dec)qtr__div_round(s->sum, s->period, QTR_ROUND_HALF_EVEN);
    s->value = qtr_ind__d128(s->sum) / s->period;
    return QTR_IND_READY;
}

void qtr_ind_sma_free(qtr_ind_sma *s) { qtr_ind__ring_free(&s->w); }

bool qtr_ind_ema_init(qtr_ind_ema *e, int period)
{
    *e = (qtr_ind_ema){ .period = period, .k = 2.0 / (period + 1.0) };
    return qtr_ind__period_ok(period, 1);
}

qtr_ind_status qtr_ind_ema_update_double(qtr_ind_ema *e, double x)
{
    if (e->count < e->period) {
        e->seed_sum += x;
        if (++e->count < e->period) return QTR_IND_WARMUP;
        e->value = e->seed_sum / e->period;   /* TA-Lib's seed: the first SMA */
        return QTR_IND_READY;
    }
    e->value = (x - e->value) * e->k + e->value;   /* TA-Lib's order of operations */
    return QTR_IND_READY;
}

qtr_ind_status qtr_ind_ema_update(qtr_ind_ema *e, qtr_dec x)
{
    if (!qtr_ind__price_ok(x)) return QTR_IND_REFUSED;
    return qtr_ind_ema_update_double(e, qtr_ind__d(x));
}

void qtr_ind_ema_free(qtr_ind_ema *e) { (void)e; }

bool qtr_ind_wma_init(qtr_ind_wma *m, int period)
{
    *m = (qtr_ind_wma){ .period = period };
    return qtr_ind__period_ok(period, 1) && qtr_ind__ring_init(&m->w, period);
}

/* weighted = sum(i * x_i), i = 1 (oldest) .. n (newest). A new value shifts
 * every weight down by one: weighted - sum (before the newest enters), then
 * + n * x. Exact in integers, so it never drifts. */
qtr_ind_status qtr_ind_wma_update(qtr_ind_wma *m, qtr_dec x)
{
    if (!qtr_ind__price_ok(x)) return QTR_IND_REFUSED;
    qtr_dec old;
    int had = m->w.len;
    bool evicted = qtr_ind__ring_push(&m->w, x, &old);
    if (evicted) {
        m->weighted -= m->sum;            /* every weight down by one; the oldest to 0 */
        m->sum -= old;
        m->weighted += (qtr__i128)m->period * x;
    } else {
        m->weighted += (qtr__i128)(had + 1) * x;
    }
    m->sum += x;
    if (m->w.len < m->period) return QTR_IND_WARMUP;
    double divider = (double)m->period * (m->period + 1) / 2.0;
    m->value = qtr_ind__d128(m->weighted) / divider;
    return QTR_IND_READY;
}

void qtr_ind_wma_free(qtr_ind_wma *m) { qtr_ind__ring_free(&m->w); }
