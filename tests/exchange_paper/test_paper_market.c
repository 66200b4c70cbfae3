/* Paper exchange: market orders, slippage, fees, volume share, expiry. */
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
#define GTC QTR_TIF_GTC

static void market_buy_and_sell_with_slippage_and_fee(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, NULL);
    fx_candle(&f, "XRPUSDT", "1.23", "1.24", "1.22", "1.2345", "1000000");

    size_t mark = f.m->n_events;
    assert_int_equal(fx_submit(&f, "XRPUSDT", "b1", BUY, MKT, GTC, "123.457", "0", false), QTR_OK);
    qtr_order_update u[4];
    qtr_fill fl[4];
    assert_int_equal(fx_updates(&f, mark, "b1", u, 4), 2);
    assert_int_equal(fx_fills(&f, mark, "b1", fl, 4), 1);
    assert_int_equal(u[0].status, QTR_OS_NEW);
    assert_int_equal(u[0].filled_qty, 0);
    assert_int_equal(u[0].type, QTR_ORDER_MARKET);
    assert_true(u[0].exchange_id[0] != '\0');
    /* 1.2345 * 1.0001 = 1.23462345, to the nearest tick 0.0001: 1.2346
     * (rounding up, against the buyer, would pay 1.2347: 1.8 bp instead of 1) */
    assert_int_equal(fl[0].price, D("1.2346"));
    assert_int_equal(fl[0].qty, D("123.457"));
    /* 1.2346 * 123.457 = 152.4200122; * 0.0004 = 0.06096800488, up to 1e-8 */
    assert_int_equal(fl[0].fee, D("0.06096801"));
    assert_int_equal(fl[0].fee, fx_fee(D("1.2346"), D("123.457"), D("0.0004")));
    assert_false(fl[0].maker);
    assert_int_equal(fl[0].side, QTR_SIDE_BUY);
    assert_int_equal(fl[0].time_ms, f.m->now_ms);
    assert_int_equal(u[1].status, QTR_OS_FILLED);
    assert_int_equal(u[1].filled_qty, D("123.457"));
    assert_int_equal(u[1].avg_price, D("1.2346"));
    assert_string_equal(u[1].exchange_id, u[0].exchange_id);
    /* the fill comes before the update that reports it */
    assert_true(mock_host_last_event(f.m, QTR_EV_ORDER_UPDATE) > mock_host_last_event(f.m, QTR_EV_FILL));

    mark = f.m->n_events;
    assert_int_equal(fx_submit(&f, "XRPUSDT", "s1", SELL, MKT, GTC, "123.457", "0", false), QTR_OK);
    assert_int_equal(fx_fills(&f, mark, "s1", fl, 4), 1);
    /* 1.2345 * 0.9999 = 1.23437655, to the nearest tick: 1.2344 */
    assert_int_equal(fl[0].price, D("1.2344"));
    /* 1.2344 * 123.457 = 152.3953208; * 0.0004 = 0.06095812832, up */
    assert_int_equal(fl[0].fee, D("0.06095813"));
    assert_int_equal(fx_updates(&f, mark, "s1", u, 4), 2);
    assert_int_equal(u[1].status, QTR_OS_FILLED);
    fx_stop(&f);
}

static void partial_fills_bounded_by_volume_share(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, NULL);
    fx_candle(&f, "XRPUSDT", "1", "1", "1", "1", "500");   /* 10% of 500: 50 per candle */
    size_t mark = f.m->n_events;
    assert_int_equal(fx_submit(&f, "XRPUSDT", "m1", BUY, MKT, GTC, "120", "0", false), QTR_OK);
    fx_candle(&f, "XRPUSDT", "1.1", "1.1", "1.1", "1.1", "300");   /* 30 */
    fx_candle(&f, "XRPUSDT", "1.2", "1.2", "1.2", "1.2", "1000");  /* 100, 40 needed */
    fx_candle(&f, "XRPUSDT", "1.3", "1.3", "1.3", "1.3", "1000");  /* nothing left to fill */

    qtr_order_update u[8];
    qtr_fill fl[8];
    assert_int_equal(fx_updates(&f, mark, "m1", u, 8), 4);
    assert_int_equal(fx_fills(&f, mark, "m1", fl, 8), 3);
    const char *want_qty[3] = { "50", "30", "40" };
    /* close 1 and opens 1.1, 1.2 moved up 1 bp, to the nearest tick: 1.0001, 1.10011 -> 1.1001, 1.20012 -> 1.2001 */
    const char *want_price[3] = { "1.0001", "1.1001", "1.2001" };
    const char *want_cum[3] = { "50", "80", "120" };
    qtr_dec sum = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(fl[i].qty, D(want_qty[i]));
        assert_int_equal(fl[i].price, D(want_price[i]));
        assert_int_equal(fl[i].fee, fx_fee(fl[i].price, fl[i].qty, D("0.0004")));
        assert_int_equal(u[i + 1].filled_qty, D(want_cum[i]));
        assert_int_equal(u[i + 1].status, i < 2 ? QTR_OS_PARTIALLY_FILLED : QTR_OS_FILLED);
        sum += fl[i].qty;
    }
    assert_int_equal(sum, D("120"));
    /* (50*1.0001 + 30*1.1001 + 40*1.2001) / 120 = 131.012 / 120 = 1.0917666..., half-even */
    assert_int_equal(u[3].avg_price, D("1.09176667"));
    fx_stop(&f);
}

/* The budget belongs to the candle an order trades on, also when candles
 * came and went with no order resting (the budget is then set by the
 * order, not by the candle): 10% of the last candle's volume, whole. */
static void budget_of_the_candle_traded_on(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, NULL);
    fx_candle(&f, "XRPUSDT", "1", "1", "1", "1", "500");   /* 50 */
    size_t mark = f.m->n_events;
    assert_int_equal(fx_submit(&f, "XRPUSDT", "a", BUY, MKT, GTC, "20", "0", false), QTR_OK);
    fx_candle(&f, "XRPUSDT", "1", "1", "1", "1", "900");   /* no order rests */
    fx_candle(&f, "XRPUSDT", "1", "1", "1", "1", "300");   /* 30 */
    assert_int_equal(fx_submit(&f, "XRPUSDT", "b", BUY, MKT, GTC, "25", "0", false), QTR_OK);
    assert_int_equal(fx_submit(&f, "XRPUSDT", "c", BUY, MKT, GTC, "25", "0", false), QTR_OK);
    qtr_fill fl[4];
    assert_int_equal(fx_fills(&f, mark, "a", fl, 4), 1);
    assert_int_equal(fl[0].qty, D("20"));
    assert_int_equal(fx_fills(&f, mark, "b", fl, 4), 1);
    assert_int_equal(fl[0].qty, D("25"));
    assert_int_equal(fx_fills(&f, mark, "c", fl, 4), 1);
    assert_int_equal(fl[0].qty, D("5"));                /* 30 - 25: the same candle's budget */
    fx_stop(&f);
}

static void orders_share_one_candle_budget(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, NULL);
    fx_candle(&f, "XRPUSDT", "1", "1", "1", "1", "500");   /* 50 for everyone */
    size_t mark = f.m->n_events;
    assert_int_equal(fx_submit(&f, "XRPUSDT", "a", BUY, MKT, GTC, "30", "0", false), QTR_OK);
    assert_int_equal(fx_submit(&f, "XRPUSDT", "b", SELL, MKT, GTC, "30", "0", false), QTR_OK);
    qtr_order_update u[4];
    assert_int_equal(fx_updates(&f, mark, "a", u, 4), 2);
    assert_int_equal(u[1].status, QTR_OS_FILLED);
    assert_int_equal(fx_updates(&f, mark, "b", u, 4), 2);
    assert_int_equal(u[1].status, QTR_OS_PARTIALLY_FILLED);
    assert_int_equal(u[1].filled_qty, D("20"));
    fx_stop(&f);
}

static void market_remainder_expires(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, "market_order_timeout_candles", "2", NULL);
    fx_candle(&f, "XRPUSDT", "2", "2", "2", "2", "100");    /* 10 per candle */
    size_t mark = f.m->n_events;
    assert_int_equal(fx_submit(&f, "XRPUSDT", "m", SELL, MKT, GTC, "100", "0", false), QTR_OK);
    fx_candle(&f, "XRPUSDT", "2", "2", "2", "2", "100");    /* candle 1 of 2: +10 */
    fx_candle(&f, "XRPUSDT", "2", "2", "2", "2", "0");      /* candle 2 of 2: no volume, expires */
    size_t after_expiry = f.m->n_events;
    fx_candle(&f, "XRPUSDT", "2", "2", "2", "2", "100");

    qtr_order_update u[8];
    assert_int_equal(fx_updates(&f, mark, "m", u, 8), 4);   /* NEW, 10, 20, EXPIRED */
    assert_int_equal(u[3].status, QTR_OS_EXPIRED);
    assert_int_equal(u[3].filled_qty, D("20"));
    assert_non_null(strstr(u[3].reason, "expired after 2 candles"));
    assert_int_equal(fx_fills(&f, mark, "m", NULL, 0), 2);
    assert_int_equal(fx_updates(&f, after_expiry, "m", NULL, 0), 0);
    /* final: it cannot be cancelled any more */
    assert_int_equal(fx_cancel(&f, "XRPUSDT", "m"), QTR_ENOTFOUND);
    fx_stop(&f);
}

static void zero_timeout_expires_at_once(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, "market_order_timeout_candles", "0", NULL);
    fx_candle(&f, "XRPUSDT", "2", "2", "2", "2", "100");
    size_t mark = f.m->n_events;
    assert_int_equal(fx_submit(&f, "XRPUSDT", "m", BUY, MKT, GTC, "15", "0", false), QTR_OK);
    qtr_order_update u[4];
    assert_int_equal(fx_updates(&f, mark, "m", u, 4), 3);
    assert_int_equal(u[2].status, QTR_OS_EXPIRED);
    assert_int_equal(u[2].filled_qty, D("10"));
    fx_stop(&f);
}

/* The host may already hold a candle the exchange has not been called with:
 * orders price off that newest candle, and never fill on it afterwards. */
static void newest_candle_prices_and_no_lookahead(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, NULL);
    fx_candle(&f, "XRPUSDT", "1", "1", "1", "1", "1000");
    qtr_candle next = { .symbol = "XRPUSDT", .open_time_ms = f.next_open_ms, .close_time_ms = f.next_open_ms + 59999,
                        .open = D("2"), .high = D("2"), .low = D("1.5"), .close = D("2"), .volume = D("1000") };
    f.m->last_candles[0] = next;   /* known to the host, not yet on the bus */

    size_t mark = f.m->n_events;
    assert_int_equal(fx_submit(&f, "XRPUSDT", "a", BUY, MKT, GTC, "60", "0", false), QTR_OK);
    assert_int_equal(fx_submit(&f, "XRPUSDT", "l", BUY, LMT, GTC, "10", "1.9", false), QTR_OK);
    qtr_fill fl[4];
    assert_int_equal(fx_fills(&f, mark, "a", fl, 4), 1);
    assert_int_equal(fl[0].price, D("2.0002"));     /* 2 * 1.0001 */

    fx_candle(&f, "XRPUSDT", "2", "2", "1.5", "2", "1000");   /* the same candle arrives */
    assert_int_equal(fx_fills(&f, mark, "l", NULL, 0), 0);     /* 1.9 was inside it, but it is the past */
    /* the budget of that candle (100) was partly used: 40 are left */
    assert_int_equal(fx_submit(&f, "XRPUSDT", "b", BUY, MKT, GTC, "60", "0", false), QTR_OK);
    assert_int_equal(fx_fills(&f, mark, "b", fl, 4), 1);
    assert_int_equal(fl[0].qty, D("40"));

    size_t mark3 = f.m->n_events;
    fx_candle(&f, "XRPUSDT", "1.8", "1.8", "1.7", "1.8", "1000");
    assert_int_equal(fx_fills(&f, mark3, "l", fl, 4), 1);
    /* opened through the limit: the better open, as a taker with slippage:
     * 1.8 * 1.0001 = 1.80018, to the nearest tick 1.8002 (still below the limit 1.9) */
    assert_int_equal(fl[0].price, D("1.8002"));
    assert_false(fl[0].maker);
    assert_int_equal(fx_fills(&f, mark3, "b", fl, 4), 1);
    assert_int_equal(fl[0].qty, D("20"));
    assert_int_equal(fl[0].price, D("1.8002"));     /* 1.8 * 1.0001 = 1.80018, to the nearest */
    fx_stop(&f);
}

static void run_scenario(mock_host **out_m, fx *f)
{
    fx_start(f, NULL);
    fx_candle(f, "XRPUSDT", "1", "1.1", "0.9", "1", "700");
    fx_submit(f, "XRPUSDT", "a", BUY, MKT, GTC, "100", "0", false);
    fx_submit(f, "XRPUSDT", "b", SELL, LMT, GTC, "20", "1.05", false);
    for (int i = 0; i < 5; i++) fx_candle(f, "XRPUSDT", "1", "1.1", "0.9", "1", "300");
    *out_m = f->m;
}

static void same_input_same_events(void **state)
{
    (void)state;
    fx f1, f2;
    mock_host *m1, *m2;
    run_scenario(&m1, &f1);
    run_scenario(&m2, &f2);
    assert_int_equal(m1->n_events, m2->n_events);
    assert_true(m1->n_events > 10);
    for (size_t i = 0; i < m1->n_events; i++) assert_memory_equal(&m1->events[i], &m2->events[i], sizeof(qtr_event));
    fx_stop(&f1);
    fx_stop(&f2);
}

static void fill_ids_are_unique(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, NULL);
    fx_candle(&f, "XRPUSDT", "1", "1", "1", "1", "100");   /* 10 per candle: orders split */
    char cid[32];
    for (int i = 0; i < 40; i++) {
        snprintf(cid, sizeof cid, "o%d", i);
        assert_int_equal(fx_submit(&f, "XRPUSDT", cid, i % 2 ? SELL : BUY, MKT, GTC, "13", "0", false), QTR_OK);
        fx_candle(&f, "XRPUSDT", "1", "1", "1", "1", "100");
    }
    const qtr_fill *fills[512];
    size_t n = 0;
    for (size_t i = 0; i < f.m->n_events && n < 512; i++)
        if (f.m->events[i].type == QTR_EV_FILL) fills[n++] = &f.m->events[i].u.fill;
    assert_true(n > 40);
    for (size_t i = 0; i < n; i++) {
        assert_true(fills[i]->fill_id[0] != '\0');
        for (size_t j = i + 1; j < n; j++) assert_string_not_equal(fills[i]->fill_id, fills[j]->fill_id);
    }
    fx_stop(&f);
}

/* A candle's symbol field is compared whole with the symbols seen last (the
 * per-candle guess, orders.c): bytes after its NUL do not count, and names
 * that are prefixes of each other stay apart, in a cycle and out of it:
 * each market order fills at its own symbol's last close. */
static void symbols_told_apart_by_their_whole_field(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, NULL);
    static const char *const names[3] = { "XRP", "XRPUSDT", "XRPUSDTX" };
    static const char *const closes[3][2] = { { "1.5", "1.6" }, { "2.5", "2.6" }, { "3.5", "3.6" } };
    static const int order[] = { 0, 1, 2, 0, 1, 2, 2, 1, 0, 1, 1, 0, 2, 0, 2, 1 };
    int last[3] = { 0, 0, 0 };
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        int k = order[i];
        last[k] = (int)(i % 2);
        int64_t t = f.next_open_ms;
        mock_host_advance(f.m, t + FX_INTERVAL - 1 - f.m->now_ms);
        qtr_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = QTR_EV_CANDLE;
        qtr_candle *c = &ev.u.candle;
        memset(c->symbol, 'X', sizeof c->symbol);   /* junk after the name: "XRP\0XXX...", "XRPUSDT\0XX..." */
        memcpy(c->symbol, names[k], strlen(names[k]) + 1);
        c->open_time_ms = t;
        c->close_time_ms = t + FX_INTERVAL - 1;
        c->open = c->high = c->low = c->close = D(closes[k][last[k]]);
        c->volume = D("1000000");
        ev.time_ms = c->close_time_ms;
        mock_host_publish(f.m, &ev);
        f.next_open_ms = t + FX_INTERVAL;
    }
    for (int k = 0; k < 3; k++) {
        char id[16];
        snprintf(id, sizeof id, "b%d", k);
        size_t mark = f.m->n_events;
        assert_int_equal(fx_submit(&f, names[k], id, BUY, MKT, GTC, "1", "0", false), QTR_OK);
        qtr_fill fl[2];
        assert_int_equal(fx_fills(&f, mark, id, fl, 2), 1);
        qtr_dec close = D(closes[k][last[k]]);   /* the buy pays the close plus 1 bp, to the tick */
        assert_true(fl[0].price >= close && fl[0].price <= close + D("0.001"));
    }
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(market_buy_and_sell_with_slippage_and_fee),
        cmocka_unit_test(partial_fills_bounded_by_volume_share),
        cmocka_unit_test(orders_share_one_candle_budget),
        cmocka_unit_test(budget_of_the_candle_traded_on),
        cmocka_unit_test(market_remainder_expires),
        cmocka_unit_test(zero_timeout_expires_at_once),
        cmocka_unit_test(newest_candle_prices_and_no_lookahead),
        cmocka_unit_test(same_input_same_events),
        cmocka_unit_test(fill_ids_are_unique),
        cmocka_unit_test(symbols_told_apart_by_their_whole_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
