/* What the exit manager shows of its plans (qh_exits_list, behind
 * qtr_host.list_exit_plans): the parameters in force, the position the
 * exits cover, the orders resting now with their client ids and roles,
 * whether a trailing stop has activated, the time stop's deadline, the
 * regime override, and the hold before the first reconcile. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "exits_fake.h"

#define D fake_dec
#define T0 FAKE_T0
#define setup fake_world_setup
#define teardown fake_world_teardown

typedef fake_world world;

/* stop 2%, take-profit 30% at +2% and 70% at +4%, trailing 1% from +1%,
 * time stop one hour, on the mark price */
static qtr_exit_plan plan(void)
{
    qtr_exit_plan p = QTR_SIZED(qtr_exit_plan);
    p.working_type = QTR_WORKING_MARK;
    p.qty_step = D("0.001");
    p.price_tick = D("0.1");
    p.base.stop_loss.bps = 200;
    p.base.n_take_profit = 2;
    p.base.take_profit[0] = (qtr_exit_tp){ .at = { .bps = 200 }, .share_bps = 3000 };
    p.base.take_profit[1] = (qtr_exit_tp){ .at = { .bps = 400 }, .share_bps = 7000 };
    p.base.trailing_activation.bps = 100;
    p.base.trailing_callback_bps = 100;
    p.base.time_stop_ms = 3600 * 1000;
    return p;
}

static void position(world *w, const char *qty, const char *entry)
{
    w->f.pos.qty = D(qty);
    w->f.pos.entry_price = D(entry);
    qh_exits_on_position(w->m, &w->f.pos);
}

static const qtr_exit_order_ref *order_of(const qtr_exit_state *s, qtr_exit_role role, uint32_t level)
{
    for (uint32_t i = 0; i < s->n_orders; i++)
        if (s->orders[i].role == role && s->orders[i].level == level) return &s->orders[i];
    return NULL;
}

static void test_no_plan_lists_nothing(void **state)
{
    world *w = *state;
    qtr_exit_state st[2];
    assert_int_equal(qh_exits_list(w->m, st, 2), 0);
    assert_int_equal(qh_exits_plan_count(w->m), 0);
    /* a symbol the manager only heard a regime for has no plan */
    qh_exits_set_regime(w->m, "ETHUSDT", QTR_REGIME_RANGE);
    assert_int_equal(qh_exits_list(w->m, st, 2), 0);
}

static void test_flat_plan(void **state)
{
    world *w = *state;
    qtr_exit_plan p = plan();
    assert_int_equal(qh_exits_set_plan(w->m, "BTCUSDT", "ma_cross", &p, NULL, 0), QTR_OK);
    qtr_exit_state st[2];
    assert_int_equal(qh_exits_list(w->m, st, 2), 1);
    assert_string_equal(st[0].symbol, "BTCUSDT");
    assert_string_equal(st[0].owner, "ma_cross");
    assert_int_equal(st[0].working_type, QTR_WORKING_MARK);
    assert_int_equal(st[0].params.stop_loss.bps, 200);
    assert_int_equal(st[0].params.n_take_profit, 2);
    assert_int_equal(st[0].params.take_profit[1].share_bps, 7000);
    assert_int_equal(st[0].params.trailing_callback_bps, 100);
    assert_int_equal(st[0].position_qty, 0);
    assert_int_equal(st[0].opened_ms, 0);
    assert_int_equal(st[0].time_stop_at_ms, 0);          /* no position: no deadline */
    assert_int_equal(st[0].n_orders, 0);
    assert_false(st[0].held);
    assert_false(st[0].regime_override);
}

static void test_open_position_shows_its_orders(void **state)
{
    world *w = *state;
    qtr_exit_plan p = plan();
    assert_int_equal(qh_exits_set_plan(w->m, "BTCUSDT", "ma_cross", &p, NULL, 0), QTR_OK);
    w->f.now = T0 + 5000;
    position(w, "0.010", "100");
    assert_int_equal(w->f.n_sent, 4);
    qtr_exit_state st[1];
    assert_int_equal(qh_exits_list(w->m, st, 1), 1);
    assert_int_equal(st[0].position_qty, D("0.010"));
    assert_int_equal(st[0].entry_price, D("100"));
    assert_int_equal(st[0].opened_ms, T0 + 5000);
    assert_int_equal(st[0].time_stop_at_ms, T0 + 5000 + 3600 * 1000);
    assert_int_equal(st[0].n_orders, 4);
    /* each resting order is the one sent, by client id */
    for (uint32_t i = 0; i < st[0].n_orders; i++)
        assert_string_equal(st[0].orders[i].client_id, w->f.sent[i].client_id);
    const qtr_exit_order_ref *sl = order_of(&st[0], QTR_EXIT_STOP_LOSS, 0);
    assert_non_null(sl);
    assert_int_equal(sl->stop_price, D("98"));
    assert_int_equal(sl->side, QTR_SIDE_SELL);
    assert_int_equal(sl->qty, D("0.010"));
    const qtr_exit_order_ref *tp1 = order_of(&st[0], QTR_EXIT_TAKE_PROFIT, 0);
    const qtr_exit_order_ref *tp2 = order_of(&st[0], QTR_EXIT_TAKE_PROFIT, 1);
    assert_non_null(tp1);
    assert_non_null(tp2);
    assert_int_equal(tp1->qty, D("0.003"));
    assert_int_equal(tp2->qty, D("0.007"));
    assert_int_equal(tp2->stop_price, D("104"));
    const qtr_exit_order_ref *tr = order_of(&st[0], QTR_EXIT_TRAILING, 0);
    assert_non_null(tr);
    assert_int_equal(tr->activation_price, D("101"));
    assert_int_equal(tr->callback_bps, 100);
    assert_false(tr->activated);
    assert_false(tr->cancelling);
    /* the position is closed: the orders are being cancelled, then gone */
    position(w, "0", "0");
    assert_int_equal(qh_exits_list(w->m, st, 1), 1);
    assert_int_equal(st[0].position_qty, 0);
    assert_int_equal(st[0].n_orders, 4);
    for (uint32_t i = 0; i < st[0].n_orders; i++) assert_true(st[0].orders[i].cancelling);
    for (size_t i = 0; i < 4; i++) {
        qtr_order_update u;
        qtr_order_update_for_intent(&w->f.sent[i], QTR_OS_CANCELED, NULL, w->f.now, &u);
        qh_exits_on_order_update(w->m, &u);
    }
    assert_int_equal(qh_exits_list(w->m, st, 1), 1);
    assert_int_equal(st[0].n_orders, 0);
}

/* The trailing stop activates when its working price reaches the
 * activation price, and stays activated; the last price does not count for
 * a stop on the mark, nor a price on the wrong side. */
static void test_trailing_activation_follows_the_working_price(void **state)
{
    world *w = *state;
    qtr_exit_plan p = plan();
    assert_int_equal(qh_exits_set_plan(w->m, "BTCUSDT", "s", &p, NULL, 0), QTR_OK);
    position(w, "0.010", "100");
    qtr_exit_state st[1];
    qh_exits_on_price(w->m, "BTCUSDT", QTR_WORKING_LAST, D("99"), D("105"));   /* last price: not its own */
    qh_exits_on_price(w->m, "BTCUSDT", QTR_WORKING_MARK, D("100.9"), D("100.9"));
    qh_exits_list(w->m, st, 1);
    assert_false(order_of(&st[0], QTR_EXIT_TRAILING, 0)->activated);
    qh_exits_on_price(w->m, "BTCUSDT", QTR_WORKING_MARK, D("101"), D("101"));
    qh_exits_list(w->m, st, 1);
    assert_true(order_of(&st[0], QTR_EXIT_TRAILING, 0)->activated);
    qh_exits_on_price(w->m, "BTCUSDT", QTR_WORKING_MARK, D("99"), D("99"));
    qh_exits_list(w->m, st, 1);
    assert_true(order_of(&st[0], QTR_EXIT_TRAILING, 0)->activated);   /* sticks */
    /* a short's trailing stop buys: it activates on the way down (99) */
    position(w, "0", "0");
    position(w, "-0.010", "100");
    qh_exits_list(w->m, st, 1);
    const qtr_exit_order_ref *tr = NULL;
    for (uint32_t i = 0; i < st[0].n_orders; i++)
        if (st[0].orders[i].role == QTR_EXIT_TRAILING && !st[0].orders[i].cancelling) tr = &st[0].orders[i];
    assert_non_null(tr);
    assert_int_equal(tr->side, QTR_SIDE_BUY);
    assert_int_equal(tr->activation_price, D("99"));
    assert_false(tr->activated);
    char cid[QTR_CLIENT_ID_MAX];
    qtr_strlcpy(cid, tr->client_id, sizeof cid);
    qh_exits_on_price(w->m, "BTCUSDT", QTR_WORKING_MARK, D("101"), D("101"));
    qh_exits_on_price(w->m, "BTCUSDT", QTR_WORKING_MARK, D("98.5"), D("98.5"));
    qh_exits_list(w->m, st, 1);
    for (uint32_t i = 0; i < st[0].n_orders; i++)
        if (!strcmp(st[0].orders[i].client_id, cid)) assert_true(st[0].orders[i].activated);
}

/* The count of trailing stops waiting for activation (which lets a price
 * skip the lookup) follows every way one comes and goes: placed, activated,
 * ended by the exchange, placed again. */
static void test_waiting_count_follows_the_trailing_stops(void **state)
{
    world *w = *state;
    qtr_exit_plan p = plan();
    assert_int_equal(qh_exits_set_plan(w->m, "BTCUSDT", "s", &p, NULL, 0), QTR_OK);
    assert_int_equal(qh_exits_waiting_trailing(w->m), 0);
    position(w, "0.010", "100");
    assert_int_equal(qh_exits_waiting_trailing(w->m), 1);
    const qtr_order_intent *tr = fake_find(&w->f, 0, QTR_ORDER_TRAILING_STOP_MARKET);
    assert_non_null(tr);
    /* cancelled by someone else: ended (0), then placed again (1) */
    qtr_order_update u;
    qtr_order_update_for_intent(tr, QTR_OS_CANCELED, NULL, w->f.now, &u);
    size_t sent = w->f.n_sent;
    qh_exits_on_order_update(w->m, &u);
    assert_int_equal(w->f.n_sent, sent + 1);
    assert_int_equal(qh_exits_waiting_trailing(w->m), 1);
    qh_exits_on_price(w->m, "BTCUSDT", QTR_WORKING_MARK, D("102"), D("102"));
    assert_int_equal(qh_exits_waiting_trailing(w->m), 0);
    qh_exits_on_price(w->m, "BTCUSDT", QTR_WORKING_MARK, D("103"), D("103"));   /* activated once only */
    assert_int_equal(qh_exits_waiting_trailing(w->m), 0);
    /* a new size: the activated one is cancelled, a new one waits */
    position(w, "0.020", "100");
    assert_int_equal(qh_exits_waiting_trailing(w->m), 1);
    /* flat: the waiting one is cancelled, and gone when the exchange says so */
    position(w, "0", "0");
    for (size_t i = 0; i < w->f.n_sent; i++) {
        qtr_order_update_for_intent(&w->f.sent[i], QTR_OS_CANCELED, NULL, w->f.now, &u);
        qh_exits_on_order_update(w->m, &u);
    }
    assert_int_equal(qh_exits_waiting_trailing(w->m), 0);
    qtr_exit_state st[1];
    qh_exits_list(w->m, st, 1);
    assert_int_equal(st[0].n_orders, 0);
}

/* No activation price: active from the start. */
static void test_trailing_without_activation_is_active(void **state)
{
    world *w = *state;
    qtr_exit_plan p = QTR_SIZED(qtr_exit_plan);
    p.base.trailing_callback_bps = 50;
    assert_int_equal(qh_exits_set_plan(w->m, "BTCUSDT", "s", &p, NULL, 0), QTR_OK);
    position(w, "1", "100");
    qtr_exit_state st[1];
    assert_int_equal(qh_exits_list(w->m, st, 1), 1);
    assert_int_equal(st[0].n_orders, 1);
    assert_int_equal(st[0].orders[0].role, QTR_EXIT_TRAILING);
    assert_true(st[0].orders[0].activated);
}

static void test_regime_override_in_force(void **state)
{
    world *w = *state;
    qtr_exit_plan p = plan();
    p.regime[QTR_REGIME_VOLATILE] = p.base;
    p.regime[QTR_REGIME_VOLATILE].stop_loss.bps = 500;
    p.regime_mask = 1u << QTR_REGIME_VOLATILE;
    w->f.regime = QTR_REGIME_VOLATILE;
    qh_exit_services sv = fake_services(&w->f);
    sv.regime = fake_regime;
    qh_exits_free(w->m);
    w->m = qh_exits_new(&sv);
    assert_int_equal(qh_exits_set_plan(w->m, "BTCUSDT", "s", &p, NULL, 0), QTR_OK);
    position(w, "1", "100");
    qtr_exit_state st[1];
    qh_exits_list(w->m, st, 1);
    assert_int_equal(st[0].regime, QTR_REGIME_VOLATILE);
    assert_true(st[0].regime_override);
    assert_int_equal(st[0].params.stop_loss.bps, 500);
    assert_int_equal(order_of(&st[0], QTR_EXIT_STOP_LOSS, 0)->stop_price, D("95"));
    position(w, "0", "0");
    w->f.regime = QTR_REGIME_RANGE;
    position(w, "1", "100");
    qh_exits_list(w->m, st, 1);
    assert_false(st[0].regime_override);
    assert_int_equal(st[0].params.stop_loss.bps, 200);
}

/* From start to the first reconcile, the plan shows it waits. */
static void test_held_until_the_first_reconcile(void **state)
{
    world *w = *state;
    qh_exits_hold(w->m);
    qtr_exit_plan p = plan();
    assert_int_equal(qh_exits_set_plan(w->m, "BTCUSDT", "s", &p, NULL, 0), QTR_OK);
    qtr_exit_state st[1];
    assert_int_equal(qh_exits_list(w->m, st, 1), 1);
    assert_true(st[0].held);
    qh_exits_reconcile(w->m, NULL, 0, NULL, 0);
    qh_exits_list(w->m, st, 1);
    assert_false(st[0].held);
}

/* cap bounds the answer; a cleared plan is not listed */
static void test_cap_and_clear(void **state)
{
    world *w = *state;
    qtr_exit_plan p = plan();
    assert_int_equal(qh_exits_set_plan(w->m, "BTCUSDT", "s", &p, NULL, 0), QTR_OK);
    assert_int_equal(qh_exits_set_plan(w->m, "ETHUSDT", "s", &p, NULL, 0), QTR_OK);
    assert_int_equal(qh_exits_set_plan(w->m, "XRPUSDT", "s", &p, NULL, 0), QTR_OK);
    qtr_exit_state st[3];
    memset(st, 0x5a, sizeof st);
    assert_int_equal(qh_exits_list(w->m, st, 2), 2);
    assert_string_equal(st[0].symbol, "BTCUSDT");
    assert_string_equal(st[1].symbol, "ETHUSDT");
    assert_int_equal(((unsigned char *)&st[2])[0], 0x5a);   /* nothing past cap */
    assert_int_equal(qh_exits_clear_plan(w->m, "ETHUSDT"), QTR_OK);
    assert_int_equal(qh_exits_plan_count(w->m), 2);
    assert_int_equal(qh_exits_list(w->m, st, 3), 2);
    assert_string_equal(st[1].symbol, "XRPUSDT");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_plan_lists_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flat_plan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_position_shows_its_orders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trailing_activation_follows_the_working_price, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trailing_without_activation_is_active, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waiting_count_follows_the_trailing_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_regime_override_in_force, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_until_the_first_reconcile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cap_and_clear, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
