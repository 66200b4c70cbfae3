/* policy_inputs.c — what the policy knows about the account and market
 * when it judges one order, read in place from the host's own state: the
 * account's totals (kept incrementally by the portfolio), the order's own
 * symbol, and one pass over the open orders. No position is copied, and
 * nothing is formatted: judge() makes decimal strings only for the fields
 * it reads (policy_judge.c). */
#include "policy/policy.h"

#include <stdio.h>
#include <string.h>

/* Enough for any real account; beyond it the symbol count would cost too
 * much per order, and an incomplete count is unsafe: the order is refused. */
#define QH_POLICY_MAX_OPEN_SCANNED 256

static bool same_symbol(const char *a, const char *b) { return strncmp(a, b, QTR_SYMBOL_MAX) == 0; }

/* Symbols with an open order and no position, each counted once. The
 * earlier-order scan is quadratic in the number of open orders, so more
 * than QH_POLICY_MAX_OPEN_SCANNED of them are refused by the caller. */
static int32_t order_only_symbols(const qh_policy_view *v)
{
    int32_t n = 0;
    for (size_t i = 0; i < v->n_open; i++) {
        const char *sym = v->open_orders[i].symbol;
        if (v->has_position(v->ud, sym)) continue;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++) seen = same_symbol(v->open_orders[k].symbol, sym);
        n += !seen;
    }
    return n;
}

static qtr_dec market_price(const qh_policy_view *v, qtr_dec *funding)
{
    *funding = 0;
    if (v->mark) {
        *funding = v->mark->funding_rate;
        if (v->mark->mark_price > 0) return v->mark->mark_price;
    }
    if (v->candle && v->candle->close > 0) return v->candle->close;
    return 0;
}

static void read_book(const qtr_book_top *b, const qtr_order_intent *o, qh_risk_ctx *rc)
{
    /* A one-sided or crossed book says nothing usable about liquidity. */
    if (!b || b->bid_price <= 0 || b->ask_price <= 0 || b->ask_price < b->bid_price) return;
    rc->has_book = true;
    qtr_dec sum;
    if (!qtr_dec_add(b->ask_price, b->bid_price, &sum) ||
        !qtr_dec_muldiv(b->ask_price - b->bid_price, QTR_DEC_INT(20000), sum, QTR_ROUND_UP, &rc->spread_bps))
        rc->spread_bps = QTR_DEC_MAX;
    /* A buy takes the asks, a sell the bids; top-of-book only: price * qty. */
    if (o->side == QTR_SIDE_BUY)
        rc->depth_notional = b->ask_depth_notional > 0 ? b->ask_depth_notional : qh_risk_notional(b->ask_qty, b->ask_price);
    else
        rc->depth_notional = b->bid_depth_notional > 0 ? b->bid_depth_notional : qh_risk_notional(b->bid_qty, b->bid_price);
}

const char *qh_policy_build_inputs(const qh_policy_view *v, const qtr_order_intent *o, qh_policy_inputs *in,
                                   char *detail, size_t detail_len)
{
    memset(in, 0, sizeof *in);
    qh_risk_ctx *rc = &in->rc;
    const qtr_account *acct = v->account;
    rc->equity = acct->equity;
    rc->drawdown_pct = acct->drawdown_pct;
    rc->daily_pnl = acct->daily_pnl;

    rc->price = market_price(v, &rc->funding_rate);
    if (rc->price <= 0 && o->type == QTR_ORDER_LIMIT && o->price > 0) rc->price = o->price;
    if (rc->price <= 0) {
        snprintf(detail, detail_len, "no mark price, candle or limit price for %s", o->symbol);
        return "no_price";
    }
    in->exec_price = qtr_dec_max(rc->price, qtr_dec_max(o->price, o->stop_price));

    const qtr_position *pos = v->position;
    rc->position_qty = pos ? pos->qty : 0;
    rc->symbol_has_position = rc->position_qty != 0;
    rc->position_notional = qh_risk_notional(rc->position_qty, rc->price);

    /* Every other symbol, from the account's total: the portfolio values
     * each position at its own mark, half-even, as here. */
    qtr_dec own = 0, other;
    if (pos && pos->qty != 0 &&
        !qtr_dec_mul(qtr_dec_abs(pos->qty), pos->mark_price, QTR_ROUND_HALF_EVEN, &own))
        own = 0;
    if (!qtr_dec_sub(acct->exposure, own, &other) || other < 0) other = acct->exposure;
    in->exposure_other = other;
    rc->open_positions = acct->open_positions;
    if (!qtr_dec_add(in->exposure_other, rc->position_notional, &rc->exposure)) rc->exposure = QTR_DEC_MAX;

    if (v->n_open > QH_POLICY_MAX_OPEN_SCANNED) {
        snprintf(detail, detail_len, "%zu open orders: more than this check can count (%d)", v->n_open,
                 QH_POLICY_MAX_OPEN_SCANNED);
        return "context_incomplete";
    }
    for (size_t i = 0; i < v->n_open && !in->symbol_has_order; i++)
        in->symbol_has_order = same_symbol(v->open_orders[i].symbol, o->symbol);
    rc->open_symbols = acct->open_positions + order_only_symbols(v);

    rc->order_notional = qh_risk_notional(o->qty, in->exec_price);
    read_book(v->book, o, rc);
    if (rc->equity > 0) {
        qtr_dec lev;
        if (qtr_dec_div(rc->exposure, rc->equity, QTR_ROUND_UP, &lev) && lev / QTR_DEC_SCALE < INT32_MAX)
            rc->leverage = (int32_t)((lev + QTR_DEC_SCALE - 1) / QTR_DEC_SCALE);
        else
            rc->leverage = INT32_MAX;
    }
    return NULL;
}
