/* Funding-rate files: see funding.h. */
#include "market/funding.h"

#include <qtr/plugin.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market/candles.h"
#include "market/data_file.h"

static const char HEADER[] = "funding_time_ms,funding_rate";

__attribute__((format(printf, 5, 6)))
static int refuse(qh_funding *out, char *err, size_t errlen, const char *where, const char *fmt, ...)
{
    qh_funding_free(out);
    if (!err || !errlen) return -1;
    int n = snprintf(err, errlen, "%s: ", where);
    if (n >= 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int push(qh_funding *f, size_t *cap, qh_funding_row r)
{
    if (f->n == *cap) {
        size_t bigger = *cap ? *cap * 2 : 256;
        qh_funding_row *g = realloc(f->rows, bigger * sizeof *g);
        if (!g) return -1;
        f->rows = g;
        *cap = bigger;
    }
    f->rows[f->n++] = r;
    return 0;
}

int qh_funding_parse(const char *name, const char *data, size_t len, const char *symbol, qh_funding *out, char *err,
                     size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!name) name = "(funding)";
    if (!symbol || !symbol[0] || strlen(symbol) >= sizeof out->symbol)
        return refuse(out, err, errlen, name, "bad symbol name '%s'", symbol ? symbol : "(null)");
    qtr_strlcpy(out->symbol, symbol, sizeof out->symbol);
    const char *p = data ? data : "", *end = p + (data ? len : 0);
    if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
    size_t cap = 0;
    char where[1100];
    for (size_t line = 1; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end, *row = p;
        p = nl ? nl + 1 : end;
        if (eol > row && eol[-1] == '\r') eol--;
        size_t n = (size_t)(eol - row);
        if (qh_data_line_check(name, line, n, err, errlen)) {
            qh_funding_free(out);
            return -1;
        }
        if (n == 0 || (line == 1 && n == sizeof HEADER - 1 && memcmp(row, HEADER, n) == 0)) continue;
        snprintf(where, sizeof where, "%s:%zu", name, line);
        const char *comma = memchr(row, ',', n);
        qh_funding_row r;
        if (!comma || !qh_csv_parse_ms(row, (size_t)(comma - row), &r.time_ms) || r.time_ms <= 0)
            return refuse(out, err, errlen, where, "expected %s (a time in milliseconds, then a rate)", HEADER);
        if (r.time_ms >= QH_CSV_TIME_MAX_MS)
            return refuse(out, err, errlen, where, "%lld is after the year 2286: " QH_CSV_TIME_UNIT_HINT,
                          (long long)r.time_ms);
        qtr_dec_status st = qtr_dec_parse(comma + 1, (size_t)(eol - comma - 1), &r.rate);
        if (st != QTR_DEC_OK) return refuse(out, err, errlen, where, "column 'funding_rate': %s", qtr_dec_status_str(st));
        if (out->n && r.time_ms <= out->rows[out->n - 1].time_ms)
            return refuse(out, err, errlen, where, "funding times must increase (%lld after %lld)",
                          (long long)r.time_ms, (long long)out->rows[out->n - 1].time_ms);
        if (push(out, &cap, r) != 0) return refuse(out, err, errlen, where, "out of memory");
    }
    if (out->n == 0) return refuse(out, err, errlen, name, "no funding rows");
    return 0;
}

int qh_funding_load(const char *path, qh_funding *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char sym[QTR_SYMBOL_MAX];
    if (!path || !qh_symbol_from_path(path, sym))
        return refuse(out, err, errlen, path ? path : "(null)", "cannot tell the symbol from the file name");
    size_t len = 0;
    char *data = qh_data_file_read(path, &len, err, errlen);
    if (!data) return -1;
    int rc = qh_funding_parse(path, data, len, sym, out, err, errlen);
    free(data);
    return rc;
}

void qh_funding_free(qh_funding *f)
{
    if (!f) return;
    free(f->rows);
    f->rows = NULL;
    f->n = 0;
}
