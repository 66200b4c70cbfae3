/* orders.c — the open-order table (client id -> order, hashed) and the
 * fill ids already applied (a fill is never counted twice). Both index
 * their ids with the project's one hash map (qc/strmap.h). */
#include "engine/engine_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "qc/strmap.h"

#define LOGC "orders"

/* ---- the open-order table: a dense array, and client id -> its place ---- */

struct qh_order_table {
    qtr_order_update *items;   /* 0 .. n-1 */
    size_t n, cap;
    /* A growing map: sized by the most orders ever open at once (tens, as
     * a rule), not by the capacity. A fixed one for 65,536 orders is 6 MB
     * whose pages random ids touch one by one: the server's memory would
     * creep up for as long as orders come (stress_signal_flood). */
    qc_strmap *ix;
    /* The place of the order put or found last: an order's updates follow
     * it closely (sent, NEW, FILLED), so the id there is compared before
     * the id is hashed. Only a hint: any place below n holds an order, and
     * ids are unique, so an equal id there is the order. */
    size_t hint;
};

qh_order_table *qh_order_table_new(size_t capacity)
{
    if (capacity == 0 || capacity > QC_STRMAP_MAX_ENTRIES) return NULL;
    qh_order_table *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->items = calloc(capacity, sizeof *t->items);
    t->ix = qc_strmap_new(QTR_CLIENT_ID_MAX, 0);
    if (!t->items || !t->ix) {
        qh_order_table_free(t);
        return NULL;
    }
    t->cap = capacity;
    return t;
}

void qh_order_table_free(qh_order_table *t)
{
    if (!t) return;
    qc_strmap_free(t->ix);
    free(t->items);
    free(t);
}

qtr_order_update *qh_order_table_find(qh_order_table *t, const char *client_id)
{
    /* strcmp stops at the stored id's NUL (within its field), so an
     * unterminated client_id is read no further than the map would */
    if (t->hint < t->n && client_id && strcmp(t->items[t->hint].client_id, client_id) == 0) return &t->items[t->hint];
    int64_t at;
    if (!qc_strmap_get(t->ix, client_id, &at)) return NULL;
    t->hint = (size_t)at;
    return &t->items[at];
}

qh_order_put qh_order_table_put(qh_order_table *t, const qtr_order_update *u)
{
    if (!qc_strmap_key_ok(t->ix, u->client_id)) return QH_ORDER_BAD_ID;
    if (t->n == t->cap) return qc_strmap_get(t->ix, u->client_id, NULL) ? QH_ORDER_EXISTS : QH_ORDER_FULL;
    /* put first, no look-up before it (on every order): an id already open
     * (an error, rare) gets its place back from the dense array */
    int put = qc_strmap_put(t->ix, u->client_id, (int64_t)t->n);
    if (put == QC_STRMAP_REPLACED) {
        for (size_t i = 0; i < t->n; i++)
            if (strcmp(t->items[i].client_id, u->client_id) == 0) qc_strmap_put(t->ix, u->client_id, (int64_t)i);
        return QH_ORDER_EXISTS;
    }
    if (put != QC_STRMAP_ADDED) return QH_ORDER_FULL;   /* no memory to grow the index */
    t->hint = t->n;
    t->items[t->n++] = *u;
    return QH_ORDER_ADDED;
}

bool qh_order_table_remove(qh_order_table *t, const char *client_id)
{
    int64_t hole;
    if (!qc_strmap_remove(t->ix, client_id, &hole)) return false;
    size_t last = t->n - 1;
    if ((size_t)hole != last) {    /* the last order fills the hole */
        t->items[hole] = t->items[last];
        qc_strmap_put(t->ix, t->items[hole].client_id, hole);   /* replaces: never refused */
    }
    t->n--;
    return true;
}

size_t qh_order_table_count(const qh_order_table *t) { return t->n; }
size_t qh_order_table_capacity(const qh_order_table *t) { return t->cap; }
const qtr_order_update *qh_order_table_items(const qh_order_table *t) { return t->items; }

bool qh_open_orders_track(qh_engine *e, const qtr_order_update *u, const char *what)
{
    qh_order_put rc = qh_order_table_put(e->open_orders, u);
    if (rc == QH_ORDER_ADDED) return true;
    if (rc == QH_ORDER_EXISTS) {
        /* already tracked: this is its newer state */
        *qh_order_table_find(e->open_orders, u->client_id) = *u;
        return true;
    }
    if (rc == QH_ORDER_BAD_ID) {
        qh_error(LOGC, "%s: an order on %.24s with an empty or unterminated client id cannot be tracked", what,
                 u->symbol);
        qh_publish_alert(e, QTR_ALERT_CRITICAL, "orders", "open_order_bad_id", "%s: order on %.24s without a valid id",
                         what, u->symbol);
        qh_ess_trip_host(e->ess, "an open order without a valid client id", qh_clock_now_ms(e->clock));
        return false;
    }
    /* An open order the host cannot track is one the ESS might not cancel:
     * never dropped quietly. The trip cancels everything and blocks entries
     * until an operator has looked. */
    qh_error(LOGC, "%s: order %s on %s cannot be tracked (%zu orders open, the most the host tracks); tripping the ESS",
             what, u->client_id, u->symbol, qh_order_table_count(e->open_orders));
    qh_publish_alert(e, QTR_ALERT_CRITICAL, "orders", "open_orders_full", "%s: order %.40s on %.24s not tracked", what,
                     u->client_id, u->symbol);
    qh_ess_trip_host(e->ess, "more open orders than the host can track", qh_clock_now_ms(e->clock));
    return false;
}

/* ---- fill ids already applied: the last `cap`, oldest first in a ring ---- */

struct qh_fill_dedup {
    char (*ids)[QTR_CLIENT_ID_MAX];
    size_t head, count, cap;
    qc_strmap *seen;
};

qh_fill_dedup *qh_fill_dedup_new(size_t capacity)
{
    if (capacity == 0 || capacity > QC_STRMAP_MAX_ENTRIES) return NULL;
    qh_fill_dedup *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->ids = calloc(capacity, sizeof *d->ids);
    d->seen = qc_strmap_new(QTR_CLIENT_ID_MAX, capacity);
    if (!d->ids || !d->seen) {
        qh_fill_dedup_free(d);
        return NULL;
    }
    d->cap = capacity;
    return d;
}

void qh_fill_dedup_free(qh_fill_dedup *d)
{
    if (!d) return;
    qc_strmap_free(d->seen);
    free(d->ids);
    free(d);
}

bool qh_fill_seen(const qh_fill_dedup *d, const char *fill_id) { return qc_strmap_get(d->seen, fill_id, NULL); }

/* Remember an id known to be new and a valid key. */
static void remember_new(qh_fill_dedup *d, const char *fill_id)
{
    size_t pos = (d->head + d->count) % d->cap;
    if (d->count == d->cap) {       /* forget the oldest, whose place this is */
        qc_strmap_remove(d->seen, d->ids[pos], NULL);
        d->head = (d->head + 1) % d->cap;
        d->count--;
    }
    /* a valid key ends within the field: copied whole with its NUL (on
     * every fill, where qtr_strlcpy's byte loop cost ~100 instructions) */
    memcpy(d->ids[pos], fill_id, strlen(fill_id) + 1);
    qc_strmap_put(d->seen, fill_id, (int64_t)pos);   /* room was made: never refused */
    d->count++;
}

void qh_fill_remember(qh_fill_dedup *d, const char *fill_id)
{
    if (!qc_strmap_key_ok(d->seen, fill_id) || qc_strmap_get(d->seen, fill_id, NULL)) return;
    remember_new(d, fill_id);
}

bool qh_fill_seen_else_remember(qh_fill_dedup *d, const char *fill_id)
{
    if (qc_strmap_get(d->seen, fill_id, NULL)) return true;
    if (qc_strmap_key_ok(d->seen, fill_id)) remember_new(d, fill_id);
    return false;
}

void qh_engine_remember_fill(qh_engine *e, const char *fill_id) { qh_fill_remember(e->fills_seen, fill_id); }
