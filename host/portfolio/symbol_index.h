/*
 * A fixed-capacity map from symbol name to a dense index 0..n-1, in the
 * order symbols were first added. Open addressing (linear probing) over a
 * power-of-two table at most half full, so a lookup is O(1) and never
 * allocates: all memory is taken once by qh_symbol_index_new().
 */
#ifndef QH_SYMBOL_INDEX_H
#define QH_SYMBOL_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include <qtr/events.h>

typedef struct qh_symbol_index qh_symbol_index;

/* NULL if max_symbols is 0 or too large, or memory is short. */
qh_symbol_index *qh_symbol_index_new(size_t max_symbols);
void qh_symbol_index_free(qh_symbol_index *ix);

/* True for a non-empty name that fits a QTR_SYMBOL_MAX field. */
bool qh_symbol_valid(const char *symbol);

/* The symbol's index, or -1 if unknown or invalid. */
int32_t qh_symbol_index_find(const qh_symbol_index *ix, const char *symbol);
/* The symbol's index, adding it if new; -1 if invalid or the index is full. */
int32_t qh_symbol_index_intern(qh_symbol_index *ix, const char *symbol);

size_t qh_symbol_index_count(const qh_symbol_index *ix);
size_t qh_symbol_index_capacity(const qh_symbol_index *ix);
/* The name at an index below qh_symbol_index_count(). */
const char *qh_symbol_index_name(const qh_symbol_index *ix, int32_t index);

#endif
