/* qh_exits_reconcile after a restart, role by role: a stop whose send never
 * landed is placed even though the trailing stop survived; a take-profit
 * rung is placed again only where it cannot have filled; a symbol that went
 * flat while qtr was down gets its resting exits cancelled. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "exits_fake.h"

#define D fake_dec

/* Long 0.5 BTCUSDT @ 200: stop at 198 (-1%), trailing stop activated at 206
 * (+3%) with a 1% callback, take-profits half at 204 (+2%), half at 208 (+4%). */
static qtr_exit_plan plan_all(void)
{
    qtr_exit_plan p = QTR_SIZED(qtr_exit_plan);
    p.price_tick = D("0.1");
    p.qty_step = D("0.001");
    p.base.stop_loss.bps = 100;
    p.base.trailing_activation.bps = 300;
    p.base.trailing_callback_bps = 100;
    p.base.n_take_profit = 2;
    p.base.take_profit[0] = (qtr_exit_tp){ .at = { .bps = 200 }, .share_bps = 5000 };
    p.base.take_profit[1] = (qtr_exit_tp){ .at = { .bps = 400 }, .share_bps = 5000 };
    return p;
}

static void restarted(fake_world *w, const char *qty)
{
    qtr_exit_plan p = plan_all();
    assert_int_equal(qh_exits_load_plan(w->m, "BTCUSDT", "ma_cross", &p, FAKE_T0 - 60000), QTR_OK);
    qh_exits_hold(w->m);
    w->f.pos.qty = D(qty);
    w->f.pos.entry_price = D("200");
}

static qtr_order_update resting(const char *cid, qtr_order_type type, const char *qty, const char *stop)
{
    qtr_order_update u;
    memset(&u, 0, sizeof u);
    qtr_strlcpy(u.symbol, "BTCUSDT", sizeof u.symbol);
    qtr_strlcpy(u.client_id, cid, sizeof u.client_id);
    u.type = type;
    u.side = QTR_SIDE_SELL;
    u.status = QTR_OS_NEW;
    u.qty = D(qty);
    u.stop_price = stop ? D(stop) : 0;
    u.reduce_only = true;
    if (type == QTR_ORDER_TRAILING_STOP_MARKET) {
        u.activation_price = D("206");
        u.callback_bps = 100;
    }
    return u;
}

/* The stop's send never reached the exchange; the trailing stop (not yet
 * active) and both take-profits rest. Before the fix the trailing stop
 * counted as "a stop" and nothing was placed. */
static void test_lost_stop_placed_beside_inactive_trailing(void **state)
{
    fake_world *w = *state;
    restarted(w, "0.5");
    qtr_order_update open[3] = {
        resting("qtr-a-e2", QTR_ORDER_TRAILING_STOP_MARKET, "0.5", NULL),
        resting("qtr-a-e3", QTR_ORDER_TAKE_PROFIT_MARKET, "0.25", "204"),
        resting("qtr-a-e4", QTR_ORDER_TAKE_PROFIT_MARKET, "0.25", "208"),
    };
    qh_exits_reconcile(w->m, &w->f.pos, 1, open, 3);
    assert_int_equal(w->f.n_sent, 1);
    assert_int_equal(w->f.sent[0].type, QTR_ORDER_STOP_MARKET);
    assert_int_equal(w->f.sent[0].stop_price, D("198"));
    assert_int_equal(w->f.sent[0].qty, D("0.5"));
    assert_int_equal(w->f.sent[0].side, QTR_SIDE_SELL);
    assert_true(w->f.sent[0].reduce_only);
    assert_int_equal(w->f.n_cancelled, 0);
    qh_exit_live live[8];
    assert_int_equal(qh_exits_live(w->m, "BTCUSDT", live, 8), 4);
}

/* The trailing stop's send was lost, the stop rests: the trailing stop is
 * placed, the stop not doubled. */
static void test_lost_trailing_placed_beside_stop(void **state)
{
    fake_world *w = *state;
    restarted(w, "0.5");
    qtr_order_update open[3] = {
        resting("qtr-a-e1", QTR_ORDER_STOP_MARKET, "0.5", "198"),
        resting("qtr-a-e3", QTR_ORDER_TAKE_PROFIT_MARKET, "0.25", "204"),
        resting("qtr-a-e4", QTR_ORDER_TAKE_PROFIT_MARKET, "0.25", "208"),
    };
    qh_exits_reconcile(w->m, &w->f.pos, 1, open, 3);
    assert_int_equal(w->f.n_sent, 1);
    assert_int_equal(w->f.sent[0].type, QTR_ORDER_TRAILING_STOP_MARKET);
    assert_int_equal(w->f.sent[0].activation_price, D("206"));
    assert_int_equal(w->f.sent[0].callback_bps, 100);
    assert_true(w->f.sent[0].reduce_only);
    assert_int_equal(w->f.n_cancelled, 0);
}

/* The first rung (204) filled while qtr was down: the position is 0.25 and
 * the second rung rests. The first is not placed again (it filled). */
static void test_filled_rung_not_placed_again(void **state)
{
    fake_world *w = *state;
    restarted(w, "0.25");
    qtr_order_update open[3] = {
        resting("qtr-a-e1", QTR_ORDER_STOP_MARKET, "0.5", "198"),
        resting("qtr-a-e2", QTR_ORDER_TRAILING_STOP_MARKET, "0.5", NULL),
        resting("qtr-a-e4", QTR_ORDER_TAKE_PROFIT_MARKET, "0.25", "208"),
    };
    qh_exits_reconcile(w->m, &w->f.pos, 1, open, 3);
    assert_int_equal(w->f.n_sent, 0);
    assert_int_equal(w->f.n_cancelled, 0);
}

/* The second rung's send never landed, the first (nearer) rests: the price
 * never reached 204, so 208 cannot have filled: it is placed, cut to what
 * the resting take-profit leaves of the position. */
static void test_lost_far_rung_placed(void **state)
{
    fake_world *w = *state;
    restarted(w, "0.5");
    qtr_order_update open[3] = {
        resting("qtr-a-e1", QTR_ORDER_STOP_MARKET, "0.5", "198"),
        resting("qtr-a-e2", QTR_ORDER_TRAILING_STOP_MARKET, "0.5", NULL),
        resting("qtr-a-e3", QTR_ORDER_TAKE_PROFIT_MARKET, "0.3", "204"),
    };
    qh_exits_reconcile(w->m, &w->f.pos, 1, open, 3);
    assert_int_equal(w->f.n_sent, 1);
    assert_int_equal(w->f.sent[0].type, QTR_ORDER_TAKE_PROFIT_MARKET);
    assert_int_equal(w->f.sent[0].stop_price, D("208"));
    assert_int_equal(w->f.sent[0].qty, D("0.2"));   /* 0.5 - 0.3 resting, not the rung's 0.25 */
    assert_true(w->f.sent[0].reduce_only);
}

/* An entry filled while qtr was down: the position is 0.8, the resting
 * stop and trailing stop cover the 0.5 it was. As for any change of size,
 * everything resting is cancelled and the plan placed for 0.8. */
static void test_grown_position_gets_exits_afresh(void **state)
{
    fake_world *w = *state;
    restarted(w, "0.8");
    qtr_order_update open[4] = {
        resting("qtr-a-e1", QTR_ORDER_STOP_MARKET, "0.5", "198"),
        resting("qtr-a-e2", QTR_ORDER_TRAILING_STOP_MARKET, "0.5", NULL),
        resting("qtr-a-e3", QTR_ORDER_TAKE_PROFIT_MARKET, "0.25", "204"),
        resting("qtr-a-e4", QTR_ORDER_TAKE_PROFIT_MARKET, "0.25", "208"),
    };
    qh_exits_reconcile(w->m, &w->f.pos, 1, open, 4);
    assert_int_equal(w->f.n_cancelled, 4);
    assert_int_equal(w->f.n_sent, 4);
    const qtr_order_intent *stop = fake_find(&w->f, 0, QTR_ORDER_STOP_MARKET);
    assert_non_null(stop);
    assert_int_equal(stop->qty, D("0.8"));
    assert_int_equal(fake_find(&w->f, 0, QTR_ORDER_TRAILING_STOP_MARKET)->qty, D("0.8"));
    assert_int_equal(fake_find(&w->f, 0, QTR_ORDER_TAKE_PROFIT_MARKET)->qty, D("0.4"));
}

/* Nothing rests at all: every exit of the plan is placed (as before). */
static void test_nothing_resting_places_the_plan(void **state)
{
    fake_world *w = *state;
    restarted(w, "0.5");
    qh_exits_reconcile(w->m, &w->f.pos, 1, NULL, 0);
    assert_int_equal(fake_count(&w->f, 0, QTR_ORDER_STOP_MARKET), 1);
    assert_int_equal(fake_count(&w->f, 0, QTR_ORDER_TRAILING_STOP_MARKET), 1);
    assert_int_equal(fake_count(&w->f, 0, QTR_ORDER_TAKE_PROFIT_MARKET), 2);
    assert_int_equal(w->f.n_sent, 4);
}

/* The stop closed the position while qtr was down: the trailing stop and the
 * take-profits still rest, and are cancelled (they would act on the next
 * position); nothing is placed, and the store learns the position is flat.
 * The symbol's position is reported flat, or not at all. */
static void flat_case(fake_world *w, bool listed)
{
    restarted(w, "0");
    qtr_order_update open[4] = {
        resting("qtr-a-e2", QTR_ORDER_TRAILING_STOP_MARKET, "0.5", NULL),
        resting("qtr-a-e3", QTR_ORDER_TAKE_PROFIT_MARKET, "0.25", "204"),
        resting("qtr-a-e4", QTR_ORDER_TAKE_PROFIT_MARKET, "0.25", "208"),
        resting("qtr-a-x9", QTR_ORDER_STOP_MARKET, "0.5", "198"),   /* not an exit: the ESS's */
    };
    qh_exits_reconcile(w->m, &w->f.pos, listed ? 1 : 0, open, 4);
    assert_int_equal(w->f.n_sent, 0);
    assert_int_equal(w->f.n_cancelled, 3);
    assert_true(fake_was_cancelled(&w->f, "qtr-a-e2"));
    assert_true(fake_was_cancelled(&w->f, "qtr-a-e3"));
    assert_true(fake_was_cancelled(&w->f, "qtr-a-e4"));
    assert_true(w->f.has_stored);
    assert_int_equal(w->f.stored_opened, 0);
    /* their cancellations come back: nothing is placed again */
    for (int i = 0; i < 3; i++) {
        qtr_order_update u = open[i];
        u.status = QTR_OS_CANCELED;
        qh_exits_on_order_update(w->m, &u);
    }
    assert_int_equal(w->f.n_sent, 0);
    qh_exit_live live[8];
    assert_int_equal(qh_exits_live(w->m, "BTCUSDT", live, 8), 0);
}

static void test_flat_position_cancels_resting_exits(void **state) { flat_case(*state, true); }
static void test_unlisted_position_cancels_resting_exits(void **state) { flat_case(*state, false); }

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fake_world_setup, fake_world_teardown)
    const struct CMUnitTest tests[] = {
        T(test_lost_stop_placed_beside_inactive_trailing),
        T(test_lost_trailing_placed_beside_stop),
        T(test_filled_rung_not_placed_again),
        T(test_lost_far_rung_placed),
        T(test_grown_position_gets_exits_afresh),
        T(test_nothing_resting_places_the_plan),
        T(test_flat_position_cancels_resting_exits),
        T(test_unlisted_position_cancels_resting_exits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
