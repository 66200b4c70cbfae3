/* The host's enforcement of a policy's limits (host/policy/policy_inputs.c,
 * policy_enforce.c), moved here from the risk_policy plugin's tests: one
 * test per check and reason code, resizes, reduce-only closes, and how
 * judge()'s answer combines with the limits. The account, market and open
 * orders are a small world of our own, seen through qh_policy_view as the
 * engine shows its own state. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy.h"

#define MAX_ITEMS 16

static qtr_dec D(const char *s)
{
    qtr_dec d = 0;
    if (qtr_dec_parse(s, strlen(s), &d) != QTR_DEC_OK) fail_msg("bad decimal %s", s);
    return d;
}

static struct {
    qh_policy_rules lim;
    bool no_policy;
    qtr_dec equity;
    qtr_position positions[MAX_ITEMS];
    size_t n_positions;
    qtr_mark_price marks[MAX_ITEMS];
    size_t n_marks;
    qtr_book_top books[MAX_ITEMS];
    size_t n_books;
    qtr_candle candles[MAX_ITEMS];
    size_t n_candles;
    qtr_order_update open[MAX_ITEMS];
    size_t n_open;
} E;

/* What the judge saw, and what it answers (0: allow). */
static struct {
    int calls;
    qtr_dec seen_qty;
    qtr_dec seen_notional;
    qtr_risk_verdict verdict;
    qtr_dec qty;
    const char *reason;
} J;

static void add_position(const char *symbol, const char *qty, const char *mark)
{
    qtr_position *p = &E.positions[E.n_positions++];
    memset(p, 0, sizeof *p);
    qtr_strlcpy(p->symbol, symbol, sizeof p->symbol);
    p->qty = D(qty);
    p->mark_price = D(mark);
    p->entry_price = D(mark);
}

static void set_mark(const char *symbol, const char *mark, const char *funding)
{
    qtr_mark_price *mp = NULL;
    for (size_t i = 0; i < E.n_marks; i++)
        if (strcmp(E.marks[i].symbol, symbol) == 0) mp = &E.marks[i];
    if (!mp) mp = &E.marks[E.n_marks++];
    memset(mp, 0, sizeof *mp);
    qtr_strlcpy(mp->symbol, symbol, sizeof mp->symbol);
    mp->mark_price = D(mark);
    mp->index_price = D(mark);
    mp->funding_rate = D(funding);
}

static void set_candle(const char *symbol, const char *close)
{
    qtr_candle *c = &E.candles[E.n_candles++];
    memset(c, 0, sizeof *c);
    qtr_strlcpy(c->symbol, symbol, sizeof c->symbol);
    c->open = c->high = c->low = c->close = D(close);
}

static void set_book(const char *symbol, const char *bid, const char *ask, const char *bid_depth,
                     const char *ask_depth)
{
    qtr_book_top *b = &E.books[E.n_books++];
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
    memset(&E, 0, sizeof E);
    qh_policy_rules *l = &E.lim;
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
    E.equity = D("10000");
    set_mark("BTCUSDT", "50000", "0.0001");
    return 0;
}

#define FIND(arr, n, sym)                                                  \
    ({                                                                     \
        __typeof__(&(arr)[0]) found_ = NULL;                               \
        for (size_t i_ = 0; i_ < (n) && !found_; i_++)                     \
            if (strcmp((arr)[i_].symbol, (sym)) == 0) found_ = &(arr)[i_]; \
        found_;                                                            \
    })

static bool has_position(void *ud, const char *symbol)
{
    (void)ud;
    const qtr_position *p = FIND(E.positions, E.n_positions, symbol);
    return p && p->qty != 0;
}

/* The account as the portfolio keeps it: exposure is the sum of each
 * position at its own mark, half-even. */
static qtr_account account(void)
{
    qtr_account a;
    memset(&a, 0, sizeof a);
    a.equity = E.equity;
    for (size_t i = 0; i < E.n_positions; i++) {
        if (E.positions[i].qty == 0) continue;
        qtr_dec n = 0;   /* set by qtr_dec_mul; gcc -O2 cannot see through assert_true */
        assert_true(qtr_dec_mul(qtr_dec_abs(E.positions[i].qty), E.positions[i].mark_price, QTR_ROUND_HALF_EVEN, &n));
        a.exposure += n;
        a.open_positions++;
    }
    return a;
}

/* What the host does for one order (pipeline.c's policy step), with a
 * stand-in for judge() whose answer J sets. */
static qtr_risk_decision check(const qtr_order_intent *o)
{
    qtr_risk_decision d;
    memset(&d, 0, sizeof d);
    qh_policy_verdict v;
    memset(&v, 0x5a, sizeof v);
    const qtr_position *pos = FIND(E.positions, E.n_positions, o->symbol);
    if (qh_policy_is_closing(o, pos ? pos->qty : 0)) {
        d.verdict = QTR_RISK_APPROVE;
        d.qty = o->qty;
        qtr_strlcpy(d.reason, "reduce_only", sizeof d.reason);
        return d;
    }
    qtr_account a = account();
    qh_policy_view view = {
        .account = &a,
        .position = pos,
        .mark = FIND(E.marks, E.n_marks, o->symbol),
        .candle = FIND(E.candles, E.n_candles, o->symbol),
        .book = FIND(E.books, E.n_books, o->symbol),
        .open_orders = E.open,
        .n_open = E.n_open,
        .has_position = has_position,
    };
    qh_policy_inputs in;
    char detail[QTR_TEXT_MAX];
    const char *missing = qh_policy_build_inputs(&view, o, &in, detail, sizeof detail);
    if (missing) {
        d.verdict = QTR_RISK_REJECT;
        qtr_strlcpy(d.reason, missing, sizeof d.reason);
        return d;
    }
    if (E.no_policy) {
        d.verdict = QTR_RISK_REJECT;
        qtr_strlcpy(d.reason, "no_policy", sizeof d.reason);
        return d;
    }
    qh_policy_check_limits(&E.lim, o, &in, &v);
    if (v.verdict != QTR_RISK_REJECT) {
        J.calls++;
        J.seen_qty = v.qty;
        J.seen_notional = qh_risk_notional(v.qty, in.exec_price);
        qtr_risk_decision judged;
        memset(&judged, 0, sizeof judged);
        judged.verdict = J.verdict ? J.verdict : QTR_RISK_APPROVE;
        judged.qty = J.verdict ? J.qty : v.qty;
        qtr_strlcpy(judged.reason, J.reason ? J.reason : "", sizeof judged.reason);
        qh_policy_combine_judge(&v, QTR_OK, &judged);
    }
    d.verdict = v.verdict;
    d.qty = v.verdict == QTR_RISK_REJECT ? 0 : v.qty;
    qtr_strlcpy(d.reason, v.reason, sizeof d.reason);
    return d;
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

/* floor(notional / price) in units of 1e-8, computed apart from the host. */
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

static void no_policy_rejects(void **state)
{
    (void)state;
    E.no_policy = true;
    qtr_order_intent o = order("BTCUSDT", QTR_SIDE_BUY, "0.01");
    expect(&o, QTR_RISK_REJECT, "no_policy");
    assert_int_equal(J.calls, 0);
}

static void symbol_not_allowed(void **state)
{
    (void)state;
    E.lim.n_symbols = 1;
    qtr_strlcpy(E.lim.symbols[0], "ETHUSDT", QTR_SYMBOL_MAX);
    qtr_order_intent o = order("BTCUSDT", QTR_SIDE_BUY, "0.01");
    expect(&o, QTR_RISK_REJECT, "symbol_not_allowed");
    qtr_strlcpy(E.lim.symbols[1], "BTCUSDT", QTR_SYMBOL_MAX);
    E.lim.n_symbols = 2;
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
    E.lim.max_positions = 10;
    E.lim.max_symbols = 2;
    add_position("ETHUSDT", "0.1", "2000");
    add_position("SOLUSDT", "1", "100");
    qtr_order_intent o = order("BTCUSDT", QTR_SIDE_BUY, "0.01");
    expect(&o, QTR_RISK_REJECT, "max_symbols");
    E.lim.max_symbols = 3;
    expect(&o, QTR_RISK_APPROVE, "approved");
}

static void max_order_notional_resizes(void **state)
{
    (void)state;
    set_mark("BTCUSDT", "30000", "0");
    E.lim.max_order_notional = D("1000");
    qtr_order_intent o = order("BTCUSDT", QTR_SIDE_BUY, "0.05");     /* 1500 > 1000 */
    qtr_dec want = fit_qty("1000", "30000");
    assert_int_equal(want, D("0.03333333"));
    expect_resize(&o, want, "max_order_notional");
    assert_int_equal(J.seen_qty, want);                             /* the judge saw the cut order */
    /* Less than one step of 1e-8 fits: nothing is left. */
    E.lim.max_order_notional = D("0.0001");
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
    E.positions[0].qty = D("0.1");
    o = order("BTCUSDT", QTR_SIDE_BUY, "0.01");
    expect(&o, QTR_RISK_REJECT, "max_position_notional");
}

static void max_total_exposure_resizes(void **state)
{
    (void)state;
    add_position("ETHUSDT", "10", "1900");                          /* 19000 of exposure */
    qtr_order_intent o = order("BTCUSDT", QTR_SIDE_BUY, "0.04");    /* +2000 -> 21000 */
    E.lim.max_leverage = 100;
    qtr_dec want = fit_qty("1000", "50000");                        /* 20000 - 19000 left */
    expect_resize(&o, want, "max_total_exposure");
    E.positions[0].qty = D("10.52631579");                       /* 20000.00000... : full */
    expect(&o, QTR_RISK_REJECT, "max_total_exposure");
}

static void max_leverage(void **state)
{
    (void)state;
    E.equity = D("1000");
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
    E.n_books = 0;
    set_book("BTCUSDT", "49995", "50005", "60000", "40000");        /* 2 bps; asks thin */
    expect(&buy, QTR_RISK_REJECT, "depth");
    expect(&sell, QTR_RISK_APPROVE, "approved");                    /* bids deep enough */
    E.n_books = 0;
    set_book("BTCUSDT", "49975", "50025", "60000", "60000");        /* 50 / 50000 = 10 bps: at the limit */
    expect(&buy, QTR_RISK_APPROVE, "approved");
}

static void reduce_only_close_passes_limits(void **state)
{
    (void)state;
    add_position("BTCUSDT", "0.5", "50000");                        /* far over every limit */
    E.lim.max_order_notional = D("1");
    E.lim.min_confidence = 0.99;
    E.lim.n_symbols = 1;
    qtr_strlcpy(E.lim.symbols[0], "ETHUSDT", QTR_SYMBOL_MAX);
    J.verdict = QTR_RISK_REJECT;
    J.reason = "lua_no";
    qtr_order_intent close = order("BTCUSDT", QTR_SIDE_SELL, "0.5");
    close.reduce_only = true;
    close.confidence = 0;
    expect(&close, QTR_RISK_APPROVE, "reduce_only");
    E.no_policy = true;                                        /* even without a policy */
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
    set_candle("DOGEUSDT", "0.1");
    expect(&o, QTR_RISK_APPROVE, "approved");
}

/* Symbols in use count open orders on symbols without a position, once each. */
static void open_orders_count_as_symbols(void **state)
{
    (void)state;
    E.lim.max_positions = 10;
    E.lim.max_symbols = 3;
    add_position("ETHUSDT", "0.1", "2000");
    for (int i = 0; i < 3; i++) {                                   /* three orders, one symbol */
        qtr_order_update *u = &E.open[E.n_open++];
        memset(u, 0, sizeof *u);
        qtr_strlcpy(u->symbol, "SOLUSDT", sizeof u->symbol);
    }
    qtr_order_update *u = &E.open[E.n_open++];                      /* ETH has a position already */
    memset(u, 0, sizeof *u);
    qtr_strlcpy(u->symbol, "ETHUSDT", sizeof u->symbol);
    qtr_order_intent o = order("BTCUSDT", QTR_SIDE_BUY, "0.01");
    expect(&o, QTR_RISK_APPROVE, "approved");                       /* ETH + SOL + BTC = 3 */
    E.lim.max_symbols = 2;
    expect(&o, QTR_RISK_REJECT, "max_symbols");
    /* An order in a symbol that already has one is no new symbol. */
    o = order("SOLUSDT", QTR_SIDE_BUY, "1");
    set_mark("SOLUSDT", "100", "0");
    expect(&o, QTR_RISK_APPROVE, "approved");
}

/* The real entry point: with no policy loaded every entry is refused. */
static void enforce_without_policy_refuses(void **state)
{
    (void)state;
    qh_policy *p = qh_policy_new(NULL);
    assert_non_null(p);
    qtr_order_intent o = order("BTCUSDT", QTR_SIDE_BUY, "0.01");
    qh_policy_inputs in;
    memset(&in, 0, sizeof in);
    in.exec_price = D("50000");
    qh_policy_verdict v;
    qh_policy_enforce(p, &o, &in, &v);
    assert_int_equal(v.verdict, QTR_RISK_REJECT);
    assert_string_equal(v.reason, "no_policy");
    qh_policy_free(p);
}

/* qh_risk_notional (its own 128-by-64 division) against the plain
 * qtr_dec_mul(|qty|, |price|, QTR_ROUND_UP), QTR_DEC_MAX past it: random
 * magnitudes of every size, both signs, and the edges (0, 1, exact and
 * inexact products, quotients just under and past QTR_DEC_MAX). */
static qtr_dec plain_notional(qtr_dec qty, qtr_dec price)
{
    qtr_dec n;
    if (!qtr_dec_mul(qtr_dec_abs(qty), qtr_dec_abs(price), QTR_ROUND_UP, &n)) return QTR_DEC_MAX;
    return n;
}

static void risk_notional_matches_the_plain_multiply(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 300000; i++) {
        qtr_dec v[2];
        for (int k = 0; k < 2; k++) {
            x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
            uint64_t r = x * 0x2545f4914f6cdd1du;
            v[k] = (qtr_dec)((r >> 1) >> (r % 63));            /* magnitudes of every size */
            if (r & 1) v[k] = -v[k];
        }
        if (qh_risk_notional(v[0], v[1]) != plain_notional(v[0], v[1])) fail_msg("qty %lld price %lld",
            (long long)v[0], (long long)v[1]);
    }
    const qtr_dec edge[] = { 0, 1, 2, 99999999, QTR_DEC_SCALE, QTR_DEC_SCALE + 1, 3037000499, 3037000500,
                             (qtr_dec)30370004999999, (qtr_dec)30370005000000, QTR_DEC_MAX / QTR_DEC_SCALE,
                             QTR_DEC_MAX - 1, QTR_DEC_MAX, QTR_DEC_MIN };
    const size_t n = sizeof edge / sizeof *edge;
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++) {
            assert_int_equal(qh_risk_notional(edge[a], edge[b]), plain_notional(edge[a], edge[b]));
            assert_int_equal(qh_risk_notional(-edge[a], edge[b]), plain_notional(-edge[a], edge[b]));
        }
    assert_int_equal(qh_risk_notional(D("0.00000001"), D("0.5")), 1);    /* 0.000000005: up to 1e-8 */
    assert_int_equal(qh_risk_notional(D("-2"), D("50000")), D("100000"));
    assert_int_equal(qh_risk_notional(QTR_DEC_MAX, D("1.00000001")), QTR_DEC_MAX);
    assert_int_equal(qh_risk_notional(QTR_DEC_MAX, D("1")), QTR_DEC_MAX);
    /* products whose quotient is QTR_DEC_MAX with a remainder: rounded up, past it */
    assert_int_equal(qh_risk_notional((qtr_dec)303700099695218071, 3037000003), QTR_DEC_MAX);
    assert_int_equal(plain_notional((qtr_dec)303700099695218071, 3037000003), QTR_DEC_MAX);
    assert_int_equal(qh_risk_notional(-(qtr_dec)303700098595217715, 3037000014), QTR_DEC_MAX);
    assert_int_equal(qh_risk_notional((qtr_dec)303700099695218071, 3037000002), plain_notional((qtr_dec)303700099695218071, 3037000002));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, NULL)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(approves_within_limits),
        T(no_policy_rejects),
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
        T(open_orders_count_as_symbols),
        T(enforce_without_policy_refuses),
        cmocka_unit_test(risk_notional_matches_the_plain_multiply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
