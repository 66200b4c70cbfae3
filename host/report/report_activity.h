/*
 * What a backtest did besides filling: signals, orders, and the orders that
 * were refused, by who refused them. A refusal is an order update REJECTED
 * before any fill; its reason says where it came from (host/engine/pipeline.c
 * and the exchange plugin):
 *   drawdown_guard  "risk: drawdown_guard" (the policy's guard past half the
 *                   ESS drawdown, policies/default.lua)
 *   policy          any other "risk: ..." verdict of the risk policy
 *   ess             "ess_tripped", "ess_cooldown", "reconcile_..."
 *   invalid         "invalid: ..." and "too_many_open_orders" (the host's checks)
 *   exchange        anything else: the exchange's own refusal (tick, step,
 *                   minimum notional, unknown symbol, ...)
 */
#ifndef QH_REPORT_ACTIVITY_H
#define QH_REPORT_ACTIVITY_H

#include <stdint.h>

#include <qtr/events.h>

typedef enum qh_refusal_kind {
    QH_REFUSAL_POLICY = 0,
    QH_REFUSAL_DRAWDOWN_GUARD,
    QH_REFUSAL_ESS,
    QH_REFUSAL_INVALID,
    QH_REFUSAL_EXCHANGE,
    QH_REFUSAL__COUNT
} qh_refusal_kind;

typedef struct qh_report_activity {
    int64_t signals, orders, refusals[QH_REFUSAL__COUNT];
    int64_t ess_trips;
    int64_t guard_first_ms, guard_last_ms;   /* drawdown_guard refusals; 0 if none */
} qh_report_activity;

qh_refusal_kind qh_refusal_classify(const char *reason);
/* "policy", "drawdown_guard", "ess", "invalid", "exchange". */
const char *qh_refusal_name(qh_refusal_kind k);
/* Count one event of the run (other types are ignored). */
void qh_report_activity_on_event(qh_report_activity *a, const qtr_event *ev);

#endif
