/* Fills are the exchange's executions (GET /fapi/v1/userTrades), each with
 * its own price and commission: the fee the portfolio books is the fee the
 * exchange charged, and an order's state never runs ahead of its fills. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bn_fixture.h"

static qtr_dec jdec(json_t *obj, const char *key)
{
    qtr_dec v = 0;
    const char *t = json_string_value(json_object_get(obj, key));
    assert_non_null(t);
    assert_int_equal(qtr_dec_parse(t, (size_t)-1, &v), QTR_DEC_OK);
    return v;
}

/* The fill is the execution: its id, time, price, quantity, side, maker flag and commission. */
static void expect_fill_is_trade(const qtr_fill *f, json_t *t)
{
    char id[QTR_CLIENT_ID_MAX];
    assert_non_null(f);
    assert_non_null(t);
    snprintf(id, sizeof id, "%s:%lld:%c", json_string_value(json_object_get(t, "symbol")),
             (long long)json_integer_value(json_object_get(t, "id")),
             !strcmp(json_string_value(json_object_get(t, "side")), "BUY") ? 'B' : 'S');
    assert_string_equal(f->fill_id, id);
    assert_int_equal(f->time_ms, json_integer_value(json_object_get(t, "time")));
    assert_int_equal(f->qty, jdec(t, "qty"));
    assert_int_equal(f->price, jdec(t, "price"));
    assert_int_equal(f->maker, json_is_true(json_object_get(t, "maker")));
}

static void taker_fill_carries_the_exchange_commission(void **state)
{
    bn_fx *fx = fx_loaded(state);
    const qtr_order_update *u = fx_market_buy(fx, "fee-1");
    assert_int_equal(u->status, QTR_OS_FILLED);
    assert_int_equal(fx_fills(fx, "fee-1", NULL), 1);
    const qtr_fill *f = fx_fill(fx, "fee-1", 0);
    json_t *st = mx_state(fx->mx);
    expect_fill_is_trade(f, mx_trade(st, "fee-1", 0));
    /* 0.010 x 50000 = 500 quote at the taker rate 0.0005 */
    assert_int_equal(f->fee, D("0.25"));
    assert_false(f->maker);
    assert_int_equal(f->side, QTR_SIDE_BUY);
    assert_int_equal(mx_requests(st, "GET /fapi/v1/userTrades"), 1);
    json_decref(st);
    assert_true(fx_fills_match_updates(fx, "fee-1"));
}

static bool has_fills(bn_fx *fx, const void *arg) { return fx_fills(fx, arg, NULL) >= 1; }

static void maker_fills_carry_maker_commission(void **state)
{
    bn_fx *fx = fx_loaded(state);
    assert_int_equal(fx_submit(fx, "mk-1", "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_LIMIT, "0.010", "49000"), QTR_OK);
    fx_run_for(fx, 150);
    assert_int_equal(mx_post(fx->mx, "/mock/fill?clientOrderId=mk-1&qty=0.004&price=49000"), 200);
    assert_true(fx_run_until(fx, 3000, has_fills, "mk-1"));
    assert_int_equal(mx_post(fx->mx, "/mock/fill?clientOrderId=mk-1&qty=0.006&price=48999.9"), 200);
    assert_true(fx_run_until(fx, 3000, fx_final, "mk-1"));
    assert_int_equal(fx_fills(fx, "mk-1", NULL), 2);
    json_t *st = mx_state(fx->mx);
    expect_fill_is_trade(fx_fill(fx, "mk-1", 0), mx_trade(st, "mk-1", 0));
    expect_fill_is_trade(fx_fill(fx, "mk-1", 1), mx_trade(st, "mk-1", 1));
    json_decref(st);
    /* maker rate 0.0002: 196 -> 0.0392; 293.9994 -> 0.05879988 */
    assert_int_equal(fx_fill(fx, "mk-1", 0)->fee, D("0.0392"));
    assert_int_equal(fx_fill(fx, "mk-1", 1)->fee, D("0.05879988"));
    assert_true(fx_fill(fx, "mk-1", 1)->maker);
    const qtr_order_update *u = fx_last_update(fx, "mk-1");
    assert_int_equal(u->status, QTR_OS_FILLED);
    assert_int_equal(u->avg_price, D("48999.94"));
    assert_true(fx_fills_match_updates(fx, "mk-1"));
}

/* The trade list lags the order twice: the FILLED state waits for the fill. */
static void lagging_trade_list_holds_the_state_until_the_fill(void **state)
{
    bn_fx *fx = fx_loaded(state);
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/userTrades&kind=tradeslag&count=2"), 200);
    const qtr_order_update *u = fx_market_buy(fx, "lag-1");
    assert_int_equal(u->status, QTR_OS_FILLED);
    assert_int_equal(fx_fills(fx, "lag-1", NULL), 1);
    assert_int_equal(fx_fill(fx, "lag-1", 0)->fee, D("0.25"));
    assert_true(fx_fills_match_updates(fx, "lag-1"));
    assert_false(fx_saw_status(fx, "lag-1", QTR_OS_PARTIALLY_FILLED));
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_requests(st, "GET /fapi/v1/userTrades"), 3);
    json_decref(st);
    assert_int_equal(fx_alerts(fx, "exchange_fills_late"), 0);
}

/* Past the retry budget an alert is raised; the poller keeps asking and the
 * fill still arrives, once. */
static void trade_list_late_past_the_budget_alerts_and_settles(void **state)
{
    bn_fx *fx = fx_loaded(state);
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/userTrades&kind=tradeslag&count=5"), 200);
    const qtr_order_update *u = fx_market_buy(fx, "late-1");
    assert_int_equal(u->status, QTR_OS_FILLED);
    assert_int_equal(fx_fills(fx, "late-1", NULL), 1);
    assert_int_equal(fx_alerts(fx, "exchange_fills_late"), 1);
    assert_true(fx_fills_match_updates(fx, "late-1"));
    assert_non_null(strstr(fx->log, "not all in userTrades after 4 asks"));
}

/* A commission in BNB cannot be valued without guessing a price: no fee is
 * booked, one alert per asset, every such execution counted and logged. */
static void commission_in_another_asset_is_alerted_not_guessed(void **state)
{
    bn_fx *fx = fx_loaded(state);
    assert_int_equal(mx_post(fx->mx, "/mock/fees?asset=BNB"), 200);
    fx_market_buy(fx, "bnb-1");
    fx_market_buy(fx, "bnb-2");
    assert_int_equal(fx_fill(fx, "bnb-1", 0)->fee, 0);
    assert_int_equal(fx_fill(fx, "bnb-2", 0)->fee, 0);
    assert_int_equal(fx_alerts(fx, "exchange_fee_asset"), 1);
    assert_int_equal(mock_host_metric(fx->m, "exchange_fees_unconverted_total", NULL), 2);
    assert_non_null(strstr(fx->log, "commission 0.25 BNB is not in USDT"));
}

/* The API documentation shows a taker's commission as negative: a taker
 * always pays, so it is booked as paid; a negative maker commission is a rebate. */
static void negative_commission_reading(void **state)
{
    bn_fx *fx = fx_loaded(state);
    assert_int_equal(mx_post(fx->mx, "/mock/fees?negative=1"), 200);
    fx_market_buy(fx, "neg-1");
    assert_int_equal(fx_fill(fx, "neg-1", 0)->fee, D("0.25"));
    assert_int_equal(fx_submit(fx, "neg-2", "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_LIMIT, "0.004", "49000"), QTR_OK);
    fx_run_for(fx, 150);
    assert_int_equal(mx_post(fx->mx, "/mock/fill?clientOrderId=neg-2&qty=0.004&price=49000"), 200);
    assert_true(fx_run_until(fx, 3000, fx_final, "neg-2"));
    assert_int_equal(fx_fill(fx, "neg-2", 0)->fee, -D("0.0392"));
}

/* A broken or HTML answer to userTrades is not read as "no executions": it
 * is counted, asked again, and the one execution is published once. */
static void unreadable_trade_list_is_asked_again(void **state)
{
    bn_fx *fx = fx_loaded(state);
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/userTrades&kind=malformed&count=1&exec=1"), 200);
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/userTrades&kind=html&count=1&exec=1"), 200);
    const qtr_order_update *u = fx_market_buy(fx, "bad-1");
    assert_int_equal(u->status, QTR_OS_FILLED);
    assert_int_equal(fx_fills(fx, "bad-1", NULL), 1);
    assert_true(fx_fills_match_updates(fx, "bad-1"));
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_requests(st, "GET /fapi/v1/userTrades"), 3);
    json_decref(st);
    assert_non_null(strstr(fx->log, "GET /fapi/v1/userTrades: HTTP 200 with a malformed JSON body"));
    assert_non_null(strstr(fx->log, "GET /fapi/v1/userTrades: HTTP 502 with an HTML body"));
}

/* Finished orders are kept up to done_orders_kept, then freed. */
static void finished_orders_do_not_pile_up(void **state)
{
    bn_fx *fx = *state;
    mock_host_set_option(fx->m, "done_orders_kept", "2");
    assert_true(fx_load(fx));
    const char *cids[] = { "keep-1", "keep-2", "keep-3", "keep-4", "keep-5" };
    for (size_t i = 0; i < 5; i++) assert_int_equal(fx_market_buy(fx, cids[i])->status, QTR_OS_FILLED);
    assert_true(mock_host_gauge(fx->m, "exchange_orders_in_memory", NULL) == 2);
    /* the kept ones are still known: their ids are refused for a new order */
    assert_int_equal(fx_submit(fx, "keep-5", "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_MARKET, "0.010", NULL), QTR_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(taker_fill_carries_the_exchange_commission, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(maker_fills_carry_maker_commission, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(lagging_trade_list_holds_the_state_until_the_fill, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(trade_list_late_past_the_budget_alerts_and_settles, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(commission_in_another_asset_is_alerted_not_guessed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(negative_commission_reading, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(unreadable_trade_list_is_asked_again, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(finished_orders_do_not_pile_up, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
