/* strategy_symbols: see strategy_symbols.h. */
#include "strategy_symbols.h"

#include <stdint.h>
#include <stdlib.h>

#include "qc/strmap.h"   /* the project's one hash map (common/) */

struct strategy_symbols {
    qc_strmap *index;          /* symbol -> slot in states */
    void **states;
    size_t n, cap, state_size;
    bool warned_full;
};

strategy_symbols *strategy_symbols_new(size_t max_symbols, size_t state_size)
{
    strategy_symbols *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->index = qc_strmap_new(QTR_SYMBOL_MAX, max_symbols);
    t->states = calloc(max_symbols, sizeof *t->states);
    if (!t->index || !t->states) {
        strategy_symbols_free(t, NULL);
        return NULL;
    }
    t->cap = max_symbols;
    t->state_size = state_size;
    return t;
}

void *strategy_symbols_get(strategy_symbols *t, const qtr_host *host, qtr_ctx *ctx, const char *symbol,
                           bool *created)
{
    int64_t slot;
    *created = false;
    if (qc_strmap_get(t->index, symbol, &slot)) return t->states[slot];
    if (t->n == t->cap) {
        if (!t->warned_full)
            host->log(ctx, QTR_LOG_WARN, "more than %zu symbols: ignoring %s and any other new one", t->cap, symbol);
        t->warned_full = true;
        return NULL;
    }
    void *s = calloc(1, t->state_size);
    if (!s || qc_strmap_put(t->index, symbol, (int64_t)t->n) != QC_STRMAP_ADDED) {
        free(s);
        host->log(ctx, QTR_LOG_ERROR, "%s: out of memory, or not a symbol name", symbol);
        return NULL;
    }
    t->states[t->n++] = s;
    *created = true;
    return s;
}

void *strategy_symbols_find(const strategy_symbols *t, const char *symbol)
{
    int64_t slot;
    return qc_strmap_get(t->index, symbol, &slot) ? t->states[slot] : NULL;
}

void strategy_symbols_drop(strategy_symbols *t, const char *symbol)
{
    int64_t slot;
    /* only the newest state can be dropped: it was created last */
    if (!qc_strmap_get(t->index, symbol, &slot) || (size_t)slot != t->n - 1) return;
    qc_strmap_remove(t->index, symbol, NULL);
    free(t->states[--t->n]);
    t->states[t->n] = NULL;
}

void strategy_symbols_free(strategy_symbols *t, void (*fn)(void *state))
{
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) {
        if (fn) fn(t->states[i]);
        free(t->states[i]);
    }
    free(t->states);
    qc_strmap_free(t->index);
    free(t);
}
