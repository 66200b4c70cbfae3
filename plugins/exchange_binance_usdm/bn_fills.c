/* bn_fills.c — see bn_fills.h. */
#include "bn_fills.h"

#include <stdio.h>

bn_fill_result bn_fill_step(bn_fill_tracker *t, qtr_dec executed_qty, qtr_dec cum_quote, qtr_dec *qty,
                            qtr_dec *price, char *err, size_t errlen)
{
    char a[QTR_DEC_STRLEN], b[QTR_DEC_STRLEN];
    if (executed_qty < 0 || cum_quote < 0) {
        snprintf(err, errlen, "negative executedQty or cumQuote");
        return BN_FILL_BAD;
    }
    if (executed_qty < t->last_qty) {
        snprintf(err, errlen, "executedQty went back from %s to %s", qtr_dec_format(t->last_qty, a),
                 qtr_dec_format(executed_qty, b));
        return BN_FILL_BAD;
    }
    if (executed_qty == t->last_qty) {
        if (cum_quote != t->last_quote && executed_qty > 0) {
            snprintf(err, errlen, "cumQuote changed from %s to %s without a fill", qtr_dec_format(t->last_quote, a),
                     qtr_dec_format(cum_quote, b));
            return BN_FILL_BAD;
        }
        return BN_FILL_NONE;
    }
    if (cum_quote <= t->last_quote) {
        snprintf(err, errlen, "cumQuote did not grow (%s to %s) while executedQty did", qtr_dec_format(t->last_quote, a),
                 qtr_dec_format(cum_quote, b));
        return BN_FILL_BAD;
    }
    qtr_dec dq = executed_qty - t->last_qty, dquote = cum_quote - t->last_quote, p;
    if (!qtr_dec_div(dquote, dq, QTR_ROUND_HALF_EVEN, &p)) {
        snprintf(err, errlen, "fill price out of range");
        return BN_FILL_BAD;
    }
    *qty = dq;
    *price = p;
    t->last_qty = executed_qty;
    t->last_quote = cum_quote;
    return BN_FILL_NEW;
}

qtr_dec bn_avg_price(qtr_dec quote, qtr_dec qty)
{
    qtr_dec p = 0;
    if (qty <= 0 || !qtr_dec_div(quote, qty, QTR_ROUND_HALF_EVEN, &p)) return 0;
    return p;
}
