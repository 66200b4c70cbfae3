/* exit_build.c — exit plan + position -> reduce-only conditional orders. */
#include "exits/exit_build.h"

#include <stdio.h>
#include <string.h>

const char *qh_exit_role_name(qh_exit_role role)
{
    switch (role) {
    case QH_EXIT_STOP: return "stop_loss";
    case QH_EXIT_TAKE_PROFIT: return "take_profit";
    case QH_EXIT_TRAILING: return "trailing_stop";
    case QH_EXIT_TIME: return "time_stop";
    }
    return "?";
}

static void note(char *skipped, size_t len, const char *what, const char *why)
{
    if (!skipped || !len) return;
    size_t used = strlen(skipped);
    if (used + 1 >= len) return;
    snprintf(skipped + used, len - used, "%s%s not placed: %s", used ? "; " : "", what, why);
}

/* entry moved by bps: up (+1) or down (-1), rounded in `mode` to the tick
 * (or to the last decimal when there is no tick). false: out of range. */
static bool price_at(qtr_dec entry, uint32_t bps, int dir, qtr_dec tick, qtr_rounding mode, qtr_dec *out)
{
    int64_t factor = 10000 + (int64_t)dir * (int64_t)bps;
    if (factor <= 0) return false;
    qtr_dec raw;
    if (!qtr_dec_muldiv(entry, (qtr_dec)factor, 10000, mode, &raw)) return false;
    if (tick > 0 && !qtr_dec_round_step(raw, tick, mode, &raw)) return false;
    *out = raw;
    return raw > 0;
}

/* Where distance d lies from entry on the side `dir` (+1 above, -1 below);
 * an absolute price must be strictly on that side. */
static bool resolve(const qtr_exit_distance *d, qtr_dec entry, int dir, qtr_dec tick, qtr_rounding mode, qtr_dec *out,
                    const char **why)
{
    if (d->price) {
        if (dir > 0 ? d->price <= entry : d->price >= entry) {
            *why = dir > 0 ? "price is not above the entry" : "price is not below the entry";
            return false;
        }
        *out = d->price;
        return true;
    }
    if (!price_at(entry, d->bps, dir, tick, mode, out)) {
        *why = "the distance leaves no positive price";
        return false;
    }
    return true;
}

void qh_exit_ladder_qty(const qtr_exit_params *p, qtr_dec abs_qty, qtr_dec step, qtr_dec out[QTR_EXIT_TP_MAX])
{
    uint32_t cum = 0;
    qtr_dec given = 0;
    for (uint32_t i = 0; i < p->n_take_profit && i < QTR_EXIT_TP_MAX; i++) {
        cum += p->take_profit[i].share_bps;
        qtr_dec upto = abs_qty;
        if (cum < 10000) {
            if (!qtr_dec_muldiv(abs_qty, (qtr_dec)cum, 10000, QTR_ROUND_DOWN, &upto)) upto = given;
            if (step > 0 && !qtr_dec_round_step(upto, step, QTR_ROUND_DOWN, &upto)) upto = given;
        }
        if (upto < given) upto = given;
        out[i] = upto - given;
        given = upto;
    }
}

static void base_intent(const qtr_exit_plan *plan, const char *symbol, qtr_dec qty, qtr_order_type type,
                        const char *reason, qtr_order_intent *o)
{
    memset(o, 0, sizeof *o);
    qtr_strlcpy(o->symbol, symbol, sizeof o->symbol);
    qtr_strlcpy(o->strategy, "exits", sizeof o->strategy);
    o->side = qty > 0 ? QTR_SIDE_SELL : QTR_SIDE_BUY;
    o->type = type;
    o->tif = QTR_TIF_GTC;
    o->qty = qtr_dec_abs(qty);
    o->reduce_only = true;
    o->confidence = 1.0;
    o->working_type = plan ? plan->working_type : QTR_WORKING_LAST;
    qtr_strlcpy(o->reason, reason, sizeof o->reason);
}

size_t qh_exit_build(const qtr_exit_plan *plan, const qtr_exit_params *p, const char *symbol, qtr_dec qty,
                     qtr_dec entry, qh_exit_order out[QH_EXIT_ORDERS_MAX], char *skipped, size_t skippedlen)
{
    if (skipped && skippedlen) skipped[0] = '\0';
    if (qty == 0 || entry <= 0) return 0;
    size_t n = 0;
    int profit = qty > 0 ? +1 : -1;      /* the side of the entry where profit lies */
    /* long: prices round up (a stop toward the entry, a target away from it);
     * short: down, for the same two reasons */
    qtr_rounding mode = qty > 0 ? QTR_ROUND_CEIL : QTR_ROUND_FLOOR;
    const char *why = NULL;
    qtr_dec px;
    if (p->stop_loss.bps || p->stop_loss.price) {
        if (resolve(&p->stop_loss, entry, -profit, plan->price_tick, mode, &px, &why)) {
            qh_exit_order *x = &out[n++];
            x->role = QH_EXIT_STOP;
            x->level = 0;
            base_intent(plan, symbol, qty, QTR_ORDER_STOP_MARKET, "exit: stop_loss", &x->intent);
            x->intent.stop_price = px;
        } else {
            note(skipped, skippedlen, "stop_loss", why);
        }
    }
    qtr_dec ladder[QTR_EXIT_TP_MAX] = { 0 };
    qh_exit_ladder_qty(p, qtr_dec_abs(qty), plan->qty_step, ladder);
    for (uint32_t i = 0; i < p->n_take_profit && i < QTR_EXIT_TP_MAX; i++) {
        char what[32];
        snprintf(what, sizeof what, "take_profit[%u]", i);
        if (ladder[i] <= 0) {
            note(skipped, skippedlen, what, "its share rounds to nothing at this size");
            continue;
        }
        if (!resolve(&p->take_profit[i].at, entry, profit, plan->price_tick, mode, &px, &why)) {
            note(skipped, skippedlen, what, why);
            continue;
        }
        qh_exit_order *x = &out[n++];
        x->role = QH_EXIT_TAKE_PROFIT;
        x->level = i;
        char reason[40];
        snprintf(reason, sizeof reason, "exit: take_profit[%u]", i);
        base_intent(plan, symbol, qty > 0 ? ladder[i] : -ladder[i], QTR_ORDER_TAKE_PROFIT_MARKET, reason, &x->intent);
        x->intent.stop_price = px;
    }
    if (p->trailing_callback_bps) {
        qtr_dec act = 0;
        bool ok = true;
        if (p->trailing_activation.bps || p->trailing_activation.price)
            ok = resolve(&p->trailing_activation, entry, profit, plan->price_tick, mode, &act, &why);
        if (ok) {
            qh_exit_order *x = &out[n++];
            x->role = QH_EXIT_TRAILING;
            x->level = 0;
            base_intent(plan, symbol, qty, QTR_ORDER_TRAILING_STOP_MARKET, "exit: trailing_stop", &x->intent);
            x->intent.activation_price = act;
            x->intent.callback_bps = p->trailing_callback_bps;
        } else {
            note(skipped, skippedlen, "trailing_stop", why);
        }
    }
    return n;
}

void qh_exit_time_close(const char *symbol, qtr_dec qty, qtr_order_intent *out)
{
    base_intent(NULL, symbol, qty, QTR_ORDER_MARKET, "exit: time_stop", out);
}
