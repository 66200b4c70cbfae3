/* momentum.c — RSI, MACD and the stochastic (formulas in qtr/indicators.h). */
#include "window.h"

bool qtr_ind_rsi_init(qtr_ind_rsi *r, int period)
{
    *r = (qtr_ind_rsi){ .period = period, .changes = -1 };
    return qtr_ind__period_ok(period, 1);
}

qtr_ind_status qtr_ind_rsi_update(qtr_ind_rsi *r, qtr_dec x)
{
    if (!qtr_ind__price_ok(x)) return QTR_IND_REFUSED;
    if (r->changes < 0) {            /* the first value: no change yet */
        r->prev = x;
        r->changes = 0;
        return QTR_IND_WARMUP;
    }
    double change = qtr_ind__d(x - r->prev);   /* exact difference, one rounding */
    r->prev = x;
    double n = r->period;
    if (r->changes < r->period) {    /* seeding: the simple average of n changes */
        if (change < 0) r->loss -= change;
        else r->gain += change;
        if (++r->changes < r->period) return QTR_IND_WARMUP;
        r->gain /= n;
        r->loss /= n;
    } else {                         /* Wilder smoothing, in TA-Lib's order */
        r->loss *= n - 1;
        r->gain *= n - 1;
        if (change < 0) r->loss -= change;
        else r->gain += change;
        r->loss /= n;
        r->gain /= n;
    }
    double total = r->gain + r->loss;
    r->value = total != 0 ? 100.0 * (r->gain / total) : 0.0;
    return QTR_IND_READY;
}

void qtr_ind_rsi_free(qtr_ind_rsi *r) { (void)r; }

bool qtr_ind_macd_init(qtr_ind_macd *m, int fast, int slow, int signal)
{
    if (fast > slow) {
        int t = fast;
        fast = slow;
        slow = t;
    }
    *m = (qtr_ind_macd){ .fast_period = fast, .slow_period = slow, .fast_k = 2.0 / (fast + 1.0),
                         .slow_k = 2.0 / (slow + 1.0) };
    if (!qtr_ind__period_ok(fast, 2) || !qtr_ind__period_ok(slow, 2)) return false;
    if (!qtr_ind_ema_init(&m->signal_ema, signal)) return false;
    return qtr_ind__ring_init(&m->recent, fast);
}

qtr_ind_status qtr_ind_macd_update(qtr_ind_macd *m, qtr_dec x)
{
    if (!qtr_ind__price_ok(x)) return QTR_IND_REFUSED;
    double xd = qtr_ind__d(x);
    m->count++;
    if (m->count <= m->slow_period) {
        qtr_dec old;
        if (qtr_ind__ring_push(&m->recent, x, &old)) m->recent_sum -= old;
        m->recent_sum += x;
        m->slow_sum += x;
        if (m->count < m->slow_period) return QTR_IND_WARMUP;
        /* both EMAs start here, each seeded with its own SMA ending here */
        m->slow = qtr_ind__d128(m->slow_sum) / m->slow_period;
        m->fast = qtr_ind__d128(m->recent_sum) / m->fast_period;
        qtr_ind__ring_free(&m->recent);   /* not needed again (a free, never an allocation) */
    } else {
        m->slow = (xd - m->slow) * m->slow_k + m->slow;
        m->fast = (xd - m->fast) * m->fast_k + m->fast;
    }
    m->line = m->fast - m->slow;
    m->line_ready = true;
    if (qtr_ind_ema_update_double(&m->signal_ema, m->line) != QTR_IND_READY) return QTR_IND_WARMUP;
    m->signal = m->signal_ema.value;
    m->histogram = m->line - m->signal;
    return QTR_IND_READY;
}

void qtr_ind_macd_free(qtr_ind_macd *m) { qtr_ind__ring_free(&m->recent); }

bool qtr_ind_stoch_init(qtr_ind_stoch *s, int k_period, int k_smooth, int d_period)
{
    *s = (qtr_ind_stoch){ .k_period = k_period, .k_smooth = k_smooth, .d_period = d_period };
    if (!qtr_ind__period_ok(k_period, 1) || !qtr_ind__period_ok(k_smooth, 1) || !qtr_ind__period_ok(d_period, 1))
        return false;
    if (qtr_ind__extreme_init(&s->hh, k_period, true) && qtr_ind__extreme_init(&s->ll, k_period, false) &&
        qtr_ind__dring_init(&s->raw, k_smooth) && qtr_ind__dring_init(&s->kw, d_period))
        return true;
    qtr_ind_stoch_free(s);
    return false;
}

qtr_ind_status qtr_ind_stoch_update(qtr_ind_stoch *s, const qtr_candle *c)
{
    if (!qtr_ind__candle_ok(c)) return QTR_IND_REFUSED;
    qtr_ind__extreme_push(&s->hh, c->high);
    qtr_ind__extreme_push(&s->ll, c->low);
    if (!qtr_ind__extreme_full(&s->hh)) return QTR_IND_WARMUP;
    qtr_dec hi = qtr_ind__extreme_get(&s->hh), lo = qtr_ind__extreme_get(&s->ll);
    /* 100 (close - lowest) / (highest - lowest) from exact differences; 0 on a
     * flat range, as TA-Lib */
    double raw = hi != lo ? 100.0 * ((double)(c->close - lo) / (double)(hi - lo)) : 0.0;
    qtr_ind__dring_push(&s->raw, raw);
    if (!qtr_ind__dring_full(&s->raw)) return QTR_IND_WARMUP;
    s->k = qtr_ind__dring_mean(&s->raw);
    s->k_ready = true;
    qtr_ind__dring_push(&s->kw, s->k);
    if (!qtr_ind__dring_full(&s->kw)) return QTR_IND_WARMUP;
    s->d = qtr_ind__dring_mean(&s->kw);
    return QTR_IND_READY;
}

void qtr_ind_stoch_free(qtr_ind_stoch *s)
{
    qtr_ind__extreme_free(&s->hh);
    qtr_ind__extreme_free(&s->ll);
    qtr_ind__dring_free(&s->raw);
    qtr_ind__dring_free(&s->kw);
}
