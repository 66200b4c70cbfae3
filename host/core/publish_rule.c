/* publish_rule.c — see publish_rule.h. The bus is trusted by its
 * subscribers (a fill moves the portfolio, an equity event the peak the ESS
 * measures drawdown from), so each type has one rightful publisher, given by
 * the registry's publisher column. */
#include "core/publish_rule.h"

#include <stdio.h>
#include <string.h>

const char *qh_publish_refusal(qtr_kind kind, bool active_exchange, const qtr_event *ev)
{
    bool exchange = kind == QTR_KIND_EXCHANGE && active_exchange;   /* the active exchange */
    switch (qtr_event_publisher(ev->type)) {
    case QTR_PUB_ANY:
        /* a rule by content: the ESS counts exchange errors */
        if (ev->type == QTR_EV_ALERT && !exchange &&
            strncmp(ev->u.alert.kind, "exchange_error", sizeof ev->u.alert.kind) == 0)
            return "only the active exchange publishes exchange_error alerts (the ESS counts them)";
        return NULL;
    case QTR_PUB_EXCHANGE:
        if (exchange) return NULL;
        if (kind == QTR_KIND_EXCHANGE)
            return "only the active exchange publishes these events, and this exchange plugin is not the one the host "
                   "trades on";
        return "only the exchange plugin publishes these events";
    case QTR_PUB_HOST: {
        /* the reason names the service to call instead, when there is one */
        static __thread char why[160];
        const char *via = qtr_event_publish_via(ev->type);
        if (!via) return "only the host publishes these events";
        snprintf(why, sizeof why, "only the host publishes %s events: call %s", qtr_event_type_name(ev->type), via);
        return why;
    }
    }
    return "unknown event type";
}

const char *qh_publish_admit(qtr_kind kind, bool active_exchange, const char *plugin_name, qtr_event *copy)
{
    const char *why = qh_publish_refusal(kind, active_exchange, copy);
    if (why) return why;
    copy->flags = 0;
    if (copy->type == QTR_EV_ALERT) qtr_strlcpy(copy->u.alert.source, plugin_name, sizeof copy->u.alert.source);
    return NULL;
}
