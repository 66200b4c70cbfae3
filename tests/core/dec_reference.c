/* dec_reference.c — see dec_reference.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dec_reference.h"

const int dec_ref_modes[] = { DEC_REF_STRICT, QTR_ROUND_DOWN, QTR_ROUND_UP, QTR_ROUND_FLOOR,
                             QTR_ROUND_CEIL, QTR_ROUND_HALF_UP, QTR_ROUND_HALF_EVEN };
static const char MAX_DIGITS[] = "9223372036854775807";   /* QTR_DEC_MAX in units */


/* ---- the reference ------------------------------------------------------ */

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Compare two digit strings without leading zeros as whole numbers. */
static int cmp_digits(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb) return la < lb ? -1 : 1;
    return strcmp(a, b) < 0 ? -1 : strcmp(a, b) > 0 ? 1 : 0;
}

/* Add one to a digit string in place (room for one more digit is there). */
static void increment(char *d)
{
    size_t n = strlen(d);
    size_t k = n;
    while (k > 0 && d[k - 1] == '9') d[--k] = '0';
    if (k > 0) { d[k - 1]++; return; }
    memmove(d + 1, d, n + 1);
    d[0] = '1';
}

dec_outcome dec_reference(const char *text, size_t len, int mode)
{
    dec_outcome r = { QTR_DEC_ESYNTAX, 0 };
    /* syntax: [+-] digits-with-at-most-one-dot [(e|E) [+-] digits] */
    size_t i = 0;
    bool neg = false;
    if (i < len && (text[i] == '+' || text[i] == '-')) neg = text[i++] == '-';
    char *mant = malloc(len + 1);          /* every mantissa digit, the dot dropped */
    assert_non_null(mant);
    size_t nm = 0, point = (size_t)-1;     /* digits before the dot */
    for (; i < len && text[i] != 'e' && text[i] != 'E'; i++) {
        if (text[i] == '.' && point == (size_t)-1) point = nm;
        else if (is_digit(text[i])) mant[nm++] = text[i];
        else { free(mant); return r; }
    }
    mant[nm] = '\0';
    if (nm == 0) { free(mant); return r; }
    if (point == (size_t)-1) point = nm;
    /* the exponent as digit text: huge ones are never converted */
    bool eneg = false, ehuge = false;
    long long e = 0;
    if (i < len) {
        i++;
        if (i < len && (text[i] == '+' || text[i] == '-')) eneg = text[i++] == '-';
        if (i >= len) { free(mant); return r; }
        size_t start = i;
        for (; i < len; i++)
            if (!is_digit(text[i])) { free(mant); return r; }
        while (start < len && text[start] == '0') start++;
        if (len - start > 15) ehuge = true;
        else for (size_t k = start; k < len; k++) e = e * 10 + (text[k] - '0');
        if (eneg) e = -e;
    }
    /* zero whatever the exponent */
    const char *d = mant;
    size_t lead = strspn(d, "0");
    if (lead == nm) { free(mant); r.st = QTR_DEC_OK; return r; }
    /* value * 10^8 = mant * 10^(e - (nm - point) + 8): where does the point
     * fall in mant? at index `at` (may be before 0 or past nm) */
    if (ehuge && !eneg) { free(mant); r.st = QTR_DEC_ERANGE; return r; }
    long long at = ehuge ? -(1LL << 60) : (long long)point + e + QTR_DEC_DECIMALS;
    /* whole part: mant[lead..at) padded with zeros past the end */
    char whole[64] = "";
    if (at - (long long)lead > 19) { free(mant); r.st = QTR_DEC_ERANGE; return r; }
    size_t w = 0;
    for (long long k = (long long)lead; k < at; k++) whole[w++] = k < (long long)nm ? d[k] : '0';
    whole[w] = '\0';
    if (w == 0) strcpy(whole, "0");
    /* fraction: mant[at..nm), preceded by zeros if at < 0 */
    bool inexact = false;
    for (long long k = at < 0 ? 0 : at; k < (long long)nm; k++) inexact |= d[k] != '0';
    int half = -1;                          /* fraction vs one half: -1, 0, +1 */
    if (at >= 0 && at < (long long)nm) {
        char first = d[at];
        bool rest = false;
        for (size_t k = (size_t)at + 1; k < nm; k++) rest |= d[k] != '0';
        half = first > '5' ? 1 : first < '5' ? -1 : rest ? 1 : 0;
    }
    free(mant);
    if (mode == DEC_REF_STRICT) {
        int c = cmp_digits(whole, MAX_DIGITS);
        if (c > 0 || (c == 0 && inexact)) { r.st = QTR_DEC_ERANGE; return r; }
        if (inexact) { r.st = QTR_DEC_EPRECISION; return r; }
    } else if (inexact) {
        bool odd = (whole[strlen(whole) - 1] - '0') % 2 == 1, up;
        switch (mode) {
        case QTR_ROUND_DOWN: up = false; break;
        case QTR_ROUND_UP: up = true; break;
        case QTR_ROUND_FLOOR: up = neg; break;
        case QTR_ROUND_CEIL: up = !neg; break;
        case QTR_ROUND_HALF_UP: up = half >= 0; break;
        default: up = half > 0 || (half == 0 && odd); break;
        }
        if (up) increment(whole);
    }
    if (cmp_digits(whole, MAX_DIGITS) > 0) { r.st = QTR_DEC_ERANGE; return r; }
    unsigned long long u = strtoull(whole, NULL, 10);
    r.st = QTR_DEC_OK;
    r.v = neg ? -(qtr_dec)u : (qtr_dec)u;
    return r;
}

/* ---- comparing ---------------------------------------------------------- */

dec_outcome dec_subject(const char *text, size_t len, int mode)
{
    dec_outcome r = { QTR_DEC_OK, 0 };
    qtr_dec v = 4242;                      /* must stay untouched on refusal */
    r.st = mode == DEC_REF_STRICT ? qtr_dec_parse(text, len, &v) : qtr_dec_parse_round(text, len, (qtr_rounding)mode, &v);
    if (r.st == QTR_DEC_OK) r.v = v;
    else if (v != 4242) fail_msg("'%.*s' mode %d: refused but the output was written", (int)len, text, mode);
    return r;
}

const size_t dec_ref_n_modes = sizeof dec_ref_modes / sizeof dec_ref_modes[0];

void dec_agree(const char *text, size_t len)
{
    for (size_t m = 0; m < dec_ref_n_modes; m++) {
        dec_outcome want = dec_reference(text, len, dec_ref_modes[m]), got = dec_subject(text, len, dec_ref_modes[m]);
        if (got.st != want.st || got.v != want.v)
            fail_msg("'%.*s' mode %d: money.h %s %lld, reference %s %lld", (int)len, text, dec_ref_modes[m],
                     qtr_dec_status_str(got.st), (long long)got.v, qtr_dec_status_str(want.st), (long long)want.v);
    }
}
