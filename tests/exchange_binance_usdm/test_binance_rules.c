/* Instrument rules: exchangeInfo parsing and fixed-point rounding of orders
 * to tick and step, with refusals before anything is sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "bn_rules.h"
#include "mock_host.h" /* D(): a decimal literal, aborting on a typo */

static const char info_json[] =
    "{\"timezone\":\"UTC\",\"serverTime\":1767225600000,\"exchangeFilters\":[],"
    "\"rateLimits\":[{\"rateLimitType\":\"REQUEST_WEIGHT\",\"interval\":\"MINUTE\",\"intervalNum\":1,\"limit\":2400},"
    "{\"rateLimitType\":\"ORDERS\",\"interval\":\"MINUTE\",\"intervalNum\":1,\"limit\":1200},"
    "{\"rateLimitType\":\"ORDERS\",\"interval\":\"SECOND\",\"intervalNum\":10,\"limit\":300}],"
    "\"symbols\":[{\"symbol\":\"BTCUSDT\",\"status\":\"TRADING\",\"quoteAsset\":\"USDT\",\"pricePrecision\":2,\"quantityPrecision\":3,"
    "\"filters\":[{\"filterType\":\"PRICE_FILTER\",\"minPrice\":\"261.10\",\"maxPrice\":\"809484\",\"tickSize\":\"0.10\"},"
    "{\"filterType\":\"LOT_SIZE\",\"minQty\":\"0.001\",\"maxQty\":\"1000\",\"stepSize\":\"0.001\"},"
    "{\"filterType\":\"MARKET_LOT_SIZE\",\"minQty\":\"0.001\",\"maxQty\":\"120\",\"stepSize\":\"0.001\"},"
    "{\"filterType\":\"MAX_NUM_ORDERS\",\"limit\":200},{\"filterType\":\"MIN_NOTIONAL\",\"notional\":\"100\"}]},"
    "{\"symbol\":\"OLDUSDT\",\"status\":\"SETTLING\",\"quoteAsset\":\"USDT\",\"filters\":[{\"filterType\":\"LOT_SIZE\",\"minQty\":\"1\","
    "\"maxQty\":\"10\",\"stepSize\":\"1\"}]}]}";

static bn_exchange_info info;

static int setup(void **state)
{
    (void)state;
    char err[160];
    return bn_exchange_info_read(info_json, strlen(info_json), &info, err, sizeof err);
}

static int teardown(void **state)
{
    (void)state;
    bn_exchange_info_free(&info);
    return 0;
}

static int prep(qtr_order_type type, qtr_side side, const char *qty, const char *price, qtr_dec ref, bool ro,
                kx_prepared *out, char *reason)
{
    qtr_order_intent o;
    memset(&o, 0, sizeof o);
    strcpy(o.symbol, "BTCUSDT");
    o.type = type;
    o.side = side;
    o.qty = D(qty);
    if (type == QTR_ORDER_LIMIT) o.price = D(price);
    if (type == QTR_ORDER_STOP_MARKET) o.stop_price = D(price);
    o.reduce_only = ro;
    return kx_rules_prepare(bn_rules_find(&info, "BTCUSDT"), &o, ref, out, reason, 96);
}

static void parses_filters_and_limits(void **state)
{
    (void)state;
    const kx_symbol_rules *r = bn_rules_find(&info, "BTCUSDT");
    assert_non_null(r);
    assert_true(r->trading);
    assert_string_equal(r->quote_asset, "USDT");
    assert_int_equal(r->tick, 10000000);      /* 0.10 */
    assert_int_equal(r->min_price, 26110000000);
    assert_int_equal(r->lot_step, 100000);    /* 0.001 */
    assert_int_equal(r->mkt_max, 12000000000);
    assert_int_equal(r->min_notional, 10000000000);
    assert_int_equal(r->price_precision, 2);
    assert_int_equal(info.n_limits, 3);
    assert_int_equal(info.limits[0].kind, BN_LIMIT_WEIGHT);
    assert_int_equal(info.limits[0].interval_ms, 60000);
    assert_int_equal(info.limits[0].limit, 2400);
    assert_int_equal(info.limits[2].interval_ms, 10000);
    assert_int_equal(info.limits[2].limit, 300);
    assert_false(bn_rules_find(&info, "OLDUSDT")->trading);
    assert_null(bn_rules_find(&info, "NOPE"));
}

static void qty_rounds_down_to_step(void **state)
{
    (void)state;
    kx_prepared p;
    char reason[96];
    assert_int_equal(prep(QTR_ORDER_LIMIT, QTR_SIDE_BUY, "0.0109", "50000", 0, false, &p, reason), 0);
    assert_int_equal(p.qty, D("0.010"));
    assert_int_equal(prep(QTR_ORDER_MARKET, QTR_SIDE_SELL, "1.23456789", NULL, D("50000"), false, &p, reason), 0);
    assert_int_equal(p.qty, D("1.234"));
}

static void price_rounds_toward_the_passive_side(void **state)
{
    (void)state;
    kx_prepared p;
    char reason[96];
    /* (price - minPrice) must be a multiple of the tick: 261.10 + k * 0.10 */
    assert_int_equal(prep(QTR_ORDER_LIMIT, QTR_SIDE_BUY, "0.01", "45000.17", 0, false, &p, reason), 0);
    assert_int_equal(p.price, D("45000.1"));
    assert_int_equal(prep(QTR_ORDER_LIMIT, QTR_SIDE_SELL, "0.01", "45000.11", 0, false, &p, reason), 0);
    assert_int_equal(p.price, D("45000.2"));
    /* on the grid already: unchanged either way */
    assert_int_equal(prep(QTR_ORDER_LIMIT, QTR_SIDE_SELL, "0.01", "45000.3", 0, false, &p, reason), 0);
    assert_int_equal(p.price, D("45000.3"));
    /* trigger prices follow the same rule */
    assert_int_equal(prep(QTR_ORDER_STOP_MARKET, QTR_SIDE_SELL, "0.01", "40000.01", 0, true, &p, reason), 0);
    assert_int_equal(p.stop_price, D("40000.1"));
    assert_int_equal(p.price, 0);
}

static void refusals_name_the_filter(void **state)
{
    (void)state;
    kx_prepared p;
    char reason[96];
    assert_int_equal(prep(QTR_ORDER_LIMIT, QTR_SIDE_BUY, "0.0009", "50000", 0, false, &p, reason), -1);
    assert_non_null(strstr(reason, "minQty"));
    assert_int_equal(prep(QTR_ORDER_LIMIT, QTR_SIDE_BUY, "1000.5", "50000", 0, false, &p, reason), -1);
    assert_non_null(strstr(reason, "maxQty"));
    /* MARKET uses MARKET_LOT_SIZE: 121 is within LOT_SIZE (1000) but not 120 */
    assert_int_equal(prep(QTR_ORDER_MARKET, QTR_SIDE_BUY, "121", NULL, D("1000"), false, &p, reason), -1);
    assert_non_null(strstr(reason, "MARKET_LOT_SIZE"));
    assert_int_equal(prep(QTR_ORDER_LIMIT, QTR_SIDE_BUY, "0.01", "200", 0, false, &p, reason), -1);
    assert_non_null(strstr(reason, "minPrice"));
    /* 0.001 * 50000 = 50 < 100 */
    assert_int_equal(prep(QTR_ORDER_LIMIT, QTR_SIDE_BUY, "0.001", "50000", 0, false, &p, reason), -1);
    assert_non_null(strstr(reason, "MIN_NOTIONAL"));
    /* reduce-only is exempt from MIN_NOTIONAL, as on the exchange */
    assert_int_equal(prep(QTR_ORDER_LIMIT, QTR_SIDE_SELL, "0.001", "50000", 0, true, &p, reason), 0);
    /* MARKET: valued at the reference price when known; 0.002 * 60000 = 120 passes, * 40000 = 80 fails */
    assert_int_equal(prep(QTR_ORDER_MARKET, QTR_SIDE_BUY, "0.002", NULL, D("60000"), false, &p, reason), 0);
    assert_int_equal(prep(QTR_ORDER_MARKET, QTR_SIDE_BUY, "0.002", NULL, D("40000"), false, &p, reason), -1);
    assert_int_equal(prep(QTR_ORDER_LIMIT, QTR_SIDE_BUY, "0", "50000", 0, false, &p, reason), -1);
}

static void symbol_not_trading_is_refused(void **state)
{
    (void)state;
    qtr_order_intent o;
    memset(&o, 0, sizeof o);
    strcpy(o.symbol, "OLDUSDT");
    o.type = QTR_ORDER_MARKET;
    o.side = QTR_SIDE_BUY;
    o.qty = QTR_DEC_INT(2);
    kx_prepared p;
    char reason[96];
    assert_int_equal(kx_rules_prepare(bn_rules_find(&info, "OLDUSDT"), &o, 0, &p, reason, sizeof reason), -1);
    assert_non_null(strstr(reason, "not trading"));
}

static int read_info(const char *text, bn_exchange_info *out, char *err, size_t errlen)
{
    return bn_exchange_info_read(text, strlen(text), out, err, errlen);
}

static void bad_exchange_info_is_refused_with_where(void **state)
{
    (void)state;
    bn_exchange_info bad;
    char err[160];
    assert_int_equal(read_info("{\"symbols\":[{\"symbol\":\"X\",\"status\":\"TRADING\",\"quoteAsset\":\"USDT\",\"filters\":"
                               "[{\"filterType\":\"PRICE_FILTER\",\"minPrice\":0.1,\"maxPrice\":\"1\",\"tickSize\":\"0.1\"}]}]}",
                               &bad, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "X: PRICE_FILTER"));
    assert_non_null(strstr(err, "minPrice"));
    /* Fees are charged in the quote asset: without it a fee could not be read. */
    assert_int_equal(read_info("{\"symbols\":[{\"symbol\":\"Y\",\"status\":\"TRADING\",\"filters\":[]}]}", &bad, err,
                               sizeof err),
                     -1);
    assert_non_null(strstr(err, "Y: field 'quoteAsset'"));
    assert_int_equal(read_info("{\"rateLimits\":[]}", &bad, err, sizeof err), -1);
    assert_non_null(strstr(err, "symbols"));
    /* not JSON: the byte where it breaks */
    assert_int_equal(read_info("{\"symbols\":[}", &bad, err, sizeof err), -1);
    assert_non_null(strstr(err, "invalid JSON at byte 12"));
    /* a filter that is no object reads as one without a filterType */
    assert_int_equal(read_info("{\"symbols\":[{\"symbol\":\"Z\",\"status\":\"TRADING\",\"quoteAsset\":\"USDT\",\"filters\":[7]}]}",
                               &bad, err, sizeof err),
                     -1);
    assert_string_equal(err, "Z: filter: field 'filterType' missing");
}

/* The paper exchange loads its symbols_file with jansson: the tree reads the
 * same as its text. */
static void a_jansson_tree_reads_the_same(void **state)
{
    (void)state;
    bn_exchange_info again;
    char err[160];
    json_t *j = json_loads(info_json, 0, NULL);
    assert_int_equal(bn_exchange_info_parse(j, &again, err, sizeof err), 0);
    json_decref(j);
    assert_int_equal(again.n_symbols, info.n_symbols);
    assert_int_equal(again.n_limits, info.n_limits);
    assert_memory_equal(again.symbols, info.symbols, sizeof *info.symbols * info.n_symbols);
    bn_exchange_info_free(&again);
    assert_int_equal(bn_exchange_info_parse(NULL, &again, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_filters_and_limits), cmocka_unit_test(qty_rounds_down_to_step),
        cmocka_unit_test(price_rounds_toward_the_passive_side), cmocka_unit_test(refusals_name_the_filter),
        cmocka_unit_test(symbol_not_trading_is_refused), cmocka_unit_test(bad_exchange_info_is_refused_with_where),
        cmocka_unit_test(a_jansson_tree_reads_the_same),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
