/* window.h — the fixed windows behind the indicators (private to the
 * library): allocated once by init, never again. */
#ifndef QTR_IND_WINDOW_H
#define QTR_IND_WINDOW_H

#include <qtr/indicators.h>

bool qtr_ind__period_ok(int period, int min);
/* Inline: every indicator checks every candle, the regime classifier three
 * times (itself, ADX, ATR). */
static inline bool qtr_ind__price_ok(qtr_dec x) { return x >= -QTR_IND_PRICE_MAX && x <= QTR_IND_PRICE_MAX; }
/* Prices within range and a volume in [0, QTR_DEC_MAX]. */
static inline bool qtr_ind__candle_ok(const qtr_candle *c)
{
    return qtr_ind__price_ok(c->open) && qtr_ind__price_ok(c->high) && qtr_ind__price_ok(c->low) &&
           qtr_ind__price_ok(c->close) && c->volume >= 0;
}

/* qtr_ind_true_range, inline for ADX and ATR (each candle, each symbol). */
static inline qtr_dec qtr_ind__true_range(const qtr_candle *c, qtr_dec prev_close)
{
    /* prices are within +-2^50, so no difference overflows */
    qtr_dec tr = c->high - c->low;
    qtr_dec up = qtr_dec_abs(c->high - prev_close), down = qtr_dec_abs(c->low - prev_close);
    if (up > tr) tr = up;
    if (down > tr) tr = down;
    return tr;
}

bool qtr_ind__ring_init(qtr_ind_ring *r, int cap);
void qtr_ind__ring_free(qtr_ind_ring *r);
/* Append x; when the ring was full, *evicted gets the oldest value and true
 * is returned. Inline: once a candle in every windowed indicator. */
static inline bool qtr_ind__ring_push(qtr_ind_ring *r, qtr_dec x, qtr_dec *evicted)
{
    bool full = r->len == r->cap;
    if (full) *evicted = r->v[r->head];
    else r->len++;
    r->v[r->head] = x;
    r->head = r->head + 1 == r->cap ? 0 : r->head + 1;
    return full;
}

bool qtr_ind__dring_init(qtr_ind_dring *r, int cap);
void qtr_ind__dring_free(qtr_ind_dring *r);
void qtr_ind__dring_push(qtr_ind_dring *r, double x);
static inline bool qtr_ind__dring_full(const qtr_ind_dring *r) { return r->len == r->cap; }
static inline double qtr_ind__dring_mean(const qtr_ind_dring *r) { return r->sum / r->len; }

bool qtr_ind__extreme_init(qtr_ind_extreme *e, int period, bool is_max);
void qtr_ind__extreme_free(qtr_ind_extreme *e);
/* Push x; the extreme of the last `period` values is then qtr_ind__extreme_get. */
void qtr_ind__extreme_push(qtr_ind_extreme *e, qtr_dec x);
static inline qtr_dec qtr_ind__extreme_get(const qtr_ind_extreme *e) { return e->val[e->head]; }
static inline bool qtr_ind__extreme_full(const qtr_ind_extreme *e) { return e->n >= e->cap; }

/* A qtr_dec as a double in whole units, for scores only (docs/indicators.md):
 * nothing computed from it ever becomes an order's price or quantity. */
static inline double qtr_ind__d(qtr_dec x) { return (double)x / (double)QTR_DEC_SCALE; }
/* (double)x, the same value: a 128-bit integer that fits in 64 bits is
 * converted as one (a conversion rounds the exact value to the nearest
 * double either way), without libgcc's slower 128-bit conversion. */
static inline double qtr_ind__i128_to_double(qtr__i128 x)
{
    return x == (qtr__i128)(int64_t)x ? (double)(int64_t)x : (double)x;
}
static inline double qtr_ind__d128(qtr__i128 x) { return qtr_ind__i128_to_double(x) / (double)QTR_DEC_SCALE; }

/* close / prev - 1 in qtr_dec (truncated toward zero to 1e-8), clamped to
 * the library's input range: the regime classifier's return. Both are in
 * (0, 2^50], so the product fits 128 bits. In 64 bits when (close - prev) *
 * 1e8 fits there (a move within about 922 price units: every real candle):
 * the same quotient, clamped without 128-bit compares. */
static inline qtr_dec qtr_ind__simple_return(qtr_dec close, qtr_dec prev)
{
    int64_t scaled;
    if (__builtin_mul_overflow(close - prev, QTR_DEC_SCALE, &scaled)) {
        qtr__i128 r = (qtr__i128)(close - prev) * QTR_DEC_SCALE / prev;
        return (qtr_dec)(r > QTR_IND_PRICE_MAX ? QTR_IND_PRICE_MAX : r < -QTR_IND_PRICE_MAX ? -QTR_IND_PRICE_MAX : r);
    }
    int64_t r = scaled / prev;   /* prev > 0 */
    return r > QTR_IND_PRICE_MAX ? QTR_IND_PRICE_MAX : r < -QTR_IND_PRICE_MAX ? -QTR_IND_PRICE_MAX : r;
}

#endif
