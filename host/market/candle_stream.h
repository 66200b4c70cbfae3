/*
 * The candle files of a backtest read as the run goes: each file through a
 * fixed read-ahead buffer, parsed row by row with the CSV reader's own checks
 * (csv_rows.h), and the files k-way merged by open time, then symbol, then
 * file order: the order qh_inputs_load_candles() gives, candle for candle.
 * Memory stays flat in the number of candles (about 256 KiB a file).
 *
 * What can be checked before any candle is (qh_candle_stream_open): each file
 * given once, a symbol in each name, each file opened as a regular file with
 * a known format and its first rows. A bad row further on, or one candle
 * (symbol and open time) in two files, is found when the merge reaches it:
 * qh_candle_stream_next() then fails with the same "file:line: reason" the
 * whole-file reader gives, and the caller stops the run.
 */
#ifndef QH_CANDLE_STREAM_H
#define QH_CANDLE_STREAM_H

#include <stddef.h>

#include <qtr/events.h>

typedef struct qh_candle_stream qh_candle_stream;

/* NULL with the reason in err. what names the option ("--data"). */
qh_candle_stream *qh_candle_stream_open(const char *what, const char *const *paths, size_t n, char *err,
                                        size_t errlen);
/* The next candle: 1 with *out, 0 after the last, -1 with the reason in err
 * (and every later call -1 again). */
int qh_candle_stream_next(qh_candle_stream *s, qtr_candle *out, char *err, size_t errlen);
/* Volumes read so far with more than 8 decimals (rounded half-even). */
size_t qh_candle_stream_volumes_rounded(const qh_candle_stream *s);
void qh_candle_stream_close(qh_candle_stream *s);

#endif
