/* persist.c — the engine and the trade store: every order, fill, position,
 * equity snapshot, ESS transition, policy load and alert goes to the store;
 * at start the engine resumes from it and reconciles with the exchange. */
#include "engine/engine_internal.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define LOGC "store"

/* The records of one loop turn are one store transaction: a fill, the
 * order update the exchange sends with it, the position and the equity it
 * moves are published in the same turn, and no reader, backup or crash may
 * see some of them without the others. The group opens with the turn's first
 * record and ends when the loop turns (a zero timer: the next loop
 * iteration live, the next clock advance in a backtest), or at a flush. */
static void on_turn_end(void *ud)
{
    qh_engine *e = ud;
    e->store_turn_end = NULL;   /* a one-shot timer frees itself */
    qh_store_group_end(e->store);
}

static void group_this_turn(qh_engine *e)
{
    if (!e->store_turn_end) {
        /* owned by the store, not the engine: stopping the engine's timers
         * must not leave a group open */
        e->store_turn_end = qh_timer_start(e->clock, 0, false, on_turn_end, e, e->store);
        if (!e->store_turn_end) {
            qh_warn(LOGC, "cannot schedule the end of a store group: this record is committed on its own");
            return;
        }
    }
    qh_store_group_begin(e->store);   /* again after a flush ended it early */
}

/* Queue one event; a full ring waits for the writer rather than drop a
 * record (bounded), and a store that cannot keep up stops trading. */
static void record(void *ud, const qtr_event *ev)
{
    qh_engine *e = ud;
    /* the registry's store column (qtr/event_types.h) says what is kept */
    if (!e->store || (ev->flags & QTR_EVF_REPLAY && qtr_event_store_rule(ev->type) != QTR_STORE_ALWAYS)) return;
    group_this_turn(e);
    char err[256] = "";
    uint64_t seq = 0;
    int rc = qh_store_enqueue(e->store, ev, &seq, err, sizeof err);
    if (rc == QTR_EFULL) {
        qh_warn(LOGC, "write queue full: waiting for the writer");
        if (qh_store_wait_room(e->store, 2000) == QTR_EFULL) {
            /* this turn's records alone fill the ring: commit them in parts
             * rather than lose one */
            qh_warn(LOGC, "one loop turn filled the write queue: its records are committed in more than one transaction");
            qh_store_flush(e->store, 2000);
            qh_store_group_begin(e->store);
        }
        rc = qh_store_enqueue(e->store, ev, &seq, err, sizeof err);
    }
    if (rc == QTR_EINVAL) {
        qh_error(LOGC, "%s event not stored: %s", qtr_event_type_name(ev->type), err);
        return;
    }
    if (rc != QTR_OK && !e->store_failed_reported) {
        e->store_failed_reported = true;
        char msg[QTR_TEXT_MAX] = "";
        qh_store_failed(e->store, msg, sizeof msg);
        qh_error(LOGC, "the trade store cannot record %s events (%s): stopping new trading",
                 qtr_event_type_name(ev->type), msg[0] ? msg : rc == QTR_EFULL ? "queue full" : "error");
        qh_publish_alert(e, QTR_ALERT_CRITICAL, "store", "store_failed", "trade store failing: %s",
                         msg[0] ? msg : "write queue full");
        qh_ess_trip_host(e->ess, "trade store failing: nothing can be recorded", qh_clock_now_ms(e->clock));
        return;
    }
    if (rc == QTR_OK && ev->type == QTR_EV_FILL && !e->backtest) e->last_fill_seq = seq;
}

/* A fill counts as settled once it is durable. */
static void on_durable(void *ud, uint64_t seq, int status)
{
    qh_engine *e = ud;
    (void)seq;
    if (status == QTR_OK) qh_metric_add(e->m.fills_settled, 1);
}

static void on_fill_recorded(void *ud, const qtr_event *ev)
{
    qh_engine *e = ud;
    (void)ev;
    if (e->store && e->last_fill_seq && qh_store_watch(e->store, e->last_fill_seq, on_durable, e) != QTR_OK)
        qh_debug(LOGC, "durability watch not registered for seq %llu", (unsigned long long)e->last_fill_seq);
    e->last_fill_seq = 0;
}

static void on_notify(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    qh_engine *e = arg;
    qh_store_dispatch(e->store);
}

int qh_persist_open(qh_engine *e, const char *path, bool fresh_only, char *err, size_t errlen)
{
    if (fresh_only) {
        FILE *f = fopen(path, "r");
        if (f) {
            fclose(f);
            snprintf(err, errlen, "store %s exists: a backtest writes only to a new store of its own", path);
            return -1;
        }
    }
    qh_store_options opt = { .queue_capacity = 65536 };
    char serr[512];
    e->store = qh_store_open(path, &opt, serr, sizeof serr);
    if (!e->store) {
        snprintf(err, errlen, "%s", serr);
        return -1;
    }
    /* the store was started with one balance; a different one would make
     * every figure after a restart wrong */
    char text[64];
    int rc = qh_store_meta_get(e->store, "starting_balance", text, sizeof text);
    if (rc == QTR_OK) {
        qtr_dec stored;
        if (qtr_dec_parse(text, (size_t)-1, &stored) != QTR_DEC_OK || stored != e->cfg->starting_balance) {
            char want[QTR_DEC_STRLEN];
            snprintf(err, errlen, "store %s was started with a balance of %s, the config says %s: use another store",
                     path, text, qtr_dec_format(e->cfg->starting_balance, want));
            qh_store_close(e->store);
            e->store = NULL;
            return -1;
        }
    } else if (qh_store_set_starting_balance(e->store, e->cfg->starting_balance, serr, sizeof serr) != QTR_OK) {
        snprintf(err, errlen, "store %s: %s", path, serr);
        qh_store_close(e->store);
        e->store = NULL;
        return -1;
    }
    if (e->base) {
        e->store_event = event_new(e->base, qh_store_notify_fd(e->store), EV_READ | EV_PERSIST, on_notify, e);
        if (!e->store_event || event_add(e->store_event, NULL) != 0) {
            snprintf(err, errlen, "store %s: cannot watch its notification fd", path);
            return -1;
        }
    }
    /* the store subscribes before anything else: a fill is queued for disk
     * before any other subscriber acts on it */
    for (int t = QTR_EV_NONE + 1; t < QTR_EV__COUNT; t++)
        if (qtr_event_store_rule((qtr_event_type)t) != QTR_STORE_NO)
            qh_bus_subscribe(e->bus, (qtr_event_type)t, NULL, record, e, e);
    qh_bus_subscribe(e->bus, QTR_EV_FILL, NULL, on_fill_recorded, e, e);
    qh_info(LOGC, "trade store %s open", path);
    return 0;
}

int qh_persist_restore(qh_engine *e, char *err, size_t errlen)
{
    if (!e->store) return 0;
    qh_store_state s;
    char serr[512];
    if (qh_store_load_state(e->store, &s, serr, sizeof serr) != QTR_OK) {
        snprintf(err, errlen, "store: %s", serr);
        return -1;
    }
    int rc = 0;
    /* Positions are the sum of their fills: replay them, oldest first. */
    size_t n = 0;
    qtr_fill *fills = NULL;
    if (s.n_fills) {
        fills = malloc(s.n_fills * sizeof *fills);
        if (!fills) { snprintf(err, errlen, "store: out of memory reading %llu fills", (unsigned long long)s.n_fills); rc = -1; goto out; }
        n = qh_store_recent_fills(e->store, fills, s.n_fills);
        if (n != s.n_fills) {
            snprintf(err, errlen, "store: read %zu of %llu fills", n, (unsigned long long)s.n_fills);
            rc = -1;
            goto out;
        }
        /* newest first from the store (by insertion): reversed, it is the
         * order the fills were applied in, ties within a millisecond too */
        for (size_t i = 0; i < n / 2; i++) { qtr_fill t = fills[i]; fills[i] = fills[n - 1 - i]; fills[n - 1 - i] = t; }
        for (size_t i = 0; i < n; i++) {
            if (qh_portfolio_apply_fill(e->pf, &fills[i], NULL) != 0) {
                /* a stored fill the portfolio refuses (it was refused live
                 * too): start, but blocked, so an operator looks at it */
                qh_error(LOGC, "fill %s cannot be replayed (%s): left out; tripping the ESS", fills[i].fill_id,
                         qh_portfolio_last_error(e->pf));
                qh_ess_trip_host(e->ess, "a stored fill could not be replayed", qh_clock_now_ms(e->clock));
                continue;
            }
            qh_engine_remember_fill(e, fills[i].fill_id);
            QH_RING_PUSH(e->recent_fills, fills[i]);
        }
    }
    for (size_t i = 0; i < s.n_mismatches; i++) {
        char a[QTR_DEC_STRLEN], b[QTR_DEC_STRLEN];
        qh_warn(LOGC, "%s: stored position %s differs from the sum of its fills %s: the fills win", s.mismatches[i].symbol,
                qtr_dec_format(s.mismatches[i].stored_qty, a), qtr_dec_format(s.mismatches[i].fills_qty, b));
    }
    /* The ESS keeps its own state file; the store records every transition
     * too. Should they disagree, the safer one wins: never back ARMED. */
    if (s.has_ess && s.ess.state != QTR_ESS_ARMED && qh_ess_state(e->ess) == QTR_ESS_ARMED) {
        char why[QTR_REASON_MAX];
        snprintf(why, sizeof why, "restored from the trade store: %.60s", s.ess.reason);
        qh_warn(LOGC, "the ESS state file says ARMED but the store says %s: tripping", qtr_ess_state_name(s.ess.state));
        qh_ess_trip_host(e->ess, why, qh_clock_now_ms(e->clock));
    }
    /* value the resumed positions at their last known price, not at the
     * first fill's: the stored mark, else the last fill of the symbol */
    for (size_t i = 0; i < s.n_positions; i++) {
        qtr_dec mark = s.positions[i].mark_price;
        for (size_t k = n; !mark && k > 0; k--)
            if (strcmp(fills[k - 1].symbol, s.positions[i].symbol) == 0) mark = fills[k - 1].price;
        if (mark > 0 && qh_portfolio_mark(e->pf, s.positions[i].symbol, mark, qh_clock_now_ms(e->clock)) != 0)
            qh_warn(LOGC, "%s: cannot value the resumed position at %lld", s.positions[i].symbol, (long long)mark);
    }
    qtr_account a;
    qh_portfolio_account(e->pf, qh_clock_now_ms(e->clock), &a);
    if (s.has_equity) {
        qtr_dec peak = qtr_dec_max(s.equity.equity_peak, a.equity);
        if (qh_portfolio_try_restore_account(e->pf, a.wallet_balance, peak, s.equity.day_start_equity, s.day_start_ms,
                                             a.realized_pnl, a.fees, a.funding) != 0) {
            snprintf(err, errlen, "store: equity cannot be restored: %s", qh_portfolio_last_error(e->pf));
            rc = -1;
            goto out;
        }
    }
    for (size_t i = 0; i < s.n_open_orders; i++)
        if (!qh_open_orders_track(e, &s.open_orders[i], "restoring the open orders")) break;
    /* Bring the stored positions back in line with the fills: every open
     * position, and every flat one that has a stored row (it must say flat
     * too). The portfolio is walked by index: no cap on how many. */
    qtr_position pos;
    for (size_t i = 0; qh_portfolio_position_at(e->pf, i, &pos) == 0; i++) {
        bool stored = false;
        for (size_t k = 0; !pos.qty && !stored && k < s.n_positions; k++)
            stored = strcmp(s.positions[k].symbol, pos.symbol) == 0;
        if (!pos.qty && !stored) continue;
        QH_PUBLISH(e, QTR_EV_POSITION, QTR_EVF_REPLAY, qh_clock_now_ms(e->clock), position, pos);
    }
    qh_portfolio_account(e->pf, qh_clock_now_ms(e->clock), &a);
    char eq[QTR_DEC_STRLEN], pk[QTR_DEC_STRLEN];
    qh_info(LOGC, "resumed from %s: %zu fills, %d open positions, %zu open orders, equity %s, peak %s",
            qh_store_path(e->store), n, a.open_positions, qh_order_table_count(e->open_orders), qtr_dec_format(a.equity, eq),
            qtr_dec_format(a.equity_peak, pk));
    for (size_t i = 0; qh_portfolio_position_at(e->pf, i, &pos) == 0; i++) {
        char q[QTR_DEC_STRLEN], px[QTR_DEC_STRLEN];
        if (pos.qty)
            qh_info(LOGC, "resumed position %s %s @ %s", pos.symbol, qtr_dec_format(pos.qty, q),
                    qtr_dec_format(pos.entry_price, px));
    }
out:
    free(fills);
    qh_store_state_free(&s);
    return rc;
}

/* The exchange's view at start, against the store's. */
static void snapshot_checked(void *ud, int status, const qtr_order_update *orders, size_t n_orders,
                             const qtr_position *positions, size_t n_positions)
{
    qh_engine *e = ud;
    if (status != QTR_OK) {
        qh_error(LOGC, "reconciliation: the exchange could not report its orders and positions (%d)", status);
        qh_publish_alert(e, QTR_ALERT_WARNING, "store", "reconciliation_failed", "exchange snapshot failed (%d)", status);
        return;
    }
    qh_recon_diff *diffs = NULL;
    size_t nd = 0;
    char err[256];
    if (qh_store_reconcile(e->store, orders, n_orders, positions, n_positions, &diffs, &nd, err, sizeof err) != QTR_OK) {
        qh_error(LOGC, "reconciliation failed: %s", err);
        return;
    }
    qh_info(LOGC, "reconciliation: %zu difference%s between the store and the exchange", nd, nd == 1 ? "" : "s");
    for (size_t i = 0; i < nd; i++) {
        const qh_recon_diff *d = &diffs[i];
        qh_warn(LOGC, "reconciliation %s: %s", qh_recon_kind_name(d->kind), d->detail);
        if (d->kind == QH_RECON_MISSING_ORDER) {
            /* the exchange no longer has it: it is over, whatever happened */
            const qtr_order_update *open = qh_order_table_find(e->open_orders, d->client_id);
            if (open) {
                qtr_order_update over = *open;
                over.status = QTR_OS_EXPIRED;
                qtr_strlcpy(over.reason, "not on the exchange at start (reconciliation)", sizeof over.reason);
                QH_PUBLISH(e, QTR_EV_ORDER_UPDATE, 0, qh_clock_now_ms(e->clock), order_update, over);
            }
        } else if (d->kind == QH_RECON_UNKNOWN_ORDER) {
            for (size_t k = 0; k < n_orders; k++)
                if (strcmp(orders[k].client_id, d->client_id) == 0) {
                    qtr_order_update u = orders[k];
                    u.external = true;
                    qh_open_orders_track(e, &u, "reconciliation");
                }
        }
    }
    free(diffs);
}

/* Its lists at the host's struct sizes (adopt.c). */
static void on_snapshot(void *ud, int status, const qtr_order_update *orders, size_t n_orders,
                        const qtr_position *positions, size_t n_positions)
{
    qh_snapshot_deliver(ud, snapshot_checked, status, orders, n_orders, positions, n_positions);
}

void qh_persist_reconcile(qh_engine *e)
{
    if (!e->store || !e->exchange || !e->exchange->ld.exchange.fetch_snapshot) return;
    if (e->exchange->ld.exchange.fetch_snapshot(e->exchange->state, on_snapshot, e) != QTR_OK)
        qh_warn(LOGC, "reconciliation: the exchange refused to report a snapshot");
}

void qh_persist_close(qh_engine *e)
{
    if (!e->store) return;
    if (e->store_event) {
        event_free(e->store_event);
        e->store_event = NULL;
    }
    if (e->store_turn_end) {
        qh_timer_stop(e->store_turn_end);   /* the close below ends the group */
        e->store_turn_end = NULL;
    }
    int rc = qh_store_close(e->store);
    if (rc != QTR_OK) qh_error(LOGC, "the trade store closed with unwritten records");
    else qh_info(LOGC, "trade store closed, every record written");
    e->store = NULL;
}

void qh_persist_health(qh_engine *e, qtr_health *out)
{
    if (!e->store) {
        out->status = QTR_HEALTH_DEGRADED;
        qtr_strlcpy(out->reason, "no trade store configured: nothing is persisted", sizeof out->reason);
        return;
    }
    qh_store_health(e->store, out);
}
