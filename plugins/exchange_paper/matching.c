/*
 * Matching: how the paper exchange fills orders against candles, and the
 * events it publishes for them. Fills on a candle are bounded by a shared
 * per-symbol budget (max_volume_share of the candle's volume), spent by the
 * open orders in arrival order, so many orders cannot trade more than the
 * market did.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paper.h"
#include "qc/field_copy.h"
#include "wide_div.h"

#define E16 ((qtr_paper_i128)QTR_DEC_SCALE * QTR_DEC_SCALE)
#define BPS_SCALE ((qtr_paper_i128)10000 * QTR_DEC_SCALE)   /* 1 bp with slippage_bps's 1e8 scale */

bool qtr_paper_fee(qtr_dec price, qtr_dec qty, qtr_dec rate, qtr_dec *out)
{
    if (price < 0 || qty < 0) return false;
    /* fee (scale 1e8) = price*qty*rate / 1e16; split price*qty to stay in 128 bits */
    qtr_paper_i128 n = (qtr_paper_i128)price * qty;
    qtr_paper_i128 r = rate < 0 ? -(qtr_paper_i128)rate : rate;
    qtr_paper_i128 rest, whole = qtr_paper_divmod(n, E16, &rest) * r, part = rest * r;
    /* toward +infinity: a fee rounds up, a rebate rounds toward zero */
    qtr_paper_i128 frac = qtr_paper_divmod(rate < 0 ? part : part + E16 - 1, E16, NULL);
    qtr_paper_i128 fee = whole + frac;
    if (fee > QTR_DEC_MAX) return false;
    *out = rate < 0 ? -(qtr_dec)fee : (qtr_dec)fee;
    return true;
}

qtr_dec qtr_paper_slipped(const qtr_paper_config *cfg, qtr_dec tick, qtr_dec price, qtr_side side)
{
    bool buy = side == QTR_SIDE_BUY;
    qtr_paper_i128 factor = buy ? BPS_SCALE + cfg->slippage_bps : BPS_SCALE - cfg->slippage_bps;
    /* price*factor/(BPS_SCALE*tick) ticks, to the nearest; an exact half goes
     * against the taker: up for a buy, down for a sell */
    qtr_paper_i128 num = (qtr_paper_i128)price * factor, den = BPS_SCALE * tick;
    qtr_paper_i128 rest, ticks = qtr_paper_divmod(num, den, &rest), twice_rest = 2 * rest;
    if (twice_rest > den || (twice_rest == den && buy)) ticks++;
    if (ticks < 1) ticks = 1;                                    /* a price stays positive */
    qtr_paper_i128 v = ticks * tick;
    return v > QTR_DEC_MAX ? price : (qtr_dec)v;
}

static void publish_update(qtr_paper *p, qtr_order_update *u, int64_t time_ms)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_ORDER_UPDATE;
    ev.time_ms = time_ms;
    u->time_ms = time_ms;
    ev.u.order_update = *u;
    p->h->publish(p->ctx, &ev);
}

void qtr_paper_finish(qtr_paper *p, qtr_paper_order *o, qtr_order_status status, const char *reason, int64_t time_ms)
{
    if (o->dead) return;                      /* finished already */
    if (o->in_fill) {
        /* asked from inside the publish of its own fill: the fill's update
         * goes first, then this (see fill()) */
        if (!o->pending_status) {
            o->pending_status = status;
            qtr_strlcpy(o->pending_reason, reason, sizeof o->pending_reason);
        }
        return;
    }
    o->u.status = status;
    qtr_strlcpy(o->u.reason, reason, sizeof o->u.reason);
    /* released before it is published: a call back in from the publish
     * finds it gone instead of finishing it twice */
    qtr_order_update u = o->u;
    qtr_paper_order_release(p, o);
    publish_update(p, &u, time_ms);
}

/* Fill qty at price: publish the fill, then the order's cumulative state. */
/* "paper-<mid>-<n>" (mid NULL: "paper-<n>") into a field of cap bytes, cut
 * as snprintf would: written by hand, as it is on every order and fill
 * (snprintf cost ~900 instructions). */
static void paper_id(char *out, size_t cap, const char *mid, uint64_t n)
{
    char buf[128], digits[24];
    size_t k = 0, d = 0;
    for (const char *s = "paper-"; *s; s++) buf[k++] = *s;
    for (; mid && *mid && k < 64; mid++) buf[k++] = *mid;
    if (mid) buf[k++] = '-';
    do digits[d++] = (char)('0' + n % 10); while ((n /= 10) && d < sizeof digits);
    while (d) buf[k++] = digits[--d];
    size_t len = k < cap ? k : cap - 1;   /* qtr_strlcpy's cut; cap >= 1 */
    memcpy(out, buf, len);
    out[len] = '\0';
}

static void fill(qtr_paper *p, qtr_paper_order *o, qtr_dec qty, qtr_dec price, bool maker, int64_t time_ms)
{
    qtr_dec fee = 0;
    if (!qtr_paper_fee(price, qty, maker ? p->cfg.maker_fee : p->cfg.taker_fee, &fee))
        p->h->log(p->ctx, QTR_LOG_ERROR, "fee overflow on %s %s", o->u.symbol, o->u.client_id);
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_FILL;
    ev.time_ms = time_ms;
    qtr_fill *f = &ev.u.fill;
    qc_copy_into_zeroed(f->symbol, o->u.symbol, sizeof f->symbol);   /* ev is zeroed */
    f->time_ms = time_ms;
    qc_copy_into_zeroed(f->client_id, o->u.client_id, sizeof f->client_id);
    paper_id(f->fill_id, sizeof f->fill_id, p->fill_prefix, ++p->fill_seq);
    f->side = o->u.side;
    f->qty = qty;
    f->price = price;
    f->fee = fee;
    f->maker = maker;
    f->reduce_only = o->u.reduce_only;

    qtr_paper_position_apply(&o->sym->pos, o->u.side, qty, price, fee, time_ms);
    o->u.filled_qty += qty;
    o->notional_e16 += (qtr_paper_i128)price * qty;
    o->u.avg_price = (qtr_dec)qtr_paper_div_half_even(o->notional_e16, o->u.filled_qty);
    o->u.status = o->u.filled_qty == o->u.qty ? QTR_OS_FILLED : QTR_OS_PARTIALLY_FILLED;
    o->u.reason[0] = '\0';
    o->in_fill = true;
    p->h->publish(p->ctx, &ev);
    publish_update(p, &o->u, time_ms);
    o->in_fill = false;
    if (o->pending_status) {
        qtr_order_status st = o->pending_status;
        o->pending_status = 0;
        if (o->u.status != QTR_OS_FILLED) qtr_paper_finish(p, o, st, o->pending_reason, time_ms);
    }
}

/* The quantity one order may take now: its remainder, bounded by the
 * candle's budget and, for reduce-only orders, by the position. */
static qtr_dec fillable(const qtr_paper_order *o)
{
    qtr_dec q = qtr_dec_min(o->u.qty - o->u.filled_qty, o->sym->budget);
    if (o->u.reduce_only) q = qtr_dec_min(q, qtr_paper_position_reducible(&o->sym->pos, o->u.side));
    return q > 0 ? q : 0;
}

/* Fill up to fillable(); returns true if the order is now FILLED and freed. */
static bool take(qtr_paper *p, qtr_paper_order *o, qtr_dec price, bool maker, int64_t time_ms)
{
    if (o->dead) return true;
    qtr_dec q = fillable(o);
    if (q <= 0) return false;
    o->sym->budget -= q;
    fill(p, o, q, price, maker, time_ms);
    if (o->dead) return true;                 /* canceled from inside its fill */
    if (o->u.status != QTR_OS_FILLED) return false;
    qtr_paper_order_release(p, o);
    return true;
}

/* The budget of the candle c: max_volume_share of its volume, on the step;
 * kept when c is the candle it was already set for. */
static void ensure_budget(qtr_paper *p, qtr_paper_symbol *sym, const qtr_candle *c)
{
    if (sym->has_budget && sym->budget_open_time == c->open_time_ms) return;
    qtr_dec share = 0, stepped = 0;
    if (!qtr_dec_mul(c->volume, p->cfg.max_volume_share, QTR_ROUND_DOWN, &share)) share = 0;
    if (!qtr_dec_round_step(share, sym->step, QTR_ROUND_DOWN, &stepped)) stepped = 0;
    sym->budget = stepped > 0 ? stepped : 0;
    sym->budget_open_time = c->open_time_ms;
    sym->has_budget = true;
}

/* A reduce-only order whose position is gone can never fill: expire it. */
static bool expire_if_nothing_to_reduce(qtr_paper *p, qtr_paper_order *o, int64_t time_ms)
{
    if (!o->u.reduce_only || qtr_paper_position_reducible(&o->sym->pos, o->u.side) > 0) return false;
    qtr_paper_finish(p, o, QTR_OS_EXPIRED, "reduce-only: no position left to reduce", time_ms);
    return true;
}

static bool is_conditional(qtr_order_type t)
{
    return t == QTR_ORDER_STOP_MARKET || t == QTR_ORDER_TAKE_PROFIT_MARKET || t == QTR_ORDER_TRAILING_STOP_MARKET;
}

/* The conditional orders with a fixed trigger, stop_price. */
static bool has_stop_price(qtr_order_type t) { return t == QTR_ORDER_STOP_MARKET || t == QTR_ORDER_TAKE_PROFIT_MARKET; }

/* A conditional order's trigger: a buy stop and a sell take-profit fire when
 * the price rises to the trigger, the other two when it falls to it. */
static bool triggers_going_down(const qtr_paper_order *o)
{
    bool buy = o->u.side == QTR_SIDE_BUY;
    return o->u.type == QTR_ORDER_STOP_MARKET ? !buy : buy;
}

static qtr_dec slipped(const qtr_paper *p, const qtr_paper_order *o, qtr_dec price)
{
    return qtr_paper_slipped(&p->cfg, o->sym->tick, price, o->u.side);
}

/* Whether o acts on candle c, where on its path, and at what price
 * (docs/backtest.md, "Fill model"). */
static bool plan(const qtr_paper *p, qtr_paper_order *o, const qtr_candle *c, const qtr_paper_path *pt,
                 const qtr_mark_price *mark, qtr_paper_due *d)
{
    qtr_paper_path_pos at = { 0, 0 };
    d->o = o;
    d->maker = d->trigger = false;
    bool buy = o->u.side == QTR_SIDE_BUY;
    if (o->u.type == QTR_ORDER_MARKET || o->triggered) {
        d->price = slipped(p, o, c->open);                      /* at the open, as a taker */
    } else if (o->u.type == QTR_ORDER_LIMIT) {
        qtr_dec limit = o->u.price;
        bool through = buy ? c->open < limit : c->open > limit;
        if (through && o->tif != QTR_TIF_GTX) {
            /* opened through the limit: met the market at the open, as a
             * taker with slippage, never worse than the limit */
            qtr_dec s = slipped(p, o, c->open);
            d->price = buy ? qtr_dec_min(s, limit) : qtr_dec_max(s, limit);
        } else {
            if (!qtr_paper_path_reach(pt, limit, buy, !p->cfg.limit_on_touch, &at)) return false;
            d->price = limit;                                 /* rested: the maker's own price */
            d->maker = true;
        }
    } else if (o->u.type == QTR_ORDER_TRAILING_STOP_MARKET) {
        d->trigger = true;
        qtr_dec px;
        bool gap;
        if (mark) {                                           /* the mark: one point, known at the close */
            qtr_paper_path one = { { mark->mark_price, mark->mark_price, mark->mark_price, mark->mark_price } };
            if (!qtr_paper_trailing_walk(o, &one, &at, &px, &gap)) return false;
            at.seg = 3;
            at.dist = 0;
            d->price = slipped(p, o, c->close);
        } else {
            if (!qtr_paper_trailing_walk(o, pt, &at, &px, &gap)) return false;
            d->price = slipped(p, o, gap ? c->open : px);
        }
    } else {
        bool down = triggers_going_down(o);
        d->trigger = true;
        if (mark) {
            if (down ? mark->mark_price > o->stop_price : mark->mark_price < o->stop_price) return false;
            at.seg = 3;                                       /* the mark is known at the close */
            d->price = slipped(p, o, c->close);
        } else {
            if (!qtr_paper_path_reach(pt, o->stop_price, down, false, &at)) return false;
            /* a gap past the trigger fills at the open, else at the trigger */
            d->price = slipped(p, o, at.seg == 0 && at.dist == 0 ? c->open : o->stop_price);
        }
    }
    d->seg = at.seg;
    d->dist = at.dist;
    return true;
}

static int due_cmp(const void *a, const void *b)
{
    const qtr_paper_due *x = a, *y = b;
    qtr_paper_path_pos px = { x->seg, x->dist }, py = { y->seg, y->dist };
    int r = qtr_paper_path_cmp(&px, &py);
    return r ? r : (x->seq > y->seq) - (x->seq < y->seq);
}

static void act(qtr_paper *p, const qtr_paper_due *d, int64_t time_ms)
{
    qtr_paper_order *o = d->o;
    if (o->dead || o->in_fill || expire_if_nothing_to_reduce(p, o, time_ms)) return;
    if (d->trigger) o->triggered = true;                      /* from now on a market order */
    bool market = o->u.type == QTR_ORDER_MARKET || o->triggered;
    if (market) o->candles_waited++;
    if (take(p, o, d->price, d->maker, time_ms) || !market) return;
    if (o->candles_waited >= p->cfg.market_order_timeout_candles) {
        char why[QTR_REASON_MAX];
        snprintf(why, sizeof why, "market order remainder expired after %lld candles", (long long)o->candles_waited);
        qtr_paper_finish(p, o, QTR_OS_EXPIRED, why, time_ms);
    }
}

/* The symbol's mark price, for conditional orders that watch it, or NULL. */
static const qtr_mark_price *mark_for(qtr_paper *p, const char *symbol, qtr_mark_price *buf)
{
    if (!QTR_HOST_HAS(p->h, get_mark_price) ||
        p->h->get_mark_price(p->ctx, symbol, buf, sizeof *buf) != QTR_OK || buf->mark_price <= 0)
        return NULL;
    return buf;
}

void qtr_paper_on_candle(qtr_paper *p, const qtr_candle *c, int64_t time_ms)
{
    qtr_paper_symbol *sym = qtr_paper_symbol_guess(p, c->symbol);   /* inline: nearly every candle */
    if (!sym) sym = qtr_paper_symbol_get(p, c->symbol);
    if (!sym) {
        if (!p->warned_symbols_full)
            p->h->log(p->ctx, QTR_LOG_ERROR, "more than %d symbols: no market data kept for %s and later ones",
                      QTR_PAPER_MAX_SYMBOLS, c->symbol);
        p->warned_symbols_full = true;
        return;
    }
    if (sym->has_candle && c->open_time_ms <= sym->last.open_time_ms) {
        p->h->log(p->ctx, QTR_LOG_WARN, "%s: candle at %lld is not after %lld; ignored", c->symbol,
                  (long long)c->open_time_ms, (long long)sym->last.open_time_ms);
        return;
    }
    sym->last = *c;
    sym->has_candle = true;
    /* the candle's volume budget, set now only if an order rests to spend
     * it; an order sent later on this candle sets it first (submit_held) */
    if (sym->head) ensure_budget(p, sym, c);
    if (p->due_busy) {                        /* a candle fed from inside a fill's publish */
        p->h->log(p->ctx, QTR_LOG_ERROR, "%s: candle at %lld fed while another is matched; not matched",
                  c->symbol, (long long)c->open_time_ms);
        return;
    }
    /* Nothing rests on this symbol (most candles): nothing to match. The
     * hold below would be a no-op too: the dead list is empty unless held. */
    if (!sym->head) return;
    qtr_paper_path pt;
    qtr_paper_path_of(c, &pt);
    /* the mark is asked for only now, when an order could watch it: the
     * host looks it up by name */
    qtr_mark_price mbuf;
    const qtr_mark_price *mark = mark_for(p, c->symbol, &mbuf);
    qtr_paper_hold(p);                        /* the list stays linked below */
    p->due_busy = true;
    size_t n = 0;
    for (qtr_paper_order *o = sym->head; o; o = o->next) {
        if (o->dead || o->in_fill || o->armed_after >= c->open_time_ms) continue;
        qtr_paper_due *d = &p->due[n];
        d->seq = n;
        bool conditional_untriggered = is_conditional(o->u.type) && !o->triggered;
        bool on_mark = p->cfg.stop_on_mark || o->u.working_type == QTR_WORKING_MARK;
        if (conditional_untriggered && on_mark && !mark && !p->warned_no_mark) {
            p->h->log(p->ctx, QTR_LOG_WARN, "%s: no mark price known; conditional orders that watch the mark "
                      "trigger on the last price path until one is", c->symbol);
            p->warned_no_mark = true;
        }
        if (plan(p, o, c, &pt, conditional_untriggered && on_mark ? mark : NULL, d)) n++;
        else if (o->u.reduce_only) expire_if_nothing_to_reduce(p, o, time_ms);
    }
    if (n > 1) qsort(p->due, n, sizeof *p->due, due_cmp);
    for (size_t i = 0; i < n; i++) act(p, &p->due[i], time_ms);
    p->due_busy = false;
    qtr_paper_unhold(p);
}

/* ---- submission ---------------------------------------------------------- */

static void reject(qtr_paper *p, const qtr_order_update *base, int64_t time_ms, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void reject(qtr_paper *p, const qtr_order_update *base, int64_t time_ms, const char *fmt, ...)
{
    qtr_order_update u = *base;
    u.status = QTR_OS_REJECTED;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u.reason, sizeof u.reason, fmt, ap);
    va_end(ap);
    p->h->log(p->ctx, QTR_LOG_INFO, "order %s rejected: %s", u.client_id, u.reason);
    publish_update(p, &u, time_ms);
}

/* The newest candle known for the symbol: ours, or the host's if it has
 * already recorded one we have not been called with yet. */
static bool reference_candle(qtr_paper *p, qtr_paper_symbol *sym, qtr_candle *out)
{
    bool have = sym && sym->has_candle;
    if (have) *out = sym->last;
    qtr_candle hc;
    if (QTR_HOST_HAS(p->h, get_last_candle) && p->h->get_last_candle(p->ctx, out->symbol, &hc, sizeof hc) == QTR_OK &&
        (!have || hc.open_time_ms > out->open_time_ms)) {
        *out = hc;
        have = true;
    }
    return have;
}

static bool valid_decimal_multiple(qtr_dec v, qtr_dec step) { return v % step == 0; }

/* A conditional order whose trigger the last price has already passed. */
static bool would_trigger_now(const qtr_order_intent *o, qtr_dec stop, qtr_dec last)
{
    bool buy = o->side == QTR_SIDE_BUY;
    /* a trailing stop's activation price must still lie ahead, on the
     * profit side: above the last price for a sell, below it for a buy */
    if (o->type == QTR_ORDER_TRAILING_STOP_MARKET) return o->activation_price > 0 && (buy ? last <= o->activation_price : last >= o->activation_price);
    bool down = o->type == QTR_ORDER_STOP_MARKET ? !buy : buy;
    return down ? last <= stop : last >= stop;
}

static int submit_held(qtr_paper *p, const qtr_order_intent *o);

int qtr_paper_submit(qtr_paper *p, const qtr_order_intent *o)
{
    qtr_paper_hold(p);                        /* the new order outlives its own publishes */
    int rc = submit_held(p, o);
    qtr_paper_unhold(p);
    return rc;
}

static int submit_held(qtr_paper *p, const qtr_order_intent *o)
{
    if (!o || !o->client_id[0] || strlen(o->client_id) >= QTR_CLIENT_ID_MAX) {
        p->h->log(p->ctx, QTR_LOG_ERROR, "submit_order: an order needs a client id");
        return QTR_EINVAL;
    }
    if (qtr_paper_order_find(p, o->client_id)) {
        /* as an exchange answers a duplicate id: refused, and the open order is untouched */
        p->h->log(p->ctx, QTR_LOG_ERROR, "submit_order: client id %s is already open", o->client_id);
        return QTR_EREFUSED;
    }
    int64_t now = p->h->now_ms(p->ctx);
    char a[QTR_DEC_STRLEN], b[QTR_DEC_STRLEN];
    qtr_order_update u;
    memset(&u, 0, sizeof u);
    qc_copy_into_zeroed(u.symbol, o->symbol, sizeof u.symbol);   /* u is zeroed */
    qc_copy_into_zeroed(u.client_id, o->client_id, sizeof u.client_id);
    paper_id(u.exchange_id, sizeof u.exchange_id, NULL, ++p->order_seq);
    u.side = o->side;
    u.type = o->type;
    u.qty = o->qty;
    u.price = o->type == QTR_ORDER_LIMIT ? o->price : 0;
    u.reduce_only = o->reduce_only;
    u.working_type = o->working_type;
    u.activation_price = o->activation_price;
    u.callback_bps = o->callback_bps;
    u.stop_price = o->stop_price;

    if (!o->symbol[0]) { reject(p, &u, now, "empty symbol"); return QTR_OK; }
    if (o->side != QTR_SIDE_BUY && o->side != QTR_SIDE_SELL) { reject(p, &u, now, "unknown side %d", (int)o->side); return QTR_OK; }
    if (o->type < QTR_ORDER_MARKET || o->type > QTR_ORDER_TRAILING_STOP_MARKET) { reject(p, &u, now, "unknown order type %d", (int)o->type); return QTR_OK; }
    if (o->working_type != QTR_WORKING_LAST && o->working_type != QTR_WORKING_MARK) { reject(p, &u, now, "unknown working type %d", (int)o->working_type); return QTR_OK; }
    if (o->type == QTR_ORDER_TRAILING_STOP_MARKET && (o->callback_bps < 10 || o->callback_bps > 1000)) {
        reject(p, &u, now, "callback rate %u bps is outside 10..1000 (0.1%%..10%%)", o->callback_bps);
        return QTR_OK;
    }
    if (o->type == QTR_ORDER_TRAILING_STOP_MARKET && o->activation_price < 0) {
        reject(p, &u, now, "activation price must be >= 0 (got %s)", qtr_dec_format(o->activation_price, a));
        return QTR_OK;
    }
    if (o->tif < QTR_TIF_GTC || o->tif > QTR_TIF_GTX) { reject(p, &u, now, "unknown time in force %d", (int)o->tif); return QTR_OK; }
    if (o->type != QTR_ORDER_LIMIT && o->tif == QTR_TIF_GTX) { reject(p, &u, now, "post-only (GTX) needs a limit order"); return QTR_OK; }
    if (has_stop_price(o->type) && o->stop_price <= 0) {
        reject(p, &u, now, "stop_price must be positive (got %s)", qtr_dec_format(o->stop_price, a));
        return QTR_OK;
    }
    if (o->qty <= 0) { reject(p, &u, now, "quantity must be positive (got %s)", qtr_dec_format(o->qty, a)); return QTR_OK; }
    if (o->type == QTR_ORDER_LIMIT && o->price <= 0) {
        reject(p, &u, now, "limit price must be positive (got %s)", qtr_dec_format(o->price, a));
        return QTR_OK;
    }
    qtr_paper_symbol *sym = qtr_paper_symbol_find(p, o->symbol);
    qtr_candle ref;
    memset(&ref, 0, sizeof ref);
    qc_copy_into_zeroed(ref.symbol, o->symbol, sizeof ref.symbol);
    if (!reference_candle(p, sym, &ref) || (!sym && !(sym = qtr_paper_symbol_get(p, o->symbol)))) {
        reject(p, &u, now, "no market data for %s", o->symbol);
        return QTR_OK;
    }
    qtr_dec qty = 0, stop = o->stop_price;
    if (p->has_rules) {
        /* the live plugin's own preparation: rounded, then checked, worded alike */
        char why[QTR_REASON_MAX];
        kx_prepared prep;
        if (!sym->rules) { reject(p, &u, now, "unknown symbol %s", o->symbol); return QTR_OK; }
        if (kx_rules_prepare(sym->rules, o, ref.close, &prep, why, sizeof why) != 0) {
            reject(p, &u, now, "%s", why);
            return QTR_OK;
        }
        u.qty = qty = prep.qty;
        if (o->type == QTR_ORDER_LIMIT) u.price = prep.price;
        if (has_stop_price(o->type)) stop = prep.stop_price;
    } else {
        qtr_dec_round_step(o->qty, sym->step, QTR_ROUND_DOWN, &qty);
        if (qty <= 0) {
            reject(p, &u, now, "quantity %s is below the minimum step %s", qtr_dec_format(o->qty, a),
                   qtr_dec_format(sym->step, b));
            return QTR_OK;
        }
        u.qty = qty;
        if (o->type == QTR_ORDER_LIMIT && !valid_decimal_multiple(o->price, sym->tick)) {
            reject(p, &u, now, "limit price %s is not a multiple of the tick %s", qtr_dec_format(o->price, a),
                   qtr_dec_format(sym->tick, b));
            return QTR_OK;
        }
        if (has_stop_price(o->type) && !valid_decimal_multiple(stop, sym->tick)) {
            reject(p, &u, now, "stop_price %s is not a multiple of the tick %s", qtr_dec_format(stop, a),
                   qtr_dec_format(sym->tick, b));
            return QTR_OK;
        }
    }
    if (o->type == QTR_ORDER_TRAILING_STOP_MARKET && o->activation_price > 0 && sym->tick > 0 &&
        !valid_decimal_multiple(o->activation_price, sym->tick)) {
        reject(p, &u, now, "activation price %s is not a multiple of the tick %s", qtr_dec_format(o->activation_price, a),
               qtr_dec_format(sym->tick, b));
        return QTR_OK;
    }
    u.stop_price = has_stop_price(o->type) ? stop : 0;
    if (is_conditional(o->type) && would_trigger_now(o, stop, ref.close)) {
        reject(p, &u, now, "exchange refused: -2021 Order would immediately trigger.");   /* Binance's answer */
        return QTR_OK;
    }
    if (o->reduce_only) {
        qtr_dec room = qtr_paper_position_reducible(&sym->pos, o->side);
        if (room <= 0) {
            reject(p, &u, now, "reduce-only order would increase the position");
            return QTR_OK;
        }
        if (qty > room) {
            u.qty = qty = room;
            snprintf(u.reason, sizeof u.reason, "reduce-only: quantity cut to the position %s", qtr_dec_format(room, a));
        }
    }
    if (o->type == QTR_ORDER_LIMIT && o->tif == QTR_TIF_GTX &&
        (o->side == QTR_SIDE_BUY ? u.price >= ref.close : u.price <= ref.close)) {
        /* post-only that would take: acknowledged, then expired, as Binance does */
        qtr_order_update ack = u;
        ack.status = QTR_OS_NEW;
        publish_update(p, &ack, now);
        ack.status = QTR_OS_EXPIRED;
        qtr_strlcpy(ack.reason, "post-only order would take liquidity", sizeof ack.reason);
        publish_update(p, &ack, now);
        return QTR_OK;
    }
    u.status = QTR_OS_NEW;
    qtr_paper_order *po = qtr_paper_order_open(p, sym, &u);
    if (!po) {
        reject(p, &u, now, "too many open orders (%d)", QTR_PAPER_MAX_OPEN_ORDERS);
        return QTR_OK;
    }
    po->tif = o->tif;
    po->stop_price = has_stop_price(o->type) ? stop : 0;
    if (o->type == QTR_ORDER_TRAILING_STOP_MARKET && o->activation_price == 0) {
        po->trail_active = true;               /* no activation price: active at once, from the last price */
        po->trail_best = ref.close;
    }
    po->armed_after = ref.open_time_ms;
    publish_update(p, &po->u, now);
    if (po->dead) return QTR_OK;              /* canceled on its acknowledgement */

    /* market orders trade on the close they were decided on, or wait for the
     * next open (market_fill); IOC and FOK limits always trade at once */
    bool immediate = (o->type == QTR_ORDER_MARKET && !p->cfg.market_next_open) ||
                     (o->type == QTR_ORDER_LIMIT && (o->tif == QTR_TIF_IOC || o->tif == QTR_TIF_FOK));
    if (!immediate) return QTR_OK;                    /* resting, or waiting for the next open */
    ensure_budget(p, sym, &ref);
    qtr_dec price = qtr_paper_slipped(&p->cfg, sym->tick, ref.close, o->side);
    bool marketable = o->type == QTR_ORDER_MARKET || (o->side == QTR_SIDE_BUY ? price <= u.price : price >= u.price);
    if (o->tif == QTR_TIF_FOK && (!marketable || fillable(po) < qty)) {
        qtr_paper_finish(p, po, QTR_OS_EXPIRED,
                         marketable ? "fill-or-kill: not enough volume to fill at once"
                                    : "fill-or-kill: limit price not reached",
                         now);
        return QTR_OK;
    }
    if (marketable && take(p, po, price, false, now)) return QTR_OK;
    if (o->tif == QTR_TIF_IOC || o->tif == QTR_TIF_FOK)
        qtr_paper_finish(p, po, QTR_OS_EXPIRED, "immediate-or-cancel: remainder expired", now);
    else if (p->cfg.market_order_timeout_candles == 0)
        qtr_paper_finish(p, po, QTR_OS_EXPIRED, "market order remainder expired after 0 candles", now);
    return QTR_OK;
}
