/* The one hash map (common/): put, get, replace, remove with backward shift
 * (checked against a plain reference table over many random operations on a
 * small, crowded table), fixed capacity, growth, key limits, the walk, and
 * the one hash function's reference values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "qc/hash.h"
#include "qc/strmap.h"

/* Published FNV-1a 32-bit test vectors. */
static void test_hash_reference_values(void **st)
{
    (void)st;
    assert_int_equal(qc_hash_str(""), 0x811c9dc5u);
    assert_int_equal(qc_hash_str("a"), 0xe40c292cu);
    assert_int_equal(qc_hash_str("foobar"), 0xbf9cf968u);
    assert_int_equal(qc_hash_bytes("foobar", 6), 0xbf9cf968u);
    assert_int_not_equal(qc_hash_nonzero("a"), 0);
}

static void test_put_get_replace(void **st)
{
    (void)st;
    qc_strmap *m = qc_strmap_new(40, 0);
    assert_non_null(m);
    int64_t v = 0;
    assert_false(qc_strmap_get(m, "qtr-1-abc", &v));
    assert_int_equal(qc_strmap_put(m, "qtr-1-abc", 7), QC_STRMAP_ADDED);
    assert_int_equal(qc_strmap_put(m, "qtr-2-abc", -3), QC_STRMAP_ADDED);
    assert_true(qc_strmap_get(m, "qtr-1-abc", &v));
    assert_int_equal(v, 7);
    assert_int_equal(qc_strmap_put(m, "qtr-1-abc", 9), QC_STRMAP_REPLACED);
    assert_true(qc_strmap_get(m, "qtr-1-abc", &v));
    assert_int_equal(v, 9);
    assert_true(qc_strmap_get(m, "qtr-2-abc", NULL));
    assert_int_equal(qc_strmap_count(m), 2);
    assert_true(qc_strmap_remove(m, "qtr-1-abc", &v));
    assert_int_equal(v, 9);
    assert_false(qc_strmap_remove(m, "qtr-1-abc", NULL));
    assert_false(qc_strmap_get(m, "qtr-1-abc", NULL));
    assert_int_equal(qc_strmap_count(m), 1);
    qc_strmap_clear(m);
    assert_int_equal(qc_strmap_count(m), 0);
    assert_false(qc_strmap_get(m, "qtr-2-abc", NULL));
    qc_strmap_free(m);
}

/* Keys of key_max - 1 bytes fit; longer, empty and NULL keys are refused. */
static void test_key_limits(void **st)
{
    (void)st;
    qc_strmap *m = qc_strmap_new(40, 4);
    char k[41];
    memset(k, 'x', 40);
    k[40] = '\0';
    assert_int_equal(qc_strmap_put(m, k, 1), QC_STRMAP_REFUSED);   /* 40 chars */
    assert_false(qc_strmap_get(m, k, NULL));
    k[39] = '\0';
    assert_int_equal(qc_strmap_put(m, k, 1), QC_STRMAP_ADDED);     /* 39 chars */
    assert_true(qc_strmap_get(m, k, NULL));
    assert_int_equal(qc_strmap_put(m, "", 1), QC_STRMAP_REFUSED);
    assert_int_equal(qc_strmap_put(m, NULL, 1), QC_STRMAP_REFUSED);
    assert_false(qc_strmap_remove(m, NULL, NULL));
    assert_null(qc_strmap_new(1, 4));
    assert_null(qc_strmap_new(40, QC_STRMAP_MAX_ENTRIES + 1));
    qc_strmap_free(m);
}

static void test_fixed_capacity(void **st)
{
    (void)st;
    qc_strmap *m = qc_strmap_new(24, 3);
    assert_int_equal(qc_strmap_capacity(m), 3);
    assert_int_equal(qc_strmap_put(m, "A", 1), QC_STRMAP_ADDED);
    assert_int_equal(qc_strmap_put(m, "B", 2), QC_STRMAP_ADDED);
    assert_int_equal(qc_strmap_put(m, "C", 3), QC_STRMAP_ADDED);
    assert_int_equal(qc_strmap_put(m, "D", 4), QC_STRMAP_REFUSED);
    assert_int_equal(qc_strmap_put(m, "C", 30), QC_STRMAP_REPLACED);   /* replacing needs no room */
    assert_true(qc_strmap_remove(m, "A", NULL));
    assert_int_equal(qc_strmap_put(m, "D", 4), QC_STRMAP_ADDED);       /* room again */
    assert_false(qc_strmap_get(m, "A", NULL));
    qc_strmap_free(m);
}

/* A small LCG: the same sequence on every run. */
static uint32_t next_rand(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

/* Random puts and removes over 64 keys in a map of at most 40 (a 128-slot
 * table, long probe runs, removals in the middle of runs and across the
 * wrap-around), every key checked against a reference after each step.
 * A removal that only emptied its slot (no backward shift) loses the keys
 * behind it; this finds it within a few hundred steps. */
static void test_remove_keeps_every_other_key(void **st)
{
    (void)st;
    enum { KEYS = 64, STEPS = 20000 };
    qc_strmap *m = qc_strmap_new(40, 40);
    bool present[KEYS] = { false };
    int64_t value[KEYS] = { 0 };
    size_t count = 0;
    uint32_t seed = 12345;
    char key[40];
    for (int step = 0; step < STEPS; step++) {
        int k = (int)(next_rand(&seed) % KEYS);
        snprintf(key, sizeof key, "cid-%d", k);
        if (next_rand(&seed) % 2) {
            int rc = qc_strmap_put(m, key, step);
            if (present[k]) {
                assert_int_equal(rc, QC_STRMAP_REPLACED);
                value[k] = step;
            } else if (count < 40) {
                assert_int_equal(rc, QC_STRMAP_ADDED);
                present[k] = true;
                value[k] = step;
                count++;
            } else {
                assert_int_equal(rc, QC_STRMAP_REFUSED);
            }
        } else {
            int64_t v = -1;
            assert_int_equal(qc_strmap_remove(m, key, &v), present[k]);
            if (present[k]) {
                assert_int_equal(v, value[k]);
                present[k] = false;
                count--;
            }
        }
        assert_int_equal(qc_strmap_count(m), count);
        for (int j = 0; j < KEYS; j++) {
            snprintf(key, sizeof key, "cid-%d", j);
            int64_t v = -1;
            assert_int_equal(qc_strmap_get(m, key, &v), present[j]);
            if (present[j]) assert_int_equal(v, value[j]);
        }
    }
    qc_strmap_free(m);
}

/* A growing map keeps every entry across many doublings; the walk visits
 * each entry once. */
static void test_growth_and_walk(void **st)
{
    (void)st;
    enum { N = 5000 };
    qc_strmap *m = qc_strmap_new(24, 0);
    char key[24];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "S%dUSDT", i);
        assert_int_equal(qc_strmap_put(m, key, i), QC_STRMAP_ADDED);
    }
    assert_int_equal(qc_strmap_count(m), N);
    static bool seen[N];
    size_t cursor = 0, walked = 0;
    const char *k;
    int64_t v;
    while (qc_strmap_next(m, &cursor, &k, &v)) {
        assert_true(v >= 0 && v < N);
        assert_false(seen[v]);
        seen[v] = true;
        snprintf(key, sizeof key, "S%dUSDT", (int)v);
        assert_string_equal(k, key);
        walked++;
    }
    assert_int_equal(walked, N);
    assert_false(qc_strmap_next(m, &cursor, &k, &v));
    qc_strmap_free(m);
}

/* Keys with the same hash (FNV-1a collisions found by search) are told
 * apart by their bytes and length: lengths on each path of the word-wise
 * compare (4..7 bytes, 8, over 8 with the last word overlapping, differing
 * only after the first 8 or 16 bytes, the longest key a 24-byte field
 * holds) and two lengths with one hash. */
static void test_same_hash_keys_kept_apart(void **st)
{
    (void)st;
    static const char *const pairs[][2] = {
        { "Qyxdz", "QAjlH" },
        { "QQQwEkP", "QQQOg_b" },
        { "QQQQbsmW", "QQQQZuee" },
        { "QQQQQ^TVo", "QQQQQfvzy" },
        { "QQQQQQQQONzc", "QQQQQQQQw`Vq" },
        { "QQQQQQQQQQQQQQQQQQQgMTM", "QQQQQQQQQQQQQQQQQQQ__t_" },
        { "SSPCEoZ", "SSS\\DGkZ" },
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        const char *a = pairs[i][0], *b = pairs[i][1];
        assert_int_equal(qc_hash_str(a), qc_hash_str(b));   /* the premise */
        qc_strmap *m = qc_strmap_new(24, 4);
        int64_t v = 0;
        assert_int_equal(qc_strmap_put(m, a, 1), QC_STRMAP_ADDED);
        assert_false(qc_strmap_get(m, b, &v));
        assert_int_equal(qc_strmap_put(m, b, 2), QC_STRMAP_ADDED);
        assert_true(qc_strmap_get(m, a, &v));
        assert_int_equal(v, 1);
        assert_true(qc_strmap_get(m, b, &v));
        assert_int_equal(v, 2);
        assert_true(qc_strmap_remove(m, a, &v));
        assert_int_equal(v, 1);
        assert_false(qc_strmap_get(m, a, NULL));
        assert_true(qc_strmap_get(m, b, &v));
        assert_int_equal(v, 2);
        qc_strmap_free(m);
    }
}

/* Every key length from 1 to key_max - 1 is stored and found; a key that
 * differs from a stored one in any single byte is not found; key_max bytes
 * without a NUL are refused. */
static void test_every_length_and_position(void **st)
{
    (void)st;
    qc_strmap *m = qc_strmap_new(24, 0);
    char k[24], probe[25];
    for (size_t len = 1; len < 24; len++) {
        memset(k, 'a' + (int)(len % 26), len);
        k[len] = '\0';
        assert_int_equal(qc_strmap_put(m, k, (int64_t)len), QC_STRMAP_ADDED);
        for (size_t at = 0; at < len; at++) {
            memcpy(probe, k, len + 1);
            probe[at] = 'Z';
            assert_false(qc_strmap_get(m, probe, NULL));
        }
    }
    for (size_t len = 1; len < 24; len++) {
        int64_t v = 0;
        memset(k, 'a' + (int)(len % 26), len);
        k[len] = '\0';
        assert_true(qc_strmap_get(m, k, &v));
        assert_int_equal(v, (int64_t)len);
    }
    memset(probe, 'x', 24);   /* no NUL in the first key_max bytes */
    probe[24] = '\0';
    assert_int_equal(qc_strmap_put(m, probe, 1), QC_STRMAP_REFUSED);
    assert_false(qc_strmap_get(m, probe, NULL));
    assert_false(qc_strmap_remove(m, probe, NULL));
    qc_strmap_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_reference_values),
        cmocka_unit_test(test_put_get_replace),
        cmocka_unit_test(test_key_limits),
        cmocka_unit_test(test_fixed_capacity),
        cmocka_unit_test(test_remove_keeps_every_other_key),
        cmocka_unit_test(test_growth_and_walk),
        cmocka_unit_test(test_same_hash_keys_kept_apart),
        cmocka_unit_test(test_every_length_and_position),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
