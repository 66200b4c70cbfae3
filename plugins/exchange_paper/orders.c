/* The paper exchange's tables: order pool, client-id index, symbol table. */
#include <stdlib.h>
#include <string.h>

#include "paper.h"
#include "qc/hash.h"

/* The project's one string hash (common/include/qc/hash.h). */
static uint32_t fnv1a(const char *s) { return qc_hash_str(s); }

int qtr_paper_tables_init(qtr_paper *p)
{
    p->pool = calloc(QTR_PAPER_MAX_OPEN_ORDERS, sizeof *p->pool);
    p->syms = calloc(QTR_PAPER_MAX_SYMBOLS, sizeof *p->syms);
    p->snap_orders = calloc(QTR_PAPER_MAX_OPEN_ORDERS, sizeof *p->snap_orders);
    p->snap_positions = calloc(QTR_PAPER_MAX_SYMBOLS, sizeof *p->snap_positions);
    p->due = calloc(QTR_PAPER_MAX_OPEN_ORDERS, sizeof *p->due);
    if (!p->pool || !p->syms || !p->snap_orders || !p->snap_positions || !p->due) return -1;
    for (size_t i = QTR_PAPER_MAX_OPEN_ORDERS; i > 0; i--) {
        p->pool[i - 1].next = p->free_list;
        p->free_list = &p->pool[i - 1];
    }
    return 0;
}

void qtr_paper_tables_free(qtr_paper *p)
{
    free(p->pool);
    free(p->syms);
    free(p->snap_orders);
    free(p->snap_positions);
    free(p->due);
}

qtr_paper_symbol *qtr_paper_symbol_find(qtr_paper *p, const char *name)
{
    uint32_t mask = QTR_PAPER_SYMBOL_SLOTS - 1;
    for (uint32_t i = fnv1a(name) & mask;; i = (i + 1) & mask) {
        int16_t v = p->sym_index[i];
        if (!v) return NULL;
        if (strcmp(p->syms[v - 1].name, name) == 0) return &p->syms[v - 1];
    }
}

qtr_paper_symbol *qtr_paper_symbol_get(qtr_paper *p, const char *name)
{
    qtr_paper_symbol *s = qtr_paper_symbol_find(p, name);
    if (s || p->n_syms >= QTR_PAPER_MAX_SYMBOLS || !name[0] || strlen(name) >= QTR_SYMBOL_MAX) return s;
    uint32_t mask = QTR_PAPER_SYMBOL_SLOTS - 1, i = fnv1a(name) & mask;
    while (p->sym_index[i]) i = (i + 1) & mask;
    s = &p->syms[p->n_syms++];
    qtr_strlcpy(s->name, name, sizeof s->name);
    qtr_paper_symbol_apply_rules(p, s);
    p->sym_index[i] = (int16_t)p->n_syms;
    return s;
}

qtr_paper_order *qtr_paper_order_find(qtr_paper *p, const char *client_id)
{
    uint32_t mask = QTR_PAPER_ID_SLOTS - 1;
    for (uint32_t i = fnv1a(client_id) & mask;; i = (i + 1) & mask) {
        int32_t v = p->id_index[i];
        if (!v) return NULL;
        if (strcmp(p->pool[v - 1].u.client_id, client_id) == 0) return &p->pool[v - 1];
    }
}

qtr_paper_order *qtr_paper_order_open(qtr_paper *p, qtr_paper_symbol *sym, const qtr_order_update *u)
{
    qtr_paper_order *o = p->free_list;
    if (!o) return NULL;
    p->free_list = o->next;
    memset(o, 0, sizeof *o);
    o->u = *u;
    o->sym = sym;
    uint32_t mask = QTR_PAPER_ID_SLOTS - 1, i = fnv1a(u->client_id) & mask;
    while (p->id_index[i]) i = (i + 1) & mask;   /* never full: twice the pool */
    p->id_index[i] = (int32_t)(o - p->pool) + 1;
    o->id_slot = (int32_t)i;
    o->prev = sym->tail;
    if (sym->tail) sym->tail->next = o;
    else sym->head = o;
    sym->tail = o;
    p->n_open++;
    return o;
}

/* Linear probing deletion by backward shift: no tombstones to pile up. */
static void unindex(qtr_paper *p, uint32_t hole)
{
    uint32_t mask = QTR_PAPER_ID_SLOTS - 1;
    for (uint32_t j = (hole + 1) & mask; p->id_index[j]; j = (j + 1) & mask) {
        qtr_paper_order *o = &p->pool[p->id_index[j] - 1];
        uint32_t home = fnv1a(o->u.client_id) & mask;
        /* move j into the hole unless its home lies cyclically in (hole, j] */
        bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (stays) continue;
        p->id_index[hole] = p->id_index[j];
        o->id_slot = (int32_t)hole;
        hole = j;
    }
    p->id_index[hole] = 0;
}

static void unlink_and_free(qtr_paper *p, qtr_paper_order *o)
{
    qtr_paper_symbol *sym = o->sym;
    if (o->prev) o->prev->next = o->next;
    else sym->head = o->next;
    if (o->next) o->next->prev = o->prev;
    else sym->tail = o->prev;
    o->prev = NULL;
    o->next = p->free_list;
    p->free_list = o;
}

void qtr_paper_order_release(qtr_paper *p, qtr_paper_order *o)
{
    if (o->dead) return;                     /* released already */
    unindex(p, (uint32_t)o->id_slot);
    o->u.client_id[0] = '\0';
    o->dead = true;
    p->n_open--;
    if (p->hold > 0) {
        o->dead_next = p->dead_list;
        p->dead_list = o;
        return;
    }
    unlink_and_free(p, o);
}

void qtr_paper_hold(qtr_paper *p) { p->hold++; }

void qtr_paper_unhold(qtr_paper *p)
{
    if (--p->hold > 0) return;
    while (p->dead_list) {
        qtr_paper_order *o = p->dead_list;
        p->dead_list = o->dead_next;
        unlink_and_free(p, o);
    }
}
