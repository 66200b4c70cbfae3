/* Portfolio accounting, checked against figures worked out by hand in the
 * comments (USD-M perpetuals, one-way mode, 8-decimal fixed point). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mock_host.h"
#include "portfolio/portfolio.h"

#define DAY_MS INT64_C(86400000)
#define HOUR_MS INT64_C(3600000)
/* 2024-01-01T00:00:00Z */
#define DAY0 INT64_C(1704067200000)

static qtr_fill make_fill(const char *symbol, qtr_side side, const char *qty, const char *price,
                          const char *fee, int64_t t)
{
    qtr_fill f;
    memset(&f, 0, sizeof f);
    qtr_strlcpy(f.symbol, symbol, sizeof f.symbol);
    snprintf(f.fill_id, sizeof f.fill_id, "f-%s-%lld", symbol, (long long)t);
    f.side = side;
    f.qty = D(qty);
    f.price = D(price);
    f.fee = D(fee);
    f.time_ms = t;
    return f;
}

static void fill_ok(qh_portfolio *pf, const char *symbol, qtr_side side, const char *qty,
                    const char *price, const char *fee, int64_t t)
{
    qtr_fill f = make_fill(symbol, side, qty, price, fee, t);
    assert_int_equal(qh_portfolio_apply_fill(pf, &f, NULL), 0);
}

static qtr_position pos_of(const qh_portfolio *pf, const char *symbol)
{
    qtr_position p;
    memset(&p, 0, sizeof p);
    assert_int_equal(qh_portfolio_get_position(pf, symbol, &p), QTR_OK);
    return p;
}

static qtr_account acct_of(const qh_portfolio *pf, int64_t now)
{
    qtr_account a;
    qh_portfolio_account(pf, now, &a);
    return a;
}

static void test_long_open_and_mark(void **st)
{
    (void)st;
    qh_portfolio *pf = qh_portfolio_new(D("10000"));
    qtr_position changed;
    qtr_fill f = make_fill("BTCUSDT", QTR_SIDE_BUY, "2", "100", "0.1", DAY0);
    assert_int_equal(qh_portfolio_apply_fill(pf, &f, &changed), 0);
    /* qty 2 at 100; never marked, so the fill price is the first mark: upnl 0.
     * wallet = 10000 - 0.1 fee = 9999.9 */
    assert_int_equal(changed.qty, D("2"));
    assert_int_equal(changed.entry_price, D("100"));
    assert_int_equal(changed.mark_price, D("100"));
    assert_int_equal(changed.unrealized_pnl, 0);
    assert_int_equal(changed.fees, D("0.1"));
    qtr_account a = acct_of(pf, DAY0);
    assert_int_equal(a.wallet_balance, D("9999.9"));
    assert_int_equal(a.equity, D("9999.9"));
    assert_int_equal(a.open_positions, 1);

    /* mark 110: upnl (110-100)*2 = 20; equity 9999.9 + 20 = 10019.9;
     * exposure 2*110 = 220; new peak 10019.9 */
    assert_int_equal(qh_portfolio_mark(pf, "BTCUSDT", D("110"), DAY0 + 1000), 0);
    a = acct_of(pf, DAY0 + 1000);
    assert_int_equal(a.unrealized_pnl, D("20"));
    assert_int_equal(a.equity, D("10019.9"));
    assert_int_equal(a.exposure, D("220"));
    assert_int_equal(a.equity_peak, D("10019.9"));
    assert_int_equal(a.drawdown_pct, 0);
    assert_int_equal(pos_of(pf, "BTCUSDT").unrealized_pnl, D("20"));
    qh_portfolio_free(pf);
}

static void test_short_open_and_mark(void **st)
{
    (void)st;
    qh_portfolio *pf = qh_portfolio_new(D("1000"));
    fill_ok(pf, "ETHUSDT", QTR_SIDE_SELL, "3", "50", "0", DAY0);
    qtr_position p = pos_of(pf, "ETHUSDT");
    assert_int_equal(p.qty, D("-3"));
    assert_int_equal(p.entry_price, D("50"));
    /* price falls to 45: a short gains (45-50)*(-3) = +15 */
    assert_int_equal(qh_portfolio_mark(pf, "ETHUSDT", D("45"), DAY0 + 1), 0);
    assert_int_equal(pos_of(pf, "ETHUSDT").unrealized_pnl, D("15"));
    /* price rises to 60: (60-50)*(-3) = -30; equity 970; exposure 3*60 = 180 */
    assert_int_equal(qh_portfolio_mark(pf, "ETHUSDT", D("60"), DAY0 + 2), 0);
    qtr_account a = acct_of(pf, DAY0 + 2);
    assert_int_equal(a.unrealized_pnl, D("-30"));
    assert_int_equal(a.equity, D("970"));
    assert_int_equal(a.exposure, D("180"));
    qh_portfolio_free(pf);
}

static void test_adding_moves_average_entry(void **st)
{
    (void)st;
    qh_portfolio *pf = qh_portfolio_new(D("1000"));
    /* 1 @ 100 then 3 @ 104: (100 + 312) / 4 = 103 */
    fill_ok(pf, "A", QTR_SIDE_BUY, "1", "100", "0", DAY0);
    fill_ok(pf, "A", QTR_SIDE_BUY, "3", "104", "0", DAY0 + 1);
    assert_int_equal(pos_of(pf, "A").qty, D("4"));
    assert_int_equal(pos_of(pf, "A").entry_price, D("103"));
    assert_int_equal(pos_of(pf, "A").realized_pnl, 0);

    /* 1 @ 100 then 2 @ 101: 302 / 3 = 100.6666666666... -> 100.66666667 */
    fill_ok(pf, "B", QTR_SIDE_BUY, "1", "100", "0", DAY0);
    fill_ok(pf, "B", QTR_SIDE_BUY, "2", "101", "0", DAY0 + 1);
    assert_int_equal(pos_of(pf, "B").entry_price, D("100.66666667"));

    /* HALF_EVEN on an exact tie: 1 @ 1 and 1 @ 1.00000001 average
     * 1.000000005, which rounds to the even 1.00000000 (HALF_UP would give
     * 1.00000001). Shorts average the same way. */
    fill_ok(pf, "C", QTR_SIDE_SELL, "1", "1", "0", DAY0);
    fill_ok(pf, "C", QTR_SIDE_SELL, "1", "1.00000001", "0", DAY0 + 1);
    assert_int_equal(pos_of(pf, "C").qty, D("-2"));
    assert_int_equal(pos_of(pf, "C").entry_price, D("1"));
    /* 1.00000003 is odd at the 8th place: 1.000000015 -> 1.00000002 (even) */
    fill_ok(pf, "E", QTR_SIDE_BUY, "1", "1.00000001", "0", DAY0);
    fill_ok(pf, "E", QTR_SIDE_BUY, "1", "1.00000002", "0", DAY0 + 1);
    assert_int_equal(pos_of(pf, "E").entry_price, D("1.00000002"));
    qh_portfolio_free(pf);
}

static void test_partial_and_full_close(void **st)
{
    (void)st;
    qh_portfolio *pf = qh_portfolio_new(D("1000"));
    fill_ok(pf, "A", QTR_SIDE_BUY, "4", "103", "0", DAY0);
    /* sell 1 @ 110: realized (110-103)*1 = 7; 3 left, entry unchanged */
    fill_ok(pf, "A", QTR_SIDE_SELL, "1", "110", "0", DAY0 + 1);
    qtr_position p = pos_of(pf, "A");
    assert_int_equal(p.qty, D("3"));
    assert_int_equal(p.entry_price, D("103"));
    assert_int_equal(p.realized_pnl, D("7"));
    assert_int_equal(acct_of(pf, DAY0 + 1).wallet_balance, D("1007"));
    /* sell 3 @ 100: realized (100-103)*3 = -9; flat. Total realized -2,
     * wallet 998; the mark (103, set by the first fill) no longer matters. */
    fill_ok(pf, "A", QTR_SIDE_SELL, "3", "100", "0", DAY0 + 2);
    p = pos_of(pf, "A");
    assert_int_equal(p.qty, 0);
    assert_int_equal(p.entry_price, 0);
    assert_int_equal(p.unrealized_pnl, 0);
    assert_int_equal(p.realized_pnl, D("-2"));
    qtr_account a = acct_of(pf, DAY0 + 2);
    assert_int_equal(a.wallet_balance, D("998"));
    assert_int_equal(a.equity, D("998"));
    assert_int_equal(a.exposure, 0);
    assert_int_equal(a.open_positions, 0);
    assert_int_equal(qh_portfolio_open_count(pf), 0);
    qtr_position list[4];
    assert_int_equal(qh_portfolio_list_positions(pf, list, 4), 0);

    /* a short partly covered: short 5 @ 20, buy 2 @ 18: (18-20)*(-2) = +4 */
    fill_ok(pf, "S", QTR_SIDE_SELL, "5", "20", "0", DAY0 + 3);
    fill_ok(pf, "S", QTR_SIDE_BUY, "2", "18", "0", DAY0 + 4);
    p = pos_of(pf, "S");
    assert_int_equal(p.qty, D("-3"));
    assert_int_equal(p.entry_price, D("20"));
    assert_int_equal(p.realized_pnl, D("4"));
    qh_portfolio_free(pf);
}

static void test_flip_long_to_short(void **st)
{
    (void)st;
    qh_portfolio *pf = qh_portfolio_new(D("1000"));
    fill_ok(pf, "A", QTR_SIDE_BUY, "2", "100", "0", DAY0);
    assert_int_equal(qh_portfolio_mark(pf, "A", D("95"), DAY0 + 1), 0);
    /* sell 5 @ 90: closes 2 realizing (90-100)*2 = -20, opens short 3 @ 90.
     * Valued at the last mark 95: (95-90)*(-3) = -15. wallet 980, equity 965. */
    qtr_position p;
    qtr_fill f = make_fill("A", QTR_SIDE_SELL, "5", "90", "0", DAY0 + 2);
    assert_int_equal(qh_portfolio_apply_fill(pf, &f, &p), 0);
    assert_int_equal(p.qty, D("-3"));
    assert_int_equal(p.entry_price, D("90"));
    assert_int_equal(p.realized_pnl, D("-20"));
    assert_int_equal(p.unrealized_pnl, D("-15"));
    qtr_account a = acct_of(pf, DAY0 + 2);
    assert_int_equal(a.wallet_balance, D("980"));
    assert_int_equal(a.equity, D("965"));
    assert_int_equal(a.open_positions, 1);
    qh_portfolio_free(pf);
}

static void test_flip_short_to_long(void **st)
{
    (void)st;
    qh_portfolio *pf = qh_portfolio_new(D("1000"));
    fill_ok(pf, "A", QTR_SIDE_SELL, "2", "50", "0", DAY0);
    /* buy 3 @ 40: closes the short realizing (40-50)*(-2) = +20, opens long
     * 1 @ 40; marked at 50 (first fill's price): (50-40)*1 = 10 */
    fill_ok(pf, "A", QTR_SIDE_BUY, "3", "40", "0", DAY0 + 1);
    qtr_position p = pos_of(pf, "A");
    assert_int_equal(p.qty, D("1"));
    assert_int_equal(p.entry_price, D("40"));
    assert_int_equal(p.realized_pnl, D("20"));
    assert_int_equal(p.unrealized_pnl, D("10"));
    assert_int_equal(acct_of(pf, DAY0 + 1).equity, D("1030"));
    qh_portfolio_free(pf);
}

static void test_fees_and_rebates(void **st)
{
    (void)st;
    qh_portfolio *pf = qh_portfolio_new(D("1000"));
    /* fee 0.5 paid, then a maker rebate of 0.2: net fees 0.3, wallet 999.7 */
    fill_ok(pf, "A", QTR_SIDE_BUY, "1", "100", "0.5", DAY0);
    qtr_fill f = make_fill("A", QTR_SIDE_BUY, "1", "100", "-0.2", DAY0 + 1);
    f.maker = true;
    assert_int_equal(qh_portfolio_apply_fill(pf, &f, NULL), 0);
    assert_int_equal(pos_of(pf, "A").fees, D("0.3"));
    qtr_account a = acct_of(pf, DAY0 + 1);
    assert_int_equal(a.fees, D("0.3"));
    assert_int_equal(a.wallet_balance, D("999.7"));
    assert_int_equal(a.equity, D("999.7"));
    assert_int_equal(a.realized_pnl, 0);
    qh_portfolio_free(pf);
}

static void test_funding_paid_and_received(void **st)
{
    (void)st;
    qh_portfolio *pf = qh_portfolio_new(D("1000"));
    qtr_position p;
    fill_ok(pf, "L", QTR_SIDE_BUY, "10", "2", "0", DAY0);
    fill_ok(pf, "S", QTR_SIDE_SELL, "10", "2", "0", DAY0);
    /* long 10, mark 2.5, rate 0.0001: notional 25, payment -0.0025 (pays) */
    assert_int_equal(qh_portfolio_apply_funding(pf, "L", D("0.0001"), D("2.5"), DAY0 + 1, &p), 0);
    assert_int_equal(p.funding, D("-0.0025"));
    /* short 10, same rate: notional -25, payment +0.0025 (receives) */
    assert_int_equal(qh_portfolio_apply_funding(pf, "S", D("0.0001"), D("2.5"), DAY0 + 1, &p), 0);
    assert_int_equal(p.funding, D("0.0025"));
    /* negative rate -0.0003 on the long: 25 * -0.0003 = -0.0075, so +0.0075 */
    assert_int_equal(qh_portfolio_apply_funding(pf, "L", D("-0.0003"), D("2.5"), DAY0 + 2, &p), 0);
    assert_int_equal(p.funding, D("0.005"));   /* -0.0025 + 0.0075 */
    /* account: -0.0025 + 0.0025 + 0.0075 = 0.0075; wallet 1000.0075 */
    qtr_account a = acct_of(pf, DAY0 + 2);
    assert_int_equal(a.funding, D("0.0075"));
    assert_int_equal(a.wallet_balance, D("1000.0075"));
    /* rounding: long 3 @ mark 0.33333333, rate 0.00001: notional 0.99999999,
     * times rate 0.0000099999999 -> 0.00001000 (HALF_EVEN at 8 places) */
    fill_ok(pf, "R", QTR_SIDE_BUY, "3", "0.33333333", "0", DAY0 + 3);
    assert_int_equal(qh_portfolio_apply_funding(pf, "R", D("0.00001"), D("0.33333333"), DAY0 + 3, &p), 0);
    assert_int_equal(p.funding, D("-0.00001"));
    /* flat symbol: nothing to pay */
    assert_int_equal(qh_portfolio_apply_funding(pf, "FLAT", D("0.01"), D("5"), DAY0 + 3, &p), 0);
    assert_int_equal(p.funding, 0);
    qh_portfolio_free(pf);
}

static void test_unrealized_equity_exposure_two_symbols(void **st)
{
    (void)st;
    qh_portfolio *pf = qh_portfolio_new(D("5000"));
    fill_ok(pf, "BTCUSDT", QTR_SIDE_BUY, "0.5", "40000", "0", DAY0);
    fill_ok(pf, "XRPUSDT", QTR_SIDE_SELL, "1000", "0.5", "0", DAY0);
    assert_int_equal(qh_portfolio_mark(pf, "BTCUSDT", D("41000"), DAY0 + 1), 0);
    assert_int_equal(qh_portfolio_mark(pf, "XRPUSDT", D("0.52"), DAY0 + 1), 0);
    /* BTC (41000-40000)*0.5 = 500; XRP (0.52-0.5)*(-1000) = -20; total 480.
     * exposure 0.5*41000 + 1000*0.52 = 20500 + 520 = 21020. equity 5480 */
    qtr_account a = acct_of(pf, DAY0 + 1);
    assert_int_equal(a.unrealized_pnl, D("480"));
    assert_int_equal(a.exposure, D("21020"));
    assert_int_equal(a.equity, D("5480"));
    assert_int_equal(a.open_positions, 2);
    qtr_position list[4];
    assert_int_equal(qh_portfolio_list_positions(pf, list, 4), 2);
    assert_string_equal(list[0].symbol, "BTCUSDT");   /* first seen first */
    assert_string_equal(list[1].symbol, "XRPUSDT");
    assert_int_equal(qh_portfolio_list_positions(pf, list, 1), 1);
    /* a symbol only marked, never traded, has no position to value */
    assert_int_equal(qh_portfolio_mark(pf, "ETHUSDT", D("3000"), DAY0 + 1), 0);
    assert_int_equal(acct_of(pf, DAY0 + 1).equity, D("5480"));
    assert_int_equal(pos_of(pf, "ETHUSDT").mark_price, D("3000"));
    qtr_position p;
    assert_int_equal(qh_portfolio_get_position(pf, "DOGEUSDT", &p), QTR_ENOTFOUND);
    qh_portfolio_free(pf);
}

static void test_peak_and_drawdown(void **st)
{
    (void)st;
    qh_portfolio *pf = qh_portfolio_new(D("1000"));
    fill_ok(pf, "A", QTR_SIDE_BUY, "10", "100", "0", DAY0);
    /* mark 110: equity 1100, the new peak */
    assert_int_equal(qh_portfolio_mark(pf, "A", D("110"), DAY0 + 1), 0);
    /* mark 99: equity 990; drawdown (1100-990)/1100*100 = 10% */
    assert_int_equal(qh_portfolio_mark(pf, "A", D("99"), DAY0 + 2), 0);
    qtr_account a = acct_of(pf, DAY0 + 2);
    assert_int_equal(a.equity_peak, D("1100"));
    assert_int_equal(a.drawdown_pct, D("10"));
    /* mark 105: equity 1050; 50/1100*100 = 4.545454545... -> 4.54545455 */
    assert_int_equal(qh_portfolio_mark(pf, "A", D("105"), DAY0 + 3), 0);
    assert_int_equal(acct_of(pf, DAY0 + 3).drawdown_pct, D("4.54545455"));
    /* mark 120: equity 1200, a new peak, no drawdown */
    assert_int_equal(qh_portfolio_mark(pf, "A", D("120"), DAY0 + 4), 0);
    a = acct_of(pf, DAY0 + 4);
    assert_int_equal(a.equity_peak, D("1200"));
    assert_int_equal(a.drawdown_pct, 0);
    qh_portfolio_free(pf);
}

static void test_daily_rollover(void **st)
{
    (void)st;
    qh_portfolio *pf = qh_portfolio_new(D("1000"));
    /* day 0: the first update starts the day from the equity before it, 1000 */
    fill_ok(pf, "A", QTR_SIDE_BUY, "10", "100", "0", DAY0 + HOUR_MS);
    assert_int_equal(qh_portfolio_mark(pf, "A", D("110"), DAY0 + 2 * HOUR_MS), 0);
    qtr_account a = acct_of(pf, DAY0 + 2 * HOUR_MS);
    assert_int_equal(a.day_start_equity, D("1000"));
    assert_int_equal(a.daily_pnl, D("100"));
    assert_int_equal(a.daily_drawdown_pct, 0);
    /* last update of day 0 at 23:59:59.999 */
    assert_int_equal(qh_portfolio_mark(pf, "A", D("112"), DAY0 + DAY_MS - 1), 0);
    assert_int_equal(acct_of(pf, DAY0 + DAY_MS - 1).daily_pnl, D("120"));
    /* day 1 asked before anything happened on it: starts from 1120, pnl 0 */
    a = acct_of(pf, DAY0 + DAY_MS);
    assert_int_equal(a.day_start_equity, D("1120"));
    assert_int_equal(a.daily_pnl, 0);
    /* day 1, 01:00: mark 105 -> equity 1050; day started at 1120 (equity at
     * midnight); daily pnl -70; daily drawdown 70/1120*100 = 6.25% */
    assert_int_equal(qh_portfolio_mark(pf, "A", D("105"), DAY0 + DAY_MS + HOUR_MS), 0);
    a = acct_of(pf, DAY0 + DAY_MS + HOUR_MS);
    assert_int_equal(a.day_start_equity, D("1120"));
    assert_int_equal(a.daily_pnl, D("-70"));
    assert_int_equal(a.daily_drawdown_pct, D("6.25"));
    /* an update dated on day 0 (late) does not move the day back:
     * equity 1100, still against 1120 -> -20 */
    assert_int_equal(qh_portfolio_mark(pf, "A", D("110"), DAY0 + 5 * HOUR_MS), 0);
    a = acct_of(pf, DAY0 + DAY_MS + 2 * HOUR_MS);
    assert_int_equal(a.day_start_equity, D("1120"));
    assert_int_equal(a.daily_pnl, D("-20"));
    /* account over the whole life: peak 1120, drawdown 20/1120 = 1.78571429% */
    assert_int_equal(a.equity_peak, D("1120"));
    assert_int_equal(a.drawdown_pct, D("1.78571429"));
    qh_portfolio_free(pf);
}

/* Everything the portfolio reports, to compare before and after a refusal. */
typedef struct snapshot {
    qtr_account acct;
    qtr_position pos;
    size_t open;
} snapshot;

static snapshot snap(const qh_portfolio *pf, const char *symbol)
{
    snapshot s;
    memset(&s, 0, sizeof s);
    qh_portfolio_account(pf, DAY0 + 10, &s.acct);
    qh_portfolio_get_position(pf, symbol, &s.pos);
    s.open = qh_portfolio_open_count(pf);
    return s;
}

static void assert_same(const snapshot *a, const snapshot *b)
{
    assert_memory_equal(&a->acct, &b->acct, sizeof a->acct);
    assert_memory_equal(&a->pos, &b->pos, sizeof a->pos);
    assert_int_equal(a->open, b->open);
}

static void test_overflow_refused_state_unchanged(void **st)
{
    (void)st;
    qh_portfolio *pf = qh_portfolio_new(D("10000"));
    /* 1,000,000,000 contracts at 1: notional 1e9 fits (max ~9.2e10) */
    fill_ok(pf, "BIG", QTR_SIDE_BUY, "1000000000", "1", "0", DAY0);
    snapshot before = snap(pf, "BIG");

    /* mark 1000: upnl 999 * 1e9 = 9.99e11 > 9.2e10 -> refused */
    assert_int_equal(qh_portfolio_mark(pf, "BIG", D("1000"), DAY0 + 1), -1);
    assert_non_null(strstr(qh_portfolio_last_error(pf), "overflow"));
    assert_non_null(strstr(qh_portfolio_last_error(pf), "BIG"));
    snapshot after = snap(pf, "BIG");
    assert_same(&before, &after);

    /* adding 92,000,000,000 more contracts overflows the quantity */
    qtr_fill f = make_fill("BIG", QTR_SIDE_BUY, "92000000000", "1", "0", DAY0 + 2);
    assert_int_equal(qh_portfolio_apply_fill(pf, &f, NULL), -1);
    after = snap(pf, "BIG");
    assert_same(&before, &after);

    /* a fee so large the wallet cannot hold it: the position is untouched
     * even though its quantity step alone would have succeeded */
    f = make_fill("BIG", QTR_SIDE_SELL, "1", "1", "0", DAY0 + 3);
    f.fee = QTR_DEC_MIN;
    assert_int_equal(qh_portfolio_apply_fill(pf, &f, NULL), -1);
    assert_non_null(strstr(qh_portfolio_last_error(pf), "overflow"));
    after = snap(pf, "BIG");
    assert_same(&before, &after);

    /* funding whose notional overflows */
    assert_int_equal(qh_portfolio_apply_funding(pf, "BIG", D("0.01"), D("100000"), DAY0 + 4, NULL), -1);
    after = snap(pf, "BIG");
    assert_same(&before, &after);

    /* a refused fill on a symbol never seen leaves no position behind:
     * 1e9 contracts at 1000 is a notional of 1e12, past the maximum */
    f = make_fill("NEW", QTR_SIDE_BUY, "1000000000", "1000", "0", DAY0 + 4);
    assert_int_equal(qh_portfolio_apply_fill(pf, &f, NULL), -1);
    qtr_position none;
    assert_int_equal(qh_portfolio_get_position(pf, "NEW", &none), QTR_ENOTFOUND);
    after = snap(pf, "BIG");
    assert_same(&before, &after);

    /* still works afterwards */
    assert_int_equal(qh_portfolio_mark(pf, "BIG", D("2"), DAY0 + 5), 0);
    assert_int_equal(pos_of(pf, "BIG").unrealized_pnl, D("1000000000"));
    qh_portfolio_free(pf);
}

static void test_bad_input_refused(void **st)
{
    (void)st;
    qh_portfolio *pf = qh_portfolio_new(D("1000"));
    snapshot before = snap(pf, "A");
    qtr_fill f = make_fill("A", QTR_SIDE_BUY, "1", "1", "0", DAY0);
    f.qty = 0;
    assert_int_equal(qh_portfolio_apply_fill(pf, &f, NULL), -1);
    assert_non_null(strstr(qh_portfolio_last_error(pf), "qty must be > 0"));
    f = make_fill("A", QTR_SIDE_BUY, "1", "1", "0", DAY0);
    f.price = D("-1");
    assert_int_equal(qh_portfolio_apply_fill(pf, &f, NULL), -1);
    assert_non_null(strstr(qh_portfolio_last_error(pf), "price must be > 0"));
    f = make_fill("A", QTR_SIDE_BUY, "1", "1", "0", DAY0);
    f.side = (qtr_side)0;
    assert_int_equal(qh_portfolio_apply_fill(pf, &f, NULL), -1);
    assert_non_null(strstr(qh_portfolio_last_error(pf), "side"));
    f = make_fill("A", QTR_SIDE_BUY, "1", "1", "0", DAY0);
    memset(f.symbol, 'X', sizeof f.symbol);   /* no terminating NUL */
    assert_int_equal(qh_portfolio_apply_fill(pf, &f, NULL), -1);
    assert_non_null(strstr(qh_portfolio_last_error(pf), "symbol"));
    assert_int_equal(qh_portfolio_mark(pf, "A", 0, DAY0), -1);
    assert_int_equal(qh_portfolio_mark(pf, "", D("1"), DAY0), -1);
    assert_int_equal(qh_portfolio_apply_funding(pf, "A", D("0.01"), 0, DAY0, NULL), -1);
    snapshot after = snap(pf, "A");
    assert_same(&before, &after);
    qh_portfolio_free(pf);
}

static void test_symbol_capacity(void **st)
{
    (void)st;
    qh_portfolio *pf = qh_portfolio_new(D("1000"));
    char name[16];
    for (int i = 0; i < QH_PORTFOLIO_MAX_SYMBOLS; i++) {
        snprintf(name, sizeof name, "S%d", i);
        assert_int_equal(qh_portfolio_mark(pf, name, D("1"), DAY0), 0);
    }
    assert_int_equal(qh_portfolio_mark(pf, "ONEMORE", D("1"), DAY0), -1);
    assert_non_null(strstr(qh_portfolio_last_error(pf), "more than"));
    qh_portfolio_free(pf);
}

static void test_restore(void **st)
{
    (void)st;
    qh_portfolio *pf = qh_portfolio_new(0);
    qtr_position p;
    memset(&p, 0, sizeof p);
    qtr_strlcpy(p.symbol, "A", sizeof p.symbol);
    p.qty = D("2");
    p.entry_price = D("100");
    p.mark_price = D("110");
    p.realized_pnl = D("5");
    p.fees = D("1");
    p.funding = D("-0.5");
    assert_int_equal(qh_portfolio_restore_position(pf, &p), 0);
    qh_portfolio_restore_account(pf, D("1000"), D("1100"), D("1010"), DAY0, D("5"), D("1"), D("-0.5"));
    /* upnl (110-100)*2 = 20; equity 1020; drawdown 80/1100*100 = 7.2727...
     * -> 7.27272727; daily pnl 1020 - 1010 = 10 */
    qtr_account a = acct_of(pf, DAY0 + HOUR_MS);
    assert_int_equal(a.wallet_balance, D("1000"));
    assert_int_equal(a.unrealized_pnl, D("20"));
    assert_int_equal(a.equity, D("1020"));
    assert_int_equal(a.equity_peak, D("1100"));
    assert_int_equal(a.drawdown_pct, D("7.27272727"));
    assert_int_equal(a.day_start_equity, D("1010"));
    assert_int_equal(a.daily_pnl, D("10"));
    assert_int_equal(a.realized_pnl, D("5"));
    assert_int_equal(a.exposure, D("220"));
    assert_int_equal(a.open_positions, 1);
    /* trading continues from the restored entry: sell 2 @ 120 realizes 40 */
    fill_ok(pf, "A", QTR_SIDE_SELL, "2", "120", "0", DAY0 + HOUR_MS);
    qtr_position q = pos_of(pf, "A");
    assert_int_equal(q.qty, 0);
    assert_int_equal(q.realized_pnl, D("45"));
    assert_int_equal(q.funding, D("-0.5"));
    a = acct_of(pf, DAY0 + HOUR_MS);
    assert_int_equal(a.wallet_balance, D("1040"));
    assert_int_equal(a.realized_pnl, D("45"));
    assert_int_equal(a.open_positions, 0);

    /* an open position without an entry price is refused */
    p.entry_price = 0;
    assert_int_equal(qh_portfolio_restore_position(pf, &p), -1);
    assert_non_null(strstr(qh_portfolio_last_error(pf), "entry_price"));
    /* an account whose equity cannot be represented is refused, unchanged */
    assert_int_equal(qh_portfolio_restore_position(pf, &(qtr_position){ .symbol = "B", .qty = D("1"),
                                                        .entry_price = D("1"), .mark_price = D("90000000000") }), 0);
    snapshot before = snap(pf, "B");
    assert_int_equal(qh_portfolio_try_restore_account(pf, D("90000000000"), 0, 0, DAY0, 0, 0, 0), -1);
    snapshot after = snap(pf, "B");
    assert_same(&before, &after);
    qh_portfolio_free(pf);
}

/* Both portfolios hold the same position (or none) in each symbol. */
static void assert_same_positions(const qh_portfolio *a, const qh_portfolio *b, const char *const *syms, int n)
{
    for (int k = 0; k < n; k++) {
        qtr_position pa, pb;
        memset(&pa, 0, sizeof pa);
        memset(&pb, 0, sizeof pb);
        assert_int_equal(qh_portfolio_get_position(a, syms[k], &pa), qh_portfolio_get_position(b, syms[k], &pb));
        assert_memory_equal(&pa, &pb, sizeof pa);
    }
}

/* Marking by index does what marking by name does: two portfolios take the
 * same fills, funding and marks over days (one marks by name, the other by
 * qh_portfolio_index_of's index) and report the same account and positions
 * after every step; refusals by index change nothing. */
static void test_mark_at_equals_mark(void **st)
{
    (void)st;
    qh_portfolio *by_name = qh_portfolio_new(D("10000")), *by_index = qh_portfolio_new(D("10000"));
    const char *syms[] = { "BTCUSDT", "ETHUSDT", "XRPUSDT" };
    const char *prices[] = { "100.5", "99.25", "101", "97.125", "103.33333333", "100" };
    assert_int_equal(qh_portfolio_index_of(by_index, "BTCUSDT"), -1);
    for (int step = 0; step < 60; step++) {
        const char *sym = syms[step % 3];
        int64_t t = DAY0 + step * 6 * HOUR_MS;
        if (step % 7 == 0) {
            qtr_fill f = make_fill(sym, step % 2 ? QTR_SIDE_SELL : QTR_SIDE_BUY, "1.5", prices[step % 6], "0.01", t);
            assert_int_equal(qh_portfolio_apply_fill(by_name, &f, NULL), 0);
            assert_int_equal(qh_portfolio_apply_fill(by_index, &f, NULL), 0);
        }
        if (step % 11 == 5) {
            assert_int_equal(qh_portfolio_apply_funding(by_name, sym, D("0.0001"), D("100"), t, NULL), 0);
            assert_int_equal(qh_portfolio_apply_funding(by_index, sym, D("0.0001"), D("100"), t, NULL), 0);
        }
        qtr_dec px = D(prices[(step * 5) % 6]);
        assert_int_equal(qh_portfolio_mark(by_name, sym, px, t + 1), 0);
        int32_t i = qh_portfolio_index_of(by_index, sym);
        if (i < 0) assert_int_equal(qh_portfolio_mark(by_index, sym, px, t + 1), 0);   /* first seen */
        else assert_int_equal(qh_portfolio_mark_at(by_index, (size_t)i, px, t + 1), 0);
        assert_true(qh_portfolio_index_of(by_index, sym) >= 0);
        qtr_account a = acct_of(by_name, t + 2), b = acct_of(by_index, t + 2);
        assert_memory_equal(&a, &b, sizeof a);
        assert_same_positions(by_name, by_index, syms, 3);
    }
    snapshot before = snap(by_index, "ETHUSDT");
    int32_t eth = qh_portfolio_index_of(by_index, "ETHUSDT");
    assert_int_equal(qh_portfolio_mark_at(by_index, (size_t)eth, 0, DAY0 + 20 * DAY_MS), -1);
    assert_non_null(strstr(qh_portfolio_last_error(by_index), "ETHUSDT"));
    assert_int_equal(qh_portfolio_mark_at(by_index, 3, D("1"), DAY0 + 20 * DAY_MS), -1);
    assert_int_equal(qh_portfolio_mark_at(by_index, (size_t)eth, INT64_MAX, DAY0 + 20 * DAY_MS), -1);
    snapshot after = snap(by_index, "ETHUSDT");
    assert_same(&before, &after);
    qh_portfolio_free(by_name);
    qh_portfolio_free(by_index);
}

/* A mark that changes no value (a flat symbol, or the same price again)
 * and begins no day keeps the account's totals without settling them again
 * (qh_portfolio_mark_at): it must still equal marking by name at every
 * step, also when the mark is earlier than the latest update, when a later
 * one begins a day, and when positions open and close to flat. */
static void test_mark_at_unchanged_equals_mark(void **st)
{
    (void)st;
    qh_portfolio *by_name = qh_portfolio_new(D("10000")), *by_index = qh_portfolio_new(D("10000"));
    const char *syms[] = { "BTCUSDT", "ETHUSDT" };
    const char *prices[] = { "100", "100", "100.5", "100", "100", "99" };
    static const int64_t steps_ms[] = { 5 * HOUR_MS, -HOUR_MS, 0, 7 * HOUR_MS, 1, 13 * HOUR_MS };
    int64_t t = DAY0;
    for (int step = 0; step < 90; step++) {
        const char *sym = syms[step % 2];
        t += steps_ms[step % 6];
        if (step % 5 == 1) {   /* open from flat, or close to flat */
            qtr_position p;
            bool open = qh_portfolio_get_position(by_name, sym, &p) == QTR_OK && p.qty != 0;
            qtr_fill f = make_fill(sym, open ? QTR_SIDE_SELL : QTR_SIDE_BUY, "2", prices[step % 6], "0.01", t);
            assert_int_equal(qh_portfolio_apply_fill(by_name, &f, NULL), 0);
            assert_int_equal(qh_portfolio_apply_fill(by_index, &f, NULL), 0);
        }
        qtr_dec px = D(prices[(step / 2) % 6]);
        assert_int_equal(qh_portfolio_mark(by_name, sym, px, t), 0);
        int32_t i = qh_portfolio_index_of(by_index, sym);
        if (i < 0) assert_int_equal(qh_portfolio_mark(by_index, sym, px, t), 0);
        else assert_int_equal(qh_portfolio_mark_at(by_index, (size_t)i, px, t), 0);
        for (int64_t now = t; now <= t + DAY_MS; now += DAY_MS) {
            qtr_account a = acct_of(by_name, now), b = acct_of(by_index, now);
            assert_memory_equal(&a, &b, sizeof a);
        }
        assert_same_positions(by_name, by_index, syms, 2);
    }
    qh_portfolio_free(by_name);
    qh_portfolio_free(by_index);
}

/* A UTC day begins at the first update whose time is in a later day than
 * the latest one's: told without dividing the time by a day (every mark
 * asks). Times on both sides of day boundaries before 1970, after it and
 * at the end of int64 time, forwards and back, by mark, by mark_at and by
 * fills: the day's start equity and the account read at any time must be
 * what floor(t / day) says. */
static int64_t floor_day(int64_t t) { return t / DAY_MS - (t % DAY_MS < 0); }

static void test_day_boundaries(void **st)
{
    (void)st;
    const int64_t last = (INT64_MAX / DAY_MS) * DAY_MS;   /* the last day's first ms */
    const int64_t bases[] = { -3 * DAY_MS, -DAY_MS, 0, DAY_MS, DAY0, DAY0 + DAY_MS, last - DAY_MS, last };
    const int64_t offs[] = { -1, 0, 1 };
    int64_t times[3 * 8 * 3];
    size_t n = 0;
    for (size_t b = 0; b < 8; b++)
        for (size_t o = 0; o < 3; o++) times[n++] = bases[b] + offs[o];
    for (size_t b = 0; b < 8; b++) times[n++] = bases[7 - b] + 5;   /* and back again */
    for (size_t b = 0; b < 8; b++) times[n++] = bases[b] - DAY_MS / 2;
    times[n - 1] = INT64_MAX;
    for (int how = 0; how < 3; how++) {
        qh_portfolio *pf = qh_portfolio_new(D("10000"));
        fill_ok(pf, "BTCUSDT", QTR_SIDE_BUY, "2", "100", "0", times[0]);
        int64_t day = floor_day(times[0]), latest = times[0];
        qtr_dec day_start = D("10000");
        int32_t ix = qh_portfolio_index_of(pf, "BTCUSDT");
        for (size_t k = 1; k < n; k++) {
            int64_t t = times[k];
            qtr_dec before = acct_of(pf, latest).equity;
            if (floor_day(t) > day) day = floor_day(t), day_start = before;
            if (t > latest) latest = t;
            qtr_dec px = D("100") + (qtr_dec)(k % 5) * D("1.5");
            if (how == 0) assert_int_equal(qh_portfolio_mark(pf, "BTCUSDT", px, t), 0);
            else if (how == 1) assert_int_equal(qh_portfolio_mark_at(pf, (size_t)ix, px, t), 0);
            else fill_ok(pf, "BTCUSDT", k % 2 ? QTR_SIDE_BUY : QTR_SIDE_SELL, "0.5", "101", "0.01", t);
            qtr_account a = acct_of(pf, latest);
            if (a.day_start_equity != day_start)
                fail_msg("how %d, update at %lld: day start %lld, want %lld", how, (long long)t,
                         (long long)a.day_start_equity, (long long)day_start);
            for (size_t o = 0; o < 3; o++) {   /* read at the edges of the next day */
                if (day >= INT64_MAX / DAY_MS) break;
                int64_t now = (day + 1) * DAY_MS + offs[o];
                qtr_account r = acct_of(pf, now);
                qtr_dec want = floor_day(now) > day ? r.equity : day_start;
                assert_int_equal(r.day_start_equity, want);
            }
        }
        qh_portfolio_free(pf);
    }
}

/* The account's running totals (unrealized PnL, exposure, open count,
 * equity, peak, drawdowns), kept by adding each update's change, against a
 * full recomputation from every position after each step of long random
 * sequences: fills that open, add, reduce, close to flat and flip, funding,
 * marks by name and by index (the per-candle path) on twelve symbols in
 * random order, times that go back and cross days, and marks at prices so
 * high that valuing them overflows (refused: nothing may change). A
 * second portfolio marked only by name must agree byte for byte. */
#define RS_SYMS 12
static uint64_t rs_next(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 16;
}

static qtr_dec rs_pct(qtr_dec reference, qtr_dec value)
{
    qtr_dec out = 0;
    if (reference <= 0 || value >= reference) return 0;
    assert_true(qtr_dec_muldiv(reference - value, QTR_DEC_INT(100), reference, QTR_ROUND_HALF_EVEN, &out));
    return out;
}

static void check_recomputed(const qh_portfolio *pf, int64_t now, qtr_dec start, qtr_dec peak, int64_t day,
                             qtr_dec day_start)
{
    qtr_account a = acct_of(pf, now);
    qtr_dec unrealized = 0, exposure = 0, realized = 0, fees = 0, funding = 0;
    int32_t open = 0;
    for (size_t i = 0; i < qh_portfolio_symbol_count(pf); i++) {
        qtr_position p;
        assert_int_equal(qh_portfolio_position_at(pf, i, &p), 0);
        qtr_dec u = 0, n = 0;
        if (p.qty != 0) {
            assert_true(qtr_dec_mul(p.mark_price - p.entry_price, p.qty, QTR_ROUND_HALF_EVEN, &u));
            assert_true(qtr_dec_mul(qtr_dec_abs(p.qty), p.mark_price, QTR_ROUND_HALF_EVEN, &n));
            open++;
        }
        assert_int_equal(p.unrealized_pnl, u);
        unrealized += u, exposure += n, realized += p.realized_pnl, fees += p.fees, funding += p.funding;
    }
    assert_int_equal(a.unrealized_pnl, unrealized);
    assert_int_equal(a.exposure, exposure);
    assert_int_equal(a.open_positions, open);
    assert_int_equal(a.realized_pnl, realized);
    assert_int_equal(a.fees, fees);
    assert_int_equal(a.funding, funding);
    assert_int_equal(a.wallet_balance, start + realized - fees + funding);
    assert_int_equal(a.equity, a.wallet_balance + unrealized);
    assert_int_equal(a.equity_peak, peak);
    assert_int_equal(a.drawdown_pct, rs_pct(peak, a.equity));
    if (floor_day(now) == day) {
        assert_int_equal(a.day_start_equity, day_start);
        assert_int_equal(a.daily_pnl, a.equity - day_start);
        assert_int_equal(a.daily_drawdown_pct, rs_pct(day_start, a.equity));
    }
}

static void test_running_totals_equal_recomputation(void **st)
{
    (void)st;
    char names[RS_SYMS][16];
    for (int k = 0; k < RS_SYMS; k++) snprintf(names[k], sizeof names[k], "S%02dUSDT", k);
    uint64_t rng = 12345;
    for (int run = 0; run < 40; run++) {
        const qtr_dec start = D("100000");
        qh_portfolio *pf = qh_portfolio_new(start), *by_name = qh_portfolio_new(start);
        qtr_dec peak = start, day_start = start;
        int64_t t = DAY0, latest = INT64_MIN, day = INT64_MIN;
        qtr_dec last_px[RS_SYMS];
        for (int k = 0; k < RS_SYMS; k++) last_px[k] = D("100");
        for (int step = 0; step < 1500; step++) {
            uint64_t u = rs_next(&rng);
            int k = (int)(u % RS_SYMS);
            t += (int64_t)(rs_next(&rng) % (3 * HOUR_MS)) - (u % 23 == 0 ? 5 * HOUR_MS : 0);
            qtr_account before = acct_of(pf, latest > t ? latest : t);
            uint64_t what = rs_next(&rng) % 100;
            int rc_a, rc_b;
            if (what < 15) {   /* a fill: 1 to 40 tenths, either side */
                qtr_dec qty = (qtr_dec)(1 + rs_next(&rng) % 40) * D("0.1");
                qtr_fill f = make_fill(names[k], rs_next(&rng) % 2 ? QTR_SIDE_SELL : QTR_SIDE_BUY, "1", "1", "0.01", t);
                f.qty = qty;
                f.price = last_px[k];
                rc_a = qh_portfolio_apply_fill(pf, &f, NULL);
                rc_b = qh_portfolio_apply_fill(by_name, &f, NULL);
            } else if (what < 20) {   /* funding at +-0.01% */
                qtr_dec rate = rs_next(&rng) % 2 ? D("0.0001") : D("-0.0001");
                rc_a = qh_portfolio_apply_funding(pf, names[k], rate, last_px[k], t, NULL);
                rc_b = qh_portfolio_apply_funding(by_name, names[k], rate, last_px[k], t, NULL);
            } else {   /* a mark: a walk around 100, the same again, or one that overflows */
                qtr_dec px = last_px[k];
                uint64_t m = rs_next(&rng) % 50;
                if (m == 0) px = QTR_DEC_MAX / 2;
                else if (m > 5) px += (qtr_dec)(rs_next(&rng) % 2000001) - 1000000;
                if (px <= 0) px = D("1");
                int32_t ix = qh_portfolio_index_of(pf, names[k]);
                rc_a = ix >= 0 ? qh_portfolio_mark_at(pf, (size_t)ix, px, t) : qh_portfolio_mark(pf, names[k], px, t);
                rc_b = qh_portfolio_mark(by_name, names[k], px, t);
                if (rc_a == 0 && px != QTR_DEC_MAX / 2) last_px[k] = px;
            }
            assert_int_equal(rc_a, rc_b);
            int64_t now = latest > t ? latest : t;
            if (rc_a == 0) {
                if (floor_day(t) > day) day = floor_day(t), day_start = before.equity;
                if (t > latest) latest = t, now = t;
            } else {   /* refused: the account as it was */
                qtr_account after = acct_of(pf, now);
                assert_memory_equal(&before, &after, sizeof before);
            }
            qtr_account a = acct_of(pf, now), b = acct_of(by_name, now);
            assert_memory_equal(&a, &b, sizeof a);
            if (a.equity > peak) peak = a.equity;
            check_recomputed(pf, now, start, peak, day, day_start);
        }
        qh_portfolio_free(pf);
        qh_portfolio_free(by_name);
    }
}

/* qh_portfolio_account() writes every byte of the account, padding too
 * (the account is copied into events and rings, and compared as bytes):
 * into memory full of 0xA5 it writes exactly what a zeroed account with
 * the figures set field by field holds, today and on a later day. */
static void test_account_every_byte_written(void **st)
{
    (void)st;
    qh_portfolio *pf = qh_portfolio_new(D("10000"));
    fill_ok(pf, "BTCUSDT", QTR_SIDE_BUY, "2", "100", "0.5", DAY0 + HOUR_MS);
    assert_int_equal(qh_portfolio_mark(pf, "BTCUSDT", D("97.5"), DAY0 + 2 * HOUR_MS), 0);
    const int64_t reads[] = { DAY0 + 3 * HOUR_MS, DAY0 + DAY_MS + 1 };
    for (size_t k = 0; k < 2; k++) {
        qtr_account got, want;
        memset(&got, 0xA5, sizeof got);
        qh_portfolio_account(pf, reads[k], &got);
        memset(&want, 0, sizeof want);
        want.time_ms = reads[k];
        want.wallet_balance = D("9999.5");
        want.unrealized_pnl = D("-5");
        want.equity = D("9994.5");
        want.equity_peak = D("10000");
        want.drawdown_pct = D("0.055");
        if (k == 0) {
            want.day_start_equity = D("10000");
            want.daily_pnl = D("-5.5");
            want.daily_drawdown_pct = D("0.055");
        } else {
            want.day_start_equity = D("9994.5");   /* a later day: from the equity now */
        }
        want.realized_pnl = 0;
        want.fees = D("0.5");
        want.funding = 0;
        want.exposure = D("195");
        want.open_positions = 1;
        assert_memory_equal(&got, &want, sizeof got);
    }
    qh_portfolio_free(pf);
}

/* The drawdown percentages (from the peak and from the day's start) are
 * computed with one 128-by-64-bit division; they must equal the SDK's
 * qtr_dec_muldiv (HALF_EVEN) to the unit: edges, half-even ties (gap * 1e10
 * exactly half-way between two multiples of the reference), negative equity
 * (the general path), and magnitudes spread over the whole range. */
static qtr_dec pct_reference(qtr_dec reference, qtr_dec value)
{
    qtr_dec out = 0;
    if (reference <= 0 || value >= reference) return 0;
    assert_true(qtr_dec_muldiv(reference - value, QTR_DEC_INT(100), reference, QTR_ROUND_HALF_EVEN, &out));
    return out;
}

static void check_pcts(qtr_dec peak, qtr_dec wallet, qtr_dec day_start)
{
    qh_portfolio *pf = qh_portfolio_new(0);
    assert_non_null(pf);
    assert_int_equal(qh_portfolio_try_restore_account(pf, wallet, peak, day_start, DAY0, 0, 0, 0), 0);
    qtr_account a = acct_of(pf, DAY0 + HOUR_MS);
    assert_int_equal(a.equity, wallet);
    assert_int_equal(a.equity_peak, peak > wallet ? peak : wallet);
    if (a.drawdown_pct != pct_reference(a.equity_peak, wallet) ||
        a.daily_drawdown_pct != pct_reference(day_start, wallet))
        fail_msg("peak %lld day start %lld equity %lld: drawdown %lld (want %lld), daily %lld (want %lld)",
                 (long long)peak, (long long)day_start, (long long)wallet, (long long)a.drawdown_pct,
                 (long long)pct_reference(a.equity_peak, wallet), (long long)a.daily_drawdown_pct,
                 (long long)pct_reference(day_start, wallet));
    qh_portfolio_free(pf);
}

static void test_drawdown_pct_equals_muldiv(void **st)
{
    (void)st;
    /* ties: 3e10 / 6e10 is 0.5 unit (stays 0, even), 9e10 / 6e10 is 1.5 (to 2) */
    check_pcts(INT64_C(60000000000), INT64_C(60000000000) - 3, INT64_C(60000000000) - 9);
    check_pcts(INT64_C(60000000000), INT64_C(60000000000) - 9, INT64_C(60000000000) - 3);
    check_pcts(QTR_DEC_MAX, 0, QTR_DEC_MAX);                 /* 100% of the largest peak */
    check_pcts(QTR_DEC_MAX, 1, QTR_DEC_MAX - 1);
    check_pcts(1, 0, 2);
    check_pcts(3, 1, 7);
    check_pcts(D("1000000"), D("-5"), D("1000000"));        /* negative equity: more than 100% */
    check_pcts(D("10"), D("-30"), D("12.5"));
    uint64_t x = 88172645463325252u;                        /* xorshift64: a fixed sequence */
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        qtr_dec peak = (qtr_dec)(x >> (1 + x % 62));        /* magnitudes from 1 to 2^62 */
        if (peak <= 0) peak = 1;
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        qtr_dec wallet = (qtr_dec)(x % (uint64_t)peak);      /* 0 <= equity < peak */
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        qtr_dec day_start = wallet + (qtr_dec)(x % (uint64_t)(QTR_DEC_MAX - wallet)) + 1;
        check_pcts(peak, wallet, day_start);
    }
}

/* A position's unrealized PnL ((mark - entry) * qty) and notional (|qty| *
 * mark) are multiplied with one 128-by-64-bit division; they must equal the
 * SDK's qtr_dec_mul (HALF_EVEN) to the unit, and a product qtr_dec_mul
 * refuses as an overflow must refuse the position too. */
static void check_value(qtr_dec qty, qtr_dec entry, qtr_dec mark)
{
    qh_portfolio *pf = qh_portfolio_new(D("1000"));
    assert_non_null(pf);
    qtr_position pos;
    memset(&pos, 0, sizeof pos);
    qtr_strlcpy(pos.symbol, "XRPUSDT", sizeof pos.symbol);
    pos.qty = qty;
    pos.entry_price = entry;
    pos.mark_price = mark;
    qtr_dec upnl = 0, notional = 0;
    bool ok = qtr_dec_mul(mark - entry, qty, QTR_ROUND_HALF_EVEN, &upnl) &&
              qtr_dec_mul(qtr_dec_abs(qty), mark, QTR_ROUND_HALF_EVEN, &notional);
    int rc = qh_portfolio_restore_position(pf, &pos);
    if (!ok) {
        if (rc == 0) fail_msg("qty %lld entry %lld mark %lld: an overflowing product accepted", (long long)qty,
                              (long long)entry, (long long)mark);
    } else if (rc == 0) {
        qtr_position got = pos_of(pf, "XRPUSDT");
        if (got.unrealized_pnl != upnl || acct_of(pf, DAY0).exposure != notional)
            fail_msg("qty %lld entry %lld mark %lld: unrealized %lld (want %lld), exposure %lld (want %lld)",
                     (long long)qty, (long long)entry, (long long)mark, (long long)got.unrealized_pnl,
                     (long long)upnl, (long long)acct_of(pf, DAY0).exposure, (long long)notional);
    } else {
        /* refused for the account total (wallet + unrealized), not the products */
        assert_non_null(strstr(qh_portfolio_last_error(pf), "account totals"));
    }
    qh_portfolio_free(pf);
}

static void test_position_value_equals_dec_mul(void **st)
{
    (void)st;
    /* ties: 0.5 unit rounds to even both ways, and on both signs */
    check_value(50000000, 1, 2);               /* 0.5 * 1e-8: 0.5 unit -> 0 */
    check_value(150000000, 1, 2);              /* 1.5 units -> 2 */
    check_value(-150000000, 1, 2);             /* -1.5 units -> -2 */
    check_value(-250000000, 3, 2);             /* +2.5 units -> 2 */
    check_value(QTR_DEC_MAX, QTR_DEC_SCALE, QTR_DEC_SCALE * 2);   /* upnl just fits */
    check_value(QTR_DEC_MAX, QTR_DEC_SCALE, QTR_DEC_SCALE * 3);   /* overflows */
    check_value(-QTR_DEC_MAX, 1, QTR_DEC_MAX);                    /* far beyond 2^64 */
    check_value(D("2000"), D("0.5"), D("0.49999999"));
    uint64_t x = 2463534242u;                  /* xorshift64: a fixed sequence */
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        qtr_dec qty = (qtr_dec)(x >> (1 + x % 63)) * ((x & 1) ? -1 : 1);
        if (qty == 0) qty = 1;
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        qtr_dec entry = (qtr_dec)(x >> (1 + x % 63)) + 1;
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        qtr_dec mark = (qtr_dec)(x >> (1 + x % 63)) + 1;
        check_value(qty, entry, mark);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_open_and_mark),
        cmocka_unit_test(test_short_open_and_mark),
        cmocka_unit_test(test_adding_moves_average_entry),
        cmocka_unit_test(test_partial_and_full_close),
        cmocka_unit_test(test_flip_long_to_short),
        cmocka_unit_test(test_flip_short_to_long),
        cmocka_unit_test(test_fees_and_rebates),
        cmocka_unit_test(test_funding_paid_and_received),
        cmocka_unit_test(test_unrealized_equity_exposure_two_symbols),
        cmocka_unit_test(test_peak_and_drawdown),
        cmocka_unit_test(test_daily_rollover),
        cmocka_unit_test(test_overflow_refused_state_unchanged),
        cmocka_unit_test(test_bad_input_refused),
        cmocka_unit_test(test_symbol_capacity),
        cmocka_unit_test(test_restore),
        cmocka_unit_test(test_mark_at_equals_mark),
        cmocka_unit_test(test_mark_at_unchanged_equals_mark),
        cmocka_unit_test(test_day_boundaries),
        cmocka_unit_test(test_account_every_byte_written),
        cmocka_unit_test(test_running_totals_equal_recomputation),
        cmocka_unit_test(test_drawdown_pct_equals_muldiv),
        cmocka_unit_test(test_position_value_equals_dec_mul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
