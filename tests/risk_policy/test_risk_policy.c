/* The risk_policy plugin ("policy"): kept so configs that name it still
 * load; the host enforces the policy itself (tests/policy/test_policy_enforce.c,
 * tests/risk_policy/test_policy_host_enforced.c), so the plugin adds no
 * check: it approves every order at its quantity, and never grows one. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mock_host.h"

static void approves_as_is_and_never_grows(void **state)
{
    (void)state;
    mock_host *m = mock_host_new(false);
    mock_plugin p;
    assert_int_equal(mock_plugin_load(m, mock_plugin_path("risk_policy"), &p), 0);
    assert_int_equal(p.desc->kind, QTR_KIND_RISK);
    assert_string_equal(p.desc->name, "policy");
    qtr_order_intent o;
    memset(&o, 0, sizeof o);
    qtr_strlcpy(o.symbol, "BTCUSDT", sizeof o.symbol);
    o.side = QTR_SIDE_BUY;
    o.qty = D("0.25");
    qtr_risk_decision d;
    memset(&d, 0x5a, sizeof d);
    p.desc->risk->check_order(p.state, &o, &d);
    assert_int_equal(d.verdict, QTR_RISK_APPROVE);
    assert_int_equal(d.qty, o.qty);
    /* its reason, terminated, and nothing of the caller's bytes left */
    assert_string_equal(d.reason, "policy_enforced_by_host");
    for (size_t i = strlen(d.reason); i < sizeof d.reason; i++) assert_int_equal(d.reason[i], 0);
    mock_plugin_unload(m, &p);
    mock_host_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(approves_as_is_and_never_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
