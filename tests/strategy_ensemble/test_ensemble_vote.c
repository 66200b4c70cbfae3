/* The rule voters (plugins/strategy_common/strategy_votes.c), the
 * ensemble's weighting (plugins/strategy_ensemble/ensemble_vote.c) and its
 * feature rows' warm-up (ensemble_features.c) against values worked out by
 * hand in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "ensemble_features.h"
#include "ensemble_vote.h"
#include "mock_host.h"   /* D() */

#define EPS 1e-12

/* trend: fast 101, slow 100: spread 0.01 -> 0.5 + 50 * 0.01 = 1.0 (capped);
 * fast 99.9, slow 100: spread 0.001 -> 0.55, short; equal: no vote. */
static void test_trend_vote(void **unused)
{
    (void)unused;
    strategy_vote v = strategy_vote_trend(D("101"), D("100"));
    assert_int_equal(v.side, 1);
    assert_true(fabs(v.confidence - 1.0) < EPS);
    v = strategy_vote_trend(D("99.9"), D("100"));
    assert_int_equal(v.side, -1);
    assert_true(fabs(v.confidence - 0.55) < 1e-9);
    v = strategy_vote_trend(D("100"), D("100"));
    assert_int_equal(v.side, 0);
    assert_true(v.confidence == 0.0);
}

/* breakout: channel 11 / 8.5 (width 2.5). close 11.5: long, 0.5 + 0.5 * 0.5 /
 * 2.5 = 0.6. close 8.2: short, 0.5 + 0.5 * 0.3 / 2.5 = 0.56. close 10: none.
 * close 20: 0.5 + 0.5 * 9 / 2.5 > 1 -> 1. flat channel 10 / 10, close 10.1: 1. */
static void test_breakout_vote(void **unused)
{
    (void)unused;
    strategy_vote v = strategy_vote_breakout(D("11.5"), D("11"), D("8.5"));
    assert_int_equal(v.side, 1);
    assert_true(fabs(v.confidence - 0.6) < 1e-9);
    v = strategy_vote_breakout(D("8.2"), D("11"), D("8.5"));
    assert_int_equal(v.side, -1);
    assert_true(fabs(v.confidence - 0.56) < 1e-9);
    v = strategy_vote_breakout(D("10"), D("11"), D("8.5"));
    assert_int_equal(v.side, 0);
    v = strategy_vote_breakout(D("20"), D("11"), D("8.5"));
    assert_true(fabs(v.confidence - 1.0) < EPS);
    v = strategy_vote_breakout(D("10.1"), D("10"), D("10"));
    assert_int_equal(v.side, 1);
    assert_true(fabs(v.confidence - 1.0) < EPS);
}

/* mean reversion, bands 9 / 11, zones 30 / 70. close 8.9, rsi 20: long,
 * 0.5 + 0.5 * 10 / 30 = 0.6666...; close 11.2, rsi 85: short, 0.5 + 0.5 *
 * 15 / 30 = 0.75; close 8.9 with rsi 35: none (RSI not in its zone);
 * close 10, rsi 10: none (inside the bands). */
static void test_mean_reversion_vote(void **unused)
{
    (void)unused;
    qtr_ind_bbands b;
    memset(&b, 0, sizeof b);
    b.lower = 9.0;
    b.upper = 11.0;
    b.middle = 10.0;
    strategy_vote v = strategy_vote_mean_reversion(D("8.9"), &b, 20, 30, 70);
    assert_int_equal(v.side, 1);
    assert_true(fabs(v.confidence - (0.5 + 0.5 * 10.0 / 30.0)) < EPS);
    v = strategy_vote_mean_reversion(D("11.2"), &b, 85, 30, 70);
    assert_int_equal(v.side, -1);
    assert_true(fabs(v.confidence - 0.75) < EPS);
    v = strategy_vote_mean_reversion(D("8.9"), &b, 35, 30, 70);
    assert_int_equal(v.side, 0);
    v = strategy_vote_mean_reversion(D("10"), &b, 10, 30, 70);
    assert_int_equal(v.side, 0);
}

/* the model's vote: p 0.8 -> long 0.6; p 0.25 -> short 0.5; p 0.5 -> none */
static void test_model_vote(void **unused)
{
    (void)unused;
    strategy_vote v = ensemble_model_vote(0.8);
    assert_int_equal(v.side, 1);
    assert_true(fabs(v.confidence - 0.6) < 1e-12);
    v = ensemble_model_vote(0.25);
    assert_int_equal(v.side, -1);
    assert_true(fabs(v.confidence - 0.5) < 1e-12);
    assert_int_equal(ensemble_model_vote(0.5).side, 0);
}

static const double W[ENSEMBLE_N_VOTERS] = { 0.4, 0.2, 0.2, 0.2 };   /* the plugin's defaults */

/* all four: model +0.6, trend +1.0, mean reversion none (0), breakout -0.56:
 * score = (0.4 * 0.6 + 0.2 * 1.0 + 0 - 0.2 * 0.56) / 1.0 = 0.328: long,
 * confidence 0.5 + 0.5 * 0.328 = 0.664. */
static void test_combine_all_voters(void **unused)
{
    (void)unused;
    ensemble_ballot b = { .present = { true, true, true, true },
                          .vote = { { 1, 0.6 }, { 1, 1.0 }, { 0, 0.0 }, { -1, 0.56 } } };
    ensemble_decision d = ensemble_combine(W, &b, 0.2);
    assert_true(d.decided);
    assert_true(fabs(d.score - 0.328) < 1e-12);
    assert_int_equal(d.side, 1);
    assert_true(fabs(d.confidence - 0.664) < 1e-12);
    /* a threshold above |score|: no side, the score is still reported */
    d = ensemble_combine(W, &b, 0.4);
    assert_int_equal(d.side, 0);
    assert_true(fabs(d.score - 0.328) < 1e-12);
}

/* without the model (fallback): the same rule votes over the rules'
 * weights only: (0.2 * 1.0 + 0 - 0.2 * 0.56) / 0.6 = 0.1466...: under 0.2, no
 * side; with threshold 0.1, long at 0.5 + 0.5 * 0.14666 = 0.57333. */
static void test_combine_without_model(void **unused)
{
    (void)unused;
    ensemble_ballot b = { .present = { false, true, true, true },
                          .vote = { { 1, 0.99 }, { 1, 1.0 }, { 0, 0.0 }, { -1, 0.56 } } };
    ensemble_decision d = ensemble_combine(W, &b, 0.2);
    assert_true(d.decided);
    assert_true(fabs(d.score - 0.088 / 0.6) < 1e-12);   /* the absent model's 0.99 is not counted */
    assert_int_equal(d.side, 0);
    d = ensemble_combine(W, &b, 0.1);
    assert_int_equal(d.side, 1);
    assert_true(fabs(d.confidence - (0.5 + 0.5 * 0.088 / 0.6)) < 1e-12);
}

/* a short: only trend present, -0.55 -> score -0.55, confidence 0.775;
 * nobody present, or only zero weights: no decision. */
static void test_combine_short_and_nobody(void **unused)
{
    (void)unused;
    ensemble_ballot b = { .present = { false, true, false, false }, .vote = { { 0, 0 }, { -1, 0.55 } } };
    ensemble_decision d = ensemble_combine(W, &b, 0.2);
    assert_int_equal(d.side, -1);
    assert_true(fabs(d.score + 0.55) < 1e-12);
    assert_true(fabs(d.confidence - 0.775) < 1e-12);
    ensemble_ballot none = { 0 };
    assert_false(ensemble_combine(W, &none, 0.2).decided);
    const double zero[ENSEMBLE_N_VOTERS] = { 0, 0, 0, 0 };
    assert_false(ensemble_combine(zero, &b, 0.2).decided);
}

static qtr_candle flat_candle(int i, const char *high, const char *low, const char *close)
{
    qtr_candle c;
    memset(&c, 0, sizeof c);
    qtr_strlcpy(c.symbol, "XRPUSDT", sizeof c.symbol);
    c.open_time_ms = 1704067200000 + i * 300000;
    c.open = D(close);
    c.high = D(high);
    c.low = D(low);
    c.close = D(close);
    c.volume = D("100");
    return c;
}

/* 33 candles at 2 (high 2.1, low 1.9): no row yet (MACD's 26 + 9 - 1 = 34).
 * The 34th gives the flat market's row: returns, gaps, MACD, z-score 0; RSI 0
 * (no gain, no loss: TA-Lib's 0); the close in the middle of Bollinger
 * (width 0: 0.5) and of Donchian (1.9..2.1: 0.5); ATR 0.2 / 2 = 0.1; ADX and
 * the DI 0 (no directional move); %K (2 - 1.9) / 0.2 = 0.5. VWAP: the
 * typical price (2.1 + 1.9 + 2) / 3 = 2, gap 0. Then a close of 2.2 (high
 * 2.2): ret_1 0.1, Donchian position 1 (the close is the new high). */
static void test_feature_rows(void **unused)
{
    (void)unused;
    ensemble_indicators ind;
    assert_true(ensemble_indicators_init(&ind));
    float f[ENSEMBLE_N_FEATURES];
    for (int i = 1; i < ENSEMBLE_WARMUP; i++) {
        qtr_candle c = flat_candle(i, "2.1", "1.9", "2");
        assert_false(ensemble_indicators_update(&ind, &c, f));
    }
    qtr_candle c = flat_candle(ENSEMBLE_WARMUP, "2.1", "1.9", "2");
    assert_true(ensemble_indicators_update(&ind, &c, f));
    const float want[ENSEMBLE_N_FEATURES] = { 0, 0, 0, 0, 0.5f, 0.1f, 0, 0, 0.5f, 0, 0.5f, 0 };
    for (int i = 0; i < ENSEMBLE_N_FEATURES; i++)
        if (fabsf(f[i] - want[i]) > 1e-6f) fail_msg("%s: %.9g, by hand %.9g", ensemble_feature_names[i], f[i], want[i]);
    c = flat_candle(ENSEMBLE_WARMUP + 1, "2.2", "1.9", "2.2");
    assert_true(ensemble_indicators_update(&ind, &c, f));
    assert_true(fabsf(f[0] - 0.1f) < 1e-6f);    /* ret_1 */
    assert_true(fabsf(f[10] - 1.0f) < 1e-6f);   /* donchian_pos_20 */
    assert_true(f[1] > 0.99f);                  /* rsi_14: only a gain since the flat start: 100 */
    ensemble_indicators_free(&ind);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trend_vote),
        cmocka_unit_test(test_breakout_vote),
        cmocka_unit_test(test_mean_reversion_vote),
        cmocka_unit_test(test_model_vote),
        cmocka_unit_test(test_combine_all_voters),
        cmocka_unit_test(test_combine_without_model),
        cmocka_unit_test(test_combine_short_and_nobody),
        cmocka_unit_test(test_feature_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
