/* The paper exchange's tables: order pool, client-id index, symbol table.
 * Both indexes are the project's one hash map (qc/strmap.h), fixed at the
 * pool's and the symbol table's size, so nothing allocates after init. */
#include <stdlib.h>
#include <string.h>

#include "paper.h"
#include "qc/strmap.h"

int qtr_paper_tables_init(qtr_paper *p)
{
    p->pool = calloc(QTR_PAPER_MAX_OPEN_ORDERS, sizeof *p->pool);
    p->syms = calloc(QTR_PAPER_MAX_SYMBOLS, sizeof *p->syms);
    p->snap_orders = calloc(QTR_PAPER_MAX_OPEN_ORDERS, sizeof *p->snap_orders);
    p->snap_positions = calloc(QTR_PAPER_MAX_SYMBOLS, sizeof *p->snap_positions);
    p->due = calloc(QTR_PAPER_MAX_OPEN_ORDERS, sizeof *p->due);
    p->ids = qc_strmap_new(QTR_CLIENT_ID_MAX, QTR_PAPER_MAX_OPEN_ORDERS);
    p->sym_ix = qc_strmap_new(QTR_SYMBOL_MAX, QTR_PAPER_MAX_SYMBOLS);
    if (!p->pool || !p->syms || !p->snap_orders || !p->snap_positions || !p->due || !p->ids || !p->sym_ix) return -1;
    /* No free list is threaded through the pool here: that would write to
     * every one of its pages (2 MB) at start, a cost every backtest paid
     * whatever its length. Orders take the released ones first, then the
     * pool's next untouched place (qtr_paper_order_open). */
    p->free_list = NULL;
    p->n_carved = 0;
    return 0;
}

/* The same order of places as a free list threaded through the whole pool
 * at start: the released ones, last released first, then the untouched
 * ones in index order. */
static qtr_paper_order *take_place(qtr_paper *p)
{
    if (p->free_list) return p->free_list;
    return p->n_carved < QTR_PAPER_MAX_OPEN_ORDERS ? &p->pool[p->n_carved] : NULL;
}

void qtr_paper_tables_free(qtr_paper *p)
{
    free(p->pool);
    free(p->syms);
    free(p->snap_orders);
    free(p->snap_positions);
    free(p->due);
    qc_strmap_free(p->ids);
    qc_strmap_free(p->sym_ix);
}

qtr_paper_symbol *qtr_paper_symbol_find(qtr_paper *p, const char name[QTR_SYMBOL_MAX])
{
    qtr_paper_symbol *guessed = qtr_paper_symbol_guess(p, name);
    if (guessed) return guessed;
    int64_t i;
    if (!qc_strmap_get(p->sym_ix, name, &i)) return NULL;
    p->last_sym = &p->syms[i];
    return p->last_sym;
}

qtr_paper_symbol *qtr_paper_symbol_get(qtr_paper *p, const char name[QTR_SYMBOL_MAX])
{
    qtr_paper_symbol *s = qtr_paper_symbol_find(p, name);
    if (s || p->n_syms >= QTR_PAPER_MAX_SYMBOLS) return s;
    /* refused: an empty or too long name (the table has room, checked above) */
    if (qc_strmap_put(p->sym_ix, name, (int64_t)p->n_syms) != QC_STRMAP_ADDED) return NULL;
    s = &p->syms[p->n_syms++];
    qtr_strlcpy(s->name, name, sizeof s->name);
    s->name_len = strlen(s->name);
    qtr_paper_symbol_apply_rules(p, s);
    return s;
}

qtr_paper_order *qtr_paper_order_find(qtr_paper *p, const char *client_id)
{
    int64_t i;
    return qc_strmap_get(p->ids, client_id, &i) ? &p->pool[i] : NULL;
}

qtr_paper_order *qtr_paper_order_open(qtr_paper *p, qtr_paper_symbol *sym, const qtr_order_update *u)
{
    qtr_paper_order *o = take_place(p);
    /* the index is as big as the pool: only an invalid id is refused here */
    if (!o || qc_strmap_put(p->ids, u->client_id, o - p->pool) != QC_STRMAP_ADDED) return NULL;
    if (o == p->free_list) p->free_list = o->next;
    else p->n_carved++;
    memset(o, 0, sizeof *o);
    o->u = *u;
    o->sym = sym;
    o->prev = sym->tail;
    if (sym->tail) sym->tail->next = o;
    else sym->head = o;
    sym->tail = o;
    p->n_open++;
    return o;
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
    qc_strmap_remove(p->ids, o->u.client_id, NULL);
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
