/* bn_order_json — read an order object (new / query / cancel / openOrders),
 * an algo order object and userTrades rows; nothing is guessed: a missing
 * field or an unknown status is an error.
 *
 * Each reads the raw reply body (or a value span of it) with bn_jread: no
 * allocation, the whole text checked, so what is not one valid JSON
 * document is refused with the check's words. */
#ifndef BN_ORDER_JSON_H
#define BN_ORDER_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* An order object from the raw body; 0, or -1 with err. */
int bn_order_state_read(const char *body, size_t len, bn_order_state *out, char *err, size_t errlen);

typedef struct bn_algo_state {
    char client_id[QTR_CLIENT_ID_MAX];
    char algo_id[QTR_CLIENT_ID_MAX];
    char actual_order_id[QTR_CLIENT_ID_MAX]; /* "" until triggered          */
    qtr_order_status status;
    bool triggered;                          /* an actual order now exists   */
} bn_algo_state;

int bn_algo_state_read(const char *body, size_t len, bn_algo_state *out, char *err, size_t errlen);

/* A whole algo order (GET /fapi/v1/algoOrder, openAlgoOrders rows): its
 * state and what it is, for adoption and reconciliation. Required: the
 * state's fields, symbol, side, orderType (STOP_MARKET, TAKE_PROFIT_MARKET,
 * TRAILING_STOP_MARKET), quantity, workingType, reduceOnly; triggerPrice
 * for the first two, callbackRate (a whole number of bps, at most 10%) for
 * a trailing stop, whose activatePrice may be absent (0: active at once). */
typedef struct bn_algo_order {
    bn_algo_state st;
    char symbol[QTR_SYMBOL_MAX];
    qtr_side side;
    qtr_order_type type;
    qtr_dec qty, trigger, activation;
    uint32_t callback_bps;
    qtr_working_type working_type;
    bool reduce_only;
} bn_algo_order;

int bn_algo_order_read(const char *body, size_t len, bn_algo_order *out, char *err, size_t errlen);

/* One row of GET /fapi/v1/userTrades. */
typedef struct bn_trade {
    char symbol[QTR_SYMBOL_MAX];
    int64_t id;                          /* trade id, > 0                         */
    char order_id[QTR_CLIENT_ID_MAX];    /* orderId as text                       */
    qtr_side side;
    qtr_dec price, qty, quote_qty, commission, realized_pnl;
    char commission_asset[16];
    bool maker, buyer;
    int64_t time_ms;
} bn_trade;
typedef void (*bn_trade_cb)(void *ud, const bn_trade *t);
/* Reads a userTrades array. All or nothing: cb is called for each trade in
 * array order only if every element reads cleanly (missing field, wrong
 * type, id <= 0, qty <= 0, price <= 0, unknown side => -1 with err and no
 * callback). Returns the number of trades. commission is read as given
 * (Binance sends it signed; the caller interprets the sign). */
int bn_trades_read(const char *body, size_t len, bn_trade_cb cb, void *ud, char *err, size_t errlen);

#endif
