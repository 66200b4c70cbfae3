/* report_activity.c — see report_activity.h. */
#include "report/report_activity.h"

#include <string.h>

static bool starts(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

qh_refusal_kind qh_refusal_classify(const char *reason)
{
    if (starts(reason, "risk: drawdown_guard")) return QH_REFUSAL_DRAWDOWN_GUARD;
    if (starts(reason, "risk:")) return QH_REFUSAL_POLICY;
    if (starts(reason, "ess_") || starts(reason, "reconcile_")) return QH_REFUSAL_ESS;
    if (starts(reason, "invalid:") || starts(reason, "too_many_open_orders")) return QH_REFUSAL_INVALID;
    return QH_REFUSAL_EXCHANGE;
}

const char *qh_refusal_name(qh_refusal_kind k)
{
    static const char *const names[QH_REFUSAL__COUNT] = { "policy", "drawdown_guard", "ess", "invalid", "exchange" };
    return (unsigned)k < QH_REFUSAL__COUNT ? names[k] : "?";
}

void qh_report_activity_on_event(qh_report_activity *a, const qtr_event *ev)
{
    switch (ev->type) {
    case QTR_EV_SIGNAL: a->signals++; break;
    case QTR_EV_ORDER_INTENT: a->orders++; break;
    case QTR_EV_ORDER_UPDATE: {
        const qtr_order_update *u = &ev->u.order_update;
        if (u->status != QTR_OS_REJECTED || u->filled_qty != 0) break;
        qh_refusal_kind k = qh_refusal_classify(u->reason);
        a->refusals[k]++;
        if (k == QH_REFUSAL_DRAWDOWN_GUARD) {
            if (!a->guard_first_ms) a->guard_first_ms = ev->time_ms;
            a->guard_last_ms = ev->time_ms;
        }
        break;
    }
    case QTR_EV_ESS_STATE:
        if (ev->u.ess.state == QTR_ESS_TRIPPED && ev->u.ess.previous != QTR_ESS_TRIPPED) a->ess_trips++;
        break;
    default: break;
    }
}
