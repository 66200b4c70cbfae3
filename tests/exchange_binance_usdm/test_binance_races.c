/* Orders whose fate is unknown are never sent twice: the -2013 race (an
 * order that executed behind a 503 answers "not found" while the matching
 * engine lags the API), forced through the mock's hide=N fault; and a
 * reduce-only follow-up refused with -2022 never turns filled quantity into
 * REJECTED. The fixture's recvWindow is 1000 ms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bn_fixture.h"

static void submit_market(bn_fx *fx, const char *cid, const char *qty)
{
    assert_int_equal(fx_submit(fx, cid, "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_MARKET, qty, NULL), QTR_OK);
}

static void assert_filled_once(bn_fx *fx, json_t *st, const char *cid, const char *qty)
{
    assert_int_equal(mx_accepted(st, cid, NULL), 1);
    const qtr_order_update *u = fx_last_update(fx, cid);
    assert_int_equal(u->status, QTR_OS_FILLED);
    qtr_dec sum;
    fx_fills(fx, cid, &sum);
    assert_int_equal(sum, D(qty));
    assert_true(fx_fills_match_updates(fx, cid));
}

/* The mock's request log time (us) of the index-th request on method+path, -1 if none. */
static int64_t nth_request_us(json_t *log, const char *method, const char *path, size_t index)
{
    size_t i, seen = 0;
    json_t *e;
    json_array_foreach(json_object_get(log, "requests"), i, e) {
        if (strcmp(json_string_value(json_object_get(e, "method")), method) != 0 ||
            strcmp(json_string_value(json_object_get(e, "path")), path) != 0)
            continue;
        if (seen++ == index) return (int64_t)json_integer_value(json_object_get(e, "t_us"));
    }
    return -1;
}

/* Four orders execute behind a 503, then answer -2013 to their next three
 * queries: each is queried again until it shows, none is sent again. */
static void executed_then_not_found_is_never_resent(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/order&method=POST&kind=503&exec=1&hide=3&count=4"),
                     200);
    const char *cids[] = { "race-1", "race-2", "race-3", "race-4", NULL };
    for (int i = 0; cids[i]; i++) submit_market(fx, cids[i], "0.010");
    assert_true(fx_run_until(fx, 5000, fx_all_final, cids));
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_counter(st, "faults_fired"), 4);
    for (int i = 0; cids[i]; i++) assert_filled_once(fx, st, cids[i], "0.010");
    assert_int_equal(mx_requests(st, "POST /fapi/v1/order"), 4);
    assert_true(mx_requests(st, "GET /fapi/v1/order") >= 16); /* 3 x -2013, then found, each */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(json_object_get(st, "positions"), "BTCUSDT"), "amt")), "0.04");
    json_decref(st);
    assert_int_equal(mock_host_metric(fx->m, "exchange_order_resends_total", NULL), 0);
    assert_int_equal(fx_alerts(fx, "exchange_order_resent"), 0);
}

/* Arm a 503 that executes cid's send and hides it from GET order for good. */
static void send_hidden(bn_fx *fx, const char *cid)
{
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/order&method=POST&kind=503&exec=1&hide=100000"), 200);
    submit_market(fx, cid, "0.010");
}

/* Run until the hidden cid is final: it must be FILLED, placed once, found
 * by at least `searches` allOrders requests, and never resent. */
static void hidden_order_is_adopted(bn_fx *fx, const char *cid, long searches)
{
    assert_true(fx_run_until(fx, 5000, fx_final, cid));
    json_t *st = mx_state(fx->mx);
    assert_filled_once(fx, st, cid, "0.010");
    assert_int_equal(mx_requests(st, "POST /fapi/v1/order"), 1);
    assert_true(mx_requests(st, "GET /fapi/v1/allOrders") >= searches);
    json_decref(st);
    assert_int_equal(mock_host_metric(fx->m, "exchange_order_resends_total", NULL), 0);
    assert_int_equal(fx_alerts(fx, "exchange_order_resent"), 0);
}

/* The lag outlasts the recvWindow: GET order never finds it, but allOrders
 * lists it by its client id: its state is adopted, nothing is resent. */
static void hidden_past_the_window_is_found_in_all_orders(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    send_hidden(fx, "lag-1");
    hidden_order_is_adopted(fx, "lag-1", 1);
    /* allOrders was asked only once the send's recvWindow (1000 ms) had passed */
    json_t *log = mx_request_log(fx->mx);
    int64_t sent = nth_request_us(log, "POST", "/fapi/v1/order", 0);
    int64_t searched = nth_request_us(log, "GET", "/fapi/v1/allOrders", 0);
    assert_true(sent >= 0 && searched >= 0);
    assert_true(searched - sent >= 1000000);
    json_decref(log);
}

static bool placed(bn_fx *fx, const void *cid)
{
    json_t *st = mx_state(fx->mx);
    bool yes = mx_order(st, cid) != NULL;
    json_decref(st);
    return yes;
}

/* A thousand other orders placed in the second before it fill allOrders'
 * first page: the search pages on (from the last row's time) and finds it;
 * nothing is resent. The loop is paused while they are added. */
static void search_pages_past_a_full_all_orders_page(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    send_hidden(fx, "deep-1");
    assert_true(fx_run_until(fx, 2000, placed, "deep-1"));
    json_t *st = mx_state(fx->mx);
    long long placed_at = (long long)json_integer_value(json_object_get(mx_order(st, "deep-1"), "time"));
    json_decref(st);
    for (int i = 0; i < 1000; i++) {
        char q[200];
        snprintf(q, sizeof q,
                 "/mock/open_order?symbol=BTCUSDT&side=BUY&qty=0.001&price=40000&clientOrderId=ext-%d&time=%lld", i,
                 placed_at - 1000 + i);
        assert_int_equal(mx_post(fx->mx, q), 200);
    }
    hidden_order_is_adopted(fx, "deep-1", 2);
}

/* The same race for a conditional order: placed behind a 503, triggered and
 * filled while GET algoOrder still answers -2013; allAlgoOrders lists it, so
 * it is followed to its fill and never placed twice. */
static void hidden_conditional_order_is_found_in_all_algo_orders(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    assert_int_equal(
        mx_post(fx->mx, "/mock/fault?path=/fapi/v1/algoOrder&method=POST&kind=503&exec=1&hide=100000"), 200);
    assert_int_equal(fx_submit(fx, "algo-1", "BTCUSDT", QTR_SIDE_SELL, QTR_ORDER_STOP_MARKET, "0.010", "45000"), QTR_OK);
    fx_run_for(fx, 100);
    assert_int_equal(mx_post(fx->mx, "/mock/trigger?clientAlgoId=algo-1"), 200);
    assert_true(fx_run_until(fx, 5000, fx_final, "algo-1"));
    json_t *st = mx_state(fx->mx);
    assert_filled_once(fx, st, "algo-1", "0.010");
    assert_int_equal(mx_requests(st, "POST /fapi/v1/algoOrder"), 1);
    assert_true(mx_requests(st, "GET /fapi/v1/allAlgoOrders") >= 1);
    json_decref(st);
    assert_int_equal(mock_host_metric(fx->m, "exchange_order_resends_total", NULL), 0);
}

/* A 503 that did not execute: -2013 until the recvWindow has passed, no
 * trace in allOrders, then one resend, counted and alerted. */
static void lost_order_is_resent_after_its_window_and_alerted(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/order&method=POST&kind=503&exec=0"), 200);
    submit_market(fx, "lost-1", "0.010");
    assert_true(fx_run_until(fx, 5000, fx_final, "lost-1"));
    json_t *st = mx_state(fx->mx);
    assert_filled_once(fx, st, "lost-1", "0.010");
    assert_int_equal(mx_requests(st, "POST /fapi/v1/order"), 2);
    assert_int_equal(mx_requests(st, "GET /fapi/v1/allOrders"), 1);
    json_decref(st);
    json_t *log = mx_request_log(fx->mx);
    int64_t first = nth_request_us(log, "POST", "/fapi/v1/order", 0);
    int64_t second = nth_request_us(log, "POST", "/fapi/v1/order", 1);
    assert_true(second - first >= 1000000); /* never inside the first send's recvWindow */
    json_decref(log);
    assert_int_equal(mock_host_metric(fx->m, "exchange_order_resends_total", NULL), 1);
    assert_int_equal(fx_alerts(fx, "exchange_order_resent"), 1);
}

/* A reduce-only close fills 50% and expires; its follow-up is refused with
 * -2022: the order ends EXPIRED with its real fills, never REJECTED. */
static void refused_reduce_only_follow_up_keeps_its_fills(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    assert_int_equal(mx_post(fx->mx, "/mock/position?symbol=BTCUSDT&amt=0.010&entry=50000"), 200);
    assert_int_equal(
        mx_post(fx->mx, "/mock/fault?path=/fapi/v1/order&method=POST&kind=partial&steps=1&ratio=50&end=EXPIRED"), 200);
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/order&method=POST&kind=filter2022"), 200);
    assert_int_equal(fx_submit_as(fx, "ro-1", QTR_SIDE_SELL, "0.010", true, "trend"), QTR_OK);
    assert_true(fx_run_until(fx, 5000, fx_final, "ro-1"));
    const qtr_order_update *u = fx_last_update(fx, "ro-1");
    assert_int_equal(u->status, QTR_OS_EXPIRED);
    assert_int_equal(u->filled_qty, D("0.005"));
    assert_non_null(strstr(u->reason, "-2022"));
    assert_true(fx_saw_status(fx, "ro-1", QTR_OS_PARTIALLY_FILLED));
    assert_false(fx_saw_status(fx, "ro-1", QTR_OS_REJECTED));
    qtr_dec sum;
    assert_true(fx_fills(fx, "ro-1", &sum) >= 1);
    assert_int_equal(sum, D("0.005"));
    assert_true(fx_fills_match_updates(fx, "ro-1"));
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_requests(st, "POST /fapi/v1/order"), 2); /* the order and its refused follow-up */
    json_decref(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(executed_then_not_found_is_never_resent, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(hidden_past_the_window_is_found_in_all_orders, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(search_pages_past_a_full_all_orders_page, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(hidden_conditional_order_is_found_in_all_algo_orders, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(lost_order_is_resent_after_its_window_and_alerted, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(refused_reduce_only_follow_up_keeps_its_fills, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
