/* Merging per-symbol candle series into one stream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <qtr/plugin.h>

#include "market/candles.h"
#include "test_rng.h"

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

/* The reference order: a stable insertion sort of the concatenation by
 * (time, symbol), as qh_candles_merge has always ordered. */
static void reference_order(qtr_candle *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        qtr_candle c = a[i];
        size_t j = i;
        while (j > 0 && (a[j - 1].open_time_ms > c.open_time_ms ||
                         (a[j - 1].open_time_ms == c.open_time_ms && strcmp(a[j - 1].symbol, c.symbol) > 0))) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = c;
    }
}

static uint64_t g_rng = 88172645463325252ULL;
static uint64_t rng(void) { return test_rng_next(&g_rng); }

/* Random series with many equal keys (few times, few symbols, a symbol in
 * several series and several symbols in one), in order or not: the merge
 * gives exactly the reference order, tags included. With one_symbol_each
 * every series holds a single symbol (several series may share one), as
 * files do. */
static void check_random_merges(bool in_order, bool one_symbol_each)
{
    static const char *const syms[] = { "BTCUSDT", "AAA", "XRPUSDT", "ETHUSDT" };
    for (int round = 0; round < 300; round++) {
        size_t n = 1 + rng() % 7;
        qh_candle_vec v[7] = { { 0 } }, out = { 0 };
        qh_candle_vec *series[7];
        size_t total = 0;
        int64_t tag = 1;
        for (size_t i = 0; i < n; i++) {
            series[i] = &v[i];
            size_t len = rng() % 12;
            int64_t t = (int64_t)(rng() % 3) * 60;
            const char *own = syms[rng() % 4];
            for (size_t k = 0; k < len; k++) {
                if (in_order) t += (int64_t)(rng() % 2) * 60;   /* equal times within a series too */
                else t = (int64_t)(rng() % 5) * 60;
                const char *sym = one_symbol_each || rng() % 4 ? own : syms[rng() % 4];
                if (in_order && k && v[i].items[v[i].len - 1].open_time_ms == t &&
                    strcmp(v[i].items[v[i].len - 1].symbol, sym) > 0)
                    sym = v[i].items[v[i].len - 1].symbol;   /* keep (time, symbol) order */
                add(&v[i], sym, t, tag++);
            }
            total += len;
        }
        qtr_candle *want = calloc(total + 1, sizeof *want);
        assert_non_null(want);
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < v[i].len; j++) want[k++] = v[i].items[j];
        reference_order(want, total);
        assert_int_equal(qh_candles_merge(series, n, &out), 0);
        assert_int_equal(out.len, total);
        for (size_t j = 0; j < total; j++) assert_int_equal(out.items[j].volume, want[j].volume);
        qh_candle_vec_free(&out);
        assert_int_equal(qh_candles_merge_consume(series, n, &out), 0);   /* the same order, inputs freed */
        assert_int_equal(out.len, total);
        for (size_t j = 0; j < total; j++) assert_int_equal(out.items[j].volume, want[j].volume);
        for (size_t i = 0; i < n; i++) assert_int_equal(v[i].len, 0);
        free(want);
        for (size_t i = 0; i < n; i++) qh_candle_vec_free(&v[i]);
        qh_candle_vec_free(&out);
    }
}

/* Series long enough that merged pages are given back while merging: every
 * candle still arrives intact and in order. */
static void consuming_merge_of_long_series(void **state)
{
    (void)state;
    enum { LEN = 200000 };
    static const char *const syms[] = { "XRPUSDT", "BTCUSDT", "ETHUSDT" };
    qh_candle_vec v[3] = { { 0 } }, out = { 0 };
    qh_candle_vec *series[] = { &v[0], &v[1], &v[2] };
    for (int s = 0; s < 3; s++)
        for (int64_t i = 0; i < LEN; i++) add(&v[s], syms[s], i * 60, (s + 1) * 10000000 + i);
    assert_int_equal(qh_candles_merge_consume(series, 3, &out), 0);
    assert_int_equal(out.len, 3 * LEN);
    const int order[] = { 1, 2, 0 };   /* BTCUSDT, ETHUSDT, XRPUSDT at each time */
    for (size_t j = 0; j < out.len; j++) {
        int s = order[j % 3];
        assert_int_equal(out.items[j].volume, (s + 1) * 10000000 + (int64_t)(j / 3));
        assert_int_equal(out.items[j].open_time_ms, (int64_t)(j / 3) * 60);
        assert_string_equal(out.items[j].symbol, syms[s]);
    }
    for (int s = 0; s < 3; s++) assert_null(v[s].items);
    qh_candle_vec_free(&out);
}

static void sorted_series_merge_to_the_sort_order(void **state)
{
    (void)state;
    check_random_merges(true, false);
    check_random_merges(true, true);   /* one file per symbol: symbols ranked once */
}

static void unsorted_series_merge_to_the_sort_order(void **state)
{
    (void)state;
    check_random_merges(false, false);
    check_random_merges(false, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(orders_by_time_then_symbol),
        cmocka_unit_test(equal_keys_keep_series_order),
        cmocka_unit_test(appends_and_refuses_aliasing),
        cmocka_unit_test(sorted_series_merge_to_the_sort_order),
        cmocka_unit_test(consuming_merge_of_long_series),
        cmocka_unit_test(unsorted_series_merge_to_the_sort_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
