/* policy_enforce.c — the active policy on one order: its limits, then its
 * judge(). The host runs it on every order (pipeline.c); no plugin can skip
 * or overrule it. Quantities are rounded down (never more than a limit
 * allows) and notionals up (a risk figure errs high). */
#include "policy/policy.h"

#include "portfolio/dec_mul.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void set(qh_policy_verdict *v, qtr_risk_verdict verdict, qtr_dec qty, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void set(qh_policy_verdict *v, qtr_risk_verdict verdict, qtr_dec qty, const char *reason, const char *fmt, ...)
{
    v->verdict = verdict;
    v->qty = qty;
    qtr_strlcpy(v->reason, reason, sizeof v->reason);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->detail, sizeof v->detail, fmt, ap);
    va_end(ap);
}

static const char *fmt_dec(qtr_dec d, char buf[QTR_DEC_STRLEN]) { return qtr_dec_format(d, buf); }

static qtr_dec signed_qty(const qtr_order_intent *o, qtr_dec qty) { return o->side == QTR_SIDE_BUY ? qty : -qty; }

bool qh_policy_is_closing(const qtr_order_intent *o, qtr_dec position_qty)
{
    return o->reduce_only && ((position_qty > 0 && o->side == QTR_SIDE_SELL) ||
                              (position_qty < 0 && o->side == QTR_SIDE_BUY));
}

/* Position after the order; saturating (only ever compared to limits). */
static qtr_dec position_after(const qtr_order_intent *o, qtr_dec pos, qtr_dec qty)
{
    qtr_dec r;
    return qtr_dec_add(pos, signed_qty(o, qty), &r) ? r : (o->side == QTR_SIDE_BUY ? QTR_DEC_MAX : QTR_DEC_MIN);
}

/* The largest quantity that keeps |pos + order| * price within budget:
 * same side (or flat) floor(budget / price) - |pos|; against the position
 * |pos| + floor(budget / price). A negative budget allows only closing. */
static qtr_dec room_qty(const qtr_order_intent *o, qtr_dec pos, qtr_dec price, qtr_dec budget)
{
    qtr_dec fits = 0;
    if (budget > 0 && !qtr_dec_div(budget, price, QTR_ROUND_DOWN, &fits)) fits = QTR_DEC_MAX;
    bool against = (pos > 0 && o->side == QTR_SIDE_SELL) || (pos < 0 && o->side == QTR_SIDE_BUY);
    qtr_dec r;
    if (against) return qtr_dec_add(qtr_dec_abs(pos), fits, &r) ? r : QTR_DEC_MAX;
    return fits - qtr_dec_abs(pos);   /* both >= 0: cannot overflow */
}

static bool symbol_allowed(const qh_policy_rules *lim, const char *symbol)
{
    int32_t n = lim->n_symbols < QH_POLICY_MAX_SYMBOLS ? lim->n_symbols : QH_POLICY_MAX_SYMBOLS;
    if (n <= 0) return true;
    for (int32_t i = 0; i < n; i++)
        if (strncmp(lim->symbols[i], symbol, QTR_SYMBOL_MAX) == 0) return true;
    return false;
}

/* Cut v->qty to at most `room`; reject if nothing is left. */
static bool cap_qty(qh_policy_verdict *v, qtr_dec room, const char *reason, qtr_dec figure, qtr_dec limit)
{
    char a[QTR_DEC_STRLEN], b[QTR_DEC_STRLEN], c[QTR_DEC_STRLEN];
    if (v->qty <= room) return true;
    if (room <= 0) {
        set(v, QTR_RISK_REJECT, 0, reason, "%s > limit %s: no room", fmt_dec(figure, a), fmt_dec(limit, b));
        return false;
    }
    set(v, QTR_RISK_RESIZE, room, reason, "%s > limit %s: qty cut to %s", fmt_dec(figure, a), fmt_dec(limit, b),
        fmt_dec(room, c));
    return true;
}

void qh_policy_check_limits(const qh_policy_rules *lim, const qtr_order_intent *o, const qh_policy_inputs *in, qh_policy_verdict *v)
{
    const qh_risk_ctx *rc = &in->rc;
    const qtr_dec pos = rc->position_qty, price = in->exec_price;
    char a[QTR_DEC_STRLEN], b[QTR_DEC_STRLEN];
    /* the common answer, without formatting: this runs on every order */
    v->verdict = QTR_RISK_APPROVE;
    v->qty = o->qty;
    memcpy(v->reason, "approved", sizeof "approved");
    memcpy(v->detail, "within limits", sizeof "within limits");

    if (!symbol_allowed(lim, o->symbol)) {
        set(v, QTR_RISK_REJECT, 0, "symbol_not_allowed", "%s is not in the policy's symbols", o->symbol);
        return;
    }
    if (!(o->confidence >= lim->min_confidence)) {
        set(v, QTR_RISK_REJECT, 0, "min_confidence", "confidence %.4f < %.4f", o->confidence, lim->min_confidence);
        return;
    }
    bool new_position = pos == 0;
    if (new_position && rc->open_positions >= lim->max_positions) {
        set(v, QTR_RISK_REJECT, 0, "max_positions", "%d open positions, limit %d", (int)rc->open_positions,
            (int)lim->max_positions);
        return;
    }
    if (new_position && !in->symbol_has_order && rc->open_symbols >= lim->max_symbols) {
        set(v, QTR_RISK_REJECT, 0, "max_symbols", "%d symbols in use, limit %d", (int)rc->open_symbols,
            (int)lim->max_symbols);
        return;
    }

    qtr_dec order_room = 0;
    if (lim->max_order_notional > 0 && !qtr_dec_div(lim->max_order_notional, price, QTR_ROUND_DOWN, &order_room))
        order_room = QTR_DEC_MAX;
    if (!cap_qty(v, order_room, "max_order_notional", qh_risk_notional(v->qty, price), lim->max_order_notional)) return;

    qtr_dec after = position_after(o, pos, v->qty);
    if (!cap_qty(v, room_qty(o, pos, price, lim->max_position_notional), "max_position_notional",
                 qh_risk_notional(after, price), lim->max_position_notional))
        return;

    /* Exposure: only an order that adds exposure can break the limit. */
    qtr_dec before_sym = qh_risk_notional(pos, price);
    after = position_after(o, pos, v->qty);
    qtr_dec exposure_after, budget;
    if (!qtr_dec_add(in->exposure_other, qh_risk_notional(after, price), &exposure_after)) exposure_after = QTR_DEC_MAX;
    bool adds = qh_risk_notional(after, price) > before_sym;
    if (adds && exposure_after > lim->max_total_exposure) {
        if (!qtr_dec_sub(lim->max_total_exposure, in->exposure_other, &budget)) budget = QTR_DEC_MIN;
        if (!cap_qty(v, room_qty(o, pos, price, budget), "max_total_exposure", exposure_after,
                     lim->max_total_exposure))
            return;
        after = position_after(o, pos, v->qty);
        if (!qtr_dec_add(in->exposure_other, qh_risk_notional(after, price), &exposure_after)) exposure_after = QTR_DEC_MAX;
        adds = qh_risk_notional(after, price) > before_sym;
    }

    if (adds) {
        qtr_dec max_exposure = 0;
        if (rc->equity > 0 && lim->max_leverage > 0 && !qtr_dec_mul_int(rc->equity, lim->max_leverage, &max_exposure))
            max_exposure = QTR_DEC_MAX;
        if (exposure_after > max_exposure) {
            set(v, QTR_RISK_REJECT, 0, "max_leverage", "exposure %s over equity %s exceeds %dx",
                fmt_dec(exposure_after, a), fmt_dec(rc->equity, b), (int)lim->max_leverage);
            return;
        }
    }

    /* Entering: the order grows a position or opens one on its own side. */
    bool entering = qtr_dec_abs(after) > 0 && qtr_dec_sign(after) == (o->side == QTR_SIDE_BUY ? 1 : -1) &&
                    (qtr_dec_sign(pos) != qtr_dec_sign(after) || qtr_dec_abs(after) > qtr_dec_abs(pos));
    if (entering && lim->max_abs_funding_rate > 0 && qtr_dec_abs(rc->funding_rate) > lim->max_abs_funding_rate) {
        bool pays = o->side == QTR_SIDE_BUY ? rc->funding_rate > 0 : rc->funding_rate < 0;
        if (pays) {
            set(v, QTR_RISK_REJECT, 0, "funding_rate", "%s pays funding %s; limit %s", qtr_side_name(o->side),
                fmt_dec(rc->funding_rate, a), fmt_dec(lim->max_abs_funding_rate, b));
            return;
        }
    }

    if (rc->has_book && lim->max_spread_bps > 0 && rc->spread_bps > lim->max_spread_bps) {
        set(v, QTR_RISK_REJECT, 0, "spread", "spread %s bps > %s bps", fmt_dec(rc->spread_bps, a),
            fmt_dec(lim->max_spread_bps, b));
        return;
    }
    if (rc->has_book && lim->min_depth_notional > 0 && rc->depth_notional < lim->min_depth_notional) {
        set(v, QTR_RISK_REJECT, 0, "depth", "depth %s < %s", fmt_dec(rc->depth_notional, a),
            fmt_dec(lim->min_depth_notional, b));
        return;
    }
}

void qh_policy_combine_judge(qh_policy_verdict *v, int judge_rc, const qtr_risk_decision *j)
{
    char a[QTR_DEC_STRLEN];
    if (v->verdict == QTR_RISK_REJECT) return;
    /* Fail closed: a judge that cannot answer is a reject. One stopped by
     * its time or allocation budget says so (the host's policy_timeout). */
    if (judge_rc != QTR_OK) {
        if (judge_rc == QTR_EREFUSED && strcmp(j->reason, "policy_timeout") == 0)
            set(v, QTR_RISK_REJECT, 0, "policy_timeout", "policy judge overran its time or allocation budget");
        else
            set(v, QTR_RISK_REJECT, 0, "policy_error", "policy judge failed (%d)", judge_rc);
        return;
    }
    const char *reason = j->reason[0] ? j->reason : NULL;
    switch (j->verdict) {
    case QTR_RISK_APPROVE:
        return;
    case QTR_RISK_REJECT:
        set(v, QTR_RISK_REJECT, 0, reason ? reason : "policy_reject", "rejected by the policy's judge()");
        return;
    case QTR_RISK_RESIZE:
        if (j->qty <= 0) {
            set(v, QTR_RISK_REJECT, 0, reason ? reason : "policy_resize", "judge() resized to %s",
                fmt_dec(j->qty, a));
        } else if (j->qty < v->qty) {
            set(v, QTR_RISK_RESIZE, j->qty, reason ? reason : "policy_resize", "judge() resized to %s",
                fmt_dec(j->qty, a));
        }
        return;
    }
    set(v, QTR_RISK_REJECT, 0, "policy_error", "judge() gave an unknown verdict %d", (int)j->verdict);
}

/* |qty| * |price| rounded up, QTR_DEC_MAX past it: what qtr_dec_mul(...,
 * QTR_ROUND_UP) gives, by one 128-by-64 division (portfolio/dec_mul.h)
 * instead of its __divmodti4 on products past 2^63 (six times an order). */
qtr_dec qh_risk_notional(qtr_dec qty, qtr_dec price)
{
    if (qty == INT64_MIN || price == INT64_MIN) {   /* never a qtr_dec: the plain computation */
        qtr_dec n;
        if (!qtr_dec_mul(qtr_dec_abs(qty), qtr_dec_abs(price), QTR_ROUND_UP, &n)) return QTR_DEC_MAX;
        return n;
    }
    qtr__u128 num = (qtr__u128)(uint64_t)qtr_dec_abs(qty) * (uint64_t)qtr_dec_abs(price);
    const uint64_t scale = (uint64_t)QTR_DEC_SCALE;
    if ((uint64_t)(num >> 64) >= scale) return QTR_DEC_MAX;   /* the quotient is 2^64 or more */
    uint64_t r, q = qc_div_128_by_64(num, scale, &r);
    if (q > (uint64_t)QTR_DEC_MAX - (r != 0)) return QTR_DEC_MAX;
    return (qtr_dec)(q + (r != 0));
}

void qh_policy_enforce(qh_policy *p, const qtr_order_intent *o, qh_policy_inputs *in, qh_policy_verdict *v)
{
    const qh_policy_rules *lim = qh_policy_limits(p);
    if (!lim) {
        set(v, QTR_RISK_REJECT, 0, "no_policy", "no risk policy is loaded");
        return;
    }
    qh_policy_check_limits(lim, o, in, v);
    if (v->verdict == QTR_RISK_REJECT) return;
    /* judge() sees the order as it would be sent. */
    qtr_order_intent sized = *o;
    sized.qty = v->qty;
    in->rc.order_notional = qh_risk_notional(v->qty, in->exec_price);
    qtr_risk_decision judged;
    memset(&judged, 0, sizeof judged);
    int rc = qh_policy_judge(p, &sized, &in->rc, &judged);
    judged.reason[sizeof judged.reason - 1] = '\0';
    qh_policy_combine_judge(v, rc, &judged);
}
