/*
 * a * b of two decimals, HALF_EVEN, as qtr_dec_mul(a, b, QTR_ROUND_HALF_EVEN,
 * out) gives it (the same result, the same refusals), without its 128-bit
 * division: a product past 2^63 units (a whole coin at a price of some
 * thousands) sends qtr_dec_mul to the generic __divmodti4; here one 128-by-64
 * division (divq on x86-64) by the scale does it. Used on the per-candle
 * paths: the portfolio's marks, the report's exposure. Also a + b and a - b
 * as the SDK gives them, cheaper (qh_dec_add, qh_dec_sub below).
 */
#ifndef QH_DEC_MUL_H
#define QH_DEC_MUL_H

#include <stdbool.h>
#include <stdint.h>

#include <qtr/money.h>

#include "qc/div128.h"

/* a * b rounded half-even; false when it overflows (out untouched). The
 * magnitudes are multiplied and the sign put back after: half-even rounding
 * is symmetric. */
static inline bool qh_dec_mul_half_even(qtr_dec a, qtr_dec b, qtr_dec *out)
{
    uint64_t ma = a < 0 ? -(uint64_t)a : (uint64_t)a, mb = b < 0 ? -(uint64_t)b : (uint64_t)b;
    qtr__u128 num = (qtr__u128)ma * mb;
    const uint64_t scale = (uint64_t)QTR_DEC_SCALE;
    if ((uint64_t)(num >> 64) >= scale) return false;   /* the quotient is 2^64 or more */
    uint64_t r, q = qc_div_128_by_64(num, scale, &r);
    if (q > (uint64_t)QTR_DEC_MAX) return false;
    q += qc_half_even_away(q, r, scale);                /* at most 2^63: no wrap */
    if (q > (uint64_t)QTR_DEC_MAX) return false;
    *out = (a < 0) != (b < 0) ? -(qtr_dec)q : (qtr_dec)q;
    return true;
}

/* a + b and a - b as qtr_dec_add / qtr_dec_sub give them (the same
 * result, the same refusals: a result outside [QTR_DEC_MIN, QTR_DEC_MAX],
 * so INT64_MIN too, is refused and out left untouched), with the CPU's
 * overflow flag instead of their 128-bit sum and range compare: a dozen
 * instructions less each, and the per-candle paths do a dozen of them. */
static inline bool qh_dec_add(qtr_dec a, qtr_dec b, qtr_dec *out)
{
    qtr_dec r;
    if (__builtin_add_overflow(a, b, &r) || r == INT64_MIN) return false;
    *out = r;
    return true;
}

static inline bool qh_dec_sub(qtr_dec a, qtr_dec b, qtr_dec *out)
{
    qtr_dec r;
    if (__builtin_sub_overflow(a, b, &r) || r == INT64_MIN) return false;
    *out = r;
    return true;
}

#endif
