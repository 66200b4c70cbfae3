/*
 * Candle CSV reader. The file is read whole (a regular file with lines of at
 * most QH_DATA_LINE_MAX bytes: data_file.h) and split by hand: one pass over
 * the bytes, decimals through qtr_dec_parse() (exact, no floating point), no
 * sscanf or strtod, so a backtest can load millions of candles per second.
 */
#include "market/candles.h"
#include "market/csv_row_fast.h"
#include "market/csv_rows.h"
#include "market/data_file.h"

#include <qtr/plugin.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLUMNS 12

static const char HEADER6[] = "open_time_ms,open,high,low,close,volume";
static const char HEADER12[] =
    "open_time,open,high,low,close,volume,close_time,quote_volume,count,"
    "taker_buy_volume,taker_buy_quote_volume,ignore";
static const char *const COLUMN_NAMES[MAX_COLUMNS] = {
    "open_time_ms", "open", "high", "low", "close", "volume", "close_time",
    "quote_volume", "count", "taker_buy_volume", "taker_buy_quote_volume", "ignore",
};

typedef struct field { const char *p; size_t n; } field;

typedef qh_csv_rows parse_ctx;

int qh_csv_rows_fail(const qh_csv_rows *pc, size_t line, const char *fmt, ...)
{
    if (!pc->err || !pc->errlen) return -1;
    int n = snprintf(pc->err, pc->errlen, "%s:%zu: ", pc->name, line);
    if (n >= 0 && (size_t)n < pc->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(pc->err + n, pc->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* A field as text for a message, cut short so a binary blob stays readable. */
static const char *shown(field f, char buf[40])
{
    size_t n = f.n < 32 ? f.n : 32;
    for (size_t i = 0; i < n; i++) buf[i] = isprint((unsigned char)f.p[i]) ? f.p[i] : '?';
    if (f.n > n) { buf[n++] = '.'; buf[n++] = '.'; buf[n++] = '.'; }
    buf[n] = '\0';
    return buf;
}

static int parse_time(const parse_ctx *pc, size_t line, int col, field f, int64_t *out)
{
    char buf[40];
    if (f.n == 0) return qh_csv_rows_fail(pc, line, "column '%s': empty", COLUMN_NAMES[col]);
    if (!qh_csv_parse_ms(f.p, f.n, out))
        return qh_csv_rows_fail(pc, line, "column '%s': not a time in milliseconds ('%s')", COLUMN_NAMES[col], shown(f, buf));
    if (*out >= QH_CSV_TIME_MAX_MS)
        return qh_csv_rows_fail(pc, line, "column '%s': %lld is after the year 2286: " QH_CSV_TIME_UNIT_HINT,
                                COLUMN_NAMES[col], (long long)*out);
    return 0;
}

static int parse_dec(parse_ctx *pc, size_t line, int col, field f, qtr_dec *out)
{
    char buf[40];
    if (f.n == 0) return qh_csv_rows_fail(pc, line, "column '%s': empty", COLUMN_NAMES[col]);
    qtr_dec_status st = qtr_dec_parse(f.p, f.n, out);
    if (st == QTR_DEC_EPRECISION && col == 5) {
        /* float noise in published volumes (218102.59507500002): a volume
         * only caps fills, so it is rounded half-even and counted; prices
         * with more than 8 decimals stay refused */
        st = qtr_dec_parse_round(f.p, f.n, QTR_ROUND_HALF_EVEN, out);
        if (st == QTR_DEC_OK) pc->volumes_rounded++;
    }
    if (st != QTR_DEC_OK)
        return qh_csv_rows_fail(pc, line, "column '%s': %s ('%s')", COLUMN_NAMES[col], qtr_dec_status_str(st), shown(f, buf));
    return 0;
}

/* Split [p, end) at commas into at most MAX_COLUMNS fields; returns the
 * number of columns found (counting past MAX_COLUMNS, for the message). */
static size_t split(const char *p, const char *end, field *fields)
{
    size_t n = 0;
    for (;;) {
        const char *c = p;
        while (c < end && *c != ',') c++;
        if (n < MAX_COLUMNS) fields[n] = (field){ p, (size_t)(c - p) };
        n++;
        if (c == end) return n;
        p = c + 1;
    }
}

static bool all_blank(const char *p, const char *end)
{
    for (; p < end; p++)
        if (*p != '\n' && *p != '\r') return false;
    return true;
}

static int check_row(const parse_ctx *pc, size_t line, const qtr_candle *c)
{
    char a[QTR_DEC_STRLEN], b[QTR_DEC_STRLEN];
    if (c->low <= 0) return qh_csv_rows_fail(pc, line, "column 'low': price must be positive (%s)", qtr_dec_format(c->low, a));
    if (c->high < c->low)
        return qh_csv_rows_fail(pc, line, "high %s is below low %s", qtr_dec_format(c->high, a), qtr_dec_format(c->low, b));
    if (c->open < c->low || c->open > c->high)
        return qh_csv_rows_fail(pc, line, "column 'open': %s is outside [low, high]", qtr_dec_format(c->open, a));
    if (c->close < c->low || c->close > c->high)
        return qh_csv_rows_fail(pc, line, "column 'close': %s is outside [low, high]", qtr_dec_format(c->close, a));
    if (c->volume < 0) return qh_csv_rows_fail(pc, line, "column 'volume': negative (%s)", qtr_dec_format(c->volume, a));
    return 0;
}

/* The row's checks once its fields are read: prices and volume, then the
 * open time against the previous row's. */
static int row_values_in_order(const parse_ctx *pc, size_t line, const qtr_candle *c)
{
    if (check_row(pc, line, c)) return -1;
    if (!pc->first && c->open_time_ms <= pc->prev_open)
        return qh_csv_rows_fail(pc, line, "open time %lld is not after the previous row's %lld", (long long)c->open_time_ms,
                    (long long)pc->prev_open);
    return 0;
}

/* A 12-column row's close time (already read) checked, then the row becomes
 * the previous one. */
static int row_close_in_order(parse_ctx *pc, size_t line, const qtr_candle *c)
{
    if (pc->ncols == MAX_COLUMNS) {
        if (c->close_time_ms < c->open_time_ms)
            return qh_csv_rows_fail(pc, line, "column 'close_time': %lld is before the open time %lld",
                        (long long)c->close_time_ms, (long long)c->open_time_ms);
        if (!pc->first && c->open_time_ms <= pc->prev_close)
            return qh_csv_rows_fail(pc, line, "open time %lld is not after the previous candle's close time %lld",
                        (long long)c->open_time_ms, (long long)pc->prev_close);
    }
    qh_csv_rows_took(pc, c);
    return 0;
}

int qh_csv_rows_next_general(qh_csv_rows *pc, size_t line, const char *p, const char *eol, qtr_candle *c)
{
    field f[MAX_COLUMNS];
    int ncols = pc->ncols;
    size_t n = split(p, eol, f);
    if (n != (size_t)ncols) return qh_csv_rows_fail(pc, line, "expected %d columns, found %zu", ncols, n);
    if (parse_time(pc, line, 0, f[0], &c->open_time_ms) || parse_dec(pc, line, 1, f[1], &c->open) ||
        parse_dec(pc, line, 2, f[2], &c->high) || parse_dec(pc, line, 3, f[3], &c->low) ||
        parse_dec(pc, line, 4, f[4], &c->close) || parse_dec(pc, line, 5, f[5], &c->volume))
        return -1;
    if (row_values_in_order(pc, line, c)) return -1;
    if (ncols == MAX_COLUMNS && parse_time(pc, line, 6, f[6], &c->close_time_ms)) return -1;
    return row_close_in_order(pc, line, c);
}

/* A row near the end of its memory read in one pass from a copy with room
 * after it; longer than any such row could be: false. */
static bool row_fast_copied(int ncols, const char *p, const char *eol, qtr_candle *c)
{
    char row[512 + QH_CSV_ROW_SLACK];
    size_t n = (size_t)(eol - p);
    if (n > 512) return false;
    memcpy(row, p, n);
    memset(row + n, 0, QH_CSV_ROW_SLACK);
    return qh_csv_row_fast(ncols, row, row + n, c);
}

int qh_csv_rows_next(qh_csv_rows *pc, size_t line, const char *p, const char *eol, const char *limit, qtr_candle *c)
{
    /* most rows are read in one pass and pass every check; any other goes
     * the general way, which gives the same values and every refusal its
     * message */
    bool fast = limit - eol >= QH_CSV_ROW_SLACK ? qh_csv_row_fast(pc->ncols, p, eol, c)
                                                : row_fast_copied(pc->ncols, p, eol, c);
    if (!fast || !qh_csv_row_plain(pc, c)) return qh_csv_rows_next_general(pc, line, p, eol, c);
    qh_csv_rows_took(pc, c);
    return 0;
}

static int parse_rows(parse_ctx *pc, const char *p, const char *end, size_t line, const char *symbol,
                      qh_candle_vec *out)
{
    qtr_candle c;
    memset(&c, 0, sizeof c);
    qtr_strlcpy(c.symbol, symbol, sizeof c.symbol);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        if (eol > p && eol[-1] == '\r') eol--;
        if (qh_data_line_check(pc->name, line, (size_t)(eol - p), pc->err, pc->errlen)) return -1;
        if (eol == p) {
            if (all_blank(p, end)) break;       /* blank lines at the end only */
            return qh_csv_rows_fail(pc, line, "empty line");
        }
        if (qh_csv_rows_next(pc, line, p, eol, end, &c)) return -1;
        if (qh_candle_vec_push(out, &c) != 0) return qh_csv_rows_fail(pc, line, "out of memory");
        line++;
        p = next;
    }
    return 0;
}

/* The 6-column format: the interval is the spacing of the first two rows. */
static int infer_close_times(const parse_ctx *pc, qtr_candle *c, size_t n, size_t first_line)
{
    if (n < 2)
        return qh_csv_rows_fail(pc, first_line, "a single candle: the interval (spacing of the first two rows) is unknown");
    int64_t interval = c[1].open_time_ms - c[0].open_time_ms;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && c[i].open_time_ms - c[i - 1].open_time_ms < interval)
            return qh_csv_rows_fail(pc, first_line + i, "open time %lld is less than one interval (%lld ms) after the previous row",
                        (long long)c[i].open_time_ms, (long long)interval);
        c[i].close_time_ms = c[i].open_time_ms + interval - 1;
    }
    return 0;
}

static bool line_is(const char *p, const char *eol, const char *text)
{
    size_t n = strlen(text);
    return (size_t)(eol - p) == n && memcmp(p, text, n) == 0;
}

int qh_csv_rows_begin(qh_csv_rows *pc, const char *p, const char *eol, bool *header)
{
    pc->first = true;
    if (*p >= '0' && *p <= '9') {
        field f[MAX_COLUMNS];
        size_t n = split(p, eol, f);
        if (n != MAX_COLUMNS)
            return qh_csv_rows_fail(pc, 1, "no header and %zu columns: expected the header '%s' or Binance's 12-column klines",
                        n, HEADER6);
        pc->ncols = MAX_COLUMNS;
        *header = false;
        return 0;
    }
    char buf[40];
    if (line_is(p, eol, HEADER6)) pc->ncols = 6;
    else if (line_is(p, eol, HEADER12)) pc->ncols = MAX_COLUMNS;
    else
        return qh_csv_rows_fail(pc, 1, "unknown header '%s': expected '%s'", shown((field){ p, (size_t)(eol - p) }, buf),
                    HEADER6);
    *header = true;
    return 0;
}

int qh_csv_parse(const char *name, const char *data, size_t len, const char *symbol, qh_candle_vec *out,
                 char *err, size_t errlen)
{
    parse_ctx pc = { .name = name ? name : "(csv)", .err = err, .errlen = errlen, .first = true };
    if (err && errlen) err[0] = '\0';
    if (!symbol || !symbol[0] || strlen(symbol) >= QTR_SYMBOL_MAX)
        return qh_csv_rows_fail(&pc, 1, "bad symbol name '%s'", symbol ? symbol : "(null)");
    if (!data || !out) return qh_csv_rows_fail(&pc, 1, "empty file");
    const char *p = data, *end = data + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
    if (all_blank(p, end)) return qh_csv_rows_fail(&pc, 1, "empty file");

    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *eol = nl ? nl : end;
    if (eol > p && eol[-1] == '\r') eol--;
    if (qh_data_line_check(pc.name, 1, (size_t)(eol - p), err, errlen)) return -1;
    bool header;
    size_t line = 1;
    if (qh_csv_rows_begin(&pc, p, eol, &header) != 0) return -1;
    int ncols = pc.ncols;
    if (header) {
        p = nl ? nl + 1 : end;
        line = 2;
        if (all_blank(p, end)) return qh_csv_rows_fail(&pc, 2, "no candles after the header");
    }

    size_t base = out->len;
    /* one reservation from the size (rows are at least ~30 bytes) */
    if (qh_candle_vec_reserve(out, base + (size_t)(end - p) / 30 + 16) != 0) return qh_csv_rows_fail(&pc, line, "out of memory");
    int rc = parse_rows(&pc, p, end, line, symbol, out);
    if (rc == 0 && ncols == 6) rc = infer_close_times(&pc, &out->items[base], out->len - base, line);
    if (rc != 0) {
        out->len = base;   /* all or nothing */
        return rc;
    }
    out->volumes_rounded += pc.volumes_rounded;
    if (base == 0) out->first_line = line;
    return 0;
}

int qh_csv_load(const char *path, const char *symbol, qh_candle_vec *out, char *err, size_t errlen)
{
    char scratch[8];
    if (!err || !errlen) { err = scratch; errlen = sizeof scratch; }
    if (!path || !out) {
        snprintf(err, errlen, "qh_csv_load: no path or output");
        return -1;
    }
    size_t len = 0;
    char *data = qh_data_file_read(path, &len, err, errlen);
    if (!data) return -1;
    int rc = qh_csv_parse(path, data, len, symbol, out, err, errlen);
    free(data);
    return rc;
}

bool qh_symbol_from_path(const char *path, char out[QTR_SYMBOL_MAX])
{
    if (!path) return false;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = 0;
    for (;; n++) {
        char ch = base[n];
        if (ch >= 'a' && ch <= 'z') ch = (char)(ch - 'a' + 'A');
        else if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))) break;
        if (n + 1 >= QTR_SYMBOL_MAX) return false;   /* too long to be a symbol */
        out[n] = ch;
    }
    out[n] = '\0';
    return n > 0;
}
