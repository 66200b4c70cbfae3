/* The one-pass reading of common candle rows (market/csv_row_fast.h) against
 * the general field-by-field reading (qh_csv_rows_next_general), on random
 * rows built from valid and edge fields (signs, exponents, 0 to 25 digits,
 * up to 12 decimals, values at INT64_MAX's edge, empty fields, stray bytes,
 * wrong column counts, times of 17 to 19 digits), 6 and 12 columns, in
 * sequences so the order rules are reached too, each row read in place
 * (room after it), from a copy (its end at the end of its memory) and cut
 * short anywhere (bytes past its end never taken): both give the same
 * result, the same candle, the same message and the same state after every
 * row. Each row the fast reading accepts also has, field by field, the value
 * qtr_dec_parse() / qh_csv_parse_ms() give it; a row whose end is found by
 * reading it (qh_csv_line_fast) agrees with the row read to its known end.
 * Runs of digits and decimals read 8 bytes at a time equal those read one
 * byte at a time, around every 8-byte boundary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

/* The row [row, eol) (eol may cut it short) as a string of its own. */
static void row_text(const char *row, const char *eol, char *out)
{
    memcpy(out, row, (size_t)(eol - row));
    out[eol - row] = '\0';
}

/* A row whose end the reader finds (qh_csv_line_fast) followed by "\n",
 * "\r\n", a lone '\r', nothing and others, then digits: taken exactly when
 * its line (up to the first '\n', a '\r' before it not part of the row) is
 * taken by qh_csv_row_fast, with the same candle and end. */
static void line_end_agrees(int ncols, const char *text)
{
    static const char *const endings[] = { "\n", "\r\n", "\r", "", "\r\r\n", "\n1,", "x\n", ",\n" };
    char buf[600 + QH_CSV_ROW_SLACK];
    size_t n = strlen(text);
    for (size_t e = 0; e < sizeof endings / sizeof endings[0]; e++) {
        memset(buf, '7', sizeof buf);   /* digits past the end must not be taken */
        memcpy(buf, text, n);
        memcpy(buf + n, endings[e], strlen(endings[e]));
        const char *end = buf + n + strlen(endings[e]);
        const char *nl = memchr(buf, '\n', (size_t)(end - buf));
        const char *line_end = nl && nl > buf && nl[-1] == '\r' ? nl - 1 : nl;
        qtr_candle c, want;
        memset(&c, 0, sizeof c);
        memset(&want, 0, sizeof want);
        bool want_taken = nl && qh_csv_row_fast(ncols, buf, line_end, &want);
        const char *eol = NULL;
        bool got = qh_csv_line_fast(ncols, buf, end, &eol, &c);
        if (got != want_taken) fail_msg("row '%s' + ending %zu: found %d, expected %d", text, e, got, want_taken);
        if (got) {
            assert_ptr_equal(eol, line_end);
            same_candle(&c, &want);
        }
    }
}

static void random_rows_agree(int ncols)
{
    char err_fast[256], err_general[256], text[512];
    /* the row at the start, room for QH_CSV_ROW_SLACK bytes after it */
    char row[512 + QH_CSV_ROW_SLACK];
    size_t taken = 0, declined = 0, refused = 0, accepted = 0, cut = 0, copied = 0;
    for (int seq = 0; seq < 400; seq++) {
        qh_csv_rows fast = { .name = "f.csv", .err = err_fast, .errlen = sizeof err_fast, .ncols = ncols, .first = true };
        qh_csv_rows general = fast;
        general.err = err_general;
        general.errlen = sizeof err_general;
        int64_t t = 1600000000000 + (int64_t)rnd(1000000) * 60000, interval = 60000, price = 10000 + rnd(100000);
        for (int i = 0; i < 60; i++) {
            t += interval * (rnd(40) == 0 ? 0 : 1);
            char fill = rnd(2) ? 0 : '9';
            memset(row, fill, sizeof row);
            make_row(row, 512, ncols, t, interval, price);
            const char *eol = row + strlen(row);
            row[eol - row] = fill;   /* digits right after the row's end, now and then */
            if (rnd(8) == 0) eol = row + rnd((uint32_t)(eol - row) + 1), cut++;   /* cut short: more bytes after */
            row_text(row, eol, text);
            qtr_candle probe, a, b;
            memset(&probe, 0, sizeof probe);
            memset(&a, 0, sizeof a);
            memset(&b, 0, sizeof b);
            bool took = qh_csv_row_fast(ncols, row, eol, &probe);
            if (took) {
                taken++;
                check_fields(text, ncols, &probe);
            } else {
                declined++;
            }
            line_end_agrees(ncols, text);
            /* in place, or from a copy: its memory ends where the row does */
            bool in_place = rnd(2);
            copied += !in_place;
            err_fast[0] = err_general[0] = '\0';
            int rf = qh_csv_rows_next(&fast, (size_t)i + 2, row, eol, in_place ? row + sizeof row : eol, &a);
            int rg = qh_csv_rows_next_general(&general, (size_t)i + 2, row, eol, &b);
            if (rf != rg || strcmp(err_fast, err_general) != 0)
                fail_msg("row '%s': fast %d '%s', general %d '%s'", text, rf, err_fast, rg, err_general);
            if (rf == 0) {
                accepted++;
                same_candle(&a, &b);
                if (took) same_candle(&a, &probe);
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
    print_message("%d columns: %zu rows taken by the fast reading, %zu declined; %zu accepted, %zu refused; %zu cut short, "
                  "%zu from a copy\n",
                  ncols, taken, declined, accepted, refused, cut, copied);
    assert_true(taken > 2000);
    assert_true(declined > 2000);
    assert_true(accepted > 1000);
    assert_true(refused > 1000);
    assert_true(cut > 1000);
    assert_true(copied > 5000);
}

static void six_columns_agree(void **state) { (void)state; random_rows_agree(6); }
static void twelve_columns_agree(void **state) { (void)state; random_rows_agree(12); }

/* qh_csv_row_fast on a copy of r with room after it filled with `after`. */
static bool fast_on(int ncols, const char *r, char after, qtr_candle *c)
{
    char buf[256 + QH_CSV_ROW_SLACK];
    size_t n = strlen(r);
    memset(buf, after, sizeof buf);
    memcpy(buf, r, n);
    return qh_csv_row_fast(ncols, buf, buf + n, c);
}

/* Named cases: what the fast reading must decline (the general way then
 * accepts or refuses with its message) and what it must take. */
static void declines_what_it_does_not_read(void **state)
{
    (void)state;
    static const char *const declined[] = {
        "1000,+1,1,1,1,1", "1000,1,1,1,1,-0", "1000,1e0,1,1,1,1", "1000,1,1,1,1,1.000000001",
        "1000,1,1,1,1,1234567890123456789", "1000,92233720368.54775808,1,1,1,1", "1000,,1,1,1,1",
        "1000,1,1,1,1", "1000,1,1,1,1,1,", "1000,1,1,1,1,1 ", "1234567890123456789,1,1,1,1,1", ",1,1,1,1,1",
        "1000,.,1,1,1,1", "1000,1.2.3,1,1,1,1", "1000,1/,1,1,1,1", "1000,1:5,1,1,1,1", "1000,12345678:,1,1,1,1",
        "1000,1.5/,1,1,1,1", "10/0,1,1,1,1,1", "1000,1.,1,1,1,.", "1000,1,1,1,1,12345678.123456789",
        "1000,1,1,1,1,1234567890123456.789", "1000,1,1,1,1,12345678901234567.8",
    };
    qtr_candle c;
    for (size_t i = 0; i < sizeof declined / sizeof declined[0]; i++)
        if (fast_on(6, declined[i], '\n', &c) || fast_on(6, declined[i], '5', &c)) fail_msg("took '%s'", declined[i]);
    static const char *const twelve_declined[] = {
        "1000,1,1,1,1,1,1999,0,0,0,0", "1000,1,1,1,1,1,1999,0,0,0,0,0,0", "1000,1,1,1,1,1,,0,0,0,0,0",
        "1000,1,1,1,1,1,1999", "1000,1,1,1,1,1,1999x,0,0,0,0,0",
    };
    for (size_t i = 0; i < sizeof twelve_declined / sizeof twelve_declined[0]; i++)
        if (fast_on(12, twelve_declined[i], '\n', &c) || fast_on(12, twelve_declined[i], '5', &c))
            fail_msg("took '%s'", twelve_declined[i]);
    assert_true(fast_on(6, "123456789012345678,9223372036.85477580,1.,.5,007,0", '\n', &c));
    assert_int_equal(c.open_time_ms, 123456789012345678LL);
    assert_int_equal(c.open, 922337203685477580LL);
    assert_int_equal(c.high, QTR_DEC_INT(1));
    assert_int_equal(c.low, QTR_DEC_SCALE / 2);
    assert_int_equal(c.close, QTR_DEC_INT(7));
    assert_int_equal(c.volume, 0);
    /* 8, 9, 16 and 17 bytes a field, either side of the 8-byte reads */
    static const struct { const char *row; int64_t t; qtr_dec o, h, l, c, v; } exact[] = {
        { "12345678,1234567.,12345678,1.234567,12345678.12345678,123456789.1234567", 12345678, 123456700000000LL,
          1234567800000000LL, 123456700LL, 1234567812345678LL, 12345678912345670LL },
        { "123456789,1234567.12345678,123456789,1.2345678,9.,0.00000001", 123456789, 123456712345678LL,
          12345678900000000LL, 123456780LL, 900000000LL, 1 },
    };
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        assert_true(fast_on(6, exact[i].row, '\n', &c));
        qtr_candle want = { .open_time_ms = exact[i].t, .open = exact[i].o, .high = exact[i].h, .low = exact[i].l,
                            .close = exact[i].c, .volume = exact[i].v };
        want.close_time_ms = c.close_time_ms;   /* not read with 6 columns */
        same_candle(&c, &want);
    }
    const char *binance = "1636934400000,1.1893,1.1954,1.1891,1.1941,9289043.5,1636934699999,11069036.46,13811,4627316.6,5513897.47,0";
    assert_true(fast_on(12, binance, '\n', &c));
    assert_int_equal(c.open_time_ms, 1636934400000LL);
    assert_int_equal(c.open, 118930000LL);
    assert_int_equal(c.high, 119540000LL);
    assert_int_equal(c.low, 118910000LL);
    assert_int_equal(c.close, 119410000LL);
    assert_int_equal(c.close_time_ms, 1636934699999LL);
    assert_int_equal(c.volume, 928904350000000LL);
}

/* The runs of digits read 8 bytes at a time (qh_csv_run) against one byte
 * at a time: runs of 0 to 30 digits, so their ends fall on every byte of
 * the three 8-byte reads, then any byte ('/' and ':' either side of the
 * digits, '.', ',', 0x80 and above, NUL): the same length (19 for 19 and
 * more) and, to 18 digits, the same value. */
static void digit_runs_agree_with_one_at_a_time(void **state)
{
    (void)state;
    static const unsigned char others[] = { '/', ':', '.', ',', 'e', ' ', 0, 0x80, 0xB0, 0xB9, 0xFF, '\r', '\n' };
    unsigned char buf[64];
    size_t ends[20] = { 0 };
    for (int i = 0; i < 300000; i++) {
        size_t run = rnd(31);
        for (size_t j = 0; j < sizeof buf; j++)
            buf[j] = j < run ? (unsigned char)('0' + rnd(10))
                             : rnd(2) ? others[rnd((uint32_t)sizeof others)] : (unsigned char)rnd(256);
        const char *p = (const char *)buf;
        uint64_t v = 0;
        unsigned n = qh_csv_run(p, &v);
        size_t want = 0;
        uint64_t want_v = 0;
        while (want < sizeof buf && buf[want] >= '0' && buf[want] <= '9') want_v = want_v * 10 + (uint64_t)(buf[want++] - '0');
        if (n != (want > 18 ? 19 : want)) fail_msg("run of %zu digits: length %u", want, n);
        if (want <= 18 && v != want_v) fail_msg("run of %zu digits: %llu, expected %llu", want, (unsigned long long)v, (unsigned long long)want_v);
        ends[n]++;
    }
    for (int n = 0; n < 20; n++) assert_true(ends[n] > 1000);
}

/* The former one-byte-at-a-time reading of a decimal field: the reference
 * for qh_csv_fast_dec. */
static bool dec_one_at_a_time(const char **pp, qtr_dec *out)
{
    static const uint64_t unit_of[9] = { 100000000, 10000000, 1000000, 100000, 10000, 1000, 100, 10, 1 };
    const char *p = *pp;
    uint64_t m = 0;
    size_t digits = 0, frac = 0;
    while (*p >= '0' && *p <= '9') m = m * 10 + (uint64_t)(*p++ - '0'), digits++;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') m = m * 10 + (uint64_t)(*p++ - '0'), digits++, frac++;
    }
    if (digits == 0 || digits > 18 || frac > 8) return false;
    if (m > (uint64_t)INT64_MAX / unit_of[frac]) return false;
    *out = (qtr_dec)(m * unit_of[frac]);
    *pp = p;
    return true;
}

/* Decimals of 0 to 20 digits before the dot (the dot at every byte of the
 * 8-byte reads; leading zeros keep long ones in range) and 0 to 12 after it, sometimes a second dot, then any
 * bytes: the 8-byte readings (a whole short price at once, or runs of
 * digits) give the reference's answer, value and end; each field taken
 * also has qtr_dec_parse()'s value. */
static void decimals_agree_with_one_at_a_time(void **state)
{
    (void)state;
    static const unsigned char others[] = { '/', ':', '.', ',', 'e', '-', 0, 0x80, 0xAE, 0xFF, '\r', '\n' };
    unsigned char buf[96];
    size_t taken = 0, dots_at[21] = { 0 };
    for (int i = 0; i < 400000; i++) {
        size_t len = 0, whole = rnd(21);
        bool zeros = rnd(2);   /* leading zeros: long whole parts within range too */
        for (size_t k = 0; k < whole; k++) buf[len++] = (unsigned char)(zeros && k + 11 < whole ? '0' : '0' + rnd(10));
        bool dot = rnd(4);
        if (dot) buf[len++] = '.';
        for (uint32_t k = dot ? rnd(13) : 0; k > 0; k--) buf[len++] = (unsigned char)('0' + rnd(10));
        if (rnd(20) == 0) buf[len++] = '.';
        while (len < sizeof buf) buf[len++] = rnd(3) ? others[rnd((uint32_t)sizeof others)] : (unsigned char)rnd(256);
        const char *start = (const char *)buf, *p = start, *q = start;
        qtr_dec got = -1, want = -1;
        bool a = qh_csv_fast_dec(&p, &got), b = dec_one_at_a_time(&q, &want);
        if (a != b || p != q || got != want)
            fail_msg("'%.*s': %d %lld at %td, reference %d %lld at %td", 24, start, a, (long long)got, p - start, b,
                     (long long)want, q - start);
        if (a) {
            qtr_dec v;
            assert_int_equal(qtr_dec_parse(start, (size_t)(p - start), &v), QTR_DEC_OK);
            assert_int_equal(v, got);
            taken++;
            if (dot) dots_at[whole]++;
        }
    }
    assert_true(taken > 100000);
    for (int k = 0; k <= 18; k++) assert_true(dots_at[k] > 200);
}

/* Reads stay within QH_CSV_ROW_SLACK bytes after a row's end, whatever
 * follows it (digits, a long decimal, commas): each row ends exactly that
 * far before an unreadable page, so a read past it faults; a row read
 * through qh_csv_rows_next with its memory ending where it ends is copied,
 * and read in place when the slack is there. */
static void reads_stay_within_the_slack(void **state)
{
    (void)state;
    long page = sysconf(_SC_PAGESIZE);
    char *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(map != MAP_FAILED);
    assert_int_equal(mprotect(map + page, (size_t)page, PROT_NONE), 0);
    char *wall = map + page;
    static const char *const after[] = {
        "99999999999999999999999999999999999999999999999999999999999999999",
        "999999999999999999.999999999999999999999999999999999999999999999",
        ",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,",
        "1.1,1.1,1.1,1.1,1.1,1.1,1.1,1.1,1.1,1.1,1.1,1.1,1.1,1.1,1.1,1.1,",
    };
    static const char *const rows[] = {
        "1000,1,1,1,1,", "1000,1,1,1,1,1", "1000,1,1,1,1,1.", "1000,1,1,1,1,123456789012345678", "1000,", "1",
        "1000,1,1,1,1,1,1999,", "1000,1,1,1,1,1,1999,0,0,0,", "1000,1,1,1,1,1,1999,0,0,0,0,", "1000,1,1,1,1,1,1999,0,0,0,0,0",
        "123456789012345678,999999999999999999,99999999999.99999999,1.1,1.1,1",
    };
    char err[256];
    size_t taken = 0;
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        size_t n = strlen(rows[r]);
        for (size_t a = 0; a < sizeof after / sizeof after[0]; a++) {
            for (int ncols = 6; ncols <= 12; ncols += 6) {
                char *row = wall - QH_CSV_ROW_SLACK - n;
                memcpy(row, rows[r], n);
                memcpy(row + n, after[a], QH_CSV_ROW_SLACK);
                qtr_candle c;
                const char *eol;
                taken += qh_csv_row_fast(ncols, row, row + n, &c);
                assert_false(qh_csv_line_fast(ncols, row, row + n, &eol, &c));   /* no line end before row + n */
                /* its memory ends with it: read from a copy */
                row = wall - n;
                memcpy(row, rows[r], n);
                qh_csv_rows rs = { .name = "w.csv", .err = err, .errlen = sizeof err, .ncols = ncols, .first = true };
                qh_csv_rows gs = rs;
                int rc = qh_csv_rows_next(&rs, 2, row, wall, wall, &c);
                assert_int_equal(rc, qh_csv_rows_next_general(&gs, 2, row, wall, &c));
            }
        }
    }
    /* taken in place: the two 12-column rows whatever follows (their tail
     * is only counted for commas), the two whole 6-column ones where a ','
     * follows (digits would go on with their last field) */
    assert_int_equal(taken, 2 * 4 + 2);
    munmap(map, (size_t)page * 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(six_columns_agree),
        cmocka_unit_test(twelve_columns_agree),
        cmocka_unit_test(declines_what_it_does_not_read),
        cmocka_unit_test(digit_runs_agree_with_one_at_a_time),
        cmocka_unit_test(decimals_agree_with_one_at_a_time),
        cmocka_unit_test(reads_stay_within_the_slack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
