/* adopt_order: orders placed before a restart. The plugin starts knowing
 * none of them; the host hands each over with the fills it recorded. Only
 * the executions missed while it was down are published, the order is then
 * followed like the plugin's own, and one the exchange has no trace of ends
 * EXPIRED without ever being sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bn_fixture.h"

static const qtr_exchange_ops *ops(bn_fx *fx)
{
    const qtr_exchange_ops *x = fx->plug.desc->exchange;
    assert_non_null(x);
    assert_true(x->size >= offsetof(qtr_exchange_ops, adopt_order) + sizeof x->adopt_order);
    assert_non_null(x->adopt_order);
    return x;
}

/* The host's record of the order as it was before the restart. */
static qtr_order_update known(const char *cid, qtr_order_status st, const char *qty, const char *filled)
{
    qtr_order_update u;
    memset(&u, 0, sizeof u);
    qtr_strlcpy(u.symbol, "BTCUSDT", sizeof u.symbol);
    qtr_strlcpy(u.client_id, cid, sizeof u.client_id);
    u.side = QTR_SIDE_BUY;
    u.type = QTR_ORDER_LIMIT;
    u.status = st;
    u.qty = D(qty);
    u.price = D("49000");
    u.filled_qty = D(filled);
    return u;
}

static bool filled_at_least(bn_fx *fx, const void *arg)
{
    const char *const *a = arg;
    const qtr_order_update *u = fx_last_update(fx, a[0]);
    return u && u->filled_qty >= D(a[1]) && u->status != QTR_OS_UNKNOWN;
}

static void adopted_order_publishes_only_missed_fills(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    const char *cid = "qtr-old-7";
    /* placed by an earlier run; 0.002 filled and recorded before the kill */
    assert_int_equal(mx_post(fx->mx, "/mock/open_order?symbol=BTCUSDT&side=BUY&qty=0.010&price=49000"
                                     "&clientOrderId=qtr-old-7"), 200);
    assert_int_equal(mx_post(fx->mx, "/mock/fill?clientOrderId=qtr-old-7&qty=0.002"), 200);
    json_t *st = mx_state(fx->mx);
    json_t *t0 = mx_trade(st, cid, 0);
    assert_non_null(t0);
    qtr_fill rec;
    memset(&rec, 0, sizeof rec);
    qtr_strlcpy(rec.symbol, "BTCUSDT", sizeof rec.symbol);
    qtr_strlcpy(rec.client_id, cid, sizeof rec.client_id);
    snprintf(rec.fill_id, sizeof rec.fill_id, "BTCUSDT:%lld:B", (long long)json_integer_value(json_object_get(t0, "id")));
    rec.side = QTR_SIDE_BUY;
    rec.qty = D("0.002");
    rec.price = D("49000");
    json_decref(st);
    /* while it was down: 0.003 more */
    assert_int_equal(mx_post(fx->mx, "/mock/fill?clientOrderId=qtr-old-7&qty=0.003"), 200);

    qtr_order_update k = known(cid, QTR_OS_PARTIALLY_FILLED, "0.010", "0.002");
    assert_int_equal(ops(fx)->adopt_order(fx->plug.state, &k, &rec, 1), QTR_OK);
    const char *want5[] = { cid, "0.005" };
    assert_true(fx_run_until(fx, 5000, filled_at_least, want5));
    qtr_dec sum;
    assert_int_equal(fx_fills(fx, cid, &sum), 1);   /* the recorded one is not published again */
    assert_int_equal(sum, D("0.003"));
    assert_int_equal(fx_last_update(fx, cid)->status, QTR_OS_PARTIALLY_FILLED);
    assert_int_equal(fx_last_update(fx, cid)->filled_qty, D("0.005"));

    /* followed like its own: the rest fills after the restart and is read */
    assert_int_equal(mx_post(fx->mx, "/mock/fill?clientOrderId=qtr-old-7&qty=0.005"), 200);
    assert_true(fx_run_until(fx, 5000, fx_final, cid));
    assert_int_equal(fx_last_update(fx, cid)->status, QTR_OS_FILLED);
    assert_int_equal(fx_fills(fx, cid, &sum), 2);
    assert_int_equal(sum, D("0.008"));
    st = mx_state(fx->mx);
    assert_int_equal(mx_requests(st, "POST /fapi/v1/order"), 0);   /* never sent */
    json_decref(st);
}

static void adopted_order_without_trace_expires_unsent(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    const char *cid = "qtr-old-9";
    qtr_order_update k = known(cid, QTR_OS_PENDING, "0.010", "0");
    k.time_ms = fx->m->api.now_ms(fx->m->ctx);
    assert_int_equal(ops(fx)->adopt_order(fx->plug.state, &k, NULL, 0), QTR_OK);
    assert_true(fx_run_until(fx, 5000, fx_final, cid));
    const qtr_order_update *u = fx_last_update(fx, cid);
    assert_int_equal(u->status, QTR_OS_EXPIRED);
    assert_non_null(strstr(u->reason, "not sent again"));
    json_t *st = mx_state(fx->mx);
    assert_int_equal(mx_requests(st, "POST /fapi/v1/order"), 0);
    assert_true(mx_requests(st, "GET /fapi/v1/allOrders") >= 1);   /* looked for before giving up */
    json_decref(st);
    assert_int_equal(fx_alerts(fx, "exchange_order_resent"), 0);
}

static void adopting_a_final_or_bad_order_is_refused(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    qtr_order_update k = known("qtr-old-3", QTR_OS_FILLED, "0.010", "0.010");
    assert_int_equal(ops(fx)->adopt_order(fx->plug.state, &k, NULL, 0), QTR_EINVAL);
    k = known("bad id with spaces", QTR_OS_NEW, "0.010", "0");
    assert_int_equal(ops(fx)->adopt_order(fx->plug.state, &k, NULL, 0), QTR_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(adopted_order_publishes_only_missed_fills, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(adopted_order_without_trace_expires_unsent, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(adopting_a_final_or_bad_order_is_refused, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
