/* bn_order_json — read an order object (new / query / cancel / openOrders)
 * and an algo order object; nothing is guessed: a missing field or an
 * unknown status is an error. */
#ifndef BN_ORDER_JSON_H
#define BN_ORDER_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include <qtr/plugin.h>

typedef struct bn_order_state {
    char symbol[QTR_SYMBOL_MAX];
    char client_id[QTR_CLIENT_ID_MAX];
    char order_id[QTR_CLIENT_ID_MAX];
    qtr_order_status status;
    qtr_side side;
    qtr_order_type type;
    qtr_dec orig_qty, executed_qty, cum_quote, price;
    bool reduce_only;
} bn_order_state;

/* Binance order status text to ours; false if unknown. */
bool bn_order_status_parse(const char *text, qtr_order_status *out);
/* Algo status (NEW, TRIGGERING, TRIGGERED, FINISHED, CANCELED, REJECTED, EXPIRED). */
bool bn_algo_status_parse(const char *text, qtr_order_status *out, bool *triggered);

int bn_order_state_parse(const json_t *o, bn_order_state *out, char *err, size_t errlen);

typedef struct bn_algo_state {
    char client_id[QTR_CLIENT_ID_MAX];
    char algo_id[QTR_CLIENT_ID_MAX];
    char actual_order_id[QTR_CLIENT_ID_MAX]; /* "" until triggered          */
    qtr_order_status status;
    bool triggered;                          /* an actual order now exists   */
} bn_algo_state;

int bn_algo_state_parse(const json_t *o, bn_algo_state *out, char *err, size_t errlen);

#endif
