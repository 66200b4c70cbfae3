/* The server config's caps in the real engine, and an engine with no risk
 * plugin at all: a policy beyond a cap stops the start (exit 2, file:line)
 * and a hot reload beyond a cap keeps the last good policy; with no risk
 * plugin the policy still decides every order. */
#include <event2/event.h>
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
#include "engine/engine_internal.h"
#include "exchange_rec.h"

typedef struct world {
    char dir[64];
    char policy[128];
    qh_config cfg;
    struct event_base *base;
    qh_engine *e;
} world;

static void write_policy(world *w, const char *max_order_notional)
{
    FILE *out = fopen(w->policy, "w");
    assert_non_null(out);
    fprintf(out,
            "return {\n"
            "  name = 'capped',\n"
            "  limits = { max_positions = 3, max_symbols = 3, min_confidence = 0.5,\n"
            "             max_position_notional = '1000',\n"
            "             max_order_notional = '%s',\n"
            "             max_total_exposure = '3000', max_leverage = 5 },\n"
            "  ess = { max_drawdown_pct = '10', daily_loss_pct = '5', max_consecutive_errors = 5,\n"
            "          cooldown_minutes = 15, close_positions = false, alert_daily_drawdown_pct = '4' },\n"
            "  judge = function(order, ctx) return 'allow' end,\n"
            "}\n",
            max_order_notional);
    assert_int_equal(fclose(out), 0);
}

/* An engine over a config with caps and no risk plugin; 0, or the load's
 * exit code with its error in err. */
static int start(world *w, char *err, size_t errlen)
{
    char text[2048];
    snprintf(text, sizeof text,
             "return { state_dir = '%s/var', plugin_path = { '%s' }, store = false,\n"
             "  policy = { file = '%s' },\n"
             "  caps = { max_order_notional = '500', max_leverage = 5 },\n"
             "  plugins = { { kind = 'exchange', name = 'rec' } } }\n",
             w->dir, ENGINE_FIXTURE_DIR, w->policy);
    assert_int_equal(qh_config_load_string(text, "caps-test.lua", w->dir, &w->cfg, err, errlen), 0);
    w->base = event_base_new();
    w->e = qh_engine_new(&w->cfg, w->base, 0, err, errlen);
    assert_non_null(w->e);
    return qh_engine_load(w->e, err, errlen);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    int n = snprintf(w->dir, sizeof w->dir, "/tmp/qtr-caps-");
    memset(w->dir + n, 'X', 6);
    w->dir[n + 6] = '\0';
    assert_non_null(mkdtemp(w->dir));
    snprintf(w->policy, sizeof w->policy, "%s/capped.lua", w->dir);
    qh_log_set_level(QH_LOG_ERROR);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    if (w->e) qh_engine_free(w->e);
    if (w->base) event_base_free(w->base);
    qh_config_free(&w->cfg);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", w->dir);
    assert_int_equal(system(cmd), 0);
    free(w);
    return 0;
}

static void start_beyond_a_cap_refused(void **state)
{
    world *w = *state;
    write_policy(w, "501");
    char err[1024] = "";
    assert_int_equal(start(w, err, sizeof err), 2);
    char where[200];
    snprintf(where, sizeof where, "%s:5: limits.max_order_notional = 501 is beyond the server's cap", w->policy);
    if (!strstr(err, where)) fail_msg("error '%s' lacks '%s'", err, where);
}

static void reload_beyond_a_cap_keeps_the_last_good(void **state)
{
    world *w = *state;
    write_policy(w, "400");
    char err[1024] = "";
    if (start(w, err, sizeof err) != 0) fail_msg("%s", err);
    write_policy(w, "5000");
    assert_int_not_equal(qh_engine_reload_policy(w->e, err, sizeof err), 0);
    assert_non_null(strstr(err, "capped.lua:5: limits.max_order_notional = 5000 is beyond"));
    assert_int_equal(qh_policy_limits(w->e->policy)->max_order_notional, QTR_DEC_INT(400));
}

/* No risk plugin configured: the engine runs, and the policy decides. */
static void no_risk_plugin_policy_still_decides(void **state)
{
    world *w = *state;
    write_policy(w, "400");
    char err[1024] = "";
    if (start(w, err, sizeof err) != 0) fail_msg("%s", err);
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_CANDLE;
    qtr_strlcpy(ev.u.candle.symbol, "BTCUSDT", sizeof ev.u.candle.symbol);
    ev.u.candle.open = ev.u.candle.high = ev.u.candle.low = ev.u.candle.close = QTR_DEC_INT(100);
    ev.u.candle.volume = QTR_DEC_INT(1);
    assert_int_equal(w->e->api.publish(&w->e->exchange->ctx, &ev), QTR_OK);
    qtr_order_intent o;
    memset(&o, 0, sizeof o);
    qtr_strlcpy(o.symbol, "BTCUSDT", sizeof o.symbol);
    o.side = QTR_SIDE_BUY;
    o.type = QTR_ORDER_MARKET;
    o.qty = QTR_DEC_INT(1);
    o.confidence = 0.9;
    assert_int_equal(qh_pipeline_submit_order(w->e, "test", &o, NULL), QTR_OK);
    o.confidence = 0.1;
    assert_int_equal(qh_pipeline_submit_order(w->e, "test", &o, NULL), QTR_EREFUSED);
    o.confidence = 0.9;
    o.qty = QTR_DEC_INT(10);                                     /* 1000 > 400: cut to 4 */
    assert_int_equal(qh_pipeline_submit_order(w->e, "test", &o, NULL), QTR_OK);
    fx_exchange *x = w->e->exchange->state;
    assert_int_equal(x->n_orders, 2);
    assert_int_equal(x->orders[1].qty, QTR_DEC_INT(4));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(start_beyond_a_cap_refused),
        T(reload_beyond_a_cap_keeps_the_last_good),
        T(no_risk_plugin_policy_still_decides),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
