/*
 * ma_side.h — ma_cross's averages and which side of the slow one the fast
 * one is, the decision made on every candle. Header-only, so the unit test
 * (tests/strategy_ma_cross/test_strategy_ma_cross_side.c) checks the very
 * code the plugin runs.
 */
#ifndef MA_SIDE_H
#define MA_SIDE_H

#include <qtr/money.h>

/* sum / n rounded half-even to 8 decimals: the value of qtr_dec_div(sum,
 * QTR_DEC_INT(n), QTR_ROUND_HALF_EVEN), since (sum * 1e8) / (n * 1e8) is the
 * same exact quotient and the rounding depends on that alone, in one 64-bit
 * division instead of a 128-bit product and its range checks. Cannot
 * overflow (n >= 1: |sum / n| <= |sum|). */
static inline qtr_dec ma_average(qtr_dec sum, int n)
{
    return (qtr_dec)qtr__div_round(sum, n, QTR_ROUND_HALF_EVEN);
}

/*
 * sign(ma_average(fast_sum, fast) - ma_average(slow_sum, slow)) for sums in
 * [0, QTR_DEC_MAX] and 1 <= fast, slow <= 1000, without the two divisions
 * on most candles. With x = fast_sum / fast and y = slow_sum / slow exactly,
 * d = fast_sum * slow - slow_sum * fast = (x - y) * fast * slow (exact in
 * 128 bits: each product is below 2^73). Rounding half-even to a unit is
 * monotone and moves a value by at most half a unit, so x - y > 1 unit
 * (d > fast * slow) gives round(x) >= x - 1/2 > y + 1/2 >= round(y): the
 * sign of d. At 1 unit or less (a half each way can meet: 0.5 and -0.5 both
 * round to 0) the rounded averages are compared as before; d == 0 is x == y.
 */
static inline int ma_side(qtr_dec fast_sum, int fast, qtr_dec slow_sum, int slow)
{
    qtr__i128 d = (qtr__i128)fast_sum * slow - (qtr__i128)slow_sum * fast;
    int64_t unit = (int64_t)fast * slow;
    if (d > unit) return 1;
    if (d < -unit) return -1;
    if (d == 0) return 0;
    /* both averages in [0, QTR_DEC_MAX]: the difference cannot overflow */
    return qtr_dec_sign(ma_average(fast_sum, fast) - ma_average(slow_sum, slow));
}

#endif
