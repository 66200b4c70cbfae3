/* regime_book.c — see regime_book.h. */
#include "regime/regime_book.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market/symbol_cycle.h"
#include "qc/strmap.h"

typedef struct entry {
    qtr_regime_classifier cls;
    qtr_regime_event state;   /* the current regime and the last inputs */
} entry;

struct qh_regime_book {
    qtr_regime_params params;
    qc_strmap *index;         /* symbol -> position in entries */
    entry *entries;
    size_t n, cap;
    size_t next;              /* symbol_cycle.h: the entry likely next */
};

qh_regime_book *qh_regime_book_new(const qtr_regime_params *p, char *err, size_t errlen)
{
    if (!qtr_regime_params_check(p, err, errlen)) return NULL;
    qh_regime_book *b = calloc(1, sizeof *b);
    if (b) b->index = qc_strmap_new(QTR_SYMBOL_MAX, 0);
    if (!b || !b->index) {
        snprintf(err, errlen, "regime: out of memory");
        qh_regime_book_free(b);
        return NULL;
    }
    b->params = *p;
    return b;
}

void qh_regime_book_free(qh_regime_book *b)
{
    if (!b) return;
    for (size_t i = 0; i < b->n; i++) qtr_regime_classifier_free(&b->entries[i].cls);
    free(b->entries);
    qc_strmap_free(b->index);
    free(b);
}

static entry *find(const qh_regime_book *b, const char *symbol)
{
    int64_t at;
    return qc_strmap_get(b->index, symbol, &at) ? &b->entries[at] : NULL;
}

static const char *entry_symbol(const void *book, size_t i)
{
    return ((const qh_regime_book *)book)->entries[i].state.symbol;
}

/* The symbol's entry, made on its first candle. */
static entry *find_or_add(qh_regime_book *b, const char *symbol, char *err, size_t errlen)
{
    long likely = qh_symbol_cycle_try(&b->next, b->n, symbol, entry_symbol, b);
    if (likely >= 0) return &b->entries[likely];
    entry *e = find(b, symbol);
    if (e) {
        qh_symbol_cycle_found(&b->next, (size_t)(e - b->entries));
        return e;
    }
    if (!qc_strmap_key_ok(b->index, symbol)) {
        snprintf(err, errlen, "regime: candle without a valid symbol");
        return NULL;
    }
    if (b->n == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 8;
        entry *n = realloc(b->entries, ncap * sizeof *n);   /* a classifier owns its window by pointer: movable */
        if (!n) goto oom;
        b->entries = n;
        b->cap = ncap;
    }
    e = &b->entries[b->n];
    if (!qtr_regime_classifier_init(&e->cls, &b->params)) {
        qtr_regime_classifier_free(&e->cls);
        goto oom;
    }
    if (qc_strmap_put(b->index, symbol, (int64_t)b->n) != QC_STRMAP_ADDED) {
        qtr_regime_classifier_free(&e->cls);
        goto oom;
    }
    e->state = (qtr_regime_event){ .regime = QTR_REGIME_UNKNOWN, .previous = QTR_REGIME_UNKNOWN };
    snprintf(e->state.symbol, sizeof e->state.symbol, "%s", symbol);
    qh_symbol_cycle_found(&b->next, b->n++);
    return e;
oom:
    snprintf(err, errlen, "regime %s: out of memory", symbol);
    return NULL;
}

int qh_regime_book_on_candle(qh_regime_book *b, const qtr_candle *c, qtr_regime_event *out, char *err,
                             size_t errlen)
{
    /* a bounded copy (the candle's symbol may fill its array): this runs for
     * every candle, where snprintf cost most of the book's time */
    char symbol[QTR_SYMBOL_MAX];
    size_t len = strnlen(c->symbol, sizeof c->symbol - 1);
    memcpy(symbol, c->symbol, len);
    symbol[len] = '\0';
    entry *e = find_or_add(b, symbol, err, errlen);
    if (!e) return -1;
    if (qtr_regime_classifier_update(&e->cls, c) == QTR_IND_REFUSED) {
        snprintf(err, errlen, "regime %s: candle at %lld refused (a price out of range or a close <= 0)", symbol,
                 (long long)c->close_time_ms);
        return -1;
    }
    const qtr_regime_classifier *k = &e->cls;
    e->state.time_ms = c->close_time_ms;
    e->state.regime = k->regime;
    e->state.previous = k->previous;
    if (k->inputs_ready) {
        e->state.adx = k->adx;
        e->state.plus_di = k->plus_di;
        e->state.minus_di = k->minus_di;
        e->state.atr_pct = k->atr_pct;
        e->state.volatility = k->volatility;
    }
    if (!k->changed) return 0;
    *out = e->state;
    return 1;
}

bool qh_regime_book_get(const qh_regime_book *b, const char *symbol, qtr_regime_event *out)
{
    const entry *e = symbol ? find(b, symbol) : NULL;
    if (!e) return false;
    *out = e->state;
    return true;
}

size_t qh_regime_book_count(const qh_regime_book *b) { return b->n; }

const char *qh_regime_book_symbol(const qh_regime_book *b, size_t i)
{
    return i < b->n ? b->entries[i].state.symbol : NULL;
}
