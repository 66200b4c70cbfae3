/*
 * Funding-rate files for backtests: `funding_time_ms,funding_rate` rows
 * (that header line optional), times in strictly increasing order, rates as
 * exact decimals; the symbol comes from the file name like a candle file's
 * ("XRPUSDT-perp-funding-8h.csv" -> XRPUSDT). Read as data files are
 * (market/data_file.h): regular files only, lines capped.
 */
#ifndef QH_FUNDING_H
#define QH_FUNDING_H

#include <stddef.h>
#include <stdint.h>

#include <qtr/events.h>

typedef struct qh_funding_row {
    int64_t time_ms;
    qtr_dec rate;
} qh_funding_row;

typedef struct qh_funding {
    char symbol[QTR_SYMBOL_MAX];
    qh_funding_row *rows;          /* malloc'd: free() it, or qh_funding_free() */
    size_t n;
} qh_funding;

/* Rows of text already in memory; name is what messages call it. Blank lines
 * are skipped; a file without rows is refused. 0, or -1 with "name:line:
 * reason" in err and nothing in out to free. */
int qh_funding_parse(const char *name, const char *data, size_t len, const char *symbol, qh_funding *out, char *err,
                     size_t errlen);

/* qh_funding_parse() on a file, the symbol taken from its name. */
int qh_funding_load(const char *path, qh_funding *out, char *err, size_t errlen);

void qh_funding_free(qh_funding *f);

#endif
