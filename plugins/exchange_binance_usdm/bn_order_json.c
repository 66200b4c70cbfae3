/* bn_order_json.c — see bn_order_json.h. */
#include "bn_order_json.h"

#include <stdio.h>
#include <string.h>

#include "bn_json.h"

bool bn_order_status_parse(const char *t, qtr_order_status *out)
{
    static const struct { const char *text; qtr_order_status st; } map[] = {
        { "NEW", QTR_OS_NEW },           { "PARTIALLY_FILLED", QTR_OS_PARTIALLY_FILLED },
        { "FILLED", QTR_OS_FILLED },     { "CANCELED", QTR_OS_CANCELED },
        { "REJECTED", QTR_OS_REJECTED }, { "EXPIRED", QTR_OS_EXPIRED },
        { "EXPIRED_IN_MATCH", QTR_OS_EXPIRED },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(t, map[i].text)) {
            *out = map[i].st;
            return true;
        }
    return false;
}

bool bn_algo_status_parse(const char *t, qtr_order_status *out, bool *triggered)
{
    *triggered = false;
    if (!strcmp(t, "NEW") || !strcmp(t, "TRIGGERING")) *out = QTR_OS_NEW;
    else if (!strcmp(t, "TRIGGERED") || !strcmp(t, "FINISHED")) { *out = QTR_OS_NEW; *triggered = true; }
    else if (!strcmp(t, "CANCELED")) *out = QTR_OS_CANCELED;
    else if (!strcmp(t, "REJECTED")) *out = QTR_OS_REJECTED;
    else if (!strcmp(t, "EXPIRED")) *out = QTR_OS_EXPIRED;
    else return false;
    return true;
}

static bool parse_side(const char *t, qtr_side *out)
{
    if (!strcmp(t, "BUY")) *out = QTR_SIDE_BUY;
    else if (!strcmp(t, "SELL")) *out = QTR_SIDE_SELL;
    else return false;
    return true;
}

static bool parse_type(const char *t, qtr_order_type *out)
{
    if (!strcmp(t, "MARKET")) *out = QTR_ORDER_MARKET;
    else if (!strcmp(t, "LIMIT")) *out = QTR_ORDER_LIMIT;
    else if (!strcmp(t, "STOP_MARKET")) *out = QTR_ORDER_STOP_MARKET;
    else if (!strcmp(t, "TAKE_PROFIT_MARKET")) *out = QTR_ORDER_TAKE_PROFIT_MARKET;
    else return false;
    return true;
}

int bn_order_state_parse(const json_t *o, bn_order_state *out, char *err, size_t errlen)
{
    char status[32], side[8], type[32], e[128];
    memset(out, 0, sizeof *out);
    if (!json_is_object(o)) {
        snprintf(err, errlen, "order is not a JSON object");
        return -1;
    }
    if (!bn_json_str(o, "symbol", out->symbol, sizeof out->symbol, e, sizeof e) ||
        !bn_json_str(o, "clientOrderId", out->client_id, sizeof out->client_id, e, sizeof e) ||
        !bn_json_id(o, "orderId", out->order_id, sizeof out->order_id, e, sizeof e) ||
        !bn_json_str(o, "status", status, sizeof status, e, sizeof e) ||
        !bn_json_str(o, "side", side, sizeof side, e, sizeof e) ||
        !bn_json_str(o, "type", type, sizeof type, e, sizeof e) ||
        !bn_json_dec(o, "origQty", &out->orig_qty, e, sizeof e) ||
        !bn_json_dec(o, "executedQty", &out->executed_qty, e, sizeof e) ||
        !bn_json_dec(o, "cumQuote", &out->cum_quote, e, sizeof e) ||
        !bn_json_dec(o, "price", &out->price, e, sizeof e)) {
        snprintf(err, errlen, "order: %s", e);
        return -1;
    }
    if (!bn_order_status_parse(status, &out->status)) {
        snprintf(err, errlen, "order %s: unknown status '%s'", out->client_id, status);
        return -1;
    }
    if (!parse_side(side, &out->side)) {
        snprintf(err, errlen, "order %s: unknown side '%s'", out->client_id, side);
        return -1;
    }
    /* Types we do not place (STOP, TRAILING_STOP_MARKET ...) may appear in
     * openOrders placed by someone else: kept as LIMIT/MARKET by price. */
    if (!parse_type(type, &out->type)) out->type = out->price > 0 ? QTR_ORDER_LIMIT : QTR_ORDER_MARKET;
    json_t *ro = json_object_get(o, "reduceOnly");
    out->reduce_only = json_is_true(ro);
    return 0;
}

int bn_algo_state_parse(const json_t *o, bn_algo_state *out, char *err, size_t errlen)
{
    char status[32], e[128];
    memset(out, 0, sizeof *out);
    if (!json_is_object(o)) {
        snprintf(err, errlen, "algo order is not a JSON object");
        return -1;
    }
    if (!bn_json_str(o, "clientAlgoId", out->client_id, sizeof out->client_id, e, sizeof e) ||
        !bn_json_id(o, "algoId", out->algo_id, sizeof out->algo_id, e, sizeof e) ||
        !bn_json_str(o, "algoStatus", status, sizeof status, e, sizeof e)) {
        snprintf(err, errlen, "algo order: %s", e);
        return -1;
    }
    if (!bn_algo_status_parse(status, &out->status, &out->triggered)) {
        snprintf(err, errlen, "algo order %s: unknown algoStatus '%s'", out->client_id, status);
        return -1;
    }
    json_t *act = json_object_get(o, "actualOrderId");
    if (act && ((json_is_integer(act) && json_integer_value(act) > 0) ||
                (json_is_string(act) && json_string_length(act) > 0 && strcmp(json_string_value(act), "0") != 0)))
        bn_json_id(o, "actualOrderId", out->actual_order_id, sizeof out->actual_order_id, e, sizeof e);
    if (out->triggered && !out->actual_order_id[0]) out->triggered = false; /* nothing to follow yet */
    return 0;
}
