/* strategy_mean_reversion, loaded from its .so into the mock host, against a
 * short series worked out by hand (period 3, k 1, RSI 2): no signal while
 * warming up, a buy below the lower band with the RSI oversold, an exit of
 * exactly the position at the middle band, a sell above the upper band with
 * the RSI overbought; k with more than 2 decimals is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "mock_host.h"

#define T0 INT64_C(1704067200000)
#define MIN_MS INT64_C(60000)

static const char *const OPTS[] = { "period", "3", "k", "1", "rsi_period", "2", NULL };

static int load(mock_host **m, mock_plugin *p, const char *const *opts)
{
    *m = mock_host_new(false);
    memset(p, 0, sizeof *p);
    for (size_t i = 0; opts && opts[i]; i += 2) mock_host_set_option(*m, opts[i], opts[i + 1]);
    return mock_plugin_load(*m, mock_plugin_path("strategy_mean_reversion"), p);
}

static void feed(mock_plugin *p, int i, const char *close)
{
    qtr_candle c;
    memset(&c, 0, sizeof c);
    qtr_strlcpy(c.symbol, "XRPUSDT", sizeof c.symbol);
    c.open_time_ms = T0 + i * MIN_MS;
    c.close_time_ms = c.open_time_ms + MIN_MS - 1;
    c.open = c.high = c.low = c.close = D(close);
    c.volume = QTR_DEC_INT(1);
    p->desc->strategy->on_candle(p->state, &c);
}

static void set_position(mock_host *m, const char *qty)
{
    memset(&m->positions[0], 0, sizeof m->positions[0]);
    qtr_strlcpy(m->positions[0].symbol, "XRPUSDT", sizeof m->positions[0].symbol);
    m->positions[0].qty = D(qty);
    m->n_positions = 1;
}

/* closes 10 11 10 7 9 13. RSI(2): changes +1 -1 -3 +2 +4.
 *   c3: gain = loss = 0.5, RSI 50; bands of 11,10,10... no signal.
 *   c4 (7): gain (0.5 + 0)/2 = 0.25, loss (0.5 + 3)/2 = 1.75, RSI 12.5.
 *       window 11 10 7: mean 9.3333, population sd sqrt(26/9) = 1.6997,
 *       lower 7.6336 > 7: buy. confidence 0.5 + 0.5 * 17.5/30 = 0.7916...,
 *       size 100/7 = 14.28571428.
 *   c5 (9): window 10 7 9, middle 8.6667 <= 9: exit, a reduce-only sell of
 *       exactly the position.
 *   c6 (13): gain (1.125 + 4)/2 = 2.5625, loss 0.875/2 = 0.4375, RSI
 *       85.4167; window 7 9 13: mean 9.6667, sd sqrt(56/9) = 2.4944, upper
 *       12.1611 < 13: sell. confidence 0.5 + 0.5 * 15.4167/30 = 0.7569...,
 *       size 100/13 = 7.69230769. */
static void test_hand_computed_series(void **unused)
{
    (void)unused;
    mock_host *m;
    mock_plugin p;
    assert_int_equal(load(&m, &p, OPTS), 0);
    feed(&p, 1, "10");
    feed(&p, 2, "11");
    feed(&p, 3, "10");
    assert_int_equal(m->n_signals, 0);
    feed(&p, 4, "7");
    assert_int_equal(m->n_signals, 1);
    assert_int_equal(m->signals[0].side, QTR_SIDE_BUY);
    assert_int_equal(m->signals[0].qty, D("14.28571428"));
    assert_false(m->signals[0].reduce_only);
    assert_true(fabs(m->signals[0].confidence - (0.5 + 0.5 * 17.5 / 30)) < 1e-9);

    set_position(m, "14.28571428");   /* the buy filled */
    feed(&p, 5, "9");
    assert_int_equal(m->n_signals, 2);
    assert_int_equal(m->signals[1].side, QTR_SIDE_SELL);
    assert_int_equal(m->signals[1].qty, D("14.28571428"));
    assert_true(m->signals[1].reduce_only);
    assert_non_null(strstr(m->signals[1].reason, "middle band"));

    set_position(m, "0");   /* the exit filled */
    feed(&p, 6, "13");
    assert_int_equal(m->n_signals, 3);
    assert_int_equal(m->signals[2].side, QTR_SIDE_SELL);
    assert_int_equal(m->signals[2].qty, D("7.69230769"));
    assert_false(m->signals[2].reduce_only);
    double rsi = 100.0 * 2.5625 / (2.5625 + 0.4375);
    assert_true(fabs(m->signals[2].confidence - (0.5 + 0.5 * (rsi - 70) / 30)) < 1e-9);
    assert_int_equal(mock_host_metric(m, "mean_reversion_signals_total", NULL), 3);
    mock_plugin_unload(m, &p);
    mock_host_free(m);
}

/* k is given to the library in hundredths: a finer k is refused by name. */
static void test_k_with_3_decimals_refused(void **unused)
{
    (void)unused;
    mock_host *m;
    mock_plugin p;
    const char *const opts[] = { "k", "2.125", NULL };
    assert_int_not_equal(load(&m, &p, opts), 0);
    assert_non_null(strstr(m->last_log, "option k: 2.125 has more than 2 decimals"));
    if (p.dl) mock_plugin_unload(m, &p);
    mock_host_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed_series),
        cmocka_unit_test(test_k_with_3_decimals_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
