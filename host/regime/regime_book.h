/*
 * regime_book — the market regime of every symbol the host sees: one
 * classifier (qtr/regime_classifier.h) per symbol, fed each closed candle,
 * created on the symbol's first candle (its one allocation), O(1) after.
 * The engine publishes QTR_EV_REGIME when a symbol's regime changes and
 * answers qtr_host.get_regime from here (engine/regime_glue.c). The same
 * code runs live, in paper and in backtests (candle times, not wall time).
 */
#ifndef QH_REGIME_BOOK_H
#define QH_REGIME_BOOK_H

#include <stdbool.h>
#include <stddef.h>

#include <qtr/events.h>
#include <qtr/regime_classifier.h>

typedef struct qh_regime_book qh_regime_book;

/* NULL with the reason in err for parameters out of range
 * (qtr_regime_params_check) or no memory. */
qh_regime_book *qh_regime_book_new(const qtr_regime_params *p, char *err, size_t errlen);
void qh_regime_book_free(qh_regime_book *b);

/* One closed candle. 1: the symbol's regime changed and *out is the REGIME
 * payload; 0: no change (warm-up included); -1: the candle was refused (a
 * price out of range, a close <= 0) or memory ran out, with why in err. */
int qh_regime_book_on_candle(qh_regime_book *b, const qtr_candle *c, qtr_regime_event *out, char *err,
                             size_t errlen);

/* The symbol's current regime (UNKNOWN in its warm-up) with the inputs of
 * its last candle (0 before they exist) and that candle's close time: true;
 * false if the symbol has had no candle. */
bool qh_regime_book_get(const qh_regime_book *b, const char *symbol, qtr_regime_event *out);

/* Symbols seen, and the i-th of them (0 <= i < count), in first-seen order. */
size_t qh_regime_book_count(const qh_regime_book *b);
const char *qh_regime_book_symbol(const qh_regime_book *b, size_t i);

#endif
