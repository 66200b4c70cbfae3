/* Paper exchange: limit orders resting and filling, GTX, IOC, FOK. */
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
#define LMT QTR_ORDER_LIMIT

static void limit_buy_rests_then_fills_at_its_price(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, NULL);
    fx_candle(&f, "XRPUSDT", "1", "1.01", "0.99", "1", "1000");
    size_t mark = f.m->n_events;
    assert_int_equal(fx_submit(&f, "XRPUSDT", "l", BUY, LMT, QTR_TIF_GTC, "10", "0.9", false), QTR_OK);
    qtr_order_update u[4];
    qtr_fill fl[4];
    assert_int_equal(fx_updates(&f, mark, "l", u, 4), 1);
    assert_int_equal(u[0].status, QTR_OS_NEW);
    assert_int_equal(u[0].price, D("0.9"));
    fx_candle(&f, "XRPUSDT", "1", "1", "0.95", "0.96", "1000");   /* low above the limit */
    assert_int_equal(fx_fills(&f, mark, "l", NULL, 0), 0);
    fx_candle(&f, "XRPUSDT", "0.95", "0.96", "0.89", "0.9", "1000");
    assert_int_equal(fx_fills(&f, mark, "l", fl, 4), 1);
    assert_int_equal(fl[0].price, D("0.9"));
    assert_true(fl[0].maker);
    assert_int_equal(fl[0].fee, D("0.0018"));   /* 0.9 * 10 * 0.0002 */
    assert_int_equal(fx_updates(&f, mark, "l", u, 4), 2);
    assert_int_equal(u[1].status, QTR_OS_FILLED);
    assert_int_equal(u[1].avg_price, D("0.9"));
    fx_stop(&f);
}

static void limit_opened_through_fills_at_the_open(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, NULL);
    fx_candle(&f, "XRPUSDT", "1", "1.01", "0.99", "1", "1000");
    size_t mark = f.m->n_events;
    assert_int_equal(fx_submit(&f, "XRPUSDT", "b", BUY, LMT, QTR_TIF_GTC, "10", "0.95", false), QTR_OK);
    assert_int_equal(fx_submit(&f, "XRPUSDT", "s", SELL, LMT, QTR_TIF_GTC, "5", "1.15", false), QTR_OK);
    fx_candle(&f, "XRPUSDT", "0.93", "0.94", "0.92", "0.93", "1000");
    qtr_fill fl[4];
    assert_int_equal(fx_fills(&f, mark, "b", fl, 4), 1);
    /* at the open as a taker, with slippage: 0.93 * 1.0001 = 0.930093, to the nearest tick */
    assert_int_equal(fl[0].price, D("0.9301"));
    assert_false(fl[0].maker);
    assert_int_equal(fl[0].fee, D("0.0037204"));  /* 0.9301 * 10 * 0.0004 */
    fx_candle(&f, "XRPUSDT", "1.2", "1.25", "1.18", "1.2", "1000");
    assert_int_equal(fx_fills(&f, mark, "s", fl, 4), 1);
    assert_int_equal(fl[0].price, D("1.1999"));   /* 1.2 * 0.9999 = 1.19988 */
    assert_int_equal(fl[0].side, QTR_SIDE_SELL);
    fx_stop(&f);
}

/* By default a resting limit fills only when the price trades through it:
 * a high that only touches it is not enough (the queue ahead may not clear). */
static void limit_sell_fills_when_high_trades_through_it(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, NULL);
    fx_candle(&f, "XRPUSDT", "1", "1.01", "0.99", "1", "1000");
    size_t mark = f.m->n_events;
    assert_int_equal(fx_submit(&f, "XRPUSDT", "s", SELL, LMT, QTR_TIF_GTC, "5", "1.1", false), QTR_OK);
    fx_candle(&f, "XRPUSDT", "1", "1.0999", "0.99", "1.05", "1000");
    assert_int_equal(fx_fills(&f, mark, "s", NULL, 0), 0);
    fx_candle(&f, "XRPUSDT", "1.05", "1.1", "1.04", "1.06", "1000");   /* a touch */
    assert_int_equal(fx_fills(&f, mark, "s", NULL, 0), 0);
    fx_candle(&f, "XRPUSDT", "1.05", "1.1001", "1.04", "1.06", "1000");
    qtr_fill fl[2];
    assert_int_equal(fx_fills(&f, mark, "s", fl, 2), 1);
    assert_int_equal(fl[0].price, D("1.1"));
    assert_true(fl[0].maker);
    assert_int_equal(fl[0].fee, fx_fee(D("1.1"), D("5"), D("0.0002")));
    fx_stop(&f);
}

/* limit_fill = "touch": the high at the limit fills it. */
static void limit_sell_fills_on_a_touch_when_asked(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, "limit_fill", "touch", NULL);
    fx_candle(&f, "XRPUSDT", "1", "1.01", "0.99", "1", "1000");
    size_t mark = f.m->n_events;
    assert_int_equal(fx_submit(&f, "XRPUSDT", "s", SELL, LMT, QTR_TIF_GTC, "5", "1.1", false), QTR_OK);
    fx_candle(&f, "XRPUSDT", "1", "1.0999", "0.99", "1.05", "1000");
    assert_int_equal(fx_fills(&f, mark, "s", NULL, 0), 0);
    fx_candle(&f, "XRPUSDT", "1.05", "1.1", "1.04", "1.06", "1000");
    qtr_fill fl[2];
    assert_int_equal(fx_fills(&f, mark, "s", fl, 2), 1);
    assert_int_equal(fl[0].price, D("1.1"));
    assert_true(fl[0].maker);
    fx_stop(&f);
}

static void limit_partial_fills_accumulate(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, NULL);
    fx_candle(&f, "XRPUSDT", "1", "1", "1", "1", "400");
    size_t mark = f.m->n_events;
    assert_int_equal(fx_submit(&f, "XRPUSDT", "l", BUY, LMT, QTR_TIF_GTC, "100", "0.9", false), QTR_OK);
    for (int i = 0; i < 4; i++) fx_candle(&f, "XRPUSDT", "0.9", "0.9", "0.89", "0.9", "400");   /* 40 each */
    qtr_order_update u[8];
    assert_int_equal(fx_updates(&f, mark, "l", u, 8), 4);
    assert_int_equal(u[1].status, QTR_OS_PARTIALLY_FILLED);
    assert_int_equal(u[1].filled_qty, D("40"));
    assert_int_equal(u[2].status, QTR_OS_PARTIALLY_FILLED);
    assert_int_equal(u[2].filled_qty, D("80"));
    assert_int_equal(u[3].status, QTR_OS_FILLED);
    assert_int_equal(u[3].filled_qty, D("100"));
    qtr_fill fl[8];
    assert_int_equal(fx_fills(&f, mark, "l", fl, 8), 3);
    assert_int_equal(fl[0].qty + fl[1].qty + fl[2].qty, D("100"));
    fx_stop(&f);
}

static void post_only(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, NULL);
    fx_candle(&f, "XRPUSDT", "1", "1.01", "0.99", "1", "1000");
    size_t mark = f.m->n_events;
    qtr_order_update u[4];
    /* at or through the last price it would take: expired */
    assert_int_equal(fx_submit(&f, "XRPUSDT", "g1", BUY, LMT, QTR_TIF_GTX, "10", "1", false), QTR_OK);
    assert_int_equal(fx_updates(&f, mark, "g1", u, 4), 2);
    assert_int_equal(u[0].status, QTR_OS_NEW);
    assert_int_equal(u[1].status, QTR_OS_EXPIRED);
    assert_non_null(strstr(u[1].reason, "post-only"));
    assert_int_equal(fx_submit(&f, "XRPUSDT", "g2", SELL, LMT, QTR_TIF_GTX, "10", "0.99", false), QTR_OK);
    assert_int_equal(fx_updates(&f, mark, "g2", u, 4), 2);
    assert_int_equal(u[1].status, QTR_OS_EXPIRED);
    /* below the market it rests, and fills as a maker at its own price even
     * when a candle opens through it */
    assert_int_equal(fx_submit(&f, "XRPUSDT", "g3", BUY, LMT, QTR_TIF_GTX, "10", "0.98", false), QTR_OK);
    assert_int_equal(fx_updates(&f, mark, "g3", u, 4), 1);
    fx_candle(&f, "XRPUSDT", "0.95", "0.96", "0.94", "0.95", "1000");
    qtr_fill fl[2];
    assert_int_equal(fx_fills(&f, mark, "g3", fl, 2), 1);
    assert_int_equal(fl[0].price, D("0.98"));
    assert_true(fl[0].maker);
    assert_int_equal(fx_fills(&f, mark, "g1", NULL, 0) + fx_fills(&f, mark, "g2", NULL, 0), 0);
    fx_stop(&f);
}

static void immediate_or_cancel(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, NULL);
    fx_candle(&f, "XRPUSDT", "1", "1.01", "0.99", "1", "100");   /* 10 fillable */
    size_t mark = f.m->n_events;
    qtr_order_update u[4];
    qtr_fill fl[4];
    /* marketable: 1 * 1.0001 = 1.0001 <= 1.001 */
    assert_int_equal(fx_submit(&f, "XRPUSDT", "i1", BUY, LMT, QTR_TIF_IOC, "25", "1.001", false), QTR_OK);
    assert_int_equal(fx_fills(&f, mark, "i1", fl, 4), 1);
    assert_int_equal(fl[0].qty, D("10"));
    assert_int_equal(fl[0].price, D("1.0001"));
    assert_false(fl[0].maker);
    assert_int_equal(fx_updates(&f, mark, "i1", u, 4), 3);
    assert_int_equal(u[2].status, QTR_OS_EXPIRED);
    assert_int_equal(u[2].filled_qty, D("10"));
    /* not marketable: nothing fills, it expires at once */
    assert_int_equal(fx_submit(&f, "XRPUSDT", "i2", BUY, LMT, QTR_TIF_IOC, "5", "0.99", false), QTR_OK);
    assert_int_equal(fx_fills(&f, mark, "i2", NULL, 0), 0);
    assert_int_equal(fx_updates(&f, mark, "i2", u, 4), 2);
    assert_int_equal(u[1].status, QTR_OS_EXPIRED);
    assert_int_equal(u[1].filled_qty, 0);
    fx_candle(&f, "XRPUSDT", "0.9", "0.9", "0.9", "0.9", "1000");
    assert_int_equal(fx_fills(&f, mark, "i2", NULL, 0), 0);
    fx_stop(&f);
}

static void fill_or_kill(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, NULL);
    fx_candle(&f, "XRPUSDT", "1", "1.01", "0.99", "1", "100");   /* 10 fillable */
    size_t mark = f.m->n_events;
    qtr_order_update u[4];
    qtr_fill fl[4];
    assert_int_equal(fx_submit(&f, "XRPUSDT", "k1", SELL, LMT, QTR_TIF_FOK, "11", "0.99", false), QTR_OK);
    assert_int_equal(fx_fills(&f, mark, "k1", NULL, 0), 0);
    assert_int_equal(fx_updates(&f, mark, "k1", u, 4), 2);
    assert_int_equal(u[1].status, QTR_OS_EXPIRED);
    assert_non_null(strstr(u[1].reason, "not enough volume"));
    assert_int_equal(fx_submit(&f, "XRPUSDT", "k2", SELL, LMT, QTR_TIF_FOK, "10", "1.01", false), QTR_OK);
    assert_int_equal(fx_updates(&f, mark, "k2", u, 4), 2);
    assert_int_equal(u[1].status, QTR_OS_EXPIRED);
    assert_non_null(strstr(u[1].reason, "limit price not reached"));
    assert_int_equal(fx_submit(&f, "XRPUSDT", "k3", SELL, LMT, QTR_TIF_FOK, "10", "0.99", false), QTR_OK);
    assert_int_equal(fx_fills(&f, mark, "k3", fl, 4), 1);
    assert_int_equal(fl[0].qty, D("10"));
    assert_int_equal(fl[0].price, D("0.9999"));   /* 1 * 0.9999 */
    assert_int_equal(fx_updates(&f, mark, "k3", u, 4), 2);
    assert_int_equal(u[1].status, QTR_OS_FILLED);
    fx_stop(&f);
}

/* Index of the first FILL event of client_id at or after `from`. */
static size_t fill_index(const fx *f, size_t from, const char *client_id)
{
    for (size_t i = from; i < f->m->n_events; i++) {
        const qtr_event *ev = &f->m->events[i];
        if (ev->type == QTR_EV_FILL && strcmp(ev->u.fill.client_id, client_id) == 0) return i;
    }
    fail_msg("no fill of %s", client_id);
    return 0;
}

/* Candles of a symbol with nothing resting (matching returns early on them)
 * leave another symbol's resting orders alone, even when their prices cross
 * those orders; and two orders one candle reaches fill in the order of its
 * price path, not of submission. */
static void resting_orders_wait_for_their_own_symbol_and_fill_in_path_order(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, NULL);
    fx_candle(&f, "XRPUSDT", "1", "1.01", "0.99", "1", "1000");
    fx_candle(&f, "ADAUSDT", "1", "1.01", "0.99", "1", "1000");
    size_t mark = f.m->n_events;
    assert_int_equal(fx_submit(&f, "XRPUSDT", "s", SELL, LMT, QTR_TIF_GTC, "5", "1.1", false), QTR_OK);
    assert_int_equal(fx_submit(&f, "XRPUSDT", "b", BUY, LMT, QTR_TIF_GTC, "5", "0.95", false), QTR_OK);
    for (int i = 0; i < 3; i++) fx_candle(&f, "ADAUSDT", "1", "1.2", "0.9", "1", "1000");
    assert_int_equal(fx_fills(&f, mark, "s", NULL, 0), 0);
    assert_int_equal(fx_fills(&f, mark, "b", NULL, 0), 0);
    /* open 1, then the nearer extreme (low 0.9: the buy), then the high 1.2 (the sell) */
    fx_candle(&f, "XRPUSDT", "1", "1.2", "0.9", "1", "1000");
    assert_int_equal(fx_fills(&f, mark, "b", NULL, 0), 1);
    assert_int_equal(fx_fills(&f, mark, "s", NULL, 0), 1);
    assert_true(fill_index(&f, mark, "b") < fill_index(&f, mark, "s"));
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(limit_buy_rests_then_fills_at_its_price),
        cmocka_unit_test(limit_opened_through_fills_at_the_open),
        cmocka_unit_test(limit_sell_fills_when_high_trades_through_it),
        cmocka_unit_test(limit_sell_fills_on_a_touch_when_asked),
        cmocka_unit_test(limit_partial_fills_accumulate),
        cmocka_unit_test(post_only),
        cmocka_unit_test(immediate_or_cancel),
        cmocka_unit_test(fill_or_kill),
        cmocka_unit_test(resting_orders_wait_for_their_own_symbol_and_fill_in_path_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
