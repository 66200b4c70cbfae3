/* Opening a store: migrations, and the refusals that leave a file untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/store.h"
#include "store_fixture.h"

/* Schema v1 exactly as the first release created it (frozen here on purpose:
 * the migration must keep working for files made by that release). */
static const char v1_ddl[] =
"CREATE TABLE meta( key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);"
"CREATE TABLE orders( id INTEGER PRIMARY KEY, client_id TEXT NOT NULL UNIQUE CHECK(length(client_id) > 0), symbol TEXT NOT NULL CHECK(length(symbol) > 0), side TEXT NOT NULL CHECK(side IN ('BUY','SELL')), type TEXT NOT NULL CHECK(type IN ('MARKET','LIMIT','STOP_MARKET','TAKE_PROFIT_MARKET')), qty INTEGER NOT NULL CHECK(typeof(qty)='integer'), price INTEGER NOT NULL CHECK(typeof(price)='integer'), status TEXT NOT NULL CHECK(status IN ('PENDING','NEW','PARTIALLY_FILLED','FILLED',   'CANCELED','REJECTED','EXPIRED','UNKNOWN')), filled_qty INTEGER NOT NULL CHECK(typeof(filled_qty)='integer'), avg_price INTEGER NOT NULL CHECK(typeof(avg_price)='integer'), reduce_only INTEGER NOT NULL CHECK(reduce_only IN (0,1)), external INTEGER NOT NULL CHECK(external IN (0,1)), exchange_id TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '', created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
"CREATE INDEX orders_by_status ON orders(status);"
"CREATE TABLE order_events( id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders(id), time_ms INTEGER NOT NULL, status TEXT NOT NULL, filled_qty INTEGER NOT NULL CHECK(typeof(filled_qty)='integer'), avg_price INTEGER NOT NULL CHECK(typeof(avg_price)='integer'), reason TEXT NOT NULL DEFAULT '');"
"CREATE INDEX order_events_by_order ON order_events(order_id);"
"CREATE TABLE fills( id INTEGER PRIMARY KEY, fill_id TEXT NOT NULL UNIQUE CHECK(length(fill_id) > 0), client_id TEXT NOT NULL, symbol TEXT NOT NULL CHECK(length(symbol) > 0), side TEXT NOT NULL CHECK(side IN ('BUY','SELL')), qty INTEGER NOT NULL CHECK(typeof(qty)='integer') CHECK(qty > 0), price INTEGER NOT NULL CHECK(typeof(price)='integer'), fee INTEGER NOT NULL CHECK(typeof(fee)='integer'), maker INTEGER NOT NULL CHECK(maker IN (0,1)), reduce_only INTEGER NOT NULL CHECK(reduce_only IN (0,1)), time_ms INTEGER NOT NULL);"
"CREATE TABLE positions( symbol TEXT PRIMARY KEY NOT NULL, qty INTEGER NOT NULL CHECK(typeof(qty)='integer'), entry_price INTEGER NOT NULL CHECK(typeof(entry_price)='integer'), mark_price INTEGER NOT NULL CHECK(typeof(mark_price)='integer'), unrealized_pnl INTEGER NOT NULL CHECK(typeof(unrealized_pnl)='integer'), realized_pnl INTEGER NOT NULL CHECK(typeof(realized_pnl)='integer'), fees INTEGER NOT NULL CHECK(typeof(fees)='integer'), funding INTEGER NOT NULL CHECK(typeof(funding)='integer'), updated_ms INTEGER NOT NULL);"
"CREATE TABLE equity( id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, wallet INTEGER NOT NULL CHECK(typeof(wallet)='integer'), unrealized_pnl INTEGER NOT NULL CHECK(typeof(unrealized_pnl)='integer'), equity INTEGER NOT NULL CHECK(typeof(equity)='integer'), peak INTEGER NOT NULL CHECK(typeof(peak)='integer'), drawdown_pct INTEGER NOT NULL CHECK(typeof(drawdown_pct)='integer'), day_start_equity INTEGER NOT NULL CHECK(typeof(day_start_equity)='integer'), day_start_ms INTEGER NOT NULL, daily_pnl INTEGER NOT NULL CHECK(typeof(daily_pnl)='integer'), daily_drawdown_pct INTEGER NOT NULL CHECK(typeof(daily_drawdown_pct)='integer'), realized_pnl INTEGER NOT NULL CHECK(typeof(realized_pnl)='integer'), fees INTEGER NOT NULL CHECK(typeof(fees)='integer'), funding INTEGER NOT NULL CHECK(typeof(funding)='integer'), exposure INTEGER NOT NULL CHECK(typeof(exposure)='integer'), open_positions INTEGER NOT NULL);"
"CREATE TABLE ess_state( id INTEGER PRIMARY KEY CHECK(id = 1), state TEXT NOT NULL CHECK(state IN ('ARMED','TRIPPED','COOLDOWN')), previous TEXT NOT NULL CHECK(previous IN ('ARMED','TRIPPED','COOLDOWN')), reason TEXT NOT NULL, user TEXT NOT NULL, time_ms INTEGER NOT NULL, cooldown_until_ms INTEGER NOT NULL, trips INTEGER NOT NULL, resets INTEGER NOT NULL);"
"CREATE TABLE ess_transitions( id INTEGER PRIMARY KEY, state TEXT NOT NULL CHECK(state IN ('ARMED','TRIPPED','COOLDOWN')), previous TEXT NOT NULL CHECK(previous IN ('ARMED','TRIPPED','COOLDOWN')), reason TEXT NOT NULL, user TEXT NOT NULL, time_ms INTEGER NOT NULL, cooldown_until_ms INTEGER NOT NULL, trips INTEGER NOT NULL, resets INTEGER NOT NULL);"
"CREATE TABLE policy_loads( id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, ok INTEGER NOT NULL CHECK(ok IN (0,1)), file TEXT NOT NULL, hash TEXT NOT NULL, error TEXT NOT NULL, version INTEGER NOT NULL);"
"PRAGMA user_version=1;";

static const char v1_rows[] =
"INSERT INTO meta VALUES('starting_balance','5000.25');"
"INSERT INTO orders(client_id,symbol,side,type,qty,price,status,filled_qty,avg_price,reduce_only,external,"
" exchange_id,reason,created_ms,updated_ms) VALUES('old-1','BTCUSDT','BUY','LIMIT',50000000,4000000000000,"
" 'NEW',0,0,0,0,'77','',100,100);"
"INSERT INTO order_events(order_id,time_ms,status,filled_qty,avg_price) VALUES(1,100,'NEW',0,0);"
"INSERT INTO fills(fill_id,client_id,symbol,side,qty,price,fee,maker,reduce_only,time_ms)"
" VALUES('old-f1','old-0','BTCUSDT','BUY',10000000,3900000000000,390000,1,0,90);"
"INSERT INTO positions VALUES('BTCUSDT',10000000,3900000000000,3900000000000,0,0,390000,0,90);";

/* A file's bytes before and after: the refusal must not change them. */
typedef struct snapshot {
    unsigned char *data;
    size_t len;
} snapshot;

static snapshot take(const char *path)
{
    snapshot s = { NULL, 0 };
    assert_true(sf_read_file(path, &s.data, &s.len));
    return s;
}

static void assert_unchanged(const char *path, snapshot *before)
{
    snapshot after = take(path);
    assert_int_equal(after.len, before->len);
    assert_memory_equal(after.data, before->data, before->len);
    free(after.data);
    free(before->data);
}

static void refuse(const char *path, const char *expect_in_err)
{
    char err[512] = "";
    qh_store *st = qh_store_open(path, NULL, err, sizeof err);
    assert_null(st);
    assert_non_null(strstr(err, path));
    if (!strstr(err, expect_in_err)) fprintf(stderr, "unexpected error text: %s\n", err);
    assert_non_null(strstr(err, expect_in_err));
}

static void make_store_with_fills(const char *path, int n)
{
    char err[256];
    qh_store *st = qh_store_open(path, NULL, err, sizeof err);
    assert_non_null(st);
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "fill-%06d-padding-padding", i);
        qtr_fill f = sf_fill(id, "BTCUSDT", QTR_SIDE_BUY, 1, 1, 0, i);
        assert_int_equal(qh_store_record_fill(st, &f, NULL), QTR_OK);
    }
    assert_int_equal(qh_store_close(st), QTR_OK);
}

static void test_migrate_v1(void **state)
{
    (void)state;
    char *dir = sf_tmpdir();
    char *path = sf_path(dir, "v1.db");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, v1_ddl, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, v1_rows, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(sf_sql_int(path, "PRAGMA user_version"), 1);

    char err[256] = "";
    qh_store *st = qh_store_open(path, NULL, err, sizeof err);
    assert_non_null(st);
    assert_int_equal(sf_sql_int(path, "PRAGMA user_version"), QH_STORE_SCHEMA_VERSION);
    char mode[16];
    sf_sql_text(path, "PRAGMA journal_mode", mode, sizeof mode);
    assert_string_equal(mode, "wal");

    qh_store_state s;
    assert_int_equal(qh_store_load_state(st, &s, err, sizeof err), QTR_OK);
    assert_int_equal(s.n_fills, 1);
    assert_int_equal(s.n_open_orders, 1);
    assert_string_equal(s.open_orders[0].client_id, "old-1");
    assert_int_equal(s.open_orders[0].price, QTR_DEC_INT(40000));
    assert_string_equal(s.open_orders[0].exchange_id, "77");
    assert_int_equal(s.n_positions, 1);
    assert_int_equal(s.positions[0].qty, 10000000);
    assert_int_equal(s.n_mismatches, 0);
    assert_true(s.has_starting_balance);
    assert_int_equal(s.starting_balance, 500025000000);
    qh_store_state_free(&s);

    /* v2 additions work on the migrated file. */
    char strategy[8] = "x";
    sf_sql_text(path, "SELECT strategy FROM orders WHERE client_id='old-1'", strategy, sizeof strategy);
    assert_string_equal(strategy, "");
    qtr_event al = sf_event(QTR_EV_ALERT);
    al.u.alert.severity = QTR_ALERT_WARNING;
    qtr_strlcpy(al.u.alert.text, "after migration", sizeof al.u.alert.text);
    assert_int_equal(qh_store_enqueue(st, &al, NULL, err, sizeof err), QTR_OK);
    assert_int_equal(qh_store_flush(st, -1), QTR_OK);
    assert_int_equal(sf_sql_int(path, "SELECT count(*) FROM alerts"), 1);
    /* v3: orders rebuilt with the same rows, ids and rules: every type and
     * status is accepted, anything else refused, order_events still point
     * at their orders. */
    assert_int_equal(sf_sql_int(path, "SELECT count(*) FROM order_events AS e JOIN orders AS o ON o.id = e.order_id"
                                      " WHERE o.client_id = 'old-1'"), 1);
    char fk[8] = "x";
    sf_sql_text(path, "PRAGMA foreign_key_check", fk, sizeof fk);
    assert_string_equal(fk, "");
    static const char *const types[] = { "MARKET", "LIMIT", "STOP_MARKET", "TAKE_PROFIT_MARKET" };
    static const char *const statuses[] = { "PENDING", "NEW", "PARTIALLY_FILLED", "FILLED",
                                            "CANCELED", "REJECTED", "EXPIRED", "UNKNOWN" };
    for (size_t i = 0; i < 8; i++) {
        char sql[512];
        snprintf(sql, sizeof sql, "INSERT INTO orders(client_id,symbol,side,type,qty,price,status,filled_qty,avg_price,"
                 "reduce_only,external,created_ms,updated_ms) VALUES('chk-%zu','BTCUSDT','SELL','%s',1,1,'%s',0,0,0,0,1,1)",
                 i, types[i % 4], statuses[i]);
        assert_true(sf_sql_exec(path, sql));
    }
    assert_false(sf_sql_exec(path, "INSERT INTO orders(client_id,symbol,side,type,qty,price,status,filled_qty,"
                                   "avg_price,reduce_only,external,created_ms,updated_ms)"
                                   " VALUES('chk-bad-status','BTCUSDT','BUY','LIMIT',1,1,'OPEN',0,0,0,0,1,1)"));
    assert_false(sf_sql_exec(path, "INSERT INTO orders(client_id,symbol,side,type,qty,price,status,filled_qty,"
                                   "avg_price,reduce_only,external,created_ms,updated_ms)"
                                   " VALUES('chk-bad-type','BTCUSDT','BUY','STOP',1,1,'NEW',0,0,0,0,1,1)"));
    assert_false(sf_sql_exec(path, "INSERT INTO orders(client_id,symbol,side,type,qty,price,status,filled_qty,"
                                   "avg_price,reduce_only,external,created_ms,updated_ms)"
                                   " VALUES('chk-real','BTCUSDT','BUY','LIMIT',1.5,1,'NEW',0,0,0,0,1,1)"));
    assert_true(sf_sql_exec(path, "DELETE FROM orders WHERE client_id LIKE 'chk-%'"));
    /* v3: the unused index that cost every fill a third of its write is gone */
    assert_int_equal(sf_sql_int(path, "SELECT count(*) FROM sqlite_master WHERE name='fills_by_symbol_time'"), 0);
    assert_int_equal(sf_sql_int(path, "SELECT count(*) FROM sqlite_master WHERE type='index' AND tbl_name='fills'"
                                      " AND name NOT LIKE 'sqlite_autoindex_%'"), 0);
    assert_int_equal(qh_store_close(st), QTR_OK);

    /* Reopening a current store runs no migration and keeps the data. */
    st = qh_store_open(path, NULL, err, sizeof err);
    assert_non_null(st);
    assert_int_equal(qh_store_close(st), QTR_OK);
    assert_int_equal(sf_sql_int(path, "SELECT count(*) FROM alerts"), 1);
    assert_int_equal(sf_sql_int(path, "SELECT count(*) FROM fills"), 1);
    free(path);
    sf_rmtree(dir);
}

static void test_newer_schema_refused(void **state)
{
    (void)state;
    char *dir = sf_tmpdir();
    char *path = sf_path(dir, "new.db");
    make_store_with_fills(path, 3);
    assert_true(sf_sql_exec(path, "PRAGMA user_version=99"));
    snapshot before = take(path);
    refuse(path, "newer");
    assert_unchanged(path, &before);
    assert_int_equal(sf_sql_int(path, "PRAGMA user_version"), 99);
    free(path);
    sf_rmtree(dir);
}

static void test_garbage_file_refused(void **state)
{
    (void)state;
    char *dir = sf_tmpdir();
    char *path = sf_path(dir, "junk.db");
    unsigned char junk[8192];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)(i * 131 + 7);
    assert_true(sf_write_file(path, junk, sizeof junk));
    snapshot before = take(path);
    refuse(path, "not an SQLite database");
    assert_unchanged(path, &before);
    /* A file too short to hold a header. */
    assert_true(sf_write_file(path, "SQLite", 6));
    before = take(path);
    refuse(path, "not an SQLite database");
    assert_unchanged(path, &before);
    free(path);
    sf_rmtree(dir);
}

static void test_corrupt_pages_refused(void **state)
{
    (void)state;
    char *dir = sf_tmpdir();
    char *path = sf_path(dir, "corrupt.db");
    make_store_with_fills(path, 300);
    snapshot good = take(path);
    int64_t page = sf_sql_int(path, "PRAGMA page_size");
    assert_true(good.len > (size_t)page * 4);
    /* Keep the header page, trash every page after it. */
    for (size_t i = (size_t)page; i < good.len; i++) good.data[i] = (unsigned char)(0xA5 ^ (i & 0xff));
    assert_true(sf_write_file(path, good.data, good.len));
    free(good.data);
    snapshot before = take(path);
    refuse(path, "corrupt");
    assert_unchanged(path, &before);
    free(path);
    sf_rmtree(dir);
}

static void test_foreign_database_refused(void **state)
{
    (void)state;
    char *dir = sf_tmpdir();
    char *path = sf_path(dir, "other.db");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE songs(title TEXT); INSERT INTO songs VALUES('x');", NULL, NULL,
                                  NULL), SQLITE_OK);
    sqlite3_close(db);
    snapshot before = take(path);
    refuse(path, "not a qtr store");
    assert_unchanged(path, &before);
    free(path);
    sf_rmtree(dir);
}

static void test_unwritable_paths_refused(void **state)
{
    (void)state;
    refuse("/nonexistent-qtr-dir/sub/trades.db", "cannot open");
    char *dir = sf_tmpdir();
    refuse(dir, "not a regular file");
    struct stat sb;
    assert_int_equal(stat("/nonexistent-qtr-dir", &sb), -1);
    char err[128] = "";
    assert_null(qh_store_open("", NULL, err, sizeof err));
    assert_non_null(strstr(err, "no path"));
    assert_null(qh_store_open(NULL, NULL, err, sizeof err));
    sf_rmtree(dir);
}

static void test_new_store_settings(void **state)
{
    (void)state;
    char *dir = sf_tmpdir();
    char *path = sf_path(dir, "fresh.db");
    char err[256];
    qh_store *st = qh_store_open(path, NULL, err, sizeof err);
    assert_non_null(st);
    assert_string_equal(qh_store_path(st), path);
    char mode[16];
    sf_sql_text(path, "PRAGMA journal_mode", mode, sizeof mode);
    assert_string_equal(mode, "wal");
    assert_int_equal(sf_sql_int(path, "PRAGMA user_version"), QH_STORE_SCHEMA_VERSION);
    assert_int_equal(qh_store_close(st), QTR_OK);
    free(path);
    sf_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrate_v1),
        cmocka_unit_test(test_newer_schema_refused),
        cmocka_unit_test(test_garbage_file_refused),
        cmocka_unit_test(test_corrupt_pages_refused),
        cmocka_unit_test(test_foreign_database_refused),
        cmocka_unit_test(test_unwritable_paths_refused),
        cmocka_unit_test(test_new_store_settings),
    };
    return cmocka_run_group_tests_name("store_schema", tests, NULL, NULL);
}
