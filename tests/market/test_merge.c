/* Merging per-symbol candle series into one stream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <qtr/plugin.h>

#include "market/candles.h"

static void add(qh_candle_vec *v, const char *sym, int64_t t, int64_t tag)
{
    qtr_candle c;
    memset(&c, 0, sizeof c);
    qtr_strlcpy(c.symbol, sym, sizeof c.symbol);
    c.open_time_ms = t;
    c.close_time_ms = t + 59;
    c.volume = tag;   /* identifies the source row in assertions */
    assert_int_equal(qh_candle_vec_push(v, &c), 0);
}

static void orders_by_time_then_symbol(void **state)
{
    (void)state;
    qh_candle_vec eth = { 0 }, btc = { 0 }, xrp = { 0 }, out = { 0 };
    add(&eth, "ETHUSDT", 0, 1);
    add(&eth, "ETHUSDT", 120, 2);
    add(&eth, "ETHUSDT", 240, 3);
    add(&btc, "BTCUSDT", 60, 4);
    add(&btc, "BTCUSDT", 120, 5);
    add(&xrp, "XRPUSDT", 0, 6);
    add(&xrp, "XRPUSDT", 240, 7);
    qh_candle_vec *series[] = { &xrp, &eth, &btc };
    assert_int_equal(qh_candles_merge(series, 3, &out), 0);
    /* expected by the rule: time first, then symbol name */
    const int64_t want_tags[] = { 1, 6, 4, 5, 2, 3, 7 };
    assert_int_equal(out.len, 7);
    for (size_t i = 0; i < 7; i++) assert_int_equal(out.items[i].volume, want_tags[i]);
    for (size_t i = 1; i < out.len; i++) {
        const qtr_candle *a = &out.items[i - 1], *b = &out.items[i];
        assert_true(a->open_time_ms < b->open_time_ms ||
                    (a->open_time_ms == b->open_time_ms && strcmp(a->symbol, b->symbol) < 0));
    }
    /* the inputs are untouched */
    assert_int_equal(xrp.len, 2);
    assert_int_equal(xrp.items[0].volume, 6);
    qh_candle_vec_free(&eth);
    qh_candle_vec_free(&btc);
    qh_candle_vec_free(&xrp);
    qh_candle_vec_free(&out);
}

static void equal_keys_keep_series_order(void **state)
{
    (void)state;
    qh_candle_vec a = { 0 }, b = { 0 }, out = { 0 };
    for (int64_t i = 0; i < 50; i++) {
        add(&a, "SAME", i * 10, 1000 + i);
        add(&b, "SAME", i * 10, 2000 + i);
    }
    qh_candle_vec *series[] = { &b, &a };
    assert_int_equal(qh_candles_merge(series, 2, &out), 0);
    assert_int_equal(out.len, 100);
    for (int64_t i = 0; i < 50; i++) {
        assert_int_equal(out.items[2 * i].volume, 2000 + i);
        assert_int_equal(out.items[2 * i + 1].volume, 1000 + i);
    }
    qh_candle_vec_free(&a);
    qh_candle_vec_free(&b);
    qh_candle_vec_free(&out);
}

static void appends_and_refuses_aliasing(void **state)
{
    (void)state;
    qh_candle_vec a = { 0 }, out = { 0 };
    add(&out, "FIRST", 999999, 42);
    add(&a, "AAA", 5, 1);
    qh_candle_vec *series[] = { &a };
    assert_int_equal(qh_candles_merge(series, 1, &out), 0);
    assert_int_equal(out.len, 2);
    assert_int_equal(out.items[0].volume, 42);   /* what was there stays first */
    assert_int_equal(out.items[1].volume, 1);
    qh_candle_vec *self[] = { &out };
    assert_int_equal(qh_candles_merge(self, 1, &out), -1);
    assert_int_equal(out.len, 2);
    qh_candle_vec *with_null[] = { &a, NULL };
    assert_int_equal(qh_candles_merge(with_null, 2, &out), -1);
    qh_candle_vec_free(&a);
    qh_candle_vec_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(orders_by_time_then_symbol),
        cmocka_unit_test(equal_keys_keep_series_order),
        cmocka_unit_test(appends_and_refuses_aliasing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
