/* Fuzz target: exchangeInfo, as the Binance plugin reads it from the
 * exchange (bn_exchange_info_read) and the paper exchange from a
 * symbols_file (jansson, then bn_exchange_info_parse), and an order rounded
 * to each symbol's rules (kx_rules_prepare), the code both exchanges share.
 *
 * Input: 34 bytes of order (qty, price, stop price, reference price as
 * 8-byte integers in 1e-8, then side and type), the rest the document.
 * Checked: when both readers take the document they read the same rules
 * (a strategy that passes paper passes live); a prepared order is what the
 * rules allow (a positive quantity rounded down onto the step from the
 * minimum, within the bounds; a limit price rounded toward the trader's
 * side onto the tick); a refusal says why. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bn_rules.h"
#include "fuzz.h"

#define ORDER_BYTES 34

static int64_t i64_at(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return (int64_t)v;
}

static bool same_rules(const kx_symbol_rules *a, const kx_symbol_rules *b)
{
    return !strcmp(a->symbol, b->symbol) && !strcmp(a->quote_asset, b->quote_asset) && a->trading == b->trading &&
           a->min_price == b->min_price && a->max_price == b->max_price && a->tick == b->tick &&
           a->lot_min == b->lot_min && a->lot_max == b->lot_max && a->lot_step == b->lot_step &&
           a->mkt_min == b->mkt_min && a->mkt_max == b->mkt_max && a->mkt_step == b->mkt_step &&
           a->min_notional == b->min_notional && a->price_precision == b->price_precision &&
           a->qty_precision == b->qty_precision;
}

/* (v - base) is a whole number of steps. */
static bool on_step(qtr_dec v, qtr_dec base, qtr_dec step)
{
    return step <= 0 || ((__int128)v - base) % step == 0;
}

static void check_prepare(const kx_symbol_rules *r, const uint8_t *d)
{
    FUZZ_CHECK(memchr(r->symbol, '\0', sizeof r->symbol) != NULL, "symbol not terminated");
    qtr_order_intent o = { .qty = i64_at(d), .price = i64_at(d + 8), .stop_price = i64_at(d + 16) };
    qtr_dec ref = i64_at(d + 24);
    o.side = d[32] & 1 ? QTR_SIDE_SELL : QTR_SIDE_BUY;
    o.reduce_only = d[32] & 2;
    static const qtr_order_type types[] = { QTR_ORDER_MARKET, QTR_ORDER_LIMIT, QTR_ORDER_STOP_MARKET,
                                            QTR_ORDER_TAKE_PROFIT_MARKET };
    o.type = types[d[33] % 4];
    snprintf(o.symbol, sizeof o.symbol, "%s", r->symbol);
    kx_prepared p;
    char reason[256] = "";
    if (kx_rules_prepare(r, &o, ref, &p, reason, sizeof reason) != 0) {
        FUZZ_CHECK(reason[0] != '\0', "a refusal without a reason");
        return;
    }
    bool market = o.type != QTR_ORDER_LIMIT;
    bool mkt = market && r->mkt_step > 0;
    qtr_dec step = mkt ? r->mkt_step : r->lot_step, qmin = mkt ? r->mkt_min : r->lot_min;
    qtr_dec qmax = mkt ? r->mkt_max : r->lot_max;
    FUZZ_CHECK(p.qty > 0 && p.qty <= o.qty, "qty %lld from %lld", (long long)p.qty, (long long)o.qty);
    FUZZ_CHECK(p.qty >= qmin && (qmax <= 0 || p.qty <= qmax), "qty %lld outside the lot bounds", (long long)p.qty);
    FUZZ_CHECK(on_step(p.qty, qmin, step), "qty %lld off the step %lld", (long long)p.qty, (long long)step);
    if (o.type == QTR_ORDER_LIMIT) {
        FUZZ_CHECK(p.price > 0, "limit price %lld", (long long)p.price);
        FUZZ_CHECK(o.side == QTR_SIDE_BUY ? p.price <= o.price : p.price >= o.price,
                   "limit price %lld rounded against the trader from %lld", (long long)p.price, (long long)o.price);
        FUZZ_CHECK(on_step(p.price, r->min_price, r->tick), "price %lld off the tick", (long long)p.price);
        FUZZ_CHECK(r->max_price <= 0 || p.price <= r->max_price, "price above maxPrice");
    } else {
        FUZZ_CHECK(p.price == 0, "a market order with a price");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < ORDER_BYTES || size > (1 << 16)) return 0;
    const char *text = (const char *)data + ORDER_BYTES;
    size_t len = size - ORDER_BYTES;
    bn_exchange_info live, paper;
    char err[256] = "";
    int live_rc = bn_exchange_info_read(text, len, &live, err, sizeof err);
    if (live_rc != 0) FUZZ_CHECK(err[0] != '\0', "a refused document without a reason");
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);   /* as the paper exchange loads it */
    int paper_rc = -1;
    if (root) {
        err[0] = '\0';
        paper_rc = bn_exchange_info_parse(root, &paper, err, sizeof err);
        if (paper_rc != 0) FUZZ_CHECK(err[0] != '\0', "a refused tree without a reason");
        json_decref(root);
    }
    if (live_rc == 0 && paper_rc == 0) {
        FUZZ_CHECK(live.n_symbols == paper.n_symbols, "live read %zu symbols, paper %zu", live.n_symbols,
                   paper.n_symbols);
        for (size_t i = 0; i < live.n_symbols; i++)
            FUZZ_CHECK(same_rules(&live.symbols[i], &paper.symbols[i]), "symbol %zu (%s) read differently", i,
                       live.symbols[i].symbol);
    }
    if (live_rc == 0) {
        for (size_t i = 0; i < live.n_symbols && i < 8; i++) check_prepare(&live.symbols[i], data);
        bn_exchange_info_free(&live);
    }
    if (paper_rc == 0) bn_exchange_info_free(&paper);
    return 0;
}
