/* Orders through the plugin against binance_mock: fills per execution, the
 * fate of every injected fault, and never a doubled order (asserted on the
 * mock's own count of placements per client id). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bn_fixture.h"

/* posts_expected: POST /fapi/v1/order requests the mock saw in the test. */
static void expect_filled_once(bn_fx *fx, const char *cid, int posts_expected)
{
    const qtr_order_update *u = fx_last_update(fx, cid);
    assert_non_null(u);
    assert_int_equal(u->status, QTR_OS_FILLED);
    assert_int_equal(u->filled_qty, D("0.010"));
    assert_int_equal(u->avg_price, D("50000"));
    qtr_dec sum;
    assert_int_equal(fx_fills(fx, cid, &sum), 1);
    assert_int_equal(sum, D("0.010"));
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_accepted(st, cid, NULL), 1);
    assert_int_equal(mx_requests(st, "POST /fapi/v1/order"), posts_expected);
    json_decref(st);
}

static void market_order_fills(void **state)
{
    bn_fx *fx = fx_loaded(state);
    fx_market_buy(fx, "mkt-1");
    expect_filled_once(fx, "mkt-1", 1);
    const qtr_fill *f = fx_fill(fx, "mkt-1", 0);
    assert_int_equal(strncmp(f->fill_id, "BTCUSDT:", 8), 0); /* the exchange's trade id: test_binance_fees */
    assert_int_equal(f->price, D("50000"));
    assert_int_equal(f->side, QTR_SIDE_BUY);
    assert_true(fx_saw_status(fx, "mkt-1", QTR_OS_PENDING));
    json_t *st = mx_state(fx->mx);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(st, "positions"), "BTCUSDT"), "amt")),
                        "0.01");
    assert_int_equal(mx_counter(st, "signature_failures"), 0);
    json_decref(st);
}

static bool has_fills(bn_fx *fx, const void *arg)
{
    const char *cid = arg;
    return fx_fills(fx, cid, NULL) >= 1;
}

/* A resting LIMIT order filled in two steps at two prices, seen by polling. */
static void resting_limit_fills_by_increments(void **state)
{
    bn_fx *fx = fx_loaded(state);
    assert_int_equal(fx_submit(fx, "lim-1", "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_LIMIT, "0.010", "49000"), QTR_OK);
    fx_run_for(fx, 150);
    const qtr_order_update *u = fx_last_update(fx, "lim-1");
    assert_int_equal(u->status, QTR_OS_NEW);
    assert_int_equal(mx_post(fx->mx, "/mock/fill?clientOrderId=lim-1&qty=0.004&price=49000"), 200);
    assert_true(fx_run_until(fx, 3000, has_fills, "lim-1"));
    assert_int_equal(mx_post(fx->mx, "/mock/fill?clientOrderId=lim-1&qty=0.006&price=48999.9"), 200);
    assert_true(fx_run_until(fx, 3000, fx_final, "lim-1"));
    qtr_dec sum;
    assert_int_equal(fx_fills(fx, "lim-1", &sum), 2);
    assert_int_equal(sum, D("0.010"));
    assert_int_equal(fx_fill(fx, "lim-1", 0)->qty, D("0.004"));
    assert_int_equal(fx_fill(fx, "lim-1", 0)->price, D("49000"));
    assert_int_equal(fx_fill(fx, "lim-1", 1)->qty, D("0.006"));
    assert_int_equal(fx_fill(fx, "lim-1", 1)->price, D("48999.9"));
    assert_string_not_equal(fx_fill(fx, "lim-1", 0)->fill_id, fx_fill(fx, "lim-1", 1)->fill_id);
    u = fx_last_update(fx, "lim-1");
    assert_int_equal(u->status, QTR_OS_FILLED);
    /* (0.004 * 49000 + 0.006 * 48999.9) / 0.010 = 489.9994 / 0.010 */
    assert_int_equal(u->avg_price, D("48999.94"));
    assert_true(fx_saw_status(fx, "lim-1", QTR_OS_PARTIALLY_FILLED));
}

static void rounding_reaches_the_exchange(void **state)
{
    bn_fx *fx = fx_loaded(state);
    assert_int_equal(fx_submit(fx, "rb-1", "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_LIMIT, "0.0109", "45000.17"), QTR_OK);
    assert_int_equal(fx_submit(fx, "rs-1", "BTCUSDT", QTR_SIDE_SELL, QTR_ORDER_LIMIT, "0.0109", "55000.11"), QTR_OK);
    fx_run_for(fx, 200);
    json_t *st = mx_state(fx->mx);
    json_t *b = mx_order(st, "rb-1"), *s = mx_order(st, "rs-1");
    assert_non_null(b);
    assert_non_null(s);
    assert_string_equal(json_string_value(json_object_get(b, "origQty")), "0.01");
    assert_string_equal(json_string_value(json_object_get(b, "price")), "45000.1");
    assert_string_equal(json_string_value(json_object_get(s, "price")), "55000.2");
    json_decref(st);
    assert_int_equal(fx_last_update(fx, "rb-1")->qty, D("0.010"));
}

static void refused_before_sending(void **state)
{
    bn_fx *fx = fx_loaded(state);
    /* below MIN_NOTIONAL (0.001 * 40000 = 40 < 100) */
    assert_int_equal(fx_submit(fx, "tiny-1", "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_LIMIT, "0.001", "40000"), QTR_EREFUSED);
    const qtr_order_update *u = fx_last_update(fx, "tiny-1");
    assert_int_equal(u->status, QTR_OS_REJECTED);
    assert_non_null(strstr(u->reason, "MIN_NOTIONAL"));
    /* a client id Binance would refuse */
    assert_int_equal(fx_submit(fx, "bad id!", "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_MARKET, "0.010", NULL), QTR_EINVAL);
    assert_int_equal(fx_last_update(fx, "bad id!")->status, QTR_OS_REJECTED);
    assert_int_equal(fx_submit(fx, "x-12345678901234567890123456789012345", "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_MARKET,
                               "0.010", NULL),
                     QTR_EINVAL);
    assert_int_equal(fx_submit(fx, "sym-1", "DOGEUSDT", QTR_SIDE_BUY, QTR_ORDER_MARKET, "1", NULL), QTR_EINVAL);
    /* the same client id twice: the second is not sent */
    fx_market_buy(fx, "once-1");
    assert_int_equal(fx_submit(fx, "once-1", "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_MARKET, "0.010", NULL), QTR_EINVAL);
    fx_run_for(fx, 100);
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_requests(st, "POST /fapi/v1/order"), 1);
    assert_int_equal(mx_accepted(st, "once-1", NULL), 1);
    json_decref(st);
}

static void refused_until_exchange_info_loads(void **state)
{
    bn_fx *fx = *state;
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/exchangeInfo&kind=html&count=2"), 200);
    assert_int_equal(mock_plugin_load(fx->m, mock_plugin_path("exchange_binance_usdm"), &fx->plug), 0);
    fx->loaded = true;
    assert_int_equal(fx_submit(fx, "early-1", "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_MARKET, "0.010", NULL), QTR_EREFUSED);
    const qtr_order_update *u = fx_last_update(fx, "early-1");
    assert_int_equal(u->status, QTR_OS_REJECTED);
    assert_non_null(strstr(u->reason, "exchangeInfo"));
    /* it retries with backoff and gets there */
    assert_true(fx_wait_ready(fx, 5000));
    qtr_health h;
    fx->plug.desc->health(fx->plug.state, &h);
    assert_int_equal(h.status, QTR_HEALTH_OK);
    assert_int_equal(mock_host_metric(fx->m, "exchange_errors_total", "html"), 2);
    fx_market_buy(fx, "later-1");
    expect_filled_once(fx, "later-1", 1); /* early-1 was never sent */
}

/* ---- each fault on POST /fapi/v1/order ---- */

static void run_fault(void **state, const char *fault, const char *cid, int posts_expected)
{
    bn_fx *fx = fx_loaded(state);
    char q[256];
    snprintf(q, sizeof q, "/mock/fault?path=/fapi/v1/order&method=POST&%s", fault);
    assert_int_equal(mx_post(fx->mx, q), 200);
    fx_market_buy(fx, cid);
    expect_filled_once(fx, cid, posts_expected);
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_counter(st, "faults_fired"), 1);
    json_decref(st);
}

static void fault_500_executed(void **state)
{
    run_fault(state, "kind=500&exec=1", "f500x-1", 1);
    bn_fx *fx = *state;
    assert_true(fx_saw_status(fx, "f500x-1", QTR_OS_UNKNOWN));
    assert_int_equal(mock_host_metric(fx->m, "exchange_errors_total", "http_5xx"), 1);
}

static void fault_500_not_executed(void **state)
{
    run_fault(state, "kind=500&exec=0", "f500n-1", 2);
    assert_true(fx_saw_status(*state, "f500n-1", QTR_OS_UNKNOWN));
}

/* The mock's 503 body: Binance's "fate unknown" 503 (code -1000). */
#define MOCK_503_MSG "Unknown error, please check your request or try again later."

/* The UNKNOWN updates of cid: how many, and the first one's reason. */
static int unknown_updates(const bn_fx *fx, const char *cid, const char **first_reason)
{
    int n = 0;
    *first_reason = NULL;
    for (size_t i = 0; i < fx->m->n_events; i++) {
        const qtr_event *e = &fx->m->events[i];
        if (e->type != QTR_EV_ORDER_UPDATE || strcmp(e->u.order_update.client_id, cid) != 0 ||
            e->u.order_update.status != QTR_OS_UNKNOWN)
            continue;
        if (n++ == 0) *first_reason = e->u.order_update.reason;
    }
    return n;
}

/* The exact outcome of a 503 on the order send: the 503 is surfaced once as
 * the order's UNKNOWN update with the exchange's words, counted once as
 * http_5xx; the order is queried (never guessed) and ends FILLED with one
 * execution and one order on the exchange's book (no duplicate), fills
 * published before FILLED; it was sent again exactly `resends` times, each
 * counted and alerted, and only after allOrders was searched for it. */
static void expect_503_outcome(bn_fx *fx, const char *cid, int resends)
{
    const char *reason;
    assert_int_equal(unknown_updates(fx, cid, &reason), 1);
    assert_non_null(reason);
    assert_non_null(strstr(reason, "fate unknown"));
    assert_non_null(strstr(reason, MOCK_503_MSG));
    assert_int_equal(mock_host_metric(fx->m, "exchange_errors_total", "http_5xx"), 1);
    assert_true(fx_fills_match_updates(fx, cid));
    assert_int_equal(mock_host_metric(fx->m, "exchange_order_resends_total", NULL), resends);
    assert_int_equal(fx_alerts(fx, "exchange_order_resent"), resends);
    json_t *st = mx_state(fx->mx);
    int attempts = 0;
    assert_int_equal(mx_accepted(st, cid, &attempts), 1);
    assert_int_equal(attempts, 1); /* a send the 503 stopped never reached the book */
    assert_true(mx_requests(st, "GET /fapi/v1/order") >= 1);
    if (resends) assert_true(mx_requests(st, "GET /fapi/v1/allOrders") >= 1);
    else assert_int_equal(mx_requests(st, "GET /fapi/v1/allOrders"), 0); /* found at once */
    json_t *o = mx_order(st, cid);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "state")), "FILLED");
    size_t i, orders_with_cid = 0;
    json_array_foreach(json_object_get(st, "orders"), i, o)
        if (!strcmp(json_string_value(json_object_get(o, "cid")), cid)) orders_with_cid++;
    assert_int_equal(orders_with_cid, 1);
    json_decref(st);
}

/* The order ran, the answer was a 503: found by the query, one POST. */
static void fault_503_executed(void **state)
{
    run_fault(state, "kind=503&exec=1", "f503x-1", 1);
    expect_503_outcome(*state, "f503x-1", 0);
}

/* The 503 came before the order ran: -2013 until the send's recvWindow has
 * passed, no trace in allOrders, then sent exactly once more (two POSTs). */
static void fault_503_not_executed(void **state)
{
    run_fault(state, "kind=503&exec=0", "f503n-1", 2);
    bn_fx *fx = *state;
    expect_503_outcome(fx, "f503n-1", 1);
    assert_non_null(strstr(fx->log, "not found (-2013 x"));
}

static void fault_timeout_executed(void **state)
{
    run_fault(state, "kind=timeout&exec=1&delay_ms=700", "fto-x-1", 1);
    bn_fx *fx = *state;
    assert_true(fx_saw_status(fx, "fto-x-1", QTR_OS_UNKNOWN));
    assert_int_equal(mock_host_metric(fx->m, "exchange_errors_total", "timeout"), 1);
}

static void fault_timeout_not_executed(void **state) { run_fault(state, "kind=timeout&exec=0&delay_ms=700", "fto-n-1", 2); }

/* A dropped connection after the order ran: libcurl would resend a POST on a
 * dead reused connection by itself; the plugin must not let it. */
static void fault_drop_executed(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    /* warm up a keep-alive connection first */
    fx_market_buy(fx, "warm-1");
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/order&method=POST&kind=drop&exec=1"), 200);
    fx_market_buy(fx, "fdrop-x-1");
    expect_filled_once(fx, "fdrop-x-1", 2); /* warm-up + the one send */
    assert_true(fx_saw_status(fx, "fdrop-x-1", QTR_OS_UNKNOWN));
    assert_int_equal(mock_host_metric(fx->m, "exchange_errors_total", "network"), 1);
}

static void fault_drop_not_executed(void **state) { run_fault(state, "kind=drop&exec=0", "fdrop-n-1", 2); }

static void fault_duplicate_id(void **state)
{
    run_fault(state, "kind=dup&exec=1", "fdup-1", 1);
    bn_fx *fx = *state;
    assert_true(strstr(fx->log, "-4116") != NULL);
}

static void fault_malformed_json(void **state)
{
    run_fault(state, "kind=malformed&exec=1", "fmal-1", 1);
    bn_fx *fx = *state;
    assert_int_equal(mock_host_metric(fx->m, "exchange_errors_total", "malformed_json"), 1);
    assert_true(strstr(fx->log, "POST /fapi/v1/order") != NULL);
}

static void fault_html_page(void **state)
{
    run_fault(state, "kind=html&exec=0&status=502", "fhtml-1", 2);
    bn_fx *fx = *state;
    assert_int_equal(mock_host_metric(fx->m, "exchange_errors_total", "html"), 1);
    assert_true(fx_saw_status(fx, "fhtml-1", QTR_OS_UNKNOWN));
}

static void fault_unknown_status(void **state)
{
    run_fault(state, "kind=badstatus", "fbad-1", 1);
    bn_fx *fx = *state;
    assert_int_equal(mock_host_metric(fx->m, "exchange_errors_total", "malformed"), 1);
    assert_true(strstr(fx->log, "unknown status 'WEIRD_STATUS'") != NULL);
}

static void run_filter_fault(void **state, const char *kind, const char *code)
{
    bn_fx *fx = fx_loaded(state);
    char q[160];
    snprintf(q, sizeof q, "/mock/fault?path=/fapi/v1/order&method=POST&kind=%s", kind);
    assert_int_equal(mx_post(fx->mx, q), 200);
    const qtr_order_update *u = fx_market_buy(fx, "ffilt-1");
    assert_int_equal(u->status, QTR_OS_REJECTED);
    assert_non_null(strstr(u->reason, code));
    assert_int_equal(fx_fills(fx, "ffilt-1", NULL), 0);
    fx_run_for(fx, 100);
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_accepted(st, "ffilt-1", NULL), 0);
    assert_int_equal(mx_requests(st, "POST /fapi/v1/order"), 1); /* refused: never resent */
    json_decref(st);
    assert_int_equal(mock_host_metric(fx->m, "exchange_errors_total", "api_error"), 1);
}

static void fault_filter_4164(void **state) { run_filter_fault(state, "filter4164", "-4164"); }
static void fault_filter_1111(void **state) { run_filter_fault(state, "filter1111", "-1111"); }
static void fault_filter_4014(void **state) { run_filter_fault(state, "filter4014", "-4014"); }

static int cancel(bn_fx *fx, const char *cid) { return fx->plug.desc->exchange->cancel_order(fx->plug.state, "BTCUSDT", cid); }

static int limit_buy(bn_fx *fx, const char *cid)
{
    return fx_submit(fx, cid, "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_LIMIT, "0.010", "49000");
}

/* The order table's bounds: max_open_orders orders not yet finished, then a
 * refusal naming the option before anything is sent; a finished order frees
 * its place and is kept (its id refused) up to done_orders_kept, after which
 * it is forgotten; ids never added are never found. */
static void open_orders_bounded(void **state)
{
    bn_fx *fx = *state;
    mock_host_set_option(fx->m, "max_open_orders", "2");
    mock_host_set_option(fx->m, "done_orders_kept", "1");
    assert_true(fx_load(fx));
    assert_int_equal(limit_buy(fx, "cap-a"), QTR_OK);
    assert_int_equal(limit_buy(fx, "cap-b"), QTR_OK);
    const char *both[] = { "cap-a", "cap-b", NULL };
    assert_true(fx_run_until(fx, 3000, fx_is_new, "cap-a"));
    assert_true(fx_run_until(fx, 3000, fx_is_new, "cap-b"));
    /* full: refused, not sent, not in the table */
    assert_int_equal(limit_buy(fx, "cap-c"), QTR_EREFUSED);
    const qtr_order_update *u = fx_last_update(fx, "cap-c");
    assert_int_equal(u->status, QTR_OS_REJECTED);
    assert_string_equal(u->reason, "not sent: 2 orders already open in this plugin (max_open_orders)");
    assert_int_equal(cancel(fx, "cap-c"), QTR_ENOTFOUND);
    assert_int_equal(cancel(fx, "never-1"), QTR_ENOTFOUND);
    /* a finished order frees its place; its id stays refused while kept */
    assert_int_equal(cancel(fx, "cap-a"), QTR_OK);
    assert_true(fx_run_until(fx, 3000, fx_final, "cap-a"));
    assert_int_equal(fx_last_update(fx, "cap-a")->status, QTR_OS_CANCELED);
    assert_int_equal(limit_buy(fx, "cap-c"), QTR_OK);
    assert_true(fx_run_until(fx, 3000, fx_is_new, "cap-c"));
    assert_int_equal(limit_buy(fx, "cap-a"), QTR_EINVAL);
    assert_int_equal(cancel(fx, "cap-a"), QTR_EREFUSED);   /* found, finished */
    /* the next finished order pushes cap-a out (done_orders_kept 1): forgotten */
    assert_int_equal(cancel(fx, "cap-b"), QTR_OK);
    assert_true(fx_run_until(fx, 3000, fx_all_final, both));
    assert_int_equal(cancel(fx, "cap-a"), QTR_ENOTFOUND);
    assert_int_equal(cancel(fx, "cap-b"), QTR_EREFUSED);
    assert_int_equal(cancel(fx, "cap-c"), QTR_OK);
    assert_true(mock_host_gauge(fx->m, "exchange_orders_in_memory", NULL) == 2);
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_requests(st, "POST /fapi/v1/order"), 3);
    assert_int_equal(mx_accepted(st, "cap-c", NULL), 1);
    json_decref(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(market_order_fills, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(open_orders_bounded, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(resting_limit_fills_by_increments, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(rounding_reaches_the_exchange, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(refused_before_sending, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(refused_until_exchange_info_loads, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(fault_500_executed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(fault_500_not_executed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(fault_503_executed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(fault_503_not_executed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(fault_timeout_executed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(fault_timeout_not_executed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(fault_drop_executed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(fault_drop_not_executed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(fault_duplicate_id, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(fault_malformed_json, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(fault_html_page, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(fault_unknown_status, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(fault_filter_4164, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(fault_filter_1111, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(fault_filter_4014, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
