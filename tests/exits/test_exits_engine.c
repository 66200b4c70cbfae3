/* The exit manager inside the real engine (tests/engine's fixture: a live
 * engine over a recording exchange and a trade store): exits go through
 * the order path as reduce-only orders, still pass while the ESS is
 * tripped (entries do not), come back after the ESS's cancel-all, and a
 * restart re-places a missing stop from the stored plan without doubling
 * one that is still open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <string.h>

#include "engine_fixture.h"
#include "exits/exit_manager.h"

#define SYM "BTCUSDT"

static void start(efx *f)
{
    char err[256] = "";
    assert_int_equal(qh_engine_start(f->e, err, sizeof err), 0);
}

static void set_plan(efx *f)
{
    qh_plugin_rt *s = efx_plugin(f, "quiet");
    qtr_exit_plan p = QTR_SIZED(qtr_exit_plan);
    p.price_tick = QTR_DEC_INT(1);
    p.base.stop_loss.bps = 500;          /* 5% under an entry at 100: 95 */
    p.base.trailing_callback_bps = 100;
    char err[256] = "";
    assert_int_equal(f->e->api.set_exit_plan(&s->ctx, SYM, &p, err, sizeof err), QTR_OK);
}

static size_t count(const fx_exchange *x, size_t from, qtr_order_type type)
{
    size_t n = 0;
    for (size_t i = from; i < x->n_orders; i++) n += x->orders[i].type == type;
    return n;
}

static const qtr_order_intent *last_of(const fx_exchange *x, qtr_order_type type)
{
    for (size_t i = x->n_orders; i > 0; i--)
        if (x->orders[i - 1].type == type) return &x->orders[i - 1];
    return NULL;
}

static void open_long(efx *f)
{
    efx_price(f, SYM, QTR_DEC_INT(100));
    qtr_event fill = efx_fill(SYM, "entry-1", QTR_DEC_INT(1), QTR_DEC_INT(100));
    assert_int_equal(efx_publish(f, f->e->exchange, &fill), QTR_OK);
}

static void ess_trip_keeps_exits(void **state)
{
    (void)state;
    efx *f = efx_new();
    start(f);
    set_plan(f);
    fx_exchange *x = efx_exchange(f);
    open_long(f);
    assert_int_equal(count(x, 0, QTR_ORDER_STOP_MARKET), 1);
    assert_int_equal(count(x, 0, QTR_ORDER_TRAILING_STOP_MARKET), 1);
    const qtr_order_intent *stop = last_of(x, QTR_ORDER_STOP_MARKET);
    assert_true(stop->reduce_only);
    assert_int_equal(stop->side, QTR_SIDE_SELL);
    assert_int_equal(stop->stop_price, QTR_DEC_INT(95));
    assert_int_equal(stop->qty, QTR_DEC_INT(1));
    assert_true(qh_exit_client_id_is_exit(stop->client_id));
    char stop_id[QTR_CLIENT_ID_MAX];
    qtr_strlcpy(stop_id, stop->client_id, sizeof stop_id);

    /* the ESS trips and cancels every open order; the exchange reports the
     * stop cancelled: the manager places it again, and the order path lets
     * it through (reduce-only) while an entry is refused */
    size_t before_cancels = x->cancels + x->cancel_alls;
    assert_int_equal(qh_ess_trip_host(f->e->ess, "test trip", qh_clock_now_ms(f->e->clock)), 0);
    assert_int_not_equal(qh_ess_state(f->e->ess), QTR_ESS_ARMED);   /* tripped, or its cooldown */
    assert_true(x->cancels + x->cancel_alls > before_cancels);
    size_t n = x->n_orders;
    qtr_event ev = { .type = QTR_EV_ORDER_UPDATE };
    qtr_order_update *u = &ev.u.order_update;
    qtr_strlcpy(u->symbol, SYM, sizeof u->symbol);
    qtr_strlcpy(u->client_id, stop_id, sizeof u->client_id);
    u->side = QTR_SIDE_SELL;
    u->type = QTR_ORDER_STOP_MARKET;
    u->status = QTR_OS_CANCELED;
    u->qty = QTR_DEC_INT(1);
    u->reduce_only = true;
    qtr_strlcpy(u->reason, "ess cancel-all", sizeof u->reason);
    assert_int_equal(efx_publish(f, f->e->exchange, &ev), QTR_OK);
    assert_int_equal(count(x, n, QTR_ORDER_STOP_MARKET), 1);
    assert_true(last_of(x, QTR_ORDER_STOP_MARKET)->reduce_only);
    assert_string_not_equal(last_of(x, QTR_ORDER_STOP_MARKET)->client_id, stop_id);
    qtr_order_intent entry = efx_market_buy(SYM);
    n = x->n_orders;
    assert_int_not_equal(qh_pipeline_submit_order(f->e, "test", &entry, NULL), QTR_OK);
    assert_int_equal(x->n_orders, n);
    efx_free(f);
}

/* The exchange acknowledges every order sent from index `from` (NEW). */
static void ack_new(efx *f, size_t from)
{
    fx_exchange *x = efx_exchange(f);
    for (size_t i = from; i < x->n_orders; i++) {
        const qtr_order_intent *o = &x->orders[i];
        qtr_event ev = { .type = QTR_EV_ORDER_UPDATE };
        qtr_order_update *u = &ev.u.order_update;
        qtr_strlcpy(u->symbol, o->symbol, sizeof u->symbol);
        qtr_strlcpy(u->client_id, o->client_id, sizeof u->client_id);
        u->side = o->side;
        u->type = o->type;
        u->status = QTR_OS_NEW;
        u->qty = o->qty;
        u->stop_price = o->stop_price;
        u->reduce_only = o->reduce_only;
        assert_int_equal(efx_publish(f, f->e->exchange, &ev), QTR_OK);
    }
}

/* An order resting on the exchange that this server did not place. */
static void external_order(efx *f, const char *cid, qtr_order_type type, bool reduce_only)
{
    qtr_event ev = { .type = QTR_EV_ORDER_UPDATE };
    qtr_order_update *u = &ev.u.order_update;
    qtr_strlcpy(u->symbol, SYM, sizeof u->symbol);
    qtr_strlcpy(u->client_id, cid, sizeof u->client_id);
    u->side = QTR_SIDE_BUY;
    u->type = type;
    u->status = QTR_OS_NEW;
    u->qty = QTR_DEC_INT(1);
    u->price = type == QTR_ORDER_LIMIT ? QTR_DEC_INT(90) : 0;
    u->stop_price = type == QTR_ORDER_LIMIT ? 0 : QTR_DEC_INT(110);
    u->reduce_only = reduce_only;
    u->external = true;
    assert_int_equal(efx_publish(f, f->e->exchange, &ev), QTR_OK);
}

/* While the ESS blocks, each tick cancels again only if an order the
 * cancel-all takes is still open: the exits' reduce-only stops stay by
 * design, so they never cost another cancel_all (two requests per symbol
 * on Binance, every tick). A plain order still open does. */
static void ess_tick_leaves_resting_exits_alone(void **state)
{
    (void)state;
    efx *f = efx_new();
    start(f);
    set_plan(f);
    fx_exchange *x = efx_exchange(f);
    open_long(f);
    ack_new(f, 0);
    assert_int_equal(qh_ess_trip_host(f->e->ess, "test trip", qh_clock_now_ms(f->e->clock)), 0);
    size_t after_trip = x->cancel_alls;
    assert_true(after_trip >= 1);
    for (int tick = 0; tick < 3; tick++) qh_pipeline_enforce_flat(f->e);
    assert_int_equal(x->cancel_alls, after_trip);
    external_order(f, "hand-limit", QTR_ORDER_LIMIT, false);
    qh_pipeline_enforce_flat(f->e);
    assert_int_equal(x->cancel_alls, after_trip + 1);
    efx_free(f);
}

/* An exchange without cancel_all: the ESS cancels order by order, and, as
 * Binance's and the paper exchange's cancel_all, keeps the reduce-only
 * conditional orders (the exits' stop and trailing stop) while a plain
 * order (even reduce-only) and a stop that could open a position go. */
static void ess_fallback_cancel_keeps_reduce_only_stops(void **state)
{
    (void)state;
    efx *f = efx_new();
    f->e->exchange->ld.exchange.cancel_all = NULL;
    start(f);
    set_plan(f);
    fx_exchange *x = efx_exchange(f);
    open_long(f);
    assert_int_equal(count(x, 0, QTR_ORDER_STOP_MARKET), 1);
    assert_int_equal(count(x, 0, QTR_ORDER_TRAILING_STOP_MARKET), 1);
    ack_new(f, 0);
    external_order(f, "hand-limit", QTR_ORDER_LIMIT, false);
    external_order(f, "hand-reduce-limit", QTR_ORDER_LIMIT, true);
    external_order(f, "hand-entry-stop", QTR_ORDER_STOP_MARKET, false);
    size_t before = x->cancels;
    assert_int_equal(qh_ess_trip_host(f->e->ess, "test trip", qh_clock_now_ms(f->e->clock)), 0);
    assert_int_equal(x->cancels - before, 3);
    efx_free(f);
}

/* A restart: the store holds the plan and the position. */
static void restart(efx *f)
{
    efx_restart(f, NULL, NULL);
    start(f);
}

static void restart_replaces_a_missing_stop(void **state)
{
    (void)state;
    efx *f = efx_new();
    start(f);
    set_plan(f);
    open_long(f);
    assert_int_equal(qh_store_flush(f->e->store, 10000), QTR_OK);
    char db_path[600];
    qtr_strlcpy(db_path, qh_store_path(f->e->store), sizeof db_path);
    efx_stop_engine(f);
    /* the exits ended while the server was down */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE orders SET status = 'CANCELED' WHERE strategy = 'exits'", NULL, NULL,
                                  NULL), SQLITE_OK);
    assert_int_equal(sqlite3_changes(db), 2);
    sqlite3_close(db);
    restart(f);
    fx_exchange *x = efx_exchange(f);
    assert_int_equal(count(x, 0, QTR_ORDER_STOP_MARKET), 1);
    assert_int_equal(count(x, 0, QTR_ORDER_TRAILING_STOP_MARKET), 1);
    const qtr_order_intent *stop = last_of(x, QTR_ORDER_STOP_MARKET);
    assert_true(stop->reduce_only);
    assert_int_equal(stop->stop_price, QTR_DEC_INT(95));
    assert_int_equal(stop->qty, QTR_DEC_INT(1));
    efx_free(f);
}

static void restart_keeps_a_live_stop(void **state)
{
    (void)state;
    efx *f = efx_new();
    start(f);
    set_plan(f);
    open_long(f);
    efx_stop_engine(f);
    restart(f);
    fx_exchange *x = efx_exchange(f);
    assert_int_equal(x->n_orders, 0);     /* both exits still open: nothing sent again */
    assert_int_equal(x->cancels, 0);
    efx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ess_trip_keeps_exits),
        cmocka_unit_test(ess_tick_leaves_resting_exits_alone),
        cmocka_unit_test(ess_fallback_cancel_keeps_reduce_only_stops),
        cmocka_unit_test(restart_replaces_a_missing_stop),
        cmocka_unit_test(restart_keeps_a_live_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
