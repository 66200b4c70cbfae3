/* bn_rules.c — see bn_rules.h. */
#include "bn_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bn_json.h"

int64_t bn_interval_ms(const char *unit_word, int64_t num)
{
    int64_t unit = 0;
    if (!strcmp(unit_word, "SECOND") || !strcmp(unit_word, "S") || !strcmp(unit_word, "s")) unit = 1000;
    else if (!strcmp(unit_word, "MINUTE") || !strcmp(unit_word, "M") || !strcmp(unit_word, "m")) unit = 60000;
    else if (!strcmp(unit_word, "HOUR") || !strcmp(unit_word, "H") || !strcmp(unit_word, "h")) unit = 3600000;
    else if (!strcmp(unit_word, "DAY") || !strcmp(unit_word, "D") || !strcmp(unit_word, "d")) unit = 86400000;
    return num > 0 ? unit * num : 0;
}

static int parse_filter(const json_t *f, kx_symbol_rules *r, char *err, size_t errlen)
{
    char type[32], e[128];
    if (!bn_json_str(f, "filterType", type, sizeof type, e, sizeof e)) {
        snprintf(err, errlen, "%s: filter: %s", r->symbol, e);
        return -1;
    }
    bool ok = true;
    if (!strcmp(type, "PRICE_FILTER")) {
        ok = bn_json_dec(f, "minPrice", &r->min_price, e, sizeof e) &&
             bn_json_dec(f, "maxPrice", &r->max_price, e, sizeof e) &&
             bn_json_dec(f, "tickSize", &r->tick, e, sizeof e);
    } else if (!strcmp(type, "LOT_SIZE")) {
        ok = bn_json_dec(f, "minQty", &r->lot_min, e, sizeof e) &&
             bn_json_dec(f, "maxQty", &r->lot_max, e, sizeof e) &&
             bn_json_dec(f, "stepSize", &r->lot_step, e, sizeof e);
    } else if (!strcmp(type, "MARKET_LOT_SIZE")) {
        ok = bn_json_dec(f, "minQty", &r->mkt_min, e, sizeof e) &&
             bn_json_dec(f, "maxQty", &r->mkt_max, e, sizeof e) &&
             bn_json_dec(f, "stepSize", &r->mkt_step, e, sizeof e);
    } else if (!strcmp(type, "MIN_NOTIONAL")) {
        ok = bn_json_dec(f, "notional", &r->min_notional, e, sizeof e);
    }
    if (!ok) {
        snprintf(err, errlen, "%s: %s: %s", r->symbol, type, e);
        return -1;
    }
    return 0;
}

static int parse_symbol(const json_t *s, kx_symbol_rules *r, char *err, size_t errlen)
{
    char e[128], status[32];
    memset(r, 0, sizeof *r);
    if (!bn_json_str(s, "symbol", r->symbol, sizeof r->symbol, e, sizeof e)) {
        snprintf(err, errlen, "symbols[]: %s", e);
        return -1;
    }
    if (!bn_json_str(s, "status", status, sizeof status, e, sizeof e)) {
        snprintf(err, errlen, "%s: %s", r->symbol, e);
        return -1;
    }
    r->trading = !strcmp(status, "TRADING");
    if (!bn_json_str(s, "quoteAsset", r->quote_asset, sizeof r->quote_asset, e, sizeof e)) {
        snprintf(err, errlen, "%s: %s", r->symbol, e);
        return -1;
    }
    int64_t pp = 8, qp = 8;
    if (json_object_get(s, "pricePrecision") && !bn_json_int(s, "pricePrecision", &pp, e, sizeof e)) {
        snprintf(err, errlen, "%s: %s", r->symbol, e);
        return -1;
    }
    if (json_object_get(s, "quantityPrecision") && !bn_json_int(s, "quantityPrecision", &qp, e, sizeof e)) {
        snprintf(err, errlen, "%s: %s", r->symbol, e);
        return -1;
    }
    r->price_precision = (int)(pp < 0 ? 0 : pp > 8 ? 8 : pp);
    r->qty_precision = (int)(qp < 0 ? 0 : qp > 8 ? 8 : qp);
    json_t *filters = json_object_get(s, "filters");
    if (!json_is_array(filters)) {
        snprintf(err, errlen, "%s: field 'filters' missing or not an array", r->symbol);
        return -1;
    }
    size_t i;
    json_t *f;
    json_array_foreach(filters, i, f)
        if (parse_filter(f, r, err, errlen) != 0) return -1;
    if (r->lot_step <= 0) {
        snprintf(err, errlen, "%s: LOT_SIZE.stepSize missing or zero", r->symbol);
        return -1;
    }
    return 0;
}

static int parse_limits(const json_t *arr, bn_exchange_info *out, char *err, size_t errlen)
{
    size_t i;
    json_t *l;
    json_array_foreach(arr, i, l) {
        char type[32], interval[16], e[128];
        int64_t num, limit;
        if (!bn_json_str(l, "rateLimitType", type, sizeof type, e, sizeof e) ||
            !bn_json_str(l, "interval", interval, sizeof interval, e, sizeof e) ||
            !bn_json_int(l, "intervalNum", &num, e, sizeof e) || !bn_json_int(l, "limit", &limit, e, sizeof e)) {
            snprintf(err, errlen, "rateLimits[%zu]: %s", i, e);
            return -1;
        }
        bn_limit_kind kind = !strcmp(type, "REQUEST_WEIGHT") ? BN_LIMIT_WEIGHT
                             : !strcmp(type, "ORDERS")       ? BN_LIMIT_ORDERS
                                                             : 0;
        int64_t ms = bn_interval_ms(interval, num);
        if (!kind) continue; /* RAW_REQUESTS and others: not tracked */
        if (ms <= 0 || limit <= 0) {
            snprintf(err, errlen, "rateLimits[%zu]: bad interval or limit", i);
            return -1;
        }
        if (out->n_limits < BN_MAX_LIMITS)
            out->limits[out->n_limits++] = (bn_limit_spec){ kind, ms, limit };
    }
    return 0;
}

int bn_exchange_info_parse(const json_t *root, bn_exchange_info *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_t *syms = json_is_object(root) ? json_object_get(root, "symbols") : NULL;
    if (!json_is_array(syms)) {
        snprintf(err, errlen, "field 'symbols' missing or not an array");
        return -1;
    }
    json_t *limits = json_object_get(root, "rateLimits");
    if (limits && json_is_array(limits) && parse_limits(limits, out, err, errlen) != 0) return -1;
    size_t n = json_array_size(syms);
    out->symbols = calloc(n ? n : 1, sizeof *out->symbols);
    if (!out->symbols) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (parse_symbol(json_array_get(syms, i), &out->symbols[i], err, errlen) != 0) {
            bn_exchange_info_free(out);
            return -1;
        }
    }
    out->n_symbols = n;
    return 0;
}

void bn_exchange_info_free(bn_exchange_info *info)
{
    free(info->symbols);
    info->symbols = NULL;
    info->n_symbols = 0;
}

const kx_symbol_rules *bn_rules_find(const bn_exchange_info *info, const char *symbol)
{
    for (size_t i = 0; i < info->n_symbols; i++)
        if (!strcmp(info->symbols[i].symbol, symbol)) return &info->symbols[i];
    return NULL;
}
