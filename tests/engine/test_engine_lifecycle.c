/* The engine's lifecycle (engine.c): the live timers (the loop-lag probe
 * only measures, it never reloads the policy, even a stale one; the
 * policy's own timer reloads it, every policy.reload_interval_s) and the
 * stop sequence (strategies first, the exchange after them). */
#include <event2/event.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "engine_fixture.h"
#include "strategy_quiet.h"

#define LOADS_OK "qtr_policy_loads_total{result=\"ok\"}"

/* An engine whose policy is due for a reload after 1 s. */
static efx *engine_reloading_every_second(void)
{
    efx *f = efx_new();
    f->cfg.policy.reload_interval_ms = 1000;
    efx_restart(f, NULL, NULL);
    return f;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0) {}
}

/* Forced: the policy is past its age when the probe fires; the probe does
 * not reload, the policy timer does. */
static void lag_probe_does_not_reload_the_policy(void **state)
{
    (void)state;
    efx *f = engine_reloading_every_second();
    qh_engine *e = f->e;
    long long loads = efx_metric(f, LOADS_OK);
    assert_int_equal(loads, 1);                 /* the start's load */
    efx_seen policy_events;
    efx_watch(e, QTR_EV_POLICY, &policy_events);
    sleep_ms(1100);                              /* now older than its 1 s */
    assert_true(qh_policy_stale(e->policy, qh_clock_now_ms(e->clock)));

    for (int i = 0; i < 3; i++) qh_engine_lag_probe(e);
    assert_int_equal(efx_metric(f, LOADS_OK), loads);
    assert_int_equal(policy_events.n, 0);

    qh_engine_policy_timer(e);
    assert_int_equal(efx_metric(f, LOADS_OK), loads + 1);
    assert_int_equal(policy_events.n, 1);
    efx_seen_free(&policy_events);
    efx_free(f);
}

/* The timers as started: on the loop, the policy is reloaded once its
 * interval has passed (bounded wait, 5 s at most). */
static void policy_timer_reloads_on_the_loop(void **state)
{
    (void)state;
    efx *f = engine_reloading_every_second();
    qh_engine *e = f->e;
    char err[256] = "";
    assert_int_equal(qh_engine_start(e, err, sizeof err), 0);
    long long loads = efx_metric(f, LOADS_OK);
    struct timeval tick = { 0, 100000 };
    for (int i = 0; i < 50 && efx_metric(f, LOADS_OK) == loads; i++) {
        event_base_loopexit(f->base, &tick);
        event_base_dispatch(f->base);
    }
    assert_int_equal(efx_metric(f, LOADS_OK), loads + 1);
    qh_engine_stop(e);
    efx_free(f);
}

/* Strategies stop before the exchange: an order a strategy sends from its
 * own stop() reaches an exchange that has not stopped yet. */
static void strategies_stop_before_the_exchange(void **state)
{
    (void)state;
    efx *f = efx_new();
    qh_engine *e = f->e;
    char err[256] = "";
    assert_int_equal(qh_engine_start(e, err, sizeof err), 0);
    efx_price(f, "BTCUSDT", QTR_DEC_INT(100));   /* a price, for the risk checks */
    fx_strategy *quiet = efx_plugin(f, "quiet")->state;
    fx_exchange *x = efx_exchange(f);
    qtr_strlcpy(quiet->submit_at_stop, "BTCUSDT", sizeof quiet->submit_at_stop);
    quiet->stop_submit_rc = 99;
    assert_int_equal(x->n_orders, 0);

    qh_engine_stop(e);
    assert_int_equal(quiet->stop_submit_rc, QTR_OK);
    assert_int_equal(x->n_orders, 1);            /* it reached the exchange */
    assert_int_equal(x->orders_after_stop, 0);   /* before the exchange stopped */
    assert_true(x->stopped);                     /* which it did, after */
    efx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lag_probe_does_not_reload_the_policy),
        cmocka_unit_test(policy_timer_reloads_on_the_loop),
        cmocka_unit_test(strategies_stop_before_the_exchange),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
