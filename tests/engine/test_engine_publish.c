/* Who may publish what on the bus (qtr/plugin.h, publish): a plugin that is
 * not the active exchange can neither move the portfolio nor speak for the
 * host; every refusal is QTR_EREFUSED, logged once per (plugin, type) and
 * counted. Runs the real engine with fixture plugins (engine_fixture.h). */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine_fixture.h"

#define PX QTR_DEC_INT(100)

/* A minimal event of each type, about BTCUSDT where it has a symbol. */
static qtr_event event_of(qtr_event_type type)
{
    qtr_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    switch (type) {
    case QTR_EV_FILL: ev = efx_fill("BTCUSDT", "forged-1", QTR_DEC_INT(2), PX); break;
    case QTR_EV_CANDLE:
        qtr_strlcpy(ev.u.candle.symbol, "BTCUSDT", sizeof ev.u.candle.symbol);
        ev.u.candle.open = ev.u.candle.high = ev.u.candle.low = ev.u.candle.close = PX / 2;
        ev.u.candle.close_time_ms = 1;
        break;
    case QTR_EV_MARK_PRICE:
        qtr_strlcpy(ev.u.mark_price.symbol, "BTCUSDT", sizeof ev.u.mark_price.symbol);
        ev.u.mark_price.mark_price = PX / 2;
        break;
    case QTR_EV_ORDER_UPDATE:
        qtr_strlcpy(ev.u.order_update.symbol, "BTCUSDT", sizeof ev.u.order_update.symbol);
        qtr_strlcpy(ev.u.order_update.client_id, "forged-order", sizeof ev.u.order_update.client_id);
        ev.u.order_update.side = QTR_SIDE_BUY;
        ev.u.order_update.type = QTR_ORDER_MARKET;
        ev.u.order_update.status = QTR_OS_NEW;
        ev.u.order_update.qty = QTR_DEC_INT(1);
        break;
    case QTR_EV_POSITION:
        qtr_strlcpy(ev.u.position.symbol, "BTCUSDT", sizeof ev.u.position.symbol);
        ev.u.position.qty = QTR_DEC_INT(5);
        ev.u.position.entry_price = PX;
        break;
    case QTR_EV_EQUITY:
        ev.u.equity.equity = ev.u.equity.equity_peak = QTR_DEC_INT(900000000);
        break;
    case QTR_EV_ESS_STATE:
        ev.u.ess.state = QTR_ESS_TRIPPED;
        ev.u.ess.previous = QTR_ESS_ARMED;
        qtr_strlcpy(ev.u.ess.reason, "forged", sizeof ev.u.ess.reason);
        break;
    case QTR_EV_ALERT:
        qtr_strlcpy(ev.u.alert.kind, "note", sizeof ev.u.alert.kind);
        qtr_strlcpy(ev.u.alert.text, "hello", sizeof ev.u.alert.text);
        qtr_strlcpy(ev.u.alert.source, "ess", sizeof ev.u.alert.source); /* posing as the host */
        break;
    default:
        qtr_strlcpy(ev.u.candle.symbol, "BTCUSDT", sizeof ev.u.candle.symbol);
        break;
    }
    ev.type = type;
    return ev;
}

static qtr_event exchange_error_alert(void)
{
    qtr_event ev = event_of(QTR_EV_ALERT);
    qtr_strlcpy(ev.u.alert.kind, "exchange_error", sizeof ev.u.alert.kind);
    return ev;
}

/* The rule itself, for every kind and type. */
static void rule_for_every_kind_and_type(void **state)
{
    (void)state;
    const qtr_kind kinds[] = { QTR_KIND_STRATEGY, QTR_KIND_RISK, QTR_KIND_EXCHANGE, QTR_KIND_DASHBOARD };
    for (size_t k = 0; k < 4; k++) {
        for (int active = 0; active < 2; active++) {
            bool trades = kinds[k] == QTR_KIND_EXCHANGE && active;
            for (int t = QTR_EV_NONE + 1; t < QTR_EV__COUNT; t++) {
                qtr_event ev = event_of((qtr_event_type)t);
                bool allowed = t == QTR_EV_ALERT ||
                               (trades && (t == QTR_EV_CANDLE || t == QTR_EV_TRADE || t == QTR_EV_BOOK_TOP ||
                                           t == QTR_EV_MARK_PRICE || t == QTR_EV_ORDER_UPDATE || t == QTR_EV_FILL));
                const char *why = qh_publish_refusal(kinds[k], active, &ev);
                if (allowed != (why == NULL))
                    fail_msg("%s (active %d) publishing %s: %s", qtr_kind_name(kinds[k]), active,
                             qtr_event_type_name((qtr_event_type)t), why ? why : "allowed");
            }
            qtr_event ee = exchange_error_alert();
            assert_true((qh_publish_refusal(kinds[k], active, &ee) == NULL) == trades);
        }
    }
}

/* A strategy publishing a fill (and everything else that is not its own):
 * refused, nothing moves, one log line per type, every refusal counted. */
static void strategy_cannot_move_the_portfolio(void **state)
{
    (void)state;
    efx *f = efx_new();
    qh_engine *e = f->e;
    qh_plugin_rt *s = efx_plugin(f, "quiet");
    efx_seen seen[QTR_EV__COUNT];
    for (int t = QTR_EV_NONE + 1; t < QTR_EV__COUNT; t++) efx_watch(e, (qtr_event_type)t, &seen[t]);
    qtr_account before;
    qh_engine_account(e, &before);
    assert_int_equal(efx_metric(f, "qtr_plugin_events_refused_total{plugin=\"quiet\"}"), 0);

    qtr_event fill = event_of(QTR_EV_FILL);
    assert_int_equal(efx_publish(f, s, &fill), QTR_EREFUSED);
    qtr_strlcpy(fill.u.fill.fill_id, "forged-2", sizeof fill.u.fill.fill_id);
    assert_int_equal(efx_publish(f, s, &fill), QTR_EREFUSED);
    int refused = 2;
    for (int t = QTR_EV_NONE + 1; t < QTR_EV__COUNT; t++) {
        if (t == QTR_EV_FILL || t == QTR_EV_ALERT) continue;
        qtr_event ev = event_of((qtr_event_type)t);
        if (efx_publish(f, s, &ev) != QTR_EREFUSED)
            fail_msg("a strategy published a %s event", qtr_event_type_name((qtr_event_type)t));
        refused++;
    }
    qtr_event ee = exchange_error_alert();
    assert_int_equal(efx_publish(f, s, &ee), QTR_EREFUSED);
    refused++;
    qtr_event bad = event_of(QTR_EV_ALERT);
    bad.type = QTR_EV__COUNT;
    assert_int_equal(efx_publish(f, s, &bad), QTR_EINVAL);
    bad.type = QTR_EV_NONE;
    assert_int_equal(efx_publish(f, s, &bad), QTR_EINVAL);

    /* nothing was delivered; nothing moved */
    for (int t = QTR_EV_NONE + 1; t < QTR_EV__COUNT; t++)
        if (seen[t].n) fail_msg("a refused %s event was delivered", qtr_event_type_name((qtr_event_type)t));
    qtr_position pos;
    assert_int_equal(e->api.get_position(&s->ctx, "BTCUSDT", &pos, sizeof pos), QTR_ENOTFOUND);
    qtr_account after;
    qh_engine_account(e, &after);
    assert_true(after.wallet_balance == before.wallet_balance && after.equity == before.equity &&
                after.equity_peak == before.equity_peak && after.open_positions == 0);
    assert_int_equal(qh_order_table_count(e->open_orders), 0);
    assert_null(qh_market_get(e, "BTCUSDT", false));
    assert_int_equal(qh_ess_state(e->ess), QTR_ESS_ARMED);
    qtr_ess_status ess;
    qh_ess_status(e->ess, &ess);
    assert_int_equal(ess.consecutive_exchange_errors, 0);
    assert_int_equal(efx_exchange(f)->n_orders, 0);

    /* an alert of its own goes through */
    qtr_event note = event_of(QTR_EV_ALERT);
    assert_int_equal(efx_publish(f, s, &note), QTR_OK);
    assert_int_equal(seen[QTR_EV_ALERT].n, 1);
    assert_string_equal(seen[QTR_EV_ALERT].items[0].u.alert.text, "hello");
    /* an alert names the plugin that raised it, whatever it claims */
    assert_string_equal(seen[QTR_EV_ALERT].items[0].u.alert.source, "quiet");

    /* counted every time, logged once per type with both names */
    assert_int_equal(efx_metric(f, "qtr_plugin_events_refused_total{plugin=\"quiet\"}"), refused);
    assert_int_equal(efx_log_count(f, "plugin quiet (strategy) may not publish fill events: refused"), 1);
    assert_int_equal(efx_log_count(f, "plugin quiet (strategy) may not publish ess_state events: refused"), 1);
    assert_int_equal(efx_log_count(f, "plugin quiet (strategy) may not publish alert events: refused"), 1);
    assert_int_equal(efx_log_count(f, "may not publish"), (size_t)(QTR_EV__COUNT - 1));

    /* and the trade store holds none of it */
    assert_int_equal(qh_store_flush(e->store, 10000), QTR_OK);
    qh_store_state st;
    char err[256];
    assert_int_equal(qh_store_load_state(e->store, &st, err, sizeof err), QTR_OK);
    assert_int_equal(st.n_fills, 0);
    assert_int_equal(st.n_positions, 0);
    assert_int_equal(st.n_open_orders, 0);
    assert_false(st.has_ess);
    qh_store_state_free(&st);

    for (int t = QTR_EV_NONE + 1; t < QTR_EV__COUNT; t++) efx_seen_free(&seen[t]);
    efx_free(f);
}

/* The risk and dashboard plugins: alerts only, the same way. */
static void risk_and_dashboard_publish_alerts_only(void **state)
{
    (void)state;
    efx *f = efx_new();
    const char *names[] = { "approve", "panel" };
    const char *series[] = { "qtr_plugin_events_refused_total{plugin=\"approve\"}",
                             "qtr_plugin_events_refused_total{plugin=\"panel\"}" };
    for (size_t i = 0; i < 2; i++) {
        qh_plugin_rt *p = efx_plugin(f, names[i]);
        long long refused = 0;
        for (int t = QTR_EV_NONE + 1; t < QTR_EV__COUNT; t++) {
            qtr_event ev = event_of((qtr_event_type)t);
            int rc = efx_publish(f, p, &ev);
            if (rc != (t == QTR_EV_ALERT ? QTR_OK : QTR_EREFUSED))
                fail_msg("%s publishing %s: %d", names[i], qtr_event_type_name((qtr_event_type)t), rc);
            refused += t != QTR_EV_ALERT;
        }
        assert_int_equal(efx_metric(f, series[i]), refused);
    }
    assert_int_equal(qh_portfolio_open_count(f->e->pf), 0);
    assert_int_equal(qh_order_table_count(f->e->open_orders), 0);
    assert_int_equal(qh_ess_state(f->e->ess), QTR_ESS_ARMED);
    efx_free(f);
}

/* The active exchange publishes what is its own; the fill moves the
 * portfolio and is stored even if the plugin marked it a replay. */
static void active_exchange_publishes_its_own(void **state)
{
    (void)state;
    efx *f = efx_new();
    qh_engine *e = f->e;
    qh_plugin_rt *x = e->exchange;
    efx_seen fills;
    efx_watch(e, QTR_EV_FILL, &fills);
    qtr_event fill = event_of(QTR_EV_FILL);
    fill.flags = QTR_EVF_REPLAY;
    assert_int_equal(efx_publish(f, x, &fill), QTR_OK);
    assert_int_equal(fills.n, 1);
    assert_int_equal(fills.items[0].flags, 0);
    qtr_position pos;
    assert_int_equal(qh_portfolio_get_position(e->pf, "BTCUSDT", &pos), 0);
    assert_true(pos.qty == QTR_DEC_INT(2));

    qtr_event up = event_of(QTR_EV_ORDER_UPDATE);
    assert_int_equal(efx_publish(f, x, &up), QTR_OK);
    assert_int_equal(qh_order_table_count(e->open_orders), 1);
    qtr_event candle = event_of(QTR_EV_CANDLE);
    assert_int_equal(efx_publish(f, x, &candle), QTR_OK);
    assert_non_null(qh_market_get(e, "BTCUSDT", false));
    qtr_event ee = exchange_error_alert();
    assert_int_equal(efx_publish(f, x, &ee), QTR_OK);
    qtr_ess_status ess;
    qh_ess_status(e->ess, &ess);
    assert_int_equal(ess.consecutive_exchange_errors, 1);

    /* still not the host: positions, equity, ESS, intents, signals */
    const qtr_event_type host_only[] = { QTR_EV_SIGNAL, QTR_EV_ORDER_INTENT, QTR_EV_POSITION, QTR_EV_ESS_STATE,
                                         QTR_EV_POLICY, QTR_EV_HEALTH, QTR_EV_EQUITY };
    for (size_t i = 0; i < sizeof host_only / sizeof host_only[0]; i++) {
        qtr_event ev = event_of(host_only[i]);
        assert_int_equal(efx_publish(f, x, &ev), QTR_EREFUSED);
    }
    assert_int_equal(efx_metric(f, "qtr_plugin_events_refused_total{plugin=\"rec\"}"), 7);
    assert_int_equal(qh_portfolio_get_position(e->pf, "BTCUSDT", &pos), 0);
    assert_true(pos.qty == QTR_DEC_INT(2));
    assert_int_equal(qh_ess_state(e->ess), QTR_ESS_ARMED);

    assert_int_equal(qh_store_flush(e->store, 10000), QTR_OK);
    qh_store_state st;
    char err[256];
    assert_int_equal(qh_store_load_state(e->store, &st, err, sizeof err), QTR_OK);
    assert_int_equal(st.n_fills, 1);                 /* recorded: not taken for a replay */
    qh_store_state_free(&st);
    efx_seen_free(&fills);
    efx_free(f);
}

/* What a plugin publishes reaches subscribers as the host admits it, and
 * otherwise byte for byte: flags cleared, a time of 0 set to now, an
 * alert's source set to the plugin's name; an event none of those touch
 * (flags 0, a time, not an alert) arrives exactly as published. */
static void plugin_event_as_admitted(void **state)
{
    (void)state;
    efx *f = efx_new();
    qh_engine *e = f->e;
    qh_plugin_rt *x = e->exchange;
    efx_seen candles, alerts;
    efx_watch(e, QTR_EV_CANDLE, &candles);
    efx_watch(e, QTR_EV_ALERT, &alerts);
    qtr_event c = event_of(QTR_EV_CANDLE);
    memset(c.u.reserved_ + sizeof c.u.candle, 0x5a, sizeof c.u.reserved_ - sizeof c.u.candle);   /* any bytes */
    const int64_t t0 = 1234;
    for (int k = 0; k < 3; k++) {
        qtr_event ev = c;
        ev.u.candle.open_time_ms = k;
        ev.u.candle.close_time_ms = k + 1;
        ev.time_ms = k == 1 ? 0 : t0;
        ev.flags = k == 2 ? QTR_EVF_REPLAY : 0;
        /* the engine's clock is the wall clock here: a time of 0 is set to
         * a "now" between these two readings (reading it once after the
         * publish failed when a millisecond ended in between) */
        int64_t lo = qh_clock_now_ms(e->clock);
        assert_int_equal(efx_publish(f, x, &ev), QTR_OK);
        int64_t hi = qh_clock_now_ms(e->clock);
        assert_int_equal(candles.n, (size_t)k + 1);
        qtr_event want = ev;
        want.flags = 0;
        if (k == 1) {
            assert_in_range(candles.items[k].time_ms, lo, hi);
            want.time_ms = candles.items[k].time_ms;
        }
        assert_memory_equal(&candles.items[k], &want, sizeof want);
    }
    qtr_event a = event_of(QTR_EV_ALERT);
    a.time_ms = t0;
    a.u.alert.severity = QTR_ALERT_INFO;
    qtr_strlcpy(a.u.alert.kind, "note", sizeof a.u.alert.kind);
    qtr_strlcpy(a.u.alert.source, "posing", sizeof a.u.alert.source);
    assert_int_equal(efx_publish(f, x, &a), QTR_OK);
    assert_int_equal(alerts.n, 1);
    assert_string_equal(alerts.items[0].u.alert.source, "rec");
    assert_int_equal(alerts.items[0].time_ms, t0);
    efx_seen_free(&candles);
    efx_seen_free(&alerts);
    efx_free(f);
}

/* The SDK says publish() copies *ev: a plugin may change its event's memory
 * while the event is being delivered (a nested call into the plugin, from a
 * subscriber, builds its next event in the same buffer), and the
 * subscribers after that one still get the event as it was published. */
static qtr_event *g_publishers_buffer;

static void first_subscriber_changes_the_buffer(void *ud, const qtr_event *ev)
{
    (void)ud;
    (void)ev;
    g_publishers_buffer->u.candle.close = QTR_DEC_INT(999);
    qtr_strlcpy(g_publishers_buffer->u.candle.symbol, "CHANGED", sizeof g_publishers_buffer->u.candle.symbol);
}

static void plugin_event_is_copied_before_delivery(void **state)
{
    (void)state;
    efx *f = efx_new();
    qh_engine *e = f->e;
    efx_seen later;
    assert_non_null(qh_bus_subscribe(e->bus, QTR_EV_CANDLE, NULL, first_subscriber_changes_the_buffer, NULL, f));
    efx_watch(e, QTR_EV_CANDLE, &later);
    qtr_event ev = event_of(QTR_EV_CANDLE);   /* flags 0, a time: nothing for the admission to change */
    ev.time_ms = 1234;
    qtr_event published = ev;
    g_publishers_buffer = &ev;
    assert_int_equal(efx_publish(f, e->exchange, &ev), QTR_OK);
    assert_int_equal(later.n, 1);
    assert_memory_equal(&later.items[0], &published, sizeof published);
    assert_string_equal(ev.u.candle.symbol, "CHANGED");   /* the buffer did change meanwhile */
    g_publishers_buffer = NULL;
    efx_seen_free(&later);
    efx_free(f);
}

/* An exchange plugin loaded beside the active one (not the one the host
 * trades on) moves nothing: alerts only, never exchange errors. */
static void inactive_exchange_moves_nothing(void **state)
{
    (void)state;
    efx *f = efx_new();
    qh_engine *e = f->e;
    assert_true(e->n_plugins < QH_MAX_PLUGINS);
    qh_plugin_rt *p = &e->plugins[e->n_plugins];
    memset(p, 0, sizeof *p);
    char err[1024];
    if (qh_loader_open(ENGINE_FIXTURE_DIR "/exchange_rec.so", NULL, 0, &p->ld, err, sizeof err) != 0)
        fail_msg("%s", err);
    p->ctx.eng = e;
    p->ctx.plugin = p;
    p->ctx.name = "rec";
    e->n_plugins++;
    assert_int_equal(p->ld.desc.init(&e->api, &p->ctx, &p->state), 0);
    p->inited = true;
    assert_ptr_not_equal(p, e->exchange);
    efx_seen seen[QTR_EV__COUNT];
    for (int t = QTR_EV_NONE + 1; t < QTR_EV__COUNT; t++) efx_watch(e, (qtr_event_type)t, &seen[t]);

    for (int t = QTR_EV_NONE + 1; t < QTR_EV__COUNT; t++) {
        qtr_event ev = event_of((qtr_event_type)t);
        int rc = efx_publish(f, p, &ev);
        if (rc != (t == QTR_EV_ALERT ? QTR_OK : QTR_EREFUSED))
            fail_msg("the inactive exchange publishing %s: %d", qtr_event_type_name((qtr_event_type)t), rc);
    }
    qtr_event ee = exchange_error_alert();
    assert_int_equal(efx_publish(f, p, &ee), QTR_EREFUSED);
    for (int t = QTR_EV_NONE + 1; t < QTR_EV__COUNT; t++)
        if (seen[t].n != (t == QTR_EV_ALERT ? 1u : 0u))
            fail_msg("%zu %s events delivered", seen[t].n, qtr_event_type_name((qtr_event_type)t));
    assert_int_equal(qh_portfolio_open_count(e->pf), 0);
    assert_null(qh_market_get(e, "BTCUSDT", false));
    assert_int_equal(qh_order_table_count(e->open_orders), 0);
    qtr_ess_status ess;
    qh_ess_status(e->ess, &ess);
    assert_int_equal(ess.consecutive_exchange_errors, 0);
    /* refused for not being the active exchange, and every refusal counted */
    qtr_event probe = event_of(QTR_EV_FILL);
    const char *why = qh_publish_refusal(QTR_KIND_EXCHANGE, false, &probe);
    assert_non_null(why);
    assert_non_null(strstr(why, "this exchange plugin is not the one the host trades on"));
    assert_int_equal(efx_metric(f, "qtr_plugin_events_refused_total{plugin=\"rec\"}"), QTR_EV__COUNT - 1);
    /* the active one still trades */
    qtr_event fill = event_of(QTR_EV_FILL);
    assert_int_equal(efx_publish(f, e->exchange, &fill), QTR_OK);
    assert_int_equal(qh_portfolio_open_count(e->pf), 1);
    for (int t = QTR_EV_NONE + 1; t < QTR_EV__COUNT; t++) efx_seen_free(&seen[t]);
    efx_free(f);
}

/* The host's own context publishes anything (it is the host). */
static void host_context_publishes_anything(void **state)
{
    (void)state;
    efx *f = efx_new();
    qh_engine *e = f->e;
    efx_seen positions;
    efx_watch(e, QTR_EV_POSITION, &positions);
    qtr_event ev = event_of(QTR_EV_POSITION);
    assert_int_equal(e->api.publish(qh_engine_host_ctx(e), &ev), QTR_OK);
    assert_int_equal(positions.n, 1);
    efx_seen_free(&positions);
    efx_free(f);
}

/* The host's own events: every byte outside the payload is zero, whatever
 * the memory held before (no stale bytes reach a plugin or the store). */
static void host_event_has_no_stale_bytes(void **state)
{
    (void)state;
    qtr_position p;
    memset(&p, 0, sizeof p);
    qtr_strlcpy(p.symbol, "BTCUSDT", sizeof p.symbol);
    p.qty = QTR_DEC_INT(3);
    p.entry_price = PX;
    qtr_event ev;
    memset(&ev, 0xA5, sizeof ev);
    qh_event_make(&ev, QTR_EV_POSITION, QTR_EVF_REPLAY, 1234, &p, sizeof p);
    assert_int_equal(ev.type, QTR_EV_POSITION);
    assert_int_equal(ev.flags, QTR_EVF_REPLAY);
    assert_int_equal(ev.time_ms, 1234);
    assert_memory_equal(&ev.u.position, &p, sizeof p);
    const unsigned char *b = (const unsigned char *)&ev;
    size_t header = offsetof(qtr_event, u), end = header + sizeof p;
    for (size_t i = 0; i < sizeof ev; i++) {
        if (i == offsetof(qtr_event, type)) i += sizeof ev.type;
        if (i == offsetof(qtr_event, flags)) i += sizeof ev.flags;
        if (i == offsetof(qtr_event, time_ms)) i += sizeof ev.time_ms;
        if (i >= header && i < end) i = end;
        if (i < sizeof ev) assert_int_equal(b[i], 0);
    }
}

/* The host's publish asks the bus first whether anyone hears the type
 * (qh_bus_drop_unheard, test_core_bus): a subscriber added at any time
 * gets the next event, whole. */
static void host_event_reaches_a_new_subscriber(void **state)
{
    (void)state;
    efx *f = efx_new();
    qh_engine *e = f->e;
    qtr_account a;
    memset(&a, 0, sizeof a);
    a.equity = QTR_DEC_INT(77);
    QH_PUBLISH(e, QTR_EV_EQUITY, 0, 1, equity, a);
    efx_seen equity;
    efx_watch(e, QTR_EV_EQUITY, &equity);
    QH_PUBLISH(e, QTR_EV_EQUITY, 0, 2, equity, a);
    assert_int_equal(equity.n, 1);
    assert_int_equal(equity.items[0].time_ms, 2);
    assert_int_equal(equity.items[0].u.equity.equity, QTR_DEC_INT(77));
    efx_seen_free(&equity);
    efx_free(f);
}

/* The tail of a delivered event past its payload: all zero? */
static bool tail_is_zero(const qtr_event *ev, size_t payload)
{
    const unsigned char *b = (const unsigned char *)&ev->u;
    for (size_t i = payload; i < sizeof ev->u; i++)
        if (b[i]) return false;
    return true;
}

typedef struct republisher {
    qh_engine *e;
    int calls;
    qtr_dec seen_first;          /* what the second subscriber saw of the outer event */
} republisher;

/* First subscriber: on the outer event, publishes another of the same type. */
static void republish(void *ud, const qtr_event *ev)
{
    republisher *r = ud;
    if (r->calls++ == 0) {
        qtr_account inner;
        memset(&inner, 0xA5, sizeof inner);
        inner.equity = QTR_DEC_INT(2);
        assert_int_equal(qh_engine_publish(r->e, QTR_EV_EQUITY, 0, 99, &inner, sizeof inner / 2), QTR_OK);
    }
    (void)ev;
}

/* Second subscriber: notes the equity of the first event it sees. */
static void note_first(void *ud, const qtr_event *ev)
{
    republisher *r = ud;
    if (!r->seen_first) r->seen_first = ev->u.equity.equity;
}

/* Outside a dispatch the engine builds each type's event in place, writing
 * only header and payload: a shorter payload after a longer one still
 * leaves zeros past it, and an event published from inside the dispatch of
 * one of the same type (built on the stack, queued) does not change the one
 * later subscribers of the outer dispatch read. */
static void host_event_built_in_place_has_no_stale_bytes(void **state)
{
    (void)state;
    efx *f = efx_new();
    qh_engine *e = f->e;
    efx_seen seen;
    efx_watch(e, QTR_EV_EQUITY, &seen);
    qtr_account a;
    memset(&a, 0x5A, sizeof a);
    assert_int_equal(qh_engine_publish(e, QTR_EV_EQUITY, QTR_EVF_REPLAY, 7, &a, sizeof a), QTR_OK);
    qtr_candle half;                               /* a shorter payload for the same type */
    memset(&half, 0x3C, sizeof half);
    assert_true(sizeof half < sizeof a);
    assert_int_equal(qh_engine_publish(e, QTR_EV_EQUITY, 0, 8, &half, sizeof half), QTR_OK);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.items[0].flags, QTR_EVF_REPLAY);
    assert_int_equal(seen.items[0].time_ms, 7);
    assert_memory_equal(&seen.items[0].u.equity, &a, sizeof a);
    assert_true(tail_is_zero(&seen.items[0], sizeof a));
    assert_int_equal(seen.items[1].flags, 0);
    assert_int_equal(seen.items[1].time_ms, 8);
    assert_memory_equal(&seen.items[1].u, &half, sizeof half);
    assert_true(tail_is_zero(&seen.items[1], sizeof half));

    republisher r = { .e = e };
    qh_bus_subscribe(e->bus, QTR_EV_EQUITY, NULL, republish, &r, &r);
    qh_bus_subscribe(e->bus, QTR_EV_EQUITY, NULL, note_first, &r, &r);
    memset(&a, 0, sizeof a);
    a.equity = QTR_DEC_INT(1);
    assert_int_equal(qh_engine_publish(e, QTR_EV_EQUITY, 0, 9, &a, sizeof a), QTR_OK);
    assert_int_equal(r.seen_first, QTR_DEC_INT(1));   /* the outer event, whole, after the inner publish */
    assert_int_equal(seen.n, 4);                       /* outer, then the queued inner one */
    assert_int_equal(seen.items[2].u.equity.equity, QTR_DEC_INT(1));
    assert_int_equal(seen.items[3].time_ms, 99);
    assert_int_equal(seen.items[3].u.equity.equity, QTR_DEC_INT(2));
    assert_true(tail_is_zero(&seen.items[3], sizeof a / 2));
    qh_bus_unsubscribe_owner(e->bus, &r);
    efx_seen_free(&seen);
    efx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rule_for_every_kind_and_type),
        cmocka_unit_test(strategy_cannot_move_the_portfolio),
        cmocka_unit_test(risk_and_dashboard_publish_alerts_only),
        cmocka_unit_test(active_exchange_publishes_its_own),
        cmocka_unit_test(inactive_exchange_moves_nothing),
        cmocka_unit_test(host_context_publishes_anything),
        cmocka_unit_test(host_event_has_no_stale_bytes),
        cmocka_unit_test(host_event_reaches_a_new_subscriber),
        cmocka_unit_test(host_event_built_in_place_has_no_stale_bytes),
        cmocka_unit_test(plugin_event_as_admitted),
        cmocka_unit_test(plugin_event_is_copied_before_delivery),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
