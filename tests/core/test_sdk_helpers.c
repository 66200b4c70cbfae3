/* The SDK's inline helpers that both the host and plugins rely on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <qtr/plugin.h>

static void client_ids(void **s)
{
    (void)s;
    assert_true(qtr_client_id_valid("qtr-tozqc3-1"));
    assert_true(qtr_client_id_valid("A.b:c/d_e-0"));
    assert_true(qtr_client_id_valid("x"));
    assert_true(qtr_client_id_valid("123456789012345678901234567890123456"));      /* 36 */
    assert_false(qtr_client_id_valid("1234567890123456789012345678901234567"));    /* 37 */
    assert_false(qtr_client_id_valid(""));
    assert_false(qtr_client_id_valid(NULL));
    assert_false(qtr_client_id_valid("has space"));
    assert_false(qtr_client_id_valid("semi;colon"));
    assert_false(qtr_client_id_valid("caf\xc3\xa9"));
}

static void update_for_intent(void **s)
{
    (void)s;
    qtr_order_intent in;
    memset(&in, 0x5a, sizeof in);   /* garbage everywhere the helper must not copy */
    qtr_strlcpy(in.symbol, "BTCUSDT", sizeof in.symbol);
    qtr_strlcpy(in.client_id, "qtr-1-7", sizeof in.client_id);
    in.side = QTR_SIDE_SELL;
    in.type = QTR_ORDER_LIMIT;
    in.qty = 12345;
    in.price = 678;
    in.reduce_only = true;
    qtr_order_update u;
    qtr_order_update_for_intent(&in, QTR_OS_REJECTED, "risk: max_positions", 42, &u);
    assert_string_equal(u.symbol, "BTCUSDT");
    assert_string_equal(u.client_id, "qtr-1-7");
    assert_string_equal(u.reason, "risk: max_positions");
    assert_int_equal(u.status, QTR_OS_REJECTED);
    assert_int_equal(u.side, QTR_SIDE_SELL);
    assert_int_equal(u.type, QTR_ORDER_LIMIT);
    assert_int_equal(u.qty, 12345);
    assert_int_equal(u.price, 678);
    assert_true(u.reduce_only);
    assert_int_equal(u.time_ms, 42);
    assert_int_equal(u.filled_qty, 0);
    assert_int_equal(u.exchange_id[0], 0);
    assert_false(u.external);
    char long_reason[300];
    memset(long_reason, 'r', sizeof long_reason - 1);
    long_reason[sizeof long_reason - 1] = '\0';
    qtr_order_update_for_intent(&in, QTR_OS_EXPIRED, long_reason, 1, &u);
    assert_int_equal(strlen(u.reason), sizeof u.reason - 1);    /* cut, always terminated */
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(client_ids), cmocka_unit_test(update_for_intent) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
