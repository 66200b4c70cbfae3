/* symbol_index.c — see symbol_index.h. */
#include "portfolio/symbol_index.h"

#include <stdlib.h>
#include <string.h>

/* More symbols than any exchange lists; bounds the one allocation. */
#define QH_SYMBOL_INDEX_LIMIT 65536u

struct qh_symbol_index {
    size_t count, max;
    uint32_t mask;                     /* table size - 1                   */
    int32_t *table;                    /* dense index, or -1 for empty     */
    uint32_t *hashes;                  /* per dense index, to skip strcmp  */
    char (*names)[QTR_SYMBOL_MAX];
};

/* FNV-1a: short keys, no allocation, good enough spread for ticker names. */
static uint32_t symbol_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

bool qh_symbol_valid(const char *symbol)
{
    if (!symbol || !symbol[0]) return false;
    return memchr(symbol, '\0', QTR_SYMBOL_MAX) != NULL;
}

qh_symbol_index *qh_symbol_index_new(size_t max_symbols)
{
    if (max_symbols == 0 || max_symbols > QH_SYMBOL_INDEX_LIMIT) return NULL;
    uint32_t size = 16;
    while (size < 2 * max_symbols) size *= 2;   /* load factor <= 1/2 */
    qh_symbol_index *ix = calloc(1, sizeof *ix);
    if (!ix) return NULL;
    ix->max = max_symbols;
    ix->mask = size - 1;
    ix->table = malloc(size * sizeof *ix->table);
    ix->hashes = calloc(max_symbols, sizeof *ix->hashes);
    ix->names = calloc(max_symbols, sizeof *ix->names);
    if (!ix->table || !ix->hashes || !ix->names) {
        qh_symbol_index_free(ix);
        return NULL;
    }
    memset(ix->table, 0xff, size * sizeof *ix->table);   /* all -1 */
    return ix;
}

void qh_symbol_index_free(qh_symbol_index *ix)
{
    if (!ix) return;
    free(ix->table);
    free(ix->hashes);
    free(ix->names);
    free(ix);
}

/* The table slot holding `symbol`, or the empty slot where it would go. */
static uint32_t probe(const qh_symbol_index *ix, const char *symbol, uint32_t h)
{
    uint32_t i = h & ix->mask;
    for (;;) {
        int32_t d = ix->table[i];
        if (d < 0) return i;
        if (ix->hashes[d] == h && strcmp(ix->names[d], symbol) == 0) return i;
        i = (i + 1) & ix->mask;   /* ends: the table is never more than half full */
    }
}

int32_t qh_symbol_index_find(const qh_symbol_index *ix, const char *symbol)
{
    if (!qh_symbol_valid(symbol)) return -1;
    return ix->table[probe(ix, symbol, symbol_hash(symbol))];
}

int32_t qh_symbol_index_intern(qh_symbol_index *ix, const char *symbol)
{
    if (!qh_symbol_valid(symbol)) return -1;
    uint32_t h = symbol_hash(symbol);
    uint32_t slot = probe(ix, symbol, h);
    if (ix->table[slot] >= 0) return ix->table[slot];
    if (ix->count >= ix->max) return -1;
    int32_t d = (int32_t)ix->count++;
    ix->hashes[d] = h;
    memcpy(ix->names[d], symbol, strlen(symbol) + 1);
    ix->table[slot] = d;
    return d;
}

size_t qh_symbol_index_count(const qh_symbol_index *ix) { return ix->count; }
size_t qh_symbol_index_capacity(const qh_symbol_index *ix) { return ix->max; }

const char *qh_symbol_index_name(const qh_symbol_index *ix, int32_t index)
{
    if (index < 0 || (size_t)index >= ix->count) return NULL;
    return ix->names[index];
}
