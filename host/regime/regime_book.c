/* regime_book.c — see regime_book.h. */
#include "regime/regime_book.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market/symbol_cycle.h"
#include "qc/strmap.h"

typedef struct entry {
    qtr_regime_classifier cls;
    qtr_regime_event state;   /* the symbol and its last candle's time; the
                                 * rest is read from cls when asked (event_of) */
    size_t symbol_len;        /* strlen(state.symbol): the per-candle compare */
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

/* The REGIME payload of e: its symbol and last candle's time, and the
 * classifier's regime, previous one and inputs. The classifier writes its
 * inputs only on a candle that has them all and keeps them after, 0 before:
 * what copying them after each such candle gave, without the copy. */
static void event_of(const entry *e, qtr_regime_event *out)
{
    const qtr_regime_classifier *k = &e->cls;
    *out = e->state;
    out->regime = k->regime;
    out->previous = k->previous;
    out->adx = k->adx;
    out->plus_di = k->plus_di;
    out->minus_di = k->minus_di;
    out->atr_pct = k->atr_pct;
    out->volatility = k->volatility;
}

static entry *find(const qh_regime_book *b, const char *symbol)
{
    int64_t at;
    return qc_strmap_get(b->index, symbol, &at) ? &b->entries[at] : NULL;
}

static const char *entry_name(const void *entries, size_t i, size_t *len)
{
    const entry *e = &((const entry *)entries)[i];
    *len = e->symbol_len;
    return e->state.symbol;
}

/* market/symbol_cycle.h's guess: the entry after the one found last, then
 * that one again; NULL when neither is the candle's. */
static entry *likely_entry(qh_regime_book *b, const char field[QTR_SYMBOL_MAX])
{
    long at = qh_symbol_cycle_try_field(&b->next, b->n, field, entry_name, b->entries);
    return at >= 0 ? &b->entries[at] : NULL;
}

/* The symbol's entry, made on its first candle (after likely_entry missed). */
static __attribute__((noinline)) entry *find_or_add(qh_regime_book *b, const char *symbol, char *err, size_t errlen)
{
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
    e->symbol_len = strlen(e->state.symbol);
    qh_symbol_cycle_found(&b->next, b->n++);
    return e;
oom:
    snprintf(err, errlen, "regime %s: out of memory", symbol);
    return NULL;
}

/* The entry of a candle likely_entry did not guess, from a bounded copy of
 * its symbol (the field may fill its array). Apart from the per-candle path. */
static __attribute__((noinline)) entry *entry_of_field(qh_regime_book *b, const char field[QTR_SYMBOL_MAX],
                                                       char *err, size_t errlen)
{
    char symbol[QTR_SYMBOL_MAX];
    size_t len = strnlen(field, QTR_SYMBOL_MAX - 1);
    memcpy(symbol, field, len);
    symbol[len] = '\0';
    return find_or_add(b, symbol, err, errlen);
}

static __attribute__((noinline)) int refused(const entry *e, const qtr_candle *c, char *err, size_t errlen)
{
    snprintf(err, errlen, "regime %s: candle at %lld refused (a price out of range or a close <= 0)", e->state.symbol,
             (long long)c->close_time_ms);
    return -1;
}

int qh_regime_book_on_candle(qh_regime_book *b, const qtr_candle *c, qtr_regime_event *out, char *err,
                             size_t errlen)
{
    entry *e = likely_entry(b, c->symbol);
    if (!e && !(e = entry_of_field(b, c->symbol, err, errlen))) return -1;
    if (qtr_regime_classifier_update(&e->cls, c) == QTR_IND_REFUSED) return refused(e, c, err, errlen);
    e->state.time_ms = c->close_time_ms;
    if (!e->cls.changed) return 0;
    event_of(e, out);
    return 1;
}

bool qh_regime_book_get(const qh_regime_book *b, const char *symbol, qtr_regime_event *out)
{
    const entry *e = symbol ? find(b, symbol) : NULL;
    if (!e) return false;
    event_of(e, out);
    return true;
}

size_t qh_regime_book_count(const qh_regime_book *b) { return b->n; }

const char *qh_regime_book_symbol(const qh_regime_book *b, size_t i)
{
    return i < b->n ? b->entries[i].state.symbol : NULL;
}
