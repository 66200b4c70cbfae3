/* strategy_target's signal text: the symbol and the reason reach the host
 * whole when they fit, cut to the field's size - 1 when they do not (as
 * qtr_strlcpy cut them), NUL-terminated, the rest of the field zero. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mock_host.h"
#include "strategy_target.h"

static void expect_zero_after(const char *field, size_t cap)
{
    for (size_t i = strlen(field); i < cap; i++) assert_int_equal(field[i], 0);
}

static void test_reason_and_symbol_fit_or_are_cut(void **st)
{
    (void)st;
    mock_host *m = mock_host_new(false);
    char longest_symbol[QTR_SYMBOL_MAX];
    memset(longest_symbol, 'S', sizeof longest_symbol - 1);
    longest_symbol[sizeof longest_symbol - 1] = '\0';
    char long_reason[QTR_REASON_MAX + 40];
    for (size_t i = 0; i < sizeof long_reason - 1; i++) long_reason[i] = (char)('a' + i % 26);
    long_reason[sizeof long_reason - 1] = '\0';

    assert_int_equal(strategy_go_to_target(&m->api, m->ctx, NULL, "BTCUSDT", QTR_DEC_INT(1), 0.5, "short"), 1);
    assert_int_equal(strategy_go_to_target(&m->api, m->ctx, NULL, longest_symbol, QTR_DEC_INT(2), 0.5,
                                           long_reason), 1);
    assert_int_equal(m->n_signals, 2);
    const qtr_signal *a = &m->signals[0], *b = &m->signals[1];
    assert_string_equal(a->symbol, "BTCUSDT");
    assert_string_equal(a->reason, "short");
    expect_zero_after(a->symbol, sizeof a->symbol);
    expect_zero_after(a->reason, sizeof a->reason);
    assert_string_equal(b->symbol, longest_symbol);
    assert_int_equal(strlen(b->reason), QTR_REASON_MAX - 1);
    assert_memory_equal(b->reason, long_reason, QTR_REASON_MAX - 1);
    assert_int_equal(b->side, QTR_SIDE_BUY);
    mock_host_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reason_and_symbol_fit_or_are_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
