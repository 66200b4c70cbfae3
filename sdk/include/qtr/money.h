/*
 * qtr/money.h — exact fixed-point decimals for prices, quantities, fees and PnL.
 *
 * A qtr_dec is a signed 64-bit integer holding value * 10^8 (QTR_DEC_SCALE).
 * 1 USDT is 100000000; the smallest step is 0.00000001, the largest magnitude
 * about 92,233,720,368.54775807. Binance never sends more than 8 decimals.
 *
 * Rules that keep money exact:
 *   - never convert a price, quantity, fee or PnL to float or double;
 *   - parse exchange strings with qtr_dec_parse(), print with qtr_dec_format();
 *   - every operation that can overflow is checked and returns false instead
 *     of wrapping; products and quotients use 128-bit intermediates and say
 *     how they round.
 *
 * Everything here is static inline: plugins use it without linking the host.
 */
#ifndef QTR_MONEY_H
#define QTR_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int64_t qtr_dec;

#define QTR_DEC_SCALE    INT64_C(100000000)
#define QTR_DEC_DECIMALS 8
#define QTR_DEC_MAX      INT64_MAX
#define QTR_DEC_MIN      (-INT64_MAX) /* symmetric: INT64_MIN is never produced */
/* Longest text qtr_dec_format() writes, with the terminating NUL. */
#define QTR_DEC_STRLEN   24

/* A whole number as a decimal: QTR_DEC_INT(5) is 5.00000000. */
#define QTR_DEC_INT(n) ((qtr_dec)(n) * QTR_DEC_SCALE)

typedef enum qtr_rounding {
    QTR_ROUND_DOWN = 0,      /* toward zero (truncate)             */
    QTR_ROUND_UP,            /* away from zero                     */
    QTR_ROUND_FLOOR,         /* toward -infinity                   */
    QTR_ROUND_CEIL,          /* toward +infinity                   */
    QTR_ROUND_HALF_UP,       /* nearest, ties away from zero       */
    QTR_ROUND_HALF_EVEN      /* nearest, ties to even (banker's)   */
} qtr_rounding;

/* Result codes of qtr_dec_parse(). */
typedef enum qtr_dec_status {
    QTR_DEC_OK = 0,
    QTR_DEC_ESYNTAX,     /* not a decimal number                   */
    QTR_DEC_EPRECISION,  /* between two units of 0.00000001        */
    QTR_DEC_ERANGE       /* magnitude too large for qtr_dec        */
} qtr_dec_status;

static inline const char *qtr_dec_status_str(qtr_dec_status s)
{
    switch (s) {
    case QTR_DEC_OK: return "ok";
    case QTR_DEC_ESYNTAX: return "not a decimal number";
    case QTR_DEC_EPRECISION: return "more than 8 decimal places";
    case QTR_DEC_ERANGE: return "number out of range";
    }
    return "unknown";
}

/* 128-bit intermediates (gcc and clang); __extension__ keeps -Wpedantic quiet. */
__extension__ typedef __int128 qtr__i128;
__extension__ typedef unsigned __int128 qtr__u128;

/* The rounding step shared by both widths: q and r from a truncating
 * division, sign the sign of the exact quotient. */
#define QTR__ROUND_AWAY(mode, q, r, den, sign, away)                              \
    do {                                                                           \
        __typeof__(r) ar_ = (r) < 0 ? -(r) : (r), ad_ = (den) < 0 ? -(den) : (den); \
        switch (mode) {                                                            \
        case QTR_ROUND_DOWN: away = false; break;                                  \
        case QTR_ROUND_UP: away = true; break;                                     \
        case QTR_ROUND_FLOOR: away = (sign) < 0; break;                            \
        case QTR_ROUND_CEIL: away = (sign) > 0; break;                             \
        case QTR_ROUND_HALF_UP: away = ar_ >= ad_ - ar_; break;                    \
        case QTR_ROUND_HALF_EVEN:                                                  \
        default:                                                                   \
            away = ar_ > ad_ - ar_ || (ar_ == ad_ - ar_ && ((q) % 2 != 0));        \
            break;                                                                 \
        }                                                                          \
    } while (0)

/* Divide with explicit rounding. Values that fit in 64 bits (nearly all:
 * prices times quantities rarely exceed 9.2e18 units of 1e-8) take the
 * 64-bit path, several times faster than a 128-bit division. */
static inline qtr__i128 qtr__div_round(qtr__i128 num, qtr__i128 den, qtr_rounding mode)
{
    bool away;
    if (num >= -(qtr__i128)INT64_MAX && num <= (qtr__i128)INT64_MAX && den >= -(qtr__i128)INT64_MAX &&
        den <= (qtr__i128)INT64_MAX) {
        int64_t n = (int64_t)num, d = (int64_t)den;
        int64_t q = n / d, r = n % d;           /* C truncates toward zero */
        if (r == 0) return q;
        int sign = ((n < 0) != (d < 0)) ? -1 : 1;
        QTR__ROUND_AWAY(mode, q, r, d, sign, away);
        return away ? (qtr__i128)q + sign : (qtr__i128)q;
    }
    qtr__i128 q = num / den, r = num % den;
    if (r == 0) return q;
    int sign = ((num < 0) != (den < 0)) ? -1 : 1;
    QTR__ROUND_AWAY(mode, q, r, den, sign, away);
    return away ? q + sign : q;
}

static inline bool qtr__fits(qtr__i128 v)
{
    return v <= (qtr__i128)QTR_DEC_MAX && v >= (qtr__i128)QTR_DEC_MIN;
}

/* a + b; false on overflow (out is untouched). */
static inline bool qtr_dec_add(qtr_dec a, qtr_dec b, qtr_dec *out)
{
    qtr__i128 r = (qtr__i128)a + b;
    if (!qtr__fits(r)) return false;
    *out = (qtr_dec)r;
    return true;
}

/* a - b; false on overflow. */
static inline bool qtr_dec_sub(qtr_dec a, qtr_dec b, qtr_dec *out)
{
    qtr__i128 r = (qtr__i128)a - b;
    if (!qtr__fits(r)) return false;
    *out = (qtr_dec)r;
    return true;
}

/* a * b (both decimals, e.g. price * quantity), rounded as asked. */
static inline bool qtr_dec_mul(qtr_dec a, qtr_dec b, qtr_rounding mode, qtr_dec *out)
{
    qtr__i128 r = qtr__div_round((qtr__i128)a * b, QTR_DEC_SCALE, mode);
    if (!qtr__fits(r)) return false;
    *out = (qtr_dec)r;
    return true;
}

/* a / b (e.g. notional / price), rounded as asked; false if b is 0 or on overflow. */
static inline bool qtr_dec_div(qtr_dec a, qtr_dec b, qtr_rounding mode, qtr_dec *out)
{
    if (b == 0) return false;
    qtr__i128 r = qtr__div_round((qtr__i128)a * QTR_DEC_SCALE, b, mode);
    if (!qtr__fits(r)) return false;
    *out = (qtr_dec)r;
    return true;
}

/* a * n for a whole number n (e.g. a quantity times a count). */
static inline bool qtr_dec_mul_int(qtr_dec a, int64_t n, qtr_dec *out)
{
    qtr__i128 r = (qtr__i128)a * n;
    if (!qtr__fits(r)) return false;
    *out = (qtr_dec)r;
    return true;
}

/* (a * b) / c in one step with a single rounding: exact for a weighted
 * average such as (qty * price) / total_qty. False if c is 0 or on overflow. */
static inline bool qtr_dec_muldiv(qtr_dec a, qtr_dec b, qtr_dec c, qtr_rounding mode, qtr_dec *out)
{
    if (c == 0) return false;
    qtr__i128 p = (qtr__i128)a * b;            /* |p| < 2^126: cannot overflow */
    qtr__i128 r = qtr__div_round(p, c, mode);
    if (!qtr__fits(r)) return false;
    *out = (qtr_dec)r;
    return true;
}

/* Round v to a multiple of step (a tick or lot size); step must be > 0. */
static inline bool qtr_dec_round_step(qtr_dec v, qtr_dec step, qtr_rounding mode, qtr_dec *out)
{
    if (step <= 0) return false;
    qtr__i128 r = qtr__div_round(v, step, mode) * (qtr__i128)step;
    if (!qtr__fits(r)) return false;
    *out = (qtr_dec)r;
    return true;
}

static inline qtr_dec qtr_dec_abs(qtr_dec v) { return v < 0 ? -v : v; }
static inline int qtr_dec_sign(qtr_dec v) { return (v > 0) - (v < 0); }
static inline qtr_dec qtr_dec_min(qtr_dec a, qtr_dec b) { return a < b ? a : b; }
static inline qtr_dec qtr_dec_max(qtr_dec a, qtr_dec b) { return a > b ? a : b; }

/*
 * Parse an exact decimal: optional sign, digits, optional '.' and digits,
 * optional exponent ("1e-5", as some exchanges write tiny numbers). No spaces.
 * At least one mantissa digit; any number of digits anywhere (lengths are
 * counted in size_t). len may be (size_t)-1 for a NUL-terminated string.
 *
 * The value is always that of the whole text, exactly:
 *   - qtr_dec_parse() accepts only a value that is a whole number of units
 *     (0.00000001) within [QTR_DEC_MIN, QTR_DEC_MAX]. A larger magnitude is
 *     QTR_DEC_ERANGE; a value between two units is QTR_DEC_EPRECISION, never
 *     silently rounded, however far below one unit it is ("1e-70" too).
 *     Trailing zeros and exponents that cancel are exact ("1000e-11" is
 *     0.00000001, "0e999" is 0).
 *   - qtr_dec_parse_round() rounds the exact value once, as asked, then
 *     refuses a result out of range. A non-zero value below one unit thus
 *     becomes 0 under DOWN and the nearest modes, and one unit only where
 *     the mode says so (UP; CEIL for a positive value; FLOOR for a negative
 *     one), never more.
 * An exponent past 10^30 in magnitude counts as 10^30: no text that fits in
 * memory has enough digits to tell the difference.
 */
/* The common case in 64 bits: [+-]digits[.digits], at most 18 digits and 8
 * decimals, no exponent. False hands anything else to the full parser,
 * which gives the same answers (and the errors) more slowly. */
static inline bool qtr__dec_parse_fast(const char *s, size_t len, qtr_dec *out)
{
    static const uint64_t pow10[9] = { 100000000, 10000000, 1000000, 100000, 10000, 1000, 100, 10, 1 };
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-')) { neg = s[i] == '-'; i++; }
    uint64_t m = 0;
    int digits = 0, frac = -1;
    for (; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            if (++digits > 18) return false;
            m = m * 10 + (uint64_t)(c - '0');
            if (frac >= 0) frac++;
        } else if (c == '.' && frac < 0) {
            frac = 0;
        } else {
            return false;
        }
    }
    if (digits == 0 || frac > 8) return false;
    uint64_t scale = pow10[frac < 0 ? 0 : frac];
    if (m > (uint64_t)INT64_MAX / scale) return false;
    m *= scale;
    *out = neg ? -(qtr_dec)m : (qtr_dec)m;
    return true;
}

/* Significant digits the full parser keeps; later ones only say whether
 * they are all zero. A qtr_dec has at most 19 digits and rounding needs one
 * more, so 36 is plenty, and 2 * 10^36 still fits in 127 bits. */
#define QTR__DEC_KEEP 36
#define QTR__DEC_EXP_SATURATE ((qtr__i128)1000000000000000000 * 1000000000000)   /* 10^30 */

static inline qtr_dec_status qtr__dec_parse(const char *s, size_t len, qtr_rounding mode,
                                            bool allow_round, qtr_dec *out)
{
    if (!s) return QTR_DEC_ESYNTAX;
    if (len == (size_t)-1) { len = 0; while (s[len]) len++; }
    if (qtr__dec_parse_fast(s, len, out)) return QTR_DEC_OK;
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-')) { neg = s[i] == '-'; i++; }
    /* The mantissa: its significant digits (leading zeros skipped), the
     * first QTR__DEC_KEEP of them as one integer. */
    qtr__i128 kept = 0;
    size_t n_sig = 0, n_kept = 0, frac_digits = 0;
    bool any_digit = false, seen_dot = false, dropped_nonzero = false;
    for (; i < len && s[i] != 'e' && s[i] != 'E'; i++) {
        char c = s[i];
        if (c == '.') {
            if (seen_dot) return QTR_DEC_ESYNTAX;
            seen_dot = true;
            continue;
        }
        if (c < '0' || c > '9') return QTR_DEC_ESYNTAX;
        any_digit = true;
        if (seen_dot) frac_digits++;
        if (n_sig == 0 && c == '0') continue;
        n_sig++;
        if (n_kept < QTR__DEC_KEEP) {
            kept = kept * 10 + (c - '0');
            n_kept++;
        } else if (c != '0') {
            dropped_nonzero = true;
        }
    }
    if (!any_digit) return QTR_DEC_ESYNTAX;
    qtr__i128 exp10 = 0;
    if (i < len) {
        i++;
        bool eneg = false;
        if (i < len && (s[i] == '+' || s[i] == '-')) { eneg = s[i] == '-'; i++; }
        if (i >= len) return QTR_DEC_ESYNTAX;
        for (; i < len; i++) {
            if (s[i] < '0' || s[i] > '9') return QTR_DEC_ESYNTAX;
            if (exp10 < QTR__DEC_EXP_SATURATE) exp10 = exp10 * 10 + (s[i] - '0');
        }
        if (eneg) exp10 = -exp10;
    }
    if (n_sig == 0) {                    /* zero, whatever the exponent */
        *out = 0;
        return QTR_DEC_OK;
    }
    /* In units of 10^-8, |value| has `width` digits before the point:
     * 10^(width-1) <= |value| * 10^8 < 10^width. */
    qtr__i128 width = (qtr__i128)n_sig + exp10 - (qtr__i128)frac_digits + QTR_DEC_DECIMALS;
    if (width > 19) return QTR_DEC_ERANGE;    /* >= 10^19 units > QTR_DEC_MAX */
    /* |value| * 10^8 = (kept + tail) * 10^shift, with 0 <= tail < 1 and
     * tail != 0 exactly when dropped_nonzero. Split it into a whole q and a
     * remainder, kept doubled (r2 / den2, the tail as its odd bit) so the
     * rounding below sees "below, at or above half" exactly. */
    qtr__i128 shift = width - (qtr__i128)n_kept;
    qtr__i128 q, r2, den2;
    if (shift >= 0) {                    /* n_kept <= 19 - shift: nothing dropped */
        q = kept;
        for (qtr__i128 k = 0; k < shift; k++) q *= 10;
        r2 = 0;
        den2 = 2;
    } else if (shift >= -QTR__DEC_KEEP) {
        qtr__i128 den = 1;
        for (qtr__i128 k = 0; k < -shift; k++) den *= 10;
        q = kept / den;
        r2 = 2 * (kept % den) + (dropped_nonzero ? 1 : 0);
        den2 = 2 * den;
    } else {                             /* width < 0: a non-zero value below 0.1 unit */
        q = 0;
        r2 = 1;
        den2 = 4;
    }
    bool inexact = r2 != 0;
    if (!allow_round) {
        if (q > (qtr__i128)QTR_DEC_MAX || (q == (qtr__i128)QTR_DEC_MAX && inexact)) return QTR_DEC_ERANGE;
        if (inexact) return QTR_DEC_EPRECISION;
    } else if (inexact) {
        bool away;
        QTR__ROUND_AWAY(mode, q, r2, den2, neg ? -1 : 1, away);
        if (away) q++;
    }
    if (q > (qtr__i128)QTR_DEC_MAX) return QTR_DEC_ERANGE;
    *out = neg ? -(qtr_dec)q : (qtr_dec)q;
    return QTR_DEC_OK;
}

static inline qtr_dec_status qtr_dec_parse(const char *s, size_t len, qtr_dec *out)
{
    return qtr__dec_parse(s, len, QTR_ROUND_DOWN, false, out);
}

/* As qtr_dec_parse(), but the exact value is rounded to a unit as asked. */
static inline qtr_dec_status qtr_dec_parse_round(const char *s, size_t len, qtr_rounding mode, qtr_dec *out)
{
    return qtr__dec_parse(s, len, mode, true, out);
}

/*
 * Print v as plain decimal text ("-12.5", "0.00000001", "3"), trailing zeros
 * trimmed. buf must hold QTR_DEC_STRLEN bytes. Returns buf.
 */
static inline char *qtr_dec_format(qtr_dec v, char *buf)
{
    char tmp[QTR_DEC_STRLEN];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t ip = u / (uint64_t)QTR_DEC_SCALE, fp = u % (uint64_t)QTR_DEC_SCALE;
    char *p = buf;
    if (v < 0) *p++ = '-';
    do { tmp[n++] = (char)('0' + ip % 10); ip /= 10; } while (ip);
    while (n) *p++ = tmp[--n];
    if (fp) {
        int d = QTR_DEC_DECIMALS;
        while (fp % 10 == 0) { fp /= 10; d--; }
        *p++ = '.';
        for (int k = d - 1; k >= 0; k--) { p[k] = (char)('0' + fp % 10); fp /= 10; }
        p += d;
    }
    *p = '\0';
    return buf;
}

/* Print v with exactly `places` decimals (0..8), rounding as asked. */
static inline char *qtr_dec_format_fixed(qtr_dec v, int places, qtr_rounding mode, char *buf)
{
    if (places < 0) places = 0;
    if (places > QTR_DEC_DECIMALS) places = QTR_DEC_DECIMALS;
    int64_t unit = 1;
    for (int k = 0; k < QTR_DEC_DECIMALS - places; k++) unit *= 10;
    qtr__i128 q = qtr__div_round(v, unit, mode);
    bool neg = q < 0;
    qtr__u128 u = neg ? (qtr__u128)(-q) : (qtr__u128)q;
    char tmp[48];
    int n = 0;
    for (int k = 0; k < places; k++) { tmp[n++] = (char)('0' + (int)(u % 10)); u /= 10; }
    if (places) tmp[n++] = '.';
    do { tmp[n++] = (char)('0' + (int)(u % 10)); u /= 10; } while (u);
    char *p = buf;
    if (neg) *p++ = '-';
    while (n) *p++ = tmp[--n];
    *p = '\0';
    return buf;
}

/*
 * For display and statistics only (charts, Sharpe ratio, Prometheus gauges):
 * never feed the result back into money arithmetic.
 */
static inline double qtr_dec_to_display_double(qtr_dec v)
{
    return (double)(v / QTR_DEC_SCALE) + (double)(v % QTR_DEC_SCALE) / (double)QTR_DEC_SCALE;
}

#ifdef __cplusplus
}
#endif
#endif /* QTR_MONEY_H */
