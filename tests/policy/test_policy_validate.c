/* Validation of policy files: every required field missing, wrong types,
 * out-of-range values (each bound the tables declare, at and beyond it),
 * unknown fields in every table, and judge() answering badly in the
 * self-test. Each is refused with the file and the field named, in the
 * exact words of the declared tables (policy_tables.c) and their reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy_fixture.h"

static pfx fx;

static int setup(void **state)
{
    (void)state;
    pfx_init(&fx);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pfx_cleanup(&fx);
    return 0;
}

/* check_file on the base policy with one change; returns the error. */
static int check_change(const char *prelude, const char *section, const char *key, const char *value,
                        const char *judge, char *err, size_t errlen)
{
    char text[8192];
    pfx_policy_text(text, sizeof text, prelude, section, key, value, judge);
    return qh_policy_check_file(pfx_write(&fx, "v.lua", text), err, errlen);
}

/* The line the fixture's text writes section.key on (inside that
 * section's table), 0 if it does not write it. */
static int fixture_line(const char *text, const char *section, const char *key)
{
    char sec[64], k[96];
    snprintf(sec, sizeof sec, "    %s = {\n", section);
    snprintf(k, sizeof k, "\n        %s = ", key);
    const char *s = strstr(text, sec);
    const char *at = s ? strstr(s, k) : NULL;
    const char *end = s ? strstr(s, "\n    },") : NULL;
    if (!at || !end || at > end) return 0;
    int line = 1;
    for (const char *p = text; p <= at; p++) line += *p == '\n';
    return line;
}

/* Refused with exactly "<file>:<line>: <section>.<key><expect>", the line
 * where the text writes the key ("<file>: ..." when it does not). */
static void expect_refused(const char *section, const char *key, const char *value, const char *expect)
{
    char err[512], want[1024], text[8192];
    assert_int_equal(check_change(NULL, section, key, value, NULL, err, sizeof err), -1);
    pfx_policy_text(text, sizeof text, NULL, section, key, value, NULL);
    int line = fixture_line(text, section, key);
    if (line > 0) snprintf(want, sizeof want, "%s:%d: %s.%s%s", fx.path, line, section, key, expect);
    else snprintf(want, sizeof want, "%s: %s.%s%s", fx.path, section, key, expect);
    assert_string_equal(err, want);
}

static void expect_accepted(const char *section, const char *key, const char *value)
{
    char err[512];
    if (check_change(NULL, section, key, value, NULL, err, sizeof err) != 0)
        fail_msg("%s.%s = %s refused: %s", section, key, value, err);
}

static void test_base_policy_is_valid(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(check_change(NULL, NULL, NULL, NULL, NULL, err, sizeof err), 0);
    assert_string_equal(err, "");
}

static bool optional_field(const char *key)
{
    static const char *const optional[] = { "symbols", "max_abs_funding_rate", "max_spread_bps",
                                            "min_depth_notional", NULL };
    for (const char *const *o = optional; *o; o++)
        if (strcmp(*o, key) == 0) return true;
    return false;
}

static void test_each_required_field_missing(void **state)
{
    (void)state;
    static const struct { const char *section, *key, *expect; } missing[] = {
        { "limits", "max_positions", ": missing (an integer from 1 to 1000: open positions at once)" },
        { "limits", "max_symbols", ": missing (an integer from 1 to 1000: symbols with a position or order)" },
        { "limits", "min_confidence", ": missing (a number from 0 to 1 (a score, not money))" },
        { "limits", "max_position_notional", ": missing (a decimal string such as \"100\": USDT in one symbol)" },
        { "limits", "max_order_notional", ": missing (a decimal string such as \"100\": USDT in one order)" },
        { "limits", "max_total_exposure", ": missing (a decimal string such as \"100\": USDT over all positions)" },
        { "limits", "max_leverage", ": missing (an integer from 1 to 125)" },
        { "ess", "max_drawdown_pct", ": missing (a decimal string, 0 < x <= 100: % below the equity peak)" },
        { "ess", "daily_loss_pct", ": missing (a decimal string, 0 < x <= 100: % lost since the UTC day began)" },
        { "ess", "max_consecutive_errors", ": missing (an integer from 1 to 1000)" },
        { "ess", "cooldown_minutes", ": missing (an integer from 1 to 10080 (a week))" },
        { "ess", "close_positions", ": missing (true or false)" },
        { "ess", "alert_daily_drawdown_pct", ": missing (a decimal string, 0 < x <= 100)" },
    };
    size_t required = 0;
    for (const pfx_field *f = pfx_limits; f->key; f++) {
        char err[512];
        if (optional_field(f->key)) {
            assert_int_equal(check_change(NULL, "limits", f->key, NULL, NULL, err, sizeof err), 0);
            continue;
        }
        assert_string_equal(missing[required].key, f->key);
        expect_refused("limits", f->key, NULL, missing[required++].expect);
    }
    for (const pfx_field *f = pfx_ess; f->key; f++) {
        assert_string_equal(missing[required].key, f->key);
        expect_refused("ess", f->key, NULL, missing[required++].expect);
    }
    assert_int_equal(required, sizeof missing / sizeof missing[0]);
}

static void test_optional_fields_default_to_off(void **state)
{
    (void)state;
    char text[8192];
    pfx_policy_text(text, sizeof text, NULL, "limits", "max_spread_bps", NULL, NULL);
    qh_policy *p = qh_policy_new(NULL);
    qtr_policy_event ev;
    assert_int_equal(qh_policy_load(p, pfx_write(&fx, "opt.lua", text), 5, &ev), 0);
    const qh_policy_rules *l = qh_policy_limits(p);
    assert_int_equal(l->max_spread_bps, 0);
    assert_int_equal(l->n_symbols, 0);
    assert_int_equal(l->max_abs_funding_rate, QTR_DEC_INT(1) / 1000);   /* "0.001" */
    qh_policy_free(p);
}

static void test_top_level_fields(void **state)
{
    (void)state;
    char err[512];
    const char *base_judge = PFX_ALLOW_JUDGE;
    char text[8192];
    /* what follows "<file>"; the fixture writes name on line 3, limits on 4,
     * ess on 17 and judge on 25 */
    static const struct { const char *from, *to, *expect; } cases[] = {
        { "    name = \"test\",\n", "", ": name: missing (a string such as name = \"phase1\")" },
        { "    name = \"test\",\n", "    name = \"bad name!\",\n", ":3: name: use letters, digits, '_', '-' and '.'" },
        { "    name = \"test\",\n", "    name = 7,\n", ":3: name: expected a string, got an integer" },
        { "    name = \"test\",\n", "    name = \"\",\n", ":3: name: '' is 0 bytes long, out of range [1, 31]" },
        { "    name = \"test\",\n", "    name = \"p2345678901234567890123456789012\",\n",
          ":3: name: 'p2345678901234567890123456789012' is 32 bytes long, out of range [1, 31]" },
        { "    judge = ", "    nojudge = ", ":25: nojudge: unknown setting" },
        { "return {", "return 42, {",
          ": the file must end with `return { name = ..., limits = ..., ess = ..., judge = ... }` (it returned number)" },
        { "    limits = {", "    limits = 5 or {", ":4: limits: expected a table, got number" },
        { "    ess = {", "    ess_ = {", ":17: ess_: unknown setting" },
        { "    name = \"test\",\n", "    name = \"test\", description = 5,\n",
          ":3: description: expected a string, got an integer" },
        { "    name = \"test\",\n", "    name = \"test\", [1] = 5,\n", ": (top level): unexpected non-name key" },
        { "    name = \"test\",\n", "    name = \"test\", money = \"cents\",\n", ":3: money: 'cents' is not text or dec" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pfx_policy_text(text, sizeof text, NULL, NULL, NULL, NULL, base_judge);
        char *at = strstr(text, cases[i].from);
        assert_non_null(at);
        char out[8192];
        snprintf(out, sizeof out, "%.*s%s%s", (int)(at - text), text, cases[i].to, at + strlen(cases[i].from));
        assert_int_equal(qh_policy_check_file(pfx_write(&fx, "top.lua", out), err, sizeof err), -1);
        char want[1024];
        snprintf(want, sizeof want, "%s%s", fx.path, cases[i].expect);
        if (strcmp(err, want) != 0) fail_msg("case %zu: \"%s\", expected \"%s\"", i, err, want);
    }
    assert_int_equal(check_change(NULL, NULL, NULL, NULL, "5", err, sizeof err), -1);
    char want[600];
    snprintf(want, sizeof want, "%s:25: judge: must be a function, got number", fx.path);
    assert_string_equal(err, want);
}

static void test_wrong_types_and_ranges(void **state)
{
    (void)state;
    /* what follows "<file>: <section>.<key>" */
    static const struct { const char *section, *key, *value, *expect; } cases[] = {
        { "limits", "max_positions", "2.5", ": expected an integer, got a float" },
        { "limits", "max_positions", "\"3\"", ": expected an integer, got a string ('3')" },
        { "limits", "min_confidence", "\"0.5\"", ": expected a number, got a string ('0.5')" },
        { "limits", "min_confidence", "0/0", ": not a number (NaN)" },
        { "limits", "max_position_notional", "1000.5", ": give decimals as strings (e.g. \"1000.5\"), not Lua floats" },
        { "limits", "max_position_notional", "\"abc\"", ": 'abc': not a decimal number" },
        { "limits", "max_position_notional", "\"0.000000001\"", ": '0.000000001': more than 8 decimal places" },
        { "limits", "max_position_notional", "\"5000\"", ": must not exceed limits.max_total_exposure" },
        { "limits", "max_order_notional", "true", ": expected a decimal string, got a boolean" },
        { "limits", "max_total_exposure", "\"1e30\"", ": '1e30': number out of range" },
        { "limits", "symbols", "\"BTCUSDT\"", ": expected a list of strings, got a string ('BTCUSDT')" },
        { "limits", "symbols", "{ \"btcusdt\" }", "[1]: 'btcusdt' is not a symbol: 2 to 20 of A-Z and 0-9, such as \"BTCUSDT\"" },
        { "limits", "symbols", "{ \"B\" }", "[1]: 'B' is not a symbol: 2 to 20 of A-Z and 0-9, such as \"BTCUSDT\"" },
        { "limits", "symbols", "{ \"BTCUSDT\", \"BTCUSDT\" }", "[2]: \"BTCUSDT\" is listed twice" },
        { "limits", "symbols", "{ \"BTCUSDT\", 5 }", "[2]: expected a string, got number" },
        { "limits", "symbols", "{ x = \"BTCUSDT\" }", ": expected a list (array) of strings" },
        { "ess", "daily_loss_pct", "2.5", ": give decimals as strings (e.g. \"2.5\"), not Lua floats" },
        { "ess", "close_positions", "1", ": expected true or false, got an integer" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_refused(cases[i].section, cases[i].key, cases[i].value, cases[i].expect);
}

/* Every bound the tables declare (docs/policies.md's limits and ess
 * tables): the value at the bound is taken, the next one beyond refused. */
static void test_each_declared_bound(void **state)
{
    (void)state;
    static const struct { const char *section, *key, *at, *beyond, *expect; } bounds[] = {
        { "limits", "max_positions", "1", "0", ": 0 is out of range [1, 1000]" },
        { "limits", "max_positions", "1000", "1001", ": 1001 is out of range [1, 1000]" },
        { "limits", "max_symbols", "1", "-1", ": -1 is out of range [1, 1000]" },
        { "limits", "max_symbols", "1000", "1001", ": 1001 is out of range [1, 1000]" },
        { "limits", "min_confidence", "0", "-0.1", ": -0.1 is out of range [0, 1]" },
        { "limits", "min_confidence", "1", "1.5", ": 1.5 is out of range [0, 1]" },
        { "limits", "max_position_notional", "\"0.00000001\"", "\"-1\"", ": -1 is out of range: must be > 0" },
        { "limits", "max_order_notional", "\"0.00000001\"", "\"0\"", ": 0 is out of range: must be > 0" },
        { "limits", "max_total_exposure", "\"1000\"", "0", ": 0 is out of range: must be > 0" },
        { "limits", "max_leverage", "1", "0", ": 0 is out of range [1, 125]" },
        { "limits", "max_leverage", "125", "126", ": 126 is out of range [1, 125]" },
        { "limits", "max_abs_funding_rate", "\"0\"", "\"-0.00000001\"", ": -0.00000001 is out of range: must be >= 0" },
        { "limits", "max_spread_bps", "\"0\"", "\"-1\"", ": -1 is out of range: must be >= 0" },
        { "limits", "min_depth_notional", "0", "-1", ": -1 is out of range: must be >= 0" },
        { "ess", "max_drawdown_pct", "\"0.00000001\"", "\"0\"", ": 0 is out of range (0, 100]" },
        { "ess", "max_drawdown_pct", "\"100\"", "\"100.01\"", ": 100.01 is out of range (0, 100]" },
        { "ess", "daily_loss_pct", "\"0.00000001\"", "\"-2\"", ": -2 is out of range (0, 100]" },
        { "ess", "daily_loss_pct", "100", "101", ": 101 is out of range (0, 100]" },
        { "ess", "max_consecutive_errors", "1", "0", ": 0 is out of range [1, 1000]" },
        { "ess", "max_consecutive_errors", "1000", "1001", ": 1001 is out of range [1, 1000]" },
        { "ess", "cooldown_minutes", "1", "0", ": 0 is out of range [1, 10080]" },
        { "ess", "cooldown_minutes", "10080", "10081", ": 10081 is out of range [1, 10080]" },
        { "ess", "alert_daily_drawdown_pct", "\"0.00000001\"", "\"-2\"", ": -2 is out of range (0, 100]" },
        { "ess", "alert_daily_drawdown_pct", "\"100\"", "\"100.00000001\"", ": 100.00000001 is out of range (0, 100]" },
    };
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        expect_accepted(bounds[i].section, bounds[i].key, bounds[i].at);
        expect_refused(bounds[i].section, bounds[i].key, bounds[i].beyond, bounds[i].expect);
    }
    /* the cooldown's scale: minutes in the file, milliseconds in the rules */
    char text[8192];
    pfx_policy_text(text, sizeof text, NULL, "ess", "cooldown_minutes", "10080", NULL);
    qh_policy *p = qh_policy_new(NULL);
    qtr_policy_event ev;
    assert_int_equal(qh_policy_load(p, pfx_write(&fx, "week.lua", text), 5, &ev), 0);
    assert_int_equal(qh_policy_limits(p)->ess_cooldown_ms, (int64_t)10080 * 60000);
    qh_policy_free(p);
}

/* The line of a refused key is the one inside its own table: the same
 * name in another table or in judge() is not it, and a key written
 * nowhere gets no line. */
static void test_lines_point_into_the_right_table(void **state)
{
    (void)state;
    char text[8192], err[512], want[600];
    const char *judge = "function(order, ctx)\n    local max_leverage = 5\n    return \"allow\"\nend";
    pfx_policy_text(text, sizeof text, NULL, "limits", "max_leverage", NULL, judge);
    assert_int_equal(qh_policy_check_file(pfx_write(&fx, "lines.lua", text), err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: limits.max_leverage: missing (an integer from 1 to 125)", fx.path);
    assert_string_equal(err, want);
    /* a limits key written in ess: the line in ess (23), not the one in limits (6) */
    pfx_policy_text(text, sizeof text, NULL, "ess", "max_positions", "3", NULL);
    assert_int_equal(qh_policy_check_file(pfx_write(&fx, "lines.lua", text), err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:24: ess.max_positions: unknown setting", fx.path);
    assert_string_equal(err, want);
    /* a commented-out line is not the key's */
    pfx_policy_text(text, sizeof text, "-- limits = { max_leverage = 1 }", "limits", "max_leverage", "126", NULL);
    assert_int_equal(qh_policy_check_file(pfx_write(&fx, "lines.lua", text), err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:12: limits.max_leverage: 126 is out of range [1, 125]", fx.path);
    assert_string_equal(err, want);
}

/* A key no table declares is refused in every table, by its full name. */
static void test_unknown_keys_in_every_table(void **state)
{
    (void)state;
    expect_refused("limits", "max_postions", "3", ": unknown setting");
    expect_refused("limits", "judge", "true", ": unknown setting");          /* a top-level name, one level down */
    expect_refused("ess", "trip_on_tuesdays", "true", ": unknown setting");
    expect_refused("ess", "max_positions", "3", ": unknown setting");        /* a limits key in ess */
    char err[512], want[600];
    assert_int_equal(check_change(NULL, "limits", "[7]", "3", NULL, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:4: limits: unexpected non-name key", fx.path);
    assert_string_equal(err, want);
}

static void test_too_many_symbols(void **state)
{
    (void)state;
    char list[4096];
    size_t n = (size_t)snprintf(list, sizeof list, "{");
    for (int i = 0; i < QH_POLICY_MAX_SYMBOLS; i++) n += (size_t)snprintf(list + n, sizeof list - n, "\"S%dUSDT\",", i);
    snprintf(list + n, sizeof list - n, "}");
    expect_accepted("limits", "symbols", list);                    /* 64: the bound itself */
    n = strlen(list) - 1;
    snprintf(list + n, sizeof list - n, "\"S64USDT\"}");
    expect_refused("limits", "symbols", list, ": 65 items, out of range: must be <= 64");
}

static void test_limits_values_converted_exactly(void **state)
{
    (void)state;
    char text[8192];
    pfx_policy_text(text, sizeof text, NULL, "limits", "symbols", "{ \"BTCUSDT\", \"ETH2USDT\" }", NULL);
    qh_policy *p = qh_policy_new(NULL);
    qtr_policy_event ev;
    assert_int_equal(qh_policy_load(p, pfx_write(&fx, "exact.lua", text), 5, &ev), 0);
    const qh_policy_rules *l = qh_policy_limits(p);
    assert_string_equal(l->name, "test");
    assert_int_equal(l->n_symbols, 2);
    assert_string_equal(l->symbols[1], "ETH2USDT");
    assert_int_equal(l->max_positions, 3);
    assert_int_equal(l->max_position_notional, QTR_DEC_INT(1000));
    assert_int_equal(l->max_order_notional, QTR_DEC_INT(500));
    assert_int_equal(l->ess_daily_loss_pct, QTR_DEC_INT(2));
    assert_int_equal(l->alert_daily_drawdown_pct, QTR_DEC_INT(5) / 2);      /* "2.5" */
    assert_int_equal(l->ess_cooldown_ms, 15 * 60 * 1000);
    assert_true(l->ess_close_positions);
    assert_true(l->min_confidence == 0.5);
    qh_policy_free(p);
}

static void test_bad_judge_answers_fail_the_self_test(void **state)
{
    (void)state;
    static const struct { const char *judge, *expect; } cases[] = {
        { "function(o, c) return 42 end", "must return \"allow\"" },
        { "function(o, c) return nil end", "must return \"allow\"" },
        { "function(o, c) return \"maybe\" end", "must return \"allow\"" },
        { "function(o, c) return \"resize\", dec.add(o.qty, \"0.00000001\") end", "not > 0 and <= the order quantity" },
        { "function(o, c) return \"resize\", \"0\" end", "not > 0 and <= the order quantity" },
        { "function(o, c) return \"resize\", 0.0005 end", "decimal string" },
        { "function(o, c) return \"resize\", \"abc\" end", "not an exact decimal" },
        { "function(o, c) return \"reject\" end", "snake_case" },
        { "function(o, c) return \"reject\", \"Not Snake\" end", "snake_case" },
        { "function(o, c) error(\"judge broke\") end", "judge broke" },
        /* the instruction limit, or on a busy machine the time limit, stops it */
        { "function(o, c) while true do end end", "limit exceeded" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512];
        assert_int_equal(check_change(NULL, NULL, NULL, NULL, cases[i].judge, err, sizeof err), -1);
        if (!pfx_contains(err, cases[i].expect) || !pfx_contains(err, fx.path) || !pfx_contains(err, "self-test"))
            fail_msg("case %zu", i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_policy_is_valid),
        cmocka_unit_test(test_each_required_field_missing),
        cmocka_unit_test(test_optional_fields_default_to_off),
        cmocka_unit_test(test_top_level_fields),
        cmocka_unit_test(test_wrong_types_and_ranges),
        cmocka_unit_test(test_each_declared_bound),
        cmocka_unit_test(test_unknown_keys_in_every_table),
        cmocka_unit_test(test_lines_point_into_the_right_table),
        cmocka_unit_test(test_too_many_symbols),
        cmocka_unit_test(test_limits_values_converted_exactly),
        cmocka_unit_test(test_bad_judge_answers_fail_the_self_test),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
