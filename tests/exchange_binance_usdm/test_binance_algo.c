/* Conditional orders (bn_algo, bn_algo_order_read): the request fields of
 * stops and trailing stops, the callback rate refused rather than rounded,
 * and the whole-algo-order reader refusing a missing or bad field by name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "bn_algo.h"
#include "bn_order_json.h"
#include "bn_rules.h"
#include "mock_host.h" /* D(): a decimal literal, aborting on a typo */

#define LIT(s) (s), (sizeof(s) - 1)

static kx_symbol_rules btc(void)
{
    kx_symbol_rules r;
    memset(&r, 0, sizeof r);
    strcpy(r.symbol, "BTCUSDT");
    r.trading = true;
    r.min_price = D("261.10");
    r.max_price = D("809484");
    r.tick = D("0.10");
    r.lot_min = r.mkt_min = D("0.001");
    r.lot_max = D("1000");
    r.mkt_max = D("120");
    r.lot_step = r.mkt_step = D("0.001");
    r.min_notional = D("100");
    r.price_precision = 2;
    r.qty_precision = 3;
    return r;
}

static qtr_order_intent trailing(uint32_t bps, const char *activation)
{
    qtr_order_intent o;
    memset(&o, 0, sizeof o);
    strcpy(o.symbol, "BTCUSDT");
    strcpy(o.client_id, "qtr-x-ts");
    o.type = QTR_ORDER_TRAILING_STOP_MARKET;
    o.side = QTR_SIDE_SELL;
    o.qty = D("0.010");
    o.reduce_only = true;
    o.callback_bps = bps;
    o.activation_price = activation ? D(activation) : 0;
    o.working_type = QTR_WORKING_MARK;
    return o;
}

static void callback_rate_texts(void **state)
{
    (void)state;
    char t[16];
    assert_true(bn_callback_rate_text(10, t, sizeof t));
    assert_string_equal(t, "0.1");
    assert_true(bn_callback_rate_text(150, t, sizeof t));
    assert_string_equal(t, "1.5");
    assert_true(bn_callback_rate_text(1000, t, sizeof t));
    assert_string_equal(t, "10.0");
    /* out of range or between two of Binance's steps: no text at all */
    assert_false(bn_callback_rate_text(0, t, sizeof t));
    assert_false(bn_callback_rate_text(5, t, sizeof t));
    assert_false(bn_callback_rate_text(15, t, sizeof t));
    assert_false(bn_callback_rate_text(1010, t, sizeof t));
    assert_string_equal(t, "");
    uint32_t bps = 0;
    assert_true(bn_callback_rate_bps(D("1.5"), &bps));
    assert_int_equal(bps, 150);
    assert_true(bn_callback_rate_bps(D("10"), &bps));
    assert_int_equal(bps, 1000);
    assert_false(bn_callback_rate_bps(D("0.155"), &bps)); /* not a whole bp */
    assert_false(bn_callback_rate_bps(D("10.1"), &bps));
    assert_false(bn_callback_rate_bps(D("-1"), &bps));
}

static void trailing_prepare_checks_and_rounds(void **state)
{
    (void)state;
    kx_symbol_rules r = btc();
    kx_prepared p;
    qtr_dec act = -1;
    char why[QTR_REASON_MAX] = "";
    qtr_order_intent o = trailing(150, "51000.05");
    assert_int_equal(bn_algo_prepare(&r, &o, D("50000"), &p, &act, why, sizeof why), 0);
    assert_int_equal(act, D("51000.1")); /* a SELL trigger rounds up to the tick */
    assert_int_equal(p.qty, D("0.010"));
    assert_int_equal(p.stop_price, 0);
    o = trailing(150, NULL);
    assert_int_equal(bn_algo_prepare(&r, &o, D("50000"), &p, &act, why, sizeof why), 0);
    assert_int_equal(act, 0); /* active at once */

    o = trailing(5, NULL);
    assert_int_equal(bn_algo_prepare(&r, &o, 0, &p, &act, why, sizeof why), -1);
    assert_string_equal(why, "callback_bps 5 is outside Binance's callbackRate range 10..1000 (0.1%..10%)");
    o = trailing(1001, NULL);
    assert_int_equal(bn_algo_prepare(&r, &o, 0, &p, &act, why, sizeof why), -1);
    assert_non_null(strstr(why, "callback_bps 1001 is outside"));
    o = trailing(155, NULL);
    assert_int_equal(bn_algo_prepare(&r, &o, 0, &p, &act, why, sizeof why), -1);
    assert_string_equal(why, "callback_bps 155 is not a multiple of 10 (callbackRate has one decimal); not rounded");
    o = trailing(150, "-1");
    assert_int_equal(bn_algo_prepare(&r, &o, 0, &p, &act, why, sizeof why), -1);
    assert_non_null(strstr(why, "activation_price must be >= 0"));
    o = trailing(150, "100");
    assert_int_equal(bn_algo_prepare(&r, &o, 0, &p, &act, why, sizeof why), -1);
    assert_string_equal(why, "activation_price 100 below minPrice 261.1");
    o = trailing(150, NULL);
    o.working_type = (qtr_working_type)7;
    assert_int_equal(bn_algo_prepare(&r, &o, 0, &p, &act, why, sizeof why), -1);
    assert_string_equal(why, "working_type 7 is neither LAST (0) nor MARK (1)");
    o = trailing(150, NULL);
    o.stop_price = D("49000");
    assert_int_equal(bn_algo_prepare(&r, &o, 0, &p, &act, why, sizeof why), -1);
    assert_non_null(strstr(why, "stop_price is not used by TRAILING_STOP_MARKET"));
    /* a stop carries no trailing fields */
    o = trailing(150, NULL);
    o.type = QTR_ORDER_STOP_MARKET;
    o.stop_price = D("49000");
    assert_int_equal(bn_algo_prepare(&r, &o, 0, &p, &act, why, sizeof why), -1);
    assert_string_equal(why, "callback_bps and activation_price are for TRAILING_STOP_MARKET only, not STOP_MARKET");
}

static const char *params_of(const qtr_order_intent *o, kx_buf *q)
{
    kx_buf_init(q);
    assert_true(bn_algo_params(q, o));
    return kx_buf_str(q);
}

static void request_fields(void **state)
{
    (void)state;
    kx_buf q;
    qtr_order_intent o = trailing(150, NULL);
    o.activation_price = D("51000.1");
    assert_string_equal(params_of(&o, &q), "callbackRate=1.5&activatePrice=51000.1&workingType=MARK_PRICE&reduceOnly=true");
    kx_buf_free(&q);
    o.activation_price = 0; /* left out: active at once */
    o.working_type = QTR_WORKING_LAST;
    assert_string_equal(params_of(&o, &q), "callbackRate=1.5&workingType=CONTRACT_PRICE&reduceOnly=true");
    kx_buf_free(&q);
    o.callback_bps = 0;
    o.type = QTR_ORDER_STOP_MARKET;
    o.stop_price = D("45000");
    assert_string_equal(params_of(&o, &q), "triggerPrice=45000&workingType=CONTRACT_PRICE&reduceOnly=true");
    kx_buf_free(&q);
    o.type = QTR_ORDER_TAKE_PROFIT_MARKET;
    o.reduce_only = false; /* said, never left to the exchange's default */
    assert_string_equal(params_of(&o, &q), "triggerPrice=45000&workingType=CONTRACT_PRICE&reduceOnly=false");
    kx_buf_free(&q);
    /* never written for an order that was not checked */
    kx_buf_init(&q);
    o = trailing(155, NULL);
    assert_false(bn_algo_params(&q, &o));
    o.type = QTR_ORDER_LIMIT;
    assert_false(bn_algo_params(&q, &o));
    kx_buf_free(&q);
}

#define TRAIL_BODY(extra)                                                                                           \
    "{\"algoId\":4100000007,\"clientAlgoId\":\"qtr-x-ts\",\"algoType\":\"CONDITIONAL\",\"orderType\":"             \
    "\"TRAILING_STOP_MARKET\",\"symbol\":\"BTCUSDT\",\"side\":\"SELL\",\"positionSide\":\"BOTH\",\"quantity\":"      \
    "\"0.010\",\"algoStatus\":\"NEW\",\"triggerPrice\":\"0\",\"price\":\"0\",\"workingType\":\"MARK_PRICE\","        \
    "\"reduceOnly\":true,\"createTime\":1767225600000" extra "}"

static void algo_order_reads_trailing_and_stop(void **state)
{
    (void)state;
    bn_algo_order a;
    char err[160] = "";
    assert_int_equal(bn_algo_order_read(LIT(TRAIL_BODY(",\"callbackRate\":\"1.5\",\"activatePrice\":\"51000.1\"")), &a,
                                        err, sizeof err),
                     0);
    assert_string_equal(a.st.client_id, "qtr-x-ts");
    assert_string_equal(a.st.algo_id, "4100000007");
    assert_int_equal(a.st.status, QTR_OS_NEW);
    assert_string_equal(a.symbol, "BTCUSDT");
    assert_int_equal(a.side, QTR_SIDE_SELL);
    assert_int_equal(a.type, QTR_ORDER_TRAILING_STOP_MARKET);
    assert_int_equal(a.qty, D("0.010"));
    assert_int_equal(a.callback_bps, 150);
    assert_int_equal(a.activation, D("51000.1"));
    assert_int_equal(a.working_type, QTR_WORKING_MARK);
    assert_true(a.reduce_only);
    /* no activatePrice: active at once */
    assert_int_equal(bn_algo_order_read(LIT(TRAIL_BODY(",\"callbackRate\":\"0.1\"")), &a, err, sizeof err), 0);
    assert_int_equal(a.activation, 0);
    assert_int_equal(a.callback_bps, 10);
    static const char stop[] =
        "{\"algoId\":9,\"clientAlgoId\":\"qtr-x-sl\",\"orderType\":\"STOP_MARKET\",\"symbol\":\"BTCUSDT\",\"side\":"
        "\"SELL\",\"quantity\":\"0.010\",\"algoStatus\":\"TRIGGERED\",\"triggerPrice\":\"45000\",\"workingType\":"
        "\"CONTRACT_PRICE\",\"reduceOnly\":false,\"actualOrderId\":4100000011}";
    assert_int_equal(bn_algo_order_read(LIT(stop), &a, err, sizeof err), 0);
    assert_int_equal(a.type, QTR_ORDER_STOP_MARKET);
    assert_int_equal(a.trigger, D("45000"));
    assert_int_equal(a.working_type, QTR_WORKING_LAST);
    assert_false(a.reduce_only);
    assert_true(a.st.triggered);
    assert_string_equal(a.st.actual_order_id, "4100000011");
}

static void algo_order_refusals_name_the_field(void **state)
{
    (void)state;
    static const struct { const char *body, *err; } cases[] = {
        { "{\"algoId\":1,\"clientAlgoId\":\"a\",\"algoStatus\":\"NEW\",\"symbol\":\"BTCUSDT\",\"side\":\"SELL\","
          "\"quantity\":\"1\",\"workingType\":\"MARK_PRICE\",\"reduceOnly\":true,\"triggerPrice\":\"1\"}",
          "algo order: field 'orderType' missing" },
        { "{\"algoId\":1,\"clientAlgoId\":\"a\",\"algoStatus\":\"NEW\",\"orderType\":\"STOP_MARKET\",\"side\":\"SELL\","
          "\"quantity\":\"1\",\"workingType\":\"MARK_PRICE\",\"reduceOnly\":true,\"triggerPrice\":\"1\"}",
          "algo order: field 'symbol' missing" },
        { "{\"algoId\":1,\"clientAlgoId\":\"a\",\"algoStatus\":\"NEW\",\"orderType\":\"STOP_MARKET\",\"symbol\":\"X\","
          "\"side\":\"SELL\",\"quantity\":\"1\",\"workingType\":\"MARK_PRICE\",\"triggerPrice\":\"1\"}",
          "algo order: field 'reduceOnly' missing" },
        { "{\"algoId\":1,\"clientAlgoId\":\"a\",\"algoStatus\":\"NEW\",\"orderType\":\"STOP_MARKET\",\"symbol\":\"X\","
          "\"side\":\"SELL\",\"quantity\":\"1\",\"workingType\":\"MARK_PRICE\",\"reduceOnly\":\"true\",\"triggerPrice\":\"1\"}",
          "algo order: field 'reduceOnly' is not a boolean" },
        { "{\"algoId\":1,\"clientAlgoId\":\"a\",\"algoStatus\":\"NEW\",\"orderType\":\"STOP_MARKET\",\"symbol\":\"X\","
          "\"side\":\"SELL\",\"quantity\":\"1\",\"workingType\":\"MARK_PRICE\",\"reduceOnly\":true}",
          "algo order a: field 'triggerPrice' missing" },
        { "{\"algoId\":1,\"clientAlgoId\":\"a\",\"algoStatus\":\"NEW\",\"orderType\":\"STOP_MARKET\",\"symbol\":\"X\","
          "\"side\":\"SELL\",\"quantity\":\"1\",\"workingType\":\"INDEX_PRICE\",\"reduceOnly\":true,\"triggerPrice\":\"1\"}",
          "algo order a: field 'workingType': unknown 'INDEX_PRICE'" },
        { "{\"algoId\":1,\"clientAlgoId\":\"a\",\"algoStatus\":\"NEW\",\"orderType\":\"LIMIT\",\"symbol\":\"X\","
          "\"side\":\"SELL\",\"quantity\":\"1\",\"workingType\":\"MARK_PRICE\",\"reduceOnly\":true,\"triggerPrice\":\"1\"}",
          "algo order a: field 'orderType': 'LIMIT' is not a conditional type we place" },
        { "{\"algoId\":1,\"clientAlgoId\":\"a\",\"algoStatus\":\"NEW\",\"orderType\":\"STOP_MARKET\",\"symbol\":\"X\","
          "\"side\":\"HOLD\",\"quantity\":\"1\",\"workingType\":\"MARK_PRICE\",\"reduceOnly\":true,\"triggerPrice\":\"1\"}",
          "algo order a: field 'side': unknown side 'HOLD'" },
        { "{\"algoId\":1,\"clientAlgoId\":\"a\",\"algoStatus\":\"NEW\",\"orderType\":\"STOP_MARKET\",\"symbol\":\"X\","
          "\"side\":\"SELL\",\"quantity\":\"0\",\"workingType\":\"MARK_PRICE\",\"reduceOnly\":true,\"triggerPrice\":\"1\"}",
          "algo order a: field 'quantity' is not positive" },
        { TRAIL_BODY(""), "algo order qtr-x-ts: field 'callbackRate' missing" },
        { TRAIL_BODY(",\"callbackRate\":1.5"), "algo order qtr-x-ts: field 'callbackRate' is not a decimal string" },
        { TRAIL_BODY(",\"callbackRate\":\"0.155\""),
          "algo order qtr-x-ts: field 'callbackRate': not a rate of 0.01..10 (%) in whole bps" },
        { TRAIL_BODY(",\"callbackRate\":\"11\""),
          "algo order qtr-x-ts: field 'callbackRate': not a rate of 0.01..10 (%) in whole bps" },
        { TRAIL_BODY(",\"callbackRate\":\"1\",\"activatePrice\":\"-5\""),
          "algo order qtr-x-ts: field 'activatePrice' is negative" },
        { TRAIL_BODY(",\"callbackRate\":\"1\",\"activatePrice\":null"),
          "algo order qtr-x-ts: field 'activatePrice' is not a decimal string" },
        { "[1]", "algo order is not a JSON object" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bn_algo_order a;
        char err[160] = "";
        if (bn_algo_order_read(cases[i].body, strlen(cases[i].body), &a, err, sizeof err) != -1)
            fail_msg("case %zu read: %s", i, cases[i].body);
        if (strcmp(err, cases[i].err) != 0) fail_msg("case %zu: '%s', want '%s'", i, err, cases[i].err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(callback_rate_texts),
        cmocka_unit_test(trailing_prepare_checks_and_rounds),
        cmocka_unit_test(request_fields),
        cmocka_unit_test(algo_order_reads_trailing_and_stop),
        cmocka_unit_test(algo_order_refusals_name_the_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
