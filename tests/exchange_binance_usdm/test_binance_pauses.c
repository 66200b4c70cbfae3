/* Fair rate limiting: a 429 episode pauses once for the largest Retry-After
 * however many replies were in flight, and the ESS's own calls go first when
 * it ends; lanes keep market data and fills moving behind an order backlog;
 * klines missed during a pause are backfilled in order; a ban does not spend
 * retry budgets; market-data errors go to health, not to the ESS. Pauses are
 * measured on the mock's request log, never by sleeping in the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "bn_fixture.h"

static void submit_market(bn_fx *fx, const char *cid, const char *qty)
{
    assert_int_equal(fx_submit(fx, cid, "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_MARKET, qty, NULL), QTR_OK);
}

/* BTCUSDT's mark price and book on the mock, both polled every 20 ms. */
static void poll_mark_and_depth(bn_fx *fx)
{
    assert_int_equal(mx_post(fx->mx, "/mock/premium?symbol=BTCUSDT&mark=50000&index=50000&funding=0.0001&next_funding=1"),
                     200);
    assert_int_equal(mx_post(fx->mx, "/mock/depth?symbol=BTCUSDT&bids=49999:1&asks=50001:1"), 200);
    mock_host_set_option(fx->m, "symbols", "BTCUSDT");
    mock_host_set_option(fx->m, "mark_poll_ms", "20");
    mock_host_set_option(fx->m, "depth_poll_ms", "20");
}

static json_t *requests(json_t *log) { return json_object_get(log, "requests"); }
static int64_t t_us(json_t *e) { return (int64_t)json_integer_value(json_object_get(e, "t_us")); }
static bool is(json_t *e, const char *method, const char *path)
{
    return !strcmp(json_string_value(json_object_get(e, "method")), method) &&
           !strcmp(json_string_value(json_object_get(e, "path")), path);
}
static int status_of(json_t *e) { return (int)json_integer_value(json_object_get(e, "status")); }

static bool metric_at_least(bn_fx *fx, const void *arg)
{
    const struct { const char *name, *label; int64_t n; } *want = arg;
    return mock_host_metric(fx->m, want->name, want->label) >= want->n;
}

/* Four orders in flight all meet 429 with Retry-After: 1 s. With the
 * default 1 s backoff the old code doubled per reply (1, 2, 4, 8 s); the
 * pause is one Retry-After, and the episode is one exchange error. */
static void in_flight_429s_pause_once(void **state)
{
    bn_fx *fx = *state;
    mock_host_set_option(fx->m, "backoff_429_ms", "1000");
    assert_true(fx_load(fx));
    size_t errors_before = fx_alerts(fx, "exchange_error"); /* a slow start may have had its own */
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/order&method=POST&kind=429&retry_after=1&count=4"), 200);
    const char *cids[] = { "rl-1", "rl-2", "rl-3", "rl-4", NULL };
    for (int i = 0; cids[i]; i++) submit_market(fx, cids[i], "0.010");
    assert_true(fx_run_until(fx, 6000, fx_all_final, cids));
    json_t *log = mx_request_log(fx->mx);
    size_t i;
    json_t *e;
    int64_t last_429 = -1, resumed = -1;
    json_array_foreach(requests(log), i, e) {
        if (status_of(e) == 429) last_429 = t_us(e);
        else if (last_429 >= 0 && resumed < 0) resumed = t_us(e);
    }
    json_decref(log);
    assert_true(last_429 >= 0 && resumed >= 0);
    int64_t pause_ms = (resumed - last_429) / 1000;
    fprintf(stderr, "pause after four in-flight 429s (Retry-After 1 s): %lld ms\n", (long long)pause_ms);
    assert_true(pause_ms >= 950);
    assert_true(pause_ms < 1500);
    json_t *st = mx_state(fx->mx);
    for (i = 0; cids[i]; i++) {
        assert_int_equal(mx_accepted(st, cids[i], NULL), 1);
        assert_int_equal(fx_last_update(fx, cids[i])->status, QTR_OS_FILLED);
    }
    json_decref(st);
    assert_int_equal(mock_host_metric(fx->m, "rate_limited_total", NULL), 4);
    assert_int_equal(mock_host_metric(fx->m, "exchange_errors_total", "rate_limited"), 1);
    assert_int_equal(fx_alerts(fx, "exchange_error") - errors_before, 1);
}

/* During a 429 pause the ESS cancels everything and sends a reduce-only
 * flatten: when the window reopens the cancel-all (its plain leg, then the
 * list of conditional orders it sweeps) and the flatten go before the
 * orders that met 429. */
static void ess_goes_first_when_the_window_reopens(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/order&method=POST&kind=429&retry_after=1&count=3"), 200);
    const char *cids[] = { "n-1", "n-2", "n-3", "ess-close-1", NULL };
    for (int i = 0; i < 3; i++) submit_market(fx, cids[i], "0.010");
    struct { const char *name, *label; int64_t n; } three = { "rate_limited_total", NULL, 3 };
    assert_true(fx_run_until(fx, 3000, metric_at_least, &three));
    assert_int_equal(fx->plug.desc->exchange->cancel_all(fx->plug.state, "BTCUSDT"), QTR_OK);
    assert_int_equal(fx_submit_as(fx, "ess-close-1", QTR_SIDE_SELL, "0.010", true, "ess"), QTR_OK);
    assert_true(fx_run_until(fx, 5000, fx_all_final, cids));
    json_t *log = mx_request_log(fx->mx);
    size_t i;
    json_t *e;
    int n429 = 0;
    const char *after[3] = { NULL, NULL, NULL };
    size_t k = 0;
    json_array_foreach(requests(log), i, e) {
        if (status_of(e) == 429) n429++;
        else if (n429 == 3 && k < 3) after[k++] = is(e, "DELETE", "/fapi/v1/allOpenOrders") ? "cancel-all"
                                                  : is(e, "POST", "/fapi/v1/order")
                                                      ? json_string_value(json_object_get(e, "cid"))
                                                      : json_string_value(json_object_get(e, "path"));
    }
    assert_int_equal(n429, 3);
    assert_non_null(after[0]);
    assert_non_null(after[1]);
    assert_non_null(after[2]);
    fprintf(stderr, "first after the pause: %s, then %s, then %s\n", after[0], after[1], after[2]);
    assert_string_equal(after[0], "cancel-all");
    assert_string_equal(after[1], "/fapi/v1/openAlgoOrders");
    assert_string_equal(after[2], "ess-close-1");
    json_decref(log);
}

/* Sixteen orders queued behind a 10-per-second order limit: mark prices and
 * the first order's fills do not wait for the backlog. */
static void order_backlog_does_not_hold_up_market_data_or_fills(void **state)
{
    bn_fx *fx = *state;
    assert_int_equal(mx_post(fx->mx, "/mock/limits?orders_a=10&orders_a_interval_ms=1000&orders_b=100000"), 200);
    assert_int_equal(mx_post(fx->mx, "/mock/premium?symbol=BTCUSDT&mark=50000&index=50000&funding=0.0001&next_funding=1"),
                     200);
    mock_host_set_option(fx->m, "symbols", "BTCUSDT");
    mock_host_set_option(fx->m, "mark_poll_ms", "20");
    assert_true(fx_load(fx));
    enum { N = 16 };
    char cids[N][16];
    const char *list[N + 1];
    for (int i = 0; i < N; i++) {
        snprintf(cids[i], sizeof cids[i], "hol-%02d", i);
        list[i] = cids[i];
        submit_market(fx, cids[i], "0.002");
    }
    list[N] = NULL;
    assert_true(fx_run_until(fx, 10000, fx_all_final, list));
    json_t *log = mx_request_log(fx->mx);
    size_t i;
    json_t *e;
    int64_t first_post = -1, last_post = -1, first_trades = -1, prev_mark = -1, max_gap = 0;
    int marks = 0;
    json_array_foreach(requests(log), i, e) {
        if (is(e, "POST", "/fapi/v1/order")) {
            if (first_post < 0) first_post = t_us(e);
            last_post = t_us(e);
        }
        if (is(e, "GET", "/fapi/v1/userTrades") && first_trades < 0) first_trades = t_us(e);
    }
    json_array_foreach(requests(log), i, e) {
        if (!is(e, "GET", "/fapi/v1/premiumIndex") || t_us(e) < first_post || t_us(e) > last_post) continue;
        if (prev_mark >= 0 && t_us(e) - prev_mark > max_gap) max_gap = t_us(e) - prev_mark;
        prev_mark = t_us(e);
        marks++;
    }
    json_decref(log);
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_counter(st, "limit_violations"), 0);
    json_decref(st);
    fprintf(stderr, "order backlog %lld ms: %d mark polls, largest gap %lld ms; first userTrades %lld ms after the first send\n",
            (long long)((last_post - first_post) / 1000), marks, (long long)(max_gap / 1000),
            (long long)((first_trades - first_post) / 1000));
    assert_true(last_post - first_post >= 1000000); /* the backlog was real */
    assert_true(marks >= 10);
    assert_true(max_gap < 500000); /* the old single queue: the whole backlog */
    assert_true(first_trades >= 0 && first_trades - first_post < 300000);
}

static bool market_request_seen(bn_fx *fx, const void *arg)
{
    (void)arg;
    json_t *st = mx_state(fx->mx);
    bool seen = mx_requests(st, "GET /fapi/v1/premiumIndex") + mx_requests(st, "GET /fapi/v1/depth") > 0;
    json_decref(st);
    return seen;
}

/* Two slots, and the market-data requests hang: they never take the last
 * slot, so an order is sent at once instead of after a timeout. */
static void market_data_leaves_a_slot_for_orders(void **state)
{
    bn_fx *fx = *state;
    poll_mark_and_depth(fx);
    mock_host_set_option(fx->m, "max_inflight", "2");
    mock_host_set_option(fx->m, "timeout_ms", "1000");
    assert_true(fx_load(fx));
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/premiumIndex&kind=timeout&delay_ms=3000&count=10"), 200);
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/depth&kind=timeout&delay_ms=3000&count=10"), 200);
    assert_true(fx_run_until(fx, 2000, market_request_seen, NULL));
    fx_run_for(fx, 50); /* the other poller has had its turn */
    submit_market(fx, "slot-1", "0.010");
    fx_run_for(fx, 200);
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_requests(st, "POST /fapi/v1/order"), 1);
    json_decref(st);
}

static bool candles_at_least(bn_fx *fx, const void *arg)
{
    return mock_host_count_events(fx->m, QTR_EV_CANDLE) >= *(const size_t *)arg;
}

static void add_candle(bn_fx *fx, int64_t open)
{
    char q[256];
    snprintf(q, sizeof q, "/mock/kline?symbol=BTCUSDT&open_time=%lld&close_time=%lld&o=1&h=2&l=0.5&c=1.5&v=10",
             (long long)open, (long long)(open + 59999));
    assert_int_equal(mx_post(fx->mx, q), 200);
}

/* kline_limit=3: 120 candles close while klines meet 429: all of them are
 * published afterwards, each once, in order (in pages of at most 99). */
static void klines_missed_during_a_pause_are_backfilled_in_order(void **state)
{
    bn_fx *fx = *state;
    mock_host_set_option(fx->m, "symbols", "BTCUSDT");
    mock_host_set_option(fx->m, "kline_poll_ms", "20");
    mock_host_set_option(fx->m, "kline_limit", "3");
    mock_host_set_option(fx->m, "max_429_retries", "0");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now_ms = (int64_t)ts.tv_sec * 1000, base = (now_ms / 60000 - 200) * 60000;
    for (int i = 0; i < 5; i++) add_candle(fx, base + i * 60000LL);
    assert_true(fx_load(fx));
    size_t want = 3;
    assert_true(fx_run_until(fx, 3000, candles_at_least, &want));
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/klines&kind=429&count=5"), 200);
    for (int i = 5; i < 125; i++) add_candle(fx, base + i * 60000LL);
    want = 123;
    assert_true(fx_run_until(fx, 5000, candles_at_least, &want));
    fx_run_for(fx, 100);
    int64_t prev = 0;
    size_t n = 0;
    for (size_t i = 0; i < fx->m->n_events; i++) {
        const qtr_event *ev = &fx->m->events[i];
        if (ev->type != QTR_EV_CANDLE) continue;
        if (n > 0) assert_int_equal(ev->u.candle.open_time_ms, prev + 60000);
        prev = ev->u.candle.open_time_ms;
        n++;
    }
    assert_int_equal(n, 123);
    assert_int_equal(prev, base + 124 * 60000LL);
    json_t *st = mx_state(fx->mx);
    assert_true(mx_counter(st, "faults_fired") >= 1);
    json_decref(st);
}

/* A 418 on userTrades: the ban, not a lagging list, held the executions
 * back. The ask budget waits for the ban to end: no exchange_fills_late. */
static void ban_does_not_spend_the_user_trades_budget(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/userTrades&kind=418&retry_after=1"), 200);
    submit_market(fx, "ban-t-1", "0.010");
    assert_true(fx_run_until(fx, 5000, fx_final, "ban-t-1"));
    assert_int_equal(fx_last_update(fx, "ban-t-1")->status, QTR_OS_FILLED);
    qtr_dec sum;
    fx_fills(fx, "ban-t-1", &sum);
    assert_int_equal(sum, D("0.010"));
    assert_int_equal(fx_alerts(fx, "exchange_banned"), 1);
    assert_int_equal(fx_alerts(fx, "exchange_fills_late"), 0);
    assert_int_equal(mock_host_metric(fx->m, "exchange_errors_total", "trades_missing"), 0);
}

/* Three orders in flight all meet 418: one ban, one error, one alert. */
static void in_flight_418s_are_one_ban(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    size_t errors_before = fx_alerts(fx, "exchange_error");
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/order&method=POST&kind=418&retry_after=1&count=3"), 200);
    const char *cids[] = { "b-1", "b-2", "b-3", NULL };
    for (int i = 0; cids[i]; i++) submit_market(fx, cids[i], "0.010");
    assert_true(fx_run_until(fx, 3000, fx_all_final, cids));
    for (int i = 0; cids[i]; i++) assert_int_equal(fx_last_update(fx, cids[i])->status, QTR_OS_REJECTED);
    assert_int_equal(mock_host_metric(fx->m, "exchange_errors_total", "banned"), 1);
    assert_int_equal(fx_alerts(fx, "exchange_banned"), 1);
    assert_int_equal(fx_alerts(fx, "exchange_error") - errors_before, 1);
}

/* Market-data polling fails (5xx, HTML, 429 with several requests out):
 * counted and health DEGRADED, but not one exchange_error for the ESS; health
 * comes back once the data does. */
static void market_data_errors_go_to_health_not_the_ess(void **state)
{
    bn_fx *fx = *state;
    poll_mark_and_depth(fx);
    mock_host_set_option(fx->m, "max_429_retries", "0");
    assert_true(fx_load(fx));
    size_t errors_before = fx_alerts(fx, "exchange_error"); /* a slow start may have had its own */
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/premiumIndex&kind=500&count=3"), 200);
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/depth&kind=html&count=2"), 200);
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/depth&kind=429&count=2"), 200);
    struct { const char *name, *label; int64_t n; } five = { "exchange_errors_total", "http_5xx", 3 };
    assert_true(fx_run_until(fx, 3000, metric_at_least, &five));
    fx_run_for(fx, 300);
    json_t *st = mx_state(fx->mx);
    assert_int_equal(json_integer_value(json_object_get(st, "faults_left")), 0);
    json_decref(st);
    assert_true(mock_host_metric(fx->m, "exchange_errors_total", "html") >= 2);
    assert_int_equal(fx_alerts(fx, "exchange_error") - errors_before, 0);
    assert_int_equal(fx->m->health.status, QTR_HEALTH_OK);
    /* an order error still counts for the ESS */
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/order&method=POST&kind=500&exec=1"), 200);
    submit_market(fx, "md-1", "0.010");
    assert_true(fx_run_until(fx, 3000, fx_final, "md-1"));
    assert_true(fx_alerts(fx, "exchange_error") - errors_before >= 1);
}

/* fresh_connection_for_orders is gone: setting it is refused by name. */
static void fresh_connection_option_is_refused(void **state)
{
    bn_fx *fx = *state;
    mock_host_set_option(fx->m, "fresh_connection_for_orders", "false");
    assert_false(fx_load(fx));
    /* undeclared: the host refuses it before init(), as live (the mock
     * checks options with the host's code) */
    assert_non_null(strstr(fx->m->last_log, "plugin binance_usdm: option fresh_connection_for_orders: unknown option"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(in_flight_429s_pause_once, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(ess_goes_first_when_the_window_reopens, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(order_backlog_does_not_hold_up_market_data_or_fills, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(market_data_leaves_a_slot_for_orders, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(klines_missed_during_a_pause_are_backfilled_in_order, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(ban_does_not_spend_the_user_trades_budget, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(in_flight_418s_are_one_ban, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(market_data_errors_go_to_health_not_the_ess, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(fresh_connection_option_is_refused, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
