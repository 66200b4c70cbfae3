/* bn_algo.c — see bn_algo.h. */
#include "bn_algo.h"

#include <stdio.h>
#include <string.h>

const char *bn_working_type_text(qtr_working_type w)
{
    switch (w) {
    case QTR_WORKING_LAST: return "CONTRACT_PRICE";
    case QTR_WORKING_MARK: return "MARK_PRICE";
    }
    return NULL;
}

bool bn_working_type_parse(const char *text, qtr_working_type *out)
{
    if (!strcmp(text, "CONTRACT_PRICE")) *out = QTR_WORKING_LAST;
    else if (!strcmp(text, "MARK_PRICE")) *out = QTR_WORKING_MARK;
    else return false;
    return true;
}

static bool callback_ok(uint32_t bps)
{
    return bps >= BN_CALLBACK_BPS_MIN && bps <= BN_CALLBACK_BPS_MAX && bps % BN_CALLBACK_BPS_STEP == 0;
}

bool bn_callback_rate_text(uint32_t bps, char *out, size_t outlen)
{
    if (!callback_ok(bps)) {
        if (outlen) out[0] = '\0';
        return false;
    }
    /* percent with one decimal: 150 bps is "1.5" */
    int n = snprintf(out, outlen, "%u.%u", bps / 100u, bps % 100u / 10u);
    return n > 0 && (size_t)n < outlen;
}

bool bn_callback_rate_bps(qtr_dec rate, uint32_t *bps)
{
    const qtr_dec one_bp = QTR_DEC_SCALE / 100; /* 0.01 (%) */
    if (rate < 0 || rate % one_bp != 0 || rate / one_bp > BN_CALLBACK_BPS_MAX) return false;
    *bps = (uint32_t)(rate / one_bp);
    return true;
}

int bn_algo_prepare(const kx_symbol_rules *rules, const qtr_order_intent *in, qtr_dec ref_price, kx_prepared *prep,
                    qtr_dec *activation, char *reason, size_t len)
{
    *activation = 0;
    if (!bn_working_type_text(in->working_type)) {
        snprintf(reason, len, "working_type %d is neither LAST (0) nor MARK (1)", (int)in->working_type);
        return -1;
    }
    if (in->type != QTR_ORDER_TRAILING_STOP_MARKET) {
        if (in->callback_bps != 0 || in->activation_price != 0) {
            snprintf(reason, len, "callback_bps and activation_price are for TRAILING_STOP_MARKET only, not %s",
                     qtr_order_type_name(in->type));
            return -1;
        }
        return kx_rules_prepare(rules, in, ref_price, prep, reason, len);
    }
    if (in->callback_bps < BN_CALLBACK_BPS_MIN || in->callback_bps > BN_CALLBACK_BPS_MAX) {
        snprintf(reason, len, "callback_bps %u is outside Binance's callbackRate range %u..%u (0.1%%..10%%)",
                 in->callback_bps, BN_CALLBACK_BPS_MIN, BN_CALLBACK_BPS_MAX);
        return -1;
    }
    if (in->callback_bps % BN_CALLBACK_BPS_STEP != 0) {
        snprintf(reason, len, "callback_bps %u is not a multiple of %u (callbackRate has one decimal); not rounded",
                 in->callback_bps, BN_CALLBACK_BPS_STEP);
        return -1;
    }
    if (in->activation_price < 0) {
        snprintf(reason, len, "activation_price must be >= 0 (0: active at once)");
        return -1;
    }
    if (in->stop_price != 0) {
        snprintf(reason, len, "stop_price is not used by TRAILING_STOP_MARKET (activation_price and callback_bps are)");
        return -1;
    }
    /* A trailing stop executes as a market order: the market lot rules,
     * and its activation price rounded as a trigger price is. */
    qtr_order_intent as_stop = *in;
    as_stop.type = in->activation_price > 0 ? QTR_ORDER_STOP_MARKET : QTR_ORDER_MARKET;
    as_stop.stop_price = in->activation_price;
    as_stop.callback_bps = 0;
    as_stop.activation_price = 0;
    char why[QTR_REASON_MAX];
    if (kx_rules_prepare(rules, &as_stop, ref_price, prep, why, sizeof why) != 0) {
        const char *stop = strstr(why, "stop_price");
        if (stop) snprintf(reason, len, "activation_price%s", stop + strlen("stop_price"));
        else snprintf(reason, len, "%s", why);
        return -1;
    }
    *activation = prep->stop_price;
    prep->stop_price = 0;
    return 0;
}

bool bn_algo_params(kx_buf *q, const qtr_order_intent *in)
{
    const char *wt = bn_working_type_text(in->working_type);
    if (!wt || !bn_algo_type(in->type)) return false;
    if (in->type == QTR_ORDER_TRAILING_STOP_MARKET) {
        char rate[16];
        if (!bn_callback_rate_text(in->callback_bps, rate, sizeof rate)) return false;
        kx_query_add(q, "callbackRate", rate);
        if (in->activation_price > 0) kx_query_add_dec(q, "activatePrice", in->activation_price);
    } else {
        kx_query_add_dec(q, "triggerPrice", in->stop_price);
    }
    kx_query_add(q, "workingType", wt);
    /* Always said, true or false: an exit must never open a position. */
    kx_query_add(q, "reduceOnly", in->reduce_only ? "true" : "false");
    return !q->oom;
}
