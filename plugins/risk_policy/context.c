/* context.c — see context.h. */
#include "context.h"

#include <stdio.h>
#include <string.h>

qtr_dec rp_notional(qtr_dec qty, qtr_dec price)
{
    qtr_dec n;
    if (!qtr_dec_mul(qtr_dec_abs(qty), qtr_dec_abs(price), QTR_ROUND_UP, &n)) return QTR_DEC_MAX;
    return n;
}

static qtr_dec add_sat(qtr_dec a, qtr_dec b)
{
    qtr_dec r;
    return qtr_dec_add(a, b, &r) ? r : QTR_DEC_MAX;
}

static bool same_symbol(const char *a, const char *b) { return strncmp(a, b, QTR_SYMBOL_MAX) == 0; }

/* Symbols with a position or an open order, each counted once. */
static int32_t count_symbols(const qtr_position *p, size_t np, const qtr_order_update *o, size_t no)
{
    int32_t n = 0;
    for (size_t i = 0; i < np; i++) {
        if (p[i].qty == 0) continue;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++) seen = p[k].qty != 0 && same_symbol(p[k].symbol, p[i].symbol);
        n += !seen;
    }
    for (size_t i = 0; i < no; i++) {
        bool seen = false;
        for (size_t k = 0; k < np && !seen; k++) seen = p[k].qty != 0 && same_symbol(p[k].symbol, o[i].symbol);
        for (size_t k = 0; k < i && !seen; k++) seen = same_symbol(o[k].symbol, o[i].symbol);
        n += !seen;
    }
    return n;
}

static qtr_dec market_price(const qtr_host *h, qtr_ctx *ctx, const char *symbol, qtr_dec *funding)
{
    qtr_mark_price mp;
    *funding = 0;
    if (h->get_mark_price(ctx, symbol, &mp) == QTR_OK) {
        *funding = mp.funding_rate;
        if (mp.mark_price > 0) return mp.mark_price;
    }
    qtr_candle c;
    if (h->get_last_candle(ctx, symbol, &c) == QTR_OK && c.close > 0) return c.close;
    return 0;
}

static void read_book(const qtr_host *h, qtr_ctx *ctx, const qtr_order_intent *o, qtr_risk_context *rc)
{
    qtr_book_top b;
    if (h->get_book_top(ctx, o->symbol, &b) != QTR_OK) return;
    /* A one-sided or crossed book says nothing usable about liquidity. */
    if (b.bid_price <= 0 || b.ask_price <= 0 || b.ask_price < b.bid_price) return;
    rc->has_book = true;
    qtr_dec sum;
    if (!qtr_dec_add(b.ask_price, b.bid_price, &sum) ||
        !qtr_dec_muldiv(b.ask_price - b.bid_price, QTR_DEC_INT(20000), sum, QTR_ROUND_UP, &rc->spread_bps))
        rc->spread_bps = QTR_DEC_MAX;
    /* A buy takes the asks, a sell the bids; top-of-book only: price * qty. */
    if (o->side == QTR_SIDE_BUY)
        rc->depth_notional = b.ask_depth_notional > 0 ? b.ask_depth_notional : rp_notional(b.ask_qty, b.ask_price);
    else
        rc->depth_notional = b.bid_depth_notional > 0 ? b.bid_depth_notional : rp_notional(b.bid_qty, b.bid_price);
}

const char *rp_build_inputs(const qtr_host *h, qtr_ctx *ctx, const qtr_order_intent *o, rp_scratch *scratch,
                            rp_inputs *in, char *detail, size_t detail_len)
{
    memset(in, 0, sizeof *in);
    qtr_risk_context *rc = &in->rc;
    qtr_account acct;
    if (h->get_account(ctx, &acct) != QTR_OK) {
        snprintf(detail, detail_len, "the account is unknown");
        return "no_account";
    }
    rc->equity = acct.equity;
    rc->drawdown_pct = acct.drawdown_pct;
    rc->daily_pnl = acct.daily_pnl;

    rc->price = market_price(h, ctx, o->symbol, &rc->funding_rate);
    if (rc->price <= 0 && o->type == QTR_ORDER_LIMIT && o->price > 0) rc->price = o->price;
    if (rc->price <= 0) {
        snprintf(detail, detail_len, "no mark price, candle or limit price for %s", o->symbol);
        return "no_price";
    }
    in->exec_price = qtr_dec_max(rc->price, qtr_dec_max(o->price, o->stop_price));

    qtr_position pos;
    if (h->get_position(ctx, o->symbol, &pos) == QTR_OK) rc->position_qty = pos.qty;
    rc->symbol_has_position = rc->position_qty != 0;
    rc->position_notional = rp_notional(rc->position_qty, rc->price);

    size_t np = h->list_positions(ctx, scratch->positions, RP_MAX_POSITIONS);
    size_t no = h->list_open_orders(ctx, scratch->orders, RP_MAX_ORDERS);
    if (np >= RP_MAX_POSITIONS || no >= RP_MAX_ORDERS) {
        snprintf(detail, detail_len, "%zu positions and %zu open orders: more than this check can count", np, no);
        return "context_incomplete";
    }
    for (size_t i = 0; i < np; i++) {
        const qtr_position *p = &scratch->positions[i];
        if (p->qty == 0) continue;
        rc->open_positions++;
        if (same_symbol(p->symbol, o->symbol)) continue;   /* valued at this order's price below */
        qtr_dec mark = p->mark_price > 0 ? p->mark_price : p->entry_price;
        in->exposure_other = add_sat(in->exposure_other, rp_notional(p->qty, mark));
    }
    /* The host's position query is the authority on this symbol. */
    if (rc->symbol_has_position) {
        bool listed = false;
        for (size_t i = 0; i < np && !listed; i++)
            listed = scratch->positions[i].qty != 0 && same_symbol(scratch->positions[i].symbol, o->symbol);
        if (!listed) rc->open_positions++;
    }
    rc->exposure = add_sat(in->exposure_other, rc->position_notional);
    for (size_t i = 0; i < no && !in->symbol_has_order; i++)
        in->symbol_has_order = same_symbol(scratch->orders[i].symbol, o->symbol);
    rc->open_symbols = count_symbols(scratch->positions, np, scratch->orders, no);
    if (rc->symbol_has_position && !in->symbol_has_order) {
        bool listed = false;
        for (size_t i = 0; i < np && !listed; i++)
            listed = scratch->positions[i].qty != 0 && same_symbol(scratch->positions[i].symbol, o->symbol);
        if (!listed) rc->open_symbols++;
    }

    rc->order_notional = rp_notional(o->qty, in->exec_price);
    read_book(h, ctx, o, rc);
    if (rc->equity > 0) {
        qtr_dec lev;
        if (qtr_dec_div(rc->exposure, rc->equity, QTR_ROUND_UP, &lev) && lev / QTR_DEC_SCALE < INT32_MAX)
            rc->leverage = (int32_t)((lev + QTR_DEC_SCALE - 1) / QTR_DEC_SCALE);
        else
            rc->leverage = INT32_MAX;
    }
    return NULL;
}
