/*
 * Writing one record: the SQL behind each event type, run by the writer
 * thread inside its batch transaction.
 */
#include <string.h>

#include "store/store_impl.h"

/* An OR chain, not IN (...): SQLite builds a temporary index for an IN list
 * of more than two constants on every execution. */
#define STORED_STATUS_FINAL                                                                  \
    "(orders.status = 'FILLED' OR orders.status = 'CANCELED' OR orders.status = 'REJECTED'" \
    " OR orders.status = 'EXPIRED')"

static const char sql_order_upsert[] =
    "INSERT INTO orders(client_id, symbol, side, type, qty, price, status, filled_qty, avg_price,"
    " reduce_only, external, exchange_id, reason, created_ms, updated_ms,"
    " stop_price, activation_price, callback_bps, working_type)"
    " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?14,?15,?16,?17,?18)"
    " ON CONFLICT(client_id) DO UPDATE SET"
    /* The conditional fields as placed stay unless the exchange reports them. */
    "  stop_price = CASE WHEN excluded.stop_price <> 0 THEN excluded.stop_price ELSE orders.stop_price END,"
    "  activation_price = CASE WHEN excluded.activation_price <> 0"
    "                     THEN excluded.activation_price ELSE orders.activation_price END,"
    "  callback_bps = CASE WHEN excluded.callback_bps <> 0 THEN excluded.callback_bps ELSE orders.callback_bps END,"
    /* A final status is final: a late, stale update must not reopen it. */
    "  status = CASE WHEN " STORED_STATUS_FINAL " THEN orders.status ELSE excluded.status END,"
    "  qty = CASE WHEN " STORED_STATUS_FINAL " THEN orders.qty ELSE excluded.qty END,"
    "  price = excluded.price,"
    /* filled qty is cumulative: it never goes back. */
    "  avg_price = CASE WHEN excluded.filled_qty >= orders.filled_qty"
    "              THEN excluded.avg_price ELSE orders.avg_price END,"
    "  filled_qty = max(orders.filled_qty, excluded.filled_qty),"
    "  exchange_id = CASE WHEN excluded.exchange_id <> '' THEN excluded.exchange_id ELSE orders.exchange_id END,"
    "  reason = CASE WHEN excluded.reason <> '' THEN excluded.reason ELSE orders.reason END,"
    "  updated_ms = max(orders.updated_ms, excluded.updated_ms)";

static const char sql_order_intent[] =
    "INSERT INTO orders(client_id, symbol, side, type, qty, price, status, filled_qty, avg_price,"
    " reduce_only, external, strategy, reason, created_ms, updated_ms,"
    " stop_price, activation_price, callback_bps, working_type)"
    " VALUES(?1,?2,?3,?4,?5,?6,'PENDING',0,0,?7,0,?8,?9,?10,?10,?11,?12,?13,?14)"
    " ON CONFLICT(client_id) DO UPDATE SET strategy = excluded.strategy";

/* The order's id by its client id, not by RETURNING: SQLite materialises
 * RETURNING rows in a temporary table, which cost some 200,000 instructions
 * per order record (docs/store.md, "Write rate"). The order row was written
 * just before; were it missing, order_id NOT NULL fails the batch. */
static const char sql_order_event[] =
    "INSERT INTO order_events(order_id, time_ms, status, filled_qty, avg_price, reason)"
    " VALUES((SELECT id FROM orders WHERE client_id = ?1),?2,?3,?4,?5,?6)";

/* Only the fill_id conflict is ignored; any other constraint still fails. */
static const char sql_fill_insert[] =
    "INSERT INTO fills(fill_id, client_id, symbol, side, qty, price, fee, maker, reduce_only, time_ms)"
    " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10) ON CONFLICT(fill_id) DO NOTHING";

static const char sql_position_upsert[] =
    "INSERT INTO positions(symbol, qty, entry_price, mark_price, unrealized_pnl, realized_pnl, fees,"
    " funding, updated_ms) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)"
    " ON CONFLICT(symbol) DO UPDATE SET qty=excluded.qty, entry_price=excluded.entry_price,"
    " mark_price=excluded.mark_price, unrealized_pnl=excluded.unrealized_pnl,"
    " realized_pnl=excluded.realized_pnl, fees=excluded.fees, funding=excluded.funding,"
    " updated_ms=excluded.updated_ms";

static const char sql_equity_insert[] =
    "INSERT INTO equity(time_ms, wallet, unrealized_pnl, equity, peak, drawdown_pct, day_start_equity,"
    " day_start_ms, daily_pnl, daily_drawdown_pct, realized_pnl, fees, funding, exposure, open_positions)"
    " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)";

static const char sql_ess_current[] =
    "INSERT INTO ess_state(id, state, previous, reason, user, time_ms, cooldown_until_ms, trips, resets)"
    " VALUES(1,?1,?2,?3,?4,?5,?6,?7,?8)"
    " ON CONFLICT(id) DO UPDATE SET state=excluded.state, previous=excluded.previous,"
    " reason=excluded.reason, user=excluded.user, time_ms=excluded.time_ms,"
    " cooldown_until_ms=excluded.cooldown_until_ms, trips=excluded.trips, resets=excluded.resets";

static const char sql_ess_transition[] =
    "INSERT INTO ess_transitions(state, previous, reason, user, time_ms, cooldown_until_ms, trips, resets)"
    " VALUES(?1,?2,?3,?4,?5,?6,?7,?8)";

static const char sql_policy_insert[] =
    "INSERT INTO policy_loads(time_ms, ok, file, hash, error, version) VALUES(?1,?2,?3,?4,?5,?6)";

static const char sql_alert_insert[] =
    "INSERT INTO alerts(time_ms, severity, source, kind, text) VALUES(?1,?2,?3,?4,?5)";

int qh_store_stmts_prepare(sqlite3 *db, qh_store_stmts *s)
{
    struct { sqlite3_stmt **dst; const char *sql; } all[] = {
        { &s->order_upsert, sql_order_upsert },     { &s->order_intent, sql_order_intent },
        { &s->order_event, sql_order_event },       { &s->fill_insert, sql_fill_insert },
        { &s->position_upsert, sql_position_upsert }, { &s->equity_insert, sql_equity_insert },
        { &s->ess_current, sql_ess_current },       { &s->ess_transition, sql_ess_transition },
        { &s->policy_insert, sql_policy_insert },   { &s->alert_insert, sql_alert_insert },
        { &s->begin, "BEGIN IMMEDIATE" },           { &s->commit, "COMMIT" },
    };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        int rc = sqlite3_prepare_v3(db, all[i].sql, -1, SQLITE_PREPARE_PERSISTENT, all[i].dst, NULL);
        if (rc != SQLITE_OK) return rc;
    }
    return SQLITE_OK;
}

void qh_store_stmts_finalize(qh_store_stmts *s)
{
    sqlite3_stmt **all[] = { &s->order_upsert, &s->order_intent, &s->order_event, &s->fill_insert,
                             &s->position_upsert, &s->equity_insert, &s->ess_current,
                             &s->ess_transition, &s->policy_insert, &s->alert_insert, &s->begin,
                             &s->commit };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        sqlite3_finalize(*all[i]);
        *all[i] = NULL;
    }
}

static void bind_text(sqlite3_stmt *s, int i, const char *t)
{
    sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC);
}

/* Step a statement that returns nothing (or one row we do not need). */
static int run(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) rc = SQLITE_DONE;
    int rc2 = sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? SQLITE_OK : (rc2 != SQLITE_OK ? rc2 : rc);
}

int qh_store_step_done(sqlite3_stmt *s)
{
    return run(s);
}

static int order_event(qh_store_stmts *st, const char *client_id, int64_t time_ms, const char *status,
                       qtr_dec filled, qtr_dec avg, const char *reason)
{
    sqlite3_stmt *s = st->order_event;
    bind_text(s, 1, client_id);
    sqlite3_bind_int64(s, 2, time_ms);
    bind_text(s, 3, status);
    sqlite3_bind_int64(s, 4, filled);
    sqlite3_bind_int64(s, 5, avg);
    bind_text(s, 6, reason);
    return run(s);
}

/* The first six columns both order statements share. */
static void bind_order_head(sqlite3_stmt *s, const char *client_id, const char *symbol, qtr_side side,
                            qtr_order_type type, qtr_dec qty, qtr_dec price)
{
    bind_text(s, 1, client_id);
    bind_text(s, 2, symbol);
    bind_text(s, 3, qh_store_side_text(side));
    bind_text(s, 4, qh_store_type_text(type));
    sqlite3_bind_int64(s, 5, qty);
    sqlite3_bind_int64(s, 6, price);
}

/* The conditional fields (schema v4), four columns from `first` on. */
static void bind_conditional(sqlite3_stmt *s, int first, qtr_dec stop, qtr_dec activation, uint32_t callback_bps,
                             qtr_working_type working)
{
    sqlite3_bind_int64(s, first, stop);
    sqlite3_bind_int64(s, first + 1, activation);
    sqlite3_bind_int64(s, first + 2, (int64_t)callback_bps);
    bind_text(s, first + 3, working == QTR_WORKING_MARK ? "MARK" : "LAST");
}

static int apply_order_update(qh_store_stmts *st, const qtr_order_update *o)
{
    sqlite3_stmt *s = st->order_upsert;
    bind_order_head(s, o->client_id, o->symbol, o->side, o->type, o->qty, o->price);
    bind_text(s, 7, qh_store_status_text(o->status));
    sqlite3_bind_int64(s, 8, o->filled_qty);
    sqlite3_bind_int64(s, 9, o->avg_price);
    sqlite3_bind_int(s, 10, o->reduce_only ? 1 : 0);
    sqlite3_bind_int(s, 11, o->external ? 1 : 0);
    bind_text(s, 12, o->exchange_id);
    bind_text(s, 13, o->reason);
    sqlite3_bind_int64(s, 14, o->time_ms);
    bind_conditional(s, 15, o->stop_price, o->activation_price, o->callback_bps, o->working_type);
    int rc = run(s);
    if (rc != SQLITE_OK) return rc;
    return order_event(st, o->client_id, o->time_ms, qh_store_status_text(o->status), o->filled_qty, o->avg_price,
                       o->reason);
}

static int apply_order_intent(qh_store_stmts *st, const qtr_order_intent *o)
{
    sqlite3_stmt *s = st->order_intent;
    bind_order_head(s, o->client_id, o->symbol, o->side, o->type, o->qty, o->price);
    sqlite3_bind_int(s, 7, o->reduce_only ? 1 : 0);
    bind_text(s, 8, o->strategy);
    bind_text(s, 9, o->reason);
    sqlite3_bind_int64(s, 10, o->time_ms);
    bind_conditional(s, 11, o->stop_price, o->activation_price, o->callback_bps, o->working_type);
    int rc = run(s);
    if (rc != SQLITE_OK) return rc;
    return order_event(st, o->client_id, o->time_ms, "PENDING", 0, 0, o->reason);
}

static int apply_fill(sqlite3 *db, qh_store_stmts *st, const qtr_fill *f, bool *duplicate)
{
    sqlite3_stmt *s = st->fill_insert;
    bind_text(s, 1, f->fill_id);
    bind_text(s, 2, f->client_id);
    bind_text(s, 3, f->symbol);
    bind_text(s, 4, qh_store_side_text(f->side));
    sqlite3_bind_int64(s, 5, f->qty);
    sqlite3_bind_int64(s, 6, f->price);
    sqlite3_bind_int64(s, 7, f->fee);
    sqlite3_bind_int(s, 8, f->maker ? 1 : 0);
    sqlite3_bind_int(s, 9, f->reduce_only ? 1 : 0);
    sqlite3_bind_int64(s, 10, f->time_ms);
    int rc = run(s);
    if (rc == SQLITE_OK && sqlite3_changes(db) == 0) *duplicate = true;
    return rc;
}

static int apply_position(qh_store_stmts *st, const qtr_position *p)
{
    sqlite3_stmt *s = st->position_upsert;
    bind_text(s, 1, p->symbol);
    sqlite3_bind_int64(s, 2, p->qty);
    sqlite3_bind_int64(s, 3, p->entry_price);
    sqlite3_bind_int64(s, 4, p->mark_price);
    sqlite3_bind_int64(s, 5, p->unrealized_pnl);
    sqlite3_bind_int64(s, 6, p->realized_pnl);
    sqlite3_bind_int64(s, 7, p->fees);
    sqlite3_bind_int64(s, 8, p->funding);
    sqlite3_bind_int64(s, 9, p->time_ms);
    return run(s);
}

static int apply_equity(qh_store_stmts *st, const qtr_equity *e)
{
    sqlite3_stmt *s = st->equity_insert;
    sqlite3_bind_int64(s, 1, e->time_ms);
    sqlite3_bind_int64(s, 2, e->wallet_balance);
    sqlite3_bind_int64(s, 3, e->unrealized_pnl);
    sqlite3_bind_int64(s, 4, e->equity);
    sqlite3_bind_int64(s, 5, e->equity_peak);
    sqlite3_bind_int64(s, 6, e->drawdown_pct);
    sqlite3_bind_int64(s, 7, e->day_start_equity);
    sqlite3_bind_int64(s, 8, qh_store_utc_day_start(e->time_ms));
    sqlite3_bind_int64(s, 9, e->daily_pnl);
    sqlite3_bind_int64(s, 10, e->daily_drawdown_pct);
    sqlite3_bind_int64(s, 11, e->realized_pnl);
    sqlite3_bind_int64(s, 12, e->fees);
    sqlite3_bind_int64(s, 13, e->funding);
    sqlite3_bind_int64(s, 14, e->exposure);
    sqlite3_bind_int64(s, 15, e->open_positions);
    return run(s);
}

static void bind_ess(sqlite3_stmt *s, const qtr_ess_event *e)
{
    bind_text(s, 1, qtr_ess_state_name(e->state));
    bind_text(s, 2, qtr_ess_state_name(e->previous));
    bind_text(s, 3, e->reason);
    bind_text(s, 4, e->user);
    sqlite3_bind_int64(s, 5, e->time_ms);
    sqlite3_bind_int64(s, 6, e->cooldown_until_ms);
    sqlite3_bind_int64(s, 7, e->trips);
    sqlite3_bind_int64(s, 8, e->resets);
}

static int apply_ess(qh_store_stmts *st, const qtr_ess_event *e)
{
    bind_ess(st->ess_current, e);
    int rc = run(st->ess_current);
    if (rc != SQLITE_OK) return rc;
    bind_ess(st->ess_transition, e);
    return run(st->ess_transition);
}

static int apply_policy(qh_store_stmts *st, const qtr_policy_event *p)
{
    sqlite3_stmt *s = st->policy_insert;
    sqlite3_bind_int64(s, 1, p->time_ms);
    sqlite3_bind_int(s, 2, p->ok ? 1 : 0);
    bind_text(s, 3, p->file);
    bind_text(s, 4, p->hash);
    bind_text(s, 5, p->error);
    sqlite3_bind_int64(s, 6, p->version);
    return run(s);
}

static const char *severity_text(qtr_alert_severity sev)
{
    return sev == QTR_ALERT_INFO ? "INFO" : sev == QTR_ALERT_WARNING ? "WARNING" : "CRITICAL";
}

static int apply_alert(qh_store_stmts *st, const qtr_alert *a)
{
    sqlite3_stmt *s = st->alert_insert;
    sqlite3_bind_int64(s, 1, a->time_ms);
    bind_text(s, 2, severity_text(a->severity));
    bind_text(s, 3, a->source);
    bind_text(s, 4, a->kind);
    bind_text(s, 5, a->text);
    return run(s);
}

int qh_store_apply(sqlite3 *db, qh_store_stmts *s, const qtr_event *ev, bool *duplicate)
{
    *duplicate = false;
    switch (ev->type) {
    case QTR_EV_ORDER_INTENT: return apply_order_intent(s, &ev->u.order_intent);
    case QTR_EV_ORDER_UPDATE: return apply_order_update(s, &ev->u.order_update);
    case QTR_EV_FILL: return apply_fill(db, s, &ev->u.fill, duplicate);
    case QTR_EV_POSITION: return apply_position(s, &ev->u.position);
    case QTR_EV_EQUITY: return apply_equity(s, &ev->u.equity);
    case QTR_EV_ESS_STATE: return apply_ess(s, &ev->u.ess);
    case QTR_EV_POLICY: return apply_policy(s, &ev->u.policy);
    case QTR_EV_ALERT: return apply_alert(s, &ev->u.alert);
    default: return SQLITE_MISUSE;   /* validated at enqueue: cannot happen */
    }
}
