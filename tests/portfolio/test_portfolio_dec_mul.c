/* portfolio/dec_mul.h: qh_dec_mul_half_even must give what the SDK's
 * qtr_dec_mul(a, b, QTR_ROUND_HALF_EVEN) gives (value, and refusal on
 * overflow) for every pair: products below and above 2^63 units, exact
 * halves (ties to even both ways), signs, zero, and the edges of the range.
 * The per-candle paths (portfolio marks, report exposure) call it instead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "portfolio/dec_mul.h"
#include "test_rng.h"

static void expect_same(qtr_dec a, qtr_dec b)
{
    qtr_dec want = 11, got = 11;
    bool ok_want = qtr_dec_mul(a, b, QTR_ROUND_HALF_EVEN, &want);
    bool ok_got = qh_dec_mul_half_even(a, b, &got);
    if (ok_want != ok_got || want != got)
        fail_msg("%lld x %lld: qtr_dec_mul %d %lld, qh_dec_mul_half_even %d %lld", (long long)a, (long long)b,
                 ok_want, (long long)want, ok_got, (long long)got);
}

static const qtr_dec edges[] = {
    0, 1, -1, 2, 49999999, 50000000, 50000001, 99999999, QTR_DEC_SCALE, QTR_DEC_SCALE + 1,
    150000000, 250000000, 350000000,                  /* x.5 units: ties */
    QTR_DEC_INT(3037000499), QTR_DEC_INT(50000), QTR_DEC_INT(92233720368), INT64_C(9223372036854775807),
    INT64_C(3037000499976049), INT64_C(96038388349944), INT64_C(96038388349945),   /* around sqrt(2^63 * 1e8) */
    INT64_C(4611686018427387904), INT64_C(-4611686018427387904), -QTR_DEC_SCALE, -150000000, -250000000,
    QTR_DEC_MIN, QTR_DEC_MIN + 1, QTR_DEC_MAX - 1,
};

static void edges_agree(void **state)
{
    (void)state;
    size_t n = sizeof edges / sizeof edges[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            expect_same(edges[i], edges[j]);
            expect_same(-edges[i], edges[j]);
        }
}

static uint64_t next(uint64_t *s) { return test_rng_next(s); }

/* Random magnitudes of every size (the shift spreads them over 2^0..2^63),
 * and products that land on a tie: b a multiple of 0.5 unit. */
static void random_pairs_agree(void **state)
{
    (void)state;
    uint64_t s = 0x9e3779b97f4a7c15u;
    for (int k = 0; k < 200000; k++) {
        qtr_dec a = (qtr_dec)(next(&s) >> (1 + next(&s) % 63));
        qtr_dec b = (qtr_dec)(next(&s) >> (1 + next(&s) % 63));
        if (next(&s) & 1) a = -a;
        if (next(&s) & 1) b = -b;
        expect_same(a, b);
        expect_same(a, (qtr_dec)(next(&s) % 1000) * 50000000 + 50000000);
    }
}

/* qh_dec_add / qh_dec_sub against qtr_dec_add / qtr_dec_sub: the same sum
 * or difference, the same refusal (a result outside the symmetric range:
 * INT64_MIN too, and inputs of INT64_MIN), out untouched when refused. Every
 * pair of edges (each sign) and random pairs near the ends of the range. */
static void expect_same_add_sub(qtr_dec a, qtr_dec b)
{
    qtr_dec want = 11, got = 11;
    bool ok_want = qtr_dec_add(a, b, &want), ok_got = qh_dec_add(a, b, &got);
    if (ok_want != ok_got || want != got)
        fail_msg("%lld + %lld: qtr_dec_add %d %lld, qh_dec_add %d %lld", (long long)a, (long long)b, ok_want,
                 (long long)want, ok_got, (long long)got);
    want = got = 11;
    ok_want = qtr_dec_sub(a, b, &want), ok_got = qh_dec_sub(a, b, &got);
    if (ok_want != ok_got || want != got)
        fail_msg("%lld - %lld: qtr_dec_sub %d %lld, qh_dec_sub %d %lld", (long long)a, (long long)b, ok_want,
                 (long long)want, ok_got, (long long)got);
}

static void add_sub_agree(void **state)
{
    (void)state;
    size_t n = sizeof edges / sizeof edges[0];
    const qtr_dec extra[] = { INT64_MIN, INT64_MIN + 1, INT64_MIN + 2, QTR_DEC_MAX, QTR_DEC_MAX - 1, -1, 0, 1 };
    for (size_t i = 0; i < n + 8; i++) {
        qtr_dec a = i < n ? edges[i] : extra[i - n];
        for (size_t j = 0; j < n + 8; j++) {
            qtr_dec b = j < n ? edges[j] : extra[j - n];
            expect_same_add_sub(a, b);
            if (a != INT64_MIN) expect_same_add_sub(-a, b);
            if (b != INT64_MIN) expect_same_add_sub(a, -b);
        }
    }
    uint64_t s = 0x2545f4914f6cdd1du;
    for (int k = 0; k < 200000; k++) {
        qtr_dec a = (qtr_dec)(next(&s) >> (1 + next(&s) % 63)), b = (qtr_dec)(next(&s) >> (1 + next(&s) % 63));
        if (next(&s) & 1) a = -a;
        if (next(&s) & 1) b = -b;
        expect_same_add_sub(a, b);
        /* sums that land on or next to the ends of the range */
        qtr_dec edge = (next(&s) & 1) ? QTR_DEC_MAX : QTR_DEC_MIN, off = (qtr_dec)(next(&s) % 3) - 1;
        qtr_dec b_sum, b_diff;   /* a + b_sum and a - b_diff at edge + off (where b fits int64) */
        if (!__builtin_sub_overflow(edge, a, &b_sum) && !__builtin_add_overflow(b_sum, off, &b_sum))
            expect_same_add_sub(a, b_sum);
        if (!__builtin_sub_overflow(a, edge, &b_diff) && !__builtin_add_overflow(b_diff, off, &b_diff))
            expect_same_add_sub(a, b_diff);
    }
}

/* The examples the report's exposure meets: a coin at a five-figure price
 * (past 2^63 units before the division) and a tie rounded to even. */
static void worked_examples(void **state)
{
    (void)state;
    qtr_dec out = 0;
    assert_true(qh_dec_mul_half_even(QTR_DEC_INT(3), QTR_DEC_INT(50000), &out));
    assert_true(out == QTR_DEC_INT(150000));
    /* 0.00000001 x 0.5 = 0.000000005: half a unit, to even (0) */
    assert_true(qh_dec_mul_half_even(1, 50000000, &out));
    assert_true(out == 0);
    /* 0.00000003 x 0.5 = 0.000000015: to even (2 units) */
    assert_true(qh_dec_mul_half_even(3, -50000000, &out));
    assert_true(out == -2);
    out = 7;
    assert_false(qh_dec_mul_half_even(QTR_DEC_MAX, QTR_DEC_INT(2), &out));
    assert_true(out == 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(edges_agree),
        cmocka_unit_test(random_pairs_agree),
        cmocka_unit_test(worked_examples),
        cmocka_unit_test(add_sub_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
