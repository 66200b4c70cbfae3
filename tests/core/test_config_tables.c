/* The server config's sections as declared tables (core/config_sections.c):
 * consistent declarations, defaults that come from the tables, unknown keys
 * refused in every section with file and key, and values checked against
 * their declared ranges and allowed values, each refusal naming file, key,
 * value and range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/config_sections.h"
#include "core/option_check.h"

static const qh_conf_section *const sections[] = { &qh_section_top, &qh_section_market, &qh_section_account,
                                                   &qh_section_policy, &qh_section_signals, &qh_section_store,
                                                   &qh_section_ess, &qh_section_regime, &qh_section_caps };
/* Also declared, read under another name: qh_section_plugin (plugins[i]). */
static const qh_conf_section *const all_sections[] = { &qh_section_top, &qh_section_market, &qh_section_account,
                                                       &qh_section_policy, &qh_section_signals, &qh_section_store,
                                                       &qh_section_ess, &qh_section_regime, &qh_section_caps,
                                                       &qh_section_plugin };
#define N_SECTIONS (sizeof sections / sizeof sections[0])

static char err[1024];

static int load(const char *text, qh_config *c)
{
    err[0] = '\0';
    return qh_config_load_string(text, "test.lua", "/etc/qtr", c, err, sizeof err);
}

static void expect_exact(const char *text, const char *want)
{
    qh_config c;
    if (load(text, &c) == 0) {
        qh_config_free(&c);
        fail_msg("'%s' accepted, expected '%s'", text, want);
    }
    if (strcmp(err, want) != 0) fail_msg("'%s': got '%s', expected '%s'", text, err, want);
}

static void declarations_are_consistent(void **s)
{
    (void)s;
    for (size_t i = 0; i < sizeof all_sections / sizeof all_sections[0]; i++)
        for (const qh_conf_field *f = all_sections[i]->fields; f->opt.name; f++) {
            char why[320];
            if (!qh_option_decl_valid(&f->opt, why, sizeof why))
                fail_msg("%s.%s: %s", all_sections[i]->name, f->opt.name, why);
            for (const qh_conf_field *g = f + 1; g->opt.name; g++)
                if (strcmp(f->opt.name, g->opt.name) == 0) fail_msg("%s.%s twice", all_sections[i]->name, f->opt.name);
        }
}

/* With nothing set, every value is its table's default (docs/config.md). */
static void defaults_come_from_the_tables(void **s)
{
    (void)s;
    qh_config c;
    if (load("return { plugins = {} }", &c) != 0) fail_msg("%s", err);
    assert_false(c.live);
    assert_string_equal(c.log_level, "info");
    assert_string_equal(c.state_dir, "./var");
    assert_string_equal(c.client_id_prefix, "qtr");
    assert_int_equal(c.market.source, QH_MARKET_SYNTHETIC);
    assert_int_equal(c.market.interval_ms, 1000);
    assert_int_equal(c.market.seed, 42);
    assert_int_equal(c.starting_balance, QTR_DEC_INT(10000));
    assert_int_equal(c.policy.reload_interval_ms, 600000);
    assert_int_equal(c.policy.mem_limit_bytes, 0);          /* unset: the policy engine's default */
    assert_int_equal(c.signals.capacity, 100);
    assert_int_equal(c.signals.per_cycle, 10);
    assert_int_equal(c.signals.max_age_ms, 5000);
    assert_int_equal(c.signals.cycle_ms, 100);
    assert_string_equal(c.store.path, "./var/qtr.db");
    assert_string_equal(c.ess_state_file, "./var/ess.state");
    qh_config_free(&c);
}

/* Stored as declared: scaled units, choices, lists. */
static void values_are_stored_as_declared(void **s)
{
    (void)s;
    qh_config c;
    if (load("return { plugins = {}, mode = 'live', market = { source = 'csv', files = { 'a.csv', 'b.csv' },"
             " start_price = '2.5', replay_interval_ms = 0 }, policy = { mem_limit_kb = 512, alloc_limit_kb = 1024,"
             " instr_limit = 5000, time_limit_ms = 7 }, store = false, ess = { state_file = '/x/ess' } }",
             &c) != 0)
        fail_msg("%s", err);
    assert_true(c.live);
    assert_int_equal(c.market.source, QH_MARKET_CSV);
    assert_int_equal(c.market.n_files, 2);
    assert_string_equal(c.market.files[1], "b.csv");
    assert_int_equal(c.market.start_price, 250000000);
    assert_int_equal(c.policy.mem_limit_bytes, 512 * 1024);
    assert_int_equal(c.policy.alloc_limit_bytes, 1024 * 1024);
    assert_int_equal(c.policy.instr_limit, 5000);
    assert_int_equal(c.policy.time_limit_ms, 7);
    assert_true(c.store.disabled);
    assert_string_equal(c.store.path, "");
    assert_string_equal(c.ess_state_file, "/x/ess");
    qh_config_free(&c);
}

/* Every section refuses a key it does not declare, naming file and key. */
static void unknown_keys_in_every_section(void **s)
{
    (void)s;
    expect_exact("return { plugins = {}, bogus = 1 }", "test.lua: bogus: unknown setting");
    for (size_t i = 1; i < N_SECTIONS; i++) {
        char text[256], want[256];
        snprintf(text, sizeof text, "return { plugins = {}, %s = { bogus = 1 } }", sections[i]->name);
        snprintf(want, sizeof want, "test.lua: %s.bogus: unknown setting", sections[i]->name);
        expect_exact(text, want);
    }
    expect_exact("return { plugins = { { kind = 'risk', name = 'p' }, { kind = 'risk', name = 'q', bogus = 1 } } }",
                 "test.lua: plugins[2].bogus: unknown setting");
}

/* caps and plugins[i] are tables too: stored as declared, defaults from the
 * table (no caps; required = true). */
static void caps_and_plugins_from_their_tables(void **s)
{
    (void)s;
    qh_config c;
    if (load("return { caps = { max_order_notional = '2500.5', max_leverage = 7, ess_max_drawdown_pct = 100 },"
             " plugins = { { kind = 'exchange', name = 'paper' },"
             " { kind = 'dashboard', name = 'web', file = '/x.so', required = false } } }",
             &c) != 0)
        fail_msg("%s", err);
    assert_int_equal(c.caps.max_order_notional, QTR_DEC_INT(25005) / 10);
    assert_int_equal(c.caps.max_position_notional, 0);     /* not given: no cap */
    assert_int_equal(c.caps.max_leverage, 7);
    assert_int_equal(c.caps.ess_max_drawdown_pct, QTR_DEC_INT(100));
    assert_int_equal(c.n_plugins, 2);
    assert_int_equal(c.plugins[0].kind, QTR_KIND_EXCHANGE);
    assert_true(c.plugins[0].required);
    assert_string_equal(c.plugins[0].file, "");
    assert_int_equal(c.plugins[1].kind, QTR_KIND_DASHBOARD);
    assert_string_equal(c.plugins[1].name, "web");
    assert_string_equal(c.plugins[1].file, "/x.so");
    assert_false(c.plugins[1].required);
    qh_config_free(&c);
}

static void values_outside_the_declaration(void **s)
{
    (void)s;
    expect_exact("return { plugins = {}, log_level = 'loud' }", "test.lua: log_level: 'loud' is not debug, info, warn or error");
    expect_exact("return { plugins = {}, mode = 'demo' }", "test.lua: mode: 'demo' is not paper or live");
    expect_exact("return { plugins = {}, client_id_prefix = 'Q!' }",
                 "test.lua: client_id_prefix: only a-z, 0-9 and - (at most 15)");
    expect_exact("return { plugins = {}, client_id_prefix = 'abcdefghijklmnop' }",
                 "test.lua: client_id_prefix: 'abcdefghijklmnop' is 16 bytes long, out of range [1, 15]");
    expect_exact("return { plugins = {}, market = { source = 'feed' } }",
                 "test.lua: market.source: 'feed' is not synthetic, csv or exchange");
    expect_exact("return { plugins = {}, market = { symbols = { 'BTCUSDT', 'eth' } } }",
                 "test.lua: market.symbols[2]: 'eth' is not a symbol like BTCUSDT");
    expect_exact("return { plugins = {}, market = { symbols = { 'BTCUSDT' }, start_price = '0' } }",
                 "test.lua: market.start_price: 0 is out of range: must be > 0");
    expect_exact("return { plugins = {}, market = { symbols = { 'BTCUSDT' }, seed = -1 } }",
                 "test.lua: market.seed: -1 is out of range: must be >= 0");
    expect_exact("return { plugins = {}, policy = { time_limit_ms = 0 } }",
                 "test.lua: policy.time_limit_ms: 0 is out of range [1, 10000]");
    expect_exact("return { plugins = {}, policy = { mem_limit_kb = 100 } }",
                 "test.lua: policy.mem_limit_kb: 100 is out of range [256, 1048576]");
    expect_exact("return { plugins = {}, signals = { cycle_ms = 60001 } }",
                 "test.lua: signals.cycle_ms: 60001 is out of range [1, 60000]");
    expect_exact("return { plugins = {}, signals = { per_cycle = '3' } }",
                 "test.lua: signals.per_cycle: expected an integer, got a string ('3')");
    expect_exact("return { plugins = {}, store = { path = 7 } }", "test.lua: store.path: expected a string, got an integer");
    expect_exact("return { plugins = {}, ess = 'x' }", "test.lua: ess: expected a table, got string");
    expect_exact("return { plugins = {}, account = { starting_balance = '0' } }",
                 "test.lua: account.starting_balance: 0 is out of range: must be > 0");
    expect_exact("return { plugins = {}, caps = { max_leverage = 2.5 } }",
                 "test.lua: caps.max_leverage: expected an integer, got a float");
    expect_exact("return { plugins = {}, caps = { max_leverage = 126 } }",
                 "test.lua: caps.max_leverage: 126 is out of range [1, 125]");
    expect_exact("return { plugins = {}, caps = { ess_max_drawdown_pct = '0' } }",
                 "test.lua: caps.ess_max_drawdown_pct: 0 is out of range (0, 100]");
    expect_exact("return { plugins = { { kind = 'risk', name = '' } } }",
                 "test.lua: plugins[1].name: '' is 0 bytes long, out of range: must be >= 1");
    expect_exact("return { plugins = { { kind = 'risk', name = 'p', required = 'yes' } } }",
                 "test.lua: plugins[1].required: expected true or false, got a string ('yes')");
    expect_exact("return { plugins = { { name = 'p' } } }",
                 "test.lua: plugins[1].kind: missing (strategy, risk, exchange or dashboard)");
    expect_exact("return { plugins = { 'paper' } }", "test.lua: plugins[1]: expected a table, got string");
    /* a user's text quoted in an error stays on the error's one line */
    expect_exact("return { plugins = {}, market = { symbols = { 'BTC\\nUSDT' } } }",
                 "test.lua: market.symbols[1]: 'BTC\\x0aUSDT' is not a symbol like BTCUSDT");
    /* ... and so does one that is too long (found by fuzz_config: host_id) */
    expect_exact("return { plugins = {}, client_id_prefix = 'abcdefgh\\nijklmnop' }",
                 "test.lua: client_id_prefix: 'abcdefgh\\x0aijklmnop' is 17 bytes long, out of range [1, 15]");
    expect_exact("return { plugins = {}, host_id = 'a\\r' .. string.rep('b', 69) }",
                 "test.lua: host_id: 'a\\x0d" "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
                 "...' is 71 bytes long, out of range [1, 32]");
}

/* A plugin's options are read by the table reader's value conversion
 * (checked against the plugin's own table once it is loaded). */
static void plugin_options_as_values(void **s)
{
    (void)s;
    expect_exact("return { plugins = { { kind = 'risk', name = 'p', options = { f = function() end } } } }",
                 "test.lua: plugins[1].options.f: unsupported value of type function");
    expect_exact("return { plugins = { { kind = 'risk', name = 'p', options = { symbols = { 'A', 2 } } } } }",
                 "test.lua: plugins[1].options.symbols[2]: expected a string, got number");
    expect_exact("return { plugins = { { kind = 'risk', name = 'p', options = { m = { a = 1 } } } } }",
                 "test.lua: plugins[1].options.m: expected a list (array) of strings");
    qh_config c;
    if (load("return { plugins = { { kind = 'risk', name = 'p', options = { n = 7, s = 'x', b = true, d = 1.5,"
             " l = { 'a', 'b' } } } } }", &c) != 0)
        fail_msg("%s", err);
    assert_int_equal(c.plugins[0].n_opts, 5);
    for (size_t i = 0; i < c.plugins[0].n_opts; i++) {
        const qh_optval *v = &c.plugins[0].opts[i];
        if (strcmp(v->name, "n") == 0) {
            assert_int_equal(v->type, QH_OPTV_INT);
            assert_int_equal(v->i, 7);
            assert_string_equal(v->str, "7");
        } else if (strcmp(v->name, "s") == 0) {
            assert_int_equal(v->type, QH_OPTV_STRING);
            assert_string_equal(v->str, "x");
        } else if (strcmp(v->name, "b") == 0) {
            assert_int_equal(v->type, QH_OPTV_BOOL);
            assert_true(v->b);
        } else if (strcmp(v->name, "d") == 0) {
            assert_int_equal(v->type, QH_OPTV_NUMBER);
            assert_true(v->num == 1.5);
        } else {
            assert_string_equal(v->name, "l");
            assert_int_equal(v->type, QH_OPTV_LIST);
            assert_int_equal(v->n_list, 2);
            assert_string_equal(v->list[1], "b");
        }
    }
    qh_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(declarations_are_consistent),
        cmocka_unit_test(defaults_come_from_the_tables),
        cmocka_unit_test(values_are_stored_as_declared),
        cmocka_unit_test(unknown_keys_in_every_section),
        cmocka_unit_test(values_outside_the_declaration),
        cmocka_unit_test(caps_and_plugins_from_their_tables),
        cmocka_unit_test(plugin_options_as_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
