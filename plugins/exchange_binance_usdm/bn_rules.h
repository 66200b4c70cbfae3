/* bn_rules — instrument rules and rate limits from GET /fapi/v1/exchangeInfo;
 * an order is rounded to them by the kit (kx_rules.h). */
#ifndef BN_RULES_H
#define BN_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include <qtr/plugin.h>

#include "kx_rules.h"

/* The rules themselves and the rounding are the kit's (kx_rules.h); these
 * names stay for the paper exchange, which reads the same exchangeInfo. */
typedef kx_symbol_rules bn_symbol_rules;
typedef kx_prepared bn_prepared;

typedef enum bn_limit_kind { BN_LIMIT_WEIGHT = 1, BN_LIMIT_ORDERS = 2 } bn_limit_kind;

typedef struct bn_limit_spec {
    bn_limit_kind kind;
    int64_t interval_ms;
    int64_t limit;
} bn_limit_spec;

#define BN_MAX_LIMITS 8

typedef struct bn_exchange_info {
    kx_symbol_rules *symbols;
    size_t n_symbols;
    bn_limit_spec limits[BN_MAX_LIMITS];
    size_t n_limits;
} bn_exchange_info;

/* Read the exchangeInfo body (the REST answer, or a file in that format).
 * Returns 0, or -1 with the reason in err (naming the symbol and filter, or
 * the byte of a syntax error). Frees nothing in *out on failure. */
int bn_exchange_info_read(const char *text, size_t len, bn_exchange_info *out, char *err, size_t errlen);
/* The same from a jansson tree, for the paper exchange's symbols_file loader
 * (bn_rules_jansson.c, in binance_usdm_core only; the plugin never builds a
 * tree). */
struct json_t;
int bn_exchange_info_parse(const struct json_t *root, bn_exchange_info *out, char *err, size_t errlen);
void bn_exchange_info_free(bn_exchange_info *info);
const kx_symbol_rules *bn_rules_find(const bn_exchange_info *info, const char *symbol);

/* "1M", "10S", ... as used in X-MBX-* header names; 0 if unknown. */
int64_t bn_interval_ms(const char *unit_word, int64_t num);

static inline int bn_rules_prepare(const kx_symbol_rules *r, const qtr_order_intent *o, qtr_dec ref_price,
                                   kx_prepared *out, char *reason, size_t reasonlen)
{
    return kx_rules_prepare(r, o, ref_price, out, reason, reasonlen);
}

#endif
