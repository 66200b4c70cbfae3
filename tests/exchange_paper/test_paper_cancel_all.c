/* Paper exchange: cancel_all (the ESS's cancel-all) keeps the reduce-only
 * conditional orders, as Binance's cancel_all does (docs/binance.md): the
 * exits' stop, trailing stop and take-profit keep protecting the position a
 * trip leaves open, so paper, backtest and live agree. Plain orders (even
 * reduce-only) and a conditional order that could open a position go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "paper_fixture.h"

#define BUY QTR_SIDE_BUY
#define SELL QTR_SIDE_SELL
#define LMT QTR_ORDER_LIMIT
#define MKT QTR_ORDER_MARKET
#define GTC QTR_TIF_GTC

static qtr_order_status last_status(const fx *f, size_t from, const char *cid)
{
    qtr_order_update u[8];
    size_t n = fx_updates(f, from, cid, u, 8);
    return n ? u[n - 1].status : (qtr_order_status)0;
}

static void cancel_all_keeps_reduce_only_stops(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, (const char *)NULL);
    fx_candle(&f, "BTCUSDT", "100", "100", "100", "100", "1000");
    assert_int_equal(fx_submit(&f, "BTCUSDT", "entry", BUY, MKT, GTC, "1", "0", false), QTR_OK);   /* long 1 */
    assert_int_equal(fx_submit_stop(&f, "BTCUSDT", "stop", SELL, QTR_ORDER_STOP_MARKET, "1", "90", true), QTR_OK);
    assert_int_equal(fx_submit_stop(&f, "BTCUSDT", "tp", SELL, QTR_ORDER_TAKE_PROFIT_MARKET, "1", "120", true),
                     QTR_OK);
    assert_int_equal(fx_submit_trailing(&f, "BTCUSDT", "trail", SELL, "1", "110", 100, QTR_WORKING_LAST), QTR_OK);
    assert_int_equal(fx_submit(&f, "BTCUSDT", "bid", BUY, LMT, GTC, "1", "50", false), QTR_OK);
    assert_int_equal(fx_submit(&f, "BTCUSDT", "reduce-ask", SELL, LMT, GTC, "1", "150", true), QTR_OK);
    assert_int_equal(fx_submit_stop(&f, "BTCUSDT", "entry-stop", BUY, QTR_ORDER_STOP_MARKET, "1", "130", false),
                     QTR_OK);
    const char *kept[] = { "stop", "tp", "trail" };
    const char *gone[] = { "bid", "reduce-ask", "entry-stop" };
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(last_status(&f, 0, kept[i]), QTR_OS_NEW);
        assert_int_equal(last_status(&f, 0, gone[i]), QTR_OS_NEW);
    }

    size_t mark = f.m->n_events;
    assert_int_equal(fx_cancel_all(&f, NULL), QTR_OK);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(last_status(&f, mark, gone[i]), QTR_OS_CANCELED);
        assert_int_equal(last_status(&f, mark, kept[i]), 0);   /* nothing published: still resting */
    }
    /* the stop still protects: a fall through 90 closes the position */
    mark = f.m->n_events;
    fx_candle(&f, "BTCUSDT", "100", "100", "85", "86", "1000");
    qtr_fill fill = fx_only_fill(&f, mark, "stop");
    assert_int_equal(fill.side, SELL);
    assert_int_equal(fill.qty, QTR_DEC_INT(1));
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cancel_all_keeps_reduce_only_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
