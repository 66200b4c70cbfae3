/* bn_exchange_info — fetch_rules: the exchangeInfo document as the exchange
 * sends it, for `qtr symbols fetch` (qtr_exchange_ops.fetch_rules). */
#ifndef BN_EXCHANGE_INFO_H
#define BN_EXCHANGE_INFO_H

#include "bn_plugin.h"

/* GET /fapi/v1/exchangeInfo through the REST queue and its rate buckets; cb
 * gets the body once it reads as rules (bn_exchange_info_read), see
 * qtr_exchange_ops.fetch_rules for the statuses. */
int bn_rules_fetch(bn_plugin *p, qtr_rules_cb cb, void *ud);
/* Drops the fetches still waiting (destroy): their callbacks never run. */
void bn_rules_fetch_free(bn_plugin *p);

#endif
