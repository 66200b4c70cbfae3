/* The user data stream against the mock's WebSocket server: fills come over
 * the stream with polling off, a fill seen on both the stream and REST is
 * booked once, out-of-order events never publish a state before its fills,
 * a disconnect falls back to polling and health says so, a stall and an
 * expired or forgotten listenKey reconnect and resync over REST, an event
 * lost on a live stream is found by the periodic check, an
 * oversized frame is a protocol error and malformed JSON is counted and
 * never applied. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bn_fixture.h"

static void ws_action(bn_fx *fx, const char *query)
{
    char path[1100];   /* queries reach ~1 KiB (a raw event): a cut one would test another message */
    int n = snprintf(path, sizeof path, "/mock/ws?%s", query);
    assert_true(n > 0 && (size_t)n < sizeof path);
    assert_int_equal(mx_post(fx->mx, path), 200);
}

static bool streaming(bn_fx *fx, const void *arg)
{
    (void)arg;
    return fx_health_says(fx, "fills: stream");
}

typedef struct fills_want {
    const char *cid;
    size_t n;
} fills_want;

static bool has_fills(bn_fx *fx, const void *arg)
{
    const fills_want *w = arg;
    return fx_fills(fx, w->cid, NULL) >= w->n;
}

static void place_resting(bn_fx *fx, const char *cid)
{
    assert_int_equal(fx_submit(fx, cid, "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_LIMIT, "0.010", "49000"), QTR_OK);
    assert_true(fx_run_until(fx, 3000, fx_is_new, cid));
}

static void mock_fill(bn_fx *fx, const char *cid, const char *qty)
{
    char path[160];
    snprintf(path, sizeof path, "/mock/fill?clientOrderId=%s&qty=%s", cid, qty);
    assert_int_equal(mx_post(fx->mx, path), 200);
}

static void assert_filled(bn_fx *fx, const char *cid, size_t n_fills)
{
    assert_true(fx_run_until(fx, 3000, fx_final, cid));
    const qtr_order_update *u = fx_last_update(fx, cid);
    assert_int_equal(u->status, QTR_OS_FILLED);
    qtr_dec sum = 0;
    assert_int_equal(fx_fills(fx, cid, &sum), n_fills);
    assert_int_equal(sum, D("0.010"));
    assert_true(fx_fills_match_updates(fx, cid));
}

/* Polling every 10 minutes: only the stream can bring these fills in time. */
static void fills_come_over_the_stream(void **state)
{
    bn_fx *fx = *state;
    fx_load_streaming(fx, "600000");
    assert_true(fx_run_until(fx, 3000, streaming, NULL));
    place_resting(fx, "st-1");
    json_t *st = mx_state(fx->mx);
    long queries = mx_requests(st, "GET /fapi/v1/order"), trades = mx_requests(st, "GET /fapi/v1/userTrades");
    json_decref(st);
    mock_fill(fx, "st-1", "0.004");
    fills_want w = { "st-1", 1 };
    assert_true(fx_run_until(fx, 2000, has_fills, &w));
    assert_int_equal(fx_last_update(fx, "st-1")->status, QTR_OS_PARTIALLY_FILLED);
    mock_fill(fx, "st-1", "0.006");
    assert_filled(fx, "st-1", 2);
    st = mx_state(fx->mx);
    /* nothing asked over REST: fills, prices and fees came with the events */
    assert_int_equal(mx_requests(st, "GET /fapi/v1/order"), queries);
    assert_int_equal(mx_requests(st, "GET /fapi/v1/userTrades"), trades);
    json_t *t = mx_trade(st, "st-1", 0);
    const qtr_fill *f = fx_fill(fx, "st-1", 0);
    char want[QTR_CLIENT_ID_MAX];
    snprintf(want, sizeof want, "BTCUSDT:%lld:B", (long long)json_integer_value(json_object_get(t, "id")));
    assert_string_equal(f->fill_id, want);
    assert_int_equal(f->fee, D(json_string_value(json_object_get(t, "commission"))));
    json_decref(st);
}

/* The same execution reaches the plugin over REST (while the stream is
 * down) and again over the stream (events held, released after the
 * reconnect): it is booked once. */
static void fill_on_stream_and_rest_is_booked_once(void **state)
{
    bn_fx *fx = *state;
    fx_load_streaming(fx, "40");
    assert_true(fx_run_until(fx, 3000, streaming, NULL));
    place_resting(fx, "both-1");
    ws_action(fx, "action=hold");
    mock_fill(fx, "both-1", "0.004");
    ws_action(fx, "action=disconnect&kind=user");
    fills_want w = { "both-1", 1 };
    assert_true(fx_run_until(fx, 3000, has_fills, &w)); /* polled over REST */
    assert_true(fx_run_until(fx, 3000, streaming, NULL));
    long sent = fx_ws_info(fx, "events_sent");
    ws_action(fx, "action=release");
    assert_true(fx_ws_info(fx, "events_sent") > sent); /* the held TRADE event went out */
    fx_run_for(fx, 200);
    assert_int_equal(fx_fills(fx, "both-1", NULL), 1);
    mock_fill(fx, "both-1", "0.006");
    assert_filled(fx, "both-1", 2);
}

/* Events sent newest first: the FILLED one shows an execution not yet
 * seen, so the order is asked over REST; FILLED is never told before both
 * fills, and the older event adds nothing twice. */
static void out_of_order_events(void **state)
{
    bn_fx *fx = *state;
    fx_load_streaming(fx, "600000");
    assert_true(fx_run_until(fx, 3000, streaming, NULL));
    place_resting(fx, "ooo-1");
    ws_action(fx, "action=reorder&arg=2");
    mock_fill(fx, "ooo-1", "0.004");
    mock_fill(fx, "ooo-1", "0.006");
    assert_filled(fx, "ooo-1", 2);
    assert_true(mock_host_metric(fx->m, "exchange_stream_gaps_total", "user") >= 1);
}

/* Stream down (connections refused): health says polling and the poller
 * books the fill; back up: health says stream again and polling stops. */
static void stream_down_polling_then_back(void **state)
{
    bn_fx *fx = *state;
    fx_load_streaming(fx, "40");
    assert_true(fx_run_until(fx, 3000, streaming, NULL));
    place_resting(fx, "down-1");
    ws_action(fx, "action=down");
    assert_true(fx_run_until(fx, 2000, fx_health_says, "fills: polling"));
    mock_fill(fx, "down-1", "0.004");
    fills_want w = { "down-1", 1 };
    assert_true(fx_run_until(fx, 2000, has_fills, &w));
    ws_action(fx, "action=up");
    assert_true(fx_run_until(fx, 3000, streaming, NULL));
    fx_run_for(fx, 100);
    json_t *st = mx_state(fx->mx);
    long queries = mx_requests(st, "GET /fapi/v1/order");
    json_decref(st);
    fx_run_for(fx, 300); /* 7 poll periods: no query while the stream is up */
    st = mx_state(fx->mx);
    assert_int_equal(mx_requests(st, "GET /fapi/v1/order"), queries);
    json_decref(st);
    mock_fill(fx, "down-1", "0.006");
    assert_filled(fx, "down-1", 2);
}

/* An event that never comes on a live stream (held by the mock): open
 * orders are still queried every stream_poll_ms, which finds the fill. */
static void lost_event_found_by_the_periodic_check(void **state)
{
    bn_fx *fx = *state;
    mock_host_set_option(fx->m, "stream_poll_ms", "300");
    fx_load_streaming(fx, "40");
    assert_true(fx_run_until(fx, 3000, streaming, NULL));
    place_resting(fx, "lost-1");
    ws_action(fx, "action=hold");
    mock_fill(fx, "lost-1", "0.010");
    assert_filled(fx, "lost-1", 1);
    assert_true(fx_health_says(fx, "fills: stream")); /* it never went down */
    assert_int_equal(fx_ws_info(fx, "connections"), 1);
}

/* A stream that goes silent (no events, no pongs) is closed after
 * stream_stall_ms and reconnected; the REST resync finds the fill whose
 * event was lost. */
static void stall_reconnects_and_resyncs(void **state)
{
    bn_fx *fx = *state;
    fx_load_streaming(fx, "600000");
    assert_true(fx_run_until(fx, 3000, streaming, NULL));
    place_resting(fx, "stall-1");
    ws_action(fx, "action=stall");
    mock_fill(fx, "stall-1", "0.010"); /* its events are lost */
    assert_filled(fx, "stall-1", 1);
    assert_int_equal(mock_host_metric(fx->m, "exchange_stream_stalls_total", "user"), 1);
    assert_true(fx_ws_info(fx, "connections") >= 2);
}

/* listenKeyExpired: a new key is taken and the stream reconnects with it;
 * a key the exchange forgot answers -1125 to the keepalive: the same. */
static void expired_listen_key(void **state)
{
    bn_fx *fx = *state;
    mock_host_set_option(fx->m, "listen_key_keepalive_ms", "1000");
    fx_load_streaming(fx, "600000");
    assert_true(fx_run_until(fx, 3000, streaming, NULL));
    assert_int_equal(fx_ws_info(fx, "connections"), 1);
    ws_action(fx, "action=expire");
    assert_true(fx_run_until(fx, 2000, fx_health_says, "fills: polling (listenKey expired)"));
    assert_true(fx_run_until(fx, 3000, streaming, NULL));
    assert_int_equal(fx_ws_info(fx, "connections"), 2);
    ws_action(fx, "action=forget");
    assert_true(fx_run_until(fx, 3000, fx_health_says, "-1125"));
    assert_true(fx_run_until(fx, 3000, streaming, NULL));
    assert_int_equal(fx_ws_info(fx, "connections"), 3);
    assert_true(fx_ws_info(fx, "keepalives") >= 1);
    place_resting(fx, "exp-1");
    mock_fill(fx, "exp-1", "0.010");
    assert_filled(fx, "exp-1", 1);
}

/* A message over stream_max_message closes the connection (a protocol
 * error) and it reconnects; broken JSON and an event with a number where a
 * decimal string belongs are counted and change nothing. */
static void oversized_and_malformed(void **state)
{
    bn_fx *fx = *state;
    mock_host_set_option(fx->m, "stream_max_message", "2048");
    fx_load_streaming(fx, "600000");
    assert_true(fx_run_until(fx, 3000, streaming, NULL));
    place_resting(fx, "bad-1");
    ws_action(fx, "action=big&arg=5000");
    assert_true(fx_run_until(fx, 2000, fx_health_says, "longer than 2048"));
    assert_true(fx_run_until(fx, 3000, streaming, NULL));
    assert_int_equal(fx_ws_info(fx, "connections"), 2);
    ws_action(fx, "action=raw&kind=user&arg=%7Bnot%20json");
    json_t *st = mx_state(fx->mx);
    long oid = (long)json_integer_value(json_object_get(mx_order(st, "bad-1"), "orderId"));
    json_decref(st);
    char q[1024];
    snprintf(q, sizeof q,
             "action=raw&kind=user&arg=%%7B%%22e%%22%%3A%%22ORDER_TRADE_UPDATE%%22%%2C%%22E%%22%%3A1%%2C%%22o%%22%%3A%%7B"
             "%%22s%%22%%3A%%22BTCUSDT%%22%%2C%%22c%%22%%3A%%22bad-1%%22%%2C%%22S%%22%%3A%%22BUY%%22%%2C%%22x%%22%%3A%%22TRADE%%22"
             "%%2C%%22X%%22%%3A%%22FILLED%%22%%2C%%22i%%22%%3A%ld%%2C%%22z%%22%%3A0.01%%7D%%7D",
             oid);
    ws_action(fx, q);
    fx_run_for(fx, 200);
    assert_int_equal(mock_host_metric(fx->m, "exchange_stream_malformed_total", "user"), 2);
    assert_int_equal(fx_fills(fx, "bad-1", NULL), 0);
    assert_int_equal(fx_last_update(fx, "bad-1")->status, QTR_OS_NEW);
    assert_int_equal(fx_ws_info(fx, "connections"), 2); /* malformed JSON is not a reason to reconnect */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(fills_come_over_the_stream, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(fill_on_stream_and_rest_is_booked_once, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(out_of_order_events, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(stream_down_polling_then_back, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(stall_reconnects_and_resyncs, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(lost_event_found_by_the_periodic_check, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(expired_listen_key, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(oversized_and_malformed, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
