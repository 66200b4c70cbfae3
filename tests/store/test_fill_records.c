/* The engine and the store together (host/engine/persist.c): the records of
 * one fill (the fill, the order update the exchange sends with it, the
 * position and the equity it moves) reach the store in one transaction. The
 * commit boundary is forced at every record (qh_store_test_commit_each) and
 * a reader looks at the committed store after each commit: it must never see
 * a position that is not the sum of its fills, nor an order whose filled
 * quantity is not. Runs the real engine with the fixture plugins of
 * tests/engine (engine_fixture.h). */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "engine_fixture.h"
#include "store_fixture.h"

typedef struct fixture {
    efx *f;
    sf_commits seen;
} fixture;

static int setup(void **state)
{
    fixture *x = calloc(1, sizeof *x);
    if (!x) return -1;
    *state = x;
    x->f = efx_new();
    return 0;
}

static int teardown(void **state)
{
    fixture *x = *state;
    if (x->f) efx_free(x->f);
    free(x);
    return 0;
}

static qtr_event order_update(qtr_order_status status, qtr_dec filled)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_ORDER_UPDATE;
    qtr_order_update *u = &ev.u.order_update;
    qtr_strlcpy(u->symbol, "BTCUSDT", sizeof u->symbol);
    qtr_strlcpy(u->client_id, "test-order", sizeof u->client_id);   /* efx_fill's order */
    u->side = QTR_SIDE_BUY;
    u->type = QTR_ORDER_MARKET;
    u->status = status;
    u->qty = QTR_DEC_INT(3);
    u->filled_qty = filled;
    u->avg_price = filled ? QTR_DEC_INT(100) : 0;
    return ev;
}

/* One turn of the loop: what the engine scheduled for it runs. */
static void loop_turn(efx *f)
{
    assert_int_equal(event_base_loop(f->base, EVLOOP_NONBLOCK), 0);
}

static void test_a_fill_and_its_records_are_one_transaction(void **state)
{
    fixture *x = *state;
    efx *f = x->f;
    qh_engine *e = f->e;
    assert_non_null(e->store);
    /* what loading wrote is committed first; from here on, every commit is seen */
    assert_int_equal(qh_store_flush(e->store, 10000), QTR_OK);
    qtr_strlcpy(x->seen.path, qh_store_path(e->store), sizeof x->seen.path);
    qh_store_test_commit_each(e->store, sf_look_after_commit, &x->seen);

    /* turn 1: the exchange accepts the order */
    qtr_event ev = order_update(QTR_OS_NEW, 0);
    assert_int_equal(efx_publish(f, e->exchange, &ev), QTR_OK);
    loop_turn(f);
    /* turn 2: a fill and the order's new state, as the paper exchange sends them */
    ev = efx_fill("BTCUSDT", "fill-1", QTR_DEC_INT(2), QTR_DEC_INT(100));
    assert_int_equal(efx_publish(f, e->exchange, &ev), QTR_OK);
    ev = order_update(QTR_OS_PARTIALLY_FILLED, QTR_DEC_INT(2));
    assert_int_equal(efx_publish(f, e->exchange, &ev), QTR_OK);
    loop_turn(f);
    /* turn 3: the rest */
    ev = efx_fill("BTCUSDT", "fill-2", QTR_DEC_INT(1), QTR_DEC_INT(100));
    assert_int_equal(efx_publish(f, e->exchange, &ev), QTR_OK);
    ev = order_update(QTR_OS_FILLED, QTR_DEC_INT(3));
    assert_int_equal(efx_publish(f, e->exchange, &ev), QTR_OK);
    loop_turn(f);
    assert_int_equal(qh_store_flush(e->store, 10000), QTR_OK);

    const sf_commits *s = &x->seen;
    long split = sf_first_split(s, 0);
    if (split >= 0)
        fail_msg("after commit %ld of %zu (seq %llu) a reader sees %lld positions and %lld orders apart from their "
                 "fills", split + 1, s->n, (unsigned long long)s->seq[split], (long long)s->position_splits[split],
                 (long long)s->order_splits[split]);
    /* one transaction per turn, however many records each turn made */
    assert_int_equal(s->n, 3);
    assert_int_equal(sf_sql_int(s->path, "SELECT count(*) FROM fills"), 2);
    assert_int_equal(sf_sql_int(s->path, "SELECT qty FROM positions WHERE symbol = 'BTCUSDT'"), QTR_DEC_INT(3));
    assert_int_equal(sf_sql_int(s->path, "SELECT filled_qty FROM orders WHERE client_id = 'test-order'"),
                     QTR_DEC_INT(3));
    assert_true(sf_sql_int(s->path, "SELECT count(*) FROM equity") >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_fill_and_its_records_are_one_transaction, setup, teardown),
    };
    return cmocka_run_group_tests_name("store_fill_records", tests, NULL, NULL);
}
