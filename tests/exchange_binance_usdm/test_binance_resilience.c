/* The plugin under pressure: seeded random faults, an order storm under the
 * rate limit, 429 and 418, clock skew (-1021), partial fills with the 90%
 * follow-up, cancels and conditional (algo) orders. */
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

/* Seeded random faults on sends and queries: afterwards the mock holds
 * exactly one order per intent and nothing else. */
static void random_faults_never_double(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    static const char *const kinds[] = { "500", "503", "timeout", "drop", "malformed", "html", "429", "dup" };
    srand(20240611);
    enum { N = 40, FAULTS = 30 };
    for (int i = 0; i < FAULTS; i++) {
        const char *kind = kinds[rand() % 8];
        int exec = !strcmp(kind, "dup") ? 1 : !strcmp(kind, "429") ? 0 : rand() % 2;
        const char *path = (rand() % 4 == 0 && strcmp(kind, "dup") != 0) ? "/fapi/v1/order&method=GET"
                                                                          : "/fapi/v1/order&method=POST";
        char q[200];
        snprintf(q, sizeof q, "/mock/fault?path=%s&kind=%s&exec=%d&delay_ms=450", path, kind, exec);
        assert_int_equal(mx_post(fx->mx, q), 200);
    }
    char cids[N][16];
    const char *list[N + 1];
    for (int i = 0; i < N; i++) {
        snprintf(cids[i], sizeof cids[i], "rnd-%02d", i);
        list[i] = cids[i];
        submit_market(fx, cids[i], "0.010");
    }
    list[N] = NULL;
    assert_true(fx_run_until(fx, 30000, fx_all_final, list));
    json_t *st = mx_state(fx->mx);
    assert_true(mx_counter(st, "faults_fired") >= 20);
    for (int i = 0; i < N; i++) {
        assert_int_equal(mx_accepted(st, cids[i], NULL), 1);
        const qtr_order_update *u = fx_last_update(fx, cids[i]);
        assert_int_equal(u->status, QTR_OS_FILLED);
        qtr_dec sum;
        fx_fills(fx, cids[i], &sum);
        assert_int_equal(sum, D("0.010"));
    }
    assert_int_equal(json_array_size(json_object_get(st, "orders")), N);
    /* 40 buys of 0.010 */
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(st, "positions"), "BTCUSDT"), "amt")),
                        "0.4");
    json_decref(st);
}

/* 300 intents at once against 200 orders per second: queued, never dropped,
 * and the mock never counted more than its limit in a window. */
static void order_storm_stays_inside_the_limit(void **state)
{
    bn_fx *fx = *state;
    assert_int_equal(mx_post(fx->mx, "/mock/limits?orders_a=200&orders_a_interval_ms=1000&orders_b=100000"), 200);
    assert_true(fx_load(fx));
    enum { N = 300 };
    char (*cids)[16] = calloc(N, 16);
    const char **list = calloc(N + 1, sizeof *list);
    for (int i = 0; i < N; i++) {
        snprintf(cids[i], 16, "spam-%03d", i);
        list[i] = cids[i];
        submit_market(fx, cids[i], "0.002");
    }
    assert_true(fx_run_until(fx, 20000, fx_all_final, list));
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_counter(st, "limit_violations"), 0);
    assert_int_equal(mock_host_metric(fx->m, "rate_limited_total", NULL), 0);
    assert_int_equal(mx_requests(st, "POST /fapi/v1/order"), N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(mx_accepted(st, cids[i], NULL), 1);
        assert_int_equal(fx_last_update(fx, cids[i])->status, QTR_OS_FILLED);
        assert_int_equal(fx_fills(fx, cids[i], NULL), 1);
    }
    /* executions are asked for per symbol while one request is out, not per
     * order (weight 5 each): the storm costs far fewer than N requests */
    fprintf(stderr, "userTrades requests for %d orders: %ld\n", N, mx_requests(st, "GET /fapi/v1/userTrades"));
    assert_true(mx_requests(st, "GET /fapi/v1/userTrades") < N / 2);
    json_decref(st);
    free(cids);
    free(list);
}

static void http_429_backs_off_and_sends_again(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/order&method=POST&kind=429&count=2"), 200);
    submit_market(fx, "r429-1", "0.010");
    assert_true(fx_run_until(fx, 5000, fx_final, "r429-1"));
    assert_int_equal(fx_last_update(fx, "r429-1")->status, QTR_OS_FILLED);
    assert_int_equal(mock_host_metric(fx->m, "rate_limited_total", NULL), 2);
    assert_int_equal(mock_host_metric(fx->m, "exchange_errors_total", "rate_limited"), 2);
    assert_false(fx_saw_status(fx, "r429-1", QTR_OS_UNKNOWN)); /* a 429 is a sure refusal */
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_accepted(st, "r429-1", NULL), 1);
    assert_int_equal(mx_requests(st, "POST /fapi/v1/order"), 3);
    json_decref(st);
}

static void http_429_honours_retry_after(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/order&method=POST&kind=429&retry_after=1"), 200);
    submit_market(fx, "ra-1", "0.010");
    assert_true(fx_run_until(fx, 5000, fx_final, "ra-1"));
    assert_int_equal(fx_last_update(fx, "ra-1")->status, QTR_OS_FILLED);
    assert_non_null(strstr(fx->log, "Retry-After"));
    assert_int_equal(mock_host_metric(fx->m, "rate_limited_total", NULL), 1);
}

static void http_429_gives_up_after_the_budget(void **state)
{
    bn_fx *fx = *state;
    mock_host_set_option(fx->m, "max_429_retries", "1");
    assert_true(fx_load(fx));
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/order&method=POST&kind=429&count=5"), 200);
    submit_market(fx, "gu-1", "0.010");
    assert_true(fx_run_until(fx, 5000, fx_final, "gu-1"));
    const qtr_order_update *u = fx_last_update(fx, "gu-1");
    assert_int_equal(u->status, QTR_OS_REJECTED);
    assert_non_null(strstr(u->reason, "429"));
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_requests(st, "POST /fapi/v1/order"), 2);
    assert_int_equal(mx_accepted(st, "gu-1", NULL), 0);
    json_decref(st);
}

static bool got_alert(bn_fx *fx, const void *arg)
{
    (void)arg;
    return mock_host_count_events(fx->m, QTR_EV_ALERT) > 0;
}

static void http_418_stops_everything(void **state)
{
    bn_fx *fx = *state;
    mock_host_set_option(fx->m, "symbols", "BTCUSDT");
    mock_host_set_option(fx->m, "mark_poll_ms", "20");
    assert_true(fx_load(fx));
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/order&method=POST&kind=418"), 200);
    submit_market(fx, "ban-1", "0.010");
    assert_true(fx_run_until(fx, 5000, got_alert, NULL));
    assert_true(fx_run_until(fx, 5000, fx_final, "ban-1"));
    assert_int_equal(fx_last_update(fx, "ban-1")->status, QTR_OS_REJECTED);
    const qtr_event *a = mock_host_last_event(fx->m, QTR_EV_ALERT);
    assert_int_equal(a->u.alert.severity, QTR_ALERT_CRITICAL);
    assert_string_equal(a->u.alert.kind, "exchange_banned");
    assert_int_equal(fx->m->health.status, QTR_HEALTH_CRITICAL);
    qtr_health h;
    fx->plug.desc->health(fx->plug.state, &h);
    assert_int_equal(h.status, QTR_HEALTH_CRITICAL);
    assert_int_equal(mock_host_metric(fx->m, "exchange_errors_total", "banned"), 1);
    /* the host's ESS hears of it too: an exchange_error alert before the ban */
    bool saw_error_alert = false;
    for (size_t i = 0; i < fx->m->n_events; i++)
        if (fx->m->events[i].type == QTR_EV_ALERT && strcmp(fx->m->events[i].u.alert.kind, "exchange_error") == 0)
            saw_error_alert = true;
    assert_true(saw_error_alert);
    /* nothing more reaches the exchange: not orders, not polling */
    assert_int_equal(fx_submit(fx, "ban-2", "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_MARKET, "0.010", NULL), QTR_EREFUSED);
    json_t *before = mx_state(fx->mx);
    fx_run_for(fx, 200);
    json_t *after = mx_state(fx->mx);
    assert_int_equal(mx_requests(after, "GET /fapi/v1/premiumIndex"), mx_requests(before, "GET /fapi/v1/premiumIndex"));
    assert_int_equal(mx_requests(after, "POST /fapi/v1/order"), 1);
    assert_int_equal(mx_accepted(after, "ban-2", NULL), 0);
    json_decref(before);
    json_decref(after);
}

/* The exchange clock jumps 30 s ahead: -1021, resync, one retry, done. */
static void clock_skew_resyncs_and_retries_once(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    assert_int_equal(mx_post(fx->mx, "/mock/time_offset?ms=30000"), 200);
    submit_market(fx, "skew-1", "0.010");
    assert_true(fx_run_until(fx, 5000, fx_final, "skew-1"));
    assert_int_equal(fx_last_update(fx, "skew-1")->status, QTR_OS_FILLED);
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_counter(st, "timestamp_failures"), 1);
    assert_int_equal(mx_requests(st, "GET /fapi/v1/time"), 2);
    assert_int_equal(mx_requests(st, "POST /fapi/v1/order"), 2);
    assert_int_equal(mx_accepted(st, "skew-1", NULL), 1);
    json_decref(st);
    assert_int_equal(mock_host_metric(fx->m, "exchange_errors_total", "timestamp"), 1);
}

/* -1021 twice: the retry is made once only, then the order is rejected. */
static void repeated_1021_rejects(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/order&method=POST&kind=ts1021&count=2"), 200);
    submit_market(fx, "ts-1", "0.010");
    assert_true(fx_run_until(fx, 5000, fx_final, "ts-1"));
    const qtr_order_update *u = fx_last_update(fx, "ts-1");
    assert_int_equal(u->status, QTR_OS_REJECTED);
    assert_non_null(strstr(u->reason, "-1021"));
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_requests(st, "POST /fapi/v1/order"), 2);
    json_decref(st);
}

/* Filled in 3 steps to 50% then EXPIRED: below 90%, so "<id>-r1" takes the
 * rest; the host sees one order, the original id, cumulative totals. */
static void partial_fill_is_followed_up(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/order&method=POST&kind=partial&steps=3&ratio=50&end=EXPIRED"),
                     200);
    submit_market(fx, "pf-1", "0.010");
    assert_true(fx_run_until(fx, 5000, fx_final, "pf-1"));
    /* mock plan: target 0.005, steps of 0.001 at 50000, 50000.1, then 0.003 at 50000.2 */
    qtr_dec sum;
    assert_int_equal(fx_fills(fx, "pf-1", &sum), 4);
    assert_int_equal(sum, D("0.010"));
    assert_int_equal(fx_fill(fx, "pf-1", 0)->qty, D("0.001"));
    assert_int_equal(fx_fill(fx, "pf-1", 0)->price, D("50000"));
    assert_int_equal(fx_fill(fx, "pf-1", 1)->qty, D("0.001"));
    assert_int_equal(fx_fill(fx, "pf-1", 1)->price, D("50000.1"));
    assert_int_equal(fx_fill(fx, "pf-1", 2)->qty, D("0.003"));
    assert_int_equal(fx_fill(fx, "pf-1", 2)->price, D("50000.2"));
    assert_int_equal(fx_fill(fx, "pf-1", 3)->qty, D("0.005"));
    assert_int_equal(fx_fill(fx, "pf-1", 3)->price, D("50000"));
    {
        /* the follow-up's execution, under the exchange's trade id */
        json_t *s0 = mx_state(fx->mx), *t = mx_trade(s0, "pf-1-r1", 0);
        char want[QTR_CLIENT_ID_MAX];
        assert_non_null(t);
        snprintf(want, sizeof want, "BTCUSDT:%lld:B", (long long)json_integer_value(json_object_get(t, "id")));
        assert_string_equal(fx_fill(fx, "pf-1", 3)->fill_id, want);
        json_decref(s0);
    }
    const qtr_order_update *u = fx_last_update(fx, "pf-1");
    assert_int_equal(u->status, QTR_OS_FILLED);
    assert_int_equal(u->filled_qty, D("0.010"));
    /* (50 + 50.0001 + 150.0006 + 250) / 0.010 */
    assert_int_equal(u->avg_price, D("50000.07"));
    assert_null(fx_last_update(fx, "pf-1-r1")); /* the child id never reaches the host */
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_accepted(st, "pf-1", NULL), 1);
    assert_int_equal(mx_accepted(st, "pf-1-r1", NULL), 1);
    assert_string_equal(json_string_value(json_object_get(mx_order(st, "pf-1-r1"), "origQty")), "0.005");
    json_decref(st);
}

/* 90% filled (0.009 of 0.010): at the threshold, not below it: no follow-up. */
static void ninety_percent_is_enough(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/order&method=POST&kind=partial&steps=1&ratio=95&end=EXPIRED"),
                     200);
    submit_market(fx, "pf-2", "0.010");
    assert_true(fx_run_until(fx, 5000, fx_final, "pf-2"));
    const qtr_order_update *u = fx_last_update(fx, "pf-2");
    assert_int_equal(u->status, QTR_OS_EXPIRED);
    assert_int_equal(u->filled_qty, D("0.009"));
    fx_run_for(fx, 100);
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_accepted(st, "pf-2-r1", NULL), 0);
    assert_int_equal(mx_requests(st, "POST /fapi/v1/order"), 1);
    json_decref(st);
}

static bool is_open(bn_fx *fx, const void *cid)
{
    const qtr_order_update *u = fx_last_update(fx, cid);
    return u && u->status == QTR_OS_NEW;
}

static void cancel_is_final_without_follow_up(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    assert_int_equal(fx_submit(fx, "cx-1", "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_LIMIT, "0.010", "40000"), QTR_OK);
    assert_true(fx_run_until(fx, 3000, is_open, "cx-1"));
    assert_int_equal(fx->plug.desc->exchange->cancel_order(fx->plug.state, "BTCUSDT", "cx-1"), QTR_OK);
    assert_true(fx_run_until(fx, 3000, fx_final, "cx-1"));
    assert_int_equal(fx_last_update(fx, "cx-1")->status, QTR_OS_CANCELED);
    fx_run_for(fx, 100);
    json_t *st = mx_state(fx->mx);
    assert_string_equal(json_string_value(json_object_get(mx_order(st, "cx-1"), "state")), "CANCELED");
    assert_int_equal(mx_accepted(st, "cx-1-r1", NULL), 0);
    json_decref(st);
    assert_int_equal(fx->plug.desc->exchange->cancel_order(fx->plug.state, "BTCUSDT", "nope"), QTR_ENOTFOUND);
}

/* An order the exchange cancels by itself after a partial fill is followed up. */
static void exchange_cancel_below_ratio_is_followed_up(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    assert_int_equal(fx_submit(fx, "ec-1", "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_LIMIT, "0.010", "40000"), QTR_OK);
    assert_true(fx_run_until(fx, 3000, is_open, "ec-1"));
    assert_int_equal(mx_post(fx->mx, "/mock/fill?clientOrderId=ec-1&qty=0.004&price=40000"), 200);
    assert_int_equal(mx_post(fx->mx, "/mock/cancel?clientOrderId=ec-1&status=EXPIRED"), 200);
    fx_run_for(fx, 300);
    json_t *st = mx_state(fx->mx);
    json_t *child = mx_order(st, "ec-1-r1");
    assert_non_null(child);
    assert_string_equal(json_string_value(json_object_get(child, "origQty")), "0.006");
    assert_string_equal(json_string_value(json_object_get(child, "price")), "40000");
    json_decref(st);
    const qtr_order_update *u = fx_last_update(fx, "ec-1");
    assert_int_equal(u->status, QTR_OS_PARTIALLY_FILLED);
    assert_int_equal(u->filled_qty, D("0.004"));
    /* the child fills: the logical order completes */
    assert_int_equal(mx_post(fx->mx, "/mock/price?symbol=BTCUSDT&price=39990"), 200);
    assert_true(fx_run_until(fx, 3000, fx_final, "ec-1"));
    u = fx_last_update(fx, "ec-1");
    assert_int_equal(u->status, QTR_OS_FILLED);
    assert_int_equal(u->filled_qty, D("0.010"));
}

static void stop_market_goes_through_algo_orders(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    assert_int_equal(fx_submit(fx, "sl-1", "BTCUSDT", QTR_SIDE_SELL, QTR_ORDER_STOP_MARKET, "0.010", "45000.05"), QTR_OK);
    assert_true(fx_run_until(fx, 3000, is_open, "sl-1"));
    json_t *st = mx_state(fx->mx);
    json_t *a = mx_order(st, "sl-1");
    assert_true(json_is_true(json_object_get(a, "algo")));
    assert_string_equal(json_string_value(json_object_get(a, "triggerPrice")), "45000.1");
    assert_int_equal(mx_requests(st, "POST /fapi/v1/algoOrder"), 1);
    assert_int_equal(mx_requests(st, "POST /fapi/v1/order"), 0);
    json_decref(st);
    assert_int_equal(mx_post(fx->mx, "/mock/trigger?clientAlgoId=sl-1"), 200);
    assert_true(fx_run_until(fx, 3000, fx_final, "sl-1"));
    const qtr_order_update *u = fx_last_update(fx, "sl-1");
    assert_int_equal(u->status, QTR_OS_FILLED);
    assert_int_equal(u->filled_qty, D("0.010"));
    qtr_dec sum;
    assert_int_equal(fx_fills(fx, "sl-1", &sum), 1);
    assert_int_equal(fx_fill(fx, "sl-1", 0)->price, D("50000"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(random_faults_never_double, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(order_storm_stays_inside_the_limit, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(http_429_backs_off_and_sends_again, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(http_429_honours_retry_after, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(http_429_gives_up_after_the_budget, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(http_418_stops_everything, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(clock_skew_resyncs_and_retries_once, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(repeated_1021_rejects, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(partial_fill_is_followed_up, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(ninety_percent_is_enough, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(cancel_is_final_without_follow_up, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(exchange_cancel_below_ratio_is_followed_up, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(stop_market_goes_through_algo_orders, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
