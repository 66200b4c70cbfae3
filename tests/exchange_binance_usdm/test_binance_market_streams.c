/* Market data over the mock's combined streams: closed klines, mark price
 * and funding, book tops arrive with polling off; a kline whose event was
 * lost is a gap, backfilled over REST in order; a stream that goes down
 * falls back to polling (health says so) and comes back. */
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

static void load_streaming(bn_fx *fx, const char *poll_ms)
{
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%ld", fx_ws_info(fx, "port"));
    fx_stream_options(fx, url);
    mock_host_set_option(fx->m, "symbols", "BTCUSDT");
    mock_host_set_option(fx->m, "kline_poll_ms", poll_ms);
    mock_host_set_option(fx->m, "mark_poll_ms", poll_ms);
    mock_host_set_option(fx->m, "depth_poll_ms", poll_ms);
    assert_true(fx_load(fx));
}

static void add_kline(bn_fx *fx, int64_t open, const char *c, bool on_stream)
{
    char q[256];
    snprintf(q, sizeof q, "/mock/kline?symbol=BTCUSDT&open_time=%lld&close_time=%lld&o=100&h=130&l=90&c=%s&v=12.5%s",
             (long long)open, (long long)(open + 59999), c, on_stream ? "" : "&stream=0");
    assert_int_equal(mx_post(fx->mx, q), 200);
}

static bool candles_at_least(bn_fx *fx, const void *n)
{
    return mock_host_count_events(fx->m, QTR_EV_CANDLE) >= *(const size_t *)n;
}

static bool has_event(bn_fx *fx, const void *type)
{
    return mock_host_count_events(fx->m, *(const qtr_event_type *)type) > 0;
}

static long requests(bn_fx *fx, const char *what)
{
    json_t *st = mx_state(fx->mx);
    long n = mx_requests(st, what);
    json_decref(st);
    return n;
}

static void assert_candles_in_order(bn_fx *fx, size_t n)
{
    assert_int_equal(mock_host_count_events(fx->m, QTR_EV_CANDLE), n);
    int64_t prev = 0;
    for (size_t i = 0; i < fx->m->n_events; i++)
        if (fx->m->events[i].type == QTR_EV_CANDLE) {
            assert_true(fx->m->events[i].u.candle.open_time_ms == prev + 60000 || prev == 0);
            prev = fx->m->events[i].u.candle.open_time_ms;
        }
}

/* Polling every 10 minutes: only the streams can bring these in time. */
static void market_data_over_streams(void **state)
{
    bn_fx *fx = *state;
    load_streaming(fx, "600000");
    assert_true(fx_run_until(fx, 3000, fx_health_says, "market data: stream"));
    fx_run_for(fx, 100); /* the resync's klines request is back */
    int64_t minute = wall_ms() / 60000 * 60000;
    add_kline(fx, minute - 120000, "118.5", true);
    size_t one = 1;
    assert_true(fx_run_until(fx, 2000, candles_at_least, &one));
    const qtr_candle *c = &mock_host_last_event(fx->m, QTR_EV_CANDLE)->u.candle;
    assert_int_equal(c->open_time_ms, minute - 120000);
    assert_int_equal(c->close, D("118.5"));
    assert_int_equal(c->volume, D("12.5"));
    add_kline(fx, minute, "119", true); /* still open: never published */
    assert_int_equal(mx_post(fx->mx, "/mock/premium?symbol=BTCUSDT&mark=64011.87&index=64020.11&funding=0.0001"
                                     "&next_funding=1767254400000"),
                     200);
    qtr_event_type t = QTR_EV_MARK_PRICE;
    assert_true(fx_run_until(fx, 2000, has_event, &t));
    const qtr_mark_price *m = &mock_host_last_event(fx->m, QTR_EV_MARK_PRICE)->u.mark_price;
    assert_int_equal(m->mark_price, D("64011.87"));
    assert_int_equal(m->index_price, D("64020.11"));
    assert_int_equal(m->funding_rate, D("0.0001"));
    assert_int_equal(m->next_funding_ms, 1767254400000);
    assert_int_equal(mx_post(fx->mx, "/mock/depth?symbol=BTCUSDT&bids=49999.9:1.5&asks=50000.1:0.5"), 200);
    t = QTR_EV_BOOK_TOP;
    assert_true(fx_run_until(fx, 2000, has_event, &t));
    const qtr_book_top *b = &mock_host_last_event(fx->m, QTR_EV_BOOK_TOP)->u.book_top;
    assert_int_equal(b->bid_price, D("49999.9"));
    assert_int_equal(b->ask_qty, D("0.5"));
    assert_int_equal(b->bid_depth_notional, 0); /* the top only */
    fx_run_for(fx, 100);
    assert_int_equal(mock_host_count_events(fx->m, QTR_EV_CANDLE), 1);
    assert_int_equal(requests(fx, "GET /fapi/v1/premiumIndex"), 0);
    assert_int_equal(requests(fx, "GET /fapi/v1/depth"), 0);
}

/* The second candle's event is lost: the third shows the gap, REST
 * backfills both, in order, each once. */
static void kline_gap_is_backfilled_in_order(void **state)
{
    bn_fx *fx = *state;
    load_streaming(fx, "600000");
    assert_true(fx_run_until(fx, 3000, fx_health_says, "market data: stream"));
    fx_run_for(fx, 100);
    int64_t minute = wall_ms() / 60000 * 60000;
    add_kline(fx, minute - 240000, "101", true);
    size_t n = 1;
    assert_true(fx_run_until(fx, 2000, candles_at_least, &n));
    add_kline(fx, minute - 180000, "102", false);
    add_kline(fx, minute - 120000, "103", true);
    n = 3;
    assert_true(fx_run_until(fx, 2000, candles_at_least, &n));
    fx_run_for(fx, 100);
    assert_candles_in_order(fx, 3);
    assert_int_equal(mock_host_last_event(fx->m, QTR_EV_CANDLE)->u.candle.close, D("103"));
    assert_int_equal(mock_host_metric(fx->m, "exchange_stream_gaps_total", "market"), 1);
}

/* Down: polling brings the candle and health says so; back: the stream. */
static void down_polls_then_stream_again(void **state)
{
    bn_fx *fx = *state;
    load_streaming(fx, "40");
    assert_true(fx_run_until(fx, 3000, fx_health_says, "market data: stream"));
    fx_run_for(fx, 100);
    long polls = requests(fx, "GET /fapi/v1/premiumIndex");
    fx_run_for(fx, 200);
    assert_int_equal(requests(fx, "GET /fapi/v1/premiumIndex"), polls); /* paused while streaming */
    assert_int_equal(mx_post(fx->mx, "/mock/ws?action=down"), 200);
    assert_true(fx_run_until(fx, 2000, fx_health_says, "market data: polling"));
    int64_t minute = wall_ms() / 60000 * 60000;
    add_kline(fx, minute - 180000, "101", true); /* no stream to carry it */
    size_t n = 1;
    assert_true(fx_run_until(fx, 2000, candles_at_least, &n));
    assert_true(requests(fx, "GET /fapi/v1/premiumIndex") > polls);
    assert_int_equal(mx_post(fx->mx, "/mock/ws?action=up"), 200);
    assert_true(fx_run_until(fx, 3000, fx_health_says, "market data: stream"));
    fx_run_for(fx, 100);
    long klines = requests(fx, "GET /fapi/v1/klines");
    add_kline(fx, minute - 120000, "102", true);
    n = 2;
    assert_true(fx_run_until(fx, 2000, candles_at_least, &n));
    fx_run_for(fx, 100);
    assert_int_equal(requests(fx, "GET /fapi/v1/klines"), klines); /* it came over the stream */
    assert_candles_in_order(fx, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(market_data_over_streams, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(kline_gap_is_backfilled_in_order, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(down_polls_then_stream_again, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
