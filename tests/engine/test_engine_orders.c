/* The order path of the real engine: a refused order is never recorded as
 * an intent that was sent; the ESS closes every position and a restart
 * restores every one, however many; the host's own ESS trips say so. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "engine_fixture.h"
#include "strategy_quiet.h"

/* More than any fixed table of 256 the host once had. */
#define MANY 300

static void symbol_of(size_t i, char out[QTR_SYMBOL_MAX]) { snprintf(out, QTR_SYMBOL_MAX, "S%03zuUSDT", i); }

/* Long for even i, short for odd, |qty| = 1 + i % 3. */
static qtr_dec qty_of(size_t i) { return (i % 2 ? -1 : 1) * QTR_DEC_INT((int64_t)(1 + i % 3)); }

static void open_many(efx *f)
{
    for (size_t i = 0; i < MANY; i++) {
        char sym[QTR_SYMBOL_MAX], id[32];
        symbol_of(i, sym);
        snprintf(id, sizeof id, "f-%zu", i);
        qtr_event ev = efx_fill(sym, id, qty_of(i), QTR_DEC_INT(10));
        assert_int_equal(efx_publish(f, f->e->exchange, &ev), QTR_OK);
    }
    assert_int_equal(qh_portfolio_open_count(f->e->pf), MANY);
}

/* The statuses the store holds for one order, in order, joined by ",". */
static void stored_statuses(qh_engine *e, const char *cid, char *out, size_t cap)
{
    assert_int_equal(qh_store_flush(e->store, 10000), QTR_OK);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(qh_store_path(e->store), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT ev.status FROM order_events ev JOIN orders o ON o.id = ev.order_id"
                                        " WHERE o.client_id = ?1 ORDER BY ev.rowid",
                                        -1, &s, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(s, 1, cid, -1, SQLITE_STATIC);
    out[0] = '\0';
    while (sqlite3_step(s) == SQLITE_ROW) {
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%s%s", n ? "," : "", (const char *)sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
}

/* too_many_open_orders is decided before the intent is published: the
 * refused order has a REJECTED record and no PENDING one, and the exchange
 * never sees it. */
static void refused_order_is_not_an_intent(void **state)
{
    (void)state;
    efx *f = efx_new();
    qh_engine *e = f->e;
    qh_plugin_rt *s = efx_plugin(f, "quiet");
    efx_seen intents, updates;
    efx_watch(e, QTR_EV_ORDER_INTENT, &intents);
    efx_watch(e, QTR_EV_ORDER_UPDATE, &updates);
    qtr_order_intent o = efx_market_buy("BTCUSDT");
    efx_price(f, o.symbol, QTR_DEC_INT(100));   /* a price, for the risk checks */

    char sent[QTR_CLIENT_ID_MAX];       /* the control: an order that goes */
    assert_int_equal(e->api.submit_order(&s->ctx, &o, sent), QTR_OK);
    assert_int_equal(intents.n, 1);
    assert_int_equal(efx_exchange(f)->n_orders, 1);
    assert_int_equal(qh_order_table_count(e->open_orders), 1);

    /* the table full: one that holds just the order sent */
    qh_order_table *small = qh_order_table_new(1);
    assert_non_null(small);
    assert_int_equal(qh_order_table_put(small, &qh_order_table_items(e->open_orders)[0]), QH_ORDER_ADDED);
    qh_order_table_free(e->open_orders);
    e->open_orders = small;
    char refused[QTR_CLIENT_ID_MAX];
    assert_int_equal(e->api.submit_order(&s->ctx, &o, refused), QTR_EFULL);
    assert_int_equal(qh_order_table_count(e->open_orders), 1);
    assert_string_not_equal(refused, sent);
    assert_int_equal(intents.n, 1);                 /* no intent for it */
    assert_int_equal(efx_exchange(f)->n_orders, 1); /* and the exchange never saw it */
    assert_true(updates.n >= 1);
    const qtr_order_update *u = &updates.items[updates.n - 1].u.order_update;
    assert_string_equal(u->client_id, refused);
    assert_int_equal(u->status, QTR_OS_REJECTED);
    assert_string_equal(u->reason, "too_many_open_orders");

    char statuses[256];
    stored_statuses(e, refused, statuses, sizeof statuses);
    assert_string_equal(statuses, "REJECTED");
    stored_statuses(e, sent, statuses, sizeof statuses);
    assert_string_equal(statuses, "PENDING");
    qtr_order_update got;
    assert_int_equal(qh_store_get_order(e->store, refused, &got), QTR_OK);
    assert_int_equal(got.status, QTR_OS_REJECTED);

    efx_seen_free(&intents);
    efx_seen_free(&updates);
    efx_free(f);
}

/* An ESS trip with more than 256 positions sends one reduce-only market
 * close for each of them. */
static void ess_flatten_closes_every_position(void **state)
{
    (void)state;
    efx *f = efx_new();
    qh_engine *e = f->e;
    open_many(f);
    const qh_policy_rules *l = qh_policy_limits(e->policy);
    assert_non_null(l);
    assert_true(l->ess_close_positions);
    qh_plugin_rt *s = efx_plugin(f, "quiet");
    assert_int_equal(e->api.ess_trip(&s->ctx, "alice", "drill"), QTR_OK);

    fx_exchange *x = efx_exchange(f);
    assert_int_equal(x->n_orders, MANY);
    bool closed[MANY] = { false };
    for (size_t k = 0; k < x->n_orders; k++) {
        const qtr_order_intent *o = &x->orders[k];
        unsigned i;
        assert_int_equal(sscanf(o->symbol, "S%03uUSDT", &i), 1);
        assert_true(i < MANY);
        assert_false(closed[i]);
        closed[i] = true;
        assert_true(o->reduce_only);
        assert_int_equal(o->type, QTR_ORDER_MARKET);
        assert_int_equal(o->side, qty_of(i) > 0 ? QTR_SIDE_SELL : QTR_SIDE_BUY);
        assert_true(o->qty == qtr_dec_abs(qty_of(i)));
    }
    /* every close is on its way: the next tick sends none twice */
    qh_pipeline_enforce_flat(e);
    assert_int_equal(x->n_orders, MANY);
    efx_free(f);
}

typedef struct watch_ud {
    efx_seen positions;
} watch_ud;

static void watch_positions(qh_engine *e, void *ud) { efx_watch(e, QTR_EV_POSITION, &((watch_ud *)ud)->positions); }

/* A restart with more than 256 positions brings every stored position row
 * back in line with the fills, the open ones and a flat one. */
static void restart_restores_every_position(void **state)
{
    (void)state;
    efx *f = efx_new();
    open_many(f);
    qtr_event in = efx_fill("FLATUSDT", "flat-in", QTR_DEC_INT(1), QTR_DEC_INT(10));
    qtr_event out = efx_fill("FLATUSDT", "flat-out", -QTR_DEC_INT(1), QTR_DEC_INT(10));
    assert_int_equal(efx_publish(f, f->e->exchange, &in), QTR_OK);
    assert_int_equal(efx_publish(f, f->e->exchange, &out), QTR_OK);
    char db_path[600];
    qtr_strlcpy(db_path, qh_store_path(f->e->store), sizeof db_path);
    efx_stop_engine(f);

    /* every stored row wrong by one unit: the restart must correct all */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE positions SET qty = qty + 100000000", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_changes(db), MANY + 1);
    sqlite3_close(db);

    watch_ud w;
    efx_restart(f, watch_positions, &w);
    qh_engine *e = f->e;
    assert_int_equal(qh_portfolio_open_count(e->pf), MANY);
    assert_int_equal(w.positions.n, MANY + 1);
    for (size_t k = 0; k < w.positions.n; k++) assert_true(w.positions.items[k].flags & QTR_EVF_REPLAY);

    assert_int_equal(qh_store_flush(e->store, 10000), QTR_OK);
    qh_store_state st;
    char err[256];
    assert_int_equal(qh_store_load_state(e->store, &st, err, sizeof err), QTR_OK);
    assert_int_equal(st.n_positions, MANY + 1);
    assert_int_equal(st.n_mismatches, 0);
    for (size_t k = 0; k < st.n_positions; k++) {
        unsigned i;
        if (strcmp(st.positions[k].symbol, "FLATUSDT") == 0) {
            assert_true(st.positions[k].qty == 0);
            continue;
        }
        assert_int_equal(sscanf(st.positions[k].symbol, "S%03uUSDT", &i), 1);
        if (st.positions[k].qty != qty_of(i)) fail_msg("%s stored %lld", st.positions[k].symbol, (long long)st.positions[k].qty);
    }
    qh_store_state_free(&st);
    efx_seen_free(&w.positions);
    efx_free(f);
}

/* A trip the host decides on says "host: ...", by "host"; an operator's
 * (here through a plugin's ess_trip) says "manual: ...". */
static void host_trips_are_not_manual(void **state)
{
    (void)state;
    efx *f = efx_new();
    qh_engine *e = f->e;
    efx_seen ess;
    efx_watch(e, QTR_EV_ESS_STATE, &ess);
    qtr_event fill = efx_fill("BTCUSDT", "", QTR_DEC_INT(1), QTR_DEC_INT(10));
    assert_int_equal(efx_publish(f, e->exchange, &fill), QTR_OK);
    qtr_ess_status st;
    qh_ess_status(e->ess, &st);
    assert_int_equal(st.state, QTR_ESS_COOLDOWN);
    assert_string_equal(st.trip_reason, "host: an exchange reported a fill without an id");
    assert_true(ess.n >= 1);
    assert_string_equal(ess.items[0].u.ess.user, "host");
    assert_string_equal(ess.items[0].u.ess.reason, "host: an exchange reported a fill without an id");
    assert_int_equal(qh_portfolio_open_count(e->pf), 0);

    char err[128];
    assert_int_equal(e->api.ess_reset(&efx_plugin(f, "quiet")->ctx, "alice", "checked", true, err, sizeof err), QTR_OK);
    assert_int_equal(e->api.ess_trip(&efx_plugin(f, "quiet")->ctx, "alice", "drill"), QTR_OK);
    qh_ess_status(e->ess, &st);
    assert_string_equal(st.trip_reason, "manual: drill");
    efx_seen_free(&ess);
    efx_free(f);
}

/* An ESS trip with no open order, on an exchange without cancel_all, walks
 * an empty table: nothing is cancelled and the trip is recorded. (It once
 * called memcpy(NULL, NULL, 0): undefined behaviour that aborts the UBSan
 * build of this test, test_engine_orders_ubsan.) */
static void ess_trip_with_no_open_orders(void **state)
{
    (void)state;
    efx *f = efx_new();
    qh_engine *e = f->e;
    e->exchange->ld.exchange.cancel_all = NULL;
    assert_int_equal(qh_order_table_count(e->open_orders), 0);
    assert_int_equal(e->api.ess_trip(&efx_plugin(f, "quiet")->ctx, "alice", "drill"), QTR_OK);
    qtr_ess_status st;
    qh_ess_status(e->ess, &st);
    assert_int_not_equal(st.state, QTR_ESS_ARMED);
    assert_string_equal(st.trip_reason, "manual: drill");
    fx_exchange *x = efx_exchange(f);
    assert_int_equal(x->cancels, 0);
    assert_int_equal(x->cancel_alls, 0);
    efx_free(f);
}

/* A strategy gets the candles of the symbols its `symbols` option names, and
 * only once each however often a symbol is named (qtr_strategy_ops). */
static void strategy_gets_only_its_symbols(void **state)
{
    (void)state;
    efx *f = efx_new();
    qh_engine *e = f->e;
    const char *syms[] = { "BTCUSDT", "XRPUSDT", "ETHUSDT", "SOLUSDT", "BTCUSDT" };
    for (size_t i = 0; i < sizeof syms / sizeof *syms; i++) {
        qtr_event ev = { .type = QTR_EV_CANDLE };
        snprintf(ev.u.candle.symbol, QTR_SYMBOL_MAX, "%s", syms[i]);
        ev.u.candle.open_time_ms = 60000 * (int64_t)i;
        ev.u.candle.close_time_ms = ev.u.candle.open_time_ms + 59999;
        ev.u.candle.open = ev.u.candle.high = ev.u.candle.low = ev.u.candle.close = QTR_DEC_INT(10);
        assert_int_equal(efx_publish(f, e->exchange, &ev), QTR_OK);
    }
    const fx_strategy *s = efx_plugin(f, "quiet")->state;
    assert_int_equal(s->n_seen, 3);
    assert_string_equal(s->seen[0], "BTCUSDT");
    assert_string_equal(s->seen[1], "ETHUSDT");
    assert_string_equal(s->seen[2], "BTCUSDT");
    efx_free(f);
}

/* A late fill (an execution the exchange reports an hour after it happened,
 * as after a restart) that trips the ESS trips it now: the trip time and the
 * cooldown count from the host's clock, not from the fill's own time, or the
 * cooldown could be over before the trip is even seen. */
static void a_late_fill_trips_the_ess_now(void **state)
{
    (void)state;
    efx *f = efx_new();
    qh_engine *e = f->e;
    qtr_event open = efx_fill("BTCUSDT", "late-1", QTR_DEC_INT(10000), QTR_DEC_INT(100));
    assert_int_equal(efx_publish(f, e->exchange, &open), QTR_OK);
    qtr_event close = efx_fill("BTCUSDT", "late-2", -QTR_DEC_INT(10000), QTR_DEC_INT(50));
    close.u.fill.time_ms -= 3600 * 1000;
    int64_t before = qh_wall_ms();
    assert_int_equal(efx_publish(f, e->exchange, &close), QTR_OK);
    qtr_ess_status st;
    qh_ess_status(e->ess, &st);
    assert_int_not_equal(st.state, QTR_ESS_ARMED);
    assert_non_null(strstr(st.trip_reason, "drawdown"));
    assert_true(st.tripped_at_ms >= before);
    assert_true(st.cooldown_until_ms > qh_wall_ms());
    efx_free(f);
}

/* The host's client ids: "<prefix>-<run>-<n>", as snprintf wrote them,
 * cut to the field when prefix, run id and number are long. */
static void client_ids_as_formatted(void **state)
{
    (void)state;
    efx *f = efx_new();
    qh_engine *e = f->e;
    qh_plugin_rt *s = efx_plugin(f, "quiet");
    efx_price(f, "BTCUSDT", QTR_DEC_INT(100));
    const uint64_t seqs[] = { 0, 8, 99, 1234567890123ull, UINT64_MAX - 1 };
    const char *prefixes[] = { "qtr", "abcdefghijklmno" };
    const char *runs[] = { "r1", "RUNIDRUNIDRUNID" };
    for (size_t p = 0; p < 2; p++)
        for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
            qtr_strlcpy(e->cfg->client_id_prefix, prefixes[p], sizeof e->cfg->client_id_prefix);
            qtr_strlcpy(e->run_id, runs[p], sizeof e->run_id);
            e->order_seq = seqs[i];
            qtr_order_intent o = efx_market_buy("BTCUSDT");
            char cid[QTR_CLIENT_ID_MAX], want[QTR_CLIENT_ID_MAX];
            e->api.submit_order(&s->ctx, &o, cid);
            snprintf(want, sizeof want, "%s-%s-%llu", prefixes[p], runs[p], (unsigned long long)(seqs[i] + 1));
            assert_string_equal(cid, want);
        }
    efx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refused_order_is_not_an_intent),
        cmocka_unit_test(ess_flatten_closes_every_position),
        cmocka_unit_test(restart_restores_every_position),
        cmocka_unit_test(host_trips_are_not_manual),
        cmocka_unit_test(ess_trip_with_no_open_orders),
        cmocka_unit_test(strategy_gets_only_its_symbols),
        cmocka_unit_test(a_late_fill_trips_the_ess_now),
        cmocka_unit_test(client_ids_as_formatted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
