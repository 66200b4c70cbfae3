/*
 * No allocation after init: the test links with --wrap=malloc, calloc and
 * realloc, so every allocation of the library passes through a counter.
 * Init must allocate (the counter works), updates over 100,000 candles must
 * not, for every indicator through the spec layer and the structs alike.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <qtr/indicators.h>
#include <qtr/regime_classifier.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

static size_t g_allocs;

void *__wrap_malloc(size_t n)
{
    g_allocs++;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    g_allocs++;
    return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    g_allocs++;
    return __real_realloc(p, n);
}

static qtr_candle candle(uint64_t i)
{
    qtr_dec p = QTR_DEC_INT(1) + (qtr_dec)((i * 7919) % 100000);
    qtr_candle c = { .open = p, .high = p + 300, .low = p - 200, .close = p, .volume = (qtr_dec)(i % 5) };
    return c;
}

static void no_allocation_after_init(void **state)
{
    (void)state;
    static const char *const specs[] = { "sma:20",  "ema:20",    "wma:20",   "rsi:14",       "atr:14",
                                         "stddev:20", "zscore:20", "vwap:20", "obv",          "bbands:20:2",
                                         "macd:12:26:9", "adx:14", "stoch:14:3:3", "donchian:20" };
    enum { N = sizeof specs / sizeof specs[0] };
    qtr_ind *ind[N];
    char err[256];
    g_allocs = 0;
    for (int i = 0; i < N; i++) assert_non_null(ind[i] = qtr_ind_new(specs[i], err, sizeof err));
    assert_true(g_allocs >= N);   /* the hook sees the library's allocations */
    g_allocs = 0;
    for (uint64_t k = 0; k < 100000; k++) {
        qtr_candle c = candle(k);
        for (int i = 0; i < N; i++) assert_int_not_equal(qtr_ind_update(ind[i], &c), QTR_IND_REFUSED);
    }
    assert_int_equal(g_allocs, 0);
    for (int i = 0; i < N; i++) qtr_ind_free(ind[i]);
}

/* The regime classifier likewise: its window at init, nothing per candle,
 * whatever regime the candles lead to. */
static void regime_classifier_allocates_only_at_init(void **state)
{
    (void)state;
    qtr_regime_params p = QTR_REGIME_PARAMS_DEFAULT;
    p.confirm = 1;
    qtr_regime_classifier rc;
    g_allocs = 0;
    assert_true(qtr_regime_classifier_init(&rc, &p));
    assert_true(g_allocs >= 1);
    g_allocs = 0;
    bool seen[QTR_REGIME__COUNT] = { false };
    for (uint64_t k = 0; k < 100000; k++) {
        qtr_candle c = candle(k);
        assert_int_not_equal(qtr_regime_classifier_update(&rc, &c), QTR_IND_REFUSED);
        seen[rc.regime] = true;
    }
    assert_int_equal(g_allocs, 0);
    assert_true(seen[QTR_REGIME_UNKNOWN] && (seen[QTR_REGIME_RANGE] || seen[QTR_REGIME_VOLATILE]));
    qtr_regime_classifier_free(&rc);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(no_allocation_after_init),
                                        cmocka_unit_test(regime_classifier_allocates_only_at_init) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
