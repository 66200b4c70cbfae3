/*
 * Reading back: the state to resume after a restart, and bounded history
 * queries for dashboards. All on the read connection, under its lock.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_impl.h"

#define ORDER_COLUMNS \
    "client_id, symbol, side, type, status, qty, price, filled_qty, avg_price, reduce_only," \
    " external, exchange_id, reason, updated_ms, stop_price, activation_price, callback_bps, working_type"

/* Row of ORDER_COLUMNS -> order. false if a stored word is unknown. */
static bool row_order(sqlite3_stmt *s, void *out)
{
    qtr_order_update *o = out;
    memset(o, 0, sizeof *o);
    qh_store_col_text(s, 0, o->client_id, sizeof o->client_id);
    qh_store_col_text(s, 1, o->symbol, sizeof o->symbol);
    bool ok = qh_store_side_parse((const char *)sqlite3_column_text(s, 2), &o->side) &&
              qh_store_type_parse((const char *)sqlite3_column_text(s, 3), &o->type) &&
              qh_store_status_parse((const char *)sqlite3_column_text(s, 4), &o->status);
    o->qty = sqlite3_column_int64(s, 5);
    o->price = sqlite3_column_int64(s, 6);
    o->filled_qty = sqlite3_column_int64(s, 7);
    o->avg_price = sqlite3_column_int64(s, 8);
    o->reduce_only = sqlite3_column_int(s, 9) != 0;
    o->external = sqlite3_column_int(s, 10) != 0;
    qh_store_col_text(s, 11, o->exchange_id, sizeof o->exchange_id);
    qh_store_col_text(s, 12, o->reason, sizeof o->reason);
    o->time_ms = sqlite3_column_int64(s, 13);
    o->stop_price = sqlite3_column_int64(s, 14);
    o->activation_price = sqlite3_column_int64(s, 15);
    o->callback_bps = (uint32_t)sqlite3_column_int64(s, 16);
    const char *working = (const char *)sqlite3_column_text(s, 17);
    o->working_type = working && strcmp(working, "MARK") == 0 ? QTR_WORKING_MARK : QTR_WORKING_LAST;
    return ok;
}

#define FILL_COLUMNS "fill_id, client_id, symbol, side, qty, price, fee, maker, reduce_only, time_ms"

static bool row_fill(sqlite3_stmt *s, void *out)
{
    qtr_fill *f = out;
    memset(f, 0, sizeof *f);
    qh_store_col_text(s, 0, f->fill_id, sizeof f->fill_id);
    qh_store_col_text(s, 1, f->client_id, sizeof f->client_id);
    qh_store_col_text(s, 2, f->symbol, sizeof f->symbol);
    bool ok = qh_store_side_parse((const char *)sqlite3_column_text(s, 3), &f->side);
    f->qty = sqlite3_column_int64(s, 4);
    f->price = sqlite3_column_int64(s, 5);
    f->fee = sqlite3_column_int64(s, 6);
    f->maker = sqlite3_column_int(s, 7) != 0;
    f->reduce_only = sqlite3_column_int(s, 8) != 0;
    f->time_ms = sqlite3_column_int64(s, 9);
    return ok;
}

#define POSITION_COLUMNS \
    "symbol, qty, entry_price, mark_price, unrealized_pnl, realized_pnl, fees, funding, updated_ms"

static bool row_position(sqlite3_stmt *s, void *out)
{
    qtr_position *p = out;
    memset(p, 0, sizeof *p);
    qh_store_col_text(s, 0, p->symbol, sizeof p->symbol);
    p->qty = sqlite3_column_int64(s, 1);
    p->entry_price = sqlite3_column_int64(s, 2);
    p->mark_price = sqlite3_column_int64(s, 3);
    p->unrealized_pnl = sqlite3_column_int64(s, 4);
    p->realized_pnl = sqlite3_column_int64(s, 5);
    p->fees = sqlite3_column_int64(s, 6);
    p->funding = sqlite3_column_int64(s, 7);
    p->time_ms = sqlite3_column_int64(s, 8);
    return true;
}

#define EQUITY_COLUMNS \
    "time_ms, wallet, unrealized_pnl, equity, peak, drawdown_pct, day_start_equity, daily_pnl," \
    " daily_drawdown_pct, realized_pnl, fees, funding, exposure, open_positions, day_start_ms"

static bool row_equity(sqlite3_stmt *s, void *out)
{
    qtr_equity *e = out;
    memset(e, 0, sizeof *e);
    e->time_ms = sqlite3_column_int64(s, 0);
    e->wallet_balance = sqlite3_column_int64(s, 1);
    e->unrealized_pnl = sqlite3_column_int64(s, 2);
    e->equity = sqlite3_column_int64(s, 3);
    e->equity_peak = sqlite3_column_int64(s, 4);
    e->drawdown_pct = sqlite3_column_int64(s, 5);
    e->day_start_equity = sqlite3_column_int64(s, 6);
    e->daily_pnl = sqlite3_column_int64(s, 7);
    e->daily_drawdown_pct = sqlite3_column_int64(s, 8);
    e->realized_pnl = sqlite3_column_int64(s, 9);
    e->fees = sqlite3_column_int64(s, 10);
    e->funding = sqlite3_column_int64(s, 11);
    e->exposure = sqlite3_column_int64(s, 12);
    e->open_positions = (int32_t)sqlite3_column_int64(s, 13);
    return true;
}

#define ESS_COLUMNS "state, previous, reason, user, time_ms, cooldown_until_ms, trips, resets"

static bool row_ess(sqlite3_stmt *s, void *out)
{
    qtr_ess_event *e = out;
    memset(e, 0, sizeof *e);
    bool ok = qh_store_ess_parse((const char *)sqlite3_column_text(s, 0), &e->state) &&
              qh_store_ess_parse((const char *)sqlite3_column_text(s, 1), &e->previous);
    qh_store_col_text(s, 2, e->reason, sizeof e->reason);
    qh_store_col_text(s, 3, e->user, sizeof e->user);
    e->time_ms = sqlite3_column_int64(s, 4);
    e->cooldown_until_ms = sqlite3_column_int64(s, 5);
    e->trips = (uint32_t)sqlite3_column_int64(s, 6);
    e->resets = (uint32_t)sqlite3_column_int64(s, 7);
    return ok;
}

#define POLICY_COLUMNS "time_ms, ok, file, hash, error, version"

static bool row_policy(sqlite3_stmt *s, void *out)
{
    qtr_policy_event *p = out;
    memset(p, 0, sizeof *p);
    p->time_ms = sqlite3_column_int64(s, 0);
    p->ok = sqlite3_column_int(s, 1) != 0;
    qh_store_col_text(s, 2, p->file, sizeof p->file);
    qh_store_col_text(s, 3, p->hash, sizeof p->hash);
    qh_store_col_text(s, 4, p->error, sizeof p->error);
    p->version = (uint32_t)sqlite3_column_int64(s, 5);
    return true;
}

#define ALERT_COLUMNS "time_ms, severity, source, kind, text"

static bool row_alert(sqlite3_stmt *s, void *out)
{
    qtr_alert *a = out;
    memset(a, 0, sizeof *a);
    a->time_ms = sqlite3_column_int64(s, 0);
    const char *sev = (const char *)sqlite3_column_text(s, 1);
    bool ok = true;
    if (sev && strcmp(sev, "INFO") == 0) a->severity = QTR_ALERT_INFO;
    else if (sev && strcmp(sev, "WARNING") == 0) a->severity = QTR_ALERT_WARNING;
    else if (sev && strcmp(sev, "CRITICAL") == 0) a->severity = QTR_ALERT_CRITICAL;
    else ok = false;
    qh_store_col_text(s, 2, a->source, sizeof a->source);
    qh_store_col_text(s, 3, a->kind, sizeof a->kind);
    qh_store_col_text(s, 4, a->text, sizeof a->text);
    return ok;
}

typedef bool (*row_fn)(sqlite3_stmt *s, void *out);

/*
 * Run sql (one optional int64 parameter ?1) and decode up to cap rows into
 * out (elements of `size` bytes). Returns rows decoded, or -1 with err set.
 * Called with rmu held.
 */
static long query_rows(qh_store *st, const char *sql, int64_t param, row_fn fn, void *out, size_t size,
                       size_t cap, char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->rdb, sql, -1, &s, NULL) != SQLITE_OK) {
        qh_store_errf(err, errlen, "store %s: %s", st->path, sqlite3_errmsg(st->rdb));
        return -1;
    }
    if (sqlite3_bind_parameter_count(s) >= 1) sqlite3_bind_int64(s, 1, param);
    size_t n = 0;
    int rc;
    while (n < cap && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (!fn(s, (char *)out + n * size)) {
            qh_store_errf(err, errlen, "store %s: unreadable row in \"%.60s\"", st->path, sql);
            sqlite3_finalize(s);
            return -1;
        }
        n++;
    }
    if (n < cap && rc != SQLITE_DONE) {
        qh_store_errf(err, errlen, "store %s: %s", st->path, sqlite3_errmsg(st->rdb));
        sqlite3_finalize(s);
        return -1;
    }
    sqlite3_finalize(s);
    return (long)n;
}

static int count_rows(qh_store *st, const char *sql, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->rdb, sql, -1, &s, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        *out = sqlite3_column_int64(s, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc;
}

/* Query into a freshly malloc'ed array sized by a count query. */
static int query_all(qh_store *st, const char *count_sql, const char *sql, row_fn fn, size_t size,
                     void **out, size_t *n_out, char *err, size_t errlen)
{
    int64_t n = 0;
    if (count_rows(st, count_sql, &n) != SQLITE_OK) {
        qh_store_errf(err, errlen, "store %s: %s", st->path, sqlite3_errmsg(st->rdb));
        return QTR_EIO;
    }
    *out = NULL;
    *n_out = 0;
    if (n == 0) return QTR_OK;
    void *arr = calloc((size_t)n, size);
    if (!arr) {
        qh_store_errf(err, errlen, "store %s: out of memory", st->path);
        return QTR_EIO;
    }
    long got = query_rows(st, sql, 0, fn, arr, size, (size_t)n, err, errlen);
    if (got < 0) {
        free(arr);
        return QTR_EIO;
    }
    *out = arr;
    *n_out = (size_t)got;
    return QTR_OK;
}

#define OPEN_STATUSES "('PENDING','NEW','PARTIALLY_FILLED','UNKNOWN')"

/* Stored position quantities against the sum of fills, per symbol. */
static const char sql_mismatch_count[] =
    "WITH f AS (SELECT symbol, sum(CASE side WHEN 'BUY' THEN qty ELSE -qty END) AS q FROM fills GROUP BY symbol),"
    " s AS (SELECT symbol FROM f UNION SELECT symbol FROM positions)"
    " SELECT count(*) FROM s LEFT JOIN f USING(symbol) LEFT JOIN positions p USING(symbol)"
    " WHERE coalesce(p.qty, 0) <> coalesce(f.q, 0)";
static const char sql_mismatch[] =
    "WITH f AS (SELECT symbol, sum(CASE side WHEN 'BUY' THEN qty ELSE -qty END) AS q FROM fills GROUP BY symbol),"
    " s AS (SELECT symbol FROM f UNION SELECT symbol FROM positions)"
    " SELECT s.symbol, coalesce(p.qty, 0), coalesce(f.q, 0) FROM s LEFT JOIN f USING(symbol)"
    " LEFT JOIN positions p USING(symbol) WHERE coalesce(p.qty, 0) <> coalesce(f.q, 0) ORDER BY s.symbol";

static bool row_mismatch(sqlite3_stmt *s, void *out)
{
    qh_store_position_check *m = out;
    memset(m, 0, sizeof *m);
    qh_store_col_text(s, 0, m->symbol, sizeof m->symbol);
    m->stored_qty = sqlite3_column_int64(s, 1);
    m->fills_qty = sqlite3_column_int64(s, 2);
    return true;
}

static int load_locked(qh_store *st, qh_store_state *out, char *err, size_t errlen)
{
    void *arr;
    size_t n;
    int rc = query_all(st, "SELECT count(*) FROM orders WHERE status IN " OPEN_STATUSES,
                       "SELECT " ORDER_COLUMNS " FROM orders WHERE status IN " OPEN_STATUSES " ORDER BY id",
                       row_order, sizeof(qtr_order_update), &arr, &n, err, errlen);
    if (rc != QTR_OK) return rc;
    out->open_orders = arr;
    out->n_open_orders = n;

    rc = query_all(st, "SELECT count(*) FROM positions", "SELECT " POSITION_COLUMNS " FROM positions ORDER BY symbol",
                   row_position, sizeof(qtr_position), &arr, &n, err, errlen);
    if (rc != QTR_OK) return rc;
    out->positions = arr;
    out->n_positions = n;

    rc = query_all(st, sql_mismatch_count, sql_mismatch, row_mismatch, sizeof(qh_store_position_check),
                   &arr, &n, err, errlen);
    if (rc != QTR_OK) return rc;
    out->mismatches = arr;
    out->n_mismatches = n;

    long got = query_rows(st, "SELECT " EQUITY_COLUMNS " FROM equity ORDER BY id DESC LIMIT 1", 0,
                          row_equity, &out->equity, sizeof out->equity, 1, err, errlen);
    if (got < 0) return QTR_EIO;
    out->has_equity = got == 1;
    if (out->has_equity) {
        /* qtr_equity has no field for it: a column of its own. */
        if (count_rows(st, "SELECT day_start_ms FROM equity ORDER BY id DESC LIMIT 1", &out->day_start_ms) !=
            SQLITE_OK) {
            qh_store_errf(err, errlen, "store %s: %s", st->path, sqlite3_errmsg(st->rdb));
            return QTR_EIO;
        }
    }

    got = query_rows(st, "SELECT " ESS_COLUMNS " FROM ess_state WHERE id = 1", 0, row_ess, &out->ess,
                     sizeof out->ess, 1, err, errlen);
    if (got < 0) return QTR_EIO;
    out->has_ess = got == 1;

    got = query_rows(st, "SELECT " POLICY_COLUMNS " FROM policy_loads ORDER BY id DESC LIMIT 1", 0,
                     row_policy, &out->last_policy, sizeof out->last_policy, 1, err, errlen);
    if (got < 0) return QTR_EIO;
    out->has_policy = got == 1;
    got = query_rows(st, "SELECT " POLICY_COLUMNS " FROM policy_loads WHERE ok = 1 ORDER BY id DESC LIMIT 1", 0,
                     row_policy, &out->last_good_policy, sizeof out->last_good_policy, 1, err, errlen);
    if (got < 0) return QTR_EIO;
    out->has_good_policy = got == 1;

    int64_t n_fills = 0;
    if (count_rows(st, "SELECT count(*) FROM fills", &n_fills) != SQLITE_OK) {
        qh_store_errf(err, errlen, "store %s: %s", st->path, sqlite3_errmsg(st->rdb));
        return QTR_EIO;
    }
    out->n_fills = (uint64_t)n_fills;
    return QTR_OK;
}

int qh_store_load_state(qh_store *st, qh_store_state *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&st->rmu);
    /* One read transaction: every part comes from the same snapshot. */
    int rc = sqlite3_exec(st->rdb, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? QTR_OK : QTR_EIO;
    if (rc == QTR_OK) {
        rc = load_locked(st, out, err, errlen);
        sqlite3_exec(st->rdb, "COMMIT", NULL, NULL, NULL);
    } else {
        qh_store_errf(err, errlen, "store %s: %s", st->path, sqlite3_errmsg(st->rdb));
    }
    pthread_mutex_unlock(&st->rmu);
    if (rc == QTR_OK) {
        char text[QTR_DEC_STRLEN + 8];
        int mrc = qh_store_meta_get(st, "starting_balance", text, sizeof text);
        if (mrc == QTR_OK) {
            qtr_dec_status ds = qtr_dec_parse(text, (size_t)-1, &out->starting_balance);
            if (ds != QTR_DEC_OK) {
                qh_store_errf(err, errlen, "store %s: meta starting_balance \"%s\": %s", st->path, text,
                              qtr_dec_status_str(ds));
                rc = QTR_EIO;
            }
            out->has_starting_balance = ds == QTR_DEC_OK;
        } else if (mrc != QTR_ENOTFOUND) {
            qh_store_errf(err, errlen, "store %s: cannot read meta starting_balance", st->path);
            rc = QTR_EIO;
        }
    }
    if (rc != QTR_OK) qh_store_state_free(out);
    return rc;
}

void qh_store_state_free(qh_store_state *state)
{
    if (!state) return;
    free(state->open_orders);
    free(state->positions);
    free(state->mismatches);
    state->open_orders = NULL;
    state->positions = NULL;
    state->mismatches = NULL;
    state->n_open_orders = state->n_positions = state->n_mismatches = 0;
}

static size_t history(qh_store *st, const char *sql, row_fn fn, void *out, size_t size, size_t cap)
{
    if (!st || !out || cap == 0) return 0;
    pthread_mutex_lock(&st->rmu);
    long n = query_rows(st, sql, (int64_t)(cap > INT64_MAX ? INT64_MAX : cap), fn, out, size, cap, NULL, 0);
    pthread_mutex_unlock(&st->rmu);
    return n < 0 ? 0 : (size_t)n;
}

size_t qh_store_recent_fills(qh_store *st, qtr_fill *out, size_t cap)
{
    return history(st, "SELECT " FILL_COLUMNS " FROM fills ORDER BY id DESC LIMIT ?1", row_fill, out,
                   sizeof *out, cap);
}

size_t qh_store_recent_orders(qh_store *st, qtr_order_update *out, size_t cap)
{
    return history(st, "SELECT " ORDER_COLUMNS " FROM orders ORDER BY updated_ms DESC, id DESC LIMIT ?1",
                   row_order, out, sizeof *out, cap);
}

size_t qh_store_equity_history(qh_store *st, qtr_equity *out, size_t cap)
{
    return history(st, "SELECT " EQUITY_COLUMNS " FROM equity ORDER BY id DESC LIMIT ?1", row_equity, out,
                   sizeof *out, cap);
}

size_t qh_store_recent_alerts(qh_store *st, qtr_alert *out, size_t cap)
{
    return history(st, "SELECT " ALERT_COLUMNS " FROM alerts ORDER BY id DESC LIMIT ?1", row_alert, out,
                   sizeof *out, cap);
}

size_t qh_store_ess_history(qh_store *st, qtr_ess_event *out, size_t cap)
{
    return history(st, "SELECT " ESS_COLUMNS " FROM ess_transitions ORDER BY id DESC LIMIT ?1", row_ess,
                   out, sizeof *out, cap);
}

int qh_store_get_order(qh_store *st, const char *client_id, qtr_order_update *out)
{
    if (!client_id) return QTR_EINVAL;
    pthread_mutex_lock(&st->rmu);
    sqlite3_stmt *s = NULL;
    int status = QTR_EIO;
    if (sqlite3_prepare_v2(st->rdb, "SELECT " ORDER_COLUMNS " FROM orders WHERE client_id = ?1", -1, &s, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(s, 1, client_id, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) status = row_order(s, out) ? QTR_OK : QTR_EIO;
        else if (rc == SQLITE_DONE) status = QTR_ENOTFOUND;
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->rmu);
    return status;
}
