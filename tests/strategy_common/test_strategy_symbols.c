/* strategy_common/strategy_symbols: a strategy's per-symbol states over the
 * one hash map. A state is made zeroed on its symbol's first get and the
 * same one comes back after; find never makes one; past the capacity a new
 * symbol is refused and logged once while the known ones still answer; drop
 * undoes only the newest; free hands every state to the caller's fn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "strategy_symbols.h"

typedef struct sym_state {
    char tag[8];
    int64_t counter;
} sym_state;

static int n_warn;
static char last_log[256];

static void log_line(qtr_ctx *ctx, qtr_log_level level, const char *fmt, ...)
{
    (void)ctx;
    if (level == QTR_LOG_WARN) n_warn++;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_log, sizeof last_log, fmt, ap);
    va_end(ap);
}

static const qtr_host host = { .size = sizeof host, .log = log_line };

static void made_once_then_the_same(void **state)
{
    (void)state;
    strategy_symbols *t = strategy_symbols_new(4, sizeof(sym_state));
    assert_non_null(t);
    assert_null(strategy_symbols_find(t, "BTCUSDT"));         /* find makes nothing */
    bool created = false;
    sym_state *a = strategy_symbols_get(t, &host, NULL, "BTCUSDT", &created);
    assert_non_null(a);
    assert_true(created);
    assert_int_equal(a->counter, 0);                           /* zeroed */
    a->counter = 7;
    sym_state *again = strategy_symbols_get(t, &host, NULL, "BTCUSDT", &created);
    assert_ptr_equal(again, a);
    assert_false(created);
    assert_ptr_equal(strategy_symbols_find(t, "BTCUSDT"), a);
    assert_null(strategy_symbols_find(t, "ETHUSDT"));
    sym_state *b = strategy_symbols_get(t, &host, NULL, "ETHUSDT", &created);
    assert_true(created);
    assert_true(b != a);
    assert_int_equal(((sym_state *)strategy_symbols_find(t, "BTCUSDT"))->counter, 7);
    strategy_symbols_free(t, NULL);
}

static void full_table_refuses_new_symbols_logged_once(void **state)
{
    (void)state;
    n_warn = 0;
    strategy_symbols *t = strategy_symbols_new(3, sizeof(sym_state));
    assert_non_null(t);
    bool created;
    const char *names[] = { "AUSDT", "BUSDT", "CUSDT" };
    for (size_t i = 0; i < 3; i++) assert_non_null(strategy_symbols_get(t, &host, NULL, names[i], &created));
    assert_null(strategy_symbols_get(t, &host, NULL, "DUSDT", &created));
    assert_false(created);
    assert_null(strategy_symbols_get(t, &host, NULL, "EUSDT", &created));
    assert_int_equal(n_warn, 1);
    assert_non_null(strstr(last_log, "more than 3 symbols: ignoring DUSDT"));
    assert_null(strategy_symbols_find(t, "DUSDT"));
    for (size_t i = 0; i < 3; i++) assert_non_null(strategy_symbols_find(t, names[i]));
    strategy_symbols_free(t, NULL);
}

static void drop_undoes_only_the_newest(void **state)
{
    (void)state;
    strategy_symbols *t = strategy_symbols_new(2, sizeof(sym_state));
    bool created;
    assert_non_null(strategy_symbols_get(t, &host, NULL, "AUSDT", &created));
    assert_non_null(strategy_symbols_get(t, &host, NULL, "BUSDT", &created));
    strategy_symbols_drop(t, "AUSDT");                         /* not the newest: kept */
    assert_non_null(strategy_symbols_find(t, "AUSDT"));
    strategy_symbols_drop(t, "BUSDT");
    assert_null(strategy_symbols_find(t, "BUSDT"));
    /* its room is free again */
    assert_non_null(strategy_symbols_get(t, &host, NULL, "CUSDT", &created));
    assert_true(created);
    strategy_symbols_free(t, NULL);
}

static int freed;
static void count_free(void *s)
{
    assert_int_equal(((sym_state *)s)->counter, 5);
    freed++;
}

static void free_hands_every_state_over(void **state)
{
    (void)state;
    strategy_symbols *t = strategy_symbols_new(8, sizeof(sym_state));
    bool created;
    char name[16];
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "S%dUSDT", i);
        ((sym_state *)strategy_symbols_get(t, &host, NULL, name, &created))->counter = 5;
    }
    freed = 0;
    strategy_symbols_free(t, count_free);
    assert_int_equal(freed, 5);
    strategy_symbols_free(NULL, count_free);                   /* nothing to free */
    assert_int_equal(freed, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(made_once_then_the_same),
        cmocka_unit_test(full_table_refuses_new_symbols_logged_once),
        cmocka_unit_test(drop_undoes_only_the_newest),
        cmocka_unit_test(free_hands_every_state_over),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
