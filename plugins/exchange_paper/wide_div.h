/*
 * 128-bit divisions of the paper exchange's fill path (fee, slippage, an
 * order's average price, a position's entry) without the generic
 * __divmodti4 where the quotient fits 64 bits: one 128-by-64 division (divq
 * on x86-64) does it then. The results are those of the plain `/` and `%`
 * and of qtr__div_round, for every input: anything outside the fast case
 * (a negative numerator, a divisor past 64 bits or not positive, a quotient
 * of 2^64 or more) takes the plain computation.
 */
#ifndef QTR_PAPER_WIDE_DIV_H
#define QTR_PAPER_WIDE_DIV_H

#include <stdbool.h>
#include <stdint.h>

#include <qtr/money.h>

#include "qc/div128.h"

/* The fast case: 0 <= num, 0 < den < 2^64, num / den < 2^64. */
static inline bool qtr_paper_div_fits(qtr__i128 num, qtr__i128 den)
{
    return num >= 0 && den > 0 && den <= (qtr__i128)UINT64_MAX &&
           (uint64_t)((qtr__u128)num >> 64) < (uint64_t)den;
}

/* num / den and num % den (rem may be NULL), as C computes them; den != 0. */
static inline qtr__i128 qtr_paper_divmod(qtr__i128 num, qtr__i128 den, qtr__i128 *rem)
{
    if (qtr_paper_div_fits(num, den)) {
        uint64_t r, q = qc_div_128_by_64((qtr__u128)num, (uint64_t)den, &r);
        if (rem) *rem = (qtr__i128)r;
        return (qtr__i128)q;
    }
    if (rem) *rem = num % den;
    return num / den;
}

/* qtr__div_round(num, den, QTR_ROUND_HALF_EVEN); den != 0. */
static inline qtr__i128 qtr_paper_div_half_even(qtr__i128 num, qtr__i128 den)
{
    if (!qtr_paper_div_fits(num, den)) return qtr__div_round(num, den, QTR_ROUND_HALF_EVEN);
    uint64_t d = (uint64_t)den, r, q = qc_div_128_by_64((qtr__u128)num, d, &r);
    /* both positive: away from zero is up; a tie goes to the even quotient */
    bool up = qc_half_even_away(q, r, d);
    return (qtr__i128)q + up;
}

#endif
