/*
 * The candle CSV row read in one pass over its bytes, for the rows nearly
 * every file is made of: a time of 1 to 18 digits, then decimals of plain
 * digits with an optional '.', at most 18 digits and 8 decimals, no sign,
 * no exponent. Such a decimal has the value qtr_dec_parse() gives it (the
 * same as the 64-bit path in money.h), exactly. Anything else (a sign, an
 * exponent, more digits, an empty field, a wrong column count, any other
 * byte) makes it answer false, and the caller reads the row the general way
 * (qh_csv_rows_next_general), which gives the same values and every refusal
 * its message. It checks no rule between fields: the caller does.
 *
 * Bytes are read 8 at a time (a little-endian machine; elsewhere nothing is
 * read here and every row goes the general way) with no bound check inside
 * a row: the caller guarantees QH_CSV_ROW_SLACK readable bytes after the
 * row's end (the stream's buffer has them; qh_csv_rows_next copies a row
 * near the end of its memory first). A field reads at most the 43 bytes
 * from its start, and a field starts at or before the row's end; bytes
 * past the end are read but never taken: a field's separator must be a ','
 * before the end, and the last field end at the end.
 */
#ifndef QH_CSV_ROW_FAST_H
#define QH_CSV_ROW_FAST_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <qtr/events.h>
#include <qtr/money.h>

#include "market/data_file.h"

/* Readable bytes a row needs after its end: a field starting at the end
 * reads 43 bytes (qh_csv_fast_dec), the commas of a 12-column row's tail 7. */
#define QH_CSV_ROW_SLACK 64

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define QH_CSV_ROW_FAST_ON 1
#else
#define QH_CSV_ROW_FAST_ON 0
#endif

#define QH_CSV_ZEROS 0x3030303030303030ULL   /* '0' in every byte */
#define QH_CSV_HIGHS 0x8080808080808080ULL

static inline uint64_t qh_csv_load8(const char *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

/* a: 8 bytes XORed with '0' (a digit's byte becomes 0..9). The high bit of
 * each byte that is not a digit (a >= 10). A carry leaves only a byte >=
 * 0x8A (none of "0-9.,"), so every flag up to the first such byte is exact. */
static inline uint64_t qh_csv_others(uint64_t a)
{
    return (a | (a + 0x7676767676767676ULL)) & QH_CSV_HIGHS;
}

/* The digits in bytes [0, n) of a (values 0..9, n 1..8) as a number, the
 * first byte the highest digit: shifted to the top, the bytes below are
 * zeros, then pairs, fours and eights joined by three multiplies. */
static inline uint64_t qh_csv_digits(uint64_t a, unsigned n)
{
    uint64_t d = a << (64 - 8 * n);
    d = (d * 2561) >> 8;
    d = ((d & 0x00FF00FF00FF00FFULL) * 6553601) >> 16;
    return ((d & 0x0000FFFF0000FFFFULL) * 42949672960001ULL) >> 32;
}

#define QH_CSV_POW10 { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000 }

/* The run of digits at p (up to the first other byte): its length, 0 to
 * 18, or 19 for 19 and more; *v its value when 18 or fewer. Reads the 24
 * bytes at p. */
static inline unsigned qh_csv_run(const char *p, uint64_t *v)
{
    static const uint64_t pow10[9] = QH_CSV_POW10;
    uint64_t a = qh_csv_load8(p) ^ QH_CSV_ZEROS, o = qh_csv_others(a);
    if (o) {
        unsigned k = (unsigned)__builtin_ctzll(o) >> 3;
        *v = k ? qh_csv_digits(a, k) : 0;
        return k;
    }
    uint64_t high = qh_csv_digits(a, 8);
    a = qh_csv_load8(p + 8) ^ QH_CSV_ZEROS;
    o = qh_csv_others(a);
    if (o) {
        unsigned k = (unsigned)__builtin_ctzll(o) >> 3;
        *v = k ? high * pow10[k] + qh_csv_digits(a, k) : high;
        return 8 + k;
    }
    high = high * 100000000 + qh_csv_digits(a, 8);
    a = qh_csv_load8(p + 16) ^ QH_CSV_ZEROS;
    o = qh_csv_others(a);
    unsigned k = o ? (unsigned)__builtin_ctzll(o) >> 3 : 8;
    if (k > 2) return 19;
    *v = k ? high * pow10[k] + qh_csv_digits(a, k) : high;
    return 16 + k;
}

/* As qh_csv_digits, for n 0..8 (0: none, the value 0). */
static inline uint64_t qh_csv_digits0(uint64_t a, unsigned n)
{
    unsigned half = 32 - 4 * n;   /* two shifts: a shift by 64 is undefined */
    uint64_t d = (a << half) << half;
    d = (d * 2561) >> 8;
    d = ((d & 0x00FF00FF00FF00FFULL) * 6553601) >> 16;
    return ((d & 0x0000FFFF0000FFFFULL) * 42949672960001ULL) >> 32;
}

static const uint64_t qh_csv_unit_of[9] = { 100000000, 10000000, 1000000, 100000, 10000, 1000, 100, 10, 1 };

/* qh_csv_fast_dec for what its 8-byte cases leave: a whole part of 8 or
 * more digits, decimals past the 15th byte, as two runs of digits. Reads
 * at most the 43 bytes at *pp (the whole part's 24, its end at most 18
 * on, the decimals' 24 after its '.'). */
static __attribute__((noinline)) bool qh_csv_fast_dec_runs(const char **pp, qtr_dec *out)
{
    static const uint64_t pow10[9] = QH_CSV_POW10;
    static const uint64_t max_of[9] = {
        INT64_MAX / 100000000, INT64_MAX / 10000000, INT64_MAX / 1000000, INT64_MAX / 100000, INT64_MAX / 10000,
        INT64_MAX / 1000,      INT64_MAX / 100,      INT64_MAX / 10,      INT64_MAX,
    };
    const char *p = *pp;
    uint64_t m, decimals = 0;
    unsigned whole = qh_csv_run(p, &m), frac = 0;
    if (whole > 18) return false;
    p += whole;
    if (*p == '.') {
        frac = qh_csv_run(p + 1, &decimals);
        if (frac > 8) return false;
        p += 1 + frac;
    }
    if (whole + frac == 0 || whole + frac > 18) return false;
    m = m * pow10[frac] + decimals;
    if (m > max_of[frac]) return false;
    *out = (qtr_dec)(m * qh_csv_unit_of[frac]);
    *pp = p;
    return true;
}

/* A decimal, digits [. digits], at *pp up to the first other byte (*pp is
 * left there). The common shapes from the first 8 bytes (a '.' or the end
 * among them) and at most 8 more; the rest by qh_csv_fast_dec_runs. Reads
 * at most the 43 bytes at *pp. */
static inline __attribute__((always_inline)) bool qh_csv_fast_dec(const char **pp, qtr_dec *out)
{
    static const uint64_t pow10[9] = QH_CSV_POW10;
    const char *p = *pp;
    uint64_t a = qh_csv_load8(p) ^ QH_CSV_ZEROS, o = qh_csv_others(a);
    if (!o) return qh_csv_fast_dec_runs(pp, out);   /* 8 digits or more before any '.' */
    unsigned i = (unsigned)__builtin_ctzll(o) >> 3;   /* the first byte not a digit */
    if (p[i] != '.') {
        /* a whole number of 1 to 7 digits */
        if (i == 0) return false;
        *out = (qtr_dec)(qh_csv_digits(a, i) * 100000000);
        *pp = p + i;
        return true;
    }
    /* the digits with the dot taken out (bytes [0, 7) of joined): the
     * bytes from the dot on come from a >> 8 */
    uint64_t from_dot = -(1ULL << (8 * i));
    uint64_t joined = a ^ ((a ^ (a >> 8)) & from_dot);
    uint64_t after = o & (o - 1);   /* exact: '.' carries nothing */
    if (after) {
        /* "1.1893": the decimals end within these 8 bytes, at most 6 digits */
        unsigned end = (unsigned)__builtin_ctzll(after) >> 3;
        if (end < 2) return false;   /* "." alone */
        *out = (qtr_dec)(qh_csv_digits(joined, end - 1) * qh_csv_unit_of[end - i - 1]);
        *pp = p + end;
        return true;
    }
    /* "64500.01", "9289043.5": the decimals go on into the next 8 bytes
     * and end there (k more digits), at most 8 of them: at most 15 digits
     * with at most 7 before the dot, no overflow */
    uint64_t a1 = qh_csv_load8(p + 8) ^ QH_CSV_ZEROS, o1 = qh_csv_others(a1);
    if (!o1) return qh_csv_fast_dec_runs(pp, out);
    unsigned k = (unsigned)__builtin_ctzll(o1) >> 3, frac = 7 - i + k;
    if (frac > 8) return false;
    *out = (qtr_dec)((qh_csv_digits(joined, 7) * pow10[k] + qh_csv_digits0(a1, k)) * qh_csv_unit_of[frac]);
    *pp = p + 8 + k;
    return true;
}

/* A time: 1 to 18 digits at *pp, up to the first other byte. */
static inline bool qh_csv_fast_ms(const char **pp, int64_t *out)
{
    uint64_t v;
    unsigned n = qh_csv_run(*pp, &v);
    if (n - 1 > 17) return false;
    *out = (int64_t)v;
    *pp += n;
    return true;
}

/* A ',' at *pp before eol: then *pp is past it. */
static inline bool qh_csv_fast_comma(const char **pp, const char *eol)
{
    if (*pp >= eol || **pp != ',') return false;
    (*pp)++;
    return true;
}

/* The commas in [p, eol). Reads up to 7 bytes past eol. */
static inline size_t qh_csv_commas(const char *p, const char *eol)
{
    size_t n = 0;
    for (; p < eol; p += 8) {
        uint64_t x = qh_csv_load8(p) ^ 0x2C2C2C2C2C2C2C2CULL;   /* a comma's byte becomes 0 */
        /* the high bit of each zero byte, exactly: no carry leaves a byte */
        uint64_t zero = ~(((x & 0x7F7F7F7F7F7F7F7FULL) + 0x7F7F7F7F7F7F7F7FULL) | x) & QH_CSV_HIGHS;
        if (eol - p < 8) zero &= (1ULL << (8 * (eol - p))) - 1;
        n += ((zero >> 7) * 0x0101010101010101ULL) >> 56;
    }
    return n;
}

/* The fields a row of ncols (6 or 12) columns starts with at p: its open
 * time, prices, volume and (12 columns) close time into *c. The byte after
 * the last of them, or NULL: read the row the general way. Every separator
 * is a ',' before eol. */
static inline const char *qh_csv_row_fields(int ncols, const char *p, const char *eol, qtr_candle *c)
{
    if (!QH_CSV_ROW_FAST_ON) return NULL;
    if (!qh_csv_fast_ms(&p, &c->open_time_ms) || !qh_csv_fast_comma(&p, eol) || !qh_csv_fast_dec(&p, &c->open) ||
        !qh_csv_fast_comma(&p, eol) || !qh_csv_fast_dec(&p, &c->high) || !qh_csv_fast_comma(&p, eol) ||
        !qh_csv_fast_dec(&p, &c->low) || !qh_csv_fast_comma(&p, eol) || !qh_csv_fast_dec(&p, &c->close) ||
        !qh_csv_fast_comma(&p, eol) || !qh_csv_fast_dec(&p, &c->volume))
        return NULL;
    if (ncols == 6) return p;
    if (ncols != 12 || !qh_csv_fast_comma(&p, eol) || !qh_csv_fast_ms(&p, &c->close_time_ms)) return NULL;
    return p;
}

/* A row [p, eol) of ncols columns, QH_CSV_ROW_SLACK readable bytes after
 * eol: its open time, prices, volume and (12 columns) close time into *c.
 * False: read it the general way. */
static inline bool qh_csv_row_fast(int ncols, const char *p, const char *eol, qtr_candle *c)
{
    const char *q = qh_csv_row_fields(ncols, p, eol, c);
    if (!q) return false;
    if (ncols == 6) return q == eol;
    /* the other five columns are not read: exactly four more commas */
    return q < eol && *q == ',' && qh_csv_commas(q + 1, eol) == 4;
}

/* As qh_csv_row_fast for a row at p whose end is not known yet: the first
 * '\n' in [p, end) ends its line, and a '\r' before that '\n' is not part of
 * the row (as the line readers do), QH_CSV_ROW_SLACK readable bytes after
 * end. True with the row's end (the '\r' or '\n') in *eol. */
static inline __attribute__((always_inline)) bool qh_csv_line_fast(int ncols, const char *p, const char *end,
                                                                   const char **eol, qtr_candle *c)
{
    const char *q = qh_csv_row_fields(ncols, p, end, c);
    if (!q) return false;
    if (ncols == 6) {
        /* the fields hold no '\n': a line ending here is the first */
        if (q < end && *q == '\n') { *eol = q; return true; }
        if (end - q >= 2 && q[0] == '\r' && q[1] == '\n') { *eol = q; return true; }
        return false;
    }
    if (q >= end) return false;
    const char *nl = memchr(q, '\n', (size_t)(end - q));
    if (!nl) return false;
    const char *e = nl > q && nl[-1] == '\r' ? nl - 1 : nl;
    if (e - p > QH_DATA_LINE_MAX || e == q || *q != ',' || qh_csv_commas(q + 1, e) != 4) return false;
    *eol = e;
    return true;
}

#endif
