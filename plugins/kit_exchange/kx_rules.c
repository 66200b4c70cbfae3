/* kx_rules.c — see kx_rules.h. */
#include "kx_rules.h"

#include <stdio.h>
#include <string.h>

/* Round v to a multiple of step counted from base (Binance: (v - min) % step == 0). */
static bool round_from(qtr_dec v, qtr_dec base, qtr_dec step, qtr_rounding mode, qtr_dec *out)
{
    qtr_dec off, r;
    if (!qtr_dec_sub(v, base, &off) || !qtr_dec_round_step(off, step, mode, &r)) return false;
    return qtr_dec_add(r, base, out);
}

static int decimals_of(qtr_dec v)
{
    int d = 0;
    for (qtr_dec f = qtr_dec_abs(v) % QTR_DEC_SCALE; f; f = (f * 10) % QTR_DEC_SCALE) d++;
    return d;
}

static int round_price(const kx_symbol_rules *r, const char *what, qtr_dec in, qtr_side side, qtr_dec *out,
                       char *reason, size_t len)
{
    char a[QTR_DEC_STRLEN], b[QTR_DEC_STRLEN];
    if (in <= 0) {
        snprintf(reason, len, "%s must be > 0", what);
        return -1;
    }
    qtr_dec p = in;
    if (r->tick > 0) {
        qtr_rounding mode = side == QTR_SIDE_BUY ? QTR_ROUND_FLOOR : QTR_ROUND_CEIL;
        if (!round_from(in, r->min_price, r->tick, mode, &p)) {
            snprintf(reason, len, "%s out of range", what);
            return -1;
        }
    }
    if (p <= 0 || (r->min_price > 0 && p < r->min_price)) {
        snprintf(reason, len, "%s %s below minPrice %s", what, qtr_dec_format(p, a), qtr_dec_format(r->min_price, b));
        return -1;
    }
    if (r->max_price > 0 && p > r->max_price) {
        snprintf(reason, len, "%s %s above maxPrice %s", what, qtr_dec_format(p, a), qtr_dec_format(r->max_price, b));
        return -1;
    }
    if (decimals_of(p) > r->price_precision) {
        snprintf(reason, len, "%s %s has more than %d decimals", what, qtr_dec_format(p, a), r->price_precision);
        return -1;
    }
    *out = p;
    return 0;
}

int kx_rules_prepare(const kx_symbol_rules *r, const qtr_order_intent *o, qtr_dec ref_price, kx_prepared *out,
                     char *reason, size_t len)
{
    char a[QTR_DEC_STRLEN], b[QTR_DEC_STRLEN], c[QTR_DEC_STRLEN];
    memset(out, 0, sizeof *out);
    if (!r->trading) {
        snprintf(reason, len, "symbol %s is not trading", r->symbol);
        return -1;
    }
    bool market = o->type == QTR_ORDER_MARKET || o->type == QTR_ORDER_STOP_MARKET ||
                  o->type == QTR_ORDER_TAKE_PROFIT_MARKET;
    bool use_mkt = market && r->mkt_step > 0;
    qtr_dec step = use_mkt ? r->mkt_step : r->lot_step;
    qtr_dec qmin = use_mkt ? r->mkt_min : r->lot_min;
    qtr_dec qmax = use_mkt ? r->mkt_max : r->lot_max;
    const char *filter = use_mkt ? "MARKET_LOT_SIZE" : "LOT_SIZE";
    if (o->qty <= 0) {
        snprintf(reason, len, "qty must be > 0");
        return -1;
    }
    qtr_dec q;
    if (!round_from(o->qty, qmin, step, QTR_ROUND_FLOOR, &q)) {
        snprintf(reason, len, "qty out of range");
        return -1;
    }
    if (q <= 0 || q < qmin) {
        snprintf(reason, len, "qty %s is below %s minQty %s (step %s)", qtr_dec_format(o->qty, a), filter,
                 qtr_dec_format(qmin, b), qtr_dec_format(step, c));
        return -1;
    }
    if (qmax > 0 && q > qmax) {
        snprintf(reason, len, "qty %s is above %s maxQty %s", qtr_dec_format(q, a), filter, qtr_dec_format(qmax, b));
        return -1;
    }
    if (decimals_of(q) > r->qty_precision) {
        snprintf(reason, len, "qty %s has more than %d decimals", qtr_dec_format(q, a), r->qty_precision);
        return -1;
    }
    out->qty = q;
    if (o->type == QTR_ORDER_LIMIT && round_price(r, "price", o->price, o->side, &out->price, reason, len) != 0)
        return -1;
    if ((o->type == QTR_ORDER_STOP_MARKET || o->type == QTR_ORDER_TAKE_PROFIT_MARKET) &&
        round_price(r, "stop_price", o->stop_price, o->side, &out->stop_price, reason, len) != 0)
        return -1;
    /* MIN_NOTIONAL: reduce-only orders are exempt, as on the exchange. */
    qtr_dec value_price = o->type == QTR_ORDER_LIMIT ? out->price : ref_price;
    if (r->min_notional > 0 && !o->reduce_only && value_price > 0) {
        qtr_dec notional;
        if (!qtr_dec_mul(q, value_price, QTR_ROUND_DOWN, &notional)) {
            snprintf(reason, len, "notional out of range");
            return -1;
        }
        if (notional < r->min_notional) {
            snprintf(reason, len, "notional %s is below MIN_NOTIONAL %s", qtr_dec_format(notional, a),
                     qtr_dec_format(r->min_notional, b));
            return -1;
        }
    }
    return 0;
}
