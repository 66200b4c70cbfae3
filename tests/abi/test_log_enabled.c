/*
 * qtr_host.log_enabled (ABI 2.3): whether log() at a level writes a line.
 * The host follows its --log-level (which may change while running), takes
 * a level outside the enum as INFO as log() does, and during a plugin's
 * init() always writes ERROR (the line becomes the refusal). The mock host
 * answers every level alike, and a plugin that checks it before formatting
 * (ma_cross on a fill) writes nothing and formats nothing below the level.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/log.h"
#include "engine_fixture.h"
#include "mock_host.h"

static const qtr_log_level asked[] = { QTR_LOG_DEBUG, QTR_LOG_INFO, QTR_LOG_WARN, QTR_LOG_ERROR,
                                       (qtr_log_level)7, (qtr_log_level)-1 };

/* What log() does at that level with the host set to `min`: written or not. */
static bool want(qh_log_level min, qtr_log_level level)
{
    if (level < QTR_LOG_DEBUG || level > QTR_LOG_ERROR) level = QTR_LOG_INFO;
    return (int)level >= (int)min;
}

static void the_host_follows_its_level(void **state)
{
    (void)state;
    efx *f = efx_new();
    qh_plugin_rt *quiet = efx_plugin(f, "quiet");
    assert_non_null(quiet);
    const qtr_host *h = &f->e->api;
    assert_true(QTR_HOST_HAS(h, log_enabled));
    assert_true(quiet->inited);
    for (int min = QH_LOG_DEBUG; min <= QH_LOG_ERROR; min++) {
        qh_log_set_level((qh_log_level)min);
        for (size_t i = 0; i < sizeof asked / sizeof asked[0]; i++) {
            bool on = h->log_enabled(&quiet->ctx, asked[i]);
            if (on != want((qh_log_level)min, asked[i]))
                fail_msg("host at level %d, asked %d: %s", min, (int)asked[i], on ? "on" : "off");
            /* and log() agrees: a line is written exactly when it said so */
            size_t before = efx_log_count(f, "log-enabled-probe");
            h->log(&quiet->ctx, asked[i], "log-enabled-probe %d %d", min, (int)asked[i]);
            fflush(f->log);
            assert_int_equal(efx_log_count(f, "log-enabled-probe") - before, on ? 1 : 0);
        }
    }
    /* before init() returns, ERROR is written whatever the level */
    qh_log_set_level(QH_LOG_ERROR);
    quiet->inited = false;
    assert_true(h->log_enabled(&quiet->ctx, QTR_LOG_ERROR));
    assert_false(h->log_enabled(&quiet->ctx, QTR_LOG_WARN));
    quiet->inited = true;
    qh_log_set_level(QH_LOG_INFO);
    efx_free(f);
}

static void the_mock_answers_alike(void **state)
{
    (void)state;
    mock_host *m = mock_host_new(false);
    assert_true(QTR_HOST_HAS(&m->api, log_enabled));
    for (int min = QTR_LOG_DEBUG; min <= QTR_LOG_ERROR; min++) {
        m->log_level = (qtr_log_level)min;
        for (size_t i = 0; i < sizeof asked / sizeof asked[0]; i++) {
            bool on = m->api.log_enabled(m->ctx, asked[i]);
            if (on != want((qh_log_level)min, asked[i]))
                fail_msg("mock at level %d, asked %d: %s", min, (int)asked[i], on ? "on" : "off");
            int before = m->n_logs;
            m->api.log(m->ctx, asked[i], "probe");
            assert_int_equal(m->n_logs - before, on ? 1 : 0);
        }
    }
    mock_host_free(m);
}

/* ma_cross's line on each fill: written at DEBUG; above it, log() is not
 * even called (the mock counts the calls it received, written or not). */
static void ma_cross_builds_its_fill_line_only_when_written(void **state)
{
    (void)state;
    mock_host *m = mock_host_new(false);
    mock_plugin p;
    assert_int_equal(mock_plugin_load(m, mock_plugin_path("strategy_ma_cross"), &p), 0);
    assert_non_null(p.desc->strategy->on_fill);
    qtr_fill fill;
    memset(&fill, 0, sizeof fill);
    qtr_strlcpy(fill.symbol, "XRPUSDT", sizeof fill.symbol);
    fill.side = QTR_SIDE_BUY;
    fill.qty = D("12.5");
    fill.price = D("0.6123");
    m->log_level = QTR_LOG_INFO;
    int calls = m->n_log_calls, lines = m->n_logs;
    p.desc->strategy->on_fill(p.state, &fill);
    assert_int_equal(m->n_log_calls, calls);
    m->log_level = QTR_LOG_DEBUG;
    p.desc->strategy->on_fill(p.state, &fill);
    assert_int_equal(m->n_log_calls, calls + 1);
    assert_int_equal(m->n_logs, lines + 1);
    assert_string_equal(m->last_log, "fill XRPUSDT BUY 12.5 @ 0.6123");
    mock_plugin_unload(m, &p);
    mock_host_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_host_follows_its_level),
        cmocka_unit_test(the_mock_answers_alike),
        cmocka_unit_test(ma_cross_builds_its_fill_line_only_when_written),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
