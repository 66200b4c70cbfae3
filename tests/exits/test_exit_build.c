/* The orders an exit plan makes for one position (host/exits/exit_build.c):
 * prices from bps rounded the safe way, a take-profit ladder that never
 * exceeds the position and leaves no dust, every order reduce-only, and the
 * plan rules set_exit_plan enforces. Expected values are worked by hand in
 * the comments, not computed with the code under test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "exits/exit_build.h"
#include "exits/exit_plan_check.h"

static qtr_dec D(const char *s)
{
    qtr_dec v = 0;
    assert_int_equal(qtr_dec_parse(s, strlen(s), &v), QTR_DEC_OK);
    return v;
}

static qtr_exit_plan plan_with_tick(const char *step, const char *tick)
{
    qtr_exit_plan p = QTR_SIZED(qtr_exit_plan);
    p.qty_step = D(step);
    p.price_tick = D(tick);
    return p;
}

/* Long 1.000 @ 100.00, tick 0.1: stop 150 bps -> 98.5; TP 201 bps -> 102.01
 * rounded away from the entry (up) to 102.1; trailing activation 100 bps ->
 * 101.0, callback 50 bps. */
static void test_long_prices_and_sides(void **state)
{
    (void)state;
    qtr_exit_plan p = plan_with_tick("0.001", "0.1");
    p.base.stop_loss.bps = 150;
    p.base.n_take_profit = 1;
    p.base.take_profit[0] = (qtr_exit_tp){ .at = { .bps = 201 }, .share_bps = 10000 };
    p.base.trailing_activation.bps = 100;
    p.base.trailing_callback_bps = 50;
    p.working_type = QTR_WORKING_MARK;
    assert_int_equal(qh_exit_plan_check(&p, NULL, 0), 0);
    qh_exit_order o[QH_EXIT_ORDERS_MAX];
    char skipped[128];
    size_t n = qh_exit_build(&p, &p.base, "BTCUSDT", D("1"), D("100"), o, skipped, sizeof skipped);
    assert_int_equal(n, 3);
    assert_string_equal(skipped, "");
    assert_int_equal(o[0].role, QH_EXIT_STOP);
    assert_int_equal(o[0].intent.type, QTR_ORDER_STOP_MARKET);
    assert_int_equal(o[0].intent.stop_price, D("98.5"));
    assert_int_equal(o[0].intent.qty, D("1"));
    assert_int_equal(o[1].role, QH_EXIT_TAKE_PROFIT);
    assert_int_equal(o[1].intent.type, QTR_ORDER_TAKE_PROFIT_MARKET);
    assert_int_equal(o[1].intent.stop_price, D("102.1"));
    assert_int_equal(o[2].role, QH_EXIT_TRAILING);
    assert_int_equal(o[2].intent.type, QTR_ORDER_TRAILING_STOP_MARKET);
    assert_int_equal(o[2].intent.activation_price, D("101"));
    assert_int_equal(o[2].intent.callback_bps, 50);
    assert_int_equal(o[2].intent.stop_price, 0);
    for (size_t i = 0; i < n; i++) {
        assert_true(o[i].intent.reduce_only);
        assert_int_equal(o[i].intent.side, QTR_SIDE_SELL);
        assert_int_equal(o[i].intent.working_type, QTR_WORKING_MARK);
        assert_string_equal(o[i].intent.symbol, "BTCUSDT");
        assert_string_equal(o[i].intent.client_id, "");
    }
}

/* Short -2 @ 100.05, tick 0.1: stop 150 bps -> 101.550075 rounded toward the
 * entry (down) to 101.5; TP 150 bps -> 98.549925 rounded away (down) to 98.5. */
static void test_short_prices_round_the_safe_way(void **state)
{
    (void)state;
    qtr_exit_plan p = plan_with_tick("0.001", "0.1");
    p.base.stop_loss.bps = 150;
    p.base.n_take_profit = 1;
    p.base.take_profit[0] = (qtr_exit_tp){ .at = { .bps = 150 }, .share_bps = 10000 };
    qh_exit_order o[QH_EXIT_ORDERS_MAX];
    size_t n = qh_exit_build(&p, &p.base, "ETHUSDT", D("-2"), D("100.05"), o, NULL, 0);
    assert_int_equal(n, 2);
    assert_int_equal(o[0].intent.stop_price, D("101.5"));
    assert_int_equal(o[1].intent.stop_price, D("98.5"));
    assert_int_equal(o[0].intent.side, QTR_SIDE_BUY);
    assert_int_equal(o[0].intent.qty, D("2"));
    assert_true(o[0].intent.reduce_only && o[1].intent.reduce_only);
}

/* 0.007 split 3333/3333/3334 at step 0.001: cumulative 0.0023331 -> 0.002,
 * 0.0046662 -> 0.004, then everything: 0.007. Levels 0.002, 0.002, 0.003:
 * sum 0.007 exactly (no dust, never more). */
static void test_ladder_no_dust(void **state)
{
    (void)state;
    qtr_exit_plan p = plan_with_tick("0.001", "0.01");
    p.base.n_take_profit = 3;
    p.base.take_profit[0] = (qtr_exit_tp){ .at = { .bps = 100 }, .share_bps = 3333 };
    p.base.take_profit[1] = (qtr_exit_tp){ .at = { .bps = 200 }, .share_bps = 3333 };
    p.base.take_profit[2] = (qtr_exit_tp){ .at = { .bps = 300 }, .share_bps = 3334 };
    assert_int_equal(qh_exit_plan_check(&p, NULL, 0), 0);
    qtr_dec q[QTR_EXIT_TP_MAX];
    qh_exit_ladder_qty(&p.base, D("0.007"), p.qty_step, q);
    assert_int_equal(q[0], D("0.002"));
    assert_int_equal(q[1], D("0.002"));
    assert_int_equal(q[2], D("0.003"));
    /* every size from 0.001 to 2.000: the total is the position exactly and
     * each level a multiple of the step */
    for (int64_t k = 1; k <= 2000; k++) {
        qtr_dec pos = D("0.001") * k;
        qh_exit_ladder_qty(&p.base, pos, p.qty_step, q);
        qtr_dec total = 0;
        for (int i = 0; i < 3; i++) {
            assert_true(q[i] >= 0);
            assert_int_equal(q[i] % p.qty_step, 0);
            total += q[i];
        }
        assert_int_equal(total, pos);
    }
}

/* Shares summing to 6000: at most 60% of the position, in steps; the rest
 * rides with the stop. 0.005 * 30% = 0.0015 -> 0.001; 60% = 0.003. */
static void test_partial_ladder_never_exceeds(void **state)
{
    (void)state;
    qtr_exit_plan p = plan_with_tick("0.001", "0.01");
    p.base.n_take_profit = 2;
    p.base.take_profit[0] = (qtr_exit_tp){ .at = { .bps = 100 }, .share_bps = 3000 };
    p.base.take_profit[1] = (qtr_exit_tp){ .at = { .bps = 200 }, .share_bps = 3000 };
    qtr_dec q[QTR_EXIT_TP_MAX];
    qh_exit_ladder_qty(&p.base, D("0.005"), p.qty_step, q);
    assert_int_equal(q[0], D("0.001"));
    assert_int_equal(q[1], D("0.002"));
    /* a size too small for the first share: it rides with the next level */
    qh_exit_order o[QH_EXIT_ORDERS_MAX];
    char skipped[128];
    size_t n = qh_exit_build(&p, &p.base, "BTCUSDT", D("0.002"), D("100"), o, skipped, sizeof skipped);
    assert_int_equal(n, 1);
    assert_int_equal(o[0].level, 1);
    assert_int_equal(o[0].intent.qty, D("0.001"));
    assert_non_null(strstr(skipped, "take_profit[0] not placed"));
}

/* Absolute prices on the wrong side of the entry are not placed. */
static void test_wrong_side_price_skipped(void **state)
{
    (void)state;
    qtr_exit_plan p = plan_with_tick("0.001", "0.1");
    p.base.stop_loss.price = D("101");        /* above a long's entry */
    p.base.n_take_profit = 1;
    p.base.take_profit[0] = (qtr_exit_tp){ .at = { .price = D("105") }, .share_bps = 10000 };
    qh_exit_order o[QH_EXIT_ORDERS_MAX];
    char skipped[128];
    size_t n = qh_exit_build(&p, &p.base, "BTCUSDT", D("1"), D("100"), o, skipped, sizeof skipped);
    assert_int_equal(n, 1);
    assert_int_equal(o[0].role, QH_EXIT_TAKE_PROFIT);
    assert_int_equal(o[0].intent.stop_price, D("105"));
    assert_non_null(strstr(skipped, "stop_loss not placed"));
}

static void expect_refused(const qtr_exit_plan *p, const char *field)
{
    char err[256] = "";
    assert_int_equal(qh_exit_plan_check(p, err, sizeof err), -1);
    if (!strstr(err, field)) fail_msg("expected '%s' in '%s'", field, err);
}

static void test_plan_rules(void **state)
{
    (void)state;
    qtr_exit_plan ok = plan_with_tick("0.001", "0.1");
    ok.base.stop_loss.bps = 100;
    assert_int_equal(qh_exit_plan_check(&ok, NULL, 0), 0);

    qtr_exit_plan p = ok;
    p.base.stop_loss.price = D("90");
    expect_refused(&p, "base.stop_loss: bps and price both set");
    p = ok;
    p.base.trailing_callback_bps = 5;
    expect_refused(&p, "base.trailing_callback_bps: 5 is outside 10..1000");
    p = ok;
    p.base.trailing_callback_bps = 1001;
    expect_refused(&p, "trailing_callback_bps: 1001");
    p = ok;
    p.base.n_take_profit = 2;
    p.base.take_profit[0] = (qtr_exit_tp){ .at = { .bps = 100 }, .share_bps = 6000 };
    p.base.take_profit[1] = (qtr_exit_tp){ .at = { .bps = 200 }, .share_bps = 5000 };
    expect_refused(&p, "shares sum to more than 10000");
    p.base.take_profit[1] = (qtr_exit_tp){ .at = { .bps = 50 }, .share_bps = 4000 };
    expect_refused(&p, "take_profit[1].at: not farther");
    p.qty_step = 0;
    p.base.take_profit[1].at.bps = 300;
    expect_refused(&p, "qty_step: required");
    p = ok;
    p.base.time_stop_ms = 10;
    expect_refused(&p, "time_stop_ms: 10 is outside");
    p = ok;
    p.working_type = (qtr_working_type)7;
    expect_refused(&p, "working_type");
    p = ok;
    p.regime_mask = 1u << QTR_REGIME_VOLATILE;
    p.regime[QTR_REGIME_VOLATILE].trailing_callback_bps = 2000;
    expect_refused(&p, "regime[4].trailing_callback_bps");
    p = ok;
    p.regime_mask = 1u << 9;
    expect_refused(&p, "regime_mask");
    p = ok;
    p.base.trailing_activation.bps = 100;
    expect_refused(&p, "trailing_activation: set without trailing_callback_bps");
    /* an older, smaller plan: what its size holds, zeros beyond */
    qtr_exit_plan small = ok, out;
    small.size = (uint32_t)offsetof(qtr_exit_plan, regime_mask);
    small.regime_mask = 0xff;   /* beyond its size: not read */
    assert_int_equal(qh_exit_plan_copy_in(&small, &out, NULL, 0), 0);
    assert_int_equal(out.regime_mask, 0);
    assert_int_equal(out.base.stop_loss.bps, 100);
    small.size = 2;
    char err[128] = "";
    assert_int_equal(qh_exit_plan_copy_in(&small, &out, err, sizeof err), -1);
    assert_non_null(strstr(err, "too small"));
}

/* The regime's parameters when its bit is set, else the base. */
static void test_regime_override_pick(void **state)
{
    (void)state;
    qtr_exit_plan p = plan_with_tick("0.001", "0.1");
    p.base.stop_loss.bps = 100;
    p.regime[QTR_REGIME_VOLATILE] = p.base;
    p.regime[QTR_REGIME_VOLATILE].stop_loss.bps = 300;
    p.regime[QTR_REGIME_RANGE].stop_loss.bps = 50;   /* its bit not set: ignored */
    p.regime_mask = 1u << QTR_REGIME_VOLATILE;
    assert_int_equal(qtr_exit_plan_params(&p, QTR_REGIME_VOLATILE)->stop_loss.bps, 300);
    assert_int_equal(qtr_exit_plan_params(&p, QTR_REGIME_RANGE)->stop_loss.bps, 100);
    assert_int_equal(qtr_exit_plan_params(&p, QTR_REGIME_UNKNOWN)->stop_loss.bps, 100);
    assert_int_equal(qtr_exit_plan_params(&p, (qtr_regime)200)->stop_loss.bps, 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_prices_and_sides),
        cmocka_unit_test(test_short_prices_round_the_safe_way),
        cmocka_unit_test(test_ladder_no_dust),
        cmocka_unit_test(test_partial_ladder_never_exceeds),
        cmocka_unit_test(test_wrong_side_price_skipped),
        cmocka_unit_test(test_plan_rules),
        cmocka_unit_test(test_regime_override_pick),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
