/* exit_order_check.c — the conditional fields of an order intent. */
#include "exits/exit_order_check.h"

const char *qh_exit_order_invalid(const qtr_order_intent *o)
{
    if (o->working_type != QTR_WORKING_LAST && o->working_type != QTR_WORKING_MARK) return "invalid: working type";
    if (o->type != QTR_ORDER_TRAILING_STOP_MARKET) {
        if (o->activation_price != 0 || o->callback_bps != 0)
            return "invalid: activation price and callback are for trailing stops only";
        return NULL;
    }
    if (o->callback_bps < QH_TRAILING_CALLBACK_MIN_BPS || o->callback_bps > QH_TRAILING_CALLBACK_MAX_BPS)
        return "invalid: trailing callback must be 10..1000 bps";
    if (o->activation_price < 0) return "invalid: activation price must be >= 0";
    if (o->stop_price != 0) return "invalid: a trailing stop has no stop price";
    return NULL;
}
