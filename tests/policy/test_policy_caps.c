/* The server config's hard caps (core/config_caps.c, policy/policy_caps.c):
 * a policy beyond a cap is refused with its file:line, at the first load
 * and at a hot reload, and the last good policy stays; the `caps` table of
 * a server config is read and checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lualib.h>

#include "core/config.h"
#include "policy_fixture.h"

static qtr_dec D(const char *s)
{
    qtr_dec d = 0;
    if (qtr_dec_parse(s, strlen(s), &d) != QTR_DEC_OK) fail_msg("bad decimal %s", s);
    return d;
}

typedef struct world {
    pfx fx;
    qh_policy *p;
} world;

static qh_policy_caps test_caps(void)
{
    qh_policy_caps c = {
        .max_order_notional = D("500"),
        .max_position_notional = D("1000"),
        .max_leverage = 5,
        .ess_max_drawdown_pct = D("3"),
    };
    return c;
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    pfx_init(&w->fx);
    qh_policy_config cfg = { .caps = test_caps() };
    w->p = qh_policy_new(&cfg);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    qh_policy_free(w->p);
    pfx_cleanup(&w->fx);
    free(w);
    return 0;
}

/* The fixture's base policy with one field changed, written to live.lua.
 * The prelude is a comment that names a field: it must not be taken for
 * the field's line. Lines: 1-2 prelude, 3 return, 4 name, 5 limits = {,
 * 6 symbols, 7 max_positions, 8 max_symbols, 9 min_confidence,
 * 10 max_position_notional, 11 max_order_notional, 12 max_total_exposure,
 * 13 max_leverage, ..., 18 ess = {, 19 max_drawdown_pct. */
static const char *write_with(world *w, const char *section, const char *key, const char *value)
{
    char text[8192];
    pfx_policy_text(text, sizeof text, "-- max_order_notional = \"1\" is not this line\n", section, key, value,
                    NULL);
    return pfx_write(&w->fx, "live.lua", text);
}

static void expect_refused(world *w, const char *section, const char *key, const char *value, int line,
                           const char *cap)
{
    const char *path = write_with(w, section, key, value);
    qtr_policy_event ev;
    assert_int_equal(qh_policy_load(w->p, path, 1000, &ev), -1);
    char where[400];
    snprintf(where, sizeof where, "%s:%d: ", path, line);
    if (strncmp(ev.error, where, strlen(where)) != 0) fail_msg("error '%s' does not start with '%s'", ev.error, where);
    assert_true(pfx_contains(ev.error, "beyond the server's cap"));
    assert_true(pfx_contains(ev.error, cap));
}

static void within_caps_loads(void **state)
{
    world *w = *state;
    qtr_policy_event ev;
    assert_int_equal(qh_policy_load(w->p, write_with(w, NULL, NULL, NULL), 1000, &ev), 0);   /* exactly at the caps */
    assert_true(ev.ok);
}

/* A first load beyond a cap: refused, nothing loaded. */
static void initial_load_beyond_cap_refused(void **state)
{
    world *w = *state;
    expect_refused(w, "limits", "max_order_notional", "\"500.00000001\"", 11, "caps.max_order_notional = 500");
    assert_false(qh_policy_loaded(w->p));
    expect_refused(w, "limits", "max_position_notional", "\"1001\"", 10, "caps.max_position_notional = 1000");
    expect_refused(w, "limits", "max_leverage", "6", 13, "limits.max_leverage = 6 is beyond the server's cap caps.max_leverage = 5");
    expect_refused(w, "ess", "max_drawdown_pct", "\"3.5\"", 19, "caps.ess_max_drawdown_pct = 3");
    assert_false(qh_policy_loaded(w->p));
}

/* A hot reload beyond a cap: refused, the last good policy stays in force. */
static void reload_beyond_cap_keeps_last_good(void **state)
{
    world *w = *state;
    qtr_policy_event ev;
    assert_int_equal(qh_policy_load(w->p, write_with(w, "limits", "max_order_notional", "\"400\""), 1000, &ev), 0);
    expect_refused(w, "limits", "max_order_notional", "\"5000\"", 11, "limits.max_order_notional = 5000");
    assert_int_equal(qh_policy_reload(w->p, 2000, &ev), -1);          /* the same file, reloaded */
    assert_true(pfx_contains(ev.error, "live.lua:11: "));
    const qh_policy_rules *l = qh_policy_limits(w->p);
    assert_non_null(l);
    assert_int_equal(l->max_order_notional, D("400"));
    assert_int_equal(l->version, 1);
    expect_refused(w, "ess", "max_drawdown_pct", "\"50\"", 19, "ess.max_drawdown_pct = 50");
    assert_int_equal(qh_policy_limits(w->p)->ess_max_drawdown_pct, D("3"));
}

/* No caps (the default): any valid policy loads. */
static void no_caps_no_limit(void **state)
{
    (void)state;
    pfx fx;
    pfx_init(&fx);
    qh_policy *p = qh_policy_new(NULL);
    char text[8192];
    pfx_policy_text(text, sizeof text, NULL, "limits", "max_order_notional", "\"999999\"", NULL);
    qtr_policy_event ev;
    assert_int_equal(qh_policy_load(p, pfx_write(&fx, "big.lua", text), 1000, &ev), 0);
    qh_policy_free(p);
    pfx_cleanup(&fx);
}

/* ---- the config's `caps` table ---- */

static const char *const PLUGINS = "plugins = { { kind = 'exchange', name = 'paper' } }";

static int load_config(const char *caps, qh_config *cfg, char *err, size_t errlen)
{
    char text[1024];
    snprintf(text, sizeof text, "return { %s, caps = %s }", PLUGINS, caps);
    memset(cfg, 0, sizeof *cfg);
    return qh_config_load_string(text, "caps.lua", "/tmp", cfg, err, errlen);
}

static void config_reads_caps(void **state)
{
    (void)state;
    qh_config cfg;
    char err[512];
    int rc = load_config("{ max_order_notional = '2500', max_position_notional = 10000, max_leverage = 3, "
                         "ess_max_drawdown_pct = '7.5' }", &cfg, err, sizeof err);
    if (rc != 0) fail_msg("%s", err);
    assert_int_equal(cfg.caps.max_order_notional, D("2500"));
    assert_int_equal(cfg.caps.max_position_notional, D("10000"));
    assert_int_equal(cfg.caps.max_leverage, 3);
    assert_int_equal(cfg.caps.ess_max_drawdown_pct, D("7.5"));
    qh_config_free(&cfg);
}

static void config_refuses_bad_caps(void **state)
{
    (void)state;
    static const struct { const char *caps, *error; } cases[] = {
        { "{ max_order_notional = 2.5 }", "caps.lua: caps.max_order_notional: give decimals as strings" },
        { "{ max_order_notional = '0' }", "caps.lua: caps.max_order_notional: 0 is out of range: must be > 0" },
        { "{ max_position_notional = 'abc' }", "caps.lua: caps.max_position_notional: 'abc'" },
        { "{ max_leverage = 0 }", "caps.lua: caps.max_leverage: 0 is out of range [1, 125]" },
        { "{ ess_max_drawdown_pct = '101' }", "caps.lua: caps.ess_max_drawdown_pct: 101 is out of range (0, 100]" },
        { "{ max_notional = '5' }", "caps.lua: caps.max_notional: unknown setting" },
        { "'5000'", "caps.lua: caps: expected a table" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        qh_config cfg;
        char err[512];
        assert_int_equal(load_config(cases[i].caps, &cfg, err, sizeof err), -1);
        if (strncmp(err, cases[i].error, strlen(cases[i].error)) != 0)
            fail_msg("caps %s: error '%s', expected '%s...'", cases[i].caps, err, cases[i].error);
    }
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(within_caps_loads),
        T(initial_load_beyond_cap_refused),
        T(reload_beyond_cap_keeps_last_good),
        cmocka_unit_test(no_caps_no_limit),
        cmocka_unit_test(config_reads_caps),
        cmocka_unit_test(config_refuses_bad_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
