/* The kit's symbol rules (kx_rules) on rules a plugin filled by hand, as a
 * second exchange would from its own instrument list: steps and ticks
 * counted from the minimum, the passive side for prices, decimals,
 * MIN_NOTIONAL, and bounds left at 0 not checked. (Binance's exchangeInfo
 * into these rules: tests/exchange_binance_usdm/test_binance_rules.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "kx_rules.h"
#include "mock_host.h"

/* XRP-like: tick 0.0001 from 0.0143, step 0.1 from 0.1, min notional 5. */
static kx_symbol_rules xrp(void)
{
    kx_symbol_rules r;
    memset(&r, 0, sizeof r);
    strcpy(r.symbol, "XRPUSDT");
    strcpy(r.quote_asset, "USDT");
    r.trading = true;
    r.min_price = D("0.0143");
    r.max_price = D("100000");
    r.tick = D("0.0001");
    r.lot_min = D("0.1");
    r.lot_max = D("10000000");
    r.lot_step = D("0.1");
    r.min_notional = D("5");
    r.price_precision = 4;
    r.qty_precision = 1;
    return r;
}

static qtr_order_intent order(qtr_order_type type, qtr_side side, const char *qty, const char *price, bool ro)
{
    qtr_order_intent o;
    memset(&o, 0, sizeof o);
    strcpy(o.symbol, "XRPUSDT");
    o.type = type;
    o.side = side;
    o.qty = D(qty);
    if (price) o.price = D(price);
    o.reduce_only = ro;
    return o;
}

static void rounds_from_the_minimum_toward_the_passive_side(void **state)
{
    (void)state;
    kx_symbol_rules r = xrp();
    kx_prepared p;
    char why[128];
    qtr_order_intent o = order(QTR_ORDER_LIMIT, QTR_SIDE_BUY, "12.37", "0.52347", false);
    assert_int_equal(kx_rules_prepare(&r, &o, 0, &p, why, sizeof why), 0);
    assert_int_equal(p.qty, D("12.3"));     /* down to the step */
    assert_int_equal(p.price, D("0.5234")); /* a buy: down */
    o.side = QTR_SIDE_SELL;
    assert_int_equal(kx_rules_prepare(&r, &o, 0, &p, why, sizeof why), 0);
    assert_int_equal(p.price, D("0.5235")); /* a sell: up */
    /* counted from minPrice: with min 0.05 and tick 0.1, 1.27 is 1.25 (not 1.2) */
    r.min_price = D("0.05");
    r.tick = D("0.1");
    r.price_precision = 2;
    o = order(QTR_ORDER_LIMIT, QTR_SIDE_BUY, "10", "1.27", false);
    assert_int_equal(kx_rules_prepare(&r, &o, 0, &p, why, sizeof why), 0);
    assert_int_equal(p.price, D("1.25"));
}

static void refusals_name_the_filter_and_the_numbers(void **state)
{
    (void)state;
    kx_symbol_rules r = xrp();
    kx_prepared p;
    char why[128];
    qtr_order_intent o = order(QTR_ORDER_LIMIT, QTR_SIDE_BUY, "0.09", "0.5", false);
    assert_int_equal(kx_rules_prepare(&r, &o, 0, &p, why, sizeof why), -1);
    assert_non_null(strstr(why, "LOT_SIZE minQty 0.1"));
    o = order(QTR_ORDER_LIMIT, QTR_SIDE_BUY, "9", "0.5", false); /* 4.5 < 5 */
    assert_int_equal(kx_rules_prepare(&r, &o, 0, &p, why, sizeof why), -1);
    assert_non_null(strstr(why, "notional 4.5"));
    assert_non_null(strstr(why, "MIN_NOTIONAL 5"));
    o.reduce_only = true; /* exempt, as on the exchange */
    assert_int_equal(kx_rules_prepare(&r, &o, 0, &p, why, sizeof why), 0);
    /* a market order is valued at the reference price, unchecked without one */
    o = order(QTR_ORDER_MARKET, QTR_SIDE_BUY, "9", NULL, false);
    assert_int_equal(kx_rules_prepare(&r, &o, D("0.5"), &p, why, sizeof why), -1);
    assert_int_equal(kx_rules_prepare(&r, &o, D("0.6"), &p, why, sizeof why), 0);
    assert_int_equal(kx_rules_prepare(&r, &o, 0, &p, why, sizeof why), 0);
    assert_int_equal(p.price, 0);
    r.trading = false;
    assert_int_equal(kx_rules_prepare(&r, &o, 0, &p, why, sizeof why), -1);
    assert_non_null(strstr(why, "XRPUSDT is not trading"));
}

static void decimals_and_unset_bounds(void **state)
{
    (void)state;
    kx_symbol_rules r;
    memset(&r, 0, sizeof r);   /* an exchange that gives only a step and decimals */
    strcpy(r.symbol, "XRPUSDT");
    r.trading = true;
    r.lot_step = D("0.01");
    r.price_precision = 3;
    r.qty_precision = 2;
    kx_prepared p;
    char why[128];
    qtr_order_intent o = order(QTR_ORDER_LIMIT, QTR_SIDE_BUY, "1234567.899", "0.123", false);
    assert_int_equal(kx_rules_prepare(&r, &o, 0, &p, why, sizeof why), 0); /* no max, no min notional */
    assert_int_equal(p.qty, D("1234567.89"));
    assert_int_equal(p.price, D("0.123"));   /* no tick: the price as given */
    o.price = D("0.1234");
    assert_int_equal(kx_rules_prepare(&r, &o, 0, &p, why, sizeof why), -1);
    assert_non_null(strstr(why, "more than 3 decimals"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rounds_from_the_minimum_toward_the_passive_side),
        cmocka_unit_test(refusals_name_the_filter_and_the_numbers),
        cmocka_unit_test(decimals_and_unset_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
