/* Paper exchange: the fill model of docs/backtest.md, each rule with a
 * hand-computed case (tick 0.0001, taker fee 0.0004, slippage 1 bp unless set). */
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
#define LMT QTR_ORDER_LIMIT
#define STOP QTR_ORDER_STOP_MARKET
#define TP QTR_ORDER_TAKE_PROFIT_MARKET
#define GTC QTR_TIF_GTC

/* Slippage goes to the nearest tick; only an exact half goes against the trader. */
static void slippage_rounds_to_the_nearest_tick_ties_against_the_trader(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, "slippage_bps", "0.4", NULL);
    fx_candle(&f, "XRPUSDT", "1", "1", "1", "1", "100000");
    size_t mark = f.m->n_events;
    /* 1 * 1.00004 = 1.00004: nearer 1.0000 than 1.0001 (always up would be 1.0001) */
    fx_submit(&f, "XRPUSDT", "b", BUY, MKT, GTC, "10", "0", false);
    assert_int_equal(fx_only_fill(&f, mark, "b").price, D("1"));
    /* 1 * 0.99996 = 0.99996: nearer 1.0000 than 0.9999 */
    fx_submit(&f, "XRPUSDT", "s", SELL, MKT, GTC, "10", "0", false);
    assert_int_equal(fx_only_fill(&f, mark, "s").price, D("1"));
    fx_stop(&f);

    fx_start(&f, "slippage_bps", "0.5", NULL);
    fx_candle(&f, "XRPUSDT", "1", "1", "1", "1", "100000");
    mark = f.m->n_events;
    /* 1.00005 and 0.99995 are exact halves: up for the buyer, down for the seller */
    fx_submit(&f, "XRPUSDT", "b", BUY, MKT, GTC, "10", "0", false);
    assert_int_equal(fx_only_fill(&f, mark, "b").price, D("1.0001"));
    fx_submit(&f, "XRPUSDT", "s", SELL, MKT, GTC, "10", "0", false);
    assert_int_equal(fx_only_fill(&f, mark, "s").price, D("0.9999"));
    fx_stop(&f);
}

/* market_fill = "next_open": nothing at the decision's close; the next open. */
static void market_orders_can_fill_at_the_next_open(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, "market_fill", "next_open", NULL);
    fx_candle(&f, "XRPUSDT", "1", "1", "1", "1", "100000");
    size_t mark = f.m->n_events;
    fx_submit(&f, "XRPUSDT", "b", BUY, MKT, GTC, "10", "0", false);
    assert_int_equal(fx_fills(&f, mark, "b", NULL, 0), 0);
    fx_candle(&f, "XRPUSDT", "1.1", "1.2", "1.05", "1.15", "100000");
    qtr_fill fl = fx_only_fill(&f, mark, "b");
    assert_int_equal(fl.price, D("1.1001"));   /* 1.1 * 1.0001 = 1.10011 */
    assert_false(fl.maker);
    assert_int_equal(fl.time_ms, f.m->now_ms);  /* stamped when that candle is fed */
    fx_stop(&f);

    const char *bad[] = { "market_fill", "open", NULL };
    assert_int_not_equal(fx_try_start(&f, bad), 0);
    assert_string_equal(f.m->last_log, "option 'market_fill': must be \"close\" or \"next_open\" (got \"open\")");
    fx_stop(&f);
}

/* A limit the candle opens through is a taker at the open with slippage,
 * never worse than its limit. */
static void a_limit_opened_through_pays_slippage_up_to_its_limit(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, "slippage_bps", "10", NULL);
    fx_candle(&f, "XRPUSDT", "1", "1", "1", "1", "100000");
    size_t mark = f.m->n_events;
    fx_submit(&f, "XRPUSDT", "b", BUY, LMT, GTC, "10", "0.95", false);
    fx_submit(&f, "XRPUSDT", "c", BUY, LMT, GTC, "10", "0.96", false);
    fx_candle(&f, "XRPUSDT", "0.9499", "0.97", "0.94", "0.95", "100000");
    /* 0.9499 * 1.001 = 0.9508499 -> 0.9508, above the limit 0.95: capped at it */
    qtr_fill b = fx_only_fill(&f, mark, "b");
    assert_int_equal(b.price, D("0.95"));
    assert_false(b.maker);
    /* under the limit 0.96 it stays 0.9508 */
    assert_int_equal(fx_only_fill(&f, mark, "c").price, D("0.9508"));
    fx_stop(&f);
}

/* Stops trigger on the high/low (at the trigger: price <= stop for a sell),
 * fill as takers at the trigger with slippage, or at the open after a gap. */
static void stops_trigger_on_the_low_and_gaps_fill_at_the_open(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, NULL);
    fx_candle(&f, "XRPUSDT", "1", "1", "1", "1", "100000");
    size_t mark = f.m->n_events;
    fx_submit(&f, "XRPUSDT", "long", BUY, MKT, GTC, "20", "0", false);
    assert_int_equal(fx_submit_stop(&f, "XRPUSDT", "sl", SELL, STOP, "10", "0.95", true), QTR_OK);
    assert_int_equal(fx_submit_stop(&f, "XRPUSDT", "sl2", SELL, STOP, "10", "0.94", true), QTR_OK);
    qtr_order_update u[4];
    assert_int_equal(fx_updates(&f, mark, "sl", u, 4), 1);
    assert_int_equal(u[0].status, QTR_OS_NEW);
    fx_candle(&f, "XRPUSDT", "1", "1.01", "0.9501", "0.96", "100000");   /* above the trigger */
    assert_int_equal(fx_fills(&f, mark, "sl", NULL, 0), 0);
    fx_candle(&f, "XRPUSDT", "0.96", "0.97", "0.95", "0.955", "100000"); /* the low at it */
    qtr_fill sl = fx_only_fill(&f, mark, "sl");
    assert_int_equal(sl.price, D("0.9499"));   /* 0.95 * 0.9999 = 0.949905 */
    assert_false(sl.maker);
    assert_int_equal(fx_fills(&f, mark, "sl2", NULL, 0), 0);
    fx_candle(&f, "XRPUSDT", "0.9", "0.91", "0.89", "0.9", "100000");    /* gapped past 0.94 */
    assert_int_equal(fx_only_fill(&f, mark, "sl2").price, D("0.8999"));   /* 0.9 * 0.9999 = 0.89991 */

    /* a trigger the last price has already passed: Binance's -2021 */
    mark = f.m->n_events;
    fx_submit_stop(&f, "XRPUSDT", "late", SELL, STOP, "1", "0.95", false);
    assert_int_equal(fx_updates(&f, mark, "late", u, 4), 1);
    assert_int_equal(u[0].status, QTR_OS_REJECTED);
    assert_string_equal(u[0].reason, "exchange refused: -2021 Order would immediately trigger.");
    fx_stop(&f);
}

/* Open 1, high 1.06, low 0.94: both 0.06 away, a tie goes to the low first:
 * the stop fills, the take-profit then has no position left. */
static void the_path_decides_a_stop_and_a_take_profit_on_one_candle(void **state)
{
    (void)state;
    for (int high_nearer = 0; high_nearer <= 1; high_nearer++) {
        fx f;
        fx_start(&f, NULL);
        fx_candle(&f, "XRPUSDT", "1", "1", "1", "1", "100000");
        size_t mark = f.m->n_events;
        fx_submit(&f, "XRPUSDT", "long", BUY, MKT, GTC, "10", "0", false);
        /* the take-profit first: arrival order must not decide */
        fx_submit_stop(&f, "XRPUSDT", "tp", SELL, TP, "10", "1.05", true);
        fx_submit_stop(&f, "XRPUSDT", "sl", SELL, STOP, "10", "0.95", true);
        fx_candle(&f, "XRPUSDT", "1", "1.06", high_nearer ? "0.93" : "0.94", "1", "100000");
        const char *won = high_nearer ? "tp" : "sl", *lost = high_nearer ? "sl" : "tp";
        qtr_fill fl = fx_only_fill(&f, mark, won);
        /* 1.05 * 0.9999 = 1.049895 -> 1.0499; 0.95 * 0.9999 = 0.949905 -> 0.9499 */
        assert_int_equal(fl.price, D(high_nearer ? "1.0499" : "0.9499"));
        assert_int_equal(fx_fills(&f, mark, lost, NULL, 0), 0);
        qtr_order_update u[4];
        assert_int_equal(fx_updates(&f, mark, lost, u, 4), 2);
        assert_int_equal(u[1].status, QTR_OS_EXPIRED);
        fx_stop(&f);
    }
}

/* A limit buy at 0.97 and a stop buy at 1.03 on open 1, high 1.04, low 0.95:
 * the high is nearer, so the stop fills before the limit. */
static void the_path_orders_a_limit_and_a_stop(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, NULL);
    fx_candle(&f, "XRPUSDT", "1", "1", "1", "1", "1000");   /* a budget of 100 per candle */
    size_t mark = f.m->n_events;
    fx_submit(&f, "XRPUSDT", "lim", BUY, LMT, GTC, "100", "0.97", false);
    fx_submit_stop(&f, "XRPUSDT", "stop", BUY, STOP, "100", "1.03", false);
    fx_candle(&f, "XRPUSDT", "1", "1.04", "0.95", "1", "1000");
    qtr_fill s = fx_only_fill(&f, mark, "stop");
    assert_int_equal(s.qty, D("100"));             /* first on the path: the whole budget */
    assert_int_equal(s.price, D("1.0301"));        /* 1.03 * 1.0001 = 1.030103 */
    assert_int_equal(fx_fills(&f, mark, "lim", NULL, 0), 0);
    fx_stop(&f);
}

/* stop_trigger = "mark": the candle's low alone does not trigger; the mark
 * does, and the order fills at the close (when the mark is known). */
static void stops_can_trigger_on_the_mark(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, "stop_trigger", "mark", NULL);
    fx_candle(&f, "XRPUSDT", "1", "1", "1", "1", "100000");
    size_t mark = f.m->n_events;
    fx_submit(&f, "XRPUSDT", "long", BUY, MKT, GTC, "10", "0", false);
    fx_submit_stop(&f, "XRPUSDT", "sl", SELL, STOP, "10", "0.95", true);
    qtr_mark_price *mk = &f.m->marks[f.m->n_marks++];
    memset(mk, 0, sizeof *mk);
    qtr_strlcpy(mk->symbol, "XRPUSDT", sizeof mk->symbol);
    mk->mark_price = D("0.96");
    fx_candle(&f, "XRPUSDT", "1", "1", "0.94", "0.97", "100000");   /* a wick below, the mark above */
    assert_int_equal(fx_fills(&f, mark, "sl", NULL, 0), 0);
    mk->mark_price = D("0.95");
    fx_candle(&f, "XRPUSDT", "0.97", "0.98", "0.949", "0.96", "100000");
    assert_int_equal(fx_only_fill(&f, mark, "sl").price, D("0.9599"));   /* 0.96 * 0.9999 = 0.959904 */
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slippage_rounds_to_the_nearest_tick_ties_against_the_trader),
        cmocka_unit_test(market_orders_can_fill_at_the_next_open),
        cmocka_unit_test(a_limit_opened_through_pays_slippage_up_to_its_limit),
        cmocka_unit_test(stops_trigger_on_the_low_and_gaps_fill_at_the_open),
        cmocka_unit_test(the_path_decides_a_stop_and_a_take_profit_on_one_candle),
        cmocka_unit_test(the_path_orders_a_limit_and_a_stop),
        cmocka_unit_test(stops_can_trigger_on_the_mark),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
