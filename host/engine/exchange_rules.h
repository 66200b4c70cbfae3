/* exchange_rules — the loaded exchange plugin's instrument rules
 * (qtr_exchange_ops.fetch_rules), for `qtr symbols fetch`. */
#ifndef QH_EXCHANGE_RULES_H
#define QH_EXCHANGE_RULES_H

#include <qtr/plugin.h>

#include "engine/engine.h"

/* Ask the exchange plugin of an engine loaded but never started for its
 * rules; cb runs later on the loop. The engine's ESS is disarmed first: the
 * request's errors must never trip it into cancelling the account's orders.
 * QTR_ENOTSUP when no exchange is loaded or it has no fetch_rules,
 * QTR_EREFUSED on a started engine, else what the plugin returned. */
int qh_engine_fetch_rules(qh_engine *e, qtr_rules_cb cb, void *ud);
/* The loaded exchange plugin's name, or NULL. */
const char *qh_engine_exchange_name(qh_engine *e);

#endif
