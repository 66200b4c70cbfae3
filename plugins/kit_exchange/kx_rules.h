/* kx_rules — an instrument's trading rules and an order rounded to them in
 * fixed point before it is sent, so the exchange never refuses it for a
 * tick, a step or a minimum the plugin could have seen coming.
 *
 * The vocabulary is Binance's (PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE,
 * MIN_NOTIONAL), which other venues map onto directly: Bybit's priceFilter
 * (tickSize, minPrice, maxPrice), lotSizeFilter (qtyStep, minOrderQty,
 * maxOrderQty, minNotionalValue); OKX's tickSz, lotSz, minSz. The plugin
 * fills a kx_symbol_rules from its exchange's instrument list; an unknown
 * bound is 0 (not checked). Refusals name the filter and both numbers. */
#ifndef KX_RULES_H
#define KX_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include <qtr/plugin.h>

typedef struct kx_symbol_rules {
    char symbol[QTR_SYMBOL_MAX];
    char quote_asset[16];               /* fees are in this asset (USDT)    */
    bool trading;                       /* open for orders                   */
    qtr_dec min_price, max_price, tick; /* PRICE_FILTER (0: check disabled) */
    qtr_dec lot_min, lot_max, lot_step; /* LOT_SIZE                          */
    qtr_dec mkt_min, mkt_max, mkt_step; /* MARKET_LOT_SIZE (0: use LOT_SIZE) */
    qtr_dec min_notional;               /* MIN_NOTIONAL (0: none)            */
    int price_precision, qty_precision; /* decimals the exchange accepts     */
} kx_symbol_rules;

/* An order rounded to the rules. */
typedef struct kx_prepared {
    qtr_dec qty;
    qtr_dec price;       /* 0 for market and conditional market orders */
    qtr_dec stop_price;  /* trigger for conditional orders, else 0     */
} kx_prepared;

/*
 * Round qty down to the step (MARKET_LOT_SIZE for market orders), the limit
 * price down for buys and up for sells (the trigger price likewise), both
 * counted from the minimum as exchanges do ((v - min) % step == 0), then
 * check min/max, decimals and MIN_NOTIONAL (reduce-only orders exempt).
 * ref_price values a market order's notional (0: unknown, the exchange then
 * checks it). Returns 0, or -1 with the reason.
 */
int kx_rules_prepare(const kx_symbol_rules *r, const qtr_order_intent *o, qtr_dec ref_price,
                     kx_prepared *out, char *reason, size_t reasonlen);

#endif
