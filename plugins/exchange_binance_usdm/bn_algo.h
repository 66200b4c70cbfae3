/* bn_algo — conditional orders on Binance's algo service (POST
 * /fapi/v1/algoOrder, algoType=CONDITIONAL): which order types go there,
 * how an intent is checked and written as request fields, and the texts the
 * exchange uses for them (workingType, callbackRate).
 *
 * STOP_MARKET and TAKE_PROFIT_MARKET carry triggerPrice. TRAILING_STOP_MARKET
 * carries callbackRate (percent, 0.1 to 10 in steps of 0.1: 10 to 1000 bps in
 * steps of 10) and activatePrice (left out when 0: active at once). All carry
 * workingType (CONTRACT_PRICE for the last price, MARK_PRICE for the mark)
 * and reduceOnly. A callback the exchange cannot take exactly is refused,
 * never rounded to another rate. */
#ifndef BN_ALGO_H
#define BN_ALGO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/plugin.h>

#include "kx_buf.h"
#include "kx_rules.h"

#define BN_CALLBACK_BPS_MIN 10u    /* callbackRate 0.1 (%)             */
#define BN_CALLBACK_BPS_MAX 1000u  /* callbackRate 10 (%)              */
#define BN_CALLBACK_BPS_STEP 10u   /* one decimal: 0.1 (%) steps       */

/* True for the types placed on the algo service. */
static inline bool bn_algo_type(qtr_order_type t)
{
    return t == QTR_ORDER_STOP_MARKET || t == QTR_ORDER_TAKE_PROFIT_MARKET || t == QTR_ORDER_TRAILING_STOP_MARKET;
}

/* "CONTRACT_PRICE" / "MARK_PRICE"; NULL for a value that is not one. */
const char *bn_working_type_text(qtr_working_type w);
bool bn_working_type_parse(const char *text, qtr_working_type *out);

/* callbackRate text ("1.5") for bps; false (out "") if bps is out of range
 * or not a multiple of 10. */
bool bn_callback_rate_text(uint32_t bps, char *out, size_t outlen);
/* A callbackRate the exchange reported (percent) in bps; false if it is not
 * a whole number of bps or out of 0..BN_CALLBACK_BPS_MAX. */
bool bn_callback_rate_bps(qtr_dec rate, uint32_t *bps);

/* Check a conditional intent's own fields and round its prices to the
 * symbol's rules (as kx_rules_prepare; a trailing stop's activation price
 * is rounded as a trigger is). 0 and *prep, *activation; or -1 with reason
 * (which names the field). */
int bn_algo_prepare(const kx_symbol_rules *rules, const qtr_order_intent *in, qtr_dec ref_price, kx_prepared *prep,
                    qtr_dec *activation, char *reason, size_t reasonlen);

/* The conditional fields of an intent already prepared: triggerPrice, or
 * activatePrice and callbackRate; workingType; reduceOnly. False if out of
 * memory (q.oom) or the intent was not prepared. */
bool bn_algo_params(kx_buf *q, const qtr_order_intent *in);

#endif
