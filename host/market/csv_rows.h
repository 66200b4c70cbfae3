/*
 * The candle CSV format row by row, for readers that do not hold the whole
 * file: qh_csv_parse() (csv.c) and the streaming reader of a backtest
 * (candle_stream.c) check and word every row through these, so a file is
 * accepted and refused the same way by both.
 */
#ifndef QH_CSV_ROWS_H
#define QH_CSV_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/events.h>

#include "market/candles.h"

typedef struct qh_csv_rows {
    const char *name;          /* what messages call the source (its path) */
    char *err;
    size_t errlen;
    size_t volumes_rounded;    /* volumes with more than 8 decimals, rounded */
    int ncols;                 /* 6 or 12                                   */
    bool first;                /* no row read yet                           */
    int64_t prev_open, prev_close;
} qh_csv_rows;

/* rows->name, err and errlen set: the first line [p, eol) (byte order mark
 * already skipped) names the format. *header true: it was a header line
 * (the rows start on the next line); false: it is already a 12-column row.
 * Sets rows->ncols and first. 0, or -1 with the message. */
int qh_csv_rows_begin(qh_csv_rows *rows, const char *p, const char *eol, bool *header);

/* One row [p, eol) (line ending excluded, not empty) of line `line` into
 * *c (symbol and close time of a 6-column row left as they are), checked
 * on its own and against the previous row. [p, limit) is readable (limit
 * >= eol): with QH_CSV_ROW_SLACK bytes after eol the row is read where it
 * is, else from a copy. 0, or -1 with the message. */
int qh_csv_rows_next(qh_csv_rows *rows, size_t line, const char *p, const char *eol, const char *limit, qtr_candle *c);

/* As qh_csv_rows_next, always the general way (field by field, each
 * refusal with its message): the reference its one-pass reading of common
 * rows (csv_row_fast.h) is tested against. */
int qh_csv_rows_next_general(qh_csv_rows *rows, size_t line, const char *p, const char *eol, qtr_candle *c);

/* A row's values (read by csv_row_fast.h) pass every check the general
 * way makes, alone and against the previous row: nothing to say about it.
 * False: the general way finds what and says it. */
static inline bool qh_csv_row_plain(const qh_csv_rows *rows, const qtr_candle *c)
{
    bool ok = c->open_time_ms < QH_CSV_TIME_MAX_MS && c->low > 0 && c->high >= c->low && c->open >= c->low &&
              c->open <= c->high && c->close >= c->low && c->close <= c->high && c->volume >= 0 &&
              (rows->first || c->open_time_ms > rows->prev_open);
    if (rows->ncols == 12)
        ok = ok && c->close_time_ms < QH_CSV_TIME_MAX_MS && c->close_time_ms >= c->open_time_ms &&
             (rows->first || c->open_time_ms > rows->prev_close);
    return ok;
}

/* A row taken: the one the next is checked against. */
static inline void qh_csv_rows_took(qh_csv_rows *rows, const qtr_candle *c)
{
    rows->prev_open = c->open_time_ms;
    rows->prev_close = c->close_time_ms;
    rows->first = false;
}

/* "name:line: fmt..." into rows->err; returns -1. */
int qh_csv_rows_fail(const qh_csv_rows *rows, size_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
