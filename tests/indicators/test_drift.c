/*
 * No drift: after a million candles an indicator with exact sums gives the
 * very value of a fresh one fed only the last window (bit for bit), and the
 * double windows of the stochastic stay within one window's rounding. The
 * inputs swing from 1e-8 to the largest accepted price (2^50 units), so
 * a window's sum passes 2^53 units, where a running double sum would lose
 * the 1e-8 steps in between and never get them back.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <qtr/indicators.h>

#define LONG_RUN 1000000

/* A deterministic, wildly varying price: mostly tiny, now and then huge. */
static qtr_dec price(uint64_t i)
{
    uint64_t h = i * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
    if (h % 2 == 0) return QTR_IND_PRICE_MAX - 7 - (qtr_dec)(h % 100000000);   /* beyond a double's 2^53 once summed */
    return 1 + (qtr_dec)(h % 1000);
}

static qtr_candle candle(uint64_t i)
{
    qtr_dec p = price(i);
    qtr_candle c = { .open = p, .high = p + 7, .low = p > 5 ? p - 5 : p, .close = p, .volume = (qtr_dec)(i % 13) + 1 };
    return c;
}

static void exact_sums_never_drift(void **state)
{
    (void)state;
    enum { N = 20 };
    qtr_ind_sma sma, fresh_sma;
    qtr_ind_stddev sd, fresh_sd;
    qtr_ind_wma wma, fresh_wma;
    qtr_ind_vwap vw, fresh_vw;
    assert_true(qtr_ind_sma_init(&sma, N) && qtr_ind_stddev_init(&sd, N) && qtr_ind_wma_init(&wma, N) &&
                qtr_ind_vwap_init(&vw, N));
    for (uint64_t i = 0; i < LONG_RUN; i++) {
        qtr_candle c = candle(i);
        qtr_ind_sma_update(&sma, c.close);
        qtr_ind_stddev_update(&sd, c.close);
        qtr_ind_wma_update(&wma, c.close);
        qtr_ind_vwap_update(&vw, &c);
    }
    assert_true(qtr_ind_sma_init(&fresh_sma, N) && qtr_ind_stddev_init(&fresh_sd, N) &&
                qtr_ind_wma_init(&fresh_wma, N) && qtr_ind_vwap_init(&fresh_vw, N));
    for (uint64_t i = LONG_RUN - N; i < LONG_RUN; i++) {
        qtr_candle c = candle(i);
        qtr_ind_sma_update(&fresh_sma, c.close);
        qtr_ind_stddev_update(&fresh_sd, c.close);
        qtr_ind_wma_update(&fresh_wma, c.close);
        qtr_ind_vwap_update(&fresh_vw, &c);
    }
    assert_int_equal(sma.value_dec, fresh_sma.value_dec);
    assert_true(sma.value == fresh_sma.value);
    assert_true(sd.value == fresh_sd.value);
    assert_true(sd.zscore == fresh_sd.zscore);
    assert_true(wma.value == fresh_wma.value);
    assert_int_equal(vw.value_dec, fresh_vw.value_dec);
    /* and the window here is the tiny kind the drift would destroy */
    assert_true(sd.value > 0);
    qtr_ind_sma_free(&sma);
    qtr_ind_sma_free(&fresh_sma);
    qtr_ind_stddev_free(&sd);
    qtr_ind_stddev_free(&fresh_sd);
    qtr_ind_wma_free(&wma);
    qtr_ind_wma_free(&fresh_wma);
    qtr_ind_vwap_free(&vw);
    qtr_ind_vwap_free(&fresh_vw);
}

/* The stochastic's double windows are re-summed every period: after a
 * million candles %K and %D agree with a fresh stochastic to 1e-9. */
static void double_windows_are_resummed(void **state)
{
    (void)state;
    qtr_ind_stoch a, b;
    assert_true(qtr_ind_stoch_init(&a, 5, 3, 3));
    for (uint64_t i = 0; i < LONG_RUN; i++) {
        qtr_candle c = candle(i);
        qtr_ind_stoch_update(&a, &c);
    }
    assert_true(qtr_ind_stoch_init(&b, 5, 3, 3));
    for (uint64_t i = LONG_RUN - 9; i < LONG_RUN; i++) {
        qtr_candle c = candle(i);
        qtr_ind_stoch_update(&b, &c);
    }
    assert_float_equal(a.k, b.k, 1e-9);
    assert_float_equal(a.d, b.d, 1e-9);
    qtr_ind_stoch_free(&a);
    qtr_ind_stoch_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_sums_never_drift),
        cmocka_unit_test(double_windows_are_resummed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
