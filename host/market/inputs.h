/*
 * The inputs of a backtest, each checked as a whole: candle files (any
 * number; each file once; the same candle, symbol and open time, never in
 * two places), funding-rate files (any number, one per symbol) and mark-price
 * kline files (the candle formats; the close is the mark). Symbols come from
 * the file names. Errors name the file and line of every place involved.
 */
#ifndef QH_INPUTS_H
#define QH_INPUTS_H

#include <stddef.h>
#include <stdint.h>

#include "market/candles.h"
#include "market/funding.h"

#define QH_INPUTS_MAX_FILES 64

/* Load every file into one series ordered by open time then symbol. what
 * names the option in messages ("--data"). 0, or -1 with the reason in err
 * (and nothing in all to free). */
int qh_inputs_load_candles(const char *what, const char *const *paths, size_t n, qh_candle_vec *all, char *err,
                           size_t errlen);

typedef struct qh_funding_set {
    qh_funding files[QH_INPUTS_MAX_FILES];
    size_t next[QH_INPUTS_MAX_FILES];   /* first row not yet settled */
    size_t n;
} qh_funding_set;

int qh_funding_set_load(qh_funding_set *set, const char *const *paths, size_t n, char *err, size_t errlen);
void qh_funding_set_free(qh_funding_set *set);
/* The earliest row not yet settled at or before up_to_ms (ties: file order),
 * marked settled; NULL when none. *symbol is its file's symbol. */
const qh_funding_row *qh_funding_set_take(qh_funding_set *set, int64_t up_to_ms, const char **symbol);

/* -1 with "what path: the same file as other, given twice" when two paths
 * name one file (a symlink, ./x); 0 otherwise. */
int qh_inputs_refuse_twice(const char *what, const char *const *paths, size_t n, char *err, size_t errlen);

/* -1 with "what path: symbol S matches no --data file (the data has A, B)"
 * when the symbol of one of paths (from its file name) is none of the data
 * files' symbols: such a file would be silently ignored. 0 otherwise (a name
 * with no symbol is left to the reader, which names it). */
int qh_inputs_refuse_unmatched(const char *what, const char *const *paths, size_t n, const char *const *data,
                               size_t ndata, char *err, size_t errlen);

/* Split a comma-separated list into out (pointers into buf, which it
 * fills); appends to *n. -1 if more than cap in all or buf is too small. */
int qh_inputs_split(const char *list, char *buf, size_t buflen, const char **out, size_t cap, size_t *n);

#endif
