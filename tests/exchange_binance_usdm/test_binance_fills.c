/* Fill increments from running totals, and strict reading of order JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "bn_fills.h"
#include "bn_order_json.h"
#include "mock_host.h" /* D(): a decimal literal, aborting on a typo */

static void increments_not_totals(void **state)
{
    (void)state;
    bn_fill_tracker t = { 0, 0 };
    qtr_dec q, p;
    char err[128];
    /* 0.004 @ 49000 = 196 */
    assert_int_equal(bn_fill_step(&t, D("0.004"), D("196"), &q, &p, err, sizeof err), BN_FILL_NEW);
    assert_int_equal(q, D("0.004"));
    assert_int_equal(p, D("49000"));
    /* the same totals again: nothing new */
    assert_int_equal(bn_fill_step(&t, D("0.004"), D("196"), &q, &p, err, sizeof err), BN_FILL_NONE);
    /* +0.006 @ 48999.9 = 293.9994 */
    assert_int_equal(bn_fill_step(&t, D("0.010"), D("489.9994"), &q, &p, err, sizeof err), BN_FILL_NEW);
    assert_int_equal(q, D("0.006"));
    assert_int_equal(p, D("48999.9"));
    assert_int_equal(bn_avg_price(D("489.9994"), D("0.010")), D("48999.94"));
}

static void price_rounds_half_even(void **state)
{
    (void)state;
    bn_fill_tracker t = { 0, 0 };
    qtr_dec q, p;
    char err[128];
    /* 1 / 3 = 0.333333333... -> 0.33333333 */
    assert_int_equal(bn_fill_step(&t, D("3"), D("1"), &q, &p, err, sizeof err), BN_FILL_NEW);
    assert_int_equal(p, D("0.33333333"));
    /* 0.00000005 / 2 = 0.000000025 -> tie -> even: 0.00000002 */
    bn_fill_tracker u = { 0, 0 };
    assert_int_equal(bn_fill_step(&u, D("2"), D("0.00000005"), &q, &p, err, sizeof err), BN_FILL_NEW);
    assert_int_equal(p, D("0.00000002"));
}

static void going_backwards_is_an_error(void **state)
{
    (void)state;
    bn_fill_tracker t = { D("0.5"), D("100") };
    qtr_dec q = 0, p = 0;
    char err[128];
    assert_int_equal(bn_fill_step(&t, D("0.4"), D("80"), &q, &p, err, sizeof err), BN_FILL_BAD);
    assert_non_null(strstr(err, "executedQty went back"));
    assert_int_equal(bn_fill_step(&t, D("0.6"), D("90"), &q, &p, err, sizeof err), BN_FILL_BAD);
    assert_int_equal(bn_fill_step(&t, D("0.5"), D("101"), &q, &p, err, sizeof err), BN_FILL_BAD);
    /* the tracker did not move */
    assert_int_equal(t.last_qty, D("0.5"));
    assert_int_equal(t.last_quote, D("100"));
}

static const char order_ok[] =
    "{\"orderId\":4100231177,\"symbol\":\"BTCUSDT\",\"status\":\"PARTIALLY_FILLED\",\"clientOrderId\":\"bot-1\","
    "\"price\":\"0\",\"avgPrice\":\"64012.30\",\"origQty\":\"0.010\",\"executedQty\":\"0.004\",\"cumQuote\":"
    "\"256.04920\",\"type\":\"MARKET\",\"reduceOnly\":true,\"side\":\"SELL\",\"updateTime\":1767225600123}";

/* The plugin's order reader (bn_jread) on the tree's text. */
static int read_order(const json_t *j, bn_order_state *s, char *err, size_t errlen)
{
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_non_null(text);
    int rc = bn_order_state_read(text, strlen(text), s, err, errlen);
    free(text);
    return rc;
}

static void reads_an_order(void **state)
{
    (void)state;
    json_t *j = json_loads(order_ok, 0, NULL);
    bn_order_state s;
    char err[160];
    assert_int_equal(read_order(j, &s, err, sizeof err), 0);
    assert_string_equal(s.client_id, "bot-1");
    assert_string_equal(s.order_id, "4100231177");
    assert_int_equal(s.status, QTR_OS_PARTIALLY_FILLED);
    assert_int_equal(s.side, QTR_SIDE_SELL);
    assert_int_equal(s.executed_qty, D("0.004"));
    assert_int_equal(s.cum_quote, D("256.0492"));
    assert_true(s.reduce_only);
    json_decref(j);
}

static void refuses_guesses(void **state)
{
    (void)state;
    bn_order_state s;
    char err[160];
    json_t *j = json_loads(order_ok, 0, NULL);
    json_object_set_new(j, "status", json_string("HALF_DONE"));
    assert_int_equal(read_order(j, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown status 'HALF_DONE'"));
    json_object_set_new(j, "status", json_string("FILLED"));
    json_object_set_new(j, "executedQty", json_real(0.004)); /* a number, not a decimal string */
    assert_int_equal(read_order(j, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "executedQty"));
    json_object_del(j, "executedQty");
    assert_int_equal(read_order(j, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "'executedQty' missing"));
    json_decref(j);
    assert_int_equal(bn_order_state_read("null", 4, &s, err, sizeof err), -1);
    assert_string_equal(err, "order is not a JSON object");
}

static void algo_statuses(void **state)
{
    (void)state;
    qtr_order_status st;
    bool trig;
    assert_true(bn_algo_status_parse("NEW", &st, &trig));
    assert_int_equal(st, QTR_OS_NEW);
    assert_false(trig);
    assert_true(bn_algo_status_parse("FINISHED", &st, &trig));
    assert_true(trig);
    assert_true(bn_algo_status_parse("CANCELED", &st, &trig));
    assert_int_equal(st, QTR_OS_CANCELED);
    assert_false(bn_algo_status_parse("SLEEPING", &st, &trig));
    static const char algo[] = "{\"algoId\":7,\"clientAlgoId\":\"sl-1\",\"algoStatus\":\"TRIGGERED\",\"actualOrderId\":99}";
    bn_algo_state a;
    char err[160];
    assert_int_equal(bn_algo_state_read(algo, strlen(algo), &a, err, sizeof err), 0);
    assert_true(a.triggered);
    assert_string_equal(a.actual_order_id, "99");
    assert_string_equal(a.algo_id, "7");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(increments_not_totals), cmocka_unit_test(price_rounds_half_even),
        cmocka_unit_test(going_backwards_is_an_error), cmocka_unit_test(reads_an_order),
        cmocka_unit_test(refuses_guesses), cmocka_unit_test(algo_statuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
