/* Declared options' bounds and allowed values (qtr_option.min/max/allowed),
 * checked by the host before a plugin's init(): each refusal is one line
 * naming the plugin, the option, the value and the range. Each case fails
 * against a host that checks only names and types (the value would be
 * handed to the plugin). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/option_check.h"

static const char *const sides[] = { "buy", "sell", NULL };
static const char *const intervals[] = { "1m", "5m", "1h", NULL };

static const qtr_option decl[] = {
    { .name = "fast", .type = QTR_OPT_INT, .default_value = "10", .min = "1", .max = "1000" },
    { .name = "fee", .type = QTR_OPT_DECIMAL, .default_value = "0.0004", .min = "-0.001", .max = "0.01" },
    { .name = "conf", .type = QTR_OPT_DOUBLE, .default_value = "0", .min = "0", .max = "1" },
    { .name = "listen", .type = QTR_OPT_STRING, .default_value = "127.0.0.1:8080", .min = "3", .max = "16" },
    { .name = "side", .type = QTR_OPT_STRING, .default_value = "buy", .allowed = sides },
    { .name = "symbols", .type = QTR_OPT_STRING_LIST, .min = "1", .max = "2" },
    { .name = "intervals", .type = QTR_OPT_STRING_LIST, .allowed = intervals },
    { .name = "open", .type = QTR_OPT_INT, .min = "0" },
    { .name = "notional", .type = QTR_OPT_DECIMAL, .min = "0", .flags = QTR_OPT_MIN_EXCLUSIVE },
    { 0 },
};

/* opts: the plugin's options table's body; want: NULL to pass, or the error. */
static void expect(const qtr_option *d, const char *opts, const char *want)
{
    char text[512], err[512] = "";
    snprintf(text, sizeof text, "return { plugins = { { kind = 'strategy', name = 'sx', options = { %s } } } }", opts);
    qh_config c;
    if (qh_config_load_string(text, "test.lua", "/tmp", &c, err, sizeof err) != 0) fail_msg("load: %s", err);
    int rc = qh_config_check_options(&c.plugins[0], d, err, sizeof err);
    qh_config_free(&c);
    if (!want) {
        if (rc != 0) fail_msg("'%s' refused: %s", opts, err);
        return;
    }
    if (rc != -1) fail_msg("'%s' accepted, expected '%s'", opts, want);
    if (strcmp(err, want) != 0) fail_msg("'%s': got '%s', expected '%s'", opts, err, want);
}

static void values_within_the_declaration_pass(void **s)
{
    (void)s;
    expect(decl, "fast = 1, fee = '-0.001', conf = 1, listen = 'a:1', side = 'sell', symbols = { 'A', 'B' }", NULL);
    expect(decl, "fast = 1000, fee = 0, conf = 0.5, intervals = { '1m', '1h' }, open = 123456789", NULL);
    expect(decl, "intervals = {}", NULL);
}

static void integers_out_of_range(void **s)
{
    (void)s;
    expect(decl, "fast = 0", "plugin sx: option fast: 0 is out of range [1, 1000]");
    expect(decl, "fast = 1001", "plugin sx: option fast: 1001 is out of range [1, 1000]");
    expect(decl, "open = -1", "plugin sx: option open: -1 is out of range: must be >= 0");
}

static void decimals_and_numbers_out_of_range(void **s)
{
    (void)s;
    expect(decl, "fee = '0.0100001'", "plugin sx: option fee: 0.0100001 is out of range [-0.001, 0.01]");
    expect(decl, "fee = 1", "plugin sx: option fee: 1 is out of range [-0.001, 0.01]");
    expect(decl, "fee = '-0.002'", "plugin sx: option fee: -0.002 is out of range [-0.001, 0.01]");
    expect(decl, "conf = 1.5", "plugin sx: option conf: 1.5 is out of range [0, 1]");
    expect(decl, "conf = -1", "plugin sx: option conf: -1 is out of range [0, 1]");
    /* an exclusive minimum: "> 0" for money */
    expect(decl, "notional = '0.00000001'", NULL);
    expect(decl, "notional = 0", "plugin sx: option notional: 0 is out of range: must be > 0");
    expect(decl, "notional = '-1'", "plugin sx: option notional: -1 is out of range: must be > 0");
    /* the type first, saying what was given */
    expect(decl, "fast = 1.5", "plugin sx: option fast: expected an integer, got a float");
}

static void string_lengths_and_list_sizes(void **s)
{
    (void)s;
    expect(decl, "listen = 'ab'", "plugin sx: option listen: 'ab' is 2 bytes long, out of range [3, 16]");
    expect(decl, "listen = '127.0.0.1:80800000'",
           "plugin sx: option listen: '127.0.0.1:80800000' is 18 bytes long, out of range [3, 16]");
    expect(decl, "symbols = {}", "plugin sx: option symbols: 0 items, out of range [1, 2]");
    expect(decl, "symbols = { 'A', 'B', 'C' }", "plugin sx: option symbols: 3 items, out of range [1, 2]");
}

static void allowed_values(void **s)
{
    (void)s;
    expect(decl, "side = 'hold'", "plugin sx: option side: 'hold' is not buy or sell");
    expect(decl, "intervals = { '1m', '7m' }", "plugin sx: option intervals: '7m' is not 1m, 5m or 1h");
    /* the user's value stays on the error's one line (found by fuzz_config) */
    expect(decl, "side = 'bu\\ny\\1'", "plugin sx: option side: 'bu\\x0ay\\x01' is not buy or sell");
    expect(decl, "fee = '1\\n'", "plugin sx: option fee: '1\\x0a': not a decimal number");
}

/* A plugin whose own table is inconsistent is refused, whatever the config says. */
static void bad_declarations_are_refused(void **s)
{
    (void)s;
    static const qtr_option bad_min[] = { { .name = "n", .type = QTR_OPT_INT, .min = "one" }, { 0 } };
    static const qtr_option crossed[] = { { .name = "n", .type = QTR_OPT_INT, .min = "5", .max = "1" }, { 0 } };
    static const qtr_option bad_default[] = {
        { .name = "n", .type = QTR_OPT_INT, .default_value = "0", .min = "1" }, { 0 } };
    static const qtr_option bad_dec[] = { { .name = "f", .type = QTR_OPT_DECIMAL, .max = "1.2.3" }, { 0 } };
    static const qtr_option allowed_on_int[] = { { .name = "n", .type = QTR_OPT_INT, .allowed = sides }, { 0 } };
    static const qtr_option default_not_allowed[] = {
        { .name = "side", .type = QTR_OPT_STRING, .default_value = "hold", .allowed = sides }, { 0 } };
    static const qtr_option bool_bounds[] = { { .name = "b", .type = QTR_OPT_BOOL, .min = "0" }, { 0 } };
    expect(bad_min, "", "plugin sx: option n: bad declaration in the plugin: min 'one' is not an integer");
    expect(crossed, "", "plugin sx: option n: bad declaration in the plugin: min 5 is above max 1");
    expect(bad_default, "", "plugin sx: option n: bad declaration in the plugin: default 0 is out of range: must be >= 1");
    expect(bad_dec, "", "plugin sx: option f: bad declaration in the plugin: max '1.2.3' is not a decimal");
    expect(allowed_on_int, "", "plugin sx: option n: bad declaration in the plugin: allowed values on a non-string option");
    expect(default_not_allowed, "",
           "plugin sx: option side: bad declaration in the plugin: default 'hold' is not buy or sell");
    expect(bool_bounds, "", "plugin sx: option b: bad declaration in the plugin: min/max on a true-or-false option");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(values_within_the_declaration_pass),
        cmocka_unit_test(integers_out_of_range),
        cmocka_unit_test(decimals_and_numbers_out_of_range),
        cmocka_unit_test(string_lengths_and_list_sizes),
        cmocka_unit_test(allowed_values),
        cmocka_unit_test(bad_declarations_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
