/*
 * The mock host enforces what the host enforces, with the host's own code:
 * a plugin is loaded through the host's loader, and what it publishes goes
 * through the host's publish rule. A plugin that passes its tests on the
 * mock is then not refused live.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/loader.h"
#include "core/publish_rule.h"
#include "mock_host.h"

static const char *fixture(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s.so", FIXTURE_DIR, name);
    return path;
}

static qtr_event event_of(qtr_event_type t)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = t;
    if (qtr_event_has_symbol(t)) qtr_strlcpy(ev.u.candle.symbol, "XRPUSDT", QTR_SYMBOL_MAX);
    return ev;
}

/* Every type, published by a plugin of the given kind: the mock answers what
 * the host's rule answers, delivers only what it admits, and counts and logs
 * each refusal as the host does. */
static void publish_every_type(mock_host *m, qtr_kind kind, bool active)
{
    for (int t = QTR_EV_NONE + 1; t < QTR_EV__COUNT; t++) {
        qtr_event ev = event_of((qtr_event_type)t);
        const char *why = qh_publish_refusal(kind, active, &ev);
        size_t before = m->n_events;
        int refused_before = m->n_publish_refused;
        int rc = m->api.publish(m->ctx, &ev);
        if (why) {
            if (rc != QTR_EREFUSED)
                fail_msg("%s published %s on the mock; the host refuses it (%s)", qtr_kind_name(kind),
                         qtr_event_type_name((qtr_event_type)t), why);
            assert_int_equal(m->n_events, before);
            assert_int_equal(m->n_publish_refused, refused_before + 1);
            char want[160];
            snprintf(want, sizeof want, "may not publish %s events: refused (%s)",
                     qtr_event_type_name((qtr_event_type)t), why);
            assert_non_null(strstr(m->last_log, want));
        } else {
            if (rc != QTR_OK)
                fail_msg("%s refused %s on the mock; the host admits it", qtr_kind_name(kind),
                         qtr_event_type_name((qtr_event_type)t));
            assert_int_equal(m->n_events, before + 1);
        }
    }
}

/* A strategy may publish alerts and nothing else: a fill it publishes is
 * refused, as live. */
static void a_strategy_publishing_a_fill_is_refused(void **state)
{
    (void)state;
    mock_host *m = mock_host_new(false);
    mock_plugin p;
    assert_int_equal(mock_plugin_load(m, fixture("good"), &p), 0);
    qtr_event fill = event_of(QTR_EV_FILL);
    assert_int_equal(m->api.publish(m->ctx, &fill), QTR_EREFUSED);
    assert_int_equal(mock_host_count_events(m, QTR_EV_FILL), 0);
    assert_int_equal(mock_host_metric(m, "plugin_events_refused_total", "fixture_good"), 1);
    assert_non_null(strstr(m->last_log, "plugin fixture_good (strategy) may not publish fill events: refused"));
    publish_every_type(m, QTR_KIND_STRATEGY, false);
    mock_plugin_unload(m, &p);
    mock_host_free(m);
}

/* The active exchange publishes market data, orders and fills; an exchange
 * that is not the one the host trades on publishes alerts only. */
static void the_exchange_rule_depends_on_being_the_active_one(void **state)
{
    (void)state;
    mock_host *m = mock_host_new(false);
    mock_plugin p;
    assert_int_equal(mock_plugin_load(m, fixture("exchange_good"), &p), 0);
    publish_every_type(m, QTR_KIND_EXCHANGE, true);
    m->exchange_not_active = true;
    publish_every_type(m, QTR_KIND_EXCHANGE, false);
    mock_plugin_unload(m, &p);
    mock_host_free(m);
}

/* What the host makes of an admitted event: flags cleared, an alert's
 * source set to the plugin's name. */
static void an_admitted_event_is_made_the_hosts(void **state)
{
    (void)state;
    mock_host *m = mock_host_new(false);
    mock_plugin p;
    assert_int_equal(mock_plugin_load(m, fixture("good"), &p), 0);
    qtr_event ev = event_of(QTR_EV_ALERT);
    ev.flags = QTR_EVF_REPLAY;
    qtr_strlcpy(ev.u.alert.source, "host", sizeof ev.u.alert.source);
    qtr_strlcpy(ev.u.alert.kind, "note", sizeof ev.u.alert.kind);
    assert_int_equal(m->api.publish(m->ctx, &ev), QTR_OK);
    const qtr_event *got = mock_host_last_event(m, QTR_EV_ALERT);
    assert_non_null(got);
    assert_int_equal(got->flags, 0);
    assert_string_equal(got->u.alert.source, "fixture_good");
    /* exchange_error alerts are the active exchange's alone */
    qtr_strlcpy(ev.u.alert.kind, "exchange_error", sizeof ev.u.alert.kind);
    assert_int_equal(m->api.publish(m->ctx, &ev), QTR_EREFUSED);
    mock_plugin_unload(m, &p);
    mock_host_free(m);
}

/* A plugin built for 2.1 loads and runs on the mock as on the host: its
 * option read, its exit plan set through a 2.1 service, its alert
 * delivered; the 2.2 service it does not know lists the plan it set. */
static void an_older_minor_plugin_runs(void **state)
{
    (void)state;
    mock_host *m = mock_host_new(false);
    mock_host_set_option(m, "stop_bps", "275");
    mock_plugin p;
    assert_int_equal(mock_plugin_load(m, fixture("minor_older"), &p), 0);
    assert_int_equal(p.desc->abi_minor, 1);   /* a 2.1 build */
    assert_int_equal(m->n_exit_plans, 1);
    assert_int_equal(m->exit_plans[0].plan.base.stop_loss.bps, 275);
    qtr_candle c;
    memset(&c, 0, sizeof c);
    qtr_strlcpy(c.symbol, "BTCUSDT", sizeof c.symbol);
    size_t before = m->n_events;
    p.ld->strategy.on_candle(p.state, &c);
    assert_int_equal(m->n_events, before + 1);
    qtr_exit_state st[2];
    qtr_list l = QTR_LIST(st);
    assert_int_equal(m->api.list_exit_plans(m->ctx, &l), 1);
    assert_string_equal(st[0].symbol, "BTCUSDT");
    assert_int_equal(st[0].params.stop_loss.bps, 275);
    mock_plugin_unload(m, &p);
    mock_host_free(m);
}

/* The mock refuses to load what the host's loader refuses, with its line. */
static void the_mock_refuses_what_the_loader_refuses(void **state)
{
    (void)state;
    mock_host *m = mock_host_new(false);
    mock_plugin p;
    assert_int_equal(mock_plugin_load(m, fixture("sig_short_enums"), &p), -1);
    assert_null(p.dl);
    assert_non_null(strstr(m->last_log, "sig_short_enums.so refused: build signature differs: enum size"));
    assert_int_equal(mock_plugin_load(m, fixture("null_on_candle"), &p), -1);
    assert_non_null(strstr(m->last_log, "mandatory callback strategy.on_candle is NULL"));
    assert_int_equal(mock_plugin_load(m, fixture("abi_1_1"), &p), -1);
    assert_non_null(strstr(m->last_log, "rebuild the plugin against SDK"));
    mock_host_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_strategy_publishing_a_fill_is_refused),
        cmocka_unit_test(the_exchange_rule_depends_on_being_the_active_one),
        cmocka_unit_test(an_admitted_event_is_made_the_hosts),
        cmocka_unit_test(the_mock_refuses_what_the_loader_refuses),
        cmocka_unit_test(an_older_minor_plugin_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
