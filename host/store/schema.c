/*
 * The store's schema, its forward migrations, and the checks made before a
 * file is touched. Money columns are INTEGER holding qtr_dec (value * 1e8);
 * CHECK(typeof(..)='integer') keeps a REAL or TEXT from ever slipping in.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_impl.h"

#define MONEY(col) col " INTEGER NOT NULL CHECK(typeof(" col ")='integer')"
#define BOOLCOL(col) col " INTEGER NOT NULL CHECK(" col " IN (0,1))"

/* v1: the first schema. Never edit: stores in the field were made with it. */
static const char schema_v1[] =
    "CREATE TABLE meta("
    " key TEXT PRIMARY KEY NOT NULL,"
    " value TEXT NOT NULL);"
    "CREATE TABLE orders("
    " id INTEGER PRIMARY KEY,"
    " client_id TEXT NOT NULL UNIQUE CHECK(length(client_id) > 0),"
    " symbol TEXT NOT NULL CHECK(length(symbol) > 0),"
    " side TEXT NOT NULL CHECK(side IN ('BUY','SELL')),"
    " type TEXT NOT NULL CHECK(type IN ('MARKET','LIMIT','STOP_MARKET','TAKE_PROFIT_MARKET')),"
    " " MONEY("qty") ","
    " " MONEY("price") ","
    " status TEXT NOT NULL CHECK(status IN ('PENDING','NEW','PARTIALLY_FILLED','FILLED',"
    "   'CANCELED','REJECTED','EXPIRED','UNKNOWN')),"
    " " MONEY("filled_qty") ","
    " " MONEY("avg_price") ","
    " " BOOLCOL("reduce_only") ","
    " " BOOLCOL("external") ","
    " exchange_id TEXT NOT NULL DEFAULT '',"
    " reason TEXT NOT NULL DEFAULT '',"
    " created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL);"
    "CREATE INDEX orders_by_status ON orders(status);"
    "CREATE TABLE order_events("
    " id INTEGER PRIMARY KEY,"
    " order_id INTEGER NOT NULL REFERENCES orders(id),"
    " time_ms INTEGER NOT NULL,"
    " status TEXT NOT NULL,"
    " " MONEY("filled_qty") ","
    " " MONEY("avg_price") ","
    " reason TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX order_events_by_order ON order_events(order_id);"
    "CREATE TABLE fills("
    " id INTEGER PRIMARY KEY,"
    " fill_id TEXT NOT NULL UNIQUE CHECK(length(fill_id) > 0),"
    " client_id TEXT NOT NULL,"
    " symbol TEXT NOT NULL CHECK(length(symbol) > 0),"
    " side TEXT NOT NULL CHECK(side IN ('BUY','SELL')),"
    " " MONEY("qty") " CHECK(qty > 0),"
    " " MONEY("price") ","
    " " MONEY("fee") ","
    " " BOOLCOL("maker") ","
    " " BOOLCOL("reduce_only") ","
    " time_ms INTEGER NOT NULL);"
    "CREATE TABLE positions("
    " symbol TEXT PRIMARY KEY NOT NULL,"
    " " MONEY("qty") ","
    " " MONEY("entry_price") ","
    " " MONEY("mark_price") ","
    " " MONEY("unrealized_pnl") ","
    " " MONEY("realized_pnl") ","
    " " MONEY("fees") ","
    " " MONEY("funding") ","
    " updated_ms INTEGER NOT NULL);"
    "CREATE TABLE equity("
    " id INTEGER PRIMARY KEY,"
    " time_ms INTEGER NOT NULL,"
    " " MONEY("wallet") ","
    " " MONEY("unrealized_pnl") ","
    " " MONEY("equity") ","
    " " MONEY("peak") ","
    " " MONEY("drawdown_pct") ","
    " " MONEY("day_start_equity") ","
    " day_start_ms INTEGER NOT NULL,"
    " " MONEY("daily_pnl") ","
    " " MONEY("daily_drawdown_pct") ","
    " " MONEY("realized_pnl") ","
    " " MONEY("fees") ","
    " " MONEY("funding") ","
    " " MONEY("exposure") ","
    " open_positions INTEGER NOT NULL);"
    "CREATE TABLE ess_state("
    " id INTEGER PRIMARY KEY CHECK(id = 1),"
    " state TEXT NOT NULL CHECK(state IN ('ARMED','TRIPPED','COOLDOWN')),"
    " previous TEXT NOT NULL CHECK(previous IN ('ARMED','TRIPPED','COOLDOWN')),"
    " reason TEXT NOT NULL, user TEXT NOT NULL,"
    " time_ms INTEGER NOT NULL, cooldown_until_ms INTEGER NOT NULL,"
    " trips INTEGER NOT NULL, resets INTEGER NOT NULL);"
    "CREATE TABLE ess_transitions("
    " id INTEGER PRIMARY KEY,"
    " state TEXT NOT NULL CHECK(state IN ('ARMED','TRIPPED','COOLDOWN')),"
    " previous TEXT NOT NULL CHECK(previous IN ('ARMED','TRIPPED','COOLDOWN')),"
    " reason TEXT NOT NULL, user TEXT NOT NULL,"
    " time_ms INTEGER NOT NULL, cooldown_until_ms INTEGER NOT NULL,"
    " trips INTEGER NOT NULL, resets INTEGER NOT NULL);"
    "CREATE TABLE policy_loads("
    " id INTEGER PRIMARY KEY,"
    " time_ms INTEGER NOT NULL,"
    " " BOOLCOL("ok") ","
    " file TEXT NOT NULL, hash TEXT NOT NULL, error TEXT NOT NULL,"
    " version INTEGER NOT NULL);";

/* v2: alerts, the strategy that placed each order, fills by symbol and time. */
static const char schema_v2[] =
    "CREATE TABLE alerts("
    " id INTEGER PRIMARY KEY,"
    " time_ms INTEGER NOT NULL,"
    " severity TEXT NOT NULL CHECK(severity IN ('INFO','WARNING','CRITICAL')),"
    " source TEXT NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL);"
    "ALTER TABLE orders ADD COLUMN strategy TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX fills_by_symbol_time ON fills(symbol, time_ms);";

/* v3: the write path made cheaper, the data and the rules unchanged
 * (docs/store.md, "Write rate").
 * - fills_by_symbol_time goes: no query reads fills by symbol and time, and
 *   every fill paid a third of its write for it.
 * - orders is rebuilt with its type and status CHECKs written as OR chains:
 *   SQLite evaluates `x IN (more than two constants)` by building a
 *   temporary index on every execution, which made each order record cost
 *   several times a fill. Same columns, same order, same rows and ids. */
#define ORDER_TYPE_CHECK                                                                      \
    "CHECK(type = 'MARKET' OR type = 'LIMIT' OR type = 'STOP_MARKET' OR type = 'TAKE_PROFIT_MARKET')"
#define ORDER_STATUS_CHECK                                                                    \
    "CHECK(status = 'PENDING' OR status = 'NEW' OR status = 'PARTIALLY_FILLED' OR status = 'FILLED'" \
    " OR status = 'CANCELED' OR status = 'REJECTED' OR status = 'EXPIRED' OR status = 'UNKNOWN')"
#define ORDER_COLUMN_LIST                                                                     \
    "id, client_id, symbol, side, type, qty, price, status, filled_qty, avg_price, reduce_only, external," \
    " exchange_id, reason, created_ms, updated_ms, strategy"
static const char schema_v3[] =
    "DROP INDEX IF EXISTS fills_by_symbol_time;"
    "CREATE TABLE orders_v3("
    " id INTEGER PRIMARY KEY,"
    " client_id TEXT NOT NULL UNIQUE CHECK(length(client_id) > 0),"
    " symbol TEXT NOT NULL CHECK(length(symbol) > 0),"
    " side TEXT NOT NULL CHECK(side IN ('BUY','SELL')),"
    " type TEXT NOT NULL " ORDER_TYPE_CHECK ","
    " " MONEY("qty") ","
    " " MONEY("price") ","
    " status TEXT NOT NULL " ORDER_STATUS_CHECK ","
    " " MONEY("filled_qty") ","
    " " MONEY("avg_price") ","
    " " BOOLCOL("reduce_only") ","
    " " BOOLCOL("external") ","
    " exchange_id TEXT NOT NULL DEFAULT '',"
    " reason TEXT NOT NULL DEFAULT '',"
    " created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL,"
    " strategy TEXT NOT NULL DEFAULT '');"
    "INSERT INTO orders_v3(" ORDER_COLUMN_LIST ") SELECT " ORDER_COLUMN_LIST " FROM orders;"
    "DROP TABLE orders;"
    "ALTER TABLE orders_v3 RENAME TO orders;"
    "CREATE INDEX orders_by_status ON orders(status);";

/* v4: exits (host/exits). orders take TRAILING_STOP_MARKET and keep the
 * conditional fields (trigger, activation, callback, working type) so an
 * exit order is re-adopted after a restart as it was placed; exit_plans
 * keeps each symbol's exit plan (qtr/exits.h) so a position reopened by a
 * restart gets its stop back. The plan is the sized struct's bytes: it is
 * append-only like the SDK, and the reader copies min(stored, own) bytes. */
#define ORDER_TYPE_CHECK_V4                                                                   \
    "CHECK(type = 'MARKET' OR type = 'LIMIT' OR type = 'STOP_MARKET' OR type = 'TAKE_PROFIT_MARKET'" \
    " OR type = 'TRAILING_STOP_MARKET')"
static const char schema_v4[] =
    "CREATE TABLE orders_v4("
    " id INTEGER PRIMARY KEY,"
    " client_id TEXT NOT NULL UNIQUE CHECK(length(client_id) > 0),"
    " symbol TEXT NOT NULL CHECK(length(symbol) > 0),"
    " side TEXT NOT NULL CHECK(side IN ('BUY','SELL')),"
    " type TEXT NOT NULL " ORDER_TYPE_CHECK_V4 ","
    " " MONEY("qty") ","
    " " MONEY("price") ","
    " status TEXT NOT NULL " ORDER_STATUS_CHECK ","
    " " MONEY("filled_qty") ","
    " " MONEY("avg_price") ","
    " " BOOLCOL("reduce_only") ","
    " " BOOLCOL("external") ","
    " exchange_id TEXT NOT NULL DEFAULT '',"
    " reason TEXT NOT NULL DEFAULT '',"
    " created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL,"
    " strategy TEXT NOT NULL DEFAULT '',"
    " stop_price INTEGER NOT NULL DEFAULT 0 CHECK(typeof(stop_price)='integer'),"
    " activation_price INTEGER NOT NULL DEFAULT 0 CHECK(typeof(activation_price)='integer'),"
    " callback_bps INTEGER NOT NULL DEFAULT 0 CHECK(callback_bps >= 0),"
    " working_type TEXT NOT NULL DEFAULT 'LAST' CHECK(working_type = 'LAST' OR working_type = 'MARK'));"
    "INSERT INTO orders_v4(" ORDER_COLUMN_LIST ") SELECT " ORDER_COLUMN_LIST " FROM orders;"
    "DROP TABLE orders;"
    "ALTER TABLE orders_v4 RENAME TO orders;"
    "CREATE INDEX orders_by_status ON orders(status);"
    "CREATE TABLE exit_plans("
    " symbol TEXT PRIMARY KEY NOT NULL CHECK(length(symbol) > 0),"
    " strategy TEXT NOT NULL,"
    " plan BLOB NOT NULL CHECK(length(plan) >= 4),"
    " opened_ms INTEGER NOT NULL DEFAULT 0,"
    " updated_ms INTEGER NOT NULL);";

static const char *const migrations[QH_STORE_SCHEMA_VERSION] = { schema_v1, schema_v2, schema_v3, schema_v4 };

const char *qh_store_schema_ddl(int version)
{
    if (version < 1 || version > QH_STORE_SCHEMA_VERSION) return NULL;
    return migrations[version - 1];
}

static const char sqlite_magic[16] = "SQLite format 3";  /* with its NUL */

/* Look at the file before SQLite does: 0 = absent or empty (a new store),
 * 1 = looks like an SQLite database, -1 = refused (err set). */
static int inspect_file(const char *path, char *err, size_t errlen)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT) return 0;
        qh_store_errf(err, errlen, "store %s: cannot stat: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(sb.st_mode)) {
        qh_store_errf(err, errlen, "store %s: not a regular file", path);
        return -1;
    }
    if (sb.st_size == 0) return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        qh_store_errf(err, errlen, "store %s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    char head[16];
    ssize_t n = read(fd, head, sizeof head);
    close(fd);
    if (n != (ssize_t)sizeof head || memcmp(head, sqlite_magic, sizeof head) != 0) {
        qh_store_errf(err, errlen, "store %s: not an SQLite database (refused, file left untouched)", path);
        return -1;
    }
    return 1;
}

static int exec_pragma_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(s, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(s);
    return rc;
}

/* PRAGMA quick_check: "ok" or the first problem in err. */
static int quick_check(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &s, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const char *res = (const char *)sqlite3_column_text(s, 0);
        if (res && strcmp(res, "ok") == 0) {
            sqlite3_finalize(s);
            return 0;
        }
        qh_store_errf(err, errlen, "store %s: corrupt (quick_check: %s); refused, file left untouched",
                      path, res ? res : "?");
    } else {
        qh_store_errf(err, errlen, "store %s: corrupt or unreadable (%s); refused, file left untouched",
                      path, sqlite3_errmsg(db));
    }
    sqlite3_finalize(s);
    return -1;
}

sqlite3 *qh_store_connect(const char *path, int flags, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        qh_store_errf(err, errlen, "store %s: cannot open: %s", path,
                      db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

/* WAL, foreign keys, synchronous=FULL; checks that WAL took. */
static int configure(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &s, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(s);
    bool wal = rc == SQLITE_ROW && sqlite3_column_text(s, 0) &&
               strcmp((const char *)sqlite3_column_text(s, 0), "wal") == 0;
    sqlite3_finalize(s);
    if (!wal) {
        qh_store_errf(err, errlen, "store %s: cannot switch to WAL mode: %s", path, sqlite3_errmsg(db));
        return -1;
    }
    char *msg = NULL;
    if (sqlite3_exec(db, "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;", NULL, NULL, &msg) != SQLITE_OK) {
        qh_store_errf(err, errlen, "store %s: %s", path, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Rows that break a foreign key: SQLITE_OK if none, else SQLITE_CONSTRAINT. */
static int foreign_keys_hold(sqlite3 *db)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &s, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? SQLITE_OK : rc == SQLITE_ROW ? SQLITE_CONSTRAINT : rc;
}

/* Each migration in its own transaction, with the version bump inside it.
 * Foreign keys are off meanwhile (a migration may rebuild a parent table,
 * the way SQLite documents for schema changes) and checked before each
 * commit instead. */
static int migrate(sqlite3 *db, const char *path, int64_t from, char *err, size_t errlen)
{
    sqlite3_exec(db, "PRAGMA foreign_keys=OFF;", NULL, NULL, NULL);
    int status = 0;
    for (int v = (int)from + 1; v <= QH_STORE_SCHEMA_VERSION && status == 0; v++) {
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version=%d;", v);
        char *msg = NULL;
        int rc = sqlite3_exec(db, "BEGIN IMMEDIATE;", NULL, NULL, &msg);
        if (rc == SQLITE_OK) rc = sqlite3_exec(db, migrations[v - 1], NULL, NULL, &msg);
        if (rc == SQLITE_OK && (rc = foreign_keys_hold(db)) != SQLITE_OK && !msg)
            msg = sqlite3_mprintf("a foreign key no longer holds");
        if (rc == SQLITE_OK) rc = sqlite3_exec(db, bump, NULL, NULL, &msg);
        if (rc == SQLITE_OK) rc = sqlite3_exec(db, "COMMIT;", NULL, NULL, &msg);
        if (rc != SQLITE_OK) {
            qh_store_errf(err, errlen, "store %s: migration to schema v%d failed: %s", path, v,
                          msg ? msg : sqlite3_errmsg(db));
            sqlite3_exec(db, "ROLLBACK;", NULL, NULL, NULL);
            status = -1;
        }
        sqlite3_free(msg);
    }
    sqlite3_exec(db, "PRAGMA foreign_keys=ON;", NULL, NULL, NULL);
    return status;
}

sqlite3 *qh_store_schema_open(const char *path, char *err, size_t errlen)
{
    int kind = inspect_file(path, err, errlen);
    if (kind < 0) return NULL;
    /* An existing file is opened without CREATE so a typo cannot make a new
     * empty store next to the real one. */
    int flags = SQLITE_OPEN_READWRITE | (kind == 0 ? SQLITE_OPEN_CREATE : 0);
    sqlite3 *db = qh_store_connect(path, flags, err, errlen);
    if (!db) return NULL;
    if (sqlite3_db_readonly(db, "main") != 0) {
        qh_store_errf(err, errlen, "store %s: not writable", path);
        goto fail;
    }
    int64_t version = 0;
    int rc = exec_pragma_int(db, "PRAGMA user_version", &version);
    if (rc != SQLITE_OK) {
        qh_store_errf(err, errlen, "store %s: %s (refused, file left untouched)", path,
                      rc == SQLITE_NOTADB ? "not an SQLite database" : sqlite3_errmsg(db));
        goto fail;
    }
    if (version > QH_STORE_SCHEMA_VERSION) {
        qh_store_errf(err, errlen,
                      "store %s: schema version %lld is newer than this qtr supports (%d); "
                      "refused, file left untouched: use a newer qtr",
                      path, (long long)version, QH_STORE_SCHEMA_VERSION);
        goto fail;
    }
    if (version < 0) {
        qh_store_errf(err, errlen, "store %s: invalid schema version %lld", path, (long long)version);
        goto fail;
    }
    if (kind == 1 && quick_check(db, path, err, errlen) != 0) goto fail;
    if (kind == 1 && version == 0) {
        /* A database we did not make: refuse rather than add tables to it. */
        int64_t n_tables = 0;
        if (exec_pragma_int(db, "SELECT count(*) FROM sqlite_master", &n_tables) != SQLITE_OK || n_tables > 0) {
            qh_store_errf(err, errlen, "store %s: an SQLite database but not a qtr store (no schema "
                          "version); refused, file left untouched", path);
            goto fail;
        }
    }
    if (configure(db, path, err, errlen) != 0) goto fail;
    if (migrate(db, path, version, err, errlen) != 0) goto fail;
    return db;
fail:
    sqlite3_close(db);
    return NULL;
}
