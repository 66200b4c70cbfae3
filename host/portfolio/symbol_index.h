/*
 * Symbol name -> dense index 0..n-1, in the order symbols were first added,
 * and back (index -> name): per-symbol state kept in plain arrays. Built on
 * the project's one hash map (common/include/qc/strmap.h). Symbols are never
 * removed.
 *
 * With max_symbols > 0 all memory is taken once by qh_symbol_index_new() and
 * neither lookups nor inserts allocate (a hot path); with max_symbols == 0
 * the index grows as symbols come.
 */
#ifndef QH_SYMBOL_INDEX_H
#define QH_SYMBOL_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qtr/events.h>

typedef struct qh_symbol_index qh_symbol_index;

/* More symbols than any exchange lists: the largest max_symbols. */
#define QH_SYMBOL_INDEX_LIMIT 65536u

/* max_symbols: a fixed capacity, or 0 for an index that grows. NULL if
 * max_symbols is too large or memory is short. */
qh_symbol_index *qh_symbol_index_new(size_t max_symbols);
void qh_symbol_index_free(qh_symbol_index *ix);

/* True for a non-empty name that fits a QTR_SYMBOL_MAX field. */
bool qh_symbol_valid(const char *symbol);

/* The symbol's index, or -1 if unknown or invalid. */
int32_t qh_symbol_index_find(const qh_symbol_index *ix, const char *symbol);
/* The symbol's index, adding it if new; -1 if invalid, the index is full
 * (fixed) or memory is short (growing). */
int32_t qh_symbol_index_intern(qh_symbol_index *ix, const char *symbol);

size_t qh_symbol_index_count(const qh_symbol_index *ix);
/* max_symbols as given (0: growing). */
size_t qh_symbol_index_capacity(const qh_symbol_index *ix);
/* The name at an index below qh_symbol_index_count(). */
const char *qh_symbol_index_name(const qh_symbol_index *ix, int32_t index);

#endif
