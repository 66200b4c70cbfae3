/*
 * qtr_dec_parse() and qtr_dec_parse_round() against a reference parser
 * written separately here: it keeps every digit as text, moves the decimal
 * point by string indexing, compares with QTR_DEC_MAX digit by digit and
 * rounds with a decimal carry. No 128-bit arithmetic, no digit budget: slow
 * and plainly right, so any disagreement is a bug in money.h.
 *
 * Inputs: hand-picked edge cases plus many generated ones (long mantissas,
 * leading and trailing zeros, huge and tiny exponents, signs, values around
 * QTR_DEC_MAX and around one unit, broken syntax), each in the strict mode
 * and in every rounding mode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qtr/money.h>

#include "dec_reference.h"

#define STRICT DEC_REF_STRICT
#define MODES dec_ref_modes
typedef dec_outcome outcome;

static size_t g_checked;

static void agree(const char *text)
{
    dec_agree(text, strlen(text));
    g_checked += dec_ref_n_modes;
}

/* The reference itself, on answers worked out by hand. */
static void reference_knows_the_answers(void **state)
{
    (void)state;
    outcome o = dec_reference("1.5", 3, STRICT);
    assert_int_equal(o.st, QTR_DEC_OK);
    assert_int_equal(o.v, 150000000);
    o = dec_reference("10000000000000000000000000000000e-70", 36, STRICT);
    assert_int_equal(o.st, QTR_DEC_EPRECISION);
    o = dec_reference("10000000000000000000000000000000e-70", 36, QTR_ROUND_CEIL);
    assert_int_equal(o.v, 1);
    o = dec_reference("-0.000000015", 12, QTR_ROUND_HALF_EVEN);
    assert_int_equal(o.v, -2);
    o = dec_reference("0.000000025", 11, QTR_ROUND_HALF_EVEN);
    assert_int_equal(o.v, 2);
    o = dec_reference("92233720368.547758075", 21, QTR_ROUND_HALF_UP);
    assert_int_equal(o.st, QTR_DEC_ERANGE);
    o = dec_reference("92233720368.547758075", 21, QTR_ROUND_DOWN);
    assert_int_equal(o.v, INT64_MAX);
    o = dec_reference("99999999999.999999995", 21, QTR_ROUND_DOWN);
    assert_int_equal(o.st, QTR_DEC_ERANGE);
    o = dec_reference("0e99999999999999999999", 22, STRICT);
    assert_int_equal(o.st, QTR_DEC_OK);
    assert_int_equal(o.v, 0);
}

static void edge_cases_agree(void **state)
{
    (void)state;
    static const char *const cases[] = {
        /* the examples */
        "10000000000000000000000000000000e-70", "12000000000000000000000000000000e-93", "1e-62",
        "0.00000000000000000000000000000000000000000000000000000000000001",
        /* exact after scaling, however written */
        "1000e-11", "100000000000000000000000000000000000000000000000000e-58", "0.000000000000000000001e13",
        "1e-8", "1E-8", "1e+0", "1e-0", "0001.5000e0002", "-0.0000000000000000000000000000000000000000001e35",
        "92233720368.54775807", "-92233720368.54775807", "9223372036854775807e-8", "9223372036854775807000e-11",
        "0.9223372036854775807e11", "92233720368.547758070000000000000000000000000000000000",
        /* one unit past the ends, and halves at the top */
        "92233720368.54775808", "-92233720368.54775808", "92233720368.547758075", "92233720368.547758065",
        "92233720368.5477580749999999999999999999999999", "92233720368.54775806500000000000000000000001",
        "99999999999.999999995", "1e11", "1e10", "1e19", "1e-19", "1e30", "1e-30",
        /* halves at the bottom, with long tails */
        "0.000000005", "0.000000015", "0.000000025", "-0.000000005", "0.0000000050000000000000000000000000000000001",
        "0.0000000049999999999999999999999999999999999999999", "0.000000004999999999999999999999999999999999999e0",
        "0.00000001500000000000000000000000000000000000000000000000", "15e-10", "25e-10", "-25e-10",
        "0.123456785", "0.123456775", "-0.123456785", "0.123456789", "1e-9",
        /* zeros and exponents */
        "0", "-0", "+0", "0.0", "0e0", "0e-99999999999999999999999999999999999", "0e99999999999999999999999",
        "000000000000000000000000000000000000000000000000000", "0.000000000000000000000000000000000000000000",
        "1e99999999999999999999999999999999999999", "1e-99999999999999999999999999999999999999",
        "-1e-99999999999999999999999999999999999999", "1e000000000000000000000000000000000000000000001",
        "5e-000000000000000000000000000000000000000000009",
        /* more digits than any kept budget */
        "123456789012345678901234567890123456789012345678901234567890e-50",
        "123456789012345678901234567890123456789012345678901234567890e-49",
        "0.00000001000000000000000000000000000000000000000000000000000000000000000000001",
        "99999999999999999999999999999999999999999", "99999999999999999999999999999999999999999e-40",
        "9999999999999999999999999999999999999999999999999999999999e-58",
        /* syntax */
        "", "-", "+", ".", "e", "e5", ".e5", "1e", "1e+", "1e-", "1ee5", "1e5e5", "1e5.0", "1.2.3", "--1", "+-1",
        " 1", "1 ", "1,5", "0x10", "1e+-5", "-.5", ".5", "5.", "+.5e-8", "5.e-8", "1_000", "inf", "nan",
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) agree(cases[k]);
}

/* ---- generated inputs --------------------------------------------------- */

static uint64_t g_rng = 0x9E3779B97F4A7C15u;
static uint64_t rnd(void)   /* xorshift64*: the same sequence everywhere */
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 0x2545F4914F6CDD1Du;
}
static size_t below(size_t n) { return (size_t)(rnd() % n); }

typedef struct buf { char s[512]; size_t n; } buf;
static void put(buf *b, char c) { if (b->n + 1 < sizeof b->s) b->s[b->n++] = c; }
static void puts_(buf *b, const char *t) { while (*t) put(b, *t++); }

/* n digits in one of a few shapes that matter for rounding */
static void digits(buf *b, size_t n)
{
    size_t shape = below(6);
    for (size_t k = 0; k < n; k++) {
        char c;
        switch (shape) {
        case 0: c = '0'; break;
        case 1: c = '9'; break;
        case 2: c = k == 0 ? '5' : '0'; break;                 /* exactly half */
        case 3: c = k == 0 ? '4' : '9'; break;                 /* just below half */
        case 4: c = k == 0 ? '5' : (k + 1 == n ? '1' : '0'); break;   /* just above */
        default: c = (char)('0' + below(10)); break;
        }
        put(b, c);
    }
}

static void exponent(buf *b)
{
    char t[64];
    switch (below(6)) {
    case 0: return;                                             /* none */
    case 1: snprintf(t, sizeof t, "%d", (int)below(91) - 45); break;
    case 2: snprintf(t, sizeof t, "%+d", (int)below(401) - 200); break;
    case 3: snprintf(t, sizeof t, "-%d", (int)below(30) + 1); break;
    case 4: {                                                   /* huge, maybe with leading zeros */
        size_t n = 0;
        if (below(2)) n += (size_t)snprintf(t, sizeof t, "%s", below(2) ? "-" : "");
        for (size_t z = below(3) * 10; z > 0 && n < 30; z--) t[n++] = '0';
        for (size_t k = 1 + below(25); k > 0 && n < 60; k--) t[n++] = (char)('0' + below(10));
        t[n] = '\0';
        break;
    }
    default: snprintf(t, sizeof t, "%s%03d", below(2) ? "-" : "+", (int)below(20)); break;
    }
    put(b, below(2) ? 'e' : 'E');
    puts_(b, t);
}

/* A value near QTR_DEC_MAX or near one unit, written with a moved point and
 * an exponent that moves it back (give or take a few places). */
static void near_the_edges(buf *b)
{
    char t[64];
    uint64_t v = below(2) ? (uint64_t)INT64_MAX - below(20) + 10 : below(30);
    int n = snprintf(t, sizeof t, "%llu", (unsigned long long)v);
    size_t extra = below(25);
    int dot = (int)below((size_t)n + extra + 1);
    for (int k = 0; k < n + (int)extra; k++) {
        if (k == dot) put(b, '.');
        put(b, k < n ? t[k] : (below(3) ? '0' : (char)('0' + below(10))));
    }
    /* digits * 10^-(n + extra - dot) * 10^x is about v units when x = n - dot - 8 */
    char e[32];
    snprintf(e, sizeof e, "e%d", n - dot - 8 + (int)below(7) - 3);
    puts_(b, e);
}

static void generate(buf *b)
{
    b->n = 0;
    size_t sign = below(4);
    if (sign == 1) put(b, '-');
    if (sign == 2) put(b, '+');
    if (below(5) == 0) near_the_edges(b);
    else {
        for (size_t z = below(3) ? 0 : below(40); z > 0; z--) put(b, '0');   /* leading zeros */
        digits(b, below(4) ? below(15) : below(70));
        if (below(3)) {
            put(b, '.');
            digits(b, below(4) ? below(12) : below(80));
        }
        exponent(b);
    }
    if (below(20) == 0 && b->n > 0) {      /* break it somewhere */
        static const char junk[] = ".eE+- x0";
        size_t at = below(b->n);
        if (below(2)) b->s[at] = junk[below(sizeof junk - 1)];
        else { memmove(b->s + at, b->s + at + 1, b->n - at - 1); b->n--; }
    }
    b->s[b->n] = '\0';
}

static void generated_inputs_agree(void **state)
{
    (void)state;
    size_t before = g_checked, oks = 0, refusals[4] = { 0 };
    buf b;
    for (int k = 0; k < 300000; k++) {
        generate(&b);
        agree(b.s);
        outcome o = dec_reference(b.s, b.n, STRICT);
        refusals[o.st]++;
        oks += o.st == QTR_DEC_OK;
    }
    printf("generated: %zu comparisons; strict: %zu ok, %zu syntax, %zu precision, %zu range\n",
           g_checked - before, oks, refusals[QTR_DEC_ESYNTAX], refusals[QTR_DEC_EPRECISION], refusals[QTR_DEC_ERANGE]);
    /* the generator reaches every outcome often, or it proves little */
    assert_true(oks > 30000);
    for (int s = QTR_DEC_ESYNTAX; s <= QTR_DEC_ERANGE; s++) assert_true(refusals[s] > 5000);
}

/* The explicit length is honoured: text past len is never read as part of
 * the number, and a length that cuts a number changes its value. */
static void explicit_length_agrees(void **state)
{
    (void)state;
    buf b;
    for (int k = 0; k < 20000; k++) {
        generate(&b);
        size_t len = b.n ? below(b.n + 1) : 0;
        for (size_t m = 0; m < dec_ref_n_modes; m++) {
            outcome want = dec_reference(b.s, len, MODES[m]), got = dec_subject(b.s, len, MODES[m]);
            if (got.st != want.st || got.v != want.v)
                fail_msg("'%.*s' (len %zu of '%s') mode %d: money.h %s %lld, reference %s %lld", (int)len, b.s, len, b.s,
                         MODES[m], qtr_dec_status_str(got.st), (long long)got.v, qtr_dec_status_str(want.st),
                         (long long)want.v);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_knows_the_answers),
        cmocka_unit_test(edge_cases_agree),
        cmocka_unit_test(generated_inputs_agree),
        cmocka_unit_test(explicit_length_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
