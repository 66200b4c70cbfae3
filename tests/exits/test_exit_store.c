/* Store schema v4 (exits): a v3 store migrates with its orders intact; the
 * conditional fields of an order (trigger, activation, callback, working
 * type) and TRAILING_STOP_MARKET round-trip; exit plans are kept, replaced
 * and deleted by symbol. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_impl.h"
#include "store_fixture.h"

/* A new file holding the schema up to `version`, as those migrations made it. */
static void make_store_at(const char *path, int version)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL), SQLITE_OK);
    for (int v = 1; v <= version; v++) assert_int_equal(sqlite3_exec(db, qh_store_schema_ddl(v), NULL, NULL, NULL), SQLITE_OK);
    char bump[64];
    snprintf(bump, sizeof bump, "PRAGMA user_version=%d;", version);
    assert_int_equal(sqlite3_exec(db, bump, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_v3_store_migrates(void **state)
{
    (void)state;
    char *dir = sf_tmpdir();
    char *path = sf_path(dir, "v3.db");
    /* a v3 store made from the migrations as shipped, with one stop order */
    make_store_at(path, 3);
    assert_true(sf_sql_exec(path, "INSERT INTO orders(client_id, symbol, side, type, qty, price, status, filled_qty,"
                                  " avg_price, reduce_only, external, created_ms, updated_ms, strategy)"
                                  " VALUES('old-1','BTCUSDT','SELL','STOP_MARKET',100000000,0,'NEW',0,0,1,0,5,5,'s');"));
    char err[256] = "";
    qh_store *st = qh_store_open(path, NULL, err, sizeof err);
    assert_non_null(st);
    assert_int_equal(sf_sql_int(path, "PRAGMA user_version"), 4);
    qtr_order_update o;
    assert_int_equal(qh_store_get_order(st, "old-1", &o), QTR_OK);
    assert_int_equal(o.type, QTR_ORDER_STOP_MARKET);
    assert_true(o.reduce_only);
    assert_int_equal(o.working_type, QTR_WORKING_LAST);
    assert_int_equal(o.callback_bps, 0);

    /* a trailing stop's fields as placed, then as the exchange reports them */
    qtr_event ev = sf_event(QTR_EV_ORDER_INTENT);
    qtr_order_intent *in = &ev.u.order_intent;
    qtr_strlcpy(in->symbol, "BTCUSDT", sizeof in->symbol);
    qtr_strlcpy(in->client_id, "qtr-r-e1", sizeof in->client_id);
    qtr_strlcpy(in->strategy, "exits", sizeof in->strategy);
    in->side = QTR_SIDE_SELL;
    in->type = QTR_ORDER_TRAILING_STOP_MARKET;
    in->qty = 50000000;
    in->activation_price = QTR_DEC_INT(101);
    in->callback_bps = 150;
    in->working_type = QTR_WORKING_MARK;
    in->reduce_only = true;
    in->time_ms = 10;
    assert_int_equal(qh_store_enqueue(st, &ev, NULL, err, sizeof err), QTR_OK);
    qtr_order_update u;
    qtr_order_update_for_intent(in, QTR_OS_NEW, "", 11, &u);
    u.callback_bps = 0;                  /* an update that does not repeat them keeps them */
    u.activation_price = 0;
    assert_int_equal(qh_store_record_order(st, &u, NULL), QTR_OK);
    assert_int_equal(qh_store_flush(st, 10000), QTR_OK);
    assert_int_equal(qh_store_get_order(st, "qtr-r-e1", &o), QTR_OK);
    assert_int_equal(o.type, QTR_ORDER_TRAILING_STOP_MARKET);
    assert_int_equal(o.status, QTR_OS_NEW);
    assert_int_equal(o.activation_price, QTR_DEC_INT(101));
    assert_int_equal(o.callback_bps, 150);
    assert_int_equal(o.working_type, QTR_WORKING_MARK);
    assert_true(o.reduce_only);
    assert_int_equal(qh_store_close(st), QTR_OK);
    free(path);
    sf_rmtree(dir);
}

typedef struct seen {
    int n;
    char symbol[QTR_SYMBOL_MAX], owner[QTR_NAME_MAX];
    qtr_exit_plan plan;
    size_t size;
    int64_t opened;
} seen;

static void on_plan(void *ud, const char *symbol, const char *owner, const void *plan, size_t size, int64_t opened)
{
    seen *s = ud;
    s->n++;
    qtr_strlcpy(s->symbol, symbol, sizeof s->symbol);
    qtr_strlcpy(s->owner, owner, sizeof s->owner);
    memset(&s->plan, 0, sizeof s->plan);
    memcpy(&s->plan, plan, size < sizeof s->plan ? size : sizeof s->plan);
    s->size = size;
    s->opened = opened;
}

static void test_plans_kept_by_symbol(void **state)
{
    (void)state;
    char *dir = sf_tmpdir();
    char *path = sf_path(dir, "p.db");
    char err[256] = "";
    qh_store *st = qh_store_open(path, NULL, err, sizeof err);
    assert_non_null(st);
    qtr_exit_plan p = QTR_SIZED(qtr_exit_plan);
    p.base.stop_loss.bps = 120;
    assert_int_equal(qh_store_exit_plan_put(st, "ETHUSDT", "a", &p, sizeof p, 0, 1, err, sizeof err), QTR_OK);
    p.base.stop_loss.bps = 130;
    assert_int_equal(qh_store_exit_plan_put(st, "ETHUSDT", "b", &p, sizeof p, 77, 2, err, sizeof err), QTR_OK);
    assert_int_equal(qh_store_close(st), QTR_OK);
    st = qh_store_open(path, NULL, err, sizeof err);
    seen s = { 0 };
    assert_int_equal(qh_store_exit_plans_each(st, on_plan, &s, err, sizeof err), QTR_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.symbol, "ETHUSDT");
    assert_string_equal(s.owner, "b");
    assert_int_equal(s.size, sizeof p);
    assert_int_equal(s.plan.base.stop_loss.bps, 130);
    assert_int_equal(s.opened, 77);
    assert_int_equal(qh_store_exit_plan_delete(st, "ETHUSDT", err, sizeof err), QTR_OK);
    s.n = 0;
    assert_int_equal(qh_store_exit_plans_each(st, on_plan, &s, err, sizeof err), QTR_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(qh_store_exit_plan_put(st, "", "a", &p, sizeof p, 0, 1, err, sizeof err), QTR_EINVAL);
    assert_int_equal(qh_store_close(st), QTR_OK);
    free(path);
    sf_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v3_store_migrates),
        cmocka_unit_test(test_plans_kept_by_symbol),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
