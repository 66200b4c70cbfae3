/* The library's private windows (sdk/indicators/window.h): the double ring
 * re-sums itself so a rounding loss cannot outlive its window, and the
 * monotonic deque gives the window's extreme; the 128-bit integer to double
 * conversion, the standard deviation and the regime's return give what the
 * plain 128-bit code gave, bit for bit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "window.h"

/* 1e16 + 1 rounds to 1e16 in a double: a running sum that later removes
 * the 1e16 has lost the 1 for good. The re-sum brings it back within one
 * window. */
static void dring_resum_repairs_rounding(void **state)
{
    (void)state;
    qtr_ind_dring r;
    assert_true(qtr_ind__dring_init(&r, 2));
    qtr_ind__dring_push(&r, 1e16);
    for (int i = 0; i < 10; i++) qtr_ind__dring_push(&r, 1.0);
    assert_true(qtr_ind__dring_full(&r));
    assert_true(qtr_ind__dring_mean(&r) == 1.0);
    qtr_ind__dring_free(&r);
}

/* The deque's maximum and minimum against a scan of the window. */
static void extreme_matches_scan(void **state)
{
    (void)state;
    enum { P = 7, N = 5000 };
    static qtr_dec xs[N];
    uint64_t h = 12345;
    qtr_ind_extreme mx, mn;
    assert_true(qtr_ind__extreme_init(&mx, P, true) && qtr_ind__extreme_init(&mn, P, false));
    for (int i = 0; i < N; i++) {
        h = h * 6364136223846793005ull + 1442695040888963407ull;
        xs[i] = (qtr_dec)(h >> 58);   /* 0..63: many ties */
        qtr_ind__extreme_push(&mx, xs[i]);
        qtr_ind__extreme_push(&mn, xs[i]);
        int from = i + 1 >= P ? i + 1 - P : 0;
        qtr_dec hi = xs[from], lo = xs[from];
        for (int k = from; k <= i; k++) {
            if (xs[k] > hi) hi = xs[k];
            if (xs[k] < lo) lo = xs[k];
        }
        assert_int_equal(qtr_ind__extreme_get(&mx), hi);
        assert_int_equal(qtr_ind__extreme_get(&mn), lo);
    }
    qtr_ind__extreme_free(&mx);
    qtr_ind__extreme_free(&mn);
}

static uint64_t g_rng = 50;

static uint64_t rnd64(void)
{
    g_rng = g_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return g_rng;
}

static bool same_double(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* qtr_ind__i128_to_double gives (double)x bit for bit: random integers of
 * every width from 0 to 126 bits, both signs, and the edges of int64. */
static void i128_to_double_is_the_plain_conversion(void **state)
{
    (void)state;
    const qtr__i128 edges[] = { 0, 1, -1, INT64_MAX, INT64_MIN, (qtr__i128)INT64_MAX + 1, (qtr__i128)INT64_MIN - 1,
                                ((qtr__i128)1 << 53) + 1, -(((qtr__i128)1 << 53) + 1), ((qtr__i128)1 << 63) + 1025,
                                ((qtr__i128)1 << 100) + 1, -(((qtr__i128)1 << 126) - 1) };
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        assert_true(same_double(qtr_ind__i128_to_double(edges[i]), (double)edges[i]));
    for (int i = 0; i < 200000; i++) {
        int bits = (int)(rnd64() % 127);
        /* built unsigned: a signed shift of the high half past bit 127 is undefined */
        qtr__i128 x = (qtr__i128)(((qtr__u128)rnd64() << 64 | rnd64()) & ((((qtr__u128)1) << bits) - 1));
        if (rnd64() & 1) x = -x;
        if (!same_double(qtr_ind__i128_to_double(x), (double)x)) fail_msg("differs at %d bits", bits);
    }
}

/* The standard deviation as it was computed before the 64-bit shortcuts,
 * every step in 128 bits: the library must give the same doubles. */
static void former_stddev(qtr__i128 sum, qtr__i128 sum_sq, int period, qtr_dec x, double *mean, double *value,
                          double *zscore)
{
    qtr__i128 n = period, q = sum / n, r = sum % n;
    qtr__i128 m = sum_sq - n * q * q - 2 * q * r;
    double var = (double)m / (double)n - ((double)r * (double)r) / ((double)n * (double)n);
    double sd_units = var > 0 ? sqrt(var) : 0.0;
    *mean = ((double)sum / (double)QTR_DEC_SCALE) / period;
    *value = sd_units / (double)QTR_DEC_SCALE;
    *zscore = sd_units > 0 ? (double)(n * x - sum) / (double)n / sd_units : 0.0;
}

static void stddev_is_the_former_formula(void **state)
{
    (void)state;
    size_t ready = 0;
    for (int run = 0; run < 60; run++) {
        int period = 1 + (int)(rnd64() % (run % 3 == 0 ? 5000 : 60));
        int mag = 1 + (int)(rnd64() % 50);   /* |x| below 2^mag, up to the price bound 2^50 */
        qtr_ind_stddev s;
        assert_true(qtr_ind_stddev_init(&s, period));
        for (int i = 0; i < period + 300; i++) {
            qtr_dec x = (qtr_dec)(rnd64() % ((uint64_t)1 << mag));
            if (rnd64() % 3 == 0) x = -x;
            if (rnd64() % 50 == 0) x = rnd64() & 1 ? QTR_IND_PRICE_MAX : -QTR_IND_PRICE_MAX;
            if (qtr_ind_stddev_update(&s, x) != QTR_IND_READY) continue;
            ready++;
            double mean, value, zscore;
            former_stddev(s.sum, s.sum_sq, period, x, &mean, &value, &zscore);
            if (!same_double(mean, s.mean) || !same_double(value, s.value) || !same_double(zscore, s.zscore))
                fail_msg("period %d, x %lld: %.17g %.17g %.17g, before %.17g %.17g %.17g", period, (long long)x, s.mean,
                         s.value, s.zscore, mean, value, zscore);
        }
        qtr_ind_stddev_free(&s);
    }
    assert_true(ready > 10000);
}

/* qtr_ind__simple_return is the 128-bit (close - prev) * 1e8 / prev,
 * truncated, clamped to +-2^50: closes at 1 unit and at 2^50, moves either
 * side of the edge where the product leaves int64 (92233720368 units from
 * a close of 1 or 2, both ways), returns at and either side of the clamp
 * (2^49 + j from 0.5), and random closes of every width. */
static qtr_dec simple_return_128(qtr_dec close, qtr_dec prev)
{
    qtr__i128 r = (qtr__i128)(close - prev) * QTR_DEC_SCALE / prev;
    return (qtr_dec)(r > QTR_IND_PRICE_MAX ? QTR_IND_PRICE_MAX : r < -QTR_IND_PRICE_MAX ? -QTR_IND_PRICE_MAX : r);
}

static void simple_return_is_the_128_bit_quotient_clamped(void **state)
{
    (void)state;
    const qtr_dec top = QTR_IND_PRICE_MAX, half = QTR_DEC_SCALE / 2, at_clamp = half + ((qtr_dec)1 << 49);
    const qtr_dec edges[][2] = { { 1, 1 }, { top, 1 }, { 1, top }, { top, top }, { top - 1, top },
                                 { 92233720369, 1 }, { 92233720370, 1 }, { 92233720371, 2 }, { 92233720370, 2 },
                                 { 1, 92233720369 }, { 1, 92233720370 }, { 2, 92233720370 }, { 2, 92233720371 },
                                 { at_clamp - 1, half }, { at_clamp, half }, { at_clamp + 1, half }, { half, at_clamp } };
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        assert_int_equal(qtr_ind__simple_return(edges[i][0], edges[i][1]), simple_return_128(edges[i][0], edges[i][1]));
    for (int i = 0; i < 300000; i++) {
        qtr_dec v[2];
        for (int k = 0; k < 2; k++) {
            int bits = 1 + (int)(rnd64() % 50);
            v[k] = 1 + (qtr_dec)(rnd64() & (((uint64_t)1 << bits) - 1));
        }
        if (qtr_ind__simple_return(v[0], v[1]) != simple_return_128(v[0], v[1]))
            fail_msg("return of %lld from %lld", (long long)v[0], (long long)v[1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dring_resum_repairs_rounding),
        cmocka_unit_test(extreme_matches_scan),
        cmocka_unit_test(i128_to_double_is_the_plain_conversion),
        cmocka_unit_test(stddev_is_the_former_formula),
        cmocka_unit_test(simple_return_is_the_128_bit_quotient_clamped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
