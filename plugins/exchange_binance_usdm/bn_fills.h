/*
 * bn_fills — turn the exchange's running totals (executedQty, cumQuote) into
 * fill increments. The price of an increment is
 *     (cumQuote - lastCumQuote) / (executedQty - lastExecutedQty)
 * computed in one fixed-point division rounded half-to-even at 1e-8.
 */
#ifndef BN_FILLS_H
#define BN_FILLS_H

#include <stdbool.h>
#include <stddef.h>

#include <qtr/money.h>

typedef struct bn_fill_tracker {
    qtr_dec last_qty;     /* executedQty last seen */
    qtr_dec last_quote;   /* cumQuote last seen    */
} bn_fill_tracker;

typedef enum bn_fill_result {
    BN_FILL_NONE = 0,     /* nothing new                                     */
    BN_FILL_NEW = 1,      /* *qty and *price hold the increment               */
    BN_FILL_BAD = -1      /* totals went backwards or are inconsistent: err   */
} bn_fill_result;

/* Feed the newest totals; on BN_FILL_NEW the tracker moves to them. */
bn_fill_result bn_fill_step(bn_fill_tracker *t, qtr_dec executed_qty, qtr_dec cum_quote, qtr_dec *qty,
                            qtr_dec *price, char *err, size_t errlen);

/* Average price of `quote` over `qty` (half-to-even); 0 when qty is 0. */
qtr_dec bn_avg_price(qtr_dec quote, qtr_dec qty);

#endif
