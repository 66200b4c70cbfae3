/* Paper exchange: TRAILING_STOP_MARKET on the candle path as Binance
 * triggers it, and conditional orders that watch the mark by their own
 * working type. Every expected trigger is worked by hand below from the
 * path open -> nearer extreme -> other extreme -> close (docs/backtest.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "paper_fixture.h"

#define BUY QTR_SIDE_BUY
#define SELL QTR_SIDE_SELL
#define MKT QTR_ORDER_MARKET
#define GTC QTR_TIF_GTC

/* Long 1 @ 100, SELL trailing: activation 102, callback 100 bps (1%), no
 * slippage.
 *   c1 100/101/99.5/100.5: low first (1 >= 0.5): 100 -> 99.5 -> 101 -> 100.5;
 *      never 102: not active.
 *   c2 100.5/103/100.2/102.5: low first: -> 100.2 -> 103: active at 102, best
 *      103 -> 102.5: trigger 103 * 0.99 = 101.97 not reached.
 *   c3 102.5/104/102.4/103.8: low first: -> 102.4 (> 101.97) -> 104 (best)
 *      -> 103.8 (trigger 102.96 not reached).
 *   c4 103.8/104.2/102/102.5: high first (0.4 < 1.8): -> 104.2 (best) -> 102:
 *      trigger 104.2 * 0.99 = 103.158 met on the way down: fills at 103.158. */
static void sell_trailing_worked_example(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, "slippage_bps", "0", NULL);
    fx_candle(&f, "SOLUSDT", "100", "100", "100", "100", "100000");
    size_t mark = f.m->n_events;
    assert_int_equal(fx_submit(&f, "SOLUSDT", "long", BUY, MKT, GTC, "1", "0", false), QTR_OK);
    assert_int_equal(fx_submit_trailing(&f, "SOLUSDT", "tr", SELL, "1", "102", 100, QTR_WORKING_LAST), QTR_OK);
    qtr_order_update u[4];
    assert_int_equal(fx_updates(&f, mark, "tr", u, 4), 1);
    assert_int_equal(u[0].status, QTR_OS_NEW);
    assert_int_equal(u[0].type, QTR_ORDER_TRAILING_STOP_MARKET);
    assert_int_equal(u[0].callback_bps, 100);
    assert_int_equal(u[0].activation_price, D("102"));
    assert_true(u[0].reduce_only);
    fx_candle(&f, "SOLUSDT", "100", "101", "99.5", "100.5", "100000");
    fx_candle(&f, "SOLUSDT", "100.5", "103", "100.2", "102.5", "100000");
    fx_candle(&f, "SOLUSDT", "102.5", "104", "102.4", "103.8", "100000");
    assert_int_equal(fx_fills(&f, mark, "tr", NULL, 0), 0);
    size_t before_c4 = f.m->n_events;
    fx_candle(&f, "SOLUSDT", "103.8", "104.2", "102", "102.5", "100000");
    qtr_fill fl = fx_only_fill(&f, before_c4, "tr");
    assert_int_equal(fl.price, D("103.158"));
    assert_int_equal(fl.qty, D("1"));
    assert_int_equal(fl.side, SELL);
    assert_true(fl.reduce_only);
    fx_stop(&f);
}

/* Short 1 @ 100, BUY trailing active at once (no activation: best = the last
 * price 100), callback 200 bps.
 *   c1 100/100.5/97/97.5: high first (0.5 < 3): -> 100.5 (trigger 102 not
 *      reached) -> 97 (best) -> 97.5 (trigger 97 * 1.02 = 98.94 not reached).
 *   c2 opens at 99.5, past 98.94: a gap, filled at the open 99.5. */
static void buy_trailing_active_at_once_gaps_at_the_open(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, "slippage_bps", "0", NULL);
    fx_candle(&f, "SOLUSDT", "100", "100", "100", "100", "100000");
    size_t mark = f.m->n_events;
    assert_int_equal(fx_submit(&f, "SOLUSDT", "short", SELL, MKT, GTC, "1", "0", false), QTR_OK);
    assert_int_equal(fx_submit_trailing(&f, "SOLUSDT", "tr", BUY, "1", "0", 200, QTR_WORKING_LAST), QTR_OK);
    fx_candle(&f, "SOLUSDT", "100", "100.5", "97", "97.5", "100000");
    assert_int_equal(fx_fills(&f, mark, "tr", NULL, 0), 0);
    size_t before = f.m->n_events;
    fx_candle(&f, "SOLUSDT", "99.5", "99.9", "99.2", "99.6", "100000");
    assert_int_equal(fx_only_fill(&f, before, "tr").price, D("99.5"));
    fx_stop(&f);
}

/* The trailing stop and a stop on one candle: the path decides. Long @ 100,
 * trailing active at once (best 100) at 50 bps: trigger 99.5; a stop at 99.
 * c1 100/100.2/98.5/99: high first (0.2 < 1.5): -> 100.2 (best; trigger
 * 99.699) -> 98.5: the trailing's 99.699 comes before the stop's 99; the stop
 * then has nothing left to reduce and expires. */
static void path_orders_trailing_before_stop(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, "slippage_bps", "0", NULL);
    fx_candle(&f, "SOLUSDT", "100", "100", "100", "100", "100000");
    size_t mark = f.m->n_events;
    fx_submit(&f, "SOLUSDT", "long", BUY, MKT, GTC, "1", "0", false);
    assert_int_equal(fx_submit_trailing(&f, "SOLUSDT", "tr", SELL, "1", "0", 50, QTR_WORKING_LAST), QTR_OK);
    assert_int_equal(fx_submit_stop_on(&f, "SOLUSDT", "sl", SELL, QTR_ORDER_STOP_MARKET, "1", "99", QTR_WORKING_LAST),
                     QTR_OK);
    fx_candle(&f, "SOLUSDT", "100", "100.2", "98.5", "99", "100000");
    assert_int_equal(fx_only_fill(&f, mark, "tr").price, D("99.699"));   /* 100.2 * 0.995 */
    assert_int_equal(fx_fills(&f, mark, "sl", NULL, 0), 0);
    qtr_order_update u[4];
    size_t n = fx_updates(&f, mark, "sl", u, 4);
    assert_int_equal(u[n - 1].status, QTR_OS_EXPIRED);
    fx_stop(&f);
}

/* working_type MARK on the order itself (stop_trigger left at "last"): a
 * stop whose candle wicks through but whose mark stays above does not
 * trigger; the same stop on LAST does. The trailing stop on MARK follows the
 * mark alone: best 100 from the placement, mark 99.6 (trigger 99.5) no, then
 * 99.4: triggered, filled at the close. */
static void working_type_mark_per_order(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, "slippage_bps", "0", NULL);
    fx_candle(&f, "SOLUSDT", "100", "100", "100", "100", "100000");
    size_t mark = f.m->n_events;
    fx_submit(&f, "SOLUSDT", "long", BUY, MKT, GTC, "3", "0", false);
    assert_int_equal(fx_submit_stop_on(&f, "SOLUSDT", "on_mark", SELL, QTR_ORDER_STOP_MARKET, "1", "98", QTR_WORKING_MARK),
                     QTR_OK);
    assert_int_equal(fx_submit_stop_on(&f, "SOLUSDT", "on_last", SELL, QTR_ORDER_STOP_MARKET, "1", "98", QTR_WORKING_LAST),
                     QTR_OK);
    assert_int_equal(fx_submit_trailing(&f, "SOLUSDT", "tr", SELL, "1", "0", 50, QTR_WORKING_MARK), QTR_OK);
    qtr_mark_price *mk = &f.m->marks[f.m->n_marks++];
    memset(mk, 0, sizeof *mk);
    qtr_strlcpy(mk->symbol, "SOLUSDT", sizeof mk->symbol);
    mk->mark_price = D("99.6");
    fx_candle(&f, "SOLUSDT", "100", "100", "97.5", "99.7", "100000");   /* a wick to 97.5 */
    assert_int_equal(fx_fills(&f, mark, "on_mark", NULL, 0), 0);
    assert_int_equal(fx_only_fill(&f, mark, "on_last").price, D("98"));
    assert_int_equal(fx_fills(&f, mark, "tr", NULL, 0), 0);   /* the path fell to 97.5; the mark did not */
    mk->mark_price = D("99.4");
    size_t before = f.m->n_events;
    fx_candle(&f, "SOLUSDT", "99.7", "99.8", "99.3", "99.35", "100000");
    assert_int_equal(fx_only_fill(&f, before, "tr").price, D("99.35"));
    assert_int_equal(fx_fills(&f, mark, "on_mark", NULL, 0), 0);
    fx_stop(&f);
}

static void refusals(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, NULL);
    fx_candle(&f, "SOLUSDT", "100", "100", "100", "100", "100000");
    size_t mark = f.m->n_events;
    fx_submit(&f, "SOLUSDT", "long", BUY, MKT, GTC, "1", "0", false);
    qtr_order_update u[2];
    fx_submit_trailing(&f, "SOLUSDT", "cb5", SELL, "1", "0", 5, QTR_WORKING_LAST);
    assert_int_equal(fx_updates(&f, mark, "cb5", u, 2), 1);
    assert_int_equal(u[0].status, QTR_OS_REJECTED);
    assert_non_null(strstr(u[0].reason, "callback rate 5 bps is outside 10..1000"));
    fx_submit_trailing(&f, "SOLUSDT", "cb2000", SELL, "1", "0", 2000, QTR_WORKING_LAST);
    assert_int_equal(fx_updates(&f, mark, "cb2000", u, 2), 1);
    assert_int_equal(u[0].status, QTR_OS_REJECTED);
    /* a sell's activation at or below the last price would trigger at once */
    fx_submit_trailing(&f, "SOLUSDT", "low", SELL, "1", "99", 100, QTR_WORKING_LAST);
    assert_int_equal(fx_updates(&f, mark, "low", u, 2), 1);
    assert_int_equal(u[0].status, QTR_OS_REJECTED);
    assert_non_null(strstr(u[0].reason, "-2021"));
    fx_submit_trailing(&f, "SOLUSDT", "tick", SELL, "1", "101.00001", 100, QTR_WORKING_LAST);
    assert_int_equal(fx_updates(&f, mark, "tick", u, 2), 1);
    assert_non_null(strstr(u[0].reason, "not a multiple of the tick"));
    fx_submit_stop_on(&f, "SOLUSDT", "wt", SELL, QTR_ORDER_STOP_MARKET, "1", "90", (qtr_working_type)3);
    assert_int_equal(fx_updates(&f, mark, "wt", u, 2), 1);
    assert_non_null(strstr(u[0].reason, "working type"));
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sell_trailing_worked_example),
        cmocka_unit_test(buy_trailing_active_at_once_gaps_at_the_open),
        cmocka_unit_test(path_orders_trailing_before_stop),
        cmocka_unit_test(working_type_mark_per_order),
        cmocka_unit_test(refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
