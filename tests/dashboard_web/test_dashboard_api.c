/* The REST API over loopback: auth on mutating calls, the JSON shape of
 * every GET endpoint with money as strings, and the error statuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "dash_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN "t0ken-for-tests-0123456789"
#define AUTH "Authorization: Bearer " TOKEN "\r\n"

/* ---- host data the tests put behind the host services ------------------- */

static qtr_order_update g_orders[2];
static qtr_fill g_fills[1];
static qtr_signal_record g_signals[2];
static qtr_account g_equity[3];
static qtr_plugin_info g_plugins[1];
static qtr_component_health g_health[3];
static size_t g_n_health;
static qtr_exit_state g_exits[2];
static size_t g_n_exits;
static int g_reset_rc;
static int g_reload_rc;

static size_t h_open_orders(qtr_ctx *c, qtr_list *l) { (void)c; return mock_list_fill(l, g_orders, 1, sizeof(qtr_order_update)); }
static size_t h_recent_orders(qtr_ctx *c, qtr_list *l) { (void)c; return mock_list_fill(l, g_orders, 2, sizeof(qtr_order_update)); }
static size_t h_fills(qtr_ctx *c, qtr_list *l) { (void)c; return mock_list_fill(l, g_fills, 1, sizeof(qtr_fill)); }
static size_t h_signals(qtr_ctx *c, qtr_list *l) { (void)c; return mock_list_fill(l, g_signals, 2, sizeof(qtr_signal_record)); }
static size_t h_equity(qtr_ctx *c, qtr_list *l) { (void)c; return mock_list_fill(l, g_equity, 3, sizeof(qtr_account)); }
static size_t h_plugins(qtr_ctx *c, qtr_list *l) { (void)c; return mock_list_fill(l, g_plugins, 1, sizeof(qtr_plugin_info)); }
static size_t h_health(qtr_ctx *c, qtr_list *l) { (void)c; return mock_list_fill(l, g_health, g_n_health, sizeof(qtr_component_health)); }
static size_t h_exits(qtr_ctx *c, qtr_list *l) { (void)c; return mock_list_fill(l, g_exits, g_n_exits, sizeof(qtr_exit_state)); }
static int h_ess_reset_refused(qtr_ctx *c, const char *user, const char *reason, bool force, char *err, size_t errlen)
{
    (void)c; (void)user; (void)reason; (void)force;
    snprintf(err, errlen, "cooldown: reset possible in 240 s");
    return g_reset_rc;
}
/* As the host does: a trip while the ESS is not ARMED is refused (the host
 * records it as a new breach), a first one halts trading. */
static mock_host *g_ess_host;
static int h_ess_trip_as_host(qtr_ctx *c, const char *user, const char *reason)
{
    (void)c; (void)user;
    if (g_ess_host->ess.state != QTR_ESS_ARMED) return QTR_EREFUSED;
    g_ess_host->ess.state = QTR_ESS_COOLDOWN;
    snprintf(g_ess_host->ess.trip_reason, sizeof g_ess_host->ess.trip_reason, "manual: %s", reason);
    g_ess_host->ess.trips++;
    return QTR_OK;
}
static int h_policy_reload(qtr_ctx *c, char *err, size_t errlen)
{
    (void)c;
    if (g_reload_rc) snprintf(err, errlen, "policies/default.lua:12: max_positions must be > 0");
    return g_reload_rc;
}

static void fill_host(mock_host *m)
{
    m->account.equity = D("10250.12345678");
    m->account.wallet_balance = D("10000");
    m->account.unrealized_pnl = D("250.12345678");
    m->account.daily_pnl = D("-12.5");
    m->account.open_positions = 1;
    qtr_position *p = &m->positions[0];
    qtr_strlcpy(p->symbol, "BTCUSDT", sizeof p->symbol);
    p->qty = D("-0.015");
    p->entry_price = D("43000.1");
    p->mark_price = D("42900");
    p->unrealized_pnl = D("1.5015");
    m->n_positions = 1;
    m->ess.state = QTR_ESS_ARMED;
    m->ess.trips = 2;
    m->has_limits = true;
    qtr_strlcpy(m->limits.name, "default", sizeof m->limits.name);
    m->limits.version = 7;
    m->limits.loaded_at_ms = 1700000000000;
    m->limits.max_order_notional = D("1500.5");
    m->limits.n_symbols = 2;
    qtr_strlcpy(m->limits.symbols[0], "BTCUSDT", QTR_SYMBOL_MAX);
    qtr_strlcpy(m->limits.symbols[1], "ETHUSDT", QTR_SYMBOL_MAX);

    memset(g_orders, 0, sizeof g_orders);
    qtr_strlcpy(g_orders[0].symbol, "BTCUSDT", QTR_SYMBOL_MAX);
    qtr_strlcpy(g_orders[0].client_id, "c-1", QTR_CLIENT_ID_MAX);
    g_orders[0].status = QTR_OS_NEW;
    g_orders[0].side = QTR_SIDE_BUY;
    g_orders[0].type = QTR_ORDER_LIMIT;
    g_orders[0].qty = D("0.002");
    g_orders[0].price = D("41000.5");
    g_orders[1] = g_orders[0];
    qtr_strlcpy(g_orders[1].client_id, "c-2", QTR_CLIENT_ID_MAX);
    g_orders[1].status = QTR_OS_REJECTED;
    qtr_strlcpy(g_orders[1].reason, "risk:max_positions", QTR_REASON_MAX);
    memset(g_fills, 0, sizeof g_fills);
    qtr_strlcpy(g_fills[0].symbol, "BTCUSDT", QTR_SYMBOL_MAX);
    g_fills[0].qty = D("0.001");
    g_fills[0].price = D("42999.99");
    g_fills[0].fee = D("0.01719999");
    memset(g_signals, 0, sizeof g_signals);
    qtr_strlcpy(g_signals[0].signal.symbol, "BTCUSDT", QTR_SYMBOL_MAX);
    g_signals[0].signal.qty = D("0.001");
    g_signals[0].signal.confidence = 0.75;
    qtr_strlcpy(g_signals[0].outcome, "accepted", QTR_NAME_MAX);
    g_signals[1] = g_signals[0];
    qtr_strlcpy(g_signals[1].outcome, "rejected", QTR_NAME_MAX);
    qtr_strlcpy(g_signals[1].reason, "min_confidence", QTR_REASON_MAX);
    for (int i = 0; i < 3; i++) {
        memset(&g_equity[i], 0, sizeof g_equity[i]);
        g_equity[i].time_ms = 1700000000000 + i * 60000;
        g_equity[i].equity = D("10000") + i * D("0.5");
    }
    memset(g_plugins, 0, sizeof g_plugins);
    qtr_strlcpy(g_plugins[0].name, "paper", QTR_NAME_MAX);
    qtr_strlcpy(g_plugins[0].version, "0.3.1", QTR_NAME_MAX);
    g_plugins[0].kind = QTR_KIND_EXCHANGE;
    g_plugins[0].abi_major = 2;
    memset(g_health, 0, sizeof g_health);
    qtr_strlcpy(g_health[0].component, "exchange", QTR_NAME_MAX);
    qtr_strlcpy(g_health[1].component, "store", QTR_NAME_MAX);
    g_health[1].health.status = QTR_HEALTH_DEGRADED;
    qtr_strlcpy(g_health[1].health.reason, "disk 91% full", QTR_REASON_MAX);
    qtr_strlcpy(g_health[2].component, "market", QTR_NAME_MAX);
    g_health[2].health.status = QTR_HEALTH_CRITICAL;
    g_n_health = 2;
    g_reset_rc = QTR_OK;
    g_reload_rc = QTR_OK;
    /* BTCUSDT short 0.015 @ 43000.1: stop 2%, a two-rung ladder, a trailing
     * stop activated, a time stop, the volatile regime's parameters; ETHUSDT
     * a flat plan, still held (before the first reconcile) */
    memset(g_exits, 0, sizeof g_exits);
    qtr_exit_state *x = &g_exits[0];
    qtr_strlcpy(x->symbol, "BTCUSDT", QTR_SYMBOL_MAX);
    qtr_strlcpy(x->owner, "ma_cross", QTR_NAME_MAX);
    x->working_type = QTR_WORKING_MARK;
    x->qty_step = D("0.001");
    x->price_tick = D("0.1");
    x->regime = QTR_REGIME_VOLATILE;
    x->regime_override = true;
    x->params.stop_loss.bps = 200;
    x->params.n_take_profit = 2;
    x->params.take_profit[0] = (qtr_exit_tp){ .at = { .bps = 300 }, .share_bps = 4000 };
    x->params.take_profit[1] = (qtr_exit_tp){ .at = { .price = D("41000.5") }, .share_bps = 6000 };
    x->params.trailing_activation.bps = 100;
    x->params.trailing_callback_bps = 50;
    x->params.time_stop_ms = 3600000;
    x->position_qty = D("-0.015");
    x->entry_price = D("43000.1");
    x->opened_ms = 1700000000000;
    x->time_stop_at_ms = 1700003600000;
    x->n_orders = 2;
    qtr_strlcpy(x->orders[0].client_id, "qtr-r1-e7", QTR_CLIENT_ID_MAX);
    x->orders[0].role = QTR_EXIT_STOP_LOSS;
    x->orders[0].side = QTR_SIDE_BUY;
    x->orders[0].type = QTR_ORDER_STOP_MARKET;
    x->orders[0].qty = D("0.015");
    x->orders[0].stop_price = D("43860.2");
    qtr_strlcpy(x->orders[1].client_id, "qtr-r1-e9", QTR_CLIENT_ID_MAX);
    x->orders[1].role = QTR_EXIT_TRAILING;
    x->orders[1].side = QTR_SIDE_BUY;
    x->orders[1].type = QTR_ORDER_TRAILING_STOP_MARKET;
    x->orders[1].qty = D("0.015");
    x->orders[1].activation_price = D("42570.1");
    x->orders[1].callback_bps = 50;
    x->orders[1].activated = true;
    qtr_strlcpy(g_exits[1].symbol, "ETHUSDT", QTR_SYMBOL_MAX);
    g_exits[1].held = true;
    g_exits[1].params.stop_loss.price = D("2500.25");
    g_n_exits = 2;
    m->api.list_exit_plans = h_exits;

    m->api.list_open_orders = h_open_orders;
    m->api.recent_orders = h_recent_orders;
    m->api.recent_fills = h_fills;
    m->api.recent_signals = h_signals;
    m->api.equity_history = h_equity;
    m->api.list_plugins = h_plugins;
    m->api.health_all = h_health;
    m->api.policy_reload = h_policy_reload;
}

static int setup_with_token(void **state)
{
    setenv("QTR_API_TOKEN", TOKEN, 1);
    dash_fixture *f = calloc(1, sizeof *f);
    /* the host table is read at call time: set it up before loading */
    f->m = NULL;
    if (!dash_start(f, NULL)) return -1;
    fill_host(f->m);
    *state = f;
    return 0;
}

static int setup_without_token(void **state)
{
    unsetenv("QTR_API_TOKEN");
    dash_fixture *f = calloc(1, sizeof *f);
    if (!dash_start(f, NULL)) return -1;
    fill_host(f->m);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    dash_fixture *f = *state;
    dash_stop(f);
    free(f);
    unsetenv("QTR_API_TOKEN");
    return 0;
}

static json_t *get_json(dash_fixture *f, const char *path)
{
    http_result r;
    assert_true(http_req(f->m, f->port, "GET", path, NULL, NULL, &r));
    if (r.status != 200) fail_msg("GET %s: %d %s", path, r.status, r.body);
    char ct[128];
    assert_non_null(http_result_header(&r, "Content-Type", ct, sizeof ct));
    assert_non_null(strstr(ct, "application/json"));
    json_t *j = http_result_json(&r);
    assert_non_null(j);
    http_result_free(&r);
    return j;
}

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v)) fail_msg("%s is not a string", key);
    return json_string_value(v);
}

/* ---- GET shapes -------------------------------------------------------------- */

static void test_get_status(void **state)
{
    dash_fixture *f = *state;
    json_t *j = get_json(f, "/api/status");
    json_t *acct = json_object_get(j, "account");
    assert_string_equal(str(acct, "equity"), "10250.12345678");
    assert_string_equal(str(acct, "daily_pnl"), "-12.5");
    assert_true(json_is_integer(json_object_get(acct, "open_positions")));
    assert_string_equal(str(json_object_get(j, "ess"), "state"), "ARMED");
    assert_string_equal(str(j, "health"), "DEGRADED");
    assert_int_equal(json_integer_value(json_object_get(j, "open_orders")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "open_positions")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "policy"), "version")), 7);
    assert_int_equal(json_integer_value(json_object_get(j, "ws_clients")), 0);
    json_decref(j);
}

static void publish_regime(mock_host *m, const char *symbol, qtr_regime now, qtr_regime before, int64_t t)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_REGIME;
    qtr_strlcpy(ev.u.regime.symbol, symbol, QTR_SYMBOL_MAX);
    ev.u.regime.time_ms = t;
    ev.u.regime.regime = now;
    ev.u.regime.previous = before;
    ev.u.regime.adx = 30.5;
    mock_host_publish(m, &ev);
}

/* /api/status lists each symbol's latest regime (REGIME events come only on
 * a change, so a page opened later reads them here): none at first, then
 * one entry a symbol, replaced by its next change. */
static void test_status_regimes(void **state)
{
    dash_fixture *f = *state;
    json_t *j = get_json(f, "/api/status");
    assert_true(json_is_array(json_object_get(j, "regimes")));
    assert_int_equal(json_array_size(json_object_get(j, "regimes")), 0);
    json_decref(j);
    publish_regime(f->m, "BTCUSDT", QTR_REGIME_TREND_UP, QTR_REGIME_UNKNOWN, 1000);
    publish_regime(f->m, "ETHUSDT", QTR_REGIME_RANGE, QTR_REGIME_UNKNOWN, 1000);
    publish_regime(f->m, "BTCUSDT", QTR_REGIME_VOLATILE, QTR_REGIME_TREND_UP, 2000);
    j = get_json(f, "/api/status");
    json_t *arr = json_object_get(j, "regimes");
    assert_int_equal(json_array_size(arr), 2);
    json_t *btc = json_array_get(arr, 0), *eth = json_array_get(arr, 1);
    assert_string_equal(str(btc, "symbol"), "BTCUSDT");
    assert_string_equal(str(btc, "regime"), "volatile");
    assert_string_equal(str(btc, "previous"), "trend_up");
    assert_int_equal(json_integer_value(json_object_get(btc, "time_ms")), 2000);
    assert_true(json_real_value(json_object_get(btc, "adx")) == 30.5);
    assert_string_equal(str(eth, "symbol"), "ETHUSDT");
    assert_string_equal(str(eth, "regime"), "range");
    json_decref(j);
}

static void test_get_positions(void **state)
{
    dash_fixture *f = *state;
    json_t *j = get_json(f, "/api/positions");
    json_t *arr = json_object_get(j, "positions");
    assert_int_equal(json_array_size(arr), 1);
    json_t *p = json_array_get(arr, 0);
    assert_string_equal(str(p, "symbol"), "BTCUSDT");
    assert_string_equal(str(p, "qty"), "-0.015");
    assert_string_equal(str(p, "entry_price"), "43000.1");
    assert_string_equal(str(p, "mark_price"), "42900");
    assert_string_equal(str(p, "unrealized_pnl"), "1.5015");
    json_decref(j);
}

/* The positions answer is kept while the host's list is the same (answer
 * cache): any change, down to one unit of one field, must show at once. */
static void test_positions_answer_follows_the_host(void **state)
{
    dash_fixture *f = *state;
    http_result a, b;
    assert_true(http_req(f->m, f->port, "GET", "/api/positions", NULL, NULL, &a));
    assert_true(http_req(f->m, f->port, "GET", "/api/positions", NULL, NULL, &b));
    assert_int_equal(a.status, 200);
    assert_string_equal(a.body, b.body);            /* the kept answer is the same text */
    http_result_free(&a);
    http_result_free(&b);

    f->m->positions[0].qty = D("-0.01500001");      /* one unit */
    json_t *j = get_json(f, "/api/positions");
    assert_string_equal(str(json_array_get(json_object_get(j, "positions"), 0), "qty"), "-0.01500001");
    json_decref(j);

    f->m->positions[0].symbol[0] = 'X';             /* a text field */
    j = get_json(f, "/api/positions");
    assert_string_equal(str(json_array_get(json_object_get(j, "positions"), 0), "symbol"), "XTCUSDT");
    json_decref(j);

    f->m->positions[1] = f->m->positions[0];        /* one more */
    qtr_strlcpy(f->m->positions[1].symbol, "ETHUSDT", sizeof f->m->positions[1].symbol);
    f->m->n_positions = 2;
    j = get_json(f, "/api/positions");
    assert_int_equal(json_array_size(json_object_get(j, "positions")), 2);
    assert_string_equal(str(json_array_get(json_object_get(j, "positions"), 1), "symbol"), "ETHUSDT");
    json_decref(j);

    f->m->n_positions = 0;                          /* all closed */
    j = get_json(f, "/api/positions");
    assert_int_equal(json_array_size(json_object_get(j, "positions")), 0);
    json_decref(j);
}

static json_t *at(json_t *arr, size_t i) { return json_array_get(arr, i); }

/* GET /api/exits: each plan with its live state, money as strings. */
static void test_get_exits(void **state)
{
    dash_fixture *f = *state;
    json_t *j = get_json(f, "/api/exits");
    json_t *arr = json_object_get(j, "exits");
    assert_int_equal(json_array_size(arr), 2);
    json_t *x = at(arr, 0);
    assert_string_equal(str(x, "symbol"), "BTCUSDT");
    assert_string_equal(str(x, "owner"), "ma_cross");
    assert_true(json_is_false(json_object_get(x, "held")));
    json_t *pos = json_object_get(x, "position");
    assert_string_equal(str(pos, "side"), "SHORT");
    assert_string_equal(str(pos, "qty"), "-0.015");
    assert_string_equal(str(pos, "entry_price"), "43000.1");
    assert_int_equal(json_integer_value(json_object_get(pos, "opened_ms")), 1700000000000);
    assert_string_equal(str(x, "working_type"), "MARK");
    assert_string_equal(str(x, "qty_step"), "0.001");
    assert_string_equal(str(x, "regime"), "volatile");
    assert_true(json_is_true(json_object_get(x, "regime_override")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(x, "stop_loss"), "bps")), 200);
    json_t *tp = json_object_get(x, "take_profit");
    assert_int_equal(json_array_size(tp), 2);
    assert_int_equal(json_integer_value(json_object_get(at(tp, 0), "share_bps")), 4000);
    assert_string_equal(str(at(tp, 1), "price"), "41000.5");
    assert_int_equal(json_integer_value(json_object_get(at(tp, 1), "level")), 1);
    json_t *tr = json_object_get(x, "trailing");
    assert_int_equal(json_integer_value(json_object_get(tr, "callback_bps")), 50);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(tr, "activation"), "bps")), 100);
    assert_true(json_is_true(json_object_get(tr, "activated")));
    json_t *ts = json_object_get(x, "time_stop");
    assert_int_equal(json_integer_value(json_object_get(ts, "at_ms")), 1700003600000);
    assert_true(json_is_false(json_object_get(ts, "sent")));
    json_t *orders = json_object_get(x, "orders");
    assert_int_equal(json_array_size(orders), 2);
    assert_string_equal(str(at(orders, 0), "client_id"), "qtr-r1-e7");
    assert_string_equal(str(at(orders, 0), "role"), "stop_loss");
    assert_string_equal(str(at(orders, 0), "order_type"), "STOP_MARKET");
    assert_string_equal(str(at(orders, 0), "stop_price"), "43860.2");
    assert_string_equal(str(at(orders, 1), "role"), "trailing");
    assert_string_equal(str(at(orders, 1), "activation_price"), "42570.1");
    assert_true(json_is_true(json_object_get(at(orders, 1), "activated")));
    /* a flat plan, held before the first reconcile: what is off is null */
    json_t *e = at(arr, 1);
    assert_true(json_is_true(json_object_get(e, "held")));
    assert_string_equal(str(json_object_get(e, "position"), "side"), "FLAT");
    assert_string_equal(str(json_object_get(e, "stop_loss"), "price"), "2500.25");
    assert_true(json_is_null(json_object_get(e, "trailing")));
    assert_true(json_is_null(json_object_get(e, "time_stop")));
    assert_int_equal(json_array_size(json_object_get(e, "take_profit")), 0);
    assert_int_equal(json_array_size(json_object_get(e, "orders")), 0);
    json_decref(j);

    /* the answer follows the host at once: the stop is gone */
    g_exits[0].n_orders = 1;
    g_exits[0].orders[0] = g_exits[0].orders[1];
    j = get_json(f, "/api/exits");
    orders = json_object_get(at(json_object_get(j, "exits"), 0), "orders");
    assert_int_equal(json_array_size(orders), 1);
    assert_string_equal(str(at(orders, 0), "client_id"), "qtr-r1-e9");
    json_decref(j);
    g_n_exits = 0;
    j = get_json(f, "/api/exits");
    assert_int_equal(json_array_size(json_object_get(j, "exits")), 0);
    json_decref(j);
}

static void test_get_orders_fills_signals(void **state)
{
    dash_fixture *f = *state;
    json_t *j = get_json(f, "/api/orders");
    assert_int_equal(json_array_size(json_object_get(j, "open")), 1);
    json_t *recent = json_object_get(j, "recent");
    assert_int_equal(json_array_size(recent), 2);
    json_t *o = json_array_get(recent, 1);
    assert_string_equal(str(o, "status"), "REJECTED");
    assert_string_equal(str(o, "reason"), "risk:max_positions");
    assert_string_equal(str(o, "price"), "41000.5");
    assert_string_equal(str(o, "qty"), "0.002");
    assert_string_equal(str(o, "order_type"), "LIMIT");
    json_decref(j);

    j = get_json(f, "/api/fills");
    json_t *fl = json_array_get(json_object_get(j, "fills"), 0);
    assert_string_equal(str(fl, "price"), "42999.99");
    assert_string_equal(str(fl, "fee"), "0.01719999");
    json_decref(j);

    j = get_json(f, "/api/signals");
    json_t *s = json_object_get(j, "signals");
    assert_int_equal(json_array_size(s), 2);
    assert_string_equal(str(json_array_get(s, 0), "outcome"), "accepted");
    assert_string_equal(str(json_array_get(s, 1), "outcome"), "rejected");
    assert_string_equal(str(json_array_get(s, 1), "outcome_reason"), "min_confidence");
    assert_string_equal(str(json_array_get(s, 1), "qty"), "0.001");
    assert_true(json_is_real(json_object_get(json_array_get(s, 0), "confidence")));
    json_decref(j);
}

static void test_get_equity_ess_policy_plugins(void **state)
{
    dash_fixture *f = *state;
    json_t *j = get_json(f, "/api/equity");
    json_t *hist = json_object_get(j, "history");
    assert_int_equal(json_array_size(hist), 3);
    assert_string_equal(str(json_array_get(hist, 2), "equity"), "10001");
    assert_string_equal(str(json_array_get(hist, 1), "equity"), "10000.5");
    assert_string_equal(str(json_object_get(j, "current"), "equity"), "10250.12345678");
    json_decref(j);

    j = get_json(f, "/api/ess");
    assert_string_equal(str(j, "state"), "ARMED");
    assert_int_equal(json_integer_value(json_object_get(j, "trips")), 2);
    json_decref(j);

    j = get_json(f, "/api/policy");
    assert_true(json_is_true(json_object_get(j, "loaded")));
    assert_string_equal(str(j, "name"), "default");
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 7);
    assert_string_equal(str(j, "max_order_notional"), "1500.5");
    assert_int_equal(json_array_size(json_object_get(j, "symbols")), 2);
    json_decref(j);

    j = get_json(f, "/api/plugins");
    json_t *p = json_array_get(json_object_get(j, "plugins"), 0);
    assert_string_equal(str(p, "name"), "paper");
    assert_string_equal(str(p, "kind"), "exchange");
    assert_string_equal(str(p, "abi"), "2.0");
    json_decref(j);
}

static void test_policy_not_loaded(void **state)
{
    dash_fixture *f = *state;
    f->m->has_limits = false;
    json_t *j = get_json(f, "/api/policy");
    assert_true(json_is_false(json_object_get(j, "loaded")));
    json_decref(j);
}

static void test_health_all_worst_wins(void **state)
{
    dash_fixture *f = *state;
    json_t *j = get_json(f, "/health/all");
    assert_string_equal(str(j, "status"), "DEGRADED");
    json_t *comps = json_object_get(j, "components");
    assert_string_equal(str(json_object_get(comps, "exchange"), "status"), "OK");
    assert_string_equal(str(json_object_get(comps, "store"), "status"), "DEGRADED");
    assert_string_equal(str(json_object_get(comps, "store"), "reason"), "disk 91% full");
    json_decref(j);
    g_n_health = 3;
    j = get_json(f, "/health/all");
    assert_string_equal(str(j, "status"), "CRITICAL");
    json_decref(j);
    g_n_health = 1;
    j = get_json(f, "/health/all");
    assert_string_equal(str(j, "status"), "OK");
    json_decref(j);
}

/* ---- mutating calls ---------------------------------------------------------- */

static int post(dash_fixture *f, const char *path, const char *headers, const char *body, char *out_body, size_t cap)
{
    http_result r;
    assert_true(http_req(f->m, f->port, "POST", path, headers, body, &r));
    if (out_body) snprintf(out_body, cap, "%s", r.body ? r.body : "");
    int status = r.status;
    http_result_free(&r);
    return status;
}

static void test_trip_needs_the_right_token(void **state)
{
    dash_fixture *f = *state;
    const char *body = "{\"reason\":\"manual test\",\"user\":\"alice\"}";
    assert_int_equal(post(f, "/api/ess/trip", NULL, body, NULL, 0), 401);
    assert_int_equal(f->m->ess.state, QTR_ESS_ARMED);
    assert_int_equal(post(f, "/api/ess/trip", "Authorization: Bearer wrong-token\r\n", body, NULL, 0), 401);
    assert_int_equal(post(f, "/api/ess/trip", "Authorization: Basic " TOKEN "\r\n", body, NULL, 0), 401);
    assert_int_equal(post(f, "/api/ess/trip", "Authorization: Bearer " TOKEN "x\r\n", body, NULL, 0), 401);
    assert_int_equal(f->m->ess.state, QTR_ESS_ARMED);
    assert_int_equal(f->m->ess.trips, 2);
    char out[1024];
    assert_int_equal(post(f, "/api/ess/trip", AUTH, body, out, sizeof out), 200);
    assert_int_equal(f->m->ess.state, QTR_ESS_TRIPPED);
    assert_int_equal(f->m->ess.trips, 3);
    assert_string_equal(f->m->ess.trip_reason, "manual test");
    assert_non_null(strstr(out, "\"TRIPPED\""));
    /* the token never shows in logs */
    assert_null(strstr(f->m->last_log, TOKEN));
}

static void test_reset_and_refusal(void **state)
{
    dash_fixture *f = *state;
    f->m->ess.state = QTR_ESS_TRIPPED;
    assert_int_equal(post(f, "/api/ess/reset", NULL, "{\"reason\":\"ok\"}", NULL, 0), 401);
    assert_int_equal(f->m->ess.state, QTR_ESS_TRIPPED);
    assert_int_equal(post(f, "/api/ess/reset", AUTH, "{\"reason\":\"fixed the feed\",\"force\":false}", NULL, 0), 200);
    assert_int_equal(f->m->ess.state, QTR_ESS_ARMED);
    assert_int_equal(f->m->ess.resets, 1);
    /* the host refuses: 409 with its reason */
    f->m->ess.state = QTR_ESS_COOLDOWN;
    g_reset_rc = QTR_EREFUSED;
    f->m->api.ess_reset = h_ess_reset_refused;
    char out[1024];
    assert_int_equal(post(f, "/api/ess/reset", AUTH, "{\"reason\":\"again\"}", out, sizeof out), 409);
    assert_non_null(strstr(out, "cooldown: reset possible in 240 s"));
    assert_int_equal(f->m->ess.state, QTR_ESS_COOLDOWN);
}

/* A second trip while trading is halted: 409 as the spec says, with the
 * state and the first reason, and the ess object (it was a bare "the host
 * refused the trip", which told an operator in an emergency nothing). */
static void test_trip_while_tripped(void **state)
{
    dash_fixture *f = *state;
    g_ess_host = f->m;
    f->m->api.ess_trip = h_ess_trip_as_host;
    uint32_t trips = f->m->ess.trips;
    char out[2048];
    assert_int_equal(post(f, "/api/ess/trip", AUTH, "{\"reason\":\"feed froze\"}", out, sizeof out), 200);
    assert_int_equal(post(f, "/api/ess/trip", AUTH, "{\"reason\":\"again\"}", out, sizeof out), 409);
    json_error_t err;
    json_t *j = json_loads(out, 0, &err);
    if (!j) fail_msg("not JSON: %s", out);
    const char *error = str(j, "error");
    if (strcmp(error, "already COOLDOWN: manual: feed froze") != 0) fail_msg("error: %s", error);
    json_t *ess = json_object_get(j, "ess");
    if (!json_is_object(ess)) fail_msg("no ess object: %s", out);
    assert_string_equal(str(ess, "state"), "COOLDOWN");
    assert_string_equal(str(ess, "trip_reason"), "manual: feed froze");
    json_decref(j);
    assert_int_equal(f->m->ess.trips, trips + 1);   /* the second did not trip again */
}

/* Text a client sends is logged on one line: CR, LF and ESC as '?'. */
static void test_action_log_is_one_line(void **state)
{
    dash_fixture *f = *state;
    const char *body = "{\"reason\":\"line1\\nFAKE 2026 ERROR [ess] forged line\\u001b[31m\",\"user\":\"ev\\r\\nil\"}";
    assert_int_equal(post(f, "/api/ess/trip", AUTH, body, NULL, 0), 200);
    assert_string_equal(f->m->ess.trip_reason, "line1\nFAKE 2026 ERROR [ess] forged line\x1b[31m");   /* the host's own */
    const char *line = f->m->last_log;
    for (const char *c = line; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) fail_msg("control character 0x%02x in the log line: %s", *c, line);
    if (!strstr(line, "ESS tripped by ev??il from ") || !strstr(line, ": line1?FAKE 2026 ERROR [ess] forged line?[31m"))
        fail_msg("log line: %s", line);
    /* the reset and policy reload lines too */
    assert_int_equal(post(f, "/api/ess/reset", AUTH, "{\"reason\":\"ok\\r\\nnow\",\"user\":\"\\u001b[2Jx\"}", NULL, 0), 200);
    if (!strstr(f->m->last_log, "ESS reset by ?[2Jx from ") || !strstr(f->m->last_log, ": ok??now")) fail_msg("%s", f->m->last_log);
    assert_int_equal(post(f, "/api/policy/reload", AUTH, "{\"user\":\"a\\nb\"}", NULL, 0), 200);
    if (!strstr(f->m->last_log, "policy reloaded by a?b from ")) fail_msg("%s", f->m->last_log);
}

/* 96 bytes of reason: one more than a qtr reason field holds */
#define LONG_REASON_BODY "{\"reason\":\"" "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqr" "\"}"

static void test_bad_bodies(void **state)
{
    dash_fixture *f = *state;
    static const char *const bad[] = {
        "",                                     /* no reason */
        "{}",
        "{\"reason\":\"\"}",
        "{\"reason\":\"   \"}",
        "{\"reason\":42}",
        "{\"reason\":\"x\",\"force\":\"yes\"}",
        "{\"reason\":\"x\",\"user\":[1]}",
        "{\"reason\":\"x\"",                    /* malformed JSON */
        "[\"reason\"]",
        "{\"reason\":\"a\",\"reason\":\"b\"}",
        LONG_REASON_BODY,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int st = post(f, "/api/ess/trip", AUTH, bad[i], NULL, 0);
        if (st != 400) fail_msg("body %zu '%s' gave %d, want 400", i, bad[i], st);
    }
    assert_int_equal(f->m->ess.state, QTR_ESS_ARMED);
    assert_int_equal(post(f, "/api/ess/reset", AUTH, "{\"user\":\"bob\"}", NULL, 0), 400);
    /* auth comes first: an unauthenticated caller learns nothing about the body */
    assert_int_equal(post(f, "/api/ess/trip", NULL, "{", NULL, 0), 401);
}

/* Every line the plugin logs, for the tests that count them. */
#define LOG_LINES_MAX 64
static char g_log_lines[LOG_LINES_MAX][512];
static size_t g_n_log_lines;

static void capture_log(qtr_ctx *ctx, qtr_log_level level, const char *fmt, ...)
{
    (void)ctx; (void)level;
    if (g_n_log_lines == LOG_LINES_MAX) fail_msg("more than %d log lines", LOG_LINES_MAX);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_log_lines[g_n_log_lines++], sizeof g_log_lines[0], fmt, ap);
    va_end(ap);
}

/* Log lines captured that hold both texts; fails on a control character. */
static int log_lines_with(const char *a, const char *b)
{
    int n = 0;
    for (size_t i = 0; i < g_n_log_lines; i++) {
        for (const char *c = g_log_lines[i]; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f) fail_msg("control character in: %s", g_log_lines[i]);
        n += strstr(g_log_lines[i], a) && strstr(g_log_lines[i], b);
    }
    return n;
}

/* An action refused with 400 (or 501: no such service) leaves one log line
 * with who asked, as far as the body says, and why: it used to leave only
 * "http POST /api/ess/trip answered from ...: 400", neither who nor why. */
static void test_refused_actions_are_logged(void **state)
{
    dash_fixture *f = *state;
    static const struct { const char *path, *body; int status; const char *who, *why; } cases[] = {
        { "/api/ess/trip", "{\"reason\":\" \",\"user\":\"alice\"}", 400, "ESS trip by alice from 127.0.0.1:",
          "refused with 400: a trip needs a reason" },
        { "/api/ess/trip", "{\"reason\":\"x\"", 400, "ESS trip by (unknown) from 127.0.0.1:",
          "refused with 400: body must be a JSON object like" },
        { "/api/ess/trip", "{\"reason\":\"x\",\"user\":[1]}", 400, "ESS trip by (unknown) from ",
          "refused with 400: user must be a string" },
        { "/api/ess/trip", "", 400, "ESS trip by api from ", "refused with 400: a trip needs a reason" },
        { "/api/ess/reset", "{\"reason\":42,\"user\":\"bob\"}", 400, "ESS reset by bob from ",
          "refused with 400: reason must be a string" },
        { "/api/ess/reset", "{\"reason\":\"x\",\"force\":\"yes\",\"user\":\"ev\\r\\nil\\u001b[2J\"}", 400,
          "ESS reset by ev??il?[2J from ", "refused with 400: force must be true or false" },
        { "/api/ess/reset", LONG_REASON_BODY, 400, "ESS reset by api from ", "refused with 400: reason is too long" },
        { "/api/reconcile/ack", "{\"user\":\"carol\"}", 400, "reconcile ack by carol from ",
          "refused with 400: an acknowledgement needs a reason" },
        { "/api/policy/reload", "[\"reason\"]", 400, "policy reload by (unknown) from ",
          "refused with 400: body must be a JSON object like" },
        { "/api/reconcile/ack", "{\"reason\":\"checked\",\"user\":\"dave\"}", 501, "reconcile ack by dave from ",
          "refused with 501: this host cannot reconcile" },
    };
    f->m->api.log = capture_log;
    f->m->api.reconcile_ack = NULL;             /* an older host: the 501 case */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        g_n_log_lines = 0;
        int st = post(f, cases[i].path, AUTH, cases[i].body, NULL, 0);
        if (st != cases[i].status) fail_msg("case %zu gave %d, want %d", i, st, cases[i].status);
        if (log_lines_with(cases[i].who, cases[i].why) != 1) {
            for (size_t k = 0; k < g_n_log_lines; k++) fprintf(stderr, "  logged: %s\n", g_log_lines[k]);
            fail_msg("case %zu: want one line with '%s' and '%s'", i, cases[i].who, cases[i].why);
        }
    }
    /* refused before routing (no body read, so no user): the log says why */
    static const struct { const char *raw, *logged; } framing[] = {
        { "POST /api/ess/trip HTTP/1.1\r\nHost: 127.0.0.1\r\n" AUTH "Content-Length: 70000\r\n\r\n",
          "http POST /api/ess/trip answered from 127.0.0.1:" },
        { "POST /api/ess/trip HTTP/1.1\r\nHost: 127.0.0.1\r\n" AUTH "Content-Length: 12x\r\n\r\n",
          "http \"POST /api/ess/trip HTTP/1.1\" answered from 127.0.0.1:" },
    };
    static const char *const framing_why[] = { ": 413 (request body over 64 KiB)", ": 400 (malformed request)" };
    for (size_t i = 0; i < sizeof framing / sizeof framing[0]; i++) {
        g_n_log_lines = 0;
        http_result r;
        assert_true(http_raw(f->m, f->port, framing[i].raw, strlen(framing[i].raw), &r));
        http_result_free(&r);
        if (log_lines_with(framing[i].logged, framing_why[i]) != 1) {
            for (size_t k = 0; k < g_n_log_lines; k++) fprintf(stderr, "  logged: %s\n", g_log_lines[k]);
            fail_msg("framing case %zu: want one line with '%s' and '%s'", i, framing[i].logged, framing_why[i]);
        }
    }
    assert_int_equal(f->m->ess.state, QTR_ESS_ARMED);
    assert_int_equal(f->m->ess.trips, 2);
}

static void test_policy_reload(void **state)
{
    dash_fixture *f = *state;
    assert_int_equal(post(f, "/api/policy/reload", NULL, NULL, NULL, 0), 401);
    char out[2048];
    assert_int_equal(post(f, "/api/policy/reload", AUTH, NULL, out, sizeof out), 200);
    assert_non_null(strstr(out, "\"ok\":true"));
    g_reload_rc = QTR_EINVAL;
    assert_int_equal(post(f, "/api/policy/reload", AUTH, "{\"user\":\"carol\"}", out, sizeof out), 409);
    assert_non_null(strstr(out, "max_positions must be > 0"));
    assert_int_equal(post(f, "/api/policy/reload", AUTH, "nonsense", NULL, 0), 400);
}

static void test_no_token_configured_refuses(void **state)
{
    dash_fixture *f = *state;
    char out[1024];
    assert_int_equal(post(f, "/api/ess/trip", AUTH, "{\"reason\":\"x\"}", out, sizeof out), 403);
    assert_non_null(strstr(out, "QTR_API_TOKEN"));
    assert_int_equal(post(f, "/api/ess/trip", NULL, "{\"reason\":\"x\"}", NULL, 0), 403);
    assert_int_equal(post(f, "/api/ess/reset", AUTH, "{\"reason\":\"x\"}", NULL, 0), 403);
    assert_int_equal(post(f, "/api/policy/reload", AUTH, NULL, NULL, 0), 403);
    assert_int_equal(f->m->ess.state, QTR_ESS_ARMED);
    assert_int_equal(f->m->ess.trips, 2);
}

/* ---- protocol errors ------------------------------------------------------------ */

static int raw_status(dash_fixture *f, const char *raw, size_t len, http_result *r)
{
    assert_true(http_raw(f->m, f->port, raw, len, r));
    return r->status;
}

static void test_not_found_and_wrong_method(void **state)
{
    dash_fixture *f = *state;
    http_result r;
    assert_true(http_req(f->m, f->port, "GET", "/api/nothing", NULL, NULL, &r));
    assert_int_equal(r.status, 404);
    http_result_free(&r);
    char allow[64];
    assert_true(http_req(f->m, f->port, "POST", "/api/status", NULL, "{}", &r));
    assert_int_equal(r.status, 405);
    assert_string_equal(http_result_header(&r, "Allow", allow, sizeof allow), "GET, HEAD");
    http_result_free(&r);
    assert_true(http_req(f->m, f->port, "GET", "/api/ess/trip", NULL, NULL, &r));
    assert_int_equal(r.status, 405);
    assert_string_equal(http_result_header(&r, "Allow", allow, sizeof allow), "POST");
    http_result_free(&r);
    assert_true(http_req(f->m, f->port, "DELETE", "/", NULL, NULL, &r));
    assert_int_equal(r.status, 405);
    http_result_free(&r);
    /* HEAD: headers with the GET's length, no body */
    assert_true(http_req(f->m, f->port, "HEAD", "/api/status", NULL, NULL, &r));
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    char len[32];
    assert_true(atoi(http_result_header(&r, "Content-Length", len, sizeof len)) > 10);
    http_result_free(&r);
    /* /ws without the upgrade */
    assert_true(http_req(f->m, f->port, "GET", "/ws", NULL, NULL, &r));
    assert_int_equal(r.status, 426);
    http_result_free(&r);
}

static void test_too_large(void **state)
{
    dash_fixture *f = *state;
    http_result r;
    /* body over 64 KiB: refused from the Content-Length alone */
    const char *big = "POST /api/ess/trip HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 70000\r\n\r\n";
    assert_int_equal(raw_status(f, big, strlen(big), &r), 413);
    http_result_free(&r);
    /* head over 8 KiB */
    size_t n = 9000;
    char *huge = malloc(n + 64);
    int k = sprintf(huge, "GET /api/status HTTP/1.1\r\nX-Pad: ");
    memset(huge + k, 'a', n);
    strcpy(huge + k + n, "\r\n\r\n");
    assert_int_equal(raw_status(f, huge, strlen(huge), &r), 413);
    http_result_free(&r);
    /* and a head that never ends, sent in one go: cut off at the limit */
    huge[k + n] = '\0';
    assert_int_equal(raw_status(f, huge, strlen(huge), &r), 413);
    http_result_free(&r);
    free(huge);
    assert_int_equal(f->m->ess.state, QTR_ESS_ARMED);
}

static void test_malformed_requests(void **state)
{
    dash_fixture *f = *state;
    http_result r;
    /* each refusal's log line shows what there is of the request line, on one line */
    static const struct { const char *raw; int status; const char *logged; } cases[] = {
        { "GARBAGE\r\n\r\n", 400, "http \"GARBAGE\" answered from " },
        { "GET /api/status HTTP/3.0\r\n\r\n", 505, "http \"GET /api/status HTTP/3.0\" answered from " },
        { "POST /api/ess/trip HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501,
          "http \"POST /api/ess/trip HTTP/1.1\" answered from " },
        { "GET /api/status HTTP/1.1\r\nBad Header\r\n\r\n", 400, "http \"GET /api/status HTTP/1.1\" answered from " },
        { "\x16\x03\x01\x02\x01\x01\x01\x01\xfc\x03\x03\r\n\r\n", 400,
          "http \"????????\xfc??\" answered from " },   /* TLS on plain HTTP */
        { "GET /\x1b[31m HTTP/1.1\r\n\r\n", 400, "http \"GET /?[31m HTTP/1.1\" answered from " },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int st = raw_status(f, cases[i].raw, strlen(cases[i].raw), &r);
        if (st != cases[i].status) fail_msg("case %zu gave %d, want %d", i, st, cases[i].status);
        if (!strstr(f->m->last_log, cases[i].logged)) fail_msg("case %zu logged: %s", i, f->m->last_log);
        http_result_free(&r);
    }
    /* the server is still fine */
    json_t *j = get_json(f, "/api/ess");
    json_decref(j);
}

/* A 401 answers a well-framed request: like a 404 or a 405 it keeps the
 * connection (no Connection: close) and the request pipelined behind it is
 * answered. Only a request that cannot be framed closes the connection. */
static void test_401_keeps_the_connection(void **state)
{
    dash_fixture *f = *state;
    const char *body = "{\"reason\":\"nope\"}";
    char raw[512];
    int n = snprintf(raw, sizeof raw,
                     "POST /api/ess/trip HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %zu\r\n\r\n%s"
                     "POST /api/ess/trip HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer wrong\r\n\r\n"
                     "GET /api/ess HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                     strlen(body), body);
    assert_true(n > 0 && (size_t)n < sizeof raw);
    http_result r;
    assert_true(http_raw(f->m, f->port, raw, (size_t)n, &r));
    assert_int_equal(r.status, 401);
    assert_int_equal(r.n_responses, 3);
    char value[64];
    assert_null(http_result_header(&r, "Connection", value, sizeof value));
    assert_non_null(http_result_header(&r, "WWW-Authenticate", value, sizeof value));
    http_result_free(&r);
    assert_int_equal(f->m->ess.state, QTR_ESS_ARMED);
}

static void test_keep_alive_pipelined(void **state)
{
    dash_fixture *f = *state;
    const char *two = "GET /api/ess HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /api/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    http_result r;
    assert_true(http_raw(f->m, f->port, two, strlen(two), &r));
    assert_int_equal(r.status, 200);
    assert_int_equal(r.n_responses, 2);
    http_result_free(&r);
}

static void test_page_is_served(void **state)
{
    dash_fixture *f = *state;
    http_result r;
    char v[512];
    assert_true(http_req(f->m, f->port, "GET", "/", NULL, NULL, &r));
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(http_result_header(&r, "Content-Type", v, sizeof v), "text/html"));
    assert_non_null(http_result_header(&r, "Content-Security-Policy", v, sizeof v));
    assert_non_null(strstr(r.body, "<html"));
    assert_non_null(strstr(r.body, "app.js"));
    /* nothing is loaded from outside the plugin */
    assert_null(strstr(r.body, "http://"));
    assert_null(strstr(r.body, "https://"));
    http_result_free(&r);
    assert_true(http_req(f->m, f->port, "GET", "/app.js", NULL, NULL, &r));
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(http_result_header(&r, "Content-Type", v, sizeof v), "javascript"));
    assert_non_null(strstr(r.body, "WebSocket"));
    http_result_free(&r);
}

static void test_plugin_health(void **state)
{
    dash_fixture *f = *state;
    qtr_health h;
    f->p.desc->health(f->p.state, &h);
    assert_int_equal(h.status, QTR_HEALTH_OK);
    char want[64];
    snprintf(want, sizeof want, "listening on 127.0.0.1:%d", f->port);
    assert_non_null(strstr(h.reason, want));
    assert_string_equal(f->p.desc->name, "dashboard");
    assert_int_equal(f->p.desc->kind, QTR_KIND_DASHBOARD);
}

static void test_bad_options_refused(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        { "listen", "not-an-address" },
        { "batch_max_events", "0" },
        { "max_msgs_per_sec", "-5" },
        { "client_buffer_bytes", "10" },
        { "webhook_url", "file:///etc/passwd" },
        { "alert_daily_drawdown_pct", "-1" },
        { "request_timeout_ms", "0" },
        { "request_timeout_ms", "600001" },
        { "max_connections_per_address", "0" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dash_fixture f;
        const char *opts[] = { bad[i][0], bad[i][1], NULL };
        if (dash_start(&f, opts)) fail_msg("option %s=%s was accepted", bad[i][0], bad[i][1]);
        assert_non_null(strstr(f.m->last_log, bad[i][0]) ? f.m->last_log : strstr(f.m->last_log, "listen"));
        mock_host_free(f.m);
    }
}

static void test_port_in_use_refused(void **state)
{
    dash_fixture *f = *state;
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", f->port);
    dash_fixture g;
    const char *opts[] = { "listen", listen, NULL };
    assert_false(dash_start(&g, opts));
    assert_non_null(strstr(g.m->last_log, "cannot listen"));
    mock_host_free(g.m);
}

int main(void)
{
    const struct CMUnitTest with_token[] = {
        cmocka_unit_test_setup_teardown(test_get_status, setup_with_token, teardown),
        cmocka_unit_test_setup_teardown(test_status_regimes, setup_with_token, teardown),
        cmocka_unit_test_setup_teardown(test_get_positions, setup_with_token, teardown),
        cmocka_unit_test_setup_teardown(test_get_exits, setup_with_token, teardown),
        cmocka_unit_test_setup_teardown(test_positions_answer_follows_the_host, setup_with_token, teardown),
        cmocka_unit_test_setup_teardown(test_get_orders_fills_signals, setup_with_token, teardown),
        cmocka_unit_test_setup_teardown(test_get_equity_ess_policy_plugins, setup_with_token, teardown),
        cmocka_unit_test_setup_teardown(test_policy_not_loaded, setup_with_token, teardown),
        cmocka_unit_test_setup_teardown(test_health_all_worst_wins, setup_with_token, teardown),
        cmocka_unit_test_setup_teardown(test_trip_needs_the_right_token, setup_with_token, teardown),
        cmocka_unit_test_setup_teardown(test_reset_and_refusal, setup_with_token, teardown),
        cmocka_unit_test_setup_teardown(test_trip_while_tripped, setup_with_token, teardown),
        cmocka_unit_test_setup_teardown(test_action_log_is_one_line, setup_with_token, teardown),
        cmocka_unit_test_setup_teardown(test_bad_bodies, setup_with_token, teardown),
        cmocka_unit_test_setup_teardown(test_refused_actions_are_logged, setup_with_token, teardown),
        cmocka_unit_test_setup_teardown(test_policy_reload, setup_with_token, teardown),
        cmocka_unit_test_setup_teardown(test_no_token_configured_refuses, setup_without_token, teardown),
        cmocka_unit_test_setup_teardown(test_not_found_and_wrong_method, setup_with_token, teardown),
        cmocka_unit_test_setup_teardown(test_too_large, setup_with_token, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_requests, setup_with_token, teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive_pipelined, setup_with_token, teardown),
        cmocka_unit_test_setup_teardown(test_401_keeps_the_connection, setup_with_token, teardown),
        cmocka_unit_test_setup_teardown(test_page_is_served, setup_with_token, teardown),
        cmocka_unit_test_setup_teardown(test_plugin_health, setup_with_token, teardown),
        cmocka_unit_test(test_bad_options_refused),
        cmocka_unit_test_setup_teardown(test_port_in_use_refused, setup_with_token, teardown),
    };
    return cmocka_run_group_tests(with_token, NULL, NULL);
}
