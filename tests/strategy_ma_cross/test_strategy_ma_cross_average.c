/* The identity ma_cross's averages rest on (ma_average() in ma_side.h):
 * sum / n rounded half-even in one 64-bit division is
 * qtr_dec_div(sum, QTR_DEC_INT(n), QTR_ROUND_HALF_EVEN), the 128-bit
 * (sum * 1e8) / (n * 1e8) it replaced, for exact halves (both ways of the
 * even rule), negative sums, the largest sums and random ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <qtr/money.h>

static void same(qtr_dec sum, int n)
{
    qtr_dec want;
    assert_true(qtr_dec_div(sum, QTR_DEC_INT(n), QTR_ROUND_HALF_EVEN, &want));
    assert_int_equal((qtr_dec)qtr__div_round(sum, n, QTR_ROUND_HALF_EVEN), want);
}

static void test_halves_edges_and_random(void **st)
{
    (void)st;
    /* 25 / 10 = 2.5 -> 2, 35 / 10 = 3.5 -> 4, and their negatives */
    same(25, 10);
    same(35, 10);
    same(-25, 10);
    same(-35, 10);
    same(1, 2);
    same(3, 2);
    same(0, 7);
    same(QTR_DEC_MAX, 1);
    same(QTR_DEC_MAX, 999);
    same(QTR_DEC_MIN, 3);
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int n = 1 + (int)(x % 999);
        qtr_dec sum = (qtr_dec)(x >> 4) % QTR_DEC_MAX;
        if (i % 2) sum = -sum;
        if (i % 3 == 0) sum = sum / n * n + (sum % 2 ? n / 2 : 0);   /* near an exact half */
        same(sum, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_halves_edges_and_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
