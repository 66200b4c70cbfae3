/*
 * strategy_symbols — a strategy's per-symbol states by symbol name, over the
 * project's one hash map (qc/strmap.h). Fixed capacity: memory is taken at
 * init, a state is allocated (zeroed) on its symbol's first candle, and a
 * symbol past the capacity is refused (logged once).
 */
#ifndef QTR_STRATEGY_SYMBOLS_H
#define QTR_STRATEGY_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>

#include <qtr/plugin.h>

typedef struct strategy_symbols strategy_symbols;

/* NULL when out of memory. state_size: sizeof your per-symbol struct. */
strategy_symbols *strategy_symbols_new(size_t max_symbols, size_t state_size);

/* The state of `symbol`; a new zeroed one on its first call (*created set
 * true: initialise it then). NULL, logged once through host/ctx, when the
 * table is full, or out of memory. */
void *strategy_symbols_get(strategy_symbols *t, const qtr_host *host, qtr_ctx *ctx, const char *symbol,
                           bool *created);

/* The state of `symbol` if it has one, else NULL (nothing is created). */
void *strategy_symbols_find(const strategy_symbols *t, const char *symbol);

/* Drop a state just created whose initialisation failed (it is freed). */
void strategy_symbols_drop(strategy_symbols *t, const char *symbol);

/* Call fn on each state (to free what it holds), then free everything. */
void strategy_symbols_free(strategy_symbols *t, void (*fn)(void *state));

#endif
