/* After a restart: a store holding a symbol's exit plan and an open
 * position gets its stop placed again; exits still on the exchange are kept,
 * never doubled. The plan goes through the real store (schema v4) and back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "exits_fake.h"
#include "store/store.h"
#include "store_fixture.h"

#define D fake_dec

typedef struct loaded {
    qh_exits *m;
    int n;
} loaded;

static void on_plan(void *ud, const char *symbol, const char *owner, const void *plan, size_t size, int64_t opened)
{
    loaded *l = ud;
    qtr_exit_plan p;
    memset(&p, 0, sizeof p);
    memcpy(&p, plan, size < sizeof p ? size : sizeof p);
    assert_int_equal(qh_exits_load_plan(l->m, symbol, owner, &p, opened), QTR_OK);
    l->n++;
}

/* First run: a plan set, a position opened, exits placed; the plan is kept
 * in the store. Returns the store's path. */
static char *first_run(char *dir, fake *f)
{
    char *path = sf_path(dir, "s.db");
    char err[256] = "";
    qh_store *st = qh_store_open(path, NULL, err, sizeof err);
    assert_non_null(st);
    qtr_exit_plan p = QTR_SIZED(qtr_exit_plan);
    p.price_tick = D("0.1");
    p.base.stop_loss.bps = 100;
    p.base.time_stop_ms = 3600000;
    assert_int_equal(qh_store_exit_plan_put(st, "BTCUSDT", "ma_cross", &p, sizeof p, 1700000000000, 1700000000000,
                                            err, sizeof err), QTR_OK);
    assert_int_equal(qh_store_close(st), QTR_OK);
    memset(f, 0, sizeof *f);
    f->now = 1700000600000;                            /* ten minutes later */
    qtr_strlcpy(f->pos.symbol, "BTCUSDT", sizeof f->pos.symbol);
    f->pos.qty = D("0.5");
    f->pos.entry_price = D("200");
    return path;
}

static qh_exits *restart(const char *path, fake *f)
{
    char err[256] = "";
    qh_store *st = qh_store_open(path, NULL, err, sizeof err);
    assert_non_null(st);
    qh_exit_services sv = fake_services(f);
    loaded l = { qh_exits_new(&sv), 0 };
    assert_int_equal(qh_store_exit_plans_each(st, on_plan, &l, err, sizeof err), QTR_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(qh_store_close(st), QTR_OK);
    return l.m;
}

static void test_position_without_stop_gets_it_back(void **state)
{
    (void)state;
    char *dir = sf_tmpdir();
    fake f;
    char *path = first_run(dir, &f);
    qh_exits *m = restart(path, &f);
    qh_exits_reconcile(m, &f.pos, 1, NULL, 0);
    assert_int_equal(f.n_sent, 1);
    assert_int_equal(f.sent[0].type, QTR_ORDER_STOP_MARKET);
    assert_int_equal(f.sent[0].stop_price, D("198"));
    assert_int_equal(f.sent[0].qty, D("0.5"));
    assert_int_equal(f.sent[0].side, QTR_SIDE_SELL);
    assert_true(f.sent[0].reduce_only);
    /* the time stop still counts from the stored opening, not the restart */
    fake_advance(&f, 1700000000000 + 3600000 - 1);
    assert_int_equal(f.n_sent, 1);
    fake_advance(&f, 1700000000000 + 3600000);
    assert_int_equal(f.n_sent, 2);
    assert_int_equal(f.sent[1].type, QTR_ORDER_MARKET);
    qh_exits_free(m);
    free(path);
    sf_rmtree(dir);
}

static void test_live_stop_not_doubled(void **state)
{
    (void)state;
    char *dir = sf_tmpdir();
    fake f;
    char *path = first_run(dir, &f);
    qh_exits *m = restart(path, &f);
    /* the exchange still has the stop (adopted at start), and a reduce-only
     * order that is not an exit (the ESS's closes end in -x<n>) */
    qtr_order_update open[2];
    memset(open, 0, sizeof open);
    qtr_strlcpy(open[0].symbol, "BTCUSDT", sizeof open[0].symbol);
    qtr_strlcpy(open[0].client_id, "qtr-abc-e7", sizeof open[0].client_id);
    open[0].type = QTR_ORDER_STOP_MARKET;
    open[0].side = QTR_SIDE_SELL;
    open[0].status = QTR_OS_NEW;
    open[0].qty = D("0.5");
    open[0].stop_price = D("198");
    open[0].reduce_only = true;
    open[1] = open[0];
    qtr_strlcpy(open[1].client_id, "qtr-abc-x8", sizeof open[1].client_id);
    qh_exits_reconcile(m, &f.pos, 1, open, 2);
    assert_int_equal(f.n_sent, 0);
    assert_int_equal(f.n_cancelled, 0);
    qh_exit_live live[4];
    assert_int_equal(qh_exits_live(m, "BTCUSDT", live, 4), 1);
    assert_string_equal(live[0].client_id, "qtr-abc-e7");
    /* the exchange then reports it gone (it had no trace of it): placed again */
    qh_exits_on_order_update(m, &(qtr_order_update){ .symbol = "BTCUSDT", .client_id = "qtr-abc-e7",
                                                      .status = QTR_OS_EXPIRED, .type = QTR_ORDER_STOP_MARKET });
    assert_int_equal(f.n_sent, 1);
    assert_int_equal(f.sent[0].type, QTR_ORDER_STOP_MARKET);
    assert_int_equal(f.sent[0].stop_price, D("198"));
    assert_true(f.sent[0].reduce_only);
    qh_exits_free(m);
    free(path);
    sf_rmtree(dir);
}

/* A strategy that sets its plan again in init, and a fill adopted at start,
 * come before the exchange's open orders are known: while held, nothing is
 * placed, and the reconcile keeps the stop still resting there (before the
 * hold, set_exit_plan placed a second stop at once). */
static void test_plan_set_before_reconcile_not_doubled(void **state)
{
    (void)state;
    char *dir = sf_tmpdir();
    fake f;
    char *path = first_run(dir, &f);
    qh_exits *m = restart(path, &f);
    qh_exits_hold(m);
    qtr_exit_plan p = QTR_SIZED(qtr_exit_plan);
    p.price_tick = D("0.1");
    p.base.stop_loss.bps = 100;
    char err[256] = "";
    assert_int_equal(qh_exits_set_plan(m, "BTCUSDT", "ma_cross", &p, err, sizeof err), QTR_OK);
    assert_int_equal(f.n_sent, 0);
    f.pos.qty = D("0.6");   /* an adopted order's fill moved the position */
    qh_exits_on_position(m, &f.pos);
    assert_int_equal(f.n_sent, 0);
    assert_int_equal(f.n_cancelled, 0);
    qtr_order_update open;
    memset(&open, 0, sizeof open);
    qtr_strlcpy(open.symbol, "BTCUSDT", sizeof open.symbol);
    qtr_strlcpy(open.client_id, "qtr-abc-e7", sizeof open.client_id);
    open.type = QTR_ORDER_STOP_MARKET;
    open.side = QTR_SIDE_SELL;
    open.status = QTR_OS_NEW;
    open.qty = D("0.6");
    open.stop_price = D("198");
    open.reduce_only = true;
    qh_exits_reconcile(m, &f.pos, 1, &open, 1);
    assert_int_equal(f.n_sent, 0);
    qh_exit_live live[4];
    assert_int_equal(qh_exits_live(m, "BTCUSDT", live, 4), 1);
    assert_string_equal(live[0].client_id, "qtr-abc-e7");
    /* after the reconcile, a moved position is followed again */
    f.pos.qty = D("0.8");
    qh_exits_on_position(m, &f.pos);
    assert_true(f.n_sent >= 1);
    qh_exits_free(m);
    free(path);
    sf_rmtree(dir);
}

/* A symbol with a plan and no position: nothing placed. */
static void test_flat_symbol_nothing(void **state)
{
    (void)state;
    char *dir = sf_tmpdir();
    fake f;
    char *path = first_run(dir, &f);
    qh_exits *m = restart(path, &f);
    f.pos.qty = 0;
    qh_exits_reconcile(m, &f.pos, 1, NULL, 0);
    assert_int_equal(f.n_sent, 0);
    qh_exits_free(m);
    free(path);
    sf_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_position_without_stop_gets_it_back),
        cmocka_unit_test(test_live_stop_not_doubled),
        cmocka_unit_test(test_plan_set_before_reconcile_not_doubled),
        cmocka_unit_test(test_flat_symbol_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
