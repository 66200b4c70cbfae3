/* market/symbol_cycle.h: qh_symbol_cycle_try_field, the per-candle guess of
 * the engine's market cache, the report and the regime book, against
 * strcmp and against qh_symbol_cycle_try (the string version). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "market/symbol_cycle.h"
#include "test_rng.h"

#define N_NAMES 6

typedef struct named { char name[QTR_SYMBOL_MAX]; size_t len; } named;

static const char *name_of(const void *set, size_t i) { return ((const named *)set)[i].name; }

static const char *name_len_of(const void *set, size_t i, size_t *len)
{
    *len = ((const named *)set)[i].len;
    return ((const named *)set)[i].name;
}

/* A name of len bytes in a field whose bytes after the NUL are `fill`. */
static void put(char field[QTR_SYMBOL_MAX], const char *name, char fill)
{
    memset(field, fill, QTR_SYMBOL_MAX);
    size_t n = strlen(name);
    memcpy(field, name, n + 1);
}

/* The same name matches whatever follows its NUL in either field; a name
 * that is the stored one plus more, or one byte shorter, does not. */
static void bytes_after_the_nul_do_not_count(void **state)
{
    (void)state;
    named set[1];
    put(set[0].name, "BTCUSDT", '\0');
    set[0].len = 7;
    char field[QTR_SYMBOL_MAX];
    size_t next = 0;
    put(field, "BTCUSDT", 'x');
    assert_int_equal(qh_symbol_cycle_try_field(&next, 1, field, name_len_of, set), 0);
    assert_int_equal(next, 1);
    put(set[0].name, "BTCUSDT", '\x7f');   /* the stored field's tail neither */
    assert_int_equal(qh_symbol_cycle_try_field(&next, 1, field, name_len_of, set), 0);
    put(field, "BTCUSDTX", '\0');
    assert_int_equal(qh_symbol_cycle_try_field(&next, 1, field, name_len_of, set), -1);
    put(field, "BTCUSD", '\0');
    assert_int_equal(qh_symbol_cycle_try_field(&next, 1, field, name_len_of, set), -1);
    put(field, "ETHUSDT", '\0');
    assert_int_equal(qh_symbol_cycle_try_field(&next, 1, field, name_len_of, set), -1);
    assert_int_equal(next, 1);   /* a miss leaves the guess as it was */
}

/* Names of every length 1..23 that differ from the stored one in one byte
 * at every place, the NUL's included: a match exactly when strcmp says equal. */
static void every_length_and_place_as_strcmp(void **state)
{
    (void)state;
    for (size_t len = 1; len < QTR_SYMBOL_MAX; len++) {
        named set[1];
        memset(set, 0, sizeof set);
        for (size_t k = 0; k < len; k++) set[0].name[k] = (char)('A' + (k * 7) % 26);
        set[0].len = len;
        for (size_t at = 0; at <= len; at++) {
            for (int delta = 0; delta < 3; delta++) {
                char field[QTR_SYMBOL_MAX];
                memset(field, 'q', sizeof field);
                memcpy(field, set[0].name, len + 1);
                if (delta == 1) field[at] = (char)(field[at] ? field[at] ^ 0x20 : 'Z');
                if (delta == 2 && at < len) field[at] = '\0';   /* cut short there */
                size_t next = 0;
                long got = qh_symbol_cycle_try_field(&next, 1, field, name_len_of, set);
                long want = strcmp(set[0].name, field) == 0 ? 0 : -1;
                if (got != want) fail_msg("len %zu, place %zu, change %d: %ld, strcmp says %ld", len, at, delta, got, want);
            }
        }
    }
}

/* Random sequences over a set of names (some sharing prefixes): the field
 * version guesses, misses and moves `next` exactly as the string version. */
static void same_guesses_as_the_string_version(void **state)
{
    (void)state;
    static const char *const names[N_NAMES] = { "BTCUSDT", "BTCUSDT2", "ETHUSDT", "E", "XRPUSDTPERPETUAL1234567", "BTC" };
    named set[N_NAMES];
    memset(set, 0, sizeof set);
    for (size_t i = 0; i < N_NAMES; i++) {
        put(set[i].name, names[i], '\0');
        set[i].len = strlen(names[i]);
    }
    uint64_t rng = 0x5eed0001u;
    size_t next_a = 0, next_b = 0, hits = 0, misses = 0;
    for (int step = 0; step < 200000; step++) {
        size_t n = 1 + test_rng_next(&rng) % N_NAMES;                     /* names known so far */
        size_t pick = test_rng_next(&rng) % 4 ? next_a % n : test_rng_next(&rng) % N_NAMES;  /* mostly in turn */
        char field[QTR_SYMBOL_MAX];
        put(field, names[pick], (char)test_rng_next(&rng));
        long a = qh_symbol_cycle_try(&next_a, n, field, name_of, set);
        long b = qh_symbol_cycle_try_field(&next_b, n, field, name_len_of, set);
        assert_int_equal(a, b);
        assert_int_equal(next_a, next_b);
        if (a < 0) {
            misses++;
            if (pick < n) {   /* the caller's lookup found it */
                qh_symbol_cycle_found(&next_a, pick);
                qh_symbol_cycle_found(&next_b, pick);
            }
        } else {
            hits++;
            assert_string_equal(names[a], names[pick]);
        }
    }
    assert_true(hits > 100000 && misses > 10000);   /* both ways taken often */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bytes_after_the_nul_do_not_count),
        cmocka_unit_test(every_length_and_place_as_strcmp),
        cmocka_unit_test(same_guesses_as_the_string_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
