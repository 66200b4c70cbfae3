/* exit_plan_check.c — the rules of an exit plan, one message per breach. */
#include "exits/exit_plan_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>

#include "core/sized_copy.h"
#include "exits/exit_order_check.h"

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int check_distance(const qtr_exit_distance *d, const char *where, const char *name, char *err, size_t errlen)
{
    if (d->bps && d->price) return fail(err, errlen, "%s%s: bps and price both set (one or the other)", where, name);
    if (d->bps > QTR_EXIT_BPS_MAX)
        return fail(err, errlen, "%s%s.bps: %u is above %u", where, name, d->bps, QTR_EXIT_BPS_MAX);
    if (d->price < 0) return fail(err, errlen, "%s%s.price: must be > 0 (or 0 for off)", where, name);
    return 0;
}

static bool distance_set(const qtr_exit_distance *d) { return d->bps || d->price; }

static int check_ladder(const qtr_exit_params *p, qtr_dec step, const char *where, char *err, size_t errlen)
{
    if (p->n_take_profit > QTR_EXIT_TP_MAX)
        return fail(err, errlen, "%sn_take_profit: %u is above %d", where, p->n_take_profit, QTR_EXIT_TP_MAX);
    uint32_t total = 0;
    for (uint32_t i = 0; i < p->n_take_profit; i++) {
        const qtr_exit_tp *tp = &p->take_profit[i];
        char name[32];
        snprintf(name, sizeof name, "take_profit[%u].at", i);
        if (check_distance(&tp->at, where, name, err, errlen) != 0) return -1;
        if (!distance_set(&tp->at)) return fail(err, errlen, "%s%s: no bps and no price", where, name);
        if (tp->share_bps < 1 || tp->share_bps > 10000)
            return fail(err, errlen, "%stake_profit[%u].share_bps: %u is outside 1..10000", where, i, tp->share_bps);
        total += tp->share_bps;
        if (total > 10000)
            return fail(err, errlen, "%stake_profit: shares sum to more than 10000 bps at level %u", where, i);
        if (i > 0) {
            const qtr_exit_distance *prev = &p->take_profit[i - 1].at;
            bool same_kind = (prev->bps != 0) == (tp->at.bps != 0);
            if (!same_kind)
                return fail(err, errlen, "%stake_profit[%u].at: mixes bps and prices within one ladder", where, i);
            if (tp->at.bps ? tp->at.bps <= prev->bps : tp->at.price == prev->price)
                return fail(err, errlen, "%stake_profit[%u].at: not farther from the entry than level %u", where, i,
                            i - 1);
        }
    }
    if ((p->n_take_profit > 1 || (p->n_take_profit == 1 && total < 10000)) && step <= 0)
        return fail(err, errlen, "qty_step: required (> 0) for a take-profit ladder of partial shares");
    return 0;
}

static int check_params(const qtr_exit_params *p, qtr_dec step, const char *where, char *err, size_t errlen)
{
    if (check_distance(&p->stop_loss, where, "stop_loss", err, errlen) != 0) return -1;
    if (check_ladder(p, step, where, err, errlen) != 0) return -1;
    if (check_distance(&p->trailing_activation, where, "trailing_activation", err, errlen) != 0) return -1;
    if (p->trailing_callback_bps &&
        (p->trailing_callback_bps < QH_TRAILING_CALLBACK_MIN_BPS || p->trailing_callback_bps > QH_TRAILING_CALLBACK_MAX_BPS))
        return fail(err, errlen, "%strailing_callback_bps: %u is outside 10..1000 (0: off)", where,
                    p->trailing_callback_bps);
    if (!p->trailing_callback_bps && distance_set(&p->trailing_activation))
        return fail(err, errlen, "%strailing_activation: set without trailing_callback_bps", where);
    if (p->time_stop_ms && (p->time_stop_ms < 1000 || p->time_stop_ms > QTR_EXIT_TIME_STOP_MAX_MS))
        return fail(err, errlen, "%stime_stop_ms: %lld is outside 1000..%lld (0: off)", where,
                    (long long)p->time_stop_ms, (long long)QTR_EXIT_TIME_STOP_MAX_MS);
    return 0;
}

int qh_exit_plan_check(const qtr_exit_plan *plan, char *err, size_t errlen)
{
    if (!plan) return fail(err, errlen, "exit plan: NULL");
    if (plan->working_type != QTR_WORKING_LAST && plan->working_type != QTR_WORKING_MARK)
        return fail(err, errlen, "working_type: %d is neither LAST (0) nor MARK (1)", (int)plan->working_type);
    if (plan->qty_step < 0) return fail(err, errlen, "qty_step: must be >= 0");
    if (plan->price_tick < 0) return fail(err, errlen, "price_tick: must be >= 0");
    if (check_params(&plan->base, plan->qty_step, "base.", err, errlen) != 0) return -1;
    if (plan->regime_mask >> QTR_EXIT_REGIME_SLOTS)
        return fail(err, errlen, "regime_mask: 0x%x has bits beyond the %d regime slots", plan->regime_mask,
                    QTR_EXIT_REGIME_SLOTS);
    for (unsigned r = 0; r < QTR_EXIT_REGIME_SLOTS; r++) {
        if (!(plan->regime_mask & (1u << r))) continue;
        char where[32];
        snprintf(where, sizeof where, "regime[%u].", r);
        if (check_params(&plan->regime[r], plan->qty_step, where, err, errlen) != 0) return -1;
    }
    return 0;
}

int qh_exit_plan_copy_in(const qtr_exit_plan *plan, qtr_exit_plan *out, char *err, size_t errlen)
{
    if (!plan) return fail(err, errlen, "exit plan: NULL");
    if (plan->size < offsetof(qtr_exit_plan, base))
        return fail(err, errlen, "exit plan: size %u is too small (set it: QTR_SIZED(qtr_exit_plan))", plan->size);
    qh_sized_copy(out, sizeof *out, plan, plan->size);
    out->size = sizeof *out;
    return 0;
}

int qh_exit_plan_accept(const char *symbol, const qtr_exit_plan *plan, qtr_exit_plan *out, char *err, size_t errlen)
{
    if (!symbol || !*symbol) return fail(err, errlen, "symbol: required");
    if (qh_exit_plan_copy_in(plan, out, err, errlen) != 0) return -1;
    return qh_exit_plan_check(out, err, errlen);
}
