/* The simulated clock and its timers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/clock.h"

typedef struct log { int n; int64_t at[32]; int id[32]; qh_clock *c; qh_timer *self; } log_t;
typedef struct tick { log_t *log; int id; } tick;

static void on_tick(void *ud)
{
    tick *t = ud;
    if (t->log->n < 32) {
        t->log->at[t->log->n] = qh_clock_now_ms(t->log->c);
        t->log->id[t->log->n++] = t->id;
    }
}

static void fires_in_time_order(void **s)
{
    (void)s;
    qh_clock *c = qh_clock_new(NULL, 1000);
    log_t log = { .c = c };
    tick a = { &log, 1 }, b = { &log, 2 };
    assert_true(qh_clock_simulated(c));
    qh_timer_start(c, 300, true, on_tick, &a, NULL);    /* 1300, 1600, 1900 */
    qh_timer_start(c, 500, false, on_tick, &b, NULL);   /* 1500 once */
    qh_clock_advance(c, 2000);
    assert_int_equal(log.n, 4);
    int64_t want_at[] = { 1300, 1500, 1600, 1900 };
    int want_id[] = { 1, 2, 1, 1 };
    for (int i = 0; i < 4; i++) {
        assert_int_equal(log.at[i], want_at[i]);
        assert_int_equal(log.id[i], want_id[i]);
    }
    assert_int_equal(qh_clock_now_ms(c), 2000);
    qh_clock_advance(c, 1500);           /* never backwards */
    assert_int_equal(qh_clock_now_ms(c), 2000);
    qh_clock_free(c);
}

static void stop_self(void *ud)
{
    log_t *l = ud;
    l->n++;
    qh_timer_stop(l->self);
}

static void stop_inside_callback_and_by_owner(void **s)
{
    (void)s;
    qh_clock *c = qh_clock_new(NULL, 0);
    log_t l = { .c = c };
    l.self = qh_timer_start(c, 10, true, stop_self, &l, NULL);
    int owner;
    tick t = { &l, 7 };
    qh_timer_start(c, 10, true, on_tick, &t, &owner);
    qh_timer_stop_owner(c, &owner);
    qh_clock_advance(c, 100);
    assert_int_equal(l.n, 1);            /* stop_self once; owner's timer never */
    qh_clock_free(c);
}

/* A one-shot timer is freed once it fired; stopping it later with the old
 * handle must not stop another owner's timer that reuses the memory. */
static void stale_timer_handle_is_ignored(void **s)
{
    (void)s;
    qh_clock *c = qh_clock_new(NULL, 0);
    log_t l = { .c = c };
    tick a = { &l, 1 }, b = { &l, 2 };
    int old_owner, new_owner;
    qh_timer *stale = qh_timer_start(c, 10, false, on_tick, &a, &old_owner);
    qh_clock_advance(c, 20);                              /* fires once, then freed */
    assert_int_equal(l.n, 1);
    qh_timer *fresh = qh_timer_start(c, 10, true, on_tick, &b, &new_owner);
    qh_timer_stop_checked(c, stale, &old_owner);          /* may be the same address */
    qh_clock_advance(c, 55);
    assert_int_equal(l.n, 1 + 3);                         /* the new repeating timer ran at 30, 40, 50... */
    for (int i = 1; i < l.n; i++) assert_int_equal(l.id[i], 2);
    qh_timer_stop_checked(c, fresh, &new_owner);
    qh_clock_advance(c, 100);
    assert_int_equal(l.n, 4);
    (void)fresh;
    qh_clock_free(c);
}

static void wall_clock_mode(void **s)
{
    (void)s;
    assert_true(qh_wall_ms() > 1600000000000LL);
    int64_t a = qh_mono_ns(), b = qh_mono_ns();
    assert_true(b >= a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fires_in_time_order),
        cmocka_unit_test(stop_inside_callback_and_by_owner),
        cmocka_unit_test(stale_timer_handle_is_ignored),
        cmocka_unit_test(wall_clock_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
