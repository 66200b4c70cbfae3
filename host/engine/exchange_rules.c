/* exchange_rules.c — see exchange_rules.h. */
#include "engine/exchange_rules.h"

#include "engine/engine_internal.h"

int qh_engine_fetch_rules(qh_engine *e, qtr_rules_cb cb, void *ud)
{
    qh_plugin_rt *x = e->exchange;
    /* ld.exchange is a zero-extended copy: NULL when the plugin's table is
     * older than fetch_rules */
    if (!x || !x->ld.exchange.fetch_rules) return QTR_ENOTSUP;
    if (e->running) return QTR_EREFUSED;   /* a trading engine is not this tool's */
    /* This engine only reads. The request's errors (429s, timeouts) are
     * alerts its ESS would count, and a trip cancels every open order of
     * the account: the ESS is disarmed here, where nothing can trade. */
    qh_ess_set_limits(e->ess, &(qh_ess_limits){ 0 });
    return x->ld.exchange.fetch_rules(x->state, cb, ud);
}

const char *qh_engine_exchange_name(qh_engine *e)
{
    return e->exchange ? e->exchange->ld.desc.name : NULL;
}
