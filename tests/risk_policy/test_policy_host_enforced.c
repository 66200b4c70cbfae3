/* The policy belongs to the host: with a risk plugin that approves every
 * order (the engine fixture's "approve"), the real engine still applies the
 * policy's limits, its judge() and the ESS to every order. A risk plugin
 * can only refuse or shrink: a reply that grows an order is refused and
 * counted, a plugin is never asked about an order the policy refused, and
 * an entry judged across an ESS trip is not sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine_fixture.h"

static const char STRICT[] =
    "return {\n"
    "  name = 'strict',\n"
    "  limits = { max_positions = 3, max_symbols = 3, min_confidence = 0.5,\n"
    "             max_position_notional = '1000', max_order_notional = '500',\n"
    "             max_total_exposure = '3000', max_leverage = 5 },\n"
    "  ess = { max_drawdown_pct = '10', daily_loss_pct = '5', max_consecutive_errors = 5,\n"
    "          cooldown_minutes = 15, close_positions = false, alert_daily_drawdown_pct = '4' },\n"
    "  judge = function(order, ctx)\n"
    "    if order.symbol == 'ETHUSDT' then return 'reject', 'judge_says_no' end\n"
    "    return 'allow'\n"
    "  end,\n"
    "}\n";

typedef struct world {
    efx *f;
    qh_plugin_rt *strategy, *approve;
    efx_seen updates;
} world;

/* What the stand-in plugin reply does (it replaces "approve"'s check). */
static struct {
    int calls;
    qtr_risk_verdict verdict;
    qtr_dec qty_delta;          /* RESIZE to the order's qty plus this */
    bool trip;                  /* trip the ESS through the host first */
    qh_engine *e;
    qtr_ctx *ctx;
} P;

static void stand_in_check(void *state, const qtr_order_intent *o, qtr_risk_decision *out)
{
    (void)state;
    P.calls++;
    if (P.trip) assert_int_equal(P.e->api.ess_trip(P.ctx, "plugin", "seen something bad"), QTR_OK);
    out->verdict = P.verdict;
    out->qty = o->qty + P.qty_delta;
    qtr_strlcpy(out->reason, "stand_in", sizeof out->reason);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    w->f = efx_new();
    qh_engine *e = w->f->e;
    char path[128];
    snprintf(path, sizeof path, "%s/strict.lua", w->f->dir);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    assert_int_equal(fputs(STRICT, out) >= 0, 1);
    assert_int_equal(fclose(out), 0);
    qtr_policy_event ev;
    assert_int_equal(qh_policy_load(e->policy, path, qh_clock_now_ms(e->clock), &ev), 0);
    efx_price(w->f, "BTCUSDT", QTR_DEC_INT(100));
    efx_price(w->f, "ETHUSDT", QTR_DEC_INT(100));
    w->strategy = efx_plugin(w->f, "quiet");
    w->approve = efx_plugin(w->f, "approve");
    memset(&P, 0, sizeof P);
    P.verdict = QTR_RISK_APPROVE;
    P.e = e;
    P.ctx = &w->approve->ctx;
    efx_watch(e, QTR_EV_ORDER_UPDATE, &w->updates);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    efx_seen_free(&w->updates);
    efx_free(w->f);
    free(w);
    return 0;
}

static qtr_order_intent buy(const char *symbol, qtr_dec qty, double confidence)
{
    qtr_order_intent o;
    memset(&o, 0, sizeof o);
    qtr_strlcpy(o.symbol, symbol, sizeof o.symbol);
    o.side = QTR_SIDE_BUY;
    o.type = QTR_ORDER_MARKET;
    o.qty = qty;
    o.confidence = confidence;
    return o;
}

/* Submit through the strategy's host table; the REJECTED reason, or "" if sent. */
static int submit(world *w, const qtr_order_intent *o, char reason[QTR_REASON_MAX])
{
    size_t before = w->updates.n;
    char cid[QTR_CLIENT_ID_MAX];
    int rc = w->f->e->api.submit_order(&w->strategy->ctx, o, cid);
    reason[0] = '\0';
    for (size_t i = before; i < w->updates.n; i++)
        if (w->updates.items[i].u.order_update.status == QTR_OS_REJECTED)
            qtr_strlcpy(reason, w->updates.items[i].u.order_update.reason, QTR_REASON_MAX);
    return rc;
}

static size_t sent(world *w) { return efx_exchange(w->f)->n_orders; }
static qtr_dec last_sent_qty(world *w) { return efx_exchange(w->f)->orders[sent(w) - 1].qty; }

/* The fixture's plugin approves everything; the policy still decides. */
static void approving_plugin_cannot_pass_what_the_policy_refuses(void **state)
{
    world *w = *state;
    char reason[QTR_REASON_MAX];
    qtr_order_intent ok = buy("BTCUSDT", QTR_DEC_INT(1), 0.9);             /* 100: within */
    assert_int_equal(submit(w, &ok, reason), QTR_OK);
    assert_int_equal(sent(w), 1);

    qtr_order_intent shy = buy("BTCUSDT", QTR_DEC_INT(1), 0.3);            /* limits: confidence */
    assert_int_equal(submit(w, &shy, reason), QTR_EREFUSED);
    assert_string_equal(reason, "risk: min_confidence");

    qtr_order_intent big = buy("BTCUSDT", QTR_DEC_INT(10), 0.9);           /* limits: 1000 > 500: cut */
    assert_int_equal(submit(w, &big, reason), QTR_OK);
    assert_int_equal(sent(w), 2);
    assert_int_equal(last_sent_qty(w), QTR_DEC_INT(5));

    qtr_order_intent eth = buy("ETHUSDT", QTR_DEC_INT(1), 0.9);            /* judge() says no */
    assert_int_equal(submit(w, &eth, reason), QTR_EREFUSED);
    assert_string_equal(reason, "risk: judge_says_no");

    assert_int_equal(w->f->e->api.ess_trip(&w->strategy->ctx, "test", "drill"), QTR_OK);   /* the ESS */
    assert_int_equal(submit(w, &ok, reason), QTR_EREFUSED);
    assert_string_equal(reason, "ess_cooldown");            /* a trip goes straight to its cooldown */
    assert_int_equal(sent(w), 2);
    assert_int_equal(efx_metric(w->f, "qtr_orders_total{result=\"rejected_risk\"}"), 2);
}

/* A plugin never sees an order the policy refused: it cannot flip it. */
static void plugin_not_asked_about_a_refused_order(void **state)
{
    world *w = *state;
    w->approve->ld.risk.check_order = stand_in_check;
    char reason[QTR_REASON_MAX];
    qtr_order_intent eth = buy("ETHUSDT", QTR_DEC_INT(1), 0.9);
    assert_int_equal(submit(w, &eth, reason), QTR_EREFUSED);
    assert_int_equal(P.calls, 0);
    qtr_order_intent ok = buy("BTCUSDT", QTR_DEC_INT(1), 0.9);
    assert_int_equal(submit(w, &ok, reason), QTR_OK);
    assert_int_equal(P.calls, 1);
}

/* A reply that grows the order is refused and counted; a shrink is taken. */
static void plugin_can_shrink_but_not_grow(void **state)
{
    world *w = *state;
    w->approve->ld.risk.check_order = stand_in_check;
    char reason[QTR_REASON_MAX];
    P.verdict = QTR_RISK_RESIZE;
    P.qty_delta = QTR_DEC_INT(1);                                         /* the policy allowed 5: 6 */
    qtr_order_intent big = buy("BTCUSDT", QTR_DEC_INT(10), 0.9);
    assert_int_equal(submit(w, &big, reason), QTR_EREFUSED);
    assert_string_equal(reason, "risk: invalid resize");
    assert_int_equal(sent(w), 0);
    assert_int_equal(efx_metric(w->f, "qtr_risk_plugin_replies_refused_total{plugin=\"approve\"}"), 1);

    P.qty_delta = -QTR_DEC_INT(2);                                        /* 5 - 2 = 3 */
    assert_int_equal(submit(w, &big, reason), QTR_OK);
    assert_int_equal(last_sent_qty(w), QTR_DEC_INT(3));

    P.verdict = (qtr_risk_verdict)42;                                     /* no verdict */
    assert_int_equal(submit(w, &big, reason), QTR_EREFUSED);
    assert_string_equal(reason, "risk: no verdict");
    assert_int_equal(efx_metric(w->f, "qtr_risk_plugin_replies_refused_total{plugin=\"approve\"}"), 2);
    assert_int_equal(sent(w), 1);
}

/* A plugin that trips the ESS while it judges an entry: not sent. */
static void entry_judged_across_a_trip_is_not_sent(void **state)
{
    world *w = *state;
    w->approve->ld.risk.check_order = stand_in_check;
    P.trip = true;
    char reason[QTR_REASON_MAX];
    qtr_order_intent ok = buy("BTCUSDT", QTR_DEC_INT(1), 0.9);
    assert_int_equal(submit(w, &ok, reason), QTR_EREFUSED);
    assert_string_equal(reason, "risk: ess_tripped_during_check");
    assert_int_equal(sent(w), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(approving_plugin_cannot_pass_what_the_policy_refuses),
        T(plugin_not_asked_about_a_refused_order),
        T(plugin_can_shrink_but_not_grow),
        T(entry_judged_across_a_trip_is_not_sent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
