/* The bus: delivery by type and symbol, order, re-entrancy, unsubscribe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/bus.h"

typedef struct rec {
    int n;
    char log[64][32];
    qh_bus *bus;
    qh_bus_sub *self;
} rec;

static qtr_event candle(const char *sym, int64_t t)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV_CANDLE;
    qtr_strlcpy(ev.u.candle.symbol, sym, sizeof ev.u.candle.symbol);
    ev.u.candle.open_time_ms = t;
    return ev;
}

static void note(rec *r, const char *who, const qtr_event *ev)
{
    if (r->n < 64)
        snprintf(r->log[r->n++], 32, "%s:%s:%lld", who, qtr_event_type_name(ev->type),
                 (long long)(ev->type == QTR_EV_CANDLE ? ev->u.candle.open_time_ms : ev->time_ms));
}

static void cb_a(void *ud, const qtr_event *ev) { note(ud, "a", ev); }
static void cb_b(void *ud, const qtr_event *ev) { note(ud, "b", ev); }

static void delivers_by_type_and_symbol(void **s)
{
    (void)s;
    qh_bus *bus = qh_bus_new();
    rec r = { 0 };
    assert_non_null(qh_bus_subscribe(bus, QTR_EV_CANDLE, NULL, cb_a, &r, NULL));
    assert_non_null(qh_bus_subscribe(bus, QTR_EV_CANDLE, "ETHUSDT", cb_b, &r, NULL));
    assert_non_null(qh_bus_subscribe(bus, QTR_EV_FILL, NULL, cb_b, &r, NULL));
    qtr_event e1 = candle("BTCUSDT", 1), e2 = candle("ETHUSDT", 2);
    assert_int_equal(qh_bus_publish(bus, &e1), QTR_OK);
    assert_int_equal(qh_bus_publish(bus, &e2), QTR_OK);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.log[0], "a:candle:1");
    assert_string_equal(r.log[1], "a:candle:2");
    assert_string_equal(r.log[2], "b:candle:2");
    qh_bus_free(bus);
}

static void refuses_bad_types(void **s)
{
    (void)s;
    qh_bus *bus = qh_bus_new();
    rec r = { 0 };
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = QTR_EV__COUNT;
    assert_int_equal(qh_bus_publish(bus, &ev), QTR_EINVAL);
    ev.type = QTR_EV_NONE;
    assert_int_equal(qh_bus_publish(bus, &ev), QTR_EINVAL);
    assert_null(qh_bus_subscribe(bus, QTR_EV__COUNT, NULL, cb_a, &r, NULL));
    assert_null(qh_bus_subscribe(bus, QTR_EV_CANDLE, "A_SYMBOL_FAR_TOO_LONG_FOR_ANY", cb_a, &r, NULL));
    qh_bus_free(bus);
}

/* A subscriber that publishes: the nested event waits until every
 * subscriber has seen the current one (publication order everywhere). */
static void republish(void *ud, const qtr_event *ev)
{
    rec *r = ud;
    note(r, "re", ev);
    if (ev->type == QTR_EV_CANDLE) {
        qtr_event f;
        memset(&f, 0, sizeof f);
        f.type = QTR_EV_FILL;
        f.time_ms = 77;
        qh_bus_publish(r->bus, &f);
    }
}

static void nested_publish_is_queued_in_order(void **s)
{
    (void)s;
    qh_bus *bus = qh_bus_new();
    rec r = { .bus = bus };
    qh_bus_subscribe(bus, QTR_EV_CANDLE, NULL, republish, &r, NULL);
    qh_bus_subscribe(bus, QTR_EV_CANDLE, NULL, cb_a, &r, NULL);
    qh_bus_subscribe(bus, QTR_EV_FILL, NULL, cb_b, &r, NULL);
    qtr_event e = candle("BTCUSDT", 5);
    qh_bus_publish(bus, &e);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.log[0], "re:candle:5");
    assert_string_equal(r.log[1], "a:candle:5");   /* before the fill */
    assert_string_equal(r.log[2], "b:fill:77");
    qh_bus_stats st;
    qh_bus_stats_get(bus, &st);
    assert_int_equal(st.queue_depth, 0);
    assert_int_equal(st.queue_high_water, 1);
    qh_bus_free(bus);
}

static void unsub_self(void *ud, const qtr_event *ev)
{
    rec *r = ud;
    note(r, "once", ev);
    qh_bus_unsubscribe(r->bus, r->self);
}

static void unsubscribe_inside_callback(void **s)
{
    (void)s;
    qh_bus *bus = qh_bus_new();
    rec r = { .bus = bus };
    r.self = qh_bus_subscribe(bus, QTR_EV_CANDLE, NULL, unsub_self, &r, NULL);
    qh_bus_subscribe(bus, QTR_EV_CANDLE, NULL, cb_a, &r, NULL);
    qtr_event e1 = candle("X1", 1), e2 = candle("X1", 2);
    qh_bus_publish(bus, &e1);
    qh_bus_publish(bus, &e2);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.log[0], "once:candle:1");
    assert_string_equal(r.log[1], "a:candle:1");
    assert_string_equal(r.log[2], "a:candle:2");
    qh_bus_free(bus);
}

static void unsubscribe_by_owner(void **s)
{
    (void)s;
    qh_bus *bus = qh_bus_new();
    rec r = { 0 };
    int owner1, owner2;
    qh_bus_subscribe(bus, QTR_EV_CANDLE, NULL, cb_a, &r, &owner1);
    qh_bus_subscribe(bus, QTR_EV_FILL, NULL, cb_a, &r, &owner1);
    qh_bus_subscribe(bus, QTR_EV_CANDLE, NULL, cb_b, &r, &owner2);
    qh_bus_unsubscribe_owner(bus, &owner1);
    qtr_event e = candle("X1", 9);
    qh_bus_publish(bus, &e);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.log[0], "b:candle:9");
    qh_bus_stats st;
    qh_bus_stats_get(bus, &st);
    assert_int_equal(st.subscribers, 1);
    qh_bus_free(bus);
}

/* A plugin's stale handle (its subscription freed when it was unloaded)
 * must not reach a subscription that now lives at the same address. */
static void stale_handle_is_ignored(void **s)
{
    (void)s;
    qh_bus *bus = qh_bus_new();
    rec r = { 0 };
    int old_owner, new_owner;
    qh_bus_sub *stale = qh_bus_subscribe(bus, QTR_EV_CANDLE, NULL, cb_a, &r, &old_owner);
    qh_bus_unsubscribe_owner(bus, &old_owner);          /* freed here */
    qh_bus_sub *fresh = NULL;
    for (int i = 0; i < 64 && fresh != stale; i++)      /* malloc hands the block back soon */
        fresh = qh_bus_subscribe(bus, QTR_EV_CANDLE, NULL, cb_b, &r, &new_owner);
    qh_bus_unsubscribe_checked(bus, stale, &old_owner);  /* a late call with the old handle */
    qtr_event e = candle("X1", 3);
    qh_bus_publish(bus, &e);
    assert_true(r.n >= 1);                               /* the new owner's subscriptions still deliver */
    for (int i = 0; i < r.n; i++) assert_string_equal(r.log[i], "b:candle:3");
    /* the owner itself can still remove its live subscription */
    qh_bus_unsubscribe_checked(bus, fresh, &new_owner);
    qh_bus_stats st;
    qh_bus_stats_get(bus, &st);
    assert_int_equal(st.subscribers, (size_t)r.n - 1);
    qh_bus_free(bus);
}

/* A flood published from inside a callback grows the ring; nothing lost. */
typedef struct flood { qh_bus *bus; int published, seen; int64_t last; bool in_order; } flood;
static void flood_source(void *ud, const qtr_event *ev)
{
    (void)ev;
    flood *f = ud;
    for (int i = 0; i < 5000; i++) {
        qtr_event x;
        memset(&x, 0, sizeof x);
        x.type = QTR_EV_TRADE;
        x.time_ms = ++f->published;
        qh_bus_publish(f->bus, &x);
    }
}
static void flood_sink(void *ud, const qtr_event *ev)
{
    flood *f = ud;
    if (ev->time_ms != f->last + 1) f->in_order = false;
    f->last = ev->time_ms;
    f->seen++;
}

static void nested_flood_keeps_everything_in_order(void **s)
{
    (void)s;
    qh_bus *bus = qh_bus_new();
    flood f = { .bus = bus, .in_order = true };
    qh_bus_subscribe(bus, QTR_EV_CANDLE, NULL, flood_source, &f, NULL);
    qh_bus_subscribe(bus, QTR_EV_TRADE, NULL, flood_sink, &f, NULL);
    qtr_event e = candle("X1", 1);
    qh_bus_publish(bus, &e);
    assert_int_equal(f.seen, 5000);
    assert_true(f.in_order);
    qh_bus_stats st;
    qh_bus_stats_get(bus, &st);
    assert_true(st.queue_capacity >= 5000);
    assert_int_equal(st.published[QTR_EV_TRADE], 5000);
    qh_bus_free(bus);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delivers_by_type_and_symbol),
        cmocka_unit_test(refuses_bad_types),
        cmocka_unit_test(nested_publish_is_queued_in_order),
        cmocka_unit_test(unsubscribe_inside_callback),
        cmocka_unit_test(unsubscribe_by_owner),
        cmocka_unit_test(nested_flood_keeps_everything_in_order),
        cmocka_unit_test(stale_handle_is_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
