/* Paper exchange: its 128-bit divisions' fast path (wide_div.h) against the
 * plain computation, `/`, `%` and qtr__div_round, over random values and
 * the edges of the fast case (a quotient just under and at 2^64, a divisor
 * at 1 and at 2^64 - 1 and just past it, negative numerators, exact halves). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "wide_div.h"

typedef qtr__i128 i128;
typedef qtr__u128 u128;

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd64(void)
{
    /* xorshift64*: repeatable from the fixed seed */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

/* A value of `bits` random bits (0..127), often near a power of two. */
static i128 rnd_bits(unsigned bits)
{
    u128 v = ((u128)rnd64() << 64) | rnd64();
    if (bits < 128) v &= ((u128)1 << bits) - 1;
    return (i128)(v & ~((u128)1 << 127));
}

static void check_pair(i128 num, i128 den)
{
    if (den == 0) return;
    if (num == -(i128)((u128)1 << 126) * 2 && den == -1) return;   /* overflows in plain C too */
    i128 rem = -12345, q = qtr_paper_divmod(num, den, &rem);
    if (q != num / den || rem != num % den) fail_msg("divmod differs from / and %%");
    assert_true(qtr_paper_divmod(num, den, NULL) == num / den);
    if (qtr_paper_div_half_even(num, den) != qtr__div_round(num, den, QTR_ROUND_HALF_EVEN))
        fail_msg("half-even division differs from qtr__div_round");
}

static void random_values_agree_with_the_plain_division(void **state)
{
    (void)state;
    for (int i = 0; i < 200000; i++) {
        i128 den = rnd_bits(1 + (unsigned)(rnd64() % 70));     /* up to 2^70: past 64 bits too */
        i128 num = rnd_bits((unsigned)(rnd64() % 127));
        if (den == 0) den = 1;
        check_pair(num, den);
        check_pair(-num, den);
        check_pair(num, -den);
        /* the bound of the fast case: quotients just under and at 2^64 */
        if (den > 0 && den <= (i128)UINT64_MAX) {
            i128 edge = (i128)((u128)den << 64);
            check_pair(edge - 1, den);
            check_pair(edge, den);
            check_pair(edge - 1 - (i128)(rnd64() % (uint64_t)den), den);
        }
    }
}

static void edges_agree_with_the_plain_division(void **state)
{
    (void)state;
    const i128 dens[] = { 1, 2, 3, 7, 100000000, (i128)10000000000000000, (i128)INT64_MAX, (i128)UINT64_MAX - 1,
                          (i128)UINT64_MAX, (i128)UINT64_MAX + 1, (i128)1 << 100 };
    const i128 nums[] = { 0, 1, 2, 5, 6, 7, 15, (i128)INT64_MAX, (i128)INT64_MAX + 1, (i128)UINT64_MAX,
                          (i128)UINT64_MAX + 1, ((i128)1 << 126) - 1, (i128)(((u128)1 << 127) - 1) };
    for (size_t d = 0; d < sizeof dens / sizeof *dens; d++)
        for (size_t n = 0; n < sizeof nums / sizeof *nums; n++) {
            check_pair(nums[n], dens[d]);
            check_pair(-nums[n], dens[d]);
            check_pair(nums[n], -dens[d]);
        }
    /* exact halves: to the even quotient */
    assert_true(qtr_paper_div_half_even(5, 2) == 2);
    assert_true(qtr_paper_div_half_even(7, 2) == 4);
    assert_true(qtr_paper_div_half_even(15, 10) == 2);
    assert_true(qtr_paper_div_half_even(25, 10) == 2);
    assert_true(qtr_paper_div_half_even(26, 10) == 3);
    /* a product past 2^63, as an order's notional in 1e16 units is */
    i128 notional = (i128)6000000000000 * 300000000 + (i128)6000100000000 * 100000000;
    assert_true(qtr_paper_div_half_even(notional, 400000000) ==
                qtr__div_round(notional, 400000000, QTR_ROUND_HALF_EVEN));
    assert_true(qtr_paper_div_half_even(notional, 400000000) == 6000025000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_values_agree_with_the_plain_division),
        cmocka_unit_test(edges_agree_with_the_plain_division),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
