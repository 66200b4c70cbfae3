/* The live signal path: a strategy's signals go to the exchange as soon as
 * the event that produced them has reached every subscriber (one turn of the
 * loop), not on the next 100 ms cycle tick; at most per_cycle of them per
 * cycle, the highest confidence first; the tick takes what went over. */
#include <event2/event.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine_fixture.h"

static qtr_signal signal_at(double confidence)
{
    qtr_signal s;
    memset(&s, 0, sizeof s);
    snprintf(s.symbol, sizeof s.symbol, "BTCUSDT");
    s.side = QTR_SIDE_BUY;
    s.type = QTR_ORDER_MARKET;
    s.tif = QTR_TIF_GTC;
    s.qty = QTR_DEC_INT(1) / 1000;
    s.confidence = confidence;
    snprintf(s.reason, sizeof s.reason, "test %.2f", confidence);
    return s;
}

/* The confidences of the orders the exchange got, from index `from`. */
static void sent_confidences(const fx_exchange *x, size_t from, double *out)
{
    for (size_t i = from; i < x->n_orders; i++) out[i - from] = x->orders[i].confidence;
}

/* An engine with the open policy and a price, started. */
static efx *started_with_open_policy(void)
{
    efx *f = efx_new();
    efx_open_policy_and_price(f);
    char err[256] = "";
    assert_int_equal(qh_engine_start(f->e, err, sizeof err), 0);
    return f;
}

static void drained_on_the_next_turn_within_the_budget(void **state)
{
    (void)state;
    efx *f = started_with_open_policy();
    qh_engine *e = f->e;
    assert_int_equal((int)e->cfg->signals.per_cycle, 10);
    assert_true(e->cfg->signals.cycle_ms >= 100);
    qh_plugin_rt *s = efx_plugin(f, "quiet");
    fx_exchange *x = efx_exchange(f);

    /* 15 signals born of one event, lowest confidence first */
    for (int i = 1; i <= 15; i++) {
        qtr_signal sig = signal_at(i / 20.0);
        assert_int_equal(e->api.submit_signal(&s->ctx, &sig), QTR_OK);
    }
    assert_int_equal(x->n_orders, 0);           /* still inside the producing event */

    /* one non-blocking turn of the loop: no timer is due yet */
    event_base_loop(f->base, EVLOOP_NONBLOCK);
    assert_int_equal(x->n_orders, 10);          /* the budget of one cycle */
    double c[15];
    sent_confidences(x, 0, c);
    for (int i = 0; i < 10; i++) assert_true(c[i] == (15 - i) / 20.0);

    /* a later event in the same cycle gets nothing through: over budget */
    qtr_signal late = signal_at(0.99);
    assert_int_equal(e->api.submit_signal(&s->ctx, &late), QTR_OK);
    event_base_loop(f->base, EVLOOP_NONBLOCK);
    assert_int_equal(x->n_orders, 10);

    /* the tick opens a new cycle and takes the rest, best first */
    qh_pipeline_cycle(e);
    assert_int_equal(x->n_orders, 16);
    sent_confidences(x, 10, c);
    assert_true(c[0] == 0.99);
    for (int i = 1; i < 6; i++) assert_true(c[i] == (6 - i) / 20.0);

    qh_engine_stop(e);
    efx_free(f);
}

/* A drained signal's order carries its symbol, its strategy (the plugin)
 * and its reason as qtr_strlcpy would copy them: whole up to 95 bytes, a
 * reason filling its field with no NUL cut to 95, zeros after the end; the
 * signal's record says accepted, "sent", zeros after. */
static void drained_orders_carry_the_signals_fields(void **state)
{
    (void)state;
    efx *f = started_with_open_policy();
    qh_engine *e = f->e;
    qh_plugin_rt *p = efx_plugin(f, "quiet");
    fx_exchange *x = efx_exchange(f);
    const size_t lens[] = { 0, 1, 7, QTR_REASON_MAX - 2, QTR_REASON_MAX - 1, QTR_REASON_MAX };
    enum { N = sizeof lens / sizeof *lens };
    for (size_t i = 0; i < N; i++) {
        qtr_signal sig = signal_at(0.9 - (double)i / 20);   /* drained in this order */
        memset(sig.reason, 0, sizeof sig.reason);
        for (size_t k = 0; k < lens[i]; k++) sig.reason[k] = (char)('a' + (i + k) % 26);
        assert_int_equal(e->api.submit_signal(&p->ctx, &sig), QTR_OK);
    }
    event_base_loop(f->base, EVLOOP_NONBLOCK);
    assert_int_equal(x->n_orders, N);
    for (size_t i = 0; i < N; i++) {
        const qtr_order_intent *o = &x->orders[i];
        char want[QTR_REASON_MAX];
        memset(want, 0, sizeof want);
        size_t kept = lens[i] < QTR_REASON_MAX - 1 ? lens[i] : QTR_REASON_MAX - 1;
        for (size_t k = 0; k < kept; k++) want[k] = (char)('a' + (i + k) % 26);
        assert_memory_equal(o->reason, want, sizeof want);
        char sym[QTR_SYMBOL_MAX] = "BTCUSDT", strategy[QTR_NAME_MAX] = "quiet";
        assert_memory_equal(o->symbol, sym, sizeof sym);
        assert_memory_equal(o->strategy, strategy, sizeof strategy);
    }
    /* the newest record: the last signal drained */
    const qtr_signal_record *r =
        &e->recent_signals.items[(e->recent_signals.head + e->recent_signals.count - 1) % QH_RECENT];
    char outcome[QTR_NAME_MAX] = "accepted", reason[QTR_REASON_MAX] = "sent";
    assert_memory_equal(r->outcome, outcome, sizeof outcome);
    assert_memory_equal(r->reason, reason, sizeof reason);
    qh_engine_stop(e);
    efx_free(f);
}

/* Once stopping, queued signals are not sent. */
static void no_drain_after_stop(void **state)
{
    (void)state;
    efx *f = started_with_open_policy();
    qh_engine *e = f->e;
    qtr_signal sig = signal_at(0.5);
    assert_int_equal(e->api.submit_signal(&efx_plugin(f, "quiet")->ctx, &sig), QTR_OK);
    qh_engine_stop(e);
    event_base_loop(f->base, EVLOOP_NONBLOCK);
    assert_int_equal(efx_exchange(f)->n_orders, 0);
    efx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(drained_on_the_next_turn_within_the_budget),
        cmocka_unit_test(no_drain_after_stop),
        cmocka_unit_test(drained_orders_carry_the_signals_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
