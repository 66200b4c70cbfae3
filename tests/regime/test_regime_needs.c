/*
 * qtr_plugin_desc.needs (SDK 2.4) and the regime: a backtest classifies
 * candles only when something can read the result, a plugin that declares
 * QTR_NEEDS_REGIME or predates 2.4 (or a REGIME subscriber of the host's
 * own); a plugin that does not declare it is refused get_regime, REGIME
 * events and an exit plan with a regime_mask, in a backtest, live, and on
 * the mock host alike, with one ERROR line naming it and the fix. A live
 * server always classifies (its qtr_regime gauge).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"
#include "core/plugin_needs.h"
#include "engine_fixture.h"
#include "mock_host.h"
#include "regime_reader.h"

#define N_CANDLES 300

static char g_dir[64], g_log[96];

/* Candle i of TESTUSDT, one hour each: up, sideways, down, then wild, so
 * every regime comes and goes (as test_regime_host's file). */
static qtr_candle candle(int i, double *price)
{
    double open = *price, step;
    if (i < 80) step = 0.004;
    else if (i < 160) step = (i / 3) % 2 ? -0.005 : 0.005;
    else if (i < 240) step = -0.004;
    else step = (i % 2) ? -0.07 : 0.07;
    double close = open * (1 + step);
    *price = close;
    qtr_candle c;
    memset(&c, 0, sizeof c);
    qtr_strlcpy(c.symbol, "TESTUSDT", sizeof c.symbol);
    c.open_time_ms = 1700000000000 + (int64_t)i * 3600000;
    c.close_time_ms = c.open_time_ms + 3600000 - 1;
    c.open = (qtr_dec)(open * 1e6) * 100;
    c.close = (qtr_dec)(close * 1e6) * 100;
    c.high = (qtr_dec)((open > close ? open : close) * 1.002 * 1e6) * 100;
    c.low = (qtr_dec)((open < close ? open : close) * 0.998 * 1e6) * 100;
    c.volume = QTR_DEC_INT(10);
    return c;
}

typedef struct bt {
    qh_config cfg;
    qh_engine *e;
    FILE *log;
} bt;

/* A backtest engine with the paper exchange, the policy risk plugin and
 * one strategy: `strategy` is the config's plugin entry. */
static void bt_open(bt *b, const char *strategy)
{
    const char *plugins = getenv("QTR_PLUGIN_DIR");
    const char *src = getenv("QTR_SOURCE_DIR");
    char text[4096], err[1024] = "";
    snprintf(text, sizeof text,
             "return {\n"
             "  mode = 'paper', state_dir = '%s/var', store = false,\n"
             "  plugin_path = { '%s', '%s', '%s' },\n"
             "  account = { starting_balance = '1000000' },\n"
             "  policy = { file = '%s/policies/default.lua' },\n"
             "  plugins = {\n"
             "    { kind = 'exchange', name = 'paper' },\n"
             "    { kind = 'risk', name = 'policy' },\n"
             "    %s,\n"
             "  },\n"
             "}\n",
             g_dir, plugins ? plugins : "build/plugins", REGIME_FIXTURE_DIR, OLDER_FIXTURE_DIR, src ? src : ".",
             strategy);
    b->log = fopen(g_log, "w");
    assert_non_null(b->log);
    qh_log_init(b->log, QH_LOG_DEBUG, false);
    if (qh_config_load_string(text, "needs-test.lua", g_dir, &b->cfg, err, sizeof err) != 0) fail_msg("config: %s", err);
    b->e = qh_engine_new(&b->cfg, NULL, 1700000000000, err, sizeof err);
    if (!b->e) fail_msg("engine: %s", err);
    if (qh_engine_load(b->e, err, sizeof err) != 0 || qh_engine_start(b->e, err, sizeof err) != 0)
        fail_msg("%s", err);
}

static void bt_feed(bt *b)
{
    double price = 100;
    for (int i = 0; i < N_CANDLES; i++) {
        qtr_candle c = candle(i, &price);
        qh_engine_feed_candle(b->e, &c);
    }
}

static void bt_close(bt *b)
{
    qh_engine_free(b->e);
    qh_config_free(&b->cfg);
    qh_log_init(stderr, QH_LOG_WARN, false);
    fclose(b->log);
}

static size_t log_count(const char *needle) { return efx_file_count(g_log, needle); }

static qh_plugin_rt *plugin(qh_engine *e, const char *name)
{
    for (size_t i = 0; i < e->n_plugins; i++)
        if (!strcmp(e->plugins[i].ld.desc.name, name)) return &e->plugins[i];
    fail_msg("no plugin %s", name);
    return NULL;
}

static uint64_t regimes_published(qh_engine *e)
{
    qh_bus_stats st;
    qh_bus_stats_get(e->bus, &st);
    return st.published[QTR_EV_REGIME];
}

static qtr_exit_plan regime_plan(void)
{
    qtr_exit_plan p = QTR_SIZED(qtr_exit_plan);
    p.base.stop_loss.bps = 100;
    p.regime[QTR_REGIME_VOLATILE].stop_loss.bps = 300;
    p.regime_mask = 1u << QTR_REGIME_VOLATILE;
    return p;
}

/* The rule itself: before 2.4 everything is needed; from 2.4 what is declared. */
static void the_rule(void **state)
{
    (void)state;
    qtr_plugin_desc d = { .abi_major = 2, .abi_minor = 3 };
    assert_true(qh_plugin_needs(&d, QTR_NEEDS_REGIME));
    d.abi_minor = 4;
    assert_false(qh_plugin_needs(&d, QTR_NEEDS_REGIME));
    assert_true(qh_plugin_needs(&d, 0));
    d.needs = QTR_NEEDS_REGIME;
    assert_true(qh_plugin_needs(&d, QTR_NEEDS_REGIME));
    qtr_exit_plan p = regime_plan();
    assert_int_equal(qh_exit_plan_needs(&p), QTR_NEEDS_REGIME);
    p.size = offsetof(qtr_exit_plan, regime_mask);   /* built before the mask: none */
    assert_int_equal(qh_exit_plan_needs(&p), 0);
    p = regime_plan();
    p.regime_mask = 0;
    assert_int_equal(qh_exit_plan_needs(&p), 0);
    char line[320];
    qh_plugin_needs_refusal(line, sizeof line, "x", "get_regime", QTR_NEEDS_REGIME);
    assert_non_null(strstr(line, "plugin 'x': get_regime refused"));
    assert_non_null(strstr(line, ".needs = QTR_NEEDS_REGIME"));
}

/* A backtest whose only strategy does not declare the need: no classifier
 * on the candle path, and every way to read a regime refused, logged once. */
static void backtest_without_the_need(void **state)
{
    (void)state;
    bt b;
    bt_open(&b, "{ kind = 'strategy', name = 'regime_blind' }");
    assert_null(b.e->regime_sub);
    qh_plugin_rt *p = plugin(b.e, "regime_blind");
    regime_reader *r = p->state;
    assert_false(r->subscribed);
    bt_feed(&b);
    assert_int_equal(r->candles, N_CANDLES);
    assert_int_equal(r->last_rc, QTR_EREFUSED);
    assert_int_equal(r->answered, 0);
    assert_int_equal(r->regime_events, 0);
    assert_int_equal(regimes_published(b.e), 0);
    /* nothing was classified: the host's own context finds no regime */
    qtr_regime_event ev;
    const qtr_host *h = qh_engine_host_api(b.e);
    assert_int_equal(h->get_regime(qh_engine_host_ctx(b.e), "TESTUSDT", &ev, sizeof ev), QTR_ENOTFOUND);
    /* an exit plan with regime parameters is refused; one without is not */
    qtr_exit_plan plan = regime_plan();
    char err[256] = "";
    assert_int_equal(h->set_exit_plan(&p->ctx, "TESTUSDT", &plan, err, sizeof err), QTR_EREFUSED);
    assert_non_null(strstr(err, "QTR_NEEDS_REGIME"));
    plan.regime_mask = 0;
    assert_int_equal(h->set_exit_plan(&p->ctx, "TESTUSDT", &plan, err, sizeof err), QTR_OK);
    bt_close(&b);
    /* one ERROR line for the need, however many refusals, naming the fix */
    assert_int_equal(log_count("plugin 'regime_blind': subscribing to REGIME events refused"), 1);
    assert_int_equal(log_count("QTR_NEEDS_REGIME"), 2);   /* that line, and the debug line of the drop */
    assert_int_equal(log_count("not classified in this backtest"), 1);
}

/* The same backtest with a plugin that declares it: classified, and it reads
 * each candle's regime and gets REGIME events. */
static void backtest_with_the_need(void **state)
{
    (void)state;
    bt b;
    bt_open(&b, "{ kind = 'strategy', name = 'regime_reader' }");
    assert_non_null(b.e->regime_sub);
    qh_plugin_rt *p = plugin(b.e, "regime_reader");
    regime_reader *r = p->state;
    assert_true(r->subscribed);
    bt_feed(&b);
    assert_int_equal(r->candles, N_CANDLES);
    assert_int_equal(r->last_rc, QTR_OK);
    assert_int_equal(r->answered, N_CANDLES);   /* this candle's, already */
    assert_true(r->regime_events >= 4);
    assert_int_equal(regimes_published(b.e), r->regime_events);
    const qtr_host *h = qh_engine_host_api(b.e);
    qtr_exit_plan plan = regime_plan();
    assert_int_equal(h->set_exit_plan(&p->ctx, "TESTUSDT", &plan, NULL, 0), QTR_OK);
    bt_close(&b);
    assert_int_equal(log_count("refused"), 0);
    assert_int_equal(log_count("not classified"), 0);
}

/* A plugin built before 2.4 cannot declare: it is taken to need it. */
static void backtest_with_an_older_plugin(void **state)
{
    (void)state;
    bt b;
    bt_open(&b, "{ kind = 'strategy', name = 'fixture_minor_older', file = 'minor_older.so', "
                "options = { stop_bps = 275 } }");
    assert_int_equal(plugin(b.e, "fixture_minor_older")->ld.desc.abi_minor, 1);
    assert_non_null(b.e->regime_sub);
    bt_feed(&b);
    assert_true(regimes_published(b.e) >= 4);
    qtr_regime_event ev;
    const qtr_host *h = qh_engine_host_api(b.e);
    assert_int_equal(h->get_regime(qh_engine_host_ctx(b.e), "TESTUSDT", &ev, sizeof ev), QTR_OK);
    bt_close(&b);
}

/* The host's own REGIME subscriber, made before the plugins load, keeps it. */
static void on_regime(void *ud, const qtr_event *ev)
{
    (void)ev;
    (*(size_t *)ud)++;
}

static void backtest_with_a_host_subscriber(void **state)
{
    (void)state;
    const char *plugins = getenv("QTR_PLUGIN_DIR");
    const char *src = getenv("QTR_SOURCE_DIR");
    char text[4096], err[1024] = "";
    snprintf(text, sizeof text,
             "return { mode = 'paper', state_dir = '%s/var', store = false, plugin_path = { '%s', '%s' },\n"
             "  policy = { file = '%s/policies/default.lua' },\n"
             "  plugins = { { kind = 'exchange', name = 'paper' }, { kind = 'strategy', name = 'regime_blind' } } }\n",
             g_dir, plugins ? plugins : "build/plugins", REGIME_FIXTURE_DIR, src ? src : ".");
    qh_config cfg;
    if (qh_config_load_string(text, "needs-test.lua", g_dir, &cfg, err, sizeof err) != 0) fail_msg("config: %s", err);
    qh_engine *e = qh_engine_new(&cfg, NULL, 1700000000000, err, sizeof err);
    assert_non_null(e);
    size_t heard = 0;
    const qtr_host *h = qh_engine_host_api(e);
    assert_non_null(h->subscribe(qh_engine_host_ctx(e), QTR_EV_REGIME, NULL, on_regime, &heard));
    if (qh_engine_load(e, err, sizeof err) != 0 || qh_engine_start(e, err, sizeof err) != 0) fail_msg("%s", err);
    assert_non_null(e->regime_sub);
    double price = 100;
    for (int i = 0; i < N_CANDLES; i++) {
        qtr_candle c = candle(i, &price);
        qh_engine_feed_candle(e, &c);
    }
    assert_true(heard >= 4);
    qh_engine_free(e);
    qh_config_free(&cfg);
}

/* Live, the classifier always runs (the qtr_regime gauge reads it), and a
 * plugin that does not declare the need is refused all the same: a plugin
 * behaves alike live and in a backtest. */
static void live_classifies_and_still_refuses(void **state)
{
    (void)state;
    efx *f = efx_new();   /* its strategy "quiet" is built at 2.4 without needs */
    assert_non_null(f->e->regime_sub);
    qh_plugin_rt *quiet = efx_plugin(f, "quiet");
    assert_non_null(quiet);
    assert_false(qh_plugin_needs(&quiet->ld.desc, QTR_NEEDS_REGIME));
    efx_price(f, "BTCUSDT", QTR_DEC_INT(100));
    const qtr_host *h = &f->e->api;
    qtr_regime_event ev;
    assert_int_equal(h->get_regime(qh_engine_host_ctx(f->e), "BTCUSDT", &ev, sizeof ev), QTR_OK);
    assert_int_equal(h->get_regime(&quiet->ctx, "BTCUSDT", &ev, sizeof ev), QTR_EREFUSED);
    assert_null(h->subscribe(&quiet->ctx, QTR_EV_REGIME, NULL, on_regime, NULL));
    /* other event types stay open to it */
    qtr_sub *s = h->subscribe(&quiet->ctx, QTR_EV_CANDLE, NULL, on_regime, NULL);
    assert_non_null(s);
    h->unsubscribe(&quiet->ctx, s);
    assert_int_equal(efx_log_count(f, "plugin 'quiet': get_regime refused"), 1);
    efx_free(f);
}

/* The mock host applies the same rule to the plugin it loaded. */
static void the_mock_host_refuses_alike(void **state)
{
    (void)state;
    mock_host *m = mock_host_new(false);
    assert_non_null(m);
    qtr_regime_event set = { .symbol = "TESTUSDT", .regime = QTR_REGIME_RANGE };
    m->regimes[m->n_regimes++] = set;
    mock_plugin pl;
    assert_int_equal(mock_plugin_load(m, REGIME_FIXTURE_DIR "/strategy_regime_blind.so", &pl), 0);
    regime_reader *r = pl.state;
    assert_false(r->subscribed);
    qtr_regime_event ev;
    assert_int_equal(m->api.get_regime(m->ctx, "TESTUSDT", &ev, sizeof ev), QTR_EREFUSED);
    qtr_exit_plan plan = regime_plan();
    assert_int_equal(m->api.set_exit_plan(m->ctx, "TESTUSDT", &plan, NULL, 0), QTR_EREFUSED);
    assert_int_equal(m->n_needs_refused, 3);
    assert_int_equal(m->n_logs_error, 1);
    assert_non_null(strstr(m->last_log, "plugin 'regime_blind': subscribing to REGIME events refused"));
    mock_plugin_unload(m, &pl);

    assert_int_equal(mock_plugin_load(m, REGIME_FIXTURE_DIR "/strategy_regime_reader.so", &pl), 0);
    r = pl.state;
    assert_true(r->subscribed);
    assert_int_equal(m->api.get_regime(m->ctx, "TESTUSDT", &ev, sizeof ev), QTR_OK);
    assert_int_equal(ev.regime, QTR_REGIME_RANGE);
    assert_int_equal(m->api.set_exit_plan(m->ctx, "TESTUSDT", &plan, NULL, 0), QTR_OK);
    assert_int_equal(m->n_needs_refused, 3);
    mock_plugin_unload(m, &pl);
    mock_host_free(m);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/qtr-needs-XXXXXX");
    if (!mkdtemp(g_dir)) return 1;
    snprintf(g_log, sizeof g_log, "%s/log", g_dir);
    qh_log_init(stderr, QH_LOG_WARN, false);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_rule),
        cmocka_unit_test(backtest_without_the_need),
        cmocka_unit_test(backtest_with_the_need),
        cmocka_unit_test(backtest_with_an_older_plugin),
        cmocka_unit_test(backtest_with_a_host_subscriber),
        cmocka_unit_test(live_classifies_and_still_refuses),
        cmocka_unit_test(the_mock_host_refuses_alike),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd) != 0) rc = rc ? rc : 1;
    return rc;
}
