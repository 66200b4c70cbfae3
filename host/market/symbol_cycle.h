/*
 * A backtest's candles come by open time, then symbol (candle_stream.h):
 * symbols that share open times come round in the same order every time,
 * and a feed of one symbol repeats it. A per-candle lookup of a symbol
 * among those seen (numbered in first-seen order, which is that order) can
 * thus try the one after the last found, then the last found again, with a
 * full compare, before its map. Only a guess: a miss costs two compares.
 */
#ifndef QH_SYMBOL_CYCLE_H
#define QH_SYMBOL_CYCLE_H

#include <stddef.h>
#include <string.h>

#include "qc/bytes_eq.h"
#include "qtr/events.h"   /* QTR_SYMBOL_MAX */

/* The i-th symbol of `set` (i < its count). */
typedef const char *(*qh_symbol_cycle_name)(const void *set, size_t i);

/* The number of `symbol` among the n of `set` if it is the one after
 * `*next` - 1 or that one; then *next is the one after it. -1 otherwise (the
 * caller looks it up, then calls qh_symbol_cycle_found). */
static inline long qh_symbol_cycle_try(size_t *next, size_t n, const char *symbol, qh_symbol_cycle_name name,
                                       const void *set)
{
    if (n == 0) return -1;
    size_t at = *next < n ? *next : 0;
    size_t last = at ? at - 1 : n - 1;
    if (strcmp(name(set, at), symbol) != 0) {
        if (strcmp(name(set, last), symbol) != 0) return -1;
        at = last;
    }
    *next = at + 1;
    return (long)at;
}

/* The i-th symbol of `set`, the string in a char field of QTR_SYMBOL_MAX
 * bytes, and its length. */
typedef const char *(*qh_symbol_cycle_name_len)(const void *set, size_t i, size_t *len);

/* A stored name of length len is the string in `field` (a char field of
 * QTR_SYMBOL_MAX bytes, an event's): their first len + 1 bytes, the NUL
 * included, are equal. A few words compared, no strcmp call (which took 3%
 * of a backtest's CPU time for two compares a candle), and nothing read of
 * the field past len + 1 <= QTR_SYMBOL_MAX bytes. */
static inline bool qh_symbol_cycle_field_is(const char *stored, size_t len, const char field[QTR_SYMBOL_MAX])
{
    return qc_bytes_eq(stored, field, len + 1);
}

/* qh_symbol_cycle_try for a symbol in a char field of QTR_SYMBOL_MAX bytes,
 * compared with qh_symbol_cycle_field_is. */
static inline long qh_symbol_cycle_try_field(size_t *next, size_t n, const char field[QTR_SYMBOL_MAX],
                                             qh_symbol_cycle_name_len name, const void *set)
{
    if (n == 0) return -1;
    size_t at = *next < n ? *next : 0, len;
    const char *stored = name(set, at, &len);
    if (!qh_symbol_cycle_field_is(stored, len, field)) {
        size_t last = at ? at - 1 : n - 1;
        stored = name(set, last, &len);
        if (!qh_symbol_cycle_field_is(stored, len, field)) return -1;
        at = last;
    }
    *next = at + 1;
    return (long)at;
}

/* After a lookup that found (or added) symbol number i. */
static inline void qh_symbol_cycle_found(size_t *next, size_t i) { *next = i + 1; }

#endif
