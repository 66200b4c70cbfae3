/* symtab.c — see symtab.h. */
#include "core/symtab.h"

#include <stdlib.h>
#include <string.h>

#include <qtr/events.h>

typedef struct slot {
    char symbol[QTR_SYMBOL_MAX];
    uint32_t hash;
    int32_t index;          /* -1: empty */
} slot;

struct qh_symtab {
    slot *slots;
    size_t cap, count;
};

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static bool alloc_slots(qh_symtab *t, size_t cap)
{
    t->slots = malloc(cap * sizeof *t->slots);
    if (!t->slots) return false;
    for (size_t i = 0; i < cap; i++) t->slots[i].index = -1;
    t->cap = cap;
    return true;
}

qh_symtab *qh_symtab_new(void)
{
    qh_symtab *t = calloc(1, sizeof *t);
    if (!t || !alloc_slots(t, 64)) { free(t); return NULL; }
    return t;
}

void qh_symtab_free(qh_symtab *t)
{
    if (!t) return;
    free(t->slots);
    free(t);
}

static slot *probe(const qh_symtab *t, const char *symbol, uint32_t h)
{
    size_t mask = t->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        slot *s = &t->slots[i];
        if (s->index < 0 || (s->hash == h && strcmp(s->symbol, symbol) == 0)) return s;
    }
}

int32_t qh_symtab_find(const qh_symtab *t, const char *symbol)
{
    return probe(t, symbol, fnv1a(symbol))->index;
}

int32_t qh_symtab_intern(qh_symtab *t, const char *symbol)
{
    if (!symbol || !*symbol || strlen(symbol) >= QTR_SYMBOL_MAX) return -1;
    uint32_t h = fnv1a(symbol);
    slot *s = probe(t, symbol, h);
    if (s->index >= 0) return s->index;
    if ((t->count + 1) * 2 > t->cap) {     /* keep the load under one half */
        slot *old = t->slots;
        size_t ocap = t->cap;
        if (!alloc_slots(t, ocap * 2)) { t->slots = old; return -1; }
        for (size_t i = 0; i < ocap; i++)
            if (old[i].index >= 0) *probe(t, old[i].symbol, old[i].hash) = old[i];
        free(old);
        s = probe(t, symbol, h);
    }
    memcpy(s->symbol, symbol, strlen(symbol) + 1);
    s->hash = h;
    s->index = (int32_t)t->count++;
    return s->index;
}

size_t qh_symtab_count(const qh_symtab *t) { return t->count; }
