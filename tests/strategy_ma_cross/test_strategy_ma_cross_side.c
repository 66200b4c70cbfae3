/* ma_cross's per-candle decision (ma_side() in plugins/strategy_ma_cross/
 * ma_side.h: the sign of the 128-bit cross product, the averages divided
 * out only within a unit of each other) against the formula it replaced:
 * the sign of the difference of the two averages, each qtr_dec_div(sum,
 * QTR_DEC_INT(n), QTR_ROUND_HALF_EVEN). Equal to the unit over every pair of
 * sums near each boundary of the shortcut (differences of exactly one unit,
 * one more, one less, exact halves both ways of the even rule, equal
 * averages), at the largest sums and windows, and over random sums. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ma_side.h"
#include "test_rng.h"

static long checked;

static int reference(qtr_dec fast_sum, int fast, qtr_dec slow_sum, int slow)
{
    qtr_dec fast_ma = 0, slow_ma = 0;   // set by qtr_dec_div; gcc -O2 cannot see it through the assert
    assert_true(qtr_dec_div(fast_sum, QTR_DEC_INT(fast), QTR_ROUND_HALF_EVEN, &fast_ma));
    assert_true(qtr_dec_div(slow_sum, QTR_DEC_INT(slow), QTR_ROUND_HALF_EVEN, &slow_ma));
    return qtr_dec_sign(fast_ma - slow_ma);
}

static void same(qtr_dec fast_sum, int fast, qtr_dec slow_sum, int slow)
{
    if (fast_sum < 0 || slow_sum < 0) return;   /* sums of closes > 0 only */
    int want = reference(fast_sum, fast, slow_sum, slow), got = ma_side(fast_sum, fast, slow_sum, slow);
    if (got != want)
        fail_msg("ma_side(%lld, %d, %lld, %d) = %d, the averages say %d", (long long)fast_sum, fast,
                 (long long)slow_sum, slow, got, want);
    checked++;
}

/* Every fast_sum whose average is within `reach` units of slow_sum's: each
 * d = fast_sum * slow - slow_sum * fast from -reach * fast * slow up. */
static void around(qtr_dec slow_sum, int fast, int slow, int reach)
{
    qtr__i128 centre = (qtr__i128)slow_sum * fast / slow;
    for (qtr__i128 f = centre - (qtr__i128)reach * fast - 2; f <= centre + (qtr__i128)reach * fast + 2; f++)
        if (f >= 0 && f <= QTR_DEC_MAX) same((qtr_dec)f, fast, slow_sum, slow);
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void) { return test_rng_next(&rng); }

static void test_boundaries_exhaustive(void **st)
{
    (void)st;
    static const int windows[][2] = { { 1, 2 }, { 2, 4 }, { 3, 7 }, { 10, 30 }, { 7, 10 }, { 999, 1000 }, { 1, 1000 } };
    static const qtr_dec slows[] = { 0, 1, 2, 3, 5, 15, 105, 1000, 123456789, QTR_DEC_INT(1) * 30 + 15,
                                     QTR_DEC_MAX / 1000, QTR_DEC_MAX - 1, QTR_DEC_MAX };
    for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++)
        for (size_t i = 0; i < sizeof slows / sizeof slows[0]; i++) {
            int reach = windows[w][0] * windows[w][1] > 5000 ? 1 : 3;
            around(slows[i], windows[w][0], windows[w][1], reach);
        }
    /* exact halves: slow_sum / slow = k + 1/2 for even and odd k, fast at k - 1/2 .. k + 3/2 */
    for (qtr_dec k = 0; k < 40; k++)
        for (int slow = 2; slow <= 40; slow += 2) around(k * slow + slow / 2, slow / 2, slow, 2);
    print_message("%ld pairs near the boundaries\n", checked);
    assert_true(checked > 20000);
}

static void test_random(void **st)
{
    (void)st;
    for (int i = 0; i < 300000; i++) {
        int slow = 2 + (int)(next() % 999), fast = 1 + (int)(next() % (uint64_t)(slow - 1));
        int shift = (int)(next() % 63);
        qtr_dec slow_sum = (qtr_dec)(next() >> 1 >> shift);
        qtr_dec fast_sum;
        switch (i % 3) {
        case 0: fast_sum = (qtr_dec)(next() >> 1 >> shift); break;   /* anywhere */
        default: {   /* within a few units of the slow average, where the shortcut hands over */
            qtr__i128 f = (qtr__i128)slow_sum * fast / slow + (qtr__i128)((int64_t)(next() % 7) - 3) * fast +
                          (qtr__i128)((int64_t)(next() % 5) - 2);
            fast_sum = f < 0 ? 0 : f > QTR_DEC_MAX ? QTR_DEC_MAX : (qtr_dec)f;
        }
        }
        same(fast_sum, fast, slow_sum, slow);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boundaries_exhaustive),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
