/* Market data polling (klines, premiumIndex, depth), fetch_snapshot against
 * what the mock already holds, leverage at start, and secrets: required,
 * and never in the log even with debug output on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "bn_fixture.h"

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void add_kline(bn_fx *fx, int64_t open, const char *o, const char *h, const char *l, const char *c)
{
    char q[256];
    snprintf(q, sizeof q, "/mock/kline?symbol=BTCUSDT&open_time=%lld&close_time=%lld&o=%s&h=%s&l=%s&c=%s&v=12.5",
             (long long)open, (long long)(open + 59999), o, h, l, c);
    assert_int_equal(mx_post(fx->mx, q), 200);
}

static bool candles_at_least(bn_fx *fx, const void *n)
{
    return mock_host_count_events(fx->m, QTR_EV_CANDLE) >= *(const size_t *)n;
}

static void closed_candles_once_each(void **state)
{
    bn_fx *fx = *state;
    int64_t now = wall_ms(), minute = now - now % 60000;
    add_kline(fx, minute - 180000, "100", "110", "90", "105");
    add_kline(fx, minute - 120000, "105", "120", "100", "118.5");
    add_kline(fx, minute, "118.5", "119", "117", "118"); /* still open: not published */
    mock_host_set_option(fx->m, "symbols", "BTCUSDT");
    mock_host_set_option(fx->m, "kline_poll_ms", "20");
    assert_true(fx_load(fx));
    size_t two = 2;
    assert_true(fx_run_until(fx, 3000, candles_at_least, &two));
    fx_run_for(fx, 150); /* several more polls of the same candles */
    assert_int_equal(mock_host_count_events(fx->m, QTR_EV_CANDLE), 2);
    const qtr_event *e = mock_host_last_event(fx->m, QTR_EV_CANDLE);
    assert_int_equal(e->u.candle.open_time_ms, minute - 120000);
    assert_int_equal(e->u.candle.close, D("118.5"));
    add_kline(fx, minute - 60000, "118", "125", "116", "124"); /* the next one closes */
    size_t three = 3;
    assert_true(fx_run_until(fx, 3000, candles_at_least, &three));
    fx_run_for(fx, 150);
    assert_int_equal(mock_host_count_events(fx->m, QTR_EV_CANDLE), 3);
    e = mock_host_last_event(fx->m, QTR_EV_CANDLE);
    assert_string_equal(e->u.candle.symbol, "BTCUSDT");
    assert_int_equal(e->u.candle.open_time_ms, minute - 60000);
    assert_int_equal(e->u.candle.close_time_ms, minute - 60000 + 59999);
    assert_int_equal(e->u.candle.open, D("118"));
    assert_int_equal(e->u.candle.high, D("125"));
    assert_int_equal(e->u.candle.low, D("116"));
    assert_int_equal(e->u.candle.close, D("124"));
    assert_int_equal(e->u.candle.volume, D("12.5"));
    /* each published once, in time order */
    int64_t prev = 0;
    for (size_t i = 0; i < fx->m->n_events; i++)
        if (fx->m->events[i].type == QTR_EV_CANDLE) {
            assert_true(fx->m->events[i].u.candle.open_time_ms > prev);
            prev = fx->m->events[i].u.candle.open_time_ms;
        }
}

static bool has_event(bn_fx *fx, const void *type)
{
    return mock_host_count_events(fx->m, *(const qtr_event_type *)type) > 0;
}

static void mark_price_and_funding(void **state)
{
    bn_fx *fx = *state;
    assert_int_equal(mx_post(fx->mx, "/mock/premium?symbol=BTCUSDT&mark=64011.87&index=64020.11522727&funding=0.0001"
                                     "&next_funding=1767254400000"),
                     200);
    mock_host_set_option(fx->m, "symbols", "BTCUSDT");
    mock_host_set_option(fx->m, "mark_poll_ms", "20");
    assert_true(fx_load(fx));
    qtr_event_type t = QTR_EV_MARK_PRICE;
    assert_true(fx_run_until(fx, 3000, has_event, &t));
    const qtr_mark_price *m = &mock_host_last_event(fx->m, QTR_EV_MARK_PRICE)->u.mark_price;
    assert_string_equal(m->symbol, "BTCUSDT");
    assert_int_equal(m->mark_price, D("64011.87"));
    assert_int_equal(m->index_price, D("64020.11522727"));
    assert_int_equal(m->funding_rate, D("0.0001"));
    assert_int_equal(m->next_funding_ms, 1767254400000);
}

static void book_top_with_depth_notional(void **state)
{
    bn_fx *fx = *state;
    assert_int_equal(mx_post(fx->mx, "/mock/depth?symbol=BTCUSDT&bids=49999.9:1.5,49999.8:2&asks=50000.1:0.5,50000.2:1"),
                     200);
    mock_host_set_option(fx->m, "symbols", "BTCUSDT");
    mock_host_set_option(fx->m, "depth_poll_ms", "20");
    assert_true(fx_load(fx));
    qtr_event_type t = QTR_EV_BOOK_TOP;
    assert_true(fx_run_until(fx, 3000, has_event, &t));
    const qtr_book_top *b = &mock_host_last_event(fx->m, QTR_EV_BOOK_TOP)->u.book_top;
    assert_int_equal(b->bid_price, D("49999.9"));
    assert_int_equal(b->bid_qty, D("1.5"));
    assert_int_equal(b->ask_price, D("50000.1"));
    assert_int_equal(b->ask_qty, D("0.5"));
    /* 49999.9 * 1.5 + 49999.8 * 2 = 74999.85 + 99999.6 */
    assert_int_equal(b->bid_depth_notional, D("174999.45"));
    /* 50000.1 * 0.5 + 50000.2 * 1 = 25000.05 + 50000.2 */
    assert_int_equal(b->ask_depth_notional, D("75000.25"));
}

static void bad_market_data_is_counted_not_published(void **state)
{
    bn_fx *fx = *state;
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/depth&kind=html&count=3"), 200);
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/premiumIndex&kind=malformed&exec=1&count=2"), 200);
    mock_host_set_option(fx->m, "symbols", "BTCUSDT");
    mock_host_set_option(fx->m, "depth_poll_ms", "20");
    mock_host_set_option(fx->m, "mark_poll_ms", "20");
    assert_true(fx_load(fx));
    qtr_event_type t = QTR_EV_BOOK_TOP;
    assert_true(fx_run_until(fx, 3000, has_event, &t)); /* recovers once the faults are used up */
    t = QTR_EV_MARK_PRICE;
    assert_true(fx_run_until(fx, 3000, has_event, &t));
    assert_int_equal(mock_host_metric(fx->m, "exchange_errors_total", "html"), 3);
    assert_int_equal(mock_host_metric(fx->m, "exchange_errors_total", "malformed_json"), 2);
    assert_non_null(strstr(fx->log, "GET /fapi/v1/depth: HTTP 502 with an HTML body"));
}

typedef struct snap_result {
    int calls, status;
    qtr_order_update orders[8];
    size_t n_orders;
    qtr_position positions[8];
    size_t n_positions;
} snap_result;

static void on_snapshot(void *ud, int status, const qtr_order_update *o, size_t no, const qtr_position *p, size_t np)
{
    snap_result *r = ud;
    r->calls++;
    r->status = status;
    r->n_orders = no < 8 ? no : 8;
    r->n_positions = np < 8 ? np : 8;
    if (no) memcpy(r->orders, o, r->n_orders * sizeof *o);
    if (np) memcpy(r->positions, p, r->n_positions * sizeof *p);
}

static bool snap_done(bn_fx *fx, const void *r)
{
    (void)fx;
    return ((const snap_result *)r)->calls > 0;
}

static bool is_open(bn_fx *fx, const void *cid)
{
    const qtr_order_update *u = fx_last_update(fx, cid);
    return u && u->status == QTR_OS_NEW;
}

static const qtr_order_update *snap_order(const snap_result *r, const char *cid)
{
    for (size_t i = 0; i < r->n_orders; i++)
        if (!strcmp(r->orders[i].client_id, cid)) return &r->orders[i];
    return NULL;
}

static void snapshot_reconciles_what_the_exchange_holds(void **state)
{
    bn_fx *fx = *state;
    assert_int_equal(mx_post(fx->mx, "/mock/open_order?symbol=BTCUSDT&side=BUY&qty=0.01&price=45000&clientOrderId=ext-1"
                                     "&filled=0.004"),
                     200);
    assert_int_equal(mx_post(fx->mx, "/mock/position?symbol=BTCUSDT&amt=-0.5&entry=48000"), 200);
    assert_int_equal(mx_post(fx->mx, "/mock/position?symbol=ETHUSDT&amt=2&entry=3100"), 200);
    assert_true(fx_load(fx));
    assert_int_equal(fx_submit(fx, "own-1", "BTCUSDT", QTR_SIDE_SELL, QTR_ORDER_LIMIT, "0.010", "60000"), QTR_OK);
    assert_true(fx_run_until(fx, 3000, is_open, "own-1"));
    snap_result r;
    memset(&r, 0, sizeof r);
    assert_int_equal(fx->plug.desc->exchange->fetch_snapshot(fx->plug.state, on_snapshot, &r), QTR_OK);
    assert_int_equal(r.calls, 0); /* never from inside the call */
    assert_true(fx_run_until(fx, 3000, snap_done, &r));
    fx_run_for(fx, 100);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, QTR_OK);
    assert_int_equal(r.n_orders, 2);
    const qtr_order_update *ext = snap_order(&r, "ext-1"), *own = snap_order(&r, "own-1");
    assert_non_null(ext);
    assert_non_null(own);
    assert_true(ext->external);
    assert_false(own->external);
    assert_int_equal(ext->status, QTR_OS_PARTIALLY_FILLED);
    assert_int_equal(ext->filled_qty, D("0.004"));
    assert_int_equal(ext->avg_price, D("45000"));
    assert_int_equal(ext->qty, D("0.01"));
    assert_int_equal(own->side, QTR_SIDE_SELL);
    assert_int_equal(own->price, D("60000"));
    assert_int_equal(r.n_positions, 2);
    const qtr_position *btc = !strcmp(r.positions[0].symbol, "BTCUSDT") ? &r.positions[0] : &r.positions[1];
    const qtr_position *eth = btc == &r.positions[0] ? &r.positions[1] : &r.positions[0];
    assert_string_equal(btc->symbol, "BTCUSDT");
    assert_int_equal(btc->qty, D("-0.5"));
    assert_int_equal(btc->entry_price, D("48000"));
    assert_int_equal(btc->mark_price, D("50000"));
    /* (50000 - 48000) * -0.5 */
    assert_int_equal(btc->unrealized_pnl, D("-1000"));
    assert_string_equal(eth->symbol, "ETHUSDT");
    assert_int_equal(eth->qty, D("2"));
}

static void snapshot_failure_reports_once(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v2/positionRisk&kind=html"), 200);
    snap_result r;
    memset(&r, 0, sizeof r);
    assert_int_equal(fx->plug.desc->exchange->fetch_snapshot(fx->plug.state, on_snapshot, &r), QTR_OK);
    assert_true(fx_run_until(fx, 3000, snap_done, &r));
    fx_run_for(fx, 100);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, QTR_EIO);
    assert_int_equal(r.n_orders, 0);
    assert_int_equal(r.n_positions, 0);
}

static bool leverage_set(bn_fx *fx, const void *arg)
{
    (void)arg;
    json_t *st = mx_state(fx->mx);
    json_t *btc = json_object_get(json_object_get(st, "positions"), "BTCUSDT");
    json_t *eth = json_object_get(json_object_get(st, "positions"), "ETHUSDT");
    bool ok = json_integer_value(json_object_get(btc, "leverage")) == 7 &&
              json_integer_value(json_object_get(eth, "leverage")) == 7;
    json_decref(st);
    return ok;
}

static void leverage_is_set_at_start(void **state)
{
    bn_fx *fx = *state;
    mock_host_set_option(fx->m, "symbols", "BTCUSDT,ETHUSDT");
    mock_host_set_option(fx->m, "leverage", "7");
    assert_true(fx_load(fx));
    assert_true(fx_run_until(fx, 3000, leverage_set, NULL));
}

static void missing_secret_refuses_init(void **state)
{
    bn_fx *fx = *state;
    unsetenv("QTR_BINANCE_API_SECRET");
    assert_int_not_equal(mock_plugin_load(fx->m, mock_plugin_path("exchange_binance_usdm"), &fx->plug), 0);
    assert_non_null(strstr(fx->log, "QTR_BINANCE_API_SECRET is not set"));
    setenv("QTR_BINANCE_API_SECRET", FX_SECRET, 1);
    unsetenv("QTR_BINANCE_API_KEY");
    assert_int_not_equal(mock_plugin_load(fx->m, mock_plugin_path("exchange_binance_usdm"), &fx->plug), 0);
    assert_non_null(strstr(fx->log, "QTR_BINANCE_API_KEY is not set"));
    setenv("QTR_BINANCE_API_KEY", FX_API_KEY, 1);
}

static void bad_options_refuse_init(void **state)
{
    bn_fx *fx = *state;
    mock_host_set_option(fx->m, "retry_backoff_ms", "10,x");
    assert_int_not_equal(mock_plugin_load(fx->m, mock_plugin_path("exchange_binance_usdm"), &fx->plug), 0);
    assert_non_null(strstr(fx->log, "option retry_backoff_ms"));
    mock_host_set_option(fx->m, "retry_backoff_ms", "10*3");
    mock_host_set_option(fx->m, "base_url", "ftp://example");
    assert_int_not_equal(mock_plugin_load(fx->m, mock_plugin_path("exchange_binance_usdm"), &fx->plug), 0);
    assert_non_null(strstr(fx->log, "option base_url"));
    mock_host_set_option(fx->m, "base_url", fx->mx->base_url);
    mock_host_set_option(fx->m, "min_fill_ratio", "1.5");
    assert_int_not_equal(mock_plugin_load(fx->m, mock_plugin_path("exchange_binance_usdm"), &fx->plug), 0);
    assert_non_null(strstr(fx->log, "option min_fill_ratio"));
    mock_host_set_option(fx->m, "min_fill_ratio", "0.9");
    assert_true(fx_load(fx)); /* and with good options it starts */
}

/* With debug on, every request is logged: the secret, the key and the
 * signatures must not be, and the mock must have accepted the signatures. */
static void secrets_never_logged(void **state)
{
    bn_fx *fx = *state;
    mock_host_set_option(fx->m, "debug", "true");
    assert_true(fx_load(fx));
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/order&method=POST&kind=500&exec=1"), 200);
    assert_int_equal(fx_submit(fx, "sec-1", "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_MARKET, "0.010", NULL), QTR_OK);
    assert_true(fx_run_until(fx, 3000, fx_final, "sec-1"));
    assert_int_equal(fx_last_update(fx, "sec-1")->status, QTR_OS_FILLED);
    assert_non_null(strstr(fx->log, "-> POST /fapi/v1/order"));
    assert_non_null(strstr(fx->log, "signature=<redacted>"));
    assert_null(strstr(fx->log, FX_SECRET));
    assert_null(strstr(fx->log, FX_API_KEY));
    /* no 64-hex-digit run (a signature) anywhere in the log */
    size_t run = 0, longest = 0;
    for (const char *c = fx->log; *c; c++) {
        bool hex = (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f');
        run = hex ? run + 1 : 0;
        if (run > longest) longest = run;
    }
    assert_true(longest < 64);
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_counter(st, "signature_failures"), 0);
    assert_int_equal(mx_counter(st, "key_failures"), 0);
    assert_true(mx_requests(st, "GET /fapi/v1/order") >= 1);
    json_decref(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(closed_candles_once_each, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(mark_price_and_funding, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(book_top_with_depth_notional, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(bad_market_data_is_counted_not_published, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(snapshot_reconciles_what_the_exchange_holds, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(snapshot_failure_reports_once, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(leverage_is_set_at_start, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(missing_secret_refuses_init, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(bad_options_refuse_init, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(secrets_never_logged, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
