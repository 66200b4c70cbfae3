/* The symbol index: dense indexes in first-seen order, O(1) lookups, a hard
 * capacity (or growth), and refusal of names that do not fit a symbol field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "portfolio/symbol_index.h"

static void test_intern_and_find(void **st)
{
    (void)st;
    qh_symbol_index *ix = qh_symbol_index_new(8);
    assert_non_null(ix);
    assert_int_equal(qh_symbol_index_find(ix, "BTCUSDT"), -1);
    assert_int_equal(qh_symbol_index_intern(ix, "BTCUSDT"), 0);
    assert_int_equal(qh_symbol_index_intern(ix, "ETHUSDT"), 1);
    assert_int_equal(qh_symbol_index_intern(ix, "BTCUSDT"), 0);   /* same name, same index */
    assert_int_equal(qh_symbol_index_find(ix, "ETHUSDT"), 1);
    assert_int_equal(qh_symbol_index_count(ix), 2);
    assert_string_equal(qh_symbol_index_name(ix, 1), "ETHUSDT");
    assert_null(qh_symbol_index_name(ix, 2));
    qh_symbol_index_free(ix);
}

static void test_capacity_is_enforced(void **st)
{
    (void)st;
    qh_symbol_index *ix = qh_symbol_index_new(300);
    char name[16];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "S%dUSDT", i);
        assert_int_equal(qh_symbol_index_intern(ix, name), i);
    }
    assert_int_equal(qh_symbol_index_intern(ix, "ONEMORE"), -1);
    /* every name is still found at its own index after the table filled */
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "S%dUSDT", i);
        assert_int_equal(qh_symbol_index_find(ix, name), i);
    }
    qh_symbol_index_free(ix);
}

static void test_bad_names_refused(void **st)
{
    (void)st;
    qh_symbol_index *ix = qh_symbol_index_new(4);
    char too_long[QTR_SYMBOL_MAX + 1];
    memset(too_long, 'A', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    assert_int_equal(qh_symbol_index_intern(ix, ""), -1);
    assert_int_equal(qh_symbol_index_intern(ix, NULL), -1);
    assert_int_equal(qh_symbol_index_intern(ix, too_long), -1);
    too_long[QTR_SYMBOL_MAX - 1] = '\0';   /* 23 characters: fits */
    assert_int_equal(qh_symbol_index_intern(ix, too_long), 0);
    assert_null(qh_symbol_index_new(QH_SYMBOL_INDEX_LIMIT + 1));
    qh_symbol_index_free(ix);
}

/* max_symbols 0: the index grows (the engine's market table), names and
 * indexes stay right across the growth of both the map and the names. */
static void test_growing_index(void **st)
{
    (void)st;
    qh_symbol_index *ix = qh_symbol_index_new(0);
    assert_non_null(ix);
    assert_int_equal(qh_symbol_index_capacity(ix), 0);
    char name[16];
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "G%dUSDT", i);
        assert_int_equal(qh_symbol_index_intern(ix, name), i);
    }
    assert_int_equal(qh_symbol_index_count(ix), 1000);
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "G%dUSDT", i);
        assert_int_equal(qh_symbol_index_find(ix, name), i);
        assert_string_equal(qh_symbol_index_name(ix, i), name);
    }
    assert_int_equal(qh_symbol_index_intern(ix, "G7USDT"), 7);
    assert_int_equal(qh_symbol_index_count(ix), 1000);
    qh_symbol_index_free(ix);
}

/* Lookups in any order give what the map gives: the same name twice in a
 * row, a prefix or an extension of the name found last, names too long or
 * empty right after a hit (the last name found is compared first). */
static void test_repeated_and_near_names(void **st)
{
    (void)st;
    qh_symbol_index *ix = qh_symbol_index_new(0);
    assert_int_equal(qh_symbol_index_find(ix, "BTCUSDT"), -1);
    assert_int_equal(qh_symbol_index_intern(ix, "BTCUSDT"), 0);
    assert_int_equal(qh_symbol_index_intern(ix, "ETHUSDT"), 1);
    assert_int_equal(qh_symbol_index_find(ix, "BTCUSDT"), 0);
    assert_int_equal(qh_symbol_index_find(ix, "BTCUSDT"), 0);
    assert_int_equal(qh_symbol_index_find(ix, "BTCUSD"), -1);
    assert_int_equal(qh_symbol_index_find(ix, "BTCUSDTX"), -1);
    assert_int_equal(qh_symbol_index_find(ix, ""), -1);
    assert_int_equal(qh_symbol_index_find(ix, NULL), -1);
    assert_int_equal(qh_symbol_index_find(ix, "ETHUSDT"), 1);
    assert_int_equal(qh_symbol_index_intern(ix, "ETHUSDT"), 1);
    assert_int_equal(qh_symbol_index_count(ix), 2);
    char longname[QTR_SYMBOL_MAX + 8];
    memset(longname, 'E', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(qh_symbol_index_find(ix, longname), -1);
    assert_int_equal(qh_symbol_index_intern(ix, longname), -1);
    /* many symbols, looked up in a shifting order against the names */
    char name[16];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "S%03dUSDT", i);
        assert_int_equal(qh_symbol_index_intern(ix, name), i + 2);
    }
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 300; i++) {
            int k = (i * 7 + round) % 300;
            snprintf(name, sizeof name, "S%03dUSDT", k);
            assert_int_equal(qh_symbol_index_find(ix, name), k + 2);
            assert_int_equal(qh_symbol_index_find(ix, name), k + 2);
            assert_string_equal(qh_symbol_index_name(ix, k + 2), name);
        }
    qh_symbol_index_free(ix);
}

/* Lookups in round-robin order (the order candles of several symbols come
 * in, which the index tries first after the last name), in reverse, and in a
 * scrambled order all give each name's own index, across the wrap from the
 * last index to the first, and an unknown name is still not found. */
static void test_lookup_orders(void **st)
{
    (void)st;
    qh_symbol_index *ix = qh_symbol_index_new(0);
    assert_non_null(ix);
    char name[QTR_SYMBOL_MAX];
    for (int i = 0; i < 50; i++) {
        snprintf(name, sizeof name, "S%02dUSDT", i);
        assert_int_equal(qh_symbol_index_intern(ix, name), i);
    }
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 50; i++) {
            snprintf(name, sizeof name, "S%02dUSDT", i);
            assert_int_equal(qh_symbol_index_find(ix, name), i);
            assert_int_equal(qh_symbol_index_intern(ix, name), i);
        }
    }
    for (int i = 49; i >= 0; i--) {
        snprintf(name, sizeof name, "S%02dUSDT", i);
        assert_int_equal(qh_symbol_index_find(ix, name), i);
    }
    for (int k = 0; k < 500; k++) {
        int i = (k * 37 + 11) % 50;
        snprintf(name, sizeof name, "S%02dUSDT", i);
        assert_int_equal(qh_symbol_index_find(ix, name), i);
        assert_int_equal(qh_symbol_index_find(ix, "S50USDT"), -1);
    }
    assert_int_equal(qh_symbol_index_find(ix, "S49USDT"), 49);
    assert_int_equal(qh_symbol_index_find(ix, "S00USDT"), 0);   /* after the last: the first */
    assert_int_equal(qh_symbol_index_find(ix, "S01USDT"), 1);
    assert_int_equal(qh_symbol_index_count(ix), 50);
    qh_symbol_index_free(ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intern_and_find),
        cmocka_unit_test(test_capacity_is_enforced),
        cmocka_unit_test(test_bad_names_refused),
        cmocka_unit_test(test_growing_index),
        cmocka_unit_test(test_repeated_and_near_names),
        cmocka_unit_test(test_lookup_orders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
