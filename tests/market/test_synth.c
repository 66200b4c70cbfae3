/* The synthetic market: determinism, candle consistency, regimes, clustering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "market/candles.h"

static const char *const SYMBOLS[] = { "BTCUSDT", "XRPUSDT" };

static qh_synth *make(uint64_t seed, const qtr_dec *prices)
{
    qh_synth_config cfg = { .seed = seed, .start_ms = 1700000000000, .interval_ms = 60000,
                            .n_symbols = 2, .symbols = SYMBOLS, .start_prices = prices };
    qh_synth *s = qh_synth_new(&cfg);
    assert_non_null(s);
    return s;
}

static void same_seed_same_candles(void **state)
{
    (void)state;
    qh_synth *a = make(42, NULL), *b = make(42, NULL), *c = make(43, NULL);
    size_t differ = 0;
    for (int i = 0; i < 20000; i++) {
        qtr_candle x, y, z;
        qh_synth_next(a, &x);
        qh_synth_next(b, &y);
        qh_synth_next(c, &z);
        assert_memory_equal(&x, &y, sizeof x);
        differ += memcmp(&x, &z, sizeof x) != 0;
    }
    assert_true(differ > 19000);   /* another seed is another market */
    qh_synth_free(a);
    qh_synth_free(b);
    qh_synth_free(c);
}

static void candles_are_consistent(void **state)
{
    (void)state;
    /* one ordinary price and one tiny one, to exercise the floor */
    const qtr_dec prices[2] = { QTR_DEC_INT(30000), 1000 };
    qh_synth *s = make(7, prices);
    qtr_dec prev_close[2] = { prices[0], prices[1] };
    for (int i = 0; i < 100000; i++) {
        qtr_candle c;
        qh_synth_next(s, &c);
        size_t k = (size_t)(i % 2);
        assert_string_equal(c.symbol, SYMBOLS[k]);
        assert_int_equal(c.open_time_ms, 1700000000000 + (int64_t)(i / 2) * 60000);
        assert_int_equal(c.close_time_ms, c.open_time_ms + 59999);
        assert_true(c.low > 0);
        assert_true(c.low <= c.open && c.open <= c.high);
        assert_true(c.low <= c.close && c.close <= c.high);
        assert_true(c.volume >= 0);
        assert_int_equal(c.open, prev_close[k]);   /* no gaps between candles */
        prev_close[k] = c.close;
    }
    qh_synth_free(s);
}

static void visits_every_regime(void **state)
{
    (void)state;
    qh_synth *s = make(1, NULL);
    size_t seen[3] = { 0 }, switches = 0;
    qh_regime prev = qh_synth_regime_code(s, 0);
    for (int i = 0; i < 100000; i++) {
        qtr_candle c;
        qh_synth_next(s, &c);
        qh_regime r = qh_synth_regime_code(s, 0);
        seen[r]++;
        switches += r != prev;
        prev = r;
        const char *name = qh_synth_regime(s, 0);
        assert_true(strcmp(name, "trending") == 0 || strcmp(name, "ranging") == 0 || strcmp(name, "volatile") == 0);
    }
    for (int r = 0; r < 3; r++) assert_true(seen[r] > 1000);
    /* regimes persist: far fewer switches than candles, yet many of them */
    assert_true(switches > 20 && switches < 5000);
    assert_string_equal(qh_synth_regime(s, 99), "unknown");
    qh_synth_free(s);
}

static double corr(const double *x, const double *y, size_t n)
{
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxy / sqrt(sxx * syy);
}

/* Statistics in double: they describe the market, they are not money. */
static void volatility_clusters_and_drives_volume(void **state)
{
    (void)state;
    const qtr_dec prices[2] = { QTR_DEC_INT(100), QTR_DEC_INT(100) };
    qh_synth *s = make(2024, prices);
    enum { N = 50000 };
    double *absr = calloc(N, sizeof *absr), *vol = calloc(N, sizeof *vol);
    assert_non_null(absr);
    assert_non_null(vol);
    double sum_abs[3] = { 0 };
    size_t count[3] = { 0 };
    qh_regime *regime = calloc(N, sizeof *regime);
    assert_non_null(regime);
    for (int i = 0; i < N; i++) {
        qtr_candle c, other;
        qh_regime r = qh_synth_regime_code(s, 0);
        qh_synth_next(s, &c);
        qh_synth_next(s, &other);
        absr[i] = fabs(log(qtr_dec_to_display_double(c.close) / qtr_dec_to_display_double(c.open)));
        vol[i] = qtr_dec_to_display_double(c.volume);
        regime[i] = r;
        sum_abs[r] += absr[i];
        count[r]++;
    }
    double acf1 = corr(absr, absr + 1, N - 1);
    double acf10 = corr(absr, absr + 10, N - 10);
    print_message("acf(|r|) lag 1 %.3f lag 10 %.3f, corr(volume,|r|) %.3f\n", acf1, acf10, corr(vol, absr, N));
    assert_true(acf1 > 0.1);
    /* clustering inside one regime too (the GARCH part, not only regime shifts) */
    double *x = calloc(N, sizeof *x), *y = calloc(N, sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    size_t m = 0;
    for (int i = 0; i + 1 < N; i++)
        if (regime[i] == QH_REGIME_RANGING && regime[i + 1] == QH_REGIME_RANGING) {
            x[m] = absr[i];
            y[m] = absr[i + 1];
            m++;
        }
    assert_true(m > 1000);
    double acf_within = corr(x, y, m);
    print_message("acf(|r|) lag 1 within the ranging regime %.3f over %zu pairs\n", acf_within, m);
    assert_true(acf_within > 0.1);
    free(x);
    free(y);
    free(regime);
    assert_true(acf10 > 0.05);
    assert_true(corr(vol, absr, N) > 0.2);
    for (int r = 0; r < 3; r++) assert_true(count[r] > 0);
    double mean_volatile = sum_abs[QH_REGIME_VOLATILE] / (double)count[QH_REGIME_VOLATILE];
    double mean_ranging = sum_abs[QH_REGIME_RANGING] / (double)count[QH_REGIME_RANGING];
    assert_true(mean_volatile > 2 * mean_ranging);
    free(absr);
    free(vol);
    qh_synth_free(s);
}

static void refuses_bad_config(void **state)
{
    (void)state;
    const qtr_dec bad_price[2] = { QTR_DEC_INT(1), 0 };
    const char *const null_symbol[] = { "A", NULL };
    qh_synth_config cfg = { .seed = 1, .interval_ms = 60000, .n_symbols = 2, .symbols = SYMBOLS };
    assert_null(qh_synth_new(NULL));
    cfg.n_symbols = 0;
    assert_null(qh_synth_new(&cfg));
    cfg.n_symbols = 2;
    cfg.interval_ms = 0;
    assert_null(qh_synth_new(&cfg));
    cfg.interval_ms = 60000;
    cfg.start_prices = bad_price;
    assert_null(qh_synth_new(&cfg));
    cfg.start_prices = NULL;
    cfg.symbols = null_symbol;
    assert_null(qh_synth_new(&cfg));
    cfg.symbols = SYMBOLS;
    qh_synth *ok = qh_synth_new(&cfg);
    assert_non_null(ok);
    qh_synth_free(ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_seed_same_candles),
        cmocka_unit_test(candles_are_consistent),
        cmocka_unit_test(visits_every_regime),
        cmocka_unit_test(volatility_clusters_and_drives_volume),
        cmocka_unit_test(refuses_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
