/*
 * The candle CSV row read in one pass over its bytes, for the rows nearly
 * every file is made of: a time of 1 to 18 digits, then decimals of plain
 * digits with an optional '.', at most 18 digits and 8 decimals, no sign,
 * no exponent. Such a decimal has the value qtr_dec_parse() gives it (the
 * same as the 64-bit path in money.h), exactly. Digits are read 8 bytes at
 * a time where the row has 8 more bytes (a little-endian machine). Anything else (a sign, an
 * exponent, more digits, an empty field, a wrong column count, any other
 * byte) makes it answer false, and the caller reads the row the general way
 * (qh_csv_rows_next_general), which gives the same values and every refusal
 * its message. It checks no rule between fields: the caller does.
 */
#ifndef QH_CSV_ROW_FAST_H
#define QH_CSV_ROW_FAST_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <qtr/events.h>
#include <qtr/money.h>

/* Bytes [0, k) of a (digits 0-9, k <= 8) as a number: the first byte the
 * highest digit. */
static inline uint64_t qh_csv_eight_digits(uint64_t a, unsigned k)
{
    uint64_t d = k ? a << (8 * (8 - k)) : 0;
    d = ((d & 0x0F0F0F0F0F0F0F0FULL) * 2561) >> 8;
    d = ((d & 0x00FF00FF00FF00FFULL) * 6553601) >> 16;
    return ((d & 0x0000FFFF0000FFFFULL) * 42949672960001ULL) >> 32;
}

/* The run of digits at *pp (up to the first other byte, left at *pp) added
 * to *m (which may wrap past 19 digits: callers refuse more than 18) and
 * counted in *digits. Where 8 bytes can be read before eol, 8 at a time. */
static inline void qh_csv_fast_digits(const char **pp, const char *eol, uint64_t *m, size_t *digits)
{
    const char *p = *pp;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    static const uint64_t pow10[9] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000 };
    while (eol - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t a = x ^ 0x3030303030303030ULL;   /* a digit's byte becomes 0..9 */
        /* the high bit of each byte that is not a digit (a >= 10); a carry
         * only leaves such a byte, so the lowest one found is exact */
        uint64_t other = (a | (a + 0x7676767676767676ULL)) & 0x8080808080808080ULL;
        unsigned k = other ? (unsigned)__builtin_ctzll(other) >> 3 : 8;
        if (k == 0) break;
        *m = *m * pow10[k] + qh_csv_eight_digits(a, k);
        *digits += k;
        p += k;
        if (k < 8) {
            *pp = p;
            return;
        }
    }
#endif
    unsigned c;
    while (p < eol && (c = (unsigned)((unsigned char)*p - '0')) <= 9) *m = *m * 10 + c, p++, (*digits)++;
    *pp = p;
}

/* A price as most files write it, "1.1893": digits, '.', digits and the
 * byte after them all within the 8 bytes at p. True with its digits (the
 * dot taken out) in *m, their count in *digits, the decimals in *frac and
 * *pp past them; false leaves everything as it was. */
static inline bool qh_csv_fast_short_dec(const char **pp, const char *eol, uint64_t *m, size_t *digits, size_t *frac)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const char *p = *pp;
    if (eol - p < 8) return false;
    uint64_t x;
    memcpy(&x, p, 8);
    uint64_t a = x ^ 0x3030303030303030ULL;
    uint64_t other = (a | (a + 0x7676767676767676ULL)) & 0x8080808080808080ULL;
    if (!other) return false;
    unsigned dot = (unsigned)__builtin_ctzll(other) >> 3;
    if (dot > 6 || p[dot] != '.') return false;
    /* the dot carries nothing out, so the next flag after it is exact */
    uint64_t after = other & ~((2ULL << (8 * dot + 7)) - 1);
    if (!after) return false;   /* the decimals may go on past these 8 bytes */
    unsigned end = (unsigned)__builtin_ctzll(after) >> 3;
    uint64_t below = (1ULL << (8 * dot)) - 1;
    uint64_t joined = (a & below) | ((a >> 8) & ~below);   /* the dot taken out */
    *m = qh_csv_eight_digits(joined, end - 1);
    *digits = end - 1;
    *frac = end - dot - 1;
    *pp = p + end;
    return true;
#else
    (void)pp, (void)eol, (void)m, (void)digits, (void)frac;
    return false;
#endif
}

/* Digits [. digits] at *pp, up to the first other byte (left at *pp). */
static inline bool qh_csv_fast_dec(const char **pp, const char *eol, qtr_dec *out)
{
    static const uint64_t unit_of[9] = { 100000000, 10000000, 1000000, 100000, 10000, 1000, 100, 10, 1 };
    const char *p = *pp;
    uint64_t m = 0;
    size_t digits = 0, frac = 0;
    if (!qh_csv_fast_short_dec(&p, eol, &m, &digits, &frac)) {
        qh_csv_fast_digits(&p, eol, &m, &digits);
        if (p < eol && *p == '.') {
            size_t whole = digits;
            p++;
            qh_csv_fast_digits(&p, eol, &m, &digits);
            frac = digits - whole;
        }
    }
    if (digits == 0 || digits > 18 || frac > 8) return false;
    uint64_t unit = unit_of[frac];
    if (m > (uint64_t)INT64_MAX / unit) return false;
    *out = (qtr_dec)(m * unit);
    *pp = p;
    return true;
}

/* A time: 1 to 18 digits at *pp, up to the first other byte. */
static inline bool qh_csv_fast_ms(const char **pp, const char *eol, int64_t *out)
{
    const char *p = *pp;
    uint64_t v = 0;
    size_t digits = 0;
    qh_csv_fast_digits(&p, eol, &v, &digits);
    if (digits == 0 || digits > 18) return false;
    *out = (int64_t)v;
    *pp = p;
    return true;
}

/* The field ended at p: a comma follows (then *pp is past it) or, for the
 * last field, the end of the row. */
static inline bool qh_csv_fast_sep(const char **pp, const char *eol, bool last)
{
    if (last) return *pp == eol;
    if (*pp == eol || **pp != ',') return false;
    (*pp)++;
    return true;
}

/* A row of ncols (6 or 12) columns [p, eol): its open time, prices, volume
 * and (12 columns) close time into *c. False: read it the general way. */
static inline bool qh_csv_row_fast(int ncols, const char *p, const char *eol, qtr_candle *c)
{
    bool six = ncols == 6;
    if (!qh_csv_fast_ms(&p, eol, &c->open_time_ms) || !qh_csv_fast_sep(&p, eol, false) ||
        !qh_csv_fast_dec(&p, eol, &c->open) || !qh_csv_fast_sep(&p, eol, false) ||
        !qh_csv_fast_dec(&p, eol, &c->high) || !qh_csv_fast_sep(&p, eol, false) ||
        !qh_csv_fast_dec(&p, eol, &c->low) || !qh_csv_fast_sep(&p, eol, false) ||
        !qh_csv_fast_dec(&p, eol, &c->close) || !qh_csv_fast_sep(&p, eol, false) ||
        !qh_csv_fast_dec(&p, eol, &c->volume) || !qh_csv_fast_sep(&p, eol, six))
        return false;
    if (six) return true;
    if (ncols != 12 || !qh_csv_fast_ms(&p, eol, &c->close_time_ms) || !qh_csv_fast_sep(&p, eol, false)) return false;
    /* the other five columns are not read: exactly four more commas */
    int commas = 0;
    for (; p < eol; p++) commas += *p == ',';
    return commas == 4;
}

#endif
