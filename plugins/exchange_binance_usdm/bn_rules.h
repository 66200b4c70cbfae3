/* bn_rules — instrument rules and rate limits from GET /fapi/v1/exchangeInfo,
 * and rounding an order to them in fixed point before it is sent. */
#ifndef BN_RULES_H
#define BN_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include <qtr/plugin.h>

typedef struct bn_symbol_rules {
    char symbol[QTR_SYMBOL_MAX];
    char quote_asset[16];               /* fees are in this asset (USDT)    */
    bool trading;                       /* status == "TRADING"              */
    qtr_dec min_price, max_price, tick; /* PRICE_FILTER (0: check disabled) */
    qtr_dec lot_min, lot_max, lot_step; /* LOT_SIZE                          */
    qtr_dec mkt_min, mkt_max, mkt_step; /* MARKET_LOT_SIZE (0: use LOT_SIZE) */
    qtr_dec min_notional;               /* MIN_NOTIONAL.notional (0: none)  */
    int price_precision, qty_precision; /* decimals the exchange accepts     */
} bn_symbol_rules;

typedef enum bn_limit_kind { BN_LIMIT_WEIGHT = 1, BN_LIMIT_ORDERS = 2 } bn_limit_kind;

typedef struct bn_limit_spec {
    bn_limit_kind kind;
    int64_t interval_ms;
    int64_t limit;
} bn_limit_spec;

#define BN_MAX_LIMITS 8

typedef struct bn_exchange_info {
    bn_symbol_rules *symbols;
    size_t n_symbols;
    bn_limit_spec limits[BN_MAX_LIMITS];
    size_t n_limits;
} bn_exchange_info;

/* Parse the exchangeInfo body. Returns 0, or -1 with the reason in err
 * (naming the symbol and filter). Frees nothing in *out on failure. */
int bn_exchange_info_parse(const json_t *root, bn_exchange_info *out, char *err, size_t errlen);
void bn_exchange_info_free(bn_exchange_info *info);
const bn_symbol_rules *bn_rules_find(const bn_exchange_info *info, const char *symbol);

/* "1M", "10S", ... as used in X-MBX-* header names; 0 if unknown. */
int64_t bn_interval_ms(const char *unit_word, int64_t num);

/* An order rounded to the rules. */
typedef struct bn_prepared {
    qtr_dec qty;
    qtr_dec price;       /* 0 for market and conditional market orders */
    qtr_dec stop_price;  /* trigger for conditional orders, else 0     */
} bn_prepared;

/*
 * Round qty down to the step (MARKET_LOT_SIZE for market orders), the limit
 * price down for buys and up for sells (the trigger price likewise), then
 * check min/max and MIN_NOTIONAL. ref_price values a market order's notional
 * (0: unknown, the exchange then checks it). Returns 0, or -1 with the reason.
 */
int bn_rules_prepare(const bn_symbol_rules *r, const qtr_order_intent *o, qtr_dec ref_price,
                     bn_prepared *out, char *reason, size_t reasonlen);

#endif
