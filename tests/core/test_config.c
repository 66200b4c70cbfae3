/* The config loader: what it accepts, and every refusal with its place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/config_limits.h"

static char err[1024];

static int load(const char *text, qh_config *c)
{
    err[0] = '\0';
    return qh_config_load_string(text, "test.lua", "/etc/qtr", c, err, sizeof err);
}

static void expect_error(const char *text, const char *where, const char *what)
{
    qh_config c;
    assert_int_equal(load(text, &c), -1);
    if (!strstr(err, where) || !strstr(err, what)) fail_msg("error '%s' lacks '%s' / '%s'", err, where, what);
}

static void full_config(void **s)
{
    (void)s;
    qh_config c;
    int rc = load("return { mode = 'live', log_level = 'debug', state_dir = '/var/lib/q',\n"
                  " plugin_path = { 'plugins' },\n"
                  " market = { source = 'synthetic', symbols = { 'BTCUSDT', 'ETHUSDT' }, interval_ms = 250, seed = 7 },\n"
                  " account = { starting_balance = '2500.5' },\n"
                  " policy = { file = 'policies/p1.lua', reload_interval_s = 60 },\n"
                  " signals = { capacity = 50, per_cycle = 5, max_age_ms = 900, cycle_ms = 20 },\n"
                  " store = { path = 'var/t.db' },\n"
                  " plugins = { { kind = 'exchange', name = 'paper', options = { taker_fee = '0.0004', n = 3,\n"
                  "   on = true, syms = { 'A1', 'B2' }, ratio = 0.5 } },\n"
                  "   { kind = 'strategy', name = 'x', file = '/opt/x.so', required = false } } }",
                  &c);
    assert_int_equal(rc, 0);
    assert_true(c.live);
    assert_string_equal(c.log_level, "debug");
    assert_int_equal(c.market.n_symbols, 2);
    assert_string_equal(c.market.symbols[1], "ETHUSDT");
    assert_int_equal(c.market.interval_ms, 250);
    assert_int_equal(c.market.seed, 7);
    assert_int_equal(c.starting_balance, 250050000000);
    assert_int_equal(c.policy.reload_interval_ms, 60000);
    assert_int_equal(c.signals.capacity, 50);
    assert_int_equal(c.signals.per_cycle, 5);
    assert_int_equal(c.signals.max_age_ms, 900);
    assert_int_equal(c.signals.cycle_ms, 20);
    assert_int_equal(c.n_plugins, 2);
    assert_int_equal(c.plugins[0].kind, QTR_KIND_EXCHANGE);
    assert_true(c.plugins[0].required);
    assert_false(c.plugins[1].required);
    assert_string_equal(c.plugins[1].file, "/opt/x.so");
    assert_int_equal(c.plugins[0].n_opts, 5);
    char path[600];
    qh_config_resolve(&c, c.policy.file, path, sizeof path);
    assert_string_equal(path, "/etc/qtr/policies/p1.lua");
    qh_config_resolve(&c, "/abs/x", path, sizeof path);
    assert_string_equal(path, "/abs/x");
    qh_config_free(&c);
}

static void defaults_load(void **s)
{
    (void)s;
    qh_config c;
    assert_int_equal(qh_config_load_string(qh_config_default_run(), "(built-in)", ".", &c, err, sizeof err), 0);
    assert_int_equal(c.market.source, QH_MARKET_SYNTHETIC);
    assert_true(c.n_plugins >= 4);
    assert_false(c.live);
    qh_config_free(&c);
    assert_int_equal(qh_config_load_string(qh_config_default_backtest(), "(built-in)", ".", &c, err, sizeof err), 0);
    assert_int_equal(c.n_plugins, 3);
    assert_string_equal(c.store.path, "");
    qh_config_free(&c);
}

static void syntax_and_runtime_errors_name_the_line(void **s)
{
    (void)s;
    expect_error("return {\n mode = 'paper',\n plugins = { \n", "test.lua:", "expected");
    expect_error("local x = 1\nlocal y = nil\nreturn y.z\n", "test.lua:3:", "attempt to index");
    expect_error("return 42", "(top level)", "must return a table");
}

/* Nesting deeper than Lua's parser allows ("C stack overflow", raised with
 * no place of its own) names the file and the line as a syntax error does. */
static void deep_nesting_names_the_line(void **s)
{
    (void)s;
    static const char *const nests[][2] = { { "{", "}" }, { "(", ")" } };
    for (size_t i = 0; i < sizeof nests / sizeof nests[0]; i++) {
        char text[4096] = "return {\n  plugins = {},\n  mode = ";
        for (int k = 0; k < 300; k++) strcat(text, nests[i][0]);
        strcat(text, i ? "'paper'" : "");
        for (int k = 0; k < 300; k++) strcat(text, nests[i][1]);
        strcat(text, ",\n}\n");
        qh_config c;
        assert_int_equal(load(text, &c), -1);
        if (strncmp(err, "test.lua:3: ", 12) != 0 || !strstr(err, "stack overflow"))
            fail_msg("nest %zu: '%s' lacks 'test.lua:3: ' / 'stack overflow'", i, err);
    }
    /* with Windows line ends too, and one opening a line from line 2 on:
     * the line where the nesting became too deep */
    char text[4096] = "-- a\r\nreturn\r\n";
    for (int k = 0; k < 300; k++) strcat(text, "{\r\n");
    for (int k = 0; k < 300; k++) strcat(text, "}\r\n");
    qh_config c;
    assert_int_equal(load(text, &c), -1);
    if (!strstr(err, "stack overflow") || strncmp(err, "test.lua:", 9) != 0 || atoi(err + 9) < 150 ||
        atoi(err + 9) > 250)
        fail_msg("'%s': not a line of the nest (3..302) near the parser's limit of 200 levels", err);
}

static void unknown_and_mistyped_fields(void **s)
{
    (void)s;
    expect_error("return { plugins = {}, modee = 'paper' }", "modee", "unknown setting");
    expect_error("return { plugins = {}, mode = 'demo' }", "mode", "not paper or live");
    expect_error("return { plugins = {}, market = { interval_ms = 'fast' } }", "market.interval_ms", "expected an integer");
    expect_error("return { plugins = {}, market = { interval_ms = 1.5 } }", "market.interval_ms", "a float");
    expect_error("return { plugins = {}, market = { interval_ms = 0 } }", "market.interval_ms", "out of range");
    expect_error("return { plugins = {}, market = { symbols = { 'btc' } } }", "market.symbols[1]", "not a symbol");
    expect_error("return { plugins = {}, market = { source = 'csv' } }", "market.files", "at least one file");
    expect_error("return { plugins = {}, account = { starting_balance = 10000.5 } }", "account.starting_balance",
                 "not Lua floats");
    expect_error("return { plugins = {}, account = { starting_balance = '1.123456789' } }", "account.starting_balance",
                 "more than 8 decimal places");
    expect_error("return { plugins = {}, account = { starting_balance = '-5' } }", "account.starting_balance", "> 0");
    expect_error("return { plugins = {}, signals = { capacity = 0 } }", "signals.capacity", "out of range");
    expect_error("return { plugins = {}, signals = { per_cycle = 257 } }", "signals.per_cycle", "out of range");
    {
        char many[2400] = "local f = {} for i = 1, 65 do f[i] = 'X' .. i .. 'USDT-1m.csv' end "
                          "return { plugins = {}, market = { source = 'csv', files = f } }";
        expect_error(many, "market.files", "at most 64 files");
    }
    expect_error("return { mode = 'paper' }", "plugins", "missing");
    expect_error("return { plugins = { { kind = 'broker', name = 'x' } } }", "plugins[1].kind", "'broker' is not strategy, risk");
    expect_error("return { plugins = { { kind = 'risk' } } }", "plugins[1].name", "missing");
    expect_error("return { plugins = { { kind = 'risk', name = 'p', colour = 1 } } }", "plugins[1].colour", "unknown setting");
    expect_error("return { plugins = { { kind = 'risk', name = 'p', required = 'yes' } } }", "plugins[1].required",
                 "expected true or false");
    expect_error("return { plugins = {}, plugin_path = { 'a', 3 } }", "plugin_path[2]", "expected a string");
    /* a plugin under a name, or past a hole, is not in the list: refused, not skipped */
    expect_error("return { plugins = { { kind = 'risk', name = 'p' }, ma_cross = { kind = 'strategy', name = 'm' } } }",
                 "plugins", "key 'ma_cross' is not a place in the list");
    expect_error("return { plugins = { { kind = 'risk', name = 'p' }, [5] = { kind = 'strategy', name = 'm' } } }",
                 "plugins", "key 5 is not a place in the list");
    expect_error("return { plugins = { [true] = 1 } }", "plugins", "key (a boolean) is not a place in the list");
}

static void sandbox_stops_runaway_and_io(void **s)
{
    (void)s;
    expect_error("while true do end", "test.lua", "instruction limit");
    expect_error("return io.open('/etc/passwd')", "test.lua", "io");
    expect_error("os.execute('true') return {}", "test.lua", "execute");
    expect_error("return require('os')", "test.lua", "require");
    /* os.getenv is there for paths and names */
    setenv("QTR_TEST_DIR", "/srv/q", 1);
    qh_config c;
    assert_int_equal(load("return { state_dir = os.getenv('QTR_TEST_DIR'), plugins = {} }", &c), 0);
    assert_string_equal(c.state_dir, "/srv/q");
    qh_config_free(&c);
}

/* A metatable on the returned table (or a nested one) is never run: the
 * walk is raw. Before, an __index that errors aborted the process and one
 * that loops hung it. */
static void metatables_are_never_run(void **s)
{
    (void)s;
    static const char *const texts[] = {
        "return setmetatable({ plugins = {} }, { __index = function() error('boom') end })",
        "return setmetatable({ plugins = {} }, { __index = function() while true do end end })",
        "return { plugins = {}, market = setmetatable({ symbols = { 'BTCUSDT' } }, { __index = function() error('b') end }) }",
        "return { plugins = setmetatable({}, { __len = function() while true do end end }) }",
        "return { plugins = {}, plugin_path = setmetatable({ 'a' }, { __len = function() error('boom') end }) }",
        "return { plugins = { setmetatable({ kind = 'risk', name = 'p' }, { __index = function() error('x') end }) } }",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        qh_config c;
        if (load(texts[i], &c) != 0) fail_msg("case %zu: %s", i, err);
        qh_config_free(&c);
    }
    /* __index is not used to find fields either: a field given only through it is absent */
    expect_error("return setmetatable({}, { __index = { plugins = {} } })", "plugins", "missing");
}

/* Every failure names file:line, even those with no message of their own. */
static void odd_errors_name_the_line(void **s)
{
    (void)s;
    expect_error("local x = 1\nerror({})\nreturn {}", "test.lua:2:", "table value");
    /* the memory cap, under the server's memory bound but a generous time
     * bound: on a busy machine (CI under ASan) the 2 s wall-clock limit could
     * be met before 64 MiB, a right refusal but not the one under test */
    qh_config_limits slow_ok = qh_config_limits_server;
    slow_ok.time_ms = 60000;
    qh_config c;
    err[0] = '\0';
    assert_int_equal(qh_config_load_string_limited("local t = {}\nfor i = 1, 1e9 do t[i] = string.rep('x', 1000000) .. i end\n"
                                                   "return {}",
                                                   "test.lua", "/etc/qtr", &slow_ok, &c, err, sizeof err),
                     -1);
    if (!strstr(err, "test.lua:2:") || !strstr(err, "memory limit exceeded (67108864 bytes)"))
        fail_msg("error '%s' lacks test.lua:2: / the memory limit", err);
    /* a time limit as well as an instruction limit */
    expect_error("local n = 0\nfor i = 1, 1e9 do n = n + #string.rep('x', 8e6) end\nreturn {}", "test.lua:2:",
                 "limit exceeded");
}

static void missing_file(void **s)
{
    (void)s;
    qh_config c;
    assert_int_equal(qh_config_load_file("/nonexistent/qtr.lua", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/qtr.lua"));
    assert_non_null(strstr(err, "cannot open"));
}

static void file_errors_carry_the_path_and_line(void **s)
{
    (void)s;
    char path[32] = "/tmp/qtr_cfg_";
    size_t k = strlen(path);
    for (int i = 0; i < 6; i++) path[k++] = 'X';   /* the mkstemps template */
    memcpy(path + k, ".lua", 5);
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    const char *text = "return {\n  plugins = {},\n  mode = paper_mode_typo.x,\n}\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    qh_config c;
    assert_int_equal(qh_config_load_file(path, &c, err, sizeof err), -1);
    char want[48];
    snprintf(want, sizeof want, "%s:3:", path);
    if (!strstr(err, want)) fail_msg("'%s' lacks '%s'", err, want);
    unlink(path);
}

static void plugin_options_are_checked_against_the_declaration(void **s)
{
    (void)s;
    static const qtr_option decl[] = {
        { .name = "fee", .type = QTR_OPT_DECIMAL, .default_value = "0.0004" },
        { .name = "fast", .type = QTR_OPT_INT },
        { .name = "symbols", .type = QTR_OPT_STRING_LIST },
        { .name = "key", .type = QTR_OPT_STRING, .flags = QTR_OPT_REQUIRED, .help = "the key" },
        { 0 },
    };
    struct { const char *opts; const char *want; } cases[] = {
        { "key = 'k', fee = '0.001', fast = 3, symbols = { 'A1' }", NULL },
        { "key = 'k', fee = 2", NULL },
        { "key = 'k', feee = '1'", "option feee: unknown option" },
        { "key = 'k', fast = '3'", "option fast: expected an integer" },
        { "key = 'k', fee = 0.001", "option fee: give decimals as strings" },
        { "key = 'k', fee = 'abc'", "option fee: 'abc': not a decimal number" },
        { "key = 'k', symbols = 'A1'", "option symbols: expected a list of strings" },
        { "fee = '1'", "option key: required" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "return { plugins = { { kind = 'exchange', name = 'paper', options = { %s } } } }",
                 cases[i].opts);
        qh_config c;
        assert_int_equal(load(text, &c), 0);
        char oerr[512] = "";
        int rc = qh_config_check_options(&c.plugins[0], decl, oerr, sizeof oerr);
        if (!cases[i].want) {
            if (rc != 0) fail_msg("case %zu refused: %s", i, oerr);
        } else {
            assert_int_equal(rc, -1);
            if (!strstr(oerr, cases[i].want) || !strstr(oerr, "plugin paper")) fail_msg("case %zu: '%s'", i, oerr);
        }
        qh_config_free(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_config),
        cmocka_unit_test(defaults_load),
        cmocka_unit_test(syntax_and_runtime_errors_name_the_line),
        cmocka_unit_test(deep_nesting_names_the_line),
        cmocka_unit_test(unknown_and_mistyped_fields),
        cmocka_unit_test(sandbox_stops_runaway_and_io),
        cmocka_unit_test(metatables_are_never_run),
        cmocka_unit_test(odd_errors_name_the_line),
        cmocka_unit_test(missing_file),
        cmocka_unit_test(file_errors_carry_the_path_and_line),
        cmocka_unit_test(plugin_options_are_checked_against_the_declaration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
