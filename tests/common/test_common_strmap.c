/* The one hash map (common/): put, get, replace, remove with backward shift
 * (checked against a plain reference table over many random operations on a
 * small, crowded table), fixed capacity, growth, key limits, the walk, and
 * the one hash function's reference values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "qc/hash.h"
#include "qc/strmap.h"
#include "qc/strmap_hash.h"

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

/* Two keys of the shape fmt (one %u) with the same qc_strmap_hash, found
 * by a birthday search over n numbered keys; false if none. */
typedef struct hashed_key {
    uint32_t hash;
    uint32_t n;
} hashed_key;

static int by_hash(const void *x, const void *y)
{
    const hashed_key *a = x, *b = y;
    return a->hash < b->hash ? -1 : a->hash > b->hash;
}

static bool find_same_hash(const char *fmt, uint32_t n, char *a, char *b, size_t size)
{
    hashed_key *all = malloc(n * sizeof *all);
    assert_non_null(all);
    char key[64];
    for (uint32_t i = 0; i < n; i++) {
        int len = snprintf(key, sizeof key, fmt, i);
        all[i] = (hashed_key){ .hash = qc_strmap_hash(key, (size_t)len), .n = i };
    }
    qsort(all, n, sizeof *all, by_hash);
    bool found = false;
    for (uint32_t i = 1; i < n && !found; i++) {
        if (all[i].hash != all[i - 1].hash) continue;
        snprintf(a, size, fmt, all[i - 1].n);
        snprintf(b, size, fmt, all[i].n);
        found = true;
    }
    free(all);
    return found;
}

/* Keys with the same hash (collisions found by search) are told apart by
 * their bytes and length: lengths on each path of the word-wise hash and
 * compare (numbers of mixed lengths, 5..7 bytes, 8, over 8 with the last word overlapping,
 * differing only after the first 8 or 16 bytes, the longest key a 24-byte
 * field holds) and keys of two lengths with one hash. */
static void test_same_hash_keys_kept_apart(void **st)
{
    (void)st;
    static const char *const shapes[] = {
        "%u", "Q%u", "QQQQ%u", "QQQQQQQQ%u", "QQQQQQQQQQQQQQQQ%u", "QQQQQQQQQQQQQQQQQ%06u",
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        char a[64], b[64];
        assert_true(find_same_hash(shapes[i], 400000, a, b, sizeof a));
        assert_int_equal(qc_strmap_hash(a, strlen(a)), qc_strmap_hash(b, strlen(b)));   /* the premise */
        assert_string_not_equal(a, b);
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

/* The low bits a table uses spread like random ones over keys that differ
 * little (numbered client ids, symbols): 65,536 keys in 131,072 buckets
 * leave e^-0.5 (60.65%) of them empty, give or take 0.14%, and no bucket
 * more than about 8. A hash whose low bits miss some bytes fails both. */
static void test_hash_spreads_similar_keys(void **st)
{
    (void)st;
    enum { N = 65536, BUCKETS = 131072 };
    static const char *const shapes[] = { "ma_cross-S01USDT-%u", "S%uUSDT", "%u", "c%07u" };
    static uint8_t load[BUCKETS];
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        memset(load, 0, sizeof load);
        char key[64];
        for (uint32_t i = 0; i < N; i++) {
            int len = snprintf(key, sizeof key, shapes[s], i);
            uint32_t h = qc_strmap_hash(key, (size_t)len);
            assert_int_not_equal(h, 0);
            if (load[h & (BUCKETS - 1)] < 255) load[h & (BUCKETS - 1)]++;
        }
        size_t empty = 0, most = 0;
        for (size_t b = 0; b < BUCKETS; b++) {
            if (load[b] == 0) empty++;
            if (load[b] > most) most = load[b];
        }
        assert_in_range(empty, (size_t)(BUCKETS * 0.5965), (size_t)(BUCKETS * 0.6165));
        assert_in_range(most, 1, 10);
    }
}

/* Keys that end at the last byte of a page with an unreadable page after
 * it: every length 0..key_max - 1 (and key_max bytes without a NUL, refused)
 * is put, found and removed with no read past the NUL, or past key_max
 * bytes (a read there would crash). Both a short key_max and the largest. */
static void test_no_read_past_key(void **st)
{
    (void)st;
    long page = sysconf(_SC_PAGESIZE);
    assert_true(page >= 4096);
    char *mem = mmap(NULL, (size_t)page * 3, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(mem != MAP_FAILED);
    char *guard = mem + 2 * page;
    assert_int_equal(mprotect(guard, (size_t)page, PROT_NONE), 0);
    static const size_t key_maxes[] = { 2, 3, 8, 9, 16, 24, 33, 4096 };
    for (size_t km = 0; km < sizeof key_maxes / sizeof key_maxes[0]; km++) {
        size_t key_max = key_maxes[km];
        qc_strmap *m = qc_strmap_new(key_max, 0);
        assert_non_null(m);
        for (size_t len = 0; len < key_max; len++) {
            char *key = guard - (len + 1);   /* its NUL is the page's last byte */
            for (size_t i = 0; i < len; i++) key[i] = (char)('A' + (i * 7 + len) % 26);
            key[len] = '\0';
            if (len == 0) {
                assert_int_equal(qc_strmap_put(m, key, 1), QC_STRMAP_REFUSED);
                assert_false(qc_strmap_get(m, key, NULL));
                continue;
            }
            assert_int_equal(qc_strmap_put(m, key, (int64_t)len), QC_STRMAP_ADDED);
            int64_t v = 0;
            assert_true(qc_strmap_get(m, key, &v));
            assert_int_equal(v, (int64_t)len);
        }
        for (size_t len = 1; len < key_max; len++) {
            char *key = guard - (len + 1);
            for (size_t i = 0; i < len; i++) key[i] = (char)('A' + (i * 7 + len) % 26);
            key[len] = '\0';
            int64_t v = 0;
            assert_true(qc_strmap_remove(m, key, &v));
            assert_int_equal(v, (int64_t)len);
        }
        assert_int_equal(qc_strmap_count(m), 0);
        char *full = guard - key_max;          /* key_max bytes, no NUL */
        memset(full, 'x', key_max);
        assert_int_equal(qc_strmap_put(m, full, 1), QC_STRMAP_REFUSED);
        assert_false(qc_strmap_get(m, full, NULL));
        assert_false(qc_strmap_remove(m, full, NULL));
        qc_strmap_free(m);
    }
    munmap(mem, (size_t)page * 3);
}

/* Keys that are prefixes of each other are separate entries; the bytes
 * after a key's NUL (junk in its field) do not matter. */
static void test_prefixes_and_junk_after_nul(void **st)
{
    (void)st;
    const char *base = "ma_cross-S01USDT-00012345";   /* 25 bytes: every length to 24 */
    qc_strmap *m = qc_strmap_new(32, 64);
    char field[32];
    for (size_t len = 1; len <= 25; len++) {
        memset(field, 'J', sizeof field);             /* junk after the NUL */
        memcpy(field, base, len);
        field[len] = '\0';
        assert_int_equal(qc_strmap_put(m, field, (int64_t)len), QC_STRMAP_ADDED);
    }
    for (size_t len = 1; len <= 25; len++) {
        memset(field, (int)(0x80 + len), sizeof field);   /* other junk */
        memcpy(field, base, len);
        field[len] = '\0';
        int64_t v = 0;
        assert_true(qc_strmap_get(m, field, &v));
        assert_int_equal(v, (int64_t)len);
        assert_int_equal(qc_strmap_put(m, field, (int64_t)len + 100), QC_STRMAP_REPLACED);
    }
    assert_int_equal(qc_strmap_count(m), 25);
    qc_strmap_free(m);
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
        cmocka_unit_test(test_hash_spreads_similar_keys),
        cmocka_unit_test(test_no_read_past_key),
        cmocka_unit_test(test_prefixes_and_junk_after_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
