/* fetch_rules (qtr_exchange_ops, bn_exchange_info.c): the exchangeInfo
 * document handed back once, later on the loop, only when the plugin's own
 * reader accepts it; no usable answer is QTR_EIO, an answer that does not
 * read QTR_EREFUSED naming what is wrong; a fetch still out when the plugin
 * is destroyed never calls back (and leaks nothing under ASan). The command
 * that uses it is tested end to end in tests/e2e/test_symbols_fetch.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bn_fixture.h"
#include "bn_rules.h"

typedef struct answer {
    int calls;
    int status;
    char *text;
} answer;

static void on_rules(void *ud, int status, const char *text, size_t len)
{
    answer *a = ud;
    a->calls++;
    a->status = status;
    free(a->text);
    a->text = strndup(text, len);
}

static bool answered(bn_fx *fx, const void *arg)
{
    (void)fx;
    return ((const answer *)arg)->calls > 0;
}

static answer fetch(bn_fx *fx)
{
    answer a = { 0 };
    assert_int_equal(mock_plugin_fetch_rules(fx->m, &fx->plug, on_rules, &a), QTR_OK);
    assert_int_equal(a.calls, 0);   /* never from inside the call */
    assert_true(fx_run_until(fx, 5000, answered, &a));
    fx_run_for(fx, 50);
    assert_int_equal(a.calls, 1);   /* once */
    return a;
}

static void rules_as_the_exchange_sends_them(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    answer a = fetch(fx);
    assert_int_equal(a.status, QTR_OK);
    bn_exchange_info info;
    char err[200];
    assert_int_equal(bn_exchange_info_read(a.text, strlen(a.text), &info, err, sizeof err), 0);
    assert_non_null(bn_rules_find(&info, "BTCUSDT"));
    assert_int_equal(bn_rules_find(&info, "BTCUSDT")->tick, D("0.1"));
    bn_exchange_info_free(&info);
    free(a.text);
}

static void no_usable_answer_or_a_refusal(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/exchangeInfo&kind=500&count=1"), 200);
    answer a = fetch(fx);
    assert_int_equal(a.status, QTR_EIO);
    assert_non_null(strstr(a.text, "no usable answer"));
    free(a.text);
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/exchangeInfo&kind=malformed&count=1"), 200);
    a = fetch(fx);
    assert_int_equal(a.status, QTR_EREFUSED);
    assert_non_null(strstr(a.text, "malformed JSON"));
    free(a.text);
    assert_int_equal(mx_post(fx->mx, "/mock/limits?weight_interval_ms=500"), 200);
    a = fetch(fx);
    assert_int_equal(a.status, QTR_EREFUSED);
    assert_non_null(strstr(a.text, "rateLimits[0]: bad interval or limit"));
    free(a.text);
}

static void destroyed_while_out(void **state)
{
    bn_fx *fx = *state;
    assert_true(fx_load(fx));
    assert_int_equal(mx_post(fx->mx, "/mock/fault?path=/fapi/v1/exchangeInfo&kind=timeout&delay_ms=2000&count=1"), 200);
    answer a = { 0 };
    assert_int_equal(mock_plugin_fetch_rules(fx->m, &fx->plug, on_rules, &a), QTR_OK);
    fx_run_for(fx, 50);
    mock_plugin_unload(fx->m, &fx->plug);
    fx->loaded = false;
    assert_int_equal(a.calls, 0);
}

/* The paper exchange has no rules to fetch: refused, and no callback. */
static void paper_has_none(void **state)
{
    (void)state;
    mock_host *m = mock_host_new(false);
    mock_plugin p;
    assert_int_equal(mock_plugin_load(m, mock_plugin_path("exchange_paper"), &p), 0);
    answer a = { 0 };
    assert_int_equal(mock_plugin_fetch_rules(m, &p, on_rules, &a), QTR_ENOTSUP);
    assert_int_equal(a.calls, 0);
    mock_plugin_unload(m, &p);
    mock_host_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(rules_as_the_exchange_sends_them, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(no_usable_answer_or_a_refusal, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(destroyed_while_out, fx_setup, fx_teardown),
        cmocka_unit_test(paper_has_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
