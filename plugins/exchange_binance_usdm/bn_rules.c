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

/* The object s[0..n) into f's slots; a value that is no object leaves every
 * slot empty, so its fields read as missing. */
static void read_fields(const bn_jval *v, bn_jfield *f, size_t nf)
{
    if (bn_jread_object(v->p, v->n, f, nf, NULL, 0) != 0)
        for (size_t i = 0; i < nf; i++) f[i].val = (bn_jval){ NULL, 0, BN_JNONE, 0 };
}

typedef struct symbol_ctx {
    kx_symbol_rules *r;
    char *err;
    size_t errlen;
} symbol_ctx;

/* One of a symbol's filters; the kinds not used here are skipped. */
static int parse_filter(void *ud, size_t i, const bn_jval *v)
{
    (void)i;
    symbol_ctx *c = ud;
    kx_symbol_rules *r = c->r;
    char type[32], e[128];
    enum { TYPE, MIN_PRICE, MAX_PRICE, TICK, MIN_QTY, MAX_QTY, STEP, NOTIONAL, NF };
    bn_jfield f[NF] = { BN_JFIELD("filterType"), BN_JFIELD("minPrice"), BN_JFIELD("maxPrice"), BN_JFIELD("tickSize"),
                        BN_JFIELD("minQty"), BN_JFIELD("maxQty"), BN_JFIELD("stepSize"), BN_JFIELD("notional") };
    read_fields(v, f, NF);
    if (!bn_jget_str(&f[TYPE].val, "filterType", type, sizeof type, e, sizeof e)) {
        snprintf(c->err, c->errlen, "%s: filter: %s", r->symbol, e);
        return -1;
    }
    bool ok = true;
    if (!strcmp(type, "PRICE_FILTER")) {
        ok = bn_jget_dec(&f[MIN_PRICE].val, "minPrice", &r->min_price, e, sizeof e) &&
             bn_jget_dec(&f[MAX_PRICE].val, "maxPrice", &r->max_price, e, sizeof e) &&
             bn_jget_dec(&f[TICK].val, "tickSize", &r->tick, e, sizeof e);
    } else if (!strcmp(type, "LOT_SIZE")) {
        ok = bn_jget_dec(&f[MIN_QTY].val, "minQty", &r->lot_min, e, sizeof e) &&
             bn_jget_dec(&f[MAX_QTY].val, "maxQty", &r->lot_max, e, sizeof e) &&
             bn_jget_dec(&f[STEP].val, "stepSize", &r->lot_step, e, sizeof e);
    } else if (!strcmp(type, "MARKET_LOT_SIZE")) {
        ok = bn_jget_dec(&f[MIN_QTY].val, "minQty", &r->mkt_min, e, sizeof e) &&
             bn_jget_dec(&f[MAX_QTY].val, "maxQty", &r->mkt_max, e, sizeof e) &&
             bn_jget_dec(&f[STEP].val, "stepSize", &r->mkt_step, e, sizeof e);
    } else if (!strcmp(type, "MIN_NOTIONAL")) {
        ok = bn_jget_dec(&f[NOTIONAL].val, "notional", &r->min_notional, e, sizeof e);
    }
    if (!ok) {
        snprintf(c->err, c->errlen, "%s: %s: %s", r->symbol, type, e);
        return -1;
    }
    return 0;
}

static int parse_symbol(const bn_jval *v, kx_symbol_rules *r, char *err, size_t errlen)
{
    char e[128], status[32];
    memset(r, 0, sizeof *r);
    enum { SYMBOL, STATUS, QUOTE, PRICE_PREC, QTY_PREC, FILTERS, NF };
    bn_jfield f[NF] = { BN_JFIELD("symbol"), BN_JFIELD("status"), BN_JFIELD("quoteAsset"),
                        BN_JFIELD("pricePrecision"), BN_JFIELD("quantityPrecision"), BN_JFIELD("filters") };
    read_fields(v, f, NF);
    if (!bn_jget_str(&f[SYMBOL].val, "symbol", r->symbol, sizeof r->symbol, e, sizeof e)) {
        snprintf(err, errlen, "symbols[]: %s", e);
        return -1;
    }
    if (!bn_jget_str(&f[STATUS].val, "status", status, sizeof status, e, sizeof e)) {
        snprintf(err, errlen, "%s: %s", r->symbol, e);
        return -1;
    }
    r->trading = !strcmp(status, "TRADING");
    if (!bn_jget_str(&f[QUOTE].val, "quoteAsset", r->quote_asset, sizeof r->quote_asset, e, sizeof e)) {
        snprintf(err, errlen, "%s: %s", r->symbol, e);
        return -1;
    }
    int64_t pp = 8, qp = 8;
    if ((f[PRICE_PREC].val.type != BN_JNONE && !bn_jget_int(&f[PRICE_PREC].val, "pricePrecision", &pp, e, sizeof e)) ||
        (f[QTY_PREC].val.type != BN_JNONE && !bn_jget_int(&f[QTY_PREC].val, "quantityPrecision", &qp, e, sizeof e))) {
        snprintf(err, errlen, "%s: %s", r->symbol, e);
        return -1;
    }
    r->price_precision = (int)(pp < 0 ? 0 : pp > 8 ? 8 : pp);
    r->qty_precision = (int)(qp < 0 ? 0 : qp > 8 ? 8 : qp);
    const bn_jval *filters = &f[FILTERS].val;
    if (filters->type != BN_JARRAY) {
        snprintf(err, errlen, "%s: field 'filters' missing or not an array", r->symbol);
        return -1;
    }
    symbol_ctx c = { r, err, errlen };
    if (bn_jread_each(filters->p, filters->n, parse_filter, &c, NULL, 0) != 0) return -1;
    if (r->lot_step <= 0) {
        snprintf(err, errlen, "%s: LOT_SIZE.stepSize missing or zero", r->symbol);
        return -1;
    }
    return 0;
}

/* Where the array readers below put what they read, and their error. */
typedef struct info_ctx {
    bn_exchange_info *out;
    char *err;
    size_t errlen;
} info_ctx;

static int parse_limit(void *ud, size_t i, const bn_jval *v)
{
    info_ctx *c = ud;
    char type[32], interval[16], e[128];
    int64_t num, limit;
    bn_jfield f[] = { BN_JFIELD("rateLimitType"), BN_JFIELD("interval"), BN_JFIELD("intervalNum"), BN_JFIELD("limit") };
    read_fields(v, f, 4);
    if (!bn_jget_str(&f[0].val, "rateLimitType", type, sizeof type, e, sizeof e) ||
        !bn_jget_str(&f[1].val, "interval", interval, sizeof interval, e, sizeof e) ||
        !bn_jget_int(&f[2].val, "intervalNum", &num, e, sizeof e) || !bn_jget_int(&f[3].val, "limit", &limit, e, sizeof e)) {
        snprintf(c->err, c->errlen, "rateLimits[%zu]: %s", i, e);
        return -1;
    }
    bn_limit_kind kind = !strcmp(type, "REQUEST_WEIGHT") ? BN_LIMIT_WEIGHT
                         : !strcmp(type, "ORDERS")       ? BN_LIMIT_ORDERS
                                                         : 0;
    int64_t ms = bn_interval_ms(interval, num);
    if (!kind) return 0; /* RAW_REQUESTS and others: not tracked */
    if (ms <= 0 || limit <= 0) {
        snprintf(c->err, c->errlen, "rateLimits[%zu]: bad interval or limit", i);
        return -1;
    }
    if (c->out->n_limits < BN_MAX_LIMITS) c->out->limits[c->out->n_limits++] = (bn_limit_spec){ kind, ms, limit };
    return 0;
}

static int parse_symbol_at(void *ud, size_t i, const bn_jval *v)
{
    info_ctx *c = ud;
    if (parse_symbol(v, &c->out->symbols[i], c->err, c->errlen) != 0) return -1;
    c->out->n_symbols = i + 1;
    return 0;
}

int bn_exchange_info_read(const char *text, size_t len, bn_exchange_info *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    bn_jfield f[] = { BN_JFIELD("symbols"), BN_JFIELD("rateLimits") };
    int rc = bn_jread_object(text, len, f, 2, err, errlen);
    if (rc == -1) return -1;
    const bn_jval *syms = &f[0].val, *limits = &f[1].val;
    if (rc != 0 || syms->type != BN_JARRAY) {
        snprintf(err, errlen, "field 'symbols' missing or not an array");
        return -1;
    }
    info_ctx lc = { out, err, errlen };
    if (limits->type == BN_JARRAY && bn_jread_each(limits->p, limits->n, parse_limit, &lc, NULL, 0) != 0) return -1;
    long n = bn_jread_elems(syms->p, syms->n, NULL, 0, NULL, 0);
    out->symbols = calloc(n > 0 ? (size_t)n : 1, sizeof *out->symbols);
    if (!out->symbols) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    info_ctx sc = { out, err, errlen };
    if (bn_jread_each(syms->p, syms->n, parse_symbol_at, &sc, NULL, 0) != 0) {
        bn_exchange_info_free(out);
        return -1;
    }
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
