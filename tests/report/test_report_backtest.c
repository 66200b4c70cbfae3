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
#include <time.h>

#include <cmocka.h>

#include "mock_host.h"
#include "report/report.h"
#include "report/report_activity.h"
#include "report/report_months.h"
#include "report/report_series.h"
#include "test_rng.h"

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

/* A fill at time_ms and the position it moves: qty and realized PnL before
 * and after. */
static void fill_at(qh_report *r, int64_t time_ms, const char *symbol, qtr_side side, const char *qty, const char *fee,
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
    f.time_ms = time_ms;
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

/* The same at time 0 (the tests that do not look at times) */
static void fill(qh_report *r, const char *symbol, qtr_side side, const char *qty, const char *fee,
                 const char *qty_before, const char *realized_before, const char *qty_after,
                 const char *realized_after)
{
    fill_at(r, 0, symbol, side, qty, fee, qty_before, realized_before, qty_after, realized_after);
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
             "\"interval_ms\":3600000,\"volumes_rounded\":0,",
             expected_sharpe(), (long long)T0, (long long)(T0 + 5 * HOUR));
    /* the keys of earlier versions first, unchanged; then the new ones */
    assert_memory_equal(got, want, strlen(want));
    /* the made-up accounts here do not follow the fills: the residual says so
     * (20 - (3.3 + 0 - 1.45 - 0.75) = 18.9) */
    assert_non_null(strstr(got, ",\"unrealized_pnl\":\"0\",\"realized_pnl_total\":\"3.3\",\"identity_residual\":\"18.9\","));
    assert_non_null(strstr(got, "\"per_symbol\":[{\"symbol\":\"A\",\"trades\":3,\"wins\":1,\"realized_pnl\":\"3.3\","
                                "\"unrealized_pnl\":\"0\",\"fees\":\"1.4\",\"funding\":\"0\",\"traded_notional\":\"1400\",\"turnover\":"));
    /* 14 traded at 100 on A; no POSITION event here, so no exposure */
    assert_non_null(strstr(got, ",\"avg_exposure\":0.000000},{\"symbol\":\"B\",\"trades\":0,"));
    /* one row per closed trade, its pnl = realized - fees (14.6, -12.6, -0.1) */
    assert_non_null(strstr(got, "\"realized_pnl\":\"15\",\"fees\":\"0.4\",\"pnl\":\"14.6\"}"));
    assert_non_null(strstr(got, "\"realized_pnl\":\"-12\",\"fees\":\"0.6\",\"pnl\":\"-12.6\"}"));
    assert_non_null(strstr(got, "\"realized_pnl\":\"0.3\",\"fees\":\"0.4\",\"pnl\":\"-0.1\"}]}\n"));

    /* the same input, fed again into a new report, gives the same bytes */
    qh_report *r2 = feed_sequence();
    char *again = json_of(r2);
    assert_string_equal(got, again);
    free(got);
    free(again);
    qh_report_free(r);
    qh_report_free(r2);
}

/* The trades rows whole, with their times: a long trip then a short one on
 * a symbol (one time before 1970, one of 16 digits), each row written as
 * {"symbol":..,"side":..,"open_ms":..,
 * "close_ms":..,"realized_pnl":..,"fees":..,"pnl":..}, comma-separated. */
static void test_trades_list_rows(void **st)
{
    (void)st;
    qh_report *r = qh_report_new(D("1000"));
    assert_non_null(r);
    candle(r, "XRPUSDT", T0);
    fill_at(r, T0 + 1, "XRPUSDT", QTR_SIDE_BUY, "2", "0.1", "0", "0", "2", "0");                   /* long opened */
    fill_at(r, T0 + HOUR + 2, "XRPUSDT", QTR_SIDE_SELL, "2", "0.1", "2", "0", "0", "7.5");         /* closed: +7.5 */
    fill_at(r, -86400001, "XRPUSDT", QTR_SIDE_SELL, "1", "0.05", "0", "7.5", "-1", "7.5");        /* short opened (a time before 1970: printed as %lld would) */
    fill_at(r, 9007199254740993LL, "XRPUSDT", QTR_SIDE_BUY, "1", "0.05", "-1", "7.5", "0", "5.25"); /* closed: -2.25 */
    char *got = json_of(r);
    char want[512];
    snprintf(want, sizeof want,
             "\"trades_list\":[{\"symbol\":\"XRPUSDT\",\"side\":\"long\",\"open_ms\":%lld,\"close_ms\":%lld,"
             "\"realized_pnl\":\"7.5\",\"fees\":\"0.2\",\"pnl\":\"7.3\"},"
             "{\"symbol\":\"XRPUSDT\",\"side\":\"short\",\"open_ms\":-86400001,\"close_ms\":9007199254740993,"
             "\"realized_pnl\":\"-2.25\",\"fees\":\"0.1\",\"pnl\":\"-2.35\"}]}\n",
             (long long)(T0 + 1), (long long)(T0 + HOUR + 2));
    const char *rows = strstr(got, "\"trades_list\":");
    assert_non_null(rows);
    assert_string_equal(rows, want);
    free(got);
    qh_report_free(r);
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
                           "\"interval_ms\":0,\"volumes_rounded\":0,\"unrealized_pnl\":\"0\","
                           "\"realized_pnl_total\":\"0\",\"identity_residual\":\"0\",\"signals\":0,\"orders\":0,"
                           "\"refusals\":{\"policy\":0,\"drawdown_guard\":0,\"ess\":0,\"invalid\":0,\"exchange\":0},"
                           "\"sortino\":0.000000,\"calmar\":0.000000,\"annual_return_pct\":0.000000,\"monthly_returns\":[],"
                           "\"ess_trips\":0,\"drawdown_guard_first_ms\":0,\"drawdown_guard_last_ms\":0,"
                           "\"time_in_market_ms\":0,\"avg_equity\":\"0\",\"traded_notional\":\"0\",\"turnover\":0.000000,"
                           "\"avg_gross_exposure\":0.000000,\"max_gross_exposure\":0.000000,\"per_symbol\":[],\"open_positions\":[],\"trades_list\":[]}\n");
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

/* Sortino: mean / sqrt(sum of squared negative returns / n), annualized;
 * Calmar: (end/start)^(year/span) - 1 over the largest drawdown (a fraction). */
static void test_sortino_calmar_and_months(void **st)
{
    (void)st;
    qh_report *r = feed_sequence();
    qh_report_summary s;
    assert_int_equal(qh_report_summary_get(r, &s), 0);
    double prev = 1000.0, mean = 0, down = 0;
    for (int i = 0; i < 6; i++) {
        double e = strtod(EQUITY[i], NULL), x = (e - prev) / prev;
        prev = e;
        mean += x / 6.0;
        if (x < 0) down += x * x;
    }
    double sortino = mean / sqrt(down / 6.0) * sqrt(8760.0);
    assert_true(fabs(s.sortino - sortino) < 1e-9 * fabs(sortino));
    /* 6 hourly candles: span 6 h; equity 1000 -> 1020; drawdown 50/1050 */
    double annual = pow(1020.0 / 1000.0, 8760.0 / 6.0) - 1.0;
    assert_true(fabs(s.annual_return_pct - annual * 100.0) < 1e-6 * annual * 100.0);
    assert_true(fabs(s.calmar - annual / 0.0476190476) < 1e-6 * s.calmar);
    char *j = json_of(r);
    assert_non_null(strstr(j, ",\"monthly_returns\":[{\"month\":\"2024-01\",\"start_equity\":\"1000\","
                              "\"end_equity\":\"1020\",\"return_pct\":2.000000}]"));
    free(j);
    qh_report_free(r);

    /* across a month end: January ends at 1100 (+10%), February at 1045 (-5%) */
    r = qh_report_new(D("1000"));
    const int64_t feb1 = INT64_C(1706745600000);   /* 2024-02-01T00:00:00Z */
    account(r, feb1 - 2 * HOUR, "1050", "0");
    account(r, feb1 - 1, "1100", "0");
    account(r, feb1 + HOUR - 1, "1045", "0");
    j = json_of(r);
    assert_non_null(strstr(j, "\"monthly_returns\":[{\"month\":\"2024-01\",\"start_equity\":\"1000\",\"end_equity\":\"1100\","
                              "\"return_pct\":10.000000},{\"month\":\"2024-02\",\"start_equity\":\"1100\","
                              "\"end_equity\":\"1045\",\"return_pct\":-5.000000}]"));
    free(j);
    qh_report_free(r);
}

static qtr_event update_event(int64_t t, qtr_order_status st, const char *reason)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_ORDER_UPDATE;
    ev.time_ms = t;
    ev.u.order_update.status = st;
    qtr_strlcpy(ev.u.order_update.reason, reason, sizeof ev.u.order_update.reason);
    return ev;
}

/* Refusals by who refused, ESS trips, time in the market, an open trade's
 * realized PnL in realized_pnl_total, and the identity on consistent figures. */
static void test_activity_and_identity(void **st)
{
    (void)st;
    assert_int_equal(qh_refusal_classify("risk: drawdown_guard"), QH_REFUSAL_DRAWDOWN_GUARD);
    assert_int_equal(qh_refusal_classify("risk: max_order_notional"), QH_REFUSAL_POLICY);
    assert_int_equal(qh_refusal_classify("ess_tripped"), QH_REFUSAL_ESS);
    assert_int_equal(qh_refusal_classify("reconcile_pending"), QH_REFUSAL_ESS);
    assert_int_equal(qh_refusal_classify("invalid: side"), QH_REFUSAL_INVALID);
    assert_int_equal(qh_refusal_classify("notional 4.68 is below MIN_NOTIONAL 5"), QH_REFUSAL_EXCHANGE);

    qh_report *r = qh_report_new(D("1000"));
    qtr_event ev = update_event(T0 + 10, QTR_OS_REJECTED, "risk: drawdown_guard");
    qh_report_on_event(r, &ev);
    ev = update_event(T0 + 20, QTR_OS_REJECTED, "risk: drawdown_guard");
    qh_report_on_event(r, &ev);
    ev = update_event(T0 + 30, QTR_OS_REJECTED, "qty 0.05 is below LOT_SIZE minQty 0.1 (step 0.1)");
    qh_report_on_event(r, &ev);
    ev = update_event(T0 + 40, QTR_OS_CANCELED, "canceled on request");   /* not a refusal */
    qh_report_on_event(r, &ev);
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_ESS_STATE;
    ev.u.ess.state = QTR_ESS_TRIPPED;
    qh_report_on_event(r, &ev);
    ev.u.ess.previous = QTR_ESS_TRIPPED;
    ev.u.ess.state = QTR_ESS_COOLDOWN;
    qh_report_on_event(r, &ev);
    /* in the market from T0+1h to T0+3h (A), and T0+2h to T0+4h (B): 3 h */
    const struct { const char *sym, *qty; int64_t t; } pos[] = {
        { "A", "1", T0 + HOUR }, { "B", "2", T0 + 2 * HOUR }, { "A", "0", T0 + 3 * HOUR }, { "B", "0", T0 + 4 * HOUR },
    };
    for (size_t i = 0; i < 4; i++) {
        memset(&ev, 0, sizeof ev);
        ev.type = QTR_EV_POSITION;
        ev.time_ms = pos[i].t;
        qtr_strlcpy(ev.u.position.symbol, pos[i].sym, sizeof ev.u.position.symbol);
        ev.u.position.qty = D(pos[i].qty);
        qh_report_on_event(r, &ev);
    }
    /* an open trade that realized 7 (sold half at a profit), fees 0.3 */
    fill(r, "C", QTR_SIDE_BUY, "2", "0.2", "0", "0", "2", "0");
    fill(r, "C", QTR_SIDE_SELL, "1", "0.1", "2", "0", "1", "7");
    qtr_account a;
    memset(&a, 0, sizeof a);
    a.time_ms = T0 + 5 * HOUR;
    a.unrealized_pnl = D("2.5");
    a.funding = D("-0.2");
    a.equity = D("1009");   /* 1000 + 7 + 2.5 - 0.3 - 0.2 */
    qh_report_on_account(r, &a);
    qh_report_summary s;
    assert_int_equal(qh_report_summary_get(r, &s), 0);
    assert_int_equal(s.refusals[QH_REFUSAL_DRAWDOWN_GUARD], 2);
    assert_int_equal(s.refusals[QH_REFUSAL_EXCHANGE], 1);
    assert_int_equal(s.refusals[QH_REFUSAL_POLICY], 0);
    assert_int_equal(s.guard_first_ms, T0 + 10);
    assert_int_equal(s.guard_last_ms, T0 + 20);
    assert_int_equal(s.ess_trips, 1);
    assert_int_equal(s.time_in_market_ms, 3 * HOUR);
    assert_int_equal(s.realized_pnl, 0);               /* no closed trade */
    assert_int_equal(s.realized_pnl_total, D("7"));
    assert_int_equal(s.unrealized_pnl, D("2.5"));
    assert_int_equal(s.net_pnl, D("9"));
    assert_int_equal(s.identity_residual, 0);
    qh_report_free(r);
}

/* Exposure and turnover against a brute-force computation: three symbols,
 * 40 hours of candles, positions, marks and equities drawn from a fixed
 * seed. The report integrates incrementally (report_exposure.c); here the
 * state is rebuilt after every change and each constant stretch is added
 * up directly, over every symbol. */
enum { XS = 3, XH = 40 };

typedef struct xstate {
    double qty[XS], close[XS], mark[XS];
    bool has_mark[XS];
    double equity;
} xstate;

static double x_gross(const xstate *x)
{
    double g = 0;
    for (int k = 0; k < XS; k++) g += fabs(x->qty[k]) * (x->has_mark[k] ? x->mark[k] : x->close[k]);
    return g;
}

static uint32_t x_rand(uint32_t *s) { return *s = *s * 1103515245u + 12345u, (*s >> 8) & 0xffff; }

static void test_exposure_and_turnover(void **st)
{
    (void)st;
    static const char *const names[XS] = { "AAA", "BBB", "CCC" };
    qh_report *r = qh_report_new(QTR_DEC_INT(1000));
    assert_non_null(r);
    xstate x = { .equity = 1000 };
    uint32_t seed = 15;
    int64_t prev_t = T0;   /* the period starts at the first open */
    double integral = 0, eq_integral = 0, max_share = 0, sym_integral[XS] = { 0 }, traded = 0, sym_traded[XS] = { 0 };
    qtr_dec qty_now[XS] = { 0 };
    for (int h = 0; h < XH; h++) {
        int64_t t = T0 + h * HOUR + HOUR - 1;   /* everything happens at the close */
        /* the state held since prev_t ends here */
        for (int k = 0; k < XS; k++) {
            double v = fabs(x.qty[k]) * (x.has_mark[k] ? x.mark[k] : x.close[k]);
            sym_integral[k] += v / x.equity * (double)(t - prev_t);
        }
        integral += x_gross(&x) / x.equity * (double)(t - prev_t);
        eq_integral += x.equity * (double)(t - prev_t);
        prev_t = t;
        for (int k = 0; k < XS; k++) {
            qtr_candle c;
            memset(&c, 0, sizeof c);
            qtr_strlcpy(c.symbol, names[k], sizeof c.symbol);
            c.open_time_ms = T0 + h * HOUR;
            c.close_time_ms = t;
            c.close = c.open = c.high = c.low = QTR_DEC_INT(50 + 10 * k) + (qtr_dec)x_rand(&seed) * 1000;
            qh_report_on_candle(r, &c);
            x.close[k] = qtr_dec_to_display_double(c.close);
            if (x_rand(&seed) % 3 == 0) {   /* the position moves: a fill, then its POSITION event */
                qtr_dec q = (qtr_dec)(x_rand(&seed) % 9) * QTR_DEC_INT(1) / 4 - QTR_DEC_INT(1);
                if (q != qty_now[k]) {
                    qtr_fill f;
                    qtr_position b, a;
                    memset(&f, 0, sizeof f);
                    memset(&b, 0, sizeof b);
                    memset(&a, 0, sizeof a);
                    qtr_strlcpy(f.symbol, names[k], sizeof f.symbol);
                    snprintf(f.fill_id, sizeof f.fill_id, "x-%d-%d", h, k);
                    f.side = q > qty_now[k] ? QTR_SIDE_BUY : QTR_SIDE_SELL;
                    f.qty = q > qty_now[k] ? q - qty_now[k] : qty_now[k] - q;
                    f.price = c.close;
                    f.time_ms = t;
                    b.qty = qty_now[k];
                    a.qty = q;
                    qh_report_on_fill(r, &f, &b, &a);
                    double notional = qtr_dec_to_display_double(f.qty) * qtr_dec_to_display_double(f.price);
                    traded += notional;
                    sym_traded[k] += notional;
                    qty_now[k] = q;
                    qtr_event ev;
                    memset(&ev, 0, sizeof ev);
                    ev.type = QTR_EV_POSITION;
                    ev.time_ms = t;
                    qtr_strlcpy(ev.u.position.symbol, names[k], sizeof ev.u.position.symbol);
                    ev.u.position.qty = q;
                    qh_report_on_event(r, &ev);
                    x.qty[k] = qtr_dec_to_display_double(q);
                }
            }
            if (k == 2 && h >= 20) {   /* CCC gets marks from hour 20 on: they value it from then */
                qtr_event ev;
                memset(&ev, 0, sizeof ev);
                ev.type = QTR_EV_MARK_PRICE;
                ev.time_ms = t;
                qtr_strlcpy(ev.u.mark_price.symbol, names[k], sizeof ev.u.mark_price.symbol);
                ev.u.mark_price.mark_price = c.close + QTR_DEC_INT(1);
                qh_report_on_event(r, &ev);
                x.mark[k] = qtr_dec_to_display_double(ev.u.mark_price.mark_price);
                x.has_mark[k] = true;
            }
        }
        qtr_account a;
        memset(&a, 0, sizeof a);
        a.time_ms = t;
        a.equity = QTR_DEC_INT(900) + (qtr_dec)x_rand(&seed) * 300000;
        qh_report_on_account(r, &a);
        x.equity = qtr_dec_to_display_double(a.equity);
        if (x_gross(&x) / x.equity > max_share) max_share = x_gross(&x) / x.equity;
    }
    int64_t end = T0 + XH * HOUR, span = XH * HOUR;
    for (int k = 0; k < XS; k++) {
        double v = fabs(x.qty[k]) * (x.has_mark[k] ? x.mark[k] : x.close[k]);
        sym_integral[k] += v / x.equity * (double)(end - prev_t);
    }
    integral += x_gross(&x) / x.equity * (double)(end - prev_t);
    eq_integral += x.equity * (double)(end - prev_t);

    qh_report_summary s;
    assert_int_equal(qh_report_summary_get(r, &s), 0);
    assert_true(s.fills > 10);
    assert_true(s.max_gross_exposure > 0.01);
    assert_true(fabs(s.avg_gross_exposure - integral / (double)span) < 1e-9);
    assert_true(fabs(s.max_gross_exposure - max_share) < 1e-12);
    assert_true(fabs(qtr_dec_to_display_double(s.avg_equity) - eq_integral / (double)span) < 1e-6);
    assert_true(fabs(qtr_dec_to_display_double(s.traded_notional) - traded) < 1e-6);
    assert_true(fabs(s.turnover - traded / (eq_integral / (double)span)) < 1e-9);
    /* per symbol, in the JSON: each row's share and notional; they add up */
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_int_equal(qh_report_write_json(r, m), 0);
    fclose(m);
    double sum_share = 0;
    for (int k = 0; k < XS; k++) {
        char key[48];
        snprintf(key, sizeof key, "{\"symbol\":\"%s\"", names[k]);
        const char *row = strstr(buf, key);
        assert_non_null(row);
        const char *tn = strstr(row, "\"traded_notional\":\"");
        const char *ax = strstr(row, "\"avg_exposure\":");
        assert_non_null(tn);
        assert_non_null(ax);
        double share = strtod(ax + strlen("\"avg_exposure\":"), NULL);
        assert_true(fabs(strtod(tn + strlen("\"traded_notional\":\""), NULL) - sym_traded[k]) < 1e-6);
        assert_true(fabs(share - sym_integral[k] / (double)span) < 1e-6);   /* printed with 6 decimals */
        sum_share += share;
    }
    assert_true(fabs(sum_share - s.avg_gross_exposure) < 1e-5);
    assert_non_null(strstr(buf, "\"avg_gross_exposure\":"));
    free(buf);
    qh_report_free(r);
}

/* Months found through the cached month range are the calendar's: updates
 * every 7 hours for 3 years (two Decembers, a leap February) against
 * gmtime_r on each one. */
static void test_months_follow_the_calendar(void **st)
{
    (void)st;
    qh_report_months m = { 0 };
    int32_t want_y[64], want_m[64];
    size_t n = 0;
    for (int64_t t = INT64_C(1703980800000); t < INT64_C(1703980800000) + 3 * 366 * 24 * HOUR; t += 7 * HOUR + 13) {
        time_t s = (time_t)(t / 1000);
        struct tm tm;
        assert_non_null(gmtime_r(&s, &tm));
        if (n == 0 || want_y[n - 1] != tm.tm_year + 1900 || want_m[n - 1] != tm.tm_mon + 1) {
            assert_true(n < 64);
            want_y[n] = tm.tm_year + 1900;
            want_m[n++] = tm.tm_mon + 1;
        }
        assert_true(qh_report_months_on_equity(&m, t, QTR_DEC_INT(1000) + t % 1000, QTR_DEC_INT(1000)));
        assert_int_equal(m.items[m.n - 1].end_equity, QTR_DEC_INT(1000) + t % 1000);
    }
    assert_int_equal(m.n, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(m.items[i].year, want_y[i]);
        assert_int_equal(m.items[i].month, want_m[i]);
        if (i) assert_int_equal(m.items[i].start_equity, m.items[i - 1].end_equity);
    }
    qh_report_months_free(&m);
}

/* A POSITION event: 1 of symbol held long from 100. */
static void long_one_at_100(qh_report *r, const char *symbol)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_POSITION;
    ev.time_ms = T0;
    qtr_strlcpy(ev.u.position.symbol, symbol, sizeof ev.u.position.symbol);
    ev.u.position.qty = D("1");
    ev.u.position.entry_price = D("100");
    qh_report_on_event(r, &ev);
}

/* Candles of symbols whose names are prefixes of each other, in a cycle,
 * then in random orders, a new one joining: each symbol's open position is
 * valued at its own last close (the report's per-candle symbol lookup tries
 * the symbol after the last one first: market/symbol_cycle.h). */
/* The month of an update one ms either side of a month's first ms (and on
 * it), going forwards through month and year ends and a leap February:
 * the month the calendar says, with its end equity, each month once. The
 * last month's bounds decide most updates without the calendar. */
static void test_months_at_their_edges(void **st)
{
    (void)st;
    /* 2023-12-01, 2024-01-01, 2024-02-01, 2024-03-01 (after 29 days), 2024-04-01 */
    const int64_t firsts[] = { INT64_C(1701388800000), INT64_C(1704067200000), INT64_C(1706745600000),
                               INT64_C(1709251200000), INT64_C(1711929600000) };
    const int32_t ys[] = { 2023, 2024, 2024, 2024, 2024 }, ms[] = { 12, 1, 2, 3, 4 };
    qh_report_months m = { 0 };
    assert_true(qh_report_months_on_equity(&m, firsts[0] - 1, 5, 1));   /* 2023-11 */
    for (size_t k = 0; k < 5; k++) {
        for (int64_t d = 0; d <= 1; d++) {
            qtr_dec e = (qtr_dec)(100 * k + (size_t)d + 10);
            assert_true(qh_report_months_on_equity(&m, firsts[k] + d, e, 1));
            assert_int_equal(m.n, k + 2);
            assert_int_equal(m.items[m.n - 1].year, ys[k]);
            assert_int_equal(m.items[m.n - 1].month, ms[k]);
            assert_int_equal(m.items[m.n - 1].end_equity, e);
        }
        if (k < 4) {   /* the month's last ms: still this month */
            assert_true(qh_report_months_on_equity(&m, firsts[k + 1] - 1, 7, 1));
            assert_int_equal(m.n, k + 2);
            assert_int_equal(m.items[m.n - 1].end_equity, 7);
        }
    }
    assert_int_equal(m.items[0].year, 2023);
    assert_int_equal(m.items[0].month, 11);
    for (size_t i = 1; i < m.n; i++) assert_int_equal(m.items[i].start_equity, i == 1 ? 5 : 7);
    qh_report_months_free(&m);
}

/* The chart series keeps at most QH_SERIES_MAX points by dropping every
 * other one when full: qh_series_add (inline, its kept points handed to
 * qh_series_keep) against this model of the rule, written in one piece,
 * over runs of every length up to 9 fills and a little past each: the same
 * kept points, the same last point, the same counters. */
typedef struct series_model {
    int64_t t[QH_SERIES_MAX];
    qtr_dec v[QH_SERIES_MAX];
    size_t n;
    uint64_t stride, seen;
} series_model;

static void model_add(series_model *m, int64_t t, qtr_dec v)
{
    if (!m->stride) m->stride = 1;
    if (m->seen++ % m->stride) return;
    if (m->n == QH_SERIES_MAX) {
        for (size_t i = 0; i < QH_SERIES_MAX / 2; i++) m->t[i] = m->t[2 * i], m->v[i] = m->v[2 * i];
        m->n = QH_SERIES_MAX / 2;
        m->stride *= 2;
        if ((m->seen - 1) % m->stride) return;
    }
    m->t[m->n] = t;
    m->v[m->n++] = v;
}

static void test_series_keeps_what_the_rule_says(void **st)
{
    (void)st;
    static qh_series s;
    static series_model m;
    static int64_t ts[QH_SERIES_MAX + 1];
    static qtr_dec vs[QH_SERIES_MAX + 1];
    const int64_t lengths[] = { 0, 1, 2, QH_SERIES_MAX - 1, QH_SERIES_MAX, QH_SERIES_MAX + 1, 2 * QH_SERIES_MAX + 3,
                                5 * QH_SERIES_MAX + 7, 9 * QH_SERIES_MAX, 9 * QH_SERIES_MAX + 1, 100000 };
    for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++) {
        memset(&s, 0, sizeof s);
        memset(&m, 0, sizeof m);
        for (int64_t i = 0; i < lengths[k]; i++) {
            qh_series_add(&s, T0 + i * 60000, (qtr_dec)(i * 7 - 3));
            model_add(&m, T0 + i * 60000, (qtr_dec)(i * 7 - 3));
        }
        assert_int_equal(s.n, m.n);
        assert_int_equal(s.seen, m.seen);
        assert_int_equal(s.stride, m.stride);
        size_t n = qh_series_points(&s, ts, vs);
        size_t want = m.n + (lengths[k] > 0 && (m.n == 0 || m.t[m.n - 1] != T0 + (lengths[k] - 1) * 60000));
        assert_int_equal(n, want);
        for (size_t i = 0; i < m.n; i++) {
            assert_int_equal(ts[i], m.t[i]);
            assert_int_equal(vs[i], m.v[i]);
        }
        if (lengths[k] > 0) {
            assert_int_equal(ts[n - 1], T0 + (lengths[k] - 1) * 60000);
            assert_int_equal(vs[n - 1], (lengths[k] - 1) * 7 - 3);
        }
    }
}

static void test_candle_symbols_in_any_order(void **st)
{
    (void)st;
    static const char *const syms[] = { "A", "AB", "ABC", "B" };
    qtr_dec last_close[4] = { 0 };
    qh_report *r = qh_report_new(D("1000000"));
    for (int k = 0; k < 4; k++) long_one_at_100(r, syms[k]);
    uint64_t rng = 9;
    int live = 3;
    for (int i = 0; i < 400; i++) {
        int k = i % live;
        if (i >= 120) {
            if (i == 200) live = 4;
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            k = (int)((rng >> 33) % (uint64_t)live);
        }
        qtr_candle c;
        memset(&c, 0, sizeof c);
        qtr_strlcpy(c.symbol, syms[k], sizeof c.symbol);
        c.open_time_ms = T0 + i * HOUR;
        c.close_time_ms = c.open_time_ms + HOUR - 1;
        c.close = QTR_DEC_INT(100 + 10 * k) + i;   /* i units of 1e-8 */
        c.open = c.high = c.low = c.close;
        last_close[k] = c.close;
        qh_report_on_candle(r, &c);
    }
    char *json = json_of(r);
    assert_non_null(strstr(json, "\"symbols\":4"));
    for (int k = 0; k < 4; k++) {
        char want[200], mark[QTR_DEC_STRLEN];
        snprintf(want, sizeof want, "{\"symbol\":\"%s\",\"qty\":\"1\",\"entry_price\":\"100\",\"mark_price\":\"%s\"",
                 syms[k], qtr_dec_format(last_close[k], mark));
        if (!strstr(json, want)) fail_msg("no %s in %s", want, json);
    }
    free(json);
    qh_report_free(r);

    /* symbols known from positions only (no candle named them yet): a
     * candle without a symbol is still refused, not taken for one of them */
    r = qh_report_new(D("1000000"));
    for (int k = 0; k < 2; k++) long_one_at_100(r, syms[k]);
    candle(r, "", T0);
    assert_non_null(strstr(qh_report_error(r), "bad symbol"));
    qh_report_free(r);
}

/* The largest drawdown over random equity paths (rises, falls, equity at
 * and below zero, peaks of one unit) equals the one recomputed with the
 * division at every update; and a drawdown too large for a decimal is
 * still refused (the report skips the division only when the exact
 * products show it cannot raise the largest one). */
static void test_max_drawdown_random_paths(void **st)
{
    (void)st;
    uint64_t rng = 31;
    for (int run = 0; run < 300; run++) {
        qtr_dec start = QTR_DEC_INT(1000), peak = start, equity = start, want = 0;
        qh_report *r = qh_report_new(start);
        for (int i = 0; i < 200; i++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            int64_t step = (int64_t)((rng >> 33) % 2000001) - 1000000;   /* +-0.01 */
            if ((rng >> 20) % 50 == 0) step *= 100000;                    /* +-1000: through zero */
            equity += step;
            if (equity > peak) peak = equity;
            if (peak > 0 && equity < peak) {
                qtr_dec dd;
                assert_true(qtr_dec_muldiv(peak - equity, QTR_DEC_INT(100), peak, QTR_ROUND_HALF_EVEN, &dd));
                if (dd > want) want = dd;
            }
            qtr_account a;
            memset(&a, 0, sizeof a);
            a.time_ms = T0 + i * HOUR;
            a.equity = equity;
            qh_report_on_account(r, &a);
        }
        qh_report_summary s;
        assert_int_equal(qh_report_summary_get(r, &s), 0);
        assert_int_equal(s.max_drawdown_pct, want);
        qh_report_free(r);
    }
    /* a peak of one unit, then an equity whose drawdown does not fit */
    qh_report *r = qh_report_new(1);
    account(r, T0, "0.00000001", "0");
    account(r, T0 + HOUR, "-0.5", "0");          /* 5e7 x 100 %: fits */
    account(r, T0 + 2 * HOUR, "-10000000000", "0");   /* 1e18 x 100 %: does not */
    qh_report_summary s;
    assert_int_not_equal(qh_report_summary_get(r, &s), 0);
    assert_non_null(strstr(qh_report_error(r), "overflow in drawdown"));
    qh_report_free(r);
}

/* The Sharpe and Sortino ratios keep the double of the equity a return
 * starts from instead of converting it again, and convert a period's last
 * equity only when a later time makes it a return. Here the same random
 * paths (times that repeat and go back, equities through zero in some runs)
 * run through the report and through this model, which converts every
 * figure where it uses it (as the report did before): both ratios must come
 * out the same to the last bit. A kept double that goes stale shows here. */
static double rx_d(qtr_dec v) { return qtr_dec_to_display_double(v); }

/* One return from prev to sample into the model's running mean, M2 and
 * downside sum, each qtr_dec converted where it is used; a start at or
 * below zero leaves the ratios undefined. */
typedef struct rx_model {
    double n, mean, m2, down;
    bool undefined;
} rx_model;

static void rx_add_return(rx_model *m, qtr_dec prev, qtr_dec sample)
{
    if (prev <= 0) {
        m->undefined = true;
        return;
    }
    double x = (rx_d(sample) - rx_d(prev)) / rx_d(prev), d = x - m->mean;
    m->n++;
    m->mean += d / m->n;
    m->m2 += d * (x - m->mean);
    if (x < 0) m->down += x * x;
}

static void test_returns_equal_converting_each_time(void **st)
{
    (void)st;
    uint64_t rng = 77;
    for (int run = 0; run < 100; run++) {
        qtr_dec start = QTR_DEC_INT(1000);
        qh_report *r = qh_report_new(start);
        candle(r, "BTCUSDT", T0);   /* the interval: an hour */
        rx_model m = { 0 };
        bool have = false;
        qtr_dec prev = start, sample = 0;
        int64_t sample_ms = 0, t = T0;
        for (int i = 0; i < 200; i++) {
            uint64_t u = test_rng_next(&rng);
            t += (int64_t)(u % 3) * HOUR - (u % 19 == 0 ? HOUR : 0);
            qtr_dec e = QTR_DEC_INT(900) + (qtr_dec)(test_rng_next(&rng) % 20000000000);
            if (run % 10 == 9 && u % 23 == 0) e = -e;
            qtr_account a;
            memset(&a, 0, sizeof a);
            a.time_ms = t;
            a.equity = e;
            qh_report_on_account(r, &a);
            if (have && t > sample_ms) {
                rx_add_return(&m, prev, sample);
                prev = sample;
            }
            if (!have || t >= sample_ms) sample_ms = t;
            sample = e;
            have = true;
        }
        rx_add_return(&m, prev, sample);   /* the last period's, at the summary */
        double year = sqrt(365.0 * 24.0 * 3600.0 * 1000.0 / (double)HOUR), sd = sqrt(m.m2 / (m.n - 1)),
               dd = sqrt(m.down / m.n);
        double sharpe = m.undefined || m.n < 2 || !(sd > 0) ? 0.0 : m.mean / sd * year;
        double sortino = m.undefined || m.n < 2 || !(dd > 0) ? 0.0 : m.mean / dd * year;
        qh_report_summary s;
        assert_int_equal(qh_report_summary_get(r, &s), 0);
        if (s.sharpe != sharpe || s.sortino != sortino)
            fail_msg("run %d: sharpe %.17g sortino %.17g, want %.17g %.17g", run, s.sharpe, s.sortino, sharpe, sortino);
        qh_report_free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_figures),
        cmocka_unit_test(test_json_bytes),
        cmocka_unit_test(test_trades_list_rows),
        cmocka_unit_test(test_empty_and_percent_format),
        cmocka_unit_test(test_flat_equity_sharpe_zero),
        cmocka_unit_test(test_mismatched_fill_refused),
        cmocka_unit_test(test_print_table),
        cmocka_unit_test(test_activity_and_identity),
        cmocka_unit_test(test_sortino_calmar_and_months),
        cmocka_unit_test(test_exposure_and_turnover),
        cmocka_unit_test(test_months_follow_the_calendar),
        cmocka_unit_test(test_months_at_their_edges),
        cmocka_unit_test(test_series_keeps_what_the_rule_says),
        cmocka_unit_test(test_candle_symbols_in_any_order),
        cmocka_unit_test(test_max_drawdown_random_paths),
        cmocka_unit_test(test_returns_equal_converting_each_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
