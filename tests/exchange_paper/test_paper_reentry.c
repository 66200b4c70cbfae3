/* Paper exchange: the host may call back in from any event the exchange
 * publishes (a fill can trip the ESS, which cancels every order). An order
 * canceled from inside its own acknowledgement or fill is never filled or
 * finished again, its events stay in order, and the pool stays whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "paper_fixture.h"

typedef struct reenter {
    fx *f;
    const char *client_id;      /* the order whose event triggers the call  */
    qtr_event_type on;          /* on its NEW update, or on its first fill   */
    bool all;                   /* cancel_all instead of cancel_order        */
    int calls;
} reenter;

static void on_event(void *ud, const qtr_event *ev)
{
    reenter *r = ud;
    const char *cid = ev->type == QTR_EV_FILL ? ev->u.fill.client_id : ev->u.order_update.client_id;
    if (ev->type != r->on || strcmp(cid, r->client_id) != 0 || r->calls) return;
    if (ev->type == QTR_EV_ORDER_UPDATE && ev->u.order_update.status != QTR_OS_NEW) return;
    r->calls++;
    if (r->all) assert_int_equal(fx_cancel_all(r->f, NULL), QTR_OK);
    else assert_int_equal(fx_cancel(r->f, "XRPUSDT", r->client_id), QTR_OK);
}

static void watch(fx *f, reenter *r) { f->m->api.subscribe(f->m->ctx, r->on, NULL, on_event, r); }

/* Every event after `from`, as "<client id>:<FILL|status>", joined by spaces. */
static const char *trail(const fx *f, size_t from)
{
    static char out[1024];
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = from; i < f->m->n_events && n + 64 < sizeof out; i++) {
        const qtr_event *ev = &f->m->events[i];
        if (ev->type == QTR_EV_FILL)
            n += (size_t)snprintf(out + n, sizeof out - n, "%s%s:FILL", n ? " " : "", ev->u.fill.client_id);
        else if (ev->type == QTR_EV_ORDER_UPDATE)
            n += (size_t)snprintf(out + n, sizeof out - n, "%s%s:%s", n ? " " : "", ev->u.order_update.client_id,
                                  qtr_order_status_name(ev->u.order_update.status));
    }
    return out;
}

/* The pool is whole: on a fresh candle, a new order opens, fills and leaves
 * nothing open. */
static void pool_is_whole(fx *f)
{
    fx_candle(f, "XRPUSDT", "1", "1", "1", "1", "100000");
    size_t mark = f->m->n_events;
    assert_int_equal(fx_submit(f, "XRPUSDT", "after", QTR_SIDE_BUY, QTR_ORDER_MARKET, QTR_TIF_GTC, "1", "0", false),
                     QTR_OK);
    assert_string_equal(trail(f, mark), "after:NEW after:FILL after:FILLED");
    qtr_health h;
    f->p.desc->health(f->p.state, &h);
    assert_non_null(strstr(h.reason, "0 open orders"));
}

static void cancel_on_its_acknowledgement(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, NULL);
    fx_candle(&f, "XRPUSDT", "1", "1", "1", "1", "100000");
    reenter r = { .f = &f, .client_id = "m1", .on = QTR_EV_ORDER_UPDATE };
    watch(&f, &r);
    size_t mark = f.m->n_events;
    assert_int_equal(fx_submit(&f, "XRPUSDT", "m1", QTR_SIDE_BUY, QTR_ORDER_MARKET, QTR_TIF_GTC, "1", "0", false),
                     QTR_OK);
    assert_int_equal(r.calls, 1);
    assert_string_equal(trail(&f, mark), "m1:NEW m1:CANCELED");
    pool_is_whole(&f);
    fx_stop(&f);
}

/* A partial fill that trips a cancel_all: the other order is canceled at
 * once; the filling order's own update comes before its cancel. */
static void cancel_all_inside_a_partial_fill(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, "max_volume_share", "0.1", "market_order_timeout_candles", "5", NULL);
    fx_candle(&f, "XRPUSDT", "1", "1", "1", "1", "100");
    assert_int_equal(fx_submit(&f, "XRPUSDT", "rest", QTR_SIDE_BUY, QTR_ORDER_LIMIT, QTR_TIF_GTC, "1", "0.5", false),
                     QTR_OK);
    reenter r = { .f = &f, .client_id = "p1", .on = QTR_EV_FILL, .all = true };
    watch(&f, &r);
    size_t mark = f.m->n_events;
    assert_int_equal(fx_submit(&f, "XRPUSDT", "p1", QTR_SIDE_BUY, QTR_ORDER_MARKET, QTR_TIF_GTC, "50", "0", false),
                     QTR_OK);
    assert_int_equal(r.calls, 1);
    assert_string_equal(trail(&f, mark), "p1:NEW p1:FILL rest:CANCELED p1:PARTIALLY_FILLED p1:CANCELED");
    qtr_order_update u[8];
    assert_int_equal(fx_updates(&f, mark, "p1", u, 8), 3);
    assert_int_equal(u[2].filled_qty, D("10"));
    pool_is_whole(&f);
    fx_stop(&f);
}

/* A fill that completes its order and trips a cancel_all: the order ends
 * FILLED, never CANCELED after it. */
static void cancel_all_inside_a_full_fill(void **state)
{
    (void)state;
    fx f;
    fx_start(&f, NULL);
    fx_candle(&f, "XRPUSDT", "1", "1", "1", "1", "100000");
    reenter r = { .f = &f, .client_id = "p2", .on = QTR_EV_FILL, .all = true };
    watch(&f, &r);
    size_t mark = f.m->n_events;
    assert_int_equal(fx_submit(&f, "XRPUSDT", "p2", QTR_SIDE_BUY, QTR_ORDER_MARKET, QTR_TIF_GTC, "2", "0", false),
                     QTR_OK);
    assert_int_equal(r.calls, 1);
    assert_string_equal(trail(&f, mark), "p2:NEW p2:FILL p2:FILLED");
    pool_is_whole(&f);
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cancel_on_its_acknowledgement),
        cmocka_unit_test(cancel_all_inside_a_partial_fill),
        cmocka_unit_test(cancel_all_inside_a_full_fill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
