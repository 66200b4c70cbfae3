/*
 * Reconciliation at start: the exchange's snapshot against what the store
 * remembers. The store only lists differences (and records orders it never
 * saw as external); deciding what to do about them is the host's job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_impl.h"

const char *qh_recon_kind_name(qh_recon_kind kind)
{
    switch (kind) {
    case QH_RECON_UNKNOWN_ORDER: return "unknown_order";
    case QH_RECON_MISSING_ORDER: return "missing_order";
    case QH_RECON_ORDER_MISMATCH: return "order_mismatch";
    case QH_RECON_POSITION_MISMATCH: return "position_mismatch";
    }
    return "?";
}

static qh_recon_diff *add_diff(qh_recon_diff *diffs, size_t *n, qh_recon_kind kind, const char *symbol,
                               const char *client_id, qtr_dec store_qty, qtr_dec exchange_qty)
{
    qh_recon_diff *d = &diffs[(*n)++];
    memset(d, 0, sizeof *d);
    d->kind = kind;
    qtr_strlcpy(d->symbol, symbol, sizeof d->symbol);
    qtr_strlcpy(d->client_id, client_id ? client_id : "", sizeof d->client_id);
    d->store_qty = store_qty;
    d->exchange_qty = exchange_qty;
    return d;
}

static const qtr_order_update *find_order(const qtr_order_update *orders, size_t n, const char *client_id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(orders[i].client_id, client_id) == 0) return &orders[i];
    return NULL;
}

static qtr_dec position_qty(const qtr_position *positions, size_t n, const char *symbol, bool *found)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(positions[i].symbol, symbol) == 0) {
            *found = true;
            return positions[i].qty;
        }
    *found = false;
    return 0;
}

/* An exchange order the store does not know: queue it as external. */
static int record_unknown(qh_store *st, const qtr_order_update *ex, qh_recon_diff *d, char *err, size_t errlen)
{
    char a[QTR_DEC_STRLEN];
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_ORDER_UPDATE;
    ev.time_ms = ex->time_ms;
    ev.u.order_update = *ex;
    ev.u.order_update.external = true;
    char why[QTR_TEXT_MAX];
    int rc = qh_store_enqueue(st, &ev, NULL, why, sizeof why);
    if (rc == QTR_OK) {
        snprintf(d->detail, sizeof d->detail, "%s %s: open on the exchange (%s, filled %s), unknown to the store;"
                 " recorded as external", ex->symbol, ex->client_id, qtr_order_status_name(ex->status),
                 qtr_dec_format(ex->filled_qty, a));
        return QTR_OK;
    }
    /* Sized to fit: symbol (23) and client id (39) whole, the words (39),
     * and the first 90 characters of the reason make at most 191. The full
     * reason goes to err when it stops reconciliation. */
    snprintf(d->detail, sizeof d->detail, "%s %s: unknown to the store, not recorded: %.90s", ex->symbol,
             ex->client_id, why);
    /* A malformed exchange record is listed, not fatal; a full or failed
     * store stops reconciliation so the host can retry. */
    if (rc == QTR_EINVAL) return QTR_OK;
    qh_store_errf(err, errlen, "%s", why);
    return rc;
}

int qh_store_reconcile(qh_store *st, const qtr_order_update *orders, size_t n_orders,
                       const qtr_position *positions, size_t n_positions,
                       qh_recon_diff **diffs_out, size_t *n_diffs_out, char *err, size_t errlen)
{
    *diffs_out = NULL;
    *n_diffs_out = 0;
    if ((n_orders && !orders) || (n_positions && !positions)) {
        qh_store_errf(err, errlen, "store reconcile: NULL snapshot array");
        return QTR_EINVAL;
    }
    qh_store_state state;
    int rc = qh_store_load_state(st, &state, err, errlen);
    if (rc != QTR_OK) return rc;

    size_t cap = n_orders + state.n_open_orders + n_positions + state.n_positions;
    qh_recon_diff *diffs = cap ? calloc(cap, sizeof *diffs) : NULL;
    if (cap && !diffs) {
        qh_store_errf(err, errlen, "store reconcile: out of memory");
        qh_store_state_free(&state);
        return QTR_EIO;
    }
    size_t n = 0;
    char a[QTR_DEC_STRLEN], b[QTR_DEC_STRLEN];

    for (size_t i = 0; i < n_orders && rc == QTR_OK; i++) {
        const qtr_order_update *ex = &orders[i];
        qtr_order_update mine;
        int found = memchr(ex->client_id, '\0', sizeof ex->client_id) && ex->client_id[0]
                        ? qh_store_get_order(st, ex->client_id, &mine)
                        : QTR_ENOTFOUND;
        if (found == QTR_ENOTFOUND) {
            qh_recon_diff *d = add_diff(diffs, &n, QH_RECON_UNKNOWN_ORDER, ex->symbol, ex->client_id, 0,
                                        ex->filled_qty);
            rc = record_unknown(st, ex, d, err, errlen);
        } else if (found != QTR_OK) {
            qh_store_errf(err, errlen, "store %s: cannot read order %s", st->path, ex->client_id);
            rc = QTR_EIO;
        } else if (mine.status != ex->status || mine.filled_qty != ex->filled_qty) {
            qh_recon_diff *d = add_diff(diffs, &n, QH_RECON_ORDER_MISMATCH, ex->symbol, ex->client_id,
                                        mine.filled_qty, ex->filled_qty);
            snprintf(d->detail, sizeof d->detail, "%s %s: store says %s filled %s, exchange says %s filled %s",
                     ex->symbol, ex->client_id, qtr_order_status_name(mine.status),
                     qtr_dec_format(mine.filled_qty, a), qtr_order_status_name(ex->status),
                     qtr_dec_format(ex->filled_qty, b));
        }
    }

    for (size_t i = 0; i < state.n_open_orders && rc == QTR_OK; i++) {
        const qtr_order_update *mine = &state.open_orders[i];
        if (find_order(orders, n_orders, mine->client_id)) continue;
        qh_recon_diff *d = add_diff(diffs, &n, QH_RECON_MISSING_ORDER, mine->symbol, mine->client_id,
                                    mine->filled_qty, 0);
        snprintf(d->detail, sizeof d->detail, "%s %s: open in the store (%s, filled %s), not open on the exchange",
                 mine->symbol, mine->client_id, qtr_order_status_name(mine->status),
                 qtr_dec_format(mine->filled_qty, a));
    }

    /* Positions: every symbol either side knows; a missing side counts as 0. */
    for (size_t i = 0; i < n_positions && rc == QTR_OK; i++) {
        bool found;
        qtr_dec mine = position_qty(state.positions, state.n_positions, positions[i].symbol, &found);
        if (mine == positions[i].qty) continue;
        qh_recon_diff *d = add_diff(diffs, &n, QH_RECON_POSITION_MISMATCH, positions[i].symbol, NULL, mine,
                                    positions[i].qty);
        snprintf(d->detail, sizeof d->detail, "%s: store position %s%s, exchange position %s", positions[i].symbol,
                 qtr_dec_format(mine, a), found ? "" : " (none)", qtr_dec_format(positions[i].qty, b));
    }
    for (size_t i = 0; i < state.n_positions && rc == QTR_OK; i++) {
        const qtr_position *mine = &state.positions[i];
        bool found;
        position_qty(positions, n_positions, mine->symbol, &found);
        if (found || mine->qty == 0) continue;
        qh_recon_diff *d = add_diff(diffs, &n, QH_RECON_POSITION_MISMATCH, mine->symbol, NULL, mine->qty, 0);
        snprintf(d->detail, sizeof d->detail, "%s: store position %s, none on the exchange", mine->symbol,
                 qtr_dec_format(mine->qty, a));
    }

    qh_store_state_free(&state);
    if (rc != QTR_OK || n == 0) {
        free(diffs);
        return rc;
    }
    *diffs_out = diffs;
    *n_diffs_out = n;
    return QTR_OK;
}
