/* mock_algo.c — conditional orders as Binance's algo service runs them:
 * STOP_MARKET, TAKE_PROFIT_MARKET and TRAILING_STOP_MARKET watching the
 * last price (CONTRACT_PRICE) or the mark price (MARK_PRICE), which the
 * test drives through /mock/price and /mock/mark (or /mock/premium).
 *
 * Trigger rules (reference §4.2 and the New Order page):
 *   - STOP_MARKET: BUY when price >= trigger, SELL when price <= trigger;
 *     TAKE_PROFIT_MARKET the reverse.
 *   - TRAILING_STOP_MARKET SELL: active once price >= activatePrice (at
 *     once without one), then follows the highest price and triggers when
 *     price <= highest x (1 - callbackRate). BUY mirrors it with the lowest
 *     price and price >= lowest x (1 + callbackRate).
 * A triggered order places a MARKET order (reduce-only if the algo order
 * is) and ends FINISHED with that order's id as actualOrderId. */
#include <stdio.h>
#include <string.h>

#include "mock_state.h"

qtr_dec ms_algo_watch_price(const ms_symbol *y, const ms_order *a)
{
    return a->mark_price && y->has_premium ? y->mark : y->price;
}

static bool is_buy(const ms_order *a) { return !strcmp(a->side, "BUY"); }

bool ms_algo_would_trigger(const ms_symbol *y, const ms_order *a)
{
    qtr_dec px = ms_algo_watch_price(y, a);
    bool buy = is_buy(a);
    if (!strcmp(a->type, "STOP_MARKET")) return buy ? px >= a->stop : px <= a->stop;
    if (!strcmp(a->type, "TAKE_PROFIT_MARKET")) return buy ? px <= a->stop : px >= a->stop;
    /* trailing: an activation price already passed is refused the same way */
    if (a->activation > 0) return buy ? px <= a->activation : px >= a->activation;
    return false;
}

/* The trailing stop's condition after the price px: exact, in integers. */
static bool trailing_fires(ms_order *a, qtr_dec px)
{
    bool buy = is_buy(a);
    if (!a->activated) {
        if (a->activation > 0 && !(buy ? px <= a->activation : px >= a->activation)) return false;
        a->activated = true;
        a->best = px;
    }
    if (buy ? px < a->best : px > a->best) a->best = px;
    __int128 lhs = (__int128)px * 10000, rhs = (__int128)a->best * (10000 + (buy ? 1 : -1) * (int)a->callback_bps);
    return buy ? lhs >= rhs : lhs <= rhs;
}

qtr_dec ms_reducible(const ms_symbol *y, const char *side)
{
    bool buy = !strcmp(side, "BUY");
    if (buy ? y->position >= 0 : y->position <= 0) return 0;
    return qtr_dec_abs(y->position);
}

ms_order *ms_algo_trigger(ms_state *s, ms_order *a)
{
    char cid[40];
    snprintf(cid, sizeof cid, "algo-%lld", (long long)a->algo_id);
    ms_order *o = ms_order_add(s, cid);
    if (!o) return NULL;
    snprintf(o->symbol, sizeof o->symbol, "%s", a->symbol);
    snprintf(o->side, sizeof o->side, "%s", a->side);
    snprintf(o->type, sizeof o->type, "MARKET");
    snprintf(o->tif, sizeof o->tif, "GTC");
    o->orig_qty = a->orig_qty;
    o->reduce_only = a->reduce_only;
    ms_match_new(s, o);
    snprintf(a->algo_status, sizeof a->algo_status, "FINISHED");
    a->actual_order_id = o->order_id;
    a->update_time = ms_now(s);
    return o;
}

void ms_algo_price_moved(ms_state *s, ms_symbol *y, bool mark)
{
    for (int i = 0; i < s->n_orders; i++) {
        ms_order *a = &s->orders[i];
        if (!a->algo || !ms_order_open(a) || strcmp(a->symbol, y->name) != 0) continue;
        /* a mark-price order ignores the last price once a mark is set, and the other way round */
        if (a->mark_price != mark && (mark || y->has_premium)) continue;
        qtr_dec px = ms_algo_watch_price(y, a);
        bool fire = !strcmp(a->type, "TRAILING_STOP_MARKET") ? trailing_fires(a, px) : ms_algo_would_trigger(y, a);
        if (fire) ms_algo_trigger(s, a);
    }
}
