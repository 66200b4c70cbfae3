/* The backtest report over a hand-made sequence of candles, fills (with the
 * positions before and after, written out by hand) and account updates.
 * Expected figures are worked out in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "mock_host.h"
#include "report/report.h"

#define HOUR INT64_C(3600000)
#define T0 INT64_C(1704067200000)   /* 2024-01-01T00:00:00Z */

static void candle(qh_report *r, const char *symbol, int64_t open_ms)
{
    qtr_candle c;
    memset(&c, 0, sizeof c);
    qtr_strlcpy(c.symbol, symbol, sizeof c.symbol);
    c.open_time_ms = open_ms;
    c.close_time_ms = open_ms + HOUR - 1;
    c.open = c.high = c.low = c.close = D("100");
    qh_report_on_candle(r, &c);
}

/* A fill and the position it moves: qty and realized PnL before and after. */
static void fill(qh_report *r, const char *symbol, qtr_side side, const char *qty, const char *fee,
                 const char *qty_before, const char *realized_before, const char *qty_after,
                 const char *realized_after)
{
    static int seq;
    qtr_fill f;
    qtr_position b, a;
    memset(&f, 0, sizeof f);
    memset(&b, 0, sizeof b);
    memset(&a, 0, sizeof a);
    qtr_strlcpy(f.symbol, symbol, sizeof f.symbol);
    snprintf(f.fill_id, sizeof f.fill_id, "fill-%d", ++seq);
    f.side = side;
    f.qty = D(qty);
    f.price = D("100");
    f.fee = D(fee);
    qtr_strlcpy(b.symbol, symbol, sizeof b.symbol);
    qtr_strlcpy(a.symbol, symbol, sizeof a.symbol);
    b.qty = D(qty_before);
    b.realized_pnl = D(realized_before);
    a.qty = D(qty_after);
    a.realized_pnl = D(realized_after);
    qh_report_on_fill(r, &f, &b, &a);
}

static void account(qh_report *r, int64_t t, const char *equity, const char *funding)
{
    qtr_account a;
    memset(&a, 0, sizeof a);
    a.time_ms = t;
    a.equity = D(equity);
    a.funding = D(funding);
    qh_report_on_account(r, &a);
}

/* Equity after each hourly candle (one sample per hour). */
static const char *const EQUITY[] = { "1000", "1010", "1050", "1000", "1040", "1020" };

static qh_report *feed_sequence(void)
{
    qh_report *r = qh_report_new(D("1000"));
    assert_non_null(r);
    for (int i = 0; i < 6; i++) candle(r, "A", T0 + i * HOUR);
    candle(r, "B", T0 + 5 * HOUR);

    /* trip 1 (A long): buy 2 (fee 0.2), sell 1 realizing 10 (fee 0.1),
     * sell 1 realizing 5 (fee 0.1): 15 - 0.4 = +14.6, a win */
    fill(r, "A", QTR_SIDE_BUY, "2", "0.2", "0", "0", "2", "0");
    fill(r, "A", QTR_SIDE_SELL, "1", "0.1", "2", "0", "1", "10");
    fill(r, "A", QTR_SIDE_SELL, "1", "0.1", "1", "10", "0", "15");
    /* trip 2 (A short): sell 3 (fee 0.3); a flip buys 5 realizing -12 with
     * fee 0.5, split 3/5 = 0.3 to this trip and 0.2 to the next:
     * -12 - 0.6 = -12.6, a loss */
    fill(r, "A", QTR_SIDE_SELL, "3", "0.3", "0", "15", "-3", "15");
    fill(r, "A", QTR_SIDE_BUY, "5", "0.5", "-3", "15", "2", "3");
    /* trip 3 (A long 2 from the flip): sell 2 realizing 0.3 with fee 0.2;
     * fees 0.2 + 0.2 = 0.4: 0.3 - 0.4 = -0.1, a loss (it would be a win if
     * the whole flip fee had gone to trip 2) */
    fill(r, "A", QTR_SIDE_SELL, "2", "0.2", "2", "3", "0", "3.3");
    /* B opened and never closed: an open trade, not counted */
    fill(r, "B", QTR_SIDE_BUY, "1", "0.05", "0", "0", "1", "0");

    for (int i = 0; i < 6; i++) {
        if (i == 2) account(r, T0 + i * HOUR + HOUR - 1, "1030", "0");   /* replaced below */
        account(r, T0 + i * HOUR + HOUR - 1, EQUITY[i], i == 5 ? "-0.75" : "0");
    }
    return r;
}

/* Sharpe of the equity path worked out here the plain two-pass way:
 * returns from the start equity 1000 through EQUITY[], hourly, 8760 a year. */
static double expected_sharpe(void)
{
    double prev = 1000.0, x[6], mean = 0, var = 0;
    for (int i = 0; i < 6; i++) {
        double e = strtod(EQUITY[i], NULL);
        x[i] = (e - prev) / prev;
        prev = e;
        mean += x[i] / 6.0;
    }
    for (int i = 0; i < 6; i++) var += (x[i] - mean) * (x[i] - mean) / 5.0;
    return mean / sqrt(var) * sqrt(8760.0);
}

static void test_summary_figures(void **st)
{
    (void)st;
    qh_report *r = feed_sequence();
    qh_report_summary s;
    assert_int_equal(qh_report_summary_get(r, &s), 0);
    assert_int_equal(s.candles, 7);
    assert_int_equal(s.symbols, 2);
    assert_int_equal(s.first_candle_ms, T0);
    assert_int_equal(s.last_candle_ms, T0 + 5 * HOUR);
    assert_int_equal(s.interval_ms, HOUR);
    assert_int_equal(s.fills, 7);
    assert_int_equal(s.trades, 3);
    assert_int_equal(s.wins, 1);
    assert_int_equal(s.losses, 2);
    assert_int_equal(s.open_trades, 1);
    /* fees 0.2+0.1+0.1+0.3+0.5+0.2+0.05 = 1.45; realized 15 - 12 + 0.3 = 3.3 */
    assert_int_equal(s.fees, D("1.45"));
    assert_int_equal(s.realized_pnl, D("3.3"));
    assert_int_equal(s.start_equity, D("1000"));
    assert_int_equal(s.end_equity, D("1020"));
    assert_int_equal(s.net_pnl, D("20"));
    assert_int_equal(s.funding, D("-0.75"));
    /* peak 1050, trough 1000: 50/1050*100 = 4.761904761... -> 4.76190476 */
    assert_int_equal(s.max_drawdown_pct, D("4.76190476"));
    assert_true(fabs(s.win_rate - 1.0 / 3.0) < 1e-12);
    assert_true(fabs(s.sharpe - expected_sharpe()) < 1e-9);
    qh_report_free(r);
}

static char *json_of(const qh_report *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    assert_non_null(mem);
    assert_int_equal(qh_report_write_json(r, mem), 0);
    fclose(mem);
    return buf;
}

static void test_json_bytes(void **st)
{
    (void)st;
    qh_report *r = feed_sequence();
    char *got = json_of(r);
    char want[1024];
    snprintf(want, sizeof want,
             "{\"candles\":7,\"trades\":3,\"wins\":1,\"losses\":2,\"start_equity\":\"1000\","
             "\"end_equity\":\"1020\",\"net_pnl\":\"20\",\"fees\":\"1.45\",\"max_drawdown_pct\":\"4.76190476\","
             "\"win_rate\":0.333333,\"sharpe\":%.6f,\"funding\":\"-0.75\",\"realized_pnl\":\"3.3\","
             "\"open_trades\":1,\"fills\":7,\"symbols\":2,\"first_candle_ms\":%lld,\"last_candle_ms\":%lld,"
             "\"interval_ms\":3600000,\"volumes_rounded\":0}\n",
             expected_sharpe(), (long long)T0, (long long)(T0 + 5 * HOUR));
    assert_string_equal(got, want);

    /* the same input, fed again into a new report, gives the same bytes */
    qh_report *r2 = feed_sequence();
    char *again = json_of(r2);
    assert_string_equal(got, again);
    free(got);
    free(again);
    qh_report_free(r);
    qh_report_free(r2);
}

static void test_empty_and_percent_format(void **st)
{
    (void)st;
    qh_report *r = qh_report_new(D("500"));
    char *j = json_of(r);
    assert_string_equal(j, "{\"candles\":0,\"trades\":0,\"wins\":0,\"losses\":0,\"start_equity\":\"500\","
                           "\"end_equity\":\"500\",\"net_pnl\":\"0\",\"fees\":\"0\",\"max_drawdown_pct\":\"0.00\","
                           "\"win_rate\":0.000000,\"sharpe\":0.000000,\"funding\":\"0\",\"realized_pnl\":\"0\","
                           "\"open_trades\":0,\"fills\":0,\"symbols\":0,\"first_candle_ms\":0,\"last_candle_ms\":0,"
                           "\"interval_ms\":0,\"volumes_rounded\":0}\n");
    free(j);
    /* 500 -> 450: drawdown exactly 10 -> "10.00"; one return only: Sharpe 0 */
    account(r, T0, "450", "0");
    qh_report_summary s;
    assert_int_equal(qh_report_summary_get(r, &s), 0);
    assert_int_equal(s.max_drawdown_pct, D("10"));
    assert_true(s.sharpe == 0.0);
    j = json_of(r);
    assert_non_null(strstr(j, "\"max_drawdown_pct\":\"10.00\""));
    assert_non_null(strstr(j, "\"net_pnl\":\"-50\""));
    free(j);
    /* 450 -> 405 is 10% again and 500 -> 400 is 20%: 400 -> "20.00";
     * 500 -> 437.5: 12.5 -> "12.50" is not the max and leaves it alone */
    account(r, T0 + HOUR, "437.5", "0");
    account(r, T0 + 2 * HOUR, "400", "0");
    j = json_of(r);
    assert_non_null(strstr(j, "\"max_drawdown_pct\":\"20.00\""));
    free(j);
    qh_report_free(r);
}

static void test_flat_equity_sharpe_zero(void **st)
{
    (void)st;
    qh_report *r = qh_report_new(D("1000"));
    for (int i = 0; i < 5; i++) {
        candle(r, "A", T0 + i * HOUR);
        account(r, T0 + i * HOUR, "1000", "0");
    }
    qh_report_summary s;
    assert_int_equal(qh_report_summary_get(r, &s), 0);
    assert_true(s.sharpe == 0.0);   /* no spread: undefined, reported as 0 */
    qh_report_free(r);
}

static void test_mismatched_fill_refused(void **st)
{
    (void)st;
    qh_report *r = qh_report_new(D("1000"));
    /* buying 2 cannot take the position from 0 to 3 */
    fill(r, "A", QTR_SIDE_BUY, "2", "0", "0", "0", "3", "0");
    qh_report_summary s;
    assert_int_equal(qh_report_summary_get(r, &s), -1);
    assert_non_null(strstr(qh_report_error(r), "do not match"));
    assert_non_null(strstr(qh_report_error(r), "A"));
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    assert_int_equal(qh_report_write_json(r, mem), -1);
    fclose(mem);
    assert_int_equal(len, 0);   /* nothing half-written */
    free(buf);
    mem = open_memstream(&buf, &len);
    qh_report_print(r, mem);
    fclose(mem);
    assert_non_null(strstr(buf, "unavailable"));
    free(buf);
    qh_report_free(r);
}

static void test_print_table(void **st)
{
    (void)st;
    qh_report *r = feed_sequence();
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    qh_report_print(r, mem);
    fclose(mem);
    assert_non_null(strstr(buf, "7 over 2 symbols"));
    assert_non_null(strstr(buf, "2024-01-01T00:00:00Z .. 2024-01-01T05:00:00Z"));
    assert_non_null(strstr(buf, "3 (1 wins, 2 losses, win rate 33.33%), 1 still open"));
    assert_non_null(strstr(buf, "max drawdown     4.76190476%"));
    assert_non_null(strstr(buf, "net PnL          20\n"));
    free(buf);
    qh_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_figures),
        cmocka_unit_test(test_json_bytes),
        cmocka_unit_test(test_empty_and_percent_format),
        cmocka_unit_test(test_flat_equity_sharpe_zero),
        cmocka_unit_test(test_mismatched_fill_refused),
        cmocka_unit_test(test_print_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
