/* The exit manager over fake engine services: exits follow the position,
 * own fills leave the rest, flat cancels all, the time stop fires at the
 * right time, regimes pick their parameters, cancelled exits come back,
 * and every order it sends is reduce-only. */
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

static qtr_exit_plan full_plan(void)
{
    qtr_exit_plan p = QTR_SIZED(qtr_exit_plan);
    p.qty_step = D("0.001");
    p.price_tick = D("0.1");
    p.base.stop_loss.bps = 200;
    p.base.n_take_profit = 2;
    p.base.take_profit[0] = (qtr_exit_tp){ .at = { .bps = 200 }, .share_bps = 5000 };
    p.base.take_profit[1] = (qtr_exit_tp){ .at = { .bps = 400 }, .share_bps = 5000 };
    p.base.trailing_activation.bps = 100;
    p.base.trailing_callback_bps = 100;
    return p;
}

/* The position moves as the engine would publish it. */
static void position(world *w, const char *qty, const char *entry)
{
    w->f.pos.qty = D(qty);
    w->f.pos.entry_price = D(entry);
    qh_exits_on_position(w->m, &w->f.pos);
}

static void fill(world *w, const qtr_order_intent *o, const char *qty)
{
    qtr_fill f;
    memset(&f, 0, sizeof f);
    qtr_strlcpy(f.symbol, o->symbol, sizeof f.symbol);
    qtr_strlcpy(f.client_id, o->client_id, sizeof f.client_id);
    f.side = o->side;
    f.qty = D(qty);
    qh_exits_on_fill(w->m, &f);
}

static void update(world *w, const qtr_order_intent *o, qtr_order_status st)
{
    qtr_order_update u;
    qtr_order_update_for_intent(o, st, st == QTR_OS_CANCELED ? "canceled" : "", w->f.now, &u);
    qh_exits_on_order_update(w->m, &u);
}

static void assert_all_reduce_only(const fake *f)
{
    for (size_t i = 0; i < f->n_sent; i++) {
        assert_true(f->sent[i].reduce_only);
        assert_true(qh_exit_client_id_is_exit(f->sent[i].client_id));
    }
}

static void test_open_places_every_exit(void **state)
{
    world *w = *state;
    qtr_exit_plan p = full_plan();
    char err[256] = "";
    assert_int_equal(qh_exits_set_plan(w->m, "BTCUSDT", "ma_cross", &p, err, sizeof err), QTR_OK);
    assert_int_equal(w->f.n_sent, 0);                  /* flat: nothing yet */
    position(w, "0.003", "100");
    /* stop 98, TP 0.001 @ 102 and 0.002 @ 104 (cumulative 50% of 0.003 ->
     * 0.001), trailing from 101 at 1% */
    assert_int_equal(w->f.n_sent, 4);
    assert_int_equal(fake_find(&w->f, 0, QTR_ORDER_STOP_MARKET)->stop_price, D("98"));
    assert_int_equal(w->f.sent[1].qty, D("0.001"));
    assert_int_equal(w->f.sent[1].stop_price, D("102"));
    assert_int_equal(w->f.sent[2].qty, D("0.002"));
    assert_int_equal(w->f.sent[2].stop_price, D("104"));
    const qtr_order_intent *tr = fake_find(&w->f, 0, QTR_ORDER_TRAILING_STOP_MARKET);
    assert_int_equal(tr->activation_price, D("101"));
    assert_int_equal(tr->callback_bps, 100);
    assert_int_equal(tr->qty, D("0.003"));
    /* a mark or funding update of the same position changes nothing */
    w->f.pos.mark_price = D("100.5");
    qh_exits_on_position(w->m, &w->f.pos);
    assert_int_equal(w->f.n_sent, 4);
    assert_int_equal(w->f.n_cancelled, 0);
    assert_all_reduce_only(&w->f);
}

/* TP1 fills: the stop, TP2 and the trailing stay (reduce-only). Then the
 * strategy adds to the position: everything is replaced for the new size.
 * Then flat: every live exit is cancelled. */
static void test_follows_the_position(void **state)
{
    world *w = *state;
    qtr_exit_plan p = full_plan();
    assert_int_equal(qh_exits_set_plan(w->m, "BTCUSDT", "s", &p, NULL, 0), QTR_OK);
    position(w, "0.003", "100");
    qtr_order_intent tp1 = w->f.sent[1];
    fill(w, &tp1, "0.001");
    position(w, "0.002", "100");
    update(w, &tp1, QTR_OS_FILLED);
    assert_int_equal(w->f.n_sent, 4);
    assert_int_equal(w->f.n_cancelled, 0);
    qh_exit_live live[16];
    assert_int_equal(qh_exits_live(w->m, "BTCUSDT", live, 16), 3);

    /* an entry adds 0.002 @ 110: average 105, new size 0.004 */
    position(w, "0.004", "105");
    assert_int_equal(w->f.n_cancelled, 3);
    assert_int_equal(w->f.n_sent, 8);
    assert_int_equal(fake_find(&w->f, 4, QTR_ORDER_STOP_MARKET)->stop_price, D("102.9"));   /* 105 * 0.98 */
    assert_int_equal(fake_find(&w->f, 4, QTR_ORDER_STOP_MARKET)->qty, D("0.004"));

    size_t before = w->f.n_cancelled;
    position(w, "0", "0");
    assert_int_equal(w->f.n_cancelled - before, 4);
    for (size_t i = 4; i < 8; i++) assert_true(fake_was_cancelled(&w->f, w->f.sent[i].client_id));
    assert_all_reduce_only(&w->f);
}

/* Time stop: 90 s after the entry (the clock's, as a backtest moves it), the
 * exits go and a reduce-only market order closes what is left; not before. */
static void test_time_stop(void **state)
{
    world *w = *state;
    qtr_exit_plan p = QTR_SIZED(qtr_exit_plan);
    p.base.stop_loss.bps = 100;
    p.base.time_stop_ms = 90000;
    assert_int_equal(qh_exits_set_plan(w->m, "BTCUSDT", "s", &p, NULL, 0), QTR_OK);
    w->f.now = T0 + 5000;
    position(w, "-0.5", "200");
    assert_int_equal(w->f.n_sent, 1);
    fake_advance(&w->f, T0 + 5000 + 89999);
    assert_int_equal(w->f.n_sent, 1);
    fake_advance(&w->f, T0 + 5000 + 90000);
    assert_int_equal(w->f.n_sent, 2);
    const qtr_order_intent *close = fake_find(&w->f, 1, QTR_ORDER_MARKET);
    assert_non_null(close);
    assert_int_equal(close->side, QTR_SIDE_BUY);
    assert_int_equal(close->qty, D("0.5"));
    assert_true(fake_was_cancelled(&w->f, w->f.sent[0].client_id));
    assert_int_equal(w->f.stored_opened, T0 + 5000);    /* kept for a restart */
    fake_advance(&w->f, T0 + 500000);
    assert_int_equal(w->f.n_sent, 2);                   /* once */
    assert_all_reduce_only(&w->f);
}

/* The regime at placement picks the parameters: volatile widens the stop. */
static void test_regime_dependent(void **state)
{
    world *w = *state;
    qtr_exit_plan p = QTR_SIZED(qtr_exit_plan);
    p.price_tick = D("0.1");
    p.base.stop_loss.bps = 100;
    p.regime[QTR_REGIME_VOLATILE].stop_loss.bps = 300;
    p.regime[QTR_REGIME_TREND_UP].stop_loss.bps = 150;
    p.regime_mask = (1u << QTR_REGIME_VOLATILE) | (1u << QTR_REGIME_TREND_UP);
    assert_int_equal(qh_exits_set_plan(w->m, "BTCUSDT", "s", &p, NULL, 0), QTR_OK);
    qh_exits_set_regime(w->m, "BTCUSDT", QTR_REGIME_VOLATILE);
    position(w, "1", "100");
    assert_int_equal(w->f.sent[0].stop_price, D("97"));
    position(w, "0", "0");
    qh_exits_set_regime(w->m, "BTCUSDT", QTR_REGIME_RANGE);   /* no override: the base */
    position(w, "1", "100");
    assert_int_equal(w->f.sent[1].stop_price, D("99"));
    /* a later regime change does not move exits already placed */
    qh_exits_set_regime(w->m, "BTCUSDT", QTR_REGIME_TREND_UP);
    assert_int_equal(w->f.n_sent, 2);
    position(w, "0", "0");
    position(w, "1", "100");
    assert_int_equal(w->f.sent[2].stop_price, D("98.5"));
}

/* With the host's regime service, the regime is asked at each placement. */
static void test_regime_from_the_host(void **state)
{
    world *w = *state;
    qh_exits_free(w->m);
    qh_exit_services sv = fake_services(&w->f);
    sv.regime = fake_regime;
    w->m = qh_exits_new(&sv);
    qtr_exit_plan p = QTR_SIZED(qtr_exit_plan);
    p.price_tick = D("0.1");
    p.base.stop_loss.bps = 100;
    p.regime[QTR_REGIME_TREND_DOWN].stop_loss.bps = 50;
    p.regime_mask = 1u << QTR_REGIME_TREND_DOWN;
    assert_int_equal(qh_exits_set_plan(w->m, "BTCUSDT", "s", &p, NULL, 0), QTR_OK);
    w->f.regime = QTR_REGIME_TREND_DOWN;
    position(w, "-1", "100");
    assert_int_equal(w->f.sent[0].stop_price, D("100.5"));
    position(w, "0", "0");
    w->f.regime = QTR_REGIME_UNKNOWN;
    position(w, "-1", "100");
    assert_int_equal(w->f.sent[1].stop_price, D("101"));
}

/* A plan without regime parameters never asks the regime (a service a
 * plugin must declare, QTR_NEEDS_REGIME): its state says UNKNOWN, whatever
 * the symbol's regime, so it reads the same in every mode. */
static void test_regime_not_asked_without_regime_parameters(void **state)
{
    world *w = *state;
    qh_exits_free(w->m);
    qh_exit_services sv = fake_services(&w->f);
    sv.regime = fake_regime;
    w->m = qh_exits_new(&sv);
    w->f.regime = QTR_REGIME_VOLATILE;
    qtr_exit_plan p = QTR_SIZED(qtr_exit_plan);
    p.price_tick = D("0.1");
    p.base.stop_loss.bps = 100;
    assert_int_equal(qh_exits_set_plan(w->m, "BTCUSDT", "s", &p, NULL, 0), QTR_OK);
    position(w, "1", "100");
    assert_int_equal(w->f.sent[0].stop_price, D("99"));
    assert_int_equal(w->f.regime_asked, 0);
    qtr_exit_state st[2];
    assert_int_equal(qh_exits_list(w->m, st, 2), 1);
    assert_int_equal(st[0].regime, QTR_REGIME_UNKNOWN);
    assert_false(st[0].regime_override);
    /* with regime parameters it is asked at the placement */
    position(w, "0", "0");
    p.regime[QTR_REGIME_VOLATILE].stop_loss.bps = 300;
    p.regime_mask = 1u << QTR_REGIME_VOLATILE;
    assert_int_equal(qh_exits_set_plan(w->m, "BTCUSDT", "s", &p, NULL, 0), QTR_OK);
    position(w, "1", "100");
    assert_int_equal(w->f.regime_asked, 1);
    assert_int_equal(qh_exits_list(w->m, st, 2), 1);
    assert_int_equal(st[0].regime, QTR_REGIME_VOLATILE);
    assert_true(st[0].regime_override);
}

/* A stop cancelled by someone else (the ESS's cancel-all) while the position
 * is open is placed again, at most QH_EXITS_REPLACE_MAX times; one the
 * manager cancelled itself, or a rejected one, is not. */
static void test_cancelled_stop_comes_back(void **state)
{
    world *w = *state;
    qtr_exit_plan p = QTR_SIZED(qtr_exit_plan);
    p.base.stop_loss.bps = 100;
    assert_int_equal(qh_exits_set_plan(w->m, "BTCUSDT", "s", &p, NULL, 0), QTR_OK);
    position(w, "1", "100");
    for (int i = 0; i < QH_EXITS_REPLACE_MAX; i++) {
        qtr_order_intent stop = w->f.sent[w->f.n_sent - 1];
        update(w, &stop, QTR_OS_CANCELED);
        assert_int_equal(w->f.n_sent, (size_t)i + 2);
        const qtr_order_intent *again = &w->f.sent[w->f.n_sent - 1];
        assert_int_equal(again->type, QTR_ORDER_STOP_MARKET);
        assert_int_equal(again->stop_price, D("99"));
        assert_string_not_equal(again->client_id, stop.client_id);
    }
    qtr_order_intent last = w->f.sent[w->f.n_sent - 1];
    update(w, &last, QTR_OS_CANCELED);
    assert_int_equal(w->f.n_sent, (size_t)QH_EXITS_REPLACE_MAX + 1);   /* bounded */

    position(w, "0", "0");
    position(w, "1", "100");
    size_t n = w->f.n_sent;
    qtr_order_intent stop = w->f.sent[n - 1];
    update(w, &stop, QTR_OS_REJECTED);
    assert_int_equal(w->f.n_sent, n);                  /* rejected: not retried */
    assert_all_reduce_only(&w->f);
}

/* Exits the order path refused (the exchange not ready after a start) are
 * placed again by the periodic check, a bounded number of times; a position
 * with live exits is left alone. */
static void test_check_places_refused_exits(void **state)
{
    world *w = *state;
    qtr_exit_plan p = QTR_SIZED(qtr_exit_plan);
    p.base.stop_loss.bps = 100;
    assert_int_equal(qh_exits_set_plan(w->m, "BTCUSDT", "s", &p, NULL, 0), QTR_OK);
    w->f.submit_rc = QTR_EIO;
    position(w, "1", "100");
    assert_int_equal(w->f.n_sent, 0);
    qh_exit_live live[4];
    assert_int_equal(qh_exits_live(w->m, "BTCUSDT", live, 4), 0);
    qh_exits_check(w->m);                                /* still refused */
    assert_int_equal(w->f.n_sent, 0);
    w->f.submit_rc = QTR_OK;
    qh_exits_check(w->m);
    assert_int_equal(w->f.n_sent, 1);
    assert_int_equal(w->f.sent[0].stop_price, D("99"));
    qh_exits_check(w->m);                                /* live now: nothing more */
    assert_int_equal(w->f.n_sent, 1);
    /* bounded: refused every time, tried QH_EXITS_REPLACE_MAX times in all */
    position(w, "0", "0");
    w->f.submit_rc = QTR_EIO;
    position(w, "1", "100");
    for (int i = 0; i < 3 * QH_EXITS_REPLACE_MAX; i++) qh_exits_check(w->m);
    w->f.submit_rc = QTR_OK;
    qh_exits_check(w->m);
    assert_int_equal(w->f.n_sent, 1);
}

/* Setting a plan while a position is open places the exits at once; a plan
 * breaking a rule is refused with the field named; clear cancels. */
static void test_set_while_open_and_clear(void **state)
{
    world *w = *state;
    w->f.pos.qty = D("2");
    w->f.pos.entry_price = D("50");
    qtr_exit_plan bad = QTR_SIZED(qtr_exit_plan);
    bad.base.trailing_callback_bps = 5;
    char err[256] = "";
    assert_int_equal(qh_exits_set_plan(w->m, "BTCUSDT", "s", &bad, err, sizeof err), QTR_EINVAL);
    assert_non_null(strstr(err, "trailing_callback_bps"));
    assert_int_equal(w->f.n_sent, 0);
    qtr_exit_plan p = QTR_SIZED(qtr_exit_plan);
    p.base.trailing_callback_bps = 250;
    assert_int_equal(qh_exits_set_plan(w->m, "BTCUSDT", "s", &p, err, sizeof err), QTR_OK);
    assert_int_equal(w->f.n_sent, 1);
    assert_int_equal(w->f.sent[0].type, QTR_ORDER_TRAILING_STOP_MARKET);
    assert_int_equal(w->f.sent[0].activation_price, 0);   /* active at once */
    assert_true(w->f.has_stored);
    assert_int_equal(qh_exits_clear_plan(w->m, "BTCUSDT"), QTR_OK);
    assert_true(fake_was_cancelled(&w->f, w->f.sent[0].client_id));
    assert_false(w->f.has_stored);
    assert_int_equal(qh_exits_clear_plan(w->m, "BTCUSDT"), QTR_ENOTFOUND);
}

/* Events name their symbol by its field: the manager finds the right one
 * whichever it found last, symbols that are prefixes of each other are
 * told apart, and an event for a symbol without a plan does nothing, with
 * plans on other symbols or none at all. */
static void position_of(world *w, const char *symbol, const char *qty, const char *entry)
{
    qtr_position p = w->f.pos;
    memset(p.symbol, 0, sizeof p.symbol);
    qtr_strlcpy(p.symbol, symbol, sizeof p.symbol);
    p.qty = D(qty);
    p.entry_price = D(entry);
    qh_exits_on_position(w->m, &p);
}

static void test_events_find_their_own_symbol(void **state)
{
    world *w = *state;
    qtr_exit_plan p = full_plan();
    position_of(w, "BTCUSDT", "0.003", "100");   /* no plan anywhere yet */
    assert_int_equal(w->f.n_sent, 0);
    assert_int_equal(qh_exits_set_plan(w->m, "BTCUSDT", "s", &p, NULL, 0), QTR_OK);
    assert_int_equal(qh_exits_set_plan(w->m, "BTCUSDT2", "s", &p, NULL, 0), QTR_OK);
    assert_int_equal(qh_exits_set_plan(w->m, "BTC", "s", &p, NULL, 0), QTR_OK);
    position_of(w, "BTCUSDT2", "0.003", "100");
    assert_int_equal(w->f.n_sent, 4);
    position_of(w, "ETHUSDT", "0.003", "100");      /* no plan there */
    position_of(w, "BTCUSDT2X", "0.003", "100");
    assert_int_equal(w->f.n_sent, 4);
    position_of(w, "BTC", "-0.002", "50");
    assert_int_equal(w->f.n_sent, 8);
    for (size_t i = 4; i < 8; i++) assert_string_equal(w->f.sent[i].symbol, "BTC");
    position_of(w, "BTCUSDT", "0.004", "100");
    assert_int_equal(w->f.n_sent, 12);
    for (size_t i = 8; i < 12; i++) assert_string_equal(w->f.sent[i].symbol, "BTCUSDT");
    qh_exit_live live[16];
    assert_int_equal(qh_exits_live(w->m, "BTCUSDT2", live, 16), 4);
    assert_int_equal(qh_exits_live(w->m, "BTC", live, 16), 4);
    assert_int_equal(qh_exits_live(w->m, "BTCUSDT", live, 16), 4);
    assert_int_equal(qh_exits_live(w->m, "BTCU", live, 16), 0);
    /* BTCUSDT2 goes flat after BTCUSDT was found last: only its exits go */
    position_of(w, "BTCUSDT2", "0", "0");
    assert_int_equal(w->f.n_cancelled, 4);
    for (size_t i = 0; i < 4; i++) assert_true(fake_was_cancelled(&w->f, w->f.sent[i].client_id));
    assert_int_equal(qh_exits_live(w->m, "BTCUSDT", live, 16), 4);
    assert_int_equal(qh_exits_live(w->m, "BTC", live, 16), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_places_every_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follows_the_position, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_regime_dependent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_regime_from_the_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_regime_not_asked_without_regime_parameters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancelled_stop_comes_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_while_open_and_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_places_refused_exits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_find_their_own_symbol, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
