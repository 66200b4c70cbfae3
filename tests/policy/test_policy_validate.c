/* Validation of policy files: every required field missing, wrong types,
 * out-of-range values, unknown fields, and judge() answering badly in the
 * self-test. Each is refused with the file and the field named. */
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

static void expect_refused(const char *section, const char *key, const char *value, const char *expect)
{
    char err[512];
    assert_int_equal(check_change(NULL, section, key, value, NULL, err, sizeof err), -1);
    char field[400];
    snprintf(field, sizeof field, "%s: %s.%s: ", fx.path, section, key);
    assert_true(pfx_contains(err, field));
    assert_true(pfx_contains(err, expect));
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
    int required = 0;
    for (const pfx_field *f = pfx_limits; f->key; f++) {
        char err[512];
        if (optional_field(f->key)) {
            assert_int_equal(check_change(NULL, "limits", f->key, NULL, NULL, err, sizeof err), 0);
            continue;
        }
        expect_refused("limits", f->key, NULL, "missing");
        required++;
    }
    for (const pfx_field *f = pfx_ess; f->key; f++) {
        expect_refused("ess", f->key, NULL, "missing");
        required++;
    }
    assert_int_equal(required, 7 + 6);
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
    static const struct { const char *from, *to, *expect; } cases[] = {
        { "    name = \"test\",\n", "", "name: missing" },
        { "    name = \"test\",\n", "    name = \"bad name!\",\n", "name: \"bad name!\"" },
        { "    name = \"test\",\n", "    name = 7,\n", "name: missing or not a string" },
        { "    judge = ", "    nojudge = ", "unknown field 'nojudge'" },
        { "return {", "return 42, {", "must end with `return {" },
        { "    limits = {", "    limits = 5 or {", "limits: must be a table" },
        { "    ess = {", "    ess_ = {", "unknown field 'ess_'" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pfx_policy_text(text, sizeof text, NULL, NULL, NULL, NULL, base_judge);
        char *at = strstr(text, cases[i].from);
        assert_non_null(at);
        char out[8192];
        snprintf(out, sizeof out, "%.*s%s%s", (int)(at - text), text, cases[i].to, at + strlen(cases[i].from));
        assert_int_equal(qh_policy_check_file(pfx_write(&fx, "top.lua", out), err, sizeof err), -1);
        assert_true(pfx_contains(err, fx.path));
        assert_true(pfx_contains(err, cases[i].expect));
    }
    assert_int_equal(check_change(NULL, NULL, NULL, NULL, "5", err, sizeof err), -1);
    assert_true(pfx_contains(err, "judge: must be a function"));
}

static void test_wrong_types_and_ranges(void **state)
{
    (void)state;
    static const struct { const char *section, *key, *value, *expect; } cases[] = {
        { "limits", "max_positions", "0", "must be an integer from 1" },
        { "limits", "max_positions", "2.5", "got a float" },
        { "limits", "max_positions", "\"3\"", "must be an integer" },
        { "limits", "max_symbols", "-1", "must be an integer from 1" },
        { "limits", "min_confidence", "1.5", "from 0 to 1" },
        { "limits", "min_confidence", "-0.1", "from 0 to 1" },
        { "limits", "min_confidence", "\"0.5\"", "must be a number" },
        { "limits", "max_position_notional", "1000.5", "a float is not exact" },
        { "limits", "max_position_notional", "\"-1\"", "must be > 0" },
        { "limits", "max_position_notional", "\"abc\"", "not a decimal number" },
        { "limits", "max_position_notional", "\"0.000000001\"", "more than 8 decimal places" },
        { "limits", "max_position_notional", "\"5000\"", "must not exceed limits.max_total_exposure" },
        { "limits", "max_order_notional", "\"0\"", "must be > 0" },
        { "limits", "max_order_notional", "true", "must be a decimal string" },
        { "limits", "max_total_exposure", "\"1e30\"", "out of range" },
        { "limits", "max_leverage", "126", "from 1 to 125" },
        { "limits", "max_spread_bps", "\"-1\"", "must be >= 0" },
        { "limits", "symbols", "\"BTCUSDT\"", "must be a list" },
        { "limits", "symbols", "{ \"btcusdt\" }", "\"btcusdt\": a symbol is" },
        { "limits", "symbols", "{ \"BTCUSDT\", \"BTCUSDT\" }", "listed twice" },
        { "limits", "symbols", "{ \"BTCUSDT\", 5 }", "must be a string" },
        { "limits", "symbols", "{ x = \"BTCUSDT\" }", "must be a plain list" },
        { "limits", "max_postions", "3", "unknown field 'max_postions'" },
        { "ess", "max_drawdown_pct", "\"0\"", "must be > 0 and <= 100" },
        { "ess", "max_drawdown_pct", "\"100.01\"", "must be > 0 and <= 100" },
        { "ess", "daily_loss_pct", "2.5", "a float is not exact" },
        { "ess", "max_consecutive_errors", "0", "must be an integer from 1" },
        { "ess", "cooldown_minutes", "0", "must be an integer from 1" },
        { "ess", "close_positions", "1", "must be true or false" },
        { "ess", "alert_daily_drawdown_pct", "\"-2\"", "must be > 0 and <= 100" },
        { "ess", "trip_on_tuesdays", "true", "unknown field 'trip_on_tuesdays'" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512];
        assert_int_equal(check_change(NULL, cases[i].section, cases[i].key, cases[i].value, NULL, err, sizeof err), -1);
        char field[400];
        /* unknown fields are reported against their section */
        if (strstr(cases[i].expect, "unknown field"))
            snprintf(field, sizeof field, "%s: %s: ", fx.path, cases[i].section);
        else
            snprintf(field, sizeof field, "%s: %s.%s", fx.path, cases[i].section, cases[i].key);
        if (!pfx_contains(err, field) || !pfx_contains(err, cases[i].expect)) fail_msg("case %zu", i);
    }
}

static void test_too_many_symbols(void **state)
{
    (void)state;
    char list[4096];
    size_t n = (size_t)snprintf(list, sizeof list, "{");
    for (int i = 0; i <= QH_POLICY_MAX_SYMBOLS; i++) n += (size_t)snprintf(list + n, sizeof list - n, "\"S%dUSDT\",", i);
    snprintf(list + n, sizeof list - n, "}");
    expect_refused("limits", "symbols", list, "at most 64 symbols");
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
        cmocka_unit_test(test_too_many_symbols),
        cmocka_unit_test(test_limits_values_converted_exactly),
        cmocka_unit_test(test_bad_judge_answers_fail_the_self_test),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
