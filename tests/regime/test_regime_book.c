/*
 * The regime book's per-candle symbol lookup, which tries the symbol after
 * the last one found before its map (market/symbol_cycle.h): symbols whose
 * names are prefixes of each other (A, AB, ABC...), fed in a fixed cycle,
 * then in random orders with new symbols joining, each end with the regime
 * state of a book fed that symbol's candles alone. And the guess itself:
 * hit in a cycle and on a repeat, a miss (-1) out of order, never a wrong
 * index.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market/candles.h"
#include "market/symbol_cycle.h"
#include "regime/regime_book.h"

#define N_SYMBOLS 6
static const char *const SYMBOLS[N_SYMBOLS] = { "A", "AB", "ABC", "ABCD", "B", "BA" };

static uint64_t g_rng = 77;

static uint32_t rnd(uint32_t n)
{
    g_rng = g_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(g_rng >> 33) % n;
}

static void same_state(const qtr_regime_event *a, const qtr_regime_event *b)
{
    assert_string_equal(a->symbol, b->symbol);
    assert_int_equal(a->time_ms, b->time_ms);
    assert_int_equal(a->regime, b->regime);
    assert_int_equal(a->previous, b->previous);
    assert_true(a->adx == b->adx && a->plus_di == b->plus_di && a->atr_pct == b->atr_pct &&
                a->volatility == b->volatility);
}

/* Each of the first n symbols ends in `all` with the state of its book fed
 * alone; frees the alone books and the generators. */
static void same_as_alone_then_free(const qh_regime_book *all, qh_regime_book **alone, qh_synth **synth, int n)
{
    for (int k = 0; k < n; k++) {
        qtr_regime_event ea, eb;
        assert_true(qh_regime_book_get(all, SYMBOLS[k], &ea));
        assert_true(qh_regime_book_get(alone[k], SYMBOLS[k], &eb));
        same_state(&ea, &eb);
        qh_regime_book_free(alone[k]);
        qh_synth_free(synth[k]);
    }
}

static void mixed_order_matches_one_book_per_symbol(void **state)
{
    (void)state;
    qtr_regime_params p = QTR_REGIME_PARAMS_DEFAULT;
    char err[256];
    qh_regime_book *all = qh_regime_book_new(&p, err, sizeof err), *alone[N_SYMBOLS];
    assert_non_null(all);
    for (int k = 0; k < N_SYMBOLS; k++) assert_non_null(alone[k] = qh_regime_book_new(&p, err, sizeof err));
    qh_synth *synth[N_SYMBOLS];
    for (int k = 0; k < N_SYMBOLS; k++) {
        qh_synth_config cfg = { .seed = (uint64_t)k + 1, .start_ms = 1700000000000, .interval_ms = 60000,
                                .n_symbols = 1, .symbols = &SYMBOLS[k] };
        assert_non_null(synth[k] = qh_synth_new(&cfg));
    }
    int live = 3;   /* the first three in a cycle, then more join in random orders */
    for (int i = 0; i < 6000; i++) {
        int k;
        if (i < 1500) k = i % live;
        else {
            if (i % 1000 == 0 && live < N_SYMBOLS) live++;
            k = (int)rnd((uint32_t)live);
        }
        qtr_candle c;
        qh_synth_next(synth[k], &c);
        qtr_regime_event ea, eb;
        int ra = qh_regime_book_on_candle(all, &c, &ea, err, sizeof err);
        int rb = qh_regime_book_on_candle(alone[k], &c, &eb, err, sizeof err);
        assert_int_equal(ra, rb);
        if (ra == 1) same_state(&ea, &eb);
    }
    assert_int_equal(qh_regime_book_count(all), N_SYMBOLS);
    same_as_alone_then_free(all, alone, synth, N_SYMBOLS);
    qh_regime_book_free(all);
}

static const char *name_of(const void *set, size_t i) { return ((const char *const *)set)[i]; }

static void the_guess_is_a_hit_or_a_miss_never_wrong(void **state)
{
    (void)state;
    size_t next = 0;
    assert_int_equal(qh_symbol_cycle_try(&next, 0, "A", name_of, SYMBOLS), -1);   /* nothing seen yet */
    /* a cycle over the first four: each a hit */
    for (int round = 0; round < 3; round++)
        for (int k = 0; k < 4; k++) assert_int_equal(qh_symbol_cycle_try(&next, 4, SYMBOLS[k], name_of, SYMBOLS), k);
    /* the same one again: a hit */
    assert_int_equal(qh_symbol_cycle_try(&next, 4, "ABCD", name_of, SYMBOLS), 3);
    /* out of order, a prefix of the guess, a longer name: misses, next unchanged */
    assert_int_equal(qh_symbol_cycle_try(&next, 4, "AB", name_of, SYMBOLS), -1);
    assert_int_equal(qh_symbol_cycle_try(&next, 4, "", name_of, SYMBOLS), -1);
    assert_int_equal(qh_symbol_cycle_try(&next, 4, "ABCDE", name_of, SYMBOLS), -1);
    assert_int_equal(qh_symbol_cycle_try(&next, 4, "B", name_of, SYMBOLS), -1);   /* not among the 4 */
    assert_int_equal(next, 4);
    /* found by the caller's map: the guess moves on from there */
    qh_symbol_cycle_found(&next, 1);
    assert_int_equal(qh_symbol_cycle_try(&next, 4, "ABC", name_of, SYMBOLS), 2);
}

/* The per-candle compare reads the candle's whole symbol field: bytes after
 * the name's NUL (junk here, a prefix of another symbol's name) do not
 * count, and a field with no NUL is the name cut to QTR_SYMBOL_MAX - 1, the
 * same entry as that name (as the bounded copy made it before). */
static void junk_after_the_name_and_a_full_field(void **state)
{
    (void)state;
    qtr_regime_params p = QTR_REGIME_PARAMS_DEFAULT;
    char err[256];
    qh_regime_book *all = qh_regime_book_new(&p, err, sizeof err), *alone[3];
    assert_non_null(all);
    qh_synth *synth[3];
    for (int k = 0; k < 3; k++) {
        assert_non_null(alone[k] = qh_regime_book_new(&p, err, sizeof err));
        qh_synth_config cfg = { .seed = (uint64_t)k + 11, .start_ms = 1700000000000, .interval_ms = 60000,
                                .n_symbols = 1, .symbols = &SYMBOLS[k] };
        assert_non_null(synth[k] = qh_synth_new(&cfg));
    }
    for (int i = 0; i < 900; i++) {
        int k = i < 300 ? i % 3 : (int)rnd(3);
        qtr_candle c, dirty;
        qh_synth_next(synth[k], &c);
        dirty = c;
        memset(dirty.symbol, 'B' + k, sizeof dirty.symbol);   /* "A\0BBB...", "AB\0CC...", "ABC\0DD..." */
        memcpy(dirty.symbol, SYMBOLS[k], strlen(SYMBOLS[k]) + 1);
        qtr_regime_event ea, eb;
        int ra = qh_regime_book_on_candle(all, &dirty, &ea, err, sizeof err);
        int rb = qh_regime_book_on_candle(alone[k], &c, &eb, err, sizeof err);
        assert_int_equal(ra, rb);
        if (ra == 1) same_state(&ea, &eb);
    }
    assert_int_equal(qh_regime_book_count(all), 3);
    same_as_alone_then_free(all, alone, synth, 3);

    /* a full field, then its name cut to 23 bytes: one entry */
    const char *cut = "XXXXXXXXXXXXXXXXXXXXXXX";   /* QTR_SYMBOL_MAX - 1 */
    qh_synth_config cfg = { .seed = 5, .start_ms = 1700000000000, .interval_ms = 60000, .n_symbols = 1,
                            .symbols = &cut };
    qh_synth *x = qh_synth_new(&cfg);
    assert_non_null(x);
    for (int i = 0; i < 4; i++) {
        qtr_candle c;
        qh_synth_next(x, &c);
        if (i % 2 == 0) memset(c.symbol, 'X', sizeof c.symbol);   /* no NUL */
        qtr_regime_event e;
        assert_true(qh_regime_book_on_candle(all, &c, &e, err, sizeof err) >= 0);
        assert_int_equal(qh_regime_book_count(all), 4);
    }
    qtr_regime_event e;
    assert_true(qh_regime_book_get(all, cut, &e));
    assert_string_equal(e.symbol, cut);
    qh_synth_free(x);
    qh_regime_book_free(all);
}

/* The state the book gives (on a change and from qh_regime_book_get) after
 * every candle equals the one kept the plain way beside a classifier of
 * its own: regime and previous after each accepted candle, the inputs
 * copied after each candle that has them, the candle's time; a refused
 * candle (a close <= 0, a high past the bound) changes nothing. Bit for bit,
 * through the warm-up and after. */
static void the_state_after_every_candle_is_the_plain_copy(void **state)
{
    (void)state;
    qtr_regime_params p = QTR_REGIME_PARAMS_DEFAULT;
    p.confirm = 1;   /* more changes */
    char err[256];
    qh_regime_book *b = qh_regime_book_new(&p, err, sizeof err);
    assert_non_null(b);
    qtr_regime_classifier k;
    assert_true(qtr_regime_classifier_init(&k, &p));
    qtr_regime_event plain = { .symbol = "AB", .regime = QTR_REGIME_UNKNOWN, .previous = QTR_REGIME_UNKNOWN };
    qh_synth_config cfg = { .seed = 99, .start_ms = 1700000000000, .interval_ms = 60000, .n_symbols = 1,
                            .symbols = &SYMBOLS[1] };
    qh_synth *synth = qh_synth_new(&cfg);
    assert_non_null(synth);
    int changes = 0, refusals = 0;
    for (int i = 0; i < 3000; i++) {
        qtr_candle c;
        qh_synth_next(synth, &c);
        if (rnd(23) == 0 || i == 0) {   /* refused, the very first candle among them */
            if (rnd(2)) c.close = -(qtr_dec)rnd(5);
            else c.high = QTR_IND_PRICE_MAX + 1;
        }
        qtr_regime_event out;
        memset(&out, 0, sizeof out);
        int rc = qh_regime_book_on_candle(b, &c, &out, err, sizeof err);
        qtr_ind_status st = qtr_regime_classifier_update(&k, &c);
        if (st == QTR_IND_REFUSED) {
            assert_int_equal(rc, -1);
            refusals++;
        } else {
            plain.time_ms = c.close_time_ms;
            plain.regime = k.regime;
            plain.previous = k.previous;
            if (k.inputs_ready) {
                plain.adx = k.adx;
                plain.plus_di = k.plus_di;
                plain.minus_di = k.minus_di;
                plain.atr_pct = k.atr_pct;
                plain.volatility = k.volatility;
            }
            assert_int_equal(rc, k.changed ? 1 : 0);
            if (rc == 1) {
                assert_memory_equal(&out, &plain, sizeof out);
                changes++;
            }
        }
        qtr_regime_event got;
        memset(&got, 0, sizeof got);
        assert_true(qh_regime_book_get(b, "AB", &got));
        assert_memory_equal(&got, &plain, sizeof got);
    }
    assert_true(changes > 10 && refusals > 50);
    qh_synth_free(synth);
    qtr_regime_classifier_free(&k);
    qh_regime_book_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mixed_order_matches_one_book_per_symbol),
        cmocka_unit_test(the_guess_is_a_hit_or_a_miss_never_wrong),
        cmocka_unit_test(junk_after_the_name_and_a_full_field),
        cmocka_unit_test(the_state_after_every_candle_is_the_plain_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
