/* volume.c — OBV and the windowed VWAP (formulas in qtr/indicators.h). */
#include "window.h"

void qtr_ind_obv_init(qtr_ind_obv *o) { *o = (qtr_ind_obv){ 0 }; }

qtr_ind_status qtr_ind_obv_update(qtr_ind_obv *o, const qtr_candle *c)
{
    if (!qtr_ind__candle_ok(c)) return QTR_IND_REFUSED;
    if (o->count++ == 0) o->total = c->volume;   /* TA-Lib starts at the first volume */
    else if (c->close > o->prev_close) o->total += c->volume;
    else if (c->close < o->prev_close) o->total -= c->volume;
    o->prev_close = c->close;
    o->value = qtr_ind__d128(o->total);
    return QTR_IND_READY;
}

bool qtr_ind_vwap_init(qtr_ind_vwap *v, int period)
{
    *v = (qtr_ind_vwap){ .period = period };
    if (!qtr_ind__period_ok(period, 1)) return false;
    if (qtr_ind__ring_init(&v->tp3, period) && qtr_ind__ring_init(&v->vol, period)) return true;
    qtr_ind_vwap_free(v);
    return false;
}

/* pv_sum is sum((high + low + close) * volume) in units^2: 3 * 2^50 * 2^63
 * per candle, times 5000 candles, stays under 2^127. The VWAP is pv_sum /
 * (3 * v_sum), one exact division. */
qtr_ind_status qtr_ind_vwap_update(qtr_ind_vwap *v, const qtr_candle *c)
{
    if (!qtr_ind__candle_ok(c)) return QTR_IND_REFUSED;
    /* both rings fill together: old_vol is set whenever old_tp3 is (0: the
     * compiler cannot see that through the inlined pushes) */
    qtr_dec tp3 = c->high + c->low + c->close, old_tp3 = 0, old_vol = 0;
    if (qtr_ind__ring_push(&v->tp3, tp3, &old_tp3)) {
        qtr_ind__ring_push(&v->vol, c->volume, &old_vol);
        v->pv_sum -= (qtr__i128)old_tp3 * old_vol;
        v->v_sum -= old_vol;
    } else {
        qtr_ind__ring_push(&v->vol, c->volume, &old_vol);
    }
    v->pv_sum += (qtr__i128)tp3 * c->volume;
    v->v_sum += c->volume;
    if (v->tp3.len < v->period || v->v_sum == 0) return QTR_IND_WARMUP;
    v->value_dec = (qtr_dec)qtr__div_round(v->pv_sum, 3 * v->v_sum, QTR_ROUND_HALF_EVEN);
    v->value = (double)v->pv_sum / (3.0 * (double)v->v_sum) / (double)QTR_DEC_SCALE;
    return QTR_IND_READY;
}

void qtr_ind_vwap_free(qtr_ind_vwap *v)
{
    qtr_ind__ring_free(&v->tp3);
    qtr_ind__ring_free(&v->vol);
}
