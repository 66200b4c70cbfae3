/* The risk_policy plugin through the mock host: one test per check and
 * reason code, resizes, reduce-only closes, the judge, metrics, health. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mock_host.h"

typedef struct env {
    mock_host *m;
    mock_plugin p;
} env;

static env E;

/* What the judge saw, and what it answers. */
static struct {
    int calls;
    qtr_dec seen_qty;
    qtr_dec seen_notional;
    qtr_risk_verdict verdict;
    qtr_dec qty;
    const char *reason;
} J;

static void judge(void *ud, const qtr_order_intent *o, const qtr_risk_context *rc, qtr_risk_decision *out)
{
    (void)ud;
    J.calls++;
    J.seen_qty = o->qty;
    J.seen_notional = rc->order_notional;
    if (J.verdict == 0) return;               /* leave the mock's approval */
    out->verdict = J.verdict;
    out->qty = J.qty;
    qtr_strlcpy(out->reason, J.reason ? J.reason : "", sizeof out->reason);
}

static void add_position(const char *symbol, const char *qty, const char *mark)
{
    qtr_position *p = &E.m->positions[E.m->n_positions++];
    memset(p, 0, sizeof *p);
    qtr_strlcpy(p->symbol, symbol, sizeof p->symbol);
    p->qty = D(qty);
    p->mark_price = D(mark);
    p->entry_price = D(mark);
}

static void set_mark(const char *symbol, const char *mark, const char *funding)
{
    qtr_mark_price *mp = NULL;
    for (size_t i = 0; i < E.m->n_marks; i++)
        if (strcmp(E.m->marks[i].symbol, symbol) == 0) mp = &E.m->marks[i];
    if (!mp) mp = &E.m->marks[E.m->n_marks++];
    memset(mp, 0, sizeof *mp);
    qtr_strlcpy(mp->symbol, symbol, sizeof mp->symbol);
    mp->mark_price = D(mark);
    mp->index_price = D(mark);
    mp->funding_rate = D(funding);
}

static void set_book(const char *symbol, const char *bid, const char *ask, const char *bid_depth,
                     const char *ask_depth)
{
    qtr_book_top *b = &E.m->books[E.m->n_books++];
    memset(b, 0, sizeof *b);
    qtr_strlcpy(b->symbol, symbol, sizeof b->symbol);
    b->bid_price = D(bid);
    b->ask_price = D(ask);
    b->bid_qty = D("1");
    b->ask_qty = D("1");
    b->bid_depth_notional = D(bid_depth);
    b->ask_depth_notional = D(ask_depth);
}

static int setup(void **state)
{
    (void)state;
    memset(&J, 0, sizeof J);
    E.m = mock_host_new(false);
    E.m->judge = judge;
    qtr_policy_limits *l = &E.m->limits;
    memset(l, 0, sizeof *l);
    qtr_strlcpy(l->name, "test", sizeof l->name);
    l->min_confidence = 0.5;
    l->max_positions = 3;
    l->max_symbols = 4;
    l->max_position_notional = D("5000");
    l->max_order_notional = D("2000");
    l->max_total_exposure = D("20000");
    l->max_leverage = 5;
    l->max_abs_funding_rate = D("0.001");
    l->max_spread_bps = D("10");
    l->min_depth_notional = D("50000");
    E.m->has_limits = true;
    E.m->account.equity = D("10000");
    E.m->account.wallet_balance = D("10000");
    set_mark("BTCUSDT", "50000", "0.0001");
    if (mock_plugin_load(E.m, mock_plugin_path("risk_policy"), &E.p) != 0) {
        fprintf(stderr, "cannot load risk_policy: %s\n", E.m->last_log);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mock_plugin_unload(E.m, &E.p);
    mock_host_free(E.m);
    return 0;
}

static qtr_order_intent order(const char *symbol, qtr_side side, const char *qty)
{
    qtr_order_intent o;
    memset(&o, 0, sizeof o);
    qtr_strlcpy(o.symbol, symbol, sizeof o.symbol);
    qtr_strlcpy(o.strategy, "test", sizeof o.strategy);
    o.side = side;
    o.type = QTR_ORDER_MARKET;
    o.qty = D(qty);
    o.confidence = 0.8;
    return o;
}

static qtr_risk_decision check(const qtr_order_intent *o)
{
    qtr_risk_decision d;
    memset(&d, 0x5a, sizeof d);
    E.p.desc->risk->check_order(E.p.state, o, &d);
    return d;
}

static void expect(const qtr_order_intent *o, qtr_risk_verdict verdict, const char *reason)
{
    qtr_risk_decision d = check(o);
    assert_int_equal(d.verdict, verdict);
    assert_string_equal(d.reason, reason);
    if (verdict == QTR_RISK_APPROVE) assert_int_equal(d.qty, o->qty);
    if (verdict == QTR_RISK_REJECT) assert_int_equal(d.qty, 0);
}

static void expect_resize(const qtr_order_intent *o, qtr_dec qty, const char *reason)
{
    qtr_risk_decision d = check(o);
    assert_int_equal(d.verdict, QTR_RISK_RESIZE);
    assert_string_equal(d.reason, reason);
    assert_int_equal(d.qty, qty);
    assert_true(d.qty > 0 && d.qty < o->qty);
}

/* floor(notional / price) in units of 1e-8, computed apart from the plugin. */
static qtr_dec fit_qty(const char *notional, const char *price)
{
    __int128 n = D(notional), p = D(price);
    return (qtr_dec)(n * QTR_DEC_SCALE / p);
}

static void approves_within_limits(void **state)
{
    (void)state;
    qtr_order_intent o = order("BTCUSDT", QTR_SIDE_BUY, "0.01");      /* 500 */
    expect(&o, QTR_RISK_APPROVE, "approved");
    assert_int_equal(J.calls, 1);
    assert_int_equal(J.seen_qty, D("0.01"));
    assert_int_equal(J.seen_notional, D("500"));
}

static void no_policy_rejects_and_degrades(void **state)
{
    (void)state;
    qtr_health h;
    E.p.desc->health(E.p.state, &h);
    assert_int_equal(h.status, QTR_HEALTH_OK);
    E.m->has_limits = false;
    qtr_order_intent o = order("BTCUSDT", QTR_SIDE_BUY, "0.01");
    expect(&o, QTR_RISK_REJECT, "no_policy");
    assert_int_equal(J.calls, 0);
    E.p.desc->health(E.p.state, &h);
    assert_int_equal(h.status, QTR_HEALTH_DEGRADED);
}

static void symbol_not_allowed(void **state)
{
    (void)state;
    E.m->limits.n_symbols = 1;
    qtr_strlcpy(E.m->limits.symbols[0], "ETHUSDT", QTR_SYMBOL_MAX);
    qtr_order_intent o = order("BTCUSDT", QTR_SIDE_BUY, "0.01");
    expect(&o, QTR_RISK_REJECT, "symbol_not_allowed");
    qtr_strlcpy(E.m->limits.symbols[1], "BTCUSDT", QTR_SYMBOL_MAX);
    E.m->limits.n_symbols = 2;
    expect(&o, QTR_RISK_APPROVE, "approved");
}

static void min_confidence(void **state)
{
    (void)state;
    qtr_order_intent o = order("BTCUSDT", QTR_SIDE_BUY, "0.01");
    o.confidence = 0.49;
    expect(&o, QTR_RISK_REJECT, "min_confidence");
    o.confidence = 0.5;                                             /* the minimum itself passes */
    expect(&o, QTR_RISK_APPROVE, "approved");
}

static void max_positions(void **state)
{
    (void)state;
    add_position("ETHUSDT", "0.1", "2000");
    add_position("SOLUSDT", "1", "100");
    add_position("XRPUSDT", "10", "1");
    qtr_order_intent o = order("BTCUSDT", QTR_SIDE_BUY, "0.01");
    expect(&o, QTR_RISK_REJECT, "max_positions");
    /* Adding to a position already open is not a new position. */
    o = order("ETHUSDT", QTR_SIDE_BUY, "0.1");
    set_mark("ETHUSDT", "2000", "0");
    expect(&o, QTR_RISK_APPROVE, "approved");
}

static void max_symbols(void **state)
{
    (void)state;
    E.m->limits.max_positions = 10;
    E.m->limits.max_symbols = 2;
    add_position("ETHUSDT", "0.1", "2000");
    add_position("SOLUSDT", "1", "100");
    qtr_order_intent o = order("BTCUSDT", QTR_SIDE_BUY, "0.01");
    expect(&o, QTR_RISK_REJECT, "max_symbols");
    E.m->limits.max_symbols = 3;
    expect(&o, QTR_RISK_APPROVE, "approved");
}

static void max_order_notional_resizes(void **state)
{
    (void)state;
    set_mark("BTCUSDT", "30000", "0");
    E.m->limits.max_order_notional = D("1000");
    qtr_order_intent o = order("BTCUSDT", QTR_SIDE_BUY, "0.05");     /* 1500 > 1000 */
    qtr_dec want = fit_qty("1000", "30000");
    assert_int_equal(want, D("0.03333333"));
    expect_resize(&o, want, "max_order_notional");
    assert_int_equal(J.seen_qty, want);                             /* the judge saw the cut order */
    /* Less than one step of 1e-8 fits: nothing is left. */
    E.m->limits.max_order_notional = D("0.0001");
    expect(&o, QTR_RISK_REJECT, "max_order_notional");
}

static void limit_order_valued_at_its_price(void **state)
{
    (void)state;
    qtr_order_intent o = order("BTCUSDT", QTR_SIDE_BUY, "0.04");
    o.type = QTR_ORDER_LIMIT;
    o.price = D("60000");                                           /* 2400 at its own price */
    expect_resize(&o, fit_qty("2000", "60000"), "max_order_notional");
}

static void max_position_notional_resizes(void **state)
{
    (void)state;
    add_position("BTCUSDT", "0.08", "50000");                       /* 4000 held */
    qtr_order_intent o = order("BTCUSDT", QTR_SIDE_BUY, "0.04");    /* 2000: after 6000 > 5000 */
    qtr_dec want = fit_qty("5000", "50000") - D("0.08");
    assert_int_equal(want, D("0.02"));
    expect_resize(&o, want, "max_position_notional");
    /* Selling against the long shrinks it: within the limit. */
    o = order("BTCUSDT", QTR_SIDE_SELL, "0.04");
    expect(&o, QTR_RISK_APPROVE, "approved");
    /* Full: no room left to add. */
    E.m->positions[0].qty = D("0.1");
    o = order("BTCUSDT", QTR_SIDE_BUY, "0.01");
    expect(&o, QTR_RISK_REJECT, "max_position_notional");
}

static void max_total_exposure_resizes(void **state)
{
    (void)state;
    add_position("ETHUSDT", "10", "1900");                          /* 19000 of exposure */
    qtr_order_intent o = order("BTCUSDT", QTR_SIDE_BUY, "0.04");    /* +2000 -> 21000 */
    E.m->limits.max_leverage = 100;
    qtr_dec want = fit_qty("1000", "50000");                        /* 20000 - 19000 left */
    expect_resize(&o, want, "max_total_exposure");
    E.m->positions[0].qty = D("10.52631579");                       /* 20000.00000... : full */
    expect(&o, QTR_RISK_REJECT, "max_total_exposure");
}

static void max_leverage(void **state)
{
    (void)state;
    E.m->account.equity = D("1000");
    add_position("ETHUSDT", "2", "2000");                           /* 4000 */
    qtr_order_intent o = order("BTCUSDT", QTR_SIDE_BUY, "0.04");    /* 6000 / 1000 = 6x > 5x */
    expect(&o, QTR_RISK_REJECT, "max_leverage");
    o = order("BTCUSDT", QTR_SIDE_BUY, "0.02");                     /* 5000 / 1000 = 5x: allowed */
    expect(&o, QTR_RISK_APPROVE, "approved");
}

static void funding_rate_filter(void **state)
{
    (void)state;
    set_mark("BTCUSDT", "50000", "0.002");                          /* longs pay 0.2% */
    qtr_order_intent buy = order("BTCUSDT", QTR_SIDE_BUY, "0.01");
    qtr_order_intent sell = order("BTCUSDT", QTR_SIDE_SELL, "0.01");
    expect(&buy, QTR_RISK_REJECT, "funding_rate");
    expect(&sell, QTR_RISK_APPROVE, "approved");
    set_mark("BTCUSDT", "50000", "-0.002");                         /* shorts pay */
    expect(&buy, QTR_RISK_APPROVE, "approved");
    expect(&sell, QTR_RISK_REJECT, "funding_rate");
    set_mark("BTCUSDT", "50000", "-0.001");                         /* at the limit: allowed */
    expect(&sell, QTR_RISK_APPROVE, "approved");
}

static void spread_and_depth(void **state)
{
    (void)state;
    qtr_order_intent buy = order("BTCUSDT", QTR_SIDE_BUY, "0.01");
    qtr_order_intent sell = order("BTCUSDT", QTR_SIDE_SELL, "0.01");
    set_book("BTCUSDT", "49900", "50100", "60000", "60000");        /* 200 / 50000 = 40 bps */
    expect(&buy, QTR_RISK_REJECT, "spread");
    E.m->n_books = 0;
    set_book("BTCUSDT", "49995", "50005", "60000", "40000");        /* 2 bps; asks thin */
    expect(&buy, QTR_RISK_REJECT, "depth");
    expect(&sell, QTR_RISK_APPROVE, "approved");                    /* bids deep enough */
    E.m->n_books = 0;
    set_book("BTCUSDT", "49975", "50025", "60000", "60000");        /* 50 / 50000 = 10 bps: at the limit */
    expect(&buy, QTR_RISK_APPROVE, "approved");
}

static void reduce_only_close_passes_limits(void **state)
{
    (void)state;
    add_position("BTCUSDT", "0.5", "50000");                        /* far over every limit */
    E.m->limits.max_order_notional = D("1");
    E.m->limits.min_confidence = 0.99;
    E.m->limits.n_symbols = 1;
    qtr_strlcpy(E.m->limits.symbols[0], "ETHUSDT", QTR_SYMBOL_MAX);
    J.verdict = QTR_RISK_REJECT;
    J.reason = "lua_no";
    qtr_order_intent close = order("BTCUSDT", QTR_SIDE_SELL, "0.5");
    close.reduce_only = true;
    close.confidence = 0;
    expect(&close, QTR_RISK_APPROVE, "reduce_only");
    E.m->has_limits = false;                                        /* even without a policy */
    expect(&close, QTR_RISK_APPROVE, "reduce_only");
    /* Reduce-only on the side that would grow it is no close. */
    qtr_order_intent grow = order("BTCUSDT", QTR_SIDE_BUY, "0.5");
    grow.reduce_only = true;
    expect(&grow, QTR_RISK_REJECT, "no_policy");
}

static void judge_reject_wins(void **state)
{
    (void)state;
    J.verdict = QTR_RISK_REJECT;
    J.reason = "lua_no";
    qtr_order_intent o = order("BTCUSDT", QTR_SIDE_BUY, "0.01");
    expect(&o, QTR_RISK_REJECT, "lua_no");
    J.reason = "";
    expect(&o, QTR_RISK_REJECT, "policy_reject");
    /* A limit resize does not soften the judge's reject. */
    o = order("BTCUSDT", QTR_SIDE_BUY, "0.05");
    J.reason = "lua_no";
    expect(&o, QTR_RISK_REJECT, "lua_no");
}

static void smaller_resize_wins(void **state)
{
    (void)state;
    qtr_order_intent o = order("BTCUSDT", QTR_SIDE_BUY, "0.05");    /* limit cuts to 0.04 */
    qtr_dec limit_qty = fit_qty("2000", "50000");
    J.verdict = QTR_RISK_RESIZE;
    J.qty = limit_qty - D("0.01");
    J.reason = "lua_smaller";
    expect_resize(&o, limit_qty - D("0.01"), "lua_smaller");
    J.qty = limit_qty + D("0.005");                                 /* larger: the limit's stands */
    expect_resize(&o, limit_qty, "max_order_notional");
    J.qty = 0;                                                      /* resized to nothing: reject */
    expect(&o, QTR_RISK_REJECT, "lua_smaller");
}

static void no_price_rejects(void **state)
{
    (void)state;
    qtr_order_intent o = order("DOGEUSDT", QTR_SIDE_BUY, "1");
    expect(&o, QTR_RISK_REJECT, "no_price");
    /* A last candle is enough. */
    mock_host_publish_candle(E.m, "DOGEUSDT", 0, "0.1", "0.1", "0.1", "0.1", "1");
    expect(&o, QTR_RISK_APPROVE, "approved");
}

static void malformed_order_rejected(void **state)
{
    (void)state;
    qtr_order_intent o = order("BTCUSDT", QTR_SIDE_BUY, "0.01");
    o.qty = 0;
    expect(&o, QTR_RISK_REJECT, "invalid_order");
    o = order("BTCUSDT", (qtr_side)7, "0.01");
    expect(&o, QTR_RISK_REJECT, "invalid_order");
    o = order("", QTR_SIDE_BUY, "0.01");
    expect(&o, QTR_RISK_REJECT, "invalid_order");
}

static void metrics_count_reasons(void **state)
{
    (void)state;
    qtr_order_intent ok = order("BTCUSDT", QTR_SIDE_BUY, "0.01");
    qtr_order_intent big = order("BTCUSDT", QTR_SIDE_BUY, "0.05");
    qtr_order_intent shy = order("BTCUSDT", QTR_SIDE_BUY, "0.01");
    shy.confidence = 0.1;
    for (int i = 0; i < 3; i++) check(&ok);
    for (int i = 0; i < 2; i++) check(&big);
    check(&shy);
    assert_int_equal(mock_host_metric(E.m, "risk_decisions_total", "approved"), 3);
    assert_int_equal(mock_host_metric(E.m, "risk_decisions_total", "max_order_notional"), 2);
    assert_int_equal(mock_host_metric(E.m, "risk_decisions_total", "min_confidence"), 1);
    assert_int_equal(mock_host_metric(E.m, "risk_decisions_total", "max_leverage"), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(approves_within_limits),
        T(no_policy_rejects_and_degrades),
        T(symbol_not_allowed),
        T(min_confidence),
        T(max_positions),
        T(max_symbols),
        T(max_order_notional_resizes),
        T(limit_order_valued_at_its_price),
        T(max_position_notional_resizes),
        T(max_total_exposure_resizes),
        T(max_leverage),
        T(funding_rate_filter),
        T(spread_and_depth),
        T(reduce_only_close_passes_limits),
        T(judge_reject_wins),
        T(smaller_resize_wins),
        T(no_price_rejects),
        T(malformed_order_rejected),
        T(metrics_count_reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
