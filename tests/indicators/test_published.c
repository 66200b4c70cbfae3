/* Published worked examples, and the edges of each indicator's contract. */
#include <setjmp.h>
#include <stdarg.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <qtr/indicators.h>

static qtr_dec dec(double v) { return (qtr_dec)(v * 1e8 + (v < 0 ? -0.5 : 0.5)); }

static qtr_candle hlc(double h, double l, double c)
{
    qtr_candle k = { .high = dec(h), .low = dec(l), .close = dec(c), .open = dec(c), .volume = dec(1) };
    return k;
}

/* Wilder's RSI on the closes of StockCharts' ChartSchool RSI example (the
 * classic 14-day table). The expected values are the exact Wilder/TA-Lib
 * computation at 2 decimals (70.46 first), as other independent libraries
 * publish it; StockCharts' own sheet shows 70.53 because it rounds its
 * intermediate averages. Tolerance 0.005: the published rounding. */
static void rsi_wilder_stockcharts(void **state)
{
    (void)state;
    static const double close[] = { 44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08, 45.89,
                                    46.03, 45.61, 46.28, 46.28, 46.00, 46.03, 46.41, 46.22, 45.64, 46.21, 46.25,
                                    45.71, 46.45, 45.78, 45.35, 44.03, 44.18, 44.22, 44.57, 43.42, 42.66, 43.13 };
    static const double want[] = { 70.46, 66.25, 66.48, 69.35, 66.29, 57.92, 62.88, 63.21, 56.01, 62.34,
                                   54.67, 50.39, 40.02, 41.49, 41.90, 45.50, 37.32, 33.09, 37.79 };
    qtr_ind_rsi r;
    assert_true(qtr_ind_rsi_init(&r, 14));
    for (size_t i = 0; i < sizeof close / sizeof close[0]; i++) {
        qtr_ind_status st = qtr_ind_rsi_update(&r, dec(close[i]));
        if (i < 14) {   /* warm-up 15: 14 changes need 15 closes */
            assert_int_equal(st, QTR_IND_WARMUP);
            continue;
        }
        assert_int_equal(st, QTR_IND_READY);
        assert_float_equal(r.value, want[i - 14], 0.005);
    }
    qtr_ind_rsi_free(&r);
}

/* StockCharts' ChartSchool ATR example: QQQQ, 2010-04-01 to 2010-05-13,
 * published ATR(14) 0.55 (2010-04-21) ... 1.32 (2010-05-13), as reproduced
 * in CJ Hare's systematic-trading tests. StockCharts takes day 1's high -
 * low as its first true range; TA-Lib (and we) give day 1 none. A leading
 * candle whose close lies within day 1's range makes day 1's true range its
 * high - low, so our ATR from there on must equal the published values. */
static void atr_wilder_stockcharts(void **state)
{
    (void)state;
    static const double h[] = { 48.70, 48.72, 48.90, 48.87, 48.82, 49.05, 49.20, 49.35, 49.92, 50.19,
                                50.12, 49.66, 49.88, 50.19, 50.36, 50.57, 50.65, 50.43, 49.63, 50.33,
                                50.29, 50.17, 49.32, 48.50, 48.32, 46.80, 47.80, 48.39, 48.66, 48.79 };
    static const double l[] = { 47.79, 48.14, 48.39, 48.37, 48.24, 48.64, 48.94, 48.86, 49.50, 49.87,
                                49.20, 48.90, 49.43, 49.73, 49.26, 50.09, 50.30, 49.21, 48.98, 49.61,
                                49.20, 49.43, 48.08, 47.64, 41.55, 44.28, 47.31, 47.20, 47.90, 47.73 };
    static const double c[] = { 48.16, 48.61, 48.75, 48.63, 48.74, 49.03, 49.07, 49.32, 49.91, 50.13,
                                49.53, 49.50, 49.75, 50.03, 50.31, 50.52, 50.41, 49.43, 49.37, 50.23,
                                49.24, 49.93, 48.43, 48.18, 46.57, 45.41, 47.77, 47.72, 48.62, 47.85 };
    static const double want[] = { 0.55, 0.59, 0.59, 0.57, 0.61, 0.62, 0.64, 0.67, 0.69,
                                   0.77, 0.78, 1.21, 1.30, 1.38, 1.37, 1.34, 1.32 };
    qtr_ind_atr a;
    assert_true(qtr_ind_atr_init(&a, 14));
    qtr_candle lead = hlc(48.16, 48.16, 48.16);
    assert_int_equal(qtr_ind_atr_update(&a, &lead), QTR_IND_WARMUP);
    for (size_t i = 0; i < 30; i++) {
        qtr_candle k = hlc(h[i], l[i], c[i]);
        qtr_ind_status st = qtr_ind_atr_update(&a, &k);
        if (i < 13) {
            assert_int_equal(st, QTR_IND_WARMUP);
            continue;
        }
        assert_int_equal(st, QTR_IND_READY);
        assert_float_equal(a.value, want[i - 13], 0.005);
    }
    qtr_ind_atr_free(&a);
}

/* Without the leading candle the first ATR is TA-Lib's: the mean of the true
 * ranges of days 2..15 (0.5679 on this data), one candle later. */
static void atr_talib_seed(void **state)
{
    (void)state;
    static const double h[] = { 48.70, 48.72, 48.90, 48.87, 48.82, 49.05, 49.20, 49.35, 49.92, 50.19, 50.12, 49.66,
                                49.88, 50.19, 50.36 };
    static const double l[] = { 47.79, 48.14, 48.39, 48.37, 48.24, 48.64, 48.94, 48.86, 49.50, 49.87, 49.20, 48.90,
                                49.43, 49.73, 49.26 };
    static const double c[] = { 48.16, 48.61, 48.75, 48.63, 48.74, 49.03, 49.07, 49.32, 49.91, 50.13, 49.53, 49.50,
                                49.75, 50.03, 50.31 };
    qtr_ind_atr a;
    assert_true(qtr_ind_atr_init(&a, 14));
    double sum = 0;
    for (int i = 0; i < 15; i++) {
        qtr_candle k = hlc(h[i], l[i], c[i]);
        qtr_ind_status st = qtr_ind_atr_update(&a, &k);
        assert_int_equal(st, i < 14 ? QTR_IND_WARMUP : QTR_IND_READY);
        if (i > 0) {
            double tr = h[i] - l[i];
            if (h[i] - c[i - 1] > tr) tr = h[i] - c[i - 1];
            if (c[i - 1] - l[i] > tr) tr = c[i - 1] - l[i];
            sum += tr;
        }
    }
    assert_float_equal(a.value, sum / 14, 1e-12);
    assert_float_equal(a.value, 0.5679, 0.00005);
}

/* Textbook cases with exact answers. */
static void exact_small_cases(void **state)
{
    (void)state;
    /* WMA(3) of 1, 2, 3 = (1 + 4 + 9) / 6; then of 2, 3, 4 = (2 + 6 + 12) / 6 */
    qtr_ind_wma w;
    assert_true(qtr_ind_wma_init(&w, 3));
    assert_int_equal(qtr_ind_wma_update(&w, QTR_DEC_INT(1)), QTR_IND_WARMUP);
    assert_int_equal(qtr_ind_wma_update(&w, QTR_DEC_INT(2)), QTR_IND_WARMUP);
    assert_int_equal(qtr_ind_wma_update(&w, QTR_DEC_INT(3)), QTR_IND_READY);
    assert_float_equal(w.value, 14.0 / 6.0, 1e-15);
    assert_int_equal(qtr_ind_wma_update(&w, QTR_DEC_INT(4)), QTR_IND_READY);
    assert_float_equal(w.value, 20.0 / 6.0, 1e-15);
    qtr_ind_wma_free(&w);

    /* population stddev of 2, 4, 4, 4, 5, 5, 7, 9 is exactly 2; mean 5 */
    static const int xs[] = { 2, 4, 4, 4, 5, 5, 7, 9 };
    qtr_ind_stddev s;
    assert_true(qtr_ind_stddev_init(&s, 8));
    for (int i = 0; i < 8; i++) qtr_ind_stddev_update(&s, QTR_DEC_INT(xs[i]));
    assert_float_equal(s.value, 2.0, 1e-15);
    assert_float_equal(s.mean, 5.0, 1e-15);
    assert_float_equal(s.zscore, 2.0, 1e-15);   /* (9 - 5) / 2 */
    qtr_ind_stddev_free(&s);

    /* a tiny spread on a huge level: 10,000,000.00000001 and .00000003 have
     * a population deviation of exactly 1e-8, which S2/n - mean^2 in
     * doubles (1e30 - 1e30) cannot see */
    assert_true(qtr_ind_stddev_init(&s, 2));
    qtr_ind_stddev_update(&s, QTR_DEC_INT(10000000) + 1);
    assert_int_equal(qtr_ind_stddev_update(&s, QTR_DEC_INT(10000000) + 3), QTR_IND_READY);
    assert_float_equal(s.value, 1e-8, 1e-22);
    assert_float_equal(s.zscore, 1.0, 1e-15);
    qtr_ind_stddev_free(&s);

    /* EMA(3) seeded with SMA(1, 2, 3) = 2, then 2 + 0.5 * (6 - 2) = 4 */
    qtr_ind_ema e;
    assert_true(qtr_ind_ema_init(&e, 3));
    qtr_ind_ema_update(&e, QTR_DEC_INT(1));
    qtr_ind_ema_update(&e, QTR_DEC_INT(2));
    assert_int_equal(qtr_ind_ema_update(&e, QTR_DEC_INT(3)), QTR_IND_READY);
    assert_float_equal(e.value, 2.0, 0);
    qtr_ind_ema_update(&e, QTR_DEC_INT(6));
    assert_float_equal(e.value, 4.0, 0);

    /* SMA of 1, 2 rounded half-even to 1e-8: 1.5 exactly; of 0.00000001 and 0: 0 */
    qtr_ind_sma m;
    assert_true(qtr_ind_sma_init(&m, 2));
    qtr_ind_sma_update(&m, 0);
    assert_int_equal(qtr_ind_sma_update(&m, 1), QTR_IND_READY);
    assert_int_equal(m.value_dec, 0);   /* 0.5 unit rounds to even */
    qtr_ind_sma_update(&m, 2);
    assert_int_equal(m.value_dec, 2);   /* 1.5 units rounds to 2 */
    qtr_ind_sma_free(&m);
}

/* A flat range gives stochastic 0 (TA-Lib), a window without volume no
 * VWAP, and OBV follows the close. */
static void degenerate_inputs(void **state)
{
    (void)state;
    qtr_ind_stoch st;
    assert_true(qtr_ind_stoch_init(&st, 3, 1, 1));
    qtr_candle flat = hlc(1, 1, 1);
    for (int i = 0; i < 3; i++) qtr_ind_stoch_update(&st, &flat);
    assert_true(st.k_ready);
    assert_float_equal(st.k, 0.0, 0);
    qtr_ind_stoch_free(&st);

    qtr_ind_vwap v;
    assert_true(qtr_ind_vwap_init(&v, 2));
    qtr_candle novol = hlc(3, 1, 2);
    novol.volume = 0;
    assert_int_equal(qtr_ind_vwap_update(&v, &novol), QTR_IND_WARMUP);
    assert_int_equal(qtr_ind_vwap_update(&v, &novol), QTR_IND_WARMUP);   /* full, but no volume */
    qtr_candle some = hlc(4, 1, 1);   /* typical 2 */
    some.volume = QTR_DEC_INT(3);
    assert_int_equal(qtr_ind_vwap_update(&v, &some), QTR_IND_READY);
    assert_int_equal(v.value_dec, QTR_DEC_INT(2));
    qtr_ind_vwap_free(&v);

    qtr_ind_obv o;
    qtr_ind_obv_init(&o);
    qtr_candle k1 = hlc(1, 1, 1), k2 = hlc(2, 2, 2), k3 = hlc(2, 2, 2), k4 = hlc(1, 1, 1);
    k1.volume = QTR_DEC_INT(5);
    k2.volume = QTR_DEC_INT(2);
    k3.volume = QTR_DEC_INT(7);
    k4.volume = QTR_DEC_INT(1);
    qtr_ind_obv_update(&o, &k1);
    assert_float_equal(o.value, 5, 0);   /* TA-Lib starts at the first volume */
    qtr_ind_obv_update(&o, &k2);
    qtr_ind_obv_update(&o, &k3);         /* unchanged close: unchanged OBV */
    qtr_ind_obv_update(&o, &k4);
    assert_float_equal(o.value, 6, 0);   /* 5 + 2 - 1 */
}

/* Out-of-range input is refused and changes nothing; bad parameters fail init. */
static void refusals(void **state)
{
    (void)state;
    qtr_ind_sma m;
    assert_true(qtr_ind_sma_init(&m, 2));
    assert_int_equal(qtr_ind_sma_update(&m, QTR_IND_PRICE_MAX + 1), QTR_IND_REFUSED);
    assert_int_equal(m.w.len, 0);
    qtr_ind_sma_free(&m);
    qtr_ind_sma_free(&m);   /* twice is safe */
    qtr_ind_atr a;
    assert_true(qtr_ind_atr_init(&a, 2));
    qtr_candle neg = hlc(1, 1, 1);
    neg.volume = -1;
    assert_int_equal(qtr_ind_atr_update(&a, &neg), QTR_IND_REFUSED);
    assert_int_equal(a.ranges, -1);
    /* the public updates keep the checks their unchecked steps (the regime
     * classifier's, which checks each candle once itself) leave out */
    qtr_ind_adx x;
    assert_true(qtr_ind_adx_init(&x, 2));
    qtr_candle high = hlc(1, 1, 1);
    high.high = QTR_IND_PRICE_MAX + 1;
    assert_int_equal(qtr_ind_adx_update(&x, &high), QTR_IND_REFUSED);
    assert_int_equal(qtr_ind_adx_update(&x, &neg), QTR_IND_REFUSED);
    assert_int_equal(x.count, 0);
    qtr_ind_stddev sd;
    assert_true(qtr_ind_stddev_init(&sd, 2));
    assert_int_equal(qtr_ind_stddev_update(&sd, -QTR_IND_PRICE_MAX - 1), QTR_IND_REFUSED);
    assert_int_equal(sd.w.len, 0);
    qtr_ind_stddev_free(&sd);
    assert_false(qtr_ind_sma_init(&m, 0));
    qtr_ind_sma_free(&m);
    assert_false(qtr_ind_ema_init(&(qtr_ind_ema){ 0 }, QTR_IND_PERIOD_MAX + 1));
    assert_false(qtr_ind_adx_init(&(qtr_ind_adx){ 0 }, 1));
    qtr_ind_macd md;
    assert_false(qtr_ind_macd_init(&md, 1, 26, 9));
    qtr_ind_macd_free(&md);
}

/* The rolling standard deviation at the library's bounds (the longest
 * window, every value at +-QTR_IND_PRICE_MAX but one a unit nearer zero):
 * the exact integer variance behind it, whose products n q and q r are
 * taken in 64 bits, stays exact. Mean M - 1/n, population variance
 * (n - 1) / n^2 units^2. */
static void stddev_at_the_bounds(void **state)
{
    (void)state;
    for (int sign = -1; sign <= 1; sign += 2) {
        qtr_ind_stddev sd;
        const int n = QTR_IND_PERIOD_MAX;
        assert_true(qtr_ind_stddev_init(&sd, n));
        qtr_ind_status st = QTR_IND_WARMUP;
        for (int i = 0; i < n; i++) {
            qtr_dec x = sign * (QTR_IND_PRICE_MAX - (i == 7 ? 1 : 0));
            st = qtr_ind_stddev_update(&sd, x);
        }
        assert_int_equal(st, QTR_IND_READY);
        double want = sqrt((double)(n - 1) / ((double)n * n)) / 1e8;
        assert_true(fabs(sd.value - want) <= want * 1e-9);
        qtr_ind_stddev_free(&sd);
    }
}

/* The spec layer: names, arity and ranges refused with a clear message. */
static void specs(void **state)
{
    (void)state;
    static const struct { const char *spec, *err; } bad[] = {
        { "rsx:14", "unknown indicator 'rsx'" },
        { "rsi", "rsi needs 1 parameter (rsi:N), got 0" },
        { "rsi:14:2", "rsi needs 1 parameter (rsi:N), got 2" },
        { "macd:12:26", "macd needs 3 parameters (macd:FAST:SLOW:SIGNAL), got 2" },
        { "obv:3", "obv needs 0 parameters (obv), got 1" },
        { "ema:0", "ema: period '0' is not a whole number in 1..5000" },
        { "ema:-5", "ema: period '-5' is not a whole number in 1..5000" },
        { "ema:5001", "ema: period '5001' is not a whole number in 1..5000" },
        { "ema:99999999999999999999", "ema: period '99999999999999999999' is not" },
        { "ema:1e3", "ema: period '1e3' is not" },
        { "ema:", "ema: period '' is not" },
        { "adx:1", "adx: period '1' is not a whole number in 2..5000" },
        { "bbands:20:2.555", "bbands: multiplier '2.555' is not a number" },
        { "bbands:20:-2", "bbands: multiplier '-2' is not a number" },
        { "ema:00000000000000000000000000000014", "is longer than 32 characters" },
    };
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_null(qtr_ind_new(bad[i].spec, err, sizeof err));
        if (!strstr(err, bad[i].err)) fail_msg("%s: got '%s', want '%s'", bad[i].spec, err, bad[i].err);
    }
    qtr_ind *ind = qtr_ind_new("bbands:20:2.5", err, sizeof err);
    assert_non_null(ind);
    assert_int_equal(qtr_ind_outputs(ind), 3);
    assert_string_equal(qtr_ind_output_name(ind, 0), "bbands_20_2_5_upper");
    assert_string_equal(qtr_ind_output_name(ind, 2), "bbands_20_2_5_lower");
    assert_null(qtr_ind_output_name(ind, 3));
    qtr_ind_free(ind);
    ind = qtr_ind_new("adx:14", err, sizeof err);
    assert_string_equal(qtr_ind_output_name(ind, 0), "adx_14");
    assert_string_equal(qtr_ind_output_name(ind, 1), "adx_14_plus_di");
    qtr_ind_free(ind);
    ind = qtr_ind_new("macd:26:12:9", err, sizeof err);   /* fast and slow swapped, as TA-Lib */
    assert_non_null(ind);
    assert_string_equal(qtr_ind_output_name(ind, 2), "macd_26_12_9_hist");
    qtr_ind_free(ind);
    /* named from the parsed values, not the text: one spelling, one name,
     * so `qtr indicators` sees sma:03 and sma:3 as the same indicator */
    static const struct { const char *spec, *name; } same[] = {
        { "sma:03", "sma_3" },           { "bbands:20:2.0", "bbands_20_2_upper" },
        { "bbands:020:2.00", "bbands_20_2_upper" }, { "bbands:20:2.50", "bbands_20_2_5_upper" },
        { "bbands:20:0.05", "bbands_20_0_05_upper" }, { "macd:012:26:09", "macd_12_26_9_line" },
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        ind = qtr_ind_new(same[i].spec, err, sizeof err);
        assert_non_null(ind);
        if (strcmp(qtr_ind_output_name(ind, 0), same[i].name) != 0)
            fail_msg("%s: named '%s', want '%s'", same[i].spec, qtr_ind_output_name(ind, 0), same[i].name);
        qtr_ind_free(ind);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rsi_wilder_stockcharts), cmocka_unit_test(atr_wilder_stockcharts),
        cmocka_unit_test(atr_talib_seed),         cmocka_unit_test(exact_small_cases),
        cmocka_unit_test(degenerate_inputs),      cmocka_unit_test(refusals),
        cmocka_unit_test(specs),                  cmocka_unit_test(stddev_at_the_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
