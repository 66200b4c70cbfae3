/* qtr/money.h: exact parsing and printing, arithmetic, rounding, overflow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <qtr/money.h>

static qtr_dec P(const char *s)
{
    qtr_dec v = 0;
    if (qtr_dec_parse(s, (size_t)-1, &v) != QTR_DEC_OK) fail_msg("cannot parse %s", s);
    return v;
}

static void parse_exact(void **s)
{
    (void)s;
    assert_int_equal(P("0"), 0);
    assert_int_equal(P("1"), 100000000);
    assert_int_equal(P("-1.5"), -150000000);
    assert_int_equal(P("+0.00000001"), 1);
    assert_int_equal(P("1.08010000"), 108010000);
    assert_int_equal(P(".5"), 50000000);
    assert_int_equal(P("5."), 500000000);
    assert_int_equal(P("1e-5"), 1000);
    assert_int_equal(P("2.5E2"), 25000000000);
    assert_int_equal(P("92233720368.54775807"), INT64_MAX);
    assert_int_equal(P("-92233720368.54775807"), -INT64_MAX);
    qtr_dec v;
    assert_int_equal(qtr_dec_parse("1.2", 2, &v), QTR_DEC_OK);   /* explicit length */
    assert_int_equal(v, 100000000);
}

static void parse_refusals(void **s)
{
    (void)s;
    qtr_dec v = 77;
    const char *syntax[] = { "", "-", ".", "abc", "1.2.3", "1,5", " 1", "1 ", "1e", "1e+", "0x10", "--1", NULL };
    for (int i = 0; syntax[i]; i++) assert_int_equal(qtr_dec_parse(syntax[i], (size_t)-1, &v), QTR_DEC_ESYNTAX);
    assert_int_equal(qtr_dec_parse("0.123456789", (size_t)-1, &v), QTR_DEC_EPRECISION);
    assert_int_equal(qtr_dec_parse("1e-9", (size_t)-1, &v), QTR_DEC_EPRECISION);
    assert_int_equal(qtr_dec_parse("92233720368.54775808", (size_t)-1, &v), QTR_DEC_ERANGE);
    assert_int_equal(qtr_dec_parse("1e30", (size_t)-1, &v), QTR_DEC_ERANGE);
    assert_int_equal(qtr_dec_parse("99999999999999999999999999999999999999999", (size_t)-1, &v), QTR_DEC_ERANGE);
    assert_int_equal(v, 77);   /* untouched on refusal */
    /* trailing zeros past 8 places are exact, not imprecise */
    assert_int_equal(qtr_dec_parse("0.1000000000", (size_t)-1, &v), QTR_DEC_OK);
    assert_int_equal(v, 10000000);
}

static void parse_with_rounding(void **s)
{
    (void)s;
    qtr_dec v;
    assert_int_equal(qtr_dec_parse_round("0.123456785", (size_t)-1, QTR_ROUND_HALF_EVEN, &v), QTR_DEC_OK);
    assert_int_equal(v, 12345678);   /* tie to even */
    assert_int_equal(qtr_dec_parse_round("0.123456775", (size_t)-1, QTR_ROUND_HALF_EVEN, &v), QTR_DEC_OK);
    assert_int_equal(v, 12345678);
    assert_int_equal(qtr_dec_parse_round("-0.123456785", (size_t)-1, QTR_ROUND_HALF_UP, &v), QTR_DEC_OK);
    assert_int_equal(v, -12345679);
    assert_int_equal(qtr_dec_parse_round("0.000000001", (size_t)-1, QTR_ROUND_CEIL, &v), QTR_DEC_OK);
    assert_int_equal(v, 1);
    assert_int_equal(qtr_dec_parse_round("-0.000000001", (size_t)-1, QTR_ROUND_CEIL, &v), QTR_DEC_OK);
    assert_int_equal(v, 0);
}

/* A value below one unit is refused by the strict parser however it is
 * written, and rounds by its exact value: one unit only where the mode says
 * so, never two (issue 10: "1e31e-70" parsed as 0.00000001, a CEIL of about
 * 1e-62 gave 0.00000002). */
static void tiny_values_are_never_a_unit_by_accident(void **s)
{
    (void)s;
    qtr_dec v = 77;
    const char *tiny[] = { "10000000000000000000000000000000e-70", "12000000000000000000000000000000e-93", "1e-62",
                           "0.000000000000000000000000000000000000000000000001", "1e-99999999999999999999", NULL };
    for (int i = 0; tiny[i]; i++) {
        assert_int_equal(qtr_dec_parse(tiny[i], (size_t)-1, &v), QTR_DEC_EPRECISION);
        struct { qtr_rounding mode; qtr_dec pos, neg; } want[] = {
            { QTR_ROUND_DOWN, 0, 0 },  { QTR_ROUND_UP, 1, -1 },     { QTR_ROUND_FLOOR, 0, -1 },
            { QTR_ROUND_CEIL, 1, 0 },  { QTR_ROUND_HALF_UP, 0, 0 }, { QTR_ROUND_HALF_EVEN, 0, 0 },
        };
        char neg[64];
        snprintf(neg, sizeof neg, "-%s", tiny[i]);
        for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
            assert_int_equal(qtr_dec_parse_round(tiny[i], (size_t)-1, want[k].mode, &v), QTR_DEC_OK);
            assert_int_equal(v, want[k].pos);
            assert_int_equal(qtr_dec_parse_round(neg, (size_t)-1, want[k].mode, &v), QTR_DEC_OK);
            assert_int_equal(v, want[k].neg);
        }
    }
    assert_int_equal(v, 0);
}

/* Exactly representable values are exact however many digits or whatever
 * exponent they are written with; exponents that leave the range are refused. */
static void long_and_scaled_values_are_exact(void **s)
{
    (void)s;
    assert_int_equal(P("100000000000000000000000000000000000000000000000000e-58"), 1);
    assert_int_equal(P("0.00000000000000000000000000000000000000000000000001e42"), 1);
    assert_int_equal(P("92233720368547758070000000000000000000000e-30"), INT64_MAX);
    assert_int_equal(P("1.00000000000000000000000000000000000000000000000000000"), 100000000);
    assert_int_equal(P("0e99999999999999999999999"), 0);
    assert_int_equal(P("-0e-99999999999999999999999"), 0);
    qtr_dec v = 77;
    assert_int_equal(qtr_dec_parse("1e99999999999999999999", (size_t)-1, &v), QTR_DEC_ERANGE);
    assert_int_equal(qtr_dec_parse("100000000000000000000000000000000000000001e-49", (size_t)-1, &v),
                     QTR_DEC_EPRECISION);
    assert_int_equal(qtr_dec_parse_round("100000000000000000000000000000000000000001e-49", (size_t)-1, QTR_ROUND_UP, &v),
                     QTR_DEC_OK);
    assert_int_equal(v, 2);
    /* rounding that carries past the top is out of range, not wrapped */
    assert_int_equal(qtr_dec_parse_round("92233720368.547758071", (size_t)-1, QTR_ROUND_UP, &v), QTR_DEC_ERANGE);
    assert_int_equal(qtr_dec_parse_round("92233720368.547758071", (size_t)-1, QTR_ROUND_DOWN, &v), QTR_DEC_OK);
    assert_int_equal(v, INT64_MAX);
}

static void format_round_trips(void **s)
{
    (void)s;
    char b[QTR_DEC_STRLEN];
    assert_string_equal(qtr_dec_format(0, b), "0");
    assert_string_equal(qtr_dec_format(150000000, b), "1.5");
    assert_string_equal(qtr_dec_format(-1, b), "-0.00000001");
    assert_string_equal(qtr_dec_format(INT64_MAX, b), "92233720368.54775807");
    assert_string_equal(qtr_dec_format(-INT64_MAX, b), "-92233720368.54775807");
    const char *vals[] = { "0.1", "123.45678901", "-7", "1000000", "0.00000009", NULL };
    for (int i = 0; vals[i]; i++) assert_string_equal(qtr_dec_format(P(vals[i]), b), vals[i]);
    char f[48];
    assert_string_equal(qtr_dec_format_fixed(P("1.235"), 2, QTR_ROUND_HALF_EVEN, f), "1.24");
    assert_string_equal(qtr_dec_format_fixed(P("1.225"), 2, QTR_ROUND_HALF_EVEN, f), "1.22");
    assert_string_equal(qtr_dec_format_fixed(P("-0.5"), 0, QTR_ROUND_HALF_UP, f), "-1");
    assert_string_equal(qtr_dec_format_fixed(P("3"), 3, QTR_ROUND_DOWN, f), "3.000");
}

static void add_sub_exact_and_checked(void **s)
{
    (void)s;
    qtr_dec r;
    assert_true(qtr_dec_add(P("0.1"), P("0.2"), &r));
    assert_int_equal(r, P("0.3"));                 /* the float classic, exact here */
    assert_true(qtr_dec_sub(P("0.3"), P("0.1"), &r));
    assert_int_equal(r, P("0.2"));
    r = 5;
    assert_false(qtr_dec_add(INT64_MAX, 1, &r));
    assert_false(qtr_dec_sub(-INT64_MAX, 1, &r));
    assert_int_equal(r, 5);
}

static void mul_div_with_rounding(void **s)
{
    (void)s;
    qtr_dec r;
    assert_true(qtr_dec_mul(P("64012.3"), P("0.01"), QTR_ROUND_HALF_EVEN, &r));
    assert_int_equal(r, P("640.123"));
    /* 0.00000003 * 0.5 = 0.000000015: rounding decides the last unit */
    assert_true(qtr_dec_mul(3, P("0.5"), QTR_ROUND_HALF_EVEN, &r)); assert_int_equal(r, 2);
    assert_true(qtr_dec_mul(3, P("0.5"), QTR_ROUND_DOWN, &r)); assert_int_equal(r, 1);
    assert_true(qtr_dec_mul(-3, P("0.5"), QTR_ROUND_FLOOR, &r)); assert_int_equal(r, -2);
    assert_true(qtr_dec_mul(-3, P("0.5"), QTR_ROUND_CEIL, &r)); assert_int_equal(r, -1);
    assert_true(qtr_dec_mul(-3, P("0.5"), QTR_ROUND_UP, &r)); assert_int_equal(r, -2);
    assert_true(qtr_dec_div(P("100"), P("3"), QTR_ROUND_DOWN, &r));
    assert_int_equal(r, P("33.33333333"));
    assert_true(qtr_dec_div(P("200"), P("3"), QTR_ROUND_HALF_UP, &r));
    assert_int_equal(r, P("66.66666667"));
    assert_false(qtr_dec_div(P("1"), 0, QTR_ROUND_DOWN, &r));
    /* 128-bit intermediate: a product that overflows 64 bits mid-way is fine */
    assert_true(qtr_dec_mul(P("90000000000"), P("1"), QTR_ROUND_DOWN, &r));
    assert_int_equal(r, P("90000000000"));
    assert_false(qtr_dec_mul(P("90000000000"), P("2"), QTR_ROUND_DOWN, &r));
    /* weighted average with one rounding */
    assert_true(qtr_dec_muldiv(P("1.5"), P("100.1"), P("3"), QTR_ROUND_HALF_EVEN, &r));
    assert_int_equal(r, P("50.05"));
    assert_false(qtr_dec_muldiv(P("1"), P("1"), 0, QTR_ROUND_DOWN, &r));
    assert_true(qtr_dec_mul_int(P("0.1"), 3, &r));
    assert_int_equal(r, P("0.3"));
    assert_false(qtr_dec_mul_int(INT64_MAX, 2, &r));
}

static void round_to_step(void **s)
{
    (void)s;
    qtr_dec r;
    assert_true(qtr_dec_round_step(P("0.0127"), P("0.001"), QTR_ROUND_DOWN, &r));
    assert_int_equal(r, P("0.012"));
    assert_true(qtr_dec_round_step(P("64010.17"), P("0.1"), QTR_ROUND_CEIL, &r));
    assert_int_equal(r, P("64010.2"));
    assert_true(qtr_dec_round_step(P("64010.15"), P("0.1"), QTR_ROUND_HALF_EVEN, &r));
    assert_int_equal(r, P("64010.2"));
    assert_false(qtr_dec_round_step(P("1"), 0, QTR_ROUND_DOWN, &r));
    assert_false(qtr_dec_round_step(P("1"), -5, QTR_ROUND_DOWN, &r));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_exact),
        cmocka_unit_test(parse_refusals),
        cmocka_unit_test(parse_with_rounding),
        cmocka_unit_test(tiny_values_are_never_a_unit_by_accident),
        cmocka_unit_test(long_and_scaled_values_are_exact),
        cmocka_unit_test(format_round_trips),
        cmocka_unit_test(add_sub_exact_and_checked),
        cmocka_unit_test(mul_div_with_rounding),
        cmocka_unit_test(round_to_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
