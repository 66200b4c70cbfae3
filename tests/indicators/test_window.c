/* The library's private windows (sdk/indicators/window.h): the double ring
 * re-sums itself so a rounding loss cannot outlive its window, and the
 * monotonic deque gives the window's extreme. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dring_resum_repairs_rounding),
        cmocka_unit_test(extreme_matches_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
