/*
 * Exit plans (host/exits): one row per symbol with its plan's bytes and when
 * its position opened (the time stop counts from it across a restart).
 * Written synchronously like meta: a plan changes when a strategy sets it,
 * and the opening time once per position, not on the trading path's
 * per-event rate.
 */
#include <string.h>

#include "store/store_impl.h"

static int exec_one(qh_store *st, const char *what, const char *symbol, sqlite3_stmt *s, char *err, size_t errlen)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return QTR_OK;
    qh_store_errf(err, errlen, "store %s: %s the exit plan of %s failed: %s", st->path, what, symbol,
                  sqlite3_errmsg(st->rdb));
    return QTR_EIO;
}

int qh_store_exit_plan_put(qh_store *st, const char *symbol, const char *owner, const void *plan, size_t size,
                           int64_t opened_ms, int64_t now_ms, char *err, size_t errlen)
{
    if (!symbol || !*symbol || !plan || size < 4) {
        qh_store_errf(err, errlen, "store exit plan: symbol and plan are required");
        return QTR_EINVAL;
    }
    pthread_mutex_lock(&st->rmu);
    sqlite3_stmt *s = NULL;
    int status = QTR_EIO;
    if (sqlite3_prepare_v2(st->rdb,
                           "INSERT INTO exit_plans(symbol, strategy, plan, opened_ms, updated_ms)"
                           " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(symbol) DO UPDATE SET"
                           " strategy = excluded.strategy, plan = excluded.plan, opened_ms = excluded.opened_ms,"
                           " updated_ms = excluded.updated_ms",
                           -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, symbol, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, owner ? owner : "", -1, SQLITE_STATIC);
        sqlite3_bind_blob(s, 3, plan, (int)size, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, opened_ms);
        sqlite3_bind_int64(s, 5, now_ms);
        status = exec_one(st, "writing", symbol, s, err, errlen);
    } else {
        qh_store_errf(err, errlen, "store %s: %s", st->path, sqlite3_errmsg(st->rdb));
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->rmu);
    return status;
}

int qh_store_exit_plan_delete(qh_store *st, const char *symbol, char *err, size_t errlen)
{
    pthread_mutex_lock(&st->rmu);
    sqlite3_stmt *s = NULL;
    int status = QTR_EIO;
    if (sqlite3_prepare_v2(st->rdb, "DELETE FROM exit_plans WHERE symbol = ?1", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, symbol ? symbol : "", -1, SQLITE_STATIC);
        status = exec_one(st, "deleting", symbol ? symbol : "?", s, err, errlen);
    } else {
        qh_store_errf(err, errlen, "store %s: %s", st->path, sqlite3_errmsg(st->rdb));
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->rmu);
    return status;
}

int qh_store_exit_plans_each(qh_store *st, qh_store_exit_plan_cb cb, void *ud, char *err, size_t errlen)
{
    pthread_mutex_lock(&st->rmu);
    sqlite3_stmt *s = NULL;
    int status = QTR_OK;
    if (sqlite3_prepare_v2(st->rdb, "SELECT symbol, strategy, plan, opened_ms FROM exit_plans ORDER BY symbol", -1,
                           &s, NULL) != SQLITE_OK) {
        qh_store_errf(err, errlen, "store %s: reading exit plans: %s", st->path, sqlite3_errmsg(st->rdb));
        pthread_mutex_unlock(&st->rmu);
        return QTR_EIO;
    }
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        char symbol[QTR_SYMBOL_MAX], owner[QTR_NAME_MAX];
        qh_store_col_text(s, 0, symbol, sizeof symbol);
        qh_store_col_text(s, 1, owner, sizeof owner);
        const void *plan = sqlite3_column_blob(s, 2);
        size_t size = (size_t)sqlite3_column_bytes(s, 2);
        cb(ud, symbol, owner, plan, size, sqlite3_column_int64(s, 3));
    }
    if (rc != SQLITE_DONE) {
        qh_store_errf(err, errlen, "store %s: reading exit plans: %s", st->path, sqlite3_errmsg(st->rdb));
        status = QTR_EIO;
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->rmu);
    return status;
}
