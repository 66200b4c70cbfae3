/* Exits on the exchange: stops, take-profits and trailing stops as
 * reduce-only conditional orders on the algo service of binance_mock, which
 * triggers them from the last or mark price the test drives. A trailing
 * stop rests with its fields, follows the best price, triggers at the
 * callback and its fill reaches the host once (stream and REST both on);
 * bad callbacks are refused before sending; the exchange's refusals
 * (-2022, -2021) end the order; the snapshot reports open algo orders with
 * what they are; one placed before a restart is adopted, never resent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bn_fixture.h"

static void post(bn_fx *fx, const char *path) { assert_int_equal(mx_post(fx->mx, path), 200); }

static int submit_trailing(bn_fx *fx, const char *cid, uint32_t bps, const char *activation, bool reduce_only)
{
    qtr_order_intent o;
    memset(&o, 0, sizeof o);
    qtr_strlcpy(o.symbol, "BTCUSDT", sizeof o.symbol);
    qtr_strlcpy(o.client_id, cid, sizeof o.client_id);
    qtr_strlcpy(o.strategy, "exits", sizeof o.strategy);
    o.side = QTR_SIDE_SELL;
    o.type = QTR_ORDER_TRAILING_STOP_MARKET;
    o.qty = D("0.010");
    o.reduce_only = reduce_only;
    o.callback_bps = bps;
    o.activation_price = activation ? D(activation) : 0;
    o.working_type = QTR_WORKING_MARK;
    return fx->plug.desc->exchange->submit_order(fx->plug.state, &o);
}

static int submit_stop(bn_fx *fx, const char *cid, qtr_order_type type, const char *trigger)
{
    qtr_order_intent o;
    memset(&o, 0, sizeof o);
    qtr_strlcpy(o.symbol, "BTCUSDT", sizeof o.symbol);
    qtr_strlcpy(o.client_id, cid, sizeof o.client_id);
    o.side = QTR_SIDE_SELL;
    o.type = type;
    o.qty = D("0.010");
    o.stop_price = D(trigger);
    o.reduce_only = true;
    o.working_type = QTR_WORKING_LAST;
    return fx->plug.desc->exchange->submit_order(fx->plug.state, &o);
}

static const char *algo_state(bn_fx *fx, const char *cid, const char *field, char *buf, size_t len)
{
    json_t *st = mx_state(fx->mx);
    json_t *o = mx_order(st, cid);
    assert_non_null(o);
    json_t *v = json_object_get(o, field);
    if (json_is_string(v)) snprintf(buf, len, "%s", json_string_value(v));
    else if (json_is_boolean(v)) snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
    else snprintf(buf, len, "?");
    json_decref(st);
    return buf;
}

static void trailing_stop_rests_follows_and_fills_once(void **state)
{
    bn_fx *fx = *state;
    fx_load_streaming(fx, "100");
    const char *cid = "qtr-ex-ts";
    char b[64];
    post(fx, "/mock/position?symbol=BTCUSDT&amt=0.010&entry=50000");
    assert_int_equal(submit_trailing(fx, cid, 100, "51000", true), QTR_OK);
    assert_true(fx_run_until(fx, 3000, fx_is_new, cid));
    /* on the exchange: a reduce-only TRAILING_STOP_MARKET algo order with its fields */
    assert_string_equal(algo_state(fx, cid, "orderType", b, sizeof b), "TRAILING_STOP_MARKET");
    assert_string_equal(algo_state(fx, cid, "reduceOnly", b, sizeof b), "true");
    assert_string_equal(algo_state(fx, cid, "callbackRate", b, sizeof b), "1.0");
    assert_string_equal(algo_state(fx, cid, "activatePrice", b, sizeof b), "51000");
    assert_string_equal(algo_state(fx, cid, "workingType", b, sizeof b), "MARK_PRICE");
    const qtr_order_update *u = fx_last_update(fx, cid);
    assert_int_equal(u->type, QTR_ORDER_TRAILING_STOP_MARKET);
    assert_int_equal(u->callback_bps, 100);
    assert_int_equal(u->activation_price, D("51000"));
    assert_int_equal(u->working_type, QTR_WORKING_MARK);
    assert_true(u->reduce_only);

    /* below the activation nothing follows; then the best is 52000 and 1% under it triggers */
    post(fx, "/mock/mark?symbol=BTCUSDT&price=49000");
    post(fx, "/mock/mark?symbol=BTCUSDT&price=51000");
    post(fx, "/mock/mark?symbol=BTCUSDT&price=52000");
    post(fx, "/mock/price?symbol=BTCUSDT&price=51490");
    post(fx, "/mock/mark?symbol=BTCUSDT&price=51490"); /* 0.98% back: not yet */
    fx_run_for(fx, 300);
    assert_string_equal(algo_state(fx, cid, "state", b, sizeof b), "NEW");
    assert_int_equal(fx_last_update(fx, cid)->status, QTR_OS_NEW);
    post(fx, "/mock/price?symbol=BTCUSDT&price=51480");
    post(fx, "/mock/mark?symbol=BTCUSDT&price=51480"); /* 52000 x 0.99 */
    assert_true(fx_run_until(fx, 5000, fx_final, cid));
    fx_run_for(fx, 500); /* late stream events and polls publish nothing more */
    u = fx_last_update(fx, cid);
    assert_int_equal(u->status, QTR_OS_FILLED);
    assert_int_equal(u->filled_qty, D("0.010"));
    assert_int_equal(u->avg_price, D("51480"));
    qtr_dec sum;
    assert_int_equal(fx_fills(fx, cid, &sum), 1);
    assert_int_equal(sum, D("0.010"));
    assert_true(fx_fill(fx, cid, 0)->reduce_only);
    assert_true(fx_fills_match_updates(fx, cid));
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_accepted(st, cid, NULL), 1);
    assert_int_equal(mx_requests(st, "POST /fapi/v1/algoOrder"), 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(st, "positions"), "BTCUSDT"),
                                                          "amt")),
                        "0");
    json_decref(st);
}

static void stop_on_last_price_fills(void **state)
{
    bn_fx *fx = *state;
    mock_host_set_option(fx->m, "poll_interval_ms", "100");
    assert_true(fx_load(fx));
    post(fx, "/mock/position?symbol=BTCUSDT&amt=0.010&entry=50000");
    assert_int_equal(submit_stop(fx, "qtr-ex-sl", QTR_ORDER_STOP_MARKET, "49000"), QTR_OK);
    assert_true(fx_run_until(fx, 3000, fx_is_new, "qtr-ex-sl"));
    char b[64];
    assert_string_equal(algo_state(fx, "qtr-ex-sl", "workingType", b, sizeof b), "CONTRACT_PRICE");
    assert_string_equal(algo_state(fx, "qtr-ex-sl", "triggerPrice", b, sizeof b), "49000");
    post(fx, "/mock/mark?symbol=BTCUSDT&price=48000"); /* the mark does not move a last-price stop */
    fx_run_for(fx, 300);
    assert_int_equal(fx_last_update(fx, "qtr-ex-sl")->status, QTR_OS_NEW);
    post(fx, "/mock/price?symbol=BTCUSDT&price=48990");
    assert_true(fx_run_until(fx, 5000, fx_final, "qtr-ex-sl"));
    const qtr_order_update *u = fx_last_update(fx, "qtr-ex-sl");
    assert_int_equal(u->status, QTR_OS_FILLED);
    assert_int_equal(u->avg_price, D("48990"));
    assert_int_equal(u->stop_price, D("49000"));
    assert_int_equal(fx_fills(fx, "qtr-ex-sl", NULL), 1);
}

static bool final_cids(bn_fx *fx, const void *arg) { return fx_all_final(fx, arg); }

static void refusals_before_and_by_the_exchange(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    /* a callback the exchange cannot take exactly: refused here, never rounded or sent */
    assert_int_not_equal(submit_trailing(fx, "qtr-ex-r1", 155, NULL, true), QTR_OK);
    const qtr_order_update *u = fx_last_update(fx, "qtr-ex-r1");
    assert_non_null(u);
    assert_int_equal(u->status, QTR_OS_REJECTED);
    assert_non_null(strstr(u->reason, "callback_bps 155"));
    assert_int_not_equal(submit_trailing(fx, "qtr-ex-r2", 1200, NULL, true), QTR_OK);
    assert_non_null(strstr(fx_last_update(fx, "qtr-ex-r2")->reason, "outside"));
    /* no position: the exchange refuses a reduce-only exit (-2022) */
    assert_int_equal(submit_trailing(fx, "qtr-ex-r3", 100, NULL, true), QTR_OK);
    /* with a position, an activation price already passed would trigger at once (-2021) */
    const char *cids[] = { "qtr-ex-r3", NULL };
    assert_true(fx_run_until(fx, 3000, final_cids, cids));
    post(fx, "/mock/position?symbol=BTCUSDT&amt=0.010&entry=50000");
    assert_int_equal(submit_trailing(fx, "qtr-ex-r4", 100, "49000", true), QTR_OK);
    const char *cids4[] = { "qtr-ex-r4", NULL };
    assert_true(fx_run_until(fx, 3000, final_cids, cids4));
    u = fx_last_update(fx, "qtr-ex-r3");
    assert_int_equal(u->status, QTR_OS_REJECTED);
    assert_non_null(strstr(u->reason, "-2022"));
    u = fx_last_update(fx, "qtr-ex-r4");
    assert_int_equal(u->status, QTR_OS_REJECTED);
    assert_non_null(strstr(u->reason, "-2021"));
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_requests(st, "POST /fapi/v1/algoOrder"), 2); /* r3 and r4 only */
    json_decref(st);
}

typedef struct snap_result {
    int calls, status;
    qtr_order_update orders[8];
    size_t n_orders;
} snap_result;

static void on_snapshot(void *ud, int status, const qtr_order_update *o, size_t no, const qtr_position *p, size_t np)
{
    (void)p; (void)np;
    snap_result *r = ud;
    r->calls++;
    r->status = status;
    r->n_orders = no < 8 ? no : 8;
    if (no) memcpy(r->orders, o, r->n_orders * sizeof *o);
}

static bool snap_done(bn_fx *fx, const void *r)
{
    (void)fx;
    return ((const snap_result *)r)->calls > 0;
}

static const qtr_order_update *snap_order(const snap_result *r, const char *cid)
{
    for (size_t i = 0; i < r->n_orders; i++)
        if (!strcmp(r->orders[i].client_id, cid)) return &r->orders[i];
    return NULL;
}

static void snapshot_reports_open_algo_orders(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    post(fx, "/mock/position?symbol=BTCUSDT&amt=0.010&entry=50000");
    post(fx, "/mock/open_algo?symbol=BTCUSDT&side=SELL&type=TAKE_PROFIT_MARKET&qty=0.010&clientAlgoId=manual-tp"
             "&triggerPrice=60000&reduceOnly=true");
    assert_int_equal(submit_trailing(fx, "qtr-ex-ts2", 250, "51000", true), QTR_OK);
    assert_int_equal(submit_stop(fx, "qtr-ex-sl2", QTR_ORDER_STOP_MARKET, "45000"), QTR_OK);
    assert_true(fx_run_until(fx, 3000, fx_is_new, "qtr-ex-ts2"));
    assert_true(fx_run_until(fx, 3000, fx_is_new, "qtr-ex-sl2"));
    snap_result r;
    memset(&r, 0, sizeof r);
    assert_int_equal(fx->plug.desc->exchange->fetch_snapshot(fx->plug.state, on_snapshot, &r), QTR_OK);
    assert_true(fx_run_until(fx, 3000, snap_done, &r));
    assert_int_equal(r.status, QTR_OK);
    assert_int_equal(r.n_orders, 3);
    const qtr_order_update *ts = snap_order(&r, "qtr-ex-ts2"), *sl = snap_order(&r, "qtr-ex-sl2"),
                           *tp = snap_order(&r, "manual-tp");
    assert_non_null(ts);
    assert_non_null(sl);
    assert_non_null(tp);
    assert_int_equal(ts->type, QTR_ORDER_TRAILING_STOP_MARKET);
    assert_int_equal(ts->status, QTR_OS_NEW);
    assert_int_equal(ts->callback_bps, 250);
    assert_int_equal(ts->activation_price, D("51000"));
    assert_int_equal(ts->working_type, QTR_WORKING_MARK);
    assert_true(ts->reduce_only);
    assert_int_equal(ts->qty, D("0.010"));
    assert_false(ts->external);
    assert_int_equal(sl->type, QTR_ORDER_STOP_MARKET);
    assert_int_equal(sl->stop_price, D("45000"));
    assert_int_equal(sl->working_type, QTR_WORKING_LAST);
    assert_true(sl->reduce_only);
    assert_int_equal(tp->type, QTR_ORDER_TAKE_PROFIT_MARKET);
    assert_int_equal(tp->stop_price, D("60000"));
    assert_true(tp->external);
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_requests(st, "GET /fapi/v1/openAlgoOrders"), 1);
    json_decref(st);
}

/* Placed before a restart: the host knows only its id and kind; the plugin
 * reads the rest from the exchange, reports it, follows it, never resends. */
static void adopted_trailing_stop_is_followed_not_resent(void **state)
{
    bn_fx *fx = *state;
    fx_load_streaming(fx, "100");
    const char *cid = "qtr-old-ts";
    post(fx, "/mock/position?symbol=BTCUSDT&amt=0.010&entry=50000");
    post(fx, "/mock/open_algo?symbol=BTCUSDT&side=SELL&type=TRAILING_STOP_MARKET&qty=0.010&clientAlgoId=qtr-old-ts"
             "&callbackRate=0.5&activatePrice=51000&workingType=MARK_PRICE&reduceOnly=true");
    qtr_order_update k;
    memset(&k, 0, sizeof k);
    qtr_strlcpy(k.symbol, "BTCUSDT", sizeof k.symbol);
    qtr_strlcpy(k.client_id, cid, sizeof k.client_id);
    k.side = QTR_SIDE_SELL;
    k.type = QTR_ORDER_TRAILING_STOP_MARKET;
    k.status = QTR_OS_NEW;
    k.qty = D("0.010");
    k.reduce_only = true;
    k.time_ms = fx->m->api.now_ms(fx->m->ctx);
    assert_int_equal(fx->plug.desc->exchange->adopt_order(fx->plug.state, &k, NULL, 0), QTR_OK);
    assert_true(fx_run_until(fx, 3000, fx_is_new, cid));
    const qtr_order_update *u = fx_last_update(fx, cid);
    assert_int_equal(u->callback_bps, 50);
    assert_int_equal(u->activation_price, D("51000"));
    assert_int_equal(u->working_type, QTR_WORKING_MARK);
    assert_true(u->reduce_only);
    post(fx, "/mock/mark?symbol=BTCUSDT&price=51000");
    post(fx, "/mock/mark?symbol=BTCUSDT&price=52000");
    post(fx, "/mock/price?symbol=BTCUSDT&price=51740");
    post(fx, "/mock/mark?symbol=BTCUSDT&price=51740"); /* 52000 x 0.995 */
    assert_true(fx_run_until(fx, 5000, fx_final, cid));
    fx_run_for(fx, 300);
    u = fx_last_update(fx, cid);
    assert_int_equal(u->status, QTR_OS_FILLED);
    assert_int_equal(u->avg_price, D("51740"));
    assert_int_equal(fx_fills(fx, cid, NULL), 1);
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_requests(st, "POST /fapi/v1/algoOrder"), 0);
    json_decref(st);
}

/* On the exchange: cid's state ("NEW", "CANCELED", ...). */
static const char *mock_state_of(bn_fx *fx, const char *cid, char *buf, size_t len)
{
    return algo_state(fx, cid, "state", buf, len);
}

static long requests_of(bn_fx *fx, const char *method_path)
{
    json_t *st = mx_state(fx->mx);
    long n = mx_requests(st, method_path);
    json_decref(st);
    return n;
}

/* A long position with, on the exchange: our reduce-only trailing stop and
 * stop (kept by a cancel-all), our stop entry (not reduce-only), a resting
 * limit of ours, and three orders this run does not know: a reduce-only
 * stop placed by hand, a stop entry and a limit left by an earlier run. */
static void rest_a_mix(bn_fx *fx)
{
    mock_host_set_option(fx->m, "poll_interval_ms", "100");
    assert_true(fx_load(fx));
    post(fx, "/mock/position?symbol=BTCUSDT&amt=0.010&entry=50000");
    assert_int_equal(submit_trailing(fx, "qtr-ex-ts3", 100, "51000", true), QTR_OK);
    assert_int_equal(submit_stop(fx, "qtr-ex-sl3", QTR_ORDER_STOP_MARKET, "45000"), QTR_OK);
    assert_int_equal(fx_submit(fx, "qtr-in-st3", "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_STOP_MARKET, "0.010", "60000"),
                     QTR_OK);
    assert_int_equal(fx_submit(fx, "qtr-lim3", "BTCUSDT", QTR_SIDE_BUY, QTR_ORDER_LIMIT, "0.010", "40000"), QTR_OK);
    post(fx, "/mock/open_algo?symbol=BTCUSDT&side=SELL&type=STOP_MARKET&qty=0.010&clientAlgoId=hand-sl"
             "&triggerPrice=44000&reduceOnly=true");
    post(fx, "/mock/open_algo?symbol=BTCUSDT&side=BUY&type=STOP_MARKET&qty=0.010&clientAlgoId=old-entry"
             "&triggerPrice=61000");
    post(fx, "/mock/open_order?symbol=BTCUSDT&clientOrderId=old-lim&side=BUY&qty=0.010&price=39000");
    const char *cids[] = { "qtr-ex-ts3", "qtr-ex-sl3", "qtr-in-st3", "qtr-lim3", NULL };
    for (int i = 0; cids[i]; i++) assert_true(fx_run_until(fx, 3000, fx_is_new, cids[i]));
}

/* The ESS's cancel_all: plain orders and every conditional order that could
 * open a position are cancelled, ours and ones this run does not know; the
 * reduce-only stops stay (they only close, and protect the position the
 * ESS may keep open). Each answer of ours reaches the host; no answer is
 * taken for an error (DELETE /fapi/v1/algoOrder answers an acknowledgement,
 * not the order). */
static void cancel_all_keeps_the_stops_and_cancels_the_rest(void **state)
{
    bn_fx *fx = *state;
    rest_a_mix(fx);
    assert_int_equal(fx->plug.desc->exchange->cancel_all(fx->plug.state, "BTCUSDT"), QTR_OK);
    const char *gone[] = { "qtr-in-st3", "qtr-lim3", NULL };
    assert_true(fx_run_until(fx, 5000, final_cids, gone));
    char b[64];
    for (int i = 0; gone[i]; i++) {
        assert_int_equal(fx_last_update(fx, gone[i])->status, QTR_OS_CANCELED);
        assert_string_equal(mock_state_of(fx, gone[i], b, sizeof b), "CANCELED");
    }
    fx_run_for(fx, 500); /* polls and the sweep's last answers */
    assert_string_equal(mock_state_of(fx, "old-entry", b, sizeof b), "CANCELED");
    assert_string_equal(mock_state_of(fx, "old-lim", b, sizeof b), "CANCELED");
    const char *kept[] = { "qtr-ex-ts3", "qtr-ex-sl3", "hand-sl", NULL };
    for (int i = 0; kept[i]; i++) assert_string_equal(mock_state_of(fx, kept[i], b, sizeof b), "NEW");
    assert_int_equal(fx_last_update(fx, "qtr-ex-ts3")->status, QTR_OS_NEW);
    assert_int_equal(fx_last_update(fx, "qtr-ex-sl3")->status, QTR_OS_NEW);
    assert_int_equal(requests_of(fx, "DELETE /fapi/v1/allOpenOrders"), 1);
    assert_int_equal(requests_of(fx, "GET /fapi/v1/openAlgoOrders"), 1);
    assert_int_equal(requests_of(fx, "DELETE /fapi/v1/algoOrder"), 2); /* qtr-in-st3 and old-entry */
    assert_int_equal(fx_alerts(fx, "exchange_error"), 0);
}

/* A lost answer on one leg (the cancel-all ran, its 503 answer says
 * nothing) is sent again after the backoff and never holds the other leg;
 * the same for a timeout on the list of conditional orders and for 429s. */
static void cancel_all_legs_retry_alone(void **state)
{
    bn_fx *fx = *state;
    rest_a_mix(fx);
    post(fx, "/mock/fault?path=/fapi/v1/allOpenOrders&method=DELETE&kind=503&exec=0&count=2");
    post(fx, "/mock/fault?path=/fapi/v1/openAlgoOrders&method=GET&kind=timeout&delay_ms=600&count=1");
    assert_int_equal(fx->plug.desc->exchange->cancel_all(fx->plug.state, "BTCUSDT"), QTR_OK);
    const char *gone[] = { "qtr-in-st3", "qtr-lim3", NULL };
    assert_true(fx_run_until(fx, 5000, final_cids, gone));
    fx_run_for(fx, 500);
    char b[64];
    assert_int_equal(fx_last_update(fx, "qtr-lim3")->status, QTR_OS_CANCELED);
    assert_string_equal(mock_state_of(fx, "old-lim", b, sizeof b), "CANCELED");
    assert_string_equal(mock_state_of(fx, "old-entry", b, sizeof b), "CANCELED");
    assert_string_equal(mock_state_of(fx, "hand-sl", b, sizeof b), "NEW");
    assert_int_equal(requests_of(fx, "DELETE /fapi/v1/allOpenOrders"), 3);
    assert_true(requests_of(fx, "GET /fapi/v1/openAlgoOrders") >= 2);

    /* 429s on the list: the queue waits and sends it again; the plain leg goes */
    post(fx, "/mock/open_algo?symbol=BTCUSDT&side=BUY&type=STOP_MARKET&qty=0.010&clientAlgoId=old-entry2"
             "&triggerPrice=62000");
    post(fx, "/mock/open_order?symbol=BTCUSDT&clientOrderId=old-lim2&side=BUY&qty=0.010&price=38000");
    post(fx, "/mock/fault?path=/fapi/v1/openAlgoOrders&method=GET&kind=429&count=2");
    assert_int_equal(fx->plug.desc->exchange->cancel_all(fx->plug.state, "BTCUSDT"), QTR_OK);
    fx_run_for(fx, 1500);
    assert_string_equal(mock_state_of(fx, "old-entry2", b, sizeof b), "CANCELED");
    assert_string_equal(mock_state_of(fx, "old-lim2", b, sizeof b), "CANCELED");
    assert_string_equal(mock_state_of(fx, "qtr-ex-sl3", b, sizeof b), "NEW");
}

/* A leg that keeps failing ends with a critical alert naming it; the other
 * leg's work stands. */
static void cancel_all_leg_that_keeps_failing_is_alerted(void **state)
{
    bn_fx *fx = *state;
    rest_a_mix(fx);
    post(fx, "/mock/fault?path=/fapi/v1/openAlgoOrders&method=GET&kind=500&count=50");
    assert_int_equal(fx->plug.desc->exchange->cancel_all(fx->plug.state, "BTCUSDT"), QTR_OK);
    fx_run_for(fx, 1500);
    char b[64];
    assert_string_equal(mock_state_of(fx, "old-lim", b, sizeof b), "CANCELED");
    assert_string_equal(mock_state_of(fx, "old-entry", b, sizeof b), "NEW");
    assert_int_equal(fx_alerts(fx, "exchange_cancel_all_failed"), 1);
    assert_int_equal(requests_of(fx, "GET /fapi/v1/openAlgoOrders"), 4); /* the first and 3 retries (20,40,80 ms) */
    assert_non_null(strstr(fx->log, "GET /fapi/v1/openAlgoOrders failed 4 times"));
}

/* The host calls cancel_all on every ESS tick while blocked: calls made
 * while a leg is out join it (one more run once it ends), never a pile. */
static void cancel_all_calls_in_a_burst_do_not_pile_up(void **state)
{
    bn_fx *fx = *state;
    rest_a_mix(fx);
    for (int i = 0; i < 20; i++)
        assert_int_equal(fx->plug.desc->exchange->cancel_all(fx->plug.state, "BTCUSDT"), QTR_OK);
    fx_run_for(fx, 1000);
    assert_int_equal(requests_of(fx, "DELETE /fapi/v1/allOpenOrders"), 2);
    assert_int_equal(requests_of(fx, "GET /fapi/v1/openAlgoOrders"), 2);
    char b[64];
    assert_string_equal(mock_state_of(fx, "old-entry", b, sizeof b), "CANCELED");
    assert_string_equal(mock_state_of(fx, "qtr-ex-sl3", b, sizeof b), "NEW");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(trailing_stop_rests_follows_and_fills_once, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(stop_on_last_price_fills, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(refusals_before_and_by_the_exchange, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(snapshot_reports_open_algo_orders, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(adopted_trailing_stop_is_followed_not_resent, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(cancel_all_keeps_the_stops_and_cancels_the_rest, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(cancel_all_legs_retry_alone, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(cancel_all_leg_that_keeps_failing_is_alerted, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(cancel_all_calls_in_a_burst_do_not_pile_up, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
