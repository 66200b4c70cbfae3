/*
 * TRAILING_STOP_MARKET on the candle path, as Binance triggers it:
 *   - it activates when the watched price reaches activation_price (a sell,
 *     which closes a long, when the price rises to it; a buy when it falls
 *     to it), or at once when placed without one (best = the last price);
 *   - from then on it follows the best price (the highest for a sell, the
 *     lowest for a buy);
 *   - it triggers when the price retraces callback_bps from the best:
 *     sell at best * (1 - cb/10000) or below, buy at best * (1 + cb/10000)
 *     or above, and then fills as a market order (a taker, with slippage).
 * Inside a candle the price walks open -> nearer extreme -> other extreme ->
 * close (path.c, docs/backtest.md): the best can only move on a segment
 * towards profit and the trigger only be met on a segment against it, so a
 * segment never does both and the walk is exact for that path. A candle that
 * opens past the trigger kept from earlier candles triggers at the open.
 */
#include "paper.h"

/* +1 when a rising price is the order's favour (a sell closes a long). */
static int favour(const qtr_paper_order *o) { return o->u.side == QTR_SIDE_SELL ? +1 : -1; }

static bool at_or_past(qtr_dec v, qtr_dec target, int dir) { return dir > 0 ? v >= target : v <= target; }

static qtr_dec better(qtr_dec a, qtr_dec b, int fav) { return fav > 0 ? qtr_dec_max(a, b) : qtr_dec_min(a, b); }

qtr_dec qtr_paper_trailing_trigger(const qtr_paper_order *o)
{
    int fav = favour(o);
    qtr_dec t = 0;
    int64_t factor = 10000 - (int64_t)fav * (int64_t)o->u.callback_bps;
    /* a sell's trigger rounds down, a buy's up: never nearer than the callback */
    if (!qtr_dec_muldiv(o->trail_best, (qtr_dec)factor, 10000, fav > 0 ? QTR_ROUND_FLOOR : QTR_ROUND_CEIL, &t)) return 0;
    return t;
}

/* The price at the point v: activate, or trigger (a gap), or move the best. */
static bool point(qtr_paper_order *o, qtr_dec v, int fav, qtr_dec *price)
{
    if (!o->trail_active && at_or_past(v, o->u.activation_price, fav)) {
        o->trail_active = true;
        o->trail_best = v;
        return false;
    }
    if (!o->trail_active) return false;
    qtr_dec t = qtr_paper_trailing_trigger(o);
    if (at_or_past(v, t, -fav)) {
        *price = v;
        return true;
    }
    o->trail_best = better(o->trail_best, v, fav);
    return false;
}

bool qtr_paper_trailing_walk(qtr_paper_order *o, const qtr_paper_path *pt, qtr_paper_path_pos *at, qtr_dec *price,
                             bool *gap)
{
    int fav = favour(o);
    *gap = false;
    if (point(o, pt->p[0], fav, price)) {
        at->seg = 0;
        at->dist = 0;
        *gap = true;
        return true;
    }
    for (int k = 0; k < 3; k++) {
        qtr_dec a = pt->p[k], b = pt->p[k + 1];
        if (!o->trail_active) {
            if (!at_or_past(b, o->u.activation_price, fav)) continue;
            o->trail_active = true;                 /* reached on this segment, towards profit */
            o->trail_best = o->u.activation_price;
        }
        if (fav > 0 ? b >= a : b <= a) {            /* towards profit: only the best moves */
            o->trail_best = better(o->trail_best, b, fav);
            continue;
        }
        qtr_dec t = qtr_paper_trailing_trigger(o);  /* against it: only the trigger can be met */
        if (at_or_past(b, t, -fav)) {
            at->seg = k;
            at->dist = fav > 0 ? a - t : t - a;
            if (at->dist < 0) at->dist = 0;
            *price = t;
            return true;
        }
    }
    return false;
}
