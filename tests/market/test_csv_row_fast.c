/* The one-pass reading of common candle rows (market/csv_row_fast.h) against
 * the general field-by-field reading (qh_csv_rows_next_general), on random
 * rows built from valid and edge fields (signs, exponents, 0 to 25 digits,
 * up to 12 decimals, values at INT64_MAX's edge, empty fields, stray bytes,
 * wrong column counts, times of 17 to 19 digits), 6 and 12 columns, in
 * sequences so the order rules are reached too: both give the same result,
 * the same candle, the same message and the same state after every row.
 * Each row the fast reading accepts also has, field by field, the value
 * qtr_dec_parse() / qh_csv_parse_ms() give it; its runs of digits read 8
 * bytes at a time equal those read one at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qtr/money.h>

#include "market/candles.h"
#include "market/csv_row_fast.h"
#include "market/csv_rows.h"

static uint64_t g_rng = 2026;

static uint32_t rnd(uint32_t n)
{
    g_rng = g_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(g_rng >> 33) % n;
}

static void append(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
}

static void digits(char *buf, size_t cap, int n, bool leading_zero_ok)
{
    for (int i = 0; i < n; i++) append(buf, cap, "%c", (char)('0' + (i == 0 && !leading_zero_ok ? 1 + rnd(9) : rnd(10))));
}

/* A decimal field: mostly the value v (in 1e-4 units) as files write it,
 * now and then an edge or random digits. */
static void dec_field(char *buf, size_t cap, int64_t v)
{
    static const char *const edges[] = {
        "92233720368.54775807", "92233720368.54775808", "92233720368.5477580", "922337203685.4775807",
        "99999999999.99999999", "999999999999999999", "0", "0.0", "00000000000000000001.5", "1.", ".5", ".",
        "..", "1..2", "+1.5", "-1.5", "1e3", "1E-2", "1.5e", " 1.5", "1.5 ", "0x10", "1,5", "", "1.000000000",
        "218102.59507500002", "0.000000001", "1.23456789", "12345678901.23456789", "1234567890123456789",
        "\xc2\xb5", "1.5\t", "9223372036.85477580", "9223372036.8547758", "0000000000000000001",
    };
    int kind = (int)rnd(30);
    if (kind == 0) {
        append(buf, cap, "%s", edges[rnd((uint32_t)(sizeof edges / sizeof edges[0]))]);
    } else if (kind == 1) {
        /* random lengths either side of the point */
        digits(buf, cap, (int)rnd(20), true);
        if (rnd(3)) {
            append(buf, cap, ".");
            digits(buf, cap, (int)rnd(13), true);
        }
    } else {
        /* the value, with 0 to 4 trailing zeros after its decimals */
        char t[QTR_DEC_STRLEN];
        qtr_dec_format(v * 10000, t);
        append(buf, cap, "%s", t);
        int zeros = (int)rnd(5);
        if (!strchr(t, '.') && zeros) append(buf, cap, ".");
        for (int i = 0; i < zeros; i++) append(buf, cap, "0");
    }
}

static void time_field(char *buf, size_t cap, int64_t t)
{
    int kind = (int)rnd(40);
    if (kind == 0) append(buf, cap, "%s", "");
    else if (kind == 1) digits(buf, cap, 17 + (int)rnd(3), false);
    else if (kind == 2) append(buf, cap, "-%lld", (long long)t);
    else if (kind == 3) append(buf, cap, "%lldx", (long long)t);
    else append(buf, cap, "%lld", (long long)t);
}

/* One row of ncols columns (sometimes one more or one fewer). */
static void make_row(char *buf, size_t cap, int ncols, int64_t t, int64_t interval, int64_t price)
{
    buf[0] = '\0';
    int want = ncols;
    if (rnd(50) == 0) want += rnd(2) ? 1 : -1;
    /* open, high, low, close, volume: consistent unless one is spoiled */
    int64_t o = price, c = price + (int64_t)rnd(201) - 100;
    int64_t ohlcv[5] = { o, (o > c ? o : c) + rnd(50), (o < c ? o : c) - rnd(50), c, (int64_t)rnd(100000000) };
    if (rnd(40) == 0) ohlcv[rnd(5)] = (int64_t)rnd(200000) - 1000;
    time_field(buf, cap, t);
    for (int col = 1; col < want; col++) {
        append(buf, cap, ",");
        if (col <= 5) dec_field(buf, cap, ohlcv[col - 1]);
        else if (col == 6) time_field(buf, cap, t + interval - 1 - (rnd(30) == 0 ? interval : 0));
        else if (col == 8) append(buf, cap, "%u", rnd(100000));
        else dec_field(buf, cap, price);
    }
}

/* Field i of the row (no more than 12 are looked at). */
static size_t field_at(const char *row, int i, const char **p)
{
    const char *s = row;
    for (int k = 0; k < i; k++) s = strchr(s, ',') + 1;
    const char *e = strchr(s, ',');
    *p = s;
    return e ? (size_t)(e - s) : strlen(s);
}

/* A row the fast reading took: every field has the general parsers' value. */
static void check_fields(const char *row, int ncols, const qtr_candle *c)
{
    const char *p;
    size_t n = field_at(row, 0, &p);
    int64_t t;
    assert_true(qh_csv_parse_ms(p, n, &t));
    assert_int_equal(t, c->open_time_ms);
    const qtr_dec *values[5] = { &c->open, &c->high, &c->low, &c->close, &c->volume };
    for (int i = 1; i <= 5; i++) {
        qtr_dec v;
        n = field_at(row, i, &p);
        assert_int_equal(qtr_dec_parse(p, n, &v), QTR_DEC_OK);
        assert_int_equal(v, *values[i - 1]);
    }
    if (ncols == 12) {
        n = field_at(row, 6, &p);
        assert_true(qh_csv_parse_ms(p, n, &t));
        assert_int_equal(t, c->close_time_ms);
    }
}

static void same_candle(const qtr_candle *a, const qtr_candle *b)
{
    assert_int_equal(a->open_time_ms, b->open_time_ms);
    assert_int_equal(a->close_time_ms, b->close_time_ms);
    assert_int_equal(a->open, b->open);
    assert_int_equal(a->high, b->high);
    assert_int_equal(a->low, b->low);
    assert_int_equal(a->close, b->close);
    assert_int_equal(a->volume, b->volume);
}

static void random_rows_agree(int ncols)
{
    char err_fast[256], err_general[256], row[512];
    size_t taken = 0, declined = 0, refused = 0, accepted = 0;
    for (int seq = 0; seq < 400; seq++) {
        qh_csv_rows fast = { .name = "f.csv", .err = err_fast, .errlen = sizeof err_fast, .ncols = ncols, .first = true };
        qh_csv_rows general = fast;
        general.err = err_general;
        general.errlen = sizeof err_general;
        int64_t t = 1600000000000 + (int64_t)rnd(1000000) * 60000, interval = 60000, price = 10000 + rnd(100000);
        for (int i = 0; i < 60; i++) {
            t += interval * (rnd(40) == 0 ? 0 : 1);
            make_row(row, sizeof row, ncols, t, interval, price);
            const char *eol = row + strlen(row);
            qtr_candle probe, a, b;
            memset(&probe, 0, sizeof probe);
            memset(&a, 0, sizeof a);
            memset(&b, 0, sizeof b);
            if (qh_csv_row_fast(ncols, row, eol, &probe)) {
                taken++;
                check_fields(row, ncols, &probe);
            } else {
                declined++;
            }
            err_fast[0] = err_general[0] = '\0';
            int rf = qh_csv_rows_next(&fast, (size_t)i + 2, row, eol, &a);
            int rg = qh_csv_rows_next_general(&general, (size_t)i + 2, row, eol, &b);
            if (rf != rg || strcmp(err_fast, err_general) != 0)
                fail_msg("row '%s': fast %d '%s', general %d '%s'", row, rf, err_fast, rg, err_general);
            if (rf == 0) {
                accepted++;
                same_candle(&a, &b);
            } else {
                refused++;
            }
            assert_int_equal(fast.first, general.first);
            assert_int_equal(fast.prev_open, general.prev_open);
            assert_int_equal(fast.prev_close, general.prev_close);
            assert_int_equal(fast.volumes_rounded, general.volumes_rounded);
        }
    }
    /* both ways and both outcomes were exercised many times */
    print_message("%d columns: %zu rows taken by the fast reading, %zu declined; %zu accepted, %zu refused\n", ncols,
                  taken, declined, accepted, refused);
    assert_true(taken > 2000);
    assert_true(declined > 2000);
    assert_true(accepted > 1000);
    assert_true(refused > 1000);
}

static void six_columns_agree(void **state) { (void)state; random_rows_agree(6); }
static void twelve_columns_agree(void **state) { (void)state; random_rows_agree(12); }

/* Named cases: what the fast reading must decline (the general way then
 * accepts or refuses with its message) and what it must take. */
static void declines_what_it_does_not_read(void **state)
{
    (void)state;
    static const char *const declined[] = {
        "1000,+1,1,1,1,1", "1000,1,1,1,1,-0", "1000,1e0,1,1,1,1", "1000,1,1,1,1,1.000000001",
        "1000,1,1,1,1,1234567890123456789", "1000,92233720368.54775808,1,1,1,1", "1000,,1,1,1,1",
        "1000,1,1,1,1", "1000,1,1,1,1,1,", "1000,1,1,1,1,1 ", "1234567890123456789,1,1,1,1,1", ",1,1,1,1,1",
        "1000,.,1,1,1,1", "1000,1.2.3,1,1,1,1",
    };
    qtr_candle c;
    for (size_t i = 0; i < sizeof declined / sizeof declined[0]; i++) {
        const char *r = declined[i];
        if (qh_csv_row_fast(6, r, r + strlen(r), &c)) fail_msg("took '%s'", r);
    }
    static const char *const twelve_declined[] = {
        "1000,1,1,1,1,1,1999,0,0,0,0", "1000,1,1,1,1,1,1999,0,0,0,0,0,0", "1000,1,1,1,1,1,,0,0,0,0,0",
    };
    for (size_t i = 0; i < sizeof twelve_declined / sizeof twelve_declined[0]; i++) {
        const char *r = twelve_declined[i];
        if (qh_csv_row_fast(12, r, r + strlen(r), &c)) fail_msg("took '%s'", r);
    }
    const char *max = "123456789012345678,9223372036.85477580,1.,.5,007,0";
    assert_true(qh_csv_row_fast(6, max, max + strlen(max), &c));
    assert_int_equal(c.open_time_ms, 123456789012345678LL);
    assert_int_equal(c.open, 922337203685477580LL);
    assert_int_equal(c.high, QTR_DEC_INT(1));
    assert_int_equal(c.low, QTR_DEC_SCALE / 2);
    assert_int_equal(c.close, QTR_DEC_INT(7));
    assert_int_equal(c.volume, 0);
    const char *binance = "1636934400000,1.1893,1.1954,1.1891,1.1941,9289043.5,1636934699999,11069036.46,13811,4627316.6,5513897.47,0";
    assert_true(qh_csv_row_fast(12, binance, binance + strlen(binance), &c));
    assert_int_equal(c.close_time_ms, 1636934699999LL);
    assert_int_equal(c.volume, 928904350000000LL);
}

/* The run of digits read 8 bytes at a time against one byte at a time:
 * random bytes (mostly digits, any byte value besides: '/' and ':' next to
 * the digits, 0x80 and above, NUL), runs of 0 to 40 digits, the row's end
 * anywhere: the same value (mod 2^64), count and end, 8-byte reads never
 * past the end. */
static void digits_in_eights_agree_with_one_at_a_time(void **state)
{
    (void)state;
    static const unsigned char others[] = { '/', ':', '.', ',', 'e', ' ', 0, 0x80, 0xB0, 0xB9, 0xFF, '0' - 1, '9' + 1 };
    unsigned char buf[64] = { 0 };
    size_t long_runs = 0;
    for (int i = 0; i < 300000; i++) {
        size_t len = rnd(48);
        for (size_t j = 0; j < len; j++)
            buf[j] = rnd(6) ? (unsigned char)('0' + rnd(10))
                            : rnd(2) ? others[rnd((uint32_t)sizeof others)] : (unsigned char)rnd(256);
        const char *start = (const char *)buf, *eol = start + len;
        const char *p = start;
        uint64_t m = 0;
        size_t digits = 0;
        qh_csv_fast_digits(&p, eol, &m, &digits);
        const char *q = start;
        uint64_t want = 0;
        size_t want_digits = 0;
        while (q < eol && *q >= '0' && *q <= '9') want = want * 10 + (uint64_t)(*q++ - '0'), want_digits++;
        assert_ptr_equal(p, q);
        assert_int_equal(digits, want_digits);
        assert_true(m == want);
        if (want_digits >= 8) long_runs++;
    }
    assert_true(long_runs > 1000);
}

/* The one-byte-at-a-time reading of a decimal field that the 8-byte
 * readings replaced: the reference for qh_csv_fast_dec. */
static bool dec_one_at_a_time(const char **pp, const char *eol, qtr_dec *out)
{
    static const uint64_t unit_of[9] = { 100000000, 10000000, 1000000, 100000, 10000, 1000, 100, 10, 1 };
    const char *p = *pp;
    uint64_t m = 0;
    size_t digits = 0, frac = 0;
    while (p < eol && *p >= '0' && *p <= '9') m = m * 10 + (uint64_t)(*p++ - '0'), digits++;
    if (p < eol && *p == '.') {
        p++;
        while (p < eol && *p >= '0' && *p <= '9') m = m * 10 + (uint64_t)(*p++ - '0'), digits++, frac++;
    }
    if (digits == 0 || digits > 18 || frac > 8) return false;
    if (m > (uint64_t)INT64_MAX / unit_of[frac]) return false;
    *out = (qtr_dec)(m * unit_of[frac]);
    *pp = p;
    return true;
}

/* Decimals of 0 to 12 digits either side of zero, one or two dots, then any
 * byte, the row's end anywhere: the 8-byte readings (a whole short price
 * at once, or runs of digits) give the reference's answer, value and end. */
static void decimals_agree_with_one_at_a_time(void **state)
{
    (void)state;
    static const unsigned char others[] = { '/', ':', '.', ',', 'e', '-', 0, 0x80, 0xAE, 0xFF, '\r' };
    unsigned char buf[64] = { 0 };
    size_t taken = 0;
    for (int i = 0; i < 400000; i++) {
        size_t len = 0;
        for (uint32_t k = rnd(13); k > 0; k--) buf[len++] = (unsigned char)('0' + rnd(10));
        if (rnd(4)) buf[len++] = '.';
        for (uint32_t k = rnd(13); k > 0; k--) buf[len++] = (unsigned char)('0' + rnd(10));
        if (rnd(20) == 0) buf[len++] = '.';
        for (uint32_t k = rnd(12); k > 0; k--)
            buf[len++] = rnd(3) ? others[rnd((uint32_t)sizeof others)] : (unsigned char)rnd(256);
        const char *start = (const char *)buf, *eol = start + rnd((uint32_t)len + 1);
        const char *p = start, *q = start;
        qtr_dec got = -1, want = -1;
        bool a = qh_csv_fast_dec(&p, eol, &got), b = dec_one_at_a_time(&q, eol, &want);
        if (a != b || p != q || got != want)
            fail_msg("'%.*s' (end %td): %d %lld at %td, reference %d %lld at %td", (int)len, (const char *)buf,
                     eol - start, a, (long long)got, p - start, b, (long long)want, q - start);
        taken += a;
    }
    assert_true(taken > 100000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(six_columns_agree),
        cmocka_unit_test(twelve_columns_agree),
        cmocka_unit_test(declines_what_it_does_not_read),
        cmocka_unit_test(digits_in_eights_agree_with_one_at_a_time),
        cmocka_unit_test(decimals_agree_with_one_at_a_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
