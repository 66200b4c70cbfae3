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

static int parse_filter(const json_t *f, bn_symbol_rules *r, char *err, size_t errlen)
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

static int parse_symbol(const json_t *s, bn_symbol_rules *r, char *err, size_t errlen)
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

const bn_symbol_rules *bn_rules_find(const bn_exchange_info *info, const char *symbol)
{
    for (size_t i = 0; i < info->n_symbols; i++)
        if (!strcmp(info->symbols[i].symbol, symbol)) return &info->symbols[i];
    return NULL;
}

/* Round v to a multiple of step counted from base (Binance: (v - min) % step == 0). */
static bool round_from(qtr_dec v, qtr_dec base, qtr_dec step, qtr_rounding mode, qtr_dec *out)
{
    qtr_dec off, r;
    if (!qtr_dec_sub(v, base, &off) || !qtr_dec_round_step(off, step, mode, &r)) return false;
    return qtr_dec_add(r, base, out);
}

static int decimals_of(qtr_dec v)
{
    int d = 0;
    for (qtr_dec f = qtr_dec_abs(v) % QTR_DEC_SCALE; f; f = (f * 10) % QTR_DEC_SCALE) d++;
    return d;
}

static int round_price(const bn_symbol_rules *r, const char *what, qtr_dec in, qtr_side side, qtr_dec *out,
                       char *reason, size_t len)
{
    char a[QTR_DEC_STRLEN], b[QTR_DEC_STRLEN];
    if (in <= 0) {
        snprintf(reason, len, "%s must be > 0", what);
        return -1;
    }
    qtr_dec p = in;
    if (r->tick > 0) {
        qtr_rounding mode = side == QTR_SIDE_BUY ? QTR_ROUND_FLOOR : QTR_ROUND_CEIL;
        if (!round_from(in, r->min_price, r->tick, mode, &p)) {
            snprintf(reason, len, "%s out of range", what);
            return -1;
        }
    }
    if (p <= 0 || (r->min_price > 0 && p < r->min_price)) {
        snprintf(reason, len, "%s %s below minPrice %s", what, qtr_dec_format(p, a), qtr_dec_format(r->min_price, b));
        return -1;
    }
    if (r->max_price > 0 && p > r->max_price) {
        snprintf(reason, len, "%s %s above maxPrice %s", what, qtr_dec_format(p, a), qtr_dec_format(r->max_price, b));
        return -1;
    }
    if (decimals_of(p) > r->price_precision) {
        snprintf(reason, len, "%s %s has more than %d decimals", what, qtr_dec_format(p, a), r->price_precision);
        return -1;
    }
    *out = p;
    return 0;
}

int bn_rules_prepare(const bn_symbol_rules *r, const qtr_order_intent *o, qtr_dec ref_price, bn_prepared *out,
                     char *reason, size_t len)
{
    char a[QTR_DEC_STRLEN], b[QTR_DEC_STRLEN], c[QTR_DEC_STRLEN];
    memset(out, 0, sizeof *out);
    if (!r->trading) {
        snprintf(reason, len, "symbol %s is not trading", r->symbol);
        return -1;
    }
    bool market = o->type == QTR_ORDER_MARKET || o->type == QTR_ORDER_STOP_MARKET ||
                  o->type == QTR_ORDER_TAKE_PROFIT_MARKET;
    bool use_mkt = market && r->mkt_step > 0;
    qtr_dec step = use_mkt ? r->mkt_step : r->lot_step;
    qtr_dec qmin = use_mkt ? r->mkt_min : r->lot_min;
    qtr_dec qmax = use_mkt ? r->mkt_max : r->lot_max;
    const char *filter = use_mkt ? "MARKET_LOT_SIZE" : "LOT_SIZE";
    if (o->qty <= 0) {
        snprintf(reason, len, "qty must be > 0");
        return -1;
    }
    qtr_dec q;
    if (!round_from(o->qty, qmin, step, QTR_ROUND_FLOOR, &q)) {
        snprintf(reason, len, "qty out of range");
        return -1;
    }
    if (q <= 0 || q < qmin) {
        snprintf(reason, len, "qty %s is below %s minQty %s (step %s)", qtr_dec_format(o->qty, a), filter,
                 qtr_dec_format(qmin, b), qtr_dec_format(step, c));
        return -1;
    }
    if (qmax > 0 && q > qmax) {
        snprintf(reason, len, "qty %s is above %s maxQty %s", qtr_dec_format(q, a), filter, qtr_dec_format(qmax, b));
        return -1;
    }
    if (decimals_of(q) > r->qty_precision) {
        snprintf(reason, len, "qty %s has more than %d decimals", qtr_dec_format(q, a), r->qty_precision);
        return -1;
    }
    out->qty = q;
    if (o->type == QTR_ORDER_LIMIT && round_price(r, "price", o->price, o->side, &out->price, reason, len) != 0)
        return -1;
    if ((o->type == QTR_ORDER_STOP_MARKET || o->type == QTR_ORDER_TAKE_PROFIT_MARKET) &&
        round_price(r, "stop_price", o->stop_price, o->side, &out->stop_price, reason, len) != 0)
        return -1;
    /* MIN_NOTIONAL: reduce-only orders are exempt, as on the exchange. */
    qtr_dec value_price = o->type == QTR_ORDER_LIMIT ? out->price : ref_price;
    if (r->min_notional > 0 && !o->reduce_only && value_price > 0) {
        qtr_dec notional;
        if (!qtr_dec_mul(q, value_price, QTR_ROUND_DOWN, &notional)) {
            snprintf(reason, len, "notional out of range");
            return -1;
        }
        if (notional < r->min_notional) {
            snprintf(reason, len, "notional %s is below MIN_NOTIONAL %s", qtr_dec_format(notional, a),
                     qtr_dec_format(r->min_notional, b));
            return -1;
        }
    }
    return 0;
}
