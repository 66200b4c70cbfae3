/* symbol_index.c — see symbol_index.h. */
#include "portfolio/symbol_index.h"

#include <stdlib.h>
#include <string.h>

#include "qc/strmap.h"

struct qh_symbol_index {
    qc_strmap *map;                    /* name -> dense index              */
    size_t max;                        /* 0: growing                       */
    size_t names_cap;
    char (*names)[QTR_SYMBOL_MAX];     /* dense index -> name              */
    /* The index found or added last, -1: none. A candle's symbol is looked
     * up several times in a row (the exchange's get_mark_price, then the
     * market cache; one symbol: every candle), and comparing with one name
     * costs less than hashing. The one after it is tried next: candles of
     * several symbols come in the same order every interval, the order they
     * were first seen in. Single-threaded, as the index. */
    int32_t last;
};

bool qh_symbol_valid(const char *symbol)
{
    if (!symbol || !symbol[0]) return false;
    return memchr(symbol, '\0', QTR_SYMBOL_MAX) != NULL;
}

qh_symbol_index *qh_symbol_index_new(size_t max_symbols)
{
    if (max_symbols > QH_SYMBOL_INDEX_LIMIT) return NULL;
    qh_symbol_index *ix = calloc(1, sizeof *ix);
    if (!ix) return NULL;
    ix->max = max_symbols;
    ix->last = -1;
    ix->names_cap = max_symbols ? max_symbols : 16;
    ix->map = qc_strmap_new(QTR_SYMBOL_MAX, max_symbols);
    ix->names = calloc(ix->names_cap, sizeof *ix->names);
    if (!ix->map || !ix->names) {
        qh_symbol_index_free(ix);
        return NULL;
    }
    return ix;
}

void qh_symbol_index_free(qh_symbol_index *ix)
{
    if (!ix) return;
    qc_strmap_free(ix->map);
    free(ix->names);
    free(ix);
}

int32_t qh_symbol_index_find(const qh_symbol_index *ix, const char *symbol)
{
    /* a name equal to a stored one is a valid name: no check needed first */
    if (symbol && ix->last >= 0) {
        if (strcmp(ix->names[ix->last], symbol) == 0) return ix->last;
        int32_t next = (size_t)ix->last + 1 < qc_strmap_count(ix->map) ? ix->last + 1 : 0;
        if (next != ix->last && strcmp(ix->names[next], symbol) == 0) {
            ((qh_symbol_index *)ix)->last = next;
            return next;
        }
    }
    int64_t d;
    if (!qc_strmap_get(ix->map, symbol, &d)) return -1;
    ((qh_symbol_index *)ix)->last = (int32_t)d;   /* the hint only: an index is never const-allocated */
    return (int32_t)d;
}

int32_t qh_symbol_index_intern(qh_symbol_index *ix, const char *symbol)
{
    int32_t found = qh_symbol_index_find(ix, symbol);
    if (found >= 0 || !qh_symbol_valid(symbol)) return found;
    size_t d = qc_strmap_count(ix->map);
    if (ix->max == 0 && d >= QH_SYMBOL_INDEX_LIMIT) return -1;
    if (d == ix->names_cap) {          /* growing: room for the name first */
        char (*n)[QTR_SYMBOL_MAX] = realloc(ix->names, 2 * ix->names_cap * sizeof *n);
        if (!n) return -1;
        ix->names = n;
        ix->names_cap *= 2;
    }
    if (qc_strmap_put(ix->map, symbol, (int64_t)d) != QC_STRMAP_ADDED) return -1;
    memcpy(ix->names[d], symbol, strlen(symbol) + 1);
    ix->last = (int32_t)d;
    return (int32_t)d;
}

size_t qh_symbol_index_count(const qh_symbol_index *ix) { return qc_strmap_count(ix->map); }
size_t qh_symbol_index_capacity(const qh_symbol_index *ix) { return ix->max; }

const char *qh_symbol_index_name(const qh_symbol_index *ix, int32_t index)
{
    if (index < 0 || (size_t)index >= qc_strmap_count(ix->map)) return NULL;
    return ix->names[index];
}
