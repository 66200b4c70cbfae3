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
 */
#ifndef QH_CSV_ROW_FAST_H
#define QH_CSV_ROW_FAST_H

#include <stdbool.h>
#include <stdint.h>

#include <qtr/events.h>
#include <qtr/money.h>

/* Digits [. digits] at *pp, up to the first other byte (left at *pp). */
static inline bool qh_csv_fast_dec(const char **pp, const char *eol, qtr_dec *out)
{
    static const uint64_t unit_of[9] = { 100000000, 10000000, 1000000, 100000, 10000, 1000, 100, 10, 1 };
    const char *p = *pp;
    const char *start = p;
    uint64_t m = 0;   /* may wrap past 19 digits: such a field is declined below */
    unsigned d;
    while (p < eol && (d = (unsigned)((unsigned char)*p - '0')) <= 9) m = m * 10 + d, p++;
    size_t digits = (size_t)(p - start), frac = 0;
    if (p < eol && *p == '.') {
        const char *frac_start = ++p;
        while (p < eol && (d = (unsigned)((unsigned char)*p - '0')) <= 9) m = m * 10 + d, p++;
        frac = (size_t)(p - frac_start);
        digits += frac;
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
    const char *start = p;
    int64_t v = 0;
    unsigned d;
    while (p < eol && (d = (unsigned)((unsigned char)*p - '0')) <= 9 && p - start < 18) v = v * 10 + (int64_t)d, p++;
    if (p == start) return false;
    *out = v;
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
